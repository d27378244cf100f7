r"""One epoch's batches: the steps of the delta rule, plain or compiled.

:func:`run_epoch` visits the training data in batches (shuffled from the trainer's stream)
and updates the network once per batch. The plain step (:func:`step`) is a forward pass, the
error and its gradient by the backward pass, the L1/L2 penalties (:func:`penalty`), the
optimizer's update :math:`\theta \leftarrow \theta - \eta\,\partial E/\partial\theta` (or its
own rule), max-norm and the frozen parameters restored; :func:`plain_steps` runs it a batch
at a time, on the batches :func:`batches` gathers (a sparse ``X``'s as CSR rows for the
first layer's sparse products, or made dense: :mod:`deltarule._sparse`). Where the compiled
mini-batch kernel computes the same (:func:`deltarule._minibatch.kernel_for`),
:func:`compiled_steps` runs the epoch's steps in runs of about :data:`COMPILED_RUN_SECONDS`
instead. Either way the epoch also sums its mean gradient, whose norm the epoch's record
reports.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import _minibatch, _sparse
from ._reports import Interrupt
from ._sampling import Data
from ._typing import Array

__all__ = [
    "COMPILED_RUN_SECONDS",
    "FIRST_RUN_STEPS",
    "batches",
    "compiled_steps",
    "penalty",
    "plain_steps",
    "run_epoch",
    "step",
]

COMPILED_RUN_SECONDS = 0.05
"""About how long one compiled run of mini-batch steps lasts (Ctrl-C is seen between runs)."""
FIRST_RUN_STEPS = 4
"""The steps of a compiled kernel's first run (then as :data:`COMPILED_RUN_SECONDS` says)."""


def penalty(trainer: Any, params: Array, grad: Array) -> float:
    """Add the trainer's L2 and L1 penalties' gradients (weights, not biases) to ``grad`` in
    place; return the penalties' value."""
    extra = 0.0
    if trainer.l2:
        w = params * trainer._weight_mask
        extra += 0.5 * trainer.l2 * float(w @ w)
        grad += trainer.l2 * w
    if trainer.l1:
        w = params * trainer._weight_mask
        extra += trainer.l1 * float(np.abs(w).sum())
        grad += trainer.l1 * np.sign(w)
    return extra


def _apply_max_norm(trainer: Any) -> None:
    for weight in trainer.network.weights:
        norms = np.sqrt((weight * weight).sum(axis=1, keepdims=True))
        np.multiply(weight, np.minimum(1, trainer.max_norm / np.maximum(norms, 1e-12)), out=weight)


def step(
    trainer: Any, xb: Array, yb: Array, swb: Array | None, lr: float, total: Array | None = None
) -> tuple[float, Array]:
    """One forward/backward/update on a batch; returns (loss, output).

    With ``total``, the update also adds the batch gradient to it.
    """
    net = trainer.network
    params, grad = net.parameters, trainer._grad
    dropout = trainer._dropout_rng if trainer._has_dropout else None
    buffers = trainer._layer_buffers
    output, caches = net.forward(xb, rng=dropout, buffers=buffers)
    loss, _ = net.backward(caches, yb, swb, out=grad, buffers=buffers)
    if trainer.l1 or trainer.l2:
        loss += penalty(trainer, params, grad)
    if not math.isfinite(loss):
        return loss, output
    frozen = trainer._frozen
    if frozen is not None:
        grad[frozen] = 0
        kept = params[frozen]  # fancy indexing: a copy
    if total is None:
        trainer.optimizer.update(params, grad, trainer.optimizer_state, lr, loss)
    else:
        opt, state = trainer.optimizer, trainer.optimizer_state
        opt.update_and_accumulate(params, grad, state, lr, loss, total)
    if trainer.max_norm is not None:
        _apply_max_norm(trainer)
    if frozen is not None:  # after max-norm too: frozen tensors never change
        params[frozen] = kept
    return loss, output


