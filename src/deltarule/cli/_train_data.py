"""The training data of ``deltarule train``: DATA read into a fitted preprocessor and the
arrays it makes (:func:`from_file`: --target, --drop, whole-number labels kept as the file
writes them, warnings about columns that identify rows), or a built-in dataset with a
preprocessor for its raw columns (:func:`from_dataset`, :func:`encode_targets`)."""

from __future__ import annotations

import argparse
import re
import shlex
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import DataWarning, InputError
from ..io import _text
from ._common import (
    CLASSIFICATION,
    check_fann_data,
    data_suffix,
    holdout_split,
    is_array_file,
    pick_columns,
    read_data,
    split_names,
    split_rows,
)
from ._stdin import is_stdin, stdin_file
from ._train_fit import check_targets_for_loss

__all__ = [
    "MIN_ROWS_FOR_IDENTIFIERS",
    "NEARLY_EVERY_ROW",
    "category_warnings",
    "encode_targets",
    "from_dataset",
    "from_file",
    "identifier_warnings",
]


def from_file(args: argparse.Namespace) -> tuple[Any, np.ndarray, np.ndarray, Any]:
    """Read DATA and return (fitted preprocessor, X, Y, (X_test, Y_test) or None): with
    ``--test-split``, the preprocessor learns its statistics from the other rows alone."""
    from .._naming import listed
    from ..preprocessing import TabularPreprocessor

    sep, header = getattr(args, "sep", None), not getattr(args, "no_header", False)
    table = sep is not None or not header  # (--sep, --no-header: a .data file is a table)
    is_npz = is_array_file(args.data) and not (table and data_suffix(args.data) != ".npz")
    if is_npz and not table:
        check_fann_data(args.data)  # (a UCI .data file: what to do, before --target's advice)
    if is_npz and args.target not in (None, "y"):
        raise InputError(
            f"--target {args.target!r}: an NPZ file holds the target in the array y (a FANN "
            "file in its output lines, read as y); leave out --target (or pass --target y)."
        )
    frame = read_data(args.data, target="y", sep=sep, header=header)
    target = "y" if is_npz else target_columns(args.target, frame.columns)
    if target is None:
        raise InputError(
            f"deltarule train {args.data} needs --target COLUMN, the column to predict; "
            f"{'standard input' if is_stdin(args.data) else 'the file'} has columns "
            f"{listed(frame.columns)}.{_likely_target(frame.columns)}"
        )
    frame = _drop_columns(frame, args, target, is_npz)
    several = isinstance(target, list)  # (a multi-output regression: numbers, as read)
    if not is_npz and not several and target in frame.columns and args.task != "regression":
        frame[target] = _labels_as_written(frame[target], args.data, target, sep, header)
    args.data_warnings = identifier_warnings(frame, target)  # (shown once all is checked)
    with warnings.catch_warnings():  # (said below in the command line's spelling)
        warnings.filterwarnings("ignore", _MANY_CATEGORIES, DataWarning)
        pre = TabularPreprocessor().fit(frame, target, task=args.task, impute=args.impute)
        Y = pre.transform_target(frame[target])
        check_targets_for_loss(pre, Y, args)  # (before the split: rows as the file has them)
        kept = held = None
        if getattr(args, "test_split", None):  # (its rows' values teach the model nothing)
            kept, held = test_rows(Y, args, pre.task == CLASSIFICATION)
            pre = TabularPreprocessor().fit(
                frame, target, task=args.task, impute=args.impute, rows=kept
            )
    args.data_warnings += category_warnings(pre, len(frame), args.data_warnings)
    # (in the network's float32, column by column: the same numbers as a float64 table
    # cast when training starts, without that table, twice the data's size)
    X = pre.transform(frame, dtype=np.float32)
    if kept is None:
        return pre, X, Y, None
    mask = np.zeros(len(Y), dtype=bool)
    mask[held] = True
    X_kept, X_held = split_rows(X, mask)  # (X is this function's: moved, not copied)
    return pre, X_kept, Y[kept], (X_held, Y[held])


