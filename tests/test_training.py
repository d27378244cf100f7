"""The training loop: modes, weights, stopping rules, validation, history, faults."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from conftest import torch_plateau_rates

import deltarule as dr
from deltarule.callbacks import CSVLogger, EarlyStopping, ReduceLROnPlateau, TrainingState
from deltarule.history import EpochRecord
from deltarule.training import Trainer, fit

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=float)


def regression_data(rng: np.random.Generator, n: int = 40):
    X = rng.normal(size=(n, 3))
    y = np.stack([X[:, 0] - 2 * X[:, 1], np.sin(X[:, 2])], axis=1)
    return X, y


def classification_data(rng: np.random.Generator, n: int = 60, k: int = 3):
    labels = rng.integers(0, k, n)
    X = rng.normal(size=(n, 2)) + labels[:, None] * 2.0
    return X, np.eye(k)[labels], labels


def quiet(**kwargs):
    return {"verbose": 0, **kwargs}


def test_xor_learned_by_a_2_2_1_network_online() -> None:
    net = dr.Network(
        [2, 2, 1],
        activation="sigmoid",
        output_activation="sigmoid",
        loss="half_squared_error",
        seed=1,
        dtype="float64",
    )
    history = net.fit(
        XOR_X,
        XOR_Y,
        epochs=20_000,
        batch_size=1,
        optimizer="sgd",
        learning_rate=0.5,
        target_error=0.005,
        metrics=[],
        seed=0,
        verbose=0,
    )
    assert history.stop_reason.startswith("target error reached")
    np.testing.assert_array_equal(net.predict(XOR_X).round(), XOR_Y)


@pytest.mark.parametrize("batch_size,updates", [(1, 40), (16, 3), (None, 1), (40, 1)])
def test_modes_make_the_expected_number_of_updates(batch_size, updates, rng) -> None:
    X, y = regression_data(rng)
    trainer = Trainer(dr.Network([3, 4, 2], seed=0), "sgd", 0.01, batch_size, seed=0)
    trainer.fit(X, y, epochs=1, verbose=0)
    assert trainer.optimizer_state["step"] == updates


def test_full_batch_gradient_descent_equals_the_delta_rule_by_hand(rng) -> None:
    X, y = regression_data(rng)
    net = dr.Network([3, 5, 2], activation="tanh", seed=0, dtype="float64")
    manual = net.copy()
    net.fit(X, y, epochs=5, batch_size=None, optimizer="sgd", learning_rate=0.1, **quiet())
    for _ in range(5):
        _, grad = manual.loss_and_gradient(X, y)
        manual.parameters -= 0.1 * grad
    np.testing.assert_allclose(net.parameters, manual.parameters, rtol=1e-12)


def test_online_without_shuffle_visits_examples_in_order(rng) -> None:
    X, y = regression_data(rng, n=6)
    net = dr.Network([3, 4, 2], activation="tanh", seed=0, dtype="float64")
    manual = net.copy()
    net.fit(
        X, y, epochs=2, batch_size=1, shuffle=False, optimizer="sgd", learning_rate=0.05, **quiet()
    )
    for _ in range(2):
        for i in range(len(X)):
            _, grad = manual.loss_and_gradient(X[i : i + 1], y[i : i + 1])
            manual.parameters -= 0.05 * grad
    np.testing.assert_allclose(net.parameters, manual.parameters, rtol=1e-12)


def _run(seed, rng_data):
    X, y, _ = classification_data(rng_data)
    net = dr.Network([2, 8, 3], activation="relu", output_activation="softmax", dropout=0.2, seed=4)
    history = net.fit(X, y, epochs=5, batch_size=8, seed=seed, validation_split=0.2, **quiet())
    rows = [{k: v for k, v in r.as_dict().items() if k != "seconds"} for r in history]
    return net.parameters.copy(), rows


def test_same_seed_gives_bitwise_identical_weights_and_history() -> None:
    a = _run(7, np.random.default_rng(0))
    b = _run(7, np.random.default_rng(0))
    assert a[0].tobytes() == b[0].tobytes()
    assert a[1] == b[1]
    c = _run(8, np.random.default_rng(0))
    assert a[0].tobytes() != c[0].tobytes()


def test_integer_sample_weights_equal_duplicated_rows_full_batch(rng) -> None:
    X, y = regression_data(rng, n=10)
    counts = rng.integers(1, 4, size=10)
    a = dr.Network([3, 4, 2], seed=0, dtype="float64")
    b = a.copy()
    a.fit(X, y, sample_weight=counts, epochs=3, batch_size=None, optimizer="sgd", **quiet())
    b.fit(
        np.repeat(X, counts, 0),
        np.repeat(y, counts, 0),
        epochs=3,
        batch_size=None,
        optimizer="sgd",
        **quiet(),
    )
    np.testing.assert_allclose(a.parameters, b.parameters, rtol=1e-12)


def test_balanced_class_weight_equals_hand_computed_sample_weights(rng) -> None:
    X, y, labels = classification_data(rng, n=30)
    counts = np.bincount(labels, minlength=3)
    weights = len(labels) / (3 * counts[labels])
    a = dr.Network([2, 4, 3], output_activation="softmax", seed=0, dtype="float64")
    b = a.copy()
    a.fit(X, y, class_weight="balanced", epochs=2, batch_size=None, **quiet())
    b.fit(X, y, sample_weight=weights, epochs=2, batch_size=None, **quiet())
    np.testing.assert_allclose(a.parameters, b.parameters, rtol=1e-12)


@pytest.mark.parametrize("batch_size", [1, 4])
def test_batches_of_weight_zero_are_skipped_as_if_absent(batch_size, rng) -> None:
    # A batch whose examples all have weight 0 has no weighted mean (0/0): it makes no
    # update, so training equals training without those rows (in order: same batches).
    X, y, _ = classification_data(rng, n=40, k=2)
    sw = rng.uniform(0.5, 2.0, 40)
    sw[8:16] = 0.0  # two whole batches of 4 (eight of 1)
    kept = np.r_[0:8, 16:40]
    a = dr.Network([2, 4, 2], output_activation="softmax", seed=0, dtype="float64")
    b = a.copy()
    kwargs = dict(epochs=3, batch_size=batch_size, shuffle=False, **quiet())
    ha = a.fit(X, y, sample_weight=sw, **kwargs)
    hb = b.fit(X[kept], y[kept], sample_weight=sw[kept], **kwargs)
    assert ha.stop_reason == hb.stop_reason == "max epochs (3) reached"
    np.testing.assert_array_equal(a.parameters, b.parameters)
    np.testing.assert_allclose(ha.loss, hb.loss, rtol=1e-12)
    accuracy = [[r.metrics["accuracy"] for r in h] for h in (ha, hb)]
    np.testing.assert_allclose(*accuracy, rtol=1e-12)


def test_training_examples_all_of_weight_zero_are_a_clear_error(rng) -> None:
    X, y, labels = classification_data(rng, n=30, k=2)
    net = dr.Network([2, 4, 2], output_activation="softmax", seed=0)
    weights = {"sample_weight": labels == 0, "class_weight": {0: 0.0, 1: 1.0}}
    with pytest.raises(dr.InputError, match="every training example has weight 0 .*class_weight"):
        net.fit(X, y, **weights, **quiet())
    with pytest.raises(dr.InputError, match="every training example has weight 0 .*class_weight"):
        net.fit(X, y, validation_data=(X, y), **weights, **quiet())
    one = np.zeros(30)
    one[0] = 1.0  # a single weighted example: one part of the split has weight 0
    seen = set()
    for seed in range(20):
        with pytest.raises(dr.InputError, match="after validation_split=0.5 held out") as error:
            net.fit(X, y, sample_weight=one, validation_split=0.5, seed=seed, **quiet())
        assert "pass validation_data instead" in str(error.value)
        seen.add(str(error.value).split()[1])
    assert seen == {"training", "validation"}


def test_class_weight_dict_and_bad_keys(rng) -> None:
    X, y, _ = classification_data(rng, n=30)
    net = dr.Network([2, 4, 3], output_activation="softmax", seed=0)
    net.fit(X, y, class_weight={0: 2.0, 2: 0.5}, epochs=1, **quiet())
    with pytest.raises(dr.InputError, match="class_weight key 5 is not a class index"):
        net.fit(X, y, class_weight={5: 1.0}, epochs=1, **quiet())
    regression = dr.Network([2, 4, 1], seed=0)
    with pytest.raises(dr.InputError, match=r"y has values from -\S+ to .*sample_weight"):
        regression.fit(X, X[:, :1], class_weight="balanced", epochs=1, **quiet())


# ---------------------------------------------------------------- stopping
def test_every_example_classified_correctly_stops() -> None:
    net = dr.Network([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=1)
    history = net.fit(
        XOR_X,
        XOR_Y,
        epochs=5000,
        batch_size=None,
        learning_rate=0.05,
        stop_when_all_correct=True,
        **quiet(),
    )
    assert history.stop_reason == "every training example classified correctly"
    assert len(history) < 5000
    np.testing.assert_array_equal(net.predict(XOR_X) > 0.5, XOR_Y > 0.5)


def test_gradient_norm_threshold_stops(rng) -> None:
    X, y = regression_data(rng)
    history = dr.Network([3, 2], seed=0, dtype="float64").fit(
        X,
        y,
        epochs=10_000,
        batch_size=None,
        optimizer="sgd",
        learning_rate=0.1,
        min_gradient_norm=1e-3,
        **quiet(),
    )
    assert history.stop_reason.startswith("gradient norm")
    assert history[-1].gradient_norm < 1e-3 <= history[-2].gradient_norm


def test_time_limit_stops(rng) -> None:
    X, y = regression_data(rng)
    history = dr.Network([3, 2], seed=0).fit(X, y, epochs=10**6, time_limit=0.2, **quiet())
    assert history.stop_reason.startswith("time limit")


def test_max_epochs_reported(rng) -> None:
    X, y = regression_data(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = dr.Network([3, 2], seed=0).fit(X, y, epochs=3, **quiet())
    assert history.stop_reason == "max epochs (3) reached" and len(history) == 3


def _record(epoch: int, val_loss: float) -> EpochRecord:
    return EpochRecord(epoch, 1.0, val_loss, {}, {}, 0.1, 0.0, 0.0)


@pytest.mark.parametrize("stop_by_patience", [True, False])
def test_early_stopping_restores_the_best_weights(stop_by_patience) -> None:
    net = dr.Network([1, 1], use_bias=False)
    data = np.zeros((1, 1))
    state = TrainingState(net, None, {}, 0.1, 0.1, 5, data, data, X_val=data, y_val=data)
    stopper = EarlyStopping("val_loss", patience=2 if stop_by_patience else 10)
    stopper.on_train_begin(state)
    reasons = []
    for epoch, value in enumerate([3.0, 2.0, 1.0, 2.0, 2.5], start=1):
        net.parameters[:] = epoch  # the weights "after" each epoch
        reasons.append(stopper.on_epoch_end(_record(epoch, value), state))
    assert (reasons[-1] is not None) == stop_by_patience
    history = dr.training.History()
    stopper.on_train_end(history, state)
    assert net.parameters[0] == 3.0 and history.best_epoch == 3


def test_early_stopping_in_fit_keeps_best_validation_loss(rng) -> None:
    X, y, _ = classification_data(rng, n=80)
    net = dr.Network([2, 32, 3], output_activation="softmax", seed=0)
    history = net.fit(
        X,
        y,
        epochs=300,
        learning_rate=0.05,
        validation_split=0.25,
        early_stopping=True,
        patience=5,
        seed=0,
        **quiet(),
    )
    assert history.best_epoch is not None
    best = min(v for v in history.val_loss)
    assert history[history.best_epoch - 1].val_loss == best
    val = net.evaluate(X, y)  # the restored weights are used afterwards
    assert math.isfinite(val)


def test_monitoring_an_unavailable_value_is_a_clear_error(rng) -> None:
    X, y = regression_data(rng)
    with pytest.raises(dr.InputError, match="cannot monitor 'val_loss'.*validation_split"):
        dr.Network([3, 2]).fit(X, y, epochs=2, early_stopping=True, monitor="val_loss", **quiet())


@pytest.mark.parametrize(
    "monitor,name,mode",
    [("val_acc", "val_accuracy", "max"), ("f1_score", "f1", "max"), ("val_logloss", "val_log_loss",
     "min"), ("mean_squared_error", "mse", "min"), ("val_loss", "val_loss", "min")],
)  # fmt: skip
def test_a_metrics_alias_monitors_the_recorded_name(rng, monitor, name, mode) -> None:
    from deltarule import callbacks as cb

    # (mode "auto" took 'val_acc' for an error to minimise)
    for callback in (cb.EarlyStopping(monitor=monitor), cb.ReduceLROnPlateau(monitor=monitor),
                     cb.ModelCheckpoint("m.safetensors", monitor=monitor)):  # fmt: skip
        assert (callback.monitor, getattr(callback, "mode", mode)) == (name, mode)
    if monitor == "val_acc":  # Keras's name, with metrics=["acc"]: records say "val_accuracy"
        X, y, _ = classification_data(rng)
        stop = cb.EarlyStopping(monitor=monitor, patience=1, restore_best_weights=True)
        history = dr.Network([2, 4, 3], output_activation="softmax", seed=0).fit(
            X, y, epochs=4, validation_split=0.25, metrics=["acc"], callbacks=[stop], **quiet()
        )
        assert len(history) >= 2 and "val_accuracy" in history[0].as_dict()


def test_an_unrecorded_metric_lists_what_is_recorded(rng) -> None:
    from deltarule import callbacks as cb

    X, y, _ = classification_data(rng)
    net = dr.Network([2, 4, 3], output_activation="softmax", seed=0)
    with pytest.raises(
        dr.InputError,
        match=r"cannot monitor 'val_f1': this run does not compute "
        r"it \(it records loss, val_loss, .*val_accuracy\)\. Add 'f1' to metrics",
    ):
        net.fit(X, y, epochs=2, validation_split=0.25, callbacks=[cb.EarlyStopping("val_f1")],
                **quiet())  # fmt: skip


# ---------------------------------------------------------------- validation & history
def test_validation_split_is_stratified_and_reported(rng) -> None:
    X, y, labels = classification_data(rng, n=90)
    net = dr.Network([2, 4, 3], output_activation="softmax", seed=0)
    trainer = Trainer(net, seed=0)
    train, val = trainer._prepare(X, y, None, None, 0.2, None)
    val_counts = np.bincount(val.y.argmax(1), minlength=3)
    exact = 0.2 * np.bincount(labels, minlength=3)
    assert val_counts.sum() == 18  # 20% of 90
    assert np.all((val_counts == np.floor(exact)) | (val_counts == np.ceil(exact)))
    # Five classes of two rows: each class's 25% rounds to 0, the whole split's to 2.
    X5, y5 = X[:10], np.eye(5)[np.arange(10) % 5]
    _, val5 = Trainer(dr.Network([2, 4, 5], output_activation="softmax"), seed=0)._prepare(
        X5, y5, None, None, 0.25, None
    )
    held = np.bincount(val5.y.argmax(1), minlength=5)
    assert held.sum() == round(0.25 * 10) and held.max() == 1
    history = trainer.fit(X, y, epochs=2, validation_split=0.2, verbose=0, warn_convergence=False)
    row = history.as_dict()
    for key in (
        "epoch",
        "loss",
        "val_loss",
        "accuracy",
        "val_accuracy",
        "learning_rate",
        "gradient_norm",
        "seconds",
    ):
        assert len(row[key]) == 2, key


def test_validation_data_and_too_small_split(rng) -> None:
    X, y = regression_data(rng, n=3)
    net = dr.Network([3, 2])
    history = net.fit(X, y, epochs=1, validation_data=(X, y), **quiet())
    assert history[0].val_loss == pytest.approx(net.evaluate(X, y), rel=1e-6)
    with pytest.raises(dr.InputError, match="validation_split=0.1 leaves 0 of 3 samples"):
        net.fit(X, y, epochs=1, validation_split=0.1, **quiet())


@pytest.mark.parametrize(
    "bad,message",
    [
        (lambda X, y: (X[:2], y[:3]), "X_val has 2 samples but y_val has 3"),
        (lambda X, y: (X[:, :1], y), "X_val has 1 features but the network expects 3"),
        (lambda X, y: (X, y, np.zeros(len(y))), "sample_weight_val is all zeros"),
        (lambda X, y: (np.full_like(X, np.nan), y), "X_val contains NaN or infinity"),
    ],
)
def test_validation_data_errors_name_the_validation_arrays(bad, message, rng) -> None:
    X, y = regression_data(rng)
    with pytest.raises(dr.InputError, match=message):
        dr.Network([3, 2]).fit(X, y, epochs=1, validation_data=bad(X, y), **quiet())


def test_csv_logger_writes_one_row_per_epoch(rng, tmp_path) -> None:
    X, y = regression_data(rng)
    path = tmp_path / "log.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dr.Network([3, 2]).fit(X, y, epochs=4, callbacks=[CSVLogger(path)], **quiet())
    lines = path.read_text().splitlines()
    assert lines[0].startswith("epoch,loss") and len(lines) == 5


def test_progress_prints_plain_lines_when_not_a_terminal(rng, capsys) -> None:
    X, y = regression_data(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dr.Network([3, 2]).fit(X, y, epochs=3, verbose=1)
    err = capsys.readouterr().err
    assert "epoch 1/3 - loss" in err and "stopped: max epochs (3) reached" in err
    dr.Network([3, 2]).fit(X, y, epochs=3, verbose=0, time_limit=100)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- learning rates
def test_schedule_sets_the_learning_rate_per_epoch(rng) -> None:
    pytest.importorskip("deltarule.schedules")
    from deltarule.schedules import get_schedule

    X, y = regression_data(rng)
    sched = get_schedule("step", step_size=2, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = dr.Network([3, 2]).fit(
            X, y, epochs=5, learning_rate=0.1, schedule=sched, **quiet()
        )
    assert [r.learning_rate for r in history] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


def test_the_epoch_limit_warning_counts_the_whole_run(rng) -> None:
    X, y = regression_data(rng)
    trainer = Trainer(dr.Network([3, 4, 2], seed=0), "sgd", 0.05, 8, seed=0)
    trainer.fit(X, y, epochs=3, verbose=0, warn_convergence=False)
    with pytest.warns(dr.ConvergenceWarning, match=r"maximum number of epochs \(8\)"):
        trainer.fit(X, y, epochs=5, verbose=0)  # epochs 4 to 8 of the run


def test_a_second_fit_continues_the_schedule(rng) -> None:
    # The schedule scales the trainer's base rate, not the last fit's scaled one: two fits of
    # 4 epochs are one fit of 8.
    from deltarule.callbacks import LearningRateScheduler
    from deltarule.schedules import get_schedule
    from deltarule.training import Trainer

    X, y = regression_data(rng)
    callback = LearningRateScheduler(get_schedule("step", step_size=2, gamma=0.5))

    def trainer() -> Trainer:
        return Trainer(dr.Network([3, 4, 2], dtype="float64", seed=0), "sgd", 0.1, 8, seed=0)

    twice, once = trainer(), trainer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = twice.fit(X, y, epochs=4, callbacks=[callback], verbose=0)
        second = twice.fit(X, y, epochs=4, callbacks=[callback], verbose=0)
        whole = once.fit(X, y, epochs=8, callbacks=[callback], verbose=0)
    rates = [r.learning_rate for r in [*first, *second]]
    assert (
        rates
        == [r.learning_rate for r in whole]
        == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125])
    )
    np.testing.assert_array_equal(twice.network.parameters, once.network.parameters)


def test_reduce_on_plateau_as_fit_schedule_lowers_the_rate(rng) -> None:
    from deltarule.callbacks import LearningRateScheduler
    from deltarule.schedules import ReduceOnPlateau

    X, y = regression_data(rng)
    net = dr.Network([3, 4, 2], dtype="float64", seed=0)
    schedule = ReduceOnPlateau(factor=0.5, patience=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a rate of 1e-9 barely moves: a plateau from the start
        history = net.fit(X, y, epochs=9, optimizer="sgd", learning_rate=1e-9,
                          schedule=schedule, **quiet())  # fmt: skip
    # torch's rule, on the training loss: a reduction once 3 epochs in a row did not improve
    assert [r.learning_rate for r in history] == pytest.approx(
        [1e-9, 1e-9, 1e-9, 1e-9, 5e-10, 5e-10, 5e-10, 2.5e-10, 2.5e-10], rel=1e-12
    )
    with pytest.raises(dr.InputError, match="use ReduceLROnPlateau"):
        LearningRateScheduler(ReduceOnPlateau())


def test_reduce_lr_on_plateau_lowers_the_rate() -> None:
    net = dr.Network([1, 1])
    state = TrainingState(net, None, {}, 1.0, 1.0, 10, np.zeros((1, 1)), np.zeros((1, 1)))
    cb = ReduceLROnPlateau("val_loss", factor=0.5, patience=2)
    rates = []
    for epoch, value in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], start=1):
        state.epoch = epoch
        cb.on_epoch_end(_record(epoch, value), state)
        rates.append(state.learning_rate)
    # torch's rule: reduce once more than `patience` epochs failed to improve, then restart.
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25]


def test_optimizer_object_with_a_learning_rate(rng) -> None:
    from deltarule.optimizers import Adam

    X, y = regression_data(rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = dr.Network([3, 2]).fit(
            X, y, epochs=2, optimizer=Adam(), learning_rate=0.1, **quiet()
        )
    assert history[0].learning_rate == 0.1


# ---------------------------------------------------------------- regularisation
def test_l2_penalty_step_equals_hand_computation(rng) -> None:
    X, y = regression_data(rng)
    net = dr.Network([3, 4, 2], seed=0, dtype="float64")
    manual = net.copy()
    net.fit(X, y, epochs=1, batch_size=None, optimizer="sgd", learning_rate=0.1, l2=0.3, **quiet())
    _, grad = manual.loss_and_gradient(X, y)
    grad += 0.3 * manual.parameters * manual.weight_mask  # weights only, not biases
    np.testing.assert_allclose(net.parameters, manual.parameters - 0.1 * grad, rtol=1e-12)


def test_frozen_parameters_never_move_even_with_weight_decay(rng) -> None:
    X, y = regression_data(rng)
    net = dr.Network([3, 4, 2], seed=0, bias_initializer="he_uniform").freeze("W1", "b2")
    before = net.get_parameters()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X, y, epochs=3, optimizer="adamw", l2=0.1, **quiet())
    after = net.get_parameters()
    np.testing.assert_array_equal(before["W1"], after["W1"])
    np.testing.assert_array_equal(before["b2"], after["b2"])
    assert not np.array_equal(before["W2"], after["W2"])


def test_max_norm_bounds_each_neurons_weights(rng) -> None:
    X, y = regression_data(rng)
    net = dr.Network([3, 8, 2], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X, y, epochs=5, learning_rate=0.5, max_norm=0.5, **quiet())
    for w in net.weights:
        assert np.sqrt((w.astype(float) ** 2).sum(axis=1)).max() <= 0.5 + 1e-6


def test_max_norm_leaves_frozen_weights_alone(rng) -> None:
    X, y = regression_data(rng)
    net = dr.Network([3, 8, 2], seed=0).freeze("W1")
    frozen = net.weights[0].copy()
    assert np.sqrt((frozen.astype(float) ** 2).sum(axis=1)).max() > 0.3  # max-norm would bite
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X, y, epochs=2, optimizer="sgd", max_norm=0.3, **quiet())
    np.testing.assert_array_equal(net.weights[0], frozen)
    assert np.sqrt((net.weights[1].astype(float) ** 2).sum(axis=1)).max() <= 0.3 + 1e-6


def test_dropout_applies_only_during_training(rng) -> None:
    X, y, _ = classification_data(rng)
    net = dr.Network([2, 16, 3], output_activation="softmax", dropout=0.5, seed=0)
    np.testing.assert_array_equal(net.predict(X), net.predict(X))
    _, caches = net.forward(X.astype(np.float32), rng=np.random.default_rng(0))
    mask = caches[0].dropout_mask
    assert set(np.unique(mask)) == {0.0, 2.0}
    assert dr.check_gradients(net, X, y).passed  # no dropout outside training


# ---------------------------------------------------------------- faults
def test_divergence_stops_restores_finite_weights_and_says_what_to_try(rng) -> None:
    X, y = regression_data(rng)
    X = X * 1e3
    net = dr.Network([3, 8, 2], seed=0)
    with pytest.warns(dr.ConvergenceWarning, match="lower learning rate|standardise"):
        history = net.fit(X, y, epochs=50, optimizer="sgd", learning_rate=10.0, **quiet())
    assert "diverged" in history.stop_reason
    assert np.isfinite(net.parameters).all()


def test_the_epoch_limit_warning_suggests_a_stopping_rule_only_when_there_is_none(rng) -> None:
    # (the command line, whose early stopping is on by default, was told to add one)
    X, y = regression_data(rng)
    net = dr.Network([3, 2], seed=0)
    with pytest.warns(dr.ConvergenceWarning) as caught:
        net.fit(X, y, epochs=20, optimizer="sgd", **quiet())
    assert str(caught[0].message).endswith(
        "Raise epochs, raise the learning rate (now 0.01), or add a stopping rule "
        "(target_error or early_stopping)."
    )
    net = dr.Network([3, 2], seed=0)
    with pytest.warns(dr.ConvergenceWarning) as caught:
        net.fit(X, y, epochs=20, optimizer="sgd", validation_split=0.2, early_stopping=True,
                patience=50, **quiet())  # fmt: skip
    assert str(caught[0].message).endswith("Raise epochs or raise the learning rate (now 0.01).")


def test_a_network_is_trained_by_one_fit_at_a_time(rng) -> None:
    # (two fits of one network in two threads raced on its weights: each run's result
    # differed, by up to 0.11, and an estimator ended with both runs' records; a callback
    # could fit the network under the fit that called it)
    import threading

    from deltarule.callbacks import Callback

    X, y = regression_data(rng)
    net = dr.Network([3, 8, 2], seed=0)
    seen = []

    class Refit(Callback):
        def on_epoch_end(self, record, state):
            try:
                net.fit(X, y, epochs=1, **quiet())
            except dr.InputError as error:
                seen.append(str(error))
            other = threading.Thread(target=lambda: seen.append(_try_fit(net, X, y)))
            other.start()
            other.join()

    net.fit(X, y, epochs=1, callbacks=[Refit()], **quiet())
    assert len(seen) == 2 and all("being trained already" in s for s in seen), seen
    assert "copy.deepcopy(network)" in seen[0]
    net.fit(X, y, epochs=1, **quiet())  # free again after the fit, even after an error
    with pytest.raises(ZeroDivisionError):
        net.fit(X, y, epochs=1, callbacks=[_Raise()], **quiet())
    net.fit(X, y, epochs=1, **quiet())


def _try_fit(net, X, y) -> str:
    try:
        net.fit(X, y, epochs=1, **quiet())
    except dr.InputError as error:
        return str(error)
    return "trained"


class _Raise(dr.callbacks.Callback):
    def on_epoch_end(self, record, state):
        raise ZeroDivisionError


def test_a_classification_metric_refuses_regression_targets(rng) -> None:
    # (metrics=["accuracy"] on real-valued targets recorded a number, from thresholding them
    # at 0.5; the tutorial's 0.01/0.99 class targets under squared error still take it)
    X = rng.random((20, 2))
    net = dr.Network([2, 3, 1], seed=0)  # identity + mse: a regression
    with pytest.raises(dr.InputError, match=r"metrics \['accuracy'\] score class predictions.*"
                       r"column 0 of y holds 20 different values"):  # fmt: skip
        net.fit(X, X[:, :1], metrics=["accuracy"], epochs=1, **quiet())
    classes = np.where(X[:, :1] > 0.5, 0.99, 0.01)
    net = dr.Network([2, 3, 1], output_activation="sigmoid", loss="half_squared_error", seed=0)
    history = net.fit(X, classes, metrics=["accuracy"], epochs=1, **quiet())
    assert 0 <= history.records[-1].metrics["accuracy"] <= 1


def test_weights_that_cancel_in_batches_of_one_row_are_warned(rng) -> None:
    # (with batch_size=1, sample_weight and class_weight trained bit for bit as without)
    X = rng.random((12, 2))
    y = (X[:, :1] > 0.5) * 1.0
    net = dr.Network([2, 1], output_activation="sigmoid", seed=0)
    with pytest.warns(dr.exceptions.DataWarning, match="no effect with batch_size=1") as w:
        net.fit(X, y, batch_size=1, epochs=1, sample_weight=np.arange(1, 13), **quiet())
    assert [x.filename for x in w] == [__file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error", dr.exceptions.DataWarning)
        net.fit(X, y, batch_size=1, epochs=1, sample_weight=np.full(12, 2.0), **quiet())
        net.fit(X, y, batch_size=4, epochs=1, sample_weight=np.arange(1, 13), **quiet())


def test_an_optimizer_object_and_another_learning_rate_are_refused(rng) -> None:
    # (fit(optimizer=get_optimizer("adam", learning_rate=0.001), learning_rate=0.1) trained
    # at 0.1 without a word)
    from deltarule.optimizers import get_optimizer

    X, y = regression_data(rng)
    net = dr.Network([3, 2], seed=0)
    adam = get_optimizer("adam", learning_rate=0.01)
    with pytest.raises(dr.InputError, match=r"own learning rate \(0.01\) and learning_rate="
                       r"0.1 was given too.*learning_rate=0.1\)\)"):  # fmt: skip
        net.fit(X, y, optimizer=adam, learning_rate=0.1, epochs=1, **quiet())
    assert Trainer(net, adam, 0.01).learning_rate == 0.01  # the same rate twice: no conflict
    # an object left at its class's default rate takes fit's (test_optimizer_object_with_a_...)
    assert Trainer(net, get_optimizer("adam"), 0.1).learning_rate == 0.1


def test_a_metric_that_cannot_score_the_targets_is_refused_before_training(rng) -> None:
    # (f1_binary on three classes failed at the end of the first epoch, after its update)
    X = rng.random((30, 2))
    y = np.eye(3)[np.arange(30) % 3]
    net = dr.Network([2, 3], output_activation="softmax", seed=0)
    before = net.parameters.copy()
    with pytest.raises(dr.InputError, match="metric 'f1_binary' cannot score these targets: "
                       "f1_binary scores a two-class target"):  # fmt: skip
        net.fit(X, y, metrics=["f1_binary"], epochs=2, **quiet())
    np.testing.assert_array_equal(net.parameters, before)


def test_a_divergence_can_be_left_unwarned_without_a_warning_filter(rng, recwarn) -> None:
    # (the scikit-learn estimators need the reason without the warning; they swapped the
    # process-wide filters with catch_warnings to get it, which is not thread-safe)
    X, y = regression_data(rng)
    trainer = Trainer(dr.Network([3, 8, 2], seed=0), "sgd", 10.0)
    history = trainer.fit(X * 1e3, y, epochs=50, verbose=0, warn_divergence=False)
    assert history.stop_reason.startswith("training diverged at epoch ")
    assert not [w for w in recwarn if "diverged" in str(w.message)]
    with pytest.warns(dr.ConvergenceWarning, match="training diverged at epoch") as caught:
        trainer.fit(X * 1e3, y, epochs=50, verbose=0)
    assert [w.filename for w in caught] == [__file__]  # the line that called fit


def test_convergence_warning_says_by_how_much(rng) -> None:
    X, y = regression_data(rng)
    with pytest.warns(dr.ConvergenceWarning, match=r"still falling: .*% lower over the last"):
        dr.Network([3, 2], seed=0).fit(X, y, epochs=20, optimizer="sgd", **quiet())


def test_sigint_stops_cleanly_after_the_current_batch(tmp_path) -> None:
    script = tmp_path / "train.py"
    script.write_text(
        textwrap.dedent("""
        import sys, numpy as np, deltarule as dr
        from deltarule.callbacks import Callback
        class Ready(Callback):
            def on_epoch_end(self, record, state):
                if record.epoch == 2:
                    print("ready", flush=True)
        rng = np.random.default_rng(0)
        X = rng.normal(size=(2000, 20)); y = rng.normal(size=(2000, 1))
        net = dr.Network([20, 64, 1], seed=0)
        h = net.fit(X, y, epochs=100000, batch_size=16, callbacks=[Ready()], verbose=0)
        print(h.stop_reason)
        print(len(h), bool(np.isfinite(net.parameters).all()), net.evaluate(X, y) < 10)
    """)
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    reason, summary = out.strip().splitlines()[-2:]
    assert reason.startswith("interrupted (Ctrl-C)")
    epochs, finite, sane = summary.split()
    assert int(epochs) >= 2 and finite == "True" and sane == "True"


@pytest.mark.parametrize(
    "hook, reason",
    [("on_epoch_begin", "interrupted at once (Ctrl-C twice) after 1 complete epoch"),
     ("on_epoch_end", "interrupted at once (Ctrl-C twice) after 2 complete epochs")],
)  # fmt: skip
def test_a_second_ctrl_c_stops_at_once_and_is_called_an_interruption(hook, reason) -> None:
    # (the callbacks' last word on the run called it "stopped by an error")
    from deltarule.callbacks import Callback

    def twice(self, *args) -> None:
        state = args[-1]
        if state.epoch == (1 if hook == "on_epoch_begin" else 2):
            os.kill(os.getpid(), signal.SIGINT)  # the first asks the run to stop...
            os.kill(os.getpid(), signal.SIGINT)  # ...the second stops it at once

    class Last(Callback):
        def on_train_end(self, history, state):
            self.reason = history.stop_reason

    Twice = type("Twice", (Callback,), {hook: twice})
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))
    last = Last()
    with pytest.raises(KeyboardInterrupt):
        dr.Network([3, 4, 1], seed=0).fit(X, y, epochs=5, callbacks=[Twice(), last], verbose=0)
    assert last.reason == reason


# ---------------------------------------------------------------- solvers
def _sincos(n: int = 200):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.5, 1.5, size=(n, 2))
    return X, (np.sin(X[:, 0]) * np.cos(X[:, 1]))[:, None]


@pytest.mark.parametrize("solver", ["lbfgs", "lm"])
def test_full_batch_solvers_fit_a_smooth_surface(solver) -> None:
    X, y = _sincos()
    net = dr.Network([2, 10, 1], activation="tanh", seed=0, dtype="float64")
    history = net.fit(X, y, epochs=300, optimizer=solver, target_error=1e-5, **quiet())
    pred = net.predict(X)
    r2 = 1 - ((pred - y) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert r2 > 0.95, (r2, history.stop_reason)
    assert len(history) <= 300
    losses = history.loss
    assert losses[-1] < losses[0]


def test_levenberg_marquardt_refuses_non_squared_losses(rng) -> None:
    X, y, _ = classification_data(rng)
    net = dr.Network([2, 3, 3], output_activation="softmax")
    with pytest.raises(dr.InputError, match="Levenberg–Marquardt needs a squared-error loss"):
        net.fit(X, y, optimizer="lm", epochs=2, **quiet())
    # a user's loss named "mse" (it was solved as the built-in mse: other math, silently)
    quartic = dr.Loss("mse", lambda o, t: ((o - t) ** 4).sum(axis=1), lambda o, t: 4 * (o - t) ** 3)
    net = dr.Network([2, 3, 3], loss=quartic)
    with pytest.raises(dr.InputError, match="'mse' \\(a user's Loss: its residuals are unknown"):
        net.fit(X, y, optimizer="lm", epochs=2, **quiet())


# ---------------------------------------------------------------- continuing
def test_partial_fit_continues_the_optimizer_state(rng) -> None:
    X, y = regression_data(rng)
    trainer = Trainer(dr.Network([3, 4, 2], seed=0), "adam", batch_size=10, seed=0)
    first = trainer.partial_fit(X, y)
    second = trainer.partial_fit(X, y)
    assert (first.epoch, second.epoch) == (1, 2)
    assert trainer.optimizer_state["step"] == 8
    solver = Trainer(dr.Network([3, 4, 2], seed=0), "lbfgs", seed=0)
    with pytest.raises(dr.InputError, match="optimizer 'lbfgs' runs whole solves. Use fit"):
        solver.partial_fit(X, y)


def test_warm_start_continues_from_current_weights(rng) -> None:
    X, y = regression_data(rng)
    net = dr.Network([3, 4, 2], seed=0, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X, y, epochs=30, **quiet())
        after_first = net.evaluate(X, y)
        net.fit(X, y, epochs=30, **quiet())
    assert net.evaluate(X, y) < after_first


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"epochs": 0}, "epochs must be >= 1"),
        ({"batch_size": 0}, "batch_size must be >= 1"),
        ({"validation_split": 1.5}, "validation_split must be a number in"),
        ({"learning_rate": -1.0}, "learning_rate must be > 0"),
        ({"optimizer": "adamm"}, "unknown optimizer 'adamm'"),
        ({"class_weight": "equal"}, "class_weight must be a dict of class index -> weight"),
        ({"early_stopping": True, "patience": "3"}, "patience must be an integer >= 0"),
        ({"early_stopping": True, "patience": 2.7}, "patience must be an integer >= 0"),
        ({"early_stopping": True, "min_delta": float("nan")}, "min_delta must be a finite"),
        ({"early_stopping": True, "monitor": 3}, "monitor must be the name of a recorded"),
        ({"callbacks": [object()]}, "callbacks must be a list of deltarule.callbacks.Callback"),
    ],
)
def test_bad_training_arguments(kwargs, fragment, rng) -> None:
    X, y = regression_data(rng)
    with pytest.raises(dr.DeltaruleError, match=fragment):
        fit(dr.Network([3, 2]), X, y, **{"epochs": 1, "verbose": 0, **kwargs})


def test_outputs_that_overflow_under_a_clipped_loss_stop_as_diverged() -> None:
    # Binary cross-entropy clips its probabilities, so an identity output racing to infinity
    # keeps the loss finite: the non-finite outputs themselves must stop the run. (The
    # registry's identity is refused with this loss; a custom one declares no output range.)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(7, 3)), rng.integers(0, 2, (7, 1)).astype(float)
    linear = dr.Activation("my_identity", lambda z: z, lambda z, a: np.ones_like(z))
    net = dr.Network([3, 4, 1], activation="elu", output_activation=linear,
                     loss="binary_crossentropy", dtype="float32", seed=1)  # fmt: skip
    with pytest.warns(dr.ConvergenceWarning, match="the outputs overflowed"):
        history = net.fit(X, y, epochs=3, batch_size=1, optimizer="sgd", learning_rate=0.05,
                          seed=0, **quiet())  # fmt: skip
    assert history.stop_reason.startswith("training diverged at epoch 1")
    assert np.isfinite(net.parameters).all() and np.isfinite(net.predict(X)).all()


@pytest.mark.parametrize(
    "solver,kwargs,fragment",
    [
        ("lm", {"l2": 1e-3}, "cannot apply l1/l2"),
        ("lm", {"l1": 1e-3}, "cannot apply l1/l2"),
        ("lbfgs", {"max_norm": 1.0}, "cannot apply max_norm"),
        ("lm", {"max_norm": 1.0}, "cannot apply max_norm"),
        ("lbfgs", {"dropout": 0.2}, "cannot apply dropout"),
        # (these three were silently ignored)
        ("lbfgs", {"learning_rate": 0.1}, r"'lbfgs' would ignore learning_rate=0.1 \(a line"),
        ("lm", {"learning_rate": 0.1}, r"'lm' would ignore learning_rate=0.1 \(its damping"),
        ("lbfgs", {"batch_size": 8}, "would ignore batch_size=8 .*; expected batch_size=None"),
        ("lm", {"batch_size": 1}, "would ignore batch_size=1"),
        ("lbfgs", {"schedule": "step"}, "'lbfgs' has no learning rate for schedule='step'"),
    ],
)
def test_full_batch_solvers_refuse_what_they_would_leave_out(solver, kwargs, fragment, rng):
    X, y = regression_data(rng)
    dropout = kwargs.pop("dropout", 0.0)
    net = dr.Network([3, 4, 2], seed=0, dropout=dropout)
    before = net.parameters.copy()
    with pytest.raises(dr.InputError, match=fragment):
        net.fit(X, y, epochs=2, optimizer=solver, **kwargs, **quiet())
    np.testing.assert_array_equal(net.parameters, before)


def test_full_batch_solvers_take_the_default_or_no_batch_size(rng) -> None:
    X, y = regression_data(rng)
    for settings in ({}, {"batch_size": None}, {"batch_size": 32}):
        net = dr.Network([3, 4, 2], seed=0)
        history = net.fit(X, y, epochs=2, optimizer="lbfgs", **settings, **quiet())
        assert len(history) >= 1
    trainer = Trainer(dr.Network([3, 4, 2], seed=0), "lbfgs", batch_size=None, seed=0)
    assert trainer.learning_rate == 0.0
    with pytest.raises(dr.InputError, match="would ignore learning_rate=0.5"):
        Trainer(dr.Network([3, 4, 2], seed=0), "lbfgs", learning_rate=0.5)


def test_friendly_forms_of_callbacks_and_metrics(rng, tmp_path) -> None:
    from deltarule.callbacks import ModelCheckpoint

    X, y, _ = classification_data(rng)

    def net() -> dr.Network:
        return dr.Network([2, 4, 3], output_activation="softmax", seed=0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(net().fit(X, y, epochs=2, callbacks=None, **quiet())) == 2
        stopper = EarlyStopping("loss", patience=0)  # one callback, not in a list
        net().fit(X, y, epochs=2, callbacks=stopper, **quiet())
        assert stopper.best_epoch is not None
        history = net().fit(X, y, epochs=1, metrics="balanced_accuracy", **quiet())
    assert set(history[0].metrics) == {"balanced_accuracy"}  # one name, not its letters
    with pytest.raises(dr.InputError, match=r"the placeholder \{0\}, not a name"):
        ModelCheckpoint(tmp_path / "m{0}.safetensors", monitor="loss")
    with pytest.raises(dr.InputError, match=r"placeholder it cannot fill"):
        ModelCheckpoint(tmp_path / "m{epoch:s}.safetensors", monitor="loss")
    with pytest.raises(dr.InputError, match=r"placeholder it cannot fill"):  # (a float's)
        ModelCheckpoint(tmp_path / "m{loss:03d}.safetensors", monitor="loss")
    misspelt = ModelCheckpoint(tmp_path / "m{ep}.safetensors", monitor="loss")
    start = net()
    before = start.parameters.copy()
    with pytest.raises(dr.InputError, match=r"cannot monitor 'ep': .* records loss"):
        start.fit(X, y, epochs=2, callbacks=[misspelt], **quiet())  # (before any epoch)
    np.testing.assert_array_equal(start.parameters, before)


def test_model_checkpoint_names_files_with_the_epochs_values_as_keras(tmp_path, rng) -> None:
    # (QA as a Keras user: 'w.{epoch:02d}-{val_loss:.2f}.safetensors' was refused)
    from pathlib import Path

    from deltarule.callbacks import ModelCheckpoint

    X = rng.normal(size=(40, 2))
    y = np.eye(2)[(X[:, 0] > 0).astype(int)]
    net = dr.Network([2, 4, 2], output_activation="softmax", seed=0)
    pattern = str(tmp_path / "w.{epoch:02d}-{val_loss:.3f}-{val_acc:.2}-{lr:g}.safetensors")
    checkpoint = ModelCheckpoint(pattern, monitor="loss")
    history = net.fit(X[:30], y[:30], epochs=3, metrics=["accuracy"], callbacks=[checkpoint],
                      validation_data=(X[30:], y[30:]), **quiet())  # fmt: skip
    want = [
        f"w.{r.epoch:02d}-{r.val_loss:.3f}-{r.val_metrics['accuracy']:.2}-"
        f"{r.learning_rate:g}.safetensors"
        for r in history.records
    ]
    assert [Path(p).name for p in checkpoint.saved] == want
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(want)
    with pytest.raises(dr.InputError, match=r"cannot monitor 'val_loss': .* no validation"):
        net.fit(X, y, epochs=1, callbacks=[ModelCheckpoint(pattern)], **quiet())


def test_l1_penalty_step_equals_hand_computation(rng) -> None:
    X, y = regression_data(rng)
    net = dr.Network([3, 4, 2], seed=0, dtype="float64")
    manual = net.copy()
    net.fit(X, y, epochs=1, batch_size=None, optimizer="sgd", learning_rate=0.1, l1=0.2, **quiet())
    _, grad = manual.loss_and_gradient(X, y)
    grad += 0.2 * np.sign(manual.parameters) * manual.weight_mask
    np.testing.assert_allclose(net.parameters, manual.parameters - 0.1 * grad, rtol=1e-12)


class _Terminal:
    """A text stream that says it is a terminal, to see the live bar."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_bar_on_a_terminal_shows_loss_and_validation(rng) -> None:
    from deltarule.callbacks import ProgressBar

    X, y, _ = classification_data(rng)
    stream = _Terminal()
    net = dr.Network([2, 4, 3], output_activation="softmax", seed=0)
    net.fit(
        X,
        y,
        epochs=3,
        validation_split=0.2,
        time_limit=100,
        verbose=0,
        callbacks=[ProgressBar(1, stream=stream)],
    )
    text = "".join(stream.parts)
    assert "3/3" in text and "loss=" in text and "val_accuracy=" in text


