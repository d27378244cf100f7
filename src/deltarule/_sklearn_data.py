"""scikit-learn's bundled datasets, read from its data files without importing it.

Importing ``sklearn.datasets`` takes 0.8-1.5 s (it imports SciPy's statistics and pandas),
most of a ``deltarule train --dataset digits --epochs 1``. The files it reads ship in the
``sklearn/datasets/data`` folder, found with :func:`importlib.util.find_spec` (which does not
import the package), and their formats are simple:

* ``iris.csv``, ``wine_data.csv``, ``breast_cancer.csv``: a header ``n_samples,
  n_features,class names...``, then one row per sample, its features and its class number
  (scikit-learn's ``load_csv_data``); the feature names are scikit-learn's own, below;
* ``digits.csv.gz``: 64 pixel values and the digit per row (``load_digits``).

:func:`read` returns what scikit-learn's ``load_<name>()`` returns for those (``data`` as
float64, ``target`` as int64, ``target_names``, ``feature_names``), the same values
(the test suite compares them); None where the folder or a file is not found or is not in
that format (another scikit-learn), and for ``diabetes``, whose loader also scales the
columns with scikit-learn's own arithmetic: scikit-learn's loader is used then.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np

__all__ = ["read", "data_folder"]

FEATURE_NAMES = {
    "iris": ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"],
    "wine": ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
             "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
             "od280/od315_of_diluted_wines", "proline"],
    "breast_cancer": [f"{kind}{what}" for kind in ("mean ", "", "worst ") for what in (
        "radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity",
        "concave points", "symmetry", "fractal dimension")],
}  # fmt: skip
"""scikit-learn's feature names of its CSV datasets (written in its loaders, not its files);
breast_cancer's middle ten end in " error" (:func:`_names`)."""

_FILES = {"iris": "iris.csv", "wine": "wine_data.csv", "breast_cancer": "breast_cancer.csv"}


def data_folder() -> Path | None:
    """scikit-learn's ``datasets/data`` folder, found without importing scikit-learn; None
    where it is not installed (or not as a folder on disk)."""
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):  # (a broken or half-imported installation)
        return None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        folder = Path(location) / "datasets" / "data"
        if folder.is_dir():
            return folder
    return None


def _names(name: str) -> list[str]:
    """``name``'s feature names, as scikit-learn's loader gives them."""
    names = list(FEATURE_NAMES[name])
    if name == "breast_cancer":
        names[10:20] = [f"{n} error" for n in names[10:20]]
    return names


def _read_csv(name: str, path: Path) -> SimpleNamespace:
    """One of scikit-learn's CSV datasets, as its ``load_csv_data`` reads it."""
    with path.open("r", encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        n_samples, n_features = int(header[0]), int(header[1])
        data = np.empty((n_samples, n_features))
        target = np.empty(n_samples, dtype=np.int64)
        count = 0
        for i, row in enumerate(rows):
            if i >= n_samples or len(row) != n_features + 1:
                raise ValueError(f"row {i + 2} of {path} does not fit its header")
            data[i] = np.asarray(row[:-1], dtype=np.float64)
            target[i] = int(row[-1])
            count += 1
    if count != n_samples or n_features != len(FEATURE_NAMES[name]):
        raise ValueError(f"{path} does not hold what its header says")
    return SimpleNamespace(data=data, target=target, target_names=np.array(header[2:]),
                           feature_names=_names(name))  # fmt: skip


def _read_digits(path: Path) -> SimpleNamespace:
    """scikit-learn's digits, as its ``load_digits`` reads them."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        table = np.loadtxt(handle, delimiter=",")
    if table.ndim != 2 or table.shape[1] != 65:
        raise ValueError(f"{path} does not hold 64 pixels and a digit per row")
    return SimpleNamespace(data=table[:, :-1], target=table[:, -1].astype(np.int64),
                           target_names=np.arange(10), feature_names=None)  # fmt: skip


def read(name: str) -> SimpleNamespace | None:
    """``load_<name>()``'s ``data``, ``target``, ``target_names`` and ``feature_names``
    (digits: None; deltarule names its pixels), read from scikit-learn's files; None where
    they cannot be read so (see the module's docstring).

    Examples
    --------
    >>> bunch = read("iris")  # doctest: +SKIP
    >>> bunch.data.shape, list(bunch.target_names)  # doctest: +SKIP
    ((150, 4), ['setosa', 'versicolor', 'virginica'])
    """
    folder = data_folder()
    if folder is None or name not in (*_FILES, "digits"):
        return None
    try:
        if name == "digits":
            return _read_digits(folder / "digits.csv.gz")
        return _read_csv(name, folder / _FILES[name])
    except (OSError, ValueError, IndexError, EOFError, UnicodeDecodeError):
        return None  # (moved or changed in another scikit-learn: its own loader reads it)
