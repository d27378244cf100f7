"""Callbacks that write files during training: a CSV log and model checkpoints.

:class:`CSVLogger` appends one row per epoch; :class:`ModelCheckpoint` saves the model (with
the optimizer's and the trainer's state, to resume from) every few epochs or at the best
monitored value. Both refuse a path that cannot take a file (a folder, a missing folder)
before the first epoch trains.
"""

from __future__ import annotations

import csv
import math
import numbers
import os
import string
from pathlib import Path
from typing import Any

from .._network_data import keyword_checked
from .._typing import Array
from .._validation import check_flag, check_int
from ..exceptions import InputError
from ..history import EpochRecord, History
from ._base import KERAS_QUIET, Callback, TrainingState
from ._monitor import _better, _canonical, _monitored, check_monitor, resolve_mode


def _file_path(path: Any, who: str, example: str) -> str:
    """``path`` as a string, refusing what is not a file path (None, a number)."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise InputError(
            f"{who} needs a file path (a str or pathlib.Path, e.g. {example!r}); received "
            f"{type(path).__name__} {path!r:.60}."
        )
    return os.fspath(path)


def _check_folder(path: str | Path, who: str) -> None:
    """Refuse, before the first epoch trains, a file path that cannot take a file: a
    folder, a path ending in a separator, a path whose folder does not exist."""
    text = os.fspath(path)
    if text.endswith(tuple(sep for sep in (os.sep, os.altsep) if sep)) or Path(text).is_dir():
        raise InputError(
            f"{who}: {text!r} is a folder; expected a file path such as "
            f"{os.path.join(text, 'model.safetensors')!r}."
        )
    folder = Path(text).parent
    if not folder.is_dir():
        raise InputError(
            f"{who}: the folder {str(folder)!r} of {text!r} does not exist; create it "
            "first (e.g. mkdir -p) or choose another path."
        )


class CSVLogger(Callback):
    """Write one CSV row per epoch to ``filename`` (flushed each epoch).

    Keras's signature: ``CSVLogger(filename, separator=",", append=False)``.

    Parameters
    ----------
    filename : str or pathlib.Path
        The CSV file (kept as ``self.path``).
    separator : str, default=","
        One character between the values of a row (``";"``, ``"\\t"``, ...).
    append : bool, default=False
        Add the rows to the file's (its columns must be this run's), else start it afresh.
    """

    @keyword_checked({"path": "CSVLogger's first argument is filename (as Keras's): "
                      "CSVLogger('log.csv', separator=',', append=False)."})  # fmt: skip
    def __init__(self, filename: str | Path, separator: str = ",", append: bool = False) -> None:
        self.path = Path(_file_path(filename, "CSVLogger", "log.csv"))
        if not isinstance(separator, str) or len(separator) != 1 or separator in '\r\n"':
            why = (
                " CSVLogger's second argument is the separator, as Keras's; to append to the "
                "file pass append=True."
                if isinstance(separator, bool)
                else ""
            )
            raise InputError(
                "CSVLogger's separator must be one character other than a quote or a line "
                f"break, such as ',' or ';'; received {type(separator).__name__} "
                f"{separator!r:.60}.{why}"
            )
        self.separator = separator
        self.append = check_flag(append, "CSVLogger's append", " (add to the file's rows)")
        self._file: Any = None
        self._writer: Any = None

    def on_train_begin(self, state: TrainingState) -> None:
        _check_folder(self.path, "CSVLogger")

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        row = record.as_dict()
        if self._writer is None:
            exists = self.append and self.path.exists() and self.path.stat().st_size > 0
            if exists:
                with self.path.open(newline="", encoding="utf-8") as handle:
                    header = next(csv.reader(handle, delimiter=self.separator), [])
                if header != list(row):  # (rows longer than the header made the file unreadable)
                    raise InputError(
                        f"CSVLogger cannot append to {str(self.path)!r}: its columns are "
                        f"{', '.join(header)}, this run records {', '.join(row)}. Log to "
                        "another file, or pass append=False to start it afresh."
                    )
            self._file = self.path.open(
                "a" if self.append else "w", newline="", encoding="utf-8"
            )  # (UTF-8 everywhere: the locale's encoding is cp1252 on Windows)
            self._writer = csv.DictWriter(
                self._file, fieldnames=list(row), delimiter=self.separator
            )
            if not exists:
                self._writer.writeheader()
        self._writer.writerow(row)
        self._file.flush()
        return None

    def on_train_end(self, history: History, state: TrainingState) -> None:
        if self._file is not None:
            self._file.close()
        self._file = self._writer = None


def _dummies(fields: list[str]) -> dict[str, Any]:
    """Values for ``fields`` as the epochs give them: the epoch an int, the rest floats."""
    return {f: 1 if f == "epoch" else 1.5 for f in fields}


def _recorded(field: str) -> str:
    """The record's name for a path placeholder: a metric's alias's canonical name, and
    Keras's ``lr`` as ``learning_rate``."""
    return "learning_rate" if field == "lr" else _canonical(field)


