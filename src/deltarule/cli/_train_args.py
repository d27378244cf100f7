"""The options of ``deltarule train``: their definitions and ``--help`` text
(:data:`DESCRIPTION`, :data:`EPILOG`, the options in help order), the record of which were
given (for ``--resume``, which refuses them), and the checks made before any work
(:func:`check_options`: ranges, the optimizer's use of --batch-size and --learning-rate, and
the data, output and checkpoint paths)."""

from __future__ import annotations

import argparse
import os
from math import inf
from pathlib import Path
from typing import Any

from ..datasets import DATASETS
from ..exceptions import InputError
from ._common import TABLE_OPTIONS, check_distinct, split_names
from ._resume import check_folder
from ._stdin import is_stdin, refuse_stdin, refuse_stdout

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DESCRIPTION",
    "EPILOG",
    "add_arguments",
    "check_options",
    "parse_hidden",
]

DESCRIPTION = """Train a multi-layer perceptron by backpropagation.

With DATA (CSV, TSV, Parquet, NPZ with arrays X and y, or FANN's .data; text may
be .gz) and --target, train on
that table: numbers are standardised, text is one-hot encoded, the task is
detected (--task overrides) and the model is saved with its preprocessing.
A .csv file's separator (comma, semicolon or tab) is guessed; --sep gives
another, and --no-header reads a file without a header line (UCI's .data).
Outputs and loss: softmax + categorical_crossentropy for several classes,
sigmoid + binary_crossentropy for two, identity + mse for numbers (--loss
overrides: --loss binary_crossentropy with several classes gives a sigmoid per
class, one-vs-rest). DATA - reads standard input (CSV; Parquet and NPZ are recognised
by their first bytes) and needs --out. Without DATA, train on a built-in
dataset and report test accuracy ('deltarule data NAME' writes one as CSV).
"""
EPILOG = """examples:
  deltarule train                                    # built-in digits, prints test accuracy
  deltarule train houses.csv --target price --hidden 64,32 --plot curves.png
  cat houses.csv | deltarule train - --target price --out houses.safetensors
  deltarule train iris.csv --target species --out iris.safetensors   # until it stops improving
  deltarule train iris.csv --target species --test-split 0.2   # prints test accuracy
  deltarule train --dataset fashion-mnist --hidden 128 --epochs 20 --out fashion.safetensors
  deltarule train big.csv --target y --checkpoint runs/big   # then, after a crash:
  deltarule train --resume runs/big
"""


DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".parquet", ".npz", ".gz", ".data")
"""Extensions of data files: a model written under one would be taken for data."""


def _names(*registries: dict[str, Any]) -> str:
    """The names of registries' entries for ``--help``, each entry once (an alias, a second
    name for the same object, is left out: ``linear`` for ``identity``)."""
    first: dict[int, str] = {}
    for registry in registries:
        for name, entry in registry.items():
            first.setdefault(id(entry), name)
    return ", ".join(first.values())


def uses_every_row(optimizer: Any) -> bool:
    """Whether ``optimizer`` (a registry's entry, or one made from it) trains on every row
    in each step rather than in ``--batch-size`` batches: one that sizes its own steps
    (``step_rule`` set: the full-batch solvers, and iRprop/Rprop, whose sign rules compare
    whole-batch gradients). :func:`check_options` goes by it, and ``--help`` names them."""
    return getattr(optimizer, "step_rule", None) is not None


