"""The compiled mini-batch steps run in several threads give the one-thread results."""

from __future__ import annotations

import signal
import threading
import time
import warnings

import numpy as np
import pytest
from conftest import count_calls
from test_minibatch import HIDDEN, PAIRS, RULES, assert_same_training, data

import deltarule as dr
from deltarule import _blas, _compiled, _epochs, _minibatch, _mkl, _onednn
from deltarule.training import Trainer

pytestmark = [
    pytest.mark.skipif(not _compiled.available(), reason="numba is not installed"),
    pytest.mark.skipif(
        not (_blas.gemm_address(np.float64) and _blas.controls_threads()),
        reason="NumPy's OpenBLAS was not found: the steps run in one thread",
    ),
]


@pytest.fixture(autouse=True)
def small_layers_are_shared(monkeypatch) -> None:
    # every layer of these small networks is split between the threads, unaligned
    monkeypatch.setattr(_minibatch, "MIN_PARAMETERS", 0)
    monkeypatch.setattr(_minibatch, "SPLIT_MIN_WIDTH", 1)
    monkeypatch.setattr(_minibatch, "SPLIT_ALIGN", 1)


def train(threads: int, monkeypatch, make, X, y, optimizer="adam", **kwargs):
    """Train a fresh network from ``make`` through the kernel in ``threads`` threads."""
    with monkeypatch.context() as patch:
        patch.setattr(_minibatch, "THREADS", threads)
        runs = count_calls(patch, _minibatch.MinibatchKernel, "_in_threads")
        net = make()
        fit_options = {"validation_split": kwargs.pop("validation_split", 0.0)}
        trainer = Trainer(net, optimizer, 0.01, kwargs.pop("batch_size", 16), seed=3, **kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = trainer.fit(X, y, epochs=3, verbose=0, **fit_options)
        assert bool(runs) == (threads > 1), "the kernel ran in the wrong number of threads"
    return net, trainer, history


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("optimizer", RULES)
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "+".join(p))
def test_threads_give_the_one_thread_results(pair, optimizer, threads, monkeypatch) -> None:
    X, y = data(pair)  # 203 rows at batch 16: the last batch of each epoch has 11
    hidden = HIDDEN[RULES.index(optimizer) % len(HIDDEN)]

    def make() -> dr.Network:
        return dr.Network([7, 12, 9, 3], activation=hidden, output_activation=pair[0],
                          loss=pair[1], seed=1, dtype="float64")  # fmt: skip

    pool = _blas.pool_threads()
    one = train(1, monkeypatch, make, X, y, optimizer, metrics=["mae"])
    many = train(threads, monkeypatch, make, X, y, optimizer, metrics=["mae"])
    assert _blas.pool_threads() == pool  # NumPy's pool is given back its threads
    # a column of a product is the same sum however the columns are shared
    assert_same_training(many, one, rtol=1e-12, atol=1e-15)
    values = [[r.metrics["mae"] for r in h] for h in (many[2], one[2])]
    np.testing.assert_allclose(*values, rtol=1e-12)


