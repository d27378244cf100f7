"""``deltarule explain`` of a regression model trained on a standardised target.

``deltarule train`` trains a regression network on (y − mean)/std and saves it with the
output layer rescaled to the target's units. Explained in those units, with the tutorial's
η = 0.5, one step blew up (a QA pass: ‖δ‖ of thousands, the error after the update worse than
before). The walk is now in the units training used: the target standardised, the output
converted back beside it, η the model's own training rate. Every reference value here is
computed with NumPy from the model file's weights and the data, never read from explain.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from equation_check import false_equations

from deltarule.cli import main
from deltarule.cli._target_units import TARGET_RECORD
from deltarule.explain import DataValue, example_trace, render
from deltarule.io import load_model, save_model

pd = pytest.importorskip("pandas")
datasets = pytest.importorskip("sklearn.datasets")

ROW = 0  # the diabetes row explained (its target is 151)
TARGET = "151"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _resave(path, summary_change) -> None:
    """Rewrite a model file with its training summary changed by ``summary_change``."""
    loaded = load_model(path)
    training = loaded.header["training"]
    summary_change(training["summary"])
    save_model(loaded.network, path, preprocessing=loaded.preprocessing, classes=loaded.classes,
               training=training)  # fmt: skip


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    """A 10-4-1 model trained by the command line on scikit-learn's diabetes data (all rows
    for training, so the target's mean and std are those of the whole column), its file
    recording the target's standardisation, and the data."""
    folder = tmp_path_factory.mktemp("diabetes")
    frame = datasets.load_diabetes(as_frame=True).frame
    frame.to_csv(folder / "diabetes.csv", index=False)
    path = folder / "diabetes.safetensors"
    code = main(["train", str(folder / "diabetes.csv"), "--target", "target", "--hidden", "4",
                 "--epochs", "20", "--seed", "0", "--validation-split", "0", "--quiet",
                 "--out", str(path)])  # fmt: skip
    assert code == 0
    y = frame["target"].to_numpy(dtype=np.float64)
    mean, std = float(y.mean()), float(y.std())  # (np.std: ddof 0, as training standardises)
    # deltarule train records the standardisation (the walk reads it from there)
    recorded = load_model(path).header["training"]["summary"][TARGET_RECORD]
    assert recorded["mean"] == pytest.approx(mean, rel=1e-12)
    assert recorded["std"] == pytest.approx(std, rel=1e-12)
    return path, frame, mean, std


def _cells(frame) -> str:
    return ",".join(repr(float(v)) for v in frame.drop(columns="target").iloc[ROW])


def _reference(path, frame, mean, std, eta):
    """One step of training's arithmetic, in float64 NumPy from the file's weights: the
    output layer unscaled (W/std, (b − mean)/std), the row standardised with the file's
    column statistics, the target standardised, the mean squared error, its gradient, the
    update."""
    loaded = load_model(path)
    net = loaded.network
    W1, b1, W2, b2 = (np.asarray(a, np.float64) for a in
                      (net.weights[0], net.biases[0], net.weights[1], net.biases[1]))  # fmt: skip
    W2, b2 = W2 / std, (b2 - mean) / std
    columns = loaded.preprocessing["columns"]
    raw = frame.drop(columns="target").iloc[ROW].to_numpy(np.float64)
    x = (raw - [c["mean"] for c in columns]) / [c["std"] for c in columns]
    t = (float(TARGET) - mean) / std
    h = np.maximum(0.0, W1 @ x + b1)
    out = float((W2 @ h + b2)[0])
    g = 2 * (out - t)  # (mse of one output: (out − t)²)
    gW2, gW1 = g * h, np.outer(g * W2[0] * (W1 @ x + b1 > 0), x)
    return {
        "x": x, "t": t, "net1": W1 @ x + b1, "out": out, "error": (out - t) ** 2,
        "W2+": W2 - eta * gW2, "W1+": W1 - eta * gW1, "b2+": b2 - eta * g,
        "predict": float(net.predict(x[None, :].astype(net.dtype))[0, 0]),
    }  # fmt: skip


def _explain(capsys, path, *argv: str) -> tuple[str, str]:
    code, out, err = run(capsys, "explain", "--model", str(path), *argv)
    assert code == 0, err
    return out, err


