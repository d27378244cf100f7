"""The benchmark's workloads: their sizes, their data and their starting weights.

Every implementation (deltarule and each peer) builds its inputs from here, so all
of them train the same data from the same float32 weights with the same settings.

=====  ==================================================================================
(a)    MNIST-shaped 784-256-128-10, ReLU, softmax cross-entropy, Adam lr 1e-3, one epoch
       of 60,000 samples at batch 32, 128 and 512 (real Fashion-MNIST when installed,
       else seeded synthetic images)
(b)    the tutorial's 2-2-2 sigmoid network trained online: batch 1, SGD lr 0.5,
       half squared error, biases frozen — updates per second
(c)    breast_cancer (569 x 30, standardised, fixed 80/20 split), 30-64-32-1 ReLU with a
       sigmoid output, binary cross-entropy; Adam (batch 32, 200 epochs) and L-BFGS
       (up to 200 iterations) — seconds to fit and test accuracy; and a long Adam run (1,000
       epochs, 15,000 steps, where a small network takes deltarule's compiled steps),
       also through deltarule's NumPy step
(d)    predict with the (a) network at batch 1 and 10,000 — samples per second
=====  ==================================================================================
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

SEED = 0
MNIST_SIZES = (784, 256, 128, 10)
TABULAR_SIZES = (30, 64, 32, 1)
TUTORIAL_LEARNING_RATE = 0.5
ADAM_LEARNING_RATE = 1e-3


@dataclass(frozen=True)
class Sizes:
    """How big each workload is; ``quick`` sizes only check that the code runs."""

    mnist_samples: int = 60_000
    mnist_batches: tuple[int, ...] = (32, 128, 512)
    tabular_epochs: int = 200
    tabular_batch: int = 32
    tabular_long_epochs: int = 1_000
    lbfgs_iterations: int = 200
    predict_batches: tuple[int, ...] = (1, 10_000)
    rate_seconds: float = 0.5  # how long each updates/s or calls/s measurement runs
    memory_steps: int = 50  # training steps watched by tracemalloc
    data: str = "auto"  # "auto" (Fashion-MNIST when installed), "synthetic", "fashion-mnist"


FULL = Sizes()
QUICK = Sizes(
    mnist_samples=1_024,
    mnist_batches=(128,),
    tabular_epochs=5,
    tabular_long_epochs=5,
    lbfgs_iterations=5,
    predict_batches=(1, 256),
    rate_seconds=0.02,
    memory_steps=4,
    data="synthetic",
)


# ----------------------------------------------------------------------------- weights
def glorot_weights(sizes: tuple[int, ...], seed: int = SEED) -> list[tuple[np.ndarray, np.ndarray]]:
    """Glorot-uniform float32 weights (shape (n_out, n_in)) and zero biases, per layer.

    Drawn in the order deltarule's ``Network(..., seed=seed)`` draws them, so it is the
    same initialisation deltarule uses by default; every implementation starts here
    (scikit-learn, which cannot be given weights, draws its own Glorot-uniform ones).
    """
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (n_in + n_out))
        weight = rng.uniform(-limit, limit, size=(n_out, n_in)).astype(np.float32)
        layers.append((weight, np.zeros(n_out, dtype=np.float32)))
    return layers


# -------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class Classification:
    """Features, integer labels and one-hot targets (float32), plus a held-out split."""

    X: np.ndarray
    labels: np.ndarray
    X_test: np.ndarray
    labels_test: np.ndarray
    source: str

    @property
    def onehot(self) -> np.ndarray:
        return _onehot(self.labels, int(self.labels.max()) + 1)


def _onehot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((labels.size, n_classes), dtype=np.float32)
    out[np.arange(labels.size), labels] = 1
    return out


def _synthetic_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded MNIST-like data: 10 sparse class prototypes plus noise, clipped to [0, 1]."""
    rng = np.random.default_rng(seed)
    prototypes = (rng.random((10, 784)) < 0.2) * rng.uniform(0.5, 1.0, (10, 784))
    labels = rng.integers(0, 10, n)
    X = np.empty((n, 784), dtype=np.float32)
    for start in range(0, n, 8192):  # in chunks: no float64 copy of the whole set
        stop = min(start + 8192, n)
        noise = rng.normal(0.0, 0.5, (stop - start, 784))
        X[start:stop] = np.clip(prototypes[labels[start:stop]] + noise, 0.0, 1.0)
    return X, labels


