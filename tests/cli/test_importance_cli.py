"""``deltarule importance``: permutation importance of DATA's raw columns, equal to
permutations re-drawn here and scored by scikit-learn; formats, plot, seeds, refusals."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, r2_score

from deltarule.cli._common import load_model_file

from .cli_helpers import cli

IRIS_FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


@pytest.fixture
def iris_model(capsys, in_tmp):
    assert cli(capsys, "data", "iris", "--out", "iris.csv")[0] == 0
    argv = ["--epochs", "20", "--learning-rate", "0.01", "--quiet", "--out", "model.safetensors"]
    code, _, err = cli(capsys, "train", "iris.csv", "--target", "species", *argv)
    assert code == 0, err
    return in_tmp


def _oracle(
    path: str, data: str, target: str, seed: int, repeats: int, score, *, proba: bool = False
) -> dict:
    """Each column's importances, from permutations of the raw rows drawn here (a raw
    column shuffled whole, then the table encoded again) and the model's labels (or values;
    with ``proba``, its class probabilities) scored by ``score(truth, predicted)``, a
    scikit-learn metric: a score (baseline - score) unless its name says an error (``loss``
    or ``error``: score - baseline)."""
    model = load_model_file(path)
    frame = pd.read_csv(data)
    truth = frame[target].to_numpy()

    def predicted(table: pd.DataFrame) -> np.ndarray:
        outputs = model.network.predict(model.features(table))
        return model.proba(outputs) if proba else model.labels(outputs)

    name = getattr(score, "__name__", "")
    sign = -1.0 if "loss" in name or "error" in name else 1.0
    baseline = score(truth, predicted(frame))
    rng = np.random.default_rng(seed)
    found = {}
    for column in model.pre.feature_names:
        values = []
        for _ in range(repeats):
            shuffled = frame.copy()
            shuffled[column] = frame[column].to_numpy()[rng.permutation(len(frame))]
            values.append(sign * (baseline - score(truth, predicted(shuffled))))
        found[column] = values
    return {"baseline": baseline, "importances": found}


def _log_loss(classes: list) -> Any:
    """scikit-learn's log loss of class probabilities, its columns ``classes``."""
    from sklearn.metrics import log_loss

    def log_loss_of(truth: np.ndarray, probabilities: np.ndarray) -> float:
        rows = probabilities.astype(np.float64)  # (float32 rows sum to 1 within 1e-7)
        return log_loss(truth, rows / rows.sum(axis=1, keepdims=True), labels=classes)

    return log_loss_of


def _check(report: dict, want: dict, rtol: float = 0.0, atol: float = 1e-12) -> None:
    """A JSON report's baseline and each column's importances, against the oracle's."""
    assert report["baseline"] == pytest.approx(want["baseline"], rel=rtol, abs=atol)
    assert sorted(c["column"] for c in report["columns"]) == sorted(want["importances"])
    for column in report["columns"]:
        repeats = want["importances"][column["column"]]
        np.testing.assert_allclose(column["importances"], repeats, rtol=rtol, atol=atol)
        assert column["mean"] == pytest.approx(np.mean(column["importances"]), abs=1e-15)
        assert column["std"] == pytest.approx(np.std(column["importances"]), abs=1e-15)


def _mixed(path: str) -> pd.DataFrame:
    """Three classes from numbers (one with missing cells), a text column of four
    categories (one cell missing) and a noise column: numeric, one-hot and imputed inputs."""
    rng = np.random.default_rng(3)
    n = 90
    frame = pd.DataFrame({
        "size": rng.normal(size=n),
        "colour": rng.choice(["red", "green", "blue", "grey"], n),
        "weight": rng.normal(size=n),
        "noise": rng.normal(size=n),
    })  # fmt: skip
    score = frame["size"] + (frame["colour"] == "red") * 1.5 - frame["weight"]
    frame["kind"] = np.where(score > 0.8, "high", np.where(score < -0.5, "low", "mid"))
    frame.loc[[3, 17, 40], "weight"] = np.nan
    frame.loc[5, "colour"] = np.nan
    frame.to_csv(path, index=False)
    return frame


