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
  ``adaptive`` left it) and the states of its random streams (dropout; the estimators
  shuffle from ``random_state``, as scikit-learn), exactly as a training checkpoint
  (:mod:`deltarule.io.checkpoint`) stores them;
* a ``random_state`` that is a ``RandomState`` instance, as its state
  (``get_state(legacy=False)``) under ``"random_state"``; an integer or None is a
  parameter like any other.

Files written before these were stored (or by an estimator never trained with a
first-order solver) load with no trainer: the next ``partial_fit`` starts the
optimizer afresh (zero moments, step 0) and draws a new dropout stream's seed from
``random_state``, as a warm-started ``fit`` always does; a ``RandomState`` read
from such a file is None.

A file is data from outside, so loading restores only what a saved estimator can
hold, each value checked before it is used: the class's own constructor parameters
(valid as ``fit`` requires them), the fitted attributes listed in :data:`_ATTRIBUTES`
(plus ``feature_names_in_``) with their types and their agreement with the network,
``classes_`` in a plain scalar dtype (booleans, integers, floats or text no longer
than the labels), as many as the network's outputs need. Anything else is refused with
an :class:`~deltarule.exceptions.IncompatibleFormatError` naming the field.
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
from ._network import OUTPUT_ACTIVATIONS, build_network, ensure_registered
from ._params import check_parameters
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

_OPTIONAL = (
    "best_loss_",
    "loss_curve_",
    "validation_scores_",
    "best_validation_score_",
    "validation_loss_curve_",
    "_no_improvement_count",
)
"""The attributes of :data:`_ATTRIBUTES` only a first-order fit sets (as scikit-learn's)."""

_FLOAT64 = ("loss_", "best_loss_", "loss_curve_")
"""Restored as ``numpy.float64`` numbers, as scikit-learn's estimators hold them."""


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
    attributes = {
        name: _plain(getattr(estimator, name))
        for name in _ATTRIBUTES
        if name not in _OPTIONAL or hasattr(estimator, name)
    }
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


def _damaged(path: str | os.PathLike[str], what: str, exc: Exception) -> IncompatibleFormatError:
    return IncompatibleFormatError(
        f"{os.fspath(path)} holds {what} that cannot be restored ({exc}); the file is damaged "
        "or was edited. Save the estimator again from the program that trained it, or use a "
        "backup copy."
    )


def _refused(path: Any, problem: str, expected: str) -> IncompatibleFormatError:
    """The error for a file holding what a saved estimator cannot hold."""
    return IncompatibleFormatError(
        f"{os.fspath(path)} holds an estimator {problem}; expected {expected}. The file is "
        "damaged or was edited: save the estimator again from the program that trained it, "
        "or use a backup copy."
    )


def _invalid(path: Any, field: str, value: Any, expected: str) -> IncompatibleFormatError:
    """The error for a field of the ``training`` record that a saved estimator cannot hold."""
    return _refused(path, f"whose {field} is {value!r:.80}", expected)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    """A JSON number, or a non-finite float as :func:`_plain` stores it ("inf", "nan")."""
    return _is_int(value) or isinstance(_number(value), float)


def _is_weight(value: Any) -> bool:
    """A class weight ``fit`` takes: a finite number >= 0 (NaN would fail the next fit)."""
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _is_label(value: Any) -> bool:
    return isinstance(value, (str, int, float))  # (bool is an int)


def _restore_params(cls: type, training: dict[str, Any], path: Any) -> dict[str, Any]:
    """The constructor parameters: the class's own, as JSON data; invert :func:`_params`.

    ``tuple_params`` missing (older files): ``hidden_layer_sizes`` comes back a tuple.
    """
    params, tuples = training.get("params"), training.get("tuple_params")
    if not isinstance(params, dict):
        raise _invalid(path, "training.params", params, "an object of constructor parameters")
    names = cls._get_param_names()
    unknown = sorted(key for key in params if key not in names)
    if unknown:
        raise _refused(
            path, f"with unknown parameter(s) {unknown!r:.120}", f"only {cls.__name__}'s parameters"
        )
    if tuples is None:
        tuples = ["hidden_layer_sizes"]
    if not (isinstance(tuples, list) and all(name in names for name in tuples)):
        raise _invalid(path, "training.tuple_params", tuples, "a list of parameter names")
    params = {key: _number(value) for key, value in params.items()}
    for name in tuples:
        if isinstance(params.get(name), list):
            params[name] = tuple(params[name])
    weights = params.get("class_weight")
    if isinstance(weights, list):
        pairs = all(
            isinstance(p, list) and len(p) == 2 and _is_label(p[0]) and _is_number(p[1])
            for p in weights
        )
        if not pairs:
            raise _invalid(
                path, "params.class_weight", weights, "a list of [class label, weight] pairs"
            )
        bad = [p for p in weights if not _is_weight(_number(p[1]))]
        if bad:
            raise _invalid(
                path, "params.class_weight", weights, f"class weights that are finite numbers "
                f">= 0 (the weight of class {bad[0][0]!r:.40} is {_number(bad[0][1])!r})"
            )  # fmt: skip
        params["class_weight"] = {key: _number(value) for key, value in weights}
    return params


