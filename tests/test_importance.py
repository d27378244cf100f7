"""Permutation importance (``deltarule.importance``): against permutations re-drawn here and
scored by scikit-learn's metrics, against ``sklearn.inspection.permutation_importance`` on
deltarule's estimators, on data whose target depends on one column, and on bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score

import deltarule as dr
from deltarule import InputError, Network
from deltarule.exceptions import UnknownNameError
from deltarule.importance import PermutationImportance, permutation_importance


def _permutations(seed: int, n_columns: int, n_repeats: int, n_samples: int) -> list:
    """The documented draws: rng.permutation(n_samples), column by column, repeat by repeat."""
    rng = np.random.default_rng(seed)
    return [[rng.permutation(n_samples) for _ in range(n_repeats)] for _ in range(n_columns)]


def _shuffled(X: np.ndarray, group: list[int], order: np.ndarray) -> np.ndarray:
    out = X.copy()
    out[:, group] = X[order][:, group]
    return out


@pytest.fixture(scope="module")
def classifier() -> tuple[Network, np.ndarray, np.ndarray]:
    """Three classes decided by columns 0 and 1; column 2 is noise."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 3))
    labels = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)
    Y = np.eye(3)[labels]
    net = Network([3, 10, 3], activation="tanh", output_activation="softmax",
                  loss="categorical_crossentropy", seed=0, dtype="float64")  # fmt: skip
    net.fit(X, Y, epochs=150, batch_size=None, learning_rate=0.05, seed=0, verbose=0,
            warn_convergence=False)  # fmt: skip
    return net, X, Y


