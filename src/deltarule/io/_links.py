"""The guard a save passes through before it follows a symbolic link.

A save resolves links itself (:func:`deltarule.io.atomic.resolve_target`: it replaces the
file a link points to, not the link), so the kernel's own guard against links planted in
shared folders (``fs.protected_symlinks``) does not apply; :func:`refuse_planted_links` is
that guard.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from ..exceptions import InputError

__all__ = ["refuse_planted_links"]

_MAX_LINKS = 40
"""Symbolic links followed in one path, as Linux allows (then the system's error stands)."""


def _current_uid() -> int:
    """The user this process writes as (a function, so that a test can be another user)."""
    return os.geteuid()


def _owner(path: str) -> int:
    """The owner of ``path`` itself (a link's own, not its target's)."""
    return os.lstat(path).st_uid


def refuse_planted_links(path: str | os.PathLike[str]) -> None:
    """Refuse a save through a symbolic link that another user planted in a shared folder.

    A save resolves links itself (to replace the file a link points to, not the link), so
    the kernel's own guard (``fs.protected_symlinks``) does not apply; this is that guard:
    a link in a sticky, world-writable folder (such as ``/tmp``) is followed only when this
    user or the folder's owner owns it. Each link of ``path`` is checked, folders and the
    file alike, as the system would follow them.

    Raises
    ------
    InputError
        Naming the link, where it points and its owner.
    """
    if os.name != "posix":  # pragma: no cover - the rule is POSIX's
        return
    text = os.path.abspath(os.fspath(path))
    current, parts, hops = os.sep, [p for p in text.split(os.sep) if p], 0
    while parts:
        name = parts.pop(0)
        if name == ".":
            continue
        if name == "..":
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, name)
        if not os.path.islink(candidate):
            current = candidate
            continue
        hops += 1
        if hops > _MAX_LINKS:
            return  # (a loop: the system says so when the path is used)
        try:
            target = os.readlink(candidate)
        except OSError:  # pragma: no cover - removed meanwhile
            return
        _check_link(path, candidate, current, target)
        if os.path.isabs(target):
            current = os.sep
        parts = [p for p in target.split(os.sep) if p] + parts


def _check_link(path: Any, link: str, folder: str, target: str) -> None:
    """Refuse ``link`` (pointing to ``target``, in ``folder``) as the kernel would."""
    try:
        where, owner = os.stat(folder), _owner(link)
    except OSError:
        return
    shared = where.st_mode & stat.S_ISVTX and where.st_mode & stat.S_IWOTH
    if not shared or owner in (_current_uid(), where.st_uid):
        return
    raise InputError(
        f"cannot save to {os.fspath(path)!r}: {link!r} is a symbolic link (to {target!r}) in "
        f"the shared folder {folder!r} (sticky and writable by everyone), owned by another "
        f"user (uid {owner}); following it would let that user choose which file is "
        "replaced. Remove the link, or choose another path."
    )
