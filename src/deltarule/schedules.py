r"""Learning-rate schedules: the rate for each epoch, from the base rate.

A :class:`Schedule` is called as ``schedule(epoch, base_lr)`` before each epoch
(epochs are 0-based) and returns that epoch's learning rate :math:`\eta_e`.
All are pure functions of the epoch except :class:`ReduceOnPlateau`, which is
told the monitored value after each epoch through :meth:`Schedule.observe` and
keeps its counters in an explicit, JSON-able :meth:`~Schedule.state_dict`. Only it (and
its subclasses) is told the value: a schedule of your own is a pure :meth:`~Schedule.rate`,
and one that overrides ``observe`` is refused (a rate that follows the monitored values is
a :class:`~deltarule.callbacks.Callback` that sets ``state.learning_rate``).

Examples
--------
>>> sched = get_schedule("step", step_size=10, gamma=0.5)
>>> [sched(epoch, 0.1) for epoch in (0, 9, 10, 25)]
[0.1, 0.1, 0.05, 0.025]
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from ._validation import build, check_int, check_positive, finite_real, register
from .exceptions import InputError

__all__ = [
    "Schedule",
    "Constant",
    "StepDecay",
    "ExponentialDecay",
    "InverseScaling",
    "CosineDecay",
    "ReduceOnPlateau",
    "SCHEDULES",
    "constant",
    "step",
    "exponential",
    "inverse_scaling",
    "cosine",
    "get_schedule",
    "register_schedule",
    "schedule_from_config",
]


class Schedule:
    """Base class: ``schedule(epoch, base_lr) -> learning rate``.

    Subclasses set ``name`` (registry name) and ``hyperparameters`` (constructor
    arguments, all saved by :meth:`config`) and write :meth:`rate`.
    """

    name: ClassVar[str] = ""
    hyperparameters: ClassVar[tuple[str, ...]] = ()

    def __call__(self, epoch: int, base_lr: float) -> float:
        """Return the learning rate for ``epoch`` (0-based) given the base rate.

        Raises
        ------
        InputError
            If ``epoch`` is not an integer >= 0, or ``base_lr`` not a finite number > 0.
        """
        epoch = check_int(epoch, "epoch", minimum=0)
        if not (finite_real(base_lr) and base_lr > 0):
            raise InputError(
                f"base_lr must be a finite number > 0 (the rate the schedule scales, as "
                f"fit's learning_rate); received {type(base_lr).__name__} {base_lr!r:.60}. "
                "Pass the run's base learning rate as a float, e.g. schedule(epoch, 0.1)."
            )
        return float(self.rate(epoch, float(base_lr)))

    def rate(self, epoch: int, base_lr: float) -> float:
        """The schedule's formula; ``epoch`` and ``base_lr`` are already checked."""
        raise NotImplementedError

    def observe(self, value: float) -> bool:
        """Take the monitored value after an epoch; True if the rule just changed the rate
        (:class:`ReduceOnPlateau`: a reduction fell due, see its :meth:`~ReduceOnPlateau.observe`).

        Pure schedules ignore it and return False.
        """
        return False

    def state_dict(self) -> dict[str, Any]:
        """Return the schedule's mutable state (JSON-able); empty for pure schedules."""
        return {}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore the state from :meth:`state_dict`."""

    def config(self) -> dict[str, Any]:
        """Return the JSON-able hyper-parameters, with ``"name"``, to rebuild this schedule."""
        return {"name": self.name, **{key: getattr(self, key) for key in self.hyperparameters}}

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.config() == other.config()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={getattr(self, key)!r}" for key in self.hyperparameters)
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    r"""The base rate at every epoch: :math:`\eta_e = \eta_0`."""

    name = "constant"

    def rate(self, epoch: int, base_lr: float) -> float:
        return base_lr


class StepDecay(Schedule):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs (``torch`` ``StepLR``).

    .. math:: \eta_e = \eta_0\, \gamma^{\lfloor e / s \rfloor}

    Parameters
    ----------
    step_size : int
        Epochs :math:`s \ge 1` between decays.
    gamma : float, default=0.1
        Factor :math:`\gamma > 0`.
    """

    name = "step"
    hyperparameters = ("step_size", "gamma")

    def __init__(self, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = check_int(step_size, "step_size", minimum=1)
        self.gamma = check_positive(gamma, "gamma")

    def rate(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Schedule):
    r"""Multiply the rate by ``gamma`` every epoch (``torch`` ``ExponentialLR``).

    .. math:: \eta_e = \eta_0\, \gamma^{e}

    Parameters
    ----------
    gamma : float
        Factor :math:`\gamma > 0` (below 1 to decay).
    """

    name = "exponential"
    hyperparameters = ("gamma",)

    def __init__(self, gamma: float) -> None:
        self.gamma = check_positive(gamma, "gamma")

    def rate(self, epoch: int, base_lr: float) -> float:
        return base_lr * self.gamma**epoch


class InverseScaling(Schedule):
    r"""Scikit-learn's ``invscaling``, counted in epochs.

    .. math:: \eta_e = \frac{\eta_0}{(e + 1)^{p}}

    Parameters
    ----------
    power_t : float, default=0.5
        Exponent :math:`p \ge 0`.
    """

    name = "inverse_scaling"
    hyperparameters = ("power_t",)

    def __init__(self, power_t: float = 0.5) -> None:
        self.power_t = check_positive(power_t, "power_t", allow_zero=True)

    def rate(self, epoch: int, base_lr: float) -> float:
        return base_lr / (epoch + 1) ** self.power_t


class CosineDecay(Schedule):
    r"""Linear warm-up, then a half cosine from the base rate down to ``min_lr``.

    With :math:`w` warm-up epochs and :math:`T` total epochs:

    .. math::
        \eta_e = \begin{cases}
            \eta_0\, \dfrac{e + 1}{w + 1} & e < w \\[1ex]
            \eta_{\min} + (\eta_0 - \eta_{\min})\,
                \dfrac{1 + \cos\bigl(\pi \min(1, \tfrac{e - w}{T - w})\bigr)}{2} & e \ge w
        \end{cases}

    The ramp rises from 0 (before epoch 0, so no epoch is wasted at rate 0) to
    :math:`\eta_0` at epoch :math:`w`, as ``torch`` ``LinearLR`` with
    ``start_factor=1/(w+1)``; the cosine is ``torch`` ``CosineAnnealingLR`` with
    ``T_max = T - w``, and stays at :math:`\eta_{\min}` past epoch :math:`T`.
    Loshchilov & Hutter (2017), "SGDR: Stochastic gradient descent with warm
    restarts", ICLR (one cycle, no restart).

    Parameters
    ----------
    total_epochs : int
        :math:`T \ge 1`, the epoch at which the rate reaches ``min_lr``.
    warmup_epochs : int, default=0
        :math:`0 \le w < T`.
    min_lr : float, default=0.0
        Final rate :math:`\eta_{\min} \ge 0`.
    """

    name = "cosine"
    hyperparameters = ("total_epochs", "warmup_epochs", "min_lr")

    def __init__(self, total_epochs: int, warmup_epochs: int = 0, min_lr: float = 0.0) -> None:
        self.total_epochs = check_int(total_epochs, "total_epochs", minimum=1)
        self.warmup_epochs = check_int(warmup_epochs, "warmup_epochs", minimum=0)
        self.min_lr = check_positive(min_lr, "min_lr", allow_zero=True)
        if self.warmup_epochs >= self.total_epochs:
            raise InputError(
                f"warmup_epochs={warmup_epochs!r} must be less than total_epochs="
                f"{total_epochs!r}; shorten the warm-up or train for longer."
            )

    def rate(self, epoch: int, base_lr: float) -> float:
        w = self.warmup_epochs
        if epoch < w:
            return base_lr * (epoch + 1) / (w + 1)
        progress = min(1.0, (epoch - w) / (self.total_epochs - w))
        return self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2


class ReduceOnPlateau(Schedule):
    r"""Divide the rate by ``1/factor`` when a monitored value stops improving.

    After each epoch, :meth:`observe` gets the monitored value :math:`x` (e.g.
    the validation loss). In ``"min"`` mode it improves when
    :math:`x < x_{\text{best}} - \delta` (``"max"``: :math:`x > x_{\text{best}} + \delta`).
    When more than ``patience`` epochs in a row have not improved, the rate is
    reduced, and the next ``cooldown`` epochs are not counted:

    .. math:: \eta_e = \min\bigl(\eta_0, \max(\eta_0 \cdot \text{factor}^{k}, \eta_{\min})\bigr)
              \quad\text{after } k \ge 1 \text{ reductions } (\eta_e = \eta_0 \text{ for } k = 0)

    A reduction never raises the rate: a base rate at or below ``min_lr`` is kept, as
    PyTorch applies a reduction only when it lowers the rate and Keras only reduces a rate
    above ``min_lr``.

    These are ``torch.optim.lr_scheduler.ReduceLROnPlateau``'s rules with
    ``threshold_mode="abs"`` (Keras's ``min_delta``) and ``eps=0`` (PyTorch's default
    ``eps=1e-8`` skips a reduction that would change the rate by less than that, so its
    rates stop falling near 1e-8 where these go on); note ``patience`` counts as in
    PyTorch: Keras reduces one epoch earlier.

    Parameters
    ----------
    factor : float, default=0.1
        Multiplier in (0, 1) applied at each reduction.
    patience : int, default=10
        Epochs without improvement tolerated before a reduction.
    min_delta : float, default=1e-4
        Smallest change :math:`\delta \ge 0` that counts as an improvement.
    min_lr : float, default=0.0
        Floor :math:`\eta_{\min} \ge 0` of the reduced rate (a base rate at or below it
        is never reduced, nor raised to it).
    mode : {"min", "max"}, default="min"
        Whether the monitored value should fall (a loss) or rise (an accuracy).
    cooldown : int, default=0
        Epochs after a reduction during which bad epochs are not counted.
    """

    name = "reduce_on_plateau"
    hyperparameters = ("factor", "patience", "min_delta", "min_lr", "mode", "cooldown")

    def __init__(
        self,
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 1e-4,
        min_lr: float = 0.0,
        mode: str = "min",
        cooldown: int = 0,
    ) -> None:
        self.factor = check_positive(factor, "factor")
        if self.factor >= 1:
            raise InputError(f"factor must be in (0, 1) to reduce the rate; received {factor!r}.")
        self.patience = check_int(patience, "patience", minimum=0)
        self.min_delta = check_positive(min_delta, "min_delta", allow_zero=True)
        self.min_lr = check_positive(min_lr, "min_lr", allow_zero=True)
        if mode not in ("min", "max"):
            raise InputError(
                f"mode must be 'min' (for a loss) or 'max' (for an accuracy); received {mode!r}."
            )
        self.mode = mode
        self.cooldown = check_int(cooldown, "cooldown", minimum=0)
        self.load_state_dict({})

    def observe(self, value: float) -> bool:
        """Take the monitored value after an epoch; return True if a reduction just fell due.

        A reduction falls due when more than ``patience`` epochs in a row (outside a
        cooldown) have not improved; it is counted in ``reductions``, the bad epochs are
        reset and the cooldown starts, as PyTorch resets its counters whether or not the
        rate changes. The rate then falls, unless it is at ``min_lr`` already (or the base
        rate is at or below it): this method does not see the rate, so compare
        ``schedule(epoch, base_lr)`` before and after to know whether it changed.
        """
        value = float(value)
        if self.mode == "min":
            best = math.inf if self.best is None else self.best
            improved = value < best - self.min_delta
        else:
            best = -math.inf if self.best is None else self.best
            improved = value > best + self.min_delta
        if improved:
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0
        if self.bad_epochs > self.patience:
            self.reductions += 1
            self.cooldown_left, self.bad_epochs = self.cooldown, 0
            return True
        return False

    def rate(self, epoch: int, base_lr: float) -> float:
        if self.reductions == 0 or base_lr <= self.min_lr:  # (a reduction never raises it)
            return base_lr
        return max(base_lr * self.factor**self.reductions, self.min_lr)

    def state_dict(self) -> dict[str, Any]:
        """Return ``best`` (None before the first value), the counters and ``reductions``."""
        return {
            "best": self.best,
            "bad_epochs": self.bad_epochs,
            "cooldown_left": self.cooldown_left,
            "reductions": self.reductions,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` output; missing keys take their fresh values."""
        best = state.get("best")
        self.best: float | None = None if best is None else float(best)
        self.bad_epochs = int(state.get("bad_epochs", 0))
        self.cooldown_left = int(state.get("cooldown_left", 0))
        self.reductions = int(state.get("reductions", 0))


def constant() -> Constant:
    """The base rate at every epoch."""
    return Constant()


def step(step_size: int, gamma: float = 0.1) -> StepDecay:
    """Multiply the rate by ``gamma`` every ``step_size`` epochs (:class:`StepDecay`)."""
    return StepDecay(step_size, gamma)


def exponential(gamma: float) -> ExponentialDecay:
    """Multiply the rate by ``gamma`` every epoch (:class:`ExponentialDecay`)."""
    return ExponentialDecay(gamma)


def inverse_scaling(power_t: float = 0.5) -> InverseScaling:
    """``base_lr / (epoch + 1) ** power_t`` (:class:`InverseScaling`)."""
    return InverseScaling(power_t)


def cosine(total_epochs: int, warmup_epochs: int = 0, min_lr: float = 0.0) -> CosineDecay:
    """Linear warm-up, then cosine decay to ``min_lr`` (:class:`CosineDecay`)."""
    return CosineDecay(total_epochs, warmup_epochs, min_lr)


SCHEDULES: dict[str, type[Schedule]] = {
    "constant": Constant,
    "step": StepDecay,
    "exponential": ExponentialDecay,
    "inverse_scaling": InverseScaling,
    "invscaling": InverseScaling,
    "cosine": CosineDecay,
    "reduce_on_plateau": ReduceOnPlateau,
    "plateau": ReduceOnPlateau,
}
"""The registry: name -> schedule class. Aliases map to the same class."""


_ScheduleClassT = TypeVar("_ScheduleClassT", bound="type[Schedule]")


def register_schedule(
    cls: _ScheduleClassT, *, aliases: tuple[str, ...] = (), overwrite: bool = False
) -> _ScheduleClassT:
    """Add a :class:`Schedule` subclass to :data:`SCHEDULES` under ``cls.name`` (and
    ``aliases``), lower-cased, so that ``fit(schedule=name)`` builds it.

    Raises
    ------
    InputError
        If ``cls`` is not a Schedule subclass with a name, a name is not a non-empty string
        without spaces or commas, or a name is taken and ``overwrite`` is False.
    """
    if not (isinstance(cls, type) and issubclass(cls, Schedule) and cls.name):
        raise InputError(
            f"register_schedule expects a Schedule subclass with a name; received {cls!r}."
        )
    register(SCHEDULES, cls, cls.name, aliases, "schedule", overwrite)
    return cls


def get_schedule(schedule: str | Schedule, **kwargs: Any) -> Schedule:
    """Return a schedule built from a registry name and hyper-parameters, or the object itself.

    Examples
    --------
    >>> get_schedule("cosine", total_epochs=100, warmup_epochs=5)
    CosineDecay(total_epochs=100, warmup_epochs=5, min_lr=0.0)
    """
    if callable(schedule) and not isinstance(schedule, (str, Schedule)):
        raise InputError(
            f"a schedule must be given by name (a string) or as a Schedule object; received "
            f"the function {getattr(schedule, '__name__', type(schedule).__name__)}. A "
            "function of (epoch, lr) goes in a callback: callbacks=["
            "LearningRateScheduler(fn)] (from deltarule.callbacks), which sets each epoch's "
            "rate to fn(epoch, lr), lr the current rate (as Keras's)."
        )
    if isinstance(schedule, str) and schedule in SCHEDULES:
        _require_hyperparameters(schedule, SCHEDULES[schedule], kwargs)
    return build(SCHEDULES, schedule, Schedule, "schedule", kwargs)


def _require_hyperparameters(name: str, cls: type, kwargs: Mapping[str, Any]) -> None:
    """Refuse a schedule named ``name`` without a hyper-parameter it cannot do without,
    showing how to pass it."""
    if set(kwargs) - set(getattr(cls, "hyperparameters", ())):
        return  # (an unknown one, perhaps misspelt: build names it)
    missing = [
        parameter.name
        for parameter in inspect.signature(cls).parameters.values()
        if parameter.default is inspect.Parameter.empty and parameter.name not in kwargs
    ]
    if missing:
        values = ", ".join(f"{key}=..." for key in missing)
        raise InputError(
            f"schedule {name!r} is missing a required hyper-parameter, "
            f"{' and '.join(missing)}, which a name alone does not give. Pass "
            f"schedule={cls.__name__}({values}) (from {cls.__module__}) or "
            f"get_schedule({name!r}, {values})."
        )


def schedule_from_config(config: Mapping[str, Any]) -> Schedule:
    """Rebuild a schedule from :meth:`Schedule.config` output."""
    if not isinstance(config, Mapping) or not isinstance(config.get("name"), str):
        raise InputError(
            f"a schedule config must be a mapping with a 'name' string, as returned by "
            f"Schedule.config(); received {config!r}."
        )
    kwargs = dict(config)
    return get_schedule(kwargs.pop("name"), **kwargs)
