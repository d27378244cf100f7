"""oneDNN's single-precision ``gemm``, for the threaded steps' and predict's products, when
installed.

The threaded mini-batch steps (:mod:`deltarule._minibatch`) and the threaded predict
(:mod:`deltarule._inference`) run one matrix product per thread at once, on shapes like a
784-256-128-10 network's at batch 128 (128 x 784 times 784 x 128 per thread). Where MKL is
not used (AMD's processors: see :mod:`deltarule._mkl`) they called NumPy's OpenBLAS on one
thread each. oneDNN's ``dnnl_sgemm`` (Intel's deep-learning library, Apache 2.0; the
``onednn-cpu-gomp`` wheel, ``pip install "deltarule[onednn]"``) compiles its kernels for
the processor it finds, AVX-512 included, and on a 2-core AMD EPYC (Zen 5) it ran those
products faster, one thread each (GFLOP/s, best of 5, OpenBLAS / oneDNN): 184 / 226 for the
first layer's forward product at batch 128 per thread (128 x 128 x 784), 228 / 251 for its
weight gradient; with ``OPENBLAS_CORETYPE=Haswell`` (OpenBLAS held to its AVX2 kernels) 125
/ 230 and 124 / 256. On a processor without AVX-512 (emulated there: oneDNN limited to AVX2
by ``ONEDNN_MAX_CPU_ISA=AVX2``, OpenBLAS by ``OPENBLAS_CORETYPE=Haswell``) the two were even
(114-125 against 110-120 GFLOP/s) and the batch-128 epoch 7% faster through oneDNN (0.299 s
against 0.322, medians of 3, twice). Its call costs ~3 µs more, so small products stay with
OpenBLAS: a product of fewer than :data:`MIN_PRODUCT` multiply-adds (``m * n * k``) is
OpenBLAS's.

:func:`gemm_address` returns the address of a function with the signature of the
row-major ILP64 ``cblas_sgemm`` the kernels call (:func:`deltarule._jit.product`), which
llvmlite compiles once a process: it calls ``dnnl_sgemm`` for products of
:data:`MIN_PRODUCT` or more, NumPy's ``cblas_sgemm`` for smaller ones (and where oneDNN
reports an error). Callers hold NumPy's OpenBLAS at one thread meanwhile
(:func:`deltarule._blas.single_threaded`) and oneDNN at one thread on each calling thread
(:func:`single_threaded`: OpenMP's per-thread setting, restored after), so each product
runs on its calling thread and OpenMP starts no threads of its own.

oneDNN's products differ from OpenBLAS's in the last bits (another order of the sums), so
a run through them agrees with one through NumPy's within float rounding; the choice
between the two depends on the product's shape only, so the same run gives the same bits
on a machine. float64 products stay with NumPy's (oneDNN has no ``dgemm``).

It is used when the wheel is installed (x86-64 Linux; its library needs the GNU OpenMP
runtime ``libgomp.so.1``) and MKL is not used, unless ``DELTARULE_ONEDNN=0`` (or
``false``, ``no``, ``off``, any case) is set. The first thread that asks for the address
loads oneDNN, once a process (another that asks meanwhile waits for it: each loading its
own, all but one were freed at once, and a product through them crashed). oneDNN compiles
its kernels on its first products, under locks of its own: the load makes one product of
each transposition while a fork waits (:func:`deltarule._numba_env.fork_waits`), as MKL's
loading does. Only a float32 product loads it; :func:`single_threaded` never does.

Which library computes a product depends on its shape only, except where oneDNN reports an
error (out of memory): that product is NumPy's. oneDNN's own ``ONEDNN_MAX_CPU_ISA`` (or
``DNNL_MAX_CPU_ISA``) limits the code it compiles, and so changes its bits.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from . import _blas, _compiled, _sigstack

__all__ = [
    "gemm_address", "available", "library_path", "single_threaded", "DISTRIBUTION", "SWITCH",
    "MIN_PRODUCT",
]  # fmt: skip

DISTRIBUTION = "onednn-cpu-gomp"
"""The wheel that ships oneDNN's library (built with GNU OpenMP)."""
SWITCH = "DELTARULE_ONEDNN"
"""The environment variable that turns oneDNN off (``0``, ``false``, ``no``, ``off``; read
once a process, when oneDNN is first asked for). ``1``, ``true``, ``yes`` or ``on`` leave it
used where installed, as unset; another value is named in a RuntimeWarning."""
MIN_PRODUCT = 1 << 20
"""Products of this many multiply-adds (``m * n * k``) or more are oneDNN's. Below, its
~3 µs more a call lose: one thread, Zen 5, µs OpenBLAS / oneDNN: 32 x 128 x 128 4.9 / 7.7,
128 x 32 x 64 4.0 / 6.3; 32 x 128 x 784 59.9 / 35.0 (NT), 512 x 128 x 128 69.8 / 67.1."""
_ROW_MAJOR, _NO_TRANS, _TRANS = _blas.ROW_MAJOR, _blas.NO_TRANS, _blas.TRANS
_NAME = "libdnnl.so"


