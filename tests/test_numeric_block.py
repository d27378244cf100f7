"""The plain numeric columns a block at a time: the same states and standardised values,
bit for bit, as the per-column path of deltarule._encoders, and the columns left to it."""

from __future__ import annotations

import numpy as np
import pytest

from deltarule import _numeric_block
from deltarule._encoders import fit_column, standardised_column
from deltarule._numeric_block import fit_numeric, plain_numeric, standardise_into
from deltarule.preprocessing import _first_beyond

pd = pytest.importorskip("pandas")


def mixed(n_rows: int, seed: int = 0) -> pd.DataFrame:
    """Columns of every kind: plain numbers of several types and scales (constant, past
    float64 when summed, tiny), and those left to the per-column path."""
    rng = np.random.default_rng(seed)
    holes = rng.normal(size=n_rows)
    holes[n_rows // 2] = np.nan
    endless = rng.normal(size=n_rows)
    endless[-1] = np.inf
    return pd.DataFrame(
        {
            "int64": rng.integers(-(10**6), 10**6, n_rows),
            "uint8": rng.integers(0, 256, n_rows).astype(np.uint8),
            "float32": (rng.normal(size=n_rows) * 1e3).astype(np.float32),
            "float64": rng.normal(size=n_rows) * rng.uniform(1e-3, 1e9),
            "text": rng.choice(["Paris", "Rome", "Oslo"], n_rows),
            "constant": np.full(n_rows, 3.7),
            "zero": np.zeros(n_rows, dtype=np.int64),
            "flag": rng.integers(0, 2, n_rows).astype(bool),
            "past_float64": rng.uniform(1, 1.7, n_rows) * 1e308,
            "squares_past_float64": rng.normal(size=n_rows) * 1e200,
            "tiny": rng.normal(size=n_rows) * 1e-300,
            "category": pd.Categorical(rng.choice(["a", "b"], n_rows)),
            "nullable": pd.array(rng.integers(0, 9, n_rows), dtype="Int64"),
            "holes": holes,
            "infinity": endless,
            "uint64": np.arange(n_rows, dtype=np.uint64) + np.uint64(2**63),
            "counting": np.arange(n_rows) + 2**60,
        }
    )


PLAIN = ["int64", "uint8", "float32", "float64", "constant", "zero", "past_float64",
         "squares_past_float64", "tiny", "holes", "infinity", "uint64", "counting"]  # fmt: skip


@pytest.fixture(params=[None, 1 << 13], ids=["one block", "blocks of a few columns"])
def block_bytes(request, monkeypatch):
    if request.param is not None:
        monkeypatch.setattr(_numeric_block, "BLOCK_BYTES", request.param)


def test_plain_numeric_columns_are_numpy_numbers_but_true_false():
    frame = mixed(5)
    assert list(frame.columns[plain_numeric(frame)]) == PLAIN


@pytest.mark.parametrize("n_rows", [1, 2, 37, 1000, 4099])
def test_the_states_are_the_per_column_ones_bit_for_bit(n_rows, block_bytes):
    frame = mixed(n_rows, seed=n_rows)
    names = list(frame.columns)
    states = fit_numeric(frame, names)
    # (left out: not plain numbers, a missing value or infinity, sums past float64)
    past = ("past_float64", "squares_past_float64") if n_rows > 1 else ()
    fitted = [name for name in PLAIN if name not in ("holes", "infinity", *past)]
    assert list(states) == fitted
    for name in fitted:
        expected = fit_column(frame[name], None)
        assert repr(states[name]) == repr(expected)  # (1.0, not 1; -0.0, not 0.0)


def test_only_the_named_columns_are_fitted():
    frame = mixed(20)
    assert list(fit_numeric(frame, ["uint8", "text", "int64"])) == ["uint8", "int64"]


def per_column(frame, names, states, out):
    """What the per-column path writes, and the columns it finds past ``out``'s dtype."""
    beyond = []
    for start, (name, state) in enumerate(zip(names, states)):
        column = standardised_column(frame[name], state)
        if _first_beyond(column, out.dtype) is None:
            out[:, start] = column
        else:
            beyond.append(start)
    return out, beyond


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows", [1, 37, 4099])
def test_standardised_values_are_the_per_column_ones_bit_for_bit(n_rows, dtype, block_bytes):
    fitted = mixed(n_rows, seed=1)
    names = [name for name in PLAIN if name not in ("holes", "infinity")]
    states = [fit_column(fitted[name], None) for name in names]
    frame = mixed(n_rows, seed=2)
    out = np.zeros((n_rows, len(names)), dtype)
    left = standardise_into(out, frame, names, states, list(range(len(names))))
    expected, beyond = per_column(frame, names, states, np.zeros_like(out))
    assert left == beyond
    assert len(beyond) == (2 if dtype == np.float32 and n_rows == 1 else 0)  # (1e308, 1e200)
    assert out.tobytes() == expected.tobytes()


def test_columns_it_cannot_write_are_left_to_the_per_column_path(block_bytes):
    frame = mixed(50)
    frame["float64"] = frame["float64"] * 1e300  # (past float32 once standardised)
    names = ["text", "int64", "holes", "float64", "infinity", "uint8", "nullable"]
    states = [{"mean": 0.0, "std": 1.0} for _ in names]
    starts = [9, 0, 1, 2, 3, 5, 8]  # (in any order, with gaps)
    out = np.zeros((50, 10), np.float32)
    left = standardise_into(out, frame, names, states, starts)
    assert left == [0, 2, 3, 4, 6]
    assert out[:, 0].tobytes() == frame["int64"].to_numpy(np.float32).tobytes()
    assert out[:, 5].tobytes() == frame["uint8"].to_numpy(np.float32).tobytes()
    assert not out[:, [1, 2, 3, 4, 6, 7, 8, 9]].any()
