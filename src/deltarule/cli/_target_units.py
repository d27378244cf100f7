"""The units a regression model's network was trained in, for ``deltarule explain
--model``: ``deltarule train`` standardises a regression target, trains on
(target − mean)/std, then rescales the output layer so that the saved network predicts in
the target's units (W' = std·W, b' = std·b + mean). A file whose training summary records
that mean and std (:data:`TARGET_RECORD`, one per target for several) is walked in the units
training used: :func:`as_trained` divides the rescaling back out and
:func:`in_training_units` standardises --target likewise, so that the walk is training's
arithmetic and its step training's.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ._example_values import check_values

__all__ = [
    "STANDARDISED_NOTE",
    "TARGET_RECORD",
    "TargetScaling",
    "TrainingUnits",
    "as_trained",
    "in_training_units",
    "standardised_without_record",
    "target_scaling",
    "training_summary",
]

TARGET_RECORD = "target_standardisation"
"""The key of a model file's training summary (``header["training"]["summary"]``) that
holds ``{"mean": m, "std": s}``: the target was standardised, :math:`(y - m)/s`, for
training, and the output layer rescaled afterwards."""
STANDARDISED_NOTE = "standardised target"
"""Words of the training summary's ``note`` of a model trained on a standardised target
(``"training losses are on the standardised target"``), which files written before
:data:`TARGET_RECORD` have without the mean and std."""


class TargetScaling(NamedTuple):
    """The standardisation a regression target had in training: :math:`(y - mean)/std`."""

    mean: float
    std: float


def training_summary(header: Any) -> dict[str, Any]:
    """A model file's training summary (``header["training"]["summary"]``); {} without one."""
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

    record = training_summary(header).get(TARGET_RECORD)
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
    summary = training_summary(header)
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
