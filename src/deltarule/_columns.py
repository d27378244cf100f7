"""What a table's column holds, for :class:`~deltarule.preprocessing.TabularPreprocessor`:
numbers or not (:func:`is_numeric`; dates are refused, also when written as text:
:func:`refuse_dates`), its cells read as numbers (:func:`as_numbers`: text, True/False or
infinity refused, naming the first such row), cells that mark a missing value in a column of
numbers (:data:`MISSING_MARKS`), stray text among numbers refused, text that is numbers written
with thousands separators, decimal commas, percent or currency signs (:func:`signed_numbers`),
and the error for missing values (:func:`missing_error`)."""

from __future__ import annotations

import datetime
import re
import shlex
from typing import Any, NamedTuple

import numpy as np

from ._naming import shortened, where
from .exceptions import InputError

__all__ = [
    "MARKS_ATTR",
    "MISSING_MARKS",
    "SignedNumbers",
    "as_numbers",
    "is_numeric",
    "load_pandas",
    "marks_as_missing",
    "missing_error",
    "refuse_dates",
    "refuse_stray_text",
    "signed_numbers",
    "to_numbers",
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


_DECIMAL = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")


def to_numbers(cells: Any) -> Any:
    """``pd.to_numeric(cells, errors="coerce")``, each number exactly what Python's float
    reads of its text, under pandas 2 and 3.

    pandas before 3 parses text with its own parser, which can miss by a unit in the last
    place (``7295259650294015.0`` read as ...014.0, ``99999999999999999999`` as
    1.0000000000000002e20) and makes a number past float's range (``1e400``, 400 nines)
    missing, not infinity: there the text cells it read as numbers, and those written as
    decimal numbers, are read again by Python's float. pandas 3 misses so on a number
    written with a leading ``+`` (``+788722024223.237217``; a quarter of them): those
    cells are read again.
    """
    pd = load_pandas()
    numbers = pd.to_numeric(cells, errors="coerce")
    if numbers.dtype.kind != "f":
        return numbers
    if int(pd.__version__.split(".")[0]) >= 3:
        plus = [isinstance(c, str) and c.lstrip().startswith("+") for c in cells]
        if not any(plus):
            return numbers
    else:
        plus = [True] * len(numbers)
    values = numbers.to_numpy(dtype=float, copy=True)
    redo = False
    for k, cell in enumerate(cells):
        if not plus[k]:
            continue
        if isinstance(cell, str) and (values[k] == values[k] or _DECIMAL.fullmatch(cell)):
            try:
                values[k] = float(cell)
                redo = True
            except ValueError:  # (pandas' reading stands)
                pass
    if not redo:
        return numbers
    return pd.Series(values, index=numbers.index, name=numbers.name)


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
    marks = series.attrs.get(MARKS_ATTR)
    written = f" (empty, or marked {', '.join(map(repr, marks))})" if marks else ""
    return InputError(
        f"column {series.name!r} has {int(mask.sum())} missing value(s){written}, the first at "
        f"{where(mask, series)}; expected a value in every row: {fix}.",
        options={python: option},
    )


def _time_dtype(types: Any, series: Any) -> bool:
    """Whether ``series`` has a pandas type of dates or times: datetime, timedelta, period."""
    return bool(
        types.is_datetime64_any_dtype(series)
        or types.is_timedelta64_dtype(series)
        or isinstance(series.dtype, load_pandas().PeriodDtype)
    )


def is_numeric(series: Any) -> bool:
    """Whether ``series`` holds numbers (not True/False); dates or times are an error."""
    types = load_pandas().api.types
    if _time_dtype(types, series):
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
                f"{what} holds {shortened(cells[truth].iloc[0])} at {where(truth, like)}; expected "
                f"numbers, not True/False. {fix}",
                options=options,
            )
        numbers = to_numbers(cells)
        bad = numbers.isna() & series.notna()
        if bad.any():
            cell = series[bad].iloc[0]
            written = _written_number(cell)
            hint = (
                f"It looks like a number written with {' and '.join(written[0])}: write it "
                f"as a plain number ({written[1]}). "
                if written and written[0]
                else ""
            )
            raise InputError(
                f"{what} holds text ({shortened(cell)} at {where(bad, like)}); "
                f"expected numbers. {hint}{fix}",
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
MARKS_ATTR = "deltarule.marks"  # (a column's attrs: the marks read as missing, for messages)


def marks_as_missing(series: Any) -> Any:
    """A column of numbers whose other cells are all missing-value marks
    (:data:`MISSING_MARKS`): as numbers, those cells missing; so is a column of nothing but
    marks (and empty cells), as one of nothing but ``NA`` is read (every row of a column of
    numbers missing, say, in a file to predict). Any other column as it is (a '?' among
    text stays a category)."""
    if is_numeric(series):
        return series
    cells = series.astype(object)
    marks = cells.map(lambda v: isinstance(v, str) and v.strip().lower() in MISSING_MARKS)
    if not marks.any():
        return series
    rest = cells[~marks & cells.notna()]
    if rest.map(lambda v: isinstance(v, (bool, np.bool_))).any():
        return series
    numbers = to_numbers(rest)  # ('1e400': infinity, refused as such, not text)
    if numbers.isna().any():  # other text too: not a column of numbers
        return series
    out = to_numbers(cells.where(~marks))
    out.attrs = {**series.attrs, MARKS_ATTR: sorted(set(cells[marks]))}
    return out


def refuse_stray_text(series: Any, present: Any) -> None:
    """Refuse a column mostly of numbers with some text cells (a typo, a missing-value mark
    other than :data:`MISSING_MARKS`, or numbers written with thousands separators: the ones
    from 1,000 up): it would silently become one category per distinct number."""
    numbers = to_numbers(present)
    text = numbers.isna()
    n_text, n_numbers = int(text.sum()), int((~text).sum())
    if not 0 < n_text <= n_numbers or numbers.nunique() < 10:
        return
    first = present[text]
    python = "impute=..., or --impute on the command line"
    signed = signed_numbers(series, first)
    fix = (
        f"Those cells look like numbers written with {signed.signs} "
        f"({shortened(signed.example)} is {signed.number}): write them as plain numbers in the "
        "data."
        if signed is not None
        else "Fix those cells; if they mark missing values, leave them empty or write one of "
        f"{', '.join(sorted(MISSING_MARKS))} (and impute them: {python})."
    )
    raise InputError(
        f"column {series.name!r} holds numbers in {n_numbers} rows but text in {n_text}, the "
        f"first {shortened(first.iloc[0])} at {where(series.index == first.index[0], series)}; "
        f"expected numbers throughout. {fix}",
        options={python: "--impute"},
    )


_CURRENCY = "$€£¥₹"
_PLAIN = re.compile(r"(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_GROUPED = re.compile(
    r"[1-9]\d{0,2}(?P<sep>[,. '’\u00a0\u202f])\d{3}((?P=sep)\d{3})*(?P<dec>[.,]\d+)?"
)
_DECIMAL_COMMA = re.compile(r"\d*,\d+")
_SIGNS = ("thousands separators", "decimal commas", "percent signs", "currency signs")
"""How spreadsheets write numbers that a plain number reader takes for text: 1,050 /
1.234,5 / 12 345; 0,38; 45%; $138.00 or 138,00 €."""


def _written_number(cell: Any) -> tuple[tuple[str, ...], str] | None:
    """How the text ``cell`` writes a number: the signs of :data:`_SIGNS` in it (none for a
    plain number) and the number written plainly (``'$1,050.5'``: ``'1050.5'``); None when
    it is no number."""
    if isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(
        cell, (bool, np.bool_)
    ):
        return (), str(cell)  # (a number among text, in a column of Python objects)
    if not isinstance(cell, str):
        return None
    text, signs = cell.strip(), []
    if text.endswith("%"):
        text, signs = text[:-1].rstrip(), ["percent signs"]
    sign = text[:1] if text[:1] in ("+", "-") else ""
    text = text[len(sign) :]
    if text[:1] in _CURRENCY or text[-1:] in _CURRENCY:
        text, signs = text.strip(_CURRENCY).strip(), [*signs, "currency signs"]
        if not sign and text[:1] in ("+", "-"):
            sign, text = text[:1], text[1:]
    grouped = _GROUPED.fullmatch(text)
    if _PLAIN.fullmatch(text):
        number = text
    elif grouped:
        decimal = grouped["dec"] or ""
        whole = text[: len(text) - len(decimal)].replace(grouped["sep"], "")
        number, signs = whole + decimal.replace(",", "."), [*signs, "thousands separators"]
    elif _DECIMAL_COMMA.fullmatch(text):
        number, signs = text.replace(",", "."), [*signs, "decimal commas"]
    else:
        return None
    return tuple(sorted(signs, key=_SIGNS.index)), sign + number


def _marked(cell: Any) -> bool:
    return isinstance(cell, str) and cell.strip().lower() in MISSING_MARKS


class SignedNumbers(NamedTuple):
    """What :func:`signed_numbers` found: the signs (``"thousands separators or percent
    signs"``), a cell written with them, that cell as a plain number, the cell's place (for a
    message) and the column's number of distinct values."""

    signs: str
    example: str
    number: str
    at: str
    n_values: int


def signed_numbers(series: Any, present: Any) -> SignedNumbers | None:
    """When every text cell of ``present`` (the column ``series``'s present cells; missing-value
    marks aside) is a number and some are written with the signs of :data:`_SIGNS` (so that
    they are text to a number reader): which signs, an example, and the number of distinct
    values; else None."""
    cells = [cell for cell in present.unique() if not _marked(cell)]
    read = []
    for cell in cells:  # (stops at the first cell that is no number: a name, a category)
        read.append(_written_number(cell))
        if read[-1] is None:
            return None
    found = sorted({s for signs, _ in read for s in signs}, key=_SIGNS.index)
    if not found:
        return None
    example, number = next((c, r[1]) for c, r in zip(cells, read) if r[0])
    at = where(series.astype(object) == example, series)
    return SignedNumbers(" or ".join(found), example, number, at, len(cells))


_TIME = r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([AaPp][Mm]|Z|[+-]\d{2}:?\d{2})?)?"
_MONTH = (r"(?i:jan(uary)?|feb(ruary)?|mar(ch)?|apr(il)?|may|june?|july?|aug(ust)?"
          r"|sep(t(ember)?)?|oct(ober)?|nov(ember)?|dec(ember)?)\.?")  # fmt: skip
