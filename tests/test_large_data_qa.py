"""Large data (QA): many classes, wide one-hot encodings, big tables.

Metrics of float32 outputs over many classes equal scikit-learn's and the float64 path's,
without float64 copies of the (n_samples, n_classes) arrays; preprocessing writes its output
in place, bit for bit as before; a column of very many categories is warned about, and one
whose one-hot block cannot fit is refused naming it; the model file's training record keeps
the confusion matrix only for a few classes.
"""

from __future__ import annotations

import json
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from deltarule import _metrics_inputs, metrics
from deltarule._chunk_metrics import accuracy_of_epochs
from deltarule._encoders import MANY_CATEGORIES, encode_column
from deltarule.cli import main
from deltarule.cli._train_record import MAX_STORED_CONFUSION
from deltarule.exceptions import DataWarning, InputError
from deltarule.io import load_model
from deltarule.preprocessing import TabularPreprocessor


def _peak(function):
    """(result, peak bytes traced while ``function()`` ran)."""
    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _softmax_outputs(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """float32 softmax outputs and float32 one-hot targets, ``n`` rows of ``k`` classes."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, k)).astype(np.float32)
    output = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    target = np.zeros((n, k), np.float32)
    target[np.arange(n), rng.integers(0, k, n)] = 1
    return output.astype(np.float32), target


# ----------------------------------------------------------------- metrics, many classes
def test_many_class_metrics_equal_scikit_learn_and_the_float64_path():
    output, target = _softmax_outputs(3000, 200)
    truth, predicted = target.argmax(axis=1), output.argmax(axis=1)
    labels = np.arange(200)
    assert metrics.accuracy(output, target) == skm.accuracy_score(truth, predicted)
    assert metrics.balanced_accuracy(output, target) == pytest.approx(
        skm.balanced_accuracy_score(truth, predicted)
    )
    for ours, theirs in [(metrics.f1, skm.f1_score), (metrics.precision, skm.precision_score),
                         (metrics.recall, skm.recall_score)]:  # fmt: skip
        expected = theirs(truth, predicted, average="macro", zero_division=0)
        assert ours(output, target) == pytest.approx(expected)
    assert metrics.log_loss(output, target) == pytest.approx(
        skm.log_loss(truth, output / output.sum(axis=1, keepdims=True, dtype=np.float64),
                     labels=labels), rel=1e-6
    )  # fmt: skip
    cm = metrics.confusion_matrix(metrics.target_labels(target), metrics.predicted_labels(output))
    assert cm.tolist() == skm.confusion_matrix(truth, predicted, labels=labels).tolist()
    # the same floats as the float64 arrays give (float32 is no longer copied to float64)
    o64, t64 = output.astype(np.float64), target.astype(np.float64)
    weights = np.random.default_rng(1).random(3000)
    for name in ("accuracy", "balanced_accuracy", "f1", "precision", "recall", "log_loss"):
        function = getattr(metrics, name)
        assert function(output, target) == function(o64, t64), name
        assert function(output, target, weights) == function(o64, t64, weights), name


def test_one_hot_log_loss_is_the_general_formula_bit_for_bit():
    output, target = _softmax_outputs(500, 40, seed=3)
    output[0] = 0.0  # (clipped: log(eps))
    for o in (output, output.astype(np.float64)):
        eps = np.finfo(o.dtype).eps
        o64 = o.astype(np.float64)
        general = -(target * np.log(np.clip(o64, eps, 1 - eps))).sum(axis=1)
        assert metrics.log_loss(o, target) == float(np.average(general))
    soft = np.full_like(target, 0.5 / 39)
    soft[np.arange(500), target.argmax(axis=1)] = 0.5  # not one-hot: the general formula
    eps = np.finfo(np.float32).eps
    general = -(soft * np.log(np.clip(output.astype(np.float64), eps, 1 - eps))).sum(axis=1)
    assert metrics.log_loss(output, soft) == float(np.average(general))


def test_many_class_accuracy_takes_no_float64_copy():
    output, target = _softmax_outputs(20000, 500)  # 40 MB each in float32
    value, peak = _peak(lambda: metrics.accuracy(output, target))
    assert value == float(np.mean(output.argmax(axis=1) == target.argmax(axis=1)))
    assert peak < output.nbytes / 4  # (before: both copied to float64, 4 x output.nbytes)
    _, peak = _peak(lambda: metrics.log_loss(output, target))
    assert peak < output.nbytes / 4
    _, peak = _peak(lambda: metrics.is_multilabel(target))
    assert peak < output.nbytes / 10


def test_check_targets_reads_the_targets_once(monkeypatch):
    _, target = _softmax_outputs(2000, 30)
    read = []
    real = _metrics_inputs.as_float_array
    monkeypatch.setattr(
        _metrics_inputs,
        "as_float_array",
        lambda data, *a, **k: read.append(id(data)) or real(data, *a, **k),
    )
    chosen = [metrics.get_metric(m) for m in ("accuracy", "f1", "precision", "recall",
                                              "balanced_accuracy", "log_loss")]  # fmt: skip
    metrics.check_targets(chosen, target, classification=True)
    assert len(read) <= 2  # (as output and as target, not twice per metric)
    with pytest.raises(InputError, match="f1_binary"):
        metrics.check_targets([metrics.get_metric("f1_binary")], target, classification=True)


def test_float32_outputs_are_split_at_the_threshold_in_float64():
    output = np.array([[0.3], [0.2], [0.4]], np.float32)  # float32(0.3) > 0.3
    target = np.array([[1.0], [0.0], [1.0]], np.float32)
    o64 = output.astype(np.float64)
    assert metrics.accuracy(output, target, threshold=0.3) == metrics.accuracy(
        o64, target, threshold=0.3
    )
    np.testing.assert_array_equal(
        metrics.predicted_labels(output, threshold=0.3), (o64[:, 0] > 0.3).astype(int)
    )
    per_epoch = accuracy_of_epochs(output[None], target, None, threshold=0.3)
    assert per_epoch.tolist() == [metrics.accuracy(o64, target, threshold=0.3)]


def test_multilabel_and_swapped_calls_are_read_as_before():
    labels = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0]], np.float32)
    assert metrics.is_multilabel(labels) and not metrics.is_multilabel(np.eye(3, dtype="f4"))
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]], np.float32)
    with pytest.raises(InputError, match="Swap the arguments"):
        metrics.accuracy(np.eye(3, dtype=np.float32), probabilities)
    assert metrics.accuracy(probabilities, np.eye(3, dtype=np.float32)) == 1.0


# ----------------------------------------------------------------- preprocessing
def _old_transform(pre: TabularPreprocessor, frame: pd.DataFrame, dtype) -> np.ndarray:
    """The transform as it was: every column's block, concatenated, cast."""
    blocks = [encode_column(frame[c["name"]], c) for c in pre.columns]
    return np.concatenate(blocks, axis=1).astype(dtype, copy=False)


def test_transform_is_bit_for_bit_the_concatenated_blocks():
    rng = np.random.default_rng(0)
    n = 500
    train = pd.DataFrame({
        "a": rng.standard_normal(n) * 1e3 + 7, "b": rng.integers(0, 9, n),
        "c": rng.standard_normal(n).astype(np.float32), "pet": rng.choice(["cat", "dog", "eel"], n),
        "gap": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)), "y": rng.random(n),
    })  # fmt: skip
    pre = TabularPreprocessor().fit(train, "y", impute="mean")
    later = train.sample(frac=1, random_state=1).reset_index(drop=True)
    later.loc[3, "pet"] = "owl"  # (unseen: an all-zero row, warned about)
    later.loc[4, "pet"] = None  # (imputed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        for dtype in (np.float32, np.float64, np.float16, np.int64):
            got, expected = pre.transform(later, dtype=dtype), _old_transform(pre, later, dtype)
            assert got.dtype == expected.dtype and got.flags.c_contiguous
            assert got.tobytes() == expected.tobytes(), dtype


