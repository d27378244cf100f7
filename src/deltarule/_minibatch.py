r"""Compiled mini-batch steps: runs of whole training steps in one numba call.

A step of :func:`deltarule._steps.step` at batch 128 on a 784-256-128-10
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
mean squared error; SGD, momentum, Nesterov, Adam, AdamW, RMSprop, Adagrad or scikit-learn's
momentum or Nesterov (the estimators' ``solver="sgd"``: :func:`rule_of`); the trainer's L2
term; no sample weights, frozen parameters, or the trainer's L1 or max-norm; and a
network of :data:`MIN_PARAMETERS` or a run of :data:`MIN_STEPS`. Anything else takes the
plain step.

**Threads.** A network of :data:`THREAD_MIN_PARAMETERS` or more runs its steps in several
threads at once
(:func:`threads_for`: as many as NumPy's OpenBLAS may use, the cores this process may run
on, and :data:`MAX_THREADS` allow), each owning a share of every layer's neurons: their
forward and backward columns, weight gradients and update (see
:func:`deltarule._jit.minibatch_steps`). Each thread calls the single-threaded matrix
products on its share and updates its weights while they are in its core's cache, where
NumPy's pool of threads splits every product between the cores and leaves the rest of the
step to one of them. On two cores, a 784-256-128-10 network's Adam epoch over Fashion-MNIST
(public ``fit``, medians of 3, alternated; threads / one thread): batch 32 0.66 s / 0.98 s,
64 0.48 / 0.59, 128 0.42 / 0.47; at 256 they were even (0.365 / 0.375) and at 512 the
threads were slower (0.343 / 0.333): large products keep both cores of NumPy's pool busy
already — on that 2-core Xeon, without MKL; on a 2-core AMD EPYC (Zen 5) the threads were
faster at every batch size (epochs over 60,000 rows, medians of 5, alternated 3 times;
threads / one thread with NumPy's pool: 256 0.191-0.196 s / 0.204-0.213, 512 0.184-0.186 /
0.198-0.203; with OpenBLAS held to its AVX2 kernel 0.312 / 0.324 and 0.309-0.315 /
0.313-0.320). With MKL on the Xeon they were faster at every batch size too, so the threads
now run at every batch size.
(A BLAS pool woken just before, whose threads spin for ~0.1 s after a call, costs
the threads ~40 ms: :func:`deltarule._validation._all_finite` keeps it asleep.) While they
run, NumPy's OpenBLAS is held at one thread (:func:`deltarule._blas.single_threaded`);
limiting it (``OPENBLAS_NUM_THREADS=1``, threadpoolctl) runs the steps in one thread.
A threaded run agrees with a one-threaded one within float rounding, not bit for bit: the
threads' single-threaded products of their columns are not blocked as the pool's products of
the whole are, and the sums of squared weights of the L2 terms are added in other groupings
(in vector lanes: :func:`deltarule._jit.squares`, whose grouping also follows the processor's
vector width, so an L2 term's loss value may differ in its last bits between machines).
Those rounding differences grow over a run as any two rounding paths' do (measured after 80
Adam steps of a 52,000-weight softmax network: the final loss alike to 7 digits, the largest
weight difference 4e-4).

**MKL.** With the optional ``mkl`` wheel installed (``deltarule[mkl]``) the threads' products
are MKL's single-threaded ``gemm`` instead (:mod:`deltarule._mkl`), which is much faster on
these shapes than OpenBLAS's, and the threads then win at every batch size: the same epoch
took (threads with MKL / before, the same run) 0.51 / 0.69 s at batch 32, 0.34 / 0.43 at
128, 0.27 / 0.34 at 512. A run in one thread keeps NumPy's products (and the plain step's
bits); one with MKL agrees with it within float rounding. Each thread's products of a full
batch go through kernels MKL compiles for their shapes when the kernel is made
(:func:`compiled_products`, :func:`deltarule._mkl.jit_product`); a smaller last batch
calls MKL's ``gemm``. Where MKL runs only its generic code (AMD's processors: see
:mod:`deltarule._mkl`) it is left unused and the threads call NumPy's products.

**oneDNN.** Where MKL is not used and the optional ``onednn-cpu-gomp`` wheel is installed
(``deltarule[onednn]``), a float32 network's threads call oneDNN's products for their large
products (:mod:`deltarule._onednn`, which says which), NumPy's for the rest: on the 2-core
Zen 5 EPYC the batch-128 epoch took 0.176 s instead of 0.209 (medians of 3, two runs), and
0.183 s instead of 0.312 with NumPy's OpenBLAS held to its AVX2 kernels
(``OPENBLAS_CORETYPE=Haswell``), which oneDNN's are not. float64 networks keep NumPy's.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
import weakref
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np

from . import _blas, _compiled, _memory, _mkl, _numba_env, _onednn, _threads, optimizers
from .exceptions import InputError

SYNC_STRIDE = 16
"""int64 slots from one thread's counter to the next in the kernel's ``sync`` array (128
bytes: each counter on a cache line of its own). ``sync[0]`` is the stop flag, ``sync[1]``
the address of the C library's ``sched_yield`` (or 0), thread ``i``'s counter
``sync[(i + 1) * SYNC_STRIDE]`` (see :func:`deltarule._jit.barrier`, which finds the stride from
the array's length)."""

__all__ = [
    "MIN_PARAMETERS", "MIN_STEPS", "HIDDEN_CODES", "PAIR_CODES", "MinibatchKernel", "kernel_for",
    "rule_of",
    "planned_steps", "plain_arrays", "THREADS", "THREAD_MIN_PARAMETERS",
    "MAX_THREADS", "SYNC_STRIDE",
    "threads_for", "threads_for_size", "shares", "keep_blas_asleep", "layout_arrays",
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

THREADS: int | None = None
"""The number of threads for every kernel (None: :func:`threads_for` decides)."""
THREAD_MIN_PARAMETERS = 65_536
"""Networks of this many parameters or more run their steps in several threads; on smaller
ones the threads' meeting points cost more than sharing the work saves."""
MAX_THREADS = 8
SPLIT_MIN_WIDTH = 32
"""Layers narrower than this stay whole with the first thread (a 10-neuron output layer:
its products are too small to share)."""
SPLIT_ALIGN = 16
"""Shares of a layer start at multiples of this many neurons (64 bytes of float32): rows
of two threads' columns never share a cache line."""

_RULES = {
    optimizers.SGD: 0, optimizers.Adam: 1, optimizers.Momentum: 2, optimizers.Nesterov: 3,
    optimizers.AdamW: 4, optimizers.RMSprop: 5, optimizers.Adagrad: 6,
}  # fmt: skip
"""The update rules the kernel runs (these exact classes: a subclass may change the rule)."""
_STATE_ARRAYS = {
    0: (), 1: ("first_moment", "second_moment"), 2: ("velocity",), 3: ("velocity",),
    4: ("first_moment", "second_moment"), 5: ("mean_square",), 6: ("sum_of_squares",),
}  # fmt: skip
"""The state arrays each rule of :data:`_RULES` updates in place."""
_NAMED_RULES = {"sgd": 0, "momentum": 2, "nesterov": 3, "sklearn_momentum": 7,
                "sklearn_nesterov": 8}  # fmt: skip
"""The rules of :meth:`deltarule.optimizers.Optimizer.online_rule`'s names that the kernel
runs too: an optimizer of another class that vouches for one of them (scikit-learn's
``SklearnSGD``, the estimators' ``solver="sgd"``, which the core cannot name; a subclass
that keeps its base's step methods), with a velocity the kernel can update in place."""


def rule_of(trainer: Any) -> tuple[int, float] | None:
    """The kernel's code of ``trainer``'s optimizer's update rule and its momentum (0 for a
    rule without one), or None when the kernel runs none of its rules (read at each call:
    :func:`deltarule._compiled.vouched_rule`)."""
    optimizer = trainer.optimizer
    code = _RULES.get(type(optimizer))
    if code is not None:
        if not all(_compiled.state_array(trainer, key) is not None
                   for key in _STATE_ARRAYS[code]):  # fmt: skip
            return None  # (a callback put another array there: the kernel indexes it unchecked)
        return code, float(getattr(optimizer, "momentum", 0.0))
    vouched = _compiled.vouched_rule(trainer, _NAMED_RULES)
    return None if vouched is None else (_NAMED_RULES[vouched[0][0]], vouched[0][1])


@lru_cache(maxsize=1)
def _kernel():  # noqa: ANN202 - compiled lazily, on first use
    from . import _jit

    return _jit.minibatch_steps


def plain_arrays(data: Any) -> bool:
    """True when the data are C-contiguous arrays of one floating dtype (the kernel's
    compiled signature; anything else takes the plain step rather than a new compile).
    Sparse ``X`` is not: the plain step makes its batches dense. Read-only arrays (a
    memory map opened ``mode='r'``) are: numba compiles the kernels once more for them
    (seconds, once per machine: its cache keeps them), and their epochs run 2-3 times
    faster than the plain step's, which copying the data would not repay."""
    X, y = data.X, data.y
    return (
        isinstance(X, np.ndarray)
        and isinstance(y, np.ndarray)
        and X.dtype == y.dtype
        and X.dtype in (np.float32, np.float64)
        and X.flags.c_contiguous
        and y.flags.c_contiguous
    )


@lru_cache(maxsize=1)
def _sched_yield() -> int:
    """The address of the C library's ``sched_yield`` (0 where there is none)."""
    try:
        function = ctypes.CDLL(None).sched_yield
    except (OSError, AttributeError, TypeError):  # pragma: no cover - not POSIX (Windows'
        # CDLL(None) raises TypeError on Python 3.10-3.11)
        return 0
    return ctypes.cast(function, ctypes.c_void_p).value or 0


def threads_for(network: Any) -> int:
    """How many threads run the steps of ``network`` (see the module's docstring)."""
    return threads_for_size(network.n_parameters, network.dtype)


def threads_for_size(n_parameters: int, dtype: Any) -> int:
    """How many threads run the steps of a network of ``n_parameters`` of ``dtype``."""
    if THREADS is not None:
        wanted = THREADS
    elif n_parameters < THREAD_MIN_PARAMETERS:
        return 1
    else:
        wanted = min(_blas.usable_threads(), MAX_THREADS)
    if wanted > 1 and _blas.gemm_address(dtype) and _blas.controls_threads():
        return wanted
    return 1


def shares(width: int, threads: int) -> list[int]:
    """The bounds of ``threads`` shares of a layer's ``width`` neurons: thread ``i`` owns
    ``bounds[i]`` to ``bounds[i + 1]`` (empty shares when there are too few)."""
    if threads == 1 or width < SPLIT_MIN_WIDTH:
        return [0] + [width] * threads
    bounds = [width * i // threads for i in range(threads + 1)]
    aligned = [b - b % SPLIT_ALIGN for b in bounds[:-1]] + [width]
    return aligned if all(a < b for a, b in zip(aligned, aligned[1:])) else bounds


def keep_blas_asleep(trainer: Any) -> contextlib.AbstractContextManager:
    """A block for the trainer's own NumPy work between threaded runs (the validation
    pass): on one BLAS thread when its kernel runs in threads, since waking NumPy's pool
    leaves its threads spinning for ~0.1 s into the next run's (a 784-256-128-10 network
    with ``validation_split=0.1`` at batch 128: 3 epochs took 1.65 s instead of 1.38 s
    through one thread); otherwise as it is."""
    kernel = trainer._minibatch
    if kernel is not None and kernel.threads > 1:
        return _blas.single_threaded()
    return contextlib.nullcontext()


def planned_steps(trainer: Any, n_rows: int, bs: int) -> int:
    """The steps of ``trainer``'s whole run: its planned epochs times the batches of ``bs``
    rows in ``n_rows``."""
    return trainer.planned_epochs * -(-n_rows // bs)


def layout_arrays(network: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernels' view of the network: its layer sizes, and the offsets of each layer's
    weights and biases (-1: none) in the flat parameter buffer."""
    layout, layers = network.layout, network.layers
    w_off = np.array([layout[f"W{i}"].offset for i in range(1, len(layers) + 1)], np.int64)
    b_off = np.array(
        [layout[f"b{i}"].offset if layer.use_bias else -1 for i, layer in
         enumerate(layers, start=1)], dtype=np.int64,
    )  # fmt: skip
    return np.array(network.layer_sizes, dtype=np.int64), w_off, b_off


def kernel_for(trainer: Any, n_rows: int, bs: int, shuffled: bool) -> MinibatchKernel | None:
    """A kernel for ``trainer``'s batches of ``bs`` of the ``n_rows`` rows (gathered when
    ``shuffled``), or None for the plain step."""
    net = trainer.network
    layers = net.layers
    pair = (layers[-1].activation.name, net.loss.name)
    if not (
        bs >= 1
        and net.objective_terms() is not None
        and pair in PAIR_CODES
        and all(layer.activation.name in HIDDEN_CODES for layer in layers[:-1])
        and not any(layer.dropout for layer in layers)
        and rule_of(trainer) is not None
        and not (trainer.l1 or trainer.max_norm is not None)
        and (net.n_parameters >= MIN_PARAMETERS or planned_steps(trainer, n_rows, bs) >= MIN_STEPS)
        and _compiled.available()
    ):
        return None
    if not _compiled.builtin_math(net):  # a user's object under a built-in name: its own math
        return None
    threads = threads_for(net)
    cached = trainer._minibatch
    if cached is not None and cached.key == (net, bs, shuffled, threads):
        return cached
    trainer._minibatch = MinibatchKernel(net, bs, shuffled, threads)
    return trainer._minibatch


def compiled_products(
    sizes: np.ndarray, parts: np.ndarray, bs: int, dtype: np.dtype
) -> tuple[np.ndarray, list[int]]:
    """MKL's compiled kernels (:func:`deltarule._mkl.jit_product`) for each thread's
    products in a step of a full batch of ``bs`` rows, the threads' neurons ``parts`` (see
    :func:`deltarule._jit.minibatch_steps`): the forward product of each layer (the output
    layer's by rows), the weight gradients, the input gradients of the layers above the
    first.

    Returns the table ``(layers, 3, threads, 3)`` of :func:`deltarule._jit.product_at`
    (zeros where MKL compiles none: that product calls ``gemm``) and the jitters to release.
    A product that MKL compiles no kernel for whole is tried as two column halves (a
    784-256-128-10 network's first-layer forward product at batch 128, 128 x 128 x 784 per
    thread: 166 µs instead of 202). Equal shapes share a kernel.
    """
    n_layers, threads = len(sizes) - 1, parts.shape[1] - 1
    table = np.zeros((n_layers, 3, threads, 3), np.int64)
    made: dict[tuple, tuple[int, int, int] | None] = {}
    for layer, kind, tid, *shape in thread_products(sizes, parts, bs):
        key = tuple(shape)
        if key not in made:
            made[key] = _compiled_product(dtype, *shape)
        if made[key] is not None:
            table[layer, kind, tid] = made[key]
    return table, [entry[1] for entry in made.values() if entry is not None]


def thread_products(sizes: np.ndarray, parts: np.ndarray, bs: int) -> Iterator[tuple]:
    """Each thread's products in a step of a full batch of ``bs`` rows, the threads'
    neurons ``parts`` (see :func:`deltarule._jit.minibatch_steps`), as the kernel makes them:
    ``(layer, kind, thread, trans_a, trans_b, m, n, k, lda, ldb, ldc)``, ``kind`` 0 for the
    forward product (the output layer's by rows), 1 the weight gradient, 2 the input gradient
    (the layers above the first); none where a thread has no neurons or rows."""
    n_layers, threads = len(sizes) - 1, parts.shape[1] - 1
    for layer in range(n_layers):
        fan_in, width = int(sizes[layer]), int(sizes[layer + 1])
        for tid in range(threads):
            lo, hi = int(parts[layer, tid]), int(parts[layer, tid + 1])
            r0, r1 = bs * tid // threads, bs * (tid + 1) // threads
            shapes = [  # (kind, trans_a, trans_b, m, n, k, lda, ldb, ldc), as the kernel calls
                (0, False, True, bs, hi - lo, fan_in, fan_in, fan_in, width)
                if layer < n_layers - 1 else  # the output layer: all its neurons, by rows
                (0, False, True, r1 - r0, width, fan_in, fan_in, fan_in, width),
                (1, True, False, hi - lo, fan_in, bs, width, fan_in, fan_in),
            ]  # fmt: skip
            if layer > 0:
                plo, phi = int(parts[layer - 1, tid]), int(parts[layer - 1, tid + 1])
                shapes.append((2, False, False, bs, phi - plo, width, width, fan_in, fan_in))
            for kind, *shape in shapes:
                if shape[2] >= 1 and shape[3] >= 1:  # (no neurons or no rows: no product)
                    yield (layer, kind, tid, *shape)


def _compiled_product(
    dtype: np.dtype, trans_a: bool, trans_b: bool, m: int, n: int, k: int, lda: int, ldb: int,
    ldc: int,
) -> tuple[int, int, int] | None:  # fmt: skip
    """(kernel, jitter, column blocks) for the product, whole or in two column halves."""
    for blocks in (1, 2):
        if n % blocks == 0:
            made = _mkl.jit_product(dtype, trans_a, trans_b, m, n // blocks, k, lda, ldb, ldc)
            if made is not None:
                return (*made, blocks)
    return None


class MinibatchKernel:
    """Work space and layout of one network for the compiled steps at batch size ``bs``
    (with a buffer to gather shuffled batches into when ``gather``) in ``threads`` threads."""

    def __init__(self, network: Any, bs: int, gather: bool, threads: int = 1) -> None:
        self.network, self.batch_size, self.gather, self.threads = network, bs, gather, threads
        self.run_steps: int | None = None  # the next run's steps (set by the training loop)
        self.key = (network, bs, gather, threads)
        layers, dtype = network.layers, network.dtype
        self.sizes, self.w_off, self.b_off = layout_arrays(network)
        self.codes = np.array([HIDDEN_CODES.get(layer.activation.name, 0) for layer in layers])
        self.pair = PAIR_CODES[(layers[-1].activation.name, network.loss.name)]
        widths = self.sizes[1:] * bs
        self.act_off = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int64)
        total = int(widths.sum())
        self.z, self.a, self.d = (_memory.empty(total, dtype) for _ in range(3))
        rows = bs * (2 if threads > 1 else 1) if gather else 0  # in order: slices of the data
        self.x = _memory.empty(rows * int(self.sizes[0]), dtype)
        self.y = _memory.empty(rows * int(self.sizes[-1]), dtype)
        self.per_sample = _memory.empty(bs, dtype)
        self.gemm = _blas.gemm_address(dtype)  # NumPy's: one thread (the plain step's bits)
        self.scale, self.alpha = (float(term) for term in network.objective_terms())
        self.parts = self._parts(threads)
        self.thread_gemm = self.gemm
        if threads > 1:  # MKL's, else oneDNN's where installed, else NumPy's
            largest = max((m * n * k for *_, m, n, k, _, _, _ in
                           thread_products(self.sizes, self.parts, bs)), default=0)  # fmt: skip
            self.thread_gemm = (
                _mkl.gemm_address(dtype) or _onednn.gemm_address(dtype, largest) or self.gemm
            )
        self.sync = np.zeros((threads + 1) * SYNC_STRIDE, np.int64)
        self.shared = np.zeros(1 + len(layers) * threads)
        self.one_thread_products = np.zeros((len(layers), 3, 1, 3), np.int64)  # none
        # (none for each thread either, until MKL's are made: the kernel reads the entry of
        # its thread, unchecked; a one-thread table made threads read past it and crash)
        self.compiled = np.zeros((len(layers), 3, threads, 3), np.int64)
        if threads > 1 and self.thread_gemm == _mkl.gemm_address(dtype):
            with _numba_env.fork_waits():  # (MKL's compiler takes a lock of its own)
                self.compiled, jitters = compiled_products(self.sizes, self.parts, bs, dtype)
            # freed with the kernel, but not at the interpreter's exit: a daemon thread may
            # still be running them then (freeing them under it crashed the process), and
            # the process's end frees them anyway
            weakref.finalize(self, _mkl.release, jitters).atexit = False

    def _parts(self, threads: int) -> np.ndarray:
        return np.array([shares(int(w), threads) for w in self.sizes[1:]], dtype=np.int64)

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
        rule = rule_of(trainer)
        if rule is None:  # (kernel_for found one at the epoch's start; nothing runs between)
            raise InputError(
                f"the update rule of {type(opt).__name__} changed during an epoch (its "
                "online_rule, or an array in its state, replaced): change them in place "
                "between epochs, in a callback's on_epoch_end."
            )
        code, momentum = rule
        none = np.empty(0, net.dtype)
        eps_c = k = flush = m = v = none
        b1 = b2 = 0.0
        decay = 1.0
        if code in (1, 4):  # Adam, AdamW (these classes only: _RULES)
            steps = state["step"] + 1 + np.arange(n_steps)
            constants = [optimizers._adam_constants(opt, int(s), float(lr)) for s in steps]
            eps_c = np.array([c[0] for c in constants], net.dtype)
            k = np.array([c[1] for c in constants], net.dtype)
            bound = optimizers._flush_bound(net.dtype)
            flush = np.array([bound if c[2] else 0.0 for c in constants], net.dtype)
            m, v = state["first_moment"], state["second_moment"]
            b1, b2 = opt.beta_1, opt.beta_2
            if code == 4:
                decay = 1.0 - float(lr) * opt.weight_decay
        elif code in (5, 6):  # RMSprop, Adagrad (these classes only)
            eps_c = np.full(n_steps, opt.epsilon, net.dtype)
            if code == 5:
                v, b2 = state["mean_square"], opt.rho
            else:
                v = state["sum_of_squares"]
        elif code != 0:  # the velocity rules (rule_of checked the velocity)
            m, b1 = state["velocity"], momentum
        steps = (  # the data, the steps and the network's layout; then the gemm
            X, Y, order, first, n_steps, self.batch_size,
            self.sizes, self.w_off, self.b_off, self.codes, self.pair,
        )  # fmt: skip
        rest = (
            self.scale, self.alpha, float(trainer.l2),
            params, grad, total,
            code, t(lr), t(b1), t(1.0 - b1), t(b2), t(1.0 - b2), eps_c, k, flush, m, v, t(decay),
            self.z, self.a, self.d, self.x, self.y, self.per_sample, self.act_off,
            np.empty((0, Y.shape[1]), net.dtype) if outputs is None else outputs, losses,
        )  # fmt: skip
        ran = -1
        # a Ctrl-C waits for the run's end: raised while this thread waited for the others,
        # it left them updating the network (and calling BLAS) as the caller went on to save
        # it; and raised between the run and the count, Adam's step count lagged the weights
        with _threads.signals_deferred():
            if self.threads > 1:
                ran, updates = self._in_threads((*steps, self.thread_gemm, *rest, self.compiled))
            if ran < 0:  # one thread (or the others could not start: nothing was done)
                args = (*steps, self.gemm, *rest, self.one_thread_products)
                ran, updates = _kernel()(0, 1, self._parts(1), self.sync, self.shared, *args)
            state["step"] += updates
        return losses[:ran], updates

    def _in_threads(self, args: tuple) -> tuple[int, int]:
        """Run the kernel in ``self.threads`` threads, this one the first of them; (-1, -1)
        if a thread could not be started (the others then stop before doing anything)."""
        kernel, n, sync = _kernel(), self.threads, self.sync
        sync.fill(0)
        sync[1] = _sched_yield()
        results: list[Any] = [None] * n
        errors: list[BaseException] = []

        def work(tid: int) -> None:
            try:
                with _mkl.single_threaded(), _onednn.single_threaded():  # (see their modules)
                    results[tid] = kernel(tid, n, self.parts, sync, self.shared, *args)
            except BaseException as error:  # noqa: BLE001 - reraised by the first thread
                sync[0] = 1
                errors.append(error)

        helpers = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(1, n)]
        started = []
        with _blas.single_threaded():
            try:
                for helper in helpers:
                    helper.start()
                    started.append(helper)
            except RuntimeError:  # "can't start new thread"
                sync[0] = 1
            if not sync[0]:
                work(0)
            for helper in started:
                helper.join()
        if errors:
            raise errors[0]
        return results[0] if results[0] is not None and not sync[0] else (-1, -1)
