r"""Sensitivity to the inputs: derivatives of the error and of the outputs with respect to x.

Backpropagation already carries the error signal down to every layer's input,
:math:`\partial E/\partial x^{(l)} = \delta^{(l)} W^{(l)}`; training discards the first
layer's, which is the derivative with respect to the data. Here it is kept:

* :func:`input_gradients` with targets: row :math:`i` is :math:`c\,s_i\,\partial\ell_i/\partial
  x_i`, the gradient of example :math:`i`'s own error (its loss :math:`\ell_i`, weighed by
  its weight :math:`s_i`, 1 by default; :math:`c` is 1 for a plain network). Without targets:
  the Jacobian :math:`\partial o_{ik}/\partial x_{ij}` of the outputs.
* :func:`generalized_weights`: R neuralnet's generalized weights (Intrator & Intrator), the
  derivative of each output's log-odds :math:`\log(o_k/(1-o_k))` (logistic and softmax
  outputs) or of the output itself (linear outputs) with respect to each input.

Both run the network's own forward pass and each layer's own
:meth:`~deltarule.layers.Dense.backward` (the chain rule of training, seeded at the output
with what is differentiated), in the network's dtype; nothing is approximated by finite
differences.

Examples
--------
>>> import numpy as np, deltarule as dr
>>> net = dr.Network([3, 4, 2], activation="tanh", seed=0, dtype="float64")
>>> X = np.array([[0.5, -1.0, 2.0], [0.0, 0.3, -0.2]])
>>> dr.input_gradients(net, X, np.zeros((2, 2))).shape
(2, 3)
>>> dr.input_gradients(net, X).shape  # (n_samples, n_outputs, n_inputs)
(2, 2, 3)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import _sparse
from ._network_data import overflow_quietly, refuse_overflowed
from ._typing import Array, ArrayLike
from .activations import is_builtin as builtin_activation
from .exceptions import InputError
from .layers import DenseCache
from .losses import fused_pair
from .network import Network, require_network

__all__ = [
    "GENERALIZED_WEIGHT_OUTPUTS",
    "generalized_weights",
    "input_gradients",
    "log_odds_derivatives",
]

GENERALIZED_WEIGHT_OUTPUTS = ("identity", "sigmoid", "softmax")
"""The (built-in) output activations :func:`generalized_weights` is defined for."""


def dense_inputs(network: Network, X: ArrayLike, what: str) -> Array:
    """``X`` checked for ``network`` as :meth:`~deltarule.network.Network.predict` checks it
    (width, finiteness), in the network's dtype; scipy sparse rows made dense."""
    require_network(network, what)
    X, _, _ = network.validate(X, accept_sparse=True)
    return X.toarray() if _sparse.is_sparse(X) else X


def _forward(network: Network, X: Array) -> list[DenseCache]:
    """The caches of an inference forward pass (no dropout); non-finite outputs refused."""
    with overflow_quietly():
        output, caches = network.forward(X)
    refuse_overflowed(network, X, output)
    return caches


def _backpropagate(
    network: Network, caches: list[DenseCache], grad_out: Array | None, delta: Array | None
) -> Array:
    r""":math:`\partial(\cdot)/\partial x` of the network's input, by each layer's backward
    pass from ``grad_out`` (:math:`\partial/\partial o`) or ``delta`` (:math:`\partial/\partial
    z`) at the output layer (the weights' and biases' gradients are not computed)."""
    for index in range(len(network.layers) - 1, -1, -1):
        grad_out, delta = network.layers[index].backward(
            network.weights[index], caches[index], grad_out, None, None, delta=delta
        )
        delta = None
    return grad_out  # type: ignore[return-value]


def _finite(network: Network, result: Array, what: str) -> Array:
    """``result``, refused where it overflowed the network's dtype."""
    if not np.isfinite(result).all():
        wider = (
            ", or use a float64 network: network.astype('float64')"
            if network.dtype != np.float64
            else " (the weights may be too large: check them, or retrain)"
        )
        raise InputError(
            f"{what} overflowed to infinity or NaN in {network.dtype} (the outputs are "
            f"finite, their derivatives are not). Scale X as the training data were "
            f"scaled{wider}."
        )
    return result


def _error_scale(network: Network) -> float:
    """:math:`c` of the network's objective :math:`cE` (1 for a plain network)."""
    terms = network.objective_terms()
    if terms is None:
        raise InputError(
            f"input_gradients with y differentiates the network's error, but "
            f"{type(network).__name__} changes forward, backward or error in a way its "
            "objective_terms() does not describe (it returns None). Call input_gradients "
            "without y for the Jacobian of the outputs, or give the subclass objective_terms."
        )
    return terms[0]


