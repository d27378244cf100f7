"""What is measured in one environment: the cells of each workload and the numbers derived.

:func:`run_variant` starts one worker per implementation with the given environment,
measures the machine's GEMM peak, runs the chosen workloads (see ``workloads.py``)
through :func:`harness.measure`, and returns plain JSON-able results: per cell the
median, min and max; per workload the ratios of deltarule to each peer and the
fraction of the GEMM peak (for (a) also of the peak measured in each round).
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable

import workloads as wl
from harness import QUIET, Cell, Worker, measure

DELTARULE, NUMPY, TORCH, SKLEARN = "deltarule", "numpy", "pytorch eager", "scikit-learn"
DELTARULE_PLAIN = "deltarule (NumPy step)"
JAX_DEFAULT, JAX_ONE = "jax jit (all threads)", "jax jit (1 thread)"
JAX = (JAX_DEFAULT, JAX_ONE)
GEMM_LABEL = "NumPy GEMM time"  # the step's products alone, through NumPy's BLAS threads
PEAK_SIZE, QUICK_PEAK_SIZE = 2048, 512


def start_workers(env: dict[str, str], threads: int | None) -> dict[str, Worker]:
    """Start every implementation's process at once (their imports overlap).

    Each library gets ``threads`` threads (None: all the machine's); JAX runs a second
    time on one thread.
    """
    specs = [
        (DELTARULE, "deltarule", threads),
        (NUMPY, "numpy", threads),
        (TORCH, "torch", threads),
        (JAX_DEFAULT, "jax", threads),
        (JAX_ONE, "jax", 1),
        (SKLEARN, "sklearn", threads),
    ]
    return {label: Worker(label, impl, env, n) for label, impl, n in specs}


def _best_jax(cells: dict[str, dict]) -> str | None:
    """The faster of the two JAX thread settings (by median), as the table reports it."""
    timed = [k for k in (JAX_DEFAULT, JAX_ONE) if "rate_median" in cells.get(k, {})]
    return max(timed, key=lambda k: cells[k]["rate_median"]) if timed else None


def _ratios(cells: dict[str, dict]) -> dict[str, float]:
    """deltarule's rate over each cell's, measured side by side: the median over the rounds
    of the two rates in the same round (the rounds alternate the libraries, so a round's
    runs are close in time: on a machine whose speed drifts, the ratio of the medians, whose
    medians may come from other rounds, moved a target's ratio ~10%); the ratio of the
    medians where the rounds do not pair (a failed run)."""
    ours = cells.get(DELTARULE, {})
    if not ours.get("rate_median"):
        return {}
    out = {}
    for label, cell in cells.items():
        if not cell.get("rate_median"):
            continue
        pairs = _same_rounds(ours, cell)
        if pairs and "work" in ours and "work" in cell:
            out[label] = statistics.median(
                (ours["work"] / s) / (cell["work"] / t) for s, t in pairs
            )
        else:
            out[label] = ours["rate_median"] / cell["rate_median"]
    return out


def _same_rounds(a: dict, b: dict) -> list[tuple[float, float]]:
    """The two cells' run times paired by round (``rounds``: each run's; results written
    before it was recorded pair by position when neither lost a run); empty when fewer than
    half the rounds pair."""
    sa, sb = a.get("seconds", []), b.get("seconds", [])
    ra, rb = a.get("rounds"), b.get("rounds")
    if ra is None or rb is None or None in ra or None in rb:
        return list(zip(sa, sb)) if sa and len(sa) == len(sb) else []
    by_round = dict(zip(rb, sb))
    pairs = [(s, by_round[r]) for r, s in zip(ra, sa) if r in by_round]
    return pairs if 2 * len(pairs) >= max(len(sa), len(sb)) else []


def warmup_a(label: str, batch: int, n: int) -> dict:
    """The warm-up arguments of an (a) cell: deltarule and PyTorch warm up on a few batches
    (the last, short one included); JAX on the whole epoch, because its jitted epoch is
    compiled for the data set's shape and a smaller warm-up would leave the compilation to
    the first timed round."""
    return {} if label in JAX else {"n_samples": min(n, 2 * batch + n % batch)}


def workload_a(
    workers: dict[str, Worker], sizes: wl.Sizes, repeats: int, peak_size: int = PEAK_SIZE
) -> dict:
    """(a) at each batch size, with the NumPy GEMM time (the step's products alone) and the
    GEMM peak measured in every round beside the epochs (see :func:`_percent_of_round_peak`)."""
    n = sizes.mnist_samples
    impls = (DELTARULE, TORCH, JAX_DEFAULT, JAX_ONE, SKLEARN)
    flops = wl.train_flops_per_sample(wl.MNIST_SIZES)
    out: dict = {"data": sizes.data, "samples": n, "steps": "one epoch"}
    out.update(flops_per_sample=flops, batches={})
    for batch in sizes.mnist_batches:
        args = {"batch_size": batch, "n_samples": n, "data": sizes.data}
        cells = [
            Cell(label, workers[label], "mlp_epoch", dict(args), warmup=warmup_a(label, batch, n))
            for label in impls
        ]
        bound = Cell("gemm", workers[NUMPY], "gemm_step", {"batch_size": batch, "mode": "train"})
        bound.rate_seconds, bound.label = max(sizes.rate_seconds, 0.05), GEMM_LABEL
        peak = Cell("peak", workers[NUMPY], "peak", {"size": peak_size}, units=None)
        results = measure([*cells, bound, peak], repeats)
        gemm = results.pop("gemm")
        results.pop("peak")
        out["batches"][str(batch)] = _derive(results, gemm)
        _percent_of_round_peak(out["batches"][str(batch)], peak.runs, flops)
        out["data"] = results[DELTARULE].get("data", out["data"])
    return out


def _derive(cells: dict[str, dict], gemm: dict) -> dict:
    return {
        "cells": cells,
        "gemm_bound": gemm,
        "jax_best": _best_jax(cells),
        "ratios": _ratios(cells),
    }


def _percent_of_round_peak(res: dict, peaks: list[dict], flops: int) -> None:
    """Add each rate's fraction of the GEMM peak measured in the same round, in %, the
    median over the rounds (``percent_of_round_peak``; ``round_peaks``: each round's
    reading, as :func:`impl_numpy.peak` gives it): a ratio measured side by side, where the
    run's peak (:func:`_percent_of_peak`) is the best reading of the whole run. Cells with a
    missing run are left out."""
    res["round_peaks"] = [{"gflops": p["gflops"], "by_library": p["by_library"]} for p in peaks]
    res["round_peak_gflops"] = [p["gflops"] for p in peaks]
    cells = {**res["cells"], "GEMM bound": res["gemm_bound"]}
    res["percent_of_round_peak"] = {}
    for label, cell in cells.items():
        runs = cell.get("seconds", [])
        if "work" not in cell or not peaks or len(runs) != len(peaks):
            continue
        rounds = [
            100 * cell["work"] / s * flops / (g * 1e9)
            for s, g in zip(runs, res["round_peak_gflops"])
        ]
        res["percent_of_round_peak"][label] = statistics.median(rounds)


def _percent_of_peak(workload: dict, peak_gflops: float) -> None:
    """Add each rate's fraction of the GEMM peak: rate x FLOPs per sample / peak, in %."""
    for res in workload["batches"].values():
        cells = {**res["cells"], "GEMM bound": res["gemm_bound"]}
        rates = {k: c["rate_median"] for k, c in cells.items() if "rate_median" in c}
        flops = workload["flops_per_sample"]
        res["percent_of_peak"] = {
            k: 100 * r * flops / (peak_gflops * 1e9) for k, r in rates.items()
        }


def workload_b(workers: dict[str, Worker], sizes: wl.Sizes, repeats: int) -> dict:
    rows = [
        ("deltarule fit (batch 1, epochs=n)", DELTARULE, "tutorial_online"),
        (
            "deltarule fit, generic kernel (DELTARULE_SHAPED=0)",
            DELTARULE,
            "tutorial_online_generic",
        ),
        ("deltarule estimator (batch_size=1)", DELTARULE, "tutorial_online_estimator"),
        ("numpy per-example", NUMPY, "tutorial_numpy"),
        ("python floats", NUMPY, "tutorial_python"),
        ("pytorch per-example", TORCH, "tutorial_online"),
        ("jax jit lax.fori_loop (all threads)", JAX_DEFAULT, "tutorial_online"),
        ("jax jit lax.fori_loop (1 thread)", JAX_ONE, "tutorial_online"),
    ]
    cells = [
        Cell(
            label,
            workers[impl],
            task,
            {},
            units="updates",
            rate_seconds=sizes.rate_seconds,
            label=label,
        )
        for label, impl, task in rows
    ]
    return {"network": "2-2-2 sigmoid, SGD lr 0.5, batch 1", "cells": measure(cells, repeats)}


def workload_c(workers: dict[str, Worker], sizes: wl.Sizes, repeats: int) -> dict:
    d = wl.breast_cancer()
    out: dict = {"data": f"breast_cancer ({len(d.X)} train / {len(d.X_test)} test, standardised)"}
    runs = (
        ("adam", "adam", sizes.tabular_epochs),
        ("adam_long", "adam", sizes.tabular_long_epochs),
        ("lbfgs", "lbfgs", sizes.lbfgs_iterations),
    )
    for key, optimizer, epochs in runs:
        args = {"optimizer": optimizer, "epochs": epochs, "batch_size": sizes.tabular_batch}
        cells = [
            Cell(label, workers[label], "tabular", dict(args), units=None, warmup={"epochs": 2})
            for label in (DELTARULE, TORCH, *(JAX if optimizer == "adam" else JAX[:1]), SKLEARN)
        ]  # (JAX has no L-BFGS with the same rules: its row says so)
        if key == "adam_long":  # the long run's own warm-up loads the compiled steps
            cells[0].warmup = {}
            plain = Cell(DELTARULE_PLAIN, workers[DELTARULE], "tabular_plain", dict(args),
                         units=None, warmup={"epochs": 2}, label=DELTARULE_PLAIN)  # fmt: skip
            cells.insert(1, plain)
        out[key] = {"epochs": epochs, "cells": measure(cells, repeats)}
    out["adam"]["batch_size"] = sizes.tabular_batch
    return out


def workload_d(workers: dict[str, Worker], sizes: wl.Sizes, repeats: int) -> dict:
    flops = wl.predict_flops_per_sample(wl.MNIST_SIZES)
    out: dict = {"flops_per_sample": flops, "batches": {}}
    for batch in sizes.predict_batches:
        args = {"batch_size": batch, "data": sizes.data}
        cells = [
            Cell(label, workers[label], "predict", dict(args), rate_seconds=sizes.rate_seconds)
            for label in (DELTARULE, TORCH, JAX_DEFAULT, JAX_ONE, SKLEARN)
        ]
        bound = Cell("gemm", workers[NUMPY], "gemm_step", {"batch_size": batch, "mode": "predict"})
        bound.rate_seconds, bound.label = sizes.rate_seconds, GEMM_LABEL
        results = measure([*cells, bound], repeats)
        gemm = results.pop("gemm")
        out["batches"][str(batch)] = _derive(results, gemm)
    return out


def memory(env: dict[str, str], sizes: wl.Sizes, threads: int | None) -> dict:
    """Peak memory of one (a) epoch at batch 128, each implementation in a fresh process.

    Also deltarule's allocation per training step (after its epoch, in the same process).
    """
    args = {"batch_size": 128, "n_samples": sizes.mnist_samples, "data": sizes.data}
    out: dict = {"batch_size": 128, "rss_growth": {}}
    specs = ((DELTARULE, "deltarule"), (TORCH, "torch"), (JAX_DEFAULT, "jax"), (SKLEARN, "sklearn"))
    workers = [Worker(label, impl, env, threads) for label, impl in specs]  # imports overlap
    try:
        for worker in workers:  # then one at a time, so each measures alone
            reply = worker.call("memory_epoch", **args)
            out["rss_growth"][worker.label] = reply.result if reply.ok else {"note": reply.note}
            if worker.label == DELTARULE:
                steps = {"batch_size": 128, "steps": sizes.memory_steps, "data": sizes.data}
                reply = worker.call("step_allocation", **steps)
                out["step_allocation"] = reply.result if reply.ok else {"note": reply.note}
            worker.close()
    finally:
        for worker in workers:
            worker.close()
    out["deltarule"] = out["rss_growth"][DELTARULE]
    return out


def _peak(worker: Worker, size: int) -> dict:
    reply = worker.call("peak", size=size)
    if not reply.ok:
        raise RuntimeError(f"the float32 GEMM peak could not be measured: {reply.note}")
    return reply.result


def _peak_line(peak: dict) -> str:
    libraries = ", ".join(f"{k} {v:.1f}" for k, v in peak.get("by_library", {}).items())
    return f"{peak['gflops']:.1f} GFLOP/s ({libraries})"


def run_variant(
    env: dict[str, str],
    sizes: wl.Sizes,
    workloads: list[str],
    repeats: int,
    with_memory: bool,
    log: Callable[[str], None],
    quick: bool,
    threads: int | None = None,
) -> dict:
    """Measure everything asked for in one environment; returns the variant's results."""
    QUIET.update(waited=0.0, max_wait=0.0 if quick else 1.0)  # quick runs only check the code
    workers = start_workers(env, threads)
    try:
        implementations = {
            label: (w.hello.result if w.hello.ok else {"note": w.hello.note})
            for label, w in workers.items()
        }
        size = QUICK_PEAK_SIZE if quick else PEAK_SIZE
        peaks = [_peak(workers[NUMPY], size)]
        log(f"  float32 GEMM peak: {_peak_line(peaks[0])}")
        out: dict = {"implementations": implementations, "workloads": {}}
        steps = {
            "a": functools.partial(workload_a, peak_size=size),
            "b": workload_b,
            "c": workload_c,
            "d": workload_d,
        }
        for name in workloads:
            log(f"  workload ({name}) ...")
            out["workloads"][name] = steps[name](workers, sizes, repeats)
        peaks.append(_peak(workers[NUMPY], size))  # the best reading of the run counts
        log(f"  float32 GEMM peak again: {_peak_line(peaks[1])}")
    finally:
        for worker in workers.values():
            worker.close()
    rounds = [  # (a)'s readings in its rounds count too: the best of all is the peak
        p
        for res in out["workloads"].get("a", {}).get("batches", {}).values()
        for p in res.get("round_peaks", [])
    ]
    out.update(
        peak_gflops=max(p["gflops"] for p in peaks + rounds),
        peak_gflops_measured=[p["gflops"] for p in peaks],
        peak_gflops_rounds=[p["gflops"] for p in rounds],
        peak_by_library=[p.get("by_library", {}) for p in peaks + rounds],
        peak_matmul_size=size,
    )
    for name in ("a", "d"):
        if name in out["workloads"]:
            _percent_of_peak(out["workloads"][name], out["peak_gflops"])
    if with_memory:
        log("  memory ...")
        out["memory"] = memory(env, sizes, threads)
    out["waited_for_quiet_seconds"] = QUIET["waited"]
    return out
