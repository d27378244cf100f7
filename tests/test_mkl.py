"""MKL's sequential products for the threaded steps: found, set up, correct; or left alone."""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
import subprocess
import sys

import numpy as np
import pytest

import deltarule as dr
from deltarule import _compiled, _mkl

installed = pytest.mark.skipif(
    _mkl.library_path() is None, reason="the mkl wheel is not installed (deltarule[mkl])"
)
SHAPES = [(128, 784, 128), (128, 128, 64), (7, 3, 5), (33, 17, 65), (1, 4, 3)]  # (m, k, n)


@pytest.fixture
def reload():
    """Forget the cached addresses before and after (the next call loads afresh)."""
    _mkl.gemm_addresses.cache_clear()
    yield _mkl.gemm_addresses
    _mkl.gemm_addresses.cache_clear()


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
        a = rng.standard_normal((m, k)).astype(dtype)
        w = rng.standard_normal((n, k)).astype(dtype)
        d = rng.standard_normal((m, n)).astype(dtype)
        cases = [  # (a, transpose a, b, transpose b, what np.matmul computes)
            (a, False, w, True, a @ w.T), (d, True, a, False, d.T @ a), (d, False, w, False, d @ w),
        ]  # fmt: skip
        for left, ta, right, tb, expected in cases:
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


class _Library:
    """Stands in for an mkl_rt whose threading layer another part of the process set."""

    def __init__(self, layer: int) -> None:
        self.asked: list[int] = []

        def set_layer(wanted: int) -> int:  # a function: ctypes' restype can be set on it
            self.asked.append(wanted)
            return layer

        self.MKL_Set_Threading_Layer = set_layer
        self.mkl_disable_fast_mm = lambda: 1
        self.cblas_sgemm_64 = self.cblas_dgemm_64 = None


@pytest.mark.parametrize("layer", [0, 2, 3])  # intel, gnu, tbb
def test_mkl_set_to_threads_elsewhere_is_left_alone(layer, monkeypatch, reload) -> None:
    fake = _Library(layer)
    monkeypatch.setattr(_mkl, "library_path", lambda: "/where/libmkl_rt.so.2")
    monkeypatch.setattr(ctypes, "CDLL", lambda path: fake)
    assert reload() == (0, 0)
    assert fake.asked == [1]  # asked for sequential once; told it is not


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
