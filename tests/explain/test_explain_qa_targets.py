"""``explain --target`` for a softmax + categorical cross-entropy model, in the command
line's terms (QA: a student's --target 2,0,0 got "y[0, 0] = 2 ... np.eye(...)", and
--target 0,0,0 was walked with an error and every gradient 0)."""

from __future__ import annotations

import pytest

import deltarule as dr
from deltarule.cli import main
from deltarule.io import save_model


@pytest.fixture
def softmax_model(tmp_path):
    path = tmp_path / "m.safetensors"
    net = dr.Network([4, 3, 3], activation="tanh", output_activation="softmax", seed=0)
    save_model(net, path)
    return str(path)


@pytest.mark.parametrize(
    "target, says",
    [("2,0,0", "outside what the model's categorical_crossentropy loss takes"),
     ("0,0,0", "sums to 0"), ("0.5,0.2,0.2", "sums to 0.9")],
)  # fmt: skip
def test_a_target_that_is_no_class_distribution_is_refused_in_cli_terms(
    softmax_model, capsys, target, says
):
    code = main(["explain", "--model", softmax_model, "--input", "0.1,0.2,0.3,0.4",
                 "--target", target])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith(f"error: --target {target}")
    assert says in err[0] and "one-hot 0,1,0" in err[0]
    for python in ("y[", "np.eye", "output_activation", "impute"):
        assert python not in err[0]


def test_a_one_hot_or_probability_target_is_walked(softmax_model, capsys):
    for target in ("0,1,0", "0.2,0.3,0.5"):
        code = main(["explain", "--model", softmax_model, "--input", "0.1,0.2,0.3,0.4",
                     "--target", target])  # fmt: skip
        assert code == 0, capsys.readouterr().err
        assert "E_total" in capsys.readouterr().out
