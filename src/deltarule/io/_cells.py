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

from collections.abc import Callable, Collection
from typing import Any

from .._naming import shortened
from ..exceptions import InputError
from ._cell_kinds import (
    POINT_GROUPS,
    Column,
    big_integers,
    fraction_mask,
    grouped_point,
    position,
    text_only,
)
from ._cell_kinds import parsed_numbers as _to_numbers  # noqa: F401 - (its former name here)
from ._comma_evidence import CommaFacts, FileEvidence

__all__ = ["READ_MARKS_ATTR", "settle_cells"]

READ_MARKS_ATTR = "deltarule.read_marks"
"""A table's ``attrs`` entry (which its columns carry too): for each column read as numbers
(or True/False) whose missing cells include marks, the marks (``{"v": ["NA", "null"]}``),
so that a message about its missing values can say how they were written."""


def _marks_error(
    comma: tuple[Any, str], point: tuple[Any, int, str], rows: Callable[[int], str]
) -> InputError:
    """The error for a file with decimal commas in one column and decimal points in another
    (``comma``: the first's name and its first such cell, placed; ``point``: the other's
    name, row and cell)."""
    name, cell = point[0], point[2]
    grouped = POINT_GROUPS.fullmatch(cell)
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

    sorted_cells: dict[int, Column] = {}
    points = False
    pointed = None  # the first needed column whose points may group thousands: name, row, cell
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        name = names[i]
        if not text_only(column):
            if needed is None or name in needed:
                big = big_integers(pd, column)
                if big is not None:  # (not a column of categories, one per number)
                    frame.isetitem(i, big)
                    continue
            fractions = fraction_mask(column)
            if fractions is None or not fractions.any():
                continue
            points = True
            if pointed is None and (needed is None or name in needed):
                grouped = grouped_point(column, fractions)
                pointed = None if grouped is None else (name, *grouped)
            continue
        cells = Column(pd, column)
        if cells.blank.any():
            frame.isetitem(i, column.mask(cells.blank))
        if name in text_columns or (needed is not None and name not in needed):
            continue
        sorted_cells[i] = cells
        points = points or bool(cells.dot.any())
        if cells.dot.any() and not cells.comma.any() and not cells.other.any() and not pointed:
            dotted = cells.text[cells.dot]
            if dotted.str.fullmatch(POINT_GROUPS).all():
                pointed = (name, position(cells, dotted.index[0]), str(dotted.iloc[0]))
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
