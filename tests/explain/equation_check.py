"""An independent check that every equation ``explain`` prints is true of its printed numbers.

A walk line reads ``symbol = formula = numbers = value``; each piece made of numbers only is
evaluated here (``·`` a product, ``−`` a subtraction, ``½(a − b)²``, ``1/(1+e^-x)``,
``max(0, x)``, ``[x > 0]``, ``e^a/(e^a + e^b)``, ``−ln(x)``, ``|a − b|``, ``sign(x)``...)
and consecutive pieces must agree. The tolerance is what the printed digits and the real
arithmetic allow, nothing more:

* explain prints each number with the digits of its dtype (``deltarule.explain.expr.fmt``):
  the shortest repr that reads back as the same number, except that a positional number
  may be rounded to 9 decimals. So a number in scientific notation is read as exactly the
  value its dtype gives it (``1.000000e+09`` means 1,000,000,000, which is how the old
  7-significant-digit form of 999,999,980.4 is caught), and a positional one may be off by
  5e-10 (half the 9th decimal) more (a 0 is exact: fmt writes a tiny value as 1e-05);
* the computation rounded in its dtype: a few units of its epsilon, scaled by the size of the
  terms (Σ|nᵢ·∂f/∂nᵢ|, so a sum that cancels keeps its terms' scale), and values below its
  smallest normal number may have underflowed (float32's σ(-213) = 2.6e-93 is 0).

The first-order sensitivities ∂f/∂nᵢ are taken by central differences. The numbers of the
data's lines are the data's: a standardisation ``(raw − mean)/std`` computes in float64 (and
its result is the network's, in its dtype), and ``predicted y = mean + std·out`` is float64
but for the network's out.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

__all__ = ["false_equations", "numbers_of"]

_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[-+]\d+)?")
_FUNCTIONS = {
    "max": max,
    "exp": math.exp,
    "tanh": math.tanh,
    "ln": math.log,
    "abs": abs,
    "sign": lambda x: float((x > 0) - (x < 0)),
}
_ROUNDED = 5e-10
"""How far a positional number may be from its value: half the 9th decimal."""
_ULPS = 8.0
"""Units of epsilon per unit of Σ|nᵢ·∂f/∂nᵢ| that the real arithmetic may have rounded."""


@dataclass(frozen=True)
class _Piece:
    python: str
    numbers: tuple[str, ...]


def _parse(piece: str) -> _Piece | None:
    """A piece of numbers only as a Python expression of ``v0, v1, ...`` (None: symbolic)."""
    numbers: list[str] = []

    def name(match: re.Match[str]) -> str:
        numbers.append(match.group())
        return f"v{len(numbers) - 1}"

    py = _NUMBER.sub(name, piece.strip())
    py = py.replace("·", "*").replace("−", "-").replace("²", "**2").replace("½", "0.5*")
    py = py.replace("[", "(").replace("]", ")")
    py = re.sub(r"e\^-(\([^()]*\)|v\d+)", r"exp(-\1)", py)
    py = re.sub(r"e\^(\([^()]*\)|v\d+)", r"exp(\1)", py)
    py = re.sub(r"\|([^|]*)\|", r"abs(\1)", py)
    py = re.sub(r"(v\d+|\))\(", r"\1*(", py)  # (implicit products: 0.59(1 − 0.59))
    if not numbers or re.search(r"[^\w.+\-*/() ,<>]", py):
        return None
    names = set(re.findall(r"[A-Za-z_]\w*", py))
    if any(n not in _FUNCTIONS and not re.fullmatch(r"v\d+", n) for n in names):
        return None
    return _Piece(py, tuple(numbers))


def _evaluate(piece: _Piece, values: list[float]) -> float:
    scope = {f"v{k}": v for k, v in enumerate(values)}
    result = eval(piece.python, {"__builtins__": {}, **_FUNCTIONS}, scope)  # noqa: S307
    return float(result)


@dataclass(frozen=True)
class _Value:
    value: float
    rounding: float
    """How far the printed digits let the value be from the true one (first order)."""
    arithmetic: float
    """How far the real computation may have rounded it."""


def _value(piece: _Piece, kinds: list[np.dtype]) -> _Value | None:
    values = [float(kind.type(text)) for text, kind in zip(piece.numbers, kinds)]
    try:
        value = _evaluate(piece, values)
    except (ArithmeticError, TypeError, ValueError):
        return None
    rounding = arithmetic = 0.0
    for k, (text, kind) in enumerate(zip(piece.numbers, kinds)):
        step = 1e-6 * abs(values[k]) or 1e-9
        up, down = list(values), list(values)
        up[k] += step
        down[k] -= step
        slope = abs(_evaluate(piece, up) - _evaluate(piece, down)) / (2 * step)
        if "e" not in text and float(text) != 0:  # (fmt's 0 is 0: tiny values are 1e-05)
            rounding += _ROUNDED * slope
        arithmetic += float(np.finfo(kind).eps) * abs(values[k]) * slope
    return _Value(value, rounding, _ULPS * arithmetic)


def _kinds(lhs: str, piece: _Piece, last: bool, network: np.dtype) -> list[np.dtype]:
    """The dtype of each number of a piece (see the module's docstring)."""
    data = np.dtype(np.float64)
    n = len(piece.numbers)
    if lhs.startswith("predicted "):  # mean + std·out = value: float64 but for out
        return [data] * n if last else [data, data, *[network] * (n - 2)]
    if "mean)/std" in lhs or "standardised" in lhs:  # (raw − mean)/std = the network's value
        return [network] * n if last and n == 1 else [data] * n
    return [network] * n


def _false_pieces(pieces: list[str], network: np.dtype) -> bool:
    lhs = " = ".join(pieces[:2])
    parsed = [_parse(p) for p in pieces]
    for k in range(1, len(pieces) - 1):
        a, b = parsed[k], parsed[k + 1]
        if a is None or b is None:
            continue
        va = _value(a, _kinds(lhs, a, False, network))
        vb = _value(b, _kinds(lhs, b, k + 1 == len(pieces) - 1, network))
        if va is None or vb is None:
            continue
        allowed = 2 * (va.rounding + vb.rounding) + va.arithmetic + vb.arithmetic
        if not abs(va.value - vb.value) <= allowed + 4 * float(np.finfo(network).tiny):
            return True
    return False


_STANDARDISED = re.compile(r"standardised: (\([^=]*\)/\S+) = (\S+?)\)")
"""The header's ``target 151 (standardised: (151 − 152.1)/77.0 = -0.0147)``."""


def false_equations(text: str, dtype: str = "float64") -> list[str]:
    """The lines of ``text`` with a false equation, for a walk of a ``dtype`` network."""
    network = np.dtype(dtype)
    wrong = []
    for line in text.splitlines():
        snippets = [["standardised", *m.groups()] for m in _STANDARDISED.finditer(line)]
        pieces = [p.strip() for p in line.split(" = ")]
        if _false_pieces(pieces, network) or any(_false_pieces(s, network) for s in snippets):
            wrong.append(line)
    return wrong


def numbers_of(text: str) -> list[float]:
    """The numbers of a text or LaTeX line, in order (``1.5 \\times 10^{-5}`` is one;
    subscripts and ``\\frac{1}{2}``, ``^{2}`` are not)."""
    text = re.sub(r"(\d(?:\.\d+)?) \\times 10\^\{(-?)(\d+)\}", r"\1e\2\3", text)
    text = re.sub(r"_\{[^}]*\}", "", text).replace(r"\frac{1}{2}", "").replace("^{2}", "")
    text = re.sub(r"e(\d)", r"e+\1", text)
    return [float(n) for n in _NUMBER.findall(text)]
