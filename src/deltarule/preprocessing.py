"""Tabular preprocessing that travels inside the model file.

:class:`TabularPreprocessor` turns a table of named columns into the numbers
a network needs, and its outputs back into labels, with state that is plain
JSON (so a model file stays data). What it learns in :meth:`~TabularPreprocessor.fit`:

* the feature columns, by name and order (every column except the target);
* numeric columns: mean and (population, ddof=0, as scikit-learn's StandardScaler)
  standard deviation, to standardise
  :math:`x' = (x - \\mu) / \\sigma` (a constant column gets :math:`\\sigma = 1`);
* text, categorical and boolean columns: their sorted categories, one-hot
  encoded; a category never seen in training becomes an all-zero row;
* several target columns (``target=["y1", "y2"]``) make a multi-output regression: each
  must hold numbers, and the network gets one output per target;
* the task: "classification" for text or boolean targets and whole-number targets
  (integers, or floats such as 1.0) with few distinct values (at most 20, and at most
  half the rows), "regression" otherwise; and, for classification, the sorted class
  labels (as the table holds them: 1.0 stays 1.0);
* missing values are an error by default; ``impute="mean"``, ``"median"`` or
  ``"most_frequent"`` fills numeric columns with that statistic of the
  training data (categorical columns always with their most frequent value),
  and standardisation is then learned on the filled column.

Text categories and class labels are matched as text (a later file's ``1``, or ``1.0``,
is the category ``'1'``), and :attr:`~TabularPreprocessor.text_columns` names the columns
a reader should keep as text (``01`` read as a number would be ``1``, never seen). Errors
and warnings name the row they are about; the line of its file when the table carries a
row namer under :data:`ROWS_ATTR` (tables from :func:`deltarule.io.read_table` do).

This module holds the preprocessor itself; what a column holds is read in
:mod:`deltarule._columns`, each feature column's encoding is in :mod:`deltarule._encoders`,
the target's task and classes in :mod:`deltarule._task`, and the checks of a saved state in
:mod:`deltarule._preprocessing_state`.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"age": [20, 40, 60], "pet": ["cat", "dog", "cat"], "y": [0.5, 1.5, 2.5]})
>>> prep = TabularPreprocessor().fit(df, target="y")
>>> prep.task, prep.output_names
('regression', ['age', 'pet=cat', 'pet=dog'])
>>> prep.transform(df).shape
(3, 3)
"""

from __future__ import annotations

import shlex
from typing import Any

import numpy as np

from ._columns import MISSING_MARKS as MISSING_MARKS  # (importable from here, as before)
from ._columns import as_numbers, load_pandas
from ._encoders import (
    MANY_CATEGORIES,
    all_text,
    category_codes,
    fit_column,
    label_codes,
    standardised_column,
)
from ._naming import ROWS_ATTR, listed, missing_columns, plain, row_name, shortened, where
from ._numeric_block import fit_numeric, standardise_into
from ._preprocessing_state import (
    IMPUTE_STRATEGIES,
    STATE_TYPE,
    STATE_VERSION,
    TASKS,
    state_problem,
)
from ._sparse import CHUNK_BYTES, fits
from ._task import MAX_CLASSES as MAX_CLASSES  # (importable from here, as before)
from ._task import fit_target, fit_targets
from .exceptions import IncompatibleFormatError, InputError, NotFittedError

__all__ = ["ROWS_ATTR", "TabularPreprocessor"]


def _first_beyond(column: np.ndarray, dtype: np.dtype) -> int | None:
    """The first row of a standardised ``column`` that ``dtype`` cannot hold (NaN included:
    a standardisation overflowed), or None."""
    with np.errstate(invalid="ignore"):
        beyond = ~(np.abs(column) <= float(np.finfo(dtype).max))
    return int(np.argmax(beyond)) if beyond.any() else None


def _rows_of(frame: Any, rows: Any) -> Any:
    """The ``rows`` of ``frame`` (positions), its messages naming each row as ``frame``'s
    own do (its place in its file)."""
    part = frame.iloc[np.asarray(rows, dtype=np.intp)]
    positions = np.asarray(rows, dtype=np.intp)
    part.attrs = {**frame.attrs, ROWS_ATTR: lambda i: row_name(int(positions[i]), frame)}
    return part


