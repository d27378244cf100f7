"""Network diagrams with their weights, in the manner of R neuralnet's ``plot.nn``.

Neurons are labelled circles in columns (inputs ``i*``, hidden ``h*``, outputs
``o*``); every weight is an edge labelled with its value, its stroke width
growing with :math:`|w|` and its colour giving the sign (blue positive, red
negative); biases come from a node "1" above each layer, on dashed edges.
Hovering an edge shows its name, value and, when known, its gradient.
SVG is written by hand; PNG goes through matplotlib (imported only then).
Layers wider than ``max_neurons`` show their first neurons, a "⋮" and the last.

Examples
--------
>>> from deltarule.textbook import tutorial_network
>>> net, _, _ = tutorial_network()
>>> svg = draw_network(net)
>>> svg.count("<circle") >= 6 and "w5 = 0.4" in svg
True
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from .._validation import check_int
from ..exceptions import InputError
from ..network import Network, require_network
from ._output import save_atomic, write_atomic
from .diagram import (
    MAX_LABELLED_EDGES,
    POSITIVE,
    RADIUS,
    Diagram,
    Edge,
    Layout,
    check_drawing_size,
    colour,
    layout,
    node_font_scale,
)
from .svgplot import svg_root

__all__ = ["Diagram", "draw_network", "diagram_svg", "save_diagram"]


def _edge_svg(edge: Edge, plan: Layout) -> str:
    (x1, y1), (x2, y2) = edge.start, edge.end
    dash = ' stroke-dasharray="5 3"' if edge.bias else ""
    coords = f'x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"'
    paint = f'stroke="{colour(edge.value)}" stroke-width="{plan.edge_width(edge):.2f}"'
    parts = [
        f'<g class="edge"><title>{escape(edge.tooltip)}</title>',
        f"<line {coords} {paint}{dash}/>",
        f'<line {coords} stroke="transparent" stroke-width="10" pointer-events="stroke"/>',
    ]
    return "".join(parts) + "</g>"


def _label_svg(edge: Edge) -> str:
    """An edge's value, drawn once every edge is (a later edge crossed the labels written
    before it: the "After one update" diagram's long values were struck through)."""
    (x1, y1), (x2, y2) = edge.start, edge.end
    x, y = x1 + (x2 - x1) * edge.place, y1 + (y2 - y1) * edge.place
    text = edge.label()
    width = LABEL_CHAR_WIDTH * len(text) + 4  # (a halo hid no edge crossing its spaces)
    return (
        f'<rect x="{x - width / 2:.1f}" y="{y - 13:.1f}" width="{width:.1f}" height="12" '
        'fill="white" fill-opacity="0.85" pointer-events="none"/>'
        f'<text x="{x:.1f}" y="{y - 3:.1f}" text-anchor="middle" fill="{colour(edge.value)}" '
        f'stroke="white" stroke-width="3" paint-order="stroke" pointer-events="none">'
        f"{escape(text)}</text>"
    )


LABEL_CHAR_WIDTH = 6.0
"""About the width of a character of an edge's label (11 px sans-serif), for the box behind it."""


def _node_font(name: str) -> str:
    """A smaller font-size for a name too long for its circle ("" for one that fits)."""
    scale = node_font_scale(name)
    return "" if scale == 1 else f' font-size="{11 * scale:.1f}"'


def _nodes_svg(plan: Layout) -> list[str]:
    parts = [
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{RADIUS * 0.7:.1f}" fill="#eef3fb" '
        f'stroke="{POSITIVE}"/><text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle">1</text>'
        for x, y in plan.bias_nodes
    ]
    parts += [
        f'<g class="neuron"><title>{escape(name)}</title>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{RADIUS}" fill="#fdfdfd" stroke="#333" '
        f'stroke-width="1.5"/><text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle" '
        f'font-weight="bold"{_node_font(name)}>{escape(name)}</text></g>'
        for x, y, name in plan.neurons
    ]
    parts += [
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" fill="#555">{escape(text)}</text>'
        for x, y, text in plan.captions
    ]
    parts += [
        f'<text class="name" x="{x:.1f}" y="{y + 4:.1f}" '
        f'text-anchor="{"end" if side == "left" else "start"}">{escape(text)}</text>'
        for x, y, text, side in plan.names
    ]
    parts += [
        f'<text x="{x:.1f}" y="{y + 6:.1f}" text-anchor="middle" font-size="20">⋮</text>'
        for x, y in plan.ellipses
    ]
    return parts


def _check_options(max_neurons: object, show_values: object, layer_sizes: list[int]) -> int:
    """Check the drawing options (not too many edges for ``layer_sizes``: at most
    :data:`~.diagram.MAX_DRAWN_EDGES`); return ``max_neurons`` as an int."""
    max_neurons = check_int(max_neurons, "max_neurons", minimum=3)  # (first, ⋮, last)
    if not (show_values is True or show_values is False or show_values == "auto"):
        raise InputError(
            f"show_values must be True, False or 'auto' (values on the edges when there are "
            f"at most {MAX_LABELLED_EDGES}); received {show_values!r}."
        )
    check_drawing_size(layer_sizes, max_neurons)
    return max_neurons


