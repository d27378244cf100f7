"""``deltarule evaluate`` (scores equal scikit-learn's) and ``deltarule inspect``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from deltarule.cli._common import load_model_file
from deltarule.io import load_model

from .cli_helpers import cli, flowers, houses


@pytest.fixture
def flower_model(capsys, in_tmp, flowers_csv):
    code, _, _ = cli(capsys, "train", flowers_csv, "--target", "species", "--epochs", "3",
                     "--quiet", "--out", "model.safetensors")  # fmt: skip
    assert code == 0
    flowers(seed=5).to_csv("test.csv", index=False)
    return load_model_file("model.safetensors")


def test_classification_metrics_equal_scikit_learn(capsys, flower_model):
    code, out, _ = cli(capsys, "evaluate", "model.safetensors", "test.csv", "--format", "json")
    report = json.loads(out)
    frame = flowers(seed=5)
    proba = flower_model.network.predict(flower_model.features(frame))
    classes = flower_model.pre.classes
    truth, predicted = frame["species"].to_numpy(), flower_model.labels(proba)
    assert code == 0 and report["rows"] == 60 and report["task"] == "classification"
    got = report["metrics"]
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(truth, predicted))
    assert got["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(truth, predicted))
    assert got["f1_macro"] == pytest.approx(skm.f1_score(truth, predicted, average="macro"))
    assert got["log_loss"] == pytest.approx(skm.log_loss(truth, proba, labels=classes), rel=1e-5)
    want = skm.roc_auc_score(truth, proba / proba.sum(axis=1, keepdims=True), labels=classes,
                             multi_class="ovr")  # fmt: skip
    assert got["roc_auc"] == pytest.approx(want, rel=1e-5)
    assert report["confusion_matrix"]["labels"] == classes
    expected = skm.confusion_matrix(truth, predicted, labels=classes).tolist()
    assert report["confusion_matrix"]["matrix"] == expected


def test_text_report_prints_the_confusion_table(capsys, flower_model):
    code, out, _ = cli(capsys, "evaluate", "model.safetensors", "test.csv")
    assert code == 0
    assert "balanced accuracy" in out and "macro F1" in out and "log loss" in out
    table = out.split("confusion matrix:\n")[1].splitlines()
    assert table[0].split() == ["true", "\\", "predicted", "setosa", "versicolor", "virginica"]
    assert [row.split()[0] for row in table[1:4]] == ["setosa", "versicolor", "virginica"]
    assert sum(int(v) for row in table[1:4] for v in row.split()[1:]) == 60


def test_binary_log_loss_equals_scikit_learn(capsys, in_tmp):
    flowers().query("species != 'setosa'").to_csv("two.csv", index=False)
    cli(capsys, "train", "two.csv", "--target", "species", "--epochs", "2", "--quiet")
    code, out, _ = cli(capsys, "evaluate", "two.safetensors", "two.csv", "--format", "json")
    model = load_model_file("two.safetensors")
    frame = flowers().query("species != 'setosa'")
    p = model.network.predict(model.features(frame))[:, 0]
    truth = frame["species"].to_numpy()
    got = json.loads(out)["metrics"]
    assert code == 0
    assert got["log_loss"] == pytest.approx(skm.log_loss(truth, p, labels=model.pre.classes))
    assert got["f1_macro"] == pytest.approx(
        skm.f1_score(truth, model.labels(p[:, None]), average="macro")
    )


def test_regression_metrics_equal_scikit_learn(capsys, in_tmp, houses_csv):
    cli(capsys, "train", houses_csv, "--target", "price", "--epochs", "30", "--quiet")
    houses(seed=4).to_csv("test.csv", index=False)
    code, out, _ = cli(capsys, "evaluate", "houses.safetensors", "test.csv", "--format", "json",
                       "--plot", "fit.png")  # fmt: skip
    model = load_model_file("houses.safetensors")
    frame = houses(seed=4)
    predicted = model.network.predict(model.features(frame))[:, 0].astype(np.float64)
    truth = frame["price"].to_numpy()
    got = json.loads(out)["metrics"]
    assert code == 0 and set(got) == {"mse", "mae", "r2"}
    assert got["mse"] == pytest.approx(skm.mean_squared_error(truth, predicted))
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(truth, predicted))
    assert got["r2"] == pytest.approx(skm.r2_score(truth, predicted))
    assert (in_tmp / "fit.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_plots_the_confusion_matrix(capsys, flower_model, in_tmp):
    code, _, _ = cli(capsys, "evaluate", "model.safetensors", "test.csv", "--plot", "cm.svg")
    assert code == 0 and "<svg" in (in_tmp / "cm.svg").read_text()


def test_inspect_parameter_counts_equal_the_layer_math(capsys, in_tmp, flowers_csv):
    cli(capsys, "train", flowers_csv, "--target", "species", "--hidden", "7,5", "--epochs", "2",
        "--quiet")  # fmt: skip
    code, out, _ = cli(capsys, "inspect", "flowers.safetensors", "--format", "json")
    info = json.loads(out)
    sizes = [4, 7, 5, 3]
    expected = [n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    assert code == 0
    assert [layer["parameters"] for layer in info["layers"]] == expected == [35, 40, 18]
    assert info["total_parameters"] == sum(expected) == 93
    assert [layer["activation"] for layer in info["layers"]] == ["relu", "relu", "softmax"]
    assert info["dtype"] == "float32" and info["loss"] == "categorical_crossentropy"
    assert info["format_version"] == 1 and info["classes"] == ["setosa", "versicolor", "virginica"]
    columns = info["preprocessing"]["columns"]
    assert [c["name"] for c in columns] == ["length", "width", "colour"]
    assert columns[2]["categories"] == ["blue", "red"]
    assert info["training"]["epochs"] == 2 and info["training"]["data"] == "flowers.csv"


def test_inspect_text_looks_like_a_keras_summary(capsys, in_tmp, flowers_csv):
    cli(capsys, "train", flowers_csv, "--target", "species", "--epochs", "2", "--quiet")
    code, out, _ = cli(capsys, "inspect", "flowers.safetensors")
    assert code == 0
    assert "format version 1" in out
    assert "dense1    4 -> 64         relu" in out and "320" in out
    assert "dense2    64 -> 3         softmax" in out and "195" in out
    assert "total parameters: 515 (0 frozen), dtype float32" in out
    assert "classes (3): setosa, versicolor, virginica" in out
    assert "colour" in out and "one-hot of blue, red" in out
    assert "training: 2 epochs on flowers.csv (60 rows" in out and "settings:" in out


# --- QA findings: R² of one row, text from the data, report and plot together -------------


def test_r2_of_one_row_is_undefined_with_the_reason(capsys, in_tmp, houses_csv):
    cli(capsys, "train", houses_csv, "--target", "price", "--epochs", "2", "--quiet")
    houses(seed=4).head(1).to_csv("one.csv", index=False)
    code, out, _ = cli(capsys, "evaluate", "houses.safetensors", "one.csv")
    assert code == 0 and "R²                undefined (R² needs at least 2 rows)" in out
    code, out, _ = cli(capsys, "evaluate", "houses.safetensors", "one.csv", "--format", "json")
    report = json.loads(out)  # (strict JSON: null, not NaN)
    assert code == 0 and report["metrics"]["r2"] is None
    assert report["undefined"] == {"r2": "R² needs at least 2 rows"}
    code, _, err = cli(capsys, "evaluate", "houses.safetensors", "one.csv", "--plot", "one.svg")
    assert code == 0, err


@pytest.fixture
def math_model(capsys, in_tmp):
    frame = flowers()
    frame["species"] = frame["species"].map({"setosa": r"$\frac$", "versicolor": "$5-$10",
                                             "virginica": "c"})  # fmt: skip
    frame.to_csv("math.csv", index=False)
    code, _, _ = cli(capsys, "train", "math.csv", "--target", "species", "--epochs", "2",
                     "--quiet", "--out", "m.safetensors")  # fmt: skip
    assert code == 0
    return in_tmp


def test_class_names_with_dollars_are_plotted_as_written(capsys, math_model):
    code, _, err = cli(capsys, "evaluate", "m.safetensors", "math.csv", "--plot", "m.svg",
                       "--out", "m.txt")  # fmt: skip
    assert code == 0, err  # (was: m.txt written, then a mathtext ParseSyntaxException)
    assert "$5-$10" in (math_model / "m.txt").read_text()
    assert "<!-- $\\frac$ -->" in (math_model / "m.svg").read_text()


def test_a_plot_that_cannot_be_drawn_leaves_neither_file(capsys, math_model, monkeypatch):
    import deltarule.plots

    def broken(*args, **kwargs):  # noqa: ANN202
        raise ValueError("cannot draw")

    monkeypatch.setattr(deltarule.plots, "render_figure", broken)
    before = sorted(p.name for p in math_model.iterdir())
    code, _, err = cli(capsys, "evaluate", "m.safetensors", "math.csv", "--plot", "m.svg",
                       "--out", "m.txt")  # fmt: skip
    assert code == 2 and err == "error: cannot draw\n"
    assert sorted(p.name for p in math_model.iterdir()) == before


def test_inspect_shows_a_long_stop_reason_whole(capsys, tmp_path, monkeypatch):
    # (cut at 80 characters: "no improvement ... (best 0.665273 at epo...")
    import deltarule as dr
    from deltarule.io import save_model

    monkeypatch.chdir(tmp_path)
    reason = "no improvement of val_loss by more than 0 for 10 epochs (best 0.665273 at epoch 48)"
    summary = {"epochs": 58, "data": "d.csv", "rows": 10, "stop_reason": reason}
    save_model(dr.Network([2, 1], seed=0), "m.safetensors", training={"summary": summary})
    code, out, _ = cli(capsys, "inspect", "m.safetensors")
    assert code == 0 and f"stopped: {reason}\n" in out


def test_inspect_writes_a_negative_mean_as_an_addition(capsys, in_tmp):
    # (a column with a negative mean printed "(x - -0.0107538)")
    rng = np.random.default_rng(0)
    frame = flowers()
    frame["shift"] = rng.normal(-3.25, 1.0, len(frame))  # a negative mean
    frame.to_csv("neg.csv", index=False)
    code, _, _ = cli(capsys, "train", "neg.csv", "--target", "species", "--epochs", "1",
                     "--quiet", "--out", "neg.safetensors")  # fmt: skip
    assert code == 0
    columns = {c["name"]: c for c in load_model_file("neg.safetensors").pre.columns}
    mean, std = columns["shift"]["mean"], columns["shift"]["std"]
    assert mean < 0 and columns["length"]["mean"] > 0
    code, out, _ = cli(capsys, "inspect", "neg.safetensors")
    assert code == 0
    line = next(x for x in out.splitlines() if x.strip().startswith("shift"))
    assert line.endswith(f"numeric      (x + {-mean:.6g}) / {std:.6g}")
    assert "- -" not in out
    length = next(x for x in out.splitlines() if x.strip().startswith("length"))
    assert f"(x - {columns['length']['mean']:.6g})" in length


def test_inspect_writes_the_training_history_as_csv(capsys, in_tmp, flowers_csv):
    # (QA as a Keras user: no CSV of the epochs, Keras's CSVLogger file, from the CLI)
    code, _, err = cli(capsys, "train", flowers_csv, "--target", "species", "--epochs", "4",
                       "--patience", "0", "--quiet", "--out", "m.safetensors",
                       "--checkpoint", "run")  # fmt: skip
    assert code == 0, err
    history = load_model(in_tmp / "m.safetensors").training["history"]
    for model in ("m.safetensors", "run/checkpoint.safetensors"):
        code, _, err = cli(capsys, "inspect", model, "--out", "history.csv")
        assert code == 0, err
        # (pandas 2's default float parser can miss by a unit in the last place)
        exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
        table = pd.read_csv(in_tmp / "history.csv", **exact)
        assert list(table.columns) == list(history)
        assert table["epoch"].tolist() == [1, 2, 3, 4]
        for column in ("loss", "val_loss", "accuracy", "val_accuracy", "learning_rate"):
            np.testing.assert_array_equal(table[column].to_numpy(), history[column])
    from deltarule import Network
    from deltarule.io import save_model

    save_model(Network([4, 3]), in_tmp / "plain.safetensors")
    code, out, err = cli(capsys, "inspect", "plain.safetensors", "--format", "csv")
    assert code == 2 and "keeps no training history (a network saved from Python)" in err


def test_evaluate_plots_name_the_target_and_its_score(capsys, flower_model, monkeypatch):
    # (a visual QA pass: the axes said only "true" and "predicted", with no R² or accuracy)
    import deltarule.plots as plots

    drawn = []
    original = plots.render_figure

    def keep(figure, path):
        drawn.append(figure)
        return original(figure, path)

    monkeypatch.setattr(plots, "render_figure", keep)
    code, out, err = cli(capsys, "evaluate", "model.safetensors", "test.csv", "--plot", "c.png")
    assert code == 0, err
    title = drawn[-1].axes[0].get_title()
    assert title.startswith("species: 60 rows, accuracy ") and float(title.split()[-1]) <= 1
    figure = plots.regression_figure([1.0, 2.0, 3.0], [1.1, 1.9, 3.2], title="t", name="price")
    ax = figure.axes[0]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == (
        "t", "true price", "predicted price")  # fmt: skip


def test_inspect_csv_of_an_empty_or_growing_history():
    # (a review: a run that diverged in its first epoch was said to be "a train file" with
    # no history, and checkpoint records that gained a column were refused)
    from deltarule.cli.inspect import history_csv
    from deltarule.exceptions import InputError

    with pytest.raises(InputError, match="a training history of no epochs"):
        history_csv({"history": {}, "kind": "train"}, "m.safetensors")
    base = {"loss": 0.5, "val_loss": None, "metrics": {}, "val_metrics": {},
            "learning_rate": 0.1, "gradient_norm": 1.0, "seconds": 0.1}  # fmt: skip
    records = [{**base, "epoch": 1}, {**base, "epoch": 2, "metrics": {"accuracy": 0.5}}]
    text = history_csv({"history": records, "kind": "checkpoint"}, "c.safetensors")
    lines = text.splitlines()
    assert lines[0].endswith(",accuracy") and lines[1].endswith(",") and lines[2].endswith(",0.5")


def test_inspect_lines_up_long_names_quotes_categories_with_commas_and_rounds_fills(capsys, in_tmp):
    """A name longer than the column ran into its kind ('...diluted_winesnumeric'), cities
    written 'Köln, DE' read as two categories each, and a mean fill showed float noise
    (1.8650000000000002; found by a QA pass with messy tables)."""
    rng = np.random.default_rng(1)
    frame = flowers()
    long = "od280/od315_of_diluted_wines"
    frame[long] = rng.normal(1.0, 0.1, len(frame))
    frame["city"] = rng.choice(["Köln, DE", "Malmö, SE"], len(frame))
    frame["sized"] = [1.865 + i * 0.3 for i in range(len(frame))]
    frame.loc[3, "sized"] = np.nan
    frame.to_csv("long.csv", index=False)
    code, _, err = cli(capsys, "train", "long.csv", "--target", "species", "--epochs", "1",
                       "--impute", "mean", "--quiet", "--out", "long.safetensors")  # fmt: skip
    assert code == 0, err
    fill = load_model_file("long.safetensors").pre.columns[-1]["fill"]
    code, out, _ = cli(capsys, "inspect", "long.safetensors")
    lines = {x.split()[0]: x for x in out.splitlines() if x.startswith("  ")}
    assert f"  {long}  numeric" in lines[long]
    assert lines["length"].index("numeric") == lines[long].index("numeric")
    assert "one-hot of 'Köln, DE', 'Malmö, SE'" in lines["city"]
    assert lines["sized"].endswith(f", missing -> {fill:.6g}") and repr(fill) != f"{fill:.6g}"