def _checked_estimator(cls: type, params: dict[str, Any], path: Any) -> Any:
    """``cls(**params)``, its parameters valid as ``fit`` requires them."""
    estimator = cls(**params)
    try:
        check_parameters(estimator)
    except (TypeError, ValueError) as exc:  # (InvalidParameterError is both)
        raise _damaged(path, "parameters", exc) from exc
    return estimator


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


def _attribute_rules(network: Any) -> dict[str, tuple[Any, str]]:
    """Each fitted attribute's test of its (JSON) value, and what it should be."""
    out = network.layers[-1].activation.name  # (as scikit-learn names it: "logistic", ...)
    named = {**{ours: theirs for theirs, ours in OUTPUT_ACTIVATIONS.items()}, "exp": "exp"}.get(out)
    counts = lambda v: _is_int(v) and v >= 0  # noqa: E731
    numbers = lambda v: isinstance(v, list) and all(map(_is_number, v))  # noqa: E731
    return {
        "n_features_in_": (lambda v: v == network.n_inputs and _is_int(v), f"{network.n_inputs}"),
        "n_outputs_": (lambda v: v == network.n_outputs and _is_int(v), f"{network.n_outputs}"),
        "n_layers_": (
            lambda v: v == len(network.layer_sizes) and _is_int(v),
            f"{len(network.layer_sizes)}, the network's layers",
        ),
        "out_activation_": (
            lambda v: named is not None and v == named,
            f"{named!r}, the network's output activation" if named else "an estimator's network",
        ),
        "n_iter_": (counts, "an integer >= 0"),
        "t_": (counts, "an integer >= 0"),
        "_no_improvement_count": (counts, "an integer >= 0"),
        "loss_": (lambda v: v is None or _is_number(v), "a number"),
        "best_loss_": (lambda v: v is None or _is_number(v), "a number or null"),
        "best_validation_score_": (lambda v: v is None or _is_number(v), "a number or null"),
        "loss_curve_": (numbers, "a list of numbers"),
        "validation_scores_": (lambda v: v is None or numbers(v), "a list of numbers or null"),
        "validation_loss_curve_": (lambda v: v is None or numbers(v), "a list of numbers or null"),
        "feature_names_in_": (
            lambda v: (
                isinstance(v, list)
                and len(v) == network.n_inputs
                and all(isinstance(n, str) for n in v)
            ),
            f"a list of {network.n_inputs} column names",
        ),
    }


def _restore_attributes(attributes: Any, network: Any, path: Any) -> dict[str, Any]:
    """The fitted attributes, each of :data:`_ATTRIBUTES` present (those of :data:`_OPTIONAL`
    where the fit set them) and each checked."""
    if not isinstance(attributes, dict):
        raise _invalid(path, "training.attributes", attributes, "an object of fitted attributes")
    rules = _attribute_rules(network)
    unknown = sorted(name for name in attributes if name not in rules)
    missing = [name for name in _ATTRIBUTES if name not in attributes and name not in _OPTIONAL]
    if unknown or missing:
        found = f"unknown attribute(s) {unknown!r:.120}" if unknown else f"no {missing}"
        raise _refused(
            path, f"with {found}", f"the fitted attributes {', '.join(_ATTRIBUTES)} (and "
            "feature_names_in_ when it was fitted on named columns)"
        )  # fmt: skip
    restored = {}
    for name, value in attributes.items():
        test, expected = rules[name]
        if not test(value):
            raise _invalid(path, f"attribute {name}", value, expected)
        restored[name] = _number(value)
        if name in _FLOAT64 and value is not None:  # (JSON numbers are Python floats)
            restored[name] = np.asarray(restored[name], np.float64)
            restored[name] = list(restored[name]) if name == "loss_curve_" else restored[name][()]
    if "feature_names_in_" in restored:
        restored["feature_names_in_"] = np.asarray(restored["feature_names_in_"], dtype=object)
    return restored


def _best_parameters(best: np.ndarray | None, network: Any, path: Any) -> np.ndarray:
    """The early-stopping best weights: one finite value per parameter, in the network's dtype."""
    if best is None:  # (every file has them; the network's weights do as well)
        return network.parameters.copy()
    shape, dtype = network.parameters.shape, network.parameters.dtype
    if best.shape != shape or best.dtype != dtype or not np.isfinite(best).all():
        raise _refused(
            path,
            f"whose tensor extra.best_parameters is {best.dtype} of shape {best.shape}"
            + ("" if np.isfinite(best).all() else " and not finite"),
            f"{shape[0]} finite {dtype} values, one per network parameter",
        )
    return best.copy()


