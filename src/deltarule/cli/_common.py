"""What the data subcommands share: reading data files, models with their preprocessing, scores.

* :func:`read_data` reads CSV/TSV/Parquet tables, or ``.npz`` arrays ``X`` (and ``y``)
  or a FANN training file (``.data``/``.fann``: inputs as ``X``, outputs as ``y``) turned
  into a table (their columns have no names, so they are taken in order), from a file or,
  for ``-``, from standard input (:mod:`._stdin`); a text table's separator and header as
  ``--sep`` and ``--no-header`` say (:data:`TABLE_OPTIONS`, added to ``predict`` and
  ``evaluate`` by :func:`add_table_options`; with either, a ``.data`` file is a table, UCI's,
  not FANN's format);
* :class:`Model` is a loaded model file together with the
  :class:`~deltarule.preprocessing.TabularPreprocessor` that turns raw columns into the
  network's inputs (one is made up for a file saved without one: columns ``x0, x1, ...``,
  or the names an estimator fitted on a DataFrame stored);
* :func:`holdout_split` holds rows out for validation;
* :func:`score` computes the metrics ``train`` and ``evaluate`` report;
* :func:`split_names` and :func:`pick_columns` read a list of column names given to an
  option (``train --drop``, ``predict --keep``);
* :func:`write_text` writes a result to a file atomically, or to stdout (None or ``-``).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import stat
import sys
from collections.abc import Callable, Collection, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._naming import ROWS_ATTR, listed, lookalikes, missing_columns
from .._sampling import apportion
from ..exceptions import IncompatibleFormatError, InputError
from ..network import Network
from ..preprocessing import TabularPreprocessor
from . import _stdin

__all__ = [
    "CLASSIFICATION",
    "TABLE_OPTIONS",
    "Model",
    "add_table_options",
    "check_distinct",
    "check_fann_data",
    "data_suffix",
    "holdout_split",
    "is_array_file",
    "load_model_file",
    "output_format",
    "parse_sep",
    "pick_columns",
    "read_data",
    "score",
    "split_names",
    "table_options",
    "write_text",
]

CLASSIFICATION = "classification"
NPZ_TARGET = "y"
WHITESPACE = "whitespace"  # (deltarule.io._text.WHITESPACE, without importing deltarule.io)

_SEP_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "\\t": "\t", "pipe": "|",
              "space": WHITESPACE, " ": WHITESPACE, "whitespace": WHITESPACE}  # fmt: skip


def parse_sep(text: str) -> str:
    """``--sep``'s value as the readers take it: ``tab`` (or ``\\t``), ``space`` (or ``' '``,
    ``whitespace``: runs of spaces and tabs), ``comma``, ``semicolon``, ``pipe``, or one
    character such as ``'|'``; anything else is a usage error saying what is expected."""
    sep = _SEP_NAMES.get(text.lower() if len(text) > 1 else text, text)
    if sep == WHITESPACE or (len(sep) == 1 and not sep.isalnum() and sep not in "\"'.-+\r\n"):
        return sep
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a separator; expected one character such as ';' or '|', or tab, "
        "space (runs of spaces and tabs), comma, semicolon or pipe"
    )


TABLE_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("--sep", {"type": parse_sep, "metavar": "SEP",
               "help": "the separator of text DATA: one character such as ';' or '|', or "
               "tab, or space (runs of spaces and tabs, as in UCI's whitespace-separated "
               "files) (default: tab for .tsv; for .csv and .txt, guessed among comma, "
               "semicolon and tab from the first lines)"}),
    ("--no-header", {"action": "store_true",
                     "help": "text DATA has no header line: its first line is data, and its "
                     "columns are named 0, 1, 2, ... in order (train --target 4 is the "
                     "fifth); a .data file is then read as a table (UCI's), not as FANN's "
                     "format"}),
]  # fmt: skip
"""The options of ``train``, ``predict`` and ``evaluate`` that say how a text table is read."""

_TABLE: ContextVar[tuple[str | None, bool]] = ContextVar("deltarule_table", default=(None, True))
"""The running command's ``(--sep, not --no-header)``, for :func:`read_data`."""


