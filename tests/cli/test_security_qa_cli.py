"""Hostile checkpoint folders and model files at the command line (a security QA pass):
each is refused with one ``error:`` line (exit 2), or shown without being obeyed."""

from __future__ import annotations

import hashlib
import json
import os

import pandas as pd
import pytest

from deltarule.io.safetensors import covered_header

from .cli_helpers import cli


def _edit(path, change):
    """Rewrite model file ``path`` with its ``deltarule`` header edited in place by
    ``change``, the checksum recomputed as docs/file-format.md describes."""
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    header, data = json.loads(raw[8 : 8 + n]), raw[8 + n :]
    metadata = header.pop("__metadata__")
    inner = json.loads(metadata["deltarule"])
    change(inner)
    metadata["deltarule"] = json.dumps(inner)
    metadata["deltarule.sha256"] = hashlib.sha256(
        covered_header(header, metadata) + data
    ).hexdigest()
    text = json.dumps({**header, "__metadata__": metadata}).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + data)


@pytest.fixture
def run(flowers_csv, tmp_path, capsys):
    """A finished checkpointed run: (folder, its model)."""
    folder, out = tmp_path / "run", tmp_path / "m.safetensors"
    code, _, err = cli(capsys, "train", flowers_csv, "--target", "species", "--epochs", "2",
                       "--quiet", "--checkpoint", folder, "--out", out)  # fmt: skip
    assert code == 0, err
    return folder, out


def _settings(folder, **changes):
    path = folder / "settings.json"
    payload = json.loads(path.read_text())
    payload["settings"].update(changes)
    path.write_text(json.dumps(payload))


# ---------------------------------------------------------------- 1: the saved --out


def test_resume_refuses_to_replace_a_file_that_is_not_a_model(run, tmp_path, capsys):
    folder, _ = run
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    _settings(folder, out=str(notes))
    code, _, err = cli(capsys, "train", "--resume", folder)
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ")
    assert f"name the output --out {notes}" in err and "not a deltarule model file" in err
    assert "Pass --out" in err
    assert notes.read_text() == "my notes"


def test_resume_refuses_to_replace_a_file_that_is_not_an_image(run, tmp_path, capsys):
    folder, _ = run
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture")
    _settings(folder, plot=str(notes))
    code, _, err = cli(capsys, "train", "--resume", folder, "--out", tmp_path / "new.safetensors")
    assert code == 2 and "--plot" in err and "not a PNG or SVG image" in err
    assert notes.read_text() == "not a picture"


def test_resume_replaces_its_own_model_and_says_where(run, capsys):
    folder, out = run
    (folder / "checkpoint.safetensors").unlink()  # (the run starts over, as killed early)
    code, _, err = cli(capsys, "train", "--resume", folder)
    assert code == 0, err
    assert f"the model will be saved to {out}" in err


def test_a_resumed_run_with_a_bad_option_says_only_the_error(run, capsys):
    folder, _ = run
    code, _, err = cli(capsys, "train", "--resume", folder, "--report-every", "0")
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: --report-every 0")


# ---------------------------------------------------------------- 2: links in the folder


def test_a_lock_link_is_refused_and_its_target_kept(run, tmp_path, capsys):
    folder, _ = run
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (folder / ".lock").unlink()
    (folder / ".lock").symlink_to(victim)
    code, _, err = cli(capsys, "train", "--resume", folder)
    assert code == 2 and ".lock is a symbolic link" in err and err.count("\n") == 1
    assert victim.read_text() == "precious"


def test_a_dangling_checkpoint_link_is_refused(flowers_csv, tmp_path, capsys):
    folder, target = tmp_path / "run", tmp_path / "planted.safetensors"
    folder.mkdir()
    (folder / "checkpoint.safetensors").symlink_to(target)
    code, _, err = cli(
        capsys,
        "train",
        flowers_csv,
        "--target",
        "species",
        "--epochs",
        "1",
        "--quiet",
        "--checkpoint",
        folder,
        "--out",
        tmp_path / "m.safetensors",
    )
    assert code == 2 and "checkpoint.safetensors is a symbolic link" in err
    assert not target.exists()


# ---------------------------------------------------------------- 6: inspect's text


def test_inspect_shows_control_characters_and_shortens_long_values(run, capsys):
    _, out = run

    def hostile(inner):
        inner["library_version"] = "\x1b[2J\x1b[31mevil\x07" + "v" * 10_000
        inner["classes"] = ["\x1b]0;title\x07setosa", *inner["classes"][1:]]
        inner["preprocessing"]["classes"] = inner["classes"]
        inner["training"]["summary"]["stop_reason"] = "done\rfaked\u202e"

    _edit(out, hostile)
    code, text, err = cli(capsys, "inspect", out)
    assert code == 0, err
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "\u202e" not in text
    assert "\\x1b[2J\\x1b[31mevil\\x07" in text and "(10,014 characters)" in text
    assert "\\x1b]0;title\\x07setosa" in text and "done\\rfaked\\u202e" in text
    code, data, _ = cli(capsys, "inspect", out, "--format", "json")
    info = json.loads(data)  # (JSON keeps the values exactly)
    assert info["library_version"].startswith("\x1b[2J") and len(info["library_version"]) > 10_000
    assert "\x1b" not in data and "\u202e" not in data


def test_evaluate_shows_labels_from_the_file_escaped(run, flowers_csv, tmp_path, capsys):
    _, out = run

    def hostile(inner):
        first = inner["classes"][0]
        inner["classes"][0] = f"\x1b]0;title\x07{first}" + "x" * 100
        inner["preprocessing"]["classes"] = inner["classes"]

    _edit(out, hostile)
    frame = pd.read_csv(flowers_csv)
    label = sorted(frame["species"].unique())[0]  # (the model's first class)
    frame["species"] = frame["species"].replace(label, f"\x1b]0;title\x07{label}" + "x" * 100)
    frame.to_csv(tmp_path / "hostile.csv", index=False)
    code, text, err = cli(capsys, "evaluate", out, tmp_path / "hostile.csv")
    assert code == 0, err
    assert "confusion matrix:" in text and "\x1b" not in text and "\x07" not in text
    assert "\\x1b]0;title\\x07" in text and "characters)" in text


# ---------------------------------------------------------------- 10: explain's Markdown


def test_explain_markdown_escapes_html_and_latex_in_names(tmp_path, capsys):
    csv = tmp_path / "d.csv"
    rows = [f"{i / 10},{'p' if i % 2 else 'q'}" for i in range(20)]
    csv.write_text("<script>alert(1)</script>\\href,t\n" + "\n".join(rows) + "\n")
    model = tmp_path / "m.safetensors"
    code, _, err = cli(capsys, "train", csv, "--target", "t", "--hidden", "2", "--epochs", "1",
                       "--quiet", "--out", model)  # fmt: skip
    assert code == 0, err
    code, text, err = cli(capsys, "explain", model, "--raw", "--input", "0.5",
                          "--format", "markdown")  # fmt: skip
    assert code == 0, err
    assert "<script>" not in text and "\\href" not in text
    assert r"\lt\text{script}\gt" in text and r"\textbackslash{}href" in text
    assert os.path.getsize(model) > 0
