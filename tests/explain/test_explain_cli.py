"""``deltarule explain`` and ``deltarule draw`` on the command line."""

from __future__ import annotations

import json
import subprocess
import sys
import types
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import deltarule as dr
from deltarule.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_prints_the_tutorial_walk(capsys):
    code, out, err = run(capsys, "explain")
    assert code == 0 and err == ""
    assert "E_total = E_o1 + E_o2 = 0.274811083 + 0.023560026 = 0.298371109" in out
    assert "w5⁺ = w5 − η·∂E_total/∂w5 = 0.4 − 0.5·0.0821670406 = 0.35891648" in out


def test_explain_json(capsys):
    code, out, _ = run(capsys, "explain", "--format", "json", "--steps", "10")
    data = json.loads(out)
    assert code == 0
    assert {"total_error", "gradients", "updated_weights", "final_error"} <= set(data)


def test_explain_learning_rate(capsys):
    _, out, _ = run(capsys, "explain", "--format", "json", "--learning-rate", "1")
    data = json.loads(out)
    assert data["updated_weights"]["w5"] == pytest.approx(0.4 - 0.082167041, abs=1e-9)


def test_unknown_format_exits_2_with_one_error_line():
    result = subprocess.run(
        [sys.executable, "-m", "deltarule", "explain", "--format", "nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "nope" in lines[0]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--steps", "-1"], "--steps -1 is out of range; expected 0 to 1,000,000"),
        (["--steps", str(10**20)], "out of range; expected 0 to 1,000,000"),  # (a leaked
        # numpy message; 2**63 - 1 ran forever)
        (["--example", "linear", "--steps", "5"], "--steps and --max-neurons go with"),
        (["--learning-rate", "-0.5"], "--learning-rate -0.5 is out of range; expected a positive"),
        (["--learning-rate", "nan"], "--learning-rate nan is out of range"),
        (["--plot", "curve.png"], "--steps"),
        (["--input", "1,2"], "--model"),
        (["--model", "m.safetensors", "--example", "linear"], "not both"),
        (["--model", "m.safetensors"], "no such file: 'm.safetensors'"),  # (said: --input)
        (["--max-neurons", "0"], "--max-neurons 0 is out of range; expected a positive integer"),
    ],
)
def test_bad_options_exit_2(capsys, argv, message):
    code, out, err = run(capsys, "explain", *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_a_missing_or_unreadable_model_is_reported_before_the_options_with_it(
    tmp_path, capsys, monkeypatch
):
    # (--input, --plot and the ranges were complained about first, and fixing them only
    # led to the missing file)
    from deltarule.io import save_model

    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "bad.safetensors").write_bytes(b"abc")
    save_model(model_network(), tmp_path / "good.safetensors")
    for argv, message in [
        (["--model", "missing.st"], "no such file: 'missing.st'"),
        (["--model", "missing.st", "--raw"], "no such file: 'missing.st'"),
        (["--model", "missing.st", "--plot", "c.png"], "no such file: 'missing.st'"),
        (["--model", "missing.st", "--input", "1", "--steps", "-1"], "no such file"),
        (["--model", "folder", "--input", "1"], "'folder' is a directory"),
        (["--model", "bad.safetensors"], "bad.safetensors is not a valid deltarule model"),
        (["--model", "good.safetensors"], "--model needs --input ROW"),  # then the options
        (["--model", "good.safetensors", "--input", "1,2,3", "--plot", "c.png"], "--steps N"),
        (
            ["--model", "missing.st", "--example", "linear"],
            "not both",
        ),  # (two subjects: asked first)
    ]:
        code, out, err = run(capsys, "explain", *argv)
        assert code == 2 and out == "" and err.count("\n") == 1, (argv, err)
        assert err.startswith("error: ") and message in err, (argv, err)