def library_path() -> str | None:
    """The path of ``libdnnl`` in the installed wheel, or None."""
    return _blas.wheel_library(DISTRIBUTION, (_NAME,))


class _OneDnn(NamedTuple):
    address: int  # the cblas_sgemm-like function's (see the module's docstring)
    get_threads: Any  # OpenMP's omp_get_max_threads
    set_threads: Any  # omp_set_num_threads (the calling thread's setting)
    library: Any  # the loaded library (the compiled function is kept in _KEPT)


def available() -> bool:
    """True when oneDNN's products are there (installed, loaded, not turned off)."""
    return _library() is not None


def gemm_address(dtype: np.dtype, largest: int) -> int:
    """The address of the ``cblas_sgemm``-like function for float32 (see the module's
    docstring) for a caller whose largest product is ``largest`` multiply-adds, or 0:
    another dtype, a largest product under :data:`MIN_PRODUCT` (none would be oneDNN's), or
    no oneDNN. oneDNN is loaded only where it could be used."""
    if np.dtype(dtype) != np.float32 or largest < MIN_PRODUCT:
        return 0
    library = _library()
    return 0 if library is None else library.address


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Within the block oneDNN runs each product on the calling thread (OpenMP's setting for
    the calling thread, restored after). Nothing to do, and nothing loaded, where oneDNN has
    not been loaded: only a caller that has its address calls its products."""
    library = _LOADED[0] if _LOADED else None
    if library is None:
        yield
        return
    previous = library.get_threads()
    library.set_threads(1)
    try:
        with _sigstack.protected():  # (a signal's handler ran over its kernels' stack data)
            yield
    finally:
        library.set_threads(previous)


_LOADED: list[_OneDnn | None] = []
"""The process's one load of oneDNN (:func:`_library`), once made: its result, None included."""
_KEPT: list[Any] = []
"""Every engine :func:`_compile` made, never freed: a kernel may hold its function's address
(a test that loads again, :func:`_forget`, leaves the earlier function in place)."""


def _library() -> _OneDnn | None:
    """oneDNN loaded and its function compiled, or None (see the module's docstring): once a
    process, by the first thread that asks; another that asks meanwhile waits for it."""
    if _LOADED:
        return _LOADED[0]
    from . import _numba_env

    with _numba_env.fork_waits():  # (a lock: the process's one load; a fork waits for it)
        if _LOADED:
            return _LOADED[0]
        wanted = _compiled.switch(SWITCH, "oneDNN", "used where installed")
        path = None if wanted == "off" else library_path()
        _LOADED.append(None if path is None else _load(path))
    if _LOADED[0] is not None and _verbose():  # (kept first: a warning turned error loads once)
        import warnings

        warnings.warn(
            "ONEDNN_VERBOSE (or DNNL_VERBOSE) is set: oneDNN prints a line for each of its "
            "products on standard output, among what deltarule writes there (predictions, "
            "JSON). Unset it, or write results to a file (the command line's --out).",
            RuntimeWarning,
            stacklevel=2,
        )
    return _LOADED[0]