def _batch_buffers(trainer: Any, data: Data, size: int, dense_x: bool) -> tuple[Array, Array]:
    """Reused buffers that shuffled batches, and every batch of sparse data made dense, are
    gathered into (no per-epoch data copy); without ``dense_x``, the X buffer has no
    columns (sparse data whose batches stay CSR rows)."""
    width = data.X.shape[1] if dense_x else 0
    shapes = ((size, width), (size, data.y.shape[1]))
    buffers = trainer._buffers
    if buffers is None or (buffers[0].shape, buffers[1].shape) != shapes:
        dtype = trainer.network.dtype
        if dense_x and _sparse.is_sparse(data.X):
            _sparse.check_dense_size(
                shapes[0], dtype, f"a batch of {size:,} rows",
                "Train in smaller batches (batch_size=32, say), or with fewer features.",
            )  # fmt: skip
        buffers = trainer._buffers = (np.empty(shapes[0], dtype), np.empty(shapes[1], dtype))
    return buffers


def batches(
    trainer: Any, data: Data, order: Array, bs: int, shuffled: bool
) -> Iterator[tuple[int, int, Array, Any, Array]]:
    """Yield ``(start, stop, rows, X_batch, y_batch)`` for the epoch's batches of ``bs`` rows
    in ``order``: slices of the data in their order, else gathered into reused buffers.

    A sparse ``X`` (CSR) gives its rows as CSR rows, for the first layer's sparse products,
    where :func:`deltarule._sparse.sparse_batches` says so, else made dense in the buffer.
    """
    X, y = data.X, data.y
    sparse = _sparse.is_sparse(X)
    csr_rows = sparse and _sparse.sparse_batches(trainer.network, X, bs)
    dense_rows = sparse and not csr_rows  # sparse rows made dense in the buffer
    gather_x = dense_rows or (shuffled and not sparse)  # X's rows into the buffer
    if gather_x or shuffled:
        xbuf, ybuf = _batch_buffers(trainer, data, bs, gather_x)
    for start in range(0, X.shape[0], bs):
        stop = min(start + bs, X.shape[0])
        rows = order[start:stop]
        if csr_rows:
            xb = _sparse.select_rows(X, rows) if shuffled else _sparse.row_range(X, start, stop)
        elif dense_rows:
            xb = _sparse.take_rows(X, rows, xbuf)
        elif shuffled:
            xb = np.take(X, rows, axis=0, out=xbuf[: stop - start], mode="clip")
        else:
            xb = X[start:stop]
        if shuffled:
            yb = np.take(y, rows, axis=0, out=ybuf[: stop - start], mode="clip")
        else:
            yb = y[start:stop]
        yield start, stop, rows, xb, yb


def run_epoch(
    trainer: Any, data: Data, lr: float, interrupt: Interrupt
) -> tuple[float, Any, Array, float]:
    """Run one epoch; returns (mean loss, outputs in visiting order or None, order,
    norm of the epoch's mean gradient)."""
    n = data.X.shape[0]
    bs = n if trainer.batch_size is None else min(trainer.batch_size, n)
    shuffled = trainer.shuffle and bs < n  # a full batch's gradient does not depend on order
    order = trainer._shuffle_rng.permutation(n) if shuffled else np.arange(n)
    net = trainer.network
    outputs = np.empty((n, net.n_outputs), net.dtype) if trainer.metrics else None
    trainer._grad_sum.fill(0)
    trainer._has_dropout = any(layer.dropout for layer in net.layers)
    frozen = np.flatnonzero(~net.trainable)
    trainer._frozen = frozen if frozen.size else None
    kernel = None
    if data.sample_weight is None and trainer._frozen is None and _minibatch.plain_arrays(data):
        kernel = _minibatch.kernel_for(trainer, n, bs, shuffled)
    if kernel is not None:  # every step of the epoch in compiled runs of steps
        visit = order if shuffled else None
        seen, loss_sum = compiled_steps(trainer, kernel, data, visit, lr, outputs, interrupt)
        weight_sum = loss_weight = float(seen)
    else:
        seen, loss_sum, weight_sum, loss_weight = plain_steps(
            trainer, data, order, bs, shuffled, lr, outputs, interrupt
        )
    trainer._grad_sum *= trainer._grad_sum.dtype.type(bs / max(weight_sum, 1e-300))
    kept = outputs[:seen] if outputs is not None else None
    norm = float(np.sqrt(trainer._grad_sum @ trainer._grad_sum))
    return loss_sum / max(loss_weight, 1e-300), kept, order[:seen], norm


