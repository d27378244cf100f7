"""Saving estimators to deltarule model files (no pickle), and pickling them."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("deltarule.io")

from sklearn.datasets import load_iris, make_multilabel_classification  # noqa: E402

import deltarule as dr  # noqa: E402
from deltarule.io import load_model, save_model  # noqa: E402
from deltarule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

IRIS_X, IRIS_Y = load_iris(return_X_y=True)
_rng = np.random.default_rng(0)
REG_X = _rng.normal(size=(60, 3))
REG_Y = np.column_stack([REG_X[:, 0], REG_X[:, 1] * REG_X[:, 2]])

FITTED = {
    "multiclass_strings": lambda: MLPClassifier(max_iter=20, random_state=0).fit(
        IRIS_X, np.array(["setosa", "versicolor", "virginica"])[IRIS_Y]
    ),
    "binary_early_stopping": lambda: MLPClassifier(
        early_stopping=True, max_iter=20, random_state=0
    ).fit(IRIS_X, IRIS_Y == 1),
    "multilabel": lambda: MLPClassifier(max_iter=20, random_state=0).fit(
        *make_multilabel_classification(n_samples=40, n_classes=3, random_state=0)
    ),
    "multi_output": lambda: MLPRegressor(
        hidden_layer_sizes=(6, 4), activation=["tanh", "relu"], max_iter=20, random_state=0
    ).fit(REG_X, REG_Y),
    "poisson_float32": lambda: MLPRegressor(loss="poisson", max_iter=20, random_state=0).fit(
        REG_X.astype(np.float32), np.abs(REG_Y[:, 0]).astype(np.float32)
    ),
}


def data_for(estimator):
    if isinstance(estimator, MLPRegressor):
        return REG_X.astype(estimator.network_.dtype)
    return IRIS_X if estimator.n_features_in_ == 4 else make_multilabel_classification(
        n_samples=40, n_classes=3, random_state=0
    )[0]  # fmt: skip


def predictions(estimator, X) -> list[np.ndarray]:
    out = [estimator.predict(X)]
    if hasattr(estimator, "predict_proba"):
        out.append(estimator.predict_proba(X))
    return out


@pytest.mark.parametrize("case", sorted(FITTED))
def test_save_and_load_round_trip(case, tmp_path) -> None:
    estimator = FITTED[case]()
    path = estimator.save(tmp_path / "model.safetensors")
    loaded = type(estimator).load(path)
    X = data_for(estimator)
    for before, after in zip(predictions(estimator, X), predictions(loaded, X)):
        np.testing.assert_array_equal(before, after)
    assert loaded.get_params() == estimator.get_params()
    for name in ("n_iter_", "t_", "loss_", "loss_curve_", "out_activation_", "n_layers_"):
        assert getattr(loaded, name) == getattr(estimator, name), name
    assert loaded.best_validation_score_ == estimator.best_validation_score_
    assert loaded.best_loss_ == estimator.best_loss_
    if hasattr(estimator, "classes_"):
        assert np.array_equal(loaded.classes_, estimator.classes_)
        assert load_model(path).classes == estimator.classes_.tolist()  # stored in the file
    assert loaded.network_.dtype == estimator.network_.dtype


def test_loaded_estimator_keeps_training_and_feature_names(tmp_path) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(IRIS_X, columns=list("abcd"))
    clf = MLPClassifier(max_iter=5, warm_start=True, random_state=0).fit(frame, IRIS_Y)
    loaded = MLPClassifier.load(clf.save(tmp_path / "clf.safetensors"))
    assert list(loaded.feature_names_in_) == list("abcd")
    loaded.fit(frame, IRIS_Y)  # warm start from the loaded weights
    assert loaded.t_ == 2 * 5 * 150
    loaded.partial_fit(frame, IRIS_Y)
    assert loaded.n_iter_ == 1


def test_load_refuses_other_files(tmp_path) -> None:
    reg_path = MLPRegressor(max_iter=2).fit(REG_X, REG_Y).save(tmp_path / "reg.safetensors")
    with pytest.raises(ValueError, match="MLPRegressor"):
        MLPClassifier.load(reg_path)
    plain = save_model(dr.Network([2, 3, 1], seed=0), tmp_path / "net.safetensors")
    with pytest.raises(ValueError, match="plain deltarule network"):
        MLPRegressor.load(plain)


@pytest.mark.parametrize("case", sorted(FITTED))
def test_pickle_and_deepcopy_keep_predictions(case) -> None:
    estimator = FITTED[case]()
    X = data_for(estimator)
    for clone in (pickle.loads(pickle.dumps(estimator)), copy.deepcopy(estimator)):
        for before, after in zip(predictions(estimator, X), predictions(clone, X)):
            np.testing.assert_array_equal(before, after)
        clone.coefs_[0][...] = 0  # views of the clone's own network, not the original's
        assert estimator.coefs_[0].any()
        assert np.shares_memory(clone.coefs_[0], clone.network_.parameters)


def test_partial_fit_after_unpickling_continues_the_optimizer() -> None:
    clf = MLPClassifier(hidden_layer_sizes=(5,), shuffle=False, random_state=0)
    clf.partial_fit(IRIS_X, IRIS_Y, classes=[0, 1, 2])
    twin = pickle.loads(pickle.dumps(clf))
    clf.partial_fit(IRIS_X, IRIS_Y)
    twin.partial_fit(IRIS_X, IRIS_Y)
    for ours, theirs in zip(clf.coefs_, twin.coefs_):
        np.testing.assert_array_equal(ours, theirs)
