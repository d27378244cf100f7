"""``explain``: backpropagation shown step by step, from the real computation.

The network's own forward/backward code reports every value to an observer
(:class:`Recorder`); :func:`trace` keeps them as plain data (:class:`Trace`);
renderers turn the data into text, Markdown, HTML or JSON. Nothing here is a
second implementation of backpropagation.

Public functions
----------------
explain_tutorial(format="text", *, learning_rate=0.5, steps=0)
    The tutorial's 2-2-2 walk (forward, error, chain rule for every weight, update).
explain_linear(format="text", *, learning_rate=0.5, plot=None)
    The tutorial's one-weight example ``output = W·x``.
explain_example(network, x, y=None, ...)
    One example's walk through any network (a per-layer summary when wide);
    :func:`example_trace` is its trace, before rendering.
draw_network(network, path=None)
    A diagram of the network with its weights (SVG; PNG through matplotlib).

Examples
--------
>>> text = explain_tutorial()
>>> "∂E_total/∂w5" in text and "w5⁺" in text
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .._typing import ArrayLike
from .._validation import check_int
from ..exceptions import InputError
from ..network import Network, require_network
from ..textbook import TUTORIAL_LEARNING_RATE, tutorial_network
from .draw import Diagram, diagram_svg, draw_network, save_diagram
from .events import DataValue, LayerBackward, LayerForward, LossRecord, Trace, neuron_labels
from .expr import fmt
from .linear import LinearWalk, linear_walk, plot_linear, render_linear
from .published import tutorial_footnotes
from .recorder import NonFiniteError, Recorder, trace
from .render import FORMATS, MAX_NEURONS, check_walk_size, layer_summary, render, to_json_data
from .units import check_data_values

__all__ = [
    "DataValue",
    "Diagram",
    "FORMATS",
    "LayerBackward",
    "LayerForward",
    "LinearWalk",
    "LossRecord",
    "MAX_NEURONS",
    "NonFiniteError",
    "Recorder",
    "Trace",
    "default_target",
    "diagram_svg",
    "draw_network",
    "example_trace",
    "explain_example",
    "explain_linear",
    "explain_tutorial",
    "layer_summary",
    "linear_walk",
    "neuron_labels",
    "plot_linear",
    "render",
    "render_linear",
    "save_diagram",
    "to_json_data",
    "trace",
    "tutorial_trace",
]


def tutorial_trace(learning_rate: float = TUTORIAL_LEARNING_RATE, *, steps: int = 0) -> Trace:
    """Trace the tutorial's 2-2-2 network on its one example (see :mod:`deltarule.textbook`)."""
    net, X, y = tutorial_network()
    inputs = ", ".join(f"i{k + 1} = {fmt(v)}" for k, v in enumerate(X[0]))
    targets = ", ".join(f"target_o{k + 1} = {fmt(v)}" for k, v in enumerate(y[0]))
    biases = f"b1 = {fmt(net.biases[0][0])}, b2 = {fmt(net.biases[1][0])}"
    note = f"Inputs {inputs}; {targets}; biases {biases} (held fixed)."
    walked = trace(net, X, y, learning_rate, steps=steps, title="the tutorial network", note=note)
    return replace(walked, footnotes=tutorial_footnotes(walked))


def explain_tutorial(
    format: str = "text", *, learning_rate: float = TUTORIAL_LEARNING_RATE, steps: int = 0
) -> str:
    """Return the tutorial's walk rendered as ``text``, ``markdown``, ``html`` or ``json``."""
    return render(tutorial_trace(learning_rate, steps=steps), format)


def explain_linear(
    format: str = "text",
    *,
    learning_rate: float = TUTORIAL_LEARNING_RATE,
    plot: str | os.PathLike[str] | None = None,
) -> str:
    """Return the one-weight example rendered; ``plot`` also saves E(W) with the steps."""
    walk = linear_walk(learning_rate)
    if plot is not None:
        plot_linear(walk, plot)
    return render_linear(walk, format)


