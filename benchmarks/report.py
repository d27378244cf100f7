"""The printed report: aligned plain-text tables per environment, and the targets.

Works on the results dictionary only (what ``plan.run_variant`` returns), so a saved
JSON file can be printed again: ``python benchmarks/run.py --print PATH``.
"""

from __future__ import annotations

from plan import DELTARULE, GEMM_LABEL, JAX, JAX_DEFAULT, JAX_ONE, SKLEARN, TORCH

STEP_ALLOCATION_GOAL = 4096  # bytes per step that still count as "about zero"
GEMM_NOTE = (
    f"{GEMM_LABEL}: the step's matrix products alone, same shapes, through NumPy's BLAS thread"
    " pool, as a rate; not a bound (deltarule's own threads can beat it)"
)
MB = 1e6


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns aligned; text left, numbers (anything starting with a digit) right."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)]

    def line(cells: list[str]) -> str:
        out = []
        for cell, width in zip(cells, widths):
            cell = str(cell)
            numeric = cell[:1].isdigit() or cell[:2] in ("-", "≥ ") and cell[2:3].isdigit()
            out.append(cell.rjust(width) if numeric else cell.ljust(width))
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def _rate(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.2f}"


def _rate_cells(cell: dict) -> list[str]:
    """Median and min–max of a cell, or dashes (its note goes to the last column)."""
    if "rate_median" not in cell:
        return ["—", "—"]
    return [_rate(cell["rate_median"]), f"{_rate(cell['rate_min'])}–{_rate(cell['rate_max'])}"]


def _busy(cell: dict) -> str:
    """The largest share of CPU time other processes took during one of the cell's runs."""
    share = cell.get("others_cpu_max")
    return "—" if share is None else f"{100 * share:.0f}"


def _note(cell: dict) -> str:
    return (
        cell.get("note", "") if "rate_median" not in cell and "seconds_median" not in cell else ""
    )


def _throughput(title: str, batches: dict, unit: str) -> str:
    rows = []
    footnotes = set()
    for batch, res in batches.items():
        cells, best = res["cells"], res["jax_best"]
        shown = [DELTARULE, TORCH, best or JAX_DEFAULT, SKLEARN]
        for label in shown:
            cell = cells.get(label, {"note": "not run"})
            name = label + (" *" if label == best else "")
            ratio = res["ratios"].get(label)
            pct = res["percent_of_peak"].get(label)
            rows.append(
                [
                    batch,
                    name,
                    *_rate_cells(cell),
                    f"{ratio:.2f}" if ratio else "—",
                    f"{pct:.1f}" if pct else "—",
                    _busy(cell),
                    _note(cell),
                ]
            )
        gemm = res["gemm_bound"]
        pct = res["percent_of_peak"].get("GEMM bound")
        rows.append(
            [
                batch,
                GEMM_LABEL,
                *_rate_cells(gemm),
                "",
                f"{pct:.1f}" if pct else "—",
                _busy(gemm),
                _note(gemm),
            ]
        )
        if best:
            other = JAX_ONE if best == JAX_DEFAULT else JAX_DEFAULT
            footnotes.add(
                f"* the faster JAX thread setting; {other} at batch {batch}: "
                f"{_rate(cells.get(other, {}).get('rate_median'))} {unit}"
            )
    headers = [
        "batch",
        "implementation",
        f"{unit} (median)",
        "min–max",
        "deltarule ×",
        "% GEMM peak",
        "others %",
        "note",
    ]
    return "\n".join([title, table(headers, rows), *sorted(footnotes), GEMM_NOTE])


def _round_peak_lines(batches: dict) -> str:
    """The (a) fractions of the GEMM peak measured in each round beside the epochs."""
    lines = []
    for batch, res in batches.items():
        pct, peaks = res.get("percent_of_round_peak", {}), res.get("round_peak_gflops", [])
        if DELTARULE not in pct or not peaks:
            continue
        bound = pct.get("GEMM bound")
        lines.append(
            f"  batch {batch}: deltarule {pct[DELTARULE]:.1f}%"
            + (f", {GEMM_LABEL} {bound:.1f}%" if bound is not None else "")
            + f" of its round's peak ({min(peaks):.0f}–{max(peaks):.0f} GFLOP/s)"
        )
    if not lines:
        return ""
    head = "% of the GEMM peak measured in the same round (median of rounds; side by side):"
    return "\n".join([head, *lines])


