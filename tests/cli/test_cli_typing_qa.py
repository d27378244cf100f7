"""The command line on messy exported tables (a QA pass): a 0.0/1.0 target trained and
predicted as classes, columns of numbers written as text and of dates refused with the
``--drop`` fix, the detected task said, ``--keep`` dates in JSON as ISO 8601, float32
predictions in their shortest repr, and the closing lines of evaluate and an interrupted run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score

from deltarule.io.model_file import load_model
from deltarule.preprocessing import TabularPreprocessor

from .cli_helpers import cli, houses


def _points(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x1": rng.normal(size=n).round(3), "x2": rng.normal(size=n).round(3)})


def _error(result: tuple[int, str, str]) -> str:
    code, _, err = result
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_a_target_of_floats_0_and_1_is_trained_and_predicted_as_classes(capsys, in_tmp):
    # (trained as a regression, it predicted -0.1, 1.097 and 0.447)
    frame = _points(300, 3)
    frame["y"] = (frame.x1 + frame.x2 <= 0).astype(float)
    with open("f01.csv", "w") as file:  # written 0.0/1.0, as a database export does
        file.write(frame.to_csv(index=False, float_format="%.3f").replace(".000\n", ".0\n"))
    assert "1.0\n" in open("f01.csv").read()
    code, _, err = cli(capsys, "train", "f01.csv", "--target", "y", "--epochs", "30")
    assert code == 0 and "(binary_crossentropy)" in err and "note:" not in err
    new = _points(50, 4)
    new.to_csv("new.csv", index=False)
    code, out, _ = cli(capsys, "predict", "f01.safetensors", "new.csv", "--format", "json")
    labels = [row["y"] for row in json.loads(out)]
    assert code == 0 and set(labels) <= {0.0, 1.0} and all(type(v) is float for v in labels)
    truth = (new.x1 + new.x2 <= 0).astype(float)
    assert accuracy_score(truth, labels) >= 0.9  # (the boundary is a straight line)
    # evaluate reads the saved classes back; a file writing the labels 0 and 1 matches them
    new.assign(y=truth.astype(int)).to_csv("labelled.csv", index=False)
    code, out, _ = cli(capsys, "evaluate", "f01.safetensors", "labelled.csv", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["task"] == "classification"
    assert report["metrics"]["accuracy"] == pytest.approx(accuracy_score(truth, labels))
    assert load_model("f01.safetensors").classes == [0.0, 1.0]


def test_a_count_target_says_the_task_was_detected_and_how_to_change_it(capsys, in_tmp):
    frame = _points(300, 3)
    frame["y"] = (5 + 3 * frame.x1 + 2 * frame.x2).round().clip(lower=0).astype(int)
    frame.to_csv("counts.csv", index=False)
    n_values = frame["y"].nunique()
    assert n_values > 2
    code, _, err = cli(capsys, "train", "counts.csv", "--target", "y", "--epochs", "1")
    assert code == 0 and (
        f"note: the task was detected as classification from the {n_values} whole-number "
        "values of the target 'y', each one a class; to predict numbers instead, pass "
        "--task regression." in err.splitlines()
    )
    code, _, err = cli(capsys, "train", "counts.csv", "--target", "y", "--epochs", "1",
                       "--task", "regression")  # fmt: skip
    assert code == 0 and "note:" not in err


@pytest.mark.parametrize(
    "values, distinct",
    [(lambda i: 1 + i % 30, 30), (lambda i: (i % 3) / 2, 3)],
    ids=["ratings-1-to-30", "0-0.5-1"],
)
def test_a_regression_of_few_values_says_the_task_was_detected(capsys, in_tmp, values, distinct):
    """The note was one-sided: 30 whole numbers or 0, 0.5 and 1 became a regression without
    a word (found by a QA pass with messy tables); many values stay quiet."""
    frame = _points(300, 3)
    frame["y"] = [values(i) for i in range(len(frame))]
    frame.to_csv("few.csv", index=False)
    code, _, err = cli(capsys, "train", "few.csv", "--target", "y", "--epochs", "1")
    assert code == 0 and (
        f"note: the task was detected as regression from the target 'y', which has "
        f"{distinct} distinct values; to make each one a class, pass --task classification."
        in err.splitlines()
    )
    frame["y"] = frame.x1 * 3.0  # (300 values: no note)
    frame.to_csv("many.csv", index=False)
    code, _, err = cli(capsys, "train", "many.csv", "--target", "y", "--epochs", "1")
    assert code == 0 and "note:" not in err


@pytest.mark.parametrize(
    "cells, signs",
    [
        (lambda v: f"{v:,}", "thousands separators"),
        (lambda v: f"{v % 101}%", "percent signs"),
        (lambda v: f"${v}.00", "currency signs"),
    ],
)
def test_feature_numbers_with_signs_are_an_error_naming_the_column(capsys, in_tmp, cells, signs):
    rng = np.random.default_rng(1)
    values = rng.integers(1000, 4000, 200)
    pd.DataFrame({"sqft": [cells(v) for v in values], "price": values * 150}).to_csv(
        "feat.csv", index=False
    )
    line = _error(cli(capsys, "train", "feat.csv", "--target", "price", "--epochs", "1"))
    assert f"column 'sqft' looks like numbers written with {signs} (such as " in line
    assert "at line 2 of 'feat.csv' (data row 1)" in line
    assert line.endswith("or drop it with --drop sqft.\n")


def test_target_and_one_row_advice_leave_out_regression_where_it_cannot_work(capsys, in_tmp):
    rng = np.random.default_rng(1)
    sqft = rng.integers(500, 4000, 60)
    pd.DataFrame({"sqft": sqft, "price": [f"{v * 150:,}" for v in sqft]}).to_csv(
        "tgt.csv", index=False
    )
    line = _error(cli(capsys, "train", "tgt.csv", "--target", "price"))
    assert "write them as plain numbers" in line and "--task regression" not in line
    with open("one.csv", "w") as file:
        file.write("a,b,y\n1,2,x\n")
    line = _error(cli(capsys, "train", "one.csv", "--target", "y"))
    assert "single class ('x')" in line and "--task regression" not in line


def _dated(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"when": pd.date_range("2020-01-01", periods=n, freq="D"), "x": rng.normal(size=n)}
    )
    return frame.assign(y=(frame.x > 0).astype(int))


def test_dates_are_refused_alike_from_csv_and_parquet_with_the_drop_fix(capsys, in_tmp):
    # (from a CSV the dates became ~130 one-hot categories, silently)
    frame = _dated()
    frame.to_parquet("d.parquet")
    frame.sample(frac=1, random_state=0).to_csv("d.csv", index=False)
    for data in ("d.parquet", "d.csv"):
        line = _error(cli(capsys, "train", data, "--target", "y", "--epochs", "1"))
        assert line.startswith("error: column 'when' holds dates or times")
        assert line.endswith("or drop it with --drop when.\n")
    code, _, _ = cli(capsys, "train", "d.csv", "--target", "y", "--epochs", "1", "--drop", "when")
    assert code == 0


def test_json_keeps_dates_times_durations_and_nullable_integers_typed(capsys, in_tmp):
    # (dates and durations were "Object of type datetime is not JSON serializable", and a
    # nullable integer column with a gap came out as floats)
    n = 20
    frame = pd.DataFrame({"when": pd.date_range("2020-01-01", periods=n), "x": np.arange(n) * 1.0})
    frame["y"] = np.arange(n) % 2
    frame["dt"] = pd.to_timedelta(np.arange(n), unit="h")
    frame.loc[2, "dt"] = pd.NaT
    frame["day"] = frame["when"].dt.date
    frame["id"] = pd.array([7, None, *range(n - 2)], dtype="Int64")
    frame.to_parquet("k.parquet")
    drop = "when,dt,day,id"
    assert cli(capsys, "train", "k.parquet", "--target", "y", "--drop", drop, "--epochs", "1",
               "--quiet")[0] == 0  # fmt: skip
    code, out, err = cli(capsys, "predict", "k.safetensors", "k.parquet", "--keep", drop,
                         "--format", "json")  # fmt: skip
    rows = json.loads(out)
    assert (code, err) == (0, "")
    assert [row["when"] for row in rows[:2]] == ["2020-01-01T00:00:00", "2020-01-02T00:00:00"]
    assert [row["day"] for row in rows[:2]] == ["2020-01-01", "2020-01-02"]
    assert [row["dt"] for row in rows[:4]] == ["P0DT0H0M0S", "P0DT1H0M0S", None, "P0DT3H0M0S"]
    assert [row["id"] for row in rows[:3]] == [7, None, 0]


def test_regression_predictions_are_float32_in_its_shortest_repr(capsys, in_tmp):
    # (printed as float64 reprs of float32 values: 236865.421875)
    houses().to_csv("houses.csv", index=False)
    assert cli(capsys, "train", "houses.csv", "--target", "price", "--epochs", "5",
               "--quiet")[0] == 0  # fmt: skip
    new = houses(seed=3).drop(columns="price")
    new.to_csv("new.csv", index=False)
    code, out, _ = cli(capsys, "predict", "houses.safetensors", "new.csv")
    loaded = load_model("houses.safetensors")
    assert loaded.network.dtype == np.float32
    pre = TabularPreprocessor.from_dict(loaded.preprocessing)
    outputs = loaded.network.predict(pre.transform(new, dtype=np.float32))[:, 0]
    printed = out.splitlines()[1:]
    assert code == 0 and len(printed) == len(outputs)
    for text, value in zip(printed, outputs):
        assert np.float32(float(text)) == value  # the same float32 ...
        assert text == str(value)  # ... in NumPy's shortest repr of a float32


def test_evaluate_with_an_unseen_label_says_how_to_fix_it(capsys, in_tmp):
    with open("e.csv", "w") as file:
        file.write("a,y\n1,x\n2,y\n1,x\n2,y\n1,x\n2,y\n")
    assert cli(capsys, "train", "e.csv", "--target", "y", "--epochs", "1", "--quiet")[0] == 0
    with open("e2.csv", "w") as file:
        file.write("a,y\n1,x\n2,z\n")
    line = _error(cli(capsys, "evaluate", "e.safetensors", "e2.csv"))
    assert "the target label 'z' at line 3 of 'e2.csv' (data row 2) was not seen" in line
    assert "drop those rows to score the others" in line


def test_an_interrupted_run_says_interrupted_once(capsys, in_tmp, flowers_csv, monkeypatch):
    import deltarule.cli._train_fit as train_fit

    real = train_fit.fit_resumable

    def interrupted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        history = real(*args, **kwargs)
        history.stop_reason = f"interrupted (Ctrl-C) after epoch {len(history)}"
        return history

    monkeypatch.setattr(train_fit, "fit_resumable", interrupted)
    code, _, err = cli(capsys, "train", flowers_csv, "--target", "species", "--epochs", "2",
                       "--out", "m.st")  # fmt: skip
    assert code == 130
    assert "interrupted (Ctrl-C) after epoch 2; the model trained so far is in m.st" in err
    assert "interrupted: interrupted" not in err