@contextlib.contextmanager
def table_options(sep: str | None, header: bool) -> Iterator[None]:
    """Have :func:`read_data` read text tables with ``sep`` and ``header`` (for its calls
    that do not say) in the ``with`` block."""
    token = _TABLE.set((sep, header))
    try:
        yield
    finally:
        _TABLE.reset(token)


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--sep`` and ``--no-header`` (:data:`TABLE_OPTIONS`) to a subcommand whose
    ``func`` is set already; its ``func`` then reads DATA with them (:func:`table_options`)."""
    for flag, options in TABLE_OPTIONS:
        parser.add_argument(flag, **options)
    run: Callable[[argparse.Namespace], Any] = parser.get_default("func")

    def run_with_table_options(args: argparse.Namespace) -> Any:
        with table_options(getattr(args, "sep", None), not getattr(args, "no_header", False)):
            return run(args)

    parser.set_defaults(func=run_with_table_options)


def _npz_frame(X: np.ndarray, y: Any, names: list[Any] | None, target: str, path: str) -> Any:
    import pandas as pd

    from ..io.data import FileRows

    X = X.reshape(len(X), -1)
    if names is not None and len(names) != X.shape[1]:
        raise InputError(
            f"X has {X.shape[1]} columns but the model needs {len(names)} (NPZ columns have "
            "no names, so they are taken in the model's order); pass X with "
            f"{len(names)} columns."
        )
    names = names or [f"x{i}" for i in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=names)
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        elif y.ndim == 2:  # one-hot rows become class indices
            if not (np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all()):
                raise InputError(
                    f"y has shape {y.shape}; expected one target per row (shape (n,)) or "
                    "one-hot rows. For several targets, write a table (CSV, Parquet) with a "
                    "column per target and train with --target y1,y2."
                )
            y = y.argmax(axis=1)
        frame[target] = y
    frame.attrs[ROWS_ATTR] = FileRows(Path(path).name)
    return frame


def read_data(
    path: str, *, target: str | None = None, names: list[Any] | None = None,
    require_target: bool = True, text_columns: Collection[Any] = (),
    needed: Collection[Any] | None = None, sep: str | None = None, header: bool | None = None,
    columns: Collection[Any] | None = None, lines_checked: bool = False,
) -> Any:  # fmt: skip
    """Read a data file into a pandas DataFrame of named columns.

    Parameters
    ----------
    path : str
        ``.csv``/``.txt``, ``.tsv``/``.tab``, ``.parquet``/``.pq``, ``.npz`` or FANN's
        ``.data``/``.fann`` (its outputs are the target ``y``, as an NPZ file's); ``-`` for
        standard input (:mod:`._stdin`: CSV, or Parquet or NPZ by their first bytes).
    target : str, optional
        For ``.npz``: the name the ``y`` array gets (default ``"y"``).
    names : list, optional
        For ``.npz``: names for the columns of ``X`` in order (the model's feature
        names), whose number must match; without them ``x0, x1, ...``.
    require_target : bool
        For ``.npz``: whether the array ``y`` must be present.
    text_columns : collection, optional
        For tables: columns read as text as written (see
        :attr:`~deltarule.preprocessing.TabularPreprocessor.text_columns`).
    needed : collection, optional
        For tables: the columns used; other columns with an empty or repeated name are
        dropped rather than refused.
    sep, header : optional
        For text tables: ``--sep`` and ``not --no-header`` (by default those of the
        running command, :func:`table_options`). With either given, a ``.data`` or ``.fann``
        file is read as a comma-separated table (UCI's), not as FANN's format.
    columns : collection, optional
        For text tables: read only these columns when the header has them all (the
        others' cells are skipped: :func:`deltarule.io.read_table`'s ``columns``; with
        ``lines_checked``, its ``lines_checked``: the file was read whole before).

    Returns
    -------
    pandas.DataFrame
    """
    from ..io.data import read_table
    from ..io.fann import FANN_SUFFIXES
    from ..io.npz import read_npz

    default_sep, default_header = _TABLE.get()
    sep = default_sep if sep is None else sep
    header = default_header if header is None else header
    table = sep is not None or not header  # (given: DATA is a text table)
    dash_suffix = _stdin.dash_file_suffix(path)  # (./-: a file named -, told by its bytes)

    def read(file: Any) -> Any:
        suffix = dash_suffix or Path(file).suffix.lower()
        if suffix in FANN_SUFFIXES and table:
            frame = read_table(file, format="csv", text_columns=text_columns, needed=needed,
                               sep=sep, header=header)  # fmt: skip
            _one_column(frame, file, sep, needed)
            return frame
        if suffix == ".npz" or suffix in FANN_SUFFIXES or suffix in (".parquet", ".pq"):
            _refuse_table_options(file, suffix, sep, header)
        if suffix == ".npz":
            X, y = read_npz(file, require_y=require_target)
            return _npz_frame(X, y, names, target or NPZ_TARGET, file)
        if suffix in FANN_SUFFIXES:  # FANN's outputs are the target, as an NPZ file's y
            X, y = _read_fann(file)
            return _npz_frame(X, y, names, target or NPZ_TARGET, file)
        fmt = dash_suffix and dash_suffix.lstrip(".")
        frame = read_table(file, format=fmt, text_columns=text_columns, needed=needed,
                           sep=sep, header=header, columns=columns,
                           lines_checked=lines_checked)  # fmt: skip
        _one_column(frame, file, sep, needed)
        return frame

    return _stdin.read(read) if _stdin.is_stdin(path) else read(path)


def _refuse_table_options(file: Any, suffix: str, sep: str | None, header: bool) -> None:
    """Refuse ``--sep`` and ``--no-header`` for data that is not a text table."""
    given = [flag for flag, on in (("--sep", sep is not None), ("--no-header", not header)) if on]
    if given:
        what = "Parquet" if suffix in (".parquet", ".pq") else "NPZ arrays"
        raise InputError(
            f"{' and '.join(given)} {'say' if len(given) > 1 else 'says'} how to read a text "
            f"table (CSV, TSV); {str(file)!r} is {what}, whose columns are not separated "
            f"text. Leave {' and '.join(given)} out."
        )


_SEPARATOR_HINTS = (("|", "--sep '|'"), ("\t", "--sep tab"), (";", "--sep ';'"),
                    (",", "--sep ','"), (" ", "--sep space"))  # fmt: skip


def _one_column(frame: Any, file: Any, sep: str | None, needed: Collection[Any] | None) -> None:
    """Refuse a text table read as one column whose name holds another separator ('|',
    spaces, tabs...) when the caller needs other columns: the separator was not found."""
    if len(frame.columns) != 1 or (needed is not None and all(n in frame for n in needed)):
        return
    name = str(frame.columns[0])
    hints = [(char, option) for char, option in _SEPARATOR_HINTS if char in name and char != sep]
    if not hints:
        return
    char, option = hints[0]
    shown = {" ": "spaces", "\t": "tabs"}.get(char, repr(char))
    if sep is not None:
        how = f"with --sep {'space' if sep == WHITESPACE else repr(sep)}"
    elif Path(file).suffix.lower() in (".tsv", ".tab"):
        how = "with tabs as its separator (its extension's)"
    else:
        how = "with a separator guessed among comma, semicolon and tab"
    raise InputError(
        f"{str(file)!r} was read {how} as a single column, {name!r}; expected several "
        f"columns. If its columns are separated by {shown}, pass {option}."
    )


def check_fann_data(path: str) -> None:
    """Refuse a ``.data`` file that is not a FANN training file (UCI's comma-separated
    tables share the extension), saying how to read it as a table (``--no-header``)."""
    from ..io.data import _check_file
    from ..io.fann import looks_like_fann

    if _stdin.is_stdin(path) or Path(path).suffix.lower() != ".data":
        return
    _check_file(path, "a FANN training file")
    if looks_like_fann(path):
        return
    raise InputError(
        f"{path!r} is not a FANN training file: a .data file is read as FANN's format, "
        "whose first line is 'n_examples n_inputs n_outputs' (three whole numbers, e.g. "
        "'4 2 1'), then a line of inputs and a line of outputs per example. For a table "
        f"without a header line (such as a UCI .data file), pass --no-header{_uci_columns(path)}"
        "; for one with a header row of column names, pass --sep ',' (or rename it to .csv),"
        " then --target COLUMN."
    )


def _uci_columns(path: str) -> str:
    """What ``--no-header`` makes of a UCI-style file's first line: its columns' names, and
    the separator to give when it is not a comma, semicolon or tab."""
    from ..io._separators import sniff_separator

    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            first = handle.readline(4096)
        sep = sniff_separator(Path(path))
    except OSError:
        return ""
    count = len(first.split(sep)) if sep in first else 1
    extra = ""
    if count == 1 and len(first.split()) > 1:
        count, extra = len(first.split()), " --sep space"
    if count < 2:
        return ""
    return (
        f"{extra} (its columns are then named 0 to {count - 1}; in train, --target "
        f"{count - 1} predicts the last)"
    )


def _read_fann(path: str) -> tuple[np.ndarray, np.ndarray]:
    """A FANN training file's (X, outputs); a ``.data`` file that is not one (UCI's
    comma-separated tables share the extension) is refused with what to do."""
    from ..io.fann import read_fann

    check_fann_data(path)
    return read_fann(path)


def is_array_file(path: str) -> bool:
    """Whether DATA holds unnamed arrays whose target is ``y``: an ``.npz`` file, or a FANN
    file (``.data``/``.fann``, whose outputs are the target)."""
    from ..io.fann import FANN_SUFFIXES

    return data_suffix(path) in (".npz", *FANN_SUFFIXES)


def data_suffix(path: str) -> str:
    """The lower-case extension that gives DATA's format (``.npz``...); for ``-``, that of
    standard input's first bytes (:func:`._stdin.suffix`, which reads it); for a file named
    ``-`` (``./-``), that of its first bytes."""
    if _stdin.is_stdin(path):
        return _stdin.suffix()
    return _stdin.dash_file_suffix(path) or Path(path).suffix.lower()


def class_scores(network: Any, pre: Any, outputs: np.ndarray) -> np.ndarray:
    """A classifier's ``outputs`` as class probabilities: a sigmoid per class (``--loss
    binary_crossentropy`` with more than two classes) made rows summing to 1
    (:func:`deltarule.io.model_file.one_vs_rest`); a regression's as they are."""
    from ..io.model_file import one_vs_rest

    return one_vs_rest(network, outputs) if pre.task == CLASSIFICATION else outputs