def test_a_terminal_without_tqdm_gets_plain_lines(rng, monkeypatch) -> None:
    # tqdm is optional (the cli extra): fit's default progress must not need it.
    import sys

    from deltarule.callbacks import ProgressBar

    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm.auto now fails
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y, _ = classification_data(rng)
    stream = _Terminal()
    net = dr.Network([2, 4, 3], output_activation="softmax", seed=0)
    net.fit(X, y, epochs=3, verbose=0, callbacks=[ProgressBar(1, stream=stream)])
    lines = "".join(stream.parts).splitlines()
    assert [line[:10] for line in lines[:3]] == ["epoch 1/3 ", "epoch 2/3 ", "epoch 3/3 "]
    assert all(" - loss " in line for line in lines[:3]) and lines[3].startswith("stopped:")


@pytest.mark.parametrize("verbose", [-1, 3, 1.5, "loud", None])
def test_verbose_is_checked(rng, verbose) -> None:  # (-1 printed lines, 3 a bar)
    X, y = regression_data(rng)
    with pytest.raises(dr.InputError, match=r"verbose must be 0 \(silent\), 1 .* or 2"):
        dr.Network([3, 2]).fit(X, y, epochs=1, verbose=verbose)


def test_file_callbacks_check_their_path_before_training(rng, tmp_path) -> None:
    from deltarule.callbacks import CSVLogger, ModelCheckpoint

    for make, example in [(CSVLogger, "log.csv"), (ModelCheckpoint, "best.safetensors")]:
        for bad in (None, 5, ""):  # (None wrote a file named "None"; 5 a bare TypeError)
            with pytest.raises(dr.InputError, match=f"needs a file path .*e.g. '{example}'"):
                make(bad)
    X, y = regression_data(rng)
    for callback in (
        CSVLogger(tmp_path / "no" / "log.csv"),
        ModelCheckpoint(tmp_path / "no" / "m{epoch}.safetensors", monitor="loss"),
    ):
        epochs = []
        with pytest.raises(dr.InputError, match="the folder .*no' of .* does not exist"):
            dr.Network([3, 2]).fit(X, y, epochs=2, callbacks=[callback, _Count(epochs)],
                                   **quiet())  # fmt: skip
        assert epochs == []  # found before the first epoch (it was after it)


