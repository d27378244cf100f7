"""DATA ``-``: ``train``, ``predict`` and ``evaluate`` read the table from standard input."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from deltarule.io.model_file import load_model

from .cli_helpers import cli, cli_subprocess, flowers

TRAIN = ["--target", "species", "--epochs", "5", "--quiet", "--seed", "3"]


class _Stdin(io.TextIOWrapper):
    """Standard input holding ``data`` (a pipe: not a terminal)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")


class _Terminal(io.TextIOWrapper):
    """Standard input that is a terminal: reading it would wait for someone to type."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(b""), encoding="utf-8")

    def isatty(self) -> bool:
        return True

    def read(self, *args: object) -> str:  # pragma: no cover - the test fails if it is read
        raise AssertionError("a terminal on standard input was read")


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """The temporary folder commands keep standard input in (empty when a test starts)."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def piped(monkeypatch):
    """Put bytes on standard input for in-process commands."""

    def put(data: bytes) -> None:
        monkeypatch.setattr(sys, "stdin", _Stdin(data))

    return put


@pytest.fixture
def model(capsys, in_tmp, flowers_csv) -> Path:
    code, _, err = cli(capsys, "train", flowers_csv, *TRAIN, "--out", "model.safetensors")
    assert code == 0, err
    return in_tmp / "model.safetensors"


def _error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


# ---------------------------------------------------------------- the commands read it
def test_train_from_stdin_equals_train_from_the_file(capsys, in_tmp, flowers_csv, piped):
    assert cli(capsys, "train", flowers_csv, *TRAIN, "--out", "file.safetensors")[0] == 0
    piped(flowers_csv.read_bytes())
    code, out, err = cli(capsys, "train", "-", *TRAIN, "--out", "stdin.safetensors")
    assert code == 0, err
    from_file, from_stdin = load_model("file.safetensors"), load_model("stdin.safetensors")
    for a, b in zip(from_file.network.weights, from_stdin.network.weights):
        np.testing.assert_array_equal(a, b)
    assert from_stdin.header["training"]["summary"]["data"] == "standard input"


def test_train_from_stdin_needs_out(capsys, in_tmp, flowers_csv, piped):
    piped(flowers_csv.read_bytes())
    code, _, err = cli(capsys, "train", "-", *TRAIN)
    line = _error_line(err)
    assert code == 2 and "standard input" in line and "--out MODEL" in line
    assert not list(in_tmp.glob("*.safetensors"))  # (no '-.safetensors')


def test_predict_in_a_pipe_writes_what_the_file_gives(model, flowers_csv):
    new = flowers(seed=7).drop(columns="species")
    new.to_csv("new.csv", index=False)
    expected = cli_subprocess("predict", model, "new.csv", cwd=model.parent)
    assert expected.returncode == 0, expected.stderr
    piped = cli_subprocess(
        "predict", model, "-", cwd=model.parent, input=Path("new.csv").read_text()
    )
    assert (piped.returncode, piped.stderr) == (0, "")
    assert piped.stdout == expected.stdout and piped.stdout.startswith("species\n")


def test_evaluate_from_stdin_equals_evaluate_from_the_file(capsys, model, flowers_csv, piped):
    code, from_file, _ = cli(capsys, "evaluate", model, flowers_csv, "--format", "json")
    assert code == 0
    piped(flowers_csv.read_bytes())
    code, from_stdin, err = cli(capsys, "evaluate", model, "-", "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(from_stdin) == json.loads(from_file)


def test_gzip_csv_and_npz_bytes_on_stdin_are_recognised(capsys, in_tmp, piped):
    frame = flowers()
    frame.to_csv("f.csv", index=False)
    assert cli(capsys, "train", "f.csv", *TRAIN, "--out", "m.safetensors")[0] == 0
    code, expected, _ = cli(capsys, "predict", "m.safetensors", "f.csv")
    piped(gzip.compress(Path("f.csv").read_bytes()))
    code, out, err = cli(capsys, "predict", "m.safetensors", "-")
    assert (code, err, out) == (0, "", expected)

    X = np.random.default_rng(0).normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(int)
    np.savez("xy.npz", X=X, y=y)
    assert cli(capsys, "train", "xy.npz", "--quiet", "--epochs", "3", "--out", "n.st")[0] == 0
    _, expected, _ = cli(capsys, "predict", "n.st", "xy.npz")
    piped(Path("xy.npz").read_bytes())
    code, out, err = cli(capsys, "predict", "n.st", "-")
    assert (code, err, out) == (0, "", expected)


class _Trickle(io.BytesIO):
    """A pipe's bytes, given at most ``most`` at a time (fewer than asked, as a pipe may),
    each read's size recorded."""

    def __init__(self, data: bytes, most: int) -> None:
        super().__init__(data)
        self.most, self.asked = most, []

    def read(self, size: int = -1) -> bytes:
        self.asked.append(size)
        return super().read(min(self.most, size) if size >= 0 else self.most)


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_stdin_is_copied_a_block_at_a_time(capsys, model, monkeypatch, command):
    """Standard input goes to its temporary file in blocks (here of 5 bytes, given 3 at a
    time: a Parquet file's first 4 bytes still tell its format), never read whole; the
    output is the file's, and its size and SHA-256 are the bytes'."""
    import hashlib

    import deltarule.cli._stdin as stdin_module

    frame = flowers(seed=5)
    frame.to_csv("new.csv", index=False)
    frame.to_parquet("new.parquet")
    monkeypatch.setattr(stdin_module, "_BLOCK", 5)
    for name in ("new.csv", "new.parquet"):
        data = Path(name).read_bytes()
        code, expected, _ = cli(capsys, command, model, name)
        pipe = _Trickle(data, 3)
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(pipe, encoding="utf-8"))
        assert cli(capsys, command, model, "-") == (code, expected, "")
        assert pipe.asked and set(pipe.asked) == {5}, name
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(_Trickle(data, 3), encoding="utf-8"))
        with stdin_module.session():
            assert stdin_module.fingerprint() == {
                "source": "standard input",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }


