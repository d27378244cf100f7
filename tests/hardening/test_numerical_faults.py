"""Numerical faults through fit: never silently NaN weights; divergence reported with a hint.

Huge input scales (1e30), huge targets, extreme learning rates (1e6 and beyond) through
every optimizer and both full-batch solvers, on the plain loop and the compiled online
path: the parameters stay finite, and a divergence is a ConvergenceWarning that says what
happened and what to try (a lower learning rate, standardising the inputs). Constant
feature columns and constant targets train without NaN.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.linalg import LinAlgWarning

import deltarule as dr
from deltarule.callbacks import Callback
from deltarule.optimizers import OPTIMIZERS
from deltarule.solvers import SOLVERS
from deltarule.training import Trainer

FIRST_ORDER = sorted({cls.name for cls in OPTIMIZERS.values()})
SOLVER_NAMES = ["lbfgs", "lm"]
assert set(SOLVER_NAMES) <= set(SOLVERS)


def _regression(n=32, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.normal(size=(n, 1))
    return X * scale, y


def _fit(net, X, y, **kwargs):
    """fit with NumPy's RuntimeWarnings as errors; returns (history, ConvergenceWarnings' text).

    scipy's LinAlgWarning (an ill-conditioned Levenberg–Marquardt system, which its
    damping handles) is allowed.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", dr.ConvergenceWarning)
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", LinAlgWarning)
        history = net.fit(X, y, verbose=0, **kwargs)
    messages = [str(w.message) for w in caught if issubclass(w.category, dr.ConvergenceWarning)]
    return history, messages


def _assert_sound(net, history, messages):
    """The invariant: finite weights; a non-finite step is reported, never hidden."""
    assert np.isfinite(net.parameters).all(), "non-finite weights after fit"
    assert all(np.isfinite(record.loss) for record in history.records)
    diverged = history.stop_reason.startswith("training diverged")
    assert diverged == any("diverged" in m for m in messages), (history.stop_reason, messages)
    if diverged:
        message = next(m for m in messages if "diverged" in m)
        assert "standardising the inputs" in message and "restored" in message
    return diverged


# ---------------------------------------------------------------- learning rates
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_size", [1, 8, None], ids=["online", "mini-batch", "full-batch"])
def test_sgd_with_learning_rate_1e6_diverges_with_a_hint(dtype, batch_size):
    """batch_size=1 with SGD runs on the compiled online path when numba is installed."""
    X, y = _regression()
    net = dr.Network([3, 8, 1], activation="tanh", dtype=dtype, seed=0)
    initial = net.parameters.copy()
    history, messages = _fit(
        net, X, y, optimizer="sgd", learning_rate=1e6, batch_size=batch_size, epochs=100, seed=0
    )
    assert _assert_sound(net, history, messages), "learning rate 1e6 must diverge"
    message = messages[-1]
    assert "a lower learning rate (now 1e+06)" in message
    assert history.stop_reason == message
    epoch = int(message.split("epoch ")[1].split(":")[0])
    assert len(history.records) == epoch - 1  # the failed epoch is not recorded
    if epoch == 1:
        np.testing.assert_array_equal(net.parameters, initial)


@pytest.mark.parametrize("optimizer", FIRST_ORDER)
@pytest.mark.parametrize("learning_rate", [1e6, 1e30])
@pytest.mark.parametrize("batch_size", [1, 4, None])
def test_every_optimizer_with_an_extreme_learning_rate(optimizer, learning_rate, batch_size):
    X, y = _regression(n=16)
    net = dr.Network([3, 4, 1], activation="relu", seed=1)
    if OPTIMIZERS[optimizer].step_rule is not None:  # iRprop: no learning rate to take
        with pytest.raises(dr.InputError, match="has no learning rate"):
            _fit(net, X, y, optimizer=optimizer, learning_rate=learning_rate, epochs=5)
        return
    history, messages = _fit(
        net,
        X,
        y,
        optimizer=optimizer,
        learning_rate=learning_rate,
        batch_size=batch_size,
        epochs=5,
        seed=0,
    )
    if _assert_sound(net, history, messages):
        assert "learning rate" in messages[-1]


@pytest.mark.parametrize("n_samples", [1, 2, 5])
@pytest.mark.parametrize("learning_rate", [1e20, 1e38])
def test_an_overflow_in_the_last_update_of_an_epoch_is_caught(n_samples, learning_rate):
    """The loss of an epoch is measured before its updates: the weights must be checked too."""
    X, y = np.full((n_samples, 2), 3.0), np.full((n_samples, 1), 2.0)
    net = dr.Network([2, 1], seed=0)
    history, messages = _fit(
        net, X, y, optimizer="sgd", learning_rate=learning_rate, batch_size=1, epochs=1
    )
    _assert_sound(net, history, messages)


