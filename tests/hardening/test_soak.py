"""Soak: train and save 50 small models in one process; memory stays flat, results repeat.

Each model cycles through a different configuration (optimizer, batch size — 1 takes the
compiled online path when numba is installed —, dropout, dtype, output layer), is saved
and loaded back. Python's traced memory after model 50 must be within 1 MB of that after
model 10 (the first models pay for one-off caches), and the
same seed must give byte-identical saved parameters.
"""

from __future__ import annotations

import gc
import tracemalloc
import warnings

import numpy as np

import deltarule as dr
from deltarule.io import load_model, save_model

N_MODELS = 50
WARM_UP = 10
MAX_GROWTH = 2**20

_CONFIGS = [
    {"optimizer": "adam", "batch_size": 8, "dropout": 0.0, "dtype": "float32", "out": "identity"},
    {"optimizer": "sgd", "batch_size": 1, "dropout": 0.0, "dtype": "float64", "out": "identity"},
    {
        "optimizer": "momentum",
        "batch_size": None,
        "dropout": 0.2,
        "dtype": "float32",
        "out": "sigmoid",
    },
    {
        "optimizer": "rprop",
        "batch_size": None,
        "dropout": 0.0,
        "dtype": "float64",
        "out": "softmax",
    },
    {
        "optimizer": "lbfgs",
        "batch_size": None,
        "dropout": 0.0,
        "dtype": "float64",
        "out": "identity",
    },
]


def _data(out: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 4))
    score = X @ np.array([1.0, -1.0, 0.5, 0.0])
    if out == "identity":
        return X, score[:, None]
    if out == "sigmoid":
        return X, (score > 0).astype(float)[:, None]
    return X, np.eye(3)[np.digitize(score, [-0.5, 0.5])]


def _train_and_save(index: int, path) -> bytes:
    """Train model ``index`` (its config and seed follow from it), save, load; return its data."""
    config = _CONFIGS[index % len(_CONFIGS)]
    seed = index % 25  # models i and i + 25 are the same run
    X, y = _data(config["out"], seed)
    net = dr.Network(
        [4, 6, y.shape[1]],
        activation="tanh",
        output_activation=config["out"],
        dropout=config["dropout"],
        dtype=config["dtype"],
        seed=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dr.ConvergenceWarning)
        history = net.fit(
            X,
            y,
            epochs=15,
            optimizer=config["optimizer"],
            batch_size=config["batch_size"],
            seed=seed,
            verbose=0,
        )
    assert np.isfinite(net.parameters).all() and len(history.records) >= 1
    save_model(net, path, training={"loss": history.loss, "index": index})
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.network.parameters, net.parameters)
    content = path.read_bytes()
    header_length = int.from_bytes(content[:8], "little")
    return content[8 + header_length :]  # the tensors: the header holds a timestamp


def _traced_now() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_fifty_models_flat_memory_and_repeatable_bytes(tmp_path):
    for index in range(len(_CONFIGS)):  # compile numba kernels before tracing: it is slow
        _train_and_save(index, tmp_path / "warm.safetensors")
    saved: list[bytes] = []
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        for index in range(N_MODELS):
            saved.append(_train_and_save(index, tmp_path / f"model{index % 3}.safetensors"))
            if index + 1 == WARM_UP:
                after_warm_up = _traced_now()
        after_all = _traced_now()
    finally:
        if started:
            tracemalloc.stop()
    growth = after_all - after_warm_up
    assert growth < MAX_GROWTH, f"traced memory grew by {growth:,} bytes over 40 models"
    for index in range(N_MODELS - 25):
        assert saved[index] == saved[index + 25], f"model {index} and {index + 25} differ"
    assert len(set(saved)) == 25  # different seeds and configs do give different models


def test_the_same_run_twice_in_a_row_gives_identical_files_but_the_timestamp(tmp_path):
    first = _train_and_save(7, tmp_path / "a.safetensors")
    second = _train_and_save(7, tmp_path / "b.safetensors")
    assert first == second
    header_a = load_model(tmp_path / "a.safetensors").header
    header_b = load_model(tmp_path / "b.safetensors").header
    header_a.pop("created"), header_b.pop("created")
    assert header_a == header_b
