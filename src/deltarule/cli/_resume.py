"""Resumable ``deltarule train``: settings and checkpoints in a folder (``--checkpoint DIR``).

``--checkpoint DIR`` writes ``DIR/settings.json`` (every setting of the run, data path
made absolute) before training and ``DIR/checkpoint.safetensors`` at the end of every
``--checkpoint-every N``-th epoch (:mod:`deltarule.io.checkpoint`), both atomically.
``deltarule train --resume DIR`` rebuilds the same run from the settings, loads the
checkpoint and trains the remaining epochs: the result is bitwise-identical to a run
that was never interrupted.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import InputError

SETTINGS_FILE = "settings.json"
_KEYS = ("data", "target", "task", "impute", "dataset", "data_dir", "hidden", "activation",
         "loss", "optimizer", "epochs", "batch_size", "learning_rate", "validation_split",
         "patience", "seed", "out", "plot", "checkpoint_every")  # fmt: skip
_PATHS = ("data", "data_dir", "out", "plot")
_KINDS = {"epochs": (int,), "batch_size": (int,), "patience": (int,), "seed": (int,),
          "validation_split": (int, float), "learning_rate": (int, float, type(None)),
          "checkpoint_every": (int, type(None))}  # fmt: skip


def save_settings(folder: str | Path, args: argparse.Namespace) -> None:
    """Write the run's settings to ``folder/settings.json`` (paths made absolute)."""
    from ..io.atomic import atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    values = {key: getattr(args, key, None) for key in _KEYS}
    for key in _PATHS:
        if values[key] is not None:
            values[key] = str(Path(values[key]).resolve())
    payload = {"format": "deltarule.train-settings", "version": 1, "settings": values}
    atomic_write_text(folder / SETTINGS_FILE, json.dumps(payload, indent=2) + "\n")


def check_new_run(folder: str | Path) -> None:
    """Refuse to start a new run in a ``--checkpoint`` folder that holds one already: its
    settings and checkpoint would be replaced, and with them the way to resume it."""
    from ..io.checkpoint import CHECKPOINT_FILE

    held = [name for name in (SETTINGS_FILE, CHECKPOINT_FILE) if (Path(folder) / name).exists()]
    if held:
        raise InputError(
            f"--checkpoint {folder} already holds a training run ({' and '.join(held)}); a new "
            f"run would replace it. Continue that run with 'deltarule train --resume {folder}', "
            "or give a new folder (or delete that one) to start afresh."
        )


def _train_defaults() -> argparse.Namespace:
    """What ``deltarule train`` sets when an option is not given."""
    from . import build_parser

    return build_parser().parse_args(["train"])


def load_settings(folder: str | Path, given: argparse.Namespace) -> argparse.Namespace:
    """Return the original run's settings, with ``--out``, ``--plot`` and ``--quiet`` as
    given now; any other training option given now is an error (it would be ignored)."""
    path = Path(folder) / SETTINGS_FILE
    if Path(folder).exists() and not Path(folder).is_dir():
        raise InputError(
            f"--resume {folder} is a file; expected the folder that was given to --checkpoint."
        )
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        values = payload["settings"]
        if payload.get("format") != "deltarule.train-settings" or not isinstance(values, dict):
            raise ValueError("not a settings file")
    except FileNotFoundError:
        raise InputError(
            f"--resume {folder}: no {SETTINGS_FILE} there; pass the folder that was given "
            "to --checkpoint."
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"--resume {folder}: {path} is unreadable or corrupt ({exc}).") from None
    defaults = vars(_train_defaults())
    changed = [
        key for key in _KEYS
        if key not in ("out", "plot") and getattr(given, key, None) != defaults.get(key)
    ]  # fmt: skip
    if changed:
        shown = ", ".join("DATA" if k == "data" else "--" + k.replace("_", "-") for k in changed)
        raise InputError(
            f"--resume {folder} continues the saved run with its own settings, but {shown} "
            f"{'were' if len(changed) > 1 else 'was'} given too; expected only --out, --plot, "
            "--quiet. Drop the other options, or start a new run without --resume."
        )
    if (
        getattr(given, "checkpoint", None)
        and Path(given.checkpoint).resolve() != Path(folder).resolve()
    ):
        raise InputError(
            f"--resume {folder} keeps checkpointing into {folder}, but --checkpoint "
            f"{given.checkpoint} was given too; drop --checkpoint."
        )
    for key, kinds in _KINDS.items():  # (an edited or damaged file: not a TypeError later)
        value = values.get(key)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise InputError(
                f"--resume {folder}: {path} has {key} = {value!r}, not "
                f"{'a number' if float in kinds else 'an integer'}; the file is damaged. "
                "Start the run again (delete the folder, or give --checkpoint a new one)."
            )
    merged = argparse.Namespace(**{key: values.get(key) for key in _KEYS})
    merged.out = given.out or merged.out
    merged.plot = given.plot or merged.plot
    merged.quiet, merged.debug = given.quiet, getattr(given, "debug", False)
    merged.checkpoint, merged.resume = str(folder), str(folder)
    return merged


def fit_resumable(
    net: Any,
    X: np.ndarray,
    Y: np.ndarray,
    validation: tuple | None,
    args: argparse.Namespace,
    metrics: list[str] | None,
) -> Any:
    """Train as ``deltarule.fit`` would, with checkpoints and resumption; return the history."""
    from ..callbacks import EarlyStopping
    from ..history import History
    from ..io.checkpoint import CHECKPOINT_FILE, Checkpoint, load_checkpoint, resume_trainer
    from ..training import Trainer

    trainer = Trainer(net, args.optimizer, args.learning_rate, args.batch_size,
                      seed=args.seed, metrics=metrics)  # fmt: skip
    stopper = None
    if args.patience > 0:
        stopper = EarlyStopping("val_loss" if validation else "loss", args.patience)
    callbacks: list[Any] = [stopper] if stopper else []
    prior = History()
    resume = getattr(args, "resume", None)
    if resume and (Path(resume) / CHECKPOINT_FILE).exists():  # (none yet: killed during the
        saved = load_checkpoint(resume)  # first epoch, and the run starts over, identically)
        resume_trainer(trainer, saved, callbacks)
        prior = saved.history
        # The checkpoint of a run's last epoch: it ended there (killed before its model was
        # saved). End it as it ended: the stop, and the best epoch's weights.
        reason = stopper.stop_reason() if stopper else None
        if reason is None and trainer.epochs_done >= args.epochs:
            reason = f"max epochs ({args.epochs}) reached"
        if reason is not None:
            history = History(list(prior), reason)
            if stopper:
                stopper.restore(net, history)
            return history
    if getattr(args, "checkpoint", None):  # (runs last: saves the stopper's updated state)
        callbacks.append(Checkpoint(args.checkpoint, args.checkpoint_every or 1, history=prior))
    history = trainer.fit(X, Y, epochs=args.epochs - trainer.epochs_done,
                          validation_data=validation, callbacks=callbacks,
                          verbose=0 if args.quiet else 1)  # fmt: skip
    return History(list(prior) + list(history), history.stop_reason, history.best_epoch)
