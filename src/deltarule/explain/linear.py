r"""The tutorial's one-weight example: ``output = W·x`` on 0→0, 1→2, 2→4.

The tutorial tries W = 3, then W = 4 (worse), then W = 2 (no error), and
concludes that training means finding the direction in which the error falls.
:func:`linear_walk` computes its error tables through the real network
(:func:`deltarule.textbook.linear_error_table`) and then lets gradient descent
find that direction from the slope alone: from W = 3 it calls the network's
``loss_and_gradient`` and steps :math:`W \leftarrow W - \eta\,dE/dW` until the
steps become negligible. The network's error is
:math:`E = \tfrac12\cdot\tfrac13\sum_x (Wx - t)^2`, half the mean of the
tutorial's square-error column.
"""

from __future__ import annotations

import numbers
import os
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._json import dumps
from .._validation import check_int, check_positive
from ..exceptions import InputError
from ..textbook import linear_data, linear_error_table, linear_network
from ._output import save_atomic
from .expr import fmt, fmt_short

__all__ = [
    "LinearWalk",
    "linear_walk",
    "render_linear",
    "plot_linear",
    "plotted_steps",
    "TABLE_WEIGHTS",
    "FOOTNOTE",
    "error_sentence",
    "first_step",
]

TABLE_WEIGHTS = (3.0, 4.0, 2.0)
"""The weights the tutorial's tables try, in its order."""

FOOTNOTE = (
    "The tutorial's own W = 2 table has typos in the row for input 1: it prints 3 as the "
    "model output for W = 2 (2·1 = 2) and 2 and 4 as the absolute and square errors for "
    "W = 3 (they are 1 and 1, as its first table says). The values here are computed by "
    "the network."
)


@dataclass(frozen=True)
class LinearWalk:
    """The one-weight example: error tables, the descent from W = 3, and the error curve.

    Attributes
    ----------
    tables : dict of float to list of dict
        For W = 3, 4, 2: rows with ``input``, ``desired``, ``output``,
        ``absolute_error``, ``square_error``.
    errors : dict of float to float
        The network's error E for each table's W.
    descent : tuple of (step, W, E, dE/dW)
        Gradient descent from W = 3, one row per step (the last row is where it stopped).
    learning_rate : float
    curve : tuple of (W, E)
        The error against W, through the network, for plotting.
    converged : bool
        Whether the steps became negligible before the step limit.
    """

    tables: dict[float, list[dict[str, float]]]
    errors: dict[float, float]
    descent: tuple[tuple[int, float, float, float], ...]
    learning_rate: float
    curve: tuple[tuple[float, float], ...]
    converged: bool = True

    @property
    def final(self) -> tuple[int, float, float, float]:
        """The row where gradient descent stopped."""
        return self.descent[-1]


def linear_walk(
    learning_rate: float = 0.5,
    *,
    start: float = 3.0,
    tolerance: float = 1e-6,
    max_steps: int = 1000,
) -> LinearWalk:
    r"""Compute the one-weight example through the real network.

    Gradient descent stops when a step :math:`|\eta\,dE/dW|` is below ``tolerance``,
    or after ``max_steps`` steps (or when the error overflows).

    Parameters
    ----------
    learning_rate : float, default 0.5
        :math:`\eta`, > 0.
    start : float, default 3.0
        The weight W the descent starts from (a finite number).
    tolerance : float, default 1e-6
        The step size below which the descent has converged (> 0).
    max_steps : int, default 1000
        The most steps taken (>= 1).

    Returns
    -------
    LinearWalk
    """
    learning_rate = check_positive(learning_rate, "learning_rate")
    tolerance = check_positive(tolerance, "tolerance")
    max_steps = check_int(max_steps, "max_steps")
    if isinstance(start, bool) or not isinstance(start, numbers.Real) or not np.isfinite(start):
        raise InputError(f"start must be a finite number (the first W); received {start!r}.")
    X, y = linear_data()
    net = linear_network(start)
    descent, converged = [], False
    for step in range(max_steps + 1):
        error, gradient = net.loss_and_gradient(X, y)
        descent.append((step, float(net.parameters[0]), float(error), float(gradient[0])))
        converged = bool(abs(learning_rate * gradient[0]) < tolerance)
        if converged or step == max_steps or not np.isfinite(error):
            break
        net.parameters[net.trainable] -= learning_rate * gradient[net.trainable]
    grid = np.linspace(0.5, 3.5, 61)
    curve = tuple((float(w), net.evaluate_params(np.array([w]), X, y)) for w in grid)
    return LinearWalk(
        tables={w: linear_error_table(w) for w in TABLE_WEIGHTS},
        errors={w: linear_network(w).evaluate(X, y) for w in TABLE_WEIGHTS},
        descent=tuple(descent),
        learning_rate=learning_rate,
        curve=curve,
        converged=converged,
    )