def default_target(
    network: Network, output: np.ndarray, classes: Sequence[Any] | None = None
) -> tuple[np.ndarray, str]:
    """Choose a target when none is given: the network's own predicted class.

    Softmax outputs get the one-hot of the argmax, sigmoid outputs their rounding
    to 0/1. Any other output has no "predicted class", so a target is required.

    Parameters
    ----------
    network : Network
    output : ndarray of shape (1, n_outputs)
        The network's output for the example.
    classes : sequence, optional
        The class labels (a model file's), one per softmax output or two (0, 1) for one
        sigmoid output: the note then names the predicted class by its label too.

    Returns
    -------
    target : ndarray of shape (1, n_outputs)
    note : str
        A sentence saying what was chosen (which output, which class).
    """
    name = network.layers[-1].activation.name
    labels = list(classes) if classes is not None else []
    if name == "softmax":
        target = np.zeros_like(output)
        k = int(np.argmax(output[0]))
        target[0, k] = 1
        label = f", class {labels[k]!r}" if len(labels) == output.shape[1] else ""
        return target, (
            f"No target was given: the target is the predicted class, o{k + 1}{label} (the "
            "largest output; argmax, one-hot)."
        )
    if name == "sigmoid":
        target = (output >= 0.5).astype(output.dtype)
        chosen = ", ".join(f"o{k + 1} → {int(v)}" for k, v in enumerate(target[0]))
        if output.shape[1] == 1 and len(labels) == 2:
            chosen += f", class {labels[int(target[0, 0])]!r}"
        return target, (
            f"No target was given: the target is the prediction rounded to 0 or 1 ({chosen})."
        )
    raise InputError(
        f"no target given, and the network's {name} output has no predicted class to use; "
        "pass the desired output (y=..., or --target on the command line)."
    )


def _check_classes(network: Network, classes: Sequence[Any] | None) -> list[Any] | None:
    """``classes`` as a list of plain labels (an array's as Python values), or an
    InputError unless (when given) it has one label per output, or two (for 0 and 1) for a
    single output: another count names no class (it was ignored)."""
    if classes is None:
        return None
    if isinstance(classes, (str, bytes)) or not (
        isinstance(classes, Sequence) or (isinstance(classes, np.ndarray) and classes.ndim == 1)
    ):
        raise InputError(
            f"classes must be a list (or 1-D array) of labels; received "
            f"{type(classes).__name__} {classes!r:.60}. E.g. classes=['cat', 'dog'], or an "
            "estimator's classes_."
        )
    # (an array's labels, a scikit-learn estimator's classes_, as Python's: 'c', not np.str_)
    classes = classes.tolist() if isinstance(classes, np.ndarray) else list(classes)
    n = network.n_outputs
    counts = (n, 2) if n == 1 else (n,)
    if len(classes) not in counts:
        expected = (
            "2 labels, those of 0 and 1 (or 1, a one-class model's)"
            if n == 1
            else f"{n} labels, one per output"
        )
        raise InputError(
            f"classes has {len(classes)} labels ({', '.join(map(repr, classes[:5]))}"
            f"{', ...' if len(classes) > 5 else ''}), but the network has {n} output"
            f"{'s' if n != 1 else ''}; expected {expected}. Pass the labels the network was "
            "trained with, or leave classes out."
        )
    return classes


