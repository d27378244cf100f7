"""The checks every file read starts with: there, a regular file, readable; and what it is.

Each failure is an :class:`~deltarule.exceptions.InputError` that names the path, says what
was expected and how to fix it, instead of the operating system's bare ``[Errno 13]``; a
pipe or device (``<(cat data.csv)``, a named pipe) is refused by name rather than read as
an empty file: the readers need a file's extension and may read it more than once.
:func:`file_kind` names what a file is from its first bytes (gzip, a zip archive, UTF-16
text, a model file...), so that a reader can say so rather than fail on its bytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .exceptions import InputError

__all__ = ["check_readable", "file_kind"]


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


# First bytes -> what the file is. Text formats have no magic, so a match means "not text".
_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty archive
    (b"PAR1", "parquet"),
    (b"\x93NUMPY", "npy"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),  # Excel 97-2003 (.xls) and other Office files
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_MAX_SAFETENSORS_HEADER = 100 * 2**20


def file_kind(head: bytes, size: int | None = None) -> str | None:
    """Name what a file is from its first bytes, when they say it is not plain text.

    Parameters
    ----------
    head : bytes
        The file's first bytes (16 or more are enough).
    size : int, optional
        The file's size in bytes, which a safetensors header length must fit in.

    Returns
    -------
    str or None
        ``"gzip"``, ``"zip"``, ``"parquet"``, ``"npy"``, ``"ole"`` (an old Office file),
        ``"utf-32"``, ``"utf-16"`` (a byte-order mark, or none but ASCII text with a zero
        byte after each character), ``"safetensors"``, or None for anything else.

    Examples
    --------
    >>> file_kind(b"\\x1f\\x8b\\x08\\x00"), file_kind(b"a,b\\n1,2\\n")
    ('gzip', None)
    """
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    # safetensors: an 8-byte little-endian header length, then the JSON header.
    if len(head) >= 9 and head[8:9] == b"{":
        length = int.from_bytes(head[:8], "little")
        if 2 <= length <= min(_MAX_SAFETENSORS_HEADER, (size or 2**63) - 8):
            return "safetensors"
    pairs = head[: len(head) // 2 * 2][:16]
    if (
        len(pairs) >= 4
        and not any(pairs[1::2])
        and all(b in b"\t\n\r" or 32 <= b < 127 for b in pairs[0::2])
    ):
        return "utf-16"  # UTF-16LE without a byte-order mark
    return None
