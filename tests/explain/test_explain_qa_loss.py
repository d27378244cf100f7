"""QA (a student checking a trained model's walk, #4): the error and softmax show their
arithmetic, loss by loss, and every such line checks by hand.

The reference numbers are computed here from the networks' weights (numpy / math), never
taken from the walk's own output.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from equation_check import false_equations

import deltarule as dr
from deltarule.explain import render, trace
from deltarule.explain.expr import fmt
from deltarule.losses import Loss


def _walk(net: dr.Network, x, y, format: str = "text") -> str:
    return render(trace(net, x, y, 0.5), format)


def _line(text: str, start: str) -> str:
    found = [line.strip() for line in text.splitlines() if line.strip().startswith(start)]
    assert len(found) == 1, (start, found)
    return found[0]


def _numbers(piece: str) -> list[float]:
    return [float(n) for n in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]\d+)?", piece)]


def _softmax_network(dtype: str = "float64") -> tuple[dr.Network, np.ndarray, np.ndarray]:
    net = dr.Network([2, 3], output_activation="softmax", dtype=dtype)
    W, b = np.array([[0.8, -0.3], [0.1, 0.4], [-0.6, 0.2]]), np.array([0.05, -0.1, 0.0])
    net.set_parameters({"W1": W, "b1": b})
    return net, W, b


# -------------------------------------------------------------------------- softmax
def test_softmax_is_written_as_e_to_the_net_over_the_sum():
    # (was "out_o1 = softmax(net_o1) = 0.5564489", as if it were a function of net_o1 alone)
    net, W, b = _softmax_network()
    x = np.array([1.5, -0.5])
    nets = W @ x + b  # 1.4, -0.15, -1.0
    outs = np.exp(nets) / np.exp(nets).sum()
    text = _walk(net, [x], [[0.0, 1.0, 0.0]])
    assert "softmax(" not in text
    for k in range(3):
        line = _line(text, f"out_o{k + 1} = ")
        pieces = line.split(" = ")
        assert pieces[1] == f"e^net_o{k + 1}/Σ_j e^net_oj", line
        shown = _numbers(pieces[2])
        assert shown == pytest.approx([nets[k], *nets], abs=5e-10), line
        assert float(pieces[-1]) == pytest.approx(outs[k], abs=5e-10), line
    # every net is given before the outputs that use them
    assert text.index("net_o3 = ") < text.index("out_o1 = ")
    assert false_equations(text) == []


def test_softmax_in_markdown_is_a_fraction_of_exponentials():
    net, _, _ = _softmax_network()
    markdown = _walk(net, [[1.5, -0.5]], [[0.0, 1.0, 0.0]], "markdown")
    assert r"\frac{e^{\mathrm{net}_{o1}}}{\sum_j e^{\mathrm{net}_{oj}}}" in markdown
    assert r"\frac{e^{1.4}}{e^{1.4} + e^{-0.15} + e^{-1}}" in markdown
    assert r"-\ln\left(\mathrm{out}_{o2}\right)" in markdown


# -------------------------------------------------------------- categorical cross-entropy
def test_categorical_cross_entropy_shows_minus_ln_of_the_class_output():
    net, W, b = _softmax_network()
    x = np.array([1.5, -0.5])
    nets = W @ x + b
    outs = np.exp(nets) / np.exp(nets).sum()
    text = _walk(net, [x], [[0.0, 1.0, 0.0]])
    line = _line(text, "E_total = ")
    pieces = line.split(" = ")
    assert pieces[1:3] == ["−Σ target·ln(out)", "−ln(out_o2)"], line
    assert re.fullmatch(r"−ln\(0\.\d+\)", pieces[3]), line
    assert _numbers(pieces[3]) == pytest.approx([outs[1]], abs=5e-10)
    assert float(pieces[4]) == pytest.approx(-math.log(outs[1]), abs=5e-10)
    # its δ: out − target, as the backward pass computes it for softmax with cross-entropy
    delta = _line(text, "δ_o2 = ")
    assert "out_o2 − target_o2" in delta
    assert float(delta.split(" = ")[-1]) == pytest.approx(outs[1] - 1, abs=5e-10)
    assert false_equations(text) == []


def test_categorical_cross_entropy_of_a_soft_target_sums_its_terms():
    net, W, b = _softmax_network()
    x = np.array([1.5, -0.5])
    nets = W @ x + b
    outs = np.exp(nets) / np.exp(nets).sum()
    text = _walk(net, [x], [[0.25, 0.0, 0.75]])
    line = _line(text, "E_total = ")
    assert "−(target_o1·ln(out_o1) + target_o3·ln(out_o3))" in line  # (a 0 target adds 0)
    expected = -(0.25 * math.log(outs[0]) + 0.75 * math.log(outs[2]))
    assert float(line.split(" = ")[-1]) == pytest.approx(expected, abs=5e-10)
    assert false_equations(text) == []


def test_the_testers_iris_walk_shows_the_loss_arithmetic(testers_iris_walk):
    out = testers_iris_walk
    assert false_equations(out, "float32") == []
    line = _line(out, "E_total = ")
    assert line.startswith("E_total = −Σ target·ln(out) = −ln(out_o1) = −ln(")
    (shown_out,) = _numbers(line.split(" = ")[3])
    value = line.split(" = ")[-1]
    # the value with the digits of the walk's other numbers (was 0.58618: 5 of them), and
    # -ln of the shown output, to float32's precision
    assert len(value.replace("0.", "", 1).lstrip("0")) >= 8, value
    assert float(value) == pytest.approx(-math.log(shown_out), rel=1e-6)
    nets = [float(_line(out, f"net_o{k} = ").split(" = ")[-1]) for k in (1, 2, 3)]
    softmax = math.exp(nets[0]) / sum(math.exp(n) for n in nets)  # (the tester's 0.55644884)
    assert shown_out == pytest.approx(softmax, rel=1e-6)


def test_a_float32_loss_keeps_eight_significant_digits():
    # float32(0.58618) is 0.586179971694946...: its shortest repr has 5 digits
    exact = float(np.float32(0.58618))
    assert fmt(np.float32(0.58618)) == "0.58618"
    assert fmt(np.float32(0.58618), digits=8) == f"{exact:.8f}" == "0.58617997"
    assert np.float32(fmt(np.float32(0.58618), digits=8)) == np.float32(0.58618)
    assert fmt(np.float32(0.5), digits=8) == "0.5"  # (exact: nothing to add)
    assert fmt(0.58618, "float64", digits=8) == "0.58618"  # (float64's shortest is exact)


# ---------------------------------------------------------------------- squared error
def _identity(n_outputs: int, loss: str) -> dr.Network:
    net = dr.Network([2, n_outputs], output_activation="identity", loss=loss, dtype="float64")
    W = [[0.5, 0.25], [1.0, -0.5]][:n_outputs]
    net.set_parameters({"W1": W, "b1": [0.1, 0.0][:n_outputs]})
    return net


def test_mse_is_the_mean_of_the_squares_with_its_gradient():
    # By hand: x = (1, 2): out_o1 = 0.5 + 0.5 + 0.1 = 1.1, out_o2 = 1 − 1 = 0; targets 0.5, 1:
    # E = ((0.5 − 1.1)² + (1 − 0)²)/2 = (0.36 + 1)/2 = 0.68;
    # ∂E/∂out_o1 = 2(1.1 − 0.5)/2 = 0.6, ∂E/∂out_o2 = 2(0 − 1)/2 = -1.
    text = _walk(_identity(2, "mse"), [[1.0, 2.0]], [[0.5, 1.0]])
    assert _line(text, "E_total = ") == (
        "E_total = Σ(target − out)²/n = ((target_o1 − out_o1)² + (target_o2 − out_o2)²)/2 "
        "= ((0.5 − 1.1)² + (1 − 0)²)/2 = 0.68"
    )
    assert _line(text, "∂E_total/∂out_o1 = ") == (
        "∂E_total/∂out_o1 = 2(out_o1 − target_o1)/n = 2(1.1 − 0.5)/2 = 0.6"
    )
    assert _line(text, "∂E_total/∂out_o2 = ") == (
        "∂E_total/∂out_o2 = 2(out_o2 − target_o2)/n = 2(0 − 1)/2 = -1"
    )
    assert "mse(out, target)" not in text
    assert false_equations(text) == []


def test_mse_of_one_output_needs_no_mean():
    # out = 1.1, target 0.5: E = (0.5 − 1.1)² = 0.36, ∂E/∂out = 2(1.1 − 0.5) = 1.2
    text = _walk(_identity(1, "mse"), [[1.0, 2.0]], [[0.5]])
    assert "E_total = Σ(target − out)²/n = (target_o1 − out_o1)² = (0.5 − 1.1)² = 0.36" in text
    assert "∂E_total/∂out_o1 = 2(out_o1 − target_o1) = 2(1.1 − 0.5) = 1.2" in text


def test_mae_shows_the_absolute_differences_and_their_signs():
    # out 1.1 and 0, targets 0.5 and 1: E = (|0.5 − 1.1| + |1 − 0|)/2 = 0.8;
    # ∂E/∂out = sign(out − target)/2 = 0.5 and -0.5
    text = _walk(_identity(2, "mae"), [[1.0, 2.0]], [[0.5, 1.0]])
    assert _line(text, "E_total = ").endswith("= (|0.5 − 1.1| + |1 − 0|)/2 = 0.8")
    assert "= sign(1.1 − 0.5)/2 = 0.5" in _line(text, "∂E_total/∂out_o1 = ")
    assert "= sign(0 − 1)/2 = -0.5" in _line(text, "∂E_total/∂out_o2 = ")
    assert false_equations(text) == []


# ----------------------------------------------------------------- binary cross-entropy
def test_binary_cross_entropy_shows_its_logarithms():
    # zero weights: out = σ(0) = 0.5 for both outputs; targets 1 and 0:
    # E = −(ln(0.5) + ln(1 − 0.5))/2 = ln 2 = 0.693147181 (9 decimals)
    net = dr.Network([1, 2], output_activation="sigmoid", initializer="zeros", dtype="float64")
    text = _walk(net, [[1.0]], [[1.0, 0.0]])
    assert _line(text, "E_total = ") == (
        "E_total = −Σ[target·ln(out) + (1 − target)·ln(1 − out)]/n = "
        "−(ln(out_o1) + ln(1 − out_o2))/2 = −(ln(0.5) + ln(1 − 0.5))/2 = "
        f"{round(math.log(2), 9)}"
    )
    # a target that is neither 0 nor 1 keeps both terms: −(0.25·ln(0.5) + 0.75·ln(0.5)) = ln 2
    single = dr.Network([1, 1], output_activation="sigmoid", initializer="zeros", dtype="float64")
    text = _walk(single, [[1.0]], [[0.25]])
    assert _line(text, "E_total = ").endswith(
        f"= −(0.25·ln(0.5) + (1 − 0.25)·ln(1 − 0.5)) = {round(math.log(2), 9)}"
    )
    assert false_equations(text) == []


def test_a_saturated_output_shows_the_formula_and_says_why_not_its_numbers():
    # out = σ(50) = 1 − 2e-22, which is 1 in float64: ln(1 − out) = −∞; the network's error,
    # from the net input, is ln(1 + e^50) = 50 (to 1e-22)
    net = dr.Network([1, 1], output_activation="sigmoid", dtype="float64")
    net.set_parameters({"W1": [[50.0]], "b1": [0.0]})
    text = _walk(net, [[1.0]], [[0.0]])
    line = _line(text, "E_total = ")
    assert (
        line == "E_total = −Σ[target·ln(out) + (1 − target)·ln(1 − out)]/n = −ln(1 − out_o1) = 50"
    )
    assert "computes this error from the net inputs" in text
    assert false_equations(text) == []


def test_a_float32_output_too_close_to_1_is_not_used_for_the_error():
    # nets (10, 0, 0): out_o1 = 1/(1 + 2e^-10) = 0.99990921; float32 keeps 0.9999092, and
    # −ln(0.9999092) = 9.0804e-05 is 0.2% away from the error 9.0796e-05: no numbers
    net = dr.Network([1, 3], output_activation="softmax", dtype="float32")
    net.set_parameters({"W1": [[10.0], [0.0], [0.0]], "b1": [0.0, 0.0, 0.0]})
    text = _walk(net, [[1.0]], [[1.0, 0.0, 0.0]])
    line = _line(text, "E_total = ")
    # not −ln of the rounded output: the net-input form, computed in float64
    assert "= ln(e^10 + e^0 + e^0) − 10 = " in line and "−ln(0.9999092)" not in line
    value = float(line.rsplit(" = ", 1)[1])
    expected = np.logaddexp.reduce([10.0, 0.0, 0.0]) - 10.0  # (an oracle in float64)
    assert value == pytest.approx(expected, rel=1e-6)


def test_a_non_fused_cross_entropy_gradient_is_written_out():
    # sigmoid outputs with categorical cross-entropy (not a fused pair): out = 0.5 (zero
    # weights), target 1: ∂E/∂out = −1/0.5 = -2
    net = dr.Network([1, 2], output_activation="sigmoid", loss="categorical_crossentropy",
                     initializer="zeros", dtype="float64")  # fmt: skip
    text = _walk(net, [[1.0]], [[1.0, 0.0]])
    assert (
        _line(text, "∂E_total/∂out_o1 = ") == "∂E_total/∂out_o1 = −target_o1/out_o1 = −1/0.5 = -2"
    )
    assert false_equations(text) == []


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "config",
    [
        dict(output_activation="softmax"),
        dict(output_activation="sigmoid"),
        dict(output_activation="identity", loss="mse"),
        dict(output_activation="identity", loss="mae"),
        dict(output_activation="sigmoid", loss="mse"),
        dict(output_activation="softmax", loss="binary_crossentropy"),
    ],
)
def test_every_loss_line_checks_by_hand(config, dtype):
    rng = np.random.default_rng(7)
    net = dr.Network([3, 4, 3], activation="tanh", dtype=dtype, seed=3, **config)
    y = np.eye(3)[[2]] if config["output_activation"] == "softmax" else rng.random((1, 3))
    text = _walk(net, rng.normal(size=(1, 3)), y)
    assert false_equations(text, dtype) == []
    assert _line(text, "E_total = ").count(" = ") == 4, _line(text, "E_total = ")


def test_a_users_loss_under_a_builtin_name_is_not_written_out():
    # its formula is the user's: the walk names it and shows its value
    mine = Loss("mse", lambda o, t: ((o - t) ** 4).sum(axis=1), lambda o, t: 4 * (o - t) ** 3)
    net = dr.Network([2, 1], output_activation="identity", loss=mine, dtype="float64")
    net.set_parameters({"W1": [[0.5, 0.25]], "b1": [0.1]})
    text = _walk(net, [[1.0, 2.0]], [[0.5]])
    assert "E_total = mse(out, target) = " in text and "Σ(target − out)²" not in text
    assert _line(text, "∂E_total/∂out_o1 = ").count(" = ") == 1


def test_the_checker_catches_false_loss_lines():
    assert false_equations("   E = −ln(0.5) = 0.69") != []
    assert false_equations("   E = −ln(0.5) = 0.693147181") == []
    assert false_equations("   o = e^1/(e^1 + e^0) = 0.731058579") == []
    assert false_equations("   o = e^1/(e^1 + e^0) = 0.73") != []
    assert false_equations("   g = sign(0.2 − 0.5)/2 = 0.5") != []
    assert false_equations("   E = (|0.5 − 1.1| + |1 − 0|)/2 = 0.8") == []
