"""Output files of the commands that write text and pictures (``explain``, ``draw``): paths
checked before any work, in the command line's terms, and files that appear together only
once all are written; and standard output, whose write failures (a closed pipe, a full
disk) are named as such (:func:`named_stdout`), not as a bare ``[Errno 32] Broken pipe``."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
from collections.abc import Iterator
from typing import Any

from ..exceptions import InputError

__all__ = ["ClosedStdout", "StdoutError", "check_output", "named_stdout", "write_outputs"]


class StdoutError(InputError):
    """Standard output could not be written (a closed pipe, a full disk)."""


def stdout_error(exc: OSError) -> StdoutError:
    """``exc``, a failed write to standard output, as an error that names it."""
    reason = os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__
    if isinstance(exc, _Closed):
        return StdoutError(
            "cannot write to standard output: it is closed (>&-); give it somewhere to go "
            "(>/dev/null to discard it), or write to a file with --out."
        )
    if exc.errno == errno.EPIPE:
        hint = "the program reading it stopped before the end (such as head)"
    else:
        hint = "check where it goes (a full disk?), or write to a file with --out"
    return StdoutError(f"cannot write to standard output: {reason}; {hint}.")


class _Closed(OSError):
    """A write to a closed standard output."""


class ClosedStdout(io.TextIOBase):
    """What ``sys.stdout`` is while the command runs when the program was started with its
    standard output closed (``>&-``; Python makes it None): writes fail, named
    (:func:`stdout_error`), instead of an AttributeError on None."""

    encoding = "utf-8"
    errors = "strict"

    def write(self, text: str) -> int:
        raise _Closed(errno.EBADF, "standard output is closed")

    def flush(self) -> None:
        pass


class _NamedStdout:
    """Standard output (``stream``) whose write failures raise :class:`StdoutError`."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except OSError as exc:
            raise stdout_error(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise stdout_error(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def named_stdout() -> Iterator[None]:
    """In the ``with`` block, have a failed write to standard output raise
    :class:`StdoutError`; what is still buffered is flushed at its end, its failure named
    too. After such a failure, standard output is pointed at the null device, so that
    Python's own flush at exit does not fail again with a traceback."""
    stream = sys.stdout
    if stream is None:
        yield
        return
    sys.stdout = _NamedStdout(stream)  # type: ignore[assignment]
    try:
        yield
        sys.stdout.flush()
    except StdoutError:
        if stream is sys.__stdout__:
            _silence(stream)
        raise
    finally:
        sys.stdout = stream


def _silence(stream: Any) -> None:
    """Point ``stream``'s file descriptor at the null device (its buffered text is lost)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)


def check_output(option: str, path: str | None, example: str) -> None:
    """Refuse an output path that cannot be written, in the command line's terms."""
    from ..io.atomic import check_writable

    if not path:
        return
    if os.path.isdir(path):
        raise InputError(f"{option} {path} is a folder; expected a file path such as {example}.")
    try:
        check_writable(path)
    except InputError:
        folder = os.path.dirname(os.path.abspath(path))
        raise InputError(
            f"{option} {path}: the folder {folder!r} does not exist; create it first "
            f"(mkdir -p) or choose another path for {option}."
        ) from None
    except OSError as exc:
        if os.path.isfile(path) and not os.access(path, os.W_OK):  # (its message says so)
            raise InputError(f"{option}: {exc}") from None
        folder = os.path.dirname(os.path.abspath(path))
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise InputError(
            f"{option} {path} cannot be written: a new file in its folder {folder!r} could "
            f"not be created ({reason}); choose a path in a folder you can write to."
        ) from None


def write_outputs(outputs: list[tuple[str, str, bytes]]) -> None:
    """Write each ``(option, path, data)``; the files appear together, after all are written.

    Each goes to a temporary file first (:func:`deltarule.io.atomic.atomic_open`), and
    the files are moved into place only once every one is written, so a full disk or a
    failed write leaves none of them (a failure while moving them, after all the data
    was written, is the only exception).
    """
    from ..io.atomic import atomic_open

    current, moving = (outputs[0] if outputs else None), False
    try:
        with contextlib.ExitStack() as files:
            for current in outputs:
                handle = files.enter_context(atomic_open(current[1], "wb"))
                handle.write(current[2])
                handle.flush()  # (a full disk fails here, before any file is moved)
            moving = True
    except OSError as exc:
        option, path, _ = next((o for o in outputs if repr(o[1]) in str(exc)), current)
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        written = "no file was written"
        if moving and len(outputs) > 1:  # (failed moving one into place, after the others)
            written = "an output other than this one may have been written"
        raise InputError(
            f"could not write {option} {path}: {reason}; {written}. Check the disk (free "
            f"space, permissions) or choose another path for {option}."
        ) from exc
