"""Input validation helpers: the fast finiteness check of large arrays."""

from __future__ import annotations

import numpy as np
import pytest

from deltarule import InputError, Network
from deltarule._validation import _FAST_CHECK_SIZE, _all_finite


@pytest.fixture(scope="module")
def large() -> np.ndarray:
    rows = _FAST_CHECK_SIZE // 64 + 3  # over the size where the BLAS check is used
    return np.random.default_rng(0).normal(size=(rows, 64)).astype(np.float32)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [(0, 0), (-1, -1), (12345, 17)])
def test_every_non_finite_entry_is_found(large, bad, where) -> None:
    X = large.copy()
    assert _all_finite(X)
    X[where] = bad
    assert not _all_finite(X)


def test_opposite_infinities_in_one_row_are_found(large) -> None:
    X = large.copy()
    X[5, 1], X[5, 2] = np.inf, -np.inf  # the row sum is NaN: still non-finite
    assert not _all_finite(X)


def test_finite_values_whose_row_sums_overflow_are_accepted(large) -> None:
    X = large.copy()
    X[7, :] = np.finfo(np.float32).max  # the row sum overflows; the entries are finite
    assert _all_finite(X)


def test_a_large_input_with_nan_gets_the_clear_error(large) -> None:
    net = Network([64, 3, 2], seed=0)
    X = large.copy()
    X[16000, 5] = np.nan
    with pytest.raises(InputError, match=r"NaN or infinity \(first at index \(16000, 5\)\)"):
        net.validate(X)


def test_the_fast_check_keeps_numpys_blas_pool_asleep(large, monkeypatch) -> None:
    # its product runs on one thread (waking the pool would leave it spinning into training)
    from deltarule import _blas

    held = []
    real = _blas.single_threaded

    def watched():  # noqa: ANN202
        held.append(True)
        return real()

    monkeypatch.setattr(_blas, "single_threaded", watched)
    assert _all_finite(large) and held
    held.clear()
    assert _all_finite(large[:10]) and not held  # small arrays: no product at all


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_threads_share_the_rows_and_each_share_is_checked(large, threads, monkeypatch) -> None:
    from deltarule import _blas, _validation

    monkeypatch.setattr(_blas, "pool_threads", lambda: threads)
    monkeypatch.setattr(_blas, "cpus", lambda: 8)
    rows = large.shape[0]
    bounds = [rows * i // threads for i in range(threads + 1)]
    np.testing.assert_allclose(_validation._row_sums(large), large.sum(axis=1), atol=1e-3)
    for row in sorted({*bounds[:-1], *(b - 1 for b in bounds[1:])}):  # each share's ends
        X = large.copy()
        X[row, 3] = np.nan
        assert not _all_finite(X), row


def test_a_thread_that_cannot_start_leaves_its_rows_to_the_caller(large, monkeypatch) -> None:
    import threading

    from deltarule import _blas

    monkeypatch.setattr(_blas, "pool_threads", lambda: 2)
    monkeypatch.setattr(_blas, "cpus", lambda: 2)

    def refuse(self) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    X = large.copy()
    assert _all_finite(X)
    X[-1, -1] = np.inf  # in the second share
    assert not _all_finite(X)


@pytest.mark.parametrize(
    "ndim,data,fix",
    [
        ((1,), np.ones((4, 1)), "Pass one value per sample, e.g. np.ravel(w) for a column."),
        ((1,), np.float64(2.0), "Pass one value per sample"),
        ((1, 2), np.ones((2, 2, 2)), "Reshape it, e.g. w.reshape(-1, 1) for a single feature."),
    ],
)
def test_a_wrong_dimension_gets_advice_that_fixes_it(ndim, data, fix) -> None:
    from deltarule._validation import as_float_array

    with pytest.raises(InputError) as info:
        as_float_array(data, "w", np.dtype(np.float64), ndim=ndim)
    assert f"w has {np.ndim(data)} dimension(s)" in str(info.value) and fix in str(info.value)


def test_pandas_nullable_numbers_are_numbers() -> None:
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3)).round(1)
    y = X.sum(axis=1)
    plain = Network([3, 4, 1], seed=0).fit(X, y, epochs=2, verbose=0)
    nullable = Network([3, 4, 1], seed=0).fit(
        pd.DataFrame(X).astype("Float64"), pd.Series(y).astype("Float64"), epochs=2, verbose=0
    )  # (refused before as "dtype object (non-numeric)")
    assert nullable.loss == plain.loss
    ints = pd.DataFrame({"a": [1, 2, 3], "b": [True, False, True]})
    ints = ints.astype({"a": "Int64", "b": "boolean"})
    assert Network([2, 1]).predict(ints).shape == (3, 1)
    with pytest.raises(InputError, match=r"X contains NaN or infinity \(first at index \(2, 0\)\)"
                       r".*impute the missing values"):  # fmt: skip
        Network([3, 4, 1]).fit(pd.DataFrame(X).astype("Float64").mask(X > 1), y, verbose=0)


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_complex_numbers_are_named_as_such(kind) -> None:
    X = np.ones((2, 3), complex)
    if kind == "sparse":
        sparse = pytest.importorskip("scipy.sparse")
        X = sparse.csr_matrix(X)
    with pytest.raises(
        InputError,
        match=r"X has dtype complex128: complex numbers are not "
        r"supported; expected real numbers\. Pass X\.real",
    ):
        Network([3, 1]).predict(X)
    with pytest.raises(InputError, match=r"y has dtype complex128: complex numbers"):
        Network([3, 1]).fit(np.ones((2, 3)), np.ones(2, complex), verbose=0)


