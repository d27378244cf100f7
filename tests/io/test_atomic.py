"""Atomic writes: long names, paths that cannot be files, stray temporary files."""

from __future__ import annotations

import os

import pytest

from deltarule.exceptions import InputError
from deltarule.io.atomic import (
    atomic_write_bytes,
    check_writable,
    remove_stale_temps,
)


def test_a_long_but_valid_name_is_saved(tmp_path):
    # (before: the temporary name, 18 characters longer, was "File name too long")
    target = tmp_path / ("m" * 240 + ".safetensors")  # 252 characters: the limit is 255
    check_writable(target)
    atomic_write_bytes(target, b"weights")
    assert target.read_bytes() == b"weights"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_a_temporary_file_left_by_a_long_name_is_recognised(tmp_path):
    from deltarule.io.atomic import _create_temp

    target = tmp_path / ("é" * 120 + ".st")  # 243 bytes in UTF-8
    fd, temp = _create_temp(target)  # as a save killed halfway (kill -9) leaves it
    os.close(fd)
    assert len(os.fsencode(temp.name)) <= 255 and temp.parent == tmp_path
    assert remove_stale_temps(tmp_path, [target.name]) == [temp]
    assert not temp.exists()


def test_only_our_own_temporary_files_are_removed(tmp_path):
    ours = tmp_path / ".checkpoint.safetensors.0123456789ab.tmp"
    others = [tmp_path / ".checkpoint.safetensors.tmp", tmp_path / "checkpoint.safetensors",
              tmp_path / ".checkpoint.safetensors.0123456789AB.tmp",
              tmp_path / ".other.0123456789ab.tmp"]  # fmt: skip
    for path in [ours, *others]:
        path.write_bytes(b"x")
    assert remove_stale_temps(tmp_path, ["checkpoint.safetensors"]) == [ours]
    assert all(path.exists() for path in others)
    assert remove_stale_temps(tmp_path / "missing", ["checkpoint.safetensors"]) == []


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "cannot save to an empty path ''; expected a file path"),
        ("sub/", "cannot save to 'sub/': a path ending in '/' names a folder"),
        ("nodir/", "cannot save to 'nodir/': a path ending in '/' names a folder"),
        ("data.csv/x.st", "data.csv' is a file, not a folder. Choose a path inside a folder"),
        ("data.csv/a/x.st", "data.csv' is a file, not a folder"),
        ("nodir/x.st", "the directory '.*nodir' does not exist. Create it first"),
    ],
)
def test_paths_that_cannot_be_files_are_named(tmp_path, monkeypatch, path, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "data.csv").write_text("a\n1\n")
    for call in (check_writable, lambda p: atomic_write_bytes(p, b"x")):
        with pytest.raises(InputError, match=message):
            call(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "sub"]


def test_saving_a_model_to_an_empty_path_names_it_empty():
    import deltarule as dr
    from deltarule.io import save_model

    # (before: "cannot save to '': it is a directory", the current folder)
    with pytest.raises(InputError, match="cannot save to an empty path ''"):
        save_model(dr.Network([2, 1]), "")


def test_a_folder_that_cannot_be_opened_for_its_sync_fails_no_save(tmp_path, monkeypatch):
    # The file is in place before the folder is synced (best effort): a folder of mode 0o333
    # opens for no user but root, which is what os.open refusing it stands in for here.
    import deltarule.io.atomic as atomic
    from deltarule.io import atomic_write_text

    real_open = os.open

    def refuse_folders(path, flags, *args, **kwargs):
        if os.path.isdir(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(atomic.os, "open", refuse_folders)
    target = tmp_path / "notes.txt"
    atomic_write_text(target, "kept\n")
    assert target.read_text() == "kept\n"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_a_folder_that_takes_no_new_files_is_named(tmp_path) -> None:
    # "No such file or directory; check the disk (space, permissions)" before: the folder
    # is there, so neither said what is wrong.
    with pytest.raises(FileNotFoundError) as info:
        atomic_write_bytes("/proc/m.safetensors", b"x")
    message = str(info.value)
    assert "cannot save to '/proc/m.safetensors'" in message
    assert "the folder '/proc' exists but takes no new files" in message
    assert "choose a path in an ordinary folder" in message