def test_csv_equals_permutations_scored_by_scikit_learn(capsys, iris_model):
    code, out, err = cli(capsys, "importance", "model.safetensors", "iris.csv", "--format",
                         "csv", "--repeats", "3", "--seed", "4")  # fmt: skip
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == ["column", "importance_mean", "importance_std",
                                   "repeat_1", "repeat_2", "repeat_3"]  # fmt: skip
    assert sorted(table["column"]) == sorted(IRIS_FEATURES)
    assert list(table["importance_mean"]) == sorted(table["importance_mean"], reverse=True)
    want = _oracle("model.safetensors", "iris.csv", "species", 4, 3, accuracy_score)
    for _, row in table.iterrows():
        repeats = want["importances"][row["column"]]
        np.testing.assert_allclose(row[["repeat_1", "repeat_2", "repeat_3"]].to_numpy(float),
                                   repeats, atol=1e-12)  # fmt: skip
        assert row["importance_mean"] == pytest.approx(np.mean(repeats), abs=1e-12)
        assert row["importance_std"] == pytest.approx(np.std(repeats), abs=1e-12)


def test_text_names_the_scoring_baseline_repeats_and_seed(capsys, iris_model):
    code, out, _ = cli(capsys, "importance", "model.safetensors", "iris.csv", "--seed", "2")
    lines = out.splitlines()
    want = _oracle("model.safetensors", "iris.csv", "species", 2, 5, accuracy_score)
    assert code == 0 and lines[0] == "classification of 'species' on 150 rows"
    assert "accuracy" in lines[1] and "5 repeats, seed 2" in lines[1]
    assert f"baseline accuracy {want['baseline']:.4g}" in lines[1]
    assert lines[2].split() == ["column", "importance", "std"]
    means = {name: np.mean(values) for name, values in want["importances"].items()}
    best = max(means, key=means.get)
    assert lines[3].startswith(best) and "±" in lines[3] and len(lines) == 7


def test_json_holds_everything_and_the_seed_decides(capsys, iris_model):
    argv = ["importance", "model.safetensors", "iris.csv", "--repeats", "2"]
    code, out, _ = cli(capsys, *argv, "--format", "json", "--seed", "1")
    report = json.loads(out)
    assert code == 0 and report["scoring"] == "accuracy" and report["seed"] == 1
    assert report["n_repeats"] == 2 and report["rows"] == 150 and report["target"] == "species"
    assert report["greater_is_better"] is True and report["importance"] == "baseline - score"
    _check(report, _oracle("model.safetensors", "iris.csv", "species", 1, 2, accuracy_score))
    code, csv_out, _ = cli(capsys, *argv, "--format", "csv", "--seed", "1")
    # (read by Python's float: pandas 2's parsers may miss the last bit of a repr)
    table = list(csv.DictReader(io.StringIO(csv_out)))
    assert [row["column"] for row in table] == [c["column"] for c in report["columns"]]
    assert [[float(row["repeat_1"]), float(row["repeat_2"])] for row in table] == [
        c["importances"] for c in report["columns"]
    ]  # (the same numbers, to the last bit)
    assert [float(row["importance_mean"]) for row in table] == [
        c["mean"] for c in report["columns"]
    ]
    assert cli(capsys, *argv, "--format", "json", "--seed", "1")[1] == out
    assert cli(capsys, *argv, "--format", "json", "--seed", "7")[1] != out
    assert cli(capsys, *argv, "--out", "imp.json", "--seed", "1", "--quiet")[0] == 0
    assert (iris_model / "imp.json").read_text() == out


def test_an_error_scoring_counts_its_increase(capsys, iris_model):
    code, out, _ = cli(capsys, "importance", "model.safetensors", "iris.csv", "--scoring",
                       "log_loss", "--format", "json", "--seed", "3")  # fmt: skip
    report = json.loads(out)
    assert code == 0 and report["scoring"] == "log_loss"
    assert report["greater_is_better"] is False and report["importance"] == "score - baseline"
    classes = load_model_file("model.safetensors").pre.classes
    want = _oracle("model.safetensors", "iris.csv", "species", 3, 5, _log_loss(classes),
                   proba=True)  # fmt: skip
    _check(report, want, rtol=1e-6, atol=1e-6)  # (float32 probabilities, renormalised)
    assert report["columns"][0]["mean"] > 0.01


