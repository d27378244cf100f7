"""A network diagram as data: which neurons and edges go where, with what values.

:class:`Diagram` holds the weights, biases and (optionally) gradients to show;
:func:`layout` places them — layers as columns, inputs on the left, a bias
node "1" above each layer — and returns a :class:`Layout` that the SVG writer
(:mod:`.draw`) and the matplotlib one (:mod:`._plots`) both draw, so the two
pictures agree. Layers wider than ``max_neurons`` keep their first neurons, a
"⋮" and the last one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._typing import Array
from ..exceptions import InputError
from ..network import Network
from .events import Trace, neuron_labels, weight_label
from .expr import fmt

__all__ = [
    "Diagram",
    "Edge",
    "Layout",
    "check_drawing_size",
    "layout",
    "colour",
    "node_font_scale",
    "short",
]

COLUMN_GAP, ROW_GAP, RADIUS, MARGIN = 200, 70, 20, 60
NAMED_COLUMN_GAP = 300
"""Layers further apart in a small diagram, whose edges carry long labels (``w2 =
0.199561432``: a weight after an update, with the walk's nine decimals)."""
POSITIVE, NEGATIVE, NEUTRAL = "#1f5fa8", "#c0392b", "#888888"
MAX_LABELLED_EDGES = 40
MAX_LABELLED_BETWEEN = 9
"""Values are written on the edges (``show_values="auto"``) when the diagram has at most
``MAX_LABELLED_EDGES`` edges and at most ``MAX_LABELLED_BETWEEN`` weights between any two
layers (a 3x3 block; with 4x3 the labels of crossing edges ran into each other)."""
MAX_DRAWN_EDGES = 5_000
"""The most weights a diagram draws as edges (the limit of explain's weight-by-weight walk):
a 784-300-10 network drawn in full, 237,000 edges, took 45 s and made a 67 MB SVG."""
MAX_NAMED_EDGES = 16
"""Diagrams of at most this many weights write each weight's name with its value on its
edge (``w5 = 0.4``, the tutorial's figure) and the value with all its digits."""


@dataclass(frozen=True)
class Diagram:
    """The data a diagram shows: weights, biases, activations and optional gradients."""

    weights: tuple[Array, ...]
    biases: tuple[Array | None, ...]
    activations: tuple[str, ...]
    gradients: tuple[Array, ...] | None = None
    bias_gradients: tuple[Array | None, ...] | None = None
    title: str = ""
    input_names: tuple[str, ...] | None = None
    """Names written beside the input neurons (a model's feature columns), or None."""
    output_names: tuple[str, ...] | None = None
    """Names written beside the output neurons (its classes or target), or None."""

    @property
    def layer_sizes(self) -> list[int]:
        """Widths from inputs to outputs."""
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]

    @classmethod
    def from_network(
        cls,
        network: Network,
        title: str = "",
        input_names: tuple[str, ...] | None = None,
        output_names: tuple[str, ...] | None = None,
    ) -> Diagram:
        """The diagram of a network's current weights (names beside its inputs and outputs
        when given, as R neuralnet's ``plot.nn`` writes the variables)."""
        return cls(
            tuple(np.array(w) for w in network.weights),
            tuple(None if b is None else np.array(b) for b in network.biases),
            tuple(layer.activation.name for layer in network.layers),
            title=title,
            input_names=input_names,
            output_names=output_names,
        )

    def labels(self) -> list[tuple[str, ...]]:
        """Each layer's neuron names for tooltips: the given names, else i1.., h1.., o1..."""
        labels = list(neuron_labels(self.layer_sizes))
        if self.input_names is not None:
            labels[0] = self.input_names
        if self.output_names is not None:
            labels[-1] = self.output_names
        return labels

    @classmethod
    def from_trace(cls, trace: Trace, *, after: bool = False, title: str = "") -> Diagram:
        """The traced network before (with gradients) or after its update."""
        vector = trace.updated if after else trace.parameters
        n = len(trace.forward)
        names = trace.layout.names

        def tensors(vec: Array, prefix: str) -> tuple:
            return tuple(
                trace.tensor(vec, f"{prefix}{i}") if f"{prefix}{i}" in names else None
                for i in range(1, n + 1)
            )

        return cls(
            tensors(vector, "W"),
            tensors(vector, "b"),
            tuple(rec.activation for rec in trace.forward),
            None if after else tensors(trace.gradient, "W"),
            None if after else tensors(trace.gradient, "b"),
            title,
        )


def _shown(n: int, max_neurons: int) -> list[int | None]:
    """Neuron indices drawn for a layer of ``n``; None marks the "⋮" slot."""
    if n <= max_neurons:
        return list(range(n))
    return [*range(max_neurons - 2), None, n - 1]


