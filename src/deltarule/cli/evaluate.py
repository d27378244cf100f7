"""``deltarule evaluate``: score a saved model on labelled data.

Classification: accuracy, balanced accuracy, macro F1 (scikit-learn's ``average="macro"``,
two classes included), log loss, ROC AUC (one-vs-rest, macro) and the confusion matrix
(rows are true classes, columns predicted ones), as scikit-learn computes them.
Regression: MSE, MAE and R², in the target's units (``train``'s losses are on the
standardised target); for a model of several targets, each target's, and as the metrics
their mean over the targets (scikit-learn's ``multioutput="uniform_average"``: R² is the
mean of the targets' R², not one R² of all cells). R² is undefined (NaN: ``null`` in JSON,
"undefined" and why in text) for fewer than two rows, ROC AUC without rows of two classes.
DATA needs the model's feature columns and its target column(s); ``--plot`` draws the
confusion matrix (or, for regression, predicted against true values, a panel per target).
DATA is read and predicted ``--chunk-rows`` rows at a time, only the predictions and the
targets kept (:mod:`._evaluate_stream`: the same report as the whole file's).

Nothing is half-written: the plot is drawn in memory before the report is written, so
that a plot that cannot be drawn leaves neither file; then the report, then the image.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

from .._json import dumps
from . import add_common
from ._chunked_data import DEFAULT_CHUNK_ROWS, check_chunk_rows, iter_data
from ._common import (
    CLASSIFICATION,
    add_table_options,
    load_model_file,
    score,
)
from ._evaluate_stream import scored_rows
from ._labelled import check_scorable, require_targets, target_column
from ._predict_stream import gathered_warnings
from ._report_outputs import check_report_outputs, write_report

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
AVERAGE = "uniform_average"
"""How a model of several targets' metrics are averaged over them: each the mean of the
targets' own (scikit-learn's ``multioutput="uniform_average"``), recorded in the report."""
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
        "--chunk-rows",
        type=check_chunk_rows,
        default=DEFAULT_CHUNK_ROWS,
        metavar="N",
        help="read and predict N rows at a time, keeping only the predictions and the "
        "target columns, so that memory holds N rows of the data, not the whole file (CSV "
        "and TSV, also gzip-compressed or on standard input, and Parquet by record batches; "
        "NPZ and FANN files are read whole); the report is the same for any N (default: "
        f"{DEFAULT_CHUNK_ROWS:,})",
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


def evaluate(model: Any, outputs: Any, values: Any) -> tuple[dict[str, Any], Any]:
    """Return (report, (scores, encoded targets)) for the network's ``outputs`` on DATA's
    rows and their target ``values`` (DATA's target column, or columns: a DataFrame)."""
    names = model.pre.target_names
    targets = model.targets(values)
    classes = model.pre.classes if model.task == CLASSIFICATION else None
    outputs = model.scores(outputs)  # (a sigmoid per class: rows made probabilities)
    metrics = score(model.task, outputs, targets, len(classes or ()), names)
    matrix = metrics.pop("confusion_matrix", None)
    per_target = metrics.pop("per_target", None)
    report = {"model": model.path, "task": model.task, "target": model.pre.target,
              "rows": len(values)}  # fmt: skip
    report["metrics"] = metrics
    if per_target is not None:  # (the metrics above: the means of these)
        report["average"] = AVERAGE
        report["per_target"] = per_target
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


def _per_target_table(per_target: dict[str, dict[str, float]]) -> str:
    """Each target's metrics as an aligned text table, a row per target (names escaped and
    cut at 40 characters)."""
    from ._records import printable, short

    keys = list(next(iter(per_target.values())))
    head = ["target", *(_NAMES[key] for key in keys)]
    rows = [
        [printable(short(name, 40)), *(f"{m[key]:.6g}" if m[key] == m[key] else "undefined"
                                        for key in keys)]
        for name, m in per_target.items()
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    return "\n".join(
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                  enumerate(zip(row, widths)))
        for row in [head, *rows]
    )  # fmt: skip


def text_report(report: dict[str, Any]) -> str:
    """The report as text: one metric a line, then the confusion matrix."""
    from ._records import printable, short

    rows, target = report["rows"], report["target"]
    per_target = report.get("per_target")
    named = ", ".join(map(repr, target)) if isinstance(target, list) else repr(target)
    lines = [f"{report['task']} of {printable(short(named))} on "
             f"{rows} row{'s' * (rows != 1)}"]  # fmt: skip
    if per_target is not None:
        lines[0] += (
            f"; each metric the mean of the {len(per_target)} targets' own (scikit-learn's "
            f"multioutput='{report.get('average', AVERAGE)}')"
        )
    for key, value in report["metrics"].items():
        shown = f"{value:.6g}" if value == value else f"undefined ({_UNDEFINED.get(key, 'NaN')})"
        lines.append(f"{_NAMES[key]:<18}{shown}")
    if per_target is not None:
        lines += ["", "per target:", _per_target_table(per_target)]
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
    elif "per_target" in report:
        figure = _targets_figure(report, outputs, targets)
    else:
        r2 = metrics.get("r2")
        scored = f", R² {r2:.3f}" if isinstance(r2, float) and r2 == r2 else ""
        title = f"{target}: {rows:,} rows{scored}"
        figure = regression_figure(targets[:, 0], outputs[:, 0], title=title, name=str(target))
    return render_figure(figure, path)


def _targets_figure(report: dict[str, Any], outputs: Any, targets: Any) -> Any:
    """Predicted against true values, a panel per target (three a row), for a model of
    several targets: ``outputs`` and ``targets`` of shape (n_samples, n_targets)."""
    from ..plots import _new_figure, regression_figure

    per_target, rows = report["per_target"], report["rows"]
    columns = min(3, len(per_target))
    lines = -(-len(per_target) // columns)
    figure = _new_figure((5.0 * columns, 5.0 * lines))
    for j, (name, metrics) in enumerate(per_target.items()):
        r2 = metrics.get("r2")
        scored = f", R² {r2:.3f}" if isinstance(r2, float) and r2 == r2 else ""
        ax = figure.add_subplot(lines, columns, j + 1)
        regression_figure(targets[:, j], outputs[:, j], ax=ax, title=f"{name}: {rows:,} rows"
                          f"{scored}", name=str(name))  # fmt: skip
    figure.tight_layout()
    return figure


def run(args: argparse.Namespace) -> int:
    """Load the model, score it on DATA, print (and plot) the report."""
    formats = {".txt": "text", ".json": "json"}
    out, form = check_report_outputs(args, formats, "report.txt", "confusion.png")
    model = load_model_file(args.model)
    check_scorable(model, args.model, "evaluate")
    target_column(model, args.target, "evaluate")
    features = model.pre.feature_names
    names = model.pre.target_names

    def chunks(text: list[Any], columns: list[Any]) -> Iterator[Any]:
        return iter_data(
            args.data,
            chunk_rows=args.chunk_rows,
            target=None if model.pre.several_targets else model.pre.target,
            require_target=True,
            names=features,
            text_columns=[*model.pre.text_columns, *text],
            needed=columns,
            columns=columns,  # (no others: a wide table costs little)
        )

    with gathered_warnings(features) as gathered:
        outputs, values = scored_rows(
            model,
            chunks([], [*features, *names]),
            args.chunk_rows,
            lambda frame: require_targets(model, frame, "evaluate"),
            lambda mixed: chunks(mixed, mixed),
            gathered,
        )
        report, (outputs, targets) = evaluate(model, outputs, values)
    if form == "json":
        text = dumps(report, ensure_ascii=False, indent=2) + "\n"
    else:
        text = text_report(report)
    image = _image(args.plot, report, outputs, targets) if args.plot else None
    write_report(text, out, args.plot, image, args.quiet)
    return 0
