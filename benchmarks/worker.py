"""One implementation's measuring process: ``python benchmarks/worker.py IMPLEMENTATION [THREADS]``.

Each implementation runs in its own process so that its imports, thread pools and
memory never touch another's (PyTorch's OpenMP threads, XLA's flags, tracemalloc).
The harness sends one JSON job per line on stdin, ``{"task": name, "args": {...}}``,
and reads one JSON answer per line from the real stdout:

* ``{"ok": true, "result": {...}}`` — the task's numbers;
* ``{"ok": false, "unavailable": "why"}`` — it cannot run here (shown as a note);
* ``{"ok": false, "error": "traceback"}`` — it failed.

The first answer, before any job, says whether the implementation loaded (``describe``).
Anything the libraries print goes to stderr, never into the protocol.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback

import measure
from measure import Unavailable

MODULES = {
    "deltarule": "impl_deltarule",
    "numpy": "impl_numpy",
    "torch": "impl_torch",
    "jax": "impl_jax",
    "sklearn": "impl_sklearn",
}


def _answer(channel, message: dict) -> None:  # noqa: ANN001
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def _load(name: str):  # noqa: ANN202
    try:
        module = importlib.import_module(MODULES[name])
        return module, {"ok": True, "result": module.describe()}
    except Unavailable as exc:
        return None, {"ok": False, "unavailable": str(exc)}
    except Exception:  # noqa: BLE001 - any import failure becomes a note, never a crash
        return None, {"ok": False, "unavailable": traceback.format_exc(limit=1).strip()}


def _run(module, job: dict) -> dict:  # noqa: ANN001
    task = module.TASKS.get(job["task"])
    if task is None:
        return {"ok": False, "unavailable": "not applicable"}
    try:
        measure.LAST.clear()
        result = task(**job.get("args", {}))
        return {"ok": True, "result": {**result, **measure.LAST}}
    except Unavailable as exc:
        return {"ok": False, "unavailable": str(exc)}
    except Exception:  # noqa: BLE001
        return {"ok": False, "error": traceback.format_exc()}


def _limit_threads(n: int) -> None:
    """Cap the BLAS and OpenMP pools already loaded at ``n`` threads, for good."""
    measure.THREADS["n"] = n
    try:
        import threadpoolctl
    except ImportError:  # pragma: no cover - comes with scikit-learn
        return
    threadpoolctl.threadpool_limits(limits=n)  # kept: never restored


def main(name: str, threads: int | None = None) -> None:
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints go to stderr
    if threads:
        measure.THREADS["n"] = threads  # read by the implementation modules on import
    module, hello = _load(name)
    if threads and module is not None:
        _limit_threads(threads)  # after the imports, so their pools exist
        hello = {"ok": True, "result": module.describe()}
    _answer(channel, hello)
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        if module is None:
            _answer(channel, hello)
        else:
            _answer(channel, _run(module, job))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else None)