_DATE = re.compile(
    r"(\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}/\d{1,2}/(\d{2}|\d{4})"
    rf"|\d{{1,2}}\.\d{{1,2}}\.\d{{4}}|\d{{1,2}}[-/ ]{_MONTH}[-/ ](\d{{2}}|\d{{4}})"
    rf"|{_MONTH} \d{{1,2}},? \d{{4}})" + _TIME
)
"""A date as text: 2020-03-05 (with a time: 2020-03-05T14:30:00Z), 2020/03/05, 3/5/2020,
05.03.2020, 05-Mar-2020 (Excel's and Oracle's), 5 March 2020, Mar 5, 2020. (A time of day
alone, 14:30, is a slot: a category.)"""


def _dated(cell: Any) -> bool:
    if isinstance(cell, (datetime.date, datetime.time, datetime.timedelta)):
        return True
    return isinstance(cell, str) and _DATE.fullmatch(cell.strip()) is not None


def refuse_dates(series: Any) -> None:
    """Refuse a feature column of dates or times: of such a type, or text (or Python
    date objects) that are all dates; as categories, every new date would be one never seen
    in training. The fix names the column to drop."""
    types = load_pandas().api.types
    example = ""
    if not _time_dtype(types, series):
        if types.is_numeric_dtype(series) or types.is_bool_dtype(series):
            return
        cells = [cell for cell in series.dropna().unique() if not _marked(cell)]
        if not cells or not all(_dated(cell) for cell in cells):
            return
        first = cells[0]
        at = where(series.astype(object) == first, series)
        example = f" (such as {shortened(str(first))} at {at})"
    python = f"drop it from the table (df.drop(columns={series.name!r}))"
    raise InputError(
        f"column {series.name!r} holds dates or times{example}; expected numbers or text "
        "categories, and as a category every new date would be one never seen in training. "
        f"Convert it to numbers first (e.g. year, day of week), or {python}.",
        options={python: f"drop it with --drop {shlex.quote(str(series.name))}"},
    )
