"""Interruption and file safety of ``deltarule train`` (and predict/evaluate outputs):
a refused run leaves its checkpoint folder usable, an interrupted run never replaces a
model that existed, --resume refuses every option given with it and data that changed,
SIGTERM is handled as Ctrl-C, a checkpoint folder is locked while a run writes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from deltarule.io import load_model
from deltarule.io.checkpoint import load_checkpoint

from .cli_helpers import cli, flowers

TRAIN = ["train", "flowers.csv", "--target", "species", "--epochs", "2", "--quiet"]


@pytest.fixture
def data(in_tmp: Path) -> Path:
    flowers().to_csv("flowers.csv", index=False)
    return in_tmp


def _one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# ---------------------------------------------------------------- 1. a refused run
def test_a_run_refused_for_its_input_leaves_the_checkpoint_folder_free(capsys, data):
    code, _, err = cli(capsys, *TRAIN[:3], "labl", *TRAIN[4:], "--checkpoint", "ck")
    assert code == 2 and "labl" in _one_error(err)
    assert not (data / "ck" / "settings.json").exists()  # written only for valid inputs
    code, _, err = cli(capsys, *TRAIN, "--checkpoint", "ck", "--out", "m.safetensors")
    assert code == 0, err  # (before: "already holds a training run ... use --resume ck")
    assert load_checkpoint("ck").epochs_done == 2


def test_settings_without_a_checkpoint_are_replaced_by_a_new_run(capsys, data):
    assert cli(capsys, *TRAIN, "--checkpoint", "ck", "--out", "m.safetensors")[0] == 0
    (data / "ck" / "checkpoint.safetensors").unlink()  # as left by a run killed in epoch 1
    settings = json.loads((data / "ck" / "settings.json").read_text())
    settings["settings"]["epochs"] = 7
    (data / "ck" / "settings.json").write_text(json.dumps(settings))
    code, _, err = cli(capsys, *TRAIN, "--checkpoint", "ck", "--out", "m.safetensors")
    assert code == 0, err
    assert json.loads((data / "ck" / "settings.json").read_text())["settings"]["epochs"] == 2


# ---------------------------------------------------------------- 2. an interrupted run
def test_an_interrupted_run_never_replaces_an_existing_model(capsys, data, monkeypatch):
    assert cli(capsys, *TRAIN, "--out", "keep.safetensors")[0] == 0
    before = (data / "keep.safetensors").read_bytes()
    monkeypatch.setattr("deltarule.cli._train_fit.fit_resumable", _interrupting())
    code, out, err = cli(capsys, *TRAIN, "--seed", "5", "--out", "keep.safetensors")
    assert code == 130
    assert (data / "keep.safetensors").read_bytes() == before
    kept = data / "keep.interrupted.safetensors"
    assert load_model(kept).training["summary"]["stop_reason"].startswith("interrupted")
    assert "the model trained so far is in keep.interrupted.safetensors" in err
    assert "keep.safetensors, which existed before this run, is left as it was" in err


def test_an_interrupted_run_never_replaces_an_existing_plot(capsys, data, monkeypatch):
    # (the model went beside the earlier run's, its plot over the earlier run's plot)
    assert cli(capsys, *TRAIN, "--out", "keep.safetensors", "--plot", "curves.svg")[0] == 0
    before = (data / "curves.svg").read_bytes()
    monkeypatch.setattr("deltarule.cli._train_fit.fit_resumable", _interrupting())
    argv = ("--seed", "5", "--out", "keep.safetensors", "--plot", "curves.svg")
    code, out, _ = cli(capsys, *TRAIN, *argv)
    assert code == 130 and (data / "curves.svg").read_bytes() == before
    assert (data / "curves.interrupted.svg").read_bytes().startswith(b"<?xml")
    assert "plot saved to curves.interrupted.svg" in out


def test_an_interrupted_run_writes_a_new_out_as_before(capsys, data, monkeypatch):
    monkeypatch.setattr("deltarule.cli._train_fit.fit_resumable", _interrupting())
    code, _, err = cli(capsys, *TRAIN, "--out", "new.safetensors", "--checkpoint", "ck")
    assert code == 130 and (data / "new.safetensors").is_file()
    assert not (data / "new.interrupted.safetensors").exists()
    assert "continue the run with 'deltarule train --resume ck'" in err


def _interrupting():  # noqa: ANN202
    """fit_resumable, ending as a Ctrl-C after the epochs it trained."""
    import deltarule.cli._train_fit as train_fit  # (where the fit calls it)

    real = train_fit.fit_resumable

    def fit(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        history = real(*args, **kwargs)
        history.stop_reason = f"interrupted (Ctrl-C) after epoch {len(history)}"
        return history

    return fit


# ---------------------------------------------------------------- 3. options with --resume
@pytest.mark.parametrize(
    "given", [["--epochs", "100"], ["--patience", "10"], ["--seed", "0"], ["--hidden", "64"]]
)
def test_resume_refuses_an_option_given_with_its_default_value(capsys, data, given):
    assert cli(capsys, *TRAIN, "--checkpoint", "ck", "--out", "m.safetensors")[0] == 0
    code, _, err = cli(capsys, "train", "--resume", "ck", *given)
    line = _one_error(err)  # (before: accepted, and ignored)
    assert code == 2 and f"but {given[0]} was given too; expected only --out" in line


@pytest.mark.filterwarnings("default")
def test_a_resumed_run_does_not_advise_options_it_cannot_take(capsys, data):
    # ckB's run (6 epochs) resumed from the checkpoint of epoch 2 (of ckA's identical run):
    # it stops at its maximum number of epochs while the loss still falls.
    base = ["train", "flowers.csv", "--target", "species", "--quiet", "--patience", "0",
            "--learning-rate", "0.001", "--seed", "1"]  # fmt: skip
    assert cli(capsys, *base, "--epochs", "2", "--checkpoint", "ckA", "--out", "a.st")[0] == 0
    code, _, err = cli(capsys, *base, "--epochs", "6", "--checkpoint", "ckB", "--out", "b.st")
    assert code == 0 and "Raise --epochs" in err  # a new run (in the command line's spelling)
    (data / "ckB" / "checkpoint.safetensors").write_bytes(
        (data / "ckA" / "checkpoint.safetensors").read_bytes()
    )
    code, _, err = cli(capsys, "train", "--resume", "ckB")
    assert code == 0, err
    warning = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "still falling" in warning[0], err
    assert "--learning-rate" not in warning[0] and "--patience" not in warning[0]
    assert "--resume keeps the saved run's settings (--epochs 6)" in warning[0]
    assert "start a new run with a larger --epochs" in warning[0]


# ---------------------------------------------------------------- 4. and 10. outputs
@pytest.mark.parametrize("command", ["train", "predict", "evaluate", "importance"])
@pytest.mark.parametrize("out", ["adir", "nodir/", "flowers.csv/x.safetensors"])
def test_an_output_that_cannot_be_a_file_is_refused_before_any_work(
    capsys, data, monkeypatch, command, out
):
    assert cli(capsys, *TRAIN, "--out", "m.safetensors")[0] == 0
    (data / "adir").mkdir()
    import deltarule.cli._common as common

    def no_work(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the work began before --out was checked")

    monkeypatch.setattr(common, "read_data", no_work)
    # (train reads in _train_data; predict and evaluate a chunk at a time; importance
    # through _labelled)
    for module, reader in (("_train_data", "read_data"), ("predict", "iter_data"),
                           ("evaluate", "iter_data"), ("_labelled", "read_data")):  # fmt: skip
        monkeypatch.setattr(f"deltarule.cli.{module}.{reader}", no_work)
    argv = TRAIN if command == "train" else [command, "m.safetensors", "flowers.csv"]
    code, _, err = cli(capsys, *argv, "--out", out)
    line = _one_error(err)
    assert code == 2 and line.startswith(f"error: --out: cannot save to {out!r}")
    expected = {"adir": "it is a directory", "nodir/": "a path ending in '/' names a folder",
                "flowers.csv/x.safetensors": "flowers.csv' is a file, not a folder"}  # fmt: skip
    assert expected[out] in line
    assert not (data / "nodir").exists()
    # (the file suggested is the command's: predict's was 'model.safetensors' too)
    example = {"train": "model.safetensors", "predict": "predictions.csv",
               "evaluate": "report.txt", "importance": "importance.txt"}[command]  # fmt: skip
    assert f"such as {example!r}" in line or f"{example}')." in line
    assert command == "train" or "safetensors" not in line.replace(out, "")


# ---------------------------------------------------------------- 5. the data changed
@pytest.mark.parametrize("change", ["a row", "a column"])
def test_resume_refuses_data_that_changed(capsys, data, change):
    assert cli(capsys, *TRAIN, "--checkpoint", "ck", "--out", "m.safetensors")[0] == 0
    frame = flowers()
    if change == "a row":
        frame = frame.iloc[:-1]
    else:
        frame.insert(0, "extra", 1.0)
    frame.to_csv("flowers.csv", index=False)
    code, _, err = cli(capsys, "train", "--resume", "ck")
    line = _one_error(err)
    assert code == 2 and "flowers.csv changed since the checkpoint in ck was written" in line
    assert "another network" not in line


def test_settings_without_a_fingerprint_resume_as_before(capsys, data):
    assert cli(capsys, *TRAIN, "--checkpoint", "ck", "--out", "m.safetensors")[0] == 0
    path = data / "ck" / "settings.json"
    payload = json.loads(path.read_text())
    assert payload["data_fingerprint"]["size"] == (data / "flowers.csv").stat().st_size
    del payload["data_fingerprint"]
    path.write_text(json.dumps(payload))
    with open("flowers.csv", "a") as handle:  # (a change that cannot be noticed now)
        handle.write("\n")
    assert cli(capsys, "train", "--resume", "ck", "--quiet")[0] == 0


@pytest.mark.parametrize(
    "other,named",
    [
        # (the seed draws the validation rows: other rows; the seed itself changes nothing)
        (["--seed", "2"], "training data: the same number of rows, 54, but other values"),
        (["--validation-split", "0.3"], "training data: 42 rows, hash "),
        (["--data", "reversed.csv"], "training data: the same number of rows, 54, but other "
                                     "values"),
    ],
    ids=["seed", "validation split", "data file"],
)  # fmt: skip
def test_resume_refuses_another_runs_settings_beside_the_checkpoint(capsys, data, other, named):
    """settings.json alone was checked against the data: another run's settings copied
    beside a checkpoint (another seed, split or file of the same columns) resumed silently
    into a run that was neither (found by QA)."""
    flowers().iloc[::-1].to_csv("reversed.csv", index=False)
    first = [*TRAIN, "--seed", "0", "--out", "m.safetensors"]
    assert cli(capsys, *first, "--checkpoint", "mine")[0] == 0
    if other[0] == "--data":
        second = ["train", other[1], *TRAIN[2:], "--seed", "0", "--out", "o.safetensors"]
    else:
        second = [*TRAIN, "--seed", "0", *other, "--out", "o.safetensors"]
    assert cli(capsys, *second, "--checkpoint", "theirs")[0] == 0
    (data / "theirs" / "settings.json").write_bytes((data / "mine" / "settings.json").read_bytes())
    code, _, err = cli(capsys, "train", "--resume", "theirs", "--out", "r.safetensors")
    line = _one_error(err)  # (not --quiet: the run's "training ..." line waits for the checks)
    assert code == 2 and named in line, line
    assert "theirs/settings.json is not the settings of the run that wrote the checkpoint" in line
    assert "without --resume (give --checkpoint a new folder, or delete theirs)" in line
    assert "resume_trainer" not in line and "fit's" not in line
    assert not (data / "r.safetensors").exists()
    code, _, err = cli(capsys, "train", "--resume", "mine", "--out", "r.safetensors")
    assert code == 0 and err.startswith("training [")  # (its own settings: it resumes, as ever)


# ---------------------------------------------------------------- 6. SIGTERM, stray files
def test_sigterm_outside_training_is_one_line_with_status_143(capsys, data, monkeypatch):
    assert cli(capsys, *TRAIN, "--checkpoint", "ck", "--out", "m.safetensors")[0] == 0

    def terminated(args):  # noqa: ANN001, ANN202
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM was not handled")

    monkeypatch.setattr("deltarule.cli.train._prepare", terminated)
    code, _, err = cli(capsys, "train", "--resume", "ck")
    assert code == 143  # (the note of where it saves comes once the data is read: none)
    assert _one_error(err) == (
        "error: terminated (SIGTERM); the run's last checkpoint is in ck: continue it with "
        "'deltarule train --resume ck'"
    )
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # (put back)


def test_a_second_ctrl_c_says_how_to_continue(capsys, data, monkeypatch):
    assert cli(capsys, *TRAIN, "--checkpoint", "ck", "--out", "m.safetensors")[0] == 0

    def interrupted(args):  # noqa: ANN001, ANN202
        raise KeyboardInterrupt

    monkeypatch.setattr("deltarule.cli.train._prepare", interrupted)
    code, _, err = cli(capsys, "train", "--resume", "ck")
    assert code == 130 and "error: interrupted; the run's last checkpoint is in ck" in err
    code, _, err = cli(capsys, *TRAIN, "--out", "m.safetensors")  # no checkpoint: as before
    assert code == 130 and err == "error: interrupted\n"


def test_resume_removes_the_temporary_files_of_a_killed_save(capsys, data):
    assert cli(capsys, *TRAIN, "--checkpoint", "ck", "--out", "m.safetensors")[0] == 0
    stale = [data / "ck" / ".checkpoint.safetensors.0123456789ab.tmp",
             data / "ck" / ".settings.json.abcdef012345.tmp"]  # fmt: skip
    other = data / "ck" / ".notes.0123456789ab.tmp"
    for path in [*stale, other]:
        path.write_bytes(b"half")
    assert cli(capsys, "train", "--resume", "ck", "--quiet")[0] == 0
    assert not any(path.exists() for path in stale) and other.exists()


def test_sigterm_during_training_stops_like_ctrl_c(tmp_path):
    rng = np.random.default_rng(0)
    rows = ["a,b,label"] + [f"{x:.4f},{y:.4f},{'yes' if x > y else 'no'}"
                            for x, y in rng.normal(size=(3000, 2))]  # fmt: skip
    (tmp_path / "big.csv").write_text("\n".join(rows) + "\n")
    argv = ["train", "big.csv", "--target", "label", "--epochs", "5000", "--patience", "0",
            "--batch-size", "8", "--out", "m.safetensors", "--checkpoint", "ck",
            "--report-every", "1"]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "deltarule", *argv],
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    seen = threading.Event()

    def watch() -> None:
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("epoch 2/"):
                seen.set()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    assert seen.wait(timeout=120), "".join(lines)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 143, "".join(lines)  # (before: killed, -15, no model)
    reader.join(timeout=10)
    assert "interrupted (SIGTERM)" in lines[-1] and "--resume ck" in lines[-1], lines[-1]
    assert not any("Ctrl-C" in line for line in lines), lines  # the progress line's too
    summary = load_model(tmp_path / "m.safetensors").training["summary"]
    assert summary["stop_reason"].startswith("interrupted (SIGTERM)")


# ---------------------------------------------------------------- 7. an unwritable folder
def test_a_checkpoint_folder_that_cannot_be_made_is_refused_before_training(
    capsys, data, monkeypatch
):
    real = Path.mkdir

    def refused(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if self.name == "sub":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refused)
    code, out, err = cli(capsys, *TRAIN, "--checkpoint", "rox/sub", "--out", "m.safetensors")
    line = _one_error(err)  # (before: "error: [Errno 13] Permission denied: 'rox/sub'")
    assert code == 2 and line.startswith("error: --checkpoint rox/sub: cannot create")
    assert "Permission denied" in line and "writable" in line
    assert out == "" and not (data / "m.safetensors").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_a_checkpoint_under_a_read_only_folder_is_refused(capsys, data):
    (data / "rox").mkdir(mode=0o555)
    code, _, err = cli(capsys, *TRAIN, "--checkpoint", "rox/sub", "--out", "m.safetensors")
    line = _one_error(err)
    assert code == 2 and "--checkpoint rox/sub: the folder" in line and "not writable" in line


# ---------------------------------------------------------------- 9. early Ctrl-C
def test_ctrl_c_while_the_command_line_loads_is_one_line(capsys, monkeypatch):
    import deltarule.cli as cli_module

    def loading():  # noqa: ANN202
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "build_parser", loading)
    code, out, err = cli(capsys, "train")
    assert code == 130 and out == "" and err == "error: interrupted\n"


_LOADING = """
import runpy, sys
import deltarule

