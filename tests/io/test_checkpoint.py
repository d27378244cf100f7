"""Checkpoints from Python: save, load, resume bitwise-identically."""

from __future__ import annotations

import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

import deltarule as dr
from deltarule.callbacks import EarlyStopping, ReduceLROnPlateau, TimeLimit
from deltarule.exceptions import IncompatibleFormatError, InputError
from deltarule.io import save_model
from deltarule.io.checkpoint import Checkpoint, load_checkpoint, resume_trainer

FIXTURES = Path(__file__).parent / "fixtures"


def data():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 120)
    X = rng.normal(size=(120, 4)) + labels[:, None]
    return X, np.eye(3)[labels]


def make_trainer():
    net = dr.Network([4, 16, 3], output_activation="softmax", dropout=0.2, seed=1)
    return dr.Trainer(net, "adam", 0.01, 16, seed=5)


def run(trainer, epochs, callbacks, X, y):
    return trainer.fit(X, y, epochs=epochs, validation_split=0.25, callbacks=callbacks,
                       verbose=0, warn_convergence=False)  # fmt: skip


def test_resumed_run_equals_the_uninterrupted_one(tmp_path) -> None:
    X, y = data()
    straight = make_trainer()
    run(straight, 8, [EarlyStopping("val_loss", patience=50)], X, y)

    first = make_trainer()
    stop1 = EarlyStopping("val_loss", patience=50)
    run(first, 4, [stop1, Checkpoint(tmp_path)], X, y)
    saved = load_checkpoint(tmp_path)
    assert saved.epochs_done == 4 and len(saved.history) == 4

    second = make_trainer()  # fresh weights and streams, as after a crash
    stop2 = EarlyStopping("val_loss", patience=50)
    resume_trainer(second, saved, [stop2])
    history = run(second, 4, [stop2, Checkpoint(tmp_path, history=saved.history)], X, y)
    assert [r.epoch for r in history] == [5, 6, 7, 8]
    assert second.network.parameters.tobytes() == straight.network.parameters.tobytes()
    assert [r.epoch for r in load_checkpoint(tmp_path).history] == list(range(1, 9))


def test_a_checkpoint_listed_first_still_saves_the_epochs_early_stopping_state(tmp_path):
    # (listed before its EarlyStopping, it saved the previous epoch's state: a run resumed
    # from it trained on past the epoch where the uninterrupted one stopped)
    X, y = data()
    stop = EarlyStopping("val_loss", patience=50)
    run(make_trainer(), 5, [Checkpoint(tmp_path), stop], X, y)
    state, best = load_checkpoint(tmp_path).early_stopping
    assert (state["best"], state["best_epoch"], state["wait"]) == (
        stop.best, stop.best_epoch, stop.wait)  # fmt: skip
    assert best["best_parameters"].tobytes() == stop._best_params.tobytes()


def test_resume_refuses_another_network(tmp_path) -> None:
    X, y = data()
    trainer = make_trainer()
    run(trainer, 1, [Checkpoint(tmp_path)], X, y)
    other = dr.Trainer(dr.Network([4, 8, 3], output_activation="softmax"), "adam")
    with pytest.raises(InputError, match="another network"):
        resume_trainer(other, load_checkpoint(tmp_path))


@pytest.mark.parametrize(
    "make,named",
    [
        (lambda: dr.Trainer(dr.Network([4, 16, 3], output_activation="softmax", dropout=0.2,
                                       seed=1), "adamw", 0.01, 16, seed=5), "optimizer name"),
        (lambda: dr.Trainer(dr.Network([4, 16, 3], output_activation="softmax", dropout=0.2,
                                       seed=1), "adam", 0.01, 1, seed=5), "batch_size 16 (now 1)"),
        (lambda: dr.Trainer(dr.Network([4, 16, 3], output_activation="softmax", dropout=0.2,
                                       seed=1), "adam", 0.01, 16, seed=5, l2=0.1), "l2 0.0"),
        (lambda: dr.Trainer(dr.Network([4, 16, 3], output_activation="softmax", dropout=0.5,
                                       seed=1), "adam", 0.01, 16, seed=5), "network dropout"),
        (lambda: dr.Trainer(dr.Network([4, 16, 3], activation="tanh", output_activation="softmax",
                                       dropout=0.2, seed=1), "adam", 0.01, 16, seed=5),
         "network activations ['relu', 'softmax'] (now ['tanh', 'softmax'])"),
        (lambda: dr.Trainer(dr.Network([4, 16, 3], output_activation="softmax", dropout=0.2,
                                       seed=1), "adam", 0.01, 16, seed=5, epoch_loss="rows"),
         "epoch_loss None (now 'rows')"),  # (a setting written only when not the default)
    ],
)  # fmt: skip
def test_resume_refuses_other_settings(tmp_path, make, named) -> None:
    # (only the layer sizes and dtype were compared: each of these trained on silently)
    X, y = data()
    run(make_trainer(), 2, [Checkpoint(tmp_path)], X, y)
    saved = load_checkpoint(tmp_path)
    with pytest.raises(InputError, match="the checkpoint was written with other settings: "):
        resume_trainer(make(), saved)
    with pytest.raises(InputError) as info:
        resume_trainer(make(), saved)
    assert named in str(info.value)
    resume_trainer(make_trainer(), saved)  # the original settings resume


def test_a_plain_model_file_is_not_a_checkpoint(tmp_path) -> None:
    save_model(dr.Network([2, 2]), tmp_path / "checkpoint.safetensors")
    with pytest.raises(IncompatibleFormatError, match="not a training checkpoint"):
        load_checkpoint(tmp_path)
    with pytest.raises(InputError, match="holds no checkpoint"):
        load_checkpoint(tmp_path / "empty")


@pytest.mark.parametrize(
    "change,problem",
    [
        (lambda t: t["trainer"].pop("rng"), "the random streams' states are missing"),
        (lambda t: t["trainer"].update(rng=[]), "the random streams' states are missing"),
        (lambda t: t["trainer"].update(epochs_done=-5), "epochs_done is -5"),
        (lambda t: t["trainer"].update(optimizer_scalars={"t": "x"}), "the optimizer.s scalar"),
        (lambda t: t.update(trainer=[1]), "the trainer state is a list"),
        (lambda t: t["history"][0].update(zzz=1), "a history record does not fit"),
        (lambda t: t.update(early_stopping={"best": 1.0}), "the early-stopping state"),
        (lambda t: t.update(callbacks=[1]), "the callbacks' states are malformed"),
        (lambda t: t.update(callbacks={"EarlyStopping.0": {"state": {}}}), "the callbacks' st"),
    ],
)  # fmt: skip
def test_a_damaged_checkpoint_is_named_as_such(tmp_path, change, problem) -> None:
    # (raw messages before: error: 'rng', "'int' object is not iterable", an AttributeError
    # reported as a bug; rng = [] and epochs_done = -5 were taken)
    import json

    from deltarule.io.safetensors import read_safetensors, write_safetensors

    X, y = data()
    run(make_trainer(), 2, [Checkpoint(tmp_path)], X, y)
    path = tmp_path / "checkpoint.safetensors"
    tensors, metadata = read_safetensors(path)
    meta = json.loads(metadata["deltarule"])
    change(meta["training"])
    metadata["deltarule"] = json.dumps(meta)
    write_safetensors(path, tensors, metadata)  # (recomputes the checksum: not refused as damage)
    with pytest.raises(IncompatibleFormatError, match=f"is a damaged checkpoint: {problem}"):
        load_checkpoint(tmp_path)


