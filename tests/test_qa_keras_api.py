"""What a Keras or PyTorch user runs into with the Python API (QA report, Keras persona).

Divergence with validation data and metrics, learning rates set by callbacks, Keras-style
callbacks and keyword arguments, the metrics' argument order, categorical targets, Ctrl-C
with ``verbose=0``, and the messages for callables and schedule names.
"""

from __future__ import annotations

import inspect
import math
import os
import re
import signal
import warnings

import numpy as np
import pytest

import deltarule as dr
import deltarule.io as dr_io
import deltarule.network as network_module
from deltarule import metrics as M
from deltarule.callbacks import Callback, LearningRateScheduler
from deltarule.exceptions import (
    ConvergenceWarning,
    DataWarning,
    InputError,
    KerasAttributeError,
    KeywordError,
)
from deltarule.training import fit as training_fit


def _blobs(n: int = 120, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Standardised features and one-hot targets of ``k`` classes."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    X = rng.normal(size=(n, 6)) + labels[:, None]
    return (X - X.mean(0)) / X.std(0), np.eye(k)[labels]


def _wine() -> tuple[np.ndarray, np.ndarray]:
    """The QA report's data: scikit-learn's wine, standardised, one-hot targets."""
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_wine(return_X_y=True)
    return (X - X.mean(0)) / X.std(0), np.eye(3)[y]


def _binary(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).normal(size=(n, 4))
    return X, (X[:, :1] > 0).astype(float)


def _quiet(**kwargs):
    return {"verbose": 0, "seed": 0, "warn_convergence": False, **kwargs}


# ------------------------------------------------------------ divergence with validation


@pytest.mark.parametrize("metrics", [None, []], ids=["accuracy", "no-metrics"])
def test_divergence_with_validation_stops_and_restores_the_initial_weights(metrics):
    X, Y = _wine()  # epoch 1: a finite training loss (5.5e34), a NaN validation loss
    net = dr.Network([13, 16, 3], output_activation="softmax", seed=0)
    start = net.parameters.copy()
    with pytest.warns(ConvergenceWarning, match="training diverged at epoch 1"):
        history = net.fit(
            X, Y, epochs=20, optimizer="sgd", learning_rate=1e6, validation_split=0.3,
            metrics=metrics, **_quiet(),
        )  # fmt: skip
    assert len(history) == 0
    assert "validation" in history.stop_reason
    assert "the initial weights were restored" in history.stop_reason
    np.testing.assert_array_equal(net.parameters, start)
    assert np.isfinite(net.predict(X)).all()


class _BlowUpAt(Callback):
    """Keeps the weights after each epoch; sets a huge rate for epoch ``epoch``."""

    def __init__(self, epoch: int) -> None:
        self.epoch, self.kept = epoch, {}

    def on_epoch_begin(self, state):
        if state.epoch + 1 == self.epoch:
            state.learning_rate = 1e6

    def on_epoch_end(self, record, state):
        self.kept[record.epoch] = state.network.parameters.copy()


def test_a_nan_val_loss_undoes_its_epoch_back_to_the_last_finite_one():
    X, Y = _blobs()
    net = dr.Network([6, 16, 3], output_activation="softmax", seed=0)
    spy = _BlowUpAt(3)
    with pytest.warns(ConvergenceWarning):
        history = net.fit(
            X, Y, epochs=10, batch_size=None, optimizer="sgd", learning_rate=0.1,
            validation_data=(X[:30], Y[:30]), callbacks=[spy], **_quiet(),
        )  # fmt: skip
    # (the training loss stays finite; the validation loss is the first to fail)
    last = len(history)
    assert last >= 2 and "the validation loss became nan" in history.stop_reason
    assert history.stop_reason.startswith(f"training diverged at epoch {last + 1}")
    assert f"last finite epoch ({last})" in history.stop_reason
    assert all(math.isfinite(r.val_loss) for r in history)
    # epochs 3.. ran at the huge rate: the last finite epoch's weights overflow the loss,
    # so the weights epoch 3 started from (the lowest recorded loss) are put back
    assert "the weights epoch 3 started from were restored" in history.stop_reason
    np.testing.assert_array_equal(net.parameters, spy.kept[2])
    assert net.evaluate(X, Y) == pytest.approx(history.history["loss"][2], rel=1e-6)


def test_no_epoch_recorded_still_has_keras_columns():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_diabetes(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="initial weights were restored"):
        history = dr.Network([10, 32, 1], seed=0).fit(
            X * 100, y, epochs=30, optimizer="sgd", learning_rate=1.0, verbose=0
        )
    assert len(history) == 0
    assert history.history["loss"] == [] and history["loss"] == []
    X, Y = _wine()
    with pytest.warns(ConvergenceWarning):
        history = dr.Network([13, 16, 3], output_activation="softmax", seed=0).fit(
            X, Y, epochs=5, optimizer="sgd", learning_rate=1e6, validation_split=0.3, **_quiet()
        )
    assert history.history == {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}


# ------------------------------------------------------------ learning rates set in a run


class _SetsRate(Callback):
    def __init__(self, rate):
        self.rate = rate

    def on_epoch_end(self, record, state):
        state.learning_rate = self.rate


@pytest.mark.parametrize("rate", [-0.5, float("nan"), None])  # (0 is taken: cosine's end)
def test_a_schedule_returning_a_bad_rate_is_refused_by_name_and_epoch(rate):
    X, Y = _binary()
    net = dr.Network([4, 8, 1], output_activation="sigmoid", seed=0)
    with pytest.raises(InputError, match=r"LearningRateScheduler.*<lambda>.*epoch 1;.*finite"):
        schedule = LearningRateScheduler(lambda e, b: rate)
        net.fit(X, Y, epochs=3, optimizer="sgd", callbacks=[schedule], **_quiet())


def test_a_callback_setting_a_bad_rate_is_refused_and_a_good_one_kept_as_float():
    X, Y = _binary()
    net = dr.Network([4, 8, 1], output_activation="sigmoid", seed=0)
    with pytest.raises(InputError, match=r"_SetsRate.on_epoch_end .*'0.1' \(str\) for epoch 2"):
        net.fit(X, Y, epochs=3, optimizer="sgd", callbacks=[_SetsRate("0.1")], **_quiet())
    history = net.fit(
        X, Y, epochs=3, optimizer="sgd", callbacks=[_SetsRate(np.float32(0.25))], **_quiet()
    )
    assert history.history["learning_rate"][1:] == [0.25, 0.25]
    assert all(type(rate) is float for rate in history.history["learning_rate"])


# ------------------------------------------------------------ Keras-style callbacks


def test_keras_hook_signatures_and_attributes_get_deltarule_advice():
    X, Y = _binary()

    class KerasLogs(Callback):
        def on_epoch_end(self, epoch, logs=None):
            return logs["loss"] < 10

    class UsesModel(Callback):
        def on_epoch_end(self, record, state):
            self.model.stop_training = True

    class SetsStopTraining(Callback):
        def on_epoch_end(self, record, state):
            state.network.stop_training = True

    def fit(cb):
        dr.Network([4, 8, 1], output_activation="sigmoid", seed=0).fit(
            X, Y, epochs=3, callbacks=[cb], **_quiet()
        )

    with pytest.raises(InputError, match=r"on_epoch_end\(self, epoch, logs\).*record.loss"):
        fit(KerasLogs())
    with pytest.raises(KerasAttributeError, match="state.network") as info:
        fit(UsesModel())
    assert isinstance(info.value, AttributeError)
    with pytest.raises(KerasAttributeError, match="return True or a reason"):
        fit(SetsStopTraining())
    net = dr.Network([2, 1], seed=0)
    net.stop_training = False  # (Keras code resets it: harmless)
    assert net.stop_training is False and not hasattr(UsesModel(), "model")


@pytest.mark.parametrize("name", sorted(network_module._KERAS_METHODS))
def test_keras_model_methods_point_to_what_deltarule_has(name):
    # (QA as a Keras user: net.compile, net.save, net.get_weights, ... were bare
    # AttributeErrors with no hint)
    net = dr.Network([3, 2, 1], seed=0)
    with pytest.raises(KerasAttributeError, match=rf"^Network has no {name}\(\)") as info:
        getattr(net, name)
    assert isinstance(info.value, AttributeError) and not hasattr(net, name)
    advice = str(info.value)
    named = re.findall(r"\bnet\.(\w+)", advice) + re.findall(r"deltarule\.io\.(\w+)", advice)
    assert named  # (each names what to use instead, and that exists)
    for attribute in named:
        assert hasattr(net, attribute) or hasattr(dr_io, attribute), attribute
    with pytest.raises(AttributeError, match="'Network' object has no attribute 'nope'"):
        net.nope  # noqa: B018  (other names: the usual message)


# ------------------------------------------------------------ Keras keyword arguments


def test_keras_keywords_of_predict_evaluate_and_fit():
    X, Y = _binary()
    net = dr.Network([4, 8, 1], output_activation="sigmoid", seed=0)
    plain = net.predict(X)
    np.testing.assert_array_equal(net.predict(X, verbose=0, batch_size=7), plain)
    np.testing.assert_array_equal(net.predict(x=X), plain)
    loss = net.evaluate(X, Y)
    assert net.evaluate(X, Y, verbose=0) == loss
    assert net.evaluate(X, Y, return_dict=True) == {"loss": loss}
    both = net.evaluate(X, Y, metrics=["accuracy"])
    assert net.evaluate(X, Y, metrics=["accuracy"], return_dict=False) == [
        both["loss"], both["accuracy"],
    ]  # fmt: skip
    assert len(net.fit(x=X, y=Y, epochs=2, **_quiet())) == 2
    with pytest.raises(KeywordError, match="Did you mean 'epochs'") as info:
        net.fit(X, Y, epoch=3)
    assert isinstance(info.value, TypeError)
    with pytest.raises(KeywordError, match="keep a Trainer"):
        net.fit(X, Y, epochs=5, initial_epoch=2)
    with pytest.raises(InputError, match="verbose"):
        net.predict(X, verbose="loud")


def test_network_fit_shows_training_fits_arguments():
    method = inspect.signature(dr.Network.fit).parameters
    function = inspect.signature(training_fit).parameters
    assert [p for p in method if p != "self"] == [p for p in function if p != "network"]
    for name, parameter in method.items():
        if name != "self":
            assert parameter.default == function[name].default, name
            assert parameter.kind == function[name].kind, name


# ------------------------------------------------------------ the metrics' argument order


def test_metrics_take_sklearn_keywords_and_refuse_a_swapped_call():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 50)
    truth, proba = np.eye(3)[labels], rng.dirichlet([1, 1, 1], 50)
    expected = sk.log_loss(labels, proba, labels=[0, 1, 2])
    assert M.log_loss(proba, truth) == pytest.approx(expected)
    assert M.log_loss(y_true=truth, y_pred=proba) == pytest.approx(expected)
    for metric in (M.log_loss, M.accuracy, M.precision, M.recall, M.f1):
        with pytest.raises(InputError, match=r"\(output, target\).*reverse"):
            metric(truth, proba)
    a = rng.normal(size=(50, 1))
    b = a + rng.normal(size=(50, 1))
    assert M.r2(y_true=a, y_pred=b) == pytest.approx(sk.r2_score(a, b))
    with pytest.raises(InputError, match="y_true= and y_pred= together"):
        M.r2(a, y_pred=b)
    # training (the registry's Metric) scores saturated exact 0/1 outputs without the check
    assert M.get_metric("accuracy")(truth, proba) == pytest.approx(
        np.mean(labels == proba.argmax(1))
    )
    assert "(y_true, y_pred)" in M.__doc__ and "(y_true, y_pred)" in M.precision.__doc__


