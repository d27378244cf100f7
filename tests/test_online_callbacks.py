"""The compiled online path with callbacks that hear of a chunk's epochs afterwards
(``Callback.chunk_quiet`` / ``on_quiet_epochs``): the plain NumPy loop's epochs, stop,
learning rates, weights, random stream and step count, with every epoch told to the
callback exactly once, in order."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from conftest import count_calls
from test_online_metrics import XOR_X, XOR_Y, assert_same, xor_net

import deltarule as dr
from deltarule import _compiled, _jit, _online
from deltarule.callbacks import (
    AllCorrect,
    Callback,
    EarlyStopping,
    ProgressBar,
    TargetError,
    TerminateOnNaN,
    TimeLimit,
    TrainingState,
)
from deltarule.exceptions import InputError
from deltarule.metrics import Metric, all_correct, class_threshold
from deltarule.training import Trainer

pytestmark = pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")


class Recorder(Callback):
    """Multiplies the rate by ``factor`` at the end of each epoch in ``cuts``, stops at
    ``stop_at`` or at the first loss below ``stop_below``; keeps every epoch it hears of."""

    def __init__(self, cuts=(), stop_at=math.inf, stop_below=-math.inf, factor=0.5) -> None:
        self.cuts, self.stop_at, self.stop_below = set(cuts), stop_at, stop_below
        self.factor = factor
        self.seen: list[tuple[int, float]] = []
        self.quiet_calls = 0

    def _acts(self, epoch: int, loss: float) -> bool:
        return epoch in self.cuts or epoch >= self.stop_at or loss < self.stop_below

    def chunk_quiet(self, losses, state):
        for i, loss in enumerate(losses):
            if self._acts(state.epoch + i + 1, loss):
                return i
        return len(losses)

    def on_quiet_epochs(self, losses, state):
        assert len(state.history) == state.epoch  # the history holds them
        first = state.epoch - len(losses) + 1
        self.seen += [(first + i, float(loss)) for i, loss in enumerate(losses)]
        self.quiet_calls += 1

    def on_epoch_end(self, record, state):
        self.seen.append((record.epoch, record.loss))
        if record.epoch in self.cuts:
            state.learning_rate *= self.factor
        if record.epoch >= self.stop_at or record.loss < self.stop_below:
            return "recorder stopped"
        return None


def fit_pair(
    monkeypatch, make_callbacks, *, epochs=3000, lr=0.5, make_metrics=None, raises=None,
    make=None,
):  # fmt: skip
    """Fit the XOR network through the compiled chunks and through NumPy with callbacks from
    ``make_callbacks()`` (and metrics from ``make_metrics()``); returns [(trainer, network,
    history, callbacks, kernel calls)]."""
    calls = count_calls(monkeypatch, _compiled.OnlineKernel, "run")
    make, runs = make or xor_net(), []
    for compiled in (True, False):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        net, cbs, before = make(), make_callbacks(), len(calls)
        metrics = None if make_metrics is None else make_metrics()
        trainer = Trainer(net, "sgd", lr, 1, seed=0, metrics=metrics)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if raises is None:
                history = trainer.fit(XOR_X, XOR_Y, epochs=epochs, verbose=0, callbacks=cbs)
            else:
                with pytest.raises(raises[0], match=raises[1]):
                    trainer.fit(XOR_X, XOR_Y, epochs=epochs, verbose=0, callbacks=cbs)
                history = cbs[0].history
        runs.append((trainer, net, history, cbs, len(calls) - before))
    return runs


def assert_same_run(runs) -> None:
    (tf, nf, hf, cf, _), (ts, ns, hs, cs, _) = runs
    assert_same((tf, nf, hf), (ts, ns, hs))
    for fast, slow in zip(cf, cs):
        if isinstance(fast, Recorder):
            assert [e for e, _ in fast.seen] == list(range(1, tf.epochs_done + 1))
            assert [e for e, _ in fast.seen] == [e for e, _ in slow.seen]
            np.testing.assert_allclose([v for _, v in fast.seen], [v for _, v in slow.seen])
    assert [r.learning_rate for r in hf] == [r.learning_rate for r in hs]


class Keep(Recorder):
    def on_train_begin(self, state):
        self.history = state.history


def test_a_callback_that_cuts_the_rate_and_stops_sees_the_plain_loops_epochs(monkeypatch):
    # The rate changes at the end of epochs 37, 500 and 1201, each inside a chunk: the run
    # is cut there, the weights computed again to that epoch's end, and the next chunk
    # trains at the new rate; the stop comes inside a later chunk.
    runs = fit_pair(monkeypatch, lambda: [Recorder(cuts=(37, 500, 1201), stop_at=2345)])
    assert_same_run(runs)
    (tf, _, hf, cf, kernel_calls), slow = runs[0], runs[1]
    assert hf.stop_reason == "recorder stopped" and tf.epochs_done == 2345
    assert {r.learning_rate for r in hf} == {0.5, 0.25, 0.125, 0.0625}
    assert slow[4] == 0  # (NumPy ran the reference)
    assert kernel_calls < 60 and cf[0].quiet_calls >= 4  # in chunks, not epoch by epoch


def test_a_stop_on_the_loss_inside_a_chunk(monkeypatch):
    runs = fit_pair(monkeypatch, lambda: [Recorder(stop_below=0.05)])
    assert_same_run(runs)
    assert runs[0][2].stop_reason == "recorder stopped" and 1 < len(runs[0][2]) < 3000


def test_quiet_epochs_before_a_divergence_are_told(monkeypatch):
    # a linear unit whose steps overshoot more and more: the weights overflow after some
    # chunks; the finished epochs reach the callback (on_quiet_epochs, or on_epoch_end in
    # the plain loop), the failed one not
    def make():
        return dr.Network([2, 1], output_activation="linear", seed=1, dtype="float64")

    runs = fit_pair(monkeypatch, lambda: [Recorder()], lr=1.5, epochs=2000, make=make)
    (tf, nf, hf, cf, _), (ts, ns, hs, cs, _) = runs
    assert hf.stop_reason == hs.stop_reason and "diverged" in hf.stop_reason
    assert 50 < tf.epochs_done == ts.epochs_done < 2000
    assert [e for e, _ in cf[0].seen] == [e for e, _ in cs[0].seen]
    np.testing.assert_array_equal(nf.parameters, ns.parameters)
    assert tf.optimizer_state["step"] == ts.optimizer_state["step"]
    assert tf._shuffle_rng.bit_generator.state == ts._shuffle_rng.bit_generator.state


def fragile_metric():
    """A metric that raises on its 37th call: epoch 37's outputs."""
    count = [0]

    def fragile(output, target, sample_weight=None):
        count[0] += 1
        if count[0] == 37:
            raise ValueError("metric failed")
        return float(output.sum())

    return [Metric("fragile", fragile, True, "classification")]


