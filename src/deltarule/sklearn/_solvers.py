r"""scikit-learn's ``solver`` names mapped onto deltarule optimizers and solvers.

=============  ==============================================================
solver         deltarule rule
=============  ==============================================================
``'sgd'``      :class:`SklearnSGD` (scikit-learn's momentum convention, below)
``'adam'``     :class:`~deltarule.optimizers.Adam` (learning_rate_init, beta_1,
               beta_2, epsilon, and ``epsilon_hat=True``: scikit-learn's rule)
``'adamw'``    :class:`~deltarule.optimizers.AdamW` (learning_rate_init, beta_1,
               beta_2, epsilon)
``'rmsprop'``  :class:`~deltarule.optimizers.RMSprop` (learning_rate_init, epsilon)
``'adagrad'``  :class:`~deltarule.optimizers.Adagrad` (learning_rate_init, epsilon)
``'rprop'``    :class:`~deltarule.optimizers.IRpropPlus` (its own step sizes)
``'lbfgs'``    :class:`~deltarule.solvers.LBFGS` (max_fun; full batch)
``'lm'``       :class:`~deltarule.solvers.LevenbergMarquardt` (full batch, squared error)
=============  ==============================================================

``'adam'`` is scikit-learn's Adam: :math:`\epsilon` added to the root of the
uncorrected second moment, :math:`\eta_t\, m/(\sqrt v+\epsilon)` with
:math:`\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)` (Kingma & Ba's
:math:`\hat\epsilon`), not Algorithm 1's :math:`\hat m/(\sqrt{\hat v}+\epsilon)`, which
moves a weight whose gradient is about :math:`\epsilon` in size (a dead ReLU unit's,
say) by up to half a learning rate more in the first steps.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._reports import user_stacklevel
from ..optimizers import Adagrad, Adam, AdamW, IRpropPlus, Optimizer, RMSprop, optimizer_from_config
from ..solvers import LBFGS, LevenbergMarquardt

__all__ = [
    "FIRST_ORDER",
    "FULL_BATCH",
    "SOLVERS",
    "SOLVER_SPELLINGS",
    "SklearnSGD",
    "make_optimizer",
    "optimizer_from_state",
    "resolve_batch_size",
]

FIRST_ORDER = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "rprop")
"""Solvers that run mini-batch epochs (and so offer ``partial_fit`` and early stopping)."""

FULL_BATCH = ("lbfgs", "lm")
SOLVERS = FIRST_ORDER + FULL_BATCH

SOLVER_SPELLINGS = {
    "l-bfgs": "lbfgs",
    "l_bfgs": "lbfgs",
    "l-bfgs-b": "lbfgs",
    "lbfgs-b": "lbfgs",
    "lbfgsb": "lbfgs",
    "levenberg_marquardt": "lm",
    "levenberg-marquardt": "lm",
    "irprop_plus": "rprop",
    "irprop+": "rprop",
    "gd": "sgd",
}
"""Other spellings of the solvers (some of which ``Network.fit`` takes as ``optimizer``), for
the error's did-you-mean: ``solver`` keeps scikit-learn's exact names, since the estimators
compare it as given (scikit-learn estimators never rewrite their parameters)."""

_SCIPY_FTOL = float(np.finfo(np.float64).eps) * 1e7
"""scipy's default L-BFGS-B ``ftol`` (factr=1e7), which scikit-learn keeps."""


