"""History (``deltarule.history``): frozen records, columns, JSON, epoch numbering."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import pickle

import numpy as np
import pytest

import deltarule as dr
from deltarule.callbacks import EarlyStopping
from deltarule.history import EpochRecord, History


def record(epoch: int = 1, **changes) -> EpochRecord:
    fields = {
        "epoch": epoch,
        "loss": 0.5,
        "val_loss": None,
        "metrics": {"r2": 0.25},
        "val_metrics": {},
        "learning_rate": 0.1,
        "gradient_norm": 0.2,
        "seconds": 0.01,
    }
    return EpochRecord(**{**fields, **changes})


def regression(n: int = 30):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([[1.0], [2.0], [-1.0]])


def test_a_records_metrics_are_read_only_like_the_record():
    r = record(val_metrics={"r2": 0.5})
    for change in (
        lambda m: m.__setitem__("r2", 1.0),
        lambda m: m.update(r2=1.0),
        lambda m: m.pop("r2"),
        lambda m: m.clear(),
        lambda m: m.setdefault("x", 1.0),
        lambda m: m.__delitem__("r2"),
    ):
        for metrics in (r.metrics, r.val_metrics):
            with pytest.raises(TypeError, match="read-only.*dict\\(record.metrics\\)"):
                change(metrics)
    assert r.metrics == {"r2": 0.25} and r.val_metrics == {"r2": 0.5}
    copied = dict(r.metrics)
    copied["r2"] = 1.0  # a copy can be changed
    assert r.metrics["r2"] == 0.25
    # still plain data: copies, pickles, dataclasses.asdict and JSON work
    assert copy.deepcopy(r) == r and pickle.loads(pickle.dumps(r)) == r
    assert dataclasses.asdict(r)["metrics"] == {"r2": 0.25}
    assert json.loads(json.dumps(r.as_dict()))["r2"] == 0.25


def test_to_json_writes_null_for_nan_and_infinity():
    h = History([record(1, loss=float("nan"), metrics={"r2": float("inf")}), record(2)])
    strict = json.loads(h.to_json(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert strict["loss"] == [None, 0.5] and strict["r2"] == [None, 0.25]
    assert math.isnan(h.as_dict()["loss"][0])  # (the columns keep the recorded values)


def test_val_loss_column_is_kept_without_validation():
    # Documented choice: every run has the same first columns (CSV logs, model files).
    h = dr.Network([3, 1], seed=0).fit(*regression(), epochs=2, verbose=0)
    assert h.as_dict()["val_loss"] == [None, None] and h[0].as_dict()["val_loss"] is None
    assert "None without validation" in EpochRecord.as_dict.__doc__


def test_epoch_numbers_restart_with_network_fit_and_continue_with_trainer_fit():
    X, y = regression()
    net = dr.Network([3, 1], seed=0)
    assert net.fit(X, y, epochs=2, verbose=0)["epoch"] == [1, 2]
    assert net.fit(X, y, epochs=2, verbose=0)["epoch"] == [1, 2]  # a new trainer each call
    trainer = dr.Trainer(dr.Network([3, 1], seed=0))
    assert trainer.fit(X, y, epochs=2, verbose=0)["epoch"] == [1, 2]
    assert trainer.fit(X, y, epochs=2, verbose=0)["epoch"] == [3, 4]
    doc = EpochRecord.__doc__
    assert "continue the count" in doc and "numbers from 1 again" in doc


@pytest.mark.filterwarnings("ignore::deltarule.ConvergenceWarning")
def test_r2_on_a_one_row_validation_set_is_nan_and_does_not_stop_training():
    X, y = regression()
    stopper = EarlyStopping("val_r2", patience=1)
    h = dr.Network([3, 1], seed=0).fit(
        X, y, epochs=4, verbose=0, metrics=["r2"], validation_data=(X[:1], y[:1]),
        callbacks=[stopper],
    )  # fmt: skip
    assert len(h) == 4 and all(math.isnan(v) for v in h["val_r2"])  # (was 0.0)
    assert all(math.isfinite(v) for v in h["r2"])
    assert json.loads(h.to_json())["val_r2"] == [None] * 4


def test_keras_spellings_history_and_epoch():
    X, y = regression()
    net = dr.Network([3, 4, 1], activation="tanh", output_activation="identity", loss="mse", seed=0)
    h = net.fit(X, y, epochs=3, batch_size=10, learning_rate=0.01, validation_split=0.2, seed=0)
    # Keras: h.history["loss"] is the list of epoch losses, h.epoch counts from 0
    assert h.history["loss"] == [r.loss for r in h.records] == h.loss
    assert h.history["val_loss"] == [r.val_loss for r in h.records]
    assert all(v is not None for v in h.history["val_loss"])
    assert h.epoch == [0, 1, 2]
    h.history["loss"].append(1.0)  # a copy: the history is unchanged
    assert len(h.history["loss"]) == 3 and len(h) == 3
    assert History().history == {} and History().epoch == []
    assert "epoch" not in h.history  # (Keras keeps the epochs apart: h.epoch)
    # without validation data there is no val_loss key (Keras: `if "val_loss" in ...`)
    alone = net.fit(X, y, epochs=2, batch_size=10, learning_rate=0.01, seed=0)
    assert "val_loss" not in alone.history and "loss" in alone.history
    assert alone.as_dict()["val_loss"] == [None, None]  # (as_dict keeps every column)


def test_column_chunks_with_metrics_read_as_records():
    # the compiled online path adds its epochs as columns, metrics included
    history = History([record(1, metrics={"accuracy": 0.25})])
    history.extend_columns(
        2, np.array([0.4, 0.3]), np.array([1.0, 0.9]), 0.1, 0.5, {"accuracy": np.array([0.5, 1.0])}
    )
    history.append(record(4, metrics={"accuracy": 0.75}))
    history.extend_columns(5, np.array([0.2]), np.array([0.8]), 0.1, 0.5)  # no metrics
    assert len(history) == 5 and history.last_epoch == 5
    assert history.loss == [0.5, 0.4, 0.3, 0.5, 0.2]
    assert history["accuracy"] == [0.25, 0.5, 1.0, 0.75, None]
    third = history[2]
    assert third == EpochRecord(3, 0.3, None, {"accuracy": 1.0}, {}, 0.1, 0.9, 0.5)
    assert type(third.metrics["accuracy"]) is float
    with pytest.raises(TypeError, match="read-only"):
        third.metrics["accuracy"] = 0.0  # type: ignore[index]
    assert history[4].metrics == {}


def test_last_reads_the_last_epoch_without_building_the_column_records():
    h = History()
    assert h.last is None
    h.append(record(1))
    assert h.last == record(1)
    h.extend_columns(2, np.array([0.4, 0.3]), np.array([0.2, 0.1]), 0.1, 0.01,
                     {"accuracy": np.array([0.5, 0.75])})  # fmt: skip
    last = h.last
    assert h._pending  # (still columns: nothing was built)
    assert last == h.records[-1]
    assert (last.epoch, last.loss, last.metrics["accuracy"]) == (3, 0.3, 0.75)


def test_a_long_compiled_online_fit_with_a_stopping_rule_keeps_its_epochs_as_columns():
    # the unmet-rule warning reads the last epoch only: a million epochs' records are
    # built only when asked for (they made the tutorial's online fit 9x slower)
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])  # XOR: no single layer fits it (a plateau)
    net = dr.Network([2, 1], activation="sigmoid", output_activation="sigmoid",
                     loss="half_squared_error", seed=0)  # fmt: skip
    with pytest.warns(dr.ConvergenceWarning, match="target_error 1e-30 not reached"):
        h = net.fit(X, y, epochs=20_000, batch_size=1, optimizer="sgd", learning_rate=0.5,
                    target_error=1e-30, verbose=0, shuffle=False)  # fmt: skip
    assert len(h) == 20_000 and h._pending  # (not built)
    assert h.last.epoch == 20_000


def test_loss_array_equals_loss_and_follows_new_epochs():
    # (the end-of-run checks read the losses four times: as lists, 18 ms each for a
    # compiled online run of a million epochs)
    import numpy as np

    from deltarule.history import EpochRecord, History

    def record(epoch, loss):
        return EpochRecord(epoch, loss, None, {}, {}, 0.1, 1.0, 0.0)

    history = History([record(1, 0.9)])
    history.extend_columns(2, np.array([0.8, 0.7], np.float32), np.ones(2), 0.1, 0.0)
    history.append(record(4, 0.6))
    array = history.loss_array()
    assert array.dtype == np.float64 and array.tolist() == history.loss
    history.records[-1] = record(4, 9.0)  # (a record edited in place: read afresh)
    assert history.loss_array().tolist() == history.loss and history.loss[-1] == 9.0
    history.append(record(5, 0.5))
    assert history.loss_array().tolist() == history.loss and len(history.loss_array()) == 5
    assert len(History().loss_array()) == 0


def test_as_dict_of_column_chunks_is_that_of_their_records():
    # (as_dict built a record per epoch of a compiled run: 1.4 s for 400k epochs)
    from deltarule.history import EpochRecord, History

    def make():
        history = History()
        history.append(EpochRecord(1, 0.9, 0.8, {"mae": 0.5}, {"mae": 0.6}, 0.1, 1.0, 0.01))
        history.extend_columns(2, np.array([0.7, 0.6], np.float32), np.array([2.0, 3.0]), 0.1,
                               0.002, {"mae": [0.4, 0.3], "r2": [0.1, 0.2]})  # fmt: skip
        history.append(EpochRecord(4, 0.5, None, {"acc": 1.0}, {}, 0.05, 4.0, 0.02))
        history.extend_columns(5, np.array([0.4]), np.array([5.0]), 0.05, 0.003)
        return history

    fast = make().as_dict()
    slow_history = make()
    rows = [r.as_dict() for r in slow_history.records]
    keys = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    slow = {k: [row.get(k) for row in rows] for k in keys}
    assert list(fast) == list(slow)
    assert fast == slow
    assert [type(v) for v in fast["loss"]] == [type(v) for v in slow["loss"]]
    assert make().history == {k: v for k, v in slow.items() if k != "epoch"}


def test_indexing_a_history_of_column_chunks_reads_one_record_as_the_records_do():
    # a compiled online run keeps its epochs as chunks of columns: history[-1] built every
    # record of a million epochs (3.6 s) and history["loss"] every column (1.5 s)
    import numpy as np

    from deltarule.history import EpochRecord, History

    def made() -> History:
        h = History([EpochRecord(1, 0.9, None, {"accuracy": 0.5}, {}, 0.1, 1.0, 0.01)])
        h.extend_columns(2, np.array([0.8, 0.7, 0.6]), np.array([0.9, 0.8, 0.7]), 0.1, 0.002,
                         {"accuracy": np.array([0.5, 0.75, 1.0])})  # fmt: skip
        h.append(EpochRecord(5, 0.5, None, {"accuracy": 1.0}, {}, 0.05, 0.6, 0.01))
        h.extend_columns(6, np.array([0.4, 0.3]), np.array([0.5, 0.4]), 0.05, 0.003,
                         {"accuracy": np.array([1.0, 1.0])})  # fmt: skip
        return h

    whole = made().records
    for index in range(-len(whole), len(whole)):
        h = made()
        assert h[index] == whole[index]
        assert h._pending  # (read without building the records)
    h = made()
    assert h["loss"] == [r.loss for r in whole] and h._pending
    assert h[1:3] == whole[1:3]
    for wrong in (7, -8):
        with pytest.raises(IndexError, match=f"history index {wrong} out of range \\(7 epochs\\)"):
            made()[wrong]


def test_a_history_of_no_epochs_says_loss_is_not_recorded_as_for_any_name():
    from deltarule.history import History

    for name in ("loss", "val_loss"):
        with pytest.raises(KeyError, match=f"'{name}' is not recorded in this history"):
            History()[name]