def drawn_edges(layer_sizes: list[int] | tuple[int, ...], max_neurons: int) -> int:
    """The weights drawn as edges with at most ``max_neurons`` neurons a layer (a wider
    layer draws ``max_neurons - 1`` and a "⋮": :func:`_shown`)."""
    shown = [n if n <= max_neurons else max_neurons - 1 for n in layer_sizes]
    return sum(a * b for a, b in zip(shown, shown[1:]))


def check_drawing_size(layer_sizes: list[int] | tuple[int, ...], max_neurons: int,
                       option: str = "max_neurons") -> None:  # fmt: skip
    """Refuse a drawing of more than :data:`MAX_DRAWN_EDGES` edges before it is laid out
    (``option`` names the setting in the message: ``--max-neurons``)."""
    edges = drawn_edges(layer_sizes, max_neurons)
    if edges <= MAX_DRAWN_EDGES:
        return
    sizes = "-".join(str(n) for n in layer_sizes)
    most = 3  # (the edges grow with max_neurons: the widest drawing that fits)
    while drawn_edges(layer_sizes, most + 1) <= MAX_DRAWN_EDGES:
        most += 1
    fix = (
        f"Use {option} {most} or less (the default, 12, draws {drawn_edges(layer_sizes, 12):,})"
        if drawn_edges(layer_sizes, 3) <= MAX_DRAWN_EDGES
        else f"Not even {option} 3 (the fewest) fits: draw a network with fewer layers"
    )
    raise InputError(
        f"{option} {max_neurons} would draw {edges:,} weights of the {sizes} network as edges; "
        f"a diagram draws at most {MAX_DRAWN_EDGES:,}. {fix}."
    )


@dataclass(frozen=True)
class Edge:
    """One drawn edge: a weight, or a bias from a bias node."""

    start: tuple[float, float]
    end: tuple[float, float]
    value: float
    tooltip: str
    bias: bool
    place: float
    """Where along the edge its value is written (0 = start, 1 = end)."""
    name: str = ""
    """The weight's name written before its value (``w5``), in a small diagram; else ""."""

    def label(self) -> str:
        """The text written on the edge: ``w5 = 0.35891648`` (all the digits the walk's
        text prints) in a small diagram, else the value to five significant digits."""
        return f"{self.name} = {fmt(self.value)}" if self.name else short(self.value)


@dataclass(frozen=True)
class Layout:
    """Everything a backend (SVG, matplotlib) needs to draw a diagram."""

    width: float
    height: float
    neurons: tuple[tuple[float, float, str], ...]
    bias_nodes: tuple[tuple[float, float], ...]
    ellipses: tuple[tuple[float, float], ...]
    captions: tuple[tuple[float, float, str], ...]
    edges: tuple[Edge, ...]
    scale: float
    labelled: bool
    names: tuple[tuple[float, float, str, str], ...] = ()
    """(x, y, text, side): a name beside an input ("left") or output ("right") neuron."""

    def edge_width(self, edge: Edge) -> float:
        """Stroke width in pixels, growing with |w|."""
        return 0.6 + 3.4 * abs(edge.value) / self.scale


NAME_CHARS, CHAR_WIDTH = 24, 7.0
"""Names beside neurons are cut to this many characters; about this many pixels each."""


def _name_room(names: tuple[str, ...] | None) -> float:
    """Pixels a column of names needs beside its neurons."""
    return 0.0 if not names else 8 + CHAR_WIDTH * max(len(_cut(n)) for n in names)


