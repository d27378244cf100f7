"""Resumable training: a run killed by SIGINT, SIGTERM or SIGKILL and resumed from its
checkpoint ends bitwise-identical to a run that was never interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from deltarule.cli import main
from deltarule.io import load_model
from deltarule.io.checkpoint import load_checkpoint

EPOCHS = 12


def three_classes(folder: Path, rows: int, features: int, apart: float) -> Path:
    """A CSV of three classes ``c0``-``c2`` whose centres are ``apart`` from each other."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, rows)
    X = rng.normal(size=(rows, features)) + labels[:, None] * apart
    header = ",".join([f"x{i}" for i in range(features)] + ["label"])
    lines = [",".join([*(f"{v:.6f}" for v in x), f"c{c}"]) for x, c in zip(X, labels)]
    path = folder / "classes.csv"
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def blobs(tmp_path_factory) -> Path:
    """A 3-class table big enough that an epoch takes a noticeable moment."""
    return three_classes(tmp_path_factory.mktemp("data"), 3000, 12, 0.4)


def train_args(data: Path, out: Path) -> list[str]:
    return ["train", str(data), "--target", "label", "--hidden", "64,64", "--epochs",
            str(EPOCHS), "--batch-size", "16", "--patience", "4", "--seed", "3",
            "--out", str(out)]  # fmt: skip


@pytest.fixture(scope="module")
def reference(blobs, tmp_path_factory) -> np.ndarray:
    out = tmp_path_factory.mktemp("ref") / "reference.safetensors"
    assert main([*train_args(blobs, out), "--quiet"]) == 0
    return load_model(out).network.parameters


