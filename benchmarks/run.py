"""deltarule's benchmark: one command, a printed table, a JSON file.

    python benchmarks/run.py [--quick] [--workloads a,b,c,d] [--repeats N] [--json PATH]

It compares deltarule with PyTorch (eager), JAX (jit), scikit-learn and plain
NumPy/Python on the workloads of ``workloads.py``, beside NumPy's time for the steps'
matrix products alone and the machine's float32 GEMM peak, and checks the project's
speed and memory targets.

The figures are measured twice: in the environment as set, and with
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` removed for the measuring processes only
(those variables choose OpenBLAS's kernels). This process never sets them.
See ``benchmarks/README.md`` for what each column means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import plan
import report
import workloads as wl
from measure import machine_threads

BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"
WORKLOADS = ("a", "b", "c", "d")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma list of a,b,c,d")
    parser.add_argument("--repeats", type=int, help="alternating rounds (default 3; quick 1)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument(
        "--env",
        choices=("both", "as-set", "unset"),
        default="both",
        help="which OpenBLAS environment(s) to measure in (default both)",
    )
    parser.add_argument(
        "--data", choices=("auto", "synthetic", "fashion-mnist"), help="(a)/(d) data"
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="cap every library at this many threads (default: all the machine's cores)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurements")
    parser.add_argument("--print", dest="print_json", type=Path, help="print a saved JSON file")
    args = parser.parse_args(argv)
    chosen = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown or not chosen:
        parser.error(
            f"--workloads takes a comma list of {','.join(WORKLOADS)}; got {args.workloads!r}"
        )
    args.workloads = [w for w in WORKLOADS if w in chosen]
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


def _environments(which: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The measuring environments by name, and notes on what was left out and why."""
    as_set = dict(os.environ)
    unset = {k: v for k, v in os.environ.items() if k not in BLAS_VARIABLES}
    notes = []
    envs = {"as set": as_set, "unset": unset}
    if which == "as-set":
        envs.pop("unset")
    elif which == "unset":
        envs.pop("as set")
    elif as_set == unset:
        envs.pop("unset")
        notes.append(
            f"{' and '.join(BLAS_VARIABLES)} are not set in this environment, so measuring "
            "with them unset would repeat 'as set'; it was not run again."
        )
    return envs, notes


_START = time.perf_counter()


def _log(message: str) -> None:
    print(f"[{time.perf_counter() - _START:6.1f} s] {message}", file=sys.stderr, flush=True)


def print_report(results: dict) -> None:
    machine = results["machine"]
    print(
        f"deltarule benchmark ({results['command']}): {machine['threads']} cores, "
        f"{results['threads']} thread(s) per library, {results['repeats']} alternating rounds; "
        f"load average {machine['load_average_start'][0]:.1f} at start"
    )
    print()
    for name, variant in results["variants"].items():
        print(report.variant_report(name, variant))
        print()
    print(report.targets_report(results))
    for note in results["notes"]:
        print("note:", note)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.print_json:
        print_report(json.loads(args.print_json.read_text()))
        return 0
    sizes = wl.QUICK if args.quick else wl.FULL
    if args.data:
        sizes = wl.Sizes(**{**sizes.__dict__, "data": args.data})
    envs, notes = _environments(args.env)
    started = time.time()
    results: dict = {
        "command": " ".join(
            [Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]
        ),
        "quick": args.quick,
        "repeats": args.repeats,
        "workloads": args.workloads,
        "sizes": sizes.__dict__,
        "threads": args.threads or machine_threads(),
        "machine": {
            "threads": machine_threads(),
            "platform": platform.platform(),
            "processor": platform.processor(),
            "python": platform.python_version(),
            "load_average_start": os.getloadavg(),
        },
        "variants": {},
        "notes": notes,
    }
    for index, (name, env) in enumerate(envs.items()):
        _log(f"measuring with OpenBLAS environment {name!r} ...")
        with_memory = index == 0 and not args.no_memory
        variant = plan.run_variant(
            env, sizes, args.workloads, args.repeats, with_memory, _log, args.quick, args.threads
        )
        variant["env"] = {k: env.get(k) for k in BLAS_VARIABLES}
        variant["targets"] = report.targets(variant)
        results["variants"][name] = variant
    if len(envs) > 1 and not args.no_memory:
        notes.append(
            "memory was measured in the first environment only (it does not depend on BLAS kernels)"
        )
    results["machine"]["load_average_end"] = os.getloadavg()
    results["seconds"] = time.time() - started
    print_report(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, default=float))
    _log(f"wrote {args.json} ({results['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
