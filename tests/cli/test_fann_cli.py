"""FANN training files as DATA: train, predict and evaluate read the inputs as X and the
outputs as the target y (as an NPZ file's); a .data file that is not FANN's is refused."""

from __future__ import annotations

import pytest

from .cli_helpers import cli

XOR = "4 2 1\n0 0\n0\n0 1\n1\n1 0\n1\n1 1\n0\n"


@pytest.mark.parametrize("suffix", [".data", ".fann"])
def test_train_predict_evaluate_on_a_fann_file(tmp_path, capsys, suffix) -> None:
    data = tmp_path / f"xor{suffix}"
    data.write_text(XOR)
    model = tmp_path / "m.safetensors"
    code, _, err = cli(capsys, "train", str(data), "--out", str(model), "--epochs", "5",
                       "--validation-split", "0", "--quiet")  # fmt: skip
    assert code == 0, err
    code, out, err = cli(capsys, "predict", str(model), str(data))
    assert code == 0, err
    assert len(out.strip().splitlines()) == 5  # a header and one row per example
    code, out, err = cli(capsys, "evaluate", str(model), str(data))
    assert code == 0, err


def test_a_uci_style_data_file_is_refused_with_what_to_do(tmp_path, capsys) -> None:
    data = tmp_path / "iris.data"
    data.write_text("5.1,3.5,1.4,0.2,Iris-setosa\n4.9,3.0,1.4,0.2,Iris-setosa\n")
    code, _, err = cli(capsys, "train", str(data), "--out", str(tmp_path / "m.safetensors"))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "not a FANN training file" in err and "'n_examples n_inputs n_outputs'" in err
    assert "rename it to .csv" in err and "header row" in err


def test_a_malformed_fann_file_names_the_line(tmp_path, capsys) -> None:
    data = tmp_path / "bad.data"
    data.write_text("2 2 1\n0 0\n0\n0 1 1\n1\n")
    code, _, err = cli(capsys, "train", str(data), "--out", str(tmp_path / "m.safetensors"))
    assert code == 2 and "line 4" in err and err.startswith("error: ")


def test_target_other_than_y_is_refused_for_a_fann_file(tmp_path, capsys) -> None:
    data = tmp_path / "xor.data"
    data.write_text(XOR)
    code, _, err = cli(capsys, "train", str(data), "--target", "label",
                       "--out", str(tmp_path / "m.safetensors"))  # fmt: skip
    assert code == 2 and "FANN file" in err
