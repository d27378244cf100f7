"""QA (a student reading the pictures and tables, #6 and #8): the HTML page's error chart
places the error before any update and has ticks to read values off; the one-weight
example's descent table keeps its columns aligned however large its numbers grow."""

from __future__ import annotations

import math
import re

import pytest

from deltarule.cli import main
from deltarule.explain import explain_tutorial
from deltarule.explain.svgplot import LEFT, line_chart


def _labels(svg: str) -> list[str]:
    return re.findall(r'text-anchor="(?:middle|end)">([^<]*)</text>', svg)


def _polyline(svg: str) -> list[tuple[float, float]]:
    points = re.search(r'<polyline points="([^"]*)"', svg)
    assert points is not None
    return [tuple(map(float, p.split(","))) for p in points.group(1).split()]  # type: ignore[misc]


def test_the_html_error_chart_starts_at_0_updates():
    # (a log x-axis from 1e0 to 1e2 could not place the error at 0 updates, 0.298371109)
    page = explain_tutorial("html", steps=100)
    start = page.index("<title>error during training</title>")
    svg = page[page.rfind("<svg", 0, start) : page.index("</svg>", start)]
    points = _polyline(svg)
    assert points[0][0] == LEFT  # (the first point, 0 updates, at the left edge)
    labels = _labels(svg)
    assert labels[:4] == ["0", "1", "10", "100"], labels


def test_a_chart_within_a_decade_has_ticks_to_read_values_off():
    # the tutorial's first 100 updates: E from 0.298 to about 0.02, which had one tick, 1e-1
    svg = line_chart([(0, 0.298), (10, 0.1), (100, 0.021)], symlogx=True, logy=True)
    y_labels = [label for label in _labels(svg) if label not in ("0", "1", "10", "100")]
    y_labels = [label for label in y_labels if not label.startswith(("updates", "error"))]
    assert y_labels == ["0.05", "0.1", "0.2"], y_labels
    # and the ticks sit where their values are: 0.1 between 0.021 and 0.298 in log10
    positions = dict(
        (label, float(y))
        for y, label in re.findall(r'<text x="[\d.]+" y="([\d.]+)" text-anchor="end">([^<]*)', svg)
    )
    top, bottom = _polyline(svg)[0][1], _polyline(svg)[-1][1]  # (E = 0.298 and 0.021)
    fraction = (math.log10(0.1) - math.log10(0.021)) / (math.log10(0.298) - math.log10(0.021))
    expected = bottom + fraction * (top - bottom)
    assert positions["0.1"] - 4 == pytest.approx(expected, abs=0.11)  # (1 decimal written)
    # many decades still get decade ticks
    wide = line_chart([(1, 1.0), (10, 1e-3), (100, 1e-6)], logx=True, logy=True)
    assert {"1e-6", "1e-4", "1e-2", "1e0"} <= set(_labels(wide))


def test_the_descent_table_keeps_its_columns_aligned(capsys):
    # (η = 2 diverges: "-10.703703704 134.486739826   -21.172839506" ran out of its columns)
    assert main(["explain", "--example", "linear", "--learning-rate", "2"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    first = next(k for k, line in enumerate(lines) if line.split()[:2] == ["step", "W"])
    table = lines[first : lines.index("", first)]
    rows = [line for line in table if line.strip() != "..."]
    starts = [[m.start() for m in re.finditer(r"(?<=\s)\S+", row)] for row in rows]
    assert len(rows) == 16 and all(len(s) == 4 for s in starts), rows
    assert all(s[1:] == starts[0][1:] for s in starts), rows  # W, E and dE/dW line up
    assert all(row.split()[0] == "step" or row.split()[0].isdigit() for row in rows)


def test_edge_values_are_written_above_every_edge_on_a_box_of_their_own():
    # (a visual QA pass: in "After one update", later edges were drawn over the labels
    # written before them, and an edge crossing a label's spaces showed through its halo)
    from deltarule.explain import diagram_svg
    from deltarule.explain.diagram import Diagram
    from deltarule.textbook import tutorial_network

    net = tutorial_network()[0]
    svg = diagram_svg(Diagram.from_network(net), show_values=True)
    last_line = svg.rfind("<line ")
    values = svg.index('<g class="values">')
    assert last_line < values  # (every label after every edge)
    labels = re.findall(r"<rect [^>]*/><text [^>]*>(w\d = [^<]*|[\d.]+)</text>", svg[values:])
    assert len(labels) == 12  # (8 weights, 4 biases: each with its box)


def test_the_png_error_curve_says_its_log_scales_and_writes_plain_numbers():
    # (a visual QA pass: the PNG's ticks mixed "0" with 10^0 and 10^1 and minor labels of
    # 4x10^-1, and its axes did not say log scale, where the HTML chart does)
    pytest.importorskip("matplotlib")
    from deltarule.explain._plots import error_figure

    fig = error_figure([0, 1, 10, 100, 1000], [0.3, 0.29, 0.2, 0.02, 0.001], xlabel="updates",
                       ylabel="error E", title="t", logx=True, logy=True)  # fmt: skip
    ax = fig.axes[0]
    assert ax.get_xlabel() == "updates (log scale)" and ax.get_ylabel() == "error E (log scale)"
    fig.canvas.draw()  # (tick labels are made when drawn)
    xs = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    ys = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "1,000" in xs and "10" in xs and not any("10^" in t or "$" in t for t in xs + ys)
    assert "0.01" in ys


def _x_labels(svg: str) -> list[str]:
    return re.findall(r'text-anchor="middle">([^<]*)</text>', svg)


@pytest.mark.parametrize("steps", [1, 5, 9])
def test_a_short_runs_curve_labels_each_update(steps):
    # (--steps 5: a symlog axis running to 5 labelled 0 and 1 only, in --plot and the page)
    from deltarule.explain import tutorial_trace
    from deltarule.explain._plots import curve_figure

    walked = tutorial_trace(steps=steps)
    ax = curve_figure(walked).axes[0]
    ticks = [t for t in ax.get_xticks() if 0 <= t <= steps]
    assert ticks == list(range(steps + 1)), ticks
    assert ax.get_xlabel() == "updates"  # (a linear axis now)
    page = explain_tutorial("html", steps=steps)
    start = page.index("<title>error during training</title>")
    svg = page[page.rfind("<svg", 0, start) : page.index("</svg>", start)]
    assert [x for x in _x_labels(svg) if x.isdigit()] == [str(k) for k in range(steps + 1)]


def test_a_long_runs_curve_keeps_its_log_axis():
    from deltarule.explain import tutorial_trace
    from deltarule.explain._plots import curve_figure

    ax = curve_figure(tutorial_trace(steps=100)).axes[0]
    assert ax.get_xscale() == "symlog" and ax.get_xlabel() == "updates (log scale)"
