"""Intel MKL's sequential ``cblas_?gemm``, for the threaded mini-batch steps, when installed.

The threaded steps (:mod:`deltarule._minibatch`) run one matrix product per thread at
once, each on its own core, on shapes like a 784-256-128-10 network's at batch 128
(128 x 784 times 784 x 128 per thread). There MKL's single-threaded ``sgemm`` is much
faster than NumPy's OpenBLAS: 157 against 217 µs for the first layer's forward product
and 144 against 177 for its weight gradient (two threads at once, 2-core Xeon with
AVX-512), and a whole Adam epoch over Fashion-MNIST at batch 128 took 0.32 s instead of
0.40 (see ``benchmarks/``). MKL is an optional dependency (``pip install
"deltarule[mkl]"``, the ``mkl`` wheel); without it the steps use NumPy's products
(:mod:`deltarule._blas`).

:func:`gemm_addresses` loads the wheel's ``mkl_rt`` library, asks for its sequential
threading layer (every product on the calling thread: the steps bring their own threads;
no OpenMP runtime is loaded) and turns off its memory manager (which keeps buffers per
thread; the steps start helper threads for each run), then returns the addresses of
``cblas_sgemm_64`` and ``cblas_dgemm_64`` (64-bit integers, the call the kernels make).
Both settings are the process's, and MKL takes them only before its first use: where
another part of the process has used MKL already, its threading layer stays, and
:func:`single_threaded` (around each thread's share of the steps) holds MKL at one
thread on the calling thread, MKL's own per-thread setting, so the products are the
same either way. :func:`gemm_addresses` returns zeros, and MKL is not loaded, when the
wheel is not installed or when ``DELTARULE_MKL=0`` is set in the environment (NumPy's
products everywhere: the compiled steps then give the plain step's bits where
:mod:`deltarule._minibatch` says they do), or when the library lacks those functions.

MKL's products differ from OpenBLAS's in the last bits (another order of the sums):
training through it agrees with the plain step within float rounding.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import os
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "gemm_addresses", "gemm_address", "available", "library_path", "single_threaded",
    "DISTRIBUTION",
]  # fmt: skip

DISTRIBUTION = "mkl"
"""The wheel that ships MKL's runtime library."""
_SEQUENTIAL = 1  # MKL_THREADING_SEQUENTIAL
_NAMES = ("libmkl_rt.so", "libmkl_rt.", "mkl_rt.")  # Linux, macOS, Windows file names


def library_path() -> str | None:
    """The path of ``mkl_rt`` in the installed ``mkl`` wheel, or None."""
    try:
        files = importlib.metadata.distribution(DISTRIBUTION).files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name.startswith(_NAMES) and not file.name.endswith((".a", ".lib")):
            path = os.path.realpath(file.locate())
            if os.path.isfile(path):
                return path
    return None


@lru_cache(maxsize=1)
def _library() -> tuple[int, int, Any] | None:
    """(``cblas_sgemm_64``'s address, ``cblas_dgemm_64``'s, ``MKL_Set_Num_Threads_Local``),
    MKL set up as the module's docstring says; None without it."""
    if os.environ.get("DELTARULE_MKL", "").strip() == "0":
        return None
    path = library_path()
    if path is None:
        return None
    try:
        library = ctypes.CDLL(path)
        set_layer, disable_fast_mm = library.MKL_Set_Threading_Layer, library.MKL_Disable_Fast_MM
        set_local = library.MKL_Set_Num_Threads_Local  # (the lower-case names are Fortran's)
        single, double = library.cblas_sgemm_64, library.cblas_dgemm_64
    except (OSError, AttributeError):
        return None
    for function, argtypes in ((set_layer, [ctypes.c_int]), (disable_fast_mm, []),
                               (set_local, [ctypes.c_int])):  # fmt: skip
        function.restype, function.argtypes = ctypes.c_int, argtypes
    set_layer(_SEQUENTIAL)  # no effect (it says which layer is set) once MKL has been used
    disable_fast_mm()
    single, double = (ctypes.cast(f, ctypes.c_void_p).value or 0 for f in (single, double))
    return single, double, set_local


def gemm_addresses() -> tuple[int, int]:
    """Addresses of MKL's ``cblas_sgemm_64`` and ``cblas_dgemm_64``, or (0, 0) (see the
    module's docstring for when)."""
    library = _library()
    return (0, 0) if library is None else library[:2]


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Within the block MKL runs each product on the calling thread (MKL's per-thread
    setting, restored after; nothing to do without MKL)."""
    library = _library()
    if library is None:
        yield
        return
    previous = library[2](1)
    try:
        yield
    finally:
        library[2](previous)


def gemm_address(dtype: np.dtype) -> int:
    """MKL's address for ``dtype`` (float32 or float64), or 0."""
    single, double = gemm_addresses()
    return single if np.dtype(dtype) == np.float32 else double


def available() -> bool:
    """True when MKL's products are there for the threaded steps."""
    return gemm_addresses() != (0, 0)
