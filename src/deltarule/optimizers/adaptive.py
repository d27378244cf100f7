"""Adaptive rules: each parameter's step divided by a root of its squared-gradient history.

:class:`Adam` and :class:`AdamW` (running first and second moments, bias-corrected; AdamW
with decoupled weight decay) share one step, fused into a compiled kernel on large vectors and
flushing subnormal moments every few steps; :class:`RMSprop` divides by a running
root-mean-square, :class:`Adagrad` by the root of the summed squares.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _compiled
from .._keywords import keyword_checked
from .._typing import Array
from .._validation import check_fraction, check_positive
from ..exceptions import InputError
from ._base import ADVICE, Optimizer


class Adam(Optimizer):
    r"""Adam: steps scaled by running first and second moments of the gradient.

    .. math::
        m &\leftarrow \beta_1 m + (1-\beta_1)\, g \\
        v &\leftarrow \beta_2 v + (1-\beta_2)\, g^2 \\
        \theta &\leftarrow \theta - \eta\,
            \frac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \epsilon}

    with :math:`m_0 = v_0 = 0` and :math:`t` the step number (1 at the first
    step): the bias corrections undo the pull of the zero start.

    With ``epsilon_hat=True``, :math:`\epsilon` is the paper's :math:`\hat\epsilon` of
    its Section 2 (the "more efficient" order, which scikit-learn, TensorFlow and Keras
    follow): added to the root of the *uncorrected* :math:`v`, with the corrections
    folded into the step size,

    .. math::
        \theta \leftarrow \theta - \eta\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}\,
            \frac{m}{\sqrt{v} + \hat\epsilon}

    the same as the rule above with :math:`\epsilon = \hat\epsilon/\sqrt{1-\beta_2^t}`:
    early steps of a parameter whose gradient is about :math:`\epsilon` in size (a dead
    ReLU unit's) differ between the two by up to about half of :math:`\eta`.

    Kingma & Ba (2015), "Adam: A method for stochastic optimization", ICLR,
    Algorithm 1 and Section 2.

    Parameters
    ----------
    learning_rate : float, default=0.001
        Step size :math:`\eta > 0`.
    beta_1, beta_2 : float, default=0.9, 0.999
        Moment decays, each in [0, 1).
    epsilon : float, default=1e-8
        :math:`\epsilon > 0`, added to the root, guards the division.
    epsilon_hat : bool, default=False
        Add ``epsilon`` to :math:`\sqrt{v}` before the bias corrections
        (:math:`\hat\epsilon`, scikit-learn's ``solver='adam'``) rather than to
        :math:`\sqrt{\hat v}` (Algorithm 1).
    """

    name = "adam"
    hyperparameters = ("learning_rate", "beta_1", "beta_2", "epsilon", "epsilon_hat")
    state_arrays = ("first_moment", "second_moment", "scratch")

    @keyword_checked(ADVICE)
    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        epsilon_hat: bool = False,
    ) -> None:
        self.learning_rate = check_positive(learning_rate, "learning_rate")
        self.beta_1 = check_fraction(beta_1, "beta_1")
        self.beta_2 = check_fraction(beta_2, "beta_2")
        self.epsilon = check_positive(epsilon, "epsilon")
        if not isinstance(epsilon_hat, (bool, np.bool_)):
            raise InputError(
                f"epsilon_hat must be True or False; received {epsilon_hat!r}. True adds "
                "epsilon before the bias corrections (scikit-learn's Adam)."
            )
        self.epsilon_hat = bool(epsilon_hat)

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
    :math:`k = \eta c / b`. With ``epsilon_hat`` (Adam's option) :math:`\epsilon` is added
    to :math:`\sqrt v` itself: ``eps_c`` is :math:`\epsilon` (scikit-learn's rule).
    """
    c = (1.0 - opt.beta_2**t) ** 0.5
    eps_c = opt.epsilon if getattr(opt, "epsilon_hat", False) else opt.epsilon * c
    return eps_c, rate * c / (1.0 - opt.beta_1**t), t % _FLUSH_EVERY == 0


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

    The decay shrinks the parameters directly, outside the adaptive scaling (an L2
    term in the loss would be divided by :math:`\sqrt{v}` too): every parameter, the
    biases too, as ``torch.optim.AdamW`` does by default (the trainer's ``l2`` penalises
    the weights alone). As in ``torch.optim.AdamW`` it is scaled by the current learning
    rate :math:`\eta`.

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

    @keyword_checked(ADVICE)
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

    @keyword_checked(ADVICE)
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

    @keyword_checked(ADVICE)
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
