"""Atomic file writes: a save either completes or leaves the old file untouched.

Data is written to a temporary file in the target's directory, flushed and
fsync'ed, then moved onto the target with :func:`os.replace`, which is atomic
on POSIX and Windows. If anything goes wrong before the move (an exception, a
full disk, Ctrl-C), the temporary file is removed and the previous file, if
any, is still there, whole. A crash of the machine itself (or a killed process) can at
worst leave a stray ``.<name>.<random>.tmp`` file next to the target
(:func:`remove_stale_temps` removes them; a long name is shortened there so that the
temporary name stays within the file system's limit). A replaced file keeps its permission
bits, and its owner and group where this process may set them (root may); a read-only one
is not replaced (``PermissionError``). An existing target that is not a
regular file (a pipe, a terminal, ``/dev/stdout``) is written in place: there is nothing
to replace, and a device must not be replaced by a file. Operating-system failures (no
permission, a full disk) keep their type (``OSError``) with a message naming the target.

Examples
--------
>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
>>> with atomic_open(target, "w") as f:
...     _ = f.write("hello")
>>> target.read_text()
'hello'
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..exceptions import InputError
from . import _links

__all__ = [
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_writable",
    "remove_stale_temps",
]

_TOKEN_HEX = 12
"""Hex digits of the random part of a temporary file's name (48 bits)."""
_TEMP_EXTRA = len("..") + _TOKEN_HEX + len(".tmp")
"""Characters a temporary name adds to the target's name: ``.<name>.<token>.tmp``."""
_NAME_MAX = 255
"""The longest file name, in bytes, where the file system does not say (most say 255)."""


def resolve_target(path: str | os.PathLike[str], example: str = "model.safetensors") -> Path:
    """Return the real path a save to ``path`` writes, checking it can be written.

    Symbolic links are followed, so saving over a link updates the file it points to.
    ``example`` is the file name the messages suggest (a model file's by default).

    Raises
    ------
    InputError
        If ``path`` is empty, is a directory or ends in a separator (names a folder), or its
        folder does not exist or is a file.
    """
    text = os.fspath(path)
    expected = f"expected a file path such as {example!r}"
    if not text:
        raise InputError(f"cannot save to an empty path ''; {expected}.")
    if text.endswith(tuple(sep for sep in (os.sep, os.altsep) if sep)):
        raise InputError(
            f"cannot save to {text!r}: a path ending in {text[-1]!r} names a folder; "
            f"{expected} (e.g. {text + example!r})."
        )
    _links.refuse_planted_links(text)
    target = Path(os.path.realpath(text))
    if target.is_dir():
        raise InputError(f"cannot save to {text!r}: it is a directory; {expected}.")
    if not target.parent.is_dir():
        raise InputError(f"cannot save to {text!r}: {_missing_folder(target.parent, example)}")
    return target


def _missing_folder(folder: Path, example: str) -> str:
    """Why ``folder`` (not a directory) cannot take a file (named like ``example``), and what
    to do."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        return (
            f"{str(existing)!r} is a file, not a folder. Choose a path inside a folder (e.g. "
            f"{str(existing.parent / example)!r})."
        )
    return (
        f"the directory {str(folder)!r} does not exist. Create it first (e.g. mkdir -p) or "
        "choose another path."
    )


def check_writable(path: str | os.PathLike[str], example: str = "model.safetensors") -> Path:
    """Return the real path a save to ``path`` writes (:func:`resolve_target`, whose
    messages suggest a file named like ``example``), having
    checked that a save there would succeed as far as can be told now: its folder takes a
    new file (one is created there and removed) and an existing file there is writable.

    Commands call it for every output before their work, so that a long training run is
    not lost to an output folder it cannot write.

    Raises
    ------
    InputError
        As :func:`resolve_target`.
    OSError
        ``PermissionError`` when the folder or the existing file is not writable (or another
        operating-system failure), with a message naming ``path``.
    """
    target = resolve_target(path, example)
    if _is_special(target):  # a pipe or device: written in place, nothing to create
        return target
    _check_replaceable(path, target)
    try:
        fd, temp = _create_temp(target)
    except OSError as exc:
        raise _cannot_save(path, exc, target.parent) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(temp)
    return target


def _existing_mode(target: Path) -> int | None:
    """The permission bits of the regular file ``target``, None if there is none."""
    try:
        st = os.stat(target)
    except OSError:
        return None
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None


def _check_replaceable(path: str | os.PathLike[str], target: Path) -> int | None:
    """Refuse to replace an existing file that this user may not write (read-only); return
    its permission bits (None: no regular file there)."""
    mode = _existing_mode(target)
    if mode is not None and not os.access(target, os.W_OK):
        error = PermissionError(
            f"cannot save to {os.fspath(path)!r}: the file exists and is read-only; make it "
            "writable (e.g. chmod u+w) or choose another path."
        )
        error.errno = errno.EACCES
        raise error
    return mode


def _keep_owner(fd: int, target: Path) -> None:
    """Give the new file ``fd`` the owner and group of the file ``target`` it replaces,
    where this process may (root may; a user may keep a group it belongs to): a model that
    a service account owns stays readable by it when root retrains it."""
    if not hasattr(os, "fchown"):  # pragma: no cover - not POSIX
        return
    try:
        old, new = os.stat(target), os.fstat(fd)
    except OSError:
        return
    if (old.st_uid, old.st_gid) == (new.st_uid, new.st_gid):
        return
    try:
        os.fchown(fd, old.st_uid, old.st_gid)
    except OSError:  # (not allowed: the group alone, if it is one of this user's)
        with contextlib.suppress(OSError):  # (not that either: the new file stays this user's)
            os.fchown(fd, -1, old.st_gid)
    with contextlib.suppress(OSError):  # (chown clears set-id bits: the mode again)
        os.fchmod(fd, stat.S_IMODE(old.st_mode))


def _cannot_save(path: str | os.PathLike[str], exc: OSError, where: Path) -> OSError:
    """``exc``, an operating-system failure while saving ``path`` (in folder ``where``), as
    the same kind of error with a message that names the target, not the temporary file."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if isinstance(exc, PermissionError):
        hint = f"the folder {str(where)!r} or the file is not writable; choose another path"
    elif isinstance(exc, FileNotFoundError) and where.is_dir():
        # (the folder is there, but makes no new file: /proc, /sys, a virtual file system)
        hint = (
            f"the folder {str(where)!r} exists but takes no new files (a virtual file system "
            "such as /proc or /sys); choose a path in an ordinary folder"
        )
    else:
        hint = "check the disk (space, permissions) or choose another path"
    error = type(exc)(f"cannot save to {os.fspath(path)!r}: {reason}; {hint}.")
    error.errno = exc.errno
    return error


