"""Tabular preprocessing that travels inside the model file.

:class:`TabularPreprocessor` turns a table of named columns into the numbers
a network needs, and its outputs back into labels, with state that is plain
JSON (so a model file stays data). What it learns in :meth:`~TabularPreprocessor.fit`:

* the feature columns, by name and order (every column except the target);
* numeric columns: mean and standard deviation, to standardise
  :math:`x' = (x - \\mu) / \\sigma` (a constant column gets :math:`\\sigma = 1`);
* text, categorical and boolean columns: their sorted categories, one-hot
  encoded; a category never seen in training becomes an all-zero row;
* the task: "classification" for text or boolean targets and integer targets
  with few distinct values (at most 20, and at most half the rows),
  "regression" otherwise; and, for classification, the sorted class labels;
* missing values are an error by default; ``impute="mean"``, ``"median"`` or
  ``"most_frequent"`` fills numeric columns with that statistic of the
  training data (categorical columns always with their most frequent value),
  and standardisation is then learned on the filled column.

Text categories and class labels are matched as text (a later file's ``1``, or ``1.0``,
is the category ``'1'``), and :attr:`~TabularPreprocessor.text_columns` names the columns
a reader should keep as text (``01`` read as a number would be ``1``, never seen). Errors
and warnings name the row they are about; the line of its file when the table carries a
row namer under :data:`ROWS_ATTR` (tables from :func:`deltarule.io.read_table` do).

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

import math
import warnings
from typing import Any

import numpy as np

from ._reports import user_stacklevel
from .exceptions import DataWarning, IncompatibleFormatError, InputError, NotFittedError

__all__ = ["ROWS_ATTR", "TabularPreprocessor"]

TASKS = ("auto", "classification", "regression")
IMPUTE_STRATEGIES = ("mean", "median", "most_frequent")
MAX_CLASSES = 20
_STATE_TYPE, _STATE_VERSION = "tabular", 1
_WAS_NUMERIC = "The column held numbers when the model was trained; fix the value."
ROWS_ATTR = "deltarule.rows"
"""Key of ``DataFrame.attrs`` under which a table read from a file may carry a function
naming its row ``i`` (counted from 0) for messages, e.g. ``"line 7 of 'data.csv' (data
row 5)"`` (:func:`deltarule.io.read_table` puts one there); without it, rows are numbered."""
_SHOWN = 10  # column names a message lists before "... and N more"


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - pandas is installed with deltarule[cli]
        raise ImportError(
            "tabular preprocessing needs pandas; install it with pip install 'deltarule[cli]'"
        ) from exc
    return pandas


def _python(value: Any) -> Any:
    """Return a NumPy scalar as the plain Python value (JSON-able)."""
    return value.item() if isinstance(value, np.generic) else value


def _sorted(values: Any) -> list[Any]:
    values = [_python(v) for v in values]
    try:
        return sorted(values)
    except TypeError:  # mixed types in one column
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def _row(row: int, like: Any) -> str:
    """Row ``row`` (counted from 0) of the table ``like`` came from, for a message."""
    name_row = getattr(like, "attrs", {}).get(ROWS_ATTR)
    return name_row(row) if callable(name_row) else f"row {row + 1} (rows counted from 1)"


def _where(mask: Any, like: Any) -> str:
    """The first row where ``mask`` is true, in the table ``like`` came from."""
    return _row(int(np.flatnonzero(np.asarray(mask))[0]), like)


def listed(names: Any, limit: int = _SHOWN) -> str:
    """Column names for a message: the first ``limit`` quoted, then how many more.

    Examples
    --------
    >>> listed(["a", "b", "c"], limit=2)
    "'a', 'b' ... and 1 more"
    """
    names = list(names)
    shown = ", ".join(repr(_python(name)) for name in names[:limit])
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


def _missing_error(series: Any, mask: Any, fitted: bool = False) -> InputError:
    fix = (
        "the model was trained without imputation, so fill them in or drop those rows (or "
        "retrain with impute=... / --impute)"
        if fitted
        else "fill them in, drop those rows, or impute them with impute='mean', 'median' or "
        "'most_frequent' (--impute on the command line)"
    )
    return InputError(
        f"column {series.name!r} has {int(mask.sum())} missing value(s), the first at "
        f"{_where(mask, series)}; expected a value in every row: {fix}."
    )


def missing_columns(lacking: Any, present: Any) -> str:
    """The sentence after "the data lacks ...": look-alike names, else the data's columns."""
    present = list(present)
    return lookalikes(lacking, present) or f"The data has columns {listed(present)}."


