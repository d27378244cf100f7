r"""Activation functions: each one object holding its function and its derivative.

An :class:`Activation` maps a layer's net input :math:`z` to its output
:math:`a = f(z)`; backpropagation needs :math:`\partial a / \partial z`. Keeping
both in one object, under one registry name, means they cannot drift apart.
Element-wise activations give ``derivative(z, a)`` (written from the cached
output ``a`` where that is cheaper, e.g. :math:`\sigma' = a(1-a)`); softmax,
which mixes a row's entries, gives a vector-Jacobian product instead.

Every built-in is numerically stable: no overflow warnings and no NaN for
inputs up to :math:`\pm 10^4` in float32 and float64.

Examples
--------
>>> import numpy as np
>>> from deltarule.activations import get_activation
>>> sig = get_activation("sigmoid")
>>> z = np.array([0.0, 2.0])
>>> a = sig(z)
>>> bool(np.allclose(sig.derivative(z, a), a * (1 - a)))
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _rowops, _scipy
from ._typing import Array
from ._validation import check_object_name, lookup, register
from .exceptions import InputError

__all__ = [
    "Activation",
    "ACTIVATIONS",
    "get_activation",
    "register_activation",
    "is_builtin",
]


def _broadcasts(out: Array, z: Array) -> bool:
    """Whether an array of ``out``'s shape broadcasts to ``z``'s shape."""
    try:
        return np.broadcast_shapes(out.shape, z.shape) == z.shape
    except ValueError:
        return False


@dataclass(frozen=True)
class Activation:
    r"""An activation function together with its derivative.

    Parameters
    ----------
    name : str
        Registry name.
    function : callable ``(z) -> a``
        The activation, applied to an array of net inputs of shape
        (n_samples, n_units); returns an array of the same shape and dtype.
    derivative : callable ``(z, a) -> f'(z)`` or None
        Element-wise derivative :math:`\partial a/\partial z`, given both the net
        input ``z`` and the output ``a = f(z)``. None for activations that are
        not element-wise (softmax), which give ``jacobian_product`` instead.
    jacobian_product : callable ``(z, a, grad_a) -> grad_z`` or None
        Vector-Jacobian product :math:`\partial E/\partial z` from
        :math:`\partial E/\partial a`, for activations that mix a row's entries.
    function_into : callable ``(z, out) -> a``, optional
        ``function`` computed in a preallocated ``out`` (or returning ``z`` itself for the
        identity), with the same operations, so the same values to the last bit. The
        training loop uses it to allocate nothing per batch; the contract tests check it.
    backward_into : callable ``(z, a, grad_a, out) -> grad_z``, optional
        :meth:`backward` computed in a preallocated ``out``, likewise bit for bit.
    output_range : (float, float), optional
        Bounds ``(lo, hi)`` every output lies within (``lo <= a <= hi``; infinite for no
        bound), so that a loss defined only on some outputs (probabilities, positive rates)
        can refuse an output activation whose values fall outside them (see
        :attr:`deltarule.losses.Loss.output_domain`). None: not declared, not checked.

    Examples
    --------
    A user-defined activation, the cube:

    >>> cube = Activation("cube", lambda z: z**3, lambda z, a: 3 * z**2)
    >>> float(cube(np.array([2.0]))[0])
    8.0
    """

    name: str
    function: Callable[[Array], Array]
    derivative: Callable[[Array, Array], Array] | None = None
    jacobian_product: Callable[[Array, Array, Array], Array] | None = None
    function_into: Callable[[Array, Array], Array] | None = None
    backward_into: Callable[[Array, Array, Array, Array], Array] | None = None
    output_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        check_object_name(self.name, "Activation")
        if not callable(self.function):
            raise InputError(f"Activation {self.name!r}: function must be callable.")
        if self.output_range is not None and not (
            len(self.output_range) == 2 and self.output_range[0] <= self.output_range[1]
        ):
            raise InputError(
                f"Activation {self.name!r}: output_range must be (lo, hi) with lo <= hi; "
                f"received {self.output_range!r}."
            )
        if (self.derivative is None) == (self.jacobian_product is None):
            raise InputError(
                f"Activation {self.name!r}: give exactly one of derivative(z, a) (element-wise) "
                "or jacobian_product(z, a, grad_a)."
            )
        if _PROBE:
            self._probe()

    def _probe(self) -> None:
        """Call the functions once on a small array, so that a wrong signature or shape is
        an error here, naming the activation, rather than an IndexError or TypeError deep
        in a training step."""
        z = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
        what = "function(z)"
        try:
            with np.errstate(all="ignore"):
                returned = self.function(z)
                a = np.asarray(returned)
                if a.shape == z.shape:
                    self._probe_type("function(z)", returned, number=False)
                    if self.derivative is not None:
                        what = "derivative(z, a)"
                        returned = self.derivative(z, a)
                    else:
                        what = "jacobian_product(z, a, grad_a)"
                        returned = self.jacobian_product(z, a, np.ones_like(z))
                    out = np.asarray(returned)
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure of a user's function is reported
            raise InputError(
                f"Activation {self.name!r}: {what} failed on an array of shape (2, 3) "
                f"({type(exc).__name__}: {exc}); expected function(z) -> f(z) and "
                "derivative(z, a) -> f'(z), where a = f(z) (e.g. Activation('tanh2', np.tanh, "
                "lambda z, a: 1 - a * a)), each of z's shape."
            ) from exc
        if a.shape != z.shape:
            raise InputError(
                f"Activation {self.name!r}: function(z) returned shape {a.shape} for z of shape "
                "(2, 3); expected z's shape (element-wise, or row by row like softmax)."
            )
        # A shape other than z's must broadcast to z's for any batch and width (one number,
        # a row, a column): looked at on a second z, as a fixed (3,) fits (2, 3) alone.
        if out.shape != z.shape and not (_broadcasts(out, z) and self._broadcasts_again(what)):
            raise InputError(
                f"Activation {self.name!r}: {what} returned shape {out.shape} for z of shape "
                "(2, 3); expected z's shape, or one that broadcasts to z's for every batch "
                "(a single number, a row (1, n), a column (n_rows, 1)): it multiplies the "
                "gradient entry by entry."
            )
        self._probe_type(what, returned, number=self.derivative is not None)
        self._probe_dtype(z.astype(np.float32))

    def _broadcasts_again(self, what: str) -> bool:
        """Whether ``what`` (the derivative or the Jacobian product) broadcasts to z's shape
        for a z of another batch and width, (5, 4), too."""
        z = np.linspace(-1.0, 1.0, 20).reshape(5, 4)
        try:
            with np.errstate(all="ignore"):
                a = np.asarray(self.function(z))
                if self.derivative is not None:
                    out = self.derivative(z, a)
                else:
                    out = self.jacobian_product(z, a, np.ones_like(z))
        except Exception:  # noqa: BLE001 - failing there: not the shape of every batch
            return False
        return _broadcasts(np.asarray(out), z)

    def _probe_type(self, what: str, returned: Any, number: bool) -> None:
        """Refuse a result that is not an ndarray (a list, say), or for ``number`` a number."""
        if isinstance(returned, np.ndarray) or (
            number
            and isinstance(returned, (int, float, np.number))
            and not isinstance(returned, bool)
        ):
            return
        raise InputError(
            f"Activation {self.name!r}: {what} returned {type(returned).__name__} "
            f"{returned!r:.60}; expected a NumPy array of z's shape"
            f"{' (or a single number)' if number else ''}. Compute with NumPy on z "
            "(np.tanh(z), 1 - a * a), or wrap the result in np.asarray(..., dtype=z.dtype)."
        )

    def _probe_dtype(self, z: Array) -> None:
        """Refuse functions that turn a float32 ``z`` into float64 (a network keeps its dtype
        end to end: its predictions would come out float64)."""
        with np.errstate(all="ignore"):
            a = self.function(z)
            what, kept = "function(z)", getattr(a, "dtype", z.dtype) == z.dtype
            if kept:
                what = "derivative(z, a)" if self.elementwise else "jacobian_product(z, a, g)"
                out = (
                    self.derivative(z, a)
                    if self.derivative is not None
                    else self.jacobian_product(z, a, np.ones_like(z))  # type: ignore[misc]
                )
                # (a Python number or a boolean mask keeps grad_a's dtype in the product)
                kept = np.ndim(out) == 0 or np.result_type(out, z.dtype) == z.dtype
                a = out
        if not kept:
            raise InputError(
                f"Activation {self.name!r}: {what} returned {np.asarray(a).dtype} for z of "
                f"dtype {z.dtype}; expected z's dtype (a float32 network computes in float32 "
                "end to end). Compute in z's dtype (np.tanh(z), not np.tanh(z.astype(float)); a "
                "boolean mask times a Python float is float64: (z > 0).astype(z.dtype) * 2.0), "
                "or end with .astype(z.dtype)."
            )

    @property
    def elementwise(self) -> bool:
        """True when the derivative is element-wise (every activation but softmax)."""
        return self.derivative is not None

    def __reduce__(self) -> Any:
        # A registered activation pickles by name (its functions may be lambdas).
        if isinstance(self.name, str) and ACTIVATIONS.get(self.name.lower()) is self:
            return (get_activation, (self.name,))
        return super().__reduce__()

    def __call__(self, z: Array, out: Array | None = None) -> Array:
        """Return :math:`f(z)`, in ``out`` (same shape as ``z``) when given and supported."""
        if out is not None and self.function_into is not None:
            return self.function_into(z, out)
        return self.function(z)

    def backward(self, z: Array, a: Array, grad_a: Array, out: Array | None = None) -> Array:
        r"""Return :math:`\partial E/\partial z = \partial E/\partial a \cdot f'(z)`.

        Parameters
        ----------
        z, a, grad_a : ndarray of shape (n_samples, n_units)
            Net input, output and the gradient of the error with respect to the output.
        out : ndarray of shape (n_samples, n_units), optional
            Where to write the result (when the activation has ``backward_into``); must not
            be ``grad_a``.
        """
        if out is not None and self.backward_into is not None:
            return self.backward_into(z, a, grad_a, out)
        if self.derivative is not None:
            return grad_a * self.derivative(z, a)
        return self.jacobian_product(z, a, grad_a)  # type: ignore[misc]


_EXPIT: Any = None  # scipy's expit, once first used


def _expit(z: Array, out: Array | None = None) -> Array:
    """The logistic sigmoid 1 / (1 + exp(-z)), scipy's ``expit`` (exact at both tails),
    into ``out`` when given."""
    global _EXPIT
    if _EXPIT is None:
        _EXPIT = _scipy.special().expit
    return _EXPIT(z) if out is None else _EXPIT(z, out=out)


def _ones_like(z: Array, a: Array) -> Array:
    return np.ones_like(z)


def _relu_derivative(z: Array, a: Array) -> Array:
    return (z > 0).astype(z.dtype)


def _relu_into(z: Array, out: Array) -> Array:
    return _rowops.relu(z, out)


def _relu_backward_into(z: Array, a: Array, grad_a: Array, out: Array) -> Array:
    return _rowops.relu_backward(z, grad_a, out)


def _sigmoid_backward_into(z: Array, a: Array, grad_a: Array, out: Array) -> Array:
    np.subtract(1, a, out=out)
    np.multiply(a, out, out=out)
    return np.multiply(grad_a, out, out=out)


def _tanh_backward_into(z: Array, a: Array, grad_a: Array, out: Array) -> Array:
    np.multiply(a, a, out=out)
    np.subtract(1, out, out=out)
    return np.multiply(grad_a, out, out=out)


def _identity_backward_into(z: Array, a: Array, grad_a: Array, out: Array) -> Array:
    return np.multiply(grad_a, 1, out=out)  # grad_a * ones, as the plain path computes


_LEAKY_SLOPE = 0.01


def _leaky_relu(z: Array) -> Array:
    return np.where(z > 0, z, z * z.dtype.type(_LEAKY_SLOPE))


def _leaky_relu_derivative(z: Array, a: Array) -> Array:
    return np.where(z > 0, z.dtype.type(1), z.dtype.type(_LEAKY_SLOPE))


def _elu(z: Array) -> Array:
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))


def _elu_derivative(z: Array, a: Array) -> Array:
    # e^z, not a + 1: a = e^z - 1 cancels to nothing as z falls (z = -40: 0 for 4.2e-18)
    return np.where(z > 0, z.dtype.type(1), np.exp(np.minimum(z, 0)))


# Klambauer et al. (2017), "Self-Normalizing Neural Networks".
_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805


def _selu(z: Array) -> Array:
    t = z.dtype.type
    return t(_SELU_SCALE) * np.where(z > 0, z, t(_SELU_ALPHA) * np.expm1(np.minimum(z, 0)))


def _selu_derivative(z: Array, a: Array) -> Array:
    t = z.dtype.type
    # (scale alpha e^z, not a + scale alpha: as ELU's, that sum cancels as z falls)
    return np.where(z > 0, t(_SELU_SCALE), t(_SELU_SCALE * _SELU_ALPHA) * np.exp(np.minimum(z, 0)))


_SQRT_HALF = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


def _gelu(z: Array) -> Array:
    # The exact GELU, z * Phi(z) (Hendrycks & Gimpel, 2016).
    t = z.dtype.type
    return t(0.5) * z * (t(1) + _scipy.special().erf(z * t(_SQRT_HALF)))


def _gelu_derivative(z: Array, a: Array) -> Array:
    t = z.dtype.type
    cdf = t(0.5) * (t(1) + _scipy.special().erf(z * t(_SQRT_HALF)))
    return cdf + z * t(_INV_SQRT_2PI) * np.exp(t(-0.5) * z * z)


def _softplus(z: Array) -> Array:
    return np.logaddexp(z.dtype.type(0), z)


def _silu(z: Array) -> Array:
    return z * _expit(z)


def _silu_derivative(z: Array, a: Array) -> Array:
    s = _expit(z)
    return s * (1 + z * (1 - s))


def _softsign_derivative(z: Array, a: Array) -> Array:
    d = 1 + np.abs(z)
    return 1 / (d * d)


def _hard_sigmoid(z: Array) -> Array:
    # relu6(z + 3) / 6, the definition of PyTorch and Keras 3.
    t = z.dtype.type
    # (z + 3 first: z / 6 + 0.5 cancels near z = -3, 5e6 ulp off at -2.9999999 in float64)
    return np.clip(z + t(3), t(0), t(6)) / t(6)


def _hard_sigmoid_derivative(z: Array, a: Array) -> Array:
    t = z.dtype.type
    return np.where((z > -3) & (z < 3), t(1 / 6), t(0))


def _exp(z: Array) -> Array:
    # Clipped just below the overflow point, so huge inputs give a large finite output.
    return np.exp(np.minimum(z, z.dtype.type(np.log(np.finfo(z.dtype).max) - 1)))


def _softmax(z: Array) -> Array:
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def _softmax_into(z: Array, out: Array) -> Array:
    # _softmax's operations; the row reductions run as kernels where they can (bit for bit)
    _rowops.subtract_row_max(z, out)
    np.exp(out, out=out)
    return _rowops.divide_by_row_sum(out, out)


def _softmax_jacobian_product(z: Array, a: Array, grad_a: Array) -> Array:
    # J = diag(a) - a a^T, so J^T g = a * (g - <g, a>).
    return a * (grad_a - (grad_a * a).sum(axis=-1, keepdims=True))


_PROBE = False  # (not for the built-ins below, which the contract tests check: their
# probes would import scipy with the package, ~0.25 s that a ReLU network never needs)
ACTIVATIONS: dict[str, Activation] = {}
"""The registry: name -> :class:`Activation`. Aliases map to the same object."""


def register_activation(
    activation: Activation, *, aliases: tuple[str, ...] = (), overwrite: bool = False
) -> Activation:
    """Add ``activation`` to the registry under its name (and ``aliases``).

    Raises
    ------
    InputError
        If the name is taken and ``overwrite`` is False.
    """
    if not isinstance(activation, Activation):
        raise InputError(
            f"register_activation expects an Activation; received {type(activation).__name__}."
        )
    register(ACTIVATIONS, activation, activation.name, aliases, "activation", overwrite)
    return activation


def get_activation(activation: str | Activation) -> Activation:
    """Return the :class:`Activation` for a registry name, or the object itself."""
    if isinstance(activation, Activation):
        return activation
    return lookup(ACTIVATIONS, activation, "activation")


for _act, _aliases in [
    (
        Activation(
            "identity",
            lambda z: z,
            _ones_like,
            function_into=lambda z, out: z,
            backward_into=_identity_backward_into,
            output_range=(-np.inf, np.inf),
        ),
        ("linear",),
    ),
    (
        Activation(
            "sigmoid",
            _expit,
            lambda z, a: a * (1 - a),
            function_into=_expit,
            backward_into=_sigmoid_backward_into,
            output_range=(0.0, 1.0),
        ),
        ("logistic",),
    ),
    (
        Activation(
            "tanh",
            np.tanh,
            lambda z, a: 1 - a * a,
            function_into=lambda z, out: np.tanh(z, out=out),
            backward_into=_tanh_backward_into,
            output_range=(-1.0, 1.0),
        ),
        (),
    ),
    (
        Activation(
            "relu",
            lambda z: np.maximum(z, 0),
            _relu_derivative,
            function_into=_relu_into,
            backward_into=_relu_backward_into,
            output_range=(0.0, np.inf),
        ),
        (),
    ),
    (
        Activation(
            "leaky_relu", _leaky_relu, _leaky_relu_derivative, output_range=(-np.inf, np.inf)
        ),
        (),
    ),
    (Activation("elu", _elu, _elu_derivative, output_range=(-1.0, np.inf)), ()),
    (Activation("selu", _selu, _selu_derivative, output_range=(-1.7581, np.inf)), ()),
    (Activation("gelu", _gelu, _gelu_derivative, output_range=(-0.17, np.inf)), ()),
    (
        Activation("softplus", _softplus, lambda z, a: _expit(z), output_range=(0.0, np.inf)),
        (),
    ),
    (Activation("silu", _silu, _silu_derivative, output_range=(-0.279, np.inf)), ("swish",)),
    (
        Activation(
            "softsign",
            lambda z: z / (1 + np.abs(z)),
            _softsign_derivative,
            output_range=(-1.0, 1.0),
        ),
        (),
    ),
    (
        Activation(
            "hard_sigmoid", _hard_sigmoid, _hard_sigmoid_derivative, output_range=(0.0, 1.0)
        ),
        (),
    ),
    (
        Activation(
            "exp",
            _exp,
            lambda z, a: np.where(z < np.log(np.finfo(z.dtype).max) - 1, a, 0),
            output_range=(0.0, np.inf),
        ),
        (),
    ),
    (
        Activation(
            "softmax",
            _softmax,
            jacobian_product=_softmax_jacobian_product,
            function_into=_softmax_into,
            output_range=(0.0, 1.0),
        ),
        (),
    ),
]:
    register_activation(_act, aliases=_aliases)

_BUILTINS: dict[str, Activation] = dict(ACTIVATIONS)
_PROBE = True  # every object made from here on, a user's, is probed
"""The activations this module defines, by name: what the compiled kernels compute."""


def is_builtin(activation: Activation) -> bool:
    """True when ``activation`` is the object this module defines under its name.

    Code that computes an activation by its name (the compiled kernels) may do so only for
    these: a user's :class:`Activation` called ``"tanh"`` (or one registered over the
    built-in with ``overwrite=True``) computes its own function.
    """
    return _BUILTINS.get(activation.name) is activation
