"""The reliability QA report's command-line findings: a finished model is never lost to a
failed print or a full disk, standard input redirected from the output is refused, a file
name that is not UTF-8, the checkpoint folder's own files, corrupt settings, wide and
compressed tables, long cells."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deltarule.io.model_file import load_model

from .cli_helpers import cli, cli_subprocess

TRAIN = ("--target", "species", "--epochs", "2", "--quiet")


def _run(*argv: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m deltarule ARGV``; its output captured unless ``kwargs`` say where."""
    kwargs = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kwargs}
    return subprocess.run(
        [sys.executable, "-m", "deltarule", *map(str, argv)],
        cwd=cwd, check=False, timeout=120, **kwargs,
    )  # fmt: skip


@pytest.fixture
def model(capsys, in_tmp, flowers_csv) -> Path:
    code, _, err = cli(capsys, "train", flowers_csv, *TRAIN, "--out", "model.safetensors")
    assert code == 0, err
    return in_tmp / "model.safetensors"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_train_saves_the_model_before_a_print_to_a_full_stdout(tmp_path, flowers_csv):
    with open("/dev/full", "w") as full:
        done = _run("train", flowers_csv, *TRAIN, "--out", "m.safetensors", cwd=tmp_path,
                    stdout=full, stderr=subprocess.PIPE)  # fmt: skip
    err = done.stderr.decode()
    assert done.returncode == 2 and err.count("\n") == 1, err
    assert "error: cannot write to standard output: No space left on device" in err
    assert "The model was saved to" in err and "Traceback" not in err
    assert load_model(tmp_path / "m.safetensors").network.n_inputs > 0


def test_train_saves_the_model_before_a_print_to_a_closed_pipe(tmp_path, flowers_csv):
    read, write = os.pipe()
    os.close(read)  # (the reader has gone: a write is a broken pipe)
    try:
        done = _run("train", flowers_csv, *TRAIN, "--out", "m.safetensors", cwd=tmp_path,
                    stdout=write)  # fmt: skip
    finally:
        os.close(write)
    err = done.stderr.decode()
    assert done.returncode == 2 and "standard output: Broken pipe" in err, err
    assert "Exception ignored" not in err and err.count("\n") == 1
    assert (tmp_path / "m.safetensors").is_file()


@pytest.mark.parametrize("command", ["predict", "evaluate", "train"])
def test_stdin_redirected_from_the_output_file_is_refused(command, model, tmp_path):
    data = tmp_path / "data.csv"
    data.write_bytes((tmp_path / "flowers.csv").read_bytes())
    before = data.read_bytes()
    argv = ["train", "-", *TRAIN] if command == "train" else [command, model, "-"]
    with open(data, "rb") as stdin:
        done = _run(*argv, "--out", "data.csv", cwd=tmp_path, stdin=stdin)
    err = done.stderr.decode()
    assert done.returncode == 2 and "standard input (DATA -) is redirected from" in err, err
    assert data.read_bytes() == before


def test_out_dev_stdin_redirected_from_the_data_is_refused(model, tmp_path):
    data = tmp_path / "data.csv"
    data.write_bytes((tmp_path / "flowers.csv").read_bytes())
    before = data.read_bytes()
    with open(data, "rb") as stdin:
        done = _run("predict", model, "-", "--out", "/dev/stdin", cwd=tmp_path, stdin=stdin)
    assert done.returncode == 2, done.stderr
    assert data.read_bytes() == before


def test_piped_stdin_still_writes_the_output(model, tmp_path):
    data = (tmp_path / "flowers.csv").read_bytes()
    done = _run("predict", model, "-", "--out", "p.csv", cwd=tmp_path, input=data)
    assert done.returncode == 0 and (tmp_path / "p.csv").read_text().startswith("species")


@pytest.mark.skipif(sys.platform != "linux", reason="file names of any bytes: Linux")
def test_a_data_file_name_that_is_not_utf8_trains_saves_and_resumes(tmp_path, flowers_csv):
    name = os.fsdecode(b"bad\xffname.csv")
    (tmp_path / name).write_bytes(flowers_csv.read_bytes())
    done = cli_subprocess("train", name, *TRAIN, "--out", "ok.safetensors",
                          "--checkpoint", "ck", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = load_model(tmp_path / "ok.safetensors").training["summary"]
    assert record["data"] == "bad\\xffname.csv"
    again = cli_subprocess("train", "--resume", "ck", "--quiet", "--out", "other.safetensors",
                           cwd=tmp_path)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "other.safetensors").is_file()


