"""``deltarule evaluate --chunk-rows``: a file read a few rows at a time gives the whole file's
report, warnings and errors, character for character."""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .cli_helpers import cli, flowers, houses

WHOLE = "1000000"  # (one chunk for these files: the whole file's report, as before)


def _train(capsys, data, target, *extra):
    code, _, err = cli(capsys, "train", data, "--target", target, "--epochs", "3", "--quiet",
                       "--out", "model.safetensors", *extra)  # fmt: skip
    assert code == 0, err


def _same(capsys, *argv, sizes=("2", "3")):
    """(exit code, report, standard error) for every chunk size in ``sizes`` equal the
    whole file's; returns them."""
    whole = cli(capsys, "evaluate", *argv, "--chunk-rows", WHOLE)
    for size in sizes:
        assert cli(capsys, "evaluate", *argv, "--chunk-rows", size) == whole, size
    return whole


@pytest.fixture
def flower_model(capsys, in_tmp, flowers_csv):
    _train(capsys, flowers_csv, "species")


@pytest.mark.parametrize("options", [(), ("--format", "json")])
def test_classification_report_and_a_class_only_in_the_last_rows(capsys, flower_model, options):
    new = flowers(seed=7).sort_values("species", kind="stable")  # (a class first seen late)
    new.iloc[[4, 20, 50], new.columns.get_loc("colour")] = "green"  # (unseen: one warning)
    new.to_csv("new.csv", index=False)
    code, out, err = _same(capsys, "model.safetensors", "new.csv", *options)
    assert code == 0 and "60" in out and err.count("not seen in training") == 1


def test_regression_and_several_targets(capsys, in_tmp, houses_csv):
    _train(capsys, houses_csv, "price", "--impute", "mean")
    new = houses(n=11, seed=3)
    new["price"] = new["price"].round()  # (whole numbers, then a fraction in a later chunk)
    new.loc[9, "price"] = new.loc[9, "price"] + 0.5
    new.to_csv("new.csv", index=False)
    for form in ("text", "json"):
        code, out, _ = _same(capsys, "model.safetensors", "new.csv", "--format", form)
        assert code == 0 and "11" in out

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    frame = frame.assign(y1=frame.a * 2, y2=(frame.b - frame.a).round())
    frame.to_csv("train.csv", index=False)
    _train(capsys, "train.csv", "y1,y2")
    frame.loc[9, "y2"] = 0.25
    frame.head(13).to_csv("new.csv", index=False)
    for form in ("text", "json"):
        code, out, _ = _same(capsys, "model.safetensors", "new.csv", "--format", form)
        assert code == 0 and "y2" in out


@pytest.fixture
def number_classes(capsys, in_tmp):
    """A model of the classes 0, 1 and 2 (read as numbers), and its training table."""
    frame = flowers(seed=1).drop(columns=["colour"])
    frame["label"] = frame.pop("species").map({"setosa": 0, "versicolor": 1, "virginica": 2})
    frame.to_csv("train.csv", index=False)
    _train(capsys, "train.csv", "label")
    return frame


@pytest.mark.parametrize(
    "late, problem",
    [
        ("1.0", None),  # (integers, then a float: floats, as the whole column)
        ("", "missing a value at line 11"),
        ("7", "label 7 at line 11"),
        # (numbers, then text: the whole column text as written, none of the classes)
        ("x", "label '1' at line 2 of 'new.csv' (data row 1) was not seen in training (12"),
        ("True", "label '1' at line 2"),
    ],
)
def test_number_labels_that_change_type_in_a_later_chunk(capsys, number_classes, late, problem):
    frame = number_classes.head(12).astype({"label": object})
    frame.iloc[9, frame.columns.get_loc("label")] = late
    frame.to_csv("new.csv", index=False)
    code, out, err = _same(capsys, "model.safetensors", "new.csv")
    if problem is None:
        assert code == 0 and "12 rows" in out
    else:
        assert code == 2 and problem in err


