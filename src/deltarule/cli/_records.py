"""How ``deltarule inspect`` shows a model file's training record, whichever program wrote it.

A ``deltarule train`` summary (epochs, data, the final epoch, scores, settings), a
training checkpoint (epochs done, the optimizer, how to resume it), a scikit-learn
estimator (its class, parameters and fitted attributes) or a network saved from
Python (the keys of whatever record it was given). A record is JSON that the file
stores as it was given, and that an edit can change into anything, so every value is
shown as what it is; nothing here assumes a type, and an unusable record is named as
malformed in one line instead of stopping the description.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ..io._callback_states import decoded
from ._model_kinds import CHECKPOINT, ESTIMATOR, TRAIN, checkpoint_advice, run_settings

__all__ = ["describe_record", "printable", "record_lines", "short"]

_HIDDEN = ("epoch", "learning_rate", "seconds")
_FITTED = ("n_iter_", "t_", "loss_", "best_loss_", "best_validation_score_", "n_features_in_",
           "n_outputs_", "out_activation_")  # fmt: skip
_MAX_CHARS = 80


_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Characters a terminal obeys rather than shows (ESC, BEL, CR, C1 controls, line separators,
bidirectional overrides): a file's text holding them could rewrite what the screen says."""
MAX_VALUE = 200
"""The most characters of a value from the file that text output shows (then how many)."""


def printable(text: str) -> str:
    """``text`` with every control character written as Python writes it (``\\x1b``,
    ``\\n``, ``\\u202e``), so that what a file holds is shown, never obeyed."""
    return _CONTROLS.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]


