"""One BLAS thread pool at a time.

scipy ships its own OpenBLAS beside NumPy's, each with a pool of threads that spin
for a while after every call. When a solver alternates between the two — scipy's
L-BFGS-B or LAPACK between NumPy's matrix products — the idle pool keeps the cores
busy and both run several times slower. :func:`scipy_blas_single_threaded` caps
scipy's pool at one thread for the duration (NumPy's keeps its threads for the large
products). It needs threadpoolctl; without it, it does nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache

__all__ = ["scipy_blas_single_threaded"]


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


@contextlib.contextmanager
def scipy_blas_single_threaded() -> Iterator[None]:
    """Within the block, scipy's own BLAS runs on one thread (NumPy's is untouched)."""
    pools = _scipy_pools()
    if not pools:
        yield
        return
    from threadpoolctl import ThreadpoolController

    with ThreadpoolController().select(filepath=list(pools)).limit(limits=1):
        yield
