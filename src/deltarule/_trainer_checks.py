"""What a :class:`~deltarule.training.Trainer` refuses: its options and its fit's arguments.

Every check the trainer makes of what it is given, each with a message that says what was
received and how to fix it: the optimizer and its learning rate (:func:`optimizer_for`), a
rate or schedule given to an optimizer that sizes its own steps (:func:`refuse_rate`), the
callbacks, ``verbose`` and ``epoch_loss``, settings a full-batch solver would leave out,
sample weights that cancel in batches of one row (a warning), and mini-batches given to
iRprop (a warning; ``batch_size="auto"`` gives it every row: :func:`auto_batch_size`).
:func:`progress_callback` makes the fit's progress printer unless the user gave one.
:func:`one_fit_per_network` refuses a second fit of a network that a fit is training.
"""

from __future__ import annotations

import inspect
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar

import numpy as np

from ._reports import user_stacklevel
from ._typing import Array
from ._validation import check_int
from .callbacks import Callback, ProgressBar
from .exceptions import DataWarning, InputError
from .history import History
from .solvers import FullBatchSolver, get_first_order, get_solver, refuse_mini_batch_settings

if TYPE_CHECKING:
    from .network import Network

__all__ = [
    "AUTO",
    "DEFAULT_BATCH_SIZE",
    "auto_batch_size",
    "callback_list",
    "check_epoch_loss",
    "check_solver_settings",
    "check_verbose",
    "is_auto_batch",
    "one_fit_per_network",
    "optimizer_for",
    "progress_callback",
    "refuse_rate",
    "warn_if_steps_mix_batches",
    "warn_if_weights_cancel",
]


def callback_list(callbacks: Any) -> list[Callback]:
    """``callbacks`` as a list: None is none, and one callback is a list of one."""
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        return [callbacks]
    items = list(callbacks) if isinstance(callbacks, (list, tuple)) else None
    if items is None or not all(isinstance(cb, Callback) for cb in items):
        bad = callbacks if items is None else next(c for c in items if not isinstance(c, Callback))
        if isinstance(bad, type) and issubclass(bad, Callback):
            raise InputError(
                f"callbacks must hold Callback objects; you passed the class {bad.__name__}, "
                f"not one of them. Call it: callbacks=[{bad.__name__}()], with its arguments "
                "if it needs some."
            )
        raise InputError(
            f"callbacks must be a list of deltarule.callbacks.Callback objects; received "
            f"{type(bad).__name__} {bad!r:.60}. Subclass Callback for your own hooks."
        )
    return sorted(items, key=lambda cb: cb.runs_last)  # (stable: the given order otherwise)


def check_epoch_loss(epoch_loss: Any) -> None:
    """Refuse an ``epoch_loss`` other than "weighted" or "rows"."""
    if epoch_loss not in ("weighted", "rows"):
        raise InputError(
            f"epoch_loss must be 'weighted' or 'rows'; received {epoch_loss!r}. Leave "
            "the default 'weighted' unless you need scikit-learn's per-row figure."
        )


def check_verbose(verbose: Any) -> int:
    """``verbose`` as 0, 1 or 2 ("auto", Keras's default, is 1: a bar), else an InputError."""
    if isinstance(verbose, str) and verbose == "auto":  # Keras's default: a bar
        verbose = 1
    scalar = isinstance(verbose, (int, np.integer))  # (True and False are 1, 0)
    if not scalar or verbose not in (0, 1, 2):
        raise InputError(
            f"verbose must be 0 (silent), 1 (a progress bar on a terminal) or 2 (a line "
            f"per epoch); received {verbose!r:.60}."
        )
    return verbose


def _default_rate(optimizer: Any) -> float | None:
    """The learning rate ``optimizer``'s class gives when none is passed, or None."""
    try:
        default = inspect.signature(type(optimizer)).parameters["learning_rate"].default
    except (KeyError, TypeError, ValueError):
        return None
    return float(default) if isinstance(default, (int, float)) else None


