"""Fuzzing the model loader: every file loads or fails with a documented error, in bounded memory.

Random bytes, every truncation, byte mutations, hostile header JSON (wrong types, shapes,
dtypes, offsets), tensors that do not fit the architecture, and headers or tensors that
declare sizes far beyond the file. A file that loads gives a usable network with finite
weights.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hardening_support import assert_clean_error, fuzz, peak_bytes, time_limit
from hypothesis import given
from hypothesis import strategies as st

import deltarule as dr
from deltarule.exceptions import IncompatibleFormatError, InputError
from deltarule.io import load_model, model_header, save_model
from deltarule.io.safetensors import read_safetensors, write_safetensors

MAX_PEAK = 16 * 2**20


def _model_bytes(tmp_path_factory) -> bytes:
    net = dr.Network([3, 4, 2], activation="tanh", seed=0)
    net.freeze("b1")
    path = tmp_path_factory.mktemp("good") / "model.safetensors"
    save_model(
        net,
        path,
        classes=["a", "b"],
        training={"epochs": 3, "loss": [0.5, 0.25]},
        extra_tensors={"optimizer.m": np.zeros(26, np.float32)},
    )
    return path.read_bytes()


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory) -> bytes:
    return _model_bytes(tmp_path_factory)


def _split(content: bytes) -> tuple[dict, bytes]:
    n = int.from_bytes(content[:8], "little")
    return json.loads(content[8 : 8 + n]), content[8 + n :]


def _join(header: dict | list | str, data: bytes, length: int | None = None) -> bytes:
    raw = (header if isinstance(header, str) else json.dumps(header)).encode("utf-8", "replace")
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def _load_checked(path):
    """load_model must give a usable model or a documented error, in bounded memory and time."""
    result = {}

    def call():
        with time_limit(10):
            result["model"] = load_model(path)

    peak, error = peak_bytes(call)
    size = path.stat().st_size
    assert peak < MAX_PEAK + 4 * size, f"a {size}-byte file allocated {peak:,} bytes"
    if error is not None:
        assert_clean_error(error, IncompatibleFormatError, InputError)
        return None
    network = result["model"].network
    assert np.isfinite(network.parameters).all()
    output = network.predict(np.zeros((2, network.n_inputs)))
    assert output.shape == (2, network.n_outputs)
    return result["model"]


def test_the_unmodified_file_loads(tmp_path, good_bytes):
    path = tmp_path / "m.safetensors"
    path.write_bytes(good_bytes)
    model = _load_checked(path)
    assert model is not None and model.classes == ["a", "b"]


def test_every_truncation_is_refused(tmp_path, good_bytes):
    path = tmp_path / "m.safetensors"
    for cut in range(len(good_bytes)):
        path.write_bytes(good_bytes[:cut])
        peak, error = peak_bytes(lambda: load_model(path))
        assert_clean_error(error, IncompatibleFormatError)
        assert peak < MAX_PEAK


@fuzz(150)
@given(data=st.binary(max_size=400))
def test_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("rand") / "m.safetensors"
    path.write_bytes(data)
    assert _load_checked(path) is None


@fuzz(200)
@given(
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6),
    tail=st.binary(max_size=16),
)
def test_mutated_files(tmp_path_factory, good_bytes, edits, tail):
    data = bytearray(good_bytes)
    for position, value in edits:
        data[position % len(data)] = value
    path = tmp_path_factory.mktemp("mut") / "m.safetensors"
    path.write_bytes(bytes(data) + tail)
    _load_checked(path)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["F32", "F64", "I64", "BOOL", "float32", "relu", "", "layers.0.weight"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=10,
)
_entry_field = st.sampled_from(["dtype", "shape", "data_offsets", "extra"])


@fuzz(200)
@given(
    tensor=st.sampled_from(["layers.0.weight", "layers.0.bias", "layers.1.weight", "new"]),
    field=_entry_field,
    value=_json,
    drop=st.booleans(),
)
def test_hostile_tensor_entries(tmp_path_factory, good_bytes, tensor, field, value, drop):
    header, data = _split(good_bytes)
    entry = header.setdefault(tensor, {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]})
    if drop and field in entry:
        del entry[field]
    else:
        entry[field] = value
    path = tmp_path_factory.mktemp("entry") / "m.safetensors"
    path.write_bytes(_join(header, data))
    _load_checked(path)


_header_fields = st.sampled_from(
    [
        "format",
        "format_version",
        "library_version",
        "architecture",
        "frozen",
        "preprocessing",
        "classes",
        "training",
        "created",
    ]
)
_arch_fields = st.sampled_from(
    ["layer_sizes", "activations", "use_bias", "dropout", "loss", "dtype", "unknown"]
)


@fuzz(250)
@given(
    top=st.dictionaries(_header_fields, _json, max_size=2),
    architecture=st.dictionaries(_arch_fields, _json, max_size=3),
    drop=st.lists(_header_fields | _arch_fields, max_size=2),
)
def test_hostile_deltarule_header(tmp_path_factory, good_bytes, top, architecture, drop):
    header, data = _split(good_bytes)
    meta = json.loads(header["__metadata__"]["deltarule"])
    meta.update(top)
    if isinstance(meta.get("architecture"), dict):
        meta["architecture"].update(architecture)
        for key in drop:
            meta["architecture"].pop(key, None)
    for key in drop:
        meta.pop(key, None)
    header["__metadata__"]["deltarule"] = json.dumps(meta)
    path = tmp_path_factory.mktemp("meta") / "m.safetensors"
    path.write_bytes(_join(header, data))
    model = _load_checked(path)
    try:  # the header-only reader agrees: a clean error, and a loadable file has a good header
        assert isinstance(model_header(path), dict)
    except IncompatibleFormatError as exc:
        assert model is None, exc


_float_dtypes = st.sampled_from(
    [np.float32, np.float64, np.float16, np.int32, np.int64, np.uint8, np.bool_]
)
_shapes = st.lists(st.integers(0, 5), max_size=3).map(tuple)


@fuzz(150)
@given(
    name=st.sampled_from(["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]),
    dtype=_float_dtypes,
    shape=_shapes,
    fill=st.sampled_from([0.0, 1.0, np.nan, np.inf, -np.inf, 1e300]),
    keep_others=st.booleans(),
)
def test_wrong_tensor_shapes_dtypes_and_values(
    tmp_path_factory, good_bytes, name, dtype, shape, fill, keep_others
):
    """A well-formed safetensors file whose tensors do not fit the architecture is refused."""
    source = tmp_path_factory.mktemp("src") / "m.safetensors"
    source.write_bytes(good_bytes)
    tensors, metadata = read_safetensors(source)
    if not keep_others:
        tensors = {name: tensors[name]}
    with np.errstate(over="ignore", invalid="ignore"):
        tensors[name] = np.full(shape, fill).astype(dtype)
    path = tmp_path_factory.mktemp("bad") / "m.safetensors"
    write_safetensors(path, tensors, metadata)
    model = _load_checked(path)
    if model is not None:  # only a tensor equal in shape, dtype and finiteness can load
        original = read_safetensors(source)[0][name]
        assert tensors[name].shape == original.shape and tensors[name].dtype == original.dtype


# ---------------------------------------------------------------- bounded memory
_PETABYTE = 10**15


@pytest.mark.parametrize(
    "content",
    [
        struct.pack("<Q", _PETABYTE) + b"{}" + b" " * 1014,
        struct.pack("<Q", 2**64 - 1) + b" " * 1016,
        _join(
            {"w": {"dtype": "F64", "shape": [_PETABYTE // 8], "data_offsets": [0, _PETABYTE]}},
            b"\0" * 900,
        ),
        _join({"w": {"dtype": "U8", "shape": [_PETABYTE], "data_offsets": [0, 900]}}, b"\0" * 900),
        _join(
            {"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 16]}}, b"\0" * 16
        ),
        _join({"w": {"dtype": "F64", "shape": [2**62, 2**62], "data_offsets": [0, 8]}}, b"\0" * 8),
        _join({"w": {"dtype": "F64", "shape": [0, 2**70], "data_offsets": [0, 0]}}, b""),
        _join({"w": {"dtype": "F32", "shape": [1] * 64, "data_offsets": [0, 4]}}, b"\0" * 4),
        _join({"__metadata__": {"deltarule": "x" * 900}}, b"", length=_PETABYTE),
    ],
    ids=[
        "header-length-1e15",
        "header-length-2**64-1",
        "tensor-offsets-1e15",
        "tensor-shape-1e15",
        "shape-2**40-squared",
        "shape-product-overflows-int64",
        "zero-dim-with-2**70",
        "64-dimensions",
        "metadata-header-1e15",
    ],
)
def test_giant_declared_sizes_allocate_almost_nothing(tmp_path, content):
    """A ~1 KB file claiming 10**15 bytes (or an overflowing shape) allocates < 1 MB."""
    path = tmp_path / "giant.safetensors"
    path.write_bytes(content)
    assert path.stat().st_size <= 1100
    peak, error = peak_bytes(lambda: load_model(path), collect=True)
    assert_clean_error(error, IncompatibleFormatError)
    assert peak < 2**20, f"{peak:,} bytes allocated"
