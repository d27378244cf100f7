"""Callbacks as a Keras user writes them (second QA pass, Keras persona).

Mode "auto" for a custom metric that should rise, read from the run's own metrics;
CSVLogger's Keras signature (filename, separator, append); LearningRateScheduler given the
current rate, and a one-argument schedule; Keras's older keyword names (period, epsilon,
count_mode) and ModelCheckpoint's initial_value_threshold.
"""

from __future__ import annotations

import itertools
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest

import deltarule as dr
from deltarule.callbacks import (
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgressBar,
    ReduceLROnPlateau,
    TrainingState,
)
from deltarule.exceptions import InputError, KeywordError
from deltarule.history import EpochRecord
from deltarule.io.checkpoint import Checkpoint, load_checkpoint, resume_trainer
from deltarule.metrics import Metric


def _blobs(n: int = 90, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 4)) + labels[:, None]
    return (X - X.mean(0)) / X.std(0), np.eye(3)[labels]


def _quiet(**kwargs):
    return {"verbose": 0, "seed": 0, "warn_convergence": False, **kwargs}


# ------------------------------------------------------- mode "auto" of a custom metric
def _rising_metric() -> Metric:
    """A custom metric that should rise and does, every call: 1, 2, 3, ... (a scripted
    sequence: each epoch's validation value is higher than the last)."""
    counter = itertools.count(1)
    return Metric("my_score", lambda output, target, sw=None: float(next(counter)), True,
                  "classification")  # fmt: skip


def _record(epoch: int, value: float) -> EpochRecord:
    return EpochRecord(epoch, 1.0, 1.0, {"my_score": value}, {"my_score": value}, 0.1, 0.0, 0.0)


def _state(metrics) -> TrainingState:
    net = dr.Network([1, 1], use_bias=False)
    trainer = SimpleNamespace(metrics=metrics)
    return TrainingState(net, None, {}, 1.0, 1.0, 50, np.zeros((1, 1)), np.zeros((1, 1)),
                         X_val=np.zeros((1, 1)), trainer=trainer)  # fmt: skip


