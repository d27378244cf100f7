"""Rendering a recorded trace as text, Markdown or JSON (HTML lives in :mod:`.html`).

Renderers read a :class:`~deltarule.explain.events.Trace` and nothing else.
A network wider than ``max_neurons`` in any layer is shown as a per-layer
summary (activation range, gradient norms) instead of weight by weight.

Examples
--------
>>> from deltarule.explain import trace
>>> from deltarule.textbook import tutorial_network
>>> net, X, y = tutorial_network()
>>> text = render(trace(net, X, y), "text")
>>> "E_total = E_o1 + E_o2 = 0.274811083 + 0.023560026 = 0.298371109" in text
True
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from .._json import dumps
from .._validation import check_int
from ..exceptions import InputError
from .errors import loss_value
from .events import Trace, require_trace
from .expr import DECIMALS, Expr, Num, Prod, Sum, Tpl, evaluate, fmt, fmt_short, to_latex, to_text
from .units import json_data, summary_lines
from .walk import NBSP, Note, Section, Step, divergence_sentence, updates, walk

__all__ = ["render", "to_text_report", "to_markdown", "to_json_data", "layer_summary", "FORMATS"]

FORMATS = ("text", "markdown", "html", "json")
"""The output formats of ``explain``."""

MAX_NEURONS = 8
"""Widest layer shown weight by weight; wider networks get a per-layer summary."""


MAX_WALK_WEIGHTS = 5_000
"""The most weights a walk shows one by one (some 4 lines each); a larger network is shown
as a per-layer summary (a smaller ``max_neurons``)."""


MAX_JSON_WEIGHTS = 100_000
"""The most weights ``format="json"`` writes: every weight goes in with its gradient and its
update, twice (by name and as tensors), some 200 bytes a weight (a 784-2000-2000-10 network's
5.6 million made a 1 GB file in over a minute)."""


def check_walk_size(layer_sizes: tuple[int, ...] | list[int], max_neurons: int,
                    option: str = "max_neurons", format: str = "text") -> None:  # fmt: skip
    """Refuse, before it is computed, a weight-by-weight walk of more than
    :data:`MAX_WALK_WEIGHTS` weights, or a JSON walk (which holds every weight, however wide
    the network) of more than :data:`MAX_JSON_WEIGHTS` (``option`` names the setting in the
    message: ``--max-neurons``)."""
    n_weights = sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
    sizes = "-".join(str(n) for n in layer_sizes)
    if format == "json":
        if n_weights > MAX_JSON_WEIGHTS:
            other = "--format text" if option.startswith("--") else 'format="text"'
            raise InputError(
                f"the JSON walk would hold all {n_weights:,} weights of the {sizes} network, "
                f"each with its gradient and update (some {n_weights * 200 // 10**6:,} MB); "
                f"JSON holds at most {MAX_JSON_WEIGHTS:,}. Use {other} (or markdown or html) "
                "for a per-layer summary, or explain a smaller network."
            )
        return
    if max(layer_sizes) > max_neurons:
        return  # (a per-layer summary)
    if n_weights > MAX_WALK_WEIGHTS:
        raise InputError(
            f"{option} {max_neurons} would show all {n_weights:,} weights of the {sizes} "
            f"network one by one (some {4 * n_weights:,} lines); a walk shows at most "
            f"{MAX_WALK_WEIGHTS:,}. Use a {option} below {max(layer_sizes)} (the default, "
            f"{MAX_NEURONS}, gives a per-layer summary), or explain a smaller network."
        )


def render(trace: Trace, format: str = "text", *, max_neurons: int = MAX_NEURONS) -> str:
    """Render ``trace`` as ``"text"``, ``"markdown"``, ``"html"`` or ``"json"``.

    Numbers are written with the digits of the traced network's dtype (:func:`~.expr.fmt`).

    Raises
    ------
    InputError
        For an unknown format, a weight-by-weight walk of more than
        :data:`MAX_WALK_WEIGHTS` weights, or a JSON one of more than :data:`MAX_JSON_WEIGHTS`
        (:func:`check_walk_size`).
    """
    require_trace(trace, "render")
    max_neurons = check_int(max_neurons, "max_neurons")
    check_walk_size(trace.layer_sizes, max_neurons, format=format)
    if format == "text":
        return to_text_report(trace, max_neurons=max_neurons)
    if format == "markdown":
        return to_markdown(trace, max_neurons=max_neurons)
    if format == "json":
        return dumps(to_json_data(trace), indent=2) + "\n"
    if format == "html":
        from .html import to_html

        return to_html(trace, max_neurons=max_neurons)
    raise InputError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}.")


def is_wide(trace: Trace, max_neurons: int) -> bool:
    """True when some layer has more than ``max_neurons`` neurons (or inputs)."""
    return max(trace.layer_sizes) > max_neurons


def header_lines(trace: Trace) -> list[str]:
    """The lines that say what was traced."""
    acts = ", ".join(rec.activation for rec in trace.forward)
    sizes = "-".join(str(s) for s in trace.layer_sizes)
    eta = f"learning rate η = {trace.learning_rate:g}"
    lines = [f"layers {sizes} ({acts}), loss {trace.loss.name}, {eta}, {trace.dtype} numbers"]
    if trace.note:
        lines.append(trace.note)
    lines.append(digits_sentence(trace))
    if dropout_sentence(trace):
        lines.append(dropout_sentence(trace))
    return lines


def digits_sentence(trace: Trace) -> str:
    """Say how the numbers are shown, so that a reader can check each line by hand."""
    text = (
        "Numbers are shown to 9 decimals (tiny ones with all their digits); where a line's "
        "result would not follow from its operands so rounded, that line shows them with "
        "more digits."
    )
    if trace.dtype == np.float32:
        text += (
            " The network computes in float32, rounding every result to about 7 significant "
            "digits, so a result can differ from exact arithmetic on its operands in the 7th "
            "significant digit."
        )
    return text


def dropout_sentence(trace: Trace) -> str:
    """Say that the walk is the inference pass, for a network with dropout ("" without).

    The walk shows the deterministic pass that ``predict`` computes; a training step
    would drop random hidden outputs, so its numbers would differ from run to run.
    """
    rates = [(k, rate) for k, rate in enumerate(trace.dropout, start=1) if rate]
    if not rates:
        return ""
    where = "; ".join(f"rate {rate:g} in hidden layer {k}" for k, rate in rates)
    further = " The further updates run without dropout too." if trace.steps else ""
    return (
        "Dropout is off: this walk is the inference pass (as predict computes it), with "
        f"every hidden neuron kept. The network drops hidden outputs in training only ({where}; "
        "the kept ones scaled by 1/(1 − rate)), so a training step's numbers would differ, "
        f"at random.{further}"
    )


class Printer:
    """The expression printer of a trace: text or LaTeX, numbers in the trace's ``dtype``,
    operands with ``decimals`` (:data:`~.expr.DECIMALS` unless a line needs more)."""

    def __init__(self, dtype: np.dtype, latex: bool = False) -> None:
        """Print with ``dtype``'s digits, as LaTeX when ``latex``."""
        self.dtype, self.latex = dtype, latex

    def __call__(self, expr: Expr, decimals: int = DECIMALS) -> str:
        """Print ``expr``."""
        return (to_latex if self.latex else to_text)(expr, self.dtype, decimals)


