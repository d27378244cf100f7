"""The optimizer protocol: an update rule over the flat parameter vector, with explicit state.

:class:`Optimizer` makes fresh state with :meth:`~Optimizer.init` (zero arrays shaped like the
parameters, and a step count), and a subclass writes :meth:`~Optimizer.update`, in place on
the parameters and the state. Its hyper-parameters are its :meth:`~Optimizer.config`, which
also defines equality and the repr.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .. import _memory
from .._typing import Array

ADVICE: dict[str, str] = {
    "momentum": (
        "Momentum is its own optimizer: Momentum(learning_rate=0.01, momentum=0.9), or "
        "Nesterov(...) (optimizer='momentum' or 'nesterov' in fit)."
    ),
    "nesterov": "Nesterov momentum is its own optimizer: Nesterov(learning_rate, momentum=0.9).",
    "weight_decay": (
        "Decoupled weight decay is its own optimizer: AdamW(learning_rate, weight_decay=0.01); "
        "for an L2 penalty with any optimizer pass fit(..., l2=...)."
    ),
    "amsgrad": "deltarule has no AMSGrad variant; leave it out (Adam, AdamW).",
    "betas": "Adam and AdamW take them apart: beta_1=0.9, beta_2=0.999 (PyTorch's betas=).",
}
"""What the optimizers' constructors say of a keyword one does not take (``keyword_checked``)."""

STEP_METHODS: tuple[str, ...] = ("update", "update_and_accumulate", "_rate")
"""The methods that make a step; a subclass overriding one of them has its own rule."""


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

    def online_rule(self) -> tuple[str, float] | None:
        r"""The rule the compiled paths (online, batches of one example, and the mini-batch
        steps) apply for this optimizer — ``("sgd", 0)``, ``("momentum", mu)``,
        ``("nesterov", mu)`` and scikit-learn's ``("sklearn_momentum", mu)``,
        ``("sklearn_nesterov", mu)``, each the optimizer's own NumPy operations in their
        order, the velocity rules on the state's ``"velocity"`` array — or None when only
        :meth:`update` may apply it. A subclass that changes a step method must not
        vouch for its base's rule (:meth:`keeps_rule_of`). Read at each epoch (and each
        compiled run of steps); anything but None or a ``(name, momentum)`` pair is an
        :class:`~deltarule.exceptions.InputError`."""
        return ("sgd", 0.0) if self.is_plain_sgd() else None

    def keeps_rule_of(self, base: type[Optimizer]) -> bool:
        """True when this object's class overrides none of ``base``'s step methods.

        The step methods are :data:`STEP_METHODS` (``update``, ``update_and_accumulate``
        and ``_rate``): a subclass that changes any of them changes the rule, so
        :meth:`is_plain_sgd` must not vouch for it. Checked once per fit, never per step.
        """
        cls = type(self)
        return isinstance(self, base) and all(
            getattr(cls, name) is getattr(base, name) for name in STEP_METHODS
        )

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