def test_the_walk_is_trainings_step_on_the_standardised_target(diabetes, capsys):
    path, frame, mean, std = diabetes
    eta = load_model(path).header["training"]["summary"]["final"]["learning_rate"]
    ref = _reference(path, frame, mean, std, eta)
    out, _ = _explain(capsys, path, "--raw", "--input", _cells(frame), "--target", TARGET,
                      "--format", "json", "--steps", "1")  # fmt: skip
    data = json.loads(out)
    assert data["learning_rate"] == eta  # the model's own training rate (adam's 0.001)
    assert data["target"] == [[pytest.approx(ref["t"], rel=1e-6)]]
    assert data["output"] == [[pytest.approx(ref["out"], rel=1e-5)]]
    assert data["total_error"] == pytest.approx(ref["error"], rel=1e-5)
    assert np.allclose(data["layers"][0]["net"][0], ref["net1"], rtol=1e-5, atol=1e-6)
    assert np.allclose(data["tensors"]["W2"]["updated"], ref["W2+"], rtol=1e-5, atol=1e-7)
    assert np.allclose(data["tensors"]["W1"]["updated"], ref["W1+"], rtol=1e-5, atol=1e-7)
    assert np.allclose(data["tensors"]["b2"]["updated"], ref["b2+"], rtol=1e-5, atol=1e-7)
    # the step lowers the error, as training's does (in the target's units it rose)
    (_, before), (_, after) = data["curve"]
    assert after < before
    # the records: the raw row and target, and the output back in the target's units
    assert [r["value"] for r in data["raw_inputs"]] == pytest.approx(ref["x"], rel=1e-6)
    assert [r["raw"] for r in data["raw_inputs"]] == pytest.approx(
        frame.drop(columns="target").iloc[ROW].to_list()
    )
    (target,) = data["raw_targets"]
    assert (target["raw"], target["column"]) == (151.0, "target")
    assert (target["mean"], target["std"]) == (pytest.approx(mean), pytest.approx(std))
    assert target["predicted"] == pytest.approx(ref["predict"], rel=1e-5)  # = predict's
    assert target["predicted"] == pytest.approx(mean + std * ref["out"], rel=1e-5)


def _numbers(text: str) -> list[float]:
    return [float(n.replace("−", "-")) for n in re.findall(r"[−-]?\d+\.?\d*(?:e[-+]\d+)?", text)]


