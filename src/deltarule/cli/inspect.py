"""``deltarule inspect``: what a model file holds, like Keras' ``model.summary()``.

Layers with their shapes, activations and parameter counts; dtype and loss; the
preprocessing (columns, their scaling or categories); the class labels; how the
model was trained; and the file's format version. ``--format json`` gives all of it
as data. Any file :func:`~deltarule.io.load_model` loads is described — one from
``deltarule train``, a network saved from Python, a scikit-learn estimator's file or a
training checkpoint (:mod:`deltarule.cli._model_kinds`; their training records:
:mod:`deltarule.cli._records`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .._json import dumps
from ..exceptions import InputError
from . import add_common
from ._common import (
    Model,
    _made_up_preprocessing,
    add_out_and_quiet,
    check_distinct,
    load_model_file,
    output_format,
    refuse_foreign_extension,
    write_text,
)
from ._model_kinds import CHECKPOINT, ESTIMATOR, NETWORK, TRAIN, model_kind
from ._records import describe_record, printable, record_lines, short
from ._stand_ins import custom_note, stand_ins

EPILOG = """examples:
  deltarule inspect model.safetensors
  deltarule inspect model.safetensors --format json
  deltarule inspect model.safetensors --out model.json    # JSON, from the extension
  deltarule inspect model.safetensors --out history.csv   # the history, an epoch a row
"""
MAX_COLUMNS = 20
"""Text output lists at most this many preprocessing columns (JSON lists all)."""


_JSON_ESCAPES = {
    c: f"\\u{c:04x}"
    for c in [*range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
}
"""Characters JSON may hold raw but a terminal obeys (DEL, C1 controls such as CSI, line
separators, bidirectional overrides), written as ``\\u`` escapes: the same JSON data
(JSON writes those below U+0020 escaped already)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``inspect`` subcommand."""
    parser = subparsers.add_parser(
        "inspect",
        help="show what a model file holds",
        description="Show a model file's layers, parameter counts, preprocessing, classes "
        "and training summary.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="model file (.safetensors)")
    parser.add_argument(
        "--format",
        choices=("text", "json", "csv"),
        help="text: a Keras-like summary; json: everything, as data; csv: the training "
        "history, one row per epoch (Keras's CSVLogger file) (default: --out's extension, "
        ".json, .csv or .txt; else text)",
    )
    add_out_and_quiet(parser)
    add_common(parser)
    parser.set_defaults(func=run)


def describe(model: Model) -> dict[str, Any]:
    """Return everything ``inspect`` shows, as JSON-able data."""
    net, header = model.network, model.header
    layers = []
    for i, layer in enumerate(net.layers):
        weights = layer.n_inputs * layer.n_outputs
        biases = layer.n_outputs if layer.use_bias else 0
        layers.append({
            "name": f"dense{i + 1}", "n_inputs": layer.n_inputs, "n_outputs": layer.n_outputs,
            "activation": layer.activation.name, "weights": weights, "biases": biases,
            "parameters": weights + biases,
        })  # fmt: skip
    stored = header["preprocessing"] is not None
    kind = model_kind(header)
    labelled = model.task == "classification" and kind != CHECKPOINT  # (a checkpoint has none)
    return {
        "file": model.path,
        "kind": kind,
        "format": header["format"],
        "format_version": header["format_version"],
        "library_version": header.get("library_version"),
        "created": header.get("created"),
        "layers": layers,
        "total_parameters": net.n_parameters,
        "frozen_parameters": int((~net.trainable).sum()),
        "dtype": net.dtype.name,
        "loss": net.loss.name,
        "loss_parameters": dict(net.loss.parameters),
        "task": model.task,
        "target": model.pre.target if stored else None,
        "classes": model.pre.classes if labelled else None,
        "preprocessing": model.pre.to_dict() if stored else None,
        "feature_names": None if stored else _stored_names(model),
        **describe_record(kind, header, model.path),
    }


def _stored_names(model: Model) -> list[str] | None:
    """The column names a file without preprocessing stores (an estimator's
    ``feature_names_in_``), or None."""
    from ..io.model_file import stored_feature_names

    return stored_feature_names(model.header.get("training"), model.network.n_inputs)


def _column_line(column: dict[str, Any], width: int = 24) -> str:
    """One column's line: its name padded to ``width`` (a space at least after it), its
    kind and encoding; numbers to 6 digits (a mean fill of 1.8650000000000002 is 1.865),
    categories quoted when one holds a comma or spaces at its ends (``'Köln, DE'``)."""
    name = short(column["name"]).ljust(width - 1) + " "
    value = column["fill"]
    written = f"{value:.6g}" if isinstance(value, float) else repr(value)
    fill = "" if value is None else f", missing -> {short(written)}"
    if column["kind"] == "numeric":
        mean = float(column["mean"])
        shift = f"x + {-mean:.6g}" if mean < 0 else f"x - {abs(mean):.6g}"  # (not x - -0.01)
        return f"  {name}numeric      ({shift}) / {column['std']:.6g}{fill}"
    categories = column["categories"]
    quoted = any(isinstance(c, str) and ("," in c or c != c.strip()) for c in categories)
    shown = ", ".join(short(repr(c) if quoted else c) for c in categories[:8])
    more = f", ... ({len(categories)} in all)" if len(categories) > 8 else ""
    return f"  {name}categorical  one-hot of {shown}{more}{fill}"


def _preprocessing_lines(info: dict[str, Any]) -> list[str]:
    pre = info["preprocessing"]
    if pre is None and info["kind"] == CHECKPOINT:
        return ["preprocessing: none (a checkpoint keeps the network, not the data's encoding)"]
    names = info.get("feature_names")
    if pre is None and names:  # (an estimator fitted on a DataFrame: its columns by name)
        shown = ", ".join(printable(short(repr(name), 40)) for name in names[:8])
        more = f", ... ({len(names)} in all)" if len(names) > 8 else ""
        return [f"preprocessing: none stored; inputs are used as given, by name: {shown}{more}"]
    if pre is None:
        return ["preprocessing: none stored (inputs are used as given, as columns x0, x1, ...)"]
    columns = pre["columns"]
    target = pre["target"]
    named = (
        f"targets {short(', '.join(map(repr, target)))} (a multi-output regression)"
        if isinstance(target, list)
        else f"target {short(repr(target))}"
    )
    lines = [f"preprocessing: {len(columns)} input column(s), {named}"]
    width = max([24, *(len(short(column["name"])) + 2 for column in columns[:MAX_COLUMNS])])
    lines += [_column_line(column, width) for column in columns[:MAX_COLUMNS]]
    if len(columns) > MAX_COLUMNS:
        lines.append(f"  ... and {len(columns) - MAX_COLUMNS} more (--format json lists all)")
    if pre["impute"]:
        lines.append(f"  missing numeric values are filled with the {pre['impute']}")
    return lines


def _parameters(given: dict[str, Any] | None) -> str:
    """A loss's parameters after its name, as :attr:`Loss.label` shows them: " (delta 0.1)"."""
    return f" ({', '.join(f'{key} {value!r}' for key, value in given.items())})" if given else ""


