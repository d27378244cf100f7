r"""Sparse inputs: scipy CSR rows multiplied as sparse, or made dense a batch at a time.

Text features (``TfidfVectorizer``), one-hot encodings of many categories and the like come
as scipy sparse matrices: mostly zeros, often with too many columns for the whole dense
matrix to fit in memory. ``X`` stays CSR, and only the first layer ever reads it; each
batch (or chunk of rows, for prediction and scoring) reaches it in one of two forms:

- **CSR rows** (:func:`select_rows`, :func:`row_chunks`), where the first layer computes
  :math:`z = xW^\top + b` and :math:`\partial E/\partial W = \delta^\top x` by sparse
  matrix products (:mod:`deltarule._sparse_products`), as scikit-learn's
  ``safe_sparse_dot`` does: the cost grows with the stored values, not the columns. The
  rest of the network is dense as always. This is the form for sparse data
  (:func:`sparse_is_faster`) and for batches too big to make dense (:func:`sparse_batches`);
- **dense rows** (:func:`take_rows`, :func:`dense_chunks`), written into a reused buffer
  and computed as any dense batch, by BLAS: faster for narrow or fairly dense data, such
  as a one-hot encoding of a few categories.

Either way the outputs, errors and gradients are those of the same computation on
``X.toarray()`` within float rounding (the sparse sums run in another order than BLAS's);
dense rows give them bit for bit where the same code runs (the compiled mini-batch and
online kernels take dense arrays only: sparse data take the plain step). A network whose
class changes :meth:`~deltarule.network.Network.forward`, or whose first layer is not a
:class:`~deltarule.layers.Dense` itself, always gets dense rows (:func:`takes_sparse`).

The full-batch solvers: L-BFGS computes on CSR rows too where sparse products are faster or
``X`` would not fit dense; Levenberg–Marquardt (its Jacobian needs every input value) makes
``X`` dense whole, once :func:`densify` has checked that it fits in half the memory
available. Inputs reach these functions validated
(:func:`deltarule._validation.as_float_csr`): CSR of the network's dtype, without
duplicate entries.

scipy is never imported here: data can be sparse only when ``scipy.sparse`` has been
imported already (:func:`is_sparse`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._memory import available_memory
from ._typing import Array
from .exceptions import InputError

__all__ = [
    "CHUNK_BYTES", "MEMORY_SHARE", "SPARSE_DENSITY", "SPARSE_MIN_FEATURES", "is_sparse",
    "takes_sparse", "sparse_is_faster", "sparse_batches", "select_rows", "row_range",
    "take_rows", "chunk_rows", "dense_chunks", "row_chunks", "available_memory", "fits",
    "check_dense_size", "densify", "infer", "output_cache",
]  # fmt: skip

CHUNK_BYTES = 1 << 25
"""The most bytes a chunk of rows densified for prediction or evaluation takes (32 MiB:
2,048 rows of 4,096 float32 features; a chunk is never more rows than the dense path's),
and that a chunk of CSR rows' widest layer outputs may take (:func:`row_chunks`)."""
MEMORY_SHARE = 0.5
"""The largest share of the available memory a sparse ``X`` may take once made dense."""
SPARSE_DENSITY = 0.05
"""Sparse ``X`` with fewer stored values than this share of its entries (and at least
:data:`SPARSE_MIN_FEATURES` columns) reach the first layer as CSR rows; denser ones as
dense rows. Measured on one core, batches of 200 rows, one forward and backward pass of the
first layer with 16 or 100 units: the sparse products win below about 5% at 100 units and
below 20-50% at 16 (they pay per stored value and unit, BLAS per entry and unit plus the
writing of the dense rows); at 100 units and 10% the two were even (1,000 columns:
0.96 ms dense, 0.79 sparse; 5,000: 4.6 against 4.3), at 50% dense rows took half the time."""
SPARSE_MIN_FEATURES = 500
"""Narrower sparse ``X`` reach the first layer as dense rows whatever their density: a
batch's sparse products carry ~0.1 ms of fixed cost (the rows' gathering, scipy's objects),
more than BLAS takes on a few hundred columns (200 columns at 2% density: 0.07 ms dense
against 0.11 sparse at 16 units; 500 columns: 0.15 against 0.12)."""


def is_sparse(data: Any) -> bool:
    """True when ``data`` is a scipy sparse matrix or array (any format).

    Without importing scipy: an object can only be one of its sparse matrices when
    ``scipy.sparse`` is loaded already.
    """
    module = sys.modules.get("scipy.sparse")
    return module is not None and bool(module.issparse(data))


# ----------------------------------------------------------------- the choice of form
def takes_sparse(network: Any) -> bool:
    """True when ``network``'s first layer may be given CSR rows: the input goes through
    :class:`Network`'s own ``forward`` into a first layer that is a :class:`Dense` itself.
    (A class that changes ``forward`` gets dense rows, as it always did; one that changes
    ``backward``, as the scikit-learn estimators' network does around ``super().backward``,
    gets the caches of CSR rows.)"""
    from .layers import Dense  # (both import this module)
    from .network import Network

    return type(network).forward is Network.forward and type(network.layers[0]) is Dense


def sparse_is_faster(X: Any) -> bool:
    """True when the first layer computes faster on CSR rows of ``X`` than on dense rows:
    fewer stored values than :data:`SPARSE_DENSITY` of its entries and at least
    :data:`SPARSE_MIN_FEATURES` columns."""
    n, m = X.shape
    return m >= SPARSE_MIN_FEATURES and X.nnz < SPARSE_DENSITY * n * m


def sparse_batches(network: Any, X: Any, rows: int) -> bool:
    """True when batches of up to ``rows`` rows of ``X`` go through ``network`` as CSR rows:
    it takes them (:func:`takes_sparse`) and they are faster (:func:`sparse_is_faster`), or
    the dense rows, more than :data:`CHUNK_BYTES`, would not fit in memory (:func:`fits`;
    the system is not asked about fewer bytes: this runs every epoch)."""
    if not takes_sparse(network):
        return False
    if sparse_is_faster(X):
        return True
    shape = (rows, X.shape[1])
    return rows * shape[1] * X.dtype.itemsize > CHUNK_BYTES and not fits(shape, X.dtype)


# ----------------------------------------------------------------- rows
def _positions(X: Any, rows: Array) -> tuple[Array, Array]:
    """Where the stored values of ``X[rows]`` are in ``X.data``, row after row, and how
    many each row holds."""
    indptr = X.indptr
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    runs = np.cumsum(lengths) - lengths  # row r's values start at runs[r] in the result
    return np.arange(int(lengths.sum())) + np.repeat(starts - runs, lengths), lengths


def select_rows(X: Any, rows: Array) -> Any:
    """``X[rows]`` as a CSR matrix of ``X``'s class (without scipy's indexing overhead).

    Parameters
    ----------
    X : scipy.sparse CSR matrix or array of shape (n_samples, n_features)
    rows : ndarray of int of shape (k,)

    Returns
    -------
    scipy.sparse CSR matrix or array of shape (k, n_features)
    """
    positions, lengths = _positions(X, rows)
    indptr = np.zeros(len(rows) + 1, X.indptr.dtype)
    np.cumsum(lengths, out=indptr[1:])
    parts = (X.data[positions], X.indices[positions], indptr)
    return type(X)(parts, shape=(len(rows), X.shape[1]))


def row_range(X: Any, start: int, stop: int) -> Any:
    """``X[start:stop]`` as a CSR matrix of ``X``'s class, from slices of ``X``'s arrays
    (without scipy's indexing overhead)."""
    first, last = X.indptr[start], X.indptr[stop]
    parts = (X.data[first:last], X.indices[first:last], X.indptr[start : stop + 1] - first)
    return type(X)(parts, shape=(stop - start, X.shape[1]))


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
    positions, lengths = _positions(X, rows)
    if positions.size:
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


def row_chunks(network: Any, X: Any, most: int) -> Iterator[tuple[int, int, Any]]:
    """Yield ``(start, stop, rows)`` over every row of the sparse ``X`` for ``network``:
    where :func:`takes_sparse` and :func:`sparse_is_faster` say so, CSR rows, as many at a
    time as keep the widest layer's outputs within :data:`CHUNK_BYTES` (at least ``most``:
    a chunk's sparse product may copy the first layer's weights, once per chunk); else
    :func:`dense_chunks`. (Another sparse format is read as CSR.)"""
    X = X.tocsr()
    if not (takes_sparse(network) and sparse_is_faster(X)):
        yield from dense_chunks(X, most)
        return
    n = X.shape[0]
    row_bytes = max(network.layer_sizes[1:]) * network.dtype.itemsize
    size = max(int(most), CHUNK_BYTES // row_bytes)
    for start in range(0, n, size):
        stop = min(start + size, n)
        yield start, stop, row_range(X, start, stop)


# ----------------------------------------------------------------- memory
def _too_big(shape: tuple[int, int], dtype: np.dtype, what: str, limit: str, advice: str) -> str:
    rows, columns = shape
    size = rows * columns * np.dtype(dtype).itemsize
    return (
        f"{what} needs the sparse X dense: {rows:,} x {columns:,} {np.dtype(dtype).name} "
        f"values, {size:,} bytes, more than {limit}. {advice}"
    )


def fits(shape: tuple[int, int], dtype: Any) -> bool:
    """True when ``shape`` dense values of ``dtype`` take at most :data:`MEMORY_SHARE` of
    the memory available now (always, where that is unknown)."""
    available = available_memory()
    size = shape[0] * shape[1] * np.dtype(dtype).itemsize
    return available is None or size <= available * MEMORY_SHARE


def check_dense_size(shape: tuple[int, int], dtype: Any, what: str, advice: str) -> None:
    """Refuse to densify ``shape`` rows of ``dtype`` unless they :func:`fit <fits>`.

    Raises
    ------
    InputError
        Naming ``what`` needs the dense rows, their size, and ``advice``.
    """
    if not fits(shape, dtype):
        limit = f"half the {available_memory():,} bytes of memory available now"
        raise InputError(_too_big(shape, dtype, what, limit, advice))


def densify(X: Any, what: str, advice: str) -> Array:
    """``X.toarray()`` (C order), after :func:`check_dense_size`; a failed allocation is an
    :class:`~deltarule.exceptions.InputError` too."""
    check_dense_size(X.shape, X.dtype, what, advice)
    try:
        return X.toarray(order="C")
    except MemoryError:
        raise InputError(_too_big(X.shape, X.dtype, what, "could be allocated", advice)) from None


# ----------------------------------------------------------------- passes over every row
def infer(network: Any, X: Any, most: int) -> Array:
    """``network``'s outputs for every row of the sparse ``X``, by :func:`row_chunks`:
    dense rows through :meth:`~deltarule.network.Network.infer`, CSR rows through
    :meth:`~deltarule.network.Network.forward` in reused buffers.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
    """
    output = np.empty((X.shape[0], network.n_outputs), network.dtype)
    buffers = None
    for start, stop, rows in row_chunks(network, X, most):
        if isinstance(rows, np.ndarray):
            output[start:stop] = network.infer(rows)
            continue
        buffers = buffers or network.buffers(stop - start, backward=False)  # (the largest)
        output[start:stop] = network.forward(rows, buffers=buffers)[0]
    return output


def output_cache(network: Any, X: Any, params: Array | None = None, *, most: int) -> Any:
    """The output layer's :class:`~deltarule.layers.DenseCache` over every row of the sparse
    ``X``, from :meth:`~deltarule.network.Network.forward` on :func:`row_chunks`
    (``params``: instead of the network's own).

    Only its ``net``, ``activated`` and ``out`` are set (``inputs`` is None): what
    :meth:`~deltarule.network.Network.error` reads of the last cache. With one chunk (up to
    ``most`` rows) of dense rows, they are the dense forward pass's bit for bit.
    """
    from .layers import DenseCache  # (layers imports this module)

    n = X.shape[0]
    net = np.empty((n, network.n_outputs), network.dtype)
    out = np.empty((n, network.n_outputs), network.dtype)
    for start, stop, rows in row_chunks(network, X, most):
        last = network.forward(rows, params)[1][-1]
        net[start:stop], out[start:stop] = last.net, last.out
    return DenseCache(None, net, out, out)
