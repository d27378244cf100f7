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
same either way. It also makes one small product of each precision while a fork waits
(:func:`deltarule._numba_env.fork_waits`): MKL loads its code on its first product under a
lock of its own, which a child forked meanwhile would find held for ever.
:func:`gemm_addresses` returns zeros, and MKL is not loaded, when the
wheel is not installed or when ``DELTARULE_MKL=0`` (or ``false``, ``no``, ``off``) is set
in the environment (NumPy's products everywhere: the compiled steps then give the plain
step's bits where :mod:`deltarule._minibatch` says they do), or when the library lacks those
functions.

It also returns zeros (MKL loaded, then left unused) on a processor where MKL runs only
its generic code: where MKL's own choice of code for the processor
(``MKL_CBWR_Get_Auto_Branch``) is ``MKL_CBWR_COMPATIBLE``, as on AMD's. On a 2-core AMD
EPYC (Zen 5, AVX-512) the threaded steps' products were far slower through MKL than
through NumPy's OpenBLAS on one thread each (a 784-256-128-10 network's Adam epoch over
60,000 rows, medians of 5, MKL's first: 152,000 against 263,000 rows/s at batch 128,
133,000 against 173,000 at 32, 171,000 against 237,000 at 512; predict on 10,000 rows
395,000 against 700,000), so the threads call NumPy's products there.
``DELTARULE_MKL=1`` (or ``true``, ``yes``, ``on``) uses MKL whatever it runs.

MKL's products differ from OpenBLAS's in the last bits (another order of the sums):
training through it agrees with the plain step within float rounding.

:func:`jit_product` asks MKL to compile a kernel for one product's shape (MKL's JIT
``gemm``, for small products: no packing of the operands, no choice of code on each call).
The threaded steps do so for each thread's products at a full batch: a 784-256-128-10
network's Adam epoch over Fashion-MNIST took 0.514 s instead of 0.573 at batch 32, 0.347
instead of 0.357 at 128 and 0.299 instead of 0.309 at 512 (medians of 12 epochs in 4
processes each, alternating). Where MKL does not compile one (a product too large: it says
"no JIT") the steps call ``cblas_?gemm``. A compiled kernel sums in its own order too: the
same bits on every call, within rounding of ``cblas_?gemm``'s.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np

from . import _blas, _compiled, _sigstack

__all__ = [
    "gemm_addresses", "gemm_address", "available", "library_path", "single_threaded",
    "jit_product", "release", "generic_code", "DISTRIBUTION", "SWITCH",
]  # fmt: skip

DISTRIBUTION = "mkl"
"""The wheel that ships MKL's runtime library."""
SWITCH = "DELTARULE_MKL"
"""The environment variable that turns MKL off (``0``, ``false``, ``no``, ``off``) or on
wherever it is installed (``1``, ``true``, ``yes``, ``on``; any case)."""
_SEQUENTIAL = 1  # MKL_THREADING_SEQUENTIAL
_JIT_SUCCESS = 0  # mkl_jit_status_t: MKL_JIT_SUCCESS (1: MKL_NO_JIT, 2: MKL_JIT_ERROR)
_CBWR_COMPATIBLE = 2  # MKL_CBWR_COMPATIBLE: the code MKL runs on any x86-64 processor
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112  # CBLAS_LAYOUT, CBLAS_TRANSPOSE
_NAMES = ("libmkl_rt.so", "libmkl_rt.", "mkl_rt.")  # Linux, macOS, Windows file names


def library_path() -> str | None:
    """The path of ``mkl_rt`` in the installed ``mkl`` wheel, or None."""
    return _blas.wheel_library(DISTRIBUTION, _NAMES)


class _Mkl(NamedTuple):
    single: int  # cblas_sgemm_64's address
    double: int  # cblas_dgemm_64's
    set_local: Any  # MKL_Set_Num_Threads_Local
    library: Any  # the loaded library (its JIT functions are looked up when first asked)


@lru_cache(maxsize=1)
def _library() -> _Mkl | None:
    """MKL set up as the module's docstring says, or None without it (loaded where a fork
    waits for it: :func:`deltarule._numba_env.fork_waits`)."""
    wanted = _compiled.switch(SWITCH, "MKL", "used where the processor is one MKL has code for")
    if wanted == "off":
        return None
    from . import _numba_env

    with _numba_env.fork_waits():
        library = _load()
    if library is not None and wanted != "on" and generic_code(library.library):
        return None
    return library


def generic_code(library: Any) -> bool:
    """True when the loaded MKL ``library`` runs only its generic code on this processor
    (its automatic code branch is ``MKL_CBWR_COMPATIBLE``; False when it cannot say)."""
    try:
        branch = library.MKL_CBWR_Get_Auto_Branch
    except AttributeError:
        return False
    branch.restype, branch.argtypes = ctypes.c_int, []
    return branch() == _CBWR_COMPATIBLE


def _load() -> _Mkl | None:
    """:func:`_library`'s work."""
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
    _first_products(single, double)
    single, double = (ctypes.cast(f, ctypes.c_void_p).value or 0 for f in (single, double))
    return _Mkl(single, double, set_local, library)


