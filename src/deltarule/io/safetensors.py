"""A dependency-free reader and writer of the safetensors format.

Safetensors (Hugging Face) stores named tensors as plain data, so loading a
file can never run code, unlike pickle. A file is::

    8 bytes      N, the header length, unsigned little-endian
    N bytes      UTF-8 JSON: {"name": {"dtype": "F32", "shape": [2, 3],
                 "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
    the rest     raw little-endian C-order tensor data; offsets count from here

The reader checks every claim the header makes against the file's real size
before it allocates anything, so a truncated, corrupt, foreign or hostile file
(a pickle, a zip, random bytes) is refused with an
:class:`~deltarule.exceptions.IncompatibleFormatError` that says what is wrong.
Reading a header costs time and memory in proportion to its size and to the number
of tensors it lists, so both are capped (:data:`DEFAULT_MAX_HEADER_BYTES`,
:data:`DEFAULT_MAX_TENSORS`; both can be raised per call for a trusted file): a file
whose header lists a million empty tensors is refused while its header is parsed,
not after.
The writer produces byte-for-byte what the ``safetensors`` package writes
(tensors ordered by dtype size then name, header padded with spaces to a
multiple of 8) and is atomic (:mod:`deltarule.io.atomic`).

Integrity: ``write_safetensors(..., checksum=True)`` stores a SHA-256 checksum as
the metadata string :data:`CHECKSUM_KEY`, 64 lowercase hex digits. It covers
everything the file says except the checksum itself and the header's padding: the
header in a canonical form (:func:`covered_header`: every tensor's name, dtype,
shape and offsets, and every other metadata entry) followed by the data section.
The reader checks it whenever a file has it, so a flipped bit in the weights, or an
edited metadata value (a mean, a class label, an activation name), is refused as
damage instead of loading as something else; files without it (older ones, other
programs') load as before. The entry is plain metadata, so the ``safetensors``
package and PyTorch read such files unchanged; and a checksum found in the metadata
given to the writer is recomputed, so reading a file, changing it and writing it
back never leaves a stale one.

Examples
--------
>>> import tempfile, pathlib, numpy as np
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.safetensors"
>>> write_safetensors(path, {"w": np.eye(2, dtype=np.float32)}, {"note": "hi"})
>>> tensors, metadata = read_safetensors(path)
>>> tensors["w"].tolist(), metadata
([[1.0, 0.0], [0.0, 1.0]], {'note': 'hi'})
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from math import isfinite, prod
from typing import Any, BinaryIO, NoReturn

import numpy as np

from .._reading import check_readable, file_kind
from ..exceptions import IncompatibleFormatError, InputError
from .atomic import atomic_open

__all__ = [
    "CHECKSUM_KEY",
    "DTYPES",
    "DEFAULT_MAX_HEADER_BYTES",
    "DEFAULT_MAX_TENSORS",
    "covered_header",
    "read_safetensors",
    "read_safetensors_header",
    "write_safetensors",
]

DTYPES: dict[str, np.dtype] = {
    code: np.dtype(spec)
    for code, spec in [
        ("BOOL", "?"),
        ("U8", "u1"),
        ("I8", "i1"),
        ("I16", "<i2"),
        ("U16", "<u2"),
        ("F16", "<f2"),
        ("I32", "<i4"),
        ("U32", "<u4"),
        ("F32", "<f4"),
        ("F64", "<f8"),
        ("I64", "<i8"),
        ("U64", "<u8"),
    ]
}
"""Safetensors dtype codes this module reads and writes, in the ``safetensors``
package's own dtype order (the writer puts larger ranks first)."""

CHECKSUM_KEY = "deltarule.sha256"
"""Metadata entry holding the SHA-256 (64 lowercase hex digits) of the canonical header
(:func:`covered_header`) followed by the data section."""

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_RANK = {code: rank for rank, code in enumerate(DTYPES)}
_CODE = {(dt.kind, dt.itemsize): code for code, dt in DTYPES.items()}
DEFAULT_MAX_HEADER_BYTES = 100_000_000
"""Largest header read by default: 100 MB, the ``safetensors`` package's own limit.
deltarule's largest headers hold a training history (about 260 bytes an epoch in a
checkpoint, 150 in ``deltarule train``'s record, which keeps at most 100,000 epochs):
checkpoints are written and read with a limit of their own
(:data:`deltarule.io.checkpoint.CHECKPOINT_MAX_HEADER_BYTES`, 1 GB), since tiny networks
trained as FANN's users train them run for hundreds of thousands of epochs. What makes a
hostile header slow is mostly the number of tensors it lists, capped by
:data:`DEFAULT_MAX_TENSORS`."""

