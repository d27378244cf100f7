"""Sparse X (scipy.sparse): accepted, kept sparse, and giving the dense run's numbers.

The oracle throughout is the same call on ``X.toarray()``: the same seed and data give the
same weights, outputs and errors, bit for bit where both runs take the plain step.
"""

from __future__ import annotations

import numpy as np
import pytest

sparse = pytest.importorskip("scipy.sparse")

import deltarule as dr  # noqa: E402
from deltarule import _minibatch, _sparse, training  # noqa: E402
from deltarule._sampling import Data  # noqa: E402
from deltarule._validation import as_float_array, as_float_csr  # noqa: E402
from deltarule.exceptions import InputError  # noqa: E402
from deltarule.training import Trainer  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::deltarule.exceptions.ConvergenceWarning")

FORMATS = ["csr_matrix", "csc_matrix", "coo_matrix", "lil_matrix", "dok_matrix", "bsr_matrix",
           "dia_matrix", "csr_array", "csc_array", "coo_array"]  # fmt: skip


def sparse_data(rng: np.random.Generator, n: int = 90, m: int = 12, density: float = 0.3):
    """Features mostly zero (some rows all zero), and 3 classes one-hot and as labels."""
    X = rng.normal(size=(n, m)) * (rng.random((n, m)) < density)
    X[::17] = 0
    labels = (X @ rng.normal(size=m) > 0).astype(int) + (X[:, 0] > 0.5)
    return X, np.eye(3)[labels], labels


def classifier(seed: int = 1, dtype: str = "float32", hidden: int = 8) -> dr.Network:
    return dr.Network([12, hidden, 3], activation="tanh", output_activation="softmax",
                      seed=seed, dtype=dtype)  # fmt: skip


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
    with pytest.raises(InputError, match=r"1-D sparse array .* Reshape it"):
        net.predict(sparse.coo_array(X[0]))
    with pytest.raises(InputError, match="non-numeric"):
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


def test_chunks_cover_every_row_within_the_byte_limit(monkeypatch, rng) -> None:
    X, _, _ = sparse_data(rng, n=50)
    csr = sparse.csr_matrix(X)
    monkeypatch.setattr(_sparse, "CHUNK_BYTES", 12 * 8 * 7)  # 7 rows of float64
    seen = [(start, stop, rows.copy()) for start, stop, rows in _sparse.dense_chunks(csr, 2048)]
    assert [stop - start for start, stop, _ in seen] == [7] * 7 + [1]
    np.testing.assert_array_equal(np.concatenate([rows for *_, rows in seen]), X)


def test_compiled_kernels_are_not_given_sparse_data(rng) -> None:
    X, Y, _ = sparse_data(rng)
    Y = Y.astype(np.float32)
    assert _minibatch.plain_arrays(Data(X.astype(np.float32), Y, None))
    assert not _minibatch.plain_arrays(Data(sparse.csr_matrix(X, dtype=np.float32), Y, None))


# ------------------------------------------------------------------ Network
@pytest.mark.parametrize("fmt", ["csr_matrix", "csc_matrix", "csr_array"])
def test_minibatch_adam_shuffled_gives_the_dense_weights(fmt, monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng)
    kwargs = dict(epochs=4, batch_size=16, optimizer="adam", learning_rate=0.01, seed=3,
                  metrics=["accuracy"], verbose=0)  # fmt: skip
    plain_kernels(monkeypatch)
    dense, sparse_net = classifier(), classifier()
    h_dense = dense.fit(X, Y, **kwargs)
    answers = never_compiled(monkeypatch)
    h_sparse = sparse_net.fit(getattr(sparse, fmt)(X), Y, **kwargs)
    assert answers and not any(answers)  # the plain step ran every epoch
    np.testing.assert_array_equal(sparse_net.parameters, dense.parameters)
    assert h_sparse.history["loss"] == h_dense.history["loss"]
    assert h_sparse.history["accuracy"] == h_dense.history["accuracy"]


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
    sparse_net = make()
    sparse_net.fit(sparse.csr_matrix(X), Y, **kwargs)
    assert not taken  # never asked: plain_arrays said no
    np.testing.assert_allclose(sparse_net.parameters, dense.parameters, rtol=1e-4, atol=1e-6)


def test_online_sgd_gives_the_dense_weights(monkeypatch, rng) -> None:
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
    np.testing.assert_array_equal(sparse_net.parameters, dense.parameters)


def test_validation_split_and_weights_give_the_dense_run(monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng)
    weights = rng.uniform(0.5, 2.0, size=90)
    kwargs = dict(epochs=3, batch_size=8, seed=4, sample_weight=weights,
                  class_weight="balanced", validation_split=0.2, verbose=0)  # fmt: skip
    plain_kernels(monkeypatch)
    dense, sparse_net = classifier(), classifier()
    h_dense = dense.fit(X, Y, **kwargs)
    h_sparse = sparse_net.fit(sparse.csr_matrix(X), Y, **kwargs)
    np.testing.assert_array_equal(sparse_net.parameters, dense.parameters)
    assert h_sparse.history["val_loss"] == h_dense.history["val_loss"]
    assert h_sparse.history["val_accuracy"] == h_dense.history["val_accuracy"]


def test_sparse_validation_data_score_as_dense(monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng)
    plain_kernels(monkeypatch)
    runs = []
    for val_X in (X[60:], sparse.csr_matrix(X[60:])):
        net = classifier()
        history = net.fit(X[:60], Y[:60], validation_data=(val_X, Y[60:]), epochs=3,
                          batch_size=10, seed=0, verbose=0)  # fmt: skip
        runs.append((net.parameters.copy(), history.history["val_loss"]))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    assert runs[0][1] == runs[1][1]


