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
``NUMBA_DISABLE_JIT=1`` (numba's pure-Python mode cannot run these kernels). The kernels
keep their compiled code in numba's on-disk cache: next to the installed package, else in
the user's cache folder, else (a read-only install and an unwritable home, as for a service
account) in a private folder under the system's temporary folder (:func:`private_folder`);
an explicit ``NUMBA_CACHE_DIR`` is used as numba uses it.

**fork.** A process forked while another of its threads held a lock stays with that lock
held for ever: a child forked while a thread imported numba or loaded a kernel (a first
fit's first ~0.35 s) hung in its own first fit. :func:`available` imports numba and the
kernels' module in a :func:`fork_waits` block (as :mod:`deltarule._mkl` loads MKL and
compiles its products), and from its first call ``os.fork`` (and a ``multiprocessing``
pool's "fork") waits for those blocks and numba's compiler lock, taken in the parent around
the fork and released in both processes (:func:`_hold_locks`), so a fork made while a
kernel loads or compiles waits for it. Imports of other modules that a thread
is in the middle of when the process forks (Python's per-module import locks) are not
covered: fork once training has started, or use the "spawn" or "forkserver" start method.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "available", "fork_waits", "supported", "builtin_math", "worth_it", "OnlineKernel",
    "fused_adam",
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
"""The environment variable that turns the kernels off (``0``, ``false``, ``no``, ``off``)."""


@lru_cache(maxsize=1)
def available() -> bool:
    """True when the kernels can run: numba can be imported, is not turned off (numba's
    ``NUMBA_DISABLE_JIT``, or :data:`SWITCH`), and has a folder to cache them in."""
    if os.environ.get(SWITCH, "").strip().lower() in ("0", "false", "no", "off"):
        return False
    with fork_waits():  # (see the module's docstring)
        try:
            import numba
        except ImportError:
            return False
        if getattr(numba.config, "DISABLE_JIT", False):  # (pure Python: cannot run them)
            return False
        if not _cache_folder():
            return False
        from . import _jit  # noqa: F401 - imported whole here, where a fork waits for it
    return True


_LOADING = threading.RLock()
"""Held in :func:`fork_waits` blocks (a fork waits for it)."""


@contextlib.contextmanager
def fork_waits() -> Iterator[None]:
    """A block that ``os.fork`` waits for: numba's import and the kernels' here, MKL's
    loading and compiling (:mod:`deltarule._mkl`), work that takes a library's internal
    lock, which a fork made in the middle of it would leave held in the child for ever."""
    with _LOADING:
        _fork_safe()
        yield


_FORK_HOOKS: list[bool] = []  # (one entry once the hooks are registered)
_HELD: list[Any] = []  # (the locks the hooks took before a fork, to release after it)


def _fork_safe() -> None:
    """Register :func:`_hold_locks` and :func:`_release_locks` around ``os.fork``, once.

    Hooks registered later run first before a fork: :mod:`logging`'s, registered when
    numba's import first loads it, would hold logging's lock while ours waits for a thread
    whose import needs that lock. Imported first, its hook runs after ours."""
    if not _FORK_HOOKS and hasattr(os, "register_at_fork"):
        import logging  # noqa: F401 - see above

        os.register_at_fork(
            before=_hold_locks, after_in_parent=_release_locks, after_in_child=_release_locks
        )
        _FORK_HOOKS.append(True)


def _hold_locks() -> None:
    """Before a fork: wait for :data:`_LOADING` and numba's compiler lock (a thread that
    holds either is importing numba or loading a kernel; in the child it would hold it for
    ever), and hold them until the fork is done."""
    _LOADING.acquire()
    _HELD.append(_LOADING)
    lock = getattr(sys.modules.get("numba.core.compiler_lock"), "global_compiler_lock", None)
    if lock is not None:
        lock.acquire()
        _HELD.append(lock)


def _release_locks() -> None:
    """After a fork, in the parent and in the child: release what :func:`_hold_locks` took."""
    while _HELD:
        _HELD.pop().release()


def _cache_folder() -> bool:
    """Make sure numba's on-disk cache has a folder for :mod:`deltarule._jit`'s kernels
    (else numba refuses to define them: "cannot cache function ...: no locator
    available"): where numba finds none (a read-only install, an unwritable home), point it
    at a private folder under the system's temporary folder. False when there is none."""
    from numba.core import config

    if config.CACHE_DIR or getattr(config, "CACHE_LOCATOR_CLASSES", None):
        return True  # (the user's choice, as numba uses it)
    if _numba_finds_folder():
        return True
    folder = private_folder("deltarule-numba")
    if folder is None:
        return False
    config.CACHE_DIR = folder
    return True


def _numba_finds_folder() -> bool:
    """Whether one of numba's cache locators finds a writable folder for ``_jit.py``."""
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_jit.py")
    try:
        from numba.core import caching

        impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # (numba < 0.62)
        return any(
            cls.from_function(_cache_folder, source) is not None for cls in impl._locator_classes
        )
    except Exception:  # (numba's internals changed: the folder next to the module, if any)
        return _writable(os.path.join(os.path.dirname(source), "__pycache__"))


def private_folder(name: str) -> str | None:
    """``<name>-<user>`` under the temporary folder, made for this user alone (a folder of
    that name that another user owns, or others can write to, is not used: a cache in it
    could hold anyone's code); else a fresh folder; None when none can be made."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    folder = os.path.join(tempfile.gettempdir(), f"{name}-{uid if uid is not None else 'user'}")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
        own = uid is None or (info.st_uid == uid and not info.st_mode & 0o022)
        if own and not os.path.islink(folder) and _writable(folder):
            return folder
        folder = tempfile.mkdtemp(prefix=f"{name}-")
        return folder if _writable(folder) else None
    except OSError:
        return None


def _writable(folder: str) -> bool:
    """Whether a file can be made in ``folder`` (made if missing), as numba checks it."""
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


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
        restore: bool = True,
        outputs: np.ndarray | None = None,
    ) -> tuple[int, int, bool, np.ndarray, np.ndarray]:
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

        Returns
        -------
        epochs_run : int
            Counting a failed last epoch.
        updates : int
            The updates made, a failed epoch's included.
        diverged : bool
            The last epoch failed.
        losses, gradient_norms : ndarray of shape (epochs_run,)
        """
        net = self.network
        losses = np.empty(n_epochs, np.float64)
        norms = np.empty(n_epochs, np.float64)
        orders = np.empty((0, 0), np.int64) if orders is None else orders.astype(np.int64)
        trainable = net.trainable.astype(np.uint8)
        rate = net.dtype.type(learning_rate)
        done, updates, failed = _kernel()(
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
        )
        return int(done), int(updates), bool(failed), losses[:done], norms[:done]


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
