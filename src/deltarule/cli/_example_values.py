"""``deltarule explain``'s example: --input and --target parsed and checked against the
network (its input count, its dtype's range, its loss's targets) in the command line's
terms; a --raw row put through the model's preprocessing; and a model trained on a
standardised target put back in the units it was trained in.

``deltarule train`` standardises a regression target, trains on (target − mean)/std, then
rescales the output layer so that the saved network predicts in the target's units
(W' = std·W, b' = std·b + mean). A file whose training summary records that mean and std
(:data:`TARGET_RECORD`) is walked in the units training used: :func:`as_trained` divides the
rescaling back out, so that the walk is training's arithmetic and its step training's.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "INPUT_SCALE",
    "RAW_HINT",
    "STANDARDISED_NOTE",
    "TARGET_RECORD",
    "RawExample",
    "TargetScaling",
    "TrainingRate",
    "as_trained",
    "TrainingUnits",
    "check_values",
    "in_training_units",
    "parse_row",
    "parse_targets",
    "raw_example",
    "target_hint",
    "target_scaling",
    "training_rate",
]

TARGET_RECORD = "target_standardisation"
"""The key of a model file's training summary (``header["training"]["summary"]``) that
holds ``{"mean": m, "std": s}``: the target was standardised, :math:`(y - m)/s`, for
training, and the output layer rescaled afterwards."""
STANDARDISED_NOTE = "standardised target"
"""Words of the training summary's ``note`` of a model trained on a standardised target
(``"training losses are on the standardised target"``), which files written before
:data:`TARGET_RECORD` have without the mean and std."""


RAW_HINT = "(or --raw for a row of the model's data columns)"
"""What a wrong count of --input values may mean: a row of the data was meant."""


def parse_row(
    text: str, option: str, width: int | None = None, what: str = "", hint: str = RAW_HINT
) -> np.ndarray:
    """Parse ``"0.1,0.7,0.3"`` into a 1-D float array (of ``width`` values, when given: the
    network's ``what``; ``hint`` ends the error of a wrong count).

    Raises
    ------
    InputError
        For an empty value (``1,,2``), a value that is not a number, or the wrong count.
    """
    from ..exceptions import InputError

    example = "such as 0.05,0.1"
    if not text.strip():
        raise InputError(f"{option} must be comma-separated numbers {example}; received {text!r}.")
    values = []
    for position, part in enumerate(text.split(","), start=1):
        if not part.strip():
            raise InputError(
                f"{option} has an empty value at position {position} ({text!r}); give a "
                f"number between every two commas, {example}."
            )
        try:
            values.append(float(part))
        except ValueError:
            raise InputError(
                f"{option} value {position} is {part.strip()!r}, not a number; expected "
                f"comma-separated numbers {example}."
            ) from None
    if width is not None and len(values) != width:
        raise InputError(
            f"{option} has {len(values)} value(s) ({text}); the model's network has {width} "
            f"{what if width != 1 else what.rstrip('s')}, so give "
            f"{f'{width} comma-separated numbers' if width != 1 else 'one number'} {hint}."
        )
    return np.array(values)


INPUT_SCALE = (
    "--input is the network's own input values, after the model's preprocessing "
    "(standardised: usually within about ±5); to give a row of the data's columns as in "
    "its CSV file, add --raw"
)
_TARGET_RANGES = {  # loss -> what --target takes (the losses that refuse some targets)
    "binary_crossentropy": "a value from 0 to 1 for each output (1: the class it stands "
    "for, 0: not)",
    "categorical_crossentropy": "values from 0 to 1, one per output, summing to 1, such as "
    "the one-hot 0,1,0 for the second class",
    "poisson": "counts or rates >= 0",
}


def target_hint(network: Any, classes: list[Any] | None) -> str:
    """What --target takes, for the error of a wrong count: the desired output values."""
    n, activation = network.n_outputs, network.layers[-1].activation.name
    labels = list(classes or [])
    predicted = "or leave --target out to explain the predicted class"
    if activation == "softmax":
        named = repr(labels[0]) if len(labels) == n else "the first class"
        one_hot = ",".join(["1"] + ["0"] * (n - 1))
        return f"(the one-hot of the desired class, e.g. {one_hot} for {named}; {predicted})"
    if activation == "sigmoid" and n == 1:
        named = f"class {labels[1]!r}" if len(labels) == 2 else "the class it stands for"
        return f"(the desired output from 0 to 1, e.g. 1 for {named}; {predicted})"
    if activation == "sigmoid":
        return f"(a desired value from 0 to 1 for each output; {predicted})"
    if n == 1:
        return "(the desired output; a regression model's in the target's units)"
    return "(the desired value of each output)"


def parse_targets(text: str, names: list[str]) -> np.ndarray:
    """Parse --target for a model of several regression targets (``names``, in output
    order): one finite number per target, comma-separated, in the data's units.

    Raises
    ------
    InputError
        For the wrong count, an empty value or one that is not a number, NaN or infinity;
        each naming the targets and giving an example.
    """
    from ..exceptions import InputError

    fix = (
        f"give one number per target ({', '.join(names)}), in that order, in the data's "
        f"units, e.g. --target {','.join(['1.5'] * len(names))}"
    )
    cells = text.split(",")
    if len(cells) != len(names):
        raise InputError(
            f"--target {text!r} has {len(cells)} value(s) but the model has {len(names)} "
            f"targets; {fix}."
        )
    values = []
    for position, (name, cell) in enumerate(zip(names, cells), start=1):
        try:
            value = float(cell)
        except ValueError:
            shown = "empty" if not cell.strip() else f"{cell.strip()!r}, not a number"
            raise InputError(
                f"--target {text!r}: value {position} (target {name}) is {shown}; {fix}."
            ) from None
        if not math.isfinite(value):
            raise InputError(
                f"--target {text!r}: value {position} (target {name}) is {value}, not a "
                f"finite number; {fix}."
            )
        values.append(value)
    return np.array(values)


def check_values(values: np.ndarray, option: str, network: Any, raw: bool = False) -> None:
    """Refuse --input or --target values the network cannot take: NaN, infinity, numbers
    beyond its dtype's range, and targets outside its loss's range.

    ``raw``: the values came from --raw's row through the model's preprocessing.
    """
    from .._validation import check_target_range
    from ..exceptions import InputError

    largest = float(np.finfo(network.dtype).max)
    for position, value in enumerate(values, start=1):
        if not math.isfinite(value):
            source = "the --raw row's value" if raw else "value"
            raise InputError(
                f"{option} {source} {position} is {value}; expected finite numbers (no nan or inf)."
            )
        if abs(value) > largest:
            if option == "--target":
                hint = "give a target within that range"
            elif raw:
                hint = "check this row's values (and their units)"
            else:
                hint = INPUT_SCALE
            raise InputError(
                f"{option} value {position} is {value:g}, beyond the largest number the "
                f"model computes with ({network.dtype}: {largest:.3g}); {hint}."
            )
    if option == "--target":
        loss = network.loss.name
        shown = ",".join(f"{v:g}" for v in values)
        try:
            check_target_range(values.reshape(1, -1), loss, "y")
        except InputError:
            raise InputError(
                f"--target {shown} is outside what the model's {loss} loss takes: "
                f"{_TARGET_RANGES.get(loss, 'targets in its range')}."
            ) from None
        if loss == "categorical_crossentropy" and abs(float(values.sum()) - 1.0) > 1e-3:
            # (0,0,0: the error and every gradient would be 0, a walk with nothing to show)
            raise InputError(
                f"--target {shown} sums to {float(values.sum()):g}; the model's {loss} loss "
                f"takes {_TARGET_RANGES[loss]}."
            )


# ------------------------------------------------------------------- a --raw row
class RawExample(NamedTuple):
    """A --raw row as the network sees it."""

    x: np.ndarray
    """The network's inputs, shape (n_inputs,)."""
    y: np.ndarray | None
    """The target as the model's preprocessing encodes it (a regression target in its own
    units; one-hot classes), or None."""
    inputs: list[Any]
    """One :class:`~deltarule.explain.DataValue` per network input: where it came from."""
    note: str = ""
    """What the reader must know of the row ("" when nothing): its empty cells' fill."""


def raw_example(model: Any, row: str, target: str | None) -> RawExample:
    """The network's input (and target) for one raw row of ``model``'s data columns (a
    :class:`~deltarule.cli._common.Model`), read as a CSV row would be and passed through
    the model's own preprocessing."""
    import csv
    import io

    import pandas as pd

    from ..exceptions import InputError

    names = [str(name) for name in model.pre.feature_names]
    cells = next(csv.reader([row]), [])
    if len(cells) != len(names):
        shown = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
        raise InputError(
            f"--input has {len(cells)} value(s) but the model's data has {len(names)} "
            f"column(s): {shown}; with --raw give one value per column, in that order."
        )

    def one_row(header: list[str], values: list[str], text_columns: list[str]) -> Any:
        text = io.StringIO()
        csv.writer(text).writerows([header, values])
        kinds = {name: str for name in text_columns}  # ('01' stays '01', as predict reads it)
        return pd.read_csv(io.StringIO(text.getvalue()), dtype=kinds)  # as a data file's cells

    _refuse_cells(model.pre.columns, cells)
    text_columns = [str(name) for name in model.pre.text_columns]
    frame = one_row(names, cells, text_columns)
    _refuse_empty(model.pre.columns, frame, cells)
    x = model.features(frame)[0]
    inputs, filled = _input_records(model.pre.columns, frame, x)
    note = ""
    if filled:
        note = f"The row's empty cells take the values the model's imputation learned: {filled}."
    if target is None:
        return RawExample(x, None, inputs, note)
    if model.pre.several_targets:  # (a row of numbers, one per target: to a table's row)
        values = parse_targets(target, [str(n) for n in model.pre.target_names])
        return RawExample(x, model.targets(values[None, :])[0], inputs, note)
    said = _blank_or_not_finite(model, target)  # (a blank cell: no row for pandas to read)
    if said is not None:
        raise InputError(said)
    as_text = ["target"] if str(model.pre.target) in text_columns else []
    label = one_row(["target"], [target], as_text)["target"]
    try:
        encoded = model.targets(label)[0]
    except InputError as exc:  # (said of a data file's column: say it of --target)
        said = _target_error(model, target)
        if said is None:
            raise
        raise InputError(said) from exc
    return RawExample(x, encoded, inputs, note)


def _refuse_cells(columns: list[dict[str, Any]], cells: list[str]) -> None:
    """Refuse, in the command line's terms, a --raw cell the model's preprocessing would
    refuse as a data file's (or could not read): one of only spaces, and in a column of
    numbers one that is not a number or is infinite (``nan`` and the other marks of a
    missing value are left to the imputation, or to :func:`_refuse_empty`)."""
    from .._columns import MISSING_MARKS
    from ..exceptions import InputError

    for position, (state, cell) in enumerate(zip(columns, cells), start=1):
        name, text = str(state["name"]), cell.strip()
        said = f"--input's value {position} (column {name!r}) is {cell!r}"
        fill = ""
        if state.get("fill") is not None:
            fill = " (or leave it empty, nothing between the commas, for the model's imputation)"
        if cell and not text:
            raise InputError(f"{said}, only spaces; with --raw, give a value for {name}{fill}.")
        if state["kind"] != "numeric" or not text or text.lower() in MISSING_MARKS:
            continue
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or math.isinf(value):
            shown = "not a number" if value is None else "not a finite number"
            raise InputError(
                f"{said}, {shown}; with --raw, give {name} as a finite number in the data's "
                f"units{fill}."
            )


def _refuse_empty(columns: list[dict[str, Any]], frame: Any, cells: list[str]) -> None:
    """Refuse an empty cell of the --raw row (or, in a column of numbers, one marked
    missing, such as ``?``) where the model has no fill for it (trained without
    imputation), naming the column: the row is the user's to complete."""
    import pandas as pd

    from .._columns import MISSING_MARKS
    from ..exceptions import InputError

    for state in columns:
        name, cell = str(state["name"]), frame[state["name"]].iloc[0]
        marked = isinstance(cell, str) and cell.strip().lower() in MISSING_MARKS
        missing = pd.isna(cell) or (state["kind"] == "numeric" and marked)
        if state.get("fill") is None and missing:
            position = [str(n) for n in frame.columns].index(name) + 1
            raise InputError(
                f"--input's value {position} (column {name!r}) is missing "
                f"({cells[position - 1]!r}), and the model was trained without imputation, "
                f"so it has no value to fill in; give a value for {name}."
            )


def _blank_or_not_finite(model: Any, target: str) -> str | None:
    """--raw's --target refused before the model's preprocessing reads it, in the command
    line's terms: blank, or for a regression not a finite number (None when neither)."""
    column = str(model.pre.target)
    if model.task == "classification":
        if target.strip():
            return None
        return (
            f"--target {target!r} is empty; with --raw, give the desired class as its label "
            f"(a value of the data's column {column!r}: {_shown_classes(model)}), or leave "
            "--target out to explain the predicted class."
        )
    fix = (
        f"with --raw, give the desired value of the target column {column!r}: one finite "
        "number, in the data's units, e.g. --target 1.5"
    )
    if not target.strip():
        return f"--target {target!r} is empty; {fix}."
    try:
        value = float(target)
    except ValueError:
        return f"--target {target!r} is not a number; {fix}."
    if not math.isfinite(value):
        return f"--target {target!r} is {value}, not a finite number; {fix}."
    return None


def _target_error(model: Any, target: str) -> str | None:
    """--raw's --target that the model's preprocessing refused, in the command line's terms:
    not a class label (None for a regression's, or a label: the refusal says why)."""
    if model.task != "classification":
        return None
    if target.strip() in (str(c) for c in model.pre.classes or []):
        return None
    return (
        f"--target {target!r} is not one of the model's classes ({_shown_classes(model)}); "
        f"with --raw, give the desired class as its label (a value of the data's column "
        f"{str(model.pre.target)!r})."
    )


def _shown_classes(model: Any) -> str:
    classes = list(model.pre.classes or [])
    return ", ".join(repr(c) for c in classes[:12]) + (", ..." if len(classes) > 12 else "")


def _input_records(columns: list[dict[str, Any]], frame: Any, x: np.ndarray) -> tuple[list, str]:
    """Where each network input came from: a column's number (standardised) or one of its
    categories (one-hot); and the empty cells, named with the training's fill
    (``"age = 41.5"``; "" when none)."""
    import pandas as pd

    from .._naming import plain
    from ..explain import DataValue

    records: list[Any] = []
    filled = []
    for state in columns:
        cell, name = frame[state["name"]].iloc[0], str(state["name"])
        if state["kind"] == "numeric":
            number = pd.to_numeric(pd.Series([cell]), errors="coerce").iloc[0]  # ('?': empty)
            if pd.isna(number):
                filled.append(f"{name} = {state['fill']!r}")
            raw = state["fill"] if pd.isna(number) else float(number)
            records.append(DataValue(name, raw, state["mean"], state["std"]))
            continue
        if pd.isna(cell):
            filled.append(f"{name} = {state['fill']!r}")
        categories = list(state["categories"])
        ones = [c for k, c in enumerate(categories) if x[len(records) + k] == 1]
        raw = ones[0] if ones else plain(cell)  # (the category it was encoded as, if any)
        records += [DataValue(name, raw, category=category) for category in categories]
    return records, ", ".join(filled)


# -------------------------------------------------- the units the network trained in
class TargetScaling(NamedTuple):
    """The standardisation a regression target had in training: :math:`(y - mean)/std`."""

    mean: float
    std: float


def _summary(header: Any) -> dict[str, Any]:
    training = header.get("training") if isinstance(header, dict) else None
    summary = training.get("summary") if isinstance(training, dict) else None
    return summary if isinstance(summary, dict) else {}


def target_scaling(header: Any, path: str) -> tuple[TargetScaling, ...] | None:
    """The targets' standardisation recorded in a model file's header, one per target in
    output order (one target's record holds two numbers, several targets' two lists); None
    without one.

    Raises
    ------
    InputError
        For a record that is not a finite mean and a positive, finite std (per target).
    """
    from ..exceptions import InputError

    record = _summary(header).get(TARGET_RECORD)
    if record is None:
        return None
    mean, std = (record.get(key) if isinstance(record, dict) else None for key in ("mean", "std"))
    several = isinstance(mean, list) and isinstance(std, list) and len(mean) == len(std) > 1
    means, stds = (mean, std) if several else ([mean], [std])
    numbers = all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        for v in (*means, *stds)
    )
    if not numbers or not all(s > 0 for s in stds):
        raise InputError(
            f"{path}'s training record holds {TARGET_RECORD} = {record!r}, not a mean and a "
            "positive standard deviation; the file was edited or is damaged. Retrain the "
            "model (deltarule train)."
        )
    return tuple(TargetScaling(float(m), float(s)) for m, s in zip(means, stds))