@pytest.mark.parametrize("greater, mode", [(True, "max"), (False, "min")])
def test_early_stopping_auto_reads_a_custom_metrics_direction(greater, mode):
    """EarlyStopping(monitor='val_my_score') of a Metric with greater_is_better=True stopped
    'no improvement ... best at epoch 1' while the value rose every epoch (found by a QA
    pass as a Keras user): 'auto' looked the name up only in the registry."""
    metric = Metric("my_score", lambda o, t, sw=None: 0.0, greater, "classification")
    stop = EarlyStopping("val_my_score", patience=2)
    state = _state([metric])
    stop.on_train_begin(state)
    assert stop.mode == mode
    values = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6] if greater else [0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    for epoch, value in enumerate(values, start=1):
        assert stop.on_epoch_end(_record(epoch, value), state) is None
    assert stop.best_epoch == 6 and stop.best == values[-1]


def test_fit_with_a_rising_custom_metric_keeps_improving_in_every_callback(tmp_path):
    X, y = _blobs()
    metric = _rising_metric()
    stop = EarlyStopping(monitor="val_my_score", patience=2)
    best = ModelCheckpoint(tmp_path / "best-{epoch}.safetensors", monitor="val_my_score",
                           save_best_only=True)  # fmt: skip
    plateau = ReduceLROnPlateau(monitor="val_my_score", patience=0, factor=0.5)
    net = dr.Network([4, 5, 3], output_activation="softmax", seed=0)
    history = net.fit(X, y, epochs=6, validation_split=0.3, metrics=[metric], learning_rate=0.1,
                      callbacks=[stop, best, plateau], **_quiet())  # fmt: skip
    assert len(history) == 6 and history.stop_reason == "max epochs (6) reached"
    assert history.best_epoch == 6
    assert len(best.saved) == 6  # every epoch is better than the last
    assert history["learning_rate"] == [0.1] * 6  # never a plateau
    assert (stop.mode, best.mode, plateau.plateau.mode) == ("max", "max", "max")


@pytest.mark.parametrize("schedule", [None, "plateau"])
def test_fits_options_read_a_custom_metrics_direction(schedule):
    X, y = _blobs()
    options = {"early_stopping": True, "patience": 2} if schedule is None else {}
    epochs = 13  # (the plateau by name has patience 10: taken as a loss, it fell at epoch 13)
    net = dr.Network([4, 5, 3], output_activation="softmax", seed=0)
    history = net.fit(X, y, epochs=epochs, validation_split=0.3, metrics=[_rising_metric()],
                      monitor="val_my_score", schedule=schedule, learning_rate=0.1,
                      **options, **_quiet())  # fmt: skip
    assert len(history) == epochs
    assert history["learning_rate"] == [0.1] * epochs
    if schedule is None:
        assert history.best_epoch == epochs


def test_a_value_whose_direction_cannot_be_known_asks_for_the_mode():
    """As Keras 3: 'auto' refuses a name it cannot read a direction from, before training
    (it was taken as a loss)."""
    X, y = _blobs()
    net = dr.Network([4, 5, 3], output_activation="softmax", seed=0)
    with pytest.raises(InputError, match=r"'learning_rate' improves by rising or by falling.*"
                                         r"Pass mode='max'.*or mode='min'"):  # fmt: skip
        net.fit(X, y, epochs=3, callbacks=[EarlyStopping("learning_rate")], **_quiet())
    given = net.fit(X, y, epochs=2, callbacks=[EarlyStopping("learning_rate", mode="max")],
                    **_quiet())  # fmt: skip
    assert len(given) == 2
    # driven by hand, with no run to read the metrics of: refused at its first epoch
    stop = EarlyStopping("val_my_score")
    with pytest.raises(InputError, match="this run's metrics \\(none\\)"):
        stop.on_epoch_end(_record(1, 0.5), SimpleNamespace(trainer=None))
    # the registry's names and the losses still resolve when the callback is made
    assert EarlyStopping("val_acc").mode == "max" and EarlyStopping("val_loss").mode == "min"
    assert ModelCheckpoint("m.safetensors", monitor="val_r2").mode == "max"
    assert ReduceLROnPlateau("val_mse").plateau.mode == "min"


def test_a_run_monitoring_a_custom_metric_resumes_from_its_checkpoint(tmp_path):
    X, y = _blobs()

    def neg_mse(output, target, sw=None):  # (a pure function: the runs must agree)
        return -float(np.mean((output - target) ** 2))

    def trainer():
        metric = Metric("neg_mse", neg_mse, True, "classification")
        net = dr.Network([4, 5, 3], output_activation="softmax", seed=0)
        return dr.Trainer(net, "sgd", 0.1, 16, metrics=[metric], seed=3)

    def run(t, epochs, callbacks):
        return t.fit(X, y, epochs=epochs, validation_split=0.3, callbacks=callbacks, verbose=0,
                     warn_convergence=False)  # fmt: skip

    straight = trainer()
    run(straight, 6, [EarlyStopping("val_neg_mse", patience=50)])
    first, stop = trainer(), EarlyStopping("val_neg_mse", patience=50)
    run(first, 3, [stop, Checkpoint(tmp_path)])
    assert stop.mode == "max"
    saved = load_checkpoint(tmp_path)
    second, again = trainer(), EarlyStopping("val_neg_mse", patience=50)
    resume_trainer(second, saved, [again])  # (its settings match: mode 'auto' both times)
    run(second, 3, [again])
    assert again.mode == "max"
    assert second.network.parameters.tobytes() == straight.network.parameters.tobytes()


# ------------------------------------------------------------------ CSVLogger's signature
def test_csv_logger_takes_kerass_filename_separator_and_append(tmp_path):
    """CSVLogger('log.csv', ';') took ';' as append=True, silently, and filename= was
    refused (found by a QA pass as a Keras user): Keras's is (filename, separator=',',
    append=False)."""
    X, y = _blobs()
    path = tmp_path / "log.csv"
    net = dr.Network([4, 5, 3], output_activation="softmax", seed=0)
    logger = CSVLogger(str(path), ";")
    assert (logger.separator, logger.append) == (";", False)
    history = net.fit(X, y, epochs=2, callbacks=[logger], **_quiet())
    net.fit(X, y, epochs=2, callbacks=[CSVLogger(filename=path, separator=";", append=True)],
            **_quiet())  # fmt: skip
    lines = path.read_text(encoding="utf-8").splitlines()
    columns = list(history.last.as_dict())
    assert lines[0].split(";") == columns and "accuracy" in columns  # the header, at ';'
    assert len(lines) == 5 and all(line.count(";") == len(columns) - 1 for line in lines)
    assert "," not in "".join(lines)


@pytest.mark.parametrize(
    "make, said",
    [
        (lambda p: CSVLogger(p, True), r"received bool True\. CSVLogger's second argument is "
                                       r"the separator.*pass append=True"),
        (lambda p: CSVLogger(p, ";;"), r"one character .* received str ';;'"),
        (lambda p: CSVLogger(p, append="yes"), r"append must be True or False.*received str"),
    ],
)  # fmt: skip
def test_csv_logger_refuses_a_bad_separator_or_append(tmp_path, make, said):
    with pytest.raises(InputError, match=said):
        make(tmp_path / "log.csv")


# ------------------------------------------------------- LearningRateScheduler's rate
def _keras_io_scheduler(epoch, lr):
    """keras.io's LearningRateScheduler example, as written there."""
    if epoch < 10:
        return lr
    return lr * math.exp(-0.1)


def _sgd_trainer() -> dr.Trainer:
    net = dr.Network([4, 5, 3], output_activation="softmax", seed=0)
    return dr.Trainer(net, "sgd", 0.01, 16, seed=2)


def test_the_keras_io_scheduler_example_ends_at_kerass_rate():
    """keras.io/api/callbacks/learning_rate_scheduler: 15 epochs from 0.01 end at 0.00607
    (round(model.optimizer.learning_rate, 5)); the schedule was given the base rate, and
    ended at 0.00905 (found by a QA pass as a Keras user)."""
    X, y = _blobs()
    history = _sgd_trainer().fit(X, y, epochs=15, callbacks=[LearningRateScheduler(
        _keras_io_scheduler)], verbose=0, warn_convergence=False)  # fmt: skip
    assert round(history["learning_rate"][-1], 5) == 0.00607
    expected = [0.01] * 10 + [0.01 * math.exp(-0.1) ** k for k in range(1, 6)]
    np.testing.assert_allclose(history["learning_rate"], expected, rtol=1e-12)


def test_a_run_resumed_from_a_checkpoint_continues_the_schedule_identically(tmp_path):
    X, y = _blobs()

    def run(trainer, epochs, callbacks):
        return trainer.fit(X, y, epochs=epochs, callbacks=callbacks, verbose=0,
                           warn_convergence=False)  # fmt: skip

    straight = _sgd_trainer()
    whole = run(straight, 15, [LearningRateScheduler(_keras_io_scheduler)])
    first = _sgd_trainer()
    head = run(first, 12, [LearningRateScheduler(_keras_io_scheduler), Checkpoint(tmp_path)])
    saved = load_checkpoint(tmp_path)
    second = _sgd_trainer()  # (fresh, as after a crash: its rate is 0.01 again)
    resume_trainer(second, saved, [])
    tail = run(second, 3, [LearningRateScheduler(_keras_io_scheduler)])
    assert [r.epoch for r in tail] == [13, 14, 15]
    assert [*head["learning_rate"], *tail["learning_rate"]] == whole["learning_rate"]
    assert second.network.parameters.tobytes() == straight.network.parameters.tobytes()


def test_a_one_argument_schedule_is_called_with_the_epoch_alone():
    """Keras 3 calls schedule(epoch) when schedule(epoch, lr) does not fit; here a bare
    TypeError came after training had started (found by a QA pass as a Keras user)."""
    X, y = _blobs()

    def steps(epoch):
        return 0.01 if epoch < 2 else 0.001

    for schedule, expected in [
        (lambda epoch: 0.01 * 0.9**epoch, [0.01, 0.009, 0.0081]),
        (steps, [0.01, 0.01, 0.001]),
        (lambda epoch, lr=None: lr / 2, [0.005, 0.0025, 0.00125]),  # (an lr it may take)
    ]:
        history = _sgd_trainer().fit(X, y, epochs=3, callbacks=[LearningRateScheduler(
            schedule)], verbose=0, warn_convergence=False)  # fmt: skip
        np.testing.assert_allclose(history["learning_rate"], expected, rtol=1e-12)


@pytest.mark.parametrize(
    "schedule, said",
    [
        (lambda epoch, lr, extra: lr, r"<lambda>\(epoch, lr, extra\) can be called neither way"),
        (lambda: 0.01, r"<lambda>\(\) can be called neither way"),
        (0.01, r"needs a function schedule\(epoch, lr\).*received float 0.01"),
    ],
)  # fmt: skip
def test_a_schedule_that_cannot_be_called_is_refused_when_made(schedule, said):
    with pytest.raises(InputError, match=said):
        LearningRateScheduler(schedule)


# ------------------------------------------------------- Keras's older keyword names
@pytest.mark.parametrize(
    "make, said",
    [
        (lambda: ModelCheckpoint("m.safetensors", period=2), "ModelCheckpoint(path, every=2)"),
        (lambda: ReduceLROnPlateau(epsilon=1e-3), "min_delta is Keras's old epsilon"),
        (lambda: ProgressBar(count_mode="steps"), "ProgressBar counts epochs"),
        (lambda: ProgressBar(stateful_metrics=["acc"]), "ProgressBar shows each epoch's values"),
        (lambda: ProgressBar(verbos=2), "Did you mean 'verbose'?"),
    ],
)  # fmt: skip
def test_kerass_older_keywords_say_deltarules_name(make, said):
    """ModelCheckpoint(period=2) and ReduceLROnPlateau(epsilon=...) were told 'Leave it
    out.', and ProgressBar's unknown keywords were a bare TypeError (found by a QA pass as
    a Keras user)."""
    with pytest.raises(KeywordError, match=re.escape(said)):
        make()


def test_initial_value_threshold_is_the_value_the_first_saved_epoch_must_beat(tmp_path):
    """Keras's initial_value_threshold (save_best_only) was refused with 'Leave it out.'."""
    X, y = _blobs()

    def fit(threshold):
        best = ModelCheckpoint(
            tmp_path / "m-{epoch}.safetensors",
            monitor="loss",
            save_best_only=True,
            initial_value_threshold=threshold,
        )
        net = dr.Network([4, 5, 3], output_activation="softmax", seed=0)
        return net.fit(X, y, epochs=6, callbacks=[best], **_quiet()), best  # fmt: skip

    history, best = fit(None)
    losses = history["loss"]
    assert len(best.saved) == 6 and losses == sorted(losses, reverse=True)  # (each saved)
    threshold = losses[2]  # (the third epoch's: only the later ones beat it)
    _, best = fit(threshold)
    assert best.saved == [str(tmp_path / f"m-{epoch}.safetensors") for epoch in (4, 5, 6)]
    _, best = fit(0.0)  # (no cross-entropy is below 0: nothing saved)
    assert best.saved == []


@pytest.mark.parametrize(
    "options, said",
    [
        ({"initial_value_threshold": 0.5}, "applies only with save_best_only=True"),
        ({"initial_value_threshold": "0.5", "save_best_only": True}, "received str '0.5'"),
        ({"initial_value_threshold": float("nan"), "save_best_only": True}, "finite number"),
    ],
)  # fmt: skip
def test_a_bad_initial_value_threshold_is_refused(options, said):
    with pytest.raises(InputError, match=re.escape(said)):
        ModelCheckpoint("m.safetensors", monitor="loss", **options)


# ------------------------------------------------------------------ History.params
def test_history_params_holds_kerass_verbose_epochs_and_steps(capsys):
    """h.params was a plain AttributeError (found by a QA pass as a Keras user); Keras's
    History.params holds the fit's verbose, epochs and steps per epoch."""
    X, y = _blobs(100)
    net = dr.Network([4, 5, 3], output_activation="softmax", seed=0)
    history = net.fit(X, y, epochs=2, batch_size=32, validation_split=0.2, **_quiet())
    assert history.params == {"verbose": 0, "epochs": 2, "steps": math.ceil(80 / 32)}
    trainer = dr.Trainer(dr.Network([4, 5, 3], output_activation="softmax", seed=0), "sgd",
                         0.1, batch_size=None)  # fmt: skip
    trainer.fit(X, y, epochs=2, verbose=0, warn_convergence=False)
    later = trainer.fit(X, y, epochs=3, verbose=2, warn_convergence=False)
    assert later.params == {"verbose": 2, "epochs": 5, "steps": 1}  # (epochs 3 to 5 of 5)
    assert "epoch 5/5" in capsys.readouterr().err
    solved = dr.Trainer(dr.Network([4, 5, 3], output_activation="softmax", seed=0), "lbfgs")
    assert solved.fit(X, y, epochs=2, verbose=0, warn_convergence=False).params["steps"] == 1
    assert dr.history.History().params == {}


# ------------------------------------------------------------------- messages
def test_a_callback_class_passed_uncalled_says_to_call_it():
    """callbacks=[EarlyStopping] (the class) was told to subclass Callback (found by a QA
    pass as a Keras user)."""
    X, y = _blobs()
    net = dr.Network([4, 5, 3], output_activation="softmax", seed=0)
    for callbacks in ([EarlyStopping], EarlyStopping):
        with pytest.raises(InputError, match=re.escape(
                "you passed the class EarlyStopping, not one of them. Call it: "
                "callbacks=[EarlyStopping()]")):  # fmt: skip
            net.fit(X, y, epochs=2, callbacks=callbacks, **_quiet())


def test_a_checkpoint_path_with_kerass_batch_field_is_refused_when_made():
    """ModelCheckpoint('b-{batch}.safetensors') was told to add 'batch' to metrics=[...]
    (found by a QA pass as a Keras user)."""
    said = r"template field \{batch\} is not available.*the fields are \{epoch\} and the epoch"
    with pytest.raises(InputError, match=said):
        ModelCheckpoint("b-{batch}.safetensors")


def test_a_monitored_name_that_is_no_metric_is_not_told_to_add_it_to_metrics():
    X, y = _blobs()
    net = dr.Network([4, 5, 3], output_activation="softmax", seed=0)
    said = r"\(it records loss, .*\)\. Use one of those \(or add a Metric named 'score'"
    with pytest.raises(InputError, match=said):
        net.fit(X, y, epochs=2, callbacks=[ModelCheckpoint("m-{score}.safetensors")], **_quiet())


@pytest.mark.parametrize(
    "name, suggested",
    [("m.keras", "m.safetensors"), ("m.weights.h5", "m.safetensors"),
     ("run/best-{epoch}.H5", "run/best-{epoch}.safetensors"), ("m.hdf5", "m.safetensors")],
)  # fmt: skip
def test_kerass_file_formats_are_refused_not_written_as_safetensors(tmp_path, name, suggested):
    """ModelCheckpoint('m.keras') and 'm.weights.h5' wrote safetensors files under those
    names, silently (found by a QA pass as a Keras user); save_model did too."""
    said = re.escape("Keras's own format; deltarule writes safetensors")
    with pytest.raises(InputError, match=said + ".*" + re.escape(f"Name it {suggested!r}")):
        ModelCheckpoint(name)
    net = dr.Network([4, 5, 3], output_activation="softmax", seed=0)
    path = tmp_path / "m.h5"
    with pytest.raises(InputError, match=re.escape(f"save_model's path {str(path)!r}")):
        dr.io.save_model(net, path)
    assert not path.exists()
    dr.io.save_model(net, tmp_path / "m.safetensors")  # (still written)
