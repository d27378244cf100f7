"""Compiled inference in threads: :meth:`Network.infer` on many rows.

:meth:`deltarule.network.Network.infer` computes large inputs 2,048 rows at a time through
NumPy, one product at a time on NumPy's pool of BLAS threads, with the element-wise parts on
one core. When numba is installed, :func:`infer` runs it instead as blocks of :data:`BLOCK`
rows shared by threads (:func:`deltarule._jit.infer_blocks`): each thread takes every other
block through all the layers with single-threaded products — MKL's where the threaded steps
use it (``deltarule[mkl]``, :mod:`deltarule._mkl`), else oneDNN's for a float32 network's
large products where installed (``deltarule[onednn]``, :mod:`deltarule._onednn`: 10,000
rows at 820,000 rows/s against 460,000 with OpenBLAS held to its AVX2 kernels, about even
without), else NumPy's own OpenBLAS, held at one thread meanwhile
(:func:`deltarule._blas.single_threaded`) — its work space in its own
core's cache, and no meeting points. On a 784-256-128-10 network and 10,000 rows of
Fashion-MNIST on two cores (Xeon, MKL) it took 16.5-17.3 ms (580,000-610,000 rows/s)
against ~21 ms (470,000 rows/s) through NumPy; blocks of 256 rows took 17.0-18.8 ms, of
1,024 16.2-16.8 (coarser shares, and two blocks' activations no longer fit a core's 2 MB
cache). On a 2-core AMD EPYC (Zen 5), with NumPy's OpenBLAS: 700,000-729,000 rows/s against
623,000-667,000 through NumPy (random rows, medians of 15).

The outputs equal :meth:`~deltarule.network.Network.forward`'s within float rounding (the
single-threaded products; the C library's ``exp`` for the logistic function and softmax).
Networks of dense layers whose activations the compiled steps know
(:data:`deltarule._minibatch.HIDDEN_CODES`, and softmax at the output), C-contiguous float32
or float64 inputs of at least :data:`MIN_ROWS` rows in the network's dtype, and two or more
threads (as many as NumPy's BLAS may use and the cores allow) take it; anything else is left
to NumPy (:func:`infer` returns None). So is a :class:`~deltarule.network.Network` subclass
that changes :meth:`~deltarule.network.Network.forward`, a subclass of
:class:`~deltarule.layers.Dense`, or a user's activation under a built-in name: each is
computed by its own code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _blas, _compiled, _memory, _mkl, _onednn
from ._threads import run_shares
from ._typing import Array

__all__ = ["infer", "MIN_ROWS", "BLOCK"]

MIN_ROWS = 4_096
"""Inputs with fewer rows go through NumPy (a few blocks per thread at least)."""
BLOCK = 512
"""Rows a thread takes through the layers at a time."""


def _plan(network: Any) -> tuple | None:
    """The network's layout for the kernel, or None when it has a layer it cannot run."""
    from ._minibatch import HIDDEN_CODES, layout_arrays
    from .network import Network  # imported here: network imports this module

    layers = network.layers
    if not (
        type(network).forward is Network.forward  # a subclass's forward is its own
        and _compiled.builtin_math(network, loss=False)  # Dense itself, built-in activations
    ):
        return None
    names = [layer.activation.name for layer in layers]
    softmax = names[-1] == "softmax"
    if not all(name in HIDDEN_CODES for name in (names[:-1] if softmax else names)):
        return None
    codes = np.array([HIDDEN_CODES.get(name, -1) for name in names], np.int64)
    return (*layout_arrays(network), codes, softmax)


def infer(network: Any, X: Array) -> Array | None:
    """The outputs of ``network`` for the validated rows ``X`` through the threaded kernel,
    or None where it does not apply (see the module's docstring)."""
    n = X.shape[0]
    if (
        n < MIN_ROWS
        or X.dtype != network.dtype
        or not X.flags.c_contiguous
        or not _compiled.available()
    ):
        return None
    from ._minibatch import MAX_THREADS

    threads = min(_blas.usable_threads(), MAX_THREADS, -(-n // BLOCK))
    plan = _plan(network) if threads > 1 else None
    if plan is None:
        return None
    gemm = _mkl.gemm_address(network.dtype)
    if not gemm and _blas.controls_threads():  # oneDNN's or NumPy's, each held at one thread
        largest = BLOCK * int((plan[0][:-1] * plan[0][1:]).max())  # a block through a layer
        gemm = _onednn.gemm_address(network.dtype, largest) or _blas.gemm_address(network.dtype)
    if not gemm:
        return None
    from . import _jit

    sizes, w_off, b_off, codes, softmax = plan
    part = BLOCK * int(sizes[1:].max())
    zbuf, abuf = _memory.empty(threads * part, X.dtype), _memory.empty(threads * part, X.dtype)
    out = np.empty((n, int(sizes[-1])), X.dtype)
    args = (X, out, sizes, w_off, b_off, codes, softmax, gemm,
            network.parameters, zbuf, abuf, BLOCK)  # fmt: skip

    def work(tid: int) -> None:
        with _mkl.single_threaded(), _onednn.single_threaded():
            _jit.infer_blocks(tid, threads, *args)

    with _blas.single_threaded():  # (MKL's threads: NumPy's pool is left asleep)
        run_shares(work, threads)
    return out
