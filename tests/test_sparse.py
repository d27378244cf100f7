"""Sparse X (scipy.sparse): accepted, kept sparse, and giving the dense run's numbers.

The oracle throughout is the same call on ``X.toarray()``. A sparse ``X`` reaches the first
layer in one of two forms, and the tests that compare with the dense run take both (the
``form`` fixture forces one, whatever the data's density): as dense rows, the run is the
dense run bit for bit where both take the plain step; as CSR rows, the first layer's
products are sparse and sum in another order, so the numbers agree within float rounding.
Those comparisons run in float64 (unit roundoff 1.1e-16): one step's gradient agrees to
~1e-13 relative, a few epochs' weights and losses to 1e-9 (measured: 1e-16 to 1e-14), far
below what a wrong gradient would change (~1e-3).
"""

from __future__ import annotations

import numpy as np
import pytest

sparse = pytest.importorskip("scipy.sparse")

import deltarule as dr  # noqa: E402
from deltarule import _minibatch, _sparse, _sparse_products, training  # noqa: E402
from deltarule import network as network_module  # noqa: E402
from deltarule._sampling import Data  # noqa: E402
from deltarule._validation import as_float_array, as_float_csr  # noqa: E402
from deltarule.exceptions import InputError  # noqa: E402
from deltarule.training import Trainer  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::deltarule.exceptions.ConvergenceWarning")

FORMATS = ["csr_matrix", "csc_matrix", "coo_matrix", "lil_matrix", "dok_matrix", "bsr_matrix",
           "dia_matrix", "csr_array", "csc_array", "coo_array"]  # fmt: skip
RUN_RTOL = 1e-9
"""Weights, outputs and losses of a few float64 epochs on CSR rows against the dense run."""


def sparse_data(rng: np.random.Generator, n: int = 90, m: int = 12, density: float = 0.3):
    """Features mostly zero (some rows all zero), and 3 classes one-hot and as labels."""
    X = rng.normal(size=(n, m)) * (rng.random((n, m)) < density)
    X[::17] = 0
    labels = (X @ rng.normal(size=m) > 0).astype(int) + (X[:, 0] > 0.5)
    return X, np.eye(3)[labels], labels


def classifier(seed: int = 1, dtype: str = "float64", hidden: int = 8) -> dr.Network:
    return dr.Network([12, hidden, 3], activation="tanh", output_activation="softmax",
                      seed=seed, dtype=dtype)  # fmt: skip


@pytest.fixture(params=["csr_rows", "dense_rows"])
def form(request, monkeypatch) -> str:
    """Sparse X reaches the first layer as CSR rows (sparse products), or as dense rows,
    whatever its density and width."""
    csr_rows = request.param == "csr_rows"
    monkeypatch.setattr(_sparse, "sparse_is_faster", lambda X: csr_rows)
    return request.param