def _workload_b(res: dict) -> str:
    cells = res["cells"]
    ours = cells.get("deltarule fit (batch 1, epochs=n)", {}).get("rate_median")
    rows = []
    for label, cell in cells.items():
        ratio = ours / cell["rate_median"] if ours and cell.get("rate_median") else None
        ratio_text = f"{ratio:.3f}" if ratio else "—"
        rows.append([label, *_rate_cells(cell), ratio_text, _busy(cell), _note(cell)])
    title = f"(b) tutorial {res['network']} — updates/s"
    headers = ["implementation", "updates/s (median)", "min–max", "deltarule ×", "others %", "note"]
    return title + "\n" + table(headers, rows)


def _workload_c(res: dict) -> str:
    rows = []
    for key in ("adam", "adam_long", "lbfgs"):
        if key not in res:  # results written before the long run was added
            continue
        optimizer = "lbfgs" if key == "lbfgs" else f"adam ×{res[key]['epochs']}"
        if key == "adam_long" and res.get("adam", {}).get("epochs") == res[key]["epochs"]:
            optimizer += " (long)"  # (--quick: both runs of the same few epochs)
        cells = res[key]["cells"]
        ours = cells.get(DELTARULE, {}).get("seconds_median")
        for label, cell in cells.items():
            if "seconds_median" not in cell:
                rows.append([optimizer, label, "—", "—", "—", "—", "—", _note(cell)])
                continue
            speed = cell["seconds_median"] / ours if ours else None
            rows.append(
                [
                    optimizer,
                    label,
                    f"{cell['seconds_median']:.3f}",
                    f"{cell['seconds_min']:.3f}–{cell['seconds_max']:.3f}",
                    f"{cell['accuracy']:.3f}",
                    f"{speed:.2f}" if speed else "—",
                    _busy(cell),
                    "",
                ]
            )
    title = (
        f"(c) {res['data']}, 30-64-32-1 ReLU/sigmoid; Adam lr 1e-3 batch "
        f"{res['adam']['batch_size']} x {res['adam']['epochs']} epochs"
        + (f" (and x {res['adam_long']['epochs']})" if "adam_long" in res else "")
        + f"; L-BFGS, up to {res['lbfgs']['epochs']} iterations (each library stops earlier by"
        " its own rules; scikit-learn's L-BFGS computes in float64)"
    )
    headers = [
        "optimizer",
        "implementation",
        "fit s (median)",
        "min–max",
        "test acc",
        "deltarule ×",
        "others %",
        "note",
    ]
    return title + "\n" + table(headers, rows)


def _peak_total(ours: dict) -> int:
    """The peak-memory target's figure: the larger of data + network + tracemalloc's peak of
    a second fit (Python-side allocations only) and data + the first fit's resident-set
    growth (everything: numba's, OpenBLAS's and oneDNN's buffers, imports and kernels)."""
    traced = ours["data_bytes"] + ours["network_bytes"] + ours["traced_peak"]
    return max(traced, ours["data_bytes"] + ours.get("rss_growth", 0))


def _memory(res: dict) -> str:
    lines = [f"memory: (a) at batch {res['batch_size']}, one epoch, each in a fresh process"]
    ours = res.get("deltarule", {})
    if "traced_peak" in ours:
        b = ours["bound"]
        total = _peak_total(ours)
        lines.append(
            f"  deltarule tracemalloc peak during a second fit (Python-side): "
            f"{ours['traced_peak'] / MB:,.1f} MB on top of data {ours['data_bytes'] / MB:,.1f} "
            f"MB; resident-set growth of the first: {ours.get('rss_growth', 0) / MB:,.1f} MB"
        )
        lines.append(
            f"  the larger of data + network + tracemalloc peak and data + growth = "
            f"{total / MB:,.1f} MB; bound 1.5 x (data "
            f"{b['data'] / MB:.1f} + parameters {b['parameters'] / MB:.2f} + Adam state "
            f"{b['optimizer_state'] / MB:.2f} + activations {b['activations'] / MB:.2f} MB)"
            f" = {b['bound'] / MB:,.1f} MB"
        )
    else:
        lines.append(f"  deltarule: {ours.get('note', 'not measured')}")
    growth = []
    for label, r in res["rss_growth"].items():
        value = f"{r['rss_growth'] / MB:,.1f} MB" if "rss_growth" in r else r.get("note", "—")
        growth.append(f"{label} {value}")
    lines.append("  resident-set growth during fit (above data and imports): " + "; ".join(growth))
    step = res.get("step_allocation", {})
    if "transient_median" in step:
        lines.append(
            f"  allocation per training step after warm-up ({step['step']}): "
            f"{step['transient_median'] / 1024:,.1f} KiB transient (median; max "
            f"{step['transient_max'] / 1024:,.1f} KiB), {step['retained_mean']:,.0f} B "
            f"retained; one batch of activations is "
            f"{step['batch_activation_bytes'] / 1024:,.0f} KiB"
        )
    return "\n".join(lines)


