"""Network diagrams: SVG written by hand, PNG through matplotlib."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import deltarule as dr
from deltarule.explain import draw_network
from deltarule.textbook import tutorial_network

SVG = "{http://www.w3.org/2000/svg}"


def test_svg_of_the_tutorial_network(tmp_path):
    net, _, _ = tutorial_network()
    path = tmp_path / "net.svg"
    text = draw_network(net, path, title="the tutorial network")
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    labels = [t.text for t in root.iter(f"{SVG}text")]
    for name in ("i1", "i2", "h1", "h2", "o1", "o2", "w6 = 0.45", "0.35"):
        assert name in labels  # (a small network's weights named on their edges, as w1..w8)
    titles = [t.text for t in root.iter(f"{SVG}title")]
    assert "w6 = 0.45 (h2 → o1)" in titles
    assert len(root.findall(f".//{SVG}circle")) == 6 + 2  # neurons + bias nodes
    assert path.read_text(encoding="utf-8").endswith(text + "\n")


def test_png(tmp_path):
    pytest.importorskip("matplotlib")
    net, _, _ = tutorial_network()
    path = tmp_path / "net.png"
    draw_network(net, path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["net.png"]  # no temporary file left


def test_png_without_matplotlib_names_the_extra_and_svg_still_works(tmp_path, monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.patches"):
        monkeypatch.setitem(sys.modules, name, None)  # (its import raises ImportError)
    net, _, _ = tutorial_network()
    with pytest.raises(dr.InputError, match=r"pip install 'deltarule\[cli\]'.*\.svg"):
        draw_network(net, tmp_path / "net.png")
    assert list(tmp_path.iterdir()) == []  # nothing written
    draw_network(net, tmp_path / "net.svg")
    assert (tmp_path / "net.svg").is_file()


def test_wide_layers_are_elided():
    net = dr.Network([30, 20, 3], seed=0)
    root = ET.fromstring(draw_network(net, max_neurons=6))
    circles = root.findall(f".//{SVG}g[@class='neuron']")
    assert len(circles) == 5 + 5 + 3
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts.count("⋮") == 2 and "i30" in texts and "h20" in texts
    assert not any(t and t[0].isdigit() for t in texts if t != "1")  # too many edges: no values


def test_values_can_be_forced_on_or_off():
    net, _, _ = tutorial_network()
    off = ET.fromstring(draw_network(net, show_values=False))
    assert "0.45" not in [t.text for t in off.iter(f"{SVG}text")]
    wide = dr.Network([10, 5, 1], seed=0, dtype="float64")
    on = ET.fromstring(draw_network(wide, show_values=True))
    values = [t.text for t in on.iter(f"{SVG}text")]
    assert f"{wide.weights[0][0, 0]:.5g}" in values


def test_network_without_biases():
    net = dr.Network([2, 1], use_bias=False, initializer="zeros", dtype="float64")
    net.set_parameters({"W1": np.array([[1.5, -0.5]])})
    root = ET.fromstring(draw_network(net))
    assert len(root.findall(f".//{SVG}circle")) == 3


def test_unknown_extension(tmp_path):
    net, _, _ = tutorial_network()
    with pytest.raises(dr.InputError, match=".svg or .png"):
        draw_network(net, tmp_path / "net.gif")


# ------------------------------------------------------------ names beside the neurons
def test_names_are_written_beside_the_inputs_and_outputs(tmp_path):
    # (inputs were i1..in only, where R neuralnet's plot.nn writes the variables)
    net = dr.Network([3, 4, 2], output_activation="softmax", seed=0)
    svg = draw_network(net, input_names=["age", "Sex=female", "x" * 30],
                       output_names=["no", "yes"])  # fmt: skip
    root = ET.fromstring(svg)
    names = [t for t in root.iter(f"{SVG}text") if t.get("class") == "name"]
    assert [t.text for t in names] == ["age", "Sex=female", "x" * 23 + "…", "no", "yes"]
    assert [t.get("text-anchor") for t in names] == ["end"] * 3 + ["start"] * 2
    assert "(age → h1)" in svg and "(h4 → yes)" in svg  # the tooltips name them too
    draw_network(net, tmp_path / "n.png", input_names=["a", "b", "c"])  # (matplotlib too)
    assert (tmp_path / "n.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "names, fragment",
    [(["a", "b"], "input_names has 2 names; the network has 3 inputs"),
     ("abc", "must be a sequence of strings"), ([1, 2, 3], "must be a sequence of strings")],
)  # fmt: skip
def test_names_that_do_not_fit_are_refused(names, fragment):
    with pytest.raises(dr.InputError, match=fragment):
        draw_network(dr.Network([3, 2], seed=0), input_names=names)


def test_a_small_diagram_names_its_weights_with_the_walks_digits(tmp_path):
    # (QA, a teacher: a printed PNG showed bare numbers, and after an update 0.2995 where
    # the text prints w4+ = 0.299502287; the b1->h2 label sat on the i2->h1 edge)
    from deltarule.explain.diagram import Diagram, layout

    net, X, y = tutorial_network()
    net.fit(X, y, epochs=1, batch_size=1, optimizer="sgd", learning_rate=0.5, verbose=0)
    plan = layout(Diagram.from_network(net))
    labels = {edge.label() for edge in plan.edges if not edge.bias}
    w4 = float(net.weights[0][1, 1])
    assert f"w4 = {w4:.9f}".rstrip("0") in labels  # the walk's 0.299502287, not 0.2995
    biases = [edge for edge in plan.edges if edge.bias]
    assert all(edge.place <= 0.45 for edge in biases)  # near their bias node
    big = layout(Diagram.from_network(dr.Network([10, 8, 3], seed=0)))
    assert not any(edge.name for edge in big.edges)  # (names only where they fit)


def _label_boxes(plan):
    """Each value label's box (x0, y0, x1, y1) as the SVG writer places it: centred at its
    place along the edge, 3 px above it, ~7 px a character, ~12 px tall."""
    boxes = []
    for edge in plan.edges:
        (x1, y1), (x2, y2) = edge.start, edge.end
        x, y = x1 + (x2 - x1) * edge.place, y1 + (y2 - y1) * edge.place - 3
        half = 3.5 * len(edge.label())
        boxes.append((x - half, y - 10, x + half, y + 2))
    return boxes


def test_the_tutorial_diagram_after_an_update_has_no_label_on_another_or_on_a_neuron():
    # (QA, a teacher: after one update the nine-decimal labels ran into each other and
    # under the neurons' circles; the layers of a small diagram now stand further apart)
    from deltarule.explain.diagram import RADIUS, Diagram, layout

    net, X, y = tutorial_network()
    net.fit(X, y, epochs=1, batch_size=1, optimizer="sgd", learning_rate=0.5, verbose=0)
    plan = layout(Diagram.from_network(net))
    assert plan.labelled
    boxes = _label_boxes(plan)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
        for x, y, _ in plan.neurons:  # the box keeps clear of every circle
            nx, ny = min(max(x, a[0]), a[2]), min(max(y, a[1]), a[3])
            assert (nx - x) ** 2 + (ny - y) ** 2 > RADIUS**2, (a, x, y)


def test_values_are_written_on_the_edges_only_where_they_fit():
    # (QA, a teacher: a 3-4-3-2 network's 30 values piled up between the layers)
    from deltarule.explain.diagram import Diagram, layout

    def labelled(sizes):
        return layout(Diagram.from_network(dr.Network(sizes, seed=0))).labelled

    assert labelled([2, 2, 2]) and labelled([3, 3, 1])
    assert not labelled([3, 4, 3, 2]) and not labelled([10, 8, 3])
    forced = layout(Diagram.from_network(dr.Network([3, 4, 3, 2], seed=0)), show_values=True)
    assert forced.labelled


def test_a_long_neuron_name_is_written_small_enough_for_its_circle():
    # (QA: "h1.2000" and "i784" ran out of their circles in a 784-2000-2000-10 drawing)
    import re

    from deltarule.explain import draw_network

    svg = draw_network(dr.Network([1000, 1200, 3, 2], seed=0))
    sizes = {
        name: float(size or 11)
        for size, name in re.findall(
            r'font-weight="bold"(?: font-size="([\d.]+)")?>([^<]+)</text></g>', svg
        )
    }
    assert {"i1", "i1000", "h1.1", "h1.1200", "o2"} <= set(sizes)
    assert sizes["i1"] == sizes["i1000"] == sizes["h1.1"] == 11  # (the full size: they fit)
    assert sizes["h1.1200"] < 11
    # about 0.6 em a bold character: each name within the circle's 40 px
    assert all(0.6 * size * len(name) <= 2 * 20 for name, size in sizes.items()), sizes
