"""deltarule.sklearn against scikit-learn itself (the oracle), side by side.

Same ``random_state`` and settings, same model: the early-stopping rows, the shuffled
batches and the random stream they draw from, Adam's update, the parameter errors and
L-BFGS's warning in scikit-learn's words, the attributes an L-BFGS fit sets, the warning
after Ctrl-C, and the types of the fitted numbers.
"""

from __future__ import annotations

import signal
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

import sklearn.neural_network._multilayer_perceptron as sk_mlp  # noqa: E402
from sklearn import __version__ as _sklearn_version  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, load_iris  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkRegressor  # noqa: E402
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError as SkInvalid  # noqa: E402

import deltarule.sklearn._setup as dr_setup  # noqa: E402
from deltarule import _compiled, _minibatch  # noqa: E402
from deltarule.callbacks import Callback  # noqa: E402
from deltarule.optimizers import Adam  # noqa: E402
from deltarule.sklearn import InvalidParameterError, MLPClassifier, MLPRegressor  # noqa: E402

_SKLEARN = tuple(int(part) for part in _sklearn_version.split(".")[:2])

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

IRIS_X, IRIS_Y = load_iris(return_X_y=True)
CANCER_X, CANCER_Y = load_breast_cancer(return_X_y=True)
CANCER_X = StandardScaler().fit_transform(CANCER_X)  # 569 rows: 3 batches of 'auto' (200)
DIGITS_X, DIGITS_Y = load_digits(return_X_y=True)
DIGITS_X = DIGITS_X / 16.0


def assert_same_curve(ours, theirs, rtol: float = 1e-6) -> None:
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=rtol, atol=0)


def assert_same_weights(ours, theirs, atol: float = 1e-9) -> None:
    for mine, reference in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(mine, reference, rtol=0, atol=atol)


# --- 1. the early-stopping hold-out --------------------------------------------------


@pytest.fixture
def held_out(monkeypatch) -> dict:
    """Each library's validation X, as its call of train_test_split returns it."""
    seen: dict = {}

    def spy(tag):
        def split(*arrays, **kwargs):
            parts = train_test_split(*arrays, **kwargs)
            seen[tag] = parts[1]
            return parts

        return split

    monkeypatch.setattr(sk_mlp, "train_test_split", spy("sklearn"))
    monkeypatch.setattr(dr_setup, "train_test_split", spy("deltarule"))
    return seen


@pytest.mark.parametrize(
    ("X", "y"),
    [
        (IRIS_X, IRIS_Y),  # multiclass: scikit-learn does not stratify
        (IRIS_X[:100], IRIS_Y[:100]),  # binary: stratified on the binarized targets
        (DIGITS_X[:400], DIGITS_Y[:400]),
        pytest.param(
            IRIS_X[:100],
            np.where(IRIS_Y[:100] == 0, "setosa", "versicolor"),
            marks=pytest.mark.skipif(
                _SKLEARN < (1, 9),
                reason="scikit-learn's own MLPClassifier fails here before 1.9 (1.7.0 to 1.8.0 "
                "tried): its early-stopping score calls np.isnan on the predicted labels",
            ),
        ),
    ],
    ids=["multiclass", "binary", "digits", "binary-strings"],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_early_stopping_holds_out_scikit_learns_rows(held_out, X, y, weighted) -> None:
    sw = np.linspace(0.5, 2.0, len(y)) if weighted else None
    kwargs = dict(hidden_layer_sizes=(10,), max_iter=8, random_state=0, early_stopping=True)
    theirs = SkClassifier(**kwargs).fit(X, y, sample_weight=sw)
    ours = MLPClassifier(**kwargs).fit(X, y, sample_weight=sw)
    np.testing.assert_array_equal(held_out["deltarule"], held_out["sklearn"])
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, atol=1e-12)
    assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_)


def test_binary_split_with_a_single_sample_class_falls_back_to_random_rows() -> None:
    # scikit-learn cannot stratify (one sample of class 1) and raises; deltarule splits
    # at random instead, as for multiclass targets
    X, y = IRIS_X[:60], np.r_[np.zeros(59, int), 1]
    kwargs = dict(max_iter=3, random_state=0, early_stopping=True)
    with pytest.raises(ValueError, match="least populated class"):
        SkClassifier(**kwargs).fit(X, y)
    assert len(MLPClassifier(**kwargs).fit(X, y).validation_scores_) == 3