class Interrupting:  # Ctrl-C while python -m deltarule imports the command line
    def find_spec(self, name, path=None, target=None):
        if name == "deltarule.cli":
            raise KeyboardInterrupt

sys.meta_path.insert(0, Interrupting())
runpy.run_module("deltarule", run_name="__main__")
"""


def test_ctrl_c_while_python_m_deltarule_loads_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", _LOADING, "train"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (130, "", "error: interrupted\n")


# ---------------------------------------------------------------- 11. the lock
@pytest.mark.skipif(os.name != "posix", reason="fcntl locks are POSIX")
def test_a_checkpoint_folder_in_use_is_refused(capsys, data):
    import fcntl

    assert cli(capsys, *TRAIN, "--checkpoint", "ck", "--out", "m.safetensors")[0] == 0
    before = (data / "ck" / "checkpoint.safetensors").read_bytes()
    with open(data / "ck" / ".lock", "a+") as held:  # as the running run holds it
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.truncate(0)
        held.write("4242\n")
        held.flush()
        for quiet in (["--quiet"], []):  # (the resumed run's note came before the error)
            code, _, err = cli(capsys, "train", "--resume", "ck", *quiet)
            line = _one_error(err)
            assert code == 2 and "--resume ck is in use by another training run" in line
            assert "process 4242" in line
        code, _, err = cli(capsys, *TRAIN, "--checkpoint", "ck", "--out", "n.safetensors")
        assert code == 2 and "in use by another training run" in _one_error(err)
    assert (data / "ck" / "checkpoint.safetensors").read_bytes() == before
    assert cli(capsys, "train", "--resume", "ck", "--quiet")[0] == 0  # free again