def test_the_text_shows_the_target_standardised_and_the_output_converted(diabetes, capsys):
    path, frame, mean, std = diabetes
    ref = _reference(path, frame, mean, std, 0.5)
    argv = ["--raw", "--input", _cells(frame), "--target", TARGET, "--max-neurons", "10"]
    for eta in ([], ["--learning-rate", "0.5"]):
        out, _ = _explain(capsys, path, *argv, *eta)
        dtype = load_model(path).network.dtype.name  # (float32: train's default)
        assert false_equations(out, dtype) == []  # every printed equation holds
    # the header: target 151 (standardised: (151 − mean)/std = t), as the user gave it
    head = re.search(r"target 151 \(standardised: \(151 − (\S+)\)/(\S+) = (\S+)\)", out)
    assert head is not None, out[:600]
    shown_mean, shown_std, shown_t = (float(v) for v in head.groups())
    assert (shown_mean, shown_std) == (pytest.approx(mean, rel=1e-7), pytest.approx(std, rel=1e-7))
    assert shown_t == pytest.approx(ref["t"], rel=1e-6)
    # raw → scaled once per input, then the network's arithmetic
    first = out.split("1. From the data's units to the network's")[1].split("2. Forward pass")[0]
    for k, name in enumerate(["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]):
        line = next(x for x in first.splitlines() if x.strip().startswith(f"i{k + 1} = "))
        assert f"({name} − mean)/std" in line
        assert _numbers(line)[-1] == pytest.approx(ref["x"][k], rel=1e-6)
    line = next(x for x in first.splitlines() if "target_o1 = (target − mean)/std" in x)
    assert _numbers(line)[-1] == pytest.approx(ref["t"], rel=1e-6)
    # beside the network's output, the output in the target's units (= predict's)
    forward = out.split("2. Forward pass")[1].split("3. Error")[0]
    line = next(x for x in forward.splitlines() if "predicted target = mean + std·out_o1" in x)
    assert _numbers(line)[-1] == pytest.approx(ref["predict"], rel=1e-6)
    assert "out_o1 = net_o1 = " in forward
    assert _numbers(forward.split("out_o1 = net_o1 = ")[1])[0] == pytest.approx(ref["out"], 1e-5)


def test_without_raw_the_target_is_standardised_too(diabetes, capsys):
    # (--input: the network's own inputs, after the preprocessing; --target: the saved
    # network's output, in the target's units) — the same walk as with --raw
    path, frame, mean, std = diabetes
    ref = _reference(path, frame, mean, std, 0.5)
    row = ",".join(repr(float(v)) for v in ref["x"])
    out, _ = _explain(capsys, path, "--input", row, "--target", TARGET, "--format", "json")
    data = json.loads(out)
    assert data["target"] == [[pytest.approx(ref["t"], rel=1e-6)]]
    assert data["output"] == [[pytest.approx(ref["out"], rel=1e-5)]]
    assert data["raw_targets"][0]["predicted"] == pytest.approx(ref["predict"], rel=1e-5)
    assert "raw_inputs" not in data


@pytest.mark.parametrize("format", ["text", "markdown", "html"])
def test_the_summary_of_a_wide_network_shows_the_same_values(diabetes, capsys, format):
    path, frame, mean, std = diabetes
    ref = _reference(path, frame, mean, std, 0.5)
    out, _ = _explain(capsys, path, "--raw", "--input", _cells(frame), "--target", TARGET,
                      "--format", format)  # fmt: skip
    assert "A layer is wider than 8 neurons" in out  # (10 inputs: the per-layer summary)
    target = re.search(r"target_o1 = \(target − mean\)/std = \([^)]*\)/\S+ = (\S+?)(?:`|<|\n)", out)
    predicted = re.search(r"predicted target = mean \+ std·out_o1 = \S+ \+ \S+ = (\S+?)(?:`|<|\n)",
                          out)  # fmt: skip
    assert target and predicted, out
    assert float(target.group(1)) == pytest.approx(ref["t"], rel=1e-6)
    assert float(predicted.group(1)) == pytest.approx(ref["predict"], rel=1e-6)


def test_markdown_writes_the_standardisation_as_latex(diabetes, capsys):
    path, frame, *_ = diabetes
    out, _ = _explain(capsys, path, "--raw", "--input", _cells(frame), "--target", TARGET,
                      "--format", "markdown", "--max-neurons", "10")  # fmt: skip
    assert r"i_{1} = \frac{\text{age} - \mathrm{mean}}{\mathrm{std}} = \frac{" in out
    assert r"\text{predicted }\text{target} = \mathrm{mean} + \mathrm{std} \cdot" in out


def test_the_plot_is_the_error_curve_of_the_walk(diabetes, capsys, tmp_path):
    path, frame, *_ = diabetes
    plot = tmp_path / "curve.svg"
    out, err = _explain(capsys, path, "--raw", "--input", _cells(frame), "--target", TARGET,
                        "--steps", "20", "--plot", str(plot), "--format", "json")  # fmt: skip
    assert plot.is_file() and f"wrote {plot}" in err
    curve = json.loads(out)["curve"]
    assert curve[-1][1] < curve[0][1]  # (η = 0.001: it falls, as in training)


def test_a_file_without_the_record_is_explained_in_the_targets_units(diabetes, capsys, tmp_path):
    # (files written before the target's standardisation was recorded: the walk is the
    # saved network's, in the target's units, and says why its step is not training's)
    path, frame, *_ = diabetes
    old = tmp_path / "old.safetensors"
    old.write_bytes(path.read_bytes())
    _resave(old, lambda s: s.pop(TARGET_RECORD))
    loaded = load_model(old)
    assert "standardised target" in loaded.header["training"]["summary"]["note"]
    out, _ = _explain(capsys, old, "--raw", "--input", _cells(frame), "--target", TARGET,
                      "--format", "json")  # fmt: skip
    data = json.loads(out)
    assert data["target"] == [[151.0]] and "raw_targets" not in data
    x = np.array([r["value"] for r in data["raw_inputs"]], dtype=loaded.network.dtype)
    assert data["output"][0][0] == pytest.approx(float(loaded.network.predict([x])[0, 0]), 1e-6)
    assert "does not record the target's mean and standard deviation" in data["note"]


@pytest.mark.parametrize("record", [{"mean": 1.0, "std": 0.0}, {"mean": "a", "std": 2.0}, [1, 2]])
def test_a_damaged_record_is_one_error_line(diabetes, capsys, tmp_path, record):
    path, frame, *_ = diabetes
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(path.read_bytes())
    _resave(bad, lambda s: s.update({TARGET_RECORD: record}))
    code, out, err = run(capsys, "explain", "--model", str(bad), "--raw", "--input",
                         _cells(frame), "--target", TARGET)  # fmt: skip
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("error: ") and TARGET_RECORD in err and "Retrain" in err


def test_a_classification_model_with_raw_still_walks_its_probability(tmp_path, capsys,
                                                                     monkeypatch):  # fmt: skip
    # --raw of a classifier: the row's number standardised and its category one-hot, once;
    # the target the class's 0/1; η the model's training rate unless --learning-rate
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"size": rng.normal(size=40), "kind": ["yes", "no", "no", "yes"] * 10,
                          "color": ["red", "blue", "green", "blue"] * 10})  # fmt: skip
    table[["size", "color", "kind"]].to_csv("c.csv", index=False)
    assert run(capsys, "train", "c.csv", "--target", "kind", "--epochs", "3", "--hidden", "3",
               "--quiet", "--out", "c.safetensors")[0] == 0  # fmt: skip
    loaded = load_model("c.safetensors")
    size = loaded.preprocessing["columns"][0]
    x = np.array([(0.25 - size["mean"]) / size["std"], 1.0, 0.0, 0.0])  # blue, green, red
    proba = float(loaded.network.predict([x.astype(loaded.network.dtype)])[0, 0])
    argv = ["--raw", "--input", "0.25,blue", "--target", "yes"]
    out, _ = _explain(capsys, "c.safetensors", *argv)
    assert false_equations(out, loaded.network.dtype.name) == []
    line = next(x for x in out.splitlines() if "i1 = (size − mean)/std" in x)
    assert _numbers(line)[-1] == pytest.approx(x[0], rel=1e-6)
    assert "color = 'blue', one-hot (one input per category): i2 (blue) = 1, i3 (green) = 0, " \
           "i4 (red) = 0." in " ".join(out.split())  # (a note: wrapped)  # fmt: skip
    assert "--target 'yes' is the network's target (1)." in out
    assert "predicted" not in out and "standardised: (" not in out  # (no target scaling)
    data = json.loads(_explain(capsys, "c.safetensors", *argv, "--format", "json")[0])
    assert data["output"] == [[pytest.approx(proba, rel=1e-6)]] and data["target"] == [[1.0]]
    assert data["learning_rate"] == loaded.header["training"]["summary"]["final"]["learning_rate"]
    data = json.loads(_explain(capsys, "c.safetensors", *argv, "--format", "json",
                               "--learning-rate", "0.5")[0])  # fmt: skip
    assert data["learning_rate"] == 0.5 and "trained with" not in data["note"]


