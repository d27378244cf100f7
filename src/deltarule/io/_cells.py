"""The cells of delimited text, read as text by pandas, settled into numbers or text.

pandas reads a column whose every cell is a number as numbers; here, the columns it leaves
as text (:func:`settle_cells`):

* a cell of nothing but spaces or tabs is missing, as an empty one is (in every column);
* a column of numbers with missing-value marks among them (pandas' own: ``NA``, ``N/A``,
  ``null``, ``None``, ``nan``, ``#N/A``...) is numbers, those cells missing; so is a column
  of True/False (R's ``TRUE``/``FALSE``) with such marks, its cells True and False as pandas
  reads them. In a column of text the marks are text like any other value (the country
  code ``NA``, Kaggle's ``NA`` for "no alley"): there, only empty cells are missing;
* a column of whole numbers one of which is past 64 bits (``99999999999999999999``), which
  pandas leaves as Python integers, is numbers as floats, as one of 19-digit numbers is used
  (one past float's range: infinity, refused as such later);
* a column of numbers written with a decimal comma (``1,5``, ``-0,38``: spreadsheets in many
  locales, in a ``;``- or tab-separated file or quoted in a comma-separated one) is numbers,
  judged on the whole column (:func:`_decimal_comma`). A column mostly of such numbers with
  text (or numbers written with a decimal point) among them is refused, naming the first
  such cell, rather than left to become one category per number. So is a file of decimal
  commas with another column whose decimal points may group thousands (``3.012``, ``1.500``:
  every such number 1 to 999 before its point and three digits or fewer after it): a German
  ``3.012`` is 3012.

Columns the caller reads as text (``text_columns``) keep every cell as written (only empty
and blank cells are missing). Text is kept with the spaces around it (``--keep`` copies it
as written); the preprocessor matches categories and classes without them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._columns import MISSING_MARKS, to_numbers
from .._naming import shortened
from ..exceptions import InputError

__all__ = ["NA_MARKS", "READ_MARKS_ATTR", "CommaFacts", "FileEvidence", "settle_cells"]

NA_MARKS = frozenset(
    {"#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
     "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
)  # fmt: skip
"""pandas' default missing-value strings (``pandas.read_csv``'s ``na_values``): missing in a
column of numbers."""
READ_MARKS_ATTR = "deltarule.read_marks"
"""A table's ``attrs`` entry (which its columns carry too): for each column read as numbers
(or True/False) whose missing cells include marks, the marks (``{"v": ["NA", "null"]}``),
so that a message about its missing values can say how they were written."""
_TRUTH = {"True": True, "TRUE": True, "true": True, "False": False, "FALSE": False,
          "false": False}  # fmt: skip
"""pandas' default ``true_values``/``false_values``: a column of them is True/False."""
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+")
"""A decimal comma that could be a thousands separator (``1,050``)."""
_POINT_GROUPS = re.compile(r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+")
"""A decimal point that could be a thousands separator (``3.012``), as decimal commas' files
write them."""


class _Column:
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
        self.numbers = _to_numbers(pd, written)
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


@dataclass
class CommaFacts:
    """What the decision on a column's decimal commas looks at, over a chunk of rows or
    (:meth:`merged`) a whole file: counts of decimal-comma cells (``comma``), other numbers
    (``numbers``; ``dot`` of them with a decimal point) and other cells (``other``; ``text``
    when some are not the wide missing-value marks), whether a comma cannot be a thousands
    separator (``unambiguous``) and whether every number with a point may group thousands
    (``groups``); the first cell of each sort with its row, counted as ``rows`` counts."""

    comma: int = 0
    numbers: int = 0
    dot: int = 0
    other: int = 0
    text: bool = False
    unambiguous: bool = False
    groups: bool = True
    first_comma: tuple[int, str] | None = None
    first_dot: tuple[int, str] | None = None
    first_other: tuple[int, str] | None = None

    @classmethod
    def of(cls, cells: _Column, offset: int = 0) -> CommaFacts:
        """The facts of ``cells``, rows counted from ``offset``."""

        def first(mask: Any) -> tuple[int, str] | None:
            if not mask.any():
                return None
            found = cells.text[mask]
            return offset + _position(cells, found.index[0]), str(found.iloc[0])

        dotted = cells.text[cells.dot]
        return cls(comma=int(cells.comma.sum()), numbers=int(cells.is_number.sum()),
                   dot=int(cells.dot.sum()), other=int(cells.other.sum()),
                   text=bool((cells.other & ~cells.wide_marks).any()),
                   unambiguous=bool(cells.unambiguous),
                   groups=bool(dotted.str.fullmatch(_POINT_GROUPS).all()),
                   first_comma=first(cells.comma), first_dot=first(cells.dot),
                   first_other=first(cells.other))  # fmt: skip

    def merged(self, later: CommaFacts) -> CommaFacts:
        """These facts and those of the rows after them (``later``)."""
        return CommaFacts(
            comma=self.comma + later.comma, numbers=self.numbers + later.numbers,
            dot=self.dot + later.dot, other=self.other + later.other,
            text=self.text or later.text, unambiguous=self.unambiguous or later.unambiguous,
            groups=self.groups and later.groups,
            first_comma=self.first_comma or later.first_comma,
            first_dot=self.first_dot or later.first_dot,
            first_other=self.first_other or later.first_other,
        )  # fmt: skip


@dataclass(frozen=True)
class FileEvidence:
    """A whole file's say on decimal commas, for :func:`settle_cells` to settle a chunk of
    its rows as it settles the whole file: whether a column has decimal points (``points``)
    or a decimal comma that cannot separate thousands (``unambiguous``), the first column
    whose points may group thousands (``pointed``: name, row, cell), and the
    :class:`CommaFacts` of each column with decimal commas (``columns``, by the column's
    place in the frame); rows counted from the file's first, named by ``rows``."""

    rows: Callable[[int], str]
    points: bool = False
    unambiguous: bool = False
    pointed: tuple[Any, int, str] | None = None
    columns: dict[Any, CommaFacts] = field(default_factory=dict)


def _to_numbers(pd: Any, written: Any) -> Any:
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


def _text_only(column: Any) -> bool:
    """Whether every cell is text or missing (not a number, True/False...) as pandas read it."""
    if str(column.dtype) in ("str", "string"):
        return True
    return column.dtype == object and bool(
        column.dropna().map(lambda value: isinstance(value, str)).all()
    )


def _big_integers(pd: Any, column: Any) -> Any:
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


def _fractions(column: Any) -> Any:
    """Whether each number of a column of numbers has a fractional part (a decimal point);
    None for a column of whole numbers."""
    if column.dtype.kind != "f":
        return None
    values = column.to_numpy()
    return np.isfinite(values) & (values != np.round(values))


def _grouped(column: Any, fractions: Any) -> tuple[int, str] | None:
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
    """For :func:`_grouped`: None where a number with a fraction cannot have its point
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


def _marks_error(
    comma: tuple[Any, str], point: tuple[Any, int, str], rows: Callable[[int], str]
) -> InputError:
    """The error for a file with decimal commas in one column and decimal points in another
    (``comma``: the first's name and its first such cell, placed; ``point``: the other's
    name, row and cell)."""
    name, cell = point[0], point[2]
    grouped = _POINT_GROUPS.fullmatch(cell)
    meant = f", as {cell} for {cell.replace('.', '')}" if grouped else ""
    return InputError(
        f"column {comma[0]!r} holds numbers written with a decimal comma ({comma[1]}) but "
        f"column {name!r} numbers written with a decimal point ({shortened(cell)} at "
        f"{rows(point[1])}); expected one decimal mark in a file. A point among decimal "
        f"commas usually separates thousands{meant}: write the numbers without thousands "
        "separators, or all with a decimal point (1.5), and read the file again."
    )


def _decimal_comma(sep: str, facts: CommaFacts, points: bool, unambiguous: bool) -> bool:
    """Whether a column's commas between digits are decimal marks: where one cannot be a
    thousands separator (``1,5``, ``0,125``, ``1234,5``), or, in a file whose numbers are
    never written with a decimal point, where another column says so or the separator is a
    semicolon. A comma-separated file has its numbers with commas quoted: ``"1,5"``; there,
    the file's other numbers must have no decimal point either (a quoted ``"3,4"`` beside
    ``2.5`` is a pair, not a number)."""
    if sep == ",":
        return unambiguous and not points
    return facts.unambiguous or ((sep == ";" or unambiguous) and not points)


def _placed(first: tuple[int, str] | None, rows: Callable[[int], str]) -> str:
    """A first cell and its place, as messages show them (``'1,5' at line 3 of ...``)."""
    row, cell = first if first is not None else (0, "")  # (a count above 0 has a first)
    return f"{shortened(cell)} at {rows(row)}"


def _mixed_error(name: Any, facts: CommaFacts, rows: Callable[[int], str]) -> InputError:
    """The error for a column of decimal-comma numbers with other cells among them."""
    first_comma = _placed(facts.first_comma, rows)
    if facts.dot:
        return InputError(
            f"column {name!r} holds numbers written with a decimal comma ({first_comma}) and "
            f"with a decimal point ({_placed(facts.first_dot, rows)});"
            " expected one decimal mark throughout. Write them all one way (with a decimal "
            "point, 1.5, they are read in any file)."
        )
    n_numbers = facts.comma + facts.numbers
    return InputError(
        f"column {name!r} holds numbers written with a decimal comma (such as {first_comma}) "
        f"in {n_numbers} rows but text in {facts.other}, the first "
        f"{_placed(facts.first_other, rows)}; expected numbers throughout (it would otherwise "
        "become one category per distinct value). Fix those cells; if they mark missing "
        "values, leave them empty or write NA."
    )


def _mostly_decimal_commas(facts: CommaFacts) -> bool:
    """Whether decimal-comma numbers (and whole numbers) outnumber the column's other cells
    (text, and numbers with a decimal point)."""
    return facts.other + facts.dot <= facts.comma + facts.numbers - facts.dot


def _position(cells: _Column, label: Any) -> int:
    return int(cells.text.index.get_loc(label))


def settle_cells(
    frame: Any,
    names: list[Any],
    sep: str,
    text_columns: Collection[Any],
    needed: Collection[Any] | None,
    rows: Callable[[int], str],
    evidence: FileEvidence | None = None,
) -> Any:
    """Settle the text columns of ``frame`` (columns in the file's order, named ``names``)
    into numbers or text as the module's docstring says; returns the frame, whose
    ``attrs[READ_MARKS_ATTR]`` names the marks read as missing, by column.

    Columns outside ``needed`` (when given) only have their blank cells made missing.
    ``rows(i)`` names row ``i``'s place in the file, for messages. ``evidence``, for a
    chunk of a file's rows: decimal commas are judged on the whole file's evidence (its
    points, its columns' decimal commas), not on the chunk's.

    Raises
    ------
    InputError
        For a column mostly of decimal-comma numbers with text or decimal points among them.
    """
    import pandas as pd

    sorted_cells: dict[int, _Column] = {}
    points = False
    pointed = None  # the first needed column whose points may group thousands: name, row, cell
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        name = names[i]
        if not _text_only(column):
            if needed is None or name in needed:
                big = _big_integers(pd, column)
                if big is not None:  # (not a column of categories, one per number)
                    frame.isetitem(i, big)
                    continue
            fractions = _fractions(column)
            if fractions is None or not fractions.any():
                continue
            points = True
            if pointed is None and (needed is None or name in needed):
                grouped = _grouped(column, fractions)
                pointed = None if grouped is None else (name, *grouped)
            continue
        cells = _Column(pd, column)
        if cells.blank.any():
            frame.isetitem(i, column.mask(cells.blank))
        if name in text_columns or (needed is not None and name not in needed):
            continue
        sorted_cells[i] = cells
        points = points or bool(cells.dot.any())
        if cells.dot.any() and not cells.comma.any() and not cells.other.any() and not pointed:
            dotted = cells.text[cells.dot]
            if dotted.str.fullmatch(_POINT_GROUPS).all():
                pointed = (name, _position(cells, dotted.index[0]), str(dotted.iloc[0]))
    unambiguous = any(cells.unambiguous for cells in sorted_cells.values())
    file_rows = rows
    if evidence is not None:
        points, unambiguous, pointed = evidence.points, evidence.unambiguous, evidence.pointed
        file_rows = evidence.rows
    read_marks: dict[Any, list[str]] = {}
    for i, cells in sorted_cells.items():
        if cells.marks.any():
            read_marks[names[i]] = sorted(set(cells.text[cells.marks]))
        facts, where = None, file_rows
        if evidence is not None:
            facts = evidence.columns.get(i)
        if facts is None:
            facts, where = CommaFacts.of(cells), rows
        if not facts.comma:
            if not cells.other.any():  # numbers (and marks, blanks): numbers
                frame.isetitem(i, cells.numbers)
            elif cells.marks.any() and (truth := cells.truth()) is not None:
                frame.isetitem(i, truth)
            else:
                read_marks.pop(names[i], None)  # (text: its marks are values)
            continue
        if not _decimal_comma(sep, facts, points, unambiguous):
            read_marks.pop(names[i], None)
            continue  # (commas that may be thousands separators: left as written)
        if not facts.text and not facts.dot:
            if pointed is not None:  # (a point beside decimal commas: thousands, likely)
                first = _placed(facts.first_comma, where)
                raise _marks_error((names[i], first), pointed, file_rows)
            frame.isetitem(i, cells.numbers)  # (the wide marks' cells: missing)
            if cells.wide_marks.any():
                marks = set(cells.text[cells.wide_marks | cells.marks])
                read_marks[names[i]] = sorted(marks)
        elif _mostly_decimal_commas(facts):
            raise _mixed_error(names[i], facts, where)
        else:
            read_marks.pop(names[i], None)
    if read_marks:
        frame.attrs[READ_MARKS_ATTR] = read_marks
    return frame
