"""Numbers of any magnitude are printed with the digits their equations need.

A QA pass: ``fmt`` wrote numbers from 1e7 up with 7 significant digits, so a float64 model
trained on a target near 1e9 printed ``target_o1 = (1.000000e+09 − 1.000000e+09)/24.5 =
0.233`` and ``predicted y = 1.000000e+09 + 24.5·(-0.77) = 1.000000e+09`` (really
999,999,980.4), and a float32 model with a timestamp column ``i1 = (1.700123e+09 −
1.700532e+09)/295992.78 = -1.3815252``. Every operand is now printed with its dtype's
round-trip digits (float32's for the network's float32 values, float64's for the data's),
in every format. Reference values come from NumPy on the model file's own numbers.
"""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pytest
from equation_check import false_equations, numbers_of

import deltarule as dr
from deltarule.cli import main
from deltarule.explain import DataValue, example_trace, render, trace
from deltarule.explain.expr import Num, fmt, to_latex, to_text
from deltarule.io import load_model

pd = pytest.importorskip("pandas")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def line_of(text: str, start: str) -> str:
    return next(x.strip() for x in text.splitlines() if x.strip().startswith(start))


# ------------------------------------------------------------------------------- fmt
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fmt_reads_back_as_the_same_number_at_every_magnitude(dtype):
    kind = np.dtype(dtype).type
    rng = np.random.default_rng(0)
    values = [kind(v) for v in rng.choice([-1, 1], 400) * 10 ** rng.uniform(-30, 30, 400)]
    special = (999999980.4019393, 1e9 + 5, 1700123456.0, 1.7005321e9, 9999999999999998.0,
               1.2345678901234567e16, 3.5101877e-05)  # fmt: skip
    values += [kind(v) for v in special]
    for value in values:
        text = fmt(value, dtype)
        if abs(value) >= 1e7 or abs(value) < 1e-4:  # (1e7 and up were 7 digits: 1.000000e+09)
            assert kind(text) == value, (value, text)
        else:  # (the tutorial's 9 decimals, 0.593269992, or fewer: the shortest repr)
            assert abs(float(text) - float(value)) <= 5e-10 + abs(float(value)) * 1e-7, text
        latex = to_latex(Num(float(value)), dtype)
        mantissa, _, exponent = latex.partition(r" \times 10^")
        assert kind(mantissa + ("e" + exponent.strip("{}") if exponent else "")) == kind(text)
    assert fmt(999999980.4019393) == "999999980.4019393"  # (was 1.000000e+09)
    assert fmt(1700123456.0, "float32") == "1700123400"  # float32's digits: 1.7001234e+09
    assert np.float32("1700123400") == np.float32(1700123456.0)
    assert fmt(1.2345678901234567e16) == "1.2345678901234568e+16"


def test_a_float64_operand_keeps_its_digits_in_a_float32_walk():
    # (the data's mean is float64 however the network computes)
    assert to_text(Num(1700532000.123, "float64"), "float32") == "1700532000.123"
    assert to_text(Num(1700532000.123), "float32") == "1700532000"


def test_the_checker_catches_the_lines_the_qa_pass_found():
    # The lines as explain printed them; each must be found false (the checker would have
    # caught them: a scientific number is taken as the exact value its digits give).
    bad = [
        "   target_o1 = (y − mean)/std = (1.000000e+09 − 1.000000e+09)/24.51791011 = 0.233396493",
        "   predicted y = mean + std·out_o1 = 1.000000e+09 + 24.51791011·(-0.769847821) = "
        "1.000000e+09",
    ]
    for line in bad:
        assert false_equations(line) == [line]
    ts = "   i1 = (ts − mean)/std = (1.700123e+09 − 1.700532e+09)/295992.78 = -1.3815252"
    assert false_equations(ts, "float32") == [ts]
    note = "target 1.000000e+09 (standardised: (1.000000e+09 − 1.000000e+09)/24.51791011 = 0.23)"
    assert false_equations(note) == [note]
    # ... and passes them true: (1000000005 − 999999999.2776058)/24.51791011 = 0.233396495
    good = "   target_o1 = (y − mean)/std = (1000000005 − 999999999.2776058)/24.51791011 = "
    assert false_equations(good + fmt((1000000005 - 999999999.2776058) / 24.51791011)) == []
    assert false_equations(good + "0.2334") != []


