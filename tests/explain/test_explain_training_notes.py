"""The walk's training list says when it shows a selection of the updates, and calls an
error that grew instead of falling what it is (found by a teacher's QA pass)."""

from __future__ import annotations

import html

import pytest

import deltarule as dr
from deltarule.explain import explain_example, explain_tutorial


def _overshooting():
    return dr.Network([3, 4, 2], activation="tanh", output_activation="identity", loss="mse",
                      seed=0)  # fmt: skip


@pytest.mark.parametrize("format", ["text", "markdown", "html"])
def test_a_growing_error_is_called_overshooting(format):
    out = explain_example(_overshooting(), [1, 2, 3], [0, 0], steps=20, format=format)
    out = html.unescape(out)
    assert "The error grew, from 0.7217697 to" in out and "instead of falling" in out
    assert "the learning rate" in out and "is too large for this example" in out


def test_a_falling_error_gets_no_such_note():
    assert "The error grew" not in explain_tutorial(steps=20)


def test_the_list_says_when_it_shows_a_selection():
    assert "(the error after 15 of them, spaced" in explain_tutorial(steps=20)
    assert "spaced more widely" not in explain_tutorial(steps=5)  # (every one of them)


def test_json_carries_the_footnotes_and_the_outputs_after_training():
    # (QA: the JSON left out the notes on the tutorial's differing numbers and the outputs
    # after the training the text shows)
    import json

    import numpy as np

    from deltarule.textbook import tutorial_network

    data = json.loads(explain_tutorial("json", steps=3))
    lines = [note["line"] for note in data["footnotes"]]
    assert "∂E_o2/∂out_h1" in lines and all(note["text"] for note in data["footnotes"])
    net, X, y = tutorial_network()
    net.fit(X, y, epochs=3, batch_size=1, optimizer="sgd", learning_rate=0.5, verbose=0)
    np.testing.assert_allclose(data["final_output"], net.predict(X), rtol=1e-12)