def every_row(*registries: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``registries`` that use every row (:func:`uses_every_row`)."""
    return {
        name: entry
        for registry in registries
        for name, entry in registry.items()
        if uses_every_row(entry)
    }


def _default_rates() -> str:
    """The optimizers' default learning rates for ``--help``, each rate once with the
    optimizers that take it: ``0.001 for adam, adamw, rmsprop; 0.01 for sgd, ...`` (those
    that size their own steps, :func:`uses_every_row`, have none)."""
    import inspect

    from ..optimizers import OPTIMIZERS

    rates: dict[float, list[str]] = {}
    for name, entry in _unaliased(OPTIMIZERS).items():
        if uses_every_row(entry):
            continue
        parameter = inspect.signature(entry).parameters.get("learning_rate")
        if parameter is not None and isinstance(parameter.default, float):
            rates.setdefault(parameter.default, []).append(name)
    return "; ".join(f"{rate:g} for {', '.join(names)}" for rate, names in rates.items())


def _unaliased(registry: dict[str, Any]) -> dict[str, Any]:
    """``registry`` without its aliases (second names of an entry), as :func:`_names`."""
    first: dict[int, str] = {}
    for name, entry in registry.items():
        first.setdefault(id(entry), name)
    return {name: registry[name] for name in first.values()}


def _registry_help() -> dict[str, str]:
    """The ``--help`` texts of --activation, --loss and --optimizer, naming their choices
    (the registries are plain dicts: importing them loads neither scipy nor pandas)."""
    from ..activations import ACTIVATIONS
    from ..losses import LOSSES
    from ..optimizers import OPTIMIZERS
    from ..solvers import SOLVERS

    hidden = {name: act for name, act in ACTIVATIONS.items() if act.name != "softmax"}
    return {
        "--learning-rate": f"the step size (default: the optimizer's: {_default_rates()})",
        "--batch-size": f"batch size (default: {DEFAULT_BATCH_SIZE}; "
        f"{_names(every_row(SOLVERS, OPTIMIZERS))} use every row)",
        "--activation": f"hidden activation: {_names(hidden)} (default: relu)",
        "--loss": f"loss: auto (see above), {_names(LOSSES)} (default: auto)",
        "--optimizer": f"optimizer: {_names(OPTIMIZERS, SOLVERS)} (default: adam)",
    }


def whole_number(text: str) -> int:
    """An option's count: ``100``, ``1_000`` or ``1e5`` (a whole number however written:
    R's ``stepmax=1e5``); ``2.5`` or ``ten`` is a usage error naming what is expected."""
    import argparse
    import math

    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value == int(value)):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number; expected e.g. 100, 1_000 or 1e5"
        )
    return int(value)


AUTO_EPOCHS = "auto"
"""``--epochs``'s default: train until early stopping on the validation loss ends the run
(:func:`resolve_epochs`), up to :data:`MAX_AUTO_EPOCHS`."""
MAX_AUTO_EPOCHS = 1000
"""The most epochs ``--epochs auto`` trains: a run whose validation loss still falls by a
little every few epochs (a tiny validation set that is all correct) ends there."""
FIXED_EPOCHS = 100
"""The epochs ``--epochs auto`` trains when nothing would stop the run early: no
validation rows (``--validation-split 0``), ``--patience 0``, or a stopping rule that
decides alone (the count every run trained before ``auto``, when it was the default)."""


MIN_DELTA = 1e-4
"""``--min-delta``'s default, scikit-learn's ``tol``: early stopping counts a fall of the
watched loss (the validation loss, else the training loss) as an improvement only when it is
larger than this. Without it, a tiny validation set that is all correct kept improving by
~1e-5 an epoch (its probabilities still sharpening) and ``--epochs auto`` ran to
:data:`MAX_AUTO_EPOCHS` (7 of 10 seeds of the built-in wine; with it 2 of 10, at the same
test accuracy)."""


def epochs_value(text: str) -> int | str:
    """``--epochs``: a whole number (:func:`whole_number`) or ``auto``."""
    if text.strip().lower() == AUTO_EPOCHS:
        return AUTO_EPOCHS
    try:
        return whole_number(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a whole number nor auto; expected e.g. 100, 1_000, 1e5 or auto"
        ) from None


def resolve_epochs(args: argparse.Namespace, has_validation: bool) -> None:
    """Replace ``--epochs auto`` by its count, now that the validation rows are known:
    :data:`MAX_AUTO_EPOCHS` when early stopping watches the validation loss (the run then
    ends when it stops improving), else :data:`FIXED_EPOCHS`. ``args.epochs_auto`` records
    that the count was chosen so (the model file's settings and a checkpoint's keep it; a
    resumed run keeps the count)."""
    if args.epochs != AUTO_EPOCHS:
        args.epochs_auto = bool(getattr(args, "epochs_auto", False))  # (a resumed run's)
        return
    stops_early = has_validation and args.patience > 0
    args.epochs = MAX_AUTO_EPOCHS if stops_early else FIXED_EPOCHS
    args.epochs_auto = True


