"""Checks of a :class:`~deltarule.preprocessing.TabularPreprocessor` state read back
from a file (:meth:`~deltarule.preprocessing.TabularPreprocessor.from_dict`): the first
problem found, named, so that a tampered or foreign state is refused before use."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["IMPUTE_STRATEGIES", "STATE_TYPE", "STATE_VERSION", "TASKS", "state_problem"]

TASKS = ("auto", "classification", "regression")
IMPUTE_STRATEGIES = ("mean", "median", "most_frequent")
STATE_TYPE, STATE_VERSION = "tabular", 1


def state_problem(state: Any) -> str | None:
    """What is wrong with a :meth:`TabularPreprocessor.to_dict` state, or None."""
    if not isinstance(state, dict):
        return f"expected a JSON object, received {type(state).__name__}"
    keys = {"type", "version", "target", "task", "impute", "classes", "columns"}
    if not keys <= set(state):
        return f"missing {', '.join(sorted(keys - set(state)))}"
    if (state["type"], state["version"]) != (STATE_TYPE, STATE_VERSION):
        return (
            f"type {state['type']!r} version {state['version']!r}, expected "
            f"{STATE_TYPE!r} version {STATE_VERSION}"
        )
    if state["task"] not in TASKS[1:]:
        return f"task {state['task']!r} is not 'classification' or 'regression'"
    if state["impute"] not in (None, *IMPUTE_STRATEGIES):
        return f"impute {state['impute']!r} is not one of {', '.join(IMPUTE_STRATEGIES)} or null"
    columns = state["columns"]
    if not isinstance(columns, list) or not columns:
        return "no columns"
    for i, column in enumerate(columns):
        if not _valid_column(column):
            return (
                f"column {i + 1} ({str(column)[:80]}) is not a valid numeric or categorical "
                f"one{_categories_problem(column)}"
            )
    names = [column["name"] for column in columns]
    twice = sorted({repr(n) for n, count in _counts(names).items() if count > 1})
    if twice:
        return f"two columns are named {', '.join(twice)}"
    target = state["target"]
    if isinstance(target, list):
        return _targets_problem(target, names, state)
    if not _column_name(target):
        return f"the target {target!r} is not a column name (text or an integer)"
    if target in names:
        return f"the target {target!r} is also a feature column"
    classes = state["classes"]
    if state["task"] == "regression":
        return None if classes is None else "a regression model with classes"
    if not (isinstance(classes, list) and all(_scalar(c) for c in classes)):
        return "a classification model without a list of class labels"
    if len(classes) < 2 or not _distinct(classes):
        return f"classes {classes!r:.80} are not two or more distinct labels"
    return None


def _targets_problem(targets: list[Any], names: list[Any], state: dict[str, Any]) -> str | None:
    """What is wrong with a multi-output regression's list of ``targets`` (two or more
    distinct column names, none a feature, task regression, no classes), or None."""
    shown = f"{targets!r:.80}"
    if len(targets) < 2:
        return (
            f"the target list {shown} has {len(targets)} name(s); expected two or more "
            "column names (a single target is written as its name, not a list)"
        )
    for target in targets:
        if not _column_name(target):
            return f"the target list holds {target!r:.80}, not a column name (text or an integer)"
    twice = _first_repeat(targets)
    if twice is not None:
        return f"the target list names {twice!r} twice"
    features = set(names)
    for target in targets:
        if target in features:
            return f"the target {target!r} is also a feature column"
    if state["task"] != "regression":
        return f"several targets {shown} with task {state['task']!r}; expected 'regression'"
    return None if state["classes"] is None else "a regression model with classes"


def _categories_problem(column: Any) -> str:
    """Why a categorical column's categories are unusable, when that is why ("" if not)."""
    categories = column.get("categories") if isinstance(column, dict) else None
    if not isinstance(categories, list) or not all(_scalar(c) for c in categories):
        return ""
    if not categories:
        return ": it has no categories"
    if not _distinct(categories):
        twice = _first_repeat(categories)
        return f": the category {twice!r} appears twice"
    if column.get("fill") is not None and column["fill"] not in categories:
        return f": its fill value {column['fill']!r} is not one of its categories"
    return ""


def _counts(values: list[Any]) -> dict[Any, int]:
    """How often each value occurs, in one pass (a hostile header may hold 100,000 names)."""
    counts: dict[Any, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _first_repeat(values: list[Any]) -> Any:
    """The first value equal to an earlier one (as a lookup sees them), in one pass."""
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            return value
        seen.add(value)
    return None


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, bool)) or _finite_float(value)


def _distinct(labels: list[Any]) -> bool:
    """No two labels equal, as a lookup sees them (1, 1.0 and True are one key)."""
    return len(set(labels)) == len(labels)


def _column_name(name: Any) -> bool:
    return isinstance(name, (str, int)) and not isinstance(name, bool)


def _finite_float(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def _valid_column(column: Any) -> bool:
    if not (isinstance(column, dict) and {"name", "kind", "fill"} <= set(column)):
        return False
    if not _column_name(column["name"]):
        return False
    if column["kind"] == "numeric":
        return (
            _finite_float(column.get("mean"))
            and _finite_float(column.get("std"))
            and column["std"] > 0
            and (column["fill"] is None or _finite_float(column["fill"]))
        )
    categories = column.get("categories")
    return (
        column["kind"] == "categorical"
        and isinstance(categories, list)
        and bool(categories)
        and all(_scalar(c) for c in categories)
        and _distinct(categories)
        and (column["fill"] is None or column["fill"] in categories)
    )