def target_columns(given: str | None, columns: Any) -> Any:
    """The target column(s) ``--target`` names among the table's ``columns``: a column named
    exactly as given (a name holding a comma, ``'a,b'``, included), else, for a value with
    commas, the columns it lists (:func:`split_names`, :func:`pick_columns`: a multi-output
    regression when they are two or more), else the value as given (None without
    ``--target``; a name that is not a column is refused by the preprocessor, naming it).

    Returns
    -------
    str, list or None
        One column's name, or a list of two or more names in the order given.
    """
    if given is None or "," not in given or given in {str(c) for c in columns}:
        return given
    names = pick_columns(split_names(given, "--target"), "--target", columns)
    if len(names) < given.count(",") + 1:  # (a column named twice, as written or spaced)
        raise InputError(
            f"--target {given!r} names a column twice; expected distinct target columns, "
            "each once (--target y1,y2 trains one output per column)."
        )
    return names if len(names) > 1 else names[0]


TEST_STREAM = 7
"""The second word of ``--test-split``'s seed, ``[--seed, TEST_STREAM]``: its rows are drawn
from a stream of their own, apart from the validation split's."""


def test_rows(Y: np.ndarray, args: argparse.Namespace, classification: bool) -> tuple:
    """The positions of the rows kept for training and validation, and of those held out
    by ``--test-split`` (per class for a classification), in the file's order."""
    kept, _, held, _ = holdout_split(np.arange(len(Y)), Y, args.test_split,
                                     [args.seed, TEST_STREAM], classification,
                                     option="--test-split")  # fmt: skip
    return kept, held


TARGET_NAMES = ("target", "label", "labels", "class", "y", "outcome")
"""Column names (in any case) that usually hold what a table is for predicting."""


def _likely_target(columns: Any) -> str:
    """A hint naming the one column called like a target (" Is it --target target?"), or ""."""
    named = [c for c in columns if isinstance(c, str) and c.strip().lower() in TARGET_NAMES]
    return f" Is it --target {shlex.quote(named[0])}?" if len(named) == 1 else ""


_MANY_CATEGORIES = r"column .* has [\d,]+ categories \(more than"
"""The start of the preprocessor's warning about a column of many categories
(:func:`deltarule._encoders.many_categories`), which :func:`category_warnings` says for
the command line."""


def category_warnings(pre: Any, n_rows: int, said: list[str]) -> list[str]:
    """The warnings about the fitted ``pre``'s categorical columns of more than
    :data:`~deltarule._encoders.MANY_CATEGORIES` categories (one input column each), but
    those already ``said`` (an identifier's warning names the column)."""
    from .._encoders import MANY_CATEGORIES

    found = []
    for column in pre.columns:
        n, name = len(column.get("categories") or []), column["name"]
        if n <= MANY_CATEGORIES or any(text.startswith(f"column {name!r} ") for text in said):
            continue
        found.append(
            f"column {name!r} has {n:,} categories (more than {MANY_CATEGORIES:,}): one-hot "
            f"encoded, they are {n:,} input columns, {8 * n * n_rows:,} bytes for its "
            f"{n_rows:,} rows, and a network too wide to learn much from each; drop it with "
            f"--drop {shlex.quote(str(name))}, or replace it in the data by fewer values (hash "
            "them into a few hundred buckets, or group the rare ones)"
        )
    return found


def _drop_columns(frame: Any, args: argparse.Namespace, target: Any, is_npz: bool) -> Any:
    """``frame`` without the ``--drop`` columns (or all but the ``--features`` ones and the
    target, a column's name or a list of them); ``args.drop`` becomes their names as the
    file writes them (saved with the model, and for ``--resume``, which keeps them as its
    ``--drop``)."""
    targets = target if isinstance(target, list) else [target]
    named = ", ".join(map(repr, targets))
    features = getattr(args, "features", None)
    if features:
        if is_npz:
            raise InputError(
                f"--features {','.join(features)}: an NPZ (or FANN) file's columns have no "
                "names (a model trained on it takes X's columns in order, all of them); "
                "select those columns of X instead, or use a CSV file with a header."
            )
        kept = pick_columns(features, "--features", frame.columns)
        named_target = [name for name in kept if name in targets]
        if named_target:
            raise InputError(
                f"--features names the target column {named_target[0]!r}, a column to "
                "predict; it is never a feature. Remove it from --features."
            )
        args.drop = [name for name in frame.columns if name not in kept and name not in targets]
        args.features = None  # (said once, as the columns it drops: what --resume keeps)
    if not args.drop:
        args.drop = []
        return frame
    if is_npz:
        raise InputError(
            f"--drop {','.join(args.drop)}: an NPZ (or FANN) file's columns have no names (a model "
            "trained on it takes X's columns in order, all of them); remove those columns "
            "from X instead, or use a CSV file with a header."
        )
    picked = pick_columns(args.drop, "--drop", frame.columns)
    dropped_target = [name for name in picked if name in targets]
    if dropped_target:
        raise InputError(
            f"--drop names the target column {dropped_target[0]!r}, a column to predict; it "
            "cannot be dropped. Remove it from --drop (the target is never a feature anyway)."
        )
    if len(picked) == len(frame.columns) - sum(name in frame.columns for name in targets):
        raise InputError(
            f"--drop {','.join(map(str, picked))} drops every feature column, leaving only the "
            f"target {named}; expected at least one feature. Drop fewer columns."
        )
    args.drop = [str(name) for name in picked]
    return frame.drop(columns=picked)


