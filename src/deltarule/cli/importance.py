"""``deltarule importance``: permutation feature importance of a saved model on labelled data.

Each of DATA's feature columns, as the file holds it (a text column of categories is one
column, its one-hot block of network inputs shuffled whole), has its rows shuffled
``--repeats`` times, and the model is scored again each time
(:func:`deltarule.permutation_importance`): its importance is how much worse the score
gets. The default scoring is accuracy (the model's own class decision) for a classifier,
R² for a regression (a model of several targets: the mean of the targets' R², as
evaluate's); ``--scoring`` takes any metric of :data:`deltarule.metrics.METRICS` (for an
error, such as mse or log_loss, importance is its increase). ``--seed`` alone decides the
shuffles.

``--plot`` draws the ``--plot-top`` most important columns (20 by default, 0 for all).
Nothing is half-written: the plot is drawn in memory before the report is written, so
that a plot that cannot be drawn leaves neither file; then the report, then the image.
"""

from __future__ import annotations

import argparse
from typing import Any

from .._plots_importance import TOP
from ..exceptions import InputError
from . import add_common
from ._common import (
    add_table_options,
    load_model_file,
)
from ._labelled import check_scorable, read_labelled, require_targets, target_column
from ._report_outputs import check_report_outputs, write_report

EPILOG = """examples:
  deltarule importance model.safetensors test.csv
  deltarule importance model.safetensors test.csv --repeats 20 --seed 1 --plot importance.png
  deltarule importance model.safetensors test.csv --plot importance.svg --plot-top 0
  deltarule importance model.safetensors test.csv --scoring log_loss --format json
"""
_FORMATS = {".txt": "text", ".csv": "csv", ".json": "json"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``importance`` subcommand."""
    parser = subparsers.add_parser(
        "importance",
        help="permutation feature importance of a saved model on labelled data",
        description="How much a model written by 'deltarule train' relies on each column of "
        "DATA: each column's rows are shuffled and the model scored again; its importance "
        "is how much worse the score gets. DATA needs the model's feature columns and its "
        "target column.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="model file (.safetensors)")
    parser.add_argument(
        "data",
        metavar="DATA",
        help="CSV or TSV (may be .gz), Parquet or NPZ (X and y) file; - for standard input",
    )
    parser.add_argument(
        "--target",
        metavar="COLUMN",
        help="the target column, for a model file that does not name one (default y)",
    )
    parser.add_argument(
        "--repeats", type=int, default=5, metavar="N", help="shuffles of each column (default: 5)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="S", help="seed of the shuffles (default: 0)"
    )
    parser.add_argument(
        "--scoring",
        metavar="NAME",
        help="a metric (accuracy, balanced_accuracy, f1, log_loss, roc_auc, r2, mse, mae, ...; "
        "default: accuracy for a classifier, r2 for a regression)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "csv", "json"),
        help="text: a table by importance; csv: a row a column; json: all of it as data "
        "(default: --out's extension, .txt, .csv or .json; else text)",
    )
    parser.add_argument("--plot", metavar="PATH", help="bar chart of the importances, .png or .svg")
    parser.add_argument(
        "--plot-top",
        type=int,
        default=TOP,
        metavar="N",
        help=f"draw the N most important columns (default: {TOP}; 0: all of them)",
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


def _check_options(args: argparse.Namespace) -> None:
    if args.repeats < 1:
        raise InputError(
            f"--repeats {args.repeats} is out of range; expected an integer >= 1 (how many "
            "times each column is shuffled), e.g. --repeats 5."
        )
    if args.plot_top < 0:
        raise InputError(
            f"--plot-top {args.plot_top} is out of range; expected an integer >= 1 (the most "
            f"important columns drawn), or 0 for all of them, e.g. --plot-top {TOP}."
        )
    if args.seed < 0:
        raise InputError(f"--seed {args.seed} is out of range; expected an integer >= 0 such as 0.")
    if args.scoring is not None:
        from ..exceptions import UnknownNameError
        from ..metrics import METRICS, get_metric

        try:
            get_metric(args.scoring)
        except UnknownNameError:
            names = ", ".join(sorted({metric.name for metric in METRICS.values()}))
            raise InputError(
                f"--scoring {args.scoring!r} is not a metric; expected one of: {names}."
            ) from None


def importances(model: Any, frame: Any, scoring: str | None, repeats: int, seed: int) -> Any:
    """The permutation importances of ``model``'s feature columns in the raw ``frame``.

    DATA is encoded once; each raw column's rows are then shuffled as the block of network
    inputs it makes (a numeric column's one, a text column's one-hot block: one
    permutation for all of it). Each input depends on its raw column's value in the same
    row alone, so this equals shuffling the raw column and encoding the table again, at
    the cost of a prediction a shuffle."""
    from ..importance import permutation_importance

    require_targets(model, frame, "importance")
    inputs = model.features(frame)  # (a missing feature column is named before the targets)
    targets = model.targets(frame[model.pre.target])

    def predict(encoded: Any) -> Any:
        return model.scores(model.network.predict(encoded))

    return permutation_importance(
        predict,
        inputs,
        targets,
        scoring=scoring,
        n_repeats=repeats,
        seed=seed,
        columns=model.pre.output_positions,
        task=model.task,
    )


def report(result: Any, model: Any, rows: int) -> dict[str, Any]:
    """The report as data: the model, target, rows, then the result's."""
    target = model.pre.target
    head = {"model": model.path, "task": model.task, "target": target, "rows": rows}
    if model.pre.several_targets and result.scoring == "r2":
        head["average"] = "uniform_average"
    return {**head, **result.to_dict()}


def csv_text(result: Any) -> str:
    """A row a column, by importance: column, mean, std and each repeat's importance."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["column", "importance_mean", "importance_std",
         *(f"repeat_{r + 1}" for r in range(result.n_repeats))]
    )  # fmt: skip
    for row in result.records():
        writer.writerow([row["column"], repr(row["mean"]), repr(row["std"]),
                         *map(repr, row["importances"])])  # fmt: skip
    return buffer.getvalue()


def text_report(result: Any, model: Any, rows: int) -> str:
    """What was measured, on what, then the result's table."""
    from ._records import printable, short

    target = model.pre.target
    named = ", ".join(map(repr, target)) if isinstance(target, list) else repr(target)
    line = f"{model.task} of {printable(short(named))} on {rows} row{'s' * (rows != 1)}"
    if model.pre.several_targets and result.scoring == "r2":
        line += "; R² the mean of the targets' own (scikit-learn's multioutput='uniform_average')"
    table = "\n".join(printable(row) for row in result.summary().splitlines())
    return f"{line}\n{table}\n"


def run(args: argparse.Namespace) -> int:
    """Load the model, measure each column's importance on DATA, write (and plot) it."""
    out, form = check_report_outputs(args, _FORMATS, "importance.txt", "importance.png")
    _check_options(args)
    model = load_model_file(args.model)
    check_scorable(model, args.model, "importance")
    target_column(model, args.target, "importance")
    frame = read_labelled(model, args)
    result = importances(model, frame, args.scoring, args.repeats, args.seed)
    if form == "json":
        from .._json import dumps

        text = dumps(report(result, model, len(frame)), ensure_ascii=False, indent=2) + "\n"
    elif form == "csv":
        text = csv_text(result)
    else:
        text = text_report(result, model, len(frame))
    image = None
    if args.plot:
        from ..plots import importance_figure, render_figure

        top = args.plot_top or None
        image = render_figure(importance_figure(result, top=top), args.plot)
    write_report(text, out, args.plot, image, args.quiet)
    return 0
