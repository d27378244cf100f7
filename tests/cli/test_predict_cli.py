"""``deltarule predict``: the file's predictions equal the in-memory network's."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

import deltarule as dr
from deltarule.preprocessing import TabularPreprocessor

from .cli_helpers import cli, flowers, houses


@pytest.fixture
def flower_model(capsys, in_tmp, flowers_csv, saved):
    code, _, _ = cli(capsys, "train", flowers_csv, "--target", "species", "--epochs", "5",
                     "--quiet", "--out", "model.safetensors")  # fmt: skip
    assert code == 0
    return saved


def _in_memory(saved, frame):
    pre = TabularPreprocessor.from_dict(saved["preprocessing"])
    return saved["network"].predict(pre.transform(frame, dtype=np.float32)), pre


def test_predictions_equal_the_network_before_saving(capsys, flower_model):
    new = flowers(seed=7).drop(columns="species")
    new = new[["colour", "width", "length"]].assign(id=range(len(new)))  # any order, extras
    new.to_csv("new.csv", index=False)
    code, out, err = cli(capsys, "predict", "model.safetensors", "new.csv")
    assert (code, err) == (0, "")
    outputs, pre = _in_memory(flower_model, new)
    expected = pre.inverse_target(outputs)
    assert out.splitlines() == ["species", *expected]


def test_proba_has_a_column_per_class(capsys, flower_model):
    new = flowers(seed=7)
    new.to_csv("new.csv", index=False)
    code, out, _ = cli(capsys, "predict", "model.safetensors", "new.csv", "--proba")
    table = pd.read_csv(io.StringIO(out))
    assert code == 0 and list(table.columns) == ["setosa", "versicolor", "virginica"]
    outputs, _ = _in_memory(flower_model, new)
    # float32 probabilities are printed in float32's shortest repr: read back, the same float32
    np.testing.assert_array_equal(table.to_numpy(dtype=np.float32), outputs)
    np.testing.assert_allclose(table.sum(axis=1), 1.0, rtol=1e-6)


def test_json_and_out_file(capsys, flower_model, in_tmp):
    flowers(seed=2).to_csv("new.csv", index=False)
    code, out, err = cli(capsys, "predict", "model.safetensors", "new.csv", "--format", "json",
                         "--out", "p.json")  # fmt: skip
    assert code == 0 and out == "" and "wrote p.json" in err
    rows = json.loads((in_tmp / "p.json").read_text())
    assert len(rows) == 60 and set(rows[0]) == {"species"}
    assert not list(in_tmp.glob(".*.tmp"))


def test_integer_labels_stay_integers(capsys, in_tmp, saved):
    frame = flowers().assign(species=lambda f: f["species"].map({"setosa": 10, "versicolor": 20,
                                                                "virginica": 30}))  # fmt: skip
    frame.to_csv("ints.csv", index=False)
    cli(capsys, "train", "ints.csv", "--target", "species", "--epochs", "3", "--quiet")
    code, out, _ = cli(capsys, "predict", "ints.safetensors", "ints.csv", "--format", "json")
    labels = {row["species"] for row in json.loads(out)}
    assert code == 0 and labels <= {10, 20, 30} and all(isinstance(v, int) for v in labels)
    code, out, _ = cli(capsys, "predict", "ints.safetensors", "ints.csv", "--proba")
    assert out.splitlines()[0] == "10,20,30"


def test_regression_values(capsys, in_tmp, houses_csv, saved):
    cli(capsys, "train", houses_csv, "--target", "price", "--epochs", "20", "--quiet")
    new = houses(seed=3).drop(columns="price")
    new.to_csv("new.csv", index=False)
    code, out, _ = cli(capsys, "predict", "houses.safetensors", "new.csv")
    values = pd.read_csv(io.StringIO(out))["price"].to_numpy()
    outputs, _ = _in_memory(saved, new)
    assert code == 0
    # written in float32's shortest repr, read back to the same float32 values
    np.testing.assert_array_equal(values.astype(np.float32), outputs[:, 0])


def test_npz_columns_are_taken_in_order(capsys, in_tmp, saved):
    frame = flowers().drop(columns="colour")
    codes = frame["species"].map({"setosa": 0, "versicolor": 1, "virginica": 2}).to_numpy()
    X = frame[["length", "width"]].to_numpy()
    np.savez("train.npz", X=X, y=codes)
    np.savez("new.npz", X=X[:5])  # no y: fine for predict
    cli(capsys, "train", "train.npz", "--epochs", "3", "--quiet")
    code, out, _ = cli(capsys, "predict", "train.safetensors", "new.npz")
    expected = saved["network"].predict(
        TabularPreprocessor.from_dict(saved["preprocessing"]).transform(
            pd.DataFrame(X[:5], columns=["x0", "x1"]), dtype=np.float32
        )
    )
    assert code == 0 and out.splitlines()[1:] == [str(k) for k in expected.argmax(axis=1)]


def test_a_model_saved_from_python_without_preprocessing(capsys, in_tmp):
    import deltarule as dr
    from deltarule.io import save_model

    net = dr.Network([3, 4, 2], output_activation="softmax", seed=0)
    save_model(net, in_tmp / "plain.safetensors")
    X = np.random.default_rng(0).normal(size=(6, 3))
    pd.DataFrame(X, columns=["x0", "x1", "x2"]).to_csv("x.csv", index=False)
    code, out, _ = cli(capsys, "predict", "plain.safetensors", "x.csv")
    assert code == 0
    assert out.splitlines()[1:] == [str(k) for k in net.predict(X).argmax(axis=1)]


def test_a_cli_model_predicts_from_python_as_the_command_does(capsys, flower_model):
    # (a model from deltarule train could only be used from Python by rebuilding its
    # preprocessing by hand: load_model(...).network.predict(frame) failed on text columns)
    from deltarule.io import load_model, read_table

    new = flowers(seed=7).drop(columns="species")[["colour", "width", "length"]]
    new.to_csv("new.csv", index=False)
    code, out, _ = cli(capsys, "predict", "model.safetensors", "new.csv")
    loaded = load_model("model.safetensors")
    predicted = loaded.predict(read_table("new.csv"))
    assert code == 0 and out.splitlines() == ["species", *predicted]
    # rows without names are read in the training order, with a warning saying so: in
    # another order, a column of numbers that receives text is refused
    with pytest.warns(dr.DataWarning, match="in the order it was trained on"):
        ordered = loaded.predict(new[["length", "width", "colour"]].to_numpy())
    assert list(ordered) == list(predicted)
    with pytest.raises(ValueError, match=r"column 'length' holds text \('red'"):
        with pytest.warns(dr.DataWarning):
            loaded.predict(new.to_numpy())
    with pytest.raises(ValueError, match=r"lacks 1 column\(s\) the model needs: \['colour'\]"):
        loaded.predict(new.drop(columns="colour"))


def test_a_regression_cli_model_predicts_values_from_python(capsys, in_tmp):
    from deltarule.io import load_model

    houses().to_csv("houses.csv", index=False)
    assert cli(capsys, "train", "houses.csv", "--target", "price", "--epochs", "5",
               "--quiet", "--out", "h.safetensors")[0] == 0  # fmt: skip
    code, out, _ = cli(capsys, "predict", "h.safetensors", "houses.csv")
    values = load_model("h.safetensors").predict(houses())
    assert code == 0
    np.testing.assert_allclose(values, [float(v) for v in out.splitlines()[1:]], rtol=1e-6)


def test_a_kept_feature_of_a_decimal_comma_file_is_read_as_the_model_reads_it(capsys, in_tmp):
    # (kept columns are read as text, 007 stays 007: a kept feature reached the model as the
    # text "1,4", refused, where predict without --keep read it as 1.4)
    frame = flowers(n_per_class=10)
    frame.to_csv("semi.csv", sep=";", decimal=",", index=False)
    assert cli(capsys, "train", "semi.csv", "--target", "species", "--epochs", "2", "--quiet",
               "--out", "m.safetensors")[0] == 0  # fmt: skip
    code, plain, err = cli(capsys, "predict", "m.safetensors", "semi.csv")
    assert code == 0, err
    code, kept, err = cli(capsys, "predict", "m.safetensors", "semi.csv", "--keep", "length")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(kept))
    assert list(table["length"]) == pytest.approx(list(frame["length"]))
    assert list(table.iloc[:, -1]) == list(pd.read_csv(io.StringIO(plain)).iloc[:, -1])
