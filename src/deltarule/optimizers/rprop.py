"""Resilient backpropagation: sign-based steps with a step size per parameter.

Every rule here grows each step size while its gradient keeps its sign and shrinks it when
the sign flips; the learning rate plays no part (the trainer refuses one). They differ in
what a sign flip does to the step:

============== ==================== ==================================================
rule           name (alias)         after a sign flip
============== ==================== ==================================================
Rprop−         ``rprop_minus``      steps on with the new sign (Riedmiller, 1994)
               (``rprop-``)
Rprop+         ``rprop_plus``       takes the last step back, always (Riedmiller &
               (``rprop+``)         Braun, 1993); R neuralnet's default algorithm
iRprop−        ``irprop_minus``     rests for one step (Igel & Hüsken, 2000)
iRprop+        ``irprop_plus``      takes the last step back only if the error grew,
               (``rprop``)          else rests (Igel & Hüsken, 2000)
============== ==================== ==================================================

R neuralnet's ``algorithm="rprop+"``/``"rprop-"`` are :class:`RpropPlus`/:class:`RpropMinus`
with its step limits: ``get_optimizer("rprop+", delta_min=1e-10, delta_max=0.1)``
(neuralnet's ``learningrate.limit``; its first step size is 0.1 and its factors 0.5 and
1.2, the defaults here), trained on every row at once as neuralnet does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._keywords import keyword_checked
from .._typing import Array
from .._validation import check_positive
from ..exceptions import InputError
from ._base import ADVICE, Optimizer


class _Rprop(Optimizer):
    """Hyper-parameters, checks and state shared by the Rprop rules."""

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

    @keyword_checked(ADVICE)
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

    def _take_back(self, loss: float | None, state: dict[str, Any]) -> bool:
        """Whether a flipped parameter takes its last step back: if the error grew."""
        return bool(
            loss is not None and state["has_previous_loss"] and loss > state["previous_loss"]
        )

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:
        flipped = self._adapt_step_sizes(grad, state)
        grew = self._take_back(loss, state)
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


class RpropPlus(IRpropPlus):
    r"""Rprop+: the original resilient backpropagation, with weight backtracking.

    As :class:`IRpropPlus`, except that a parameter whose gradient changed sign always takes
    its last step back, whatever the error did:

    .. math::
        g_i g^{-}_i > 0 &: \quad \Delta_i \leftarrow \min(\eta^{+}\Delta_i, \Delta_{\max}),
            \quad \delta_i = -\operatorname{sign}(g_i)\, \Delta_i \\
        g_i g^{-}_i < 0 &: \quad \Delta_i \leftarrow \max(\eta^{-}\Delta_i, \Delta_{\min}),
            \quad \delta_i = -\delta^{-}_i, \quad g_i \leftarrow 0 \\
        g_i g^{-}_i = 0 &: \quad \delta_i = -\operatorname{sign}(g_i)\, \Delta_i \\
        \theta_i &\leftarrow \theta_i + \delta_i, \qquad \delta^{-}_i \leftarrow \delta_i,
            \qquad g^{-}_i \leftarrow g_i

    This is R neuralnet's default ``algorithm="rprop+"``; with its step limits,
    ``get_optimizer("rprop+", delta_min=1e-10, delta_max=0.1)``, and the whole data set as
    one batch it takes neuralnet's steps from the same starting weights (only the gradient's
    signs matter, so neuralnet's summed error and deltarule's mean give the same steps).
    ``learning_rate`` is ignored (the trainer refuses one; set the first step size with
    ``delta_zero``).

    Riedmiller & Braun (1993), "A direct adaptive method for faster backpropagation
    learning: the RPROP algorithm", IEEE ICNN, 586-591.

    Parameters
    ----------
    learning_rate : float, default=0.1
        Ignored.
    eta_plus, eta_minus : float, default=1.2, 0.5
        Growth and shrink factors, :math:`0 < \eta^{-} < 1 < \eta^{+}` (the paper's and
        neuralnet's ``learningrate.factor``).
    delta_zero : float, default=0.1
        Initial step size :math:`\Delta_0` (the paper's and neuralnet's).
    delta_min, delta_max : float, default=1e-6, 50.0
        Step-size bounds (the paper's; neuralnet's ``learningrate.limit`` is 1e-10 and 0.1).
    """

    name = "rprop_plus"

    def _take_back(self, loss: float | None, state: dict[str, Any]) -> bool:
        return True


class RpropMinus(_Rprop):
    r"""Rprop−: resilient backpropagation without weight backtracking.

    Each parameter moves by its step size against its gradient's sign at every step, also
    right after a sign change (where :class:`IRpropMinus` rests for one step):

    .. math::
        g_i g^{-}_i > 0 &: \quad \Delta_i \leftarrow \min(\eta^{+}\Delta_i, \Delta_{\max}) \\
        g_i g^{-}_i < 0 &: \quad \Delta_i \leftarrow \max(\eta^{-}\Delta_i, \Delta_{\min}) \\
        \theta_i &\leftarrow \theta_i - \operatorname{sign}(g_i)\, \Delta_i,
            \qquad g^{-}_i \leftarrow g_i

    This is R neuralnet's ``algorithm="rprop-"`` (with its step limits, see
    :class:`RpropPlus`). ``learning_rate`` is ignored.

    Riedmiller (1994), "Advanced supervised learning in multi-layer perceptrons — from
    backpropagation to adaptive learning algorithms", Computer Standards & Interfaces 16,
    265-278.

    Parameters
    ----------
    learning_rate : float, default=0.1
        Ignored.
    eta_plus, eta_minus : float, default=1.2, 0.5
        Growth and shrink factors, :math:`0 < \eta^{-} < 1 < \eta^{+}`.
    delta_zero : float, default=0.1
        Initial step size :math:`\Delta_0`.
    delta_min, delta_max : float, default=1e-6, 50.0
        Step-size bounds (neuralnet's are 1e-10 and 0.1).
    """

    name = "rprop_minus"

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:
        self._adapt_step_sizes(grad, state)
        np.copyto(state["previous_gradient"], grad)
        step = np.sign(grad, out=state["scratch"])
        np.multiply(step, state["step_size"], out=step)
        np.subtract(params, step, out=params)
        state["step"] += 1
