"""``predict`` a chunk of rows at a time: predictions written as the data is read (to a
temporary file, stdout's too: ``predict._write``), so that memory holds a chunk of rows,
not the file (``--chunk-rows``).

The output is the one a whole reading writes, byte for byte:

* rows go through the network in batches whose boundaries fall where a whole file's
  would (:func:`batches`): a row's output may differ in its last bits with the rows
  computed with it (:meth:`deltarule.network.Network.infer`), so the batches are multiples of
  :data:`deltarule.network.INFER_CHUNK` rows from the file's first, and the last holds at least
  :data:`deltarule._inference.MIN_ROWS` (the threaded kernel's threshold) when the file does;
* a ``--keep`` column of numbers that a chunk reads as whole numbers is written as floats
  when another chunk makes it floats (a fraction, a missing value), and as unsigned
  integers when another holds one of 2**63 or more (none negative), as the whole column
  would be (:func:`kept_dtypes`, a first pass over the data);
* a warning about values not seen in training is given once per column, counting the
  whole file's, its first one named, in the model's column order, and not at all when the
  reading fails (:func:`gathered_warnings`); except that when a value the model refuses
  ends the run, the error names the first such value chunk by chunk (a whole reading: the
  first column with one) and the warnings before it count the chunks read until then;
* CSV has one header line; JSON is one list (:class:`TableWriter`).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

__all__ = [
    "Gathered",
    "TableWriter",
    "batch_rows",
    "batches",
    "gathered_warnings",
    "kept_dtypes",
    "read_rest",
]


class Gathered:
    """Whether a chunk's features are being computed (:meth:`features`), for
    :func:`gathered_warnings` to tell an error there from one in the reading."""

    def __init__(self) -> None:
        self.encoding = False
        self.finished = False
        """Set once every chunk is read and its features computed (:meth:`finish`): an
        error after that (evaluate's, in the targets) comes where a whole reading's does,
        after its warnings."""

    def finish(self) -> None:
        """Mark the reading and encoding of every chunk done."""
        self.finished = True

    @contextlib.contextmanager
    def features(self) -> Iterator[None]:
        """Mark the ``with`` block as a chunk's features; an error leaves the mark."""
        self.encoding = True
        yield
        self.encoding = False


def read_rest(chunks: Iterator[Any], gathered: Gathered) -> None:
    """Read the ``chunks`` left after a chunk's problem (a missing column, a value the
    model refuses), so that a problem in the reading further on is raised first, as a
    whole reading raises it, before any column is encoded; the warnings of that reading
    are gathered as the reading's, not the encoding's."""
    encoding, gathered.encoding = gathered.encoding, False
    for _ in chunks:
        pass
    gathered.encoding = encoding


@contextlib.contextmanager
def gathered_warnings(order: list[Any]) -> Iterator[Gathered]:
    """Hold back the warnings given in the ``with`` block, and give each once at its end,
    as a whole reading gives them: those about values not seen in training (one per chunk
    and column) as one per column, their counts summed and the first value named, in the
    model's column ``order`` where the first came; any other once per message, in order.

    On an error in the reading, those about values not seen in training are not given
    (:func:`_kept_on_error`)."""
    gathered = Gathered()
    failed = True
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                yield gathered
                failed = False
            finally:
                held = list(caught)
    finally:
        if failed:
            held = _kept_on_error(held, gathered.encoding or gathered.finished)
        _give(held, order)


def _kept_on_error(held: list[Any], encoding: bool) -> list[Any]:
    """The warnings ``held`` that a whole reading gives before the error that ended the
    chunked one: for an error in the reading (not ``encoding``), all but those about values
    not seen in training (a whole reading fails before it encodes a column); for one in a
    chunk's features or after every chunk's (evaluate's targets), all. (For an error in a
    chunk's features, a whole reading warns about the columns before the failing one
    only, counting the whole file, and names the first column in the model's order with a
    problem; the chunked one gives those of the chunks read before, counting their rows,
    and names the first problem chunk by chunk.)"""
    if encoding:
        return held
    return [item for item in held if _unseen(item) is None]


def _unseen(item: Any) -> Any:
    """The :class:`~deltarule.exceptions.UnseenValuesWarning` a held warning is, or None."""
    from ..exceptions import UnseenValuesWarning

    return item.message if isinstance(item.message, UnseenValuesWarning) else None


def _give(held: list[Any], order: list[Any]) -> None:
    """Give the warnings ``held`` (:func:`gathered_warnings`): those about values not seen
    in training one per column (counts summed, the first's detail), together where the
    first came, in the model's column ``order``; the others once per message, in order."""
    from ..exceptions import UnseenValuesWarning

    merged: dict[Any, list[Any]] = {}  # key: [first warning, count]
    for item in held:
        unseen = _unseen(item)
        key = ("unseen", str(unseen.column)) if unseen else (item.category, str(item.message))
        if key not in merged:
            merged[key] = [item, unseen.count if unseen else 0]
        elif unseen:
            merged[key][1] += unseen.count
    entries = list(merged.values())
    columns = [entry for entry in entries if _unseen(entry[0])]
    if columns:  # (together where the first came, in the column order: a whole reading's)
        place = {str(name): i for i, name in enumerate(order)}
        columns.sort(key=lambda entry: place.get(str(entry[0].message.column), len(place)))
        first = next(i for i, entry in enumerate(entries) if _unseen(entry[0]))
        others = [entry for entry in entries if not _unseen(entry[0])]
        entries = others[:first] + columns + others[first:]
    for item, count in entries:
        unseen = _unseen(item)
        message = (
            UnseenValuesWarning(unseen.column, count, unseen.detail) if unseen else item.message
        )
        warnings.warn_explicit(message, item.category, item.filename, item.lineno)


def batch_rows(chunk_rows: int) -> int:
    """The rows of a batch through the network for ``chunk_rows`` read at a time: a multiple
    of :data:`~deltarule.network.INFER_CHUNK`, at least the threaded kernel's threshold."""
    from .._inference import MIN_ROWS
    from ..network import INFER_CHUNK

    return max(MIN_ROWS, chunk_rows // INFER_CHUNK * INFER_CHUNK)


def batches(
    pieces: Iterable[tuple[np.ndarray, Any]], size: int
) -> Iterator[tuple[np.ndarray, Any]]:
    """Regroup ``(features, kept)`` pieces (a chunk's network inputs and its ``--keep``
    columns, or None) into batches of ``size`` rows from the first, the last with between
    ``MIN_ROWS`` and ``size + MIN_ROWS`` rows (or all there are): each batch's outputs are
    those of the same rows in a whole file's prediction."""
    import pandas as pd

    from .._inference import MIN_ROWS

    held_X: list[np.ndarray] = []
    held_kept: list[Any] = []
    count = 0

    def joined() -> tuple[np.ndarray, Any]:
        X = held_X[0] if len(held_X) == 1 else np.concatenate(held_X)
        kept = None
        if held_kept[0] is not None:
            kept = held_kept[0] if len(held_kept) == 1 else pd.concat(held_kept)
            kept = kept.reset_index(drop=True)
        return X, kept

    for X, kept in pieces:
        held_X.append(X)
        held_kept.append(kept)
        count += len(X)
        if count < size + MIN_ROWS:
            continue
        X, kept = joined()
        while len(X) >= size + MIN_ROWS:
            yield X[:size], (None if kept is None else kept.iloc[:size])
            X, kept = X[size:], (None if kept is None else kept.iloc[size:])
        held_X, held_kept, count = [X], [kept], len(X)
    if count:
        yield joined()


def kept_dtypes(chunks: Iterable[Any], columns: list[Any]) -> dict[Any, np.dtype]:
    """The dtype a whole reading gives each of the ``columns`` that the chunks hold as
    integers in some chunk and otherwise in another: floats for floats anywhere (a gap or
    a fraction), or for signed integers with a negative one and integers of 2**63 or more
    (which pandas reads as text, settled to floats); unsigned integers for integers of
    2**63 or more and none negative. Columns not listed stay as each chunk has them."""
    kinds: dict[Any, set[str]] = {name: set() for name in columns}
    negative: set[Any] = set()
    for frame in chunks:
        for name in columns:
            if name in frame.columns:
                column = frame[name]
                kinds[name].add(column.dtype.kind)
                if column.dtype.kind == "i" and len(column) and column.min() < 0:
                    negative.add(name)
    dtypes: dict[Any, np.dtype] = {}
    for name in columns:
        if not kinds[name] & {"i", "u"} or len(kinds[name]) < 2:
            continue
        if "f" in kinds[name] or (kinds[name] == {"i", "u"} and name in negative):
            dtypes[name] = np.dtype(np.float64)
        elif kinds[name] == {"i", "u"}:
            dtypes[name] = np.dtype(np.uint64)
    return dtypes


class TableWriter:
    """Writes tables of predictions one after another as one CSV table (one header line)
    or one JSON list, through ``write`` (a file's, or standard output's)."""

    def __init__(self, write: Callable[[str], Any], form: str, to_json: Callable[[Any], str]):
        self._write, self._form, self._to_json = write, form, to_json
        self._first = True

    def add(self, table: Any) -> None:
        """Write ``table``'s rows after those written before."""
        if self._form == "csv":
            # ("\n" lines, as `deltarule data` writes them: pandas' default is os.linesep,
            # which a Windows console's text stdout turns into "\r\r\n")
            self._write(table.to_csv(index=False, lineterminator="\n", header=self._first))
        elif len(table):
            rows = self._to_json(table)[1:-2]  # (the list's items: no brackets, no newline)
            self._write(("[" if self._first else ", ") + rows)
        self._first = False

    def close(self) -> None:
        """End the output (JSON: the list's closing bracket)."""
        if self._form == "json":
            self._write(("[" if self._first else "") + "]\n")
