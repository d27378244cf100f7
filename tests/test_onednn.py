"""oneDNN's products for the threads: found, compiled into a ``cblas_sgemm``-like function
that splits the products by size, correct, held at one thread; or left alone."""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest
from conftest import forget_onednn
from test_sigstack import masks_in_another_thread

import deltarule as dr
from deltarule import _blas, _compiled, _inference, _minibatch, _mkl, _onednn
from deltarule.training import Trainer

installed = pytest.mark.skipif(
    _onednn.library_path() is None,
    reason="the onednn-cpu-gomp wheel is not installed (deltarule[onednn])",
)
pytestmark = installed
SIZE = ctypes.c_int64
SIGNATURE = ctypes.CFUNCTYPE(
    None, ctypes.c_int, ctypes.c_int, ctypes.c_int, SIZE, SIZE, SIZE, ctypes.c_float,
    ctypes.c_void_p, SIZE, ctypes.c_void_p, SIZE, ctypes.c_float, ctypes.c_void_p, SIZE,
)  # fmt: skip
NO, YES = 111, 112  # CblasNoTrans, CblasTrans
LARGE = _onednn.MIN_PRODUCT  # (a caller's largest product, large enough for oneDNN)


@pytest.fixture(autouse=True)
def afresh(monkeypatch):
    """Each test loads oneDNN as the environment says (none of the suite's switches set)."""
    monkeypatch.delenv(_onednn.SWITCH, raising=False)
    forget_onednn()
    if not _onednn.available():
        pytest.skip("oneDNN's library did not load (no libgomp.so.1?)")
    yield
    forget_onednn()


def operands(trans_a, trans_b, m, n, k, pad, seed=0):
    """``a`` and ``b`` stored as the product reads them, each row ``pad`` wider than used."""
    rng = np.random.default_rng(seed)
    a_shape = (k, m) if trans_a else (m, k)
    b_shape = (n, k) if trans_b else (k, n)
    a = rng.standard_normal((a_shape[0], a_shape[1] + pad)).astype(np.float32)
    b = rng.standard_normal((b_shape[0], b_shape[1] + pad)).astype(np.float32)
    return a, b


def call(address, trans_a, trans_b, m, n, k, a, b, ldc=None):
    """``op(a) op(b)`` through the ``cblas_sgemm``-like function at ``address``, into an
    output filled with NaN (the product must overwrite it, never read it)."""
    ldc = n if ldc is None else ldc
    c = np.full((m, ldc), np.nan, np.float32)
    SIGNATURE(address)(
        101, YES if trans_a else NO, YES if trans_b else NO, m, n, k, 1.0, a.ctypes.data,
        a.shape[1], b.ctypes.data, b.shape[1], 0.0, c.ctypes.data, ldc,
    )  # fmt: skip
    return c


def onednn_directly(trans_a, trans_b, m, n, k, a, b):
    """The same product through ``dnnl_sgemm`` itself."""
    function = ctypes.CDLL(_onednn.library_path()).dnnl_sgemm
    function.restype = ctypes.c_int
    function.argtypes = [ctypes.c_char, ctypes.c_char, SIZE, SIZE, SIZE, ctypes.c_float,
                         ctypes.c_void_p, SIZE, ctypes.c_void_p, SIZE, ctypes.c_float,
                         ctypes.c_void_p, SIZE]  # fmt: skip
    c = np.full((m, n), np.nan, np.float32)
    with _onednn.single_threaded():
        status = function(b"T" if trans_a else b"N", b"T" if trans_b else b"N", m, n, k, 1.0,
                          a.ctypes.data, a.shape[1], b.ctypes.data, b.shape[1], 0.0,
                          c.ctypes.data, n)  # fmt: skip
    assert status == 0
    return c


def expected(trans_a, trans_b, m, n, k, a, b):
    left = (a[:, :m].T if trans_a else a[:, :k]).astype(np.float64)
    right = (b[:, :k].T if trans_b else b[:, :n]).astype(np.float64)
    return left @ right


