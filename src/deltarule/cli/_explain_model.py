"""The example ``deltarule explain --model`` walks: the model file read (:func:`load`: its
network, and for --raw its preprocessing; a training checkpoint, or a file without
preprocessing, refused with --raw), the learning rate chosen (:func:`choose_learning_rate`: the
one the model was trained with, when its file records it; else the tutorial's, saying why),
and --input (and --target) traced once through the network in the units it was trained
in (:func:`trace_example`), an overflow said in the command line's terms."""

from __future__ import annotations

import argparse
import os
from typing import Any, NamedTuple

import numpy as np

from ._example_values import (
    INPUT_SCALE,
    check_values,
    parse_row,
    parse_targets,
    raw_example,
    target_hint,
)
from ._target_units import in_training_units

__all__ = ["Loaded", "choose_learning_rate", "load", "load_file", "trace_example"]


def load_file(path: str) -> Any:
    """Read a model file (:func:`deltarule.io.load_model`: network, classes, header)."""
    from ..exceptions import InputError

    try:
        from ..io import load_model
    except ImportError as exc:
        raise InputError(
            "reading model files needs deltarule.io, which this installation does not have."
        ) from exc
    return load_model(path)


class Loaded(NamedTuple):
    """What --model's file gives the walk."""

    network: Any
    model: Any
    """The model with its preprocessing (:class:`~._common.Model`), for --raw; else None."""
    classes: list[Any] | None
    """The class labels, to name a predicted class."""
    header: dict[str, Any]
    """The file's header (its training record: the targets' standardisation, the learning
    rate)."""
    targets: list[str]
    """The target columns' names, one per output of a model of several targets (a
    multi-output regression); else one, "target" when the file does not say."""
    transforms: bool = False
    """Whether the file has preprocessing that --raw would apply (without --raw, --input is
    the network's own input: :func:`_warn_scaled_inputs`)."""


def load(args: argparse.Namespace) -> Loaded:
    """Read --model: its network, and for --raw its preprocessing too (refused for a file
    without one: there is no standardisation to show, nor columns to read)."""
    loaded = load_file(args.model)
    header = getattr(loaded, "header", None) or {}
    pre = getattr(loaded, "preprocessing", None)
    if not args.raw:
        target = pre.get("target", "target") if isinstance(pre, dict) else "target"
        targets = [str(t) for t in target] if isinstance(target, list) else [str(target)]
        transforms = isinstance(pre, dict)
        return Loaded(
            loaded.network, None, getattr(loaded, "classes", None), header, targets, transforms
        )
    from ..exceptions import InputError
    from ._common import load_model_file

    network = loaded.network
    _refuse_checkpoint(header, args.model, network)
    if pre is None:
        outputs = f"{network.n_outputs} output value{'s' if network.n_outputs != 1 else ''}"
        raise InputError(
            f"--raw reads a row of the data's columns through the model's preprocessing, but "
            f"{args.model} has none (saved without it, as deltarule.io.save_model and the "
            "scikit-learn estimators save a network). Drop --raw and give --input as the "
            f"network's {network.n_inputs} input values (and --target as its {outputs})."
        )
    model = load_model_file(args.model)  # (its preprocessing, checked against the network)
    classes = list(model.pre.classes or []) or None
    targets = [str(target) for target in model.pre.target_names]
    return Loaded(model.network, model, classes, model.header, targets)


def _warn_scaled_inputs(path: str) -> None:
    """Say that --input without --raw is the network's own input (after the model's
    preprocessing), for a model that has one: a row of data given so is read wrongly."""
    import warnings

    from ..exceptions import DataWarning

    warnings.warn(
        f"{path} transforms its data before the network (standardised numbers, one-hot "
        "categories); without --raw, --input is taken as the network's own input values, "
        "after that transformation. To give a row in the data's units (a CSV row), add --raw.",
        DataWarning,
        stacklevel=2,
    )


def choose_learning_rate(args: argparse.Namespace, loaded: Loaded | None) -> str:
    """Choose η when --learning-rate is not given: the rate --model's training used, when its
    file records one, else the tutorial's 0.5. Returns the sentence that says which, and for
    0.5 why ("" for the tutorial network, or when --learning-rate is given)."""
    from ..textbook import TUTORIAL_LEARNING_RATE
    from ._training_rate import training_rate

    if args.learning_rate is not None:
        return ""
    if loaded is None:
        args.learning_rate = TUTORIAL_LEARNING_RATE
        return ""
    recorded = training_rate(loaded.header)
    if recorded.rate is None:
        args.learning_rate = TUTORIAL_LEARNING_RATE
        return (
            f"η = {args.learning_rate:g} (the tutorial's; {recorded.words}; --learning-rate to "
            "choose)."
        )
    args.learning_rate = recorded.rate
    return (
        f"η = {args.learning_rate:g} is the learning rate this model was trained with "
        f"({recorded.words}); the walk takes one plain gradient-descent step with it "
        "(--learning-rate sets another)."
    )


