"""A trainer's resumable state: what a checkpoint keeps of it, and taking it back.

:func:`checkpoint_state` splits a :class:`~deltarule.training.Trainer`'s state into the
optimizer's arrays (named tensors, for the model file) and plain JSON-able data (the
optimizer's config and scalars, the epochs done, the learning rates, the random streams'
states and the trainer's settings); :func:`restore_state` writes them back, refusing a state
written for another optimizer or network, or damaged (not finite).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._typing import Array
from .exceptions import InputError

__all__ = ["checkpoint_state", "restore_state"]


def checkpoint_state(trainer: Any) -> tuple[dict[str, Array], dict[str, Any]]:
    """(tensors, meta) of ``trainer``: :meth:`Trainer.checkpoint_state
    <deltarule.training.Trainer.checkpoint_state>`."""
    tensors = {  # scratch buffers hold no state worth keeping
        f"optimizer.{k}": v
        for k, v in trainer.optimizer_state.items()
        if isinstance(v, np.ndarray) and k != "scratch"
    }
    scalars = {k: v for k, v in trainer.optimizer_state.items() if not isinstance(v, np.ndarray)}
    _check_scalars(trainer.optimizer, scalars)
    rngs = (trainer._shuffle_rng, trainer._dropout_rng, trainer._split_rng)
    running = trainer._running
    meta = {
        "optimizer": trainer.optimizer.config(),
        "optimizer_scalars": scalars,
        "epochs_done": trainer.epochs_done,
        "learning_rate": trainer.learning_rate if running is None else running.learning_rate,
        "base_learning_rate": trainer.base_learning_rate,
        "rng": [r.bit_generator.state for r in rngs],
        "settings": {
            "batch_size": trainer.batch_size,
            "shuffle": trainer.shuffle,
            "l2": trainer.l2,
            "l1": trainer.l1,
            "max_norm": trainer.max_norm,
            "metrics": [m.name for m in trainer.metrics],
            # (only when not the default: checkpoints written before it lack it)
            **({"epoch_loss": trainer.epoch_loss} if trainer.epoch_loss != "weighted" else {}),
        },
    }
    best = getattr(trainer, "_best_start", None)
    if best is not None and best.epoch > 0:  # (during a fit: see BestStart.resume)
        tensors[f"{BEST}params"] = best.params
        arrays = {k: v for k, v in best.state.saved.items() if isinstance(v, np.ndarray)}
        tensors.update({f"{BEST}{OPTIMIZER}{k}": v for k, v in arrays.items()})
        meta["best_start"] = {
            "epoch": best.epoch,
            "loss": best.loss,
            "optimizer_scalars": {
                k: v for k, v in best.state.saved.items() if not isinstance(v, np.ndarray)
            },
        }
    return tensors, meta


BEST, OPTIMIZER = "best_start.", "optimizer."
"""Name prefixes of a checkpoint's tensors: the start of the run's lowest-loss epoch so far
(its weights, ``best_start.params``, and optimizer state, ``best_start.optimizer.*``: what a
diverged run falls back to, :class:`deltarule._epochs.BestStart`), the optimizer's state."""