@pytest.fixture(scope="module")
def regressor() -> tuple[Network, np.ndarray, np.ndarray]:
    """Two targets: y0 from column a, y1 from columns a and b; column c is pure noise."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    Y = np.column_stack([2 * X[:, 0], X[:, 0] - X[:, 1]]) + 0.05 * rng.normal(size=(200, 2))
    net = Network([3, 8, 2], activation="tanh", seed=0, dtype="float64")
    net.fit(X, Y, epochs=200, batch_size=None, learning_rate=0.05, seed=0, verbose=0,
            warn_convergence=False)  # fmt: skip
    return net, X, Y


def test_classification_equals_permutations_scored_by_scikit_learn(classifier):
    net, X, Y = classifier
    result = permutation_importance(net, X, Y, n_repeats=4, seed=7)
    truth = Y.argmax(axis=1)
    baseline = accuracy_score(truth, net.predict(X).argmax(axis=1))
    want = np.array([
        [baseline - accuracy_score(truth, net.predict(_shuffled(X, [j], p)).argmax(axis=1))
         for p in repeats]
        for j, repeats in enumerate(_permutations(7, 3, 4, len(X)))
    ])  # fmt: skip
    assert result.scoring == "accuracy" and result.greater_is_better
    assert result.baseline == pytest.approx(baseline)
    np.testing.assert_allclose(result.importances, want, atol=1e-12)
    np.testing.assert_allclose(result.importances_mean, want.mean(axis=1), atol=1e-12)
    np.testing.assert_allclose(result.importances_std, want.std(axis=1, ddof=0), atol=1e-12)
    assert result.columns == ("x0", "x1", "x2") and result.seed == 7
    assert result.importances_mean[0] > 0.1 and result.importances_mean[1] > 0.1


def test_weighted_accuracy_equals_scikit_learn(classifier):
    net, X, Y = classifier
    weights = np.random.default_rng(3).uniform(0.1, 2.0, len(X))
    result = permutation_importance(net, X, Y, n_repeats=2, seed=1, sample_weight=weights)
    truth = Y.argmax(axis=1)

    def score(A: np.ndarray) -> float:
        return accuracy_score(truth, net.predict(A).argmax(axis=1), sample_weight=weights)

    want = [[score(X) - score(_shuffled(X, [j], p)) for p in repeats]
            for j, repeats in enumerate(_permutations(1, 3, 2, len(X)))]  # fmt: skip
    np.testing.assert_allclose(result.importances, want, atol=1e-12)


def test_multi_target_regression_is_uniform_r2(regressor):
    net, X, Y = regressor
    result = permutation_importance(net, X, Y, n_repeats=3, seed=0)
    base = r2_score(Y, net.predict(X), multioutput="uniform_average")
    want = [[base - r2_score(Y, net.predict(_shuffled(X, [j], p))) for p in repeats]
            for j, repeats in enumerate(_permutations(0, 3, 3, len(X)))]  # fmt: skip
    assert result.scoring == "r2" and result.baseline == pytest.approx(base)
    np.testing.assert_allclose(result.importances, want, rtol=1e-9, atol=1e-12)
    mean = result.importances_mean
    assert mean[0] > mean[1] > 0.2 and abs(mean[2]) < 0.02  # (c: noise)


def test_an_error_counts_its_increase(regressor):
    net, X, Y = regressor
    for scoring in ("mse", "loss"):
        result = permutation_importance(net, X, Y, n_repeats=2, seed=4, scoring=scoring)

        def value(A: np.ndarray, scoring: str = scoring) -> float:
            if scoring == "mse":
                return mean_squared_error(Y, net.predict(A))
            return net.evaluate(A, Y)

        want = [[value(_shuffled(X, [j], p)) - value(X) for p in repeats]
                for j, repeats in enumerate(_permutations(4, 3, 2, len(X)))]  # fmt: skip
        assert not result.greater_is_better and result.scoring == scoring
        assert result.baseline == pytest.approx(value(X))
        np.testing.assert_allclose(result.importances, want, rtol=1e-9, atol=1e-12)
        assert result.importances_mean[0] > 0  # (shuffling a: a larger error)
        assert "increase in" in result.summary()


def test_a_group_is_shuffled_by_one_permutation(regressor):
    net, X, Y = regressor
    result = permutation_importance(net, X, Y, n_repeats=3, seed=2, columns=[[0, 1], 2])
    draws = _permutations(2, 2, 3, len(X))
    base = r2_score(Y, net.predict(X))
    want = [[base - r2_score(Y, net.predict(_shuffled(X, group, p))) for p in draws[g]]
            for g, group in enumerate([[0, 1], [2]])]  # fmt: skip
    np.testing.assert_allclose(result.importances, want, rtol=1e-9, atol=1e-12)
    assert result.columns == ("x0+x1", "x2")
    named = permutation_importance(
        net,
        pd.DataFrame(X, columns=["a", "b", "c"]),
        Y,
        n_repeats=3,
        seed=2,
        columns={"ab": ["a", "b"], "c": "c"},
    )
    assert named.columns == ("ab", "c")
    np.testing.assert_allclose(named.importances, result.importances)


def test_only_the_column_the_target_depends_on_matters():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 2))
    y = (X[:, :1] > 0).astype(float)
    net = Network([2, 6, 1], output_activation="sigmoid", loss="binary_crossentropy", seed=0)
    net.fit(X, y, epochs=100, batch_size=None, learning_rate=0.1, seed=0, verbose=0,
            target_error=0.02)  # fmt: skip
    result = permutation_importance(
        net, pd.DataFrame(X, columns=["a", "noise"]), y, n_repeats=10, seed=0
    )
    mean, std = result.importances_mean, result.importances_std
    base = accuracy_score(y, net.predict(X) > 0.5)  # (one sigmoid output: split at 0.5)
    want = [[base - accuracy_score(y, net.predict(_shuffled(X, [j], p)) > 0.5) for p in draws]
            for j, draws in enumerate(_permutations(0, 2, 10, len(X)))]  # fmt: skip
    np.testing.assert_allclose(result.importances, want, atol=1e-12)
    assert mean[0] > 0.35 and abs(mean[1]) < 0.02 and abs(mean[1]) <= 3 * std[1] + 0.01
    lines = result.summary().splitlines()
    assert lines[2].split()[0] == "a" and lines[3].split()[0] == "noise"
    assert "seed 0" in lines[0] and "10 repeats" in lines[0] and "accuracy" in lines[0]
    assert str(result) == result.summary()
    assert result.records()[0]["column"] == "a" and result.to_dict()["seed"] == 0


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_agrees_with_scikit_learn_on_an_estimator(kind):
    """Other permutations (sklearn draws its own), so agreement in distribution: each mean
    within a few standard errors of scikit-learn's."""
    from sklearn.datasets import load_iris
    from sklearn.inspection import permutation_importance as sk_importance

    from deltarule.sklearn import MLPClassifier, MLPRegressor

    X, labels = load_iris(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    warnings.simplefilter("ignore")  # (convergence: the fit is not what is tested; reset by pytest)
    if kind == "classifier":
        est = MLPClassifier(hidden_layer_sizes=(6,), max_iter=300, learning_rate_init=0.01,
                            random_state=0, tol=0).fit(X, labels)  # fmt: skip
        y, target = labels, np.eye(3)[labels]
    else:
        y = X[:, 2] * 1.5 - X[:, 0] + 0.1 * np.random.default_rng(0).normal(size=len(X))
        est = MLPRegressor(hidden_layer_sizes=(6,), max_iter=300, learning_rate_init=0.01,
                           random_state=0, tol=0).fit(X, y)  # fmt: skip
        target = y
    theirs = sk_importance(est, X, y, n_repeats=30, random_state=0)
    ours = permutation_importance(est.network_, X, target, n_repeats=30, seed=0)
    assert ours.baseline == pytest.approx(est.score(X, y))
    error = np.hypot(ours.importances_std, theirs.importances_std) / np.sqrt(30)
    difference = np.abs(ours.importances_mean - theirs.importances_mean)
    assert (difference <= 4 * error + 1e-3).all(), (difference, error)
    assert ours.importances_mean.max() > 0.1


def test_the_seed_decides_the_numbers(classifier):
    net, X, Y = classifier
    first = permutation_importance(net, X, Y, n_repeats=3, seed=11)
    again = permutation_importance(net, X, Y, n_repeats=3, seed=11)
    other = permutation_importance(net, X, Y, n_repeats=3, seed=12)
    np.testing.assert_array_equal(first.importances, again.importances)
    assert not np.array_equal(first.importances, other.importances)
    generator = permutation_importance(net, X, Y, n_repeats=3, seed=np.random.default_rng(11))
    np.testing.assert_array_equal(generator.importances, first.importances)
    assert generator.seed is None and "a Generator" in generator.summary()
    fresh = permutation_importance(net, X, Y, n_repeats=3)  # (a drawn seed, recorded)
    repeated = permutation_importance(net, X, Y, n_repeats=3, seed=fresh.seed)
    np.testing.assert_array_equal(fresh.importances, repeated.importances)


def test_a_predict_function_takes_a_dataframe(regressor):
    net, X, Y = regressor
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2]}, index=np.arange(200) * 3)
    seen = []

    def predict(table: pd.DataFrame) -> np.ndarray:
        seen.append(type(table))
        return net.predict(table[["a", "b", "c"]].to_numpy())

    result = permutation_importance(predict, frame, Y, scoring="r2", n_repeats=2, seed=0)
    direct = permutation_importance(net, X, Y, n_repeats=2, seed=0)
    np.testing.assert_allclose(result.importances, direct.importances, rtol=1e-12)
    assert result.columns == ("a", "b", "c") and set(seen) == {pd.DataFrame}
    assert result["importances_mean"] is not None
    with pytest.raises(KeyError):
        result["baseline_score"]


