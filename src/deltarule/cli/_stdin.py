"""DATA ``-``: a table read from standard input (``cat new.csv | deltarule predict m -``).

The readers (:mod:`deltarule.io.data`, :mod:`deltarule.io.npz`) take a file's path: its
name gives the format, and they may read it more than once (a second pass finds the line
a row is on, for messages). So standard input is copied once, a block of 1 MiB at a time
(never held whole in memory; its size and SHA-256 computed on the way, for a checkpoint's
record), to a private temporary folder (``tempfile.mkdtemp``: this user's only) as
``stdin.csv``, or ``stdin.parquet`` / ``stdin.npz`` when its first bytes are a Parquet
file's or a zip archive's (NPZ); CSV may be gzip-compressed, and its separator is guessed
among comma, semicolon and tab (or given: ``--sep``), as a ``.csv`` file's is. The file
lasts as long as the command (:func:`session`, entered by :func:`deltarule.cli.main`);
messages that would name it name ``standard input`` instead (:func:`read`).

A terminal on standard input is refused rather than waited on: ``-`` there is a mistake
(the data was not piped in), and the command would seem to hang.

``-`` elsewhere on the command line: as an output that has standard output as its default
(``predict --out -``), it means standard output (:func:`output_file`); as an output that
cannot go there (a model file, an image: :func:`refuse_stdout`) or as MODEL
(:func:`refuse_stdin_model`) and other inputs that are not a table (:func:`refuse_stdin`),
it is refused before any work, rather than taken for a file named ``-``. Such a file is
still reached as ``./-``; as DATA, its format is told by its first bytes, as standard
input's is (:func:`dash_file_suffix`), since its name has no extension.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..exceptions import InputError

__all__ = [
    "STANDARD_INPUT",
    "STDIN",
    "dash_file_suffix",
    "data_name",
    "fingerprint",
    "is_terminal",
    "is_stdin",
    "output_file",
    "read",
    "read_chunks",
    "refuse_stdin",
    "refuse_stdin_model",
    "refuse_stdout",
    "renamed",
    "session",
    "stdin_file",
    "suffix",
]

STDIN = "-"
"""DATA that means standard input."""
STANDARD_INPUT = "standard input"
"""How messages name it."""
_EXPECTED = (
    "expected CSV rows under a header line (Parquet and NPZ bytes are recognised too). Pipe "
    "a data file in (cat data.csv | deltarule ... -) or give its path instead of -"
)
_FORMATS = ((b"PAR1", ".parquet"), (b"PK\x03\x04", ".npz"), (b"PK\x05\x06", ".npz"))
"""First bytes -> the extension the readers need (anything else: .csv)."""
_MAGIC = max(len(magic) for magic, _ in _FORMATS)
"""The first bytes that tell standard input's format."""
_BLOCK = 1 << 20
"""Bytes of standard input read (and held) at a time: 1 MiB."""


def is_stdin(path: Any) -> bool:
    """Whether the DATA argument ``path`` is ``-``, standard input."""
    return path is not None and os.fspath(path) == STDIN


def _suffix_of(data: bytes) -> str:
    """The extension the readers need for data starting with ``data``: .parquet, .npz or
    .csv (anything else; gzip-compressed CSV is recognised by the CSV reader)."""
    return next((ext for magic, ext in _FORMATS if data.startswith(magic)), ".csv")


def dash_file_suffix(path: Any) -> str | None:
    """For DATA that is a file named ``-`` (``./-``: not standard input), the extension its
    first bytes give it (see :func:`_suffix_of`), since its name has none; None for any
    other path, and for a file that cannot be read (the reader then says why)."""
    if path is None or is_stdin(path) or Path(path).name != STDIN:
        return None
    try:
        with open(path, "rb") as handle:
            return _suffix_of(handle.read(4))
    except OSError:
        return None


def output_file(path: Any) -> Any:
    """An output option's value for an output that goes to standard output by default
    (``predict --out``): None (standard output) for ``-`` or no value, else ``path``."""
    return None if path is None or is_stdin(path) else path


