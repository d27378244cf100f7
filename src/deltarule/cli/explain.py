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
(:func:`~._target_units.in_training_units`); a model of several targets likewise, each
output with its own target's mean and std, ``--target`` one value per target. The learning
rate defaults to the one the model was trained with, when its file records it (deltarule
train's, a checkpoint's, or a scikit-learn estimator's ``learning_rate_init``); else 0.5, the
tutorial's, and the header says why (an optimizer such as lbfgs has none). ``--raw`` needs
the file's preprocessing: a network saved without it is refused.

This module renders the walk and writes it; the options and their checks are in
:mod:`._explain_args`, the --model example (the file read, the learning rate, the trace) in
:mod:`._explain_model`.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from . import add_common
from ._explain_args import DESCRIPTION, EPILOG, add_arguments, check_options, check_subject
from ._explain_model import Loaded, choose_learning_rate, load, trace_example
from ._outputs import check_output, write_outputs

_FORMAT_BY_SUFFIX = {".html": "html", ".htm": "html", ".md": "markdown", ".json": "json",
                     ".txt": "text"}  # fmt: skip
"""The format an --out file's extension names when --format is not given."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``explain`` subcommand."""
    parser = subparsers.add_parser(
        "explain",
        help="show backpropagation step by step",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    add_common(parser)
    parser.set_defaults(func=run)


def _explain(
    args: argparse.Namespace, loaded: Loaded | None, rate_note: str = ""
) -> tuple[str, bytes | None, Any]:
    """The walk as text, the --plot file's bytes (None without --plot) and the trace (None
    for --example linear); ``loaded`` is :func:`load`'s answer for --model, ``rate_note``
    :func:`choose_learning_rate`'s."""
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
        trace = trace_example(args, loaded, rate_note)
    else:
        trace = explain.tutorial_trace(args.learning_rate, steps=args.steps)
    text = explain.render(trace, args.format, max_neurons=args.max_neurons)
    if not args.plot:
        return text, None, trace
    from ..explain._plots import curve_figure, figure_bytes

    return text, figure_bytes(curve_figure(trace), suffix), trace


_PICTURES = (".png", ".svg", ".pdf", ".jpg", ".jpeg")


def _refuse_picture(out: str | None) -> None:
    """Refuse an --out named as a picture (``walk.png``: the walk is text), pointing to
    --plot and to the HTML page, whose diagrams and curve are SVG."""
    from ..exceptions import InputError

    suffix = os.path.splitext(out or "")[1].lower()
    if suffix not in _PICTURES:
        return
    stem = os.path.splitext(out or "")[0]
    raise InputError(
        f"--out {out}: explain writes the walk as text, Markdown, HTML or JSON, not "
        f"{'an' if suffix == '.svg' else 'a'} {suffix[1:].upper()} picture. For a picture use "
        f"--plot {stem}.png or {stem}.svg (the error curve, with --steps N; E(W) with --example "
        f"linear); --out {stem}.html writes the walk as a page with SVG diagrams of the "
        "network; 'deltarule draw' draws the network alone."
    )


def run(args: argparse.Namespace) -> int:
    """Explain, then print or write the result; returns the exit status.

    Everything is computed and rendered (the plot too, in memory) before the first
    output is written; the text goes to stdout or --out before the plot is written.
    """
    from ..explain.walk import updates
    from ._common import check_distinct, output_format, refuse_foreign_extension
    from ._stdin import output_file, refuse_stdin_model, refuse_stdout

    refuse_stdin_model(args.model, "--model")
    refuse_stdout(args.plot, "--plot", "a PNG or SVG image", "curve.png")
    args.out = output_file(args.out)  # (- is standard output, the default)
    args.format = output_format(args.format, args.out, _FORMAT_BY_SUFFIX, "text")
    check_subject(args)
    # A missing or unreadable model file first: the options that go with it come after.
    loaded = load(args) if args.model else None
    rate_note = choose_learning_rate(args, loaded)
    check_options(args, loaded)
    out_example = {"html": "walk.html", "markdown": "walk.md", "json": "walk.json"}
    check_output("--out", args.out, out_example.get(args.format, "walk.txt"))
    check_output("--plot", args.plot, "curve.png")
    check_distinct({"--model": args.model}, {"--out": args.out, "--plot": args.plot})
    _refuse_picture(args.out)
    refuse_foreign_extension(args.out, _FORMAT_BY_SUFFIX)
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