def test_csv_logger_appends_only_rows_of_its_columns(rng, tmp_path) -> None:
    import csv

    from deltarule.callbacks import CSVLogger

    X, y = regression_data(rng)
    path = tmp_path / "log.csv"
    net = dr.Network([3, 2], seed=0)
    net.fit(X, y, epochs=2, callbacks=[CSVLogger(path)], **quiet())
    net.fit(X, y, epochs=2, callbacks=[CSVLogger(path, append=True)], **quiet())
    rows = list(csv.reader(path.open()))
    assert len(rows) == 5 and all(len(r) == len(rows[0]) for r in rows)
    before = path.read_text()
    with pytest.raises(dr.InputError, match="cannot append to .*its columns are epoch, loss"):
        net.fit(X, y, epochs=2, metrics=["mae"], callbacks=[CSVLogger(path, append=True)],
                **quiet())  # (it wrote rows longer than the header)  # fmt: skip
    assert path.read_text() == before


def test_history_by_name_like_keras(rng) -> None:
    X, y = regression_data(rng)
    history = dr.Network([3, 2], seed=0).fit(X, y, epochs=3, validation_split=0.25, **quiet())
    assert history["loss"] == [r.loss for r in history] and len(history["val_loss"]) == 3
    with pytest.raises(KeyError, match="'val_acc' is not recorded in this history; it records"):
        history["val_acc"]


