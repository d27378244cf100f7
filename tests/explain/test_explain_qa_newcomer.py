"""``deltarule explain`` as a newcomer uses it (QA): the model file given as the other
commands take it (``explain MODEL``), and a warning when --input without --raw is read as
the network's own (standardised) inputs of a model that transforms its data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deltarule.cli import main


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("m")
    rng = np.random.default_rng(0)
    X = rng.normal(loc=5.0, scale=2.0, size=(60, 2))
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "y": np.where(X[:, 0] > 5, "p", "q")})
    frame.to_csv(folder / "d.csv", index=False)
    out = folder / "m.safetensors"
    assert main(["train", str(folder / "d.csv"), "--target", "y", "--epochs", "3", "--quiet",
                 "--out", str(out)]) == 0  # fmt: skip
    return str(out)


def test_explain_takes_the_model_as_its_first_argument(trained, capsys):
    capsys.readouterr()
    by_option = main(["explain", "--model", trained, "--raw", "--input", "5,6"])
    first = capsys.readouterr().out
    by_position = main(["explain", trained, "--raw", "--input", "5,6"])
    assert by_option == by_position == 0 and capsys.readouterr().out == first
    assert main(["explain", trained, "--model", trained + ".other", "--input", "0,0"]) == 2
    assert "give the model once" in capsys.readouterr().err


def test_inputs_without_raw_on_a_transforming_model_are_warned_about(trained, capsys):
    capsys.readouterr()
    assert main(["explain", trained, "--input", "5.1,3.5"]) == 0
    err = capsys.readouterr().err
    assert "without --raw, --input is taken as the network's own input values" in err
    assert main(["explain", trained, "--raw", "--input", "5.1,3.5"]) == 0
    assert "--raw" not in capsys.readouterr().err


def test_explains_out_extension_chooses_the_format(tmp_path, capsys):
    # (QA: --out walk.html wrote plain text)
    html, md = tmp_path / "walk.html", tmp_path / "walk.md"
    assert main(["explain", "--out", str(html)]) == 0
    assert main(["explain", "--out", str(md)]) == 0
    assert html.read_text().lstrip().lower().startswith("<!doctype html")
    assert md.read_text().startswith("#")
    capsys.readouterr()
    assert main(["explain", "--format", "text", "--out", str(tmp_path / "w.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--format text does not match --out" in err[0]
    assert main(["explain", "--out", str(tmp_path / "walk.txt")]) == 0
    assert (tmp_path / "walk.txt").read_text().startswith("Backpropagation, step by step")
