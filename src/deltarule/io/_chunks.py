"""Tables read a chunk of rows at a time: :func:`iter_table`, for ``deltarule predict`` and
``evaluate`` ``--chunk-rows``, whose memory is then that of a chunk, not of the file.

Each chunk is what :func:`deltarule.io.read_table` makes of those rows, with the same checks
and messages: delimited text (plain or gzip-compressed) through ``pandas.read_csv``'s
chunked reader, settled cell by cell as a whole reading settles them
(:func:`~deltarule.io._cells.settle_cells`), Parquet by record batches
(:mod:`._parquet_chunks`: a row group at most at a time in memory). Messages name the
file's rows, not the chunk's: a chunk's row namer (``attrs[ROWS_ATTR]``) counts from the
file's first data row, the lines found by one pass of the :mod:`csv` module that goes along
with the chunks (:class:`_Records`).

Numbers written with a decimal comma are judged on the whole file's evidence, as a whole
reading judges them (its columns' decimal points, a comma that cannot separate thousands,
points that may group thousands, each column's cells: :mod:`._comma_evidence`), gathered
by a first pass over the file when a scan of its bytes finds it may hold such a number;
its messages name the cells a whole reading's name. Lines of nothing but separators at a
chunk's end are held back until the next chunk shows whether the file ends with them (left
out, and the chunk's whole numbers read as the rows without them are: integers) or not.

Two things a whole reading decides over the whole column are still decided here over the
chunk: a column of whole numbers in one chunk is integers there and floats in a chunk with
a missing value or a fraction (the values are the same: the caller settles the types it
writes, as ``predict --keep`` does), and the missing-value marks a column's messages list
(``attrs[READ_MARKS_ATTR]``) are the chunk's. A gzip-compressed file is not refused for
decompressing to more than the memory available (only a chunk is held).
"""

from __future__ import annotations

import contextlib
import csv
import re
import warnings
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._naming import ROWS_ATTR
from ..exceptions import InputError
from . import data as _data
from ._cells import FileEvidence, settle_cells
from ._comma_evidence import file_evidence, may_hold_comma_numbers
from ._text import GZIP_ERRORS, is_empty, records

__all__ = ["OffsetRows", "iter_table"]

_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
"""A cell pandas reads as an integer."""


class _Records:
    """The data records of a delimited file, ``(line, fields)`` by data row, found by one
    pass of the :mod:`csv` module that moves forward as rows further on are asked for (and
    starts again for an earlier one)."""

    def __init__(self, file: Path, sep: str, header: bool) -> None:
        self.file, self.sep, self.header = file, sep, header
        self._found: Iterator[tuple[int, list[str]]] | None = None
        self._next = 0  # the data row the pass gives next
        self._last: tuple[int, tuple[int, list[str]]] | None = None

    def get(self, row: int) -> tuple[int, list[str]] | None:
        """``(line, fields)`` of data row ``row`` (counted from 0), or None when the pass
        cannot find it (the :mod:`csv` module and pandas disagree, or fail)."""
        if self._last is not None and self._last[0] == row:
            return self._last[1]
        try:
            if self._found is None or row < self._next:
                self._found, self._next = records(self.file, self.sep), 0
                if self.header:
                    next(self._found, None)
            while self._next < row:
                next(self._found)
                self._next += 1
            found = next(self._found)
        except (StopIteration, csv.Error, *GZIP_ERRORS):
            self.close()
            return None
        self._next += 1
        self._last = (row, found)
        return found

    def close(self) -> None:
        """Close the file the pass reads (it starts again if asked for a row after)."""
        if self._found is not None:
            self._found.close()  # (a generator: its `with` closes the file)
            self._found = None


class _StreamLines:
    """Names data row ``i`` of a delimited file by its line (as
    :class:`~deltarule.io._text.RowLines` does, for a file read a chunk at a time)."""

    def __init__(self, found: _Records) -> None:
        self.found = found

    def __call__(self, row: int) -> str:
        """Describe row ``row`` (counted from 0) of the file."""
        name = self.found.file.name
        place = self.found.get(row)
        if place is None:
            return f"row {row + 1} of {name!r} (data rows counted from 1)"
        return f"line {place[0]} of {name!r} (data row {row + 1})"


