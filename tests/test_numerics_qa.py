"""Numerical robustness: gradient checks that cannot resolve a gradient or straddle a kink,
subnormal sample weights, float32 Poisson near the clip point, masked arrays."""

from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule import InputError, Network
from deltarule.gradcheck import AT_KINK, FAILED, PASSED, UNRESOLVED


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _deep_sigmoid(first):
    return Network([3] + [4] * 20 + [2], activation=[first] + ["sigmoid"] * 19,
                   output_activation="sigmoid", loss="mse", dtype="float64", seed=1)  # fmt: skip


def test_a_first_layer_gradient_below_resolution_is_not_called_passed() -> None:
    # (before: W1, off by 2x, "passed": its floor was the last layer's gradient's scale)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 3)), rng.uniform(0.1, 0.9, (5, 2))
    bad = dr.Activation("qa_badsig", _sigmoid,
                        lambda z, a: (a * (1 - a) * z.dtype.type(2.0)).astype(z.dtype),
                        output_range=(0, 1))  # fmt: skip
    result = dr.check_gradients(_deep_sigmoid(bad), X, y)
    w1 = np.abs(result.analytic[_deep_sigmoid(bad).layout["W1"].slice]).max()
    assert w1 < result.resolution  # (below what central differences resolve)
    assert not result.passed and result.status["W1"] == UNRESOLVED
    assert "W1" in result.unverified and "W1" not in result.failed
    assert "not verifiable at this precision" in str(result) and "passed" not in str(result)
    assert result.status["W21"] == PASSED  # the output layer is still verified


def test_each_tensor_is_judged_on_its_own_scale() -> None:
    # A wrong derivative in the first layer of a shallow network with a large output layer
    # gradient: the relative error of W1 is measured against W1's own gradients.
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1)) * 1e4
    wrong = dr.Activation("qa_wrongtanh", np.tanh, lambda z, a: (1 - a * a) * 1.001)
    net = Network([3, 4, 1], activation=wrong, seed=0, dtype="float64", loss="mse")
    net.set_parameters({"W1": net.get_parameters()["W1"] * 1e-3})
    result = dr.check_gradients(net, X, y)
    assert result.status["W1"] == FAILED and not result.passed
    assert result.status["W2"] == PASSED


def test_a_relu_kink_is_reported_not_blamed_on_the_derivative() -> None:
    net = Network([2, 2, 1], activation="relu", dtype="float64", seed=0)
    net.set_parameters({"W1": [[1.0, -1.0], [1.0, 1.0]], "b1": [0.0, 0.0]})
    X, y = [[1.0, 1.0], [2.0, -1.0]], [[0.5], [0.2]]
    result = dr.check_gradients(net, X, y)
    assert not result.passed and result.status["W1"] == AT_KINK and result.failed == []
    assert "kink at 0" in result.suspect and "(its derivative)" not in result.suspect
    assert "likely culprit" not in str(result)
    # Off the kink the same network passes.
    assert dr.check_gradients(net, [[1.0, 0.5], [2.0, -1.0]], y).passed


def test_an_mae_kink_is_reported() -> None:
    net = Network([1, 1], output_activation="identity", loss="mae", dtype="float64")
    net.set_parameters({"W1": [[2.0]], "b1": [0.0]})
    # The second output is 4e-6 from its target, within the step 1e-5 of the kink.
    result = dr.check_gradients(net, [[1.0], [2.0]], [[3.0], [4.0 - 4e-6]])
    assert result.status["W1"] == AT_KINK and "the loss 'mae'" in result.suspect


def test_subnormal_sample_weights_give_the_unweighted_loss() -> None:
    # (before: 1.0833 against 1.1639: the products with 5e-324 lost their digits)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 3))
    net = Network([3, 4, 1], seed=0, loss="mse", dtype="float64")
    expected = float(np.mean((net.predict(X) - X[:, :1]) ** 2))  # the plain mean, by hand
    got = net.evaluate(X, X[:, :1], sample_weight=np.full(12, 5e-324))
    assert got == pytest.approx(expected, rel=1e-14)
    weights = np.arange(1.0, 13.0)  # (times 5e-324: exact subnormal numbers)
    tiny = net.evaluate(X, X[:, :1], sample_weight=weights * 5e-324)
    assert tiny == pytest.approx(net.evaluate(X, X[:, :1], sample_weight=weights), rel=1e-14)


def test_ordinary_sample_weights_give_the_same_bits() -> None:
    from deltarule.losses import reduce_weighted

    rng = np.random.default_rng(3)
    for dtype in (np.float32, np.float64):
        per_sample, weights = rng.random(50).astype(dtype), rng.random(50).astype(dtype) * 3
        expected = float(per_sample @ weights / weights.sum())
        assert reduce_weighted(per_sample, weights) == expected


def test_float32_poisson_near_the_clip_point_has_a_finite_loss() -> None:
    # (before: inf, with a finite gradient)
    net = Network([1, 1], output_activation="exp", loss="poisson", dtype="float32")
    net.set_parameters({"W1": [[1.0]], "b1": [87.5]})
    X = np.array([[1.0], [0.2]], np.float32)
    y = np.array([[3.0], [1.0]], np.float32)
    loss, gradient = net.loss_and_gradient(X, y)
    assert np.isfinite(gradient).all() and np.isfinite(loss)
    # The deviance 2 (y log y - y z - y + e^z) with the exp activation's float32 clip, in
    # float64 by hand.
    z = np.minimum(X[:, 0].astype(np.float64) + 87.5, np.float32(np.log(np.finfo("f4").max) - 1))
    t = y[:, 0].astype(np.float64)
    expected = np.mean(2 * (t * np.log(t) - t * z - t + np.exp(z)))
    assert loss == pytest.approx(expected, rel=1e-5)  # (float32 per-sample losses)


@pytest.mark.parametrize("where", ["X", "y"])
def test_masked_values_are_refused(where) -> None:
    net = Network([2, 3, 1], seed=0)
    X = np.ma.masked_array([[1.0, 2.0], [3.0, 4.0]], mask=[[0, 1], [0, 0]])
    y = np.ma.masked_array([[1.0], [0.0]], mask=[[0], [1]])
    plain_X, plain_y = X.filled(0.0), y.filled(0.0)
    args = (X, plain_y) if where == "X" else (plain_X, y)
    with pytest.raises(InputError, match=rf"{where} contains 1 masked value; .* Fill them"):
        net.fit(*args, epochs=1, verbose=0)
    if where == "X":
        with pytest.raises(InputError, match="masked value"):
            net.predict(X)


def test_a_masked_array_without_masked_values_is_accepted() -> None:
    X = np.ma.masked_array([[1.0, 2.0], [3.0, 4.0]], mask=False)
    net = Network([2, 3, 1], seed=0, dtype="float64")
    np.testing.assert_array_equal(net.predict(X), net.predict(X.data))