@dataclass
class Model:
    """A model file ready to use on raw data.

    Attributes
    ----------
    network : Network
    pre : TabularPreprocessor
        Stored in the file, or made up for a file saved without one.
    header : dict
        The file's JSON header.
    path : str
    """

    network: Network
    pre: TabularPreprocessor
    header: dict[str, Any]
    path: str

    @property
    def task(self) -> str:
        """``"classification"`` or ``"regression"``."""
        return str(self.pre.task)

    def features(self, frame: Any) -> np.ndarray:
        """Return the network inputs for a raw table (columns by name, extras ignored)."""
        lacking = [name for name in self.pre.feature_names if name not in frame.columns]
        if lacking:
            raise InputError(
                f"the data lacks {len(lacking)} column(s) the model {self.path!r} needs: "
                f"{listed(lacking)}. {missing_columns(lacking, frame.columns)} The model needs "
                f"{len(self.pre.feature_names)} columns by name (any order; extra columns are "
                "ignored); add the missing ones."
            )
        return self.pre.transform(frame, dtype=self.network.dtype)

    @property
    def multilabel(self) -> bool:
        """A multi-label estimator's file: one 0/1 output per label, several per row."""
        training = self.header.get("training")
        return (
            self.header.get("preprocessing") is None
            and isinstance(training, dict)
            and training.get("target_type") == "multilabel-indicator"
        )

    def _two_columns(self) -> bool:
        """A two-class softmax saved from Python: two outputs where preprocessing has one."""
        return (self.pre.n_outputs, self.network.n_outputs) == (1, 2)

    def labels(self, outputs: np.ndarray) -> np.ndarray:
        """Class labels (classification) or values (regression) of network outputs; for a
        multi-label file, one 0/1 column per label (an output above 0.5: 1)."""
        if self.multilabel:
            return (np.asarray(outputs) > 0.5).astype(np.int64)
        if self._two_columns():
            return np.asarray(self.pre.classes)[np.asarray(outputs).argmax(axis=1)]
        return self.pre.inverse_target(outputs)

    def targets(self, values: Any) -> np.ndarray:
        """Targets as the network sees them (one-hot, a 0/1 column, or values)."""
        encoded = self.pre.transform_target(values)
        return np.hstack([1 - encoded, encoded]) if self._two_columns() else encoded

    def proba(self, outputs: np.ndarray) -> np.ndarray:
        """Return one probability column per class (two for a single sigmoid output), in
        the network's float dtype (float32 probabilities are not widened: written out, they
        show float32's shortest repr, 0.5933987, not 0.5933986902236938)."""
        from ..io.model_file import class_probabilities

        outputs = np.asarray(outputs)
        if not np.issubdtype(outputs.dtype, np.floating):
            outputs = outputs.astype(np.float64)
        return class_probabilities(self.scores(outputs), len(self.pre.classes or "ab"))

    def scores(self, outputs: np.ndarray) -> np.ndarray:
        """Network ``outputs`` as class probabilities where the file's preprocessing says
        each row is one class (:func:`class_scores`); else as they are (an estimator's
        multi-label outputs)."""
        if self.header.get("preprocessing") is None:
            return outputs
        return class_scores(self.network, self.pre, outputs)