def test_a_model_without_a_training_record_keeps_the_tutorials_rate(tmp_path, capsys):
    import deltarule as dr

    net = dr.Network([2, 1], output_activation="identity", dtype="float64", seed=0)
    save_model(net, tmp_path / "m.safetensors")
    out, _ = _explain(capsys, tmp_path / "m.safetensors", "--input", "0.5,1", "--target", "2",
                      "--format", "json")  # fmt: skip
    data = json.loads(out)
    assert data["learning_rate"] == 0.5 and data["target"] == [[2.0]]
    assert "raw_targets" not in data


# ------------------------------------------------------------------------- Python API
def _line_net():
    import deltarule as dr

    net = dr.Network([1, 1], output_activation="identity", dtype="float64")
    net.set_parameters({"W1": [[2.0]], "b1": [0.5]})
    return net


def test_example_trace_records_where_its_values_came_from():
    # x = (3 − 1)/2 = 1, out = 2·1 + 0.5 = 2.5; target (10 − 4)/3 = 2; in the target's
    # units the output is 4 + 3·2.5 = 11.5
    records = [DataValue("size", 3.0, 1.0, 2.0)], [DataValue("price", 10.0, 4.0, 3.0)]
    t = example_trace(_line_net(), [1.0], [2.0], raw_inputs=records[0], raw_targets=records[1])
    data = json.loads(render(t, "json"))
    assert data["raw_targets"][0]["predicted"] == 11.5
    text = render(t, "text")
    assert "i1 = (size − mean)/std = (3 − 1)/2 = 1" in text
    assert "target_o1 = (price − mean)/std = (10 − 4)/3 = 2" in text
    assert "predicted price = mean + std·out_o1 = 4 + 3·2.5 = 11.5" in text
    assert false_equations(text) == []


