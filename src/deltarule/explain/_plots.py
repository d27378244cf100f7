"""Matplotlib figures for explain (error curves), built without pyplot or global state.

Imported only when a plot is asked for: matplotlib is an optional dependency.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ..exceptions import InputError
from .events import Trace

__all__ = ["error_figure", "curve_figure", "figure_bytes", "diagram_figure"]


def error_figure(
    xs: Sequence[float],
    ys: Sequence[float],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    markers: tuple[Sequence[float], Sequence[float]] | None = None,
    logx: bool = False,
    logy: bool = False,
    integer_x: bool = False,
) -> Any:
    """Return a matplotlib Figure with the curve (xs, ys) and optional marker points
    (``integer_x``: x ticks at whole numbers only, the updates of a short run)."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise InputError(
            "plots need matplotlib; install it with pip install 'deltarule[cli]'."
        ) from exc
    fig = Figure(figsize=(6.4, 4.0), dpi=120)
    ax = fig.add_subplot()
    ax.plot(xs, ys, color="#1f5fa8", linewidth=2, label=ylabel)
    if markers is not None:
        ax.plot(*markers, "o-", color="#c0392b", markersize=4, linewidth=1, label="steps")
        ax.legend()
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    ax.set_xscale("symlog" if logx else "linear")
    if integer_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_yscale("log" if logy else "linear")
    if logx:  # (as the HTML chart: 0, 1, 10, 1,000, not 0, 10^0, 10^1)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
    if logy:  # (plain numbers, 0.1 and 0.001, not 10^-1 beside minor labels 4x10^-1)
        plain = FuncFormatter(lambda value, _: f"{value:g}")
        ax.yaxis.set_major_formatter(plain)
        low, high = min(ys), max(ys)
        few = high < 30 * low  # (within a decade or so: the minor ticks are the labels)
        ax.yaxis.set_minor_formatter(plain if few else NullFormatter())
    ax.set_xlabel(f"{xlabel} (log scale)" if logx else xlabel)
    ax.set_ylabel(f"{ylabel} (log scale)" if logy else ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def curve_figure(trace: Trace) -> Any:
    """Return the figure of a trace's error curve (error against updates, log-log; fewer
    than 10 updates on a linear axis, each labelled).

    The error axis is linear when an error is 0 (a log axis has no place for it), and
    the title says when the training diverged (the curve then ends where it did).
    """
    xs, ys = zip(*trace.curve)
    few = max(xs) < 10  # (a log axis would label 0 and 1 only: each update instead)
    title = "error during training"
    if trace.diverged is not None:
        title += f"\ndiverged: the error overflowed after {trace.diverged:,} updates"
    return error_figure(
        xs,
        ys,
        xlabel="updates",
        ylabel="error E",
        title=title,
        logx=not few,
        logy=min(ys) > 0,
        integer_x=few,
    )


def figure_bytes(fig: Any, suffix: str) -> bytes:
    """The figure as the bytes of a ``.png`` or ``.svg`` file (rendered in memory, so that
    nothing is written before everything is ready)."""
    from ..plots import write_figure

    buffer = io.BytesIO()
    write_figure(fig, buffer, suffix.lower().lstrip("."))
    return buffer.getvalue()


def diagram_figure(plan: Any) -> Any:
    """Return a matplotlib Figure drawing a :class:`~deltarule.explain.diagram.Layout`.

    Raises
    ------
    InputError
        When matplotlib is not installed (a .svg diagram needs none).
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import Circle
    except ImportError as exc:
        raise InputError(
            "a .png diagram needs the optional dependency 'matplotlib', which is not "
            "installed; install it with pip install 'deltarule[cli]', or draw to a .svg file "
            "(written without matplotlib)."
        ) from exc

    from .diagram import POSITIVE, RADIUS, colour, node_font_scale

    fig = Figure(figsize=(plan.width / 100, plan.height / 100), dpi=150)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, plan.width)
    ax.set_ylim(plan.height, 0)
    ax.set_axis_off()
    for edge in plan.edges:
        (x1, y1), (x2, y2) = edge.start, edge.end
        style = {"linestyle": "--" if edge.bias else "-", "zorder": 1}
        ax.plot(
            [x1, x2], [y1, y2], color=colour(edge.value), lw=plan.edge_width(edge) * 0.7, **style
        )
        if plan.labelled:
            x, y = x1 + (x2 - x1) * edge.place, y1 + (y2 - y1) * edge.place
            box = {"facecolor": "white", "edgecolor": "none", "pad": 0.5}
            ax.text(
                x,
                y - 3,
                edge.label(),
                color=colour(edge.value),
                fontsize=6,
                ha="center",
                va="bottom",
                zorder=3,
                bbox=box,
            )
    for x, y, name in plan.neurons:
        ax.add_patch(Circle((x, y), RADIUS, facecolor="#fdfdfd", edgecolor="#333", zorder=2))
        size = 7 * node_font_scale(name)  # (h1.2000 ran out of its circle)
        ax.text(x, y, name, ha="center", va="center", fontsize=size, weight="bold", zorder=4)
    for x, y, text, side in plan.names:
        ha = "right" if side == "left" else "left"
        ax.text(x, y, text, ha=ha, va="center", fontsize=7, zorder=4, parse_math=False)
    for x, y in plan.bias_nodes:
        ax.add_patch(
            Circle((x, y), RADIUS * 0.7, facecolor="#eef3fb", edgecolor=POSITIVE, zorder=2)
        )
        ax.text(x, y, "1", ha="center", va="center", fontsize=7, zorder=4)
    for x, y, text in plan.captions:
        ax.text(x, y, text, ha="center", va="bottom", fontsize=7, color="#555")
    for x, y in plan.ellipses:
        ax.text(x, y, "⋮", ha="center", va="center", fontsize=12)
    return fig