@pytest.mark.parametrize("name", ["checkpoint.safetensors", "settings.json"])
def test_out_in_the_checkpoint_folder_over_its_own_files_is_refused(capsys, in_tmp, name,
                                                                     flowers_csv):  # fmt: skip
    code, _, err = cli(capsys, "train", flowers_csv, *TRAIN, "--checkpoint", "ck",
                       "--out", f"ck/{name}")  # fmt: skip
    assert code == 2 and f"the checkpoint folder's own {name}" in err
    assert not (in_tmp / "ck" / name).exists()


def test_a_deeply_nested_settings_file_is_corrupt_not_a_bug(capsys, in_tmp, flowers_csv):
    code, _, err = cli(capsys, "train", flowers_csv, *TRAIN, "--checkpoint", "ck")
    assert code == 0, err
    (in_tmp / "ck" / "settings.json").write_text("[" * 100_000 + "]" * 100_000)
    code, _, err = cli(capsys, "train", "--resume", "ck")
    assert code == 2 and "is unreadable or corrupt (nested too deeply)" in err
    assert "this is a bug" not in err


def test_resume_of_a_run_stopped_before_its_settings_says_so(capsys, in_tmp):
    (in_tmp / "ck").mkdir()
    (in_tmp / "ck" / ".lock").write_text("123\n")
    code, _, err = cli(capsys, "train", "--resume", "ck")
    assert code == 2 and "stopped before its first checkpoint" in err


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_device_as_the_model_file_is_refused_before_training(capsys, in_tmp, flowers_csv):
    code, _, err = cli(capsys, "train", flowers_csv, *TRAIN, "--out", "/dev/full")
    assert code == 2 and "is a device, not a regular file" in err
    assert "accuracy" not in capsys.readouterr().out


def test_a_failed_final_save_keeps_the_model_in_the_temporary_folder(
    capsys, in_tmp, flowers_csv, monkeypatch, tmp_path_factory
):
    import deltarule.cli._train_record as record

    spare = tmp_path_factory.mktemp("spare")
    monkeypatch.setattr("tempfile.tempdir", str(spare))
    real = record._save

    def full_disk(net, path, saved):
        if Path(path).name == "m.safetensors":
            raise OSError(28, "cannot save to 'm.safetensors': No space left on device")
        real(net, path, saved)

    monkeypatch.setattr(record, "_save", full_disk)
    code, _, err = cli(capsys, "train", flowers_csv, *TRAIN, "--out", "m.safetensors")
    kept = list(spare.glob("m.*.safetensors"))
    assert code == 2 and len(kept) == 1, err
    assert f"The trained model was saved to {kept[0]} instead" in err
    assert load_model(kept[0]).training["summary"]["data"] == "flowers.csv"


def test_a_huge_cell_is_not_echoed_whole(capsys, model, in_tmp):
    (in_tmp / "long.csv").write_text("length,width,colour\n1,2,red\n1," + "9" * 100_000 + ",red\n")
    code, _, err = cli(capsys, "predict", model, "long.csv")
    assert code == 2 and len(err) < 3000, err[:300]


def test_a_gzip_table_bigger_than_memory_is_refused_by_its_size(capsys, model, in_tmp,
                                                                monkeypatch):  # fmt: skip
    with gzip.open(in_tmp / "bomb.csv.gz", "wb") as handle:
        handle.write(b"length,width,colour\n" + b"1,2,red\n" * 100_000)
    monkeypatch.setattr("deltarule.io.data.available_memory", lambda: 1_000_000)
    code, _, err = cli(
        capsys, "train", "bomb.csv.gz", "--target", "colour", "--out", "b.safetensors"
    )
    assert code == 2 and "decompresses to 800,020 bytes, more than half" in err
    # (predict reads it a chunk of rows at a time: only a chunk is held)
    code, out, err = cli(capsys, "predict", model, "bomb.csv.gz", "--chunk-rows", "10000")
    assert code == 0 and len(out.splitlines()) == 100_001, err


def test_a_wide_table_is_read_in_part_with_the_same_predictions(capsys, model, in_tmp):
    rows = (in_tmp / "flowers.csv").read_text().splitlines()
    extra = [f"x{i}" for i in range(1500)]
    wide = [",".join([rows[0], *extra])]
    wide += [",".join([row, *("0" for _ in extra)]) for row in rows[1:]]
    (in_tmp / "wide.csv").write_text("\n".join(wide) + "\n")
    code, narrow_out, err = cli(capsys, "predict", model, "flowers.csv")
    assert code == 0, err
    code, wide_out, err = cli(capsys, "predict", model, "wide.csv")
    assert code == 0 and wide_out == narrow_out, err


