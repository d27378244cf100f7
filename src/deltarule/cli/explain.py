"""``deltarule explain``: backpropagation step by step, from the real computation.

Without options it walks the tutorial's 2-2-2 network (forward pass, error,
chain rule for every weight, update). ``--example linear`` shows the one-weight
example; ``--model FILE --input ROW [--target ROW]`` explains one example of a
saved model. When no ``--target`` is given, softmax and sigmoid models use
their own predicted class; other models need ``--target``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any

import numpy as np

from . import add_common

FORMATS = ("text", "markdown", "html", "json")

EPILOG = """examples:
  deltarule explain
  deltarule explain --steps 10000 --format html --out walk.html
  deltarule explain --format json
  deltarule explain --example linear --plot error.png
  deltarule explain --model model.safetensors --input 0.1,0.7,0.3 --target 0,1
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``explain`` subcommand."""
    parser = subparsers.add_parser(
        "explain",
        help="show backpropagation step by step",
        description="Show backpropagation step by step, with the numbers the network really\n"
        "computes: the tutorial's 2-2-2 network by default. Without --target, a softmax or\n"
        "sigmoid model explains its own predicted class; other models need --target.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--example",
        choices=("tutorial", "linear"),
        default=None,
        help="a textbook example (default: tutorial)",
    )
    parser.add_argument("--model", metavar="MODEL", help="a saved model file to explain")
    parser.add_argument(
        "--input",
        metavar="ROW",
        help="with --model: the network's input values, e.g. 0.1,0.7 (after the model's "
        "preprocessing: standardised numbers, one-hot categories; see 'deltarule inspect')",
    )
    parser.add_argument(
        "--target", metavar="ROW", help="with --model: the desired output values of the network"
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="with --model: --input is one row of the data's columns as in a CSV (e.g. "
        "5.1,3.5,red; see 'deltarule inspect' for their order) and --target a label or value; "
        "the model's preprocessing turns them into the network's values",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default: text)"
    )
    parser.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument(
        "--learning-rate",
        type=float,
        default=0.5,
        metavar="ETA",
        help="learning rate of the update (default: 0.5, the tutorial's)",
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
    add_common(parser)
    parser.set_defaults(func=run)


def parse_row(text: str, option: str, width: int | None = None, what: str = "") -> np.ndarray:
    """Parse ``"0.1,0.7,0.3"`` into a 1-D float array (of ``width`` values, when given: the
    network's ``what``)."""
    from ..exceptions import InputError

    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values:
        raise InputError(
            f"{option} must be comma-separated numbers such as 0.05,0.1; received {text!r}."
        )
    if width is not None and len(values) != width:
        raise InputError(
            f"{option} has {len(values)} value(s) ({text}); the model's network has {width} "
            f"{what}, so give {width} comma-separated numbers (or --raw for a row of the "
            "model's data columns)."
        )
    return np.array(values)


def _raw_example(model: Any, row: str, target: str | None) -> tuple[Any, Any]:
    """The network's input (and target) for one raw row of ``model``'s data columns (a
    :class:`~deltarule.cli._common.Model`), read as a CSV row would be and passed through
    the model's own preprocessing."""
    import csv
    import io

    from ..exceptions import InputError

    names = [str(name) for name in model.pre.feature_names]
    cells = next(csv.reader([row]), [])
    if len(cells) != len(names):
        shown = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
        raise InputError(
            f"--input has {len(cells)} value(s) but the model's data has {len(names)} "
            f"column(s): {shown}; with --raw give one value per column, in that order."
        )

    def one_row(header: list[str], values: list[str], text_columns: list[str]) -> Any:
        import pandas as pd

        text = io.StringIO()
        csv.writer(text).writerows([header, values])
        kinds = {name: str for name in text_columns}  # ('01' stays '01', as predict reads it)
        return pd.read_csv(io.StringIO(text.getvalue()), dtype=kinds)  # as a data file's cells

    text_columns = [str(name) for name in model.pre.text_columns]
    x = model.features(one_row(names, cells, text_columns))[0]
    if target is None:
        return x, None
    as_text = ["target"] if str(model.pre.target) in text_columns else []
    label = one_row(["target"], [target], as_text)["target"]
    return x, model.targets(label)[0]


def _check_subject(args: argparse.Namespace) -> None:
    """Check what is explained (--model or --example, and what goes only with --model)."""
    from ..exceptions import InputError

    if args.model and args.example:
        raise InputError("give either --model or --example, not both.")
    if not args.model and (args.input is not None or args.target is not None or args.raw):
        raise InputError("--input, --target and --raw go with --model MODEL.")


def _check_options(args: argparse.Namespace) -> None:
    """Check the other options (after --model's file is read: its problems come first)."""
    from ..exceptions import InputError

    if args.model and args.input is None:
        raise InputError("--model needs --input ROW (the example to explain, e.g. 0.1,0.7).")
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


def _load_network(path: str) -> Any:
    from ..exceptions import InputError

    try:
        from ..io import load_model
    except ImportError as exc:
        raise InputError(
            "reading model files needs deltarule.io, which this installation does not have."
        ) from exc
    return load_model(path).network


def _load(args: argparse.Namespace) -> tuple[Any, Any]:
    """Read --model: (network, the model with its preprocessing for --raw, else None)."""
    if args.raw:  # the model file's preprocessing too: read it once, whole
        from ._common import load_model_file

        model = load_model_file(args.model)
        return model.network, model
    return _load_network(args.model), None


def _plot_curve(trace: Any, path: str) -> None:
    from ..explain._output import save_atomic
    from ..explain._plots import error_figure

    suffix = os.path.splitext(path)[1].lower()  # (checked: .png or .svg)
    xs, ys = zip(*trace.curve)
    fig = error_figure(
        xs,
        ys,
        xlabel="updates",
        ylabel="error E",
        title="error during training",
        logx=True,
        logy=True,
    )
    from ..plots import write_figure

    save_atomic(path, lambda handle: write_figure(fig, handle, suffix[1:]))


def _explain(args: argparse.Namespace, loaded: tuple[Any, Any] | None) -> str:
    """The walk as text; ``loaded`` is :func:`_load`'s answer for --model."""
    from .. import explain

    if args.example == "linear":
        return explain.explain_linear(args.format, learning_rate=args.learning_rate, plot=args.plot)
    if loaded is not None:
        network, model = loaded
        if model is not None:
            x, y = _raw_example(model, args.input, args.target)
        else:
            x = parse_row(args.input, "--input", network.n_inputs, "inputs")
            y = None if args.target is None else parse_row(
                args.target, "--target", network.n_outputs, "outputs")  # fmt: skip
        if args.plot:
            X, _, _ = network.validate(x)
            target = y if y is not None else explain.default_target(network, network.predict(X))[0]
            _plot_curve(
                explain.trace(network, X, target, args.learning_rate, steps=args.steps), args.plot
            )
        return explain.explain_example(
            network,
            x,
            y,
            learning_rate=args.learning_rate,
            steps=args.steps,
            format=args.format,
            max_neurons=args.max_neurons,
            title=os.path.basename(args.model),
        )
    trace = explain.tutorial_trace(args.learning_rate, steps=args.steps)
    if args.plot:
        _plot_curve(trace, args.plot)
    return explain.render(trace, args.format, max_neurons=args.max_neurons)


def run(args: argparse.Namespace) -> int:
    """Explain, then print or write the result; returns the exit status."""
    from ._common import check_distinct

    _check_subject(args)
    # A missing or unreadable model file first: the options that go with it come after.
    loaded = _load(args) if args.model else None
    _check_options(args)
    check_distinct({"--model": args.model}, {"--out": args.out, "--plot": args.plot})
    text = _explain(args, loaded)
    if args.out:
        from ..explain._output import write_atomic

        write_atomic(args.out, text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
