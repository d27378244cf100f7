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


# ------------------------------------------- continuing to train after a load
def assert_same_weights(ours, theirs) -> None:
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_array_equal(a, b)


CONTINUED = {
    "adam_dropout": dict(solver="adam", dropout=0.2),
    "adamw": dict(solver="adamw"),
    "sgd_nesterov_invscaling": dict(solver="sgd", learning_rate="invscaling"),
    "sgd_momentum_adaptive": dict(
        solver="sgd", nesterovs_momentum=False, learning_rate="adaptive", n_iter_no_change=1
    ),
    "rmsprop": dict(solver="rmsprop"),
    "adagrad": dict(solver="adagrad"),
    "rprop": dict(solver="rprop"),
}


@pytest.mark.parametrize("case", sorted(CONTINUED))
def test_partial_fit_after_load_equals_partial_fit_without_it(case, tmp_path) -> None:
    # (before: load restarted the optimizer — zero moments, step 0 — and drew a new
    # shuffling stream, so the weights differed from the first partial_fit on)
    settings = dict(hidden_layer_sizes=(6,), max_iter=3, batch_size=32, random_state=0)
    clf = MLPClassifier(**settings, **CONTINUED[case]).fit(IRIS_X, IRIS_Y)
    loaded = MLPClassifier.load(clf.save(tmp_path / "clf.safetensors"))
    assert_same_weights(clf, loaded)
    for _ in range(3):
        clf.partial_fit(IRIS_X, IRIS_Y)
        loaded.partial_fit(IRIS_X, IRIS_Y)
        assert_same_weights(clf, loaded)
    assert loaded.loss_curve_ == clf.loss_curve_
    assert loaded._trainer.learning_rate == clf._trainer.learning_rate
    assert loaded._trainer.optimizer_state["step"] == clf._trainer.optimizer_state["step"]


def test_regressor_partial_fit_after_load_float32_with_dropout(tmp_path) -> None:
    X, y = REG_X.astype(np.float32), REG_Y.astype(np.float32)
    reg = MLPRegressor(hidden_layer_sizes=(5,), dropout=0.1, max_iter=4, random_state=1)
    reg.fit(X, y)
    reg.partial_fit(X, y)  # state from partial_fit calls is kept as well
    loaded = MLPRegressor.load(reg.save(tmp_path / "reg.safetensors"))
    for _ in range(2):
        reg.partial_fit(X, y)
        loaded.partial_fit(X, y)
    assert_same_weights(reg, loaded)
    assert loaded.network_.dtype == np.float32


def test_the_optimizer_state_is_stored_as_tensors_and_plain_json(tmp_path) -> None:
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(IRIS_X, IRIS_Y)
    loaded = load_model(clf.save(tmp_path / "clf.safetensors"))
    assert set(loaded.extra_tensors) == {
        "best_parameters",
        "optimizer.first_moment",
        "optimizer.second_moment",
    }
    np.testing.assert_array_equal(
        loaded.extra_tensors["optimizer.first_moment"],
        clf._trainer.optimizer_state["first_moment"],
    )
    trainer = loaded.training["trainer"]
    assert trainer["optimizer_scalars"]["step"] == clf._trainer.optimizer_state["step"] > 0
    assert trainer["rng"][0] == clf._trainer._shuffle_rng.bit_generator.state


def test_warm_start_fit_after_load_equals_warm_start_fit_without_it(tmp_path) -> None:
    for random_state in (0, np.random.RandomState(7)):
        clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, warm_start=True,
                            random_state=random_state).fit(IRIS_X, IRIS_Y)  # fmt: skip
        loaded = MLPClassifier.load(clf.save(tmp_path / "clf.safetensors"))
        assert type(loaded.random_state) is type(random_state)
        clf.fit(IRIS_X, IRIS_Y)
        loaded.fit(IRIS_X, IRIS_Y)
        assert_same_weights(clf, loaded)


def _without_training_state(path, target):
    """Rewrite ``path`` as save() wrote it before it kept the optimizer and random streams."""
    old = load_model(path)
    training = {key: old.training[key] for key in ("estimator", "params", "attributes")}
    training["target_type"] = old.training["target_type"]
    best = {"best_parameters": old.extra_tensors["best_parameters"]}
    return save_model(old.network, target, classes=old.classes, training=training,
                      extra_tensors=best)  # fmt: skip