def test_a_sigmoid_binary_model_equals_the_oracle(capsys, in_tmp):
    """Two classes: one sigmoid output (a 0/1 target column), scored by accuracy, log loss
    and ROC AUC as scikit-learn scores its labels and probabilities."""
    from sklearn.metrics import roc_auc_score

    frame = _mixed("mixed.csv")
    frame["kind"] = np.where(frame["kind"] == "high", "high", "other")
    frame.to_csv("binary.csv", index=False)
    code, _, err = cli(capsys, "train", "binary.csv", "--target", "kind", "--impute", "mean",
                       "--epochs", "40", "--quiet", "--out", "model.safetensors")  # fmt: skip
    assert code == 0, err
    model = load_model_file("model.safetensors")
    assert model.network.n_outputs == 1 and model.network.layers[-1].activation.name == "sigmoid"

    def auc(truth: np.ndarray, probabilities: np.ndarray) -> float:
        return roc_auc_score(truth == model.pre.classes[1], probabilities[:, 1])

    oracles = [("accuracy", accuracy_score, False), ("roc_auc", auc, True),
               ("log_loss", _log_loss(model.pre.classes), True)]  # fmt: skip
    for scoring, score, proba in oracles:
        code, out, err = cli(capsys, "importance", "model.safetensors", "binary.csv",
                             "--scoring", scoring, "--repeats", "3", "--seed", "5",
                             "--format", "json")  # fmt: skip
        assert code == 0, err
        want = _oracle("model.safetensors", "binary.csv", "kind", 5, 3, score, proba=proba)
        exact = scoring == "accuracy"
        _check(json.loads(out), want, rtol=0 if exact else 1e-6, atol=1e-12 if exact else 1e-6)


def test_plot_is_a_png_image(capsys, iris_model):
    code, _, err = cli(capsys, "importance", "model.safetensors", "iris.csv", "--plot",
                       "imp.png", "--out", "imp.txt")  # fmt: skip
    assert code == 0 and "wrote imp.png" in err and "wrote imp.txt" in err
    data = (iris_model / "imp.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 2000
    from matplotlib.image import imread

    assert imread(iris_model / "imp.png").ndim == 3


def test_plot_is_an_svg_image_of_the_top_columns(capsys, iris_model):
    """--plot-top 2 draws two bars fewer than --plot-top 0 (all four columns)."""
    from xml.etree import ElementTree

    bars = {}
    for top in ("0", "2"):
        code, _, err = cli(capsys, "importance", "model.safetensors", "iris.csv", "--plot",
                           f"imp{top}.svg", "--plot-top", top, "--quiet")  # fmt: skip
        assert code == 0 and err == "", err
        root = ElementTree.parse(iris_model / f"imp{top}.svg").getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        groups = root.iter("{http://www.w3.org/2000/svg}g")
        bars[top] = sum(group.get("id", "").startswith("patch_") for group in groups)
    assert bars["0"] - bars["2"] == 2


def test_a_text_column_is_shuffled_as_one_column(capsys, in_tmp):
    """The text column 'colour' (one-hot, four inputs) is shuffled whole: its raw rows
    permuted, then encoded (the oracle), not each input on its own."""
    _mixed("mixed.csv")
    cli(capsys, "train", "mixed.csv", "--target", "kind", "--impute", "mean", "--epochs", "40",
        "--quiet", "--out", "model.safetensors")  # fmt: skip
    code, out, err = cli(capsys, "importance", "model.safetensors", "mixed.csv", "--format",
                         "json", "--repeats", "3", "--seed", "2")  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert sorted(c["column"] for c in report["columns"]) == ["colour", "noise", "size", "weight"]
    want = _oracle("model.safetensors", "mixed.csv", "kind", 2, 3, accuracy_score)
    _check(report, want)
    colour = next(c for c in report["columns"] if c["column"] == "colour")
    assert colour["mean"] > 0  # (red moves a row up a class: shuffling it costs accuracy)


def test_regression_is_scored_by_r2(capsys, in_tmp, houses_csv):
    cli(capsys, "train", houses_csv, "--target", "price", "--epochs", "30", "--quiet",
        "--out", "model.safetensors")  # fmt: skip
    code, out, _ = cli(capsys, "importance", "model.safetensors", houses_csv, "--format",
                       "csv", "--repeats", "2", "--seed", "3")  # fmt: skip
    assert code == 0
    table = pd.read_csv(io.StringIO(out)).set_index("column")
    want = _oracle("model.safetensors", houses_csv, "price", 3, 2, r2_score)
    for name, repeats in want["importances"].items():
        np.testing.assert_allclose(table.loc[name, ["repeat_1", "repeat_2"]].to_numpy(float),
                                   repeats, rtol=1e-6, atol=1e-9)  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--repeats", "0"], "error: --repeats 0 is out of range; expected an integer >= 1"),
        (["--seed", "-3"], "error: --seed -3 is out of range"),
        (["--plot-top", "-1"], "error: --plot-top -1 is out of range; expected an integer >= 1"),
        (["--scoring", "accuracy_typo"], "error: --scoring 'accuracy_typo' is not a metric"),
        (["--plot", "imp.pdf"], "error: cannot tell the image format of 'imp.pdf'"),
        (["--out", "imp.md"], "error: --out imp.md: its extension .md means Markdown"),
    ],
)
def test_bad_options_are_one_line_errors(capsys, iris_model, extra, message):
    code, out, err = cli(capsys, "importance", "model.safetensors", "iris.csv", *extra)
    assert (code, out) == (2, "") and err.startswith(message) and err.count("\n") == 1
    assert not (iris_model / "imp.pdf").exists()


