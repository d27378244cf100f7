"""The README's Python examples run as written and print what their comments say."""

from __future__ import annotations

import contextlib
import io
import re
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
        with contextlib.redirect_stdout(out):
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
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