def test_a_checkpoint_with_a_flipped_data_byte_is_refused(tmp_path) -> None:
    # The checkpoint is a model file, so it carries the model file's checksum (a flipped
    # bit in the weights or optimizer state resumed silently before).
    X, y = data()
    run(make_trainer(), 1, [Checkpoint(tmp_path)], X, y)
    path = tmp_path / "checkpoint.safetensors"
    content = bytearray(path.read_bytes())
    content[8 + int.from_bytes(content[:8], "little") + 5] ^= 0x01
    path.write_bytes(bytes(content))
    with pytest.raises(IncompatibleFormatError, match=f"{path} is damaged"):
        load_checkpoint(tmp_path)


def test_a_checkpoint_with_an_edited_header_is_refused(tmp_path) -> None:
    # The checksum covers the header: a plausible edit of the trainer state (epochs_done 2
    # -> 1 here, which resumed silently from the wrong epoch before) is refused as damage.
    X, y = data()
    run(make_trainer(), 2, [Checkpoint(tmp_path)], X, y)
    path = tmp_path / "checkpoint.safetensors"
    content = path.read_bytes()
    assert content.count(b'epochs_done\\": 2,') == 1
    path.write_bytes(content.replace(b'epochs_done\\": 2,', b'epochs_done\\": 1,'))
    with pytest.raises(IncompatibleFormatError, match=f"{path} is damaged: its header or"):
        load_checkpoint(tmp_path)


# ------------------------------------------------------- every callback's state
def stateful_callbacks():
    """Two plateaus (keys ReduceLROnPlateau.0 and .1) and an early stopping."""
    return [
        ReduceLROnPlateau("loss", factor=0.5, patience=1, min_delta=0.05, cooldown=1),
        EarlyStopping("val_loss", patience=50),
        ReduceLROnPlateau("val_loss", factor=0.5, patience=2, min_delta=0.05),
    ]


def plain_records(history):
    return [{k: v for k, v in r.as_dict().items() if k != "seconds"} for r in history]


@pytest.mark.parametrize("checkpoint_first", [False, True])
def test_a_resumed_run_continues_every_callbacks_state(tmp_path, checkpoint_first) -> None:
    # (only EarlyStopping's state was saved: a resumed ReduceLROnPlateau forgot its counters
    # and reductions, and the trainer went back to the rate it had before the fit)
    X, y = data()
    straight, callbacks = make_trainer(), stateful_callbacks()
    whole = run(straight, 10, callbacks, X, y)
    rates = [r.learning_rate for r in whole]
    assert rates[5] > rates[6] and len(set(rates)) > 1  # a reduction at the end of epoch 6

    first, before = make_trainer(), stateful_callbacks()
    listed = (
        [Checkpoint(tmp_path), *before] if checkpoint_first else [*before, Checkpoint(tmp_path)]
    )
    head = run(first, 6, listed, X, y)
    saved = load_checkpoint(tmp_path)
    assert list(saved.callbacks) == ["ReduceLROnPlateau.0", "EarlyStopping.0",
                                     "ReduceLROnPlateau.1"]  # fmt: skip
    assert saved.callbacks["ReduceLROnPlateau.0"].data == before[0].plateau.state_dict()
    assert saved.callbacks["ReduceLROnPlateau.0"].data["cooldown_left"] == 1
    assert saved.callbacks["ReduceLROnPlateau.1"].data["bad_epochs"] == 2

    second, after = make_trainer(), stateful_callbacks()  # as after a crash
    resume_trainer(second, saved, after)
    assert second.learning_rate == rates[6] < rates[0]  # the reduced rate, not the first one
    assert [cb.state_dict()[0] for cb in after] == [cb.state_dict()[0] for cb in before]
    tail = run(second, 4, [*after, Checkpoint(tmp_path, history=saved.history)], X, y)
    assert plain_records([*head, *tail]) == plain_records(whole)
    assert second.network.parameters.tobytes() == straight.network.parameters.tobytes()
    assert [cb.state_dict()[0] for cb in after] == [cb.state_dict()[0] for cb in callbacks]
    assert plain_records(load_checkpoint(tmp_path).history) == plain_records(whole)


def test_the_checkpoint_saves_the_rate_a_callback_set_during_the_fit(tmp_path) -> None:
    X, y = data()
    plateau = ReduceLROnPlateau("loss", factor=0.5, patience=0, min_delta=10.0)  # every epoch
    trainer = make_trainer()
    run(trainer, 3, [plateau, Checkpoint(tmp_path)], X, y)
    # (epoch 1 sets the best; epochs 2 and 3 each halve the rate)
    assert load_checkpoint(tmp_path).trainer_state["learning_rate"] == 0.01 * 0.5**2
    assert trainer.learning_rate == 0.01 * 0.5**2


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda cbs: cbs[:2], "ReduceLROnPlateau.1 is missing"),
        (lambda cbs: [*cbs, EarlyStopping("loss")], "EarlyStopping.1 was not in the run"),
        (lambda cbs: [cbs[2], cbs[1], cbs[0]],
         "ReduceLROnPlateau.0 cooldown 1 (now 0); ReduceLROnPlateau.0 monitor 'loss' (now "
         "'val_loss'); ReduceLROnPlateau.0 patience 1 (now 2)"),
        (lambda cbs: [ReduceLROnPlateau("loss", factor=0.1, patience=1, min_delta=0.05,
                                        cooldown=1), *cbs[1:]],
         "ReduceLROnPlateau.0 factor 0.5 (now 0.1)"),
        (lambda cbs: [cbs[0], EarlyStopping("val_loss", patience=5), cbs[2]],
         "EarlyStopping.0 patience 50 (now 5)"),
    ],
)  # fmt: skip
def test_resume_refuses_callbacks_that_do_not_match_the_saved_states(tmp_path, change, message):
    X, y = data()
    run(make_trainer(), 2, [*stateful_callbacks(), Checkpoint(tmp_path)], X, y)
    saved = load_checkpoint(tmp_path)
    trainer = make_trainer()
    weights = trainer.network.parameters.copy()
    with pytest.raises(InputError) as info:
        resume_trainer(trainer, saved, change(stateful_callbacks()))
    text = str(info.value)
    assert message in text and ("original callbacks" in text or "original settings" in text)
    assert trainer.network.parameters.tobytes() == weights.tobytes()  # nothing restored
    assert trainer.epochs_done == 0


def test_resume_without_stateful_callbacks_needs_none(tmp_path) -> None:
    X, y = data()
    run(make_trainer(), 2, [TimeLimit(100), Checkpoint(tmp_path)], X, y)
    saved = load_checkpoint(tmp_path)
    assert saved.callbacks == {} and saved.complete
    resume_trainer(make_trainer(), saved, [TimeLimit(100)])
    with pytest.raises(InputError, match="EarlyStopping.0 was not in the run that wrote it"):
        resume_trainer(make_trainer(), saved, EarlyStopping("loss"))


