"""The callback protocol: the run's state as callbacks see it, and the hooks they define.

:class:`TrainingState` is what the training loop hands every hook (the network, the optimizer,
the rate the next epoch uses, the data, the records so far); :class:`Callback` is the base
class whose hooks all do nothing, with the optional state a checkpoint saves. A callback that
defines Keras's per-batch hooks, which deltarule never calls, is refused by
:func:`check_hooks` before training starts.
"""

from __future__ import annotations

import inspect
import math
import numbers
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._typing import Array
from ..exceptions import InputError, KerasAttributeError
from ..history import EpochRecord, History

if TYPE_CHECKING:
    from ..network import Network
    from ..optimizers import Optimizer
    from ..solvers import FullBatchSolver
    from ..training import Trainer


@dataclass
class TrainingState:
    """The run as callbacks see it.

    Attributes
    ----------
    network : Network
    optimizer : Optimizer
    optimizer_state : dict
    learning_rate : float
        Used by the next epoch; callbacks may change it.
    base_learning_rate : float
    epoch : int
        Number of completed epochs (1-based epoch of the last record).
    max_epochs : int
    X : ndarray or scipy.sparse CSR matrix of shape (n_samples, n_features)
        Training features, validated. Sparse features stay sparse, as a CSR matrix
        (whatever sparse format was given), unless a full-batch solver trains on them made
        dense (Levenberg–Marquardt; L-BFGS on fairly dense data): compute on them through
        ``network.infer(X)``, which takes both, or check ``scipy.sparse.issparse(X)``
        (``X.toarray()`` makes the rows dense).
    y, sample_weight : ndarray
        Training targets, shape (n_samples, n_outputs), and weights, shape (n_samples,)
        or None; validated.
    X_val, y_val : arrays or None
        Validation data (``X_val`` may be a CSR matrix, as ``X``).
    history : History
        Records so far.
    trainer : Trainer
        The trainer running the loop (for checkpoints of its full state).
    callbacks : list of Callback
        Every callback of the run, in the order they are called (for checkpoints of
        their states).
    val_output : ndarray of shape (n_val, n_outputs) or None
        The network's outputs on ``X_val`` at the end of the epoch being recorded (what
        its ``val_loss`` was computed from), set before ``on_epoch_end``; None without
        validation data. Read-only: score on it instead of running the network again.
    """

    network: Network
    optimizer: Optimizer | FullBatchSolver
    optimizer_state: dict[str, Any]
    learning_rate: float
    base_learning_rate: float
    max_epochs: int
    X: Array
    y: Array
    sample_weight: Array | None = None
    X_val: Array | None = None
    y_val: Array | None = None
    epoch: int = 0
    history: History = field(default_factory=History)
    trainer: Trainer | None = None
    callbacks: list[Callback] = field(default_factory=list)
    val_output: Array | None = None


