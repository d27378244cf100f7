"""The HTML page is one well-formed, self-contained document; the SVG parts are valid XML."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import numpy as np
import pytest

import deltarule as dr
from deltarule.explain import explain_example, explain_linear, explain_tutorial

VOID = {"meta", "br", "img", "input", "link", "hr", "wbr", "source", "col", "area", "base"}
SVG_LEAVES = {"line", "circle", "rect", "polyline", "path"}  # written self-closed


class TagChecker(HTMLParser):
    """Checks that every opened element is closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def check_page(page: str) -> TagChecker:
    assert page.startswith("<!DOCTYPE html>")
    checker = TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    assert not re.search(r"https?://", page), "the page must not reference any URL"
    assert "<link" not in page and "src=" not in page and "@import" not in page
    return checker


def svg_parts(page: str) -> list[ET.Element]:
    parts = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    return [ET.fromstring(part) for part in parts]


@pytest.fixture(scope="module")
def tutorial_page():
    return explain_tutorial("html", steps=1000)


def test_tutorial_page_is_well_formed_and_offline(tutorial_page):
    checker = check_page(tutorial_page)
    assert {"html", "head", "style", "body", "svg", "section"} <= set(checker.tags)


def test_tutorial_page_has_diagrams_before_and_after(tutorial_page):
    svgs = svg_parts(tutorial_page)
    networks = [s for s in svgs if s.get("class") == "network"]
    assert len(networks) == 2
    before, after = networks
    assert len(before.findall("circle")) + len(before.findall(".//circle")) >= 8
    titles = [t.text for t in before.iter("title")]
    assert any("w5 = 0.4" in t and "∂E/∂w5 = 0.082167041" in t for t in titles)
    assert any("w5 = 0.35891648" in t for t in (t.text for t in after.iter("title")))


def test_edges_are_coloured_by_sign_and_sized_by_weight():
    net = dr.Network([1, 2], initializer="zeros", dtype="float64")
    net.set_parameters({"W1": [[0.5], [-2.0]]})
    page = explain_example(net, [1.0], [0.0, 0.0], format="html")
    network = [s for s in svg_parts(page) if s.get("class") == "network"][0]
    edges = {
        g.find("title").text.split(" ")[0]: g.find("line")
        for g in network.iter("g")
        if g.get("class") == "edge"
    }
    positive, negative, bias = edges["w1"], edges["w2"], edges["bias"]
    assert positive.get("stroke") == "#1f5fa8" and negative.get("stroke") == "#c0392b"
    assert float(positive.get("stroke-width")) < float(negative.get("stroke-width"))
    assert bias.get("stroke-dasharray") is not None


def test_tutorial_page_has_the_error_curve(tutorial_page):
    charts = [s for s in svg_parts(tutorial_page) if s.get("class") == "chart"]
    assert len(charts) == 1
    points = charts[0].find("polyline").get("points").split()
    assert len(points) >= 10
    assert "After 1,000 updates the error is" in tutorial_page


def test_tutorial_page_shows_the_walk(tutorial_page):
    assert "0.74136507·0.186815602·0.593269992 = 0.082167041" in tutorial_page
    assert "w1⁺ = w1 − η·∂E_total/∂w1 = 0.15 − 0.5·0.000438568 = 0.149780716" in tutorial_page


def test_page_without_steps_has_no_curve():
    page = explain_tutorial("html")
    check_page(page)
    assert not [s for s in svg_parts(page) if s.get("class") == "chart"]


def test_wide_network_page_has_summary_table():
    net = dr.Network(
        [20, 16, 4], activation="relu", output_activation="softmax", seed=0, dtype="float64"
    )
    page = explain_example(net, np.linspace(-1, 1, 20), format="html")
    check_page(page)
    assert "<table>" in page and "‖∂E/∂W‖" in page
    network = [s for s in svg_parts(page) if s.get("class") == "network"][0]
    assert "⋮" in "".join(network.itertext())


def test_linear_page():
    page = explain_linear("html")
    check_page(page)
    chart = [s for s in svg_parts(page) if s.get("class") == "chart"][0]
    assert chart.find("polyline") is not None
    assert len(chart.findall("circle")) >= 5  # the descent's steps
    assert "typos" in page and "W = 2.0000 after" in page


def test_chart_without_plottable_points_is_still_valid_svg():
    from deltarule.explain.svgplot import line_chart

    assert ET.fromstring(line_chart([(0, 0.0)], logx=True, logy=True)).tag == "svg"
    chart = ET.fromstring(line_chart([(0, 1.0), (1, 0.5), (10, 0.0), (100, 0.1)], logy=True))
    assert len(chart.find("polyline").get("points").split()) == 3
