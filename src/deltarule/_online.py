"""The compiled path of the training loop: online SGD epochs run by :mod:`deltarule._compiled`.

The loop takes it only when the result is the same as its own (see :func:`compiled_ok`):
batch size 1, plain SGD (the delta rule) or momentum or Nesterov momentum (PyTorch's or
scikit-learn's: :meth:`Optimizer.online_rule <deltarule.optimizers.Optimizer.online_rule>`,
the velocity the optimizer state's), no sample weights, L1 or max-norm, and a network
whose objective the kernel computes (the plain one, scaled, plus an L2 term). With callbacks
that can hear of a chunk's epochs after it ran (:meth:`Callback.chunk_quiet
<deltarule.callbacks.Callback.chunk_quiet>`: quiet progress, target error, time limit, the
scikit-learn estimators' bookkeeping and tol rule, stopping on a loss that is not finite,
stopping when every example is classified correctly, which the kernel checks itself)
and no validation data, whole chunks of
epochs run in one call, cut at the first epoch a callback acts on; otherwise one epoch per
call, with every callback and the validation score between epochs. Either way the kernel keeps
each example's output, which the training metrics score as the plain loop scores them
(:mod:`deltarule._chunk_metrics`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import _chunk_metrics, _compiled, _minibatch
from ._epochs import BestStart, OptimizerSnapshot, max_epochs
from ._reports import Interrupt, diverged
from ._sampling import Data
from .callbacks import AllCorrect, Callback, TargetError, TrainingState
from .exceptions import InputError
from .history import EpochRecord
from .metrics import class_threshold
from .optimizers import Optimizer

__all__ = ["compiled_ok", "epoch_orders", "run_compiled"]


def compiled_ok(trainer: Any, data: Data, val: Data | None, cbs: Sequence[Callback]) -> bool:
    """True when the compiled online path computes what the plain loop would."""
    return (
        trainer.batch_size == 1
        and trainer.network.objective_terms() is not None
        and isinstance(trainer.optimizer, Optimizer)
        and _rule(trainer) is not None
        and data.sample_weight is None
        and not (trainer.l1 or trainer.max_norm)
        and _compiled.available()
        and _compiled.supported(trainer.network)
        and not _steps_faster(trainer, data)
    )


ONLINE_NS_PER_PARAMETER = {"sgd": 2.2, "moving": 3.5}
"""The online kernel's time an example, per parameter, in ns (float32 and float64 alike;
this project's machine): the delta rule's, and a rule with a velocity's."""

STEPS_NS = (2_460.0, 0.83)
"""The compiled mini-batch steps' time an example at batch size 1, in ns: a fixed part and
a part per parameter (their products are BLAS's: a 64-100-10 network at batch 1, float32,
45,600 examples/s in the online kernel, 163,000 in the steps)."""

STEPS_EPOCH_NS = 100_000.0
"""What the steps pay an epoch that the online kernel's chunks of epochs do not (~0.1 ms of
Python): the steps take a run whose rows save more than this an epoch."""


def _steps_faster(trainer: Any, data: Data) -> bool:
    """True when the compiled mini-batch steps run this batch-size-1 run, and faster: by
    the times above, an epoch of its rows saves more than :data:`STEPS_EPOCH_NS` (the
    delta rule from ~1,900 parameters on 1,000 rows, ~2,900 on 64; momentum from ~1,000
    and ~1,500). The choice reads the network, the rule and the number of rows only."""
    net, n = trainer.network, data.X.shape[0]
    rule = "sgd" if _rule(trainer)[1] is None else "moving"
    fixed, per_parameter = STEPS_NS
    saved = net.n_parameters * (ONLINE_NS_PER_PARAMETER[rule] - per_parameter) - fixed
    return (
        n * saved > STEPS_EPOCH_NS
        and data.sample_weight is None
        and bool(net.trainable.all())
        and _minibatch.plain_arrays(data)
        and _minibatch.kernel_for(trainer, n, 1, trainer.shuffle) is not None
    )


