"""The separator of delimited text: given (:func:`check_separator`), or guessed for a ``.csv``
or ``.txt`` file (:func:`sniff_separator`) from its first lines, quotes respected.

A spreadsheet in many locales saves ``a;b`` with decimal commas (``1,5``), Excel's "Text
(tab delimited)" tabs, and a header may hold a separator inside a name (``Preis (EUR,
netto);Menge``). So each candidate (comma, semicolon, tab) splits the header and the lines
after it as :mod:`csv` does (a quoted value keeps its separators), and the one that splits
them into the same number of fields (at least two), line after line, wins; among several,
the one that makes the most columns. When two split the lines into as many columns (the
header too: ``Preis (EUR, netto);Menge`` with ``1,05;a``, or a file without a header of
``blue;green,y``), either reading may be meant, and guessing wrong reads other columns
without a word: the file is refused, naming both readings, and the separator is given
(``sep``, ``--sep``). Other separators (``|``, runs of spaces) are never guessed: they are
given too.
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

from ..exceptions import InputError
from ._text import GZIP_ERRORS, WHITESPACE, is_empty, open_text

__all__ = ["CANDIDATES", "check_separator", "separator_name", "sniff_separator"]

CANDIDATES = (",", ";", "\t")
"""The separators guessed."""
_LINES = 200
"""How many lines the guess reads."""
_CONSISTENT = 0.9
"""The share of lines under the header that must split into as many fields as it does."""
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "'|'", " ": "space",
          WHITESPACE: "whitespace (runs of spaces and tabs)"}  # fmt: skip


def separator_name(sep: str) -> str:
    """How messages name ``sep``: ``comma``, ``tab``, ``'|'``..."""
    return _NAMES.get(sep, repr(sep))


def check_separator(sep: str) -> str:
    """``sep`` as the readers take it: one character that cannot be part of a value
    written as text or a number (not a letter, digit, quote, ``.``, ``-``, ``+`` or a line
    break), or :data:`~deltarule.io._text.WHITESPACE` (``" "`` is taken as it: a run of
    spaces and tabs)."""
    if sep in (WHITESPACE, " "):
        return WHITESPACE
    if not isinstance(sep, str) or len(sep) != 1 or sep.isalnum() or sep in "\"'.-+\r\n":
        raise InputError(
            f"sep={sep!r} cannot separate columns; expected one character such as ',', ';', "
            "'\\t' or '|' (not a letter, digit, quote, point, sign or line break), or "
            f"{WHITESPACE!r} for runs of spaces and tabs."
        )
    return sep


def _head(file: Path) -> tuple[list[str], bool]:
    """The first :data:`_LINES` lines of ``file``, and whether that is all of it."""
    with open_text(file) as handle:
        lines = list(itertools.islice(handle, _LINES + 1))
    return lines[:_LINES], len(lines) <= _LINES


def _fields(lines: list[str], sep: str, whole: bool) -> list[list[str]]:
    """The records of ``lines`` split by ``sep``, blank lines left out (and the last record
    when the file goes on: it may be cut)."""
    try:
        rows = list(csv.reader(lines, delimiter=sep, skipinitialspace=True))
    except csv.Error:  # (a field past csv's size limit: not this separator's fault)
        return []
    rows = [row for row in rows if row and not (len(row) == 1 and not row[0].strip())]
    return rows if whole or len(rows) < 2 else rows[:-1]


def sniff_separator(file: Path) -> str:
    """The separator of a ``.csv``/``.txt`` file: see the module's docstring (comma when no
    candidate splits the header into two or more columns).

    Raises
    ------
    InputError
        When two candidates split the lines alike (as many columns, as consistently): the
        file's two readings, and the separator to give."""
    try:
        lines, whole = _head(file)
    except GZIP_ERRORS:  # a damaged gzip file: reported when pandas reads it
        return ","
    scored, first = [], {}
    for sep in CANDIDATES:
        rows = _fields(lines, sep, whole)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = [row for row in rows[1:] if not is_empty(row)]
        share = sum(len(row) == width for row in body) / len(body) if body else 1.0
        scored.append(((share >= _CONSISTENT, width if share >= _CONSISTENT else share), sep))
        first[sep] = rows[0]
    if not scored:
        return ","
    best = max(score for score, _ in scored)
    tied = [sep for score, sep in scored if score == best]
    if len(tied) > 1 and best[0]:
        raise _ambiguous(file, tied, first)
    return tied[0]


def _ambiguous(file: Path, tied: list[str], first: dict[str, list[str]]) -> InputError:
    """The error for a file that two separators split alike."""
    readings = "; ".join(
        f"by {separator_name(sep)} its first line is {', '.join(repr(f) for f in first[sep])}"
        for sep in tied
    )
    return InputError(
        f"{str(file)!r} splits into {len(first[tied[0]])} columns by "
        f"{' and by '.join(separator_name(sep) for sep in tied)} alike, on every line: "
        f"{readings}; expected one way to read it. Give the separator: sep={tied[1]!r} "
        f"(or sep={tied[0]!r}).",
        options={"sep=": "--sep "},
    )
