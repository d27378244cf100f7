"""Every kind of model file at the command line: ``inspect`` describes each one ``load_model``
loads (a network saved from Python, a scikit-learn estimator's file, a checkpoint, a file with
a malformed training record); ``predict`` refuses a checkpoint; a data file given where a model
belongs is named as such."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import deltarule as dr
from deltarule.cli import MODEL_HINTS
from deltarule.io import save_model
from deltarule.io.safetensors import read_safetensors, write_safetensors
from deltarule.textbook import tutorial_network

from .cli_helpers import cli, flowers

TRAIN = ("train", "flowers.csv", "--target", "species", "--epochs", "2", "--quiet")


def one_error_line(code: int, out: str, err: str) -> str:
    assert code == 2 and out == "" and err.count("\n") == 1, (code, out, err)
    assert err.startswith("error: ") and "this is a bug" not in err, err
    return err


# ------------------------------------------------------ networks saved from Python
@pytest.mark.parametrize(
    "network",
    [
        tutorial_network()[0],  # two sigmoid outputs, squared error
        dr.Network([3, 4, 2], activation="tanh", seed=0),  # two regression outputs
        dr.Network([3, 2], output_activation="softmax", seed=0),  # classification, no labels
    ],
)
def test_inspect_describes_a_network_saved_from_python(capsys, in_tmp, network):
    # (before: "its preprocessing makes 2 inputs and 1 outputs but the network has 2 and 2;
    # the file was not written by deltarule train", though the file stores no preprocessing)
    save_model(network, "net.safetensors")
    code, out, err = cli(capsys, "inspect", "net.safetensors")
    assert (code, err) == (0, ""), err
    n_in, n_out = network.layer_sizes[0], network.layer_sizes[-1]
    assert f"dense{len(network.layers)}" in out and f"-> {n_out} " in out
    assert "preprocessing: none stored" in out and "training: no record" in out
    task = "classification" if network.loss.name == "categorical_crossentropy" else "regression"
    assert f"task: {task}" in out
    code, out, _ = cli(capsys, "inspect", "net.safetensors", "--format", "json")
    info = json.loads(out)
    assert code == 0 and info["kind"] == "network" and info["task"] == task
    assert info["layers"][0]["n_inputs"] == n_in and info["layers"][-1]["n_outputs"] == n_out


def test_predict_on_several_regression_outputs_saved_from_python_says_what_to_do(capsys, in_tmp):
    # (before: "its preprocessing makes 3 inputs and 1 outputs but the network has 3 and 2;
    # the file was not written by deltarule train", about a preprocessing it made up)
    save_model(dr.Network([3, 4, 2], activation="tanh", seed=0), "net.safetensors")
    pd.DataFrame({"x0": [0.1], "x1": [0.2], "x2": [0.3]}).to_csv("rows.csv", index=False)
    for command in ("predict", "evaluate"):
        err = one_error_line(*cli(capsys, command, "net.safetensors", "rows.csv"))
        assert "saved without preprocessing, with 2 regression outputs" in err
        assert "load_model(path).network.predict(X)" in err
    save_model(dr.Network([3, 4, 1], activation="tanh", seed=0), "one.safetensors")
    code, out, err = cli(capsys, "predict", "one.safetensors", "rows.csv")  # one output: fine
    assert (code, err) == (0, "") and len(out.splitlines()) == 2


def test_a_loss_s_parameters_are_shown(capsys, in_tmp):
    # (inspect and summary() said "loss: huber" for a huber(0.1) network)
    from deltarule.losses import huber

    net = dr.Network([3, 4, 1], loss=huber(0.1), seed=0)
    assert net.summary().splitlines()[-1] == "loss: huber (delta 0.1)"
    save_model(net, "net.safetensors")
    code, out, _ = cli(capsys, "inspect", "net.safetensors")
    assert code == 0 and "loss: huber (delta 0.1)\n" in out
    info = json.loads(cli(capsys, "inspect", "net.safetensors", "--format", "json")[1])
    assert (info["loss"], info["loss_parameters"]) == ("huber", {"delta": 0.1})
    save_model(dr.Network([3, 4, 1], loss="mse", seed=0), "mse.safetensors")
    code, out, _ = cli(capsys, "inspect", "mse.safetensors")
    assert "loss: mse\n" in out


def test_a_record_saved_from_python_is_listed_by_its_keys(capsys, in_tmp):
    save_model(dr.Network([2, 1]), "net.safetensors", training={"epochs": 5, "notes": "x"})
    code, out, _ = cli(capsys, "inspect", "net.safetensors")
    assert code == 0 and "training: a record saved from Python (keys: epochs, notes;" in out
    assert "None epochs" not in out


# ------------------------------------------------------------- estimator files
def test_inspect_shows_what_an_estimator_file_holds(capsys, in_tmp):
    # (before: "training: None epochs on None (None rows, 0.0 s)", "stopped: None" and an
    # empty settings line)
    from deltarule.sklearn import MLPClassifier

    X = np.random.default_rng(0).normal(size=(30, 3))
    y = np.where(X[:, 0] > 0, "yes", "no")
    estimator = MLPClassifier(hidden_layer_sizes=(5,), max_iter=7, random_state=0)
    with pytest.warns(Warning):  # (7 iterations do not converge)
        estimator.fit(X, y)
    estimator.save("est.safetensors")
    code, out, err = cli(capsys, "inspect", "est.safetensors")
    assert (code, err) == (0, ""), err
    assert "estimator: MLPClassifier (scikit-learn estimator saved by its save(); load it " \
           "with deltarule.sklearn.MLPClassifier.load('est.safetensors'))" in out  # fmt: skip
    assert f"  fitted: n_iter_ 7, t_ {estimator.t_}, loss_ {estimator.loss_:.4g}" in out
    assert "hidden_layer_sizes=[5]" in out and "max_iter=7" in out and "callbacks" not in out
    assert "classes (2): no, yes" in out
    assert "None epochs" not in out and "stopped:" not in out
    code, out, _ = cli(capsys, "inspect", "est.safetensors", "--format", "json")
    info = json.loads(out)
    assert info["kind"] == "estimator" and info["estimator"]["class"] == "MLPClassifier"
    assert info["estimator"]["params"]["hidden_layer_sizes"] == [5]
    assert info["estimator"]["attributes"]["n_iter_"] == 7


# ------------------------------------------------------------------ checkpoints
@pytest.fixture
def checkpoint(capsys, in_tmp) -> Path:
    flowers().to_csv("flowers.csv", index=False)
    code, _, err = cli(capsys, *TRAIN, "--checkpoint", "ck", "--out", "m.safetensors")
    assert code == 0, err
    return Path("ck", "checkpoint.safetensors")


def test_inspect_says_a_checkpoint_is_one(capsys, checkpoint):
    # (before: "classes (3): 0, 1, 2" and "preprocessing: none stored", though the run's
    # classes were names, and nothing said it was a checkpoint)
    code, out, err = cli(capsys, "inspect", checkpoint)
    assert (code, err) == (0, ""), err
    assert "checkpoint: a training checkpoint after 2 epoch(s) (optimizer adam" in out
    assert f"use the run's model file ({Path('m.safetensors').resolve()})" in out
    assert "'deltarule train --resume ck'" in out
    assert "classes: not stored in a checkpoint" in out and "classes (3)" not in out
    assert "preprocessing: none (a checkpoint keeps the network" in out
    assert "target=species" in out and "  epoch 2: loss " in out
    code, out, _ = cli(capsys, "inspect", checkpoint, "--format", "json")
    info = json.loads(out)
    assert info["kind"] == "checkpoint" and info["classes"] is None
    assert info["checkpoint"]["epochs_done"] == 2 and len(info["history"]) == 2


def test_inspect_of_a_checkpoint_folder_points_to_its_file(capsys, checkpoint):
    # (before: "'ck' is a directory; expected a .safetensors file.")
    err = one_error_line(*cli(capsys, "inspect", "ck"))
    assert f"'deltarule inspect {checkpoint}'" in err and "'deltarule train --resume ck'" in err
    err = one_error_line(*cli(capsys, "inspect", "m.safetensors.d"))  # other folders: as before
    assert "m.safetensors.d" in err


def test_predict_refuses_a_checkpoint(capsys, checkpoint):
    # (before: predictions on the raw columns, without the run's scaling and one-hot
    # categories, labelled 0, 1, 2)
    flowers(seed=3).drop(columns="species").to_csv("new.csv", index=False)
    err = one_error_line(*cli(capsys, "predict", checkpoint, "new.csv"))
    assert err.startswith(f"error: {checkpoint} is a training checkpoint, not a finished model")
    assert "'deltarule train --resume ck'" in err and "m.safetensors" in err
    code, out, err = cli(capsys, "predict", "m.safetensors", "new.csv")  # the run's model
    assert (code, err) == (0, "") and out.startswith("species\n")


def test_evaluate_refuses_a_checkpoint(capsys, checkpoint):
    # (before: scored on the raw columns, the labels read as class numbers)
    flowers(seed=3).to_csv("test.csv", index=False)
    err = one_error_line(*cli(capsys, "evaluate", checkpoint, "test.csv"))
    assert err.startswith(f"error: {checkpoint} is a training checkpoint, not a finished model")
    assert "'evaluate' would feed the network raw columns" in err
    code, _, err = cli(capsys, "evaluate", "m.safetensors", "test.csv")
    assert (code, err) == (0, "")


def test_predict_refuses_a_checkpoint_written_from_python(capsys, in_tmp):
    from deltarule.io.checkpoint import Checkpoint

    X = np.random.default_rng(0).normal(size=(20, 3))
    trainer = dr.Trainer(dr.Network([3, 4, 1], seed=0), "adam", seed=0)
    trainer.fit(X, X[:, :1], epochs=1, verbose=0, callbacks=[Checkpoint("py")],
                warn_convergence=False)  # fmt: skip
    np.savez("new.npz", X=X)
    err = one_error_line(*cli(capsys, "predict", "py/checkpoint.safetensors", "new.npz"))
    assert "load_checkpoint and resume_trainer" in err and "--resume" not in err
    code, out, _ = cli(capsys, "inspect", "py/checkpoint.safetensors")
    assert code == 0 and "load_checkpoint and resume_trainer" in out


# ------------------------------------------------------ malformed training records
def _changed_record(path: str, change) -> None:  # noqa: ANN001
    """Change the training record of a model file, rewriting it through the writer (which
    recomputes the checksum: the file is well-formed and loads, its record is not)."""
    tensors, metadata = read_safetensors(path)
    header = json.loads(metadata["deltarule"])
    change(header["training"])
    metadata["deltarule"] = json.dumps(header)
    write_safetensors(path, tensors, metadata)


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        (lambda t: t["summary"].update(seconds="slow", epochs="x"), "training: x epochs on"),
        (lambda t: t.update(summary=[1, 2]), "training: the record is malformed (its summary"),
        (lambda t: t["summary"].update(settings=[1, 2]), "  settings: malformed ([1, 2])"),
        (lambda t: t["summary"].update(validation_metrics="x"), "validation_metrics: malformed"),
        (lambda t: t["summary"].update(final=[1]), "  final epoch: malformed ([1])"),
        (lambda t: t["summary"]["final"].update(loss="bad"), ": loss bad"),
        (lambda t: t["summary"].pop("data"), "epochs on ? ("),
    ],
)  # fmt: skip
def test_inspect_never_crashes_on_a_malformed_training_record(capsys, in_tmp, change, shown):
    # (before: "Unknown format code 'f' for object of type 'str'", AttributeErrors reported
    # as bugs, "cannot convert dictionary update sequence element #0 to a sequence")
    flowers().to_csv("flowers.csv", index=False)
    assert cli(capsys, *TRAIN, "--out", "m.safetensors")[0] == 0
    _changed_record("m.safetensors", change)
    for form in ("text", "json"):
        code, out, err = cli(capsys, "inspect", "m.safetensors", "--format", form)
        assert (code, err) == (0, ""), err
    code, out, _ = cli(capsys, "inspect", "m.safetensors")
    assert shown in out and "classes (3): setosa, versicolor, virginica" in out


# --------------------------------------------------- a data file given as the model
@pytest.mark.parametrize(
    "argv",
    [
        ("predict", "flowers.csv", "m.safetensors"),
        ("evaluate", "flowers.csv", "m.safetensors"),
        ("draw", "flowers.csv"),
        ("inspect", "flowers.csv"),
    ],
)
def test_a_data_file_given_as_the_model_is_named(capsys, in_tmp, argv):
    # (before: "its header declares 7,813,794,245,032,832,115 bytes ... truncated or corrupt")
    flowers().to_csv("flowers.csv", index=False)
    save_model(dr.Network([2, 1]), "m.safetensors")
    err = one_error_line(*cli(capsys, *argv))
    text = "it looks like a text file such as a CSV table (it starts with 'length,width,"
    assert err.startswith(f"error: flowers.csv is not a valid deltarule model file: {text}")
    assert MODEL_HINTS[argv[0]] in err and "declares" not in err  # (the command run's)
    assert ("deltarule predict" in err) == (argv[0] == "predict")


def test_predict_writes_a_multilabel_estimators_label_columns(capsys, in_tmp):
    """A multi-label estimator's file was predicted as one class per row, the largest
    output's (found while writing the file format's specification); now one 0/1 column per
    label, as the estimator's predict, and evaluate, which scores one column, says so."""
    import warnings

    from sklearn.datasets import make_multilabel_classification

    from deltarule.sklearn import MLPClassifier

    X, Y = make_multilabel_classification(n_samples=60, n_features=4, n_classes=3,
                                          random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(max_iter=50, random_state=0).fit(X, Y)
    model.save("ml.safetensors")
    pd.DataFrame(X, columns=[f"x{i}" for i in range(4)]).to_csv("ml.csv", index=False)
    code, out, err = cli(capsys, "predict", "ml.safetensors", "ml.csv")
    assert code == 0, err
    written = pd.read_csv(pd.io.common.StringIO(out))
    assert list(written.columns) == ["0", "1", "2"]
    np.testing.assert_array_equal(written.to_numpy(), model.predict(X))
    code, _, err = cli(capsys, "evaluate", "ml.safetensors", "ml.csv", "--target", "x0")
    assert code == 2 and "multi-label estimator's file" in err
