"""A delimited file's evidence on decimal commas, gathered a chunk of rows at a time
(:func:`file_evidence`), so that a file read a chunk at a time has each chunk's decimal
commas judged as a whole reading judges them (:func:`~deltarule.io._cells.settle_cells`
given a :class:`FileEvidence`, which holds each column's :class:`CommaFacts`).

A whole reading judges a column's commas on the whole file: its columns' decimal points
(a column of numbers with a fraction, or a column of text with numbers written with a
point), a comma anywhere that cannot separate thousands (``1,5``), the first column whose
points may all group thousands (``3.012``), and the column's own counts and first cells.
Here each is gathered from chunks of the file read twice over, as the reading reads it
(pandas' types: a column is numbers only where every chunk's is) and as text (the cells
as written, should the whole column be text). Only a file that may hold a number with a
decimal comma needs it (:func:`may_hold_comma_numbers`, a scan of its bytes).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._cell_kinds import (
    POINT_GROUPS,
    Column,
    big_integers,
    fraction_mask,
    group_places,
    position,
    text_only,
)
from ._text import GZIP_ERRORS

__all__ = ["CommaFacts", "FileEvidence", "file_evidence", "may_hold_comma_numbers"]

_DIGITS_COMMA = re.compile(rb"[0-9\x80-\xff],[0-9\x80-\xff]")
"""A comma between digits (or bytes of non-ASCII text, which may be digits too)."""


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
    def of(cls, cells: Column, offset: int = 0) -> CommaFacts:
        """The facts of ``cells``, rows counted from ``offset``."""

        def first(mask: Any) -> tuple[int, str] | None:
            if not mask.any():
                return None
            found = cells.text[mask]
            return offset + position(cells, found.index[0]), str(found.iloc[0])

        dotted = cells.text[cells.dot]
        return cls(comma=int(cells.comma.sum()), numbers=int(cells.is_number.sum()),
                   dot=int(cells.dot.sum()), other=int(cells.other.sum()),
                   text=bool((cells.other & ~cells.wide_marks).any()),
                   unambiguous=bool(cells.unambiguous),
                   groups=bool(dotted.str.fullmatch(POINT_GROUPS).all()),
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
    """A whole file's say on decimal commas, for :func:`~._cells.settle_cells` to settle a
    chunk of its rows as it settles the whole file: whether a column has decimal points (``points``)
    or a decimal comma that cannot separate thousands (``unambiguous``), the first column
    whose points may group thousands (``pointed``: name, row, cell), and the
    :class:`CommaFacts` of each column with decimal commas (``columns``, by the column's
    place in the frame); rows counted from the file's first, named by ``rows``."""

    rows: Callable[[int], str]
    points: bool = False
    unambiguous: bool = False
    pointed: tuple[Any, int, str] | None = None
    columns: dict[Any, CommaFacts] = field(default_factory=dict)


def may_hold_comma_numbers(file: Path, sep: str, compressed: bool) -> bool:
    """Whether ``file`` (separated by ``sep``, gzip-compressed or not) may hold a number
    written with a decimal comma: in a comma-separated file only a quoted cell can (any
    ``"``); in another, a comma between digits. True when unsure (a damaged stream)."""
    opener: Callable[..., Any] = gzip.open if compressed else open
    tail = b""
    try:
        with opener(file, "rb") as handle:
            while block := handle.read(1 << 20):
                if b'"' in block if sep == "," else _DIGITS_COMMA.search(tail + block):
                    return True
                tail = block[-2:]
    except GZIP_ERRORS:
        return True
    return False


class _Gathered:
    """One column's evidence so far: the kinds of its chunks as pandas read them
    (``num``, ``text``, ``other``: True/False), its numbers' fractions (any; all may group
    thousands; the first with a third decimal and the first, placed), and the facts of its
    cells as text."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.fraction, self.groups = False, True
        self.third: tuple[int, str] | None = None
        self.first: tuple[int, str] | None = None
        self.facts = CommaFacts()

    def add_numbers(self, pd: Any, column: Any, offset: int, placed: bool) -> None:
        """Add a chunk's column as pandas read it (``placed``: look for grouped points)."""
        if text_only(column):
            self.kinds.add("text")
            return
        if column.dtype.kind not in "iuf" and big_integers(pd, column) is None:
            self.kinds.add("other")
            return
        if column.dtype.kind == "f" and column.isna().all():
            return  # (a chunk of empty cells: any column's)
        self.kinds.add("num")
        fractions = fraction_mask(column)
        if fractions is None or not fractions.any():
            return
        self.fraction = True
        places = group_places(column, fractions) if placed and self.groups else None
        if places is None:
            self.groups = False
            return
        third, first = places
        if self.third is None and third is not None:
            self.third = (offset + third, repr(float(column.iloc[third])))
        if self.first is None:
            self.first = (offset + first, repr(float(column.iloc[first])))

    def numbers(self) -> bool:
        """Whether the whole column is numbers as pandas reads it."""
        return self.kinds <= {"num"}


def file_evidence(
    pairs: Iterable[tuple[Any, Any]], names: list[Any], text_columns: Collection[Any],
    needed: Collection[Any] | None, rows: Callable[[int], str],
) -> FileEvidence:  # fmt: skip
    """The whole file's evidence on decimal commas from its chunks, each given twice:
    ``(as read, as text)`` (columns in the file's order, named ``names``; the parameters
    are :func:`~deltarule.io._cells.settle_cells`'s); ``rows`` names the file's rows."""
    import pandas as pd

    gathered = [_Gathered() for _ in names]
    judged = [name not in text_columns and (needed is None or name in needed) for name in names]
    offset = 0
    for frame, text in pairs:
        for i, column in enumerate(gathered):
            column.add_numbers(pd, frame.iloc[:, i], offset, judged[i])
            if judged[i]:
                later = CommaFacts.of(Column(pd, text.iloc[:, i]), offset)
                column.facts = column.facts.merged(later)
        offset += len(frame)
    points = unambiguous = False
    pointed: tuple[Any, int, str] | None = None
    columns: dict[Any, CommaFacts] = {}
    for i, column in enumerate(gathered):
        facts = column.facts
        if column.numbers():
            points = points or column.fraction
            first = column.third or column.first
            if pointed is None and judged[i] and column.groups and first is not None:
                pointed = (names[i], *first)
            continue
        if column.kinds == {"other"} or not judged[i]:
            continue
        points = points or facts.dot > 0
        unambiguous = unambiguous or facts.unambiguous
        grouped = facts.dot and not facts.comma and not facts.other and facts.groups
        if pointed is None and grouped and facts.first_dot is not None:
            pointed = (names[i], *facts.first_dot)
        if facts.comma:
            columns[i] = facts
    return FileEvidence(rows=rows, points=points, unambiguous=unambiguous,
                        pointed=pointed, columns=columns)  # fmt: skip
