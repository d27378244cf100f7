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