def test_summary_sorts_by_mean_and_std_is_population():
    result = PermutationImportance(
        np.array([[0.0, 0.2], [0.5, 0.5], [0.1, 0.1]]),
        0.9,
        ("p", "q", "r"),
        "accuracy",
        True,
        3,
    )
    assert result.order() == [1, 0, 2]  # (p and r: 0.1 each, ties kept in order)
    np.testing.assert_allclose(result.importances_std, [0.1, 0.0, 0.0])
    rows = [line.split()[0] for line in result.summary().splitlines()[2:]]
    assert rows == ["q", "p", "r"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_repeats": 0}, "n_repeats must be >= 1"),
        ({"n_repeats": True}, "n_repeats must be an integer"),
        ({"n_repeats": 2.5}, "n_repeats must be an integer"),
        ({"seed": -1}, "seed must be a non-negative"),
        ({"seed": "zero"}, "seed must be None"),
        ({"columns": []}, "columns is empty"),
        ({"columns": [[]]}, "empty group"),
        ({"columns": [[0, 0]]}, "names a column twice"),
        ({"columns": [0, 0]}, r"column 'x0' \(position 0\) in two entries: 0 and 0"),
        ({"columns": ["x1", "x1"]}, "column 'x1' .* in two entries: 'x1' and 'x1'"),
        ({"columns": [[0, 1], [1, 2]]}, r"'x1' .* in two entries: \[0, 1\] and \[1, 2\]"),
        ({"columns": {"a": [0, 1], "b": 1}}, "in two entries"),
        ({"columns": [5]}, "X has 3 columns"),
        ({"columns": ["x9"]}, "no column of"),
        ({"columns": [1.5]}, "expected a column's position"),
        ({"columns": "x0"}, "columns must be a list"),
        ({"scoring": "f1_binary"}, "f1_binary"),  # (three classes)
        ({"sample_weight": np.zeros(240)}, "all zeros"),
    ],
)
def test_bad_arguments_are_refused(classifier, kwargs, match):
    net, X, Y = classifier
    with pytest.raises(InputError, match=match):
        permutation_importance(net, X, Y, **kwargs)


