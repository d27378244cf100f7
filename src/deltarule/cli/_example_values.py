"""``deltarule explain``'s --input and --target: comma-separated numbers, parsed and checked
against the network (its input count, its dtype's range, its loss's targets) in the
command line's terms."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["INPUT_SCALE", "check_values", "parse_row"]


def parse_row(text: str, option: str, width: int | None = None, what: str = "") -> np.ndarray:
    """Parse ``"0.1,0.7,0.3"`` into a 1-D float array (of ``width`` values, when given: the
    network's ``what``).

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
            f"{what if width != 1 else what.rstrip('s')}, so give {width} comma-separated "
            f"number{'s' if width != 1 else ''} (or --raw for a row of the model's data "
            "columns)."
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
    "categorical_crossentropy": "values >= 0, one per output, such as the one-hot 0,1,0 "
    "for the second class",
    "poisson": "counts or rates >= 0",
}


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
        try:
            check_target_range(values.reshape(1, -1), loss, "y")
        except InputError:
            shown = ",".join(f"{v:g}" for v in values)
            raise InputError(
                f"--target {shown} is outside what the model's {loss} loss takes: "
                f"{_TARGET_RANGES.get(loss, 'targets in its range')}."
            ) from None
