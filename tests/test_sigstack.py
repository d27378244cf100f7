"""Signal handlers kept off the stacks of threads that run oneDNN's products."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from deltarule import _sigstack

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="sigaltstack is set on Linux only"
)

QUERY = textwrap.dedent(
    """
    import ctypes, threading
    from deltarule import _sigstack

    def has_stack():
        libc = ctypes.CDLL(None)
        now = _sigstack._Stack()
        assert libc.sigaltstack(None, ctypes.byref(now)) == 0
        return not now.ss_flags & 2, now.ss_size

    before = has_stack()
    given = _sigstack.main_thread_stack()
    after = has_stack()
    again = _sigstack.main_thread_stack()
    print(before[0], given, after[0], after[1], again, len(_sigstack._GIVEN))
    """
)


def test_the_main_thread_gets_an_alternate_signal_stack_where_it_has_none() -> None:
    # (a fresh interpreter without faulthandler, which gives the main thread one: as
    # pytest does here)
    out = subprocess.run([sys.executable, "-c", QUERY], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert out == ["False", "True", "True", str(_sigstack.STACK_BYTES), "True", "1"]


def test_an_alternate_stack_already_there_is_kept() -> None:
    out = subprocess.run([sys.executable, "-X", "faulthandler", "-c", QUERY],
                         capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    assert out[0] == "True" and out[1:3] == ["True", "True"]
    assert out[3] != str(_sigstack.STACK_BYTES) and out[5] == "0"  # (faulthandler's own)


def masks_in_another_thread(block) -> dict[str, set]:
    """The signals blocked in a new thread before, inside and after ``block()``'s block."""
    seen: dict[str, set] = {}

    def work() -> None:
        seen["before"] = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        with block():
            seen["inside"] = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        seen["after"] = signal.pthread_sigmask(signal.SIG_BLOCK, [])

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return seen


def test_another_thread_has_the_asynchronous_signals_blocked_within_the_block() -> None:
    seen = masks_in_another_thread(_sigstack.protected)
    for name in ("SIGINT", "SIGTERM", "SIGUSR1", "SIGALRM", "SIGCHLD"):
        assert getattr(signal, name) in seen["inside"]
        assert getattr(signal, name) not in seen["before"]
    for fault in ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT"):
        assert getattr(signal, fault) not in seen["inside"]  # (a fault still reports)
    assert seen["after"] == seen["before"]


def test_the_main_thread_keeps_its_signals() -> None:
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    with _sigstack.protected():
        assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before


FORKED = textwrap.dedent(
    """
    import ctypes, os, threading
    from deltarule import _sigstack

    def has_stack():
        now = _sigstack._Stack()
        assert ctypes.CDLL(None).sigaltstack(None, ctypes.byref(now)) == 0
        return not now.ss_flags & 2

    assert _sigstack.main_thread_stack() and has_stack()
    read, write = os.pipe()

    def fork():  # (the child's one thread, its main thread, is this one: without the stack)
        pid = os.fork()
        if pid == 0:
            before = has_stack()
            given = _sigstack.main_thread_stack()
            os.write(write, f"{before} {given} {has_stack()}".encode())
            os._exit(0)
        os.waitpid(pid, 0)

    thread = threading.Thread(target=fork)
    thread.start()
    thread.join()
    print(os.read(read, 100).decode())
    """
)


def test_a_child_forked_from_another_thread_gets_a_stack_too() -> None:
    # (the parent's record of its stack made the child's main thread go without one)
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", FORKED], capture_output=True,
                         text=True, check=True).stdout.split()  # fmt: skip
    assert out == ["False", "True", "True"]
