"""The command line's standard streams, warnings and optional dependencies, as the
environment leaves them: a closed standard error or output, an output encoding that cannot
show every character, warning filters that would turn deltarule's advice into errors
(``PYTHONWARNINGS=error``), an unwritable home for matplotlib, and an optional dependency
that is not installed (named with the extra that installs it).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["OPTIONAL_DEPENDENCIES", "Streams", "advice_not_errors", "missing_dependency"]


def advice_not_errors(warnings: Any) -> None:
    """Keep deltarule's advice (:class:`~deltarule.exceptions.ConvergenceWarning`,
    :class:`~deltarule.exceptions.DataWarning`) shown as warnings where the environment's
    filters would raise it as an error (``PYTHONWARNINGS=error``, ``-W error``): raised,
    it would end a finished training run before its model is saved. A filter that ignores
    it is left as it is."""
    from ..exceptions import ConvergenceWarning, DataWarning

    shown = []
    for advice in (ConvergenceWarning, DataWarning):
        for action, message, category, module, line in warnings.filters:
            if issubclass(advice, category):
                if action == "error":
                    shown.append(advice)
                if message is None and module is None and not line:
                    break  # (the filter that decides for all of it: later ones do not count)
            elif issubclass(category, advice) and action == "error":  # (a kind of it)
                shown.append(category)
    for category in reversed(shown):
        warnings.filterwarnings("default", category=category)


class Streams:
    """While :func:`main` runs: a closed standard error (``2>&-``: ``sys.stderr`` is None)
    goes to the null device, so that warnings and errors cannot crash the command; a closed
    standard output fails where it is written, named as such (:mod:`._outputs`); and text
    that standard output's encoding cannot show (``PYTHONIOENCODING=ascii``, a latin-1
    terminal: ``η``, ``δ``) is written as ``\\u03b7`` escapes, not an encoding error
    that loses all the output. Everything is put back as it was afterwards."""

    def __enter__(self) -> None:
        import os

        self._saved = sys.stdout, sys.stderr
        self._errors = None
        self._null = None
        if sys.stderr is None:
            self._null = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (closed at exit)
        if sys.stdout is None:
            from ._outputs import ClosedStdout

            sys.stdout = ClosedStdout()
        elif not _encodes_everything(sys.stdout):
            self._errors = getattr(sys.stdout, "errors", None)
            _reconfigure(sys.stdout, "backslashreplace")
        self._mpl = _matplotlib_home()

    def __exit__(self, *exc: object) -> None:
        import os

        stdout, sys.stderr = self._saved
        if self._errors is not None and sys.stdout is stdout:
            _reconfigure(stdout, self._errors)
        sys.stdout = stdout
        if self._null is not None:
            self._null.close()
        if self._mpl:
            os.environ.pop("MPLCONFIGDIR", None)


def _encodes_everything(stream: Any) -> bool:
    """Whether ``stream`` encodes any text (a UTF encoding, or errors already replaced)."""
    import codecs

    try:
        name = codecs.lookup(getattr(stream, "encoding", None) or "utf-8").name
    except LookupError:
        return True
    return name.startswith("utf") or getattr(stream, "errors", "strict") != "strict"


def _reconfigure(stream: Any, errors: str) -> None:
    try:
        stream.reconfigure(errors=errors)
    except (AttributeError, ValueError, OSError):  # (not a TextIOWrapper; or closed)
        pass


def _matplotlib_home() -> bool:
    """Give matplotlib a private folder under the temporary folder (``MPLCONFIGDIR``) when
    the folders it would use are not writable (an unwritable home, as for a service
    account), before anything imports it: else it says so on standard error in several
    lines at every plot. True when ``MPLCONFIGDIR`` was set here (:class:`Streams` takes
    it back)."""
    import os

    if os.environ.get("MPLCONFIGDIR") or "matplotlib" in sys.modules:
        return False
    if not sys.platform.startswith(("linux", "freebsd")):
        folders = [os.path.join(os.path.expanduser("~"), ".matplotlib")]
    else:
        home = os.path.expanduser("~")
        folders = [
            os.path.join(os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"),
                         "matplotlib"),
            os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"),
                         "matplotlib"),
        ]  # fmt: skip
    if all(_usable_folder(folder) for folder in folders):
        return False
    from .._numba_env import private_folder

    folder = private_folder("deltarule-matplotlib")
    if folder is None:
        return False
    os.environ["MPLCONFIGDIR"] = folder
    return True


def _usable_folder(folder: str) -> bool:
    """Whether ``folder`` is a writable folder, or could be made (as matplotlib checks)."""
    import os

    path = os.path.abspath(folder)
    while not os.path.exists(path):  # (the nearest folder that exists must take it)
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
    return os.path.isdir(path) and os.access(path, os.W_OK)


OPTIONAL_DEPENDENCIES = {
    "pandas": ("pandas", "cli"), "pyarrow": ("pyarrow", "cli"),
    "matplotlib": ("matplotlib", "cli"), "tqdm": ("tqdm", "cli"),
    "sklearn": ("scikit-learn", "cli"), "numba": ("numba", "fast"),
    "llvmlite": ("numba", "fast"),
}  # fmt: skip
"""Module -> (package, the extra of deltarule that installs it), for the optional
dependencies a command can miss (``pip install deltarule`` installs none of them)."""


def missing_dependency(exc: ImportError) -> tuple[str, str] | None:
    """(package, extra) of the optional dependency whose absence raised ``exc`` (itself, or
    the import error it was raised from), or None: another import error (a dependency that
    is installed but broken is not reported as missing)."""
    import importlib.util

    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        name = getattr(cause, "name", None) if isinstance(cause, ImportError) else None
        top = name.split(".")[0] if name else ""
        if top in OPTIONAL_DEPENDENCIES:
            try:
                installed = importlib.util.find_spec(top) is not None
            except (ImportError, ValueError):  # (ValueError: sys.modules[top] is None)
                installed = False
            return None if installed else OPTIONAL_DEPENDENCIES[top]
        cause = cause.__cause__ or cause.__context__
    return None
