"""One column of delimited text, read as text by pandas, its cells sorted by kind: blank,
pandas' missing-value marks, numbers (with a decimal point or not), numbers written with a
decimal comma, other text (:class:`Column`); and what a column pandas read as numbers says
(:func:`text_only`, :func:`big_integers`, :func:`fraction_mask`, :func:`grouped_point`). The
decisions made from them are :func:`~deltarule.io._cells.settle_cells`' and, over a whole
file read a chunk at a time, :mod:`~deltarule.io._comma_evidence`'s.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .._columns import MISSING_MARKS, to_numbers

__all__ = [
    "NA_MARKS",
    "POINT_GROUPS",
    "Column",
    "big_integers",
    "fraction_mask",
    "group_places",
    "grouped_point",
    "parsed_numbers",
    "position",
    "text_only",
]

NA_MARKS = frozenset(
    {"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
     "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)  # fmt: skip
"""pandas' default missing-value strings (``pandas.read_csv``'s ``na_values``): missing in a
column of numbers."""
_TRUTH = {"True": True, "TRUE": True, "true": True, "False": False, "FALSE": False,
          "false": False}  # fmt: skip
"""pandas' default ``true_values``/``false_values``: a column of them is True/False."""
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+")
"""A decimal comma that could be a thousands separator (``1,050``)."""
POINT_GROUPS = re.compile(r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+")
"""A decimal point that could be a thousands separator (``3.012``), as decimal commas' files
write them."""


class Column:
    """One text column's cells sorted: blank, marks, numbers (``is_number``, with a point:
    ``dot``), decimal commas (``comma``; ``unambiguous`` when one cannot be a thousands
    separator), other text; ``numbers`` holds their values, the commas read as points."""

    def __init__(self, pd: Any, column: Any) -> None:
        text = column.str.strip()
        self.blank = text.eq("").to_numpy(dtype=bool, na_value=False)
        present = text.notna().to_numpy(dtype=bool) & ~self.blank
        self.text = text
        self.marks = text.isin(NA_MARKS).to_numpy(dtype=bool) & present
        commas = text.str.contains(",", regex=False, na=False).to_numpy(dtype=bool)
        kept = ~self.marks & present
        written = text.where(kept)
        if commas.any():
            written = written.str.replace(",", ".", regex=False)
        self.numbers = parsed_numbers(pd, written)
        read = self.numbers.notna().to_numpy(dtype=bool)
        comma = read & commas
        if comma.any():  # (the forms a decimal comma takes: 1,5 -1,25 1,5e3; not ,5 or 1,)
            comma &= text.str.fullmatch(_DECIMAL_COMMA, na=False).to_numpy(dtype=bool)
        self.comma = comma
        self.is_number = read & ~commas
        self.other = kept & ~self.comma & ~self.is_number
        # the preprocessor's wider marks (R's and Weka's '?', a dash): missing in a column of
        # decimal commas, which is made numbers here rather than by the preprocessor
        self.wide_marks = self.other & text.str.lower().isin(MISSING_MARKS).to_numpy(
            dtype=bool, na_value=False
        )
        dots = text.str.contains(".", regex=False, na=False).to_numpy(dtype=bool)
        self.dot = self.is_number & dots
        self.unambiguous = self.comma.any() and _not_thousands(text[self.comma])

    def truth(self) -> Any:
        """The column as True/False (marks missing) when its other cells are all pandas'
        true and false values, else None."""
        if not self.other.any() or self.is_number.any() or self.comma.any():
            return None
        words = self.text.where(self.other)
        if not words[self.other].isin(list(_TRUTH)).all():
            return None
        return words.map(_TRUTH.get, na_action="ignore").astype(object).where(self.other)


def parsed_numbers(pd: Any, written: Any) -> Any:
    """``pd.to_numeric(written, errors="coerce")``, parsing each distinct cell once: a column
    of a few labels over many rows (a target's classes) costs a hash pass, not a parse per
    row; the same values and dtype (missing cells make it float)."""
    codes, uniques = pd.factorize(written)
    values = to_numbers(pd.Series(uniques, dtype=object)).to_numpy()
    taken = pd.api.extensions.take(values, codes, allow_fill=True)
    return pd.Series(taken, index=written.index, name=written.name)


def _not_thousands(cells: Any) -> bool:
    """Whether any of these decimal-comma cells cannot be a number with thousands separators
    (three digits after its comma, one to three before it, not 0: ``1,050``)."""
    digits_after = cells.str.len() - cells.str.rfind(",") - 1
    if (digits_after != 3).any():
        return True
    return not bool(cells.str.fullmatch(_THOUSANDS, na=False).all())


def text_only(column: Any) -> bool:
    """Whether every cell is text or missing (not a number, True/False...) as pandas read it."""
    if str(column.dtype) in ("str", "string"):
        return True
    return column.dtype == object and bool(
        column.dropna().map(lambda value: isinstance(value, str)).all()
    )


def big_integers(pd: Any, column: Any) -> Any:
    """A column pandas read as Python integers (an object column: some past 64 bits) as
    floats (one past float's range: infinity, as ``pd.to_numeric`` reads such text); None
    for any other column."""
    if column.dtype != object:
        return None
    present = column.dropna()
    if present.empty or not all(
        isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        for value in present
    ):
        return None

    def as_float(value: Any) -> float:
        try:
            return float(value)
        except OverflowError:
            return float("inf") if value > 0 else float("-inf")

    return pd.Series(
        [np.nan if pd.isna(v) else as_float(v) for v in column],
        index=column.index,
        name=column.name,
        dtype=float,
    )


def fraction_mask(column: Any) -> Any:
    """Whether each number of a column of numbers has a fractional part (a decimal point);
    None for a column of whole numbers."""
    if column.dtype.kind != "f":
        return None
    values = column.to_numpy()
    return np.isfinite(values) & (values != np.round(values))


def grouped_point(column: Any, fractions: Any) -> tuple[int, str] | None:
    """The place and value of a number with a fraction in a column of numbers when each
    such number could be one written with a point between groups of digits: one to three
    digits before the point, none after its third (``3.012``; ``1.5``, which pandas read
    from ``1.500`` as well; not ``0.25``); else None. The number shown is the first with a
    third decimal (``3.012``) if any, else the first with a fraction."""
    places = group_places(column, fractions)
    if places is None:
        return None
    first = places[0] if places[0] is not None else places[1]
    return first, repr(float(column.iloc[first]))


def group_places(column: Any, fractions: Any) -> tuple[int | None, int] | None:
    """For :func:`grouped_point`: None where a number with a fraction cannot have its point
    group thousands; else the place of the first with a third decimal (or None) and of the
    first with a fraction."""
    values = np.abs(column.to_numpy()[fractions])
    thousandths = values * 1000
    whole = np.abs(thousandths - np.round(thousandths)) <= 1e-9 * thousandths
    if not ((values >= 1) & (values < 1000) & whole).all():
        return None
    third = np.abs(values * 100 - np.round(values * 100)) > 1e-9 * values * 100
    places = np.flatnonzero(fractions)
    return (int(places[int(np.argmax(third))]) if third.any() else None), int(places[0])


def position(cells: Column, label: Any) -> int:
    return int(cells.text.index.get_loc(label))