def test_out_of_memory_names_the_input_not_a_bug(capsys, model, in_tmp, monkeypatch):
    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("deltarule.cli.predict.prediction_table", no_memory)
    code, _, err = cli(capsys, "predict", model, "flowers.csv")
    assert code == 2 and "out of memory" in err and "flowers.csv (" in err
    assert "this is a bug" not in err


def _points_csv(path, rows: int, seed: int, both: bool) -> None:
    """A table a,b,c,y of normal points; y is p where a > 0 (a + b > 0 with ``both``)."""
    import numpy as np

    X = np.random.default_rng(seed).normal(size=(rows, 3))
    lines = [f"{a:.4f},{b:.4f},{c:.4f},{'p' if (a + b if both else a) > 0 else 'q'}"
             for a, b, c in X]  # fmt: skip
    path.write_text("a,b,c,y\n" + "\n".join(lines) + "\n")


def _ctrl_c_after(monkeypatch, epoch: int) -> None:
    """Press Ctrl-C (SIGINT) as training ends epoch ``epoch``."""
    import signal

    from deltarule import _epochs

    original = _epochs.end_epoch

    def end_epoch(record, state, cbs):
        if record.epoch == epoch:
            signal.raise_signal(signal.SIGINT)
        return original(record, state, cbs)

    monkeypatch.setattr(_epochs, "end_epoch", end_epoch)


def test_ctrl_c_during_a_quiet_train_prints_the_cli_line_not_pythons_warning(
    tmp_path, capsys, monkeypatch
):
    # (QA: "fit stopped cleanly and returned, so the program goes on; press Ctrl-C twice"
    # was shown at the command line, Python API advice)
    from deltarule.cli import main

    _points_csv(tmp_path / "d.csv", rows=200, seed=0, both=False)
    _ctrl_c_after(monkeypatch, epoch=2)
    code = main(["train", str(tmp_path / "d.csv"), "--target", "y", "--epochs", "20", "--quiet",
                 "--out", str(tmp_path / "m.safetensors")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 130 and "interrupted (Ctrl-C) after epoch 2" in err
    assert "press Ctrl-C twice" not in err and "program goes on" not in err


def test_a_resumed_runs_still_falling_warning_reads_the_whole_run(tmp_path, capsys, monkeypatch):
    # (QA: resumed after epoch 26 of 30, it said "2.1% lower over the last 1 epoch" where the
    # uninterrupted run said "6.3% lower over the last 4 epochs", with the same weights)
    from deltarule import _epochs
    from deltarule.cli import main

    _points_csv(tmp_path / "d.csv", rows=300, seed=1, both=True)
    argv = ["train", str(tmp_path / "d.csv"), "--target", "y", "--epochs", "40", "--patience",
            "100", "--quiet", "--seed", "2"]  # fmt: skip

    def warning_line(err: str) -> str:
        return next(line for line in err.splitlines() if "still falling" in line)

    assert main([*argv, "--out", str(tmp_path / "a.safetensors")]) == 0
    uninterrupted = warning_line(capsys.readouterr().err)
    original = _epochs.end_epoch
    _ctrl_c_after(monkeypatch, epoch=35)
    folder = tmp_path / "ck"
    assert main([*argv, "--out", str(tmp_path / "b.safetensors"), "--checkpoint",
                 str(folder)]) == 130  # fmt: skip
    monkeypatch.setattr(_epochs, "end_epoch", original)
    capsys.readouterr()
    assert main(["train", "--resume", str(folder), "--quiet",
                 "--out", str(tmp_path / "b.safetensors")]) == 0  # fmt: skip
    resumed = warning_line(capsys.readouterr().err)
    numbers = "lower over the last"
    assert numbers in uninterrupted
    assert resumed.split(numbers)[0] == uninterrupted.split(numbers)[0]  # the same drop
    assert resumed.split(numbers)[1].split(")")[0] == uninterrupted.split(numbers)[1].split(")")[0]


@pytest.mark.parametrize(
    "text, reason",
    [  # (QA: a KeyError's "'settings'" and a TypeError's "list indices must be integers")
        ("{}", "no 'format': 'deltarule.train-settings'"),
        ("[]", "a JSON list, not an object"),
        ('{"format": "deltarule.train-settings"}', "no 'settings' object"),
        ('{"format": "deltarule.train-settings", "settings": [1]}', "no 'settings' object"),
        ("nope", "not JSON: Expecting value"),
    ],
)
def test_a_damaged_settings_file_says_what_is_wrong_in_words(capsys, in_tmp, text, reason):
    (in_tmp / "ck").mkdir()
    (in_tmp / "ck" / "settings.json").write_text(text)
    code, _, err = cli(capsys, "train", "--resume", "ck")
    assert code == 2 and len(err.splitlines()) == 1
    assert f"is unreadable or corrupt ({reason}" in err
