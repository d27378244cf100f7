"""What kind of model file a command was given, told from its training record.

Every deltarule file is a model file (:mod:`deltarule.io.model_file`), but four
programs write them, and their ``training`` records differ:

* ``deltarule train --out`` (:data:`TRAIN`): ``{"summary": {...}, "history": [...]}``,
  with the preprocessing and class labels a prediction needs;
* a training checkpoint (:data:`CHECKPOINT`, :mod:`deltarule.io.checkpoint`, written by
  ``deltarule train --checkpoint DIR`` or ``Checkpoint`` in Python):
  ``{"trainer": ..., "history": ..., "callbacks": ...}`` and no preprocessing or labels;
* a scikit-learn estimator's ``save`` (:data:`ESTIMATOR`, :mod:`deltarule.sklearn`):
  ``{"estimator": "MLPClassifier", "params": ..., "attributes": ...}``;
* anything else (:data:`NETWORK`): a network saved from Python with ``save_model``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..exceptions import InputError
from ._resume import SETTINGS_FILE

__all__ = ["CHECKPOINT", "ESTIMATOR", "NETWORK", "TRAIN", "checkpoint_advice", "model_kind",
           "refuse_checkpoint", "run_settings"]  # fmt: skip

TRAIN, CHECKPOINT, ESTIMATOR, NETWORK = "train", "checkpoint", "estimator", "network"
_SETTINGS_FORMAT = "deltarule.train-settings"  # (what deltarule.cli._resume.save_settings writes)


def model_kind(header: dict[str, Any]) -> str:
    """Return which program wrote the model file with this (validated) header."""
    training = header.get("training")
    if not isinstance(training, dict):
        return NETWORK
    if "estimator" in training:  # (an estimator's record holds a "trainer" too)
        return ESTIMATOR
    if "trainer" in training and "history" in training:  # what load_checkpoint requires
        return CHECKPOINT
    if "summary" in training:
        return TRAIN
    return NETWORK


def run_settings(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The settings of the ``deltarule train --checkpoint`` run whose checkpoint is ``path``
    (its folder's ``settings.json``), or None when there are none or they cannot be read."""
    try:
        payload = json.loads((Path(path).parent / SETTINGS_FILE).read_text(encoding="utf-8"))
        settings = payload.get("settings")
        if payload.get("format") != _SETTINGS_FORMAT or not isinstance(settings, dict):
            return None
    except (OSError, ValueError, AttributeError):
        return None
    return settings


def checkpoint_advice(path: str | os.PathLike[str]) -> str:
    """What to use instead of the checkpoint ``path``: the run's model file, or resuming."""
    folder = os.path.dirname(os.fspath(path)) or "."
    settings = run_settings(path)
    if settings is None:  # written from Python: deltarule.io.checkpoint.Checkpoint
        return (
            "continue the run with deltarule.io.checkpoint.load_checkpoint and resume_trainer, "
            "then save the model with its preprocessing"
        )
    out = settings.get("out")
    model = ""
    if isinstance(out, str):
        model = f" ({out})" if os.path.isfile(out) else f" ({out}, written when the run ends)"
    if settings.get("data") == "-":  # (standard input cannot be read again: see _resume)
        return (
            f"use the run's model file{model} (the run read standard input, so it cannot be "
            "resumed)"
        )
    return (
        f"use the run's model file{model}, or finish the run with "
        f"'deltarule train --resume {folder}'"
    )


def refuse_checkpoint(header: dict[str, Any], path: str, command: str) -> None:
    """Refuse a training checkpoint where a finished model is needed (``predict``).

    A checkpoint holds no preprocessing and no class labels: the network would be fed the
    data's raw columns, unscaled and without one-hot categories, and answer class numbers.
    """
    if model_kind(header) == CHECKPOINT:
        raise InputError(
            f"{path} is a training checkpoint, not a finished model: it holds no preprocessing "
            f"or class labels, so '{command}' would feed the network raw columns. To "
            f"{command}, {checkpoint_advice(path)}."
        )
