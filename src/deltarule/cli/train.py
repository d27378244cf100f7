"""``deltarule train``: train a network on a data file (or a built-in dataset) and save it.

See :data:`DESCRIPTION` (the ``--help`` text). Regression targets are standardised for
training; the output layer is then rescaled so the saved network predicts in the
target's own units (in float64 when float32 would round away their spread: a target such as
1e9 +- 10). The losses of the history, the progress lines and ``--plot`` are then those on the
standardised target (labelled so), while the reported and ``evaluate``'s MSE are in the
target's units (they differ by the target's variance). The model file is written atomically,
once training has succeeded; ``--plot`` is drawn after it, so that a plot that fails leaves
the trained model saved (and the command says so, exit status 2).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
import time
import warnings
from math import inf
from pathlib import Path
from typing import Any

import numpy as np

from ..datasets import DATASETS
from ..exceptions import DataWarning, InputError
from . import add_common, stop_signal
from ._common import (
    CLASSIFICATION,
    check_distinct,
    data_suffix,
    holdout_split,
    pick_columns,
    read_data,
    score,
    split_names,
)
from ._example_values import TARGET_RECORD
from ._resume import (
    check_folder,
    check_new_run,
    fit_resumable,
    load_settings,
    run_lock,
    save_settings,
)
from ._stdin import data_name, is_stdin

DESCRIPTION = """Train a multi-layer perceptron by backpropagation.

With DATA (CSV, TSV, Parquet, or NPZ with arrays X and y) and --target, train on
that table: numbers are standardised, text is one-hot encoded, the task is
detected (--task overrides) and the model is saved with its preprocessing.
Outputs and loss: softmax + categorical_crossentropy for several classes,
sigmoid + binary_crossentropy for two, identity + mse for numbers (--loss
overrides). DATA - reads standard input (CSV; Parquet and NPZ are recognised
by their first bytes) and needs --out. Without DATA, train on a built-in
dataset and report test accuracy.
"""
EPILOG = """examples:
  deltarule train                                    # built-in digits, prints test accuracy
  deltarule train houses.csv --target price --hidden 64,32 --plot curves.png
  cat houses.csv | deltarule train - --target price --out houses.safetensors
  deltarule train iris.csv --target species --out iris.safetensors --epochs 200
  deltarule train --dataset fashion-mnist --hidden 128 --epochs 20 --out fashion.safetensors
  deltarule train big.csv --target y --checkpoint runs/big   # then, after a crash:
  deltarule train --resume runs/big
