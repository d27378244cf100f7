"""DATA a chunk of rows at a time (``predict`` and ``evaluate`` ``--chunk-rows``):
:func:`iter_data`, the chunked counterpart of :func:`._common.read_data`, and
:func:`check_chunk_rows`, the option's check.

CSV and TSV (plain, gzip-compressed, standard input) and Parquet are read a chunk at a time
(:func:`deltarule.io._chunks.iter_table`); NPZ arrays and FANN files are read whole, as
:func:`._common.read_data` reads them, and given as one chunk.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from . import _stdin
from ._common import _TABLE, _one_column, _refuse_table_options, is_array_file, read_data

__all__ = ["DEFAULT_CHUNK_ROWS", "check_chunk_rows", "iter_data"]

DEFAULT_CHUNK_ROWS = 100_000
"""Rows read at a time by default (a few columns: some megabytes; 785 columns of pixels:
some hundreds)."""


def check_chunk_rows(text: str) -> int:
    """``--chunk-rows``'s value: a positive whole number (``100000``, ``100_000``), one
    larger than ``sys.maxsize`` taken as ``sys.maxsize`` (more rows than any file holds:
    the whole file at once either way, and the readers take no larger a count); anything
    else is a usage error saying what is expected."""
    try:
        rows = int(text)
    except ValueError:
        rows = 0
    if rows < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of rows; expected a whole number of 1 or more, "
            f"written in digits without an exponent or a point, such as {DEFAULT_CHUNK_ROWS} "
            "(the default)"
        )
    return min(rows, sys.maxsize)


def iter_data(
    path: str, *, chunk_rows: int, names: list[Any], text_columns: Collection[Any] = (),
    needed: Collection[Any] | None = None, columns: Collection[Any] | None = None,
    target: str | None = None, require_target: bool = False,
) -> Iterator[Any]:  # fmt: skip
    """Yield DATA as DataFrames of up to ``chunk_rows`` rows, in order: the tables
    :func:`._common.read_data` (whose parameters these are) would make of those rows, their
    ``attrs[ROWS_ATTR]`` naming rows by their place in the file (an NPZ or FANN file: one
    table, read whole).

    Raises
    ------
    InputError
        As :func:`._common.read_data`, when the reading gets to the problem.
    """
    from ..io._chunks import iter_table
    from ..io.fann import FANN_SUFFIXES

    sep, header = _TABLE.get()
    table = sep is not None or not header  # (given: DATA is a text table)
    dash_suffix = _stdin.dash_file_suffix(path)  # (./-: a file named -, told by its bytes)
    suffix = dash_suffix or (_stdin.suffix() if _stdin.is_stdin(path) else None)
    suffix = suffix or Path(path).suffix.lower()
    if is_array_file(path) and not (suffix in FANN_SUFFIXES and table):
        yield read_data(path, target=target, names=names, require_target=require_target,
                        text_columns=text_columns, needed=needed, columns=columns)  # fmt: skip
        return

    def chunks(file: Any) -> Iterator[Any]:
        if suffix in (".parquet", ".pq"):
            _refuse_table_options(file, suffix, sep, header)
        fmt = "csv" if suffix in FANN_SUFFIXES else (dash_suffix and dash_suffix.lstrip("."))
        first = True
        for frame in iter_table(file, chunk_rows=chunk_rows, format=fmt or None,
                                text_columns=text_columns, needed=needed, sep=sep,
                                header=header, columns=columns):  # fmt: skip
            if first:
                _one_column(frame, file, sep, needed)
                first = False
            yield frame

    if _stdin.is_stdin(path):
        yield from _stdin.read_chunks(chunks)
    else:
        yield from chunks(path)
