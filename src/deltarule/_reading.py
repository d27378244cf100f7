"""The checks every file read starts with: there, a regular file, readable.

Each failure is an :class:`~deltarule.exceptions.InputError` that names the path, says what
was expected and how to fix it, instead of the operating system's bare ``[Errno 13]``; a
pipe or device (``<(cat data.csv)``, a named pipe) is refused by name rather than read as
an empty file: the readers need a file's extension and may read it more than once.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .exceptions import InputError

__all__ = ["check_readable"]


def check_readable(path: str | os.PathLike[str], expected: str) -> Path:
    """Return ``path`` as a Path once it is known to be a readable regular file.

    Parameters
    ----------
    path : str or path-like
    expected : str
        What the caller reads, for the messages (e.g. "a .safetensors file").

    Raises
    ------
    InputError
        When there is no such file, or it is a directory, a pipe or device, or unreadable.
    """
    file, shown = Path(path), repr(os.fspath(path))
    try:
        mode = os.stat(file).st_mode
    except FileNotFoundError:
        raise InputError(
            f"no such file: {shown} (looked in {file.absolute().parent}); check the path and "
            "the current directory."
        ) from None
    except PermissionError:
        mode = None  # a folder on the way is not searchable: reported as unreadable below
    if mode is not None and stat.S_ISDIR(mode):
        raise InputError(f"{shown} is a directory; expected {expected}.")
    if mode is not None and not stat.S_ISREG(mode):
        raise InputError(
            f"{shown} is not a regular file (a pipe, a device or a socket); expected {expected}. "
            "Save the data to a file first and pass that file's path."
        )
    try:
        with open(file, "rb"):
            pass
    except PermissionError:
        raise InputError(
            f"cannot read {shown}: permission denied; expected a readable file ({expected}). "
            "Make it readable (e.g. chmod u+r) or copy it to a folder you can read."
        ) from None
    return file
