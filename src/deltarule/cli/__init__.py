"""The ``deltarule`` command line: one module per subcommand.

Each subcommand module defines ``register(subparsers)``, which adds its parser
and sets ``func`` (a callable taking the parsed namespace and returning an exit
status). This module only dispatches and turns errors into one line
``error: ...`` on stderr with exit status 2 (``--debug`` shows the traceback).
SIGTERM is handled as Ctrl-C (:class:`_SignalRelay`): training stops after the current
batch and keeps what it trained; elsewhere the command stops (its files are written
atomically, so none is left half-written), with exit status 128 + the signal's number.

This module is what the ``deltarule`` program imports before it calls :func:`main`, so it
imports nothing at its top but :mod:`sys` (and the built-in :mod:`_thread`): what it needs
(argparse, the subcommands, numpy) is imported inside :func:`main`, where Ctrl-C ends the
command with one line, not a traceback.
"""

from __future__ import annotations

import _thread  # (built in: costs nothing)
import sys

TYPE_CHECKING = False  # (typing.TYPE_CHECKING, without importing typing: see above)
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from types import FrameType
    from typing import Any, NoReturn

__all__ = [
    "main", "program", "console", "build_parser", "add_common", "stop_signal", "SUBCOMMANDS",
    "EXIT_USAGE",
]  # fmt: skip

EXIT_USAGE = 2
SUBCOMMANDS = (
    "train", "predict", "evaluate", "importance", "inspect", "explain", "draw", "data", "versions",
)  # fmt: skip
"""Subcommand modules under ``deltarule.cli``, in the order ``--help`` lists them."""


class _SignalRelay:
    """While a command runs, handle SIGTERM (a ``kill``, a scheduler's stop) as Ctrl-C: the
    signal goes to the SIGINT handler of the moment — the training loop's, which stops after
    the current batch, or Python's, which raises :class:`KeyboardInterrupt` — and which
    signal came is remembered, for the message and the exit status."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.stopped = False
        """Whether Python's Ctrl-C handling (KeyboardInterrupt: Ctrl-C, or SIGTERM relayed
        to it) stopped the command: an error that follows is the interruption's (Ctrl-C in
        numpy's import can surface as an ImportError). The training loop's own handler,
        which stops after a batch, leaves it False: errors after that are shown."""
        self._previous: Any = None
        self._previous_int: Any = None

    def __enter__(self) -> _SignalRelay:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return self
        if hasattr(signal, "SIGTERM"):
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous_int = signal.signal(signal.SIGINT, self._ctrl_c)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
        if self._previous_int is not None and signal.getsignal(signal.SIGINT) == self._ctrl_c:
            signal.signal(signal.SIGINT, self._previous_int)

    def _ctrl_c(self, signum: int, frame: FrameType | None) -> None:
        """Python's own Ctrl-C (KeyboardInterrupt), remembered (:attr:`stopped`).

        Raised in a frame whose exceptions Python ignores (the callback that drops an
        import's module lock: "Exception ignored in ... cb", a traceback on stderr and the
        Ctrl-C lost), it is put off: delivered again :data:`PUT_OFF` seconds later, once that
        frame has returned."""
        self.stopped = True
        if _in_lock_callback(frame):
            import _thread
            import signal
            import threading

            # delivered again a moment later, from another thread: marked pending here, it
            # was handled again at once, inside that callback still
            again = threading.Timer(PUT_OFF, _thread.interrupt_main, (signal.SIGINT,))
            again.daemon = True
            again.start()
            return
        raise KeyboardInterrupt

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        import signal

        self.received.append(signum)
        handler = signal.getsignal(signal.SIGINT)
        if not callable(handler):  # (SIGINT ignored, as in a background job: stop anyway)
            raise KeyboardInterrupt
        handler(signum, frame)  # (the training loop's names the signal in its stop reason)

    def stop_signal(self) -> tuple[str, int]:
        """(name, exit status) of the signal that stopped the command: Ctrl-C, or SIGTERM."""
        import signal

        sigterm = getattr(signal, "SIGTERM", None)
        if sigterm is not None and sigterm in self.received:
            return "SIGTERM", 128 + int(sigterm)
        return "Ctrl-C", 128 + int(signal.SIGINT)


def _in_lock_callback(frame: FrameType | None, depth: int = 30) -> bool:
    """Whether ``frame`` runs in importlib's callback that drops a module lock: it is that
    callback, or called from it within ``depth`` frames (a Ctrl-C put off from it and
    delivered again while the callback still started the thread that delivers it: under
    load, 1 of 100 went so, raised inside the callback and lost)."""
    while frame is not None and depth > 0:
        code = frame.f_code
        if code.co_name == "cb" and "importlib" in code.co_filename:
            return True
        frame, depth = frame.f_back, depth - 1
    return False


PUT_OFF = 0.002
"""Seconds after which a Ctrl-C put off from importlib's lock callback is delivered again."""
_RELAY = _SignalRelay()
"""The relay of the command running now (a fresh one for each :func:`main`)."""


