"""deltarule on every workload, through its public API (``Network`` and ``fit``).

Training metrics are switched off (``metrics=[]``) so deltarule does the same work
as the peers, which compute the loss only.
"""

from __future__ import annotations

import os
import tracemalloc
import warnings
from collections.abc import Callable

import numpy as np
import workloads as wl
from measure import rss, timed

import deltarule as dr
from deltarule import _minibatch
from deltarule.optimizers import Adam
from deltarule.textbook import tutorial_network


def describe() -> dict:
    """deltarule's version, what computes its products, and its whole report of them
    (``deltarule versions``, under ``report``: run in a process of its own, as this worker's
    environment, since it imports numba, which this worker's memory figures would otherwise
    leave out; MKL and oneDNN are loaded here, as they always were before those figures)."""
    import json
    import subprocess
    import sys

    from deltarule import _mkl, _onednn

    _mkl.available(), _onednn.available()
    command = [sys.executable, "-m", "deltarule", "versions", "--format", "json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout) if done.returncode == 0 else {"error": done.stderr.strip()}
    used = {name: entry["status"] == "used" for name, entry in report.get("products", {}).items()
            if name in ("mkl", "onednn")}  # fmt: skip
    products = "NumPy's BLAS"
    if used.get("mkl"):
        products = "MKL (threaded steps and predict)"
    elif used.get("onednn"):
        products = "oneDNN (threaded steps and predict, large products)"
    return {"version": dr.__version__, "numpy": np.__version__, "products": products,
            "report": report}  # fmt: skip


def _network(sizes: tuple[int, ...], output_activation: str) -> dr.Network:
    net = dr.Network(list(sizes), activation="relu", output_activation=output_activation, seed=0)
    values = {}
    for i, (weight, bias) in enumerate(wl.glorot_weights(sizes), start=1):
        values[f"W{i}"], values[f"b{i}"] = weight, bias
    return net.set_parameters(values)


def _fit(net: dr.Network, X: np.ndarray, y: np.ndarray, **kwargs) -> dr.Network:
    with warnings.catch_warnings():  # "loss still falling" after a fixed number of epochs
        warnings.simplefilter("ignore", dr.ConvergenceWarning)
        return net.fit(X, y, verbose=0, metrics=[], seed=wl.SEED, **kwargs)


def mlp_epoch(batch_size: int, n_samples: int, data: str) -> dict:
    """(a): one epoch of Adam over the MNIST-shaped data."""
    d = wl.mnist_like(n_samples, data)
    X, y = d.X, d.onehot
    net = _network(wl.MNIST_SIZES, "softmax")
    kwargs = dict(epochs=1, batch_size=batch_size, optimizer="adam")
    seconds, history = timed(lambda: _fit(net, X, y, learning_rate=wl.ADAM_LEARNING_RATE, **kwargs))
    return {"seconds": seconds, "samples": X.shape[0], "loss": history.loss[-1], "data": d.source}


def _shape_built(work: Callable[[], object]) -> None:
    """Build the online kernel written out for ``work``'s network before it is timed, as
    JAX's warm-up compiles its loop (once per process and shape: ``deltarule._shaped``
    builds a shape once it has trained 1 s; the build takes seconds once per shape and
    machine, then numba's cache). With ``DELTARULE_SHAPED=0`` (the generic-kernel row: what
    a shape runs until then) it does nothing."""
    from deltarule import _shaped

    saved = _shaped.HOT_SECONDS, _shaped.WARM_SECONDS, _shaped.BUILD_SECONDS
    _shaped.HOT_SECONDS = _shaped.WARM_SECONDS = _shaped.BUILD_SECONDS = 0.0
    try:
        work()
        _shaped.wait()
    finally:
        _shaped.HOT_SECONDS, _shaped.WARM_SECONDS, _shaped.BUILD_SECONDS = saved


def tutorial_online_generic(n: int) -> dict:
    """(b) with ``DELTARULE_SHAPED=0``: the generic online kernel, which a shape runs until
    it has trained for a second in the process (and the build is done)."""
    previous = os.environ.get("DELTARULE_SHAPED")
    os.environ["DELTARULE_SHAPED"] = "0"
    try:
        return tutorial_online(n)
    finally:
        if previous is None:
            del os.environ["DELTARULE_SHAPED"]
        else:
            os.environ["DELTARULE_SHAPED"] = previous


def tutorial_online(n: int) -> dict:
    """(b): ``n`` online updates of the tutorial network, as ``n`` epochs of ``fit``."""
    net, X, y = tutorial_network(dtype="float32")
    kwargs = dict(epochs=n, batch_size=1, optimizer="sgd")
    _shape_built(lambda: _fit(tutorial_network(dtype="float32")[0], X, y, epochs=3,
                              batch_size=1, optimizer="sgd", learning_rate=0.5))  # fmt: skip
    seconds, _ = timed(lambda: _fit(net, X, y, learning_rate=wl.TUTORIAL_LEARNING_RATE, **kwargs))
    return {"seconds": seconds, "updates": n, "error": net.evaluate(X, y)}


def tutorial_online_estimator(n: int) -> dict:
    """(b) through ``deltarule.sklearn.MLPRegressor`` with ``batch_size=1``.

    The estimator's output layer is the identity (scikit-learn's regressor), so this is
    the tutorial's 2-2-2 shape with logistic hidden units, trained by plain SGD (lr 0.5,
    no momentum) on the tutorial's one example: ``max_iter=n`` epochs of one update each.
    """
    from sklearn.base import clone

    from deltarule.sklearn import MLPRegressor
    from deltarule.textbook import TUTORIAL_INPUTS, TUTORIAL_TARGETS

    est = MLPRegressor(hidden_layer_sizes=(2,), activation="logistic", solver="sgd",
                       batch_size=1, learning_rate_init=0.5, momentum=0.0, max_iter=n,
                       tol=0.0, n_iter_no_change=n + 1, shuffle=False, random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _shape_built(
            lambda: clone(est).set_params(max_iter=3).fit(TUTORIAL_INPUTS, TUTORIAL_TARGETS)
        )
        seconds, _ = timed(lambda: est.fit(TUTORIAL_INPUTS, TUTORIAL_TARGETS))
    return {"seconds": seconds, "updates": int(est.t_)}


def tabular(optimizer: str, epochs: int, batch_size: int) -> dict:
    """(c): fit breast_cancer with Adam (mini-batches) or L-BFGS (full batch)."""
    d = wl.breast_cancer()
    net = _network(wl.TABULAR_SIZES, "sigmoid")
    y = d.labels.reshape(-1, 1).astype(np.float32)
    if optimizer == "adam":
        kwargs = dict(batch_size=batch_size, learning_rate=wl.ADAM_LEARNING_RATE)
    else:
        kwargs = dict(batch_size=None)
    seconds, _ = timed(lambda: _fit(net, d.X, y, epochs=epochs, optimizer=optimizer, **kwargs))
    accuracy = float(((net.predict(d.X_test)[:, 0] > 0.5) == d.labels_test).mean())
    return {"seconds": seconds, "accuracy": accuracy}


def tabular_plain(optimizer: str, epochs: int, batch_size: int) -> dict:
    """(c) with the compiled mini-batch steps switched off: the NumPy step, for comparison."""
    saved = _minibatch.MIN_PARAMETERS, _minibatch.MIN_STEPS
    _minibatch.MIN_PARAMETERS = _minibatch.MIN_STEPS = 2**62
    try:
        return tabular(optimizer, epochs, batch_size)
    finally:
        _minibatch.MIN_PARAMETERS, _minibatch.MIN_STEPS = saved


def predict(batch_size: int, n: int, data: str) -> dict:
    """(d): ``n`` calls of ``predict`` on ``batch_size`` rows."""
    X = wl.mnist_like(max(batch_size, 1024), data).X[:batch_size]
    net = _network(wl.MNIST_SIZES, "softmax")

    def work() -> None:
        for _ in range(n):
            net.predict(X)

    seconds, _ = timed(work)
    return {"seconds": seconds, "samples": n * batch_size}


def memory_epoch(batch_size: int, n_samples: int, data: str) -> dict:
    """Peak memory of one (a) epoch: resident-set growth, then tracemalloc's peak.

    Run in a fresh process. The data and the network exist before either measurement
    starts, so both numbers are what training adds on top of them.
    """
    d = wl.mnist_like(n_samples, data)
    X, y = d.X, d.onehot
    kwargs = dict(
        epochs=1, batch_size=batch_size, optimizer="adam", learning_rate=wl.ADAM_LEARNING_RATE
    )
    net = _network(wl.MNIST_SIZES, "softmax")
    resident = rss.growth(lambda: _fit(net, X, y, **kwargs))
    net = _network(wl.MNIST_SIZES, "softmax")
    tracemalloc.start()
    _fit(net, X, y, **kwargs)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    network_bytes = net.parameters.nbytes + net.trainable.nbytes
    return {
        **resident,
        "traced_peak": traced_peak,
        "data_bytes": X.nbytes + y.nbytes,
        "network_bytes": network_bytes,
        "bound": wl.memory_bound_bytes(X.nbytes + y.nbytes, wl.MNIST_SIZES, batch_size),
    }


class _StepProbe(Adam):
    """Adam that reads tracemalloc after each update: the windows between are training steps.

    Passed to ``fit`` as the optimizer, so the steps measured are those of the public
    training loop, whatever its internals.
    """

    def __init__(self, learning_rate: float) -> None:
        super().__init__(learning_rate)
        self.readings: list[tuple[int, int]] = []

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:  # noqa: ANN001
        super().update(params, grad, state, learning_rate, loss)
        if tracemalloc.is_tracing():
            self.readings.append(tracemalloc.get_traced_memory())
            tracemalloc.reset_peak()


def step_allocation(batch_size: int, steps: int, data: str) -> dict:
    """Bytes allocated by one training step of ``fit`` after warm-up (the target is ~0).

    One epoch of ``fit`` over ``WARM + steps + 1`` batches runs under tracemalloc. Where
    ``fit`` runs its steps compiled (deltarule._minibatch: numba installed, a network this
    size), each call of the kernel runs several steps: a call's peak above the level where
    it started (``transient``) and what it left behind (``retained``) are divided by its
    steps. Otherwise the window between two optimizer updates is one step (an Adam probe
    that reads tracemalloc after each update; a subclass, so it takes the plain step),
    and the first ``WARM`` windows (epoch start, first-call caches) are not counted.
    Allocations inside numba kernels are not seen by tracemalloc (a call allocates numba's
    wrappers of its array arguments and two small work arrays, none per step).
    """
    from deltarule import _minibatch

    warm = 4
    d = wl.mnist_like(max(batch_size * (warm + steps + 1), 1024), data)
    n = batch_size * (warm + steps + 1)
    X, y = d.X[:n], d.onehot[:n]
    net = _network(wl.MNIST_SIZES, "softmax")
    runs: list[tuple[int, int, int]] = []
    real = _minibatch.MinibatchKernel.run

    def watched(self, trainer, X, Y, order, first, n_steps, *args):  # noqa: ANN001, ANN202
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = real(self, trainer, X, Y, order, first, n_steps, *args)
        current, peak = tracemalloc.get_traced_memory()
        runs.append((n_steps, peak - before, current - before))
        return result

    _minibatch.MinibatchKernel.run = watched
    try:
        kwargs = dict(epochs=1, batch_size=batch_size, optimizer="adam")
        _fit(net, X, y, learning_rate=wl.ADAM_LEARNING_RATE, **kwargs)  # warm-up
        runs.clear()
        tracemalloc.start()
        _fit(net, X, y, learning_rate=wl.ADAM_LEARNING_RATE, **kwargs)
        tracemalloc.stop()
    finally:
        _minibatch.MinibatchKernel.run = real
    if runs:
        transient = [peak / k for k, peak, _ in runs]
        retained = [kept / k for k, _, kept in runs]
        how = f"fit's compiled steps: per kernel call / its steps ({len(runs)} calls)"
    else:
        probe = _StepProbe(wl.ADAM_LEARNING_RATE)
        _fit(net, X, y, epochs=1, batch_size=batch_size, optimizer=probe)  # warm-up
        probe.readings.clear()
        tracemalloc.start()
        _fit(net, X, y, epochs=1, batch_size=batch_size, optimizer=probe)
        tracemalloc.stop()
        readings = probe.readings[warm:]
        transient = [peak - before for (before, _), (_, peak) in zip(readings, readings[1:])]
        retained = [after - before for (before, _), (after, _) in zip(readings, readings[1:])]
        how = "fit(optimizer=Adam probe): between consecutive updates"
    activations = wl.memory_bound_bytes(0, wl.MNIST_SIZES, batch_size)["activations"]
    return {
        "step": how,
        "steps_counted": len(transient),
        "transient_median": float(np.median(transient)),
        "transient_max": int(max(transient)),
        "retained_mean": float(np.mean(retained)),
        "batch_activation_bytes": activations,
    }


TASKS = {
    "mlp_epoch": mlp_epoch,
    "tutorial_online": tutorial_online,
    "tutorial_online_estimator": tutorial_online_estimator,
    "tutorial_online_generic": tutorial_online_generic,
    "tabular": tabular,
    "tabular_plain": tabular_plain,
    "predict": predict,
    "memory_epoch": memory_epoch,
    "step_allocation": step_allocation,
}