MIN_ROWS_FOR_IDENTIFIERS = 20
"""Below this many rows, :func:`identifier_warnings` says nothing (a few rows of distinct
categories are no sign of an identifier)."""
NEARLY_EVERY_ROW = 0.95
"""A text column with distinct values in at least this fraction of its rows is warned about."""


def identifier_warnings(frame: Any, target: Any) -> list[str]:
    """The warnings (:class:`DataWarning`, one ``warning:`` line each) about feature columns
    of ``frame`` that identify rows rather than describe them: text (one-hot encoded) with a
    different value in nearly every row (a name, an id or a date read as text), and whole
    numbers counting up by 1 (a row number, an id such as ``PassengerId`` 1..n)."""
    import pandas as pd

    from .._numeric_block import plain_numeric

    n_rows, found = len(frame), []
    targets = set(target) if isinstance(target, list) else {target}
    if n_rows < MIN_ROWS_FOR_IDENTIFIERS:
        return found
    plain = plain_numeric(frame)  # (those _may_identify rules out are not looked at again)
    maybe = _may_identify(frame, plain)
    for position, name in enumerate(frame.columns):
        if name in targets or (plain[position] and position not in maybe):
            continue
        column = frame[name]
        fix = f"drop it with --drop {shlex.quote(str(name))}"
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            distinct = int(column.nunique(dropna=True))
            if distinct >= NEARLY_EVERY_ROW * n_rows:
                found.append(
                    f"column {name!r} has a different value in {distinct} of {n_rows} rows: "
                    "one-hot encoding it can only memorise the training rows (and every new "
                    f"row's value is unseen); {fix}"
                )
        elif _counts_up(column):
            found.append(
                f"column {name!r} counts up by 1 in every row ({int(column.iloc[0])} to "
                f"{int(column.iloc[-1])}), like a row number or an id: as a feature it can only "
                "tell the network where a row is in the file (and new rows' values lie beyond "
                f"the training ones); {fix}"
            )
        elif (how := _numbers_rows(column, name)) is not None:
            found.append(
                f"column {name!r} {how}: as a feature it can only tell the network which row "
                "is which (rows numbered in the order of their classes, it can seem to predict "
                f"them), and new rows' values are unseen; {fix}"
            )
    return found


def _may_identify(frame: Any, plain: np.ndarray) -> set[int]:
    """The positions of the ``plain`` numeric columns of ``frame`` (a bool per column) that
    :func:`_counts_up` or :func:`_numbers_rows` may warn about, and those named like an id,
    found a block of columns at a time; for any other column of numbers, both say no. (Cast
    to float64 as :func:`_whole` casts them, numbers counting up by 1 make the last minus the
    first n - 1, and each whole number from 0 or 1 up once makes the largest minus the
    smallest n - 1: both exact in float64, for numbers whose steps of 1 it can tell.)"""
    from .._numeric_block import float_blocks

    span, maybe = len(frame) - 1, set()
    for part, block in float_blocks(frame, np.flatnonzero(plain)):
        low, high = block.min(axis=0), block.max(axis=0)  # (NaN: no, as _whole says)
        with np.errstate(invalid="ignore"):  # (inf - inf)
            counts = block[-1] - block[0] == span
            numbers = ((low == 0) | (low == 1)) & (high - low == span)
        maybe.update(part[counts | numbers].tolist())
    named = (i for i, name in enumerate(frame.columns) if _ID_NAME.fullmatch(str(name)))
    return maybe | set(named)