def refuse_rate(optimizer: Any, what: str, given: Any = True) -> None:
    """Refuse ``what`` (a learning rate, schedule or rate callback; when ``given``) for an
    optimizer that sizes its own steps (``step_rule`` set: iRprop, the full-batch solvers),
    which would silently ignore it."""
    rule = getattr(optimizer, "step_rule", None)
    if given is None or rule is None:
        return
    first_step = (
        f" To set its first step size (torch.optim.Rprop's lr), pass get_optimizer("
        f"{optimizer.name!r}, delta_zero=...)."
        if hasattr(optimizer, "delta_zero")
        else ""
    )
    raise InputError(
        f"optimizer {optimizer.name!r} has no learning rate ({rule}), so it would ignore "
        f"{what}. Leave it out, or choose an optimizer with a learning rate (sgd, momentum, "
        f"adam, ...).{first_step}"
    )


def optimizer_for(
    optimizer: Any, learning_rate: float | None, batch_size: int | None, parameters: Array
) -> tuple[Any, dict]:
    """The trainer's (optimizer, its state) for the ``optimizer`` argument: a full-batch
    solver (no state kept between fits) or a first-order rule set up for ``parameters``.

    Refuses settings a solver cannot use, a ``learning_rate`` that contradicts the one an
    optimizer object was built with, and any rate for an optimizer that sizes its own steps.
    """
    solver = get_solver(optimizer)
    if solver is not None:
        # (32 is batch_size's default here and in fit: an explicit 32 looks the same)
        refuse_mini_batch_settings(solver, learning_rate, batch_size, 32)
        return solver, {}
    own = (
        None if getattr(optimizer, "step_rule", None) else getattr(optimizer, "learning_rate", None)
    )  # (iRprop's ignored one: refused below as any rate given to it)
    if (
        not isinstance(optimizer, str)
        and None not in (learning_rate, own)
        and float(learning_rate) != float(own)
        and float(own) != _default_rate(optimizer)  # (set by its maker: a conflict)
    ):
        raise InputError(
            f"the optimizer object given has its own learning rate ({own:g}) and "
            f"learning_rate={learning_rate!r} was given too; expected one of them. "
            f"Leave learning_rate out, or build the optimizer with it "
            f"(get_optimizer({optimizer.name!r}, learning_rate={learning_rate!r}))."
        )
    by_name = isinstance(optimizer, str) and learning_rate is not None
    kwargs = {"learning_rate": learning_rate} if by_name else {}
    rule = get_first_order(optimizer, **kwargs)
    refuse_rate(rule, f"learning_rate={learning_rate!r}", learning_rate)
    return rule, rule.init(parameters)


def check_solver_settings(trainer: Any) -> None:
    """Refuse what a full-batch solver would silently leave out of its iterations."""
    solver = trainer.optimizer
    if not isinstance(solver, FullBatchSolver):
        return
    ignored = []
    if trainer.max_norm is not None:
        ignored.append("max_norm")
    if any(layer.dropout for layer in trainer.network.layers):
        ignored.append("dropout (a random objective)")
    if solver.name == "lm" and (trainer.l1 or trainer.l2):
        ignored.append("l1/l2 (its steps solve for the squared error alone)")
    if ignored:
        raise InputError(
            f"optimizer {solver.name!r} cannot apply {', '.join(ignored)}; expected a "
            "first-order optimizer (sgd, momentum, adam, ...) for these settings"
            + (", or l2 with 'lbfgs'." if solver.name == "lm" and trainer.l2 else ".")
            + " Remove them or choose another optimizer."
        )


AUTO = "auto"
"""``batch_size``'s default: :data:`DEFAULT_BATCH_SIZE`, or every row for an optimizer that
sizes its own steps (:func:`auto_batch_size`)."""

DEFAULT_BATCH_SIZE = 32


def is_auto_batch(batch_size: Any) -> bool:
    """Whether ``batch_size`` is "auto" (left to the optimizer: :func:`auto_batch_size`)."""
    return isinstance(batch_size, str) and batch_size == AUTO


def auto_batch_size(optimizer: Any) -> int | None:
    """What ``batch_size="auto"`` is for ``optimizer`` (the trainer's, made): None (every
    row) for a first-order rule that sizes its own steps (iRprop compares each step's loss
    with the last, which only full batches make comparable), else :data:`DEFAULT_BATCH_SIZE`
    (full-batch solvers read every row whatever it says)."""
    own = getattr(optimizer, "step_rule", None) is not None
    return None if own and not isinstance(optimizer, FullBatchSolver) else DEFAULT_BATCH_SIZE


