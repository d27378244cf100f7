r"""Gradient checking: analytic backprop against central finite differences.

For every parameter :math:`\theta_i` of the flat buffer,

.. math:: g_i^{num} = \frac{E(\theta + h e_i) - E(\theta - h e_i)}{2h}

is computed in float64 and compared with the backprop gradient :math:`g_i`
through the relative error :math:`|g_i - g_i^{num}| / \max(|g_i| + |g_i^{num}|, s)`, where
the floor :math:`s` is a small fraction of the largest gradient entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._typing import ArrayLike
from ._validation import check_positive
from .network import Network, require_network

__all__ = ["check_gradients", "GradientCheckResult"]


@dataclass(frozen=True)
class GradientCheckResult:
    """Outcome of :func:`check_gradients`.

    Attributes
    ----------
    max_relative_error : dict of str to float
        Largest relative error per named tensor ("W1", "b1", ...).
    analytic, numeric : ndarray of shape (n_parameters,)
        The two gradients, float64.
    tolerance : float
        Threshold used by :attr:`passed`.
    """

    max_relative_error: dict[str, float]
    analytic: np.ndarray
    numeric: np.ndarray
    tolerance: float
    suspect: str | None = None
    """When the check fails, the part whose derivative is the likely culprit: the first
    failing layer from the output side (its activation's derivative), or, when the output
    layer already fails, the loss's gradient or the output activation's derivative."""

    @property
    def worst(self) -> float:
        """The largest relative error over all parameters (NaN when any is NaN)."""
        return float(np.max(list(self.max_relative_error.values())))

    @property
    def passed(self) -> bool:
        """True when every relative error is at most :attr:`tolerance` (a NaN error, from a
        gradient that overflowed, fails)."""
        return bool(self.worst <= self.tolerance)

    def __str__(self) -> str:
        rows = [f"{name:>6}: {err:.3e}" for name, err in self.max_relative_error.items()]
        verdict = "passed" if self.passed else "FAILED"
        rows.append(f"gradient check {verdict} (tolerance {self.tolerance:g})")
        if not self.passed and self.suspect:
            rows.append(f"likely culprit: {self.suspect}")
        return "\n".join(rows)


def _suspect(net: Network, per_tensor: dict[str, float], tolerance: float) -> str | None:
    """Name the part a failed check points to. Layer k's weights are the first, from the
    output side, to use layer k's activation derivative; the output layer's use the loss's
    gradient and the output activation's derivative (and so does every layer below)."""
    failing = {
        int(name[1:])
        for name, err in per_tensor.items()
        if name[1:].isdigit() and not err <= tolerance
    }
    if not failing:
        return None
    last = len(net.layers)
    layer = max(failing)  # (the first failing layer from the output side)
    act = net.layers[layer - 1].activation.name
    if layer < last:
        return (
            f"layer {layer}'s activation {act!r} (its derivative): layer {layer} fails while "
            f"the layers above it pass"
        )
    return (
        f"the loss {net.loss.name!r} (its gradient) or the output activation {act!r} (its "
        "derivative): the output layer already fails"
    )


def check_gradients(
    network: Network,
    X: ArrayLike,
    y: ArrayLike,
    sample_weight: ArrayLike | None = None,
    *,
    step: float = 1e-5,
    tolerance: float = 1e-6,
    floor: float = 1e-8,
    relative_floor: float = 1e-3,
) -> GradientCheckResult:
    """Compare backprop's gradient with central finite differences, in float64.

    The network is copied to float64 (the original is untouched), so the check
    is meaningful for float32 networks too.

    Parameters
    ----------
    network : Network
    X : array-like of shape (n_samples, n_inputs)
    y : array-like of shape (n_samples, n_outputs)
    sample_weight : array-like of shape (n_samples,), optional
    step : float
        Finite-difference step :math:`h`.
    tolerance : float
        Largest acceptable relative error for :attr:`GradientCheckResult.passed`.
    floor, relative_floor : float
        The denominator is at least ``max(floor, relative_floor * max|g|)``: entries far
        smaller than the largest gradient entry are judged on that scale, so the
        finite differences' round-off in near-zero entries is not counted as error.

    Returns
    -------
    GradientCheckResult

    Examples
    --------
    >>> import numpy as np, deltarule as dr
    >>> net = dr.Network([3, 4, 2], activation="tanh", seed=1)
    >>> rng = np.random.default_rng(0)
    >>> result = dr.check_gradients(net, rng.normal(size=(5, 3)), rng.normal(size=(5, 2)))
    >>> result.passed
    True
    """
    require_network(network, "check_gradients")
    step, floor = check_positive(step, "step"), check_positive(floor, "floor")
    check_positive(tolerance, "tolerance", allow_zero=True)
    check_positive(relative_floor, "relative_floor", allow_zero=True)
    net = network.astype(np.float64)
    X64, y64, sw = net.validate(X, y, sample_weight)
    _, analytic = net.loss_and_gradient(X64, y64, sw)
    theta = net.parameters.copy()
    numeric = np.empty_like(theta)
    for i in range(theta.size):
        original = theta[i]
        theta[i] = original + step
        plus = net.evaluate_params(theta, X64, y64, sw)
        theta[i] = original - step
        minus = net.evaluate_params(theta, X64, y64, sw)
        theta[i] = original
        numeric[i] = (plus - minus) / (2 * step)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # overflow -> NaN error
        finite = np.abs(analytic[np.isfinite(analytic)])
        scale = max(floor, relative_floor * float(finite.max(initial=0.0)))
        denom = np.maximum(np.abs(analytic) + np.abs(numeric), scale)
        rel = np.abs(analytic - numeric) / denom
    # A non-finite gradient on either side is a failed entry (NaN), never a pass: an
    # infinite one made every other error 0 through the floor, and max() skipped NaN.
    rel[~(np.isfinite(analytic) & np.isfinite(numeric))] = np.nan
    per_tensor = {s.name: float(np.max(rel[s.slice])) for s in net.layout.specs}
    suspect = _suspect(net, per_tensor, tolerance)
    return GradientCheckResult(per_tensor, analytic, numeric, tolerance, suspect)
