"""Resumable training: a checkpoint that a killed run continues from, bitwise-identically.

A checkpoint is one model file (:mod:`deltarule.io.model_file`) named
``checkpoint.safetensors`` in a folder, rewritten atomically at the end of every
``every``-th epoch. Besides the weights it holds

* the optimizer state (``extra.optimizer.*`` tensors) and the trainer's state — epochs
  done, learning rate, the states of its random streams (:meth:`Trainer.checkpoint_state`);
* the start of the lowest-loss epoch so far (``extra.best_start.*``: its weights and
  optimizer state), which a run that diverges later falls back to;
* the history so far;
* the state of every callback of the run that has one (early stopping, a plateau's
  counters), keyed by :func:`callback_key` — ``"EarlyStopping.0"``, the first
  EarlyStopping among the callbacks (:mod:`deltarule.io._callback_states`);
* the data the fit trained on (``training.provenance``: the number of training and
  validation rows, their columns and dtype and a hash of their bytes, the validation split
  and the trainer's seed; :mod:`deltarule._provenance`).

A run restarted from it with the same settings, callbacks and data — :func:`resume_trainer`,
then ``trainer.fit`` for the remaining epochs — computes exactly what the uninterrupted run
would have: same batches, same dropout masks, same learning rates, same updates. (Not the
full-batch solvers ``lbfgs`` and ``lm``: their curvature memory and damping live inside the
solver's run and are not saved, so a resumed solver starts them afresh.) The resumed
``fit`` is refused when its data is not the run's (other rows, other values, another
validation split), naming what differs; the trainer's seed may differ (the random
generators' states are the checkpoint's). Checkpoints
written before callbacks' states were saved hold early stopping's alone (``early_stopping``
data, ``extra.early_stopping.*`` tensors); they still resume, other callbacks afresh.
Checkpoints written before the data was recorded (or by :func:`save_checkpoint` between
fits) resume on any data, unchecked.

Examples
--------
>>> import tempfile, numpy as np, deltarule as dr
>>> folder = tempfile.mkdtemp()
>>> X = np.random.default_rng(0).normal(size=(20, 3)); y = X[:, :1] * 2
>>> trainer = dr.Trainer(dr.Network([3, 4, 1], seed=0), "adam", seed=0)
>>> plateau = dr.callbacks.ReduceLROnPlateau("loss", patience=1)
>>> _ = trainer.fit(X, y, epochs=3, verbose=0, callbacks=[plateau, Checkpoint(folder)],
...                 warn_convergence=False)
>>> saved = load_checkpoint(folder)
>>> saved.epochs_done, len(saved.history), list(saved.callbacks)
(3, 3, ['ReduceLROnPlateau.0'])

Resuming (after a crash, say): the same settings, the same callbacks in the same order.

>>> again = dr.Trainer(dr.Network([3, 4, 1], seed=0), "adam", seed=0)
>>> plateau = dr.callbacks.ReduceLROnPlateau("loss", patience=1)
>>> _ = resume_trainer(again, saved, [plateau])
>>> _ = again.fit(X, y, epochs=2, verbose=0, warn_convergence=False,
...               callbacks=[plateau, Checkpoint(folder, history=saved.history)])
>>> load_checkpoint(folder).epochs_done
5
"""

from __future__ import annotations

import errno
import inspect
import math
import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .._checkpoint_state import BEST, scalar_problem
from .._provenance import FitData, differences, provenance_problem
from .._validation import check_int
from ..callbacks import Callback, TrainingState
from ..exceptions import IncompatibleFormatError, InputError
from ..history import EpochRecord, History
from ..network import Network
from ..training import _callback_list
from . import _callback_states
from ._callback_states import CallbackState, callback_key, decoded, encoded, plain
from ._paths import checked_path
from .model_file import encoded_json, load_model, write_model

__all__ = ["CHECKPOINT_FILE", "CallbackState", "Checkpoint", "SavedCheckpoint", "callback_key",
           "load_checkpoint", "resume_trainer", "save_checkpoint"]  # fmt: skip