def test_a_bad_plot_name_is_refused_before_the_walk_runs(capsys, monkeypatch):
    import deltarule.explain

    def walk(*args, **kwargs):
        raise AssertionError("the walk ran before --plot was checked")

    monkeypatch.setattr(deltarule.explain, "tutorial_trace", walk)
    code, out, err = run(capsys, "explain", "--steps", "1000000", "--plot", "curve.jpg")
    assert code == 2 and out == ""
    assert err == "error: --plot file must end in .png or .svg; received 'curve.jpg'. Use " \
        "e.g. --plot curve.png.\n"  # fmt: skip


def test_out_writes_a_file_atomically(tmp_path, capsys):
    path = tmp_path / "walk.html"
    code, out, err = run(
        capsys, "explain", "--format", "html", "--steps", "100", "--out", str(path)
    )
    assert code == 0 and out == "" and "wrote" in err
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["walk.html"]


def test_example_linear_with_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "error.svg"
    code, out, _ = run(capsys, "explain", "--example", "linear", "--plot", str(plot))
    assert code == 0 and "W = 2.0000 after 8 steps" in out
    assert b"<svg" in plot.read_bytes()


def test_tutorial_error_curve_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "curve.png"
    code, _, _ = run(capsys, "explain", "--steps", "200", "--plot", str(plot))
    assert code == 0 and plot.read_bytes()[:4] == b"\x89PNG"


def model_network() -> dr.Network:
    return dr.Network(
        [3, 4, 2], activation="tanh", output_activation="softmax", seed=3, dtype="float64"
    )


def test_model_path_through_the_loader(monkeypatch, capsys):
    # Stands in for deltarule.io so that the CLI's wiring is tested even without it.
    net = model_network()
    fake = types.ModuleType("deltarule.io")
    fake.load_model = lambda path: types.SimpleNamespace(network=net)
    monkeypatch.setitem(sys.modules, "deltarule.io", fake)
    code, out, _ = run(capsys, "explain", "--model", "m.safetensors", "--input", "0.1,0.7,-0.3")
    assert code == 0 and "predicted class" in out and "m.safetensors" in out
    code, out, _ = run(
        capsys,
        "explain",
        "--model",
        "m.safetensors",
        "--input",
        "0.1,0.7,-0.3",
        "--target",
        "0,1",
        "--format",
        "json",
    )
    assert json.loads(out)["target"] == [[0.0, 1.0]]
    code, _, err = run(capsys, "explain", "--model", "m", "--input", "a,b")
    assert code == 2 and "comma-separated numbers" in err
    code, _, err = run(capsys, "explain", "--model", "m", "--input", "1,2")
    assert code == 2 and "--input has 2 value(s) (1,2); the model's network has 3 inputs" in err


def test_model_file_round_trip(tmp_path, capsys):
    try:
        import deltarule.io as model_io
    except ImportError:
        pytest.skip("deltarule.io (model files) is not available yet")
    save = getattr(model_io, "save_model", None)
    if save is None:
        pytest.skip("deltarule.io has no save_model")
    net, path = model_network(), tmp_path / "model.safetensors"
    save(net, path)
    code, out, _ = run(
        capsys,
        "explain",
        "--model",
        str(path),
        "--input",
        "0.1,0.7,-0.3",
        "--target",
        "0,1",
        "--format",
        "json",
    )
    assert code == 0
    expected = net.loss_and_gradient([[0.1, 0.7, -0.3]], [[0.0, 1.0]])[0]
    assert json.loads(out)["total_error"] == pytest.approx(expected, rel=1e-6)
    for option, row, message in [  # (said "X is 1-D ... pass a 2-D array of shape (...)")
        ("--input", "0.1,0.7", "--input has 2 value(s) (0.1,0.7); the model's network has 3 "
         "inputs, so give 3 comma-separated numbers"),
        ("--target", "0,1,0", "--target has 3 value(s) (0,1,0); the model's network has 2 "
         "outputs"),
    ]:  # fmt: skip
        argv = {"--input": "0.1,0.7,-0.3", "--target": "0,1", option: row}
        code, out, err = run(capsys, "explain", "--model", str(path), *sum(argv.items(), ()))
        assert code == 2 and out == "" and err.count("\n") == 1 and message in err, err