class TabularPreprocessor:
    """Standardise numeric columns, one-hot encode the others, encode the target.

    All state is JSON-able (:meth:`to_dict` / :meth:`from_dict`) and is stored
    in the model file. See the module docstring for what is learned.

    Attributes
    ----------
    target : str or list of str
        Name of the target column; for a multi-output regression, the list of the target
        columns' names (two or more), in output order.
    task : {"classification", "regression"}
    impute : {None, "mean", "median", "most_frequent"}
    columns : list of dict
        Per feature column: name, kind ("numeric" or "categorical") and its statistics.
    classes : list or None
        Sorted class labels (classification only), in output order.
    """

    def __init__(self) -> None:
        self.target: Any = None
        self.task: str | None = None
        self.impute: str | None = None
        self.columns: list[dict[str, Any]] = []
        self.classes: list[Any] | None = None

    # ----------------------------------------------------------------- fitting
    def fit(
        self,
        df: Any,
        target: Any,
        *,
        task: str = "auto",
        impute: str | None = None,
        rows: Any = None,
    ) -> TabularPreprocessor:
        """Learn columns, statistics, task and classes from ``df``; returns self.

        Parameters
        ----------
        df : pandas.DataFrame
            Training table, including the target column.
        target : str or list of str
            Name of the target column; every other column is a feature. A list of two or
            more names makes a multi-output regression (each target numbers, none missing;
            ``task`` "auto" or "regression"); a list of one name is that name.
        task : {"auto", "classification", "regression"}
        impute : {None, "mean", "median", "most_frequent"}
            None makes any missing feature value an error.
        rows : array of int, optional
            The rows the feature columns' statistics, categories and fill values are
            learned from (the others held out for testing, as a scikit-learn pipeline is
            fitted on its training rows alone); the task and classes are learned from every
            row's target. Default: every row.
        """
        frame = self._frame(df)
        if task not in TASKS:
            raise InputError(f"task={task!r} is not one of {', '.join(TASKS)}.")
        if impute is not None and impute not in IMPUTE_STRATEGIES:
            raise InputError(
                f"impute={impute!r} is not supported; expected None or one of "
                f"{', '.join(IMPUTE_STRATEGIES)}."
            )
        several = isinstance(target, (list, tuple))
        names = [self._target_in(frame, name) for name in (target if several else [target])]
        if several and len(set(names)) < len(names):
            raise InputError(
                f"the targets {listed(names)} name a column twice; expected distinct "
                "target columns. Name each once."
            )
        several = several and len(names) > 1  # (a list of one name: that target)
        target = names if several else names[0]
        features = [name for name in frame.columns if name not in names]
        if not features:
            raise InputError(
                f"the data has only the target column(s) {listed(names)}; expected at "
                "least one feature column besides them."
            )
        if several:
            fit_targets(frame, names, task)
            task, classes = "regression", None
        else:
            task, classes = fit_target(frame[target], task)
        learned = frame if rows is None else _rows_of(frame, rows)
        # (plain numeric columns without missing values a block at a time; the same states)
        fast = fit_numeric(learned, features) if impute is None else {}
        columns = [fast.get(name) or fit_column(learned[name], impute) for name in features]
        self.target = [plain(name) for name in names] if several else plain(target)
        self.task, self.impute = task, impute
        self.columns, self.classes = columns, classes
        return self

    @staticmethod
    def _target_in(frame: Any, target: Any) -> Any:
        """``target`` as ``frame`` names the column (its text when the frame's names were
        made text); a name that is not a column is refused."""
        if target not in frame.columns and str(target) in frame.columns:
            return str(target)  # (the frame's names were made text)
        if target not in frame.columns:
            raise InputError(
                f"there is no target column {target!r}; expected one of the data's columns. "
                f"{missing_columns([target], frame.columns)}"
            )
        return target

    def fit_transform(self, df: Any, target: Any, **options: Any) -> tuple[np.ndarray, np.ndarray]:
        """Fit on ``df`` and return ``(transform(df), transform_target(df[target]))``."""
        self.fit(df, target, **options)
        names = list(target) if isinstance(target, (list, tuple)) else target
        return self.transform(df), self.transform_target(df[names])

    # ------------------------------------------------------------- transforms
    @staticmethod
    def _frame(df: Any) -> Any:
        if not isinstance(df, load_pandas().DataFrame):
            raise InputError(
                f"expected a pandas DataFrame with named columns; received {type(df).__name__}."
            )
        if len(df) == 0:
            raise InputError("the data has no rows; expected at least one.")
        if df.columns.duplicated().any():
            raise InputError(
                f"the data has duplicate column names "
                f"{list(df.columns[df.columns.duplicated()])}; rename them."
            )
        if not all(isinstance(name, str) for name in df.columns):
            # names are text, as a data file's are: a model fitted on a frame with columns
            # 0, 1, ... then reads a CSV whose header says '0', '1', ...
            renamed = df.rename(columns=str)
            if renamed.columns.duplicated().any():
                twice = list(renamed.columns[renamed.columns.duplicated()])
                raise InputError(
                    f"the data has column names that are the same as text ({twice}: 1 and "
                    "'1', say); rename them so that each is distinct as text."
                )
            df = renamed
        return df

    def _check_fitted(self) -> None:
        if self.task is None:
            raise NotFittedError("this TabularPreprocessor is not fitted; call fit(df, target).")

    def transform(self, df: Any, dtype: Any = np.float64) -> np.ndarray:
        """Return the features of ``df`` as an array of shape (n_samples, n_features_out).

        Columns are taken by name, in any order; extra columns are ignored.
        """
        self._check_fitted()
        frame = self._frame(df)
        names = self.feature_names
        lacking = [name for name in names if str(name) not in frame.columns]
        if lacking:
            raise InputError(
                f"the data lacks {len(lacking)} of the {len(names)} columns the model needs: "
                f"{listed(lacking)}. {missing_columns(lacking, frame.columns)} Add the missing "
                "ones (columns are taken by name, in any order; extra ones are ignored)."
            )
        # each column written into the output in its dtype (a float64 column cast as astype
        # casts it), checked column by column or a block of plain numeric columns at a time:
        # no float64 copy of the whole table
        floats = np.dtype(dtype).kind == "f"
        out = self._allocate(frame, np.dtype(dtype) if floats else np.dtype(np.float64))
        slow, starts = self._standardise_plain(frame, out)
        beyond = []
        for i in slow:  # (in the table's order: its warnings and first error as ever)
            state, start = self.columns[i], starts[i]
            series = frame[str(state["name"])]
            if state["kind"] == "numeric":
                column = standardised_column(series, state)
                row = _first_beyond(column, out.dtype) if floats else None
                if row is None:
                    out[:, start] = column
                else:  # (not cast: refused below)
                    beyond.append((row, start, state, column[row]))
                continue
            codes = category_codes(series, state)
            rows = np.flatnonzero(codes >= 0)
            out[rows, start + codes[rows]] = 1
        if beyond:  # (the first in the table's order, row by row)
            raise self._out_of_range(frame, *min(beyond, key=lambda b: b[:2]), out.dtype)
        return out.astype(dtype, copy=False)

    def _standardise_plain(self, frame: Any, out: np.ndarray) -> tuple[list[int], list[int]]:
        """Write the plain numeric columns of ``frame`` (:mod:`deltarule._numeric_block`) into
        ``out``, a block of columns at a time; return the indices of the columns left to
        :meth:`transform` to encode one by one (any other), in order, and where each
        column's outputs start in ``out``."""
        widths = [1 if c["kind"] == "numeric" else len(c["categories"]) for c in self.columns]
        starts = np.cumsum([0, *widths[:-1]]).tolist()
        numeric = [i for i, state in enumerate(self.columns) if state["kind"] == "numeric"]
        left = standardise_into(
            out,
            frame,
            [str(self.columns[i]["name"]) for i in numeric],
            [self.columns[i] for i in numeric],
            [starts[i] for i in numeric],
        )
        done = set(numeric) - {numeric[j] for j in left}
        return [i for i in range(len(self.columns)) if i not in done], starts

    def _allocate(self, frame: Any, dtype: np.dtype) -> np.ndarray:
        """The zeroed output of :meth:`transform`; one that would not fit in memory because
        of a categorical column is refused, naming the column with the most categories."""
        shape = (len(frame), self.n_features_out)
        widest = max(
            (c for c in self.columns if c["kind"] == "categorical"),
            key=lambda c: len(c["categories"]),
            default=None,
        )
        size = shape[0] * shape[1] * dtype.itemsize
        if widest is None or size <= CHUNK_BYTES:
            return np.zeros(shape, dtype)
        if fits(shape, dtype):
            try:
                return np.zeros(shape, dtype)
            except MemoryError:
                pass
        name, n = widest["name"], len(widest["categories"])
        python = f"drop the column (df.drop(columns={name!r}))"
        raise InputError(
            f"column {name!r} has {n:,} categories, one-hot encoded as {n:,} input columns: "
            f"the {shape[0]:,} rows would take {shape[0] * n * dtype.itemsize:,} bytes in "
            f"{dtype} for it alone ({size:,} for all {shape[1]:,} input columns), more than "
            f"half the memory available now. {python.capitalize()}, or replace it by fewer values "
            f"(hash them into a few hundred buckets, or group the rare ones): more than "
            f"{MANY_CATEGORIES:,} categories are rarely worth an input each.",
            options={python.capitalize(): f"Drop it with --drop {shlex.quote(str(name))}"},
        )

    def _out_of_range(
        self, frame: Any, row: int, start: int, state: dict, value: float, dtype: np.dtype
    ) -> InputError:
        """The error for a standardised ``value`` that ``dtype`` cannot hold (it would
        become inf), at ``row`` of the column ``state``."""
        raw = frame[state["name"]].iloc[row]
        return InputError(
            f"column {state['name']!r} holds {raw} at {row_name(row, frame)}: {value:.3g} "
            f"standard deviations from the training data's mean ({state['mean']:.4g}, std "
            f"{state['std']:.4g}), beyond what {dtype} can hold; expected values on the "
            "training data's scale. Check that row (a typing or unit error?)."
        )

    def transform_target(self, y: Any) -> np.ndarray:
        """Encode targets: one-hot (one 0/1 column for two classes) or a float column.

        Parameters
        ----------
        y : pandas.Series or array-like of shape (n_samples,)
            The target column; for several targets (:attr:`target` a list), a DataFrame
            holding the target columns by name, or an array of shape
            (n_samples, n_targets) in :attr:`target`'s order.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
            For a regression, the targets as floats, one column per target.
        """
        self._check_fitted()
        if self.several_targets:
            return self._transform_targets(y)
        series = load_pandas().Series(y).reset_index(drop=True).rename(self.target)
        series.attrs.update(getattr(y, "attrs", {}))  # the rows' places in their file
        if series.isna().any():
            raise InputError(
                f"the target {self.target!r} is missing a value at "
                f"{where(series.isna(), series)}; every row needs a target."
            )
        if self.task == "regression":
            return as_numbers(series, f"the target {self.target!r}", "").to_numpy()[:, None]
        codes = label_codes(series.astype(object), self.classes)
        unseen = codes < 0
        if unseen.any():
            # (refused rather than scored as wrong: log loss and the confusion matrix have
            # no place for a class the model does not know, so scikit-learn's log_loss
            # refuses it too, and a half-scored file would hide it)
            labels = series[unseen].astype(object).map(plain).unique()
            raise InputError(
                f"the target label {shortened(plain(series[unseen].iloc[0]))} at "
                f"{where(unseen, series)} "
                f"was not seen in training ({int(unseen.sum())} row(s) hold labels the model "
                f"does not know: {listed(labels, limit=5)}); the model knows "
                f"{listed(self.classes, limit=20)}. It cannot predict those classes: drop "
                "those rows to score the others, or retrain on data that has them."
            )
        if len(self.classes) == 2:
            return (codes == 1).astype(np.float64)[:, None]
        return np.eye(len(self.classes))[codes]

    def inverse_target(self, outputs: Any) -> np.ndarray:
        """Turn network outputs back into labels (argmax, or > 0.5 for two classes) or values.

        Parameters
        ----------
        outputs : array-like of shape (n_samples, n_outputs)

        Returns
        -------
        ndarray of shape (n_samples,), or (n_samples, n_targets) for several targets
        """
        self._check_fitted()
        out = np.asarray(outputs, dtype=np.float64)
        out = out[:, None] if out.ndim == 1 else out
        if out.ndim != 2 or out.shape[1] != self.n_outputs:
            raise InputError(
                f"outputs have shape {out.shape}; expected (n_samples, {self.n_outputs})."
            )
        if self.task == "regression":
            return out if self.several_targets else out[:, 0]
        index = (out[:, 0] > 0.5).astype(int) if len(self.classes) == 2 else out.argmax(axis=1)
        return np.asarray(self.classes)[index]

    def _transform_targets(self, y: Any) -> np.ndarray:
        """The several targets of a multi-output regression as floats, shape (n_samples,
        n_targets): each column checked as a single target's (none missing, numbers)."""
        pd = load_pandas()
        names = self.target_names
        if not isinstance(y, pd.DataFrame):
            values = np.asarray(y, dtype=object)
            if values.ndim != 2 or values.shape[1] != len(names):
                raise InputError(
                    f"the targets have shape {values.shape}; expected a table of the "
                    f"{len(names)} target columns {listed(names)} (shape (n_samples, "
                    f"{len(names)})). Pass df[{names!r}]."
                )
            y = pd.DataFrame(values, columns=[str(name) for name in names])
            names = [str(name) for name in names]
        frame = self._frame(y)
        lacking = [name for name in names if str(name) not in frame.columns]
        if lacking:
            raise InputError(
                f"the data lacks the target column(s) {listed(lacking)} of the "
                f"{len(names)} targets {listed(names)}. "
                f"{missing_columns(lacking, frame.columns)}"
            )
        columns = []
        for name in names:
            series = frame[str(name)].reset_index(drop=True)
            series.attrs.update(frame.attrs)  # the rows' places in their file
            if series.isna().any():
                raise InputError(
                    f"the target {name!r} is missing a value at "
                    f"{where(series.isna(), series)}; every row needs a target."
                )
            columns.append(as_numbers(series, f"the target {name!r}", "").to_numpy())
        return np.column_stack(columns).astype(np.float64, copy=False)

    # ------------------------------------------------------------- properties
    @property
    def several_targets(self) -> bool:
        """Whether the model has several targets (a multi-output regression)."""
        return isinstance(self.target, list)

    @property
    def target_names(self) -> list[Any]:
        """The target columns' names, in output order: one for a single target."""
        return list(self.target) if self.several_targets else [self.target]

    @property
    def feature_names(self) -> list[Any]:
        """The input columns the model needs, in order."""
        return [column["name"] for column in self.columns]

    @property
    def output_names(self) -> list[str]:
        """Names of the columns :meth:`transform` returns ("age", "pet=cat", ...)."""
        return [
            str(c["name"]) if c["kind"] == "numeric" else f"{c['name']}={category}"
            for c in self.columns
            for category in (c.get("categories") or [None])
        ]

    @property
    def output_positions(self) -> dict[str, list[int]]:
        """Which columns of :meth:`transform`'s output each feature column makes, by its
        name (as text): a numeric column's one (filled and standardised, no missing-value
        indicator), a categorical column's one-hot block. Each output depends on its
        column's value in the same row alone, so shuffling a column's rows and encoding
        equals encoding and shuffling the rows of its outputs."""
        positions, start = {}, 0
        for column in self.columns:
            width = 1 if column["kind"] == "numeric" else len(column["categories"])
            positions[str(column["name"])] = list(range(start, start + width))
            start += width
        return positions

    @property
    def text_columns(self) -> list[Any]:
        """The columns whose values are text labels: categorical columns whose categories
        are all text and, for classification with text class labels, the target.

        A file should give them as text, exactly as written (:func:`deltarule.io.read_table`'s
        ``text_columns``): read as numbers, ``01`` would be ``1``, a category never seen.
        """
        self._check_fitted()
        names = [
            column["name"]
            for column in self.columns
            if column["kind"] == "categorical" and all_text(column["categories"])
        ]
        return names + ([self.target] if all_text(self.classes or []) else [])

    @property
    def n_features_out(self) -> int:
        """Width of :meth:`transform`'s output (the network's n_inputs)."""
        return len(self.output_names)

    @property
    def n_outputs(self) -> int:
        """Width of :meth:`transform_target`'s output (the network's n_outputs)."""
        self._check_fitted()
        if self.task == "regression":
            return len(self.target) if self.several_targets else 1
        return 1 if len(self.classes) == 2 else len(self.classes)

    # ------------------------------------------------------------------- state
    def to_dict(self) -> dict[str, Any]:
        """Return the fitted state as plain JSON data."""
        self._check_fitted()
        return {
            "type": STATE_TYPE,
            "version": STATE_VERSION,
            "target": self.target,
            "task": self.task,
            "impute": self.impute,
            "classes": self.classes,
            "columns": [dict(c) for c in self.columns],
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> TabularPreprocessor:
        """Rebuild a preprocessor from :meth:`to_dict` output (e.g. read from a model file).

        Raises
        ------
        IncompatibleFormatError
            Naming the first problem found: an unknown type or version, an unknown task or
            imputation, a column that is not a valid numeric or categorical one, two columns
            of one name, or classes that are not two or more distinct labels.
        """
        problem = state_problem(state)
        if problem is not None:
            raise IncompatibleFormatError(
                f"the preprocessing state is malformed or of an unknown version: {problem}. "
                "It was changed after it was saved, or written by another version of "
                "deltarule; retrain the model (deltarule train)."
            )
        new = cls()
        target = state["target"]
        new.target = list(target) if isinstance(target, list) else target
        new.task, new.impute = state["task"], state["impute"]
        new.classes = None if state["classes"] is None else list(state["classes"])
        new.columns = [dict(c) for c in state["columns"]]
        return new
