r"""Loss functions: each one object holding its value and its gradient.

A :class:`Loss` gives, for every sample :math:`i`, a loss :math:`\ell_i` and
its gradient :math:`\partial \ell_i/\partial o_i` with respect to the network
output. A batch's error is the weighted mean

.. math:: E = \frac{\sum_i s_i \ell_i}{\sum_i s_i}

over per-sample weights :math:`s_i` (all 1 by default, so for a single
example :math:`E = \ell`). The tutorial's error is ``half_squared_error``:
:math:`\ell = \tfrac12 \sum_k (t_k - o_k)^2`.

Fused output pairs
------------------
For four (output activation, loss) pairs the chain rule collapses to a short,
stable expression for :math:`\partial \ell/\partial z` at the output net input
:math:`z`; :data:`FUSED_PAIRS` names them, and the test suite checks each equals
the general chain rule:

=================  =========================  =========================
activation         loss                       :math:`\partial\ell/\partial z`
=================  =========================  =========================
identity           half_squared_error         :math:`o - t`
sigmoid            binary_crossentropy        :math:`(o - t)/K`
softmax            categorical_crossentropy   :math:`o\sum_k t_k - t` (:math:`= o - t` one-hot)
exp                poisson                    :math:`2(o - t)/K`
=================  =========================  =========================

Their values are computed from :math:`z` with log-sum-exp, so they stay finite
even when the probabilities round to 0 or 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _rowops, _scipy
from ._typing import Array
from ._validation import check_object_name, check_positive, full_precision, lookup, register
from .activations import Activation
from .activations import is_builtin as builtin_activation
from .exceptions import InputError

__all__ = [
    "CLASSIFICATION_LOSSES",
    "Loss",
    "FusedPair",
    "LOSSES",
    "FUSED_PAIRS",
    "get_loss",
    "register_loss",
    "huber",
    "reduce_weighted",
    "is_builtin",
]

CLASSIFICATION_LOSSES = frozenset({"binary_crossentropy", "categorical_crossentropy"})
"""Names of the losses whose targets are classes: a network trained with one is a
classifier (accuracy is its default metric, its outputs are probabilities)."""


def _mean(x: Array, axis: int | None = None) -> Array:
    """``x.mean(axis)`` without ``np.mean``'s Python overhead (~10 us a call).

    The same values to the last bit: NumPy's mean is the same sum divided by the count, and
    a float32 quotient is the same whether divided in float32 or in float64 and rounded.
    """
    count = x.size if axis is None else x.shape[axis]
    return np.add.reduce(x, axis=axis) / count


def reduce_weighted(per_sample: Array, sample_weight: Array | None) -> float:
    r"""Return :math:`\sum_i s_i \ell_i / \sum_i s_i` (the plain mean when weights are None).

    Weights far from 1 (subnormal ones, say, whose products with the losses lose their
    digits) are first scaled by a power of two, which is exact: ordinary weights give the
    same value to the last bit. A float32 sum that overflows while every per-sample loss
    is finite is summed again in float64 (the mean of finite losses is finite).
    """
    with np.errstate(over="ignore"):
        if sample_weight is None:
            value = float(_mean(per_sample))
        else:
            sample_weight = _unit_scaled(sample_weight)
            value = float(per_sample @ sample_weight / sample_weight.sum())
    if np.isinf(value) and per_sample.dtype != np.float64 and np.isfinite(per_sample).all():
        wide = None if sample_weight is None else sample_weight.astype(np.float64)
        return reduce_weighted(per_sample.astype(np.float64), wide)
    return value


_SCALE_RANGE = (2.0**-64, 2.0**64)
"""Largest weights outside this range are scaled into it (:func:`reduce_weighted`)."""


def _unit_scaled(sample_weight: Array) -> Array:
    """``sample_weight`` times a power of two that brings its largest entry near 1, when it
    lies outside :data:`_SCALE_RANGE` (else the array itself). Only the ratios matter."""
    largest = float(sample_weight.max())
    if _SCALE_RANGE[0] <= largest <= _SCALE_RANGE[1] or largest <= 0:
        return sample_weight
    exponent = np.frexp(largest)[1]
    return np.ldexp(sample_weight.astype(sample_weight.dtype), -exponent).astype(
        sample_weight.dtype, copy=False
    )


def batch_scale(n_samples: int, sample_weight: Array | None, dtype: np.dtype) -> Array:
    r"""Per-sample factors :math:`s_i/\sum_j s_j` that turn per-sample gradients into ``dE``.

    Returns an array of shape (n_samples, 1).
    """
    if sample_weight is None:
        return np.full((n_samples, 1), 1.0 / n_samples, dtype=dtype)
    return (sample_weight / sample_weight.sum()).astype(dtype, copy=False)[:, None]


@dataclass(frozen=True)
class Loss:
    r"""A loss: per-sample value and its gradient with respect to the output.

    Parameters
    ----------
    name : str
        Registry name.
    value : callable ``(output, target) -> ndarray of shape (n_samples,)``
        Per-sample loss :math:`\ell_i` for outputs and targets of shape
        (n_samples, n_outputs).
    gradient : callable ``(output, target) -> ndarray of shape (n_samples, n_outputs)``
        :math:`\partial \ell_i/\partial o_i`, row by row.
    output_domain : (float, float), optional
        Bounds ``(lo, hi)`` of the outputs the loss is defined on (the cross-entropies:
        probabilities in [0, 1]; Poisson: rates in [0, inf)). A network whose output
        activation declares an :attr:`~deltarule.activations.Activation.output_range`
        outside them is refused: such a loss is clipped there, and its gradient is not the
        clipped loss's. None: any output.
    parameters : dict or tuple of (str, value) pairs, optional
        The JSON-able parameters the loss was made with (``huber(0.1)``: delta 0.1), kept
        as ``((name, value), ...)``, so that a model file or checkpoint can rebuild it
        (:meth:`config`).
    factory : callable, optional
        The function that makes this loss from its parameters (``huber``), called as
        ``factory(**parameters)`` to rebuild it; the registered loss of the name is asked
        for it.

    ``value`` and ``gradient`` are called once on a (3, 2) batch when the loss is made, so
    that a wrong signature or shape is an error here, naming the loss, rather than a
    broadcast error in a training step.

    Examples
    --------
    A user-defined loss, the quartic error:

    >>> quartic = Loss("quartic", lambda o, t: ((o - t) ** 4).sum(axis=1),
    ...                lambda o, t: 4 * (o - t) ** 3)
    >>> float(quartic(np.array([[2.0]]), np.array([[0.0]])))
    16.0
    """

    name: str
    value: Callable[[Array, Array], Array]
    gradient: Callable[[Array, Array], Array]
    output_domain: tuple[float, float] | None = None
    parameters: tuple[tuple[str, Any], ...] = ()
    factory: Callable[..., Loss] | None = field(default=None, compare=False, repr=False)

    if TYPE_CHECKING:  # (the generated __init__, which takes the parameters as a dict too)

        def __init__(
            self,
            name: str,
            value: Callable[[Array, Array], Array],
            gradient: Callable[[Array, Array], Array],
            output_domain: tuple[float, float] | None = None,
            parameters: Mapping[str, Any] | tuple[tuple[str, Any], ...] = (),
            factory: Callable[..., Loss] | None = None,
        ) -> None: ...

    def __post_init__(self) -> None:
        check_object_name(self.name, "Loss")
        if not (callable(self.value) and callable(self.gradient)):
            raise InputError(f"Loss {self.name!r}: value and gradient must be callable.")
        domain = self.output_domain
        if domain is not None and not (
            isinstance(domain, (tuple, list))
            and len(domain) == 2
            and all(isinstance(b, (int, float, np.number)) for b in domain)
            and domain[0] <= domain[1]
        ):
            raise InputError(
                f"Loss {self.name!r}: output_domain must be (lo, hi) with lo <= hi (infinite "
                f"for no bound); received {domain!r:.60}. E.g. (0.0, 1.0) for probabilities, "
                "(0.0, np.inf) for rates, or None for any output."
            )
        if isinstance(self.parameters, Mapping):  # frozen: set through object
            object.__setattr__(self, "parameters", tuple(self.parameters.items()))
        if _PROBE:
            self._probe()

    def _probe(self) -> None:
        """Call ``value`` and ``gradient`` once on probabilities and one-hot targets of shape
        (3, 2) (in every built-in loss's domain) and check the shapes they return."""
        output = np.array([[0.25, 0.75], [0.6, 0.4], [0.5, 0.5]])
        target = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
        what = "value(output, target)"
        try:
            with np.errstate(all="ignore"):
                returned = {"value(output, target)": self.value(output, target)}
                what = "gradient(output, target)"
                returned[what] = self.gradient(output, target)
                value, gradient = map(np.asarray, returned.values())
        except Exception as exc:  # noqa: BLE001 - any failure of a user's function is reported
            raise InputError(
                f"Loss {self.name!r}: {what} failed on outputs and targets of shape (3, 2) "
                f"({type(exc).__name__}: {exc}); expected value(output, target) -> one loss "
                "per sample and gradient(output, target) -> its derivative by each output, "
                "e.g. Loss('sse', lambda o, t: ((o - t) ** 2).sum(axis=1), lambda o, t: "
                "2 * (o - t))."
            ) from exc
        if value.shape != (3,):
            raise InputError(
                f"Loss {self.name!r}: value(output, target) returned shape {value.shape} for "
                "outputs of shape (3, 2); expected (3,), one loss per sample (reduce over the "
                "outputs only, e.g. ((o - t) ** 2).sum(axis=1))."
            )
        if gradient.shape != (3, 2):
            raise InputError(
                f"Loss {self.name!r}: gradient(output, target) returned shape "
                f"{gradient.shape} for outputs of shape (3, 2); expected (3, 2), each "
                "sample's loss differentiated by each of its outputs (e.g. 2 * (o - t))."
            )
        for what, result in returned.items():
            if not isinstance(result, np.ndarray):
                raise InputError(
                    f"Loss {self.name!r}: {what} returned {type(result).__name__} "
                    f"{result!r:.60}; expected a NumPy array. Compute with NumPy on the "
                    "arrays it is given (((o - t) ** 2).sum(axis=1), not a .tolist() or a list "
                    "comprehension), or wrap the result in np.asarray(..., dtype=o.dtype)."
                )

    @property
    def label(self) -> str:
        """The name, with the parameters it was made with: ``"huber (delta 0.1)"``."""
        given = ", ".join(f"{key} {value!r}" for key, value in self.parameters)
        return f"{self.name} ({given})" if given else self.name

    def config(self) -> str | dict[str, Any]:
        """Return what :func:`get_loss` rebuilds this loss from, as JSON-able data: its name,
        or ``{"name": name, **parameters}`` when its parameters differ from those of the
        registered loss of that name (``huber(0.1)``: ``{"name": "huber", "delta": 0.1}``)."""
        registered = LOSSES.get(self.name.lower())
        if not self.parameters or (
            registered is not None and registered.parameters == self.parameters
        ):
            return self.name
        return {"name": self.name, **dict(self.parameters)}

    def takes(self, output_range: tuple[float, float] | None) -> bool:
        """True when every output in ``output_range`` (an activation's; None: undeclared)
        lies in :attr:`output_domain` (None: any output)."""
        if output_range is None or self.output_domain is None:
            return True
        return self.output_domain[0] <= output_range[0] and output_range[1] <= self.output_domain[1]

    def __reduce__(self) -> Any:
        # A registered loss pickles by name (its functions may be lambdas), one its
        # registered namesake's factory made (huber(0.1)) by its config.
        registered = LOSSES.get(self.name.lower()) if isinstance(self.name, str) else None
        if registered is self:
            return (get_loss, (self.name,))
        if registered is not None and self.factory is not None:
            if registered.factory is self.factory:
                return (get_loss, (self.config(),))
        return super().__reduce__()

    def __call__(self, output: Array, target: Array, sample_weight: Array | None = None) -> float:
        """Return the batch error :math:`E` (weighted mean of the per-sample losses)."""
        return reduce_weighted(self.value(output, target), sample_weight)

    def output_gradient(
        self, output: Array, target: Array, sample_weight: Array | None = None
    ) -> Array:
        r"""Return :math:`\partial E/\partial o`, shape (n_samples, n_outputs)."""
        scale = batch_scale(output.shape[0], sample_weight, output.dtype)
        return self.gradient(output, target) * scale


@dataclass(frozen=True)
class FusedPair:
    r"""A (output activation, loss) pair whose gradient at the net input is short and stable.

    ``value(z, t)`` is the per-sample loss computed from the output net input
    :math:`z`; ``delta(z, o, t)`` is :math:`\partial\ell_i/\partial z_i`.
    ``value_into(z, t, work)`` and ``delta_into(z, o, t, out)``, where given, compute the
    same values to the last bit with a preallocated (n_samples, n_outputs) array (the
    training loop's, so a step allocates no batch-sized array).
    """

    activation: str
    loss: str
    value: Callable[[Array, Array], Array]
    delta: Callable[[Array, Array, Array], Array]
    value_into: Callable[[Array, Array, Array], Array] | None = None
    delta_into: Callable[[Array, Array, Array, Array], Array] | None = None

    def per_sample(self, z: Array, t: Array, work: Array | None = None) -> Array:
        """Per-sample loss, using ``work`` (shape of ``z``, overwritten) when given."""
        if work is not None and self.value_into is not None:
            return self.value_into(z, t, work)
        return self.value(z, t)

    def gradient(self, z: Array, o: Array, t: Array, out: Array | None = None) -> Array:
        r""":math:`\partial\ell_i/\partial z_i`, written into ``out`` when given."""
        if out is not None and self.delta_into is not None:
            return self.delta_into(z, o, t, out)
        return self.delta(z, o, t)


def _eps(x: Array) -> float:
    return float(np.finfo(x.dtype).eps)


def _positive(o: Array, upper: float | None = None) -> Array:
    """``o`` as the unfused cross-entropies and Poisson take it, clipped to
    ``[floor, upper]``, floor the dtype's smallest normal number over its epsilon (1e-31 in
    float32, 1e-292 in float64; float16's epsilon, where that ratio is larger).

    Clipped at eps instead, an output below it (a sigmoid's at z = -20 in float32) made the
    gradient o / eps times too small and the loss stuck. Above the floor the gradient
    -t / o is the exact one and stays below 1 / floor, so that a sum of it over a million
    rows of inputs up to 10 is still finite in float32. An output at or below 0, outside
    the losses' domain (only an activation of a user's that declares no output range gives
    one), is taken as eps: a bounded push back into it."""
    info = np.finfo(o.dtype)
    floor = min(full_precision(o.dtype), info.eps)  # (float16's would be 0.0625: eps)
    p = np.clip(o, floor, upper)
    return np.where(o <= 0, info.eps, p) if (o <= 0).any() else p  # (NaN stays NaN)


def _half_squared(o: Array, t: Array) -> Array:
    r = o - t
    return 0.5 * np.einsum("ij,ij->i", r, r)


def _mse(o: Array, t: Array) -> Array:
    r = o - t
    return np.einsum("ij,ij->i", r, r) / o.shape[1]


def _mae(o: Array, t: Array) -> Array:
    return _mean(np.abs(o - t), axis=1)


def huber(delta: float = 1.0) -> Loss:
    r"""Return the Huber loss with threshold ``delta``.

    .. math:: h(r) = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\
              \delta(|r| - \tfrac12\delta) & \text{otherwise} \end{cases}

    averaged over the outputs; :math:`r = o - t`. The delta is kept with the loss
    (:meth:`Loss.config`), so model files and checkpoints restore it.

    Examples
    --------
    >>> huber(0.1).config()
    {'name': 'huber', 'delta': 0.1}
    """
    delta = check_positive(delta, "huber delta")

    def value(o: Array, t: Array) -> Array:
        a = np.abs(o - t)
        quad = np.minimum(a, delta)
        return _mean(0.5 * quad * quad + delta * (a - quad), axis=1)

    def gradient(o: Array, t: Array) -> Array:
        return np.clip(o - t, -delta, delta) / o.shape[1]

    return Loss("huber", value, gradient, parameters=(("delta", delta),), factory=huber)


def _bce(o: Array, t: Array) -> Array:
    p = _positive(o, 1 - _eps(o))
    return _mean(-(t * np.log(p) + (1 - t) * np.log1p(-p)), axis=1)


def _bce_gradient(o: Array, t: Array) -> Array:
    p = _positive(o, 1 - _eps(o))
    return (p - t) / (p * (1 - p)) / o.shape[1]


def _cce(o: Array, t: Array) -> Array:
    p = _positive(o)
    return -(t * np.log(p)).sum(axis=1)


def _cce_gradient(o: Array, t: Array) -> Array:
    return -t / _positive(o)


def _poisson(o: Array, t: Array) -> Array:
    # Mean Poisson deviance 2 (t log(t/o) - t + o), with t log t = 0 at t = 0.
    mu = _positive(o)
    xlogy = _scipy.special().xlogy
    return _mean(2 * (xlogy(t, t) - xlogy(t, mu) - t + mu), axis=1)


def _poisson_gradient(o: Array, t: Array) -> Array:
    mu = _positive(o)
    return 2 * (1 - t / mu) / o.shape[1]


_PROBE = False  # (not for the built-ins below, which the contract tests check: their
# probes would import scipy with the package, ~0.25 s that a ReLU network never needs)
LOSSES: dict[str, Loss] = {}
"""The registry: name -> :class:`Loss`. Aliases map to the same object."""


def register_loss(loss: Loss, *, aliases: tuple[str, ...] = (), overwrite: bool = False) -> Loss:
    """Add ``loss`` to the registry under its name (and ``aliases``)."""
    if not isinstance(loss, Loss):
        raise InputError(f"register_loss expects a Loss; received {type(loss).__name__}.")
    register(LOSSES, loss, loss.name, aliases, "loss", overwrite)
    return loss


def get_loss(loss: str | Mapping[str, Any] | Loss) -> Loss:
    """Return the :class:`Loss` for a registry name or a :meth:`Loss.config` mapping
    (``{"name": "huber", "delta": 0.1}``), or the object itself."""
    if isinstance(loss, Loss):
        return loss
    if not isinstance(loss, Mapping):
        return lookup(LOSSES, loss, "loss")
    parameters = {key: value for key, value in loss.items() if key != "name"}
    registered = lookup(LOSSES, loss.get("name"), "loss")
    if not parameters:
        return registered
    if registered.factory is None:
        raise InputError(
            f"loss {registered.name!r} takes no parameters; received {parameters!r:.80}. "
            f"Give it by name alone, loss={registered.name!r}; for a loss of your own, "
            "register one made with factory=<the function that makes it from its "
            "parameters> (Loss(..., parameters={...}, factory=make_my_loss))."
        )
    try:
        return registered.factory(**parameters)
    except TypeError as exc:
        raise InputError(
            f"loss {registered.name!r} could not be made from parameters {parameters!r:.80} "
            f"({exc}); give the parameters its function {registered.factory.__name__} takes."
        ) from None


for _loss, _aliases in [
    (
        Loss("half_squared_error", _half_squared, lambda o, t: o - t),
        ("squared_error", "sse", "tutorial"),
    ),
    (Loss("mse", _mse, lambda o, t: 2 * (o - t) / o.shape[1]), ("mean_squared_error",)),
    (Loss("mae", _mae, lambda o, t: np.sign(o - t) / o.shape[1]), ("mean_absolute_error",)),
    (huber(1.0), ()),
    (  # "ce": R neuralnet's err.fct="ce" is the binary cross-entropy
        Loss("binary_crossentropy", _bce, _bce_gradient, (0.0, 1.0)),
        ("bce", "log_loss_binary", "ce"),
    ),
    (
        Loss("categorical_crossentropy", _cce, _cce_gradient, (0.0, 1.0)),
        ("cce", "cross_entropy", "log_loss"),
    ),
    (Loss("poisson", _poisson, _poisson_gradient, (0.0, np.inf)), ("poisson_deviance",)),
]:
    register_loss(_loss, aliases=_aliases)


def _bce_from_logits(z: Array, t: Array) -> Array:
    return _mean(np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z))), axis=1)