class Callback:
    """Base class: every hook does nothing.

    A callback with ``runs_last = True`` is called after the others at each hook, whatever
    its place in the list (a checkpoint, which saves what the others' hooks updated).
    """

    runs_last: bool = False

    if not TYPE_CHECKING:  # (hidden from type checkers: a misspelt attribute stays an error)

        def __getattr__(self, name: str) -> Any:
            # (only for names not found: Keras's callback attributes get a pointer)
            if name in ("model", "params"):
                raise KerasAttributeError(
                    f"{type(self).__name__}.{name}: deltarule callbacks have no self.{name} "
                    "(a Keras callback's); each hook is handed the run's TrainingState "
                    "instead: state.network is the network (Keras's self.model), "
                    "state.max_epochs, state.learning_rate and state.history the run's "
                    "settings and records. To stop training, return True or a reason from "
                    "on_epoch_end(record, state)."
                )
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Array]] | None:
        """Return the state that changes what later epochs do, for a checkpoint.

        Returns
        -------
        (data, tensors) or None
            ``data``: plain JSON-able values; ``tensors``: named arrays (saved as
            safetensors). None, the default, for a callback without such state.
        """
        return None

    def load_state_dict(self, data: dict[str, Any], tensors: dict[str, Array]) -> None:
        """Restore :meth:`state_dict` output; the next training run continues from it."""
        raise NotImplementedError(
            f"{type(self).__name__} returns a state_dict but cannot load one; write "
            "load_state_dict too."
        )

    def config(self) -> dict[str, Any]:
        """Return the JSON-able settings that a run resumed with this callback's state must
        share with the run that saved it (empty by default)."""
        return {}

    def on_train_begin(self, state: TrainingState) -> None:
        """Called once before the first epoch."""

    def on_epoch_begin(self, state: TrainingState) -> None:
        """Called before each epoch (``state.epoch`` epochs are done)."""

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | bool | None:
        """Called after each epoch; return a reason (a non-empty str) to stop, None (or
        ``""``) to go on.

        ``True`` also stops (the reason then names the callback: the Keras habit of
        ``model.stop_training = True``) and ``False`` goes on; any other value is an
        :class:`~deltarule.exceptions.InputError`.
        """
        return None

    def on_epoch_progress(
        self, seen: int, total: int, seconds: float, state: TrainingState
    ) -> None:
        """Called during an epoch that runs for more than a second, at most once a second
        (between batches, or runs of compiled steps): ``seen`` of its ``total`` examples
        trained on in ``seconds``. ``state.epoch`` epochs are done. For progress only: it
        cannot stop the run (Ctrl-C, or :class:`~deltarule.callbacks.TimeLimit`, can)."""

    def on_train_end(self, history: History, state: TrainingState) -> None:
        """Called once after the last epoch (also after a stop or an interruption)."""

    def resumed_stop(self, record: EpochRecord, state: TrainingState) -> str | bool | None:
        """Whether the run had stopped at ``record``, the last epoch of the checkpoint it is
        resumed from; answered as :meth:`on_epoch_end` answers (a reason, or True, stops).

        A checkpoint of a run's last epoch is also that of a run killed after it, before its
        end: a run resumed from it (:func:`deltarule.io.checkpoint.resume_trainer`) asks each
        callback, once every :meth:`on_train_begin` has run, and ends at once, as the
        uninterrupted run did, where one says so. The network holds that epoch's weights and
        ``state`` the run's data. A rule whose decision reads nothing but the epoch's record,
        the weights and the training data answers its own :meth:`on_epoch_end`
        (:class:`TargetError`, :class:`AllCorrect`, :class:`GradientNormBelow`);
        :class:`EarlyStopping` its restored count. The default, None: the run goes on.
        """
        return None

    def chunk_quiet(self, losses: Array, state: TrainingState) -> int | None:
        """How many of these epochs this callback lets pass quietly; None: it must see each.

        Online training (batch size 1) by plain SGD or momentum runs in compiled code, many
        epochs a call (a *chunk*), when every callback answers a number here (and there is no
        validation data); the callbacks hear of the epochs after they ran. ``losses`` holds
        the training loss of consecutive epochs, in order (``losses[i]`` is epoch
        ``state.epoch + i + 1``'s; the first call, before training, has none). Return the
        index of the first epoch this callback would act on — stop, change the learning
        rate or the weights, or read anything but its loss (the weights, say) — or
        ``len(losses)`` when it acts on none of them. The epochs before that one pass
        *quietly*: they get :meth:`on_quiet_epochs` instead of :meth:`on_epoch_end`. The
        run is cut at the first epoch any callback acts on: the weights are computed again
        up to its end, and it goes through :meth:`on_epoch_end` as in the plain loop (as
        does the last epoch of every chunk, and every epoch when the run is not chunked:
        write both hooks). For example, a rule that stops below a loss::

            def chunk_quiet(self, losses, state):
                below = np.flatnonzero(losses < self.limit)
                return int(below[0]) if below.size else len(losses)

        Must change nothing (the learning rate included): it is asked before the run knows
        which epochs it keeps, and asked again about the epochs up to the first one another
        callback acts on (an answer may depend on where the chunk ends: early stopping
        points at its last improvement before it, whose weights it keeps). The default
        answers ``len(losses)`` for a callback that overrides none of
        :meth:`on_epoch_begin`, :meth:`on_epoch_end` and :meth:`on_epoch_progress`
        (nothing to do per epoch), else None: the training loop
        then runs one epoch at a time with every hook called, as it does for a callback
        that overrides :meth:`on_epoch_begin` (it would run after the epoch it precedes).

        Returns
        -------
        int or None
            From 0 to ``len(losses)``; None when :meth:`on_epoch_end` must be called for
            every epoch.
        """
        per_epoch = any(
            getattr(type(self), hook) is not getattr(Callback, hook) for hook in _PER_EPOCH_HOOKS
        )
        return None if per_epoch else len(losses)

    def on_quiet_epochs(self, losses: Array, state: TrainingState) -> None:
        """Called, in place of :meth:`on_epoch_end`, for consecutive epochs that every
        callback's :meth:`chunk_quiet` let pass, with their training losses in order:
        bookkeeping only (returns None; a stop or a new rate belongs to the epoch
        :meth:`chunk_quiet` points at). ``state.history`` holds them and ``state.epoch`` is
        the last. Do not read ``state.network`` here: its weights are those of a later
        epoch (a callback that needs each epoch's weights answers None to
        :meth:`chunk_quiet`). Does nothing by default."""