def old_format_checkpoint(folder, trainer, history, stopper) -> None:
    """What save_checkpoint wrote before every callback's state was saved."""
    tensors, meta = trainer.checkpoint_state()
    data_, best = stopper.state_dict()
    training = {"trainer": meta, "history": [asdict(r) for r in history],
                "early_stopping": data_}  # fmt: skip
    extra = {**tensors, **{f"early_stopping.{k}": v for k, v in best.items()}}
    save_model(trainer.network, folder / "checkpoint.safetensors", training=training,
               extra_tensors=extra)  # fmt: skip


def test_a_checkpoint_with_early_stopping_state_alone_still_resumes(tmp_path) -> None:
    X, y = data()
    straight = make_trainer()
    run(straight, 8, [EarlyStopping("val_loss", patience=50)], X, y)
    first, stop1 = make_trainer(), EarlyStopping("val_loss", patience=50)
    head = run(first, 4, [stop1], X, y)
    old_format_checkpoint(tmp_path, first, head, stop1)
    saved = load_checkpoint(tmp_path)
    assert not saved.complete and list(saved.callbacks) == ["EarlyStopping.0"]
    second, stop2 = make_trainer(), EarlyStopping("val_loss", patience=50)
    resume_trainer(second, saved, stop2)  # (one callback, as resume_trainer took it)
    run(second, 4, [stop2], X, y)
    assert second.network.parameters.tobytes() == straight.network.parameters.tobytes()
    # Other callbacks of the resumed run start afresh (the file cannot say whether the run
    # had them); the early stopping it saved must be there.
    plateau = ReduceLROnPlateau("loss")
    resume_trainer(make_trainer(), saved, [EarlyStopping("val_loss", patience=50), plateau])
    with pytest.raises(InputError, match="EarlyStopping.0 is missing"):
        resume_trainer(make_trainer(), saved, [plateau])


def test_the_fixture_checkpoint_of_the_previous_layout_resumes() -> None:
    # Written by deltarule before callbacks' states were saved: a 4-epoch run of
    # make_trainer() with [EarlyStopping("val_loss", patience=50), Checkpoint(...)].
    saved = load_checkpoint(FIXTURES / "checkpoint_early_stopping_only")
    assert saved.epochs_done == 4 and not saved.complete
    stop = EarlyStopping("val_loss", patience=50)
    trainer = resume_trainer(make_trainer(), saved, [stop])
    data_, tensors = saved.early_stopping
    assert (stop.best, stop.best_epoch, stop.wait) == (data_["best"], 4, 0)
    assert stop._best_params.tobytes() == tensors["best_parameters"].tobytes()
    X, y = data()
    history = run(trainer, 2, [stop], X, y)
    assert [r.epoch for r in history] == [5, 6]
    assert history[0].learning_rate == saved.trainer_state["learning_rate"]


def test_a_damaged_callback_state_is_named_at_resume(tmp_path) -> None:
    X, y = data()
    run(make_trainer(), 2, [*stateful_callbacks(), Checkpoint(tmp_path)], X, y)
    saved = load_checkpoint(tmp_path)
    saved.callbacks["ReduceLROnPlateau.1"].data.pop("reductions")
    with pytest.raises(IncompatibleFormatError, match="state of ReduceLROnPlateau.1 cannot be"):
        resume_trainer(make_trainer(), saved, stateful_callbacks())
    saved.callbacks["EarlyStopping.0"].data["wait"] = -1
    with pytest.raises(IncompatibleFormatError, match="state of EarlyStopping.0 cannot be"):
        resume_trainer(make_trainer(), saved, stateful_callbacks())


def test_a_trainer_with_scikit_learns_epoch_loss_resumes_only_as_one(tmp_path) -> None:
    # (epoch_loss was not saved: a default trainer took such a checkpoint silently)
    def rows_trainer() -> dr.Trainer:
        net = dr.Network([4, 16, 3], output_activation="softmax", dropout=0.2, seed=1)
        return dr.Trainer(net, "adam", 0.01, 16, seed=5, epoch_loss="rows")

    X, y = data()
    run(rows_trainer(), 1, [Checkpoint(tmp_path)], X, y)
    saved = load_checkpoint(tmp_path)
    with pytest.raises(InputError, match=r"epoch_loss 'rows' \(now None\)"):
        resume_trainer(make_trainer(), saved)
    assert resume_trainer(rows_trainer(), saved).epoch_loss == "rows"


def test_a_best_only_model_checkpoint_resumes_with_its_best_value(tmp_path) -> None:
    # (it forgot its best on resume: the first resumed epoch overwrote the best file even
    # when worse than the best before the interruption)
    from deltarule.callbacks import ModelCheckpoint

    X, y = data()
    whole = ModelCheckpoint(tmp_path / "whole-{epoch}.safetensors", save_best_only=True)
    run(make_trainer(), 8, [whole], X, y)
    first = ModelCheckpoint(tmp_path / "part-{epoch}.safetensors", save_best_only=True)
    run(make_trainer(), 4, [first, Checkpoint(tmp_path / "ck")], X, y)
    saved = load_checkpoint(tmp_path / "ck")
    assert saved.callbacks["ModelCheckpoint.0"].data == {"best": first.best}
    second = ModelCheckpoint(tmp_path / "part-{epoch}.safetensors", save_best_only=True)
    trainer = resume_trainer(make_trainer(), saved, [second])
    run(trainer, 4, [second, Checkpoint(tmp_path / "ck", history=saved.history)], X, y)
    assert second.best == whole.best
    epochs = [int(Path(p).stem.split("-")[1]) for p in whole.saved]
    assert [int(Path(p).stem.split("-")[1]) for p in first.saved + second.saved] == epochs
    with pytest.raises(InputError, match="ModelCheckpoint.0 is missing"):
        resume_trainer(make_trainer(), saved, [])


def test_a_random_stream_state_out_of_range_is_named_at_resume(tmp_path) -> None:
    # (numpy raises OverflowError for it: it escaped as a raw error before)
    X, y = data()
    run(make_trainer(), 1, [Checkpoint(tmp_path)], X, y)
    saved = load_checkpoint(tmp_path)
    saved.trainer_state["rng"][0]["state"]["state"] = -1
    trainer = make_trainer()
    before = trainer.network.parameters.copy()
    with pytest.raises(IncompatibleFormatError, match="trainer state cannot be restored"):
        resume_trainer(trainer, saved)
    assert trainer.network.parameters.tobytes() == before.tobytes()  # left as it was


@pytest.mark.parametrize(
    "damage, fragment",
    [
        (lambda saved: saved.tensors["optimizer.first_moment"].__setitem__(0, np.nan), "holds NaN"),
        (
            lambda saved: saved.trainer_state["optimizer_scalars"].update(first_moment=1.0),
            "scalar .first_moment.",
        ),
        (lambda saved: saved.trainer_state["optimizer_scalars"].update(step=np.inf), "not finite"),
    ],
    ids=["nan-moment", "scalar-over-an-array", "infinite-scalar"],
)
def test_a_damaged_optimizer_state_is_named_at_resume(tmp_path, damage, fragment) -> None:
    # (a NaN moment was restored as it was, and an unknown scalar key replaced Adam's
    # moment array with a number: the run failed later, or trained on from NaN)
    X, y = data()
    run(make_trainer(), 1, [Checkpoint(tmp_path)], X, y)
    saved = load_checkpoint(tmp_path)
    damage(saved)
    trainer = make_trainer()
    before = trainer.network.parameters.copy()
    with pytest.raises(IncompatibleFormatError, match=f"cannot be restored.*{fragment}"):
        resume_trainer(trainer, saved)
    assert trainer.network.parameters.tobytes() == before.tobytes()


