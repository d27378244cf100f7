"""Resumable training: a checkpoint that a killed run continues from, bitwise-identically.

A checkpoint is one model file (:mod:`deltarule.io.model_file`) named
``checkpoint.safetensors`` in a folder, rewritten atomically at the end of every
``every``-th epoch. Besides the weights it holds

* the optimizer state (``extra.optimizer.*`` tensors) and the trainer's state — epochs
  done, learning rate, the states of its random streams (:meth:`Trainer.checkpoint_state`);
* the history so far, and the early-stopping state (its best weights as
  ``extra.early_stopping.best_parameters``).

A run restarted from it with the same settings and data — :func:`resume_trainer`, then
``trainer.fit`` for the remaining epochs — computes exactly what the uninterrupted run
would have: same batches, same dropout masks, same updates. (Not the full-batch solvers
``lbfgs`` and ``lm``: their curvature memory and damping live inside the solver's run and
are not saved, so a resumed solver starts them afresh.)

Examples
--------
>>> import tempfile, numpy as np, deltarule as dr
>>> folder = tempfile.mkdtemp()
>>> X = np.random.default_rng(0).normal(size=(20, 3)); y = X[:, :1] * 2
>>> trainer = dr.Trainer(dr.Network([3, 4, 1], seed=0), "adam", seed=0)
>>> _ = trainer.fit(X, y, epochs=3, verbose=0, callbacks=[Checkpoint(folder)],
...                 warn_convergence=False)
>>> saved = load_checkpoint(folder)
>>> saved.epochs_done, len(saved.history)
(3, 3)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..callbacks import Callback, EarlyStopping, TrainingState
from ..exceptions import IncompatibleFormatError, InputError
from ..history import EpochRecord, History
from ..network import Network
from .model_file import load_model, save_model

__all__ = ["CHECKPOINT_FILE", "Checkpoint", "SavedCheckpoint", "load_checkpoint",
           "resume_trainer", "save_checkpoint"]  # fmt: skip

CHECKPOINT_FILE = "checkpoint.safetensors"
_OPTIMIZER, _EARLY = "optimizer.", "early_stopping."


@dataclass(frozen=True)
class SavedCheckpoint:
    """What :func:`load_checkpoint` read back.

    Attributes
    ----------
    network : Network
        With the weights at the end of the last checkpointed epoch.
    trainer_state : dict
        :meth:`Trainer.checkpoint_state` plain data.
    tensors : dict of str to ndarray
        Optimizer state tensors (``optimizer.*``).
    history : History
        Every epoch up to the checkpoint.
    early_stopping : tuple of (dict, dict) or None
        :meth:`EarlyStopping.state_dict` output, when the run used early stopping.
    """

    network: Network
    trainer_state: dict[str, Any]
    tensors: dict[str, np.ndarray]
    history: History
    early_stopping: tuple[dict[str, Any], dict[str, np.ndarray]] | None

    @property
    def epochs_done(self) -> int:
        return int(self.trainer_state["epochs_done"])


def save_checkpoint(
    folder: str | Path,
    trainer: Any,
    history: History,
    early_stopping: EarlyStopping | None = None,
) -> Path:
    """Write ``folder/checkpoint.safetensors`` atomically; returns its path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors, meta = trainer.checkpoint_state()
    extra = dict(tensors)
    stopping = None
    if early_stopping is not None:
        stopping, best = early_stopping.state_dict()
        extra.update({_EARLY + k: v for k, v in best.items()})
    training = {
        "trainer": meta,
        "history": [asdict(r) for r in history],
        "early_stopping": stopping,
    }
    return save_model(trainer.network, folder / CHECKPOINT_FILE, training=training,
                      extra_tensors=extra)  # fmt: skip


def load_checkpoint(folder: str | Path) -> SavedCheckpoint:
    """Read the checkpoint in ``folder`` (validated like any model file)."""
    path = Path(folder) / CHECKPOINT_FILE
    if not path.is_file():
        raise InputError(
            f"{folder} holds no checkpoint ({CHECKPOINT_FILE} is missing); pass the folder "
            "given to --checkpoint of a run that finished at least one epoch."
        )
    loaded = load_model(path)
    training = loaded.training or {}
    if "trainer" not in training or "history" not in training:
        raise IncompatibleFormatError(
            f"{path} is a model file but not a training checkpoint (no trainer state)."
        )
    problem = _trainer_problem(training)
    if problem is None:
        try:
            records = [EpochRecord(**row) for row in training["history"]]
        except TypeError as exc:  # a record with fields EpochRecord does not have
            problem = f"a history record does not fit ({exc})"
    if problem is not None:
        raise IncompatibleFormatError(
            f"{path} is a damaged checkpoint: {problem}. It cannot be resumed; start the run "
            "again (delete the folder, or give --checkpoint a new one)."
        )
    extra = loaded.extra_tensors
    stopping = training.get("early_stopping")
    early = None
    if stopping is not None:
        early = (stopping, {k[len(_EARLY) :]: v for k, v in extra.items() if k.startswith(_EARLY)})
    tensors = {k: v for k, v in extra.items() if k.startswith(_OPTIMIZER)}
    return SavedCheckpoint(loaded.network, training["trainer"], tensors, History(records), early)