_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("--target", {"metavar": "COLUMN", "help": "the column to predict (an NPZ file's is y; "
                  "with --no-header, a column's number such as 4); several separated by "
                  "commas, e.g. --target y1,y2, train a multi-output regression (numbers "
                  "each, one output per target; a column named exactly so is one target)"}),
    ("--task", {"choices": ("auto", "classification", "regression"), "default": "auto",
                "help": "what to predict: classes or numbers (default: auto, detected from "
                "the target: text, true/false or a few whole numbers are classes)"}),
    ("--drop", {"metavar": "COLUMNS", "help": "columns of DATA that are not features, "
                "separated by commas (an id, a name), e.g. --drop PassengerId,Name"}),
    ("--features", {"metavar": "COLUMNS", "help": "the only columns of DATA to use as "
                    "features, separated by commas (R's y ~ a + b): the others, but the "
                    "target, are dropped; e.g. --features age,fare"}),
    ("--impute", {"choices": ("mean", "median", "most_frequent"),
                  "help": "fill missing feature values (default: they are an error)"}),
    *TABLE_OPTIONS,
    ("--dataset", {"help": "built-in dataset when there is no DATA: "
                   f"{', '.join(DATASETS)} (default: digits)"}),
    ("--data-dir", {"metavar": "DIR", "help": "folder with the Fashion-MNIST IDX files"}),
    ("--hidden", {"default": "64", "help": "hidden layer sizes, e.g. 64,32; 0 for no hidden "
                  "layer (default: 64)"}),
    ("--activation", {"default": "relu"}),
    ("--loss", {"default": "auto"}),
    ("--optimizer", {"default": "adam"}),
    ("--epochs", {"type": epochs_value, "default": AUTO_EPOCHS, "metavar": "N",
                  "help": "epochs to train at most, or auto (default: auto: until the "
                  "validation loss stops improving for --patience epochs, at most "
                  f"{MAX_AUTO_EPOCHS:,}; {FIXED_EPOCHS} when nothing stops the run early: "
                  "--validation-split 0, --patience 0, or a stopping rule below)"}),
    ("--batch-size", {"type": whole_number}),  # (help: _registry_help, naming every_row)
    ("--learning-rate", {"type": float, "metavar": "LR"}),  # (help: _registry_help)
    ("--l2", {"type": float, "default": 0.0, "metavar": "ALPHA",
              "help": "L2 penalty on the weights: ALPHA/2 times their sum of squares added to "
              "each batch's mean loss (scikit-learn's alpha is ALPHA times the batch size) "
              "(default: 0)"}),
    ("--dropout", {"type": float, "default": 0.0, "metavar": "P",
                   "help": "fraction of each hidden layer's units dropped at random in "
                   "training (default: 0)"}),
    ("--class-weight", {"choices": ("balanced",),
                        "help": "balanced: weigh each class by the inverse of its frequency, "
                        "so that rare classes count as much as common ones (classification; "
                        "default: every row alike)"}),
    ("--validation-split", {"type": float, "default": 0.1, "metavar": "F",
                            "help": "fraction of rows held out (default: 0.1; 0 for none)"}),
    ("--test-split", {"type": float, "default": 0.0, "metavar": "F",
                      "help": "fraction of DATA's rows held out from training and validation, "
                      "scored once at the end: the test score (default: 0, none; a built-in "
                      "dataset has its own test rows)"}),
    ("--patience", {"type": whole_number, "default": 10,
                    "help": "stop after this many epochs without improvement (default: 10; "
                    "0: never, the default with --target-error or --until-all-correct)"}),
    ("--min-delta", {"type": float, "default": MIN_DELTA, "metavar": "D",
                     "help": "the least fall of the watched loss that counts as an "
                     f"improvement for --patience (default: {MIN_DELTA:g}, scikit-learn's "
                     "tol; 0: any fall)"}),
    ("--target-error", {"type": float, "metavar": "E",
                        "help": "stop when the training loss is at most E (the tutorial's "
                        "rule; a regression's loss is on the standardised target); this rule "
                        "then decides, up to --epochs: early stopping is off unless "
                        "--patience is given too (then the first rule met stops)"}),
    ("--gradient-threshold", {"type": float, "metavar": "E",
                              "help": "stop when every partial derivative of the summed "
                              "training error is below E (R neuralnet's threshold, 0.01 there, "
                              "on its err.fct sse: --loss half_squared_error; a regression's "
                              "target is standardised); as --target-error, it turns early "
                              "stopping off unless --patience is given"}),
    ("--until-all-correct", {"action": "store_true",
                             "help": "stop when every training example is classified "
                             "correctly (the tutorial's other rule; classification only); "
                             "as --target-error, it turns early stopping off unless "
                             "--patience is given"}),
    ("--seed", {"type": int, "default": 0, "help": "random seed (default: 0)"}),
    ("--out", {"metavar": "MODEL", "help": "model file (default with DATA: <stem>.safetensors)"}),
    ("--plot", {"metavar": "PATH", "help": "write loss curves to PATH (.png or .svg)"}),
    ("--quiet", {"action": "store_true", "help": "no progress output"}),
    ("--report-every", {"type": whole_number, "metavar": "N",
                        "help": "print progress every N epochs, the first and the last "
                                "(default: every epoch up to 1,000, at most ~1,000 lines "
                                "of a longer run)"}),
    ("--checkpoint", {"metavar": "DIR", "help": "save a resumable checkpoint in DIR"}),
    ("--checkpoint-every", {"type": whole_number, "metavar": "N",
                            "help": "checkpoint every N epochs (default: 1)"}),
    ("--resume", {"metavar": "DIR", "help": "continue the run checkpointed in DIR"}),
]  # fmt: skip
"""The options after DATA, in ``--help`` order."""
DEFAULT_BATCH_SIZE = 32
"""``--batch-size`` when not given, for a first-order optimizer with a learning rate (the
others, :func:`uses_every_row`: lbfgs, lm, iRprop and Rprop, which size their own steps from
whole-batch gradients, use every row)."""

