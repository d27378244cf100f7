"""``deltarule explain --model``: a --target or --input value that is blank, infinite or NaN
is one ``error:`` line in the command line's terms (naming the option, what it takes and how
to give it), for a regression and a classification model, with --raw and without; never a
data file's advice ("at row 1", "leave the cell empty and impute it") nor an internal error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deltarule.cli import main

from .cli_helpers import cli

FILE_WORDS = ("row 1", "rows counted from", "impute it", "every row needs", "this is a bug")
"""A data file's advice, or an internal error's: never in these messages."""


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    """A regression model (columns a, b numbers, c a category; target y) trained without
    imputation, the same with --impute mean, and a classifier (a, b; label no/yes)."""
    folder = tmp_path_factory.mktemp("explain_values")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 40))
    reg = pd.DataFrame({"a": a, "b": b, "c": ["r", "g"] * 20, "y": 2 * a + b})
    reg.to_csv(folder / "reg.csv", index=False)
    cls = pd.DataFrame({"a": a, "b": b, "label": np.where(a + b > 0, "yes", "no")})
    cls.to_csv(folder / "cls.csv", index=False)
    paths = {}
    for name, data, target, *options in [
        ("regression", "reg.csv", "y"),
        ("imputed", "reg.csv", "y", "--impute", "mean"),
        ("classification", "cls.csv", "label"),
    ]:
        paths[name] = folder / f"{name}.safetensors"
        argv = ["train", folder / data, "--target", target, "--epochs", "2", "--hidden", "3",
                "--quiet", "--out", paths[name], *options]  # fmt: skip
        assert main([str(a) for a in argv]) == 0
    return paths


def one_error(capsys, option: str, *argv: str) -> str:
    """The one ``error:`` line of ``deltarule explain ARGV``, which names ``option``."""
    code, out, err = cli(capsys, "explain", *argv)
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert err.startswith("error: ") and "Traceback" not in err, err
    assert option in err, err
    assert not any(words in err for words in FILE_WORDS), err
    return err


# ------------------------------------------------------- --target with --raw
REG_ROW, CLS_ROW = "0.1,0.2,r", "0.1,0.2"


@pytest.mark.parametrize("target", [" ", ""])
def test_a_blank_raw_regression_target_is_said_to_be_empty(models, capsys, target):
    # (' ' was an internal IndexError: a blank CSV line has no row to read)
    err = one_error(capsys, "--target", "--model", models["regression"], "--raw", "--input",
                    REG_ROW, "--target", target)  # fmt: skip
    assert f"--target {target!r} is empty" in err
    assert "target column 'y': one finite number, in the data's units, e.g. --target 1.5" in err


@pytest.mark.parametrize("target", ["inf", "-inf", "nan", "1e999"])
def test_a_non_finite_raw_regression_target_asks_for_a_finite_number(models, capsys, target):
    # (inf: "the target 'y' holds infinity at row 1 ... leave the cell empty and impute it";
    # nan: "the target 'y' is missing a value at row 1")
    err = one_error(capsys, "--target", "--model", models["regression"], "--raw", "--input",
                    REG_ROW, f"--target={target}")  # fmt: skip
    assert f"--target {target!r} is {float(target)}, not a finite number" in err
    assert "one finite number, in the data's units" in err


@pytest.mark.parametrize("target", [" ", ""])
def test_a_blank_raw_class_target_is_said_to_be_empty(models, capsys, target):
    # (' ' was an internal IndexError)
    err = one_error(capsys, "--target", "--model", models["classification"], "--raw",
                    "--input", CLS_ROW, "--target", target)  # fmt: skip
    assert f"--target {target!r} is empty" in err
    assert "give the desired class as its label" in err and "'no', 'yes'" in err
    assert "leave --target out" in err


@pytest.mark.parametrize("target", ["inf", "nan"])
def test_a_non_finite_raw_class_target_is_not_a_class(models, capsys, target):
    err = one_error(capsys, "--target", "--model", models["classification"], "--raw",
                    "--input", CLS_ROW, "--target", target)  # fmt: skip
    assert f"--target {target!r} is not one of the model's classes ('no', 'yes')" in err


# ---------------------------------------------------- --target without --raw
@pytest.mark.parametrize("name", ["regression", "classification"])
@pytest.mark.parametrize("target", [" ", "", "inf", "nan"])
def test_a_blank_or_non_finite_network_target_is_refused(models, capsys, name, target):
    row = "0.1,0.2,1,0" if name == "regression" else "0.1,0.2"
    err = one_error(capsys, "--target", "--model", models[name], "--input", row, "--target",
                    target)  # fmt: skip
    if target.strip():
        assert f"--target value 1 is {target}; expected finite numbers (no nan or inf)" in err
    else:
        assert (
            f"--target must be comma-separated numbers such as 0.05,0.1; received {target!r}" in err
        )


# ------------------------------------------------------- --input with --raw
@pytest.mark.parametrize(("name", "position"), [("regression", 1), ("regression", 3),
                                              ("classification", 1)])  # fmt: skip
def test_a_raw_cell_of_only_spaces_asks_for_a_value(models, capsys, name, position):
    # (a number column's: "column 'a' holds text ('  ' at row 1 ...)"; a category's: read
    # as a category not seen in training)
    cells = (REG_ROW if name == "regression" else CLS_ROW).split(",")
    cells[position - 1] = "  "
    column = "abc"[position - 1]
    target = "1" if name == "regression" else "yes"
    err = one_error(capsys, "--input", "--model", models[name], "--raw", "--input",
                    ",".join(cells), "--target", target)  # fmt: skip
    assert f"--input's value {position} (column {column!r}) is '  ', only spaces" in err
    assert f"give a value for {column}." in err


@pytest.mark.parametrize("name", ["regression", "classification"])
@pytest.mark.parametrize("cell", ["inf", "-inf", "1e999"])
def test_an_infinite_raw_cell_asks_for_a_finite_number(models, capsys, name, cell):
    # (it said "column 'a' holds infinity at row 1 ... leave the cell empty and impute it")
    row = f"{cell},0.2,r" if name == "regression" else f"{cell},0.2"
    err = one_error(capsys, "--input", "--model", models[name], "--raw", f"--input={row}")
    assert f"--input's value 1 (column 'a') is {cell!r}, not a finite number" in err
    assert "give a as a finite number in the data's units." in err


def test_an_infinite_raw_cell_of_an_imputing_model_may_be_left_empty(models, capsys):
    err = one_error(capsys, "--input", "--model", models["imputed"], "--raw", "--input",
                    "inf,0.2,r", "--target", "1")  # fmt: skip
    assert "not a finite number" in err
    assert "or leave it empty, nothing between the commas, for the model's imputation" in err
    assert cli(capsys, "explain", "--model", models["imputed"], "--raw", "--input", ",0.2,r",
               "--target", "1")[0] == 0  # fmt: skip


@pytest.mark.parametrize("cell", ["abc", "1_000", "\uff11"])  # (Python reads the last two)
def test_a_raw_cell_that_is_not_a_number_names_its_column(models, capsys, cell):
    # (it said "column 'a' holds text ('abc' at row 1 (rows counted from 1))")
    err = one_error(capsys, "--input", "--model", models["regression"], "--raw", "--input",
                    f"{cell},0.2,r", "--target", "1")  # fmt: skip
    assert f"--input's value 1 (column 'a') is {cell!r}, not a number" in err


@pytest.mark.parametrize("cell", ["nan", "?", "NA"])
def test_a_raw_cell_marked_missing_asks_for_its_value(models, capsys, cell):
    # ('?' said "column 'a' has 1 missing value(s) ... at row 1 ... drop those rows")
    err = one_error(capsys, "--input", "--model", models["regression"], "--raw", "--input",
                    f"{cell},0.2,r", "--target", "1")  # fmt: skip
    assert f"--input's value 1 (column 'a') is missing ({cell!r})" in err
    assert "give a value for a." in err
    assert cli(capsys, "explain", "--model", models["imputed"], "--raw", "--input",
               f"{cell},0.2,r", "--target", "1")[0] == 0  # fmt: skip