def _trainer_problem(training: dict[str, Any]) -> str | None:
    """What is wrong with a checkpoint's ``training`` entry (its plain data), or None."""
    meta, history = training["trainer"], training["history"]
    if not isinstance(meta, dict):
        return f"the trainer state is a {type(meta).__name__}, not an object"
    done = meta.get("epochs_done")
    if isinstance(done, bool) or not isinstance(done, int) or done < 0:
        return f"epochs_done is {done!r}, not a count of epochs"
    for key in ("learning_rate", "base_learning_rate"):
        value = meta.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            return f"{key} is {value!r}, not a number >= 0"
    rngs = meta.get("rng")
    if not (isinstance(rngs, list) and len(rngs) == 3 and all(isinstance(r, dict) for r in rngs)):
        return "the random streams' states are missing or malformed"
    scalars = meta.get("optimizer_scalars", {})
    if not isinstance(scalars, dict) or not all(
        v is None or isinstance(v, (bool, int, float)) for v in scalars.values()
    ):
        return f"the optimizer's scalar state is malformed ({scalars!r:.60})"
    if not (isinstance(history, list) and all(isinstance(row, dict) for row in history)):
        return "the history is not a list of records"
    stopping = training.get("early_stopping")
    if stopping is not None:
        ok = isinstance(stopping, dict) and {"best", "best_epoch", "wait"} <= set(stopping)
        if not ok or not isinstance(stopping["wait"], int) or stopping["wait"] < 0:
            return "the early-stopping state is malformed"
    return None


def resume_trainer(
    trainer: Any, saved: SavedCheckpoint, early_stopping: EarlyStopping | None = None
) -> Any:
    """Load a checkpoint into a trainer built with the original settings; returns it.

    The trainer's network gets the checkpoint's weights (in place), its optimizer and
    random streams their saved states; ``early_stopping`` (if the run used it) its state.

    Raises
    ------
    InputError
        When the trainer's network, optimizer or settings differ from the run that wrote
        the checkpoint (naming each difference): the resumed run would not be that run.
    """
    net = trainer.network
    if net.layout != saved.network.layout or net.dtype != saved.network.dtype:
        raise InputError(
            "the checkpoint was written for another network "
            f"({saved.network.layer_sizes}, {saved.network.dtype}); resume with the "
            "original settings."
        )
    differ = _changed_settings(trainer, saved)
    if differ:
        raise InputError(
            f"the checkpoint was written with other settings: {'; '.join(differ)}. A resumed "
            "run equals the uninterrupted one only with the original settings; resume with "
            "those."
        )
    np.copyto(net.parameters, saved.network.parameters)
    try:
        trainer.restore_state(saved.tensors, saved.trainer_state)
    except (KeyError, TypeError, ValueError) as exc:  # (a random stream's state, say)
        raise IncompatibleFormatError(
            f"the checkpoint's trainer state cannot be restored ({exc}); it is damaged. Start "
            "the run again."
        ) from exc
    if early_stopping is not None and saved.early_stopping is not None:
        early_stopping.load_state_dict(*saved.early_stopping)
    return trainer


def _changed_settings(trainer: Any, saved: SavedCheckpoint) -> list[str]:
    """What differs between the run that wrote ``saved`` and ``trainer``: the network's
    architecture, the optimizer and its hyper-parameters (the learning rate is restored
    from the checkpoint), the trainer's settings."""
    _, now = trainer.checkpoint_state()
    was = saved.trainer_state
    pairs = [(f"network {key}", value, saved.network.config().get(key))
             for key, value in trainer.network.config().items()]  # fmt: skip
    optimizer = {k: v for k, v in now["optimizer"].items() if k != "learning_rate"}
    old = {k: v for k, v in (was.get("optimizer") or {}).items() if k != "learning_rate"}
    pairs += [(f"optimizer {key}", optimizer.get(key), old.get(key))
              for key in sorted(set(optimizer) | set(old))]  # fmt: skip
    pairs += [(key, value, (was.get("settings") or {}).get(key))
              for key, value in now["settings"].items()]  # fmt: skip
    return [f"{name} {then!r} (now {value!r})" for name, value, then in pairs
            if _plain(value) != _plain(then)]  # fmt: skip


def _plain(value: Any) -> Any:
    """``value`` as JSON gives it back (tuples as lists), for comparing with saved data."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Checkpoint(Callback):
    """Save a resumable checkpoint in ``folder`` every ``every`` epochs (atomically).

    It runs after the other callbacks of the epoch wherever it is listed, so that it saves
    the early-stopping state that epoch updated.

    Parameters
    ----------
    folder : str or Path
    every : int
        Checkpoint every ``every``-th epoch (counted across resumed runs).
    early_stopping : EarlyStopping, optional
        The run's early-stopping callback, whose state is saved too.
    history : History, optional
        Epochs of earlier runs (when resuming), kept at the head of the saved history.
    """

    runs_last = True

    def __init__(
        self,
        folder: str | Path,
        every: int = 1,
        early_stopping: EarlyStopping | None = None,
        history: History | None = None,
    ) -> None:
        self.folder, self.every = Path(folder), max(1, int(every))
        self.early_stopping = early_stopping
        self.prior = list(history or [])

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if record.epoch % self.every == 0 and state.trainer is not None:
            full = History(self.prior + list(state.history.records))
            save_checkpoint(self.folder, state.trainer, full, self.early_stopping)
        return None
