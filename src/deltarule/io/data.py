"""Reading users' data files for the command line: tables (CSV, TSV, Parquet); .npz arrays
in :mod:`.npz`.

The parsing is done by pandas and pyarrow (imported only when needed); this
module's job is to turn every way a file can be unusable into an
:class:`~deltarule.exceptions.InputError` that says what is wrong, what was
expected and how to fix it: a missing file, an empty one, a header without
rows, a line with too many or too few fields, bytes that are not UTF-8, duplicate or
empty column names, and a file that is something
else altogether (a model file, a zip archive, UTF-16 text: see :mod:`._foreign`).

Text files are read as UTF-8 (a byte-order mark is fine) with any line endings, plain
or gzip-compressed (``data.csv.gz``). The separator is the extension's (tab for ``.tsv``),
guessed for ``.csv`` and ``.txt`` among comma, semicolon and tab from the first lines
(:mod:`._separators`), or given (``sep``: ``'|'``, ``'whitespace'``...). Spaces after a
separator are skipped, in the header and in cells (pandas' ``skipinitialspace``: ``a, b``
names the columns ``a`` and ``b``), and column names lose the spaces around them. A line
with fewer fields than the header is refused, naming it, as one with more is; lines of
nothing but separators at the end (Excel's ``,,`` rows) are left out, as blank lines are
(a file of one column warns about those among its rows: there an empty line may have meant
a missing value), and so is a nameless column that is empty in every row (a separator
ending every line).
A cell of nothing but spaces is missing like an empty one; missing-value marks such as
``NA`` are missing in a column of numbers, and text like any other in a column of text;
numbers written with a decimal comma (``1,5``) are numbers (:mod:`._cells`); preprocessing
then reports missing values by column and row. A file without a header line is read with
``header=False``, its columns named ``'0'``, ``'1'``, ...; a header whose every name is a
number is warned about (:class:`~deltarule.exceptions.DataWarning`: the first line looks
like data). Columns the caller knows hold text (``text_columns``: categories such as
``01`` or ``A7``) are read as written, never as numbers. Each table carries, in
``attrs[ROWS_ATTR]``, a function that names the line (or row) of the file a row
came from, for messages about it.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "data.csv"
>>> _ = path.write_text("x,label\\n1.5,a\\n2.0,b\\n")
>>> read_table(path).shape
(2, 2)
>>> read_table(path, text_columns=["x"])["x"].tolist()
['1.5', '2.0']
"""

from __future__ import annotations

