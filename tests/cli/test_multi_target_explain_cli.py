"""``deltarule explain --model`` of a model of several regression targets (``deltarule train
--target y1,y2``): the walk is training's step, each output un-folded with its own target's
mean and std, --target one number per target in the data's units (with --raw and without),
and a wrong --target is one error line that names the targets.

Every reference value is computed here with NumPy from the model file's weights and the CSV
(each target's mean and std from its column, not from the file's record), its gradient
checked by finite differences; never read from explain.
"""

from __future__ import annotations

import json
import re
import sys

import numpy as np
import pandas as pd
import pytest

from deltarule.cli import main
from deltarule.io import load_model, save_model

from .cli_helpers import cli
from .test_multi_target_cli import two_targets

ROW = 3  # the CSV row explained
ETA = 0.1  # (--learning-rate: an update well above float32's rounding)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple:
    """(the model trained by the command line on every row of a small CSV, the table)."""
    folder = tmp_path_factory.mktemp("explain_multi")
    table = two_targets(n=80, seed=2)
    table.to_csv(folder / "multi.csv", index=False)
    model = folder / "multi.safetensors"
    argv = ["train", folder / "multi.csv", "--target", "y1,y2", "--hidden", "3", "--seed", "0",
            "--validation-split", "0", "--epochs", "4", "--quiet", "--out", model]  # fmt: skip
    assert main([str(a) for a in argv]) == 0
    return model, table


def _cells(table: pd.DataFrame) -> str:
    return ",".join(str(v) for v in table[["a", "b", "c"]].iloc[ROW])


def _targets(table: pd.DataFrame) -> tuple[np.ndarray, str]:
    y = table[["y1", "y2"]].iloc[ROW].to_numpy(np.float64) + [7.0, -0.5]  # (away from the fit)
    return y, ",".join(repr(float(v)) for v in y)


def _reference(model, table: pd.DataFrame) -> dict:
    """One step of training's arithmetic in float64: the output layer un-folded output by
    output (W_j/std_j, (b_j − mean_j)/std_j), the row standardised with the CSV's column
    statistics (c one-hot: u, v), each target standardised with its own column's mean and
    std, the mean squared error over the two outputs, its gradient by hand (checked by
    finite differences), the update."""
    net = load_model(model).network
    W1, b1, W2, b2 = (np.asarray(a, np.float64) for a in
                      (net.weights[0], net.biases[0], net.weights[1], net.biases[1]))  # fmt: skip
    Y = table[["y1", "y2"]].to_numpy(np.float64)
    mean, std = Y.mean(axis=0), Y.std(axis=0)  # (ddof 0, as training standardises)
    W2, b2 = W2 / std[:, None], (b2 - mean) / std
    row = table.iloc[ROW]
    numbers = table[["a", "b"]].to_numpy(np.float64)
    scaled = (row[["a", "b"]].to_numpy(np.float64) - numbers.mean(axis=0)) / numbers.std(axis=0)
    x = np.concatenate([scaled, [row["c"] == "u", row["c"] == "v"]]).astype(np.float64)
    y, _ = _targets(table)
    t = (y - mean) / std

    def error(W1, b1, W2, b2) -> float:
        out = W2 @ np.maximum(0.0, W1 @ x + b1) + b2
        return float(np.mean((out - t) ** 2))

    net1 = W1 @ x + b1
    h = np.maximum(0.0, net1)
    out = W2 @ h + b2
    g = 2 * (out - t) / len(t)  # ∂E/∂out of E = mean over the outputs of (out − t)²
    dh = (W2.T @ g) * (net1 > 0)
    grads = {"W1": np.outer(dh, x), "b1": dh, "W2": np.outer(g, h), "b2": g}
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    for name, value in params.items():  # (the hand gradient is the error's slope)
        numeric = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            step = np.zeros_like(value)
            step[i] = 1e-6
            up = {**params, name: value + step}
            down = {**params, name: value - step}
            numeric[i] = (error(**up) - error(**down)) / 2e-6
        np.testing.assert_allclose(numeric, grads[name], rtol=1e-5, atol=1e-8)
    return {"x": x, "t": t, "y": y, "mean": mean, "std": std, "out": out,
            "error": error(**params), "grads": grads,
            "updated": {k: v - ETA * grads[k] for k, v in params.items()},
            "predict": net.predict(x[None, :].astype(net.dtype))[0].astype(np.float64)}  # fmt: skip