CHECKPOINT_FILE = "checkpoint.safetensors"
_OPTIMIZER = "optimizer."


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
        Optimizer state tensors (``optimizer.*``), and the start of the lowest-loss epoch
        so far (``best_start.*``: what a diverged run falls back to).
    history : History
        Every epoch up to the checkpoint.
    callbacks : dict of str to CallbackState
        The state of each callback that had one, by :func:`callback_key`.
    complete : bool
        True when ``callbacks`` holds every callback of the run that had a state; False
        for checkpoints written before callbacks' states were saved (early stopping's
        alone).
    provenance : dict or None
        The data the run's fit trained on (:mod:`deltarule._provenance`), which a resumed
        fit must train on; None for checkpoints written before it was recorded, or by
        :func:`save_checkpoint` between fits.
    folder : Path or None
        The folder it was read from (named in the errors of a refused resume).
    """

    network: Network
    trainer_state: dict[str, Any]
    tensors: dict[str, np.ndarray]
    history: History
    callbacks: dict[str, CallbackState]
    complete: bool = True
    provenance: dict[str, Any] | None = None
    folder: Path | None = None

    @property
    def epochs_done(self) -> int:
        return int(self.trainer_state["epochs_done"])

    @property
    def early_stopping(self) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
        """The first :class:`EarlyStopping`'s :meth:`~EarlyStopping.state_dict` output, when
        the run used early stopping."""
        state = self.callbacks.get(_callback_states.EARLY_KEY)
        return None if state is None else (state.data, state.tensors)


def save_checkpoint(
    folder: str | Path,
    trainer: Any,
    history: History,
    callbacks: Sequence[Callback] | Callback | None = (),
) -> Path:
    """Write ``folder/checkpoint.safetensors`` atomically; returns its path.

    ``callbacks``: the run's callbacks, in their order; the state of each that has one is
    saved (:meth:`Callback.state_dict`), with its :meth:`Callback.config`. Called during a
    fit (by a callback), it records the fit's data; between fits it records none, and the
    checkpoint then resumes on any data, unchecked.
    """
    return _save(folder, trainer, _HistoryText().of(list(history)), callbacks)


def _save(
    folder: str | Path, trainer: Any, history: str, callbacks: Sequence[Callback] | Callback | None
) -> Path:
    """:func:`save_checkpoint` of the history given as its JSON text (:class:`_HistoryText`)."""
    folder = Path(checked_path(folder, "save_checkpoint's folder", "'runs/first'"))
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / CHECKPOINT_FILE).is_symlink():  # (saved through, it would make or replace
        raise InputError(  # the file it points to, anywhere this user may write)
            f"cannot save the checkpoint: {folder / CHECKPOINT_FILE} is a symbolic link (to "
            f"{os.readlink(folder / CHECKPOINT_FILE)!r}), not the plain file a checkpoint is; "
            "remove the link if you made it, or give another folder."
        )
    tensors, meta = trainer.checkpoint_state()
    extra = dict(tensors)
    states, arrays = _callback_states.write(_callback_list(callbacks))
    extra.update(arrays)
    training = {"trainer": meta, "history": None, "callbacks": states}
    fit_data: FitData | None = getattr(trainer, "_fit_data", None)
    if fit_data is not None:  # (during a fit: hashed at its first save, then kept)
        training["provenance"] = fit_data.record()
    return write_model(trainer.network, folder / CHECKPOINT_FILE, None, None, training, extra,
                       encoded={"history": history},
                       max_header_bytes=CHECKPOINT_MAX_HEADER_BYTES)  # fmt: skip


class _HistoryText:
    """A checkpoint's history as JSON text, each record encoded once: a run that saves a
    checkpoint every epoch encoded its whole history at every save (3,000 epochs: 67 ms a
    save; the run's saves grew as the square of its epochs)."""

    def __init__(self) -> None:
        self._records: list[EpochRecord] = []
        self._texts: list[str] = []

    def of(self, records: list[EpochRecord]) -> str:
        """The JSON list of ``records``, whose head may be the records of an earlier call."""
        kept = len(self._records)
        if kept > len(records) or (kept and records[kept - 1] is not self._records[-1]):
            kept = 0  # (another history: records are frozen, and a history only grows)
            self._records, self._texts = [], []
        for record in records[kept:]:
            # (an infinite or NaN value as {"$float": "inf"}: JSON's null read back as NaN)
            self._texts.append(encoded_json(encoded(asdict(record)), "the history"))
            self._records.append(record)
        return "[" + ", ".join(self._texts) + "]"


CHECKPOINT_MAX_HEADER_BYTES = 1_000_000_000
"""The largest checkpoint header written and read: ten times a model file's
(:data:`~deltarule.io.safetensors.DEFAULT_MAX_HEADER_BYTES`), since a checkpoint keeps every
epoch's record (~260 bytes: some 3.8 million epochs), and a run is resumed from a folder its
own run wrote. A model file of ``deltarule train`` keeps at most 100,000 epochs."""

_NUMBERS = ("loss", "learning_rate", "gradient_norm", "seconds")
"""A history record's fields that always hold a number (``val_loss`` is None without
validation)."""


def _with_nan(row: Any) -> Any:
    """A history record as read, its numbers that a checkpoint written before infinities
    were kept stored as null (NaN: R² of one validation row; or an infinity) NaN."""
    if not isinstance(row, dict):
        return row  # (EpochRecord(**row) refuses it by name)
    row = dict(row)
    for key in _NUMBERS:
        if key in row and row[key] is None:
            row[key] = math.nan
    for key in ("metrics", "val_metrics"):
        if isinstance(row.get(key), dict):
            row[key] = {k: math.nan if v is None else v for k, v in row[key].items()}
    return row


def load_checkpoint(folder: str | Path) -> SavedCheckpoint:
    """Read the checkpoint in ``folder`` (validated like any model file)."""
    path = Path(checked_path(folder, "load_checkpoint's folder", "'runs/first'")) / CHECKPOINT_FILE
    if not path.is_file():
        raise InputError(
            f"{folder} holds no checkpoint ({CHECKPOINT_FILE} is missing); pass the folder "
            "given to --checkpoint of a run that finished at least one epoch."
        )
    try:
        loaded = load_model(path, max_header_bytes=CHECKPOINT_MAX_HEADER_BYTES)
    except IncompatibleFormatError as exc:
        raise _damaged(exc) from exc
    training = loaded.training or {}
    if "trainer" not in training or "history" not in training:
        raise IncompatibleFormatError(
            f"{path} is a model file but not a training checkpoint (no trainer state)."
        )
    problem = _trainer_problem(training)
    if problem is None:
        try:
            records = [EpochRecord(**_with_nan(decoded(row))) for row in training["history"]]
        except TypeError as exc:  # a record with fields EpochRecord does not have
            problem = f"a history record does not fit ({exc})"
    if problem is not None:
        raise IncompatibleFormatError(
            f"{path} is a damaged checkpoint: {problem}. It cannot be resumed; start the run "
            "again (delete the folder, or give --checkpoint a new one)."
        )
    callbacks, complete = _callback_states.read(training, loaded.extra_tensors)
    problem = _best_parameters_problem(callbacks, loaded.network)
    if problem is None:
        problem = provenance_problem(training.get("provenance"))
    if problem is not None:
        raise IncompatibleFormatError(
            f"{path} is a damaged checkpoint: {problem}. It cannot be resumed; start the run "
            "again (delete the folder, or give --checkpoint a new one)."
        )
    tensors = {k: v for k, v in loaded.extra_tensors.items() if k.startswith((_OPTIMIZER, BEST))}
    return SavedCheckpoint(loaded.network, training["trainer"], tensors, History(records),
                           callbacks, complete, training.get("provenance"),
                           path.parent)  # fmt: skip


def _best_parameters_problem(callbacks: dict[str, CallbackState], network: Network) -> str | None:
    """What is wrong with a callback's saved ``best_parameters`` (early stopping's best
    weights, restored into the network at the end), or None: they must be one finite value
    per parameter, in the network's dtype (``I32`` would be reinterpreted or fail an epoch
    later)."""
    want = network.parameters
    for key, state in callbacks.items():
        if (state.config or {}).get("restore_best_weights") is False:
            state.tensors.pop("best_parameters", None)  # (never put back: an unfilled buffer
            continue  # an early stopping that did not restore once saved)
        best = state.tensors.get("best_parameters")
        if best is None:
            continue
        if best.dtype != want.dtype or best.shape != want.shape:
            return (
                f"the best weights {key} saved are {best.dtype} of shape {best.shape}, "
                f"expected {want.dtype} of shape {want.shape} (the network's parameters)"
            )
        if not np.isfinite(best).all():
            return f"the best weights {key} saved hold NaN or infinity"
    return None


_MODEL_ADVICE = re.compile(r" Save the .* or use a backup copy\.$")
"""The advice a damaged model file's error gives, which does not fit a checkpoint."""


def _damaged(exc: IncompatibleFormatError) -> IncompatibleFormatError:
    """A checkpoint file's error (``exc``), its advice that of a checkpoint: start the run
    again (a checkpoint is not saved again from anywhere; a newer one's advice stands)."""
    text = str(exc)
    if "newer deltarule" in text:
        return exc
    text = _MODEL_ADVICE.sub("", text).rstrip(".")
    return IncompatibleFormatError(
        f"{text}. The checkpoint cannot be resumed; start the run again (delete the folder, "
        "or give --checkpoint a new one).",
        options=exc.options,
    )


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
    for key, value in scalars.items():
        problem = scalar_problem(key, value)
        if problem is not None:
            return f"the optimizer's scalar {problem}"
    if not (isinstance(history, list) and all(isinstance(row, dict) for row in history)):
        return "the history is not a list of records"
    return _callback_states.states_problem(training)


def resume_trainer(
    trainer: Any, saved: SavedCheckpoint, callbacks: Sequence[Callback] | Callback | None = ()
) -> Any:
    """Load a checkpoint into a trainer built with the original settings; returns it.

    The trainer's network gets the checkpoint's weights (in place), its optimizer, learning
    rate and random streams their saved states; each of ``callbacks`` with a state (early
    stopping, a plateau) the state its counterpart saved — matched by :func:`callback_key`,
    so give the run's callbacks in their original order, and the same list to ``fit``. The
    callbacks the run's ``fit`` made of its options (``early_stopping=True``,
    ``schedule="plateau"``) are not given: the next ``fit``, given the run's options, makes
    them again and they take their states back (an ``InputError`` from that ``fit`` when its
    options make other ones). That ``fit`` first asks each callback whether the run had
    stopped at the checkpoint's last epoch (:meth:`Callback.resumed_stop`) and ends there if
    one says so; give it the epochs left (``epochs=0`` where every epoch was done: the run
    then ends as it ended, its best weights restored). Give that ``fit`` the run's data:
    the same ``X``, ``y``, ``sample_weight``, ``class_weight`` and ``validation_split`` or
    ``validation_data`` (a checkpoint that recorded them refuses others).

    Raises
    ------
    InputError
        When the trainer's network, optimizer or settings differ from the run that
        wrote the checkpoint, or ``callbacks`` lack one whose state it saved, have one more,
        or one with other settings (naming each difference): the resumed run would not be
        that run. The next ``fit`` raises it when its data is not the run's (other rows,
        other values, another validation split), naming what differs.
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
        python = "resume with those."
        raise InputError(
            f"the checkpoint was written with other settings: {'; '.join(differ)}. A resumed "
            f"run equals the uninterrupted one only with the original settings; {python}",
            options={python: _not_the_runs_settings(saved)},
        )
    matched = _callback_states.match(saved.callbacks, saved.complete, _callback_list(callbacks))
    kept = net.parameters.copy()  # (the network is left as it was when a state is damaged)
    np.copyto(net.parameters, saved.network.parameters)
    try:
        try:
            trainer.restore_state(saved.tensors, saved.trainer_state)
        except (LookupError, TypeError, ValueError, ArithmeticError) as exc:  # (a random stream)
            raise IncompatibleFormatError(
                f"the checkpoint's trainer state cannot be restored ({exc}); it is damaged. "
                "Start the run again."
            ) from exc
        _callback_states.restore(saved.callbacks, matched)
    except BaseException:
        np.copyto(net.parameters, kept)
        raise
    # (a checkpoint that saved early stopping's state alone marks none of fit's options')
    trainer._resumed_options = partial(_restore_options, saved) if saved.complete else None
    trainer._resumed_history = saved.history  # (the resumed fit's end-of-run checks)
    # (the resumed fit's data must be the run's; a checkpoint that recorded none: unchecked)
    trainer._resumed_data = None if saved.provenance is None else partial(_check_data, saved)
    return trainer


def _check_data(saved: SavedCheckpoint, fit_data: FitData) -> None:
    """Refuse a resumed fit whose data (``fit_data``) is not what the run that wrote
    ``saved`` trained on, naming each difference."""
    differ = [] if saved.provenance is None else differences(saved.provenance, fit_data.record())
    if not differ:
        return
    folder = "its folder" if saved.folder is None else str(saved.folder)
    python = (
        "fit on the run's data (the same X, y, sample_weight, class_weight and "
        "validation_split or validation_data), or start a new run: a Trainer not given to "
        f"resume_trainer, with a new Checkpoint folder (or {folder} deleted)."
    )
    where = "" if saved.folder is None else f" in {saved.folder}"
    raise InputError(
        f"the checkpoint{where} was made on other data than this fit's: {'; '.join(differ)}. "
        f"A resumed run equals the uninterrupted one only on the same data; {python}",
        options={python: _not_the_runs_settings(saved), "this fit's": "this run's"},
    )


def _not_the_runs_settings(saved: SavedCheckpoint) -> str:
    """The advice of a refused ``deltarule train --resume DIR``: its data file was found
    unchanged, so ``DIR/settings.json`` is not the checkpoint's run's (one copied there)."""
    folder = "DIR" if saved.folder is None else str(saved.folder)
    return (
        f"{folder}/settings.json is not the settings of the run that wrote the checkpoint "
        "there (another run's?): put back that run's own, or start afresh without --resume "
        f"(give --checkpoint a new folder, or delete {folder})."
    )


def _restore_options(saved: SavedCheckpoint, options: list[Callback]) -> None:
    """Restore into a resumed run's ``fit``'s callbacks made of its options the states their
    counterparts saved (raising when they are not the run's)."""
    matched = _callback_states.match_options(saved.callbacks, saved.complete, options)
    _callback_states.restore(saved.callbacks, matched)


def _changed_settings(trainer: Any, saved: SavedCheckpoint) -> list[str]:
    """What differs between the run that wrote ``saved`` and ``trainer``: the network's
    architecture, the optimizer and its hyper-parameters (the learning rate is restored
    from the checkpoint), the trainer's settings. Not the seed: the random generators' states
    are restored from the checkpoint, so a resumed run is the same whatever seed it is given."""
    _, now = trainer.checkpoint_state()
    was = saved.trainer_state
    pairs = [(f"network {key}", value, saved.network.config().get(key))
             for key, value in trainer.network.config().items()]  # fmt: skip
    optimizer = {k: v for k, v in now["optimizer"].items() if k != "learning_rate"}
    old = {k: v for k, v in (was.get("optimizer") or {}).items() if k != "learning_rate"}
    if old.get("name") == optimizer.get("name"):  # a setting added since: the run had its default
        old = {**{k: v for k, v in _defaults(trainer.optimizer).items() if k in optimizer}, **old}
    pairs += [(f"optimizer {key}", optimizer.get(key), old.get(key))
              for key in sorted(set(optimizer) | set(old))]  # fmt: skip
    settings, saved_settings = now["settings"], was.get("settings") or {}
    pairs += [(key, settings.get(key), saved_settings.get(key))
              for key in sorted(set(settings) | set(saved_settings))]  # fmt: skip
    return [f"{name} {then!r} (now {value!r})" for name, value, then in pairs
            if plain(value) != plain(then)]  # fmt: skip


def _defaults(optimizer: Any) -> dict[str, Any]:
    """The keyword defaults of ``optimizer``'s class (Adam's ``epsilon_hat=False``)."""
    try:
        parameters = inspect.signature(type(optimizer).__init__).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def _folder(folder: Any) -> Path:
    """``folder`` as a Path, once it is known that a checkpoint can be kept there: a path
    (:func:`checked_path`) whose nearest existing part is a folder, not a file — found when
    the Checkpoint is made, not after the first epoch's work."""
    path = Path(checked_path(folder, "Checkpoint's folder", "'runs/first'"))
    for part in (path, *path.parents):
        try:
            if not part.exists():
                continue
        except OSError:  # (a part that cannot be looked at: the save will say why)
            break
        if not part.is_dir():
            raise InputError(
                f"Checkpoint's folder {os.fspath(folder)!r} cannot be made: {str(part)!r} "
                "is a file, not a folder; expected a folder to keep the checkpoints in "
                "(created if missing). Choose another path."
            )
        break
    return path


class Checkpoint(Callback):
    """Save a resumable checkpoint in ``folder`` every ``every`` epochs (atomically).

    It saves the state of every callback of the run that has one (early stopping, a
    plateau's counters). It runs after the other callbacks of the epoch wherever it is
    listed, so that it saves the states — and the learning rate — that epoch updated.

    Parameters
    ----------
    folder : str or Path
    every : int
        Checkpoint every ``every``-th epoch (counted across resumed runs).
    history : History, optional
        Epochs of earlier runs (when resuming), kept at the head of the saved history.
    early_stopping : EarlyStopping, optional
        Deprecated and ignored: the state of every callback of the run is saved.
    """

    runs_last = True

    def __init__(
        self,
        folder: str | Path,
        every: int = 1,
        *,
        history: History | None = None,
        early_stopping: Callback | None = None,
    ) -> None:
        if early_stopping is not None:
            warnings.warn(
                "Checkpoint(early_stopping=...) is no longer needed and is ignored: the state "
                "of every callback passed to fit is saved. Drop the argument.",
                DeprecationWarning,
                stacklevel=2,
            )
        # (every=0 or 2.7 once became 1 or 2 silently)
        self.folder, self.every = _folder(folder), check_int(every, "Checkpoint's every (epochs)")
        self.prior = list(history or [])
        # The epoch of the last checkpoint saved (or resumed from); None before any.
        self.saved_epoch: int | None = self.prior[-1].epoch if self.prior else None
        self._history = _HistoryText()

    def chunk_quiet(self, losses: Any, state: TrainingState) -> int | None:
        """The next epoch it saves (a compiled online run goes in chunks up to it)."""
        ahead = (-(state.epoch + 1)) % self.every  # (epoch state.epoch + 1 is losses[0]'s)
        return min(ahead, len(losses))

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if record.epoch % self.every == 0 and state.trainer is not None:
            text = self._history.of(self.prior + list(state.history.records))
            try:
                _save(self.folder, state.trainer, text, state.callbacks)
            except OSError as exc:  # (a full disk): the previous checkpoint is still whole
                raise self._not_saved(exc) from None
            self.saved_epoch = record.epoch
        return None

    def _not_saved(self, exc: OSError) -> OSError:
        """``exc`` (a failed save), of the same type, saying that the previous checkpoint
        can still be resumed, when there is one."""
        if self.saved_epoch is None or not (self.folder / CHECKPOINT_FILE).is_file():
            return exc
        fix = "once the disk has room" if exc.errno == errno.ENOSPC else "once that is fixed"
        error = type(exc)(
            f"{exc} The checkpoint of epoch {self.saved_epoch} in {self.folder} is intact: "
            f"resume from it {fix} ('deltarule train --resume {self.folder}' on the command "
            "line)."
        )
        error.errno = exc.errno
        return error
