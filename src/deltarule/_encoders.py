"""Each feature column's encoding, learned and applied: a column of numbers standardised
with its mean and standard deviation, any other column one-hot encoded over its sorted
categories (:func:`fit_column`, :func:`encode_column`), missing values filled when imputed;
and how values are matched to categories and class labels (:func:`label_codes`): as text, so
that ``1`` and ``1.0`` match ``'1'``, and ``TRUE`` or ``yes`` match True."""

from __future__ import annotations

import shlex
import warnings
from typing import Any

import numpy as np

from ._columns import (
    as_numbers,
    is_numeric,
    load_pandas,
    marks_as_missing,
    missing_error,
    refuse_dates,
    refuse_stray_text,
    signed_numbers,
)
from ._naming import plain, shortened, where
from ._reports import user_stacklevel
from .exceptions import DataWarning, InputError, UnseenValuesWarning

__all__ = [
    "FEW_VALUES",
    "MANY_CATEGORIES",
    "all_text",
    "category_codes",
    "encode_column",
    "fit_column",
    "label_codes",
    "many_categories",
    "most_frequent",
    "sorted_values",
    "standardised_column",
    "trimmed",
]

_WAS_NUMERIC = "The column held numbers when the model was trained; fix the value."


def sorted_values(values: Any) -> list[Any]:
    """``values`` as plain Python values, sorted (by type name, then text, when of mixed
    types)."""
    values = [plain(v) for v in values]
    try:
        return sorted(values)
    except TypeError:  # mixed types in one column
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def all_text(labels: list[Any]) -> bool:
    """Whether there are ``labels`` and all of them are text."""
    return bool(labels) and all(isinstance(label, str) for label in labels)


def _whole_float(value: Any) -> bool:
    return isinstance(value, (float, np.floating)) and float(value).is_integer()


_TRUTHS = {"true": True, "t": True, "yes": True, "y": True, "1": True,
           "false": False, "f": False, "no": False, "n": False, "0": False}  # fmt: skip
"""How other programs write a boolean (R's TRUE, Excel's true, 1/0), for columns that held
True/False in training."""