def assert_like_dense(actual, expected, form: str, rtol: float = RUN_RTOL) -> None:
    """Bit for bit on dense rows; within ``rtol`` (of the largest value, for entries near
    zero) on CSR rows."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if form == "dense_rows":
        np.testing.assert_array_equal(actual, expected)
    else:
        atol = rtol * float(np.abs(expected).max(initial=0.0))
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def plain_kernels(monkeypatch) -> None:
    """Dense runs take the plain step too (the compiled kernels' rounding differs)."""
    monkeypatch.setattr(_minibatch, "kernel_for", lambda *args: None)
    monkeypatch.setattr(training, "compiled_ok", lambda *args: False)


def never_compiled(monkeypatch) -> list:
    """Fail if a compiled kernel is asked for; return the list of plain_arrays answers."""
    answers = []
    real = _minibatch.plain_arrays

    def spy(data):
        answers.append(real(data))
        return answers[-1]

    monkeypatch.setattr(_minibatch, "plain_arrays", spy)
    return answers


def first_layer_inputs(monkeypatch, n_inputs: int) -> list:
    """Record, for every forward pass of a layer with ``n_inputs`` inputs (the first),
    whether it was given CSR rows."""
    seen = []
    real = dr.layers.Dense.forward

    def spy(self, weight, bias, inputs, *args, **kwargs):
        if self.n_inputs == n_inputs:
            seen.append(_sparse.is_sparse(inputs))
        return real(self, weight, bias, inputs, *args, **kwargs)

    monkeypatch.setattr(dr.layers.Dense, "forward", spy)
    return seen


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_becomes_csr_of_the_dtype_with_the_same_values(fmt, rng) -> None:
    X, _, _ = sparse_data(rng)
    for dtype in (np.float32, np.float64):
        converted = as_float_csr(getattr(sparse, fmt)(X), "X", np.dtype(dtype))
        assert converted.format == "csr" and converted.dtype == dtype
        np.testing.assert_array_equal(converted.toarray(), X.astype(dtype))


def test_duplicates_are_summed_in_a_copy_and_explicit_zeros_kept() -> None:
    rows, cols = np.array([0, 0, 1, 2, 2]), np.array([1, 1, 0, 2, 0])
    values = np.array([1.5, 2.0, 0.0, -3.0, 4.0])
    coo = sparse.coo_matrix((values, (rows, cols)), shape=(3, 3))
    expected = np.zeros((3, 3))
    np.add.at(expected, (rows, cols), values)  # the oracle: duplicates add up
    np.testing.assert_array_equal(as_float_csr(coo, "X", np.dtype("float64")).toarray(), expected)
    # a CSR built with a duplicate entry and unsorted columns: summed, the user's untouched
    csr = sparse.csr_matrix((np.array([2.0, 1.0, 5.0]), np.array([2, 2, 0]), np.array([0, 3])),
                            shape=(1, 3))  # fmt: skip
    before = (csr.data.copy(), csr.indices.copy())
    converted = as_float_csr(csr, "X", np.dtype("float32"))
    np.testing.assert_array_equal(converted.toarray(), [[5.0, 0.0, 3.0]])
    np.testing.assert_array_equal(csr.data, before[0])
    np.testing.assert_array_equal(csr.indices, before[1])


def test_integer_and_boolean_matrices_are_converted() -> None:
    counts = np.array([[0, 3, 0], [1, 0, 7]])
    got = as_float_csr(sparse.csr_matrix(counts), "X", np.dtype("float32"))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got.toarray(), counts)
    flags = as_float_csr(sparse.csc_array(counts > 0), "X", np.dtype("float64"))
    np.testing.assert_array_equal(flags.toarray(), (counts > 0).astype(float))


@pytest.mark.parametrize(
    "bad, dtype",
    [(np.nan, "float64"), (np.inf, "float32"), (-np.inf, "float64"), (1e300, "float32")],
)
def test_non_finite_values_get_the_dense_message(bad, dtype) -> None:
    X = np.zeros((4, 5))
    X[1, 3] = 2.0
    X[2, 4], X[3, 0] = bad, 1.0
    with pytest.raises(InputError) as dense:
        as_float_array(X, "X", np.dtype(dtype))
    for fmt in ("csr_matrix", "csc_array", "coo_matrix"):
        with pytest.raises(InputError) as got:
            as_float_csr(getattr(sparse, fmt)(X), "X", np.dtype(dtype))
        assert str(got.value) == str(dense.value)  # same text, same (row, column)
        assert "(2, 4)" in str(got.value)


def test_shapes_and_kinds_are_checked_as_for_dense_data(rng) -> None:
    net = classifier()
    X, Y, _ = sparse_data(rng)
    with pytest.raises(InputError, match=r"X has 11 features but the network expects 12"):
        net.predict(sparse.csr_matrix(X[:, :11]))
    with pytest.raises(InputError, match=r"X has 90 samples but y has 89"):
        net.fit(sparse.csr_matrix(X), Y[:89], epochs=1, verbose=0)
    with pytest.raises(InputError, match=r"empty \(shape \(0, 12\)\)"):
        net.predict(sparse.csr_matrix((0, 12)))
    with pytest.raises(InputError, match=r"X has 5 samples but no columns \(shape \(5, 0\)\)"):
        net.predict(sparse.csr_matrix((5, 0)))
    one_d = r"1-D sparse array .* X\.reshape\(1, -1\) for one sample, X\.reshape\(-1, 1\)"
    with pytest.raises(InputError, match=one_d):
        net.predict(sparse.coo_array(X[0]))
    try:
        three_d = sparse.coo_array(X.reshape(90, 3, 4))
    except (TypeError, ValueError):  # (scipy before 1.15: 2-D only)
        three_d = None
    if three_d is not None:
        with pytest.raises(
            InputError, match=r"3-D sparse array .* X\.reshape\(\(X\.shape\[0\], -1\)\)"
        ):
            net.predict(three_d)
    with pytest.raises(InputError, match=r"complex128: complex numbers are not supported.*X\.real"):
        net.predict(sparse.csr_matrix(X.astype(complex)))


