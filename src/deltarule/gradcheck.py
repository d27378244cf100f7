r"""Gradient checking: analytic backprop against central finite differences.

For every parameter :math:`\theta_i` of the flat buffer,

.. math:: g_i^{num} = \frac{E(\theta + h e_i) - E(\theta - h e_i)}{2h}

is computed in float64 and compared with the backprop gradient :math:`g_i` through the
relative error :math:`|g_i - g_i^{num}| / \max(|g_i| + |g_i^{num}|, s_T)`. The floor
:math:`s_T` belongs to the entry's tensor :math:`T` ("W1", "b1", ...): a small fraction of
that tensor's largest gradient entry, and at least the error the central differences'
round-off can cause, :math:`r \approx 8\,\epsilon\,|E| / h` divided by the tolerance. Each
tensor is judged on its own scale: a deep network's first-layer gradient, orders of
magnitude below the last layer's, is compared with itself, not with the last layer's.

Some gradients cannot be verified this way, and are reported so, never as passed:

* a tensor whose every gradient entry is below about :math:`10 r` (round-off would hide an
  error of its full size);
* entries whose finite differences straddle a kink of a built-in activation (``relu``,
  ``leaky_relu``, ``selu``: :math:`z = 0`; ``hard_sigmoid``: :math:`z = \pm 3`; ``exp``: its
  clip point :math:`z = \ln(\text{max float}) - 1`) or loss (``mae``: :math:`o = t`): the
  function is not differentiable there, and the one-sided derivative backprop uses is not
  wrong. So are the points where a derivative is continuous but the second one jumps
  (``elu``, ``softsign``: :math:`z = 0`; ``huber``: :math:`|o - t| = \delta`): a central
  difference across one is off by :math:`O(h)`, which can exceed the tolerance.

Every failing entry of a tensor is probed for a kink (two forward passes each, at most
as many as the differences themselves took) until one straddles none: that tensor fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._typing import ArrayLike
from ._validation import check_positive
from .activations import Activation
from .activations import is_builtin as builtin_activation
from .losses import Loss, huber
from .losses import is_builtin as builtin_loss
from .network import Network, require_network

__all__ = ["check_gradients", "GradientCheckResult", "PASSED", "FAILED", "UNRESOLVED", "AT_KINK"]

PASSED = "passed"
FAILED = "FAILED"
UNRESOLVED = "not verifiable at this precision"
"""Status of a tensor whose gradient is below what central differences resolve."""
AT_KINK = "not verifiable at a kink"
"""Status of a tensor whose only failing entries straddle a kink."""

_ROUND_OFF = 8.0
"""Units of :math:`\\epsilon |E| / h` taken as the central difference's round-off."""
_RESOLVABLE = 10.0
"""A tensor is verifiable when its largest gradient entry is this many round-offs."""
_KINKS = {
    "relu": (0.0,),
    "leaky_relu": (0.0,),
    "selu": (0.0,),  # derivative lambda * alpha on the left, lambda on the right
    "elu": (0.0,),  # second derivative 1 on the left, 0 on the right
    "softsign": (0.0,),  # second derivative 2 on the left, -2 on the right
    "hard_sigmoid": (-3.0, 3.0),
    "exp": (float(np.log(np.finfo(np.float64).max) - 1),),  # clipped there (in float64)
}
"""Built-in activations with kinks (a jump in the first or second derivative), and where
(in the net input :math:`z`, in float64, where the check runs). A contract test scans each
built-in for the points where central differences break down and checks this table."""
_HUBER_CODE = huber(1.0).value.__code__
"""The code of every :func:`~deltarule.losses.huber` loss's value, whatever its delta."""


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
    suspect : str or None
        When the check fails, the part whose derivative is the likely culprit (or, when
        the failures are at kinks, which kink).
    status : dict of str to str
        Per tensor: :data:`PASSED`, :data:`FAILED`, :data:`UNRESOLVED` (its gradient is
        below what central differences resolve at this step) or :data:`AT_KINK` (its only
        failing entries straddle a kink). Empty for a result made by hand: then the
        statuses follow from :attr:`max_relative_error`.
    resolution : float
        The round-off error :math:`r` of the central differences (0 when not computed).
    """

    max_relative_error: dict[str, float]
    analytic: np.ndarray
    numeric: np.ndarray
    tolerance: float
    suspect: str | None = None
    status: dict[str, str] = field(default_factory=dict)
    resolution: float = 0.0

    @property
    def worst(self) -> float:
        """The largest relative error over all parameters (NaN when any is NaN)."""
        return float(np.max(list(self.max_relative_error.values())))

    @property
    def statuses(self) -> dict[str, str]:
        """:attr:`status`, or (when empty) each tensor's from its relative error."""
        if self.status:
            return self.status
        tol = self.tolerance
        return {k: PASSED if e <= tol else FAILED for k, e in self.max_relative_error.items()}

    @property
    def passed(self) -> bool:
        """True when every tensor's gradient was verified: a NaN error (a gradient that
        overflowed) fails, and so does a tensor that could not be verified
        (:attr:`unverified`)."""
        return all(s == PASSED for s in self.statuses.values())

    @property
    def failed(self) -> list[str]:
        """The tensors whose gradients disagree with the finite differences."""
        return [name for name, s in self.statuses.items() if s == FAILED]

    @property
    def unverified(self) -> list[str]:
        """The tensors that could not be verified (below resolution, or at a kink)."""
        return [name for name, s in self.statuses.items() if s not in (PASSED, FAILED)]

    def __str__(self) -> str:
        """The verdict first, then what the figures under it are and each tensor's figure,
        then the notes."""
        statuses = self.statuses
        if self.failed:
            verdict = "FAILED"
        elif self.unverified:
            verdict = f"INCONCLUSIVE: {', '.join(self.unverified)} not verifiable at this precision"
        else:
            verdict = "passed"
        rows = [
            f"gradient check {verdict} (tolerance {self.tolerance:g})",
            "largest relative error per parameter block (backpropagation against central "
            "finite differences):",
        ]
        for name, err in self.max_relative_error.items():
            note = statuses.get(name, PASSED)
            rows.append(f"{name:>6}: {err:.3e}" + ("" if note == PASSED else f"  {note}"))
        if self.failed and self.suspect:
            rows.append(f"likely culprit: {self.suspect}")
        elif self.suspect:
            rows.append(f"note: {self.suspect}")
        if any(statuses[name] == UNRESOLVED for name in self.unverified):
            rows.append(
                f"note: a tensor {UNRESOLVED} has gradients below ~{_RESOLVABLE:g} times the "
                f"finite differences' round-off ({self.resolution:.1e}); check it on a smaller "
                "network, other data, or weights where it is larger."
            )
        return "\n".join(rows)


