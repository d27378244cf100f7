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
So does a run with ``DELTARULE_NUMBA=0`` in the environment (deltarule's switch for its
kernels: numba may stay installed for other code), or with numba's own
``NUMBA_DISABLE_JIT=1`` (numba's pure-Python mode cannot run these kernels). Where numba keeps the
kernels' compiled code, and how a fork waits for them: :mod:`deltarule._numba_env`.
"""

from __future__ import annotations

import math
import os
import sys
import time
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import numpy as np

from . import _shaped
from ._numba_env import _cache_folder, fork_waits, private_folder

__all__ = [
    "available", "unavailable", "fork_waits", "private_folder", "supported", "builtin_math",
    "worth_it", "OnlineKernel", "ONLINE_RULES", "fused_adam", "vouched_rule", "state_array",
    "all_correct_labels",
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


SWITCH = "DELTARULE_NUMBA"
"""The environment variable that turns the kernels off (:data:`OFF`)."""
OFF = ("0", "false", "no", "off")
"""The values (any case, spaces around) of deltarule's switches that turn a path off
(:data:`SWITCH`; ``DELTARULE_MKL``, :mod:`deltarule._mkl`; ``DELTARULE_ONEDNN``,
:mod:`deltarule._onednn`)."""
ON = ("1", "true", "yes", "on")
"""The values that turn a library on wherever it is installed (:func:`switch`)."""


def switch(name: str, library: str, unset: str, stacklevel: int = 3) -> str:
    """The library switch ``name``'s setting: ``"off"`` (one of :data:`OFF`), ``"on"`` (one
    of :data:`ON`) or ``""`` (unset, or another value: named in a RuntimeWarning, which says
    that ``library`` is then chosen as without it: ``unset``; ``stacklevel`` as
    :func:`warnings.warn`'s, counted from this function)."""
    raw = os.environ.get(name, "")
    wanted = raw.strip().lower()
    if wanted in OFF:
        return "off"
    if wanted in ON:
        return "on"
    if wanted:
        import warnings

        warnings.warn(
            f"{name}={raw!r} is not one of {', '.join(OFF)} ({library} off) or "
            f"{', '.join(ON)} ({library} on wherever it is installed); {library} is chosen as "
            f"without it ({unset}). Set it to one of those.",
            RuntimeWarning,
            stacklevel=stacklevel,
        )
    return ""


def available() -> bool:
    """True when the kernels can run: numba can be imported, is not turned off (numba's
    ``NUMBA_DISABLE_JIT``, or :data:`SWITCH`), and has a folder to cache them in."""
    return unavailable() is None


@lru_cache(maxsize=1)
def unavailable() -> str | None:
    """Why the kernels cannot run (see :func:`available`), or None when they can; found
    once a process."""
    value = os.environ.get(SWITCH, "")
    if value.strip().lower() in OFF:
        return f"{SWITCH}={value if value.isprintable() else repr(value)} turns them off"
    with fork_waits():  # (see the module's docstring)
        try:
            import numba
        except ImportError as error:
            import importlib.metadata

            try:
                importlib.metadata.version("numba")
            except importlib.metadata.PackageNotFoundError:
                return "numba is not installed (pip install 'deltarule[fast]')"
            return f"numba is installed but cannot be imported: {error}"
        if getattr(numba.config, "DISABLE_JIT", False):  # (pure Python: cannot run them)
            return "NUMBA_DISABLE_JIT is set (numba's pure-Python mode cannot run them)"
        if not _cache_folder():
            return "numba has no folder to cache them in (set NUMBA_CACHE_DIR)"
        from . import _jit  # noqa: F401 - imported whole here, where a fork waits for it
    return None


def builtin_math(network: Any, loss: bool = True) -> bool:
    """True when the network computes only what a kernel computes by name: every layer a
    :class:`~deltarule.layers.Dense` itself (not a subclass), every activation (and, with
    ``loss``, the loss) the built-in object of its name, not a user's object under that name."""
    # imported here: activations and losses import this module (through _rowops)
    from .activations import is_builtin as is_builtin_activation
    from .layers import plain_dense
    from .losses import is_builtin as is_builtin_loss

    layers = network.layers
    return (
        plain_dense(layers)
        and all(is_builtin_activation(layer.activation) for layer in layers)
        and (not loss or is_builtin_loss(network.loss))
    )


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
        and builtin_math(network)
    )


