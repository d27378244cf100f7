"""scikit-learn's hand-worked 3-2-1 network (sklearn/neural_network/tests/test_mlp.py::test_fit).

That test sets a logistic 3-2-1 classifier's weights by hand, takes one plain SGD
step (learning rate 0.1, momentum 0, L2 penalty alpha = 0.1) on X = [[0.6, 0.8, 0.7]],
y = [0], and checks the result against values worked out in its comments. Built
with deltarule (sigmoid hidden and output layers, binary cross-entropy), the
traced pass must give the same numbers. scikit-learn's coefs_ are
(n_inputs, n_outputs); deltarule's weights are their transpose.

deltarule's loss_and_gradient has no penalty term (penalties belong to
training), so the step adds scikit-learn's L2 gradient alpha·W to the traced
gradient, on the weights only, as scikit-learn does.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_almost_equal

import deltarule as dr
from deltarule.explain import trace

X = np.array([[0.6, 0.8, 0.7]])
Y = np.array([[0.0]])
COEFS = [np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0.0]]), np.array([[0.1], [0.2]])]
INTERCEPTS = [np.array([0.1, 0.1]), np.array([1.0])]
LEARNING_RATE, ALPHA = 0.1, 0.1


def sklearn_network() -> dr.Network:
    net = dr.Network(
        [3, 2, 1],
        activation="sigmoid",
        output_activation="sigmoid",
        loss="binary_crossentropy",
        dtype="float64",
    )
    net.set_parameters(
        {"W1": COEFS[0].T, "b1": INTERCEPTS[0], "W2": COEFS[1].T, "b2": INTERCEPTS[1]}
    )
    return net


def sklearn_step() -> tuple[dr.Network, np.ndarray]:
    """The traced pass, then scikit-learn's update with its L2 term: (trace, updated vector)."""
    net = sklearn_network()
    t = trace(net, X, Y, LEARNING_RATE)
    penalty = ALPHA * t.parameters * net.weight_mask  # d/dW of (alpha/2)||W||^2, n_samples = 1
    return t, t.parameters - LEARNING_RATE * (t.gradient + penalty)


def test_forward_values_in_the_comments():
    t, _ = sklearn_step()
    assert t.forward[0].out[0, 0] == pytest.approx(0.679178699175393, abs=1e-12)
    assert t.forward[0].out[0, 1] == pytest.approx(0.574442516811659, abs=1e-12)
    # The comment's o1 = g(0.679 * 0.1 + 0.574 * 0.2 + 1) uses h rounded to 3 decimals;
    # from the exact h it is 0.7654520219.
    assert t.forward[1].out[0, 0] == pytest.approx(0.7654329236196236, abs=3e-5)


def test_deltas_in_the_comments():
    t, _ = sklearn_step()
    assert_almost_equal(t.backward[1].delta[0, 0], 0.765, decimal=3)  # d21
    assert_almost_equal(t.backward[0].delta[0, 0], 0.01667, decimal=5)  # d11
    assert_almost_equal(t.backward[0].delta[0, 1], 0.0374, decimal=4)  # d12


def test_updated_parameters_as_sklearn_asserts():
    t, updated = sklearn_step()
    view = t.layout.view
    # The expected values and decimal=3 are scikit-learn's own. (Its comment for
    # W1[2, 0] uses X1 = 0.6 for X3 = 0.7; the true value 0.4938331 is within decimal=3.)
    assert_almost_equal(
        view(updated, "W1").T,
        np.array([[0.098, 0.195756], [0.2956664, 0.096008], [0.4939998, -0.002244]]),
        decimal=3,
    )
    assert_almost_equal(view(updated, "W2").T, np.array([[0.04706], [0.154089]]), decimal=3)
    assert_almost_equal(view(updated, "b1"), np.array([0.098333, 0.09626]), decimal=3)
    assert_almost_equal(view(updated, "b2"), np.array([0.9235]), decimal=3)


def test_prediction_after_the_step():
    t, updated = sklearn_step()
    net = sklearn_network()
    net.parameters[:] = updated
    assert_almost_equal(net.predict(X)[0, 0], 0.739, decimal=3)


def test_same_step_as_running_sklearn():
    neural_network = pytest.importorskip("sklearn.neural_network")
    mlp = neural_network.MLPClassifier(
        solver="sgd",
        learning_rate_init=LEARNING_RATE,
        alpha=ALPHA,
        activation="logistic",
        hidden_layer_sizes=2,
        momentum=0,
        max_iter=1,
        random_state=1,
    )
    # The same hand set-up as scikit-learn's test_fit, then its one partial_fit step.
    mlp.coefs_ = [c.copy() for c in COEFS]
    mlp.intercepts_ = [b.copy() for b in INTERCEPTS]
    mlp.n_outputs_, mlp.n_features_in_, mlp.n_layers_ = 1, 3, 3
    mlp.n_iter_, mlp.t_, mlp.learning_rate_ = 0, 0, LEARNING_RATE
    mlp._coef_grads, mlp._intercept_grads = [0, 0], [0, 0]
    mlp.out_activation_ = "logistic"
    mlp.best_loss_, mlp.loss_curve_, mlp._no_improvement_count = np.inf, [], 0
    mlp._intercept_velocity = [np.zeros_like(b) for b in mlp.intercepts_]
    mlp._coef_velocity = [np.zeros_like(c) for c in mlp.coefs_]
    mlp.partial_fit(X, [0], classes=[0, 1])
    t, updated = sklearn_step()
    np.testing.assert_allclose(t.layout.view(updated, "W1").T, mlp.coefs_[0], rtol=1e-10)
    np.testing.assert_allclose(t.layout.view(updated, "W2").T, mlp.coefs_[1], rtol=1e-10)
    np.testing.assert_allclose(t.layout.view(updated, "b1"), mlp.intercepts_[0], rtol=1e-10)
    np.testing.assert_allclose(t.layout.view(updated, "b2"), mlp.intercepts_[1], rtol=1e-10)
