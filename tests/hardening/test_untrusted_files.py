"""Untrusted files: refused (or read as plain data) without executing anything or unbounded memory.

Pickle payloads whose ``__reduce__`` would create a marker file, hidden in every place a
pickle could hide; tensor names that look like paths, hold NUL bytes, are huge or use
look-alike Unicode; duplicate JSON keys; headers that are arrays, deeply nested or
enormous; NaN in the header; giant declared sizes and overflowing shapes; .npz object
arrays.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hardening_support import peak_bytes

import deltarule as dr
from deltarule.exceptions import IncompatibleFormatError, InputError
from deltarule.io import load_model, model_header, read_npz, read_table, save_model
from deltarule.io.safetensors import CHECKSUM_KEY, read_safetensors, write_safetensors


class _Payload:
    """Unpickling this creates the marker file: proof that code from the file ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def marker(tmp_path) -> Path:
    path = tmp_path / "PWNED"
    yield path
    assert not path.exists(), "a payload in an untrusted file was executed"


@pytest.fixture
def payload(marker) -> bytes:
    return pickle.dumps(_Payload(marker), protocol=4)


@pytest.fixture
def model_path(tmp_path) -> Path:
    return save_model(dr.Network([2, 3, 1], seed=0), tmp_path / "model.safetensors")


def _raw(header, data: bytes = b"", *, length: int | None = None) -> bytes:
    text = header if isinstance(header, (str, bytes)) else json.dumps(header)
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def _parts(path: Path) -> tuple[dict, dict, bytes]:
    """(safetensors header, deltarule metadata, data section) of a model file.

    The header is without its checksum, as a crafted file may well be: a file changed
    with its checksum kept is refused as damage before anything here is looked at.
    """
    content = path.read_bytes()
    n = int.from_bytes(content[:8], "little")
    header = json.loads(content[8 : 8 + n])
    header["__metadata__"].pop(CHECKSUM_KEY)
    return header, json.loads(header["__metadata__"]["deltarule"]), content[8 + n :]


def _refused(path: Path, *errors: type[Exception]) -> str:
    """Load ``path``; it must be refused cleanly, quickly and in < 1 MB. Returns the message."""
    errors = errors or (IncompatibleFormatError,)
    start = time.perf_counter()
    peak, error = peak_bytes(lambda: load_model(path))
    assert isinstance(error, errors), f"expected {errors}, got {error!r:.300}"
    assert time.perf_counter() - start < 5
    assert peak < 2**20 + 2 * path.stat().st_size, f"{peak:,} bytes allocated"
    message = str(error)
    assert len(message) < 2000, f"a {len(message):,}-character message"
    return message


# ---------------------------------------------------------------- pickle payloads
def test_the_payload_works_when_unpickled(tmp_path):
    """The fixture is a real exploit: loading it with pickle does create the marker."""
    marker = tmp_path / "PWNED"
    pickle.loads(pickle.dumps(_Payload(marker)))
    assert marker.exists()


def test_a_pickle_renamed_to_safetensors_is_refused(tmp_path, payload):
    path = tmp_path / "model.safetensors"
    path.write_bytes(payload)
    assert "pickle" in _refused(path)


def test_a_torch_style_zip_with_a_pickle_is_refused(tmp_path, payload):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
        archive.writestr("archive/version", "3\n")
    path = tmp_path / "model.safetensors"
    path.write_bytes(buffer.getvalue())
    assert "zip archive" in _refused(path)


def test_a_pickle_stored_as_tensor_bytes_stays_bytes(tmp_path, model_path, payload):
    tensors, metadata = read_safetensors(model_path)
    tensors["extra.state"] = np.frombuffer(payload, np.uint8)
    path = tmp_path / "with_payload.safetensors"
    write_safetensors(path, tensors, metadata)
    loaded = load_model(path)
    assert loaded.extra_tensors["state"].tobytes() == payload  # plain bytes, never unpickled


@pytest.mark.parametrize("where", ["training", "preprocessing", "classes", "library_version"])
def test_a_pickle_in_the_json_header_stays_text(tmp_path, model_path, payload, where):
    header, meta, data = _parts(model_path)
    text = payload.decode("latin-1")
    meta[where] = (
        {"state": text}
        if where in ("training", "preprocessing")
        else ([text] if where == "classes" else text)
    )
    header["__metadata__"]["deltarule"] = json.dumps(meta)
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw(header, data))
    loaded = load_model(path)
    assert loaded.header[where] == meta[where]  # the bytes came back as a string, inert