def text_report(info: dict[str, Any]) -> str:
    """The description as a Keras-like text summary."""
    lines = [
        f"{info['file']}: {info['format']} format version {info['format_version']}, written by "
        f"deltarule {short(info['library_version'])} on {short(info['created'])}",
        "",
        f"{'layer':<10}{'shape':<16}{'activation':<14}{'weights':>10}{'biases':>8}{'params':>10}",
    ]
    for layer in info["layers"]:
        shape = f"{layer['n_inputs']} -> {layer['n_outputs']}"
        lines.append(
            f"{layer['name']:<10}{shape:<16}{layer['activation']:<14}{layer['weights']:>10}"
            f"{layer['biases']:>8}{layer['parameters']:>10}"
        )
    lines += [
        f"total parameters: {info['total_parameters']} ({info['frozen_parameters']} frozen), "
        f"dtype {info['dtype']}",
        f"loss: {info['loss']}{_parameters(info.get('loss_parameters'))}",
        f"task: {info['task']}",
    ]
    if info["classes"] is not None:
        lines.append(f"classes ({len(info['classes'])}): {', '.join(map(short, info['classes']))}")
    elif info["kind"] == CHECKPOINT and info["task"] == "classification":
        lines.append("classes: not stored in a checkpoint (outputs are class numbers 0, 1, ...)")
    lines += _preprocessing_lines(info) + record_lines(info["kind"], info)
    # (what the file holds is shown, never obeyed: a control character in a label or a
    # version could move the cursor, recolour or rewrite what the terminal shows)
    return "\n".join(map(printable, lines)) + "\n"


