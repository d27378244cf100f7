"""MKL's sequential products for the threaded steps: found, set up, correct; or left alone."""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import forget_mkl
from test_minibatch import product_cases

import deltarule as dr
from deltarule import _compiled, _mkl

installed = pytest.mark.skipif(
    _mkl.library_path() is None, reason="the mkl wheel is not installed (deltarule[mkl])"
)
SHAPES = [(128, 784, 128), (128, 128, 64), (7, 3, 5), (33, 17, 65), (1, 4, 3)]  # (m, k, n)


@pytest.fixture(autouse=True)
def mkl_wherever_installed(monkeypatch):
    """These tests are MKL's: ``DELTARULE_MKL=1`` (also where deltarule leaves it unused by
    default, see test_mkl_runs_only_where_it_has_code_for_the_processor)."""
    monkeypatch.setenv("DELTARULE_MKL", "1")
    forget_mkl()
    yield
    forget_mkl()


@pytest.fixture
def reload():
    """Forget the cached addresses before and after (the next call loads afresh)."""
    forget_mkl()
    yield _mkl.gemm_addresses
    forget_mkl()


@installed
def test_the_wheel_is_found_and_set_to_one_thread() -> None:
    path = _mkl.library_path()
    assert os.path.isfile(path) and "mkl_rt" in os.path.basename(path)
    single, double = _mkl.gemm_addresses()
    assert single and double and single != double
    assert _mkl.available()
    assert _mkl.gemm_address(np.float32) == single and _mkl.gemm_address(np.float64) == double
    library = ctypes.CDLL(path)
    library.MKL_Get_Max_Threads.restype = ctypes.c_int
    assert library.MKL_Get_Max_Threads() == 1  # the sequential layer: the caller's thread


@installed
@pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_its_products_are_the_matrix_products(dtype) -> None:
    from deltarule import _jit

    gemm = _mkl.gemm_address(dtype)
    rng = np.random.default_rng(5)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for m, k, n in SHAPES:
        for left, ta, right, tb, expected in product_cases(rng, m, k, n, dtype):
            out = np.full(expected.shape, np.nan, dtype)
            _jit.matmul(gemm, left, ta, right, tb, out)
            scale = np.abs(left).max() * np.abs(right).max() * left.shape[1 - ta]
            np.testing.assert_allclose(out, expected, rtol=0, atol=tol * scale)


def test_without_the_wheel_there_are_no_addresses(monkeypatch, reload) -> None:
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    assert _mkl.library_path() is None
    assert reload() == (0, 0) and not _mkl.available()


def test_a_library_without_mkls_functions_gives_zero(monkeypatch, reload) -> None:
    import ctypes.util

    libm = ctypes.util.find_library("m")
    if libm is None:
        pytest.skip("no C math library to stand in")
    monkeypatch.setattr(_mkl, "library_path", lambda: libm)
    assert reload() == (0, 0)


TRAIN = """
import ctypes, sys
import numpy as np
from deltarule import _mkl
if sys.argv[1] == "intel":  # another part of the process uses MKL first, with its threads
    other = ctypes.CDLL(_mkl.library_path())
    other.MKL_Set_Threading_Layer(0)  # MKL_THREADING_INTEL
    other.MKL_Get_Max_Threads()  # MKL is in use: its layer is fixed now
import deltarule as dr
from deltarule import _minibatch
_minibatch.THREADS = 2
assert _mkl.available()
rng = np.random.default_rng(0)
X, y = rng.normal(size=(300, 64)), np.eye(10)[rng.integers(0, 10, 300)]
net = dr.Network([64, 96, 64, 10], output_activation="softmax", seed=1, dtype="float64")
net.fit(X, y, epochs=2, batch_size=32, optimizer="adam", verbose=0, seed=2)
library = ctypes.CDLL(_mkl.library_path())
layer = library.MKL_Set_Threading_Layer(1)
print(layer, np.ascontiguousarray(net.parameters).tobytes().hex())
"""


