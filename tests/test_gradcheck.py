"""Gradient checking: what it passes, what it fails, and that it leaves the network alone."""

from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule import InputError, Network
from deltarule.activations import ACTIVATIONS
from deltarule.activations import is_builtin as builtin_activation
from deltarule.gradcheck import AT_KINK, FAILED, activation_kinks, loss_kinks
from deltarule.losses import LOSSES, huber
from deltarule.losses import is_builtin as builtin_loss


def test_gradient_check_detects_a_wrong_derivative(rng) -> None:
    wrong = dr.Activation("wrong_tanh", np.tanh, lambda z, a: 1 - a)  # should be 1 - a**2
    net = Network([3, 4, 1], activation=wrong, seed=0, dtype="float64")
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    result = dr.check_gradients(net, X, y)
    assert not result.passed
    assert result.max_relative_error["W1"] > 1e-3
    assert result.max_relative_error["W2"] < 1e-6  # the output layer does not use it


def test_gradient_check_fails_on_a_gradient_that_overflows() -> None:
    # (it said "passed": max() skipped the NaN, and the infinite entry made the floor
    # infinite, every other relative error 0)
    net = Network([1, 1, 1], activation="identity", output_activation="identity", loss="mse",
                  use_bias=False, dtype="float64")  # fmt: skip
    net.set_parameters({"W1": [[1e200]], "W2": [[1e-50]]})
    result = dr.check_gradients(net, [[1.0]], [[0.0]])
    assert not result.passed and np.isnan(result.worst) and "FAILED" in str(result)
    assert not np.isfinite(result.analytic).all()


def test_the_printed_result_says_its_verdict_first_and_what_its_figures_are() -> None:
    # (it printed indented "W1: 5.8e-09" lines with no heading, the verdict last)
    result = dr.GradientCheckResult(
        {"W1": 5.8e-09, "b1": 2.0e-03}, np.zeros(3), np.zeros(3), tolerance=1e-6
    )
    assert str(result).splitlines() == [
        "gradient check FAILED (tolerance 1e-06)",
        "largest relative error per parameter block (backpropagation against central finite "
        "differences):",
        "    W1: 5.800e-09",
        "    b1: 2.000e-03  FAILED",
    ]


def test_a_float32_network_is_checked_in_float64_and_left_untouched(rng) -> None:
    net = Network([3, 5, 2], activation="tanh", seed=2, dtype="float32")
    before = net.parameters.copy()
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    result = dr.check_gradients(net, X, y)
    assert result.passed, str(result)
    assert result.analytic.dtype == np.float64 and result.numeric.dtype == np.float64
    assert net.dtype == np.float32 and net.parameters.tobytes() == before.tobytes()


def test_the_numeric_gradient_is_the_central_difference_of_the_loss(rng) -> None:
    # An oracle outside the module: perturb one weight by hand.
    net = Network([2, 3, 1], activation="sigmoid", seed=4, dtype="float64")
    X, y = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    result = dr.check_gradients(net, X, y, step=1e-6)
    i = net.layout["W2"].offset + 1
    h, theta = 1e-6, net.parameters.copy()
    theta[i] += h
    plus = net.evaluate_params(theta, X, y)
    theta[i] -= 2 * h
    minus = net.evaluate_params(theta, X, y)
    assert result.numeric[i] == pytest.approx((plus - minus) / (2 * h), rel=1e-12)


def test_sample_weights_enter_both_gradients(rng) -> None:
    net = Network([3, 4, 1], activation="tanh", seed=0, dtype="float64")
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    weights = np.array([0.0, 1.0, 2.0, 0.5, 3.0])
    weighted = dr.check_gradients(net, X, y, weights)
    plain = dr.check_gradients(net, X, y)
    assert weighted.passed and not np.allclose(weighted.analytic, plain.analytic)


@pytest.mark.parametrize(
    "kwargs, name",
    [({"step": 0}, "step"), ({"step": -1e-5}, "step"), ({"floor": 0}, "floor"),
     ({"tolerance": -1}, "tolerance"), ({"relative_floor": -0.1}, "relative_floor")],
)  # fmt: skip
def test_bad_settings_are_named(kwargs, name) -> None:
    net = Network([2, 2, 1], seed=0)
    with pytest.raises(InputError, match=name):
        dr.check_gradients(net, [[0.0, 1.0]], [[1.0]], **kwargs)


# --- Kinks: a contract over every built-in activation and loss ---

_GRID = 1e-4


def _breaks(f, derivative, points: np.ndarray) -> np.ndarray:
    """The points where a central difference of step _GRID misses ``derivative`` by more
    than a smooth function's truncation error allows (~_GRID**2 |f'''| / 6, ~1e-9): a jump
    of the derivative in the step gives an O(1) error, a jump of the second derivative an
    O(_GRID) one (elu's at 0: 2.5e-5)."""
    numeric = (f(points + _GRID) - f(points - _GRID)) / (2 * _GRID)
    exact = derivative(points)
    return points[np.abs(numeric - exact) / np.maximum(np.abs(exact), 1.0) > 1e-6]


def _scan(kinks, low: float, high: float) -> np.ndarray:
    """A grid of step _GRID over [low, high] and around each kink: every kink in it lies
    within _GRID of a grid point whose difference straddles it."""
    near = [k + _GRID * np.arange(-5000, 5001) for k in kinks]
    return np.concatenate([_GRID * np.arange(round(low / _GRID), round(high / _GRID) + 1), *near])


def _assert_table_matches(found: np.ndarray, kinks, f, derivative) -> None:
    for point in found:  # every break is a listed kink
        assert any(abs(point - k) <= _GRID * 1.001 for k in kinks), (point, kinks)
    for k in kinks:  # every listed kink is a break (|z| breaks beside it, not at it)
        assert _breaks(f, derivative, k + _GRID * np.array([-0.5, 0.0, 0.5])).size, k


