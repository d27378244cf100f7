"""``deltarule explain``: backpropagation step by step, from the real computation.

Without options it walks the tutorial's 2-2-2 network (forward pass, error,
chain rule for every weight, update). ``--example linear`` shows the one-weight
example; ``--model FILE --input ROW [--target ROW]`` explains one example of a
saved model. When no ``--target`` is given, softmax and sigmoid models use
their own predicted class; other models need ``--target``.

A model is walked in the units it was trained in: with ``--raw`` the row's values are
standardised (and one-hot encoded) by the model's preprocessing, shown once; a regression
model trained on its standardised target (``deltarule train``), whose file records the
target's mean and std, is walked on that target, shown in its own units and standardised,
with the output converted back beside the network's
(:func:`~._example_values.in_training_units`). The learning rate defaults to the one the
model was trained with, when its file records it (else 0.5, the tutorial's).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any, NamedTuple

import numpy as np

from . import add_common
from ._example_values import (
    INPUT_SCALE,
    check_values,
    in_training_units,
    parse_row,
    raw_example,
)
from ._outputs import check_output, write_outputs

FORMATS = ("text", "markdown", "html", "json")

EPILOG = """examples:
  deltarule explain
  deltarule explain --steps 10000 --format html --out walk.html
  deltarule explain --format json
  deltarule explain --example linear --plot error.png
  deltarule explain --model model.safetensors --input 0.1,0.7,0.3 --target 0,1
  deltarule explain --model houses.safetensors --raw --input 3,120,garden --target 250000
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``explain`` subcommand."""
    parser = subparsers.add_parser(
        "explain",
        help="show backpropagation step by step",
        description="Show backpropagation step by step, with the numbers the network really\n"
        "computes: the tutorial's 2-2-2 network by default. Without --target, a softmax or\n"
        "sigmoid model explains its own predicted class; other models need --target.\n"
        "A regression model trained on its standardised target (as 'deltarule train'\n"
        "trains one) whose file records the target's mean and std is explained in those\n"
        "units: the target shown as given and standardised, the output converted back to\n"
        "the target's units beside the network's.",
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
        "--target",
        metavar="ROW",
        help="with --model: the desired output values of the network (a regression "
        "model's in the target's units; the walk standardises them when the model was "
        "trained on its standardised target)",
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
        default=None,
        metavar="ETA",
        help="learning rate of the update (default: 0.5, the tutorial's; with --model, the "
        "learning rate the model was trained with, when its file records one)",
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
    return _load_file(path).network


def _load_file(path: str) -> Any:
    """Read a model file (:func:`deltarule.io.load_model`: network, classes, header)."""
    from ..exceptions import InputError

    try:
        from ..io import load_model
    except ImportError as exc:
        raise InputError(
            "reading model files needs deltarule.io, which this installation does not have."
        ) from exc
    return load_model(path)


class Loaded(NamedTuple):
    """What --model's file gives the walk."""

    network: Any
    model: Any
    """The model with its preprocessing (:class:`~._common.Model`), for --raw; else None."""
    classes: list[Any] | None
    """The class labels, to name a predicted class."""
    header: dict[str, Any]
    """The file's header (its training record: the target's standardisation, the learning
    rate)."""
    target: str
    """The target column's name ("target" when the file does not say)."""


def _load(args: argparse.Namespace) -> Loaded:
    """Read --model: its network, and for --raw its preprocessing too."""
    if not args.raw:
        loaded = _load_file(args.model)
        header = getattr(loaded, "header", None) or {}
        pre = getattr(loaded, "preprocessing", None)
        target = str(pre.get("target", "target")) if isinstance(pre, dict) else "target"
        return Loaded(loaded.network, None, getattr(loaded, "classes", None), header, target)
    from ..exceptions import IncompatibleFormatError, InputError
    from ._common import load_model_file

    try:
        model = load_model_file(args.model)  # (the model file's preprocessing too)
    except IncompatibleFormatError:
        loaded = _load_file(args.model)  # (it reads: its preprocessing does not fit it)
        _refuse_checkpoint(loaded.header, args.model, loaded.network)
        if loaded.preprocessing is None:
            network = loaded.network
            raise InputError(
                f"{args.model} holds a network saved without preprocessing, with "
                f"{network.n_outputs} outputs that are not classes; --raw reads a row of data "
                "columns only for one regression output or class outputs. Drop --raw and give "
                f"--input as the network's {network.n_inputs} input values (and --target as "
                f"its {network.n_outputs} output values)."
            ) from None
        raise
    _refuse_checkpoint(model.header, args.model, model.network)
    classes = list(model.pre.classes or []) or None
    return Loaded(model.network, model, classes, model.header, str(model.pre.target))