def test_a_trainer_continues_on_sparse_data_as_on_dense(monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng)
    plain_kernels(monkeypatch)
    results = []
    for data in (X, sparse.csr_matrix(X)):
        trainer = Trainer(classifier(), "momentum", learning_rate=0.05, batch_size=7, seed=9)
        trainer.fit(data, Y, epochs=2, verbose=0)
        trainer.partial_fit(data[:45], Y[:45])
        results.append(trainer.network.parameters.copy())
    np.testing.assert_array_equal(results[0], results[1])


def test_a_full_batch_first_order_fit_on_sparse_data(monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng)
    plain_kernels(monkeypatch)
    dense, sparse_net = classifier(), classifier()
    dense.fit(X, Y, epochs=5, batch_size=None, verbose=0)
    sparse_net.fit(sparse.csr_matrix(X), Y, epochs=5, batch_size=None, verbose=0)
    np.testing.assert_array_equal(sparse_net.parameters, dense.parameters)


def test_predict_and_evaluate_give_the_dense_numbers(rng) -> None:
    X, Y, _ = sparse_data(rng)
    net = classifier(dtype="float64")
    net.fit(X, Y, epochs=2, seed=0, verbose=0)
    weights = rng.uniform(size=90)
    for fmt in ("csr_matrix", "csc_array", "coo_matrix"):
        Xs = getattr(sparse, fmt)(X)
        np.testing.assert_array_equal(net.predict(Xs), net.predict(X))
        assert net.evaluate(Xs, Y) == net.evaluate(X, Y)
        assert net.evaluate(Xs, Y, weights) == net.evaluate(X, Y, weights)
    # infer (trusted data) reads another format as CSR rather than its pointers as rows'
    np.testing.assert_array_equal(net.infer(sparse.csc_matrix(X)), net.infer(X))


def test_predict_and_evaluate_in_many_chunks(monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng, n=300)
    net = classifier(dtype="float64")
    monkeypatch.setattr(_sparse, "CHUNK_BYTES", 12 * 8 * 32)  # 32 rows a chunk
    calls = []
    real = dr.Network.forward
    monkeypatch.setattr(dr.Network, "forward", lambda self, x, *a, **k: calls.append(len(x))
                        or real(self, x, *a, **k))  # fmt: skip
    loss = net.evaluate(sparse.csr_matrix(X), Y)
    assert max(calls) == 32 and sum(calls) == 300
    np.testing.assert_allclose(loss, net.evaluate(X, Y), rtol=1e-12)
    np.testing.assert_allclose(net.predict(sparse.csr_matrix(X)), net.predict(X), rtol=1e-12)


def test_overflowing_outputs_are_reported_for_sparse_rows() -> None:
    net = dr.Network([3, 1], activation="identity", output_activation="identity", seed=0)
    net.weights[0] = [[1e30, 1e30, 1e30]]
    X = sparse.csr_matrix(np.array([[0.0, 1.0, 0.0], [1e9, 0.0, 1e9]]))
    with pytest.raises(InputError, match=r"first: row 1, whose largest \|value\| is 1e\+09"):
        net.predict(X)


# ------------------------------------------------------------------ full-batch solvers
@pytest.mark.parametrize("solver", ["lbfgs", "lm"])
def test_full_batch_solvers_give_the_dense_weights(solver, rng) -> None:
    X, _, _ = sparse_data(rng, n=40)
    y = np.tanh(X @ rng.normal(size=12))[:, None]
    runs = []
    for data in (X, sparse.csr_matrix(X), sparse.csc_matrix(X)):
        net = dr.Network([12, 4, 1], activation="tanh", seed=1, dtype="float64")
        history = net.fit(data, y, epochs=15, optimizer=solver, batch_size=None, verbose=0)
        runs.append((net.parameters.copy(), history.history["loss"]))
    for params, losses in runs[1:]:
        np.testing.assert_array_equal(params, runs[0][0])
        assert losses == runs[0][1]


def test_a_solver_refuses_sparse_data_too_big_to_make_dense(monkeypatch, rng) -> None:
    X, Y, _ = sparse_data(rng)
    monkeypatch.setattr(_sparse, "available_memory", lambda: 4000)  # half: 2,000 bytes
    net = classifier()
    before = net.parameters.copy()
    message = r"'lbfgs'.*90 x 12 float32 values, 4,320 bytes.*half the 4,000 bytes.*'adam'"
    with pytest.raises(InputError, match=message):
        net.fit(sparse.csr_matrix(X), Y, optimizer="lbfgs", batch_size=None, verbose=0)
    np.testing.assert_array_equal(net.parameters, before)
    # a first-order run makes one batch dense at a time: batches of 8 rows fit
    net.fit(sparse.csr_matrix(X), Y, epochs=1, batch_size=8, verbose=0)
    with pytest.raises(InputError, match=r"a batch of 90 rows.*4,320 bytes.*smaller batches"):
        net.fit(sparse.csr_matrix(X), Y, epochs=1, batch_size=None, verbose=0)
    monkeypatch.setattr(_sparse, "available_memory", lambda: None)  # unknown: no limit
    net.fit(sparse.csr_matrix(X), Y, optimizer="lbfgs", batch_size=None, epochs=2, verbose=0)


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
