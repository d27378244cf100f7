"""Our safetensors reader/writer against the Hugging Face package, and against hostile files."""

from __future__ import annotations

import json
import os
import pickle
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deltarule.exceptions import IncompatibleFormatError, InputError
from deltarule.io.atomic import atomic_open, atomic_write_bytes, atomic_write_text
from deltarule.io.safetensors import (
    CHECKSUM_KEY,
    DTYPES,
    covered_header,
    read_safetensors,
    read_safetensors_header,
    write_safetensors,
)

hf = pytest.importorskip("safetensors.numpy")


def sample_tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "w": rng.normal(size=(3, 4)).astype(np.float32),
        "b": rng.normal(size=(3,)),
        "steps": np.array([1, 2, 3], dtype=np.int64),
        "count": np.array(7, dtype=np.int32),
        "mask": np.array([[True, False], [False, True]]),
        "bytes": np.arange(5, dtype=np.uint8),
        "half": np.array([0.5, -2.0], dtype=np.float16),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


def raw_file(header: dict, data: bytes = b"", *, length: int | None = None) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text) if length is None else length) + text + data


@pytest.fixture
def write_raw(tmp_path):
    def write(content: bytes, name: str = "model.safetensors"):
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return write


# ---------------------------------------------------------------- round trips
def test_round_trip_every_dtype(tmp_path):
    tensors = sample_tensors()
    path = tmp_path / "t.safetensors"
    write_safetensors(path, tensors, {"note": "héllo", "a": "b"})
    loaded, metadata = read_safetensors(path)
    assert metadata == {"note": "héllo", "a": "b"}
    assert set(loaded) == set(tensors)
    for name, array in tensors.items():
        assert loaded[name].dtype == array.dtype
        assert loaded[name].shape == array.shape
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].flags.writeable and loaded[name].flags.c_contiguous


def test_bytes_identical_to_huggingface_writer(tmp_path):
    tensors = sample_tensors()
    ours = tmp_path / "ours.safetensors"
    # One metadata key: the Rust writer keeps metadata in a HashMap, so its key order varies.
    write_safetensors(ours, tensors, {"format": "np"})
    assert ours.read_bytes() == hf.save(tensors, metadata={"format": "np"})
    write_safetensors(ours, tensors)
    assert ours.read_bytes() == hf.save(tensors)


def test_huggingface_reads_ours_and_we_read_theirs(tmp_path):
    tensors = sample_tensors()
    ours, theirs = tmp_path / "ours.safetensors", tmp_path / "theirs.safetensors"
    write_safetensors(ours, tensors)
    hf.save_file(tensors, str(theirs), metadata={"k": "v"})
    for name, array in hf.load_file(str(ours)).items():
        np.testing.assert_array_equal(array, tensors[name])
    loaded, metadata = read_safetensors(theirs)
    assert metadata == {"k": "v"}
    for name, array in loaded.items():
        np.testing.assert_array_equal(array, tensors[name])


def test_non_contiguous_and_big_endian_input_is_written_correctly(tmp_path):
    base = np.arange(12, dtype=">f8").reshape(3, 4)
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {"t": base.T, "s": base[:, ::2]})
    loaded, _ = read_safetensors(path)
    np.testing.assert_array_equal(loaded["t"], base.T)
    np.testing.assert_array_equal(loaded["s"], base[:, ::2])
    assert hf.load_file(str(path))["t"].tolist() == base.T.tolist()