def _all_text(labels: list[Any]) -> bool:
    return bool(labels) and all(isinstance(label, str) for label in labels)


def _whole_float(value: Any) -> bool:
    return isinstance(value, (float, np.floating)) and float(value).is_integer()


def _codes(values: Any, labels: list[Any]) -> np.ndarray:
    """Positions of ``values`` (an object Series) among ``labels``, -1 where absent.

    Text labels are matched as text, so that values read as numbers still match: ``1``
    matches ``'1'``, and so does ``1.0`` (a whole number stored as a float, as pandas does
    for a column of integers with a gap, or an array).
    """
    index = _pandas().Index(labels, dtype=object)
    if not _all_text(labels):
        return index.get_indexer(values)
    codes = index.get_indexer(values.map(str))
    whole = np.asarray((codes < 0) & values.map(_whole_float), dtype=bool)
    if whole.any():
        codes[whole] = index.get_indexer(values[whole].map(lambda value: str(int(value))))
    return codes


def _most_frequent(series: Any) -> Any:
    """The most frequent value (the smallest one on ties, like ``Series.mode()[0]``)."""
    counts = series.value_counts()
    return _sorted(counts.index[counts == counts.max()])[0]


def _is_numeric(series: Any) -> bool:
    types = _pandas().api.types
    if types.is_datetime64_any_dtype(series) or types.is_timedelta64_dtype(series):
        raise InputError(
            f"column {series.name!r} holds dates or times; expected numbers or "
            "text. Convert it to numbers first (e.g. year, day of week)."
        )
    return types.is_numeric_dtype(series) and not types.is_bool_dtype(series)


def _as_numbers(series: Any, what: str, fix: str) -> Any:
    """Return ``series`` as floats; text, True/False or infinity in it is an error naming
    the first offending row."""
    like = series  # the table's column, which knows the rows' places in the file
    if not _is_numeric(series):
        cells = series.astype(object)
        truth = cells.map(lambda value: isinstance(value, (bool, np.bool_)))
        if truth.any():  # pandas would count True as 1
            raise InputError(
                f"{what} holds {cells[truth].iloc[0]!r} at {_where(truth, like)}; expected "
                f"numbers, not True/False. {fix}"
            )
        numbers = _pandas().to_numeric(cells, errors="coerce")
        bad = numbers.isna() & series.notna()
        if bad.any():
            raise InputError(
                f"{what} holds text ({series[bad].iloc[0]!r} at {_where(bad, like)}); "
                f"expected numbers. {fix}"
            )
        series = numbers
    values = series.astype(float)
    if np.isinf(values).any():
        raise InputError(
            f"{what} holds infinity at {_where(np.isinf(values), like)}; expected finite "
            "numbers. Replace it with a number, or leave the cell empty and impute it."
        )
    return values