@pytest.mark.parametrize("momentum, nesterov", [(0.9, True), (0.9, False), (0.0, True)])
def test_threads_give_the_one_thread_results_for_scikit_learns_rule(
    momentum, nesterov, monkeypatch
) -> None:
    from deltarule.sklearn._solvers import SklearnSGD

    pair = ("softmax", "categorical_crossentropy")
    X, y = data(pair)

    def make() -> dr.Network:
        return dr.Network([7, 12, 9, 3], activation="tanh", output_activation=pair[0],
                          loss=pair[1], seed=1, dtype="float64")  # fmt: skip

    one = train(1, monkeypatch, make, X, y, SklearnSGD(0.01, momentum, nesterov))
    many = train(2, monkeypatch, make, X, y, SklearnSGD(0.01, momentum, nesterov))
    assert_same_training(many, one, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("threads", [2, 3])
def test_threads_without_mkl_call_numpys_gemm(threads, dtype, monkeypatch) -> None:
    # (DELTARULE_MKL=0, or numba without the mkl wheel: the threads read a table of MKL's
    # kernels made for one thread, past its end, and jumped to garbage: a segfault)
    monkeypatch.setattr(_mkl, "gemm_address", lambda dtype: 0)
    monkeypatch.setattr(_onednn, "gemm_address", lambda dtype, largest: 0)
    pair = ("softmax", "categorical_crossentropy")
    X, y = (part.astype(dtype) for part in data(pair))

    def make() -> dr.Network:
        return dr.Network([7, 12, 9, 3], activation="relu", output_activation=pair[0],
                          loss=pair[1], seed=1, dtype=dtype)  # fmt: skip

    for optimizer in ("sgd", "adam"):
        one = train(1, monkeypatch, make, X, y, optimizer)
        many = train(threads, monkeypatch, make, X, y, optimizer)
        rtol, atol = (1e-12, 1e-15) if dtype == "float64" else (1e-4, 1e-5)
        assert_same_training(many, one, rtol=rtol, atol=atol)


@pytest.mark.parametrize("optimizer", RULES)
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "+".join(p))
def test_threads_with_onednns_products_give_the_one_thread_results(
    pair, optimizer, monkeypatch, onednn_on
) -> None:
    # every product of the threads oneDNN's (its threshold 0 here), float32
    X, y = (part.astype("float32") for part in data(pair))
    hidden = HIDDEN[RULES.index(optimizer) % len(HIDDEN)]

    def make() -> dr.Network:
        return dr.Network([7, 12, 9, 3], activation=hidden, output_activation=pair[0],
                          loss=pair[1], seed=1, dtype="float32")  # fmt: skip

    one = train(1, monkeypatch, make, X, y, optimizer)
    many = train(2, monkeypatch, make, X, y, optimizer)
    assert_same_training(many, one, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "options",
    [
        {"l2": 0.05},
        {"shuffle": False},
        {"batch_size": 203},
        {"batch_size": 101},  # the last batch of each epoch is one row: a thread has none
        {"batch_size": 2},
        {"validation_split": 0.2},
    ],
    ids=str,
)
@pytest.mark.parametrize("sizes", [[7, 12, 9, 3], [7, 3], [7, 40, 3]], ids=str)
def test_threads_with_every_kind_of_batch_and_network(sizes, options, monkeypatch) -> None:
    pair = ("softmax", "categorical_crossentropy")
    X, y = data(pair)

    def make() -> dr.Network:
        return dr.Network(sizes, activation="tanh", output_activation="softmax", seed=2,
                          dtype="float64")  # fmt: skip

    one = train(1, monkeypatch, make, X, y, **options)
    many = train(3, monkeypatch, make, X, y, **options)
    # the L2 term's squared weights are added in per-thread groups: rounding only
    assert_same_training(many, one, rtol=1e-12, atol=1e-15)