def standardised_without_record(header: Any) -> bool:
    """Whether the file says its target was standardised for training but not how (a file
    written before :data:`TARGET_RECORD`)."""
    summary = _summary(header)
    return TARGET_RECORD not in summary and STANDARDISED_NOTE in str(summary.get("note", ""))


def as_trained(network: Any, scalings: tuple[TargetScaling, ...]) -> Any:
    """A copy of ``network`` with the output layer as training had it: the saved one
    predicts std_j·(W_j h + b_j) + mean_j for output j (``scalings[j]``), the copy
    W_j h + b_j, the standardised target (each output's weights divided by its std, its
    bias less its mean divided by its std, in the network's dtype)."""
    trained = network.copy()
    mean = np.array([s.mean for s in scalings]).astype(trained.dtype)
    std = np.array([s.std for s in scalings]).astype(trained.dtype)
    trained.weights[-1][...] = trained.weights[-1] / std[:, None]
    trained.biases[-1][...] = (trained.biases[-1] - mean) / std
    return trained


class TrainingRate(NamedTuple):
    """The learning rate a model file records for its training, or why it records none."""

    rate: float | None
    """η > 0, or None."""
    words: str
    """With a rate, where it comes from (``"optimizer adam"``); without one, why
    (``"this model's optimizer lbfgs has no learning rate"``)."""