"""
_AUTO_LOSS = {"multiclass": ("softmax", "categorical_crossentropy"),
              "binary": ("sigmoid", "binary_crossentropy"),
              "regression": ("identity", "mse")}  # fmt: skip
_OUTPUT_FOR_DOMAIN = {(0.0, 1.0): "sigmoid", (0.0, inf): "exp"}
"""The output activation for a --loss defined on some outputs only, where the task's own
does not fit it (a regression's identity with --loss poisson: exp, the log link)."""
_SCALED_LOSSES = {"mse", "mean_squared_error", "half_squared_error", "squared_error", "sse",
                  "tutorial", "mae", "mean_absolute_error", "huber"}  # fmt: skip


def _names(*registries: dict[str, Any]) -> str:
    """The names of registries' entries for ``--help``, each entry once (an alias, a second
    name for the same object, is left out: ``linear`` for ``identity``)."""
    first: dict[int, str] = {}
    for registry in registries:
        for name, entry in registry.items():
            first.setdefault(id(entry), name)
    return ", ".join(first.values())


def _registry_help() -> dict[str, str]:
    """The ``--help`` texts of --activation, --loss and --optimizer, naming their choices
    (the registries are plain dicts: importing them loads neither scipy nor pandas)."""
    from ..activations import ACTIVATIONS
    from ..losses import LOSSES
    from ..optimizers import OPTIMIZERS
    from ..solvers import SOLVERS

    return {
        "--activation": f"hidden activation: {_names(ACTIVATIONS)} (default: relu)",
        "--loss": f"loss: auto (see above), {_names(LOSSES)} (default: auto)",
        "--optimizer": f"optimizer: {_names(OPTIMIZERS, SOLVERS)} (default: adam)",
    }


_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("--target", {"metavar": "COLUMN", "help": "the column to predict (an NPZ file's is y)"}),
    ("--task", {"choices": ("auto", "classification", "regression"), "default": "auto",
                "help": "what to predict: classes or numbers (default: auto, detected from "
                "the target: text, true/false or a few whole numbers are classes)"}),
    ("--drop", {"metavar": "COLUMNS", "help": "columns of DATA that are not features, "
                "separated by commas (an id, a name), e.g. --drop PassengerId,Name"}),
    ("--impute", {"choices": ("mean", "median", "most_frequent"),
                  "help": "fill missing feature values (default: they are an error)"}),
    ("--dataset", {"help": "built-in dataset when there is no DATA: "
                   f"{', '.join(DATASETS)} (default: digits)"}),
    ("--data-dir", {"metavar": "DIR", "help": "folder with the Fashion-MNIST IDX files"}),
    ("--hidden", {"default": "64", "help": "hidden layer sizes, e.g. 64,32; 0 for no hidden "
                  "layer (default: 64)"}),
    ("--activation", {"default": "relu"}),
    ("--loss", {"default": "auto"}),
    ("--optimizer", {"default": "adam"}),
    ("--epochs", {"type": int, "default": 100, "help": "maximum epochs (default: 100)"}),
    ("--batch-size", {"type": int,
                      "help": "batch size (default: 32; lbfgs, lm and irprop use every row)"}),
    ("--learning-rate", {"type": float, "metavar": "LR", "help": "(default: the optimizer's)"}),
    ("--validation-split", {"type": float, "default": 0.1, "metavar": "F",
                            "help": "fraction of rows held out (default: 0.1; 0 for none)"}),
    ("--patience", {"type": int, "default": 10,
                    "help": "stop after this many epochs without improvement (default: 10; "
                    "0: never)"}),
    ("--seed", {"type": int, "default": 0, "help": "random seed (default: 0)"}),
    ("--out", {"metavar": "MODEL", "help": "model file (default with DATA: <stem>.safetensors)"}),
    ("--plot", {"metavar": "PATH", "help": "write loss curves to PATH (.png or .svg)"}),
    ("--quiet", {"action": "store_true", "help": "no progress output"}),
    ("--checkpoint", {"metavar": "DIR", "help": "save a resumable checkpoint in DIR"}),
    ("--checkpoint-every", {"type": int, "default": 1, "metavar": "N",
                            "help": "checkpoint every N epochs (default: 1)"}),
    ("--resume", {"metavar": "DIR", "help": "continue the run checkpointed in DIR"}),
]  # fmt: skip
"""The options after DATA, in ``--help`` order."""
DEFAULT_BATCH_SIZE = 32
"""``--batch-size`` when not given, for a first-order optimizer with a learning rate (lbfgs,
lm and iRprop, which size their own steps from whole-batch gradients: every row)."""

_RANGES = {
    "--epochs": "a positive integer such as 100",
    "--batch-size": "a positive integer such as 32",
    "--patience": "0 (never stop early) or more",
    "--learning-rate": "a positive number such as 0.001",
    "--validation-split": "a fraction in [0, 1) such as 0.1, or 0 for no validation",
    "--checkpoint-every": "a positive integer such as 1",
    "--seed": "an integer >= 0 such as 0",
}