@lru_cache(maxsize=1)
def _kernel():  # noqa: ANN202 - compiled lazily, on first use
    from . import _jit

    return _jit.online_epochs


def vouched_rule(trainer: Any, names: Any) -> tuple[tuple[str, float], Any] | None:
    """The update rule ``trainer``'s optimizer vouches for
    (:meth:`~deltarule.optimizers.Optimizer.online_rule`) when ``names`` has its name, and the
    velocity it updates (None for the delta rule, ``"sgd"``); None when a kernel cannot run
    it: no rule, one of other names, or a velocity that is not an array of the parameters'
    shape and dtype, C-contiguous (a kernel indexes it unchecked). Read afresh at each call:
    a callback may change the momentum or put another array in the state.

    Raises
    ------
    InputError
        When ``online_rule`` raises, or returns something other than None or a
        ``(name, momentum)`` pair (a user's optimizer).
    """
    from .exceptions import InputError

    optimizer = trainer.optimizer
    who = f"{type(optimizer).__name__}.online_rule()"
    fix = ("return None (the optimizer's own update runs) or a (name, momentum) pair such as "
           "('momentum', 0.9), whose rule the optimizer's update computes")  # fmt: skip
    try:
        rule = optimizer.online_rule()
    except Exception as exc:
        raise InputError(f"{who} raised {type(exc).__name__} ({exc}); {fix}.") from exc
    if rule is None:
        return None
    if not (
        isinstance(rule, tuple) and len(rule) == 2 and isinstance(rule[0], str)
        and isinstance(rule[1], (int, float, np.integer, np.floating))
        and not isinstance(rule[1], bool)
    ):  # fmt: skip
        raise InputError(f"{who} returned {rule!r}; {fix}.")
    if rule[0] not in names:
        return None
    if rule[0] == "sgd":
        return (rule[0], float(rule[1])), None
    velocity = state_array(trainer)
    return None if velocity is None else ((rule[0], float(rule[1])), velocity)


def state_array(trainer: Any, key: str = "velocity") -> np.ndarray | None:
    """The optimizer state's array ``key`` (its velocity, or a moment) when it is one a kernel
    may update in place (the parameters' shape and dtype, C-contiguous: kernels index it
    unchecked, in the network's dtype), else None."""
    array = trainer.optimizer_state.get(key)
    net = trainer.network
    if not (isinstance(array, np.ndarray) and array.shape == net.parameters.shape
            and array.dtype == net.dtype and array.flags.c_contiguous):  # fmt: skip
        return None
    return array


ONLINE_RULES = {"sgd": 0, "momentum": 1, "nesterov": 2, "sklearn_momentum": 3,
                "sklearn_nesterov": 4}  # fmt: skip
"""The update rules the online kernel runs (:meth:`deltarule.optimizers.Optimizer.online_rule`
names them), by its codes: the delta rule, PyTorch's momentum and Nesterov momentum
(:mod:`deltarule.optimizers.sgd`), scikit-learn's (the estimators' ``solver="sgd"``)."""