def _whole(column: Any) -> Any:
    """The numbers of ``column`` when they are all whole (none missing), else None."""
    values = column.to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(values).all() or (values != np.round(values)).any():
        return None
    return values


def _counts_up(column: Any) -> bool:
    """Whether the numbers of ``column`` are whole and go up by exactly 1 from row to row."""
    values = _whole(column)
    return values is not None and bool((np.diff(values) == 1).all())


_ID_NAME = re.compile(
    r"(?i:id|index|key|uuid|guid|row|rowid|row_?num(?:ber)?|record)"
    r"|.*(?:[_\s.-](?i:id)|[a-z0-9]I[dD])"
)
"""A column name that says it identifies rows: ``id``, ``CustomerID``, ``PassengerId``,
``user_id`` (not ``paid``, ``valid`` or ``GRID``)."""


def _numbers_rows(column: Any, name: Any) -> str | None:
    """How whole numbers in ``column`` identify its rows, when they do: each whole number
    from 0 or 1 up once, in any order (a row number or id, shuffled; not years, 1980 to
    2019 once each), or a different whole number in nearly every row under a name like an
    id (``CustomerID`` with gaps); else None."""
    values = _whole(column)
    if values is None:
        return None
    distinct = np.unique(values)
    if distinct.size == values.size and distinct[0] in (0, 1) and (np.diff(distinct) == 1).all():
        return (f"holds each whole number from {int(distinct[0])} to {int(distinct[-1])} once, "
                "in another order, like a row number or an id")  # fmt: skip
    if distinct.size >= NEARLY_EVERY_ROW * values.size and _ID_NAME.fullmatch(str(name)):
        return (f"is named like an id and has a different whole number in {distinct.size} of "
                f"{values.size} rows")  # fmt: skip
    return None


_CODE = re.compile(r"\s*[+-]?0\d")
"""A value written like a code, not a number: a leading zero (01, 007)."""


def _labels_as_written(
    column: Any, path: str, target: str, sep: str | None = None, header: bool = True
) -> Any:
    """The target ``column`` as the file writes it when whole numbers there are codes (``01``,
    ``02``: read as numbers they would be the classes 1 and 2, and predictions would say
    ``2`` for ``02``); else ``column`` as read. The file's target column is read again
    alone (with ``sep`` and ``header``; its lines were checked by the first reading), as
    text, only for a column of whole numbers in a file where a value may be written so
    (:func:`deltarule.io._text.may_hold_codes`, a scan of its bytes); a cell missing in
    ``column`` (``NA`` among numbers) stays missing."""
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return column
    values = column.dropna().to_numpy(dtype=float)
    if not np.isfinite(values).all() or (values != np.round(values)).any():
        return column
    if not _text.may_hold_codes(stdin_file() if is_stdin(path) else Path(path)):
        return column  # (no code anywhere in the file: reading the column again finds none)
    written = read_data(path, target="y", text_columns=[target], needed=[target], sep=sep,
                        header=header, columns=[target], lines_checked=True)[target]  # fmt: skip
    written = written.where(column.notna().to_numpy())
    if written.dropna().map(lambda value: bool(_CODE.match(str(value)))).any():
        return written
    return column


def from_dataset(args: argparse.Namespace) -> tuple[Any, Any]:
    """Load a built-in dataset; return (preprocessor for raw columns, dataset)."""
    from ..datasets import TARGET_NAMES, load_dataset
    from ..preprocessing import TabularPreprocessor

    data = load_dataset(args.dataset or "digits", seed=args.seed, data_dir=args.data_dir)
    pre = TabularPreprocessor()
    pre.target = TARGET_NAMES[data.name]  # (as 'deltarule data NAME' names it)
    pre.task, pre.impute, pre.classes = data.task, None, data.classes
    pre.columns = [
        {"name": name, "kind": "numeric", "mean": float(mean), "std": float(std), "fill": None}
        for name, mean, std in zip(data.feature_names, data.feature_mean, data.feature_scale)
    ]
    return pre, data


def encode_targets(pre: Any, data: Any, y: np.ndarray) -> np.ndarray:
    """Targets of a built-in dataset as the network sees them."""
    return pre.transform_target(np.asarray(data.classes)[y] if data.classes else y)
