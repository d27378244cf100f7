r"""The one training loop.

Each epoch runs the delta rule over the data in batches — forward pass, error,
backward pass, update :math:`\theta \leftarrow \theta - \eta\,\partial E/\partial\theta`
(or another optimizer's rule) — and produces one frozen
:class:`~deltarule.history.EpochRecord`. Everything else (printing, stopping
rules, schedules, checkpoints) is a :mod:`callback <deltarule.callbacks>`.

* ``batch_size=1``: online training, one example at a time (the tutorial's pseudocode);
* ``batch_size=B``: mini-batches; ``batch_size=None``: full batch.

Full-batch solvers (L-BFGS, Levenberg–Marquardt) drive their own iterations;
each iteration is reported as one epoch through the same callbacks.

Examples
--------
>>> import numpy as np, deltarule as dr
>>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
>>> y = np.array([[0], [1], [1], [0]], dtype=float)
>>> net = dr.Network([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=1)
>>> history = net.fit(X, y, epochs=2000, batch_size=None, optimizer="adam",
...                   learning_rate=0.05, seed=0, verbose=0)
>>> bool((net.predict(X).round() == y).all())
True
"""

from __future__ import annotations

import copy
import math
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from functools import partial, wraps
from typing import Any

import numpy as np

from . import _minibatch, _sparse
from ._fullbatch import dense_data, run_solver
from ._online import compiled_ok, run_compiled
from ._reports import Interrupt, diverged, user_stacklevel, warn_diverged, warn_if_improving
from ._sampling import Data, class_weights, split
from ._typing import Array, ArrayLike, SeedLike
from ._validation import check_fraction, check_int, check_positive
from .callbacks import (
    AllCorrect,
    Callback,
    EarlyStopping,
    GradientNormBelow,
    LearningRateScheduler,
    ProgressBar,
    ReduceLROnPlateau,
    TargetError,
    TimeLimit,
    TrainingState,
    check_hooks,
    monitor_mode,
)
from .exceptions import DataWarning, InputError
from .history import EpochRecord, History
from .initializers import make_rng
from .layers import DenseBuffers
from .losses import CLASSIFICATION_LOSSES
from .metrics import check_targets, get_metric
from .network import INFER_CHUNK, Network
from .schedules import ReduceOnPlateau, get_schedule
from .solvers import FullBatchSolver, get_first_order, get_solver, refuse_mini_batch_settings

__all__ = ["Trainer", "fit", "CLASSIFICATION_LOSSES"]

COMPILED_RUN_SECONDS = 0.05
"""About how long one compiled run of mini-batch steps lasts (Ctrl-C is seen between runs)."""
FIRST_RUN_STEPS = 4
"""The steps of a compiled kernel's first run (then as :data:`COMPILED_RUN_SECONDS` says)."""