def printer(trace: Trace, latex: bool = False) -> Printer:
    """The expression printer for ``trace``: text or LaTeX, numbers in the trace's dtype."""
    return Printer(trace.dtype, latex)


_EPS32 = float(np.finfo(np.float32).eps)
MAX_DECIMALS = 20
"""The most decimals an operand is shown with: beyond float64's shortest repr of any number
from 1e-4 (smaller ones are scientific, with every digit)."""


def _checks(shown: float, text: str, dtype: np.dtype, exact: float | None, value: float,
            evaluated: float, data: bool = False) -> bool:  # fmt: skip
    """True when ``evaluated`` (a line's arithmetic on its shown operands) gives the shown
    result ``text`` (``shown``): within half its last place of 9 decimals (10 significant
    digits when scientific), and in float32 also within what the network's float32
    arithmetic rounded (``value`` against ``exact``, the same arithmetic in float64)."""
    places = abs(shown) * 5e-10 if "e" in text else 5e-10
    if dtype == np.float32 and exact is not None:
        if data:  # (float64 arithmetic: the shown operands must give its exact result)
            return abs(evaluated - exact) <= places / 2
        # (float32 arithmetic rounds each result, as the header says: within that, and
        # within its operands' own float32 digits, 0.15 for 0.150000006)
        scale = max(abs(shown), abs(exact))
        allowed = abs(exact - value) + abs(value - shown) + 4 * _EPS32 * scale
        return abs(evaluated - shown) <= places + allowed
    return abs(evaluated - shown) < places * (1 - 1e-6)  # (a tie, …1185 for …118, fails)