class _Count(dr.callbacks.Callback):
    def __init__(self, epochs: list) -> None:
        self.epochs = epochs

    def on_epoch_end(self, record, state):  # noqa: ANN001, ANN201
        self.epochs.append(record.epoch)


def test_model_checkpoint_saves_best_and_optimizer_state(rng, tmp_path) -> None:
    from deltarule.callbacks import ModelCheckpoint
    from deltarule.io import load_model

    X, y, _ = classification_data(rng, n=80)
    net = dr.Network([2, 8, 3], output_activation="softmax", seed=0)
    every = ModelCheckpoint(tmp_path / "e{epoch}.safetensors", every=2)
    best = ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=True)
    history = net.fit(
        X,
        y,
        epochs=6,
        validation_split=0.25,
        learning_rate=0.05,
        seed=0,
        callbacks=[every, best],
        **quiet(),
    )
    assert [p.rsplit("/", 1)[-1] for p in every.saved] == [
        "e2.safetensors",
        "e4.safetensors",
        "e6.safetensors",
    ]
    loaded = load_model(tmp_path / "e6.safetensors")
    np.testing.assert_array_equal(loaded.network.parameters, net.parameters)
    assert {"optimizer.first_moment", "optimizer.second_moment"} <= set(loaded.extra_tensors)
    assert loaded.training["trainer"]["epochs_done"] == 6
    best_epoch = int(np.argmin(history.val_loss)) + 1
    assert load_model(tmp_path / "best.safetensors").training["epoch"] == best_epoch


