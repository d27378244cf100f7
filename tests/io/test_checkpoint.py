"""Checkpoints from Python: save, load, resume bitwise-identically."""

from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule.callbacks import EarlyStopping
from deltarule.exceptions import IncompatibleFormatError, InputError
from deltarule.io import save_model
from deltarule.io.checkpoint import Checkpoint, load_checkpoint, resume_trainer


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
    run(first, 4, [stop1, Checkpoint(tmp_path, early_stopping=stop1)], X, y)
    saved = load_checkpoint(tmp_path)
    assert saved.epochs_done == 4 and len(saved.history) == 4

    second = make_trainer()  # fresh weights and streams, as after a crash
    stop2 = EarlyStopping("val_loss", patience=50)
    resume_trainer(second, saved, stop2)
    history = run(
        second, 4, [stop2, Checkpoint(tmp_path, early_stopping=stop2, history=saved.history)], X, y
    )
    assert [r.epoch for r in history] == [5, 6, 7, 8]
    assert second.network.parameters.tobytes() == straight.network.parameters.tobytes()
    assert [r.epoch for r in load_checkpoint(tmp_path).history] == list(range(1, 9))


def test_a_checkpoint_listed_first_still_saves_the_epochs_early_stopping_state(tmp_path):
    # (listed before its EarlyStopping, it saved the previous epoch's state: a run resumed
    # from it trained on past the epoch where the uninterrupted one stopped)
    X, y = data()
    stop = EarlyStopping("val_loss", patience=50)
    run(make_trainer(), 5, [Checkpoint(tmp_path, early_stopping=stop), stop], X, y)
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
    ],
)  # fmt: skip
def test_a_damaged_checkpoint_is_named_as_such(tmp_path, change, problem) -> None:
    # (raw messages before: error: 'rng', "'int' object is not iterable", an AttributeError
    # reported as a bug; rng = [] and epochs_done = -5 were taken)
    import json
    import struct

    X, y = data()
    run(make_trainer(), 2, [Checkpoint(tmp_path)], X, y)
    path = tmp_path / "checkpoint.safetensors"
    content = path.read_bytes()
    n = struct.unpack("<Q", content[:8])[0]
    header = json.loads(content[8 : 8 + n])
    meta = json.loads(header["__metadata__"]["deltarule"])
    change(meta["training"])
    header["__metadata__"]["deltarule"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + content[8 + n :])
    with pytest.raises(IncompatibleFormatError, match=f"is a damaged checkpoint: {problem}"):
        load_checkpoint(tmp_path)