DEFAULT_MAX_TENSORS = 10_000
"""Most tensors a header may list by default. A deltarule file holds two per layer plus a
few optimizer and callback tensors."""

MODEL_FIRST = "MODEL comes first: deltarule predict MODEL DATA"
"""The command-line hint for a text file (a CSV table) read as a model file; the command
line names the command actually run in its place (``deltarule.cli``)."""

_ENTRY_FIELDS = {"dtype", "shape", "data_offsets"}
_MAX_REASON = 1000

Fail = Callable[..., NoReturn]
"""``fail(reason, options=None)``: raise the file's :class:`IncompatibleFormatError`."""
TensorInfo = tuple[str, str, tuple[int, ...], int, int]  # name, dtype, shape, begin, end


def make_fail(path: str | os.PathLike[str], kind: str) -> Fail:
    def fail(reason: str, options: dict[str, str] | None = None) -> NoReturn:
        if len(reason) > _MAX_REASON:  # a hostile file's names and values can be megabytes
            reason = f"{reason[: _MAX_REASON - 200]} [...] {reason[-150:]}"
        raise IncompatibleFormatError(
            f"{os.fspath(path)} is not a valid {kind}: {reason}.", options=options
        )

    return fail


_FOREIGN = {
    "zip": "; it looks like a zip archive (an .npz, or a PyTorch .pt/.pth file)",
    "npy": "; it looks like a NumPy .npy file",
}


