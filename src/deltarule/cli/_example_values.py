"""``deltarule explain``'s example: --input and --target parsed and checked against the
network (its input count, its dtype's range, its loss's targets) in the command line's
terms, and a --raw row put through the model's preprocessing. The units the network was
trained in (a standardised regression target) are :mod:`._target_units`'s; the learning
rate its training used, :mod:`._training_rate`'s.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "INPUT_SCALE",
    "RAW_HINT",
    "RawExample",
    "check_values",
    "parse_row",
    "parse_targets",
    "raw_example",
    "target_hint",
]


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
        try:  # (Python reads 1_000 and non-ASCII digits; the model's reading does not)
            value = float(text) if text.isascii() and "_" not in text else None
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
