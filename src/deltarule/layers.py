r"""The dense (fully connected) layer as an explicit forward/backward pair.

For a batch :math:`x` of shape (n_samples, n_inputs), weights :math:`W` of
shape (n_outputs, n_inputs) (PyTorch's layout: row :math:`j` holds the
weights *into* neuron :math:`j`) and bias :math:`b`:

.. math::

    z = x W^\top + b, \qquad a = f(z)

and, given :math:`\delta = \partial E/\partial z` (the error signal of the
delta rule),

.. math::

    \frac{\partial E}{\partial W} = \delta^\top x, \qquad
    \frac{\partial E}{\partial b} = \sum_{\text{samples}} \delta, \qquad
    \frac{\partial E}{\partial x} = \delta W.

``forward`` returns the output and a :class:`DenseCache` *value*; ``backward``
takes that value back. Nothing is kept on the layer between the two, so a
backward pass can be tested alone and ``explain`` can show the real caches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._typing import Array
from .activations import Activation

__all__ = ["Dense", "DenseCache"]


@dataclass(frozen=True)
class DenseCache:
    """What a dense layer's forward pass keeps for its backward pass.

    Attributes
    ----------
    inputs : ndarray of shape (n_samples, n_inputs)
        :math:`x`, the layer's input.
    net : ndarray of shape (n_samples, n_outputs)
        :math:`z = xW^\\top + b`, the net input.
    activated : ndarray of shape (n_samples, n_outputs)
        :math:`f(z)`, before dropout.
    out : ndarray of shape (n_samples, n_outputs)
        The layer's output: ``activated`` times the dropout mask (the same array
        when no dropout is applied).
    dropout_mask : ndarray of shape (n_samples, n_outputs) or None
        The inverted-dropout scale (0 or :math:`1/(1-p)`) applied to ``f(z)``.
    """

    inputs: Array
    net: Array
    activated: Array
    out: Array
    dropout_mask: Array | None = None


@dataclass(frozen=True)
class Dense:
    """A fully connected layer: ``n_inputs`` -> ``n_outputs`` through ``activation``.

    Parameters
    ----------
    n_inputs, n_outputs : int
        Widths.
    activation : Activation
        Applied element-wise (or row-wise, softmax) to the net input.
    use_bias : bool
        Whether the layer has a bias vector.
    dropout : float
        Probability of zeroing each output during training (0 disables).
    """

    n_inputs: int
    n_outputs: int
    activation: Activation
    use_bias: bool = True
    dropout: float = 0.0

    def forward(
        self,
        weight: Array,
        bias: Array | None,
        inputs: Array,
        rng: np.random.Generator | None = None,
    ) -> tuple[Array, DenseCache]:
        """Return ``(out, cache)`` for a batch of inputs.

        Parameters
        ----------
        weight : ndarray of shape (n_outputs, n_inputs)
        bias : ndarray of shape (n_outputs,) or None
        inputs : ndarray of shape (n_samples, n_inputs)
        rng : Generator, optional
            Given during training only: draws the dropout mask.
        """
        net = inputs @ weight.T
        if bias is not None:
            net += bias
        activated = self.activation.function(net)
        out, mask = activated, None
        if rng is not None and self.dropout > 0:
            keep = 1.0 - self.dropout
            mask = (rng.random(out.shape) < keep).astype(out.dtype) / out.dtype.type(keep)
            out = activated * mask
        return out, DenseCache(inputs, net, activated, out, mask)

    def backward(
        self,
        weight: Array,
        cache: DenseCache,
        grad_out: Array | None,
        grad_weight: Array,
        grad_bias: Array | None,
        *,
        delta: Array | None = None,
        need_input_grad: bool = True,
    ) -> tuple[Array | None, Array]:
        r"""Write :math:`\partial E/\partial W` and :math:`\partial E/\partial b` in place.

        Parameters
        ----------
        weight : ndarray of shape (n_outputs, n_inputs)
        cache : DenseCache
            From :meth:`forward`.
        grad_out : ndarray of shape (n_samples, n_outputs) or None
            :math:`\partial E/\partial a`; None when ``delta`` is given.
        grad_weight, grad_bias : ndarray
            Views into the flat gradient buffer, overwritten.
        delta : ndarray of shape (n_samples, n_outputs), optional
            :math:`\partial E/\partial z` when already known (fused output pairs).
        need_input_grad : bool
            False for the first layer, whose input gradient nobody needs.

        Returns
        -------
        grad_inputs : ndarray of shape (n_samples, n_inputs) or None
            :math:`\partial E/\partial x = \delta W`.
        delta : ndarray of shape (n_samples, n_outputs)
            :math:`\partial E/\partial z`.
        """
        if delta is None:
            if cache.dropout_mask is not None:
                grad_out = grad_out * cache.dropout_mask
            delta = self.activation.backward(cache.net, cache.activated, grad_out)
        np.matmul(delta.T, cache.inputs, out=grad_weight)
        if grad_bias is not None:
            np.sum(delta, axis=0, out=grad_bias)
        grad_inputs = delta @ weight if need_input_grad else None
        return grad_inputs, delta