_RANGES = {
    "--epochs": "a positive integer such as 100, or auto",
    "--batch-size": "a positive integer such as 32",
    "--patience": "0 (never stop early) or more",
    "--min-delta": "a number >= 0 such as 0.0001 (0: any fall of the loss counts)",
    "--learning-rate": "a positive number such as 0.001",
    "--l2": "a number >= 0 such as 0.0001",
    "--dropout": "a fraction in [0, 1) such as 0.2",
    "--target-error": "a positive number such as 0.01",
    "--gradient-threshold": "a positive number such as 0.01",
    "--validation-split": "a fraction in [0, 1) such as 0.1, or 0 for no validation",
    "--test-split": "a fraction in [0, 1) such as 0.2, or 0 for no test rows",
    "--checkpoint-every": "a positive integer such as 1",
    "--report-every": "a positive integer such as 10",
    "--seed": "an integer >= 0 such as 0",
}


def refuse_empty_folders(args: argparse.Namespace) -> None:
    """Refuse an empty ``--checkpoint`` or ``--resume`` (an unset shell variable's: taken as
    not given, the run would keep no checkpoint, or start anew instead of resuming)."""
    for flag, value, expected in (
        ("--resume", args.resume, "the folder a run was checkpointed in (its --checkpoint)"),
        ("--checkpoint", args.checkpoint, "a folder to keep the run's checkpoints in"),
    ):
        if value is not None and not value.strip():
            raise InputError(f"{flag} is empty; expected {expected}, such as runs/big.")


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


class _GivenFlag(_Given):
    """A flag (``--no-header``): True when given, recorded as :class:`_Given` records."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, nargs=0, default=False, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        super().__call__(parser, namespace, True, option_string)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add DATA and the options after it, in ``--help`` order, each recorded when given."""
    parser.add_argument(
        "data", nargs="?", metavar="DATA", help="training data file; - for standard input"
    )
    helps = _registry_help()
    for flag, options in _OPTIONS:
        given = {"action": _Given, "help": helps.get(flag)}
        if flag == "--no-header":  # (a flag recorded when given, as the others are)
            options = {key: value for key, value in options.items() if key != "action"}
            given["action"] = _GivenFlag
        parser.add_argument(flag, **(given | options))


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


def _out_of_range(value: float | None) -> bool:
    """Whether an optional positive setting was given out of (0, inf)."""
    return value is not None and not 0 < value < inf