_SKLEARN_RATED = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
"""The solvers of :mod:`deltarule.sklearn` that step with ``learning_rate_init`` (rprop,
lbfgs and lm have no learning rate)."""


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < math.inf


def _rate_of(rate: Any, optimizer: Any) -> TrainingRate:
    """A training record's rate (the one its kept epoch used) and optimizer."""
    if _positive(rate):
        return TrainingRate(float(rate), f"optimizer {optimizer or 'unnamed'}")
    if optimizer and isinstance(rate, (int, float)):  # (0: lbfgs, irprop_plus, lm...)
        return TrainingRate(None, f"this model's optimizer {optimizer} has no learning rate")
    return TrainingRate(None, "this model's training record holds no learning rate")


def _estimator_rate(training: dict[str, Any]) -> TrainingRate:
    """The ``learning_rate_init`` of a scikit-learn estimator's file (:mod:`deltarule.sklearn`
    stores its parameters under ``header["training"]["params"]``)."""
    name = str(training.get("estimator") or "estimator")
    params = training.get("params")
    params = params if isinstance(params, dict) else {}
    solver, rate = params.get("solver"), params.get("learning_rate_init")
    if solver is not None and solver not in _SKLEARN_RATED:
        return TrainingRate(None, f"this {name}'s solver {solver} has no learning rate")
    if not _positive(rate):
        return TrainingRate(None, f"this {name}'s file records no learning_rate_init")
    words = f"this {name}'s learning_rate_init, solver {solver}"
    schedule = params.get("learning_rate")
    if solver == "sgd" and schedule in ("invscaling", "adaptive"):
        words += f"; its learning_rate={schedule!r} schedule changed it during training"
    return TrainingRate(float(rate), words)


