"""The README's Python examples run as written and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import warnings
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_the_two_command_quick_start() -> None:
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make \w+", quick, flags=re.M)
    assert commands == ["make demo", "make test"]


def test_readme_python_examples_run_and_print_their_comments() -> None:
    namespace: dict = {}
    for block in python_blocks():
        out = io.StringIO()
        with contextlib.redirect_stdout(out), warnings.catch_warnings(record=True) as shown:
            warnings.simplefilter("always")
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
        # (a reader running the block sees no warning its text does not mention)
        assert [str(w.message) for w in shown] == [], block
        printed = out.getvalue().splitlines()
        expected = [
            m.group(1).strip()
            for line in block.splitlines()
            if line.lstrip().startswith("print(") and (m := re.search(r"#\s*(.+)$", line))
        ]
        for want, got in zip(expected, printed):
            pattern = re.escape(want).replace(r"\.\.\.", ".*")
            assert re.fullmatch(pattern, got.strip()), (want, got)
        assert len(printed) >= len(expected)


def shell_commands() -> list[str]:
    """The ``deltarule`` commands of the README's command-line section, in order."""
    section = README.read_text().split("## Command line", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.startswith("deltarule ")]


def test_readme_command_line_examples_run_in_order_in_an_empty_folder(
    tmp_path, monkeypatch, capsys
) -> None:
    # (before: they used houses.csv, titanic.csv, iris.csv... which nothing made)
    from deltarule.cli import main

    monkeypatch.chdir(tmp_path)
    commands = shell_commands()
    assert any(line.startswith("deltarule data ") for line in commands)
    for line in commands:
        code = main(shlex.split(line, comments=True)[1:])
        err = capsys.readouterr().err
        assert code == 0, (line, err)
        assert "error:" not in err, (line, err)
        if line.startswith("deltarule train "):  # (at 100 epochs: "still falling, raise")
            assert "warning:" not in err, (line, err)
    made = {path.name for path in tmp_path.iterdir()}
    wanted = {"iris.csv", "new.csv", "iris.safetensors", "curves.png", "proba.json",
              "confusion.png", "diabetes.csv", "diabetes.safetensors", "net.svg"}  # fmt: skip
    assert wanted <= made
    assert (tmp_path / "proba.json").read_text().startswith("[{")  # (JSON: from .json)