# --- 3. Adam's epsilon -------------------------------------------------------------


def sklearn_adam_steps(params, grads, **kwargs) -> np.ndarray:
    """scikit-learn's AdamOptimizer over ``grads`` (one per step), from ``params``."""
    theta = [params.copy()]
    opt = AdamOptimizer(theta, **kwargs)
    for grad in grads:
        opt.update_params(theta, [grad])
    return theta[0]


def test_adam_epsilon_hat_is_scikit_learns_update() -> None:
    rng = np.random.default_rng(0)
    params = rng.normal(size=40)
    # gradients of about epsilon in size (a dead unit's L2 term) show where it enters
    grads = [rng.normal(size=40) * 10.0 ** rng.integers(-10, 0, 40) for _ in range(5)]
    settings = dict(learning_rate_init=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6)
    expected = sklearn_adam_steps(params, grads, **settings)
    for hat, close in ((True, True), (False, False)):
        opt = Adam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6, epsilon_hat=hat)
        theta, state = params.copy(), opt.init(params)
        for grad in grads:
            opt.update(theta, grad, state)
        assert np.allclose(theta, expected, rtol=0, atol=1e-13) == close


def test_default_adam_is_algorithm_1_unchanged() -> None:
    rng = np.random.default_rng(1)
    theta, grads = rng.normal(size=7), [rng.normal(size=7) * 1e-7 for _ in range(3)]
    opt = Adam(0.05, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
    assert opt.epsilon_hat is False and opt.config()["epsilon_hat"] is False
    state, m, v, expected = opt.init(theta), 0.0, 0.0, theta.copy()
    ours = theta.copy()
    for t, g in enumerate(grads, start=1):  # Kingma & Ba, Algorithm 1, written out
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        expected -= 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        opt.update(ours, g, state)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15)


def test_adam_epsilon_hat_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match="epsilon_hat must be True or False; received 'yes'"):
        Adam(epsilon_hat="yes")


def test_adam_solver_is_scikit_learns_after_one_step() -> None:
    # alpha > 0 gives dead ReLU units gradients of about epsilon: before, 7e-4 apart
    kwargs = dict(hidden_layer_sizes=(10,), max_iter=1, random_state=0)
    assert_same_weights(
        MLPClassifier(**kwargs).fit(IRIS_X, IRIS_Y), SkClassifier(**kwargs).fit(IRIS_X, IRIS_Y)
    )


@pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")
def test_compiled_minibatch_steps_use_scikit_learns_adam(monkeypatch) -> None:
    from conftest import count_calls

    monkeypatch.setattr(_minibatch, "MIN_PARAMETERS", 0)  # small networks take the kernel
    runs = count_calls(monkeypatch, _minibatch.MinibatchKernel, "run")
    kwargs = dict(hidden_layer_sizes=(20,), max_iter=10, random_state=0, alpha=1e-3)
    ours = MLPClassifier(**kwargs).fit(CANCER_X, CANCER_Y)
    assert runs, "the compiled steps did not run"
    theirs = SkClassifier(**kwargs).fit(CANCER_X, CANCER_Y)
    assert_same_curve(ours, theirs)
    assert_same_weights(ours, theirs)


# --- 2. the shuffled batches and the random stream ------------------------------------


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize(
    "extra", [{}, {"early_stopping": True}, {"batch_size": 64}], ids=["auto", "es", "bs64"]
)
def test_shuffled_batches_are_scikit_learns(solver, extra) -> None:
    kwargs = dict(hidden_layer_sizes=(10,), max_iter=15, random_state=0, solver=solver, **extra)
    ours = MLPClassifier(**kwargs).fit(CANCER_X, CANCER_Y)
    theirs = SkClassifier(**kwargs).fit(CANCER_X, CANCER_Y)
    assert_same_curve(ours, theirs)
    assert_same_weights(ours, theirs, atol=1e-8)


