"""``evaluate`` a chunk of rows at a time (``--chunk-rows``): each chunk of DATA is predicted
as it is read, and only the network's outputs and the target columns are kept, so that
memory holds a chunk of the data, not the file; the report is made from them at the end,
as from a whole reading (:func:`scored_rows`).

What is kept is the whole reading's, value for value:

* the outputs: rows go through the network in the batches of a whole file's prediction
  (:func:`._predict_stream.batches`, shared with ``predict``);
* the target columns: the chunks' cells joined, a column of whole numbers in one chunk and
  floats (a fraction, a missing value) in another as floats, as the whole column is. A
  column that is numbers (or True/False) in one chunk and text in another is text in a
  whole reading, each cell as written; that column is read again as text
  (:func:`_as_text`), the written cells being gone from the chunks read as numbers;
* the rows are named by their place in the file, and the messages about the targets
  (a missing one, a label not seen in training) count and name them over the whole file,
  since the targets are encoded once, at the end;
* a problem with a chunk's features (a column missing, text where numbers are expected) is
  raised once the rest of the file is read, so that a problem with the file further on
  (a bad line) is reported first, as the whole reading reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from .._naming import ROWS_ATTR
from ..exceptions import InputError
from ._predict_stream import Gathered, batch_rows, batches, read_rest

__all__ = ["scored_rows"]


def scored_rows(
    model: Any,
    chunks: Iterable[Any],
    chunk_rows: int,
    check: Callable[[Any], None],
    as_text: Callable[[list[Any]], Iterator[Any]],
    gathered: Gathered,
) -> tuple[np.ndarray, Any]:
    """The network's outputs for DATA's ``chunks`` and DATA's target column(s) (a Series for
    one target, a DataFrame for several), its rows named by their place in the file.

    ``check(frame)`` refuses a first chunk without the target columns; ``as_text(names)``
    reads those columns of DATA again, a chunk at a time, as text (:func:`_as_text`);
    ``gathered``: the warnings held back, told where each chunk's features begin.
    """
    import pandas as pd

    names = list(model.pre.target_names)
    chunks = iter(chunks)
    rows: Any = None
    kinds: dict[Any, set[str]] = {name: set() for name in names}

    def pieces() -> Iterator[tuple[np.ndarray, Any]]:
        nonlocal rows
        for frame in chunks:
            try:
                if rows is None:
                    check(frame)
                    rows = frame.attrs.get(ROWS_ATTR)
                with gathered.features():
                    X = model.features(frame)
            except InputError:
                read_rest(chunks, gathered)  # (a problem further on in the file first)
                raise
            targets = frame[names].reset_index(drop=True)
            for name in names:
                kinds[name].add(_kind(targets[name]))
            yield X, targets

    outputs: list[np.ndarray] = []
    labels: list[Any] = []
    for X, kept in batches(pieces(), batch_rows(chunk_rows)):
        outputs.append(model.network.predict(X))
        labels.append(kept)
    gathered.finish()  # (an error in the targets now follows a whole reading's warnings)
    joined = labels[0] if len(labels) == 1 else pd.concat(labels, ignore_index=True)
    mixed = [name for name in names if len(kinds[name] - {"empty"}) > 1]
    if mixed:
        joined = joined.copy()
        for name, column in _as_text(as_text(mixed), mixed).items():
            joined[name] = column
    joined.attrs.clear()
    if rows is not None:
        joined.attrs[ROWS_ATTR] = rows  # (the first chunk's: rows counted from the file's first)
    target = joined if model.pre.several_targets else joined[names[0]]
    return (outputs[0] if len(outputs) == 1 else np.concatenate(outputs)), target


def _kind(column: Any) -> str:
    """What a chunk's target ``column`` was read as: ``number``, ``truth`` (True/False),
    ``text``, or ``empty`` (every cell missing: any of them in the whole column)."""
    present = column.dropna()
    if not len(present):
        return "empty"
    if column.dtype.kind in "iuf":
        return "number"
    if column.dtype.kind == "b" or all(isinstance(v, (bool, np.bool_)) for v in present):
        return "truth"
    return "text"


def _as_text(chunks: Iterator[Any], names: list[Any]) -> dict[Any, Any]:
    """The columns ``names`` of DATA's ``chunks`` (read with those columns as text), joined."""
    import pandas as pd

    parts = [frame[names].reset_index(drop=True) for frame in chunks]
    joined = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    return {name: joined[name] for name in names}
