"""The target column of a table, for :class:`~deltarule.preprocessing.TabularPreprocessor`:
the task detected from it (:func:`detect_task`: text, True/False or a few whole numbers are
classes, at most :data:`MAX_CLASSES`), checked against it (:func:`fit_target`: numbers for a
regression, two or more labels for a classification), and its sorted class labels; a target
of nearly one label per row is refused as classes, with a hint when its labels are numbers
written with thousands separators."""

from __future__ import annotations

import re
from typing import Any

from ._columns import as_numbers, is_numeric, load_pandas
from ._encoders import sorted_values
from ._naming import where
from .exceptions import InputError

__all__ = ["MAX_CLASSES", "detect_task", "fit_target"]

MAX_CLASSES = 20

_REGRESSION = "task='regression' (--task regression on the command line)"
_CLASSIFICATION = "task='classification' (--task classification)"
_TASK_OPTIONS = {_REGRESSION: "--task regression", _CLASSIFICATION: "--task classification"}
"""The advice of the task errors below, in Python's and the command line's spelling."""


def fit_target(series: Any, task: str) -> tuple[str, list[Any] | None]:
    """Return the task and (for classification) the sorted class labels."""
    missing = series.isna()
    if missing.any():
        raise InputError(
            f"the target column {series.name!r} is missing a value at "
            f"{where(missing, series)}; every row needs a target. Drop those "
            "rows or fill them in."
        )
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
    classes = sorted_values(series.astype(object).unique())
    if detected and len(classes) > MAX_CLASSES and len(classes) > len(series) / 2:
        raise InputError(_too_many_classes(series, classes), options=_TASK_OPTIONS)
    if len(classes) < 2:
        raise InputError(
            f"the target {series.name!r} has a single class ({classes[0]!r}); "
            f"classification needs at least two. Check the target column, or pass {_REGRESSION}.",
            options=_TASK_OPTIONS,
        )
    return task, classes


_GROUPED_NUMBER = re.compile(r"^\s*[-+]?\d{1,3}([,. '’]\d{3})+([.,]\d+)?\s*$")
"""A number written with thousands separators: 434,271 / 1.234.567,5 / 12 345."""


def _too_many_classes(series: Any, classes: list[Any]) -> str:
    """Why a target of (nearly) one label per row is refused as classes, and what to do."""
    labels = [c for c in classes if isinstance(c, str)]
    grouped = sum(bool(_GROUPED_NUMBER.match(c)) for c in labels)
    hint = ""
    if grouped > len(labels) / 2:
        example = next(c for c in labels if _GROUPED_NUMBER.match(c))
        plain_number = re.sub(r"(?<=\d)[,. '’](?=\d{3}(?!\d))", "", example.strip())
        hint = (
            f"Its labels look like numbers written with thousands separators (such as "
            f"{example!r}): write them as plain numbers ({plain_number}) and it is a "
            "regression. "
        )
    return (
        f"the target {series.name!r} has {len(classes)} distinct labels in {len(series)} rows, "
        "too few rows of each for a classification to learn. "
        + hint
        + f"For numbers, pass {_REGRESSION}; to classify anyway, {_CLASSIFICATION}."
    )


def detect_task(series: Any) -> str:
    """ "classification" for text or True/False, or whole numbers with few distinct values
    (at most :data:`MAX_CLASSES`, and at most one for every two rows); else "regression"."""
    types = load_pandas().api.types
    if not is_numeric(series):
        return "classification"
    if types.is_integer_dtype(series):
        distinct = series.nunique()
        if distinct <= MAX_CLASSES and distinct <= len(series) / 2:
            return "classification"
    return "regression"
