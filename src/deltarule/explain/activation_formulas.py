r"""The formulas of the built-in activations beyond the tutorial's, as the walk writes them.

Each is the library's own definition (:mod:`deltarule.activations`), written as one formula
that holds for every net: a branch is chosen with an indicator bracket, :math:`[net > 0]`
being 1 where the condition holds and 0 elsewhere, as relu's derivative is written. So
``out_h2 = max(0.01·net_h2, net_h2) = max(0.01·(-0.65), -0.65) = -0.0065`` shows the leaky
relu's slope, and ``∂out_h2/∂net_h2 = [net_h2 > 0] + 0.01·[net_h2 ≤ 0] = ...`` its
derivative, with the numbers substituted. A constant of the definition (selu's
:math:`\lambda` and :math:`\alpha`, the point where exp is clipped) is an argument of the
formula after the net (and out), given by :data:`ACTIVATION_CONSTANTS` for the network's
dtype: the network computes with the constant rounded to its dtype, and the walk shows that.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import activations as _acts
from .expr import Expr, Num, Sym, Tpl

__all__ = ["ACTIVATION_CONSTANTS", "ACTIVATION_NOTES", "MORE_FORMULAS", "constants"]

_SLOPE = _acts._LEAKY_SLOPE
_ALPHA, _SCALE = _acts._SELU_ALPHA, _acts._SELU_SCALE
_S = f"{_SLOPE:g}"


def _expit(x: float) -> float:
    """The logistic sigmoid, without overflow."""
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def _softplus(x: float) -> float:
    return float(np.logaddexp(0.0, x))


def _gelu_derivative(o: float, n: float) -> float:
    return 0.5 * (1 + math.erf(n / math.sqrt(2))) + n * math.exp(-n * n / 2) / math.sqrt(
        2 * math.pi
    )


def _silu_derivative(o: float, n: float) -> float:
    s = _expit(n)
    return s * (1 + n * (1 - s))


MORE_FORMULAS: dict[str, tuple[Tpl, Tpl]] = {
    "leaky_relu": (
        Tpl(f"max({_S}·%0, %0)", rf"\max\left({_S} \cdot %0, %0\right)",
            fn=lambda x: max(_SLOPE * x, x)),
        Tpl(f"[%1 > 0] + {_S}·[%1 ≤ 0]", rf"[%1 > 0] + {_S} \cdot [%1 \le 0]",
            fn=lambda o, n: 1.0 if n > 0 else _SLOPE),
    ),
    "elu": (
        Tpl("[%0 > 0]·%0 + [%0 ≤ 0]·(e^%0 − 1)",
            r"[%0 > 0] \cdot %0 + [%0 \le 0] \cdot \left(e^{%0} - 1\right)",
            fn=lambda x: x if x > 0 else math.expm1(x)),
        Tpl("[%1 > 0] + [%1 ≤ 0]·(%0 + 1)", r"[%1 > 0] + [%1 \le 0] \cdot \left(%0 + 1\right)",
            fn=lambda o, n: 1.0 if n > 0 else o + 1),
    ),
    "selu": (
        Tpl("%1·([%0 > 0]·%0 + [%0 ≤ 0]·%2·(e^%0 − 1))",
            r"%1 \cdot \left([%0 > 0] \cdot %0 + [%0 \le 0] \cdot %2 \cdot "
            r"\left(e^{%0} - 1\right)\right)",
            fn=lambda x, lam, a: lam * (x if x > 0 else a * math.expm1(x))),
        Tpl("[%1 > 0]·%2 + [%1 ≤ 0]·(%0 + %2·%3)",
            r"[%1 > 0] \cdot %2 + [%1 \le 0] \cdot \left(%0 + %2 \cdot %3\right)",
            fn=lambda o, n, lam, a: lam if n > 0 else o + lam * a),
    ),
    "gelu": (
        Tpl("½·%0·(1 + erf(%0/√2))",
            r"\frac{1}{2} %0 \left(1 + \mathrm{erf}\left(%0/\sqrt{2}\right)\right)",
            fn=lambda x: 0.5 * x * (1 + math.erf(x / math.sqrt(2)))),
        Tpl("½(1 + erf(%1/√2)) + %1·e^(−%1²/2)/√(2π)",
            r"\frac{1}{2}\left(1 + \mathrm{erf}\left(%1/\sqrt{2}\right)\right) + "
            r"%1 \cdot \frac{e^{-%1^{2}/2}}{\sqrt{2\pi}}",
            fn=_gelu_derivative),
    ),
    "softplus": (
        Tpl("ln(1 + e^%0)", r"\ln\left(1 + e^{%0}\right)", fn=_softplus),
        Tpl("1/(1 + e^-%1)", r"\frac{1}{1 + e^{-%1}}", fn=lambda o, n: _expit(n)),
    ),
    "silu": (
        Tpl("%0/(1 + e^-%0)", r"\frac{%0}{1 + e^{-%0}}", fn=lambda x: x * _expit(x)),
        Tpl("(1 + e^-%1 + %1·e^-%1)/(1 + e^-%1)²",
            r"\frac{1 + e^{-%1} + %1 e^{-%1}}{\left(1 + e^{-%1}\right)^{2}}",
            fn=_silu_derivative),
    ),
    "softsign": (
        Tpl("%0/(1 + |%0|)", r"\frac{%0}{1 + \left|%0\right|}", fn=lambda x: x / (1 + abs(x))),
        Tpl("1/(1 + |%1|)²", r"\frac{1}{\left(1 + \left|%1\right|\right)^{2}}",
            fn=lambda o, n: 1 / (1 + abs(n)) ** 2),
    ),
    "hard_sigmoid": (
        Tpl("min(1, max(0, %0/6 + 0.5))",
            r"\min\left(1, \max\left(0, %0/6 + 0.5\right)\right)",
            fn=lambda x: min(1.0, max(0.0, x / 6 + 0.5))),
        Tpl("[-3 < %1 < 3]/6", r"\frac{[-3 < %1 < 3]}{6}",
            fn=lambda o, n: float(-3 < n < 3) / 6),
    ),
    "exp": (
        Tpl("e^min(%0, %1)", r"e^{\min\left(%0, %1\right)}",
            fn=lambda x, c: math.exp(min(x, c))),
        Tpl("[%1 < %2]·%0", r"[%1 < %2] \cdot %0", fn=lambda o, n, c: o if n < c else 0.0),
    ),
}  # fmt: skip
"""Activation name -> (out of net ``%0`` and the constants; ∂out/∂net of out ``%0``, net
``%1`` and the constants): the built-ins the tutorial does not use."""


def _exp_cap(dtype: np.dtype) -> float:
    """Where exp is clipped: ln of the dtype's largest number, less 1, in the dtype."""
    kind = np.dtype(dtype).type
    return float(kind(np.log(np.finfo(dtype).max) - 1))


