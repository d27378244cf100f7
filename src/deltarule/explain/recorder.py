r"""Recording the real computation: an observer on the network's own forward/backward code.

:class:`Recorder` implements :class:`deltarule.network.Observer`; passed to
:meth:`Network.loss_and_gradient <deltarule.network.Network.loss_and_gradient>`
it copies every value the network computes. :func:`trace` runs that one real
pass, applies one gradient-descent update :math:`\theta \leftarrow \theta -
\eta\,\partial E/\partial\theta` to the trainable entries, optionally goes on
training, and returns the :class:`~deltarule.explain.events.Trace`. Nothing
here re-implements backpropagation: the numbers are the network's.

Examples
--------
>>> from deltarule.textbook import tutorial_network, tutorial_weights
>>> net, X, y = tutorial_network()
>>> t = trace(net, X, y, learning_rate=0.5)
>>> round(t.loss.total, 9), round(tutorial_weights(t.updated)["w5"], 8)
(0.298371109, 0.35891648)
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .._typing import Array, ArrayLike
from .._validation import check_int, check_positive
from ..exceptions import InputError
from ..layers import Dense, DenseCache
from ..losses import fused_pair, is_builtin
from ..network import Network, require_network
from .events import LayerBackward, LayerForward, LossRecord, Trace

__all__ = ["Recorder", "trace", "NonFiniteError", "SEPARABLE_LOSSES"]

MAX_STEPS = 1_000_000
"""The most updates a walk runs (``steps``): a minute or so of one-at-a-time updates."""
SEPARABLE_LOSSES = frozenset({"half_squared_error"})
"""Losses that are a plain sum over outputs, so each output's share :math:`E_{o_k}` exists."""


class Recorder:
    """An :class:`~deltarule.network.Observer` that keeps copies of everything it is shown.

    Parameters
    ----------
    network : Network
        The network being observed (for its loss object and activations).
    params : ndarray of shape (n_parameters,), optional
        The parameters the pass runs with (the network's own buffer by default).
    """

    def __init__(self, network: Network, params: Array | None = None) -> None:
        """Start with nothing recorded."""
        self.network = require_network(network, "Recorder")
        self.params = network.parameters if params is None else params
        self.forward: list[LayerForward] = []
        self.backward: dict[int, LayerBackward] = {}
        self.loss: LossRecord | None = None

    def on_forward(self, index: int, layer: Dense, cache: DenseCache) -> None:
        """Copy one layer's inputs, weights, net input and output."""
        weight = self.network.layout.view(self.params, f"W{index + 1}").copy()
        bias = (
            self.network.layout.view(self.params, f"b{index + 1}").copy()
            if layer.use_bias
            else None
        )
        derivative = None
        if layer.activation.derivative is not None:
            derivative = np.array(layer.activation.derivative(cache.net, cache.activated))
        self.forward.append(
            LayerForward(
                index,
                layer.activation.name,
                cache.inputs.copy(),
                weight,
                bias,
                cache.net.copy(),
                cache.out.copy(),
                derivative,
            )
        )

    def on_loss(self, value: float, output: Array, target: Array, delta: Array) -> None:
        """Copy the error, the output error signal and :math:`\\partial E/\\partial out`."""
        loss = self.network.loss
        per_output, builtin = None, is_builtin(loss)
        if loss.name in SEPARABLE_LOSSES and builtin:  # (not a user's under its name)
            # Each column on its own is that output's term E_ok of the sum.
            per_output = np.array(
                [loss(output[:, [k]], target[:, [k]]) for k in range(output.shape[1])]
            )
        # (the same question the backward pass asked: where it fused, delta is not the
        # product of grad_output and the activation's derivative)
        fused = fused_pair(self.network.layers[-1].activation, loss) is not None
        with np.errstate(all="ignore"):  # (a saturated output's clipped gradient is huge)
            grad_output = np.array(loss.output_gradient(output, target))
        self.loss = LossRecord(
            loss.name,
            float(value),
            output.copy(),
            target.copy(),
            grad_output,
            delta.copy(),
            per_output,
            fused,
            builtin,
        )

    def on_backward(
        self, index: int, layer: Dense, delta: Array, grad_weight: Array, grad_bias: Array | None
    ) -> None:
        """Copy one layer's error signal and gradients."""
        self.backward[index] = LayerBackward(
            index, delta.copy(), grad_weight.copy(), None if grad_bias is None else grad_bias.copy()
        )


