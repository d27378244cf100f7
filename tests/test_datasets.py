"""Built-in datasets: shapes, scaling, seeded splits, and clear errors (``deltarule.datasets``)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from deltarule import InputError
from deltarule.datasets import DATASETS, load_dataset, read_idx

pytest.importorskip("sklearn")

SIZES = {"digits": (1797, 64, 10), "iris": (150, 4, 3), "wine": (178, 13, 3),
         "breast_cancer": (569, 30, 2), "diabetes": (442, 10, None)}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SIZES))
def test_scikit_learn_datasets_split_and_scale(name) -> None:
    rows, features, n_classes = SIZES[name]
    d = load_dataset(name, seed=3)
    assert d.X_train.dtype == d.X_test.dtype == np.float32
    assert d.X_train.shape[1] == d.X_test.shape[1] == features == len(d.feature_names)
    assert len(d.X_train) + len(d.X_test) == rows and abs(len(d.X_test) - rows / 5) <= 5
    if n_classes is None:
        assert d.task == "regression" and d.classes is None
    else:
        assert d.task == "classification" and len(d.classes) == n_classes
        assert set(np.unique(d.y_test)) == set(range(n_classes))  # stratified: every class
    if name == "digits":  # pixels 0..16 scaled to [0, 1]
        assert 0 <= d.X_train.min() and d.X_train.max() <= 1
    else:  # standardised with the training rows' statistics
        np.testing.assert_allclose(d.X_train.mean(axis=0), 0, atol=1e-5)
    raw = d.X_train * d.feature_scale + d.feature_mean  # the scaling is recorded
    assert np.isfinite(raw).all()


def test_the_seed_fixes_the_split() -> None:
    a, b, c = (load_dataset("iris", seed=s) for s in (1, 1, 2))
    assert a.X_test.tobytes() == b.X_test.tobytes() and a.X_test.tobytes() != c.X_test.tobytes()


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"name": "cifar"}, "unknown dataset 'cifar'; expected one of: digits"),
        ({"name": None}, "the dataset name must be a string"),  # (an AttributeError)
        ({"name": "iris", "seed": -1}, "seed must be a non-negative integer; received -1"),
        ({"name": "iris", "seed": 1.5}, "seed must be a non-negative integer"),  # (TypeError)
        ({"name": "iris", "seed": "a"}, "seed must be a non-negative integer"),
    ],
)
def test_bad_arguments_are_clear_errors(kwargs, message) -> None:
    with pytest.raises(InputError, match=message):
        load_dataset(**kwargs)
    assert "fashion-mnist" in DATASETS


def _idx(shape: tuple[int, ...], payload: bytes | None = None) -> bytes:
    header = bytes([0, 0, 8, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)
    return header + (bytes(range(int(np.prod(shape)))) if payload is None else payload)


def test_read_idx_reads_plain_and_gzipped_files(tmp_path) -> None:
    (tmp_path / "a-idx3-ubyte").write_bytes(_idx((2, 3, 4)))
    with gzip.open(tmp_path / "b-idx3-ubyte.gz", "wb") as handle:
        handle.write(_idx((2, 3, 4)))
    for name in ("a-idx3-ubyte", "b-idx3-ubyte.gz"):
        array = read_idx(tmp_path / name)
        assert array.shape == (2, 3, 4) and array.dtype == np.uint8
        assert array.ravel().tolist() == list(range(24))


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "no such file"),  # (a bare FileNotFoundError)
        (bytes([0, 0, 8, 3]), "is cut inside its header \\(4 bytes; a 3-dimensional IDX header "
         "has 16\\)"),  # (it said "declares shape (0, 0, 0) ... holds -12 bytes")
        (b"\x89PNG....", "not an IDX file of unsigned bytes"),
        (_idx((2, 3), b"\x00" * 5), "declares shape \\(2, 3\\) \\(6 bytes\\) but holds 5"),
    ],
)  # fmt: skip
def test_read_idx_refuses_what_is_not_a_whole_idx_file(tmp_path, content, message) -> None:
    path = tmp_path / "x-idx1-ubyte"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_idx(path)
    with pytest.raises(InputError, match="is a directory"):  # (an IsADirectoryError)
        read_idx(tmp_path)


def test_without_scikit_learn_its_datasets_name_the_extra(monkeypatch) -> None:
    import sys

    from deltarule import _sklearn_data

    monkeypatch.setattr(_sklearn_data, "read", lambda name: None)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # (its import raises)
    with pytest.raises(InputError, match=r"pip install 'deltarule\[sklearn\]' \(or 'deltarule"):
        load_dataset("iris")
