"""One BLAS thread pool at a time, and work shared between threads.

scipy ships its own OpenBLAS beside NumPy's, each with a pool of threads that spin
for a while after every call. When a solver alternates between the two — scipy's
L-BFGS-B or LAPACK between NumPy's matrix products — the idle pool keeps the cores
busy and both run several times slower. :func:`scipy_blas_single_threaded` caps
scipy's pool at one thread for the duration (NumPy's keeps its threads for the large
products). It needs threadpoolctl; without it, it does nothing.

:func:`run_shares` runs the shares of a piece of work on threads of their own, the caller's
among them (the finiteness check's row sums, the compiled inference's blocks of rows).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache

__all__ = ["scipy_blas_single_threaded", "run_shares"]


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
def _scipy_controller():  # noqa: ANN202 - threadpoolctl's, imported lazily
    """threadpoolctl's controller of scipy's BLAS pools, made once: making one scans the
    process's libraries (~3 ms: a fifth of a 200-iteration L-BFGS fit of breast_cancer)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(filepath=list(_scipy_pools()))


@contextlib.contextmanager
def scipy_blas_single_threaded() -> Iterator[None]:
    """Within the block, scipy's own BLAS runs on one thread (NumPy's is untouched)."""
    if not _scipy_pools():
        yield
        return
    with _scipy_controller().limit(limits=1):
        yield


def run_shares(work: Callable[[int], None], count: int) -> None:
    """Run ``work(i)`` for every ``i`` in ``range(count)`` at once: share 0 on this thread,
    the others on new threads (or on this one, after share 0, where a thread cannot be
    started); when all are done, raise the first error any of them raised."""
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