def test_header_only_read_matches_file(tmp_path):
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {"a": np.zeros((2, 3), np.float32)}, {"m": "x"})
    tensors, metadata = read_safetensors_header(path)
    assert tensors == {"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}}
    assert metadata == {"m": "x"}


# ------------------------------------------------------------------- checksum
def _data_section(path) -> tuple[int, bytes]:
    content = path.read_bytes()
    start = 8 + int.from_bytes(content[:8], "little")
    return start, content[start:]


def _documented_checksum(path) -> str:
    """The checksum as docs/file-format.md defines it, computed here from the file's bytes."""
    import hashlib

    start, data = _data_section(path)
    header = json.loads(path.read_bytes()[8:start])
    header["__metadata__"] = dict(header.get("__metadata__", {}))
    header["__metadata__"].pop(CHECKSUM_KEY, None)
    canonical = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8") + data).hexdigest()


def test_checksum_is_the_sha256_of_the_canonical_header_and_the_data(tmp_path):
    # (before: the SHA-256 of the data section alone, so header edits went unnoticed)
    import hashlib

    path = tmp_path / "t.safetensors"
    write_safetensors(path, sample_tensors(), {"note": "héllo"}, checksum=True)
    _, data = _data_section(path)
    _, metadata = read_safetensors_header(path)
    assert metadata == {"note": "héllo", CHECKSUM_KEY: _documented_checksum(path)}
    assert metadata[CHECKSUM_KEY] != hashlib.sha256(data).hexdigest()
    assert covered_header(*read_safetensors_header(path)) == json.dumps(
        {**read_safetensors_header(path)[0], "__metadata__": {"note": "héllo"}},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    ).encode()  # fmt: skip
    loaded, read_back = read_safetensors(path)
    assert read_back == metadata
    for name, array in sample_tensors().items():
        np.testing.assert_array_equal(loaded[name], array)
    # Plain metadata to the Hugging Face package, which reads the file unchanged.
    for name, array in hf.load_file(str(path)).items():
        np.testing.assert_array_equal(array, sample_tensors()[name])


@pytest.mark.parametrize("where", [0, 57, -1])  # first, middle and last byte of the data
def test_a_flipped_data_byte_is_refused_as_damage(tmp_path, where):
    # (before: no checksum existed and the changed value was read silently)
    path = tmp_path / "t.safetensors"
    write_safetensors(path, sample_tensors(), checksum=True)
    start, data = _data_section(path)
    content = bytearray(path.read_bytes())
    content[start + where % len(data)] ^= 0x01
    path.write_bytes(bytes(content))
    with pytest.raises(IncompatibleFormatError) as info:
        read_safetensors(path, kind="deltarule model file")
    message = str(info.value)
    assert message.startswith(f"{path} is damaged: its header or tensor data do not match the")
    assert "Save the deltarule model file again" in message and "backup" in message
    read_safetensors_header(path)  # the header alone is intact, and does not read the data


def _edit(path, old: bytes, new: bytes) -> None:
    """Replace ``old`` by ``new`` (same length) once in the file's header, in place."""
    assert len(old) == len(new)
    content = path.read_bytes()
    start, _ = _data_section(path)
    assert content[:start].count(old) == 1, old
    path.write_bytes(content[:start].replace(old, new) + content[start:])


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b":5.84,", b":5.85,"),  # one digit of a stored number
        (b"virginica", b"Virginica"),  # a label in a metadata string
        (b'"note"', b'"nose"'),  # a metadata key
        (b'"shape":[3,4]', b'"shape":[4,3]'),  # a tensor's shape (same byte count)
        (b'"w":{', b'"v":{'),  # a tensor's name
    ],
)
def test_an_edited_header_is_refused_as_damage(tmp_path, old, new):
    # (before: the checksum covered the data alone, and each of these loaded silently)
    path = tmp_path / "t.safetensors"
    metadata = {"deltarule": json.dumps({"mean": 5.84, "classes": ["virginica"]},
                                        separators=(",", ":")), "note": "x"}  # fmt: skip
    write_safetensors(path, sample_tensors(), metadata, checksum=True)
    _edit(path, old, new)
    read_safetensors_header(path)  # still a well-formed file
    with pytest.raises(IncompatibleFormatError, match="is damaged: its header or tensor data"):
        read_safetensors(path)


