"""``deltarule draw``: a diagram of a network with its weights (SVG, or PNG via matplotlib)."""

from __future__ import annotations

import argparse
import sys

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
        "--out", metavar="FILE", help="write to FILE (.svg or .png); default: SVG on stdout"
    )
    parser.add_argument(
        "--max-neurons",
        type=int,
        default=12,
        metavar="N",
        help="draw at most N neurons a layer (default: 12)",
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
    from .explain import _load_network

    return _load_network(args.model), args.model


def run(args: argparse.Namespace) -> int:
    """Draw the network; returns the exit status."""
    from .._validation import check_int
    from ..explain import draw_network
    from ._common import check_distinct
    from ._outputs import check_output

    max_neurons = check_int(args.max_neurons, "--max-neurons", minimum=3)
    check_output("--out", args.out, "net.svg")
    check_distinct({"MODEL": args.model}, {"--out": args.out})
    network, title = _network(args)
    svg = draw_network(
        network, args.out, max_neurons=max_neurons, show_values=args.values, title=title
    )
    if args.out:
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(svg + "\n")
    return 0
