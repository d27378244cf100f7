"""``deltarule versions``: the report as text or JSON, to stdout or a file; errors as one line."""

from __future__ import annotations

import importlib.metadata
import json

import pytest

import deltarule as dr
from deltarule.cli import SUBCOMMANDS

from .cli_helpers import cli

SECTIONS = ("System:", "Python dependencies:", "Matrix products:", "Compiled kernels:",
            "Environment:")  # fmt: skip


def one_error(code: int, out: str, err: str) -> str:
    lines = err.splitlines()
    assert code == 2 and out == "" and len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_it_is_a_subcommand_listed_in_the_help(capsys) -> None:
    assert "versions" in SUBCOMMANDS
    code, out, _ = cli(capsys, "--help")
    assert code == 0 and "versions" in out
    code, out, _ = cli(capsys, "versions", "--help")
    assert code == 0 and "examples:" in out and "deltarule versions --format json" in out


def test_text_output_has_every_section(capsys) -> None:
    code, out, err = cli(capsys, "versions")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert [line for line in lines if line in SECTIONS] == list(SECTIONS)
    assert lines[1].split() == ["deltarule:", dr.__version__]
    assert f"numpy: {importlib.metadata.version('numpy')}" in out
    assert "NumPy's BLAS:" in out and "MKL:" in out and "oneDNN:" in out


def test_json_output_parses_to_the_report(capsys) -> None:
    code, out, err = cli(capsys, "versions", "--format", "json")
    assert code == 0 and err == ""
    info = json.loads(out)
    assert info["deltarule"] == dr.__version__
    assert info["packages"]["numpy"] == importlib.metadata.version("numpy")
    assert set(info) == set(dr.versions.versions())


def test_out_json_writes_the_file(capsys, in_tmp) -> None:
    code, out, err = cli(capsys, "versions", "--out", "x.json")
    assert code == 0 and out == "" and err == "wrote x.json\n"
    info = json.loads((in_tmp / "x.json").read_text(encoding="utf-8"))
    assert info["deltarule"] == dr.__version__
    code, out, err = cli(capsys, "versions", "--out", "x.txt", "--quiet")
    assert (code, out, err) == (0, "", "")
    assert (in_tmp / "x.txt").read_text(encoding="utf-8").startswith("System:\n")
    assert sorted(path.name for path in in_tmp.iterdir()) == ["x.json", "x.txt"]  # (no temps)


def test_out_dash_is_standard_output(capsys) -> None:
    code, out, err = cli(capsys, "versions", "--out", "-", "--format", "json")
    assert code == 0 and err == "" and json.loads(out)["deltarule"] == dr.__version__


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--format", "xml"], "invalid choice: 'xml'"),
        (["--out", "v.csv"], "which this command does not write"),
        (["--format", "text", "--out", "v.json"], "--format text does not match --out v.json"),
        (["--out", "missing-folder/v.json"], "the folder"),
        (["--out", "."], "is a folder; expected a file path such as versions.txt"),
        (["--out", ""], "--out is empty; expected a file path such as versions.txt"),
    ],
)
def test_errors_are_one_line_with_status_2(capsys, in_tmp, argv, fragment) -> None:
    line = one_error(*cli(capsys, "versions", *argv))
    assert fragment in line
    assert list(in_tmp.iterdir()) == []


def test_a_control_character_in_the_environment_is_not_written_raw(capsys, monkeypatch) -> None:
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell\x1b]0;title\x07")
    code, out, _ = cli(capsys, "versions")
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert "OPENBLAS_CORETYPE: 'Haswell\\x1b]0;title\\x07'" in out


def test_bytes_that_are_not_utf8_in_the_environment_give_valid_json(capsys, monkeypatch) -> None:
    import os

    value = os.fsdecode(b"4\xff\xfe")  # (what Python makes of such bytes: lone surrogates)
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    code, out, _ = cli(capsys, "versions", "--format", "json")
    assert code == 0
    info = json.loads(out.encode("utf-8").decode("utf-8"))  # (encodable: no surrogates)
    assert info["environment"]["OMP_NUM_THREADS"] == "4\\xff\\xfe"
