"""Tests for deltarule.metrics: every metric against scikit-learn's, plus the registry contract."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

import deltarule as dr
import deltarule.metrics
from deltarule.exceptions import InputError, UnknownNameError
from deltarule.metrics import (
    MAX_CLASSES,
    METRICS,
    Metric,
    accuracy,
    all_correct,
    confusion_matrix,
    f1,
    f1_binary,
    get_metric,
    is_multilabel,
    log_loss,
    predicted_labels,
    r2,
    target_labels,
)

SEEDS = [0, 1, 2, 3, 4]
TWO_CLASS = {"f1_binary"}  # (refuse several classes: tested on their own below)
CLASSIFICATION = sorted(
    {m.name for m in METRICS.values() if m.task == "classification"} - TWO_CLASS
)
OWN = {"bit_fail"}  # (no scikit-learn counterpart: tested against NumPy on its own below)
REGRESSION = sorted({m.name for m in METRICS.values() if m.task == "regression"} - OWN)


# --- data as the network sees it ---------------------------------------------------------


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def binary_case(rng, n):
    """One sigmoid output and a 0/1 target column."""
    return _sigmoid(rng.normal(size=(n, 1))), rng.integers(0, 2, size=(n, 1)).astype(float)


def multiclass_case(rng, n, n_classes=4):
    """Softmax outputs and one-hot targets (small n, so some classes may be missing)."""
    z = rng.normal(size=(n, n_classes))
    output = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return output, np.eye(n_classes)[rng.integers(0, n_classes, size=n)]


def multilabel_case(rng, n, n_labels=3):
    """Independent sigmoid outputs and 0/1 targets; row 0 has no label so it is multi-label."""
    target = rng.integers(0, 2, size=(n, n_labels)).astype(float)
    target[0] = 0.0
    return _sigmoid(rng.normal(size=(n, n_labels))), target


def regression_case(rng, n, n_outputs=3):
    target = rng.normal(size=(n, n_outputs)) * [1.0, 3.0, 0.5]
    return target + rng.normal(scale=0.7, size=target.shape), target


CASES = {"binary": binary_case, "multiclass": multiclass_case, "multilabel": multilabel_case}


def make(kind, seed, weighted):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 40))
    output, target = (CASES.get(kind) or regression_case)(rng, n)
    weight = None
    if weighted:
        weight = rng.uniform(0.1, 3.0, size=n)
        weight[rng.integers(0, n)] = 0.0  # a zero weight must not break anything
    return output, target, weight


# --- the scikit-learn oracle ----------------------------------------------------------


def sk_labels(kind, output, target):
    if kind == "binary":
        return target[:, 0].astype(int), (output[:, 0] > 0.5).astype(int)
    if kind == "multiclass":
        return target.argmax(axis=1), output.argmax(axis=1)
    return target.astype(int), (output > 0.5).astype(int)


def sk_classification(name, kind, output, target, w):
    y_true, y_pred = sk_labels(kind, output, target)
    macro = {"average": "macro", "zero_division": 0, "sample_weight": w}
    if name == "accuracy":
        return skm.accuracy_score(y_true, y_pred, sample_weight=w)
    if name in ("precision", "recall", "f1"):
        scorer = {"precision": skm.precision_score, "recall": skm.recall_score}
        return scorer.get(name, skm.f1_score)(y_true, y_pred, **macro)
    columns = range(target.shape[1])
    if name == "balanced_accuracy":
        if kind != "multilabel":
            return skm.balanced_accuracy_score(y_true, y_pred, sample_weight=w)
        return np.mean(
            [
                skm.balanced_accuracy_score(y_true[:, k], y_pred[:, k], sample_weight=w)
                for k in columns
            ]
        )
    if name == "roc_auc":  # (columns with one class in y_true have no area: left out)
        if kind == "binary":
            return sk_auc(y_true, output[:, 0], w)
        truth = np.eye(target.shape[1])[y_true] if kind == "multiclass" else y_true
        areas = [sk_auc(truth[:, k], output[:, k], w) for k in columns]
        return np.nanmean(areas)
    assert name == "log_loss"
    if kind == "multiclass":
        return skm.log_loss(y_true, output, labels=list(columns), sample_weight=w)
    return np.mean(
        [skm.log_loss(target[:, k], output[:, k], labels=[0, 1], sample_weight=w) for k in columns]
    )


def sk_auc(y_true, score, w):
    present = y_true if w is None else y_true[w > 0]
    if len(np.unique(present)) < 2:
        return np.nan
    return skm.roc_auc_score(y_true, score, sample_weight=w)


def sk_regression(name, output, target, w):
    scorer = {"mse": skm.mean_squared_error, "mae": skm.mean_absolute_error, "r2": skm.r2_score}
    return scorer[name](target, output, sample_weight=w)


# --- agreement with scikit-learn ------------------------------------------------------


@pytest.mark.filterwarnings("ignore::UserWarning")  # sklearn: classes missing from y_true
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", list(CASES))
@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_metric_matches_sklearn(name, kind, seed, weighted):
    output, target, w = make(kind, seed, weighted)
    ours = METRICS[name](output, target, w)
    assert type(ours) is float
    assert ours == pytest.approx(sk_classification(name, kind, output, target, w), rel=1e-12)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", REGRESSION)
def test_regression_metric_matches_sklearn(name, seed, weighted):
    output, target, w = make("regression", seed, weighted)
    ours = METRICS[name](output, target, w)
    assert type(ours) is float
    assert ours == pytest.approx(sk_regression(name, output, target, w), rel=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_single_output_regression_accepts_1d(seed):
    output, target, _ = make("regression", seed, False)
    for name in REGRESSION:
        expected = sk_regression(name, output[:, 0], target[:, 0], None)
        assert METRICS[name](output[:, 0], target[:, 0]) == pytest.approx(expected, rel=1e-12)


def test_r2_constant_target_follows_sklearn():
    target = np.column_stack([np.full(5, 2.0), np.arange(5.0)])
    exact = target.copy()
    off = target + [[0.1, 0.0]]
    assert r2(exact, target) == skm.r2_score(target, exact) == 1.0
    assert r2(off, target) == pytest.approx(skm.r2_score(target, off))  # (0.0 + 1.0) / 2
    assert r2(off, target) == 0.5


def test_log_loss_clips_like_sklearn():
    output = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    target = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    expected = skm.log_loss(target.argmax(axis=1), output)
    assert math.isfinite(log_loss(output, target))
    assert log_loss(output, target) == pytest.approx(expected, rel=1e-12)
    single = np.array([[1.0], [0.0]])
    assert log_loss(single, 1 - single) == pytest.approx(skm.log_loss([0, 1], single[:, 0]))


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_float32_outputs_use_float32_eps_and_return_floats(seed):
    output, target, w = make("multiclass", seed, True)
    output[0] = np.eye(4)[(target[0].argmax() + 1) % 4]  # a confident mistake: clipping matters
    out32 = output.astype(np.float32)
    expected = skm.log_loss(target.argmax(axis=1), out32, labels=range(4), sample_weight=w)
    assert log_loss(out32, target, w) == pytest.approx(expected, rel=1e-5)
    for name in CLASSIFICATION:
        value = METRICS[name](out32, target.astype(np.float32), w)
        assert type(value) is float


# --- confusion matrix -----------------------------------------------------------------


labels_and_weights = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 4), min_size=n, max_size=n),
        st.lists(st.integers(0, 4), min_size=n, max_size=n),
        st.none() | st.lists(st.floats(0.1, 10.0), min_size=n, max_size=n),
    )
)


@settings(max_examples=60, deadline=None)
@given(labels_and_weights)
def test_confusion_matrix_matches_sklearn(data):
    y_true, y_pred, w = data
    ours = confusion_matrix(y_true, y_pred, n_classes=5, sample_weight=w)
    expected = skm.confusion_matrix(y_true, y_pred, labels=range(5), sample_weight=w)
    assert ours.shape == (5, 5)
    assert ours.dtype == (np.int64 if w is None else np.float64)
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_confusion_matrix_default_size_is_largest_label_plus_one():
    cm = confusion_matrix([0, 2, 2], [2, 2, 0])
    np.testing.assert_array_equal(cm, [[0, 0, 1], [0, 0, 0], [1, 0, 1]])


# --- labels and the stopping rule -----------------------------------------------------


def test_labels_rules():
    assert predicted_labels(np.array([[0.5], [0.51], [0.2]])).tolist() == [0, 1, 0]
    assert predicted_labels(np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])).tolist() == [1, 0]
    multi = predicted_labels(np.array([[0.7, 0.6, 0.1]]), multilabel=True)
    assert multi.shape == (1, 3) and multi.tolist() == [[1, 1, 0]]
    assert target_labels(np.eye(3)[[2, 0]]).tolist() == [2, 0]
    assert target_labels([1.0, 0.0]).tolist() == [1, 0]  # 1-D: a single column


def test_is_multilabel():
    assert not is_multilabel(np.eye(3))  # one-hot
    assert not is_multilabel(np.array([[0.0], [1.0]]))  # a single column
    assert not is_multilabel(np.array([[0.01, 0.99]]))  # the tutorial's targets
    assert not is_multilabel(np.array([[1.5, 3.0]]))  # regression values
    assert is_multilabel(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]))
    assert is_multilabel(np.array([[0.0, 0.0], [0.0, 1.0]]))


def test_all_correct_tutorial_targets():
    target = np.array([[0.01, 0.99], [0.99, 0.01]])
    assert all_correct(np.array([[0.3, 0.4], [0.8, 0.1]]), target)
    assert not all_correct(np.array([[0.3, 0.4], [0.1, 0.8]]), target)


def test_all_correct_single_sigmoid_xor():
    target = np.array([[0.0], [1.0], [1.0], [0.0]])
    assert all_correct(np.array([[0.1], [0.9], [0.6], [0.4]]), target)
    assert not all_correct(np.array([[0.1], [0.9], [0.5], [0.4]]), target)  # 0.5 is not > 0.5
    assert not all_correct(np.array([[0.1], [0.9], [0.4], [0.4]]), target)


def test_all_correct_multilabel_needs_every_column():
    target = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    assert all_correct(np.array([[0.9, 0.8, 0.2], [0.1, 0.3, 0.4]]), target)
    assert not all_correct(np.array([[0.9, 0.4, 0.2], [0.1, 0.3, 0.4]]), target)
    # Argmax would call the first row right; per-column thresholds do not.
    assert accuracy(np.array([[0.9, 0.4, 0.2], [0.1, 0.3, 0.4]]), target) == 0.5


def test_multilabel_flag_overrides_inference():
    # Every row has one label, so it reads as one-hot; multilabel=True thresholds each column.
    target = np.eye(2)
    output = np.array([[0.9, 0.8], [0.1, 0.7]])
    assert accuracy(output, target) == 1.0
    assert accuracy(output, target, multilabel=True) == 0.5
    assert all_correct(output, target) and not all_correct(output, target, multilabel=True)


def test_all_correct_regression_uses_argmax():
    target = np.array([[3.0, 1.0], [0.5, 2.0]])
    assert all_correct(np.array([[9.0, 0.0], [-1.0, 0.0]]), target)
    assert not all_correct(np.array([[0.0, 9.0], [-1.0, 0.0]]), target)


# --- registry contract ----------------------------------------------------------------


def _data_for(metric, seed):
    kind = "multiclass" if metric.task == "classification" else "regression"
    kind = "binary" if metric.name in TWO_CLASS else kind
    return make(kind, seed, weighted=seed % 2 == 1)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", sorted(METRICS))
def test_registry_contract(name, seed):
    metric = METRICS[name]
    assert isinstance(metric, Metric) and metric.task in ("classification", "regression")
    assert METRICS[metric.name] is metric and get_metric(name.upper()) is metric
    assert get_metric(metric) is metric
    output, target, w = _data_for(metric, seed)
    random_score, perfect_score = metric(output, target, w), metric(target, target, w)
    assert type(random_score) is float and math.isfinite(random_score)
    assert math.isfinite(perfect_score)
    if metric.greater_is_better:
        assert perfect_score >= random_score
    else:
        assert perfect_score <= random_score


def test_plain_functions_are_the_registered_ones():
    assert METRICS["acc"].function is accuracy
    assert METRICS["f1_macro"].function is f1
    assert METRICS["f1_macro"] is METRICS["f1"]


def test_custom_metric_object_passes_through_get_metric():
    custom = Metric("max_error", lambda o, t, w: float(np.abs(o - t).max()), False, "regression")
    assert get_metric(custom) is custom
    assert custom(np.array([[1.0], [2.0]]), np.array([[1.0], [5.0]])) == 3.0


# --- bad input ------------------------------------------------------------------------


def test_unknown_metric_name():
    with pytest.raises(UnknownNameError, match=r"unknown metric 'acuracy'.*accuracy") as info:
        get_metric("acuracy")
    assert "Did you mean 'accuracy'" in str(info.value)
    with pytest.raises(InputError, match="received int"):
        get_metric(3)


def test_shape_mismatch_says_received_expected_and_fix():
    with pytest.raises(InputError) as info:
        accuracy(np.zeros((4, 3)), np.zeros((4, 2)))
    message = str(info.value)
    assert "(4, 3)" in message and "(4, 2)" in message
    assert "expected the same shape" in message and "one-hot" in message
    with pytest.raises(InputError, match=r"\(3, 1\)"):
        METRICS["mse"](np.zeros(3), np.zeros((4, 1)))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"sample_weight": [1.0, 2.0]}, "sample_weight has 2 values but there are 3 samples"),
        ({"sample_weight": [0.0, 0.0, 0.0]}, "all zeros"),
        ({"sample_weight": [1.0, -1.0, 1.0]}, "negative"),
    ],
)
def test_bad_sample_weight(kwargs, pattern):
    with pytest.raises(InputError, match=pattern):
        f1(np.eye(3), np.eye(3), **kwargs)


def test_bad_arrays():
    with pytest.raises(InputError, match="3 dimension"):
        accuracy(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))
    with pytest.raises(InputError, match="NaN"):
        r2(np.array([[np.nan], [1.0]]), np.array([[0.0], [1.0]]))
    with pytest.raises(InputError, match="empty"):
        log_loss(np.zeros((0, 2)), np.zeros((0, 2)))


def test_confusion_matrix_bad_labels():
    with pytest.raises(InputError, match=r"received -1.*predicted_labels"):
        confusion_matrix([0, -1], [0, 1])
    with pytest.raises(InputError, match="received 0.5"):
        confusion_matrix([0, 1], [0, 0.5])
    with pytest.raises(InputError, match=r"up to 3 but n_classes=2.*n_classes=4"):
        confusion_matrix([0, 3], [0, 1], n_classes=2)
    with pytest.raises(InputError, match="2 labels but y_pred_labels has 3"):
        confusion_matrix([0, 1], [0, 1, 1])
    with pytest.raises(InputError, match="dimension"):
        confusion_matrix(np.eye(2), np.eye(2))


def test_metric_rejects_unknown_task():
    with pytest.raises(InputError, match=r"task='ranking'.*expected one of"):
        Metric("ndcg", lambda o, t, w: 0.0, True, "ranking")


def test_metrics_module_does_not_import_sklearn():
    import deltarule.metrics as module

    with open(module.__file__) as handle:
        assert not re.search(r"^\s*(import|from)\s+sklearn", handle.read(), re.MULTILINE)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", CLASSIFICATION)
def test_macro_average_over_present_classes(name):
    # Class 3 never occurs; class 2 only predicted; class 1 only in a zero-weight sample.
    target = np.eye(4)[[0, 0, 1, 0, 0]]
    output = np.eye(4)[[0, 2, 1, 2, 0]] * 0.7 + 0.075
    w = np.array([1.0, 2.0, 0.0, 1.0, 0.5])
    for weight in (None, w):
        expected = sk_classification(name, "multiclass", output, target, weight)
        assert METRICS[name](output, target, weight) == pytest.approx(
            expected, rel=1e-12, nan_ok=True
        )


# --- QA findings: names that say what they compute, edges, messages ------------------------


def test_f1_names_say_macro_and_f1_binary_is_sklearns_default():
    y_true, scores = np.array([0, 0, 1, 1]), np.array([0.9, 0.2, 0.8, 0.7])
    y_pred = (scores > 0.5).astype(int)
    binary = skm.f1_score(y_true, y_pred)  # scikit-learn's default: average="binary"
    macro = skm.f1_score(y_true, y_pred, average="macro")
    assert binary != pytest.approx(macro)  # (0.8 and 0.7333: the names must not mislead)
    for name in ("f1", "f1_macro", "f1_score"):
        assert METRICS[name](scores, y_true) == pytest.approx(macro, rel=1e-12)
    assert METRICS["f1_binary"](scores, y_true) == pytest.approx(binary, rel=1e-12)
    one_hot = np.column_stack([1 - scores, scores])
    assert f1_binary(one_hot, np.eye(2)[y_true]) == pytest.approx(binary, rel=1e-12)
    assert "macro" in f1.__doc__ and 'average="binary"' in f1.__doc__
    assert "f1_binary" in deltarule.metrics.__doc__ and "f1_score" in deltarule.metrics.__doc__


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_f1_binary_matches_sklearn(seed, weighted):
    output, target, w = make("binary", seed, weighted)
    y_true, y_pred = sk_labels("binary", output, target)
    expected = skm.f1_score(y_true, y_pred, sample_weight=w, zero_division=0)
    assert f1_binary(output, target, w) == pytest.approx(expected, rel=1e-12)
    assert f1_binary([0.1, 0.2], [0, 0]) == skm.f1_score([0, 0], [0, 0], zero_division=0)


def test_f1_binary_refuses_several_classes_or_labels():
    with pytest.raises(InputError, match="received 3 output columns.*'f1' \\(macro F1\\)"):
        f1_binary(np.eye(3), np.eye(3))
    with pytest.raises(InputError, match="received multi-label targets"):
        f1_binary(np.ones((2, 2)) * 0.7, np.array([[1.0, 1.0], [0.0, 0.0]]))


@pytest.mark.filterwarnings("ignore::UserWarning")  # sklearn: probabilities not summing to 1
def test_multilabel_log_loss_is_the_mean_binary_cross_entropy_not_sklearns():
    target = np.array([[1, 0, 1], [0, 0, 0], [1, 1, 0]])
    output = np.array([[0.9, 0.2, 0.6], [0.1, 0.3, 0.2], [0.7, 0.6, 0.4]])
    columns = [skm.log_loss(target[:, k], output[:, k], labels=[0, 1]) for k in range(3)]
    assert log_loss(output, target) == pytest.approx(np.mean(columns), rel=1e-12)
    assert log_loss(output, target) != pytest.approx(skm.log_loss(target, output))
    for doc in (deltarule.metrics.__doc__, log_loss.__doc__):
        assert "multi-label" in doc.lower() and "sklearn.metrics.log_loss" in doc


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_r2_of_fewer_than_two_samples_is_nan_like_sklearn():
    assert math.isnan(skm.r2_score([1.0], [2.0]))
    assert math.isnan(r2([2.0], [1.0])) and math.isnan(r2([1.0], [1.0]))
    assert math.isnan(r2([[2.0, 3.0]], [[1.0, 3.0]], [4.0]))
    assert r2([1.0, 2.0], [1.0, 3.0]) == pytest.approx(skm.r2_score([1.0, 3.0], [1.0, 2.0]))


@pytest.mark.parametrize(
    "name", ["loss", "val_loss", "epoch", "learning_rate", "gradient_norm", "seconds",
             "val_x", "val_accuracy"]
)  # fmt: skip
def test_a_metric_cannot_take_a_history_columns_name(name):
    with pytest.raises(InputError, match=f"Metric name {name!r} would overwrite.*another name"):
        Metric(name, lambda o, t, w: 0.0, True, "regression")


def test_a_metric_needs_a_name():
    with pytest.raises(InputError, match="non-empty string; received ''"):
        Metric("", lambda o, t, w: 0.0, True, "regression")
    assert Metric("validation_gap", lambda o, t, w: 0.0, True, "regression").name


@pytest.mark.parametrize("label", [10**6, 1e18, 1e30, MAX_CLASSES])
def test_confusion_matrix_refuses_a_huge_label_before_allocating(label):
    with pytest.raises(InputError, match=r"y_pred_labels holds the class index \d+.*n_classes"):
        confusion_matrix([0], [label])
    with pytest.raises(InputError, match="labels go up to"):
        confusion_matrix([0], [label], n_classes=3)
    assert confusion_matrix([0], [5]).shape == (6, 6)  # (classes absent from a sample: fine)


def test_messages_show_what_was_received():
    with pytest.raises(InputError, match=r"received 1\.0000001\."):
        confusion_matrix([1.0000001], [0])
    with pytest.raises(InputError, match=r"output is None; expected an array"):
        accuracy(None, [1])
    with pytest.raises(InputError, match=r"target is None"):
        r2([1.0, 2.0], None)
    with pytest.raises(InputError, match=r"y_true_labels is None"):
        confusion_matrix(None, [0])


@pytest.mark.parametrize("seed", SEEDS)
def test_bit_fail_counts_outputs_further_than_the_limit_as_fann_does(seed):
    from deltarule.metrics import bit_fail

    rng = np.random.default_rng(seed)
    output, target = rng.random((30, 3)), rng.integers(0, 2, (30, 3)).astype(float)
    w = rng.random(30)
    misses = np.abs(target - output)
    expected = sum(1 for row in misses for value in row if value > 0.35)
    assert METRICS["bit_fail"](output, target) == float(expected)
    weighted = sum(wi * sum(1 for value in row if value > 0.35) for wi, row in zip(w, misses))
    assert METRICS["bit_fail"](output, target, w) == pytest.approx(weighted, rel=1e-12)
    assert bit_fail(output, target, limit=0.1) == float((misses > 0.1).sum())
    assert bit_fail(target, target) == 0.0  # (every output on its target: nothing fails)
    with pytest.raises(dr.InputError, match="limit must be a number >= 0"):
        bit_fail(output, target, limit=-1)


def test_training_until_no_bit_fails_as_fanns_bit_stop_function():
    from deltarule.callbacks import TargetError

    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    net = dr.Network([2, 4, 1], activation="tanh", output_activation="sigmoid",
                     loss="half_squared_error", seed=1)  # fmt: skip
    h = net.fit(X, y, epochs=5000, batch_size=1, optimizer="sgd", learning_rate=0.5,
                metrics=["bit_fail"], callbacks=[TargetError(0, monitor="bit_fail")],
                verbose=0, shuffle=False)  # fmt: skip
    assert h.stop_reason.startswith("target error reached (bit_fail 0 <= 0)")
    fails = h.history["bit_fail"]
    assert fails[-1] == 0 and all(value > 0 for value in fails[:-1])
    assert len(h) < 5000


def test_the_validation_metrics_split_one_column_where_the_training_targets_do():
    # (QA, metrics vs scikit-learn: validation rows of one class were cut at the output's
    # range midpoint, 0 for tanh, not at the training targets' 0.5: val_accuracy 0 for an
    # output of 0.05 on a 0 target)
    import deltarule as dr

    X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([[0.0], [0.0], [1.0], [1.0]])
    net = dr.Network([1, 1], output_activation="tanh", loss="mse", dtype="float64", seed=0)
    net.weights[0][...], net.biases[0][...] = 0.1, 0.05  # outputs 0.05 .. 0.34
    history = net.fit(X, y, validation_data=(X[:2], y[:2]), metrics=["accuracy"], epochs=1,
                      batch_size=None, optimizer="sgd", learning_rate=1e-9, verbose=0)  # fmt: skip
    assert history.history["accuracy"] == [0.5] and history.history["val_accuracy"] == [1.0]


@pytest.mark.parametrize("threshold", [float("nan"), float("inf")])
def test_a_threshold_that_is_not_finite_is_refused(threshold):
    with pytest.raises(InputError, match="threshold must be a finite number"):
        accuracy([[0.9], [0.1]], [[0.0], [1.0]], threshold=threshold)


def test_log_loss_refuses_targets_outside_0_1():
    # (-1/+1 targets, the tanh convention, gave a negative "loss")
    with pytest.raises(InputError, match="log_loss needs targets that are class probabilities"):
        log_loss([[0.9], [0.1]], [[-1.0], [1.0]])


def test_log_loss_clips_float16_at_its_own_epsilon():
    # as sklearn.metrics.log_loss: -log(eps of float16)
    got = log_loss(np.array([[1.0]], np.float16), [[0.0]])
    assert got == pytest.approx(-np.log(np.finfo(np.float16).eps))


def test_evaluate_takes_the_cut_for_rows_of_one_class():
    # (QA: evaluate cut a subset of one class at the activation's midpoint; threshold= gives
    # the training targets' cut)
    import deltarule as dr

    X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([[0.0], [0.0], [1.0], [1.0]])
    net = dr.Network([1, 1], output_activation="tanh", loss="mse", dtype="float64", seed=0)
    net.weights[0][...], net.biases[0][...] = 0.1, 0.05  # outputs 0.05 .. 0.34
    assert net.evaluate(X, y, metrics=["accuracy"])["accuracy"] == 0.5  # (cut 0.5: both)
    assert net.evaluate(X[:2], y[:2], metrics=["accuracy"])["accuracy"] == 0.0  # (cut at 0)
    got = net.evaluate(X[:2], y[:2], metrics=["accuracy"], threshold=0.5)
    assert got["accuracy"] == accuracy(net.predict(X[:2]), y[:2], threshold=0.5) == 1.0


def test_roc_auc_is_sklearns_one_vs_rest_macro_and_binary_area():
    # (QA as a Keras user: metrics=["auc"] was an unknown metric)
    rng = np.random.default_rng(7)
    z = rng.normal(size=(60, 4))
    proba = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = np.arange(60) % 4
    target = np.eye(4)[y]
    w = rng.uniform(0.2, 2.0, 60)
    for weight in (None, w):
        want = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro", sample_weight=weight)
        assert METRICS["auc"](proba, target, weight) == pytest.approx(want, rel=1e-12)
        two = proba[:, :2] / proba[:, :2].sum(axis=1, keepdims=True)
        want = skm.roc_auc_score(y % 2, two[:, 1], sample_weight=weight)
        assert METRICS["roc_auc"](two, np.eye(2)[y % 2], weight) == pytest.approx(want, rel=1e-12)
    ties = np.array([[0.2], [0.2], [0.7], [0.2]])  # (ties count half, as scikit-learn's)
    labels = np.array([[0.0], [1.0], [1.0], [0.0]])
    assert METRICS["roc_auc"](ties, labels) == skm.roc_auc_score(labels[:, 0], ties[:, 0])
    assert math.isnan(METRICS["roc_auc"](ties, np.ones((4, 1))))  # (one class: no area)


def test_auc_is_recorded_while_training_with_a_tanh_output_cut_at_zero():
    import deltarule as dr

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = np.where(X[:, :1] + 0.5 * X[:, 1:] > 0, 1.0, -1.0)  # (FANN's -1/+1 targets)
    net = dr.Network([2, 4, 1], activation="tanh", output_activation="tanh", seed=0)
    fitted, held = slice(0, 60), slice(60, 80)
    history = net.fit(X[fitted], y[fitted], epochs=5, metrics=["auc"], verbose=0,
                      validation_data=(X[held], y[held]), learning_rate=0.05,
                      warn_convergence=False)  # fmt: skip
    record = history.records[-1]
    want = skm.roc_auc_score(y[held, 0] > 0, net.predict(X[held])[:, 0])
    assert record.val_metrics["roc_auc"] == pytest.approx(want, rel=1e-12)
    assert 0.5 < record.metrics["roc_auc"] <= 1.0


@pytest.mark.parametrize("name", ["f1", "precision", "recall", "balanced_accuracy"])
@pytest.mark.parametrize("weighted", [False, True])
def test_many_class_metrics_count_per_class_without_a_confusion_matrix(name, weighted):
    # (they built the classes x classes matrix: 16,000 classes took 3.9 GB for 2,000 rows)
    import tracemalloc

    rng = np.random.default_rng(0)
    n_classes, rows = 6000, 300
    truth, guess = rng.integers(0, 40, rows), rng.integers(0, 40, rows)
    guess[::3] = truth[::3]
    output, target = np.eye(n_classes)[guess], np.eye(n_classes)[truth]
    w = rng.uniform(0.5, 2.0, rows) if weighted else None
    metric = dr.metrics.get_metric(name)
    tracemalloc.start()
    try:
        ours = metric(output, target, w)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20  # (the matrix alone: 288 MB)
    sk = {"f1": lambda *a, **k: skm.f1_score(*a, average="macro", **k),
          "precision": lambda *a, **k: skm.precision_score(*a, average="macro", **k),
          "recall": lambda *a, **k: skm.recall_score(*a, average="macro", **k),
          "balanced_accuracy": skm.balanced_accuracy_score}[name]  # fmt: skip
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = sk(truth, guess, sample_weight=w)
    assert ours == pytest.approx(expected, rel=1e-12)
