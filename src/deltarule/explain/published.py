"""The tutorial's published numbers that backpropagation does not give, and why.

Most of the tutorial's numbers (Matt Mazur's worked example, the same 2-2-2 network) are
what the walk computes, digit for digit. Four are not, and the walk says so beside each
(:attr:`~deltarule.explain.events.Trace.footnotes`), with the published value, the value
computed and the reason:

* ∂E_o2/∂out_h1 = -0.019049119: the tutorial multiplied the factors rounded to 9
  decimals, -0.038098237·0.5 = -0.0190491185, and rounded that half up; the exact
  product rounds to -0.019049118.
* the error after the first round, 0.291027924: the tutorial computed the hidden
  neurons' δ with the output weights already updated (w5⁺..w8⁺ in place of w5..w8).
  That variant (:func:`updated_weights_variant`) gives 0.291027924; backpropagation
  proper, 0.291027774.
* the error after 10,000 rounds, 0.0000351085: the error of the 10,000th forward pass,
  before its update (what ``fit``'s history records as the last epoch's loss); after
  10,000 updates it is 3.510188e-05.
* the outputs after 10,000 rounds, 0.015912196 and 0.984065734: the variant's outputs
  after 10,000 of its updates; backpropagation gives 0.01591362 and 0.984064274.

Only the variant is computed here, from the network's own forward pass; everything else
the footnotes quote is the trace's.
"""

from __future__ import annotations

import numpy as np

from ..network import Network
from ..textbook import TUTORIAL_LEARNING_RATE, tutorial_network
from .events import Trace
from .expr import fmt, fmt_short
from .walk import updates

__all__ = ["PUBLISHED", "tutorial_footnotes", "updated_weights_variant"]

PUBLISHED = {
    "∂E_o2/∂out_h1": "-0.019049119",
    "E after 1 update": "0.291027924",
    "E after 10,000 updates": "0.0000351085",
    "out_o1 after 10,000 updates": "0.015912196",
    "out_o2 after 10,000 updates": "0.984065734",
}
"""The tutorial's numbers that the walk does not reproduce, as published."""


def updated_weights_variant(steps: int) -> tuple[float, np.ndarray]:
    """Train the tutorial network the way its text computed: each hidden δ from the output
    weights *after* their update, :math:`\\delta_h = (\\sum_o \\delta_o w^+_{oh})\\,
    out_h(1 - out_h)`, where backpropagation uses the weights of the forward pass.

    Parameters
    ----------
    steps : int
        Updates to run (η = 0.5, biases fixed, as in the tutorial).

    Returns
    -------
    error : float
        The error after ``steps`` updates.
    output : ndarray of shape (1, 2)
        The outputs then.

    Examples
    --------
    >>> error, output = updated_weights_variant(1)
    >>> round(error, 9)
    0.291027924
    """
    net, X, y = tutorial_network()
    params = net.parameters.copy()
    w1, w2 = net.layout.view(params, "W1"), net.layout.view(params, "W2")
    hidden, output = (layer.activation for layer in net.layers)
    eta = TUTORIAL_LEARNING_RATE
    for _ in range(steps):
        out, (h, o) = net.forward(X, params)
        delta_o = net.loss.output_gradient(out, y) * output.derivative(o.net, o.activated)
        w2 -= eta * delta_o.T @ h.out
        delta_h = (delta_o @ w2) * hidden.derivative(h.net, h.activated)  # (w2 updated)
        w1 -= eta * delta_h.T @ h.inputs
    return float(net.evaluate_params(params, X, y)), _outputs(net, X, params)


def _outputs(net: Network, X: np.ndarray, params: np.ndarray) -> np.ndarray:
    return net.forward(X, params)[0].copy()


def _exact(value: float) -> str:
    """A value with 12 decimals (or 12 significant digits when small), to show a rounding."""
    return f"{value:.12f}" if abs(value) >= 1e-4 else f"{value:.11e}"


def tutorial_footnotes(trace: Trace) -> tuple[tuple[str, str], ...]:
    """The footnotes of the tutorial's walk (``trace``: :func:`~deltarule.explain.
    tutorial_trace`), at η = 0.5: one for each published number it does not reproduce."""
    if trace.learning_rate != TUTORIAL_LEARNING_RATE:
        return ()
    notes = []
    delta_o2, w7 = float(trace.backward[1].delta[0, 1]), float(trace.forward[1].weight[1, 0])
    shown = round(delta_o2, 9) * w7
    notes.append(
        (
            "∂E_o2/∂out_h1",
            f"The tutorial publishes {PUBLISHED['∂E_o2/∂out_h1']} here: it multiplied the "
            f"factors rounded to 9 decimals, ({fmt(round(delta_o2, 9))})·{fmt(w7)} = "
            f"{shown:.10f}, and rounded that half up. The exact product is "
            f"{_exact(delta_o2 * w7)}..., {fmt(delta_o2 * w7)} to 9 decimals.",
        )
    )
    errors = dict(trace.curve)
    if 1 in errors:
        variant, _ = updated_weights_variant(1)
        notes.append(
            (
                "E after 1 update",
                f"The tutorial publishes {PUBLISHED['E after 1 update']} after the first "
                "round: it computed the hidden neurons' δ with the output weights already "
                "updated (w5⁺..w8⁺ in place of w5..w8). That variant gives "
                f"{_exact(variant)}..., {fmt(variant)} to 9 decimals; backpropagation uses "
                f"the weights of the forward pass, as above: {fmt(errors[1])}.",
            )
        )
    if trace.steps == 10_000 and trace.final_output is not None and 9_999 in errors:
        notes.append(_ten_thousand(trace, errors))
    return tuple(notes)


def _ten_thousand(trace: Trace, errors: dict[int, float]) -> tuple[str, str]:
    variant_error, variant_out = updated_weights_variant(10_000)
    assert trace.final_output is not None  # (checked by the caller)
    out = trace.final_output[0]
    return (
        "out_o2 after 10,000 updates",
        f"The tutorial publishes {PUBLISHED['E after 10,000 updates']} after 10,000 rounds: "
        "the error of the 10,000th forward pass, before its update (E after 9,999 updates, "
        f"{fmt_short(errors[9_999])}), which is also the last epoch's loss in fit's history. "
        f"After {updates(10_000)} it is {fmt_short(errors[10_000])}. The outputs it publishes "
        "then, "
        f"{PUBLISHED['out_o1 after 10,000 updates']} and "
        f"{PUBLISHED['out_o2 after 10,000 updates']}, are those of its updated-weights "
        f"variant after 10,000 of its updates ({fmt(variant_out[0, 0])} and "
        f"{fmt(variant_out[0, 1])}, where its error is {fmt_short(variant_error)}); "
        f"backpropagation's are {fmt(out[0])} and {fmt(out[1])}.",
    )
