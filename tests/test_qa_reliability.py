"""The reliability QA report's Python API findings: save_model refuses what load_model would
refuse (before writing anything), and paths and records that are not usable are
InputErrors, not raw TypeErrors, ValueErrors or RecursionErrors."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import deltarule as dr
from deltarule.exceptions import IncompatibleFormatError, InputError
from deltarule.io import load_model, save_model
from deltarule.io.atomic import atomic_write_bytes
from deltarule.io.checkpoint import Checkpoint, load_checkpoint


@pytest.fixture
def net() -> dr.Network:
    return dr.Network([2, 3, 2], output_activation="softmax", loss="categorical_crossentropy")


@pytest.mark.parametrize(
    ("classes", "says"),
    [
        (["a", "a"], "repeat a label"),
        (["a", "b", "c"], "lists 3 class(es) but the network has 2 output(s)"),
        ([None, "b"], "hold None"),
        ([float("nan"), "b"], "hold None"),
        ([["a"], ["b"]], "hold ['a']"),
        ([1, 1.0], "repeat a label"),  # (one label to a table's cells)
        ([True, 1], "repeat a label"),
    ],
)
def test_save_model_refuses_classes_load_model_would_refuse(tmp_path, net, classes, says):
    path = tmp_path / "m.safetensors"
    save_model(net, path, classes=["x", "y"])
    before = path.read_bytes()
    with pytest.raises(InputError, match="cannot be saved as given") as caught:
        save_model(net, path, classes=classes)
    assert says in str(caught.value)
    assert path.read_bytes() == before  # (the good file is left as it was)
    assert load_model(path).classes == ["x", "y"]


@pytest.mark.parametrize(
    ("path", "says"),
    [
        (b"x.safetensors", "is bytes"),
        (None, "is NoneType None"),
        (3, "is int 3"),
        ("a\0b.safetensors", "holds a NUL byte"),
    ],
)
def test_unusable_paths_are_input_errors(tmp_path, net, path, says):
    with pytest.raises(InputError, match=says):
        save_model(net, path)
    with pytest.raises(InputError, match=says):
        load_model(path)
    with pytest.raises(InputError, match=says):
        Checkpoint(path)


def _nested(depth: int) -> list:
    top = inner = []
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return top


def test_records_that_hold_themselves_or_nest_too_deep_are_input_errors(tmp_path, net):
    cycle: dict = {}
    cycle["self"] = cycle
    with pytest.raises(InputError, match="holds itself"):
        save_model(net, tmp_path / "m.safetensors", training=cycle)
    with pytest.raises(InputError, match="nested more than 100 levels"):
        save_model(net, tmp_path / "m.safetensors", training={"deep": _nested(600)})
    save_model(net, tmp_path / "m.safetensors", training={"deep": _nested(50)})
    assert load_model(tmp_path / "m.safetensors").training["deep"]


def test_a_number_too_long_for_json_is_an_input_error(tmp_path, net):
    with pytest.raises(InputError, match="whole number of about"):
        save_model(net, tmp_path / "m.safetensors", training={"n": 10**5000})


def test_a_header_number_too_long_gives_no_python_advice(tmp_path, net):
    from deltarule.io.safetensors import loads_strict, make_fail

    with pytest.raises(IncompatibleFormatError) as caught:
        loads_strict('{"n": ' + "1" * 5000 + "}", make_fail("m.safetensors", "model file"))
    assert "more than 4,300 digits" in str(caught.value)
    assert "sys.set_int_max_str_digits" not in str(caught.value)


def test_a_checkpoint_under_a_file_fails_when_made(tmp_path):
    data = tmp_path / "iris.csv"
    data.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="is a file, not a folder"):
        Checkpoint(data / "ck")
    Checkpoint(tmp_path / "new" / "ck")  # (missing folders are made at the first save)


def test_a_damaged_checkpoint_says_to_start_the_run_again(tmp_path):
    net = dr.Network([2, 2, 1], seed=0)
    X = np.random.default_rng(0).normal(size=(8, 2))
    trainer = dr.Trainer(net, "adam", seed=0)
    trainer.fit(X, X[:, :1], epochs=1, verbose=0, callbacks=[Checkpoint(tmp_path)],
                warn_convergence=False)  # fmt: skip
    path = tmp_path / "checkpoint.safetensors"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF  # (a flipped bit in a weight: the checksum fails)
    path.write_bytes(bytes(raw))
    with pytest.raises(IncompatibleFormatError) as caught:
        load_checkpoint(tmp_path)
    text = str(caught.value)
    assert "is damaged" in text and "start the run again" in text
    assert "backup copy" not in text


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="chown needs root")
def test_a_replaced_file_keeps_its_owner_and_group(tmp_path):
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    os.chown(target, 65534, 65534)
    os.chmod(target, 0o600)
    atomic_write_bytes(target, b"new")
    status = os.stat(target)
    assert (status.st_uid, status.st_gid, status.st_mode & 0o777) == (65534, 65534, 0o600)
    assert target.read_bytes() == b"new"


@pytest.mark.skipif(sys.platform != "linux", reason="file names of any bytes: Linux")
def test_escape_surrogates_gives_text_with_a_utf8_form():
    from deltarule._naming import escape_surrogates

    name = os.fsdecode(b"bad\xffname.csv")
    assert escape_surrogates(name) == "bad\\xffname.csv"
    assert escape_surrogates("plain é.csv") == "plain é.csv"
    escape_surrogates("lone \ud800 high").encode("utf-8")


def test_a_header_whose_format_version_is_not_an_integer_is_refused(tmp_path, net):
    # (QA: format_version 1.0 was accepted though the message says "an integer")
    import json

    from deltarule.io import model_file
    from deltarule.io.safetensors import read_safetensors, write_safetensors

    path = tmp_path / "m.safetensors"
    save_model(net, path)
    tensors, metadata = read_safetensors(path)
    header = json.loads(metadata[model_file.METADATA_KEY])
    header["format_version"] = 1.0
    metadata = {**metadata, model_file.METADATA_KEY: json.dumps(header)}
    metadata.pop("deltarule.sha256", None)
    write_safetensors(tmp_path / "v.safetensors", tensors, metadata, checksum=True)
    with pytest.raises(IncompatibleFormatError, match="format_version is 1.0; expected an int"):
        load_model(tmp_path / "v.safetensors")