def _callback_list(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a list: None is none, and one callback is a list of one."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    items = list(callbacks) if isinstance(callbacks, (list, tuple)) else None
    if items is None or not all(isinstance(cb, Callback) for cb in items):
        bad = callbacks if items is None else next(c for c in items if not isinstance(c, Callback))
        raise InputError(
            f"callbacks must be a list of deltarule.callbacks.Callback objects; received "
            f"{type(bad).__name__} {bad!r:.60}. Subclass Callback for your own hooks."
        )
    return sorted(items, key=lambda cb: cb.runs_last)  # (stable: the given order otherwise)


def _times(sample_weight: Array | None, class_weight: Array) -> Array:
    return class_weight if sample_weight is None else sample_weight * class_weight


def _require_weight(
    data: Data, val: Data | None, class_weighted: bool, fraction: float | None
) -> None:
    """Raise when every training (or validation) example has weight 0: their weighted mean
    loss is undefined. ``fraction``: the validation_split that made ``val``, if one did."""
    for part, name in ((data, "training"), (val, "validation")):
        if part is None or part.sample_weight is None or part.sample_weight.any():
            continue
        after = " times class_weight" if class_weighted and name == "training" else ""
        held = ""
        if fraction is not None and val is not None:
            n_val = val.X.shape[0]
            held = f", after validation_split={fraction} held out {n_val} of "
            held += f"{n_val + data.X.shape[0]}"
        raise InputError(
            f"every {name} example has weight 0 (sample_weight{after}{held}); expected at "
            "least one with weight > 0 (a weighted mean over weight 0 is undefined). Give "
            "weight to more examples"
            + (", or pass validation_data instead of validation_split." if held else ".")
        )


def _default_rate(optimizer: Any) -> float | None:
    """The learning rate ``optimizer``'s class gives when none is passed, or None."""
    import inspect

    try:
        default = inspect.signature(type(optimizer)).parameters["learning_rate"].default
    except (KeyError, TypeError, ValueError):
        return None
    return float(default) if isinstance(default, (int, float)) else None


def _refuse_rate(optimizer: Any, what: str, given: Any = True) -> None:
    """Refuse ``what`` (a learning rate, schedule or rate callback; when ``given``) for an
    optimizer that sizes its own steps (``step_rule`` set: iRprop, the full-batch solvers),
    which would silently ignore it."""
    rule = getattr(optimizer, "step_rule", None)
    if given is None or rule is None:
        return
    first_step = (
        f" To set its first step size (torch.optim.Rprop's lr), pass get_optimizer("
        f"{optimizer.name!r}, delta_zero=...)."
        if hasattr(optimizer, "delta_zero")
        else ""
    )
    raise InputError(
        f"optimizer {optimizer.name!r} has no learning rate ({rule}), so it would ignore "
        f"{what}. Leave it out, or choose an optimizer with a learning rate (sgd, momentum, "
        f"adam, ...).{first_step}"
    )


class _OptimizerSnapshot:
    """A copy of an optimizer state (its arrays and scalars, not its scratch space), taken
    before each epoch so that a diverged epoch is undone in the optimizer as in the weights:
    momentum, Adam's moments and the step count go back to the last finite epoch (a
    velocity left at 1e19 made the next fit diverge at once, whatever its learning rate).
    The copies are made into buffers kept between epochs: O(parameters) a state array."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.saved = {k: v.copy() if isinstance(v, np.ndarray) else v
                      for k, v in state.items() if k != "scratch"}  # fmt: skip

    def take(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            if key == "scratch":
                continue
            kept = self.saved.get(key)
            if isinstance(value, np.ndarray) and isinstance(kept, np.ndarray):
                np.copyto(kept, value)
            else:
                self.saved[key] = value.copy() if isinstance(value, np.ndarray) else value

    def put(self, state: dict[str, Any]) -> None:
        """Write the snapshot back into ``state``, arrays in place (compiled kernels and the
        training state hold them)."""
        for key, kept in self.saved.items():
            value = state.get(key)
            if isinstance(kept, np.ndarray) and isinstance(value, np.ndarray):
                np.copyto(value, kept)
            else:
                state[key] = kept


def _stop_reason(callback: Callback, reason: Any) -> str | None:
    """A callback's ``on_epoch_end`` answer as a stop reason: a string stops (the reason),
    None or "" goes on; True stops with a reason naming the callback (Keras callbacks set
    ``model.stop_training = True``), False goes on. Anything else is an InputError."""
    if reason is None or isinstance(reason, str):
        return reason or None
    if isinstance(reason, (bool, np.bool_)):
        name = type(callback).__name__
        return f"stopped by {name} (its on_epoch_end returned True)" if reason else None
    raise InputError(
        f"{type(callback).__name__}.on_epoch_end returned {type(reason).__name__} "
        f"{reason!r:.60}; expected None to go on, or a string, the reason to stop (True "
        "also stops). Return e.g. 'target reached' to stop."
    )


def _plateau_callback(
    rule: Any, schedule: Any, monitor: str | None, has_val: bool, metrics: list[str]
) -> ReduceLROnPlateau:
    """The callback that tells the plateau schedule ``rule`` the value it watches each epoch:
    ``monitor`` when given (a plateau given by name takes its mode from it), else the loss
    (mode "min") or the accuracy (mode "max"), of the validation data when there are some."""
    prefix = "val_" if has_val else ""
    if monitor is None:
        if rule.mode == "min":
            monitor = prefix + "loss"
        elif "accuracy" in metrics:
            monitor = prefix + "accuracy"
        else:
            raise InputError(
                f"schedule {rule!r} (mode 'max') lowers the rate when a value that should rise "
                "stops rising; fit cannot tell which (no accuracy is recorded). Pass monitor="
                "'val_accuracy' or another metric given in metrics=[...], or use mode='min' to "
                "watch the loss."
            )
    elif isinstance(schedule, str):  # built by name: its mode is the monitored value's
        rule = get_schedule(schedule, mode=monitor_mode(monitor))
    return ReduceLROnPlateau.from_schedule(rule, monitor)


_TRAINING: set[int] = set()  # id() of each network a fit is training now
_TRAINING_LOCK = threading.Lock()


def _one_fit_per_network(fit: Callable[..., History]) -> Callable[..., History]:
    """Refuse a fit of a network another fit is training (in another thread, or the fit
    whose callback asks): both would update the same weights, and the estimators' records
    would mix two runs."""

    @wraps(fit)
    def guarded(self: Trainer, *args: Any, **kwargs: Any) -> History:
        key = id(self.network)
        with _TRAINING_LOCK:
            if key in _TRAINING:
                raise InputError(
                    "this network is being trained already, by a fit running in another "
                    "thread or by the fit whose callback made this call; expected one fit at "
                    "a time per network. Wait for that fit to end, or train a copy "
                    "(copy.deepcopy(network)) to train two at once."
                )
            _TRAINING.add(key)
        try:
            return fit(self, *args, **kwargs)
        finally:
            with _TRAINING_LOCK:
                _TRAINING.discard(key)

    return guarded


class Trainer:
    """Trains one network; keeps the optimizer state and random streams between calls.

    Parameters
    ----------
    network : Network
    optimizer : str or Optimizer or FullBatchSolver, default "adam"
        A first-order rule from :mod:`deltarule.optimizers`, or "lbfgs" / "lm".
    learning_rate : float, optional
        Base learning rate (the optimizer's default when None). Full-batch solvers
        ("lbfgs", "lm") and iRprop ("irprop_plus", "irprop_minus") size their own steps and
        refuse one (and schedules); iRprop's first step size is its ``delta_zero``.
    batch_size : int or None, default 32
        1 for online training, None for full batch. Full-batch solvers use every
        example in each iteration: leave the default or pass None.
    shuffle : bool
        Reshuffle the examples each epoch (from ``seed``).
    seed : int, Generator or None
        Source of shuffling, dropout and the validation split.
    l2, l1 : float
        Penalties :math:`\\tfrac{\\lambda_2}{2}\\lVert W\\rVert^2 + \\lambda_1 \\lVert W\\rVert_1`
        on weights (not biases), added to each batch's error.
    max_norm : float, optional
        After each update, rescale every neuron's incoming weight vector to norm at most this.
    metrics : sequence of str, optional
        Reported each epoch; default ["accuracy"] for classification losses.
    epoch_loss : {"weighted", "rows"}, default "weighted"
        How an epoch's loss averages its batches' losses (each the weighted mean over its
        batch): weighted by each batch's total sample weight (the weighted mean over every
        example), or by its number of rows (scikit-learn's MLPs' figure). The two differ
        only with sample weights and several batches an epoch.
    """

    epoch_loss: str = "weighted"  # (what trainers pickled before the option was added use)

    def __init__(
        self,
        network: Network,
        optimizer: Any = "adam",
        learning_rate: float | None = None,
        batch_size: int | None = 32,
        shuffle: bool = True,
        seed: SeedLike = None,
        l2: float = 0.0,
        l1: float = 0.0,
        max_norm: float | None = None,
        metrics: Sequence[str] | None = None,
        *,
        epoch_loss: str = "weighted",
    ) -> None:
        if not isinstance(network, Network):
            raise InputError(f"expected a deltarule Network; received {type(network).__name__}.")
        if epoch_loss not in ("weighted", "rows"):
            raise InputError(
                f"epoch_loss must be 'weighted' or 'rows'; received {epoch_loss!r}. Leave "
                "the default 'weighted' unless you need scikit-learn's per-row figure."
            )
        self.epoch_loss = epoch_loss
        self.network = network
        self.batch_size = None if batch_size is None else check_int(batch_size, "batch_size")
        self.shuffle = bool(shuffle)
        self.l2 = check_positive(l2, "l2", allow_zero=True)
        self.l1 = check_positive(l1, "l1", allow_zero=True)
        self.max_norm = None if max_norm is None else check_positive(max_norm, "max_norm")
        if learning_rate is not None:
            check_positive(learning_rate, "learning_rate")
        solver = get_solver(optimizer)
        if solver is not None:
            # (32 is batch_size's default here and in fit: an explicit 32 looks the same)
            refuse_mini_batch_settings(solver, learning_rate, self.batch_size, 32)
            self.optimizer: Any = solver
            self.optimizer_state: dict = {}
        else:
            own = (
                None
                if getattr(optimizer, "step_rule", None)
                else getattr(optimizer, "learning_rate", None)
            )  # (iRprop's ignored one: refused below as any rate given to it)
            if (
                not isinstance(optimizer, str)
                and None not in (learning_rate, own)
                and float(learning_rate) != float(own)
                and float(own) != _default_rate(optimizer)  # (set by its maker: a conflict)
            ):
                raise InputError(
                    f"the optimizer object given has its own learning rate ({own:g}) and "
                    f"learning_rate={learning_rate!r} was given too; expected one of them. "
                    f"Leave learning_rate out, or build the optimizer with it "
                    f"(get_optimizer({optimizer.name!r}, learning_rate={learning_rate!r}))."
                )
            by_name = isinstance(optimizer, str) and learning_rate is not None
            kwargs = {"learning_rate": learning_rate} if by_name else {}
            self.optimizer = get_first_order(optimizer, **kwargs)
            _refuse_rate(self.optimizer, f"learning_rate={learning_rate!r}", learning_rate)
            self.optimizer_state = self.optimizer.init(network.parameters)
        # The rate handed to the next update (schedules and plateau callbacks change it);
        # 0 for an optimizer that sizes its own steps (iRprop, the solvers: it refuses
        # one given, above), so the History and the hints never quote an ignored rate.
        own_steps = getattr(self.optimizer, "step_rule", None) is not None
        default = 0.0 if own_steps else float(getattr(self.optimizer, "learning_rate", 0.0) or 0.0)
        self.learning_rate = default if learning_rate is None else float(learning_rate)
        # What schedules scale, in every fit: the rate the trainer was built with (a later
        # fit continues the schedule rather than scaling the last fit's scaled rate).
        self.base_learning_rate = self.learning_rate
        classification = network.loss.name in CLASSIFICATION_LOSSES
        if isinstance(metrics, str):  # one name, not its letters
            metrics = [metrics]
        names = list(metrics) if metrics is not None else (["accuracy"] if classification else [])
        self.metrics = [get_metric(m) for m in names]
        self.classification = classification
        rng = make_rng(seed)
        self._shuffle_rng, self._dropout_rng, self._split_rng = rng.spawn(3)
        self.epochs_done = 0
        self.planned_epochs = 0  # epochs_done + the epochs the current fit asks for
        self._running: TrainingState | None = None  # the current fit's state, during a fit
        self._grad = network.layout.allocate(network.dtype)
        self._grad_sum = network.layout.allocate(network.dtype)
        self._grad_tmp = network.layout.allocate(network.dtype)
        self._weight_mask = network.weight_mask.astype(network.dtype)
        self._layer_buffers: list[DenseBuffers] | None = None
        self._buffers: tuple[Array, Array] | None = None
        self._minibatch: _minibatch.MinibatchKernel | None = None

    # -------------------------------------------------------------- checkpoints
    def checkpoint_state(self) -> tuple[dict[str, Array], dict[str, Any]]:
        """Return what resuming needs: optimizer state tensors and plain JSON-able data.

        Returns
        -------
        tensors : dict of str to ndarray
            ``optimizer.<name>`` for each array of the optimizer state.
        meta : dict
            Optimizer config and scalar state, epochs done, learning rate, the
            random streams' states and the trainer's settings.

        During a fit (a checkpoint callback) the learning rate is the one the next epoch
        will use, as the callbacks have set it so far (a plateau's reduced rate, say).
        """
        tensors = {  # scratch buffers hold no state worth keeping
            f"optimizer.{k}": v
            for k, v in self.optimizer_state.items()
            if isinstance(v, np.ndarray) and k != "scratch"
        }
        scalars = {k: v for k, v in self.optimizer_state.items() if not isinstance(v, np.ndarray)}
        rngs = (self._shuffle_rng, self._dropout_rng, self._split_rng)
        meta = {
            "optimizer": self.optimizer.config(),
            "optimizer_scalars": scalars,
            "epochs_done": self.epochs_done,
            "learning_rate": (
                self.learning_rate if self._running is None else self._running.learning_rate
            ),
            "base_learning_rate": self.base_learning_rate,
            "rng": [r.bit_generator.state for r in rngs],
            "settings": {
                "batch_size": self.batch_size,
                "shuffle": self.shuffle,
                "l2": self.l2,
                "l1": self.l1,
                "max_norm": self.max_norm,
                "metrics": [m.name for m in self.metrics],
                # (only when not the default: checkpoints written before it lack it)
                **({"epoch_loss": self.epoch_loss} if self.epoch_loss != "weighted" else {}),
            },
        }
        return tensors, meta

    def restore_state(self, tensors: dict[str, Array], meta: dict[str, Any]) -> Trainer:
        """Resume from :meth:`checkpoint_state` output (same network layout); returns self."""
        state = self.optimizer.init(self.network.parameters) if self.optimizer_state else {}
        for key in list(state):
            if isinstance(state[key], np.ndarray) and key != "scratch":
                saved = tensors.get(f"optimizer.{key}")
                if saved is None or saved.shape != state[key].shape:
                    raise InputError(
                        f"the checkpoint lacks optimizer state {key!r} of shape "
                        f"{state[key].shape}; it was written for another optimizer or network."
                    )
                if not np.isfinite(saved).all():
                    raise InputError(
                        f"the checkpoint's optimizer state {key!r} holds NaN or infinity; "
                        "a checkpoint keeps a finite state (a diverged epoch is undone), so "
                        "it is damaged. Start the run again."
                    )
                state[key][...] = saved
        scalars = meta.get("optimizer_scalars", {})
        known = {k for k, v in state.items() if not isinstance(v, np.ndarray)}
        for key, value in scalars.items():
            if key not in known or (
                isinstance(value, float) and not math.isfinite(value)
            ):  # (an unknown key could replace a moment array with a number)
                raise InputError(
                    f"the checkpoint's optimizer scalar {key!r} = {value!r} is not one of "
                    f"{self.optimizer.name!r}'s ({', '.join(sorted(known)) or 'none'}) or not "
                    "finite; it was written for another optimizer, or is damaged."
                )
        state.update(scalars)
        self.optimizer_state = state
        self.epochs_done = int(meta["epochs_done"])
        self.learning_rate = float(meta["learning_rate"])
        self.base_learning_rate = float(meta.get("base_learning_rate", self.base_learning_rate))
        for rng, saved in zip((self._shuffle_rng, self._dropout_rng, self._split_rng), meta["rng"]):
            rng.bit_generator.state = saved
        return self

    # ----------------------------------------------------------------- batches
    def _penalty(self, params: Array, grad: Array) -> float:
        extra = 0.0
        if self.l2:
            w = params * self._weight_mask
            extra += 0.5 * self.l2 * float(w @ w)
            grad += self.l2 * w
        if self.l1:
            w = params * self._weight_mask
            extra += self.l1 * float(np.abs(w).sum())
            grad += self.l1 * np.sign(w)
        return extra

    def _apply_max_norm(self) -> None:
        for weight in self.network.weights:
            norms = np.sqrt((weight * weight).sum(axis=1, keepdims=True))
            np.multiply(weight, np.minimum(1, self.max_norm / np.maximum(norms, 1e-12)), out=weight)

    def _step(
        self, xb: Array, yb: Array, swb: Array | None, lr: float, total: Array | None = None
    ) -> tuple[float, Array]:
        """One forward/backward/update on a batch; returns (loss, output).

        With ``total``, the update also adds the batch gradient to it.
        """
        net = self.network
        params, grad = net.parameters, self._grad
        dropout = self._dropout_rng if self._has_dropout else None
        buffers = self._layer_buffers
        output, caches = net.forward(xb, rng=dropout, buffers=buffers)
        loss, _ = net.backward(caches, yb, swb, out=grad, buffers=buffers)
        if self.l1 or self.l2:
            loss += self._penalty(params, grad)
        if not math.isfinite(loss):
            return loss, output
        frozen = self._frozen
        if frozen is not None:
            grad[frozen] = 0
            kept = params[frozen]  # fancy indexing: a copy
        if total is None:
            self.optimizer.update(params, grad, self.optimizer_state, lr, loss)
        else:
            opt, state = self.optimizer, self.optimizer_state
            opt.update_and_accumulate(params, grad, state, lr, loss, total)
        if self.max_norm is not None:
            self._apply_max_norm()
        if frozen is not None:  # after max-norm too: frozen tensors never change
            params[frozen] = kept
        return loss, output

    def _batch_buffers(self, data: Data, size: int) -> tuple[Array, Array]:
        """Reused buffers that shuffled batches, and every batch of sparse data, are
        gathered into (no per-epoch data copy; sparse rows made dense there)."""
        shapes = ((size, data.X.shape[1]), (size, data.y.shape[1]))
        buffers = self._buffers
        if buffers is None or (buffers[0].shape, buffers[1].shape) != shapes:
            dtype = self.network.dtype
            if _sparse.is_sparse(data.X):
                _sparse.check_dense_size(
                    shapes[0], dtype, f"a batch of {size:,} rows",
                    "Train in smaller batches (batch_size=32, say), or with fewer features.",
                )  # fmt: skip
            buffers = self._buffers = (np.empty(shapes[0], dtype), np.empty(shapes[1], dtype))
        return buffers

    def _epoch(
        self, data: Data, lr: float, interrupt: Interrupt
    ) -> tuple[float, Any, Array, float]:
        """Run one epoch; returns (mean loss, outputs in visiting order or None, order,
        norm of the epoch's mean gradient)."""
        n = data.X.shape[0]
        bs = n if self.batch_size is None else min(self.batch_size, n)
        shuffled = self.shuffle and bs < n  # a full batch's gradient does not depend on order
        order = self._shuffle_rng.permutation(n) if shuffled else np.arange(n)
        outputs = (
            np.empty((n, self.network.n_outputs), self.network.dtype) if self.metrics else None
        )
        self._grad_sum.fill(0)
        self._has_dropout = any(layer.dropout for layer in self.network.layers)
        frozen = np.flatnonzero(~self.network.trainable)
        self._frozen = frozen if frozen.size else None
        kernel = None
        if data.sample_weight is None and self._frozen is None and _minibatch.plain_arrays(data):
            kernel = _minibatch.kernel_for(self, n, bs, shuffled)
        if kernel is not None:  # every step of the epoch in compiled runs of steps
            visit = order if shuffled else None
            seen, loss_sum = self._compiled_steps(kernel, data, visit, lr, outputs, interrupt)
            weight_sum = loss_weight = float(seen)
        else:
            seen, loss_sum, weight_sum, loss_weight = self._plain_steps(
                data, order, bs, shuffled, lr, outputs, interrupt
            )
        self._grad_sum *= self._grad_sum.dtype.type(bs / max(weight_sum, 1e-300))
        kept = outputs[:seen] if outputs is not None else None
        norm = float(np.sqrt(self._grad_sum @ self._grad_sum))
        return loss_sum / max(loss_weight, 1e-300), kept, order[:seen], norm

    def _plain_steps(
        self,
        data: Data,
        order: Array,
        bs: int,
        shuffled: bool,
        lr: float,
        outputs: Array | None,
        interrupt: Interrupt,
    ) -> tuple[int, float, float, float]:
        """Run the epoch's batches one :meth:`_step` at a time.

        Returns (examples seen, sum of batch losses times their shares, sum of batch
        weights, sum of shares), a batch's share of the epoch's loss being its weight
        (``epoch_loss="weighted"``) or its number of rows (``"rows"``); a non-finite loss or
        Ctrl-C ends the epoch early.
        """
        n = data.X.shape[0]
        sparse = _sparse.is_sparse(data.X)  # its batches made dense in the buffers
        xbuf, ybuf = self._batch_buffers(data, bs) if shuffled or sparse else (None, None)
        if self._layer_buffers is None or self._layer_buffers[0].net.shape[0] != bs:
            self._layer_buffers = self.network.buffers(bs)  # reused by a fit's epochs
        by_rows = self.epoch_loss == "rows"
        loss_sum = weight_sum = share_sum = 0.0
        seen = 0
        for start in range(0, n, bs):
            seen = min(start + bs, n)
            idx = order[start:seen]
            if xbuf is None:
                xb, yb = data.X[start:seen], data.y[start:seen]
            else:  # gather the shuffled (or sparse) batch into the reused buffers
                if sparse:
                    xb = _sparse.take_rows(data.X, idx, xbuf)
                else:
                    xb = np.take(data.X, idx, axis=0, out=xbuf[: seen - start], mode="clip")
                yb = np.take(data.y, idx, axis=0, out=ybuf[: seen - start], mode="clip")
            swb = None if data.sample_weight is None else data.sample_weight[idx]
            weight = float(seen - start) if swb is None else float(swb.sum())
            if weight == 0.0:  # a batch of weight 0 teaches nothing: no update, as if absent
                if outputs is not None:
                    outputs[start:seen] = self.network.forward(xb)[0]
                if interrupt.requested:
                    break
                continue
            # grad_sum += (weight / bs) * grad: by the update itself for every full batch
            # of weight bs (fused into one pass where the optimizer can), else below
            whole = weight == bs
            loss, out = self._step(xb, yb, swb, lr, self._grad_sum if whole else None)
            share = float(seen - start) if by_rows else weight
            loss_sum += loss * share
            weight_sum += weight
            share_sum += share
            if not math.isfinite(loss):
                break
            if not whole:
                np.multiply(self._grad, self._grad.dtype.type(weight / bs), out=self._grad_tmp)
                np.add(self._grad_sum, self._grad_tmp, out=self._grad_sum)
            if outputs is not None:
                outputs[start:seen] = out
            if interrupt.requested:
                break
        return seen, loss_sum, weight_sum, share_sum

    def _compiled_steps(
        self,
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
        while done < n_steps:
            size = min(run, n_steps - done)
            t0 = time.perf_counter()
            losses, updates = kernel.run(
                self, data.X, data.y, order, done * bs, size, lr, outputs, self._grad_sum
            )
            seconds = time.perf_counter() - t0
            for loss in losses.tolist():
                loss_sum += loss * float(min(bs, n - done * bs))
                done += 1
            if updates < len(losses) or interrupt.requested:
                break
            whole = seconds * run / size  # a whole run's time (a shorter last one's rate)
            if whole < COMPILED_RUN_SECONDS / 2:
                run *= 2
            elif whole > 2 * COMPILED_RUN_SECONDS and run > 1:
                run //= 2
        kernel.run_steps = run
        return min(done * bs, n), loss_sum

    # ------------------------------------------------------------------ epochs
    def _metrics(self, output: Array | None, target: Array, sw: Array | None) -> dict[str, float]:
        if output is None or output.shape[0] == 0:
            return {}
        return {m.name: float(m.function(output, target, sw)) for m in self.metrics}

    def _validate(self, val: Data | None) -> tuple[float | None, dict[str, float]]:
        if val is None:
            return None, {}
        net = self.network
        with _minibatch.keep_blas_asleep(self):
            if _sparse.is_sparse(val.X):  # in chunks of dense rows; error() reads the last cache
                last = _sparse.output_cache(net, val.X, most=INFER_CHUNK)
                output, caches = last.out, [last]
            else:
                output, caches = net.forward(val.X)
        loss = net.error(caches, val.y, val.sample_weight)
        return loss, self._metrics(output, val.y, val.sample_weight)

    def _record(
        self,
        loss: float,
        output: Any,
        order: Array,
        data: Data,
        val: Data | None,
        lr: float,
        t0: float,
        gradient_norm: float,
    ) -> EpochRecord:
        sw = None if data.sample_weight is None else data.sample_weight[order]
        metrics = self._metrics(output, data.y[order], sw) if output is not None else {}
        val_loss, val_metrics = self._validate(val)
        self.epochs_done += 1
        return EpochRecord(
            epoch=self.epochs_done,
            loss=float(loss),
            val_loss=val_loss,
            metrics=metrics,
            val_metrics=val_metrics,
            learning_rate=lr,
            gradient_norm=gradient_norm,
            seconds=time.perf_counter() - t0,
        )

    def _prepare(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: Any,
        class_weight: Any,
        validation_split: float,
        validation_data: Any,
    ) -> tuple[Data, Data | None]:
        if y is None:
            raise InputError("y is None; training needs targets of shape (n_samples, n_outputs).")
        X, y, sw = self.network.validate(X, y, sample_weight, accept_sparse=True)
        # class_weight weighs the training examples only (as in Keras); the validation
        # loss is class-weighted neither with validation_data nor with validation_split,
        # whose held-out rows keep their sample_weight (as scikit-learn's early stopping).
        cw = None
        if class_weight is not None:
            cw = class_weights(y, class_weight).astype(self.network.dtype)
        data, val = Data(X, y, sw if cw is None else _times(sw, cw)), None
        if validation_data is not None:
            if validation_split:
                raise InputError("give validation_split or validation_data, not both.")
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3)):
                raise InputError(
                    f"validation_data must be (X_val, y_val) or (X_val, y_val, sample_weight_val); "
                    f"received {type(validation_data).__name__} {validation_data!r:.80}."
                )
            Xv, yv, *rest = validation_data
            if yv is None:
                raise InputError("validation_data has y_val None; pass (X_val, y_val).")
            names = ("X_val", "y_val", "sample_weight_val")  # what errors call them
            Xv, yv, swv = self.network.validate(
                Xv, yv, rest[0] if rest else None, names, accept_sparse=True
            )
            val = Data(Xv, yv, swv)
        elif check_fraction(validation_split, "validation_split") > 0:
            # A copy: every call (warm starts, resumed runs) holds out the same rows.
            split_rng = copy.deepcopy(self._split_rng)
            if cw is None:
                data, val = split(data, validation_split, split_rng, self.classification)
            else:  # the same rows (the split reads y alone), weighted apart
                rows = Data(np.arange(X.shape[0]).reshape(-1, 1), y, None)
                kept, held_out = (
                    part.X[:, 0] for part in split(rows, validation_split, split_rng,
                                                   self.classification)
                )  # fmt: skip
                data = Data(X[kept], y[kept], data.sample_weight[kept])
                val = Data(X[held_out], y[held_out], None if sw is None else sw[held_out])
        held = None if validation_data is not None or val is None else validation_split
        _require_weight(data, val, class_weight is not None, held)
        return data, val

    @_one_fit_per_network
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        *,
        epochs: int = 200,
        sample_weight: ArrayLike | None = None,
        class_weight: Any = None,
        validation_split: float = 0.0,
        validation_data: tuple | None = None,
        callbacks: Sequence[Callback] = (),
        verbose: int = 1,
        warn_convergence: bool = True,
        warn_divergence: bool = True,
    ) -> History:
        """Train for up to ``epochs`` epochs; returns the :class:`History` of this call.

        Stops early when a callback says so; the reason is ``history.stop_reason``.
        ``warn_convergence``: warn (:class:`~deltarule.exceptions.ConvergenceWarning`)
        when the epoch limit stops a run whose loss was still falling;
        ``warn_divergence``: warn when training diverges (either way the stop reason says
        so). Turning one off installs no warning filter, so it is safe in threads.
        Ctrl-C stops cleanly after the current batch (compiled steps: after the current run
        of steps, about :data:`COMPILED_RUN_SECONDS`).

        An epoch whose loss, weights or outputs become non-finite (divergence) is undone:
        the weights and the optimizer state (momentum, Adam's moments, the step count) go
        back to the end of the last finite epoch, so a later fit, say with a lower learning
        rate, continues from there. (The full-batch solvers keep no state between fits;
        their weights go back alike.)
        """
        epochs = check_int(epochs, "epochs")
        if verbose == "auto":  # Keras's default: a bar
            verbose = 1
        if isinstance(verbose, str) or verbose not in (0, 1, 2):  # (True and False are 1, 0)
            raise InputError(
                f"verbose must be 0 (silent), 1 (a progress bar on a terminal) or 2 (a line "
                f"per epoch); received {verbose!r}."
            )
        self._check_solver_settings()
        self.planned_epochs = self.epochs_done + epochs
        data, val = self._prepare(
            X, y, sample_weight, class_weight, validation_split, validation_data
        )
        if isinstance(self.optimizer, FullBatchSolver):  # every row at once: sparse X dense
            data = dense_data(data, self.optimizer.name)
        self._check_metric_tasks(data.y)
        self._warn_if_weights_cancel(data.sample_weight)
        state = TrainingState(
            self.network,
            self.optimizer,
            self.optimizer_state,
            self.learning_rate,
            self.base_learning_rate,
            self.epochs_done + epochs,
            data.X,
            data.y,
            data.sample_weight,
            None if val is None else val.X,
            None if val is None else val.y,
            self.epochs_done,
            trainer=self,
        )
        cbs = [*_callback_list(callbacks), ProgressBar(verbose)]
        check_hooks(cbs)
        changer = next(
            (cb for cb in cbs if isinstance(cb, (LearningRateScheduler, ReduceLROnPlateau))), None
        )
        if changer is not None:
            _refuse_rate(self.optimizer, f"the learning rate {type(changer).__name__} sets")
        state.callbacks = cbs
        for cb in cbs:
            cb.on_train_begin(state)
        if isinstance(self.optimizer, FullBatchSolver):
            run = partial(run_solver, self)
        elif not _sparse.is_sparse(data.X) and compiled_ok(self, data, val, cbs):
            run = partial(run_compiled, self)
        else:
            run = self._run_epochs
        self._running = state
        try:
            reason = run(data, val, state, cbs, epochs)
        except BaseException:
            state.history.stop_reason = "stopped by an error"
            for cb in cbs:
                cb.on_train_end(state.history, state)
            raise
        finally:
            # batch-sized: not kept between fits
            self._layer_buffers = self._buffers = self._minibatch = None
            self._running = None
        self.learning_rate = state.learning_rate
        state.history.stop_reason = reason
        for cb in cbs:
            cb.on_train_end(state.history, state)
        if warn_convergence and reason.startswith("max epochs"):
            watched = any(isinstance(cb, EarlyStopping) for cb in cbs)
            warn_if_improving(state.history, state.learning_rate, early_stopping=watched)
        if warn_divergence:
            warn_diverged(reason)
        return state.history

    def _warn_if_weights_cancel(self, weights: Array | None) -> None:
        """Warn that sample or class weights change nothing in batches of one row (each
        batch's error is the weighted mean of its rows: one row's weight divides out)."""
        if self.batch_size != 1 or weights is None or np.ptp(weights) == 0:
            return
        warnings.warn(
            "sample_weight (or class_weight) has no effect with batch_size=1: each batch's "
            "error is the weighted mean of its rows, so one row's weight divides out (as in "
            "scikit-learn's MLP). Train in batches of several rows (batch_size=32, or None for "
            "every row) for the weights to count.",
            DataWarning,
            stacklevel=user_stacklevel(),
        )

    def _check_metric_tasks(self, y: Array) -> None:
        """Refuse metrics that cannot score ``y`` (:func:`deltarule.metrics.check_targets`)."""
        check_targets(self.metrics, y, self.classification)

    def _check_solver_settings(self) -> None:
        """Refuse what a full-batch solver would silently leave out of its iterations."""
        solver = self.optimizer
        if not isinstance(solver, FullBatchSolver):
            return
        ignored = []
        if self.max_norm is not None:
            ignored.append("max_norm")
        if any(layer.dropout for layer in self.network.layers):
            ignored.append("dropout (a random objective)")
        if solver.name == "lm" and (self.l1 or self.l2):
            ignored.append("l1/l2 (its steps solve for the squared error alone)")
        if ignored:
            raise InputError(
                f"optimizer {solver.name!r} cannot apply {', '.join(ignored)}; expected a "
                "first-order optimizer (sgd, momentum, adam, ...) for these settings"
                + (", or l2 with 'lbfgs'." if solver.name == "lm" and self.l2 else ".")
                + " Remove them or choose another optimizer."
            )

    def end_epoch(
        self, record: EpochRecord, state: TrainingState, cbs: Sequence[Callback]
    ) -> str | None:
        state.history.append(record)
        state.epoch = record.epoch
        reasons = [_stop_reason(cb, cb.on_epoch_end(record, state)) for cb in cbs]
        return next((r for r in reasons if r), None)

    def _run_epochs(
        self,
        data: Data,
        val: Data | None,
        state: TrainingState,
        cbs: Sequence[Callback],
        epochs: int,
        epoch: Callable[[Data, float, Interrupt], tuple[float, Any, Array, float]] | None = None,
    ) -> str:
        """The epoch loop; ``epoch`` runs one epoch (default :meth:`_epoch`)."""
        run_epoch = self._epoch if epoch is None else epoch
        net = self.network
        last_good = net.parameters.copy()
        last_state = _OptimizerSnapshot(self.optimizer_state)
        # Overflow is detected below (non-finite loss or weights) and reported with a hint.
        with Interrupt() as interrupt, np.errstate(over="ignore", invalid="ignore"):
            for _ in range(epochs):
                for cb in cbs:
                    cb.on_epoch_begin(state)
                lr, t0 = state.learning_rate, time.perf_counter()
                np.copyto(last_good, net.parameters)
                last_state.take(self.optimizer_state)
                loss, output, order, norm = run_epoch(data, lr, interrupt)
                finite = math.isfinite(loss) and np.isfinite(net.parameters).all()
                cause = None
                if finite and output is not None and not np.isfinite(output).all():
                    cause = f"the outputs overflowed to infinity or NaN (loss {loss:.4g})"
                if not finite or cause:  # (a clipped loss: finite, of non-finite outputs)
                    np.copyto(net.parameters, last_good)
                    last_state.put(self.optimizer_state)
                    return diverged(loss, self.epochs_done + 1, lr, cause)
                if interrupt.requested and len(order) < data.X.shape[0]:
                    # A partial epoch gets no record (and so no checkpoint): the history
                    # and any checkpoint end at the last complete epoch.
                    return (
                        f"interrupted ({interrupt.signal}) during epoch {self.epochs_done + 1}, "
                        f"after {len(order)} of {data.X.shape[0]} examples"
                    )
                record = self._record(loss, output, order, data, val, lr, t0, norm)
                reason = self.end_epoch(record, state, cbs)
                if interrupt.requested:
                    return f"interrupted ({interrupt.signal}) after epoch {record.epoch}"
                if reason:
                    return reason
        return f"max epochs ({state.max_epochs}) reached"

    def partial_fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> EpochRecord:
        """One pass over the given data, continuing the optimizer state; returns its record."""
        if isinstance(self.optimizer, FullBatchSolver):
            raise InputError(
                f"partial_fit makes one pass of a first-order optimizer over the data; "
                f"optimizer {self.optimizer.name!r} runs whole solves. Use fit, or a "
                "first-order optimizer (sgd, momentum, adam, ...) for incremental training."
            )
        history = self.fit(
            X, y, epochs=1, sample_weight=sample_weight, verbose=0, warn_convergence=False
        )
        if not history.records:
            raise InputError(f"partial_fit made no update: {history.stop_reason}")
        return history.records[-1]


def _differs(value: Any, default: Any) -> bool:
    try:
        return bool(value != default)
    except (TypeError, ValueError):  # an array, say: not the default
        return True


def _refuse_idle_stopping_settings(
    early_stopping: bool,
    plateau: bool,
    patience: Any,
    monitor: Any,
    min_delta: Any,
    restore_best_weights: Any,
) -> None:
    """Refuse early stopping's settings given without ``early_stopping=True`` (``monitor``
    also serves a plateau schedule): they would do nothing."""
    if early_stopping:
        return
    idle = [
        f"{name}={value!r}"
        for name, value, default in (
            ("patience", patience, 10),
            ("min_delta", min_delta, 0.0),
            ("restore_best_weights", restore_best_weights, True),
            ("monitor", None if plateau else monitor, None),
        )
        if _differs(value, default)
    ]
    if idle:
        one = len(idle) == 1
        raise InputError(
            f"{', '.join(idle)} {'sets' if one else 'set'} early stopping, which is off "
            f"(early_stopping=False), so {'it' if one else 'they'} would do nothing. Pass "
            f"early_stopping=True to stop early, or leave {'it' if one else 'them'} out."
        )


def fit(
    network: Network,
    X: ArrayLike,
    y: ArrayLike,
    *,
    epochs: int = 200,
    batch_size: int | None = 32,
    optimizer: Any = "adam",
    learning_rate: float | None = None,
    schedule: Any = None,
    shuffle: bool = True,
    seed: SeedLike = None,
    sample_weight: ArrayLike | None = None,
    class_weight: Any = None,
    validation_split: float = 0.0,
    validation_data: tuple | None = None,
    l2: float = 0.0,
    l1: float = 0.0,
    max_norm: float | None = None,
    metrics: Sequence[str] | None = None,
    target_error: float | None = None,
    stop_when_all_correct: bool = False,
    min_gradient_norm: float | None = None,
    early_stopping: bool = False,
    patience: int = 10,
    monitor: str | None = None,
    min_delta: float = 0.0,
    restore_best_weights: bool = True,
    time_limit: float | None = None,
    callbacks: Sequence[Callback] = (),
    verbose: int = 1,
) -> History:
    """Train ``network`` in place by backpropagation; returns its :class:`History`.

    Each call trains with a new :class:`Trainer`: the optimizer's state (momentum, Adam's
    moments), the schedule, the shuffling stream and the epoch numbering start afresh, as in
    scikit-learn's ``fit`` (Keras's ``model.fit`` continues the optimizer's state instead).
    To continue a run, keep a ``Trainer(network, ...)`` and call its ``fit`` again: its
    second call continues the first exactly (epochs numbered on).

    Parameters
    ----------
    network : Network
    X : array-like or scipy sparse matrix of shape (n_samples, n_inputs)
        A sparse ``X`` (any scipy.sparse format) stays sparse (CSR): each batch is made
        dense as it is trained on, in the plain step (the compiled kernels take dense
        arrays), with the weights a dense ``X`` gives; "lbfgs" and "lm" make it dense
        whole, refusing (:class:`~deltarule.exceptions.InputError`) when it would take
        more than half the memory available. Callbacks see the CSR matrix as
        ``TrainingState.X`` (the dense one with "lbfgs" and "lm").
    y : array-like of shape (n_samples, n_outputs)
    epochs : int
        Maximum number of passes over the data.
    batch_size : int or None
        1 = online (one example at a time), None = full batch (what "lbfgs" and "lm"
        always use: leave the default or pass None with them).
    optimizer, learning_rate, shuffle, seed, l2, l1, max_norm, metrics
        See :class:`Trainer`.
    schedule : str or Schedule, optional
        Learning-rate schedule (:mod:`deltarule.schedules`), applied per epoch
        (optimizers with a learning rate only: the full-batch solvers and iRprop have none).
        A plateau schedule restarts its counters at each fit, from the rate the fit starts
        with.
    sample_weight : array-like of shape (n_samples,), optional
        Non-negative weights: each batch's error is the weighted mean of its examples'
        errors (as scikit-learn's MLP weighs them; Keras divides the weighted sum by the
        batch's size instead). So weights act within a batch: with ``batch_size=1`` they
        change nothing (warned), and scaling every weight by one factor changes nothing.
        A batch whose examples all have weight 0 makes no update.
    class_weight : dict or "balanced", optional
        Weights by class index (column of the one-hot target), of the training examples
        only (as in Keras): the validation loss and metrics are not class-weighted.
        "balanced" counts the classes over every row given, held-out rows included.
    validation_split : float
        Fraction held out for validation: rows drawn at random from ``seed`` (stratified
        for classification), whatever ``shuffle`` says — not the last rows as in Keras
        (for time series, pass the last rows as ``validation_data``). The held-out
        rows keep their ``sample_weight`` in the validation loss and metrics (as
        scikit-learn's early stopping scores them).
    validation_data : (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
        ``X_val`` may be sparse too (scored a chunk of dense rows at a time).
    target_error : float, optional
        Stop when the training error is at most this (the tutorial's rule).
    stop_when_all_correct : bool
        Stop when every training example is classified correctly. Needs class targets (a
        classification loss, or one-hot / 0-1 targets); regression targets raise
        :class:`~deltarule.exceptions.InputError` (stop with ``target_error`` or
        ``early_stopping`` instead).
    min_gradient_norm : float, optional
        Stop when the epoch's gradient norm is below this (R neuralnet's ``threshold``).
    early_stopping : bool
        Stop when ``monitor`` (val_loss if there is validation, else loss) has not improved
        by ``min_delta`` for ``patience`` epochs; restores the best weights (unless
        ``restore_best_weights=False``).
    patience, min_delta, restore_best_weights
        Early stopping's settings (:class:`~deltarule.callbacks.EarlyStopping`); given
        without ``early_stopping=True`` they raise :class:`~deltarule.exceptions.InputError`
        (they would do nothing).
    monitor : str, optional
        The recorded value early stopping and a plateau ``schedule`` watch (e.g.
        "val_accuracy"). Default: val_loss with validation data, else loss; for a plateau
        schedule of mode "max", the accuracy. A plateau given by name ("plateau") takes its
        mode from ``monitor``; a :class:`~deltarule.schedules.ReduceOnPlateau` whose mode
        contradicts it is an error.
    time_limit : float, optional
        Seconds of wall-clock time.
    callbacks : sequence of Callback, or one Callback
    verbose : int
        0 silent, 1 progress bar (plain lines when not a terminal), 2 plain lines.

    Returns
    -------
    History
    """
    trainer = Trainer(
        network, optimizer, learning_rate, batch_size, shuffle, seed, l2, l1, max_norm, metrics
    )
    has_val = bool(validation_split) or validation_data is not None
    stops: list[Callback] = []
    if schedule is not None and isinstance(trainer.optimizer, FullBatchSolver):
        raise InputError(
            f"optimizer {trainer.optimizer.name!r} has no learning rate for schedule="
            f"{schedule!r:.60} to change ({trainer.optimizer.step_rule}); expected schedule="
            "None with a full-batch solver. Leave schedule out, or choose a first-order "
            "optimizer (sgd, momentum, adam, ...)."
        )
    _refuse_rate(trainer.optimizer, f"schedule={schedule!r:.60}", schedule)
    rule = None if schedule is None else get_schedule(schedule)
    plateau = isinstance(rule, ReduceOnPlateau)
    _refuse_idle_stopping_settings(
        early_stopping, plateau, patience, monitor, min_delta, restore_best_weights
    )
    if plateau:  # told the monitored value after each epoch
        names = [metric.name for metric in trainer.metrics]
        stops.append(_plateau_callback(rule, schedule, monitor, has_val, names))
    elif rule is not None:
        stops.append(LearningRateScheduler(rule))
    if target_error is not None:
        stops.append(TargetError(check_positive(target_error, "target_error", allow_zero=True)))
    if stop_when_all_correct:
        stops.append(AllCorrect())
    if min_gradient_norm is not None:
        stops.append(GradientNormBelow(check_positive(min_gradient_norm, "min_gradient_norm")))
    if early_stopping:
        watched = monitor or ("val_loss" if has_val else "loss")
        stops.append(
            EarlyStopping(watched, patience, min_delta, restore_best_weights=restore_best_weights)
        )
    if time_limit is not None:
        stops.append(TimeLimit(check_positive(time_limit, "time_limit")))
    return trainer.fit(
        X,
        y,
        epochs=epochs,
        sample_weight=sample_weight,
        class_weight=class_weight,
        validation_split=validation_split,
        validation_data=validation_data,
        callbacks=[*stops, *_callback_list(callbacks)],
        verbose=verbose,
    )