def _learning_rate(args: argparse.Namespace, loaded: Loaded | None) -> str:
    """Choose η when --learning-rate is not given: the rate --model's training used, when its
    file records one, else the tutorial's 0.5. Returns the sentence that says so ("" when
    not from the model)."""
    from ..textbook import TUTORIAL_LEARNING_RATE
    from ._example_values import training_rate

    if args.learning_rate is not None:
        return ""
    recorded = None if loaded is None else training_rate(loaded.header)
    if recorded is None:
        args.learning_rate = TUTORIAL_LEARNING_RATE
        return ""
    args.learning_rate, optimizer = recorded
    return (
        f"η = {args.learning_rate:g} is the learning rate this model was trained with "
        f"(optimizer {optimizer}); the walk takes one plain gradient-descent step with it "
        "(--learning-rate sets another)."
    )


def _refuse_checkpoint(header: dict[str, Any], path: str, network: Any) -> None:
    """Refuse --raw with a training checkpoint, as predict refuses it."""
    from ..exceptions import InputError
    from ._model_kinds import refuse_checkpoint

    try:
        refuse_checkpoint(header, path, "explain --raw")
    except InputError as exc:
        raise InputError(
            f"{exc} Or drop --raw and give --input as the network's own {network.n_inputs} "
            "input values."
        ) from None


def _example_trace(args: argparse.Namespace, loaded: Loaded, rate_note: str = "") -> Any:
    """Trace --input (and --target) through --model's network, once: in the units the
    network was trained in (a standardised target:
    :func:`~._example_values.in_training_units`)."""
    from .. import explain
    from ..exceptions import InputError
    from ..explain.expr import fmt

    network, model, classes = loaded.network, loaded.model, loaded.classes
    notes, raw_inputs = [], None
    if model is not None:
        x, y, raw_inputs, filled = raw_example(model, args.input, args.target)
        check_values(np.asarray(x).reshape(-1), "--input", network, raw=True)
        notes.append(filled)
    else:
        x = parse_row(args.input, "--input", network.n_inputs, "inputs")
        check_values(x, "--input", network)
        y = None
        if args.target is not None:
            y = parse_row(args.target, "--target", network.n_outputs, "outputs")
            check_values(y, "--target", network)
    activation = network.layers[-1].activation.name
    if y is None and activation not in ("softmax", "sigmoid"):
        n = network.n_outputs
        raise InputError(
            f"--model {args.model} has an output activation ({activation}) with no predicted "
            f"class to explain; give --target with the desired output ({n} number"
            f"{'s' if n != 1 else ''}, e.g. --target {','.join(['1.5'] * n)})."
        )
    raw_targets = None
    trained = in_training_units(network, y, loaded.header, args.model, loaded.target)
    if trained is not None:
        network, y, raw_targets, note = trained
        notes.append(note)
    elif y is not None and model is not None:
        shown = ", ".join(fmt(v, network.dtype) for v in np.asarray(y).reshape(-1))
        notes.append(f"--target {args.target!r} is the network's target ({shown}).")
    notes.append(rate_note)
    try:
        return explain.example_trace(
            network, x, y, learning_rate=args.learning_rate, steps=args.steps,
            title=os.path.basename(args.model), note=" ".join(n for n in notes if n),
            classes=classes, raw_inputs=raw_inputs, raw_targets=raw_targets,
        )  # fmt: skip
    except explain.NonFiniteError as exc:
        raise InputError(_overflow_message(args, exc, network, x)) from exc