def training_rate(header: Any) -> TrainingRate:
    """The learning rate of the model's training as its file records it: ``deltarule train``'s
    summary (the rate of the epoch whose weights it kept), a scikit-learn estimator's
    ``learning_rate_init``, a training checkpoint's trainer; or why there is none (a file
    saved from Python without a training record, an optimizer without one such as lbfgs)."""
    training = header.get("training") if isinstance(header, dict) else None
    if not isinstance(training, dict):
        return TrainingRate(None, "this model's file has no training record to take one from")
    if "estimator" in training:
        return _estimator_rate(training)
    summary = _summary(header)
    if summary:
        final, settings = summary.get("final"), summary.get("settings")
        rate = final.get("learning_rate") if isinstance(final, dict) else None
        optimizer = settings.get("optimizer") if isinstance(settings, dict) else None
        return _rate_of(rate, optimizer)
    trainer = training.get("trainer")  # (a training checkpoint's: deltarule.io.checkpoint)
    if isinstance(trainer, dict):
        rule = trainer.get("optimizer")
        return _rate_of(
            trainer.get("learning_rate"), rule.get("name") if isinstance(rule, dict) else None
        )
    return TrainingRate(None, "this model's file records no learning rate")


class TrainingUnits(NamedTuple):
    """An example put in the units its network was trained in."""

    network: Any
    """The network as trained (:func:`as_trained`), or the saved one."""
    y: np.ndarray
    """The target the walk uses."""
    targets: list[Any] | None
    """One :class:`~deltarule.explain.DataValue` per output: the target in its units."""
    note: str
    """What the walk's reader must know about it."""


