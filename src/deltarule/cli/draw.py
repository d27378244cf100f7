"""``deltarule draw``: a diagram of a network with its weights (SVG, or PNG via matplotlib)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import add_common

EPILOG = """examples:
  deltarule draw --example tutorial --out tutorial.svg
  deltarule draw model.safetensors --out net.png
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``draw`` subcommand."""
    parser = subparsers.add_parser(
        "draw",
        help="draw a network diagram with its weights",
        description="Draw a network as neurons and weighted edges (like R neuralnet's plot.nn):\n"
        "edge width grows with |w|; blue is positive, red negative; hover for the values.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", nargs="?", metavar="MODEL", help="a saved model file")
    parser.add_argument(
        "--example",
        choices=("tutorial", "linear"),
        default=None,
        help="draw a textbook network instead of a model file",
    )
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write to FILE (.svg or .png); default: SVG on stdout, refused when stdout is a "
        "terminal; -: SVG on stdout even then; a file named - is ./-",
    )
    parser.add_argument(
        "--max-neurons",
        type=int,
        default=12,
        metavar="N",
        help="draw at most N neurons a layer (default: 12; at most 5,000 weights in all)",
    )
    values = parser.add_mutually_exclusive_group()
    values.add_argument(
        "--values",
        dest="values",
        action="store_const",
        const=True,
        default="auto",
        help="always write the weights on the edges",
    )
    values.add_argument(
        "--no-values",
        dest="values",
        action="store_const",
        const=False,
        help="never write the weights on the edges",
    )
    add_common(parser)
    parser.set_defaults(func=run)


def _network(args: argparse.Namespace):
    from ..exceptions import InputError
    from ..textbook import linear_network, tutorial_network

    if args.model and args.example:
        raise InputError("give either MODEL or --example, not both.")
    if args.example == "tutorial":
        return tutorial_network()[0], "the tutorial network"
    if args.example == "linear":
        return linear_network(3.0), "output = W·x"
    if not args.model:
        raise InputError("nothing to draw: give a MODEL file or --example tutorial.")
    from ._explain_model import load_file
    from ._stand_ins import custom_note, stand_ins
    from .inspect import _architecture

    with stand_ins(_architecture(args.model)) as custom:  # (custom parts: drawn by name)
        loaded = load_file(args.model)
    if custom:
        print(custom_note(custom, args.model), file=sys.stderr)
    return loaded, args.model


def _names(subject: Any, network: Any) -> tuple[list[str] | None, list[str] | None]:
    """A model file's names for the drawing: its inputs' (the feature columns, one-hot
    categories as ``column=value``) and its outputs' (the classes, or the target); None
    where the file has none that fit (a network saved from Python)."""
    from ..preprocessing import TabularPreprocessor

    state = getattr(subject, "preprocessing", None)
    if not state:
        return None, None
    try:
        pre = TabularPreprocessor.from_dict(state)
    except Exception:  # noqa: BLE001 - (a damaged state: drawn without names; inspect says why)
        return None, None
    inputs = [str(n) for n in pre.output_names]
    if pre.task == "regression":
        outputs = [str(name) for name in pre.target_names]  # (one per target)
    elif len(pre.classes) == 2 and network.n_outputs == 1:
        outputs = [f"{pre.target}={pre.classes[1]}"]
    else:
        outputs = [str(c) for c in pre.classes]
    fits = (len(inputs), len(outputs)) == (network.n_inputs, network.n_outputs)
    return (inputs, outputs) if fits else (None, None)


def _warn_crowded(network: Any, max_neurons: int, values: Any) -> None:
    """Warn when ``--values`` writes more weights between two layers than fit side by side
    (their labels overlap: a 4-64-3 network's ran into each other)."""
    import warnings

    from ..explain.diagram import MAX_LABELLED_BETWEEN

    if values is not True:
        return
    shown = [min(n, max_neurons) for n in network.layer_sizes]
    between = max((a * b for a, b in zip(shown, shown[1:])), default=0)
    if between > MAX_LABELLED_BETWEEN:
        warnings.warn(
            f"--values writes {between} weights between two layers, and their labels overlap "
            f"beyond {MAX_LABELLED_BETWEEN}; draw fewer neurons (--max-neurons 3) to read them, "
            "or hover over the SVG's edges for each value.",
            UserWarning,
            stacklevel=2,
        )


def _refuse_terminal() -> None:
    """Refuse to write the SVG, tens of kilobytes of markup, to a terminal when no ``--out``
    was given (as gzip refuses to write compressed data there); a pipe or a redirect, and an
    explicit ``--out -``, still get it."""
    from ..exceptions import InputError
    from ._stdin import is_terminal

    if is_terminal(sys.stdout):
        raise InputError(
            "draw writes an SVG drawing, and standard output is a terminal; give --out "
            "FILE.svg (or .png) or redirect standard output to a file (> net.svg); "
            "--out - writes it here anyway."
        )


def run(args: argparse.Namespace) -> int:
    """Draw the network; returns the exit status."""
    from .._validation import check_int
    from ..explain import draw_network
    from ..explain.diagram import check_drawing_size
    from ._common import check_distinct
    from ._outputs import check_output
    from ._stdin import output_file, refuse_stdin_model

    refuse_stdin_model(args.model)
    if args.out is None:
        _refuse_terminal()
    args.out = output_file(args.out)  # (--out -: SVG on stdout, as without --out)
    max_neurons = check_int(args.max_neurons, "--max-neurons", minimum=3)
    check_output("--out", args.out, "net.svg")
    check_distinct({"MODEL": args.model}, {"--out": args.out})
    subject, title = _network(args)
    network = getattr(subject, "network", subject)  # (a model file, or a textbook network)
    check_drawing_size(network.layer_sizes, max_neurons, "--max-neurons")
    inputs, outputs = _names(subject, network)
    _warn_crowded(network, max_neurons, args.values)
    svg = draw_network(network, args.out, max_neurons=max_neurons, show_values=args.values,
                       title=title, input_names=inputs, output_names=outputs)  # fmt: skip
    if args.out:
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(svg + "\n")
    return 0