def _refuse_checkpoint(header: dict[str, Any], path: str, network: Any) -> None:
    """Refuse --raw with a training checkpoint, as predict refuses it."""
    from ..exceptions import InputError
    from ._model_kinds import refuse_checkpoint

    try:
        refuse_checkpoint(header, path, "explain --raw")
    except InputError as exc:
        raise InputError(
            f"{exc} Or drop --raw and give --input as the network's own {network.n_inputs} "
            "input values."
        ) from None


def trace_example(args: argparse.Namespace, loaded: Loaded, rate_note: str = "") -> Any:
    """Trace --input (and --target) through --model's network, once: in the units the
    network was trained in (a standardised target:
    :func:`~._target_units.in_training_units`)."""
    from .. import explain
    from ..exceptions import InputError
    from ..explain.expr import fmt

    network, model, classes = loaded.network, loaded.model, loaded.classes
    notes, raw_inputs = [], None
    if model is not None:
        x, y, raw_inputs, filled = raw_example(model, args.input, args.target)
        check_values(np.asarray(x).reshape(-1), "--input", network, raw=True)
        notes.append(filled)
    else:
        x = parse_row(args.input, "--input", network.n_inputs, "inputs")
        check_values(x, "--input", network)
        y = None
        if args.target is not None and len(loaded.targets) > 1:  # (a row of numbers each)
            y = parse_targets(args.target, loaded.targets)
            check_values(y, "--target", network)
        elif args.target is not None:
            hint = target_hint(network, classes)
            y = parse_row(args.target, "--target", network.n_outputs, "outputs", hint)
            check_values(y, "--target", network)
        if loaded.transforms:
            _warn_scaled_inputs(args.model)
    activation = network.layers[-1].activation.name
    if y is None and activation not in ("softmax", "sigmoid"):
        n, names = network.n_outputs, loaded.targets
        each = f", one per target: {', '.join(names)}" if len(names) > 1 else ""
        raise InputError(
            f"--model {args.model} has an output activation ({activation}) with no predicted "
            f"class to explain; give --target with the desired output ({n} number"
            f"{'s' if n != 1 else ''}{each}, e.g. --target {','.join(['1.5'] * n)})."
        )
    raw_targets = None
    trained = in_training_units(network, y, loaded.header, args.model, loaded.targets)
    if trained is not None:
        network, y, raw_targets, note = trained
        notes.append(note)
    elif y is not None and model is not None:
        shown = ", ".join(fmt(v, network.dtype) for v in np.asarray(y).reshape(-1))
        notes.append(f"--target {args.target!r} is the network's target ({shown}).")
    notes.append(rate_note)
    try:
        return explain.example_trace(
            network, x, y, learning_rate=args.learning_rate, steps=args.steps,
            title=os.path.basename(args.model), note=" ".join(n for n in notes if n),
            classes=classes, raw_inputs=raw_inputs, raw_targets=raw_targets,
        )  # fmt: skip
    except explain.NonFiniteError as exc:
        raise InputError(_overflow_message(args, exc, network, x)) from exc


def _overflow_message(args: argparse.Namespace, exc: Any, network: Any, x: Any) -> str:
    """The --model walk's overflow (:class:`~deltarule.explain.NonFiniteError`), in the
    command line's terms."""
    value = f"{exc.quantity} = {exc.value:g}"
    if exc.stage == "update":
        return (
            f"the update overflows the model's {network.dtype} numbers: {value} with "
            f"--learning-rate {args.learning_rate:g}; use a smaller --learning-rate."
        )
    where = {"forward": "in the forward pass", "error": "as the error",
             "backward": "in the backward pass"}[exc.stage]  # fmt: skip
    hint = "check this row's values (and their units)" if args.raw else INPUT_SCALE
    if args.target is not None:
        hint += "; and check that --target is on the scale of the model's outputs"
    return (
        f"this example overflows the model's {network.dtype} numbers (largest "
        f"{np.finfo(network.dtype).max:.3g}): {value} {where}, for --input {args.input} "
        f"(largest |value|{' after preprocessing' if args.raw else ''} "
        f"{np.abs(np.asarray(x, float)).max():.3g}); "
        f"{hint}."
    )
