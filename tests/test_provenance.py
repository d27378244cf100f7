"""The data a fit trained on, as a checkpoint records it: fingerprints and their differences."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from deltarule import _provenance
from deltarule._provenance import differences, fingerprint, provenance_problem, seed_record


def test_the_hash_covers_every_byte_whatever_the_arrays_layout(monkeypatch) -> None:
    monkeypatch.setattr(_provenance, "_CHUNK_BYTES", 64)  # (blocks of 4 rows of 4 float32)
    X = np.arange(40, dtype=np.float32).reshape(10, 4)
    y = np.ones((10, 1), np.float32)
    whole = hashlib.blake2b(X.tobytes() + y.tobytes(), digest_size=16).hexdigest()
    assert fingerprint(X, y, None)["blake2b"] == whole
    assert fingerprint(np.asfortranarray(X), y, None)["blake2b"] == whole  # (copied by blocks)
    changed = X.copy()
    changed[9, 3] = 0.5  # (in the last block)
    assert fingerprint(changed, y, None)["blake2b"] != whole
    weighted = fingerprint(X, y, np.full(10, 2.0, np.float32))
    assert weighted["weighted"] and weighted["blake2b"] != whole
    assert fingerprint(X, y, np.ones(10, np.float32)) == fingerprint(X, y, None)  # (alike)


def test_sparse_inputs_are_fingerprinted_by_their_values_and_places() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    X = sparse.csr_matrix(np.eye(4, dtype=np.float32))
    y = np.ones((4, 1), np.float32)
    moved = sparse.csr_matrix(np.eye(4, dtype=np.float32)[::-1])
    part = fingerprint(X, y, None)
    assert (part["rows"], part["columns"]) == (4, [4, 1])
    assert part["blake2b"] != fingerprint(moved, y, None)["blake2b"]


def test_seeds_are_recorded_as_plain_values() -> None:
    assert [seed_record(s) for s in (3, np.int64(4), None)] == [3, 4, None]
    assert seed_record(np.random.default_rng(0)) == "Generator"


def test_differences_name_the_split_then_each_part() -> None:
    X, y = np.zeros((6, 2)), np.zeros((6, 1))
    part = fingerprint(X, y, None)
    saved = {"training": part, "validation": None, "validation_split": 0.0, "seed": 1}
    assert differences(saved, dict(saved)) == []
    fewer = fingerprint(X[:5], y[:5], None)
    now = {**saved, "training": fewer, "validation": part, "validation_split": 0.2}
    assert differences(saved, now) == [
        "validation_split 0.0 (now 0.2)",
        f"training data: 6 rows, hash {part['blake2b'][:12]}... (now 5 rows, hash "
        f"{fewer['blake2b'][:12]}...)",
        f"validation data: none (now 6 rows, hash {part['blake2b'][:12]}...)",
    ]


@pytest.mark.parametrize(
    "block,fragment",
    [
        ("x", "not an object"),
        ({"training": {"rows": 3}, "validation_split": 0.0}, "its training data is described"),
        ({"training": None, "validation_split": 0.0}, "its training data is None"),
        ("split", "its validation_split is 1.5"),
        ("seed", "its seed is [1]"),
    ],
)
def test_a_damaged_record_is_named(block, fragment) -> None:
    good = {"training": fingerprint(np.zeros((2, 1)), np.zeros((2, 1)), None),
            "validation": None, "validation_split": 0.0, "seed": None}  # fmt: skip
    assert provenance_problem(good) is None and provenance_problem(None) is None
    if block == "split":
        block = {**good, "validation_split": 1.5}
    elif block == "seed":
        block = {**good, "seed": [1]}
    assert fragment in provenance_problem(block)
