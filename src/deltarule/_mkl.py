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

:func:`gemm_addresses` loads the wheel's ``mkl_rt`` library, sets its threading layer to
sequential (every product on the calling thread: the steps bring their own threads) and
turns off its memory manager (which keeps buffers per thread; the steps start helper
threads for each run), then returns the addresses of ``cblas_sgemm_64`` and
``cblas_dgemm_64`` (64-bit integers, the call the kernels make). It returns zeros,
leaving MKL alone, when the wheel is not installed, when ``DELTARULE_MKL=0`` is set in
the environment (NumPy's products everywhere: the compiled steps then give the plain
step's bits where :mod:`deltarule._minibatch` says they do), when the library lacks
those functions, or when another part of the process has already set MKL to a threading
layer other than sequential (it is a process-wide setting, which is not changed then).

MKL's products differ from OpenBLAS's in the last bits (another order of the sums):
training through it agrees with the plain step within float rounding.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
from functools import lru_cache

import numpy as np

__all__ = ["gemm_addresses", "gemm_address", "available", "library_path", "DISTRIBUTION"]

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
def gemm_addresses() -> tuple[int, int]:
    """Addresses of MKL's sequential ``cblas_sgemm_64`` and ``cblas_dgemm_64``, or (0, 0)
    (see the module's docstring for when)."""
    if os.environ.get("DELTARULE_MKL", "").strip() == "0":
        return 0, 0
    path = library_path()
    if path is None:
        return 0, 0
    try:
        library = ctypes.CDLL(path)
        set_layer, disable_fast_mm = library.MKL_Set_Threading_Layer, library.mkl_disable_fast_mm
        single, double = library.cblas_sgemm_64, library.cblas_dgemm_64
    except (OSError, AttributeError):
        return 0, 0
    set_layer.restype, set_layer.argtypes = ctypes.c_int, [ctypes.c_int]
    if set_layer(_SEQUENTIAL) != _SEQUENTIAL:
        return 0, 0
    disable_fast_mm.restype, disable_fast_mm.argtypes = ctypes.c_int, []
    disable_fast_mm()
    address = ctypes.c_void_p
    return ctypes.cast(single, address).value or 0, ctypes.cast(double, address).value or 0


def gemm_address(dtype: np.dtype) -> int:
    """MKL's address for ``dtype`` (float32 or float64), or 0."""
    single, double = gemm_addresses()
    return single if np.dtype(dtype) == np.float32 else double


def available() -> bool:
    """True when MKL's products are there for the threaded steps."""
    return gemm_addresses() != (0, 0)