def variant_report(name: str, variant: dict) -> str:
    env = ", ".join(f"{k}={v if v is not None else '(unset)'}" for k, v in variant["env"].items())
    blas = variant["implementations"].get("numpy", {}).get("blas", [])
    kernel = ", ".join(
        f"{b['internal_api']} {b['version']} kernel {b['architecture']}, {b['num_threads']} threads"
        for b in blas
    )
    libraries: dict = {}
    for measured in variant.get("peak_by_library", []):
        for library, gflops in measured.items():
            libraries[library] = max(gflops, libraries.get(library, 0.0))
    best = ", ".join(f"{k} {v:.1f}" for k, v in libraries.items())
    head = (
        f"=== {name}: {env}\n    {kernel}; float32 GEMM peak {variant['peak_gflops']:.1f} GFLOP/s"
        f"{f' (best of {best})' if len(libraries) > 1 else ''};"
        f" waited {variant.get('waited_for_quiet_seconds', 0):.0f} s for other processes"
    )
    parts = [head]
    products = variant["implementations"].get("deltarule", {}).get("products")
    if products:
        parts.append(f"    deltarule's products: {products}")
    missing = [f"{k}: {v['note']}" for k, v in variant["implementations"].items() if "note" in v]
    if missing:
        parts.append("    skipped: " + "; ".join(missing))
    w = variant["workloads"]
    if "a" in w:
        a = w["a"]
        title = (
            f"(a) 784-256-128-10 ReLU/softmax, Adam lr 1e-3, {a['steps']} of {a['samples']:,} "
            f"samples; data: {a['data']}"
        )
        parts.append(_throughput(title, a["batches"], "samples/s"))
        side = _round_peak_lines(a["batches"])
        if side:
            parts[-1] += "\n" + side
    if "b" in w:
        parts.append(_workload_b(w["b"]))
    if "c" in w:
        parts.append(_workload_c(w["c"]))
    if "d" in w:
        parts.append(
            _throughput("(d) predict, 784-256-128-10 network", w["d"]["batches"], "samples/s")
        )
    if "memory" in variant:
        parts.append(_memory(variant["memory"]))
    return "\n\n".join(parts)


# ------------------------------------------------------------------------------ targets
def _check(value: float | None, goal: float, text: str) -> dict:
    if value is None:
        return {"value": None, "text": "n/a", "pass": None}
    return {"value": value, "text": text, "pass": value >= goal}


def _a128(variant: dict) -> dict | None:
    return variant["workloads"].get("a", {}).get("batches", {}).get("128")


def _tabular_target(variant: dict, optimizer: str) -> dict:
    cells = variant["workloads"].get("c", {}).get(optimizer, {}).get("cells", {})
    ours = cells.get(DELTARULE, {})
    peers = [cells[k] for k in (TORCH, SKLEARN) if "seconds_median" in cells.get(k, {})]
    if "seconds_median" not in ours or not peers:
        return {"value": None, "text": "n/a", "pass": None}
    faster = all(ours["seconds_median"] < p["seconds_median"] for p in peers)
    accurate = all(ours["accuracy"] >= p["accuracy"] for p in peers)
    text = f"{ours['seconds_median']:.2f}s/acc {ours['accuracy']:.3f} vs " + ", ".join(
        f"{p['seconds_median']:.2f}s/{p['accuracy']:.3f}" for p in peers
    )
    return {"value": ours["seconds_median"], "text": text, "pass": faster and accurate}


