"""``deltarule explain --model``: the learning rate it takes and says, --raw where the file
has no preprocessing, and its error messages in the command line's terms (a QA pass).

Reference values (a learning rate, a class, a column's mean) are read from the model file
or the estimator itself, never from explain's output.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import scipy.sparse

import deltarule as dr
from deltarule.cli import main
from deltarule.exceptions import InputError
from deltarule.explain import explain_example
from deltarule.io import load_model, save_model

pd = pytest.importorskip("pandas")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_error(code: int, out: str, err: str) -> str:
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert err.startswith("error: ") and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A small regression table: a number (``age``, mean about 40), a category, a target."""
    folder = tmp_path_factory.mktemp("notes")
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.normal(40, 10, 60), "color": ["red", "blue"] * 30})
    frame["y"] = frame["age"] / 10 + (frame["color"] == "red") + rng.normal(0, 0.1, 60)
    frame.to_csv(folder / "d.csv", index=False)
    return folder


def _train(capsys, folder, name: str, *options: str):
    path = folder / f"{name}.safetensors"
    if not path.exists():
        assert run(capsys, "train", folder / "d.csv", "--target", "y", "--epochs", "3",
                   "--hidden", "3", "--quiet", "--out", path, *options)[0] == 0  # fmt: skip
    return path


def _walk(capsys, path, *argv: str) -> dict:
    code, out, err = run(capsys, "explain", "--model", path, "--format", "json", *argv)
    assert code == 0, err
    return json.loads(out)


# ------------------------------------------------------------------ the learning rate
@pytest.mark.parametrize("optimizer", ["lbfgs", "irprop_plus", "irprop_minus", "lm"])
def test_an_optimizer_without_a_learning_rate_says_why_eta_is_half(table, capsys, optimizer):
    path = _train(capsys, table, optimizer, "--optimizer", optimizer)
    settings = load_model(path).header["training"]["summary"]["settings"]
    assert settings["optimizer"] == optimizer
    data = _walk(capsys, path, "--input", "0.1,1,0", "--target", "4")
    assert data["learning_rate"] == 0.5
    assert (f"η = 0.5 (the tutorial's; this model's optimizer {optimizer} has no learning "
            "rate; --learning-rate to choose).") in data["note"]  # fmt: skip
    # the header shows it (text)
    code, out, _ = run(capsys, "explain", "--model", path, "--input", "0.1,1,0", "--target", "4")
    assert code == 0 and f"optimizer {optimizer} has no learning rate" in out.split("\n\n")[0]
    data = _walk(capsys, path, "--input", "0.1,1,0", "--target", "4", "--learning-rate", "0.1")
    assert data["learning_rate"] == 0.1 and "η = " not in data["note"]


def test_a_model_trained_with_a_learning_rate_still_uses_it(table, capsys):
    path = _train(capsys, table, "sgd", "--optimizer", "sgd", "--learning-rate", "0.0375")
    data = _walk(capsys, path, "--input", "0.1,1,0", "--target", "4")
    assert data["learning_rate"] == 0.0375
    note = data["note"]
    assert "η = 0.0375 is the learning rate this model was trained with (optimizer sgd)" in note


def _estimator(tmp_path, cls: str, **params):
    from deltarule.sklearn import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, 2.0, -1.0] if cls == "MLPRegressor" else (X[:, 0] > 0).astype(int)
    estimator = {"MLPRegressor": MLPRegressor, "MLPClassifier": MLPClassifier}[cls](
        hidden_layer_sizes=(4,), max_iter=3, random_state=0, **params
    )
    with pytest.warns(Warning):  # (3 iterations: not converged)
        estimator.fit(X, y)
    path = tmp_path / f"{cls}.safetensors"
    estimator.save(path)
    return estimator, path


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_a_scikit_learn_estimators_file_gives_its_learning_rate_init(tmp_path, capsys, solver):
    estimator, path = _estimator(tmp_path, "MLPRegressor", solver=solver,
                                 learning_rate_init=0.0123)  # fmt: skip
    params = load_model(path).header["training"]["params"]  # (where the file keeps it)
    assert params["learning_rate_init"] == estimator.learning_rate_init == 0.0123
    data = _walk(capsys, path, "--input", "0.5,-1,2", "--target", "1.5")
    assert data["learning_rate"] == 0.0123
    assert f"this MLPRegressor's learning_rate_init, solver {solver}" in data["note"]
    # the update is one step of that η: w⁺ = w − 0.0123·∂E/∂w
    W1 = data["tensors"]["W1"]
    step = np.array(W1["value"]) - 0.0123 * np.array(W1["gradient"])
    assert np.allclose(W1["updated"], step, rtol=0, atol=1e-7)


