"""The ``deltarule`` command line: one module per subcommand.

Each subcommand module defines ``register(subparsers)``, which adds its parser
and sets ``func`` (a callable taking the parsed namespace and returning an exit
status). This module only dispatches and turns errors into one line
``error: ...`` on stderr with exit status 2 (``--debug`` shows the traceback).
SIGTERM is handled as Ctrl-C (:class:`_SignalRelay`): training stops after the current
batch and keeps what it trained; elsewhere the command stops (its files are written
atomically, so none is left half-written), with exit status 128 + the signal's number.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["main", "build_parser", "add_common", "stop_signal", "SUBCOMMANDS", "EXIT_USAGE"]

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


class _SignalRelay:
    """While a command runs, handle SIGTERM (a ``kill``, a scheduler's stop) as Ctrl-C: the
    signal goes to the SIGINT handler of the moment — the training loop's, which stops after
    the current batch, or Python's, which raises :class:`KeyboardInterrupt` — and which
    signal came is remembered, for the message and the exit status."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self._previous: Any = None

    def __enter__(self) -> _SignalRelay:
        if hasattr(signal, "SIGTERM") and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received.append(signum)
        handler = signal.getsignal(signal.SIGINT)
        if not callable(handler):  # (SIGINT ignored, as in a background job: stop anyway)
            raise KeyboardInterrupt
        handler(signum, frame)  # (the training loop's names the signal in its stop reason)

    def stop_signal(self) -> tuple[str, int]:
        """(name, exit status) of the signal that stopped the command: Ctrl-C, or SIGTERM."""
        sigterm = getattr(signal, "SIGTERM", None)
        if sigterm is not None and sigterm in self.received:
            return "SIGTERM", 128 + int(sigterm)
        return "Ctrl-C", 128 + int(signal.SIGINT)


_RELAY = _SignalRelay()
"""The relay of the command running now (a fresh one for each :func:`main`)."""


def stop_signal() -> tuple[str, int]:
    """The name (``"Ctrl-C"`` or ``"SIGTERM"``) of the signal that stopped the running
    command, and the exit status to report (130 or 143: 128 + its number)."""
    return _RELAY.stop_signal()


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
    global _RELAY
    relay = _RELAY = _SignalRelay()
    args = None
    with relay:
        try:  # (building the parser imports every subcommand: Ctrl-C may come then too)
            parser = build_parser()
            args, extra = parser.parse_known_args(argv)
            if extra:  # named by the subcommand's parser: its --help lists what it takes
                command = parser if args.command is None else args._commands[args.command]
                command.error(f"unrecognized arguments: {' '.join(extra)}")
            warnings.showwarning = _one_line_warning
            if getattr(args, "func", None) is None:
                parser.print_help()
                return EXIT_USAGE
            return int(args.func(args) or 0)
        except KeyboardInterrupt:
            if getattr(args, "debug", False):
                raise
            name, status = relay.stop_signal()
            sys.stderr.write(f"error: {_interrupted(name, args)}\n")
            return status
        except Exception as exc:  # one line for the user; --debug for the traceback
            if getattr(args, "debug", False):
                raise
            sys.stderr.write(f"error: {_one_line(exc)}\n")
            return EXIT_USAGE


def _one_line(exc: Exception) -> str:
    """The error line's text for ``exc``: its message, or, for what is not an expected
    kind of error, its type and a request to report it."""
    from ..exceptions import DeltaruleError

    known = isinstance(exc, (DeltaruleError, OSError, ValueError, KeyError, TypeError))
    text = str(exc).strip().replace("\n", " ") or type(exc).__name__
    if not known:
        text = f"{type(exc).__name__}: {text} (this is a bug; rerun with --debug and report it)"
    return text


def _interrupted(name: str, args: argparse.Namespace | None) -> str:
    """The error line for a command stopped by ``name`` (Ctrl-C or SIGTERM) before it could
    finish: with how to continue, when a training run has a checkpoint to resume."""
    text = "interrupted" if name == "Ctrl-C" else f"terminated ({name})"
    folder = getattr(args, "resume", None) or getattr(args, "checkpoint", None)
    if getattr(args, "command", None) == "train" and folder:
        from ..io.checkpoint import CHECKPOINT_FILE  # (loaded already by a training run)

        if (Path(folder) / CHECKPOINT_FILE).is_file():
            text += (
                f"; the run's last checkpoint is in {os.fspath(folder)}: continue it with "
                f"'deltarule train --resume {os.fspath(folder)}'"
            )
    return text