@pytest.mark.parametrize("stop_at", [20, 50])
def test_a_stop_before_a_metric_raises_wins_and_one_after_does_not(monkeypatch, stop_at):
    # The metric raises on epoch 37; a callback that stops at epoch 20 ends the run first
    # (no error), one that would stop at 50 is too late (the error, epochs 1-36 recorded).
    raises = None if stop_at < 37 else (ValueError, "metric failed")
    runs = fit_pair(
        monkeypatch, lambda: [Keep(stop_at=stop_at)], epochs=100, raises=raises,
        make_metrics=fragile_metric,
    )  # fmt: skip
    assert_same_run(runs)
    assert runs[0][0].epochs_done == (20 if stop_at == 20 else 36)
    assert runs[0][0].optimizer_state["step"] == 4 * (20 if stop_at == 20 else 37)


def test_chunk_quiet_must_answer_an_int(monkeypatch):
    class Wrong(Callback):
        def chunk_quiet(self, losses, state):
            return len(losses) if not len(losses) else 2.5

    net = xor_net()()
    with pytest.raises(InputError, match=r"Wrong.chunk_quiet must return an int .*received 2.5"):
        net.fit(XOR_X, XOR_Y, epochs=50, batch_size=1, optimizer="sgd", learning_rate=0.5,
                seed=0, verbose=0, callbacks=[Wrong()])  # fmt: skip


class EveryEpoch(Callback):
    def on_epoch_end(self, record, state):
        return None


def _state() -> TrainingState:
    net = xor_net()()
    return TrainingState(net, None, {}, 0.5, 0.5, 10, XOR_X, XOR_Y)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "callback, chunkable",
    [
        (ProgressBar(0), True),
        (ProgressBar(2), False),
        (TargetError(0.1), True),
        (TargetError(0.9, monitor="accuracy"), False),
        (TimeLimit(10), True),
        (TerminateOnNaN(), True),
        (EarlyStopping(monitor="loss"), True),  # (its last improvement in a chunk is kept)
        (EarlyStopping(monitor="accuracy"), False),
        (Callback(), True),  # (nothing to do per epoch)
        (EveryEpoch(), False),
    ],
    ids=repr,
)
def test_which_built_in_callbacks_let_the_run_go_in_chunks(callback, chunkable):
    assert _online._chunkable(None, [callback], _state()) is chunkable
    assert _online._chunkable((XOR_X, XOR_Y), [callback], _state()) is False  # validation


def test_built_in_answers_about_the_losses():
    state, losses = _state(), np.array([0.5, 0.3, 0.2, 0.05, 0.01])
    assert TargetError(0.1).chunk_quiet(losses, state) == 3  # epoch 4 reaches it
    assert TargetError(0.001).chunk_quiet(losses, state) == 5
    assert TerminateOnNaN().chunk_quiet(np.array([1.0, 2.0, np.inf]), state) == 2
    assert TerminateOnNaN().chunk_quiet(losses, state) == 5
    assert TimeLimit(1).chunk_quiet(losses, state) == 5
    assert ProgressBar(0).chunk_quiet(losses, state) == 5


def test_a_target_error_with_a_quiet_callback_stops_where_the_plain_loop_does(monkeypatch):
    runs = fit_pair(monkeypatch, lambda: [Recorder(cuts=(100,)), TargetError(0.02)])
    assert_same_run(runs)
    assert runs[0][2].stop_reason.startswith("target error reached")


