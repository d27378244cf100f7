"""The full-batch solvers' own pieces (their training is tested with fit in test_training)."""

from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule.solvers import damped_steps


@pytest.mark.parametrize("m, p", [(12, 40), (40, 12), (20, 20)])
def test_levenberg_marquardt_steps_solve_the_damped_normal_equations(m, p):
    # One factorisation serves every trial damping; the oracle solves (J^T J + mu I) s = -g.
    rng = np.random.default_rng(m * p)
    jac, r = rng.normal(size=(m, p)), rng.normal(size=m)
    step = damped_steps(jac, r)
    for mu in (1e-2, 1.0, 1e3):
        want = np.linalg.solve(jac.T @ jac + mu * np.eye(p), -(jac.T @ r))
        np.testing.assert_allclose(step(mu), want, rtol=1e-9, atol=1e-12 * np.abs(want).max())


def test_levenberg_marquardt_fits_a_network_with_more_weights_than_rows():
    # (QA as a scikit-learn user: the estimator's default 100 hidden units on 30 rows took
    # 5 s, a 1,201 x 1,201 solve per trial damping; now the 30 x 30 system)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 10))
    y = np.tanh(X[:, :1] - X[:, 1:2])
    net = dr.Network([10, 100, 1], activation="tanh", loss="mse", seed=0)
    history = net.fit(X, y, optimizer="lm", batch_size=None, epochs=20, verbose=0,
                      warn_convergence=False)  # fmt: skip
    assert history.loss[-1] < 1e-3 * history.loss[0]


@pytest.mark.parametrize("weighted", [False, True])
def test_levenberg_marquardt_residuals_carry_the_networks_l2_term(weighted):
    # scikit-learn's alpha is the network's objective term (objective_terms), not the
    # trainer's l2: E = ½‖r‖² must be the objective backprop computes, and J^T r its
    # gradient (the oracle: Network.backward), frozen parameters left out of J.
    from types import SimpleNamespace

    from deltarule.sklearn._network import build_network
    from deltarule.solvers import LevenbergMarquardt

    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(25, 4)), rng.normal(size=(25, 2))
    sw = rng.uniform(0.5, 2.0, size=25) if weighted else None
    base = dr.Network([4, 6, 2], activation="tanh", loss="half_squared_error", seed=1,
                      dtype="float64")  # fmt: skip
    net = build_network(base.config(), base.parameters)
    net.alpha, net.loss_scale = 7.0, 1.0
    net.freeze("b1")
    data = SimpleNamespace(X=X, y=y, sample_weight=sw)
    solver = LevenbergMarquardt()
    r, jac, error = solver._residuals(net, data, net.parameters, solver._penalty(net, data))
    _, caches = net.forward(X)
    loss, grad = net.backward(caches, y, sw)
    assert error == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(jac.T @ r, grad[net.trainable], rtol=1e-10, atol=1e-13)
    assert error > net.error(caches, y, sw) + 0.5  # (the term is there at all)


def test_levenberg_marquardt_regressor_shrinks_weights_by_alpha_as_lbfgs_does():
    import warnings

    from deltarule.sklearn import MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = X @ rng.normal(size=4) + 0.1 * rng.normal(size=60)
    fits = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for solver in ("lm", "lbfgs"):
            est = MLPRegressor(hidden_layer_sizes=(6,), solver=solver, alpha=100.0,
                               max_iter=200, random_state=0)  # fmt: skip
            fits[solver] = est.fit(X, y)
    # the penalised objective both minimise: equal minima (lm's was 30 times lbfgs's)
    assert fits["lm"].loss_ == pytest.approx(fits["lbfgs"].loss_, rel=0.05)
    assert sum(float((w**2).sum()) for w in fits["lm"].coefs_) < 1.0
