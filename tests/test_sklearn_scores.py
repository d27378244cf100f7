"""deltarule.sklearn._scores: the early-stopping scores equal scikit-learn's metrics, to the
bit, and the estimators score the loop's validation outputs (one forward pass an epoch)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.metrics import accuracy_score, r2_score  # noqa: E402

from deltarule.network import Network  # noqa: E402
from deltarule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402
from deltarule.sklearn._scores import accuracy, fast_case, r2  # noqa: E402

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("trial", range(40))
def test_r2_is_scikit_learns(trial) -> None:
    rng = np.random.default_rng(trial)
    n, k = int(rng.integers(2, 60)), int(rng.integers(1, 4))
    dtype = [np.float64, np.float32][trial % 2]
    y = rng.normal(size=(n, k)).astype(dtype) * 10 ** rng.uniform(-3, 3)
    pred = (y + rng.normal(size=(n, k)) * rng.uniform(0, 2)).astype(
        [np.float64, np.float32][trial % 3 == 0]
    )
    if trial % 5 == 0:
        y[:, 0] = 1.5  # a constant output: the denominator 0
    if trial % 10 == 0:
        pred[:, 0] = y[:, 0]  # ...and a perfect one: 1 (force_finite)
    if k == 1 and trial % 4 == 1:
        y, pred = y[:, 0], pred[:, 0]
    if trial % 7 == 3:
        y = np.rint(y).astype(np.int64)  # integer targets
    sw = None if trial % 3 == 2 else rng.uniform(0.1, 3, n)
    if sw is not None and trial % 6 == 0:
        sw = sw.astype(np.float32)
    assert fast_case(y, sw)
    expected = r2_score(y, pred, sample_weight=sw)
    got = r2(y, pred, sw)
    assert got == expected or (np.isnan(got) and np.isnan(expected)), (got, expected)


@pytest.mark.parametrize("trial", range(20))
def test_accuracy_is_scikit_learns(trial) -> None:
    rng = np.random.default_rng(100 + trial)
    n = int(rng.integers(1, 80))
    labels = [np.array([0, 1]), np.array([3, 7, 9]), np.array(["ant", "bee", "cat", "dog"])][
        trial % 3
    ]
    y, pred = rng.choice(labels, n), rng.choice(labels, n)
    sw = None if trial % 2 else rng.uniform(0.1, 3, n)
    assert fast_case(y, sw)
    assert accuracy(y, pred, sw) == accuracy_score(y, pred, sample_weight=sw)


def test_unusual_targets_go_to_scikit_learn() -> None:
    assert not fast_case([1, 2, 3], None)  # a list
    assert not fast_case(np.array([1, 2], dtype=object), None)
    assert not fast_case(np.ones(3), np.ones(2))
    assert not fast_case(np.ones(3), [1.0, 1.0, 1.0])


def _early_stopping_data(kind):
    X = RNG.normal(size=(120, 4))
    if kind == "classifier":
        return X, np.array(["a", "b", "c"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    return X, X @ [1.0, -2.0, 0.5, 0.0] + 0.1 * RNG.normal(size=120)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_early_stopping_runs_the_network_once_an_epoch_on_the_validation_rows(
    kind, monkeypatch
) -> None:
    # the loop's val_loss and the plateau's score read one forward pass (it ran twice)
    X, y = _early_stopping_data(kind)
    calls = []
    real = Network.forward

    def spy(self, X, *args, **kwargs):
        calls.append(len(X))
        return real(self, X, *args, **kwargs)

    monkeypatch.setattr(Network, "forward", spy)
    cls = MLPClassifier if kind == "classifier" else MLPRegressor
    est = cls(hidden_layer_sizes=(5,), early_stopping=True, max_iter=30, random_state=0)
    est.fit(X, y)
    n_val = 12  # validation_fraction 0.1 of 120
    assert calls.count(n_val) == est.n_iter_ and est.n_iter_ > 5
    assert len(est.validation_scores_) == est.n_iter_