# ------------------------------------------------------------ categorical targets


def test_categorical_targets_above_one_are_refused_and_rows_off_one_warned():
    rng = np.random.default_rng(0)
    X, labels = rng.normal(size=(60, 4)), rng.integers(0, 3, 60)
    net = dr.Network([4, 8, 3], output_activation="softmax", seed=0)
    for Y in (np.eye(3)[labels] * 5, np.c_[labels, np.zeros((60, 2))]):
        if Y.max() > 1:
            with pytest.raises(InputError, match=r"categorical_crossentropy.*\[0, 1\]"):
                net.fit(X, Y, epochs=1, **_quiet())
    with pytest.warns(DataWarning, match="60 of 60 rows of y do not sum to 1"):
        net.fit(X, np.eye(3)[labels] * 0.5, epochs=1, **_quiet())
    with pytest.raises(InputError, match=r"np.eye\(3\)\[labels.astype\(int\)\]"):
        net.fit(X, labels, epochs=1, **_quiet())


# ------------------------------------------------------------ Ctrl-C with verbose=0


def test_ctrl_c_with_verbose_0_warns_that_the_network_is_partly_trained():
    X, Y = _binary()

    class CtrlC(Callback):
        def on_epoch_end(self, record, state):
            if record.epoch == 2:
                os.kill(os.getpid(), signal.SIGINT)

    net = dr.Network([4, 8, 1], output_activation="sigmoid", seed=0)
    with pytest.warns(ConvergenceWarning, match=r"interrupted \(Ctrl-C\) after epoch 2.*partly"):
        history = net.fit(X, Y, epochs=5, callbacks=[CtrlC()], **_quiet())
    assert len(history) == 2


