"""docs/backprop.md is the current output of ``deltarule explain --format markdown``."""

from __future__ import annotations

from pathlib import Path

from deltarule.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "backprop.md"


def test_walkthrough_document_is_current(tmp_path) -> None:
    fresh = tmp_path / "backprop.md"
    assert main(["explain", "--format", "markdown", "--steps", "10000", "--out", str(fresh)]) == 0
    assert fresh.read_text() == DOC.read_text(), (
        "docs/backprop.md is stale; regenerate it with "
        "deltarule explain --format markdown --steps 10000 --out docs/backprop.md"
    )