_COLUMNS = ("input", "desired", "output", "absolute_error", "square_error")
_HEADERS = ("input", "desired output", "model output", "absolute error", "square error")


def table_rows(walk: LinearWalk, w: float) -> list[list[str]]:
    """One W's table, formatted."""
    return [[fmt(row[c]) for c in _COLUMNS] for row in walk.tables[w]]


def stop_sentence(walk: LinearWalk) -> str:
    """Where gradient descent stopped."""
    step, w, error, _ = walk.final
    first_error = walk.descent[0][2]
    previous_w = walk.descent[-2][1] if len(walk.descent) > 1 else w
    if walk.converged:
        where = "the steps have become negligible at the global minimum (W = 2, E = 0)"
    elif not np.isfinite(error) or error > first_error:
        where = (
            "the error grew instead of falling: the learning rate is too large (try a smaller one)"
        )
    elif (w - 2) * (previous_w - 2) < 0:  # jumping from side to side of the minimum
        where = (
            "still moving when the step limit was reached, jumping across the minimum "
            "(try a smaller learning rate)"
        )
    else:
        where = (
            "still moving when the step limit was reached, creeping towards the minimum "
            "(try a larger learning rate)"
        )
    shown = f"{w:.4f}" if abs(w) < 1e6 else f"{w:.4g}"  # (a diverged W has 150 digits)
    return f"W = {shown} after {step} steps, error {error:.2g}: {where}."


def error_sentence(walk: LinearWalk, w: float) -> str:
    """How a table's E comes from its square errors."""
    total = sum(r["square_error"] for r in walk.tables[w])
    return f"sum of square errors = {fmt(total)}; the network's E = ½·mean = {fmt(walk.errors[w])}"


def first_step(walk: LinearWalk) -> list[str]:
    """The descent's first step worked out: the slope's formula, its value at the starting
    W with the data substituted, and the update it makes."""
    X, y = linear_data()
    step, w, _, slope = walk.descent[0]
    terms = [f"({fmt(w)}·{fmt(x)} − {fmt(t)})·{fmt(x)}" for x, t in zip(X[:, 0], y[:, 0])]
    total = float(sum((w * x - t) * x for x, t in zip(X[:, 0], y[:, 0])))
    n = len(X)
    lines = [
        f"dE/dW = (1/{n})·Σ (W·x − t)·x, the slope of E = ½·(1/{n})·Σ (W·x − t)²; at W = "
        f"{fmt(w)}: dE/dW = ({' + '.join(terms)}) / {n} = {fmt(total)} / {n} = {fmt(slope)}"
    ]
    if len(walk.descent) > 1:
        after = walk.descent[1][1]
        lines.append(f"W⁺ = {fmt(w)} − {walk.learning_rate:g}·{fmt(slope)} = {fmt(after)}")
    return lines


def _descent_rows(walk: LinearWalk) -> list[tuple[int, float, float, float] | None]:
    """The descent's rows; a long one keeps its first 10 and last 5, None marking the gap."""
    rows: list[tuple[int, float, float, float] | None] = list(walk.descent)
    return rows if len(rows) <= 30 else [*rows[:10], None, *rows[-5:]]