def _moves(trainer: Any) -> tuple[tuple[str, float], np.ndarray | None]:
    """:func:`_rule` for a run under way (checked by :func:`compiled_ok` when it began):
    the velocity read anew, as a callback may have put another array in the state."""
    found = _rule(trainer)
    if found is None:
        velocity, net = trainer.optimizer_state.get("velocity"), trainer.network
        if not isinstance(velocity, np.ndarray):
            wrong = f"a {type(velocity).__name__}, not an array"
        elif velocity.dtype != net.dtype:
            wrong = f"an array of dtype {velocity.dtype}, not the network's {net.dtype}"
        elif velocity.shape != net.parameters.shape:
            wrong = (
                f"an array of shape {velocity.shape}, not the parameters' {net.parameters.shape}"
            )
        else:
            wrong = "an array that is not C-contiguous (a strided view)"
        raise InputError(
            f"the optimizer state's velocity was replaced during the run by {wrong}; "
            "the compiled online step updates the velocity in place. Change its values in "
            "place instead (state.trainer.optimizer_state['velocity'][:] = ... in a callback)."
        )
    return found


def _rule(trainer: Any) -> tuple[tuple[str, float], np.ndarray | None] | None:
    """The optimizer's rule for the kernel (:meth:`~deltarule.optimizers.Optimizer.online_rule`)
    and the velocity it updates (None for the delta rule), or None for a rule it cannot run
    (:func:`deltarule._compiled.vouched_rule`)."""
    return _compiled.vouched_rule(trainer, _compiled.ONLINE_RULES)


def _chunkable(val: Data | None, cbs: Sequence[Callback], state: TrainingState) -> bool:
    """True when every callback can be told of a chunk's epochs after the chunk ran: its
    :meth:`~deltarule.callbacks.Callback.chunk_quiet` answers a number, and it does not
    override ``on_epoch_begin`` (which would have to run before epochs already run)."""
    begin = Callback.on_epoch_begin
    return val is None and all(
        not _hooks_past_answer(type(cb))
        and _probe(cb, state) is not None
        and getattr(type(cb), "on_epoch_begin", begin) is begin
        for cb in cbs
    )


_PER_EPOCH = ("on_epoch_begin", "on_epoch_end", "on_epoch_progress")


def _hooks_past_answer(kind: type) -> bool:
    """True when a subclass overrides a per-epoch hook of the class whose ``chunk_quiet`` it
    inherits (a user's ``EarlyStopping`` that logs each ``on_epoch_end``): that answer was
    given for the parent's hooks, so the run goes epoch by epoch."""
    owner = next(c for c in kind.__mro__ if "chunk_quiet" in c.__dict__)
    return any(getattr(kind, hook) is not getattr(owner, hook) for hook in _PER_EPOCH)


def _probe(cb: Callback, state: TrainingState) -> int | None:
    """``cb``'s answer about no epochs (whether it takes part), its error said as such."""
    try:
        return cb.chunk_quiet(np.empty(0), state)
    except Exception as exc:
        raise InputError(
            f"{type(cb).__name__}.chunk_quiet raised {type(exc).__name__} ({exc}) when asked "
            "about no epochs, as it is before training (to learn whether it takes part): "
            "with len(losses) == 0 answer 0 (or None to see every epoch)."
        ) from exc


def _quiet(cbs: Sequence[Callback], losses: np.ndarray, state: TrainingState) -> int:
    """How many leading epochs of ``losses`` every callback lets pass quietly (a callback
    that now answers None lets none pass: its next epoch gets ``on_epoch_end``).

    Where one callback cuts the chunk before another's answer, the others are asked again
    about the epochs up to the cut, until every answer agrees: an answer may depend on
    where the chunk ends (early stopping points at its last improvement before the cut,
    whose weights it must see, :meth:`EarlyStopping.chunk_quiet
    <deltarule.callbacks.EarlyStopping.chunk_quiet>`)."""
    quiet = len(losses)
    while True:
        seen = losses if quiet == len(losses) else losses[: quiet + 1]
        answer = _answers(cbs, seen, state)
        if answer >= quiet:
            return quiet
        quiet = answer


