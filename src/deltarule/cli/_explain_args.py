"""The options of ``deltarule explain``: their definitions and ``--help`` text
(:data:`DESCRIPTION`, :data:`EPILOG`, :func:`add_arguments`), and their checks: what is
explained (:func:`check_subject`: --model or --example, and what goes only with --model),
then the rest (:func:`check_options`, after --model's file is read: its problems come
first)."""

from __future__ import annotations

import argparse
import math
import os
from typing import Any

__all__ = ["DESCRIPTION", "EPILOG", "FORMATS", "add_arguments", "check_options", "check_subject"]

FORMATS = ("text", "markdown", "html", "json")

DESCRIPTION = (
    "Show backpropagation step by step, with the numbers the network really\n"
    "computes: the tutorial's 2-2-2 network by default. Without --target, a softmax or\n"
    "sigmoid model explains its own predicted class; other models need --target.\n"
    "A regression model trained on its standardised target (as 'deltarule train'\n"
    "trains one) whose file records the target's mean and std is explained in those\n"
    "units: the target shown as given and standardised, the output converted back to\n"
    "the target's units beside the network's. A model of several targets ('deltarule\n"
    "train --target y1,y2') takes one --target value per target, each standardised\n"
    "with its own mean and std."
)
EPILOG = """examples:
  deltarule explain
  deltarule explain --steps 10000 --format html --out walk.html
  deltarule explain --format json
  deltarule explain --example linear --plot error.png
  deltarule explain --model model.safetensors --input 0.1,0.7,0.3 --target 0,1
  deltarule explain --model houses.safetensors --raw --input 3,120,garden --target 250000
  deltarule explain --model flats.safetensors --raw --input 3,120,garden --target 250000,900
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``explain``, in ``--help`` order."""
    parser.add_argument(
        "--example",
        choices=("tutorial", "linear"),
        default=None,
        help="a textbook example (default: tutorial)",
    )
    parser.add_argument("--model", metavar="MODEL", help="a saved model file to explain")
    parser.add_argument(
        "model_file",
        nargs="?",
        metavar="MODEL",
        help="the model file, as the other commands take it (the same as --model MODEL)",
    )
    parser.add_argument(
        "--input",
        action="append",
        metavar="ROW",
        help="with --model: the network's input values, e.g. 0.1,0.7 (after the model's "
        "preprocessing: standardised numbers, one-hot categories; see 'deltarule inspect')",
    )
    parser.add_argument(
        "--target",
        action="append",
        metavar="ROW",
        help="with --model: the desired output values of the network (a regression "
        "model's in the target's units, one per target for several targets, e.g. 250000,900; "
        "the walk standardises them when the model was trained on its standardised target)",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="with --model: --input is one row of the data's columns as in a CSV (e.g. "
        "5.1,3.5,red; see 'deltarule inspect' for their order) and --target a label or value "
        "(values, one per target, for a model of several targets); "
        "the model's preprocessing turns them into the network's values (a file written by "
        "deltarule train: one saved without preprocessing has no columns to read)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=None,
        help="output format (default: from --out's extension, .html, .md, .json or .txt; "
        "else text)",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write to FILE instead of stdout (- is stdout; a file named - is ./-)",
    )
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        metavar="ETA",
        help="learning rate of the update (default: 0.5, the tutorial's; with --model, the "
        "learning rate the model was trained with, when its file records one: deltarule "
        "train's, or a scikit-learn estimator's learning_rate_init)",
    )
    parser.add_argument(
        "--steps",
        type=int,
        metavar="N",
        help="go on training for N updates in all and show the error",
    )
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="save a plot (.png or .svg): E(W) for --example linear, "
        "else the error curve (needs --steps)",
    )
    parser.add_argument(
        "--max-neurons",
        type=int,
        metavar="N",
        help="summarise layers wider than N neurons (default: 8)",
    )


def check_subject(args: argparse.Namespace) -> None:
    """Check what is explained (--model or --example, and what goes only with --model)."""
    from ..exceptions import InputError

    for flag, name in (("--input", "input"), ("--target", "target")):
        given = getattr(args, name, None)
        if isinstance(given, list):  # (action="append": each --input given)
            if len(given) > 1:
                shown = " ".join(f"{flag} {value}" for value in given)
                raise InputError(
                    f"{flag} was given {len(given)} times ({shown}); explain walks one "
                    f"example: give one {flag}."
                )
            setattr(args, name, given[0] if given else None)
    if getattr(args, "model_file", None):  # deltarule explain MODEL, as predict MODEL
        if args.model and args.model != args.model_file:
            raise InputError(
                f"give the model once: MODEL {args.model_file} or --model {args.model}, not both."
            )
        args.model = args.model_file
    if args.model and args.example:
        raise InputError("give either --model or --example, not both.")
    if not args.model and (args.input is not None or args.target is not None or args.raw):
        raise InputError("--input, --target and --raw go with --model MODEL.")


