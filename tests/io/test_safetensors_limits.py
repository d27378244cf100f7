"""The safetensors reader's limits: header size and number of tensors, with room for ours."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import deltarule as dr
from deltarule.exceptions import IncompatibleFormatError, InputError
from deltarule.io import load_model, model_header, save_model
from deltarule.io.safetensors import (
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_TENSORS,
    read_safetensors,
    read_safetensors_header,
    write_safetensors,
)

READERS = [read_safetensors, read_safetensors_header]


def _empty_tensors(n: int) -> dict[str, np.ndarray]:
    return {f"t{i}": np.zeros(0, np.float32) for i in range(n)}


def test_the_default_limits():
    assert DEFAULT_MAX_HEADER_BYTES == 100_000_000  # the safetensors package's
    assert DEFAULT_MAX_TENSORS == 10_000


@pytest.mark.parametrize("reader", READERS)
def test_a_header_over_the_limit_is_refused_unless_allowed(tmp_path, reader):
    path = tmp_path / "big.safetensors"
    write_safetensors(path, {"w": np.zeros(2)}, {"note": "x" * (2 * 2**20)})
    with pytest.raises(IncompatibleFormatError) as info:
        reader(path, max_header_bytes=2**20)
    message = str(info.value)
    assert "more than the limit of 1,048,576" in message
    assert "larger max_header_bytes" in message
    assert reader(path, max_header_bytes=4 * 2**20)[1]["note"] == "x" * (2 * 2**20)
    assert reader(path)[1]["note"] == "x" * (2 * 2**20)  # within the default


@pytest.mark.parametrize("reader", READERS)
def test_more_tensors_than_the_limit_are_refused_unless_allowed(tmp_path, reader):
    path = tmp_path / "many.safetensors"
    write_safetensors(path, _empty_tensors(10_001), {"a": "b"}, max_tensors=10_001)
    with pytest.raises(IncompatibleFormatError, match="lists more than 10,000 tensors"):
        reader(path)
    assert len(reader(path, max_tensors=10_001)[0]) == 10_001
    write_safetensors(path, _empty_tensors(10_000), {"a": "b"})
    assert len(reader(path)[0]) == 10_000  # (the limit itself is allowed)


def test_a_header_of_non_object_entries_counts_them_too(tmp_path):
    header = {f"t{i}": 5 for i in range(10_001)}
    text = json.dumps(header).encode()
    path = tmp_path / "m.safetensors"
    path.write_bytes(struct.pack("<Q", len(text)) + text)
    with pytest.raises(IncompatibleFormatError, match="more than 10,000 tensors"):
        read_safetensors(path)


@pytest.mark.parametrize("limits", [{"max_tensors": -1}, {"max_header_bytes": "1e6"}])
def test_the_limits_must_be_counts(tmp_path, limits):
    path = tmp_path / "t.safetensors"
    write_safetensors(path, {"w": np.zeros(2)})
    with pytest.raises(InputError, match=f"{next(iter(limits))} must be an integer >= 0"):
        read_safetensors(path, **limits)


def test_a_model_file_with_a_long_training_history_fits_the_defaults(tmp_path):
    """A checkpoint's history costs some 260 bytes an epoch: 200,000 epochs (a tiny network
    trained as FANN's users do) load as they are."""
    record = {"epoch": 1, "loss": 0.123456789012, "val_loss": 0.123456789012,
              "learning_rate": 0.001, "gradient_norm": 0.0123456789, "seconds": 0.00123456,
              "metrics": {"accuracy": 0.97123, "val_accuracy": 0.96123}, "stop": None}  # fmt: skip
    history = [{**record, "epoch": i} for i in range(200_000)]
    net = dr.Network([2, 3, 1], seed=0)
    path = save_model(net, tmp_path / "long.safetensors", training={"history": history})
    assert 40 * 2**20 < int.from_bytes(path.read_bytes()[:8], "little") < DEFAULT_MAX_HEADER_BYTES
    assert len(load_model(path).training["history"]) == 200_000


def test_model_files_pass_the_limits_on(tmp_path):
    net = dr.Network([2, 3, 1], seed=0)
    extra = {f"x{i}": np.zeros(0) for i in range(DEFAULT_MAX_TENSORS - 4)}  # (4: the net's)
    path = save_model(net, tmp_path / "m.safetensors", extra_tensors=extra)
    for reader in (load_model, model_header):
        with pytest.raises(IncompatibleFormatError, match="more than 9,999 tensors"):
            reader(path, max_tensors=DEFAULT_MAX_TENSORS - 1)
        assert reader(path)
    extra["one_more"] = np.zeros(0)  # (save_model writes no file its reader refuses)
    with pytest.raises(InputError, match="10,001 tensors cannot be saved"):
        save_model(net, tmp_path / "m.safetensors", extra_tensors=extra)
    with pytest.raises(IncompatibleFormatError, match="more than the limit of 100 "):
        load_model(path, max_header_bytes=100, max_tensors=20_000)