def _sniff(first: bytes) -> str:
    """Name a well-known foreign format from a file's first bytes ('' if none): a pickle,
    or what :func:`deltarule._reading.file_kind` recognises that a model is often mistaken
    for."""
    if first[:1] == b"\x80" and first[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return (
            "; it looks like a Python pickle (e.g. torch.save or joblib output), which "
            "deltarule never loads because unpickling can run arbitrary code"
        )
    return _FOREIGN.get(file_kind(first) or "", "")


def _text_start(first: bytes) -> str | None:
    """The first line of a file that starts as text (a CSV table, say), or None.

    A safetensors file starts with its header length as 8 little-endian bytes; 8 printable
    characters as a length are over 10**17 bytes, so no real file starts that way.
    """
    first = first.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte order mark
    try:  # (an incremental decoder allows a character cut at the end of ``first``)
        text = codecs.getincrementaldecoder("utf-8")().decode(first[:64])
    except UnicodeDecodeError:
        return None
    if not text.strip() or not all(c.isprintable() or c in "\t\r\n" for c in text[:8]):
        return None
    return next(line for line in text.splitlines() if line.strip())[:40]


def loads_strict(
    text: str,
    fail: Fail,
    what: str = "its header",
    *,
    max_objects: int | None = None,
    too_many: str = "",
    max_containers: int | None = None,
) -> Any:
    """Parse untrusted JSON: no repeated keys, no NaN/Infinity, any nesting depth refused cleanly.

    Repeated keys are refused because JSON parsers disagree on which value wins,
    so two programs could read the same file differently. With ``max_objects``, the
    parse stops with ``fail(too_many)`` as soon as it has built more JSON objects than
    that, so a hostile text costs no more than the limit allows. With ``max_containers``,
    a text holding more objects and arrays together than that is refused before parsing
    (``[[],[],...]`` costs some 30 bytes of memory per byte of text).
    """
    if max_containers is not None and text.count("[") + text.count("{") > max_containers:
        found = count_containers(text)  # (exact: brackets inside strings are not counted)
        if found > max_containers:
            fail(
                f"{what} holds {found:,} JSON objects and arrays, more than the "
                f"{max_containers:,} a text of {len(text):,} characters may hold; deltarule "
                "never writes such a header, so the file was made or edited by another program"
            )
    built = 0

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal built
        built += 1
        if max_objects is not None and built > max_objects:
            fail(too_many or f"{what} holds more than {max_objects:,} JSON objects")
        seen: set[str] = set()
        for key, _ in pairs:  # linear: a header may hold millions of keys
            if key in seen:
                fail(f"{what} repeats the key {key!r:.80}")
            seen.add(key)
        return dict(pairs)

    def no_constants(name: str) -> NoReturn:
        fail(f"{what} contains {name}, which is not JSON (JSON has no NaN or infinity)")

    def finite(number: str) -> float:
        value = float(number)
        if not isfinite(value):
            fail(
                f"{what} holds the number {number[:40]}, which overflows a float to infinity "
                "(JSON has no infinity); deltarule never writes one, so the file was made or "
                "edited by another program"
            )
        return value

    try:  # (every float through finite: ~0.1 µs each; a regex over the text took longer)
        return json.loads(
            text, object_pairs_hook=no_duplicates, parse_constant=no_constants, parse_float=finite
        )
    except IncompatibleFormatError:
        raise
    except (ValueError, RecursionError) as exc:
        reason = str(exc)
        if "int_max_str_digits" in reason:  # (Python's advice, not the reader's)
            reason = "it holds a whole number of more than 4,300 digits"
        fail(f"{what} is not valid JSON ({reason[:200]})")


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


def count_containers(text: str) -> int:
    """How many JSON objects and arrays ``text`` opens (brackets inside strings are not
    counted), in linear time."""
    bare = _JSON_STRING.sub("", text) if '"' in text else text
    return bare.count("[") + bare.count("{")


def _too_many_tensors(limit: int) -> str:
    return (
        f"its header lists more than {limit:,} tensors, the limit (deltarule's own files "
        "hold a few per layer); if you trust the file, read it with a larger max_tensors "
        "(read_safetensors, deltarule.io.load_model)"
    )


def _parse_json(raw: bytes, fail: Fail, max_tensors: int) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(f"its header is not UTF-8 text (invalid byte at position {exc.start})")
    # A well-formed header is one object per tensor, the metadata and itself: more is
    # refused while parsing, before a million tiny entries cost seconds and gigabytes.
    header = loads_strict(
        text, fail, max_objects=max_tensors + 2, too_many=_too_many_tensors(max_tensors)
    )
    if not isinstance(header, dict):
        fail(f"its header is a JSON {type(header).__name__}; expected a JSON object")
    if len(header) - ("__metadata__" in header) > max_tensors:
        fail(_too_many_tensors(max_tensors))
    return header


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_entry(name: str, entry: Any, data_length: int, fail: Fail) -> TensorInfo:
    if not isinstance(entry, dict) or set(entry) != _ENTRY_FIELDS:
        got = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
        fail(f"tensor {name!r} is described by {got}; expected dtype, shape and data_offsets")
    code, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(code, str) or code not in DTYPES:
        fail(f"tensor {name!r} has dtype {code!r}; expected one of {', '.join(DTYPES)}")
    if not isinstance(shape, list) or not all(_is_count(s) for s in shape):
        fail(f"tensor {name!r} has shape {shape!r}; expected a list of non-negative integers")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_count, offsets))):
        fail(f"tensor {name!r} has data_offsets {offsets!r}; expected [begin, end]")
    begin, end = offsets
    if end < begin:
        fail(f"tensor {name!r} has data_offsets [{begin:,}, {end:,}], which end before they begin")
    if not begin <= end <= data_length:
        fail(
            f"tensor {name!r} claims bytes [{begin:,}, {end:,}) but the data section has "
            f"{data_length:,} bytes; the file is truncated or corrupt"
        )
    itemsize = DTYPES[code].itemsize
    if len(shape) > 32 or prod(s for s in shape if s) * itemsize >= 2**63:
        fail(f"tensor {name!r} has shape {shape}, which no array can have")
    expected = prod(shape) * itemsize
    if end - begin != expected:
        fail(
            f"tensor {name!r} ({code}, shape {shape}) needs {expected:,} bytes but its offsets "
            f"span {end - begin:,}"
        )
    return name, code, tuple(shape), begin, end


def _check_layout(infos: list[TensorInfo], data_length: int, fail: Fail) -> list[TensorInfo]:
    """Sort tensors by offset and check they tile the data section exactly."""
    ordered = sorted(infos, key=lambda info: (info[3], info[4]))
    cursor = 0
    for name, _, _, begin, end in ordered:
        if begin != cursor:
            problem = (
                "overlaps the previous tensor"
                if begin < cursor
                else f"leaves {begin - cursor:,} bytes before it that no tensor in the header "
                "describes (a tensor's entry may be missing)"
            )
            fail(f"tensor {name!r} starts at byte {begin:,} and {problem} (expected {cursor:,})")
        cursor = end
    if cursor != data_length:
        fail(f"the tensors cover {cursor:,} bytes but the data section has {data_length:,}")
    return ordered