def plain_steps(
    trainer: Any,
    data: Data,
    order: Array,
    bs: int,
    shuffled: bool,
    lr: float,
    outputs: Array | None,
    interrupt: Interrupt,
) -> tuple[int, float, float, float]:
    """Run the epoch's batches one :func:`step` at a time.

    Returns (examples seen, sum of batch losses times their shares, sum of batch
    weights, sum of shares), a batch's share of the epoch's loss being its weight
    (``epoch_loss="weighted"``) or its number of rows (``"rows"``); a non-finite loss or
    Ctrl-C ends the epoch early.
    """
    if trainer._layer_buffers is None or trainer._layer_buffers[0].net.shape[0] != bs:
        trainer._layer_buffers = trainer.network.buffers(bs)  # reused by a fit's epochs
    by_rows = trainer.epoch_loss == "rows"
    progress, n = getattr(trainer, "_progress", None), data.X.shape[0]
    loss_sum = weight_sum = share_sum = 0.0
    seen = 0
    for start, seen, idx, xb, yb in batches(trainer, data, order, bs, shuffled):
        swb = None if data.sample_weight is None else data.sample_weight[idx]
        weight = float(seen - start) if swb is None else float(swb.sum())
        if weight == 0.0:  # a batch of weight 0 teaches nothing: no update, as if absent
            if outputs is not None:
                outputs[start:seen] = trainer.network.forward(xb)[0]
            if interrupt.requested:
                break
            continue
        # grad_sum += (weight / bs) * grad: by the update itself for every full batch
        # of weight bs (fused into one pass where the optimizer can), else below
        whole = weight == bs
        loss, out = step(trainer, xb, yb, swb, lr, trainer._grad_sum if whole else None)
        share = float(seen - start) if by_rows else weight
        loss_sum += loss * share
        weight_sum += weight
        share_sum += share
        if not math.isfinite(loss):
            break
        if not whole:
            scale = trainer._grad.dtype.type(weight / bs)
            np.multiply(trainer._grad, scale, out=trainer._grad_tmp)
            np.add(trainer._grad_sum, trainer._grad_tmp, out=trainer._grad_sum)
        if outputs is not None:
            outputs[start:seen] = out
        if interrupt.requested:
            break
        if progress is not None:
            progress.tick(seen, n)
    return seen, loss_sum, weight_sum, share_sum


def compiled_steps(
    trainer: Any,
    kernel: _minibatch.MinibatchKernel,
    data: Data,
    order: Array | None,
    lr: float,
    outputs: Array | None,
    interrupt: Interrupt,
) -> tuple[int, float]:
    """Run the epoch's batches (in ``order``; None: in the data's order) through
    ``kernel``, in runs of steps lasting about :data:`COMPILED_RUN_SECONDS` (Ctrl-C is
    seen between runs).

    Returns (examples seen, sum of batch losses times batch sizes), as the plain loop
    would have them: a non-finite loss or Ctrl-C ends the epoch early.

    The first run of a kernel is :data:`FIRST_RUN_STEPS` steps; when a run of that many
    steps takes (or, for a shorter last run of an epoch, would take at its rate) under
    half of :data:`COMPILED_RUN_SECONDS`, the next is twice as long; over twice that,
    half as long. The length carries over to the kernel's next epoch (it used to restart
    at 4 each epoch: ten epochs of 6,000 rows at batch 128 on a 784-256-128-10 network
    ran in 4 runs an epoch instead of 1, 3-4% slower).
    """
    n, bs = data.X.shape[0], kernel.batch_size
    n_steps, done, loss_sum = -(-n // bs), 0, 0.0
    run = kernel.run_steps or FIRST_RUN_STEPS
    progress = getattr(trainer, "_progress", None)
    while done < n_steps:
        size = min(run, n_steps - done)
        t0 = time.perf_counter()
        losses, updates = kernel.run(
            trainer, data.X, data.y, order, done * bs, size, lr, outputs, trainer._grad_sum
        )
        seconds = time.perf_counter() - t0
        for loss in losses.tolist():
            loss_sum += loss * float(min(bs, n - done * bs))
            done += 1
        if updates < len(losses) or interrupt.requested:
            break
        if progress is not None:
            progress.tick(min(done * bs, n), n)
        whole = seconds * run / size  # a whole run's time (a shorter last one's rate)
        if whole < COMPILED_RUN_SECONDS / 2:
            run *= 2
        elif whole > 2 * COMPILED_RUN_SECONDS and run > 1:
            run //= 2
    kernel.run_steps = run
    return min(done * bs, n), loss_sum
