"""A small hand-written SVG line chart (error curves), for self-contained HTML pages.

No plotting library and no external assets: :func:`line_chart` returns one
``<svg>`` element with axes, ticks, a polyline per series and optional markers.

Examples
--------
>>> svg = line_chart([(0, 1.0), (10, 0.5), (100, 0.01)], logx=True, logy=True)
>>> svg.startswith("<svg") and "<polyline" in svg
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

import numpy as np

__all__ = ["line_chart", "svg_root"]

SVG_NAMESPACE = "http://www.w3.org/2000/svg"

WIDTH, HEIGHT = 560, 320
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 30, 50


def svg_root(width: float, height: float, css_class: str, *, standalone: bool = False) -> str:
    """The opening ``<svg>`` tag; ``standalone`` adds the namespace a ``.svg`` file needs.

    Inline SVG in HTML needs no namespace (the parser supplies it), so pages
    carry no URL at all.
    """
    namespace = f' xmlns="{SVG_NAMESPACE}"' if standalone else ""
    return (
        f'<svg{namespace} class="{css_class}" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" font-family="sans-serif" font-size="11">'
    )


def _kind(log: bool, symlog: bool = False) -> str:
    return "symlog" if symlog else "log" if log else "linear"


def _scale(values: Sequence[float], kind: str) -> tuple[np.ndarray, float, float]:
    """Values in axis units: log10 on a log axis, log10(1 + x) on a symlog one (0 at 0)."""
    array = np.asarray(values, dtype=float)
    if kind == "log":
        array = np.log10(np.maximum(array, 1e-300))
    elif kind == "symlog":
        array = np.log10(1 + np.maximum(array, 0))
    low, high = float(array.min()), float(array.max())
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    return array, low, high


def _ticks(low: float, high: float, kind: str) -> list[tuple[float, str]]:
    """Tick positions (in axis units) and labels."""
    if kind == "symlog":  # (0, 1, 10, 100, ...: the updates)
        last = 10**high - 1
        if last < 10 - 1e-6:  # (a short run: 0 and 1 alone left its updates unlabelled)
            return [(math.log10(1 + k), f"{k}") for k in range(math.floor(last + 1e-6) + 1)]
        top = math.floor(math.log10(max(last, 1)) + 1e-9)
        return [(0.0, "0")] + [(math.log10(1 + 10**e), f"{10**e:,}") for e in range(top + 1)]
    if kind == "log":
        first, last = math.ceil(low - 1e-9), math.floor(high + 1e-9)
        if last - first >= 2:  # (decades enough to read values off)
            step = max(1, (last - first) // 6 + 1)
            return [(float(e), f"1e{e}") for e in range(first, last + 1, step)]
        for mantissas in ((1, 2, 5), range(1, 10)):  # (within a decade or two: 0.02, 0.05...)
            ticks = [
                (math.log10(m) + e, f"{m * 10.0**e:.3g}")
                for e in range(math.floor(low) - 1, math.ceil(high) + 1)
                for m in mantissas
                if low - 1e-9 <= math.log10(m) + e <= high + 1e-9
            ]
            if len(ticks) >= 3:
                return ticks
        return ticks
    raw = (high - low) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw), default=raw)
    start = math.ceil(low / step) * step
    ticks = np.arange(start, high + step * 1e-6, step)
    return [(float(t), f"{t:.10g}") for t in ticks]


def _axis_x(value: float, low: float, high: float) -> float:
    return LEFT + (value - low) / (high - low) * (WIDTH - LEFT - RIGHT)


def _axis_y(value: float, low: float, high: float) -> float:
    return HEIGHT - BOTTOM - (value - low) / (high - low) * (HEIGHT - TOP - BOTTOM)


def _frame(xr: tuple[float, float], yr: tuple[float, float], xkind: str, ykind: str) -> list[str]:
    parts = [
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{HEIGHT - TOP - BOTTOM}" fill="none" stroke="#888"/>'
    ]
    for value, label in _ticks(*xr, xkind):
        x = _axis_x(value, *xr)
        parts.append(
            f'<line x1="{x:.1f}" y1="{HEIGHT - BOTTOM}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM + 5}" '
            f'stroke="#888"/><text x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    for value, label in _ticks(*yr, ykind):
        y = _axis_y(value, *yr)
        parts.append(
            f'<line x1="{LEFT - 5}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}" stroke="#888"/>'
            f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
    return parts


def line_chart(
    points: Sequence[tuple[float, float]],
    *,
    logx: bool = False,
    logy: bool = False,
    symlogx: bool = False,
    xlabel: str = "updates",
    ylabel: str = "error E",
    title: str = "",
    markers: Sequence[tuple[float, float]] = (),
    standalone: bool = False,
) -> str:
    r"""Return an ``<svg>`` chart of ``points`` (x, y), with optional marker dots.

    On a log scale, points at or below zero cannot be placed and are left out; so are
    points at infinity or NaN (an error that diverged). ``symlogx`` puts x on
    :math:`\log_{10}(1 + x)`, which is log-like from 1 on and places x = 0 (the error
    before any update), as the ``--plot`` figure's symlog axis does.
    """
    xkind, ykind = _kind(logx, symlogx), _kind(logy)

    def placeable(p: tuple[float, float]) -> bool:
        return (
            math.isfinite(p[0]) and math.isfinite(p[1])
            and (p[0] > 0 or xkind != "log") and (p[0] >= 0 or xkind != "symlog")
            and (p[1] > 0 or ykind != "log")
        )  # fmt: skip

    points = [p for p in points if placeable(p)]
    markers = [p for p in markers if placeable(p)]
    if not points:
        return (
            f'{svg_root(WIDTH, 60, "chart", standalone=standalone)}<text x="10" y="30">'
            "no points to plot on this scale</text></svg>"
        )
    xs = [p[0] for p in [*points, *markers]]
    ys = [p[1] for p in [*points, *markers]]
    sx, *xr = _scale(xs, xkind)
    sy, *yr = _scale(ys, ykind)
    n = len(points)
    line = " ".join(f"{_axis_x(x, *xr):.2f},{_axis_y(y, *yr):.2f}" for x, y in zip(sx[:n], sy[:n]))
    parts = [
        svg_root(WIDTH, HEIGHT, "chart", standalone=standalone),
        f"<title>{escape(title or ylabel + ' against ' + xlabel)}</title>",
        *_frame((xr[0], xr[1]), (yr[0], yr[1]), xkind, ykind),
        f'<polyline points="{line}" fill="none" stroke="#1f5fa8" stroke-width="2"/>',
    ]
    for (x, y), (px, py) in zip(zip(sx[n:], sy[n:]), markers):
        parts.append(
            f'<circle cx="{_axis_x(x, *xr):.2f}" cy="{_axis_y(y, *yr):.2f}" r="4" '
            f'fill="#c0392b"><title>{escape(f"{px:.6g}, {py:.6g}")}</title></circle>'
        )
    parts.append(
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 10}" text-anchor="middle">'
        f"{escape(xlabel + (' (log scale)' if xkind != 'linear' else ''))}</text>"
    )
    parts.append(
        f'<text x="14" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(TOP + HEIGHT - BOTTOM) / 2})">'
        f"{escape(ylabel + (' (log scale)' if logy else ''))}</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)
