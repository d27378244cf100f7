"""Gradient checking: what it passes, what it fails, and that it leaves the network alone."""

from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule import InputError, Network


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
