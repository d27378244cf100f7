"""Files are data: pickles are never run; a killed save never leaves a truncated model.

Also the real entry point, ``python -m deltarule``, run as a process.
"""

from __future__ import annotations

import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from deltarule.io import load_model

from .cli_helpers import REPO, cli, cli_subprocess, flowers


class _Payload:
    """Unpickling this opens (creates) the marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return (open, (str(self.marker), "w"))


def test_the_payload_is_live(tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(_Payload(marker)))  # noqa: S301 - the point of the test
    assert marker.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "evil.safetensors", "flowers.csv"],
        ["evaluate", "evil.safetensors", "flowers.csv"],
        ["inspect", "evil.safetensors"],
        ["train", "evil.npz"],
        ["train", "objects.npz"],
        ["predict", "good.safetensors", "objects.npz"],
    ],
)
def test_pickle_payloads_are_not_executed(capsys, in_tmp, argv):
    marker = in_tmp / "ran"
    payload = pickle.dumps(_Payload(marker))
    (in_tmp / "evil.safetensors").write_bytes(payload)
    (in_tmp / "evil.npz").write_bytes(payload)
    objects = np.array([_Payload(marker), _Payload(marker)], dtype=object)
    np.savez(in_tmp / "objects.npz", X=objects, y=objects)  # np.savez pickles object arrays
    flowers().to_csv("flowers.csv", index=False)
    cli(capsys, "train", "flowers.csv", "--target", "species", "--epochs", "1", "--quiet",
        "--out", "good.safetensors")  # fmt: skip
    code, _, err = cli(capsys, *argv)
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error: ")
    assert not marker.exists()


# A train whose model write stalls halfway, after the header, so the test can stop it there.
_SLOW_SAVE = textwrap.dedent(
    """
    import contextlib, sys, time
    import deltarule.io.safetensors as st

    real_open = st.atomic_open

    @contextlib.contextmanager
    def slow_open(path, mode="wb"):
        with real_open(path, mode) as handle:
            class Stalling:
                def write(self, data):
                    written = handle.write(data)
                    if isinstance(data, memoryview):  # the first tensor: the file is incomplete
                        handle.flush()
                        print("WRITING", flush=True)
                        time.sleep(120)
                    return written
            yield Stalling()

    st.atomic_open = slow_open
    from deltarule.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def _train_until_writing(folder: Path) -> subprocess.Popen:
    argv = ["train", "flowers.csv", "--target", "species", "--epochs", "1", "--quiet",
            "--out", "model.safetensors"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_SAVE, *argv],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    for line in process.stdout:
        if line.strip() == "WRITING":
            return process
    process.wait(timeout=60)
    pytest.fail(f"train never reached the save: {process.stderr.read()}")


def test_ctrl_c_during_the_save_leaves_no_file_at_all(tmp_path):
    flowers().to_csv(tmp_path / "flowers.csv", index=False)
    process = _train_until_writing(tmp_path)
    temp = list(tmp_path.glob(".model.safetensors.*.tmp"))
    assert len(temp) == 1 and temp[0].stat().st_size > 0  # really stopped halfway
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130 and err.strip() == "error: interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flowers.csv"]


