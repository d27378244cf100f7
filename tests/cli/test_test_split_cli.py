"""``deltarule train DATA --test-split F``: rows of DATA held out from training and
validation, scored once at the end, as a built-in dataset's test rows are."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deltarule.cli._common import load_model_file
from deltarule.io import model_header

from .cli_helpers import cli, flowers

TRAIN = ["--target", "species", "--epochs", "3", "--quiet"]


def test_test_rows_are_scored_and_recorded(capsys, in_tmp):
    frame = flowers(n_per_class=30)
    frame.to_csv("flowers.csv", index=False)
    code, out, err = cli(capsys, "train", "flowers.csv", *TRAIN, "--test-split", "0.2",
                         "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    assert out.startswith("test accuracy: ") and "(18 rows)" in out  # 20% of 90, per class
    summary = model_header("m.safetensors")["training"]["summary"]
    assert summary["settings"]["test_split"] == 0.2
    reported = float(out.split()[2])
    assert summary["test_metrics"]["accuracy"] == pytest.approx(reported, abs=5e-5)


def test_the_score_is_the_models_on_the_held_out_rows(capsys, in_tmp):
    from sklearn.metrics import accuracy_score

    from deltarule.cli._common import holdout_split
    from deltarule.cli._train_data import TEST_STREAM

    frame = flowers(n_per_class=30)
    frame.to_csv("flowers.csv", index=False)
    code, out, err = cli(capsys, "train", "flowers.csv", *TRAIN, "--test-split", "0.2",
                         "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    record = model_header("m.safetensors")["training"]["summary"]
    assert record["rows"] == 72  # (trained and validated on 90 - 18 rows)
    model = load_model_file("m.safetensors")
    X, Y = model.features(frame), model.pre.transform_target(frame["species"])
    rows = np.arange(len(frame))[:, None].astype(float)
    _, _, held, held_y = holdout_split(rows, Y, 0.2, [0, TEST_STREAM], True)
    held = held[:, 0].astype(int)
    assert np.bincount(held_y.argmax(axis=1)).tolist() == [6, 6, 6]  # stratified
    predicted = model.labels(model.network.predict(X[held]))
    expected = accuracy_score(frame["species"].to_numpy()[held], predicted)
    assert record["test_metrics"]["accuracy"] == pytest.approx(expected)


def test_the_preprocessing_learns_from_the_training_rows_alone(capsys, in_tmp):
    """The test rows' values taught the model nothing but their means, deviations and
    categories were learned from every row, a category only in a test row an input of the
    model (found by a QA pass with messy tables; scikit-learn's pipelines fit on the
    training rows): now the statistics are the kept rows' (scikit-learn's StandardScaler on
    them, the oracle), and the test rows are still scored, their unseen category an all-zero
    input."""
    from sklearn.preprocessing import StandardScaler

    from deltarule.cli._common import holdout_split
    from deltarule.cli._train_data import TEST_STREAM

    frame = flowers(n_per_class=30).reset_index(drop=True)
    species = frame["species"].to_numpy()
    Y = (species[:, None] == np.array(["setosa", "versicolor", "virginica"])).astype(float)
    _, _, held, _ = holdout_split(np.arange(len(frame)), Y, 0.2, [0, TEST_STREAM], True)
    frame.loc[held[0], "colour"] = "green"  # in a test row alone
    kept = np.setdiff1d(np.arange(len(frame)), held)
    frame.to_csv("flowers.csv", index=False)
    code, out, err = cli(capsys, "train", "flowers.csv", *TRAIN, "--test-split", "0.2",
                         "--out", "m.safetensors")  # fmt: skip
    assert code == 0 and out.startswith("test accuracy: "), err
    columns = {c["name"]: c for c in load_model_file("m.safetensors").pre.columns}
    scaler = StandardScaler().fit(frame.loc[kept, ["length", "width"]])
    assert [columns["length"]["mean"], columns["width"]["mean"]] == pytest.approx(scaler.mean_)
    assert [columns["length"]["std"], columns["width"]["std"]] == pytest.approx(scaler.scale_)
    assert columns["colour"]["categories"] == ["blue", "red"]


def test_the_split_is_stratified_and_seeded(capsys, in_tmp):
    flowers(n_per_class=30).to_csv("flowers.csv", index=False)
    outs = []
    for seed in ("0", "0"):
        code, out, err = cli(capsys, "train", "flowers.csv", *TRAIN, "--test-split", "0.2",
                             "--seed", seed, "--out", f"m{len(outs)}.safetensors")  # fmt: skip
        assert code == 0, err
        outs.append(out.splitlines()[0])
    assert outs[0] == outs[1] and outs[0].startswith("test accuracy: ")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--test-split", "1"], "--test-split 1.0 is out of range"),
        (["--test-split", "0.6", "--validation-split", "0.5"], "together hold out every row"),
    ],
)
def test_bad_fractions_are_refused(capsys, in_tmp, argv, message):
    flowers().to_csv("flowers.csv", index=False)
    code, _, err = cli(capsys, "train", "flowers.csv", *TRAIN, *argv)
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_a_built_in_dataset_has_its_own_test_rows(capsys, in_tmp):
    code, _, err = cli(capsys, "train", "--dataset", "iris", "--test-split", "0.2", "--quiet")
    assert code == 2 and "has its own test rows" in err


def test_a_resumed_run_keeps_its_test_rows(capsys, in_tmp):
    flowers(n_per_class=30).to_csv("flowers.csv", index=False)
    code, first, err = cli(capsys, "train", "flowers.csv", *TRAIN, "--test-split", "0.2",
                           "--checkpoint", "ck", "--out", "a.safetensors")  # fmt: skip
    assert code == 0, err
    code, again, err = cli(capsys, "train", "--resume", "ck", "--quiet", "--out", "b.safetensors")
    assert code == 0, err
    settings = json.loads(open("ck/settings.json", encoding="utf-8").read())["settings"]
    assert settings["test_split"] == 0.2
    assert again.splitlines()[0] == first.splitlines()[0]  # (the same test rows)


def test_the_score_of_mostly_one_class_says_what_guessing_it_scores(capsys, in_tmp):
    """On rows 95% of one class an accuracy of 0.95 is what always guessing it scores: the
    line says so, with the balanced accuracy (found by a QA pass with messy tables: train
    printed the majority baseline as its score, the balanced accuracy only in evaluate);
    both checked against scikit-learn on the held-out rows."""
    from sklearn.metrics import balanced_accuracy_score

    from deltarule.cli._common import holdout_split
    from deltarule.cli._train_data import TEST_STREAM

    rng = np.random.default_rng(0)
    frame = flowers(n_per_class=20).reset_index(drop=True)
    rare = frame["species"].map({"setosa": "rare"}).fillna("common").to_numpy()
    keep = (rare == "common") | (rng.random(len(rare)) < 0.12)
    frame = frame.assign(species=rare)[keep].reset_index(drop=True)
    frame.to_csv("mostly.csv", index=False)
    code, out, err = cli(capsys, "train", "mostly.csv", *TRAIN, "--test-split", "0.5",
                         "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    model = load_model_file("m.safetensors")
    Y = model.pre.transform_target(frame["species"])
    _, _, held, _ = holdout_split(np.arange(len(frame)), Y, 0.5, [0, TEST_STREAM], True)
    truth = frame["species"].to_numpy()[held]
    predicted = model.labels(model.network.predict(model.features(frame)[held]))
    balanced = balanced_accuracy_score(truth, predicted)
    share = np.mean(truth == "common")
    assert share > 0.9
    assert out.splitlines()[0].endswith(
        f"rows; balanced accuracy {balanced:.4f}; always predicting 'common', the most common "
        f"class, scores {share:.4f})"
    )
    # (rows of classes alike: the line as it was)
    flowers(n_per_class=30).to_csv("even.csv", index=False)
    code, out, err = cli(capsys, "train", "even.csv", *TRAIN, "--epochs", "100",
                         "--test-split", "0.2")  # fmt: skip
    assert code == 0 and out.splitlines()[0].endswith("(18 rows)"), out


@pytest.mark.parametrize("chunk_rows", [1, 3, 64, 10_000])
@pytest.mark.parametrize("share", [0.0, 0.1, 0.5, 0.97])
def test_split_rows_moves_the_kept_rows_within_the_table(chunk_rows, share, monkeypatch):
    from deltarule.cli import _common

    rng = np.random.default_rng(int(share * 100) + chunk_rows)
    X = rng.normal(size=(500, 7)).astype(np.float32)
    held = rng.random(500) < share
    expected = (X[~held].copy(), X[held].copy())
    monkeypatch.setattr(_common, "SPLIT_CHUNK_BYTES", chunk_rows * 7 * 4)
    kept, taken = _common.split_rows(X, held)
    assert np.array_equal(kept, expected[0]) and np.array_equal(taken, expected[1])
    assert np.shares_memory(kept, X)  # (moved within it, not copied)


def test_split_rows_copies_a_table_it_does_not_own():
    from deltarule.cli._common import split_rows

    base = np.arange(60.0).reshape(20, 3)
    held = np.arange(20) % 4 == 0
    for X in (base[2:], base.copy()):
        if X.base is None:
            X.flags.writeable = False
        before = X.copy()
        kept, taken = split_rows(X, held[: len(X)])
        assert np.array_equal(kept, before[~held[: len(X)]])
        assert np.array_equal(taken, before[held[: len(X)]])
        assert np.array_equal(X, before)  # left as it was


def test_holding_out_rows_does_not_copy_the_whole_table(monkeypatch):
    # (a one-hot table of many categories, admitted at half the memory, was copied whole
    # by the validation split: twice the memory the check had allowed)
    import tracemalloc

    from deltarule.cli import _common

    monkeypatch.setattr(_common, "SPLIT_CHUNK_BYTES", 1 << 20)  # (a 20 MB table's chunks)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 50)).astype(np.float32)  # 20 MB
    Y = np.eye(3)[rng.integers(0, 3, 100_000)]
    tracemalloc.start()
    try:
        parts = _common.holdout_split(X, Y, 0.1, 0, True, consume=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(parts[0]) == 90_000 and len(parts[2]) == 10_000
    assert peak < 0.4 * X.nbytes  # the held rows (10%), the row indices, a chunk
