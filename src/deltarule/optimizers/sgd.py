"""Gradient descent and its momentum variants: steps along the (accumulated) gradient.

:class:`SGD` is the delta rule itself; :class:`Momentum` (heavy ball) and :class:`Nesterov`
step along a velocity that sums past gradients, in PyTorch's conventions.
"""

from __future__ import annotations

import numpy as np

from .._keywords import keyword_checked
from .._validation import check_fraction, check_positive
from ._base import ADVICE, Optimizer


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

    @keyword_checked(ADVICE)
    def __init__(self, learning_rate: float = 0.01) -> None:
        self.learning_rate = check_positive(learning_rate, "learning_rate")

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:
        step = np.multiply(grad, self._rate(learning_rate), out=state["scratch"])
        np.subtract(params, step, out=params)
        state["step"] += 1

    def is_plain_sgd(self) -> bool:
        return self.keeps_rule_of(SGD)  # a subclass may change the rule in any step method


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

    @keyword_checked(ADVICE)
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

    def online_rule(self) -> tuple[str, float] | None:
        return ("momentum", self.momentum) if self.keeps_rule_of(Momentum) else None


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

    def online_rule(self) -> tuple[str, float] | None:
        return ("nesterov", self.momentum) if self.keeps_rule_of(Nesterov) else None
