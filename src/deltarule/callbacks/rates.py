"""Learning-rate callbacks: the rate each epoch uses, set from a schedule or a plateau.

:class:`LearningRateScheduler` sets the rate before each epoch from a function of the epoch
and the current rate (as Keras's; a :class:`deltarule.schedules.Schedule` is given the base
rate); :class:`ReduceLROnPlateau` feeds a monitored value to
:class:`deltarule.schedules.ReduceOnPlateau` and lowers the rate when it stops improving
(its counters are a state that a checkpoint saves).
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from .._network_data import keyword_checked
from .._typing import Array
from ..exceptions import InputError
from ..history import EpochRecord
from ._base import KERAS_QUIET, Callback, TrainingState, check_rate
from ._monitor import (
    _better,
    _canonical,
    _known_mode,
    _monitored,
    check_monitor,
    resolve_mode,
)


class LearningRateScheduler(Callback):
    """Set the learning rate before each epoch from ``schedule(epoch, lr)``, as Keras's.

    ``epoch`` is the 0-based index of the epoch about to run (counting the epochs of the
    run before it: a trainer's later fit, a resumed checkpoint) and ``lr`` the *current*
    learning rate, the one the last epoch used (the run's starting rate at its first):
    keras.io's ``lambda epoch, lr: lr if epoch < 10 else lr * math.exp(-0.1)`` from 0.01
    ends at 0.00607 after 15 epochs, as in Keras. A resumed run continues identically (the
    checkpoint holds the rate). A one-argument ``schedule(epoch)`` (Keras's older form) is
    called with the epoch alone.

    A :class:`deltarule.schedules.Schedule` (``StepDecay``, ``CosineDecay``, ...; what
    ``fit(schedule=...)`` passes) is a pure function of the epoch and the run's *base*
    rate, ``rate(epoch, base_lr)``, and is called with the base rate: to scale the base
    rate in a function of your own, write a ``Schedule`` subclass whose ``rate(epoch,
    base_lr)`` does it. A rate that is not a finite number >= 0 is an
    :class:`~deltarule.exceptions.InputError` naming the schedule and the epoch.

    Parameters
    ----------
    schedule : callable or Schedule
        ``schedule(epoch, lr) -> float`` or ``schedule(epoch) -> float``; a callable that
        can be called neither way is refused here, not when training has started.

    Examples
    --------
    >>> import math
    >>> from deltarule.callbacks import LearningRateScheduler
    >>> def scheduler(epoch, lr):
    ...     return lr if epoch < 10 else lr * math.exp(-0.1)
    >>> callback = LearningRateScheduler(scheduler)
    """

    @keyword_checked({"verbose": KERAS_QUIET})
    def __init__(self, schedule: Any) -> None:
        from ..schedules import ReduceOnPlateau, Schedule

        if isinstance(schedule, ReduceOnPlateau):  # it would never be told the monitored value
            raise InputError(
                "ReduceOnPlateau lowers the rate when a monitored value stops improving, which "
                "LearningRateScheduler never sees; use ReduceLROnPlateau(monitor, ...) as the "
                "callback, or pass it as fit(schedule=...)."
            )
        if isinstance(schedule, Schedule) and type(schedule).observe is not Schedule.observe:
            raise InputError(
                f"schedule {type(schedule).__name__} defines observe(value), but only "
                "ReduceOnPlateau (and its subclasses) is told the monitored value; a schedule "
                "is otherwise a pure function of the epoch, rate(epoch, base_lr), and its "
                "observe would never be called. A rate that follows the monitored values goes "
                "in a Callback whose on_epoch_end sets state.learning_rate (with state_dict "
                "and load_state_dict to checkpoint its counters), or in a ReduceOnPlateau "
                "subclass."
            )
        self.schedule = schedule
        self._given = "base" if isinstance(schedule, Schedule) else _arguments(schedule)

    def on_epoch_begin(self, state: TrainingState) -> None:
        epoch = state.epoch
        if self._given == "epoch":
            rate = self.schedule(epoch)
        else:
            now = state.base_learning_rate if self._given == "base" else state.learning_rate
            rate = self.schedule(epoch, now)
        name = getattr(self.schedule, "__name__", None) or type(self.schedule).__name__
        who = f"LearningRateScheduler's schedule {name}(epoch={epoch}, ...)"
        state.learning_rate = check_rate(rate, who, epoch + 1)


def _arguments(schedule: Any) -> str:
    """How ``schedule`` is called: "rate" as ``schedule(epoch, lr)``, "epoch" as
    ``schedule(epoch)`` (Keras's older form), read from its signature (a callable without
    one, a builtin's, is taken as the first); an InputError for a callable taking
    neither."""
    if not callable(schedule):
        raise InputError(
            "LearningRateScheduler needs a function schedule(epoch, lr) returning the "
            f"epoch's learning rate; received {type(schedule).__name__} {schedule!r:.60}. "
            "E.g. LearningRateScheduler(lambda epoch, lr: lr if epoch < 10 else lr * 0.9)."
        )
    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):  # (no signature to read: called as Keras calls it)
        return "rate"
    for arguments, form in (((0, 0.1), "rate"), ((0,), "epoch")):
        try:
            signature.bind(*arguments)
        except TypeError:
            continue
        if form == "rate":
            _warn_if_written_for_the_base_rate(schedule, signature)
        return form
    name = getattr(schedule, "__name__", None) or type(schedule).__name__
    raise InputError(
        f"LearningRateScheduler calls its schedule as schedule(epoch, lr) (the 0-based epoch "
        f"and the current learning rate), or schedule(epoch) as Keras does; {name}"
        f"{signature} can be called neither way. Write it as def {name}(epoch, lr): ... "
        "returning the epoch's rate."
    )


BASE_NAMES = ("base", "base_lr", "base_rate", "base_learning_rate", "initial_lr", "lr0")
"""Names of a schedule's second parameter that say it expects the run's base rate, as
deltarule's ``LearningRateScheduler`` gave it before it followed Keras."""


def _warn_if_written_for_the_base_rate(schedule: Any, signature: inspect.Signature) -> None:
    """Warn when ``schedule``'s second parameter is named for the base rate (the documented
    ``lambda epoch, base: base * 0.5**epoch`` of older versions): it is now given the
    current rate, as Keras gives it, and such a decay would compound."""
    from .._reports import user_stacklevel

    names = list(signature.parameters)
    if len(names) < 2 or names[1] not in BASE_NAMES:
        return
    import warnings

    warnings.warn(
        f"LearningRateScheduler calls schedule(epoch, lr) with the current learning rate, as "
        f"Keras does (older deltarule versions gave the base rate), but this schedule names "
        f"its rate {names[1]!r}: a decay of the base rate, such as {names[1]} * 0.5 ** epoch, "
        "now compounds. Write it on the current rate (lambda epoch, lr: lr * 0.5), or as a "
        "deltarule.schedules.Schedule subclass, whose rate(epoch, base_lr) is given the base "
        "rate; rename the parameter to lr to silence this.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    The rule (patience, min_delta, cooldown, min_lr) is
    :class:`deltarule.schedules.ReduceOnPlateau`; this callback feeds it the
    monitored value each epoch and applies its rate. Its ``patience`` counts as PyTorch's
    ``ReduceLROnPlateau`` does: the rate drops after ``patience + 1`` epochs without
    improvement (Keras's drops one epoch sooner: Keras's ``patience=3`` is ``patience=2``
    here).

    ``mode="auto"`` reads which way ``monitor`` improves as
    :class:`~deltarule.callbacks.EarlyStopping` does (a custom metric's
    ``greater_is_better`` included, when training begins).

    Each training run starts it afresh (best value, counters, reductions), as Keras does,
    its reductions scaling the rate the run starts with; a state loaded with
    :meth:`load_state_dict` (a resumed checkpoint) is kept through the next run's start.
    """

    @keyword_checked({"verbose": KERAS_QUIET,
                      "epsilon": "ReduceLROnPlateau's min_delta is Keras's old epsilon (the "
                      "smallest change that counts as an improvement): "
                      "ReduceLROnPlateau(min_delta=1e-4)."})  # fmt: skip
    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 1e-4,
        min_lr: float = 0.0,
        mode: str = "auto",
        cooldown: int = 0,
    ) -> None:
        from ..schedules import ReduceOnPlateau

        self.monitor = _canonical(monitor)
        # ("auto" for a custom metric: the plateau's mode is set when training begins)
        self._mode_setting = _better(mode, monitor)
        self.plateau = ReduceOnPlateau(
            factor=factor,
            patience=patience,
            min_delta=min_delta,
            min_lr=min_lr,
            mode="min" if self._mode_setting == "auto" else self._mode_setting,
            cooldown=cooldown,
        )
        self._mode_open = self._mode_setting == "auto"  # (until the run's metrics decide it)
        self._start_rate: float | None = None  # the rate the reductions scale (None: base)
        self._base_rate: float | None = None
        self._resumed = False

    @classmethod
    def from_schedule(cls, plateau: Any, monitor: str) -> ReduceLROnPlateau:
        """The callback that feeds ``plateau`` (a :class:`~deltarule.schedules.ReduceOnPlateau`)
        the value of ``monitor`` each epoch.

        Raises
        ------
        InputError
            If ``monitor`` is a loss or a registered metric that improves the other way than
            the plateau's mode says (it would lower the rate at every improvement).
        """
        known = _known_mode(monitor)
        if known is not None and known != plateau.mode:
            way = "rising" if known == "max" else "falling"
            raise InputError(
                f"{plateau!r} watches {monitor!r}, which improves by {way} (mode {known!r}), "
                f"so it would lower the learning rate whenever {monitor!r} improves. Pass "
                f"ReduceOnPlateau(..., mode={known!r}), or monitor another value."
            )
        callback = cls(monitor, mode=plateau.mode)
        callback.plateau = plateau
        return callback

    def _resolve_mode(self, state: TrainingState) -> None:
        """Set the plateau's mode from the run's metrics where ``mode="auto"`` left it open
        (a custom metric's ``greater_is_better``)."""
        who = "ReduceLROnPlateau"
        mode = resolve_mode(self._mode_setting, self.monitor, state, who, self)
        if self._mode_setting == "auto":
            self.plateau.mode = mode
        self._mode_open = False

    def on_train_begin(self, state: TrainingState) -> None:
        """Start the plateau afresh (as Keras does), its reductions scaling the rate this run
        starts with — unless a checkpoint's state was just loaded, which is kept."""
        check_monitor(self.monitor, state, "ReduceLROnPlateau")
        self._resolve_mode(state)
        self._base_rate = state.base_learning_rate
        if self._resumed:  # continuing a checkpointed run: keep the restored state
            self._resumed = False
            return
        self.plateau.load_state_dict({})
        self._start_rate = state.learning_rate

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        value = _monitored(record, self.monitor)
        if self._mode_open:  # (driven by hand, without on_train_begin)
            self._resolve_mode(state)
        if self.plateau.observe(value):
            start = state.base_learning_rate if self._start_rate is None else self._start_rate
            # (its rate, not a call, which refuses a base rate of 0: the rate a trainer's
            # later fit starts with is 0 after a schedule that ended there)
            state.learning_rate = float(self.plateau.rate(state.epoch, start))
        return None

    def state_dict(self) -> tuple[dict[str, Any], dict[str, Array]]:
        """Return the plateau's best value, counters and number of reductions
        (:meth:`ReduceOnPlateau.state_dict <deltarule.schedules.ReduceOnPlateau.state_dict>`),
        and ``start_learning_rate`` when the run started from another rate than the trainer's
        base rate (a trainer's later fit), which the reductions scale.

        The reduced rate itself is the trainer's (saved with its state)."""
        data = self.plateau.state_dict()
        if self._start_rate is not None and self._start_rate != self._base_rate:
            data["start_learning_rate"] = self._start_rate
        return data, {}

    def load_state_dict(self, data: dict[str, Any], tensors: dict[str, Array]) -> None:
        """Restore a :meth:`state_dict`; the next training run continues from it (its
        ``on_train_begin`` keeps the state instead of starting afresh)."""
        missing = {"best", "bad_epochs", "cooldown_left", "reductions"} - set(data)
        if missing:
            raise KeyError(f"no {', '.join(sorted(missing))}")
        start = data.get("start_learning_rate")
        ok = isinstance(start, (int, float)) and not isinstance(start, bool)
        if start is not None and not (ok and math.isfinite(start) and start >= 0):
            raise ValueError(f"start_learning_rate is {start!r}, not a rate >= 0")
        self.plateau.load_state_dict(data)
        self._start_rate = None if start is None else float(start)
        self._resumed = True

    def config(self) -> dict[str, Any]:
        """The monitored value and the plateau rule's settings."""
        config = {"monitor": self.monitor, **self.plateau.config()}
        if self._mode_setting == "auto":  # (the run's metric decides it: "auto" as given)
            config["mode"] = "auto"
        return config