@pytest.mark.parametrize("kind", ["dense", "sparse"])
def test_samples_without_columns_are_not_called_empty(kind) -> None:
    X = np.zeros((5, 0))
    if kind == "sparse":
        sparse = pytest.importorskip("scipy.sparse")
        X = sparse.csr_matrix((5, 0))
    with pytest.raises(
        InputError,
        match=r"X has 5 samples but no columns \(shape \(5, 0\)\); "
        r"expected at least one column per sample\.",
    ):
        Network([3, 1]).predict(X)
    with pytest.raises(InputError, match=r"X is empty \(shape \(0, 3\)\); expected at least one"):
        Network([3, 1]).predict(np.zeros((0, 3)))


def test_an_object_array_holding_a_sparse_matrix_is_told_to_use_toarray() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    matrix = sparse.csr_matrix(np.eye(3))
    for wrapped in (np.asarray(matrix), np.array([matrix, matrix], dtype=object)):
        with pytest.raises(
            InputError,
            match=r"X is a NumPy object array holding a scipy sparse "
            r"matrix.*matrix\.toarray\(\)",
        ):
            Network([3, 1]).predict(wrapped)


@pytest.mark.parametrize("value", [1e-46, 1e-33, 5e-324])  # (5e-324: the least subnormal)
def test_targets_below_float32_precision_are_refused_as_too_large_ones_are(value):
    # (QA with extreme data: targets of 1e-46 became 0 in float32 and trained silently,
    # where 1.78e39 was refused naming dtype='float64')
    import deltarule as dr

    X = np.ones((5, 2))
    with pytest.raises(dr.InputError, match=r"y's values are at most .* use dtype='float64'"):
        dr.Network([2, 1]).fit(X, np.full((5, 1), value), epochs=1, verbose=0)
    wide = dr.Network([2, 1], dtype="float64")
    wide.fit(X, np.full((5, 1), value), epochs=1, verbose=0, warn_convergence=False)
    zeros = dr.Network([2, 1])  # (all zeros: nothing lost)
    zeros.fit(X, np.zeros((5, 1)), epochs=1, verbose=0, warn_convergence=False)


def test_iterators_and_numbers_written_as_text_get_their_own_advice():
    # (QA with extreme data: a generator as X was "dtype object (non-numeric) ... encode
    # text or categories"; so were numbers written as text)
    import deltarule as dr

    X = np.random.default_rng(0).normal(size=(10, 2))
    y = X[:, :1]
    net = dr.Network([2, 1])
    for iterator in ((row for row in X.tolist()), iter(X.tolist()), zip(X[:, 0], X[:, 1])):
        with pytest.raises(dr.InputError, match=r"an iterator, read once; .* np.array\(list"):
            net.fit(iterator, y, epochs=1, verbose=0)
    text = X.astype(str).astype(object)
    with pytest.raises(dr.InputError, match=r"numbers written as text .* dtype=float\)"):
        net.fit(text, y, epochs=1, verbose=0)
    with pytest.raises(dr.InputError, match="Encode text or categories"):
        net.fit(np.array([["a", "2"]] * 10), y, epochs=1, verbose=0)


@pytest.mark.parametrize(
    ("X", "said"),
    [
        (None, "X is NoneType None; expected an array of numbers (rows of equal length). Pass "
               "the data: a NumPy array"),
        ({"a": 1}, "X is dict {'a': 1}; expected an array of numbers (rows of equal length). "
                   "Make it a table first: pd.DataFrame(X)"),
    ],
)  # fmt: skip
def test_fit_on_none_or_a_dict_says_so(X, said) -> None:
    # Both were "X has dtype object (non-numeric) ... Encode text or categories": wrong advice.
    with pytest.raises(InputError) as info:
        Network([3, 1]).fit(X, np.zeros((4, 1)), verbose=0)
    assert said in str(info.value) and "Encode text" not in str(info.value)
