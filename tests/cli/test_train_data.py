"""The training data of ``deltarule train``: the warnings about columns that identify rows,
found with the columns of plain numbers looked at together, are those found column by
column (same text, same order)."""

from __future__ import annotations

import numpy as np
import pytest

from deltarule import _numeric_block
from deltarule.cli import _train_data
from deltarule.cli._train_data import MIN_ROWS_FOR_IDENTIFIERS, identifier_warnings

pd = pytest.importorskip("pandas")


def identifying(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """Columns that identify rows, or nearly do, of every kind, among ordinary ones."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n_rows + 1)
    holes = rng.permutation(ids).astype(float)
    holes[2] = np.nan
    endless = np.arange(n_rows, dtype=float)
    endless[-1] = np.inf
    return pd.DataFrame(
        {
            "pixel": rng.integers(0, 256, n_rows),
            "row": ids,  # (counts up by 1)
            "label": rng.choice(["a", "b"], n_rows),
            "PassengerId": rng.permutation(ids),  # (1..n in another order)
            "shuffled": rng.permutation(n_rows),  # (0..n-1, not named like an id)
            "CustomerID": 1000 + 3 * rng.permutation(n_rows),  # (an id's name, gaps)
            "user_id": holes,  # (a missing value: no warning)
            "year": 1980 + rng.permutation(n_rows),  # (whole numbers once each, from 1980)
            "since": 1980.0 + np.arange(n_rows),  # (counts up, floats)
            "huge": np.arange(n_rows) + 2**60,  # (counts up; as float64 it cannot)
            "unsigned": np.arange(n_rows, dtype=np.uint64) + np.uint64(7),
            "half": 0.5 + np.arange(n_rows),  # (not whole)
            "down": ids[::-1],  # (1..n, backwards)
            "endless": endless,
            "name": [f"person {i}" for i in rng.permutation(n_rows)],  # (text, distinct)
            "member": rng.integers(0, 2, n_rows).astype(bool),
            "grade": pd.Categorical(rng.choice(["x", "y"], n_rows)),
            "nullable": pd.array(ids, dtype="Int64"),  # (counts up, pandas' own type)
            "constant": np.zeros(n_rows),
            "id": rng.permutation(n_rows).astype(np.float32) * 2,  # (named id, distinct)
        }
    )


def one_by_one(frame, target):
    """The warnings with every column looked at alone (none ruled out together)."""
    everything = set(range(len(frame.columns)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_train_data, "_may_identify", lambda frame, plain: everything)
        return identifier_warnings(frame, target)


@pytest.mark.parametrize("n_rows", [MIN_ROWS_FOR_IDENTIFIERS, 61, 500])
@pytest.mark.parametrize("block_bytes", [None, 1 << 9])
def test_identifier_warnings_are_those_found_column_by_column(n_rows, block_bytes, monkeypatch):
    if block_bytes is not None:
        monkeypatch.setattr(_numeric_block, "BLOCK_BYTES", block_bytes)
    frame = identifying(n_rows)
    found = identifier_warnings(frame, "label")
    assert found == one_by_one(frame, "label")
    named = [text.split("'")[1] for text in found]
    assert named == ["row", "PassengerId", "shuffled", "CustomerID", "since", "unsigned", "down",
                     "name", "nullable", "id"]  # fmt: skip


def test_the_target_is_never_warned_about():
    frame = identifying(40)
    found = identifier_warnings(frame, "row")
    assert found == one_by_one(frame, "row")
    assert not any(text.startswith("column 'row' ") for text in found)


def test_few_rows_say_nothing():
    assert identifier_warnings(identifying(MIN_ROWS_FOR_IDENTIFIERS - 1), "label") == []