def _resumed_best(
    network: Any, optimizer_state: dict[str, Any], tensors: dict[str, Array], meta: dict[str, Any]
) -> tuple | None:
    """The kept start of a checkpoint's ``best_start`` entry, checked against the network
    and the restored ``optimizer_state``: its epoch among those done, its loss finite, its
    weights and each optimizer array of their shapes and dtype, finite, and its optimizer
    scalars those of the state, each sound and its step count no later than the state's;
    nothing more. None without one (a checkpoint written before it was kept)."""
    entry = meta.get("best_start")
    names = {name for name in tensors if name.startswith(BEST)}
    bad = "the checkpoint's best epoch start (what a diverged run falls back to)"
    if entry is None:
        if names:
            raise InputError(f"{bad} has tensors ({', '.join(sorted(names))}) but no entry")
        return None
    done = int(meta["epochs_done"])
    epoch, loss = (entry.get(k) for k in ("epoch", "loss")) if isinstance(entry, dict) else (0, 0)
    if not (
        isinstance(entry, dict)
        and set(entry) <= {"epoch", "loss", "optimizer_scalars"}
        and isinstance(epoch, int) and not isinstance(epoch, bool) and 1 <= epoch <= done
        and isinstance(loss, (int, float)) and not isinstance(loss, bool) and math.isfinite(loss)
        and isinstance(entry.get("optimizer_scalars"), dict)
    ):  # fmt: skip
        raise InputError(
            f"{bad} is malformed ({entry!r:.80}): expected an epoch from 1 to the {done} done, "
            "a finite loss and the optimizer's scalars"
        )
    arrays = [k for k, v in optimizer_state.items() if isinstance(v, np.ndarray) and k != "scratch"]
    expected = {f"{BEST}params"} | {f"{BEST}{OPTIMIZER}{k}" for k in arrays}
    if names != expected:
        raise InputError(
            f"{bad} has the tensors {sorted(names)}, expected {sorted(expected)} (its weights "
            "and the optimizer's arrays)"
        )
    params, want = tensors[f"{BEST}params"], network.parameters
    if params.shape != want.shape or params.dtype != want.dtype:
        raise InputError(
            f"{bad} has weights of {params.dtype}, shape {params.shape}; expected {want.dtype} "
            f"of shape {want.shape} (the network's parameters)"
        )
    if not np.isfinite(params).all():
        raise InputError(f"{bad} has weights holding NaN or infinity")
    state: dict[str, Any] = {}
    for key in arrays:
        saved, value = tensors[f"{BEST}{OPTIMIZER}{key}"], optimizer_state[key]
        if saved.shape != value.shape:
            raise InputError(
                f"{bad} has optimizer state {key!r} of shape {saved.shape}, expected {value.shape}"
            )
        _check_array(key, saved, value.dtype, what=f"{bad}'s optimizer state")
        state[key] = np.array(saved, copy=True)
    scalars = entry["optimizer_scalars"]
    known = {k for k, v in optimizer_state.items() if not isinstance(v, np.ndarray)}
    if set(scalars) != known:
        raise InputError(
            f"{bad} has the optimizer scalars {sorted(scalars)}, expected {sorted(known)}"
        )
    for key, value in scalars.items():
        problem = scalar_problem(key, value, optimizer_state[key])
        if problem is None and key == "step" and value > optimizer_state[key]:
            problem = f"'step' = {value!r} is later than the run's {optimizer_state[key]!r}"
        if problem is not None:
            raise InputError(f"{bad} has the optimizer scalar {problem}")
        state[key] = value
    return int(epoch), float(loss), np.array(params, copy=True), state


_SCALAR_TYPES = (bool, int, float, np.bool_, np.integer, np.floating)
"""The optimizer state a checkpoint keeps besides arrays (as JSON numbers, booleans, null)."""


def _check_scalars(optimizer: Any, scalars: dict[str, Any]) -> None:
    """Refuse, when the checkpoint is written, optimizer state it could not give back."""
    for key, value in scalars.items():
        if value is not None and not isinstance(value, _SCALAR_TYPES):
            raise InputError(
                f"optimizer {optimizer.name!r:.80} keeps state {key!r:.80} = {value!r:.60} "
                f"({type(value).__name__}), which a checkpoint cannot store: optimizer state "
                "holds arrays, ints, floats, booleans or None only. Encode it "
                "as one of those (a phase as 0, 1, ...), or keep it out of the state."
            )


def _lazy_arrays(state: dict[str, Any], tensors: dict[str, Array]) -> None:
    """Add to ``state`` the saved arrays its ``init`` does not make: state the rule created
    in ``update`` (AMSGrad's running maximum, on its first step), given back as saved."""
    for name, saved in tensors.items():
        key = name.removeprefix("optimizer.")
        if name.startswith("optimizer.") and key not in state:
            state[key] = np.array(saved, copy=True)  # (checked finite with the others)


NON_NEGATIVE = ("second_moment", "mean_square", "sum_of_squares", "step_size")
SQUARES = ("second_moment", "mean_square", "sum_of_squares")
"""Running sums of squares: in float32 they overflow to +inf for large gradients while the
weights stay finite (the step m / (sqrt(inf) + eps) is 0), so a checkpoint may keep +inf
there, and the resumed run goes on as the uninterrupted one did."""
"""Optimizer state arrays that hold no negative value: Adam's, RMSprop's and Adagrad's
running squares (a square root is taken of them), Rprop's step sizes."""
MAX_STEP = 2**53
"""More updates than a run makes (the step count is a float's exponent in Adam)."""