def test_the_fit_api_goes_in_chunks_with_its_quiet_defaults(monkeypatch):
    # fit(verbose=0) with a target error, a time limit and a user's quiet callback
    calls = count_calls(monkeypatch, _compiled.OnlineKernel, "run")
    net, recorder = xor_net()(), Recorder()
    history = net.fit(XOR_X, XOR_Y, epochs=5000, batch_size=1, optimizer="sgd",
                      learning_rate=0.5, seed=0, verbose=0, target_error=1e-9,
                      time_limit=60, callbacks=[recorder], warn_convergence=False)  # fmt: skip
    assert len(history) == 5000 and len(calls) < 40
    assert [e for e, _ in recorder.seen] == list(range(1, 5001))
    np.testing.assert_array_equal([v for _, v in recorder.seen], history.loss)


def test_dr_callbacks_exports_the_hooks():
    assert callable(dr.callbacks.Callback.chunk_quiet)
    assert callable(dr.callbacks.Callback.on_quiet_epochs)


@pytest.mark.parametrize("k", [1, 7, 300])
def test_a_callback_acting_often_does_not_make_the_chunks_waste_epochs(monkeypatch, k):
    # every cut throws away the chunk's epochs after it: a chunk that kept growing (to
    # 65,536 epochs) would run thousands of epochs for each one kept. After a cut the next
    # chunk is twice the epochs kept: the kernel runs at most ~4 epochs for each one kept.
    sizes = []
    real = _compiled.OnlineKernel.run

    def spy(self, X, y, orders, lr, target, n_epochs, *args, **kwargs):
        sizes.append(n_epochs)
        return real(self, X, y, orders, lr, target, n_epochs, *args, **kwargs)

    monkeypatch.setattr(_compiled.OnlineKernel, "run", spy)
    runs = fit_pair(
        monkeypatch, lambda: [Recorder(cuts=range(k, 3001, k), factor=0.999)], epochs=3000
    )
    assert_same_run(runs)
    kernel_epochs = sum(sizes[: runs[0][4]])  # (the compiled run's calls come first)
    assert runs[0][0].epochs_done == 3000
    assert kernel_epochs <= 4 * 3000 + 64


def test_a_callback_with_on_epoch_begin_keeps_the_loop_epoch_by_epoch(monkeypatch):
    # on_epoch_begin runs before its epoch: a chunk has run its epochs already, so such a
    # callback (here one that sets epoch 50's rate) makes the loop go one epoch at a time
    class Begin(Recorder):
        def on_epoch_begin(self, state):
            if state.epoch + 1 == 50:
                state.learning_rate = 0.05

    assert not _online._chunkable(None, [Begin()], _state())
    runs = fit_pair(monkeypatch, lambda: [Begin()], epochs=200)
    assert_same_run(runs)
    assert runs[0][2][49].learning_rate == 0.05 and runs[0][4] == 200  # (a call an epoch)


class RaiseRate(Callback):
    """Multiplies the rate by ``factor`` at the end of epoch ``at`` (a number of epochs
    later the run diverges)."""

    def __init__(self, at: int, factor: float) -> None:
        self.at, self.factor = at, factor

    def chunk_quiet(self, losses, state):
        return next((i for i in range(len(losses)) if state.epoch + i + 1 == self.at), len(losses))

    def on_epoch_end(self, record, state):
        if record.epoch == self.at:
            state.learning_rate *= self.factor


def linear_xor():
    return dr.Network(
        [2, 4, 1], activation="tanh", output_activation="linear", seed=1, dtype="float64"
    )


@pytest.mark.parametrize(
    "lr, make_callbacks", [(0.1, lambda: [RaiseRate(77, 15.0)]), (0.75, list)], ids=["cut", "none"]
)
def test_a_divergence_falls_back_to_the_plain_loops_lowest_epoch(monkeypatch, lr, make_callbacks):
    # A run that diverges goes back to the start of its lowest-loss epoch. The chunks
    # offered only their first epoch's start (the kernel had no other), so the chunked run
    # fell back to another epoch (17 instead of 77; the initial weights instead of epoch
    # 5's); the kernel now keeps the start of each chunk's lowest epoch.
    runs = fit_pair(monkeypatch, make_callbacks, lr=lr, make=linear_xor)
    (tf, nf, hf, _, _), (ts, ns, hs, _, _) = runs
    assert "diverged" in hs.stop_reason and "were restored" in hs.stop_reason
    assert hf.stop_reason == hs.stop_reason
    np.testing.assert_allclose(nf.parameters, ns.parameters, rtol=1e-9, atol=1e-12)
    assert tf.optimizer_state["step"] == ts.optimizer_state["step"]
    assert re.search(r"the weights epoch (\d+) started from were restored", hs.stop_reason)


