r"""From the data's units to the network's: the lines that say where an example's values
came from.

A walk of a row of data (``deltarule explain --raw``) shows once how the model's
preprocessing made each network input: a number standardised with its column's training
mean and standard deviation, :math:`(x - mean)/std`; a category one-hot. A network trained
on a standardised target (``deltarule train`` does that for regression) is walked in the
units it was trained in: the target is shown in the data's units and standardised,
:math:`(target - mean)/std`, and the output converted back, :math:`mean + std\cdot out`.
Everything after that is the network's own arithmetic. The records are
:class:`~deltarule.explain.events.DataValue`; nothing here computes a network value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..exceptions import InputError
from .events import DataValue, Trace
from .expr import Expr, Num, Prod, Sum, Sym, Tpl, fmt
from .steps import Note, Section, Step, tpl

__all__ = [
    "DATA_DTYPE",
    "check_data_values",
    "data_section",
    "json_data",
    "predicted",
    "predicted_step",
    "summary_lines",
]

_SCALED = Tpl("(%0 − %1)/%2", r"\frac{%0 - %1}{%2}", fn=lambda x, m, s: (x - m) / s)
_UNSCALED = Tpl("%0 + %1", "%0 + %1")


def _text(words: str) -> Tpl:
    """Words in a formula (a column's name), escaped for LaTeX."""
    escaped = "".join(
        r"\textbackslash{}" if c == "\\" else f"\\{c}" if c in "_%&#${}" else c for c in words
    )  # (the name's own backslash first: "x\\" must not escape the closing brace)
    escaped = escaped.replace("~", r"\textasciitilde{}").replace("^", r"\textasciicircum{}")
    return Tpl(words, rf"\text{{{escaped}}}")


DATA_DTYPE = "float64"
"""The dtype of the data's values (a raw number, a column's mean and std, an output in the
target's units): the preprocessing standardises in float64, whatever the network's dtype,
so they are printed with float64's digits, the network's values with its own."""


def _data(value: Any) -> Num:
    return Num(float(value), DATA_DTYPE)


def _standardised_step(lhs: Expr, record: DataValue, value: float) -> Step:
    symbols = tpl(_SCALED, _text(record.column), Sym("mean"), Sym("std"))
    numbers = tpl(_SCALED, _data(record.raw), _data(record.mean), _data(record.std))
    return Step(lhs, (symbols, numbers), value)


def predicted(trace: Trace, j: int) -> float:
    """Output ``j`` in the target's units: mean + std·out (in float64)."""
    record = trace.raw_targets[j]
    return float(record.mean) + float(record.std) * float(trace.loss.output[0, j])


def predicted_step(trace: Trace, j: int) -> Step:
    """``predicted price = mean + std·out_o1 = ... = value`` for output ``j``."""
    record, name = trace.raw_targets[j], trace.labels[-1][j]
    symbols = Sum((Sym("mean"), Prod((Sym("std"), Sym("out", name)))))
    numbers = Sum((_data(record.mean), Prod((_data(record.std), Num(trace.loss.output[0, j])))))
    lhs = Tpl(f"predicted {record.column}", rf"\text{{predicted }}{_text(record.column).latex}")
    return Step(lhs, (symbols, numbers), _data(predicted(trace, j)))


def _category_note(trace: Trace, records: list[tuple[int, DataValue]]) -> Note:
    """One sentence for a category's one-hot inputs."""
    inputs = trace.forward[0].inputs[0]
    first = records[0][1]
    ones = ", ".join(
        f"{trace.labels[0][k]} ({r.category}) = {fmt(inputs[k], trace.dtype)}" for k, r in records
    )
    seen = any(r.category == first.raw for _, r in records)
    how = "one input per category" if seen else "not seen in training, so every input 0"
    return Note(f"{first.column} = {first.raw!r}, one-hot ({how}): {ones}.")


def _input_items(trace: Trace, limit: int | None = None) -> list[Step | Note]:
    items: list[Step | Note] = []
    inputs = trace.forward[0].inputs[0]
    pending: list[tuple[int, DataValue]] = []
    for k, record in enumerate(trace.raw_inputs):
        if limit is not None and k >= limit:
            break
        if pending and (record.category is None or record.column != pending[0][1].column):
            items.append(_category_note(trace, pending))
            pending = []
        if record.category is not None:
            pending.append((k, record))
            continue
        lhs = Sym(trace.labels[0][k][0], trace.labels[0][k][1:])
        items.append(_standardised_step(lhs, record, float(inputs[k])))
    if pending:
        items.append(_category_note(trace, pending))
    return items


def _target_items(trace: Trace) -> list[Step | Note]:
    return [
        _standardised_step(Sym("target", name), record, float(trace.loss.target[0, j]))
        for j, (name, record) in enumerate(zip(trace.labels[-1], trace.raw_targets))
    ]


def data_section(trace: Trace) -> Section | None:
    """The walk's first section when its values came from the data's units (None if not)."""
    if not trace.raw_inputs and not trace.raw_targets:
        return None
    intro, items = [], []
    if trace.raw_inputs:
        intro.append(
            "The model's preprocessing makes the network's inputs from the row: each number "
            "is standardised with its column's mean and standard deviation in the training "
            "data, (x − mean)/std; a category becomes one input per known category, 1 for "
            "its own and 0 for the others."
        )
        items += [*_input_items(trace), None]
    if len({record.column for record in trace.raw_targets}) > 1:  # (several targets)
        intro.append(
            "The network was trained on the standardised targets, each on its own, so the "
            "walk works with them, as training did: each target is standardised with its "
            "training mean and standard deviation, and each output converts back to its "
            "target's units as mean + std·out."
        )
        items += _target_items(trace)
    elif trace.raw_targets:
        intro.append(
            "The network was trained on the standardised target, so the walk works with it, "
            "as training did: the target is standardised with the training targets' mean and "
            "standard deviation, and the output converts back to the target's units as "
            "mean + std·out."
        )
        items += _target_items(trace)
    return Section("From the data's units to the network's", " ".join(intro), tuple(items))


def summary_lines(trace: Trace, printer: Any, limit: int = 10) -> list[str]:
    """The data's values for a wide network's summary: the first ``limit`` inputs, the
    targets and the outputs in the target's units, as text lines."""
    from .render import step_line

    def show(item: Step | Note) -> str:
        return item.text if isinstance(item, Note) else step_line(item, printer)

    lines = [show(item) for item in _input_items(trace, limit)]
    if len(trace.raw_inputs) > limit:
        lines.append(f"... ({len(trace.raw_inputs) - limit:,} more inputs)")
    lines += [show(item) for item in _target_items(trace)]
    lines += [show(predicted_step(trace, j)) for j in range(len(trace.raw_targets))]
    return lines


def json_data(trace: Trace) -> dict[str, Any]:
    """The records as JSON data: ``raw_inputs`` and ``raw_targets`` (with each output in
    the target's units, ``predicted``), each present only when recorded."""
    data: dict[str, Any] = {}
    if trace.raw_inputs:
        data["raw_inputs"] = [
            {"input": trace.labels[0][k], "column": r.column, "raw": r.raw, "mean": r.mean,
             "std": r.std, "category": r.category,
             "value": float(trace.forward[0].inputs[0, k])}
            for k, r in enumerate(trace.raw_inputs)
        ]  # fmt: skip
    if trace.raw_targets:
        data["raw_targets"] = [
            {"output": trace.labels[-1][j], "column": r.column, "raw": r.raw, "mean": r.mean,
             "std": r.std, "value": float(trace.loss.target[0, j]),
             "predicted": predicted(trace, j)}
            for j, r in enumerate(trace.raw_targets)
        ]  # fmt: skip
    return data


# ------------------------------------------------------------------------- validation
def _records(values: Any, what: str, width: int) -> tuple[DataValue, ...]:
    records = tuple(values or ())
    if records and len(records) != width:
        raise InputError(
            f"{what} has {len(records)} record(s) but the network has {width}; give one "
            "DataValue per value, or none."
        )
    for record in records:
        if not isinstance(record, DataValue):
            raise InputError(
                f"{what} must hold DataValue records; received {type(record).__name__} "
                f"{record!r:.60}."
            )
    return records


def _made(record: DataValue, value: float, dtype: np.dtype, what: str) -> None:
    """Refuse a record that does not give ``value``: every printed line must hold."""
    if record.category is not None:
        if value != float(record.raw == record.category):
            raise InputError(
                f"{what}: {record.column} = {record.raw!r} makes input {record.category!r} "
                f"{float(record.raw == record.category):g}, not {value:g}."
            )
        return
    try:
        raw, mean, std = float(record.raw), float(record.mean), float(record.std)
    except (TypeError, ValueError):
        raise InputError(
            f"{what}: a standardised {record.column!r} needs numbers raw, mean and std; "
            f"received {record.raw!r}, {record.mean!r}, {record.std!r}."
        ) from None
    eps = float(np.finfo(dtype).eps)
    tolerance = 8 * eps * (abs(value) + (abs(raw) + abs(mean)) / abs(std or 1.0))
    if not (std > 0 and abs((raw - mean) / std - value) <= tolerance):
        raise InputError(
            f"{what}: ({raw:g} − {mean:g})/{std:g} is not the network's value {value:g}; "
            "give the value the network computes with."
        )


def check_data_values(
    dtype: np.dtype,
    x: np.ndarray,
    y: np.ndarray,
    raw_inputs: Sequence[DataValue] | None,
    raw_targets: Sequence[DataValue] | None,
) -> tuple[tuple[DataValue, ...], tuple[DataValue, ...]]:
    """Check that the records make the example's input row ``x`` and target row ``y`` (both
    of shape (1, n)); return them as tuples.

    Raises
    ------
    InputError
        For a count that is not the network's, or a record that does not give its value
        (``(raw − mean)/std`` within the dtype's rounding; 1 or 0 for a category). A target
        record must be standardised.
    """
    inputs = _records(raw_inputs, "raw_inputs", x.shape[1])
    targets = _records(raw_targets, "raw_targets", y.shape[1])
    for k, record in enumerate(inputs):
        _made(record, float(x[0, k]), dtype, f"raw_inputs[{k}]")
    for j, record in enumerate(targets):
        if record.category is not None:
            raise InputError(
                f"raw_targets[{j}] is a category; raw_targets records a standardised target "
                "(mean and std)."
            )
        _made(record, float(y[0, j]), dtype, f"raw_targets[{j}]")
    return inputs, targets