def in_training_units(
    network: Any, y: Any, header: Any, path: str, targets: list[str]
) -> TrainingUnits | None:
    """For a network trained on standardised targets whose file (``path``, ``header``)
    records them: the network as trained, the target ``y`` (in its own units, the columns
    ``targets``, one per output) standardised, each with its own mean and std, its
    records, the note that says so. None for any other model (or no ``y``); one whose
    file says it was trained so without recording how gets the saved network, ``y`` as
    given and a note that the walk is in the target's units."""
    from ..explain import DataValue

    if y is None or network.layers[-1].activation.name != "identity" or network.biases[-1] is None:
        return None
    scalings = target_scaling(header, path)
    if scalings is None:
        if not standardised_without_record(header):
            return None
        return TrainingUnits(network, y, None, _unrecorded_note(len(targets)))
    if len(scalings) != network.n_outputs:
        from ..exceptions import InputError

        raise InputError(
            f"{path}'s training record holds {TARGET_RECORD} for {len(scalings)} target(s), "
            f"but its network has {network.n_outputs} outputs; the file was edited or is "
            "damaged. Retrain the model (deltarule train)."
        )
    if len(targets) != len(scalings):  # (a file that names no targets: "target" alone)
        targets = [f"target{j}" for j in range(1, len(scalings) + 1)]
    raw = np.asarray(y, dtype=np.float64).reshape(-1)
    check_values(raw, "--target", network)
    mean = np.array([s.mean for s in scalings])
    std = np.array([s.std for s in scalings])
    standardised = (raw - mean) / std
    records = [
        DataValue(name, float(v), s.mean, s.std) for name, v, s in zip(targets, raw, scalings)
    ]
    note = _standardised_note(network, raw, standardised, scalings, targets)
    return TrainingUnits(as_trained(network, scalings), standardised, records, note)