def input_gradients(
    network: Network,
    X: ArrayLike,
    y: ArrayLike | None = None,
    *,
    sample_weight: ArrayLike | None = None,
) -> Array:
    r"""Return the derivatives of each example's error, or of the outputs, by its inputs.

    With targets ``y``, row :math:`i` is the gradient of example :math:`i`'s own error

    .. math:: g_i = c\,s_i\,\frac{\partial \ell_i}{\partial x_i},

    :math:`\ell_i` the network's loss on example :math:`i` alone (the error :math:`E` of a
    batch of that one example), :math:`s_i` its ``sample_weight`` (1 when not given) and
    :math:`c` the factor of the network's objective (:meth:`Network.objective_terms
    <deltarule.network.Network.objective_terms>`: 1 for a :class:`~deltarule.network.Network`;
    a scikit-learn estimator's network's, as its loss is defined: :math:`K` for its
    :math:`K` logistic outputs, :math:`K/2` for Poisson, 1 for softmax and for squared
    error, whose ½ is in its ``half_squared_error``). A batch's error is the weighted
    mean :math:`E = \sum_i s_i \ell_i / \sum_i s_i`, so its gradient by :math:`x_i`, what
    ``torch.autograd.grad(loss, X)`` gives for a mean loss, is :math:`g_i / \sum_j s_j`
    (:math:`g_i / n` unweighted). Examples do not interact: :math:`\ell_i` depends on
    :math:`x_i` alone.

    Without ``y``, the Jacobian of the outputs, :math:`J_{ikj} = \partial o_{ik}/\partial
    x_{ij}` (the output activation included: a softmax's probabilities).

    Both are computed by the network's forward pass and each layer's backward pass
    (:math:`\partial/\partial x = \delta^{(1)} W^{(1)}`), in the network's dtype; no dropout.

    Parameters
    ----------
    network : Network
    X : array-like or scipy sparse matrix of shape (n_samples, n_inputs)
        Checked as :meth:`~deltarule.network.Network.predict` checks it (width, finite
        values). A sparse ``X`` is made dense first: the gradients are dense whatever ``X``
        is (an entry that is 0 has a derivative too), so they take the memory of
        ``X.toarray()`` anyway.
    y : array-like of shape (n_samples, n_outputs), optional
        Targets, as for :meth:`~deltarule.network.Network.evaluate`. None: the Jacobian.
    sample_weight : array-like of shape (n_samples,), optional
        :math:`s_i`, with ``y`` only; weights >= 0, not all 0.

    Returns
    -------
    ndarray of shape (n_samples, n_inputs), or (n_samples, n_outputs, n_inputs) without ``y``
        Of the network's dtype.

    Raises
    ------
    InputError
        For ``X`` of the wrong width or with non-finite values, ``y`` or ``sample_weight``
        of the wrong shape, ``sample_weight`` without ``y``, or outputs or derivatives that
        overflow the dtype.

    Examples
    --------
    The tutorial's network, whose error is :math:`\tfrac12\sum_k (t_k - o_k)^2`:

    >>> from deltarule.textbook import tutorial_network
    >>> net, X, y = tutorial_network()
    >>> input_gradients(net, X, y).round(6)
    array([[0.003804, 0.004741]])
    """
    require_network(network, "input_gradients")
    if y is None:
        if sample_weight is not None:
            raise InputError(
                "input_gradients received sample_weight without y; the weights scale each "
                "example's error, which needs targets. Pass y too, or leave sample_weight "
                "out for the Jacobian of the outputs."
            )
        X = dense_inputs(network, X, "input_gradients")
        caches = _forward(network, X)
        n, n_outputs = caches[-1].out.shape
        jacobian = np.empty((n, n_outputs, network.n_inputs), network.dtype)
        with overflow_quietly():  # (an overflow shows as a non-finite result: refused)
            for k in range(n_outputs):
                seed = np.zeros((n, n_outputs), network.dtype)
                seed[:, k] = 1
                jacobian[:, k, :] = _backpropagate(network, caches, seed, None)
        return _finite(network, jacobian, "the Jacobian of the outputs")
    scale = _error_scale(network)
    X, target, weights = network.validate(X, y, sample_weight, accept_sparse=True)
    X = X.toarray() if _sparse.is_sparse(X) else X
    caches = _forward(network, X)
    last = caches[-1]
    factor = np.full((X.shape[0], 1), scale, network.dtype)
    if weights is not None:
        factor = factor * weights[:, None]
    pair = fused_pair(network.layers[-1].activation, network.loss)
    with overflow_quietly():
        if pair is not None:  # (the loss's own gradient at z, as training computes it)
            delta, grad_out = pair.gradient(last.net, last.out, target) * factor, None
        else:
            delta, grad_out = None, network.loss.gradient(last.out, target) * factor
        gradients = _backpropagate(network, caches, grad_out, delta)
    return _finite(network, gradients, "the gradients of the error")