def refuse_stdout(path: Any, option: str, what: str, example: str, kind: str = "file") -> None:
    """Refuse ``-`` as the value of an output option whose output cannot go to standard
    output: ``refuse_stdout(args.out, "--out", "a model file", "model.safetensors")``
    (``kind``: ``"folder"`` for a folder's option).

    Raises
    ------
    InputError
        ``--out -: a model file cannot be written to standard output; give a file path such
        as model.safetensors (a file really named - is ./-).``
    """
    if is_stdin(path):
        raise InputError(
            f"{option} -: {what} cannot be written to standard output; give a {kind} path "
            f"such as {example} (a {kind} really named - is ./-)."
        )


def refuse_stdin(path: Any, option: str, what: str, expected: str, kind: str = "file") -> None:
    """Refuse ``-`` as the value of an input that cannot be read from standard input (only
    DATA can): ``refuse_stdin(args.resume, "--resume", "a checkpoint", "the folder given to
    --checkpoint", "folder")``."""
    if is_stdin(path):
        raise InputError(
            f"{option} -: {what} cannot be read from standard input (only DATA can); give "
            f"{expected} (a {kind} really named - is ./-)."
        )


def refuse_stdin_model(path: Any, option: str = "MODEL") -> None:
    """Refuse MODEL ``-`` (``option``: how the command line names the model, ``MODEL`` or
    ``--model``), before any work: a model file is not read from standard input.

    Raises
    ------
    InputError
        ``MODEL -: a model cannot be read from standard input (only DATA can); give the
        model file's path (a file really named - is ./-).``
    """
    refuse_stdin(path, option, "a model", "the model file's path")


def data_name(path: Any) -> str:
    """The data's name for messages and records: its file name (bytes that are not UTF-8
    escaped, ``bad\\xffname.csv``: a model file's record must be UTF-8), or ``standard
    input``."""
    from .._naming import escape_surrogates

    return STANDARD_INPUT if is_stdin(path) else escape_surrogates(Path(path).name)


class _Stdin:
    """Standard input kept in a temporary file while a command runs (created on first use)."""

    def __init__(self) -> None:
        self.folder: str | None = None
        self.file: Path | None = None
        self.fingerprint: dict[str, Any] | None = None

    def path(self) -> Path:
        """The temporary file holding standard input: read and written on the first call."""
        if self.file is None:
            self.file = self._keep(_stdin_blocks())
        return self.file

    def _keep(self, blocks: Iterator[bytes]) -> Path:
        """Write standard input's ``blocks`` to a new temporary file, a block at a time
        (never all of it in memory), its size and SHA-256 computed on the way."""
        import hashlib
        import tempfile

        first = next(blocks)
        digest, size = hashlib.sha256(), 0
        try:
            self.folder = tempfile.mkdtemp(prefix="deltarule-stdin-")  # (mode 0700)
            partial = Path(self.folder) / "stdin.part"
            with open(partial, "wb") as handle:
                for block in itertools.chain([first], blocks):
                    handle.write(block)
                    digest.update(block)
                    size += len(block)
            file = partial.with_name(f"stdin{_suffix_of(first)}")
            os.replace(partial, file)  # (complete, or not there)
        except OSError as exc:
            raise InputError(
                f"cannot keep {STANDARD_INPUT} ({max(size, len(first)):,} bytes) in a "
                f"temporary file ({exc.strerror or exc}); expected a writable temporary "
                "folder. Set TMPDIR to a folder with room, or save the data to a file and "
                "pass its path."
            ) from None
        self.fingerprint = {"source": STANDARD_INPUT, "size": size, "sha256": digest.hexdigest()}
        return file

    def close(self) -> None:
        """Remove the temporary file and its folder."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = self.file = None


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` (a standard stream, maybe None or closed) is a terminal."""
    try:
        return stream is not None and bool(stream.isatty())
    except (OSError, ValueError):  # (closed, or not a real stream)
        return False


