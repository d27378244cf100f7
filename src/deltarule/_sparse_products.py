r"""The first layer's matrix products on CSR rows: :math:`xW^\top` and :math:`\delta^\top x`.

For a batch :math:`x` of CSR rows (shape (n_samples, n_features)) and the first layer's
weights :math:`W` (n_outputs, n_features), :func:`product` gives the net input before the
bias, :math:`xW^\top`, and :func:`weight_gradient` writes :math:`\partial E/\partial W =
\delta^\top x` into the flat gradient buffer; the input gradient :math:`\delta W` is never
needed (nothing comes before the first layer). scipy multiplies CSR by dense (scikit-learn's
``safe_sparse_dot`` on sparse ``X``): the work grows with the stored values, not the columns.

scipy's products want :math:`W^\top` row-major, and give the gradient as
:math:`(x^\top\delta)^\top`, shape (n_features, n_outputs): through them as they are, a
batch would copy all of :math:`W` transposed, and transpose a gradient of its size back
(100,000 columns, 16 units: ~5 ms a step). When a batch uses few of the columns
(:data:`COMPACT_RATIO`), both products run on those columns only (:func:`compact`): the
weights of the used columns are gathered, and their gradients scattered into the zeroed
gradient (0.9-1.8 ms there).

The sums run in another order than BLAS's on dense rows: the results equal the dense
computation's within float rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._typing import Array
from .exceptions import InputError

__all__ = ["COMPACT_RATIO", "compact", "product", "weight_gradient"]

COMPACT_RATIO = 4
"""Batches whose columns outnumber their stored values this many times compute on the
columns they use (:func:`compact`). Measured on one core (200 rows, 16 or 100 units, a
forward and a backward product): at 20,000 columns and 16 units, 4 columns a value took
0.58 ms whole and 0.73 compacted, 8 took 0.50 and 0.49, 64 took 0.48 and 0.23; at 100
units, 2 already took 5.3 and 3.7 (100,000 columns, 16 units, 8: 5.3 against 1.8)."""


def _check(X: Any) -> None:
    if X.format != "csr" or X.ndim != 2:
        raise InputError(
            f"the network computes on sparse rows in CSR format (scipy.sparse.csr_matrix "
            f"or csr_array, 2-D); received a {type(X).__name__} of shape {X.shape}. Pass "
            "X.tocsr(), or call predict or evaluate, which check and convert any input."
        )


def compact(X: Any) -> tuple[Array | None, Any]:
    """``(columns, rows)``: the columns the CSR ``X`` stores values in, and ``X`` on them
    alone (a CSR matrix of shape (n_samples, len(columns))); ``(None, X)`` when its
    columns number at most :data:`COMPACT_RATIO` times its stored values."""
    if X.shape[1] <= COMPACT_RATIO * X.nnz:
        return None, X
    columns, local = np.unique(X.indices, return_inverse=True)
    parts = (X.data, local.astype(X.indices.dtype, copy=False), X.indptr)
    return columns, type(X)(parts, shape=(X.shape[0], columns.size))


def product(X: Any, weight: Array, out: Array | None = None) -> Array:
    r""":math:`xW^\top` for CSR rows ``X``: the first layer's net input before the bias.

    Parameters
    ----------
    X : scipy.sparse CSR matrix or array of shape (n_samples, n_features)
    weight : ndarray of shape (n_outputs, n_features)
    out : ndarray of shape (n_samples, n_outputs), optional
        Where to write the result.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)

    Raises
    ------
    InputError
        When ``X`` is sparse but not a 2-D CSR matrix.
    """
    _check(X)
    columns, rows = compact(X)
    used = weight if columns is None else np.take(weight, columns, axis=1)  # row by row
    net = rows @ used.T
    if out is None:
        return net
    np.copyto(out, net)
    return out


def weight_gradient(X: Any, delta: Array, out: Array) -> Array:
    r"""Write :math:`\partial E/\partial W = \delta^\top x` for CSR rows ``X`` into ``out``.

    Computed as :math:`(x^\top\delta)^\top`, CSC (the transposed CSR) times dense: faster
    than converting :math:`x` to CSC first.

    Parameters
    ----------
    X : scipy.sparse CSR matrix or array of shape (n_samples, n_features)
    delta : ndarray of shape (n_samples, n_outputs)
        :math:`\partial E/\partial z`.
    out : ndarray of shape (n_outputs, n_features)
        Overwritten (zero in the columns ``X`` stores no value in).

    Returns
    -------
    ndarray of shape (n_outputs, n_features)
        ``out``.
    """
    _check(X)
    columns, rows = compact(X)
    grad = rows.T @ delta  # (the columns', n_outputs)
    if columns is None:
        np.copyto(out, grad.T)
    else:
        out.fill(0)
        out[:, columns] = grad.T
    return out