def test_only_the_features_may_be_sparse(rng) -> None:
    net = classifier()
    X, Y, _ = sparse_data(rng)
    with pytest.raises(InputError, match=r"y is a sparse matrix.*y\.toarray\(\)"):
        net.fit(X, sparse.csr_matrix(Y), epochs=1, verbose=0)
    with pytest.raises(InputError, match=r"sample_weight is a sparse matrix"):
        net.fit(X, Y, sample_weight=sparse.csr_matrix(np.ones((1, 90))), epochs=1, verbose=0)
    # computations on the whole batch at once (gradients, explain) still need dense X
    with pytest.raises(InputError, match=r"X is a sparse matrix.*X\.toarray\(\)"):
        net.loss_and_gradient(sparse.csr_matrix(X), Y)
    with pytest.raises(InputError, match="X is a sparse matrix"):
        net.validate(sparse.csr_matrix(X))


def test_a_pandas_frame_of_sparse_columns_is_read_as_sparse(rng) -> None:
    pd = pytest.importorskip("pandas")
    X, _, _ = sparse_data(rng)
    frame = pd.DataFrame(X).astype(pd.SparseDtype("float64", 0.0))
    net = classifier(dtype="float64")
    checked, _, _ = net.validate(frame, accept_sparse=True)
    assert _sparse.is_sparse(checked)
    np.testing.assert_array_equal(net.predict(frame), net.predict(X))


# ------------------------------------------------------------------ row gathering
def test_take_rows_is_toarray_of_the_rows_in_a_reused_buffer(rng) -> None:
    X, _, _ = sparse_data(rng, n=50)
    csr = as_float_csr(sparse.csr_matrix(X), "X", np.dtype("float64"))
    buffer = np.full((20, 12), 7.0)  # dirty: every entry must be written
    for rows in (rng.permutation(50)[:20], np.array([17, 0, 34, 17]), np.array([], int)):
        got = _sparse.take_rows(csr, rows, buffer)
        np.testing.assert_array_equal(got, X[rows])
        assert got.base is buffer or got is buffer


@pytest.mark.parametrize("kind", ["csr_matrix", "csr_array"])
def test_selected_rows_and_row_ranges_are_the_rows_as_csr(kind, rng) -> None:
    X, _, _ = sparse_data(rng, n=50)
    csr = getattr(sparse, kind)(X)
    for rows in (rng.permutation(50)[:20], np.array([17, 0, 34, 17]), np.array([], int)):
        got = _sparse.select_rows(csr, rows)
        assert type(got) is type(csr) and got.shape == (len(rows), 12)
        np.testing.assert_array_equal(got.toarray(), X[rows])
    for start, stop in ((0, 50), (3, 20), (17, 18), (50, 50)):
        got = _sparse.row_range(csr, start, stop)
        assert type(got) is type(csr)
        np.testing.assert_array_equal(got.toarray(), X[start:stop])


def test_chunks_cover_every_row_within_the_byte_limit(monkeypatch, rng) -> None:
    X, _, _ = sparse_data(rng, n=50)
    csr = sparse.csr_matrix(X)
    monkeypatch.setattr(_sparse, "CHUNK_BYTES", 12 * 8 * 7)  # 7 rows of float64
    seen = [(start, stop, rows.copy()) for start, stop, rows in _sparse.dense_chunks(csr, 2048)]
    assert [stop - start for start, stop, _ in seen] == [7] * 7 + [1]
    np.testing.assert_array_equal(np.concatenate([rows for *_, rows in seen]), X)


# ------------------------------------------------------------------ which form
def test_the_form_follows_density_and_width(monkeypatch) -> None:
    def matrix(n, m, density):
        return sparse.random(n, m, density=density, format="csr", random_state=0)

    assert not _sparse.sparse_is_faster(matrix(1000, 50, 0.5))  # moderate width: BLAS
    assert not _sparse.sparse_is_faster(matrix(200, 400, 0.01))  # narrow: BLAS
    assert not _sparse.sparse_is_faster(matrix(200, 1000, 0.2))  # fairly dense: BLAS
    wide = matrix(200, 1000, 0.01)
    assert _sparse.sparse_is_faster(wide)
    net = dr.Network([1000, 4, 2], seed=0, dtype="float64")
    assert _sparse.sparse_batches(net, wide, 32)
    dense_ish = matrix(200, 1000, 0.2)
    assert not _sparse.sparse_batches(net, dense_ish, 32)
    monkeypatch.setattr(_sparse, "available_memory", lambda: 1000)  # 32 dense rows: too big
    assert not _sparse.sparse_batches(net, dense_ish, 32)  # (under CHUNK_BYTES: not asked)
    monkeypatch.setattr(_sparse, "CHUNK_BYTES", 1000)
    assert _sparse.sparse_batches(net, dense_ish, 32)

    class OwnForward(dr.Network):  # a network computing otherwise gets dense rows
        def forward(self, X, *args, **kwargs):
            return super().forward(X, *args, **kwargs)

    assert not _sparse.takes_sparse(OwnForward([1000, 4, 2]))
    assert not _sparse.sparse_batches(OwnForward([1000, 4, 2]), wide, 32)