def _suspect(net: Network, failing: set[int]) -> str | None:
    """Name the part a failed check points to. Layer k's weights are the first, from the
    output side, to use layer k's activation derivative; the output layer's use the loss's
    gradient and the output activation's derivative (and so does every layer below)."""
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


def _layer_of(name: str) -> int | None:
    return int(name[1:]) if name[1:].isdigit() else None


def _sides(values: np.ndarray, kinks: tuple[float, ...]) -> np.ndarray:
    """For each value, on which side of each kink it lies (-1, 0, +1), stacked last."""
    return np.stack([np.sign(values - k) for k in kinks], axis=-1)


def activation_kinks(activation: Activation) -> tuple[float, ...]:
    """Where (in :math:`z`) a built-in activation has a kink; none for a user's."""
    return _KINKS.get(activation.name, ()) if builtin_activation(activation) else ()


def loss_kinks(loss: Loss) -> tuple[float, ...]:
    r"""Where (in :math:`o - t`) a built-in loss has a kink: ``mae`` at 0, ``huber`` (of any
    delta: :func:`~deltarule.losses.huber` makes a new object for each) at :math:`\pm\delta`;
    none for a user's."""
    if loss.name == "mae" and builtin_loss(loss):
        return (0.0,)
    made_by_huber = loss.factory is huber and loss.value.__code__ is _HUBER_CODE
    if loss.name == "huber" and (builtin_loss(loss) or made_by_huber):
        delta = float(dict(loss.parameters)["delta"])
        return (-delta, delta)
    return ()


