r"""Compiled mini-batch steps: runs of whole training steps in one numba call.

A step of :meth:`deltarule.training.Trainer._step` at batch 128 on a 784-256-128-10
network spends about a fifth of its time outside the matrix products and the optimizer:
some thirty NumPy and Python calls (bias adds, activations, the softmax and loss rows, the
bias gradients), each of which finds the interpreter's and NumPy's own data evicted from
the caches by the step's megabytes of weights, gradients and moments, and so costs several
times its warm price. This module runs whole steps, batch after batch, inside one compiled
function: the batch gather, the forward pass, the loss, the backward pass, the optimizer's
update and the epoch's gradient sum.

It is the same computation as the plain step, equal within float rounding (the test suite
checks it). The matrix products are NumPy's own (:mod:`deltarule._blas`: the ``gemm`` call
``np.matmul`` makes, bit for bit, except where NumPy switches to matrix-vector routines
because a dimension is 1); ``exp``, ``log``, ``tanh`` and the logistic function are the C
library's instead of NumPy's, and the squared errors' row sums run in order instead of
``einsum``'s; the rest (ReLU, the bias gradients, the cross-entropies' and the batch mean's
pairwise sums, the optimizer's arithmetic) is NumPy's operations in NumPy's order. A ReLU
network with a squared-error or logistic output trains bit for bit as the plain step does.

The training loop uses it for every batch of an epoch when :func:`kernel_for` says the run
needs nothing the kernel does not do: a :class:`~deltarule.network.Network` of dense layers
whose objective :meth:`~deltarule.network.Network.objective_terms` describes (the plain one,
and the scikit-learn adapter's scaled loss plus L2 term), without dropout; hidden
activations identity, ReLU, leaky ReLU, logistic or tanh; an output pair softmax +
categorical cross-entropy, logistic + binary cross-entropy, or identity + half squared or
mean squared error; SGD, momentum, Nesterov, Adam, AdamW, RMSprop or Adagrad; the trainer's
L2 term; no sample weights, frozen parameters, or the trainer's L1 or max-norm; and a
network of :data:`MIN_PARAMETERS` or a run of :data:`MIN_STEPS`. Anything else takes the
plain step.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from . import _blas, _compiled, optimizers
from .activations import get_activation
from .layers import Dense

__all__ = [
    "MIN_PARAMETERS", "MIN_STEPS", "HIDDEN_CODES", "PAIR_CODES", "MinibatchKernel", "kernel_for",
    "planned_steps", "plain_arrays",
]  # fmt: skip

HIDDEN_CODES = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4}
PAIR_CODES = {
    ("softmax", "categorical_crossentropy"): 0,
    ("sigmoid", "binary_crossentropy"): 1,
    ("identity", "half_squared_error"): 2,
    ("identity", "mse"): 3,
}
MIN_PARAMETERS = _compiled.FUSED_MIN_SIZE
"""Networks of this many parameters or more take the kernel whatever the run's length."""
MIN_STEPS = 4_096
"""Smaller networks take it when the run plans at least this many steps: the epochs asked
for (counting those a resumed trainer has done) times the batches per epoch. On such a
network the kernel saves ~70 µs a step (the benchmark's long run of (c), breast_cancer
30-64-32-1 at batch 32: 3.2 times faster), while numba's import and loading the cached
kernel cost ~0.35 s once per process, which a short run would not repay.

The choice depends on the network, the data's size, the batch size and the planned epochs,
never on whether numba happens to be loaded already, so the same run gives the same
numbers in every process, resumed or not."""

_RULES = {
    optimizers.SGD: 0, optimizers.Adam: 1, optimizers.Momentum: 2, optimizers.Nesterov: 3,
    optimizers.AdamW: 4, optimizers.RMSprop: 5, optimizers.Adagrad: 6,
}  # fmt: skip
"""The update rules the kernel runs (these exact classes: a subclass may change the rule)."""


@lru_cache(maxsize=1)
def _kernel():  # noqa: ANN202 - compiled lazily, on first use
    from . import _jit

    return _jit.minibatch_steps


def plain_arrays(data: Any) -> bool:
    """True when the data are C-contiguous arrays of one floating dtype (the kernel's
    compiled signature; anything else takes the plain step rather than a new compile)."""
    X, y = data.X, data.y
    return (
        X.dtype == y.dtype
        and X.dtype in (np.float32, np.float64)
        and X.flags.c_contiguous
        and y.flags.c_contiguous
    )


