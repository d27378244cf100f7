r"""Row-wise kernels: NumPy's values for the small per-batch operations, without its overheads.

A training step at batch 128 does a handful of row-wise operations besides its matrix
products: the bias add :math:`z \mathrel{+}= b`, ReLU and its derivative, and the softmax /
cross-entropy rows (a maximum and a sum over each row of 10 classes, a shift, a division).
Through NumPy each one is a separate pass, and some carry a fixed cost far above their work:
a broadcast operand makes NumPy allocate a 32 KiB iteration buffer per call, and a
reduction along short rows costs ~60 ns per row (8.6 µs for ``z.max(axis=1)`` on 128 × 10).
These kernels (numba) do the same arithmetic in the same order, so every value is NumPy's
to the last bit, signed zeros and NaN included (the test suite checks each against NumPy):

- maxima are exact in any order;
- row sums follow NumPy's pairwise summation (``pairwise_sum`` in NumPy's C loops: eight
  partial sums over blocks of at most 128 elements, added in NumPy's order), which is what
  ``a.sum(axis=1)`` does on a C-contiguous row;
- ``exp`` and ``log`` stay NumPy's (its SIMD implementations may differ from the C
  library's in the last bit), between the kernels.

Each function falls back to NumPy when numba is missing, the arrays are not C-contiguous
2-D arrays of one dtype, or the work is too small to repay numba's import
(:data:`ROW_KERNEL_MIN_SIZE` elements, or a training run too short:
:data:`deltarule._compiled.SHORT_RUN`) in a process that has not loaded it anyway.
"""

from __future__ import annotations

import numpy as np

from . import _compiled

__all__ = [
    "ROW_KERNEL_MIN_SIZE", "add_bias", "relu", "relu_backward", "column_op", "row_sum",
    "subtract_row_max", "divide_by_row_sum", "cross_entropy_rows", "cce_delta",
]  # fmt: skip

ROW_KERNEL_MIN_SIZE = 16_384
"""Below this many elements the row kernels run only once numba is loaded anyway (a large
network's training loads it): a small network's training never pays numba's import."""


def _kernels():  # noqa: ANN202 - the numba kernels, imported on first use
    from . import _jit

    return _jit


def _ok(*arrays: np.ndarray) -> bool:
    """True when the kernels should run on ``arrays``: C-contiguous 2-D arrays of one dtype,
    enough work (or numba loaded anyway), and numba installed."""
    first = arrays[0]
    for a in arrays:
        if a.ndim != 2 or not a.flags.c_contiguous or a.dtype != first.dtype:
            return False
    return _compiled.worth_loading(first.size, ROW_KERNEL_MIN_SIZE)


def add_bias(z: np.ndarray, b: np.ndarray) -> None:
    """``z += b`` for every row of ``z`` (n, k), in place.

    The same additions as NumPy's broadcast, without the iteration buffer (32 KiB) that
    NumPy allocates for a broadcast operand on every call.
    """
    if b.dtype == z.dtype and _ok(z):
        _kernels().add_bias(z, b)
    else:
        z += b


def relu(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = np.maximum(z, 0)`` (``-0.0`` becomes ``+0.0``, NaN stays NaN)."""
    if _ok(z, out):
        _kernels().relu(z, out)
        return out
    return np.maximum(z, 0, out=out)


def relu_backward(z: np.ndarray, g: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = g * (z > 0)``, the derivative cast to ``g``'s dtype as the plain path does."""
    if _ok(z, g, out):
        _kernels().relu_backward(z, g, out)
        return out
    np.greater(z, 0, out=out)
    return np.multiply(g, out, out=out)


_COLUMN_OPS = {"subtract": (0, np.subtract), "divide": (1, np.divide), "multiply": (2, np.multiply)}


def column_op(name: str, a: np.ndarray, col: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = a (op) col`` for ``col`` of shape (n, 1) broadcast along each row of ``a``.

    ``name`` is "subtract", "divide" or "multiply"; the NumPy ufunc's values, without its
    broadcast buffer. ``out`` may be ``a``.
    """
    code, ufunc = _COLUMN_OPS[name]
    if _ok(a, col, out):
        _kernels().column_op(a, col, out, code)
        return out
    return ufunc(a, col, out=out)


def row_sum(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1, keepdims=True)``, shape (n, 1): NumPy's pairwise sums, bit for bit."""
    if _ok(a):
        out = np.empty((a.shape[0], 1), a.dtype)
        _kernels().row_sum(a, out)
        return out
    return a.sum(axis=1, keepdims=True)


def subtract_row_max(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    r"""Write :math:`z_{ij} - \max_k z_{ik}` into ``out``; return the maxima, shape (n, 1).

    ``out`` may be ``z``. Arrays that are not 2-D are reduced over their last axis.
    """
    if _ok(z, out):
        m = np.empty((z.shape[0], 1), z.dtype)
        _kernels().subtract_row_max(z, out, m)
        return m
    m = z.max(axis=-1, keepdims=True)
    np.subtract(z, m, out=out)
    return m


def divide_by_row_sum(e: np.ndarray, out: np.ndarray) -> np.ndarray:
    r"""``out = e / e.sum(axis=1, keepdims=True)`` (``out`` may be ``e``)."""
    if _ok(e, out):
        _kernels().divide_by_row_sum(e, out)
        return out
    return np.divide(e, e.sum(axis=-1, keepdims=True), out=out)


def cross_entropy_rows(
    z: np.ndarray, t: np.ndarray, m: np.ndarray, log_s: np.ndarray, work: np.ndarray
) -> np.ndarray:
    r"""Per-row cross-entropy from logits, :math:`-\sum_j t_{ij}(z_{ij} - (m_i + \log s_i))`.

    ``m`` and ``log_s`` (n, 1) are the row maxima and the logs of the shifted exponentials'
    row sums (the log-sum-exp is :math:`m_i + \log s_i`); ``work`` (n, k) is overwritten.
    Returns shape (n,).
    """
    if _ok(z, t, m, log_s, work):
        out = np.empty(z.shape[0], z.dtype)
        _kernels().cross_entropy_rows(z, t, m, log_s, work, out)
        return out
    lse = np.add(m, log_s)
    np.subtract(z, lse, out=work)
    np.multiply(t, work, out=work)
    per_sample = work.sum(axis=1)
    return np.negative(per_sample, out=per_sample)


def cce_delta(o: np.ndarray, t: np.ndarray, out: np.ndarray) -> np.ndarray:
    r"""``out = o * t.sum(axis=1, keepdims=True) - t``: softmax + cross-entropy's
    :math:`\partial \ell_i/\partial z_i` for targets that need not sum to one."""
    if _ok(o, t, out):
        _kernels().cce_delta(o, t, out)
        return out
    np.multiply(o, t.sum(axis=1, keepdims=True), out=out)
    return np.subtract(out, t, out=out)
