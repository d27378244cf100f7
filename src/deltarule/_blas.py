"""NumPy's own BLAS, for the compiled kernels' matrix products.

numba's ``np.dot`` calls scipy's BLAS, a second OpenBLAS beside NumPy's with its own pool
of threads. Each pool's threads spin for a while (~0.1 s) after every call, so when
training switches from one to the other (NumPy's checks of the data, then the kernel's
products; the kernel's products, then a validation pass through NumPy) the two pools fight
over the cores and the products run at half speed; and the two libraries need not give
the same bits. The kernels therefore call the ``cblas_?gemm`` of the library NumPy itself
loaded, found by :func:`gemm_addresses`, with the arguments NumPy's ``matmul`` passes it:
the same products, bit for bit, from the same pool of threads.

The threaded mini-batch steps (:mod:`deltarule._minibatch`) run one product per thread at
once, each on one core: :func:`pool_threads` tells how many threads NumPy's OpenBLAS may use
(the user's limit, e.g. ``OPENBLAS_NUM_THREADS`` or threadpoolctl's) and
:func:`single_threaded` lowers it to one while they run.

(With the optional MKL installed, the threads call MKL's products instead:
:mod:`deltarule._mkl`; with oneDNN, oneDNN's for their large products: :mod:`deltarule._onednn`.
:func:`wheel_library` finds either's library.)

Only NumPy's own OpenBLAS builds are recognised (the ``scipy_openblas64_`` library of
NumPy's wheels and the older ``openblas64_`` one, both with 64-bit integers, found among
the process's loaded libraries on Linux). Anywhere else :func:`gemm_addresses` returns
zeros and the kernels use numba's ``np.dot``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator
from functools import lru_cache

import numpy as np

__all__ = [
    "gemm_addresses", "gemm_address", "controls_threads", "pool_threads", "single_threaded", "cpus",
    "usable_threads", "wheel_library",
    "ROW_MAJOR", "NO_TRANS", "TRANS",
]  # fmt: skip

ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112  # CBLAS_ORDER and CBLAS_TRANSPOSE values

_SYMBOLS = (  # (single, double), both ILP64
    ("scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_"),
    ("cblas_sgemm64_", "cblas_dgemm64_"),
)
_THREAD_SYMBOLS = (  # (get, set) the pool's number of threads
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
)


def _numpy_openblas(maps_file: str = "/proc/self/maps") -> str | None:
    """The path of the OpenBLAS library shipped in NumPy's wheel, if this process loaded it
    (read from the list of the process's mapped files)."""
    # the process's map lists resolved paths: a NumPy reached through a symbolic link (a
    # linked virtual environment or site-packages) must be compared by its real path
    package = os.path.dirname(os.path.realpath(np.__file__))
    roots = (package + os.sep, os.path.join(os.path.dirname(package), "numpy.libs") + os.sep)
    try:
        with open(maps_file) as maps:
            lines = maps.read().splitlines()
    except OSError:
        return None
    for line in lines:
        path = line.split(maxsplit=5)[-1] if line.count(" ") >= 5 else ""
        if "openblas" in os.path.basename(path).lower() and path.startswith(roots):
            return path
    return None


@lru_cache(maxsize=1)
def gemm_addresses() -> tuple[int, int]:
    """Addresses of NumPy's ``cblas_sgemm`` and ``cblas_dgemm`` (64-bit integers), or (0, 0)."""
    path = _numpy_openblas()
    if path is None:
        return 0, 0
    try:
        library = ctypes.CDLL(path)
    except OSError:
        return 0, 0
    for single, double in _SYMBOLS:
        try:
            s, d = getattr(library, single), getattr(library, double)
        except AttributeError:
            continue
        address = ctypes.c_void_p
        return ctypes.cast(s, address).value or 0, ctypes.cast(d, address).value or 0
    return 0, 0


def gemm_address(dtype: np.dtype) -> int:
    """The address for ``dtype`` (float32 or float64), or 0."""
    single, double = gemm_addresses()
    return single if np.dtype(dtype) == np.float32 else double


@lru_cache(maxsize=1)
def _thread_functions() -> tuple | None:
    """NumPy's OpenBLAS's (get, set) functions for its number of threads, or None."""
    path = _numpy_openblas()
    if path is None or gemm_addresses() == (0, 0):
        return None
    try:
        library = ctypes.CDLL(path)
    except OSError:
        return None
    for get_name, set_name in _THREAD_SYMBOLS:
        try:
            get, put = getattr(library, get_name), getattr(library, set_name)
        except AttributeError:
            continue
        get.restype, get.argtypes = ctypes.c_int, []
        put.restype, put.argtypes = None, [ctypes.c_int]
        return get, put
    return None


def wheel_library(distribution: str, names: tuple[str, ...]) -> str | None:
    """The real path of the shared library whose file name starts with one of ``names`` in
    the installed wheel ``distribution`` (static libraries, ``.a`` and ``.lib``, left out), or
    None where the wheel or the file is not there."""
    import importlib.metadata  # (here: ~11 ms a process that never asks paid at import)

    try:
        files = importlib.metadata.distribution(distribution).files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name.startswith(names) and not file.name.endswith((".a", ".lib")):
            path = os.path.realpath(file.locate())
            if os.path.isfile(path):
                return path
    return None


def cpus() -> int:
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def usable_threads() -> int:
    """Threads a share of work may run on: the cores this process may use, at most as many
    as NumPy's OpenBLAS may use by the user's limit — the size before the
    :func:`single_threaded` blocks running now, if any: a fit or predict starting in one
    thread while another thread's steps hold the pool at one chooses as it would alone (the
    same kernel, so the same bits). What runs on NumPy's own products meanwhile does not:
    see :func:`single_threaded`."""
    held = list(_HOLDERS)  # (a copy: another thread may end its block meanwhile)
    return max(1, min(cpus(), held[0] if held else pool_threads()))


def controls_threads() -> bool:
    """True when :func:`single_threaded` can hold NumPy's OpenBLAS at one thread."""
    return _thread_functions() is not None


def pool_threads() -> int:
    """How many threads NumPy's OpenBLAS may use now (1 when it cannot be told)."""
    functions = _thread_functions()
    return max(1, int(functions[0]())) if functions is not None else 1


_LOCK = threading.Lock()
_HOLDERS: list[int] = []  # the pool's size before the first of the blocks now running


def _after_fork_in_child() -> None:
    """A child forked while blocks held the pool at one (in threads the child does not
    have) gets the pool's size back, and a lock of its own (the parent's may be held)."""
    global _LOCK
    _LOCK = threading.Lock()
    if _HOLDERS:
        functions = _thread_functions()
        if functions is not None and functions[0]() == 1:
            functions[1](_HOLDERS[0])
        _HOLDERS.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Within the block NumPy's OpenBLAS runs every call on the calling thread.

    The setting is the whole process's (OpenBLAS has no per-thread one that its threaded
    builds honour; ``openblas_set_num_threads_local`` sets the same global in NumPy's
    build); blocks running at once in several threads restore the size found by the first
    of them when the last ends, unless the size was changed meanwhile (it is then left as
    it was set). Limiting NumPy's threads from another thread while a threaded fit runs
    (threadpoolctl) can therefore interleave with these blocks: set limits before
    training, or around it in the same thread. For the same reason, while any thread is in
    such a block (a threaded fit, a large predict), NumPy's products everywhere else in the
    process — other threads' NumPy code, the NumPy path's predicts of up to 2,048 rows, a
    plain step — run on one thread, and may differ in the last bits from the same code run
    alone (OpenBLAS splits a product's sums otherwise on one thread than on several).
    """
    functions = _thread_functions()
    if functions is None:
        yield
        return
    get, put = functions
    with _LOCK:
        _HOLDERS.append(int(get()) if not _HOLDERS else _HOLDERS[0])
        put(1)
    try:
        yield
    finally:
        with _LOCK:
            size = _HOLDERS.pop()
            if not _HOLDERS and int(get()) == 1:  # (else another hand set it meanwhile)
                put(size)