def test_transform_to_float32_takes_no_float64_copy_of_the_table():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((200_000, 20)), columns=[f"f{i}" for i in range(20)])
    frame["y"] = rng.random(200_000)
    pre = TabularPreprocessor().fit(frame, "y")
    out, peak = _peak(lambda: pre.transform(frame, dtype=np.float32))
    assert out.tobytes() == _old_transform(pre, frame, np.float32).tobytes()
    assert peak < 1.5 * out.nbytes  # (before: 6 x, float64 blocks, their concatenation, abs)


def test_out_of_range_names_the_first_value_in_row_order():
    train = pd.DataFrame({"f0": [0.0, 1.0, 2.0], "f1": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 0.0]})
    pre = TabularPreprocessor().fit(train, "y")
    later = pd.DataFrame({"f0": [0.0, 0.0, 0.0, 1e300], "f1": [0.0, 0.0, 1e300, 1e300]})
    with pytest.raises(InputError, match=r"column 'f1' holds 1e\+300 at row 3 .*float32"):
        pre.transform(later, dtype=np.float32)
    assert np.isfinite(pre.transform(later)).all()  # (float64 holds them)


def _categories(n_categories: int, n_rows: int) -> pd.DataFrame:
    codes = np.arange(n_rows) % n_categories
    return pd.DataFrame({"x": np.arange(n_rows) % 7, "cat": [f"v{i}" for i in codes],
                         "y": codes % 2})  # fmt: skip


