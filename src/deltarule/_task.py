"""The target column of a table, for :class:`~deltarule.preprocessing.TabularPreprocessor`:
the task detected from it (:func:`detect_task`: text, True/False or a few whole numbers,
1.0 too, are classes, at most :data:`MAX_CLASSES`), checked against it (:func:`fit_target`:
numbers for a regression, two or more labels for a classification), and its sorted class
labels; a target of nearly one label per row is refused as classes, with a hint when its
labels are numbers written with thousands separators, percent or currency signs. The advice
names --task regression only for a target that can be read as numbers."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._columns import (
    MARKS_ATTR,
    as_numbers,
    is_numeric,
    load_pandas,
    marks_as_missing,
    signed_numbers,
    to_numbers,
)
from ._encoders import sorted_values, trimmed
from ._naming import where
from .exceptions import InputError

__all__ = ["MAX_CLASSES", "detect_task", "fit_target", "fit_targets"]

MAX_CLASSES = 20

_REGRESSION = "task='regression' (--task regression on the command line)"
_CLASSIFICATION = "task='classification' (--task classification)"
_TASK_OPTIONS = {_REGRESSION: "--task regression", _CLASSIFICATION: "--task classification"}
"""The advice of the task errors below, in Python's and the command line's spelling."""


def fit_target(series: Any, task: str) -> tuple[str, list[Any] | None]:
    """Return the task and (for classification) the sorted class labels.

    A column of numbers with missing-value marks among them (``?``, ``-``, ``NA``: as in a
    feature column) is missing those targets: they are not classes of their own (a ``?``
    among 0s and 1s became a third class)."""
    _refuse_missing(series)
    detected = task == "auto"
    task = detect_task(series) if detected else task
    if task == "regression":
        python = "task='classification' (--task classification on the command line)"
        as_numbers(
            series,
            f"the target {series.name!r}",
            f"Regression needs numeric targets; for labels pass {python}.",
            options={python: "--task classification"},
        )
        return task, None
    classes = sorted_values(trimmed(series.astype(object)).unique())
    if detected and len(classes) > MAX_CLASSES and len(classes) > len(series) / 2:
        raise InputError(_too_many_classes(series, classes), options=_TASK_OPTIONS)
    if len(classes) < 2:
        fix = (
            f"Check the target column, or pass {_REGRESSION}."
            if _numbers(series)  # (a regression on text cannot work)
            else "Check the target column: the data needs rows of at least two classes."
        )
        raise InputError(
            f"the target {series.name!r} has a single class ({classes[0]!r}) in its "
            f"{len(series)} row(s); classification needs at least two. {fix}",
            options=_TASK_OPTIONS,
        )
    return task, classes


def _refuse_missing(series: Any) -> None:
    """Refuse a target column with a missing value (an empty cell, or a mark such as ``?``
    among numbers), naming its row: every row needs a target."""
    read = marks_as_missing(series)
    missing = read.isna()
    if missing.any():
        marks = read.attrs.get(MARKS_ATTR)
        written = f" (marked {', '.join(map(repr, marks))})" if marks else ""
        raise InputError(
            f"the target column {series.name!r} is missing a value{written} at "
            f"{where(missing, read)}; every row needs a target. Drop those "
            "rows or fill them in."
        )


_SEVERAL = "task='classification' (--task classification on the command line)"


def fit_targets(frame: Any, names: list[Any], task: str) -> None:
    """Check the several target columns ``names`` of ``frame`` for a multi-output regression:
    ``task`` "auto" or "regression", and each column numbers, none missing (as a single
    target's, :func:`fit_target`).

    Raises
    ------
    InputError
        For ``task="classification"``, a missing target value, or a target that is not
        numbers (text, True/False), naming the column and the first such row.
    """
    shown = ", ".join(map(repr, names))
    if task == "classification":
        raise InputError(
            f"several targets ({shown}) are a multi-output regression (one output per "
            f"target, mean squared error); received {_SEVERAL}, which classifies one "
            "target column. Give a single target to classify it, or leave the task out "
            "(or task='regression') to predict the targets as numbers.",
            options={_SEVERAL: "--task classification",
                     "task='regression'": "--task regression"},
        )  # fmt: skip
    for name in names:
        series = frame[name]
        _refuse_missing(series)
        as_numbers(
            series,
            f"the target {name!r} (one of the targets {shown})",
            "Several targets are a multi-output regression, which needs numbers in each; "
            "a column of labels is a classification's target: train a model on it alone.",
        )


def _too_many_classes(series: Any, classes: list[Any]) -> str:
    """Why a target of (nearly) one label per row is refused as classes, and what to do:
    --task regression only where it can work (a target of numbers)."""
    signed = signed_numbers(series, series.astype(object))
    if signed is not None:
        advice = (
            f"Its labels look like numbers written with {signed.signs} (such as "
            f"{signed.example!r}): write them as plain numbers ({signed.number}) and it is a "
            f"regression. To classify anyway, pass {_CLASSIFICATION}."
        )
    elif _numbers(series):
        advice = f"For numbers, pass {_REGRESSION}; to classify anyway, {_CLASSIFICATION}."
    else:
        advice = (
            "Check that it is the column to predict (a name or an id has a label per row); "
            f"to classify anyway, pass {_CLASSIFICATION}."
        )
    return (
        f"the target {series.name!r} has {len(classes)} distinct labels in {len(series)} rows, "
        f"too few rows of each for a classification to learn. {advice}"
    )


def _numbers(series: Any) -> bool:
    """Whether ``series`` can be read as numbers (so that a regression can use it)."""
    if is_numeric(series):
        return True
    cells = series.astype(object)
    if cells.map(lambda value: isinstance(value, (bool, np.bool_))).any():
        return False
    return not to_numbers(cells).isna().any()


def _whole_numbers(series: Any) -> bool:
    """Whether the numbers of ``series`` are all whole: of an integer type, or floats such
    as 1.0 (as a database or pandas writes integers that once had a missing value)."""
    types = load_pandas().api.types
    if types.is_integer_dtype(series):
        return True
    if not types.is_float_dtype(series):
        return False
    values = series.to_numpy(dtype=float, na_value=np.nan)
    return bool(np.isfinite(values).all() and (values == np.round(values)).all())


def detect_task(series: Any) -> str:
    """ "classification" for text or True/False, or whole numbers (also written as floats:
    0.0 and 1.0, as scikit-learn's ``type_of_target`` sees them) with few distinct values (at
    most :data:`MAX_CLASSES`, and at most one for every two rows); else "regression"."""
    if not is_numeric(series):
        return "classification"
    if _whole_numbers(series):
        distinct = series.nunique()
        if distinct <= MAX_CLASSES and distinct <= len(series) / 2:
            return "classification"
    return "regression"