def test_checkpoint_early_stopping_argument_is_deprecated(tmp_path) -> None:
    with pytest.warns(DeprecationWarning, match="no longer needed"):
        Checkpoint(tmp_path, early_stopping=EarlyStopping())


def test_a_checkpoint_keeps_the_losss_parameters(tmp_path) -> None:
    # A checkpoint is a model file: a huber(0.1) network resumes as huber(0.1), and a
    # trainer of another delta is refused as another network.
    from deltarule.losses import huber

    X, y = data()
    y = X[:, :1] * 10

    def trainer(delta):
        net = dr.Network([4, 8, 1], loss=huber(delta), seed=1, dtype="float64")
        return dr.Trainer(net, "adam", 0.01, 16, seed=5)

    straight = trainer(0.1)
    run(straight, 4, [], X, y)
    first = trainer(0.1)
    run(first, 2, [Checkpoint(tmp_path)], X, y)
    saved = load_checkpoint(tmp_path)
    assert saved.network.loss.config() == {"name": "huber", "delta": 0.1}
    with pytest.raises(
        InputError,
        match=r"network loss \{'name': 'huber', 'delta': 0.1\} "
        r"\(now \{'name': 'huber', 'delta': 0.5\}\)",
    ):
        resume_trainer(trainer(0.5), saved)  # fmt: skip
    second = resume_trainer(trainer(0.1), saved)
    run(second, 2, [], X, y)
    assert second.network.parameters.tobytes() == straight.network.parameters.tobytes()


def test_a_full_disk_says_the_previous_checkpoint_can_be_resumed(tmp_path, monkeypatch):
    import errno

    import deltarule.io.checkpoint as checkpoint

    real, calls = checkpoint.write_model, []

    def fill_up(*args, **kwargs):  # the second checkpoint finds the disk full
        calls.append(1)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "cannot save to 'x': No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(checkpoint, "write_model", fill_up)
    X, y = data()
    with pytest.raises(OSError, match="No space left") as failed:
        run(make_trainer(), 4, [Checkpoint(tmp_path)], X, y)
    assert failed.value.errno == errno.ENOSPC
    assert f"The checkpoint of epoch 1 in {tmp_path} is intact: resume from it once the disk " \
        "has room" in str(failed.value)  # fmt: skip
    assert f"deltarule train --resume {tmp_path}" in str(failed.value)
    assert load_checkpoint(tmp_path).epochs_done == 1


def _diverging(epoch: int, lr: float) -> float:
    """Four quiet epochs, then a rate ten times larger each epoch (``lr`` is the current
    rate): the run diverges at its ninth, its lowest loss long before (the fifth's start,
    in the fourth checkpoint)."""
    return lr if epoch < 4 else lr * 10


def _momentum_trainer() -> dr.Trainer:
    net = dr.Network([4, 16, 3], output_activation="softmax", seed=1)
    return dr.Trainer(net, "momentum", 0.01, 16, seed=5)


def _run_diverging(trainer, epochs, callbacks, X, y):
    import warnings

    from deltarule.callbacks import LearningRateScheduler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return trainer.fit(X, y, epochs=epochs, verbose=0, warn_convergence=False,
                           callbacks=[LearningRateScheduler(_diverging), *callbacks])  # fmt: skip


def test_a_resumed_run_that_diverges_falls_back_as_the_uninterrupted_one(tmp_path) -> None:
    # (the start of the lowest-loss epoch was not saved: resumed after epoch 5, the run
    # fell back to the start of epoch 6 where the uninterrupted one went back to epoch 5's)
    X, y = data()
    straight = _momentum_trainer()
    history = _run_diverging(straight, 12, [], X, y)
    assert "diverged at epoch" in history.stop_reason  # (the 9th here)
    assert "the weights epoch 5 started from were restored" in history.stop_reason

    _run_diverging(_momentum_trainer(), 5, [Checkpoint(tmp_path)], X, y)
    saved = load_checkpoint(tmp_path)
    assert saved.trainer_state["best_start"]["epoch"] == 5
    assert {"best_start.params", "best_start.optimizer.velocity"} <= set(saved.tensors)
    resumed = resume_trainer(_momentum_trainer(), saved)
    again = _run_diverging(resumed, 7, [], X, y)
    assert again.stop_reason == history.stop_reason
    assert resumed.network.parameters.tobytes() == straight.network.parameters.tobytes()
    assert resumed.optimizer_state["velocity"].tobytes() == (
        straight.optimizer_state["velocity"].tobytes()
    )


@pytest.mark.parametrize(
    "damage, fragment",
    [
        (lambda saved: saved.tensors["best_start.params"].__setitem__(0, np.nan), "NaN"),
        (lambda saved: saved.tensors.pop("best_start.optimizer.velocity"), "has the tensors"),
        (lambda saved: saved.trainer_state["best_start"].update(epoch=99), "malformed"),
        (lambda saved: saved.trainer_state["best_start"].update(loss=None), "malformed"),
        (lambda saved: saved.trainer_state["best_start"].update(extra=1), "malformed"),
        (
            lambda saved: saved.tensors.__setitem__(
                "best_start.optimizer.bogus", saved.tensors["best_start.params"]
            ),
            "has the tensors",
        ),
        (
            lambda saved: saved.trainer_state["best_start"]["optimizer_scalars"].clear(),
            "optimizer scalars",
        ),
        (
            lambda saved: saved.trainer_state["best_start"]["optimizer_scalars"].update(bogus=1),
            "optimizer scalars",
        ),
        (
            lambda saved: saved.trainer_state["best_start"]["optimizer_scalars"].update(
                step=10**9
            ),
            "later than the run",
        ),
        (lambda saved: saved.trainer_state.pop("best_start"), "but no entry"),
    ],
    ids=[
        "nan-weights", "missing-velocity", "epoch-not-done", "no-loss", "unknown-key",
        "unknown-tensor", "no-scalars", "unknown-scalar", "step-later", "tensors-no-entry",
    ],
)  # fmt: skip
def test_a_damaged_best_epoch_start_is_named_at_resume(tmp_path, damage, fragment) -> None:
    X, y = data()
    _run_diverging(_momentum_trainer(), 3, [Checkpoint(tmp_path)], X, y)
    saved = load_checkpoint(tmp_path)
    damage(saved)
    trainer = _momentum_trainer()
    before = trainer.network.parameters.copy()
    with pytest.raises(
        IncompatibleFormatError, match=f"cannot be restored.*best epoch.*{fragment}"
    ):
        resume_trainer(trainer, saved)
    assert trainer.network.parameters.tobytes() == before.tobytes()