def test_the_header_s_layout_is_not_covered(tmp_path):
    """Key order, spaces and padding are not what the header says: a file rewritten with
    them changed (as another writer might) still loads."""
    path = tmp_path / "t.safetensors"
    write_safetensors(path, sample_tensors(), {"note": "x", "a": "é"}, checksum=True)
    start, data = _data_section(path)
    header = json.loads(path.read_bytes()[8:start])
    shuffled = dict(reversed(list(header.items())))
    text = json.dumps(shuffled, indent=3, ensure_ascii=True).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    tensors, metadata = read_safetensors(path)
    assert metadata["a"] == "é" and set(tensors) == set(sample_tensors())


def test_without_checksum_a_flipped_byte_is_not_detected(tmp_path):
    """Files without the entry (older ones, other programs') load unchecked, as before."""
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {"w": np.zeros(4, np.float32)})
    assert CHECKSUM_KEY not in read_safetensors_header(path)[1]
    start, _ = _data_section(path)
    content = bytearray(path.read_bytes())
    content[start] ^= 0x01
    path.write_bytes(bytes(content))
    tensors, _ = read_safetensors(path)
    assert tensors["w"][0] != 0


def test_a_checksum_passed_through_metadata_is_recomputed(tmp_path):
    """Read, change a tensor or the metadata, write back: the file gets the new checksum."""
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {"w": np.zeros(4, np.float32)}, {"m": "x"}, checksum=True)
    tensors, metadata = read_safetensors(path)
    tensors["w"][1] = 3.0
    write_safetensors(path, tensors, metadata)
    loaded, again = read_safetensors(path)
    assert loaded["w"].tolist() == [0, 3, 0, 0] and again[CHECKSUM_KEY] != metadata[CHECKSUM_KEY]
    write_safetensors(path, loaded, {**again, "m": "y"})
    assert read_safetensors(path)[1] == {"m": "y", CHECKSUM_KEY: _documented_checksum(path)}
    assert _documented_checksum(path) != again[CHECKSUM_KEY]


@pytest.mark.parametrize("value", ["", "abc", "A" * 64, "g" * 64, "0" * 65])
def test_a_malformed_checksum_entry_is_refused(write_raw, value):
    content = raw_file({"__metadata__": {CHECKSUM_KEY: value}, "a": _F32x2}, bytes(8))
    for reader in (read_safetensors, read_safetensors_header):
        with pytest.raises(IncompatibleFormatError, match="expected a SHA-256 checksum"):
            reader(write_raw(content))


def test_header_is_padded_to_eight_bytes(tmp_path):
    for n in range(1, 10):
        path = tmp_path / f"{n}.safetensors"
        write_safetensors(path, {"x" * n: np.zeros(1, np.uint8)})
        length = int.from_bytes(path.read_bytes()[:8], "little")
        assert length % 8 == 0


def test_no_file_handle_left_open(tmp_path):
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc")
    path = tmp_path / "t.safetensors"
    write_safetensors(path, sample_tensors())
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        read_safetensors(path)
        read_safetensors_header(path)
    assert len(os.listdir("/proc/self/fd")) == before


# ------------------------------------------------------------ writer checks
@pytest.mark.parametrize(
    "tensors",
    [
        {"obj": np.array(["a", None], dtype=object)},
        {"c": np.zeros(2, dtype=np.complex64)},
        {"s": np.array(["text"])},
        {"": np.zeros(1)},
        {"__metadata__": np.zeros(1)},
    ],
)
def test_writer_refuses_what_it_cannot_store(tmp_path, tensors):
    with pytest.raises(InputError):
        write_safetensors(tmp_path / "t.safetensors", tensors)
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_non_string_metadata(tmp_path):
    with pytest.raises(InputError, match="strings to strings"):
        write_safetensors(tmp_path / "t.safetensors", {"a": np.zeros(1)}, {"n": 1})