def _check_metadata(metadata: Any, fail: Fail) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        fail("its __metadata__ is not a JSON object of strings")
    digest = metadata.get(CHECKSUM_KEY)
    if digest is not None and not _SHA256_HEX.fullmatch(digest):
        fail(
            f"its {CHECKSUM_KEY!r} metadata is {digest!r:.80}; expected a SHA-256 checksum "
            "(64 lowercase hexadecimal digits)"
        )
    return dict(metadata)


def covered_header(tensors: Mapping[str, Mapping[str, Any]], metadata: Mapping[str, str]) -> bytes:
    """The header as the :data:`CHECKSUM_KEY` checksum covers it, canonically serialised.

    The checksum is the SHA-256 of these bytes followed by the data section. They are
    the JSON object of every tensor entry (``{"dtype", "shape", "data_offsets"}`` by
    name) and ``"__metadata__"``: every metadata entry but the checksum (``{}`` when
    none), written with sorted keys, no spaces and non-ASCII characters as UTF-8::

        json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    so that any change to what the header says (a name, a shape, an offset, a metadata
    value) changes the checksum, while its key order and whitespace do not matter.

    Parameters
    ----------
    tensors : mapping of str to dict
        ``{name: {"dtype": code, "shape": [...], "data_offsets": [begin, end]}}``.
    metadata : mapping of str to str
        The file's metadata; a :data:`CHECKSUM_KEY` entry in it is left out.

    Returns
    -------
    bytes
    """
    header: dict[str, Any] = dict(tensors)
    header["__metadata__"] = {k: v for k, v in metadata.items() if k != CHECKSUM_KEY}
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")  # (a JSON "\\ud800" read from a file)


def _check_digest(path: str | os.PathLike[str], kind: str, stored: str, computed: str) -> None:
    """Refuse a file whose header and data do not hash to the checksum stored in its header."""
    if computed != stored:
        raise IncompatibleFormatError(
            f"{os.fspath(path)} is damaged: its header or tensor data do not match the SHA-256 "
            f"checksum saved with it (expected {stored[:16]}..., found {computed[:16]}...), so "
            f"something stored (a weight, or a setting, label or name in its header) is not "
            f"what was written (a disk, copy or download error, or an edit of the file). Save "
            f"the {kind} again from the program or model that made it, or use a backup copy."
        )


def _read_layout(
    handle: BinaryIO, size: int, limits: tuple[int, int], fail: Fail, kind: str
) -> tuple[list[TensorInfo], dict[str, str]]:
    """Read and validate the header of an open file of ``size`` bytes."""
    first = handle.read(8)
    n = int.from_bytes(first, "little")
    if size < 8 or len(first) < 8 or 8 + n > size:
        start = first + handle.read(56)
        line = _text_start(start)
        if line is not None:
            here = f"give the {kind} here"
            fail(
                f"it looks like a text file such as a CSV table (it starts with {line!r}); {here}",
                options={here: f"{here} ({MODEL_FIRST})"},
            )
        if size < 8 or len(first) < 8:
            fail(f"it has {size:,} bytes; a safetensors file starts with an 8-byte header length")
        fail(
            f"its header declares {n:,} bytes but the file has {size:,} bytes; the file is "
            f"truncated or corrupt{_sniff(start)}"
        )
    limit, max_tensors = limits
    if n > limit:
        fail(
            f"its header has {n:,} bytes, more than the limit of {limit:,} (deltarule's own "
            "headers are far smaller unless they hold a very long training history); if you "
            "trust the file, read it with a larger max_header_bytes (read_safetensors, "
            "deltarule.io.load_model)"
        )
    header = _parse_json(handle.read(n), fail, max_tensors)
    metadata = _check_metadata(header.pop("__metadata__", None), fail)
    data_length = size - 8 - n
    infos = [_check_entry(name, entry, data_length, fail) for name, entry in header.items()]
    return _check_layout(infos, data_length, fail), metadata


def _entries(infos: list[TensorInfo]) -> dict[str, dict[str, Any]]:
    """The header's tensor entries, as the file states them."""
    return {
        name: {"dtype": code, "shape": list(shape), "data_offsets": [begin, end]}
        for name, code, shape, begin, end in infos
    }


