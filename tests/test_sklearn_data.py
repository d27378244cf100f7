"""scikit-learn's bundled datasets read from its files (``deltarule._sklearn_data``): the
same values as its loaders (the oracle), without importing it, and its loaders where the
files cannot be read so."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn import datasets  # noqa: E402

from deltarule import _sklearn_data  # noqa: E402
from deltarule.datasets import dataset_table, load_dataset  # noqa: E402

READ = ["iris", "wine", "breast_cancer", "digits"]


@pytest.mark.parametrize("name", READ)
def test_the_files_give_what_scikit_learns_loaders_give(name) -> None:
    ours, theirs = _sklearn_data.read(name), getattr(datasets, f"load_{name}")()
    assert ours is not None
    assert ours.data.dtype == theirs.data.dtype == np.float64
    assert ours.data.tobytes() == theirs.data.tobytes()  # bitwise
    assert ours.target.dtype == np.int64 and np.array_equal(ours.target, theirs.target)
    assert [str(n) for n in ours.target_names] == [str(n) for n in theirs.target_names]
    if name != "digits":  # (deltarule names the pixels itself)
        assert ours.feature_names == [str(n) for n in theirs.feature_names]


def test_diabetes_is_left_to_scikit_learn() -> None:
    # (its loader scales the columns with scikit-learn's own arithmetic)
    assert _sklearn_data.read("diabetes") is None
    assert load_dataset("diabetes").X_train.shape == (354, 10)


def test_a_dataset_loads_without_importing_scikit_learn() -> None:
    code = (
        "import sys\n"
        "from deltarule.datasets import load_dataset, dataset_table\n"
        "d = load_dataset('digits')\n"
        "t = dataset_table('wine', 'train')\n"
        "print(d.X_train.shape, len(t['cultivar']), 'sklearn' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["(1438,", "64)", "142", "False"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda folder: (folder / "iris.csv").unlink(),  # moved in another scikit-learn
        lambda folder: (folder / "iris.csv").write_text("150,4,a,b,c\n5.1,3.5,1.4,0.2,0\n"),
        lambda folder: (folder / "iris.csv").write_text("150,5,a,b,c\n" + "1,2,3,4,5,0\n" * 150),
        lambda folder: (folder / "iris.csv").write_bytes(b"\xff\xfe\x00"),
    ],
    ids=["missing", "short", "other-columns", "not-text"],
)
def test_files_it_cannot_read_are_left_to_scikit_learns_loader(damage, tmp_path, monkeypatch):
    source = _sklearn_data.data_folder()
    folder = tmp_path / "data"
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("__pycache__"))
    damage(folder)
    monkeypatch.setattr(_sklearn_data, "data_folder", lambda: folder)
    assert _sklearn_data.read("iris") is None
    expected = load_dataset("iris", seed=1)  # (scikit-learn's loader reads its own file)
    expected_table = dataset_table("iris")
    monkeypatch.undo()
    again, table = load_dataset("iris", seed=1), dataset_table("iris")
    assert again.X_train.tobytes() == expected.X_train.tobytes()
    assert again.classes == expected.classes and again.feature_names == expected.feature_names
    assert list(table) == list(expected_table)  # (the feature names, then species)
    assert all(np.array_equal(table[k], expected_table[k]) for k in table)


def test_without_scikit_learn_there_is_nothing_to_read(monkeypatch) -> None:
    monkeypatch.setattr(_sklearn_data.importlib.util, "find_spec", lambda name: None)
    assert _sklearn_data.data_folder() is None and _sklearn_data.read("iris") is None