def _tabular_jax(variant: dict, optimizer: str) -> dict | None:
    """(c) beside JAX (the faster thread setting): information, not one of the targets."""
    cells = variant["workloads"].get("c", {}).get(optimizer, {}).get("cells", {})
    ours = cells.get(DELTARULE, {})
    timed = [k for k in JAX if "seconds_median" in cells.get(k, {})]
    if "seconds_median" not in ours or not timed:
        return None
    best = cells[min(timed, key=lambda k: cells[k]["seconds_median"])]
    ratio = best["seconds_median"] / ours["seconds_median"]
    return {
        "target": f"  (information) {optimizer}: JAX jit (faster) time / deltarule's",
        "goal": "(no target)",
        "value": ratio,
        "text": f"{ratio:.2f}× ({best['seconds_median']:.2f}s/acc {best['accuracy']:.3f})",
        "pass": None,
    }


def targets(variant: dict) -> list[dict]:
    """The issue's targets, each with its measured value and pass/fail (None: not measured)."""
    a = _a128(variant)
    ratios = a["ratios"] if a else {}
    best = a["jax_best"] if a else None
    pct = a["percent_of_peak"].get(DELTARULE) if a else None
    b = variant["workloads"].get("b", {}).get("cells", {})
    updates = b.get("deltarule fit (batch 1, epochs=n)", {}).get("rate_median")
    rows = [
        ("(a) batch 128: deltarule / PyTorch eager", "≥ 1.5×", ratios.get(TORCH), 1.5, "{:.2f}×"),
        ("(a) batch 128: deltarule / JAX jit (faster)", "≥ 1.0×", ratios.get(best), 1.0, "{:.2f}×"),
        ("(a) batch 128: deltarule / scikit-learn", "≥ 2.5×", ratios.get(SKLEARN), 2.5, "{:.2f}×"),
        ("(a) batch 128: % of float32 GEMM peak", "≥ 50%", pct, 50.0, "{:.1f}%"),
        ("(b) deltarule fit, updates/s", "≥ 2,000,000", updates, 2e6, "{:,.0f}"),
    ]
    out = [
        {"target": name, "goal": goal, **_check(v, g, fmt.format(v) if v else "")}
        for name, goal, v, g, fmt in rows
    ]
    side = a.get("percent_of_round_peak", {}).get(DELTARULE) if a else None
    if side is not None:  # information beside the target above, not a verdict of its own
        out.insert(
            4,
            {
                "target": "  (information) % of each round's own peak",
                "goal": "(median of rounds)",
                "value": side,
                "text": f"{side:.1f}%",
                "pass": None,
            },
        )
    for optimizer in ("adam", "lbfgs"):
        out.append(
            {
                "target": f"(c) {optimizer}: faster than PyTorch and scikit-learn",
                "goal": "and ≥ their accuracy",
                **_tabular_target(variant, optimizer),
            }
        )
        jax = _tabular_jax(variant, optimizer)
        if jax is not None:  # information beside the target, not a verdict of its own
            out.append(jax)
    mem = variant.get("memory", {})
    step = mem.get("step_allocation", {})
    transient = step.get("transient_median")
    out.append(
        {
            "target": "allocation per step, (a) batch 128",
            "goal": "≈ 0 (≤ 4 KiB)",
            "value": transient,
            "text": "n/a" if transient is None else f"{transient / 1024:,.1f} KiB",
            "pass": None if transient is None else transient <= STEP_ALLOCATION_GOAL,
        }
    )
    ours = mem.get("deltarule", {})
    if "traced_peak" in ours:
        total = _peak_total(ours)
        bound = ours["bound"]["bound"]
        text, ok = f"{total / MB:,.0f} MB vs {bound / MB:,.0f} MB", total <= bound
    else:
        total, text, ok = None, "n/a", None
    out.append(
        {
            "target": "peak memory, (a) batch 128",
            "goal": "≤ 1.5 × bound terms",
            "value": total,
            "text": text,
            "pass": ok,
        }
    )
    return out


def targets_report(results: dict) -> str:
    names = list(results["variants"])
    rows_by_target: dict[str, list[str]] = {}
    for name in names:
        for t in results["variants"][name].get("targets", []):
            row = rows_by_target.setdefault(t["target"], [t["target"], t["goal"]])
            verdict = {True: "PASS", False: "FAIL", None: "—"}[t["pass"]]
            row.append(f"{t['text']}  {verdict}")
    headers = ["target", "goal", *names]
    return "targets\n" + table(headers, list(rows_by_target.values()))