def planned_steps(trainer: Any, n_rows: int, bs: int) -> int:
    """The steps of ``trainer``'s whole run: its planned epochs times the batches of ``bs``
    rows in ``n_rows``."""
    return trainer.planned_epochs * -(-n_rows // bs)


def kernel_for(trainer: Any, n_rows: int, bs: int, shuffled: bool) -> MinibatchKernel | None:
    """A kernel for ``trainer``'s batches of ``bs`` of the ``n_rows`` rows (gathered when
    ``shuffled``), or None for the plain step."""
    net, opt = trainer.network, trainer.optimizer
    layers = net.layers
    pair = (layers[-1].activation.name, net.loss.name)
    if not (
        bs > 1
        and net.objective_terms() is not None
        and pair in PAIR_CODES
        and all(layer.activation.name in HIDDEN_CODES for layer in layers[:-1])
        and not any(layer.dropout for layer in layers)
        and type(opt) in _RULES
        and not (trainer.l1 or trainer.max_norm is not None)
        and all(type(layer) is Dense for layer in layers)
        and (net.n_parameters >= MIN_PARAMETERS or planned_steps(trainer, n_rows, bs) >= MIN_STEPS)
        and _compiled.available()
    ):
        return None
    if any(get_activation(layer.activation.name) is not layer.activation for layer in layers):
        return None  # an unregistered activation under a registered name
    cached = trainer._minibatch
    if cached is not None and (cached.network, cached.batch_size, cached.gather) == (
        net,
        bs,
        shuffled,
    ):
        return cached
    trainer._minibatch = MinibatchKernel(net, bs, shuffled)
    return trainer._minibatch


class MinibatchKernel:
    """Work space and layout of one network for the compiled steps at batch size ``bs``
    (with a buffer to gather shuffled batches into when ``gather``)."""

    def __init__(self, network: Any, bs: int, gather: bool) -> None:
        self.network, self.batch_size, self.gather = network, bs, gather
        layout, layers, dtype = network.layout, network.layers, network.dtype
        self.sizes = np.array(network.layer_sizes, dtype=np.int64)
        self.w_off = np.array([layout[f"W{i}"].offset for i in range(1, len(layers) + 1)])
        self.b_off = np.array(
            [layout[f"b{i}"].offset if layer.use_bias else -1 for i, layer in
             enumerate(layers, start=1)], dtype=np.int64,
        )  # fmt: skip
        self.codes = np.array([HIDDEN_CODES.get(layer.activation.name, 0) for layer in layers])
        self.pair = PAIR_CODES[(layers[-1].activation.name, network.loss.name)]
        widths = self.sizes[1:] * bs
        self.act_off = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
        total = int(widths.sum())
        self.z, self.a, self.d = (np.empty(total, dtype) for _ in range(3))
        rows = bs if gather else 0  # in order, batches are slices of the data
        self.x = np.empty(rows * int(self.sizes[0]), dtype)
        self.y = np.empty(rows * int(self.sizes[-1]), dtype)
        self.per_sample = np.empty(bs, dtype)
        self.gemm = _blas.gemm_address(dtype)
        self.scale, self.alpha = (float(term) for term in network.objective_terms())

    def run(
        self, trainer: Any, X: np.ndarray, Y: np.ndarray, order: np.ndarray | None, first: int,
        n_steps: int, lr: float, outputs: np.ndarray | None, total: np.ndarray,
    ) -> tuple[np.ndarray, int]:  # fmt: skip
        """Run ``n_steps`` batches from position ``first`` of ``order`` (None: in order).

        Returns the losses of the steps run (a non-finite one, with no update, ends the
        run) and how many updates were made; the optimizer's step count advances by those.
        """
        net, opt, state = self.network, trainer.optimizer, trainer.optimizer_state
        t = net.dtype.type
        params, grad = net.parameters, trainer._grad
        losses = np.empty(n_steps)
        if order is None:
            order = np.empty(0, np.int64)
        code = _RULES[type(opt)]
        none = np.empty(0, net.dtype)
        eps_c = k = flush = m = v = none
        b1 = b2 = 0.0
        decay = 1.0
        if isinstance(opt, (optimizers.Adam, optimizers.AdamW)):
            steps = state["step"] + 1 + np.arange(n_steps)
            constants = [optimizers._adam_constants(opt, int(s), float(lr)) for s in steps]
            eps_c = np.array([c[0] for c in constants], net.dtype)
            k = np.array([c[1] for c in constants], net.dtype)
            bound = optimizers._flush_bound(net.dtype)
            flush = np.array([bound if c[2] else 0.0 for c in constants], net.dtype)
            m, v = state["first_moment"], state["second_moment"]
            b1, b2 = opt.beta_1, opt.beta_2
            if isinstance(opt, optimizers.AdamW):
                decay = 1.0 - float(lr) * opt.weight_decay
        elif isinstance(opt, (optimizers.RMSprop, optimizers.Adagrad)):
            eps_c = np.full(n_steps, opt.epsilon, net.dtype)
            if isinstance(opt, optimizers.RMSprop):
                v, b2 = state["mean_square"], opt.rho
            else:
                v = state["sum_of_squares"]
        else:  # SGD, momentum, Nesterov
            m = state.get("velocity", none)
            b1 = getattr(opt, "momentum", 0.0)
        ran, updates = _kernel()(
            X, Y, order, first, n_steps, self.batch_size,
            self.sizes, self.w_off, self.b_off, self.codes, self.pair, self.gemm,
            self.scale, self.alpha, float(trainer.l2),
            params, grad, total,
            code, t(lr), t(b1), t(1.0 - b1), t(b2), t(1.0 - b2), eps_c, k, flush, m, v, t(decay),
            self.z, self.a, self.d, self.x, self.y, self.per_sample, self.act_off,
            np.empty((0, Y.shape[1]), net.dtype) if outputs is None else outputs, losses,
        )  # fmt: skip
        state["step"] += updates
        return losses[:ran], updates