def _placeholders(path: str) -> list[str]:
    """The names of ``path``'s ``{placeholders}``; an InputError for one that is not a
    plain name (``{}``, ``{0}``, ``{a.b}``) or cannot be formatted as a number."""
    hint = (
        "use {epoch} or a recorded value's name with a format, e.g. "
        "'model-{epoch:03d}-{val_loss:.3f}.safetensors', and double braces for literal ones"
    )
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(path) if f is not None]
        bad = [f for f in fields if not f.isidentifier()]
        if not bad:
            path.format(**_dummies(fields))
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(
            f"ModelCheckpoint path {path!r} has a placeholder it cannot fill "
            f"({type(exc).__name__}: {exc}); {hint}."
        ) from None
    if bad:
        raise InputError(
            f"ModelCheckpoint path {path!r} has the placeholder {{{bad[0]}}}, not a name; {hint}."
        )
    if "batch" in fields:  # (Keras's, with save_freq in batches)
        raise InputError(
            f"ModelCheckpoint path {path!r}: the template field {{batch}} is not available, "
            "as ModelCheckpoint saves after epochs, not batches; the fields are {epoch} and "
            f"the epoch's recorded values. Remove it, or {hint}."
        )
    return fields


def _threshold(value: Any, save_best_only: Any) -> float | None:
    """``initial_value_threshold`` checked: None, or a finite number with ``save_best_only``
    (the best value an epoch must beat to be saved)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise InputError(
            "ModelCheckpoint's initial_value_threshold must be a finite number (the value "
            "an epoch must beat to be saved) or None; received "
            f"{type(value).__name__} {value!r:.60}."
        )
    if not save_best_only:
        raise InputError(
            f"ModelCheckpoint's initial_value_threshold={value!r} applies only with "
            "save_best_only=True (it is the value the first saved epoch must beat); pass "
            "save_best_only=True, or leave it out."
        )
    return float(value)


class ModelCheckpoint(Callback):
    """Save the model during training: the best only, or every ``every`` epochs.

    With ``save_best_only`` an epoch is saved when ``monitor`` is better than at every epoch
    saved before; a NaN or infinite value is never the best (as for :class:`EarlyStopping`).
    ``mode="auto"`` reads which way is better as :class:`EarlyStopping` does (a custom
    metric's ``greater_is_better`` included).

    ``path`` may contain ``{epoch}`` and, as Keras's ``filepath``, the epoch's recorded
    values by name with a format: ``"model-{epoch:03d}-{val_loss:.3f}.safetensors"``
    (``loss``, ``val_loss``, the metrics and their ``val_`` forms, ``learning_rate`` or
    Keras's ``lr``; a name the run does not record, or a format a number cannot take, is
    refused before training; so is Keras's ``{batch}``, as saves follow epochs, and a name
    ending in Keras's ``.keras``, ``.h5`` or ``.hdf5``: the files are safetensors). Files
    are written atomically by
    :func:`deltarule.io.save_model`; besides the weights they hold the optimizer
    state (as ``extra.optimizer.*`` tensors) and the trainer's state (epochs,
    learning rate, random streams) in the header's ``training.trainer``, so
    :meth:`deltarule.training.Trainer.restore_state` can resume from them. For a
    checkpoint of the whole run, the callbacks' states included, that
    :func:`deltarule.io.checkpoint.resume_trainer` continues, see
    :class:`deltarule.io.checkpoint.Checkpoint`.

    ``initial_value_threshold`` (with ``save_best_only``, as Keras's) is the value an epoch
    must beat to be saved: the best so far before the first epoch.
    """

    @keyword_checked({"verbose": KERAS_QUIET,
                      "filepath": "ModelCheckpoint's first argument is path (Keras's "
                      "filepath): ModelCheckpoint('model-{epoch:03d}.safetensors', ...).",
                      "save_weights_only": "A checkpoint file holds the weights with the "
                      "architecture and the optimizer's state (safetensors: data only); "
                      "deltarule.io.load_model(path).network has the weights.",
                      "save_freq": "ModelCheckpoint saves after every N-th epoch: every=N "
                      "(no saving between batches).",
                      "period": "ModelCheckpoint's every=N is Keras's old period=N (save "
                      "after every N-th epoch): ModelCheckpoint(path, every=2)."})  # fmt: skip
    def __init__(
        self,
        path: str | Path,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        every: int = 1,
        mode: str = "auto",
        initial_value_threshold: float | None = None,
    ) -> None:
        self.path = _file_path(path, "ModelCheckpoint", "best.safetensors")
        from ..io._paths import refuse_keras_format  # (an edge's: imported when needed)

        refuse_keras_format(self.path, "ModelCheckpoint's path")  # (not after an epoch)
        self.monitor = _canonical(monitor)
        self.save_best_only = save_best_only
        self.every, self.mode = check_int(every, "every"), _better(mode, monitor)
        self._mode_setting = self.mode  # (the checkpoint's: "auto" while the run decides)
        self._fields = _placeholders(self.path)  # (refused now, not after an epoch trained)
        self.best: float | None = _threshold(initial_value_threshold, save_best_only)
        self.saved: list[str] = []

    def on_train_begin(self, state: TrainingState) -> None:
        _check_folder(self.path.format(**_dummies(self._fields)), "ModelCheckpoint")
        for field in self._fields:
            if field != "epoch":
                check_monitor(_recorded(field), state, f"ModelCheckpoint path {self.path!r}")
        if self.save_best_only:
            who = "ModelCheckpoint(save_best_only=True)"
            check_monitor(self.monitor, state, who)
            self.mode = resolve_mode(self._mode_setting, self.monitor, state, who, self)

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Array]] | None:
        """With ``save_best_only``, the best value so far (a resumed run saves only a better
        epoch, as the uninterrupted run would); None otherwise."""
        if not self.save_best_only:
            return None
        finite = self.best is not None and math.isfinite(self.best)
        return {"best": self.best if finite else None}, {}

    def load_state_dict(self, data: dict[str, Any], tensors: dict[str, Array]) -> None:
        """Restore a :meth:`state_dict`."""
        best = data["best"]
        if best is not None and (isinstance(best, bool) or not isinstance(best, (int, float))):
            raise ValueError(f"best is {best!r}, not a number")
        self.best = None if best is None else float(best)

    def config(self) -> dict[str, Any]:
        """With ``save_best_only``, the monitored value and its mode (empty otherwise: no
        state to match)."""
        if not self.save_best_only:
            return {}
        return {"monitor": self.monitor, "mode": self._mode_setting}

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if self.save_best_only:
            value = _monitored(record, self.monitor)
            if self.mode == "auto":  # (driven by hand, without on_train_begin)
                self.mode = resolve_mode(self.mode, self.monitor, state, "ModelCheckpoint")
            sign = 1 if self.mode == "min" else -1
            if not math.isfinite(value):  # never the best (a first NaN blocked every save)
                return None
            if self.best is not None and not sign * value < sign * self.best:
                return None
            self.best = value
        elif record.epoch % self.every:
            return None
        from ..io import save_model  # an edge: imported only when a checkpoint is written

        values = {f: _monitored(record, _recorded(f)) for f in self._fields if f != "epoch"}
        target = self.path.format(epoch=record.epoch, **values)
        training: dict[str, Any] = {"epoch": record.epoch, "record": record.as_dict()}
        extra = None
        if state.trainer is not None and hasattr(state.trainer, "checkpoint_state"):
            extra, training["trainer"] = state.trainer.checkpoint_state()
        save_model(state.network, target, training=training, extra_tensors=extra)
        self.saved.append(target)
        return None