def test_a_model_saved_with_dropout_is_explained_as_the_inference_pass(tmp_path, capsys):
    from deltarule.io import save_model

    net = dr.Network([3, 4, 2], activation="tanh", output_activation="softmax",
                     dropout=0.25, seed=3, dtype="float64")  # fmt: skip
    save_model(net, tmp_path / "m.safetensors")
    code, out, err = run(capsys, "explain", "--model", str(tmp_path / "m.safetensors"),
                         "--input", "0.1,0.7,-0.3")  # fmt: skip
    assert code == 0, err
    assert "Dropout is off: this walk is the inference pass" in out
    assert "rate 0.25 in hidden layer 1" in out


def _explained_as_predicted(capsys, table, target, row, label) -> None:
    """Train on ``table``, then explain ``row`` (its cells as --raw --input) with ``label``:
    the walk's output is predict's probability of that row, and its target the label's."""
    table.to_csv("data.csv", index=False)
    code, _, err = run(capsys, "train", "data.csv", "--target", target, "--epochs", "2",
                       "--quiet", "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    row.to_csv("one.csv", index=False)
    code, out, err = run(capsys, "predict", "m.safetensors", "one.csv", "--proba")
    assert (code, err) == (0, ""), err
    probability = float(out.splitlines()[1].split(",")[1])
    cells = ",".join(str(value) for value in row.iloc[0])
    argv = ["explain", "--model", "m.safetensors", "--raw", "--input", cells]
    code, out, err = run(capsys, *argv, "--target", label, "--format", "json")
    assert (code, err) == (0, ""), err
    trace = json.loads(out)
    assert trace["output"] == [[pytest.approx(probability, rel=1e-6)]]
    assert trace["target"] == [[1.0]]


def test_raw_input_reads_code_like_categories_and_labels_as_written(tmp_path, capsys, monkeypatch):
    # ('01' was read as the number 1: "column 'code' has 1 value(s) not seen in training")
    pd = pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"x": rng.normal(size=30), "code": ["01", "02", "A7"] * 10,
                          "y": ["07", "08"] * 15})  # fmt: skip
    _explained_as_predicted(capsys, table, "y", pd.DataFrame({"x": [0.5], "code": ["01"]}), "08")


def test_raw_rows_go_through_the_models_preprocessing(tmp_path, capsys, monkeypatch):
    # --raw: one row of the data's own columns (a category among them) and a class label,
    # explained exactly as predict would see them.
    pd = pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"size": rng.normal(size=40), "color": ["red", "blue"] * 20,
                          "kind": ["yes", "no", "no", "yes"] * 10})  # fmt: skip
    row = pd.DataFrame({"size": [0.25], "color": ["blue"]})
    _explained_as_predicted(capsys, table, "kind", row, "yes")
    # (a raw row beginning with a negative number and holding a category was an option)
    _explained_as_predicted(capsys, table, "kind", pd.DataFrame({"size": [-1.5], "color": ["red"]}),
                            "yes")  # fmt: skip
    code, _, err = run(capsys, "explain", "--model", "m.safetensors", "--raw", "--input", "0.25")
    assert code == 2 and "the model's data has 2 column(s): size, color" in err


def test_draw_example_svg(tmp_path, capsys):
    path = tmp_path / "net.svg"
    code, _, err = run(capsys, "draw", "--example", "tutorial", "--out", str(path))
    assert code == 0 and "wrote" in err
    assert ET.parse(path).getroot().tag.endswith("svg")


def test_draw_to_stdout(capsys):
    code, out, _ = run(capsys, "draw", "--example", "linear")
    assert code == 0
    root = ET.fromstring(out.split("\n", 1)[0] if out.startswith("<?xml") else out)
    assert root.tag.endswith("svg")