# ------------------------------------------------------------ hostile files
class _Marker:
    """Unpickling this would create a marker file: proof that code ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickle_is_refused_and_never_executed(tmp_path, write_raw):
    marker = tmp_path / "pwned"
    path = write_raw(pickle.dumps({"weights": _Marker(str(marker))}, protocol=4))
    with pytest.raises(IncompatibleFormatError, match="pickle") as info:
        read_safetensors(path)
    assert "is not a valid safetensors file" in str(info.value)
    assert not marker.exists()


def test_npz_is_refused(tmp_path):
    path = tmp_path / "weights.safetensors"
    with open(path, "wb") as handle:
        np.savez(handle, X=np.zeros(3))
    with pytest.raises(IncompatibleFormatError, match="zip archive"):
        read_safetensors(path)


@pytest.mark.parametrize(
    ("content", "start"),
    [
        (b"sepal_length,sepal_width,species\n5.1,3.5,setosa\n", "sepal_length,sepal_width,species"),
        (b"\xef\xbb\xbfsize;city\r\n1;oslo\r\n", "size;city"),  # a byte order mark, ; and CRLF
        ("årstid\tgrad\n".encode(), "årstid\tgrad"),  # UTF-8 cut inside the first 8 bytes
        (b"\n\n  x,y\n", "  x,y"),
        (b"a,b\n", "a,b"),  # shorter than the 8-byte length
    ],
)
def test_a_text_file_is_named_as_such(write_raw, content, start):
    # (before: "its header declares 7,813,794,245,032,832,115 bytes ... truncated or corrupt")
    path = write_raw(content, "table.csv")
    for reader in (read_safetensors, read_safetensors_header):
        with pytest.raises(IncompatibleFormatError) as info:
            reader(path, kind="deltarule model file")
        message = str(info.value)
        expected = f"it looks like a text file such as a CSV table (it starts with {start!r})"
        assert message.startswith(f"{path} is not a valid deltarule model file: {expected}")
        assert "declares" not in message
        assert "MODEL comes first" not in message  # (a command-line hint, not Python's)
        assert "MODEL comes first: deltarule predict MODEL DATA" in info.value.for_command_line()


@pytest.mark.parametrize("content", [bytes(range(8)) * 3, b"\x80\x04junkjunk", b"\xff" * 16])
def test_binary_junk_is_not_called_text(write_raw, content):
    with pytest.raises(IncompatibleFormatError) as info:
        read_safetensors(write_raw(content))
    assert "text file" not in str(info.value)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 40) | st.floats() | st.sampled_from(["F32", "U8"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)
_entry = st.fixed_dictionaries(
    {
        "dtype": st.sampled_from(["F32", "U8", "BOOL", "X"]) | _json,
        "shape": _json,
        "data_offsets": st.lists(st.integers(-1, 40), max_size=3) | _json,
    }
)


@settings(max_examples=300, deadline=None)
@given(
    header=st.dictionaries(st.text(max_size=3), _entry | _json, max_size=3),
    data=st.binary(max_size=40),
)
def test_structured_garbage_never_crashes(tmp_path_factory, header, data):
    path = tmp_path_factory.mktemp("json") / "r.safetensors"
    path.write_bytes(raw_file(header, data))
    try:
        tensors, _ = read_safetensors(path)
    except IncompatibleFormatError:
        return
    assert sum(t.nbytes for t in tensors.values()) == len(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_crash(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("rand") / "r.safetensors"
    path.write_bytes(content)
    try:
        read_safetensors(path)
    except IncompatibleFormatError:
        pass


def test_every_truncation_is_refused(tmp_path, write_raw):
    good = tmp_path / "good.safetensors"
    write_safetensors(good, {"w": np.ones((2, 3), np.float32), "b": np.ones(2)}, {"a": "b"})
    content = good.read_bytes()
    for cut in range(len(content)):
        with pytest.raises(IncompatibleFormatError):
            read_safetensors(write_raw(content[:cut]))


def test_giant_declared_header_is_refused_without_allocating(write_raw):
    path = write_raw(struct.pack("<Q", 10**15) + b"{}" + b" " * 30)
    with pytest.raises(IncompatibleFormatError) as info:
        read_safetensors(path)
    message = str(info.value)
    assert "1,000,000,000,000,000 bytes" in message and "40 bytes" in message
    assert "truncated or corrupt" in message


def test_header_limit_is_configurable(tmp_path):
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {"a": np.zeros(1)}, {"big": "x" * 1000})
    with pytest.raises(IncompatibleFormatError, match="more than the limit of 100 "):
        read_safetensors(path, max_header_bytes=100)


_F32x2 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "it has 0 bytes"),
        (b"\x01\x00\x00", "it has 3 bytes"),
        (struct.pack("<Q", 4) + b"\xff\xfe{}", "not UTF-8"),
        (struct.pack("<Q", 4) + b"{abc", "not valid JSON"),
        (struct.pack("<Q", 2) + b"[]", "JSON list; expected a JSON object"),
        (struct.pack("<Q", 2000) + b"[" * 1000 + b"]" * 1000, "not valid JSON"),
        (raw_file({"a": {**_F32x2, "dtype": "BF16"}}, bytes(4)), "dtype 'BF16'"),
        (raw_file({"a": {**_F32x2, "shape": [-2]}}, bytes(8)), "non-negative integers"),
        (raw_file({"a": {**_F32x2, "shape": [2.0]}}, bytes(8)), "non-negative integers"),
        (raw_file({"a": {**_F32x2, "shape": [True, 2]}}, bytes(8)), "non-negative integers"),
        (raw_file({"a": {**_F32x2, "shape": "2"}}, bytes(8)), "non-negative integers"),
        (raw_file({"a": {**_F32x2, "data_offsets": [0]}}, bytes(8)), "expected \\[begin, end\\]"),
        (raw_file({"a": {**_F32x2, "data_offsets": [4, 2]}}, bytes(8)), "end before they begin"),
        (raw_file({"a": {**_F32x2, "data_offsets": [0, 10**12]}}, bytes(8)), "truncated"),
        (raw_file({"a": {**_F32x2, "shape": [3]}}, bytes(8)), "needs 12 bytes"),
        (raw_file({"a": {**_F32x2, "shape": [10**9, 10**9]}}, bytes(8)), "needs 4,000,000"),
        (raw_file({"a": _F32x2}, bytes(12)), "cover 8 bytes but the data section has 12"),
        (raw_file({"a": _F32x2, "b": _F32x2}, bytes(8)), "overlaps"),
        (
            raw_file({"a": _F32x2, "b": {**_F32x2, "data_offsets": [12, 20]}}, bytes(20)),
            "leaves 4 bytes before it that no tensor in the header describes",
        ),
        (raw_file({"a": {"dtype": "F32", "shape": [2]}}, bytes(8)), "described by"),
        (raw_file({"a": {**_F32x2, "extra": 1}}, bytes(8)), "described by"),
        (raw_file({"a": [1, 2]}, bytes(8)), "described by list"),
        (raw_file({"__metadata__": {"k": 1}}), "__metadata__ is not a JSON object of strings"),
        (raw_file({"__metadata__": "x"}), "__metadata__ is not a JSON object of strings"),
        (struct.pack("<Q", 10) + b'{"a":1,"a":2}'[:10], "not valid JSON"),
        (
            raw_file({"a": {"dtype": "F32", "shape": [0, 10**30], "data_offsets": [0, 0]}}),
            "which no array can have",
        ),
        (struct.pack("<Q", 13) + b'{"a":1,"a":1}', "repeats the key 'a'"),
        (raw_file({"a": _F32x2}, bytes(8), length=10**6), "declares 1,000,000 bytes"),
    ],
)
def test_corrupt_files_get_a_clear_error(write_raw, content, message):
    path = write_raw(content)
    with pytest.raises(IncompatibleFormatError, match=message) as info:
        read_safetensors(path)
    assert str(info.value).startswith(f"{path} is not a valid safetensors file: ")
    with pytest.raises(IncompatibleFormatError):
        read_safetensors_header(path)


def test_kind_names_what_was_expected(write_raw):
    with pytest.raises(IncompatibleFormatError, match="is not a valid deltarule model file"):
        read_safetensors(write_raw(b"hello"), kind="deltarule model file")


def test_zero_size_tensors_may_share_an_offset(write_raw):
    header = {
        "e1": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]},
        "e2": {"dtype": "F64", "shape": [3, 0], "data_offsets": [0, 0]},
        "a": _F32x2,
    }
    tensors, _ = read_safetensors(write_raw(raw_file(header, np.ones(2, "<f4").tobytes())))
    assert tensors["e2"].shape == (3, 0)
    np.testing.assert_array_equal(tensors["a"], [1, 1])


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file: .*nope.safetensors.* check the path"):
        read_safetensors(tmp_path / "nope.safetensors")
    with pytest.raises(InputError, match="is a directory"):
        read_safetensors(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_and_an_unreadable_file_are_named(tmp_path, monkeypatch):
    # (A pipe was read as an empty file; a file without read permission gave the bare
    # "[Errno 13] Permission denied". Root reads anything, so that is simulated.)
    from deltarule.io.data import read_table

    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    for read in (read_safetensors, read_table):
        with pytest.raises(InputError, match="is not a regular file \\(a pipe, a device or a "
                           "socket\\).*Save the data to a file first"):  # fmt: skip
            read(pipe)
    locked = tmp_path / "locked.csv"
    locked.write_text("a,y\n1,2\n")
    real_open = open

    def refuse(file, *args, **kwargs):  # noqa: ANN202
        if os.fspath(file) == str(locked):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse)
    for read in (read_safetensors, read_table):
        with pytest.raises(InputError, match="cannot read '.*locked.csv': permission denied; "
                           "expected a readable file .* chmod u\\+r"):  # fmt: skip
            read(locked)


def test_dtype_table_matches_huggingface(tmp_path):
    for code, dtype in DTYPES.items():
        array = np.zeros(3, dtype=dtype)
        path = tmp_path / f"{code}.safetensors"
        hf.save_file({"x": array}, str(path))
        header, _ = read_safetensors_header(path)
        assert header["x"]["dtype"] == code


# ---------------------------------------------------------------- atomic
def test_atomic_write_replaces_whole_file(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"old")
    atomic_write_bytes(path, b"new content")
    assert path.read_bytes() == b"new content"
    atomic_write_text(path, "héllo\n")
    assert path.read_bytes() == "héllo\n".encode()
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_atomic_open_keeps_old_file_on_interrupt(tmp_path, error):
    path = tmp_path / "f.bin"
    path.write_bytes(b"precious")
    with pytest.raises(type(error)), atomic_open(path) as handle:
        handle.write(b"half of the new")
        raise error
    assert path.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


def test_atomic_open_keeps_old_file_when_replace_fails(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(b"precious")

    def broken_replace(src, dst):
        raise OSError("simulated failure")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated"):
        atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_atomic_write_to_a_pipe_writes_in_place(tmp_path):
    # A pipe (like /dev/stdout, or a device) has nothing to replace, and must stay a pipe.
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    atomic_write_bytes(fifo, b"through the pipe")
    reader.join(timeout=10)
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_an_unwritable_folder_is_named_not_the_temporary_file(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError) as error:
        atomic_write_bytes(tmp_path / "model.bin", b"x")
    message = str(error.value)
    assert message.startswith(f"cannot save to {str(tmp_path / 'model.bin')!r}: Permission denied")
    assert "not writable" in message and ".tmp" not in message


def test_atomic_open_follows_symlinks_and_respects_umask(tmp_path):
    real = tmp_path / "real.bin"
    real.write_bytes(b"old")
    link = tmp_path / "link.bin"
    link.symlink_to(real)
    atomic_write_bytes(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "perm.bin", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "perm.bin").stat().st_mode & 0o777 == 0o644


def test_atomic_open_bad_targets(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        atomic_write_bytes(tmp_path, b"x")
    with pytest.raises(InputError, match="does not exist"):
        atomic_write_bytes(tmp_path / "missing" / "f.bin", b"x")
    with pytest.raises(InputError, match="mode"):
        with atomic_open(tmp_path / "f", "ab"):
            pass
