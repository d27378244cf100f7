"""A Parquet file read a record batch at a time (:func:`parquet_chunks`, for
:func:`~deltarule.io._chunks.iter_table`): each batch as pandas reads the whole file, so
that an integer column with a missing value anywhere (a row group's statistics say) is
floats in every batch, and its rows named by their place in the file.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .._naming import ROWS_ATTR
from ..exceptions import InputError
from . import data as _data
from ._chunks import OffsetRows

__all__ = ["parquet_chunks"]


def _null_integers(pq_file: Any) -> set[str]:
    """The integer columns of a Parquet file with a missing value in some row group, which
    pandas reads as floats when it reads the file whole (a row group's statistics say; a
    column without them is read alone, a row group at a time)."""
    pa = _data._require("pyarrow")
    schema = pq_file.schema_arrow
    names = {f.name for f in schema if pa.types.is_integer(f.type)}
    nulls: set[str] = set()
    meta = pq_file.metadata
    for group in range(meta.num_row_groups):
        for i in range(meta.num_columns):
            column = meta.row_group(group).column(i)
            name = column.path_in_schema
            if name not in names or name in nulls:
                continue
            stats = column.statistics
            if stats is not None and stats.has_null_count:
                if stats.null_count:
                    nulls.add(name)
            elif pq_file.read_row_group(group, columns=[name]).column(0).null_count:
                nulls.add(name)
    return nulls


def _or_empty(tables: Iterator[Any], schema: Any) -> Iterator[Any]:
    """The ``tables``, or, when there are none (a file of no rows), one table of no rows
    with the file's columns: so that an empty file's error names them."""
    empty = True
    for table in tables:
        empty = False
        yield table
    if empty:
        yield schema.empty_table()


def parquet_chunks(file: Path, chunk_rows: int) -> Iterator[tuple[Any, list[Any]]]:
    """Yield ``(frame, names)`` batch by batch, each as pandas reads the whole file
    (:func:`deltarule.io.data._read_parquet`: integers with a missing value anywhere in
    the file as floats in every batch); a file of no rows as one frame of no rows."""
    pa = _data._require("pyarrow")
    pq = importlib.import_module("pyarrow.parquet")
    local = importlib.import_module("pyarrow.fs").LocalFileSystem()
    try:
        from pandas.io._util import arrow_table_to_pandas as to_pandas
    except ImportError:  # pragma: no cover - (pandas before 2.2)
        to_pandas = pa.Table.to_pandas
    offset = 0
    try:
        with local.open_input_file(str(file)) as handle:  # (closed on an error too)
            source = pq.ParquetFile(handle)
            floats = _null_integers(source)
            tables = (
                pa.Table.from_batches([b]) for b in source.iter_batches(batch_size=chunk_rows)
            )
            for table in _or_empty(tables, source.schema_arrow):
                for name in floats & set(table.column_names):
                    i = table.column_names.index(name)
                    table = table.set_column(i, name, table.column(i).cast(pa.float64()))
                frame = to_pandas(table).reset_index(drop=True)
                for name in frame.columns:
                    frame[name] = _data._plain_cells(file, name, frame[name], offset)
                blanks = _data._blank_cells(frame)
                if blanks:  # missing, as in a CSV file
                    frame = frame.replace(sorted(blanks), np.nan)
                frame.attrs[ROWS_ATTR] = OffsetRows(_data.FileRows(file.name), offset)
                offset += len(frame)
                yield frame, list(frame.columns)
    except InputError:
        raise
    except (*_data._PARQUET_ERRORS, pa.ArrowException) as exc:
        problem = _data._parquet_problem(pa, file, local, exc)
        raise InputError(
            f"{str(file)!r} could not be read as Parquet ({problem[:200]}); expected a Parquet "
            "file. If it is text, rename it to .csv (from Python: format='csv')."
        ) from exc
