"""The separator of delimited text: given (:func:`check_separator`), or guessed for a ``.csv``
or ``.txt`` file (:func:`sniff_separator`) from its first lines, quotes respected.

A spreadsheet in many locales saves ``a;b`` with decimal commas (``1,5``), Excel's "Text
(tab delimited)" tabs, and a header may hold a separator inside a name (``Preis (EUR,
netto);Menge``). So each candidate (comma, semicolon, tab) splits the header and the lines
after it as :mod:`csv` does (a quoted value keeps its separators), and the one that splits
them into the same number of fields (at least two), line after line, wins; among several,
the one that makes the most columns, then tab, semicolon, comma in that order: when two
split every line into as many fields, every line holds both, and the one more often part of
a value is the comma (decimal commas, ``EUR, netto``), rarely a semicolon, hardly ever a
tab (a ``;`` file has commas in its values: that is why spreadsheets write it). Other
separators (``|``, runs of spaces) are never guessed: they are given (``--sep``).
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

from ..exceptions import InputError
from ._text import GZIP_ERRORS, WHITESPACE, is_empty, open_text

__all__ = ["CANDIDATES", "check_separator", "separator_name", "sniff_separator"]

CANDIDATES = ("\t", ";", ",")
"""The separators guessed, in the order a tie is broken (the one least often inside a value
first)."""
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
    candidate splits the header into two or more columns)."""
    try:
        lines, whole = _head(file)
    except GZIP_ERRORS:  # a damaged gzip file: reported when pandas reads it
        return ","
    scored = []
    for order, sep in enumerate(CANDIDATES):
        rows = _fields(lines, sep, whole)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        body = [row for row in rows[1:] if not is_empty(row)]
        share = sum(len(row) == width for row in body) / len(body) if body else 1.0
        scored.append((share >= _CONSISTENT, width if share >= _CONSISTENT else share, -order))
    return CANDIDATES[-max(scored)[2]] if scored else ","
