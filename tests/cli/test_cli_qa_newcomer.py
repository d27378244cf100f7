"""A first-time user's QA report on the command line: the README's files made by
``deltarule data``, hints that name the command run, stopping rules that decide, output
formats from ``--out``'s extension."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import deltarule as dr
from deltarule.cli import MODEL_HINTS
from deltarule.datasets import dataset_table, load_dataset
from deltarule.io import load_model, save_model

from .cli_helpers import cli, flowers


def one_error(code: int, out: str, err: str) -> str:
    assert (code, out) == (2, ""), err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    return err


@pytest.fixture
def flower_model(capsys, in_tmp):
    flowers().to_csv("flowers.csv", index=False)
    code, _, err = cli(capsys, "train", "flowers.csv", "--target", "species", "--epochs", "3",
                       "--quiet", "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    return in_tmp


# ---------------------------------------------------------------- #1 deltarule data
def test_data_writes_the_split_train_dataset_uses(capsys, in_tmp):
    assert cli(capsys, "data", "iris", "--split", "train", "--out", "iris.csv")[0] == 0
    assert cli(capsys, "data", "iris", "--split", "test", "--out", "new.csv")[0] == 0
    train, test = pd.read_csv("iris.csv"), pd.read_csv("new.csv")
    assert list(train.columns)[-1] == "species" and (len(train), len(test)) == (120, 30)
    assert set(test["species"]) == {"setosa", "versicolor", "virginica"}
    assert train.iloc[0].tolist() == [5.1, 3.5, 1.4, 0.2, "setosa"]  # (raw, as shipped)
    # the same rows as train --dataset iris tests on (seed 0), raw: scaled as it scales
    data = load_dataset("iris", seed=0)
    raw = test.drop(columns="species").to_numpy()
    np.testing.assert_allclose((raw - data.feature_mean) / data.feature_scale, data.X_test,
                               atol=1e-6)  # fmt: skip
    assert (test["species"].to_numpy() == np.asarray(data.classes)[data.y_test]).all()


def test_a_built_in_model_evaluates_on_the_written_test_rows(capsys, in_tmp):
    code, out, err = cli(capsys, "train", "--dataset", "iris", "--epochs", "20", "--quiet",
                         "--out", "iris.safetensors")  # fmt: skip
    assert code == 0, err
    reported = float(out.split("test accuracy: ")[1].split()[0])
    assert cli(capsys, "data", "iris", "--split", "test", "--out", "test.csv")[0] == 0
    code, out, err = cli(capsys, "evaluate", "iris.safetensors", "test.csv")
    assert code == 0, err
    assert "of 'species' on 30 rows" in out
    accuracy = float(out.split("\naccuracy")[1].split()[0])
    assert accuracy == pytest.approx(reported, abs=5e-5)


def test_data_goes_to_standard_output_and_tsv_by_extension(capsys, in_tmp):
    code, out, err = cli(capsys, "data", "wine", "--split", "test")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("alcohol,malic_acid,") and lines[0].endswith(",cultivar")
    assert len(lines) == 1 + 36
    assert cli(capsys, "data", "wine", "--out", "-")[1].count("\n") == 1 + 178
    assert cli(capsys, "data", "diabetes", "--out", "d.tsv", "--quiet")[:3:2] == (0, "")
    assert open("d.tsv").readline().startswith("age\tsex\tbmi")


def test_digits_pixels_are_whole_numbers(capsys, in_tmp):
    code, out, _ = cli(capsys, "data", "digits", "--split", "test")
    assert code == 0
    row = out.splitlines()[1].split(",")
    assert len(row) == 65 and all(cell.isdigit() for cell in row)


def test_data_replaces_a_file_atomically(capsys, in_tmp):
    with open("iris.csv", "w") as handle:
        handle.write("old\n")
    assert cli(capsys, "data", "iris", "--out", "iris.csv")[0] == 0
    assert len(pd.read_csv("iris.csv")) == 150
    assert sorted(p.name for p in in_tmp.iterdir()) == ["iris.csv"]  # (no temporary left)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["data", "irs"], "unknown dataset 'irs'; expected one of: digits, iris"),
        (["data", "iris", "--out", "iris.json"], "--out iris.json has extension '.json'"),
        (["data", "iris", "--out", "iris"], "has no extension; data writes a table as CSV"),
        (["data", "iris", "--data-dir", "x"], "--data-dir is where Fashion-MNIST's files are"),
        (["data", "iris", "--seed", "-1"], "--seed -1 is out of range"),
        (["data", "iris", "--out", "nowhere/iris.csv"], "--out"),
    ],
)
def test_data_refuses_bad_input_in_one_line(capsys, in_tmp, argv, expected):
    err = one_error(*cli(capsys, *argv))
    assert expected in err
    assert list(in_tmp.iterdir()) == []


# ---------------------------------------------- #4 a CSV where the model is expected
@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "flowers.csv", "m.safetensors"],
        ["evaluate", "flowers.csv", "m.safetensors"],
        ["inspect", "flowers.csv"],
        ["draw", "flowers.csv", "--out", "a.svg"],
        ["explain", "--model", "flowers.csv"],
    ],
)
def test_the_model_hint_names_the_command_run(capsys, flower_model, argv):
    err = one_error(*cli(capsys, *argv))
    assert "flowers.csv is not a valid deltarule model file" in err
    assert MODEL_HINTS[argv[0]] in err
    if argv[0] != "predict":  # (before: 'deltarule predict MODEL DATA' for every command)
        assert "deltarule predict" not in err
    if argv[0] in ("inspect", "draw"):
        assert f"deltarule {argv[0]} MODEL" in err and "comes first" not in err


# ---------------------------------------------------- #5 a model file given as DATA
@pytest.mark.parametrize("extra", [[], ["--out", "y.safetensors"]])
def test_train_on_a_model_file_says_it_is_not_data(capsys, flower_model, extra):
    err = one_error(*cli(capsys, "train", "m.safetensors", "--target", "species", *extra))
    assert "DATA m.safetensors is a model file (safetensors), not a data table" in err
    assert "is the DATA file read by this command" not in err  # (before, without --out)
    assert "deltarule predict m.safetensors DATA" in err
    assert not (flower_model / "y.safetensors").exists()


# ----------------------------------------------------------- #8 lm with cross-entropy
def test_lm_with_a_classification_loss_is_refused_before_training(capsys, flower_model):
    err = one_error(*cli(capsys, "train", "flowers.csv", "--target", "species",
                         "--optimizer", "lm", "--out", "lm.safetensors"))  # fmt: skip
    assert "--optimizer lm (Levenberg–Marquardt) needs a squared-error loss" in err
    assert "--optimizer lbfgs" in err and "--loss mse" in err
    assert "optimizer='lbfgs'" not in err and "training [" not in err
    assert not (flower_model / "lm.safetensors").exists()
    code, _, err = cli(capsys, "train", "flowers.csv", "--target", "species", "--optimizer",
                       "lm", "--loss", "mse", "--epochs", "3", "--quiet",
                       "--out", "l.st")  # fmt: skip
    assert code == 0, err


def test_lm_with_a_chosen_cross_entropy_names_the_option(capsys, flower_model):
    err = one_error(*cli(capsys, "train", "flowers.csv", "--target", "species", "--optimizer",
                         "lm", "--loss", "categorical_crossentropy"))  # fmt: skip
    assert "would train with --loss categorical_crossentropy" in err


# --------------------------------------------------------------- #9 stopping rules
def _settings(path):
    return load_model(path).header["training"]["summary"]["settings"]


def test_a_stopping_rule_decides_unless_patience_is_given(capsys, flower_model):
    argv = ["train", "flowers.csv", "--target", "species", "--quiet", "--epochs", "40",
            "--target-error", "1e-9"]  # fmt: skip
    assert cli(capsys, *argv, "--out", "a.st")[0] == 0
    settings = _settings("a.st")
    assert settings["patience"] == 0 and settings["target_error"] == 1e-9
    assert settings["until_all_correct"] is False
    summary = load_model("a.st").header["training"]["summary"]
    assert summary["stop_reason"] == "max epochs (40) reached" and summary["epochs"] == 40
    assert cli(capsys, *argv, "--patience", "3", "--out", "b.st")[0] == 0
    assert _settings("b.st")["patience"] == 3  # (given: both rules apply)
    assert cli(capsys, "train", "flowers.csv", "--target", "species", "--quiet", "--epochs",
               "2", "--until-all-correct", "--out", "c.st")[0] == 0  # fmt: skip
    assert _settings("c.st")["until_all_correct"] is True
    assert _settings("c.st")["patience"] == 0


def test_the_help_says_how_the_rules_and_patience_interact(capsys):
    code, out, _ = cli(capsys, "train", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "early stopping is off unless --patience is given too" in text


def test_the_learning_rate_used_is_recorded(capsys, flower_model):
    # (before: learning_rate=None in inspect, when adam's 0.001 was used)
    assert _settings("m.safetensors")["learning_rate"] == pytest.approx(0.001)
    code, out, _ = cli(capsys, "inspect", "m.safetensors")
    assert code == 0 and "learning_rate=0.001" in out and "learning_rate=None" not in out


# ------------------------------------------------------ #10 format from --out's extension
def test_predict_writes_json_for_a_json_out(capsys, flower_model):
    code, out, err = cli(capsys, "predict", "m.safetensors", "flowers.csv", "--out", "p.json")
    assert (code, out, err) == (0, "", "wrote p.json\n")
    rows = json.loads(open("p.json").read())  # (before: CSV inside p.json)
    assert len(rows) == 60 and set(rows[0]) == {"species"}
    assert cli(capsys, "predict", "m.safetensors", "flowers.csv", "--out", "p.csv")[0] == 0
    assert open("p.csv").readline() == "species\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "m.safetensors", "flowers.csv", "--format", "csv", "--out", "p.json"],
        ["predict", "m.safetensors", "flowers.csv", "--format", "json", "--out", "p.csv"],
        ["evaluate", "m.safetensors", "flowers.csv", "--format", "text", "--out", "p.json"],
        ["evaluate", "m.safetensors", "flowers.csv", "--format", "json", "--out", "p.txt"],
        ["inspect", "m.safetensors", "--format", "json", "--out", "p.txt"],
    ],
)
def test_a_format_that_contradicts_the_extension_is_refused(capsys, flower_model, argv):
    err = one_error(*cli(capsys, *argv))
    given, out = argv[argv.index("--format") + 1], argv[-1]
    assert f"--format {given} does not match --out {out}" in err
    assert "leave out --format" in err
    assert not (flower_model / out).exists()


def test_evaluate_and_inspect_take_the_format_from_the_extension(capsys, flower_model):
    assert cli(capsys, "evaluate", "m.safetensors", "flowers.csv", "--out", "r.json")[0] == 0
    assert json.loads(open("r.json").read())["rows"] == 60
    assert cli(capsys, "evaluate", "m.safetensors", "flowers.csv", "--out", "r.txt")[0] == 0
    assert open("r.txt").readline().startswith("classification of 'species'")
    code, out, err = cli(capsys, "inspect", "m.safetensors", "--out", "i.json")
    assert (code, out, err) == (0, "", "wrote i.json\n")
    assert json.loads(open("i.json").read())["kind"] == "train"
    assert cli(capsys, "inspect", "m.safetensors", "--out", "i.txt", "--quiet")[1:] == ("", "")
    assert open("i.txt").readline().startswith("m.safetensors: ")
    # an unknown extension keeps the default, as before
    assert cli(capsys, "predict", "m.safetensors", "flowers.csv", "--out", "p.out")[0] == 0
    assert open("p.out").readline() == "species\n"


# ------------------------------------------------------------- #11 option consistency
def test_predict_takes_quiet_and_inspect_takes_out(capsys, flower_model):
    code, out, err = cli(capsys, "predict", "m.safetensors", "flowers.csv", "--out", "p.csv",
                         "--quiet")  # fmt: skip
    assert (code, out, err) == (0, "", "")
    err = one_error(*cli(capsys, "inspect", "m.safetensors", "--out", "m.safetensors"))
    assert "is the MODEL file read by this command" in err


def test_a_network_saved_from_python_still_inspects(capsys, in_tmp):
    save_model(dr.Network([2, 3, 1], seed=0), "net.safetensors")
    code, out, _ = cli(capsys, "inspect", "net.safetensors", "--format", "json")
    assert code == 0 and json.loads(out)["total_parameters"] == 13


def test_dataset_table_matches_load_dataset_for_every_scikit_learn_dataset():
    for name in ("digits", "iris", "wine", "breast_cancer", "diabetes"):
        table, data = dataset_table(name, "train", seed=3), load_dataset(name, seed=3)
        columns = list(table)
        raw = np.column_stack([table[c] for c in columns[:-1]]).astype(float)
        np.testing.assert_allclose((raw - data.feature_mean) / data.feature_scale,
                                   data.X_train, atol=1e-5)  # fmt: skip
        assert columns[:-1] == list(data.feature_names)


def test_draw_values_on_a_crowded_network_warns_how_to_read_them(capsys, flower_model):
    # (a visual QA pass: --values on a 4-64-3 network piled its labels on each other)
    code, _, err = cli(capsys, "draw", "m.safetensors", "--values", "--out", "v.svg")
    assert code == 0
    assert "warning: --values writes 48 weights between two layers" in err
    assert "--max-neurons 3" in err
    code, _, err = cli(capsys, "draw", "m.safetensors", "--values", "--max-neurons", "3",
                       "--out", "v3.svg")  # fmt: skip
    assert code == 0 and "warning" not in err