class OnlineKernel:
    """Runs epochs of online gradient descent for one network in compiled code.

    The generic kernel (:func:`deltarule._jit.online_epochs`) runs any network; a network
    of up to :data:`deltarule._shaped.MAX_PARAMETERS` parameters whose shape has trained
    for a second in the process switches to a kernel written out for it
    (:mod:`deltarule._shaped`), which gives the same results bit for bit.

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
        self._shape = None  # (the static part of its written-out kernel's key: _shaped)
        self._data: tuple = (None, None)  # (the last call's X and y, and their types)
        self.all_correct = False
        """Whether the last :meth:`run` stopped at an epoch that may classify every example
        correctly (asked with ``classes``: none surely wrong, NumPy to decide)."""
        self.left: float | None = None
        """The seconds the run expects to spend in these calls still (None: unknown), set by
        the caller: a shape is compiled only for a run long enough (:mod:`deltarule._shaped`)."""
        if network.n_parameters <= _shaped.MAX_PARAMETERS and _shaped.enabled():
            self._shape = (tuple(tuple(int(v) for v in part) for part in self.spec[:5]), self.loss)

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
        restore: bool = True,
        outputs: np.ndarray | None = None,
        best: np.ndarray | None = None,
        best_loss: float = math.inf,
        rule: tuple[str, float] = ("sgd", 0.0),
        velocity: np.ndarray | None = None,
        best_velocity: np.ndarray | None = None,
        classes: tuple[np.ndarray, int, float, float] | None = None,
    ) -> tuple[int, int, bool, np.ndarray, np.ndarray, int]:
        r"""Run up to ``n_epochs`` epochs; stop after the first whose mean error is <= target,
        or whose error or weights are not finite (as the NumPy loop: an example whose error
        is not finite ends its epoch without an update).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_inputs)
        y : ndarray of shape (n_samples, n_outputs)
        orders : ndarray of shape (n_epochs, n_samples) or None
            The visiting order of each epoch (None: in order).
        scale, decay : float
            Each example's error is :math:`c\,E + \tfrac{\lambda}{2}\lVert W\rVert^2`
            (weights, not biases) with :math:`c` = ``scale`` and :math:`\lambda` = ``decay``.
        restore : bool
            Restore a failed epoch's weights to those of its start (False: leave them as
            the failed epoch left them, for a caller that restores them itself).
        outputs : ndarray of shape (n_epochs, n_samples, n_outputs) or None
            Filled with each example's output before its update, in visiting order (what
            the NumPy loop scores the training metrics on), in the network's dtype; rows
            of epochs not run, and of examples after a non-finite error, are left as they
            were.
        best : ndarray of the parameters' shape, or None
            With ``restore``: receives the starting weights of the last finished epoch
            whose loss is a new lowest (below ``best_loss`` and every earlier epoch's):
            the start the training loop keeps for a divergence (``BestStart``).
        best_loss : float
            The lowest loss before these epochs.
        rule : (str, float)
            The optimizer's :meth:`~deltarule.optimizers.Optimizer.online_rule`: a name of
            :data:`ONLINE_RULES` and its momentum.
        velocity : ndarray of the parameters' shape, or None
            The momentum rules' velocity (the optimizer state's), updated in place; with
            ``restore``, a failed epoch's is restored too.
        best_velocity : ndarray of the parameters' shape, or None
            With ``best``: receives the velocity at that epoch's start.
        classes : (ndarray, int, float, float) or None
            ``(labels, mode, cut, slack)`` (:func:`all_correct_labels`): stop after the
            first finished epoch whose weights classify no example surely wrongly
            (:class:`~deltarule.callbacks.AllCorrect`'s rule, which NumPy then decides),
            which sets :attr:`all_correct`.

        Returns
        -------
        epochs_run : int
            Counting a failed last epoch.
        updates : int
            The updates made, a failed epoch's included.
        diverged : bool
            The last epoch failed.
        losses, gradient_norms : ndarray of shape (epochs_run,)
        best_epoch : int
            The index (from 0) of the epoch whose start ``best`` holds; -1 for none.
        """
        labels, mode, cut, slack = (_NO_LABELS, 0, 0.5, 0.0) if classes is None else classes
        net = self.network
        losses = np.empty(n_epochs, np.float64)
        norms = np.empty(n_epochs, np.float64)
        orders = np.empty((0, 0), np.int64) if orders is None else orders.astype(np.int64)
        trainable = net.trainable.astype(np.uint8)
        rate = net.dtype.type(learning_rate)
        if best is not None and not restore:
            raise ValueError("OnlineKernel.run: best needs restore=True (the epochs' starts)")
        name, momentum = rule
        code = ONLINE_RULES[name]
        if (velocity is None) != (code == 0):
            raise ValueError(f"OnlineKernel.run: rule {name!r} and velocity disagree")
        empty = np.empty(0, net.dtype)
        args = (
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
            bool(restore),
            np.empty((0, 0, 0), net.dtype) if outputs is None else outputs,
            empty if best is None else best,
            float(best_loss),
            empty if velocity is None else velocity,
            float(momentum),
            code,
            empty if best_velocity is None else best_velocity,
            labels,
            int(mode),
            float(cut),
            float(slack),
        )
        done, updates, failed, best_epoch, right = self._call(args, code, trainable, decay)
        self.all_correct = bool(right)
        return int(done), int(updates), bool(failed), losses[:done], norms[:done], int(best_epoch)

    def _call(self, args: tuple, rule: int, trainable: np.ndarray, decay: float) -> tuple:
        """Run the kernel written out for this network when it is ready (:mod:`deltarule._shaped`:
        the same results, bit for bit), else the generic one, whose time it is told."""
        key = None
        X, y = args[4], args[5]
        if self._shape is not None and X.dtype == y.dtype == self.network.dtype:
            # (data of another dtype: the generic kernel rounds its sums to the network's
            # dtype in its buffers, which the written-out one keeps in locals)
            if X is not self._data[0] or y is not self._data[1]:  # (a run's calls: the same)
                self._data = (X, y, _array_type(X), _array_type(y))
            lam = decay != 0.0 and bool(self.network.dtype.type(decay) != 0)
            key = (self._shape, rule, trainable.tobytes(), decay != 0.0, lam, *self._data[2:],
                   self.network.dtype.str)  # fmt: skip
            fast = _shaped.ready(key)
            if fast is not None:
                try:
                    return fast(*args)
                except TypeError:  # (not compiled for these arguments' types)
                    _shaped.refused(key)
        t0 = time.perf_counter()
        result = _kernel()(*args)

        def make() -> tuple[str, tuple]:
            import numba

            types = tuple(numba.typeof(a) for a in args)
            spec, loss = self._shape
            text = _shaped.source(spec, loss, rule, [bool(t) for t in trainable],
                                  (key[3], key[4]), header=repr(types))  # fmt: skip
            return text, types

        _shaped.spent(key, time.perf_counter() - t0, make, self.left)
        return result


_NO_LABELS = np.empty((0, 0), np.int64)


def all_correct_labels(
    y: np.ndarray, threshold: float, dtype: Any = np.float64
) -> tuple[np.ndarray, int, float, float]:
    """The ``classes`` argument of :meth:`OnlineKernel.run` for targets ``y`` (n_samples,
    n_outputs), the cut of a single output column and the network's ``dtype``: each
    example's class labels as :func:`deltarule.metrics.all_correct` reads them, how the
    outputs are read (1: argmax, for several columns; 0: each column above ``threshold``,
    for one column or multi-label targets), and the slack within which an output is too
    close to where its class changes to be read without NumPy: the square root of the
    dtype's epsilon (1.5e-8 in float64; two sums of the same products in other orders
    differ by far less)."""
    from ._chunk_metrics import target_classes

    multilabel, labels = target_classes(y, threshold)
    mode = 0 if multilabel or y.shape[1] == 1 else 1
    slack = math.sqrt(float(np.finfo(dtype).eps))
    labels = np.ascontiguousarray(labels.reshape(len(y), -1), dtype=np.int64)
    return labels, mode, float(threshold), slack


def _array_type(a: np.ndarray) -> tuple:
    """What numba's type of the array ``a`` depends on (``numba.typeof`` takes ~4 µs)."""
    flags = a.flags
    layout = "C" if flags.c_contiguous else ("F" if flags.f_contiguous else "A")
    return a.dtype.str, a.ndim, layout, flags.writeable, flags.aligned