def test_wide_sparse_data_reach_the_first_layer_as_csr_rows(monkeypatch, rng) -> None:
    # (the default choice, as for a TfidfVectorizer's output: 2,000 columns, 0.5% stored)
    X = sparse.random(120, 2000, density=0.005, format="csr", random_state=1, dtype=np.float64)
    Y = np.eye(2)[rng.integers(0, 2, 120)]
    seen = first_layer_inputs(monkeypatch, 2000)
    net = dr.Network([2000, 8, 2], output_activation="softmax", seed=0, dtype="float64")
    net.fit(X, Y, epochs=2, batch_size=16, validation_split=0.25, seed=0, verbose=0)
    assert seen and all(seen)  # training batches and the validation pass
    seen.clear()
    net.predict(X)
    net.evaluate(X, Y)
    assert seen and all(seen)
    narrow, Y, _ = sparse_data(rng)  # 12 columns: dense rows
    seen = first_layer_inputs(monkeypatch, 12)
    classifier().fit(sparse.csr_matrix(narrow), Y, epochs=1, verbose=0)
    assert seen and not any(seen)


# ------------------------------------------------------------------ sparse products
def _rounding_bound(terms_per_sum: int, magnitudes: np.ndarray, dtype) -> np.ndarray:
    """How far two float sums of the same products, in any order, may be apart: each is
    within gamma_k * sum(|products|) of the exact sum, gamma_k = k u / (1 - k u) (Higham,
    "Accuracy and Stability of Numerical Algorithms", 2002, eq. 3.4) for k terms: exact
    zeros add nothing, so k is the most stored values a sum takes."""
    unit = np.finfo(dtype).eps / 2
    k = max(terms_per_sum, 1)
    return 2 * (k * unit / (1 - k * unit)) * magnitudes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["csr_matrix", "csr_array"])
@pytest.mark.parametrize(
    ("n_features", "density", "compacted"),
    [(30, 0.3, False), (3000, 0.002, True), (3000, 0.0, True)],
)
def test_sparse_products_are_the_dense_products_to_rounding(
    dtype, kind, n_features, density, compacted, rng
) -> None:
    X = getattr(sparse, kind)(
        sparse.random(40, n_features, density=density, format="csr", random_state=2, dtype=dtype)
    )
    assert (_sparse_products.compact(X)[0] is not None) == compacted
    W = rng.normal(size=(5, n_features)).astype(dtype)
    delta = rng.normal(size=(40, 5)).astype(dtype)
    dense = X.toarray()
    per_row, per_column = np.diff(X.indptr).max(), np.bincount(X.indices, minlength=1).max()

    net = _sparse_products.product(X, W)
    assert net.dtype == dtype and net.shape == (40, 5)
    bound = _rounding_bound(per_row, np.abs(dense) @ np.abs(W).T, dtype)
    assert (np.abs(net - dense @ W.T) <= bound).all()
    out = np.full((40, 5), np.nan, dtype)
    assert _sparse_products.product(X, W, out) is out
    np.testing.assert_array_equal(out, net)

    grad = np.full_like(W, np.nan)  # every entry written: zero where X stores no value
    assert _sparse_products.weight_gradient(X, delta, grad) is grad
    bound = _rounding_bound(per_column, np.abs(delta).T @ np.abs(dense), dtype)
    assert (np.abs(grad - delta.T @ dense) <= bound).all()
    assert (grad[:, np.abs(dense).sum(axis=0) == 0] == 0).all()