def stop_signal() -> tuple[str, int]:
    """The name (``"Ctrl-C"`` or ``"SIGTERM"``) of the signal that stopped the running
    command, and the exit status to report (130 or 143: 128 + its number)."""
    return _RELAY.stop_signal()


def add_common(parser: argparse.ArgumentParser) -> None:
    """Add the options every subcommand accepts (``--debug``) to a subcommand parser."""
    import argparse

    parser.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every available subcommand registered."""
    import importlib

    from ._parser import Parser

    parser = Parser(
        prog="deltarule",
        description="Train multi-layer perceptrons by backpropagation, and watch them learn.",
        epilog="Example: deltarule train data.csv --target label --out model.safetensors",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
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


EPOCH_OPTIONS = {"epochs": "--epochs", "learning_rate": "--learning-rate", "stopping": "--patience"}
"""The fixes of the training loop's epoch-limit warning
(:class:`~deltarule.exceptions.StillImprovingWarning`) in the command line's spelling."""


RULE_OPTIONS = {
    "stop_when_all_correct": "--until-all-correct",
    "target_error": "--target-error",
    "GradientNormBelow": "--gradient-threshold",
    "the learning rate (now": "--learning-rate (now",
}
"""The stopping rules' fit arguments, as warnings name them, in the command line's spelling."""


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
    """Show a warning as one line ``warning: ...`` (no source location) at the command line,
    the epoch-limit warning's advice in the command line's spelling (:data:`EPOCH_OPTIONS`)."""
    from .._reports import SILENCE
    from ..exceptions import ConvergenceWarning, StillImprovingWarning

    text = message.advice(EPOCH_OPTIONS) if isinstance(message, StillImprovingWarning) else message
    text = str(text)
    if issubclass(category, ConvergenceWarning):  # (the run's advice: not a column's name)
        text = text.replace(f"; {SILENCE}.", ".")  # (a Python option: none here)
        for python, option in RULE_OPTIONS.items():  # (stopping rules, the rate: options)
            text = text.replace(python, option)
    sys.stderr.write(f"warning: {text}\n")


def _print_version() -> int:
    """Write the version line, as argparse's version action does: an output that cannot
    take it (closed, full, a closed pipe) is not an error of the program's."""
    import os

    try:
        sys.stdout.write(_version() + "\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - (no flush error at exit)
    return 0


def _version() -> str:
    from .. import __version__

    return f"deltarule {__version__}"


_ONE_AT_A_TIME = _thread.RLock()
"""Held while :func:`main` runs: one command at a time in a process."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Ctrl-C (or SIGTERM) at any moment while it runs (building the parser imports numpy)
    ends it with one line ``error: interrupted`` and status 130 (143), no traceback
    (``--debug`` shows it). ``--debug`` is looked for in ``argv`` before the parser is
    built, so that an error while building it (a subcommand that fails to import) shows its
    traceback too.

    A command sets the process's standard streams, how warnings show and (in the main
    thread) the signal handlers while it runs, so calls from several threads at once run
    one after another (a call from within a command, in the same thread, runs at once);
    for commands in parallel, run them in processes.
    """
    import warnings  # (loaded at Python's start: costs nothing)

    from ._streams import Streams

    with _ONE_AT_A_TIME, Streams(), warnings.catch_warnings():  # (warnings: this command's)
        if list(sys.argv[1:] if argv is None else argv) == ["--version"]:  # (no parser:
            return _print_version()  # ~170 ms of imports, numpy's among them)
        return _main(argv)


def program() -> int:
    """The ``deltarule`` program (its console script, and ``python -m deltarule``):
    :func:`main` on ``sys.argv``, then a quiet end.

    Once the command is done, a Ctrl-C while Python shuts down (joining the thread pools
    predict used) ends the process at once: Python's own handler raised KeyboardInterrupt
    inside that shutdown, printing "Exception ignored in ... threading" with a traceback.
    Only the program does this (a host that calls :func:`main` keeps its own Ctrl-C), and
    only where Ctrl-C is Python's default (a SIGINT ignored stays ignored).

    With ``--debug``, :func:`main` raises the error (for a host that calls it); the program
    prints its traceback and exits with status 2, as without ``--debug``."""
    try:
        status = main()
    except Exception:  # (--debug: raised for its traceback)
        import traceback

        traceback.print_exc()
        status = EXIT_USAGE
    import signal
    import threading

    default = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if default and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _interrupted_at_exit)
    return status


