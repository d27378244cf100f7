"""The columns :func:`deltarule.permutation_importance` shuffles: their names, the groups
``columns=`` asks for, and shuffling a group's rows in a working copy of the table (a NumPy
array or a pandas DataFrame, whose columns keep their dtypes)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from difflib import get_close_matches
from typing import Any

import numpy as np

from .exceptions import InputError

__all__ = ["column_groups", "column_names", "permuted", "restore"]


def _is_frame(table: Any) -> bool:
    """A pandas DataFrame (duck-typed: pandas is not imported here)."""
    return hasattr(table, "columns") and hasattr(table, "iloc")


def column_names(X: Any, width: int) -> list[str]:
    """The names of ``X``'s ``width`` columns: a DataFrame's own (as text), else ``x0``,
    ``x1``, ... (as a model file saved without preprocessing names them)."""
    if _is_frame(X) and len(X.columns) == width:
        return [str(name) for name in X.columns]
    return [f"x{j}" for j in range(width)]


def _position(member: Any, names: list[str]) -> int:
    """The position of one column, given by position or by name."""
    width = len(names)
    if isinstance(member, (int, np.integer)) and not isinstance(member, (bool, np.bool_)):
        if 0 <= member < width:
            return int(member)
        raise InputError(
            f"columns names column {member}, but X has {width} columns (0 to {width - 1}). "
            "Give positions from 0, or names of a DataFrame's columns."
        )
    if isinstance(member, str):
        if names.count(member) > 1:
            at = [j for j, name in enumerate(names) if name == member]
            raise InputError(
                f"columns names {member!r}, but X has {len(at)} columns of that name (at "
                f"positions {', '.join(map(str, at))}), so which one is meant is unclear. "
                "Rename X's columns so that each name is one column's, or give positions."
            )
        if member in names:
            return names.index(member)
        close = get_close_matches(member, names, n=3, cutoff=0.6)
        hint = f" Close names: {', '.join(map(repr, close))}." if close else ""
        shown = ", ".join(map(repr, names[:12])) + (", ..." if width > 12 else "")
        raise InputError(
            f"columns names {member!r}, which X has no column of; X's columns are {shown}."
            f"{hint} Give a column's name as X names it, or its position."
        )
    raise InputError(
        f"columns holds {type(member).__name__} {member!r:.60}; expected a column's position "
        "(int), its name (str), or a list of them for a group shuffled together."
    )


def _group(entry: Any, names: list[str]) -> list[int]:
    """One entry of ``columns`` (a column, or a list of them) as positions."""
    members = list(entry) if isinstance(entry, (list, tuple, np.ndarray)) else [entry]
    if not members:
        raise InputError(
            "columns holds an empty group; each group needs at least one column, e.g. "
            "columns=[0, 1, [2, 3]] (columns 2 and 3 shuffled together)."
        )
    positions = [_position(member, names) for member in members]
    if len(set(positions)) != len(positions):
        raise InputError(
            f"columns holds a group that names a column twice: {entry!r:.80}; name each "
            "column of a group once."
        )
    return positions


def column_groups(columns: Any, names: list[str]) -> tuple[list[list[int]], list[str]]:
    """The groups of column positions to shuffle and their labels: by default each column
    alone; a group's label its columns' names joined by ``+`` (or a dict's key)."""
    if columns is None:
        _distinct(names)
        return [[j] for j in range(len(names))], list(names)
    if isinstance(columns, Mapping):
        keys, entries = [str(key) for key in columns], list(columns.values())
    elif isinstance(columns, Sequence | np.ndarray) and not isinstance(columns, str):
        keys, entries = None, list(columns)
    else:
        raise InputError(
            f"columns must be a list of columns (positions or names, or lists of them for "
            f"groups) or a dict of named groups; received {type(columns).__name__} "
            f"{columns!r:.60}. E.g. columns=[0, 1, [2, 3]] or columns={{'colour': [2, 3]}}."
        )
    if not entries:
        raise InputError(
            "columns is empty; name at least one column, or leave columns out for all."
        )
    groups = [_group(entry, names) for entry in entries]
    _once(groups, entries, names)
    labels = keys or ["+".join(names[j] for j in group) for group in groups]
    _distinct(labels)
    return groups, labels


def _once(groups: list[list[int]], entries: list[Any], names: list[str]) -> None:
    """Refuse a column in two entries of ``columns`` (repeated, or in overlapping groups):
    its importance would be measured twice, and a group's would include another's."""
    first: dict[int, int] = {}
    for g, group in enumerate(groups):
        for j in group:
            if j in first:
                raise InputError(
                    f"columns names column {names[j]!r} (position {j}) in two entries: "
                    f"{entries[first[j]]!r:.40} and {entries[g]!r:.40}; each column may be "
                    "shuffled in one entry only (a group's importance is the importance of "
                    "its columns together). Name each column once, e.g. columns=[[0, 1], 2]."
                )
            first[j] = g


def _distinct(labels: list[str]) -> None:
    """Refuse two columns (groups) of the same name: their importances could not be told
    apart (a DataFrame with two columns of one name)."""
    seen: set[str] = set()
    for label in labels:
        if label in seen:
            raise InputError(
                f"two of the columns measured are named {label!r} (a DataFrame's columns "
                "of the same name?), so their importances could not be told apart. Rename "
                "X's columns so that each name is one column's, or name the groups with a "
                "dict: columns={'first': [0], 'second': [1]}."
            )
        seen.add(label)


def permuted(work: Any, table: Any, group: list[int], order: np.ndarray) -> None:
    """Set ``work``'s ``group`` columns to ``table``'s with their rows in ``order``."""
    if _is_frame(work):
        for j in group:
            column = table.iloc[order, j]
            column.index = table.index  # (assigned by position, not by the old row labels)
            work.isetitem(j, column)
    else:
        work[:, group] = table[np.ix_(order, group)]


def restore(work: Any, table: Any, group: list[int]) -> None:
    """Set ``work``'s ``group`` columns back to ``table``'s."""
    if _is_frame(work):
        for j in group:
            work.isetitem(j, table.iloc[:, j])
    else:
        work[:, group] = table[:, group]