def test_a_column_of_many_categories_is_warned_about():
    with pytest.warns(DataWarning, match=r"column 'cat' has 1,001 categories") as caught:
        TabularPreprocessor().fit(_categories(MANY_CATEGORIES + 1, 2000), "y")
    text = str(caught[0].message)
    assert "df.drop(columns='cat')" in text and "hash" in text
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        TabularPreprocessor().fit(_categories(MANY_CATEGORIES, 2000), "y")  # (no warning)


def test_a_one_hot_block_that_cannot_fit_is_refused_naming_its_column(monkeypatch):
    frame = _categories(1500, 3000)  # 1500 x 3000 x 8 bytes: above the size that is checked
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        pre = TabularPreprocessor().fit(frame, "y")
    monkeypatch.setattr("deltarule.preprocessing.fits", lambda shape, dtype: False)
    with pytest.raises(InputError) as caught:
        pre.transform(frame)
    message = str(caught.value)
    assert "column 'cat' has 1,500 categories" in message
    assert f"{3000 * 1500 * 8:,} bytes in float64" in message and "df.drop" in message
    assert "--drop cat" in caught.value.for_command_line()
    assert "smaller files" not in message


# ----------------------------------------------------------------- the command line
def _cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_train_warns_of_many_categories_in_the_command_lines_spelling(capsys, tmp_path):
    path = tmp_path / "cats.csv"
    _categories(MANY_CATEGORIES + 1, 2100).to_csv(path, index=False)
    code, _, err = _cli(capsys, "train", path, "--target", "y", "--epochs", "1", "--quiet",
                        "--out", tmp_path / "m.safetensors")  # fmt: skip
    assert code == 0
    lines = [line for line in err.splitlines() if "categories" in line]
    assert len(lines) == 1 and "column 'cat' has 1,001 categories" in lines[0]
    assert "--drop cat" in lines[0] and "df.drop" not in err


def test_the_record_keeps_no_confusion_matrix_for_many_classes(capsys, tmp_path):
    rng = np.random.default_rng(0)
    n_classes = MAX_STORED_CONFUSION + 1
    labels = np.repeat(np.arange(n_classes), 12)
    frame = pd.DataFrame({"a": labels + rng.random(labels.size), "b": rng.random(labels.size),
                          "y": [f"c{i:02d}" for i in labels]})  # fmt: skip
    frame.to_csv(tmp_path / "many.csv", index=False)
    model = tmp_path / "m.safetensors"
    code, _, _ = _cli(capsys, "train", tmp_path / "many.csv", "--target", "y", "--epochs", "1",
                      "--quiet", "--out", model)  # fmt: skip
    assert code == 0
    summary = load_model(model).training["summary"]
    assert summary["validation_metrics"]["confusion_matrix"] is None
    assert "accuracy" in summary["validation_metrics"]
    assert f"{n_classes} classes" in summary["note"]
    code, out, _ = _cli(capsys, "inspect", model)
    assert code == 0 and "confusion matrix not kept" in out
    code, out, _ = _cli(capsys, "evaluate", model, tmp_path / "many.csv", "--format", "json")
    matrix = np.array(json.loads(out)["confusion_matrix"]["matrix"])
    assert code == 0 and matrix.shape == (n_classes, n_classes) and matrix.sum() == labels.size


def test_the_record_keeps_the_confusion_matrix_for_few_classes(capsys, tmp_path):
    frame = _categories(3, 90).assign(y=lambda f: [f"k{i % 3}" for i in range(90)])
    frame.to_csv(tmp_path / "few.csv", index=False)
    model = tmp_path / "m.safetensors"
    code, _, _ = _cli(capsys, "train", tmp_path / "few.csv", "--target", "y", "--epochs", "1",
                      "--quiet", "--out", model)  # fmt: skip
    assert code == 0
    summary = load_model(model).training["summary"]
    matrix = summary["validation_metrics"]["confusion_matrix"]
    assert np.array(matrix).shape == (3, 3) and "note" not in summary