class _Given(argparse.Action):
    """Store an option's value and note, in ``given_options``, that it was given: ``--resume``
    refuses the training options given with it, whatever their value (a default's too)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        namespace.given_options = [*getattr(namespace, "given_options", []), self.dest]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train",
        help="train a network on a data file or a built-in dataset",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "data", nargs="?", metavar="DATA", help="training data file; - for standard input"
    )
    helps = _registry_help()
    for flag, options in _OPTIONS:
        given = {"action": _Given, "help": helps.get(flag)}
        parser.add_argument(flag, **(given | options))
    add_common(parser)
    parser.set_defaults(func=run, given_options=[])


def parse_hidden(text: str) -> list[int]:
    """Parse ``--hidden`` ("64,32"; "" or "0" for none) into layer sizes."""
    parts = [part.strip() for part in str(text).split(",")]
    if parts in ([""], ["0"]):
        return []
    if not all(part.isdigit() and int(part) > 0 for part in parts):
        raise InputError(
            f"--hidden {text!r} is not a list of layer sizes; expected positive integers "
            "separated by commas, e.g. --hidden 64,32 (or --hidden 0 for no hidden layer)."
        )
    return [int(part) for part in parts]


def _check_options(args: argparse.Namespace) -> tuple[list[int], Path | None]:
    """Check what can be checked before any work; return (hidden sizes, model path or None)."""
    from ..solvers import get_first_order, get_solver

    hidden = parse_hidden(args.hidden)
    if isinstance(args.drop, str):  # (a resumed run's is the list it saved)
        args.drop = split_names(args.drop, "--drop")
    for flag, bad in [
        ("--epochs", args.epochs < 1),
        ("--batch-size", args.batch_size is not None and args.batch_size < 1),
        ("--patience", args.patience < 0),
        ("--checkpoint-every", args.checkpoint_every is not None and args.checkpoint_every < 1),
        ("--learning-rate", args.learning_rate is not None and not 0 < args.learning_rate < inf),
        ("--seed", args.seed < 0),
        ("--validation-split", not 0 <= args.validation_split < 1),
    ]:
        if bad:
            value = getattr(args, flag[2:].replace("-", "_"))
            raise InputError(f"{flag} {value} is out of range; expected {_RANGES[flag]}.")
    solver = get_solver(args.optimizer)
    if solver is None:
        rule = get_first_order(args.optimizer)  # unknown names fail here
        step_rule = getattr(rule, "step_rule", None)
        if step_rule is not None and args.learning_rate is not None:
            raise InputError(
                f"--optimizer {args.optimizer} would ignore --learning-rate "
                f"{args.learning_rate:g}: {step_rule}. Leave it out, or choose an optimizer "
                "with a learning rate (e.g. --optimizer adam)."
            )
        if args.batch_size is None and step_rule is None:
            args.batch_size = DEFAULT_BATCH_SIZE  # (iRprop: every row, as it is meant to)
        return _check_paths(args, hidden)
    ignored = [f"{flag} {value:g}" for flag, value in
               (("--batch-size", args.batch_size), ("--learning-rate", args.learning_rate))
               if value is not None]  # fmt: skip
    if ignored:
        raise InputError(
            f"--optimizer {args.optimizer} would ignore {' and '.join(ignored)}: it uses every "
            f"row in each iteration, and {solver.step_rule}. Leave "
            f"{'them' if len(ignored) > 1 else 'it'} out, or choose a first-order optimizer "
            "(e.g. --optimizer adam) to train in mini-batches with a learning rate."
        )
    if args.checkpoint:
        raise InputError(
            f"--checkpoint cannot resume --optimizer {args.optimizer} exactly: the solver's "
            "internal memory is not saved, so a resumed run would differ from an uninterrupted "
            "one. Use a first-order optimizer (e.g. --optimizer adam) with --checkpoint, or "
            "leave --checkpoint out."
        )
    return _check_paths(args, hidden)


def _check_paths(args: argparse.Namespace, hidden: list[int]) -> tuple[list[int], Path | None]:
    """The rest of :func:`_check_options`: the data, output and checkpoint paths."""
    from ..plots import check_plot_path

    if args.data and (args.dataset or args.data_dir):
        raise InputError("give DATA or --dataset/--data-dir, not both; DATA is a file to train on.")
    if not args.data and args.drop:
        raise InputError(
            f"--drop {','.join(args.drop)} names columns of DATA, but no DATA file was given; "
            "a built-in --dataset has its own features. Drop --drop, or give the data file."
        )
    if not args.data and args.target:
        raise InputError(
            f"--target {args.target} names a column of DATA, but no DATA file was given; a "
            "built-in --dataset has its own target. Drop --target, or give the data file."
        )
    if args.data_dir and (args.dataset or "digits") != "fashion-mnist":
        raise InputError(
            f"--data-dir is where Fashion-MNIST's files are; --dataset "
            f"{args.dataset or 'digits'} is built in. Add --dataset fashion-mnist, or drop "
            "--data-dir."
        )
    if args.out is not None and not args.out.strip():
        raise InputError("--out is empty; expected a file path such as model.safetensors.")
    if args.plot:
        check_plot_path(args.plot)  # its folder exists and is writable: found now, not after
    out = Path(args.out) if args.out else None
    if out is None and is_stdin(args.data):
        raise InputError(
            "DATA - reads standard input, which has no file name to name the model after, "
            "and no --out was given; expected --out MODEL. Add e.g. --out model.safetensors."
        )
    if out is None and args.data:
        name = Path(args.data)
        name = Path(name.stem) if name.suffix.lower() == ".gz" else name  # data.csv.gz -> data
        out = Path.cwd() / f"{name.stem}.safetensors"
    if args.checkpoint and os.path.exists(args.checkpoint) and not os.path.isdir(args.checkpoint):
        raise InputError(
            f"--checkpoint {args.checkpoint} is a file; expected a folder to keep the run's "
            "checkpoints in (created if missing). Choose another path."
        )
    if args.checkpoint:
        check_folder(args.checkpoint, "--resume" if args.resume else "--checkpoint")
    given = args.out if args.out else out  # (as typed: 'models/' names a folder)
    check_distinct({"DATA": args.data}, {"--out": given, "--plot": args.plot})  # and writable
    return hidden, out


def _from_file(args: argparse.Namespace) -> tuple[Any, np.ndarray, np.ndarray]:
    """Read DATA and return (fitted preprocessor, X, Y)."""
    from .._naming import listed
    from ..preprocessing import TabularPreprocessor

    is_npz = data_suffix(args.data) == ".npz"
    if is_npz and args.target not in (None, "y"):
        raise InputError(
            f"--target {args.target!r}: an NPZ file holds the target in the array y; "
            "leave out --target (or pass --target y)."
        )
    frame = read_data(args.data, target="y")
    target = "y" if is_npz else args.target
    if target is None:
        raise InputError(
            f"deltarule train {args.data} needs --target COLUMN, the column to predict; "
            f"{'standard input' if is_stdin(args.data) else 'the file'} has columns "
            f"{listed(frame.columns)}."
        )
    frame = _drop_columns(frame, args, target, is_npz)
    if not is_npz and target in frame.columns and args.task != "regression":
        frame[target] = _labels_as_written(frame[target], args.data, target)
    args.data_warnings = identifier_warnings(frame, target)  # (shown once all is checked)
    pre = TabularPreprocessor().fit(frame, target, task=args.task, impute=args.impute)
    return pre, pre.transform(frame), pre.transform_target(frame[target])


def _drop_columns(frame: Any, args: argparse.Namespace, target: str, is_npz: bool) -> Any:
    """``frame`` without the ``--drop`` columns; ``args.drop`` becomes their names as the
    file writes them (saved with the model, and for ``--resume``)."""
    if not args.drop:
        args.drop = []
        return frame
    if is_npz:
        raise InputError(
            f"--drop {','.join(args.drop)}: an NPZ file's columns have no names (a model "
            "trained on it takes X's columns in order, all of them); remove those columns "
            "from X instead, or use a CSV file with a header."
        )
    picked = pick_columns(args.drop, "--drop", frame.columns)
    if target in picked:
        raise InputError(
            f"--drop names the target column {target!r}, the column to predict; it cannot "
            "be dropped. Remove it from --drop (the target is never a feature anyway)."
        )
    if len(picked) == len(frame.columns) - (target in frame.columns):
        raise InputError(
            f"--drop {','.join(map(str, picked))} drops every feature column, leaving only the "
            f"target {target!r}; expected at least one feature. Drop fewer columns."
        )
    args.drop = [str(name) for name in picked]
    return frame.drop(columns=picked)


MIN_ROWS_FOR_IDENTIFIERS = 20
"""Below this many rows, :func:`warn_identifiers` says nothing (a few rows of distinct
categories are no sign of an identifier)."""
NEARLY_EVERY_ROW = 0.95
"""A text column with distinct values in at least this fraction of its rows is warned about."""


def identifier_warnings(frame: Any, target: Any) -> list[str]:
    """The warnings (:class:`DataWarning`, one ``warning:`` line each) about feature columns
    of ``frame`` that identify rows rather than describe them: text (one-hot encoded) with a
    different value in nearly every row (a name, an id or a date read as text), and whole
    numbers counting up by 1 (a row number, an id such as ``PassengerId`` 1..n)."""
    import pandas as pd

    n_rows, found = len(frame), []
    if n_rows < MIN_ROWS_FOR_IDENTIFIERS:
        return found
    for name in frame.columns:
        if name == target:
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
    return found


def _counts_up(column: Any) -> bool:
    """Whether the numbers of ``column`` are whole and go up by exactly 1 from row to row."""
    values = column.to_numpy(dtype=float, na_value=np.nan)
    if not np.isfinite(values).all():
        return False
    return bool((values == np.round(values)).all() and (np.diff(values) == 1).all())


_CODE = re.compile(r"\s*[+-]?0\d")
"""A value written like a code, not a number: a leading zero (01, 007)."""


def _labels_as_written(column: Any, path: str, target: str) -> Any:
    """The target ``column`` as the file writes it when whole numbers there are codes (``01``,
    ``02``: read as numbers they would be the classes 1 and 2, and predictions would say
    ``2`` for ``02``); else ``column`` as read. The file is read again, the target as text,
    only for a column of whole numbers."""
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return column
    values = column.dropna().to_numpy(dtype=float)
    if not np.isfinite(values).all() or (values != np.round(values)).any():
        return column
    written = read_data(path, target="y", text_columns=[target], needed=[target])[target]
    if written.dropna().map(lambda value: bool(_CODE.match(str(value)))).any():
        return written
    return column


def _from_dataset(args: argparse.Namespace) -> tuple[Any, Any]:
    """Load a built-in dataset; return (preprocessor for raw columns, dataset)."""
    from ..datasets import load_dataset
    from ..preprocessing import TabularPreprocessor

    data = load_dataset(args.dataset or "digits", seed=args.seed, data_dir=args.data_dir)
    pre = TabularPreprocessor()
    pre.target = "label" if data.name in ("digits", "fashion-mnist") else "target"
    pre.task, pre.impute, pre.classes = data.task, None, data.classes
    pre.columns = [
        {"name": name, "kind": "numeric", "mean": float(mean), "std": float(std), "fill": None}
        for name, mean, std in zip(data.feature_names, data.feature_mean, data.feature_scale)
    ]
    return pre, data


def _encode(pre: Any, data: Any, y: np.ndarray) -> np.ndarray:
    """Targets of a built-in dataset as the network sees them."""
    return pre.transform_target(np.asarray(data.classes)[y] if data.classes else y)


def _network(pre: Any, X: np.ndarray, hidden: list[int], args: argparse.Namespace) -> Any:
    from .. import Network
    from ..activations import get_activation
    from ..losses import get_loss

    kind = "regression" if pre.task != CLASSIFICATION else (
        "binary" if len(pre.classes) == 2 else "multiclass")  # fmt: skip
    activation, loss = _AUTO_LOSS[kind]
    if args.loss != "auto":
        loss = args.loss
        chosen = get_loss(loss)
        if not chosen.takes(get_activation(activation).output_range):
            activation = _OUTPUT_FOR_DOMAIN.get(tuple(chosen.output_domain), activation)
    sizes = [X.shape[1], *hidden, pre.n_outputs]
    rows = len(X) if args.batch_size is None else min(args.batch_size, len(X))
    _check_memory(sizes, rows)  # (a batch holds at most every row; a solver's holds them all)
    return Network(
        sizes, activation=args.activation, output_activation=activation, loss=loss, seed=args.seed
    )


def _check_memory(sizes: list[int], batch_size: int) -> None:
    """Refuse a network that cannot fit in the memory available now (rather than being
    killed by the system halfway through): float32 parameters with their gradients and
    optimizer state (about ten copies), and a batch's activations."""
    try:
        available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: no estimate
        return
    parameters = sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    weights, batch = 4 * 10 * parameters, 4 * 4 * batch_size * sum(sizes)
    if weights + batch > available:
        fix = "smaller --hidden layers" + (" or a smaller --batch-size" if batch > weights else "")
        raise InputError(
            f"a network of layer sizes {sizes} has {parameters:,} parameters and needs about "
            f"{(weights + batch) / 2**30:,.1f} GiB to train in batches of {batch_size:,} rows "
            f"({weights / 2**30:,.1f} GiB for its parameters and their training state, "
            f"{batch / 2**30:,.1f} GiB for a batch), but {available / 2**30:,.1f} GiB of memory "
            f"is available. Use {fix}."
        )