class OffsetRows:
    """A chunk's row namer: row ``i`` of the chunk is row ``offset + i`` of ``rows``'s."""

    def __init__(self, rows: Callable[[int], str], offset: int) -> None:
        self.rows, self.offset = rows, offset

    def __call__(self, row: int) -> str:
        """Describe the chunk's row ``row`` (counted from 0) by its place in the file."""
        return self.rows(self.offset + int(row))

    def __deepcopy__(self, memo: dict[int, Any]) -> OffsetRows:
        return self  # pandas deep-copies a frame's attrs with every new column or mask


def iter_table(
    path: Any,
    *,
    chunk_rows: int,
    format: str | None = None,
    text_columns: Collection[Any] = (),
    needed: Collection[Any] | None = None,
    sep: str | None = None,
    header: bool = True,
    columns: Collection[Any] | None = None,
) -> Iterator[Any]:
    """Yield the table at ``path`` as DataFrames of up to ``chunk_rows`` rows, in order.

    The parameters are :func:`deltarule.io.read_table`'s, and so are each chunk's columns,
    checks and messages (see the module's docstring for what a chunk decides alone). Each
    chunk's index counts from 0; its ``attrs[ROWS_ATTR]`` names its rows by their place in
    the file.

    Raises
    ------
    InputError
        For any unusable file, when the reading gets to it (a bad line in a later chunk:
        after the chunks before it were yielded).
    """
    file, fmt, compressed, sep = _data.table_source(path, format, sep, header, whole=False)
    if fmt == "parquet":
        from ._parquet_chunks import parquet_chunks  # (it names rows with OffsetRows)

        chunks: Iterator[tuple[Any, list[Any]]] = parquet_chunks(file, chunk_rows)
    else:
        chunks = _delimited_chunks(
            file, fmt, compressed, text_columns, sep, header, needed, columns, chunk_rows
        )
    total = 0
    with contextlib.closing(chunks):  # (its files closed on an error, or when left early)
        for frame, names in chunks:  # (the last, for a file of no rows: of none, named)
            frame = _data._usable_columns(file, frame, names, needed)
            if len(frame) == 0:
                if total == 0:
                    raise InputError(
                        f"{str(file)!r} has a header (columns {', '.join(map(str, names))}) "
                        "but no data rows; expected at least one row below the header."
                    )
                continue
            total += len(frame)
            yield frame


def _delimited_chunks(
    file: Path, fmt: str, compressed: bool, text_columns: Collection[Any], sep: str | None,
    header: bool, needed: Collection[Any] | None, columns: Collection[Any] | None,
    chunk_rows: int,
) -> Iterator[tuple[Any, list[Any]]]:  # fmt: skip
    """Yield ``(frame, names)`` chunk by chunk, as :func:`deltarule.io.data._read_delimited`
    reads the whole file (:class:`_Delimited`), having warned first, as it does, when the
    header looks like a line of data (judged on the whole file: :func:`_judge_header`)."""
    reading = _Delimited(file, fmt, compressed, text_columns, sep, header, needed, columns,
                         chunk_rows)  # fmt: skip
    try:
        if header:
            _judge_header(reading)
        yield from reading.chunks()
    finally:
        reading.found.close()


def _judge_header(reading: _Delimited) -> None:
    """Warn, as :func:`deltarule.io.data._warn_if_data` does, when the header of the file
    ``reading`` reads looks like a line of data: its names all numbers, or numbers and
    names found in their own columns, in any chunk. Judged by a first pass over the file
    (only for a header that may be data, and lacks a needed name: a failing reading),
    warning when it reads without an error, as a whole reading does."""
    names = reading.names
    words = _data.header_words(names, reading.needed)
    if words is None:
        return
    left = set(words)
    with warnings.catch_warnings(), contextlib.closing(reading.chunks()) as chunks:
        warnings.simplefilter("ignore")  # (the reading warns of the rest itself)
        try:
            for frame, _ in chunks:
                left = {i for i in left if not _data.in_own_column(frame, names, i)}
        except InputError:
            return
    if not left:
        _data.warn_header_is_data(reading.file, names, words, stacklevel=5)