def test_restored_trainer_continues_bitwise_identically(rng) -> None:
    X, y, _ = classification_data(rng, n=64)
    make = lambda: dr.Network([2, 8, 3], output_activation="softmax", dropout=0.3, seed=0)  # noqa: E731
    straight = make()
    Trainer(straight, "adam", 0.01, 8, seed=3).fit(
        X, y, epochs=6, verbose=0, warn_convergence=False
    )
    first = make()
    t1 = Trainer(first, "adam", 0.01, 8, seed=3)
    t1.fit(X, y, epochs=3, verbose=0, warn_convergence=False)
    tensors, meta = t1.checkpoint_state()
    resumed = first.copy()
    t2 = Trainer(resumed, "adam", 0.01, 8, seed=999).restore_state(tensors, meta)
    history = t2.fit(X, y, epochs=3, verbose=0, warn_convergence=False)
    assert [r.epoch for r in history] == [4, 5, 6]
    assert resumed.parameters.tobytes() == straight.parameters.tobytes()


def test_last_epoch_reads_column_chunks_without_building_records() -> None:
    history = dr.History()
    assert history.last_epoch == 0
    history.append(EpochRecord(1, 0.5, None, {}, {}, 0.1, 1.0, 0.0))
    assert history.last_epoch == 1
    history.extend_columns(2, np.array([0.4, 0.3, 0.2]), np.array([1.0, 0.9, 0.8]), 0.1, 0.0)
    assert history.last_epoch == 4 and history._pending  # still columns
    assert history.last_epoch == history[-1].epoch  # the same as the built records say