def _standardised(net: Any, classification: bool) -> bool:
    """Whether the targets are standardised for training (regression with a squared-type loss)."""
    return not classification and net.loss.name in _SCALED_LOSSES


def _check_target_fits(Y: np.ndarray, dtype: np.dtype, name: str | None) -> None:
    """Refuse regression targets the network's outputs cannot hold (its predictions are in
    the target's own units): e.g. 1e300 for float32 outputs (largest 3.4e38)."""
    top = float(np.abs(Y).max())
    largest = float(np.finfo(dtype).max)
    if top > largest / 4:  # (room for the outputs to go past the largest target a little)
        raise InputError(
            f"the target {name or 'y'} holds values up to {top:.3g}, too large for the "
            f"network's {np.dtype(dtype).name} outputs (largest {largest:.3g}); predictions "
            "are made in the target's units. Express the target in larger units in the data "
            "(e.g. thousands or millions), and scale the predictions back."
        )


def _mean_std(Y: np.ndarray) -> tuple[float, float]:
    """The targets' mean and standard deviation (1 when constant), computed on ``Y``
    divided by its largest magnitude so that no square overflows (targets near 1e300)."""
    unit = float(np.abs(Y).max()) or 1.0
    scaled = Y / unit
    return unit * float(scaled.mean()), unit * float(scaled.std()) or 1.0