def _is_special(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` exists and is neither a regular file nor a directory (a pipe, a
    terminal, a device such as /dev/stdout): such a file is written in place."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _name_max(folder: Path) -> int:
    """The longest file name, in bytes, that ``folder``'s file system takes."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (AttributeError, ValueError, OSError):  # not POSIX, or the system does not say
        return _NAME_MAX


def _embedded_name(name: str, name_max: int) -> str:
    """``name`` cut (whole characters) so that its temporary name fits in ``name_max`` bytes:
    a target with a long but valid name must not fail for its temporary file's."""
    budget = max(1, name_max - _TEMP_EXTRA)
    while len(os.fsencode(name)) > budget:
        name = name[:-1]
    return name


def _create_temp(target: Path) -> tuple[int, Path]:
    """Create a new, empty temporary file next to ``target``; return (fd, path)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    embedded = _embedded_name(target.name, _name_max(target.parent))
    while True:
        temp = target.with_name(f".{embedded}.{secrets.token_hex(_TOKEN_HEX // 2)}.tmp")
        try:
            # Mode 0o666 lets the umask decide permissions, as for a normal open().
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue


def remove_stale_temps(folder: str | os.PathLike[str], names: list[str]) -> list[Path]:
    """Remove the temporary files that saves of ``folder/NAME`` (each of ``names``) left
    behind when the process was killed mid-write (SIGKILL, a crash); return their paths.

    Only files named as :func:`atomic_open` names them (``.NAME.<12 hex digits>.tmp``) are
    removed. Call it only while no other process saves there (e.g. holding a lock on the
    folder): a save in progress would lose its temporary file.
    """
    folder = Path(folder)
    name_max = _name_max(folder) if folder.is_dir() else _NAME_MAX
    token = rf"\.[0-9a-f]{{{_TOKEN_HEX}}}\.tmp"
    patterns = [re.compile(rf"\.{re.escape(_embedded_name(n, name_max))}{token}") for n in names]
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    removed = []
    for entry in entries:
        if any(p.fullmatch(entry.name) for p in patterns) and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable where the platform allows it (POSIX only). Best effort: the
    file is in place by now, so a folder that cannot be opened (mode 0o333 for a user who
    is not root) or synced fails nothing."""
    if os.name != "posix":  # pragma: no cover
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on directories
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that the file appears only once complete.

    Parameters
    ----------
    path : str or path-like
        The file to create or replace.
    mode : {"wb", "w"}
        Binary, or text in UTF-8.

    Yields
    ------
    file object
        A temporary file in the same directory; on a clean exit it is flushed,
        fsync'ed and moved onto ``path``. On any exception (``KeyboardInterrupt``
        included) it is deleted and ``path`` is left as it was.
    """
    if mode not in ("wb", "w"):
        raise InputError(f"atomic_open supports mode 'wb' or 'w'; received {mode!r}.")
    text = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
    if _is_special(path):  # nothing to replace (and a device node must never be replaced)
        try:
            with open(path, mode, **text) as handle:
                yield handle
        except OSError as exc:
            raise _cannot_save(path, exc, Path(os.fspath(path)).parent) from None
        return
    target = resolve_target(path)
    keep_mode = _check_replaceable(path, target)
    try:
        fd, temp = _create_temp(target)
    except OSError as exc:
        raise _cannot_save(path, exc, target.parent) from None
    try:
        with os.fdopen(fd, mode, **text) as handle:
            yield handle
            handle.flush()
            if keep_mode is not None and hasattr(os, "fchmod"):  # the replaced file's mode
                os.fchmod(handle.fileno(), keep_mode)
                _keep_owner(handle.fileno(), target)
            os.fsync(handle.fileno())
        _replace(temp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):  # the disk filled up, the target became a folder...
            raise _cannot_save(path, exc, target.parent) from None
        raise
    _fsync_directory(target.parent)


WINDOWS = os.name == "nt"
"""Whether a replaced file that another process holds open is refused (Windows)."""
REPLACE_TRIES = 10
"""How often a save tries to move its file onto a target that Windows refuses to replace
while another process has it open (a reader, a virus scanner, an indexer)."""


def _replace(temp: str, target: Path) -> None:
    """``os.replace(temp, target)``; on Windows, tried again for about a second while it
    fails with PermissionError (the target open elsewhere: a checkpoint replaced every
    epoch would otherwise end a run on one collision with a virus scanner)."""
    for attempt in range(REPLACE_TRIES):
        try:
            os.replace(temp, target)
            return
        except PermissionError:
            if not WINDOWS or attempt == REPLACE_TRIES - 1:
                raise
            time.sleep(0.02 * 2 ** min(attempt, 4))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes | bytearray | memoryview) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "w") as handle:
        handle.write(text)