def _logsumexp(z: Array) -> Array:
    """Row-wise log Σ exp(z), shifted by the row maximum (plain NumPy: no dispatch overhead)."""
    m = z.max(axis=1, keepdims=True)
    return m + np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def _cce_from_logits(z: Array, t: Array) -> Array:
    log_p = z - _logsumexp(z)
    return -(t * log_p).sum(axis=1)


def _cce_from_logits_into(z: Array, t: Array, work: Array) -> Array:
    # _cce_from_logits's operations, with _logsumexp's, through ``work`` (row kernels)
    m = _rowops.subtract_row_max(z, work)
    np.exp(work, out=work)
    log_s = _rowops.row_sum(work)
    np.log(log_s, out=log_s)
    return _rowops.cross_entropy_rows(z, t, m, log_s, work)


def _cce_delta(z: Array, o: Array, t: Array) -> Array:
    return o * t.sum(axis=1, keepdims=True) - t


def _cce_delta_into(z: Array, o: Array, t: Array, out: Array) -> Array:
    return _rowops.cce_delta(o, t, out)


def _half_squared_into(o: Array, t: Array, work: Array) -> Array:
    np.subtract(o, t, out=work)
    return 0.5 * np.einsum("ij,ij->i", work, work)


def _bce_delta_into(z: Array, o: Array, t: Array, out: Array) -> Array:
    np.subtract(o, t, out=out)
    return np.divide(out, o.shape[1], out=out)