def test_a_scheduled_sgd_estimator_says_its_rate_changed(tmp_path, capsys):
    _, path = _estimator(tmp_path, "MLPClassifier", solver="sgd", learning_rate="invscaling",
                         learning_rate_init=0.05)  # fmt: skip
    data = _walk(capsys, path, "--input", "0.5,-1,2")
    assert data["learning_rate"] == 0.05
    assert "learning_rate='invscaling' schedule changed it during training" in data["note"]


@pytest.mark.parametrize("solver", ["lbfgs", "rprop"])
def test_a_scikit_learn_solver_without_a_learning_rate_says_why(tmp_path, capsys, solver):
    _, path = _estimator(tmp_path, "MLPRegressor", solver=solver, learning_rate_init=0.0123)
    data = _walk(capsys, path, "--input", "0.5,-1,2", "--target", "1.5")
    assert data["learning_rate"] == 0.5  # (learning_rate_init is recorded, but unused)
    assert (f"η = 0.5 (the tutorial's; this MLPRegressor's solver {solver} has no learning "
            "rate; --learning-rate to choose).") in data["note"]  # fmt: skip


def test_a_file_without_a_training_record_says_why_eta_is_half(tmp_path, capsys):
    save_model(dr.Network([2, 1], output_activation="identity", seed=0), tmp_path / "m.safetensors")
    data = _walk(capsys, tmp_path / "m.safetensors", "--input", "0.5,1", "--target", "2")
    assert data["learning_rate"] == 0.5
    assert "η = 0.5 (the tutorial's; this model's file has no training record" in data["note"]


def test_a_checkpoint_gives_its_trainers_learning_rate(tmp_path, capsys, monkeypatch):
    from deltarule.io.checkpoint import Checkpoint

    monkeypatch.chdir(tmp_path)
    X = np.random.default_rng(0).normal(size=(20, 3))
    trainer = dr.Trainer(dr.Network([3, 4, 1], seed=0), dr.optimizers.SGD(0.0625), seed=0)
    trainer.fit(X, X[:, :1], epochs=1, verbose=0, callbacks=[Checkpoint("py")],
                warn_convergence=False)  # fmt: skip
    data = _walk(capsys, "py/checkpoint.safetensors", "--input", "1,2,3", "--target", "1")
    assert data["learning_rate"] == 0.0625


# ------------------------------------------------------- --raw without preprocessing
def test_raw_is_refused_for_a_file_without_preprocessing(tmp_path, capsys):
    # (it invented one: "i1 = (x0 − mean)/std = (59 − 0)/1 = 59")
    path = tmp_path / "bare.safetensors"
    save_model(dr.Network([2, 1], output_activation="identity", seed=0), path)
    err = one_error(*run(capsys, "explain", "--model", path, "--raw", "--input", "59,1",
                         "--target", "1"))  # fmt: skip
    assert f"{path} has none" in err and "preprocessing" in err
    assert "Drop --raw and give --input as the network's 2 input values" in err
    assert "(and --target as its 1 output value)" in err
    code, out, err = run(capsys, "explain", "--model", path, "--input", "59,1", "--target", "1")
    assert code == 0 and "mean)/std" not in out  # (without --raw: the values as they are)


def test_raw_is_refused_for_a_scikit_learn_estimators_file(tmp_path, capsys):
    _, path = _estimator(tmp_path, "MLPRegressor")
    assert load_model(path).preprocessing is None
    err = one_error(*run(capsys, "explain", "--model", path, "--raw", "--input", "1,2,3",
                         "--target", "1"))  # fmt: skip
    assert "has none" in err and "give --input as the network's 3 input values" in err


# ----------------------------------------------------------------------- messages
def test_a_wrong_count_of_targets_gets_target_advice(table, capsys):
    path = _train(capsys, table, "adam")
    err = one_error(*run(capsys, "explain", "--model", path, "--input", "0.1,1,0", "--target",
                         "1,2"))  # fmt: skip
    assert "--target has 2 value(s) (1,2); the model's network has 1 output, so give one" in err
    assert "the desired output" in err and "--raw for a row" not in err  # (about inputs)