def _made_up_preprocessing(
    network: Network, classes: list[Any] | None, feature_names: list[str] | None = None
) -> TabularPreprocessor:
    """Identity preprocessing for a model file saved without any: columns ``feature_names``
    (an estimator's ``feature_names_in_``, :func:`~deltarule.io.model_file.stored_feature_names`)
    when the file stores them, else x0, x1, ..."""
    from ..training import CLASSIFICATION_LOSSES

    names = feature_names or [f"x{i}" for i in range(network.n_inputs)]
    pre = TabularPreprocessor()
    pre.target, pre.impute = NPZ_TARGET, None
    pre.columns = [
        {"name": name, "kind": "numeric", "mean": 0.0, "std": 1.0, "fill": None} for name in names
    ]
    if network.loss.name not in CLASSIFICATION_LOSSES:
        pre.task, pre.classes = "regression", None
    else:
        pre.task = CLASSIFICATION
        pre.classes = list(classes or range(max(network.n_outputs, 2)))
    return pre


def load_model_file(path: str) -> Model:
    """Load a model file and its preprocessing, checking they fit together.

    Raises
    ------
    IncompatibleFormatError
        If the file is not a deltarule model, or its preprocessing does not match the network.
    """
    from ..io.model_file import load_model, stored_feature_names

    _stdin.refuse_stdin_model(path)
    loaded = load_model(path)
    network = loaded.network
    if loaded.preprocessing is None:  # (an estimator fitted on a DataFrame: its columns)
        names = stored_feature_names(loaded.training, network.n_inputs)
        pre = _made_up_preprocessing(network, loaded.classes, names)
    else:
        try:
            pre = TabularPreprocessor.from_dict(loaded.preprocessing)
        except IncompatibleFormatError as exc:
            raise IncompatibleFormatError(f"{path}: {exc}") from exc
    outputs_fit = pre.n_outputs == network.n_outputs or (
        loaded.preprocessing is None and pre.task == CLASSIFICATION and network.n_outputs == 2
    )
    if loaded.preprocessing is None and not outputs_fit:  # (several regression outputs)
        raise IncompatibleFormatError(
            f"{path} holds a network saved without preprocessing, with {network.n_outputs} "
            f"{pre.task} outputs; predict and evaluate take one regression output, or class "
            "outputs. Predict from Python instead: deltarule.io.load_model(path).network"
            ".predict(X)."
        )
    if pre.n_features_out != network.n_inputs or not outputs_fit:
        raise IncompatibleFormatError(
            f"{path}: its preprocessing makes {pre.n_features_out} inputs and {pre.n_outputs} "
            f"outputs but the network has {network.n_inputs} and {network.n_outputs}; the "
            "file was not written by deltarule train. Retrain the model with deltarule train."
        )
    return Model(network, pre, loaded.header, path)


