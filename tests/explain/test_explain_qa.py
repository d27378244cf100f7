"""What a QA pass on ``explain`` and ``draw`` found, each pinned by a test.

Reference numbers are computed by hand (in the comments) or by finite differences, never
taken from explain's own output.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from equation_check import false_equations

import deltarule as dr
from deltarule.cli import main
from deltarule.exceptions import InputError
from deltarule.explain import (
    Diagram,
    NonFiniteError,
    diagram_svg,
    draw_network,
    explain_example,
    layer_summary,
    linear_walk,
    neuron_labels,
    render,
    to_json_data,
    trace,
)
from deltarule.explain.expr import fmt
from deltarule.io import load_model, save_model
from deltarule.textbook import EXAMPLES, tutorial_network


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error(code: int, out: str, err: str) -> str:
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert err.startswith("error: ") and "Traceback" not in err, err
    return err


# ---------------------------------------------------- every printed equation is true
def _saturated() -> tuple[dr.Network, list, list]:
    net = dr.Network([1, 1], output_activation="sigmoid", dtype="float64")
    net.set_parameters({"W1": [[50.0]], "b1": [0.0]})
    return net, [[1.0]], [[0.0]]


def _random(config: dict, seed: int = 4):
    rng = np.random.default_rng(seed)
    net = dr.Network(**config, seed=1)
    x = rng.normal(size=(1, net.n_inputs))
    y = rng.random(size=(1, net.n_outputs))
    if net.layers[-1].activation.name == "softmax":
        y = np.array([[0.5, 0.0, 1.0]])  # (sums to 1.5: δ = out·Σtarget − target)
    return net, x, y


CONFIGS = [
    dict(layer_sizes=[3, 4, 2], activation="tanh", output_activation="sigmoid",
         loss="half_squared_error", dtype="float64"),
    dict(layer_sizes=[3, 4, 3], activation="relu", output_activation="softmax", dtype="float64"),
    dict(layer_sizes=[3, 4, 2], activation="tanh", output_activation="sigmoid", dtype="float64"),
    dict(layer_sizes=[3, 4, 2], activation="tanh", output_activation="sigmoid", dtype="float32"),
    dict(layer_sizes=[3, 4, 2], activation="relu", output_activation="identity", loss="mse",
         dtype="float64"),
    dict(layer_sizes=[3, 2], output_activation="identity", use_bias=False, dtype="float64"),
    dict(layer_sizes=[3, 4, 2], activation="tanh", output_activation="exp", loss="poisson",
         dtype="float64"),
]  # fmt: skip


@pytest.mark.parametrize("case", ["saturated", *range(len(CONFIGS))])
def test_every_printed_equation_of_the_walk_holds(case):
    # (a saturated sigmoid with cross-entropy printed "∂E_total/∂out_o1 = 4.503600e+15",
    # "∂out_o1/∂net_o1 = 1(1 − 1) = 0" and "δ_o1 = ... = 4.503600e+15·0 = 1")
    net, x, y = _saturated() if case == "saturated" else _random(CONFIGS[case])
    text = render(trace(net, x, y, 0.5), "text")
    assert false_equations(text, net.dtype.name) == []
    assert false_equations("   d = 4.503600e+15·0 = 1") != []  # (the checker can fail)


def test_a_saturated_sigmoid_with_cross_entropy_shows_the_fused_delta():
    # By hand: out = σ(50) = 1 − 2e-22, which prints as 1; E = ln(1 + e^50) = 50 (to 1e-22);
    # δ = out − target = 1 (n = 1 output), ∂E/∂w1 = δ·x = 1, ∂E/∂b1 = δ = 1.
    net, x, y = _saturated()
    text = render(trace(net, x, y, 0.5), "text")
    assert "δ_o1 = ∂E_total/∂net_o1 = out_o1 − target_o1 = 1 − 0 = 1" in text
    assert "∂E_total/∂w1 = ∂E_total/∂net_o1·∂net_o1/∂w1 = 1·1 = 1" in text
    assert "(out − target)/n" in text  # the note says which formula the backward pass used
    assert "∂out_o1/∂net_o1" not in text  # (0 here: a factor of nothing printed)
    step = 1e-6  # finite differences of the network's own error
    E = [net.evaluate_params(np.array([50.0 + s, 0.0]), np.array(x), np.array(y))
         for s in (-step, step)]  # fmt: skip
    assert (E[1] - E[0]) / (2 * step) == pytest.approx(1.0, abs=1e-6)


def test_two_sigmoid_outputs_with_cross_entropy_divide_by_n():
    # out = σ(0) = 0.5 for both outputs (zero weights); targets 1 and 0; n = 2:
    # δ_o1 = (0.5 − 1)/2 = -0.25, δ_o2 = (0.5 − 0)/2 = 0.25.
    net = dr.Network([1, 2], output_activation="sigmoid", initializer="zeros", dtype="float64")
    text = render(trace(net, [[1.0]], [[1.0, 0.0]], 0.5), "text")
    assert "δ_o1 = ∂E_total/∂net_o1 = (out_o1 − target_o1)/n = (0.5 − 1)/2 = -0.25" in text
    assert "= (0.5 − 0)/2 = 0.25" in text


# ------------------------------------------------------------- overflow and divergence
def _identity(dtype: str = "float32") -> dr.Network:
    net = dr.Network([3, 1], output_activation="identity", loss="mse", dtype=dtype)
    net.set_parameters({"W1": [[1.0, 1.0, 1.0]], "b1": [0.0]})
    return net


def test_an_example_that_overflows_is_refused_naming_the_value():
    # out = 3e30 (finite in float32); E = (3e30 − 0)² = 9e60 > 3.4e38: inf.
    with pytest.raises(NonFiniteError, match=r"E_total = inf as the error.*dtype='float64'") as e:
        trace(_identity(), [[1e30, 1e30, 1e30]], [[0.0]])
    assert (e.value.stage, e.value.quantity) == ("error", "E_total")
    assert isinstance(e.value, InputError)


def test_an_overflow_at_the_command_line_is_one_error_line(tmp_path, capsys):
    path = tmp_path / "reg.safetensors"
    save_model(_identity(), path)
    plot = tmp_path / "big.png"
    err = one_error(*run(capsys, "explain", "--model", str(path), "--input", "1e30,1e30,1e30",
                         "--target", "0", "--steps", "3", "--plot", str(plot)))  # fmt: skip
    assert "E_total = inf" in err and "float32" in err and "--raw" in err
    assert not plot.exists()


def test_a_diverging_training_stops_and_says_so(tmp_path, capsys):
    # One weight w, x = 1, target 0, E = ½w², dE/dw = w: w ← (1 − η)w. With η = 1e5 from
    # w = 1, |w_k| = 99999^k, and E_k = ½·99999^(2k) overflows float64 (1.8e308) first at
    # k = 31 (2k·log10(99999) > 308.55 from k = 30.86).
    net = dr.Network([1, 1], output_activation="identity", use_bias=False, dtype="float64")
    net.set_parameters({"W1": [[1.0]]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no numpy overflow warning leaks)
        t = trace(net, [[1.0]], [[0.0]], 1e5, steps=100)
    assert t.diverged == 31 and t.final_error is None
    assert all(math.isfinite(e) for _, e in t.curve) and t.curve[-1][0] < 31
    assert "The training diverged: after 31 updates" in render(t, "text")
    assert json.loads(render(t, "json"))["diverged_after"] == 31
    path = tmp_path / "one.safetensors"
    save_model(net, path)
    code, out, err = run(capsys, "explain", "--model", str(path), "--input", "1", "--target",
                         "0", "--learning-rate", "1e5", "--steps", "100")  # fmt: skip
    assert code == 0 and "The training diverged" in out
    assert err.startswith("warning: the training diverged") and "--learning-rate" in err


# ------------------------------------------------------------------------- the target
def test_the_error_section_shows_the_target_for_every_loss():
    net = dr.Network([2, 2], output_activation="sigmoid", dtype="float64", seed=0)
    text = render(trace(net, [[0.1, 0.2]], [[1.0, 0.0]]), "text")
    error = text.split("2. Error")[1].split("3. ")[0]
    assert "target_o1 = 1" in error and "target_o2 = 0" in error


def test_a_chosen_target_names_its_class():
    net = dr.Network([3, 4, 3], activation="tanh", output_activation="softmax", seed=2,
                     dtype="float64")  # fmt: skip
    x = [0.1, 0.5, -0.3]
    k = int(np.argmax(net.predict([x])))
    text = explain_example(net, x, classes=["cat", "dog", "eel"])
    assert (
        f"the target is the predicted class, o{k + 1}, class {['cat', 'dog', 'eel'][k]!r}" in text
    )


def test_the_command_line_names_the_predicted_class(tmp_path, capsys, monkeypatch):
    pd = pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.normal(size=30), "kind": ["yes", "no", "maybe"] * 10}).to_csv(
        "d.csv", index=False
    )
    assert run(capsys, "train", "d.csv", "--target", "kind", "--epochs", "2", "--quiet",
               "--out", "m.safetensors")[0] == 0  # fmt: skip
    network = load_model("m.safetensors")
    k = int(np.argmax(network.network.predict([[0.3]])))
    code, out, _ = run(capsys, "explain", "--model", "m.safetensors", "--input", "0.3")
    assert code == 0 and f"class {network.classes[k]!r}" in out


# ------------------------------------------------------------------- parsing --input
@pytest.mark.parametrize(
    "row, message",
    [
        ("1,,2", "--input has an empty value at position 2 ('1,,2')"),
        ("1,2,", "--input has an empty value at position 3"),
        ("nan,1,2", "--input value 1 is nan; expected finite numbers"),
        ("1e40,1,2", "--input value 1 is 1e+40, beyond the largest number the model computes "
         "with (float32: 3.4e+38)"),
        ("1,x,2", "--input value 2 is 'x', not a number"),
    ],
)  # fmt: skip
def test_bad_input_values_are_named_in_command_line_terms(tmp_path, capsys, row, message):
    # (empty fields were dropped: 1,,2,3,4,5 read as 1,2,3,4,5; the others said
    # "X contains NaN" or "use dtype='float64'", Python terms)
    path = tmp_path / "m.safetensors"
    save_model(_identity(), path)
    err = one_error(*run(capsys, "explain", "--model", str(path), "--input", row, "--target",
                         "0"))  # fmt: skip
    assert message in err and "dtype=" not in err and "X " not in err


@pytest.mark.parametrize(
    "target, message",
    [
        ("2", "--target 2 is outside what the model's binary_crossentropy loss takes: a value "
         "from 0 to 1"),
        ("1e300", "--target value 1 is 1e+300, beyond the largest number"),
    ],
)  # fmt: skip
def test_bad_targets_are_named_in_command_line_terms(tmp_path, capsys, target, message):
    path = tmp_path / "m.safetensors"
    save_model(dr.Network([3, 1], output_activation="sigmoid", seed=0), path)
    err = one_error(*run(capsys, "explain", "--model", str(path), "--input", "0,0,0",
                         "--target", target))  # fmt: skip
    assert message in err and "another loss" not in err and "dtype=" not in err


def test_bad_output_paths_are_named_in_command_line_terms(tmp_path, capsys):
    (tmp_path / "adir").mkdir()
    err = one_error(*run(capsys, "explain", "--out", str(tmp_path / "adir")))
    assert "--out" in err and "is a folder; expected a file path such as walk.txt" in err
    assert "model.safetensors" not in err
    err = one_error(*run(capsys, "explain", "--format", "html", "--out", str(tmp_path / "no/x")))
    assert "--out" in err and "does not exist" in err
    err = one_error(*run(capsys, "draw", "--example", "tutorial", "--out", str(tmp_path / "adir")))
    assert "--out" in err and "folder" in err


# --------------------------------------------------------------------------- --raw
def test_raw_refuses_a_training_checkpoint(tmp_path, capsys, monkeypatch):
    from deltarule.io.checkpoint import Checkpoint

    monkeypatch.chdir(tmp_path)
    X = np.random.default_rng(0).normal(size=(20, 3))
    trainer = dr.Trainer(dr.Network([3, 4, 1], seed=0), "adam", seed=0)
    trainer.fit(X, X[:, :1], epochs=1, verbose=0, callbacks=[Checkpoint("py")],
                warn_convergence=False)  # fmt: skip
    err = one_error(*run(capsys, "explain", "--model", "py/checkpoint.safetensors", "--raw",
                         "--input", "1,2,3", "--target", "1"))  # fmt: skip
    assert "is a training checkpoint, not a finished model" in err and "drop --raw" in err
    code, _, err = run(capsys, "explain", "--model", "py/checkpoint.safetensors", "--input",
                       "1,2,3", "--target", "1")  # fmt: skip
    assert code == 0, err  # (without --raw: the network's own values, as asked)


def test_raw_on_a_network_without_preprocessing_says_to_drop_raw(tmp_path, capsys):
    path = tmp_path / "two.safetensors"
    save_model(dr.Network([3, 4, 2], activation="tanh", seed=0), path)
    err = one_error(*run(capsys, "explain", "--model", str(path), "--raw", "--input", "1,2,3",
                         "--target", "1"))  # fmt: skip
    assert "Drop --raw and give --input as the network's 3 input values" in err
    assert "Predict from Python" not in err


# ------------------------------------------------------------------- writing outputs
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_failed_out_leaves_no_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "new.png"
    err = one_error(*run(capsys, "explain", "--steps", "5", "--plot", str(plot), "--out",
                         "/dev/full"))  # fmt: skip
    assert "could not write --out /dev/full: No space left on device" in err
    assert "check the disk" in err.lower() and not plot.exists()


def test_plot_and_out_both_say_wrote(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot, out = tmp_path / "c.svg", tmp_path / "w.txt"
    code, stdout, err = run(capsys, "explain", "--steps", "5", "--plot", str(plot), "--out",
                            str(out))  # fmt: skip
    assert code == 0 and stdout == ""
    assert err == f"wrote {out}\nwrote {plot}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.svg", "w.txt"]


def test_plot_with_model_traces_once(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    import deltarule.explain as explain

    calls = []
    real = explain.recorder.trace

    def counted(*args, **kwargs):  # noqa: ANN202
        calls.append(kwargs.get("steps"))
        return real(*args, **kwargs)

    monkeypatch.setattr(explain, "trace", counted)
    path = tmp_path / "m.safetensors"
    save_model(_identity("float64"), path)
    code, _, err = run(capsys, "explain", "--model", str(path), "--input", "0,0,0", "--target",
                       "1", "--steps", "5", "--plot", str(tmp_path / "c.png"))  # fmt: skip
    assert code == 0, err
    assert calls == [5]


def test_a_zero_error_curve_plots_on_a_linear_axis(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "m.safetensors"
    save_model(_identity("float64"), path)  # out = 0 for input 0: target 0 is no error
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # (matplotlib's "Data has no positive values")
        code, _, err = run(
            capsys,
            "explain",
            "--model",
            str(path),
            "--input",
            "0,0,0",
            "--target",
            "0",
            "--steps",
            "3",
            "--plot",
            str(tmp_path / "c.svg"),
        )
    assert code == 0 and "warning" not in err, err


# ----------------------------------------------------------------- --example linear
def test_the_descent_table_always_separates_its_columns(capsys):
    # (W = -2.677624e+151 and E = 5.974725e+302 ran together: "-2.677624e+1515.974725e+302")
    code, out, _ = run(capsys, "explain", "--example", "linear", "--learning-rate", "5")
    assert code == 0
    table = out.split("dE/dW\n")[1].split("\n\n")[0].splitlines()
    rows = [line.split() for line in table if line.strip() != "..."]
    assert len(rows) == 15 and all(len(row) == 4 for row in rows), rows


def test_a_diverging_descent_is_plotted_near_its_curve():
    from deltarule.explain.linear import linear_figure, plotted_steps

    pytest.importorskip("matplotlib")
    walk = linear_walk(5.0)  # W: 3, then 3 − 5·(5/3)·1 = -5.33, 55.8, ...: diverges
    points, cut = plotted_steps(walk)
    assert points == [(3.0, pytest.approx(5 / 6))] and cut == 1  # E(3) = ½·⅓·(1 + 4) = 5/6
    ax = linear_figure(walk).axes[0]
    assert ax.get_xlim()[1] < 10 and ax.get_ylim()[1] < 10
    assert "diverged" in ax.get_title()


# --------------------------------------------------------------------- float32 digits
def test_float32_values_are_shown_with_float32_digits():
    net, X, y = tutorial_network("float32")
    text = render(trace(net, X, y), "text")
    assert "0.15·0.05 + 0.2·0.1 + 0.35" in text  # (was 0.150000006·0.050000001 + ...)
    assert "0.100000001" not in text and "0.150000006" not in text
    assert fmt(np.float32(0.1)) == "0.1" and fmt(0.1, "float64") == "0.1"
    assert fmt(0.15000000596046448, "float32") == "0.15"
    assert fmt(0.15000000596046448) == "0.150000006"  # (float64: the exact digits stay)


# ------------------------------------------------------------------ Python API checks
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda n: draw_network(n, max_neurons=2), "max_neurons must be >= 3"),
        (lambda n: draw_network(n, max_neurons=0), "max_neurons must be >= 3"),
        (lambda n: draw_network(n, max_neurons="5"), "max_neurons must be an integer"),
        (lambda n: draw_network(n, max_neurons=1.5), "max_neurons must be an integer"),
        (lambda n: draw_network(n, show_values="yes"), "show_values must be True, False or"),
        (lambda n: diagram_svg("x"), "diagram_svg needs a Diagram"),
        (lambda n: render("x"), "render needs a Trace"),
        (lambda n: to_json_data(None), "to_json_data needs a Trace"),
        (lambda n: layer_summary(None), "layer_summary needs a Trace"),
        (lambda n: trace(n, [[0, 0]], [[0, 0]], steps=5, n_points=0), "n_points must be >= 2"),
        (lambda n: trace(n, [[0, 0]], [[0, 0]], steps=5, n_points=1.5), "n_points must be an"),
        (lambda n: linear_walk(tolerance=-1), "tolerance must be > 0"),
        (lambda n: linear_walk(tolerance=float("nan")), "tolerance must be a finite number"),
        (lambda n: linear_walk(start="3"), "start must be a finite number"),
        (lambda n: neuron_labels([2]), "at least two positive integers"),
    ],
)
def test_python_api_arguments_are_checked(call, message):
    net = tutorial_network()[0]
    with pytest.raises(InputError, match=re.escape(message)):
        call(net)


def test_a_diagram_still_draws():
    svg = diagram_svg(Diagram.from_network(tutorial_network()[0]), max_neurons=3)
    assert svg.startswith("<svg")


def test_textbook_examples_all_return_network_and_data():
    for name, example in EXAMPLES.items():
        net, X, y = example()
        assert isinstance(net, dr.Network), name
        assert net.evaluate(X, y) >= 0 and X.shape[0] == y.shape[0]


# ------------------------------------------------------------------------ cosmetics
def test_negative_numbers_get_brackets_only_where_needed():
    net = dr.Network([1, 1], output_activation="relu", dtype="float64")
    net.set_parameters({"W1": [[-0.5]], "b1": [0.0]})
    text = render(trace(net, [[1.0]], [[1.0]]), "text")
    assert "max(0, -0.5)" in text and "[-0.5 > 0]" in text
    assert "max(0, (-0.5))" not in text and "[(-0.5) > 0]" not in text


def test_an_update_that_overflows_is_refused_naming_the_first_weight():
    # (the loss and gradients finite: only the update's w - lr g overflows)
    with pytest.raises(NonFiniteError) as e:
        trace(_identity("float64"), [[1.0, 1.0, 1.0]], [[0.0]], learning_rate=1e308)
    assert (e.value.stage, e.value.quantity) == ("update", "w1⁺")


def test_a_finite_walk_names_no_weight_to_check_it(monkeypatch):
    # (every weight got a label and an object to find none infinite: a 4-million-weight
    # model took 11.6 s and 1.6 GB to explain in 1.5 KB)
    from deltarule.explain import events

    def refuse(self):
        raise AssertionError("Trace.weights called for the finiteness check")

    net = dr.Network([6, 40, 40, 3], output_activation="softmax", seed=0, dtype="float64")
    walk = trace(net, np.full((1, 6), 0.1), [[0.0, 1.0, 0.0]])  # (the check runs in trace)
    monkeypatch.setattr(events.Trace, "weights", refuse)
    from deltarule.explain.recorder import _check_finite

    _check_finite(walk, np.full((1, 6), 0.1), np.array([[0.0, 1.0, 0.0]]))


def test_the_weights_are_numbered_as_weight_label_numbers_them():
    from deltarule.explain.events import weight_label

    net = dr.Network([3, 4, 2, 2], seed=0, dtype="float64")
    walk = trace(net, [[0.1, 0.2, 0.3]], [[0.0, 1.0]])
    assert [w.label for w in walk.weights()] == [
        weight_label([3, 4, 2, 2], w.layer, w.row, w.col) for w in walk.weights()
    ]
    assert [w.label for w in walk.weights()] == [f"w{k}" for k in range(1, 12 + 8 + 4 + 1)]


@pytest.mark.parametrize(
    ("sizes", "output", "classes", "said"),
    [
        ([2, 1], "sigmoid", ["a", "b", "c"],
         "classes has 3 labels ('a', 'b', 'c'), but the network has 1 output; expected 2 "
         "labels, those of 0 and 1"),
        ([2, 3], "softmax", ["a", "b"],
         "classes has 2 labels ('a', 'b'), but the network has 3 outputs; expected 3 labels, "
         "one per output"),
        ([2, 3], "softmax", "abc", "classes must be a list (or 1-D array) of labels; received "
         "str 'abc'"),
    ],
)  # fmt: skip
def test_classes_that_name_no_output_are_refused(sizes, output, classes, said) -> None:
    # They were ignored: the note named no class, silently.
    net = dr.Network(sizes, output_activation=output, seed=0)
    with pytest.raises(dr.InputError) as info:
        explain_example(net, [0.1, 0.2], classes=classes)
    assert (
        said in str(info.value)
        and "or leave classes out" in str(info.value)
        or ("E.g. classes=" in str(info.value))
    )
    good = ["a", "b"] if sizes[-1] == 1 else ["a", "b", "c"]  # (then named in the note)
    assert "class '" in explain_example(net, [0.1, 0.2], classes=good)


def test_classes_as_an_array_are_labels_too() -> None:
    # (a scikit-learn estimator's classes_ is an array: refused for a day)
    net = dr.Network([2, 3], output_activation="softmax", seed=0)
    listed = explain_example(net, [0.1, 0.2], classes=["a", "b", "c"])
    assert explain_example(net, [0.1, 0.2], classes=np.array(["a", "b", "c"])) == listed
