"""The estimators on scipy sparse X: what the same calls on ``X.toarray()`` give.

scikit-learn's MLPs take CSR and CSC input (``accept_sparse=["csr", "csc"]``, other formats
converted); so do these. Sparse ``X`` reaches the first layer as CSR rows (sparse products)
or as dense rows, and the tests take both (the ``form`` fixture forces one): on dense rows a
fit, a prediction and a score equal the dense ones bit for bit (both take deltarule's plain
step on these small runs); on CSR rows the sums run in another order, and they agree within
float rounding grown over the fit: 1e-9 of the largest value in float64, 2e-5 in float32
(unit roundoffs 1.1e-16 and 6e-8; measured: ~1e-15 and ~1e-7).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")
sparse = pytest.importorskip("scipy.sparse")

from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402
from sklearn.utils import get_tags  # noqa: E402

from deltarule import _compiled, _sparse  # noqa: E402
from deltarule.exceptions import InputError  # noqa: E402
from deltarule.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_rng = np.random.default_rng(7)
X = _rng.normal(size=(120, 15)) * (_rng.random((120, 15)) < 0.25)
LABELS = np.array(["a", "b", "c"])[(X[:, :5].sum(axis=1) > 0).astype(int) + (X[:, 5] > 0.3)]
TARGETS = np.column_stack([X[:, 0] - X[:, 1], np.sin(X[:, 2:5].sum(axis=1))])
RTOL = {np.dtype("float64"): 1e-9, np.dtype("float32"): 2e-5}


@pytest.fixture(params=["csr_rows", "dense_rows"])
def form(request, monkeypatch) -> str:
    """Sparse X reaches the first layer as CSR rows, or as dense rows, whatever its
    density and width."""
    csr_rows = request.param == "csr_rows"
    monkeypatch.setattr(_sparse, "sparse_is_faster", lambda X: csr_rows)
    return request.param


def assert_close(actual, expected, form: str) -> None:
    """Equal on dense rows; within :data:`RTOL` of the largest value on CSR rows."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if form == "dense_rows":
        np.testing.assert_array_equal(actual, expected)
        return
    rtol = RTOL.get(actual.dtype, RTOL[np.dtype("float32")])
    atol = rtol * float(np.abs(expected).max(initial=0.0))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def fitted_state(est) -> tuple:
    return (
        [c.copy() for c in est.coefs_],
        [b.copy() for b in est.intercepts_],
        list(est.loss_curve_) if getattr(est, "loss_curve_", None) is not None else None,
        est.n_iter_,
        getattr(est, "validation_scores_", None),  # (an L-BFGS fit has none, as scikit-learn's)
    )


def assert_same_fit(a, b, form: str = "dense_rows") -> None:
    coefs, intercepts, curve, n_iter, scores = fitted_state(a)
    dtype = coefs[0].dtype
    for got, expected in zip(coefs + intercepts, fitted_state(b)[0] + fitted_state(b)[1]):
        assert_close(got, expected, form)
    _, _, curve_b, n_iter_b, scores_b = fitted_state(b)
    assert (curve is None) == (curve_b is None) and n_iter == n_iter_b
    if curve is not None:
        assert_close(np.array(curve, dtype), np.array(curve_b, dtype), form)
    assert scores == scores_b  # (accuracies: a changed prediction would show)


CLASSIFIER_SETTINGS = [
    dict(solver="adam", max_iter=15),
    dict(solver="sgd", batch_size=1, max_iter=3, learning_rate_init=0.01),
    dict(solver="adam", early_stopping=True, max_iter=15, dtype="float64"),
    dict(solver="lbfgs", max_iter=30),
]


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_wide_sparse_X_reaches_the_first_layer_as_csr_rows(solver, monkeypatch) -> None:
    # (as a TfidfVectorizer's output: 3,000 columns, 0.3% stored; the default choice)
    import deltarule as dr

    wide = sparse.random(90, 3000, density=0.003, format="csr", random_state=4)
    labels = LABELS[:90]
    seen = []
    real = dr.layers.Dense.forward

    def spy(self, weight, bias, inputs, *args, **kwargs):
        if self.n_inputs == 3000:
            seen.append(_sparse.is_sparse(inputs))
        return real(self, weight, bias, inputs, *args, **kwargs)

    monkeypatch.setattr(dr.layers.Dense, "forward", spy)
    est = MLPClassifier((5,), solver=solver, max_iter=3, early_stopping=solver != "lbfgs",
                        dtype="float64", random_state=0)  # fmt: skip
    est.fit(wide, labels)
    est.predict_proba(wide)
    assert seen and all(seen)  # training, validation scoring and prediction
    monkeypatch.setattr(dr.layers.Dense, "forward", real)
    dense = MLPClassifier((5,), solver=solver, max_iter=3, early_stopping=solver != "lbfgs",
                          dtype="float64", random_state=0).fit(wide.toarray(), labels)  # fmt: skip
    assert_same_fit(est, dense, "csr_rows")
    assert_close(est.predict_proba(wide), dense.predict_proba(wide.toarray()), "csr_rows")