def score(
    task: str,
    outputs: np.ndarray,
    targets: np.ndarray,
    n_classes: int,
    names: list[Any] | None = None,
) -> dict[str, Any]:
    """Return the metrics of network ``outputs`` against encoded ``targets``.

    Classification: accuracy, balanced accuracy, macro F1, log loss, ROC AUC (macro
    one-vs-rest) and the confusion matrix (rows true, columns predicted, as class indices).
    Regression: MSE, MAE and R²; for several targets (``targets`` of shape (n_samples,
    n_targets), ``names`` their names), each the mean of the targets' own
    (scikit-learn's ``multioutput="uniform_average"``), and ``per_target``: by name, each
    target's MSE, MAE and R².
    """
    from .. import metrics

    if task != CLASSIFICATION:
        scores: dict[str, Any] = {
            "mse": metrics.mean_squared_error(outputs, targets),
            "mae": metrics.mean_absolute_error(outputs, targets),
            "r2": metrics.r2(outputs, targets),
        }
        if names is not None and len(names) > 1:
            scores["per_target"] = {
                str(name): score(task, outputs[:, j : j + 1], targets[:, j : j + 1], 0)
                for j, name in enumerate(names)
            }
        return scores
    matrix = metrics.confusion_matrix(
        metrics.target_labels(targets), metrics.predicted_labels(outputs), n_classes
    )
    return {
        "accuracy": metrics.accuracy(outputs, targets),
        "balanced_accuracy": metrics.balanced_accuracy(outputs, targets),
        "f1_macro": metrics.f1(outputs, targets),
        "log_loss": metrics.log_loss(outputs, targets),
        "roc_auc": metrics.roc_auc(outputs, targets),
        "confusion_matrix": matrix.tolist(),
    }