def _answers(cbs: Sequence[Callback], losses: np.ndarray, state: TrainingState) -> int:
    """The fewest epochs of ``losses`` a callback lets pass quietly (see :func:`_quiet`)."""
    quiet = len(losses)
    for cb in cbs:
        rate = state.learning_rate
        answer = cb.chunk_quiet(losses, state)
        name = f"{type(cb).__name__}.chunk_quiet"
        if state.learning_rate is not rate:
            raise InputError(
                f"{name} changed the learning rate ({rate!r} -> {state.learning_rate!r:.40}); "
                "it must change nothing. Point at the epoch instead (return its index) and "
                "set the rate in on_epoch_end, which that epoch gets."
            )
        if answer is None:
            return 0
        if isinstance(answer, bool) or not isinstance(answer, (int, np.integer)):
            raise InputError(
                f"{name} must return an int (how many of the given epochs pass quietly) or "
                f"None; received {answer!r:.60}."
            )
        if not 0 <= answer <= len(losses):
            raise InputError(
                f"{name} returned {int(answer)} for {len(losses)} epochs; expected 0 to "
                f"{len(losses)}: the index of the first epoch it acts on, or len(losses)."
            )
        quiet = min(quiet, int(answer))
    return quiet


def _tell_quiet(cbs: Sequence[Callback], losses: np.ndarray, state: TrainingState) -> None:
    """Give the quiet epochs' losses to every callback, checking it only kept books."""
    for cb in cbs:
        rate = state.learning_rate
        answer = cb.on_quiet_epochs(losses, state)
        name = f"{type(cb).__name__}.on_quiet_epochs"
        if answer is not None:
            raise InputError(
                f"{name} returned {answer!r:.60}; it keeps books only and returns None. To "
                "stop, have chunk_quiet point at the epoch (return its index) and return "
                "the reason from on_epoch_end, which that epoch gets."
            )
        if state.learning_rate is not rate:
            raise InputError(
                f"{name} changed the learning rate ({rate!r} -> {state.learning_rate!r:.40}); "
                "it keeps books only. Have chunk_quiet point at the epoch (return its index) "
                "and set the rate in on_epoch_end, which that epoch gets."
            )


def _terms(trainer: Any) -> tuple[float, float]:
    """The kernel's (loss scale, L2 coefficient): the network's, plus the trainer's ``l2``."""
    scale, decay = trainer.network.objective_terms()
    return scale, decay + trainer.l2


def _target(cbs: Sequence[Callback]) -> float:
    """The loss at or below which the kernel stops: the largest target, since reaching any
    :class:`TargetError`'s stops the run (-inf: none; a NaN target is never reached)."""
    targets = [cb.target for cb in cbs if isinstance(cb, TargetError) and not math.isnan(cb.target)]
    return max(targets, default=-math.inf)


CHUNK_WORK = 2_000_000
"""Roughly the multiply-adds (examples times parameters times epochs) of the first chunk:
up to 16 epochs, fewer on large data, so that Ctrl-C is seen soon even there."""
CHUNK_SECONDS = 0.05
"""A chunk that ran for less than this is followed by one four times as long (at most
65,536 epochs): Ctrl-C, seen between chunks, stops the run within about 0.2 s."""
CHUNK_OUTPUTS = 1 << 20
"""The most outputs (epochs x examples x outputs) a chunk keeps for the training metrics,
8 MiB in float64: a run with metrics has chunks of at most this over n x k epochs."""


