"""Shared helpers of the hardening tests: deterministic fuzz settings, hang and memory guards.

Every fuzz test runs a fixed number of examples, derandomized and without the example
database, so CI runs the same inputs every time and the whole folder stays well under a
minute on two cores.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, settings

import deltarule as dr


def fuzz(max_examples: int, deadline_s: float = 5.0) -> settings:
    """Deterministic, bounded hypothesis settings for one fuzz test."""
    return settings(
        max_examples=max_examples,
        deadline=timedelta(seconds=deadline_s),
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


class Hang(Exception):
    """A call ran past its time limit."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Turn a call that runs longer than ``seconds`` into a :class:`Hang` (POSIX main thread)."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield  # pragma: no cover - no interval timers here; hypothesis' deadline still applies
        return

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"the call ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def peak_bytes(
    call: Callable[[], Any], *, collect: bool = False
) -> tuple[int, BaseException | None]:
    """Run ``call``; return the peak of traced Python allocations during it, and its exception.

    ``collect`` runs the garbage collector first (about 20 ms: not for every fuzz example).
    """
    if collect:
        gc.collect()
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    error: BaseException | None = None
    try:
        call()
    except BaseException as exc:  # noqa: BLE001 - returned to the caller to judge
        error = exc
    peak = tracemalloc.get_traced_memory()[1] - base
    if not already:
        tracemalloc.stop()
    return peak, error


def assert_clean_error(error: BaseException, *allowed: type[BaseException]) -> None:
    """Assert ``error`` is one of deltarule's documented errors, with a useful message."""
    allowed = allowed or (dr.DeltaruleError,)
    if not isinstance(error, allowed):
        raise AssertionError(
            f"expected one of {[a.__name__ for a in allowed]}, got {type(error).__name__}: "
            f"{error!r:.500}"
        ) from error
    message = str(error)
    assert len(message) > 20, f"uninformative message: {message!r}"
    assert len(message) < 5000, f"message of {len(message):,} characters"