def test_draw_model(monkeypatch, tmp_path, capsys):
    net = model_network()
    fake = types.ModuleType("deltarule.io")
    fake.load_model = lambda path: types.SimpleNamespace(network=net)
    monkeypatch.setitem(sys.modules, "deltarule.io", fake)
    path = tmp_path / "net.svg"
    assert run(capsys, "draw", "m.safetensors", "--out", str(path), "--no-values")[0] == 0
    assert np.isclose(net.weights[0][0, 0], net.weights[0][0, 0])  # network untouched
    assert "h4" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "nothing to draw"),
        (["--example", "tutorial", "--out", "net.gif"], ".svg or .png"),
        (["m.safetensors", "--example", "tutorial"], "not both"),
    ],
)
def test_draw_errors_exit_2(capsys, argv, message):
    code, _, err = run(capsys, "draw", *argv)
    assert code == 2 and err.startswith("error: ") and message in err


def test_a_diverging_walk_renders_in_every_format(capsys):
    # (html crashed with an OverflowError in the chart's ticks; json wrote Infinity, which
    # strict parsers refuse)
    def strict(text: str):  # noqa: ANN202
        def refuse(constant: str):  # noqa: ANN202
            raise ValueError(f"non-standard JSON constant {constant}")

        return json.loads(text, parse_constant=refuse)

    for fmt in ("text", "markdown", "html", "json"):
        code, out, err = run(capsys, "explain", "--example", "linear", "--learning-rate", "2",
                             "--format", fmt)  # fmt: skip
        assert code == 0 and err == "", err
        if fmt == "json":
            assert strict(out)["final_error"] is None
        if fmt == "html":
            assert out.count("<svg") >= 1 and "</html>" in out


def test_negative_numbers_are_values_not_options(tmp_path, capsys):
    # (argparse took "-1.2,0.3" for an option: "expected one argument")
    from deltarule.io import save_model

    path = tmp_path / "model.safetensors"
    save_model(model_network(), path)
    code, out, err = run(capsys, "explain", "--model", str(path), "--input", "-0.1,0.7,-3e-1",
                         "--target", "0,1", "--format", "json")  # fmt: skip
    assert code == 0, err
    expected = model_network().loss_and_gradient([[-0.1, 0.7, -0.3]], [[0.0, 1.0]])[0]
    assert json.loads(out)["total_error"] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("value", ["-inf,0.7,0.3", "-nan,0.7,0.3", "-Infinity,0.7,0.3"])
def test_a_minus_infinity_or_nan_is_refused_by_its_own_check_not_as_an_option(
    tmp_path, capsys, value
):
    # (argparse took "-inf,0.7,0.3" for an option: "expected one argument", which says
    # nothing of the value)
    from deltarule.io import save_model

    path = tmp_path / "model.safetensors"
    save_model(model_network(), path)
    code, out, err = run(capsys, "explain", "--model", str(path), "--input", value,
                         "--target", "0,1")  # fmt: skip
    assert code == 2 and out == ""
    assert err.startswith("error: --input") and "expected one argument" not in err, err
    assert "finite" in err and len(err.strip().splitlines()) == 1


def test_the_walk_refuses_more_updates_than_it_can_run() -> None:
    from deltarule import explain
    from deltarule.exceptions import InputError

    with pytest.raises(InputError, match="steps must be at most 1,000,000 .* received 2,000,000"):
        explain.tutorial_trace(0.5, steps=2_000_000)  # (10**20 leaked a numpy TypeError)


def test_svg_plots_are_the_same_bytes_every_run(tmp_path, capsys):
    # (matplotlib writes the date and random element ids into an SVG)
    for name in ("a.svg", "b.svg"):
        code, _, err = run(capsys, "explain", "--steps", "20", "--plot", str(tmp_path / name))
        assert code == 0, err
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()
