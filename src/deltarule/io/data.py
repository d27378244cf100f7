"""Reading users' data files for the command line: tables (CSV, TSV, Parquet); .npz arrays
in :mod:`.npz`.

The parsing is done by pandas and pyarrow (imported only when needed); this
module's job is to turn every way a file can be unusable into an
:class:`~deltarule.exceptions.InputError` that says what is wrong, what was
expected and how to fix it: a missing file, an empty one, a header without
rows, a line with too many fields, bytes that are not UTF-8, duplicate or
empty column names, and a file that is something
else altogether (a model file, a zip archive, UTF-16 text: see :mod:`._foreign`).

Text files are read as UTF-8 (a byte-order mark is fine) with any line endings, plain
or gzip-compressed (``data.csv.gz``). A row with *fewer* fields than the header is
read with missing values at its end (pandas' behaviour), and a cell of nothing but
spaces is missing like an empty one; preprocessing then reports them by column and
row. Columns the caller knows hold text (``text_columns``: categories such as
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

import csv
import decimal
import importlib
import os
import re
import tokenize
import zipfile
import zlib
from collections import Counter
from collections.abc import Collection
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from .._naming import ROWS_ATTR
from .._reading import check_readable
from ..exceptions import InputError
from ._foreign import check_table_bytes
from ._text import GZIP_ERRORS, RowLines, open_binary, open_text, records

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ROWS_ATTR", "TABLE_FORMATS", "FileRows", "read_table"]

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


def _parse_error(file: Path, exc: Exception, sep: str) -> InputError:
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
            f"{sep!r}-separated values under a header line. Check the line it names."
        )
    expected, line, saw = match.groups()
    line = _long_record_line(file, sep, int(expected)) or line
    return InputError(
        f"{str(file)!r}: line {line} has {saw} fields but the header has {expected}; expected "
        f"every line to have {expected}. Check that line for an unquoted {sep!r} inside a value "
        "(quote such values) or a missing column name in the header."
    )


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


def _read_delimited(
    file: Path, fmt: str, compressed: bool, text_columns: Collection[Any]
) -> tuple[pd.DataFrame, list[Any], str]:
    """Return the frame, the header's raw names (before pandas renames duplicates) and
    the separator."""
    pd = _require("pandas")
    sep, decimal_mark = _SEPARATORS[fmt], "."
    if fmt == "csv":
        sep, decimal_mark = _sniff_separator(file)
    options: dict[str, Any] = {
        "sep": sep,
        "decimal": decimal_mark,
        "encoding": "utf-8-sig",
        "compression": "gzip" if compressed else None,
    }
    text = {name: str for name in text_columns}
    try:
        # Reading the header with the first row, headerless, makes a first row with more
        # fields than the header a ParserError; pandas would silently make it an index.
        raw = pd.read_csv(file, header=None, nrows=2, dtype=str, keep_default_na=False, **options)
        frame = pd.read_csv(file, low_memory=False, index_col=False, dtype=text, **options)
        blanks = _blank_cells(frame)
        if blanks:  # read again so that a number column with a blank cell holds numbers
            frame = pd.read_csv(file, low_memory=False, index_col=False, dtype=text,
                                na_values=sorted(blanks), **options)  # fmt: skip
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
        raise _parse_error(file, exc, sep) from exc
    except GZIP_ERRORS as exc:
        if not compressed:
            raise
        raise InputError(
            f"{str(file)!r} is gzip-compressed but damaged ({exc}); expected a complete gzip "
            "file of CSV text. Compress the file again (gzip -k data.csv), or pass it "
            "uncompressed."
        ) from exc
    return frame, list(raw.iloc[0]), sep


_DECIMAL_COMMA = re.compile(r"(?:^|;)\s*-?\d+,\d+\s*(?=;|$)", re.MULTILINE)
_DECIMAL_POINT = re.compile(r"(?:^|;)\s*-?\d+\.\d+\s*(?=;|$)", re.MULTILINE)


def _sniff_separator(file: Path) -> tuple[str, str]:
    """The separator and decimal mark of a .csv file: commas, unless the header line has
    none but semicolons or tabs (spreadsheets in many locales write ``a;b`` with decimal
    commas, ``1,5``; a semicolon file whose numbers use commas and never points gets ",")."""
    try:
        with open_text(file) as handle:
            lines = [handle.readline() for _ in range(50)]
    except GZIP_ERRORS:  # a damaged gzip file: reported when pandas reads it
        return ",", "."
    header = lines[0]
    if "," in header or not (";" in header or "\t" in header):
        return ",", "."
    if header.count("\t") > header.count(";"):
        return "\t", "."
    body = "".join(lines[1:])
    commas = _DECIMAL_COMMA.search(body) and not _DECIMAL_POINT.search(body)
    return ";", "," if commas else "."


def _read_parquet(file: Path) -> tuple[pd.DataFrame, list[Any]]:
    pd = _require("pandas")
    _require("pyarrow")
    try:
        frame = pd.read_parquet(file, engine="pyarrow")
        for name in frame.columns:
            frame[name] = _plain_cells(file, name, frame[name])
        # (pyarrow checks a text column's UTF-8 only when it is used: here)
        blanks = _blank_cells(frame)
    except InputError:  # (a ValueError too: what _plain_cells says stands)
        raise
    except _PARQUET_ERRORS as exc:
        raise InputError(
            f"{str(file)!r} could not be read as Parquet ({str(exc)[:200]}); expected a Parquet "
            "file. If it is text, rename it to .csv (from Python: format='csv')."
        ) from exc
    if blanks:  # missing, as in a CSV file
        frame = frame.replace(sorted(blanks), np.nan)
    return frame, list(frame.columns)


def _plain_cells(file: Path, name: Any, column: Any) -> Any:
    """A Parquet column as cells a table can hold: decimals become floats, UTF-8 bytes
    text; nested values (lists, structs, arrays) are refused."""
    if column.dtype != object:
        return column
    for row, value in enumerate(column, start=1):
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
    """Refuse empty or repeated column names, or, when the caller says which columns it
    ``needed``, drop the other columns that have them."""
    counts = Counter(names)
    keep = [
        i
        for i, name in enumerate(names)
        if needed is None or (_named(name) and counts[name] == 1) or name in needed
    ]
    for index in keep:
        if not _named(names[index]):
            raise InputError(
                f"{str(file)!r}: column {index + 1} has no name; every column needs a unique "
                "name in the header. (A nameless first column is usually a row index written "
                "by pandas' to_csv; re-save with index=False or name the column.)"
            )
    repeated = [names[i] for i in keep if counts[names[i]] > 1]
    if repeated:
        positions = [i for i, other in enumerate(names, start=1) if other == repeated[0]]
        raise InputError(
            f"{str(file)!r}: the column name {repeated[0]!r} appears {len(positions)} times "
            f"(columns {', '.join(map(str, positions))}); column names must be unique. "
            "Rename the duplicates."
        )
    return frame if len(keep) == len(names) else frame.iloc[:, keep]


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


def read_table(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    text_columns: Collection[Any] = (),
    needed: Collection[Any] | None = None,
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
        like a number: codes such as ``01`` stay ``"01"``. Missing cells stay missing.
    needed : collection of str, optional
        The columns the caller uses. Columns outside it whose header name is empty or
        repeated are dropped, rather than refused (by default every column is checked).

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
    """
    expected = "a CSV, TSV or Parquet file with a header line and rows"
    file = _check_file(path, expected)
    parquet = format == "parquet" or (format is None and _extension(file) in (".parquet", ".pq"))
    compressed = check_table_bytes(file, expected, parquet)
    fmt = _table_format(file, format)
    if fmt == "parquet":
        (frame, names), rows = _read_parquet(file), FileRows(file.name)
    else:
        frame, names, sep = _read_delimited(file, fmt, compressed, text_columns)
        rows = RowLines(file, sep, len(frame))
    frame = _usable_columns(file, frame, names, needed)
    if len(frame) == 0:
        raise InputError(
            f"{str(file)!r} has a header (columns {', '.join(map(str, names))}) but no data "
            "rows; expected at least one row below the header."
        )
    frame.attrs[ROWS_ATTR] = rows
    return frame