def test_other_sparse_formats_are_refused_by_the_forward_pass(rng) -> None:
    X, _, _ = sparse_data(rng)
    net = classifier()
    csr = sparse.csr_matrix(X)
    np.testing.assert_allclose(net.forward(csr)[0], net.forward(X)[0], rtol=1e-13, atol=1e-15)
    for other in (sparse.csc_matrix(X), sparse.coo_array(X)):
        with pytest.raises(
            InputError,
            match=r"CSR format.*received a c\w\w_\w+ of shape "
            r"\(90, 12\)\. Pass X\.tocsr\(\), or call predict",
        ):
            net.forward(other)
    np.testing.assert_array_equal(net.predict(sparse.csc_matrix(X)), net.predict(csr))


@pytest.mark.parametrize(("n_features", "density"), [(3000, 0.003), (40, 0.3)])
def test_one_step_on_csr_rows_is_the_numpy_dense_step_to_rounding(n_features, density, rng):
    """The gradient of a whole forward/backward pass on CSR rows (compacted columns or not),
    and one SGD step with it, against the same math in NumPy on ``X.toarray()``."""
    n = 64
    X = sparse.random(n, n_features, density=density, format="csr", random_state=3)
    Y = np.eye(3)[rng.integers(0, 3, n)]
    net = dr.Network([n_features, 7, 3], activation="tanh", output_activation="softmax",
                     seed=4, dtype="float64")  # fmt: skip
    (W1, W2), (b1, b2) = [w.copy() for w in net.weights], [b.copy() for b in net.biases]
    D = X.toarray()
    hidden = np.tanh(D @ W1.T + b1)
    z = hidden @ W2.T + b2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    loss = -np.mean(np.sum(Y * np.log(p), axis=1))
    delta2 = (p - Y) / n
    delta1 = (delta2 @ W2) * (1 - hidden**2)
    expected = {"W1": delta1.T @ D, "b1": delta1.sum(axis=0), "W2": delta2.T @ hidden,
                "b2": delta2.sum(axis=0)}  # fmt: skip

    _, caches = net.forward(X)
    assert _sparse.is_sparse(caches[0].inputs)  # the first layer took the CSR rows
    got_loss, grad = net.backward(caches, Y)
    # float64 sums of at most 64 products: gamma_64 ~ 7e-15 relative
    np.testing.assert_allclose(got_loss, loss, rtol=1e-13)
    for name, value in expected.items():
        got = net.layout.view(grad, name)
        np.testing.assert_allclose(got, value, rtol=1e-12, atol=1e-13 * np.abs(value).max())
    before = net.parameters.copy()
    net.fit(X, Y, epochs=1, batch_size=None, optimizer="sgd", learning_rate=0.5, verbose=0)
    np.testing.assert_allclose(net.parameters, before - 0.5 * grad, rtol=1e-12, atol=1e-14)


def test_compiled_kernels_are_not_given_sparse_data(rng) -> None:
    X, Y, _ = sparse_data(rng)
    Y = Y.astype(np.float32)
    assert _minibatch.plain_arrays(Data(X.astype(np.float32), Y, None))
    assert not _minibatch.plain_arrays(Data(sparse.csr_matrix(X, dtype=np.float32), Y, None))


# ------------------------------------------------------------------ Network
@pytest.mark.parametrize("fmt", ["csr_matrix", "csc_matrix", "csr_array"])
def test_minibatch_adam_shuffled_gives_the_dense_weights(fmt, form, monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng)
    kwargs = dict(epochs=4, batch_size=16, optimizer="adam", learning_rate=0.01, seed=3,
                  metrics=["accuracy"], verbose=0)  # fmt: skip
    plain_kernels(monkeypatch)
    dense, sparse_net = classifier(), classifier()
    h_dense = dense.fit(X, Y, **kwargs)
    answers = never_compiled(monkeypatch)
    h_sparse = sparse_net.fit(getattr(sparse, fmt)(X), Y, **kwargs)
    assert answers and not any(answers)  # the plain step ran every epoch
    assert_like_dense(sparse_net.parameters, dense.parameters, form)
    assert_like_dense(h_sparse.history["loss"], h_dense.history["loss"], form)
    assert h_sparse.history["accuracy"] == h_dense.history["accuracy"]