def _verbose() -> bool:
    """True when oneDNN's log asks for a line per product: ``ONEDNN_VERBOSE`` (or, unset,
    ``DNNL_VERBOSE``) 1, 2, all or a profile (its other values, such as error, warn,
    check, dispatch, log none of them)."""
    value = os.environ.get("ONEDNN_VERBOSE", "").strip().lower()
    if not value:
        value = os.environ.get("DNNL_VERBOSE", "").strip().lower()
    return value in ("1", "2", "all") or "profile_exec" in value or value == "profile"


def _forget() -> None:
    """Make the next use load oneDNN again, as the environment then says (for tests)."""
    with contextlib.suppress(IndexError):
        _LOADED.pop()


def _load(path: str) -> _OneDnn | None:
    """:func:`_library`'s work: load oneDNN and OpenMP, compile the function, make the first
    products; None where any of it fails."""
    try:
        library = ctypes.CDLL(path)
        sgemm = library.dnnl_sgemm
        gomp = ctypes.CDLL("libgomp.so.1")  # (the one oneDNN's library loaded)
        get_threads, set_threads = gomp.omp_get_max_threads, gomp.omp_set_num_threads
    except (OSError, AttributeError):
        return None
    get_threads.restype, get_threads.argtypes = ctypes.c_int, []
    set_threads.restype, set_threads.argtypes = None, [ctypes.c_int]
    onednn, numpy = ctypes.cast(sgemm, ctypes.c_void_p).value, _blas.gemm_address(np.float32)
    if not (onednn and numpy):  # (without NumPy's OpenBLAS the steps call numba's products)
        return None
    try:
        address = _compile(onednn, numpy)
    except Exception:  # noqa: BLE001 - llvmlite refused: NumPy's products, as without oneDNN
        return None
    made = _OneDnn(address, get_threads, set_threads, library)
    with _held(made):
        if not _first_products(address):
            return None
    return made


@contextlib.contextmanager
def _held(library: _OneDnn) -> Iterator[None]:
    """NumPy's OpenBLAS and oneDNN at one thread within the block."""
    previous = library.get_threads()
    library.set_threads(1)
    try:
        with _blas.single_threaded(), _sigstack.protected():
            yield
    finally:
        library.set_threads(previous)


_SOURCE = """
define void @sgemm(i32 %layout, i32 %ta, i32 %tb, i64 %m, i64 %n, i64 %k, float %alpha,
                   ptr %a, i64 %lda, ptr %b, i64 %ldb, float %beta, ptr %c, i64 %ldc) {
entry:
  %mn = mul i64 %m, %n
  %mnk = mul i64 %mn, %k
  %large = icmp sge i64 %mnk, MIN_PRODUCT
  %rows = icmp eq i32 %layout, ROW_MAJOR
  %ta_off = sub i32 %ta, NO_TRANS
  %tb_off = sub i32 %tb, NO_TRANS
  %ta_known = icmp ult i32 %ta_off, 2
  %tb_known = icmp ult i32 %tb_off, 2
  %shape = and i1 %large, %rows
  %known = and i1 %ta_known, %tb_known
  %ours = and i1 %shape, %known
  br i1 %ours, label %onednn, label %blas
onednn:
  %ta_t = icmp eq i32 %ta, TRANS
  %tb_t = icmp eq i32 %tb, TRANS
  %ta_c = select i1 %ta_t, i8 84, i8 78
  %tb_c = select i1 %tb_t, i8 84, i8 78
  %dnnl = inttoptr i64 ONEDNN to ptr
  %status = call i32 %dnnl(i8 signext %ta_c, i8 signext %tb_c, i64 %m, i64 %n, i64 %k,
                           float %alpha, ptr %a, i64 %lda, ptr %b, i64 %ldb, float %beta,
                           ptr %c, i64 %ldc)
  %done = icmp eq i32 %status, 0
  br i1 %done, label %end, label %blas
blas:
  BLAS_CALL
  br label %end
end:
  ret void
}
"""
"""The function :func:`gemm_address` gives: ``dnnl_sgemm`` (``char transa, char transb``
'N' or 'T', row-major, 64-bit sizes; it returns a status, 0 for success) for row-major
products of :data:`MIN_PRODUCT` multiply-adds or more, each operand transposed or not
(``CblasNoTrans``, ``CblasTrans``), else (and on an error) NumPy's ``cblas_sgemm``, whose
arguments it has."""