_ELEMENTWISE = sorted(
    name
    for name, act in ACTIVATIONS.items()
    if builtin_activation(act) and act.derivative is not None and name == act.name
)


@pytest.mark.parametrize("name", _ELEMENTWISE)
def test_the_kink_table_lists_exactly_where_each_activation_breaks(name) -> None:
    # Found from the functions, not from the table: (selu's derivative jump at 0 was not
    # listed, nor elu's and softsign's second-derivative jumps, nor exp's clip point)
    act = ACTIVATIONS[name]
    kinks = activation_kinks(act)
    # [-20, 20], and below float64's overflow edge, where a function may clip its input
    edge = float(np.log(np.finfo(np.float64).max))
    points = np.concatenate([_scan(kinks, -20.0, 20.0), _scan((), edge - 3.0, edge - 0.5)])
    found = _breaks(act.function, lambda z: act.derivative(z, act.function(z)), points)
    _assert_table_matches(found, kinks, act.function, lambda z: act.derivative(z, act(z)))


_LOSSES = sorted(name for name, loss in LOSSES.items() if builtin_loss(loss) and name == loss.name)


@pytest.mark.parametrize("loss", [*_LOSSES, "huber(0.3)"])
def test_the_kink_table_lists_exactly_where_each_loss_breaks(loss) -> None:
    loss = huber(0.3) if loss == "huber(0.3)" else LOSSES[loss]
    t = 0.4
    low, high = loss.output_domain or (-20.0, 20.0)
    low, high = max(low + 0.1, -20.0), min(high - 0.1, 20.0)  # (off the log's pole)
    kinks = [t + k for k in loss_kinks(loss)]

    def value(o):
        return loss.value(o[:, None], np.full((o.size, 1), t))

    def gradient(o):
        return loss.gradient(o[:, None], np.full((o.size, 1), t))[:, 0]

    points = _scan(kinks, low, high)
    found = _breaks(value, gradient, points[(points - _GRID > low) & (points + _GRID < high)])
    _assert_table_matches(found, kinks, value, gradient)


_KINKED = [
    (name, k) for name in _ELEMENTWISE for k in activation_kinks(ACTIVATIONS[name]) if name != "exp"
]  # fmt: skip  (exp's kink is where its output nears overflow)


@pytest.mark.parametrize("name, kink", _KINKED)
def test_a_correct_built_in_activation_at_its_kink_never_fails(name, kink) -> None:
    # Every unit's net input for the first row is exactly at the kink.
    net = Network([2, 6, 1], activation=name, output_activation="identity", loss="mse",
                  seed=0, dtype="float64")  # fmt: skip
    net.set_parameters({"b1": np.full(6, kink)})
    X = np.array([[0.0, 0.0], [0.3, -0.5], [1.0, 0.7], [-0.4, 0.2]])
    y = np.array([[0.5], [-0.2], [0.9], [0.1]])
    result = dr.check_gradients(net, X, y)
    assert result.failed == [], str(result)
    assert result.statuses["b1"] == AT_KINK and "kink" in result.suspect


@pytest.mark.parametrize("loss, offset", [("mae", 0.0), (huber(0.3), 0.3), (huber(0.3), -0.3)])
def test_a_correct_built_in_loss_at_its_kink_never_fails(loss, offset) -> None:
    net = Network([2, 3, 1], activation="tanh", output_activation="identity", loss=loss,
                  seed=0, dtype="float64")  # fmt: skip
    X = np.array([[0.1, 0.2], [0.3, -0.5], [1.0, 0.7]])
    y = net.predict(X) - offset  # the first row's output - target exactly at the kink
    y[1:] += [[0.05], [-0.7]]
    result = dr.check_gradients(net, X, y)
    assert result.failed == [] and AT_KINK in result.statuses.values(), str(result)


def test_more_failing_entries_than_the_old_probe_limit_are_all_probed() -> None:
    # (above 200 failing entries none was probed: 239 b1 entries on relu's kink -> FAILED)
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    net = Network([2, 1000, 1], activation="relu", seed=3)
    result = dr.check_gradients(net, X, y)
    b1 = net.layout["b1"].slice
    off = np.abs(result.analytic[b1] - result.numeric[b1]) > 1e-3 * np.abs(result.numeric[b1])
    assert off.sum() > 200  # the case the limit cut off
    assert result.failed == [] and result.statuses["b1"] == AT_KINK, str(result)
    assert FAILED not in str(result)


def test_a_wrong_gradient_at_many_entries_still_fails_beside_a_kink() -> None:
    # The probes stop at a tensor's first failing entry that straddles no kink.
    wrong = dr.Loss(
        "mse_wrong", lambda o, t: ((o - t) ** 2).sum(axis=1), lambda o, t: 2.2 * (o - t)
    )  # fmt: skip  (should be 2 (o - t))
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    net = Network([2, 300, 1], activation="relu", output_activation="identity", loss=wrong,
                  seed=3)  # fmt: skip
    result = dr.check_gradients(net, X, y)
    assert {"W1", "W2", "b2"} <= set(result.failed)
    assert not result.passed and "mse_wrong" in result.suspect


def test_selu_on_xor_with_zero_biases_is_at_a_kink_not_failed() -> None:
    # (the review's case: the [0, 0] row puts every unit on z = 0, where selu's derivative
    # jumps from lambda * alpha to lambda; the check said FAILED, blaming selu)
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    result = dr.check_gradients(Network([2, 8, 1], activation="selu", seed=3), X, y)
    assert result.failed == [] and result.statuses["b1"] == AT_KINK, str(result)
    assert "'selu' has a kink at 0" in result.suspect