SHAPES = [(128, 128, 784), (64, 128, 128), (128, 784, 128), (7, 3, 5), (33, 17, 65), (1, 4, 3)]


@pytest.mark.parametrize("pad", [0, 3])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("trans_a", [False, True])
def test_its_products_are_the_matrix_products(trans_a, trans_b, shape, pad) -> None:
    m, n, k = shape
    a, b = operands(trans_a, trans_b, m, n, k, pad)
    address = _onednn.gemm_address(np.float32, LARGE)
    with _onednn.single_threaded(), _blas.single_threaded():
        c = call(address, trans_a, trans_b, m, n, k, a, b, ldc=n + pad)
    want = expected(trans_a, trans_b, m, n, k, a, b)
    # float32 sums of k products: within k roundings of the sum of magnitudes
    bound = 4 * k * np.finfo(np.float32).eps * (np.abs(want).max() + np.sqrt(k))
    np.testing.assert_allclose(c[:, :n], want, rtol=0, atol=bound)
    assert np.isnan(c[:, n:]).all()  # the row's padding is left alone


@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("trans_a", [False, True])
def test_large_products_are_onednns_and_small_ones_numpys_bit_for_bit(trans_a, trans_b) -> None:
    address = _onednn.gemm_address(np.float32, LARGE)
    numpy = _blas.gemm_address(np.float32)
    at, below = (64, 128, 128), (64, 128, 127)  # MIN_PRODUCT multiply-adds, and fewer
    assert np.prod(at) == _onednn.MIN_PRODUCT > np.prod(below)
    for shape, library in ((at, "onednn"), (below, "numpy")):
        a, b = operands(trans_a, trans_b, *shape, pad=0, seed=1)
        with _onednn.single_threaded(), _blas.single_threaded():
            ours = call(address, trans_a, trans_b, *shape, a, b)
            if library == "numpy":
                theirs = call(numpy, trans_a, trans_b, *shape, a, b)
            else:
                theirs = onednn_directly(trans_a, trans_b, *shape, a, b)
        np.testing.assert_array_equal(ours, theirs)


def test_the_split_is_the_products_size_not_its_sides() -> None:
    # products of MIN_PRODUCT multiply-adds, whichever side is long, are oneDNN's
    differs = []
    for shape in [(256, 64, 64), (64, 256, 64), (64, 64, 256)]:
        m, n, k = shape
        a, b = operands(False, False, m, n, k, pad=0, seed=2)
        with _onednn.single_threaded(), _blas.single_threaded():
            ours = call(_onednn.gemm_address(np.float32, LARGE), False, False, m, n, k, a, b)
            theirs = onednn_directly(False, False, m, n, k, a, b)
            numpys = call(_blas.gemm_address(np.float32), False, False, m, n, k, a, b)
        np.testing.assert_array_equal(ours, theirs)
        differs.append(not np.array_equal(ours, numpys))
    assert any(differs)  # (else the test could not tell the two apart)


def test_a_transposition_it_does_not_know_is_numpys() -> None:
    # CblasConjTrans (113): NumPy's (a transposition, for real numbers)
    m, n, k = 128, 128, 128
    a, b = operands(True, False, m, n, k, pad=0, seed=4)
    address, numpy = _onednn.gemm_address(np.float32, LARGE), _blas.gemm_address(np.float32)
    results = []
    for function in (address, numpy):
        c = np.full((m, n), np.nan, np.float32)
        with _onednn.single_threaded(), _blas.single_threaded():
            SIGNATURE(function)(101, 113, NO, m, n, k, 1.0, a.ctypes.data, m, b.ctypes.data, n,
                                0.0, c.ctypes.data, n)  # fmt: skip
        results.append(c)
    np.testing.assert_array_equal(*results)
    np.testing.assert_allclose(results[0], a.T.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)