def check_options(args: argparse.Namespace) -> tuple[list[int], Path | None]:
    """Check what can be checked before any work; return (hidden sizes, model path or None)."""
    from ..solvers import get_first_order, get_solver

    hidden = parse_hidden(args.hidden)
    if isinstance(args.drop, str):  # (a resumed run's is the list it saved)
        args.drop = split_names(args.drop, "--drop")
    if isinstance(getattr(args, "features", None), str):
        args.features = split_names(args.features, "--features")
        if args.drop:
            raise InputError(
                "give --features (the columns to keep) or --drop (the columns to leave "
                "out), not both."
            )
    for flag, bad in [
        ("--epochs", args.epochs != AUTO_EPOCHS and args.epochs < 1),
        ("--batch-size", args.batch_size is not None and args.batch_size < 1),
        ("--patience", args.patience < 0),
        ("--min-delta", not 0 <= (getattr(args, "min_delta", None) or 0.0) < inf),
        ("--checkpoint-every", args.checkpoint_every is not None and args.checkpoint_every < 1),
        ("--report-every", args.report_every is not None and args.report_every < 1),
        ("--learning-rate", args.learning_rate is not None and not 0 < args.learning_rate < inf),
        ("--l2", not 0 <= (args.l2 or 0.0) < inf),
        ("--dropout", not 0 <= (args.dropout or 0.0) < 1),
        ("--target-error", args.target_error is not None and not 0 < args.target_error < inf),
        ("--gradient-threshold", _out_of_range(getattr(args, "gradient_threshold", None))),
        ("--seed", args.seed < 0),
        ("--validation-split", not 0 <= args.validation_split < 1),
        ("--test-split", not 0 <= (args.test_split or 0) < 1),
    ]:
        if bad:
            value = getattr(args, flag[2:].replace("-", "_"))
            raise InputError(f"{flag} {value} is out of range; expected {_RANGES[flag]}.")
    rules = (
        args.target_error is not None
        or getattr(args, "until_all_correct", False)
        or getattr(args, "gradient_threshold", None) is not None
    )
    if rules and not args.resume and "patience" not in getattr(args, "given_options", []):
        args.patience = 0  # (the rule asked for decides; recorded so, for --resume too)
    if args.patience == 0 and "min_delta" in getattr(args, "given_options", []):
        why = "--patience 0" if "patience" in args.given_options else "a stopping rule decides"
        raise InputError(
            f"--min-delta {args.min_delta:g} would be ignored: early stopping is off ({why}), "
            "and --min-delta is the least fall of the loss it counts. Give --patience N "
            "too (e.g. --patience 10), or leave --min-delta out."
        )
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
        if args.batch_size is None and not uses_every_row(rule):
            args.batch_size = DEFAULT_BATCH_SIZE  # (iRprop: every row, as it is meant to)
        return _check_paths(args, hidden)
    random = "a random objective, which its steps cannot follow" if args.dropout else None
    cannot = [(f"--dropout {args.dropout:g}", random)]
    if solver.name == "lm" and args.l2:
        cannot.append((f"--l2 {args.l2:g}", "its steps solve for the squared error alone"))
    for option, why in cannot:
        if why is not None:
            keeps = " (lbfgs takes --l2)" if option.startswith("--l2") else ""
            raise InputError(
                f"--optimizer {args.optimizer} cannot train with {option}: {why}. Leave it "
                f"out, or choose a first-order optimizer such as --optimizer adam{keeps}."
            )
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


def _refuse_device(out: Path | None) -> None:
    """Refuse a device as the model file (``--out /dev/full``): a write to it cannot be
    checked before the run, so the trained model would be lost at its end. The null device
    (``--out /dev/null``: train without keeping the model) and pipes are written as given."""
    import stat

    try:
        mode = os.stat(out).st_mode if out is not None else 0
    except OSError:  # (not there yet: checked as a new file is)
        return
    if not (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) or _is_null(out):
        return
    raise InputError(
        f"--out {out} is a device, not a regular file; expected a model file path such as "
        "model.safetensors (or /dev/null to discard the model)."
    )


def _is_null(path: Path | None) -> bool:
    try:
        return path is not None and os.path.samefile(path, os.devnull)
    except OSError:
        return False


def _refuse_run_files(folder: str, outputs: dict[str, Any]) -> None:
    """Refuse an output that is one of the checkpoint folder's own files (its checkpoint,
    settings or lock): written there, it would spoil the run's resume."""
    from ..io.checkpoint import CHECKPOINT_FILE
    from ._resume import LOCK_FILE, SETTINGS_FILE

    own = {os.path.realpath(os.path.join(folder, name)): name
           for name in (CHECKPOINT_FILE, SETTINGS_FILE, LOCK_FILE)}  # fmt: skip
    for option, path in outputs.items():
        name = own.get(os.path.realpath(path)) if path else None
        if name is not None:
            raise InputError(
                f"{option} {path} is the checkpoint folder's own {name}; writing there would "
                f"spoil the run's checkpoint (--resume {folder} could not continue it). "
                f"Choose a path outside the folder or another name, e.g. {option} "
                f"{os.path.join(folder, 'model.safetensors')}."
            )


