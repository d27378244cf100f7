"""What a ``deltarule train`` run reports and writes once trained: the score it prints
(:func:`report_score`), the model file with its ``training`` record (:func:`save_trained`,
written atomically), and the loss-curve plot after it (:func:`plot_curves`: one that fails
says where the model was saved)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .._naming import escape_surrogates
from ..exceptions import InputError
from ._common import CLASSIFICATION, class_scores, score
from ._train_fit import standardised

__all__ = [
    "MAX_STORED_CONFUSION",
    "plot_curves",
    "report_score",
    "save_trained",
    "say",
    "training_record",
]

MAX_STORED_CONFUSION = 50
"""The most classes whose confusion matrix the model file's ``training`` record keeps (50 x 50
= 2,500 counts); for more, the record's ``confusion_matrix`` is null and its ``note`` says why
(1,000 classes would take a million counts, ~3 MB of the file's JSON header, and seconds to
write and read), and ``deltarule evaluate`` prints the matrix on demand."""


def report_score(net: Any, pre: Any, parts: tuple, test: Any) -> tuple[str, dict, str]:
    """Score on the test set, else the validation rows, else the training rows; return
    (which rows, the metrics, the line to print). It is printed once the model is saved
    (:func:`say`): a failed print must not lose the model."""
    which, (X, Y) = ("test", test) if test else ("validation", parts[2:])
    if X is None:
        which, X, Y = "training", parts[0], parts[1]
    classification = pre.task == CLASSIFICATION
    outputs = class_scores(net, pre, net.predict(X))  # (one-vs-rest: rows summing to 1)
    names = None if classification else pre.target_names
    metrics = score(pre.task, outputs, Y, len(pre.classes) if classification else 0, names)
    if classification:
        line = f"{which} accuracy: {metrics['accuracy']:.4f} ({len(Y)} rows"
        return which, metrics, line + _common_class(metrics, Y, pre.classes) + ")"
    r2 = metrics["r2"]
    r2_text = f"{r2:.4f}" if r2 == r2 else "undefined (R² needs at least 2 rows)"
    rows = f"{len(Y)} rows"
    if "per_target" in metrics:  # (several targets: the means, then each one's)
        each = [
            f"{name} (r2 {m['r2']:.4f}, mse {m['mse']:.6g})"
            for name, m in metrics["per_target"].items()
        ]
        rows += f"; each the mean over the targets {', '.join(each[:-1])} and {each[-1]}"
    return which, metrics, f"{which} r2: {r2_text}, mse: {metrics['mse']:.6g} ({rows})"


IMBALANCED = 2 / 3
"""A share of the scored rows in their most common class from which the accuracy line
says what always predicting that class scores, beside the balanced accuracy."""


def _common_class(metrics: dict, Y: np.ndarray, classes: list) -> str:
    """What the accuracy line adds when the rows are mostly of one class (an accuracy of
    95.9% on rows 95.9% of one class is a model that learned nothing): the balanced accuracy
    and what always predicting that class scores."""
    labels = Y[:, 0] > 0.5 if Y.shape[1] == 1 else Y.argmax(axis=1)
    counts = np.bincount(labels.astype(np.intp), minlength=len(classes))
    share = counts.max() / max(len(Y), 1)
    if share < IMBALANCED:
        return ""
    common = classes[int(counts.argmax())]
    return (f"; balanced accuracy {metrics['balanced_accuracy']:.4f}; always predicting "
            f"{common!r}, the most common class, scores {share:.4f}")  # fmt: skip


def say(lines: list[str], model: Path | None) -> None:
    """Print ``lines`` on standard output; when that fails (a closed pipe, a full disk),
    raise its error saying that the model (saved before) is complete."""
    from ._outputs import StdoutError

    try:
        for line in lines:
            print(line)
        sys.stdout.flush()
    except StdoutError as exc:
        if model is None:
            raise
        raise StdoutError(f"{exc} The model was saved to {model} before; it is complete.") from exc


def training_record(history: Any, args: argparse.Namespace, extra: dict) -> dict:
    """The ``training`` entry of the model file: summary (with settings) and history."""
    # (read as columns: a compiled online run keeps a million epochs as chunks of them)
    columns = history.as_dict()
    epochs = columns.get("epoch", [])
    at = epochs.index(history.best_epoch) if history.best_epoch in epochs else len(epochs) - 1
    settings = {key: getattr(args, key) for key in (
        "task", "impute", "activation", "loss", "optimizer", "epochs", "batch_size",
        "learning_rate", "validation_split", "patience", "seed")}  # fmt: skip
    settings["test_split"] = getattr(args, "test_split", None) or 0.0
    settings["epochs_auto"] = bool(getattr(args, "epochs_auto", False))  # (--epochs auto)
    if settings["learning_rate"] is None and epochs:  # (the optimizer's default)
        rate = float(columns["learning_rate"][0])
        settings["learning_rate"] = rate if rate > 0 else None  # (0: a solver sizes its steps)
    stops_early = args.patience > 0  # (min_delta: early stopping's; none without it)
    settings["min_delta"] = (getattr(args, "min_delta", None) or 0.0) if stops_early else None
    settings["target_error"] = getattr(args, "target_error", None)  # (every stopping rule)
    settings["until_all_correct"] = bool(getattr(args, "until_all_correct", False))
    settings["gradient_threshold"] = getattr(args, "gradient_threshold", None)
    settings["hidden"] = extra.pop("hidden")
    settings["drop"] = list(getattr(args, "drop", None) or [])
    settings["l2"] = getattr(args, "l2", None) or 0.0
    settings["dropout"] = getattr(args, "dropout", None) or 0.0
    settings["class_weight"] = getattr(args, "class_weight", None)
    summary = {
        "epochs": len(epochs),
        "stop_reason": history.stop_reason,
        "best_epoch": history.best_epoch,
        "final": history[at].as_dict() if epochs else None,
        **extra,
        "settings": settings,
    }
    kept = kept_epochs(epochs, history.best_epoch)
    if kept is not None:
        columns = {key: [values[i] for i in kept] for key, values in columns.items()}
        summary["history_kept"] = (
            f"{len(kept):,} of {len(epochs):,} epochs kept (evenly spaced; first, best, last)"
        )
    return {"summary": summary, "history": columns}


HISTORY_ROWS = 100_000
"""The most epochs whose record a model file from ``deltarule train`` keeps (~15 MB of its
header): a longer run's (a tiny network's million online epochs) would make a header that
load_model takes seconds to read, and past ~650,000 epochs one it refuses
(:data:`~deltarule.io.safetensors.DEFAULT_MAX_HEADER_BYTES`)."""


def kept_epochs(epochs: list[int], best_epoch: int | None) -> list[int] | None:
    """The indices of the ``epochs`` (their numbers) a model file keeps: None for all (at
    most :data:`HISTORY_ROWS`), else :data:`HISTORY_ROWS` evenly spaced from the first to
    the last, the best one among them."""
    n_epochs = len(epochs)
    if n_epochs <= HISTORY_ROWS:
        return None
    spaced = np.linspace(0, n_epochs - 1, HISTORY_ROWS - 1).round().astype(np.int64)
    kept = set(spaced.tolist())
    if best_epoch in epochs:
        kept.add(epochs.index(best_epoch))
    return sorted(kept)


def save_trained(
    net: Any, pre: Any, out: Path, history: Any, args: argparse.Namespace, extra: dict
) -> str:
    """Save the model file ``out``: the network, its preprocessing and classes, and the
    ``training`` record (:func:`training_record`); return the line that says where (and
    that it replaced a file).

    When ``out`` cannot be written now (its disk filled up during the run), the model is
    saved in the temporary folder (else the current one) instead, and the error says where:
    a finished run is not lost to its last write.
    """
    if standardised(net, pre.task == CLASSIFICATION):
        extra["note"] = (
            "training losses are on the standardised targets, each on its own"
            if pre.several_targets
            else "training losses are on the standardised target"
        )
    _without_large_confusion(extra)
    training = _escaped(training_record(history, args, extra))
    replacing = out.is_file()  # (overwritten, as a compiler's output is, but said so)
    saved = {"preprocessing": pre.to_dict(), "classes": pre.classes, "training": training}
    try:
        _save(net, out, saved)
    except OSError as exc:
        raise _saved_elsewhere(net, out, saved, exc) from exc
    shown = f"./{out}" if str(out) == "-" else out  # (a file named -, as it must be typed)
    return f"model saved to {shown}" + (" (replacing the file that was there)" if replacing else "")


def _without_large_confusion(extra: dict) -> None:
    """Replace in ``extra`` (the record's summary) each ``*_metrics`` confusion matrix of more
    than :data:`MAX_STORED_CONFUSION` classes by None, and say so in its ``note``."""
    for key, scores in list(extra.items()):  # (a note may be added)
        matrix = scores.get("confusion_matrix") if isinstance(scores, dict) else None
        if not key.endswith("_metrics") or matrix is None or len(matrix) <= MAX_STORED_CONFUSION:
            continue
        extra[key] = {**scores, "confusion_matrix": None}
        said = (
            f"confusion matrix not kept: {len(matrix)} classes (over {MAX_STORED_CONFUSION}); "
            "deltarule evaluate prints it"
        )
        extra["note"] = f"{extra['note']}; {said}" if extra.get("note") else said


def _save(net: Any, path: Path, saved: dict) -> None:
    from ..io.model_file import save_model

    save_model(net, path, **saved)


def _saved_elsewhere(net: Any, out: Path, saved: dict, exc: OSError) -> InputError:
    """Save the model in the temporary folder, else the current one (``out`` could not be
    written: ``exc``); return the error to raise, saying where it is."""
    import os
    import tempfile

    reason = str(exc).strip().rstrip(".") or type(exc).__name__
    for folder in (tempfile.gettempdir(), os.getcwd()):
        try:
            fd, name = tempfile.mkstemp(prefix=f"{out.stem}.", suffix=".safetensors", dir=folder)
            os.close(fd)
        except OSError:
            continue
        try:
            _save(net, Path(name), saved)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(name)
            continue
        return InputError(
            f"{reason}. The trained model was saved to {name} instead; move it where it "
            f"belongs once there is room (mv {name} {out})."
        )
    return InputError(f"{reason}. The trained model could not be saved elsewhere either.")


def _escaped(value: Any) -> Any:
    """``value`` (the training record) with text that has no UTF-8 form (a file name's
    bytes that are not UTF-8, held as lone surrogates) escaped: ``bad\\xffname.csv``."""
    if isinstance(value, str):
        return escape_surrogates(value)
    if isinstance(value, dict):
        return {_escaped(key): _escaped(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escaped(item) for item in value]
    return value


def plot_curves(
    history: Any, path: str, where: str, standardised: bool, model: Path | None
) -> None:
    """Write the loss curves to ``path``; when that fails, raise an error that says where the
    model was saved (the command then exits with status 2, the model kept)."""
    import warnings

    from ..plots import save_training_curves

    if len(history) == 0:  # (no epoch finished: a divergence in the first, or Ctrl-C in it)
        warnings.warn(
            f"no epoch finished, so there are no curves to plot; {path} was not written.",
            UserWarning,
            stacklevel=2,
        )
        return
    label = "loss (standardised target)" if standardised else "loss"
    try:
        save_training_curves(
            history, path, title=f"training on {where}", loss_label=label
        )  # (the History: its kept epoch and a divergence are drawn from it)
    except Exception as exc:  # (any: the model is saved, say so with the reason)
        reason = str(exc).strip().replace("\n", " ").rstrip(".") or type(exc).__name__
        kept = (
            f" The model is complete, its history included (deltarule inspect {model})."
            if model is not None
            else ""
        )
        saved = f"the model was saved to {model}, but " if model is not None else ""
        raise InputError(f"{saved}the plot {path} could not be written: {reason}.{kept}") from exc
    print(f"plot saved to {path}")