FOLD_RATIO = 2.0**10
"""Beyond this ratio of the targets' mean to their spread (|mean| / std), the output layer's
rescaling is done in float64: in float32 the bias would round the predictions to steps of
up to |mean| * 2**-23, more than 1/8,192 of the spread beyond it (at 1e9 +- 10, steps of 64:
constant predictions)."""


def _fit(
    net: Any, parts: tuple, args: argparse.Namespace, classification: bool
) -> tuple[Any, Any, dict | None]:
    """Train (regression targets standardised, then folded into the output layer); return
    (the network, now in the targets' units, in float64 when float32 cannot hold them
    precisely: :data:`FOLD_RATIO`; the history; the standardisation ``{"mean", "std"}``,
    None when the targets were not standardised). The model file records the last, so
    that ``deltarule explain`` can walk a step in the units training used."""
    X, Y, Xv, Yv = parts
    scaled = _standardised(net, classification)
    mean, std = _mean_std(Y) if scaled else (0.0, 1.0)
    validation = None if Xv is None else (Xv, (Yv - mean) / std)
    metrics = None if classification else ["r2"]
    history = fit_resumable(net, X, (Y - mean) / std, validation, args, metrics)
    if scaled:  # out = std * (W h + b) + mean, exactly, as the output is the identity
        if net.dtype != np.float64 and abs(mean) > FOLD_RATIO * std:
            net = net.astype(np.float64)
        net.weights[-1][...] *= net.dtype.type(std)
        net.biases[-1][...] = net.biases[-1] * net.dtype.type(std) + net.dtype.type(mean)
    return net, history, ({"mean": mean, "std": std} if scaled else None)


