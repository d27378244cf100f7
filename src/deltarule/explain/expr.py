r"""A tiny expression tree for the walk's formulas, printed as plain text or as LaTeX.

The walk (:mod:`deltarule.explain.walk`) writes each line once, as a tree of
symbols, numbers, derivatives, sums and products; :func:`to_text` prints it for
a terminal (``∂E_total/∂w5 = 0.74136507·0.186815602·0.593269992``) and
:func:`to_latex` for Markdown (``\frac{\partial E_{total}}{\partial w_{5}}``).
Nothing here computes: numbers are only formatted.

Examples
--------
>>> e = Prod((Sym("w", "1"), Sym("i", "1")))
>>> to_text(e), to_latex(e)
('w1·i1', 'w_{1} \\cdot i_{1}')
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._typing import DTypeLike

__all__ = [
    "Sym",
    "Num",
    "D",
    "Sum",
    "Prod",
    "Tpl",
    "Expr",
    "to_text",
    "to_latex",
    "fmt",
    "fmt_short",
    "evaluate",
    "DECIMALS",
]

DECIMALS = 9
"""The decimals a positional number is shown with (the tutorial's), unless a line needs more
for its arithmetic to check from its shown operands."""

_LATEX_BASE = {
    "net": r"\mathrm{net}",
    "out": r"\mathrm{out}",
    "target": r"\mathrm{target}",
    "δ": r"\delta",
    "η": r"\eta",
    "mean": r"\mathrm{mean}",
    "std": r"\mathrm{std}",
    "λ": r"\lambda",
    "α": r"\alpha",
}


@dataclass(frozen=True)
class Sym:
    """A symbol such as ``w5``, ``net_h1`` or ``E_total``; ``sup="+"`` marks an updated value."""

    base: str
    sub: str = ""
    sup: str = ""


@dataclass(frozen=True)
class Num:
    """A number, printed with :func:`fmt`: in ``dtype`` when given (a value computed in
    float64 in a float32 walk: a data column's mean), else in the printer's (the walk's)."""

    value: float
    dtype: str | None = None
    short: bool = False
    """A value shown, not an operand (an error after N updates): :func:`fmt_short`."""
    digits: int = 0
    """At least this many significant digits where :func:`fmt` would show fewer (a float32
    error whose shortest repr is 0.58618 shown as 0.58617997, as its other numbers are)."""


@dataclass(frozen=True)
class D:
    """The partial derivative ∂of/∂wrt."""

    of: Expr
    wrt: Expr


@dataclass(frozen=True)
class Sum:
    """A sum of terms; a negative number after the first term prints as a subtraction."""

    terms: tuple[Expr, ...]


@dataclass(frozen=True)
class Prod:
    """A product of factors."""

    factors: tuple[Expr, ...]


@dataclass(frozen=True)
class Tpl:
    """A formula given as text and LaTeX templates with ``%0``, ``%1``... for its arguments;
    ``fn`` computes it from its arguments' values (None: words, or not computable here)."""

    text: str
    latex: str
    args: tuple[Expr, ...] = ()
    fn: Callable[..., float] | None = field(default=None, compare=False, repr=False)


Expr = Sym | Num | D | Sum | Prod | Tpl


def fmt(
    value: float, dtype: DTypeLike | None = None, decimals: int = DECIMALS, digits: int = 0
) -> str:
    """Format a number the tutorial's way: up to 9 decimals; scientific when tiny or huge, with
    every digit the value holds.

    Every printed number carries the digits an equation needs to be reproduced at its
    dtype's precision: a float32 value (``dtype="float32"``, or a ``numpy.float32`` scalar)
    with float32's, a float64 value with float64's. From 1e-4 to 1e16 it is positional: the
    shortest repr that reads back as the same number (in its dtype) when that has at most 9
    decimals (0.15, 1000000005, 999999980.4019393), else rounded to 9 decimals (float64's
    0.5932699921071872 is 0.593269992, float32's 0.150000006 is 0.15). Below 1e-4 and from
    1e16 it is scientific with the shortest repr's digits (3.510187782978851e-05; float32's
    3.510188e-05), never cut to fewer: ``1.000000e+09`` for 999,999,980.4 made
    ``(y − mean)/std`` lines false.

    ``decimals`` above 9 shows a positional number's exact value rounded to that many
    decimals (float32's 0.150000006 is 0.15000000596 with 11): the walk shows an operand so
    where 9 decimals would not reproduce its line's result (:func:`evaluate`).

    ``digits`` asks for at least that many significant digits of a positional float32
    number (up to 9 decimals): float32's shortest repr can be much shorter than its
    neighbours' (0.58618 for 0.586179971...; 0.5564489 beside it), which reads as a
    number cut short. The longer form reads back as the same float32; a number whose
    shortest repr is its exact value (0.5) keeps it.

    Examples
    --------
    >>> fmt(0.3775), fmt(0.5932699921071872), fmt(2.0), fmt(999999980.4019393)
    ('0.3775', '0.593269992', '2', '999999980.4019393')
    >>> fmt(3.510187782978851e-05), fmt(np.float32(3.510187782978851e-05)), fmt(1e20)
    ('3.510187782978851e-05', '3.510188e-05', '1e+20')
    >>> fmt(0.15000000596046448, "float32"), fmt(np.float32(0.1))
    ('0.15', '0.1')
    >>> fmt(np.float32(0.58618)), fmt(np.float32(0.58618), digits=8), fmt(0.5, "float32", digits=8)
    ('0.58618', '0.58617997', '0.5')
    """
    single = isinstance(value, np.float32) if dtype is None else np.dtype(dtype) == np.float32
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    number = np.float32(value) if single else np.float64(value)
    if value == 0 or 1e-4 <= abs(value) < 1e16:
        if decimals > DECIMALS:  # (the exact binary value's digits)
            text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
        elif single:  # (float32's shortest digits, cut at 9 decimals)
            text = np.format_float_positional(number, precision=9, trim="-")
            text = _longer(value, text, digits)
        else:
            text = np.format_float_positional(number, trim="-")  # (the shortest repr)
            if len(text.partition(".")[2]) > decimals:  # (rounded from the exact value)
                text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return np.format_float_scientific(number, unique=True, trim="-", exp_digits=2)


def _longer(value: float, text: str, digits: int) -> str:
    """``text`` (float32's shortest digits of ``value``) with at least ``digits`` significant
    digits of the exact value, up to :data:`DECIMALS` decimals; as it is when exact."""
    significant = len(text.lstrip("-").replace(".", "").lstrip("0"))
    if not digits or significant >= digits or value == 0 or float(text) == value:
        return text
    places = min(DECIMALS, digits - 1 - math.floor(math.log10(abs(value))))
    longer = f"{value:.{max(places, 0)}f}".rstrip("0").rstrip(".")
    return longer if np.float32(longer) == np.float32(value) else text


def fmt_short(value: float, dtype: DTypeLike | None = None) -> str:
    """A number for a table or a curve, not an operand of an equation: :func:`fmt`'s
    positional form, but 7 significant digits where that is scientific (the one-weight
    example's descent table: ``1.786123e-05``, not ``1.7861225422953565e-05``).

    >>> fmt_short(0.5932699921071872), fmt_short(1.7861225422953565e-05), fmt_short(1e20)
    ('0.593269992', '1.786123e-05', '1.000000e+20')
    """
    text = fmt(value, dtype)
    return f"{float(value):.6e}" if "e" in text else text


_PLACEHOLDER = re.compile(r"%(\d+)")
_OPENS = ("(", "[", ",", "{")
"""A negative number right after one of these needs no parentheses: ``max(0, -0.8)``."""
_CLOSES = (")", "]", ",", "}", "\\right", "−", "-", "+", ">", "<", "=", "≤", "\\le ")
"""... nor right before one of these: ``[-0.8 > 0]``, ``[-0.8 ≤ 0]``, ``-0.4 − 0.5·g``."""


def _fill(
    template: str, args: tuple[Expr, ...], printer: Callable[[Expr], str], parens: str
) -> str:
    """Put the printed arguments into a template's ``%0``, ``%1``...; a negative number gets
    ``parens`` where an operator binds it (``1 − (-0.5)²``, ``e^-(-2)``), not where it
    stands alone between brackets, commas or a lower-precedence operator."""
    texts = [printer(arg) for arg in args]

    def place(match: re.Match[str]) -> str:
        k = int(match.group(1))  # (all digits: "%10" is argument 10, never "%1" then "0")
        arg, text = args[k], texts[k]
        if not (isinstance(arg, Num) and arg.value < 0):
            return text
        before = template[: match.start()].rstrip()
        after = template[match.end() :].lstrip()
        alone = (not before or before.endswith(_OPENS)) and (not after or after.startswith(_CLOSES))
        return text if alone else parens.format(text)

    return _PLACEHOLDER.sub(place, template)


def _needs_parens(expr: Expr) -> bool:
    return isinstance(expr, Sum) or (isinstance(expr, Num) and expr.value < 0)


def to_text(expr: Expr, dtype: DTypeLike | None = None, decimals: int = DECIMALS) -> str:
    """Print an expression as plain (Unicode) text; numbers as :func:`fmt` writes ``dtype``
    (operands with ``decimals``)."""

    def printer(sub: Expr) -> str:
        return to_text(sub, dtype, decimals)

    if isinstance(expr, Sym):
        joiner = "" if len(expr.base) == 1 and expr.sub[:1].isdigit() else "_"
        text = expr.base + (joiner + expr.sub if expr.sub else "")
        return text + ("⁺" if expr.sup == "+" else expr.sup)
    if isinstance(expr, Num):
        return _number(expr, dtype, decimals)
    if isinstance(expr, D):
        return f"∂{printer(expr.of)}/∂{printer(expr.wrt)}"
    if isinstance(expr, Sum):
        return _sum(expr, printer, " − ")
    if isinstance(expr, Prod):
        return "·".join(f"({printer(f)})" if _needs_parens(f) else printer(f) for f in expr.factors)
    return _fill(expr.text, expr.args, printer, "({})")


def _sum(expr: Sum, printer: Callable[[Expr], str], minus: str) -> str:
    parts = []
    for k, term in enumerate(expr.terms):
        if k and isinstance(term, Num) and term.value < 0:
            parts.append(minus + printer(Num(-term.value, term.dtype, term.short, term.digits)))
        else:
            parts.append((" + " if k else "") + printer(term))
    return "".join(parts)


def _number(num: Num, dtype: DTypeLike | None, decimals: int = DECIMALS) -> str:
    if num.short:
        return fmt_short(num.value, num.dtype or dtype)
    return fmt(num.value, num.dtype or dtype, decimals, num.digits)


def evaluate(
    expr: Expr, dtype: DTypeLike | None = None, decimals: int | None = None
) -> float | None:
    """The value of an expression of numbers: from its numbers as shown with ``decimals``
    (:func:`fmt`), or from their exact values when ``decimals`` is None; None when it holds a
    symbol or a formula with no ``fn``. Computed in float64.

    >>> e = Sum((Prod((Num(0.15), Num(0.05))), Num(0.35)))
    >>> evaluate(e)
    0.3575
    >>> evaluate(Prod((Num(0.1234567891234), Num(2.0))), decimals=9)
    0.246913578
    """
    if isinstance(expr, Num):
        if decimals is None:
            return float(expr.value)
        return float(_number(expr, dtype, decimals))
    parts: list[float | None]
    if isinstance(expr, (Sum, Prod)):
        parts = [evaluate(e, dtype, decimals) for e in (expr.terms if isinstance(expr, Sum)
                                                         else expr.factors)]  # fmt: skip
        if any(p is None for p in parts):
            return None
        return math.fsum(parts) if isinstance(expr, Sum) else math.prod(parts)  # type: ignore[arg-type]
    if isinstance(expr, Tpl) and expr.fn is not None:
        parts = [evaluate(e, dtype, decimals) for e in expr.args]
        if any(p is None for p in parts):
            return None
        try:
            return float(expr.fn(*parts))
        except (ArithmeticError, ValueError):
            return None
    return None


def _latex_num(value: float, dtype: DTypeLike | None = None, short: bool = False,
               decimals: int = DECIMALS, digits: int = 0) -> str:  # fmt: skip
    text = fmt_short(value, dtype) if short else fmt(value, dtype, decimals, digits)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def to_latex(expr: Expr, dtype: DTypeLike | None = None, decimals: int = DECIMALS) -> str:
    """Print an expression as LaTeX (for ``$...$`` in Markdown); numbers as :func:`fmt`."""

    def printer(sub: Expr) -> str:
        return to_latex(sub, dtype, decimals)

    if isinstance(expr, Sym):
        text = _LATEX_BASE.get(expr.base, expr.base)
        if expr.sub:
            text += f"_{{{expr.sub}}}"
        return text + (f"^{{{expr.sup}}}" if expr.sup else "")
    if isinstance(expr, Num):
        return _latex_num(expr.value, expr.dtype or dtype, expr.short, decimals, expr.digits)
    if isinstance(expr, D):
        return rf"\frac{{\partial {printer(expr.of)}}}{{\partial {printer(expr.wrt)}}}"
    if isinstance(expr, Sum):
        return _sum(expr, printer, " - ")
    if isinstance(expr, Prod):
        return r" \cdot ".join(
            rf"\left({printer(f)}\right)" if _needs_parens(f) else printer(f) for f in expr.factors
        )
    return _fill(expr.latex, expr.args, printer, r"\left({}\right)")