def _classes_dtype(spec: Any, classes: list, path: Any) -> np.dtype | None:
    """The stored dtype of ``classes_``: a plain scalar dtype, text no longer than the labels.

    Anything else (objects, records, sub-arrays such as ``(200,200,200)f8``, which would
    make each label megabytes) is refused before an array is made.
    """
    if spec is None:  # (files written before the dtype was stored)
        return None
    try:
        dtype = np.dtype(spec) if isinstance(spec, str) and len(spec) <= 16 else None
    except (TypeError, ValueError, SyntaxError):
        dtype = None
    longest = max((len(c) for c in classes if isinstance(c, str)), default=0)
    plain = dtype is not None and dtype.kind in "biufU" and dtype.subdtype is None
    if not plain or dtype.itemsize > (4 * max(longest, 256) if dtype.kind == "U" else 16):
        raise _invalid(
            path, "training.classes_dtype", spec, "the dtype of class labels: booleans, "
            f"integers, floats or text of at most {max(longest, 256)} characters (e.g. '<i8', "
            "'<U5')"
        )  # fmt: skip
    return dtype


def _classes(classes: Any, training: dict[str, Any], network: Any, path: Any) -> np.ndarray:
    """``classes_`` in the dtype it had (int8 labels stay int8; numpy's own guess in files
    written before the dtype was stored), checked against the network's outputs."""
    if not isinstance(classes, list) or not classes:
        raise _invalid(path, "classes", classes, "the classifier's class labels")
    dtype = _classes_dtype(training.get("classes_dtype"), classes, path)
    target_type = training.get("target_type")
    n_outputs, n_classes = network.n_outputs, len(classes)
    if target_type == "multilabel-indicator":
        wanted, outputs = list(range(n_outputs)), n_outputs
        if classes != wanted:
            raise _invalid(path, "classes", classes, f"the labels {wanted} of its outputs")
    else:
        wanted, outputs = ("binary", 1) if n_classes <= 2 else ("multiclass", n_classes)
        if target_type not in (None, wanted):
            raise _invalid(path, "training.target_type", target_type, f"{wanted!r}")
    if outputs != n_outputs:
        raise _invalid(path, "classes", classes, f"labels for the network's {n_outputs} output(s)")
    try:
        array = np.asarray(classes, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise _damaged(path, f"classes_ {classes!r:.60} of dtype {dtype}", exc) from exc
    if array.shape != (n_classes,) or _plain(array) != classes:  # (e.g. 1.5 as an integer)
        dtype_name = "numpy's guess" if dtype is None else dtype
        raise _invalid(path, "classes", classes, f"labels that are values of dtype {dtype_name}")
    if len(set(array.tolist())) != n_classes:  # (1 and 1.0 as floats)
        raise _invalid(path, "classes", classes, "distinct labels")
    return array


def load_estimator(cls: type, path: str | os.PathLike[str]) -> Any:
    """Read an estimator of class ``cls`` written by :func:`save_estimator`.

    With the optimizer state and random streams when the file has them (see the
    module docstring); without, the next ``partial_fit`` starts the optimizer afresh.

    Raises
    ------
    IncompatibleFormatError
        If the file is not a model file of a ``cls`` estimator, or holds anything such an
        estimator cannot have (see the module docstring).
    """
    from ..io import load_model, model_header  # an edge: imported when a model is read

    ensure_registered(model_header(path)["architecture"].get("activations") or [])
    loaded = load_model(path)
    training = loaded.training or {}
    kind = training.get("estimator")
    if kind != cls.__name__:
        found = f"a {kind!s:.80}" if kind else "a plain deltarule network, not an estimator"
        raise IncompatibleFormatError(
            f"{os.fspath(path)} holds {found}; {cls.__name__}.load reads files written by "
            f"{cls.__name__}.save. Load it with deltarule.io.load_model or the matching class."
        )
    estimator = _checked_estimator(cls, _restore_params(cls, training, path), path)
    network = build_network(loaded.network.config(), loaded.network.parameters)
    np.copyto(network.trainable, loaded.network.trainable)
    attributes = _restore_attributes(training.get("attributes"), network, path)
    classifier = hasattr(estimator, "_restore_targets")
    classes = _classes(loaded.classes, training, network, path) if classifier else None
    if not classifier and loaded.classes:
        raise _invalid(path, "classes", loaded.classes, f"none ({cls.__name__} has no classes)")
    estimator.network_ = network
    for name, value in attributes.items():
        setattr(estimator, name, value)
    best = loaded.extra_tensors.get("best_parameters")
    estimator._best_parameters = _best_parameters(best, network, path)
    estimator._trainer = None
    if training.get("trainer") is not None:
        estimator._trainer = _restore_trainer(network, loaded, training["trainer"], path)
    if training.get("random_state") is not None:
        estimator.random_state = _restore_random_state(training["random_state"], path)
    if classes is not None:
        try:
            estimator._restore_targets(classes, training.get("target_type", "binary"))
        except ValueError as exc:  # (labels scikit-learn refuses, e.g. NaN)
            raise _damaged(path, f"classes {classes.tolist()!r:.60}", exc) from exc
    estimator._sync_out()
    return estimator