def _as_truth(value: Any) -> Any:
    """``value`` as True/False when it spells one (:data:`_TRUTHS`, or the number 1 or 0);
    else as it is (unseen: warned about by the caller)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return _TRUTHS.get(value.strip().lower(), value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    return value


def trimmed(values: Any) -> Any:
    """``values`` (a Series) with the whitespace around each text value removed: ``"setosa "``
    and ``" setosa"`` are the class ``"setosa"`` and the category ``"setosa"``, however
    the table was read (CSV, Parquet, a DataFrame). Other values are kept; each distinct
    value is looked at once."""
    pd = load_pandas()
    codes, uniques = pd.factorize(values.astype(object))
    if not any(isinstance(u, str) and u != u.strip() for u in uniques):
        return values
    stripped = np.array([u.strip() if isinstance(u, str) else u for u in uniques] + [None],
                        dtype=object)  # fmt: skip
    out = pd.Series(stripped[codes], index=values.index, name=values.name, dtype=object)
    out = out.where(codes >= 0, values.astype(object))  # (missing cells as they were)
    out.attrs.update(values.attrs)
    return out


def label_codes(values: Any, labels: list[Any]) -> np.ndarray:
    """Positions of ``values`` (an object Series) among ``labels``, -1 where absent.

    Text labels are matched as text, so that values read as numbers still match: ``1``
    matches ``'1'``, and so does ``1.0`` (a whole number stored as a float, as pandas does
    for a column of integers with a gap, or an array); a value that matches none as written
    matches one without the spaces around either (:func:`trimmed`).
    """
    index = load_pandas().Index(labels, dtype=object)
    if labels and all(isinstance(label, (bool, np.bool_)) for label in labels):
        return index.get_indexer(values.map(_as_truth))
    if not all_text(labels):
        return index.get_indexer(values)
    text = values.map(str)
    codes = index.get_indexer(text)
    whole = np.asarray((codes < 0) & values.map(_whole_float), dtype=bool)
    if whole.any():
        codes[whole] = index.get_indexer(values[whole].map(lambda value: str(int(value))))
    unmatched = codes < 0
    if unmatched.any():  # without the spaces around it (" blue" is "blue"; a model fitted
        first: dict[str, int] = {}  # before text was trimmed may hold "blue ": as written
        for position, label in enumerate(labels):  # first, then trimmed)
            first.setdefault(label.strip(), position)
        found, distinct = load_pandas().factorize(text[unmatched])  # (each distinct once)
        trimmed_codes = np.array([first.get(text.strip(), -1) for text in distinct], np.intp)
        codes[unmatched] = trimmed_codes[found]
    return codes


def most_frequent(series: Any) -> Any:
    """The most frequent value (the smallest one on ties, like ``Series.mode()[0]``)."""
    counts = series.value_counts()
    return sorted_values(counts.index[counts == counts.max()])[0]


def fit_column(series: Any, impute: str | None) -> dict[str, Any]:
    """What the column ``series`` (as the table holds it) teaches: a column of numbers (its
    missing-value marks aside) its mean, standard deviation (1 when constant) and fill value,
    any other its sorted categories and fill value (the most frequent one); the fill is None
    without ``impute``, and a missing value an error. Dates, and numbers written with
    thousands separators, decimal commas, percent or currency signs, are refused (a warning
    for fewer than :data:`FEW_VALUES` of the latter): as categories, their order and size
    would be lost."""
    refuse_dates(series)
    series = marks_as_missing(series)
    missing = series.isna()
    if missing.all():
        python = f"drop it from the table (df.drop(columns={series.name!r}))"
        raise InputError(
            f"column {series.name!r} has no values at all (every cell is empty or marks a "
            f"missing value); expected some values to learn from. Fill it in, or {python}.",
            options={python: f"drop it with --drop {shlex.quote(str(series.name))}"},
        )
    if missing.any() and impute is None:
        raise missing_error(series, missing)
    if not is_numeric(series):
        present = trimmed(series[~missing].astype(object))
        refuse_stray_text(series, present)
        _refuse_signed_numbers(series, present)
        fill = most_frequent(present) if impute else None
        categories = sorted_values(present.unique())
        if len(categories) > MANY_CATEGORIES:
            warnings.warn(
                many_categories(series.name, len(categories), len(series)),
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        return {
            "name": plain(series.name),
            "kind": "categorical",
            "categories": categories,
            "fill": fill,
        }
    values = as_numbers(series, f"column {series.name!r}", "")
    fill = None
    if impute is not None:
        present = values[~missing]
        stat = {"mean": present.mean, "median": present.median}.get(impute)
        fill = float(stat() if stat else most_frequent(present))
        values = values.fillna(fill)
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = float(values.mean()), float(values.std(ddof=0))
        if not (np.isfinite(mean) and np.isfinite(std)):  # squares (or sums) past float64
            scale = float(values.abs().max())
            mean, std = (
                scale * float((values / scale).mean()),
                scale * float((values / scale).std(ddof=0)),
            )
    return {
        "name": plain(series.name),
        "kind": "numeric",
        "mean": mean,
        "std": std if std > 0 and np.isfinite(std) else 1.0,
        "fill": fill,
    }


MANY_CATEGORIES = 1000
"""A text column with more categories is warned about when fitted: one-hot encoded, each is
an input column of its own (1,000 categories over 100,000 rows: 800 MB in float64)."""


def many_categories(name: Any, n_categories: int, n_rows: int) -> str:
    """The warning about a column ``name`` of ``n_categories`` (more than
    :data:`MANY_CATEGORIES`) over ``n_rows`` rows."""
    return (
        f"column {name!r} has {n_categories:,} categories (more than {MANY_CATEGORIES:,}): "
        f"one-hot encoded, they are {n_categories:,} input columns, "
        f"{8 * n_categories * n_rows:,} bytes in float64 for its {n_rows:,} rows, and a "
        "network too wide to learn much from each. Drop the column "
        f"(df.drop(columns={name!r})), or replace it by fewer values (hash them into a few "
        "hundred buckets, or group the rare ones)."
    )


FEW_VALUES = 10
"""A column of numbers written as text (:func:`~deltarule._columns.signed_numbers`) with
fewer distinct values is one-hot encoded with a warning; with more, it is refused."""


def _refuse_signed_numbers(series: Any, present: Any) -> None:
    """Refuse (or, with few values, warn about) a text column of numbers written with
    thousands separators, decimal commas, percent or currency signs."""
    found = signed_numbers(series, present)
    if found is None:
        return
    looks = (
        f"looks like numbers written with {found.signs} (such as {shortened(found.example)} at "
        f"{found.at}, which is {found.number})"
    )
    if found.n_values < FEW_VALUES:
        warnings.warn(
            f"column {series.name!r} {looks}: they are text to deltarule, one-hot encoded as "
            f"{found.n_values} categories, so their order and size are lost. To use them as "
            "numbers, write them as plain numbers in the data.",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
        return
    python = f"drop the column (df.drop(columns={series.name!r}))"
    raise InputError(
        f"column {series.name!r} {looks}: they are text to deltarule, and each of its "
        f"{found.n_values} distinct values would become a category of its own, so their order "
        f"and size would be lost. Write them as plain numbers in the data, or {python}.",
        options={python: f"drop it with --drop {shlex.quote(str(series.name))}"},
    )


def encode_column(series: Any, state: dict[str, Any]) -> np.ndarray:
    """The column ``series`` encoded by its fitted ``state`` (:func:`fit_column`): one
    standardised column, or one 0/1 column per category (an unseen value: all zeros, warned
    about). (:meth:`~deltarule.preprocessing.TabularPreprocessor.transform` writes
    :func:`standardised_column` and :func:`category_codes` into its output instead.)"""
    if state["kind"] == "numeric":
        return standardised_column(series, state)[:, None]
    codes = category_codes(series, state)
    onehot = np.zeros((len(codes), len(state["categories"])))
    rows = np.flatnonzero(codes >= 0)
    onehot[rows, codes[rows]] = 1.0
    return onehot


def _checked_missing(series: Any, state: dict[str, Any]) -> tuple[Any, Any]:
    """``series`` (missing-value marks as missing, for numbers) and where it is missing;
    a missing value without a fill is an error."""
    if state["kind"] == "numeric":
        series = marks_as_missing(series)
    missing = series.isna()
    if missing.any() and state["fill"] is None:
        raise missing_error(series, missing, fitted=True)
    return series, missing


def standardised_column(series: Any, state: dict[str, Any]) -> np.ndarray:
    """The numeric column ``series`` standardised by its fitted ``state``,
    :math:`(x - \\mu) / \\sigma` (missing values filled first), of shape (n_samples,):
    float64, or float32 for a float32 column."""
    series, missing = _checked_missing(series, state)
    values = as_numbers(series, f"column {series.name!r}", _WAS_NUMERIC)
    values = values.fillna(state["fill"]) if missing.any() else values
    return (values.to_numpy() - state["mean"]) / state["std"]


def category_codes(series: Any, state: dict[str, Any]) -> np.ndarray:
    """The position of each value of the categorical column ``series`` among its fitted
    ``state``'s categories, -1 for a value never seen in training (warned about); missing
    values filled first."""
    series, missing = _checked_missing(series, state)
    values = series.astype(object).where(~missing, state["fill"])
    codes = label_codes(values, state["categories"])
    unseen = codes < 0
    if unseen.any():
        warnings.warn(
            UnseenValuesWarning(
                series.name,
                int(unseen.sum()),
                f"the first {shortened(plain(values[unseen].iloc[0]))} at "
                f"{where(unseen, series)}; they are encoded as none of its "
                f"{len(state['categories'])} categories, so their predictions are guesses. "
                "Check the spelling, or retrain with such rows.",
            ),
            stacklevel=user_stacklevel(),
        )
    return codes