def test_the_epoch_limit_warning_leaves_a_compiled_runs_columns_unbuilt() -> None:
    # the tutorial's online run keeps its epochs as columns; building 100,000 records just
    # to name the last epoch in the warning cost ten times the training itself
    from deltarule import _compiled
    from deltarule.textbook import tutorial_network

    if not _compiled.available():
        pytest.skip("numba is not installed")
    net, X, y = tutorial_network()
    with pytest.warns(dr.ConvergenceWarning, match=r"maximum number of epochs \(5000\)"):
        history = net.fit(X, y, epochs=5000, batch_size=1, optimizer="sgd",
                          learning_rate=0.01, verbose=0)  # fmt: skip
    assert history._pending, "the run's epochs were built into records"
    assert len(history) == 5000 and history.last_epoch == 5000


# ------------------------------------------------------------- what is monitored
def test_early_stopping_and_a_plateau_watch_the_monitor_given(rng) -> None:
    # (building the plateau overwrote monitor: early stopping watched val_loss instead)
    X, Y, _ = classification_data(rng, n=90)
    Xv, Yv, _ = classification_data(rng, n=45)
    net = dr.Network([2, 16, 3], activation="relu", output_activation="softmax", seed=0)
    history = net.fit(X, Y, epochs=200, optimizer="adam", learning_rate=0.05, seed=0,
                      validation_data=(Xv, Yv), early_stopping=True, patience=15,
                      monitor="val_accuracy", schedule="plateau", **quiet())  # fmt: skip
    assert history.stop_reason.startswith("no improvement of val_accuracy for ")
    assert "by more than 0 " not in history.stop_reason  # (min_delta 0: no "by more than 0")
    # the plateau (given by name) watched val_accuracy too, rising: torch's mode="max"
    expected = torch_plateau_rates(0.05, history["val_accuracy"], mode="max", factor=0.1,
                                   patience=10, threshold=1e-4)  # fmt: skip
    assert history["learning_rate"] == pytest.approx(expected, rel=1e-12)
    assert min(expected) < 0.05