def warn_if_steps_mix_batches(trainer: Any, n_rows: int) -> None:
    """Warn that an optimizer with its own step rule (iRprop) given mini-batches compares
    the losses of different batches, so its step sizes follow noise."""
    optimizer, size = trainer.optimizer, trainer.batch_size
    if (
        getattr(optimizer, "step_rule", None) is None
        or isinstance(optimizer, FullBatchSolver)
        or size is None
        or size >= n_rows
    ):
        return
    warnings.warn(
        f"optimizer {optimizer.name!r} sizes its own steps by comparing each step's loss "
        f"and gradient signs with the last, which is meant for full batches; with "
        f"batch_size={size} on {n_rows:,} rows it compares different batches, so its steps "
        "follow the batches' noise and training can stall. Leave batch_size out (every row "
        "for this optimizer) or pass batch_size=None.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


def progress_callback(callbacks: list[Callback], verbose: int, report_every: Any) -> list[Callback]:
    """The fit's own :class:`ProgressBar` (printing every ``report_every`` epochs), or none
    when ``callbacks`` has one: the user's replaces it, so no line is printed twice.
    ``report_every`` given with such a callback is refused (it would do nothing)."""
    every = None if report_every is None else check_int(report_every, "report_every")
    given = next((cb for cb in callbacks if isinstance(cb, ProgressBar)), None)
    if given is None:
        return [ProgressBar(verbose, every=every)]
    if report_every is not None:
        raise InputError(
            f"report_every={report_every!r} sets how often the fit's own progress prints, "
            f"but callbacks has a ProgressBar (every={given.every}), which replaces it, so it "
            f"would do nothing. Give the ProgressBar every={report_every!r}, or leave "
            "report_every out."
        )
    return []


def warn_if_weights_cancel(batch_size: int | None, weights: Array | None) -> None:
    """Warn that sample or class weights change nothing in batches of one row (each
    batch's error is the weighted mean of its rows: one row's weight divides out)."""
    if batch_size != 1 or weights is None or np.ptp(weights) == 0:
        return
    warnings.warn(
        "sample_weight (or class_weight) has no effect with batch_size=1: each batch's "
        "error is the weighted mean of its rows, so one row's weight divides out (as in "
        "scikit-learn's MLP). Train in batches of several rows (batch_size=32, or None for "
        "every row) for the weights to count.",
        DataWarning,
        stacklevel=user_stacklevel(),
    )


_TRAINING: set[int] = set()  # id() of each network (and estimator) a fit is training now
_TRAINING_LOCK = threading.Lock()


class _TrainsANetwork(Protocol):
    """What :func:`one_fit_per_network` guards: an object with the network it trains."""

    network: Network


_P = ParamSpec("_P")
_TrainerT = TypeVar("_TrainerT", bound=_TrainsANetwork)


def one_fit_per_network(
    fit: Callable[Concatenate[_TrainerT, _P], History],
) -> Callable[Concatenate[_TrainerT, _P], History]:
    """Refuse a fit of a network another fit is training (in another thread, or the fit
    whose callback asks): both would update the same weights, and the estimators' records
    would mix two runs."""

    @wraps(fit)
    def guarded(self: _TrainerT, *args: _P.args, **kwargs: _P.kwargs) -> History:
        with one_at_a_time(self.network, _NETWORK_BUSY):
            return fit(self, *args, **kwargs)

    return guarded  # type: ignore[return-value]  (mypy's _Wrapped names the self argument)


_NETWORK_BUSY = (
    "this network is being trained already, by a fit running in another thread or by the "
    "fit whose callback made this call; expected one fit at a time per network. Wait for "
    "that fit to end, or train a copy (copy.deepcopy(network)) to train two at once."
)


@contextmanager
def one_at_a_time(trained: object, busy: str) -> Iterator[None]:
    """Run the block as the one fit of ``trained`` (a network, an estimator) now; raise
    :class:`InputError` with the message ``busy`` where another fit of it runs (in another
    thread, or the fit whose callback entered the block)."""
    key = id(trained)
    with _TRAINING_LOCK:
        if key in _TRAINING:
            raise InputError(busy)
        _TRAINING.add(key)
    try:
        yield
    finally:
        with _TRAINING_LOCK:
            _TRAINING.discard(key)
