"""Several targets at the command line: ``train --target y1,y2`` trains a multi-output
regression (each target standardised on its own), ``predict`` writes a column per target in
the targets' units, ``evaluate`` scores each target and their mean, the model file records
the targets, and files of one target keep their format."""

from __future__ import annotations

import io
import json
import signal
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deltarule.cli import main
from deltarule.io import load_model
from deltarule.io.model_file import save_model

from .cli_helpers import cli
from .test_resume_cli import run_until_epoch


def two_targets(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Inputs a, b (numbers) and c (text); y1 = 100 + 30 a - 20 b (tens of units), y2 =
    -5 + 0.5 a b + 0.3 b + [c = u] (units of 1): targets on scales 40 times apart."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(-2, 2, n), rng.uniform(-2, 2, n)
    c = rng.choice(["u", "v"], n)
    y1 = 100 + 30 * a - 20 * b + rng.normal(0, 1, n)
    y2 = -5 + 0.5 * a * b + 0.3 * b + (c == "u") + rng.normal(0, 0.05, n)
    return pd.DataFrame({"a": a, "b": b, "c": c, "y1": y1, "y2": y2})


def r2(true: np.ndarray, predicted: np.ndarray) -> float:
    return float(1 - ((true - predicted) ** 2).sum() / ((true - true.mean()) ** 2).sum())


def metadata(path: Path) -> dict:
    """The ``deltarule`` header of a model file, read with json and struct alone."""
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    return json.loads(json.loads(data[8 : 8 + size])["__metadata__"]["deltarule"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path, pd.DataFrame]:
    """(the CSV, the model trained on every row of it, the table)."""
    folder = tmp_path_factory.mktemp("multi")
    table = two_targets()
    data = folder / "multi.csv"
    table.to_csv(data, index=False)
    model = folder / "multi.safetensors"
    argv = ["train", data, "--target", "y1,y2", "--hidden", "16", "--seed", "1",
            "--validation-split", "0", "--epochs", "300", "--learning-rate", "0.01",
            "--quiet", "--out", model]  # fmt: skip
    assert main([str(a) for a in argv]) == 0
    return data, model, table


def test_predict_writes_a_column_per_target_in_its_units(trained, capsys) -> None:
    data, model, table = trained
    code, out, err = cli(capsys, "predict", model, data)
    assert code == 0, err
    predicted = pd.read_csv(io.StringIO(out))
    assert list(predicted.columns) == ["y1", "y2"]
    # in the targets' own units: fitted well, each, against the CSV's values (y1 in tens,
    # y2 in units: one standardisation for both, or none, fits y2 badly)
    for name in ("y1", "y2"):
        assert r2(table[name].to_numpy(), predicted[name].to_numpy()) > 0.9, name


def test_each_target_is_standardised_on_its_own(trained) -> None:
    data, model, table = trained
    header = metadata(model)
    assert header["preprocessing"]["target"] == ["y1", "y2"]
    assert header["preprocessing"]["task"] == "regression"
    assert header["preprocessing"]["classes"] is None
    assert header["architecture"]["layer_sizes"][-1] == 2
    assert header["architecture"]["activations"][-1] == "identity"
    assert header["architecture"]["loss"] == "mse"
    record = header["training"]["summary"]["target_standardisation"]
    # (every row trained: the means and population std of the CSV's columns, by NumPy)
    assert record["mean"] == pytest.approx(table[["y1", "y2"]].mean().to_list(), rel=1e-12)
    assert record["std"] == pytest.approx(table[["y1", "y2"]].std(ddof=0).to_list(), rel=1e-12)
    # the outputs are the network's standardised outputs times each std plus each mean:
    # unfolding the output layer gives a network whose outputs, so scaled, are predict's
    loaded = load_model(model)
    net = loaded.network
    X = net.predict(_inputs(loaded, table))
    mean, std = np.array(record["mean"]), np.array(record["std"])
    weights, bias = net.weights[-1].copy(), net.biases[-1].copy()
    net.weights[-1][...] = weights / std[:, None].astype(net.dtype)
    net.biases[-1][...] = (bias - mean.astype(net.dtype)) / std.astype(net.dtype)
    standardised = net.predict(_inputs(loaded, table))
    np.testing.assert_allclose(standardised * std + mean, X, rtol=1e-4, atol=1e-3)
    assert abs(standardised.mean(axis=0)).max() < 0.2  # (on the standardised scale)


def _inputs(loaded, table: pd.DataFrame) -> np.ndarray:
    from deltarule.preprocessing import TabularPreprocessor

    pre = TabularPreprocessor.from_dict(loaded.preprocessing)
    return pre.transform(table, dtype=loaded.network.dtype)


def test_a_scikit_learn_regressor_fits_the_data_as_well(trained, capsys) -> None:
    sklearn = pytest.importorskip("sklearn.neural_network")
    data, model, table = trained
    X = pd.get_dummies(table[["a", "b", "c"]], dtype=float).to_numpy()
    Y = table[["y1", "y2"]].to_numpy()
    mean, std = Y.mean(axis=0), Y.std(axis=0)
    oracle = sklearn.MLPRegressor(hidden_layer_sizes=(16,), max_iter=2000, random_state=0, tol=1e-6)
    oracle.fit(X, (Y - mean) / std)
    theirs = oracle.predict(X) * std + mean
    code, out, _ = cli(capsys, "predict", model, data)
    ours = pd.read_csv(io.StringIO(out)).to_numpy()
    for j in range(2):
        assert r2(Y[:, j], ours[:, j]) > r2(Y[:, j], theirs[:, j]) - 0.05


def test_evaluate_scores_each_target_and_their_mean(trained, capsys, tmp_path) -> None:
    data, model, table = trained
    code, out, err = cli(capsys, "evaluate", model, data, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["target"] == ["y1", "y2"] and report["average"] == "uniform_average"
    assert set(report["per_target"]) == {"y1", "y2"}
    for key in ("mse", "mae", "r2"):
        each = [report["per_target"][name][key] for name in ("y1", "y2")]
        assert report["metrics"][key] == pytest.approx(np.mean(each), rel=1e-12)
    _, predicted, _ = cli(capsys, "predict", model, data)
    predicted = pd.read_csv(io.StringIO(predicted))
    for name in ("y1", "y2"):
        expected = r2(table[name].to_numpy(), predicted[name].to_numpy())
        assert report["per_target"][name]["r2"] == pytest.approx(expected, abs=1e-6)
        assert report["per_target"][name]["r2"] > 0.9
    spaced = cli(capsys, "evaluate", model, data, "--format", "json", "--target", "y1, y2")
    assert spaced[0] == 0 and json.loads(spaced[1]) == report  # (as train reads --target)
    code, _, err = cli(capsys, "evaluate", model, data, "--target", "y2,y1")
    assert code == 2 and "was trained on the target columns 'y1', 'y2'" in err
    code, out, err = cli(capsys, "evaluate", model, data, "--plot", tmp_path / "p.png")
    assert code == 0, err
    assert "uniform_average" in out and "per target:" in out
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_inspect_draw_and_explain(trained, capsys, tmp_path) -> None:
    data, model, _ = trained
    code, out, err = cli(capsys, "inspect", model)
    assert code == 0, err
    assert "targets 'y1', 'y2'" in out
    assert "training losses are on the standardised targets, each on its own" in out
    code, out, err = cli(capsys, "draw", model, "--out", tmp_path / "n.svg")
    assert code == 0, err
    drawing = (tmp_path / "n.svg").read_text()
    for name in ("y1", "y2"):  # (an output labelled by each target)
        assert f">{name}</text>" in drawing, name
    # (explain walks it: tests/cli/test_multi_target_explain_cli.py; without --target it
    # asks for one value per target)
    code, out, err = cli(capsys, "explain", "--model", model, "--input", "0,0,1,0")
    lines = err.strip().splitlines()
    assert code == 2 and lines[-1].startswith("error: --model ") and out == ""
    assert "(2 numbers, one per target: y1, y2, e.g. --target 1.5,1.5)" in lines[-1]


def test_a_single_target_file_keeps_its_format(houses_csv, tmp_path) -> None:
    out = tmp_path / "price.safetensors"
    argv = ["train", houses_csv, "--target", "price", "--epochs", "3", "--quiet", "--out", out]
    assert main([str(a) for a in argv]) == 0
    header = metadata(out)
    pre = header["preprocessing"]
    # (the keys and types deltarule wrote before several targets existed)
    assert set(pre) == {"type", "version", "target", "task", "impute", "classes", "columns"}
    assert pre["target"] == "price" and (pre["type"], pre["version"]) == ("tabular", 1)
    summary = header["training"]["summary"]
    assert set(summary) == {"epochs", "stop_reason", "best_epoch", "final", "data", "rows",
                            "seconds", "validation_metrics", "target_standardisation",
                            "note", "settings"}  # fmt: skip
    assert set(summary["validation_metrics"]) == {"mse", "mae", "r2"}
    record = summary["target_standardisation"]
    assert set(record) == {"mean", "std"}
    assert all(isinstance(record[key], float) for key in ("mean", "std"))


def test_a_column_named_with_a_comma_is_one_target(tmp_path) -> None:
    table = two_targets(120)
    table["y1,y2"] = table["y1"] - table["y2"]
    data, out = tmp_path / "comma.csv", tmp_path / "comma.safetensors"
    table.to_csv(data, index=False)
    argv = ["train", data, "--target", "y1,y2", "--drop", "y1", "--epochs", "2", "--quiet",
            "--out", out]  # fmt: skip
    assert main([str(a) for a in argv]) == 0
    assert metadata(out)["preprocessing"]["target"] == "y1,y2"
    assert metadata(out)["architecture"]["layer_sizes"][-1] == 1


@pytest.mark.parametrize(
    ("target", "extra", "said"),
    [
        ("y1,y2", ["--task", "classification"], "received --task classification"),
        ("y1,label", [], "the target 'label' (one of the targets 'y1', 'label') holds text"),
        ("y1,gap", [], "the target column 'gap' is missing a value at line 4"),
        ("y1,nope", [], "--target names 1 column(s) the data does not have: 'nope'"),
        ("y1,,y2", [], "--target 'y1,,y2' has an empty column name"),
        ("y1,y1", [], "--target 'y1,y1' names a column twice"),  # (was: y1 alone, y2 a feature)
        ("y1,y2, y1", [], "--target 'y1,y2, y1' names a column twice"),
    ],
    ids=["classification", "text", "missing", "unknown", "empty name", "twice", "twice spaced"],
)
def test_refused_targets_say_one_error_line(target, extra, said, tmp_path, capsys) -> None:
    table = two_targets(60)
    table["label"] = np.where(table["a"] > 0, "hi", "lo")
    table["gap"] = table["y2"].where(table.index != 2)
    data = tmp_path / "bad.csv"
    table.to_csv(data, index=False)
    code, out, err = cli(capsys, "train", data, "--target", target, *extra, "--epochs", "1",
                         "--out", tmp_path / "m.safetensors")  # fmt: skip
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert said in lines[0]
    assert not (tmp_path / "m.safetensors").exists()


@pytest.mark.parametrize(
    ("targets", "said"),
    [
        (["y1"], "the target list ['y1'] has 1 name(s); expected two or more"),
        (["y1", "y1"], "the target list names 'y1' twice"),
        (["y1", 2.5], "the target list holds 2.5, not a column name"),
        (["y1", "a"], "the target 'a' is also a feature column"),
    ],
    ids=["one", "twice", "not a name", "a feature"],
)
def test_a_malformed_targets_list_is_refused_by_name(trained, targets, said, tmp_path, capsys):
    data, model, _ = trained
    loaded = load_model(model)
    damaged = tmp_path / "damaged.safetensors"
    preprocessing = {**loaded.preprocessing, "target": targets}
    save_model(loaded.network, damaged, preprocessing=preprocessing, training=loaded.training)
    code, out, err = cli(capsys, "predict", damaged, data)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert said in lines[0] and "malformed" in lines[0]


def test_test_split_epochs_auto_and_plot(tmp_path, capsys) -> None:
    data = tmp_path / "multi.csv"
    two_targets(200).to_csv(data, index=False)
    code, out, err = cli(capsys, "train", data, "--target", "y1,y2", "--test-split", "0.2",
                         "--epochs", "auto", "--hidden", "8", "--plot", tmp_path / "c.png",
                         "--out", tmp_path / "m.safetensors")  # fmt: skip
    assert code == 0, err
    assert out.startswith("test r2: ") and "(40 rows; each the mean over the targets y1 (" in out
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    summary = metadata(tmp_path / "m.safetensors")["training"]["summary"]
    assert set(summary["test_metrics"]["per_target"]) == {"y1", "y2"}
    assert summary["settings"]["test_split"] == 0.2 and summary["settings"]["epochs_auto"]


def test_a_killed_multi_target_run_resumes_bitwise_identical(tmp_path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 12))
    table = pd.DataFrame(X, columns=[f"x{i}" for i in range(12)])
    table["y1"] = 1000 + 50 * X[:, 0] - 20 * X[:, 1] + rng.normal(0, 1, 3000)
    table["y2"] = 0.01 * np.tanh(X[:, 2] * X[:, 3])
    data = tmp_path / "big.csv"
    table.to_csv(data, index=False)
    argv = ["train", str(data), "--target", "y1,y2", "--hidden", "64,64", "--epochs", "12",
            "--batch-size", "16", "--patience", "4", "--seed", "3"]  # fmt: skip
    reference = tmp_path / "reference.safetensors"
    assert main([*argv, "--quiet", "--out", str(reference)]) == 0
    folder, out = tmp_path / "run", tmp_path / "m.safetensors"
    status = run_until_epoch([*argv, "--out", str(out), "--checkpoint", str(folder)], 3,
                             signal.SIGINT)  # fmt: skip
    assert status == 128 + signal.SIGINT
    assert main(["train", "--resume", str(folder), "--quiet", "--out", str(out)]) == 0
    expected, resumed = load_model(reference), load_model(out)
    assert resumed.network.parameters.tobytes() == expected.network.parameters.tobytes()
    assert resumed.preprocessing["target"] == ["y1", "y2"]
    summary = resumed.training["summary"]
    assert (
        summary["target_standardisation"] == expected.training["summary"]["target_standardisation"]
    )
