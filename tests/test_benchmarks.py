"""The benchmark must not rot: run ``benchmarks/run.py --quick`` and check its table and JSON.

No timing is asserted (the numbers of a tiny run on a shared machine mean nothing); only
that every workload runs, prints and writes positive numbers, and that a missing peer
library becomes a note in the table instead of a crash.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN = ROOT / "benchmarks" / "run.py"
TIMEOUT = 900


def _run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[str, dict]:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--json", str(out), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc.stdout, json.loads(out.read_text())


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    return _run(tmp_path_factory.mktemp("bench"), "--env", "as-set")


def _positive(x: object) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def _timed_or_noted(cell: dict, key: str = "rate_median") -> bool:
    """A cell has a positive number, or (its implementation missing here) a note saying why."""
    if key in cell:
        return _positive(cell[key]) and all(_positive(s) for s in cell["seconds"])
    return bool(cell.get("note"))


def test_the_table_prints_every_section(quick: tuple[str, dict]) -> None:
    stdout, _ = quick
    for heading in ("=== as set", "(a) 784-256-128-10", "(b) tutorial", "(c) breast_cancer"):
        assert heading in stdout
    for heading in ("(d) predict", "memory:", "targets", "NumPy GEMM time"):
        assert heading in stdout
    assert "% of the GEMM peak measured in the same round" in stdout


def test_the_json_has_the_expected_keys_and_positive_numbers(quick: tuple[str, dict]) -> None:
    _, results = quick
    assert {"command", "machine", "sizes", "variants", "notes"} <= set(results)
    variant = results["variants"]["as set"]
    assert _positive(variant["peak_gflops"])
    from deltarule import _mkl, _onednn

    used = "mkl" if _mkl.available() else "onednn" if _onednn.available() else None
    libraries = {"numpy"} | ({used} if used else set())
    for measured in variant["peak_by_library"]:  # before and after the workloads
        assert set(measured) == libraries and all(_positive(v) for v in measured.values())
    best = max(v for measured in variant["peak_by_library"] for v in measured.values())
    assert math.isclose(variant["peak_gflops"], best)
    readings = variant["peak_gflops_measured"] + variant["peak_gflops_rounds"]
    assert math.isclose(variant["peak_gflops"], max(readings))  # rounds' readings count too
    assert len(variant["peak_by_library"]) == len(readings)
    assert set(variant["env"]) == {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}
    assert "deltarule" in variant["implementations"]
    # deltarule's worker reports what computes its products, in the variant's environment
    described = variant["implementations"]["deltarule"]
    report = described["report"]
    assert set(report["products"]) == {"numpy_blas", "mkl", "onednn"}
    for name, value in variant["env"].items():
        assert report["environment"].get(name) == value
    assert ("oneDNN" in described["products"]) == (report["products"]["onednn"]["status"] == "used")
    assert f"deltarule's products: {described['products']}" in quick[0]
    workloads = variant["workloads"]
    assert set(workloads) == {"a", "b", "c", "d"}

    for name in ("a", "d"):
        for res in workloads[name]["batches"].values():
            assert _positive(res["cells"]["deltarule"]["rate_median"])
            assert _positive(res["gemm_bound"]["rate_median"])
            assert all(_timed_or_noted(cell) for cell in res["cells"].values())
            assert _positive(res["percent_of_peak"]["deltarule"])
    assert "128" in workloads["a"]["batches"]
    for res in workloads["a"]["batches"].values():  # the peak measured in every round too
        peaks = res["round_peak_gflops"]
        assert len(peaks) == results["repeats"] and all(_positive(g) for g in peaks)
        assert _positive(res["percent_of_round_peak"]["deltarule"])
        assert _positive(res["percent_of_round_peak"]["GEMM bound"])

    b = workloads["b"]["cells"]
    for label in ("deltarule fit (batch 1, epochs=n)", "numpy per-example", "python floats"):
        assert _positive(b[label]["rate_median"])
    assert all(_timed_or_noted(cell) for cell in b.values())
    for label in ("jax jit lax.fori_loop (all threads)", "jax jit lax.fori_loop (1 thread)"):
        assert _timed_or_noted(b[label])

    for optimizer in ("adam", "lbfgs"):
        cells = workloads["c"][optimizer]["cells"]
        assert _positive(cells["deltarule"]["seconds_median"])
        assert 0 <= cells["deltarule"]["accuracy"] <= 1
        assert all(_timed_or_noted(cell, "seconds_median") for cell in cells.values())
    for key in ("adam", "adam_long"):  # JAX runs Adam (both thread settings) ...
        for label in ("jax jit (all threads)", "jax jit (1 thread)"):
            cell = workloads["c"][key]["cells"][label]
            assert _timed_or_noted(cell, "seconds_median")
            assert "accuracy" not in cell or 0 <= cell["accuracy"] <= 1
    note = workloads["c"]["lbfgs"]["cells"]["jax jit (all threads)"]["note"]  # ... not L-BFGS
    assert "L-BFGS" in note or "JAX is not installed" in note  # (make test installs no JAX)

    memory = variant["memory"]
    assert _positive(memory["deltarule"]["traced_peak"])
    assert memory["deltarule"]["rss_growth"] >= 0
    assert _positive(memory["deltarule"]["bound"]["bound"])
    assert memory["step_allocation"]["transient_median"] >= 0

    assert variant["targets"]
    for target in variant["targets"]:
        assert {"target", "goal", "text", "pass"} <= set(target)
        assert target["pass"] in (True, False, None)


def test_a_missing_peer_is_a_note_not_a_crash(tmp_path: Path) -> None:
    # A package named jax that fails to import shadows the real one, if any.
    fake = tmp_path / "fake" / "jax"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('simulated: JAX not installed')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(fake.parent), str(ROOT / "src")])}
    stdout, results = _run(tmp_path, "--workloads", "d", "--no-memory", "--env", "unset", env=env)
    variant = results["variants"]["unset"]
    assert all(value is None for value in variant["env"].values())
    assert "JAX is not installed" in variant["implementations"]["jax jit (all threads)"]["note"]
    assert "skipped:" in stdout and "(d) predict" in stdout
    for res in variant["workloads"]["d"]["batches"].values():
        assert res["cells"]["jax jit (1 thread)"]["note"]
        assert _positive(res["cells"]["deltarule"]["rate_median"])


def test_the_fraction_of_each_rounds_peak_pairs_the_rounds() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import plan
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    flops = 1_000
    peaks = [{"gflops": g, "by_library": {"numpy": g}} for g in (2.0, 1.0, 4.0)]
    res = {
        "cells": {
            "deltarule": {"work": 1_000_000, "seconds": [1.0, 1.0, 0.5]},  # 1e6, 1e6, 2e6 /s
            "noted": {"note": "not installed"},
            "short": {"work": 10, "seconds": [1.0]},  # a missing run: not paired
        },
        "gemm_bound": {"work": 500_000, "seconds": [1.0, 1.0, 1.0]},
    }
    plan._percent_of_round_peak(res, peaks, flops)
    assert res["round_peak_gflops"] == [2.0, 1.0, 4.0]
    # rounds: 1e9 / 2e9, 1e9 / 1e9, 2e9 / 4e9 of the peak: 50%, 100%, 50%
    assert res["percent_of_round_peak"]["deltarule"] == pytest.approx(50.0)
    assert res["percent_of_round_peak"]["GEMM bound"] == pytest.approx(25.0)  # 25, 50, 12.5
    assert set(res["percent_of_round_peak"]) == {"deltarule", "GEMM bound"}


def test_the_ratios_pair_the_rounds() -> None:
    # (ratios of medians from different rounds moved a target's ratio ~10% on a drifting
    # machine; the issue asks for ratios measured side by side)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import plan
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    cells = {  # rates: ours 4, 2, 1 (a slowing machine); theirs 2, 1, 1.25
        "deltarule": {"work": 4, "seconds": [1.0, 2.0, 4.0], "rate_median": 2.0},
        "peer": {"work": 5, "seconds": [2.5, 5.0, 4.0], "rate_median": 1.25},
        "unpaired": {"work": 2, "seconds": [1.0], "rate_median": 2.0},  # (a failed run)
    }
    ratios = plan._ratios(cells)
    assert ratios["peer"] == pytest.approx(2.0)  # rounds 2, 2, 0.8: not 2.0 / 1.25 = 1.6
    assert ratios["unpaired"] == pytest.approx(1.0)  # the medians' ratio
    assert ratios["deltarule"] == pytest.approx(1.0)
    # runs lost in different rounds: the lists are as long, the rounds tell them apart
    ours = {"work": 4, "seconds": [1.0, 4.0], "rounds": [0, 2], "rate_median": 1.6}
    theirs = {"work": 4, "seconds": [2.0, 8.0], "rounds": [1, 2], "rate_median": 0.8}
    assert plan._ratios({"deltarule": ours, "peer": theirs})["peer"] == pytest.approx(2.0)
    theirs["seconds"] = [4.0, 8.0]  # round 2 alone pairs: 2.0, not the positions' 1.0 / 2.0
    assert plan._ratios({"deltarule": ours, "peer": theirs})["peer"] == pytest.approx(2.0)


def test_the_peak_memory_target_reads_the_resident_set_too() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import report
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    ours = {"data_bytes": 100, "network_bytes": 5, "traced_peak": 10, "rss_growth": 40}
    assert report._peak_total(ours) == 140  # the resident set's growth is the larger
    assert report._peak_total({**ours, "rss_growth": 3}) == 115
