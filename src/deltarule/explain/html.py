"""One self-contained HTML page per explanation: inline CSS and SVG, no external assets.

The page works offline and carries no URL: diagrams of the network before and
after the update (hover an edge for its weight and gradient), the error curve
when training went on, and the walk itself (or the per-layer summary of a wide
network). Everything shown comes from the recorded trace.
"""

from __future__ import annotations

from html import escape

from .draw import Diagram, svg_text
from .events import Trace
from .expr import fmt, fmt_short
from .linear import (
    FOOTNOTE,
    TABLE_WEIGHTS,
    LinearWalk,
    error_sentence,
    first_step,
    plot_title,
    plotted_steps,
    stop_sentence,
    table_rows,
)
from .render import (
    MAX_NEURONS,
    header_lines,
    is_wide,
    printer,
    step_line,
    summary_intro,
    summary_table,
)
from .svgplot import line_chart
from .walk import Note, Section, divergence_sentence, walk

__all__ = ["to_html", "linear_html", "page"]

STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; background: #fafafa; color: #222; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
.meta { color: #555; }
.figures { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure { margin: 0; background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .5rem; }
figcaption { font-size: .9rem; color: #444; margin-bottom: .25rem; }
svg { max-width: 100%; height: auto; }
.edge:hover line:first-of-type { stroke: #111; }
ul.steps { list-style: none; padding-left: 0; }
ul.steps li { font-family: ui-monospace, monospace; font-size: .9rem; padding: .15rem 0;
  white-space: pre-wrap; }
ul.steps li:hover { background: #eef3fb; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: right; white-space: nowrap; }
table { max-width: 100%; overflow-x: auto; display: block; }
.note { color: #555; font-size: .9rem; }
"""


def page(title: str, body: list[str]) -> str:
    """Wrap body parts into a complete HTML document with the inline style sheet."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _section(number: int, section: Section, trace: Trace) -> str:
    lists = []
    show = printer(trace)
    for group in section.groups():
        items = [
            f'<li class="note">{escape(item.text)}</li>'
            if isinstance(item, Note)
            else f"<li>{escape(step_line(item, show))}</li>"
            for item in group
        ]
        lists.append(f'<ul class="steps">{"".join(items)}</ul>')
    return (
        f"<section><h2>{number}. {escape(section.title)}</h2><p>{escape(section.intro)}</p>"
        f"{''.join(lists)}</section>"
    )


def _diagrams(trace: Trace) -> str:
    before = Diagram.from_trace(trace, title="before the update")
    after = Diagram.from_trace(trace, after=True, title="after one update")
    caption = f"After one update (η = {trace.learning_rate:g})"
    return (
        '<section><h2>The network</h2><div class="figures">'
        "<figure><figcaption>Before the update: hover an edge for its weight and gradient"
        f"</figcaption>{svg_text(before)}</figure>"
        f"<figure><figcaption>{escape(caption)}</figcaption>{svg_text(after)}</figure>"
        '</div><p class="note">Edge width grows with |w|; blue edges are positive, red '
        "negative; dashed edges come from the bias nodes.</p></section>"
    )


def _curve(trace: Trace) -> str:
    chart = line_chart(list(trace.curve), symlogx=True, logy=True, title="error during training")
    if trace.diverged is not None:
        final = divergence_sentence(trace)
    else:
        final = (
            f"After {trace.steps:,} updates the error is "
            f"{fmt_short(trace.final_error or 0.0, trace.dtype)} (it started at "
            f"{fmt_short(trace.loss.total, trace.dtype)})."
        )
    return (
        f"<section><h2>Error during training</h2><figure>{chart}</figure>"
        f"<p>{escape(final)}</p></section>"
    )


def to_html(trace: Trace, *, max_neurons: int = MAX_NEURONS) -> str:
    """Render a trace as one self-contained HTML page."""
    title = f"Backpropagation, step by step: {trace.title}"
    body = [f"<h1>{escape(title)}</h1>"]
    body += [f'<p class="meta">{escape(line)}</p>' for line in header_lines(trace)]
    body.append(_diagrams(trace))
    if trace.curve or trace.diverged is not None:
        body.append(_curve(trace))
    if is_wide(trace, max_neurons):
        intro = summary_intro(trace, max_neurons)
        body.append(f"<section><h2>Layer by layer</h2><p>{escape(intro[0])}</p>")
        body += [f"<p><code>{escape(line)}</code></p>" for line in intro[1:]]
        body += [_table(*summary_table(trace)), "</section>"]
    else:
        body += [_section(n, s, trace) for n, s in enumerate(walk(trace), start=1)]
    return page(title, body)


def linear_html(walk_data: LinearWalk) -> str:
    """Render the one-weight example as one self-contained HTML page."""
    title = "The one-weight model: output = W·x"
    body = [
        f"<h1>{escape(title)}</h1>",
        "<p>Error tables computed by the network, E = ½·(1/3)·Σ (W·x − t)².</p>",
    ]
    header = ["input", "desired output", "model output", "absolute error", "square error"]
    for w in TABLE_WEIGHTS:
        mark = "<sup>*</sup>" if w == 2 else ""
        body.append(f"<h2>W = {escape(fmt(w))}{mark}</h2>")
        body.append(_table(header, table_rows(walk_data, w)))
        body.append(f"<p>{escape(error_sentence(walk_data, w))}</p>")
    chart = line_chart(
        list(walk_data.curve),
        xlabel="W",
        ylabel="error E",
        title=plot_title(walk_data, "E(W) with the gradient-descent steps"),
        markers=plotted_steps(walk_data)[0],
    )
    rows = [[str(s), fmt_short(w), fmt_short(e), fmt_short(g)] for s, w, e, g in walk_data.descent]
    body += [
        f"<h2>Gradient descent from W = 3 (η = {walk_data.learning_rate:g})</h2>",
        "<p>Raising W from 3 to 4 made the error worse; lowering it to 2 removed it. "
        "Gradient descent finds the direction from the slope alone: W⁺ = W − η·dE/dW.</p>",
        *(f"<p>{escape(line)}</p>" for line in first_step(walk_data)),
        f"<figure>{chart}</figure>",
        _table(["step", "W", "E", "dE/dW"], rows),
        f"<p>{escape(stop_sentence(walk_data))}</p>",
        f'<p class="note"><sup>*</sup> {escape(FOOTNOTE)}</p>',
    ]
    return page(title, body)
