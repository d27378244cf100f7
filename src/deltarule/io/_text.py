"""Delimited text as the readers see it: opened plain or gzip-compressed, and its records
located by line, so that a message about data row 3 can name the line of the file it is on.

A record is what pandas reads as one row: blank lines (nothing but spaces or tabs that are
not the separator) are skipped, and a quoted value may span lines, so row ``i`` is on line
``i + 1`` only for files without either. Spaces after a separator are skipped (pandas'
``skipinitialspace``, as the readers read), and the separator :data:`WHITESPACE` is any run
of spaces and tabs. The lines are found only when a message needs them (an extra pass over
the file with the :mod:`csv` module); should that pass disagree with pandas on the number of
rows, messages fall back to row numbers alone.
"""

from __future__ import annotations

import csv
import gzip
import io
import string
import zlib
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

__all__ = [
    "GZIP_ERRORS",
    "SCAN_BYTES",
    "WHITESPACE",
    "RowLines",
    "blank_lines",
    "is_empty",
    "is_gzip",
    "may_hold_codes",
    "open_binary",
    "open_text",
    "records",
]

WHITESPACE = "whitespace"
"""The separator of whitespace-separated text (UCI's housing.data): any run of spaces and
tabs, with spaces at either end of a line ignored (pandas' ``sep=r"\\s+"``)."""

GZIP_ERRORS = (OSError, EOFError, zlib.error)
"""What reading a damaged gzip stream raises (``gzip.BadGzipFile`` is an OSError)."""


