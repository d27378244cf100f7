"""The new-user QA pass: --drop, identifier warnings, help texts, the replaced-model note,
predict --keep and float32 probabilities, evaluate --quiet."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deltarule.io import load_model

from .cli_helpers import cli, flowers

FAST = ["--epochs", "3", "--quiet", "--patience", "0"]


@pytest.fixture
def people(in_tmp: Path) -> Path:
    """Flowers with an id counting up, a unique name per row and a repeated colour."""
    table = flowers().reset_index(drop=True)
    table.insert(0, "Id", np.arange(1, len(table) + 1))
    table.insert(1, "Name", [f"person {i}" for i in range(len(table))])
    table.to_csv(in_tmp / "people.csv", index=False)
    return in_tmp / "people.csv"


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


@pytest.mark.filterwarnings("default")
def test_identifier_columns_are_warned_about_once_each(capsys, people):
    code, _, err = cli(capsys, "train", people, "--target", "species", *FAST)
    assert code == 0, err
    lines = _warnings(err)
    assert len(lines) == 2, err
    assert "column 'Id' counts up by 1 in every row (1 to 60)" in lines[0]
    assert lines[0].endswith("drop it with --drop Id")
    assert "column 'Name' has a different value in 60 of 60 rows" in lines[1]
    assert lines[1].endswith("drop it with --drop Name")
    assert not any("colour" in line for line in lines)


@pytest.mark.filterwarnings("default")
@pytest.mark.parametrize(
    ("name", "ids", "said"),
    [
        ("RowNo", np.random.default_rng(1).permutation(60) + 1,
         "column 'RowNo' holds each whole number from 1 to 60 once, in another order"),
        ("CustomerID", 1000 + 7 * np.arange(60),
         "column 'CustomerID' is named like an id and has a different whole number in 60 of "
         "60 rows"),
        ("customer_id", np.random.default_rng(2).permutation(3 * np.arange(60)),
         "column 'customer_id' is named like an id"),
    ],
)  # fmt: skip
def test_ids_out_of_order_or_with_gaps_are_warned_about(capsys, in_tmp, name, ids, said):
    """Ids that do not count up by 1 in file order (shuffled, or with gaps) were used as
    features without a word, and, numbered in the order of the classes, seemed to predict
    them (found by a QA pass with messy tables)."""
    table = flowers().reset_index(drop=True)
    table.insert(0, name, ids)
    table.to_csv("ids.csv", index=False)
    code, _, err = cli(capsys, "train", "ids.csv", "--target", "species", *FAST)
    assert code == 0, err
    (line,) = _warnings(err)
    assert said in line and line.endswith(f"drop it with --drop {name}")


@pytest.mark.filterwarnings("default")
def test_whole_number_features_that_are_not_ids_are_not_warned_about(capsys, in_tmp):
    table = flowers().reset_index(drop=True)
    rng = np.random.default_rng(3)
    table.insert(0, "paid", rng.permutation(60) * 3)  # distinct, with gaps, not named an id
    table.insert(1, "visits", rng.integers(0, 10, 60))  # repeated
    table.insert(2, "kid", rng.permutation(60) * 2)  # (a name that ends in 'id' alone)
    table.insert(3, "year", rng.permutation(60) + 1960)  # (one row a year: found by a review)
    table.to_csv("counts.csv", index=False)
    code, _, err = cli(capsys, "train", "counts.csv", "--target", "species", *FAST)
    assert code == 0 and not _warnings(err), err


@pytest.mark.filterwarnings("default")
def test_drop_removes_features_is_recorded_and_predict_ignores_them(capsys, people):
    code, _, err = cli(capsys, "train", people, "--target", "species", "--drop", "Id,Name",
                       *FAST, "--out", "m.safetensors")  # fmt: skip
    assert code == 0 and not _warnings(err), err
    loaded = load_model("m.safetensors")
    names = [column["name"] for column in loaded.preprocessing["columns"]]
    assert names == ["length", "width", "colour"]
    assert loaded.header["training"]["summary"]["settings"]["drop"] == ["Id", "Name"]
    with_ids = cli(capsys, "predict", "m.safetensors", people)
    pd.read_csv(people).drop(columns=["Id", "Name"]).to_csv("bare.csv", index=False)
    without = cli(capsys, "predict", "m.safetensors", "bare.csv")
    assert with_ids[0] == without[0] == 0 and with_ids[1] == without[1]


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        ("name", "'name'. The data has 'Name' for 'name'"),
        ("Nmae", "Close names in the data: 'Name'"),
        ("species", "names the target column 'species'"),
        ("Id,,Name", "has an empty column name"),
        ("Id,Name,length,width,colour", "drops every feature column"),
    ],
)
def test_drop_refuses_bad_names_with_one_error_line(capsys, people, drop, expected):
    code, out, err = cli(capsys, "train", people, "--target", "species", "--drop", drop, *FAST)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("error: ") and expected in err
    assert not Path("people.safetensors").exists()


def test_drop_needs_a_data_file(capsys, in_tmp):
    code, _, err = cli(capsys, "train", "--drop", "x", *FAST)
    assert code == 2 and "no DATA file was given" in err


def test_a_resumed_run_drops_the_same_columns(capsys, people):
    args = ["train", people, "--target", "species", "--drop", "Id,Name", *FAST]
    assert cli(capsys, *args, "--checkpoint", "ck", "--out", "a.safetensors")[0] == 0
    settings = json.loads((people.parent / "ck" / "settings.json").read_text())
    assert settings["settings"]["drop"] == ["Id", "Name"]
    (people.parent / "ck" / "checkpoint.safetensors").unlink()  # (resume from the start)
    code, _, err = cli(capsys, "train", "--resume", "ck", "--out", "b.safetensors")
    assert code == 0, err
    first, again = load_model("a.safetensors"), load_model("b.safetensors")
    assert again.preprocessing == first.preprocessing
    assert np.array_equal(first.network.parameters, again.network.parameters)
    code, _, err = cli(capsys, "train", "--resume", "ck", "--drop", "Id")
    assert code == 2 and "but --drop was given too" in err


@pytest.mark.parametrize(
    ("command", "phrases"),
    [
        ("train", ["--task", "detected from", "(default: 10;", "0 for no hidden layer",
                   "relu, leaky_relu", "categorical_crossentropy, poisson", "adam, adamw",
                   "lbfgs, lm", "--drop COLUMNS"]),
        ("predict", ["json: a list of objects", "--keep COLUMNS"]),
        ("evaluate", ["json: all of it as data", "--quiet"]),
        ("inspect", ["a Keras-like summary"]),
    ],
)  # fmt: skip
def test_help_describes_every_option(capsys, command, phrases):
    code, out, _ = cli(capsys, command, "--help")
    flat = " ".join(out.split())
    assert code == 0
    for phrase in phrases:
        assert phrase in flat, phrase


def test_retraining_says_it_replaced_the_model(capsys, people):
    first = cli(capsys, "train", people, "--target", "species", "--drop", "Id,Name", *FAST)
    assert first[0] == 0 and "model saved to" in first[1] and "replacing" not in first[1]
    again = cli(capsys, "train", people, "--target", "species", "--drop", "Id,Name", *FAST)
    assert again[0] == 0
    assert "people.safetensors (replacing the file that was there)" in again[1]


@pytest.fixture
def model(capsys, people) -> str:
    args = ["train", people, "--target", "species", "--drop", "Id,Name", *FAST]
    assert cli(capsys, *args, "--out", "m.safetensors")[0] == 0
    return "m.safetensors"


def test_predict_keep_copies_columns_before_the_predictions(capsys, model, people):
    code, out, err = cli(capsys, "predict", model, people, "--keep", "Id,Name")
    assert code == 0, err
    table = pd.read_csv(pd.io.common.StringIO(out))
    source = pd.read_csv(people)
    assert list(table.columns) == ["Id", "Name", "species"]
    assert table["Id"].tolist() == source["Id"].tolist()
    assert table["Name"].tolist() == source["Name"].tolist()
    code, out, _ = cli(capsys, "predict", model, people, "--keep", "Id", "--format", "json")
    rows = json.loads(out)
    assert code == 0 and list(rows[0]) == ["Id", "species"] and rows[0]["Id"] == "1"


@pytest.mark.parametrize(
    ("keep", "expected"),
    [("id", "The data has 'Id' for 'id'"), ("species", "two columns of that name")],
)
def test_predict_keep_refuses_bad_names(capsys, model, people, keep, expected):
    code, out, err = cli(capsys, "predict", model, people, "--keep", keep)
    assert code == 2 and out == "" and err.startswith("error: ") and expected in err


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_float32_probabilities_print_their_shortest_repr(capsys, model, people, fmt):
    code, out, _ = cli(capsys, "predict", model, people, "--proba", "--format", fmt)
    assert code == 0
    if fmt == "csv":
        values = pd.read_csv(pd.io.common.StringIO(out), dtype=str).to_numpy().ravel()
    else:
        values = [str(v) for row in json.loads(out) for v in row.values()]
    for text in values:
        assert str(np.float32(text)) == text  # float32's shortest repr, no float64 noise
    assert any(len(text) > 6 for text in values)  # (not merely short by rounding)


def test_evaluate_quiet_prints_only_the_report(capsys, model, people):
    code, out, err = cli(capsys, "evaluate", model, people, "--out", "r.txt")
    assert code == 0 and "wrote r.txt" in err
    code, out, err = cli(capsys, "evaluate", model, people, "--out", "r.txt", "--quiet")
    assert code == 0 and out == "" and err == "", err
    assert Path("r.txt").read_text().startswith("classification of 'species'")
    code, out, err = cli(capsys, "evaluate", model, people, "--quiet")
    assert code == 0 and out.startswith("classification of 'species'") and err == ""
