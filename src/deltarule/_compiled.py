r"""A compiled path for online training (batch size 1) of small networks, with numba.

The tutorial trains one example at a time: per update, a 2-2-2 network does a few dozen
multiply-adds. Through NumPy that costs microseconds of call overhead per update; this
module runs whole epochs of the plain delta rule

.. math:: \theta \leftarrow \theta - \eta\, \partial E/\partial\theta

for one example after another in one compiled loop over the flat parameter buffer, and
reports each epoch's mean error and mean-gradient norm. It is the same computation as
:meth:`deltarule.network.Network.backward` followed by :class:`~deltarule.optimizers.SGD`
(equal within float rounding; the test suite checks it), used by the training loop only when
numba is installed and the run needs nothing the kernel does not do (see
:func:`supported`).

numba is optional (``pip install 'deltarule[fast]'``); without it training takes the NumPy path.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "available", "supported", "OnlineKernel", "fused_adam", "add_bias", "relu_backward",
    "column_op",
]  # fmt: skip

ACTIVATION_CODES = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4}
OUTPUT_CODES = {  # (output activation, loss) -> loss code of the kernel
    ("identity", "half_squared_error"): 0, ("sigmoid", "half_squared_error"): 0,
    ("tanh", "half_squared_error"): 0, ("relu", "half_squared_error"): 0,
    ("identity", "mse"): 1, ("sigmoid", "mse"): 1, ("tanh", "mse"): 1,
    ("sigmoid", "binary_crossentropy"): 2, ("softmax", "categorical_crossentropy"): 3,
}  # fmt: skip
MAX_PARAMETERS = 20_000
"""Above this size the BLAS path is the faster one even at batch size 1."""


@lru_cache(maxsize=1)
def available() -> bool:
    """True when numba can be imported."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def supported(network: Any) -> bool:
    """True when the kernel computes exactly what the NumPy path would for ``network``."""
    layers = network.layers
    hidden_ok = all(layer.activation.name in ACTIVATION_CODES for layer in layers[:-1])
    pair = (layers[-1].activation.name, network.loss.name)
    return (
        network.n_parameters <= MAX_PARAMETERS
        and hidden_ok
        and pair in OUTPUT_CODES
        and not any(layer.dropout for layer in layers)
    )


