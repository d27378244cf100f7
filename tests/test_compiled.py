"""The compiled online path gives the plain NumPy path's results (within float rounding)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import count_calls

import deltarule as dr
from deltarule import _compiled
from deltarule.exceptions import InputError
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
    net.fit(X, y, epochs=3, batch_size=1, optimizer="adam", metrics=[], verbose=0)
    net.fit(X, y, epochs=3, batch_size=1, optimizer="sgd", metrics=[], verbose=0, l1=0.1)
    net.fit(X, y, epochs=3, batch_size=1, optimizer="sgd", metrics=[], verbose=0,
            sample_weight=np.arange(1.0, len(X) + 1))  # fmt: skip

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


@pytest.mark.parametrize(
    "kind",
    ["regressor", "classifier", "classifier-early-stopping", "regressor-momentum",
     "regressor-nesterov"],
)  # fmt: skip
def test_sklearn_estimators_online_match_the_plain_path(kind, monkeypatch) -> None:
    # batch_size=1, solver="sgd" without momentum, or with scikit-learn's momentum or
    # Nesterov momentum: scikit-learn's objective (loss scale and alpha) and rule in the
    # kernel, its stopping rules (tol, early stopping) between epochs.
    from deltarule.sklearn import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(7)
    X = rng.normal(size=(30, 4))
    if kind.startswith("regressor"):
        y = X @ rng.normal(size=(4, 2)) + 0.1 * rng.normal(size=(30, 2))
        make = MLPRegressor
    else:
        y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
        make = MLPClassifier
    momentum = 0.9 if kind.endswith(("momentum", "nesterov")) else 0.0
    params = dict(hidden_layer_sizes=(5,), solver="sgd", batch_size=1, momentum=momentum,
                  nesterovs_momentum=kind.endswith("nesterov"),
                  learning_rate_init=0.01 if momentum else 0.05, alpha=0.01, max_iter=150,
                  random_state=0, early_stopping=kind.endswith("early-stopping"))  # fmt: skip
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


# ----------------------------------------------- the plain loop's outcome in every case
def fit_both(make, X, y, monkeypatch, learning_rate, **kwargs):
    """Fit through the compiled online path and through NumPy: (trainer, network, history,
    warning messages) of each. Asserts that the kernel ran, and only where available."""
    calls = kernel_calls(monkeypatch)
    runs = []
    for compiled in (True, False):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        net, before = make(), len(calls)
        trainer = Trainer(net, "sgd", learning_rate, 1, seed=0, metrics=[])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = trainer.fit(X, y, verbose=0, **kwargs)
        runs.append((trainer, net, history, [str(w.message) for w in caught]))
        ran = len(calls) > before
        assert ran == compiled, "the compiled path should run (only) where available"
    return runs


def assert_same_outcome(fast, slow, rtol=1e-12) -> None:
    (tf, nf, hf, wf), (ts, ns, hs, ws) = fast, slow
    assert hf.stop_reason == hs.stop_reason and wf == ws
    assert [r.epoch for r in hf] == [r.epoch for r in hs]
    np.testing.assert_allclose(hf.loss, hs.loss, rtol=rtol)
    assert np.isfinite(nf.parameters).all() == np.isfinite(ns.parameters).all()
    np.testing.assert_allclose(nf.parameters, ns.parameters, rtol=rtol, atol=0)
    assert tf.epochs_done == ts.epochs_done
    assert tf.optimizer_state["step"] == ts.optimizer_state["step"]


OVERFLOWS = {  # one example whose update overflows the weights while its loss is finite
    "first-epoch": (lambda: dr.Network([2, 3, 1], activation="tanh", dtype="float64", seed=2),
                    [[1.0, 2.0]], 1e308),
    "second-epoch": (lambda: dr.Network([2, 1], use_bias=False, dtype="float64", seed=2),
                     [[1e-60, 0.0]], 1e260),
}  # fmt: skip


@pytest.mark.parametrize("validation", [False, True], ids=["chunks", "epoch-by-epoch"])
@pytest.mark.parametrize("case", sorted(OVERFLOWS))
def test_weights_overflowing_in_an_epoch_are_undone_as_the_plain_path_does(
    case, validation, monkeypatch
) -> None:
    # The loss of the epoch is finite (measured before the update) but the update overflows
    # the weights: the run stops there, with the weights of the epoch's start. The chunks
    # "restored" by replaying the finished epochs, which overflowed again, and checked the
    # weights only at the end of a chunk (the second epoch's overflow went on to a third).
    make, X, lr = OVERFLOWS[case]
    X, y = np.array(X), np.array([[30.0]])
    extra = {"validation_data": (X, y)} if validation else {}
    fast, slow = fit_both(make, X, y, monkeypatch, learning_rate=lr, epochs=5, **extra)
    assert_same_outcome(fast, slow)
    epoch = 1 if case == "first-epoch" else 2
    assert slow[2].stop_reason.startswith(
        f"training diverged at epoch {epoch}: the weights overflowed to infinity or NaN"
    )
    assert np.isfinite(fast[1].parameters).all()


def test_an_epoch_stops_at_its_first_non_finite_loss_as_the_plain_path_does(monkeypatch):
    # The plain loop makes no update after a non-finite loss and ends the epoch there: the
    # reported loss is that example's (inf), not the NaN that later updates made of it.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 3)) * 10, rng.normal(size=(5, 2))

    def make():
        return dr.Network([3, 6, 2], activation="relu", dtype="float64", seed=0)

    fast, slow = fit_both(make, X, y, monkeypatch, learning_rate=0.1, epochs=30)
    assert_same_outcome(fast, slow)
    assert "the loss became inf" in slow[2].stop_reason


@pytest.mark.parametrize("hidden", sorted(_compiled.ACTIVATION_CODES))
def test_a_nan_weight_is_seen_as_the_plain_path_sees_it(hidden, monkeypatch) -> None:
    # ReLU turned NaN into 0 (z if z > 0 else 0): the NaN weight trained on, unseen.
    X, y = np.random.default_rng(0).normal(size=(5, 3)), np.ones((5, 2))

    def make():
        net = dr.Network([3, 6, 2], activation=hidden, dtype="float64", seed=0)
        net.parameters[0] = np.nan
        return net

    fast, slow = fit_both(make, X, y, monkeypatch, learning_rate=0.01, epochs=3)
    assert_same_outcome(fast, slow)
    assert slow[2].stop_reason.startswith("training diverged at epoch 1: the loss became nan")


@pytest.mark.parametrize("name", sorted(_compiled.ACTIVATION_CODES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_kernels_activations_and_slopes_are_numpys(name, dtype) -> None:
    # NaN stays NaN, and -0.0 through ReLU is +0.0 (np.maximum), in either dtype.
    from deltarule import _jit
    from deltarule.activations import get_activation

    code, act = _compiled.ACTIVATION_CODES[name], get_activation(name)
    z = np.array([np.nan, -0.0, 0.0, np.inf, -np.inf, 1.5, -1.5, 40.0, -40.0], dtype)
    like = np.empty(1, dtype)
    a = np.array([_jit.online_act(code, v, like) for v in z], dtype)
    expected = act(z.reshape(1, -1)).ravel()
    np.testing.assert_allclose(a, expected, rtol=np.finfo(dtype).eps * 4, atol=0)
    numbers = ~np.isnan(expected)  # (a NaN's sign means nothing)
    np.testing.assert_array_equal(np.signbit(a)[numbers], np.signbit(expected)[numbers])
    slopes = np.array([_jit.online_slope(code, v, w, like) for v, w in zip(z, a)], dtype)
    np.testing.assert_allclose(slopes, act.derivative(z, a), rtol=np.finfo(dtype).eps * 4)


@pytest.mark.parametrize("lr", [1e30, 0.5])
def test_float32_networks_compute_in_float32(lr, monkeypatch) -> None:
    # The kernel computed the forward pass and loss in float64 for float32 networks: a loss
    # of 6e60 (beyond float32) and a divergence one epoch later than the NumPy path's.
    X, y = np.array([[1.0, 2.0]]), np.array([[3.0]])

    def make():
        return dr.Network([2, 3, 1], activation="tanh", dtype="float32", seed=2)

    fast, slow = fit_both(make, X, y, monkeypatch, learning_rate=lr, epochs=5)
    assert_same_outcome(fast, slow, rtol=1e-5)
    hf = fast[2]
    assert fast[1].parameters.dtype == np.float32
    # one example: the epoch's loss and gradient norm are float32 numbers
    assert all(np.float32(r.loss) == r.loss for r in hf)
    assert all(np.float32(r.gradient_norm) == r.gradient_norm for r in hf)


def test_any_target_reached_stops_at_the_plain_paths_epoch(monkeypatch) -> None:
    from deltarule.callbacks import TargetError

    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = X @ rng.normal(size=(3, 2)) + 0.1 * rng.normal(size=(20, 2))

    def make():
        return dr.Network([3, 6, 2], activation="tanh", dtype="float64", seed=2)

    targets = [TargetError(0.05), TargetError(0.5)]  # (it ran on to the smallest)
    fast, slow = fit_both(make, X, y, monkeypatch, 0.01, epochs=2000, callbacks=targets)
    assert_same_outcome(fast, slow, rtol=1e-9)
    assert slow[2].stop_reason.startswith("target error reached") and len(slow[2]) < 100


def test_ctrl_c_stops_the_chunked_online_run_after_a_chunk(tmp_path) -> None:
    # Ctrl-C escaped fit as KeyboardInterrupt: the chunk loop never listened for it.
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent("""
        import os, signal, threading, time, numpy as np, deltarule as dr
        from deltarule.training import Trainer

        def press():  # once fit listens for Ctrl-C (at most 5 s), and a little later
            end = time.monotonic() + 5
            while signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                if time.monotonic() > end:
                    break
                time.sleep(0.005)
            time.sleep(0.3)
            os.kill(os.getpid(), signal.SIGINT)

        rng = np.random.default_rng(0)
        X = rng.normal(size=(200, 6)); y = X[:, :2].copy()
        def make():
            return dr.Network([6, 8, 2], activation="tanh", seed=2)
        net = make()
        trainer = Trainer(net, "sgd", 0.001, 1, seed=0, metrics=[])
        threading.Thread(target=press, daemon=True).start()
        h = trainer.fit(X, y, epochs=10**7, verbose=0)
        print(h.stop_reason)
        again = make()  # the same number of epochs, uninterrupted: the same weights
        Trainer(again, "sgd", 0.001, 1, seed=0, metrics=[]).fit(X, y, epochs=len(h), verbose=0)
        print(len(h), h.last_epoch, trainer.epochs_done, trainer.optimizer_state["step"],
              bool(np.array_equal(net.parameters, again.parameters)))
    """)
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", str(script)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    reason, summary = done.stdout.strip().splitlines()[-2:]
    records, last, epochs_done, steps, same = summary.split()
    assert reason == f"interrupted (Ctrl-C) after epoch {records}"
    assert int(records) == int(last) == int(epochs_done) > 0 and int(steps) == 200 * int(records)
    assert same == "True"


# ------------------------------------- only the built-in objects are computed by name
def _two_tanh():
    return dr.Activation("tanh", lambda z: 2 * np.tanh(z), lambda z, a: 2 * (1 - (a / 2) ** 2))


def _triple_mse():
    return dr.Loss("mse", lambda o, t: 3 * ((o - t) ** 2).sum(axis=1), lambda o, t: 6 * (o - t))


def _with_doubled_layer(net):
    """``net`` with its first layer a Dense subclass that learns twice as fast."""
    from deltarule.layers import Dense

    class Doubled(Dense):
        def backward(self, weight, cache, grad_out, grad_weight, grad_bias, **kwargs):
            result = super().backward(weight, cache, grad_out, grad_weight, grad_bias, **kwargs)
            grad_weight *= 2
            return result

    first = net.layers[0]
    net.layers = (Doubled(first.n_inputs, first.n_outputs, first.activation), *net.layers[1:])
    return net


CUSTOM = {
    "activation": lambda: dr.Network([3, 4, 1], activation=_two_tanh(), dtype="float64", seed=1),
    "loss": lambda: dr.Network(
        [3, 4, 1], activation="tanh", loss=_triple_mse(), dtype="float64", seed=1
    ),  # fmt: skip
    "layer": lambda: _with_doubled_layer(
        dr.Network([3, 4, 1], activation="tanh", dtype="float64", seed=1)
    ),
}


@pytest.mark.parametrize("kind", sorted(CUSTOM))
def test_a_users_object_under_a_builtin_name_is_computed_as_its_own(kind, monkeypatch) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    y = X[:, :1] * 2
    calls = kernel_calls(monkeypatch)
    (fast, hf, _), (slow, hs, _) = train_both(CUSTOM[kind], X, y, monkeypatch, 0.01, epochs=3)
    assert not calls, "the kernel computes only the built-in objects"
    np.testing.assert_array_equal(fast.parameters, slow.parameters)


def test_an_activation_registered_over_a_builtin_is_not_computed_as_the_builtin(
    monkeypatch,
) -> None:
    from deltarule.activations import ACTIVATIONS

    monkeypatch.setitem(ACTIVATIONS, "tanh", _two_tanh())  # register_activation(overwrite=True)
    calls = kernel_calls(monkeypatch)
    net = dr.Network([3, 4, 1], activation="tanh", dtype="float64", seed=1)
    assert not _compiled.supported(net)
    X = np.random.default_rng(0).normal(size=(20, 3))
    net.fit(X, X[:, :1], epochs=2, batch_size=1, optimizer="sgd", metrics=[], verbose=0)
    assert not calls


# ------------------------------------------- momentum rules in the online kernel
MOMENTA = {
    "momentum": lambda: dr.optimizers.Momentum(0.02, momentum=0.9),
    "nesterov": lambda: dr.optimizers.Nesterov(0.02, momentum=0.8),
}


def fit_rule(make_optimizer, dtype, monkeypatch, compiled, *, epochs=40, **kwargs):
    monkeypatch.setattr(_compiled, "available", lambda: compiled)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(25, 3)).astype(dtype)
    y = np.stack([np.tanh(X[:, 0] - X[:, 1]), X[:, 2] * 0.5], axis=1).astype(dtype)
    net = dr.Network([3, 6, 2], activation="tanh", dtype=dtype, seed=4)
    trainer = Trainer(net, make_optimizer(), None, 1, seed=1, metrics=[], **kwargs.pop("t", {}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = trainer.fit(X, y, epochs=epochs, verbose=0, **kwargs)
    return net, history, trainer


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "setting",
    [
        {},
        {"t": {"l2": 0.01}},
        {"validation_split": 0.2},
        {"target_error": 0.02},
        {"early_stopping": True, "patience": 2, "epochs": 200},
        {"schedule": dr.schedules.StepDecay(step_size=3, gamma=0.7)},
    ],
    ids=["plain", "l2", "validation", "target", "early-stopping", "schedule"],
)
@pytest.mark.parametrize("rule", sorted(MOMENTA))
def test_online_momentum_rules_match_the_plain_path(rule, setting, dtype, monkeypatch) -> None:
    """Batches of one with momentum or Nesterov ran the NumPy step, ~50x slower than plain
    SGD's kernel (found by a speed QA pass): the kernel now applies their rules, the
    optimizer's NumPy operations in their order, its velocity the optimizer state's."""
    calls = kernel_calls(monkeypatch)
    fast = fit_rule(MOMENTA[rule], dtype, monkeypatch, True, **dict(setting))
    assert calls, "the online momentum run should take the compiled path"
    slow = fit_rule(MOMENTA[rule], dtype, monkeypatch, False, **dict(setting))
    (nf, hf, tf), (ns, hs, ts) = fast, slow
    tol = 2e-5 if dtype == "float32" else 1e-12
    assert [r.epoch for r in hf] == [r.epoch for r in hs] and hf.stop_reason == hs.stop_reason
    np.testing.assert_allclose(hf.loss, hs.loss, rtol=tol)
    np.testing.assert_allclose(nf.parameters, ns.parameters, rtol=tol, atol=tol)
    np.testing.assert_allclose(tf.optimizer_state["velocity"], ts.optimizer_state["velocity"],
                               rtol=tol * 10, atol=tol)  # fmt: skip
    assert tf.optimizer_state["step"] == ts.optimizer_state["step"]
    assert np.abs(tf.optimizer_state["velocity"]).max() > 0


@pytest.mark.parametrize("rule", sorted(MOMENTA))
def test_a_diverged_online_momentum_epoch_undoes_its_velocity_too(rule, monkeypatch) -> None:
    runs = []
    for compiled in (True, False):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        net = dr.Network([2, 3, 1], activation="tanh", dtype="float64", seed=2)
        optimizer = MOMENTA[rule]()
        optimizer.learning_rate = 40.0  # (steps that overshoot until the loss overflows)
        trainer = Trainer(net, optimizer, None, 1, seed=0, metrics=[])
        X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -2.0]])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = trainer.fit(X, np.array([[1e154], [-1e154], [3e153]]), epochs=50, verbose=0)
        runs.append((trainer, net, history, [str(w.message) for w in caught]))
    (tf, nf, hf, wf), (ts, ns, hs, ws) = runs
    assert "diverged" in hf.stop_reason and hf.stop_reason == hs.stop_reason and wf == ws
    np.testing.assert_allclose(nf.parameters, ns.parameters, rtol=1e-12)
    np.testing.assert_allclose(tf.optimizer_state["velocity"], ts.optimizer_state["velocity"],
                               rtol=1e-12)  # fmt: skip
    assert np.isfinite(tf.optimizer_state["velocity"]).all()


@pytest.mark.parametrize("rule", sorted(MOMENTA))
def test_a_frozen_parameters_velocity_decays_as_on_the_plain_path(rule, monkeypatch) -> None:
    """The NumPy step runs a frozen entry's rule on a gradient of 0 and puts the weight back,
    so its velocity decays; the kernel skipped it, and after unfreeze() the stale velocity
    moved it (found by a review)."""
    rng = np.random.default_rng(3)
    X, runs = rng.normal(size=(25, 3)), []
    y = np.tanh(X[:, :1] - X[:, 1:2])
    for compiled in (True, False):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        net = dr.Network([3, 6, 1], activation="tanh", seed=4, dtype="float64")
        trainer = Trainer(net, MOMENTA[rule](), None, 1, seed=1, metrics=[])
        trainer.fit(X, y, epochs=5, verbose=0, warn_convergence=False)
        net.freeze("b1")
        trainer.fit(X, y, epochs=5, verbose=0, warn_convergence=False)
        frozen = trainer.optimizer_state["velocity"][net.layout["b1"].slice].copy()
        net.unfreeze()
        trainer.fit(X, y, epochs=1, verbose=0, warn_convergence=False)
        runs.append((frozen, net.parameters.copy()))
    (vf, pf), (vs, ps) = runs
    np.testing.assert_allclose(vf, vs, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(pf, ps, rtol=1e-12, atol=1e-15)


def test_a_velocity_replaced_during_the_run_is_the_one_updated(monkeypatch) -> None:
    """A callback that puts a new velocity in the optimizer state (momentum reset after a
    warm-up): the kernel kept moving the array of the fit's start, and a float32 one on a
    float64 network crashed the chunked path (found by a review)."""

    class Reset(dr.callbacks.Callback):
        def __init__(self, dtype):
            self.dtype = dtype

        def on_epoch_end(self, record, state):
            if record.epoch == 3:
                kept = state.trainer.optimizer_state
                kept["velocity"] = np.zeros_like(kept["velocity"], dtype=self.dtype)

    rng = np.random.default_rng(3)
    X = rng.normal(size=(25, 3))
    y = np.tanh(X[:, :1] - X[:, 1:2])
    runs = []
    for compiled in (True, False):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        net = dr.Network([3, 6, 1], activation="tanh", seed=4, dtype="float64")
        trainer = Trainer(net, MOMENTA["momentum"](), None, 1, seed=1, metrics=[])
        trainer.fit(X, y, epochs=8, verbose=0, callbacks=[Reset(np.float64)],
                    warn_convergence=False)  # fmt: skip
        runs.append((net.parameters.copy(), trainer.optimizer_state["velocity"].copy()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(runs[0][1], runs[1][1], rtol=1e-9, atol=1e-15)
    monkeypatch.setattr(_compiled, "available", lambda: True)
    net = dr.Network([3, 6, 1], activation="tanh", seed=4, dtype="float64")
    trainer = Trainer(net, MOMENTA["momentum"](), None, 1, seed=1, metrics=[])
    said = r"replaced during the run by an array of dtype float32, not the network's float64"
    with pytest.raises(InputError, match=said):
        trainer.fit(X, y, epochs=8, verbose=0, callbacks=[Reset(np.float32)])


@pytest.mark.parametrize("n", [2, 4, 7, 150])
def test_a_chunks_visiting_orders_are_the_plain_loops_permutations(n) -> None:
    # the compiled online path draws a chunk's orders in one call; the plain loop draws
    # rng.permutation(n) an epoch: the same orders, and the stream left in the same state
    from types import SimpleNamespace

    from deltarule._online import epoch_orders

    drawn, plain = np.random.default_rng(11), np.random.default_rng(11)
    orders = epoch_orders(SimpleNamespace(shuffle=True, _shuffle_rng=drawn), n, 300)
    np.testing.assert_array_equal(orders, np.stack([plain.permutation(n) for _ in range(300)]))
    assert drawn.bit_generator.state == plain.bit_generator.state