def _fill(text: str, indent: str = "") -> str:
    """Wrap at 88 columns, never inside an equation such as "W = 3"."""
    protected = re.sub(r"(\S) = (\S+)", "\\1\u00a0=\u00a0\\2", text)
    return textwrap.fill(protected, 88, subsequent_indent=indent).replace("\u00a0", " ")


def _text(walk: LinearWalk) -> str:
    lines = [
        "The one-weight model: output = W·x on the tutorial's data (computed by the network)",
        "",
    ]
    for w in TABLE_WEIGHTS:
        rows = [list(_HEADERS), *table_rows(walk, w)]
        widths = [max(len(r[k]) for r in rows) for k in range(len(_HEADERS))]
        lines.append(f"W = {fmt(w)}" + (" *" if w == 2 else ""))
        lines += ["  " + "  ".join(c.ljust(n) for c, n in zip(r, widths)).rstrip() for r in rows]
        lines += ["  " + error_sentence(walk, w), ""]
    lines += [
        "Raising W from 3 to 4 made the error worse; lowering it to 2 removed it. Gradient",
        "descent finds the direction from the slope alone: W⁺ = W − η·dE/dW, "
        f"η = {walk.learning_rate:g}.",
        "",
        *(_fill(line, "  ") for line in first_step(walk)),
        "",
    ]
    lines += _descent_table(walk)
    lines += ["", _fill(stop_sentence(walk)), "", _fill("* " + FOOTNOTE, "  ")]
    return "\n".join(lines) + "\n"


def _descent_table(walk: LinearWalk) -> list[str]:
    """The descent as aligned columns, each as wide as its widest number (a diverging
    descent's numbers outgrow any fixed width: -374.562871513 118166.330168737)."""
    rows = [["step", "W", "E", "dE/dW"]]
    for row in _descent_rows(walk):
        rows.append(["..."] if row is None else [f"{row[0]}", *map(fmt_short, row[1:])])
    least = (5, 12, 14, 0)  # (the columns of a converging descent)
    widths = [max(least[k], *(len(r[k]) for r in rows if len(r) > k)) for k in range(4)]
    return [
        "  " + "  ".join(c.rjust(widths[0]) if k == 0 else c.ljust(widths[k])
                         for k, c in enumerate(r)).rstrip()
        for r in rows
    ]  # fmt: skip


def _markdown(walk: LinearWalk) -> str:
    lines = ["# The one-weight model: $\\mathrm{output} = W \\cdot x$", ""]
    lines += [
        "Error tables computed by the network, "
        "$E = \\frac{1}{2}\\cdot\\frac{1}{3}\\sum_x (Wx - t)^2$.",
        "",
    ]
    for w in TABLE_WEIGHTS:
        lines += [f"### W = {fmt(w)}" + ("[^typos]" if w == 2 else ""), ""]
        lines += ["| " + " | ".join(_HEADERS) + " |", "|" + "---|" * len(_HEADERS)]
        lines += ["| " + " | ".join(r) + " |" for r in table_rows(walk, w)]
        lines += ["", f"$E = {fmt(walk.errors[w])}$", ""]
    lines += [
        "## Gradient descent from W = 3",
        "",
        f"$W^{{+}} = W - \\eta \\frac{{dE}}{{dW}}$, $\\eta = {walk.learning_rate:g}$",
        "",
        *(f"{line}  " for line in first_step(walk)),
        "",
        "| step | W | E | dE/dW |",
        "|---|---|---|---|",
    ]
    lines += [
        "| ... | | | |"
        if row is None
        else "| {} | {} | {} | {} |".format(row[0], *map(fmt_short, row[1:]))
        for row in _descent_rows(walk)
    ]
    lines += ["", stop_sentence(walk), "", f"[^typos]: {FOOTNOTE}"]
    return "\n".join(lines) + "\n"


