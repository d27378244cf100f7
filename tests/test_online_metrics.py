"""The compiled online path with training metrics: the plain NumPy loop's metric values, stop
epoch, weights and history (within float rounding), and the kernel runs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import count_calls

import deltarule as dr
from deltarule import _chunk_metrics, _compiled, _online
from deltarule.callbacks import EarlyStopping, TargetError, TimeLimit
from deltarule.metrics import Metric, accuracy
from deltarule.training import Trainer

pytestmark = pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
XOR_Y = np.array([[0], [1], [1], [0]], float)


def fit_both(make, X, y, monkeypatch, *, lr=0.5, metrics=None, shuffle=True, **kwargs):
    """Fit a network from ``make`` through the compiled online path and through NumPy;
    returns (trainer, network, history) of each, and asserts that the kernel ran (only)
    where it was available."""
    calls = count_calls(monkeypatch, _compiled.OnlineKernel, "run")
    runs = []
    for compiled in (True, False):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        net, before = make(), len(calls)
        trainer = Trainer(net, "sgd", lr, 1, shuffle=shuffle, seed=0, metrics=metrics)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = trainer.fit(X, y, verbose=0, **kwargs)
        runs.append((trainer, net, history))
        assert (len(calls) > before) == compiled, "the kernel should run (only) where available"
    return runs


def assert_same(fast, slow, exact=("accuracy",), rtol=1e-9) -> None:
    """The same stop, epochs, losses, metrics (``exact`` ones equal), weights and state."""
    (tf, nf, hf), (ts, ns, hs) = fast, slow
    assert hf.stop_reason == hs.stop_reason
    assert [r.epoch for r in hf] == [r.epoch for r in hs]
    np.testing.assert_allclose(hf.loss, hs.loss, rtol=rtol)
    cf, cs = hf.as_dict(), hs.as_dict()
    assert list(cf) == list(cs)
    for name in tf.metrics:
        if name.name in exact:
            assert cf[name.name] == cs[name.name], name.name
        else:
            np.testing.assert_allclose(cf[name.name], cs[name.name], rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(nf.parameters, ns.parameters, rtol=rtol, atol=1e-12)
    assert tf.epochs_done == ts.epochs_done
    assert tf.optimizer_state["step"] == ts.optimizer_state["step"]
    assert tf._shuffle_rng.bit_generator.state == ts._shuffle_rng.bit_generator.state


def xor_net(dtype="float64"):
    return lambda: dr.Network(
        [2, 4, 1], activation="tanh", output_activation="sigmoid", seed=1, dtype=dtype
    )


def classes(n=24, k=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, np.eye(k)[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]


def softmax_net():
    return dr.Network(
        [3, 5, 3], activation="relu", output_activation="softmax", seed=2, dtype="float64"
    )


@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffled", "in-order"])
def test_xor_accuracy_is_the_plain_paths_in_every_epoch(shuffle, monkeypatch) -> None:
    # binary cross-entropy: fit adds accuracy itself; 3000 epochs run in several chunks
    fast, slow = fit_both(xor_net(), XOR_X, XOR_Y, monkeypatch, shuffle=shuffle, epochs=3000)
    assert [m.name for m in fast[0].metrics] == ["accuracy"]
    assert_same(fast, slow)
    accuracies = fast[2]["accuracy"]
    assert len(accuracies) == 3000 and accuracies[-1] == 1.0 and min(accuracies) < 1.0


def test_float32_accuracy_and_dtype(monkeypatch) -> None:
    fast, slow = fit_both(xor_net("float32"), XOR_X, XOR_Y, monkeypatch, epochs=500)
    assert fast[1].parameters.dtype == np.float32
    assert_same(fast, slow, rtol=1e-4)


def test_softmax_accuracy_and_metrics_called_each_epoch(monkeypatch) -> None:
    X, y = classes()
    metrics = ["accuracy", "f1", "log_loss", "balanced_accuracy"]
    fast, slow = fit_both(softmax_net, X, y, monkeypatch, lr=0.05, metrics=metrics, epochs=200)
    assert_same(fast, slow)
    assert fast[2][-1].metrics.keys() == {"accuracy", "f1", "log_loss", "balanced_accuracy"}


def test_multilabel_accuracy(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 3))
    y = np.stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 2] > 0], axis=1).astype(float)

    def make():
        return dr.Network(
            [3, 6, 3],
            activation="tanh",
            output_activation="sigmoid",
            loss="binary_crossentropy",
            seed=0,
            dtype="float64",
        )

    fast, slow = fit_both(make, X, y, monkeypatch, lr=0.1, epochs=150)
    assert_same(fast, slow)


def regression_data():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(15, 3))
    return X, X @ rng.normal(size=(3, 2)) + 0.1 * rng.normal(size=(15, 2))


def regression_net():
    return dr.Network([3, 5, 2], activation="tanh", seed=3, dtype="float64")


def test_regression_metrics(monkeypatch) -> None:
    X, y = regression_data()
    fast, slow = fit_both(
        regression_net, X, y, monkeypatch, lr=0.01, metrics=["r2", "mse", "mae"], epochs=300
    )
    assert_same(fast, slow)
    assert fast[2]["r2"][-1] > fast[2]["r2"][0]


def test_a_users_metric_is_called_on_each_epochs_outputs(monkeypatch) -> None:
    seen = {True: [], False: []}

    def worst(output, target, sample_weight=None):  # the largest error of the epoch
        seen[_compiled.available()].append((output.shape, output.dtype, target.copy()))
        return float(np.abs(output - target).max())

    X, y = regression_data()
    metrics = [Metric("worst", worst, False, "regression"), "mse"]
    fast, slow = fit_both(regression_net, X, y, monkeypatch, lr=0.01, metrics=metrics, epochs=40)
    assert_same(fast, slow)
    assert len(seen[True]) == len(seen[False]) == 40
    for (shape, dtype, target), (shape_s, dtype_s, target_s) in zip(seen[True], seen[False]):
        assert shape == shape_s == (15, 2) and dtype == dtype_s == np.float64
        np.testing.assert_array_equal(target, target_s)  # the same visiting order


def test_a_users_function_under_the_accuracy_name_is_called(monkeypatch) -> None:
    calls = []

    def own(output, target, sample_weight=None):
        calls.append(1)
        return accuracy(output, target) / 2

    fast, slow = fit_both(
        xor_net(),
        XOR_X,
        XOR_Y,
        monkeypatch,
        metrics=[Metric("accuracy", own, True, "classification")],
        epochs=30,
    )
    assert_same(fast, slow)
    assert len(calls) == 60 and max(fast[2]["accuracy"]) <= 0.5


def test_a_metric_that_raises_leaves_the_run_as_the_plain_path_does(monkeypatch) -> None:
    # The plain loop raises after epoch 37 has run, with epochs 1-36 recorded; the chunk
    # that ran on to epoch 80 is run again to epoch 37.
    class Watch(TimeLimit):  # (a time limit: the run still goes in chunks)
        def on_train_begin(self, state):
            super().on_train_begin(state)
            self.history = state.history

    def fragile(output, target, sample_weight=None):
        count[0] += 1
        if count[0] == 37:
            raise ValueError("metric failed")
        return float(output.sum())

    runs = []
    for compiled in (True, False):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        count, net, watch = [0], xor_net()(), Watch(1e6)
        metrics = [Metric("fragile", fragile, True, "classification"), "accuracy"]
        trainer = Trainer(net, "sgd", 0.5, 1, seed=0, metrics=metrics)
        with pytest.raises(ValueError, match="metric failed"):
            trainer.fit(XOR_X, XOR_Y, epochs=100, verbose=0, callbacks=[watch])
        runs.append((trainer, net, watch.history))
    assert_same(*runs)
    assert runs[0][0].epochs_done == len(runs[0][2]) == 36
    assert runs[0][2].stop_reason == "stopped by an error"
    assert runs[0][0].optimizer_state["step"] == 37 * 4


def test_all_correct_stops_at_the_plain_paths_epoch(monkeypatch) -> None:
    fast, slow = fit_both(
        xor_net(), XOR_X, XOR_Y, monkeypatch, epochs=5000, callbacks=[dr.callbacks.AllCorrect()]
    )
    assert_same(fast, slow)
    assert fast[2].stop_reason == "every training example classified correctly"
    assert len(fast[2]) < 5000


def test_network_fit_stop_when_all_correct(monkeypatch) -> None:
    calls = count_calls(monkeypatch, _compiled.OnlineKernel, "run")
    runs = []
    for compiled in (True, False):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        net = xor_net()()
        history = net.fit(
            XOR_X,
            XOR_Y,
            epochs=5000,
            batch_size=1,
            optimizer="sgd",
            learning_rate=0.5,
            verbose=0,
            seed=0,
            stop_when_all_correct=True,
        )
        runs.append((net, history))
    (nf, hf), (ns, hs) = runs
    assert len(calls) < len(hf) / 4, "in chunks: the kernel checks every epoch's weights"
    assert hf.stop_reason == hs.stop_reason == "every training example classified correctly"
    assert len(hf) == len(hs) and hf["accuracy"] == hs["accuracy"]
    np.testing.assert_allclose(nf.parameters, ns.parameters, rtol=1e-9)


@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_on_accuracy(restore, monkeypatch) -> None:
    X, y = classes(n=30, seed=5)
    stop = [EarlyStopping("accuracy", patience=15, restore_best_weights=restore)]
    fast, slow = fit_both(softmax_net, X, y, monkeypatch, lr=0.05, epochs=2000, callbacks=stop)
    assert_same(fast, slow)
    assert fast[2].stop_reason.startswith("no improvement of accuracy")
    assert fast[2].best_epoch == slow[2].best_epoch


def test_early_stopping_on_validation_accuracy(monkeypatch) -> None:
    X, y = classes(n=40, seed=6)
    stop = [EarlyStopping("val_accuracy", patience=10)]
    fast, slow = fit_both(
        softmax_net, X, y, monkeypatch, lr=0.05, epochs=2000, callbacks=stop, validation_split=0.25
    )
    assert_same(fast, slow)
    assert fast[2]["val_accuracy"] == slow[2]["val_accuracy"]


def test_target_error_stops_at_the_same_epoch_with_metrics(monkeypatch) -> None:
    fast, slow = fit_both(
        xor_net(), XOR_X, XOR_Y, monkeypatch, epochs=20_000, callbacks=[TargetError(0.01)]
    )
    assert_same(fast, slow)
    assert fast[2].stop_reason.startswith("target error reached") and len(fast[2]) < 20_000


@pytest.mark.parametrize("validation", [False, True], ids=["chunks", "epoch-by-epoch"])
def test_divergence_with_metrics(validation, monkeypatch) -> None:
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    extra = {"validation_data": (X[:3], y[:3])} if validation else {}

    def make():
        return dr.Network([2, 3, 1], activation="relu", seed=0, dtype="float64")

    fast, slow = fit_both(
        make, X, y, monkeypatch, lr=0.5, metrics=["mse", "r2"], epochs=100, **extra
    )
    assert_same(fast, slow)
    assert fast[2].stop_reason.startswith("training diverged at epoch 4")
    assert len(fast[2]["r2"]) == 3


def test_chunks_keep_bounded_outputs(monkeypatch) -> None:
    # 16 outputs a chunk at most: chunks of 4 epochs of the XOR data's 4 examples
    sizes = []
    real = _compiled.OnlineKernel.run

    def spy(self, X, y, orders, lr, target, n_epochs, *args, outputs=None, **kwargs):
        sizes.append(None if outputs is None else outputs.shape)
        return real(self, X, y, orders, lr, target, n_epochs, *args, outputs=outputs, **kwargs)

    monkeypatch.setattr(_online, "CHUNK_OUTPUTS", 16)
    monkeypatch.setattr(_compiled.OnlineKernel, "run", spy)
    fast, slow = fit_both(xor_net(), XOR_X, XOR_Y, monkeypatch, epochs=100)
    assert_same(fast, slow)
    assert sizes and all(shape is not None and shape[0] <= 4 for shape in sizes)


def test_the_run_without_metrics_keeps_no_outputs(monkeypatch) -> None:
    sizes = []
    real = _compiled.OnlineKernel.run

    def spy(self, *args, outputs=None, **kwargs):
        sizes.append(outputs)
        return real(self, *args, outputs=outputs, **kwargs)

    monkeypatch.setattr(_compiled.OnlineKernel, "run", spy)
    fast, slow = fit_both(xor_net(), XOR_X, XOR_Y, monkeypatch, metrics=[], epochs=50)
    assert_same(fast, slow)
    assert sizes and all(outputs is None for outputs in sizes)
    assert fast[2][-1].metrics == {}


def test_history_of_a_chunked_run_with_metrics(monkeypatch) -> None:
    fast, slow = fit_both(xor_net(), XOR_X, XOR_Y, monkeypatch, epochs=300)
    hf, hs = fast[2], slow[2]
    assert list(hf.history) == list(hs.history)
    assert hf[5].metrics == hs[5].metrics and hf.last_epoch == 300
    assert hf.to_json().count("accuracy") == 1


@pytest.mark.parametrize(
    "kind", ["one-column", "one-hot", "multilabel", "ties", "real-valued-targets"]
)
def test_accuracy_of_epochs_is_accuracy_of_each(kind) -> None:
    rng = np.random.default_rng(0)
    n, k, epochs = 9, 3, 7
    if kind == "one-column":
        k, y = 1, rng.integers(0, 2, (n, 1)).astype(float)
    elif kind == "multilabel":
        y = rng.integers(0, 2, (n, k)).astype(float)
        y[0] = [1, 1, 0]  # some row without exactly one 1
    elif kind == "real-valued-targets":  # the tutorial's 0.01/0.99
        y = np.where(np.eye(k)[rng.integers(0, k, n)] > 0, 0.99, 0.01)
    else:
        y = np.eye(k)[rng.integers(0, k, n)]
    outputs = rng.uniform(size=(epochs, n, k)).astype(np.float32)
    outputs[:, :2] = 0.5  # at the threshold; ties for argmax
    if kind == "ties":
        outputs[:, :, 1] = outputs[:, :, 0]
    orders = np.stack([rng.permutation(n) for _ in range(epochs)])
    for order in (orders, None):
        got = _chunk_metrics.accuracy_of_epochs(outputs, y, order)
        want = [
            accuracy(outputs[e], y[np.arange(n) if order is None else order[e]])
            for e in range(epochs)
        ]
        assert got.tolist() == want


@pytest.mark.parametrize("seed", range(12))
def test_vectorised_errors_are_each_epochs_metric_to_the_bit(seed) -> None:
    # (mae and mse were called epoch by epoch: 5.2 s against 0.08 s for a tiny network's
    # 400k online epochs; scored for the chunk at once they must give the same floats)
    from deltarule.metrics import mean_absolute_error, mean_squared_error

    rng = np.random.default_rng(seed)
    epochs, n, k = rng.integers(1, 5), int(rng.integers(1, 600)), int(rng.integers(1, 5))
    dtype = [np.float32, np.float64][seed % 2]
    outputs = rng.normal(size=(epochs, n, k)).astype(dtype)
    y = rng.normal(size=(n, k)).astype(dtype)
    orders = None if seed % 3 == 0 else np.stack([rng.permutation(n) for _ in range(epochs)])
    for function, vectorised in [(mean_absolute_error, _chunk_metrics.mae_of_epochs),
                                 (mean_squared_error, _chunk_metrics.mse_of_epochs)]:  # fmt: skip
        got = vectorised(outputs, y, orders, 0.5)
        for e in range(epochs):
            target = y if orders is None else y[orders[e]]
            want = function(outputs[e], target)
            assert got[e] == want or (np.isnan(got[e]) and np.isnan(want))


def test_errors_of_outputs_that_are_not_finite_raise_as_each_epochs_metric(monkeypatch) -> None:
    # (scored at once only when every output is finite: otherwise epoch by epoch, where the
    # metric raises at the plain loop's epoch)
    from deltarule.metrics import get_metric

    outputs = np.ones((3, 4, 1))
    outputs[1, 2, 0] = np.inf
    y = np.zeros((4, 1))
    scores, error = _chunk_metrics.columns([get_metric("mae")], y, None, outputs)
    assert list(scores["mae"]) == [1.0] and "NaN or infinity" in str(error)