def _overflow_message(args: argparse.Namespace, exc: Any, network: Any, x: Any) -> str:
    """The --model walk's overflow (:class:`~deltarule.explain.NonFiniteError`), in the
    command line's terms."""
    value = f"{exc.quantity} = {exc.value:g}"
    if exc.stage == "update":
        return (
            f"the update overflows the model's {network.dtype} numbers: {value} with "
            f"--learning-rate {args.learning_rate:g}; use a smaller --learning-rate."
        )
    where = {"forward": "in the forward pass", "error": "as the error",
             "backward": "in the backward pass"}[exc.stage]  # fmt: skip
    hint = "check this row's values (and their units)" if args.raw else INPUT_SCALE
    if args.target is not None:
        hint += "; and check that --target is on the scale of the model's outputs"
    return (
        f"this example overflows the model's {network.dtype} numbers (largest "
        f"{np.finfo(network.dtype).max:.3g}): {value} {where}, for --input {args.input} "
        f"(largest |value|{' after preprocessing' if args.raw else ''} "
        f"{np.abs(np.asarray(x, float)).max():.3g}); "
        f"{hint}."
    )


def _explain(
    args: argparse.Namespace, loaded: Loaded | None, rate_note: str = ""
) -> tuple[str, bytes | None, Any]:
    """The walk as text, the --plot file's bytes (None without --plot) and the trace (None
    for --example linear); ``loaded`` is :func:`_load`'s answer for --model, ``rate_note``
    :func:`_learning_rate`'s."""
    from .. import explain

    suffix = os.path.splitext(args.plot or "")[1]  # (checked: .png or .svg)
    if args.example == "linear":
        walk = explain.linear_walk(args.learning_rate)
        text = explain.render_linear(walk, args.format)
        if not args.plot:
            return text, None, None
        from ..explain._plots import figure_bytes
        from ..explain.linear import linear_figure

        return text, figure_bytes(linear_figure(walk), suffix), None
    if loaded is not None:
        trace = _example_trace(args, loaded, rate_note)
    else:
        trace = explain.tutorial_trace(args.learning_rate, steps=args.steps)
    text = explain.render(trace, args.format, max_neurons=args.max_neurons)
    if not args.plot:
        return text, None, trace
    from ..explain._plots import curve_figure, figure_bytes

    return text, figure_bytes(curve_figure(trace), suffix), trace


def run(args: argparse.Namespace) -> int:
    """Explain, then print or write the result; returns the exit status.

    Everything is computed and rendered (the plot too, in memory) before the first
    output is written; the text goes to stdout or --out before the plot is written.
    """
    from ..explain.walk import updates
    from ._common import check_distinct

    _check_subject(args)
    # A missing or unreadable model file first: the options that go with it come after.
    loaded = _load(args) if args.model else None
    rate_note = _learning_rate(args, loaded)
    _check_options(args)
    out_example = {"html": "walk.html", "markdown": "walk.md", "json": "walk.json"}
    check_output("--out", args.out, out_example.get(args.format, "walk.txt"))
    check_output("--plot", args.plot, "curve.png")
    check_distinct({"--model": args.model}, {"--out": args.out, "--plot": args.plot})
    text, plot, trace = _explain(args, loaded, rate_note)
    if trace is not None and trace.diverged is not None:
        print(
            f"warning: the training diverged: the error overflowed after "
            f"{updates(trace.diverged)} of --steps {trace.steps:,}, so it stopped there; "
            f"try a smaller --learning-rate than {trace.learning_rate:g}.",
            file=sys.stderr,
        )
    outputs = [] if plot is None else [("--plot", args.plot, plot)]
    if args.out:
        outputs.insert(0, ("--out", args.out, text.encode("utf-8")))
    else:
        sys.stdout.write(text)
    write_outputs(outputs)
    for _, path, _ in outputs:
        print(f"wrote {path}", file=sys.stderr)
    return 0