def run_compiled(
    trainer: Any,
    data: Data,
    val: Data | None,
    state: TrainingState,
    cbs: Sequence[Callback],
    epochs: int,
) -> str:
    """Online SGD in compiled code, in chunks of epochs; callbacks hear of them afterwards.

    The kernel checks every epoch's weights by the run's :class:`AllCorrect` rule (the
    tutorial's stop), which points at the epoch it found (:meth:`AllCorrect.chunk_quiet
    <deltarule.callbacks.AllCorrect.chunk_quiet>`). The rest is :func:`_run_chunks`'.
    """
    rules = [cb for cb in cbs if isinstance(cb, AllCorrect) and not _hooks_past_answer(type(cb))]
    for rule in rules:
        rule._checked, rule._found = True, None
    try:
        return _run_chunks(trainer, data, val, state, cbs, epochs, rules)
    finally:
        for rule in rules:
            rule._checked, rule._found = False, None


def _run_chunks(
    trainer: Any,
    data: Data,
    val: Data | None,
    state: TrainingState,
    cbs: Sequence[Callback],
    epochs: int,
    rules: Sequence[AllCorrect],
) -> str:
    """Online SGD in compiled code, in chunks of epochs; callbacks hear of them afterwards.

    The outcome is the plain loop's (:meth:`Trainer._run_epochs`): it stops at the first
    epoch whose loss reaches any target, and a diverged epoch is undone and reported (the
    kernel checks the loss and the weights after every epoch; an output that is not finite
    makes its example's error not finite, so the plain loop's check of the outputs finds
    nothing more). Each epoch's metrics are scored on its outputs as the plain loop scores
    them. After a chunk, the callbacks say how many of its epochs pass quietly
    (:meth:`~deltarule.callbacks.Callback.chunk_quiet`); the first epoch on which one would
    act (stop, change the rate) ends the chunk: the weights are computed again up to its end
    (the kernel computes the same again), the epochs before it are told to the callbacks
    together (:meth:`~deltarule.callbacks.Callback.on_quiet_epochs`) and it goes through
    ``on_epoch_end`` as in the plain loop. Ctrl-C stops the run after the current chunk,
    with every epoch of it recorded.
    """
    if not _chunkable(val, cbs, state):  # the plain loop, with compiled epochs
        return trainer._run_epochs(data, val, state, cbs, epochs, _compiled_epoch(trainer))
    net, kernel = trainer.network, _compiled.OnlineKernel(trainer.network)
    kernel.left = 0.0  # (known after the first chunk: until then, no build for this run)
    stops = _Stops(_target(cbs), rules, None)
    if rules:  # (their cut, as AllCorrect's: from the output activation and the targets)
        cut = class_threshold(net.layers[-1].activation, data.y)
        stops = stops._replace(classes=_compiled.all_correct_labels(data.y, cut, net.dtype))
    n, remaining = data.X.shape[0], epochs
    longest = 1 << 16
    if trainer.metrics:  # bounded memory for the chunk's outputs
        longest = min(longest, max(1, CHUNK_OUTPUTS // (n * net.n_outputs)))
    chunk = max(1, min(16, CHUNK_WORK // max(1, n * net.n_parameters), longest))
    # the kernel keeps the start of each chunk's lowest-loss epoch, offered as the plain
    # loop offers every epoch's (see BestStart)
    best = BestStart(net, trainer.optimizer_state).resume(trainer)
    start, start_state = net.parameters.copy(), OptimizerSnapshot(trainer.optimizer_state)
    lowest_start = np.empty_like(start)
    moving = _rule(trainer)[1] is not None  # (a velocity: the lowest start's too)
    lowest_velocity = np.empty_like(start) if moving else None
    gap, since, periodic = None, 0, False  # (between the last two cuts; since the last)
    with Interrupt() as interrupt, np.errstate(over="ignore", invalid="ignore"):
        while remaining:
            t0, lr = time.perf_counter(), state.learning_rate
            np.copyto(start, net.parameters)
            start_state.take(trainer.optimizer_state)
            ran = _run_chunk(
                trainer, kernel, data, state, cbs, stops, min(chunk, remaining),
                (start, start_state), (lowest_start, lowest_velocity, best.loss),
            )  # fmt: skip
            seconds = time.perf_counter() - t0
            quiet, losses, norms, scores = ran.quiet, ran.losses, ran.norms, ran.scores
            kernel.left = (remaining - ran.size) * seconds / ran.size  # (for _shaped)
            if ran.lowest >= 0:  # its optimizer state: the chunk's start, ``lowest`` epochs on
                at = {**start_state.saved, "step": start_state.saved["step"] + ran.lowest * n}
                if lowest_velocity is not None:
                    at["velocity"] = lowest_velocity
                epoch = trainer.epochs_done + 1 + ran.lowest
                best.offer(epoch, float(losses[ran.lowest]), lowest_start, at)
            if quiet:
                state.history.extend_columns(
                    trainer.epochs_done + 1, losses[:quiet], norms[:quiet], lr,
                    seconds / (quiet + 1), {name: v[:quiet] for name, v in scores.items()},
                )  # fmt: skip
                trainer.epochs_done += quiet
                state.epoch = trainer.epochs_done
                _tell_quiet(cbs, losses[:quiet], state)
            if ran.error is not None:
                raise ran.error
            if ran.ending == "failed":  # its steps were undone: the weights of its start
                restored = best.restore_if_better(trainer, data)
                return diverged(float(losses[quiet]), trainer.epochs_done + 1, lr, None, restored)
            record = EpochRecord(
                trainer.epochs_done + 1,
                float(losses[quiet]),
                None,
                {name: float(values[quiet]) for name, values in scores.items()},
                {},
                lr,
                float(norms[quiet]),
                seconds / (quiet + 1),
            )
            trainer.epochs_done += 1
            remaining -= quiet + 1
            reason = trainer.end_epoch(record, state, cbs)
            if interrupt.requested:
                return f"interrupted ({interrupt.signal}) after epoch {record.epoch}"
            if reason:
                return reason
            # The chunks' sizes. A cut (a callback acting before the chunk's end) wasted the
            # epochs after it: the next chunk is twice the cut. A callback acting every k
            # epochs (lines, checkpoints) shows as the same gap between two cuts twice
            # running: chunks of k then end on its acts, and nothing runs for nothing
            # (chunks of 2k computed 3 epochs for each one kept). Only cuts measure gaps:
            # early stopping acts on every chunk's last epoch while the loss improves, which
            # says nothing of a period. Otherwise chunks grow while they are short.
            kept = quiet + 1
            if kept < ran.size:  # cut
                periodic, gap, since = since + kept == gap, since + kept, 0
                chunk = min(gap if periodic else 2 * kept, longest)
            elif periodic and ran.acted and ran.size == gap:
                since = 0  # (it ended on the periodic act: the same again)
            else:
                periodic, since = False, 0 if ran.acted else since + kept
                if seconds < CHUNK_SECONDS:
                    chunk = min(chunk * 4, longest)
    return max_epochs(state)


class _Stops(NamedTuple):
    """What the kernel stops at: a loss (``target``, :func:`_target`), and an epoch whose
    weights may classify every example correctly (none surely wrong: NumPy decides) when
    ``classes`` (the kernel's argument, for the run's :class:`AllCorrect` ``rules``) is
    given."""

    target: float
    rules: Sequence[AllCorrect]
    classes: tuple[np.ndarray, int, float, float] | None


class _Chunk(NamedTuple):
    """What :func:`_run_chunk` kept of a chunk: ``quiet`` epochs that passed quietly, then
    one that ends it (``ending``): "epoch", a finished epoch for ``on_epoch_end``; "failed",
    one that diverged, its steps undone; "error", one whose metric raised ``error`` (its
    steps taken). ``size``: the epochs asked of the kernel. Their losses, gradient norms and
    metric values (those of the quiet epochs, and of the "epoch"). ``lowest``: the index of
    the last kept finished epoch whose loss was a new lowest (-1: none, and for "error"),
    whose starting weights the kernel wrote into the buffer it was given. ``acted``: a
    callback pointed at the epoch that ends it (what tells a callback acting every k epochs
    from none at all, where the chunk ends on its act)."""

    quiet: int
    ending: str
    error: Exception | None
    size: int
    lowest: int
    losses: np.ndarray
    norms: np.ndarray
    scores: dict[str, np.ndarray]
    acted: bool


def _run_chunk(
    trainer: Any,
    kernel: _compiled.OnlineKernel,
    data: Data,
    state: TrainingState,
    cbs: Sequence[Callback],
    stops: _Stops,
    size: int,
    starts: tuple[np.ndarray, OptimizerSnapshot],
    lowest: tuple[np.ndarray, np.ndarray | None, float],
) -> _Chunk:
    """Run up to ``size`` epochs in one kernel call, as :meth:`OnlineKernel.run
    <deltarule._compiled.OnlineKernel.run>` says, score the finished ones' metrics and keep
    the epochs the plain loop would have run: up to the first on which a callback acts, a
    metric raises, or the loss or weights stop being finite.

    Where that is short of the kernel's last epoch, the weights (and a velocity) of its end
    are computed again from the chunk's start, ``starts`` (its weights and optimizer state;
    the kernel computes the same again). The random stream and the step count are left as
    the plain loop leaves them. ``lowest``: (buffers for weights and a velocity, the lowest
    loss so far): the kernel writes the start of the kept epoch with a new lowest loss
    there. Nothing is told to the callbacks (:func:`run_compiled` does).
    """
    net, n = trainer.network, data.X.shape[0]
    scale, decay, lr = *_terms(trainer), state.learning_rate
    rng_state = trainer._shuffle_rng.bit_generator.state
    orders = epoch_orders(trainer, n, size)
    outputs = np.empty((size, n, net.n_outputs), net.dtype) if trainer.metrics else None
    buffer, velocity_buffer, below = lowest
    start, start_state = starts
    rule, velocity = _moves(trainer)
    moves = {"rule": rule, "velocity": velocity, "best_velocity": velocity_buffer}
    done, _, failed, losses, norms, best = kernel.run(
        data.X, data.y, orders, lr, stops.target, size, scale, decay, outputs=outputs,
        best=buffer, best_loss=below, classes=stops.classes, **moves,
    )  # fmt: skip
    for rule in stops.rules:  # (the epoch they point at, from 1)
        rule._found = trainer.epochs_done + done if kernel.all_correct else None
    finished = done - 1 if failed else done  # (the plain loop undoes a failed epoch's steps)
    try:
        quiet = _quiet(cbs, losses[:finished], state)
    except BaseException:  # a callback's own error: the run as it stood before the chunk
        np.copyto(net.parameters, start)
        start_state.put(trainer.optimizer_state)
        trainer._shuffle_rng.bit_generator.state = rng_state
        raise
    scored, scores, error = min(quiet + 1, finished), {}, None  # (none after an act)
    if outputs is not None:
        visits = None if orders is None else orders[:scored]
        cut = class_threshold(net.layers[-1].activation, data.y)  # the plain loop's
        scores, error = _chunk_metrics.columns(
            trainer.metrics, data.y, visits, outputs[:scored], threshold=cut
        )
    if error is not None:  # on an epoch up to the one a callback acts on: the error first
        scored = len(next(iter(scores.values())))  # (the epochs before the one that raised)
        # the callbacks asked again about those epochs alone: one acting among them (early
        # stopping's last improvement, whose weights it keeps) ends the chunk there, and
        # the error comes in the next, as in the plain loop
        quiet = _quiet(cbs, losses[:scored], state) if scored else 0
        if quiet >= scored:
            quiet = scored
        else:
            error = None
    acted = quiet < finished
    if error is not None:
        ending = "error"
    elif quiet < finished:  # a callback acts on the next epoch: the run goes to its end
        ending = "epoch"
    elif failed:
        ending = "failed"
    else:
        quiet, ending = done - 1, "epoch"
    if quiet + 1 < size:  # consume exactly the permutations the plain path would have
        _draw_again(trainer, rng_state, n, quiet + 1)
    steps = quiet if ending == "failed" else quiet + 1  # the epochs whose steps stand
    if steps != finished:  # (where the kernel's weights are)
        np.copyto(net.parameters, start)
        start_state.put(trainer.optimizer_state)  # (a velocity, in place: the kernel's)
        replay = None if orders is None else orders[:steps]
        best = kernel.run(
            data.X, data.y, replay, lr, -math.inf, steps, scale, decay, best=buffer,
            best_loss=below, **moves,
        )[5]  # fmt: skip
    trainer.optimizer_state["step"] += steps * n
    scores = {name: values[: quiet + 1] for name, values in scores.items()}
    losses, norms = losses[: quiet + 1], norms[: quiet + 1]
    best = -1 if ending == "error" else best
    return _Chunk(quiet, ending, error, size, best, losses, norms, scores, acted)


def _draw_again(trainer: Any, rng_state: dict, n: int, n_epochs: int) -> None:
    """Put the shuffling stream back to ``rng_state`` and draw ``n_epochs`` orders again."""
    trainer._shuffle_rng.bit_generator.state = rng_state
    epoch_orders(trainer, n, n_epochs)


def _compiled_epoch(trainer: Any) -> Callable[[Data, float, Any], tuple]:
    """An epoch function for the plain loop (:meth:`Trainer._run_epochs`): one compiled epoch.

    A failed epoch's weights are left as it left them: the loop sees them, restores the
    epoch's starting weights and reports it, as for its own epochs. With metrics, the epoch's
    outputs (before each update, in visiting order) go to the loop, which scores them.
    """
    net = trainer.network
    kernel, (scale, decay) = _compiled.OnlineKernel(net), _terms(trainer)

    def epoch(data: Data, lr: float, interrupt: Any) -> tuple[float, Any, np.ndarray, float]:
        rule, velocity = _moves(trainer)  # (the state's, read every epoch)
        n = data.X.shape[0]
        orders = epoch_orders(trainer, n, 1)
        outputs = np.empty((1, n, net.n_outputs), net.dtype) if trainer.metrics else None
        _, updates, _, losses, norms, _ = kernel.run(
            data.X, data.y, orders, lr, -math.inf, 1, scale, decay, restore=False,
            outputs=outputs, rule=rule, velocity=velocity,
        )  # fmt: skip
        trainer.optimizer_state["step"] += updates  # (the loop undoes a failed epoch's)
        order = np.arange(n) if orders is None else orders[0]
        output = None if outputs is None else outputs[0]
        return float(losses[0]), output, order, float(norms[0])

    return epoch


def epoch_orders(trainer: Any, n: int, n_epochs: int) -> np.ndarray | None:
    """Each epoch's visiting order, drawn exactly as :func:`deltarule._steps.run_epoch` draws it
    (``permutation(n)`` an epoch: ``permuted`` shuffles each row of the table alike, from the
    same draws, in one call: 65,536 epochs of 4 rows took 96 ms as permutations, now 1 ms)."""
    if not trainer.shuffle or n == 1:  # a one-element permutation draws nothing
        return None
    rng = trainer._shuffle_rng
    if not isinstance(rng, np.random.Generator):  # (the estimators' scikit-learn stream)
        return np.stack([rng.permutation(n) for _ in range(n_epochs)])
    return rng.permuted(np.tile(np.arange(n), (n_epochs, 1)), axis=1)