@pytest.mark.parametrize("learning_rate", [0.5, 0.8, 2.0])
def test_online_divergence_is_recorded_alike_on_the_compiled_and_plain_paths(learning_rate):
    """Online SGD runs compiled (when numba is installed) unless metrics are asked for."""
    X, y = _regression()
    runs = []
    for metrics in (None, ["r2"]):
        net = dr.Network([3, 8, 1], activation="tanh", dtype="float64", seed=0)
        history, messages = _fit(
            net,
            X,
            y,
            optimizer="sgd",
            learning_rate=learning_rate,
            batch_size=1,
            epochs=40,
            metrics=metrics,
            seed=0,
        )
        assert _assert_sound(net, history, messages)
        epoch = int(history.stop_reason.split("epoch ")[1].split(":")[0])
        assert epoch > 1 and len(history.records) == history.records[-1].epoch == epoch - 1
        runs.append((epoch, len(history.records), net.parameters.copy()))
    assert runs[0][:2] == runs[1][:2]
    np.testing.assert_allclose(runs[0][2], runs[1][2], rtol=1e-9)


# ---------------------------------------------------------------- input scale
@pytest.mark.parametrize("optimizer", [*FIRST_ORDER, *SOLVER_NAMES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_inputs_scaled_to_1e30(optimizer, dtype):
    X, y = _regression(scale=1e30)
    net = dr.Network([3, 6, 1], activation="tanh", dtype=dtype, seed=2)
    batch_size = None if optimizer in SOLVER_NAMES else 8  # (the solvers refuse a batch size)
    history, messages = _fit(
        net, X, y, optimizer=optimizer, epochs=5, batch_size=batch_size, seed=0
    )
    _assert_sound(net, history, messages)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "lbfgs", "lm"])
def test_identity_network_on_inputs_scaled_to_1e30_reports_divergence(optimizer):
    """No saturating activation: the error overflows float32, which must be reported."""
    X, y = _regression(scale=1e30)
    net = dr.Network([3, 1], seed=0)
    history, messages = _fit(net, X, y, optimizer=optimizer, epochs=3, seed=0)
    assert _assert_sound(net, history, messages)
    assert "standardising the inputs (they may be too large)" in messages[-1]


@pytest.mark.parametrize("scale", [1e30, 1e300])
def test_targets_that_overflow(scale):
    X, _ = _regression()
    y = np.full((X.shape[0], 1), scale)
    net = dr.Network([3, 4, 1], dtype="float64", seed=0)
    history, messages = _fit(net, X, y, optimizer="sgd", learning_rate=0.1, epochs=5, seed=0)
    assert _assert_sound(net, history, messages)
    assert "clipping large targets" in messages[-1]


@pytest.mark.parametrize("scale", [1e-30, 1e-300, 5e-324])
def test_tiny_and_denormal_inputs(scale):
    X, y = _regression(scale=scale)
    net = dr.Network([3, 4, 1], dtype="float64", seed=0)
    history, messages = _fit(net, X, y, epochs=5, seed=0)
    assert not _assert_sound(net, history, messages)


def test_divergence_restores_the_weights_of_the_last_finite_epoch():
    class Explode(Callback):
        """Keep each epoch's weights; after epoch 3, raise the learning rate to 1e30."""

        kept: list = []

        def on_epoch_end(self, record, state):
            self.kept.append(state.network.parameters.copy())
            if record.epoch == 3:
                state.learning_rate = 1e30

    X, y = _regression()
    net = dr.Network([3, 5, 1], activation="tanh", seed=0)
    explode = Explode()
    history, messages = _fit(
        net, X, y, optimizer="sgd", learning_rate=0.01, epochs=20, callbacks=[explode], seed=0
    )
    assert _assert_sound(net, history, messages)
    epoch = len(history.records) + 1
    assert epoch > 3 and f"diverged at epoch {epoch}:" in messages[-1]
    losses = history.history["loss"]
    kept = net.copy()  # the last finite epoch's weights, evaluated in the network's dtype
    kept.parameters[:] = explode.kept[-1]
    last = kept.evaluate(X, y)
    if last <= min(losses):  # they are kept
        assert f"weights of the last finite epoch ({epoch - 1}) were restored" in messages[-1]
        np.testing.assert_array_equal(net.parameters, explode.kept[-1])
    else:  # those the lowest recorded loss was measured on (the start of its epoch)
        best = int(np.argmin(losses))
        start = explode.kept[best - 1] if best else None
        assert f"(loss {net.evaluate(X, y):.4g})" in messages[-1]
        assert f"having loss {last:.4g}" in messages[-1]
        if start is not None:
            np.testing.assert_array_equal(net.parameters, start)
        assert net.evaluate(X, y) < last


