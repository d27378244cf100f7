"""``inspect`` and ``draw`` read a model file whose custom parts this session lacks."""

from __future__ import annotations

import json

import numpy as np
import pytest

import deltarule as dr
from deltarule.activations import ACTIVATIONS
from deltarule.io import save_model
from deltarule.losses import LOSSES

from .cli_helpers import cli


def _quartic(delta: float = 1.0) -> dr.Loss:
    return dr.Loss("quartic_qa", lambda o, t: (delta * (o - t) ** 4).sum(axis=1),
                   lambda o, t: 4 * delta * (o - t) ** 3, parameters={"delta": delta},
                   factory=_quartic)  # fmt: skip


@pytest.fixture
def custom_file(in_tmp):
    """A model saved with a custom activation and a parameterised custom loss, whose
    registrations are then removed (as in a session that did not register them)."""
    act = dr.Activation("cube_qa", lambda z: z**3, lambda z, a: 3 * z**2)
    dr.register_activation(act)
    dr.register_loss(_quartic())
    try:
        net = dr.Network([3, 4, 2], activation="cube_qa", loss=_quartic(0.5), seed=0)
        save_model(net, "custom.safetensors")
    finally:
        ACTIVATIONS.pop("cube_qa")
        LOSSES.pop("quartic_qa")
    return net


def test_inspect_shows_custom_parts_by_name(capsys, custom_file):
    code, out, err = cli(capsys, "inspect", "custom.safetensors")
    assert code == 0
    assert "cube_qa" in out and "quartic_qa (delta 0.5)" in out
    assert "total parameters: 26" in out
    assert "custom and not registered" in err and "'cube_qa'" in err and "'quartic_qa'" in err
    # the stand-ins are gone after the command: loading still refuses the file
    assert "cube_qa" not in ACTIVATIONS and "quartic_qa" not in LOSSES
    code, _, err = cli(capsys, "predict", "custom.safetensors", "custom.safetensors")
    assert code == 2 and "not registered" in err


def test_inspect_json_lists_custom_parts(capsys, custom_file):
    code, out, _ = cli(capsys, "inspect", "custom.safetensors", "--format", "json", "--quiet")
    info = json.loads(out)
    assert code == 0
    assert info["custom_parts"] == [
        {"kind": "activation", "name": "cube_qa"}, {"kind": "loss", "name": "quartic_qa"}
    ]  # fmt: skip
    assert [layer["activation"] for layer in info["layers"]] == ["cube_qa", "identity"]
    assert info["loss_parameters"] == {"delta": 0.5}


def test_registered_file_has_no_custom_parts(capsys, in_tmp):
    save_model(dr.Network([2, 3, 1], seed=0), "plain.safetensors")
    code, out, err = cli(capsys, "inspect", "plain.safetensors", "--format", "json")
    assert code == 0 and json.loads(out)["custom_parts"] == [] and "custom" not in err


def test_draw_draws_weights_of_custom_file(capsys, custom_file):
    code, _, err = cli(capsys, "draw", "custom.safetensors", "--out", "net.svg")
    assert code == 0 and "custom and not registered" in err
    svg = open("net.svg", encoding="utf-8").read()
    assert svg.startswith("<svg") or "<svg" in svg[:200]
    assert "cube_qa" not in ACTIVATIONS


def test_stand_in_refuses_to_compute(custom_file):
    from deltarule.cli._stand_ins import stand_ins
    from deltarule.exceptions import IncompatibleFormatError
    from deltarule.io import load_model
    from deltarule.io.model_file import model_header

    with stand_ins(model_header("custom.safetensors")["architecture"]) as parts:
        net = load_model("custom.safetensors").network
    assert parts == [("activation", "cube_qa"), ("loss", "quartic_qa")]
    np.testing.assert_array_equal(net.parameters, custom_file.parameters)
    with pytest.raises(IncompatibleFormatError, match="custom one .*register_activation"):
        net.predict(np.zeros((1, 3), np.float32))