def _limits(max_header_bytes: Any, max_tensors: Any) -> tuple[int, int]:
    """The reader's limits, checked: non-negative integers."""
    for name, value in (("max_header_bytes", max_header_bytes), ("max_tensors", max_tensors)):
        if not _is_count(value):
            raise InputError(f"{name} must be an integer >= 0; received {value!r:.80}.")
    return max_header_bytes, max_tensors


def _open_checked(path: str | os.PathLike[str]) -> BinaryIO:
    return open(check_readable(path, "a .safetensors file"), "rb")


def read_safetensors_header(
    path: str | os.PathLike[str],
    *,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    max_tensors: int = DEFAULT_MAX_TENSORS,
    kind: str = "safetensors file",
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Read and validate only the header of a safetensors file.

    The data section is not read, so the :data:`CHECKSUM_KEY` checksum (which covers the
    header too) is not verified, only its form; :func:`read_safetensors` verifies it.

    Parameters
    ----------
    path : str or path-like
    max_header_bytes : int, default 100 MB
        Largest header accepted (:data:`DEFAULT_MAX_HEADER_BYTES`).
    max_tensors : int, default 10,000
        Most tensors the header may list (:data:`DEFAULT_MAX_TENSORS`).
    kind : str
        What the file should be, for error messages.

    Returns
    -------
    tensors : dict
        ``{name: {"dtype": code, "shape": [...], "data_offsets": [begin, end]}}``, in file order.
    metadata : dict of str to str

    Raises
    ------
    IncompatibleFormatError
        If the file is not a well-formed safetensors file (``kind`` names what was expected).
    """
    fail = make_fail(path, kind)
    limits = _limits(max_header_bytes, max_tensors)
    with _open_checked(path) as handle:
        infos, metadata = _read_layout(
            handle, os.fstat(handle.fileno()).st_size, limits, fail, kind
        )
    return _entries(infos), metadata


def read_safetensors(
    path: str | os.PathLike[str],
    *,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    max_tensors: int = DEFAULT_MAX_TENSORS,
    kind: str = "safetensors file",
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read every tensor and the metadata of a safetensors file.

    The header is validated in full before any tensor memory is allocated, and
    then at most the file's own size is allocated. No handle stays open.

    Parameters
    ----------
    path : str or path-like
    max_header_bytes : int, default 100 MB
        Largest header accepted (:data:`DEFAULT_MAX_HEADER_BYTES`).
    max_tensors : int, default 10,000
        Most tensors the header may list (:data:`DEFAULT_MAX_TENSORS`).
    kind : str
        What the file should be, for error messages (e.g. "deltarule model file").

    Returns
    -------
    tensors : dict of str to ndarray
        Fresh, writable, little-endian arrays, in file order.
    metadata : dict of str to str

    Raises
    ------
    IncompatibleFormatError
        If the file is truncated, corrupt or not safetensors at all, if its header is
        larger or lists more tensors than the limits, or if its header or data do not
        match the :data:`CHECKSUM_KEY` checksum in its metadata (damaged).
    """
    fail = make_fail(path, kind)
    limits = _limits(max_header_bytes, max_tensors)
    tensors: dict[str, np.ndarray] = {}
    with _open_checked(path) as handle:
        size = os.fstat(handle.fileno()).st_size
        infos, metadata = _read_layout(handle, size, limits, fail, kind)
        digest = None
        if CHECKSUM_KEY in metadata:
            digest = hashlib.sha256(covered_header(_entries(infos), metadata))
        for name, code, shape, begin, end in infos:  # in offset order: the data section's
            array = np.empty(shape, dtype=DTYPES[code])
            raw = array.reshape(-1).view(np.uint8)
            if end > begin and handle.readinto(raw) != end - begin:
                fail(f"tensor {name!r} ends early; the file changed while it was read")
            if digest is not None:
                digest.update(raw)
            tensors[name] = array
    if digest is not None:
        _check_digest(path, kind, metadata[CHECKSUM_KEY], digest.hexdigest())
    return tensors, metadata


def _tensor_code(name: Any, value: Any) -> tuple[np.ndarray, str]:
    if not isinstance(name, str) or not name or name == "__metadata__":
        raise InputError(
            f"tensor names must be non-empty strings other than '__metadata__'; received {name!r}."
        )
    array = np.asarray(value)
    code = _CODE.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise InputError(
            f"tensor {name!r} has dtype {array.dtype}, which safetensors cannot store here; "
            f"expected one of {', '.join(str(d) for d in DTYPES.values())}."
        )
    return np.asarray(array, dtype=DTYPES[code], order="C"), code


def _tensor_entries(arrays: dict[str, tuple[np.ndarray, str]]) -> dict[str, dict[str, Any]]:
    """The header's tensor entries for the arrays, laid out in their order."""
    entries, offset = {}, 0
    for name, (array, code) in arrays.items():
        entries[name] = {
            "dtype": code,
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
    return entries


def _header_bytes(entries: dict[str, dict[str, Any]], metadata: dict[str, str]) -> bytes:
    header: dict[str, Any] = {"__metadata__": metadata} if metadata else {}
    header.update(entries)
    try:
        raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate such as "\ud800" has no UTF-8 form
        raise InputError(
            f"tensor names and metadata must be valid Unicode text; received "
            f"{exc.object[max(exc.start - 20, 0) : exc.end + 20]!r}, which holds the unpaired "
            f"surrogate {exc.object[exc.start : exc.end]!r}. Remove or replace it."
        ) from exc
    return raw + b" " * (-len(raw) % 8)


def _file_digest(
    arrays: dict[str, tuple[np.ndarray, str]], entries: dict[str, Any], metadata: dict[str, str]
) -> str:
    """The :data:`CHECKSUM_KEY` checksum (hex) of the file these make."""
    digest = hashlib.sha256(covered_header(entries, metadata))
    for array, _ in arrays.values():
        digest.update(memoryview(array.reshape(-1)).cast("B"))
    return digest.hexdigest()


def write_safetensors(
    path: str | os.PathLike[str],
    tensors: Mapping[str, np.ndarray],
    metadata: Mapping[str, str] | None = None,
    *,
    checksum: bool = False,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    max_tensors: int = DEFAULT_MAX_TENSORS,
) -> None:
    """Write named tensors and string metadata to ``path`` as a safetensors file, atomically.

    Parameters
    ----------
    path : str or path-like
    tensors : mapping of str to ndarray
        Bool, integer or float arrays (see :data:`DTYPES`); stored little-endian, C order.
    metadata : mapping of str to str, optional
        A :data:`CHECKSUM_KEY` entry in it (as read from a file) is replaced by the
        checksum of the file written now.
    checksum : bool, default False
        Store the SHA-256 of the header (:func:`covered_header`) and the data section as
        the metadata entry :data:`CHECKSUM_KEY`, which :func:`read_safetensors` verifies.
        Without it (and without that entry in ``metadata``) the file is byte-for-byte what
        the ``safetensors`` package writes.
    max_header_bytes, max_tensors : int
        The limits of the reader the file is for (:func:`read_safetensors`' defaults): a
        file it would refuse is not written.

    Raises
    ------
    InputError
        For an unsupported dtype, a bad name or non-string metadata, more tensors than
        ``max_tensors`` or a header larger than ``max_header_bytes``.
    """
    if not isinstance(metadata, (Mapping, type(None))) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in (metadata or {}).items()
    ):
        raise InputError(
            f"safetensors metadata must map strings to strings; received {metadata!r:.200}."
        )
    checked = {name: _tensor_code(name, value) for name, value in tensors.items()}
    order = sorted(checked, key=lambda name: (-_RANK[checked[name][1]], name))
    arrays = {name: checked[name] for name in order}
    metadata = dict(metadata or {})
    entries = _tensor_entries(arrays)
    if checksum or CHECKSUM_KEY in metadata:
        metadata[CHECKSUM_KEY] = _file_digest(arrays, entries, metadata)
    if len(arrays) > max_tensors:
        raise InputError(
            f"a file of {len(arrays):,} tensors cannot be saved: the reader refuses more than "
            f"{max_tensors:,} (read_safetensors' max_tensors; deltarule's files hold two a "
            "layer). Save a network of fewer layers."
        )
    header = _header_bytes(entries, dict(sorted(metadata.items())))
    if len(header) > max_header_bytes:
        raise InputError(
            f"a file whose header is {len(header):,} bytes cannot be saved: the reader refuses "
            f"more than {max_header_bytes:,} (read_safetensors' max_header_bytes). Store less "
            "metadata (a long training record: keep fewer epochs of history)."
        )
    with atomic_open(path, "wb") as handle:
        handle.write(len(header).to_bytes(8, "little"))
        handle.write(header)
        for array, _ in arrays.values():
            handle.write(memoryview(array.reshape(-1)).cast("B"))