def test_estimators_file_with_target(capsys, in_tmp):
    from deltarule.sklearn import MLPClassifier

    X, y = flowers(seed=2)[["length", "width"]], flowers(seed=2)["species"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(max_iter=20, random_state=0).fit(X.to_numpy(), y).save("est.safetensors")
    X.set_axis(["x0", "x1"], axis=1).assign(kind=y).to_csv("new.csv", index=False)
    code, out, err = _same(capsys, "est.safetensors", "new.csv", "--target", "kind")
    assert code == 0, err
    code, _, err = _same(capsys, "est.safetensors", "new.csv")
    assert code == 2 and "--target" in err


def test_errors_in_a_later_chunk_are_the_whole_files(capsys, flower_model):
    new = flowers(seed=7)
    new["length"] = new["length"].astype(object)
    new.iloc[40, new.columns.get_loc("length")] = "oops"
    new.to_csv("new.csv", index=False)
    code, _, err = _same(capsys, "model.safetensors", "new.csv")
    assert code == 2 and "line 42" in err
    lines = flowers(seed=7).to_csv(index=False).splitlines()
    lines[30] = lines[30].rsplit(",", 1)[0]  # (a short line: refused by the reading)
    Path("short.csv").write_text("\n".join(lines) + "\n")
    code, _, err = _same(capsys, "model.safetensors", "short.csv")
    assert code == 2 and "line 31" in err
    lines[3] = lines[3].replace(",", ",oops,", 1).rsplit(",", 1)[0]  # (and a bad cell first)
    Path("both.csv").write_text("\n".join(lines) + "\n")
    code, _, err = _same(capsys, "model.safetensors", "both.csv")
    assert code == 2 and "line 31" in err  # (the reading's problem first, as a whole reading)
    flowers(seed=7).drop(columns=["species"]).to_csv("unlabelled.csv", index=False)
    code, _, err = _same(capsys, "model.safetensors", "unlabelled.csv")
    assert code == 2 and "no target column 'species'" in err


def test_parquet_and_standard_input(capsys, flower_model, monkeypatch):
    new = flowers(seed=4)
    new.to_parquet("new.parquet", row_group_size=7)
    new.to_csv("new.csv", index=False)
    whole = _same(capsys, "model.safetensors", "new.csv")
    assert _same(capsys, "model.safetensors", "new.parquet") == whole
    for size in ("2", WHOLE):
        data = io.BytesIO(new.to_csv(index=False).encode())
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(data))
        code, out, err = cli(capsys, "evaluate", "model.safetensors", "-", "--chunk-rows", size)
        assert (code, out, err) == whole


@pytest.mark.parametrize("value", ["0", "x"])
def test_chunk_rows_must_be_a_positive_whole_number(capsys, flower_model, value):
    code, _, err = cli(capsys, "evaluate", "model.safetensors", "flowers.csv",
                       "--chunk-rows", value)  # fmt: skip
    assert code == 2 and "--chunk-rows" in err and "a whole number of 1 or more" in err


def test_chunk_rows_beyond_any_file_read_the_whole_file(capsys, flower_model):
    code, out, _ = _same(capsys, "model.safetensors", "flowers.csv",
                         sizes=("99999999999999999999",))  # fmt: skip
    assert code == 0 and "accuracy" in out


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_of_no_rows_names_its_header_columns(capsys, flower_model, suffix):
    empty = flowers().iloc[:0]
    if suffix == ".csv":
        empty.to_csv("empty.csv", index=False)
    else:
        empty.to_parquet("empty.parquet")
    code, out, err = _same(capsys, "model.safetensors", f"empty{suffix}")
    assert (code, out) == (2, "")
    assert "has a header (columns length, width, colour, species) but no data rows" in err


def test_unseen_values_warned_in_column_order_and_not_before_a_later_error(capsys, in_tmp):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"c1": rng.choice(["a", "b"], 40), "c2": rng.choice(["x", "y"], 40),
                          "n": rng.normal(size=40)})  # fmt: skip
    frame["t"] = frame["n"] + (frame["c1"] == "a")
    frame.to_csv("train.csv", index=False)
    _train(capsys, "train.csv", "t")
    with open("new.csv", "w") as handle:
        handle.write("c1,c2,n,t\na,zz,0.1,1\n" + "a,x,0.2,1\n" * 5 + "qq,x,0.3,1\n")
    code, _, err = _same(capsys, "model.safetensors", "new.csv")
    assert code == 0 and err.index("'c1'") < err.index("'c2'")
    with open("new.csv", "a") as handle:
        handle.write("a,x\n")
    code, _, err = _same(capsys, "model.safetensors", "new.csv")
    assert code == 2 and "line 9 has 2 fields" in err and "warning" not in err


@pytest.mark.parametrize("label", ["maybe", ""])
def test_a_warning_about_features_comes_before_an_error_in_the_targets(capsys, flower_model, label):
    # (a whole reading encodes the features, warning about an unseen colour, and then fails
    # on the targets; the chunked one dropped the warning, at every chunk size)
    new = flowers(seed=7)
    new.iloc[0, new.columns.get_loc("colour")] = "purple"
    new.iloc[-1, new.columns.get_loc("species")] = label
    new.to_csv("new.csv", index=False)
    code, out, err = _same(capsys, "model.safetensors", "new.csv", sizes=("1", "2", "7"))
    lines = err.splitlines()
    assert code == 2 and out == "" and len(lines) == 2, err
    assert lines[0].startswith("warning: column 'colour' has 1 value(s) not seen in training")
    assert lines[1].startswith("error:") and "line 61" in lines[1]
