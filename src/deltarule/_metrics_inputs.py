"""How the metrics read their arguments: ``(output, target)`` checked as 2-D float arrays of
one shape, read once for several metrics (:func:`shared_inputs`), scikit-learn's
``y_true=`` / ``y_pred=`` names taken, and a call that reads as swapped refused.

The metrics themselves, and their documentation, are :mod:`deltarule.metrics`'s.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

import numpy as np

from ._typing import Array
from ._validation import FLOAT_DTYPES, as_float_array, check_sample_weight
from .exceptions import InputError

F64 = np.dtype(np.float64)


def _not_none(data: Any, name: str) -> Any:
    if data is None:
        raise InputError(
            f"{name} is None; expected an array of numbers. Pass the network's outputs and "
            "the targets, e.g. metric(network.predict(X), y)."
        )
    return data


def _as_2d(data: Any, name: str, dtype: np.dtype | None = F64) -> Array:
    """``data`` validated as a 2-D float array of ``dtype``; ``None``: a float32 or float64
    NumPy array as it is (no copy), anything else as float64 (:func:`_read_as`)."""
    dtype = _read_as(data) if dtype is None else dtype
    memo, key = _MEMO.get(), (id(data), name, dtype)
    if memo is not None and key in memo:
        return memo[key][1]
    try:
        array = as_float_array(_not_none(data, name), name, dtype)
    except InputError:
        if name == "output" and _holds_non_finite_numbers(data):
            raise InputError(
                "output contains NaN or infinity; expected the finite outputs of a network. "
                "A network's outputs overflow when its weights blew up (training diverged: "
                "retrain with a lower learning rate) or its inputs are far larger than the "
                "training data were (scale them alike)."
            ) from None
        raise
    array = array.reshape(-1, 1) if array.ndim == 1 else array
    if memo is not None:
        memo[key] = (data, array)  # (``data`` kept alive: its id stays its own)
    return array


def _read_as(data: Any) -> np.dtype:
    """The dtype class labels are read from ``data`` in: a float32 or float64 array's own
    (float32 read as float64 gives the same labels, every float32 being a float64, so the
    (n_samples, n_classes) array is not copied), float64 for anything else."""
    dtype = getattr(data, "dtype", None)
    return dtype if isinstance(data, np.ndarray) and dtype in FLOAT_DTYPES else F64


_MEMO: ContextVar[dict | None] = ContextVar("deltarule_metric_inputs", default=None)
"""Inputs read once and shared by the metrics called within :func:`shared_inputs`."""


@contextlib.contextmanager
def shared_inputs() -> Iterator[None]:
    """Within it, metrics called on the same array objects check and read them once: their
    validation, multi-label test and class labels are computed for the first metric and
    reused by the others (:func:`check_targets` scores every metric on ``(y, y)``: one
    O(n_samples x n_outputs) pass instead of one per metric). The arrays must not change
    inside."""
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def _memo(kind: str, array: Array, *more: Any) -> tuple[dict | None, tuple]:
    """The memo of :func:`shared_inputs` (None outside) and ``array``'s key in it."""
    memo = _MEMO.get()
    key = (kind, id(array), *more)
    return memo, key


