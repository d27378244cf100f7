"""What users coming from R neuralnet and FANN ran into: categorical cross-entropy on one
output, "ce", tanh outputs with -1/+1 targets, iRprop in mini-batches, stopping rules left
unmet at the epoch limit, and progress that could not be thinned."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import deltarule as dr
from deltarule import _epochs
from deltarule.callbacks import AllCorrect, ProgressBar
from deltarule.exceptions import ConvergenceWarning, InputError, StillImprovingWarning
from deltarule.losses import get_loss
from deltarule.metrics import accuracy, all_correct, class_threshold, f1_binary
from deltarule.training import Trainer

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_01 = np.array([[0], [1], [1], [0]], dtype=float)
XOR_PM = 2 * XOR_01 - 1  # FANN's -1/+1


# ------------------------------------------------------------------ B1: cce on one output
@pytest.mark.parametrize("name", ["categorical_crossentropy", "cce", "cross_entropy", "log_loss"])
@pytest.mark.parametrize("output", ["sigmoid", "hard_sigmoid"])
def test_categorical_crossentropy_on_one_output_unit_is_refused(name, output) -> None:
    # (it was accepted: -t log o ignores the 0 rows, the net output 1 everywhere)
    with pytest.raises(InputError, match="at least 2 output units") as info:
        dr.Network([2, 3, 1], output_activation=output, loss=name)
    assert "binary_crossentropy" in str(info.value) and "softmax" in str(info.value)


def test_categorical_crossentropy_on_two_or_more_units_is_kept() -> None:
    for output in ("softmax", "sigmoid"):
        net = dr.Network([2, 3, 2], output_activation=output, loss="cce")
        assert net.loss.name == "categorical_crossentropy"


def test_ce_is_r_neuralnets_binary_crossentropy() -> None:
    # (it was "unknown loss 'ce'. Did you mean 'cce'?": the broken setup)
    assert get_loss("ce") is get_loss("binary_crossentropy")
    net = dr.Network([2, 4, 1], activation="tanh", output_activation="sigmoid", loss="ce")
    assert net.loss.name == "binary_crossentropy"


# ------------------------------------------------- B3: tanh outputs with -1/+1 targets
def _fixed(output_activation: str, outputs: list[float]) -> dr.Network:
    """A one-layer network on the rows of eye(4) whose outputs are ``outputs`` exactly."""
    net = dr.Network([4, 1], output_activation=output_activation, seed=0, dtype=np.float64)
    inverse = {"tanh": np.arctanh, "sigmoid": lambda p: np.log(p / (1 - p))}[output_activation]
    net.weights[-1][...] = inverse(np.array(outputs))[None, :]
    net.biases[-1][...] = 0.0
    np.testing.assert_allclose(net.predict(np.eye(4))[:, 0], outputs)
    return net


def _epoch_metrics_and_stop(net: dr.Network, y: np.ndarray) -> tuple[dict, str | None]:
    trainer = Trainer(net, "sgd", 0.1, metrics=["accuracy", "f1_binary"])
    output = net.predict(np.eye(4))
    scores = _epochs.metrics(trainer, output, y, None)
    stop = AllCorrect().on_epoch_end(None, SimpleNamespace(network=net, X=np.eye(4), y=y))
    return scores, stop


def test_a_tanh_output_is_split_at_zero_for_minus_one_plus_one_targets() -> None:
    outputs, y = [-0.9, 0.9, 0.9, 0.4], XOR_PM
    # by hand: signs -, +, +, + against -, +, +, -: the last is wrong
    assert all_correct(np.array(outputs)[:, None], y) is True  # (0.5: the old reading)
    assert all_correct(np.array(outputs)[:, None], y, threshold=0) is False
    scores, stop = _epoch_metrics_and_stop(_fixed("tanh", outputs), y)
    assert scores["accuracy"] == 0.75 and stop is None  # (were 1.0, and a stop)
    assert scores["f1_binary"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 0))
    assert class_threshold(dr.activations.get_activation("tanh")) == 0.0
    assert class_threshold(dr.activations.get_activation("softsign")) == 0.0


@pytest.mark.parametrize("y", [XOR_01, np.where(XOR_01 == 1, 0.99, 0.01)])
def test_a_sigmoid_output_is_still_split_at_one_half(y) -> None:
    scores, stop = _epoch_metrics_and_stop(_fixed("sigmoid", [0.1, 0.9, 0.9, 0.6]), y)
    assert scores["accuracy"] == 0.75 and stop is None
    scores, stop = _epoch_metrics_and_stop(_fixed("sigmoid", [0.1, 0.9, 0.9, 0.4]), y)
    assert scores["accuracy"] == 1.0 and stop is not None
    assert class_threshold(dr.activations.get_activation("sigmoid")) == 0.5
    assert class_threshold(dr.activations.get_activation("identity")) == 0.5


def test_tanh_xor_with_minus_one_plus_one_targets_stops_when_the_signs_are_right() -> None:
    net = dr.Network([2, 4, 1], activation="tanh", output_activation="tanh", seed=3)
    history = net.fit(XOR_X, XOR_PM, epochs=3000, batch_size=None, learning_rate=0.05,
                      metrics=["accuracy"], stop_when_all_correct=True, seed=0,
                      verbose=0)  # fmt: skip
    assert history.stop_reason == "every training example classified correctly"
    out = net.predict(XOR_X)
    assert (np.sign(out) == XOR_PM).all()  # by hand: split at 0
    assert accuracy(out, XOR_PM, threshold=0) == 1.0


def test_threshold_must_be_a_number() -> None:
    with pytest.raises(InputError, match="threshold must be a finite number"):
        accuracy([[0.2]], [[0.0]], threshold="0")
    assert f1_binary([[0.2], [-0.2]], [[1.0], [-1.0]], threshold=0.0) == 1.0


# ------------------------------------------------------ B4: iRprop trains on every row
def _rows(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    return X, (X[:, :1] * X[:, 1:] > 0).astype(float)


@pytest.mark.parametrize("name", ["irprop_plus", "irprop_minus", "rprop"])
def test_irprop_without_a_batch_size_trains_on_every_row(name) -> None:
    X, y = _rows()
    runs = []
    for kwargs in ({}, {"batch_size": None}):
        net = dr.Network([2, 8, 1], activation="tanh", output_activation="sigmoid", seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # and no mini-batch warning
            runs.append(net.fit(X, y, epochs=30, optimizer=name, seed=0, verbose=0,
                                warn_convergence=False, **kwargs).loss)  # fmt: skip
    assert runs[0] == runs[1]  # (was batches of 32)
    assert Trainer(dr.Network([2, 1]), name).batch_size is None
    assert Trainer(dr.Network([2, 1]), "adam").batch_size == 32
    assert Trainer(dr.Network([2, 1]), "lbfgs").batch_size == 32


def test_irprop_given_mini_batches_keeps_them_and_warns() -> None:
    X, y = _rows()
    net = dr.Network([2, 8, 1], activation="tanh", output_activation="sigmoid", seed=0)
    with pytest.warns(UserWarning, match="batch_size=32 on 200 rows.*full batches|full batch"):
        net.fit(X, y, epochs=2, optimizer="irprop_plus", batch_size=32, verbose=0,
                warn_convergence=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a batch of every row is a full batch
        net.fit(X, y, epochs=2, optimizer="irprop_plus", batch_size=200, verbose=0,
                warn_convergence=False)  # fmt: skip


# ------------------------------------------------- R4: a stopping rule left unmet warns
def _plateaued(**kwargs):
    """A linear sigmoid unit on XOR: the loss settles at log 2 (all outputs 0.5)."""
    net = dr.Network([2, 1], output_activation="sigmoid", seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.fit(XOR_X, XOR_01, epochs=300, batch_size=None, learning_rate=0.1, verbose=0,
                **kwargs)  # fmt: skip
    return [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def test_an_unmet_stopping_rule_at_the_epoch_limit_warns_naming_it() -> None:
    caught = _plateaued(stop_when_all_correct=True, target_error=1e-12)
    texts = sorted(str(w.message) for w in caught)
    assert len(texts) == 2, texts  # (there was none)
    assert texts[0].startswith("stop_when_all_correct was not met in 300 epochs: 2 of 4 ")
    assert texts[1].startswith("target_error 1e-12 not reached in 300 epochs: loss 0.6931")
    assert not any(issubclass(w.category, StillImprovingWarning) for w in caught)


def test_all_correct_on_rows_that_contradict_says_no_network_can_meet_it(capsys, tmp_path):
    # (QA with extreme data: identical inputs with other labels were told "train for more
    # epochs", and at the command line "warn_convergence=False silences this")
    from deltarule.cli import main

    X = np.array([[0, 0], [0, 0], [1, 1], [1, 0]], float)
    y = np.array([[0], [1], [1], [0]], float)
    net = dr.Network([2, 3, 1], output_activation="sigmoid", seed=0)
    with pytest.warns(ConvergenceWarning, match="2 training rows share their inputs with a row "
                      "of another class, so no network can classify every row"):  # fmt: skip
        net.fit(X, y, epochs=200, learning_rate=0.05, stop_when_all_correct=True, verbose=0)
    data = tmp_path / "contra.csv"
    data.write_text("a,b,y\n0,0,0\n0,0,1\n1,1,1\n1,0,0\n")
    code = main(
        [
            "train",
            str(data),
            "--target",
            "y",
            "--until-all-correct",
            "--epochs",
            "50",
            "--validation-split",
            "0",
            "--quiet",
            "--out",
            str(tmp_path / "m.safetensors"),
        ]
    )
    err = capsys.readouterr().err  # fmt: skip
    assert code == 0
    assert "warning: --until-all-correct was not met in 50 epochs" in err
    assert "(--target-error)" in err and "warn_convergence" not in err


def test_warn_convergence_false_silences_it_and_no_rule_no_warning() -> None:
    assert _plateaued(stop_when_all_correct=True, warn_convergence=False) == []  # (TypeError)
    assert _plateaued() == []


def test_a_run_still_improving_warns_once() -> None:
    net = dr.Network([2, 4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.fit(XOR_X, XOR_01, epochs=20, target_error=1e-12, verbose=0)
    kinds = [w.category for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert kinds == [StillImprovingWarning]


# ------------------------------------------------------------ R5: thinning the progress
def test_report_every_thins_the_progress_lines(capsys) -> None:
    net = dr.Network([2, 2, 1], output_activation="sigmoid", seed=0)
    net.fit(XOR_X, XOR_01, epochs=5, verbose=2, report_every=2, warn_convergence=False)
    err = capsys.readouterr().err
    assert [line.split(" - ")[0] for line in err.splitlines()[:-1]] == [
        "epoch 1/5", "epoch 2/5", "epoch 4/5", "epoch 5/5"]  # fmt: skip


def test_a_run_shorter_than_report_every_shows_its_first_and_last_epochs(capsys) -> None:
    # (QA as a FANN user: --report-every 1000 on a run that reached its target error at
    # epoch 62 printed no epoch at all; FANN reports the first epoch and the last)
    net = dr.Network([2, 3, 1], output_activation="sigmoid", seed=0)
    history = net.fit(XOR_X, XOR_01, epochs=5000, verbose=2, report_every=1000,
                      target_error=0.2, optimizer="adam", learning_rate=0.05)  # fmt: skip
    last = history.records[-1].epoch
    assert 1 < last < 1000
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" - ")[0] for line in lines[:-1]] == ["epoch 1/5000", f"epoch {last}/5000"]
    assert lines[-1].startswith("stopped: target error reached")


def test_a_progress_bar_in_callbacks_replaces_the_fits_own(capsys) -> None:
    net = dr.Network([2, 2, 1], output_activation="sigmoid", seed=0)
    net.fit(XOR_X, XOR_01, epochs=5, verbose=1, callbacks=[ProgressBar(2, every=3)],
            warn_convergence=False)  # fmt: skip
    lines = capsys.readouterr().err.splitlines()  # (every line was printed twice)
    assert [line.split(" - ")[0] for line in lines] == [
        "epoch 1/5", "epoch 3/5", "epoch 5/5", "stopped: max epochs (5) reached"]  # fmt: skip
    with pytest.raises(InputError, match="report_every=2 .* would do nothing"):
        net.fit(XOR_X, XOR_01, epochs=1, report_every=2, callbacks=[ProgressBar(2)])


def test_a_single_column_splits_at_the_midpoint_of_its_two_target_values():
    from deltarule.metrics import class_threshold

    tanh = dr.get_activation("tanh")
    assert class_threshold(tanh, [[-1.0], [1.0], [1.0]]) == 0.0  # FANN's -1/+1
    assert class_threshold(tanh, [[0.0], [1.0]]) == 0.5  # a tanh output on 0/1 targets
    assert class_threshold(tanh, [[0.01], [0.99]]) == 0.5  # the tutorial's targets
    assert class_threshold(tanh, [[1.0], [1.0]]) == 0.0  # one class: the output's range
    assert class_threshold(dr.get_activation("sigmoid"), [[1.0]]) == 0.5
    # the training loop and evaluate agree: tanh on 0/1 targets reads 0.1 as class 0
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [1.0]])
    net = dr.Network([2, 3, 1], activation="tanh", output_activation="tanh", loss="mse", seed=0)
    h = net.fit(X, y, epochs=300, batch_size=None, optimizer="sgd", learning_rate=0.5,
                metrics=["accuracy"], verbose=0, warn_convergence=False)  # fmt: skip
    out = net.predict(X)
    expected = float(np.mean((out[:, 0] > 0.5) == (y[:, 0] > 0.5)))
    assert net.evaluate(X, y, metrics=["accuracy"])["accuracy"] == expected
    assert h.records[-1].metrics["accuracy"] is not None


def test_contradicting_rows_are_found_whatever_the_sign_of_their_zeros():
    # (a review: compared by their bytes, 0.0 and -0.0 were different inputs)
    from types import SimpleNamespace

    from deltarule._reports import _contradictions

    state = SimpleNamespace(X=np.array([[0.0, 1.0], [-0.0, 1.0], [1.0, 1.0]]),
                            y=np.array([[0.0], [1.0], [1.0]]))  # fmt: skip
    assert _contradictions(state) == 2