def _log_odds_seed(z: Array, k: int, softmax: bool) -> Array:
    r""":math:`\partial\log(o_k/(1-o_k))/\partial z` at the output net input ``z``.

    A sigmoid's log-odds is :math:`z_k` itself (seed :math:`e_k`); so is an identity
    output's :math:`o_k`. A softmax's is :math:`z_k - \log\sum_{m\ne k} e^{z_m}`, whose
    gradient is :math:`e_k - q`, :math:`q` the softmax of the other classes' :math:`z`
    (:math:`q_k = 0`): exact where :math:`1 - o_k` rounds to 0.
    """
    seed = np.zeros_like(z)
    if softmax:
        others = z.copy()
        others[:, k] = -np.inf
        others = np.exp(others - others.max(axis=1, keepdims=True))
        seed -= others / others.sum(axis=1, keepdims=True)
    seed[:, k] += 1
    return seed


def _output_kind(network: Network) -> str:
    """The output activation's name, when generalized weights are defined for it."""
    activation = network.layers[-1].activation
    if activation.name in GENERALIZED_WEIGHT_OUTPUTS and builtin_activation(activation):
        return activation.name
    whose = "" if builtin_activation(activation) else "a user-defined "
    raise InputError(
        f"generalized weights are defined for a logistic (sigmoid) output, as the "
        f"derivatives of its log-odds log(o/(1-o)), for softmax outputs (each class's "
        f"log-odds) and for a linear (identity) output, as the derivatives of o; this "
        f"network's output activation is {whose}{activation.name!r}. For the derivatives "
        "of its outputs, use deltarule.input_gradients(network, X) (the Jacobian do/dx)."
    )


def generalized_weights(network: Network, X: ArrayLike) -> Array:
    r"""Return R neuralnet's generalized weights: each output's sensitivity to each input.

    The generalized weight of input :math:`j` for output :math:`k` (Intrator & Intrator,
    2001) is the derivative of the output's log-odds for a logistic output,

    .. math:: w_{ikj} = \frac{\partial}{\partial x_{ij}}\log\frac{o_{ik}}{1 - o_{ik}}
        \quad\text{(sigmoid: } = \partial z_{ik}/\partial x_{ij}\text{)},

    the analogue of a logistic regression's coefficient (the log-odds' slope in
    :math:`x_j`, here one per example); and :math:`w_{ikj} = \partial o_{ik}/\partial x_{ij}`
    for a linear (identity) output, a linear regression's coefficient. Generalized weights
    near 0 for every example say the input has no effect on that output; spread-out ones, a
    non-linear effect (:func:`deltarule.plots.generalized_weights_figure` draws them, as R's
    ``gwplot``).

    A softmax output has the same log-odds of each class against the others,
    :math:`\log(o_k/(1-o_k)) = z_k - \log\sum_{m\ne k} e^{z_m}`; a softmax over two units is
    a sigmoid of :math:`z_1 - z_2`, whose generalized weights these are. Other output
    activations are refused (:func:`input_gradients` gives their :math:`\partial o/\partial x`).

    R's ``nn$generalized.weights[[rep]]`` is ``w.reshape(n_samples, -1)``: one column per
    (output, input), the outputs' blocks side by side. Its code divides by
    :math:`o(1-o)` for linear outputs too (``linear.output = TRUE``), where the log-odds
    mean nothing (o may be negative); to compare with those numbers, divide these by
    :math:`o(1-o)`.

    Parameters
    ----------
    network : Network
        With an identity, sigmoid or softmax output (the built-in ones).
    X : array-like or scipy sparse matrix of shape (n_samples, n_inputs)
        Checked as :meth:`~deltarule.network.Network.predict` checks it; a sparse ``X`` is
        made dense first (as in :func:`input_gradients`).

    Returns
    -------
    ndarray of shape (n_samples, n_outputs, n_inputs)
        ``w[i, k, j]``, in the network's dtype.

    Raises
    ------
    InputError
        For another output activation, ``X`` of the wrong width or with non-finite values,
        or outputs or derivatives that overflow the dtype.

    Examples
    --------
    >>> import numpy as np, deltarule as dr
    >>> net = dr.Network([2, 3, 1], activation="tanh", output_activation="sigmoid", seed=0)
    >>> dr.generalized_weights(net, np.array([[0.5, -1.0], [2.0, 0.0]])).shape
    (2, 1, 2)
    """
    require_network(network, "generalized_weights")
    _output_kind(network)  # (refused before X is read)
    X = dense_inputs(network, X, "generalized_weights")
    return log_odds_derivatives(network, X, range(network.n_outputs))


def log_odds_derivatives(network: Network, X: Array, outputs: Sequence[int]) -> Array:
    """:func:`generalized_weights` of the ``outputs`` (indices) alone, shape (n_samples,
    len(outputs), n_inputs), of ``X`` checked already (:func:`dense_inputs`): one backward
    pass each (a plot of one output makes one)."""
    softmax = _output_kind(network) == "softmax"
    caches = _forward(network, X)
    z = caches[-1].net
    weights = np.empty((X.shape[0], len(outputs), network.n_inputs), network.dtype)
    with overflow_quietly():
        for place, k in enumerate(outputs):
            seed = _log_odds_seed(z, k, softmax)
            weights[:, place, :] = _backpropagate(network, caches, None, seed)
    return _finite(network, weights, "the generalized weights")
