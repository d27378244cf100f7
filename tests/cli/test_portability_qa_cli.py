"""What Windows and macOS do differently, simulated here: text stdout's line endings, the
locale's encoding, case-insensitive file names, file locking without fcntl."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import pytest

import deltarule as dr
from deltarule.cli import _common, _resume

from .cli_helpers import cli, flowers


def test_predictions_are_written_with_newlines_whatever_os_linesep(capsys, tmp_path,
                                                                   monkeypatch):  # fmt: skip
    monkeypatch.chdir(tmp_path)
    flowers().to_csv("flowers.csv", index=False)
    code, _, err = cli(capsys, "train", "flowers.csv", "--target", "species", "--epochs", "2",
                       "--quiet", "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    monkeypatch.setattr(os, "linesep", "\r\n")  # (pandas' default line end: Windows')
    code, out, err = cli(capsys, "predict", "m.safetensors", "flowers.csv", "--out", "p.csv")
    assert code == 0, err
    raw = (tmp_path / "p.csv").read_bytes()
    assert b"\r" not in raw and raw.count(b"\n") == len(flowers()) + 1


def test_the_csv_logger_writes_utf8_not_the_locales_encoding(tmp_path):
    script = (
        "import numpy as np, deltarule as dr\n"
        "from deltarule.callbacks import CSVLogger\n"
        "X = np.zeros((4, 2)); y = np.zeros((4, 1))\n"
        f"dr.Network([2, 1], seed=0).fit(X, y, epochs=2, verbose=0, warn_convergence=False,"
        f" callbacks=[CSVLogger({str(tmp_path / 'log.csv')!r})])\n"
    )
    done = subprocess.run(
        [sys.executable, "-X", "warn_default_encoding", "-W", "error::EncodingWarning",
         "-c", script], capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "log.csv").read_text(encoding="utf-8").startswith("epoch,")


def test_names_that_differ_in_case_are_one_file_on_windows_and_macos(monkeypatch, tmp_path):
    a, b = str(tmp_path / "Out.csv"), str(tmp_path / "out.csv")
    assert not _common._same_file(a, b)  # (Linux: two files)
    for platform in ("win32", "darwin"):
        monkeypatch.setattr(_common.sys, "platform", platform)
        assert _common._same_file(a, b)


def test_the_checkpoint_folder_is_locked_without_fcntl(monkeypatch, tmp_path):
    calls = []

    def locking(fd, mode, size):
        calls.append((mode, size))
        if len(calls) > 1:  # (the second run: held by the first)
            raise OSError(13, "Permission denied")

    monkeypatch.setitem(sys.modules, "fcntl", None)  # (no fcntl, as on Windows)
    fake = types.SimpleNamespace(LK_NBLCK=2, locking=locking)
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    with _resume.run_lock(tmp_path / "ck"):
        with pytest.raises(dr.InputError, match="is in use by another training run"):
            with _resume.run_lock(tmp_path / "ck"):
                pass
    assert calls == [(2, 1), (2, 1)]


def test_a_save_tries_again_while_windows_refuses_to_replace_an_open_file(monkeypatch, tmp_path):
    from deltarule.io import atomic

    real, calls = os.replace, []

    def busy(src, dst):
        calls.append(dst)
        if len(calls) < 3:  # (another process has the target open, twice)
            raise PermissionError(13, "The process cannot access the file")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", busy)
    monkeypatch.setattr(atomic, "WINDOWS", True)
    monkeypatch.setattr(atomic.time, "sleep", lambda seconds: None)
    atomic.atomic_write_text(tmp_path / "m.txt", "saved")
    assert len(calls) == 3 and (tmp_path / "m.txt").read_text() == "saved"
    monkeypatch.setattr(atomic, "WINDOWS", False)  # (elsewhere a refusal is final)
    calls.clear()
    with pytest.raises(PermissionError, match="cannot save to"):
        atomic.atomic_write_text(tmp_path / "n.txt", "not saved")
    assert len(calls) == 1 and not list(tmp_path.glob("*.tmp*"))