@lru_cache(maxsize=1)
def _kernel():  # noqa: ANN202 - compiled lazily, on first use
    from numba import njit

    @njit(cache=True, nogil=True)
    def act(code, z):  # noqa: ANN001, ANN202
        if code == 1:
            if z >= 0:
                return 1.0 / (1.0 + np.exp(-z))
            e = np.exp(z)
            return e / (1.0 + e)
        if code == 2:
            return np.tanh(z)
        if code == 3:
            return z if z > 0 else 0.0
        if code == 4:
            return z if z > 0 else 0.01 * z
        return z

    @njit(cache=True, nogil=True)
    def slope(code, z, a):  # noqa: ANN001, ANN202
        if code == 1:
            return a * (1.0 - a)
        if code == 2:
            return 1.0 - a * a
        if code == 3:
            return 1.0 if z > 0 else 0.0
        if code == 4:
            return 1.0 if z > 0 else 0.01
        return 1.0

    @njit(cache=True, nogil=True)
    def forward(params, spec, x, zbuf, abuf):  # noqa: ANN001, ANN202
        w_off, b_off, n_in, n_out, codes, z_off = spec
        for lay in range(w_off.shape[0]):
            zo = z_off[lay]
            for j in range(n_out[lay]):
                acc = params[b_off[lay] + j] if b_off[lay] >= 0 else 0.0
                base = w_off[lay] + j * n_in[lay]
                for i in range(n_in[lay]):
                    xi = x[i] if lay == 0 else abuf[z_off[lay - 1] + i]
                    acc += params[base + i] * xi
                zbuf[zo + j] = acc
                if codes[lay] != 5:
                    abuf[zo + j] = act(codes[lay], acc)
            if codes[lay] == 5:  # softmax over the output row
                m = zbuf[zo]
                for j in range(n_out[lay]):
                    m = max(m, zbuf[zo + j])
                s = 0.0
                for j in range(n_out[lay]):
                    abuf[zo + j] = np.exp(zbuf[zo + j] - m)
                    s += abuf[zo + j]
                for j in range(n_out[lay]):
                    abuf[zo + j] /= s

    @njit(cache=True, nogil=True)
    def output_delta(loss, code, y, zo, k, zbuf, abuf, dbuf):  # noqa: ANN001, ANN202
        e = 0.0
        if loss == 3:  # softmax + cross-entropy from the logits (log-sum-exp)
            m = zbuf[zo]
            for j in range(k):
                m = max(m, zbuf[zo + j])
            s = 0.0
            t_sum = 0.0
            for j in range(k):
                s += np.exp(zbuf[zo + j] - m)
                t_sum += y[j]
            lse = m + np.log(s)
            for j in range(k):
                e -= y[j] * (zbuf[zo + j] - lse)
                dbuf[zo + j] = abuf[zo + j] * t_sum - y[j]
            return e
        for j in range(k):
            z, a, t = zbuf[zo + j], abuf[zo + j], y[j]
            if loss == 2:  # sigmoid + binary cross-entropy from the logits
                e += (max(z, 0.0) - z * t + np.log1p(np.exp(-abs(z)))) / k
                dbuf[zo + j] = (a - t) / k
            elif loss == 1:
                e += (a - t) * (a - t) / k
                dbuf[zo + j] = 2.0 * (a - t) / k * slope(code, z, a)
            else:
                e += 0.5 * (a - t) * (a - t)
                dbuf[zo + j] = (a - t) * slope(code, z, a)
        return e

    @njit(cache=True, nogil=True)
    def squared_weights(params, spec):  # noqa: ANN001, ANN202
        w_off, b_off, n_in, n_out, codes, z_off = spec
        total = 0.0
        for lay in range(w_off.shape[0]):
            for i in range(w_off[lay], w_off[lay] + n_in[lay] * n_out[lay]):
                total += params[i] * params[i]
        return total

    @njit(cache=True, nogil=True)
    def update(params, spec, trainable, x, lr, abuf, dbuf, gsum, decay):  # noqa: ANN001, ANN202
        w_off, b_off, n_in, n_out, codes, z_off = spec
        n_layers = w_off.shape[0]
        for lay in range(n_layers - 1, 0, -1):  # hidden deltas, before any weight moves
            zo, zp = z_off[lay], z_off[lay - 1]
            for i in range(n_in[lay]):
                acc = 0.0
                for j in range(n_out[lay]):
                    acc += dbuf[zo + j] * params[w_off[lay] + j * n_in[lay] + i]
                a = abuf[zp + i]  # for every kernel activation, f'(z) is a function of a
                dbuf[zp + i] = acc * slope(codes[lay - 1], a, a)
        for lay in range(n_layers):
            zo = z_off[lay]
            for j in range(n_out[lay]):
                d = dbuf[zo + j]
                base = w_off[lay] + j * n_in[lay]
                for i in range(n_in[lay]):
                    xi = x[i] if lay == 0 else abuf[z_off[lay - 1] + i]
                    g = d * xi + decay * params[base + i]  # the L2 term: the weight before the step
                    if trainable[base + i]:
                        gsum[base + i] += g
                        params[base + i] -= lr * g
                if b_off[lay] >= 0 and trainable[b_off[lay] + j]:
                    gsum[b_off[lay] + j] += d
                    params[b_off[lay] + j] -= lr * d

    @njit(cache=True, nogil=True)
    def epochs(
        params, spec, loss, trainable, X, Y, orders, lr, target, losses, norms, scale, decay
    ):  # noqa: ANN001, ANN202, E501
        z_off = spec[5]
        n_layers = spec[0].shape[0]
        total = z_off[n_layers]
        zbuf = np.empty(total, params.dtype)
        abuf = np.empty(total, params.dtype)
        dbuf = np.empty(total, params.dtype)
        gsum = np.zeros(params.shape[0], np.float64)
        n, k = X.shape[0], Y.shape[1]
        zo = z_off[n_layers - 1]
        out_code = spec[4][n_layers - 1]
        for epoch in range(losses.shape[0]):
            esum = 0.0
            gsum[:] = 0.0
            for step in range(n):
                s = orders[epoch, step] if orders.shape[0] > 0 else step
                forward(params, spec, X[s], zbuf, abuf)
                e = output_delta(loss, out_code, Y[s], zo, k, zbuf, abuf, dbuf)
                if scale != 1.0:  # a scaled objective (scikit-learn's): scale E and delta
                    e *= scale
                    for j in range(k):
                        dbuf[zo + j] *= scale
                if decay != 0.0:  # E + decay/2 |W|^2, before the weights move
                    e += 0.5 * decay * squared_weights(params, spec)
                esum += e
                update(params, spec, trainable, X[s], lr, abuf, dbuf, gsum, decay)
            losses[epoch] = esum / n
            norms[epoch] = np.sqrt(np.sum((gsum / n) ** 2))
            if not np.isfinite(losses[epoch]) or losses[epoch] <= target:
                return epoch + 1
        return losses.shape[0]

    return epochs


