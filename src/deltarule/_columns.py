"""What a table's column holds, for :class:`~deltarule.preprocessing.TabularPreprocessor`:
numbers or not (:func:`is_numeric`; dates are refused), its cells read as numbers
(:func:`as_numbers`: text, True/False or infinity refused, naming the first such row), cells
that mark a missing value in a column of numbers (:data:`MISSING_MARKS`), stray text among
numbers refused, and the error for missing values (:func:`missing_error`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._naming import where
from .exceptions import InputError

__all__ = [
    "MISSING_MARKS",
    "as_numbers",
    "is_numeric",
    "load_pandas",
    "marks_as_missing",
    "missing_error",
    "refuse_stray_text",
]


def load_pandas() -> Any:
    """The pandas module, or an ImportError that says how to install it."""
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - pandas is installed with deltarule[cli]
        raise ImportError(
            "tabular preprocessing needs pandas; install it with pip install 'deltarule[cli]'"
        ) from exc
    return pandas


def missing_error(series: Any, mask: Any, fitted: bool = False) -> InputError:
    """The error for the missing values of ``series`` (where ``mask``), with the fix: for a
    fitted model (``fitted``), one trained without imputation, else before fitting."""
    python, option = (
        ("impute=... / --impute", "--impute")
        if fitted
        else (
            "impute='mean', 'median' or 'most_frequent' (--impute on the command line)",
            "--impute mean, median or most_frequent",
        )
    )
    fix = (
        "the model was trained without imputation, so fill them in or drop those rows (or "
        f"retrain with {python})"
        if fitted
        else f"fill them in, drop those rows, or impute them with {python}"
    )
    marks = series.attrs.get(_MARKS_ATTR)
    written = f" (empty, or marked {', '.join(map(repr, marks))})" if marks else ""
    return InputError(
        f"column {series.name!r} has {int(mask.sum())} missing value(s){written}, the first at "
        f"{where(mask, series)}; expected a value in every row: {fix}.",
        options={python: option},
    )


def is_numeric(series: Any) -> bool:
    """Whether ``series`` holds numbers (not True/False); dates or times are an error."""
    types = load_pandas().api.types
    if types.is_datetime64_any_dtype(series) or types.is_timedelta64_dtype(series):
        raise InputError(
            f"column {series.name!r} holds dates or times; expected numbers or "
            "text. Convert it to numbers first (e.g. year, day of week)."
        )
    return types.is_numeric_dtype(series) and not types.is_bool_dtype(series)


def as_numbers(series: Any, what: str, fix: str, options: dict[str, str] | None = None) -> Any:
    """Return ``series`` as floats; text, True/False or infinity in it is an error naming
    the first offending row (``options``: ``fix``'s phrases in the command line's spelling,
    see :class:`~deltarule.exceptions.InputError`)."""
    like = series  # the table's column, which knows the rows' places in the file
    if not is_numeric(series):
        cells = series.astype(object)
        truth = cells.map(lambda value: isinstance(value, (bool, np.bool_)))
        if truth.any():  # pandas would count True as 1
            raise InputError(
                f"{what} holds {cells[truth].iloc[0]!r} at {where(truth, like)}; expected "
                f"numbers, not True/False. {fix}",
                options=options,
            )
        numbers = load_pandas().to_numeric(cells, errors="coerce")
        bad = numbers.isna() & series.notna()
        if bad.any():
            raise InputError(
                f"{what} holds text ({series[bad].iloc[0]!r} at {where(bad, like)}); "
                f"expected numbers. {fix}",
                options=options,
            )
        series = numbers
    values = series.astype(float)
    if np.isinf(values).any():
        raise InputError(
            f"{what} holds infinity at {where(np.isinf(values), like)}; expected finite "
            "numbers. Replace it with a number, or leave the cell empty and impute it."
        )
    return values


MISSING_MARKS = frozenset(
    {"?", "-", "--", ".", "na", "n/a", "#n/a", "nan", "null", "none", "nil", "missing"}
)
"""Cells that mark a missing value in a column of numbers (compared without case or
surrounding spaces): R's and Weka's ``?`` and ``NA``, a spreadsheet's ``#N/A``, a dash."""
_MARKS_ATTR = "deltarule.marks"  # (a column's attrs: the marks read as missing, for messages)


def marks_as_missing(series: Any) -> Any:
    """A column of numbers whose other cells are all missing-value marks
    (:data:`MISSING_MARKS`): as numbers, those cells missing. Any other column as it is
    (a '?' among text stays a category)."""
    if is_numeric(series):
        return series
    cells = series.astype(object)
    marks = cells.map(lambda v: isinstance(v, str) and v.strip().lower() in MISSING_MARKS)
    if not marks.any():
        return series
    rest = cells[~marks & cells.notna()]
    if rest.empty or rest.map(lambda v: isinstance(v, (bool, np.bool_))).any():
        return series
    numbers = load_pandas().to_numeric(rest, errors="coerce")
    if numbers.isna().any():  # other text too: not a column of numbers
        return series
    out = load_pandas().to_numeric(cells.where(~marks), errors="coerce")
    out.attrs = {**series.attrs, _MARKS_ATTR: sorted(set(cells[marks]))}
    return out


def refuse_stray_text(series: Any, present: Any) -> None:
    """Refuse a column mostly of numbers with some text cells (a typo, or a missing-value
    mark other than :data:`MISSING_MARKS`): it would silently become one category per
    distinct number."""
    numbers = load_pandas().to_numeric(present, errors="coerce")
    text = numbers.isna()
    n_text, n_numbers = int(text.sum()), int((~text).sum())
    if not 0 < n_text <= n_numbers or numbers.nunique() < 10:
        return
    first = present[text]
    python = "impute=..., or --impute on the command line"
    raise InputError(
        f"column {series.name!r} holds numbers in {n_numbers} rows but text in {n_text}, the "
        f"first {first.iloc[0]!r} at {where(series.index == first.index[0], series)}; expected "
        "numbers throughout. Fix those cells; if they mark missing values, leave them empty "
        f"or write one of {', '.join(sorted(MISSING_MARKS))} (and impute them: {python}).",
        options={python: "--impute"},
    )
