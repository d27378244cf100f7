"""What a ``deltarule train`` run reports and writes once trained: the score it prints
(:func:`report_score`), the model file with its ``training`` record (:func:`save_trained`,
written atomically), and the loss-curve plot after it (:func:`plot_curves`: one that fails
says where the model was saved)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..exceptions import InputError
from ._common import CLASSIFICATION, score
from ._train_fit import standardised

__all__ = ["plot_curves", "report_score", "save_trained", "training_record"]


def report_score(net: Any, pre: Any, parts: tuple, test: Any, quiet: bool) -> tuple[str, dict]:
    """Score on the test set, else the validation rows, else the training rows; print it."""
    which, (X, Y) = ("test", test) if test else ("validation", parts[2:])
    if X is None:
        which, X, Y = "training", parts[0], parts[1]
    classification = pre.task == CLASSIFICATION
    metrics = score(pre.task, net.predict(X), Y, len(pre.classes) if classification else 0)
    if classification:
        print(f"{which} accuracy: {metrics['accuracy']:.4f} ({len(Y)} rows)")
    else:
        r2 = metrics["r2"]
        r2_text = f"{r2:.4f}" if r2 == r2 else "undefined (R² needs at least 2 rows)"
        print(f"{which} r2: {r2_text}, mse: {metrics['mse']:.6g} ({len(Y)} rows)")
    return which, metrics


def training_record(history: Any, args: argparse.Namespace, extra: dict) -> dict:
    """The ``training`` entry of the model file: summary (with settings) and history."""
    keep = [r for r in history.records if r.epoch == history.best_epoch] or history.records[-1:]
    settings = {key: getattr(args, key) for key in (
        "task", "impute", "activation", "loss", "optimizer", "epochs", "batch_size",
        "learning_rate", "validation_split", "patience", "seed")}  # fmt: skip
    settings["hidden"] = extra.pop("hidden")
    settings["drop"] = list(getattr(args, "drop", None) or [])
    summary = {
        "epochs": len(history.records),
        "stop_reason": history.stop_reason,
        "best_epoch": history.best_epoch,
        "final": keep[0].as_dict() if keep else None,
        **extra,
        "settings": settings,
    }
    return {"summary": summary, "history": history.as_dict()}


def save_trained(
    net: Any, pre: Any, out: Path, history: Any, args: argparse.Namespace, extra: dict
) -> None:
    """Save the model file ``out``: the network, its preprocessing and classes, and the
    ``training`` record (:func:`training_record`); say where (and that it replaced a file)."""
    from ..io.model_file import save_model

    if standardised(net, pre.task == CLASSIFICATION):
        extra["note"] = "training losses are on the standardised target"
    training = training_record(history, args, extra)
    replacing = out.is_file()  # (overwritten, as a compiler's output is, but said so)
    save_model(net, out, preprocessing=pre.to_dict(), classes=pre.classes, training=training)
    shown = f"./{out}" if str(out) == "-" else out  # (a file named -, as it must be typed)
    print(f"model saved to {shown}" + (" (replacing the file that was there)" if replacing else ""))


def plot_curves(
    history: Any, path: str, where: str, standardised: bool, model: Path | None
) -> None:
    """Write the loss curves to ``path``; when that fails, raise an error that says where the
    model was saved (the command then exits with status 2, the model kept)."""
    from ..plots import save_training_curves

    label = "loss (standardised target)" if standardised else "loss"
    try:
        save_training_curves(
            history.as_dict(), path, title=f"training on {where}", loss_label=label
        )
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
