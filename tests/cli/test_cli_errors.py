"""Every bad input: exit status 2 and exactly one stderr line ``error: ...``, no model file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deltarule.io.model_file import load_model
from deltarule.io.safetensors import write_safetensors

from .cli_helpers import cli, flowers

FILES = {
    "empty.csv": "",
    "header.csv": "a,b,y\n",
    "ragged.csv": "a,b,y\n1,2,0\n3,4,1,5\n5,6,0\n",
    "latin1.csv": "a,y\n1,caf\xe9\n",
    "single.csv": "a,y\n" + "".join(f"{i},0\n" for i in range(20)),
    "few.csv": "a,y\n1,p\n2,q\n",
    "missing.csv": "a,b,y\n" + "".join(f"{i},{'' if i == 3 else i},{i % 2}\n" for i in range(20)),
    "text_target.csv": "a,y\n" + "".join(f"{i},{'abc' if i == 4 else i}.5\n" for i in range(20)),
    "lacking.csv": "length,colour\n1.0,red\n",
    "text_numbers.csv": "length,width,colour\n1.0,wide,red\n",
    "data.xlsx": "not really excel",
    "other_labels.csv": "length,width,colour,species\n1.0,2.0,red,tulip\n",
    "huge_target.csv": "a,y\n" + "".join(f"{i},{i}e299\n" for i in range(1, 21)),
    "tiny_target.csv": "a,y\n" + "".join(f"{i},{i}e-300\n" for i in range(1, 21)),
    "subnormal_target.csv": "a,y\n" + "".join(f"{i},{i}e-310\n" for i in range(1, 21)),
}


@pytest.fixture
def workdir(capsys, in_tmp):
    """A folder with bad files, a good model and a foreign safetensors file."""
    for name, text in FILES.items():
        mode = "wb" if name == "latin1.csv" else "w"
        with open(in_tmp / name, mode) as handle:
            handle.write(text.encode("latin-1") if mode == "wb" else text)
    flowers().to_csv("flowers.csv", index=False)
    code, _, _ = cli(capsys, "train", "flowers.csv", "--target", "species", "--epochs", "1",
                     "--quiet", "--out", "good.safetensors")  # fmt: skip
    assert code == 0
    pd.DataFrame({"a": np.arange(40.0), "y": np.arange(40.0) * 2}).to_csv("reg.csv", index=False)
    assert cli(capsys, "train", "reg.csv", "--target", "y", "--epochs", "1", "--quiet")[0] == 0
    (in_tmp / "truncated.safetensors").write_bytes((in_tmp / "good.safetensors").read_bytes()[:300])
    (in_tmp / "random.safetensors").write_bytes(np.random.default_rng(0).bytes(256))
    write_safetensors(in_tmp / "foreign.safetensors", {"w": np.ones(3)}, {"author": "torch"})
    np.savez(in_tmp / "arrays.npz", X=np.ones((5, 2)), y=np.arange(5))
    (in_tmp / "empty_dir").mkdir()
    return in_tmp


TRAIN = ["train", "flowers.csv", "--target", "species", "--epochs", "1"]
CASES = {
    "missing file": (["train", "nope.csv", "--target", "y"], "no such file"),
    "empty file": (["train", "empty.csv", "--target", "y"], "is empty"),
    "header only": (["train", "header.csv", "--target", "y"], "no data rows"),
    "ragged rows": (["train", "ragged.csv", "--target", "y"], "line 3 has 4 fields"),
    "not utf-8": (["train", "latin1.csv", "--target", "y"], "not UTF-8"),
    "unknown extension": (["train", "data.xlsx", "--target", "y"], "extension '.xlsx'"),
    "a folder as data": (["train", "empty_dir", "--target", "y"], "directory"),
    "unknown target": (["train", "flowers.csv", "--target", "kind"], "no target column 'kind'"),
    "no --target": (["train", "flowers.csv"], "needs --target"),
    "npz with --target": (["train", "arrays.npz", "--target", "label"], "array y"),
    "text regression target": (
        ["train", "text_target.csv", "--target", "y", "--task", "regression"],
        "holds text",
    ),
    "single class": (["train", "single.csv", "--target", "y"], "single class"),
    "too few rows": (
        ["train", "few.csv", "--target", "y", "--validation-split", "0.2"],
        "leaves no row for validation",
    ),
    "target without data": (
        ["train", "--dataset", "iris", "--target", "species"],
        "--target species names a column of DATA, but no DATA file was given",
    ),
    "data dir for a built-in dataset": (
        ["train", "--dataset", "iris", "--data-dir", "somewhere"],
        "--data-dir is where Fashion-MNIST's files are",
    ),
    "network beyond memory": (
        [*TRAIN, "--hidden", "4000000000"],
        "GiB of memory is available. Use smaller --hidden layers or a smaller --batch-size.",
    ),
    "--checkpoint-every 0": (  # (was taken as 1)
        [*TRAIN, "--checkpoint", "ck", "--checkpoint-every", "0"],
        "--checkpoint-every 0 is out of range; expected a positive integer",
    ),
    "empty out": ([*TRAIN, "--out", ""], "--out is empty; expected a file path"),
    # (an unset shell variable's: taken as not given, the run kept no checkpoint and left a
    # lock in the working folder, and --resume '' trained a new run on the built-in digits)
    "empty checkpoint": ([*TRAIN, "--checkpoint", ""], "--checkpoint is empty; expected a folder"),
    "blank checkpoint": ([*TRAIN, "--checkpoint", " "], "--checkpoint is empty; expected a folder"),
    "empty resume": (["train", "--resume", "", "--epochs", "2"], "--resume is empty; expected"),
    "checkpoint-every without checkpoint": (  # (was ignored)
        [*TRAIN, "--checkpoint-every", "5"],
        "--checkpoint-every 5 says how often to write the run's checkpoint, but no --checkpoint",
    ),
    "negative seed": ([*TRAIN, "--seed", "-1"], "--seed -1 is out of range; expected an integer"),
    "infinite learning rate": ([*TRAIN, "--learning-rate", "inf"], "--learning-rate inf is out"),
    "checkpoint with a full-batch solver": (
        [*TRAIN, "--optimizer", "lbfgs", "--checkpoint", "ck"],
        "--checkpoint cannot resume --optimizer lbfgs exactly",
    ),
    "validation split leaves no training row": (
        ["train", "few.csv", "--target", "y", "--validation-split", "0.8"],
        "leaves no row for training; both parts need at least one row. Use a smaller",
    ),
    "missing value": (["train", "missing.csv", "--target", "y"], "column 'b' has 1 missing"),
    "bad --hidden letters": ([*TRAIN, "--hidden", "64,x"], "--hidden"),
    "bad --hidden negative": ([*TRAIN, "--hidden", "-3"], "--hidden"),
    "bad --hidden empty part": ([*TRAIN, "--hidden", "8,,4"], "--hidden"),
    "bad --plot extension": ([*TRAIN, "--plot", "curves.jpg"], ".png or .svg"),
    "--plot without extension": ([*TRAIN, "--plot", "curves"], ".png or .svg"),
    "--out in a missing folder": ([*TRAIN, "--out", "nowhere/m.safetensors"], "does not exist"),
    "unknown activation": ([*TRAIN, "--activation", "relux"], "Did you mean 'relu'"),
    "unknown optimizer": ([*TRAIN, "--optimizer", "adamm"], "unknown optimizer"),
    "unknown loss": ([*TRAIN, "--loss", "hinge"], "unknown loss"),
    "targets beyond float32": (  # (printed three overflow warnings, then a NaN error)
        ["train", "huge_target.csv", "--target", "y"],
        "the target y holds values up to 2e+300, too large for the network's float32 outputs",
    ),
    "targets below float32's precision": (  # (QA: every prediction 0, and R² 1)
        ["train", "tiny_target.csv", "--target", "y"],
        "the target y varies by only 5.77e-300 (its values up to 2e-299), too little",
    ),
    "targets of subnormal size": (  # (review: an OverflowError, asking for 1e310)
        ["train", "subnormal_target.csv", "--target", "y", "--task", "regression"],
        "the target y varies by only 5.77e-310",
    ),
    "model --out named as data": (  # (QA: a safetensors model written into model.csv)
        [*TRAIN, "--out", "model.csv"],
        "--out model.csv: a model is written as safetensors, but the name ends in .csv",
    ),
    "zero epochs": ([*TRAIN[:-1], "0"], "--epochs 0"),
    "validation split too big": ([*TRAIN, "--validation-split", "1.5"], "--validation-split"),
    "negative learning rate": ([*TRAIN, "--learning-rate", "-1"], "--learning-rate"),
    "non-numeric --epochs": ([*TRAIN[:-1], "ten"], "is neither a whole number nor auto"),
    "DATA and --dataset": ([*TRAIN, "--dataset", "iris"], "not both"),
    "unknown dataset": (["train", "--dataset", "cifar"], "unknown dataset 'cifar'"),
    "fashion-mnist missing": (
        ["train", "--dataset", "fashion-mnist", "--data-dir", "empty_dir"],
        "apt-get install dataset-fashion-mnist",
    ),
    "corrupt model": (["predict", "random.safetensors", "flowers.csv"], "not a valid"),
    "truncated model": (["predict", "truncated.safetensors", "flowers.csv"], "not a valid"),
    "foreign model": (["inspect", "foreign.safetensors"], "another program"),
    "data file as model": (["evaluate", "flowers.csv", "flowers.csv"], "not a valid"),
    "missing model": (["inspect", "nope.safetensors"], "nope.safetensors"),
    "features missing at predict": (["predict", "good.safetensors", "lacking.csv"], "'width'"),
    "npz of the wrong width": (["predict", "good.safetensors", "arrays.npz"], "X has 2 columns"),
    "unseen label at evaluate": (["evaluate", "good.safetensors", "other_labels.csv"], "'tulip'"),
    "text in a numeric column": (["predict", "good.safetensors", "text_numbers.csv"], "'wide'"),
    "--proba on regression": (["predict", "reg.safetensors", "reg.csv", "--proba"], "--proba"),
    "evaluate without target": (["evaluate", "good.safetensors", "lacking.csv"], "target"),
    "evaluate bad --plot": (
        ["evaluate", "good.safetensors", "flowers.csv", "--plot", "cm.pdf"],
        ".png or .svg",
    ),
    "bad --format": (["predict", "good.safetensors", "flowers.csv", "--format", "xml"], "xml"),
    "unknown option": (  # (pointed to 'deltarule --help', which does not list it)
        ["inspect", "good.safetensors", "--colour"],
        "unrecognized arguments: --colour (see 'deltarule inspect --help')",
    ),
    "unknown option, no command": (["--colour"], "--colour (see 'deltarule --help')"),
    "dropout of 1": (
        ["train", "flowers.csv", "--target", "species", "--dropout", "1"],
        "--dropout 1.0 is out of range; expected a fraction in [0, 1)",
    ),
    "negative l2": (
        ["train", "flowers.csv", "--target", "species", "--l2", "-1"],
        "--l2 -1.0 is out of range",
    ),
    "dropout without hidden layers": (
        ["train", "flowers.csv", "--target", "species", "--hidden", "0", "--dropout", "0.1"],
        "--hidden 0 has none",
    ),
    "dropout with lbfgs": (
        ["train", "flowers.csv", "--target", "species", "--optimizer", "lbfgs", "--dropout", "0.1"],
        "--optimizer lbfgs cannot train with --dropout 0.1",
    ),
    "l2 with lm": (
        [
            "train",
            "flowers.csv",
            "--target",
            "species",
            "--optimizer",
            "lm",
            "--loss",
            "mse",
            "--l2",
            "0.1",
        ],  # fmt: skip
        "(lbfgs takes --l2)",
    ),
    "class weight on a regression": (
        ["train", "flowers.csv", "--target", "length", "--class-weight", "balanced"],
        "--class-weight balanced weighs the classes, but the target length is a regression",
    ),
    "features and drop": (
        ["train", "flowers.csv", "--target", "species", "--features", "length", "--drop", "width"],
        "give --features (the columns to keep) or --drop",
    ),
    "features naming the target": (
        ["train", "flowers.csv", "--target", "species", "--features", "length,species"],
        "--features names the target column 'species'",
    ),
    "features unknown": (
        ["train", "flowers.csv", "--target", "species", "--features", "lenght"],
        "--features names 1 column(s) the data does not have: 'lenght'",
    ),
    "softmax hidden layers": (  # (trained to chance level without a word)
        ["train", "flowers.csv", "--target", "species", "--activation", "softmax"],
        "--activation softmax would put softmax on the hidden layers",
    ),
    "shortened option": (  # (argparse took --rep as --report-every: R's rep=3 ran silently)
        ["train", "flowers.csv", "--target", "species", "--rep", "3"],
        "unrecognized arguments: --rep 3; did you mean --report-every? Options are written in full",
    ),
    "two misspelt options": (
        ["train", "flowers.csv", "--target", "species", "--val", "0.3", "--epoch", "2"],
        "did you mean --validation-split (for --val), --epochs (for --epoch)?",
    ),
}


@pytest.mark.parametrize("argv, fragment", CASES.values(), ids=CASES.keys())
def test_bad_input_exits_2_with_one_error_line(capsys, workdir, argv, fragment):
    before = set(workdir.iterdir())
    code, out, err = cli(capsys, *argv)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and fragment in lines[0]
    assert "Traceback" not in err and "this is a bug" not in err
    assert set(workdir.iterdir()) == before  # no model, plot or temporary file was written


@pytest.mark.parametrize(
    "given, shown",
    [(["--batch-size", "8"], "--batch-size 8"), (["--batch-size", "32"], "--batch-size 32"),
     (["--learning-rate", "0.1"], "--learning-rate 0.1"),
     (["--batch-size", "4", "--learning-rate", "0.5"], "--batch-size 4 and --learning-rate 0.5")],
    ids=["batch", "batch-32", "rate", "both"],
)  # fmt: skip
def test_full_batch_solver_refuses_what_it_would_ignore(capsys, workdir, given, shown):
    # (silently ignored before) refused before the data is read: the one line on stderr
    before = set(workdir.iterdir())
    code, _, err = cli(capsys, *TRAIN, "--optimizer", "lbfgs", *given)
    assert code == 2 and err.splitlines() == [err.strip()]
    assert err.startswith(f"error: --optimizer lbfgs would ignore {shown}: it uses every row")
    assert set(workdir.iterdir()) == before
    code, _, err = cli(capsys, *TRAIN, "--optimizer", "lbfgs", "--quiet", "--out", "m.st")
    assert code == 0, err  # the defaults: a full batch
    assert load_model(workdir / "m.st").training["summary"]["settings"]["batch_size"] is None


@pytest.mark.parametrize("name", ["irprop_plus", "irprop_minus"])
def test_irprop_trains_on_every_row_and_refuses_a_learning_rate(capsys, workdir, name):
    # (iRprop sizes its own steps from whole-batch gradient signs: the CLI gave it batches
    # of 32 by default, and --learning-rate failed after the data was read, in Python terms)
    before = set(workdir.iterdir())
    code, _, err = cli(capsys, *TRAIN, "--optimizer", name, "--learning-rate", "0.1")
    assert code == 2 and err.splitlines() == [err.strip()]
    assert err.startswith(f"error: --optimizer {name} would ignore --learning-rate 0.1: it ")
    assert "(e.g. --optimizer adam)" in err and "get_optimizer" not in err
    assert set(workdir.iterdir()) == before
    code, _, err = cli(capsys, *TRAIN, "--optimizer", name, "--quiet", "--out", "m.st")
    assert code == 0, err
    assert load_model(workdir / "m.st").training["summary"]["settings"]["batch_size"] is None
    code, _, err = cli(capsys, *TRAIN, "--optimizer", name, "--batch-size", "8", "--out", "b.st")
    assert code == 0, err  # an explicit batch size is still honoured
    assert load_model(workdir / "b.st").training["summary"]["settings"]["batch_size"] == 8


def test_debug_shows_the_traceback(capsys, workdir):
    with pytest.raises(Exception, match="single class"):
        cli(capsys, "train", "single.csv", "--target", "y", "--debug")


def test_small_but_representable_targets_train_and_predict_in_their_units(capsys, workdir):
    # targets of 1e-20: standardised for training and folded back, the predictions keep
    # their scale (the refusal above starts below float32's ~1e-31)
    (workdir / "small.csv").write_text(
        "a,y\n" + "".join(f"{i},{i}e-20\n" for i in range(1, 41)), encoding="utf-8"
    )
    train = ["train", "small.csv", "--target", "y", "--epochs", "200", "--validation-split", "0"]
    code, _, err = cli(capsys, *train, "--out", "small.safetensors", "--quiet")
    assert code == 0, err
    code, out, _ = cli(capsys, "predict", "small.safetensors", "small.csv")
    predictions = np.array([float(v) for v in out.split()[1:]])
    assert len(predictions) == 40 and np.all(np.abs(predictions) < 1e-18)
    assert np.corrcoef(predictions, np.arange(1, 41))[0, 1] > 0.99


def test_the_command_lines_spelling_of_rules_leaves_column_names_alone(capsys, tmp_path):
    # (a review: every warning had "target_error" rewritten, a column's name included)
    from deltarule.cli import main

    rows = "\n".join(f"{i},{i % 3},{int(i % 3 == 0)}" for i in range(60))
    data = tmp_path / "t.csv"
    data.write_text("target_error,b,y\n" + rows + "\n")
    code = main(["train", str(data), "--target", "y", "--epochs", "2", "--quiet",
                 "--out", str(tmp_path / "m.safetensors")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0 and "column 'target_error'" in err and "'--target-error'" not in err


def test_no_command_lists_the_commands_and_says_what_is_missing_in_one_error_line(capsys):
    code, out, err = cli(capsys)
    assert code == 2
    assert "train" in out and "predict" in out  # the commands, on standard output
    assert err.count("\n") == 1 and err.startswith("error: no COMMAND given; expected one of train")
