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

import re
import warnings
from typing import Any

import numpy as np

from ._naming import ROWS_ATTR, listed, missing_columns, plain, row_name, where
from ._preprocessing_state import (
    IMPUTE_STRATEGIES,
    STATE_TYPE,
    STATE_VERSION,
    TASKS,
    state_problem,
)
from ._reports import user_stacklevel
from .exceptions import DataWarning, IncompatibleFormatError, InputError, NotFittedError

__all__ = ["ROWS_ATTR", "TabularPreprocessor"]

MAX_CLASSES = 20
_WAS_NUMERIC = "The column held numbers when the model was trained; fix the value."


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - pandas is installed with deltarule[cli]
        raise ImportError(
            "tabular preprocessing needs pandas; install it with pip install 'deltarule[cli]'"
        ) from exc
    return pandas


def _sorted(values: Any) -> list[Any]:
    values = [plain(v) for v in values]
    try:
        return sorted(values)
    except TypeError:  # mixed types in one column
        return sorted(values, key=lambda v: (type(v).__name__, str(v)))


def _missing_error(series: Any, mask: Any, fitted: bool = False) -> InputError:
    python, option = (
        ("impute=... / --impute", "--impute")
        if fitted
        else (
            "impute='mean', 'median' or 'most_frequent' (--impute on the command line)",
            "--impute mean, median or most_frequent",
        )
    )
    fix = (
        "the model was trained without imputation, so fill them in or drop those rows (or "
        f"retrain with {python})"
        if fitted
        else f"fill them in, drop those rows, or impute them with {python}"
    )
    marks = series.attrs.get(_MARKS_ATTR)
    written = f" (empty, or marked {', '.join(map(repr, marks))})" if marks else ""
    return InputError(
        f"column {series.name!r} has {int(mask.sum())} missing value(s){written}, the first at "
        f"{where(mask, series)}; expected a value in every row: {fix}.",
        options={python: option},
    )


def _all_text(labels: list[Any]) -> bool:
    return bool(labels) and all(isinstance(label, str) for label in labels)


def _whole_float(value: Any) -> bool:
    return isinstance(value, (float, np.floating)) and float(value).is_integer()


_TRUTHS = {"true": True, "t": True, "yes": True, "y": True, "1": True,
           "false": False, "f": False, "no": False, "n": False, "0": False}  # fmt: skip
"""How other programs write a boolean (R's TRUE, Excel's true, 1/0), for columns that held
True/False in training."""


def _as_truth(value: Any) -> Any:
    """``value`` as True/False when it spells one (:data:`_TRUTHS`, or the number 1 or 0);
    else as it is (unseen: warned about by the caller)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return _TRUTHS.get(value.strip().lower(), value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    return value


def _codes(values: Any, labels: list[Any]) -> np.ndarray:
    """Positions of ``values`` (an object Series) among ``labels``, -1 where absent.

    Text labels are matched as text, so that values read as numbers still match: ``1``
    matches ``'1'``, and so does ``1.0`` (a whole number stored as a float, as pandas does
    for a column of integers with a gap, or an array).
    """
    index = _pandas().Index(labels, dtype=object)
    if labels and all(isinstance(label, (bool, np.bool_)) for label in labels):
        return index.get_indexer(values.map(_as_truth))
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


def _as_numbers(series: Any, what: str, fix: str, options: dict[str, str] | None = None) -> Any:
    """Return ``series`` as floats; text, True/False or infinity in it is an error naming
    the first offending row (``options``: ``fix``'s phrases in the command line's spelling,
    see :class:`~deltarule.exceptions.InputError`)."""
    like = series  # the table's column, which knows the rows' places in the file
    if not _is_numeric(series):
        cells = series.astype(object)
        truth = cells.map(lambda value: isinstance(value, (bool, np.bool_)))
        if truth.any():  # pandas would count True as 1
            raise InputError(
                f"{what} holds {cells[truth].iloc[0]!r} at {where(truth, like)}; expected "
                f"numbers, not True/False. {fix}",
                options=options,
            )
        numbers = _pandas().to_numeric(cells, errors="coerce")
        bad = numbers.isna() & series.notna()
        if bad.any():
            raise InputError(
                f"{what} holds text ({series[bad].iloc[0]!r} at {where(bad, like)}); "
                f"expected numbers. {fix}",
                options=options,
            )
        series = numbers
    values = series.astype(float)
    if np.isinf(values).any():
        raise InputError(
            f"{what} holds infinity at {where(np.isinf(values), like)}; expected finite "
            "numbers. Replace it with a number, or leave the cell empty and impute it."
        )
    return values


MISSING_MARKS = frozenset(
    {"?", "-", "--", ".", "na", "n/a", "#n/a", "nan", "null", "none", "nil", "missing"}
)
"""Cells that mark a missing value in a column of numbers (compared without case or
surrounding spaces): R's and Weka's ``?`` and ``NA``, a spreadsheet's ``#N/A``, a dash."""
_MARKS_ATTR = "deltarule.marks"  # (a column's attrs: the marks read as missing, for messages)


def _marks_as_missing(series: Any) -> Any:
    """A column of numbers whose other cells are all missing-value marks
    (:data:`MISSING_MARKS`): as numbers, those cells missing. Any other column as it is
    (a '?' among text stays a category)."""
    if _is_numeric(series):
        return series
    cells = series.astype(object)
    marks = cells.map(lambda v: isinstance(v, str) and v.strip().lower() in MISSING_MARKS)
    if not marks.any():
        return series
    rest = cells[~marks & cells.notna()]
    if rest.empty or rest.map(lambda v: isinstance(v, (bool, np.bool_))).any():
        return series
    numbers = _pandas().to_numeric(rest, errors="coerce")
    if numbers.isna().any():  # other text too: not a column of numbers
        return series
    out = _pandas().to_numeric(cells.where(~marks), errors="coerce")
    out.attrs = {**series.attrs, _MARKS_ATTR: sorted(set(cells[marks]))}
    return out