def test_a_pickle_in_the_data_section_of_a_refused_file(tmp_path, payload):
    header = {"w": {"dtype": "U8", "shape": [len(payload)], "data_offsets": [0, len(payload)]}}
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw(header, payload))
    assert "no 'deltarule' entry" in _refused(path)


def test_npz_object_arrays_are_refused(tmp_path, payload, marker):
    X = np.empty(2, dtype=object)
    X[0], X[1] = _Payload(marker), 1.0
    path = tmp_path / "data.npz"
    np.savez(path, X=X, y=np.array([1.0, 2.0]))
    assert not marker.exists()
    with pytest.raises(InputError, match="holds Python objects.*pickle"):
        read_npz(path)


@pytest.mark.parametrize("member", ["X.npy", "y.npy", "X", "y"])
def test_npz_members_that_are_raw_pickles_are_refused(tmp_path, payload, member):
    good = io.BytesIO()
    np.savez(good, X=np.ones((2, 2)), y=np.ones(2))
    buffer = io.BytesIO()
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(buffer, "w") as archive:
        for name in source.namelist():
            if name.removesuffix(".npy") != member.removesuffix(".npy"):
                archive.writestr(name, source.read(name))
        archive.writestr(member, payload)
    path = tmp_path / "data.npz"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(InputError, match="corrupt|not a NumPy array"):
        read_npz(path)


def test_a_bare_npy_with_a_pickled_object_array_is_refused(tmp_path, marker):
    path = tmp_path / "data.npz"
    X = np.empty(1, dtype=object)
    X[0] = _Payload(marker)
    with open(path, "wb") as handle:
        np.save(handle, X, allow_pickle=True)
    with pytest.raises(InputError):
        read_npz(path)


def test_a_parquet_python_extension_type_is_not_unpickled(tmp_path, payload):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    field = pa.field(
        "a",
        pa.binary(),
        metadata={
            b"ARROW:extension:name": b"arrow.py_extension_type",
            b"ARROW:extension:metadata": payload,
        },
    )
    table = pa.Table.from_arrays([pa.array([b"x", b"y"])], schema=pa.schema([field]))
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, store_schema=True)
    assert read_table(path)["a"].tolist() == ["x", "y"]  # plain bytes (as text), never unpickled


# ---------------------------------------------------------------- tensor names
_HOSTILE_NAMES = [
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\windows\\system32",
    "layers.0.weight\x00",
    "layers.0.weight\x00../../x",
    "layers.0.weight\n",
    "layers.0.weig\u04bbt",  # Cyrillic look-alike
    "layers.\u0660.weight",  # Arabic-Indic digit zero
    "layers.0.weight\u200b",  # zero-width space
    "ＬＡＹＥＲＳ.0.weight",
    "layers.0.weight" + "\u0301" * 50,
    "x" * 100_000,
    "",
]


@pytest.mark.parametrize("name", _HOSTILE_NAMES, ids=range(len(_HOSTILE_NAMES)))
@pytest.mark.parametrize("how", ["added", "renamed"])
def test_hostile_tensor_names_are_refused_and_touch_nothing(tmp_path, model_path, name, how):
    header, _, data = _parts(model_path)
    if how == "added":
        header[name] = {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}
    else:
        header[name] = header.pop("layers.0.weight")
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw(json.dumps(header, ensure_ascii=False).encode(), data))
    before = sorted(os.listdir(tmp_path))
    cwd_before = sorted(os.listdir("."))
    _refused(path)
    assert sorted(os.listdir(tmp_path)) == before and sorted(os.listdir(".")) == cwd_before


@pytest.mark.parametrize("name", ["../../etc/passwd", "a\x00b", "x" * 10_000, "é/../ü"])
def test_path_like_extra_names_are_only_dictionary_keys(tmp_path, model_path, name):
    """Under the extra. prefix any name is allowed: it is a key, never a path."""
    tensors, metadata = read_safetensors(model_path)
    tensors[f"extra.{name}"] = np.arange(3, dtype=np.float32)
    path = tmp_path / "m.safetensors"
    write_safetensors(path, tensors, metadata)
    before = sorted(os.listdir(tmp_path))
    loaded = load_model(path)
    assert list(loaded.extra_tensors) == [name]
    assert sorted(os.listdir(tmp_path)) == before


