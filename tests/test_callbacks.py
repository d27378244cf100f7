"""Callbacks on their own: the state a checkpoint saves, and what a stopping rule accepts."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from conftest import torch_plateau_rates

import deltarule as dr
from deltarule import callbacks as cb
from deltarule.callbacks import (
    AllCorrect,
    Callback,
    EarlyStopping,
    ReduceLROnPlateau,
    TrainingState,
)
from deltarule.history import EpochRecord

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=float)


def record(epoch: int, loss: float) -> EpochRecord:
    return EpochRecord(epoch, loss, loss, {}, {}, 0.1, 0.0, 0.0)


def state_of(net: dr.Network) -> TrainingState:
    return TrainingState(net, None, {}, 1.0, 1.0, 50, np.zeros((1, 1)), np.zeros((1, 1)))


# ------------------------------------------------------------------- states
STATEFUL = {
    "EarlyStopping": lambda: EarlyStopping("loss", patience=3, min_delta=0.01),
    "ReduceLROnPlateau": lambda: ReduceLROnPlateau("loss", factor=0.5, patience=1, cooldown=2),
}


@pytest.mark.parametrize("name", list(STATEFUL))
def test_a_stateful_callbacks_state_survives_json_and_continues_the_same(name) -> None:
    losses = [3.0, 2.0, 2.5, 2.4, 1.0, 1.5, 1.6, 1.7, 0.5, 0.9, 0.95, 0.99, 0.97, 0.98]
    net = dr.Network([1, 1], use_bias=False)
    straight, first = STATEFUL[name](), STATEFUL[name]()
    state, other = state_of(net), state_of(net)
    straight.on_train_begin(state)
    first.on_train_begin(other)
    for epoch, loss in enumerate(losses[:6], start=1):
        net.parameters[:] = epoch
        assert straight.on_epoch_end(record(epoch, loss), state) == first.on_epoch_end(
            record(epoch, loss), other
        )
    data, tensors = first.state_dict()
    data = json.loads(json.dumps(data))  # plain data: what a checkpoint writes
    resumed = STATEFUL[name]()
    resumed.load_state_dict(data, tensors)
    assert resumed.state_dict()[0] == first.state_dict()[0]
    assert resumed.config() == json.loads(json.dumps(first.config())) == first.config()
    resumed.on_train_begin(other)  # a resumed run keeps the state it was given
    for epoch, loss in enumerate(losses[6:], start=7):
        net.parameters[:] = epoch
        expected = straight.on_epoch_end(record(epoch, loss), state)
        assert resumed.on_epoch_end(record(epoch, loss), other) == expected
        assert other.learning_rate == state.learning_rate
        assert resumed.state_dict()[0] == straight.state_dict()[0]


def test_the_other_built_in_callbacks_have_no_state_to_save(tmp_path) -> None:
    stateless = [cb.ProgressBar(0), cb.TargetError(0.1), AllCorrect(), cb.GradientNormBelow(1e-3),
                 cb.TimeLimit(10), cb.TerminateOnNaN(),
                 cb.LearningRateScheduler(dr.schedules.get_schedule("step", step_size=2)),
                 cb.CSVLogger(tmp_path / "log.csv"),
                 cb.ModelCheckpoint(tmp_path / "m.safetensors")]  # fmt: skip
    for callback in stateless:
        assert callback.state_dict() is None and callback.config() == {}


def test_a_plateau_config_names_its_rule() -> None:
    plateau = ReduceLROnPlateau("val_acc", factor=0.2, patience=4)
    assert plateau.config() == {"monitor": "val_accuracy", "name": "reduce_on_plateau",
                                "factor": 0.2, "patience": 4, "min_delta": 1e-4, "min_lr": 0.0,
                                "mode": "max", "cooldown": 0}  # fmt: skip


def test_a_callback_with_a_state_but_no_loader_says_so() -> None:
    class Counter(cb.Callback):
        def state_dict(self):
            return {"n": 1}, {}

    with pytest.raises(NotImplementedError, match="Counter returns a state_dict but cannot"):
        Counter().load_state_dict({"n": 1}, {})


# -------------------------------------------------------------- AllCorrect
def test_stop_when_all_correct_refuses_a_regression() -> None:
    # (it trained every epoch: "classified correctly" is never true of real-valued targets
    # read as labels, so the stop never came)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = X[:, :1] * 2 - X[:, 1:2]
    net = dr.Network([3, 4, 1], seed=0)
    before = net.parameters.copy()
    with pytest.raises(dr.InputError) as info:
        net.fit(X, y, epochs=5, stop_when_all_correct=True, verbose=0)
    message = str(info.value)
    assert "needs class targets" in message
    assert (
        "column 0 of y holds 40 different values" in message
        and "loss 'half_squared_error'" in message
    )
    assert "target_error=" in message and "early_stopping=True" in message
    assert net.parameters.tobytes() == before.tobytes()  # refused before any epoch
    trainer = dr.Trainer(net, "sgd", 0.1, seed=0)
    with pytest.raises(dr.InputError, match="column 0 of y holds 40 different values"):
        trainer.fit(X, y, epochs=5, callbacks=[AllCorrect()], verbose=0)


@pytest.mark.parametrize(
    "targets,loss",
    [
        (XOR_Y, "mse"),  # one 0/1 column, squared error (the tutorial's XOR)
        (np.where(np.hstack([XOR_Y, 1 - XOR_Y]) > 0, 0.99, 0.01), "mse"),  # 0.01/0.99 targets
        (np.hstack([XOR_Y, 1 - XOR_Y]), "categorical_crossentropy"),
        (np.array([[0.2, 0.8], [0.7, 0.3], [0.6, 0.4], [0.1, 0.9]]), "categorical_crossentropy"),
    ],
)
def test_stop_when_all_correct_takes_class_targets(targets, loss) -> None:
    output = "softmax" if loss == "categorical_crossentropy" else "sigmoid"
    net = dr.Network([2, 4, targets.shape[1]], activation="tanh", output_activation=output,
                     loss=loss, seed=1)  # fmt: skip
    history = net.fit(XOR_X, targets, epochs=3, batch_size=None, stop_when_all_correct=True,
                      verbose=0, seed=0)  # fmt: skip
    assert len(history) >= 1


# ------------------------------------------------------- a plateau reused or resumed
def plateau_data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 4)), np.eye(3)[rng.integers(0, 3, 40)]


@pytest.mark.parametrize("reuse", ["net.fit", "Trainer.fit"])
def test_a_reused_plateau_starts_afresh_in_each_fit(reuse) -> None:
    # (it kept its best value and reductions: the first reduction of a second fit jumped
    # by factor**4 from the fit's rate, judged against the first fit's best loss)
    X, y = plateau_data()
    plateau = ReduceLROnPlateau("loss", factor=0.5, patience=0, min_delta=0.01)
    net = dr.Network([4, 16, 3], output_activation="softmax", seed=0)
    trainer = dr.Trainer(net, "sgd", 2.0, seed=0)
    starts, histories = [], []
    for epochs in (30, 6):
        starts.append(2.0 if reuse == "net.fit" else trainer.learning_rate)
        if reuse == "net.fit":
            histories.append(net.fit(X, y, epochs=epochs, optimizer="sgd", learning_rate=2.0,
                                     seed=0, callbacks=[plateau], verbose=0))  # fmt: skip
        else:
            histories.append(trainer.fit(X, y, epochs=epochs, callbacks=[plateau], verbose=0))
    for start, history in zip(starts, histories):
        expected = torch_plateau_rates(start, history["loss"], factor=0.5, patience=0,
                                       threshold=0.01)  # fmt: skip
        assert history["learning_rate"] == pytest.approx(expected, rel=1e-12)
        assert min(expected) < start  # each fit reduced, from its own start


def test_a_plateau_callback_never_raises_the_rate_to_its_min_lr() -> None:
    # (fit(learning_rate=0.1) with ReduceLROnPlateau(min_lr=0.3) ran at 0.3 from the first
    # reduction on; torch's ReduceLROnPlateau keeps 0.1)
    X, y = plateau_data()
    net = dr.Network([4, 16, 3], output_activation="softmax", seed=0)
    plateau = ReduceLROnPlateau("loss", factor=0.5, patience=0, min_delta=10.0, min_lr=0.3)
    history = net.fit(X, y, epochs=6, optimizer="sgd", learning_rate=0.1, seed=0,
                      callbacks=[plateau], verbose=0)  # fmt: skip
    expected = torch_plateau_rates(0.1, history["loss"], factor=0.5, patience=0,
                                   threshold=10.0, min_lr=0.3)  # fmt: skip
    assert history["learning_rate"] == pytest.approx(expected, rel=1e-12)
    assert plateau.plateau.reductions > 0  # reductions fell due, and changed nothing


def test_a_plateau_schedule_object_starts_afresh_in_each_fit() -> None:
    from deltarule.schedules import ReduceOnPlateau

    X, y = plateau_data()
    rule = ReduceOnPlateau(factor=0.5, patience=0, min_delta=0.01)
    net = dr.Network([4, 16, 3], output_activation="softmax", seed=0)
    for epochs in (30, 6):
        history = net.fit(X, y, epochs=epochs, optimizer="sgd", learning_rate=2.0, seed=0,
                          schedule=rule, verbose=0)  # fmt: skip
        expected = torch_plateau_rates(2.0, history["loss"], factor=0.5, patience=0,
                                       threshold=0.01)  # fmt: skip
        assert history["learning_rate"] == pytest.approx(expected, rel=1e-12)
        assert min(expected) < 2.0


@pytest.mark.parametrize("name", list(STATEFUL))
def test_a_loaded_state_survives_exactly_one_train_begin(name) -> None:
    # A checkpoint's state is loaded before the resumed fit: that fit's on_train_begin keeps
    # it; a later fit starts afresh, as a fresh callback would.
    net = dr.Network([1, 1], use_bias=False)
    first, state = STATEFUL[name](), state_of(net)
    first.on_train_begin(state)
    for epoch, loss in enumerate([3.0, 2.0, 2.5, 2.4, 2.45], start=1):
        first.on_epoch_end(record(epoch, loss), state)
    saved = first.state_dict()
    fresh = STATEFUL[name]()
    fresh.on_train_begin(state_of(net))
    assert saved[0] != fresh.state_dict()[0]
    resumed = STATEFUL[name]()
    resumed.load_state_dict(json.loads(json.dumps(saved[0])), saved[1])
    resumed.on_train_begin(state_of(net))
    assert resumed.state_dict()[0] == saved[0]
    resumed.on_train_begin(state_of(net))
    assert resumed.state_dict()[0] == fresh.state_dict()[0]


def test_a_resumed_later_fit_keeps_the_rate_its_reductions_scale() -> None:
    # A trainer's second fit starts at the rate the first left, and its plateau's reductions
    # scale that rate; a checkpoint of that fit saves it (start_learning_rate), so the
    # resumed plateau goes on as the uninterrupted one does (not from the base rate).
    X, y = plateau_data()

    def make() -> ReduceLROnPlateau:
        return ReduceLROnPlateau("loss", factor=0.5, patience=0, min_delta=0.01)

    net = dr.Network([4, 16, 3], output_activation="softmax", seed=0)
    trainer, plateau = dr.Trainer(net, "sgd", 2.0, seed=0), make()
    trainer.fit(X, y, epochs=30, callbacks=[plateau], verbose=0)
    start = trainer.learning_rate
    assert start < 2.0
    trainer.fit(X, y, epochs=3, callbacks=[plateau], verbose=0)
    data, _ = plateau.state_dict()
    assert data["start_learning_rate"] == start
    resumed = make()
    resumed.load_state_dict(json.loads(json.dumps(data)), {})
    states = [state_of(net), state_of(net)]
    for state in states:
        state.learning_rate, state.base_learning_rate = trainer.learning_rate, 2.0
    resumed.on_train_begin(states[1])
    for epoch in range(34, 39):  # a loss that never improves: a reduction every epoch
        plateau.on_epoch_end(record(epoch, 100.0), states[0])  # uninterrupted
        resumed.on_epoch_end(record(epoch, 100.0), states[1])
        assert states[1].learning_rate == states[0].learning_rate < start
    assert states[1].learning_rate == start * 0.5**resumed.plateau.reductions


# ------------------------------------------------------------ arguments
@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: cb.TimeLimit(-1), r"seconds must be > 0; received -1"),
        (lambda: cb.TimeLimit("10"), r"seconds must be a finite number; received '10'"),
        (lambda: cb.TargetError("0.1"), r"target must be a number \(the loss to reach\)"),
        (lambda: cb.TargetError(float("nan")), r"target must be a number.*received nan"),
        (lambda: cb.GradientNormBelow(0), r"threshold must be > 0; received 0"),
        (lambda: cb.ProgressBar(3), r"verbose must be 0 \(silent\), 1 .* or 2 .*received 3"),
        (lambda: cb.ProgressBar("1"), r"verbose must be 0.*received '1'"),
        (lambda: cb.ProgressBar(2, every=0), r"every must be >= 1; received 0"),
    ],
)
def test_stopping_rules_and_the_progress_bar_refuse_bad_arguments(make, match) -> None:
    # (raw ValueError/TypeError from float(), or accepted: a negative time limit stopped
    # at once, a NaN target never, ProgressBar(3) printed nothing and every=0 meant 1)
    with pytest.raises(dr.InputError, match=match):
        make()


@pytest.mark.parametrize("kind", ["folder", "trailing separator"])
def test_model_checkpoint_to_a_folder_is_refused_before_the_first_epoch(tmp_path, kind):
    # (before: the first epoch trained, then the save failed: "it is a directory")
    path = tmp_path if kind == "folder" else f"{tmp_path / 'new'}{os.sep}"
    epochs = []

    class Watch(cb.Callback):
        def on_epoch_end(self, record, state):  # noqa: ANN001, ANN202
            epochs.append(record.epoch)

    watch = Watch()
    net = dr.Network([2, 2, 1], seed=0)
    with pytest.raises(dr.InputError, match="is a folder; expected a file path such as"):
        net.fit(XOR_X, XOR_Y, epochs=2, verbose=0, callbacks=[watch, cb.ModelCheckpoint(path)])
    assert epochs == []


# ------------------------------------------------------------ before the first epoch
@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda: EarlyStopping("val_loss"), "EarlyStopping cannot monitor 'val_loss': this run "
                                            "has no validation data"),
        (lambda: ReduceLROnPlateau("val_loss"), "ReduceLROnPlateau cannot monitor 'val_loss'"),
        (lambda: cb.ModelCheckpoint("best.safetensors", monitor="val_loss",
                                    save_best_only=True),
         r"ModelCheckpoint\(save_best_only=True\) cannot monitor 'val_loss'"),
        (lambda: EarlyStopping("mae"), "cannot monitor 'mae': this run does not compute it"),
    ],
)  # fmt: skip
def test_a_monitor_the_run_does_not_record_is_refused_before_training(
    make, fragment, tmp_path, monkeypatch
) -> None:
    # (found only after the first epoch had trained: the weights had changed already)
    monkeypatch.chdir(tmp_path)
    net = dr.Network([2, 3, 1], seed=0)
    before = net.parameters.copy()
    with pytest.raises(dr.InputError, match=fragment):
        net.fit(XOR_X, XOR_Y, epochs=3, callbacks=[make()], verbose=0)
    np.testing.assert_array_equal(net.parameters, before)


def test_a_callback_with_keras_batch_hooks_is_refused() -> None:
    # (on_train_batch_end was silently never called)
    class PerBatch(cb.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise AssertionError("never called")

    with pytest.raises(dr.InputError, match=r"PerBatch defines on_train_batch_end, which "
                       r"deltarule never calls.*on_epoch_end"):  # fmt: skip
        dr.Network([2, 1]).fit(XOR_X, XOR_Y, epochs=1, callbacks=[PerBatch()], verbose=0)


def test_a_non_finite_monitored_value_counts_as_no_improvement() -> None:
    # (as in Keras; NaN epochs never counted toward patience before)
    net = dr.Network([1, 1], use_bias=False)
    stopper = EarlyStopping("loss", patience=2)
    stopper.on_train_begin(state_of(net))
    reasons = [stopper.on_epoch_end(record(e, v), state_of(net))
               for e, v in enumerate([1.0, float("nan"), float("nan")], start=1)]  # fmt: skip
    assert reasons[:2] == [None, None] and reasons[2] is not None
    assert stopper.best == 1.0 and stopper.best_epoch == 1


def test_a_progress_line_shows_a_fast_epoch_in_milliseconds() -> None:
    # (QA: every line of a small table's run ended in "0.00s")
    from deltarule.callbacks.progress import _format_record
    from deltarule.history import EpochRecord

    def line(seconds: float) -> str:
        record = EpochRecord(epoch=1, loss=0.5, val_loss=None, metrics={}, val_metrics={},
                             learning_rate=0.1, gradient_norm=1.0, seconds=seconds)  # fmt: skip
        return _format_record(record, 10)

    assert line(0.0034).endswith(" - 3.4ms") and line(0.25).endswith(" - 0.25s")
    assert line(12.5).endswith(" - 12.50s")


class _Short(Callback):
    def on_epoch_end(self, record):
        return None


class _KerasEpoch(Callback):
    def on_epoch_end(self, epoch, metrics=None):
        return None


class _ShortQuiet(Callback):
    def chunk_quiet(self, losses):
        return len(losses)


class _ShortResumed(Callback):
    def resumed_stop(self, record):  # (asked only of a resumed run: it failed there, raw)
        return None


class _Generous(Callback):
    def on_epoch_end(self, *args):
        return None

    def on_train_end(self, history, state, extra=None):
        self.ended = True


@pytest.mark.parametrize(
    "callback, message",
    [  # (found by a QA pass as a user: each failed after the first epoch had trained)
        (_Short(), r"defines on_epoch_end\(self, record\), which cannot take"),
        (_KerasEpoch(), r"on_epoch_end\(self, epoch, metrics\), Keras's signature"),
        (_ShortQuiet(), r"chunk_quiet\(self, losses\), which cannot take .* chunk_quiet\(self, l"),
        (
            _ShortResumed(),
            r"resumed_stop\(self, record\), which cannot take .* resumed_stop\(self, r",
        ),
    ],
)
def test_a_hook_that_cannot_take_its_arguments_is_refused_before_training(callback, message):
    net = dr.Network([2, 1], seed=0)
    start = net.parameters.copy()
    with pytest.raises(dr.InputError, match=message):
        net.fit(XOR_X, XOR_Y[:, :1], epochs=2, verbose=0, callbacks=[callback])
    np.testing.assert_array_equal(net.parameters, start)  # (nothing trained)


def test_the_hook_check_kept_per_class_sees_a_hook_changed_later():
    # (what check_hooks finds is kept per class and hooks, to spare each fit ~0.2 ms of
    # signature reading: a hook replaced on the class, or set on one instance, is read again)
    class Mutable(Callback):
        def on_epoch_end(self, record, state):
            return None

    fit = dict(epochs=1, verbose=0)
    net = dr.Network([2, 1], seed=0)
    net.fit(XOR_X, XOR_Y[:, :1], callbacks=[Mutable()], **fit)
    net.fit(XOR_X, XOR_Y[:, :1], callbacks=[Mutable()], **fit)  # (from the table)
    one = Mutable()
    one.on_epoch_end = lambda record: None  # (this instance's own, short hook)
    with pytest.raises(dr.InputError, match=r"on_epoch_end\(self, record\), which cannot"):
        net.fit(XOR_X, XOR_Y[:, :1], callbacks=[one], **fit)
    net.fit(XOR_X, XOR_Y[:, :1], callbacks=[Mutable()], **fit)  # (the class is still fine)
    Mutable.on_epoch_end = _Short.on_epoch_end
    with pytest.raises(dr.InputError, match=r"on_epoch_end\(self, record\), which cannot"):
        net.fit(XOR_X, XOR_Y[:, :1], callbacks=[Mutable()], **fit)
    Mutable.on_batch_end = lambda self, batch, logs=None: None
    del Mutable.on_epoch_end
    with pytest.raises(dr.InputError, match="defines on_batch_end, which deltarule never calls"):
        net.fit(XOR_X, XOR_Y[:, :1], callbacks=[Mutable()], **fit)


def test_the_hook_check_reads_instances_that_find_hooks_elsewhere():
    # (a review of the per-class table: a wrapper passing lookups on by __getattr__ took
    # the verdict of the first instance checked; so did a hook held in a slot)
    class Inner(Callback):
        pass

    class Bad(Callback):
        def on_batch_end(self, batch, logs=None):
            pass

    class Wrapper(Callback):
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            if name == "inner":
                raise AttributeError(name)
            return getattr(self.inner, name)

    class Slotted(Callback):
        __slots__ = ("on_batch_end",)

    fit = dict(epochs=1, verbose=0)
    net = dr.Network([2, 1], seed=0)
    for first, second in ((Bad, Inner), (Inner, Bad)):
        for inner, refused in ((first, first is Bad), (second, second is Bad)):
            if refused:
                with pytest.raises(dr.InputError, match="defines on_batch_end"):
                    net.fit(XOR_X, XOR_Y[:, :1], callbacks=[Wrapper(inner())], **fit)
            else:
                net.fit(XOR_X, XOR_Y[:, :1], callbacks=[Wrapper(inner())], **fit)
    net.fit(XOR_X, XOR_Y[:, :1], callbacks=[Slotted()], **fit)
    slotted = Slotted()
    slotted.on_batch_end = lambda batch, logs=None: None
    with pytest.raises(dr.InputError, match="defines on_batch_end"):
        net.fit(XOR_X, XOR_Y[:, :1], callbacks=[slotted], **fit)


def test_the_hook_check_keeps_no_callback_class_alive():
    import gc
    import weakref

    def make():
        big = np.zeros(10)

        class Local(Callback):
            def on_epoch_end(self, record, state):
                return big.sum() > 1

        return Local

    cls = make()
    dr.Network([2, 1], seed=0).fit(XOR_X, XOR_Y[:, :1], epochs=1, verbose=0, callbacks=[cls()])
    ref = weakref.ref(cls)
    del cls
    gc.collect()
    assert ref() is None


def test_hooks_taking_more_than_they_need_are_fine():
    cb = _Generous()
    dr.Network([2, 1], seed=0).fit(XOR_X, XOR_Y[:, :1], epochs=2, verbose=0, callbacks=[cb])
    assert cb.ended


@pytest.mark.parametrize("optimizer", ["lbfgs", "lm"])
def test_the_full_batch_solvers_call_on_epoch_begin_before_each_iteration(optimizer):
    # (QA: lbfgs and lm never called it; the loop's epochs all do)
    class Count(Callback):
        def __init__(self):
            self.calls = []

        def on_epoch_begin(self, state):
            self.calls.append(("begin", state.epoch))

        def on_epoch_end(self, record, state):
            self.calls.append(("end", record.epoch))

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    count = Count()
    history = dr.Network([3, 4, 1], seed=0).fit(
        X, X @ [[1.0], [2.0], [0.5]], epochs=6, batch_size=None, optimizer=optimizer,
        verbose=0, callbacks=[count], warn_convergence=False,
    )  # fmt: skip
    n = len(history)
    assert n >= 2
    expected = [c for e in range(n) for c in (("begin", e), ("end", e + 1))]
    assert count.calls == expected


@pytest.mark.parametrize("optimizer", ["lbfgs", "irprop_plus"])
def test_a_callback_setting_a_rate_the_optimizer_has_none_of_is_told_so(optimizer):
    # (QA: "set the learning rate to 0.0", or a positive rate silently ignored)
    class Cut(Callback):
        def on_epoch_end(self, record, state):
            state.learning_rate = 0.1

    with pytest.raises(dr.InputError, match=f"optimizer '{optimizer}' has no learning rate"):
        dr.Network([2, 3, 1], seed=0).fit(
            XOR_X,
            XOR_Y[:, :1],
            epochs=3,
            batch_size=None,
            optimizer=optimizer,
            verbose=0,
            callbacks=[Cut()],
        )


@pytest.mark.parametrize(
    "mode,values", [("min", [0.5, 0.2, 0.3, 0.1]), ("max", [0.5, 0.7, 0.6, 0.9])]
)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_a_best_only_checkpoint_never_takes_a_non_finite_value_for_the_best(
    tmp_path, mode, values, bad
) -> None:
    # (a first NaN became the best, and no later, better epoch was ever saved; Keras starts
    # from +-inf, and EarlyStopping counts a non-finite value as no improvement)
    net = dr.Network([2, 3, 1], seed=0)
    state = cb.TrainingState(net, None, {}, 0.1, 0.1, 10, None, None, None, None, None, 0)
    path = tmp_path / "best-{epoch}.safetensors"
    saver = cb.ModelCheckpoint(path, monitor="val_loss", save_best_only=True, mode=mode)
    for epoch, value in enumerate([bad, *values[:2], bad, *values[2:]], start=1):
        saver.on_epoch_end(EpochRecord(epoch, 0.1, value, {}, {}, 0.1, 1.0, 0.0), state)
    better = {"min": min, "max": max}[mode]
    assert saver.best == better(values)
    kept = [2, 3, 6]  # (the non-finite epochs 1 and 4 never saved)
    assert saver.saved == [str(path).format(epoch=epoch) for epoch in kept]


def test_the_rules_asked_about_a_record_whose_value_was_stored_as_null_go_on():
    # (a checkpoint stores NaN as null: the record read back holds None, and the rules'
    # on_epoch_end, comparing it, raised where the uninterrupted run had compared NaN)
    net = dr.Network([2, 1], seed=0)
    state = cb.TrainingState(net, None, {}, 0.1, 0.1, 10, None, None, None, None, None, 3)
    record = EpochRecord(3, 0.5, None, {"roc_auc": None}, {}, 0.1, None, 0.0)
    assert cb.TargetError(0.9, monitor="roc_auc").resumed_stop(record, state) is None
    assert cb.GradientNormBelow(1.0).resumed_stop(record, state) is None
    finite = EpochRecord(3, 0.5, None, {"roc_auc": 0.95}, {}, 0.1, 0.5, 0.0)
    assert cb.TargetError(0.96, monitor="roc_auc").resumed_stop(finite, state)
    assert cb.GradientNormBelow(1.0).resumed_stop(finite, state)


def test_early_stoppings_scan_of_a_chunk_in_arrays_is_the_epoch_by_epoch_rule():
    # EarlyStopping tells the compiled online path where it acts in a chunk of losses; the
    # array form (no min_delta) must count as on_epoch_end does, NaN and infinities included
    import math

    from deltarule.callbacks import EarlyStopping

    def by_epoch(stopper, losses):
        best, last, wait = stopper.best, None, stopper.wait
        for i, value in enumerate(losses):
            better = best is None or (value < best if stopper.mode == "min" else value > best)
            if math.isfinite(value) and better:
                best, last, wait = value, i, 0
                continue
            wait += 1
            if best is not None and wait >= max(stopper.patience, 1):
                return best, last, wait, i
        return best, last, wait, None

    rng = np.random.default_rng(0)
    for trial in range(3000):
        n = int(rng.integers(0, 30))
        values = [1.0, 2.0, 3.0, 0.5, np.nan, np.inf, -np.inf, 1.5]
        losses = rng.choice(values, size=n) if trial % 2 else rng.normal(size=n)
        stopper = EarlyStopping("loss", patience=int(rng.integers(0, 6)),
                                mode=str(rng.choice(["min", "max", "auto"])))  # fmt: skip
        if rng.random() < 0.6:  # (a rule part-way through a run)
            stopper.best, stopper.wait = (
                float(rng.choice([1.0, 0.7, 2.5, -1.0])),
                int(rng.integers(0, 4)),
            )
        want = by_epoch(stopper, losses.tolist())
        assert stopper._scan(losses) == want, (losses, stopper.best, stopper.wait)


@pytest.mark.parametrize("name", ["base", "base_lr"])
def test_a_schedule_written_for_the_base_rate_is_warned_of(name):
    # (review: LearningRateScheduler now gives the current rate, as Keras; the documented
    # lambda epoch, base: base * 0.5 ** epoch of older versions would compound silently)
    import warnings

    from deltarule.callbacks import LearningRateScheduler

    written = eval(f"lambda epoch, {name}: {name} * 0.5 ** epoch")  # noqa: S307
    with pytest.warns(UserWarning, match=rf"names its rate '{name}'.*now compounds"):
        LearningRateScheduler(written)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LearningRateScheduler(lambda epoch, lr: lr * 0.5)  # (Keras's: no warning)
        LearningRateScheduler(lambda epoch: 0.1 * 0.5**epoch)