class OnlineKernel:
    """Runs epochs of online gradient descent for one network in compiled code.

    Parameters
    ----------
    network : Network
        Must satisfy :func:`supported`. Its parameters are updated in place.
    """

    def __init__(self, network: Any) -> None:
        layers = network.layers
        layout = network.layout
        codes = [ACTIVATION_CODES.get(layer.activation.name, 5) for layer in layers]
        sizes = np.cumsum([0] + [layer.n_outputs for layer in layers])
        self.spec = (
            np.array([layout[f"W{i}"].offset for i in range(1, len(layers) + 1)], np.int64),
            np.array(
                [layout[f"b{i}"].offset if layer.use_bias else -1
                 for i, layer in enumerate(layers, start=1)], np.int64),
            np.array([layer.n_inputs for layer in layers], np.int64),
            np.array([layer.n_outputs for layer in layers], np.int64),
            np.array(codes, np.int64),
            sizes.astype(np.int64),
        )  # fmt: skip
        self.loss = OUTPUT_CODES[(layers[-1].activation.name, network.loss.name)]
        self.network = network

    def run(
        self,
        X: np.ndarray,
        y: np.ndarray,
        orders: np.ndarray | None,
        learning_rate: float,
        target: float,
        n_epochs: int,
        scale: float = 1.0,
        decay: float = 0.0,
    ) -> tuple[int, np.ndarray, np.ndarray]:
        r"""Run up to ``n_epochs`` epochs; stop after the first whose mean error is <= target.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_inputs)
        y : ndarray of shape (n_samples, n_outputs)
        orders : ndarray of shape (n_epochs, n_samples) or None
            The visiting order of each epoch (None: in order).
        scale, decay : float
            Each example's error is :math:`c\,E + \tfrac{\lambda}{2}\lVert W\rVert^2`
            (weights, not biases) with :math:`c` = ``scale`` and :math:`\lambda` = ``decay``.

        Returns
        -------
        epochs_run : int
        losses, gradient_norms : ndarray of shape (epochs_run,)
        """
        net = self.network
        losses = np.empty(n_epochs, np.float64)
        norms = np.empty(n_epochs, np.float64)
        orders = np.empty((0, 0), np.int64) if orders is None else orders.astype(np.int64)
        trainable = net.trainable.astype(np.uint8)
        rate = net.dtype.type(learning_rate)
        done = _kernel()(
            net.parameters,
            self.spec,
            self.loss,
            trainable,
            X,
            y,
            orders,
            rate,
            float(target),
            losses,
            norms,
            float(scale),
            float(decay),
        )
        return int(done), losses[:done], norms[:done]


@lru_cache(maxsize=1)
def _adam_kernel():  # noqa: ANN202 - compiled lazily, on first use
    from numba import njit

    # error_model="numpy": a division by zero gives inf/nan as NumPy's does instead of
    # raising, which also lets LLVM vectorise the loop (about 3x faster).
    @njit(cache=True, nogil=True, error_model="numpy")
    def adam(params, grad, m, v, b1, c1, b2, c2, eps_c, k, tiny, total, accumulate):  # noqa: ANN001, ANN202
        # The NumPy passes' operations in the same order, one element at a time; every
        # scalar arrives in the arrays' dtype, so float32 stays float32. Moments below
        # ``tiny`` are stored as (signed) zero after the step, as _flush_subnormal does.
        zero = b1 - b1
        for i in range(params.shape[0]):
            g = grad[i]
            if accumulate:
                total[i] += g
            mi = m[i] * b1 + g * c1
            vi = v[i] * b2 + (g * g) * c2
            params[i] -= mi / (np.sqrt(vi) + eps_c) * k
            m[i] = mi * zero if abs(mi) < tiny else mi
            v[i] = vi * zero if abs(vi) < tiny else vi

    return adam


FUSED_MIN_SIZE = 65_536
"""From this many parameters the fused Adam step runs even when numba is not loaded yet."""


