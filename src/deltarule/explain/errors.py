r"""The error's arithmetic, loss by loss: :math:`E_{total}` and :math:`\partial E/\partial out`
as formulas and with their numbers, and softmax as :math:`e^{net_k}/\sum_j e^{net_j}`.

The tutorial's half squared error has a share per output (:mod:`.walk` shows each). The
losses a trained model uses are shown here as their formula, then with the walk's numbers:

* mean squared error, :math:`E = \sum_k (target_k - out_k)^2/n` (``n`` outputs), with
  :math:`\partial E/\partial out_k = 2(out_k - target_k)/n`;
* mean absolute error, :math:`E = \sum_k |target_k - out_k|/n`, with
  :math:`\partial E/\partial out_k = \mathrm{sign}(out_k - target_k)/n`;
* binary cross-entropy, :math:`E = -\sum_k [target_k \ln out_k + (1 - target_k)
  \ln(1 - out_k)]/n` (a target of 1 leaves :math:`\ln out_k`, of 0 :math:`\ln(1 - out_k)`),
  with :math:`\partial E/\partial out_k = (out_k - target_k)/(n\,out_k(1 - out_k))`;
* categorical cross-entropy, :math:`E = -\sum_k target_k \ln out_k` (a one-hot target
  leaves :math:`-\ln out_k` of its class), with :math:`\partial E/\partial out_k =
  -target_k/out_k`.

The values are the network's: a fused pair (softmax with categorical cross-entropy,
sigmoid with binary cross-entropy) computes its error from the net inputs, stable where an
output rounds to 0 or 1. A formula's numbers are shown only where they give that value
as a reader checks them, within the dtype's rounding (:func:`holds`); where they do not (an
output of 1 to the dtype's precision, whose :math:`\ln(1 - out)` is :math:`-\infty`; an
output near 1 whose float32 digits leave too few of :math:`1 - out`; a loss's clipping),
the line shows the formula and the value, and a note says why. Other losses (Huber, Poisson,
a user's) are shown by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .events import Trace
from .expr import Expr, Num, Sum, Sym, Tpl, evaluate, fmt
from .steps import E_TOTAL, Note, Step, tpl

__all__ = ["LOSS_DIGITS", "error_items", "gradient_parts", "holds", "loss_value", "softmax_parts"]

LOSS_DIGITS = 8
"""The least significant digits a float32 error is shown with (float32's shortest repr can
be 5 digits, 0.58618, beside outputs of 7 or 8)."""


def loss_value(trace: Trace, value: float) -> Num:
    """An error as the walk shows it: with at least :data:`LOSS_DIGITS` digits in float32."""
    return Num(value, digits=LOSS_DIGITS if trace.dtype == np.float32 else 0)


def holds(expr: Expr, value: Num, dtype: np.dtype, scale: float) -> bool:
    """True when ``expr``, a formula of numbers, gives ``value`` as a reader checks it.

    In float64, from its numbers' exact values, within half the last shown place of the
    value (9 decimals, or 10 significant digits when scientific): the renderer shows an
    operand with more digits where the line needs them. In float32, from its numbers as
    shown (float32's shortest digits), within float32's rounding: half a unit in the last
    place, and 8 of epsilon per unit of ``scale`` (the size of the terms, so that a
    difference of two large numbers keeps their scale) or of the value, as the network's
    float32 arithmetic rounds: what the walk's header promises, a difference in the 7th
    significant digit at most.
    """
    single = np.dtype(dtype) == np.float32
    numbers = _values(expr)
    if single:
        numbers = [float(fmt(v, dtype)) for v in numbers]
    result = evaluate(_replaced(expr, numbers)) if numbers else None
    text = fmt(value.value, dtype, digits=value.digits)
    if result is None or not math.isfinite(result) or not math.isfinite(float(text)):
        return False
    shown = float(text)
    places = 5e-10 * (abs(shown) if "e" in text else 1.0)
    if not single:
        return abs(result - shown) < places * (1 - 1e-6)
    eps = float(np.finfo(np.float32).eps)
    allowed = places + eps / 2 * abs(shown) + 8 * eps * max(scale, abs(shown))
    return abs(result - shown) <= allowed


def _ln(x: float) -> float:
    return math.log(x)  # (ValueError at 0: the formula does not give the value)


# ----------------------------------------------------------------------- one output's term
def _squared(t: Expr, o: Expr, _: float) -> Tpl:
    return Tpl("(%0 − %1)²", r"\left(%0 - %1\right)^{2}", (t, o), lambda t, o: (t - o) ** 2)


def _absolute(t: Expr, o: Expr, _: float) -> Tpl:
    return Tpl("|%0 − %1|", r"\left|%0 - %1\right|", (t, o), lambda t, o: abs(t - o))


def _ln_out(o: Expr) -> Tpl:
    return Tpl("ln(%0)", r"\ln\left(%0\right)", (o,), _ln)


def _ln_one_minus(o: Expr) -> Tpl:
    return Tpl("ln(1 − %0)", r"\ln\left(1 - %0\right)", (o,), lambda o: _ln(1 - o))


def _binary(t: Expr, o: Expr, target: float) -> Tpl:
    if target == 1:
        return _ln_out(o)
    if target == 0:
        return _ln_one_minus(o)
    return Tpl(
        "%0·ln(%1) + (1 − %0)·ln(1 − %1)",
        r"%0 \ln\left(%1\right) + \left(1 - %0\right) \ln\left(1 - %1\right)",
        (t, o),
        lambda t, o: t * _ln(o) + (1 - t) * _ln(1 - o),
    )


def _categorical(t: Expr, o: Expr, target: float) -> Tpl:
    if target == 1:
        return _ln_out(o)
    return Tpl("%0·ln(%1)", r"%0 \ln\left(%1\right)", (t, o), lambda t, o: t * _ln(o))


_Term = Callable[[Expr, Expr, float], Tpl]

_VALUES: dict[str, tuple[_Term, bool, str, str]] = {
    "mse": (
        _squared, False, "Σ(target − out)²/n",
        r"\frac{\sum(\mathrm{target} - \mathrm{out})^{2}}{n}",
    ),
    "mae": (
        _absolute, False, "Σ|target − out|/n",
        r"\frac{\sum\left|\mathrm{target} - \mathrm{out}\right|}{n}",
    ),
    "binary_crossentropy": (
        _binary, True, "−Σ[target·ln(out) + (1 − target)·ln(1 − out)]/n",
        r"-\frac{\sum\left[\mathrm{target} \ln(\mathrm{out}) + (1 - \mathrm{target})"
        r" \ln(1 - \mathrm{out})\right]}{n}",
    ),
    "categorical_crossentropy": (
        _categorical, True, "−Σ target·ln(out)", r"-\sum \mathrm{target} \ln(\mathrm{out})"
    ),
}  # fmt: skip
"""Loss -> (one output's term of ``target``, ``out`` and the target's value; whether E is
minus the terms' sum; E as a formula, text and LaTeX). Cross-entropy terms of a 0 target
(categorical) are left out: they are 0."""

_WORDS = {
    "mse": "the mean over the outputs of the squared differences (target − out)²",
    "mae": "the mean over the outputs of the absolute differences |target − out|",
    "binary_crossentropy": "the binary cross-entropy, averaged over the outputs",
    "categorical_crossentropy": "the categorical cross-entropy; it sums over the outputs, "
    "and an output whose target is 0 adds nothing",
}


def _total(terms: list[Tpl], n: int, negate: bool) -> Tpl:
    """The terms' sum, negated and divided by ``n`` as the loss says."""
    body: Expr = terms[0] if len(terms) == 1 else Sum(tuple(terms))
    bare = len(terms) == 1 and "+" not in terms[0].text  # (ln(0.7), (0.3 − 0.1)²)
    sign, lsign = ("−", "-") if negate else ("", "")
    bare = bare or (n == 1 and not negate)  # (nothing binds it: no parentheses)
    if n == 1:
        text = sign + ("%0" if bare else "(%0)")
        latex = lsign + ("%0" if bare else r"\left(%0\right)")
        return Tpl(text, latex, (body,), lambda s: -s if negate else s)
    text = sign + ("%0" if bare else "(%0)") + "/%1"
    latex = lsign + r"\frac{%0}{%1}"
    return Tpl(text, latex, (body, Num(n)), lambda s, k: (-s if negate else s) / k)


def error_items(trace: Trace) -> tuple[list[Step | Note], str] | None:
    """The Error section's lines and intro for a loss this module writes out; None for one
    it does not know (the walk names it)."""
    loss, names = trace.loss, trace.labels[-1]
    entry = _VALUES.get(loss.name)
    if entry is None or not loss.builtin:
        return None
    term, negate, text, latex = entry
    n = len(names)
    items: list[Step | Note] = [
        Step(Sym("target", name), (), loss.target[0, k]) for k, name in enumerate(names)
    ]
    keep = [k for k in range(n) if loss.name != "categorical_crossentropy" or loss.target[0, k]]
    value = loss_value(trace, loss.total)
    parts: tuple[Expr, ...] = (Tpl(text, latex),)
    if keep:
        targets = [float(loss.target[0, k]) for k in keep]
        divide = 1 if loss.name == "categorical_crossentropy" else n
        symbols = [term(Sym("target", names[k]), Sym("out", names[k]), t)
                   for k, t in zip(keep, targets)]  # fmt: skip
        numbers = [term(Num(loss.target[0, k]), Num(loss.output[0, k]), t)
                   for k, t in zip(keep, targets)]  # fmt: skip
        shown = _total(numbers, divide, negate)
        parts += (_total(symbols, divide, negate),)
        scale = sum(abs(evaluate(t) or 0.0) for t in numbers)  # (the terms' size)
        if holds(shown, value, trace.dtype, scale):
            parts += (shown,)
        else:
            from_nets = _from_nets(trace, parts)
            if from_nets is not None:
                return items + from_nets, _intro(loss.name, n)
            items.append(Step(E_TOTAL, parts, value))
            return items + [Note(_UNSHOWN)], _intro(loss.name, n)
    items.append(Step(E_TOTAL, parts, value))
    return items, _intro(loss.name, n)


_UNSHOWN = (
    "The network computes this error from the net inputs, not from the outputs (a form that "
    "stays exact where an output is 0 or 1 to its precision); here the outputs, rounded to "
    "their digits, would not give it to its precision (an output of 0 or 1 makes a "
    "logarithm infinite), so only its value is shown."
)


def _lse(*z: float) -> float:
    """ln Σ e^z, shifted by the largest z (no overflow), in float64."""
    top = max(z)
    return top + math.log(math.fsum(math.exp(v - top) for v in z))


def _softplus(z: float) -> float:
    """ln(1 + e^z) in float64, without overflow (log1p for a small e^z)."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def _softmax_terms(trace: Trace) -> tuple[list[Expr], list[Expr]]:
    """−Σ target·ln(out) of a softmax layer written from its nets, term by term:
    target_k·(ln Σ_j e^net_j − net_k) (ln Σ_j e^net_j − net_k for a target of 1)."""
    names, nets = trace.labels[-1], [float(v) for v in trace.forward[-1].net[0]]
    stem = names[0].rstrip("0123456789")
    count = len(names)
    lse_text = " + ".join(f"e^%{j}" for j in range(count))
    symbols: list[Expr] = []
    numbers: list[Expr] = []
    for k, name in enumerate(names):
        t = float(trace.loss.target[0, k])
        if not t:
            continue
        scaled = t != 1
        head, lhead = ("%1·(", r"%1 \cdot \left(") if scaled else ("", "")
        tail, ltail = (")", r"\right)") if scaled else ("", "")
        symbols.append(Tpl(
            f"{head}ln(Σ_j e^net_{stem}j) − %0{tail}",
            rf"{lhead}\ln\left(\sum_j e^{{\mathrm{{net}}_{{{stem}j}}}}\right) - %0{ltail}",
            (Sym("net", name), Sym("target", name)) if scaled else (Sym("net", name),),
        ))  # fmt: skip
        at, lat = (
            (f"%{count + 1}·(", r"%" + str(count + 1) + r" \cdot \left(") if scaled else ("", "")
        )
        lse_latex = " + ".join(f"e^{{%{j}}}" for j in range(count))
        args = tuple(Num(v) for v in trace.forward[-1].net[0]) + (Num(nets[k]),)
        args += (Num(t),) if scaled else ()
        fn = (
            (lambda *a, k=k: _lse(*a[:count]) - a[count])
            if not scaled
            else (lambda *a, k=k: a[count + 1] * (_lse(*a[:count]) - a[count]))
        )
        numbers.append(Tpl(
            f"{at}ln({lse_text}) − %{count}{tail}",
            rf"{lat}\ln\left({lse_latex}\right) - %{count}{ltail}",
            args, fn,
        ))  # fmt: skip
    return symbols, numbers


def _sigmoid_terms(trace: Trace) -> tuple[list[Expr], list[Expr]]:
    """The binary cross-entropy of sigmoid outputs written from their nets, term by term:
    ln(1 + e^−net) for a target of 1, ln(1 + e^net) for 0, ln(1 + e^net) − target·net else."""
    symbols: list[Expr] = []
    numbers: list[Expr] = []
    for k, name in enumerate(trace.labels[-1]):
        t, z = float(trace.loss.target[0, k]), Num(trace.forward[-1].net[0, k])
        if t == 1:
            form = Tpl("ln(1 + e^-%0)", r"\ln\left(1 + e^{-%0}\right)", fn=lambda z: _softplus(-z))
            args: tuple[tuple[Expr, ...], tuple[Expr, ...]] = ((Sym("net", name),), (z,))
        elif t == 0:
            form = Tpl("ln(1 + e^%0)", r"\ln\left(1 + e^{%0}\right)", fn=_softplus)
            args = ((Sym("net", name),), (z,))
        else:
            form = Tpl("ln(1 + e^%0) − %1·%0", r"\ln\left(1 + e^{%0}\right) - %1 \cdot %0",
                       fn=lambda z, t: _softplus(z) - t * z)  # fmt: skip
            args = ((Sym("net", name), Sym("target", name)), (z, Num(t)))
        symbols.append(tpl(form, *args[0]))
        numbers.append(tpl(form, *args[1]))
    return symbols, numbers


def _from_nets(trace: Trace, parts: tuple[Expr, ...]) -> list[Step | Note] | None:
    """The error of a fused pair (softmax with categorical cross-entropy, sigmoid with
    binary cross-entropy) written from the net inputs, as the network computes it, and
    computed from the printed nets in float64, with a note; None for another loss, and where
    the network's own value is right to the 7th significant digit (the walk then shows it).

    The network computes the same form in its own dtype: ln Σ e^net − net_k is a difference
    of two nearly equal numbers where the output is near 1, so a float32 network's own
    error can keep only a few digits; the note gives that value too when it differs."""
    pair = (trace.forward[-1].activation, trace.loss.name)
    n = len(trace.labels[-1])
    if not trace.loss.fused:
        return None
    if pair == ("softmax", "categorical_crossentropy"):
        symbols, numbers = _softmax_terms(trace)
        divide, lse = 1, "ln Σ_j e^net_j − net_k, for an output k whose target is 1"
    elif pair == ("sigmoid", "binary_crossentropy"):
        symbols, numbers = _sigmoid_terms(trace)
        divide, lse = n, "ln(1 + e^−net) for a target of 1 and ln(1 + e^net) for 0"
    else:
        return None
    if not numbers:
        return None
    symbolic, shown = _total(symbols, divide, False), _total(numbers, divide, False)  # type: ignore[arg-type]
    exact = evaluate(_replaced(shown, [float(fmt(v, trace.dtype)) for v in _values(shown)]))
    if exact is None or not math.isfinite(exact):
        return None
    value = loss_value(trace, exact)  # (computed in float64, shown with the walk's digits)
    network = float(trace.loss.total)
    if abs(network - exact) <= _PROMISE * abs(exact) + 5e-10:
        return None  # (the network's value is right to its digits: shown as it is)
    note = (
        f"The network computes this error from the net inputs, as {lse} (a form that stays "
        "exact where an output is 0 or 1 to its precision); the line shows that form, "
        f"computed in float64 from the nets as printed. The network's own {trace.dtype} "
        f"arithmetic gives {fmt(network, trace.dtype, digits=LOSS_DIGITS)}, right to fewer "
        "digits: there the two terms of the difference are nearly equal, and rounding each "
        "to its dtype's digits leaves few digits of what separates them."
    )
    return [Step(E_TOTAL, (*parts, symbolic, shown), value), Note(note)]


_PROMISE = 1e-6
"""How far (relative) the network's error may be from exact arithmetic on its nets and be
shown as it is: what the walk's header promises, a difference in the 7th significant digit."""


def _intro(name: str, n: int) -> str:
    averaged = n > 1 and name != "categorical_crossentropy"
    return f"The error is {_WORDS[name]}" + (f" (n = {n} outputs)." if averaged else ".")


def _values(expr: Expr) -> list[float]:
    """The numbers of an expression, in order."""
    if isinstance(expr, Num):
        return [float(expr.value)]
    children: tuple[Expr, ...] = ()
    if isinstance(expr, Sum):
        children = expr.terms
    elif isinstance(expr, Tpl):
        children = expr.args
    return [v for child in children for v in _values(child)]


def _replaced(expr: Expr, values: list[float]) -> Expr:
    """``expr`` with its numbers replaced by ``values`` in order (consumed)."""
    if isinstance(expr, Num):
        return Num(values.pop(0), expr.dtype)
    if isinstance(expr, Sum):
        return Sum(tuple(_replaced(e, values) for e in expr.terms))
    if isinstance(expr, Tpl):
        return Tpl(expr.text, expr.latex, tuple(_replaced(e, values) for e in expr.args), expr.fn)
    return expr


# ----------------------------------------------------------------------- ∂E_total/∂out
_GRADIENTS: dict[str, tuple[Tpl, Tpl]] = {
    "mse": (
        Tpl("2(%0 − %1)/%2", r"\frac{2\left(%0 - %1\right)}{%2}",
            fn=lambda o, t, n: 2 * (o - t) / n),
        Tpl("2(%0 − %1)", r"2\left(%0 - %1\right)", fn=lambda o, t, n: 2 * (o - t)),
    ),
    "mae": (
        Tpl("sign(%0 − %1)/%2", r"\frac{\mathrm{sign}\left(%0 - %1\right)}{%2}",
            fn=lambda o, t, n: float(np.sign(o - t)) / n),
        Tpl("sign(%0 − %1)", r"\mathrm{sign}\left(%0 - %1\right)",
            fn=lambda o, t, n: float(np.sign(o - t))),
    ),
    "binary_crossentropy": (
        Tpl("(%0 − %1)/(%2·%0(1 − %0))", r"\frac{%0 - %1}{%2 \cdot %0\left(1 - %0\right)}",
            fn=lambda o, t, n: (o - t) / (n * o * (1 - o))),
        Tpl("(%0 − %1)/(%0(1 − %0))", r"\frac{%0 - %1}{%0\left(1 - %0\right)}",
            fn=lambda o, t, n: (o - t) / (o * (1 - o))),
    ),
    "categorical_crossentropy": (
        Tpl("−%1/%0", r"-\frac{%1}{%0}", fn=lambda o, t, n: -t / o),
        Tpl("−%1/%0", r"-\frac{%1}{%0}", fn=lambda o, t, n: -t / o),
    ),
}  # fmt: skip
"""Loss -> (∂E/∂out_k of out ``%0``, target ``%1`` and the number of outputs ``%2``; the
same for one output), for an output layer whose δ the walk shows as the chain rule's
product (not a fused pair)."""


def gradient_parts(trace: Trace, k: int) -> tuple[Expr, ...]:
    """∂E_total/∂out_k as a formula and with its numbers; () for a loss not written out,
    and only the formula where its numbers would not give the value (a clipped output)."""
    loss, name = trace.loss, trace.labels[-1][k]
    entry = _GRADIENTS.get(loss.name)
    if entry is None or not loss.builtin:
        return ()
    n = trace.layer_sizes[-1]
    formula = entry[1] if n == 1 else entry[0]
    out, target = float(loss.output[0, k]), float(loss.target[0, k])
    symbols = tpl(formula, Sym("out", name), Sym("target", name), Sym("n"))
    numbers = tpl(formula, Num(loss.output[0, k]), Num(loss.target[0, k]), Num(n))
    value = float(loss.grad_output[0, k])
    # (out − target cancels: its result keeps the size of out and target)
    scale = abs(value) * (abs(out) + abs(target)) / abs(out - target) if out != target else 0
    if not holds(numbers, Num(value), trace.dtype, scale):
        return (symbols,)
    return symbols, numbers


# ----------------------------------------------------------------------------- softmax
def softmax_parts(trace: Trace, layer: int, k: int) -> tuple[Expr, ...]:
    """out_k of a softmax layer (0-based ``layer``) as e^net_k/Σ_j e^net_j and with its
    numbers (all the layer's nets)."""
    rec, names = trace.forward[layer], trace.labels[layer + 1]
    nets = rec.net[0]
    count = len(names)
    denominator = " + ".join(f"e^%{j}" for j in range(count))
    text = f"e^%{k}/({denominator})"
    latex = rf"\frac{{e^{{%{k}}}}}{{{' + '.join(f'e^{{%{j}}}' for j in range(count))}}}"

    def fn(*z: float) -> float:
        top = max(z)  # (shifted, as the network computes it: no overflow)
        return math.exp(z[k] - top) / math.fsum(math.exp(v - top) for v in z)

    stem = names[k].rstrip("0123456789")  # (o1 -> o: Σ_j e^net_oj)
    symbols = Tpl(
        f"e^%0/Σ_j e^net_{stem}j",
        rf"\frac{{e^{{%0}}}}{{\sum_j e^{{\mathrm{{net}}_{{{stem}j}}}}}}",
        (Sym("net", names[k]),),
    )
    numbers = Tpl(text, latex, tuple(Num(v) for v in nets), fn)
    return symbols, numbers
