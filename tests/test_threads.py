"""Work shared between threads: every share runs once, errors reach the caller."""

from __future__ import annotations

import _thread
import signal
import threading
import time

import pytest

from deltarule._threads import run_shares, signals_deferred


@pytest.mark.parametrize("count", [1, 2, 5])
def test_every_share_runs_once_on_its_own_thread(count) -> None:
    seen: dict[int, int] = {}
    lock = threading.Lock()
    barrier = threading.Barrier(count, timeout=10)  # all shares run at once

    def work(i: int) -> None:
        barrier.wait()
        with lock:
            seen[i] = threading.get_ident()

    run_shares(work, count)
    assert sorted(seen) == list(range(count))
    assert len(set(seen.values())) == count
    assert seen[0] == threading.get_ident()  # share 0 on the caller's thread


def test_the_first_error_is_raised_after_every_share_is_done() -> None:
    done = []

    def work(i: int) -> None:
        if i == 1:
            raise ValueError("share 1 failed")
        done.append(i)

    with pytest.raises(ValueError, match="share 1 failed"):
        run_shares(work, 3)
    assert sorted(done) == [0, 2]


def test_shares_whose_thread_cannot_start_run_on_the_caller(monkeypatch) -> None:
    def refuse(self) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    ran = []
    run_shares(lambda i: ran.append((i, threading.get_ident())), 3)
    assert [i for i, _ in ran] == [0, 1, 2]
    assert {ident for _, ident in ran} == {threading.get_ident()}


def _scipy_pool_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [
        info["num_threads"] for info in threadpool_info()
        if info.get("user_api") == "blas" and "scipy.libs" in info.get("filepath", "")
    ]  # fmt: skip


def test_scipys_blas_is_held_at_one_thread_in_the_block_and_given_back_after() -> None:
    pytest.importorskip("threadpoolctl")
    from deltarule import _threads

    if not _threads._scipy_pools():
        pytest.skip("scipy's BLAS has no pool of its own here")
    before = _scipy_pool_threads()
    for _ in range(2):  # (the controller is made once, then reused)
        with _threads.scipy_blas_single_threaded():
            assert _scipy_pool_threads() == [1] * len(before)
        assert _scipy_pool_threads() == before


def test_overlapping_blocks_in_threads_give_the_pool_back_once_all_end() -> None:
    # (each block restored the size it found: one that began while another held the pool
    # at one thread left it at one for good — concurrent L-BFGS fits did)
    pytest.importorskip("threadpoolctl")
    from deltarule import _threads

    if not _threads._scipy_pools():
        pytest.skip("scipy's BLAS has no pool of its own here")
    before = _scipy_pool_threads()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[list[int]] = []

    def first() -> None:
        with _threads.scipy_blas_single_threaded():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second() -> None:
        first_in.wait(10)
        with _threads.scipy_blas_single_threaded():
            second_in.set()
            first_out.wait(10)
            seen.append(_scipy_pool_threads())  # the first has ended: still held at one

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert seen == [[1] * len(before)]
    assert _scipy_pool_threads() == before


def test_lbfgs_fits_in_threads_leave_scipys_pool_as_it_was() -> None:
    pytest.importorskip("threadpoolctl")
    import warnings

    import numpy as np

    import deltarule as dr
    from deltarule import _threads

    if not _threads._scipy_pools():
        pytest.skip("scipy's BLAS has no pool of its own here")
    before = _scipy_pool_threads()
    rng = np.random.default_rng(0)
    X, errors = rng.normal(size=(200, 6)), []
    y = (X[:, :1] > 0).astype(float)

    def fit() -> None:
        try:
            for _ in range(5):
                net = dr.Network([6, 8, 1], output_activation="sigmoid", seed=1)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    net.fit(X, y, optimizer="lbfgs", batch_size=None, epochs=30, verbose=0)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=fit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and _scipy_pool_threads() == before


@pytest.fixture
def ctrl_c_recorded():
    """SIGINT's handler records each call (whether share 1 had ended then) and raises
    KeyboardInterrupt, as Python's own does; restored after the test."""
    calls: list[bool] = []
    ended = threading.Event()

    def handler(signum, frame) -> None:
        calls.append(ended.is_set())
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield calls, ended, handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_waiting_for_the_shares_is_raised_once_they_are_done(
    ctrl_c_recorded,
) -> None:
    # a KeyboardInterrupt raised in Thread.join left share 1 running on the caller's arrays
    calls, ended, handler = ctrl_c_recorded

    def work(i: int) -> None:
        if i == 1:
            time.sleep(0.05)  # share 0 is done: the caller waits in join
            # (a signal, which wakes the wait: interrupt_main does not)
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            time.sleep(0.2)
            ended.set()

    with pytest.raises(KeyboardInterrupt):
        run_shares(work, 2)
    assert calls == [True]  # the handler ran once, after share 1 had ended
    assert signal.getsignal(signal.SIGINT) is handler


def test_a_handler_that_only_records_runs_after_the_shares() -> None:
    # (the training loop's first Ctrl-C sets a flag): called once, after the work, not lost
    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:

        def work(i: int) -> None:
            if i == 1:
                _thread.interrupt_main()
                time.sleep(0.05)
                assert not seen  # held back while the shares run

        run_shares(work, 2)
        assert seen == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)


def test_signals_are_not_deferred_in_other_threads() -> None:
    # (signal handlers can only be set in the main thread: the block leaves them alone)
    errors: list[BaseException] = []
    handler = signal.getsignal(signal.SIGINT)

    def other() -> None:
        try:
            with signals_deferred():
                assert signal.getsignal(signal.SIGINT) is handler
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert not errors


def test_sigint_is_given_back_its_handler_last(monkeypatch) -> None:
    # a Ctrl-C handled between two restores must still find a handler that records it, so
    # that it raises only once every handler is back (SIGTERM's left as 'remember' else)
    interrupt = signal.getsignal(signal.SIGINT)
    term = signal.signal(signal.SIGTERM, ours := lambda signum, frame: None)
    calls: list[int] = []
    real = signal.signal

    def recording(signum, handler):
        calls.append(signum)
        return real(signum, handler)

    try:
        monkeypatch.setattr(signal, "signal", recording)
        with signals_deferred():
            pass
        monkeypatch.undo()
        assert calls[-2:] == [signal.SIGTERM, signal.SIGINT]
        assert signal.getsignal(signal.SIGINT) is interrupt
        assert signal.getsignal(signal.SIGTERM) is ours
    finally:
        signal.signal(signal.SIGTERM, term)