import contextlib
import csv
import decimal
import importlib
import os
import re
import tokenize
import warnings
import zipfile
import zlib
from collections import Counter
from collections.abc import Collection, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from .._memory import available_memory
from .._naming import ROWS_ATTR, listed
from .._reading import check_readable
from ..exceptions import DataWarning, InputError
from ._cells import settle_cells
from ._foreign import check_table_bytes
from ._separators import check_separator, separator_name, sniff_separator
from ._text import (
    GZIP_ERRORS,
    WHITESPACE,
    RowLines,
    blank_lines,
    is_empty,
    open_binary,
    open_text,
    records,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ROWS_ATTR", "TABLE_FORMATS", "WHITESPACE", "FileRows", "read_table"]

TABLE_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
"""File extension -> table format read by :func:`read_table` (text ones may add ``.gz``)."""

_SEPARATORS = {"csv": ",", "tsv": "\t"}
# RuntimeError: zipfile's "encrypted" and NotImplementedError (unknown compression or version);
# TokenError: numpy's fallback parser for old .npy headers.
_CORRUPT = (
    ValueError,
    OSError,
    EOFError,
    RuntimeError,
    tokenize.TokenError,
    zipfile.BadZipFile,
    zlib.error,
)
# pyarrow's errors subclass these (ArrowInvalid, ArrowIOError, ArrowNotImplementedError,
# ArrowTypeError, ArrowKeyError, ArrowMemoryError); pandas raises KeyError, TypeError and
# AttributeError on a corrupt pandas-metadata block.
_PARQUET_ERRORS = (
    ValueError,
    OSError,
    LookupError,
    TypeError,
    AttributeError,
    RuntimeError,
    MemoryError,
)
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _require(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"reading data files needs the optional dependency {module!r}, which is not "
            "installed; install it with: pip install 'deltarule[cli]'"
        ) from exc


def _check_file(path: str | os.PathLike[str], expected: str) -> Path:
    file = check_readable(path, f"a data file ({expected})")
    if file.stat().st_size == 0:
        raise InputError(f"{os.fspath(path)!r} is empty (0 bytes); expected {expected}.")
    return file


def _extension(file: Path) -> str:
    """The extension that names the format: ``.csv`` for both data.csv and data.csv.gz."""
    suffixes = [suffix.lower() for suffix in file.suffixes]
    if suffixes[-1:] == [".gz"] and len(suffixes) > 1 and suffixes[-2] in TABLE_FORMATS:
        return suffixes[-2]
    return file.suffix.lower()


def _table_format(file: Path, format: str | None) -> str:
    supported = ", ".join(TABLE_FORMATS)
    if format is not None:
        if format not in _SEPARATORS and format != "parquet":
            raise InputError(
                f"format={format!r} is not supported; expected 'csv', 'tsv' or 'parquet'."
            )
        return format
    fmt = TABLE_FORMATS.get(_extension(file))
    if file.suffix.lower() == ".gz" and fmt not in _SEPARATORS:
        raise InputError(
            f"cannot tell the format of {str(file)!r}: the name ends in .gz but does not say "
            "what the compressed file holds; expected gzip-compressed CSV or TSV text named "
            "like data.csv.gz or data.tsv.gz. "
            "Rename the file (from Python: read_table(path, format='csv'))."
        )
    if fmt is None:
        raise InputError(
            f"cannot tell the format of {str(file)!r} from its extension {file.suffix!r}; "
            f"supported extensions: {supported} (text ones also gzip-compressed: .csv.gz), "
            "or .npz for arrays. Rename the file with one of those extensions (from Python: "
            "read_table(path, format='csv'))."
        )
    return fmt


def _first_bad_line(file: Path) -> tuple[int, int]:
    """Return (line number, byte) of the first byte that is not UTF-8."""
    with open_binary(file) as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, line[exc.start]
    return 0, 0  # pragma: no cover - pandas saw a bad byte, so there is one


def _unclosed_quote_line(file: Path) -> int | None:
    """The line on which a double quote opens that the file never closes, if one does."""
    opened, inside = None, False
    with open_text(file) as handle:
        for number, text in enumerate(handle, start=1):
            for char in text:
                if char == '"':
                    inside = not inside
                    opened = number if inside else opened
    return opened if inside else None


def _long_record_line(file: Path, sep: str, width: int) -> int | None:
    """The line the first record with more than ``width`` fields starts on (pandas counts
    a quoted value's line breaks out of its line numbers)."""
    try:
        return next((line for line, fields in records(file, sep) if len(fields) > width), None)
    except (csv.Error, *GZIP_ERRORS):
        return None


def _sep_text(sep: str) -> str:
    """The separator as messages quote it."""
    return "space" if sep == WHITESPACE else repr(sep)


def _fields(count: int) -> str:
    return f"{count} field{'s' if count != 1 else ''}"


def _parse_error(file: Path, exc: Exception, sep: str, header: bool = True) -> InputError:
    match = _RAGGED.search(str(exc))
    if "EOF inside string" in str(exc):
        line = _unclosed_quote_line(file)
        where = f" (it opens on line {line})" if line else ""
        return InputError(
            f"{str(file)!r} has a quoted value that is never closed{where}; expected every "
            "opening double quote to have a closing one. Close that quote, or double any "
            'quote inside a quoted value ("").'
        )
    if match is None:
        return InputError(
            f"{str(file)!r} could not be read as a table ({exc}); expected rows of "
            f"{_sep_text(sep)}-separated values under a header line. Check the line it names."
        )
    expected, line, saw = match.groups()
    line = _long_record_line(file, sep, int(expected)) or line
    first = "the header" if header else "the first line"
    return InputError(
        f"{str(file)!r}: line {line} has {saw} fields but {first} has {expected}; expected "
        f"every line to have {expected}. Check that line for an unquoted {_sep_text(sep)} "
        "inside a value (quote such values) or a missing column name in the header."
    )


def _first_short(file: Path, sep: str, header: bool, width: int, short: Any) -> Any:
    """``(line, fields)`` of the first data record with fewer than ``width`` fields that
    pandas read as a row whose last cell is missing (``short[i]``: row ``i``'s), or None
    (records of nothing but separators are rows of missing values, not short ones)."""
    try:
        found = records(file, sep)
        if header:
            next(found, None)
        for row, (line, fields) in enumerate(found):
            if row >= len(short):
                return None
            if len(fields) < width and short[row] and not is_empty(fields):
                return line, fields
    except (csv.Error, *GZIP_ERRORS):
        return None
    return None


def _short_line(
    file: Path, sep: str, header: bool, width: int, short: Any, guessed: bool, nameless: bool
) -> InputError | None:
    """The error for the first data record with fewer than ``width`` fields (a row pandas
    padded with missing values), or None when the file has none (``guessed``: whether the
    separator was guessed, to be said when the line holds another one; ``nameless``: whether
    the header's last name is empty, a separator ending the header line alone)."""
    found = _first_short(file, sep, header, width, short)
    if found is None:
        return None
    return short_line_error(file, sep, header, width, guessed, nameless, *found)


def short_line_error(
    file: Path, sep: str, header: bool, width: int, guessed: bool, nameless: bool,
    line: int, fields: list[str],
) -> InputError:  # fmt: skip
    """The error for the data record on ``line`` whose ``fields`` are fewer than the
    header's ``width`` (see :func:`_short_line`)."""
    if nameless and len(fields) == width - 1:
        return InputError(
            f"{str(file)!r}: the header's last column name is empty (the header line ends with "
            f"a {_sep_text(sep)}), and line {line} has {_fields(len(fields))}, one fewer than "
            f"the header's {width}; expected a name for every column and every line to have "
            f"as many fields as the header. Remove the {_sep_text(sep)} at the end of the "
            "header line (or, if that column is meant, name it and give each line its value)."
        )
    others = [c for c in ",;\t|" if c != sep and c in "".join(fields)]
    guess = (
        f" The separator was guessed to be {separator_name(sep)} from the first lines; if "
        f"the file's is {separator_name(others[0])}, give it: sep={others[0]!r}."
        if guessed and others
        else ""
    )
    first = "the header" if header else "the first line"
    if sep == WHITESPACE:
        fix = "a value left out (whitespace-separated text cannot hold an empty value: write NA)"
    else:
        gap = sep + sep
        fix = (f"a value or a {_sep_text(sep)} left out (an empty value still needs its "
               f"separators, as in 1{gap}3)")  # fmt: skip
    return InputError(
        f"{str(file)!r}: line {line} has {_fields(len(fields))} but {first} has {width}; "
        f"expected every line to have {width}. Check that line for {fix}.{guess}",
        options={"sep=": "--sep "},
    )


def _trailing_empty_rows(frame: pd.DataFrame) -> int:
    """How many rows at the end of ``frame`` are nothing but missing cells (lines of
    separators, such as Excel's ``,,`` rows below a sheet's data)."""
    filled = np.flatnonzero(~frame.isna().to_numpy().all(axis=1))
    return len(frame) - (int(filled[-1]) + 1 if filled.size else 0)


def _blank(cell: Any) -> bool:
    if isinstance(cell, str):
        return not cell.strip()
    try:
        return bool(cell != cell)  # NaN
    except (TypeError, ValueError):
        return False


def _refuse_short_lines(
    file: Path, frame: pd.DataFrame, sep: str, header: bool, guessed: bool, last: Any, width: int
) -> None:
    """Refuse a line with fewer fields than the header (``width``; ``last``: the name of the
    last column), which pandas pads with missing values (only looked for when the last
    column, always read, has a missing value)."""
    if width > 1 and len(frame):
        short = frame.iloc[:, -1].isna().to_numpy()
        if short.any():
            nameless = header and not _named(last)
            error = _short_line(file, sep, header, width, short, guessed, nameless)
            if error is not None:
                raise error


def _blank_cells(frame: pd.DataFrame) -> set[str]:
    """The distinct cells of nothing but whitespace (pandas makes only empty cells missing)."""
    blanks: set[str] = set()
    for name in frame.columns:
        try:
            text = frame[name].str
        except AttributeError:  # not a column of text
            continue
        blanks.update(frame[name][text.strip().eq("").fillna(False)].unique())
    return blanks


_MEMORY_SHARE = 0.5
"""The largest share of the memory available now that a gzip-compressed table's text may
take once decompressed (parsed, it takes about as much again: the NPZ reader's share)."""


_MOST_INFLATED = 1032
"""The most a gzip (deflate) stream expands: about 1032 bytes for each compressed one."""


def _check_inflated(file: Path) -> None:
    """Refuse a gzip-compressed table whose text, decompressed, would take more than
    :data:`_MEMORY_SHARE` of the memory available now (a 150 KB file can hold gigabytes of
    text). The size is the one gzip records at the end of the file (modulo 4 GiB, of its
    last part), read without decompressing anything; one more than :data:`_MOST_INFLATED`
    times the file's is no size at all but the bytes where a cut file ends, left to the
    reader, which says the file is damaged."""
    available = available_memory()
    if available is None:
        return
    try:
        with open(file, "rb") as handle:
            handle.seek(-4, os.SEEK_END)
            size = int.from_bytes(handle.read(4), "little")
    except OSError:  # (shorter than a gzip trailer: the reader says it is damaged)
        return
    limit = int(available * _MEMORY_SHARE)
    if size > limit and size <= _MOST_INFLATED * file.stat().st_size:
        raise InputError(
            f"{str(file)!r} is {file.stat().st_size:,} bytes of gzip-compressed text that "
            f"decompresses to {size:,} bytes, more than half the {available:,} bytes of memory "
            "available now; expected a table that fits in memory. Free memory or use a "
            "machine with more, or split the rows into smaller files."
        )


_MANY_UNUSED = 1000
"""Columns left unread before a table is read in part (:func:`_read_only`)."""


def _read_only(
    names: list[Any], columns: Collection[Any] | None, lines_checked: bool = False
) -> list[int] | None:
    """The positions of the columns to read when the caller reads only ``columns``: those
    the header names so, and the last one (a line short of it is refused by name).

    None (read every column) when the header lacks one of them, so that the error about
    it can name the columns there are, and when fewer than :data:`_MANY_UNUSED` columns
    would be left unread: pandas does not refuse a line with more fields than the header
    when it reads only some columns, so only a table with thousands of unused columns,
    whose reading they would make slow, is read in part — or any table whose lines were
    checked by a whole reading before (``lines_checked``)."""
    if columns is None or (len(names) < _MANY_UNUSED and not lines_checked):
        return None
    wanted = set(columns)
    if not wanted <= set(names):
        return None
    last = len(names) - 1
    read = [i for i, name in enumerate(names) if name in wanted or i == last]
    enough = lines_checked or len(names) - len(read) >= _MANY_UNUSED
    return read if enough and len(read) < len(names) else None


@contextlib.contextmanager
def _reading_errors(file: Path, sep: str, header: bool, compressed: bool) -> Iterator[None]:
    """Turn what pandas raises while reading the delimited ``file`` (bytes that are not
    UTF-8, no header, a ragged line, a damaged gzip stream) into an InputError that says
    what is wrong and how to fix it; for a whole reading and for one a chunk at a time."""
    pd = _require("pandas")
    try:
        yield
    except UnicodeDecodeError as exc:
        line, byte = _first_bad_line(file)
        raise InputError(
            f"{str(file)!r} is not UTF-8 text: line {line} contains the byte 0x{byte:02x}; "
            "expected UTF-8 (a byte-order mark is fine). Re-save the file as UTF-8 (Excel: "
            "'CSV UTF-8'; or iconv -f latin1 -t utf-8 old.csv > new.csv)."
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(
            f"{str(file)!r} has no header line; expected a first line of column names "
            "followed by rows of values."
        ) from exc
    except pd.errors.ParserError as exc:
        raise _parse_error(file, exc, sep, header) from exc
    except GZIP_ERRORS as exc:
        if not compressed:
            raise
        raise InputError(
            f"{str(file)!r} is gzip-compressed but damaged ({exc}); expected a complete gzip "
            "file of CSV text. Compress the file again (gzip -k data.csv), or pass it "
            "uncompressed."
        ) from exc


def delimited_options(
    file: Path, fmt: str, compressed: bool, sep: str | None
) -> tuple[str, dict[str, Any]]:
    """The separator (given, the format's, or guessed) and ``pandas.read_csv``'s options
    for the delimited ``file``."""
    pd = _require("pandas")
    if sep is None:
        sep = sniff_separator(file) if fmt == "csv" else _SEPARATORS[fmt]
    options: dict[str, Any] = {
        "sep": r"\s+" if sep == WHITESPACE else sep,
        "encoding": "utf-8-sig",
        "compression": "gzip" if compressed else None,
        "skipinitialspace": True,
    }
    if int(pd.__version__.split(".")[0]) < 3:  # (pandas 3 reads the shortest repr exactly)
        # pandas 2's default float parser can miss by one unit in the last place
        # (7276572264431873.0 read as ...874.0); pandas 3 deprecates the option
        options["float_precision"] = "round_trip"
    return sep, options


def header_names(file: Path, header: bool, options: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The column names (the header's, stripped; ``'0'``, ``'1'``, ... without one) and the
    positions pandas is to name the columns by. Inside :func:`_reading_errors`."""
    pd = _require("pandas")
    # Reading the header with the first row, headerless, makes a first row with more
    # fields than the header a ParserError; pandas would silently make it an index.
    raw = pd.read_csv(file, header=None, nrows=2, dtype=str, keep_default_na=False, **options)
    first = [cell.strip() if isinstance(cell, str) else "" for cell in raw.iloc[0]]
    names = first if header else [str(i) for i in range(len(first))]
    return names, [str(i) for i in range(len(first))]


def _read_delimited(
    file: Path,
    fmt: str,
    compressed: bool,
    text_columns: Collection[Any],
    sep: str | None,
    header: bool,
    needed: Collection[Any] | None,
    columns: Collection[Any] | None = None,
    lines_checked: bool = False,
) -> tuple[pd.DataFrame, list[Any], RowLines]:
    """Return the frame (columns in the file's order, named by position), the column names
    (the header's, stripped, before pandas renames duplicates; or ``'0'``, ``'1'``, ...
    without a header) and the rows' namer. With ``columns``, only those (and the last) are
    read (:func:`_read_only`, ``lines_checked`` its)."""
    pd = _require("pandas")
    guessed = sep is None and fmt == "csv"
    sep, options = delimited_options(file, fmt, compressed, sep)
    with _reading_errors(file, sep, header, compressed):
        names, positions = header_names(file, header, options)
        text = {positions[i]: str for i, name in enumerate(names) if name in text_columns}
        read = _read_only(names, columns, lines_checked)
        if read is not None:  # (the others' cells are skipped, not converted: cheap)
            subset = {**options, "usecols": [positions[i] for i in read]}
            frame = pd.read_csv(file, header=0 if header else None, names=positions,
                                index_col=False, low_memory=False, dtype=text,
                                keep_default_na=False, na_values=[""], **subset)  # fmt: skip
            if _trailing_empty_rows(frame):  # (empty in these columns: maybe not in all)
                read = None
            else:
                names = [names[i] for i in read]
        if read is None:
            frame = pd.read_csv(file, header=0 if header else None, names=positions,
                                index_col=False, low_memory=False, dtype=text,
                                keep_default_na=False, na_values=[""], **options)  # fmt: skip
        empty = _trailing_empty_rows(frame)
        if empty:  # read again without them: a column of whole numbers stays one
            frame = pd.read_csv(file, header=0 if header else None, names=positions,
                                index_col=False, low_memory=False, dtype=text,
                                keep_default_na=False, na_values=[""],
                                nrows=len(frame) - empty, **options)  # fmt: skip
    _refuse_short_lines(file, frame, sep, header, guessed, names[-1], len(positions))
    if len(positions) == 1:  # (only there can a blank line mean an empty cell)
        _warn_blank_lines(file, sep)
    rows = RowLines(file, sep, len(frame), header)
    frame = settle_cells(frame, names, sep, text_columns, needed, rows)
    return frame, names, rows


def _warn_blank_lines(file: Path, sep: str) -> None:
    """Warn that a one-column file's blank lines among its rows were left out: there a blank
    line may have meant a missing value, and the rows no longer match the file's lines."""
    try:
        blank = blank_lines(file, sep)
    except (csv.Error, *GZIP_ERRORS):  # (reported by the reader already, or harmless)
        return
    if blank:
        where = ", ".join(str(line) for line in blank[:5]) + (", ..." if len(blank) > 5 else "")
        warnings.warn(
            f"{file.name!r} has {len(blank)} blank line{'s' if len(blank) > 1 else ''} among "
            f"its rows (line {where}), left out: a blank line is no row. In a file of one "
            "column, write a missing value as NA (or another missing-value mark), not as an "
            "empty line.",
            DataWarning,
            stacklevel=3,
        )


_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def _warn_if_data(
    file: Path, names: list[Any], frame: pd.DataFrame, needed: Collection[Any] | None
) -> None:
    """Warn when the header looks like a line of data (a file without a header, such as
    UCI's, whose first line was read as the column names and is lost from the rows): its
    names are numbers, all of them or all but values found in their own columns (a class
    label: ``5.1,3.5,1.4,0.2,Iris-setosa``)."""
    words = header_words(names, needed)
    if words is not None and all(in_own_column(frame, names, i) for i in words):
        warn_header_is_data(file, names, words, stacklevel=4)


def header_words(names: list[Any], needed: Collection[Any] | None) -> list[int] | None:
    """The positions of the header's names that are not numbers, when the header may be a
    line of data (:func:`_warn_if_data`): it is when each of them is found in its own
    column (:func:`in_own_column`). None when it cannot be: every ``needed`` name is
    there, no name is a number, or a name that is not one is empty."""
    if needed is not None and all(name in names for name in needed):
        return None
    numbers = [isinstance(n, str) and bool(_NUMBER.fullmatch(n)) for n in names]
    if not any(numbers):
        return None
    words = [i for i, number in enumerate(numbers) if not number]
    return words if all(_named(names[i]) for i in words) else None


def in_own_column(frame: pd.DataFrame, names: list[Any], i: int) -> bool:
    """Whether the name of column ``i`` (of ``names``) is a value of that column."""
    return bool(frame.iloc[:, i].astype(str).eq(names[i]).any())


def warn_header_is_data(file: Path, names: list[Any], words: list[int], stacklevel: int) -> None:
    """Warn that the header of ``file`` looks like a line of data (:func:`_warn_if_data`;
    ``words``: :func:`header_words`)."""
    what = "all numbers" if not words else "numbers, or values found in their own columns"
    warnings.warn(
        f"the first line of {file.name!r} looks like data, not a header: its column names "
        f"({listed(names)}) are {what}, so that line was read as the column names and is not "
        "a row of the data. If the file has no header line, pass --no-header, which names the "
        "columns 0, 1, 2, ... (from Python: read_table(path, header=False)).",
        DataWarning,
        stacklevel=stacklevel,
    )


def _read_parquet(file: Path) -> tuple[pd.DataFrame, list[Any]]:
    pd = _require("pandas")
    pa = _require("pyarrow")
    local = importlib.import_module("pyarrow.fs").LocalFileSystem()
    try:
        # pyarrow opens the file itself: given pandas' Python file object (pandas before 3),
        # pyarrow's reading threads called into it, and a corrupt file could crash the
        # process (a segfault in the fuzz test, with every pyarrow from 16 to 26)
        frame = pd.read_parquet(file, engine="pyarrow", filesystem=local)
        for name in frame.columns:
            frame[name] = _plain_cells(file, name, frame[name])
        # (pyarrow checks a text column's UTF-8 only when it is used: here)
        blanks = _blank_cells(frame)
    except InputError:  # (a ValueError too: what _plain_cells says stands)
        raise
    except (*_PARQUET_ERRORS, pa.ArrowException) as exc:
        problem = _parquet_problem(pa, file, local, exc)
        raise InputError(
            f"{str(file)!r} could not be read as Parquet ({problem[:200]}); expected a Parquet "
            "file. If it is text, rename it to .csv (from Python: format='csv')."
        ) from exc
    if blanks:  # missing, as in a CSV file
        frame = frame.replace(sorted(blanks), np.nan)
    return frame, list(frame.columns)


def _parquet_problem(pa: ModuleType, file: Path, local: Any, exc: BaseException) -> str:
    """What is wrong with a Parquet file pandas could not read. pandas before 3 makes Python
    strings of a text column, and pyarrow says only "Wrapping b'...' failed" (a bare
    ArrowException) of a cell that is not UTF-8: its full validation of the table names it."""
    if type(exc) is pa.ArrowException:
        try:
            importlib.import_module("pyarrow.parquet").read_table(file, filesystem=local).validate(
                full=True
            )
        except (*_PARQUET_ERRORS, pa.ArrowException) as invalid:
            return str(invalid)
    return str(exc)


def _plain_cells(file: Path, name: Any, column: Any, start: int = 0) -> Any:
    """A Parquet column as cells a table can hold: decimals become floats, UTF-8 bytes
    text; nested values (lists, structs, arrays) are refused (``start``: the file's row
    of the column's first cell, counted from 0, for the message)."""
    if column.dtype != object:
        return column
    for row, value in enumerate(column, start=start + 1):
        if isinstance(value, (list, tuple, dict, set, np.ndarray)):
            raise InputError(
                f"{str(file)!r}: column {name!r} holds a {type(value).__name__} in row {row} "
                f"({str(value)[:40]}); expected one number or text per cell. Flatten it into "
                "columns of their own, or drop it."
            )
    if any(isinstance(value, decimal.Decimal) for value in column):
        return column.map(lambda v: float(v) if isinstance(v, decimal.Decimal) else v)
    if any(isinstance(value, bytes) for value in column):

        def text(value: Any) -> Any:
            try:
                return value.decode("utf-8") if isinstance(value, bytes) else value
            except UnicodeDecodeError:
                raise InputError(
                    f"{str(file)!r}: column {name!r} holds binary data ({value[:20]!r}) that "
                    "is not UTF-8 text; expected numbers or text. Drop the column."
                ) from None

        return column.map(text)
    return column


def _named(name: Any) -> bool:
    return isinstance(name, str) and bool(name.strip())


def _usable_columns(
    file: Path, frame: pd.DataFrame, names: list[Any], needed: Collection[Any] | None
) -> pd.DataFrame:
    """``frame`` with its columns named ``names``: a nameless column empty in every row (a
    separator at the end of every line) left out; empty or repeated column names refused,
    or, when the caller says which columns it ``needed``, the other columns that have them
    dropped."""
    counts = Counter(names)
    empty = {
        i for i, name in enumerate(names)
        if not _named(name) and frame.iloc[:, i].map(_blank).all()
    }  # fmt: skip
    keep = [
        i
        for i, name in enumerate(names)
        if i not in empty
        and (needed is None or (_named(name) and counts[name] == 1) or name in needed)
    ]
    for index in keep:
        if not _named(names[index]):
            hint = (
                " (A nameless first column is usually a row index written by pandas' "
                "to_csv; re-save with index=False or name the column.)"
                if index == 0
                else ""
            )
            raise InputError(
                f"{str(file)!r}: column {index + 1} has no name; every column needs a unique "
                f"name in the header.{hint}"
            )
    repeated = [names[i] for i in keep if counts[names[i]] > 1]
    if repeated:
        positions = [i for i, other in enumerate(names, start=1) if other == repeated[0]]
        raise InputError(
            f"{str(file)!r}: the column name {repeated[0]!r} appears {len(positions)} times "
            f"(columns {', '.join(map(str, positions))}); column names must be unique. "
            "Rename the duplicates."
        )
    frame = frame if len(keep) == len(names) else frame.iloc[:, keep]
    return frame.set_axis([names[i] for i in keep], axis=1)


class FileRows:
    """Names row ``i`` of a table whose rows have no lines (Parquet, arrays) for messages.

    Examples
    --------
    >>> FileRows("data.parquet")(2)
    "row 3 of 'data.parquet'"
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, row: int) -> str:
        """Describe row ``row`` (counted from 0)."""
        return f"row {row + 1} of {self.name!r}"

    def __deepcopy__(self, memo: dict[int, Any]) -> FileRows:
        return self  # pandas deep-copies a frame's attrs with every new column or mask


TABLE = "a CSV, TSV or Parquet file with a header line and rows"
"""What :func:`read_table` (and a chunked reading) expects, for its messages."""


def table_source(
    path: Any, format: str | None, sep: str | None, header: bool, whole: bool
) -> tuple[Path, str, bool, str | None]:
    """The table file at ``path`` checked for reading (by :func:`read_table`, or a chunk at
    a time when not ``whole``): the file, its format (``csv``, ``tsv`` or ``parquet``),
    whether it is gzip-compressed, and the separator given, checked. A compressed file read
    whole must decompress within the memory available; ``sep`` and ``header=False`` are
    refused for Parquet."""
    file = _check_file(path, TABLE)
    parquet = format == "parquet" or (format is None and _extension(file) in (".parquet", ".pq"))
    compressed = check_table_bytes(file, TABLE, parquet)
    if compressed and whole:
        _check_inflated(file)
    fmt = _table_format(file, format)
    if sep is not None:
        sep = check_separator(sep)
    if fmt == "parquet" and (sep is not None or not header):
        given = "sep" if sep is not None else "header=False"
        raise InputError(
            f"{given} applies to text (CSV, TSV); {str(file)!r} is a Parquet file, whose "
            f"columns are named in the file. Leave {given} out."
        )
    return file, fmt, compressed, sep


def read_table(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    text_columns: Collection[Any] = (),
    needed: Collection[Any] | None = None,
    sep: str | None = None,
    header: bool = True,
    columns: Collection[Any] | None = None,
    lines_checked: bool = False,
) -> pd.DataFrame:
    """Read a table of named columns from CSV, TSV or Parquet.

    Parameters
    ----------
    path : str or path-like
        The extension picks the format (see :data:`TABLE_FORMATS`); CSV and TSV text
        may be gzip-compressed (``data.csv.gz``).
    format : {"csv", "tsv", "parquet"}, optional
        Overrides the extension.
    text_columns : collection of str, optional
        Columns read as text exactly as written (CSV, TSV), even where every value looks
        like a number: codes such as ``01`` stay ``"01"``. Only empty (or blank) cells are
        missing there.
    needed : collection of str, optional
        The columns the caller uses. Columns outside it whose header name is empty or
        repeated are dropped, rather than refused (by default every column is checked),
        and their cells are left as pandas reads them.
    sep : str, optional
        Text only: the separator, one character (``","``, ``";"``, ``"\\t"``, ``"|"``...)
        or ``"whitespace"`` (also ``" "``: runs of spaces and tabs, as in UCI's
        whitespace-separated files). By default a ``.tsv`` file's is a tab, and a ``.csv``
        or ``.txt`` file's is guessed among comma, semicolon and tab from its first lines.
    header : bool
        Text only: whether the first line names the columns (default). With False it is
        data, and the columns are named ``"0"``, ``"1"``, ``"2"``, ... in order.
    columns : collection of str, optional
        Text only: the columns the caller uses. When the header has them all and a
        thousand or more other columns, only these (and the last, whose absence tells a
        short line) are read, the other cells skipped: a table of many columns the caller
        does not use costs less (a line with more fields than the header is then not
        refused). Otherwise, and without it, every column is read.
    lines_checked : bool
        Text only: the file was read whole before, its lines checked, so that ``columns``
        are read alone however few others there are (``deltarule train`` reads its target
        again as written: 1.2 s of a 60,000 x 785 file read whole, 0.6 s alone).

    Returns
    -------
    pandas.DataFrame
        At least one row; unique, non-empty column names from the header line. Its
        ``attrs[ROWS_ATTR]`` names a row's place in the file, e.g. ``"line 7 of
        'data.csv' (data row 5)"`` (see :mod:`deltarule.preprocessing`).

    Raises
    ------
    InputError
        For any unusable file, with what is wrong and how to fix it.

    Warns
    -----
    DataWarning
        When every name in the header is a number (the first line looks like data).
    """
    file, fmt, compressed, sep = table_source(path, format, sep, header, whole=True)
    if fmt == "parquet":
        (frame, names), rows = _read_parquet(file), FileRows(file.name)
    else:
        frame, names, rows = _read_delimited(
            file, fmt, compressed, text_columns, sep, header, needed, columns, lines_checked
        )
        if header and not lines_checked:  # (read before: warned then, of every column)
            _warn_if_data(file, names, frame, needed)
    frame = _usable_columns(file, frame, names, needed)
    if len(frame) == 0:
        raise InputError(
            f"{str(file)!r} has a header (columns {', '.join(map(str, names))}) but no data "
            "rows; expected at least one row below the header."
        )
    frame.attrs[ROWS_ATTR] = rows
    return frame