def _record(history: Any, args: argparse.Namespace, extra: dict) -> dict:
    """The ``training`` entry of the model file: summary (with settings) and history."""
    keep = [r for r in history.records if r.epoch == history.best_epoch] or history.records[-1:]
    settings = {key: getattr(args, key) for key in (
        "task", "impute", "activation", "loss", "optimizer", "epochs", "batch_size",
        "learning_rate", "validation_split", "patience", "seed")}  # fmt: skip
    settings["hidden"] = extra.pop("hidden")
    settings["drop"] = list(getattr(args, "drop", None) or [])
    summary = {
        "epochs": len(history.records),
        "stop_reason": history.stop_reason,
        "best_epoch": history.best_epoch,
        "final": keep[0].as_dict() if keep else None,
        **extra,
        "settings": settings,
    }
    return {"summary": summary, "history": history.as_dict()}


def _prepare(args: argparse.Namespace) -> tuple[Any, np.ndarray, np.ndarray, Any, str]:
    """Return (preprocessor, X, Y, (X_test, Y_test) or None, data name)."""
    if args.data:
        pre, X, Y = _from_file(args)
        return pre, X, Y, None, data_name(args.data)
    pre, data = _from_dataset(args)
    test = (data.X_test, _encode(pre, data, data.y_test))
    return pre, data.X_train, _encode(pre, data, data.y_train), test, f"built-in {data.name}"