def test_a_checkpoint_whose_running_squares_overflowed_resumes(tmp_path) -> None:
    # (Adam's second moment overflowed to +inf while the loss and weights stayed finite;
    # the checkpoint written then was refused as damaged, and the run could not go on)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X @ np.array([1.0, -2, 0.5, 3]))[:, None] + rng.normal(size=(120, 1)) * 0.1

    def make() -> dr.Trainer:
        net = dr.Network([4, 8, 1], output_activation="identity", loss="mse", seed=1)
        return dr.Trainer(net, "adamw", 0.01, 16, seed=5)

    straight = make()
    history = _run_diverging(straight, 12, [], X, y)
    for epochs in range(6, 12):  # the epoch whose checkpoint holds +inf (the 9th here)
        _run_diverging(make(), epochs, [Checkpoint(tmp_path / str(epochs))], X, y)
        saved = load_checkpoint(tmp_path / str(epochs))
        if np.isposinf(saved.tensors["optimizer.second_moment"]).any():
            break
    else:
        pytest.fail("no checkpoint of the run held an overflowed second moment")
    resumed = resume_trainer(make(), saved)
    again = _run_diverging(resumed, 12 - epochs, [], X, y)
    assert again.stop_reason == history.stop_reason
    assert resumed.network.parameters.tobytes() == straight.network.parameters.tobytes()


# ------------------------------------------------- the callbacks fit makes of its options
def run_with_options(trainer, epochs, callbacks, X, y, **options):
    plateau = dr.schedules.ReduceOnPlateau(factor=0.5, patience=1, min_delta=0.05)
    options = {"early_stopping": True, "patience": 3, "schedule": plateau, **options}
    return trainer.fit(X, y, epochs=epochs, validation_split=0.25, callbacks=callbacks,
                       verbose=0, warn_convergence=False, **options)  # fmt: skip


def test_a_run_with_fits_own_stopping_and_plateau_resumes_bitwise(tmp_path) -> None:
    """fit(early_stopping=True, schedule="plateau") makes its own EarlyStopping and
    ReduceLROnPlateau, which resume_trainer could not be given: their states wait for the
    resumed fit, which makes them again (found by a reproducibility QA pass); a callback of
    the user's own of the same class counts its place after them."""
    X, y = data()
    straight = make_trainer()
    whole = run_with_options(straight, 10, [EarlyStopping("loss", patience=50)], X, y)
    assert len({r.learning_rate for r in whole}) > 1  # the plateau lowered the rate

    first = make_trainer()
    head = run_with_options(first, 6, [EarlyStopping("loss", patience=50),
                                       Checkpoint(tmp_path)], X, y)  # fmt: skip
    saved = load_checkpoint(tmp_path)
    assert {k: s.option for k, s in saved.callbacks.items()} == {
        "ReduceLROnPlateau.0": True,
        "EarlyStopping.0": True,
        "EarlyStopping.1": False,
    }

    second, mine = make_trainer(), EarlyStopping("loss", patience=50)
    resume_trainer(second, saved, [mine])  # the user's own callbacks alone
    assert mine.state_dict()[0] == saved.callbacks["EarlyStopping.1"].data
    tail = run_with_options(second, 4, [mine, Checkpoint(tmp_path, history=saved.history)],
                            X, y)  # fmt: skip
    assert plain_records([*head, *tail]) == plain_records(whole)
    assert second.network.parameters.tobytes() == straight.network.parameters.tobytes()


@pytest.mark.parametrize(
    "options,message",
    [
        ({"early_stopping": False, "patience": 10}, "EarlyStopping.0 is missing"),
        ({"schedule": None}, "ReduceLROnPlateau.0 is missing"),
        ({"patience": 4}, "EarlyStopping.0 patience 3 (now 4)"),
    ],
)
def test_a_resumed_fit_without_the_runs_options_is_refused(tmp_path, options, message) -> None:
    X, y = data()
    run_with_options(make_trainer(), 3, [Checkpoint(tmp_path)], X, y)
    trainer = resume_trainer(make_trainer(), load_checkpoint(tmp_path))
    with pytest.raises(InputError) as info:
        run_with_options(trainer, 2, [], X, y, **options)
    assert message in str(info.value)
    assert trainer.epochs_done == 3  # nothing trained
    run_with_options(trainer, 2, [], X, y)  # the run's options: it resumes
    assert trainer.epochs_done == 5


def test_a_fit_option_not_in_the_resumed_run_is_refused(tmp_path) -> None:
    X, y = data()
    run(make_trainer(), 2, [Checkpoint(tmp_path)], X, y)
    trainer = resume_trainer(make_trainer(), load_checkpoint(tmp_path))
    with pytest.raises(InputError, match="EarlyStopping.0 was not in the run that wrote it"):
        run_with_options(trainer, 2, [], X, y, schedule=None)


def test_a_resumed_fits_end_of_run_advice_reads_the_whole_run(tmp_path) -> None:
    """The checks at the end of a resumed fit (loss above its first epoch's? still falling?)
    read the whole run's history, as the uninterrupted run's do: on its last 8 epochs
    alone, a noisy converged loss ended above where they began and the run was told its
    steps overshoot (found by a reproducibility QA pass, through deltarule train --resume)."""
    X, y = data()

    def trainer():
        net = dr.Network([4, 16, 3], output_activation="softmax", dropout=0.3, seed=1)
        return dr.Trainer(net, "sgd", 0.3, 8, seed=5)

    def fit(trainer, epochs, callbacks=()):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = trainer.fit(X, y, epochs=epochs, callbacks=callbacks, verbose=0)
        return history, [str(w.message) for w in caught]

    straight = trainer()
    assert fit(straight, 80)[1] == []
    fit(trainer(), 72, [Checkpoint(tmp_path)])
    resumed = resume_trainer(trainer(), load_checkpoint(tmp_path))
    tail, said = fit(resumed, 8)
    assert said == []
    assert tail.records[-1].loss > tail.records[0].loss * 1.01  # (what the tail alone shows)
    assert resumed.network.parameters.tobytes() == straight.network.parameters.tobytes()


def test_a_resumed_fit_refused_for_its_data_keeps_the_checkpoints_states(tmp_path) -> None:
    """The states of fit's own callbacks and the history wait for the run that starts: a
    resumed fit refused for its data took them, and the retry started its plateau and early
    stopping afresh (found by a review)."""
    X, y = data()
    straight = make_trainer()
    whole = run_with_options(straight, 12, [], X, y, restore_best_weights=False)
    run_with_options(make_trainer(), 5, [Checkpoint(tmp_path)], X, y, restore_best_weights=False)
    trainer = resume_trainer(make_trainer(), load_checkpoint(tmp_path))
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        run_with_options(trainer, 7, [], bad, y, restore_best_weights=False)
    tail = run_with_options(trainer, 7, [], X, y, restore_best_weights=False)
    assert [r.learning_rate for r in tail] == [r.learning_rate for r in whole][5:]
    assert trainer.network.parameters.tobytes() == straight.network.parameters.tobytes()


