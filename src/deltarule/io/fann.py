"""FANN's training data files (``.data``): a header line ``n_examples n_inputs n_outputs``,
then for each example a line of ``n_inputs`` numbers and a line of ``n_outputs`` numbers,
separated by whitespace (what ``fann_save_train`` writes and ``fann_read_train_from_file``
reads).

:func:`read_fann` returns ``(X, Y)``, refusing a malformed file with the line at fault;
:func:`write_fann` writes one atomically; :func:`looks_like_fann` tells a FANN file from
another ``.data`` file (UCI's comma-separated tables) by its first line.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np

from ..exceptions import InputError
from .atomic import atomic_write_text
from .data import _check_file

__all__ = ["FANN_SUFFIXES", "looks_like_fann", "read_fann", "write_fann"]

FANN_SUFFIXES = (".data", ".fann")
"""The extensions read as FANN files by the command line (``.data`` only when its first
line is FANN's header: :func:`looks_like_fann`)."""

_EXPECTED = (
    "a FANN training file: a first line 'n_examples n_inputs n_outputs' (three whole "
    "numbers), then for each example a line of n_inputs numbers and a line of n_outputs numbers"
)


_COUNT = re.compile(r"[0-9]+")
"""A header's count: ASCII digits (``str.isdigit`` also takes '²', which ``int`` refuses)."""


def _header(line: str) -> tuple[int, int, int] | None:
    """The three counts of a FANN header line, or None if ``line`` is not one."""
    words = line.split()
    if len(words) != 3 or not all(_COUNT.fullmatch(word) for word in words):
        return None
    counts = tuple(int(word) for word in words)
    return counts if min(counts[1:]) >= 1 else None  # type: ignore[return-value]


def looks_like_fann(path: str | os.PathLike[str]) -> bool:
    """Whether the file's first line is FANN's header (three whole numbers, the last two >= 1)."""
    with open(path, "rb") as handle:
        first = handle.readline(1024)
    try:
        return _header(first.decode("utf-8")) is not None
    except UnicodeDecodeError:
        return False


def read_fann(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read a FANN training file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    X : ndarray of shape (n_examples, n_inputs), float64
    Y : ndarray of shape (n_examples, n_outputs), float64

    Raises
    ------
    InputError
        For a file that is not FANN's format, naming the line at fault: a first line that is
        not three counts, a line with the wrong number of numbers or with a word that is not
        a number, missing or extra lines. Blank lines are skipped.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "xor.data"
    >>> _ = path.write_text("2 2 1\\n0 0\\n0\\n0 1\\n1\\n")
    >>> X, Y = read_fann(path)
    >>> X.shape, Y.ravel().tolist()
    ((2, 2), [0.0, 1.0])
    """
    name = os.fspath(path)
    file = _check_file(path, _EXPECTED)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"{name!r} is not text (byte {error.start} is not UTF-8); expected {_EXPECTED}."
        ) from None
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise InputError(f"{name!r} holds only blank lines; expected {_EXPECTED}.")
    header_line, first = lines[0]
    counts = _header(first)
    if counts is None:
        raise InputError(
            f"{name!r} line {header_line}: {first.strip()[:80]!r} is not FANN's header; expected "
            f"{_EXPECTED} (e.g. '4 2 1' for XOR)."
        )
    n_examples, n_inputs, n_outputs = counts
    if n_examples == 0:
        raise InputError(
            f"{name!r}: the header (line {header_line}: {first.strip()[:80]!r}) announces 0 "
            "examples; expected at least one example to train on or predict. Add the examples "
            "and set the header's first number to their count."
        )
    body = lines[1:]
    if len(body) != 2 * n_examples:
        if len(body) > 2 * n_examples:
            found = f"{len(body)}: line {body[2 * n_examples][0]} onwards is extra"
        else:
            found = f"only {len(body)}: examples are missing after line {lines[-1][0]}"
        raise InputError(
            f"{name!r}: the header (line {header_line}: {first.strip()[:80]!r}) announces "
            f"{n_examples} examples, so {2 * n_examples} lines after it (inputs, then outputs, "
            f"for each), but the file has {found}. Correct the header's first number or the "
            "examples."
        )
    rows = []  # (every line's count checked before the arrays the header sizes are taken)
    for index, (number, line) in enumerate(body):
        row, outputs = divmod(index, 2)
        width, kind = (n_outputs, "outputs") if outputs else (n_inputs, "inputs")
        words = line.split()
        if len(words) != width:
            raise InputError(
                f"{name!r} line {number}: example {row + 1}'s {kind} have {len(words)} numbers "
                f"but the header (line {header_line}: {first.strip()[:80]!r}) says {width}; "
                f"expected {_EXPECTED}."
            )
        rows.append(words)
    X = np.empty((n_examples, n_inputs))
    Y = np.empty((n_examples, n_outputs))
    for index, ((number, _), words) in enumerate(zip(body, rows)):
        row, outputs = divmod(index, 2)
        width, kind = (n_outputs, "outputs") if outputs else (n_inputs, "inputs")
        target = Y if outputs else X
        try:
            target[row] = [float(word) for word in words]
        except ValueError:
            bad = next(w for w in words if not _is_number(w))
            raise InputError(
                f"{name!r} line {number}: {bad[:80]!r} is not a number (example {row + 1}'s "
                f"{kind}); expected {width} whitespace-separated numbers."
            ) from None
    return X, Y


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def write_fann(path: str | os.PathLike[str], X: Any, Y: Any) -> None:
    """Write ``X`` and ``Y`` as a FANN training file, atomically (a reader never sees half).

    Parameters
    ----------
    path : str or path-like
    X : array-like of shape (n_examples, n_inputs)
    Y : array-like of shape (n_examples, n_outputs) or (n_examples,)
        Numbers are written with ``repr`` precision, so :func:`read_fann` gives them back exactly.
    """
    X, Y = _numbers(X, "X"), _numbers(Y, "Y")
    Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
    if X.ndim != 2 or Y.ndim != 2 or len(X) != len(Y) or 0 in X.shape[1:] + Y.shape[1:]:
        raise InputError(
            f"write_fann needs X of shape (n_examples, n_inputs) and Y of shape (n_examples, "
            f"n_outputs) with the same number of rows and at least one column each; received "
            f"X.shape={X.shape}, Y.shape={Y.shape}."
        )
    if not (np.isfinite(X).all() and np.isfinite(Y).all()):
        raise InputError(
            "write_fann: X and Y must be finite (FANN reads no NaN or infinity); remove or "
            "fill the rows that are not."
        )
    lines = [f"{len(X)} {X.shape[1]} {Y.shape[1]}"]
    for inputs, outputs in zip(X, Y):
        lines.append(" ".join(repr(float(v)) for v in inputs))
        lines.append(" ".join(repr(float(v)) for v in outputs))
    atomic_write_text(path, "\n".join(lines) + "\n")


def _numbers(values: Any, name: str) -> np.ndarray:
    """``values`` as a float array, or an InputError naming ragged rows or what is not a number."""
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        rows = values if isinstance(values, (list, tuple)) else []
        lengths = sorted({len(row) for row in rows if isinstance(row, (list, tuple, np.ndarray))})
        if len(lengths) > 1:
            raise InputError(
                f"write_fann: {name}'s rows have different lengths ({', '.join(map(str, lengths))} "
                f"values); expected a table, every row the same length. Pad or drop the short "
                "rows."
            ) from None
        raise InputError(
            f"write_fann: {name} is not a table of numbers ({exc}); expected numbers of shape "
            "(n_examples, n_columns). Encode text or categories as numbers first."
        ) from None
