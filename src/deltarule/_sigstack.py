"""Signal handlers kept off the stacks of threads that run oneDNN's products.

A signal handler runs on the stack of the thread the signal interrupts, just below the
128 bytes under its stack pointer that the x86-64 calling convention keeps free for the
running function (the red zone), unless the thread has an *alternate signal stack*
(``sigaltstack``; Python's handlers are installed with ``SA_ONSTACK``, so they use one when
it is there). Code that keeps data further below its stack pointer, as JIT-compiled code
may, has it overwritten by the handler's frame. With oneDNN's products (its JIT-compiled
``sgemm`` kernels: :mod:`deltarule._onednn`), signals that came while products ran —
Ctrl-C, a SIGTERM, even a SIGUSR1 whose handler does nothing — corrupted the heap a few
products later ("corrupted size vs. prev_size", "free(): invalid next size", a segmentation
fault). A script that trained and predicted in float32 (784-256-256-10) while another
thread sent its main thread a few signals aborted so in 4 of 4 runs with SIGUSR1 and 5 of 6
with SIGINT; with the threads protected here, in 0 of 8 and 1 of 10 (that one possibly
having loaded the unprotected module). ``python -X faulthandler``, which gives the main
thread an alternate stack, hid it too (the interruption QA's 0 of 10), as pytest's
faulthandler hides it from the test suite. MKL's JIT-compiled kernels (:mod:`deltarule._mkl`)
are protected alike (not measured: this AMD machine does not use MKL).

:func:`protected` gives the main thread an alternate signal stack, where it has none, and
blocks the asynchronous signals in any other thread for the block's duration, so that the
kernel delivers a process's signals to the main thread (which Python's handlers run in
anyway). Linux only (oneDNN's wheel is Linux's); elsewhere it does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

__all__ = ["STACK_BYTES", "main_thread_stack", "protected"]

STACK_BYTES = 1 << 16
"""The size of the main thread's alternate signal stack (64 KiB: a signal frame with the
AVX-512 state is ~3.5 KiB, and Python's C handler needs little more)."""

_SS_DISABLE = 2  # (Linux's flag: the thread has no alternate stack)

_SYNCHRONOUS = {
    getattr(signal, name)
    for name in ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT", "SIGTRAP", "SIGSYS")
    if hasattr(signal, name)
}
"""Signals a thread raises itself (a fault): never blocked (blocked, they kill the process
without a word)."""


class _Stack(ctypes.Structure):
    """Linux's ``stack_t``."""

    _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int),
                ("ss_size", ctypes.c_size_t)]  # fmt: skip


_GIVEN: list[ctypes.Array] = []
"""The main thread's alternate stack, once made (kept for the process's life: the kernel
holds its address; a child forked from another thread is given the same memory again)."""
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _sigaltstack() -> Any:
    """libc's ``sigaltstack``, or None where it cannot be found."""
    try:
        function = ctypes.CDLL(None, use_errno=True).sigaltstack
    except (OSError, AttributeError):  # pragma: no cover - not glibc/musl
        return None
    function.restype = ctypes.c_int
    function.argtypes = [ctypes.POINTER(_Stack), ctypes.POINTER(_Stack)]
    return function


def main_thread_stack() -> bool:
    """Give the main thread an alternate signal stack of :data:`STACK_BYTES` where it has
    none (called from the main thread; elsewhere, and off Linux, nothing is done). Returns
    whether the main thread has one now.

    Asked each time (~1 µs): faulthandler, disabled, takes its own away, and a child forked
    from another thread has a main thread without the parent's."""
    if not sys.platform.startswith("linux"):
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    altstack = _sigaltstack()
    if altstack is None:  # pragma: no cover - not glibc/musl
        return False
    now = _Stack()
    if altstack(None, ctypes.byref(now)) != 0:  # pragma: no cover - cannot be asked
        return False
    if not now.ss_flags & _SS_DISABLE:  # (one already: ours, faulthandler's, pytest's, ...)
        return True
    with _LOCK:
        if not _GIVEN:
            _GIVEN.append(ctypes.create_string_buffer(STACK_BYTES))
        given = _Stack(ctypes.cast(_GIVEN[0], ctypes.c_void_p).value, 0, STACK_BYTES)
        return altstack(ctypes.byref(given), None) == 0


_BLOCKED = (
    frozenset(signal.valid_signals()) - _SYNCHRONOUS
    if hasattr(signal, "valid_signals")
    else frozenset()
)
"""The signals another thread blocks within :func:`protected` (found once: ~50 µs)."""


@contextlib.contextmanager
def protected() -> Iterator[None]:
    """Within the block, a signal's handler cannot run on this thread's stack: the main
    thread has an alternate signal stack (:func:`main_thread_stack`), and another thread
    has the asynchronous signals blocked (restored after; they go to the main thread)."""
    if not sys.platform.startswith("linux") or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    if threading.current_thread() is threading.main_thread():
        main_thread_stack()
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _BLOCKED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
