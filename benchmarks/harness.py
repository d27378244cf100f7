"""The measuring harness: worker processes, warm-up, alternation, repeats, medians.

A :class:`Worker` is one implementation's process (see ``worker.py``). A :class:`Cell`
is one number of the table: a task with its arguments on one worker. :func:`measure`
warms every cell up once (JIT compilation, lazy imports, caches), then runs ``repeats``
rounds; each round visits every cell once, in an order rotated from round to round, so
that slow drifts of a shared machine fall on all implementations alike. Before each
run it waits (:func:`wait_for_quiet`) until one library's spinning threads have gone
idle and other processes on the machine leave the CPUs mostly free; each run also
records the share of CPU time others took meanwhile (``others_cpu``).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from measure import cpu_snapshot, others_share

HERE = Path(__file__).resolve().parent
SETTLE_SECONDS = 0.2
QUIET_SHARE = 0.2  # others may use at most this fraction of all CPU time before a run ...
QUIET = {"max_wait": 1.0, "waited": 0.0}  # ... but a run waits at most max_wait seconds for it


@dataclass
class Reply:
    ok: bool
    result: dict = field(default_factory=dict)
    note: str = ""


class Worker:
    """One implementation's process, started with its own environment."""

    def __init__(
        self, label: str, impl: str, env: dict[str, str], threads: int | None = None
    ) -> None:
        self.label, self.impl = label, impl
        self._log = tempfile.TemporaryFile(mode="w+")
        command = [sys.executable, str(HERE / "worker.py"), impl]
        self._process = subprocess.Popen(
            command + ([str(threads)] if threads else []),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            cwd=str(HERE),
            text=True,
        )
        self._hello: Reply | None = None

    def _read(self) -> Reply:
        line = self._process.stdout.readline() if self._process.stdout else ""
        if not line:
            self._log.seek(0)
            tail = self._log.read()[-800:].strip()
            return Reply(
                False, note=f"worker exited ({tail.splitlines()[-1] if tail else 'no output'})"
            )
        message = json.loads(line)
        if message.get("ok"):
            return Reply(True, message["result"])
        if "unavailable" in message:
            return Reply(False, note=message["unavailable"])
        return Reply(False, note="failed: " + message["error"].strip().splitlines()[-1])

    @property
    def hello(self) -> Reply:
        """Whether the implementation loaded here, with its versions and settings."""
        if self._hello is None:
            self._hello = self._read()
        return self._hello

    def call(self, task: str, **args: object) -> Reply:
        if not self.hello.ok:
            return self.hello
        if self._process.poll() is not None:
            return self._read()
        self._process.stdin.write(json.dumps({"task": task, "args": args}) + "\n")
        self._process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self._process.poll() is None and self._process.stdin:
            self._process.stdin.close()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._log.close()


@dataclass
class Cell:
    """One measured number: ``task(**args)`` on ``worker``, repeated.

    ``units`` names the result field counting the work done (samples, updates), so the
    rate is units per second. With ``rate_seconds`` set, the warm-up calibrates
    ``args["n"]`` so that one run lasts about that long; otherwise the warm-up runs
    ``args`` updated with ``warmup`` (e.g. fewer samples).
    """

    key: str
    worker: Worker
    task: str
    args: dict
    units: str | None = "samples"
    rate_seconds: float | None = None
    warmup: dict = field(default_factory=dict)
    label: str = ""
    runs: list[dict] = field(default_factory=list)
    note: str = ""

    @property
    def name(self) -> str:
        return self.label or self.worker.label

    def run(self, args: dict) -> Reply:
        reply = self.worker.call(self.task, **args)
        if not reply.ok:
            self.note = reply.note
        return reply

    def calibrate(self) -> None:
        if not self.run({**self.args, "n": 1}).ok:  # warm-up: first-call costs are not timed
            return
        n = 8
        while True:
            reply = self.run({**self.args, "n": n})
            if not reply.ok:
                return
            seconds = max(reply.result["seconds"], 1e-9)
            if seconds > self.rate_seconds / 10 or n >= 10**8:
                break
            n *= 8
        self.args["n"] = max(1, int(n * self.rate_seconds / seconds))

    def summary(self) -> dict:
        if not self.runs:
            return {"implementation": self.name, "note": self.note or "not run"}
        seconds = [r["seconds"] for r in self.runs]
        skip = ("seconds", "others_cpu", "round", self.units)
        extras = {k: v for k, v in self.runs[-1].items() if k not in skip}
        others = [r["others_cpu"] for r in self.runs if "others_cpu" in r]
        summary = {
            "implementation": self.name,
            "seconds": seconds,
            "rounds": [r.get("round") for r in self.runs],  # (each run's round: pairs them)
            "others_cpu_max": max(others) if others else None,
            "seconds_median": statistics.median(seconds),
            "seconds_min": min(seconds),
            "seconds_max": max(seconds),
            **extras,
            "note": self.note,
        }
        if self.units is not None:
            work = self.runs[0][self.units]
            summary.update(
                unit=f"{self.units}/s",
                work=work,
                rate_median=work / summary["seconds_median"],
                rate_min=work / summary["seconds_max"],
                rate_max=work / summary["seconds_min"],
            )
        return summary


def wait_for_quiet() -> None:
    """Sleep at least SETTLE_SECONDS, longer (up to ``QUIET["max_wait"]``) while others are busy."""
    start = time.perf_counter()
    while True:
        before = cpu_snapshot()
        time.sleep(SETTLE_SECONDS)
        share = others_share(before, cpu_snapshot())
        waited = time.perf_counter() - start
        if share is None or share <= QUIET_SHARE or waited >= QUIET["max_wait"]:
            QUIET["waited"] += waited - SETTLE_SECONDS
            return


def measure(cells: list[Cell], repeats: int, progress=None) -> dict[str, dict]:  # noqa: ANN001
    """Warm up every cell, then run ``repeats`` alternating rounds; return summaries by key."""
    for cell in cells:
        if cell.rate_seconds is not None:
            cell.calibrate()
        else:
            cell.run({**cell.args, **cell.warmup})
    live = [cell for cell in cells if not cell.note]
    for round_ in range(repeats):
        shift = round_ % max(len(live), 1)
        for cell in live[shift:] + live[:shift]:
            wait_for_quiet()
            reply = cell.run(cell.args)
            if reply.ok:
                cell.runs.append({**reply.result, "round": round_})
            if progress:
                progress(cell, round_)
    return {cell.key: cell.summary() for cell in cells}