# ---------------------------------------------------------------- what is refused
@pytest.mark.parametrize("command", ["train", "predict", "evaluate"])
def test_empty_stdin_is_an_error(capsys, model, piped, command):
    piped(b"")
    argv = ["train", "-", *TRAIN, "--out", "x.st"] if command == "train" else [command, model, "-"]
    code, out, err = cli(capsys, *argv)
    line = _error_line(err)
    assert code == 2 and out == ""
    assert line.startswith("error: standard input is empty; expected CSV rows")


@pytest.mark.parametrize("command", ["train", "predict", "evaluate"])
def test_a_terminal_on_stdin_is_refused_not_waited_on(capsys, model, monkeypatch, command):
    monkeypatch.setattr(sys, "stdin", _Terminal())
    argv = ["train", "-", *TRAIN, "--out", "x.st"] if command == "train" else [command, model, "-"]
    code, _, err = cli(capsys, *argv)
    line = _error_line(err)
    assert code == 2 and "standard input is a terminal" in line and "cat data.csv |" in line


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_real_terminal_on_stdin_does_not_hang(model):
    controller, terminal = os.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "deltarule", "predict", str(model), "-"],
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=120,  # (a command waiting on the terminal would be killed here)
            cwd=model.parent,
        )
    finally:
        os.close(controller)
        os.close(terminal)
    assert done.returncode == 2 and "standard input is a terminal" in done.stderr


def test_messages_name_standard_input_not_a_temporary_file(capsys, model, piped, private_tmp):
    piped(b"length,width,colour\n1.0,2.0,red\n1.5,2.5,blue,extra\n")
    code, _, err = cli(capsys, "predict", model, "-")
    line = _error_line(err)
    assert code == 2 and line.startswith("error: standard input: line 3 has 4 fields")
    assert "stdin" not in line and str(private_tmp) not in line

    piped(b"length,width,colour\n1.0,2.0,red\n,2.5,blue\n")
    code, _, err = cli(capsys, "predict", model, "-")
    line = _error_line(err)
    assert code == 2 and "the first at line 3 of standard input (data row 2)" in line
    assert not list(private_tmp.iterdir())  # (removed after the error too)


def test_the_temporary_copy_is_private_and_removed(capsys, model, piped, private_tmp, monkeypatch):
    import deltarule.cli._stdin as stdin_module

    seen = []
    keep = stdin_module._Stdin._keep

    def spy(self, data):
        path = keep(self, data)
        seen.append((path, path.read_bytes(), os.stat(path.parent).st_mode & 0o777))
        return path

    monkeypatch.setattr(stdin_module._Stdin, "_keep", spy)
    data = Path("new.csv")
    flowers(seed=5).to_csv(data, index=False)
    piped(data.read_bytes())
    assert cli(capsys, "predict", model, "-")[0] == 0
    [(path, held, mode)] = seen
    assert held == data.read_bytes() and mode == 0o700 and path.parent.parent == private_tmp
    assert not list(private_tmp.iterdir())


# ---------------------------------------------------------------- checkpoints
def test_a_run_on_stdin_is_recorded_and_refused_by_resume(capsys, in_tmp, flowers_csv, piped):
    piped(flowers_csv.read_bytes())
    code, _, err = cli(capsys, "train", "-", *TRAIN, "--out", "m.st", "--checkpoint", "ck")
    assert code == 0, err
    assert err.startswith("warning: --checkpoint ck: DATA - is standard input") and (
        "cannot be continued with --resume" in err
    )
    payload = json.loads((in_tmp / "ck" / "settings.json").read_text())
    assert payload["settings"]["data"] == "-"
    data = flowers_csv.read_bytes()
    assert payload["data_fingerprint"]["source"] == "standard input"
    assert payload["data_fingerprint"]["size"] == len(data)

    code, _, err = cli(capsys, "train", "--resume", "ck")
    line = _error_line(err)
    assert code == 2 and "standard input (DATA -)" in line and "Save the data to a file" in line


def test_an_interrupted_run_on_stdin_does_not_advise_resume(
    capsys, in_tmp, flowers_csv, piped, monkeypatch
):
    import deltarule.cli._train_fit as train_fit  # (where the fit calls it)

    real = train_fit.fit_resumable

    def interrupted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        history = real(*args, **kwargs)
        history.stop_reason = f"interrupted (Ctrl-C) after epoch {len(history)}"
        return history

    monkeypatch.setattr(train_fit, "fit_resumable", interrupted)
    piped(flowers_csv.read_bytes())
    code, _, err = cli(capsys, "train", "-", *TRAIN, "--out", "m.st", "--checkpoint", "ck")
    assert code == 130 and (in_tmp / "ck" / "checkpoint.safetensors").is_file()
    assert "interrupted (Ctrl-C) after epoch " in err
    assert "the model trained so far is in m.st" in err
    assert "interrupted: " not in err  # (the word was printed twice)
    assert "--resume" not in err.split("interrupted (Ctrl-C) after epoch ", 1)[1]


def test_help_says_what_dash_reads(capsys):
    for command in (["train"], ["predict", "m"], ["evaluate", "m"]):
        code, out, _ = cli(capsys, *command, "--help")
        assert code == 0 and "- for standard input" in out, command