def test_online_batches_are_scikit_learns() -> None:
    # batch_size=1 and the delta rule: the compiled online loop, drawing several epochs'
    # orders at once (and putting the stream back when it stops early)
    kwargs = dict(hidden_layer_sizes=(5,), solver="sgd", momentum=0.0, batch_size=1)
    kwargs.update(max_iter=4, random_state=2, learning_rate_init=0.01)
    ours = MLPRegressor(**kwargs).fit(IRIS_X[:60], IRIS_Y[:60])
    theirs = SkRegressor(**kwargs).fit(IRIS_X[:60], IRIS_Y[:60])
    assert_same_curve(ours, theirs)


def test_partial_fit_and_warm_start_shuffle_as_scikit_learn() -> None:
    ours, theirs = (
        MLPClassifier(random_state=3, batch_size=50),
        SkClassifier(random_state=3, batch_size=50),
    )
    for _ in range(3):  # each call re-seeds from the integer random_state, as scikit-learn
        ours.partial_fit(DIGITS_X[:500], DIGITS_Y[:500], classes=np.arange(10))
        theirs.partial_fit(DIGITS_X[:500], DIGITS_Y[:500], classes=np.arange(10))
    assert_same_curve(ours, theirs)
    kwargs = dict(random_state=3, batch_size=50, warm_start=True, max_iter=3)
    ours, theirs = MLPClassifier(**kwargs), SkClassifier(**kwargs)
    for _ in range(2):
        ours.fit(DIGITS_X[:500], DIGITS_Y[:500])
        theirs.fit(DIGITS_X[:500], DIGITS_Y[:500])
    assert_same_curve(ours, theirs)
    assert_same_weights(ours, theirs)


@pytest.mark.parametrize(
    "settings",
    [
        dict(solver="adam"),  # one batch of every row: scikit-learn shuffles it all the same
        dict(solver="sgd", batch_size=40),
        dict(solver="adam", early_stopping=True, batch_size=40),
        dict(solver="adam", shuffle=False),
        dict(solver="lbfgs"),
    ],
    ids=["full-batch", "sgd", "early-stopping", "no-shuffle", "lbfgs"],
)
def test_a_shared_random_state_is_left_where_scikit_learn_leaves_it(settings) -> None:
    draws = []
    for cls in (MLPClassifier, SkClassifier):
        shared = np.random.RandomState(0)
        cls(hidden_layer_sizes=(10,), max_iter=5, random_state=shared, **settings).fit(
            IRIS_X, IRIS_Y
        )
        draws.append(shared.randint(10**9, size=3))
    np.testing.assert_array_equal(*draws)


# --- 6. parameter errors in scikit-learn's words --------------------------------------

SAME_WORDS = [
    ("alpha", -1),
    ("alpha", np.nan),
    ("tol", -1.0),
    ("power_t", -1),
    ("learning_rate_init", 0),
    ("epsilon", 0.0),
    ("momentum", 2),
    ("validation_fraction", 1.0),
    ("beta_1", 1),
    ("beta_2", 1.5),
    ("max_iter", 0),
    ("max_iter", 1.5),
    ("max_fun", 0),
    ("n_iter_no_change", 0),
    ("batch_size", 0),
    ("random_state", -1),
    ("verbose", -1),
    ("shuffle", 1),
    ("warm_start", "yes"),
    ("nesterovs_momentum", None),
    ("early_stopping", 0),
    ("hidden_layer_sizes", [3, 0]),
]


@pytest.mark.parametrize(("name", "value"), SAME_WORDS)
def test_parameter_errors_are_scikit_learns_class_and_words(name, value) -> None:
    X, y = IRIS_X[::5], IRIS_Y[::5]
    with pytest.raises(ValueError) as reference:
        SkClassifier(**{name: value}).fit(X, y)
    with pytest.raises(SkInvalid) as info:  # an except clause for scikit-learn's class
        MLPClassifier(**{name: value}).fit(X, y)
    assert str(info.value) == str(reference.value)
    assert isinstance(info.value, InvalidParameterError) and isinstance(info.value, TypeError)


# --- 8. L-BFGS's convergence warning ------------------------------------------------


@pytest.mark.parametrize("limit", [dict(max_iter=20), dict(max_fun=5)], ids=str)
def test_lbfgs_warning_is_scikit_learns(limit) -> None:
    messages = []
    for cls in (MLPClassifier, SkClassifier):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cls(solver="lbfgs", random_state=0, hidden_layer_sizes=(10,), **limit).fit(
                IRIS_X, IRIS_Y
            )
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1] and len(messages[0]) == 1