class NonFiniteError(InputError):
    """The traced pass overflowed: a value of the walk is infinite or NaN.

    Attributes
    ----------
    stage : {"forward", "error", "backward", "update"}
        Where: the forward pass, the error, the gradients or the updated parameters.
    quantity : str
        The first such value's symbol, as the walk names it (``"net_h1"``, ``"E_total"``,
        ``"∂E_total/∂w4"``, ``"w4⁺"``).
    value : float
    """

    def __init__(self, message: str, *, stage: str, quantity: str, value: float) -> None:
        """Keep where the pass overflowed, for callers that word their own advice."""
        super().__init__(message)
        self.stage, self.quantity, self.value = stage, quantity, value


def _first_non_finite(trace: Trace) -> tuple[str, str, float] | None:
    """(stage, symbol, value) of the first infinite or NaN value of the walk, or None."""
    for rec in trace.forward:
        names = trace.labels[rec.index + 1]
        for symbol, array in (("net", rec.net), ("out", rec.out)):
            bad = np.argwhere(~np.isfinite(array))
            if bad.size:
                row, j = bad[0]
                return "forward", f"{symbol}_{names[j]}", float(array[row, j])
    if not math.isfinite(trace.loss.total):
        return "error", "E_total", trace.loss.total
    if np.isfinite(trace.gradient).all() and np.isfinite(trace.updated).all():
        return None  # (the usual case: no label made for each of millions of weights)
    refs = [(w.label, w.flat) for w in trace.weights()] + [
        (b.label, b.flat) for b in trace.biases()
    ]
    for stage, vector, symbol in (
        ("backward", trace.gradient, "∂E_total/∂{}"),
        ("update", trace.updated, "{}⁺"),
    ):
        for label, flat in sorted(refs, key=lambda ref: ref[1]):
            if not math.isfinite(vector[flat]):
                return stage, symbol.format(label), float(vector[flat])
    return None


def _check_finite(trace: Trace, X: Array, y: Array) -> None:
    """Refuse a trace whose pass overflowed: its walk would be infinities and NaN."""
    found = _first_non_finite(trace)
    if found is None:
        return
    stage, quantity, value = found
    dtype = trace.dtype
    if stage == "update":
        message = (
            f"the update overflows {dtype}: {quantity} = {value:g} (the step "
            f"learning_rate·∂E/∂w = {trace.learning_rate:g}·gradient is too large). Use a "
            "smaller learning_rate."
        )
    else:
        where = {"forward": "in the forward pass", "error": "as the error",
                 "backward": "in the backward pass"}[stage]  # fmt: skip
        message = (
            f"this example overflows the network's {dtype} arithmetic: {quantity} = {value:g} "
            f"{where} (largest |x| {np.abs(X).max():.3g}, largest |y| {np.abs(y).max():.3g}, "
            f"largest |weight| {np.abs(trace.parameters).max():.3g}; {dtype} holds numbers up "
            f"to {np.finfo(dtype).max:.3g}). Scale X (and y) as the training data were "
            "scaled (e.g. standardise them), or use dtype='float64'."
        )
    raise NonFiniteError(message, stage=stage, quantity=quantity, value=value)


def _curve_points(steps: int, n_points: int) -> set[int]:
    """Update counts at which to record the error: 0, then log-spaced up to ``steps``, and
    ``steps - 1``: the error of the last forward pass, before the last update, which is
    what ``fit``'s history records as the last epoch's loss."""
    points = np.unique(np.round(np.geomspace(1, steps, num=max(n_points - 1, 1))).astype(int))
    return {0, *(int(p) for p in points), steps - 1, steps}


