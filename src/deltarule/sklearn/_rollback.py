"""A fit that raises leaves the estimator as it was: a snapshot taken before, restored after.

``fit`` and ``partial_fit`` change the estimator step by step — targets and input
checks, a new or continued network, the optimizer's state, the records of the
stopping rules, epoch after epoch — so an exception part-way (an input error, a
user callback that raises, Ctrl-C pressed twice) would leave a mix of the old fit
and the new. :class:`Snapshot` records everything a fit may change and puts it
back:

* every attribute that is not a constructor parameter (the fitted ``*_``
  attributes, the label binarizer, the trainer, ...): added ones are removed,
  replaced ones restored, so a first fit that fails leaves the estimator unfitted;
* what a fit changes in place: the contents of the lists (``loss_curve_``, ...),
  the network's weights and objective settings, the early-stopping best weights,
  and a continued trainer's optimizer state, learning rate, random streams and
  batch size.

The constructor parameters are left alone (a fit does not change them; a
``RandomState`` passed as ``random_state`` is a shared generator whose draws are
not taken back, as in scikit-learn).
"""

from __future__ import annotations

import copy
import weakref
from typing import Any

import numpy as np

from ..optimizers import Optimizer

__all__ = ["Snapshot"]


class _TrainerState:
    """What a continued fit changes in a trainer (a first-order one; others are replaced)."""

    def __init__(self, trainer: Any) -> None:
        tensors, meta = trainer.checkpoint_state()
        self.trainer = trainer
        self.tensors = {name: array.copy() for name, array in tensors.items()}
        self.meta = _copied(meta)
        self.settings = {
            name: getattr(trainer, name) for name in ("batch_size", "epoch_loss", "planned_epochs")
        }

    def restore(self) -> None:
        self.trainer.restore_state(self.tensors, self.meta)
        for name, value in self.settings.items():
            setattr(self.trainer, name, value)


def _copied(value: Any) -> Any:
    """A deep copy of plain data (dicts, lists and tuples of numbers, text, None), made
    without :func:`copy.deepcopy`'s memo (a trainer's state: a third of a small
    ``partial_fit``'s snapshot); anything else through it."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if type(value) is dict:
        return {key: _copied(item) for key, item in value.items()}
    if type(value) is list:
        return [_copied(item) for item in value]
    if type(value) is tuple:
        return tuple(_copied(item) for item in value)
    return copy.deepcopy(value)


_PARAMETERS: weakref.WeakKeyDictionary[type, frozenset[str]] = weakref.WeakKeyDictionary()
"""Each estimator class's constructor parameters (``_get_param_names`` reads its
signature, most of a small ``partial_fit``'s snapshot)."""


def _parameters(estimator: Any) -> frozenset[str]:
    kind = type(estimator)
    names = _PARAMETERS.get(kind)
    if names is None:
        names = _PARAMETERS[kind] = frozenset(kind._get_param_names())
    return names


class Snapshot:
    """The state of ``estimator`` when made; :meth:`restore` brings it back.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator
        self.parameters = _parameters(estimator)
        self.attributes = {
            name: value for name, value in vars(estimator).items() if name not in self.parameters
        }
        self.lists = {
            name: list(value) for name, value in self.attributes.items() if isinstance(value, list)
        }
        network = self.attributes.get("network_")
        self.network = None
        if network is not None:
            self.network = (
                network,
                network.parameters.copy(),
                network.alpha,
                network.loss_scale,
                network.layers,
            )  # (a tuple of frozen layers: kept as it is)
        best = self.attributes.get("_best_parameters")
        self.best = None if best is None else (best, best.copy())
        trainer = self.attributes.get("_trainer")
        self.trainer = None
        if trainer is not None and isinstance(trainer.optimizer, Optimizer):
            self.trainer = _TrainerState(trainer)

    def restore(self) -> None:
        """Put every recorded attribute and content back."""
        state = vars(self.estimator)
        for name in [name for name in state if name not in self.parameters]:
            del state[name]
        state.update(self.attributes)
        for name, items in self.lists.items():
            self.attributes[name][:] = items
        if self.network is not None:
            network, parameters, alpha, loss_scale, layers = self.network
            np.copyto(network.parameters, parameters)
            network.alpha, network.loss_scale = alpha, loss_scale
            network.layers = layers  # (a warm start's new activation or dropout undone)
        if self.best is not None:
            np.copyto(*self.best)
        if self.trainer is not None:
            self.trainer.restore()