class _Delimited:
    """A delimited file read a chunk at a time as :func:`deltarule.io.data._read_delimited`
    reads it whole: its header, separator and decimal-comma evidence found when made, its
    chunks by :meth:`chunks` (as often as asked)."""

    def __init__(
        self, file: Path, fmt: str, compressed: bool, text_columns: Collection[Any],
        sep: str | None, header: bool, needed: Collection[Any] | None,
        columns: Collection[Any] | None, chunk_rows: int,
    ) -> None:  # fmt: skip
        self.file, self.compressed, self.header, self.needed = file, compressed, header, needed
        self.text_columns, self.chunk_rows = text_columns, chunk_rows
        self.guessed = sep is None and fmt == "csv"
        self.sep, self.options = _data.delimited_options(file, fmt, compressed, sep)
        with self._errors():
            self.all_names, self.positions = _data.header_names(file, header, self.options)
        self.text = {self.positions[i]: str for i, name in enumerate(self.all_names)
                     if name in text_columns}  # fmt: skip
        self.read = _data._read_only(self.all_names, columns)
        self.names = self.all_names if self.read is None else [self.all_names[i]
                                                               for i in self.read]  # fmt: skip
        self.subset = {} if self.read is None else {"usecols": [self.positions[i]
                                                                for i in self.read]}  # fmt: skip
        if len(self.positions) == 1:  # (only there can a blank line mean an empty cell)
            _data._warn_blank_lines(file, self.sep)
        self.found = _Records(file, self.sep, header)
        self.lines = _StreamLines(self.found)
        self.fields = [int(position) for position in self.subset.get("usecols", self.positions)]
        self.evidence = None
        if may_hold_comma_numbers(file, self.sep, compressed):  # (a first pass: evidence)
            self.evidence = _evidence(self.reader(self.text), self.reader(str), file,
                                      self.sep, header, compressed, self.names, text_columns,
                                      needed, self.lines)  # fmt: skip

    def _errors(self) -> Any:
        return _data._reading_errors(self.file, self.sep, self.header, self.compressed)

    def reader(self, dtype: Any) -> Any:
        """pandas' chunked reader of the file, its columns typed ``dtype``."""
        pd = _data._require("pandas")
        with self._errors():
            return pd.read_csv(self.file, header=0 if self.header else None,
                               names=self.positions, index_col=False, low_memory=False,
                               dtype=dtype, keep_default_na=False, na_values=[""],
                               chunksize=self.chunk_rows, **self.options,
                               **self.subset)  # fmt: skip

    def _settled(self, frame: Any, offset: int) -> Any:
        """The rows ``frame`` (data rows from ``offset``), settled as a whole reading's."""
        rows = OffsetRows(self.lines, offset)
        frame = settle_cells(frame, self.names, self.sep, self.text_columns, self.needed,
                             rows, self.evidence)  # fmt: skip
        frame.attrs[ROWS_ATTR] = rows
        return frame

    def chunks(self) -> Iterator[tuple[Any, list[Any]]]:
        """Yield ``(frame, names)`` chunk by chunk; lines of nothing but separators at a
        chunk's end are held back until the next chunk shows whether the file ends with
        them (left out) or not (rows). A file of no rows (but such lines) gives one frame
        of no rows, its columns named."""
        pd = _data._require("pandas")
        with self.reader(self.text) as chunks:  # (closed on an error, or when left early)
            yield from self._chunks(pd, chunks)

    def _chunks(self, pd: Any, chunks: Iterator[Any]) -> Iterator[tuple[Any, list[Any]]]:
        """:meth:`chunks`, from pandas' chunked reader ``chunks``."""
        offset, held, names = 0, None, self.names
        while True:
            with self._errors():
                chunk = next(chunks, None)
            if chunk is None:
                break
            frame = chunk if held is None else pd.concat([held, chunk])
            frame = frame.reset_index(drop=True)
            empty = _data._trailing_empty_rows(frame)
            held, frame = (frame.iloc[len(frame) - empty :], frame.iloc[: len(frame) - empty])
            held = held if empty else None
            if len(frame) == 0:
                continue
            if empty:  # (read as these rows alone are: whole numbers stay integers)
                frame = _whole_numbers(self.found, frame, offset, self.fields)
            _refuse_short(self.found, self.file, frame, self.sep, self.header, self.guessed,
                          self.all_names[-1], len(self.positions), offset)  # fmt: skip
            frame = self._settled(frame, offset)
            yield frame, names
            offset += len(frame)
        if held is not None and self.read is not None:  # (empty in these: maybe not in all)
            last = _filled_rows(self.found, offset, len(held))
            if last:
                frame = self._settled(held.iloc[:last].reset_index(drop=True), offset)
                yield frame, names
                offset += len(frame)
        if offset == 0:  # (no rows: the header's names, for the error)
            yield pd.DataFrame(columns=range(len(names))), names


