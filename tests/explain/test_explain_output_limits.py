"""What ``explain`` and ``draw`` refuse to write: outputs too large to be of use (a JSON walk
of every weight of a big network, a drawing of millions of edges), and files whose extension
names a format they do not write. The limits are lowered here to test them on small networks."""

from __future__ import annotations

import importlib
import json

import pytest

import deltarule as dr
from deltarule.cli import main
from deltarule.explain import explain_example, render, trace
from deltarule.io import save_model

RENDER = importlib.import_module(
    "deltarule.explain.render"
)  # (the package's render is the function)
SIZES = [4, 6, 5, 2]  # 24 + 30 + 10 = 64 weights
ROW, TARGET = "0.1,0.2,0.3,0.4", "0,1"


def _cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(code: int, out: str, err: str) -> None:
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "m.safetensors"
    save_model(dr.Network(SIZES, activation="tanh", seed=0, dtype="float64"), str(path))
    return path


# ------------------------------------------------------------------------- JSON walks
def test_a_json_walk_of_more_weights_than_the_limit_is_refused_up_front(
    model, tmp_path, capsys, monkeypatch
):
    import deltarule.cli.explain as command

    monkeypatch.setattr(RENDER, "MAX_JSON_WEIGHTS", 63)
    traced = []
    original = command.trace_example
    monkeypatch.setattr(command, "trace_example", lambda *a: traced.append(1) or original(*a))
    out_file = tmp_path / "walk.json"
    argv = ["explain", model, "--input", ROW, "--target", TARGET]
    code, out, err = _cli(capsys, *argv, "--out", out_file)
    _one_error_line(code, out, err)
    assert "64 weights of the 4-6-5-2 network" in err and "at most 63" in err
    assert "--format text" in err  # (how to get something: the per-layer summary)
    assert not out_file.exists() and traced == []  # (refused before the walk is computed)
    _one_error_line(*_cli(capsys, *argv, "--format", "json"))
    # the other formats are not limited by it
    code, out, _ = _cli(capsys, *argv, "--format", "text")
    assert code == 0 and "∂E_total/∂w64" in out
    assert traced == [1]  # (the spy sees a walk)


def test_a_json_walk_within_the_limit_holds_every_weight(model, capsys, monkeypatch):
    monkeypatch.setattr(RENDER, "MAX_JSON_WEIGHTS", 64)
    code, out, err = _cli(capsys, "explain", model, "--input", ROW, "--target", TARGET,
                          "--format", "json")  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert len(data["gradients"]) == 64 and len(data["tensors"]["W2"]["gradient"]) == 5


def test_the_python_api_refuses_a_json_walk_past_the_limit(monkeypatch):
    monkeypatch.setattr(RENDER, "MAX_JSON_WEIGHTS", 63)
    net = dr.Network(SIZES, activation="tanh", seed=0, dtype="float64")
    x, y = [0.1, 0.2, 0.3, 0.4], [0.0, 1.0]
    with pytest.raises(dr.InputError, match=r"64 weights .* at most 63\. Use format=\"text\""):
        explain_example(net, x, y, format="json")
    with pytest.raises(dr.InputError, match="at most 63"):
        render(trace(net, [x], [y]), "json")
    assert "∂E_total/∂w64" in explain_example(net, x, y, format="text")


# ------------------------------------------------------------------------- drawings
DIAGRAM = importlib.import_module("deltarule.explain.diagram")


def test_draw_refuses_more_edges_than_the_limit_and_names_the_max_neurons_that_fits(
    model, tmp_path, capsys, monkeypatch
):
    # 4-6-5-2 drawn in full: 64 edges; with --max-neurons 5: 4·4 + 4·5 + 5·2 = 46, with 4: 33
    monkeypatch.setattr(DIAGRAM, "MAX_DRAWN_EDGES", 50)
    picture = tmp_path / "net.svg"
    code, out, err = _cli(capsys, "draw", model, "--max-neurons", "6", "--out", picture)
    _one_error_line(code, out, err)
    assert "--max-neurons 6 would draw 64 weights of the 4-6-5-2 network" in err
    assert "at most 50" in err and "Use --max-neurons 5 or less" in err
    assert not picture.exists()
    code, _, err = _cli(capsys, "draw", model, "--max-neurons", "5", "--out", picture)
    assert code == 0, err
    assert picture.read_text().count('<g class="edge">') == 46 + 4 + 5 + 2  # (+ the biases)


