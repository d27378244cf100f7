"""Reading features and targets from .npz files (``np.savez(path, X=X, y=y)``), never
unpickling anything: object arrays are refused, and a member whose header declares more
bytes than the file can hold is refused before numpy allocates it.

A compressed member may still expand about a thousandfold (a few hundred kilobytes of
zeros are gigabytes of X), which is a legitimate file that the machine may not hold:
the bytes that X and y declare together are compared, before either is read, with the
memory available, and a file asking for more than half of it is refused with its size
(``max_bytes`` sets another limit)."""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from .._memory import available_memory as _available_memory
from ..exceptions import InputError
from .data import _CORRUPT, _check_file

__all__ = ["read_npz"]

_MAX_INFLATION = 1100  # deflate expands at most 1032-fold
_INFLATION = {zipfile.ZIP_STORED: 1, zipfile.ZIP_DEFLATED: _MAX_INFLATION}
"""How far a member of each compression method can expand (np.savez writes only these two;
a zip made otherwise may use bzip2 or lzma, which can expand millions of times: bounded by
the member's declared size and :func:`_check_total`)."""
_MEMORY_SHARE = 0.5
"""The largest share of the available memory that X and y together may take by default."""
_SCIPY_SPARSE_KEYS = {"data", "indices", "indptr", "format", "shape"}
"""The arrays of a file written by ``scipy.sparse.save_npz`` (a CSR/CSC matrix's)."""


def _check_total(declared: dict[str, tuple[Any, Any, int]], file: Path, limit: Any) -> None:
    """Refuse X and y that together declare more bytes than ``limit`` (None: a share of the
    memory available now; no limit where that is unknown)."""
    total = sum(size for _, _, size in declared.values())
    if limit is None:
        available = _available_memory()
        if available is None:
            return
        limit, where = int(available * _MEMORY_SHARE), f"half the {available:,} bytes of memory"
        where += " available now"
        advice = "Free memory or use a machine with more"
    else:
        where, advice = f"the limit max_bytes={limit:,}", "Pass a larger max_bytes"
    if total > limit:
        arrays = "; ".join(f"{k} {shape} of {dtype}" for k, (shape, dtype, _) in declared.items())
        raise InputError(
            f"{str(file)!r} holds {arrays}: {total:,} bytes once decompressed, more than "
            f"{where}. {advice}, or split the rows into smaller files (np.savez(path, "
            "X=X[a:b], y=y[a:b])) and use them one by one."
        )


def _check_declared_size(npz: Any, key: str, file: Path) -> tuple[Any, Any, int]:
    """Refuse a member whose .npy header claims more bytes than the member can hold;
    return its declared shape, dtype and size in bytes (0 for an object array).

    numpy allocates the whole declared array before reading a zipped member, so a
    tiny file claiming shape (10**12,) would otherwise exhaust memory. The zip's own
    size fields can lie too, so the room is also bounded by the file's size on disk
    (times deflate's largest possible ratio for a deflated member).
    """
    member = key if key in npz.zip.namelist() else f"{key}.npy"
    info = npz.zip.getinfo(member)
    ratio = _INFLATION.get(info.compress_type)  # (bzip2, lzma: no bound short of the total's)
    room = info.file_size if ratio is None else min(info.file_size, ratio * file.stat().st_size)
    with npz.zip.open(member) as handle:
        version = np.lib.format.read_magic(handle)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(handle)
        if dtype.hasobject:  # a pickle, refused when loaded (see _load_member)
            return shape, dtype, 0
        declared = math.prod(shape) * dtype.itemsize
        room -= handle.tell()
    if declared > room:
        raise InputError(
            f"array {key!r} in {str(file)!r} declares shape {shape} of {dtype} ({declared:,} "
            f"bytes), more than the {max(room, 0):,} bytes it can hold; the file is truncated "
            "or corrupt. Write it again with np.savez(path, X=X, y=y)."
        )
    return shape, dtype, declared


def _load_member(npz: Any, key: str, file: Path) -> np.ndarray:
    try:
        member = npz[key]
    except ValueError as exc:  # object arrays need pickle, which is refused
        if "allow_pickle" not in str(exc):
            raise
        raise InputError(
            f"array {key!r} in {str(file)!r} holds Python objects, which deltarule does not "
            "load (that would need pickle); expected a numeric (or, for y, string) array. "
            "Convert it with .astype(float) or .astype(str) (a scipy sparse matrix, which "
            "np.savez stores as an object: with .toarray()) before np.savez."
        ) from exc
    if not isinstance(member, np.ndarray):  # numpy returns a member that is not .npy as bytes
        raise InputError(
            f"{key!r} in {str(file)!r} is not a NumPy array; expected {key} written by np.savez."
        )
    return member