def test_metrics_are_scored_only_on_the_epochs_kept(monkeypatch):
    # epochs run after a cut are thrown away: their metrics are not computed (a metric is
    # called once an epoch, as in the plain loop)
    counts = []

    def make_metrics():
        counts.append(0)

        def counting(output, target, sample_weight=None):
            counts[-1] += 1
            return float(output.sum())

        return [Metric("counting", counting, True, "classification")]

    runs = fit_pair(
        monkeypatch, lambda: [Recorder(cuts=range(10, 2001, 10), factor=0.999)], epochs=2000,
        make_metrics=make_metrics,
    )  # fmt: skip
    assert_same_run(runs)
    assert counts == [2000, 2000]


def test_a_callback_that_raises_in_chunk_quiet_leaves_the_run_where_it_stood(monkeypatch):
    class Breaks(Recorder):
        def chunk_quiet(self, losses, state):
            if state.epoch >= 16:
                raise RuntimeError("broken callback")
            return super().chunk_quiet(losses, state)

    net = xor_net()()
    trainer = Trainer(net, "sgd", 0.5, 1, seed=0)
    with pytest.raises(RuntimeError, match="broken callback"):
        trainer.fit(XOR_X, XOR_Y, epochs=500, verbose=0, callbacks=[Breaks()])
    reference = Trainer(xor_net()(), "sgd", 0.5, 1, seed=0)
    reference.fit(XOR_X, XOR_Y, epochs=trainer.epochs_done, verbose=0)
    assert trainer.epochs_done == 16 and trainer.optimizer_state["step"] == 16 * 4
    np.testing.assert_array_equal(net.parameters, reference.network.parameters)
    assert trainer._shuffle_rng.bit_generator.state == reference._shuffle_rng.bit_generator.state


def _fit_xor(callbacks, epochs=200):
    net = xor_net()()
    return net.fit(XOR_X, XOR_Y, epochs=epochs, batch_size=1, optimizer="sgd",
                   learning_rate=0.5, seed=0, verbose=0, callbacks=callbacks)  # fmt: skip


class _Answers(Callback):
    """Answers ``answer(losses)`` once there are epochs; keeps books with ``books``."""

    def __init__(self, answer, books=None, rate=None, where="chunk_quiet"):
        self.answer, self.books, self.rate, self.where = answer, books, rate, where

    def chunk_quiet(self, losses, state):
        if len(losses) and self.rate is not None and self.where == "chunk_quiet":
            state.learning_rate = self.rate
        return self.answer(losses) if len(losses) else 0

    def on_quiet_epochs(self, losses, state):
        if self.rate is not None and self.where == "on_quiet_epochs":
            state.learning_rate = self.rate
        return self.books

    def on_epoch_end(self, record, state):
        return None


@pytest.mark.parametrize(
    "callback, message",
    [  # (found by a QA pass as a user: each was silently clamped, applied or ignored)
        (_Answers(lambda losses: len(losses) + 1), r"returned 17 for 16 epochs; expected 0"),
        (_Answers(lambda losses: -1), r"returned -1 for 16 epochs"),
        (_Answers(len, books="stop!"), r"on_quiet_epochs returned 'stop!'; it keeps books only"),
        (_Answers(len, rate=0.1), r"chunk_quiet changed the learning rate \(0.5 -> 0.1\)"),
        (_Answers(len, rate=0.1, where="on_quiet_epochs"), r"on_quiet_epochs changed the learn"),
    ],
    ids=["too many", "negative", "a stop", "rate in chunk_quiet", "rate in on_quiet_epochs"],
)
def test_a_misused_chunk_protocol_is_named(callback, message):
    with pytest.raises(InputError, match=message):
        _fit_xor([callback])


def test_chunk_quiet_failing_on_no_epochs_says_when_it_was_asked():
    class First(Callback):
        def chunk_quiet(self, losses, state):
            return 0 if losses[0] > 1 else len(losses)

    with pytest.raises(InputError, match=r"First.chunk_quiet raised IndexError .* no epochs"):
        _fit_xor([First()])


def test_a_callback_with_nothing_to_do_per_epoch_keeps_the_chunks(monkeypatch):
    # (QA: a callback with only on_train_begin/on_train_end made online training go epoch by
    # epoch, 17x slower)
    class Timer(Callback):
        def on_train_begin(self, state):
            self.began = True

        def on_train_end(self, history, state):
            self.ended = True

    calls = count_calls(monkeypatch, _compiled.OnlineKernel, "run")
    timer = Timer()
    history = _fit_xor([timer], epochs=5000)
    assert len(history) == 5000 and len(calls) < 40 and timer.began and timer.ended


@pytest.mark.parametrize("restore", [True, False])
@pytest.mark.parametrize("lr, min_delta", [(0.5, 1e-3), (4.0, 0.0)])
def test_early_stopping_on_the_training_loss_goes_in_chunks_as_the_plain_loop(
    monkeypatch, restore, lr, min_delta
):
    # The CLI's default rule (patience 10 on the loss, without validation) made every
    # online run go epoch by epoch: a million XOR epochs took 52 s, now 4. In a chunk the
    # rule points at its last improvement (whose weights it keeps) or at its stop; lr 4
    # makes the loss jump about, improving on and off.
    runs = fit_pair(monkeypatch, lambda: [EarlyStopping("loss", patience=25, min_delta=min_delta,
                    restore_best_weights=restore)], lr=lr, epochs=4000)  # fmt: skip
    assert_same_run(runs)
    (tf, nf, hf, cf, kernel_calls), (ts, ns, hs, cs, _) = runs
    assert "no improvement of loss" in hf.stop_reason and tf.epochs_done < 4000
    assert hf.best_epoch == hs.best_epoch and cf[0].best_epoch == cs[0].best_epoch
    assert (cf[0].best, cf[0].wait) == pytest.approx((cs[0].best, cs[0].wait), rel=1e-9)
    assert kernel_calls < tf.epochs_done / 4  # in chunks, not epoch by epoch