def scalar_problem(key: str, value: Any, fresh: Any = None) -> str | None:
    """What is wrong with a saved optimizer scalar ``key`` = ``value`` (None: nothing).

    ``step`` is a count of updates (an integer from 0); a scalar the optimizer's ``init``
    makes as a number (``fresh``) must be a finite number of the same kind (an integer where
    it is one). A damaged value would otherwise fail in the middle of the next epoch (an
    ``OverflowError`` from ``beta ** step``)."""
    whole = isinstance(value, int) and not isinstance(value, bool)
    if key == "step" and not (whole and 0 <= value < MAX_STEP):
        return f"{key!r} = {value!r:.60} is not a count of updates (an integer from 0)"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{key!r} = {value!r} is not finite"
    if fresh is None or isinstance(fresh, (bool, np.bool_)):
        return None
    if isinstance(fresh, (int, np.integer)) and not whole:
        return f"{key!r} = {value!r:.60} is not an integer"
    if isinstance(fresh, (float, np.floating)) and (
        isinstance(value, bool) or not isinstance(value, (int, float))
    ):
        return f"{key!r} = {value!r:.60} is not a number"
    return None


def _check_array(
    key: str, saved: Array, dtype: np.dtype, what: str = "the checkpoint's optimizer state"
) -> None:
    """Refuse a saved optimizer array of another dtype than the network's, not finite (but
    for +inf in a running sum of squares, :data:`SQUARES`), or negative where it cannot be
    (:data:`NON_NEGATIVE`)."""
    if saved.dtype != dtype:
        raise InputError(
            f"{what} {key!r} is {saved.dtype}, but the network is {dtype}; a checkpoint "
            "keeps its optimizer state in the network's dtype, so it is damaged or was "
            "edited. Start the run again."
        )
    finite = np.isfinite(saved)
    if key in SQUARES:  # (float32 squares of large gradients overflow, weights finite)
        finite |= np.isposinf(saved)
    if not finite.all():
        raise InputError(
            f"{what} {key!r} holds NaN or infinity; a checkpoint keeps a finite state (a "
            "diverged epoch is undone), so it is damaged. Start the run again."
        )
    if key in NON_NEGATIVE and saved.size and saved.min() < 0:
        raise InputError(
            f"{what} {key!r} holds a negative value ({float(saved.min()):.6g}); it is a "
            "running sum of squares (or step sizes), never negative, so the checkpoint is "
            "damaged or was edited. Start the run again."
        )


def restore_state(trainer: Any, tensors: dict[str, Array], meta: dict[str, Any]) -> None:
    """Write :func:`checkpoint_state` output back into ``trainer`` (same network layout).

    Arrays the optimizer's ``init`` does not make (state created in ``update``) are given
    back as saved, so that a rule creating state on its first step resumes exactly.
    """
    state = trainer.optimizer.init(trainer.network.parameters) if trainer.optimizer_state else {}
    fresh = {k: v.dtype for k, v in state.items() if isinstance(v, np.ndarray)}
    if state:
        _lazy_arrays(state, tensors)
    for key in list(state):
        if isinstance(state[key], np.ndarray) and key != "scratch":
            saved = tensors.get(f"optimizer.{key}")
            if saved is None or saved.shape != state[key].shape:
                raise InputError(
                    f"the checkpoint lacks optimizer state {key!r} of shape "
                    f"{state[key].shape}; it was written for another optimizer or network."
                )
            _check_array(key, saved, fresh.get(key, trainer.network.parameters.dtype))
            state[key][...] = saved
    scalars = meta.get("optimizer_scalars", {})
    known = {k for k, v in state.items() if not isinstance(v, np.ndarray)}
    for key, value in scalars.items():
        if isinstance(state.get(key), np.ndarray) or (
            isinstance(value, float) and not math.isfinite(value)
        ):  # (a key of an array would replace a moment array with a number; a key that
            # init does not make is state the rule made in update, given back as saved)
            raise InputError(
                f"the checkpoint's optimizer scalar {key!r} = {value!r} is not one of "
                f"{trainer.optimizer.name!r}'s ({', '.join(sorted(known)) or 'none'}) or not "
                "finite; it was written for another optimizer, or is damaged."
            )
        problem = scalar_problem(key, value, state.get(key))
        if problem is not None:
            raise InputError(
                f"the checkpoint's optimizer scalar {problem}; it is damaged or was edited. "
                "Start the run again."
            )
    state.update(scalars)
    best = _resumed_best(trainer.network, state, tensors, meta)  # (checked before any change)
    trainer.optimizer_state = state
    trainer.epochs_done = int(meta["epochs_done"])
    trainer.learning_rate = float(meta["learning_rate"])
    trainer.base_learning_rate = float(meta.get("base_learning_rate", trainer.base_learning_rate))
    rngs = (trainer._shuffle_rng, trainer._dropout_rng, trainer._split_rng)
    for rng, saved in zip(rngs, meta["rng"]):
        rng.bit_generator.state = saved
    trainer._resumed_best = best  # for the next fit (BestStart.resume); None without one