ACTIVATION_CONSTANTS: dict[str, Callable[[np.dtype], tuple[tuple[str, float], ...]]] = {
    "selu": lambda dtype: (("λ", _SCALE), ("α", _ALPHA)),
    "exp": lambda dtype: (("", _exp_cap(dtype)),),
}
"""Activation name -> its constants for a dtype, as (symbol, value); a symbol "" is shown as
its number in the formula too."""


def constants(name: str, dtype: np.dtype) -> tuple[tuple[Expr, ...], tuple[Expr, ...]]:
    """An activation's constants as symbols and as numbers (both empty for none)."""
    entry = ACTIVATION_CONSTANTS.get(name)
    if entry is None:
        return (), ()
    pairs = entry(np.dtype(dtype))
    numbers = tuple(Num(float(np.dtype(dtype).type(v))) for _, v in pairs)
    symbols = tuple(Sym(s) if s else n for (s, _), n in zip(pairs, numbers))
    return symbols, numbers


ACTIVATION_NOTES: dict[str, str] = {
    "leaky_relu": f"leaky_relu is net where net > 0 and {_S}·net elsewhere; [condition] is 1 "
    "where the condition holds, else 0.",
    "elu": "elu is net where net > 0 and e^net − 1 elsewhere (α = 1); [condition] is 1 where "
    "the condition holds, else 0. Below 0 its derivative e^net is out + 1.",
    "selu": f"selu is λ·net where net > 0 and λ·α·(e^net − 1) elsewhere, with λ = {_SCALE!r} "
    f"and α = {_ALPHA!r} (Klambauer et al., 2017); [condition] is 1 where the condition "
    "holds, else 0. Below 0 its derivative λ·α·e^net is out + λ·α.",
    "gelu": "gelu is the exact form net·Φ(net), Φ the standard normal distribution function, "
    "Φ(x) = ½(1 + erf(x/√2)); its derivative is Φ(net) + net·φ(net), φ(x) = e^(−x²/2)/√(2π).",
    "softplus": "softplus is ln(1 + e^net); its derivative is the sigmoid of net.",
    "silu": "silu (swish) is net·σ(net) = net/(1 + e^−net); its derivative "
    "σ(net)·(1 + net·(1 − σ(net))) is written here with σ(net) = 1/(1 + e^−net).",
    "softsign": "softsign is net/(1 + |net|).",
    "hard_sigmoid": "hard_sigmoid is net/6 + 0.5 clipped to [0, 1] (relu6(net + 3)/6); its "
    "derivative is 1/6 where −3 < net < 3, else 0 ([condition] is 1 where it holds).",
    "exp": "exp is e^net, with net clipped just below the overflow point, at ln(largest "
    "number) − 1 in the network's dtype, so a huge net gives a large finite output (and a "
    "derivative of 0 there); the derivative of e^net is out itself.",
}
"""Activation name -> a sentence the forward pass prints once, before its first layer."""