def _train_on(
    network: Network,
    X: Array,
    y: Array,
    params: Array,
    learning_rate: float,
    steps: int,
    n_points: int,
) -> tuple[list[tuple[int, float]], float | None, int | None, Array | None]:
    """Run ``steps`` updates from ``params`` (in place).

    Returns the curve (finite errors only), the final error, when the training diverged
    the number of updates after which the error was no longer finite (training stops
    there: every later error would be NaN too), else None, and the final outputs (None
    when it diverged).
    """
    keep = _curve_points(steps, n_points)
    grad = network.layout.allocate(network.dtype)
    mask = network.trainable
    curve = []
    with np.errstate(all="ignore"):  # (a diverging run overflows: reported, not warned)
        for step in range(steps):
            error, _ = network.loss_and_gradient(X, y, params=params, out=grad)
            if not math.isfinite(error):
                return curve, None, step, None
            if step in keep:
                curve.append((step, float(error)))
            params[mask] -= learning_rate * grad[mask]
        final = float(network.evaluate_params(params, X, y))
        output = network.forward(X, params)[0].copy()
    if not math.isfinite(final):
        return curve, None, steps, None
    curve.append((steps, final))
    return curve, final, None, output


def trace(
    network: Network,
    X: ArrayLike,
    y: ArrayLike,
    learning_rate: float = 0.5,
    *,
    steps: int = 0,
    n_points: int = 20,
    title: str = "a network",
    note: str = "",
) -> Trace:
    r"""Record one real forward/backward pass and the gradient-descent update it implies.

    The network itself is not changed: the pass runs on a copy of its parameters. It is
    the inference pass, with dropout off (the trace keeps the rates, and the renderers
    say so), as are the further ``steps``.

    Parameters
    ----------
    network : Network
    X : array-like of shape (n_samples, n_inputs)
    y : array-like of shape (n_samples, n_outputs)
    learning_rate : float, default 0.5
        :math:`\eta` of the update :math:`w^+ = w - \eta\,\partial E/\partial w`.
    steps : int, default 0
        Total number of plain gradient-descent updates to run from the start
        (the first one is the update shown); 0 records just the one pass.
    n_points : int, default 20
        About how many (log-spaced) points of the error curve to keep (at least 2: the
        start and the end).
    title, note : str
        Carried into the trace for the renderers.

    Returns
    -------
    Trace
        When the further training diverges (the error overflows to infinity or NaN), it
        stops there: :attr:`Trace.diverged` says after how many updates, and the curve
        keeps the finite errors before.

    Raises
    ------
    NonFiniteError
        (an :class:`~deltarule.exceptions.InputError`) If the traced pass itself
        overflows: a net input, an output, the error, a gradient or an updated
        parameter is infinite or NaN. Its ``stage`` and ``quantity`` say which.
    """
    require_network(network, "trace")
    learning_rate = check_positive(learning_rate, "learning_rate")
    steps = check_int(steps, "steps", minimum=0)
    n_points = check_int(n_points, "n_points", minimum=2)
    for name, text in (("title", title), ("note", note)):
        if not isinstance(text, str):
            raise InputError(f"{name} must be a string; received {type(text).__name__} {text!r}.")
    if steps > MAX_STEPS:
        raise InputError(
            f"steps must be at most {MAX_STEPS:,} (the walk's updates run one at a time, "
            f"some 17,000 a second); received {steps:,}. For a long run, train the network "
            "(fit, or deltarule train) and explain a step of the result."
        )
    X, y, _ = network.validate(X, y)
    params = network.parameters.copy()
    recorder = Recorder(network, params)
    with np.errstate(all="ignore"):  # (an overflow is refused below, naming the value)
        _, gradient = network.loss_and_gradient(X, y, params=params, observer=recorder)
        updated = params.copy()
        updated[network.trainable] -= learning_rate * gradient[network.trainable]
    if recorder.loss is None:  # pragma: no cover - the network always reports its loss
        raise RuntimeError("the network's backward pass did not report its loss to the observer")
    one_step = Trace(
        layer_sizes=tuple(network.layer_sizes),
        forward=tuple(recorder.forward),
        loss=recorder.loss,
        backward=tuple(recorder.backward[i] for i in sorted(recorder.backward)),
        learning_rate=learning_rate,
        layout=network.layout,
        parameters=params,
        gradient=gradient.copy(),
        updated=updated,
        trainable=network.trainable.copy(),
        title=title,
        note=note,
        dropout=tuple(float(layer.dropout) for layer in network.layers),
    )
    _check_finite(one_step, X, y)  # (before running any further steps)
    if not steps:
        return one_step
    curve, final, diverged, output = _train_on(
        network, X, y, params.copy(), learning_rate, steps, n_points
    )
    return replace(
        one_step, curve=tuple(curve), final_error=final, steps=steps, diverged=diverged,
        final_output=output,
    )  # fmt: skip