def test_a_wrong_count_of_class_targets_shows_a_one_hot(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    pd.DataFrame({"a": rng.normal(size=30), "kind": ["yes", "no", "maybe"] * 10}).to_csv(
        "k.csv", index=False
    )
    assert run(capsys, "train", "k.csv", "--target", "kind", "--epochs", "2", "--quiet",
               "--out", "k.safetensors")[0] == 0  # fmt: skip
    first = load_model("k.safetensors").classes[0]
    err = one_error(*run(capsys, "explain", "--model", "k.safetensors", "--input", "0.3",
                         "--target", "1,0"))  # fmt: skip
    assert f"the one-hot of the desired class, e.g. 1,0,0 for {first!r}" in err
    assert "leave --target out" in err and "--raw for a row" not in err
    err = one_error(*run(capsys, "explain", "--model", "k.safetensors", "--raw", "--input",
                         "0.3", "--target", "perhaps"))  # fmt: skip
    assert "--target 'perhaps' is not one of the model's classes ('maybe', 'no', 'yes')" in err
    assert "rows counted from 1" not in err


def _example(err: str) -> str:
    match = re.search(r"e\.g\. --input (\S+)\.$", err.strip())
    assert match is not None, err
    return match.group(1)


def test_a_missing_input_shows_an_example_of_the_models_size(tmp_path, capsys):
    # (it said "e.g. 0.1,0.7" for a 10-input model)
    path = tmp_path / "ten.safetensors"
    save_model(dr.Network([10, 1], output_activation="identity", seed=0), path)
    err = one_error(*run(capsys, "explain", "--model", path, "--target", "1"))
    assert "the network's 10 input values" in err
    example = _example(err)
    assert len(example.split(",")) == 10
    assert run(capsys, "explain", "--model", path, "--input", example, "--target", "1")[0] == 0
    wide = tmp_path / "wide.safetensors"
    save_model(dr.Network([784, 3], output_activation="softmax", seed=0), wide)
    err = one_error(*run(capsys, "explain", "--model", wide))
    assert "e.g. --input 0,0,0,... (784 values)." in err


def test_a_missing_raw_input_shows_a_row_of_the_data(table, capsys):
    path = _train(capsys, table, "adam")
    err = one_error(*run(capsys, "explain", "--model", path, "--raw", "--target", "4"))
    assert "a row of the model's 2 data column(s) in order (age, color)" in err
    example = _example(err)
    mean = load_model(path).preprocessing["columns"][0]["mean"]
    assert example == f"{mean:.4g},blue"  # (the column's mean, the first category)
    assert run(capsys, "explain", "--model", path, "--raw", "--input", example, "--target",
               "4")[0] == 0  # fmt: skip


def test_a_missing_input_of_a_preprocessed_model_mentions_raw_too(table, capsys):
    # (it suggested --input 0,0,0 alone: standardised network inputs, not the CSV's values)
    path = _train(capsys, table, "adam")
    err = one_error(*run(capsys, "explain", "--model", path, "--target", "4"))
    assert "input values, after the model's preprocessing (standardised numbers" in err
    assert "e.g. --input 0,0,0; or, for a row of the data's 2 column(s) as in a CSV " in err
    match = re.search(r"\(age, color\), --raw --input (\S+)\.$", err.strip())
    assert match is not None, err
    assert run(capsys, "explain", "--model", path, "--raw", "--input", match.group(1),
               "--target", "4")[0] == 0  # fmt: skip


def test_a_missing_raw_cell_asks_for_its_value(table, capsys):
    path = _train(capsys, table, "adam")  # (trained without --impute)
    err = one_error(*run(capsys, "explain", "--model", path, "--raw", "--input", ",red",
                         "--target", "4"))  # fmt: skip
    assert "--input's value 1 (column 'age') is missing ('')" in err
    assert "give a value for age" in err
    assert "drop those rows" not in err and "--impute" not in err


def test_a_raw_target_that_is_not_a_number_is_named(table, capsys):
    path = _train(capsys, table, "adam")
    err = one_error(*run(capsys, "explain", "--model", path, "--raw", "--input", "30,red",
                         "--target", "abc"))  # fmt: skip
    assert "--target 'abc' is not a number" in err and "target column 'y'" in err
    assert "row 1" not in err


@pytest.mark.parametrize("where", ["x", "y"])
def test_explain_example_names_a_sparse_argument_as_given(where):
    # (x said "X is a sparse matrix; X must be dense here")
    net = dr.Network([3, 1], output_activation="sigmoid", seed=0)
    dense = {"x": np.ones((1, 3)), "y": np.ones((1, 1))}
    args = {**dense, where: scipy.sparse.csr_matrix(dense[where])}
    with pytest.raises(InputError) as info:
        explain_example(net, args["x"], args["y"])
    message = str(info.value)
    assert message.startswith(f"{where} is a sparse matrix") and f"{where}.toarray()" in message
    assert "X is" not in message


def test_explain_example_says_how_many_values_x_needs():
    net = dr.Network([3, 1], output_activation="sigmoid", seed=0)
    with pytest.raises(InputError, match=r"^x has 2 value\(s\) but the network has 3 inputs"):
        explain_example(net, [1.0, 2.0])
