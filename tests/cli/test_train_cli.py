"""``deltarule train``: data files of every format, built-in datasets, outputs, plots."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm

from deltarule import datasets
from deltarule.cli._common import load_model_file
from deltarule.io import load_model
from deltarule.preprocessing import TabularPreprocessor

from .cli_helpers import cli, flowers, houses, write_idx


def test_builtin_digits_prints_progress_and_test_accuracy(capsys, in_tmp):
    code, out, err = cli(capsys, "train", "--epochs", "3")
    assert code == 0
    assert "test accuracy: " in out
    assert float(out.split("test accuracy: ")[1].split()[0]) > 0.8
    # stderr is not a terminal here: one plain progress line per epoch, no bar
    assert "epoch 1/3 - loss " in err and "val_accuracy" in err
    assert list(in_tmp.iterdir()) == []  # without DATA or --out nothing is written


def test_builtin_digits_model_predicts_raw_pixels(capsys, in_tmp, saved):
    code, _, _ = cli(capsys, "train", "--epochs", "2", "--quiet", "--out", "digits.safetensors")
    assert code == 0
    data = datasets.load_dataset("digits")
    raw = pd.DataFrame(data.X_test * 16, columns=[f"pixel{i}" for i in range(64)])
    raw.to_csv(in_tmp / "pixels.csv", index=False)
    code, out, _ = cli(capsys, "predict", "digits.safetensors", "pixels.csv")
    assert code == 0
    expected = saved["network"].predict(data.X_test).argmax(axis=1).astype(str)
    assert out.splitlines() == ["label", *expected]


def test_csv_classification_saves_model_with_preprocessing(capsys, in_tmp, flowers_csv):
    code, out, err = cli(capsys, "train", flowers_csv, "--target", "species", "--epochs", "5")
    assert code == 0
    assert "validation accuracy: " in out
    assert f"model saved to {in_tmp / 'flowers.safetensors'}" in out  # default: <stem> in cwd
    loaded = load_model(in_tmp / "flowers.safetensors")
    assert loaded.classes == ["setosa", "versicolor", "virginica"]
    assert loaded.network.layer_sizes == [4, 64, 3]  # length, width, colour=blue, colour=red
    assert [a for a in loaded.header["architecture"]["activations"]] == ["relu", "softmax"]
    assert loaded.network.loss.name == "categorical_crossentropy"
    summary = loaded.training["summary"]
    assert summary["data"] == "flowers.csv" and summary["rows"] == 60
    assert summary["epochs"] == 5 and summary["stop_reason"].startswith("max epochs")
    assert summary["settings"]["hidden"] == [64] and summary["seconds"] > 0
    assert set(summary["validation_metrics"]) >= {"accuracy", "f1_macro", "log_loss"}
    assert len(loaded.training["history"]["loss"]) == 5
    assert "training [4, 64, 3]" in err


def test_two_classes_use_sigmoid_and_binary_crossentropy(capsys, in_tmp):
    flowers().query("species != 'virginica'").to_csv("two.csv", index=False)
    code, _, _ = cli(capsys, "train", "two.csv", "--target", "species", "--epochs", "2", "--quiet")
    net = load_model(in_tmp / "two.safetensors").network
    assert code == 0 and net.layer_sizes[-1] == 1
    assert net.layers[-1].activation.name == "sigmoid"
    assert net.loss.name == "binary_crossentropy"


@pytest.mark.parametrize("loss", ["ce", "binary_crossentropy"])
def test_binary_crossentropy_with_several_classes_gives_a_sigmoid_per_class(
    capsys, in_tmp, flowers_csv, loss
):
    # (QA as an R neuralnet user, err.fct = "ce": softmax outputs were kept under binary
    # cross-entropy, which scores each column as an independent probability)
    code, _, err = cli(capsys, "train", flowers_csv, "--target", "species", "--loss", loss,
                       "--epochs", "100", "--learning-rate", "0.01", "--quiet",
                       "--out", "ce.safetensors")  # fmt: skip
    assert code == 0, err
    model = load_model(in_tmp / "ce.safetensors")
    net = model.network
    assert (net.loss.name, net.layers[-1].activation.name) == ("binary_crossentropy", "sigmoid")
    assert net.layer_sizes[-1] == 3 and model.classes == ["setosa", "versicolor", "virginica"]
    code, out, err = cli(capsys, "evaluate", "ce.safetensors", flowers_csv, "--format", "json")
    assert code == 0, err
    got = json.loads(out)["metrics"]
    assert got["accuracy"] > 0.8
    # (a review: the sigmoids' rows did not sum to 1 in --proba, and log loss was not
    # scikit-learn's; as OneVsRestClassifier, the rows are divided by their sums)
    code, out, err = cli(capsys, "predict", "ce.safetensors", flowers_csv, "--proba")
    assert code == 0, err
    proba = pd.read_csv(io.StringIO(out))
    assert list(proba.columns) == model.classes
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    frame = pd.read_csv(flowers_csv)
    pre = TabularPreprocessor.from_dict(model.preprocessing)
    raw = net.predict(pre.transform(frame, dtype=net.dtype))
    rows = raw / raw.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict_proba(frame), rows, rtol=1e-6)  # (Python's too)
    want = skm.log_loss(frame["species"], rows, labels=model.classes)
    assert got["log_loss"] == pytest.approx(want, rel=1e-5)


@pytest.mark.parametrize("loss,output", [("poisson", "exp"), ("mae", "identity")])
def test_a_regression_loss_on_positive_outputs_gets_an_output_it_is_defined_on(
    capsys, in_tmp, loss, output
):
    # There is no option for the output activation: --loss poisson must not leave the
    # identity (refused: the loss would be clipped below 0) but take the log link, exp.
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 200)
    Path("counts.csv").write_text("x,n\n" + "".join(
        f"{a:.4f},{c}\n" for a, c in zip(x, rng.poisson(np.exp(1 + x)))))  # fmt: skip
    code, _, err = cli(capsys, "train", "counts.csv", "--target", "n", "--task", "regression",
                       "--loss", loss, "--epochs", "3", "--quiet")  # fmt: skip
    assert code == 0, err
    net = load_model(in_tmp / "counts.safetensors").network
    assert (net.loss.name, net.layers[-1].activation.name) == (loss, output)


@pytest.mark.parametrize("offset, dtype", [(1e9, "float64"), (1e3, "float32")])
def test_a_target_far_from_zero_keeps_its_spread_in_the_predictions(capsys, in_tmp, offset, dtype):
    # t = offset + 10 x: folding the target's mean into a float32 bias rounded 1e9 + 10 x to
    # steps of 64 (every prediction 1e9, r2 < 0, no warning). Beyond FOLD_RATIO the saved
    # network is float64; a target near zero keeps float32.
    x = np.random.default_rng(0).uniform(0, 1, 300)
    rows = "".join(f"{float(a)!r},{float(offset + 10 * a)!r}\n" for a in x)
    Path("far.csv").write_text("x,t\n" + rows)
    code, out, err = cli(capsys, "train", "far.csv", "--target", "t", "--epochs", "60",
                         "--learning-rate", "0.01", "--quiet")  # fmt: skip
    assert code == 0, err
    model = load_model_file(str(in_tmp / "far.safetensors"))
    assert model.network.dtype == np.dtype(dtype)
    frame = pd.DataFrame({"x": x})
    predicted = model.network.predict(model.features(frame))[:, 0]
    truth = offset + 10 * x
    assert np.corrcoef(predicted, truth)[0, 1] > 0.95 and np.unique(predicted).size > 100
    assert abs(predicted.mean() - truth.mean()) < 1.0
    r2 = float(out.split("validation r2: ")[1].split()[0].rstrip(","))
    assert r2 > 0.9  # (measured on the saved network: -0.03 before)


def test_text_categories_with_numeric_target_train_a_regression(capsys, in_tmp, houses_csv):
    code, out, _ = cli(
        capsys, "train", houses_csv, "--target", "price", "--hidden", "16",
        "--epochs", "300", "--quiet", "--learning-rate", "0.01",
    )  # fmt: skip
    assert code == 0 and "validation r2: " in out
    model = load_model_file(str(in_tmp / "houses.safetensors"))
    assert model.task == "regression" and model.network.loss.name == "mse"
    assert model.network.layers[-1].activation.name == "identity"
    assert [c["kind"] for c in model.pre.columns] == ["categorical", "numeric"]
    frame = houses(seed=1)  # new rows: predictions are in the target's own units
    predicted = model.network.predict(model.features(frame))[:, 0]
    assert np.corrcoef(predicted, frame["price"])[0, 1] > 0.9
    assert abs(predicted.mean() - frame["price"].mean()) < 0.2 * frame["price"].std()


@pytest.mark.parametrize("suffix", [".tsv", ".parquet", ".npz"])
def test_other_formats(capsys, in_tmp, suffix):
    frame = flowers().drop(columns="colour")
    path = in_tmp / f"data{suffix}"
    if suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        codes = frame["species"].map({"setosa": 0, "versicolor": 1, "virginica": 2})
        np.savez(path, X=frame[["length", "width"]].to_numpy(), y=codes.to_numpy())
    target = [] if suffix == ".npz" else ["--target", "species"]
    code, out, err = cli(capsys, "train", path, *target, "--epochs", "3", "--quiet")
    assert (code, err) == (0, "")
    model = load_model_file(str(in_tmp / "data.safetensors"))
    assert model.network.layer_sizes == [2, 64, 3]
    names = ["x0", "x1"] if suffix == ".npz" else ["length", "width"]
    assert model.pre.feature_names == names


def test_options_reach_the_network_and_the_file(capsys, in_tmp, flowers_csv):
    code, _, _ = cli(
        capsys, "train", flowers_csv, "--target", "species", "--hidden", "8,4",
        "--activation", "tanh", "--optimizer", "sgd", "--learning-rate", "0.1",
        "--epochs", "4", "--batch-size", "8", "--validation-split", "0", "--patience", "0",
        "--seed", "3", "--loss", "mse", "--out", "m.safetensors", "--quiet",
    )  # fmt: skip
    assert code == 0
    loaded = load_model(in_tmp / "m.safetensors")
    assert loaded.network.layer_sizes == [4, 8, 4, 3]
    assert [layer.activation.name for layer in loaded.network.layers] == ["tanh", "tanh", "softmax"]
    assert loaded.network.loss.name == "mse"
    settings = loaded.training["summary"]["settings"]
    assert settings["optimizer"] == "sgd" and settings["batch_size"] == 8
    assert "training_metrics" in loaded.training["summary"]  # no validation rows


def test_task_override_and_impute(capsys, in_tmp):
    frame = pd.DataFrame({"a": [1.0, None, 3.0, 4.0] * 10, "y": [0, 1, 2, 3] * 10})
    frame.to_csv("d.csv", index=False)
    code, _, _ = cli(
        capsys, "train", "d.csv", "--target", "y", "--task", "regression",
        "--impute", "median", "--epochs", "2", "--quiet",
    )  # fmt: skip
    assert code == 0
    model = load_model_file(str(in_tmp / "d.safetensors"))
    assert model.task == "regression" and model.pre.columns[0]["fill"] == 3.0


def _png_is_a_real_plot(path: Path) -> None:
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)
    assert pixels.shape[0] > 200 and pixels.shape[1] > 200
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 20  # not blank


@pytest.mark.parametrize("name", ["curves.png", "curves.svg"])
def test_plot_writes_loss_curves(capsys, in_tmp, flowers_csv, name):
    code, out, _ = cli(
        capsys, "train", flowers_csv, "--target", "species", "--epochs", "4", "--quiet",
        "--plot", name,
    )  # fmt: skip
    assert code == 0 and f"plot saved to {name}" in out
    if name.endswith(".png"):
        _png_is_a_real_plot(in_tmp / name)
    else:
        text = (in_tmp / name).read_text()
        assert text.lstrip().startswith("<?xml") and "<svg" in text
        assert "validation loss" in text or "validation" in text
    assert not list(in_tmp.glob(".*.tmp"))


def _fake_fashion(folder: Path, n_train: int = 60, n_test: int = 20, gz: bool = False) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir()
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = np.arange(n) % 10
        images = (labels[:, None, None] * 25 + rng.integers(0, 5, (n, 4, 4))).astype(np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            path = folder / f"{prefix}-{kind}-ubyte"
            write_idx(path, array)
            if gz:
                path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
                path.unlink()


def test_fashion_mnist_from_a_data_dir(capsys, in_tmp, saved):
    _fake_fashion(in_tmp / "idx", gz=True)
    code, out, _ = cli(
        capsys, "train", "--dataset", "fashion-mnist", "--data-dir", "idx", "--epochs", "2",
        "--quiet", "--out", "fashion.safetensors",
    )  # fmt: skip
    assert code == 0 and "test accuracy: " in out and "(20 rows)" in out
    model = load_model_file(str(in_tmp / "fashion.safetensors"))
    assert model.pre.feature_names == [f"pixel{i}" for i in range(16)]
    assert model.pre.classes == datasets.FASHION_CLASSES
    assert model.pre.columns[0]["std"] == 255.0  # raw 0-255 pixels in, as in the IDX files
    raw = datasets.read_idx(in_tmp / "idx" / "t10k-images-idx3-ubyte.gz").reshape(20, 16)
    pd.DataFrame(raw, columns=model.pre.feature_names).to_csv("pixels.csv", index=False)
    code, out, _ = cli(capsys, "predict", "fashion.safetensors", "pixels.csv")
    expected = saved["network"].predict(raw / np.float32(255)).argmax(axis=1)
    assert out.splitlines()[1:] == [datasets.FASHION_CLASSES[k] for k in expected]


def test_a_truncated_fashion_mnist_file_is_a_clear_error(capsys, in_tmp):
    _fake_fashion(in_tmp / "idx", gz=True)
    whole = (in_tmp / "idx" / "t10k-images-idx3-ubyte.gz").read_bytes()
    (in_tmp / "idx" / "t10k-images-idx3-ubyte.gz").write_bytes(whole[: len(whole) // 2])
    code, _, err = cli(capsys, "train", "--dataset", "fashion-mnist", "--data-dir", "idx",
                       "--epochs", "1", "--quiet")  # fmt: skip
    assert code == 2 and err.count("\n") == 1, err
    assert "is truncated or corrupt" in err and "this is a bug" not in err


def test_fashion_mnist_missing_says_how_to_install(capsys, in_tmp):
    (in_tmp / "empty").mkdir()
    code, _, err = cli(capsys, "train", "--dataset", "fashion-mnist", "--data-dir", "empty")
    assert code == 2 and "apt-get install dataset-fashion-mnist" in err


def test_debian_fashion_mnist_package_is_found_where_it_installs():
    folder = Path("/usr/share/datasets/fashion-mnist")
    assert str(folder) == datasets.FASHION_MNIST_DIRS[0]
    if not folder.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist package is not installed")
    files = datasets._find_fashion(None)
    assert {path.parent for path in files.values()} == {folder}
    labels = datasets.read_idx(files["y_test"])
    images = datasets.read_idx(files["X_test"])
    assert labels.shape == (10000,) and images.shape == (10000, 28, 28)
    assert sorted(np.unique(labels)) == list(range(10))


def test_a_batch_size_beyond_the_rows_is_one_batch_of_every_row(capsys, in_tmp, flowers_csv):
    # (the memory check counted 10**20 rows of activations and refused the network)
    code, _, err = cli(capsys, "train", flowers_csv, "--target", "species", "--epochs", "2",
                       "--quiet", "--batch-size", str(10**20))  # fmt: skip
    assert code == 0, err


# --- QA findings: plot labels, text from the data, a plot that fails, R² of one row --------


def test_a_run_with_no_finished_epoch_skips_its_plot_with_a_warning(capsys, in_tmp, flowers_csv):
    # (a divergence in the first epoch: exit 2 and save_training_curves' own words about
    # history.as_dict(), though the model was saved)
    code, out, err = cli(
        capsys, "train", flowers_csv, "--target", "species", "--activation", "exp",
        "--optimizer", "sgd", "--learning-rate", "1e30", "--epochs", "5", "--quiet", "--plot",
        "c.png", "--out", "d.safetensors",
    )  # fmt: skip
    assert code == 0 and "model saved to d.safetensors" in out
    assert "no epoch finished, so there are no curves to plot; c.png was not written" in err
    assert not (in_tmp / "c.png").exists() and (in_tmp / "d.safetensors").exists()


def test_a_regression_plot_says_its_loss_is_on_the_standardised_target(capsys, in_tmp):
    houses().to_csv("houses.csv", index=False)
    code, _, err = cli(capsys, "train", "houses.csv", "--target", "price", "--epochs", "2",
                       "--plot", "c.svg")  # fmt: skip
    assert code == 0 and "; losses on the standardised target" in err
    assert "<!-- loss (standardised target) -->" in (in_tmp / "c.svg").read_text()
    flowers().to_csv("flowers.csv", index=False)  # classification: the loss as it is
    code, _, err = cli(capsys, "train", "flowers.csv", "--target", "species", "--epochs", "2",
                       "--plot", "f.svg")  # fmt: skip
    text = (in_tmp / "f.svg").read_text()
    assert code == 0 and "standardised" not in err + text and "<!-- loss -->" in text


def test_dollars_and_tex_in_the_data_file_name_are_plotted_as_written(capsys, in_tmp):
    name = "we$ir\\frac$d.csv"  # (the title 'training on we$ir\frac$d.csv' failed as mathtext)
    flowers().to_csv(name, index=False)
    code, out, err = cli(capsys, "train", name, "--target", "species", "--epochs", "2",
                         "--quiet", "--plot", "w.svg")  # fmt: skip
    assert code == 0, err
    assert "model saved to" in out and "plot saved to w.svg" in out
    assert (in_tmp / "we$ir\\frac$d.safetensors").is_file()
    assert "<!-- training on we$ir\\frac$d.csv -->" in (in_tmp / "w.svg").read_text()


def test_a_plot_that_fails_leaves_the_trained_model_saved(capsys, in_tmp, monkeypatch):
    import deltarule.plots

    def full(*args, **kwargs):  # noqa: ANN202
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(deltarule.plots, "save_training_curves", full)
    flowers().to_csv("flowers.csv", index=False)
    code, out, err = cli(capsys, "train", "flowers.csv", "--target", "species", "--epochs", "2",
                         "--quiet", "--out", "m.safetensors", "--plot", "c.png")  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ")
    assert "the model was saved to m.safetensors, but the plot c.png could not be written" in err
    assert "No space left on device" in err
    assert load_model("m.safetensors").network.layer_sizes == [4, 64, 3]
    assert sorted(p.name for p in in_tmp.iterdir()) == ["flowers.csv", "m.safetensors"]


def test_r2_of_a_single_validation_row_is_reported_undefined(capsys, in_tmp):
    houses(n=10).to_csv("small.csv", index=False)
    code, out, _ = cli(capsys, "train", "small.csv", "--target", "price", "--epochs", "2",
                       "--quiet", "--validation-split", "0.1")  # fmt: skip
    assert code == 0
    assert "validation r2: undefined (R² needs at least 2 rows), mse: " in out and "(1 rows)" in out


def test_categorical_crossentropy_on_a_two_class_target_is_refused(capsys, in_tmp):
    # (it trained a one-sigmoid network on -t log o: every output 1)
    flowers().query("species != 'virginica'").to_csv("two.csv", index=False)
    code, _, err = cli(capsys, "train", "two.csv", "--target", "species", "--loss", "cce",
                       "--epochs", "2", "--quiet")  # fmt: skip
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert "at least 2 output units" in lines[0] and "binary_crossentropy" in lines[0]
    code, _, _ = cli(capsys, "train", "two.csv", "--target", "species", "--loss", "ce",
                     "--epochs", "2", "--quiet")  # fmt: skip
    assert code == 0  # R neuralnet's err.fct="ce": binary cross-entropy


def test_report_every_prints_every_nth_epoch(capsys, in_tmp):
    flowers().to_csv("f.csv", index=False)
    code, _, err = cli(capsys, "train", "f.csv", "--target", "species", "--epochs", "6",
                       "--patience", "0", "--report-every", "3")  # fmt: skip
    assert code == 0
    epochs = [line.split(" - ")[0] for line in err.splitlines() if line.startswith("epoch ")]
    assert epochs == ["epoch 1/6", "epoch 3/6", "epoch 6/6"]  # (the first, every 3rd)
    code, _, err = cli(capsys, "train", "f.csv", "--target", "species", "--report-every", "0")
    assert code == 2 and "--report-every 0 is out of range" in err


def test_l2_dropout_and_class_weight_reach_the_trainer(capsys, in_tmp, flowers_csv, monkeypatch):
    # (QA as a Keras user: the Python API's class_weight, dropout and L2 were not options)
    from deltarule.training import Trainer

    seen = {}
    original = Trainer.fit

    def spy(self, X, y, **kwargs):
        seen.update(l2=self.l2, class_weight=kwargs.get("class_weight"))
        seen["dropout"] = self.network.config()["dropout"]
        return original(self, X, y, **kwargs)

    monkeypatch.setattr(Trainer, "fit", spy)
    code, _, err = cli(capsys, "train", flowers_csv, "--target", "species", "--hidden", "8,4",
                       "--l2", "0.01", "--dropout", "0.25", "--class-weight", "balanced",
                       "--epochs", "2", "--quiet")  # fmt: skip
    assert code == 0, err
    assert seen == {"l2": 0.01, "class_weight": "balanced", "dropout": [0.25, 0.25]}
    code, _, err = cli(capsys, "train", flowers_csv, "--target", "species", "--epochs", "2",
                       "--quiet")  # fmt: skip
    assert code == 0 and seen == {"l2": 0.0, "class_weight": None, "dropout": [0.0]}


def test_training_reads_the_table_in_float32_with_the_same_numbers(
    capsys, in_tmp, flowers_csv, monkeypatch
):
    # (QA at Fashion-MNIST size: the table was transformed in float64, twice the data's
    # size, and held beside its training/validation copies: train peaked at 6-8x the data)
    from deltarule.preprocessing import TabularPreprocessor
    from deltarule.training import Trainer

    seen = []
    original_fit = Trainer.fit

    def spy(self, X, y, **kwargs):
        seen.append(np.asarray(X).dtype)
        return original_fit(self, X, y, **kwargs)

    monkeypatch.setattr(Trainer, "fit", spy)
    args = ["train", flowers_csv, "--target", "species", "--epochs", "3", "--quiet"]
    code, _, err = cli(capsys, *args, "--out", "f32.safetensors")
    assert code == 0, err
    assert seen == [np.float32]
    original_transform = TabularPreprocessor.transform

    def in_float64(self, df, dtype=np.float64):  # (the old way: a float64 table)
        return original_transform(self, df, np.float64)

    monkeypatch.setattr(TabularPreprocessor, "transform", in_float64)
    code, _, err = cli(capsys, *args, "--out", "f64.safetensors")
    assert code == 0, err
    assert seen[-1] == np.float64
    one = load_model(in_tmp / "f32.safetensors").network.parameters
    two = load_model(in_tmp / "f64.safetensors").network.parameters
    assert one.tobytes() == two.tobytes()


def test_a_negative_poisson_target_is_named_by_its_data_row(capsys, in_tmp):
    # (QA with extreme data: after the validation split, the network's check counted the
    # rows of the training part: y[2, 0] for the file's fourth row)
    rows = [f"{a:.3f},{abs(a) + 0.5:.4f}" for a in np.random.default_rng(0).normal(size=40)]
    rows[3] = rows[3].split(",")[0] + ",-1.25"
    Path("counts.csv").write_text("a,n\n" + "\n".join(rows) + "\n")
    code, _, err = cli(capsys, "train", "counts.csv", "--target", "n", "--task", "regression",
                       "--loss", "poisson", "--quiet")  # fmt: skip
    assert code == 2
    assert "--loss poisson needs targets that are counts or rates >= 0, but the target n is " \
        "-1.25 at data row 4" in err  # fmt: skip


def test_features_keeps_only_the_columns_named(capsys, in_tmp, flowers_csv):
    # (QA as an R user: neuralnet's y ~ a + b had no counterpart but --drop of the others)
    code, _, err = cli(capsys, "train", flowers_csv, "--target", "species", "--features",
                       "width,length", "--epochs", "3", "--quiet", "--out", "f.safetensors",
                       "--checkpoint", "run")  # fmt: skip
    assert code == 0, err
    model = load_model(in_tmp / "f.safetensors")
    pre = TabularPreprocessor.from_dict(model.preprocessing)
    assert sorted(pre.feature_names) == ["length", "width"]
    assert model.training["summary"]["settings"]["drop"] == ["colour"]  # (the rest)
    code, _, err = cli(capsys, "train", "--resume", "run", "--quiet", "--out", "f2.safetensors")
    assert code == 0, err  # (a finished run, resumed: kept its columns)
    again = TabularPreprocessor.from_dict(load_model(in_tmp / "f2.safetensors").preprocessing)
    assert sorted(again.feature_names) == ["length", "width"]
    code, out, err = cli(capsys, "predict", "f.safetensors", flowers_csv)
    assert code == 0 and len(out.splitlines()) == 61


def test_a_long_runs_model_file_keeps_every_kth_epoch_with_the_best_and_last(
    capsys, in_tmp, flowers_csv, monkeypatch
):
    # A tiny network's million online epochs made a 95 MB header that predict took 5 s to
    # read, and past ~650,000 epochs one load_model refuses: the file keeps HISTORY_ROWS
    # epochs (here 10 of 25), says so, and inspect shows it.
    import json

    from deltarule.cli import _train_record
    from deltarule.io import model_header

    monkeypatch.setattr(_train_record, "HISTORY_ROWS", 10)
    code, _, err = cli(capsys, "train", flowers_csv, "--target", "species", "--epochs", "25",
                       "--patience", "50", "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    training = model_header("m.safetensors")["training"]
    epochs, best = training["history"]["epoch"], training["summary"]["best_epoch"]
    assert len(epochs) <= 10 and epochs[0] == 1 and epochs[-1] == 25
    assert best is None or best in epochs
    assert epochs == sorted(set(epochs))
    assert all(len(column) == len(epochs) for column in training["history"].values())
    assert training["summary"]["epochs"] == 25
    kept = training["summary"]["history_kept"]
    assert kept == f"{len(epochs)} of 25 epochs kept (evenly spaced; first, best, last)"
    code, out, _ = cli(capsys, "inspect", "m.safetensors")
    assert code == 0 and f"history: {kept}" in out
    code, out, _ = cli(capsys, "inspect", "m.safetensors", "--format", "json")
    assert json.loads(out)["history"]["epoch"] == epochs


def test_a_runs_model_file_keeps_its_whole_history_up_to_the_limit(capsys, in_tmp, flowers_csv):
    from deltarule.io import model_header

    code, _, err = cli(capsys, "train", flowers_csv, "--target", "species", "--epochs", "12",
                       "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    training = model_header("m.safetensors")["training"]
    assert training["history"]["epoch"] == list(range(1, 13))
    assert "history_kept" not in training["summary"]


def test_the_epochs_a_long_runs_model_file_keeps(monkeypatch):
    from deltarule.cli import _train_record

    monkeypatch.setattr(_train_record, "HISTORY_ROWS", 10)
    numbers = list(range(101, 126))  # (a resumed run's numbers need not start at 1)
    kept = _train_record.kept_epochs(numbers, 114)
    assert len(kept) == 10 and kept[0] == 0 and kept[-1] == 24 and 13 in kept
    spaced = _train_record.kept_epochs(numbers, None)
    assert len(spaced) == 9 and spaced[0] == 0 and spaced[-1] == 24
    assert max(np.diff(spaced)) - min(np.diff(spaced)) <= 1  # (evenly: 3 apart, or 2)
    assert _train_record.kept_epochs(numbers[:10], 103) is None  # (all of them)
    # as many as it may keep: 100,001 epochs kept 50,001 when every k-th was kept
    monkeypatch.setattr(_train_record, "HISTORY_ROWS", 100_000)
    assert len(_train_record.kept_epochs(list(range(1, 100_002)), None)) == 99_999