def input_example(loaded: Any) -> str:
    """An --input for --model's file (``loaded``: :class:`~._explain_model.Loaded`), with its
    count of values: zeros for the network's inputs (``0,0,0``; ``0,0,0,... (784 values)``
    for a wide one), or for --raw a row of its data's columns as a CSV row (each number's
    training mean, each category's first: ``41.29,blue``)."""
    if loaded.model is None:
        cells = ["0"] * loaded.network.n_inputs
    else:
        cells = _raw_cells(loaded.model.pre.columns)
    return _row(cells)


def _raw_cells(columns: list[dict[str, Any]]) -> list[str]:
    """A raw row's cells: each numeric column's training mean, each category's first."""
    return [
        f"{column['mean']:.4g}" if column["kind"] == "numeric" else str(column["categories"][0])
        for column in columns
    ]


def _raw_alternative(loaded: Any) -> str:
    """For a file with preprocessing explained without --raw: ``; or, for a row of the
    data's 4 column(s) as in a CSV (a, b, ...), --raw --input 5.848,3.048,...``; nothing
    for a file without, or whose preprocessing cannot be read (the walk says why)."""
    from ..preprocessing import TabularPreprocessor

    if not loaded.transforms:
        return ""
    try:
        pre = TabularPreprocessor.from_dict(loaded.header["preprocessing"])
        names = [str(name) for name in pre.feature_names]
        cells = _raw_cells(pre.columns)
    except Exception:  # noqa: BLE001 - (a damaged state: no raw example to give)
        return ""
    shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
    return (
        f"; or, for a row of the data's {len(names)} column(s) as in a CSV ({shown}), "
        f"--raw --input {_row(cells)}"
    )


def _row(cells: list[str]) -> str:
    """``cells`` as a CSV row (``0,0,0,... (784 values)`` past 12)."""
    import csv
    import io

    if len(cells) > 12:
        return f"{','.join(cells[:3])},... ({len(cells):,} values)"
    row = io.StringIO()
    csv.writer(row, lineterminator="").writerow(cells)  # (a label with a comma is quoted)
    return row.getvalue()


def check_options(args: argparse.Namespace, loaded: Any = None) -> None:
    """Check the other options (after --model's file is read, ``loaded``: its problems come
    first)."""
    from ..exceptions import InputError

    if args.model and args.input is None:
        if loaded is not None and loaded.model is not None:
            names = [str(name) for name in loaded.model.pre.feature_names]
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            what = f"a row of the model's {len(names)} data column(s) in order ({shown})"
        elif loaded is not None and loaded.transforms:
            what = (
                f"the network's {loaded.network.n_inputs} input values, after the model's "
                "preprocessing (standardised numbers, one-hot categories)"
            )
        elif loaded is not None:
            what = f"the network's {loaded.network.n_inputs} input values"
        else:
            what = "the example to explain"
        example = f"; e.g. --input {input_example(loaded)}" if loaded is not None else ""
        example += _raw_alternative(loaded) if loaded is not None else ""
        raise InputError(f"--model needs --input ROW: {what}{example}.")
    from ..explain.recorder import MAX_STEPS
    from ..explain.render import MAX_NEURONS

    if args.plot and args.example != "linear" and (args.steps or 0) <= 0:
        raise InputError("--plot draws the error curve, which needs --steps N (N > 0).")
    if args.plot and os.path.splitext(args.plot)[1].lower() not in (".png", ".svg"):
        # (before the walk: --steps can run a million updates first)
        raise InputError(
            f"--plot file must end in .png or .svg; received {args.plot!r}. Use e.g. "
            "--plot curve.png."
        )

    if args.example == "linear" and (args.steps, args.max_neurons) != (None, None):
        raise InputError(
            "--example linear runs gradient descent on one weight until its steps become "
            "negligible (at most 1,000); --steps and --max-neurons go with the tutorial "
            "network or --model. Drop them."
        )
    args.steps = 0 if args.steps is None else args.steps  # (None: not given)
    args.max_neurons = MAX_NEURONS if args.max_neurons is None else args.max_neurons
    for flag, value, bad, expected in [
        ("--steps", args.steps, not 0 <= args.steps <= MAX_STEPS,
         f"0 to {MAX_STEPS:,} (the updates to run; train longer with deltarule train)"),
        ("--learning-rate", args.learning_rate, not 0 < args.learning_rate < math.inf,
         "a positive number such as 0.5"),
        ("--max-neurons", args.max_neurons, args.max_neurons < 1, "a positive integer such as 8"),
    ]:  # fmt: skip
        if bad:
            raise InputError(f"{flag} {value} is out of range; expected {expected}.")
    if loaded is not None:  # (before the walk is computed)
        from ..explain.render import check_walk_size

        sizes = loaded.network.layer_sizes
        check_walk_size(sizes, args.max_neurons, "--max-neurons", args.format)
