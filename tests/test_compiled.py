"""The compiled online path gives the plain NumPy path's results (within float rounding)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import count_calls

import deltarule as dr
from deltarule import _compiled
from deltarule.textbook import tutorial_network
from deltarule.training import Trainer

pytestmark = pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")


def kernel_calls(monkeypatch) -> list:
    """A list that gains an entry each time the compiled kernel runs."""
    return count_calls(monkeypatch, _compiled.OnlineKernel, "run")


def train_both(make, X, y, monkeypatch, learning_rate=0.1, seed=0, l2=0.0, **kwargs):
    """Train two identical networks, one through the compiled path, one through NumPy."""
    results = []
    for compiled in (True, False):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        net = make()
        trainer = Trainer(net, "sgd", learning_rate, 1, seed=seed, metrics=[], l2=l2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = trainer.fit(X, y, verbose=0, **kwargs)
        results.append((net, history, trainer))
    return results


def test_tutorial_ten_thousand_updates_match(monkeypatch) -> None:
    net, X, y = tutorial_network()
    (fast, hf, tf), (slow, hs, ts) = train_both(
        lambda: tutorial_network()[0], X, y, monkeypatch, learning_rate=0.5, epochs=10_000
    )
    np.testing.assert_allclose(fast.parameters, slow.parameters, rtol=1e-12)
    np.testing.assert_allclose(hf.loss, hs.loss, rtol=1e-10)
    assert len(hf) == len(hs) == 10_000
    assert [r.epoch for r in hf][:3] == [1, 2, 3] and hf[-1].epoch == 10_000
    np.testing.assert_allclose(
        [r.gradient_norm for r in hf], [r.gradient_norm for r in hs], rtol=1e-8
    )
    assert tf.optimizer_state["step"] == ts.optimizer_state["step"] == 10_000
    assert hf.stop_reason == hs.stop_reason


CASES = [
    ("sigmoid", "sigmoid", "half_squared_error", 1),
    ("tanh", "identity", "mse", 2),
    ("relu", "sigmoid", "binary_crossentropy", 1),
    ("leaky_relu", "softmax", "categorical_crossentropy", 3),
    ("identity", "tanh", "half_squared_error", 2),
]


@pytest.mark.parametrize("hidden,out,loss,k", CASES, ids=[c[2] + "-" + c[0] for c in CASES])
def test_shuffled_multi_sample_training_matches(hidden, out, loss, k, monkeypatch) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, 3))
    if loss == "categorical_crossentropy":
        y = np.eye(k)[rng.integers(0, k, 12)]
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, size=(12, k)).astype(float)
    else:
        y = rng.uniform(-0.5, 0.9, size=(12, k))

    def make():
        return dr.Network(
            [3, 5, 4, k],
            activation=hidden,
            output_activation=out,
            loss=loss,
            seed=2,
            dtype="float64",
        )

    (fast, hf, tf), (slow, hs, ts) = train_both(make, X, y, monkeypatch, epochs=25, seed=4)
    np.testing.assert_allclose(fast.parameters, slow.parameters, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(hf.loss, hs.loss, rtol=1e-9)
    # the random streams advanced identically: the next epochs' orders agree
    assert tf._shuffle_rng.bit_generator.state == ts._shuffle_rng.bit_generator.state


def test_float32_stays_close_and_keeps_dtype(monkeypatch) -> None:
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(10, 2)), rng.uniform(0, 1, size=(10, 1))

    def make():
        return dr.Network(
            [2, 4, 1],
            activation="tanh",
            output_activation="sigmoid",
            loss="half_squared_error",
            seed=0,
        )

    (fast, hf, _), (slow, hs, _) = train_both(make, X, y, monkeypatch, epochs=50)
    assert fast.parameters.dtype == np.float32
    np.testing.assert_allclose(fast.parameters, slow.parameters, rtol=1e-4, atol=1e-5)


def test_target_error_stops_at_the_same_epoch(monkeypatch) -> None:
    from deltarule.callbacks import TargetError

    net, X, y = tutorial_network()
    (fast, hf, _), (slow, hs, _) = train_both(
        lambda: tutorial_network()[0],
        X,
        y,
        monkeypatch,
        learning_rate=0.5,
        epochs=50_000,
        callbacks=[TargetError(1e-3)],
    )
    assert len(hf) == len(hs) < 50_000
    assert hf.stop_reason == hs.stop_reason and hf.stop_reason.startswith("target error")
    np.testing.assert_allclose(fast.parameters, slow.parameters, rtol=1e-12)


def test_divergence_is_reported_like_the_plain_path(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(6, 2)) * 1e3, rng.normal(size=(6, 1))

    def make():
        return dr.Network([2, 3, 1], activation="relu", seed=0, dtype="float64")

    (fast, hf, _), (slow, hs, _) = train_both(
        make, X, y, monkeypatch, learning_rate=10.0, epochs=100
    )
    assert "diverged" in hf.stop_reason and hf.stop_reason == hs.stop_reason
    assert np.isfinite(fast.parameters).all()
    np.testing.assert_allclose(fast.parameters, slow.parameters, rtol=1e-9)


def test_compiled_path_is_not_used_when_the_run_needs_more(monkeypatch) -> None:
    calls = kernel_calls(monkeypatch)
    net, X, y = tutorial_network()
    net.fit(X, y, epochs=3, batch_size=1, optimizer="sgd", learning_rate=0.5, metrics=[], verbose=0)
    assert calls, "the tutorial's online run should take the compiled path"
    calls.clear()
    net.fit(X, y, epochs=3, batch_size=1, optimizer="momentum", metrics=[], verbose=0)
    net.fit(X, y, epochs=3, batch_size=1, optimizer="sgd", metrics=[], verbose=0, l1=0.1)
    net.fit(X, y, epochs=3, batch_size=1, optimizer="sgd", metrics=["mse"], verbose=0)

    class Changed(dr.Network):  # a subclass with its own backward: the kernel cannot know it
        def backward(self, *args, **kwargs):
            return super().backward(*args, **kwargs)

    changed = Changed([2, 2, 2], activation="sigmoid", output_activation="sigmoid", seed=0)
    changed.fit(X, y, epochs=3, batch_size=1, optimizer="sgd", metrics=[], verbose=0)
    assert calls == []


def test_l2_early_stopping_and_validation_match_the_plain_path(monkeypatch) -> None:
    # Callbacks that must see every epoch and validation data: one compiled epoch per call.
    from deltarule.callbacks import EarlyStopping

    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(40, 3)), rng.uniform(0.1, 0.9, size=(40, 2))

    def make():
        return dr.Network([3, 6, 2], activation="tanh", output_activation="sigmoid",
                          loss="half_squared_error", seed=1, dtype="float64")  # fmt: skip

    calls = kernel_calls(monkeypatch)
    kwargs = dict(
        epochs=300, validation_split=0.25, callbacks=[EarlyStopping("val_loss", patience=5)]
    )
    (fast, hf, tf), (slow, hs, ts) = train_both(make, X, y, monkeypatch, l2=0.01, **kwargs)
    assert calls, "the compiled path should run"
    assert len(hf) == len(hs) < 300 and hf.stop_reason == hs.stop_reason
    np.testing.assert_allclose(hf.loss, hs.loss, rtol=1e-9)
    np.testing.assert_allclose(hf.val_loss, hs.val_loss, rtol=1e-9)
    np.testing.assert_allclose(
        [r.gradient_norm for r in hf], [r.gradient_norm for r in hs], rtol=1e-8
    )
    np.testing.assert_allclose(fast.parameters, slow.parameters, rtol=1e-9, atol=1e-12)
    assert tf.optimizer_state["step"] == ts.optimizer_state["step"]
    assert tf._shuffle_rng.bit_generator.state == ts._shuffle_rng.bit_generator.state


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_adam_equals_the_numpy_passes(dtype, monkeypatch) -> None:
    from deltarule.optimizers import Adam

    rng = np.random.default_rng(0)
    size = _compiled.FUSED_MIN_SIZE * 3
    start = rng.normal(size=size).astype(dtype)
    grads = [rng.normal(size=size).astype(dtype) for _ in range(33)]
    for g in grads:
        g[:1000] = 0  # "dead units": their moments decay towards the flush bound
    # moments around the flush bound (either sign) and subnormal, so flushes happen
    bound = np.finfo(dtype).tiny * 1024
    near = (bound * rng.uniform(0.5, 100.0, size=1000) * rng.choice([-1, 1], 1000)).astype(dtype)
    results = []
    for compiled in (True, False):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        opt, params = Adam(0.01), start.copy()
        state = opt.init(params)
        state["first_moment"][:1000] = near
        state["second_moment"][:1000] = np.abs(near)
        for g in grads:  # 33 steps: two of them flush
            opt.update(params, g, state)
        results.append((params, state["first_moment"], state["second_moment"]))
    assert (results[1][1][:1000] == 0).any() and (results[1][1][:1000] != 0).any()
    for fused, plain in zip(*results):
        assert fused.dtype == dtype
        # the same operations in the same order: equal to the last bit (signed zeros too)
        np.testing.assert_array_equal(fused, plain)
        np.testing.assert_array_equal(np.signbit(fused), np.signbit(plain))


def test_a_small_network_trains_without_importing_numba() -> None:
    # numba's import and kernel loading cost about 0.3 s: small runs must not pay it.
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, deltarule as dr\n"
        "net = dr.Network([4, 8, 3], output_activation='softmax', seed=0)\n"
        "X = np.random.default_rng(0).normal(size=(150, 4)); Y = np.eye(3)[np.arange(150) % 3]\n"
        "net.fit(X, Y, epochs=3, verbose=0, batch_size=16)\n"
        "net.predict(X)\n"
        "assert 'numba' not in sys.modules, 'numba was imported'\n"
    )
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()


@pytest.mark.parametrize("kind", ["regressor", "classifier", "classifier-early-stopping"])
def test_sklearn_estimators_online_match_the_plain_path(kind, monkeypatch) -> None:
    # batch_size=1, solver="sgd" without momentum: scikit-learn's objective (loss scale and
    # alpha) in the kernel, its stopping rules (tol, early stopping) between epochs.
    from deltarule.sklearn import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(7)
    X = rng.normal(size=(30, 4))
    if kind == "regressor":
        y = X @ rng.normal(size=(4, 2)) + 0.1 * rng.normal(size=(30, 2))
        make = MLPRegressor
    else:
        y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
        make = MLPClassifier
    params = dict(hidden_layer_sizes=(5,), solver="sgd", batch_size=1, momentum=0.0,
                  learning_rate_init=0.05, alpha=0.01, max_iter=150, random_state=0,
                  early_stopping=kind.endswith("early-stopping"))  # fmt: skip
    calls = kernel_calls(monkeypatch)
    fitted = []
    for compiled in (True, False):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted.append(make(**params).fit(X, y))
    fast, slow = fitted
    assert calls, "the estimator's online run should take the compiled path"
    assert fast.n_iter_ == slow.n_iter_
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=1e-9)
    for a, b in zip(fast.coefs_ + fast.intercepts_, slow.coefs_ + slow.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)
    if kind.endswith("early-stopping"):
        np.testing.assert_allclose(fast.validation_scores_, slow.validation_scores_, rtol=1e-9)
