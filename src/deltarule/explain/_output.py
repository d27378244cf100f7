"""Writing explain's output files atomically (temp file in the same folder, then ``os.replace``).

A reader never sees a half-written page or picture: the file appears whole or
not at all, and a failed write leaves any previous file untouched.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_open

__all__ = ["write_atomic", "save_atomic"]


def save_atomic(path: str | os.PathLike[str], write: Callable[[Any], None]) -> Path:
    """Call ``write(handle)`` on a temporary binary file next to ``path``, then move it into place.

    Returns the final path. (:func:`deltarule.io.atomic.atomic_open` does the work.)
    """
    with atomic_open(path, "wb") as handle:
        write(handle)
    return Path(path)


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write text (UTF-8) or bytes to ``path`` atomically; returns the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = tempfile.mkdtemp()
    >>> write_atomic(pathlib.Path(folder) / "a.txt", "hello").read_text()
    'hello'
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    return save_atomic(path, lambda handle: handle.write(payload))