@pytest.mark.parametrize("settings", CLASSIFIER_SETTINGS)
@pytest.mark.parametrize("fmt", ["csr_matrix", "csc_matrix", "csr_array"])
def test_classifier_on_sparse_X_is_the_dense_classifier(settings, fmt, form, monkeypatch):
    if settings.get("batch_size") == 1:  # (dense rows one at a time take the online kernel,
        monkeypatch.setattr(_compiled, "available", lambda: False)  # equal within rounding)
    make = lambda: MLPClassifier(hidden_layer_sizes=(6,), random_state=0, **settings)  # noqa: E731
    dense = make().fit(X, LABELS)
    on_sparse = make().fit(getattr(sparse, fmt)(X), LABELS)
    assert_same_fit(on_sparse, dense, form)
    queries = getattr(sparse, fmt)(X[::3])
    assert_close(on_sparse.predict_proba(queries), dense.predict_proba(X[::3]), form)
    np.testing.assert_array_equal(on_sparse.predict(queries), dense.predict(X[::3]))
    assert on_sparse.score(queries, LABELS[::3]) == dense.score(X[::3], LABELS[::3])


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_regressor_on_sparse_X_is_the_dense_regressor(solver, form) -> None:
    make = lambda: MLPRegressor(hidden_layer_sizes=(5,), solver=solver, max_iter=20,  # noqa: E731
                                random_state=1)  # fmt: skip
    dense = make().fit(X, TARGETS)
    on_sparse = make().fit(sparse.csc_matrix(X), TARGETS)
    assert_same_fit(on_sparse, dense, form)
    assert_close(on_sparse.predict(sparse.csr_matrix(X)), dense.predict(X), form)
    got, expected = on_sparse.score(sparse.csr_matrix(X), TARGETS), dense.score(X, TARGETS)
    assert_close(np.float32(got), np.float32(expected), form)


def test_partial_fit_and_warm_start_continue_as_on_dense_data(form) -> None:
    runs = []
    for data in (X, sparse.csr_matrix(X)):
        clf = MLPClassifier(hidden_layer_sizes=(6,), random_state=2)
        for start in range(0, 120, 40):
            clf.partial_fit(data[start : start + 40], LABELS[start : start + 40],
                            classes=["a", "b", "c"])  # fmt: skip
        reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, warm_start=True, random_state=3)
        reg.fit(data, TARGETS).fit(data[:60], TARGETS[:60])
        runs.append((clf, reg))
    (dense_clf, dense_reg), (sparse_clf, sparse_reg) = runs
    assert_same_fit(sparse_clf, dense_clf, form)
    assert_same_fit(sparse_reg, dense_reg, form)


def test_other_formats_are_converted_and_the_tag_says_so(form) -> None:
    dense = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0).fit(X, LABELS)
    for fmt in ("coo_matrix", "lil_matrix", "dok_matrix", "bsr_array"):
        est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
        est.fit(getattr(sparse, fmt)(X), LABELS)
        assert_close(est.coefs_[0], dense.coefs_[0], form)
    for est in (MLPClassifier(), MLPRegressor()):
        assert get_tags(est).input_tags.sparse


def test_a_tfidf_pipeline_predicts_as_on_the_dense_matrix(form) -> None:
    words = np.array(["spam", "ham", "eggs", "offer", "meeting", "free", "lunch", "win"])
    rng = np.random.default_rng(0)
    texts = [" ".join(rng.choice(words, 6)) for _ in range(80)]
    labels = np.array(["spam" if ("free" in t or "win" in t) else "ham" for t in texts])

    def make() -> MLPClassifier:
        return MLPClassifier((8,), learning_rate_init=0.05, max_iter=60, random_state=0)

    on_sparse = make_pipeline(TfidfVectorizer(), make()).fit(texts, labels)
    densify = FunctionTransformer(lambda m: m.toarray(), accept_sparse=True)
    on_dense = make_pipeline(TfidfVectorizer(), densify, make()).fit(texts, labels)
    assert_close(on_sparse.predict_proba(texts), on_dense.predict_proba(texts), form)
    assert on_sparse.score(texts, labels) > 0.8


def test_only_lm_refuses_sparse_X_too_big_to_make_dense(monkeypatch) -> None:
    monkeypatch.setattr(_sparse, "available_memory", lambda: 10_000)
    reg = MLPRegressor(solver="lm", dtype="float64", random_state=0)
    with pytest.raises(InputError, match=r"'lm'.*120 x 15 float64 values, 14,400 bytes.*solver="):
        reg.fit(sparse.csr_matrix(X), TARGETS)
    assert not hasattr(reg, "coefs_")  # a failed fit changes nothing
    # L-BFGS multiplies the CSR rows instead of making them dense
    lbfgs = MLPClassifier(solver="lbfgs", max_iter=20, dtype="float64", random_state=0)
    lbfgs.fit(sparse.csr_matrix(X), LABELS)
    monkeypatch.setattr(_sparse, "available_memory", lambda: None)
    dense = MLPClassifier(solver="lbfgs", max_iter=20, dtype="float64", random_state=0)
    dense.fit(X, LABELS)
    assert_same_fit(lbfgs, dense, "csr_rows")
    MLPClassifier(max_iter=2, batch_size=32, dtype="float64", random_state=0).fit(
        sparse.csr_matrix(X), LABELS
    )  # one batch of 32 rows dense at a time fits


def test_a_solver_that_stops_at_once_reports_the_dense_loss(form) -> None:
    # (no iteration: loss_ is computed from the data, in chunks of rows)
    make = lambda: MLPRegressor(solver="lbfgs", tol=1e9, random_state=0)  # noqa: E731
    dense, on_sparse = make().fit(X, TARGETS), make().fit(sparse.csr_matrix(X), TARGETS)
    assert on_sparse.n_iter_ == dense.n_iter_ == 0
    assert_close(np.float32(on_sparse.loss_), np.float32(dense.loss_), form)