def run_until_epoch(command: list[str], epoch: int, sig: int) -> int:
    """Start the CLI, send ``sig`` once it reports ``epoch``; return its exit status."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "deltarule", *command],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = threading.Event()

    def watch() -> None:
        for line in proc.stderr:
            if line.startswith(f"epoch {epoch}/"):
                seen.set()

    threading.Thread(target=watch, daemon=True).start()
    assert seen.wait(timeout=120), "training never reached the epoch"
    proc.send_signal(sig)
    return proc.wait(timeout=120)


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"]
)
def test_killed_run_resumes_bitwise_identical(sig, blobs, reference, tmp_path) -> None:
    folder, out = tmp_path / "run", tmp_path / "model.safetensors"
    status = run_until_epoch([*train_args(blobs, out), "--checkpoint", str(folder)], 3, sig)
    assert status != 0  # SIGINT and SIGTERM stop cleanly after the batch, keep the model,
    assert sig == signal.SIGKILL or (status == 128 + sig and out.exists())  # say 130 or 143
    saved = load_checkpoint(folder)
    assert 3 <= saved.epochs_done < EPOCHS
    assert main(["train", "--resume", str(folder), "--quiet", "--out", str(out)]) == 0
    resumed = load_model(out)
    assert resumed.network.parameters.tobytes() == reference.tobytes()
    assert load_checkpoint(folder).epochs_done > saved.epochs_done


def test_checkpoint_every_n_epochs_and_history(blobs, tmp_path) -> None:
    folder, out = tmp_path / "run", tmp_path / "m.safetensors"
    args = [*train_args(blobs, out), "--epochs", "4", "--patience", "0", "--quiet",
            "--checkpoint", str(folder), "--checkpoint-every", "2"]  # fmt: skip
    assert main(args) == 0
    saved = load_checkpoint(folder)
    assert saved.epochs_done == 4 and [r.epoch for r in saved.history] == [1, 2, 3, 4]
    assert {"optimizer.first_moment", "optimizer.second_moment"} <= set(saved.tensors)
    assert (folder / "settings.json").is_file()


def test_resume_errors_are_one_line(tmp_path, capsys) -> None:
    assert main(["train", "--resume", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --resume") and "settings.json" in err[0]


def test_resume_refuses_training_options_it_would_ignore(blobs, tmp_path, capsys):
    folder, out = tmp_path / "run", tmp_path / "m.safetensors"
    argv = ["train", str(blobs), "--target", "label", "--epochs", "1", "--quiet"]
    assert main([*argv, "--checkpoint", str(folder), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["train", str(blobs), "--target", "label", "--resume", str(folder)]) == 2
    assert "but DATA, --target were given too" in capsys.readouterr().err
    assert main(["train", "--resume", str(folder), "--hidden", "8"]) == 2
    assert "but --hidden was given too; expected only --out, --plot" in capsys.readouterr().err
    again = tmp_path / "again.safetensors"
    assert main(["train", "--resume", str(folder), "--quiet", "--out", str(again)]) == 0
    assert again.exists()


def _model_bytes(path: Path) -> tuple[bytes, dict, object]:
    loaded = load_model(path)
    summary = loaded.training["summary"]
    history = {k: v for k, v in loaded.training["history"].items() if k != "seconds"}
    return loaded.network.parameters.tobytes(), history, (summary["stop_reason"],
                                                           summary["best_epoch"])  # fmt: skip


@pytest.mark.parametrize(
    "extra",
    [["--patience", "50"], ["--patience", "2", "--epochs", "300", "--learning-rate", "0.05"]],
    ids=["max epochs", "early stop"],
)
def test_a_run_killed_after_its_last_checkpoint_resumes_to_the_same_model(
    extra, blobs, tmp_path
) -> None:
    # Killed after the last epoch's checkpoint, before the model was saved: resuming took
    # the last epoch's weights and no best epoch (max epochs), or trained one more epoch
    # (early stop). The model must be the one the uninterrupted run saved.
    folder, out = tmp_path / "run", tmp_path / "m.safetensors"
    argv = [*train_args(blobs, out), "--epochs", "8", *extra, "--quiet", "--checkpoint",
            str(folder)]  # fmt: skip
    assert main(argv) == 0
    finished = _model_bytes(out)
    assert finished[2][1] is not None  # restored best weights, as the uninterrupted run did
    out.unlink()  # as if killed before the save
    checkpoint = (folder / "checkpoint.safetensors").read_bytes()
    assert main(["train", "--resume", str(folder), "--quiet", "--out", str(out)]) == 0
    assert _model_bytes(out) == finished
    assert (folder / "checkpoint.safetensors").read_bytes() == checkpoint  # nothing trained


@pytest.fixture(scope="module")
def separable(tmp_path_factory) -> Path:
    """Three classes far apart: each stopping rule ends a run within a few epochs."""
    return three_classes(tmp_path_factory.mktemp("data"), 300, 4, 4.0)


@pytest.mark.parametrize(
    "rule",
    [["--target-error", "0.2"], ["--until-all-correct"], ["--gradient-threshold", "5"]],
    ids=["target error", "all correct", "gradient threshold"],
)
@pytest.mark.parametrize("patience", ["0", "10"])
@pytest.mark.parametrize("at_the_last_epoch", [False, True])
def test_a_run_a_stopping_rule_ended_resumes_to_the_same_model(
    rule, patience, at_the_last_epoch, separable, tmp_path
) -> None:
    # Killed after the stopping epoch's checkpoint, before the model was saved: resuming
    # trained one more epoch (the rules read an epoch's end, and were not asked about the
    # checkpoint's last one), and saved another model than the uninterrupted run's; a rule
    # that stopped the run at its last planned epoch was then called "max epochs".
    def argv(epochs: int, folder: Path, out: Path) -> list[str]:
        return ["train", str(separable), "--target", "label", "--hidden", "8", "--epochs",
                str(epochs), "--batch-size", "16", "--learning-rate", "0.02", "--seed", "3",
                "--patience", patience, *rule, "--quiet", "--out", str(out), "--checkpoint",
                str(folder)]  # fmt: skip

    epochs, out = 60, tmp_path / "m.safetensors"
    if at_the_last_epoch:  # (as many epochs as the rule lets a run of 60 train)
        assert main(argv(60, tmp_path / "first", out)) == 0
        epochs = len(_model_bytes(out)[1]["loss"])
    folder = tmp_path / "run"
    assert main(argv(epochs, folder, out)) == 0
    finished = _model_bytes(out)
    assert not finished[2][0].startswith("max epochs")  # the rule ended the run
    assert len(finished[1]["loss"]) < 60
    assert (len(finished[1]["loss"]) == epochs) == at_the_last_epoch
    out.unlink()  # as if killed before the save
    assert main(["train", "--resume", str(folder), "--quiet", "--out", str(out)]) == 0
    assert _model_bytes(out) == finished


@pytest.mark.parametrize("optimizer", ["rprop_plus", "irprop_minus"])
def test_a_full_batch_rprop_run_resumes(optimizer, blobs, tmp_path) -> None:
    # (their batch size, every row, is saved as null: --resume called the settings damaged)
    folder, out = tmp_path / "run", tmp_path / "m.safetensors"
    argv = ["train", str(blobs), "--target", "label", "--hidden", "16", "--optimizer",
            optimizer, "--epochs", "6", "--patience", "0", "--seed", "3", "--quiet",
            "--checkpoint", str(folder), "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert load_checkpoint(folder).epochs_done == 6
    finished = _model_bytes(out)
    out.unlink()  # as if killed before the save
    assert main(["train", "--resume", str(folder), "--quiet", "--out", str(out)]) == 0
    assert _model_bytes(out) == finished


def test_a_run_killed_before_its_first_checkpoint_starts_over(blobs, reference, tmp_path):
    # settings.json is written before the first epoch; killed during it, the folder holds
    # no checkpoint, and a new run refuses the folder: --resume starts the run over.
    folder, out = tmp_path / "run", tmp_path / "model.safetensors"
    assert main([*train_args(blobs, out), "--quiet", "--checkpoint", str(folder)]) == 0
    (folder / "checkpoint.safetensors").unlink()
    out.unlink()
    assert main(["train", "--resume", str(folder), "--quiet", "--out", str(out)]) == 0
    assert load_model(out).network.parameters.tobytes() == reference.tobytes()


def test_resume_refuses_another_checkpoint_folder(blobs, tmp_path, capsys) -> None:
    folder = tmp_path / "run"
    argv = ["train", str(blobs), "--target", "label", "--epochs", "1", "--quiet"]
    assert main([*argv, "--checkpoint", str(folder), "--out", str(tmp_path / "m.st")]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(folder), "--checkpoint", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "keeps checkpointing into" in err and "drop --checkpoint" in err  # (was ignored)


def test_a_damaged_settings_file_is_named(blobs, tmp_path, capsys) -> None:
    import json

    folder = tmp_path / "run"
    argv = ["train", str(blobs), "--target", "label", "--epochs", "1", "--quiet"]
    assert main([*argv, "--checkpoint", str(folder), "--out", str(tmp_path / "m.st")]) == 0
    payload = json.loads((folder / "settings.json").read_text())
    payload["settings"]["epochs"] = "ten"
    (folder / "settings.json").write_text(json.dumps(payload))
    capsys.readouterr()
    assert main(["train", "--resume", str(folder)]) == 2
    err = capsys.readouterr().err  # ("'<' not supported between instances of 'str' and 'int'")
    assert err.count("\n") == 1 and "has epochs = 'ten', not an integer; the file is damaged" in err


@pytest.mark.parametrize("damage", ["data gone", "checkpoint flipped"])
def test_a_refused_resume_says_one_error_line(damage, separable, tmp_path, capsys) -> None:
    # (the resumed run's note, and its "training ..." line, came before the error)
    import shutil

    data, folder = tmp_path / "data.csv", tmp_path / "run"
    shutil.copy(separable, data)
    argv = ["train", str(data), "--target", "label", "--epochs", "3", "--quiet"]
    assert main([*argv, "--checkpoint", str(folder), "--out", str(tmp_path / "m.st")]) == 0
    if damage == "data gone":
        data.unlink()
    else:
        raw = bytearray((folder / "checkpoint.safetensors").read_bytes())
        raw[-5] ^= 0xFF
        (folder / "checkpoint.safetensors").write_bytes(bytes(raw))
    capsys.readouterr()
    assert main(["train", "--resume", str(folder)]) == 2  # (not --quiet: the note is said)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err


def test_a_resumed_run_reads_its_data_with_the_original_sep_and_header(blobs, tmp_path, capsys):
    # (before: --resume re-read a pipe-separated, header-less file as a comma CSV)
    lines = blobs.read_text().splitlines()[1:]  # no header; '|' separated
    data = tmp_path / "blobs.data"
    data.write_text("\n".join(line.replace(",", "|") for line in lines) + "\n")
    folder, out = tmp_path / "run", tmp_path / "m.safetensors"
    argv = ["train", str(data), "--no-header", "--sep", "|", "--target", "12", "--epochs", "2",
            "--quiet", "--seed", "1", "--checkpoint", str(folder), "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    finished = load_model(out).network.parameters.tobytes()
    (folder / "checkpoint.safetensors").unlink()  # killed in its first epoch: starts over
    out.unlink()
    assert main(["train", "--resume", str(folder), "--quiet", "--out", str(out)]) == 0
    assert load_model(out).network.parameters.tobytes() == finished
    assert main(["train", "--resume", str(folder), "--sep", ","]) == 2
    assert "but --sep was given too" in capsys.readouterr().err


def test_a_run_with_l2_dropout_and_class_weights_resumes_bitwise_identical(blobs, tmp_path):
    # (--l2, --dropout and --class-weight are settings: saved, and kept by --resume)
    options = ["--l2", "0.001", "--dropout", "0.2", "--class-weight", "balanced"]
    whole, out = tmp_path / "whole.safetensors", tmp_path / "model.safetensors"
    assert main([*train_args(blobs, whole), *options, "--quiet"]) == 0
    reference = load_model(whole)
    settings = reference.training["summary"]["settings"]
    assert (settings["l2"], settings["dropout"], settings["class_weight"]) == (
        0.001, 0.2, "balanced")  # fmt: skip
    assert reference.network.config()["dropout"] == [0.2, 0.2]
    plain = tmp_path / "plain.safetensors"
    assert main([*train_args(blobs, plain), "--quiet"]) == 0
    assert load_model(plain).network.parameters.tobytes() != reference.network.parameters.tobytes()
    folder = tmp_path / "run"
    command = [*train_args(blobs, out), *options, "--checkpoint", str(folder)]
    assert run_until_epoch(command, 3, signal.SIGKILL) != 0
    assert main(["train", "--resume", str(folder), "--quiet", "--out", str(out)]) == 0
    resumed = load_model(out).network.parameters
    assert resumed.tobytes() == reference.network.parameters.tobytes()


def test_checkpoint_of_softmax_one_vs_rest_run_is_refused_by_name(
    blobs, tmp_path, monkeypatch, capsys
):
    """A checkpoint of --loss binary_crossentropy with several classes written when such runs
    had softmax outputs (before they got a sigmoid per class) is refused with a message that
    says so and what to do, not one asking for a softmax setting no option gives."""
    from deltarule.cli import _train_fit

    real = _train_fit.output_and_loss
    monkeypatch.setattr(
        _train_fit, "output_and_loss", lambda pre, args: ("softmax", real(pre, args)[1])
    )  # (the old rule)
    folder = tmp_path / "ck"
    command = ["train", str(blobs), "--target", "label", "--loss", "binary_crossentropy",
               "--epochs", "3", "--checkpoint", str(folder), "--quiet"]  # fmt: skip
    assert main([*command, "--out", str(tmp_path / "old.safetensors")]) == 0
    assert load_checkpoint(folder).network.config()["activations"][-1] == "softmax"
    monkeypatch.setattr(_train_fit, "output_and_loss", real)
    capsys.readouterr()
    assert main(["train", "--resume", str(folder), "--out", str(tmp_path / "new.safetensors")]) == 2
    err = capsys.readouterr().err.splitlines()[-1]  # (after the run's "training ..." line)
    assert err.startswith("error: --resume")
    assert "softmax outputs" in err and "sigmoid per class" in err
    assert "Start a new run without --resume" in err
    assert not (tmp_path / "new.safetensors").exists()


def test_a_run_whose_preprocessing_is_fitted_otherwise_now_is_not_resumed(blobs, tmp_path, capsys):
    """A checkpoint's settings keep the SHA-256 of its run's preprocessing; a resumed run
    refits it and refuses to continue on other inputs (an earlier deltarule fitted it on
    --test-split's rows too, so an old checkpoint continued on shifted inputs; found by a
    review). Settings written before the digest resume as before, but with --test-split (and
    beside a checkpoint that recorded its rows: those rows are not the settings' now)."""
    import json

    folder = tmp_path / "ck"
    command = ["train", str(blobs), "--target", "label", "--epochs", "3", "--quiet",
               "--test-split", "0.2", "--checkpoint", str(folder)]  # fmt: skip
    assert main([*command, "--out", str(tmp_path / "m.safetensors")]) == 0
    settings = folder / "settings.json"
    payload = json.loads(settings.read_text())
    assert len(payload["preprocessing_sha256"]) == 64
    resume = ["train", "--resume", str(folder)]
    assert main([*resume, "--quiet", "--out", str(tmp_path / "r.safetensors")]) == 0
    for digest in ("0" * 64, None):  # another fit's; none (written before), with --test-split
        if digest is None:
            del payload["preprocessing_sha256"]
        else:
            payload["preprocessing_sha256"] = digest
        settings.write_text(json.dumps(payload))
        capsys.readouterr()
        assert main([*resume, "--quiet", "--out", str(tmp_path / "r.safetensors")]) == 2
        err = capsys.readouterr().err
        assert "the run's preprocessing" in err and "Start a new run without --resume" in err
    payload["settings"]["test_split"] = None  # (written before, without --test-split: as before)
    settings.write_text(json.dumps(payload))
    capsys.readouterr()  # (the checkpoint's record of its rows says they are not these)
    assert main([*resume, "--quiet", "--out", str(tmp_path / "r.safetensors")]) == 2
    assert "training data: 2160 rows, hash " in capsys.readouterr().err
    _without_provenance(folder)  # (a checkpoint written before the rows were recorded)
    assert main([*resume, "--quiet", "--out", str(tmp_path / "r.safetensors")]) == 0


def _without_provenance(folder: Path) -> None:
    """Rewrite ``folder``'s checkpoint as one written before it recorded its fit's data."""
    from deltarule.io.checkpoint import CHECKPOINT_MAX_HEADER_BYTES
    from deltarule.io.model_file import write_model

    path = folder / "checkpoint.safetensors"
    loaded = load_model(path, max_header_bytes=CHECKPOINT_MAX_HEADER_BYTES)
    training = {k: v for k, v in loaded.training.items() if k != "provenance"}
    write_model(loaded.network, path, None, None, training, loaded.extra_tensors)
    assert load_checkpoint(folder).provenance is None
