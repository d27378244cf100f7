r"""Optimizers: update rules over the flat parameter vector, with explicit state.

An optimizer sees only the flat parameter buffer :math:`\theta`, its gradient
:math:`g = \partial E/\partial\theta` (same shape) and a state dict it made
with :meth:`Optimizer.init` (optax's init/update pair; PyTorch's functional
optimizers). It knows nothing of layers, schedules or stopping. A step updates
``params`` and ``state`` **in place**, so the network's per-layer views into the
buffer stay valid, and the common rules allocate nothing once warm: they work
with ``out=`` ufuncs in a preallocated ``state["scratch"]``.

State values are NumPy arrays mirroring ``params`` (same shape and dtype), ints
and floats only, so a checkpoint stores them as named tensors plus JSON.
``state["step"]`` counts the updates made. Every rule keeps the dtype of
``params``: float32 in, float32 out.

Examples
--------
>>> import numpy as np
>>> opt = get_optimizer("sgd", learning_rate=0.1)
>>> theta = np.array([1.0, -2.0])
>>> state = opt.init(theta)
>>> opt.update(theta, 2 * theta, state)  # gradient of |theta|^2
>>> theta
array([ 0.8, -1.6])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from . import _compiled, _memory
from ._typing import Array
from ._validation import build, check_fraction, check_positive, register
from .exceptions import InputError

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "Nesterov",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "IRpropPlus",
    "IRpropMinus",
    "OPTIMIZERS",
    "get_optimizer",
    "optimizer_from_config",
    "register_optimizer",
]


class Optimizer:
    """Base class: an update rule ``update(params, grad, state)`` with state from ``init``.

    Subclasses set ``name`` (registry name), ``hyperparameters`` (constructor
    arguments, all saved by :meth:`config`) and ``state_arrays`` (the state
    buffers, each shaped like ``params``), and write :meth:`update`.
    """

    name: ClassVar[str] = ""
    hyperparameters: ClassVar[tuple[str, ...]] = ("learning_rate",)
    state_arrays: ClassVar[tuple[str, ...]] = ("scratch",)
    step_rule: ClassVar[str | None] = None
    """None when the learning rate sizes the steps; else how the rule sizes them (said when
    the trainer refuses a learning rate or schedule it would ignore: iRprop)."""
    learning_rate: float

    def init(self, params: Array) -> dict[str, Any]:
        """Return fresh state: zero arrays shaped like ``params`` and ``"step": 0``."""
        state: dict[str, Any] = {"step": 0}
        for key in self.state_arrays:
            state[key] = _memory.zeros(params.size, params.dtype).reshape(params.shape)
        return state

    def update(
        self,
        params: Array,
        grad: Array,
        state: dict[str, Any],
        learning_rate: float | None = None,
        loss: float | None = None,
    ) -> None:
        """Make one step, in place on ``params`` and ``state``.

        Parameters
        ----------
        params : ndarray of shape (n_parameters,)
            The flat parameter buffer; overwritten with the updated values.
        grad : ndarray of shape (n_parameters,)
            :math:`\\partial E/\\partial\\theta` at ``params``; left unchanged.
        state : dict
            The optimizer state from :meth:`init`; updated in place.
        learning_rate : float, optional
            This step's learning rate (from a schedule); None means ``self.learning_rate``.
        loss : float, optional
            The batch error at ``params``; only iRprop+ uses it.
        """
        raise NotImplementedError

    def update_and_accumulate(
        self,
        params: Array,
        grad: Array,
        state: dict[str, Any],
        learning_rate: float | None,
        loss: float | None,
        total: Array,
    ) -> None:
        """:meth:`update`, then ``total += grad`` (the training loop's running gradient sum).

        A rule with a fused kernel overrides this to do both in one pass over memory.
        """
        self.update(params, grad, state, learning_rate, loss)
        np.add(total, grad, out=total)

    def is_plain_sgd(self) -> bool:
        r"""True when a step is exactly :math:`\theta \leftarrow \theta - \eta g` (the delta
        rule), so that code may apply it without calling :meth:`update`."""
        return False

    def config(self) -> dict[str, Any]:
        """Return the JSON-able hyper-parameters, with ``"name"``, to rebuild this optimizer."""
        return {"name": self.name, **{key: getattr(self, key) for key in self.hyperparameters}}

    def _rate(self, learning_rate: float | None) -> float:
        # A Python float keeps float32 buffers float32 (NumPy 2 weak scalars).
        return float(self.learning_rate if learning_rate is None else learning_rate)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.config() == other.config()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable hyper-parameters

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={getattr(self, key)!r}" for key in self.hyperparameters)
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    r"""Plain gradient descent, the delta rule.

    .. math:: \theta \leftarrow \theta - \eta\, g

    Widrow & Hoff (1960), "Adaptive switching circuits"; for multi-layer
    networks, Rumelhart, Hinton & Williams (1986), "Learning representations by
    back-propagating errors", Nature 323, 533-536.

    Parameters
    ----------
    learning_rate : float, default=0.01
        Step size :math:`\eta > 0`.
    """

    name = "sgd"

    def __init__(self, learning_rate: float = 0.01) -> None:
        self.learning_rate = check_positive(learning_rate, "learning_rate")

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:
        step = np.multiply(grad, self._rate(learning_rate), out=state["scratch"])
        np.subtract(params, step, out=params)
        state["step"] += 1

    def is_plain_sgd(self) -> bool:
        return type(self).update is SGD.update  # a subclass may change the rule


class Momentum(Optimizer):
    r"""Gradient descent with classical (heavy-ball) momentum, PyTorch's convention.

    .. math::
        v &\leftarrow \mu\, v + g \\
        \theta &\leftarrow \theta - \eta\, v

    with :math:`v_0 = 0`. The learning rate multiplies the whole velocity (as in
    ``torch.optim.SGD``), not each gradient as it enters it (Sutskever et al.'s
    :math:`v \leftarrow \mu v - \eta g`); the two agree while :math:`\eta` is constant.

    Polyak (1964), "Some methods of speeding up the convergence of iteration
    methods"; Rumelhart, Hinton & Williams (1986).

    Parameters
    ----------
    learning_rate : float, default=0.01
        Step size :math:`\eta > 0`.
    momentum : float, default=0.9
        Velocity decay :math:`\mu \in [0, 1)`.
    """

    name = "momentum"
    hyperparameters = ("learning_rate", "momentum")
    state_arrays = ("velocity", "scratch")

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.9) -> None:
        self.learning_rate = check_positive(learning_rate, "learning_rate")
        self.momentum = check_fraction(momentum, "momentum")

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:
        velocity = state["velocity"]
        np.multiply(velocity, self.momentum, out=velocity)
        np.add(velocity, grad, out=velocity)
        step = np.multiply(velocity, self._rate(learning_rate), out=state["scratch"])
        np.subtract(params, step, out=params)
        state["step"] += 1


class Nesterov(Momentum):
    r"""Gradient descent with Nesterov momentum, in PyTorch's formulation.

    .. math::
        v &\leftarrow \mu\, v + g \\
        \theta &\leftarrow \theta - \eta\, (g + \mu\, v)

    with :math:`v_0 = 0`: the step looks ahead along the updated velocity.

    Nesterov (1983), "A method for solving the convex programming problem with
    convergence rate O(1/k^2)"; this form is from Bengio, Boulanger-Lewandowski
    & Pascanu (2013), "Advances in optimizing recurrent networks", and Sutskever,
    Martens, Dahl & Hinton (2013), "On the importance of initialization and
    momentum in deep learning".

    Parameters
    ----------
    learning_rate : float, default=0.01
        Step size :math:`\eta > 0`.
    momentum : float, default=0.9
        Velocity decay :math:`\mu \in [0, 1)`.
    """

    name = "nesterov"  # Momentum's hyper-parameters, state and constructor

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:
        velocity, step = state["velocity"], state["scratch"]
        np.multiply(velocity, self.momentum, out=velocity)
        np.add(velocity, grad, out=velocity)
        np.multiply(velocity, self.momentum, out=step)
        np.add(step, grad, out=step)
        np.multiply(step, self._rate(learning_rate), out=step)
        np.subtract(params, step, out=params)
        state["step"] += 1


class Adam(Optimizer):
    r"""Adam: steps scaled by running first and second moments of the gradient.

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1-\beta_2)\, g^2 \\
        \theta &\leftarrow \theta - \eta\,
            \frac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \epsilon}

    with :math:`m_0 = v_0 = 0` and :math:`t` the step number (1 at the first
    step): the bias corrections undo the pull of the zero start.

    Kingma & Ba (2015), "Adam: A method for stochastic optimization", ICLR,
    Algorithm 1.

    Parameters
    ----------
    learning_rate : float, default=0.001
        Step size :math:`\eta > 0`.
    beta_1, beta_2 : float, default=0.9, 0.999
        Moment decays, each in [0, 1).
    epsilon : float, default=1e-8
        :math:`\epsilon > 0`, added to the root, guards the division.
    """

    name = "adam"
    hyperparameters = ("learning_rate", "beta_1", "beta_2", "epsilon")
    state_arrays = ("first_moment", "second_moment", "scratch")

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        self.learning_rate = check_positive(learning_rate, "learning_rate")
        self.beta_1 = check_fraction(beta_1, "beta_1")
        self.beta_2 = check_fraction(beta_2, "beta_2")
        self.epsilon = check_positive(epsilon, "epsilon")

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:
        state["step"] += 1
        _adam_step(self, params, grad, state, self._rate(learning_rate))

    def update_and_accumulate(self, params, grad, state, learning_rate, loss, total) -> None:
        if type(self).update is not Adam.update:  # a subclass changed the rule: honour it
            super().update_and_accumulate(params, grad, state, learning_rate, loss, total)
            return
        state["step"] += 1
        _adam_step(self, params, grad, state, self._rate(learning_rate), total)


def _adam_step(
    opt: Adam | AdamW, params: Array, grad: Array, state: dict, rate: float,
    total: Array | None = None,
) -> None:  # fmt: skip
    """The moment updates and the bias-corrected step shared by Adam and AdamW.

    With ``total``, also ``total += grad`` (in the same pass when compiled).
    """
    m, v, work = state["first_moment"], state["second_moment"], state["scratch"]
    eps_c, k, flush = _adam_constants(opt, state["step"], rate)
    if _compiled.worth_it(params.size, _compiled.FUSED_MIN_SIZE):
        bound = _flush_bound(params.dtype) if flush else 0.0
        _compiled.fused_adam(params, grad, m, v, opt.beta_1, opt.beta_2, eps_c, k, bound, total)
        return
    _adam_passes(opt, params, grad, m, v, work, eps_c, k)
    if flush:
        _flush_subnormal(m, work)
        _flush_subnormal(v, work)
    if total is not None:
        np.add(total, grad, out=total)


def _adam_constants(opt: Adam | AdamW, t: int, rate: float) -> tuple[float, float, bool]:
    r"""Step ``t``'s folded constants ``(eps_c, k)``, and whether it flushes subnormal moments.

    With :math:`c = \sqrt{1 - \beta_2^t}` and :math:`b = 1 - \beta_1^t`,
    :math:`\hat m / (\sqrt{\hat v} + \epsilon) = m / (\sqrt v + \epsilon c) \cdot c / b`: no
    :math:`\hat m` or :math:`\hat v` buffer, and the constants fold into one factor
    :math:`k = \eta c / b`.
    """
    c = (1.0 - opt.beta_2**t) ** 0.5
    return opt.epsilon * c, rate * c / (1.0 - opt.beta_1**t), t % _FLUSH_EVERY == 0


def _adam_passes(
    opt: Adam | AdamW, params: Array, grad: Array, m: Array, v: Array, work: Array,
    eps_c: float, k: float,
) -> None:  # fmt: skip
    """The Adam step as NumPy passes over the flat vectors (no allocation)."""
    np.multiply(m, opt.beta_1, out=m)
    np.add(m, np.multiply(grad, 1.0 - opt.beta_1, out=work), out=m)
    np.multiply(v, opt.beta_2, out=v)
    np.multiply(grad, grad, out=work)
    np.add(v, np.multiply(work, 1.0 - opt.beta_2, out=work), out=v)
    np.sqrt(v, out=work)
    np.add(work, eps_c, out=work)
    np.divide(m, work, out=work)
    np.multiply(work, k, out=work)
    np.subtract(params, work, out=params)


_FLUSH_EVERY = 16


def _flush_bound(dtype: np.dtype) -> Any:
    """The magnitude below which :func:`_flush_subnormal` zeroes a moment."""
    return dtype.type(np.finfo(dtype).tiny * 1024)


def _flush_subnormal(array: Array, work: Array) -> None:
    """Set entries below the smallest normal number (x1024) to zero, in place, via ``work``.

    The moments of weights whose gradient stays 0 (dead ReLU units) decay into
    subnormal numbers, with which every later step computes several times slower;
    a flush every few steps keeps them out for three passes and no allocation.
    """
    np.abs(array, out=work)
    np.subtract(work, _flush_bound(array.dtype), out=work)
    np.heaviside(work, array.dtype.type(1), out=work)  # 1 where |x| >= the bound, else 0
    np.multiply(array, work, out=array)


class AdamW(Optimizer):
    r"""AdamW: Adam with decoupled weight decay, PyTorch's convention.

    .. math::
        \theta &\leftarrow \theta - \eta\lambda\,\theta \\
        m &\leftarrow \beta_1 m + (1-\beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1-\beta_2)\, g^2 \\
        \theta &\leftarrow \theta - \eta\,
            \frac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \epsilon}

    The decay shrinks the weights directly, outside the adaptive scaling (an L2
    term in the loss would be divided by :math:`\sqrt{v}` too). As in
    ``torch.optim.AdamW`` it is scaled by the current learning rate :math:`\eta`.

    Loshchilov & Hutter (2019), "Decoupled weight decay regularization", ICLR.

    Parameters
    ----------
    learning_rate : float, default=0.001
        Step size :math:`\eta > 0`.
    beta_1, beta_2 : float, default=0.9, 0.999
        Moment decays, each in [0, 1).
    epsilon : float, default=1e-8
        :math:`\epsilon > 0`, added to the root, guards the division.
    weight_decay : float, default=0.01
        Decoupled decay rate :math:`\lambda \ge 0`.
    """

    name = "adamw"
    hyperparameters = ("learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay")
    state_arrays = ("first_moment", "second_moment", "scratch")

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        self.learning_rate = check_positive(learning_rate, "learning_rate")
        self.beta_1 = check_fraction(beta_1, "beta_1")
        self.beta_2 = check_fraction(beta_2, "beta_2")
        self.epsilon = check_positive(epsilon, "epsilon")
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:
        rate = self._rate(learning_rate)
        np.multiply(params, 1.0 - rate * self.weight_decay, out=params)
        state["step"] += 1
        _adam_step(self, params, grad, state, rate)


class RMSprop(Optimizer):
    r"""RMSprop: steps divided by a running root-mean-square of the gradient.

    .. math::
        v &\leftarrow \rho\, v + (1-\rho)\, g^2 \\
        \theta &\leftarrow \theta - \eta\, \frac{g}{\sqrt{v} + \epsilon}

    with :math:`v_0 = 0`. Conventions: :math:`\rho = 0.9` as in the lecture and
    Keras (``torch.optim.RMSprop`` calls it ``alpha``, default 0.99);
    :math:`\epsilon = 10^{-7}` as in Keras, but placed outside the root as in
    PyTorch (Keras 3 adds it under the root).

    Tieleman & Hinton (2012), Lecture 6.5, "rmsprop: Divide the gradient by a
    running average of its recent magnitude", Coursera: Neural Networks for
    Machine Learning.

    Parameters
    ----------
    learning_rate : float, default=0.001
        Step size :math:`\eta > 0`.
    rho : float, default=0.9
        Decay of the squared-gradient average, in [0, 1).
    epsilon : float, default=1e-7
        :math:`\epsilon > 0`, guards the division.
    """

    name = "rmsprop"
    hyperparameters = ("learning_rate", "rho", "epsilon")
    state_arrays = ("mean_square", "scratch")

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, epsilon: float = 1e-7):
        self.learning_rate = check_positive(learning_rate, "learning_rate")
        self.rho = check_fraction(rho, "rho")
        self.epsilon = check_positive(epsilon, "epsilon")

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:
        v, work = state["mean_square"], state["scratch"]
        np.multiply(v, self.rho, out=v)
        np.multiply(grad, grad, out=work)
        np.add(v, np.multiply(work, 1.0 - self.rho, out=work), out=v)
        np.sqrt(v, out=work)
        np.add(work, self.epsilon, out=work)
        np.divide(grad, work, out=work)
        np.multiply(work, self._rate(learning_rate), out=work)
        np.subtract(params, work, out=params)
        state["step"] += 1


class Adagrad(Optimizer):
    r"""Adagrad: steps divided by the root of the summed squared gradients.

    .. math::
        s &\leftarrow s + g^2 \\
        \theta &\leftarrow \theta - \eta\, \frac{g}{\sqrt{s} + \epsilon}

    with :math:`s_0` = ``initial_accumulator_value`` (0, as PyTorch).

    Duchi, Hazan & Singer (2011), "Adaptive subgradient methods for online
    learning and stochastic optimization", JMLR 12, 2121-2159.

    Parameters
    ----------
    learning_rate : float, default=0.01
        Step size :math:`\eta > 0`.
    epsilon : float, default=1e-10
        :math:`\epsilon > 0`, guards the division.
    initial_accumulator_value : float, default=0.0
        Starting value :math:`s_0 \ge 0` of the sum.
    """

    name = "adagrad"
    hyperparameters = ("learning_rate", "epsilon", "initial_accumulator_value")
    state_arrays = ("sum_of_squares", "scratch")

    def __init__(
        self,
        learning_rate: float = 0.01,
        epsilon: float = 1e-10,
        initial_accumulator_value: float = 0.0,
    ) -> None:
        self.learning_rate = check_positive(learning_rate, "learning_rate")
        self.epsilon = check_positive(epsilon, "epsilon")
        self.initial_accumulator_value = check_positive(
            initial_accumulator_value, "initial_accumulator_value", allow_zero=True
        )

    def init(self, params: Array) -> dict[str, Any]:
        state = super().init(params)
        state["sum_of_squares"].fill(self.initial_accumulator_value)
        return state

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:
        s, work = state["sum_of_squares"], state["scratch"]
        np.add(s, np.multiply(grad, grad, out=work), out=s)
        np.sqrt(s, out=work)
        np.add(work, self.epsilon, out=work)
        np.divide(grad, work, out=work)
        np.multiply(work, self._rate(learning_rate), out=work)
        np.subtract(params, work, out=params)
        state["step"] += 1


class _Rprop(Optimizer):
    """Hyper-parameters, checks and state shared by the two iRprop rules."""

    step_rule = (
        "it adapts a step size per parameter from the gradient's signs, starting at delta_zero"
    )

    hyperparameters = (
        "learning_rate",
        "eta_plus",
        "eta_minus",
        "delta_zero",
        "delta_min",
        "delta_max",
    )
    state_arrays = ("step_size", "previous_gradient", "scratch")

    def __init__(
        self,
        learning_rate: float = 0.1,
        eta_plus: float = 1.2,
        eta_minus: float = 0.5,
        delta_zero: float = 0.1,
        delta_min: float = 1e-6,
        delta_max: float = 50.0,
    ) -> None:
        self.learning_rate = check_positive(learning_rate, "learning_rate")
        self.eta_plus = check_positive(eta_plus, "eta_plus")
        self.eta_minus = check_positive(eta_minus, "eta_minus")
        self.delta_zero = check_positive(delta_zero, "delta_zero")
        self.delta_min = check_positive(delta_min, "delta_min")
        self.delta_max = check_positive(delta_max, "delta_max")
        if not self.eta_minus < 1 < self.eta_plus:
            raise InputError(
                f"{self.name} needs 0 < eta_minus < 1 < eta_plus; received eta_minus="
                f"{eta_minus!r}, eta_plus={eta_plus!r} (the paper uses 0.5 and 1.2)."
            )
        if not self.delta_min <= self.delta_zero <= self.delta_max:
            raise InputError(
                f"{self.name} needs delta_min <= delta_zero <= delta_max; received "
                f"delta_min={delta_min!r}, delta_zero={delta_zero!r}, delta_max={delta_max!r}."
            )

    def init(self, params: Array) -> dict[str, Any]:
        state = super().init(params)
        state["step_size"].fill(self.delta_zero)
        return state

    def _adapt_step_sizes(self, grad: Array, state: dict[str, Any]) -> Array:
        """Grow step sizes where the gradient kept its sign, shrink them where it flipped.

        Returns the boolean mask of the flipped entries. The sign product (not the
        sign of ``grad * previous``) cannot underflow to 0 in float32.
        """
        agreement = np.sign(grad) * np.sign(state["previous_gradient"])
        step_size = state["step_size"]
        step_size[agreement > 0] *= self.eta_plus
        flipped = agreement < 0
        step_size[flipped] *= self.eta_minus
        np.clip(step_size, self.delta_min, self.delta_max, out=step_size)
        return flipped


class IRpropMinus(_Rprop):
    r"""iRprop−: resilient backpropagation, sign-based steps with adaptive sizes.

    Each parameter :math:`i` has its own step size :math:`\Delta_i`; only the
    sign of its gradient is used. With :math:`g^{-}_i` the previous gradient:

    .. math::
        g_i g^{-}_i > 0 &: \quad \Delta_i \leftarrow \min(\eta^{+}\Delta_i, \Delta_{\max}) \\
        g_i g^{-}_i < 0 &: \quad \Delta_i \leftarrow \max(\eta^{-}\Delta_i, \Delta_{\min}),
            \quad g_i \leftarrow 0 \\
        \theta_i &\leftarrow \theta_i - \operatorname{sign}(g_i)\, \Delta_i,
            \qquad g^{-}_i \leftarrow g_i

    so after a sign flip the parameter rests for one step. ``learning_rate``
    is accepted for a uniform interface and ignored: the :class:`~deltarule.training.Trainer`
    refuses a learning rate or schedule with it. This is the variant
    ``torch.optim.Rprop`` implements (its ``lr`` is :math:`\Delta_0`, ``delta_zero`` here).

    Igel & Hüsken (2000), "Improving the Rprop learning algorithm", Proc. NC 2000,
    115-121; after Riedmiller & Braun (1993), "A direct adaptive method for faster
    backpropagation learning: the RPROP algorithm", IEEE ICNN.

    Parameters
    ----------
    learning_rate : float, default=0.1
        Ignored.
    eta_plus, eta_minus : float, default=1.2, 0.5
        Growth and shrink factors, :math:`0 < \eta^{-} < 1 < \eta^{+}`.
    delta_zero : float, default=0.1
        Initial step size :math:`\Delta_0` (as FANN and Riedmiller & Braun).
    delta_min, delta_max : float, default=1e-6, 50.0
        Step-size bounds (:math:`\Delta_{\max} = 50` as FANN; :math:`\Delta_{\min}`
        as PyTorch, where FANN uses 0).
    """

    name = "irprop_minus"

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:
        flipped = self._adapt_step_sizes(grad, state)
        previous = state["previous_gradient"]
        np.copyto(previous, grad)
        previous[flipped] = 0
        step = np.sign(previous, out=state["scratch"])
        np.multiply(step, state["step_size"], out=step)
        np.subtract(params, step, out=params)
        state["step"] += 1


class IRpropPlus(_Rprop):
    r"""iRprop+: resilient backpropagation with weight backtracking.

    As :class:`IRpropMinus`, with the step :math:`\delta_i` each parameter took
    kept as :math:`\delta^{-}_i`, and the error :math:`E` at each step:

    .. math::
        g_i g^{-}_i \ge 0 &: \quad \delta_i = -\operatorname{sign}(g_i)\, \Delta_i \\
        g_i g^{-}_i < 0 &: \quad \delta_i = \begin{cases}
            -\delta^{-}_i & E^{(t)} > E^{(t-1)} \\ 0 & \text{otherwise} \end{cases},
            \quad g_i \leftarrow 0 \\
        \theta_i &\leftarrow \theta_i + \delta_i, \qquad \delta^{-}_i \leftarrow \delta_i,
            \qquad g^{-}_i \leftarrow g_i

    with the step sizes :math:`\Delta_i` adapted as in iRprop− first: a step
    that jumped over a minimum is taken back, but only if the error grew.
    ``update`` gets :math:`E^{(t)}` as ``loss``; when the current or previous
    loss is None, the error is taken not to have grown, and iRprop+ then moves
    exactly as iRprop−. Backtracking compares whole-batch errors, so the rule is
    meant for full-batch training. ``learning_rate`` is ignored (the trainer refuses a
    learning rate or schedule with it; set the first step size with ``delta_zero``).

    Igel & Hüsken (2000), "Improving the Rprop learning algorithm", Proc. NC 2000,
    115-121, Fig. 3.

    Parameters
    ----------
    learning_rate : float, default=0.1
        Ignored.
    eta_plus, eta_minus : float, default=1.2, 0.5
        Growth and shrink factors, :math:`0 < \eta^{-} < 1 < \eta^{+}`.
    delta_zero : float, default=0.1
        Initial step size :math:`\Delta_0` (as FANN and Riedmiller & Braun).
    delta_min, delta_max : float, default=1e-6, 50.0
        Step-size bounds (:math:`\Delta_{\max} = 50` as FANN; :math:`\Delta_{\min}`
        as PyTorch, where FANN uses 0).
    """

    name = "irprop_plus"
    state_arrays = ("step_size", "previous_gradient", "previous_step", "scratch")

    def init(self, params: Array) -> dict[str, Any]:
        state = super().init(params)
        state["has_previous_loss"] = 0
        state["previous_loss"] = 0.0
        return state

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:
        flipped = self._adapt_step_sizes(grad, state)
        grew = loss is not None and state["has_previous_loss"] and loss > state["previous_loss"]
        step, previous_step = state["scratch"], state["previous_step"]
        np.sign(grad, out=step)
        np.multiply(step, state["step_size"], out=step)
        np.negative(step, out=step)
        step[flipped] = -previous_step[flipped] if grew else 0
        np.add(params, step, out=params)
        np.copyto(previous_step, step)
        np.copyto(state["previous_gradient"], grad)
        state["previous_gradient"][flipped] = 0
        state["has_previous_loss"] = int(loss is not None)
        state["previous_loss"] = 0.0 if loss is None else float(loss)
        state["step"] += 1


OPTIMIZERS: dict[str, type[Optimizer]] = {}
"""The registry: name -> optimizer class. Aliases map to the same class."""


def register_optimizer(
    cls: type[Optimizer], *, aliases: tuple[str, ...] = (), overwrite: bool = False
) -> type[Optimizer]:
    """Add an :class:`Optimizer` subclass to the registry under ``cls.name`` (and ``aliases``)."""
    if not (isinstance(cls, type) and issubclass(cls, Optimizer) and cls.name):
        raise InputError(
            f"register_optimizer expects an Optimizer subclass with a name; received {cls!r}."
        )
    register(OPTIMIZERS, cls, cls.name, aliases, "optimizer", overwrite)
    return cls


for _cls, _aliases in [
    (SGD, ("gd",)),
    (Momentum, ()),
    (Nesterov, ("nag",)),
    (Adam, ()),
    (AdamW, ()),
    (RMSprop, ()),
    (Adagrad, ()),
    (IRpropPlus, ("rprop",)),
    (IRpropMinus, ()),
]:
    register_optimizer(_cls, aliases=_aliases)


def get_optimizer(optimizer: str | Optimizer, **kwargs: Any) -> Optimizer:
    """Return an optimizer built from a registry name and hyper-parameters, or the object itself.

    Examples
    --------
    >>> get_optimizer("adam", learning_rate=0.01)
    Adam(learning_rate=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-08)
    """
    return build(OPTIMIZERS, optimizer, Optimizer, "optimizer", kwargs)


def optimizer_from_config(config: Mapping[str, Any]) -> Optimizer:
    """Rebuild an optimizer from :meth:`Optimizer.config` output."""
    if not isinstance(config, Mapping) or not isinstance(config.get("name"), str):
        raise InputError(
            f"an optimizer config must be a mapping with a 'name' string, as returned by "
            f"Optimizer.config(); received {config!r}."
        )
    kwargs = dict(config)
    return get_optimizer(kwargs.pop("name"), **kwargs)