class SklearnSGD(Optimizer):
    r"""Stochastic gradient descent with momentum, scikit-learn's convention.

    .. math::
        v &\leftarrow \mu\, v - \eta\, g \\
        \theta &\leftarrow \theta + v
        \quad\text{or, with Nesterov's momentum,}\quad
        \theta \leftarrow \theta + \mu\, v - \eta\, g

    with :math:`v_0 = 0`. The learning rate enters the velocity as each gradient
    arrives (Sutskever et al., 2013), so a learning rate changed by ``invscaling``
    or ``adaptive`` scales only new gradients, exactly as scikit-learn's
    ``SGDOptimizer``. With :math:`\mu = 0` this is the delta rule,
    :math:`\theta \leftarrow \theta - \eta g`.

    Parameters
    ----------
    learning_rate : float, default=0.001
        :math:`\eta > 0` (scikit-learn's ``learning_rate_init``).
    momentum : float, default=0.9
        :math:`\mu \in [0, 1]`.
    nesterov : bool, default=True
        Use Nesterov's momentum.
    """

    name = "sklearn_sgd"
    hyperparameters = ("learning_rate", "momentum", "nesterov")
    state_arrays = ("velocity", "scratch")

    def __init__(
        self, learning_rate: float = 0.001, momentum: float = 0.9, nesterov: bool = True
    ) -> None:
        self.learning_rate = float(learning_rate)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:  # noqa: ANN001
        rate = self._rate(learning_rate)
        velocity, step = state["velocity"], state["scratch"]
        np.multiply(grad, rate, out=step)
        np.multiply(velocity, self.momentum, out=velocity)
        np.subtract(velocity, step, out=velocity)
        if self.nesterov:  # theta + (mu v - eta g), in two in-place steps
            np.subtract(params, step, out=params)
            np.add(params, np.multiply(velocity, self.momentum, out=step), out=params)
        else:
            np.add(params, velocity, out=params)
        state["step"] += 1

    def is_plain_sgd(self) -> bool:
        # Without momentum the velocity is -eta g each step: theta - eta g, the delta rule.
        return self.momentum == 0 and self.keeps_rule_of(SklearnSGD)  # (a subclass's: its own)

    def online_rule(self) -> tuple[str, float] | None:
        # the velocity rule even at a momentum of 0 (not the delta rule's "sgd", which
        # would leave the velocity unwritten: a momentum raised later reads it)
        if not self.keeps_rule_of(SklearnSGD):
            return super().online_rule()
        return ("sklearn_nesterov" if self.nesterov else "sklearn_momentum", self.momentum)


def make_optimizer(estimator: Any) -> Any:
    """Return the deltarule optimizer or full-batch solver for ``estimator.solver``."""
    est = estimator
    lr = float(est.learning_rate_init)
    if est.solver == "sgd":
        return SklearnSGD(lr, est.momentum, est.nesterovs_momentum)
    if est.solver == "adam":  # epsilon where scikit-learn's AdamOptimizer adds it
        return Adam(lr, beta_1=est.beta_1, beta_2=est.beta_2, epsilon=est.epsilon, epsilon_hat=True)
    if est.solver == "adamw":
        return AdamW(lr, beta_1=est.beta_1, beta_2=est.beta_2, epsilon=est.epsilon)
    if est.solver == "rmsprop":
        return RMSprop(lr, epsilon=est.epsilon)
    if est.solver == "adagrad":
        return Adagrad(lr, epsilon=est.epsilon)
    if est.solver == "rprop":
        return IRpropPlus()
    if est.solver == "lbfgs":
        # scikit-learn's options: gtol=tol, and scipy's default ftol
        return LBFGS(memory=10, max_fun=int(est.max_fun), gtol=float(est.tol), ftol=_SCIPY_FTOL)
    return LevenbergMarquardt()


def optimizer_from_state(config: Any) -> Optimizer:
    """Rebuild a first-order rule from its :meth:`~deltarule.optimizers.Optimizer.config`.

    As :func:`~deltarule.optimizers.optimizer_from_config`, and also for
    :class:`SklearnSGD`, which is not in deltarule's registry.

    Raises
    ------
    InputError, UnknownNameError, TypeError
        When ``config`` names no known rule or has arguments the rule does not take.
    """
    if isinstance(config, dict) and config.get("name") == SklearnSGD.name:
        return SklearnSGD(**{key: value for key, value in config.items() if key != "name"})
    return optimizer_from_config(config)


def resolve_batch_size(estimator: Any, n_samples: int) -> int | None:
    """Return the trainer's batch size: scikit-learn's rule, None for full batch.

    ``'auto'`` is ``min(200, n_samples)`` (the whole set for ``'rprop'``, a
    full-batch rule); an integer above ``n_samples`` is clipped with scikit-learn's
    warning. Full-batch solvers return None.
    """
    if estimator.solver in FULL_BATCH:
        return None
    if estimator.batch_size == "auto":
        return n_samples if estimator.solver == "rprop" else min(200, n_samples)
    if estimator.batch_size > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going to be clipped",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    return int(np.clip(estimator.batch_size, 1, n_samples))