def test_a_lone_surrogate_name_cannot_be_written(tmp_path):
    with pytest.raises(InputError, match="unpaired surrogate"):
        write_safetensors(tmp_path / "t.safetensors", {"w\ud800": np.zeros(1)})
    with pytest.raises(InputError, match="unpaired surrogate"):
        save_model(dr.Network([1, 1]), tmp_path / "m.safetensors", classes=["\udcff"])
    assert not list(tmp_path.iterdir())


# ---------------------------------------------------------------- JSON structure
def test_duplicate_keys_in_the_safetensors_header(tmp_path, model_path):
    header, _, data = _parts(model_path)
    text = json.dumps(header)
    entry = json.dumps(header["layers.0.weight"])
    duplicated = text[:-1] + f', "layers.0.weight": {entry}}}'
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw(duplicated, data))
    assert "repeats the key 'layers.0.weight'" in _refused(path)


def test_duplicate_keys_inside_a_tensor_entry(tmp_path, model_path):
    header, _, data = _parts(model_path)
    text = json.dumps(header).replace('"dtype": "F32"', '"dtype": "F32", "dtype": "F64"', 1)
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw(text, data))
    assert "repeats the key 'dtype'" in _refused(path)


@pytest.mark.parametrize(
    "replace",
    [
        ('"format": "deltarule.model"', '"format": "deltarule.model", "format": "evil"'),
        ('"layer_sizes": [2, 3, 1]', '"layer_sizes": [2, 3, 1], "layer_sizes": [2, 9, 1]'),
        ('"frozen": []', '"frozen": [], "frozen": ["layers.0.weight"]'),
    ],
)
def test_duplicate_keys_in_the_deltarule_header(tmp_path, model_path, replace):
    header, meta, data = _parts(model_path)
    text = json.dumps(meta)
    assert replace[0] in text
    header["__metadata__"]["deltarule"] = text.replace(*replace)
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw(header, data))
    assert "repeats the key" in _refused(path)


def test_many_keys_with_a_late_duplicate_are_refused_quickly(tmp_path):
    keys = ",".join(f'"k{i}":{{}}' for i in range(200_000))
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw("{" + keys + ',"k199999":{}}'))
    start = time.perf_counter()
    with pytest.raises(IncompatibleFormatError, match="repeats the key 'k199999'"):
        read_safetensors(path, max_tensors=300_000)  # (past the default limit on tensors)
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize(
    "header", ["[]", "[1, 2]", '"text"', "42", "null", "true", "{", "", "\xff\xfe"]
)
def test_a_header_that_is_not_a_json_object(tmp_path, header):
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw(header.encode("latin-1")))
    _refused(path)


@pytest.mark.parametrize("metadata", ["[]", "[1]", '"deltarule.model"', "null", "1e400"])
def test_a_deltarule_header_that_is_not_an_object(tmp_path, model_path, metadata):
    header, _, data = _parts(model_path)
    header["__metadata__"]["deltarule"] = metadata
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw(header, data))
    _refused(path)


@pytest.mark.parametrize("depth", [1_000, 100_000])
@pytest.mark.parametrize("where", ["header", "metadata"])
def test_deeply_nested_json(tmp_path, model_path, depth, where):
    header, _, data = _parts(model_path)
    nested = "[" * depth + "]" * depth
    if where == "metadata":
        header["__metadata__"]["deltarule"] = nested
        content = _raw(header, data)
    else:
        content = _raw('{"w": ' + nested + "}")
    path = tmp_path / "m.safetensors"
    path.write_bytes(content)
    _refused(path)


def test_a_huge_header_is_refused_by_the_limit(tmp_path):
    from deltarule.io.safetensors import DEFAULT_MAX_HEADER_BYTES

    path = tmp_path / "m.safetensors"
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", DEFAULT_MAX_HEADER_BYTES + 8))
        handle.truncate(8 + DEFAULT_MAX_HEADER_BYTES + 8)  # sparse: no disk used
    assert "more than the limit" in _refused(path)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("where", ["shape", "offsets", "metadata", "training", "architecture"])