def _unrecorded_note(n_targets: int) -> str:
    """The note of a file trained on standardised targets that does not record how."""
    if n_targets == 1:
        return (
            "This model was trained on its standardised target, but its file does not "
            "record the target's mean and standard deviation, so the walk is in the "
            "target's units, as the saved network computes: its error and gradients are on "
            "the target's scale, not training's (for a squared error std² times larger, std "
            "being the target's standard deviation), so a step here is not training's; "
            "keep --learning-rate small."
        )
    return (
        "This model was trained on its standardised targets, but its file does not record "
        "their means and standard deviations, so the walk is in the targets' units, as the "
        "saved network computes: its error and gradients are on the targets' scales, not "
        "training's (for a squared error each output's std² times larger, std being its "
        "target's standard deviation), so a step here is not training's; keep "
        "--learning-rate small."
    )


def _standardised_note(
    network: Any,
    raw: np.ndarray,
    standardised: np.ndarray,
    scalings: tuple[TargetScaling, ...],
    targets: list[str],
) -> str:
    """The note of a walk in training's units: each target as given and standardised
    (named by its column when there are several), and why."""
    from ..explain.expr import fmt
    from ..explain.units import DATA_DTYPE

    def show(value: float) -> str:  # (the target's values: float64, as standardised)
        return fmt(value, DATA_DTYPE)

    shown = []
    for name, v, t, scaling in zip(targets, raw, standardised, scalings):
        mean = show(scaling.mean) if scaling.mean >= 0 else f"({show(scaling.mean)})"
        named = f"target {name} = " if len(targets) > 1 else "target "
        shown.append(
            f"{named}{show(v)} (standardised: ({show(v)} − {mean})/"
            f"{show(scaling.std)} = {fmt(network.dtype.type(t), network.dtype)})"
        )
    if len(targets) == 1:
        return (
            f"{shown[0]}. The network was trained on the standardised target, so the walk "
            "takes training's step in those units, with the output converted back to the "
            "target's units beside it. (The file's output layer predicts in the target's "
            "units: training multiplied its weights and bias by std and added mean to the "
            "bias; the walk divides that back out, W/std and (b − mean)/std.)"
        )
    return (
        f"{'; '.join(shown)}. The network was trained on the standardised targets, each "
        "with its own training mean and standard deviation, so the walk takes training's "
        "step in those units, with each output converted back to its target's units beside "
        "it. (The file's output layer predicts in the targets' units: training multiplied "
        "each output's weights and bias by its target's std and added its mean to the bias; "
        "the walk divides that back out, W/std and (b − mean)/std, output by output.)"
    )