def test_early_stopping_keeps_its_best_weights_where_another_callback_cuts_the_chunk(monkeypatch):
    # Another callback acts inside a chunk, before the rule's last improvement in it: the
    # rule is asked again about the epochs up to that cut (its improvements before the cut
    # would otherwise pass quietly, their weights lost)
    def make():
        return [Recorder(cuts=range(7, 4000, 13), factor=1.0),
                EarlyStopping("loss", patience=25)]  # fmt: skip

    runs = fit_pair(monkeypatch, make, lr=4.0, epochs=4000)
    assert_same_run(runs)
    (tf, nf, hf, cf, _), (ts, ns, hs, cs, _) = runs
    assert "no improvement of loss" in hf.stop_reason
    assert hf.best_epoch == hs.best_epoch
    np.testing.assert_allclose(cf[1]._best_params, cs[1]._best_params, rtol=1e-9, atol=1e-12)


def test_a_cut_before_early_stoppings_last_improvement_asks_it_again():
    # losses improve at epochs 0-2 and 5; another callback acts at epoch 3. Taken alone the
    # answers are 5 and 3: epochs 0-2 would pass quietly and epoch 3 (no improvement) end
    # the chunk, the weights of epoch 2's improvement never seen. Asked again about
    # epochs 0-3, the rule points at 2.
    class ActsAt3(Callback):
        def chunk_quiet(self, losses, state):
            return min(3, len(losses))

    stopper = EarlyStopping("loss", patience=10)
    losses = np.array([5.0, 4.0, 3.0, 3.5, 3.6, 2.0, 2.5])
    assert stopper.chunk_quiet(losses, _state()) == 5
    assert _online._quiet([ActsAt3(), stopper], losses, _state()) == 2
    assert _online._quiet([stopper, ActsAt3()], losses[:3], _state()) == 2


class _Terminal:
    """A stream that says it is a terminal (of unknown width: taken to have one)."""

    def __init__(self) -> None:
        self.text = []

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.text.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_a_progress_bar_lets_the_run_go_in_chunks_and_counts_every_epoch(monkeypatch):
    pytest.importorskip("tqdm")
    bars = []

    def make():
        bars.append(ProgressBar(1, stream=_Terminal()))
        return [bars[-1]]

    runs = fit_pair(monkeypatch, make, epochs=3000)
    assert_same_run(runs)
    kernel_calls = runs[0][4]
    assert kernel_calls < 100  # in chunks (a line per epoch would ask for each)
    shown = "".join(bars[0].stream.text)
    assert "3000/3000" in shown and "loss=" in shown


def test_lines_every_n_epochs_let_the_run_go_in_chunks_showing_the_same_lines(monkeypatch):
    import io

    streams = []

    def make():
        streams.append(io.StringIO())
        return [ProgressBar(2, stream=streams[-1], every=500)]

    runs = fit_pair(monkeypatch, make, epochs=3000)
    assert_same_run(runs)
    assert runs[0][4] < 200  # in chunks (every=500: it acts on 7 epochs)
    shown = [re.findall(r"^epoch (\d+)/", s.getvalue(), re.M) for s in streams]
    assert shown[0] == shown[1] == ["1", "500", "1000", "1500", "2000", "2500", "3000"]


def test_a_checkpoint_every_n_epochs_lets_the_run_go_in_chunks_and_resumes_bitwise(
    tmp_path, monkeypatch
):
    # (QA: --checkpoint made a 300,000-epoch XOR run go epoch by epoch: 45 s, not 2.6)
    from deltarule.io.checkpoint import Checkpoint, load_checkpoint, resume_trainer

    def trainer():
        return Trainer(xor_net()(), "momentum", 0.5, 1, seed=0)

    def fit(t, epochs, callbacks):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return t.fit(XOR_X, XOR_Y, epochs=epochs, verbose=0, callbacks=callbacks)

    straight = trainer()
    fit(straight, 3000, [])
    cut = trainer()
    calls = count_calls(monkeypatch, _compiled.OnlineKernel, "run")
    fit(cut, 1700, [Checkpoint(tmp_path, every=500)])
    assert len(calls) < 100  # in chunks, cut at epochs 500, 1000, 1500
    saved = load_checkpoint(tmp_path)
    assert saved.epochs_done == 1500 and len(saved.history) == 1500
    again = trainer()
    resume_trainer(again, saved, [])
    history = fit(again, 1500, [Checkpoint(tmp_path, every=500, history=saved.history)])
    assert history[0].epoch == 1501 and again.epochs_done == 3000
    assert again.network.parameters.tobytes() == straight.network.parameters.tobytes()
    assert load_checkpoint(tmp_path).epochs_done == 3000


