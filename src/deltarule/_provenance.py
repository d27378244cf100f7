"""What a fit trained on, as plain data: a checkpoint keeps it, a resumed fit is checked by it.

A run resumed from a checkpoint equals the uninterrupted one only on the same data. A
checkpoint written during a fit therefore keeps the fit's *provenance* (JSON values only)::

    {"training": {"rows": 90, "columns": [4, 3], "dtype": "float64", "weighted": false,
                  "blake2b": "3f1c..."},
     "validation": {...} | null, "validation_split": 0.25, "seed": 5}

Each part is :func:`fingerprint`'s description of the rows the fit trains (or validates)
on, after its checks and its validation split: their number, the input and target columns,
the dtype, whether they carry sample weights (``class_weight`` included; weights all 1
count as none, as they train alike), and a BLAKE2b
hash (16 bytes) of every byte of the inputs, targets and weights. The whole data is hashed,
not a sample of it, so that one corrected label is noticed: about 0.15 s for 60,000 rows of
784 float32 inputs (190 MB), taken once per fit, when its first checkpoint is saved, and
once when a resumed fit starts (:meth:`FitData.record`). ``seed`` is the trainer's seed (an
int, None, or the kind of seed it was: ``"Generator"``). The batch size and ``shuffle`` are
among the trainer's settings a checkpoint keeps already.

:func:`differences` names what differs between a saved provenance and a fit's; the
checkpoint's reader refuses to resume on other data (:mod:`deltarule.io.checkpoint`).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from ._sampling import Data
from ._sparse import is_sparse
from ._typing import Array

__all__ = ["FitData", "differences", "fingerprint", "provenance_problem", "seed_record"]

_CHUNK_BYTES = 1 << 23
"""Dense arrays are hashed in blocks of rows of about this size (8 MiB): an array that is
not C-contiguous is copied a block at a time, never whole."""


def seed_record(seed: Any) -> int | str | None:
    """A trainer's ``seed`` as a checkpoint records it: an int, None, or its kind's name (a
    Generator's state is not a setting one could give again)."""
    if seed is None or isinstance(seed, str):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    return type(seed).__name__


def _update(digest: Any, array: Array) -> None:
    """Add the bytes of ``array`` (dense) to ``digest``, a block of rows at a time."""
    if array.ndim == 0 or array.size == 0:
        digest.update(np.ascontiguousarray(array).tobytes())
        return
    step = max(1, _CHUNK_BYTES // max(1, array[:1].nbytes))
    for start in range(0, array.shape[0], step):
        digest.update(np.ascontiguousarray(array[start : start + step]))


def fingerprint(X: Any, y: Array, sample_weight: Array | None) -> dict[str, Any]:
    """Describe a fit's rows: count, columns, dtype, weighting and a hash of every byte.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_inputs)
        The inputs, as the fit trains on them (checked, in the network's dtype).
    y : ndarray of shape (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    dict
        ``rows``, ``columns`` ([inputs, targets]), ``dtype``, ``weighted`` and ``blake2b``
        (32 hex digits), JSON values only.

    Examples
    --------
    >>> import numpy as np
    >>> part = fingerprint(np.zeros((3, 2), np.float32), np.ones((3, 1), np.float32), None)
    >>> part["rows"], part["columns"], part["dtype"], len(part["blake2b"])
    (3, [2, 1], 'float32', 32)
    """
    if sample_weight is not None and bool(np.all(np.asarray(sample_weight) == 1)):
        sample_weight = None  # (weights of 1, given or from class_weight, train as none do)
    digest = hashlib.blake2b(digest_size=16)
    if is_sparse(X):  # (CSR: its values, their columns and the rows' starts)
        for array in (X.data, X.indices, X.indptr):
            _update(digest, np.asarray(array))
    else:
        _update(digest, np.asarray(X))
    _update(digest, np.asarray(y))
    if sample_weight is not None:
        _update(digest, np.asarray(sample_weight))
    return {
        "rows": int(X.shape[0]),
        "columns": [int(X.shape[1]), int(y.shape[1]) if y.ndim > 1 else 1],
        "dtype": str(X.dtype),
        "weighted": sample_weight is not None,
        "blake2b": digest.hexdigest(),
    }


class FitData:
    """The data of one fit, fingerprinted when first asked (:meth:`record`), once.

    Parameters
    ----------
    data, val : Data, Data or None
        The fit's training and validation rows, as it trains on them.
    validation_split : float
        The fraction the fit held out (0 when given ``validation_data`` or none).
    seed : int, str or None
        :func:`seed_record` of the trainer's seed.
    """

    def __init__(self, data: Data, val: Data | None, validation_split: float, seed: Any) -> None:
        self._parts = (data, val)
        self._split, self._seed = float(validation_split), seed
        self._record: dict[str, Any] | None = None

    def record(self) -> dict[str, Any]:
        """The fit's provenance (see the module's docstring); hashed on the first call."""
        if self._record is None:
            data, val = self._parts
            self._record = {
                "training": fingerprint(data.X, data.y, data.sample_weight),
                "validation": None if val is None else fingerprint(val.X, val.y, val.sample_weight),
                "validation_split": self._split,
                "seed": self._seed,
            }
        return self._record


def _part_problem(name: str, part: Any) -> str | None:
    """What is wrong with a saved :func:`fingerprint` ``part`` (None: nothing)."""
    if not isinstance(part, dict):
        return f"its {name} data is {part!r:.60}, not a description of rows"
    rows, columns, digest = part.get("rows"), part.get("columns"), part.get("blake2b")
    counts = [rows, *(columns if isinstance(columns, list) else [None])]
    if not (
        all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts)
        and isinstance(columns, list) and len(columns) == 2
        and isinstance(part.get("dtype"), str) and isinstance(part.get("weighted"), bool)
        and isinstance(digest, str) and len(digest) == 32
        and all(c in "0123456789abcdef" for c in digest)
    ):  # fmt: skip
        return (
            f"its {name} data is described as {part!r:.120}; expected rows, columns (two "
            "counts), a dtype, weighted (true or false) and a 32-digit blake2b hash"
        )
    return None


def provenance_problem(block: Any) -> str | None:
    """What is wrong with a checkpoint's saved provenance ``block`` (None: nothing; a
    checkpoint written before provenances were kept, or outside a fit, has none)."""
    if block is None:
        return None
    if not isinstance(block, dict):
        return f"the data it was made on is recorded as {block!r:.60}, not an object"
    problem = _part_problem("training", block.get("training"))
    if problem is None and block.get("validation") is not None:
        problem = _part_problem("validation", block["validation"])
    split, seed = block.get("validation_split"), block.get("seed")
    if problem is None and (
        isinstance(split, bool) or not isinstance(split, (int, float))
        or not (math.isfinite(split) and 0 <= split < 1)
    ):  # fmt: skip
        problem = f"its validation_split is {split!r:.60}, not a fraction in [0, 1)"
    if problem is None and not (seed is None or isinstance(seed, (int, str))):
        problem = f"its seed is {seed!r:.60}, not an integer, a name or null"
    return None if problem is None else f"the record of the data it was made on: {problem}"


def _rows(part: dict[str, Any]) -> str:
    """``part``'s rows in words: '90 rows, hash 3f1c2a9e0b1d...'."""
    return f"{part['rows']} rows, hash {part['blake2b'][:12]}..."


def _part_differences(name: str, was: Any, now: Any) -> list[str]:
    """How the fit's ``name`` rows (``now``) differ from the checkpoint's (``was``)."""
    if was is None and now is None:
        return []
    if was is None or now is None:
        then, this = ("none" if p is None else _rows(p) for p in (was, now))
        return [f"{name} data: {then} (now {this})"]
    if was["rows"] != now["rows"]:
        return [f"{name} data: {_rows(was)} (now {_rows(now)})"]
    found = []
    if was["columns"] != now["columns"]:
        found.append(f"{name} columns (inputs, targets): {was['columns']} (now {now['columns']})")
    if was["weighted"] != now["weighted"]:
        found.append(f"{name} sample weights: {'given' if was['weighted'] else 'none'} "
                     f"(now {'given' if now['weighted'] else 'none'})")  # fmt: skip
    if not found and was["blake2b"] != now["blake2b"]:
        weights = " or their weights" if now["weighted"] else ""
        found.append(
            f"{name} data: the same number of rows, {was['rows']}, but other values{weights} "
            f"(hash {was['blake2b'][:12]}..., now {now['blake2b'][:12]}...)"
        )
    return found


def differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between the checkpoint's provenance ``saved`` and a fit's ``now``
    (:meth:`FitData.record`): the validation split, then the training and validation rows.
    Not the seed: it is kept for the record (a resumed run restores the random generators'
    states, so its trainer's seed changes nothing)."""
    found = []
    if float(saved["validation_split"]) != float(now["validation_split"]):
        found.append(f"validation_split {saved['validation_split']!r} "
                     f"(now {now['validation_split']!r})")  # fmt: skip
    found += _part_differences("training", saved["training"], now["training"])
    found += _part_differences("validation", saved.get("validation"), now["validation"])
    return found