def test_a_plateau_of_mode_max_watches_the_accuracy(rng) -> None:
    # (it watched the loss whatever its mode: mode="max" cut the rate while the loss fell)
    from deltarule.schedules import ReduceOnPlateau

    X, Y, _ = classification_data(rng, n=90)
    Xv, Yv, _ = classification_data(rng, n=45)
    net = dr.Network([2, 16, 3], activation="relu", output_activation="softmax", seed=0)
    rule = ReduceOnPlateau(mode="max", factor=0.5, patience=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dr.ConvergenceWarning)
        history = net.fit(X, Y, epochs=30, optimizer="adam", learning_rate=0.05, seed=0,
                          validation_data=(Xv, Yv), schedule=rule, **quiet())  # fmt: skip
    expected = torch_plateau_rates(0.05, history["val_accuracy"], mode="max", factor=0.5,
                                   patience=1, threshold=1e-4)  # fmt: skip
    assert history["learning_rate"] == pytest.approx(expected, rel=1e-12)
    assert min(expected) < 0.05
    with pytest.raises(
        dr.InputError,
        match=r"ReduceOnPlateau\(.*mode='min'.*\) watches "
        r"'val_accuracy', which improves by rising",
    ):
        net.fit(X, Y, epochs=2, validation_data=(Xv, Yv), monitor="val_accuracy",
                schedule=ReduceOnPlateau(), **quiet())  # fmt: skip
    Xr, yr = regression_data(rng)
    with pytest.raises(dr.InputError, match=r"no accuracy is recorded\). Pass monitor="):
        dr.Network([3, 2]).fit(Xr, yr, epochs=2, schedule=rule, **quiet())


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"patience": 3}, r"patience=3 sets early stopping, which is off"),
        ({"monitor": "val_loss"}, r"monitor='val_loss' sets early stopping"),
        ({"min_delta": 0.1, "restore_best_weights": False},
         r"min_delta=0.1, restore_best_weights=False set early stopping, which is off "
         r"\(early_stopping=False\), so they would do nothing. Pass early_stopping=True"),
    ],
)  # fmt: skip
def test_early_stopping_settings_without_early_stopping_are_refused(kwargs, fragment, rng):
    # (they were silently ignored)
    X, y = regression_data(rng)
    net = dr.Network([3, 2], seed=0)
    before = net.parameters.copy()
    with pytest.raises(dr.InputError, match=fragment):
        net.fit(X, y, epochs=2, validation_split=0.25, **kwargs, **quiet())
    np.testing.assert_array_equal(net.parameters, before)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dr.ConvergenceWarning)
        net.fit(X, y, epochs=2, validation_split=0.25, early_stopping=True, **kwargs, **quiet())
        # monitor also tells a plateau schedule what to watch
        net.fit(X, y, epochs=2, validation_split=0.25, monitor="val_loss", schedule="plateau",
                **quiet())  # fmt: skip


# ------------------------------------------------- what a callback's answer means
def test_a_callback_returning_true_stops_with_a_reason_naming_it(rng) -> None:
    # (True crashed after training, 'bool' object has no attribute 'startswith', and the
    # History was lost)
    class StopAtTwo(dr.callbacks.Callback):
        def on_epoch_end(self, record, state):
            return record.epoch >= 2

    class Numpy(dr.callbacks.Callback):
        def on_epoch_end(self, record, state):
            return np.float64(record.loss) < np.inf  # a NumPy bool

    X, y = regression_data(rng)
    for callback in (StopAtTwo(), Numpy()):
        history = dr.Network([3, 2], seed=0).fit(X, y, epochs=5, callbacks=[callback],
                                                 **quiet())  # fmt: skip
        name = type(callback).__name__
        assert history.stop_reason == f"stopped by {name} (its on_epoch_end returned True)"
        assert len(history) == (2 if name == "StopAtTwo" else 1)

    class Number(dr.callbacks.Callback):
        def on_epoch_end(self, record, state):
            return 1

    with pytest.raises(dr.InputError, match=r"Number.on_epoch_end returned int 1; expected "
                                            r"None to go on, or a string"):  # fmt: skip
        dr.Network([3, 2], seed=0).fit(X, y, epochs=5, callbacks=[Number()], **quiet())


# ---------------------------------------------- the optimizer state after divergence
def blow_up_at_epoch_3() -> dr.callbacks.LearningRateScheduler:
    return dr.callbacks.LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else 1e200)


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
@pytest.mark.parametrize("path", ["plain", "compiled", "online"])
def test_divergence_restores_the_optimizer_state_with_the_weights(path, optimizer, monkeypatch):
    # (the weights went back to the last finite epoch, the momentum velocity stayed at
    # ~1e19: the same trainer diverged again at once whatever its learning rate)
    from deltarule import _compiled, _minibatch

    if path == "compiled":
        if not _compiled.available():
            pytest.skip("numba is not installed")
        monkeypatch.setattr(_minibatch, "MIN_PARAMETERS", 0)  # every run takes the kernel
    else:
        monkeypatch.setattr(_minibatch, "kernel_for", lambda *args: None)
    X, y = regression_data(np.random.default_rng(0), n=48)

    def trainer() -> Trainer:
        net = dr.Network([3, 8, 2], seed=0, dtype="float64")
        return Trainer(net, optimizer, 0.01, 1 if path == "online" else 8, seed=0)

    with pytest.warns(dr.ConvergenceWarning, match="diverged at epoch 3"):
        diverged = trainer()
        history = diverged.fit(X, y, epochs=5, callbacks=[blow_up_at_epoch_3()], verbose=0)
    assert history.stop_reason.startswith("training diverged at epoch 3")
    finite = trainer()  # the oracle: the same run, stopped after its finite epochs
    finite.fit(X, y, epochs=2, callbacks=[blow_up_at_epoch_3()], verbose=0,
               warn_convergence=False)  # fmt: skip
    np.testing.assert_array_equal(diverged.network.parameters, finite.network.parameters)
    state, expected = diverged.optimizer_state, finite.optimizer_state
    assert state["step"] == expected["step"] == 2 * (48 if path == "online" else 6)
    for key, value in expected.items():
        if isinstance(value, np.ndarray) and key != "scratch":
            np.testing.assert_array_equal(state[key], value)
            assert np.abs(value).max() > 0  # (a state that moved)


def test_a_compiled_online_epoch_that_diverges_is_undone_in_the_step_count_too() -> None:
    from deltarule import _compiled

    if not _compiled.available():
        pytest.skip("numba is not installed")
    X, y = regression_data(np.random.default_rng(0), n=48)

    def trainer() -> Trainer:  # batch 1, plain SGD: the compiled online epochs
        return Trainer(dr.Network([3, 8, 2], seed=0, dtype="float64"), "sgd", 0.01, 1, seed=0)

    with pytest.warns(dr.ConvergenceWarning, match="diverged at epoch 3"):
        diverged = trainer()
        diverged.fit(X, y, epochs=5, callbacks=[blow_up_at_epoch_3()], verbose=0)
    finite = trainer()
    finite.fit(X, y, epochs=2, callbacks=[blow_up_at_epoch_3()], verbose=0,
               warn_convergence=False)  # fmt: skip
    np.testing.assert_array_equal(diverged.network.parameters, finite.network.parameters)
    assert diverged.optimizer_state["step"] == finite.optimizer_state["step"] == 2 * 48


# ------------------------------------------------------ class weights and validation
def test_class_weight_weighs_training_only_and_held_out_rows_keep_their_weights(rng) -> None:
    # (the validation loss was class-weighted with validation_split, not with
    # validation_data)
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    X, Y, labels = classification_data(rng, n=80, k=2)
    Xv, Yv, _ = classification_data(rng, n=30, k=2)

    def weight_of(rows: np.ndarray) -> np.ndarray:  # a sample weight read off the row itself
        return 1.0 + (rows[:, 0] > 1.0)

    seen = []

    class Look(dr.callbacks.Callback):
        def on_epoch_end(self, record, state):
            output = state.network.predict(state.X_val)
            seen.append((record.val_loss, state.X_val, state.y_val.argmax(1), output))

    def train(**kwargs):
        net = dr.Network([2, 6, 2], activation="tanh", output_activation="softmax", seed=0,
                         dtype="float64")  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dr.ConvergenceWarning)
            history = net.fit(X, Y, epochs=3, seed=0, callbacks=[Look()], **kwargs, **quiet())
        return net, history

    def check(weights) -> None:
        for val_loss, Xval, yval, output in seen:
            w = None if weights is None else weights(Xval)
            expected = sklearn_metrics.log_loss(yval, output, sample_weight=w, labels=[0, 1])
            assert val_loss == pytest.approx(expected, rel=1e-9)
        seen.clear()

    class_weight = {0: 1.0, 1: 10.0}
    sw = weight_of(X)
    split, history = train(class_weight=class_weight, sample_weight=sw, validation_split=0.25)
    check(weight_of)  # the held-out rows' sample weights, no class weight
    train(class_weight=class_weight, validation_data=(Xv, Yv))
    check(None)
    train(class_weight="balanced", validation_data=(Xv, Yv, weight_of(Xv)))
    check(weight_of)
    # The training rows are weighted as before: sample_weight times class_weight.
    combined = sw * np.where(labels == 1, 10.0, 1.0)
    same, expected = train(sample_weight=combined, validation_split=0.25)
    assert history["loss"] == expected["loss"]
    np.testing.assert_array_equal(split.parameters, same.parameters)


