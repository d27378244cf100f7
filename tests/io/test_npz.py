"""Reading .npz data files: X and y, never unpickled; every unusable file a clear error."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from deltarule.exceptions import InputError
from deltarule.io.npz import read_npz


def test_missing_npz(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_npz(tmp_path / "missing.npz")


def test_read_npz(tmp_path):
    X, y = np.arange(6.0).reshape(3, 2), np.array(["a", "b", "a"])
    np.savez(tmp_path / "d.npz", X=X, y=y, extra=np.zeros(1))
    X2, y2 = read_npz(tmp_path / "d.npz")
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    np.savez_compressed(tmp_path / "c.npz", X=X, y=np.array([1, 0, 1]))
    assert read_npz(tmp_path / "c.npz")[1].tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"X": np.zeros((2, 2))}, r"lacks y; expected an .npz file with arrays X and y"),
        ({"features": np.zeros(2), "target": np.zeros(2)}, "lacks X and y"),
        ({"X": np.array([{"a": 1}, None], dtype=object), "y": np.zeros(2)}, "Python objects"),
        ({"X": np.zeros((2, 2)), "y": np.array([1, "a"], dtype=object)}, "'y'.*Python objects"),
        ({"X": np.array(["a", "b"]), "y": np.zeros(2)}, "X in .* has dtype <U1"),
        ({"X": np.zeros((0, 2)), "y": np.zeros(0)}, "non-empty"),
        ({"X": np.zeros((2, 2, 2)), "y": np.zeros(2)}, "shape \\(2, 2, 2\\)"),
        ({"X": np.zeros((2, 2)), "y": np.zeros(3)}, "2 rows in X but 3 in y"),
    ],
)
def test_unusable_npz(tmp_path, arrays, message):
    np.savez(tmp_path / "d.npz", **arrays)
    with pytest.raises(InputError, match=message):
        read_npz(tmp_path / "d.npz")


class _Marker:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_npz_never_unpickles(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "d.npz"
    path.write_bytes(pickle.dumps({"X": _Marker(str(marker))}))
    with pytest.raises(InputError, match="not a readable .npz"):
        read_npz(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"just text", r"not a readable .npz file \(not a zip archive of arrays\)"),
        (b"PK\x03\x04garbage", "not a readable .npz"),
        (b"", "is empty"),
    ],
)
def test_foreign_npz(tmp_path, content, message):
    path = tmp_path / "d.npz"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_npz(path)


def test_bare_npy_is_refused(tmp_path):
    path = tmp_path / "d.npz"
    with open(path, "wb") as handle:
        np.save(handle, np.zeros(3))
    with pytest.raises(InputError, match="holds a single array"):
        read_npz(path)


def test_truncated_npz(tmp_path):
    np.savez(tmp_path / "d.npz", X=np.zeros((50, 4)), y=np.zeros(50))
    content = (tmp_path / "d.npz").read_bytes()
    for cut in (10, len(content) // 2, len(content) - 10):
        (tmp_path / "t.npz").write_bytes(content[:cut])
        with pytest.raises(InputError):
            read_npz(tmp_path / "t.npz")