# ------------------------------------------------------------ messages for fit's options


def test_callables_and_schedule_names_get_advice():
    X, Y = _binary()
    net = dr.Network([4, 8, 1], output_activation="sigmoid", seed=0)
    with pytest.raises(InputError, match=r"LearningRateScheduler\(fn\)"):
        net.fit(X, Y, epochs=2, schedule=lambda e, lr: lr, **_quiet())
    with pytest.raises(InputError, match=r"Metric\('my_metric', fn"):
        net.fit(X, Y, epochs=2, metrics=[lambda y, p: 0.0], **_quiet())
    with pytest.raises(InputError, match=r"StepDecay\(step_size=...\)"):
        net.fit(X, Y, epochs=2, schedule="step", **_quiet())
    history = net.fit(X, Y, epochs=8, optimizer="sgd", learning_rate=0.1, schedule="cosine",
                      **_quiet())  # fmt: skip
    expected = [0.1 * (1 + math.cos(math.pi * e / 8)) / 2 for e in range(8)]
    np.testing.assert_allclose(history.history["learning_rate"], expected, rtol=1e-12)


# ------------------------------------------------------------ small items


def test_small_items_checkpoint_every_shuffle_custom_activation_and_xor_example(tmp_path):
    from deltarule.io import save_model
    from deltarule.io.checkpoint import Checkpoint

    for every in (0, -5, 2.7):
        with pytest.raises(InputError, match="every"):
            Checkpoint(tmp_path, every=every)
    X, Y = _binary()
    with pytest.raises(InputError, match="Keras's 'batch'"):
        dr.Network([4, 1], seed=0).fit(X, Y, epochs=1, shuffle="batch", **_quiet())
    cube = dr.Activation("qa_cube", lambda z: z**3, lambda z, a: 3 * z**2)
    with pytest.warns(UserWarning, match="'qa_cube', which is not registered"):
        save_model(dr.Network([2, 3, 1], activation=cube, seed=0), tmp_path / "m.safetensors")
    # the training module's XOR example stops at its target error (no StillImprovingWarning)
    xor_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    xor_y = np.array([[0], [1], [1], [0]], dtype=float)
    net = dr.Network([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = net.fit(xor_X, xor_y, epochs=2000, batch_size=None, optimizer="adam",
                          learning_rate=0.05, target_error=0.01, seed=0, verbose=0)  # fmt: skip
    assert history.stop_reason.startswith("target error")


# ------------------------------------------- #10: Trainer.fit takes fit's stopping rules
def test_trainer_fit_takes_fits_stopping_rules_for_a_continued_run() -> None:
    from deltarule.callbacks import EarlyStopping, TargetError

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = (X[:, :1] - X[:, 1:2] > 0).astype(float)

    def trainer() -> dr.Trainer:
        net = dr.Network([3, 8, 1], activation="tanh", output_activation="sigmoid", seed=0)
        return dr.Trainer(net, "adam", learning_rate=0.05, seed=0)

    by_keyword, by_callback = trainer(), trainer()
    for t in (by_keyword, by_callback):
        t.fit(X, y, epochs=5, verbose=0, warn_convergence=False)  # a run to continue
    a = by_keyword.fit(X, y, epochs=300, verbose=0, validation_split=0.25, early_stopping=True,
                       patience=3, min_delta=1e-3)  # fmt: skip
    b = by_callback.fit(X, y, epochs=300, verbose=0, validation_split=0.25,
                        callbacks=[EarlyStopping(patience=3, min_delta=1e-3)])  # fmt: skip
    assert a.stop_reason == b.stop_reason and "no improvement of val_loss" in a.stop_reason
    assert a[0].epoch == 6  # numbered on from the first call
    np.testing.assert_array_equal(by_keyword.network.parameters, by_callback.network.parameters)
    c = trainer()
    h = c.fit(X, y, epochs=500, verbose=0, target_error=0.2)
    d = trainer()
    g = d.fit(X, y, epochs=500, verbose=0, callbacks=[TargetError(0.2)])
    assert h.stop_reason == g.stop_reason and len(h) == len(g) < 500


def test_a_property_failing_inside_names_what_it_missed():
    # (a review: Network.__getattr__, added for Keras's names, answered a property's
    # internal AttributeError with "no attribute 'parameters'")
    net = dr.Network.__new__(dr.Network)  # (nothing set)
    with pytest.raises(AttributeError, match="'_parameters'"):
        net.parameters  # noqa: B018


def test_train_on_batchs_advice_carries_the_optimizer_state_from_batch_to_batch():
    """The advice for Keras's train_on_batch was net.fit(X, y, epochs=1, batch_size=None)
    per batch, which starts Adam's state afresh every call (found by a QA pass as a Keras
    user): following the advice now trains as one pass of the same batches in order."""
    net = dr.Network([4, 8, 3], output_activation="softmax", seed=0)
    with pytest.raises(KerasAttributeError) as info:
        _ = net.train_on_batch
    advice = str(info.value)
    assert "Trainer(net, 'adam', learning_rate, batch_size=None)" in advice
    assert "trainer.partial_fit(X, y)" in advice
    rng = np.random.default_rng(1)
    X, labels = rng.normal(size=(40, 4)), rng.integers(0, 3, 40)
    Y = np.eye(3)[labels]
    loop = dr.Network([4, 8, 3], output_activation="softmax", seed=0)
    trainer = dr.Trainer(loop, "adam", 0.01, batch_size=None, metrics=[])
    for start in range(0, 40, 8):
        trainer.partial_fit(X[start : start + 8], Y[start : start + 8])
    one_pass = dr.Network([4, 8, 3], output_activation="softmax", seed=0)
    dr.Trainer(one_pass, "adam", 0.01, batch_size=8, shuffle=False, metrics=[]).fit(
        X, Y, epochs=1, verbose=0, warn_convergence=False
    )
    assert loop.parameters.tobytes() == one_pass.parameters.tobytes()


def test_batches_from_a_generator_are_refused_saying_how_to_train_on_them():
    """fit(generator) was Python's "missing 1 required positional argument: 'y'" and
    fit(loader, None) "y is None" (found by a QA pass as a Keras user): both say that fit
    takes whole arrays, and how to train batch by batch."""
    net = dr.Network([2, 3, 1], seed=0)

    def batches():
        for _ in range(3):
            yield np.zeros((4, 2)), np.zeros((4, 1))

    class Loader:  # (a data loader: iterable, sized, no shape)
        def __iter__(self):
            return batches()

        def __len__(self):
            return 3

    for call in (lambda: net.fit(batches(), verbose=0), lambda: dr.fit(net, Loader(), None)):
        with pytest.raises(InputError, match=r"y is None and X is a (generator|Loader) .*"
                           r"trainer\.partial_fit\(xb, yb\)"):  # fmt: skip
            call()
    with pytest.raises(InputError, match=r"^y is None; training needs targets"):
        net.fit(np.zeros((3, 2)))


@pytest.mark.parametrize(
    "make, said",
    [
        (lambda: dr.callbacks.EarlyStopping(verbose=1), "print nothing themselves"),
        (lambda: dr.callbacks.EarlyStopping(baseline=0.2), "has no baseline"),
        (lambda: dr.callbacks.EarlyStopping(start_from_epoch=5), "larger patience"),
        (lambda: dr.callbacks.ModelCheckpoint(filepath="m.safetensors"), "first argument is path"),
        (lambda: dr.callbacks.ModelCheckpoint("m.safetensors", save_weights_only=True),
         "load_model(path).network"),
        (lambda: dr.callbacks.ModelCheckpoint("m.safetensors", save_freq=10), "every=N"),
        (lambda: dr.callbacks.ReduceLROnPlateau(verbose=1), "history['learning_rate']"),
        (lambda: LearningRateScheduler(lambda e, r: r, verbose=1), "print nothing"),
        (lambda: dr.callbacks.CSVLogger(path="log.csv"), "first argument is filename"),
        (lambda: dr.callbacks.EarlyStopping(patiense=3), "Did you mean 'patience'?"),
    ],
)  # fmt: skip
def test_keras_keywords_of_the_callbacks_say_what_to_do_instead(make, said):
    """A bare TypeError for Keras's verbose, baseline, filepath, save_weights_only, ...
    (found by a QA pass as a Keras user)."""
    with pytest.raises(KeywordError, match=re.escape(said)):
        make()


def test_a_keras_style_schedule_decays_from_the_current_rate():
    """Keras's lambda epoch, lr: lr * 0.5 was called with the base rate, so it halved the
    base rate once and the rate never decayed (found by a QA pass as a Keras user; then
    warned about): it is now given the current rate, as in Keras, and halves every epoch."""
    X = np.random.default_rng(0).normal(size=(30, 2))
    net = dr.Network([2, 3, 1], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # (no warning about the rates left)
        halve = LearningRateScheduler(lambda epoch, lr: lr * 0.5)
        history = net.fit(
            X,
            X[:, :1],
            epochs=5,
            verbose=0,
            learning_rate=0.01,
            callbacks=[halve],
            warn_convergence=False,
        )
    assert history["learning_rate"] == [0.01 * 0.5**k for k in range(1, 6)]


def test_the_registry_messages_read_right():
    """'as a activation object', and an initializer's message that left out the function it
    takes (found by a QA pass as a Keras user)."""
    with pytest.raises(InputError, match="or as an activation object; received int 3"):
        dr.Network([2, 1], activation=3)
    with pytest.raises(InputError, match=r"or as a function init\(shape, fan_in, fan_out, rng"):
        dr.Network([2, 1], initializer=3)


def test_a_schedule_continued_in_a_later_fit_counts_the_epochs_on():
    """A trainer's second fit calls the schedule with the epochs after the first fit's,
    and the rate the first left (as Keras's model.fit continues the optimizer's rate)."""
    X = np.random.default_rng(0).normal(size=(30, 2))
    net = dr.Network([2, 3, 1], seed=0)
    trainer = dr.Trainer(net, "sgd", 0.1, metrics=[])
    calls = []

    def step(epoch, lr):
        calls.append((epoch, lr))
        return lr * 0.5 if epoch == 5 else lr

    scheduler = LearningRateScheduler(step)
    trainer.fit(X, X[:, :1], epochs=5, verbose=0, callbacks=[scheduler])
    history = trainer.fit(X, X[:, :1], epochs=5, verbose=0, callbacks=[scheduler])
    assert calls == [(epoch, 0.1) for epoch in range(6)] + [(e, 0.05) for e in range(6, 10)]
    assert history["learning_rate"] == [0.05] * 5


def test_a_callback_subclass_s_unknown_keyword_names_the_class_that_refused_it():
    """A subclass's keyword passed on by super().__init__(**kw) was reported as the
    subclass's, listing the base class's arguments (found by a review)."""

    class Mine(dr.callbacks.EarlyStopping):
        def __init__(self, extra=1, **options):
            super().__init__(**options)
            self.extra = extra

    with pytest.raises(KeywordError, match=r"^EarlyStopping\.__init__\(\) got an unexpected "
                       r"keyword argument 'extar'"):  # fmt: skip
        Mine(extar=3)
    assert Mine(extra=2, patience=3).patience == 3