def holdout_split(
    X: np.ndarray,
    Y: np.ndarray,
    fraction: float,
    seed: Any,
    stratify: bool,
    option: str = "--validation-split",
    consume: bool = False,
) -> tuple:
    """Hold out ``fraction`` of the rows, per class when ``stratify``: for validation, or
    (``option="--test-split"``) as test rows. ``seed``: what ``np.random.default_rng`` takes.
    With ``consume``, ``X`` is the caller's to give up: its kept rows are moved within it
    (:func:`split_rows`), not copied.

    Returns
    -------
    X_kept, Y_kept, X_held, Y_held : ndarray
        ``X_held`` and ``Y_held`` are None when ``fraction`` is 0.
    """
    if fraction == 0:
        return X, Y, None, None
    rng = np.random.default_rng(seed)
    if not stratify:
        labels = np.zeros(len(Y))
    else:
        labels = Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0]
    groups = [rng.permutation(np.flatnonzero(labels == label)) for label in np.unique(labels)]
    sizes = np.array([g.size for g in groups])
    quotas = apportion(sizes, fraction, int(round(fraction * len(Y))))
    val = np.zeros(len(Y), dtype=bool)
    val[np.asarray([i for g, k in zip(groups, quotas) for i in g[:k]], dtype=int)] = True
    held = int(val.sum())
    purpose = "validation" if option == "--validation-split" else "testing"
    if held == 0:
        raise InputError(
            f"{option} {fraction} of {len(Y)} rows leaves no row for {purpose}; "
            f"both parts need at least one row. Use more rows, a larger {option}, "
            f"or {option} 0 to train on every row."
        )
    if held == len(Y):
        raise InputError(
            f"{option} {fraction} of {len(Y)} rows leaves no row for training; "
            f"both parts need at least one row. Use a smaller {option}."
        )
    X_kept, X_held = split_rows(X, val) if consume else (X[~val], X[val])
    return X_kept, Y[~val], X_held, Y[val]


SPLIT_CHUNK_BYTES = 1 << 24
"""The rows :func:`split_rows` moves at a time (16 MiB of them)."""