# ------------------------------------------------- iRprop sizes its own steps
@pytest.mark.parametrize("name", ["irprop_minus", "irprop_plus", "rprop"])
def test_irprop_refuses_a_learning_rate_or_schedule_it_would_ignore(name, rng) -> None:
    # (torch.optim.Rprop's lr is the first step size; deltarule's iRprop silently ignored
    # learning_rate, schedules and plateau callbacks)
    from deltarule.schedules import StepDecay

    X, y = regression_data(rng)
    net = dr.Network([3, 4, 2], seed=0, dtype="float64")
    hint = r"has no learning rate \(it adapts a step size per parameter"
    with pytest.raises(dr.InputError, match=hint + r".*ignore learning_rate=1e-09.*delta_zero"):
        Trainer(net, name, 1e-9)
    with pytest.raises(dr.InputError, match=hint + r".*ignore schedule=StepDecay"):
        net.fit(X, y, optimizer=name, batch_size=None, schedule=StepDecay(1), **quiet())
    plateau = ReduceLROnPlateau("loss")
    with pytest.raises(dr.InputError, match=hint + r".*ignore the learning rate ReduceLROnPl"):
        Trainer(net, name, batch_size=None).fit(X, y, callbacks=[plateau], verbose=0)
    with pytest.raises(dr.InputError, match=r"'lbfgs' has no learning rate \(a line search"):
        Trainer(net, "lbfgs", batch_size=None).fit(X, y, callbacks=[plateau], verbose=0)
    # Its first step size is delta_zero: the first step moves every weight by it.
    before = net.parameters.copy()
    rule = dr.optimizers.get_optimizer(name, delta_zero=0.05)
    Trainer(net, rule, batch_size=None).fit(X, y, epochs=1, verbose=0, warn_convergence=False)
    np.testing.assert_allclose(np.abs(net.parameters - before), 0.05, rtol=1e-12)


def test_an_unknown_optimizer_name_lists_and_suggests_the_solvers_too(rng) -> None:
    # (the list named the first-order rules only: 'lbgfs' got no "did you mean 'lbfgs'?")
    X, y = regression_data(rng)
    net = dr.Network([3, 2], seed=0)
    with pytest.raises(dr.UnknownNameError, match=r"expected one of: .*\blbfgs\b.*\blm\b.*"
                       r"\bsgd\b.*Did you mean 'lbfgs'\?"):  # fmt: skip
        net.fit(X, y, optimizer="lbgfs", **quiet())
    with pytest.raises(dr.UnknownNameError, match=r"'levenberg'.*Did you mean 'levenberg_marq"):
        Trainer(net, "levenberg")


@pytest.mark.parametrize("name", ["irprop_minus", "irprop_plus", "lbfgs"])
def test_own_step_optimizers_record_no_learning_rate(name, rng) -> None:
    # (iRprop's History recorded the ignored default 0.1, and the epoch-limit hint said
    # "raise the learning rate (now 0.1)", a rate the rule never used)
    X, y = regression_data(rng)
    net = dr.Network([3, 4, 2], seed=0, dtype="float64")
    with pytest.warns(dr.ConvergenceWarning) as caught:
        history = net.fit(X, y, optimizer=name, batch_size=None, epochs=4, **quiet())
    assert [r.learning_rate for r in history.records] == [0.0] * len(history.records)
    assert not any("learning rate" in str(w.message) for w in caught)


def test_the_epoch_limit_warning_carries_its_numbers_and_pickles():
    import pickle

    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    net = dr.Network([2, 3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    with pytest.warns(dr.StillImprovingWarning) as caught:
        history = net.fit(X, y, epochs=40, batch_size=None, learning_rate=0.5)
    warning = caught[0].message
    assert isinstance(warning, dr.ConvergenceWarning)  # (what callers filter on)
    losses = history.loss
    assert warning.epochs == 40 and warning.window == 4
    assert warning.old == losses[-5] and warning.new == losses[-1]
    assert warning.drop == pytest.approx((losses[-5] - losses[-1]) / losses[-5])
    assert warning.learning_rate == 0.5 and warning.early_stopping is False
    text = str(warning)
    assert "Raise epochs, raise the learning rate (now 0.5), or add a stopping rule" in text
    assert "command line" not in text  # (the command line phrases its own: advice(options))
    cli = warning.advice({"epochs": "--epochs", "learning_rate": "--learning-rate"})
    assert "Raise --epochs, raise --learning-rate (now 0.5), or" in cli
    again = pickle.loads(pickle.dumps(warning))
    assert str(again) == text and again.old == warning.old


def test_the_epoch_limit_warning_does_not_advise_a_stopping_rule_the_run_has():
    net, X, y = dr.textbook.tutorial_network(dtype="float64")
    with pytest.warns(dr.StillImprovingWarning) as caught:
        net.fit(X, y, epochs=50, batch_size=1, optimizer="sgd", learning_rate=0.5,
                target_error=1e-30, verbose=0)  # fmt: skip
    text = str(caught[0].message)
    assert "Raise epochs or raise the learning rate (now 0.5)." in text
    assert "add a stopping rule" not in text


def test_a_second_sigterm_the_command_line_relays_is_named_so() -> None:
    # (the command line relays SIGTERM to the loop's Ctrl-C handler: twice, it said Ctrl-C)
    from deltarule.callbacks import Callback

    class Twice(Callback):
        def on_epoch_begin(self, state):
            if state.epoch == 1:
                handler = signal.getsignal(signal.SIGINT)  # the loop's, as the relay calls it
                handler(signal.SIGTERM, None)
                handler(signal.SIGTERM, None)

    class Last(Callback):
        def on_train_end(self, history, state):
            self.reason = history.stop_reason

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))
    last = Last()
    with pytest.raises(KeyboardInterrupt):
        dr.Network([3, 4, 1], seed=0).fit(X, y, epochs=5, callbacks=[Twice(), last], verbose=0)
    assert last.reason == "interrupted at once (SIGTERM twice) after 1 complete epoch"


_TARGETS = {  # (output activation, loss, targets of 40 rows from X): each way of reading them
    "one column": ("sigmoid", "binary_crossentropy", lambda X: (X[:, :1] > 0) * 1.0),
    "tanh, -1/+1": ("tanh", "half_squared_error", lambda X: np.sign(X[:, :1] + 0.1)),
    "one-hot": ("softmax", "categorical_crossentropy",
                lambda X: np.eye(3)[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]),
    "multi-label": ("sigmoid", "binary_crossentropy",
                    lambda X: np.stack([X[:, 0] > 0, X[:, 0] * X[:, 1] > 0], axis=1) * 1.0),
    "0.01/0.99": ("sigmoid", "half_squared_error",
                  lambda X: np.where(np.eye(2)[(X[:, 2] > 0).astype(int)] > 0, 0.99, 0.01)),
}  # fmt: skip


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_size", [None, 7])
@pytest.mark.parametrize("case", list(_TARGETS))
def test_the_epochs_accuracy_read_from_labels_once_is_the_metrics(case, batch_size, dtype, rng):
    # The epoch loop scores accuracy (the default metric of classification) from the
    # targets' labels read once a run: the same floats as deltarule.metrics.accuracy of each
    # epoch's outputs, which it called every epoch (55 of iris's 130 us an epoch).
    from deltarule import _epochs

    out, loss, targets = _TARGETS[case]
    X = rng.normal(size=(40, 3))
    y = targets(X)
    scorer, used, runs = _epochs.accuracy_scorer, [], []

    def spied(*args):
        used.append(1)
        return scorer(*args)

    for quick in (True, False):
        net = dr.Network([3, 5, y.shape[1]], activation="tanh", output_activation=out,
                         loss=loss, seed=1, dtype=dtype)  # fmt: skip
        with pytest.MonkeyPatch.context() as m:  # (without: metrics.accuracy every epoch)
            m.setattr(_epochs, "accuracy_scorer", spied if quick else lambda *a: None)
            history = net.fit(X, y, epochs=30, batch_size=batch_size, optimizer="sgd",
                              learning_rate=0.3, metrics=["accuracy"], verbose=0, seed=0,
                              warn_convergence=False)  # fmt: skip
        runs.append(history["accuracy"])
    assert used
    assert runs[0] == runs[1] and len(set(runs[0])) > 1  # (the accuracy changed)


@pytest.mark.parametrize(
    ("keywords", "advice"),
    [
        ({"epochs": 10}, "epochs is fit's: Trainer(network, ...).fit(X, y, epochs=...)"),
        ({"lr": 0.1}, "Use learning_rate= (Keras's and PyTorch's lr)"),
        ({"random_state": 0}, "Use seed="),
    ],
)
def test_trainer_constructor_keywords_say_what_to_pass(keywords: dict, advice: str) -> None:
    # A bare TypeError before.
    with pytest.raises(dr.KeywordError) as info:
        Trainer(dr.Network([2, 1]), **keywords)
    message = str(info.value)
    assert f"Trainer.__init__() got an unexpected keyword argument {next(iter(keywords))!r}" in (
        message
    )
    assert advice in message and "It takes: network, optimizer," in message