def test_a_resumed_online_run_keeps_its_epochs_as_columns(tmp_path) -> None:
    """The end-of-run checks of a resumed run read the whole history without building a
    record for every epoch a compiled online run keeps as columns (a million epochs took
    +460 MB; found by a review)."""
    from deltarule.textbook import tutorial_network

    net, X, y = tutorial_network()
    trainer = dr.Trainer(net, "sgd", 0.5, 1, seed=0, metrics=[])
    trainer.fit(X, y, epochs=3, verbose=0, callbacks=[Checkpoint(tmp_path)])
    resumed = resume_trainer(
        dr.Trainer(tutorial_network()[0], "sgd", 0.5, 1, seed=0, metrics=[]),
        load_checkpoint(tmp_path),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = resumed.fit(X, y, epochs=5000, verbose=0)
    assert len(history) == 5000
    assert not history._records or len(history._records) < 5000  # (columns, not records)


def test_a_checkpoint_from_before_the_option_marks_says_it_cannot_give_them_back() -> None:
    """A checkpoint written before fit's own callbacks were marked holds their states as
    the user's: resuming it without them says the run must start again (found by a review:
    it asked for callbacks no one could pass)."""
    from deltarule.io import _callback_states

    old = {"EarlyStopping.0": _callback_states.CallbackState(None, {}, {}, None)}
    with pytest.raises(InputError, match="EarlyStopping.0 is missing.*start that run again"):
        _callback_states.match(old, True, [])
    new = {"EarlyStopping.0": _callback_states.CallbackState(None, {}, {}, False)}
    with pytest.raises(InputError) as info:
        _callback_states.match(new, True, [])
    assert "start that run again" not in str(info.value)


@pytest.mark.parametrize(
    "options",
    [
        {"target_error": 0.45},
        {"stop_when_all_correct": True},
        {"min_gradient_norm": 0.25},
        {"early_stopping": True, "patience": 1},
    ],
    ids=["target error", "all correct", "gradient norm", "early stopping"],
)
def test_a_run_resumed_from_the_epoch_a_rule_stopped_it_at_ends_there(tmp_path, options):
    # (its checkpoint is also that of a run killed after the stop, before its end: the
    # resumed fit trained one more epoch, to other weights, before its rules were asked)
    X, y = data()
    if "stop_when_all_correct" in options:  # (classes far apart)
        X = X + 3 * y.argmax(axis=1)[:, None]
    straight = make_trainer()
    whole = straight.fit(X, y, epochs=200, callbacks=[Checkpoint(tmp_path)], verbose=0,
                         warn_convergence=False, **options)  # fmt: skip
    assert len(whole) < 200 and not whole.stop_reason.startswith("max epochs")
    saved = load_checkpoint(tmp_path)
    assert saved.epochs_done == len(whole)

    again = make_trainer()
    resume_trainer(again, saved)
    resumed = Checkpoint(tmp_path, history=saved.history)
    rest = again.fit(X, y, epochs=200 - saved.epochs_done, callbacks=[resumed], verbose=0,
                     warn_convergence=False, **options)  # fmt: skip
    assert len(rest) == 0 and rest.stop_reason == whole.stop_reason
    assert rest.best_epoch == whole.best_epoch
    assert again.network.parameters.tobytes() == straight.network.parameters.tobytes()
    assert again.epochs_done == straight.epochs_done


class _StopsOnResume(dr.callbacks.Callback):
    def __init__(self, answer) -> None:
        self.answer = answer

    def resumed_stop(self, record, state):
        return self.answer


@pytest.mark.parametrize(
    "answer,outcome",
    [
        (None, 3),
        ("", 3),
        (False, 3),
        (True, "stopped by _StopsOnResume (its resumed_stop returned True)"),
        ("done before", "done before"),
    ],
)
def test_a_users_callback_may_end_a_resumed_run_at_once(tmp_path, answer, outcome) -> None:
    X, y = data()
    first = make_trainer()
    run(first, 2, [Checkpoint(tmp_path)], X, y)
    second = make_trainer()
    resume_trainer(second, load_checkpoint(tmp_path))
    history = run(second, 3, [_StopsOnResume(answer)], X, y)
    if isinstance(outcome, int):
        assert len(history) == outcome
    else:
        assert len(history) == 0 and history.stop_reason == outcome


def test_a_resumed_stop_answer_of_another_kind_is_named(tmp_path) -> None:
    X, y = data()
    run(make_trainer(), 2, [Checkpoint(tmp_path)], X, y)
    second = make_trainer()
    resume_trainer(second, load_checkpoint(tmp_path))
    with pytest.raises(InputError, match=r"_StopsOnResume\.resumed_stop returned int 1"):
        run(second, 3, [_StopsOnResume(1)], X, y)


def test_a_fresh_run_does_not_ask_resumed_stop(tmp_path) -> None:
    X, y = data()
    history = run(make_trainer(), 2, [_StopsOnResume("never asked")], X, y)
    assert len(history) == 2 and history.stop_reason.startswith("max epochs")


def test_each_epochs_record_is_encoded_once_across_the_runs_checkpoints(tmp_path, monkeypatch):
    # (every save encoded the whole history: a run's saves cost the square of its epochs)
    import deltarule.io.checkpoint as checkpoint

    encoded = []
    real = checkpoint.encoded_json

    def counted(value, where):
        encoded.append(value["epoch"])
        return real(value, where)

    monkeypatch.setattr(checkpoint, "encoded_json", counted)
    X, y = data()
    trainer = make_trainer()
    history = run(trainer, 6, [Checkpoint(tmp_path)], X, y)
    assert encoded == [1, 2, 3, 4, 5, 6]
    saved = load_checkpoint(tmp_path)
    assert [asdict(r) for r in saved.history] == [asdict(r) for r in history]


def test_a_checkpoint_given_to_another_run_saves_that_runs_history(tmp_path) -> None:
    X, y = data()
    saver = Checkpoint(tmp_path)
    run(make_trainer(), 5, [saver], X, y)
    other = dr.Trainer(dr.Network([4, 5, 3], output_activation="softmax", seed=2), "sgd", 0.1, 8)
    history = run(other, 3, [saver], X, y)
    saved = load_checkpoint(tmp_path)
    assert [asdict(r) for r in saved.history] == [asdict(r) for r in history]
    assert saved.network.layer_sizes == [4, 5, 3]


def test_a_resumed_run_whose_epochs_are_all_done_ends_with_a_fit_of_0_epochs(tmp_path):
    # (killed after the last epoch's checkpoint: fit refused epochs=0, and 1 trained on)
    X, y = data()
    straight = make_trainer()
    whole = run(straight, 5, [EarlyStopping("val_loss", patience=50), Checkpoint(tmp_path)], X, y)
    again, stopper = make_trainer(), EarlyStopping("val_loss", patience=50)
    resume_trainer(again, load_checkpoint(tmp_path), [stopper])
    rest = run(again, 0, [stopper], X, y)
    assert len(rest) == 0 and rest.stop_reason == whole.stop_reason == "max epochs (5) reached"
    assert rest.best_epoch == whole.best_epoch  # the best epoch's weights restored, as then
    assert again.network.parameters.tobytes() == straight.network.parameters.tobytes()
    with pytest.raises(InputError, match=r"received 0 \(0 only ends a run resumed"):
        run(make_trainer(), 0, [], X, y)  # (a run not resumed: nothing to end)


def test_a_nan_in_the_history_reads_back_as_nan_not_none(tmp_path) -> None:
    # JSON stores NaN as null: R² of one validation row is NaN in the live run, and must be
    # NaN in the checkpoint's history too (it read None), so the resumed history is the same
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9, 2))
    y = X[:, :1]
    trainer = dr.Trainer(dr.Network([2, 3, 1], seed=0), "adam", seed=0, metrics=["r2"])
    live = trainer.fit(X, y, epochs=3, verbose=0, validation_data=(X[:1], y[:1]),
                       warn_convergence=False, callbacks=[Checkpoint(tmp_path)])  # fmt: skip
    assert np.isnan(live[-1].val_metrics["r2"])
    saved = load_checkpoint(tmp_path).history
    for got, want in zip(saved, live):
        assert np.isnan(got.val_metrics["r2"]) and got.metrics == want.metrics
        assert got.val_loss == want.val_loss and got.loss == want.loss