def test_a_file_without_training_state_loads_and_restarts_the_optimizer(tmp_path) -> None:
    clf = MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(IRIS_X, IRIS_Y)
    path = _without_training_state(
        clf.save(tmp_path / "new.safetensors"), tmp_path / "old.safetensors"
    )
    assert "trainer" not in load_model(path).training
    loaded = MLPClassifier.load(path)
    assert loaded._trainer is None
    assert_same_weights(clf, loaded)
    clf._trainer = None  # what the old file lacks: the next partial_fit starts afresh
    clf.partial_fit(IRIS_X, IRIS_Y)
    loaded.partial_fit(IRIS_X, IRIS_Y)
    assert_same_weights(clf, loaded)


def test_lbfgs_saves_no_trainer(tmp_path) -> None:
    reg = MLPRegressor(solver="lbfgs", max_iter=5, random_state=0).fit(REG_X, REG_Y)
    path = reg.save(tmp_path / "reg.safetensors")
    assert "trainer" not in load_model(path).training
    assert MLPRegressor.load(path)._trainer is None


@pytest.mark.parametrize(
    "change,detail",
    [
        (lambda t, x: t["trainer"].update(rng="x"), "random streams"),
        (lambda t, x: t["trainer"]["rng"][0]["state"].update(state=-1), "out of bounds"),
        (lambda t, x: t["trainer"].update(optimizer={"name": "nope"}), "nope"),
        (lambda t, x: t["trainer"]["optimizer"].update(beta_9=1), "beta_9"),
        (lambda t, x: t["trainer"].pop("settings"), "settings"),
        (lambda t, x: x.pop("extra.optimizer.second_moment"), "second_moment"),
        (lambda t, x: t.update(random_state={"bit_generator": "MT19937"}), "RandomState"),
    ],
)  # fmt: skip
def test_a_damaged_training_state_is_named(tmp_path, change, detail) -> None:
    import json

    from deltarule.exceptions import IncompatibleFormatError
    from deltarule.io.safetensors import read_safetensors, write_safetensors

    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(IRIS_X, IRIS_Y)
    path = clf.save(tmp_path / "clf.safetensors")
    tensors, metadata = read_safetensors(path)
    header = json.loads(metadata["deltarule"])
    change(header["training"], tensors)
    metadata["deltarule"] = json.dumps(header)
    write_safetensors(path, tensors, metadata)
    with pytest.raises(IncompatibleFormatError) as info:
        MLPClassifier.load(path)
    message = str(info.value)
    assert message.startswith(f"{path} holds a")
    assert detail in message and "damaged" in message and "backup copy" in message


def test_a_flipped_byte_in_an_estimator_file_is_refused(tmp_path) -> None:
    from deltarule.exceptions import IncompatibleFormatError

    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(IRIS_X, IRIS_Y)
    path = clf.save(tmp_path / "clf.safetensors")
    content = bytearray(path.read_bytes())
    content[-3] ^= 0x01
    path.write_bytes(bytes(content))
    with pytest.raises(IncompatibleFormatError, match="is damaged"):
        MLPClassifier.load(path)


# ------------------------------------------- parameters and classes as given
def clone_fit(estimator):
    from sklearn.base import clone

    return clone(estimator).fit(IRIS_X, IRIS_Y)


@pytest.mark.parametrize("dtype", [np.float32, np.dtype("float32"), "float32", np.float64, "auto"])
def test_every_dtype_fit_accepts_saves_and_loads_with_the_same_meaning(dtype, tmp_path) -> None:
    # (before: a numpy type or dtype fitted, then save() refused it as not JSON)
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, dtype=dtype, random_state=0)
    clf.fit(IRIS_X, IRIS_Y)
    loaded = MLPClassifier.load(clf.save(tmp_path / "clf.safetensors"))
    if isinstance(dtype, str):
        assert loaded.dtype == dtype
    else:
        assert np.dtype(loaded.dtype) == np.dtype(dtype)
    assert loaded.network_.dtype == clf.network_.dtype
    refit, original = clone_fit(loaded), clone_fit(clf)  # the parameters mean the same
    assert refit.network_.dtype == original.network_.dtype
    np.testing.assert_array_equal(refit.predict_proba(IRIS_X), original.predict_proba(IRIS_X))


