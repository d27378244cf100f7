"""How messages name rows and columns of a table: quoted, shortened lists of column
names, look-alike names (case and spaces), and a row by the line of its file when the
table carries a row namer (:data:`ROWS_ATTR`)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "ROWS_ATTR",
    "escape_surrogates",
    "listed",
    "lookalikes",
    "missing_columns",
    "plain",
    "row_name",
    "shortened",
    "where",
]

ROWS_ATTR = "deltarule.rows"
"""Key of ``DataFrame.attrs`` under which a table read from a file may carry a function
naming its row ``i`` (counted from 0) for messages, e.g. ``"line 7 of 'data.csv' (data
row 5)"`` (:func:`deltarule.io.read_table` puts one there); without it, rows are numbered."""
_SHOWN = 10  # column names a message lists before "... and N more"


def escape_surrogates(text: str) -> str:
    """``text`` with its lone surrogates (the bytes of a file name that are not UTF-8, as
    Python decodes them: ``os.fsdecode``) escaped as those bytes, so that it has a UTF-8
    form (a model file's header, JSON, a terminal take it).

    Examples
    --------
    >>> escape_surrogates(b"bad\\xffname.csv".decode("utf-8", "surrogateescape"))
    'bad\\\\xffname.csv'
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogateescape") if _only_escapes(text) else None
        if raw is not None:
            return raw.decode("utf-8", "backslashreplace")
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _only_escapes(text: str) -> bool:
    """Whether every lone surrogate of ``text`` stands for a byte (U+DC80..U+DCFF)."""
    return all("\udc80" <= char <= "\udcff" for char in text if "\ud800" <= char <= "\udfff")


def shortened(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to about ``limit`` characters, for a message that quotes a value
    from the data (a 50 MB cell must not become a 50 MB error line).

    Examples
    --------
    >>> shortened("9" * 100, 20)
    "'9999999...' (100 characters)"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    shown = text[: max(limit - 12, 8)]
    length = f" ({len(value):,} characters)" if isinstance(value, str) else ""
    return f"{shown}...'{length}" if isinstance(value, str) else f"{shown}..."


def plain(value: Any) -> Any:
    """Return a NumPy scalar as the plain Python value (JSON-able)."""
    return value.item() if isinstance(value, np.generic) else value


def row_name(row: int, like: Any) -> str:
    """Row ``row`` (counted from 0) of the table ``like`` came from, for a message."""
    name_row = getattr(like, "attrs", {}).get(ROWS_ATTR)
    return name_row(row) if callable(name_row) else f"row {row + 1} (rows counted from 1)"


def where(mask: Any, like: Any) -> str:
    """The first row where ``mask`` is true, in the table ``like`` came from."""
    return row_name(int(np.flatnonzero(np.asarray(mask))[0]), like)


def listed(names: Any, limit: int = _SHOWN) -> str:
    """Column names for a message: the first ``limit`` quoted, then how many more.

    Examples
    --------
    >>> listed(["a", "b", "c"], limit=2)
    "'a', 'b' ... and 1 more"
    """
    names = list(names)
    shown = ", ".join(repr(plain(name)) for name in names[:limit])
    return shown + (f" ... and {len(names) - limit} more" if len(names) > limit else "")


def _folded(name: Any) -> str:
    return " ".join(str(name).split()).casefold()


def lookalikes(wanted: Any, present: Any) -> str:
    """For each wanted column name that is absent, a present one that differs only in
    case or spaces (``'SL'`` or ``' sl'`` for ``'sl'``), as a sentence; "" if none.

    Examples
    --------
    >>> lookalikes(["sl", "pw"], ["SL", "x"])
    "The data has 'SL' for 'sl': column names must match exactly, case and spaces included."
    """
    present = list(present)
    folded = {_folded(name): name for name in present}
    pairs = [
        f"{folded[_folded(name)]!r} for {name!r}"
        for name in wanted
        if name not in present and _folded(name) in folded
    ]
    if not pairs:
        return ""
    shown = ", ".join(pairs[:_SHOWN]) + (" ..." if len(pairs) > _SHOWN else "")
    return f"The data has {shown}: column names must match exactly, case and spaces included."


def missing_columns(lacking: Any, present: Any) -> str:
    """The sentence after "the data lacks ...": look-alike names, else the data's columns."""
    present = list(present)
    return lookalikes(lacking, present) or f"The data has columns {listed(present)}."