def history_csv(info: dict[str, Any], path: str) -> str:
    """The training history as CSV: a header of its columns (epoch, loss, val_loss,
    learning_rate, ..., the metrics), then one row per epoch; a value not recorded is an
    empty cell. An InputError for a file that keeps no history."""
    import csv
    import io

    history = info.get("history")
    if isinstance(history, list):  # (a checkpoint's: its epochs' records)
        history = _columns_of(history)
    columns = list(history) if isinstance(history, dict) else []
    if isinstance(history, (dict, list)) and not columns and info["kind"] in (TRAIN, CHECKPOINT):
        raise InputError(
            f"{path} keeps a training history of no epochs (its run ended before its first "
            "epoch finished: it diverged, or was stopped); there is nothing to write as CSV."
        )
    lengths = {len(history[c]) for c in columns if isinstance(history[c], list)}
    if (
        "epoch" not in columns
        or len(lengths) != 1
        or not all(isinstance(history[c], list) for c in columns)
    ):
        what = {ESTIMATOR: "a scikit-learn estimator's file", NETWORK: "a network saved from "
                "Python"}.get(info["kind"], f"a {info['kind']} file")  # fmt: skip
        raise InputError(
            f"{path} keeps no training history ({what}); --format csv writes the epochs of "
            "a model from deltarule train or of a checkpoint. Use --format json or text to "
            "see what it holds."
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in zip(*(history[c] for c in columns)):
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()


def _columns_of(records: list[Any]) -> dict[str, list[Any]] | None:
    """A checkpoint's epoch records as the columns a model file's history keeps (metrics
    as ``name`` and ``val_name``); None when they are not records."""
    from ..history import EpochRecord

    try:
        rows = [EpochRecord(**record).as_dict() for record in records]
    except (TypeError, ValueError):
        return None
    columns = list(dict.fromkeys(key for row in rows for key in row))  # (a metric added later)
    return {key: [row.get(key) for row in rows] for key in columns}


def load(path: str) -> Model:
    """Load any model file: one with preprocessing checked as ``predict`` checks it (so a
    file that ``predict`` refuses is refused here with the same message), one without (a
    network saved from Python, an estimator's file, a checkpoint) as it is."""
    from ..io.checkpoint import CHECKPOINT_FILE
    from ..io.model_file import load_model, model_header, stored_feature_names

    if os.path.isdir(path) and (Path(path) / CHECKPOINT_FILE).is_file():
        checkpoint = os.path.join(path, CHECKPOINT_FILE)
        raise InputError(
            f"{path} is a folder: the checkpoint folder of a training run. Give its checkpoint "
            f"file, 'deltarule inspect {checkpoint}', or continue the run with 'deltarule "
            f"train --resume {path}'."
        )
    limits = _limits(path)
    if model_header(path, **limits)["preprocessing"] is not None:
        return load_model_file(path)
    loaded = load_model(path, **limits)
    names = stored_feature_names(loaded.training, loaded.network.n_inputs)
    pre = _made_up_preprocessing(loaded.network, loaded.classes, names)
    return Model(loaded.network, pre, loaded.header, path)


def _architecture(path: str) -> Any:
    """The architecture a model file's header names (None when the header is unreadable:
    the load that follows says why)."""
    from ..io.model_file import model_header

    try:
        return model_header(path, **_limits(path)).get("architecture")
    except Exception:  # noqa: BLE001 - (the load reports it, in its own words)
        return None


def _limits(path: str) -> dict[str, int]:
    """The header limit inspect reads ``path`` with: a checkpoint's (1 GB, as checkpoints
    are written and resumed: :data:`~deltarule.io.checkpoint.CHECKPOINT_MAX_HEADER_BYTES`),
    for any file, as a checkpoint may have been copied under another name (a header is
    only read: its size costs memory, never runs anything)."""
    from ..io.checkpoint import CHECKPOINT_MAX_HEADER_BYTES

    return {"max_header_bytes": CHECKPOINT_MAX_HEADER_BYTES}


def run(args: argparse.Namespace) -> int:
    """Load the model file and describe it."""
    from ._stdin import output_file, refuse_stdin_model

    refuse_stdin_model(args.model)
    out = output_file(args.out)  # (--out -: stdout, as without --out)
    suffixes = {".txt": "text", ".json": "json", ".csv": "csv"}
    form = output_format(args.format, out, suffixes, "text")
    check_distinct({"MODEL": args.model}, {"--out": out}, {"--out": "model.txt"})
    refuse_foreign_extension(out, suffixes)
    with stand_ins(_architecture(args.model)) as custom:  # (custom parts: shown by name)
        info = describe(load(args.model))
    info["custom_parts"] = [{"kind": kind, "name": name} for kind, name in custom]
    if custom and not args.quiet:
        print(custom_note(custom, args.model), file=sys.stderr)
    if form == "json":
        text = dumps(info, ensure_ascii=False, indent=2).translate(_JSON_ESCAPES)
        write_text(text + "\n", out, quiet=args.quiet)
    elif form == "csv":
        write_text(history_csv(info, args.model), out, quiet=args.quiet)
    else:
        write_text(text_report(info), out, quiet=args.quiet)
    return 0
