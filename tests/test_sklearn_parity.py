"""Numerical parity with scikit-learn's MLPs from the same weights.

Pins down the objective (alpha scaling, loss conventions per target type), the
initial weights drawn from ``random_state``, scikit-learn's SGD and its
schedules and stopping rules, and L-BFGS's options.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from conftest import count_calls  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkRegressor  # noqa: E402

from deltarule._compiled import OnlineKernel  # noqa: E402
from deltarule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

N = 37
_rng = np.random.default_rng(0)
X = _rng.normal(size=(N, 5))
TARGETS = {
    "binary": ("classifier", (X[:, 0] > 0).astype(int)),
    "multiclass": ("classifier", _rng.integers(0, 3, N)),
    "multilabel": ("classifier", _rng.integers(0, 2, (N, 3))),
    "regression": ("regressor", X @ _rng.normal(size=5)),
    "multi_output": ("regressor", X @ _rng.normal(size=(5, 2))),
}


def pair(kind: str) -> tuple[type, type]:
    return (MLPClassifier, SkClassifier) if kind == "classifier" else (MLPRegressor, SkRegressor)


def parameters(estimator) -> list[np.ndarray]:
    return [*estimator.coefs_, *estimator.intercepts_]


def max_difference(a, b) -> float:
    return max(float(np.abs(p - q).max()) for p, q in zip(parameters(a), parameters(b)))


@pytest.mark.parametrize("target", sorted(TARGETS))
@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("activation", ["tanh", "relu", "logistic"])
def test_one_sgd_epoch_from_equal_weights_matches(target, alpha, activation) -> None:
    kind, y = TARGETS[target]
    ours_cls, theirs_cls = pair(kind)
    settings = dict(
        hidden_layer_sizes=(4, 3), activation=activation, solver="sgd", momentum=0.0,
        learning_rate_init=0.1, batch_size=N, shuffle=False, alpha=alpha, max_iter=1,
        warm_start=True, random_state=0,
    )  # fmt: skip
    ours, theirs = ours_cls(**settings).fit(X, y), theirs_cls(**settings).fit(X, y)
    rng = np.random.default_rng(1)
    coefs = [rng.normal(size=c.shape) for c in theirs.coefs_]
    intercepts = [rng.normal(size=b.shape) for b in theirs.intercepts_]
    for model in (ours, theirs):  # warm start from user-assigned arrays
        model.coefs_ = [c.copy() for c in coefs]
        model.intercepts_ = [b.copy() for b in intercepts]
        model.fit(X, y)
    assert max(np.abs(c - o).max() for c, o in zip(coefs, ours.coefs_)) > 1e-3  # it moved
    assert max_difference(ours, theirs) < 1e-10
    for ours_c, theirs_c in zip(ours.coefs_, theirs.coefs_):
        assert ours_c.shape == theirs_c.shape
    # The loss of the epoch is taken at the starting weights; for 2 outputs scikit-learn
    # reports the squared error averaged over them (half of the objective it descends).
    penalty = 0.5 * alpha * sum(float((c * c).sum()) for c in coefs) / N
    factor = 2 if target == "multi_output" else 1
    assert ours.loss_ == pytest.approx(factor * (theirs.loss_ - penalty) + penalty, rel=1e-10)


def test_same_random_state_gives_scikit_learns_initial_weights() -> None:
    settings = dict(hidden_layer_sizes=(6, 4), solver="sgd", learning_rate_init=1e-12, max_iter=1)
    for activation in ("relu", "logistic"):
        ours = MLPClassifier(activation=activation, random_state=3, **settings).fit(X, X[:, 0] > 0)
        theirs = SkClassifier(activation=activation, random_state=3, **settings)
        theirs.fit(X, X[:, 0] > 0)
        assert max_difference(ours, theirs) < 1e-9


SCHEDULES = [
    dict(solver="sgd"),
    dict(solver="sgd", nesterovs_momentum=False),
    dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.1),
    dict(solver="sgd", learning_rate="adaptive", tol=0.1, n_iter_no_change=2),
    dict(solver="lbfgs"),
]


@pytest.mark.parametrize("settings", SCHEDULES, ids=lambda s: "-".join(map(str, s.values())))
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_whole_runs_match_step_for_step(settings, kind) -> None:
    rng = np.random.default_rng(2)
    X_big = rng.normal(size=(137, 5))
    y = rng.integers(0, 3, 137) if kind == "classifier" else X_big @ rng.normal(size=5)
    base = dict(hidden_layer_sizes=(8,), shuffle=False, batch_size=20, max_iter=60)
    ours_cls, theirs_cls = pair(kind)
    kwargs = {"random_state": 1, "learning_rate_init": 0.01, **base, **settings}
    ours, theirs = ours_cls(**kwargs).fit(X_big, y), theirs_cls(**kwargs).fit(X_big, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert max_difference(ours, theirs) < 1e-7
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-7)
    if settings["solver"] == "sgd":
        assert ours.t_ == theirs.t_
        assert ours.loss_curve_ == pytest.approx(theirs.loss_curve_, rel=1e-9)


@pytest.mark.parametrize("kind", ["binary", "regression"])
def test_early_stopping_matches_scikit_learn(kind) -> None:
    rng = np.random.default_rng(3)
    X_big = rng.normal(size=(160, 5))
    y = (X_big[:, 0] + rng.normal(size=160) > 0).astype(int)
    if kind == "regression":
        y = X_big @ rng.normal(size=5) + rng.normal(size=160)
    ours_cls, theirs_cls = pair("classifier" if kind == "binary" else "regressor")
    kwargs = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.01, shuffle=False,
                  batch_size=20, early_stopping=True, random_state=0, max_iter=100)  # fmt: skip
    ours, theirs = ours_cls(**kwargs).fit(X_big, y), theirs_cls(**kwargs).fit(X_big, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.validation_scores_ == pytest.approx(theirs.validation_scores_, abs=1e-12)
    assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_)
    assert max_difference(ours, theirs) < 1e-9  # the best epoch's weights, restored
    assert len(ours.validation_loss_curve_) == ours.n_iter_


def test_adam_differs_only_by_the_place_of_epsilon() -> None:
    kwargs = dict(hidden_layer_sizes=(8,), shuffle=False, max_iter=30, random_state=0)
    y = X[:, 0] - X[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours, theirs = MLPRegressor(**kwargs).fit(X, y), SkRegressor(**kwargs).fit(X, y)
    assert max_difference(ours, theirs) < 1e-4
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-4, atol=1e-6)


# ------------------------------------------------- sample weights and the epoch loss
def _weighted_breast_cancer():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X_bc, y_bc = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X_bc), y_bc, np.where(np.arange(len(y_bc)) < 200, 10, 0.1)


SAMPLE_WEIGHTED = {
    "sgd": dict(),
    "sgd-batch-50": dict(batch_size=50, tol=1e-3),
    "adaptive": dict(learning_rate="adaptive", tol=1e-3, n_iter_no_change=3),
    "early-stopping": dict(early_stopping=True, batch_size=64),
    "lbfgs": dict(solver="lbfgs", max_iter=40),
}


@pytest.mark.parametrize("settings", sorted(SAMPLE_WEIGHTED))
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_sample_weighted_runs_report_and_stop_on_scikit_learns_epoch_loss(kind, settings):
    # scikit-learn's epoch loss weights each batch's weighted-mean loss by its number of
    # rows; deltarule's loop weighted it by the batch's total sample weight, so the tol
    # rule stopped elsewhere (here 28 epochs against scikit-learn's 30)
    X_bc, y_bc, sw = _weighted_breast_cancer()
    if kind == "regressor":
        y_bc = X_bc[:, :3] @ [1.0, -0.5, 0.25] + np.sin(X_bc[:, 3])
    kwargs = dict(hidden_layer_sizes=(4,), solver="sgd", shuffle=False, random_state=0,
                  max_iter=200, learning_rate_init=0.01, tol=1e-2)  # fmt: skip
    kwargs.update(SAMPLE_WEIGHTED[settings])
    ours_cls, theirs_cls = pair(kind)
    ours = ours_cls(**kwargs).fit(X_bc, y_bc, sample_weight=sw)
    theirs = theirs_cls(**kwargs).fit(X_bc, y_bc, sample_weight=sw)
    assert ours.n_iter_ == theirs.n_iter_ > 1
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)
    if settings != "lbfgs":  # (scikit-learn keeps no loss_curve_ for lbfgs)
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    if settings == "early-stopping":
        np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_)
    assert max_difference(ours, theirs) < 1e-7


def test_the_loops_own_epoch_loss_stays_the_weighted_mean_over_examples() -> None:
    # The estimators ask the trainer for scikit-learn's figure (epoch_loss="rows"); the
    # default is unchanged. With a learning rate too small to move the weights, an epoch's
    # loss is the loss at the initial weights: the weighted mean over every example
    # (default), or the row-weighted mean of the batches' weighted means ("rows").
    import deltarule as dr
    from deltarule.training import Trainer

    X_bc, y_bc, sw = _weighted_breast_cancer()
    Y = y_bc.reshape(-1, 1).astype(float)
    network = dr.Network([30, 4, 1], output_activation="sigmoid", seed=0, dtype="float64")
    start = network.parameters.copy()
    batches = [slice(s, s + 200) for s in range(0, len(Y), 200)]
    batch_losses = [network.loss(network.predict(X_bc[b]), Y[b], sw[b]) for b in batches]
    rows = [len(Y[b]) for b in batches]
    expected = {
        "weighted": network.loss(network.predict(X_bc), Y, sw),
        "rows": float(np.dot(batch_losses, rows) / sum(rows)),
    }
    assert abs(expected["weighted"] - expected["rows"]) > 1e-3  # the test tells them apart
    for option, value in expected.items():
        network.parameters[...] = start
        kwargs = {} if option == "weighted" else {"epoch_loss": option}
        trainer = Trainer(network, "sgd", learning_rate=1e-12, batch_size=200, shuffle=False,
                          metrics=[], **kwargs)  # fmt: skip
        history = trainer.fit(X_bc, Y, epochs=1, sample_weight=sw, verbose=0)
        assert history.records[0].loss == pytest.approx(value, rel=1e-9), option
    with pytest.raises(ValueError, match="epoch_loss must be 'weighted' or 'rows'"):
        Trainer(network, epoch_loss="batches")


# ------------------------------------------------ several squared-error outputs
def test_multi_output_loss_is_k_times_scikit_learns_and_tol_times_k_stops_alike() -> None:
    # The documented relation (alpha=0): loss_ is the objective both gradients follow,
    # K times scikit-learn's figure, so tol=K*t stops where scikit-learn's tol=t does.
    rng = np.random.default_rng(4)
    X_mo = rng.normal(size=(150, 5))
    Y = np.column_stack([X_mo @ rng.normal(size=5), np.tanh(X_mo[:, 0]), X_mo[:, 1] ** 2])
    k = Y.shape[1]
    kwargs = dict(hidden_layer_sizes=(8,), solver="sgd", shuffle=False, batch_size=40,
                  learning_rate_init=0.01, alpha=0.0, random_state=0, max_iter=300)  # fmt: skip
    theirs = SkRegressor(tol=1e-3, **kwargs).fit(X_mo, Y)
    ours = MLPRegressor(tol=k * 1e-3, **kwargs).fit(X_mo, Y)
    assert 2 < theirs.n_iter_ < 300 and ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, k * np.array(theirs.loss_curve_), rtol=1e-9)
    assert ours.best_loss_ == pytest.approx(k * theirs.best_loss_, rel=1e-9)
    same_tol = MLPRegressor(tol=1e-3, **kwargs).fit(X_mo, Y)
    assert same_tol.n_iter_ != theirs.n_iter_  # why the docstring warns about tol


def test_multi_output_lbfgs_minimises_the_objective_it_reports() -> None:
    # scikit-learn's lbfgs pairs loss/K with the undivided gradient; ours reports (and
    # minimises) the undivided objective: checked here from coefs_ with numpy alone.
    rng = np.random.default_rng(5)
    X_mo = rng.normal(size=(60, 4))
    Y = np.column_stack([X_mo[:, 0] - X_mo[:, 1], np.sin(X_mo[:, 2])])
    alpha = 0.1
    reg = MLPRegressor(hidden_layer_sizes=(6,), activation="tanh", solver="lbfgs", alpha=alpha,
                       max_iter=30, random_state=0).fit(X_mo, Y)  # fmt: skip
    hidden = np.tanh(X_mo @ reg.coefs_[0] + reg.intercepts_[0])
    output = hidden @ reg.coefs_[1] + reg.intercepts_[1]
    penalty = 0.5 * alpha * sum(float((c * c).sum()) for c in reg.coefs_) / len(Y)
    objective = 0.5 * float(((output - Y) ** 2).sum(axis=1).mean()) + penalty
    assert reg.loss_ == pytest.approx(objective, rel=1e-9)


# ------------------------------------------- online SGD (batch_size=1) in compiled chunks
ONLINE = {
    "tol-stop": dict(learning_rate="constant", tol=1e-3, n_iter_no_change=4),
    "adaptive": dict(learning_rate="adaptive", tol=1e-2, n_iter_no_change=2),
    "max-iter": dict(learning_rate="constant", tol=0.0, n_iter_no_change=1000),
}


@pytest.mark.parametrize("settings", sorted(ONLINE))
@pytest.mark.parametrize("target", ["binary", "regression"])
def test_online_sgd_stops_and_cuts_the_rate_at_scikit_learns_epochs(
    target, settings, monkeypatch
) -> None:
    # batch_size=1 and plain SGD run in compiled chunks of epochs; scikit-learn's tol rule
    # (a stop, or a cut of the adaptive rate) is found in each chunk's losses and the chunk
    # is cut there: the same epochs, losses and weights as scikit-learn's epoch-by-epoch loop
    kind, y = TARGETS[target]
    ours_cls, theirs_cls = pair(kind)
    kwargs = dict(hidden_layer_sizes=(4,), solver="sgd", momentum=0.0, batch_size=1,
                  learning_rate_init=0.05, max_iter=150, random_state=0)  # fmt: skip
    kwargs.update(ONLINE[settings])
    calls = count_calls(monkeypatch, OnlineKernel, "run")
    ours, theirs = ours_cls(**kwargs).fit(X, y), theirs_cls(**kwargs).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ > 5
    assert len(calls) < ours.n_iter_ / 2  # (in chunks)
    assert ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    assert ours._no_improvement_count == theirs._no_improvement_count
    assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-9)
    assert ours._trainer.learning_rate == pytest.approx(theirs._optimizer.learning_rate)
    if settings == "adaptive":
        assert ours._trainer.learning_rate < 0.05 / 5  # (cut more than once)
    assert max_difference(ours, theirs) < 1e-8
    if settings == "max-iter":
        assert ours.n_iter_ == 150
    else:
        assert ours.n_iter_ < 150


@pytest.mark.parametrize("n", [1, 2, 37, 1000])
def test_the_epoch_shuffle_is_scikit_learns_shuffle(n) -> None:
    # the estimators draw each epoch's order without calling sklearn.utils.shuffle (its
    # per-call validation cost as much as an epoch on small data): the same orders, and
    # the RandomState left in the same place, over cumulative draws
    from sklearn.utils import shuffle

    from deltarule.sklearn._shuffle import shuffled

    ours, theirs = np.random.RandomState(7), np.random.RandomState(7)
    a = b = np.arange(n)
    for _ in range(5):
        a, b = shuffled(a, ours), shuffle(b, random_state=theirs)
        np.testing.assert_array_equal(a, b)
    assert ours.randint(1 << 30) == theirs.randint(1 << 30)


@pytest.mark.parametrize("target", ["multiclass", "regression"])
@pytest.mark.parametrize("incremental", [False, True], ids=["warm_start", "partial_fit"])
def test_an_activation_set_between_warm_fits_trains_the_next_as_scikit_learns(
    target, incremental
) -> None:
    # (the network kept the activation it was first fitted with while get_params said the
    # new one: the next fit trained another model than scikit-learn's, and said nothing)
    kind, y = TARGETS[target]
    ours_cls, theirs_cls = pair(kind)
    settings = dict(hidden_layer_sizes=(6, 4), activation="relu", solver="sgd", max_iter=5,
                    learning_rate_init=0.05, shuffle=False, batch_size=10, warm_start=True,
                    random_state=0)  # fmt: skip
    more = {"classes": np.unique(y)} if kind == "classifier" and incremental else {}
    ours, theirs = ours_cls(**settings).fit(X, y), theirs_cls(**settings).fit(X, y)
    assert max_difference(ours, theirs) < 1e-9
    for model in (ours, theirs):
        model.set_params(activation="tanh")
        (model.partial_fit if incremental else model.fit)(X, y, **more)
    assert max_difference(ours, theirs) < 1e-9
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-9)
    names = [layer.activation.name for layer in ours.network_.layers[:-1]]
    assert names == ["tanh", "tanh"]


def test_activations_and_dropout_set_between_warm_fits_reach_the_network() -> None:
    y = TARGETS["multiclass"][1]
    model = MLPClassifier(hidden_layer_sizes=(6, 4), max_iter=3, warm_start=True, random_state=0)
    model.fit(X, y)
    model.set_params(activation=["tanh", "logistic"], dropout=[0.1, 0.0]).fit(X, y)
    layers = model.network_.layers
    assert [(layer.activation.name, layer.dropout) for layer in layers[:-1]] == [
        ("tanh", 0.1), ("sigmoid", 0.0)]  # fmt: skip
    rows = model.network_.forward(X)[0]  # predict computes the network it trained
    assert np.allclose(model.predict_proba(X), rows)


def test_a_dtype_set_between_warm_fits_is_refused_by_name() -> None:
    y = TARGETS["multiclass"][1]
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, warm_start=True, random_state=0)
    model.set_params(dtype="float64").fit(X, y)
    with pytest.raises(
        ValueError, match="was fitted in float64; this call asks for dtype='float32'"
    ):
        model.set_params(dtype="float32").fit(X, y)


def test_a_warm_fit_that_raises_leaves_the_activation_and_dropout_as_they_were() -> None:
    # (the rollback put the weights back under the new activation: predict changed)
    from deltarule.callbacks import Callback

    class Boom(Callback):
        def on_train_begin(self, state):
            raise RuntimeError("boom")

    y = TARGETS["multiclass"][1]
    model = MLPClassifier(hidden_layer_sizes=(6,), max_iter=3, warm_start=True, random_state=0)
    model.fit(X, y)
    before = model.predict_proba(X)
    model.set_params(activation="tanh", dropout=0.3, callbacks=[Boom()])
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(X, y)
    layer = model.network_.layers[0]
    assert (layer.activation.name, layer.dropout) == ("relu", 0.0)
    np.testing.assert_array_equal(model.predict_proba(X), before)
