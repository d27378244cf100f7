"""The optimizers by name: the registry, and building a rule from a name or a config.

:data:`OPTIMIZERS` maps each name (and alias) to its class, filled here in a fixed order;
:func:`get_optimizer` builds one from a name and hyper-parameters,
:func:`optimizer_from_config` from :meth:`Optimizer.config` output, and
:func:`register_optimizer` adds a new rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from .._validation import build, register
from ..exceptions import InputError
from ._base import Optimizer
from .adaptive import Adagrad, Adam, AdamW, RMSprop
from .rprop import IRpropMinus, IRpropPlus, RpropMinus, RpropPlus
from .sgd import SGD, Momentum, Nesterov

OPTIMIZERS: dict[str, type[Optimizer]] = {}
"""The registry: name -> optimizer class. Aliases map to the same class."""


_OptimizerClassT = TypeVar("_OptimizerClassT", bound="type[Optimizer]")


def register_optimizer(
    cls: _OptimizerClassT, *, aliases: tuple[str, ...] = (), overwrite: bool = False
) -> _OptimizerClassT:
    """Add an :class:`Optimizer` subclass to the registry under ``cls.name`` (and ``aliases``)."""
    if not (isinstance(cls, type) and issubclass(cls, Optimizer) and cls.name):
        raise InputError(
            f"register_optimizer expects an Optimizer subclass with a name; received {cls!r}."
        )
    register(OPTIMIZERS, cls, cls.name, aliases, "optimizer", overwrite)
    return cls


for _cls, _aliases in [
    (SGD, ("gd",)),
    (Momentum, ()),
    (Nesterov, ("nag",)),
    (Adam, ()),
    (AdamW, ()),
    (RMSprop, ()),
    (Adagrad, ()),
    (IRpropPlus, ("rprop",)),
    (IRpropMinus, ()),
    (RpropPlus, ("rprop+",)),
    (RpropMinus, ("rprop-",)),
]:
    register_optimizer(_cls, aliases=_aliases)


def get_optimizer(optimizer: str | Optimizer, **kwargs: Any) -> Optimizer:
    """Return an optimizer built from a registry name and hyper-parameters, or the object itself.

    R neuralnet's ``"rprop+"``/``"rprop-"`` are its rules, :class:`~.rprop.RpropPlus` and
    :class:`~.rprop.RpropMinus` (see :mod:`.rprop` for its step limits).

    Examples
    --------
    >>> get_optimizer("adam", learning_rate=0.01)
    Adam(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-08, epsilon_hat=False)
    """
    return build(OPTIMIZERS, optimizer, Optimizer, "optimizer", kwargs)


def optimizer_from_config(config: Mapping[str, Any]) -> Optimizer:
    """Rebuild an optimizer from :meth:`Optimizer.config` output."""
    if not isinstance(config, Mapping) or not isinstance(config.get("name"), str):
        raise InputError(
            f"an optimizer config must be a mapping with a 'name' string, as returned by "
            f"Optimizer.config(); received {config!r}."
        )
    kwargs = dict(config)
    return get_optimizer(kwargs.pop("name"), **kwargs)
