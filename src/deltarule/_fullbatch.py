"""The full-batch path of the training loop: solvers (L-BFGS, Levenberg–Marquardt).

A solver from :mod:`deltarule.solvers` drives its own iterations over the whole training
set; each iteration becomes one epoch record through the same callbacks, and a non-finite
error (training or validation), outputs or a singular system restore the last finite weights
with a warning.

A solver computes on every example at once. L-BFGS (:data:`SPARSE_SOLVERS`) takes sparse
training data as they are, every row through the first layer's sparse products, where those
are faster or the dense ``X`` would not fit in half the memory available; else, and for
Levenberg–Marquardt (whose Jacobian needs every input value), a sparse ``X`` is made dense
whole first (:func:`dense_data`), when it fits in half the memory available.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from . import _sparse
from ._epochs import ValidationDiverged, begin_epoch
from ._reports import Interrupt, diverged
from ._sampling import Data
from ._typing import Array
from .callbacks import Callback, TrainingState

__all__ = ["dense_data", "run_solver", "SolverDiverged", "SPARSE_SOLVERS"]

SPARSE_SOLVERS = ("lbfgs",)
"""The full-batch solvers that compute through the network's forward and backward passes
alone, and so may take CSR rows (Levenberg–Marquardt's Jacobian needs dense rows)."""


class SolverDiverged(Exception):
    """Raised inside a full-batch solver's iteration to stop it at a non-finite loss."""

    def __init__(self, loss: float, cause: str | None = None) -> None:
        super().__init__(loss)
        self.loss = loss
        self.cause = cause


def dense_data(data: Data, solver: str) -> Data:
    """``data`` with a sparse ``X`` made dense for full-batch solver ``solver``; as it is
    when ``X`` is dense, or for a solver of :data:`SPARSE_SOLVERS` where sparse products
    are faster (:func:`deltarule._sparse.sparse_is_faster`) or the dense ``X`` would not
    fit in memory.

    Raises
    ------
    InputError
        When the dense ``X`` would take more than half the memory available now: the
        message gives its size and suggests a mini-batch optimizer, which takes one batch
        at a time, or fewer features.
    """
    X = data.X
    if not _sparse.is_sparse(X):
        return data
    if solver in SPARSE_SOLVERS and (
        _sparse.sparse_is_faster(X) or not _sparse.fits(X.shape, X.dtype)
    ):
        return data
    return _densified(data, solver)


def _densified(data: Data, solver: str) -> Data:
    advice = (
        "Use a mini-batch optimizer (optimizer='adam' or 'sgd'; solver= in the "
        "scikit-learn estimators), which takes one batch at a time, or fewer "
        "features (e.g. TfidfVectorizer(max_features=...))."
    )
    X = _sparse.densify(data.X, f"the full-batch solver {solver!r} (every row at once)", advice)
    return replace(data, X=X)


def run_solver(
    trainer: Any,
    data: Data,
    val: Data | None,
    state: TrainingState,
    cbs: Sequence[Callback],
    epochs: int,
) -> str:
    net = trainer.network
    if _sparse.is_sparse(data.X) and not _sparse.takes_sparse(net):  # its own forward
        data = _densified(data, trainer.optimizer.name)
    t0 = [time.perf_counter()]

    begin = [True]  # an iteration starts: its first evaluation tells the callbacks

    def objective(params: Array) -> tuple[float, Array]:
        """E and dE/dθ (penalties included, frozen entries zero) at ``params``."""
        if begin[0]:  # (as the loop calls on_epoch_begin before each epoch)
            begin[0] = False
            begin_epoch(state, cbs)
        _, caches = net.forward(data.X, params)
        loss, grad = net.backward(caches, data.y, data.sample_weight, params, out=trainer._grad)
        if trainer.l1 or trainer.l2:
            loss += trainer._penalty(params, grad)
        grad[~net.trainable] = 0
        return loss, grad

    last_good = net.parameters.copy()

    def on_iteration(loss: float, grad: Array) -> str | None:
        """Report one solver iteration (network parameters already updated) as an epoch."""
        if not (math.isfinite(loss) and np.isfinite(net.parameters).all()):
            raise SolverDiverged(loss)
        out = net.forward(data.X)[0] if trainer.metrics else None
        if out is not None and not np.isfinite(out).all():
            cause = f"the outputs overflowed to infinity or NaN (loss {loss:.4g})"
            raise SolverDiverged(loss, cause)
        g = grad.astype(net.dtype, copy=False)
        try:
            record = trainer._record(
                loss, None, np.arange(0), data, val, 0.0, t0[0], float(np.sqrt(g @ g))
            )
        except ValidationDiverged as exc:
            raise SolverDiverged(loss, exc.cause) from None
        np.copyto(last_good, net.parameters)  # (finite in training and validation)
        if out is not None:
            record = replace(record, metrics=trainer._metrics(out, data.y, data.sample_weight))
        t0[0] = time.perf_counter()
        begin[0] = True
        return trainer.end_epoch(record, state, cbs)

    loss, cause = math.nan, None
    try:
        # Overflow is detected (non-finite loss, weights or a singular system) and reported.
        with Interrupt() as interrupt, np.errstate(over="ignore", invalid="ignore"):
            start = net.evaluate_params(net.parameters, data.X, data.y, data.sample_weight)
            if not math.isfinite(start):  # a solver cannot start from an infinite error
                raise SolverDiverged(start)
            reason = trainer.optimizer.run(net, data, objective, on_iteration, epochs, interrupt)
        if np.isfinite(net.parameters).all():
            return reason
    except SolverDiverged as exc:
        loss, cause = exc.loss, exc.cause
    except np.linalg.LinAlgError as exc:
        cause = f"the solver's linear system became singular ({exc})"
    np.copyto(net.parameters, last_good)
    return diverged(loss, trainer.epochs_done + 1, 0.0, cause)
