"""Learning-rate schedules: formulas, torch.optim.lr_scheduler agreement, state, bad input."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from conftest import torch_plateau_rates

from deltarule.exceptions import InputError, UnknownNameError
from deltarule.schedules import (
    SCHEDULES,
    CosineDecay,
    ReduceOnPlateau,
    Schedule,
    constant,
    cosine,
    exponential,
    get_schedule,
    inverse_scaling,
    schedule_from_config,
    step,
)

BASE = 0.1
EPOCHS = range(40)


def rates(schedule: Schedule, epochs=EPOCHS, base: float = BASE) -> list[float]:
    return [schedule(e, base) for e in epochs]


def torch_rates(make, epochs: int, values=None) -> list[float]:
    """Per-epoch rates of a torch scheduler (stepped after each epoch) on a dummy SGD."""
    torch = pytest.importorskip("torch")
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=BASE)
    scheduler = make(torch.optim.lr_scheduler, opt)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. SequentialLR's deprecations
        for e in range(epochs):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step(values[e]) if values is not None else scheduler.step()
    return out


# --- Formulas, written out here independently ---


def test_constant():
    assert rates(constant()) == [BASE] * len(EPOCHS)


def test_step_formula_and_torch():
    got = rates(step(7, gamma=0.5))
    np.testing.assert_allclose(got, [BASE * 0.5 ** (e // 7) for e in EPOCHS], rtol=1e-15)
    assert got[6] == BASE and got[7] == BASE / 2
    expected = torch_rates(lambda s, o: s.StepLR(o, step_size=7, gamma=0.5), len(EPOCHS))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_exponential_formula_and_torch():
    got = rates(exponential(0.9))
    np.testing.assert_allclose(got, [BASE * 0.9**e for e in EPOCHS], rtol=1e-15)
    expected = torch_rates(lambda s, o: s.ExponentialLR(o, gamma=0.9), len(EPOCHS))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_inverse_scaling_formula():
    got = rates(inverse_scaling(power_t=0.25))
    np.testing.assert_allclose(got, [BASE / (e + 1) ** 0.25 for e in EPOCHS], rtol=1e-15)
    assert inverse_scaling()(3, 1.0) == 0.5  # sklearn's default power_t = 0.5: 1/sqrt(4)
    assert rates(inverse_scaling(power_t=0.0)) == [BASE] * len(EPOCHS)


def test_cosine_without_warmup_formula_and_torch():
    got = rates(cosine(30, min_lr=0.01))
    half = [0.01 + (BASE - 0.01) * (1 + math.cos(math.pi * min(e, 30) / 30)) / 2 for e in EPOCHS]
    np.testing.assert_allclose(got, half, rtol=1e-14)
    assert got[0] == BASE and got[15] == pytest.approx((BASE + 0.01) / 2, rel=1e-14)
    assert got[30:] == [pytest.approx(0.01, rel=1e-14)] * 10  # stays at min_lr after the end
    expected = torch_rates(lambda s, o: s.CosineAnnealingLR(o, T_max=30, eta_min=0.01), 31)
    np.testing.assert_allclose(got[:31], expected, rtol=1e-9, atol=1e-15)


def test_cosine_with_warmup_formula_and_torch():
    got = rates(cosine(20, warmup_epochs=4))
    assert got[:5] == pytest.approx([BASE / 5, 2 * BASE / 5, 3 * BASE / 5, 4 * BASE / 5, BASE])
    tail = [BASE * (1 + math.cos(math.pi * min(e - 4, 16) / 16)) / 2 for e in EPOCHS[4:]]
    np.testing.assert_allclose(got[4:], tail, rtol=1e-14, atol=1e-17)

    def make(s, o):
        warm = s.LinearLR(o, start_factor=1 / 5, end_factor=1.0, total_iters=4)
        return s.SequentialLR(o, [warm, s.CosineAnnealingLR(o, T_max=16)], milestones=[4])

    np.testing.assert_allclose(got[:20], torch_rates(make, 20), rtol=1e-9, atol=1e-15)


# --- Reduce on plateau ---

# Falls, then a plateau, a small improvement below min_delta, a real improvement, a long plateau.
LOSSES = [1.0, 0.8, 0.7, 0.7, 0.71, 0.69995, 0.7, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6,
          0.59, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]  # fmt: skip


def plateau_run(sched: ReduceOnPlateau, values) -> tuple[list[float], list[bool]]:
    lrs, reduced = [], []
    for e, value in enumerate(values):
        lrs.append(sched(e, BASE))
        reduced.append(sched.observe(value))
    return lrs, reduced


def test_reduce_on_plateau_scripted():
    lrs, reduced = plateau_run(ReduceOnPlateau(factor=0.5, patience=2, min_delta=1e-3), LOSSES)
    # Best 0.7 at epoch 2; epochs 3, 4, 5 do not improve by 1e-3 -> reduce after epoch 5.
    # 0.6 at epoch 7 is better; 8-10 are not -> reduce; 11-13 -> reduce; 0.59 at 16 is better.
    assert [e for e, r in enumerate(reduced) if r] == [5, 10, 13, 19, 22, 25, 28]
    assert lrs[5] == BASE and lrs[6] == BASE / 2 and lrs[11] == BASE / 4


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(factor=0.5, patience=2, min_delta=1e-3),
        dict(factor=0.5, patience=1, min_delta=0.0, cooldown=2),
        dict(factor=0.2, patience=0, min_delta=1e-4, min_lr=1e-3),
        dict(factor=0.5, patience=1, min_delta=1e-3, mode="max"),
    ],
)
def test_reduce_on_plateau_agrees_with_torch(kwargs):
    values = [-v for v in LOSSES] if kwargs.get("mode") == "max" else LOSSES
    lrs, _ = plateau_run(ReduceOnPlateau(**kwargs), values)

    def make(s, o):
        return s.ReduceLROnPlateau(
            o, mode=kwargs.get("mode", "min"), factor=kwargs["factor"],
            patience=kwargs["patience"], threshold=kwargs["min_delta"], threshold_mode="abs",
            cooldown=kwargs.get("cooldown", 0), min_lr=kwargs.get("min_lr", 0.0),
        )  # fmt: skip

    np.testing.assert_allclose(lrs, torch_rates(make, len(values), values), rtol=1e-12)


@pytest.mark.parametrize("min_lr", [0.3, BASE, 0.03])  # above, at and below the base rate
def test_a_plateau_reduction_never_raises_the_rate(min_lr):
    # (a min_lr above the base rate raised it: 0.1, 0.1, 0.3, 0.3, ...; torch applies a
    # reduction only when it lowers the rate, Keras only reduces a rate above min_lr)
    values = [1.0] * 12  # flat: a reduction falls due every other epoch
    kwargs = dict(factor=0.5, patience=1, min_delta=1e-4, min_lr=min_lr)
    lrs, _ = plateau_run(ReduceOnPlateau(**kwargs), values)
    expected = torch_plateau_rates(BASE, values, factor=0.5, patience=1, threshold=1e-4,
                                   min_lr=min_lr, eps=0.0)  # fmt: skip
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)
    assert max(lrs) <= BASE


def test_reduce_on_plateau_state_round_trip_resumes_identically():
    kwargs = dict(factor=0.5, patience=1, cooldown=1)
    whole, _ = plateau_run(ReduceOnPlateau(**kwargs), LOSSES)
    first = ReduceOnPlateau(**kwargs)
    plateau_run(first, LOSSES[:12])
    saved = json.loads(json.dumps(first.state_dict()))
    resumed = schedule_from_config(json.loads(json.dumps(first.config())))
    resumed.load_state_dict(saved)
    assert resumed.state_dict() == first.state_dict()
    rest = []
    for e in range(12, len(LOSSES)):
        rest.append(resumed(e, BASE))
        resumed.observe(LOSSES[e])
    assert rest == whole[12:]
    fresh = ReduceOnPlateau().state_dict()
    assert fresh == {"best": None, "bad_epochs": 0, "cooldown_left": 0, "reductions": 0}


# --- Contract over every registry entry ---

NON_DEFAULT = {
    "constant": {},
    "step": dict(step_size=3, gamma=0.5),
    "exponential": dict(gamma=0.8),
    "inverse_scaling": dict(power_t=0.3),
    "cosine": dict(total_epochs=12, warmup_epochs=2, min_lr=1e-3),
    "reduce_on_plateau": dict(
        factor=0.3, patience=1, min_delta=0.01, min_lr=1e-4, mode="max", cooldown=2
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_contract(name):
    cls = SCHEDULES[name]
    sched = get_schedule(name, **NON_DEFAULT[cls.name])
    config = json.loads(json.dumps(sched.config()))
    rebuilt = schedule_from_config(config)
    assert rebuilt == sched and config["name"] == cls.name and repr(rebuilt) == repr(sched)
    values = rates(sched, range(15))
    assert all(type(v) is float and v > 0 for v in values)
    assert values == rates(rebuilt, range(15))
    assert rates(sched, [3, 0, 3], base=np.float32(0.5)) == rates(sched, [3, 0, 3], base=0.5)
    if cls is not ReduceOnPlateau:  # pure: no state, observe changes nothing
        assert sched.state_dict() == {} and sched.observe(1.0) is False
        assert rates(sched, range(15)) == values


def test_non_default_table_covers_every_schedule():
    assert set(NON_DEFAULT) == {cls.name for cls in SCHEDULES.values()}


# --- Bad input ---


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("step", dict(step_size=0), r"step_size must be >= 1; received 0"),
        ("step", dict(step_size=2.5), r"step_size must be an integer"),
        ("step", dict(step_size=2, gamma=-0.1), r"gamma must be > 0; received -0.1"),
        ("exponential", dict(gamma=0.0), r"gamma must be > 0"),
        ("inverse_scaling", dict(power_t=-1), r"power_t must be >= 0"),
        ("cosine", dict(total_epochs=10, warmup_epochs=10), r"warmup_epochs=10 must be less"),
        ("cosine", dict(total_epochs=10, min_lr=-1.0), r"min_lr must be >= 0"),
        ("plateau", dict(factor=1.0), r"factor must be in \(0, 1\)"),
        ("plateau", dict(patience=-1), r"patience must be >= 0"),
        ("plateau", dict(mode="avg"), r"mode must be 'min' \(for a loss\) or 'max'"),
        ("plateau", dict(cooldown=1.5), r"cooldown must be an integer"),
        ("step", dict(gamma=0.5), r"'step' is missing a required hyper-parameter.*step_size"),
        ("constant", dict(gamma=0.5), r"'constant' has no hyper-parameter\(s\) gamma"),
        ("cosine", dict(total=3), r"has no hyper-parameter\(s\) total; expected some of"),
    ],
)
def test_bad_hyperparameters(name, kwargs, message):
    with pytest.raises(InputError, match=message):
        get_schedule(name, **kwargs)


def test_bad_epoch_names_and_configs():
    sched = get_schedule("exponential", gamma=0.5)
    with pytest.raises(InputError, match="epoch must be >= 0; received -1"):
        sched(-1, BASE)
    with pytest.raises(InputError, match="epoch must be an integer"):
        sched(1.5, BASE)
    with pytest.raises(UnknownNameError, match="unknown schedule 'cosin'.*Did you mean 'cosine'"):
        get_schedule("cosin")
    with pytest.raises(InputError, match="were given with a schedule object"):
        get_schedule(CosineDecay(5), total_epochs=6)
    with pytest.raises(InputError, match="mapping with a 'name'"):
        schedule_from_config({"gamma": 0.5})
    assert get_schedule(sched) is sched


@pytest.mark.parametrize("base_lr", [float("nan"), math.inf, -0.1, 0, "a", None, True])
def test_a_bad_base_rate_is_refused_with_what_was_received(base_lr):
    # (nan and -0.1 were returned as rates, "a" raised float()'s bare ValueError)
    with pytest.raises(InputError, match=r"base_lr must be a finite number > 0.*received "
                       r".*Pass the run's base learning rate"):  # fmt: skip
        step(2)(1, base_lr)


def test_a_plateau_reducing_a_rate_of_zero_keeps_it():
    # A trainer's later fit starts at the rate the last one left, 0 after a schedule that
    # ended there; the plateau callback's reductions of it are no base rate to refuse.
    import deltarule as dr
    from deltarule.callbacks import LearningRateScheduler, ReduceLROnPlateau
    from deltarule.training import Trainer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = X @ [[1.0], [2.0]]
    trainer = Trainer(dr.Network([2, 3, 1], seed=0), "sgd", 0.01, 8)
    quiet = dict(verbose=0, warn_convergence=False)
    trainer.fit(X, y, epochs=2, callbacks=[LearningRateScheduler(lambda e, b: 0.0)], **quiet)
    plateau = ReduceLROnPlateau("loss", patience=0, min_delta=10.0)
    history = trainer.fit(X, y, epochs=3, callbacks=[plateau], **quiet)
    assert history["learning_rate"] == [0.0] * 3 and plateau.plateau.reductions == 2


@pytest.mark.parametrize("batch_size", [1, 8])
def test_a_cosine_run_past_its_total_epochs_trains_at_rate_zero(batch_size):
    # (QA with PyTorch as the oracle: fit refused the rate 0.0 that cosine's default
    # min_lr reaches at epoch T, so epochs > total_epochs crashed at epoch T + 1)
    import deltarule as dr

    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 2))
    y = X @ [[1.0], [-2.0]]
    net = dr.Network([2, 3, 1], seed=0)
    kept = {}

    class Keep(dr.callbacks.Callback):
        def on_epoch_end(self, record, state):
            kept[record.epoch] = state.network.parameters.copy()

    history = net.fit(
        X, y, epochs=7, batch_size=batch_size, schedule=cosine(total_epochs=5),
        optimizer="adam", learning_rate=0.05, verbose=0, callbacks=[Keep()],
    )  # fmt: skip
    assert [r.learning_rate for r in history.records][5:] == [0.0, 0.0]
    assert not np.array_equal(kept[4], kept[5])  # (the last epoch at a rate > 0 trains)
    np.testing.assert_array_equal(kept[5], kept[6])  # (at rate 0 nothing moves)
    np.testing.assert_array_equal(kept[6], kept[7])

    class Negative(dr.callbacks.Callback):
        def on_epoch_begin(self, state):
            state.learning_rate = -0.1

    with pytest.raises(InputError, match=r"to -0.1 \(float\) for epoch 1; .* >= 0"):
        net.fit(X, y, epochs=2, verbose=0, callbacks=[Negative()])


def test_cosine_by_name_resumed_from_a_checkpoint_follows_the_uninterrupted_rates(tmp_path):
    # (QA: "cosine" by name decayed over each fit's own epochs, so a run resumed for its
    # 7 remaining epochs decayed over 7 from epoch 4 on: rates 0.0 for its last three)
    import deltarule as dr
    from deltarule.io.checkpoint import Checkpoint, load_checkpoint, resume_trainer
    from deltarule.training import Trainer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 3))
    y = X @ [[1.0], [-1.0], [0.5]]

    def trainer():
        return Trainer(dr.Network([3, 4, 1], seed=0), "adam", 0.01, 8, seed=1)

    class StopAt(dr.callbacks.Callback):
        def on_epoch_end(self, record, state):
            return "stopped by hand" if record.epoch == 3 else None

    whole = trainer().fit(X, y, epochs=10, schedule="cosine", verbose=0, warn_convergence=False,
                          callbacks=[Checkpoint(tmp_path / "a")])  # fmt: skip
    first = trainer()
    first.fit(X, y, epochs=10, schedule="cosine", verbose=0, warn_convergence=False,
              callbacks=[Checkpoint(tmp_path / "b"), StopAt()])  # fmt: skip
    saved = load_checkpoint(tmp_path / "b")
    assert saved.epochs_done == 3
    resumed = resume_trainer(trainer(), saved)
    rest = resumed.fit(X, y, epochs=7, schedule="cosine", verbose=0, warn_convergence=False,
                       callbacks=[Checkpoint(tmp_path / "b", history=saved.history)])  # fmt: skip
    rates = [r.learning_rate for r in saved.history] + [r.learning_rate for r in rest]
    assert rates == [r.learning_rate for r in whole]
    assert rates[-1] > 0
    np.testing.assert_array_equal(resumed.network.parameters, load_checkpoint(tmp_path / "a")
                                  .network.parameters)  # fmt: skip


def test_a_plateau_run_started_at_rate_zero_resumes_from_its_checkpoint(tmp_path):
    # (a review: ReduceLROnPlateau's saved start rate of 0 was refused as damaged)
    import deltarule as dr
    from deltarule.callbacks import LearningRateScheduler, ReduceLROnPlateau
    from deltarule.io.checkpoint import Checkpoint, load_checkpoint, resume_trainer
    from deltarule.training import Trainer

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = X @ [[1.0], [2.0]]
    trainer = Trainer(dr.Network([2, 3, 1], seed=0), "adam", 0.01, 8)
    quiet = dict(verbose=0, warn_convergence=False)
    trainer.fit(X, y, epochs=2, callbacks=[LearningRateScheduler(lambda e, b: 0.0)], **quiet)
    trainer.fit(X, y, epochs=2, callbacks=[ReduceLROnPlateau("loss"), Checkpoint(tmp_path)],
                **quiet)  # fmt: skip
    saved = load_checkpoint(tmp_path)
    plateau = [ReduceLROnPlateau("loss")]
    again = resume_trainer(Trainer(dr.Network([2, 3, 1], seed=0), "adam", 0.01, 8), saved,
                           plateau)  # fmt: skip
    assert again.learning_rate == 0.0 and again.epochs_done == 4