@installed
@pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")
def test_mkl_already_threaded_by_another_gives_the_same_bits() -> None:
    results = {}
    for first in ("sequential", "intel"):
        run = subprocess.run([sys.executable, "-c", TRAIN, first], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        layer, weights = run.stdout.split()
        results[first] = int(layer), weights
    assert results["sequential"][0] == 1 and results["intel"][0] == 0  # the layer each had
    assert results["sequential"][1] == results["intel"][1]  # the same weights, bit for bit


LOCAL = """
import ctypes
from deltarule import _mkl
library = ctypes.CDLL(_mkl.library_path())
library.MKL_Set_Threading_Layer(0)  # another part of the process uses MKL's own threads
set_local = library.MKL_Set_Num_Threads_Local
set_local.restype, set_local.argtypes = ctypes.c_int, [ctypes.c_int]
set_local(3)
with _mkl.single_threaded():
    inside = set_local(1)  # returns the setting it replaces
print(inside, set_local(0), library.MKL_Get_Max_Threads() > 0)
"""


@installed
def test_single_threaded_holds_mkl_at_one_thread_on_this_thread_and_restores_it() -> None:
    run = subprocess.run([sys.executable, "-c", LOCAL], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["1", "3", "True"]  # 1 inside the block, 3 again after it


def test_deltarule_mkl_0_turns_it_off() -> None:
    code = "from deltarule import _mkl; print(_mkl.gemm_addresses())"
    env = dict(os.environ, DELTARULE_MKL="0")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "(0, 0)"


@pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")
def test_the_threads_use_mkl_and_one_thread_numpys_products() -> None:
    from deltarule import _blas, _minibatch

    net = dr.Network([7, 40, 3], seed=0, dtype="float32")
    threaded = _minibatch.MinibatchKernel(net, 16, True, 2)
    one = _minibatch.MinibatchKernel(net, 16, True, 1)
    numpys = _blas.gemm_address(np.float32)
    assert one.gemm == one.thread_gemm == numpys
    assert threaded.gemm == numpys  # for a run redone in one thread
    assert threaded.thread_gemm == (_mkl.gemm_address(np.float32) or numpys)


@installed
@pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")
@pytest.mark.parametrize("blocks", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_kernels_compute_the_products_the_steps_ask_for(dtype, blocks) -> None:
    # through _jit.product_at, as the steps call them: C a block of columns of a wider
    # matrix (row stride ``wide``), in ``blocks`` column blocks of one kernel, C not read
    from deltarule import _jit

    rng = np.random.default_rng(7)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    jitters: list[int] = []
    try:
        for m, k, n in [(16, 24, 10), (8, 6, 4), (32, 64, 40)]:
            for left, ta, right, tb, expected in product_cases(rng, m, k, n, dtype):
                rows, cols = expected.shape
                inner = left.shape[0] if ta else left.shape[1]
                lda, ldb, wide = left.shape[1], right.shape[1], cols + 3
                made = _mkl.jit_product(dtype, ta, tb, rows, cols // blocks, inner, lda, ldb, wide)
                if made is None:
                    pytest.skip("MKL compiles no kernel for these small products on this CPU")
                jitters.append(made[1])
                table = np.zeros((2, 3, 2, 3), np.int64)
                table[1, 2, 1] = (*made, blocks)
                scale = np.abs(left).max() * np.abs(right).max() * inner
                for full in (True, False):  # False: MKL's gemm instead, the same product
                    c = np.full(rows * wide + 1, np.nan, dtype)
                    _jit.product_at(table, 1, 2, 1, full, _mkl.gemm_address(dtype), ta, tb, rows,
                                    cols, inner, left.ravel(), lda, right.ravel(), ldb, c[1:],
                                    wide)  # fmt: skip
                    out = c[1:].reshape(rows, wide)
                    assert np.isnan(c[0]) and np.isnan(out[:, cols:]).all()  # only its block
                    np.testing.assert_allclose(out[:, :cols], expected, rtol=0, atol=tol * scale)
    finally:
        _mkl.release(jitters)


def test_a_product_mkl_does_not_compile_gives_none_and_frees_its_jitter(monkeypatch) -> None:
    freed, status = [], [1]  # MKL_NO_JIT: "too large, I would call gemm"

    def create(handle, *args) -> int:
        handle._obj.value = 1234
        return status[0]

    fake = {"float32": (create, lambda jitter: 5678), "float64": (create, lambda jitter: 0),
            "destroy": lambda jitter: freed.append(jitter.value)}  # fmt: skip
    monkeypatch.setattr(_mkl, "_jit_functions", lambda: fake)
    assert _mkl.jit_product(np.float32, False, True, 4, 4, 4, 4, 4, 4) is None
    assert freed == [1234]
    status[0] = 0
    assert _mkl.jit_product(np.float32, False, True, 4, 4, 4, 4, 4, 4) == (5678, 1234)
    assert _mkl.jit_product(np.float64, False, True, 4, 4, 4, 4, 4, 4) is None  # no kernel
    assert freed == [1234, 1234]
    assert _mkl.jit_product(np.int64, False, True, 4, 4, 4, 4, 4, 4) is None
    _mkl.release([99])
    assert freed[-1] == 99


def test_without_mkl_there_are_no_compiled_kernels(reload, monkeypatch) -> None:
    monkeypatch.setenv("DELTARULE_MKL", "0")
    assert _mkl.jit_product(np.float32, False, True, 4, 4, 4, 4, 4, 4) is None
    _mkl.release([1])  # nothing to free: no call into a library


def test_a_library_without_the_jit_functions_gives_none(reload, monkeypatch) -> None:
    import ctypes.util

    libm = ctypes.util.find_library("m")
    if libm is None:
        pytest.skip("no C math library to stand in")
    monkeypatch.setattr(_mkl, "_library", lambda: _mkl._Mkl(1, 2, None, ctypes.CDLL(libm)))
    assert _mkl.jit_product(np.float32, False, True, 4, 4, 4, 4, 4, 4) is None


class _Branch:
    """A stand-in library whose ``MKL_CBWR_Get_Auto_Branch`` returns ``branch``."""

    def __init__(self, branch: int) -> None:
        def get() -> int:
            return branch

        self.MKL_CBWR_Get_Auto_Branch = get


def test_generic_code_is_mkls_compatible_branch() -> None:
    assert _mkl.generic_code(_Branch(2))  # MKL_CBWR_COMPATIBLE
    assert not _mkl.generic_code(_Branch(10))  # MKL_CBWR_AVX2
    assert not _mkl.generic_code(_Branch(12))  # MKL_CBWR_AVX512
    assert not _mkl.generic_code(object())  # a library that cannot say: used


@installed
def test_mkl_runs_only_where_it_has_code_for_the_processor(monkeypatch) -> None:
    def addresses() -> tuple[int, int]:
        forget_mkl()
        return _mkl.gemm_addresses()

    monkeypatch.delenv("DELTARULE_MKL")
    monkeypatch.setattr(_mkl, "generic_code", lambda library: True)
    assert addresses() == (0, 0) and not _mkl.available()  # NumPy's products instead
    assert _mkl.jit_product(np.float32, False, True, 4, 4, 4, 4, 4, 4) is None
    monkeypatch.setenv("DELTARULE_MKL", "1")  # the user's choice: MKL whatever it runs
    assert 0 not in addresses()
    monkeypatch.delenv("DELTARULE_MKL")
    monkeypatch.setattr(_mkl, "generic_code", lambda library: False)
    assert 0 not in addresses()


def _vendor() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


@installed
@pytest.mark.skipif(_vendor() not in ("GenuineIntel", "AuthenticAMD"), reason="no x86 vendor")
def test_mkl_runs_its_generic_code_on_amd_processors_only() -> None:
    # (measured on a Zen 5 EPYC: MKL's products there took ~1.7x NumPy's OpenBLAS's time)
    generic = _mkl.generic_code(ctypes.CDLL(_mkl.library_path()))
    assert generic == (_vendor() == "AuthenticAMD")


@installed
@pytest.mark.parametrize("value", ["0", "false", "No", " OFF "])
def test_the_switch_turns_mkl_off_in_any_of_its_spellings(value, monkeypatch) -> None:
    monkeypatch.setenv("DELTARULE_MKL", value)
    forget_mkl()
    assert _mkl.gemm_addresses() == (0, 0)


@installed
@pytest.mark.parametrize("value", ["1", "true", "YES", " on "])
def test_the_switch_turns_mkl_on_in_any_of_its_spellings(value, monkeypatch) -> None:
    monkeypatch.setenv("DELTARULE_MKL", value)
    monkeypatch.setattr(_mkl, "generic_code", lambda library: True)  # even there
    forget_mkl()
    assert 0 not in _mkl.gemm_addresses()


@installed
def test_another_value_is_named_in_a_warning_and_chooses_as_without_it(monkeypatch) -> None:
    monkeypatch.setenv("DELTARULE_MKL", "maybe")
    monkeypatch.setattr(_mkl, "generic_code", lambda library: True)
    forget_mkl()
    with pytest.warns(RuntimeWarning, match="DELTARULE_MKL='maybe' is not one of 0, false") as w:
        assert _mkl.gemm_addresses() == (0, 0)  # as unset on a processor MKL runs generically
    assert w[0].filename.endswith("_mkl.py")  # (the function that asked)
