r"""The tutorial's networks and data, by name.

Two worked examples from the backpropagation tutorial this project implements
(shared/seed/):

* :func:`tutorial_network` — the 2-2-2 sigmoid network. Inputs
  :math:`i_1 = 0.05, i_2 = 0.10`; weights :math:`w_1..w_8 = 0.15, 0.20, 0.25,
  0.30, 0.40, 0.45, 0.50, 0.55`; biases :math:`b_1 = 0.35` (hidden) and
  :math:`b_2 = 0.60` (output), shared within a layer and held fixed; targets
  0.01 and 0.99; :math:`E = \tfrac12\sum(t-o)^2`; learning rate 0.5. The
  published walk: :math:`E = 0.298371109`,
  :math:`\partial E/\partial w_5 = 0.082167041`, and after one update
  :math:`w_5 = 0.35891648`, :math:`w_1 = 0.149780716`.
* :func:`linear_network` — the one-weight model ``output = W·x`` on the data
  0→0, 1→2, 2→4, whose error is smallest at :math:`W = 2`.

Weight ``w_k`` of the tutorial sits at flat index :data:`TUTORIAL_WEIGHT_INDEX`\[k]
of the network's parameter buffer: ``W1`` is [[w1, w2], [w3, w4]] (row j = the
weights into hidden neuron j), then ``b1``, then ``W2`` = [[w5, w6], [w7, w8]], then ``b2``.

Examples
--------
>>> net, X, y = tutorial_network()
>>> round(net.evaluate(X, y), 9)
0.298371109
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._typing import Array, DTypeLike
from .exceptions import InputError
from .network import Network

__all__ = [
    "TUTORIAL_INPUTS",
    "TUTORIAL_TARGETS",
    "TUTORIAL_LEARNING_RATE",
    "TUTORIAL_WEIGHT_INDEX",
    "tutorial_network",
    "tutorial_weights",
    "linear_network",
    "linear_example",
    "linear_data",
    "linear_error_table",
    "EXAMPLES",
]

TUTORIAL_INPUTS = np.array([[0.05, 0.10]])
TUTORIAL_TARGETS = np.array([[0.01, 0.99]])
TUTORIAL_LEARNING_RATE = 0.5
TUTORIAL_WEIGHT_INDEX: dict[str, int] = {
    "w1": 0, "w2": 1, "w3": 2, "w4": 3, "w5": 6, "w6": 7, "w7": 8, "w8": 9,
}  # fmt: skip
"""Tutorial weight name -> index in the flat parameter buffer of :func:`tutorial_network`."""


def tutorial_network(dtype: DTypeLike = "float64") -> tuple[Network, Array, Array]:
    """Return the tutorial's 2-2-2 network with its published weights, and its one example.

    The biases are frozen, as in the tutorial, so training updates only w1..w8.

    Returns
    -------
    network : Network
        2-2-2, sigmoid everywhere, loss ``half_squared_error``, float64 by default.
    X : ndarray of shape (1, 2)
        [[0.05, 0.10]]
    y : ndarray of shape (1, 2)
        [[0.01, 0.99]]
    """
    net = Network(
        [2, 2, 2],
        activation="sigmoid",
        output_activation="sigmoid",
        loss="half_squared_error",
        initializer="zeros",
        dtype=dtype,
    )
    net.set_parameters(
        {
            "W1": [[0.15, 0.20], [0.25, 0.30]],
            "b1": [0.35, 0.35],
            "W2": [[0.40, 0.45], [0.50, 0.55]],
            "b2": [0.60, 0.60],
        }
    )
    net.freeze("b1", "b2")
    return net, TUTORIAL_INPUTS.astype(net.dtype), TUTORIAL_TARGETS.astype(net.dtype)


def tutorial_weights(vector: Array) -> dict[str, float]:
    """Name the tutorial's eight weights in a flat vector (parameters or gradient)."""
    flat = np.asarray(vector, dtype=float).reshape(-1) if vector is not None else None
    if flat is None or flat.size != 12:
        raise InputError(
            "tutorial_weights takes the tutorial network's 12 parameters (eight weights, four "
            f"biases: net.parameters or a gradient); received {vector!r:.60}."
        )
    return {name: float(flat[i]) for name, i in TUTORIAL_WEIGHT_INDEX.items()}


def linear_data(dtype: DTypeLike = "float64") -> tuple[Array, Array]:
    """Return the tutorial's table: inputs [0, 1, 2] and desired outputs [0, 2, 4], as columns."""
    X = np.array([[0.0], [1.0], [2.0]], dtype=dtype)
    return X, 2 * X


def _check_weight(W: object) -> float:
    if isinstance(W, bool) or not isinstance(W, numbers.Real) or not math.isfinite(W):
        raise InputError(
            f"W must be a finite number (the one weight of output = W·x, e.g. 3.0); received {W!r}."
        )
    return float(W)


def linear_network(W: float = 3.0, dtype: DTypeLike = "float64") -> Network:
    """Return the one-weight model ``output = W·x`` (no bias, identity, half squared error)."""
    W = _check_weight(W)
    net = Network(
        [1, 1],
        output_activation="identity",
        loss="half_squared_error",
        use_bias=False,
        initializer="zeros",
        dtype=dtype,
    )
    net.set_parameters({"W1": [[W]]})
    return net


def linear_error_table(W: float) -> list[dict[str, float]]:
    """Return the tutorial's error table for weight ``W``, computed by the network.

    One row per example with keys ``input``, ``desired``, ``output``,
    ``absolute_error`` and ``square_error``.
    """
    net = linear_network(_check_weight(W))
    X, y = linear_data()
    out = net.predict(X)
    return [
        {
            "input": float(x),
            "desired": float(t),
            "output": float(o),
            "absolute_error": float(abs(o - t)),
            "square_error": float((o - t) ** 2),
        }
        for x, t, o in zip(X[:, 0], y[:, 0], out[:, 0])
    ]


def linear_example(dtype: DTypeLike = "float64") -> tuple[Network, Array, Array]:
    """Return the one-weight model at the tutorial's first guess W = 3, and its data.

    Returns
    -------
    network : Network
        ``output = W·x`` with W = 3 (:func:`linear_network`).
    X : ndarray of shape (3, 1)
        [[0], [1], [2]]
    y : ndarray of shape (3, 1)
        [[0], [2], [4]]
    """
    return linear_network(3.0, dtype), *linear_data(dtype)


EXAMPLES = {"tutorial": tutorial_network, "linear": linear_example}
"""The textbook examples by name: each a function ``(dtype="float64") -> (network, X, y)``.

>>> net, X, y = EXAMPLES["linear"]()
>>> net.layer_sizes, X.shape, y.shape
([1, 1], (3, 1), (3, 1))
"""