def _has_float64(expr: Expr) -> bool:
    """True when a number of ``expr`` is the data's (float64 in any walk)."""
    if isinstance(expr, Num):
        return expr.dtype is not None and np.dtype(expr.dtype) == np.float64
    children = {Sum: "terms", Prod: "factors", Tpl: "args"}
    name = next((attr for kind, attr in children.items() if isinstance(expr, kind)), None)
    return name is not None and any(_has_float64(e) for e in getattr(expr, name))


def _numbers(part: Expr, value: Num, show: Printer) -> str:
    """A part of numbers, with the fewest decimals (from 9) that make its arithmetic give the
    shown result; the most, when none does (float32's own rounding)."""
    text = to_text(value, show.dtype)
    if evaluate(part, show.dtype, DECIMALS) is None or text in ("inf", "-inf", "nan"):
        return show(part)
    shown, dtype = float(text), np.dtype(value.dtype or show.dtype)
    exact = evaluate(part, show.dtype)
    data = _has_float64(part)
    for decimals in range(DECIMALS, MAX_DECIMALS + 1):
        evaluated = evaluate(part, show.dtype, decimals)
        if evaluated is not None and _checks(shown, text, dtype, exact, float(value.value),
                                             evaluated, data):  # fmt: skip
            return show(part, decimals)
    return show(part, MAX_DECIMALS)


def step_line(step: Step, printer: Printer) -> str:
    """One walk line, ``lhs = formula = numbers = value``, printed by ``printer``; a part of
    numbers shows its operands with the digits its arithmetic needs to give the value."""
    value_num = step.value if isinstance(step.value, Num) else Num(step.value)
    pieces = [printer(step.lhs), *(_numbers(p, value_num, printer) for p in step.parts)]
    value = printer(value_num)
    if pieces[-1] != value:
        pieces.append(value)
    deduped = [p for k, p in enumerate(pieces) if k == 0 or p != pieces[k - 1]]
    return " = ".join(deduped)


def _wrap(text: str, indent: str = "") -> str:
    wrapped = textwrap.fill(text, width=88, initial_indent=indent, subsequent_indent=indent)
    return wrapped.replace(NBSP, " ")


def to_text_report(trace: Trace, *, max_neurons: int = MAX_NEURONS) -> str:
    """Render the walk (or, for a wide network, the layer summary) as plain text."""
    lines = [f"Backpropagation, step by step: {trace.title}", *header_lines(trace), ""]
    if is_wide(trace, max_neurons):
        return "\n".join(lines + _summary_text(trace, max_neurons)) + "\n"
    show = printer(trace)
    for number, section in enumerate(walk(trace), start=1):
        lines += [f"{number}. {section.title}", _wrap(section.intro, "   ")]
        for group in section.groups():
            lines.append("")
            for item in group:
                if isinstance(item, Note):
                    lines.append(_wrap(item.text, "   "))
                else:
                    lines.append("   " + step_line(item, show))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_MARKUP = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
"""HTML's special characters as entities: a Markdown renderer passes raw HTML through, so a
column name such as ``<script>`` in a model file would otherwise become markup."""


def _md(text: str) -> str:
    """Markdown text with ``&``, ``<`` and ``>`` as entities (shown as the characters)."""
    return text.translate(_MARKUP)


def _math(latex: str) -> str:
    """A LaTeX formula safe in Markdown: ``<`` and ``>`` as ``\\lt`` and ``\\gt`` (inside a
    ``\\text{...}`` name, between two), so that no renderer reads a name as HTML."""
    out, i = [], 0
    while (j := latex.find(r"\text{", i)) >= 0:
        k, depth = j + 6, 1
        while k < len(latex) and depth:
            if latex[k] == "\\":
                k += 1
            elif latex[k] in "{}":
                depth += 1 if latex[k] == "{" else -1
            k += 1
        inner = _TEXT_COMMAND.sub(r"\\textbackslash{}", latex[j + 6 : k - 1])
        inner = inner.replace("<", r"}\lt\text{").replace(">", r"}\gt\text{")
        out += [_relations(latex[i:j]), r"\text{", inner, "}"]
        i = k
    return "".join([*out, _relations(latex[i:])])


_TEXT_COMMAND = re.compile(
    r"\\(?!textasciitilde\{\}|textasciicircum\{\}|textbackslash\{\}|[_%&#$\{\}])"
)
"""A backslash in a ``\\text{...}`` name that is not one of the escapes a name is written
with (``\\_``, ``\\textasciitilde{}``, ...): the name's own, which would start a command."""


def _relations(latex: str) -> str:
    return latex.replace("<", r"\lt ").replace(">", r"\gt ")