def console() -> NoReturn:
    """The ``deltarule`` program's entry (its console script, and ``python -m deltarule``):
    :func:`program`, then the end of the process.

    The process ends as Python's exit would end it, less the freeing of every module and
    object (0.15-0.35 s of a command that took 0.5-1.6 s): threading's exit hooks run and
    the non-daemon threads are joined (a build of :mod:`deltarule._shaped` kernels is
    waited for), then the ``atexit`` functions, the standard streams are flushed, and
    :func:`os._exit` ends it with the command's status. Where Python has no
    ``threading._shutdown``, it exits as usual."""
    status = program()
    import threading

    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is None or threading.current_thread() is not threading.main_thread():
        sys.exit(status)
    shutdown()
    import atexit
    import os

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # (None: started with the descriptor closed)
                stream.flush()
        except (OSError, ValueError):  # (a closed pipe, a full disk: as Python's exit)
            pass
    os._exit(status)


def _interrupted_at_exit(signum: int, frame: FrameType | None) -> None:
    import os  # (loaded at Python's start: costs nothing)

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # (a closed pipe, a closed stream: nothing to keep)
            pass
    os._exit(128 + signum)


def _main(argv: Sequence[str] | None) -> int:
    """:func:`main`, once its standard streams and warnings are set up."""
    global _RELAY
    args: argparse.Namespace | None = None
    debug = _debug_asked(sys.argv[1:] if argv is None else argv)
    try:
        _RELAY = _SignalRelay()
        with _RELAY:
            import warnings

            from . import _outputs, _stdin

            parser = build_parser()
            args, extra = parser.parse_known_args(argv)
            if extra:  # named by the subcommand's parser: its --help lists what it takes
                command = parser if args.command is None else args._commands[args.command]
                command.error(command.unrecognized(extra))
            warnings.showwarning = _one_line_warning
            from ._streams import advice_not_errors

            advice_not_errors(warnings)
            if getattr(args, "func", None) is None:  # the commands on standard output,
                parser.print_help()  # and on standard error the one line of any bad input
                names = ", ".join(args._commands) if hasattr(args, "_commands") else "train"
                print(f"error: no COMMAND given; expected one of {names} (see deltarule --help), "
                      "e.g. deltarule train data.csv --target label", file=sys.stderr)  # fmt: skip
                return EXIT_USAGE
            # (DATA -: standard input, kept while the command runs; a failed write to
            # standard output is named as such)
            with _stdin.session(), _outputs.named_stdout():
                return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if getattr(args, "debug", debug):
            raise
        return _stopped(args)
    except Exception as exc:  # one line for the user; --debug for the traceback
        if getattr(args, "debug", debug):  # (args None: the parser was not built)
            raise
        if _RELAY.stopped or _caused_by_ctrl_c(exc):  # (Ctrl-C in an import: other errors)
            return _stopped(args)
        if isinstance(exc, MemoryError):
            text = _out_of_memory(exc, args)
        else:  # (a hint that names a command: the one run)
            text = _one_line(exc, getattr(args, "command", None))
        sys.stderr.write(f"error: {_shortened(text)}\n")
        return EXIT_USAGE


