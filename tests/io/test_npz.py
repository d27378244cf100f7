"""Reading .npz data files: X and y, never unpickled; every unusable file a clear error."""

from __future__ import annotations

import os
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


def _zeros_npz(path, n_rows: int, n_features: int = 100):
    """A compressed .npz of zeros: kilobytes on disk, ``n_rows * (n_features + 1) * 8`` read."""
    np.savez_compressed(path, X=np.zeros((n_rows, n_features)), y=np.zeros(n_rows))
    return path


def test_x_and_y_together_larger_than_max_bytes_are_refused(tmp_path):
    path = _zeros_npz(tmp_path / "d.npz", 1000)  # X 800,000 + y 8,000 bytes
    assert path.stat().st_size < 20_000
    with pytest.raises(InputError) as info:
        read_npz(path, max_bytes=805_000)  # (each alone fits: the total does not)
    message = str(info.value)
    assert "X (1000, 100) of float64; y (1000,) of float64: 808,000 bytes" in message
    assert "the limit max_bytes=805,000" in message and "Pass a larger max_bytes" in message
    assert read_npz(path, max_bytes=808_000)[0].shape == (1000, 100)


def test_by_default_x_and_y_may_take_half_the_available_memory(tmp_path, monkeypatch):
    import deltarule.io.npz as npz_module

    path = _zeros_npz(tmp_path / "d.npz", 1000)
    monkeypatch.setattr(npz_module, "_available_memory", lambda: 1_600_000)
    with pytest.raises(InputError) as info:
        read_npz(path)
    message = str(info.value)
    assert "808,000 bytes once decompressed, more than half the 1,600,000 bytes" in message
    assert "Free memory or use a machine with more, or split the rows" in message
    monkeypatch.setattr(npz_module, "_available_memory", lambda: 1_616_000)
    assert read_npz(path)[1].shape == (1000,)
    monkeypatch.setattr(npz_module, "_available_memory", lambda: None)  # unknown: no limit
    assert read_npz(path)[0].shape == (1000, 100)


def test_the_total_is_checked_before_anything_is_decompressed(tmp_path, monkeypatch):
    import deltarule.io.npz as npz_module

    def never(*args, **kwargs):
        raise AssertionError("a member was read")

    monkeypatch.setattr(npz_module, "_load_member", never)
    with pytest.raises(InputError, match="more than the limit"):
        read_npz(_zeros_npz(tmp_path / "d.npz", 1000), max_bytes=1000)


def test_the_available_memory_is_known_on_linux():
    from deltarule.io.npz import _available_memory

    available = _available_memory()
    if os.path.exists("/proc/meminfo"):
        assert isinstance(available, int) and available > 0


@pytest.mark.parametrize("max_bytes", [-1, 1.5, "1e9", True])
def test_max_bytes_must_be_a_count(tmp_path, max_bytes):
    with pytest.raises(InputError, match="max_bytes must be None or an integer >= 0"):
        read_npz(_zeros_npz(tmp_path / "d.npz", 10), max_bytes=max_bytes)


@pytest.mark.parametrize("compressed", [True, False])
def test_a_scipy_sparse_matrix_file_is_named(tmp_path, compressed):
    sparse = pytest.importorskip("scipy.sparse")
    path = tmp_path / "m.npz"
    sparse.save_npz(path, sparse.csr_matrix(np.eye(3)), compressed=compressed)
    message = (
        r"is a scipy sparse matrix file \(scipy\.sparse\.save_npz\).*deltarule reads \.npz "
        r"files with X and y arrays.*scipy\.sparse\.load_npz"
    )
    with pytest.raises(InputError, match=message):
        read_npz(path)
    with pytest.raises(InputError, match=message):
        read_npz(path, require_y=False)


def test_a_sparse_matrix_saved_by_np_savez_is_told_to_use_toarray(tmp_path):
    sparse = pytest.importorskip("scipy.sparse")
    np.savez(tmp_path / "d.npz", X=sparse.csr_matrix(np.eye(3)), y=np.zeros(3))
    with pytest.raises(InputError, match=r"Python objects.*scipy sparse matrix.*\.toarray\(\)"):
        read_npz(tmp_path / "d.npz")


def _zip_npz(path, method: int, **arrays):
    """An .npz whose members are compressed by ``method`` (np.savez writes stored or deflate;
    zipfile can write bzip2 and lzma, which np.load reads)."""
    import io
    import zipfile

    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for key, value in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, value)
            archive.writestr(f"{key}.npy", buffer.getvalue())
    return path


@pytest.mark.parametrize("method", ["ZIP_BZIP2", "ZIP_LZMA"])
def test_members_compressed_by_bzip2_or_lzma_read(tmp_path, method):
    import zipfile

    # 1.6 MB of zeros compress past deflate's 1032-fold bound; np.load reads such files
    X, y = np.zeros((20_000, 10)), np.arange(20_000) % 2
    path = _zip_npz(tmp_path / "d.npz", getattr(zipfile, method), X=X, y=y)
    with np.load(path) as oracle:
        np.testing.assert_array_equal(oracle["X"], X)
    got_X, got_y = read_npz(path)
    np.testing.assert_array_equal(got_X, X)
    np.testing.assert_array_equal(got_y, y)
