"""The meaning of a model file's header: fields that mean nothing are refused, by name.

Every file here has a valid checksum (the header is edited, then the checksum written
again), so only the header's own checks stand between it and a loaded model; and
every command reads the header the same way (``model_header`` and ``load_model`` agree).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import deltarule as dr
from deltarule.exceptions import IncompatibleFormatError
from deltarule.io import load_model, model_header, save_model
from deltarule.io.model_file import METADATA_KEY
from deltarule.io.safetensors import read_safetensors, write_safetensors

FIXTURES = Path(__file__).parent / "fixtures"


def _saved(tmp_path, sizes=(3, 4, 2), classes=None, **kwargs) -> Path:
    net = dr.Network(list(sizes), activation="tanh", seed=0, **kwargs)
    return save_model(net, tmp_path / "m.safetensors", classes=classes)


def _edited(path: Path, edit) -> Path:
    tensors, metadata = read_safetensors(path)
    header = json.loads(metadata[METADATA_KEY])
    edit(header)
    write_safetensors(path, tensors, {METADATA_KEY: json.dumps(header)}, checksum=True)
    return path


def _refused(path: Path, fragment: str) -> None:
    for reader in (model_header, load_model):
        with pytest.raises(IncompatibleFormatError) as info:
            reader(path)
        assert fragment in str(info.value), str(info.value)


def _architecture(**fields):
    return lambda header: header["architecture"].update(fields)


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (_architecture(evil="x"), "unknown field(s) ['evil']"),
        (_architecture(initializer={"name": "__import__"}), "unknown field(s) ['initializer']"),
        (lambda h: h["architecture"].pop("activations"), "activations None; expected 2"),
        (_architecture(activations=["tanh"]), "expected 2 activation names, one per layer"),
        (_architecture(activations=[{"name": "relu"}, 5]), "activations [{'name': 'relu'}, 5]"),
        (_architecture(dropout="abc"), "dropout 'abc'; expected a list of numbers"),
        (_architecture(dropout=[True]), "dropout [True]"),
        (_architecture(loss=5), "loss 5; expected a loss's name"),
        (_architecture(loss={"delta": 1.0}), "loss {'delta': 1.0}"),
        (_architecture(dtype=None), "dtype None; expected 'float32' or 'float64'"),
        (_architecture(layer_sizes=[3, -4, 2]), "layer_sizes [3, -4, 2]"),
        (lambda h: h.update(created=5), "field 'created' is 5; expected text"),
        (lambda h: h.update(created="yesterday"), "'created' is 'yesterday'; expected an ISO"),
        (lambda h: h.update(library_version={"a": 1}), "field 'library_version' is {'a': 1}"),
        (lambda h: h.update(classes=list(range(1000))), "lists 1,000 class(es) but the network"),
        (lambda h: h.update(classes=["a"]), "lists 1 class(es) but the network has 2 output(s)"),
        (lambda h: h.update(classes=[{"a": 1}, [2]]), "classes hold {'a': 1}; expected class"),
        (lambda h: h.update(classes=[None, "b"]), "classes hold None"),
        (lambda h: h.update(classes=["a", "a"]), "repeat a label"),
    ],
)
def test_a_header_field_without_meaning_is_refused_by_name(tmp_path, edit, fragment):
    _refused(_edited(_saved(tmp_path), edit), fragment)


@pytest.mark.parametrize(
    ("sizes", "classes"),
    [
        ((3, 4, 2), ["no", "yes"]),
        ((3, 4, 3), [0, 1, 2]),
        ((3, 4, 1), ["no", "yes"]),  # one sigmoid output, two classes
        ((3, 4, 1), [0.0]),  # one class only (scikit-learn fits that)
        ((3, 4, 1), [False, True]),
        ((3, 4, 2), []),  # as save_model takes it: no labels
        ((3, 4, 2), [10**400, 1]),  # a whole number past float's range (float() overflowed)
        ((3, 4, 2), None),
    ],
)
def test_classes_that_fit_the_outputs_load(tmp_path, sizes, classes):
    assert load_model(_saved(tmp_path, sizes, classes)).classes == classes


def test_every_architecture_field_network_config_writes_loads(tmp_path):
    net = dr.Network([3, 4, 4, 2], activation=["relu", "tanh"], output_activation="softmax",
                     loss=dr.losses.huber(0.5), dropout=[0.1, 0.2], use_bias=[True, False, True],
                     dtype="float64", seed=0)  # fmt: skip
    loaded = load_model(save_model(net, tmp_path / "m.safetensors")).network
    assert loaded.config() == net.config()
    np.testing.assert_array_equal(loaded.parameters, net.parameters)


def test_a_file_without_dropout_in_its_architecture_loads(tmp_path):
    path = _edited(_saved(tmp_path), lambda h: h["architecture"].pop("dropout"))
    assert load_model(path).network.config()["dropout"] == [0.0]


def test_the_version_1_fixture_passes_the_header_checks():
    header = model_header(FIXTURES / "model_v1.safetensors")
    assert header["classes"] == ["no", "yes"] and isinstance(header["created"], str)


@pytest.mark.parametrize(
    "number", ["1e400", "-2.5E+308", "1" * 320 + ".0", "1" + "0" * 300 + ".0e10"]
)
def test_a_json_number_that_overflows_a_float_is_refused(tmp_path, number):
    # json.loads reads 1e400 as inf, which no JSON holds: a label inf, a mean inf
    path = _saved(tmp_path, classes=[7.5, 1])
    tensors, metadata = read_safetensors(path)
    text = metadata[METADATA_KEY].replace("7.5", number, 1)
    write_safetensors(path, tensors, {METADATA_KEY: text}, checksum=True)
    _refused(path, f"holds the number {number[:40]}, which overflows a float to infinity")