def _refuse_model_as_data(data: str | None) -> None:
    """Refuse a model file (safetensors, told by its first bytes) given as DATA, saying so
    first: its default ``--out`` is the file itself, which would be the message otherwise."""
    from .._reading import file_kind

    if not data or is_stdin(data) or not os.path.isfile(data):
        return  # (standard input, a missing file: the reader says what it is)
    try:
        with open(data, "rb") as handle:
            head = handle.read(16)
        kind = file_kind(head, os.path.getsize(data))
    except OSError:
        return
    if kind == "safetensors":
        raise InputError(
            f"DATA {data} is a model file (safetensors), not a data table; train takes a table "
            "to learn from (CSV or TSV, Parquet, or NPZ) with --target COLUMN. To use the "
            f"model, run 'deltarule predict {data} DATA' (or evaluate); to continue an "
            "interrupted run, 'deltarule train --resume DIR'."
        )


def _check_paths(args: argparse.Namespace, hidden: list[int]) -> tuple[list[int], Path | None]:
    """The rest of :func:`check_options`: the data, output and checkpoint paths."""
    from ..plots import check_plot_path

    if args.data and (args.dataset or args.data_dir):
        raise InputError("give DATA or --dataset/--data-dir, not both; DATA is a file to train on.")
    _refuse_model_as_data(args.data)  # (before --out, which defaults to the same name)
    if not args.data and getattr(args, "features", None):
        raise InputError(
            f"--features {','.join(args.features)} names columns of DATA, but no DATA file "
            "was given; a built-in --dataset has its own features. Drop --features, or give "
            "the data file."
        )
    if not args.data and args.drop:
        raise InputError(
            f"--drop {','.join(args.drop)} names columns of DATA, but no DATA file was given; "
            "a built-in --dataset has its own features. Drop --drop, or give the data file."
        )
    table = [
        flag
        for flag, on in (
            ("--sep", getattr(args, "sep", None) is not None),
            ("--no-header", getattr(args, "no_header", False)),
        )
        if on
    ]
    if not args.data and table:
        raise InputError(
            f"{' and '.join(table)} {'say' if len(table) > 1 else 'says'} how to read DATA, "
            "but no DATA file was given; a built-in --dataset is not read from text. Drop "
            f"{' and '.join(table)}, or give the data file."
        )
    if not args.data and args.test_split:
        raise InputError(
            f"--test-split {args.test_split} holds out rows of DATA, but no DATA file was "
            "given; a built-in --dataset has its own test rows (its test accuracy is "
            "printed). Drop --test-split, or give the data file."
        )
    if (args.test_split or 0) + args.validation_split >= 1:
        raise InputError(
            f"--test-split {args.test_split} and --validation-split {args.validation_split} "
            "together hold out every row; expected fractions that leave rows to train on, "
            "e.g. --test-split 0.2 --validation-split 0.1."
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
    if args.checkpoint_every is not None and not args.checkpoint:
        raise InputError(
            f"--checkpoint-every {args.checkpoint_every} says how often to write the run's "
            "checkpoint, but no --checkpoint DIR was given to write it in. Add --checkpoint "
            "DIR (e.g. --checkpoint runs/big), or drop --checkpoint-every."
        )
    refuse_stdout(args.out, "--out", "a model file", "model.safetensors")
    refuse_stdout(args.plot, "--plot", "a PNG or SVG image", "curves.png")
    refuse_stdout(args.checkpoint, "--checkpoint", "a checkpoint", "runs/big", "folder")
    refuse_stdin(
        args.data_dir, "--data-dir", "Fashion-MNIST", "the folder of its IDX files", "folder"
    )
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
        _refuse_run_files(args.checkpoint, {"--out": out, "--plot": args.plot})
    _refuse_device(out)
    given = args.out if args.out else out  # (as typed: 'models/' names a folder)
    check_distinct({"DATA": args.data}, {"--out": given, "--plot": args.plot})  # and writable
    if args.out and out is not None and out.suffix.lower() in DATA_SUFFIXES:
        raise InputError(
            f"--out {args.out}: a model is written as safetensors, but the name ends in "
            f"{out.suffix} (a data file's); expected a name such as "
            f"{out.with_suffix('.safetensors').name}. Predictions are written by deltarule "
            "predict MODEL DATA --out FILE."
        )
    return hidden, out