def test_an_infinity_in_the_history_reads_back_as_itself(tmp_path) -> None:
    # (review: stored as JSON null, an infinite metric came back as NaN)
    import math

    from deltarule.cli import main
    from deltarule.metrics import Metric

    signs = iter([math.inf, -math.inf] * 10)
    odd = Metric("odd", lambda o, t, w=None: next(signs), False, "regression")
    X = np.random.default_rng(0).normal(size=(6, 2))
    trainer = dr.Trainer(dr.Network([2, 3, 1], seed=0), "sgd", 0.1, seed=0, metrics=[odd])
    live = trainer.fit(X, X[:, :1], epochs=4, verbose=0, warn_convergence=False,
                       callbacks=[Checkpoint(tmp_path)])  # fmt: skip
    saved = load_checkpoint(tmp_path).history
    assert [r.metrics["odd"] for r in saved] == [r.metrics["odd"] for r in live]
    assert {r.metrics["odd"] for r in saved} == {math.inf, -math.inf}
    csv = tmp_path / "h.csv"
    main(["inspect", str(tmp_path / "checkpoint.safetensors"), "--format", "csv", "--out",
          str(csv)])  # fmt: skip
    assert [line.split(",")[-1] for line in csv.read_text().splitlines()[1:3]] == ["inf", "-inf"]


def test_a_checkpoint_whose_header_passes_a_model_files_limit_still_resumes(tmp_path) -> None:
    # ~380,000 epochs of history pass a model file's 100 MB header limit: such a checkpoint
    # was written and then refused at --resume, with no way to raise the limit. Here 101
    # records of a 1 MB metric name stand in for them (4 s, 1 GB at most).
    from deltarule.history import EpochRecord, History
    from deltarule.io.checkpoint import save_checkpoint
    from deltarule.io.safetensors import DEFAULT_MAX_HEADER_BYTES

    trainer = dr.Trainer(dr.Network([2, 1], seed=0), "sgd", seed=0)
    trainer.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0, warn_convergence=False)
    name = "m" * 1_000_000
    records = [EpochRecord(i + 1, 0.5, None, {name: 0.1}, {}, 0.01, 0.1, 0.001)
               for i in range(101)]  # fmt: skip
    path = save_checkpoint(tmp_path, trainer, History(records))
    assert path.stat().st_size > DEFAULT_MAX_HEADER_BYTES
    with pytest.raises(IncompatibleFormatError, match="max_header_bytes"):
        dr.io.load_model(path)  # (a model file's limit)
    saved = load_checkpoint(tmp_path)
    assert len(saved.history) == 101 and saved.history[-1].metrics[name] == 0.1
    from deltarule.cli import main  # (the command its folder's message points to reads it)

    copy = tmp_path / "backup-epoch101.safetensors"  # (a copy under another name too)
    copy.write_bytes(path.read_bytes())
    for name in (path, copy):
        assert main(["inspect", str(name), "--out", str(tmp_path / "seen.txt"), "--quiet"]) == 0
        assert "deltarule.model format version" in (tmp_path / "seen.txt").read_text()


def test_an_older_checkpoints_unused_best_weights_do_not_block_its_resume(tmp_path, monkeypatch):
    # Before, EarlyStopping(restore_best_weights=False) saved its unfilled buffer as
    # best_parameters; one that held a NaN made the checkpoint "damaged" at resume
    rule = EarlyStopping("loss", patience=50, restore_best_weights=False)
    real = EarlyStopping.state_dict

    def as_before(self):
        data, tensors = real(self)
        return data, {"best_parameters": np.full(self._best_params.shape, np.nan)}

    monkeypatch.setattr(EarlyStopping, "state_dict", as_before)
    X, y = data()
    run(make_trainer(), 3, [rule, Checkpoint(tmp_path)], X, y)
    monkeypatch.setattr(EarlyStopping, "state_dict", real)
    saved = load_checkpoint(tmp_path)
    (state,) = saved.callbacks.values()
    assert "best_parameters" not in state.tensors
    again = EarlyStopping("loss", patience=50, restore_best_weights=False)
    trainer = make_trainer()
    resume_trainer(trainer, saved, [again])
    assert np.isfinite(trainer.network.parameters).all()


def test_early_stopping_puts_back_no_weights_it_did_not_keep() -> None:
    # (review: restore_best_weights switched on after a run that kept none wrote the unfilled
    # buffer into the network)
    X, y = data()
    rule = EarlyStopping("loss", patience=50, restore_best_weights=False)
    trainer = make_trainer()
    history = run(trainer, 3, [rule], X, y)
    before = trainer.network.parameters.copy()
    rule.restore_best_weights = True
    rule.restore(trainer.network, history)
    np.testing.assert_array_equal(trainer.network.parameters, before)
    assert history.best_epoch is None


@pytest.mark.parametrize("rising", [False, True], ids=["a loss-like metric", "a score"])
def test_a_checkpoint_that_recorded_a_resolved_mode_resumes_with_mode_auto(tmp_path, rising):
    # (review: checkpoints written before mode='auto' read a custom metric's direction
    # recorded the mode it resolved, 'min' for every custom metric; resumed with the same
    # callbacks, now 'auto', they were refused: "mode 'min' (now 'auto')")
    from deltarule.metrics import Metric

    def spread(output, target, sample_weight=None):
        return float(np.max(np.abs(output - target)))

    metric = Metric("spread", spread, rising, "regression")
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = X[:, :1] * 2
    fit_args = dict(verbose=0, validation_data=(X[:10], y[:10]), warn_convergence=False)

    def callbacks(mode):
        return [EarlyStopping("val_spread", patience=3, mode=mode),
                ReduceLROnPlateau("val_spread", patience=1, mode=mode)]  # fmt: skip

    def trainer():
        return dr.Trainer(dr.Network([3, 4, 1], seed=0), "adam", seed=0, metrics=[metric])

    trainer().fit(
        X, y, epochs=3, callbacks=[*callbacks("min"), Checkpoint(tmp_path)], **fit_args
    )  # fmt: skip  (what such a checkpoint recorded: 'min')
    for mode in ("auto", "min"):
        again, cbs = trainer(), callbacks(mode)
        resume_trainer(again, load_checkpoint(tmp_path), cbs)
        if rising and mode == "auto":  # its run read a score as a loss: said, with the fix
            with pytest.raises(InputError, match=r"as 'min' .*Pass mode='min' to resume"):
                again.fit(X, y, epochs=2, callbacks=cbs, **fit_args)
            continue
        history = again.fit(X, y, epochs=2, callbacks=cbs, **fit_args)
        assert len(history) >= 1 and cbs[0].mode == "min"


# ------------------------------------------------------- the data a checkpoint was made on
def _changed_value(X, y):
    X = X.copy()
    X[7, 2] += 1.0
    return (X, y), {}