def test_missing_target_and_plain_model_are_refused(capsys, iris_model):
    pd.read_csv("iris.csv").drop(columns="species").to_csv("unlabelled.csv", index=False)
    code, _, err = cli(capsys, "importance", "model.safetensors", "unlabelled.csv")
    assert code == 2 and "no target column 'species', which importance scores" in err
    import deltarule as dr
    from deltarule.io import save_model

    net = dr.Network([4, 3, 3], output_activation="softmax", loss="categorical_crossentropy")
    save_model(net, "plain.safetensors")
    code, _, err = cli(capsys, "importance", "plain.safetensors", "iris.csv")
    assert code == 2 and "no target column 'y'" in err and "--target COLUMN" in err
    code, _, err = cli(capsys, "importance", "plain.safetensors", "iris.csv", "--target",
                       "species")  # fmt: skip
    assert code == 2 and "lacks 4 column(s)" in err and "'x0'" in err
    with pytest.raises(dr.InputError, match="no target column 'y'"):  # (--debug: raised)
        cli(capsys, "--debug", "importance", "plain.safetensors", "iris.csv")


def test_listed_in_help(capsys):
    code, out, _ = cli(capsys, "--help")
    assert code == 0 and "importance" in out
    code, out, _ = cli(capsys, "importance", "--help")
    assert code == 0 and "--repeats" in out and "--scoring" in out and "--plot" in out


@pytest.mark.parametrize("scoring", ["accuracy", "f1", "balanced_accuracy", "roc_auc"])
def test_a_class_metric_of_a_regression_is_refused(capsys, in_tmp, houses_csv, scoring):
    cli(capsys, "train", houses_csv, "--target", "price", "--epochs", "5", "--quiet",
        "--out", "model.safetensors")  # fmt: skip
    code, out, err = cli(capsys, "importance", "model.safetensors", houses_csv, "--scoring",
                         scoring)  # fmt: skip
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith(f"error: metrics [{scoring!r}] score class predictions, but the "
                          "targets are numbers")  # fmt: skip


def test_encoding_once_equals_encoding_each_shuffle(capsys, in_tmp, monkeypatch):
    """The shuffled blocks of inputs give the very numbers of shuffling the raw column and
    encoding the whole table again (the implementation before), and DATA is encoded once."""
    from deltarule import permutation_importance
    from deltarule.preprocessing import TabularPreprocessor

    _mixed("mixed.csv")
    code, _, err = cli(capsys, "train", "mixed.csv", "--target", "kind", "--impute", "mean",
                       "--epochs", "30", "--quiet", "--out", "model.safetensors")  # fmt: skip
    assert code == 0, err
    model = load_model_file("model.safetensors")
    assert model.pre.output_positions == {"size": [0], "colour": [1, 2, 3, 4],
                                          "weight": [5], "noise": [6]}  # fmt: skip
    calls = []
    real = TabularPreprocessor.transform
    monkeypatch.setattr(TabularPreprocessor, "transform",
                        lambda self, *a, **k: calls.append(1) or real(self, *a, **k))  # fmt: skip
    argv = ["--scoring", "log_loss", "--repeats", "4", "--seed", "9", "--format", "json"]
    code, out, err = cli(capsys, "importance", "model.safetensors", "mixed.csv", *argv)
    assert code == 0, err
    assert len(calls) == 1  # (not 1 + 4 columns x 4 repeats)
    monkeypatch.setattr(TabularPreprocessor, "transform", real)
    frame = pd.read_csv("mixed.csv", keep_default_na=True)
    features = model.pre.feature_names

    def encoded_again(table: pd.DataFrame) -> np.ndarray:
        return model.scores(model.network.predict(model.features(table)))

    before = permutation_importance(
        encoded_again, frame[features], model.targets(frame["kind"]), scoring="log_loss",
        n_repeats=4, seed=9, task="classification",
    )  # fmt: skip
    report = {c["column"]: c["importances"] for c in json.loads(out)["columns"]}
    assert json.loads(out)["baseline"] == before.baseline
    for j, name in enumerate(before.columns):
        assert report[name] == before.importances[j].tolist(), name
