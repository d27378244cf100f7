"""The QA report on explain as a teaching tool: the tutorial's published numbers that differ,
and arithmetic that checks by hand from the shown operands.

Reference numbers are the QA tester's independent 50-digit computations (mpmath:
/tmp/p12/qa_tut/indep.py, check2.py, check3.py, and the same ``run`` of check3.py for
10,000 plain updates), never explain's own output. Published numbers are Matt Mazur's
worked example, the tutorial's.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import deltarule as dr
from deltarule.cli import main
from deltarule.explain import DataValue, explain_example, explain_tutorial, tutorial_trace
from deltarule.explain.published import updated_weights_variant

# The tester's mpmath values.
PLAIN_AFTER_1 = 0.291027773694
VARIANT_AFTER_1 = 0.291027923905  # (hidden deltas from the updated w5+..w8+)
PLAIN_PASS_10000 = 3.51085481225128e-5  # (the 10,000th forward pass: after 9,999 updates)
PLAIN_AFTER_10000 = (3.51018778297885e-5, 0.0159136204435506, 0.984064273514624)
VARIANT_AFTER_10000 = (3.50847862963135e-5, 0.0159121963260345, 0.984065734485629)
EXACT_DE_O2_OUT_H1 = -0.01904911825828


@pytest.fixture(scope="module")
def ten_thousand() -> str:
    return explain_tutorial(steps=10_000)


# ------------------------------------------------------- #1 the four published numbers
def test_the_updated_weights_variant_gives_the_tutorial_s_numbers():
    error, _ = updated_weights_variant(1)
    assert error == pytest.approx(VARIANT_AFTER_1, abs=1e-12)
    assert round(error, 9) == 0.291027924  # (published)
    error, out = updated_weights_variant(10_000)
    assert error == pytest.approx(VARIANT_AFTER_10000[0], rel=1e-9)
    np.testing.assert_allclose(out[0], VARIANT_AFTER_10000[1:], rtol=1e-9)
    assert (round(out[0, 0], 9), round(out[0, 1], 9)) == (0.015912196, 0.984065734)


def test_the_trace_records_the_last_forward_pass_and_the_final_outputs():
    t = tutorial_trace(steps=10_000)
    errors = dict(t.curve)
    assert errors[9_999] == pytest.approx(PLAIN_PASS_10000, rel=1e-9)
    assert errors[10_000] == pytest.approx(PLAIN_AFTER_10000[0], rel=1e-9)
    np.testing.assert_allclose(t.final_output[0], PLAIN_AFTER_10000[1:], rtol=1e-9)
    # fit's history records the error of each epoch's forward pass: the 10,000th is the same
    net, X, y = dr.textbook.tutorial_network()
    history = net.fit(X, y, epochs=10_000, batch_size=1, optimizer="sgd", learning_rate=0.5,
                      verbose=0)  # fmt: skip
    assert history.history["loss"][-1] == pytest.approx(PLAIN_PASS_10000, rel=1e-9)


def test_each_differing_number_is_explained_where_it_appears(ten_thousand):
    text = " ".join(ten_thousand.split())  # (the notes are wrapped)
    # -0.019049119: published, computed, and why
    assert "∂E_o2/∂out_h1 = ∂E_o2/∂net_o2·∂net_o2/∂out_h1 = δ_o2·w7 =" in text
    assert "The tutorial publishes -0.019049119 here" in text
    assert "(-0.038098237)·0.5 = -0.0190491185, and rounded that half up" in text
    assert f"The exact product is {EXACT_DE_O2_OUT_H1:.12f}..., -0.019049118" in text
    # 0.291027924
    assert f"E after 1 update = {round(PLAIN_AFTER_1, 9)}" in text
    assert "The tutorial publishes 0.291027924 after the first round" in text
    assert f"That variant gives {VARIANT_AFTER_1:.12f}..., 0.291027924" in text
    # 0.0000351085 and the outputs
    assert "E after 9,999 updates = 3.510855e-05" in text
    assert "E after 10,000 updates = 3.510188e-05" in text
    assert "The tutorial publishes 0.0000351085 after 10,000 rounds" in text
    assert "the last epoch's loss in fit's history" in text
    assert "out_o1 after 10,000 updates = 0.01591362 " in text  # (0.0159136204)
    assert "out_o2 after 10,000 updates = 0.984064274 " in text  # (0.98406427351)
    assert "(0.015912196 and 0.984065734, where its error is 3.508479e-05)" in text
    assert "backpropagation's are 0.01591362 and 0.984064274" in text


def test_the_notes_are_in_every_format_and_in_the_docs(ten_thousand):
    markdown = explain_tutorial("markdown", steps=10_000)
    html = explain_tutorial("html", steps=10_000)
    with open("docs/backprop.md", encoding="utf-8") as doc:
        docs = doc.read()
    for text in (ten_thousand, markdown, html, docs):
        flat = " ".join(text.split())
        for published in ("-0.019049119", "0.291027924", "0.0000351085", "0.015912196"):
            assert f"The tutorial publishes {published}" in flat or published in flat
        assert flat.count("The tutorial publishes") == 3


def test_no_notes_at_another_learning_rate():
    assert "The tutorial publishes" not in explain_tutorial(learning_rate=1.0, steps=10)


# --------------------------------------- #2 every line checks by hand from its operands
_NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]\d+)?"


def _evaluate(expression: str) -> float:
    """The tester's evaluator (eqcheck.py): the shown numbers, as a calculator reads them."""
    e = expression.replace("·", "*").replace("−", "-").replace("½", "0.5*").replace("²", "**2")
    e = e.replace("e^", "math.e**").replace("tanh(", "math.tanh(").replace("ln(", "math.log(")
    e = re.sub(r"\)\(", ")*(", e)
    e = re.sub(r"(\d)\(", r"\1*(", e)
    return eval(e, {"math": math, "max": max, "__builtins__": {}})  # noqa: S307


