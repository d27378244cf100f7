"""Built-in real datasets that install offline.

* ``digits`` — scikit-learn's bundled 8×8 handwritten digits (1,797 samples, 64 features,
  10 classes), pixel values scaled to [0, 1];
* ``iris``, ``wine``, ``breast_cancer`` (classification) and ``diabetes`` (regression)
  from scikit-learn, standardised;
* ``fashion-mnist`` — Zalando's Fashion-MNIST (60,000 + 10,000 images of 28×28 pixels, 10
  classes), read from the IDX files of Debian's ``dataset-fashion-mnist`` package
  (or any folder holding the four files), pixels scaled to [0, 1].

:func:`dataset_table` gives a dataset's raw columns and named target as a table (what
``deltarule data`` writes as a CSV file), its ``train`` and ``test`` parts the rows of
:func:`load_dataset`'s split for the same seed.

scikit-learn is an optional dependency; its datasets are read from the files it ships
(:mod:`deltarule._sklearn_data`), and scikit-learn is imported only where that cannot be
done (``diabetes``, whose loader scales its columns).
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._reading import check_readable
from .exceptions import InputError

__all__ = [
    "Dataset",
    "load_dataset",
    "dataset_table",
    "DATASETS",
    "TARGET_NAMES",
    "PARTS",
    "read_idx",
    "FASHION_MNIST_DIRS",
]


@dataclass(frozen=True)
class Dataset:
    """A train/test split with class names.

    Attributes
    ----------
    X_train, X_test : ndarray of shape (n, n_features), float32
    y_train, y_test : ndarray of shape (n,)
        Integer class labels (classification) or float targets (regression).
    classes : list of str or None
    task : str
    name : str
    feature_names : tuple of str
        One name per feature column (``pixel0``, ``pixel1``, ... for images).
    feature_mean, feature_scale : ndarray of shape (n_features,) or None
        How the raw values were scaled: ``X = (raw - feature_mean) / feature_scale``,
        so a saved model can take raw values (e.g. a CSV of 0-255 pixels).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: list[str] | None
    task: str
    name: str
    feature_names: tuple[str, ...] = ()
    feature_mean: np.ndarray | None = None
    feature_scale: np.ndarray | None = None


def _sklearn(name: str):  # noqa: ANN202
    """scikit-learn's dataset ``name``: read from its files where that can be done without
    importing scikit-learn (:mod:`deltarule._sklearn_data`: 0.8-1.5 s less), else its
    ``load_<name>()``."""
    from . import _sklearn_data

    bunch = _sklearn_data.read(name)
    if bunch is not None:
        return bunch
    try:
        from sklearn import datasets
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InputError(
            f"the built-in dataset {name!r} comes from scikit-learn, which is not installed; "
            "install it with: pip install 'deltarule[sklearn]' (or 'deltarule[cli]', which "
            "has it, for the command line)"
        ) from exc
    return getattr(datasets, f"load_{name}")()