@functools.lru_cache(maxsize=1)
def _fashion_mnist():  # noqa: ANN202
    """Fashion-MNIST through deltarule's loader, or None when it is not installed."""
    from deltarule.datasets import load_dataset
    from deltarule.exceptions import InputError

    try:
        return load_dataset("fashion-mnist")
    except InputError:
        return None


@functools.lru_cache(maxsize=4)
def mnist_like(n_samples: int, data: str = "auto") -> Classification:
    """The (a) and (d) data: ``n_samples`` rows of 784 float32 features in [0, 1]."""
    if data in ("auto", "fashion-mnist"):
        dataset = _fashion_mnist()
        if dataset is not None:
            X, y = dataset.X_train[:n_samples], dataset.y_train[:n_samples]
            source = "Fashion-MNIST (deltarule.datasets)"
            return Classification(
                np.ascontiguousarray(X), y, dataset.X_test, dataset.y_test, source
            )
        if data == "fashion-mnist":
            raise RuntimeError("Fashion-MNIST was asked for but is not installed")
    X, y = _synthetic_images(n_samples + 1000, SEED)
    source = f"synthetic (seed {SEED})"
    return Classification(X[:n_samples], y[:n_samples], X[n_samples:], y[n_samples:], source)


@functools.lru_cache(maxsize=1)
def breast_cancer() -> Classification:
    """The (c) data: scikit-learn's breast_cancer, standardised, deltarule's fixed split."""
    from deltarule.datasets import load_dataset

    ds = load_dataset("breast_cancer", seed=SEED)
    return Classification(ds.X_train, ds.y_train, ds.X_test, ds.y_test, "breast_cancer")


def tutorial() -> tuple[list[list[float]], list[float], list[float], list[float]]:
    """The tutorial's 2-2-2 network as plain data: (rows [W1, W2], biases, x, target).

    ``W1 = [[w1, w2], [w3, w4]]`` and ``W2 = [[w5, w6], [w7, w8]]`` (row j feeds neuron j);
    biases b1 = 0.35 and b2 = 0.60 are held fixed, as in the tutorial.
    """
    from deltarule.textbook import TUTORIAL_INPUTS, TUTORIAL_TARGETS

    weights = [[0.15, 0.20, 0.25, 0.30], [0.40, 0.45, 0.50, 0.55]]
    return weights, [0.35, 0.60], list(TUTORIAL_INPUTS[0]), list(TUTORIAL_TARGETS[0])


# ------------------------------------------------------------------------- arithmetic
def train_flops_per_sample(sizes: tuple[int, ...]) -> int:
    """Multiply-adds x 2 of one training sample: forward, weight gradients, input gradients.

    The first layer's input gradient is not needed, so it is not counted.
    """
    pairs = list(zip(sizes[:-1], sizes[1:]))
    forward = sum(i * o for i, o in pairs)
    input_grads = sum(i * o for i, o in pairs[1:])
    return 2 * (2 * forward + input_grads)


def predict_flops_per_sample(sizes: tuple[int, ...]) -> int:
    return 2 * sum(i * o for i, o in zip(sizes[:-1], sizes[1:]))


def memory_bound_bytes(
    data_bytes: int, sizes: tuple[int, ...], batch: int, optimizer_arrays: int = 2
) -> dict[str, int]:
    """The peak-memory target 1.5 x (data + parameters + optimizer state + activations).

    Activations are one batch's input plus each layer's net input and output (float32).
    Adam's state is its two moment vectors.
    """
    n_params = sum(i * o + o for i, o in zip(sizes[:-1], sizes[1:]))
    parameters = 4 * n_params
    activations = 4 * batch * (sizes[0] + 2 * sum(sizes[1:]))
    parts = {
        "data": int(data_bytes),
        "parameters": parameters,
        "optimizer_state": optimizer_arrays * parameters,
        "activations": activations,
    }
    parts["bound"] = int(1.5 * sum(parts.values()))
    return parts
