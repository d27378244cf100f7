"""Raw rows given without column names, as the table of named columns a model file reads.

A model from ``deltarule train`` knows its raw input columns and their order (its
preprocessing's ``feature_names``), so rows of exactly those values, in that order, name
their columns as well as a table does: :func:`as_named_table` builds the pandas DataFrame,
which then goes through the same preprocessing (standardisation, encoding) as any table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..exceptions import InputError

__all__ = ["as_named_table"]


def as_named_table(data: Any, names: list[Any]) -> Any:
    """``data`` as a pandas DataFrame of the columns ``names``, or None if it is no table.

    Parameters
    ----------
    data : DataFrame, mapping or array-like
        A DataFrame is returned as it is. A mapping of column name to a list of values is
        read as pandas reads it (``pd.DataFrame(data)``). A 2-D array or a list of rows,
        shape (n_samples, len(names)), gives the values of ``names`` in that order.
    names : list
        The raw input columns the model reads, in the order it was trained on.

    Returns
    -------
    DataFrame or None
        None when ``data`` is neither a mapping nor array-like (a number, a string, None).

    Warns
    -----
    DataWarning
        For rows without column names (an array, a list of rows): read in the training
        order, which the model cannot check.

    Raises
    ------
    InputError
        For rows of another length than ``len(names)`` (naming the expected columns in
        order), for a single row not in a list (1-D), or for a mapping pandas cannot read.
    """
    from .._columns import load_pandas

    pd = load_pandas()
    if hasattr(data, "columns"):
        return data
    if isinstance(data, Mapping):
        try:
            return pd.DataFrame(dict(data))
        except ValueError as error:
            raise InputError(
                f"a dict of columns is read as pandas reads it, and pandas cannot: {error}. "
                f"Give each column a list of values, e.g. {{{names[0]!r}: [...], ...}} for "
                f"the {len(names)} columns {_shown(names)}."
            ) from None
    if isinstance(data, (str, bytes)) or not hasattr(data, "__len__"):
        return None
    rows = data if isinstance(data, np.ndarray) else _object_rows(data)
    if rows is None or rows.ndim != 2 or rows.shape[1] != len(names):
        raise InputError(
            f"received {_described(data, rows)}; expected rows of the model's "
            f"{len(names)} raw input columns, in the order it was trained on: "
            f"{_shown(names)}. Pass a list of such rows (one row: [row]), a 2-D array of "
            f"shape (n_samples, {len(names)}), or a pandas DataFrame with these columns "
            "by name."
        )
    import warnings

    from ..exceptions import DataWarning

    warnings.warn(  # (as scikit-learn warns of X without the feature names it was fitted with)
        f"rows without column names are read as the model's {len(names)} raw input columns "
        f"in the order it was trained on: {_shown(names)}; rows in another order give "
        "wrong predictions without an error. Pass a pandas DataFrame with these columns by "
        "name (deltarule.io.read_table reads a file as training did) to have them matched "
        "by name.",
        DataWarning,
        stacklevel=4,  # (the caller of LoadedModel.predict)
    )
    table = pd.DataFrame(rows, columns=pd.Index(names, dtype=object))
    return table.infer_objects() if rows.dtype == object else table


def _object_rows(data: Any) -> np.ndarray | None:
    """A list of rows as a 2-D object array (each value kept as it is, a number a number and
    a text a text, as a mixed numeric array would turn every value into text); None for
    ragged rows."""
    try:
        rows = np.asarray(data, dtype=object)
    except ValueError:  # (rows of different lengths, numpy < 2 about some)
        return None
    listed = [hasattr(row, "__len__") and not isinstance(row, str) for row in rows.flat]
    return None if rows.ndim == 1 and any(listed) else rows  # (ragged: 1-D of lists)


def _described(data: Any, rows: np.ndarray | None) -> str:
    if rows is None:
        lengths = sorted({len(row) if hasattr(row, "__len__") else 1 for row in data})
        return f"rows of different lengths ({', '.join(map(str, lengths[:5]))} values)"
    if rows.ndim == 1:
        return f"one row of {rows.shape[0]} value(s) (1-D), not a list of rows"
    if rows.ndim == 2:
        return f"rows of {rows.shape[1]} value(s), shape {rows.shape}"
    return f"an array of shape {rows.shape}"


def _shown(names: list[Any], limit: int = 12) -> str:
    shown = ", ".join(repr(name) for name in names[:limit])
    return f"[{shown}{', ...' if len(names) > limit else ''}]"
