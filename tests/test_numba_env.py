"""numba's environment: a Ctrl-C during its loading waits for the load's end."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from deltarule._numba_env import fork_waits


def test_a_ctrl_c_within_a_load_is_raised_when_it_ends() -> None:
    # raised in the middle of numba's import, it left numba half imported: the next fit
    # of a notebook's session failed ("module 'numba' has no attribute 'core'")
    done = []
    with pytest.raises(KeyboardInterrupt):
        with fork_waits():
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            time.sleep(0.05)  # (the handler would have run by now)
            done.append(True)
    assert done == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
