"""The path a file function is given, checked before it is used: text (``str``) or a
path-like object (:class:`pathlib.Path`), without a NUL byte, so that a wrong argument is an
:class:`~deltarule.exceptions.InputError` that says what was received and what is expected,
not the operating system's bare ``TypeError`` or ``ValueError: embedded null byte``."""

from __future__ import annotations

import os
from typing import Any

from ..exceptions import InputError

__all__ = ["checked_path", "refuse_keras_format"]


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


KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
"""The endings of Keras's own model files, which deltarule does not write."""


def refuse_keras_format(path: str, what: str) -> None:
    """Refuse a ``path`` named for Keras's own formats (``.keras``, ``.h5``, ``.weights.h5``,
    ``.hdf5``): deltarule writes safetensors model files, which would carry that name
    without being such a file (Keras cannot read them).

    Examples
    --------
    >>> refuse_keras_format("model.safetensors", "the path")
    """
    lower = path.lower()
    suffix = next((s for s in KERAS_SUFFIXES if lower.endswith(s)), None)
    if suffix is None:
        return
    for ending in (".weights.h5", suffix):  # (Keras 3's weights-only name first)
        if lower.endswith(ending):
            stem = path[: len(path) - len(ending)]
            break
    raise InputError(
        f"{what} {path!r:.80} ends in {path[len(stem) :]!r}, Keras's own format; deltarule "
        "writes safetensors model files (the weights as named tensors with a JSON header: "
        "deltarule.io.load_model reads them, PyTorch's safetensors too, Keras does not). Name "
        f"it {stem + '.safetensors'!r}."
    )
