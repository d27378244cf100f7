"""The tutorial's two stopping rules at the command line: --target-error, --until-all-correct."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from deltarule.io import load_model

from .cli_helpers import cli, flowers


@pytest.fixture
def data(in_tmp):
    flowers().to_csv("flowers.csv", index=False)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": x @ [1.0, -2.0]}).to_csv("reg.csv", index=False)
    return in_tmp


def _summary(path):
    return load_model(path).header["training"]["summary"]


def test_until_all_correct_stops_when_every_example_is_classified(capsys, data):
    code, _, err = cli(capsys, "train", "flowers.csv", "--target", "species", "--quiet",
                       "--epochs", "500", "--patience", "0", "--learning-rate", "0.05",
                       "--validation-split", "0", "--until-all-correct",
                       "--out", "m.st")  # fmt: skip
    assert code == 0, err
    summary = _summary("m.st")
    assert summary["stop_reason"] == "every training example classified correctly"
    assert summary["epochs"] < 500
    # the model really classifies every training row correctly (an independent check)
    code, out, _ = cli(capsys, "evaluate", "m.st", "flowers.csv")
    assert code == 0 and "\naccuracy          1\n" in out


def test_target_error_stops_at_the_error(capsys, data):
    code, _, err = cli(capsys, "train", "flowers.csv", "--target", "species", "--quiet",
                       "--epochs", "500", "--patience", "0", "--validation-split", "0",
                       "--target-error", "0.5", "--out", "m.st")  # fmt: skip
    assert code == 0, err
    summary = _summary("m.st")
    assert summary["stop_reason"].startswith("target error reached (loss ")
    history = load_model("m.st").header["training"]["history"]
    assert history["loss"][-1] <= 0.5 < min(history["loss"][:-1], default=1.0)


@pytest.mark.parametrize("value", ["0", "-1", "inf", "nan"])
def test_a_target_error_out_of_range_is_refused(capsys, data, value):
    code, out, err = cli(capsys, "train", "flowers.csv", "--target", "species",
                         f"--target-error={value}", "--out", "m.st")  # fmt: skip
    assert (code, out) == (2, "")
    assert err.startswith(f"error: --target-error {float(value)} is out of range; expected a")


def test_until_all_correct_on_a_regression_target_is_refused_in_cli_terms(capsys, data):
    code, _, err = cli(capsys, "train", "reg.csv", "--target", "y", "--until-all-correct",
                       "--out", "r.st")  # fmt: skip
    assert code == 2
    assert "--until-all-correct" in err and "--target-error E" in err
    assert "stop_when_all_correct" not in err


def test_the_rules_are_settings_of_a_resumable_run(capsys, data):
    code, _, err = cli(capsys, "train", "flowers.csv", "--target", "species", "--quiet",
                       "--epochs", "3", "--target-error", "0.001", "--checkpoint", "ck",
                       "--out", "m.st")  # fmt: skip
    assert code == 0, err
    settings = json.loads((data / "ck" / "settings.json").read_text())
    values = settings.get("settings", settings)
    assert values["target_error"] == 0.001 and values["until_all_correct"] is False
    code, _, err = cli(capsys, "train", "--resume", "ck", "--target-error", "0.1")
    assert code == 2 and "--target-error" in err  # (a resumed run keeps its settings)


@pytest.mark.parametrize(("text", "epochs"), [("1e1", 10), ("12", 12), ("1_0", 10), ("10.0", 10)])
def test_counts_may_be_written_as_r_writes_them(capsys, data, text, epochs):
    # R's neuralnet takes stepmax = 1e5; a whole number written so is a count
    code, _, err = cli(capsys, "train", "flowers.csv", "--target", "species", "--quiet",
                       "--patience", "0", "--epochs", text, "--out", "m.st")  # fmt: skip
    assert code == 0, err
    assert _summary("m.st")["epochs"] == epochs


@pytest.mark.parametrize("text", ["2.5", "ten", "inf", "nan"])
def test_a_count_that_is_not_a_whole_number_is_a_usage_error(capsys, data, text):
    code, out, err = cli(capsys, "train", "flowers.csv", "--target", "species",
                         "--epochs", text)  # fmt: skip
    assert (code, out) == (2, "")
    assert err == (
        f"error: argument --epochs: {text!r} is neither a whole number nor auto; expected "
        "e.g. 100, 1_000, 1e5 or auto (see 'deltarule train --help')\n"
    )


def test_gradient_threshold_stops_as_r_neuralnets_threshold(capsys, tmp_path):
    # (QA as an R neuralnet user: its threshold, the default stopping rule there, had no
    # option; Python's GradientNormBelow(rule="neuralnet") is it)
    import json

    from deltarule.cli import main

    data = tmp_path / "xor.csv"
    data.write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    out = tmp_path / "x.safetensors"
    code = main(["train", str(data), "--target", "y", "--validation-split", "0", "--hidden",
                 "3", "--activation", "tanh", "--optimizer", "rprop_plus", "--loss",
                 "half_squared_error", "--gradient-threshold", "0.01", "--epochs", "2000",
                 "--quiet", "--out", str(out)])  # fmt: skip
    assert code == 0
    capsys.readouterr()
    assert main(["inspect", str(out), "--format", "json"]) == 0
    training = json.loads(capsys.readouterr().out)["training"]
    assert training["stop_reason"].startswith("largest gradient component ")
    assert "below 0.01 (R neuralnet's rule" in training["stop_reason"]
    assert training["epochs"] < 2000
    assert training["settings"]["gradient_threshold"] == 0.01
    assert training["settings"]["patience"] == 0  # (the rule decides, as --target-error)