def _debug_asked(argv: Sequence[str]) -> bool:
    """Whether ``argv`` asks for ``--debug`` (before a ``--`` that ends the options): what
    :func:`main` goes by when it fails before its parser could read the arguments."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--debug":
            return True
    return False


def _stopped(args: argparse.Namespace | None) -> int:
    """Say that the command was stopped (Ctrl-C or SIGTERM); return its exit status."""
    with _CtrlCIgnored():  # (a second Ctrl-C must not cut the message short)
        name, status = _RELAY.stop_signal()
        sys.stderr.write(f"error: {_interrupted(name, args)}\n")
    return status


def _caused_by_ctrl_c(exc: BaseException) -> bool:
    """Whether ``exc`` was raised because of a KeyboardInterrupt: Python wraps one raised
    while a class body is completed (``RuntimeError: Error calling __set_name__``, in the
    middle of numpy's import), so Ctrl-C at start-up can arrive as another error."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


class _CtrlCIgnored:
    """Ignore Ctrl-C in the ``with`` block, then handle it as before (off the main thread,
    where signals cannot be set, nothing changes)."""

    def __enter__(self) -> None:
        import signal

        try:
            self._previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # (not the main thread)
            self._previous = None

    def __exit__(self, *exc: object) -> None:
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


MODEL_HINTS = {
    "predict": "MODEL comes first: deltarule predict MODEL DATA",
    "evaluate": "MODEL comes first: deltarule evaluate MODEL DATA",
    "importance": "MODEL comes first: deltarule importance MODEL DATA",
    "inspect": "inspect reads a model file written by 'deltarule train', not data: "
    "deltarule inspect MODEL",
    "draw": "draw reads a model file written by 'deltarule train', not data: deltarule draw MODEL",
    "explain": "--model takes a model file written by 'deltarule train', not data; a row of "
    "data goes to --input",
}
"""The hint for a text file (a CSV table) given where a model file is expected, by command
(another command: the model file comes first, before the data)."""


def _one_line(exc: Exception, command: str | None = None) -> str:
    """The error line's text for ``exc``: its message (advice that names a Python
    parameter in the command line's spelling: :meth:`DeltaruleError.for_command_line`, the
    model-file hint for ``command``, the subcommand run: :data:`MODEL_HINTS`), or, for what
    is not an expected kind of error, its type and a request to report it."""
    from ..exceptions import DeltaruleError

    known = isinstance(exc, (DeltaruleError, OSError, ValueError, KeyError, TypeError))
    text = exc.for_command_line() if isinstance(exc, DeltaruleError) else str(exc)
    if isinstance(exc, ImportError):
        from ._streams import missing_dependency

        missing = missing_dependency(exc)
        if "pip install" in text:  # (deltarule's own message: what needs it, how to install)
            known = True
        elif missing:
            what = f"deltarule {command}" if command else "this command"
            package, extra = missing
            text = (
                f"{what} needs the optional dependency {package!r}; install it with: "
                f"pip install 'deltarule[{extra}]'"
            )
            known = True
    safetensors = sys.modules.get("deltarule.io.safetensors")  # (loaded if it raised)
    hint = getattr(safetensors, "MODEL_FIRST", None)
    if hint and hint in text and command != "predict":
        usage = "the model file comes first, before the data"
        text = text.replace(hint, MODEL_HINTS.get(command or "", usage))
    text = text.strip().replace("\n", " ") or type(exc).__name__
    if not known:
        text = f"{type(exc).__name__}: {text} (this is a bug; rerun with --debug and report it)"
    return text


_MAX_ERROR = 2000
"""The longest error line shown (in characters): values quoted from the data are cut to
about 80 characters where they are quoted, and a message that is still longer (a value
quoted whole by a library) is cut in its middle, not written as megabytes to a log."""


def _shortened(text: str) -> str:
    """``text`` cut in its middle to at most :data:`_MAX_ERROR` characters."""
    if len(text) <= _MAX_ERROR:
        return text
    head, tail = _MAX_ERROR // 2, _MAX_ERROR // 2 - 100
    return f"{text[:head]} [... {len(text) - head - tail:,} characters ...] {text[-tail:]}"


def _out_of_memory(exc: MemoryError, args: argparse.Namespace | None) -> str:
    """The error line for a command that ran out of memory: the input it was working on
    and its size, and what to do (not "this is a bug": a big input is not one)."""
    import os

    inputs = [getattr(args, key, None) for key in ("data", "model", "resume")]
    named = [os.fspath(path) for path in inputs if path]
    sizes = []
    for path in named:
        if path == "-":
            sizes.append("standard input")
            continue
        try:
            sizes.append(f"{path} ({os.path.getsize(path):,} bytes)")
        except (OSError, ValueError):
            sizes.append(path)
    on = f" working on {', '.join(sizes)}" if sizes else ""
    command = getattr(args, "command", None) or "the command"
    detail = str(exc).strip()
    detail = f" ({detail[:200]})" if detail and detail != "MemoryError" else ""
    return (
        f"out of memory: {command} ran out of memory{on}{detail}; expected an input that fits "
        "in the memory available. Split the data into smaller files, or run it on a machine "
        "with more memory."
    )


def _interrupted(name: str, args: argparse.Namespace | None) -> str:
    """The error line for a command stopped by ``name`` (Ctrl-C or SIGTERM) before it could
    finish: with how to continue, when a training run has a checkpoint to resume."""
    text = "interrupted" if name == "Ctrl-C" else f"terminated ({name})"
    folder = getattr(args, "resume", None) or getattr(args, "checkpoint", None)
    if getattr(args, "data", None) == "-":  # (standard input: a run cannot resume on it)
        folder = None
    if getattr(args, "command", None) == "train" and folder:
        import os
        from pathlib import Path

        from ..io.checkpoint import CHECKPOINT_FILE  # (loaded already by a training run)

        if (Path(folder) / CHECKPOINT_FILE).is_file():
            text += (
                f"; the run's last checkpoint is in {os.fspath(folder)}: continue it with "
                f"'deltarule train --resume {os.fspath(folder)}'"
            )
    return text