def test_threads_asking_at_once_load_it_once() -> None:
    # (each thread that missed a cache loaded its own, and all but one were freed at once:
    # their addresses pointed at unmapped code, and a product through them crashed)
    forget_onednn()
    barrier, addresses = threading.Barrier(4), []

    def ask() -> None:
        barrier.wait()
        addresses.append(_onednn.gemm_address(np.float32, 1 << 30))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(addresses)) == 1 and addresses[0] != 0
    a, b = operands(False, False, 128, 128, 128, pad=0)
    with _onednn.single_threaded(), _blas.single_threaded():
        c = call(addresses[0], False, False, 128, 128, 128, a, b)
    np.testing.assert_allclose(c, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)


def test_float64_and_holding_threads_do_not_load_it() -> None:
    forget_onednn()
    assert _onednn.gemm_address(np.float64, LARGE) == 0
    with _onednn.single_threaded():
        pass
    assert not _onednn._LOADED  # (MKL's threads and float64 networks never load oneDNN)
    assert _onednn.available() and _onednn._LOADED


def test_float64_has_no_address() -> None:
    assert _onednn.gemm_address(np.float64, LARGE) == 0
    assert _onednn.gemm_address(np.float32, LARGE) != 0


def test_single_threaded_holds_this_thread_at_one_and_restores_it() -> None:
    library = _onednn._library()
    before = library.get_threads()
    seen = {}

    def other() -> None:
        seen["other"] = library.get_threads()

    with _onednn.single_threaded():
        assert library.get_threads() == 1
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        with _onednn.single_threaded():
            assert library.get_threads() == 1
        assert library.get_threads() == 1
    assert library.get_threads() == before
    assert seen["other"] == before  # OpenMP's setting is each thread's own


def test_single_threaded_keeps_signal_handlers_off_the_threads_stacks() -> None:
    # a signal's handler, run on the stack of a thread inside oneDNN's kernels, corrupted
    # the heap: other threads block the signals within the block (the main thread takes
    # them), and the main thread has an alternate signal stack (test_sigstack: pytest's
    # faulthandler gives it one here)
    _onednn._library()
    seen = masks_in_another_thread(_onednn.single_threaded)
    assert {signal.SIGINT, signal.SIGTERM, signal.SIGUSR1} <= seen["inside"]
    assert signal.SIGINT not in seen["before"] and seen["after"] == seen["before"]