def test_bad_data_is_refused(classifier, regressor):
    net, X, Y = classifier
    with pytest.raises(UnknownNameError, match="'loss'.*accuracy") as info:  # (a ValueError)
        permutation_importance(net, X, Y, scoring="accuracy_typo")
    assert isinstance(info.value, (dr.DeltaruleError, ValueError))
    with pytest.raises(InputError, match="240|239"):
        permutation_importance(net, X, Y[:-1], seed=0)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InputError, match="(?i)nan|finite"):
        permutation_importance(net, bad, Y, seed=0)
    with pytest.raises(InputError, match="features|columns|expects"):
        permutation_importance(net, X[:, :2], Y, seed=0)
    with pytest.raises(InputError, match="at least 2 rows"):
        permutation_importance(net, X[:1], Y[:1], seed=0)
    rnet, RX, RY = regressor
    with pytest.raises(InputError, match="accuracy"):
        permutation_importance(rnet, RX, RY, scoring="accuracy", seed=0)


def test_a_predict_function_is_checked(regressor):
    net, X, Y = regressor
    with pytest.raises(InputError, match="needs a metric"):
        permutation_importance(net.predict, X, Y, seed=0)
    with pytest.raises(InputError, match="needs a metric"):
        permutation_importance(net.predict, X, Y, scoring="loss", seed=0)
    with pytest.raises(InputError, match="X has 200 rows but y has 199"):
        permutation_importance(net.predict, X, Y[:-1], scoring="r2", seed=0)
    with pytest.raises(InputError, match=r"shape \(200, 1\) for 200 rows; expected \(200, 2\)"):
        permutation_importance(lambda A: net.predict(A)[:, :1], X, Y, scoring="r2", seed=0)
    with pytest.raises(InputError, match="y"):
        permutation_importance(net.predict, X, np.full_like(Y, np.inf), scoring="r2", seed=0)
    with pytest.raises(InputError, match="predictor must be"):
        permutation_importance("model.safetensors", X, Y, seed=0)


def test_exported_from_the_package():
    assert dr.permutation_importance is permutation_importance
    assert dr.PermutationImportance is PermutationImportance


@pytest.mark.parametrize("scoring", ["accuracy", "f1", "balanced_accuracy", "roc_auc"])
def test_a_class_metric_of_values_is_refused_for_a_predict_function_too(regressor, scoring):
    """A regression's targets (numbers) would be split at 0.5: refused, with the Network
    path's message, whether the predict function's task is unsaid or said."""
    net, X, Y = regressor
    with pytest.raises(InputError) as network:
        permutation_importance(net, X, Y, scoring=scoring, seed=0)
    for task in (None, "regression"):
        with pytest.raises(InputError) as predicted:
            permutation_importance(net.predict, X, Y, scoring=scoring, seed=0, task=task)
        assert str(predicted.value) == str(network.value)
        assert "score class predictions, but the targets are numbers" in str(network.value)
    with pytest.raises(InputError, match="task='classification', but the targets are numbers"):
        permutation_importance(net.predict, X, Y, scoring=scoring, seed=0, task="classification")


