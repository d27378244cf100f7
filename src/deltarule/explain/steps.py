r"""The vocabulary of the walk: lines (:class:`Step`), prose (:class:`Note`), sections.

A :class:`Step` reads ``symbol = formula = numbers = value``; its parts are
:mod:`~deltarule.explain.expr` trees, so one walk prints as text, LaTeX or
HTML. :data:`ACTIVATION_FORMULAS` says how to write each activation and its
derivative; an activation missing from it is written as ``name(net)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .activation_formulas import (
    ACTIVATION_CONSTANTS,
    ACTIVATION_NOTES,
)
from .activation_formulas import (
    MORE_FORMULAS as _MORE_FORMULAS,
)
from .events import Trace
from .expr import Expr, Num, Sym, Tpl

__all__ = [
    "ACTIVATION_CONSTANTS",
    "ACTIVATION_FORMULAS",
    "ACTIVATION_NOTES",
    "FUSED_DELTAS",
    "E_TOTAL",
    "MINUS",
    "NBSP",
    "SOFTMAX_NOTE",
    "Note",
    "Section",
    "Step",
    "input_symbol",
    "keep",
    "latex_name",
    "tpl",
]

ACTIVATION_FORMULAS: dict[str, tuple[Tpl, Tpl]] = {
    "sigmoid": (
        Tpl("1/(1+e^-%0)", r"\frac{1}{1+e^{-%0}}", fn=lambda x: 1 / (1 + math.exp(-x))),
        Tpl("%0(1 − %0)", r"%0\left(1 - %0\right)", fn=lambda o, n: o * (1 - o)),
    ),
    "tanh": (
        Tpl("tanh(%0)", r"\tanh\left(%0\right)", fn=math.tanh),
        Tpl("1 − %0²", r"1 - %0^{2}", fn=lambda o, n: 1 - o * o),
    ),
    "identity": (Tpl("%0", "%0", fn=lambda x: x), Tpl("1", "1", fn=lambda o, n: 1.0)),
    "relu": (
        Tpl("max(0, %0)", r"\max\left(0, %0\right)", fn=lambda x: max(0.0, x)),
        Tpl("[%1 > 0]", r"[%1 > 0]", fn=lambda o, n: float(n > 0)),
    ),
    **_MORE_FORMULAS,
}
"""Activation name -> (out as a formula of net (``%0``), ∂out/∂net of out ``%0`` and net
``%1``); an activation with constants (:data:`ACTIVATION_CONSTANTS`) takes them after those
(``%1``, ``%2``... in out's formula; ``%2``, ``%3``... in the derivative's). Each is the
library's definition (:mod:`deltarule.activations`), for every net."""

FUSED_DELTAS: dict[tuple[str, str], tuple[Tpl, Tpl, str]] = {
    ("sigmoid", "binary_crossentropy"): (
        Tpl("(%0 − %1)/%2", r"\frac{%0 - %1}{%2}", fn=lambda o, t, n: (o - t) / n),
        Tpl("%0 − %1", "%0 - %1", fn=lambda o, t, n: o - t),
        "Sigmoid with binary cross-entropy: the backward pass computes δ = ∂E_total/∂net "
        "directly as (out − target)/n, n = {n} being the number of outputs. It is the chain "
        "rule's ∂E_total/∂out = (out − target)/(n·out(1 − out)) times ∂out/∂net = "
        "out(1 − out) with out(1 − out) cancelled, which stays exact where out saturates "
        "at 0 or 1 and the two factors alone would be 0 and a huge number.",
    ),
    ("softmax", "categorical_crossentropy"): (
        Tpl("%0·%2 − %1", r"%0 \cdot %2 - %1", fn=lambda o, t, n: o * n - t),
        Tpl("%0 − %1", "%0 - %1", fn=lambda o, t, n: o - t),
        "Softmax mixes all the outputs; with categorical cross-entropy the chain rule "
        "through it gives δ = ∂E_total/∂net = out·Σtarget − target, which is out − target "
        "when the targets sum to 1 (here Σtarget = {n}). The backward pass computes it "
        "directly.",
    ),
    ("exp", "poisson"): (
        Tpl(
            "2(%0 − %1)/%2", r"\frac{2\left(%0 - %1\right)}{%2}", fn=lambda o, t, n: 2 * (o - t) / n
        ),
        Tpl("2(%0 − %1)", r"2\left(%0 - %1\right)", fn=lambda o, t, n: 2 * (o - t)),
        "Exponential output with Poisson deviance: the backward pass computes δ = "
        "∂E_total/∂net directly as 2(out − target)/n, n = {n} being the number of outputs "
        "(the chain rule's ∂E_total/∂out·∂out/∂net with out cancelled).",
    ),
}
"""(output activation, loss) -> (δ as a formula of out ``%0``, target ``%1`` and n ``%2``;
the same when n = 1; a note with ``{n}``) for the fused pairs whose δ the backward pass
computes by its own formula (:data:`deltarule.losses.FUSED_PAIRS`). n is the number of
outputs (Σtarget for softmax). Identity with half squared error is fused too, but its
δ = out − target is the chain rule's product with ∂out/∂net = 1, so the walk shows that."""

E_TOTAL = Sym("E", "total")
NBSP = "\u00a0"
SOFTMAX_NOTE = (
    "Softmax mixes all the outputs, so δ = ∂E_total/∂net comes from the backward pass as a "
    "whole (with cross-entropy it is out − target)."
)


def keep(formula: str) -> str:
    """Join a formula's words with no-break spaces so that wrapping never splits it."""
    return formula.replace(" ", NBSP)


def latex_name(name: str) -> str:
    """A registry name (an activation's, a loss's) as an upright LaTeX name, its LaTeX
    specials escaped: ``leaky_relu`` is ``\\operatorname{leaky\\_relu}`` (an unescaped
    ``_`` would be a subscript)."""
    escaped = "".join(
        r"\textbackslash{}" if c == "\\" else f"\\{c}" if c in "_%&#${}" else c for c in name
    )
    escaped = escaped.replace("~", r"\textasciitilde{}").replace("^", r"\textasciicircum{}")
    return rf"\operatorname{{{escaped}}}"


MINUS = Tpl("%0 − %1", "%0 - %1", fn=lambda a, b: a - b)


@dataclass(frozen=True)
class Step:
    """One line: ``lhs = parts[0] = parts[1] = ... = value``."""

    lhs: Expr
    parts: tuple[Expr, ...]
    value: float | Num
    """The value; a :class:`~.expr.Num` to print it otherwise than the walk's numbers (in
    float64 in a float32 walk, or short)."""


@dataclass(frozen=True)
class Note:
    """A sentence of prose between the formulas."""

    text: str


@dataclass(frozen=True)
class Section:
    """A titled part of the walk: groups of lines (one group per layer or per neuron)."""

    title: str
    intro: str
    items: tuple[Step | Note | None, ...]
    """The lines; None separates groups."""

    def groups(self) -> list[list[Step | Note]]:
        """The lines, split into their groups."""
        groups: list[list[Step | Note]] = [[]]
        for item in self.items:
            if item is None:
                groups.append([])
            else:
                groups[-1].append(item)
        return [g for g in groups if g]


def tpl(template: Tpl, *args: Expr) -> Tpl:
    """Fill a template formula with its arguments."""
    return Tpl(template.text, template.latex, args, template.fn)


def input_symbol(trace: Trace, layer: int, i: int) -> Sym:
    """The symbol of input ``i`` of 0-based ``layer``: ``i1`` or ``out_h1``."""
    name = trace.labels[layer][i]
    return Sym(name[0], name[1:]) if layer == 0 else Sym("out", name)
