"""The path a file function is given, checked before it is used: text (``str``) or a
path-like object (:class:`pathlib.Path`), without a NUL byte, so that a wrong argument is an
:class:`~deltarule.exceptions.InputError` that says what was received and what is expected,
not the operating system's bare ``TypeError`` or ``ValueError: embedded null byte``."""

from __future__ import annotations

import os
from typing import Any

from ..exceptions import InputError

__all__ = ["checked_path"]


def checked_path(path: Any, what: str, example: str = "'model.safetensors'") -> str:
    """Return ``path`` as text (``os.fspath``), once it is known to be usable as a path.

    Parameters
    ----------
    path : str or path-like
    what : str
        The argument, for the messages (e.g. ``"save_model's path"``).
    example : str
        An example of a good value.

    Raises
    ------
    InputError
        For bytes, None or another type, and a path holding a NUL byte.

    Examples
    --------
    >>> checked_path("model.safetensors", "the path")
    'model.safetensors'
    """
    if isinstance(path, (bytes, bytearray)):
        raise InputError(
            f"{what} is bytes ({bytes(path)!r:.80}); expected text or a pathlib.Path such as "
            f"{example}. Decode it first: os.fsdecode(path)."
        )
    try:
        text = os.fspath(path)
    except TypeError:
        raise InputError(
            f"{what} is {type(path).__name__} {path!r:.80}; expected text or a pathlib.Path "
            f"such as {example}."
        ) from None
    if not isinstance(text, str):  # (a path-like object whose __fspath__ gives bytes)
        return checked_path(text, what, example)
    if "\0" in text:
        raise InputError(
            f"{what} {text!r:.80} holds a NUL byte (\\0), which no file name can hold; "
            f"expected a path such as {example}."
        )
    return text