def _score(net: Any, pre: Any, parts: tuple, test: Any, quiet: bool) -> tuple[str, dict]:
    """Score on the test set, else the validation rows, else the training rows; print it."""
    which, (X, Y) = ("test", test) if test else ("validation", parts[2:])
    if X is None:
        which, X, Y = "training", parts[0], parts[1]
    classification = pre.task == CLASSIFICATION
    metrics = score(pre.task, net.predict(X), Y, len(pre.classes) if classification else 0)
    if classification:
        print(f"{which} accuracy: {metrics['accuracy']:.4f} ({len(Y)} rows)")
    else:
        r2 = metrics["r2"]
        r2_text = f"{r2:.4f}" if r2 == r2 else "undefined (R² needs at least 2 rows)"
        print(f"{which} r2: {r2_text}, mse: {metrics['mse']:.6g} ({len(Y)} rows)")
    return which, metrics


def _save(net: Any, pre: Any, out: Path, history: Any, args: argparse.Namespace, extra: dict):  # noqa: ANN202
    from ..io.model_file import save_model

    if _standardised(net, pre.task == CLASSIFICATION):
        extra["note"] = "training losses are on the standardised target"
    training = _record(history, args, extra)
    replacing = out.is_file()  # (overwritten, as a compiler's output is, but said so)
    save_model(net, out, preprocessing=pre.to_dict(), classes=pre.classes, training=training)
    print(f"model saved to {out}" + (" (replacing the file that was there)" if replacing else ""))


def run(args: argparse.Namespace) -> int:
    """Train, report, save the model, then plot (see the module docstring).

    With ``--checkpoint``, the folder is locked for the run (:func:`run_lock`) and the
    settings are written once the inputs are found valid (data read, target checked,
    network built): a run refused for its input leaves the folder free for the next.
    """
    if args.resume:
        args = load_settings(args.resume, args)
    hidden, out = _check_options(args)
    existed = out is not None and out.is_file()  # (an interrupted run leaves it as it is)
    args.plot_existed = bool(args.plot) and Path(args.plot).is_file()  # (and this one too)
    with run_lock(args.checkpoint, "--resume" if args.resume else "--checkpoint"):
        if args.checkpoint and not args.resume:
            check_new_run(args.checkpoint)
        return _train(args, hidden, out, existed)