def test_draw_refuses_a_network_just_past_the_real_limit(tmp_path, capsys):
    # (a 784-300-10 model with --max-neurons 1000 took 45 s and wrote 67 MB)
    path = tmp_path / "w.safetensors"
    save_model(dr.Network([72, 70, 2], seed=0), str(path))  # 72·70 + 70·2 = 5,180 weights
    code, out, err = _cli(capsys, "draw", path, "--max-neurons", "80", "--out", tmp_path / "w.svg")
    _one_error_line(code, out, err)
    assert "would draw 5,180 weights of the 72-70-2 network" in err and "at most 5,000" in err
    assert "Use --max-neurons 70 or less" in err  # (69·70 + 70·2 = 4,970 edges)


def test_draw_network_refuses_a_drawing_past_the_limit(monkeypatch):
    from deltarule.explain import Diagram, diagram_svg, draw_network, save_diagram

    monkeypatch.setattr(DIAGRAM, "MAX_DRAWN_EDGES", 50)
    net = dr.Network(SIZES, seed=0)
    with pytest.raises(dr.InputError, match="max_neurons 12 would draw 64 weights"):
        draw_network(net)
    diagram = Diagram.from_network(net)
    for draw in (diagram_svg, lambda d, **k: save_diagram(d, "never.svg", **k)):
        with pytest.raises(dr.InputError, match="Use max_neurons 5 or less"):
            draw(diagram, max_neurons=6)
    monkeypatch.setattr(DIAGRAM, "MAX_DRAWN_EDGES", 11)  # 3 a layer: 2·2 + 2·2 + 2·2 = 12
    with pytest.raises(dr.InputError, match=r"draw 12 weights .* Not even max_neurons 3"):
        draw_network(net, max_neurons=3)


def test_explains_html_page_still_draws_its_diagrams_of_a_network_past_the_limit(monkeypatch):
    monkeypatch.setattr(DIAGRAM, "MAX_DRAWN_EDGES", 5)
    net = dr.Network(SIZES, activation="tanh", seed=0, dtype="float64")
    page = explain_example(net, [0.1, 0.2, 0.3, 0.4], [0.0, 1.0], format="html")
    assert page.count("<svg") >= 2 and "The network" in page


# ------------------------------------------------------------- --out named as a picture
@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf", ".PNG"])
def test_explain_refuses_an_out_named_as_a_picture_and_points_to_plot(
    tmp_path, capsys, monkeypatch, suffix
):
    monkeypatch.chdir(tmp_path)  # (the text walk was written into walk.png, exit 0)
    code, out, err = _cli(capsys, "explain", "--out", f"walk{suffix}")
    _one_error_line(code, out, err)
    assert f"not a{'n' if suffix == '.svg' else ''} {suffix[1:].upper()} picture" in err
    assert "--plot walk.png or walk.svg" in err and "--out walk.html" in err
    assert list(tmp_path.iterdir()) == []


def test_explain_and_inspect_refuse_an_out_named_as_a_model_file_or_image(model, tmp_path, capsys):
    walk = tmp_path / "walk.safetensors"
    code, out, err = _cli(capsys, "explain", "--out", walk)
    _one_error_line(code, out, err)
    assert ".safetensors means a model file" in err and "walk.html" in err
    report = tmp_path / "report.png"
    code, out, err = _cli(capsys, "inspect", model, "--out", report)
    _one_error_line(code, out, err)
    assert ".png means a PNG image" in err
    assert not walk.exists() and not report.exists()