@pytest.mark.parametrize(
    "parent", [EarlyStopping, TargetError, TerminateOnNaN, ProgressBar, AllCorrect]
)
def test_a_subclass_that_overrides_a_built_ins_epoch_hook_sees_every_epoch(parent, monkeypatch):
    # (review: a user's EarlyStopping that logged each on_epoch_end heard of 6 of 2,000
    # epochs: the parent's chunk_quiet answered for hooks the subclass had replaced)
    args = {EarlyStopping: ("loss",), TargetError: (1e-12,), TerminateOnNaN: (),
            ProgressBar: (0,), AllCorrect: ()}[parent]  # fmt: skip

    class Logging(parent):
        def on_epoch_end(self, record, state):
            self.seen = getattr(self, "seen", 0) + 1
            return super().on_epoch_end(record, state)

    logger = Logging(*args)
    net = xor_net()()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = net.fit(XOR_X, XOR_Y, epochs=500, batch_size=1, optimizer="sgd",
                          learning_rate=0.5, seed=0, verbose=0, callbacks=[logger])  # fmt: skip
    assert logger.seen == len(history)


def test_early_stopping_without_restoring_saves_no_best_weights_in_a_checkpoint(tmp_path):
    # (review: its improvements in quiet epochs kept no weights, so a checkpoint saved the
    # uninitialised buffer as best_parameters; not restoring, it keeps none at all now)
    from deltarule.io.checkpoint import Checkpoint, load_checkpoint, resume_trainer

    def trainer():
        return Trainer(xor_net("float32")(), "sgd", 4.0, 1, seed=0)

    def stopper():
        return EarlyStopping("loss", patience=25, restore_best_weights=False)

    def fit(t, epochs, callbacks):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return t.fit(XOR_X, XOR_Y, epochs=epochs, verbose=0, callbacks=callbacks)

    straight, rule = trainer(), stopper()
    fit(straight, 400, [rule])
    first = trainer()
    fit(first, 14, [stopper(), Checkpoint(tmp_path, every=7)])
    saved = load_checkpoint(tmp_path)
    (state,) = saved.callbacks.values()
    assert "best_parameters" not in state.tensors and state.data["best_epoch"] is not None
    again, rule_again = trainer(), stopper()
    resume_trainer(again, saved, [rule_again])
    fit(again, 400 - 14, [rule_again])
    assert again.network.parameters.tobytes() == straight.network.parameters.tobytes()
    assert (rule_again.best_epoch, rule_again.wait) == (rule.best_epoch, rule.wait)


def test_a_callback_acting_every_k_epochs_gets_chunks_that_end_on_its_acts(monkeypatch):
    # (review: chunks of twice the cut computed ~3 epochs for each one kept)
    import io

    sizes = []
    original = _compiled.OnlineKernel.run

    def counted(self, X, y, orders, lr, target, size, *args, **kwargs):
        sizes.append(size)
        return original(self, X, y, orders, lr, target, size, *args, **kwargs)

    monkeypatch.setattr(_compiled.OnlineKernel, "run", counted)
    net = xor_net()()
    net.fit(XOR_X, XOR_Y, epochs=100_000, batch_size=1, optimizer="sgd", learning_rate=0.01,
            seed=0, verbose=0, warn_convergence=False, metrics=[],
            callbacks=[ProgressBar(2, stream=io.StringIO(), every=1000)])  # fmt: skip
    assert sum(sizes) < 110_000  # (the first acts measure the period)


def test_early_stopping_in_a_run_that_diverges_keeps_the_plain_loops_best_weights(
    monkeypatch,
):
    # a chunk whose next epoch fails tells no epoch on_epoch_end: the rule points at its
    # last improvement even when it is the chunk's last epoch
    def make():
        return dr.Network([2, 1], output_activation="linear", seed=1, dtype="float64")

    runs = fit_pair(monkeypatch, lambda: [EarlyStopping("loss", patience=5000)], lr=1.5,
                    epochs=2000, make=make)  # fmt: skip
    (tf, nf, hf, cf, _), (ts, ns, hs, cs, _) = runs
    assert "diverged" in hf.stop_reason and hf.stop_reason == hs.stop_reason
    assert hf.best_epoch == hs.best_epoch and cf[0].best_epoch == cs[0].best_epoch
    np.testing.assert_array_equal(nf.parameters, ns.parameters)