def test_sigkill_during_the_save_keeps_the_previous_model(tmp_path):
    """A killed process cannot clean up: the old model stays whole, a hidden temp file stays."""
    flowers().to_csv(tmp_path / "flowers.csv", index=False)  # a first model, saved normally
    result = cli_subprocess("train", "flowers.csv", "--target", "species", "--epochs", "1",
                            "--quiet", "--out", "model.safetensors", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    before = (tmp_path / "model.safetensors").read_bytes()
    process = _train_until_writing(tmp_path)
    process.kill()
    process.wait(timeout=60)
    assert (tmp_path / "model.safetensors").read_bytes() == before
    assert load_model(tmp_path / "model.safetensors").network.layer_sizes == [4, 64, 3]
    leftovers = [p.name for p in tmp_path.iterdir()]
    stray = [name for name in leftovers if name.endswith(".tmp")]
    assert len(stray) == 1 and stray[0].startswith(".model.safetensors.")  # hidden, never loaded
    assert sorted(set(leftovers) - set(stray)) == ["flowers.csv", "model.safetensors"]


def test_python_m_deltarule_runs_every_subcommand(tmp_path):
    flowers().to_csv(tmp_path / "flowers.csv", index=False)
    help_text = cli_subprocess("--help", cwd=tmp_path)
    assert help_text.returncode == 0
    for name in ("train", "predict", "evaluate", "inspect"):
        assert name in help_text.stdout
        sub = cli_subprocess(name, "--help", cwd=tmp_path)
        assert sub.returncode == 0 and "examples:" in sub.stdout and "deltarule " in sub.stdout
    train = cli_subprocess("train", "flowers.csv", "--target", "species", "--epochs", "2",
                           cwd=tmp_path)  # fmt: skip
    assert train.returncode == 0 and "model saved to" in train.stdout
    assert "epoch 2/2 - loss" in train.stderr  # not a terminal: plain progress lines
    predict = cli_subprocess("predict", "flowers.safetensors", "flowers.csv", cwd=tmp_path)
    assert predict.returncode == 0 and len(predict.stdout.splitlines()) == 61


def test_python_m_deltarule_exit_status_2_on_errors(tmp_path):
    for argv in (["train", "missing.csv", "--target", "y"], ["inspect", "flowers.csv"],
                 ["predict"]):  # fmt: skip
        (tmp_path / "flowers.csv").write_text("a,b\n1,2\n")
        result = cli_subprocess(*argv, cwd=tmp_path)
        assert result.returncode == 2
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("error: ")
        assert "Traceback" not in result.stderr
    debug = cli_subprocess("--debug", "train", "missing.csv", "--target", "y", cwd=tmp_path)
    assert debug.returncode == 2 and "Traceback" in debug.stderr  # (was Python's 1)


@pytest.fixture
def trained(capsys, in_tmp) -> Path:
    flowers().to_csv("flowers.csv", index=False)
    code, _, err = cli(capsys, "train", "flowers.csv", "--target", "species", "--epochs", "1",
                       "--quiet", "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    return in_tmp


TRAIN = ["train", "flowers.csv", "--target", "species", "--epochs", "1", "--quiet"]


@pytest.mark.parametrize(
    "argv,message",
    [
        ([*TRAIN, "--out", "flowers.csv"], "--out flowers.csv is the DATA file read"),
        ([*TRAIN, "--out", "c.png", "--plot", "c.png"], "--out and --plot are the same file"),
        ([*TRAIN, "--checkpoint", "flowers.csv"], "--checkpoint flowers.csv is a file"),
        (["train", "--resume", "flowers.csv"], "--resume flowers.csv is a file"),
        (["predict", "m.safetensors", "flowers.csv", "--out", "flowers.csv"], "is the DATA file"),
        (["predict", "m.safetensors", "flowers.csv", "--out", "m.safetensors"], "is the MODEL"),
        (["evaluate", "m.safetensors", "flowers.csv", "--plot", "./m.safetensors"], "MODEL"),
        (["draw", "m.safetensors", "--out", "m.safetensors"], "is the MODEL file"),
        (["explain", "--model", "m.safetensors", "--input", "1,2,3,4", "--out",
          "m.safetensors"], "is the --model file"),
    ],
)  # fmt: skip
def test_an_output_never_overwrites_an_input(capsys, trained, argv, message):
    before = {p.name: p.read_bytes() for p in trained.iterdir()}
    code, _, err = cli(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert {p.name: p.read_bytes() for p in trained.iterdir()} == before


def test_a_failed_plot_is_found_before_training_or_keeps_the_model(capsys, in_tmp, monkeypatch):
    import deltarule.plots

    flowers().to_csv("flowers.csv", index=False)
    code, _, err = cli(capsys, *TRAIN, "--out", "m.safetensors", "--plot", "nodir/c.png")
    assert code == 2 and "does not exist" in err  # found before training

    # A plot that fails after training (a full disk, say) keeps the model, saved first, and
    # says so (it lost the trained model before: a '$' in a title was enough to fail it).
    def full(*args, **kwargs):  # noqa: ANN202
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(deltarule.plots, "save_training_curves", full)
    code, _, err = cli(capsys, *TRAIN, "--out", "m.safetensors", "--plot", "c.png")
    assert code == 2 and "No space left on device" in err and "m.safetensors" in err
    assert sorted(p.name for p in in_tmp.iterdir()) == ["flowers.csv", "m.safetensors"]


def test_an_unwritable_output_is_found_before_any_work(capsys, trained, monkeypatch):
    # A folder that takes no new file (simulated: root may write anywhere) is found before
    # training, and before an evaluation writes its first output.
    import deltarule.io.atomic as atomic

    real = atomic._create_temp

    def create(target):
        if target.parent.name == "ro":
            raise PermissionError(13, "Permission denied", str(target))
        return real(target)

    monkeypatch.setattr(atomic, "_create_temp", create)
    Path("ro").mkdir()
    before = {p.name: p.read_bytes() for p in trained.iterdir() if p.is_file()}
    for argv in ([*TRAIN[:-1], "--out", "new.safetensors", "--plot", "ro/c.png"],
                 [*TRAIN[:-1], "--out", "ro/m.safetensors"],
                 ["evaluate", "m.safetensors", "flowers.csv", "--out", "ev.txt", "--plot",
                  "ro/c.png"]):  # fmt: skip
        code, _, err = cli(capsys, *argv)
        assert code == 2 and err.count("\n") == 1, err
        assert "Permission denied; the folder" in err and "ro" in err, err
        assert "training" not in err  # (train says "training ..." as it starts)
        assert {p.name: p.read_bytes() for p in trained.iterdir() if p.is_file()} == before
        assert list(Path("ro").iterdir()) == []


def _with_metadata(path: Path, change) -> Path:  # noqa: ANN001
    """A copy of the model file ``path`` with its deltarule metadata changed by ``change``,
    written through the safetensors writer, which recomputes its checksum (so the change
    is not refused as damage, and the checks behind the checksum are what is tested)."""
    import json

    from deltarule.io.safetensors import read_safetensors, write_safetensors

    tensors, metadata = read_safetensors(path)
    meta = json.loads(metadata["deltarule"])
    change(meta)
    metadata["deltarule"] = json.dumps(meta)
    out = path.with_name("changed.safetensors")
    write_safetensors(out, tensors, metadata)
    return out


@pytest.mark.parametrize(
    "change,problem",
    [
        (lambda m: [m.update(classes=None), m["preprocessing"].update(classes=["setosa"])],
         "are not two or more distinct"),  # (the header's list, which must agree, left out)
        (lambda m: m["preprocessing"]["columns"][1].update(name="length"), "two columns are"),
        (lambda m: m["preprocessing"]["columns"][0].update(std=0), "column 1 ("),
    ],
)  # fmt: skip
def test_a_changed_model_file_is_refused_by_every_command(capsys, trained, change, problem):
    changed = _with_metadata(Path("m.safetensors"), change)
    commands = [["predict", changed, "flowers.csv"], ["predict", changed, "flowers.csv", "--proba"],
                ["evaluate", changed, "flowers.csv"], ["inspect", changed]]  # fmt: skip
    for argv in commands:
        code, out, err = cli(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1, (argv, err)
        assert err.startswith(f"error: {changed}: the preprocessing state is malformed"), err
        assert problem in err and "this is a bug" not in err


def test_a_new_run_never_replaces_a_checkpointed_one(capsys, trained):
    code, _, err = cli(capsys, *TRAIN, "--out", "a.safetensors", "--checkpoint", "ck")
    assert code == 0, err
    held = {p.name: p.read_bytes() for p in Path("ck").iterdir() if p.name != ".lock"}
    assert set(held) == {"settings.json", "checkpoint.safetensors"}  # (and the run's lock)
    code, _, err = cli(capsys, *TRAIN, "--out", "b.safetensors", "--checkpoint", "ck")
    assert code == 2 and err.count("\n") == 1, err
    assert "--checkpoint ck already holds a training run" in err
    assert "deltarule train --resume ck" in err
    assert {p.name: p.read_bytes() for p in Path("ck").iterdir() if p.name != ".lock"} == held
    assert not Path("b.safetensors").exists()
    code, _, err = cli(capsys, "train", "--resume", "ck", "--quiet")  # resuming is still fine
    assert code == 0, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_predictions_into_a_pipe(capsys, trained):
    import stat
    import threading

    os.mkfifo("pipe")
    received = []
    reader = threading.Thread(target=lambda: received.append(Path("pipe").read_text()))
    reader.start()
    code, _, err = cli(capsys, "predict", "m.safetensors", "flowers.csv", "--out", "pipe")
    reader.join(timeout=10)
    assert code == 0, err
    assert received[0].startswith("species\n")
    assert stat.S_ISFIFO(os.stat("pipe").st_mode)


def test_draw_names_a_models_columns_and_classes(capsys, in_tmp):
    flowers().to_csv("flowers.csv", index=False)
    assert cli(capsys, *TRAIN, "--out", "m.safetensors")[0] == 0
    code, out, _ = cli(capsys, "draw", "m.safetensors")
    names = re.findall(r'class="name"[^>]*>([^<]*)<', out)
    assert code == 0 and names == ["length", "width", "colour=blue", "colour=red",
                                   "setosa", "versicolor", "virginica"]  # fmt: skip
