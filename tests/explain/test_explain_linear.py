"""The tutorial's one-weight example, computed through the real network."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

import deltarule as dr
from deltarule.explain import explain_linear, linear_walk, plot_linear
from deltarule.textbook import linear_data, linear_network

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def walk():
    return linear_walk()


def column(walk, w, key):
    return [row[key] for row in walk.tables[w]]


def test_tables_match_the_tutorial(walk):
    assert column(walk, 3.0, "output") == [0, 3, 6]
    assert column(walk, 3.0, "absolute_error") == [0, 1, 2]
    assert column(walk, 3.0, "square_error") == [0, 1, 4]
    assert column(walk, 4.0, "output") == [0, 4, 8]
    assert column(walk, 4.0, "square_error") == [0, 4, 16]


def test_w2_table_is_correct_where_the_tutorial_has_typos(walk):
    # The tutorial prints 3 (model output, W = 2) and 2, 4 (errors, W = 3) for input 1.
    assert column(walk, 2.0, "output") == [0, 2, 4]
    assert column(walk, 2.0, "square_error") == [0, 0, 0]
    assert walk.errors[2.0] == 0
    assert "typos" in explain_linear("text")


def test_descent_walks_down_to_the_global_minimum(walk):
    first, last = walk.descent[0], walk.final
    assert first[:3] == (0, 3.0, pytest.approx(5 / 6))
    assert walk.converged
    assert last[1] == pytest.approx(2.0, abs=1e-5)
    assert last[2] < 1e-10
    errors = [d[2] for d in walk.descent]
    assert errors == sorted(errors, reverse=True)


def test_descent_uses_the_networks_gradient(walk):
    X, y = linear_data()
    _, gradient = linear_network(3.0).loss_and_gradient(X, y)
    assert walk.descent[0][3] == gradient[0]
    step, w, _, grad = walk.descent[1]
    assert w == 3.0 - 0.5 * walk.descent[0][3]


def test_text_matches_golden():
    assert explain_linear("text") == (GOLDEN / "linear.txt").read_text(encoding="utf-8")


def test_text_says_where_it_stops():
    text = explain_linear("text")
    assert "W = 2.0000 after 8 steps, error 3e-13" in text


def test_small_learning_rate_takes_more_steps():
    walk = linear_walk(0.1)
    assert walk.converged and len(walk.descent) > 30
    text = explain_linear("text", learning_rate=0.1)
    assert "  ..." in text and f"{len(walk.descent) - 1:>7}  2" in text


def test_divergent_learning_rate_is_reported():
    walk = linear_walk(1.5, max_steps=20)  # |1 - 5/3 * 1.5| > 1: every step overshoots
    assert not walk.converged
    text = " ".join(explain_linear("text", learning_rate=1.5).split())
    assert "the error grew instead of falling: the learning rate is too large" in text


@pytest.mark.parametrize(
    "rate,advice",
    [(1e-6, "creeping towards the minimum (try a larger learning rate)"),  # (said "smaller")
     (1.1999, "jumping across the minimum (try a smaller learning rate)")],  # |1 - 5/3 η| ~ 1
)  # fmt: skip
def test_a_walk_stopped_by_the_step_limit_says_which_way_to_change_the_rate(rate, advice):
    walk = linear_walk(rate)
    assert not walk.converged and walk.final[0] == 1000
    assert advice in " ".join(explain_linear("text", learning_rate=rate).split())


def test_markdown_and_json(walk):
    md = explain_linear("markdown")
    assert "| input | desired output |" in md and "[^typos]:" in md
    data = json.loads(explain_linear("json"))
    assert data["final_W"] == pytest.approx(2.0, abs=1e-5)
    assert data["tables"]["3"][1]["output"] == 3
    assert data["total_error"] == pytest.approx(5 / 6)


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_plot(tmp_path, walk, suffix):
    pytest.importorskip("matplotlib")
    path = plot_linear(walk, tmp_path / f"error{suffix}")
    head = path.read_bytes()[:64]
    assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in path.read_bytes()


def test_plot_rejects_other_formats(tmp_path, walk):
    with pytest.raises(dr.InputError, match=".png or .svg"):
        plot_linear(walk, tmp_path / "error.gif")


@pytest.mark.parametrize("format", ["text", "markdown", "html", "json"])
def test_every_format_works_out_the_first_step(format):
    # (QA, a teacher: the slope was a bare number, 1.666666667; the HTML page also left
    # out how E comes from the square errors and the update rule.) By hand, on the data
    # x = 0, 1, 2 and t = 0, 2, 4 at W = 3: dE/dW = ((3-0)*0 + (3-2)*1 + (6-4)*2) / 3 = 5/3
    # and W+ = 3 - 0.5 * 5/3 = 13/6.
    out = explain_linear(format)
    if format == "json":
        out = " ".join(json.loads(out)["first_step"])
    if format == "html":
        out = html.unescape(out)
    slope, after = 5 / 3, 3 - 0.5 * 5 / 3
    assert "(3·0 − 0)·0 + (3·1 − 2)·1 + (3·2 − 4)·2) / 3 = 5 / 3" in out
    assert f"= {slope:.9f}" in out and f"= {after:.9f}" in out
    if format in ("text", "html"):
        assert "sum of square errors = 5; the network's E = ½·mean = 0.833333333" in out
        assert "W⁺ = W − η·dE/dW" in out
