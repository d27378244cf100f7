"""A table's plain numeric columns taken together: the columns of NumPy integer or float
types (:func:`plain_numeric`), read as float64 a block of columns at a time
(:func:`float_blocks`), their means and standard deviations (:func:`fit_numeric`) and their
standardised values (:func:`standardise_into`), computed on each block at once.

Each result equals, bit for bit, what :mod:`deltarule._encoders` computes one column at a
time (:func:`~deltarule._encoders.fit_column`,
:func:`~deltarule._encoders.standardised_column`): each cell cast to float64 as there, and
the same arithmetic as pandas' ``mean`` and ``std`` (a block's columns are each contiguous,
so NumPy sums each pairwise, as it sums one column). A column that needs more (a missing
value, infinity, a mean or standard deviation past float64, a value past the output's
dtype) is left to the per-column path, which fills, refuses or warns about it as it always
has; so is any column of another type (text, categories, True/False, pandas' nullable
numbers)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ._columns import load_pandas
from ._naming import plain

__all__ = ["BLOCK_BYTES", "fit_numeric", "float_blocks", "plain_numeric", "standardise_into"]

BLOCK_BYTES = 1 << 24
"""The most bytes of one float64 block of columns (16 MiB: 34 columns of 60,000 rows), so
that the whole table is never copied at once (:func:`standardise_into` takes less for a
small output: its blocks are never more than an eighth of it, or one column)."""


def plain_numeric(frame: Any) -> np.ndarray:
    """Which columns of ``frame`` are of a NumPy integer or float type (not True/False, not
    pandas' nullable types), as a bool array of shape (n_columns,)."""
    return np.array(
        [isinstance(dtype, np.dtype) and dtype.kind in "iuf" for dtype in frame.dtypes],
        dtype=bool,
    )


def float_blocks(
    frame: Any, positions: np.ndarray, most: int = BLOCK_BYTES
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The columns of ``frame`` at ``positions`` (plain numeric ones), a block of at most
    ``most`` bytes (default :data:`BLOCK_BYTES`), or of one column, at a time.

    Yields
    ------
    positions : ndarray of int of shape (n_block,)
        The block's columns' positions in ``frame``.
    block : ndarray of float64 of shape (n_samples, n_block)
        Their values as float64 (each cell cast as ``Series.astype(float)`` casts it),
        each column contiguous (Fortran order).
    """
    width = max(1, min(most, BLOCK_BYTES) // (8 * max(1, len(frame))))
    for first in range(0, len(positions), width):
        part = positions[first : first + width]
        block = frame.iloc[:, part].to_numpy(dtype=np.float64)
        yield part, np.asfortranarray(block)


def fit_numeric(frame: Any, names: list[Any]) -> dict[Any, dict[str, Any]]:
    r"""What each plain numeric column ``names`` of ``frame`` without missing values or
    infinity teaches (:func:`~deltarule._encoders.fit_column`'s state: its mean, its
    population standard deviation, 1 when constant, and no fill), by name; a column left
    out is for the per-column path (all of them where pandas would reduce with bottleneck).

    For a column :math:`x` of :math:`n` numbers, as pandas' ``Series.mean`` and
    ``Series.std(ddof=0)`` compute them (each sum NumPy's pairwise sum of a contiguous
    column): :math:`\mu = (\sum_i x_i) / n` and :math:`\sigma = \sqrt{\sum_i (\mu -
    x_i)^2 / n}`.
    """
    if _bottleneck():
        return {}
    positions = frame.columns.get_indexer(names)
    positions = positions[plain_numeric(frame)[positions]]
    columns, states = frame.columns, {}
    for part, block in float_blocks(frame, positions):
        n = np.float64(len(block))
        with np.errstate(over="ignore", invalid="ignore"):
            means = block.sum(axis=0) / n  # (not finite: inf or NaN in the column, or past)
            squares = np.subtract(means, block, out=np.empty_like(block))
            stds = np.sqrt(np.square(squares, out=squares).sum(axis=0) / n)
        fine = np.isfinite(means) & np.isfinite(stds)  # (else rescaled, column by column)
        for position, mean, std in zip(
            part[fine].tolist(), means[fine].tolist(), stds[fine].tolist()
        ):
            states[columns[position]] = {
                "name": plain(columns[position]),
                "kind": "numeric",
                "mean": mean,
                "std": std if std > 0 else 1.0,
                "fill": None,
            }
    return states


def _bottleneck() -> bool:
    """Whether pandas reduces columns with bottleneck (its own sums, not NumPy's)."""
    import importlib.util

    option = load_pandas().get_option("compute.use_bottleneck")
    return bool(option) and importlib.util.find_spec("bottleneck") is not None


def standardise_into(
    out: np.ndarray, frame: Any, names: list[Any], states: list[dict[str, Any]], starts: list[int]
) -> list[int]:
    """Write the numeric columns ``names`` of ``frame``, standardised by their fitted
    ``states`` (:math:`(x - \\mu) / \\sigma`), into the columns ``starts`` of ``out``;
    return the indices (into ``names``) of those left to the per-column path: not plain
    numeric, holding a missing value or infinity, or (for a float ``out``) a standardised
    value beyond what ``out``'s dtype can hold.

    Parameters
    ----------
    out : ndarray of shape (n_samples, n_features_out)
    names : list of column names of ``frame``, of length n_numeric
    states : list of dict, of length n_numeric
    starts : list of int, of length n_numeric
    """
    positions = frame.columns.get_indexer(names)
    index = np.flatnonzero(plain_numeric(frame)[positions])
    left = np.setdiff1d(np.arange(len(names)), index).tolist()
    at = dict(zip(positions[index].tolist(), index.tolist()))
    means = np.array([state["mean"] for state in states], dtype=np.float64)
    stds = np.array([state["std"] for state in states], dtype=np.float64)
    columns = np.asarray(starts, dtype=np.intp)
    limit = float(np.finfo(out.dtype).max) if out.dtype.kind == "f" else np.inf
    for part, block in float_blocks(frame, positions[index], out.nbytes // 8):
        which = np.array([at[p] for p in part.tolist()], dtype=np.intp)
        standard = np.subtract(block, means[which], out=np.empty_like(block))
        np.divide(standard, stds[which], out=standard)
        with np.errstate(invalid="ignore"):  # (NaN, a missing value or infinity: left)
            fine = (standard.max(axis=0) <= limit) & (standard.min(axis=0) >= -limit)
        targets = columns[which]
        if fine.all() and (np.diff(targets) == 1).all():  # (side by side: a slice)
            out[:, targets[0] : targets[-1] + 1] = standard
        else:
            out[:, targets[fine]] = standard[:, fine]
        left += which[~fine].tolist()
    return sorted(left)