def _check_diagram(diagram: object, where: str) -> None:
    if not isinstance(diagram, Diagram):
        raise InputError(
            f"{where} needs a Diagram (Diagram.from_network(network) or Diagram.from_trace"
            f"(trace)); received {type(diagram).__name__} {diagram!r:.60}. To draw a network, "
            "use draw_network(network)."
        )


def diagram_svg(
    diagram: Diagram,
    *,
    max_neurons: int = 12,
    show_values: bool | str = "auto",
    standalone: bool = False,
) -> str:
    """Return the diagram as one ``<svg>`` element (``standalone`` for a ``.svg`` file).

    ``show_values="auto"`` writes weights on the edges when there are at most 40 of them;
    ``max_neurons`` (at least 3) is the widest layer drawn in full.
    """
    _check_diagram(diagram, "diagram_svg")
    max_neurons = _check_options(max_neurons, show_values, diagram.layer_sizes)
    return svg_text(diagram, max_neurons, show_values, standalone)


def svg_text(diagram: Diagram, max_neurons: int = 12, show_values: bool | str = "auto",
             standalone: bool = False) -> str:  # fmt: skip
    """:func:`diagram_svg` without its checks, for explain's HTML page: its diagrams draw
    at most 12 neurons a layer, however many edges a deep network then has."""
    plan = layout(diagram, max_neurons, show_values)
    parts = [svg_root(plan.width, plan.height, "network", standalone=standalone)]
    parts.append(f"<title>{escape(diagram.title or 'network diagram')}</title>")
    parts += [_edge_svg(edge, plan) for edge in plan.edges]
    if plan.labelled:  # (above every edge)
        parts += ['<g class="values">', *(_label_svg(edge) for edge in plan.edges), "</g>"]
    parts += _nodes_svg(plan)
    parts.append("</svg>")
    return "\n".join(parts)


def save_diagram(
    diagram: Diagram,
    path: str | os.PathLike[str],
    *,
    max_neurons: int = 12,
    show_values: bool | str = "auto",
) -> Path:
    """Write the diagram to ``path``: ``.svg`` (hand-written) or ``.png`` (matplotlib)."""
    _check_diagram(diagram, "save_diagram")
    max_neurons = _check_options(max_neurons, show_values, diagram.layer_sizes)
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix == ".svg":
        svg = diagram_svg(
            diagram, max_neurons=max_neurons, show_values=show_values, standalone=True
        )
        return write_atomic(target, '<?xml version="1.0" encoding="UTF-8"?>\n' + svg + "\n")
    if suffix == ".png":
        from ._plots import diagram_figure

        fig = diagram_figure(layout(diagram, max_neurons, show_values))
        from ..plots import write_figure

        return save_atomic(target, lambda handle: write_figure(fig, handle, "png"))
    raise InputError(
        f"cannot draw to {str(path)!r}: the file name must end in .svg or .png "
        f"(received {suffix or 'no extension'!r})."
    )


def _names(given: Any, count: int, what: str, neurons: str) -> tuple[str, ...] | None:
    """``given`` as a tuple of ``count`` strings (None stays None), or an InputError."""
    if given is None:
        return None
    if isinstance(given, str) or not all(isinstance(n, str) for n in given):
        raise InputError(
            f"{what} must be a sequence of strings, one per neuron; received {given!r:.80}."
        )
    names = tuple(given)
    if len(names) != count:
        raise InputError(
            f"{what} has {len(names)} names; the network has {count} {neurons}: give one each."
        )
    return names


def draw_network(
    network: Network,
    path: str | os.PathLike[str] | None = None,
    *,
    max_neurons: int = 12,
    show_values: bool | str = "auto",
    title: str = "",
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
) -> str:
    """Draw ``network`` with its weights; write it to ``path`` (.svg or .png) when given.

    Parameters
    ----------
    network : Network
    path : str or path-like, optional
        Where to write the picture; the extension picks the format.
    max_neurons : int, default 12
        Widest layer drawn in full (at least 3: a wider layer shows its first neurons,
        a "⋮" and the last one); at most 5,000 weights are drawn.
    show_values : bool or "auto"
        Write each weight on its edge ("auto": when there are at most 40 edges).
    title : str
        Tooltip title of the picture.
    input_names, output_names : sequence of str, optional
        Names written beside the input and output neurons (one per neuron: a model's
        feature columns, its classes), as R neuralnet's ``plot.nn`` writes the variables;
        the tooltips use them too. Names longer than 24 characters are cut.

    Returns
    -------
    str
        The standalone SVG text (also when a PNG is written).

    Raises
    ------
    InputError
        If an argument is not usable (not a Network, ``max_neurons`` < 3, ...), or the
        drawing would have more than :data:`~.diagram.MAX_DRAWN_EDGES` edges (5,000).
    """
    require_network(network, "draw_network")
    max_neurons = _check_options(max_neurons, show_values, network.layer_sizes)
    if not isinstance(title, str):
        raise InputError(f"title must be a string; received {type(title).__name__} {title!r}.")
    names = (
        _names(input_names, network.n_inputs, "input_names", "inputs"),
        _names(output_names, network.n_outputs, "output_names", "outputs"),
    )
    diagram = Diagram.from_network(network, title=title, input_names=names[0],
                                   output_names=names[1])  # fmt: skip
    if path is not None:
        save_diagram(diagram, path, max_neurons=max_neurons, show_values=show_values)
    return diagram_svg(diagram, max_neurons=max_neurons, show_values=show_values, standalone=True)
