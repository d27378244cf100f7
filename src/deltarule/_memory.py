"""Flat buffers that start on a cache line.

NumPy's large arrays start 16 bytes past a page (``malloc``'s header), so every
64-byte vector load of a flat buffer straddles two cache lines, and where two threads
write neighbouring parts of one buffer (the compiled mini-batch steps' shares of a
layer's activations) a line at each boundary is written by both. The parameters, their
gradients, the optimizers' state and the compiled steps' work space are allocated here
instead: each starts on a 64-byte boundary (measured side by side: the threaded batch-128
epoch of ``benchmarks/`` workload (a) 2-5% faster).

Also how much memory the process may still take (:func:`available_memory`), which the
readers of untrusted files and the sparse code check sizes against.
"""

from __future__ import annotations

import os

import numpy as np

from ._typing import Array

#: Bytes the buffers' first elements are aligned to (a cache line, one AVX-512 vector).
CACHE_LINE = 64


def empty(size: int, dtype: np.dtype | type) -> Array:
    """Return an uninitialised 1-D array of ``size`` elements whose data starts on a
    :data:`CACHE_LINE` boundary (a view of a slightly larger byte buffer)."""
    dtype = np.dtype(dtype)
    nbytes = int(size) * dtype.itemsize
    raw = np.empty(nbytes + CACHE_LINE, np.uint8)
    start = -raw.ctypes.data % CACHE_LINE
    return raw[start : start + nbytes].view(dtype)


def zeros(size: int, dtype: np.dtype | type) -> Array:
    """Return :func:`empty` filled with zeros."""
    out = empty(size, dtype)
    out.fill(0)
    return out


def copy(array: Array, dtype: np.dtype | type | None = None) -> Array:
    """Return a flat copy of ``array`` (in ``dtype``, if given) in a new :func:`empty`."""
    out = empty(array.size, array.dtype if dtype is None else dtype)
    out[...] = array.reshape(-1)
    return out


def available_memory() -> int | None:
    """Bytes of memory available to this process now, or None where the system does not say.

    Linux's ``MemAvailable`` (else the free pages), at most a cgroup v2 memory limit (a
    container's).
    """
    available = None
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):  # (not on macOS or Windows)
            return None
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as limit:
            available = min(available, int(limit.read()))
    except (OSError, ValueError):  # (no cgroup v2, or "max": no limit)
        pass
    return max(available, 0)