def is_gzip(file: Path) -> bool:
    """Whether ``file`` starts with gzip's magic bytes (whatever its name says)."""
    with open(file, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def open_binary(file: Path) -> IO[bytes]:
    """Open ``file`` for reading bytes, decompressing it when it is gzip."""
    return gzip.open(file, "rb") if is_gzip(file) else open(file, "rb")


@lru_cache(maxsize=1)
def _in_value() -> Any:
    """Bytes after which a value does not start, as a bool array by byte: no separator is a
    letter, digit or point (:func:`deltarule.io._separators.check_separator`)."""
    import numpy as np

    table = np.zeros(256, dtype=bool)
    table[np.frombuffer((string.digits + string.ascii_letters + ".").encode(), np.uint8)] = True
    return table


SCAN_BYTES = 1 << 22
"""Bytes of a file looked at at once by :func:`may_hold_codes` (4 MiB: fastest measured)."""


def may_hold_codes(file: Path) -> bool:
    """Whether some value of the text table ``file`` (gzip-compressed or not) may be written
    like a code, a whole number with a leading zero (``01``; the command line's
    ``_train_data._CODE``). False proves that none is, so that the target need not be read
    again as written. A value ``[space][sign]0D`` (D a digit, maybe not ASCII) is, in the
    file's bytes, a ``0`` after a byte that is no ASCII letter, digit or point (a separator,
    sign, space, quote, line break or byte-order mark), followed by D's first byte (an ASCII
    digit or a byte of 0x80 and over) or by a quote (``"0"1`` reads as ``01``). Such a pair
    anywhere (in any column: ``1.05`` is no match, ``1e-05`` is) answers True, as does a
    Parquet file or one that cannot be read. About 0.07 s for 160 MB, where pandas reads
    the column alone in 0.9 s."""
    import numpy as np

    in_value = _in_value()
    try:
        with open_binary(file) as handle:
            block = handle.read(SCAN_BYTES)
            if block.startswith(b"PAR1"):
                return True
            tail = b"\n"  # (the byte before the first: a line break)
            while block:
                data = tail + block
                octets = np.frombuffer(data, dtype=np.uint8)
                digit = (octets - np.uint8(48)) < 10
                zeros = np.flatnonzero((octets[1:-1] == 48) & ~digit[:-2]) + 1
                zeros = zeros[~in_value[octets[zeros - 1]]]
                after = octets[zeros + 1]
                if (digit[zeros + 1] | (after == 34) | (after >= 0x80)).any():
                    return True
                tail = data[-2:]  # (its last byte, a 0, is looked at with the next block)
                block = handle.read(SCAN_BYTES)
    except GZIP_ERRORS:
        return True
    return False


def open_text(file: Path) -> IO[str]:
    """Open ``file`` as UTF-8 text (a byte-order mark dropped, bad bytes replaced), with its
    line endings as they are, through gzip when it is compressed."""
    return io.TextIOWrapper(open_binary(file), encoding="utf-8-sig", errors="replace", newline="")


def _split(handle: Iterable[str], sep: str) -> Any:
    """A :func:`csv.reader` of ``handle`` as pandas splits it with ``sep`` (spaces after a
    separator skipped; :data:`WHITESPACE`: runs of spaces and tabs as one separator)."""
    if sep == WHITESPACE:  # (a quoted value keeps its quotes' meaning; runs are one space)
        handle = (" ".join(line.split()) + "\n" for line in handle)
        sep = " "
    return csv.reader(handle, delimiter=sep, skipinitialspace=True)


def is_empty(fields: list[str]) -> bool:
    """Whether a record is nothing but separators and spaces (Excel's ``,,`` rows)."""
    return not any(field.strip() for field in fields)


def _lines(file: Path, sep: str) -> Iterator[tuple[int, list[str], bool]]:
    """Yield ``(line, fields, blank)`` for each record of ``file``, blank ones too: the line
    (counted from 1) it starts on, its fields, and whether it is a blank line (which the
    reader leaves out)."""
    blank = " \t".replace(sep, "")
    with open_text(file) as handle:
        reader = _split(handle, sep)
        start = 1
        for fields in reader:
            line, start = start, reader.line_num + 1
            yield line, fields, not fields or (len(fields) == 1 and not fields[0].strip(blank))


def records(file: Path, sep: str) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, fields)`` for each record pandas reads, the header first.

    ``line`` is the line (counted from 1) the record starts on. Raises ``csv.Error`` on
    text the :mod:`csv` module cannot split (a field past its size limit).
    """
    for line, fields, blank in _lines(file, sep):
        if not blank:
            yield line, fields


def blank_lines(file: Path, sep: str) -> list[int]:
    """The blank lines (counted from 1) among a file's records: after the first record and
    before the last (those at the end are nothing), which the reader leaves out."""
    found, last = [], 0
    for line, _, blank in _lines(file, sep):
        if blank:
            found.append(line)
        else:
            last = line
    return [line for line in found if 1 < line < last]


class RowLines:
    """Names row ``i`` of a table read from a delimited file by the line it starts on.

    Parameters
    ----------
    file : Path
    sep : str
        The separator the table was read with (or :data:`WHITESPACE`).
    n_rows : int
        How many rows were read (a check that both passes agree; records of nothing but
        separators after them, which the reader leaves out, are left out here too).
    header : bool
        Whether the first record is the header (else it is data row 1).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text('a,b\\n\\n1,"x\\ny"\\n2,z\\n')
    >>> RowLines(path, ",", 2)(1)
    "line 5 of 'd.csv' (data row 2)"
    """

    def __init__(self, file: Path, sep: str, n_rows: int, header: bool = True) -> None:
        self.file, self.sep, self.n_rows, self.header = file, sep, n_rows, header
        self._lines: list[int] | None = None

    def _find_lines(self) -> list[int]:
        try:
            found = list(records(self.file, self.sep))[1 if self.header else 0 :]
        except (csv.Error, *GZIP_ERRORS):
            return []
        while len(found) > self.n_rows and is_empty(found[-1][1]):
            found.pop()  # (trailing rows of separators: not read)
        return [line for line, _ in found] if len(found) == self.n_rows else []

    def __call__(self, row: int) -> str:
        """Describe row ``row`` (counted from 0) for a message."""
        if self._lines is None:
            self._lines = self._find_lines()
        if not 0 <= row < len(self._lines):
            return f"row {row + 1} of {self.file.name!r} (data rows counted from 1)"
        return f"line {self._lines[row]} of {self.file.name!r} (data row {row + 1})"

    def __deepcopy__(self, memo: dict[int, Any]) -> RowLines:
        return self  # pandas deep-copies a frame's attrs with every new column or mask