def test_nan_and_infinity_in_the_header(tmp_path, model_path, constant, where):
    header, meta, data = _parts(model_path)
    if where == "shape":
        text = json.dumps(header).replace('"shape": [3, 2]', f'"shape": [3, {constant}]', 1)
    elif where == "offsets":
        text = json.dumps(header).replace('"data_offsets": [0,', f'"data_offsets": [{constant},')
    else:
        if where == "metadata":
            header["__metadata__"]["note"] = "x"
            text = json.dumps(header).replace('"note": "x"', f'"note": {constant}')
        else:
            marker = '"__NAN__"'
            if where == "training":
                meta["training"] = {"loss": "__NAN__"}
            else:
                meta["architecture"]["dropout"] = ["__NAN__"]
            header["__metadata__"]["deltarule"] = json.dumps(meta).replace(marker, constant)
            text = json.dumps(header)
    assert constant in text
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw(text, data))
    _refused(path)


# ---------------------------------------------------------------- giant sizes
_PB = 10**15


@pytest.mark.parametrize(
    ("header", "data"),
    [
        ({"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 16]}}, 16),
        ({"w": {"dtype": "F64", "shape": [2**62, 2**62], "data_offsets": [0, 8]}}, 8),
        ({"w": {"dtype": "F64", "shape": [2**31] * 4, "data_offsets": [0, 8]}}, 8),
        ({"w": {"dtype": "U8", "shape": [_PB], "data_offsets": [0, _PB]}}, 64),
        ({"w": {"dtype": "U8", "shape": [64], "data_offsets": [0, _PB]}}, 64),
        ({"w": {"dtype": "U8", "shape": [64], "data_offsets": [_PB, _PB + 64]}}, 64),
        ({"w": {"dtype": "U8", "shape": [2**64], "data_offsets": [0, 2**64]}}, 64),
        ({"w": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 1]}}, 1),
        ({"w": {"dtype": "U8", "shape": [1], "data_offsets": [-1, 0]}}, 1),
        ({"w": {"dtype": "U8", "shape": [1.5], "data_offsets": [0, 1]}}, 1),
        ({"w": {"dtype": "U8", "shape": [True], "data_offsets": [0, 1]}}, 1),
        ({"w": {"dtype": "F32", "shape": [1] * 1000, "data_offsets": [0, 4]}}, 4),
    ],
)
def test_giant_or_impossible_tensor_declarations(tmp_path, header, data):
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw(header, b"\0" * data))
    _refused(path)


@pytest.mark.parametrize("length", [_PB, 2**63, 2**64 - 1, 2**40])
def test_giant_declared_header_length(tmp_path, length):
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw("{}", b" " * 1000, length=length))
    assert f"declares {length:,} bytes" in _refused(path)


def test_many_tensors_cost_memory_in_proportion_to_the_file(tmp_path):
    """20,000 zero-size tensors: the loader's memory follows the file's size, not more."""
    header = {f"t{i}": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]} for i in range(20_000)}
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw(header))
    peak, error = peak_bytes(lambda: load_model(path), collect=True)
    assert isinstance(error, IncompatibleFormatError)
    assert peak < 40 * path.stat().st_size


@pytest.mark.parametrize("shape", ["entries", "nested"])
def test_a_header_of_many_objects_is_refused_while_it_is_parsed(tmp_path, shape):
    """200,000 empty tensors (or empty JSON objects): parsing them all took ~14x the file in
    memory (1.3 GB for a 91 MB file); the parse now stops past the limit on tensors."""
    entry = '{"dtype":"U8","shape":[0],"data_offsets":[0,0]}'
    if shape == "entries":
        text = "{" + ",".join(f'"extra.t{i}":{entry}' for i in range(200_000)) + "}"
    else:
        text = '{"t":[' + ",".join(["{}"] * 1_500_000) + "]}"
    path = tmp_path / "m.safetensors"
    path.write_bytes(_raw(text))
    for reader in (load_model, model_header):
        peak, error = peak_bytes(lambda: reader(path), collect=True)  # noqa: B023
        assert isinstance(error, IncompatibleFormatError), error
        assert "more than 10,000 tensors" in str(error)
        assert peak < 3 * path.stat().st_size, f"{peak:,} bytes for a {path.stat().st_size:,}"


def test_model_header_reader_refuses_the_same_files(tmp_path, payload):
    path = tmp_path / "m.safetensors"
    path.write_bytes(payload)
    with pytest.raises(IncompatibleFormatError, match="pickle"):
        model_header(path)
