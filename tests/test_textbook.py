"""The tutorial's published numbers, reproduced through the public API."""

from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule.textbook import (
    TUTORIAL_LEARNING_RATE,
    linear_data,
    linear_error_table,
    linear_network,
    tutorial_network,
    tutorial_weights,
)


def sig9(x: float) -> str:
    return f"{x:.9g}"


def test_forward_pass_and_total_error() -> None:
    net, X, y = tutorial_network()
    output = net.predict(X)
    # Published: out_o1 = 0.75136507, out_o2 = 0.772928465, E_total = 0.298371109.
    assert output[0, 0] == pytest.approx(0.75136507, abs=5e-9)
    assert output[0, 1] == pytest.approx(0.772928465, abs=5e-10)
    assert sig9(net.evaluate(X, y)) == "0.298371109"


def test_gradient_of_w5_and_one_update() -> None:
    net, X, y = tutorial_network()
    loss, grad = net.loss_and_gradient(X, y)
    assert sig9(loss) == "0.298371109"
    # Published to 9 decimals: 0.082167041.
    assert f"{tutorial_weights(grad)['w5']:.9f}" == "0.082167041"
    net.fit(
        X,
        y,
        epochs=1,
        batch_size=1,
        optimizer="sgd",
        learning_rate=TUTORIAL_LEARNING_RATE,
        metrics=[],
        verbose=0,
    )
    w = tutorial_weights(net.parameters)
    # Published: w5+ = 0.35891648, w1+ = 0.149780716 (and the rest of the walk).
    assert f"{w['w5']:.8g}" == "0.35891648"
    assert sig9(w["w1"]) == "0.149780716"
    # The rest of the published walk, to the digits it prints.
    published = {
        "w2": "0.19956143",
        "w3": "0.24975114",
        "w4": "0.29950229",
        "w6": "0.408666186",
        "w7": "0.511301270",
        "w8": "0.561370121",
    }
    for name, text in published.items():
        decimals = len(text.split(".")[1])
        assert f"{w[name]:.{decimals}f}" == text, name


def test_biases_are_held_fixed() -> None:
    net, X, y = tutorial_network()
    net.fit(X, y, epochs=5, batch_size=1, optimizer="sgd", learning_rate=0.5, metrics=[], verbose=0)
    params = net.get_parameters()
    np.testing.assert_array_equal(params["b1"], [0.35, 0.35])
    np.testing.assert_array_equal(params["b2"], [0.60, 0.60])


def test_error_after_ten_thousand_updates() -> None:
    net, X, y = tutorial_network()
    with pytest.warns(dr.ConvergenceWarning, match="still falling"):
        history = net.fit(
            X,
            y,
            epochs=10_000,
            batch_size=1,
            optimizer="sgd",
            learning_rate=0.5,
            metrics=[],
            verbose=0,
        )
    # Published (Mazur's walk of the same network): 0.0000351085, the error of the
    # 10,000th forward pass.
    assert f"{history.loss[-1]:.6g}" == "3.51085e-05"


def test_gradients_agree_with_finite_differences() -> None:
    net, X, y = tutorial_network()
    assert dr.check_gradients(net, X, y, tolerance=1e-7).passed


def test_linear_error_tables() -> None:
    # The tutorial's tables for W = 3 and W = 4 (its W = 2 table has typos; the true errors are 0).
    w3 = linear_error_table(3.0)
    assert [r["output"] for r in w3] == [0, 3, 6]
    assert [r["absolute_error"] for r in w3] == [0, 1, 2]
    assert [r["square_error"] for r in w3] == [0, 1, 4]
    w4 = linear_error_table(4.0)
    assert [r["output"] for r in w4] == [0, 4, 8]
    assert [r["square_error"] for r in w4] == [0, 4, 16]
    w2 = linear_error_table(2.0)
    assert [r["output"] for r in w2] == [0, 2, 4]
    assert [r["square_error"] for r in w2] == [0, 0, 0]


def test_gradient_descent_from_three_reaches_the_global_minimum() -> None:
    net = linear_network(3.0)
    X, y = linear_data()
    history = net.fit(
        X,
        y,
        epochs=500,
        batch_size=None,
        optimizer="sgd",
        learning_rate=0.1,
        target_error=1e-12,
        metrics=[],
        verbose=0,
    )
    assert history.stop_reason.startswith("target error reached")
    assert float(net.parameters[0]) == pytest.approx(2.0, abs=1e-5)
    losses = history.loss
    assert all(b < a for a, b in zip(losses, losses[1:]))  # the error falls every step


def test_tutorial_weights_needs_the_tutorial_networks_twelve_parameters() -> None:
    from deltarule import InputError
    from deltarule.textbook import tutorial_network, tutorial_weights

    assert tutorial_weights(tutorial_network()[0].parameters)["w1"] == 0.15  # the tutorial's
    for bad in ([1, 2, 3], None):  # (an IndexError, a TypeError)
        with pytest.raises(InputError, match="takes the tutorial network's 12 parameters"):
            tutorial_weights(bad)