def _explain(capsys, model, *argv) -> str:
    code, out, err = cli(capsys, "explain", "--model", model, *argv)
    assert code == 0, err
    return out


def _check_walk(data: dict, ref: dict) -> None:
    assert data["learning_rate"] == ETA
    assert data["target"][0] == pytest.approx(ref["t"], rel=1e-6)
    assert data["output"][0] == pytest.approx(ref["out"], rel=1e-5, abs=1e-6)
    assert data["total_error"] == pytest.approx(ref["error"], rel=1e-5)
    for name in ("W1", "b1", "W2", "b2"):
        tensor = data["tensors"][name]
        np.testing.assert_allclose(tensor["gradient"], ref["grads"][name], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(tensor["updated"], ref["updated"][name], rtol=1e-5, atol=1e-6)
    records = data["raw_targets"]
    assert [r["column"] for r in records] == ["y1", "y2"]
    assert [r["raw"] for r in records] == pytest.approx(ref["y"])
    assert [r["mean"] for r in records] == pytest.approx(ref["mean"], rel=1e-12)
    assert [r["std"] for r in records] == pytest.approx(ref["std"], rel=1e-12)
    # each output back in its target's units: what predict computes from the saved network
    assert [r["predicted"] for r in records] == pytest.approx(ref["predict"], rel=1e-5)


def test_the_walk_is_trainings_step_with_each_target_standardised(trained, capsys) -> None:
    model, table = trained
    ref = _reference(model, table)
    _, target = _targets(table)
    out = _explain(capsys, model, "--raw", "--input", _cells(table), "--target", target,
                   "--learning-rate", str(ETA), "--format", "json", "--steps", "1")  # fmt: skip
    data = json.loads(out)
    _check_walk(data, ref)
    assert [r["value"] for r in data["raw_inputs"]] == pytest.approx(ref["x"], rel=1e-6)
    (_, before), (_, after) = data["curve"]
    assert before == pytest.approx(ref["error"], rel=1e-5) and after < before


def test_without_raw_the_targets_are_standardised_too(trained, capsys) -> None:
    # (--input: the network's own inputs; --target: the targets in the data's units)
    model, table = trained
    ref = _reference(model, table)
    _, target = _targets(table)
    row = ",".join(repr(float(v)) for v in ref["x"])
    code, out, err = cli(capsys, "explain", "--model", model, "--input", row, "--target",
                         target, "--learning-rate", str(ETA), "--format", "json")  # fmt: skip
    assert code == 0 and "add --raw" in err  # (the model has preprocessing: said once)
    data = json.loads(out)
    _check_walk(data, ref)
    assert "raw_inputs" not in data


def _false_equations(text: str, dtype: str) -> list:
    """tests/explain/equation_check.py's check that every printed equation holds."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "explain" / "equation_check.py"
    spec = importlib.util.spec_from_file_location("_equation_check", path)
    module = sys.modules.setdefault("_equation_check", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)  # (its dataclasses look their module up by name)
    return module.false_equations(text, dtype)


def test_the_text_names_each_target_with_its_standardisation(trained, capsys) -> None:
    model, table = trained
    ref = _reference(model, table)
    _, target = _targets(table)
    argv = ["--raw", "--input", _cells(table), "--target", target, "--learning-rate", str(ETA)]
    text = _explain(capsys, model, *argv)
    assert _false_equations(text, load_model(model).network.dtype.name) == []
    head = " ".join(text.split("1. From the data's units")[0].split())
    for j, name in enumerate(("y1", "y2")):
        said = re.search(
            rf"target {name} = (\S+) \(standardised: \((\S+) − \(?([^()]+)\)?\)/(\S+) = "
            r"(\S+)\)",
            head,
        )  # (target y1 = 91.3 (standardised: (91.3 − 100.2)/34.1 = -0.26): the note)
        assert said is not None, head
        raw, again, mean, std, value = (float(v) for v in said.groups())
        assert raw == again == pytest.approx(ref["y"][j], rel=1e-9)
        assert (mean, std) == (pytest.approx(ref["mean"][j]), pytest.approx(ref["std"][j]))
        assert value == pytest.approx(ref["t"][j], rel=1e-6)
        assert f"target_o{j + 1} = ({name} − mean)/std = " in text
        assert f"predicted {name} = mean + std·out_o{j + 1} = " in text
    assert "each with its own training mean and standard deviation" in head
    markdown = _explain(capsys, model, *argv, "--format", "markdown")
    assert r"\text{predicted }\text{y2} = \mathrm{mean} + \mathrm{std} \cdot" in markdown
    html = _explain(capsys, model, *argv, "--format", "html")
    assert "predicted y1" in html and "predicted y2" in html


def _error_line(capsys, model, *argv) -> str:
    code, out, err = cli(capsys, "explain", "--model", model, *argv)
    *before, last = err.splitlines()
    assert code == 2 and out == "" and last.startswith("error: "), err
    # (without --raw, the model's preprocessing may be said first: --input is after it)
    assert len(before) <= 1 and all("add --raw" in x for x in before), err
    return last


@pytest.mark.parametrize("raw", [True, False], ids=["raw", "network-inputs"])
@pytest.mark.parametrize(
    "target, said",
    [
        ("110", "--target '110' has 1 value(s) but the model has 2 targets"),
        ("110,-4,3", "--target '110,-4,3' has 3 value(s) but the model has 2 targets"),
        ("110,abc", "--target '110,abc': value 2 (target y2) is 'abc', not a number"),
        (",-4", "--target ',-4': value 1 (target y1) is empty"),
        ("nan,-4", "--target 'nan,-4': value 1 (target y1) is nan, not a finite number"),
        ("110,inf", "--target '110,inf': value 2 (target y2) is inf, not a finite number"),
    ],
    ids=["too-few", "too-many", "not-a-number", "empty", "nan", "inf"],
)
def test_a_wrong_target_is_one_error_line(trained, capsys, raw, target, said) -> None:
    model, table = trained
    row = ["--raw", "--input", _cells(table)] if raw else ["--input", "0,0,1,0"]
    err = _error_line(capsys, model, *row, "--target", target)
    assert said in err
    assert "give one number per target (y1, y2), in that order, in the data's units, " \
           "e.g. --target 1.5,1.5." in err  # fmt: skip


@pytest.mark.parametrize("raw", [True, False], ids=["raw", "network-inputs"])
def test_without_target_it_asks_for_one_value_per_target(trained, capsys, raw) -> None:
    model, table = trained
    row = ["--raw", "--input", _cells(table)] if raw else ["--input", "0,0,1,0"]
    err = _error_line(capsys, model, *row)
    assert "give --target with the desired output (2 numbers, one per target: y1, y2, " \
           "e.g. --target 1.5,1.5)." in err  # fmt: skip


def _resave(model, path, change) -> None:
    loaded = load_model(model)
    training = loaded.header["training"]
    change(training["summary"])
    save_model(loaded.network, path, preprocessing=loaded.preprocessing, classes=loaded.classes,
               training=training)  # fmt: skip


@pytest.mark.parametrize(
    "record",
    [{"mean": [1.0, 2.0], "std": [1.0, 0.0]}, {"mean": [1.0, 2.0], "std": 1.0},
     {"mean": [1.0, 2.0, 3.0], "std": [1.0, 1.0, 1.0]}],
    ids=["zero-std", "one-std", "three-targets"],
)  # fmt: skip
def test_a_damaged_record_of_several_targets_is_one_error_line(trained, capsys, tmp_path, record):
    model, table = trained
    bad = tmp_path / "bad.safetensors"
    _resave(model, bad, lambda s: s.update({"target_standardisation": record}))
    err = _error_line(capsys, bad, "--raw", "--input", _cells(table), "--target", "1,2")
    assert "target_standardisation" in err and "Retrain" in err


def test_a_file_without_the_record_is_walked_in_the_targets_units(trained, capsys, tmp_path):
    model, table = trained
    old = tmp_path / "old.safetensors"
    _resave(model, old, lambda s: s.pop("target_standardisation"))
    y, target = _targets(table)
    out = _explain(capsys, old, "--raw", "--input", _cells(table), "--target", target,
                   "--format", "json")  # fmt: skip
    data = json.loads(out)
    assert data["target"][0] == pytest.approx(y) and "raw_targets" not in data
    assert "does not record their means and standard deviations" in data["note"]


def test_a_file_that_names_no_targets_numbers_them(trained, capsys, tmp_path) -> None:
    # (the network and training record saved from Python without the preprocessing)
    model, table = trained
    loaded = load_model(model)
    bare = tmp_path / "bare.safetensors"
    save_model(loaded.network, bare, training=loaded.header["training"])
    out = _explain(capsys, bare, "--input", "0,0,1,0", "--target", "1,2", "--format", "json")
    assert [r["column"] for r in json.loads(out)["raw_targets"]] == ["target1", "target2"]
