"""One BLAS thread pool at a time, and work shared between threads.

scipy ships its own OpenBLAS beside NumPy's, each with a pool of threads that spin
for a while after every call. When a solver alternates between the two — scipy's
L-BFGS-B or LAPACK between NumPy's matrix products — the idle pool keeps the cores
busy and both run several times slower. :func:`scipy_blas_single_threaded` caps
scipy's pool at one thread for the duration (NumPy's keeps its threads for the large
products). It needs threadpoolctl to find scipy's library; without it, it does nothing.

:func:`run_shares` runs the shares of a piece of work on threads of their own, the caller's
among them (the finiteness check's row sums, the compiled inference's blocks of rows).

:func:`signals_deferred` holds Ctrl-C back while threads of ours work on the caller's arrays:
a :class:`KeyboardInterrupt` raised in the caller while it waits for them (Ctrl-C in
``Thread.join`` or ``Thread.start``) left them running, still writing the network's arrays
and calling BLAS, while the caller went on to save the model, set BLAS's thread count back
and reuse or free their buffers.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import os
import signal
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

__all__ = ["scipy_blas_single_threaded", "run_shares", "signals_deferred"]


@lru_cache(maxsize=1)
def _scipy_pools() -> tuple[str, ...]:
    try:
        import scipy.linalg  # noqa: F401 - loads scipy's BLAS so that it can be found
        from threadpoolctl import threadpool_info
    except ImportError:
        return ()
    return tuple(
        info["filepath"] for info in threadpool_info()
        if info.get("user_api") == "blas" and "scipy.libs" in info.get("filepath", "")
    )  # fmt: skip


@lru_cache(maxsize=1)
def _scipy_thread_functions() -> tuple[tuple[Any, Any], ...]:
    """(get, set) of the thread count of each of scipy's OpenBLAS libraries, called
    directly: threadpoolctl's limits (3.8) take effect only from the one Python thread that
    first set them while it lives, so a block ending in another thread (L-BFGS fits in
    threads) could not give the pool back. Looked up once (threadpoolctl scans the
    process's libraries to find them: ~3 ms, a fifth of a 200-iteration L-BFGS fit of
    breast_cancer)."""
    found = []
    for path in _scipy_pools():
        try:
            library = ctypes.CDLL(path)
        except OSError:  # pragma: no cover - found loaded a moment ago
            continue
        for prefix, suffix in itertools.product(("scipy_", ""), ("", "64_", "_64")):
            get = getattr(library, f"{prefix}openblas_get_num_threads{suffix}", None)
            put = getattr(library, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                get.restype, get.argtypes = ctypes.c_int, []
                put.restype, put.argtypes = None, [ctypes.c_int]
                found.append((get, put))
                break
    return tuple(found)


_SCIPY_LOCK = threading.Lock()
_SCIPY_SIZES: list[int] = []  # the sizes found by the first of the blocks running now
_SCIPY_BLOCKS = [0]  # how many blocks are running now


def _scipy_after_fork_in_child() -> None:
    """A child forked while blocks held scipy's pools (in threads it does not have) gets
    their sizes back, and a lock of its own."""
    global _SCIPY_LOCK
    _SCIPY_LOCK = threading.Lock()
    if _SCIPY_BLOCKS[0]:
        for (_, put), size in zip(_scipy_thread_functions(), _SCIPY_SIZES):
            put(size)
    _SCIPY_SIZES.clear()
    _SCIPY_BLOCKS[0] = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_scipy_after_fork_in_child)


@contextlib.contextmanager
def scipy_blas_single_threaded() -> Iterator[None]:
    """Within the block, scipy's own BLAS runs on one thread (NumPy's is untouched).

    Blocks running at once in several threads (L-BFGS fits in threads) hold it at one
    until the last of them ends, which gives back the sizes the first found (each block
    giving back what it found left the pool at one thread for good when two overlapped).
    """
    functions = _scipy_thread_functions()
    if not functions:
        yield
        return
    with _SCIPY_LOCK:
        if not _SCIPY_BLOCKS[0]:
            _SCIPY_SIZES[:] = [int(get()) for get, _ in functions]
            for _, put in functions:
                put(1)
        _SCIPY_BLOCKS[0] += 1
    try:
        yield
    finally:
        with _SCIPY_LOCK:
            _SCIPY_BLOCKS[0] -= 1
            if not _SCIPY_BLOCKS[0]:
                for (_, put), size in zip(functions, _SCIPY_SIZES):
                    put(size)


_DEFERRED_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name)
)
"""The signals :func:`signals_deferred` holds back: Ctrl-C, and SIGTERM, which the command
line hands to the Ctrl-C handler."""


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Within the block, Python's handlers of SIGINT and SIGTERM are not run: each signal
    that arrives is remembered, and handed to the handler it was meant for when the block
    ends, in the order they came (the first :class:`KeyboardInterrupt` one raises ends
    the others).

    For the code that waits for threads working on the caller's arrays (the mini-batch
    steps' threads, :func:`run_shares`): Python raises a Ctrl-C's KeyboardInterrupt in
    the main thread wherever it is, ``Thread.join`` and ``Thread.start`` included, and
    the caller then left with the threads still running (see the module's docstring).
    The block lasts as long as that work (a run of steps: :data:`deltarule._steps.
    COMPILED_RUN_SECONDS`), so a Ctrl-C is acted on that much later.

    Only the main thread's handlers can be set, and only there is a KeyboardInterrupt
    raised: in another thread the block does nothing. A handler that is not Python's
    (``SIG_DFL``, ``SIG_IGN``) is left as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[tuple[int, Any]] = []

    def remember(signum: int, frame: Any) -> None:
        received.append((signum, frame))

    previous: dict[int, Any] = {}
    try:
        for signum in _DEFERRED_SIGNALS:
            handler = signal.getsignal(signum)
            if callable(handler):
                previous[signum] = handler
                signal.signal(signum, remember)
        yield
    finally:
        # SIGINT's handler last: a Ctrl-C handled between two of these lines reaches
        # ``remember`` until then, and raises only once every handler is back
        for signum in sorted(previous, key=lambda number: number == signal.SIGINT):
            signal.signal(signum, previous[signum])
        for signum, frame in received:
            handler = previous.get(signum)
            if callable(handler):
                handler(signum, frame)


def run_shares(work: Callable[[int], None], count: int) -> None:
    """Run ``work(i)`` for every ``i`` in ``range(count)`` at once: share 0 on this thread,
    the others on new threads (or on this one, after share 0, where a thread cannot be
    started); when all are done, raise the first error any of them raised. A Ctrl-C that
    comes meanwhile is acted on once all are done (:func:`signals_deferred`)."""
    with signals_deferred():
        _run_shares(work, count)


def _run_shares(work: Callable[[int], None], count: int) -> None:
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            work(i)
        except BaseException as error:  # noqa: BLE001 - raised below, in the caller
            errors.append(error)

    helpers, left = [], []
    for i in range(1, count):
        helper = threading.Thread(target=guarded, args=(i,), daemon=True)
        try:
            helper.start()
        except RuntimeError:  # "can't start new thread"
            left.append(i)
        else:
            helpers.append(helper)
    for i in (0, *left):
        guarded(i)
    for helper in helpers:
        helper.join()
    if errors:
        raise errors[0]