def test_early_stopping_keeps_its_best_weights_when_a_metric_raises_inside_a_chunk(monkeypatch):
    # (review: the epochs before the one whose metric raised passed quietly, early
    # stopping's last improvement among them without its weights: the plain loop restored
    # epoch 36's, the chunked run none)
    from deltarule.metrics import mean_absolute_error

    def fit(compiled, metrics, rule):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        trainer = Trainer(xor_net()(), "sgd", 0.5, 1, seed=0, metrics=metrics)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return trainer, trainer.fit(XOR_X, XOR_Y, epochs=100, verbose=0, callbacks=[rule])
            except ValueError:
                return trainer, None

    _, probe = fit(False, ["mae"], EarlyStopping("loss", patience=1000))
    cut = (probe[35].metrics["mae"] + probe[36].metrics["mae"]) / 2

    def fragile(output, target, sample_weight=None):  # a pure metric: raises from epoch 37
        value = mean_absolute_error(output, target)
        if value < cut:
            raise ValueError("metric failed")
        return value

    runs = []
    for compiled in (True, False):
        rule = EarlyStopping("loss", patience=1000)
        trainer, _ = fit(compiled, [Metric("fragile", fragile, False, "regression")], rule)
        runs.append((trainer, rule))
    (fast, fast_rule), (slow, slow_rule) = runs
    assert fast.epochs_done == slow.epochs_done == 36
    assert fast_rule.best_epoch == slow_rule.best_epoch == fast_rule._held
    np.testing.assert_allclose(fast.network.parameters, slow.network.parameters, rtol=1e-9)


def test_improvements_on_each_chunks_last_epoch_do_not_hold_the_chunks_small(monkeypatch):
    # (review: early stopping pointing at every chunk's last epoch looked like a callback
    # acting every 16 epochs: 300,000 epochs took 18,750 kernel calls, not 12)
    calls = count_calls(monkeypatch, _compiled.OnlineKernel, "run")
    net = xor_net()()
    net.fit(XOR_X, XOR_Y, epochs=100_000, batch_size=1, optimizer="sgd", learning_rate=0.01,
            seed=0, verbose=0, warn_convergence=False, metrics=[],
            callbacks=[EarlyStopping("loss", patience=10**6)])  # fmt: skip
    assert len(calls) < 40


# ------------------------------------------------ AllCorrect: checked by the kernel itself
def _xor_tanh():
    return dr.Network([2, 4, 1], activation="tanh", output_activation="tanh", seed=1,
                      loss="half_squared_error", dtype="float64")  # fmt: skip


def _labels_data(kind):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(24, 3))
    if kind == "multilabel":  # (rows with both labels and with none)
        return X, np.stack([X[:, 0] * X[:, 1] > 0, X[:, 0] + X[:, 2] > 0.3], axis=1) * 1.0
    return X, np.eye(3)[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]


def _net(sizes, out, loss="auto"):
    return lambda: dr.Network(sizes, activation="tanh", output_activation=out, loss=loss,
                              seed=2, dtype="float64")  # fmt: skip


ALL_CORRECT_CASES = {  # (network, X, y, learning rate): each kind of class target
    "one sigmoid column": (xor_net(), XOR_X, XOR_Y, 0.5),
    "tanh, -1/+1 targets": (_xor_tanh, XOR_X, 2 * XOR_Y - 1, 0.1),
    "softmax": (_net([3, 6, 3], "softmax"), *_labels_data("softmax"), 0.02),
    "multi-label": (
        _net([3, 6, 2], "sigmoid", "binary_crossentropy"),
        *_labels_data("multilabel"),
        0.2,
    ),
}