def test_float32_training_on_csr_rows_agrees_with_the_dense_run(form, monkeypatch, rng) -> None:
    # float32 (unit roundoff 6e-8): after 4 epochs of 6 Adam steps the weights differed by
    # 8e-8 of the largest one (measured); 1e-5 of it leaves room for other BLAS libraries
    X, Y, _ = sparse_data(rng)
    kwargs = dict(epochs=4, batch_size=16, optimizer="adam", learning_rate=0.01, seed=3,
                  verbose=0)  # fmt: skip
    plain_kernels(monkeypatch)
    dense, sparse_net = classifier(dtype="float32"), classifier(dtype="float32")
    dense.fit(X, Y, **kwargs)
    sparse_net.fit(sparse.csr_matrix(X), Y, **kwargs)
    assert sparse_net.parameters.dtype == np.float32
    assert_like_dense(sparse_net.parameters, dense.parameters, form, rtol=1e-5)
    assert_like_dense(sparse_net.predict(sparse.csr_matrix(X)), dense.predict(X), form, 1e-5)


def test_minibatch_training_agrees_with_the_dense_compiled_kernel(monkeypatch, rng) -> None:
    if not dr._compiled.available():
        pytest.skip("numba is not installed: the dense run takes the plain step too")
    X = rng.normal(size=(96, 256)) * (rng.random((96, 256)) < 0.2)
    Y = np.eye(2)[(X.sum(axis=1) > 0).astype(int)]
    make = lambda: dr.Network([256, 256, 2], output_activation="softmax", seed=0)  # noqa: E731
    kwargs = dict(epochs=3, batch_size=32, seed=1, metrics=[], verbose=0)
    taken = []
    real = _minibatch.kernel_for
    monkeypatch.setattr(_minibatch, "kernel_for", lambda *a: taken.append(real(*a)) or taken[-1])
    dense = make()
    dense.fit(X, Y, **kwargs)
    assert taken and taken[-1] is not None  # the dense run took the compiled kernel
    taken.clear()
    for csr_rows in (False, True):
        monkeypatch.setattr(_sparse, "sparse_is_faster", lambda X, csr_rows=csr_rows: csr_rows)
        sparse_net = make()
        sparse_net.fit(sparse.csr_matrix(X), Y, **kwargs)
        assert not taken  # never asked: plain_arrays said no
        np.testing.assert_allclose(sparse_net.parameters, dense.parameters, rtol=1e-4, atol=1e-6)


def test_online_sgd_gives_the_dense_weights(form, monkeypatch, rng) -> None:
    X, _, _ = sparse_data(rng, n=40)
    y = X @ rng.normal(size=12)
    make = lambda: dr.Network([12, 6, 1], activation="tanh", seed=2, dtype="float64")  # noqa: E731
    kwargs = dict(epochs=3, batch_size=1, optimizer="sgd", learning_rate=0.01, seed=5,
                  metrics=[], verbose=0)  # fmt: skip
    compiled = make()
    compiled.fit(X, y, **kwargs)  # (the compiled online path, where numba is installed)
    sparse_net = make()
    sparse_net.fit(sparse.csc_matrix(X), y, **kwargs)
    np.testing.assert_allclose(sparse_net.parameters, compiled.parameters, rtol=1e-10)
    plain_kernels(monkeypatch)
    dense = make()
    dense.fit(X, y, **kwargs)
    assert_like_dense(sparse_net.parameters, dense.parameters, form)


def test_validation_split_and_weights_give_the_dense_run(form, monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng)
    weights = rng.uniform(0.5, 2.0, size=90)
    kwargs = dict(epochs=3, batch_size=8, seed=4, sample_weight=weights,
                  class_weight="balanced", validation_split=0.2, verbose=0)  # fmt: skip
    plain_kernels(monkeypatch)
    dense, sparse_net = classifier(), classifier()
    h_dense = dense.fit(X, Y, **kwargs)
    h_sparse = sparse_net.fit(sparse.csr_matrix(X), Y, **kwargs)
    assert_like_dense(sparse_net.parameters, dense.parameters, form)
    assert_like_dense(h_sparse.history["val_loss"], h_dense.history["val_loss"], form)
    assert h_sparse.history["val_accuracy"] == h_dense.history["val_accuracy"]


def test_sparse_validation_data_score_as_dense(form, monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng)
    plain_kernels(monkeypatch)
    runs = []
    for val_X in (X[60:], sparse.csr_matrix(X[60:])):
        net = classifier()
        history = net.fit(X[:60], Y[:60], validation_data=(val_X, Y[60:]), epochs=3,
                          batch_size=10, seed=0, verbose=0)  # fmt: skip
        runs.append((net.parameters.copy(), history.history["val_loss"]))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])  # (dense training data both)
    assert_like_dense(runs[1][1], runs[0][1], form)