def test_its_products_give_the_main_thread_an_alternate_signal_stack() -> None:
    # (a fresh interpreter without faulthandler, whose stack pytest's would stand for)
    script = textwrap.dedent(
        """
        import ctypes
        from deltarule import _onednn, _sigstack

        def has_stack():
            now = _sigstack._Stack()
            assert ctypes.CDLL(None).sigaltstack(None, ctypes.byref(now)) == 0
            return not now.ss_flags & 2

        before = has_stack()
        assert _onednn._library() is not None
        with _onednn.single_threaded():
            inside = has_stack()
        print(before, inside)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert out == ["False", "True"]


def test_its_function_is_compiled_under_numbas_compiler_lock(monkeypatch) -> None:
    # LLVM's global context is numba's too, and not safe to use from two threads at once
    import llvmlite.binding as llvm
    from numba.core.compiler_lock import global_compiler_lock

    parse, held = llvm.parse_assembly, []

    def parse_assembly(*args, **kwargs):
        held.append(global_compiler_lock.is_locked())
        return parse(*args, **kwargs)

    monkeypatch.setattr(llvm, "parse_assembly", parse_assembly)
    assert _onednn._compile(1, 2)  # (addresses it would call: compiled, never called)
    assert held == [True]


def test_callers_whose_products_are_all_small_do_not_load_it(monkeypatch) -> None:
    forget_onednn()
    assert _onednn.gemm_address(np.float32, _onednn.MIN_PRODUCT - 1) == 0
    assert not _onednn._LOADED
    if not _compiled.available():
        return
    monkeypatch.setattr(_mkl, "gemm_address", lambda dtype: 0)
    monkeypatch.setattr(_blas, "pool_threads", lambda: 2)
    monkeypatch.setattr(_blas, "cpus", lambda: 2)
    X = np.random.default_rng(0).standard_normal((5000, 4)).astype(np.float32)
    small = dr.Network([4, 8, 2], seed=0, dtype="float32")  # blocks of 512 x 8 x 4: NumPy's
    assert _inference.infer(small, X) is not None or not _blas.controls_threads()
    assert not _onednn._LOADED
    large = dr.Network([256, 256, 10], seed=0, dtype="float32")
    wide = np.random.default_rng(0).standard_normal((5000, 256)).astype(np.float32)
    monkeypatch.setattr(_blas, "pool_threads", lambda: 1)  # one thread: no threaded predict
    assert _inference.infer(large, wide) is None
    assert not _onednn._LOADED


@pytest.mark.parametrize("value", ["1", "yes", " On "])
def test_the_switch_on_leaves_it_used(value, monkeypatch, recwarn) -> None:
    monkeypatch.setenv(_onednn.SWITCH, value)
    forget_onednn()
    assert _onednn.available()
    assert not runtime_warnings(recwarn)


def test_another_value_of_the_switch_is_named_in_a_warning(monkeypatch) -> None:
    monkeypatch.setenv(_onednn.SWITCH, "disabled")
    forget_onednn()
    with pytest.warns(RuntimeWarning, match="DELTARULE_ONEDNN='disabled' is not one of 0, f") as w:
        assert _onednn.available()  # chosen as without it: used
    assert w[0].filename.endswith("_onednn.py")  # (the function that asked, as MKL's)


def runtime_warnings(recwarn) -> list:
    return [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("value", ["1", "all", "2", "profile_exec"])
@pytest.mark.parametrize("name", ["ONEDNN_VERBOSE", "DNNL_VERBOSE"])
def test_onednns_log_on_standard_output_is_warned_of(name, value, monkeypatch) -> None:
    monkeypatch.setenv(name, value)
    forget_onednn()
    with pytest.warns(RuntimeWarning, match="standard output"):
        assert _onednn.available()


@pytest.mark.parametrize(
    "settings",
    [{"ONEDNN_VERBOSE": "0"}, {"ONEDNN_VERBOSE": "error"}, {"ONEDNN_VERBOSE": "warn"},
     {"ONEDNN_VERBOSE": "dispatch"}, {"DNNL_VERBOSE": "none"},
     {"ONEDNN_VERBOSE": "0", "DNNL_VERBOSE": "1"}],  # (oneDNN's own name first)
    ids=str,
)  # fmt: skip
def test_a_log_without_a_line_per_product_is_not_warned_of(settings, monkeypatch, recwarn):
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    forget_onednn()
    assert _onednn.available()
    assert not runtime_warnings(recwarn)


def test_the_log_warning_turned_error_still_loads_once(monkeypatch) -> None:
    monkeypatch.setenv("ONEDNN_VERBOSE", "1")
    forget_onednn()
    kept = len(_onednn._KEPT)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning, match="standard output"):
            _onednn.available()
        assert _onednn.available() and _onednn.available()  # loaded: no warning again
    assert len(_onednn._KEPT) == kept + 1


@pytest.mark.parametrize("value", ["0", "false", "No", " OFF "])
def test_the_switch_turns_it_off(value, monkeypatch) -> None:
    monkeypatch.setenv(_onednn.SWITCH, value)
    forget_onednn()
    assert not _onednn.available()
    assert _onednn.gemm_address(np.float32, LARGE) == 0
    with _onednn.single_threaded():  # nothing to hold
        pass


def test_without_the_wheel_it_is_not_used(monkeypatch) -> None:
    monkeypatch.setattr(_onednn, "library_path", lambda: None)
    forget_onednn()
    assert not _onednn.available()


def test_a_library_without_onednns_function_gives_none() -> None:
    assert _onednn._load(ctypes.util.find_library("m") or "libm.so.6") is None


def test_a_library_that_does_not_load_gives_none(tmp_path) -> None:
    # (as without libgomp.so.1, which oneDNN's library needs: the loader refuses it)
    broken = tmp_path / "libdnnl.so.3"
    broken.write_bytes(b"not a shared library")
    assert _onednn._load(str(broken)) is None


def test_without_numpys_openblas_it_is_not_used(monkeypatch) -> None:
    monkeypatch.setattr(_blas, "gemm_address", lambda dtype: 0)
    assert _onednn._load(_onednn.library_path()) is None


def test_a_function_llvmlite_cannot_compile_leaves_it_unused(monkeypatch) -> None:
    def refuse(*args):
        raise RuntimeError("no target")

    monkeypatch.setattr(_onednn, "_compile", refuse)
    assert _onednn._load(_onednn.library_path()) is None


def test_wrong_first_products_leave_it_unused(monkeypatch) -> None:
    # a function that computes something else (NumPy's products of the transposes swapped)
    # fails the check of the first products
    real, alive = _onednn._compile, []

    def swapped(onednn, numpy):
        wrong = SIGNATURE(real(onednn, numpy))

        def call_swapped(layout, ta, tb, *rest):
            wrong(layout, tb, ta, *rest)

        alive.append(SIGNATURE(call_swapped))  # (kept alive while the test calls it)
        return ctypes.cast(alive[-1], ctypes.c_void_p).value

    monkeypatch.setattr(_onednn, "_compile", swapped)
    assert _onednn._load(_onednn.library_path()) is None


def train(threads, onednn, monkeypatch, X, y, sizes=(256, 256, 128, 10), optimizer="adam",
          batch_size=64):  # fmt: skip
    """A fresh float32 network trained 2 epochs at batch 64 through the kernel in
    ``threads`` threads, with oneDNN's products or without; the threads' products used."""
    products = []
    real = _minibatch.MinibatchKernel.run

    def run(self, *args, **kwargs):
        products.append(self.thread_gemm if self.threads > 1 else None)
        return real(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(_minibatch, "THREADS", threads)
        patch.setattr(_minibatch.MinibatchKernel, "run", run)
        patch.setattr(_mkl, "gemm_address", lambda dtype: 0)
        if not onednn:
            patch.setattr(_onednn, "gemm_address", lambda dtype, largest: 0)
        net = dr.Network(list(sizes), activation="relu", output_activation="softmax", seed=1,
                         dtype="float32")  # fmt: skip
        trainer = Trainer(net, optimizer, 0.01, batch_size, seed=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = trainer.fit(X, y, epochs=2, verbose=0)
    return net, set(products), history


@pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")
@pytest.mark.skipif(
    not (_blas.gemm_address(np.float64) and _blas.controls_threads()),
    reason="NumPy's OpenBLAS was not found: the steps run in one thread",
)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_threaded_steps_use_it_and_train_as_one_thread_does(optimizer, monkeypatch) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 256)).astype(np.float32)  # the last batch of 44 rows
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 300)]
    one = train(1, True, monkeypatch, X, y, optimizer=optimizer)
    ours = train(2, True, monkeypatch, X, y, optimizer=optimizer)
    numpys = train(2, False, monkeypatch, X, y, optimizer=optimizer)
    assert one[1] == {None}
    assert ours[1] == {_onednn.gemm_address(np.float32, LARGE)}
    assert numpys[1] == {_blas.gemm_address(np.float32)}
    # each thread's first-layer forward product at a full batch: 64 x 128 x 256 = 2 ** 21
    # multiply-adds, oneDNN's
    assert 64 * 128 * 256 >= _onednn.MIN_PRODUCT
    # Adam's step is about the learning rate wherever a gradient's sign is in doubt: a
    # rounding difference in a near-zero gradient moves its weight by up to 2 x 0.01
    atol = 2e-5 if optimizer == "sgd" else 2e-3
    for other in (one, numpys):
        np.testing.assert_allclose(ours[0].parameters, other[0].parameters, rtol=1e-3,
                                   atol=atol)  # fmt: skip
        np.testing.assert_allclose(ours[2].loss, other[2].loss, rtol=1e-4)
    assert not np.array_equal(ours[0].parameters, numpys[0].parameters)  # its own products


@pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")
@pytest.mark.skipif(
    not (_blas.gemm_address(np.float64) and _blas.controls_threads()),
    reason="NumPy's OpenBLAS was not found: the steps run in one thread",
)
def test_threaded_steps_whose_products_are_all_small_do_not_load_it(monkeypatch) -> None:
    # a 784-128-10 network at batch 16 in two threads: each thread's largest product is
    # 16 x 64 x 784 = 802,816 multiply-adds (a whole layer's, 1,605,632, is not a thread's)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 784)).astype(np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 100)]
    forget_onednn()
    small = train(2, True, monkeypatch, X, y, sizes=(784, 128, 10), batch_size=16)
    assert small[1] == {_blas.gemm_address(np.float32)} and not _onednn._LOADED
    large = train(2, True, monkeypatch, X, y, sizes=(784, 128, 10), batch_size=32)
    assert large[1] == {_onednn.gemm_address(np.float32, LARGE)}  # 32 x 64 x 784: oneDNN's


@pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")
def test_predict_in_threads_uses_it_and_gives_the_forward_pass(monkeypatch) -> None:
    if not (_blas.gemm_address(np.float32) and _blas.controls_threads()):
        pytest.skip("NumPy's OpenBLAS is not one deltarule can call and hold at one thread")
    monkeypatch.setattr(_mkl, "gemm_address", lambda dtype: 0)
    monkeypatch.setattr(_blas, "pool_threads", lambda: 2)
    monkeypatch.setattr(_blas, "cpus", lambda: 2)
    net = dr.Network([256, 256, 10], activation="tanh", output_activation="softmax", seed=0,
                     dtype="float32")  # fmt: skip
    X = np.random.default_rng(1).standard_normal((5000, 256)).astype(np.float32)
    out = _inference.infer(net, X)  # blocks of 512 rows: 512 x 256 x 256 products, oneDNN's
    assert out is not None
    np.testing.assert_allclose(out, net.forward(X)[0], rtol=1e-4, atol=1e-6)
    monkeypatch.setattr(_onednn, "gemm_address", lambda dtype, largest: 0)
    numpys = _inference.infer(net, X)
    np.testing.assert_allclose(out, numpys, rtol=1e-4, atol=1e-6)
    assert not np.array_equal(out, numpys)  # oneDNN's products, not NumPy's


SCRIPT = """
import os, sys, threading
import numpy as np
from deltarule import _blas, _onednn
import ctypes
import ctypes.util
SIZE = ctypes.c_int64
f = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_int, SIZE, SIZE, SIZE,
                     ctypes.c_float, ctypes.c_void_p, SIZE, ctypes.c_void_p, SIZE,
                     ctypes.c_float, ctypes.c_void_p, SIZE)
f = f(_onednn.gemm_address(np.float32, 1 << 30))
a = np.random.default_rng(0).standard_normal((200, 300)).astype(np.float32)

def product(out):
    with _onednn.single_threaded():
        c = np.empty((200, 200), np.float32)
        f(101, 111, 112, 200, 200, 300, 1.0, a.ctypes.data, 300, a.ctypes.data, 300, 0.0,
          c.ctypes.data, 200)
        out.append(np.allclose(c, a @ a.T, rtol=1e-4, atol=1e-3))

with _blas.single_threaded():
    results = []
    threads = [threading.Thread(target=product, args=(results,)) for _ in range(2)]
    for t in threads: t.start()
    for t in threads: t.join()
    pid = os.fork()
    if pid == 0:
        child = []
        product(child)
        os._exit(0 if child == [True] else 3)
    _, status = os.waitpid(pid, 0)
print(results, os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork")
def test_a_forked_child_makes_products_too() -> None:
    # oneDNN's first products are made while a fork waits; OpenMP starts no threads (each
    # product on its calling thread), so a child forked after threads' products makes its own
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT)], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["[True,", "True]", "0"]
