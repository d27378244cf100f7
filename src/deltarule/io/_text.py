"""Delimited text as the readers see it: opened plain or gzip-compressed, and its records
located by line, so that a message about data row 3 can name the line of the file it is on.

A record is what pandas reads as one row: blank lines (nothing but spaces or tabs that are
not the separator) are skipped, and a quoted value may span lines, so row ``i`` is on line
``i + 1`` only for files without either. The lines are found only when a message needs
them (an extra pass over the file with the :mod:`csv` module); should that pass disagree
with pandas on the number of rows, messages fall back to row numbers alone.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["GZIP_ERRORS", "RowLines", "is_gzip", "open_binary", "open_text", "records"]

GZIP_ERRORS = (OSError, EOFError, zlib.error)
"""What reading a damaged gzip stream raises (``gzip.BadGzipFile`` is an OSError)."""


def is_gzip(file: Path) -> bool:
    """Whether ``file`` starts with gzip's magic bytes (whatever its name says)."""
    with open(file, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def open_binary(file: Path) -> IO[bytes]:
    """Open ``file`` for reading bytes, decompressing it when it is gzip."""
    return gzip.open(file, "rb") if is_gzip(file) else open(file, "rb")


def open_text(file: Path) -> IO[str]:
    """Open ``file`` as UTF-8 text (a byte-order mark dropped, bad bytes replaced), with its
    line endings as they are, through gzip when it is compressed."""
    return io.TextIOWrapper(open_binary(file), encoding="utf-8-sig", errors="replace", newline="")


def records(file: Path, sep: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, fields)`` for each record pandas reads, the header first.

    ``line`` is the line (counted from 1) the record starts on. Raises ``csv.Error`` on
    text the :mod:`csv` module cannot split (a field past its size limit).
    """
    blank = " \t".replace(sep, "")
    with open_text(file) as handle:
        reader = csv.reader(handle, delimiter=sep)
        start = 1
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not fields or (len(fields) == 1 and not fields[0].strip(blank)):
                continue
            yield line, fields


class RowLines:
    """Names row ``i`` of a table read from a delimited file by the line it starts on.

    Parameters
    ----------
    file : Path
    sep : str
        The separator the table was read with.
    n_rows : int
        How many rows pandas read (a check that both passes agree).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text('a,b\\n\\n1,"x\\ny"\\n2,z\\n')
    >>> RowLines(path, ",", 2)(1)
    "line 5 of 'd.csv' (data row 2)"
    """

    def __init__(self, file: Path, sep: str, n_rows: int) -> None:
        self.file, self.sep, self.n_rows = file, sep, n_rows
        self._lines: list[int] | None = None

    def _find_lines(self) -> list[int]:
        try:
            lines = [line for line, _ in records(self.file, self.sep)][1:]
        except (csv.Error, *GZIP_ERRORS):
            return []
        return lines if len(lines) == self.n_rows else []

    def __call__(self, row: int) -> str:
        """Describe row ``row`` (counted from 0) for a message."""
        if self._lines is None:
            self._lines = self._find_lines()
        if not 0 <= row < len(self._lines):
            return f"row {row + 1} of {self.file.name!r} (data rows counted from 1)"
        return f"line {self._lines[row]} of {self.file.name!r} (data row {row + 1})"

    def __deepcopy__(self, memo: dict[int, Any]) -> RowLines:
        return self  # pandas deep-copies a frame's attrs with every new column or mask
