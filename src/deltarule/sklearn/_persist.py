"""Estimators in deltarule model files: weights as safetensors, the rest as JSON.

The file is an ordinary model file of :mod:`deltarule.io` (no pickle): the
network's tensors, ``classes_`` in the header's ``classes`` field, and under
``training``::

    {"estimator": "MLPClassifier", "params": {...get_params()...},
     "tuple_params": ["hidden_layer_sizes"],
     "attributes": {"n_iter_": 57, "loss_curve_": [...], ...}, "target_type": "multiclass",
     "classes_dtype": "<i8",
     "trainer": {...Trainer.checkpoint_state()...}, "random_state": {...} | null}

plus the early-stopping best weights as the extra tensor ``best_parameters``.
Non-finite floats (``best_loss_ = inf`` before training improves, ``loss_`` after
a divergence) are stored as strings. The ``callbacks`` parameter (Python objects)
is not stored; a ``dtype`` given as a numpy type or dtype is stored by its name
(``"float32"``); parameters given as tuples are listed under ``tuple_params`` and
come back as tuples (lists as lists); ``classes_`` comes back in its dtype. Files
written before ``tuple_params`` and ``classes_dtype`` were stored load with
``hidden_layer_sizes`` as a tuple and numpy's guess of the classes' dtype.

What continuing to train needs is stored too, so that ``partial_fit`` (or a
``warm_start`` fit) after a save and load computes exactly what it would have
without them, as after pickling:

* the first-order trainer: the optimizer's state as the extra tensors
  ``optimizer.*`` (Adam's moments, a momentum, ...) and, under ``"trainer"``, the
  optimizer's settings and step count, the learning rate (as ``invscaling`` or
  ``adaptive`` left it) and the states of its random streams (shuffling, dropout),
  exactly as a training checkpoint (:mod:`deltarule.io.checkpoint`) stores them;
* a ``random_state`` that is a ``RandomState`` instance, as its state
  (``get_state(legacy=False)``) under ``"random_state"``; an integer or None is a
  parameter like any other.

Files written before these were stored (or by an estimator never trained with a
first-order solver) load with no trainer: the next ``partial_fit`` starts the
optimizer afresh (zero moments, step 0) and draws a new shuffling stream from
``random_state``, as a warm-started ``fit`` always does; a ``RandomState`` read
from such a file is None.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..exceptions import DeltaruleError, IncompatibleFormatError
from ..optimizers import Optimizer
from ..training import Trainer
from ._network import build_network, ensure_registered
from ._solvers import optimizer_from_state

__all__ = ["load_estimator", "save_estimator"]

_ATTRIBUTES = (
    "n_features_in_",
    "n_outputs_",
    "n_layers_",
    "out_activation_",
    "n_iter_",
    "t_",
    "loss_",
    "best_loss_",
    "loss_curve_",
    "validation_scores_",
    "best_validation_score_",
    "validation_loss_curve_",
    "_no_improvement_count",
)


def _plain(value: Any) -> Any:
    """Return ``value`` as JSON data; non-finite floats become strings ("inf", "nan")."""
    if isinstance(value, (np.generic, np.ndarray)):
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _number(value: Any) -> Any:
    """Invert :func:`_plain` for numbers and lists of numbers."""
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    if isinstance(value, list):
        return [_number(v) for v in value]
    return value


def _params(estimator: Any) -> tuple[dict[str, Any], list[str]]:
    """The parameters as JSON data, and the names of those given as tuples."""
    params = estimator.get_params(deep=False)
    params["callbacks"] = None
    seed = params["random_state"]
    # (a RandomState instance is stored as its state, beside the parameters)
    params["random_state"] = int(seed) if isinstance(seed, numbers.Integral) else None
    weights = params.get("class_weight")
    if isinstance(weights, dict):
        params["class_weight"] = [[_plain(k), float(v)] for k, v in weights.items()]
    if not isinstance(params["dtype"], str):  # np.float32, np.dtype("float32"): by name
        params["dtype"] = np.dtype(params["dtype"]).name
    tuples = sorted(name for name, value in params.items() if isinstance(value, tuple))
    return {key: _plain(value) for key, value in params.items()}, tuples


def save_estimator(estimator: Any, path: str | os.PathLike[str]) -> Any:
    """Write a fitted estimator to a deltarule model file; see the module docstring."""
    from ..io import save_model  # an edge: imported when a model is written

    check_is_fitted(estimator)
    estimator._sync_in()
    attributes = {name: _plain(getattr(estimator, name)) for name in _ATTRIBUTES}
    if hasattr(estimator, "feature_names_in_"):
        attributes["feature_names_in_"] = [str(n) for n in estimator.feature_names_in_]
    params, tuples = _params(estimator)
    training = {
        "estimator": type(estimator).__name__,
        "params": params,
        "tuple_params": tuples,
        "attributes": attributes,
    }
    classes = None
    if hasattr(estimator, "classes_"):
        classes = _plain(estimator.classes_)
        training["target_type"] = estimator._label_binarizer.y_type_
        training["classes_dtype"] = estimator.classes_.dtype.str
    extra = {"best_parameters": estimator._best_parameters}
    trainer = getattr(estimator, "_trainer", None)
    if trainer is not None and isinstance(trainer.optimizer, Optimizer):  # not lbfgs or lm
        tensors, training["trainer"] = trainer.checkpoint_state()
        extra.update(tensors)
    if isinstance(estimator.random_state, np.random.RandomState):
        training["random_state"] = estimator.random_state.get_state(legacy=False)
    return save_model(
        estimator.network_, path, classes=classes, training=training, extra_tensors=extra
    )


def _restore_params(params: dict[str, Any], tuples: Any) -> dict[str, Any]:
    """Invert :func:`_params`; ``tuples`` None (older files): hidden_layer_sizes only."""
    params = dict(params)
    names = ["hidden_layer_sizes"] if not isinstance(tuples, list) else tuples
    for name in names:
        if isinstance(name, str) and isinstance(params.get(name), list):
            params[name] = tuple(params[name])
    if isinstance(params.get("class_weight"), list):
        params["class_weight"] = {key: value for key, value in params["class_weight"]}
    return {key: _number(value) for key, value in params.items()}


def _damaged(path: str | os.PathLike[str], what: str, exc: Exception) -> IncompatibleFormatError:
    return IncompatibleFormatError(
        f"{os.fspath(path)} holds {what} that cannot be restored ({exc}); the file is damaged "
        "or was edited. Save the estimator again from the program that trained it, or use a "
        "backup copy."
    )


def _restore_trainer(network: Any, loaded: Any, meta: Any, path: Any) -> Trainer:
    """The saved trainer, rebuilt from its own record and given its saved state.

    The record is :meth:`Trainer.checkpoint_state` output, checked as a checkpoint's is.
    """
    from ..io.checkpoint import _trainer_problem  # an edge: imported when a model is read

    try:
        problem = _trainer_problem({"trainer": meta, "history": []})
        if problem is not None:
            raise ValueError(problem)
        settings = meta["settings"]
        trainer = Trainer(
            network,
            optimizer_from_state(meta["optimizer"]),
            batch_size=settings["batch_size"],
            shuffle=settings["shuffle"],
            seed=0,  # (the random streams are restored below)
            metrics=settings["metrics"],
            epoch_loss="rows",  # (as the estimators train)
            **{key: settings[key] for key in ("l2", "l1", "max_norm")},
        )
        tensors = {k: v for k, v in loaded.extra_tensors.items() if k.startswith("optimizer.")}
        trainer.restore_state(tensors, meta)
    except (DeltaruleError, LookupError, TypeError, ValueError, ArithmeticError) as exc:
        raise _damaged(path, "a training state (optimizer, random streams)", exc) from exc
    return trainer


def _restore_random_state(state: Any, path: Any) -> np.random.RandomState:
    random_state = np.random.RandomState()
    try:
        random_state.set_state(state)
    except (LookupError, TypeError, ValueError, ArithmeticError) as exc:
        raise _damaged(path, "a random_state (RandomState) state", exc) from exc
    return random_state


def _classes(classes: list, dtype: Any, path: Any) -> np.ndarray:
    """``classes_`` in the dtype it had (int8 labels stay int8); numpy's own guess in files
    written before the dtype was stored."""
    try:
        return np.asarray(classes, dtype=None if dtype is None else np.dtype(dtype))
    except (TypeError, ValueError, OverflowError) as exc:
        raise _damaged(path, f"classes_ {classes!r:.60} of dtype {dtype!r}", exc) from exc


def load_estimator(cls: type, path: str | os.PathLike[str]) -> Any:
    """Read an estimator of class ``cls`` written by :func:`save_estimator`.

    With the optimizer state and random streams when the file has them (see the
    module docstring); without, the next ``partial_fit`` starts the optimizer afresh.
    """
    from ..io import load_model, model_header  # an edge: imported when a model is read

    ensure_registered(model_header(path)["architecture"].get("activations") or [])
    loaded = load_model(path)
    training = loaded.training or {}
    kind = training.get("estimator")
    if kind != cls.__name__:
        found = f"a {kind}" if kind else "a plain deltarule network, not an estimator"
        raise IncompatibleFormatError(
            f"{os.fspath(path)} holds {found}; {cls.__name__}.load reads files written by "
            f"{cls.__name__}.save. Load it with deltarule.io.load_model or the matching class."
        )
    estimator = cls(**_restore_params(training["params"], training.get("tuple_params")))
    network = build_network(loaded.network.config(), loaded.network.parameters)
    np.copyto(network.trainable, loaded.network.trainable)
    estimator.network_ = network
    for name, value in training["attributes"].items():
        value = _number(value)
        if name == "feature_names_in_":
            value = np.asarray(value, dtype=object)
        setattr(estimator, name, value)
    best = loaded.extra_tensors.get("best_parameters")
    estimator._best_parameters = network.parameters.copy() if best is None else best.copy()
    estimator._trainer = None
    if training.get("trainer") is not None:
        estimator._trainer = _restore_trainer(network, loaded, training["trainer"], path)
    if training.get("random_state") is not None:
        estimator.random_state = _restore_random_state(training["random_state"], path)
    if loaded.classes is not None:
        classes = _classes(loaded.classes, training.get("classes_dtype"), path)
        estimator._restore_targets(classes, training.get("target_type", "binary"))
    estimator._sync_out()
    return estimator
