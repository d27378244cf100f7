"""A long epoch reports its progress to callbacks (Callback.on_epoch_progress), and the
progress bar shows it: a log otherwise shows nothing until the epoch ends."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest

import deltarule as dr
from deltarule import _compiled, _epochs, _minibatch
from deltarule.callbacks import Callback, ProgressBar

RNG = np.random.default_rng(0)
X = RNG.normal(size=(96, 4))
Y = (X[:, :1] > 0).astype(float)


class Seen(Callback):
    def __init__(self) -> None:
        self.calls: list[tuple[int, int, int]] = []

    def on_epoch_progress(self, seen, total, seconds, state):
        assert seconds >= 0
        self.calls.append((state.epoch + 1, seen, total))


def _net() -> dr.Network:
    return dr.Network([4, 8, 1], output_activation="sigmoid", loss="binary_crossentropy",
                      seed=0)  # fmt: skip


@pytest.mark.parametrize("path", ["plain", "compiled"])
def test_each_batch_or_run_of_steps_reports_how_far_the_epoch_is(path, monkeypatch):
    monkeypatch.setattr(_epochs.EpochProgress, "EVERY", 0.0)  # (every tick is due)
    if path == "compiled":
        if not _compiled.available():
            pytest.skip("numba is not installed")
        monkeypatch.setattr(_minibatch, "MIN_PARAMETERS", 0)
        monkeypatch.setattr(_minibatch, "MIN_STEPS", 0)
        monkeypatch.setattr("deltarule._steps.FIRST_RUN_STEPS", 1)
        monkeypatch.setattr("deltarule._steps.COMPILED_RUN_SECONDS", 1e-9)  # (runs of 1)
    else:
        monkeypatch.setattr(_minibatch, "kernel_for", lambda *args: None)
    seen = Seen()
    _net().fit(X, Y, epochs=2, batch_size=16, verbose=0, callbacks=[seen], seed=0,
               warn_convergence=False)  # fmt: skip
    epoch1 = [s for e, s, n in seen.calls if e == 1]
    assert epoch1 and epoch1 == sorted(epoch1) and max(epoch1) <= 96
    assert {n for _, _, n in seen.calls} == {96} and {e for e, _, _ in seen.calls} == {1, 2}
    if path == "plain":
        assert epoch1 == list(range(16, 97, 16))  # (after each batch)


def test_no_callback_that_listens_costs_nothing(monkeypatch):
    trainer = dr.Trainer(_net(), "sgd", 0.1, 16, seed=0)
    taken = []
    real = _epochs.run_epochs

    def spy(trainer, *args, **kwargs):
        out = real(trainer, *args, **kwargs)
        taken.append(trainer._progress)
        return out

    monkeypatch.setattr(dr.Trainer, "_run_epochs", spy)
    trainer.fit(X, Y, epochs=1, verbose=0, warn_convergence=False)
    assert taken == [None] and trainer._progress is None  # (none kept after the fit)


def test_the_plain_progress_lines_say_how_far_and_how_long(monkeypatch):
    monkeypatch.setattr(_epochs.EpochProgress, "EVERY", 0.0)
    monkeypatch.setattr(ProgressBar, "LINE_EVERY", 0.0)
    monkeypatch.setattr(_minibatch, "kernel_for", lambda *args: None)
    out = io.StringIO()
    _net().fit(X, Y, epochs=1, batch_size=32, verbose=0, seed=0, warn_convergence=False,
               callbacks=[ProgressBar(verbose=2, stream=out)])  # fmt: skip
    lines = out.getvalue().splitlines()
    progress = [line for line in lines if "examples" in line]
    assert progress[0].startswith("epoch 1/1: 32 of 96 examples (33%) in ")
    assert "s left" in progress[0]
    assert lines.index(progress[-1]) < next(i for i, text in enumerate(lines) if " - loss " in text)


def test_a_keras_style_progress_hook_is_refused():
    class KerasLike(Callback):
        def on_epoch_progress(self, epoch, logs=None):
            pass

    with pytest.raises(dr.InputError, match="on_epoch_progress"):
        _net().fit(X, Y, epochs=1, verbose=0, callbacks=[KerasLike()])


def test_a_terminal_that_reports_no_width_gets_plain_lines(monkeypatch):
    # (QA at scale: under `script`, a terminal of 0 columns, the bar drew nothing at all,
    # not even the epochs' losses)
    import fcntl
    import struct
    import termios

    from deltarule.callbacks.progress import wants_bar

    monkeypatch.delenv("COLUMNS", raising=False)
    main, secondary = os.openpty()  # (a new terminal reports 0 rows and 0 columns)
    try:
        with os.fdopen(secondary, "w", closefd=False) as terminal:
            assert terminal.isatty() and not wants_bar(terminal, True)
            monkeypatch.setenv("COLUMNS", "100")
            assert wants_bar(terminal, True)
            monkeypatch.delenv("COLUMNS")
            fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
            assert wants_bar(terminal, True)
    finally:
        os.close(main)
        os.close(secondary)


def test_a_terminal_of_no_width_with_columns_set_draws_the_bar_that_wide(monkeypatch):
    # (QA: COLUMNS=100 on a 0x0 terminal chose the bar, which tqdm then drew 0 wide: nothing,
    # not even the losses)
    pytest.importorskip("tqdm")
    main, secondary = os.openpty()  # (a new terminal reports 0 rows and 0 columns)
    monkeypatch.setenv("COLUMNS", "100")
    try:
        with os.fdopen(secondary, "w", closefd=False) as terminal:
            net = dr.Network([2, 3, 1], seed=0)
            X = np.random.default_rng(0).normal(size=(8, 2))
            net.fit(X, X[:, :1], epochs=3, verbose=0, warn_convergence=False,
                    callbacks=[ProgressBar(1, stream=terminal)])  # fmt: skip
            terminal.flush()
            drawn = os.read(main, 100_000).decode()
    finally:
        os.close(main)
        os.close(secondary)
    assert "3/3" in drawn and "loss=" in drawn


def test_a_resumed_runs_bar_starts_at_the_epochs_done(tmp_path):
    pytest.importorskip("tqdm")
    from deltarule.io.checkpoint import Checkpoint, load_checkpoint, resume_trainer

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    X = np.random.default_rng(0).normal(size=(8, 2))
    first = dr.Trainer(dr.Network([2, 3, 1], seed=0), "adam", seed=0)
    first.fit(X, X[:, :1], epochs=4, verbose=0, warn_convergence=False,
              callbacks=[Checkpoint(tmp_path)])  # fmt: skip
    again = dr.Trainer(dr.Network([2, 3, 1], seed=0), "adam", seed=0)
    resume_trainer(again, load_checkpoint(tmp_path), [])
    terminal = Terminal()
    again.fit(X, X[:, :1], epochs=6, verbose=0, warn_convergence=False,
              callbacks=[ProgressBar(1, stream=terminal)])  # fmt: skip
    assert "10/10" in terminal.getvalue() and "6/10" not in terminal.getvalue()


def test_a_long_runs_lines_come_about_a_thousand_by_default():
    # a million epochs in a log printed a million lines (and went epoch by epoch)
    X = np.random.default_rng(0).normal(size=(4, 2))
    stream = io.StringIO()
    bar = ProgressBar(2, stream=stream, every=None)
    net = dr.Network([2, 2, 1], seed=0)
    net.fit(X, X[:, :1], epochs=2500, batch_size=None, verbose=0, warn_convergence=False,
            callbacks=[bar])  # fmt: skip
    shown = [int(line.split()[1].split("/")[0]) for line in stream.getvalue().splitlines()
             if line.startswith("epoch ")]  # fmt: skip
    assert shown == [1, *range(3, 2500, 3), 2500]  # every ceil(2500 / 1000) = 3rd
    short = io.StringIO()
    net.fit(X, X[:, :1], epochs=20, batch_size=None, verbose=0, warn_convergence=False,
            callbacks=[ProgressBar(2, stream=short, every=None)])  # fmt: skip
    assert short.getvalue().count("epoch ") == 20


def test_fits_own_lines_follow_the_default(capsys):
    X = np.random.default_rng(0).normal(size=(4, 2))
    net = dr.Network([2, 2, 1], seed=0)
    net.fit(X, X[:, :1], epochs=2500, batch_size=None, verbose=2, warn_convergence=False)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 1 + len(range(3, 2500, 3)) + 1


def test_a_continued_fits_lines_are_counted_over_its_own_epochs():
    # (review: 3,000 epochs done before, a fit of 200 printed 51 lines: the default counted
    # the whole run's epochs)
    X = np.random.default_rng(0).normal(size=(4, 2))
    trainer = dr.Trainer(dr.Network([2, 2, 1], seed=0), "sgd", 0.01, None, seed=0)
    trainer.fit(X, X[:, :1], epochs=3000, verbose=0, warn_convergence=False)
    stream = io.StringIO()
    trainer.fit(X, X[:, :1], epochs=200, verbose=0, warn_convergence=False,
                callbacks=[ProgressBar(2, stream=stream, every=None)])  # fmt: skip
    assert stream.getvalue().count("epoch ") == 200


def test_a_long_epochs_time_left_reads_the_rate_after_its_first_steps(capsys):
    # (QA: a fresh clone's first epoch said "about 113s left" of a 14 s run: the kernels'
    # compile, in its first steps, counted as the rate of every step)
    from deltarule.callbacks import TrainingState

    bar = ProgressBar(2)
    state = TrainingState(dr.Network([2, 1], seed=0), None, {}, 0.1, 0.1, 5, None, None)
    bar.on_train_begin(state)
    bar.on_epoch_progress(100, 1000, 9.0, state)  # the first steps: 9 s of compiling
    bar.on_epoch_progress(200, 1000, 10.5, state)  # then 100 examples in 1.5 s
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line.endswith("200 of 1,000 examples (20%) in 10s, about 12s left"), line