def unchecked_lines(text: str, float32: bool = False) -> list[str]:
    """Lines whose last piece of numbers does not give the shown result, rounded: within half
    the 9th decimal (a positional result), 5e-10 of it (a scientific one). A tie is no
    check: -0.0190491185 shown as -0.019049118. In a ``float32`` walk, also within float32's
    rounding of the result (half its unit in the last place) and, but for the data's
    float64 lines, of its arithmetic: 4 eps per unit of Σ|terms|."""
    bad = []
    for line in text.splitlines():
        pieces = [p.strip() for p in line.strip().split(" = ")]
        if len(pieces) < 3 or not re.fullmatch(_NUMBER, pieces[-1]):
            continue
        expression = pieces[-2]
        if re.search(r"[a-df-zA-Z_\[|]", expression.replace("e^", "").replace("tanh(", "")
                     .replace("max(", "").replace("ln(", "")):  # fmt: skip
            continue
        result = float(pieces[-1])
        value = _evaluate(expression)
        places = 5e-10 * (abs(result) if "e" in pieces[-1] else 1.0)
        allowed = places * (1 - 1e-6)
        if float32:
            allowed += 2.0**-24 * abs(result)
            if "mean)/std" not in line and not line.strip().startswith("predicted"):
                terms = _evaluate(expression.replace("−", "+").replace("(-", "("))
                allowed += 4 * float(np.finfo(np.float32).eps) * max(abs(terms), abs(result))
        if not abs(value - result) < allowed:
            bad.append(f"{line.strip()}   (from the shown operands: {value!r})")
    return bad


def test_the_tutorial_walk_checks_by_hand(ten_thousand):
    assert unchecked_lines(explain_tutorial()) == []
    assert unchecked_lines(ten_thousand) == []
    lines = explain_tutorial().splitlines()
    # the tester's four lines, now with the digits that make them check
    assert any("½(0.01 − 0.7513650696)² = 0.274811083" in line for line in lines)
    assert any("(-0.0380982365)·0.5 = -0.019049118" in line for line in lines)


def _data_network(dtype: str) -> tuple[dr.Network, list[DataValue], np.ndarray]:
    """A network on standardised columns with means between 1e-4 and 1e-2 and raw values
    near them (the standardisation cancels most digits), and a trained-looking output."""
    rng = np.random.default_rng(3)
    net = dr.Network([4, 5, 3, 1], activation="tanh", output_activation="identity",
                     loss="mse", seed=2, dtype=dtype)  # fmt: skip
    means = [0.00242026525, -0.0001234567891, 0.0098765432123, 0.000501234987]
    stds = [0.0444623452, 0.00123456789, 0.0567, 0.0021]
    raws = [-0.002, -0.0001, 0.0101, 0.0005]
    records = [DataValue(f"s{k}", r, m, s) for k, (r, m, s) in enumerate(zip(raws, means, stds))]
    x = np.array([(r - m) / s for r, m, s in zip(raws, means, stds)], dtype=dtype)
    net.fit(rng.normal(size=(30, 4)), rng.normal(size=(30, 1)), epochs=5, verbose=0)
    return net, records, x


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_trained_model_s_walk_checks_by_hand(dtype):
    net, records, x = _data_network(dtype)
    text = explain_example(net, x, [0.3], raw_inputs=records)
    assert "(s0 − mean)/std" in text
    assert unchecked_lines(text, dtype == "float32") == []
    assert f"{dtype} numbers" in text.splitlines()[1]


def test_the_testers_models_check_by_hand(testers_iris_walk):
    # The tester's iris model (float32, tanh, softmax): net_h2.3 recomputed to 0.19680395
    # from its shown operands where 0.19680388 was shown.
    out = testers_iris_walk
    assert unchecked_lines(out, float32=True) == []
    assert "float32 numbers" in out and "The network computes in float32" in out


# ------------------------------------------------------------ #3 a huge walk is refused
def test_a_huge_walk_is_refused_up_front(tmp_path, capsys):
    from deltarule.io import save_model

    model = tmp_path / "big.safetensors"
    save_model(dr.Network([300, 400, 300, 10], seed=0), str(model))
    row = ",".join(["0.1"] * 300)
    code = main(["explain", "--model", str(model), "--input", row, "--target",
                 "0,0,0,0,0,0,0,0,0,1", "--max-neurons", "1000"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1 and err.startswith("error: ")
    assert "243,000 weights" in err and "--max-neurons below 400" in err
    with pytest.raises(dr.InputError, match="max_neurons 1000 would show all 243,000"):
        explain_example(dr.Network([300, 400, 300, 10], seed=0), [0.1] * 300,
                        [0] * 9 + [1], max_neurons=1000)  # fmt: skip
    # the summary (the default) still works
    target = "0,0,0,0,0,0,0,0,0,1"
    assert main(["explain", "--model", str(model), "--input", row, "--target", target]) == 0
