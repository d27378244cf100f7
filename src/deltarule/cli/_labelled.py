"""Labelled data for a saved model, as ``evaluate`` and ``importance`` read it: the model
checked for scoring one target column (or a regression's several), ``--target`` taken for a
file that names none, DATA read with the model's feature and target columns."""

from __future__ import annotations

import argparse
from typing import Any

from .._naming import missing_columns
from ..exceptions import InputError
from ._common import CLASSIFICATION, Model, read_data
from ._model_kinds import refuse_checkpoint

__all__ = ["check_scorable", "read_labelled", "require_targets", "target_column"]

_PYTHON = {
    "evaluate": "score it in Python: MLPClassifier.load(path).score(X, Y) (subset accuracy, "
    "as scikit-learn's), or deltarule predict it and compare the label columns.",
    "importance": "measure it in Python: deltarule.permutation_importance(MLPClassifier.load"
    "(path).network_, X, Y, scoring='accuracy').",
}
"""Where a multi-label estimator's file can be scored instead, by command."""


def check_scorable(model: Model, path: str, command: str) -> None:
    """Refuse a checkpoint, a multi-label estimator's file and a model of one class."""
    refuse_checkpoint(model.header, path, command)
    if model.multilabel:
        raise InputError(
            f"{command} scores one target column, but {path} is a multi-label "
            f"estimator's file ({model.network.n_outputs} labels, a 0/1 output each); "
            f"{_PYTHON.get(command, _PYTHON['evaluate'])}"
        )
    if model.task == CLASSIFICATION and len(model.pre.classes or ()) == 1:
        raise InputError(
            f"{path} is a model of one class ({model.pre.classes[0]!r}: an estimator "
            "fitted on one class), which predicts it for every row, so there is nothing to "
            f"score; {command} needs a model of two classes or more."
        )


def target_column(model: Model, given: str | None, command: str) -> None:
    """Take ``--target`` as the target column of a model file that names none (its
    stand-in preprocessing's ``y``); refuse one that contradicts the file's own."""
    names = model.pre.target_names
    if given is None or (not model.pre.several_targets and given == str(model.pre.target)):
        return
    # (a --no-header target's name is a number, 4: given as text; several targets' list
    # read as train reads it, 'y1, y2')
    listed = [name.strip() for name in given.split(",")]
    if model.pre.several_targets and listed == [str(name).strip() for name in names]:
        return
    if model.header.get("preprocessing") is not None:
        if model.pre.several_targets:
            raise InputError(
                f"--target {given!r}: {model.path} was trained on the target columns "
                f"{', '.join(map(repr, names))}, which {command} scores; drop --target (or "
                "rename the columns in the data to those names)."
            )
        raise InputError(
            f"--target {given!r}: {model.path} was trained on the target column "
            f"{model.pre.target!r}, which {command} scores; drop --target (or rename the "
            f"column in the data to {model.pre.target!r})."
        )
    model.pre.target = given


def read_labelled(model: Model, args: argparse.Namespace) -> Any:
    """DATA (``args.data``) as a DataFrame of the model's feature and target columns."""
    features, names = model.pre.feature_names, model.pre.target_names
    return read_data(
        args.data,
        target=None if model.pre.several_targets else model.pre.target,
        names=features,
        text_columns=model.pre.text_columns,
        needed=[*features, *names],
        columns=[*features, *names],  # (no others: a wide table costs little)
    )


def require_targets(model: Model, frame: Any, command: str) -> None:
    """Refuse a table without the model's target column(s), saying how to name them."""
    names = model.pre.target_names
    lacking = [name for name in names if name not in frame.columns]
    if not lacking:
        return
    unnamed = model.header.get("preprocessing") is None  # (its stand-in's "y")
    shown = repr(lacking[0]) if len(lacking) == 1 else ", ".join(map(repr, lacking))
    of = f" (of the model's targets {', '.join(map(repr, names))})" if len(names) > 1 else ""
    verb = "compares the predictions with" if command == "evaluate" else "scores the model on"
    raise InputError(
        f"the data has no target column {shown}{of}, which {command} {verb}. "
        f"{missing_columns(lacking, frame.columns)} "
        + ("The model file names no target column: pass --target COLUMN, "
           if unnamed else "Add the target column, ")
        + "or use 'deltarule predict' for unlabelled data."
    )  # fmt: skip