_BLAS_CALL = """%numpy = inttoptr i64 NUMPY to ptr
  call void %numpy(i32 %layout, i32 %ta, i32 %tb, i64 %m, i64 %n, i64 %k, float %alpha,
                   ptr %a, i64 %lda, ptr %b, i64 %ldb, float %beta, ptr %c, i64 %ldc)"""


def _compile(onednn: int, numpy: int) -> int:
    """Compile :data:`_SOURCE` for ``dnnl_sgemm`` at ``onednn`` and NumPy's ``cblas_sgemm``
    at ``numpy``. Returns the function's address (its engine is kept in :data:`_KEPT`)."""
    import llvmlite.binding as llvm

    source = (
        _SOURCE.replace("MIN_PRODUCT", str(MIN_PRODUCT))
        .replace("ROW_MAJOR", str(_ROW_MAJOR))
        .replace("NO_TRANS", str(_NO_TRANS))
        .replace("TRANS", str(_TRANS))
        .replace("ONEDNN", str(onednn))
        .replace("BLAS_CALL", _BLAS_CALL.replace("NUMPY", str(numpy)))
    )
    # LLVM's global context, which numba's compiles use too, is not safe to use from two
    # threads at once (a compile of deltarule._shaped's build thread may run meanwhile):
    # numba's compiler lock, which its own compiles take, keeps them apart
    with _compiler_lock():
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        module = llvm.parse_assembly(source)
        module.verify()
        machine = llvm.Target.from_default_triple().create_target_machine()
        engine = llvm.create_mcjit_compiler(module, machine)
        engine.finalize_object()
        _KEPT.append(engine)
        return engine.get_function_address("sgemm")


def _compiler_lock() -> Any:
    """numba's lock around every compile of its (and its cache's loads), or a block that
    does nothing where numba is not there."""
    try:
        from numba.core.compiler_lock import global_compiler_lock
    except ImportError:
        return contextlib.nullcontext()
    return global_compiler_lock


def _first_products(address: int) -> bool:
    """One product of each transposition through the function at ``address``, large enough
    to be oneDNN's, checked against NumPy's (oneDNN compiles its kernels on first use)."""
    size = ctypes.c_int64
    function = ctypes.CFUNCTYPE(
        None, ctypes.c_int, ctypes.c_int, ctypes.c_int, size, size, size, ctypes.c_float,
        ctypes.c_void_p, size, ctypes.c_void_p, size, ctypes.c_float, ctypes.c_void_p, size,
    )(address)  # fmt: skip
    side = 128  # 128 x 128 x 128: 2 ** 21 multiply-adds
    a = np.arange(side * side, dtype=np.float32).reshape(side, side) % 7 - 3
    b = np.arange(side * side, dtype=np.float32).reshape(side, side) % 5 - 2
    for trans_a in (False, True):
        for trans_b in (False, True):
            c = np.full((side, side), np.nan, np.float32)
            ta, tb = (_TRANS if trans else _NO_TRANS for trans in (trans_a, trans_b))
            function(_ROW_MAJOR, ta, tb, side, side, side, 1.0, a.ctypes.data, side,
                     b.ctypes.data, side, 0.0, c.ctypes.data, side)  # fmt: skip
            expected = (a.T if trans_a else a) @ (b.T if trans_b else b)
            if not np.array_equal(c, expected):  # (small integers: exact in any order)
                return False
    return True