def test_a_trainer_continues_on_sparse_data_as_on_dense(form, monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng)
    plain_kernels(monkeypatch)
    results = []
    for data in (X, sparse.csr_matrix(X)):
        trainer = Trainer(classifier(), "momentum", learning_rate=0.05, batch_size=7, seed=9)
        trainer.fit(data, Y, epochs=2, verbose=0)
        trainer.partial_fit(data[:45], Y[:45])
        results.append(trainer.network.parameters.copy())
    assert_like_dense(results[1], results[0], form)


def test_a_full_batch_first_order_fit_on_sparse_data(form, monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng)
    plain_kernels(monkeypatch)
    dense, sparse_net = classifier(), classifier()
    dense.fit(X, Y, epochs=5, batch_size=None, verbose=0)
    sparse_net.fit(sparse.csr_matrix(X), Y, epochs=5, batch_size=None, verbose=0)
    assert_like_dense(sparse_net.parameters, dense.parameters, form)


def test_predict_and_evaluate_give_the_dense_numbers(form, rng) -> None:
    X, Y, _ = sparse_data(rng)
    net = classifier()
    net.fit(X, Y, epochs=2, seed=0, verbose=0)
    weights = rng.uniform(size=90)
    for fmt in ("csr_matrix", "csc_array", "coo_matrix"):
        Xs = getattr(sparse, fmt)(X)
        assert_like_dense(net.predict(Xs), net.predict(X), form, rtol=1e-13)
        assert_like_dense(net.evaluate(Xs, Y), net.evaluate(X, Y), form, rtol=1e-13)
        assert_like_dense(net.evaluate(Xs, Y, weights), net.evaluate(X, Y, weights), form, 1e-13)
    # infer (trusted data) reads another format as CSR rather than its pointers as rows'
    assert_like_dense(net.infer(sparse.csc_matrix(X)), net.infer(X), form, rtol=1e-13)


def test_predict_and_evaluate_in_many_chunks(form, monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng, n=300)
    net = classifier()
    monkeypatch.setattr(_sparse, "CHUNK_BYTES", 12 * 8 * 32)  # 32 dense rows a chunk
    monkeypatch.setattr(network_module, "INFER_CHUNK", 40)  # 48 CSR rows: 8 hidden units
    calls = []
    real = dr.Network.forward
    monkeypatch.setattr(dr.Network, "forward", lambda self, x, *a, **k: calls.append(x.shape[0])
                        or real(self, x, *a, **k))  # fmt: skip
    loss = net.evaluate(sparse.csr_matrix(X), Y)
    assert max(calls) == (32 if form == "dense_rows" else 48) and sum(calls) == 300
    np.testing.assert_allclose(loss, net.evaluate(X, Y), rtol=1e-12)
    np.testing.assert_allclose(net.predict(sparse.csr_matrix(X)), net.predict(X), rtol=1e-12)


def test_overflowing_outputs_are_reported_for_sparse_rows(form) -> None:
    net = dr.Network([3, 1], activation="identity", output_activation="identity", seed=0)
    net.weights[0] = [[1e30, 1e30, 1e30]]
    X = sparse.csr_matrix(np.array([[0.0, 1.0, 0.0], [1e9, 0.0, 1e9]]))
    with pytest.raises(InputError, match=r"first: row 1, whose largest \|value\| is 1e\+09"):
        net.predict(X)


# ------------------------------------------------------------------ full-batch solvers
@pytest.mark.parametrize("solver", ["lbfgs", "lm"])
def test_full_batch_solvers_give_the_dense_weights(solver, form, rng) -> None:
    X, _, _ = sparse_data(rng, n=40)
    y = np.tanh(X @ rng.normal(size=12))[:, None]
    runs = []
    for data in (X, sparse.csr_matrix(X), sparse.csc_matrix(X)):
        net = dr.Network([12, 4, 1], activation="tanh", seed=1, dtype="float64")
        history = net.fit(data, y, epochs=15, optimizer=solver, batch_size=None, verbose=0)
        runs.append((net.parameters.copy(), history.history["loss"]))
    lm_or_dense = "dense_rows" if solver == "lm" else form  # lm: always X.toarray()
    for params, losses in runs[1:]:
        # (15 L-BFGS iterations amplify rounding more than first-order steps do)
        assert_like_dense(params, runs[0][0], lm_or_dense, rtol=1e-7)
        assert_like_dense(losses, runs[0][1], lm_or_dense, rtol=1e-9)


