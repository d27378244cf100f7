"""Output files of the commands that write text and pictures (``explain``, ``draw``): paths
checked before any work, in the command line's terms, and files that appear together only
once all are written."""

from __future__ import annotations

import contextlib
import os

__all__ = ["check_output", "write_outputs"]


def check_output(option: str, path: str | None, example: str) -> None:
    """Refuse an output path that cannot be written, in the command line's terms."""
    from ..exceptions import InputError
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
    from ..exceptions import InputError
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