# ------------------------------------------------ the network's own large numbers
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_walk_on_unscaled_inputs_near_1e9_holds_line_by_line(dtype):
    # A network given a raw timestamp (1.7e9) and a target of 1e9: net, out, the error, the
    # gradients and the update are all beyond 1e7 (they printed as 1.700123e+09).
    net = dr.Network([2, 2, 1], activation="relu", output_activation="identity", loss="mse",
                     dtype=dtype)  # fmt: skip
    net.set_parameters({"W1": [[0.3, 0.1], [0.25, -0.5]], "b1": [12.5, -7.0],
                        "W2": [[1.5, 0.75]], "b2": [3.0]})  # fmt: skip
    x, y = [[1700123456.0, -250000000.0]], [[1000000005.0]]
    text = render(trace(net, x, y, 1e-20), "text")
    assert false_equations(text, dtype) == []
    out = float(net.predict(np.array(x, dtype=dtype))[0, 0])
    assert np.dtype(dtype).type(line_of(text, "out_o1 = ").split(" = ")[-1]) == out
    assert "e+0" not in text.split("5. Update")[0]  # (positional below 1e16)


@pytest.mark.parametrize("seed", range(12))
def test_walks_of_any_magnitude_hold_line_by_line(seed):
    rng = np.random.default_rng(seed)
    dtype = ("float32", "float64")[seed % 2]
    activation = ("tanh", "sigmoid", "relu")[seed % 3]
    net = dr.Network([3, 3, 2], activation=activation, output_activation="identity", loss="mse",
                     dtype=dtype, seed=seed)  # fmt: skip
    for weights in net.weights:
        weights[...] = weights * 10 ** rng.uniform(-3, 3)
    x = rng.normal(size=(1, 3)) * 10 ** rng.uniform(-6, 9)
    y = rng.normal(size=(1, 2)) * 10 ** rng.uniform(-6, 9)
    text = render(trace(net, x, y, 10 ** rng.uniform(-12, -1)), "text")
    assert false_equations(text, dtype) == []


# ------------------------------------------------- the Python API, in every format
def _timestamp_example(dtype: str):
    """A 1-1 identity network on a timestamp near 1.7e9 standardised, and a target near 1e9
    standardised; the network's input and target as the preprocessing makes them."""
    net = dr.Network([1, 1], output_activation="identity", loss="mse", dtype=dtype)
    net.set_parameters({"W1": [[0.75]], "b1": [-0.125]})
    ts, ts_mean, ts_std = 1700123456.0, 1700532123.456789, 295992.78125
    y, y_mean, y_std = 1000000005.0, 999999999.2776058, 24.51791011
    x = np.array([(ts - ts_mean) / ts_std], dtype=dtype)
    t = np.array([(y - y_mean) / y_std], dtype=dtype)
    records = [DataValue("ts", ts, ts_mean, ts_std)], [DataValue("y", y, y_mean, y_std)]
    return net, x, t, records, (ts, ts_mean, ts_std, y, y_mean, y_std)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_every_format_prints_large_data_values_whole(dtype):
    net, x, t, (inputs, targets), numbers = _timestamp_example(dtype)
    ts, ts_mean, ts_std, y, y_mean, y_std = numbers
    trace = example_trace(net, x, t, raw_inputs=inputs, raw_targets=targets)
    text = render(trace, "text")
    assert false_equations(text, dtype) == []
    i1 = line_of(text, "i1 = (ts − mean)/std")
    assert numbers_of(i1)[-4:-1] == [ts, ts_mean, ts_std]  # (every digit: round trips)
    if dtype == "float32":  # (the network's value: float32's shortest repr)
        assert np.float32(i1.split(" = ")[-1]) == x[0]
    else:  # (9 decimals)
        assert abs(float(i1.split(" = ")[-1]) - x[0]) <= 5e-10
    out = float(net.predict(x[None, :])[0, 0])  # 0.75·x − 0.125, in the network's dtype
    predicted = line_of(text, "predicted y = ")
    assert float(predicted.split(" = ")[-1]) == y_mean + y_std * out  # (float64, as computed)
    assert abs(y_mean + y_std * out - 1e9) > 1  # (the old 1.000000e+09 was false)

    # Markdown's LaTeX has the same numbers as the text, line by line
    markdown = render(trace, "markdown")
    latex = [line for line in markdown.splitlines() if line.startswith("- $")]
    steps = [line for line in text.splitlines()
             if line.startswith("   ") and " = " in line and not line.endswith(".")]  # fmt: skip
    assert len(latex) == len(steps) > 10
    for tex, plain in zip(latex, steps):
        assert numbers_of(tex) == numbers_of(plain), (tex, plain)
    assert "1700123456" in markdown and fmt(ts_mean) in markdown

    # HTML's lines are the text's
    page = render(trace, "html")
    items = [html.unescape(i) for i in re.findall(r"<li>(.*?)</li>", page)]
    assert [i.strip() for i in items] == [s.strip() for s in steps]

    # JSON's numbers are the values themselves
    data = json.loads(render(trace, "json"))
    (record,) = data["raw_inputs"]
    assert (record["raw"], record["mean"], record["std"]) == (ts, ts_mean, ts_std)
    (target,) = data["raw_targets"]
    assert (target["raw"], target["mean"], target["std"]) == (y, y_mean, y_std)
    assert target["predicted"] == y_mean + y_std * out