def _cut(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def _positions(
    sizes: list[int], max_neurons: int, left: float = 0.0, right: float = 0.0, gap: float = 200
) -> tuple[list[dict], list, float, float]:
    """Neuron positions per layer, "⋮" positions, width and height (``left`` and ``right``:
    room for names beside the inputs and outputs; ``gap``: between layers)."""
    slots = [_shown(n, max_neurons) for n in sizes]
    tallest = max(len(s) for s in slots)
    height = 2 * MARGIN + 40 + (tallest - 1) * ROW_GAP
    width = 2 * MARGIN + (len(sizes) - 1) * gap + left + right
    positions, ellipses = [], []
    for layer, slot in enumerate(slots):
        x = left + MARGIN + layer * gap
        top = MARGIN + 40 + (tallest - len(slot)) * ROW_GAP / 2
        layer_pos = {}
        for k, index in enumerate(slot):
            if index is None:
                ellipses.append((x, top + k * ROW_GAP))
            else:
                layer_pos[index] = (x, top + k * ROW_GAP)
        positions.append(layer_pos)
    return positions, ellipses, width, height


def _tooltip(diagram: Diagram, layer: int, j: int, i: int | None) -> str:
    labels = diagram.labels()
    if i is None:
        text = f"bias of {labels[layer][j]} = {fmt(diagram.biases[layer - 1][j])}"
        grads = diagram.bias_gradients
        if grads is not None and grads[layer - 1] is not None:
            text += f"\n∂E/∂b = {fmt(grads[layer - 1][j])}"
        return text
    name = weight_label(diagram.layer_sizes, layer, j, i)
    text = f"{name} = {fmt(diagram.weights[layer - 1][j, i])} ({labels[layer - 1][i]} → "
    text += f"{labels[layer][j]})"
    if diagram.gradients is not None:
        text += f"\n∂E/∂{name} = {fmt(diagram.gradients[layer - 1][j, i])}"
    return text


def _named(diagram: Diagram) -> bool:
    """True for a diagram small enough to name each weight on its edge."""
    return sum(w.size for w in diagram.weights) <= MAX_NAMED_EDGES


def _edges(diagram: Diagram, positions: list[dict], bias_nodes: list) -> list[Edge]:
    edges = []
    named = _named(diagram)
    for layer, weight in enumerate(diagram.weights, start=1):
        source, target = positions[layer - 1], positions[layer]
        for k, (j, end) in enumerate(target.items()):
            # Stagger the value labels so those of edges meeting at a neuron do not collide
            # (further apart for the longer named labels, "w2 = 0.2", of a small diagram).
            if named:  # (not mirrored: a crossing edge's label would meet its partner's)
                place = 0.28 + 0.4 * k / max(len(target) - 1, 1) if len(target) > 1 else 0.5
            else:
                place = 0.2 + 0.6 * (k + 0.5) / len(target)
            for i, start in source.items():
                tip = _tooltip(diagram, layer, j, i)
                name = weight_label(diagram.layer_sizes, layer, j, i) if named else ""
                edges.append(Edge(start, end, float(weight[j, i]), tip, False, place, name))
            bias = diagram.biases[layer - 1]
            if bias is not None:
                # near the bias node, where only its own edges run (further along, a bias
                # edge to a lower neuron crosses the weights' edges and their labels)
                tip, start = _tooltip(diagram, layer, j, None), bias_nodes[layer - 1]
                bias_place = 0.22 + 0.2 * k / max(len(target) - 1, 1)
                edges.append(Edge(start, end, float(bias[j]), tip, True, bias_place))
    return edges


def layout(diagram: Diagram, max_neurons: int = 12, show_values: bool | str = "auto") -> Layout:
    """Place neurons, bias nodes and edges (layers as columns, inputs on the left)."""
    sizes = diagram.layer_sizes
    left, right = _name_room(diagram.input_names), _name_room(diagram.output_names)
    gap = NAMED_COLUMN_GAP if _named(diagram) else COLUMN_GAP
    positions, ellipses, width, height = _positions(sizes, max_neurons, left, right, gap)
    bias_nodes = [
        None if diagram.biases[k - 1] is None else (left + MARGIN + (k - 0.5) * gap, MARGIN - 20.0)
        for k in range(1, len(sizes))
    ]
    edges = _edges(diagram, positions, bias_nodes)
    labels = neuron_labels(sizes)
    neurons = tuple(
        (x, y, labels[layer][j]) for layer, pos in enumerate(positions) for j, (x, y) in pos.items()
    )
    captions = tuple(
        (left + MARGIN + layer * gap, height - 12, "inputs" if layer == 0 else act)
        for layer, act in enumerate(("", *diagram.activations))
    )
    names = []
    for layer, given, side, gap in (
        (0, diagram.input_names, "left", -RADIUS - 6),
        (len(sizes) - 1, diagram.output_names, "right", RADIUS + 6),
    ):
        if given is not None:
            names += [(x + gap, y, _cut(given[j]), side) for j, (x, y) in positions[layer].items()]
    return Layout(
        width=width,
        height=height,
        neurons=neurons,
        bias_nodes=tuple(node for node in bias_nodes if node is not None),
        ellipses=tuple(ellipses),
        captions=captions,
        edges=tuple(edges),
        scale=max((abs(e.value) for e in edges), default=1.0) or 1.0,
        labelled=_fits_labels(edges, positions) if show_values == "auto" else bool(show_values),
        names=tuple(names),
    )


def _fits_labels(edges: list[Edge], positions: list[dict]) -> bool:
    """True when every edge's value can be written on it without crowding."""
    between = max((len(a) * len(b) for a, b in zip(positions, positions[1:])), default=0)
    return len(edges) <= MAX_LABELLED_EDGES and between <= MAX_LABELLED_BETWEEN


NODE_CHARS = 5
"""The characters of a neuron's name that fit in its circle at the full font size (``h1.12``);
a longer name (``h1.2000``, a wide layer's last neuron) is written smaller."""


def node_font_scale(name: str) -> float:
    """The font size of a neuron's name, as a fraction of the full one, that fits it in its
    circle."""
    return min(1.0, NODE_CHARS / max(len(name), 1))


def colour(value: float) -> str:
    """Blue for positive values, red for negative ones, grey for zero."""
    return POSITIVE if value > 0 else NEGATIVE if value < 0 else NEUTRAL


def short(value: float) -> str:
    """A weight written on its edge: five significant digits."""
    return f"{value:.5g}"
