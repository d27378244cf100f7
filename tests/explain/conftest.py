"""Fixtures shared by the explain tests."""

from __future__ import annotations

import pytest

from deltarule.cli import main


@pytest.fixture(scope="module")
def testers_iris_walk(tmp_path_factory) -> str:
    """The QA tester's walk: a float32 iris model (4-4-3-3, tanh, softmax, 30 epochs, seed 1)
    explained on the raw row 5.1,3.5,1.4,0.2 with the target setosa; the walk's text."""
    import contextlib
    import io

    model = tmp_path_factory.mktemp("iris") / "iris.safetensors"
    assert main(["train", "--dataset", "iris", "--hidden", "4,3", "--activation", "tanh",
                 "--epochs", "30", "--quiet", "--out", str(model), "--seed", "1"]) == 0  # fmt: skip
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        assert main(["explain", "--model", str(model), "--raw", "--input", "5.1,3.5,1.4,0.2",
                     "--target", "setosa"]) == 0  # fmt: skip
    return text.getvalue()