def _refuse_stray_text(series: Any, present: Any) -> None:
    """Refuse a column mostly of numbers with some text cells (a typo, or a missing-value
    mark other than :data:`MISSING_MARKS`): it would silently become one category per
    distinct number."""
    numbers = _pandas().to_numeric(present, errors="coerce")
    text = numbers.isna()
    n_text, n_numbers = int(text.sum()), int((~text).sum())
    if not 0 < n_text <= n_numbers or numbers.nunique() < 10:
        return
    first = present[text]
    python = "impute=..., or --impute on the command line"
    raise InputError(
        f"column {series.name!r} holds numbers in {n_numbers} rows but text in {n_text}, the "
        f"first {first.iloc[0]!r} at {where(series.index == first.index[0], series)}; expected "
        "numbers throughout. Fix those cells; if they mark missing values, leave them empty "
        f"or write one of {', '.join(sorted(MISSING_MARKS))} (and impute them: {python}).",
        options={python: "--impute"},
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
            "name": plain(series.name),
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
        "name": plain(series.name),
        "kind": "numeric",
        "mean": mean,
        "std": std if std > 0 and np.isfinite(std) else 1.0,
        "fill": fill,
    }


_REGRESSION = "task='regression' (--task regression on the command line)"
_CLASSIFICATION = "task='classification' (--task classification)"
_TASK_OPTIONS = {_REGRESSION: "--task regression", _CLASSIFICATION: "--task classification"}
"""The advice of the task errors below, in Python's and the command line's spelling."""


def _fit_target(series: Any, task: str) -> tuple[str, list[Any] | None]:
    """Return the task and (for classification) the sorted class labels."""
    missing = series.isna()
    if missing.any():
        raise InputError(
            f"the target column {series.name!r} is missing a value at "
            f"{where(missing, series)}; every row needs a target. Drop those "
            "rows or fill them in."
        )
    detected = task == "auto"
    task = _detect_task(series) if detected else task
    if task == "regression":
        python = "task='classification' (--task classification on the command line)"
        _as_numbers(
            series,
            f"the target {series.name!r}",
            f"Regression needs numeric targets; for labels pass {python}.",
            options={python: "--task classification"},
        )
        return task, None
    classes = _sorted(series.astype(object).unique())
    if detected and len(classes) > MAX_CLASSES and len(classes) > len(series) / 2:
        raise InputError(_too_many_classes(series, classes), options=_TASK_OPTIONS)
    if len(classes) < 2:
        raise InputError(
            f"the target {series.name!r} has a single class ({classes[0]!r}); "
            f"classification needs at least two. Check the target column, or pass {_REGRESSION}.",
            options=_TASK_OPTIONS,
        )
    return task, classes


_GROUPED_NUMBER = re.compile(r"^\s*[-+]?\d{1,3}([,. '’]\d{3})+([.,]\d+)?\s*$")
"""A number written with thousands separators: 434,271 / 1.234.567,5 / 12 345."""


def _too_many_classes(series: Any, classes: list[Any]) -> str:
    """Why a target of (nearly) one label per row is refused as classes, and what to do."""
    labels = [c for c in classes if isinstance(c, str)]
    grouped = sum(bool(_GROUPED_NUMBER.match(c)) for c in labels)
    hint = ""
    if grouped > len(labels) / 2:
        example = next(c for c in labels if _GROUPED_NUMBER.match(c))
        plain_number = re.sub(r"(?<=\d)[,. '’](?=\d{3}(?!\d))", "", example.strip())
        hint = (
            f"Its labels look like numbers written with thousands separators (such as "
            f"{example!r}): write them as plain numbers ({plain_number}) and it is a "
            "regression. "
        )
    return (
        f"the target {series.name!r} has {len(classes)} distinct labels in {len(series)} rows, "
        "too few rows of each for a classification to learn. "
        + hint
        + f"For numbers, pass {_REGRESSION}; to classify anyway, {_CLASSIFICATION}."
    )


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
        columns = [_fit_column(_marks_as_missing(frame[name]), impute) for name in features]
        self.target, self.task, self.impute = plain(target), task, impute
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
            f"column {state['name']!r} holds {raw} at {row_name(row, frame)}: {out[row, col]:.3g} "
            f"standard deviations from the training data's mean ({state['mean']:.4g}, std "
            f"{state['std']:.4g}), beyond what {dtype} can hold; expected values on the "
            "training data's scale. Check that row (a typing or unit error?)."
        )

    def _transform_column(self, series: Any, state: dict[str, Any]) -> np.ndarray:
        if state["kind"] == "numeric":
            series = _marks_as_missing(series)
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
                f"the first {plain(values[unseen].iloc[0])!r} at {where(unseen, series)}; "
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
                f"{where(series.isna(), series)}; every row needs a target."
            )
        if self.task == "regression":
            return _as_numbers(series, f"the target {self.target!r}", "").to_numpy()[:, None]
        codes = _codes(series.astype(object), self.classes)
        if (codes < 0).any():
            raise InputError(
                f"the target label {plain(series[codes < 0].iloc[0])!r} at "
                f"{where(codes < 0, series)} was not seen in training; the model "
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
        new.target, new.task, new.impute = state["target"], state["task"], state["impute"]
        new.classes = None if state["classes"] is None else list(state["classes"])
        new.columns = [dict(c) for c in state["columns"]]
        return new
