"""deltarule.sklearn against scikit-learn's MLPs: test scores and fit times.

Both libraries get the same data (scikit-learn's bundled sets, standardised on a
fixed stratified split), the same hyper-parameters (hidden sizes, solver adam,
max_iter, alpha, batch size, learning_rate_init) and the same seeds; fits are
interleaved seed by seed so that machine load hits both alike. Prints a table
and writes JSON.

Usage::

    python benchmarks/sklearn_parity.py            # 5 seeds, full settings
    python benchmarks/sklearn_parity.py --quick    # a few epochs, 1 seed (smoke test)
    python benchmarks/sklearn_parity.py --blas-threads 1   # both on single-threaded BLAS

Target: our mean test score >= scikit-learn's - 0.01 on every dataset, and a
lower total fit time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import sklearn
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.preprocessing import StandardScaler

import deltarule
from deltarule.sklearn import MLPClassifier, MLPRegressor

ROOT = Path(__file__).resolve().parent
DEFAULT_OUTPUT = ROOT / "results" / "sklearn_parity.json"

COMMON = {
    "hidden_layer_sizes": (100,),
    "solver": "adam",
    "alpha": 1e-4,
    "batch_size": "auto",
    "learning_rate_init": 1e-3,
    "max_iter": 200,
}
"""scikit-learn's defaults, written out; both libraries get exactly these."""

DATASETS = {
    "digits": ("classification", datasets.load_digits),
    "breast_cancer": ("classification", datasets.load_breast_cancer),
    "wine": ("classification", datasets.load_wine),
    "iris": ("classification", datasets.load_iris),
    # Targets 25..346 are standardised on the training split (and R^2 is scale-free):
    # on raw targets the default learning rate leaves both libraries at R^2 < 0.
    "diabetes": ("regression", datasets.load_diabetes),
}


@contextlib.contextmanager
def blas_threads(limit: int) -> Iterator[None]:
    """Limit the BLAS thread pool of both libraries to ``limit`` threads (0: leave it)."""
    if not limit:
        yield
        return
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    with threadpool_limits(limits=limit, user_api="blas"):
        yield


def blas_info() -> list[dict]:
    """Return the BLAS libraries in use and their thread counts."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:  # pragma: no cover
        return []
    keys = ("internal_api", "version", "num_threads", "architecture")
    return [{k: info.get(k) for k in keys} for info in threadpool_info()]


def load(name: str) -> tuple:
    """Return standardised (X_train, X_test, y_train, y_test) on a fixed split."""
    task, loader = DATASETS[name]
    X, y = loader(return_X_y=True)
    stratify = y if task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=stratify
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if task == "regression":
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    return X_train, X_test, y_train, y_test


def fit_and_score(estimator: object, data: tuple) -> tuple[float, float, int]:
    """Return (test score, fit seconds, epochs) of one fit."""
    X_train, X_test, y_train, y_test = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X_train, y_train)
        seconds = time.perf_counter() - start
    return float(estimator.score(X_test, y_test)), seconds, int(estimator.n_iter_)


def run_dataset(name: str, seeds: list[int], quick: bool) -> dict:
    """Fit both libraries on one dataset for every seed, interleaved."""
    task = DATASETS[name][0]
    params = dict(COMMON)
    if quick:
        params["max_iter"] = 5
    ours_cls, theirs_cls = (
        (MLPClassifier, SkClassifier) if task == "classification" else (MLPRegressor, SkRegressor)
    )
    data = load(name)
    runs: dict[str, dict[str, list]] = {
        lib: {"score": [], "seconds": [], "n_iter": []} for lib in ("deltarule", "sklearn")
    }
    for seed in seeds:
        order = [("deltarule", ours_cls), ("sklearn", theirs_cls)]
        for lib, cls in order if seed % 2 == 0 else order[::-1]:
            score, seconds, n_iter = fit_and_score(cls(random_state=seed, **params), data)
            runs[lib]["score"].append(score)
            runs[lib]["seconds"].append(seconds)
            runs[lib]["n_iter"].append(n_iter)
    return {
        "task": task,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
        "n_train": len(data[0]),
        "n_test": len(data[1]),
        "runs": runs,
    }


def summarise(name: str, result: dict) -> dict:
    """Add means, spreads, medians and the verdict to one dataset's result."""
    ours, theirs = result["runs"]["deltarule"], result["runs"]["sklearn"]

    def spread(values: list[float]) -> float:
        return statistics.stdev(values) if len(values) > 1 else 0.0

    summary = {
        "score_mean": statistics.fmean(ours["score"]),
        "score_sd": spread(ours["score"]),
        "sklearn_score_mean": statistics.fmean(theirs["score"]),
        "sklearn_score_sd": spread(theirs["score"]),
        "fit_seconds_median": statistics.median(ours["seconds"]),
        "sklearn_fit_seconds_median": statistics.median(theirs["seconds"]),
    }
    summary["time_ratio"] = summary["fit_seconds_median"] / summary["sklearn_fit_seconds_median"]
    summary["score_ok"] = summary["score_mean"] >= summary["sklearn_score_mean"] - 0.01
    return {**result, "summary": summary}


def table(results: dict) -> str:
    """Return the results as a fixed-width text table."""
    head = (
        f"{'dataset':<14}{'metric':<9}{'deltarule':>18}{'scikit-learn':>18}"
        f"{'ours s':>9}{'sklearn s':>11}{'ratio':>7}  ok"
    )
    lines = [head, "-" * len(head)]
    for name, result in results.items():
        s = result["summary"]
        metric = "accuracy" if result["task"] == "classification" else "R^2"
        lines.append(
            f"{name:<14}{metric:<9}"
            f"{s['score_mean']:>10.4f} ± {s['score_sd']:<5.3f}"
            f"{s['sklearn_score_mean']:>10.4f} ± {s['sklearn_score_sd']:<5.3f}"
            f"{s['fit_seconds_median']:>9.3f}{s['sklearn_fit_seconds_median']:>11.3f}"
            f"{s['time_ratio']:>7.2f}  {'yes' if s['score_ok'] else 'NO'}"
        )
    ours = sum(sum(r["runs"]["deltarule"]["seconds"]) for r in results.values())
    theirs = sum(sum(r["runs"]["sklearn"]["seconds"]) for r in results.values())
    lines.append("-" * len(head))
    lines.append(
        f"total fit time: deltarule {ours:.2f} s, scikit-learn {theirs:.2f} s "
        f"(ratio {ours / theirs:.2f})"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 epochs, 1 seed (smoke test)")
    parser.add_argument("--seeds", type=int, default=5, help="number of seeds (default 5)")
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=list(DATASETS))
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file to write")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=0,
        help="limit BLAS threads for both libraries (threadpoolctl); 0 leaves the default",
    )
    args = parser.parse_args(argv)
    seeds = list(range(1 if args.quick else args.seeds))
    with blas_threads(args.blas_threads):
        results = {
            name: summarise(name, run_dataset(name, seeds, args.quick)) for name in args.datasets
        }
    print(table(results))
    report = {
        "benchmark": "sklearn_parity",
        "quick": args.quick,
        "seeds": seeds,
        "environment": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "deltarule": deltarule.__version__,
            "blas_threads": args.blas_threads or "default",
            "blas": blas_info(),
        },
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
