"""The instructor's QA pass of ``deltarule explain``: the float32 error of a fused pair,
every activation's formula with its numbers, softmax's δ with another loss, the summary's
option, a repeated --input, and LaTeX names. Numbers are checked against torch.autograd in
float64 (an independent oracle), never against explain's own output."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from equation_check import false_equations

import deltarule as dr
from deltarule.activations import Activation
from deltarule.cli import main
from deltarule.explain import explain_example
from deltarule.io import save_model


def _line(text: str, start: str) -> str:
    return next(line.strip() for line in text.splitlines() if line.strip().startswith(start))


def _checked(text: str) -> str:
    """``[x ≤ 0]`` as ``(1 − [x > 0])``, so that the equation checker reads it."""
    return re.sub(r"\[([^\[\]]*?) ≤ 0\]", r"(1 − [\1 > 0])", text)


def _value(line: str) -> float:
    return float(line.rsplit(" = ", 1)[1])


# ------------------------------------------------------------ 2: a float32 fused error
def test_a_float32_cross_entropy_near_0_is_computed_from_the_nets():
    # nets (10, 0, 0): the float32 network's ln Σe^net − net_o1 keeps ~3 digits of 9.0796e-05
    net = dr.Network([1, 3], output_activation="softmax", dtype="float32")
    net.set_parameters({"W1": [[10.0], [0.0], [0.0]], "b1": [0.0, 0.0, 0.0]})
    text = explain_example(net, [1.0], [1.0, 0.0, 0.0])
    line = _line(text, "E_total = ")
    assert "ln(Σ_j e^net_oj) − net_o1 = ln(e^10 + e^0 + e^0) − 10" in line
    z = torch.tensor([10.0, 0.0, 0.0], dtype=torch.float64)
    oracle = float(-F.log_softmax(z, 0)[0])
    assert _value(line) == pytest.approx(oracle, rel=1e-6)
    network = float(net.loss(net.forward(np.array([[1.0]], np.float32))[0],
                             np.array([[1.0, 0.0, 0.0]], np.float32)))  # fmt: skip
    assert abs(network - oracle) > 1e-6 * oracle  # (the value the old walk printed)
    assert "network's own float32 arithmetic gives" in text
    assert "would not give it to its precision" not in text
    assert false_equations(text, "float32") == []


def test_a_float32_sigmoid_cross_entropy_near_0_keeps_its_digits():
    # the network's max(z, 0) − z·t + log1p(e^−|z|) does not cancel: its value is shown
    net = dr.Network([1, 2], output_activation="sigmoid", dtype="float32")
    net.set_parameters({"W1": [[9.0], [-8.5]], "b1": [0.0, 0.0]})
    text = explain_example(net, [1.0], [1.0, 0.0])
    line = _line(text, "E_total = ")
    z = torch.tensor([9.0, -8.5], dtype=torch.float64)
    oracle = float(F.binary_cross_entropy_with_logits(z, torch.tensor([1.0, 0.0]).double()))
    assert _value(line) == pytest.approx(oracle, rel=1e-6)
    assert false_equations(text, "float32") == []


# ------------------------------------------------------------ 3, 4: activations
_TORCH = {
    "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "softplus": lambda z: F.softplus(z, threshold=1000),
    "silu": F.silu,
    "softsign": F.softsign,
    "hard_sigmoid": F.hardsigmoid,
    "exp": torch.exp,
}


def _network(name: str, dtype: str) -> dr.Network:
    net = dr.Network([2, 3, 2], activation=name, output_activation="identity", loss="mse",
                     dtype=dtype)  # fmt: skip
    net.set_parameters({"W1": [[1.0, 0.3], [-0.8, 0.2], [2.5, -4.0]], "b1": [0.1, -0.2, 0.05],
                        "W2": [[0.5, -0.4, 0.3], [0.2, 0.7, -0.1]], "b2": [0.0, 0.1]})  # fmt: skip
    return net


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(_TORCH))
def test_every_activation_shows_its_formula_and_derivative_with_numbers(name, dtype):
    net = _network(name, dtype)
    x = [0.6, -0.5]  # nets 0.55, -0.78, 3.55: both branches
    text = explain_example(net, x, [0.2, 0.1])
    z = torch.tensor(np.asarray(net.weights[0], np.float64) @ x + net.biases[0],
                     dtype=torch.float64, requires_grad=True)  # fmt: skip
    out = _TORCH[name](z)
    slopes = torch.autograd.grad(out.sum(), z)[0]
    if name == "hard_sigmoid":  # (torch's slope is its float32 1/6 in float64 too)
        slopes = ((z > -3) & (z < 3)).double() / 6
    rel = 1e-5 if dtype == "float32" else 1e-9  # (float32 gelu's 1 + erf cancels)
    for k in range(3):
        forward = _line(text, f"out_h{k + 1} = ")
        pieces = forward.split(" = ")
        assert len(pieces) >= 4, forward  # out = formula = numbers = value
        assert f"{name}(" not in forward
        assert _value(forward) == pytest.approx(float(out[k]), rel=rel, abs=1e-9)
        derivative = _line(text, f"∂out_h{k + 1}/∂net_h{k + 1} = ")
        assert len(derivative.split(" = ")) >= 4, derivative
        assert _value(derivative) == pytest.approx(float(slopes[k]), rel=rel, abs=1e-9)
    assert false_equations(_checked(text), dtype) == []


@pytest.mark.parametrize("name", sorted(_TORCH))
def test_each_line_follows_from_its_printed_net(name):
    # the numbers piece's net, as printed, gives the printed out through torch's function
    net = _network(name, "float64")
    text = explain_example(net, [0.6, -0.5], [0.2, 0.1])
    for k in range(3):
        pieces = _line(text, f"out_h{k + 1} = ").split(" = ")
        printed_net = float(_line(text, f"net_h{k + 1} = ").rsplit(" = ", 1)[1])
        expected = float(_TORCH[name](torch.tensor(printed_net, dtype=torch.float64)))
        assert float(pieces[-1]) == pytest.approx(expected, abs=1e-9)
        assert re.search(re.escape(f"{printed_net}"[:8]), pieces[-2]), pieces


def test_the_leaky_relu_line_reads_as_the_qa_asked():
    net = _network("leaky_relu", "float64")
    text = explain_example(net, [0.6, -0.5], [0.2, 0.1])
    assert _line(text, "out_h2 = ") == (
        "out_h2 = max(0.01·net_h2, net_h2) = max(0.01·(-0.78), -0.78) = -0.0078"
    )
    assert _line(text, "∂out_h2/∂net_h2 = ") == (
        "∂out_h2/∂net_h2 = [net_h2 > 0] + 0.01·[net_h2 ≤ 0] = [-0.78 > 0] + 0.01·[-0.78 ≤ 0] = 0.01"
    )


_UNESCAPED = re.compile(r"\\(?:mathrm|operatorname)\{[^}]*(?<!\\)_")


@pytest.mark.parametrize("name", ["leaky_relu", "hard_sigmoid"])
def test_markdown_and_html_carry_the_formulas_without_a_bare_underscore(name):
    net = _network(name, "float64")
    md = explain_example(net, [0.6, -0.5], [0.2, 0.1], format="markdown")
    assert not _UNESCAPED.search(md)
    assert r"\max" in md or r"\min" in md
    html = explain_example(net, [0.6, -0.5], [0.2, 0.1], format="html")
    assert "max(" in html or "min(" in html


def test_a_registered_name_with_an_underscore_is_escaped_in_latex():
    act = Activation("my_cube", lambda z: z**3, lambda z, a: 3 * z**2)
    net = dr.Network([1, 1, 1], activation=act, output_activation="identity", loss="mse",
                     dtype="float64")  # fmt: skip
    md = explain_example(net, [0.5], [0.1], format="markdown")
    assert r"\operatorname{my\_cube}" in md
    assert not _UNESCAPED.search(md)


# ------------------------------------------------------------ 5: softmax with another loss
def test_softmax_with_half_squared_error_shows_delta_through_the_jacobian():
    net = dr.Network([2, 3], output_activation="softmax", loss="half_squared_error",
                     dtype="float64")  # fmt: skip
    net.set_parameters({"W1": [[0.4, -0.2], [0.1, 0.3], [-0.5, 0.6]], "b1": [0.1, 0.0, -0.1]})
    x, t = np.array([0.7, -0.3]), torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    text = explain_example(net, x, t.numpy())
    z = torch.tensor(np.asarray(net.weights[0]) @ x + net.biases[0], dtype=torch.float64,
                     requires_grad=True)  # fmt: skip
    error = 0.5 * ((t - torch.softmax(z, 0)) ** 2).sum()
    delta = torch.autograd.grad(error, z)[0]
    assert "comes from the backward pass as a whole" not in text
    for k in range(3):
        line = _line(text, f"δ_o{k + 1} = ")
        assert f"out_o{k + 1}·(∂E_total/∂out_o{k + 1} − Σ_j out_oj·∂E_total/∂out_oj)" in line
        assert len(line.split(" = ")) == 5  # δ = ∂E/∂net = formula = numbers = value
        assert _value(line) == pytest.approx(float(delta[k]), abs=1e-9)
    assert _line(text, "Σ_j out_oj·∂E_total/∂out_oj = ")
    assert false_equations(text) == []


# ------------------------------------------------------------ 6: the summary names the option
def test_the_summary_names_max_neurons_with_the_widest_layer():
    net = dr.Network([12, 10, 3], output_activation="softmax", dtype="float64")
    text = explain_example(net, np.zeros(12))
    assert "(--max-neurons N shows every weight, e.g. --max-neurons 12)" in text
    assert "--max-neurons 12" in explain_example(net, np.zeros(12), format="markdown")


# ------------------------------------------------------------ 7: one --input, one --target
@pytest.mark.parametrize("flag", ["--input", "--target"])
def test_a_repeated_input_or_target_is_refused(tmp_path, capsys, flag):
    net = dr.Network([2, 2], output_activation="identity", loss="mse", dtype="float64")
    model = tmp_path / "m.safetensors"
    save_model(net, str(model))
    argv = ["explain", "--model", str(model), "--input", "0.1,0.2", "--target", "0,1"]
    argv += [flag, "0.3,0.4"]
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert f"{flag} was given 2 times" in err and f"give one {flag}" in err
    assert main(["explain", "--model", str(model), "--input", "0.1,0.2", "--target", "0,1"]) == 0