def fused_adam(
    params: np.ndarray, grad: np.ndarray, m: np.ndarray, v: np.ndarray,
    beta_1: float, beta_2: float, eps_c: float, k: float, flush_below: float = 0.0,
    total: np.ndarray | None = None,
) -> None:  # fmt: skip
    r"""One Adam step in one pass over memory instead of NumPy's nine.

    In place: :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`,
    :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
    :math:`\theta \leftarrow \theta - k\, m / (\sqrt v + \epsilon c)`, with the folded
    constants ``eps_c`` and ``k`` of :func:`deltarule.optimizers._adam_step`; moments
    below ``flush_below`` in magnitude become zero; ``total += g`` when ``total`` is given.
    """
    t = params.dtype.type
    accumulate = total is not None
    _adam_kernel()(params, grad, m, v, t(beta_1), t(1.0 - beta_1), t(beta_2), t(1.0 - beta_2),
                   t(eps_c), t(k), t(flush_below), total if accumulate else grad,
                   accumulate)  # fmt: skip


@lru_cache(maxsize=1)
def _row_kernels():  # noqa: ANN202 - compiled lazily, on first use
    from numba import njit

    @njit(cache=True, nogil=True, error_model="numpy")
    def add_bias(z, b):  # noqa: ANN001, ANN202
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                z[i, j] += b[j]

    @njit(cache=True, nogil=True, error_model="numpy")
    def relu_backward(z, g, out):  # noqa: ANN001, ANN202
        one, zero = g.dtype.type(1), g.dtype.type(0)  # the derivative in g's dtype
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                out[i, j] = g[i, j] * (one if z[i, j] > 0 else zero)

    @njit(cache=True, nogil=True, error_model="numpy")
    def column_op(a, col, out, op):  # noqa: ANN001, ANN202
        for i in range(a.shape[0]):
            c = col[i, 0]
            for j in range(a.shape[1]):
                if op == 0:
                    out[i, j] = a[i, j] - c
                elif op == 1:
                    out[i, j] = a[i, j] / c
                else:
                    out[i, j] = a[i, j] * c

    return add_bias, relu_backward, column_op


ROW_KERNEL_MIN_SIZE = 16_384
"""Below this many elements the row kernels run only once numba is loaded anyway (a large
network's training loads it): a small network's training never pays numba's import."""


def _rows_ok(a: np.ndarray) -> bool:
    return a.ndim == 2 and a.flags.c_contiguous


def worth_it(size: int, min_size: int) -> bool:
    """True when a kernel should run on ``size`` elements: numba is installed, and the work
    is large enough to repay numba's import (``min_size``) or numba is already loaded."""
    return (size >= min_size or "numba" in sys.modules) and available()


def _use_row_kernels(size: int) -> bool:
    return worth_it(size, ROW_KERNEL_MIN_SIZE)


def add_bias(z: np.ndarray, b: np.ndarray) -> None:
    """``z += b`` for every row of ``z`` (n, k), in place.

    The same additions as NumPy's broadcast, without the iteration buffer (32 KiB) that
    NumPy allocates for a broadcast operand on every call.
    """
    if b.dtype == z.dtype and _rows_ok(z) and _use_row_kernels(z.size):
        _row_kernels()[0](z, b)
    else:
        z += b


def relu_backward(z: np.ndarray, g: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = g * (z > 0)``, the derivative cast to ``g``'s dtype as the plain path does."""
    same = z.dtype == g.dtype == out.dtype
    if same and _rows_ok(z) and _rows_ok(g) and _rows_ok(out) and _use_row_kernels(z.size):
        _row_kernels()[1](z, g, out)
        return out
    np.greater(z, 0, out=out)
    return np.multiply(g, out, out=out)


_COLUMN_OPS = {"subtract": (0, np.subtract), "divide": (1, np.divide), "multiply": (2, np.multiply)}


def column_op(name: str, a: np.ndarray, col: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = a (op) col`` for ``col`` of shape (n, 1) broadcast along each row of ``a``.

    ``name`` is "subtract", "divide" or "multiply"; the NumPy ufunc's values, without its
    broadcast buffer. ``out`` may be ``a``.
    """
    code, ufunc = _COLUMN_OPS[name]
    same = a.dtype == col.dtype == out.dtype
    if same and _rows_ok(a) and _rows_ok(col) and _rows_ok(out) and _use_row_kernels(a.size):
        _row_kernels()[2](a, col, out, code)
        return out
    return ufunc(a, col, out=out)