def _split_rows(
    y: np.ndarray, test_fraction: float, seed: int, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The (training, test) row numbers, each in file order, of a seeded split."""
    rng = np.random.default_rng(seed)
    test = []
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    for members in groups:
        members = rng.permutation(members)
        test.extend(members[: int(round(test_fraction * members.size))])
    test_idx = np.sort(np.asarray(test, dtype=int))
    return np.setdiff1d(np.arange(len(y)), test_idx), test_idx


def _raw_sklearn(name: str) -> tuple[np.ndarray, np.ndarray, bool, object]:
    """(X, y, whether classification, bunch) of a scikit-learn dataset, as it ships."""
    bunch = _sklearn(name)
    X = np.asarray(bunch.data, dtype=np.float64)
    classification = name != "diabetes"
    y = np.asarray(bunch.target, dtype=np.int64 if classification else np.float64)
    return X, y, classification, bunch


def _from_sklearn(name: str, seed: int) -> Dataset:
    X, y, classification, bunch = _raw_sklearn(name)
    train_idx, test_idx = _split_rows(y, 0.2, seed, classification)
    Xtr, ytr, Xte, yte = X[train_idx], y[train_idx], X[test_idx], y[test_idx]
    if name == "digits":
        mean, std = np.zeros(X.shape[1]), np.full(X.shape[1], 16.0)
        names = tuple(f"pixel{i}" for i in range(X.shape[1]))
    else:  # standardise with training statistics only
        mean, std = Xtr.mean(axis=0), Xtr.std(axis=0)
        std[std == 0] = 1.0
        names = tuple(str(n) for n in bunch.feature_names)
    Xtr, Xte = (Xtr - mean) / std, (Xte - mean) / std
    classes = [str(c) for c in getattr(bunch, "target_names", [])] if classification else None
    return Dataset(
        Xtr.astype(np.float32),
        ytr,
        Xte.astype(np.float32),
        yte,
        classes,
        "classification" if classification else "regression",
        name,
        names,
        mean,
        std,
    )


FASHION_MNIST_DIRS = (
    "/usr/share/datasets/fashion-mnist",
    "/usr/share/dataset-fashion-mnist",
    "/usr/share/fashion-mnist",
)
"""Where Debian's dataset-fashion-mnist package is looked for (it installs the first)."""

_FASHION_FILES = {
    "X_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "X_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) of unsigned bytes into an array."""
    path = check_readable(path, "an IDX file (e.g. train-images-idx3-ubyte[.gz])")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            data = fh.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:  # a cut or damaged download
        raise InputError(
            f"{path} is truncated or corrupt ({exc}); expected a whole IDX file. Reinstall "
            "it (e.g. 'sudo apt-get install --reinstall dataset-fashion-mnist') or point "
            "--data-dir at intact files."
        ) from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise InputError(f"{path} is not an IDX file of unsigned bytes (bad magic number).")
    ndim = data[3]
    offset = 4 + 4 * ndim
    if len(data) < offset:
        raise InputError(
            f"{path} is cut inside its header ({len(data)} bytes; a {ndim}-dimensional IDX "
            f"header has {offset}); the file is truncated or corrupt."
        )
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims)) if dims else 0
    if len(data) - offset != expected:
        raise InputError(
            f"{path} declares shape {tuple(dims)} ({expected} bytes) but holds "
            f"{len(data) - offset} bytes of data; the file is truncated or corrupt."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def _find_fashion(data_dir: str | Path | None) -> dict[str, Path]:
    folders = [Path(data_dir)] if data_dir else [Path(d) for d in FASHION_MNIST_DIRS]
    for folder in folders:
        found = {}
        for key, stem in _FASHION_FILES.items():
            hits = [p for p in (folder / stem, folder / f"{stem}.gz") if p.is_file()]
            hits += sorted(folder.rglob(f"{stem}*")) if folder.is_dir() and not hits else []
            if hits:
                found[key] = hits[0]
        if len(found) == 4:
            return found
    where = f"in {data_dir}" if data_dir else "in " + " or ".join(FASHION_MNIST_DIRS)
    raise InputError(
        f"Fashion-MNIST was not found {where}. Install Debian's package with "
        "'sudo apt-get install dataset-fashion-mnist', or pass --data-dir pointing to a folder "
        "with the four IDX files (train-images-idx3-ubyte[.gz], ...)."
    )


def _fashion_mnist(data_dir: str | Path | None) -> Dataset:
    files = _find_fashion(data_dir)
    arrays = {key: read_idx(path) for key, path in files.items()}

    def images(a: np.ndarray) -> np.ndarray:
        return (a.reshape(a.shape[0], -1) / np.float32(255)).astype(np.float32)

    n_pixels = int(np.prod(arrays["X_train"].shape[1:]))
    return Dataset(
        images(arrays["X_train"]),
        arrays["y_train"].astype(np.int64),
        images(arrays["X_test"]),
        arrays["y_test"].astype(np.int64),
        FASHION_CLASSES,
        "classification",
        "fashion-mnist",
        tuple(f"pixel{i}" for i in range(n_pixels)),
        np.zeros(n_pixels),
        np.full(n_pixels, 255.0),
    )


DATASETS = ("digits", "iris", "wine", "breast_cancer", "diabetes", "fashion-mnist")
TARGET_NAMES = {
    "digits": "label",
    "iris": "species",
    "wine": "cultivar",
    "breast_cancer": "diagnosis",
    "diabetes": "progression",
    "fashion-mnist": "label",
}
"""The name of each dataset's target column: in :func:`dataset_table`, and in the model
``deltarule train --dataset NAME`` saves (so that it predicts from that table)."""
PARTS = ("all", "train", "test")
"""The rows :func:`dataset_table` gives: every row, or one side of the dataset's split."""


def _key(name: str) -> str:
    """The canonical name (a key of :data:`TARGET_NAMES`) of the dataset ``name``."""
    if not isinstance(name, str):
        raise InputError(
            f"the dataset name must be a string, one of: {', '.join(DATASETS)}; received "
            f"{type(name).__name__} {name!r:.40}."
        )
    key = name.lower().replace("_", "-")
    if key in ("fashion-mnist", "fashion", "fashionmnist"):
        return "fashion-mnist"
    key = key.replace("-", "_")
    if key not in TARGET_NAMES:
        raise InputError(f"unknown dataset {name!r}; expected one of: {', '.join(DATASETS)}.")
    return key


def _check_seed(seed: object) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer; received {seed!r}.")


def load_dataset(
    name: str = "digits", *, seed: int = 0, data_dir: str | Path | None = None
) -> Dataset:
    """Load a built-in dataset by name (see the module docstring); ``seed`` fixes the split
    of the scikit-learn datasets (Fashion-MNIST comes with its own, official split)."""
    key = _key(name)
    _check_seed(seed)
    if key == "fashion-mnist":
        return _fashion_mnist(data_dir)
    return _from_sklearn(key, seed)


def dataset_table(
    name: str = "digits",
    part: str = "all",
    *,
    seed: int = 0,
    data_dir: str | Path | None = None,
) -> dict[str, np.ndarray]:
    """A built-in dataset's rows as columns: the raw feature values, then the target.

    Parameters
    ----------
    name : str
        One of :data:`DATASETS` (case and ``_``/``-`` do not matter).
    part : {"all", "train", "test"}
        Every row in the order the dataset ships them, or the rows :func:`load_dataset`
        trains or tests on with the same ``seed`` (Fashion-MNIST: its official split).
    seed : int
        Fixes the split of the scikit-learn datasets, as in :func:`load_dataset`.
    data_dir : str or path-like, optional
        Where Fashion-MNIST's files are (see :func:`load_dataset`).

    Returns
    -------
    dict of str to ndarray of shape (n_rows,)
        Feature columns by name (whole numbers as integers: pixels), then the target
        column, named as in :data:`TARGET_NAMES`: class names for classification, numbers
        for regression.

    Examples
    --------
    >>> table = dataset_table("iris", "test")  # doctest: +SKIP
    >>> list(table)[-1], len(table["species"])  # doctest: +SKIP
    ('species', 30)
    """
    key = _key(name)
    _check_seed(seed)
    if part not in PARTS:
        raise InputError(f"part must be one of {', '.join(PARTS)}; received {part!r}.")
    if key == "fashion-mnist":
        files = _find_fashion(data_dir)
        arrays = {k: read_idx(path) for k, path in files.items()}
        parts = {"train": ("X_train", "y_train"), "test": ("X_test", "y_test")}
        chosen = list(parts.values()) if part == "all" else [parts[part]]
        X = np.concatenate([arrays[x].reshape(arrays[x].shape[0], -1) for x, _ in chosen])
        y = np.concatenate([arrays[t] for _, t in chosen]).astype(np.int64)
        features = [f"pixel{i}" for i in range(X.shape[1])]
        classes: list[str] | None = FASHION_CLASSES
    else:
        X, y, classification, bunch = _raw_sklearn(key)
        if part != "all":
            rows = _split_rows(y, 0.2, seed, classification)[part == "test"]
            X, y = X[rows], y[rows]
        if key == "digits":
            features = [f"pixel{i}" for i in range(X.shape[1])]
        else:
            features = [str(n) for n in bunch.feature_names]  # type: ignore[attr-defined]
        names = getattr(bunch, "target_names", None)
        classes = [str(c) for c in names] if classification and names is not None else None
    if np.issubdtype(X.dtype, np.floating) and (X == np.round(X)).all():
        X = X.astype(np.int64)  # (pixels: 0, 16, not 0.0, 16.0)
    table = {feature: X[:, i] for i, feature in enumerate(features)}
    table[TARGET_NAMES[key]] = np.asarray(classes, dtype=object)[y] if classes else y
    return table
