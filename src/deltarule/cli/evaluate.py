"""``deltarule evaluate``: score a saved model on labelled data.

Classification: accuracy, balanced accuracy, macro F1 (scikit-learn's ``average="macro"``,
two classes included), log loss, ROC AUC (one-vs-rest, macro) and the confusion matrix
(rows are true classes, columns predicted ones), as scikit-learn computes them.
Regression: MSE, MAE and R², in the target's units (``train``'s losses are on the
standardised target); R² is undefined (NaN: ``null`` in JSON, "undefined" and why in text)
for fewer than two rows, ROC AUC without rows of two classes. DATA needs the model's
feature columns and its target column; ``--plot`` draws the confusion matrix (or, for
regression, predicted against true values).

Nothing is half-written: the plot is drawn in memory before the report is written, so
that a plot that cannot be drawn leaves neither file; then the report, then the image.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._json import dumps
from .._naming import missing_columns
from ..exceptions import InputError
from . import add_common
from ._common import (
    CLASSIFICATION,
    add_table_options,
    check_distinct,
    load_model_file,
    output_format,
    read_data,
    refuse_foreign_extension,
    score,
    write_text,
)
from ._model_kinds import refuse_checkpoint
from ._stdin import output_file, refuse_stdin_model, refuse_stdout

EPILOG = """examples:
  deltarule evaluate model.safetensors test.csv
  deltarule evaluate model.safetensors test.csv --plot confusion.png --format json
  cat test.csv | deltarule evaluate model.safetensors -
"""
_NAMES = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "f1_macro": "macro F1",
    "log_loss": "log loss",
    "roc_auc": "ROC AUC",
    "mse": "MSE",
    "mae": "MAE",
    "r2": "R²",
}
_UNDEFINED = {"r2": "R² needs at least 2 rows", "roc_auc": "ROC AUC needs rows of 2 classes"}
"""Why a metric is NaN, by name."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score a saved model on labelled data",
        description="Score a model written by 'deltarule train' on DATA, which needs the "
        "model's feature columns and its target column.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="model file (.safetensors)")
    parser.add_argument(
        "data",
        metavar="DATA",
        help="CSV or TSV (may be .gz), Parquet or NPZ (X and y) file; - for standard input "
        "(CSV; Parquet and NPZ are recognised by their first bytes)",
    )
    parser.add_argument(
        "--target",
        metavar="COLUMN",
        help="the target column, for a model file that does not name one (a network saved "
        "from Python, a scikit-learn estimator's file: default y); a model from 'deltarule "
        "train' scores the column it was trained on",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        help="text: a metric a line and the confusion matrix; json: all of it as data "
        "(default: --out's extension, .json or .txt; else text)",
    )
    parser.add_argument(
        "--plot",
        metavar="PATH",
        help="confusion matrix (regression: predicted against true) image, .png or .svg",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write the report to FILE, not stdout (- is stdout; a file named - is ./-)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print only the report: no note of the files written (warnings and errors "
        "are still shown)",
    )
    add_common(parser)
    parser.set_defaults(func=run)
    add_table_options(parser)  # --sep, --no-header: how DATA is read


def evaluate(model: Any, frame: Any) -> tuple[dict[str, Any], Any]:
    """Return (report, network outputs) for a raw, labelled table."""
    target = model.pre.target
    if target not in frame.columns:
        unnamed = model.header.get("preprocessing") is None  # (its stand-in's "y")
        raise InputError(
            f"the data has no target column {target!r}, which evaluate compares the "
            f"predictions with. {missing_columns([target], frame.columns)} "
            + ("The model file names no target column: pass --target COLUMN, "
               if unnamed else "Add the target column, ")
            + "or use 'deltarule predict' for unlabelled data."
        )  # fmt: skip
    outputs = model.network.predict(model.features(frame))
    targets = model.targets(frame[target])
    classes = model.pre.classes if model.task == CLASSIFICATION else None
    outputs = model.scores(outputs)  # (a sigmoid per class: rows made probabilities)
    metrics = score(model.task, outputs, targets, len(classes or ()))
    matrix = metrics.pop("confusion_matrix", None)
    report = {"model": model.path, "task": model.task, "target": target, "rows": len(frame)}
    report["metrics"] = metrics
    undefined = {k: _UNDEFINED.get(k, "undefined") for k, v in metrics.items() if v != v}
    if undefined:
        report["undefined"] = undefined
    if matrix is not None:
        report["confusion_matrix"] = {"labels": classes, "matrix": matrix}
    return report, (outputs, targets)


def confusion_table(labels: list[Any], matrix: list[list[int]]) -> str:
    """The confusion matrix as an aligned text table (rows true, columns predicted); the
    labels (from the model file) with control characters escaped and cut at 40 characters."""
    from ._records import printable, short

    names = [printable(short(label, 40)) for label in labels]
    head = ["true \\ predicted", *names]
    rows = [[name, *map(str, counts)] for name, counts in zip(names, matrix)]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                  enumerate(zip(row, widths)))
        for row in [head, *rows]
    ]  # fmt: skip
    return "\n".join(lines)