def test_the_task_of_a_predict_function_sets_its_scoring(classifier, regressor):
    net, X, Y = classifier
    as_network = permutation_importance(net, X, Y, n_repeats=2, seed=3)
    told = permutation_importance(net.predict, X, Y, n_repeats=2, seed=3, task="classification")
    assert told.scoring == "accuracy"
    np.testing.assert_array_equal(told.importances, as_network.importances)
    rnet, RX, RY = regressor
    values = permutation_importance(rnet.predict, RX, RY, n_repeats=2, seed=3, task="regression")
    assert values.scoring == "r2"
    np.testing.assert_array_equal(
        values.importances, permutation_importance(rnet, RX, RY, n_repeats=2, seed=3).importances
    )
    soft = np.clip(Y * 0.8 + 0.1, 0, 1)  # (probabilities as targets: classes still)
    permutation_importance(net.predict, X, soft, n_repeats=1, seed=0, task="classification")
    with pytest.raises(InputError, match="task must be 'classification', 'regression' or None"):
        permutation_importance(net.predict, X, Y, seed=0, task="classifier")
    with pytest.raises(InputError, match="makes it a classification.*drop task="):
        permutation_importance(net, X, Y, seed=0, task="regression")


def test_a_dataframe_with_two_columns_of_one_name_is_refused(regressor):
    net, X, Y = regressor
    frame = pd.DataFrame(X, columns=["a", "a", "c"])
    with pytest.raises(InputError, match=r"X has 2 columns of that name \(at positions 0, 1\)"):
        permutation_importance(net, frame, Y, seed=0, columns=["a"])
    for columns in (None, [0, 1]):
        with pytest.raises(InputError, match="two of the columns measured are named 'a'"):
            permutation_importance(net, frame, Y, seed=0, columns=columns)
    named = permutation_importance(net, frame, Y, n_repeats=2, seed=0,
                                   columns={"first": [0], "second": [1], "c": ["c"]})  # fmt: skip
    plain = permutation_importance(net, X, Y, n_repeats=2, seed=0)
    np.testing.assert_array_equal(named.importances, plain.importances)


def test_a_metric_undefined_on_the_data_is_named():
    """ROC AUC of targets of one class has no value: the message says what ROC AUC needs."""
    X = np.random.default_rng(2).normal(size=(30, 2))
    net = Network([2, 3, 1], output_activation="sigmoid", loss="binary_crossentropy", seed=0)
    ones = np.ones((30, 1))
    for predictor in (net, net.predict):
        with pytest.raises(InputError) as info:
            permutation_importance(predictor, X, ones, scoring="roc_auc", seed=0)
        message = str(info.value)
        assert "the roc_auc of the model on X as given is nan" in message
        assert "ROC AUC needs both classes among the targets" in message
        assert "R²" not in message


def test_multi_label_equals_scikit_learn():
    """Several sigmoid outputs, several labels a row: subset accuracy (the default), macro F1
    and macro ROC AUC as scikit-learn scores label indicator matrices."""
    from sklearn.metrics import f1_score, roc_auc_score

    rng = np.random.default_rng(8)
    X = rng.normal(size=(160, 4))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 0] > 0, X[:, 2] > 0.3]).astype(float)
    net = Network([4, 8, 3], activation="tanh", output_activation="sigmoid",
                  loss="binary_crossentropy", seed=0, dtype="float64")  # fmt: skip
    net.fit(X, Y, epochs=150, batch_size=None, learning_rate=0.1, seed=0, verbose=0,
            warn_convergence=False)  # fmt: skip
    scores = {
        None: lambda P: accuracy_score(Y, P > 0.5),  # (subset accuracy)
        "f1": lambda P: f1_score(Y, P > 0.5, average="macro", zero_division=0),
        "roc_auc": lambda P: roc_auc_score(Y, P, average="macro"),
    }
    for scoring, score in scores.items():
        result = permutation_importance(net, X, Y, scoring=scoring, n_repeats=3, seed=6)
        base = score(net.predict(X))
        want = [[base - score(net.predict(_shuffled(X, [j], p))) for p in repeats]
                for j, repeats in enumerate(_permutations(6, 4, 3, len(X)))]  # fmt: skip
        assert result.baseline == pytest.approx(base, abs=1e-12)
        np.testing.assert_allclose(result.importances, want, rtol=1e-9, atol=1e-12)
        assert result.importances_mean[3] == pytest.approx(0.0, abs=0.03)  # (x3: noise)
        assert result.importances_mean[0] > 0.05