def linear_json(walk: LinearWalk) -> dict[str, Any]:
    """The walk as JSON-able data."""
    step, w, error, _ = walk.final
    return {
        "example": "linear",
        "model": "output = W*x",
        "tables": {fmt(w): walk.tables[w] for w in TABLE_WEIGHTS},
        "errors": {fmt(w): walk.errors[w] for w in TABLE_WEIGHTS},
        "learning_rate": walk.learning_rate,
        "descent": [{"step": s, "W": x, "error": e, "gradient": g} for s, x, e, g in walk.descent],
        "first_step": first_step(walk),
        "steps": step,
        "final_W": w,
        "final_error": error,
        "total_error": walk.descent[0][2],
        "note": FOOTNOTE,
    }


def render_linear(walk: LinearWalk, format: str = "text") -> str:
    """Render the one-weight example as text, Markdown, HTML or JSON."""
    if not isinstance(walk, LinearWalk):
        raise InputError(
            f"render_linear needs a LinearWalk (from linear_walk); received "
            f"{type(walk).__name__} {walk!r:.60}."
        )
    if format == "text":
        return _text(walk)
    if format == "markdown":
        return _markdown(walk)
    if format == "json":
        return dumps(linear_json(walk), indent=2) + "\n"
    if format == "html":
        from .html import linear_html

        return linear_html(walk)
    raise InputError(f"unknown format {format!r}; expected text, markdown, html or json.")


def plotted_steps(walk: LinearWalk) -> tuple[list[tuple[float, float]], int | None]:
    """The descent's (W, E) points that fit a readable plot of E(W), and the first step
    left out (None: all fit).

    A diverging descent runs W off to 1e150 within a few hundred steps; drawn to scale, the
    curve E(W) would vanish into a corner. Its steps are kept while W stays within one
    width of the plotted W range on either side (and E is finite); later ones are left out,
    and the plot says so.
    """
    ws = [w for w, _ in walk.curve]
    low, high = min(ws), max(ws)
    span = high - low
    points: list[tuple[float, float]] = []
    for step, w, error, _ in walk.descent:
        if not (np.isfinite(w) and np.isfinite(error) and low - span <= w <= high + span):
            return points, step
        points.append((w, error))
    return points, None


def plot_title(walk: LinearWalk, title: str = "E(W) for output = W·x") -> str:
    """The title of the E(W) plot, saying when the descent ran off it."""
    _, cut = plotted_steps(walk)
    if cut is None:
        return title
    return f"{title}\nthe descent diverged: step {cut} and later lie off the plot"


def linear_figure(walk: LinearWalk) -> Any:
    """The matplotlib figure of the error against W with the descent's steps."""
    from ._plots import error_figure

    points, _ = plotted_steps(walk)
    return error_figure(
        [p[0] for p in walk.curve],
        [p[1] for p in walk.curve],
        xlabel="W",
        ylabel="error E",
        title=plot_title(walk),
        markers=([p[0] for p in points], [p[1] for p in points]),
    )


def plot_linear(walk: LinearWalk, path: str | os.PathLike[str]) -> Path:
    """Plot the error against W with the descent's steps (PNG or SVG, via matplotlib).

    A diverging descent's steps are drawn while they stay near the curve
    (:func:`plotted_steps`), and the title says that it diverged.
    """
    if not isinstance(walk, LinearWalk):
        raise InputError(
            f"plot_linear needs a LinearWalk (from linear_walk); received "
            f"{type(walk).__name__} {walk!r:.60}."
        )
    target = Path(path)
    if target.suffix.lower() not in (".png", ".svg"):
        raise InputError(
            f"the plot's file must end in .png or .svg (plot=..., --plot at the command line); "
            f"received {str(path)!r}."
        )
    fig = linear_figure(walk)
    fmt_name = target.suffix.lower()[1:]
    from ..plots import write_figure

    return save_atomic(target, lambda handle: write_figure(fig, handle, fmt_name))