@pytest.mark.parametrize(
    "inputs, targets, message",
    [
        ([DataValue("size", 3.0, 1.0, 2.0)], [DataValue("price", 11.0, 4.0, 3.0)],
         "raw_targets[0]: (11 − 4)/3 is not the network's value 2"),
        ([DataValue("size", 3.0, 1.0, 4.0)], None, "raw_inputs[0]: (3 − 1)/4 is not"),
        ([DataValue("color", "red", category="blue")], None, "makes input 'blue' 0, not 1"),
        ([DataValue("a", 1.0, 0.0, 1.0)] * 2, None, "raw_inputs has 2 record(s) but the "
         "network has 1"),
        (None, [DataValue("kind", "a", category="a")], "raw_targets[0] is a category"),
        (["size"], None, "raw_inputs must hold DataValue records"),
        ([DataValue("size", 3.0, 1.0, -2.0)], None, "is not the network's value"),
    ],
)  # fmt: skip
def test_records_that_do_not_give_the_traced_values_are_refused(inputs, targets, message):
    import deltarule as dr

    with pytest.raises(dr.InputError) as info:
        example_trace(_line_net(), [1.0], [2.0], raw_inputs=inputs, raw_targets=targets)
    assert message in str(info.value)


def test_an_empty_cell_is_shown_with_the_imputations_value(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = pd.DataFrame({"a": [1.0, 2.0, None, 4.0, 5.0, 6.0], "b": ["x", "y"] * 3,
                          "y": [1.5, 2.5, 3.1, 4.2, 5.9, 6.1]})  # fmt: skip
    table.to_csv("imp.csv", index=False)
    assert run(capsys, "train", "imp.csv", "--target", "y", "--impute", "mean", "--epochs", "2",
               "--hidden", "2", "--quiet", "--out", "imp.safetensors")[0] == 0  # fmt: skip
    fill = float(np.mean([1.0, 2.0, 4.0, 5.0, 6.0]))  # 3.6, the mean of the present values
    out, _ = _explain(capsys, "imp.safetensors", "--raw", "--input", ",y", "--target", "3")
    assert false_equations(out, load_model("imp.safetensors").network.dtype.name) == []
    assert f"empty cells take the values the model's imputation learned: a = {fill!r}." in out
    line = next(x for x in out.splitlines() if "i1 = (a − mean)/std" in x)
    assert _numbers(line.split(" = ")[2])[0] == pytest.approx(fill)


def test_a_wide_summary_lists_the_first_ten_inputs():
    import deltarule as dr

    net = dr.Network([12, 1], output_activation="identity", dtype="float64", seed=0)
    records = [DataValue(f"c{k}", float(k), 0.0, 2.0) for k in range(12)]
    x = [k / 2 for k in range(12)]
    text = render(example_trace(net, x, [1.0], raw_inputs=records), "text")
    assert "i10 = (c9 − mean)/std = (9 − 0)/2 = 4.5" in text and "i11 =" not in text
    assert "... (2 more inputs)" in text


def test_the_summary_of_a_huge_float32_update_warns_of_nothing():
    # (‖ΔW‖ squared a float32 update of 1e30 in float32: "overflow encountered in dot")
    import warnings

    import deltarule as dr

    net = dr.Network([9, 1], output_activation="identity", dtype="float32", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = example_trace(net, np.ones(9), [1.0], learning_rate=1e30)
        text = render(t, "text")
    update = (t.updated - t.parameters).astype(np.float64)
    norm = float(np.sqrt(np.sum(update[:9] ** 2)))  # W1's update, in float64
    row = next(x for x in text.splitlines() if x.startswith("1 "))
    assert float(row.split()[-1]) == pytest.approx(norm, rel=1e-6)


def test_each_categorical_column_gets_its_own_one_hot_sentence():
    import deltarule as dr

    net = dr.Network([4, 1], output_activation="identity", dtype="float64", seed=0)
    records = [DataValue("color", "red", category=c) for c in ("blue", "red")]
    records += [DataValue("n", 0, category=c) for c in (1, 0)]  # (0: a falsy category)
    text = " ".join(render(example_trace(net, [0, 1, 0, 1], [1.0], raw_inputs=records)).split())
    assert "color = 'red', one-hot (one input per category): i1 (blue) = 0, i2 (red) = 1." in text
    assert "n = 0, one-hot (one input per category): i3 (1) = 0, i4 (0) = 1." in text