# ------------------------------------------------------------- the command line
@pytest.fixture(scope="module")
def big_target(tmp_path_factory):
    """The QA pass's repro: a target 1e9 ± 10, which deltarule train fits in float64."""
    folder = tmp_path_factory.mktemp("big")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    frame = pd.DataFrame(X, columns=list("abc"))
    frame["y"] = 1e9 + 10 * (X @ [1, 2, -1]) + rng.normal(size=300)
    frame.to_csv(folder / "big_target.csv", index=False, float_format="%.6f")
    path = folder / "f64.safetensors"
    assert main(["train", str(folder / "big_target.csv"), "--target", "y", "--out", str(path),
                 "--quiet", "--epochs", "5", "--hidden", "3"]) == 0  # fmt: skip
    return path


def _inputs(loaded, row) -> np.ndarray:
    columns = loaded.preprocessing["columns"]
    return np.array([(v - c["mean"]) / c["std"] for v, c in zip(row, columns)])


def test_a_target_near_1e9_is_walked_with_all_its_digits(big_target, capsys):
    loaded = load_model(big_target)
    assert loaded.network.dtype == np.float64  # (train switched: |mean| > 1024·std)
    record = loaded.header["training"]["summary"]["target_standardisation"]
    mean, std = record["mean"], record["std"]
    argv = ["explain", "--model", str(big_target), "--raw", "--input", "0.5,-0.2,1",
            "--target", "1000000005"]  # fmt: skip
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert false_equations(out, "float64") == []
    line = line_of(out, "target_o1 = (y − mean)/std")
    raw, shown_mean, shown_std, shown_t = numbers_of(line)[-4:]
    assert (raw, shown_mean) == (1000000005.0, mean)  # (mean: its float64 repr, exactly)
    assert shown_std == pytest.approx(std, abs=5e-10)
    assert shown_t == pytest.approx((1000000005 - mean) / std, abs=5e-10)
    # the prediction in the target's units is the saved network's (which predicts in them)
    prediction = float(loaded.network.predict(_inputs(loaded, [0.5, -0.2, 1.0])[None, :])[0, 0])
    shown = float(line_of(out, "predicted y = ").split(" = ")[-1])
    assert shown == pytest.approx(prediction, abs=1e-6)  # (was 1.000000e+09: off by ~20)
    # the header's note, and the JSON's
    assert false_equations(out.splitlines()[2]) == [] and "standardised: (1000000005 − " in out
    code, out, err = run(capsys, *argv, "--format", "json")
    data = json.loads(out)
    assert false_equations(data["note"]) == [] and "1000000005" in data["note"]
    assert data["raw_targets"][0]["predicted"] == pytest.approx(prediction, abs=1e-6)


def test_a_timestamp_column_in_a_float32_model_is_walked_with_all_its_digits(tmp_path, capsys):
    rng = np.random.default_rng(1)
    ts = np.round(1.7e9 + rng.normal(0, 3e5, 200))
    b = rng.normal(size=200)
    y = (ts - 1.7e9) / 3e5 + b + rng.normal(0, 0.1, 200)
    pd.DataFrame({"ts": ts, "b": b, "y": y}).to_csv(tmp_path / "ts.csv", index=False)
    path = tmp_path / "ts.safetensors"
    assert run(capsys, "train", str(tmp_path / "ts.csv"), "--target", "y", "--out", str(path),
               "--quiet", "--epochs", "3", "--hidden", "3")[0] == 0  # fmt: skip
    loaded = load_model(path)
    assert loaded.network.dtype == np.float32  # (the inputs' scale keeps float32)
    for fmt_name in ("text", "html"):
        code, out, err = run(capsys, "explain", "--model", str(path), "--raw", "--input",
                             "1700123456,0.3", "--target", "1", "--format", fmt_name)  # fmt: skip
        assert code == 0, err
        text = html.unescape(re.sub(r"<[^>]+>", "\n", out))
        assert false_equations(text, "float32") == []
    line = line_of(text, "i1 = (ts − mean)/std")
    column = loaded.preprocessing["columns"][0]
    raw, shown_mean, shown_std, value = numbers_of(line)[-4:]
    assert (raw, shown_mean) == (1700123456.0, column["mean"])  # (was 1.700123e+09, ...)
    assert shown_std == pytest.approx(column["std"], abs=5e-10)
    assert np.float32(line.split(" = ")[-1]) == np.float32(
        (1700123456 - column["mean"]) / column["std"]
    )