def _poisson_from_log(z: Array, t: Array) -> Array:
    # The mean deviance with o = exp(z): 2 (t log t - t z - t + e^z), averaged over outputs.
    top = z.dtype.type(np.log(np.finfo(z.dtype).max) - 1)  # as the exp activation clips
    t_log_t = _scipy.special().xlogy(t, t)
    with np.errstate(over="ignore"):
        value = _mean(2 * (t_log_t - t * z - t + np.exp(np.minimum(z, top))), axis=1)
    if z.dtype != np.float64 and not np.isfinite(value).all():
        # Near the clip point 2 e^z, or its sum over the outputs, overflows float32 while
        # the mean (at most 2 e^top) and the gradient are finite: compute it in float64.
        wide = _poisson_from_log(z.astype(np.float64), t.astype(np.float64))
        return np.minimum(wide, np.finfo(z.dtype).max).astype(z.dtype)
    return value


FUSED_PAIRS: dict[tuple[str, str], FusedPair] = {
    ("identity", "half_squared_error"): FusedPair(
        "identity",
        "half_squared_error",
        lambda z, t: _half_squared(z, t),
        lambda z, o, t: o - t,
        value_into=_half_squared_into,
        delta_into=lambda z, o, t, out: np.subtract(o, t, out=out),
    ),
    ("sigmoid", "binary_crossentropy"): FusedPair(
        "sigmoid",
        "binary_crossentropy",
        _bce_from_logits,
        lambda z, o, t: (o - t) / o.shape[1],
        delta_into=_bce_delta_into,
    ),
    ("softmax", "categorical_crossentropy"): FusedPair(
        "softmax",
        "categorical_crossentropy",
        _cce_from_logits,
        _cce_delta,
        value_into=_cce_from_logits_into,
        delta_into=_cce_delta_into,
    ),
    ("exp", "poisson"): FusedPair(
        "exp", "poisson", _poisson_from_log, lambda z, o, t: 2 * (o - t) / o.shape[1]
    ),
}
"""(activation name, loss name) -> :class:`FusedPair`."""


def fused_pair(activation: Activation, loss: Loss) -> FusedPair | None:
    """Return the fused pair for an output activation and loss, or None.

    Only the built-in objects pair up (see :func:`is_builtin` and
    :func:`deltarule.activations.is_builtin`): a user's loss or activation under a
    built-in name is differentiated by the general chain rule, with its own functions.
    """
    pair = FUSED_PAIRS.get((activation.name, loss.name))
    if pair is None or not (is_builtin(loss) and builtin_activation(activation)):
        return None
    return pair


_BUILTINS: dict[str, Loss] = dict(LOSSES)
_PROBE = True  # every object made from here on, a user's, is probed
"""The losses this module defines, by name: what the compiled kernels compute."""


def is_builtin(loss: Loss) -> bool:
    """True when ``loss`` is the object this module defines under its name (a user's
    :class:`Loss` called ``"mse"``, or one registered over the built-in, computes its own)."""
    return _BUILTINS.get(loss.name) is loss
