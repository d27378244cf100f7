"""Training and the command line with threads and forks: no crash, no hang, no state left.

Each scenario runs in a subprocess with a time limit: a regression crashes or hangs that
process, not the test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from deltarule import _blas, _compiled, _mkl, _numba_env

needs_numba = pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")
needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this system")
threaded = pytest.mark.skipif(
    not (_mkl.library_path() and _blas.controls_threads() and _blas.usable_threads() > 1),
    reason="the steps run in one thread here, without MKL's compiled products",
)  # (the scenarios run with DELTARULE_MKL=1: MKL's products also where it is not the default)

PRELUDE = """
import os, sys, threading, time
import numpy as np
from deltarule.network import Network
rng = np.random.default_rng(0)
X = rng.standard_normal((512, 784)).astype(np.float32)
y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 512)]
def fit(epochs=1):
    # 784-256-128-10 at batch 128: the threaded kernel, with MKL's compiled products
    net = Network([784, 256, 128, 10])
    return net.fit(X, y, epochs=epochs, batch_size=128, seed=0, verbose=0)
"""

WAIT_FOR_CHILD = """
def wait(pid, limit=20.0):
    # the child's exit status, or 'hung' (the child is then killed)
    end = time.monotonic() + limit
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return "hung"
"""


def run(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python (warnings off); a hang fails the test."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "DELTARULE_MKL": "1"}
    command = [sys.executable, "-c", textwrap.dedent(code), *args]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"the process hung: {error}")


DAEMON = (
    PRELUDE
    + """
def forever():
    while True:
        fit(epochs=5)
threading.Thread(target=forever, daemon=True).start()
time.sleep(float(sys.argv[1]))  # the interpreter exits while the thread trains
"""
)


@needs_numba
@threaded
def test_the_process_exits_cleanly_while_a_daemon_thread_trains() -> None:
    # MKL's compiled products used to be freed at exit under the running thread: SIGSEGV
    for delay in ("0.9", "1.1", "1.3", "1.5", "1.7", "1.9"):
        done = run(DAEMON, delay)
        assert done.returncode == 0, (delay, done.returncode, done.stderr[-2000:])


FORK_WHILE_HELD = (
    PRELUDE
    + WAIT_FOR_CHILD
    + """
from deltarule import _compiled
from numba.core.compiler_lock import global_compiler_lock
assert _compiled.available()
which = sys.argv[1]
lock = global_compiler_lock if which == "compiler" else _compiled.fork_waits()
held, forked = threading.Event(), []
def hold():  # a thread that loads a kernel (or imports numba) as the process forks
    with lock:
        held.set()
        time.sleep(0.5)
        forked.append(bool(pids))  # the fork waited for this block to end
pids = []
thread = threading.Thread(target=hold)
thread.start()
held.wait()
pid = os.fork()
if pid == 0:
    try:
        with (global_compiler_lock if which == "compiler" else _compiled.fork_waits()):
            pass
        fit()
    finally:
        os._exit(0)
pids.append(pid)
status = wait(pid)
thread.join()
print(status, forked)
"""
)


@needs_numba
@needs_fork
@pytest.mark.parametrize("lock", ["compiler", "loading"])
def test_a_fork_waits_for_a_kernel_being_loaded(lock: str) -> None:
    # a child forked while another thread held numba's compiler lock hung on it for ever
    done = run(FORK_WHILE_HELD, lock)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["0", "[False]"], done.stdout


FORK_IN_FIRST_FIT = (
    PRELUDE
    + WAIT_FOR_CHILD
    + """
thread = threading.Thread(target=fit)
thread.start()
time.sleep(float(sys.argv[1]))  # the thread's first fit: numba, the kernels, MKL load
pid = os.fork()
if pid == 0:
    try:
        fit()
    finally:
        os._exit(0)
print(wait(pid))
thread.join()
"""
)


@needs_numba
@needs_fork
def test_a_child_forked_during_a_first_fit_trains() -> None:
    # hung on numba's compiler lock, or on MKL's first product; the parent must not hang
    # either (a fork hook that waits while logging's lock is held)
    for delay in ("0.1", "0.2", "0.25", "0.3", "0.35"):
        done = run(FORK_IN_FIRST_FIT, delay)
        assert done.returncode == 0, (delay, done.stderr[-2000:])
        assert done.stdout.split() == ["0"], (delay, done.stdout)


CLI_IN_THREADS = """
import sys, warnings
from concurrent.futures import ThreadPoolExecutor
from deltarule.cli import main
data, out = sys.argv[1], sys.argv[2]
before = type(sys.stdout), type(sys.stderr), warnings.showwarning
def train(i):
    return main(["train", data, "--target", "y", "--hidden", "16", "--epochs", "3",
                 "--quiet", "--seed", "0", "--out", f"{out}/m{i}.safetensors"])
for _ in range(4):
    with ThreadPoolExecutor(3) as pool:
        print(list(pool.map(train, range(3))), file=sys.__stderr__)
after = type(sys.stdout), type(sys.stderr), warnings.showwarning
print("restored" if after == before else f"left {after}", file=sys.__stderr__)
"""


def test_the_command_line_runs_from_several_threads(tmp_path) -> None:
    # main() swaps the process's streams and warning hooks: concurrent calls failed
    # ('NoneType' object has no attribute 'close') and left sys.stdout wrapped
    rng = np.random.default_rng(0)
    data = tmp_path / "d.npz"
    np.savez(data, X=rng.standard_normal((300, 8)), y=rng.integers(0, 3, 300))
    done = run(CLI_IN_THREADS, str(data), str(tmp_path), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith(("[", "restored", "l"))]
    assert lines == ["[0, 0, 0]"] * 4 + ["restored"], done.stderr[-2000:]


def version(cli) -> int:
    try:
        return cli.main(["--version"])
    except SystemExit as stop:  # (argparse's --version)
        return int(stop.code or 0)


def test_calls_from_other_threads_wait_and_the_same_thread_goes_on(capsys) -> None:
    import threading

    from deltarule import cli

    statuses: list[int] = []
    other = threading.Thread(target=lambda: statuses.append(version(cli)))
    with cli._ONE_AT_A_TIME:  # as if a command ran in this thread
        assert version(cli) == 0  # a command within it: no deadlock
        other.start()
        other.join(0.5)
        assert other.is_alive() and not statuses  # the other thread's waits
    other.join(10)
    assert statuses == [0]
    assert capsys.readouterr().out.count("deltarule") == 2


def test_mkls_first_products_are_made_where_a_fork_waits(monkeypatch, mkl_on) -> None:
    # MKL loads its code on its first product under a spin lock of its own: a child forked
    # during a thread's first product hung in its own (1 run in ~10 forked at 0.3 s)
    seen: list[bool] = []
    monkeypatch.setattr(
        _mkl, "_first_products", lambda *functions: seen.append(_numba_env._LOADING._is_owned())
    )
    _mkl._library.cache_clear()
    _mkl._jit_functions.cache_clear()
    try:
        assert _mkl._library() is not None
    finally:
        _mkl._library.cache_clear()
        _mkl._jit_functions.cache_clear()
    assert seen == [True]