def text_report(report: dict[str, Any]) -> str:
    """The report as text: one metric a line, then the confusion matrix."""
    from ._records import printable, short

    rows = report["rows"]
    lines = [f"{report['task']} of {printable(short(repr(report['target'])))} on "
             f"{rows} row{'s' * (rows != 1)}"]  # fmt: skip
    for key, value in report["metrics"].items():
        shown = f"{value:.6g}" if value == value else f"undefined ({_UNDEFINED.get(key, 'NaN')})"
        lines.append(f"{_NAMES[key]:<18}{shown}")
    if "confusion_matrix" in report:
        cm = report["confusion_matrix"]
        lines += ["", "confusion matrix:", confusion_table(cm["labels"], cm["matrix"])]
    return "\n".join(lines) + "\n"


def _image(path: str, report: dict[str, Any], outputs: Any, targets: Any) -> bytes:
    """The ``--plot`` file's bytes, drawn in memory (nothing is written)."""
    from ..plots import confusion_matrix_figure, regression_figure, render_figure

    target, rows, metrics = report["target"], report["rows"], report["metrics"]
    if "confusion_matrix" in report:
        cm = report["confusion_matrix"]
        title = f"{target}: {rows:,} rows, accuracy {metrics['accuracy']:.3f}"
        figure = confusion_matrix_figure(cm["matrix"], cm["labels"], title=title)
    else:
        r2 = metrics.get("r2")
        scored = f", R² {r2:.3f}" if isinstance(r2, float) and r2 == r2 else ""
        title = f"{target}: {rows:,} rows{scored}"
        figure = regression_figure(targets[:, 0], outputs[:, 0], title=title, name=str(target))
    return render_figure(figure, path)


def _target_column(model: Any, given: str | None) -> None:
    """Take ``--target`` as the target column of a model file that names none (its
    stand-in preprocessing's ``y``); refuse one that contradicts the file's own."""
    if given is None or given == model.pre.target:
        return
    if model.header.get("preprocessing") is not None:
        raise InputError(
            f"--target {given!r}: {model.path} was trained on the target column "
            f"{model.pre.target!r}, which evaluate scores; drop --target (or rename the "
            f"column in the data to {model.pre.target!r})."
        )
    model.pre.target = given


def run(args: argparse.Namespace) -> int:
    """Load the model, score it on DATA, print (and plot) the report."""
    refuse_stdin_model(args.model)
    refuse_stdout(args.plot, "--plot", "a PNG or SVG image", "confusion.png")
    out = output_file(args.out)  # (--out -: stdout, as without --out)
    form = output_format(args.format, out, {".txt": "text", ".json": "json"}, "text")
    outputs = {"--out": out, "--plot": args.plot}
    examples = {"--out": "report.txt", "--plot": "confusion.png"}
    check_distinct({"MODEL": args.model, "DATA": args.data}, outputs, examples)
    refuse_foreign_extension(out, {".txt": "text", ".json": "json"})
    if args.plot:
        from ..plots import check_plot_path

        check_plot_path(args.plot)
    model = load_model_file(args.model)
    refuse_checkpoint(model.header, args.model, "evaluate")
    if model.multilabel:
        raise InputError(
            f"evaluate scores one target column, but {args.model} is a multi-label "
            f"estimator's file ({model.network.n_outputs} labels, a 0/1 output each); score "
            "it in Python: MLPClassifier.load(path).score(X, Y) (subset accuracy, as "
            "scikit-learn's), or deltarule predict it and compare the label columns."
        )
    if model.task == CLASSIFICATION and len(model.pre.classes or ()) == 1:
        raise InputError(
            f"{args.model} is a model of one class ({model.pre.classes[0]!r}: an estimator "
            "fitted on one class), which predicts it for every row, so there is nothing to "
            "score; evaluate needs a model of two classes or more."
        )
    _target_column(model, args.target)
    features = model.pre.feature_names
    frame = read_data(
        args.data,
        target=model.pre.target,
        names=features,
        text_columns=model.pre.text_columns,
        needed=[*features, model.pre.target],
        columns=[*features, model.pre.target],  # (no others: a wide table costs little)
    )
    report, (outputs, targets) = evaluate(model, frame)
    if form == "json":
        text = dumps(report, ensure_ascii=False, indent=2) + "\n"
    else:
        text = text_report(report)
    image = _image(args.plot, report, outputs, targets) if args.plot else None
    write_text(text, out, quiet=args.quiet)
    if image is not None:
        from ..io.atomic import atomic_write_bytes

        atomic_write_bytes(args.plot, image)
        if not args.quiet:
            print(f"wrote {args.plot}", file=sys.stderr)
    return 0