def _stdin_blocks() -> Iterator[bytes]:
    """Every byte of standard input, in blocks of :data:`_BLOCK` bytes (the first holding at
    least the bytes that tell its format, when there are that many); refused when it is a
    terminal, closed or empty (when the first block is asked for)."""
    stream = sys.stdin
    if stream is None:
        raise InputError(f"DATA is - but this process has no {STANDARD_INPUT}; {_EXPECTED}.")
    if is_terminal(stream):
        raise InputError(
            f"DATA is - ({STANDARD_INPUT}), but {STANDARD_INPUT} is a terminal; expected the "
            "data piped or redirected in. Pipe it (cat data.csv | deltarule ... -), redirect "
            "it (< data.csv), or give the file's path instead of -."
        )
    buffer = getattr(stream, "buffer", None)

    def read() -> bytes:
        try:
            if buffer is not None:
                return bytes(buffer.read(_BLOCK))
            return str(stream.read(_BLOCK)).encode("utf-8")
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read {STANDARD_INPUT} ({exc}); {_EXPECTED}.") from None

    def blocks(first: bytes) -> Iterator[bytes]:
        yield first
        while block := read():
            yield block

    first = read()
    while first and len(first) < _MAGIC:  # (a pipe may give fewer bytes than asked)
        more = read()
        if not more:
            break
        first += more
    if not first:
        raise InputError(f"{STANDARD_INPUT} is empty; {_EXPECTED}.")
    return blocks(first)


_CURRENT: _Stdin | None = None
"""Standard input of the command running now (:func:`session`)."""


@contextlib.contextmanager
def session() -> Iterator[None]:
    """Keep standard input, once read, for the ``with`` block; remove its file after."""
    global _CURRENT
    previous, _CURRENT = _CURRENT, _Stdin()
    try:
        yield
    finally:
        current, _CURRENT = _CURRENT, previous
        current.close()


def _current() -> _Stdin:
    """The running command's standard input; outside :func:`session` (a subcommand's
    ``run`` called directly) one kept until the interpreter exits."""
    global _CURRENT
    if _CURRENT is None:
        import atexit

        _CURRENT = _Stdin()
        atexit.register(_CURRENT.close)
    return _CURRENT


def suffix() -> str:
    """The extension standard input's format gives it: ``.csv``, ``.parquet`` or ``.npz``."""
    return _current().path().suffix


def stdin_file() -> Path:
    """The temporary file holding standard input (read now if it was not yet)."""
    return _current().path()


def fingerprint() -> dict[str, Any]:
    """The size and SHA-256 of standard input (read now if it was not yet), with
    ``source: "standard input"``, for a checkpoint's settings."""
    stdin = _current()
    stdin.path()  # (sets the fingerprint)
    return dict(stdin.fingerprint or {})


class _Renamed:
    """A table's row namer (``attrs[ROWS_ATTR]``) naming standard input, not its file."""

    def __init__(self, rows: Callable[[int], str], file: Path) -> None:
        self.rows, self.file = rows, file

    def __call__(self, row: int) -> str:
        """Describe row ``row`` (counted from 0)."""
        return renamed(self.rows(row), self.file)

    def __deepcopy__(self, memo: dict[int, Any]) -> _Renamed:
        return self  # pandas deep-copies a frame's attrs with every new column or mask


def renamed(text: str, file: Path) -> str:
    """``text`` with the temporary ``file`` (its path or name, quoted or not) called
    ``standard input``."""
    for name in (repr(str(file)), str(file), repr(file.name)):
        text = text.replace(name, STANDARD_INPUT)
    return text


def read(reader: Callable[[Path], Any]) -> Any:
    """Return ``reader(file)`` for the temporary file holding standard input, its errors'
    messages and its rows' names (``attrs[ROWS_ATTR]``) naming ``standard input``."""
    from .._naming import ROWS_ATTR

    file = _current().path()
    try:
        frame = reader(file)
    except InputError as exc:
        raise InputError(renamed(str(exc), file), options=exc.options) from exc
    rows = frame.attrs.get(ROWS_ATTR)
    if rows is not None:
        frame.attrs[ROWS_ATTR] = _Renamed(rows, file)
    return frame


def read_chunks(reader: Callable[[Path], Iterator[Any]]) -> Iterator[Any]:
    """Yield the tables of ``reader(file)`` for the temporary file holding standard input
    (a chunk of rows each), as :func:`read` returns one: messages and rows' names naming
    ``standard input``."""
    from .._naming import ROWS_ATTR

    file = _current().path()
    chunks = reader(file)
    while True:
        try:
            frame = next(chunks, None)
        except InputError as exc:
            raise InputError(renamed(str(exc), file), options=exc.options) from exc
        if frame is None:
            return
        rows = frame.attrs.get(ROWS_ATTR)
        if rows is not None:
            frame.attrs[ROWS_ATTR] = _Renamed(rows, file)
        yield frame
