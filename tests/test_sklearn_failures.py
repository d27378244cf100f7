"""deltarule.sklearn when a fit fails or training does not converge.

A fit or partial_fit that raises leaves the estimator exactly as it was; the
convergence warnings are scikit-learn's class, issued once the fit is complete
(raised as errors, they keep the trained state, as scikit-learn's do); a
diverged fit always has a ``loss_``.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_diabetes, load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkRegressor  # noqa: E402
from sklearn.utils._testing import ignore_warnings  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402

import deltarule.exceptions  # noqa: E402
from deltarule.callbacks import Callback  # noqa: E402
from deltarule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

IRIS_X, IRIS_Y = load_iris(return_X_y=True)
DIABETES_X, DIABETES_Y = load_diabetes(return_X_y=True)


class RaiseAt(Callback):
    """Raise RuntimeError at the end of the ``epoch``-th epoch of each training run."""

    def __init__(self, epoch: int) -> None:
        self.epoch, self.seen = epoch, 0

    def on_train_begin(self, state):
        self.seen = 0

    def on_epoch_end(self, record, state):
        self.seen += 1
        if self.seen == self.epoch:
            raise RuntimeError("callback failed")
        return None


def state_of(estimator) -> dict:
    """Everything a fit may change, as plain comparable data (not the parameters)."""
    params = estimator.get_params(deep=False)
    out = {}
    for name, value in vars(estimator).items():
        if name in params:
            continue
        if name == "network_":
            value = (value.parameters.copy(), value.alpha, value.loss_scale)
        elif name == "_trainer" and value is not None:
            tensors, meta = value.checkpoint_state()
            tensors = {k: v.copy() for k, v in tensors.items()}
            value = (
                tensors,
                copy.deepcopy(meta),
                value.batch_size,
                getattr(value, "epoch_loss", 0),
            )
        elif name == "_label_binarizer":
            value = (value.classes_.copy(), value.y_type_)
        elif name in ("coefs_", "intercepts_"):
            value = [np.array(v) for v in value]
        else:
            value = copy.deepcopy(value)
        out[name] = value
    return out


def assert_unchanged(before: dict, estimator) -> None:
    after = state_of(estimator)
    assert sorted(after) == sorted(before)
    np.testing.assert_equal(after, before)


def fitted(**kwargs) -> MLPClassifier:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier(hidden_layer_sizes=(5,), random_state=0, **kwargs).fit(IRIS_X, IRIS_Y)


# --------------------------------------------------- a failed fit changes nothing
FIRST_FIT_FAILURES = {
    "validation set too small": (
        dict(early_stopping=True, validation_fraction=0.001),
        lambda m: m.fit(IRIS_X, IRIS_Y),
        "validation set is too small",
    ),
    "float32 overflow": (
        dict(dtype="float32"),
        lambda m: m.fit(IRIS_X * 1e300, IRIS_Y),
        "too large for float32",
    ),
    "callback raises": (
        dict(callbacks=[RaiseAt(2)]),
        lambda m: m.fit(IRIS_X, IRIS_Y),
        "callback failed",
    ),
    "partial_fit with class_weight='balanced'": (
        dict(class_weight="balanced"),
        lambda m: m.partial_fit(IRIS_X, IRIS_Y, classes=[0, 1, 2]),
        "cannot be used with partial_fit",
    ),
}


@pytest.mark.parametrize("case", sorted(FIRST_FIT_FAILURES))
def test_a_first_fit_that_fails_leaves_the_estimator_unfitted(case) -> None:
    # (before: check_is_fitted passed and predict raised AttributeError 'coefs_' or 'network_')
    settings, call, message = FIRST_FIT_FAILURES[case]
    model = MLPClassifier(hidden_layer_sizes=(5,), random_state=0, max_iter=3, **settings)
    with pytest.raises(Exception, match=message):
        call(model)
    assert sorted(vars(model)) == sorted(model.get_params(deep=False))
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    with pytest.raises(NotFittedError):
        model.predict(IRIS_X)


REFIT_FAILURES = {
    "validation set too small, new sizes": (
        dict(early_stopping=True, validation_fraction=0.001, hidden_layer_sizes=(7,)),
        lambda m: m.fit(IRIS_X, IRIS_Y),
    ),
    "float32 overflow": (dict(dtype="float32"), lambda m: m.fit(IRIS_X * 1e300, IRIS_Y)),
    "callback raises in a fresh fit": (
        dict(callbacks=[RaiseAt(3)], random_state=1),
        lambda m: m.fit(IRIS_X, IRIS_Y),
    ),
    "callback raises in a warm start": (
        dict(callbacks=[RaiseAt(3)], warm_start=True),
        lambda m: m.fit(IRIS_X, IRIS_Y),
    ),
    "callback raises in partial_fit": (
        dict(callbacks=[RaiseAt(1)]),
        lambda m: m.partial_fit(IRIS_X, IRIS_Y),
    ),
    "wrong classes in partial_fit": ({}, lambda m: m.partial_fit(IRIS_X, IRIS_Y + 5)),
    "early stopping with weightless part": (
        dict(early_stopping=True),
        lambda m: m.fit(IRIS_X, IRIS_Y, sample_weight=np.r_[1.0, np.zeros(149)]),
    ),
}


@pytest.mark.parametrize("case", sorted(REFIT_FAILURES))
def test_a_refit_that_fails_leaves_every_attribute_and_the_training_state(case) -> None:
    settings, call = REFIT_FAILURES[case]
    model = fitted(max_iter=4)
    model.partial_fit(IRIS_X, IRIS_Y)  # a trainer with optimizer state to keep
    before, proba = state_of(model), model.predict_proba(IRIS_X)
    model.set_params(**settings)
    with pytest.raises((ValueError, RuntimeError)):
        call(model)
    assert_unchanged(before, model)
    np.testing.assert_array_equal(model.predict_proba(IRIS_X), proba)


def test_after_a_failed_partial_fit_training_continues_as_if_it_never_ran() -> None:
    # (before: the failed call's epochs, optimizer steps and shuffling draws stayed)
    model, twin = fitted(max_iter=3), fitted(max_iter=3)
    model.set_params(callbacks=[RaiseAt(1)])
    with pytest.raises(RuntimeError):
        model.partial_fit(IRIS_X, IRIS_Y)
    model.set_params(callbacks=None)
    for _ in range(2):
        model.partial_fit(IRIS_X, IRIS_Y)
        twin.partial_fit(IRIS_X, IRIS_Y)
    np.testing.assert_equal(state_of(model), state_of(twin))


def test_a_warm_start_after_a_failed_one_continues_from_the_old_weights() -> None:
    # (before: the failed fit's epochs stayed in the weights, t_ and the stopping records)
    model, twin = fitted(max_iter=3, warm_start=True), fitted(max_iter=3, warm_start=True)
    model.set_params(callbacks=[RaiseAt(2)])
    with pytest.raises(RuntimeError):
        model.fit(IRIS_X, IRIS_Y)
    model.set_params(callbacks=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(IRIS_X, IRIS_Y)
        twin.fit(IRIS_X, IRIS_Y)
    assert model.t_ == twin.t_ == 2 * 3 * 150
    np.testing.assert_equal(state_of(model), state_of(twin))


# ------------------------------------- convergence warnings raised as errors
@pytest.mark.parametrize("library", ["scikit-learn", "deltarule"])
def test_a_convergence_warning_raised_as_an_error_keeps_the_new_fit(library) -> None:
    # scikit-learn's behaviour is the reference: the warning comes once training is
    # done, and the estimator holds the new fit (before, deltarule's held n_iter_ and
    # loss_curve_ of the new fit with the old fit's weights).
    make = SkClassifier if library == "scikit-learn" else MLPClassifier
    model = make((5,), random_state=0, max_iter=300, tol=1e-2).fit(IRIS_X, IRIS_Y)
    old = model.predict_proba(IRIS_X)
    model.set_params(max_iter=2, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning, match="Maximum iterations"):
            model.fit(IRIS_X, IRIS_Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fresh = make((5,), random_state=1, max_iter=2).fit(IRIS_X, IRIS_Y)
    assert model.n_iter_ == 2 and len(model.loss_curve_) == 2
    assert model.loss_curve_ == fresh.loss_curve_
    np.testing.assert_allclose(model.predict_proba(IRIS_X), fresh.predict_proba(IRIS_X))
    assert not np.allclose(model.predict_proba(IRIS_X), old)


def test_a_divergence_warning_raised_as_an_error_keeps_the_trained_state() -> None:
    model = MLPRegressor(hidden_layer_sizes=(5,), random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning, match="training diverged at epoch 1"):
            model.fit(DIABETES_X, DIABETES_Y * 1e160)
    check_is_fitted(model)
    assert model.loss_ == np.inf and model.n_iter_ == 0
    assert np.isfinite(model.predict(DIABETES_X)).all()  # the initial weights, restored


# ---------------------------------------------------- divergence and loss_
@pytest.mark.parametrize(
    "make, settings, call",
    [
        ("regressor", {}, "fit"),
        ("regressor", {}, "partial_fit"),
        ("regressor", dict(solver="lbfgs"), "fit"),
        ("classifier", dict(alpha=1e308), "fit"),
    ],
)
def test_a_diverged_fit_reports_scikit_learns_non_finite_loss(make, settings, call, tmp_path):
    # (before: a divergence in the first epoch left no loss_, and save() raised AttributeError)
    X, y = (DIABETES_X, DIABETES_Y * 1e160) if make == "regressor" else (IRIS_X, IRIS_Y)
    ours, theirs = (
        (MLPRegressor, SkRegressor) if make == "regressor" else (MLPClassifier, SkClassifier)
    )
    kwargs = dict(hidden_layer_sizes=(5,), random_state=0, max_iter=5, **settings)
    extra = {"classes": np.unique(y)} if call == "partial_fit" and make == "classifier" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = getattr(ours(**kwargs), call)(X, y, **extra)
        reference = getattr(theirs(**kwargs), call)(X, y, **extra)
    assert not np.isfinite(model.loss_)
    np.testing.assert_equal(model.loss_, reference.loss_)  # inf, or nan for lbfgs
    loaded = ours.load(model.save(tmp_path / "diverged.safetensors"))
    np.testing.assert_equal(loaded.loss_, model.loss_)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


# -------------------------------------------- scikit-learn's warning class
def diverging_fit() -> None:
    MLPRegressor(hidden_layer_sizes=(5,), random_state=0, max_iter=5).fit(
        DIABETES_X, DIABETES_Y * 1e160
    )


def max_iter_fit() -> None:
    MLPClassifier(hidden_layer_sizes=(5,), random_state=0, max_iter=2).fit(IRIS_X, IRIS_Y)


def lbfgs_fit() -> None:
    MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=2).fit(IRIS_X, IRIS_Y)


CONVERGENCE = [diverging_fit, max_iter_fit, lbfgs_fit]


@pytest.mark.parametrize("call", CONVERGENCE, ids=lambda f: f.__name__)
def test_every_convergence_warning_is_scikit_learns_and_deltarules(call) -> None:
    # (before: the divergence warning was deltarule's class only, a UserWarning)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        call()
    assert len(caught) == 1, [str(w.message) for w in caught]
    warning = caught[0]
    assert issubclass(warning.category, ConvergenceWarning)
    assert issubclass(warning.category, deltarule.exceptions.ConvergenceWarning)
    assert warning.filename == __file__  # the line that called fit, not deltarule's loop


@pytest.mark.parametrize("call", CONVERGENCE, ids=lambda f: f.__name__)
def test_scikit_learns_filters_silence_them(call) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        call()
        ignore_warnings(category=ConvergenceWarning)(call)()
    assert caught == []


def test_a_diverging_fit_installs_no_warning_filter(monkeypatch) -> None:
    # (the estimators silenced the loop's divergence warning with warnings.catch_warnings,
    # which swaps the process-wide filter list: not thread-safe, and a concurrent fit in
    # another thread could lose its own warnings or leave the filter installed)
    import os
    import sys

    package = os.path.dirname(deltarule.exceptions.__file__)
    ours = []

    class Counting(warnings.catch_warnings):
        def __enter__(self):
            if sys._getframe(1).f_code.co_filename.startswith(package):
                ours.append(sys._getframe(1).f_code.co_name)
            return super().__enter__()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        monkeypatch.setattr(warnings, "catch_warnings", Counting)
        MLPRegressor(hidden_layer_sizes=(5,), random_state=0, max_iter=5).fit(
            DIABETES_X, DIABETES_Y * 1e160
        )
        monkeypatch.undo()
    assert ours == []
    assert [str(w.message)[:27] for w in caught] == ["training diverged at epoch "]


def test_the_batch_size_warning_points_at_the_caller() -> None:
    model = MLPClassifier(hidden_layer_sizes=(5,), batch_size=1000, random_state=0)
    with pytest.warns(UserWarning, match="clipped") as caught:
        model.partial_fit(IRIS_X, IRIS_Y, classes=[0, 1, 2])
    assert [w.filename for w in caught] == [__file__]