def _markdown_section(number: int, section: Section, show: Callable[[Expr], str]) -> list[str]:
    lines = [f"## {number}. {_md(section.title)}", "", _md(section.intro.replace(NBSP, " "))]
    for group in section.groups():
        lines.append("")
        for item in group:
            if isinstance(item, Note):
                lines += ["", _md(item.text)]
            else:
                lines.append(f"- ${_math(step_line(item, show))}$")
    return [*lines, ""]


def to_markdown(trace: Trace, *, max_neurons: int = MAX_NEURONS) -> str:
    """Render the walk as Markdown with LaTeX formulas (``$...$``).

    Names from the model file and its data are written so that no renderer reads them as
    HTML: ``&``, ``<`` and ``>`` as entities in text, ``\\lt`` and ``\\gt`` in formulas."""
    lines = [f"# Backpropagation, step by step: {_md(trace.title)}", ""]
    lines += [f"*{_md(line)}*" for line in header_lines(trace)] + [""]
    if is_wide(trace, max_neurons):
        return "\n".join(lines + _summary_markdown(trace, max_neurons)) + "\n"
    for number, section in enumerate(walk(trace), start=1):
        lines += _markdown_section(number, section, printer(trace, latex=True))
    return "\n".join(lines).rstrip() + "\n"


def _norm(array: np.ndarray | None) -> float | None:
    """‖array‖, in float64 (a float32 update of 1e30 squares past float32); inf past that."""
    if array is None:
        return None
    with np.errstate(over="ignore"):
        return float(np.linalg.norm(np.asarray(array, dtype=np.float64)))


def layer_summary(trace: Trace) -> list[dict[str, Any]]:
    """Per-layer statistics: out min/mean/max, ‖δ‖, ‖∂E/∂W‖, ‖∂E/∂b‖ and the update's size."""
    require_trace(trace, "layer_summary")
    rows = []
    for fwd, bwd in zip(trace.forward, trace.backward):
        name = f"W{fwd.index + 1}"
        step = trace.updated - trace.parameters
        rows.append(
            {
                "layer": fwd.index + 1,
                "shape": f"{fwd.weight.shape[1]} → {fwd.weight.shape[0]}",
                "activation": fwd.activation,
                "out_min": float(fwd.out.min()),
                "out_mean": float(fwd.out.mean()),
                "out_max": float(fwd.out.max()),
                "delta_norm": _norm(bwd.delta),
                "grad_weight_norm": _norm(bwd.grad_weight),
                "grad_bias_norm": _norm(bwd.grad_bias),
                "update_norm": _norm(trace.tensor(step, name)),
            }
        )
    return rows


_SUMMARY_COLUMNS = (
    ("layer", "layer"),
    ("shape", "shape"),
    ("activation", "activation"),
    ("out_min", "out min"),
    ("out_mean", "out mean"),
    ("out_max", "out max"),
    ("delta_norm", "‖δ‖"),
    ("grad_weight_norm", "‖∂E/∂W‖"),
    ("grad_bias_norm", "‖∂E/∂b‖"),
    ("update_norm", "‖ΔW‖"),
)


def _cell(value: Any, trace: Trace) -> str:
    if value is None:
        return "-"
    return fmt_short(value, trace.dtype) if isinstance(value, float) else str(value)


def summary_table(trace: Trace) -> tuple[list[str], list[list[str]]]:
    """Header and formatted rows of :func:`layer_summary`."""
    rows = [[_cell(row[key], trace) for key, _ in _SUMMARY_COLUMNS] for row in layer_summary(trace)]
    return [title for _, title in _SUMMARY_COLUMNS], rows


def summary_intro(trace: Trace, max_neurons: int) -> list[str]:
    """Sentences that open the summary view."""
    shown = min(trace.layer_sizes[-1], 10)
    out = ", ".join(fmt(v, trace.dtype) for v in trace.loss.output[0, :shown])
    target = ", ".join(fmt(v, trace.dtype) for v in trace.loss.target[0, :shown])
    more = " ..." if trace.layer_sizes[-1] > shown else ""
    widest = max(trace.layer_sizes)
    n_weights = sum(a * b for a, b in zip(trace.layer_sizes[:-1], trace.layer_sizes[1:]))
    option = (
        f" (--max-neurons N shows every weight, e.g. --max-neurons {widest})"
        if n_weights <= MAX_WALK_WEIGHTS
        else f" (its {n_weights:,} weights are more than a walk shows one by one)"
    )
    return [
        f"A layer is wider than {max_neurons} neurons, so each layer is summarised "
        f"instead of shown weight by weight{option}.",
        f"E_total = {printer(trace)(loss_value(trace, trace.loss.total))}",
        f"out    = [{out}{more}]",
        f"target = [{target}{more}]",
        *summary_lines(trace, printer(trace)),  # (from the data's units, when recorded)
    ]