_PER_EPOCH_HOOKS = ("on_epoch_begin", "on_epoch_end", "on_epoch_progress")
"""The hooks of a callback that does something every epoch (see Callback.chunk_quiet)."""

_BATCH_HOOKS = (
    "on_batch_begin",
    "on_batch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_test_begin",
    "on_test_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
    "on_predict_begin",
    "on_predict_end",
)


_SIGNATURES = {
    "on_train_begin": "on_train_begin(self, state)",
    "on_epoch_begin": "on_epoch_begin(self, state)",
    "on_epoch_end": "on_epoch_end(self, record, state)",
    "on_epoch_progress": "on_epoch_progress(self, seen, total, seconds, state)",
    "on_train_end": "on_train_end(self, history, state)",
}
_ALL_SIGNATURES = {
    **_SIGNATURES,
    "chunk_quiet": "chunk_quiet(self, losses, state)",
    "on_quiet_epochs": "on_quiet_epochs(self, losses, state)",
    "resumed_stop": "resumed_stop(self, record, state)",
}


def _unfit_hook(callback: Callback) -> tuple[str, str] | None:
    """The first hook of ``callback`` that cannot take the arguments deltarule passes it,
    and how the callback wrote it (``on_epoch_end(self, record)``, say), or None."""
    for hook, written in _ALL_SIGNATURES.items():
        method = getattr(type(callback), hook, None)
        if method is None or method is getattr(Callback, hook, None):
            continue
        try:
            signature = inspect.signature(getattr(callback, hook))
        except (TypeError, ValueError):  # (no signature to read)
            continue
        count = written.count(",")  # (the arguments after self)
        try:
            signature.bind(*([None] * count))
        except TypeError:
            return hook, f"{hook}(self, {str(signature)[1:]}"
    return None


def _keras_hook(callback: Callback) -> str | None:
    """The first hook of ``callback`` written with Keras's ``logs`` argument, or None."""
    for hook in _SIGNATURES:
        method = getattr(type(callback), hook, None)
        if method is None or method is getattr(Callback, hook):
            continue
        try:
            names = list(inspect.signature(method).parameters)
        except (TypeError, ValueError):  # (no signature to read)
            continue
        keras_epoch = hook in ("on_epoch_begin", "on_epoch_end") and names[1:2] == ["epoch"]
        if "logs" in names or keras_epoch:  # (Keras's on_epoch_end(self, epoch, logs=None))
            return f"{hook}({', '.join(names)})"
    return None


_HOOK_NAMES = (*_ALL_SIGNATURES, *_BATCH_HOOKS)
_CHECKED: weakref.WeakKeyDictionary[type, tuple[tuple[Any, ...], str | None]] = (
    weakref.WeakKeyDictionary()
)
"""class -> (weak references to its hooks, what is wrong or None): weak, so that a class made
in a function, its hooks' closures with it, is freed as it would be without the table."""


def check_hooks(callbacks: Sequence[Callback]) -> None:
    """Refuse a callback that defines Keras hooks deltarule never calls (they would be
    silently skipped): its callbacks run per epoch. Refuse one whose hooks take Keras's
    ``(epoch, logs)``: deltarule's take the epoch's record and the training state.

    Reading a hook's signature costs tens of microseconds, so what is found is kept per class
    and the hooks it has (a class given another hook is checked again). A callback whose
    instances may hold hooks of their own (in ``__dict__``, in slots, or found by a
    ``__getattr__`` or ``__getattribute__`` of its class) is checked each time."""
    for callback in callbacks:
        cls = type(callback)
        own = getattr(callback, "__dict__", {})
        if not _class_decides(cls) or any(name in own for name in _HOOK_NAMES):
            problem = _hook_problem(callback)
        else:
            kept = _CHECKED.get(cls)
            if kept is None or not _same_hooks(kept[0], cls):
                kept = _CHECKED[cls] = (_hook_refs(cls), _hook_problem(callback))
            problem = kept[1]
        if problem is not None:
            raise InputError(problem)


