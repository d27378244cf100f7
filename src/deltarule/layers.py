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

A first layer may be given scipy CSR rows instead of an array (sparse data): it then
computes :math:`xW^\top` and :math:`\delta^\top x` by sparse matrix products
(:mod:`deltarule._sparse_products`), equal to the dense products within float rounding.

``forward`` returns the output and a :class:`DenseCache` *value*; ``backward``
takes that value back. Nothing is kept on the layer between the two, so a
backward pass can be tested alone and ``explain`` can show the real caches.

The training loop passes :class:`DenseBuffers`, arrays it reuses from batch to batch,
so that a step allocates no batch-sized array; the operations, and so the values to the
last bit, are those of the allocating path (a cache then points into the buffers and is
valid until the next pass that uses them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from . import _rowops, _sparse_products
from ._sparse import is_sparse
from ._typing import Array
from .activations import Activation

__all__ = ["Dense", "DenseBuffers", "DenseCache", "plain_dense"]


@dataclass(frozen=True)
class DenseCache:
    """What a dense layer's forward pass keeps for its backward pass.

    Attributes
    ----------
    inputs : ndarray or scipy.sparse CSR matrix of shape (n_samples, n_inputs)
        :math:`x`, the layer's input (CSR rows: a first layer on sparse data).
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
class DenseBuffers:
    r"""Arrays one dense layer's passes write into, for batches of up to ``size`` samples.

    Attributes
    ----------
    net, activated : ndarray of shape (size, n_outputs)
        :math:`z` and :math:`f(z)`.
    delta : ndarray of shape (size, n_outputs) or None
        :math:`\partial E/\partial z`; None in buffers for forward passes only.
    grad_inputs : ndarray of shape (size, n_inputs) or None
        :math:`\partial E/\partial x`; None for a first layer and in forward-only buffers.
    """

    net: Array
    activated: Array
    delta: Array | None
    grad_inputs: Array | None

    @classmethod
    def allocate(
        cls, layer: Dense, size: int, dtype: np.dtype, first: bool, backward: bool = True
    ) -> DenseBuffers:
        """Return buffers for ``layer`` and batches of up to ``size`` samples.

        With ``backward=False``, only the forward pass's: ``delta`` and ``grad_inputs`` are
        None and ``activated`` *is* ``net``, so the activation is applied in place (fewer
        passes over memory; a cache then holds :math:`f(z)` as its net input, which is all
        a forward-only pass needs).
        """
        shape = (size, layer.n_outputs)
        net = np.zeros(shape, dtype)
        if not backward:
            return cls(net, net, None, None)
        grad_inputs = None if first else np.zeros((size, layer.n_inputs), dtype)
        return cls(net, np.zeros(shape, dtype), np.zeros(shape, dtype), grad_inputs)


def _rows(buffer: Array | None, n: int) -> Array | None:
    return None if buffer is None else buffer[:n]


def _dense(inputs: object) -> bool:
    """True for an array (the usual input), False for scipy sparse rows."""
    return type(inputs) is np.ndarray or not is_sparse(inputs)


def plain_dense(layers: Iterable[object]) -> bool:
    """True when every layer is a :class:`Dense` itself, not a subclass (which may compute
    otherwise): the compiled paths and the cache-free inference compute Dense's arithmetic."""
    return all(type(layer) is Dense for layer in layers)


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
        buffers: DenseBuffers | None = None,
    ) -> tuple[Array, DenseCache]:
        """Return ``(out, cache)`` for a batch of inputs.

        Parameters
        ----------
        weight : ndarray of shape (n_outputs, n_inputs)
        bias : ndarray of shape (n_outputs,) or None
        inputs : ndarray or scipy.sparse CSR matrix of shape (n_samples, n_inputs)
            CSR rows are multiplied as sparse (:func:`deltarule._sparse_products.product`).
        rng : Generator, optional
            Given during training only: draws the dropout mask.
        buffers : DenseBuffers, optional
            Where to write :math:`z` and :math:`f(z)` instead of new arrays.
        """
        n = inputs.shape[0]
        out_net = _rows(buffers and buffers.net, n)
        if _dense(inputs):
            net = np.matmul(inputs, weight.T, out=out_net)
        else:
            net = _sparse_products.product(inputs, weight, out_net)
        if bias is not None and buffers is not None:
            _rowops.add_bias(net, bias)  # the same sums, without NumPy's broadcast buffer
        elif bias is not None:
            net += bias
        activated = self.activation(net, _rows(buffers and buffers.activated, n))
        out, mask = activated, None
        if rng is not None and self.dropout > 0:
            keep = 1.0 - self.dropout
            mask = (rng.random(out.shape) < keep).astype(out.dtype) / out.dtype.type(keep)
            out = activated * mask
        return out, DenseCache(inputs, net, activated, out, mask)

    def infer(self, weight: Array, bias: Array | None, inputs: Array) -> Array:
        r""":meth:`forward`'s output without its cache (no dropout: inference),
        :math:`f(x W^\top + b)` by the same operations, bit for bit.

        Parameters
        ----------
        weight : ndarray of shape (n_outputs, n_inputs)
        bias : ndarray of shape (n_outputs,) or None
        inputs : ndarray or scipy.sparse CSR matrix of shape (n_samples, n_inputs)

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
        """
        if _dense(inputs):
            net = np.matmul(inputs, weight.T)
        else:
            net = _sparse_products.product(inputs, weight)
        if bias is not None:
            net += bias
        return self.activation(net)

    def backward(
        self,
        weight: Array,
        cache: DenseCache,
        grad_out: Array | None,
        grad_weight: Array | None,
        grad_bias: Array | None,
        *,
        delta: Array | None = None,
        need_input_grad: bool = True,
        buffers: DenseBuffers | None = None,
    ) -> tuple[Array | None, Array]:
        r"""Write :math:`\partial E/\partial W` and :math:`\partial E/\partial b` in place.

        Parameters
        ----------
        weight : ndarray of shape (n_outputs, n_inputs)
        cache : DenseCache
            From :meth:`forward`.
        grad_out : ndarray of shape (n_samples, n_outputs) or None
            :math:`\partial E/\partial a`; None when ``delta`` is given.
        grad_weight, grad_bias : ndarray or None
            Views into the flat gradient buffer, overwritten; None: not computed (the
            input gradient alone, :mod:`deltarule.sensitivity`).
        delta : ndarray of shape (n_samples, n_outputs), optional
            :math:`\partial E/\partial z` when already known (fused output pairs).
        need_input_grad : bool
            False for the first layer, whose input gradient nobody needs.
        buffers : DenseBuffers, optional
            Where to write :math:`\delta` and :math:`\partial E/\partial x`.

        Returns
        -------
        grad_inputs : ndarray of shape (n_samples, n_inputs) or None
            :math:`\partial E/\partial x = \delta W`.
        delta : ndarray of shape (n_samples, n_outputs)
            :math:`\partial E/\partial z`.
        """
        n = cache.inputs.shape[0]
        if delta is None:
            if cache.dropout_mask is not None:
                grad_out = grad_out * cache.dropout_mask
            out = _rows(buffers and buffers.delta, n)
            delta = self.activation.backward(cache.net, cache.activated, grad_out, out)
        if grad_weight is None:
            pass
        elif n == 1 and _dense(cache.inputs):  # (an outer product: matmul's loop for an inner
            np.multiply(delta.T, cache.inputs, out=grad_weight)  # size of 1 is 5 times slower)
        elif _dense(cache.inputs):
            np.matmul(delta.T, cache.inputs, out=grad_weight)
        else:  # CSR rows: a first layer, whose input gradient nobody needs
            _sparse_products.weight_gradient(cache.inputs, delta, grad_weight)
        if grad_bias is not None:
            np.add.reduce(delta, axis=0, out=grad_bias)  # np.sum without its wrapper
        if not need_input_grad:
            return None, delta
        return np.matmul(delta, weight, out=_rows(buffers and buffers.grad_inputs, n)), delta