@pytest.mark.parametrize(
    "change,named",
    [
        (lambda X, y: ((X[:100], y[:100]), {}),
         "training data: 90 rows, hash "),
        (_changed_value, "the same number of rows, 30, but other values (hash "),
        (lambda X, y: ((X, y), {"validation_split": 0.2}), "validation_split 0.25 (now 0.2)"),
        (lambda X, y: ((X, y), {"validation_split": 0.0, "validation_data": (X[:30], y[:30])}),
         "validation_split 0.25 (now 0.0)"),
        (lambda X, y: ((X, y), {"sample_weight": np.linspace(0.5, 1.5, len(X))}),
         "training sample weights: none (now given)"),
        (lambda X, y: ((X, y), {"class_weight": "balanced"}),
         "training sample weights: none (now given)"),
    ],
    ids=["other rows", "a changed value", "another split", "validation data", "weights",
         "class weights"],
)  # fmt: skip
def test_a_resumed_fit_on_other_data_is_refused_naming_what_differs(tmp_path, change, named):
    """A checkpoint records the data its fit trained on; a resumed fit on other rows, other
    values, another validation split or other weights trained on silently, a run that was
    neither (found by QA)."""
    X, y = data()
    straight = make_trainer()
    run(straight, 6, [], X, y)
    run(make_trainer(), 3, [Checkpoint(tmp_path)], X, y)
    trainer = resume_trainer(make_trainer(), load_checkpoint(tmp_path))
    (X2, y2), options = change(X, y)
    with pytest.raises(InputError) as info:
        trainer.fit(X2, y2, epochs=3, verbose=0, warn_convergence=False,
                    **{"validation_split": 0.25, **options})  # fmt: skip
    message = str(info.value)
    assert message.startswith(f"the checkpoint in {tmp_path} was made on other data than this "
                              "fit's: ")  # fmt: skip
    assert named in message and "fit on the run's data" in message
    assert f"a new Checkpoint folder (or {tmp_path} deleted)" in message
    assert trainer.epochs_done == 3  # nothing trained
    run(trainer, 3, [], X, y)  # the run's own data: it resumes, as the uninterrupted run
    assert trainer.network.parameters.tobytes() == straight.network.parameters.tobytes()


@pytest.mark.parametrize(
    "options",
    [{"sample_weight": np.ones(120)}, {"class_weight": {0: 1.0, 1: 1.0, 2: 1.0}}],
    ids=["weights of 1", "class weights of 1"],
)
def test_weights_of_one_resume_as_none(tmp_path, options) -> None:
    # (they train as no weights do: refused for a day as "sample weights: none (now given)")
    X, y = data()
    straight = make_trainer()
    run(straight, 6, [], X, y)
    run(make_trainer(), 3, [Checkpoint(tmp_path)], X, y)
    trainer = resume_trainer(make_trainer(), load_checkpoint(tmp_path))
    trainer.fit(X, y, epochs=3, validation_split=0.25, verbose=0, warn_convergence=False,
                **options)  # fmt: skip
    assert trainer.network.parameters.tobytes() == straight.network.parameters.tobytes()


def test_a_checkpoint_records_the_data_its_fit_trained_on(tmp_path) -> None:
    X, y = data()
    run(make_trainer(), 2, [Checkpoint(tmp_path)], X, y)
    saved = load_checkpoint(tmp_path)
    assert saved.folder == tmp_path
    provenance = saved.provenance
    assert provenance is not None
    assert (provenance["validation_split"], provenance["seed"]) == (0.25, 5)
    training, validation = provenance["training"], provenance["validation"]
    assert (training["rows"], training["columns"], training["dtype"]) == (90, [4, 3], "float32")
    assert (validation["rows"], training["weighted"]) == (30, False)
    assert len(training["blake2b"]) == 32 and training["blake2b"] != validation["blake2b"]


@pytest.mark.parametrize("seed", [6, None])
def test_a_trainer_of_another_seed_resumes_the_run_all_the_same(tmp_path, seed) -> None:
    # (the random generators' states, the split's included, come from the checkpoint: the
    # seed a resumed trainer is given changes nothing, so it is not refused)
    X, y = data()
    straight = make_trainer()
    run(straight, 4, [], X, y)
    run(make_trainer(), 2, [Checkpoint(tmp_path)], X, y)
    other = dr.Trainer(dr.Network([4, 16, 3], output_activation="softmax", dropout=0.2,
                                  seed=1), "adam", 0.01, 16, seed=seed)  # fmt: skip
    resumed = resume_trainer(other, load_checkpoint(tmp_path))
    run(resumed, 2, [], X, y)
    assert resumed.network.parameters.tobytes() == straight.network.parameters.tobytes()


def test_checkpoints_that_recorded_no_data_resume_on_any_data_unchecked(tmp_path) -> None:
    # (written before the data was recorded: the fixture; or by save_checkpoint between fits)
    from deltarule.io.checkpoint import save_checkpoint

    X, y = data()
    old = load_checkpoint(FIXTURES / "checkpoint_early_stopping_only")
    assert old.provenance is None
    stop = EarlyStopping("val_loss", patience=50)
    other = make_trainer()  # (another seed too: the checkpoint does not say the run's)
    other._seed = 6
    trainer = resume_trainer(other, old, [stop])
    assert [r.epoch for r in run(trainer, 1, [stop], X[:100], y[:100])] == [5]
    trainer = make_trainer()
    history = run(trainer, 2, [], X, y)
    save_checkpoint(tmp_path, trainer, history)
    assert load_checkpoint(tmp_path).provenance is None
    resumed = resume_trainer(make_trainer(), load_checkpoint(tmp_path))
    assert [r.epoch for r in run(resumed, 1, [], X[:100], y[:100])] == [3]


def test_a_run_fingerprints_its_data_once_not_at_every_save(tmp_path, monkeypatch) -> None:
    """Hashing 60,000 x 784 float32 rows takes ~0.15 s: once per fit, at its first save, and
    once when a resumed fit starts (its saves reuse it)."""
    from deltarule import _provenance

    calls = []
    real = _provenance.fingerprint
    monkeypatch.setattr(_provenance, "fingerprint",
                        lambda *a: calls.append(a[0].shape[0]) or real(*a))  # fmt: skip
    X, y = data()
    run(make_trainer(), 4, [Checkpoint(tmp_path)], X, y)
    assert calls == [90, 30]  # the training rows and the validation rows, once
    saved = load_checkpoint(tmp_path)
    trainer = resume_trainer(make_trainer(), saved)
    run(trainer, 3, [Checkpoint(tmp_path, history=saved.history)], X, y)
    assert calls == [90, 30, 90, 30]
    assert load_checkpoint(tmp_path).provenance == saved.provenance
    assert trainer._fit_data is None  # (the rows are not kept past the fit)


def test_a_damaged_record_of_the_data_is_named(tmp_path, monkeypatch) -> None:
    from deltarule import _provenance

    X, y = data()
    damaged = {"training": {"rows": -1}, "validation_split": 0.25}
    monkeypatch.setattr(_provenance.FitData, "record", lambda self: damaged)
    run(make_trainer(), 1, [Checkpoint(tmp_path)], X, y)
    with pytest.raises(IncompatibleFormatError, match="damaged checkpoint: the record of the data"):
        load_checkpoint(tmp_path)
