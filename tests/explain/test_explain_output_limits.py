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