def example_trace(
    network: Network,
    x: ArrayLike,
    y: ArrayLike | None = None,
    *,
    learning_rate: float = TUTORIAL_LEARNING_RATE,
    steps: int = 0,
    title: str = "one example",
    note: str = "",
    classes: Sequence[Any] | None = None,
    raw_inputs: Sequence[DataValue] | None = None,
    raw_targets: Sequence[DataValue] | None = None,
) -> Trace:
    """Trace one example through ``network`` (what :func:`explain_example` renders).

    Parameters
    ----------
    network : Network
        Not changed: the trace runs on a copy of its parameters.
    x : array-like of shape (n_inputs,) or (1, n_inputs)
    y : array-like of shape (n_outputs,) or (1, n_outputs), optional
        The desired output. When omitted, softmax and sigmoid networks use their own
        predicted class (:func:`default_target`); other networks need ``y``.
    learning_rate, steps
        As in :func:`trace`.
    title, note : str
        Carried into the trace; ``note`` follows the sentence on a chosen target.
    classes : sequence, optional
        Class labels, to name the predicted class when ``y`` is omitted.
    raw_inputs, raw_targets : sequence of DataValue, optional
        Where ``x`` and ``y`` came from in the data's units, one record per input (per
        output): the walk then opens with the standardisation (and one-hot encoding) that
        made them, and shows each output in the target's units, mean + std·out. Each
        record must give its value (``(raw − mean)/std``, within the dtype's rounding).

    Returns
    -------
    Trace
    """
    require_network(network, "explain_example")
    try:
        width = np.shape(x)  # (a ragged or sparse x: validate says what is wrong)
    except (ValueError, TypeError):
        width = ()
    if len(width) == 1 and width[0] != network.n_inputs:
        raise InputError(
            f"x has {width[0]} value(s) but the network has {network.n_inputs} inputs; pass "
            f"one example, {network.n_inputs} values."
        )
    X, _, _ = network.validate(x, names=("x", "y", "sample_weight"))  # (named as given here)
    if X.shape[0] != 1:
        raise InputError(
            f"explain_example explains one example; received {X.shape[0]} rows. "
            "Pass a single row (shape (n_inputs,))."
        )
    if not isinstance(note, str):
        raise InputError(f"note must be a string; received {type(note).__name__} {note!r}.")
    classes = _check_classes(network, classes)
    if y is None:
        with np.errstate(all="ignore"):  # (an overflow is refused by trace, naming the value)
            y, chosen = default_target(network, network.forward(X)[0], classes)
        note = f"{chosen} {note}".strip()
    records: tuple[tuple[DataValue, ...], tuple[DataValue, ...]] = ((), ())
    if raw_inputs or raw_targets:  # (checked before the walk runs its steps)
        rows, targets, _ = network.validate(X, y)
        records = check_data_values(network.dtype, rows, targets, raw_inputs, raw_targets)
    result = trace(network, X, y, learning_rate, steps=steps, title=title, note=note)
    return replace(result, raw_inputs=records[0], raw_targets=records[1])


def explain_example(
    network: Network,
    x: ArrayLike,
    y: ArrayLike | None = None,
    *,
    learning_rate: float = TUTORIAL_LEARNING_RATE,
    steps: int = 0,
    format: str = "text",
    max_neurons: int = MAX_NEURONS,
    title: str = "one example",
    note: str = "",
    classes: Sequence[Any] | None = None,
    raw_inputs: Sequence[DataValue] | None = None,
    raw_targets: Sequence[DataValue] | None = None,
) -> str:
    """Explain one example's forward and backward pass through ``network``.

    Parameters
    ----------
    network : Network
        Not changed: the trace runs on a copy of its parameters.
    x : array-like of shape (n_inputs,) or (1, n_inputs)
    y : array-like of shape (n_outputs,) or (1, n_outputs), optional
        The desired output. When omitted, softmax and sigmoid networks use their own
        predicted class (:func:`default_target`); other networks need ``y``.
    learning_rate, steps
        As in :func:`trace`.
    format : {"text", "markdown", "html", "json"}
        JSON holds every weight however wide the network, so a network of more than
        :data:`~.render.MAX_JSON_WEIGHTS` weights (100,000) is refused in JSON.
    max_neurons : int, default 8
        Networks with a wider layer get a per-layer summary instead of every weight.
    title, note : str
        The heading, and a sentence for the reader (after the one on a chosen target).
    classes : sequence, optional
        Class labels, to name the predicted class when ``y`` is omitted.
    raw_inputs, raw_targets : sequence of DataValue, optional
        As in :func:`example_trace`: the values in the data's units.

    Returns
    -------
    str

    Raises
    ------
    InputError
        For unusable arguments, and (:class:`~deltarule.explain.recorder.NonFiniteError`)
        when the example overflows the network's arithmetic.
    """
    require_network(network, "explain_example")
    max_neurons = check_int(max_neurons, "max_neurons")
    # (before the trace: a huge walk is refused up front)
    check_walk_size(network.layer_sizes, max_neurons, format=format)
    result = example_trace(network, x, y, learning_rate=learning_rate, steps=steps,
                           title=title, note=note, classes=classes,
                           raw_inputs=raw_inputs, raw_targets=raw_targets)  # fmt: skip
    return render(result, format, max_neurons=max_neurons)
