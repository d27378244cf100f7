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
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Sym", "Num", "D", "Sum", "Prod", "Tpl", "Expr", "to_text", "to_latex", "fmt"]

_LATEX_BASE = {
    "net": r"\mathrm{net}",
    "out": r"\mathrm{out}",
    "target": r"\mathrm{target}",
    "δ": r"\delta",
    "η": r"\eta",
}


@dataclass(frozen=True)
class Sym:
    """A symbol such as ``w5``, ``net_h1`` or ``E_total``; ``sup="+"`` marks an updated value."""

    base: str
    sub: str = ""
    sup: str = ""


@dataclass(frozen=True)
class Num:
    """A number, printed with :func:`fmt`."""

    value: float


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
    """A formula given as text and LaTeX templates with ``%0``, ``%1``... for its arguments."""

    text: str
    latex: str
    args: tuple[Expr, ...] = ()


Expr = Sym | Num | D | Sum | Prod | Tpl


def fmt(value: float) -> str:
    """Format a number the tutorial's way: up to 9 decimals, scientific when tiny or huge.

    Examples
    --------
    >>> fmt(0.3775), fmt(0.5932699921071872), fmt(3.510187782978851e-05), fmt(2.0)
    ('0.3775', '0.593269992', '3.510188e-05', '2')
    """
    value = float(value)
    if value == 0 or (1e-4 <= abs(value) < 1e7):
        text = f"{value:.9f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    if not math.isfinite(value):
        return str(value)
    return f"{value:.6e}"


def _fill(template: str, parts: list[str]) -> str:
    # Replace from the highest index down so "%1" never eats the start of "%10".
    for k in range(len(parts) - 1, -1, -1):
        template = template.replace(f"%{k}", parts[k])
    return template


def _needs_parens(expr: Expr) -> bool:
    return isinstance(expr, Sum) or (isinstance(expr, Num) and expr.value < 0)


def to_text(expr: Expr) -> str:
    """Print an expression as plain (Unicode) text."""
    if isinstance(expr, Sym):
        joiner = "" if len(expr.base) == 1 and expr.sub[:1].isdigit() else "_"
        text = expr.base + (joiner + expr.sub if expr.sub else "")
        return text + ("⁺" if expr.sup == "+" else expr.sup)
    if isinstance(expr, Num):
        return fmt(expr.value)
    if isinstance(expr, D):
        return f"∂{to_text(expr.of)}/∂{to_text(expr.wrt)}"
    if isinstance(expr, Sum):
        return _sum(expr, to_text, " − ")
    if isinstance(expr, Prod):
        return "·".join(f"({to_text(f)})" if _needs_parens(f) else to_text(f) for f in expr.factors)
    return _fill(
        expr.text, [_arg(expr.text, k, a, to_text, "({})") for k, a in enumerate(expr.args)]
    )


def _arg(template: str, k: int, arg: Expr, printer: Callable[[Expr], str], parens: str) -> str:
    """Argument ``k`` of a template; a negative number gets parentheses unless it stands
    alone or the template already encloses it."""
    text = printer(arg)
    if not (isinstance(arg, Num) and arg.value < 0):
        return text
    enclosed = parens.format(f"%{k}") in template or template == f"%{k}"
    return text if enclosed else parens.format(text)


def _sum(expr: Sum, printer: Callable[[Expr], str], minus: str) -> str:
    parts = []
    for k, term in enumerate(expr.terms):
        if k and isinstance(term, Num) and term.value < 0:
            parts.append(minus + printer(Num(-term.value)))
        else:
            parts.append((" + " if k else "") + printer(term))
    return "".join(parts)


def _latex_num(value: float) -> str:
    text = fmt(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def to_latex(expr: Expr) -> str:
    """Print an expression as LaTeX (for ``$...$`` in Markdown)."""
    if isinstance(expr, Sym):
        text = _LATEX_BASE.get(expr.base, expr.base)
        if expr.sub:
            text += f"_{{{expr.sub}}}"
        return text + (f"^{{{expr.sup}}}" if expr.sup else "")
    if isinstance(expr, Num):
        return _latex_num(expr.value)
    if isinstance(expr, D):
        return rf"\frac{{\partial {to_latex(expr.of)}}}{{\partial {to_latex(expr.wrt)}}}"
    if isinstance(expr, Sum):
        return _sum(expr, to_latex, " - ")
    if isinstance(expr, Prod):
        return r" \cdot ".join(
            rf"\left({to_latex(f)}\right)" if _needs_parens(f) else to_latex(f)
            for f in expr.factors
        )
    parens = r"\left({}\right)"
    return _fill(
        expr.latex, [_arg(expr.latex, k, a, to_latex, parens) for k, a in enumerate(expr.args)]
    )
