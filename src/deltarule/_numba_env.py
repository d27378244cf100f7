"""Where numba keeps deltarule's compiled kernels, and how a fork waits for them.

**Cache.** The kernels (:mod:`deltarule._jit`) keep their compiled code in numba's on-disk
cache: next to the installed package, else in the user's cache folder, else (a read-only
install and an unwritable home, as for a service account) in a private folder under the
system's temporary folder (:func:`private_folder`); an explicit ``NUMBA_CACHE_DIR`` is used
as numba uses it (:func:`_cache_folder`).

**fork.** A process forked while another of its threads held a lock stays with that lock
held for ever: a child forked while a thread imported numba or loaded a kernel (a first
fit's first ~0.35 s) hung in its own first fit. :func:`deltarule._compiled.available`
imports numba and the kernels' module in a :func:`fork_waits` block (as
:mod:`deltarule._mkl` loads MKL and compiles its products), and from its first call
``os.fork`` (and a ``multiprocessing`` pool's "fork") waits for those blocks and numba's
compiler lock, taken in the parent around the fork and released in both processes
(:func:`_hold_locks`), so a fork made while a kernel loads or compiles waits for it (the
child has no build thread of :mod:`deltarule._shaped`: it queues its hot shapes anew). Imports
of other modules that a thread is in the middle of when the process forks (Python's
per-module import locks) are not covered: fork once training has started, or use the
"spawn" or "forkserver" start method.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["fork_waits", "private_folder", "usual_folder"]


_LOADING = threading.RLock()
"""Held in :func:`fork_waits` blocks (a fork waits for it)."""


@contextlib.contextmanager
def fork_waits() -> Iterator[None]:
    """A block that ``os.fork`` waits for: numba's import and the kernels' here, MKL's
    loading and compiling (:mod:`deltarule._mkl`), work that takes a library's internal
    lock, which a fork made in the middle of it would leave held in the child for ever.

    A Ctrl-C waits for the block's end too (:func:`deltarule._threads.signals_deferred`):
    raised in the middle of numba's import it left numba half imported (the next fit of
    the same session, in a notebook, failed: "module 'numba' has no attribute 'core'"),
    and oneDNN's or MKL's load half done.
    """
    from ._threads import signals_deferred

    with signals_deferred(), _LOADING:
        _fork_safe()
        yield


_FORK_HOOKS: list[bool] = []  # (one entry once the hooks are registered)
_HELD: list[Any] = []  # (the locks the hooks took before a fork, to release after it)


def _fork_safe() -> None:
    """Register :func:`_hold_locks` and :func:`_release_locks` around ``os.fork``, once.

    Hooks registered later run first before a fork: :mod:`logging`'s, registered when
    numba's import first loads it, would hold logging's lock while ours waits for a thread
    whose import needs that lock. Imported first, its hook runs after ours."""
    if not _FORK_HOOKS and hasattr(os, "register_at_fork"):
        import logging  # noqa: F401 - see above

        os.register_at_fork(
            before=_hold_locks, after_in_parent=_release_locks, after_in_child=_release_locks
        )
        _FORK_HOOKS.append(True)


def _hold_locks() -> None:
    """Before a fork: wait for :data:`_LOADING` and numba's compiler lock (a thread that
    holds either is importing numba or loading a kernel; in the child it would hold it for
    ever), and hold them until the fork is done."""
    _LOADING.acquire()
    _HELD.append(_LOADING)
    lock = getattr(sys.modules.get("numba.core.compiler_lock"), "global_compiler_lock", None)
    if lock is not None:
        lock.acquire()
        _HELD.append(lock)


def _release_locks() -> None:
    """After a fork, in the parent and in the child: release what :func:`_hold_locks` took."""
    while _HELD:
        _HELD.pop().release()


def _cache_folder() -> bool:
    """Make sure numba's on-disk cache has a folder for :mod:`deltarule._jit`'s kernels
    (else numba refuses to define them: "cannot cache function ...: no locator
    available"): where numba finds none (a read-only install, an unwritable home), point it
    at a private folder under the system's temporary folder. False when there is none."""
    from numba.core import config

    if config.CACHE_DIR or getattr(config, "CACHE_LOCATOR_CLASSES", None):
        return True  # (the user's choice, as numba uses it)
    if _numba_finds_folder():
        return True
    folder = private_folder("deltarule-numba")
    if folder is None:
        return False
    config.CACHE_DIR = folder
    return True


def _numba_finds_folder() -> bool:
    """Whether one of numba's cache locators finds a writable folder for ``_jit.py``."""
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_jit.py")
    try:
        from numba.core import caching

        impl = getattr(caching, "CacheImpl", None) or caching._CacheImpl  # (numba < 0.62)
        return any(
            cls.from_function(_cache_folder, source) is not None for cls in impl._locator_classes
        )
    except Exception:  # (numba's internals changed: the folder next to the module, if any)
        return _writable(os.path.join(os.path.dirname(source), "__pycache__"))


def usual_folder(name: str) -> str:
    """The folder :func:`private_folder` uses when it can: ``<name>-<user>`` under the
    temporary folder."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    return os.path.join(tempfile.gettempdir(), f"{name}-{uid if uid is not None else 'user'}")


def private_folder(name: str) -> str | None:
    """``<name>-<user>`` under the temporary folder, made for this user alone (a folder of
    that name that another user owns, or others can write to, is not used: a cache in it
    could hold anyone's code); else a fresh folder; None when none can be made."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    folder = usual_folder(name)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.lstat(folder)
        own = uid is None or (info.st_uid == uid and not info.st_mode & 0o022)
        if own and not os.path.islink(folder) and _writable(folder):
            return folder
        folder = tempfile.mkdtemp(prefix=f"{name}-")
        return folder if _writable(folder) else None
    except OSError:
        return None


def _writable(folder: str) -> bool:
    """Whether a file can be made in ``folder`` (made if missing), as numba checks it."""
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True