def _hook_refs(cls: type) -> tuple[Any, ...]:
    """Weak references to ``cls``'s hooks (None, or what takes no weak reference, as is)."""
    refs: list[Any] = []
    for name in _HOOK_NAMES:
        hook = getattr(cls, name, None)
        try:
            refs.append(weakref.ref(hook))
        except TypeError:
            refs.append(hook)
    return tuple(refs)


def _same_hooks(refs: tuple[Any, ...], cls: type) -> bool:
    """Whether ``cls``'s hooks are still those :func:`_hook_refs` found."""
    for ref, name in zip(refs, _HOOK_NAMES):
        hook = getattr(cls, name, None)
        if (ref() if isinstance(ref, weakref.ref) else ref) is not hook:
            return False
    return True


def _class_decides(cls: type) -> bool:
    """Whether ``cls`` alone says which hooks its instances have: no ``__getattr__`` but
    :class:`Callback`'s (which finds no hook), no ``__getattribute__`` of its own, no slot
    named as a hook."""
    if getattr(cls, "__getattr__", None) not in (None, getattr(Callback, "__getattr__", None)):
        return False
    if cls.__getattribute__ is not object.__getattribute__:
        return False
    for klass in cls.__mro__:
        slots = vars(klass).get("__slots__", ())
        if any(name in _HOOK_NAMES for name in ([slots] if isinstance(slots, str) else slots)):
            return False
    return True


def _hook_problem(callback: Callback) -> str | None:
    """What :func:`check_hooks` refuses ``callback`` for, or None."""
    keras = _keras_hook(callback)
    if keras is not None:
        return (
            f"callback {type(callback).__name__} defines {keras}, Keras's signature; "
            f"deltarule calls {', '.join(_SIGNATURES.values())}. In on_epoch_end, read "
            "the epoch's values from record (record.epoch, record.loss, "
            "record.get('val_loss'), record.get('accuracy')) where Keras reads logs, and "
            "the run from state (state.network is Keras's self.model). To stop training, "
            "return True or a reason (a string) from on_epoch_end, where Keras sets "
            "model.stop_training = True."
        )
    unfit = _unfit_hook(callback)
    if unfit is not None:
        hook, written = unfit
        return (
            f"callback {type(callback).__name__} defines {written}, which cannot take the "
            f"arguments deltarule passes: it calls {_ALL_SIGNATURES[hook]}. Write the hook "
            "with those parameters (see deltarule.callbacks.Callback)."
        )
    unknown = [name for name in _BATCH_HOOKS if callable(getattr(callback, name, None))]
    if unknown:
        return (
            f"callback {type(callback).__name__} defines {', '.join(unknown)}, which "
            "deltarule never calls: its callbacks run per epoch (on_train_begin, "
            "on_epoch_begin, on_epoch_end, on_train_end; on_epoch_progress about once a "
            "second in a long epoch). Move the work to on_epoch_end "
            "(return True or a reason there to stop training, where Keras sets "
            "model.stop_training)."
        )
    return None


def check_rate(rate: Any, who: str, epoch: int) -> float:
    """``rate``, a learning rate that ``who`` (a callback's hook, a schedule) set for epoch
    ``epoch`` (1-based), as a float; an InputError unless it is a finite number >= 0.

    ``fit(learning_rate=...)`` is checked when given (> 0); a rate a schedule or a callback
    sets is checked here, when it changes (a negative rate would train by gradient ascent).
    Zero is taken: it is where a cosine schedule ends (its ``min_lr`` defaults to 0, as
    PyTorch's and Keras's) and where a long exponential decay underflows; such an epoch
    leaves the weights as they are."""
    number = isinstance(rate, numbers.Real) and not isinstance(rate, bool)
    if number and math.isfinite(rate) and rate >= 0:
        return float(rate)
    raise InputError(
        f"{who} set the learning rate to {rate!r:.60} ({type(rate).__name__}) for epoch "
        f"{epoch}; a learning rate must be a finite number >= 0. Make it return (or set "
        "state.learning_rate to) a float >= 0, e.g. lr * 0.5."
    )


KERAS_QUIET = (
    "deltarule's callbacks print nothing themselves (Keras's verbose): the run's history "
    "records every epoch (history['learning_rate'], history.stop_reason, history.best_epoch), "
    "and fit(verbose=1) prints each epoch's line."
)
"""What a callback given Keras's ``verbose=`` says (:func:`deltarule._network_data.
keyword_checked`'s advice)."""
