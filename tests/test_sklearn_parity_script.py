"""benchmarks/sklearn_parity.py --quick runs end to end (keeps the script from rotting)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "sklearn_parity.py"


def test_quick_run_prints_a_table_and_writes_json(tmp_path) -> None:
    output = tmp_path / "parity.json"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "digits" in result.stdout and "total fit time" in result.stdout
    report = json.loads(output.read_text())
    assert report["quick"] is True
    assert set(report["results"]) == {"digits", "breast_cancer", "wine", "iris", "diabetes"}
    for entry in report["results"].values():
        summary = entry["summary"]
        assert {"score_mean", "sklearn_score_mean", "fit_seconds_median", "time_ratio"} <= set(
            summary
        )
        assert len(entry["runs"]["deltarule"]["score"]) == len(report["seeds"])