def _summary_text(trace: Trace, max_neurons: int) -> list[str]:
    header, rows = summary_table(trace)
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    table = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    lines = summary_intro(trace, max_neurons) + ["", *table]
    if trace.curve or trace.diverged is not None:
        lines += ["", "Training on:"]
        lines += [f"  E after {updates(n)} = {fmt_short(e, trace.dtype)}" for n, e in trace.curve]
        if trace.diverged is not None:
            lines.append(_wrap(divergence_sentence(trace), "  "))
    return lines


def _summary_markdown(trace: Trace, max_neurons: int) -> list[str]:
    header, rows = summary_table(trace)
    intro = summary_intro(trace, max_neurons)
    lines = [_md(intro[0]), "", *(_code(line) for line in intro[1:]), ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(_md, r)) + " |" for r in rows]
    if trace.curve:
        lines += ["", "| updates | E |", "|---|---|"]
        lines += [f"| {n:,} | {fmt_short(e, trace.dtype)} |" for n, e in trace.curve]
    if trace.diverged is not None:
        lines += ["", _md(divergence_sentence(trace))]
    return lines


def _code(line: str) -> str:
    """A list item showing ``line`` as code (a name with a backtick: as text, escaped)."""
    return f"- `{line}`" if "`" not in line else f"- {_md(line)}"


def to_json_data(trace: Trace) -> dict[str, Any]:
    """Return the trace as plain JSON-able data (keys documented in the module docs)."""
    require_trace(trace, "to_json_data")
    weights = trace.weights()
    data: dict[str, Any] = {
        "title": trace.title,
        "layer_sizes": list(trace.layer_sizes),
        "activations": [rec.activation for rec in trace.forward],
        "loss": trace.loss.name,
        "learning_rate": trace.learning_rate,
        "note": trace.note,
        "total_error": trace.loss.total,
        "output": trace.loss.output.tolist(),
        "target": trace.loss.target.tolist(),
        "weights": {w.label: float(trace.parameters[w.flat]) for w in weights},
        "gradients": {w.label: float(trace.gradient[w.flat]) for w in weights},
        "updated_weights": {w.label: float(trace.updated[w.flat]) for w in weights},
        "layers": _json_layers(trace),
        "tensors": _json_tensors(trace),
    }
    data.update(json_data(trace))
    if trace.footnotes:  # (where the walk's numbers differ from a published one, and why)
        data["footnotes"] = [{"line": line, "text": text} for line, text in trace.footnotes]
    if trace.loss.per_output is not None:
        names = trace.labels[-1]
        data["errors"] = {f"E_{n}": float(v) for n, v in zip(names, trace.loss.per_output)}
    if dropout_sentence(trace):  # (the rates of the hidden layers, as in the model file)
        data["dropout"] = {
            "rates": list(trace.dropout[:-1]),
            "applied": False,
            "note": dropout_sentence(trace),
        }
    if trace.steps:
        data["steps"] = trace.steps
        data["curve"] = [[n, e] for n, e in trace.curve]
        data["final_error"] = trace.final_error
        if trace.final_output is not None:  # (the outputs after the training)
            data["final_output"] = trace.final_output.tolist()
        if trace.diverged is not None:
            data["diverged_after"] = trace.diverged
            data["divergence"] = divergence_sentence(trace)
    return data


def _json_layers(trace: Trace) -> list[dict[str, Any]]:
    return [
        {
            "layer": fwd.index + 1,
            "activation": fwd.activation,
            "neurons": list(trace.labels[fwd.index + 1]),
            "net": fwd.net.tolist(),
            "out": fwd.out.tolist(),
            "delta": bwd.delta.tolist(),
        }
        for fwd, bwd in zip(trace.forward, trace.backward)
    ]


def _json_tensors(trace: Trace) -> dict[str, Any]:
    return {
        spec.name: {
            "value": trace.tensor(trace.parameters, spec.name).tolist(),
            "gradient": trace.tensor(trace.gradient, spec.name).tolist(),
            "updated": trace.tensor(trace.updated, spec.name).tolist(),
            "trainable": bool(trace.trainable[spec.slice].any()),
        }
        for spec in trace.layout.specs
    }
