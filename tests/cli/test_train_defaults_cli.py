"""``deltarule train``'s default length of training, ``--epochs auto``: until early
stopping ends the run on the validation loss (at most 1,000 epochs), instead of 100 epochs,
which left most small tables undertrained and warned of a loss still falling; and its
``--min-delta`` (scikit-learn's ``tol``), the least fall that counts as an improvement."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest

from deltarule.cli import _train_args, main
from deltarule.io import load_model

from .cli_helpers import cli
from .test_resume_cli import run_until_epoch, three_classes


def _summary(path: Path | str) -> dict:
    return load_model(path).training["summary"]


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory) -> Path:
    """The README's iris.csv: the built-in iris's training rows (120), as ``deltarule data``
    writes them."""
    path = tmp_path_factory.mktemp("iris") / "iris.csv"
    assert main(["data", "iris", "--split", "train", "--out", str(path)]) == 0
    return path


def test_the_default_run_stops_when_the_validation_loss_stops_improving(capsys, in_tmp):
    code, out, err = cli(capsys, "train", "--dataset", "iris", "--out", "m.safetensors")
    assert code == 0, err
    reason = "no improvement of val_loss by more than 0.0001 for 10 epochs"
    assert f"stopped: {reason}" in err  # says why it stopped
    assert "warning" not in err  # (was: stopped at 100 epochs with the loss still falling)
    summary = _summary("m.safetensors")
    assert summary["stop_reason"].startswith(reason)
    assert 100 < summary["epochs"] < _train_args.MAX_AUTO_EPOCHS  # (seed 0: 200)
    settings = summary["settings"]  # what was used
    assert settings["epochs"] == _train_args.MAX_AUTO_EPOCHS and settings["epochs_auto"] is True
    assert settings["patience"] == 10 and settings["learning_rate"] == pytest.approx(0.001)
    assert settings["min_delta"] == _train_args.MIN_DELTA == 1e-4


def test_a_fall_below_min_delta_is_no_improvement(capsys, in_tmp):
    # The built-in wine at seed 2: its 14 validation rows are all correct from early on, and
    # their loss kept falling by ~1e-5 an epoch, so that --min-delta 0 (Keras's default)
    # trains to the 1,000-epoch cap; scikit-learn's tol (the default) stops it far earlier,
    # at the same test accuracy.
    def run(*options: str) -> tuple[dict, float]:
        code, out, err = cli(capsys, "train", "--dataset", "wine", "--seed", "2", "--quiet",
                             "--out", "m.safetensors", *options)  # fmt: skip
        assert code == 0, err
        return _summary("m.safetensors"), float(out.split("test accuracy: ")[1].split()[0])

    (every_fall, every_score), (default, score) = run("--min-delta", "0"), run()
    assert every_fall["epochs"] == _train_args.MAX_AUTO_EPOCHS
    assert every_fall["settings"]["min_delta"] == 0.0
    assert default["epochs"] < _train_args.MAX_AUTO_EPOCHS / 2
    assert default["stop_reason"].startswith("no improvement of val_loss by more than 0.0001")
    assert score >= every_score
    larger, _ = run("--min-delta", "0.001")  # a larger one stops sooner still
    assert larger["epochs"] < default["epochs"] and larger["settings"]["min_delta"] == 0.001


@pytest.mark.parametrize(
    ("options", "why"),
    [(["--patience", "0"], "(--patience 0)"), (["--target-error", "0.5"], "(a stopping rule")],
)
def test_a_min_delta_without_early_stopping_is_refused(options, why, capsys, in_tmp):
    # (review: accepted and recorded, it changed nothing)
    code, _, err = cli(capsys, "train", "--dataset", "iris", "--min-delta", "0.01", *options)
    assert code == 2 and err.startswith("error: --min-delta 0.01 would be ignored: early ")
    assert why in err and "Give --patience N too" in err
    code, _, err = cli(capsys, "train", "--dataset", "iris", "--min-delta", "0.01", "--epochs",
                       "2", "--target-error", "0.5", "--patience", "5", "--quiet")  # fmt: skip
    assert code == 0, err  # (both rules asked for: the first met stops)


@pytest.mark.parametrize("value", ["-1", "nan", "inf"])
def test_a_bad_min_delta_is_refused_naming_it(value, capsys, in_tmp):
    code, _, err = cli(capsys, "train", "--dataset", "iris", "--min-delta", value)
    assert code == 2 and err.startswith("error: --min-delta ") and "out of range" in err
    assert "expected a number >= 0 such as 0.0001" in err


@pytest.mark.parametrize("hidden", ["64", "0"])
def test_the_default_scores_at_least_what_100_epochs_did_on_iris(hidden, iris_csv, capsys, in_tmp):
    # A newcomer's `train iris.csv --target species --hidden 0` scored 0.50 at 100 epochs.
    def accuracy(*epochs: str) -> float:
        code, out, err = cli(capsys, "train", iris_csv, "--target", "species", "--hidden",
                             hidden, "--quiet", "--out", "m.safetensors", *epochs)  # fmt: skip
        assert code == 0, err
        return float(out.split("validation accuracy: ")[1].split()[0])

    before, now = accuracy("--epochs", "100"), accuracy()
    assert now >= before and now >= 0.9


def test_an_explicit_epochs_count_trains_as_before(capsys, in_tmp, monkeypatch):
    # --epochs N is what it was; auto changes the count alone: forced back to 100 epochs,
    # the default run is bitwise the --epochs 100 run (the default before auto).
    argv = ["train", "--dataset", "wine", "--quiet"]
    assert cli(capsys, *argv, "--epochs", "100", "--out", "given.safetensors")[0] == 0
    monkeypatch.setattr(_train_args, "MAX_AUTO_EPOCHS", 100)
    assert cli(capsys, *argv, "--out", "auto.safetensors")[0] == 0
    given, auto = load_model("given.safetensors"), load_model("auto.safetensors")
    assert given.network.parameters.tobytes() == auto.network.parameters.tobytes()
    timeless = [{k: v for k, v in run.training["history"].items() if k != "seconds"}
                for run in (given, auto)]  # fmt: skip
    assert timeless[0] == timeless[1]
    settings = given.training["summary"]["settings"]
    assert settings["epochs"] == 100 and settings["epochs_auto"] is False
    assert auto.training["summary"]["settings"]["epochs_auto"] is True


@pytest.mark.parametrize(
    "options", [["--validation-split", "0"], ["--patience", "0"], ["--target-error", "1e-9"]]
)
def test_without_early_stopping_the_default_is_100_epochs(options, capsys, in_tmp):
    code, _, err = cli(capsys, "train", "--dataset", "iris", "--hidden", "4", "--quiet",
                       "--out", "m.safetensors", *options)  # fmt: skip
    assert code == 0, err
    summary = _summary("m.safetensors")
    assert summary["epochs"] == _train_args.FIXED_EPOCHS == 100
    assert summary["settings"]["epochs"] == 100 and summary["settings"]["epochs_auto"] is True
    if "--validation-split" not in options:  # (no early stopping: no least fall recorded)
        assert summary["settings"]["min_delta"] is None


def test_epochs_auto_can_be_given_and_a_bad_count_names_it(capsys, in_tmp):
    code, _, err = cli(capsys, "train", "--dataset", "iris", "--epochs", "auto", "--quiet",
                       "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    assert _summary("m.safetensors")["settings"]["epochs_auto"] is True
    code, _, err = cli(capsys, "train", "--dataset", "iris", "--epochs", "often")
    assert code == 2 and "'often' is neither a whole number nor auto" in err
    code, _, err = cli(capsys, "train", "--dataset", "iris", "--epochs", "0")
    assert code != 0 and "--epochs 0 is out of range" in err and "or auto" in err


def test_help_shows_the_defaults_with_their_numbers(capsys):
    code, out, _ = cli(capsys, "train", "--help")
    text = " ".join(out.split())
    assert code == 0
    assert (
        "--epochs N epochs to train at most, or auto (default: auto: until the validation "
        "loss stops improving for --patience epochs, at most 1,000; 100 when nothing stops "
        "the run early" in text
    )
    assert "--learning-rate LR the step size (default: the optimizer's: " in text
    assert "0.001 for adam, adamw, rmsprop" in text and "0.01 for sgd" in text
    assert (
        "--min-delta D the least fall of the watched loss that counts as an improvement for "
        "--patience (default: 0.0001, scikit-learn's tol; 0: any fall)"
        in text.replace("scikit- learn", "scikit-learn")  # (argparse wraps at the hyphen)
    )


def test_a_resumed_default_run_stops_where_the_uninterrupted_one_did(tmp_path):
    # The early stopping's state (best loss, its epoch and weights, the wait) is in the
    # checkpoint and the resolved count (1,000) in the settings: the resumed run stops at
    # the same epoch, with the same model.
    data = three_classes(tmp_path, 3000, 12, 0.4)

    def argv(out: Path) -> list[str]:
        return ["train", str(data), "--target", "label", "--seed", "3", "--out", str(out)]

    whole = tmp_path / "whole.safetensors"
    assert main([*argv(whole), "--quiet"]) == 0
    reference = load_model(whole).training["summary"]
    assert reference["stop_reason"].startswith("no improvement of val_loss")
    assert 20 < reference["epochs"] < 1000
    folder, out = tmp_path / "run", tmp_path / "m.safetensors"
    assert run_until_epoch([*argv(out), "--checkpoint", str(folder)], 3, signal.SIGKILL) != 0
    assert main(["train", "--resume", str(folder), "--quiet", "--out", str(out)]) == 0
    resumed = load_model(out)
    assert resumed.training["summary"]["epochs"] == reference["epochs"]
    assert resumed.training["summary"]["stop_reason"] == reference["stop_reason"]
    assert resumed.training["summary"]["settings"]["epochs_auto"] is True
    assert np.array_equal(resumed.network.parameters, load_model(whole).network.parameters)


def test_a_run_that_saves_no_model_says_so(capsys, in_tmp):
    # (a built-in dataset's run saves only with --out; the next step, predict, needs one)
    code, _, err = cli(capsys, "train", "--dataset", "iris", "--hidden", "4", "--epochs", "2")
    assert code == 0
    assert err.splitlines()[-1] == (
        "note: the model was not saved; add --out iris.safetensors to keep it."
    )
    code, _, err = cli(capsys, "train", "--dataset", "iris", "--hidden", "4", "--epochs", "2",
                       "--quiet")  # fmt: skip
    assert code == 0 and "note" not in err  # (--quiet: no lines but warnings and errors)
    code, _, err = cli(capsys, "train", "--dataset", "iris", "--hidden", "4", "--epochs", "2",
                       "--out", "m.safetensors")  # fmt: skip
    assert code == 0 and "not saved" not in err


def test_a_resumed_run_keeps_its_min_delta_and_older_settings_resume_with_none(tmp_path):
    # --resume takes the saved run's --min-delta; a settings.json written before the
    # option (no min_delta) resumes with 0, the rule that run's early stopping followed
    # (its checkpointed state says min_delta 0: another value would be refused).
    import json

    folder, out = tmp_path / "ck", tmp_path / "m.safetensors"
    command = ["train", "--dataset", "iris", "--hidden", "4", "--epochs", "4", "--quiet",
               "--checkpoint", str(folder), "--out", str(out)]  # fmt: skip
    assert main([*command, "--min-delta", "0.001"]) == 0
    resume = ["train", "--resume", str(folder), "--quiet", "--out", str(out)]
    assert main(resume) == 0
    assert _summary(out)["settings"]["min_delta"] == 0.001
    older = tmp_path / "older"
    assert main([*command, "--min-delta", "0"]) == 2  # (the folder holds a run already)
    command[command.index(str(folder))] = str(older)
    assert main([*command, "--min-delta", "0"]) == 0
    payload = json.loads((older / "settings.json").read_text())
    del payload["settings"]["min_delta"]
    (older / "settings.json").write_text(json.dumps(payload))
    resume[resume.index(str(folder))] = str(older)
    assert main(resume) == 0
    assert _summary(out)["settings"]["min_delta"] == 0.0