def _evidence(
    read: Iterator[Any], as_text: Iterator[Any], file: Path, sep: str, header: bool,
    compressed: bool, names: list[Any], text_columns: Collection[Any],
    needed: Collection[Any] | None, lines: _StreamLines,
) -> FileEvidence:  # fmt: skip
    """The file's evidence on decimal commas (:func:`~._comma_evidence.file_evidence`),
    from a pass over its chunks as read (``read``) and as text (``as_text``)."""

    def pairs() -> Iterator[tuple[Any, Any]]:
        while True:
            with _data._reading_errors(file, sep, header, compressed):
                frame, text = next(read, None), next(as_text, None)
            if frame is None or text is None:
                return
            yield frame.reset_index(drop=True), text.reset_index(drop=True)

    with read, as_text:  # (pandas' readers: closed on an error too)
        return file_evidence(pairs(), names, text_columns, needed, lines)


def _whole_numbers(found: _Records, frame: Any, offset: int, fields: list[int]) -> Any:
    """``frame`` (data rows from ``offset``, read with lines of nothing but separators
    after them) with each column of whole numbers that pandas made floats for those lines'
    empty cells as integers, as pandas reads the rows alone: where every cell, as the
    :mod:`csv` module splits the lines (``fields``: each column's field), is an integer."""
    values = frame.to_numpy(dtype=object)
    floats = [
        i
        for i in range(frame.shape[1])
        if frame.dtypes.iloc[i].kind == "f"
        and frame.iloc[:, i].notna().all()
        and all(float(v).is_integer() for v in values[:, i])
    ]
    if not floats:
        return frame
    cells: dict[int, list[str]] = {i: [] for i in floats}
    for row in range(len(frame)):
        place = found.get(offset + row)
        if place is None:
            return frame
        for i in floats:
            cells[i].append(place[1][fields[i]] if fields[i] < len(place[1]) else "")
    frame = frame.copy()
    for i, column in cells.items():
        if all(_INTEGER.fullmatch(cell) for cell in column):
            numbers = [int(cell) for cell in column]
            if all(-(2**63) <= number < 2**63 for number in numbers):
                frame.isetitem(i, np.array(numbers, dtype=np.int64))
    return frame


def _filled_rows(found: _Records, offset: int, count: int) -> int:
    """Of the ``count`` data rows from ``offset`` at the end of the file, empty in the
    columns read, how many come before the lines of nothing but separators that end it."""
    filled = 0
    for i in range(count):
        place = found.get(offset + i)
        if place is not None and not is_empty(place[1]):
            filled = i + 1
    return filled


def _refuse_short(
    found: _Records, file: Path, frame: Any, sep: str, header: bool, guessed: bool,
    last: Any, width: int, offset: int,
) -> None:  # fmt: skip
    """Refuse the chunk's first line with fewer fields than the header (``width``), which
    pandas pads with missing values (looked for where the last column has one), as
    :func:`deltarule.io.data._refuse_short_lines` does for a whole file."""
    if width <= 1:
        return
    for row in np.flatnonzero(frame.iloc[:, -1].isna().to_numpy()):
        place = found.get(offset + int(row))
        if place is None:
            return
        line, fields = place
        if len(fields) < width and not is_empty(fields):
            nameless = header and not _data._named(last)
            raise _data.short_line_error(file, sep, header, width, guessed, nameless, line,
                                         fields)  # fmt: skip