def test_lbfgs_takes_csr_rows_where_sparse_products_are_faster(monkeypatch, rng) -> None:
    X = sparse.random(60, 2000, density=0.005, format="csr", random_state=5)
    y = np.asarray(X @ rng.normal(size=2000)).reshape(-1, 1)
    seen = first_layer_inputs(monkeypatch, 2000)
    net = dr.Network([2000, 4, 1], activation="tanh", seed=1, dtype="float64")
    states = []

    class Spy(dr.callbacks.Callback):
        def on_epoch_end(self, record, state):
            states.append(state.X)

    net.fit(X, y, epochs=5, optimizer="lbfgs", batch_size=None, callbacks=[Spy()], verbose=0)
    assert seen and all(seen) and all(_sparse.is_sparse(x) for x in states)
    dense = dr.Network([2000, 4, 1], activation="tanh", seed=1, dtype="float64")
    dense.fit(X.toarray(), y, epochs=5, optimizer="lbfgs", batch_size=None, verbose=0)
    np.testing.assert_allclose(net.parameters, dense.parameters, rtol=1e-7, atol=1e-10)


def test_only_lm_refuses_sparse_data_too_big_to_make_dense(monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng)
    y = Y[:, :1]
    monkeypatch.setattr(_sparse, "available_memory", lambda: 4000)  # half: 2,000 bytes
    net = dr.Network([12, 4, 1], seed=0)
    before = net.parameters.copy()
    message = r"'lm'.*90 x 12 float32 values, 4,320 bytes.*half the 4,000 bytes.*'adam'"
    with pytest.raises(InputError, match=message):
        net.fit(sparse.csr_matrix(X), y, optimizer="lm", batch_size=None, verbose=0)
    np.testing.assert_array_equal(net.parameters, before)
    # L-BFGS and the first-order optimizers take CSR rows instead of dense ones that do
    # not fit: batches of 8 rows (768 bytes dense) are made dense, all 90 not (batches of
    # more than CHUNK_BYTES are checked)
    monkeypatch.setattr(_sparse, "CHUNK_BYTES", 1000)
    seen = first_layer_inputs(monkeypatch, 12)
    net.fit(sparse.csr_matrix(X), y, optimizer="lbfgs", batch_size=None, epochs=2, verbose=0)
    assert seen.count(True) >= 2  # its iterations (the starting error: dense chunks)
    seen.clear()
    net.fit(sparse.csr_matrix(X), y, epochs=1, batch_size=None, verbose=0)
    assert seen and all(seen)
    seen.clear()
    net.fit(sparse.csr_matrix(X), y, epochs=1, batch_size=8, verbose=0)
    assert seen and not any(seen)

    class OwnForward(dr.Network):  # computes on dense rows alone: refused as before
        def forward(self, X, *args, **kwargs):
            return super().forward(X, *args, **kwargs)

    own = OwnForward([12, 4, 1], seed=0)
    with pytest.raises(InputError, match=r"a batch of 90 rows.*4,320 bytes.*smaller batches"):
        own.fit(sparse.csr_matrix(X), y, epochs=1, batch_size=None, verbose=0)
    with pytest.raises(InputError, match=r"'lbfgs'.*4,320 bytes"):
        own.fit(sparse.csr_matrix(X), y, optimizer="lbfgs", batch_size=None, verbose=0)
    monkeypatch.setattr(_sparse, "available_memory", lambda: None)  # unknown: no limit
    net.fit(sparse.csr_matrix(X), y, optimizer="lm", batch_size=None, epochs=2, verbose=0)


def test_stop_when_all_correct_reads_sparse_rows_as_the_dense_run_does():
    import scipy.sparse as sp

    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 5, dtype=float)
    y = np.array([[0], [1], [1], [1]] * 5, dtype=float)  # OR: separable
    runs = []
    for data in (X, sp.csr_matrix(X)):
        net = dr.Network([2, 3, 1], activation="sigmoid", output_activation="sigmoid",
                         loss="binary_crossentropy", seed=1)  # fmt: skip
        h = net.fit(data, y, epochs=500, batch_size=4, optimizer="sgd", learning_rate=0.5,
                    stop_when_all_correct=True, shuffle=False)  # fmt: skip
        runs.append((len(h), h.stop_reason, net.parameters.copy()))
    assert runs[0][1] == runs[1][1] == "every training example classified correctly"
    assert runs[0][0] == runs[1][0] < 500
    np.testing.assert_array_equal(runs[0][2], runs[1][2])