def _blocks(array: Array, entries: int = 1 << 20) -> Iterator[Array]:
    """The rows of a 2-D ``array`` in blocks of about ``entries`` values: an element-wise
    test over the blocks takes no (n_samples, n_outputs) temporary."""
    rows = max(1, entries // max(1, array.shape[1]))
    for start in range(0, array.shape[0], rows):
        yield array[start : start + rows]


def _zeros_and_ones(array: Array) -> bool:
    """Whether every value of the 2-D ``array`` is 0 or 1 (``np.isin(array, (0, 1)).all()``)."""
    return all(((block == 0) | (block == 1)).all() for block in _blocks(array))


def _holds_non_finite_numbers(data: Any) -> bool:
    """Whether ``data`` is an array of real numbers some of which are NaN or infinite."""
    try:
        array = np.asarray(data)
    except (TypeError, ValueError):
        return False
    return array.dtype.kind == "f" and not np.isfinite(array).all()


_ORDER = (
    "deltarule's metrics take (output, target), the network's outputs first: the reverse "
    "of scikit-learn's and Keras's (y_true, y_pred)"
)


def _refuse_swapped(name: str, output: Any, target: Any) -> None:
    """Refuse ``name(output, target)`` when it reads as ``name(y_true, y_pred)``: ``output``
    exact one-hot rows (or one 0/1 column) and ``target`` fractional probabilities (more
    than two values, so not the tutorial's 0.01/0.99 targets), which a network's outputs
    are and targets are not."""
    try:  # (float32 arrays as they are: the same values, without a float64 copy)
        o, t = (np.asarray(x, dtype=_read_as(x)) for x in (output, target))
    except (TypeError, ValueError):
        return  # (refused with its own message by the metric)
    if o.shape != t.shape or o.size == 0:
        return
    o2 = o.reshape(len(o), -1) if o.ndim else o
    if o2.ndim == 2 and not _zeros_and_ones(o2):  # (a network's outputs: the usual answer)
        return
    if not np.isfinite(t).all():
        return
    exact = np.isin(o2, (0.0, 1.0)).all() and (o2.shape[1] == 1 or (o2.sum(axis=1) == 1).all())
    inside = (t >= 0).all() and (t <= 1).all()
    if exact and inside and np.unique(t).size > 2:
        raise InputError(
            f"{name}(output, target) received exact 0/1 class rows as output and fractional "
            f"probabilities as target; {_ORDER}. Swap the arguments ({name}(y_pred, y_true)), "
            f"or name them: {name}(y_true=..., y_pred=...)."
        )


def _sklearn_names(name: str, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Map scikit-learn's ``y_true=`` / ``y_pred=`` keywords to ``(output, target)``."""
    given = [key for key in ("y_true", "y_pred", "output", "target") if key in kwargs]
    if args or given not in (["y_true", "y_pred"],):
        raise InputError(
            f"{name} received {', '.join(f'{key}=' for key in given)} with "
            f"{len(args)} positional argument(s); expected y_true= and y_pred= together as "
            f"keywords (scikit-learn's names), or (output, target) alone: {_ORDER}."
        )
    target, output = kwargs.pop("y_true"), kwargs.pop("y_pred")
    return (output, target), kwargs


def _takes_sklearn_names(classifies: bool) -> Callable[[Callable[..., float]], Callable]:
    """Let a metric ``f(output, target, ...)`` also be called ``f(y_true=..., y_pred=...)``;
    with ``classifies``, refuse positional calls that read as swapped (:func:`_refuse_swapped`).

    Training calls the undecorated function (:class:`Metric`): no check there each epoch."""

    def decorate(function: Callable[..., float]) -> Callable[..., float]:
        @functools.wraps(function)
        def metric(*args: Any, **kwargs: Any) -> float:
            if "y_true" in kwargs or "y_pred" in kwargs:
                args, kwargs = _sklearn_names(function.__name__, args, kwargs)
            elif classifies and len(args) >= 2:
                _refuse_swapped(function.__name__, args[0], args[1])
            return function(*args, **kwargs)

        metric.unchecked = function  # type: ignore[attr-defined]
        return metric

    return decorate


def _check_pair(
    output: Any, target: Any, sample_weight: Any, dtype: np.dtype | None = F64
) -> tuple[Array, Array, Array | None]:
    """Return output, target (2-D, same shape; float64, or with ``dtype=None`` float32 arrays
    as they are: :func:`_read_as`) and the sample weights (float64)."""
    o, t = _as_2d(output, "output", dtype), _as_2d(target, "target", dtype)
    if o.shape != t.shape:
        raise InputError(
            f"output has shape {o.shape} but target has shape {t.shape}; expected the same "
            "shape (n_samples, n_outputs). Encode targets as the network sees them: one-hot "
            "rows for classes, one 0/1 column for a single sigmoid output."
        )
    return o, t, check_sample_weight(sample_weight, o.shape[0], F64)