def test_float32_with_the_real_split(monkeypatch) -> None:
    # the shares the benchmark's network gets: aligned, with the narrow output layer whole
    monkeypatch.setattr(_minibatch, "SPLIT_MIN_WIDTH", 32)
    monkeypatch.setattr(_minibatch, "SPLIT_ALIGN", 16)
    rng = np.random.default_rng(0)
    X = rng.random((300, 50), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 300)]

    def make() -> dr.Network:
        return dr.Network([50, 96, 64, 10], output_activation="softmax", seed=0,
                          dtype="float32")  # fmt: skip

    for optimizer, atol in (("sgd", 1e-7), ("adam", 1e-5)):
        one = train(1, monkeypatch, make, X, y, optimizer, batch_size=32)
        many = train(2, monkeypatch, make, X, y, optimizer, batch_size=32)
        # float32 products of a split may round differently in the last bit; Adam's step
        # (lr m / sqrt(v)) magnifies that for gradients near 0, by at most a step of 0.01
        assert_same_training(many, one, rtol=1e-5, atol=atol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_mkls_compiled_kernels_train_as_its_gemm(dtype, monkeypatch, mkl_on) -> None:
    # each thread's products at a full batch through MKL's kernels for their shapes; the
    # last batch of each epoch (203 rows at 16: 11) through MKL's gemm
    probe = _mkl.jit_product(np.dtype(dtype), False, True, 16, 16, 16, 16, 16, 16)
    if probe is None:
        pytest.skip("MKL compiles no kernels on this processor (its generic code: AMD's)")
    _mkl.release([probe[1]])
    X, y = data(("softmax", "categorical_crossentropy"))
    tables, freed = [], []
    made, release = _minibatch.compiled_products, _mkl.release

    def make() -> dr.Network:
        return dr.Network([7, 40, 24, 3], output_activation="softmax", seed=4, dtype=dtype)

    def recorded(*args):  # noqa: ANN202
        table, jitters = made(*args)
        tables.append(table)
        return table, jitters

    def none(sizes, parts, bs, dtype):  # noqa: ANN001, ANN202
        return np.zeros((len(sizes) - 1, 3, parts.shape[1] - 1, 3), np.int64), []

    monkeypatch.setattr(_mkl, "release", lambda jitters: (freed.extend(jitters), release(jitters)))
    monkeypatch.setattr(_minibatch, "compiled_products", recorded)
    compiled = train(2, monkeypatch, make, X, y, l2=0.01)
    monkeypatch.setattr(_minibatch, "compiled_products", none)
    gemm = train(2, monkeypatch, make, X, y, l2=0.01)
    assert tables and (tables[0][..., 0] != 0).any(), "MKL compiled none of the products"
    assert np.isin(tables[0][..., 2], [0, 1, 2]).all()
    del compiled[1]._minibatch
    import gc

    gc.collect()
    assert freed, "the kernels' jitters were not released with their kernel"
    if dtype == "float64":
        assert_same_training(compiled, gemm, rtol=1e-12, atol=1e-15)
    else:
        assert_same_training(compiled, gemm, rtol=1e-5, atol=1e-5)


def test_scikit_learn_estimator_in_threads(monkeypatch) -> None:
    # the adapter's scaled loss and its own L2 term (alpha / (2 n)) in every thread's share
    from deltarule.sklearn import MLPClassifier

    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(203, 6)), (np.arange(203) % 3)
    settings = dict(hidden_layer_sizes=(9, 7), alpha=1e-2, batch_size=16, max_iter=4, tol=0.0,
                    n_iter_no_change=10, random_state=0)  # fmt: skip
    fitted = []
    for threads in (1, 2):
        with monkeypatch.context() as patch, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            patch.setattr(_minibatch, "THREADS", threads)
            runs = count_calls(patch, _minibatch.MinibatchKernel, "_in_threads")
            fitted.append(MLPClassifier(**settings).fit(X, y))
            assert bool(runs) == (threads > 1)
    one, many = fitted
    np.testing.assert_allclose(many.loss_curve_, one.loss_curve_, rtol=1e-12)
    for a, b in zip(many.coefs_ + many.intercepts_, one.coefs_ + one.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_a_thread_that_cannot_start_leaves_the_work_to_one(monkeypatch) -> None:
    pair = ("softmax", "categorical_crossentropy")
    X, y = data(pair)

    def make() -> dr.Network:
        return dr.Network([7, 12, 3], output_activation="softmax", seed=4, dtype="float64")

    one = train(1, monkeypatch, make, X, y)
    real_start = threading.Thread.start
    started = []

    def refuse_the_second(self) -> None:
        started.append(self)
        if len(started) % 2 == 0:
            raise RuntimeError("can't start new thread")
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", refuse_the_second)
    # with three threads the first helper starts, waits at the first meeting point, sees
    # the stop flag and returns; the run is then made again in one thread
    many = train(3, monkeypatch, make, X, y)
    assert started
    assert_same_training(many, one, rtol=0, atol=0)


@pytest.mark.parametrize("stride", [2, 8, _minibatch.SYNC_STRIDE])  # (slots 0, 1: flags)
def test_the_meeting_point_reads_the_counters_stride_from_the_array(stride) -> None:
    # (an imported stride would be baked into numba's cache of the kernels' module)
    from deltarule import _jit

    threads, meetings = 3, 50
    sync = np.zeros((threads + 1) * stride, np.int64)
    met = np.zeros((threads, meetings), bool)

    def work(tid: int) -> None:
        for count in range(1, meetings + 1):
            met[tid, count - 1] = _jit.barrier(sync, tid, threads, count)

    helpers = [threading.Thread(target=work, args=(tid,)) for tid in range(threads)]
    for helper in helpers:
        helper.start()
    for helper in helpers:
        helper.join(timeout=60)
    assert not any(helper.is_alive() for helper in helpers), "a thread never left a meeting"
    assert met.all()
    assert list(sync[stride::stride]) == [meetings] * threads  # each its own counter
    assert sync[0] == 0


def test_threads_for(monkeypatch) -> None:
    big = dr.Network([784, 256, 128, 10], output_activation="softmax", dtype="float32")
    small = dr.Network([7, 12, 3], output_activation="softmax")
    monkeypatch.setattr(_blas, "cpus", lambda: 4)
    monkeypatch.setattr(_blas, "pool_threads", lambda: 2)
    assert _minibatch.threads_for(big) == 2  # what NumPy's pool may use
    for mkl in (0, 1234):  # with NumPy's products or MKL's: threads at every batch size
        with monkeypatch.context() as patch:
            patch.setattr(_mkl, "gemm_address", lambda dtype, mkl=mkl: mkl)
            assert _minibatch.threads_for(big) == 2
            assert _minibatch.threads_for(small) == 1
    assert _minibatch.threads_for(small) == 1
    monkeypatch.setattr(_blas, "pool_threads", lambda: 1)  # OPENBLAS_NUM_THREADS=1
    assert _minibatch.threads_for(big) == 1
    monkeypatch.setattr(_blas, "pool_threads", lambda: 64)
    assert _minibatch.threads_for(big) == 4  # the cores this process may use
    monkeypatch.setattr(_minibatch, "THREADS", 3)
    assert _minibatch.threads_for(small) == 3
    monkeypatch.setattr(_blas, "gemm_address", lambda dtype: 0)  # numba's np.dot: one
    assert _minibatch.threads_for(big) == 1


def test_large_batches_take_the_threads_too(monkeypatch) -> None:
    # (batches above 128 rows kept NumPy's pool without MKL; they are threaded now)
    monkeypatch.setattr(_blas, "cpus", lambda: 2)
    monkeypatch.setattr(_blas, "pool_threads", lambda: 2)
    monkeypatch.setattr(_mkl, "gemm_address", lambda dtype: 0)
    if not (_compiled.available() and _blas.gemm_address(np.float32) and _blas.controls_threads()):
        pytest.skip("the steps run in one thread here")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 300)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 600)]
    net = dr.Network([300, 256, 10], output_activation="softmax", seed=0, dtype="float32")
    assert net.n_parameters >= _minibatch.THREAD_MIN_PARAMETERS
    runs = count_calls(monkeypatch, _minibatch.MinibatchKernel, "_in_threads")
    dr.Trainer(net, optimizer="adam", batch_size=512, seed=0).fit(X, y, epochs=1, verbose=0)
    assert runs, "the steps of batches of 512 rows did not run in threads"


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
@pytest.mark.parametrize("width", [1, 2, 10, 31, 32, 100, 128, 256])
def test_shares_cover_the_layer(width, threads, monkeypatch) -> None:
    monkeypatch.setattr(_minibatch, "SPLIT_MIN_WIDTH", 32)
    monkeypatch.setattr(_minibatch, "SPLIT_ALIGN", 16)
    bounds = _minibatch.shares(width, threads)
    assert len(bounds) == threads + 1 and bounds[0] == 0 and bounds[-1] == width
    assert all(a <= b for a, b in zip(bounds, bounds[1:]))
    if width < 32 or threads == 1:
        assert bounds[1] == width  # whole with the first thread
    else:
        assert all(a < b for a, b in zip(bounds, bounds[1:]))  # every thread has some
        if width // threads >= 16:
            assert all(b % 16 == 0 for b in bounds[:-1])  # cache-line aligned