def _first_products(*functions: Any) -> None:
    """One small product through each of ``cblas_sgemm_64`` and ``cblas_dgemm_64``: MKL
    loads its code on its first product under a spin lock of its own, which a fork made
    meanwhile leaves held in the child for ever (the child's first product hung). Made
    here, under :func:`deltarule._numba_env.fork_waits`, a fork waits for them."""
    size = ctypes.c_int64
    for function, real, dtype in zip(functions, (ctypes.c_float, ctypes.c_double),
                                     (np.float32, np.float64)):  # fmt: skip
        function.restype = None
        function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, size, size, size, real,
                             ctypes.c_void_p, size, ctypes.c_void_p, size, real, ctypes.c_void_p,
                             size]  # fmt: skip
        a, c = np.ones((8, 8), dtype), np.empty((8, 8), dtype)
        function(_ROW_MAJOR, _NO_TRANS, _NO_TRANS, 8, 8, 8, 1.0, a.ctypes.data, 8, a.ctypes.data,
                 8, 0.0, c.ctypes.data, 8)  # fmt: skip


def gemm_addresses() -> tuple[int, int]:
    """Addresses of MKL's ``cblas_sgemm_64`` and ``cblas_dgemm_64``, or (0, 0) (see the
    module's docstring for when)."""
    library = _library()
    return (0, 0) if library is None else (library.single, library.double)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Within the block MKL runs each product on the calling thread (MKL's per-thread
    setting, restored after; nothing to do without MKL)."""
    library = _library()
    if library is None:
        yield
        return
    previous = library.set_local(1)
    try:
        # (its products run JIT-compiled kernels, as oneDNN's do, whose stack data a signal
        # handler overwrote there: see deltarule._sigstack; not measured with MKL, which
        # this AMD machine does not use)
        with _sigstack.protected():
            yield
    finally:
        library.set_local(previous)


def gemm_address(dtype: np.dtype) -> int:
    """MKL's address for ``dtype`` (float32 or float64), or 0."""
    single, double = gemm_addresses()
    return single if np.dtype(dtype) == np.float32 else double


def available() -> bool:
    """True when MKL's products are there for the threaded steps."""
    return gemm_addresses() != (0, 0)


@lru_cache(maxsize=1)
def _jit_functions() -> dict[str, Any] | None:
    """MKL's JIT functions (ILP64: 64-bit sizes), with their C types; None without MKL or
    in a library without them."""
    mkl = _library()
    if mkl is None:
        return None
    size, handle = ctypes.c_int64, ctypes.c_void_p
    functions: dict[str, Any] = {}
    try:
        for name, real in (("float32", ctypes.c_float), ("float64", ctypes.c_double)):
            letter = "s" if name == "float32" else "d"
            create = getattr(mkl.library, f"mkl_cblas_jit_create_{letter}gemm_64")
            create.restype = ctypes.c_int
            create.argtypes = [ctypes.POINTER(handle), ctypes.c_int, ctypes.c_int, ctypes.c_int,
                               size, size, size, real, size, size, real, size]  # fmt: skip
            kernel = getattr(mkl.library, f"mkl_jit_get_{letter}gemm_ptr_64")
            kernel.restype, kernel.argtypes = handle, [handle]
            functions[name] = (create, kernel)
        destroy = mkl.library.mkl_jit_destroy_64
    except AttributeError:
        return None
    destroy.restype, destroy.argtypes = ctypes.c_int, [handle]
    functions["destroy"] = destroy
    return functions


def jit_product(
    dtype: np.dtype, trans_a: bool, trans_b: bool, m: int, n: int, k: int, lda: int, ldb: int,
    ldc: int,
) -> tuple[int, int] | None:  # fmt: skip
    """MKL's compiled kernel for the row-major product ``C = op(A) op(B)`` of this shape:
    ``C`` is ``m`` x ``n``, the inner dimension ``k``, the row strides ``lda``, ``ldb`` and
    ``ldc`` (``op`` the transpose where asked; ``C`` is overwritten, not read).

    Returns (the kernel's address, its jitter's): the kernel is the C function ``void
    kernel(void *jitter, T *a, T *b, T *c)``, ``T`` ``dtype``'s (float32 or float64) C
    type. None when MKL does not compile one for this shape (MKL_NO_JIT: a product too
    large) or fails to, for another dtype, or without MKL. Give the jitter to
    :func:`release` when done with the kernel.
    """
    functions = _jit_functions()
    name = np.dtype(dtype).name
    if functions is None or name not in ("float32", "float64"):
        return None
    create, kernel = functions[name]
    jitter = ctypes.c_void_p()
    status = create(
        ctypes.byref(jitter), _ROW_MAJOR, _TRANS if trans_a else _NO_TRANS,
        _TRANS if trans_b else _NO_TRANS, m, n, k, 1.0, lda, ldb, 0.0, ldc,
    )  # fmt: skip
    if status != _JIT_SUCCESS:
        if jitter.value:
            functions["destroy"](jitter)
        return None
    address = kernel(jitter) or 0
    if not address:
        functions["destroy"](jitter)
        return None
    return address, int(jitter.value)


def release(jitters: Iterable[int]) -> None:
    """Free the kernels of these jitters (from :func:`jit_product`)."""
    functions = _jit_functions()
    if functions is None:
        return
    for jitter in jitters:
        functions["destroy"](ctypes.c_void_p(jitter))
