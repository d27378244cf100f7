"""scikit-learn's ``MLPClassifier`` on workloads (a), (c) and (d).

Settings match the others: ReLU hidden layers, no L2 penalty (``alpha=0``), float32
data (scikit-learn keeps float32), the same batch sizes and learning rate, and a fixed
number of epochs (early stopping disabled). scikit-learn draws its own Glorot-uniform
starting weights; it offers no way to pass them in.
"""

from __future__ import annotations

import warnings

import numpy as np
import workloads as wl
from measure import Unavailable, rss, timed

try:
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise Unavailable(f"scikit-learn is not installed ({exc})") from exc


def describe() -> dict:
    return {"version": sklearn.__version__}


def _classifier(sizes: tuple[int, ...], solver: str, epochs: int, batch_size: int | str):  # noqa: ANN202
    return MLPClassifier(
        hidden_layer_sizes=sizes[1:-1],
        activation="relu",
        solver=solver,
        alpha=0.0,
        batch_size=batch_size,
        learning_rate_init=wl.ADAM_LEARNING_RATE,
        max_iter=epochs,
        tol=1e-9,
        n_iter_no_change=epochs + 1,
        shuffle=True,
        random_state=wl.SEED,
    )


def _fit(clf: MLPClassifier, X: np.ndarray, y: np.ndarray) -> MLPClassifier:
    with warnings.catch_warnings():  # max_iter reached on purpose
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y)


def mlp_epoch(batch_size: int, n_samples: int, data: str) -> dict:
    """(a): one epoch of Adam."""
    d = wl.mnist_like(n_samples, data)
    clf = _classifier(wl.MNIST_SIZES, "adam", 1, batch_size)
    seconds, _ = timed(lambda: _fit(clf, d.X, d.labels))
    return {"seconds": seconds, "samples": d.X.shape[0], "loss": float(clf.loss_)}


def memory_epoch(batch_size: int, n_samples: int, data: str) -> dict:
    d = wl.mnist_like(n_samples, data)
    clf = _classifier(wl.MNIST_SIZES, "adam", 1, batch_size)
    return rss.growth(lambda: _fit(clf, d.X, d.labels))


def tabular(optimizer: str, epochs: int, batch_size: int) -> dict:
    """(c): breast_cancer with Adam or L-BFGS; scikit-learn's binary output is one sigmoid."""
    d = wl.breast_cancer()
    clf = _classifier(wl.TABULAR_SIZES, optimizer, epochs, batch_size)
    seconds, _ = timed(lambda: _fit(clf, d.X, d.labels))
    return {"seconds": seconds, "accuracy": float((clf.predict(d.X_test) == d.labels_test).mean())}


def predict(batch_size: int, n: int, data: str) -> dict:
    """(d): ``n`` calls of ``predict_proba`` with the shared starting weights."""
    d = wl.mnist_like(max(batch_size, 1024), data)
    X = d.X[:batch_size]
    clf = _fit(_classifier(wl.MNIST_SIZES, "adam", 1, 256), d.X[:1024], d.labels[:1024])
    layers = wl.glorot_weights(wl.MNIST_SIZES)
    clf.coefs_ = [w.T.copy() for w, _ in layers]
    clf.intercepts_ = [b for _, b in layers]

    def work() -> None:
        for _ in range(n):
            clf.predict_proba(X)

    seconds, _ = timed(work)
    return {"seconds": seconds, "samples": n * batch_size}


TASKS = {
    "mlp_epoch": mlp_epoch,
    "tabular": tabular,
    "predict": predict,
    "memory_epoch": memory_epoch,
}