@lru_cache(maxsize=1)
def _adam_kernel():  # noqa: ANN202 - compiled lazily, on first use
    from . import _jit

    return _jit.adam


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
    constants ``eps_c`` and ``k`` of :func:`deltarule.optimizers.adaptive._adam_step`; moments
    below ``flush_below`` in magnitude become zero; ``total += g`` when ``total`` is given.
    """
    t = params.dtype.type
    accumulate = total is not None
    _adam_kernel()(params, grad, m, v, t(beta_1), t(1.0 - beta_1), t(beta_2), t(1.0 - beta_2),
                   t(eps_c), t(k), t(flush_below), total if accumulate else grad,
                   accumulate, t(1.0))  # fmt: skip


def worth_it(size: int, min_size: int) -> bool:
    """True when a kernel should run on ``size`` elements: numba is installed, and the work
    is large enough to repay numba's import (``min_size``) or numba is already loaded."""
    return (size >= min_size or "numba" in sys.modules) and available()


SHORT_RUN: ContextVar[bool] = ContextVar("deltarule_short_run", default=False)
"""Set while a training run too short to repay numba's import runs (fewer planned steps than
:data:`deltarule._minibatch.MIN_STEPS`): kernels whose results are NumPy's to the last bit
(:mod:`deltarule._rowops`) then run only where numba is loaded anyway. (A 3-epoch fit of
100 steps an epoch on 20,000 rows took 0.31 s in a new process, 0.24 of them numba's import
and loading, against 0.07 s through NumPy.)"""


def worth_loading(size: int, min_size: int) -> bool:
    """:func:`worth_it`, except in a short training run (:data:`SHORT_RUN`), where only a
    process that has loaded numba already runs the kernel."""
    return worth_it(size, math.inf if SHORT_RUN.get() else min_size)