# --- 9. what an L-BFGS fit sets ------------------------------------------------------

RECORDS = ("loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_")


def fitted_records(est) -> dict:
    return {name: getattr(est, name) for name in RECORDS if hasattr(est, name)}


@pytest.mark.parametrize("early_stopping", [False, True])
def test_lbfgs_sets_no_epoch_records_and_keeps_a_warm_starts(early_stopping) -> None:
    kwargs = dict(max_iter=5, random_state=0, warm_start=True, early_stopping=early_stopping)
    ours, theirs = MLPClassifier(**kwargs), SkClassifier(**kwargs)
    for est in (ours, theirs):
        est.set_params(solver="lbfgs").fit(IRIS_X, IRIS_Y)
    assert fitted_records(ours) == fitted_records(theirs) == {}
    for est in (ours, theirs):  # adam, then lbfgs warm-started from it
        est.set_params(warm_start=False, solver="adam").fit(IRIS_X, IRIS_Y)
        est.set_params(warm_start=True, solver="lbfgs").fit(IRIS_X, IRIS_Y)
    assert len(ours.loss_curve_) == len(theirs.loss_curve_) == 5
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-6)
    if early_stopping:
        assert ours.best_loss_ is theirs.best_loss_ is None
        assert ours.validation_scores_ == pytest.approx(theirs.validation_scores_)
    else:
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-6, abs=0)


def test_adam_warm_started_from_lbfgs_starts_its_records() -> None:
    # (scikit-learn raises AttributeError here: it has no loss_curve_ to append to)
    est = MLPClassifier(solver="lbfgs", max_iter=5, random_state=0, warm_start=True)
    est.fit(IRIS_X, IRIS_Y).set_params(solver="adam").fit(IRIS_X, IRIS_Y)
    assert len(est.loss_curve_) == 5 and est.best_loss_ == min(est.loss_curve_)


# --- 10. Ctrl-C ----------------------------------------------------------------------


class PressCtrlC(Callback):
    def on_epoch_end(self, record, state):
        if record.epoch == 3:
            signal.raise_signal(signal.SIGINT)


def test_ctrl_c_keeps_the_fit_with_scikit_learns_warning() -> None:
    est = MLPClassifier(max_iter=50, random_state=0, callbacks=[PressCtrlC()])
    with pytest.warns(UserWarning, match=r"^Training interrupted by user\.$") as caught:
        est.fit(IRIS_X, IRIS_Y)
    assert est.n_iter_ == 3
    assert [str(w.message) for w in caught] == ["Training interrupted by user."]  # (only it)


# --- 12. and 7. the types of the fitted numbers and of the predictions -------------------


@pytest.mark.parametrize("early_stopping", [False, True])
def test_losses_are_float64_as_scikit_learns(early_stopping, tmp_path) -> None:
    kwargs = dict(max_iter=3, random_state=0, early_stopping=early_stopping)
    ours, theirs = MLPClassifier(**kwargs), SkClassifier(**kwargs)
    ours.fit(IRIS_X, IRIS_Y), theirs.fit(IRIS_X, IRIS_Y)
    loaded = MLPClassifier.load(ours.save(tmp_path / "m.safetensors"))
    for est in (ours, loaded):
        assert type(est.loss_) is type(theirs.loss_) is np.float64
        assert type(est.best_loss_) is type(theirs.best_loss_)
        assert {type(v) for v in est.loss_curve_} == {type(v) for v in theirs.loss_curve_}


def test_float32_model_predicts_float64_x_in_float64() -> None:
    X32 = IRIS_X.astype(np.float32)
    for ours, theirs in (
        (MLPClassifier(max_iter=3, random_state=0), SkClassifier(max_iter=3, random_state=0)),
        (MLPRegressor(max_iter=3, random_state=0), SkRegressor(max_iter=3, random_state=0)),
    ):
        ours.fit(X32, IRIS_Y), theirs.fit(X32, IRIS_Y)
        method = "predict_proba" if hasattr(ours, "predict_proba") else "predict"
        for X in (IRIS_X, X32):
            mine, reference = getattr(ours, method)(X), getattr(theirs, method)(X)
            assert mine.dtype == reference.dtype
            np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-5)