@pytest.mark.parametrize("case", list(ALL_CORRECT_CASES))
@pytest.mark.parametrize("extra", ["alone", "with early stopping and a bar"])
def test_all_correct_goes_in_chunks_and_stops_where_the_plain_loop_does(case, extra, monkeypatch):
    # The tutorial's stop ran epoch by epoch (~50-200 us an epoch for XOR): the kernel now
    # classifies the examples with each epoch's weights and stops at the first epoch that
    # gets them all right, which the plain loop's AllCorrect then confirms.
    make, X, y, lr = ALL_CORRECT_CASES[case]
    calls, runs = count_calls(monkeypatch, _compiled.OnlineKernel, "run"), []
    for compiled in (True, False):
        monkeypatch.setattr(_compiled, "available", lambda c=compiled: c)
        net, before = make(), len(calls)
        cbs = [AllCorrect()]
        if extra != "alone":
            cbs += [EarlyStopping("loss", patience=50), ProgressBar(0)]
        trainer = Trainer(net, "sgd", lr, 1, seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = trainer.fit(X, y, epochs=20_000, verbose=0, callbacks=cbs)
        runs.append((trainer, net, history, len(calls) - before))
    (tf, nf, hf, fast_calls), (ts, ns, hs, _) = runs
    assert_same((tf, nf, hf), (ts, ns, hs), rtol=1e-6 if nf.dtype == np.float32 else 1e-9)
    assert hf.stop_reason == "every training example classified correctly"
    assert 20 < len(hf) < 20_000  # (it took a while, and it stopped)
    assert fast_calls < len(hf) / 4  # in chunks, not epoch by epoch


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_kernels_check_is_all_correct_on_numpys_outputs(dtype) -> None:
    # online_none_wrong against deltarule.metrics.all_correct on network.forward's outputs,
    # for random weights, each kind of class target: the same verdict where no output is
    # near where its class changes (and "maybe", never "no", where NumPy says yes)
    for case, (make, X, y, _) in ALL_CORRECT_CASES.items():
        net, rng = make().astype(dtype), np.random.default_rng(len(case))
        X, y = X.astype(dtype), y.astype(dtype)
        cut = class_threshold(net.layers[-1].activation, y)
        classes = _compiled.all_correct_labels(y, cut, net.dtype)
        spec, verdicts = _compiled.OnlineKernel(net).spec, []
        zbuf, abuf = (np.empty(spec[5][-1], net.dtype) for _ in range(2))
        row = np.empty(X.shape[1], X.dtype)
        for _ in range(300):
            net.parameters = rng.normal(scale=3.0, size=net.n_parameters)
            got = _jit.online_none_wrong(net.parameters, spec, X, *classes, row, zbuf, abuf)
            output = net.forward(X)[0].astype(np.float64)
            want = all_correct(output, y, threshold=cut)
            near = (
                np.abs(output - cut)
                if y.shape[1] == 1 or case == "multi-label"
                else (output.max(axis=1, keepdims=True) - output)[
                    output < output.max(axis=1)[:, None]
                ]
            )
            assert got == want or (got and near.min() < 1e-3), case
            verdicts.append(got)
        assert not all(verdicts), case  # (random weights: some example wrong)
        with warnings.catch_warnings():  # and weights that get them all right
            warnings.simplefilter("ignore")
            net.fit(X, y, epochs=20_000, batch_size=None, optimizer="adam", verbose=0,
                    learning_rate=0.05, seed=0, stop_when_all_correct=True)  # fmt: skip
        assert all_correct(net.forward(X)[0], y, threshold=cut), case
        assert _jit.online_none_wrong(net.parameters, spec, X, *classes, row, zbuf, abuf)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("out", ["identity", "sigmoid", "tanh"])
def test_an_output_on_the_cut_leaves_numpy_to_decide(out, dtype) -> None:
    # (review: the kernel's own forward pass read an output 1 ulp from the cut otherwise
    # than NumPy's: 0.49999999999999994 against 0.5000000000000001; the compiled run went
    # on to epoch 16 where the plain loop stopped at epoch 1.) The bias is stepped ulp by
    # ulp across the cut: wherever NumPy reads every example right, the kernel must not
    # say no, and a fit from there stops where the plain loop does.
    net = dr.Network([3, 5, 1], activation="tanh", output_activation=out, seed=0, dtype=dtype)
    X = np.random.default_rng(0).normal(size=(1, 3)).astype(dtype)
    y = np.array([[1.0]], dtype)
    cut = 0.0 if out == "tanh" else 0.5
    classes = _compiled.all_correct_labels(y, cut, net.dtype)
    spec = _compiled.OnlineKernel(net).spec
    zbuf, abuf = (np.empty(spec[5][-1], net.dtype) for _ in range(2))
    row = np.empty(3, net.dtype)
    p = net.parameters.copy()
    p[-1] = 0
    net.parameters = p
    z = np.arctanh(cut) if out == "tanh" else (0.0 if out == "sigmoid" else cut)
    p[-1] = z - (net.forward(X)[1][-1].net[0, 0] - 0)  # (the output's net input at the cut)
    for _ in range(60):
        p[-1] = np.nextafter(p[-1], p.dtype.type(-np.inf))
    starts, verdicts = [], set()
    for _ in range(120):
        p[-1] = np.nextafter(p[-1], p.dtype.type(np.inf))
        net.parameters = p
        numpy_says = all_correct(net.forward(X)[0], y, threshold=cut)
        kernel_says = _jit.online_none_wrong(p, spec, X, *classes, row, zbuf, abuf)
        assert kernel_says or not numpy_says
        verdicts.add(numpy_says)
        if numpy_says and len(starts) < 3:
            starts.append(p.copy())
    assert verdicts == {True, False}  # (the steps crossed the cut)

    class EveryEpoch(AllCorrect):  # the plain loop's AllCorrect: epoch by epoch
        def on_epoch_end(self, record, state):
            return super().on_epoch_end(record, state)

    for start in starts:
        stops = []
        for rule in (AllCorrect(), EveryEpoch()):
            net.parameters = start
            history = net.fit(X, y, epochs=50, batch_size=1, optimizer="sgd", seed=0,
                              learning_rate=1e-30, verbose=0, callbacks=[rule])  # fmt: skip
            stops.append((len(history), history.stop_reason))
        assert stops[0] == stops[1] == (1, "every training example classified correctly")


def test_an_all_correct_rule_is_armed_for_the_compiled_run_only(monkeypatch):
    rule, net = AllCorrect(), xor_net()()
    assert rule.chunk_quiet(np.empty(0), _state()) is None  # (outside: every epoch)
    history = net.fit(XOR_X, XOR_Y, epochs=5000, batch_size=1, optimizer="sgd", verbose=0,
                      learning_rate=0.5, seed=0, callbacks=[rule])  # fmt: skip
    assert history.stop_reason == "every training example classified correctly"
    assert rule.chunk_quiet(np.empty(0), _state()) is None and rule._found is None
    again = xor_net()().fit(XOR_X, XOR_Y, epochs=5000, batch_size=2, optimizer="sgd",
                            verbose=0, learning_rate=0.5, seed=0, callbacks=[rule])  # fmt: skip
    assert again.stop_reason == "every training example classified correctly"