def short(value: Any, limit: int = MAX_VALUE) -> str:
    """``value`` as text, shortened past ``limit`` characters (saying how many it has)."""
    text = str(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fmt(value: Any) -> str:
    """A stored value as text: floats to 4 significant digits, the rest as stored, shortened."""
    if isinstance(value, float) and math.isfinite(value):
        return f"{value:.4g}"
    if value is None or isinstance(value, (bool, str)):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_CHARS else f"{text[: _MAX_CHARS - 3]}..."


def _whole(value: Any) -> str:
    """A stop reason in full (a long one is what the user most needs whole: "best 0.66 at
    epoch 48"), up to 2,000 characters (a tampered record)."""
    text = "?" if value is None else value if isinstance(value, str) else _fmt(value)
    return short(text, 2000)


def _pairs(mapping: dict[str, Any], sep: str = " ") -> str:
    return ", ".join(f"{key}{sep}{_fmt(value)}" for key, value in mapping.items())


def _malformed(what: str, value: Any, expected: str) -> str:
    found = {dict: "an object", list: "a list", str: "a string"}.get(type(value), _fmt(value))
    return (
        f"training: the record is malformed ({what} is {found}, expected {expected}); "
        "--format json shows it as stored"
    )


def describe_record(kind: str, header: dict[str, Any], path: str) -> dict[str, Any]:
    """The JSON-able description of the training record of a model file of ``kind``."""
    record = header.get("training")
    info: dict[str, Any] = {"training": None, "history": None}
    if kind == TRAIN:
        info.update(training=record.get("summary"), history=record.get("history"))
    elif kind == CHECKPOINT:
        trainer = record.get("trainer")
        trainer = trainer if isinstance(trainer, dict) else {}
        optimizer = trainer.get("optimizer")
        callbacks = record.get("callbacks")
        info["checkpoint"] = {
            "epochs_done": trainer.get("epochs_done"),
            "learning_rate": trainer.get("learning_rate"),
            "optimizer": optimizer.get("name") if isinstance(optimizer, dict) else optimizer,
            "callbacks": list(callbacks) if isinstance(callbacks, dict) else callbacks,
            "run_settings": run_settings(path),
            "instead": checkpoint_advice(path),
        }
        info["history"] = decoded(record.get("history"))  # ({"$float": "inf"}: inf)
    elif kind == ESTIMATOR:
        info["estimator"] = {
            "class": record.get("estimator"),
            "params": record.get("params"),
            "attributes": record.get("attributes"),
            "target_type": record.get("target_type"),
        }
    else:
        info["training"] = record
    return info


def _train_lines(summary: Any) -> list[str]:
    if summary is None:
        return ["training: no record"]
    if not isinstance(summary, dict):
        return [_malformed("its summary", summary, "an object")]

    def get(key: str) -> str:
        return "?" if summary.get(key) is None else _fmt(summary[key])

    seconds = summary.get("seconds")
    took = f", {seconds:.1f} s" if _number(seconds) else ""
    lines = [
        f"training: {get('epochs')} epochs on {get('data')} ({get('rows')} rows{took})",
        f"  stopped: {_whole(summary.get('stop_reason'))}",
    ]
    final = summary.get("final")
    if isinstance(final, dict):
        restored = " (best; its weights were kept)" if summary.get("best_epoch") else ""
        shown = {k: v for k, v in final.items() if k not in _HIDDEN and v is not None}
        lines.append(f"  epoch {_fmt(final.get('epoch'))}{restored}: {_pairs(shown)}")
    elif final is not None:
        lines.append(f"  final epoch: malformed ({_fmt(final)}), expected an object")
    for key, value in summary.items():
        if key.endswith("_metrics"):
            hidden = ("confusion_matrix", "per_target")
            scores = (
                _pairs({k: v for k, v in value.items() if k not in hidden})
                if isinstance(value, dict)
                else f"malformed ({_fmt(value)}), expected an object"
            )
            each = value.get("per_target") if isinstance(value, dict) else None
            if isinstance(each, dict):  # (several targets: the means, then each one's)
                scores += f" (means over the {len(each)} targets)"
            lines.append(f"  {key}: {scores}")
            for name, target_scores in each.items() if isinstance(each, dict) else ():
                shown = _pairs(target_scores) if isinstance(target_scores, dict) else _fmt(
                    target_scores)  # fmt: skip
                lines.append(f"    {_fmt(name)}: {shown}")
    if summary.get("note"):
        lines.append(f"  note: {_fmt(summary['note'])}")
    if summary.get("history_kept"):
        lines.append(f"  history: {_fmt(summary['history_kept'])}")
    settings = summary.get("settings")
    if isinstance(settings, dict):
        lines.append(f"  settings: {_pairs(settings, '=')}")
    elif settings is not None:
        lines.append(f"  settings: malformed ({_fmt(settings)}), expected an object")
    return lines


def _last_epoch(history: Any) -> str | None:
    """The last checkpointed epoch's losses and metrics, as one line, or None."""
    if not (isinstance(history, list) and history and isinstance(history[-1], dict)):
        return None
    row = history[-1]
    values = {k: v for k, v in row.items() if k in ("loss", "val_loss") and v is not None}
    for key, prefix in (("metrics", ""), ("val_metrics", "val_")):
        if isinstance(row.get(key), dict):
            values.update({f"{prefix}{k}": v for k, v in row[key].items()})
    return f"  epoch {_fmt(row.get('epoch'))}: {_pairs(values)}"


def _checkpoint_lines(info: dict[str, Any]) -> list[str]:
    check = info["checkpoint"]
    lines = [
        f"checkpoint: a training checkpoint after {_fmt(check['epochs_done'])} epoch(s) "
        f"(optimizer {_fmt(check['optimizer'])}, learning rate {_fmt(check['learning_rate'])})",
        "  it holds no preprocessing or class labels, so it is not a model to predict with: "
        f"{check['instead']}",
    ]
    settings = check["run_settings"]
    if settings is not None:
        shown = {k: settings.get(k) for k in ("data", "target", "epochs", "out")}
        lines.append(f"  run settings (settings.json): {_pairs(shown, '=')}")
    last = _last_epoch(info["history"])
    if last is not None:
        lines.append(last)
    callbacks = check["callbacks"]
    if callbacks:
        shown = ", ".join(map(_fmt, callbacks)) if isinstance(callbacks, list) else _fmt(callbacks)
        lines.append(f"  callback states: {shown}")
    return lines


def _estimator_lines(info: dict[str, Any], path: str) -> list[str]:
    estimator = info["estimator"]
    name = estimator["class"]
    load = f"deltarule.sklearn.{_fmt(name)}.load({path!r})" if isinstance(name, str) else "load()"
    lines = [f"estimator: {_fmt(name)} (scikit-learn estimator saved by its save(); load it with "
             f"{load})"]  # fmt: skip
    attributes = estimator["attributes"]
    if isinstance(attributes, dict):
        fitted = {k: attributes[k] for k in _FITTED if attributes.get(k) is not None}
        lines.append(f"  fitted: {_pairs(fitted)}" if fitted else "  fitted: no attributes")
    else:
        lines.append(f"  fitted: malformed ({_fmt(attributes)}), expected an object")
    if estimator["target_type"] is not None:
        lines.append(f"  target type: {_fmt(estimator['target_type'])}")
    params = estimator["params"]
    if isinstance(params, dict):
        shown = {k: v for k, v in params.items() if k != "callbacks"}
        lines.append(f"  params: {_pairs(shown, '=')}")
    else:
        lines.append(f"  params: malformed ({_fmt(params)}), expected an object")
    return lines


def record_lines(kind: str, info: dict[str, Any]) -> list[str]:
    """The training record of :func:`describe_record`'s ``info`` as lines of text."""
    if kind == TRAIN:
        return _train_lines(info["training"])
    if kind == CHECKPOINT:
        return _checkpoint_lines(info)
    if kind == ESTIMATOR:
        return _estimator_lines(info, info["file"])
    record = info["training"]
    if not record:
        return ["training: no record"]
    keys = ", ".join(map(str, record)) if isinstance(record, dict) else _fmt(record)
    return [f"training: a record saved from Python (keys: {_fmt(keys)}; --format json shows it)"]