@pytest.mark.parametrize("optimizer", ["adam", "momentum", "rmsprop", "sgd"])
def test_a_trainer_used_again_after_divergence_keeps_finite_weights(optimizer):
    X, y = _regression()
    net = dr.Network([3, 4, 1], seed=0)
    trainer = Trainer(net, optimizer=optimizer, learning_rate=1e30, batch_size=4, seed=0)
    for _ in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dr.ConvergenceWarning)
            warnings.simplefilter("error", RuntimeWarning)
            history = trainer.fit(X, y, epochs=2, verbose=0)
        assert np.isfinite(net.parameters).all()
        assert all(np.isfinite(r.loss) for r in history.records)


def test_predicting_after_a_diverged_run_is_finite_or_explained():
    """The last finite epoch's weights may be huge: predict is finite or says why not."""
    X, y = _regression()
    net = dr.Network([3, 4, 1], seed=0)
    _fit(net, X, y, optimizer="sgd", learning_rate=1e6, epochs=3)
    try:
        assert np.isfinite(net.predict(X)).all()
    except dr.InputError as exc:
        assert "largest |weight|" in str(exc) and "lower learning rate" in str(exc)


# ---------------------------------------------------------------- constant data
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "lbfgs", "lm", "rprop"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_constant_target_trains_without_nan(optimizer, dtype):
    X, _ = _regression()
    y = np.full((X.shape[0], 1), 3.0)
    net = dr.Network([3, 4, 1], activation="tanh", dtype=dtype, seed=0)
    before = net.evaluate(X, y)
    lr = {"sgd": 0.05, "adam": 0.05, "rprop": None, "lbfgs": None, "lm": None}[optimizer]
    history, messages = _fit(net, X, y, optimizer=optimizer, learning_rate=lr, epochs=200, seed=0)
    assert not _assert_sound(net, history, messages)
    assert net.evaluate(X, y) < 0.1 * before
    assert np.isfinite(net.predict(X)).all()


@pytest.mark.parametrize("value", [0.0, 5.0, 1e6])
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "lbfgs"])
def test_a_constant_feature_column_trains_without_nan(value, optimizer):
    X, y = _regression()
    X[:, 1] = value
    net = dr.Network([3, 4, 1], activation="tanh", dtype="float64", seed=0)
    lr = {"sgd": 1e-3 if value < 1e3 else 1e-14, "adam": 1e-2, "lbfgs": None}[optimizer]
    history, messages = _fit(net, X, y, optimizer=optimizer, learning_rate=lr, epochs=50, seed=0)
    _assert_sound(net, history, messages)


def test_all_columns_constant():
    X = np.ones((16, 3)) * np.array([1.0, 0.0, -4.0])
    y = np.arange(16.0)[:, None]
    net = dr.Network([3, 4, 1], seed=0)
    history, messages = _fit(net, X, y, epochs=50, seed=0)
    assert not _assert_sound(net, history, messages)


@pytest.mark.parametrize(
    ("output", "y"),
    [
        ("sigmoid", np.ones((12, 1))),
        ("sigmoid", np.zeros((12, 1))),
        ("softmax", np.tile([0.0, 1.0, 0.0], (12, 1))),
    ],
)
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_a_single_class_trains_without_nan(output, y, class_weight):
    X, _ = _regression(n=12)
    net = dr.Network([3, 4, y.shape[1]], output_activation=output, seed=0)
    history, messages = _fit(
        net, X, y, epochs=100, class_weight=class_weight, learning_rate=0.05, seed=0
    )
    assert not _assert_sound(net, history, messages)
    assert history.records[-1].loss < history.records[0].loss


def test_constant_columns_through_the_tabular_preprocessor():
    pd = pytest.importorskip("pandas")
    from deltarule.preprocessing import TabularPreprocessor

    frame = pd.DataFrame(
        {"flat": [2.5] * 8, "zero": [0.0] * 8, "x": np.arange(8.0), "target": [7.0] * 8}
    )
    X, y = TabularPreprocessor().fit_transform(frame, "target", task="regression")
    assert np.isfinite(X).all() and np.isfinite(y).all()
    net = dr.Network([X.shape[1], 3, 1], seed=0)
    history, messages = _fit(net, X, y, epochs=100, learning_rate=0.05, seed=0)
    assert not _assert_sound(net, history, messages)