def _train(args: argparse.Namespace, hidden: list[int], out: Path | None, existed: bool) -> int:
    """The body of :func:`run`, in the locked checkpoint folder."""
    pre, X, Y, test, where = _prepare(args)
    classification = pre.task == CLASSIFICATION
    parts = holdout_split(X, Y, args.validation_split, args.seed, classification)
    net = _network(pre, X, hidden, args)
    if not classification:
        _check_target_fits(Y, net.dtype, args.target)
    for message in getattr(args, "data_warnings", []):  # (none before an error: all checked)
        warnings.warn(message, DataWarning, stacklevel=2)
    if args.checkpoint and not args.resume:
        save_settings(args.checkpoint, args)
        if is_stdin(args.data):
            warnings.warn(
                f"--checkpoint {args.checkpoint}: DATA - is standard input, which cannot be "
                "read again, so this run cannot be continued with --resume; to make a run "
                "resumable, save the data to a file and train on that file.",
                UserWarning,
                stacklevel=2,
            )
    if not args.quiet:
        n_val = 0 if parts[3] is None else len(parts[3])
        scale = "; losses on the standardised target" if _standardised(net, classification) else ""
        print(
            f"training {net.layer_sizes} ({net.loss.name}) on {where}: {len(parts[1])} "
            f"training and {n_val} validation rows{scale}",
            file=sys.stderr,
        )
    start = time.perf_counter()
    net, history, scaling = _fit(net, parts, args, classification)
    seconds = time.perf_counter() - start
    interrupted, status, target = _outcome(history, out, existed)
    which, metrics = _score(net, pre, parts, test, args.quiet)
    standardised = _standardised(net, classification)
    if target is not None:
        extra = {"data": where, "rows": len(Y), "seconds": seconds, f"{which}_metrics": metrics}
        if scaling is not None:
            extra[TARGET_RECORD] = scaling
        _save(net, pre, target, history, args, {**extra, "hidden": hidden})
    if args.plot:  # after the model: a plot that fails must not lose the training
        plot = Path(args.plot)
        if interrupted and args.plot_existed:  # beside the earlier run's, as the model
            plot = plot.with_name(f"{plot.stem}.interrupted{plot.suffix}")
        _plot(history, str(plot), where, standardised, target)
    if interrupted:  # kept what was trained, but say so
        print(f"interrupted: {history.stop_reason}{_kept(out, target, args)}", file=sys.stderr)
        return status
    return 0


def _plot(history: Any, path: str, where: str, standardised: bool, model: Path | None) -> None:
    """Write the loss curves to ``path``; when that fails, raise an error that says where the
    model was saved (the command then exits with status 2, the model kept)."""
    from ..plots import save_training_curves

    label = "loss (standardised target)" if standardised else "loss"
    try:
        save_training_curves(
            history.as_dict(), path, title=f"training on {where}", loss_label=label
        )
    except Exception as exc:  # (any: the model is saved, say so with the reason)
        reason = str(exc).strip().replace("\n", " ").rstrip(".") or type(exc).__name__
        kept = (
            f" The model is complete, its history included (deltarule inspect {model})."
            if model is not None
            else ""
        )
        saved = f"the model was saved to {model}, but " if model is not None else ""
        raise InputError(f"{saved}the plot {path} could not be written: {reason}.{kept}") from exc
    print(f"plot saved to {path}")


def _outcome(history: Any, out: Path | None, existed: bool) -> tuple[bool, int, Path | None]:
    """Return (whether the run was interrupted, the exit status, where the model goes).

    An interrupted run's stop reason names the signal (the training loop's, which the
    command line's SIGTERM relay calls with that signal); its model does not replace a file
    ``out`` that existed before the run (``existed``) but goes beside it:
    ``model.safetensors`` -> ``model.interrupted.safetensors``.
    """
    if not history.stop_reason.startswith("interrupted"):
        return False, 0, out
    _, status = stop_signal()
    if out is None or not existed:
        return True, status, out
    return True, status, out.with_name(f"{out.stem}.interrupted{out.suffix}")


def _kept(out: Path | None, target: Path | None, args: argparse.Namespace) -> str:
    """What an interrupted run's message adds: where the model went, how to continue."""
    from ..io.checkpoint import CHECKPOINT_FILE

    text = "" if target is None else f"; the model trained so far is in {target}"
    if target is not None and target != out:
        text += f" ({out}, which existed before this run, is left as it was)"
    resumable = not is_stdin(args.data)  # (standard input cannot be read again)
    if resumable and args.checkpoint and (Path(args.checkpoint) / CHECKPOINT_FILE).exists():
        text += f"; continue the run with 'deltarule train --resume {args.checkpoint}'"
    return text
