"""The ``deltarule`` command line: one module per subcommand.

Each subcommand module defines ``register(subparsers)``, which adds its parser
and sets ``func`` (a callable taking the parsed namespace and returning an exit
status). This module only dispatches and turns errors into one line
``error: ...`` on stderr with exit status 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import warnings
from collections.abc import Sequence
from typing import Any

__all__ = ["main", "build_parser", "add_common", "SUBCOMMANDS", "EXIT_USAGE"]

EXIT_USAGE = 2
SUBCOMMANDS = ("train", "predict", "evaluate", "inspect", "explain", "draw")
"""Subcommand modules under ``deltarule.cli``, in the order ``--help`` lists them."""


_NEGATIVE_NUMBERS = re.compile(r"^-(\d|\.\d)[\d.eE+\-,\s]*$")
"""What argparse must take as a value, not an option: ``-1.2``, and lists such as
``--input -1.2,0.3`` (standardised inputs are often negative)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors follow the one-line ``error: ...`` rule, and
    which takes comma-separated numbers starting with a minus sign as values."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBERS  # (argparse's: one number only)

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)


def add_common(parser: argparse.ArgumentParser) -> None:
    """Add the options every subcommand accepts (``--debug``) to a subcommand parser."""
    parser.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every available subcommand registered."""
    parser = _Parser(
        prog="deltarule",
        description="Train multi-layer perceptrons by backpropagation, and watch them learn.",
        epilog="Example: deltarule train data.csv --target label --out model.safetensors",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"deltarule.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"deltarule.cli.{name}":
                continue  # subcommand not built yet
            raise
        module.register(subparsers)
    parser.set_defaults(_commands=subparsers.choices)
    return parser


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Show a warning as one line ``warning: ...`` (no source location) at the command line."""
    sys.stderr.write(f"warning: {message}\n")


def _version() -> str:
    from .. import __version__

    return f"deltarule {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # named by the subcommand's parser: its --help lists what it takes
        command = parser if args.command is None else args._commands[args.command]
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    warnings.showwarning = _one_line_warning
    if getattr(args, "func", None) is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if args.debug:
            raise
        sys.stderr.write("error: interrupted\n")
        return 130
    except Exception as exc:  # one line for the user; --debug for the traceback
        if args.debug:
            raise
        from ..exceptions import DeltaruleError

        known = isinstance(exc, (DeltaruleError, OSError, ValueError, KeyError, TypeError))
        text = str(exc).strip().replace("\n", " ") or type(exc).__name__
        if not known:
            text = f"{type(exc).__name__}: {text} (this is a bug; rerun with --debug and report it)"
        sys.stderr.write(f"error: {text}\n")
        return EXIT_USAGE