def _refuse_stray_text(series: Any, present: Any) -> None:
    """Refuse a column of numbers with a few text cells (a typo, or a missing-value mark such
    as '?'): it would silently become one category per distinct number."""
    numbers = _pandas().to_numeric(present, errors="coerce")
    text = numbers.isna()
    n_text, n_numbers = int(text.sum()), int((~text).sum())
    if not 0 < n_text <= max(1, len(present) // 20) or numbers.nunique() < 10:
        return
    first = present[text]
    raise InputError(
        f"column {series.name!r} holds numbers in {n_numbers} rows but text in {n_text}, the "
        f"first {first.iloc[0]!r} at {_where(series.index == first.index[0], series)}; expected "
        "numbers throughout. Fix those cells; if they mark missing values, leave them empty "
        "(and impute them: impute=..., or --impute on the command line)."
    )


def _fit_column(series: Any, impute: str | None) -> dict[str, Any]:
    missing = series.isna()
    if missing.all():
        raise InputError(f"column {series.name!r} has no values at all; drop it from the data.")
    if missing.any() and impute is None:
        raise _missing_error(series, missing)
    if not _is_numeric(series):
        present = series[~missing].astype(object)
        _refuse_stray_text(series, present)
        fill = _most_frequent(present) if impute else None
        return {
            "name": _python(series.name),
            "kind": "categorical",
            "categories": _sorted(present.unique()),
            "fill": fill,
        }
    values = _as_numbers(series, f"column {series.name!r}", "")
    fill = None
    if impute is not None:
        present = values[~missing]
        stat = {"mean": present.mean, "median": present.median}.get(impute)
        fill = float(stat() if stat else _most_frequent(present))
        values = values.fillna(fill)
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = float(values.mean()), float(values.std(ddof=0))
        if not (np.isfinite(mean) and np.isfinite(std)):  # squares (or sums) past float64
            scale = float(values.abs().max())
            mean, std = (
                scale * float((values / scale).mean()),
                scale * float((values / scale).std(ddof=0)),
            )
    return {
        "name": _python(series.name),
        "kind": "numeric",
        "mean": mean,
        "std": std if std > 0 and np.isfinite(std) else 1.0,
        "fill": fill,
    }


def _fit_target(series: Any, task: str) -> tuple[str, list[Any] | None]:
    """Return the task and (for classification) the sorted class labels."""
    missing = series.isna()
    if missing.any():
        raise InputError(
            f"the target column {series.name!r} is missing a value at "
            f"{_where(missing, series)}; every row needs a target. Drop those "
            "rows or fill them in."
        )
    task = _detect_task(series) if task == "auto" else task
    if task == "regression":
        _as_numbers(
            series,
            f"the target {series.name!r}",
            "Regression needs numeric targets; for labels pass task='classification' "
            "(--task classification on the command line).",
        )
        return task, None
    classes = _sorted(series.astype(object).unique())
    if len(classes) < 2:
        raise InputError(
            f"the target {series.name!r} has a single class ({classes[0]!r}); "
            "classification needs at least two. Check the target column, or "
            "pass task='regression' (--task regression on the command line)."
        )
    return task, classes


def _detect_task(series: Any) -> str:
    types = _pandas().api.types
    if not _is_numeric(series):
        return "classification"
    if types.is_integer_dtype(series):
        distinct = series.nunique()
        if distinct <= MAX_CLASSES and distinct <= len(series) / 2:
            return "classification"
    return "regression"


class TabularPreprocessor:
    """Standardise numeric columns, one-hot encode the others, encode the target.

    All state is JSON-able (:meth:`to_dict` / :meth:`from_dict`) and is stored
    in the model file. See the module docstring for what is learned.

    Attributes
    ----------
    target : str
        Name of the target column.
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
        self, df: Any, target: Any, *, task: str = "auto", impute: str | None = None
    ) -> TabularPreprocessor:
        """Learn columns, statistics, task and classes from ``df``; returns self.

        Parameters
        ----------
        df : pandas.DataFrame
            Training table, including the target column.
        target : str
            Name of the target column; every other column is a feature.
        task : {"auto", "classification", "regression"}
        impute : {None, "mean", "median", "most_frequent"}
            None makes any missing feature value an error.
        """
        frame = self._frame(df)
        if task not in TASKS:
            raise InputError(f"task={task!r} is not one of {', '.join(TASKS)}.")
        if impute is not None and impute not in IMPUTE_STRATEGIES:
            raise InputError(
                f"impute={impute!r} is not supported; expected None or one of "
                f"{', '.join(IMPUTE_STRATEGIES)}."
            )
        if target not in frame.columns:
            raise InputError(
                f"there is no target column {target!r}; expected one of the data's columns. "
                f"{missing_columns([target], frame.columns)}"
            )
        features = [name for name in frame.columns if name != target]
        if not features:
            raise InputError(
                f"the data has only the target column {target!r}; expected at "
                "least one feature column besides it."
            )
        task, classes = _fit_target(frame[target], task)
        columns = [_fit_column(frame[name], impute) for name in features]
        self.target, self.task, self.impute = _python(target), task, impute
        self.columns, self.classes = columns, classes
        return self

    def fit_transform(self, df: Any, target: Any, **options: Any) -> tuple[np.ndarray, np.ndarray]:
        """Fit on ``df`` and return ``(transform(df), transform_target(df[target]))``."""
        self.fit(df, target, **options)
        return self.transform(df), self.transform_target(df[target])

    # ------------------------------------------------------------- transforms
    @staticmethod
    def _frame(df: Any) -> Any:
        if not isinstance(df, _pandas().DataFrame):
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
        lacking = [name for name in names if name not in frame.columns]
        if lacking:
            raise InputError(
                f"the data lacks {len(lacking)} of the {len(names)} columns the model needs: "
                f"{listed(lacking)}. {missing_columns(lacking, frame.columns)} Add the missing "
                "ones (columns are taken by name, in any order; extra ones are ignored)."
            )
        blocks = [self._transform_column(frame[c["name"]], c) for c in self.columns]
        out = np.concatenate(blocks, axis=1)
        if np.dtype(dtype).kind == "f":
            self._check_range(frame, blocks, out, np.dtype(dtype))
        return out.astype(dtype, copy=False)

    def _check_range(
        self, frame: Any, blocks: list[np.ndarray], out: np.ndarray, dtype: np.dtype
    ) -> None:
        """Refuse standardised values that ``dtype`` cannot hold (they would become inf)."""
        limit = float(np.finfo(dtype).max)
        with np.errstate(invalid="ignore"):
            beyond = ~(np.abs(out) <= limit)
        if not beyond.any():
            return
        row, col = (int(i) for i in np.argwhere(beyond)[0])
        ends = np.cumsum([block.shape[1] for block in blocks])
        state = self.columns[int(np.searchsorted(ends, col, side="right"))]
        raw = frame[state["name"]].iloc[row]
        raise InputError(
            f"column {state['name']!r} holds {raw} at {_row(row, frame)}: {out[row, col]:.3g} "
            f"standard deviations from the training data's mean ({state['mean']:.4g}, std "
            f"{state['std']:.4g}), beyond what {dtype} can hold; expected values on the "
            "training data's scale. Check that row (a typing or unit error?)."
        )

    def _transform_column(self, series: Any, state: dict[str, Any]) -> np.ndarray:
        missing = series.isna()
        if missing.any() and state["fill"] is None:
            raise _missing_error(series, missing, fitted=True)
        if state["kind"] == "numeric":
            values = _as_numbers(series, f"column {series.name!r}", _WAS_NUMERIC)
            values = values.fillna(state["fill"]) if missing.any() else values
            return ((values.to_numpy() - state["mean"]) / state["std"])[:, None]
        values = series.astype(object).where(~missing, state["fill"])
        codes = _codes(values, state["categories"])
        unseen = codes < 0
        if unseen.any():
            warnings.warn(
                f"column {series.name!r} has {int(unseen.sum())} value(s) not seen in training, "
                f"the first {_python(values[unseen].iloc[0])!r} at {_where(unseen, series)}; "
                "they are "
                f"encoded as none of its {len(state['categories'])} categories, so their "
                "predictions are guesses. Check the spelling, or retrain with such rows.",
                DataWarning,
                stacklevel=user_stacklevel(),
            )
        onehot = np.zeros((len(values), len(state["categories"])))
        rows = np.flatnonzero(codes >= 0)
        onehot[rows, codes[rows]] = 1.0
        return onehot

    def transform_target(self, y: Any) -> np.ndarray:
        """Encode targets: one-hot (one 0/1 column for two classes) or a float column."""
        self._check_fitted()
        series = _pandas().Series(y).reset_index(drop=True).rename(self.target)
        series.attrs.update(getattr(y, "attrs", {}))  # the rows' places in their file
        if series.isna().any():
            raise InputError(
                f"the target {self.target!r} is missing a value at "
                f"{_where(series.isna(), series)}; every row needs a target."
            )
        if self.task == "regression":
            return _as_numbers(series, f"the target {self.target!r}", "").to_numpy()[:, None]
        codes = _codes(series.astype(object), self.classes)
        if (codes < 0).any():
            raise InputError(
                f"the target label {_python(series[codes < 0].iloc[0])!r} at "
                f"{_where(codes < 0, series)} was not seen in training; the model "
                f"knows {listed(self.classes, limit=20)}."
            )
        if len(self.classes) == 2:
            return (codes == 1).astype(np.float64)[:, None]
        return np.eye(len(self.classes))[codes]

    def inverse_target(self, outputs: Any) -> np.ndarray:
        """Turn network outputs back into labels (argmax, or > 0.5 for two classes) or values."""
        self._check_fitted()
        out = np.asarray(outputs, dtype=np.float64)
        out = out[:, None] if out.ndim == 1 else out
        if out.ndim != 2 or out.shape[1] != self.n_outputs:
            raise InputError(
                f"outputs have shape {out.shape}; expected (n_samples, {self.n_outputs})."
            )
        if self.task == "regression":
            return out[:, 0]
        index = (out[:, 0] > 0.5).astype(int) if len(self.classes) == 2 else out.argmax(axis=1)
        return np.asarray(self.classes)[index]

    # ------------------------------------------------------------- properties
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
            if column["kind"] == "categorical" and _all_text(column["categories"])
        ]
        return names + ([self.target] if _all_text(self.classes or []) else [])

    @property
    def n_features_out(self) -> int:
        """Width of :meth:`transform`'s output (the network's n_inputs)."""
        return len(self.output_names)

    @property
    def n_outputs(self) -> int:
        """Width of :meth:`transform_target`'s output (the network's n_outputs)."""
        self._check_fitted()
        if self.task == "regression":
            return 1
        return 1 if len(self.classes) == 2 else len(self.classes)

    # ------------------------------------------------------------------- state
    def to_dict(self) -> dict[str, Any]:
        """Return the fitted state as plain JSON data."""
        self._check_fitted()
        return {
            "type": _STATE_TYPE,
            "version": _STATE_VERSION,
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
        problem = _state_problem(state)
        if problem is not None:
            raise IncompatibleFormatError(
                f"the preprocessing state is malformed or of an unknown version: {problem}. "
                "It was changed after it was saved, or written by another version of "
                "deltarule; retrain the model (deltarule train)."
            )
        new = cls()
        new.target, new.task, new.impute = state["target"], state["task"], state["impute"]
        new.classes = None if state["classes"] is None else list(state["classes"])
        new.columns = [dict(c) for c in state["columns"]]
        return new


def _state_problem(state: Any) -> str | None:
    """What is wrong with a :meth:`TabularPreprocessor.to_dict` state, or None."""
    if not isinstance(state, dict):
        return f"expected a JSON object, received {type(state).__name__}"
    keys = {"type", "version", "target", "task", "impute", "classes", "columns"}
    if not keys <= set(state):
        return f"missing {', '.join(sorted(keys - set(state)))}"
    if (state["type"], state["version"]) != (_STATE_TYPE, _STATE_VERSION):
        return (
            f"type {state['type']!r} version {state['version']!r}, expected "
            f"{_STATE_TYPE!r} version {_STATE_VERSION}"
        )
    if state["task"] not in TASKS[1:]:
        return f"task {state['task']!r} is not 'classification' or 'regression'"
    if state["impute"] not in (None, *IMPUTE_STRATEGIES):
        return f"impute {state['impute']!r} is not one of {', '.join(IMPUTE_STRATEGIES)} or null"
    columns = state["columns"]
    if not isinstance(columns, list) or not columns:
        return "no columns"
    for i, column in enumerate(columns):
        if not _valid_column(column):
            return (
                f"column {i + 1} ({str(column)[:80]}) is not a valid numeric or categorical "
                f"one{_categories_problem(column)}"
            )
    names = [column["name"] for column in columns]
    twice = sorted({repr(n) for n in names if names.count(n) > 1})
    if twice:
        return f"two columns are named {', '.join(twice)}"
    if not _column_name(state["target"]):
        return f"the target {state['target']!r} is not a column name (text or an integer)"
    if state["target"] in names:
        return f"the target {state['target']!r} is also a feature column"
    classes = state["classes"]
    if state["task"] == "regression":
        return None if classes is None else "a regression model with classes"
    if not (isinstance(classes, list) and all(_scalar(c) for c in classes)):
        return "a classification model without a list of class labels"
    if len(classes) < 2 or not _distinct(classes):
        return f"classes {classes!r:.80} are not two or more distinct labels"
    return None


def _categories_problem(column: Any) -> str:
    """Why a categorical column's categories are unusable, when that is why ("" if not)."""
    categories = column.get("categories") if isinstance(column, dict) else None
    if not isinstance(categories, list) or not all(_scalar(c) for c in categories):
        return ""
    if not categories:
        return ": it has no categories"
    if not _distinct(categories):
        twice = next(c for i, c in enumerate(categories) if c in categories[:i])
        return f": the category {twice!r} appears twice"
    if column.get("fill") is not None and column["fill"] not in categories:
        return f": its fill value {column['fill']!r} is not one of its categories"
    return ""


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, bool)) or _finite_float(value)


def _distinct(labels: list[Any]) -> bool:
    """No two labels equal, as a lookup sees them (1, 1.0 and True are one key)."""
    return len(set(labels)) == len(labels)


def _column_name(name: Any) -> bool:
    return isinstance(name, (str, int)) and not isinstance(name, bool)


def _finite_float(value: Any) -> bool:
    return isinstance(value, float) and math.isfinite(value)


def _valid_column(column: Any) -> bool:
    if not (isinstance(column, dict) and {"name", "kind", "fill"} <= set(column)):
        return False
    if not _column_name(column["name"]):
        return False
    if column["kind"] == "numeric":
        return (
            _finite_float(column.get("mean"))
            and _finite_float(column.get("std"))
            and column["std"] > 0
            and (column["fill"] is None or _finite_float(column["fill"]))
        )
    categories = column.get("categories")
    return (
        column["kind"] == "categorical"
        and isinstance(categories, list)
        and bool(categories)
        and all(_scalar(c) for c in categories)
        and _distinct(categories)
        and (column["fill"] is None or column["fill"] in categories)
    )