def split_rows(X: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(X[~held], X[held])``, ``X`` given up for it: the held rows are copied out, then the
    kept rows moved, in order, to the front of ``X``, whose first rows are returned (a view).
    The peak is ``X`` and its held rows, not twice ``X`` (a one-hot table of many categories
    filled half the memory, and the copies the rest). An ``X`` that is not its own writable
    buffer (a view, read-only) is copied as usual.

    Each chunk of kept rows lies at or after the rows it is written to (the ``j``-th kept
    row's index is at least ``j``), and later chunks read rows after them, so no row is
    overwritten before it is moved.
    """
    if not (X.flags.writeable and X.flags.c_contiguous and X.base is None and X.ndim == 2):
        return X[~held], X[held]
    taken = X[held]
    kept = np.flatnonzero(~held)
    step = max(1, SPLIT_CHUNK_BYTES // max(1, X.shape[1] * X.itemsize))
    for start in range(0, kept.size, step):
        rows = kept[start : start + step]
        X[start : start + rows.size] = X[rows]
    return X[: kept.size], taken


def _regular_or_missing(path: str) -> bool:
    """True for a regular file or a path that does not exist yet (not a pipe or device)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)  # hard links and symbolic links too
    except OSError:  # one of them does not exist yet (case-insensitive file systems:
        # Windows' and macOS's by default, where Out.csv and out.csv are one file)
        first, second = os.path.realpath(a), os.path.realpath(b)
        if sys.platform in ("win32", "darwin"):
            return os.path.normcase(first).casefold() == os.path.normcase(second).casefold()
        return first == second


def _special(path: str) -> bool:
    """True for an existing pipe or device (``/dev/stdout``): written in place."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _stdin_file(inputs: dict[str, Any]) -> tuple[str, os.stat_result] | None:
    """(option, status) of the regular file standard input is redirected from (``DATA -
    < data.csv``), when an input is ``-``; else None (a pipe, a terminal: nothing to
    overwrite)."""
    option = next((k for k, v in inputs.items() if v is not None and _stdin.is_stdin(v)), None)
    if option is None or sys.stdin is None:
        return None
    try:
        status = os.fstat(sys.stdin.fileno())
    except (OSError, ValueError, AttributeError):  # (closed, or not a real stream)
        return None
    return (option, status) if stat.S_ISREG(status.st_mode) else None


def _same_as(path: str, status: os.stat_result) -> bool:
    """Whether ``path`` (followed, as a write to it would be) is the file of ``status``."""
    try:
        here = os.stat(path)
    except OSError:  # (not there yet)
        return False
    return (here.st_dev, here.st_ino) == (status.st_dev, status.st_ino)


def check_distinct(
    inputs: dict[str, Any], outputs: dict[str, Any], examples: dict[str, str] | None = None
) -> None:
    """Refuse outputs that would overwrite an input, or each other (by option name), and
    outputs that could not be written (:func:`deltarule.io.atomic.check_writable`: a
    folder, a path ending in a separator, a missing folder, an existing file that is not
    writable) — before the command's work, so that nothing is computed only to be lost, and
    no output is written when another fails. ``examples``: by option, the file name its
    messages suggest (a model file's when not given).

    Pipes and devices (``/dev/stdout``) are left out: writing one destroys nothing; DATA
    ``-``, standard input, is compared by the file it is redirected from, if any (``-
    < data.csv --out data.csv``, ``--out /dev/stdin``).
    """
    from ..io.atomic import check_writable

    ins = {
        k: os.fspath(v)
        for k, v in inputs.items()
        if v and not _stdin.is_stdin(v) and _regular_or_missing(os.fspath(v))
    }
    outs = {k: os.fspath(v) for k, v in outputs.items() if v and _regular_or_missing(os.fspath(v))}
    for name, path in outs.items():
        for source, data in ins.items():
            if _same_file(path, data):
                raise InputError(
                    f"{name} {path} is the {source} file read by this command; writing there "
                    f"would destroy it. Choose another path for {name}."
                )
    stdin = _stdin_file(inputs)
    for name, path in outs.items():
        if stdin is not None and _same_as(path, stdin[1]):
            raise InputError(
                f"{name} {path} is the file that standard input ({stdin[0]} -) is "
                "redirected from; writing there would destroy the data this command reads. "
                f"Choose another path for {name}."
            )
    names = list(outs)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            if _same_file(outs[first], outs[second]):
                raise InputError(
                    f"{first} and {second} are the same file ({outs[first]}); one would "
                    "overwrite the other. Give them different paths."
                )
    for name, value in outputs.items():  # (folders too: refused now, not after the work)
        if value is not None and not _special(os.fspath(value)):
            try:
                check_writable(value, (examples or {}).get(name, "model.safetensors"))
            except InputError as exc:
                raise InputError(f"{name}: {exc}") from None


def write_text(text: str, out: str | None, quiet: bool = False) -> None:
    """Write ``text`` to the file ``out`` atomically (saying so on stderr unless ``quiet``),
    or to stdout when ``out`` is None or ``-``."""
    if _stdin.output_file(out) is None:
        sys.stdout.write(text)
        return
    from ..io.atomic import atomic_write_text

    atomic_write_text(out, text)
    if not quiet:
        print(f"wrote {os.fspath(out)}", file=sys.stderr)


_FORMAT_SUFFIXES = {
    ".csv": "CSV",
    ".tsv": "TSV",
    ".json": "JSON",
    ".txt": "text",
    ".md": "Markdown",
    ".html": "HTML",
    ".parquet": "Parquet",
    ".gz": "gzip-compressed data",
    ".bz2": "bzip2-compressed data",
    ".xz": "xz-compressed data",
    ".zst": "Zstandard-compressed data",
    ".zip": "a ZIP archive",
    ".png": "a PNG image",
    ".svg": "an SVG image",
    ".pdf": "a PDF document",
    ".safetensors": "a model file",
}
"""Extensions that name a format, whichever command writes it: an ``--out`` with one that
the command does not write is refused (evaluate's text report in ``e.csv``; predictions in
``p.csv.gz``, which no command compresses)."""


def add_out_and_quiet(parser: argparse.ArgumentParser, quiet: str = "") -> None:
    """Add ``--out FILE`` (stdout without it, or with ``-``) and ``--quiet`` (no note of the
    file written; ``quiet`` put before that in its help), as the commands that write a report
    spell them."""
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write to FILE instead of stdout (- is stdout; a file named - is ./-)",
    )
    parser.add_argument(
        "--quiet",
        action="store_true",
        help=f"{quiet}no note of the file written (warnings and errors are still shown)",
    )


def output_format(
    given: str | None, out: str | None, by_suffix: dict[str, str], default: str
) -> str:
    """The format a report or table is written in: ``--format`` when ``given``, else the
    one ``--out``'s extension names (``by_suffix``: ``{".json": "json", ...}``), else
    ``default``.

    Raises
    ------
    InputError
        When ``--format`` and the extension name different formats (``--format csv --out
        p.json``): the file would hold one format under the other's name.
    """
    suffix = Path(os.fspath(out)).suffix.lower() if out is not None else ""
    named = by_suffix.get(suffix)
    if given is None:
        return named or default
    if named is not None and named != given:
        stem = plain_stem(Path(os.fspath(out)))
        other = next((ext for ext, form in by_suffix.items() if form == given), None)
        rename = f", or name the file {stem}{other} for {given}" if other else ""
        raise InputError(
            f"--format {given} does not match --out {os.fspath(out)}, whose extension "
            f"{suffix} means {named}; leave out --format (the extension then chooses "
            f"{named}){rename}."
        )
    return given


def plain_stem(path: Path) -> str:
    """``path``'s name without its extensions of formats (``p.csv.gz``: ``p``)."""
    stem = path.stem
    while Path(stem).suffix.lower() in _FORMAT_SUFFIXES:
        stem = Path(stem).stem
    return stem


def refuse_foreign_extension(out: str | None, by_suffix: dict[str, str]) -> None:
    """Refuse an ``--out`` whose extension names a format the command does not write
    (:data:`_FORMAT_SUFFIXES`: evaluate's text report in ``e.csv``); checked after the
    checks that keep inputs safe, which say more."""
    if out is None:
        return
    path = Path(os.fspath(out))
    suffix = path.suffix.lower()
    if suffix in by_suffix or suffix not in _FORMAT_SUFFIXES:
        return
    offered = " or ".join(f"{form} ({ext})" for ext, form in by_suffix.items())
    names = " or ".join(f"{plain_stem(path)}{ext}" for ext in by_suffix)
    raise InputError(
        f"--out {os.fspath(out)}: its extension {suffix} means {_FORMAT_SUFFIXES[suffix]}, "
        f"which this command does not write; it writes {offered}. Name the file {names}."
    )


def split_names(text: str, option: str) -> list[str]:
    """The column names of a comma-separated ``option`` value (``--drop Name,Ticket``), in
    order, each once; names keep their spaces (:func:`pick_columns` matches them).

    Raises
    ------
    InputError
        For an empty name (``--drop ''``, ``--drop a,,b``).
    """
    names = str(text).split(",")
    if not all(name.strip() for name in names):
        raise InputError(
            f"{option} {text!r} has an empty column name; expected column names separated "
            f"by commas, e.g. {option} Name,Ticket (no comma at either end, none doubled)."
        )
    return list(dict.fromkeys(names))


def pick_columns(names: list[str], option: str, present: Any) -> list[Any]:
    """The columns of ``present`` (a table's column names) that ``names`` (from
    :func:`split_names`) name: a name as written, else without its surrounding spaces
    (``--drop 'Name, Ticket'``).

    Raises
    ------
    InputError
        For a name that is not a column, naming the look-alike (case, spaces) or close
        (a typo) names, else the table's columns.
    """
    from difflib import get_close_matches

    present = list(present)
    text = {str(column): column for column in present}
    picked, lacking = [], []
    for name in names:
        found = text.get(name, text.get(name.strip()))
        if found is None:
            lacking.append(name.strip())
        elif found not in picked:
            picked.append(found)
    if not lacking:
        return picked
    hint = lookalikes(lacking, present)
    close = [m for name in lacking for m in get_close_matches(name, list(text), 3, 0.75)]
    if not hint and close:
        hint = f"Close names in the data: {listed(dict.fromkeys(close))}."
    hint = hint or f"The data has columns {listed(present)}."
    raise InputError(
        f"{option} names {len(lacking)} column(s) the data does not have: {listed(lacking)}. "
        f"{hint} Give column names exactly as the file's header writes them, separated by "
        "commas."
    )
