"""Sparse inputs: scipy CSR rows made dense a batch or a chunk at a time.

Text features (``TfidfVectorizer``), one-hot encodings of many categories and the like come
as scipy sparse matrices: mostly zeros, often with too many columns for the whole dense
matrix to fit in memory. The network computes on dense arrays, so the code that reads the
rows densifies only the rows it works on:

- a training batch is gathered from the CSR rows into the training loop's reused dense
  batch buffer (:func:`take_rows`);
- prediction and the evaluation and validation passes go through chunks of rows, each at
  most :data:`CHUNK_BYTES` dense (:func:`dense_chunks`, :func:`output_cache`);
- the full-batch solvers (L-BFGS, Levenberg–Marquardt) need every row at once and densify
  ``X`` whole, once :func:`densify` has checked that it fits in half the memory available.

The dense rows hold exactly the values of ``X.toarray()``, so a run on sparse data computes
what the same run on the dense matrix computes, bit for bit where the same code runs (the
compiled mini-batch and online kernels take dense arrays only: sparse data take the plain
step). Inputs reach these functions validated (:func:`deltarule._validation.as_float_csr`):
CSR of the network's dtype, without duplicate entries.

scipy is never imported here: data can be sparse only when ``scipy.sparse`` has been
imported already (:func:`is_sparse`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._typing import Array
from .exceptions import InputError

__all__ = [
    "CHUNK_BYTES", "MEMORY_SHARE", "is_sparse", "take_rows", "chunk_rows", "dense_chunks",
    "available_memory", "check_dense_size", "densify", "output_cache",
]  # fmt: skip

CHUNK_BYTES = 1 << 25
"""The most bytes a chunk of rows densified for prediction or evaluation takes (32 MiB:
2,048 rows of 4,096 float32 features; a chunk is never more rows than the dense path's)."""
MEMORY_SHARE = 0.5
"""The largest share of the available memory a sparse ``X`` may take once made dense."""


def is_sparse(data: Any) -> bool:
    """True when ``data`` is a scipy sparse matrix or array (any format).

    Without importing scipy: an object can only be one of its sparse matrices when
    ``scipy.sparse`` is loaded already.
    """
    module = sys.modules.get("scipy.sparse")
    return module is not None and bool(module.issparse(data))


def take_rows(X: Any, rows: Array, out: Array) -> Array:
    """Write the dense rows ``X[rows]`` of a CSR matrix into ``out[:len(rows)]``; return them.

    ``X`` holds no duplicate entries (validated), so scattering its stored values over a
    zeroed buffer gives exactly ``X[rows].toarray()``, without scipy's per-call overhead.

    Parameters
    ----------
    X : scipy.sparse CSR matrix or array of shape (n_samples, n_features)
    rows : ndarray of int of shape (k,)
    out : ndarray of shape (>= k, n_features), of ``X``'s dtype

    Returns
    -------
    ndarray of shape (k, n_features)
        A view of ``out``.
    """
    k = len(rows)
    dense = out[:k]
    dense.fill(0)
    indptr = X.indptr
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    total = int(lengths.sum())
    if total:
        # the stored values' positions in X.data: row r's run starts[r], ..., + lengths[r] - 1
        runs = np.cumsum(lengths) - lengths
        positions = np.arange(total) + np.repeat(starts - runs, lengths)
        dense[np.repeat(np.arange(k), lengths), X.indices[positions]] = X.data[positions]
    return dense


def chunk_rows(X: Any, most: int) -> int:
    """How many rows of ``X`` one dense chunk holds: at most ``most``, and at most
    :data:`CHUNK_BYTES` of them (at least one row)."""
    row_bytes = max(1, X.shape[1] * X.dtype.itemsize)
    return max(1, min(int(most), CHUNK_BYTES // row_bytes))


def dense_chunks(X: Any, most: int) -> Iterator[tuple[int, int, Array]]:
    """Yield ``(start, stop, X[start:stop] dense)`` over every row of the CSR ``X``, in
    chunks of :func:`chunk_rows` rows; the dense rows live in one buffer, overwritten by
    the next chunk. (Another sparse format is read as CSR.)"""
    X = X.tocsr()  # (CSR: itself)
    n = X.shape[0]
    size = min(n, chunk_rows(X, most))
    buffer = np.empty((size, X.shape[1]), X.dtype)
    for start in range(0, n, size):
        stop = min(start + size, n)
        yield start, stop, take_rows(X, np.arange(start, stop), buffer)


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


def _too_big(shape: tuple[int, int], dtype: np.dtype, what: str, limit: str, advice: str) -> str:
    rows, columns = shape
    size = rows * columns * np.dtype(dtype).itemsize
    return (
        f"{what} needs the sparse X dense: {rows:,} x {columns:,} {np.dtype(dtype).name} "
        f"values, {size:,} bytes, more than {limit}. {advice}"
    )


def check_dense_size(shape: tuple[int, int], dtype: Any, what: str, advice: str) -> None:
    """Refuse to densify ``shape`` rows of ``dtype`` when they would take more than
    :data:`MEMORY_SHARE` of the memory available now (no limit where that is unknown).

    Raises
    ------
    InputError
        Naming ``what`` needs the dense rows, their size, and ``advice``.
    """
    available = available_memory()
    if available is None:
        return
    size = shape[0] * shape[1] * np.dtype(dtype).itemsize
    if size > available * MEMORY_SHARE:
        limit = f"half the {available:,} bytes of memory available now"
        raise InputError(_too_big(shape, dtype, what, limit, advice))


def densify(X: Any, what: str, advice: str) -> Array:
    """``X.toarray()`` (C order), after :func:`check_dense_size`; a failed allocation is an
    :class:`~deltarule.exceptions.InputError` too."""
    check_dense_size(X.shape, X.dtype, what, advice)
    try:
        return X.toarray(order="C")
    except MemoryError:
        raise InputError(_too_big(X.shape, X.dtype, what, "could be allocated", advice)) from None


def output_cache(network: Any, X: Any, params: Array | None = None, *, most: int) -> Any:
    """The output layer's :class:`~deltarule.layers.DenseCache` over every row of the CSR
    ``X``, from :meth:`~deltarule.network.Network.forward` on dense chunks of rows
    (``params``: instead of the network's own).

    Only its ``net``, ``activated`` and ``out`` are set (``inputs`` is None): what
    :meth:`~deltarule.network.Network.error` reads of the last cache. With one chunk (up to
    ``most`` rows), they are the dense forward pass's bit for bit.
    """
    from .layers import DenseCache  # (layers imports nothing of this module's users)

    n = X.shape[0]
    net = np.empty((n, network.n_outputs), network.dtype)
    out = np.empty((n, network.n_outputs), network.dtype)
    for start, stop, rows in dense_chunks(X, most):
        last = network.forward(rows, params)[1][-1]
        net[start:stop], out[start:stop] = last.net, last.out
    return DenseCache(None, net, out, out)