def test_lists_and_tuples_come_back_as_given(tmp_path) -> None:
    # (before: a list hidden_layer_sizes came back a tuple, a tuple activation a list)
    reg = MLPRegressor(hidden_layer_sizes=[4, 3], activation=("tanh", "relu"), dropout=[0.1, 0.0],
                       max_iter=3, random_state=0).fit(REG_X, REG_Y)  # fmt: skip
    loaded = MLPRegressor.load(reg.save(tmp_path / "reg.safetensors"))
    for name in ("hidden_layer_sizes", "activation", "dropout"):
        assert type(loaded.get_params()[name]) is type(reg.get_params()[name]), name
    assert loaded.get_params() == reg.get_params()


@pytest.mark.parametrize(
    "labels",
    [
        IRIS_Y.astype(np.int8),
        IRIS_Y.astype(np.uint16),
        IRIS_Y == 1,
        np.array(["a", "bb", "c"])[IRIS_Y],
        np.array(["a", "bb", "c"], dtype=object)[IRIS_Y],
    ],
    ids=["int8", "uint16", "bool", "str", "object"],
)
def test_classes_keep_the_dtype_scikit_learn_gives_them(labels, tmp_path) -> None:
    # (before: int8 classes_ came back int64, and predictions with them)
    from sklearn.neural_network import MLPClassifier as SkClassifier

    reference = SkClassifier(hidden_layer_sizes=(3,), max_iter=2).fit(IRIS_X, labels)
    clf = MLPClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(IRIS_X, labels)
    loaded = MLPClassifier.load(clf.save(tmp_path / "clf.safetensors"))
    assert clf.classes_.dtype == reference.classes_.dtype
    assert loaded.classes_.dtype == reference.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, reference.classes_)
    assert loaded.predict(IRIS_X).dtype == reference.predict(IRIS_X).dtype


def test_a_file_without_the_new_fields_loads_as_before(tmp_path) -> None:
    clf = MLPClassifier(hidden_layer_sizes=[4], max_iter=2, random_state=0)
    clf.fit(IRIS_X, IRIS_Y.astype(np.int8))
    old = load_model(clf.save(tmp_path / "new.safetensors"))
    training = {k: v for k, v in old.training.items() if k not in ("tuple_params", "classes_dtype")}
    path = save_model(old.network, tmp_path / "old.safetensors", classes=old.classes,
                      training=training, extra_tensors=old.extra_tensors)  # fmt: skip
    loaded = MLPClassifier.load(path)
    assert loaded.hidden_layer_sizes == (4,)  # the old rule: a tuple
    np.testing.assert_array_equal(loaded.classes_, [0, 1, 2])
    np.testing.assert_array_equal(loaded.predict_proba(IRIS_X), clf.predict_proba(IRIS_X))


def test_an_estimator_fitted_on_one_class_loads_and_predicts_it(tmp_path) -> None:
    """A one-class MLPClassifier's file (allowed: one output, one class) failed in
    LoadedModel.predict (index 1 of one class) and in deltarule predict --proba (two
    probability columns for one class name; found by a QA pass writing a file reader)."""
    import warnings

    from deltarule.cli import main

    X = np.random.default_rng(0).normal(size=(20, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(max_iter=5, random_state=0).fit(X, np.full(20, 7))
    model.save(tmp_path / "one.safetensors")
    loaded = load_model(tmp_path / "one.safetensors")
    assert loaded.predict(X).tolist() == [7] * 20 == model.predict(X).tolist()
    np.testing.assert_allclose(loaded.predict_proba(X)[:, 0], model.predict_proba(X)[:, 0])
    assert loaded.predict_proba(X).shape == (20, 1)
    (tmp_path / "x.csv").write_text("x0,x1,x2\n1,2,3\n0,0,0\n")
    argv = ["predict", str(tmp_path / "one.safetensors"), str(tmp_path / "x.csv"), "--proba"]
    assert main(argv) == 0
    (tmp_path / "y.csv").write_text("x0,x1,x2,t\n1,2,3,7\n0,0,0,7\n")  # (nothing to score)
    argv = ["evaluate", str(tmp_path / "one.safetensors"), str(tmp_path / "y.csv"), "--target", "t"]
    assert main(argv) == 2