def test_the_validation_pass_between_threaded_runs_keeps_blas_on_one_thread(monkeypatch) -> None:
    pair = ("softmax", "categorical_crossentropy")
    X, y = data(pair)
    held = []
    real = _blas.single_threaded

    def watched():  # noqa: ANN202
        held.append(_minibatch.THREADS)
        return real()

    monkeypatch.setattr(_blas, "single_threaded", watched)
    for threads in (1, 2):
        held.clear()
        net = dr.Network([7, 12, 3], output_activation="softmax", seed=4)
        with monkeypatch.context() as patch, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            patch.setattr(_minibatch, "THREADS", threads)
            validate = count_calls(patch, _epochs, "validate")
            Trainer(net, "adam", 0.01, 16, seed=0).fit(X, y, epochs=2, verbose=0,
                                                      validation_split=0.2)  # fmt: skip
        assert len(validate) == 2
        # with threads: each run of steps and each validation pass; with one: neither
        assert (len(held) > 2) == (threads > 1) and (not held) == (threads == 1)


def test_a_fit_beside_another_threads_steps_gives_its_lone_results(monkeypatch) -> None:
    # (while one fit's threaded steps held NumPy's pool at one thread, a fit starting in
    # another thread ran its steps in one thread, with other products: other bits)
    monkeypatch.setattr(_minibatch, "THREADS", None)  # chosen as fit chooses them
    monkeypatch.setattr(_minibatch, "THREAD_MIN_PARAMETERS", 0)
    if _blas.usable_threads() < 2:
        pytest.skip("one usable thread: nothing to choose")
    X, y = data(("softmax", "categorical_crossentropy"))

    def fit() -> np.ndarray:
        net = dr.Network([7, 64, 3], output_activation="softmax", seed=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Trainer(net, "adam", 0.01, 16, seed=3).fit(X, y, epochs=2, verbose=0)
        return net.parameters.copy()

    alone = fit()
    beside = []
    with _blas.single_threaded():  # as another thread's steps hold it
        worker = threading.Thread(target=lambda: beside.append(fit()))
        worker.start()
        worker.join()
    np.testing.assert_array_equal(beside[0], alone)


def test_a_second_ctrl_c_while_the_threads_run_waits_for_them(monkeypatch) -> None:
    # the training loop's first Ctrl-C sets a flag; the second raises KeyboardInterrupt.
    # Raised while the first thread waited in join for the others, it left them updating
    # the network (and calling BLAS) while fit unwound and the caller saved the model
    # (heap corruption was seen after Ctrl-C at the command line)
    pair = ("softmax", "categorical_crossentropy")
    X, y = data(pair)
    real = _minibatch._kernel()
    ended: list[float] = []

    def kernel(tid, *args):
        result = real(tid, *args)
        if tid == 1 and not ended:
            time.sleep(0.05)  # the first thread waits in join by now
            for _ in range(2):  # (a signal, which wakes the wait: interrupt_main does not)
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
                time.sleep(0.02)
            time.sleep(0.2)
            ended.append(time.perf_counter())
        return result

    monkeypatch.setattr(_minibatch, "_kernel", lambda: kernel)
    monkeypatch.setattr(_minibatch, "THREADS", 2)
    net = dr.Network([7, 12, 3], output_activation="softmax", seed=4, dtype="float64")
    trainer = Trainer(net, "adam", 0.01, 16, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(KeyboardInterrupt):
            trainer.fit(X, y, epochs=3, verbose=0)
    assert ended, "fit returned while a thread of its steps was still running"