def _kink_sides(net: Network, theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> list:
    """Per kink (a layer's activation or the loss): (what, sides at ``theta``)."""
    output, caches = net.forward(X, theta)
    sides = []
    for index, (layer, cache) in enumerate(zip(net.layers, caches)):
        kinks = activation_kinks(layer.activation)
        if kinks:
            sides.append((f"layer {index + 1}'s activation {layer.activation.name!r}", kinks,
                          _sides(np.asarray(cache.net), kinks)))  # fmt: skip
    kinks = loss_kinks(net.loss)
    if kinks:
        sides.append((f"the loss {net.loss.label!r}", kinks, _sides(output - y, kinks)))
    return sides


def _straddled_kink(
    net: Network, theta: np.ndarray, i: int, step: float, X: np.ndarray, y: np.ndarray
) -> str | None:
    """The kink that the central difference of parameter ``i`` straddles, or None."""
    original = theta[i]
    theta[i] = original + step
    plus = _kink_sides(net, theta, X, y)
    theta[i] = original - step
    minus = _kink_sides(net, theta, X, y)
    theta[i] = original
    for (what, kinks, up), (_, _, down) in zip(plus, minus):
        crossed = np.argwhere((up != down) & ~np.isnan(up) & ~np.isnan(down))  # (NaN: no side)
        if crossed.size:
            sample, unit, k = (int(v) for v in crossed[0])
            where = "its output" if what.startswith("the loss") else "its net input"
            return (
                f"{what} has a kink at {kinks[k]:g}, and {where} for sample {sample}, unit "
                f"{unit + 1} lies within the step ({step:g}) of it: the finite differences "
                "straddle the kink, where the function has no derivative, so the difference "
                "is not evidence of a wrong gradient. Move the data or weights off the kink."
            )
    return None


def _kink_notes(
    net: Network,
    theta: np.ndarray,
    entries: np.ndarray,
    rel: np.ndarray,
    step: float,
    X: np.ndarray,
    y: np.ndarray,
) -> dict[int, str] | None:
    """The kink each of a tensor's failing ``entries`` straddles, or None when one straddles
    none (or has a NaN error: a gradient that overflowed): the tensor fails, and the probes
    (two forward passes each) stop there."""
    notes = {}
    for i in entries:
        note = _straddled_kink(net, theta, int(i), step, X, y) if np.isfinite(rel[i]) else None
        if note is None:
            return None
        notes[int(i)] = note
    return notes


def _numeric_gradient(
    net: Network, X: np.ndarray, y: np.ndarray, sw: np.ndarray | None, step: float
) -> tuple[np.ndarray, float]:
    """Central differences, and the largest :math:`|E|` evaluated."""
    theta = net.parameters.copy()
    numeric = np.empty_like(theta)
    largest = 0.0
    for i in range(theta.size):
        original = theta[i]
        theta[i] = original + step
        plus = net.evaluate_params(theta, X, y, sw)
        theta[i] = original - step
        minus = net.evaluate_params(theta, X, y, sw)
        theta[i] = original
        numeric[i] = (plus - minus) / (2 * step)
        largest = max(largest, abs(plus), abs(minus))
    return numeric, largest


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
    is meaningful for float32 networks too. Each tensor is judged on its own scale; one
    whose gradient is below what the differences resolve, or whose failing entries
    straddle a kink, is reported as not verifiable (and :attr:`~GradientCheckResult.passed`
    is False): a gradient is never called correct without evidence. Every failing entry
    is probed for a kink, however many there are, with two forward passes each (at most
    the cost of the differences again); a tensor's probes stop at its first failing entry
    that straddles no kink, so a wrong gradient costs one probe per tensor.

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
        The denominator for a tensor's entries is at least ``max(floor, relative_floor *
        max|g_T|, r / tolerance)``, ``max|g_T|`` that tensor's largest gradient entry and
        ``r`` the round-off of the differences: entries far smaller than their tensor's
        largest are judged on its scale, so round-off in near-zero entries is not counted
        as error.

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
    loss, analytic = net.loss_and_gradient(X64, y64, sw)
    numeric, largest = _numeric_gradient(net, X64, y64, sw, step)
    eps = float(np.finfo(np.float64).eps)
    resolution = _ROUND_OFF * eps * max(largest, abs(float(loss))) / step
    if not np.isfinite(resolution):
        resolution = 0.0
    rel = np.empty_like(analytic)
    magnitude: dict[str, float] = {}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # overflow -> NaN error
        for spec in net.layout.specs:
            a, n = analytic[spec.slice], numeric[spec.slice]
            both = np.maximum(np.abs(a), np.abs(n))
            top = float(both[np.isfinite(both)].max(initial=0.0))
            magnitude[spec.name] = top
            scale = max(floor, relative_floor * top, resolution / tolerance if tolerance else 0)
            rel[spec.slice] = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), scale)
    # A non-finite gradient on either side is a failed entry (NaN), never a pass: an
    # infinite one made every other error 0 through the floor, and max() skipped NaN.
    rel[~(np.isfinite(analytic) & np.isfinite(numeric))] = np.nan
    bad = np.flatnonzero(~(rel <= tolerance))
    theta = net.parameters.copy()
    kinked = bool(loss_kinks(net.loss)) or any(activation_kinks(x.activation) for x in net.layers)
    at_kink: dict[int, str] = {}
    status, per_tensor, failing = {}, {}, set()
    for spec in net.layout.specs:
        per_tensor[spec.name] = float(np.max(rel[spec.slice]))
        entries = bad[(bad >= spec.slice.start) & (bad < spec.slice.stop)]
        notes = _kink_notes(net, theta, entries, rel, step, X64, y64) if kinked else None
        if notes is not None:
            at_kink.update(notes)
        if entries.size and notes is None:
            status[spec.name] = FAILED
            if _layer_of(spec.name) is not None:
                failing.add(_layer_of(spec.name))
        elif magnitude[spec.name] < _RESOLVABLE * resolution:
            status[spec.name] = UNRESOLVED
        elif any(spec.slice.start <= i < spec.slice.stop for i in at_kink):
            status[spec.name] = AT_KINK
        else:
            status[spec.name] = PASSED
    suspect = _suspect(net, failing)
    if suspect is None and at_kink:
        suspect = next(iter(at_kink.values()))
    return GradientCheckResult(
        per_tensor, analytic, numeric, tolerance, suspect, status, resolution
    )
