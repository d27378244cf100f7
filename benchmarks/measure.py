"""Measuring tools shared by the implementations: clocks, contention, resident memory, skips.

Each implementation module (``impl_*.py``) times only the work itself with
:func:`timed`; setup (building the model, copying the starting weights, JIT
compilation) happens before the clock starts. :func:`timed` also notes how much of
the machine's CPU time *other* processes used meanwhile (:data:`LAST`), because on a
shared machine that, not the code, is the usual cause of a slow run.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "Unavailable",
    "timed",
    "rss",
    "machine_threads",
    "threads",
    "cpu_snapshot",
    "others_share",
    "LAST",
]

LAST: dict[str, float] = {}
"""What :func:`timed` saw during its last call: ``others_cpu`` (fraction of all CPU time)."""


class Unavailable(Exception):
    """Raised when an implementation cannot run here (a peer is not installed, a hook is empty).

    The harness shows the message in the table instead of a number.
    """


def timed(work: Callable[[], object]) -> tuple[float, object]:
    """Return (seconds, result) of one call of ``work``; notes contention in :data:`LAST`."""
    before = cpu_snapshot()
    start = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - start
    share = others_share(before, cpu_snapshot())
    LAST.clear()
    if share is not None:
        LAST["others_cpu"] = share
    return seconds, result


def cpu_snapshot() -> tuple[int, int, int] | None:
    """(busy, total) jiffies of the whole machine and this process's own, from /proc."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        own = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = fields
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait, int(own[11]) + int(own[12])  # utime + stime


def others_share(before: tuple | None, after: tuple | None) -> float | None:
    """Fraction of the machine's CPU time used by other processes between two snapshots."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    others = (after[0] - before[0]) - (after[2] - before[2])
    return max(others, 0) / (after[1] - before[1])


THREADS: dict[str, int | None] = {"n": None}
"""The thread count chosen with ``run.py --threads`` (None: all of the machine's)."""


def machine_threads() -> int:
    """The cores this process may run on (the 'machine's threads')."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def threads() -> int:
    """How many threads each implementation may use: ``--threads``, else the machine's."""
    return THREADS["n"] or machine_threads()


class rss:  # noqa: N801 - a namespace of three functions
    """Resident-set size of this process (Linux /proc; getrusage elsewhere)."""

    _STATUS = Path("/proc/self/status")
    _CLEAR_REFS = Path("/proc/self/clear_refs")

    @classmethod
    def _status_kib(cls, key: str) -> int | None:
        try:
            for line in cls._STATUS.read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    @classmethod
    def current(cls) -> int:
        """Bytes resident now."""
        kib = cls._status_kib("VmRSS")
        return 1024 * kib if kib is not None else cls.peak()

    @classmethod
    def reset_peak(cls) -> bool:
        """Reset the high-water mark to the current RSS (Linux >= 4.0); False if impossible."""
        try:
            cls._CLEAR_REFS.write_text("5")
            return True
        except OSError:
            return False

    @classmethod
    def peak(cls) -> int:
        """Bytes of the resident high-water mark (since the last reset)."""
        kib = cls._status_kib("VmHWM")
        if kib is not None:
            return 1024 * kib
        usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return usage if sys.platform == "darwin" else 1024 * usage

    @classmethod
    def growth(cls, work: Callable[[], object]) -> dict[str, int | bool]:
        """Run ``work`` and return how far the resident set rose above its level before it."""
        exact = cls.reset_peak()
        before = cls.current()
        work()
        return {"rss_before": before, "rss_growth": max(cls.peak() - before, 0), "exact": exact}