def _check_arrays(X: np.ndarray, y: np.ndarray | None, file: Path) -> None:
    if X.dtype.kind not in "biuf" or X.ndim not in (1, 2) or X.size == 0:
        raise InputError(
            f"X in {str(file)!r} has dtype {X.dtype} and shape {X.shape}; expected a non-empty "
            "numeric array of shape (n_samples, n_features)."
        )
    if y is None:
        return
    if y.dtype.kind not in "biufUS" or y.ndim not in (1, 2):
        raise InputError(
            f"y in {str(file)!r} has dtype {y.dtype} and shape {y.shape}; expected numbers or "
            "labels of shape (n_samples,) or (n_samples, n_outputs)."
        )
    if len(X) != len(y):
        raise InputError(
            f"{str(file)!r} has {len(X)} rows in X but {len(y)} in y; they must match."
        )


def _members(
    npz: Any, file: Path, expected: str, require_y: bool, max_bytes: int | None
) -> tuple[np.ndarray, np.ndarray | None]:
    needed = ("X", "y") if require_y else ("X",)
    missing = [key for key in needed if key not in npz.files]
    if missing and _SCIPY_SPARSE_KEYS <= set(npz.files):
        raise InputError(
            f"{str(file)!r} is a scipy sparse matrix file (scipy.sparse.save_npz), arrays "
            f"{npz.files}; deltarule reads .npz files with X and y arrays. Save the data "
            "with np.savez(path, X=X.toarray(), y=y), or load the matrix with "
            "scipy.sparse.load_npz(path) and pass it to fit or predict in Python (X may be "
            "sparse there)."
        )
    if missing:
        raise InputError(
            f"{str(file)!r} has arrays {npz.files} but lacks {' and '.join(missing)}; "
            f"expected {expected}."
        )
    keys = [key for key in ("X", "y") if key in npz.files]
    try:
        _check_total({key: _check_declared_size(npz, key, file) for key in keys}, file, max_bytes)
        X = _load_member(npz, "X", file)
        return X, _load_member(npz, "y", file) if "y" in npz.files else None
    except InputError:
        raise
    except _CORRUPT as exc:
        raise InputError(f"{str(file)!r} is corrupt ({exc}); expected {expected}.") from exc


def read_npz(
    path: str | os.PathLike[str], *, require_y: bool = True, max_bytes: int | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Read features ``X`` and targets ``y`` from an .npz file (never unpickling anything).

    Parameters
    ----------
    path : str or path-like
        Written e.g. by ``np.savez(path, X=X, y=y)``.
    require_y : bool, default True
        False lets a file without ``y`` through (e.g. data to predict); ``y`` is then None.
    max_bytes : int, optional
        Most bytes X and y may take together once read (their headers say how many,
        before anything is decompressed). Default: half the memory available when the
        file is read (no limit where the system does not say).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features) or (n_samples,)
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs), or None

    Raises
    ------
    InputError
        For a missing, foreign or corrupt file, missing arrays or object arrays, or arrays
        larger than ``max_bytes`` (or than half the memory available).
    """
    if max_bytes is not None and not (
        isinstance(max_bytes, int) and not isinstance(max_bytes, bool) and max_bytes >= 0
    ):
        raise InputError(f"max_bytes must be None or an integer >= 0; received {max_bytes!r:.80}.")
    expected = "an .npz file with arrays X and y (np.savez(path, X=X, y=y))"
    file = _check_file(path, expected)
    # Open the file here: np.load(path) leaks its handle when the zip is corrupt.
    with open(file, "rb") as handle:
        try:
            npz = np.load(handle, allow_pickle=False)
        except _CORRUPT as exc:
            # np.load takes anything that is not a zip or .npy for a pickle, and says so.
            reason = "not a zip archive of arrays" if "pickled" in str(exc) else str(exc)
            raise InputError(
                f"{str(file)!r} is not a readable .npz file ({reason}); expected {expected}."
            ) from exc
        if not hasattr(npz, "files"):  # a bare .npy array
            raise InputError(
                f"{str(file)!r} holds a single array, not named arrays; expected {expected}."
            )
        with npz:
            X, y = _members(npz, file, expected, require_y, max_bytes)
    _check_arrays(X, y, file)
    return X, y
