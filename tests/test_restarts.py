"""fit_restarts: several random starts, the best kept (R neuralnet's ``rep``)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import deltarule as dr
from deltarule.exceptions import ConvergenceWarning, InputError
from deltarule.training import Restarts, fit, fit_restarts

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([[0], [1], [1], [0]], dtype=float)
FIT = {"epochs": 30, "batch_size": 2, "optimizer": "sgd", "learning_rate": 0.5, "verbose": 0}


def xor_net() -> dr.Network:
    return dr.Network([2, 3, 1], activation="tanh", output_activation="sigmoid", seed=7)


def quiet(*args, **kwargs) -> Restarts:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit_restarts(*args, **kwargs)


def test_keeps_the_lowest_loss_and_its_exact_weights():
    net = xor_net()
    runs = quiet(net, X, Y, restarts=4, seed=3, **FIT)
    assert isinstance(runs, Restarts) and len(runs.histories) == len(runs.seeds) == 4
    assert runs.losses == [h.last.loss for h in runs.histories]
    assert runs.best == int(np.argmin(runs.losses))
    # an independent oracle: that restart alone, from its recorded seed, with plain fit
    alone = xor_net().initialize(seed=runs.seeds[runs.best])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        history = fit(alone, X, Y, seed=runs.seeds[runs.best], **FIT)
    assert history.last.loss == runs.losses[runs.best]
    np.testing.assert_array_equal(net.parameters, alone.parameters)


def test_reproducible_for_a_seed_and_different_between_restarts():
    a, b = xor_net(), xor_net()
    first, second = quiet(a, X, Y, restarts=3, seed=5, **FIT), quiet(b, X, Y, 3, 5, **FIT)
    assert first.seeds == second.seeds and first.losses == second.losses
    np.testing.assert_array_equal(a.parameters, b.parameters)
    assert len(set(first.seeds)) == 3 and len(set(first.losses)) == 3
    other = quiet(xor_net(), X, Y, restarts=3, seed=6, **FIT)
    assert other.seeds != first.seeds
    # the first k runs do not depend on how many follow
    assert quiet(xor_net(), X, Y, restarts=2, seed=5, **FIT).seeds == first.seeds[:2]


def test_select_val_loss_with_validation_split():
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(40, 2))
    yr = (Xr[:, :1] * Xr[:, 1:] > 0).astype(float)
    net = xor_net()
    runs = quiet(net, Xr, yr, restarts=3, select="val_loss", validation_split=0.25, **FIT)
    assert runs.select == "val_loss"
    best_val = [min(v for v in h.val_loss if v is not None) for h in runs.histories]
    assert runs.losses == best_val
    assert runs.best == int(np.argmin(best_val))
    assert "val_loss" in runs.summary().splitlines()[0]


def test_one_combined_warning_for_the_runs_at_the_epoch_limit():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # a target error no run meets: each fit alone would warn
        runs = fit_restarts(xor_net(), X, Y, restarts=3, target_error=1e-12, **FIT)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(convergence) == 1
    assert "3 of 3 restarts stopped at the epoch limit" in str(convergence[0].message)
    assert convergence[0].filename == __file__  # pointed at the caller
    assert all(r.startswith("max epochs") for r in runs.stop_reasons)


def test_other_warnings_are_reissued_unchanged():
    weights = np.array([1.0, 2.0, 1.0, 2.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit_restarts(
            xor_net(),
            X,
            Y,
            restarts=2,
            **{**FIT, "batch_size": 1},
            sample_weight=weights,
            warn_convergence=False,
        )
    others = [w for w in caught if not issubclass(w.category, ConvergenceWarning)]
    with warnings.catch_warnings(record=True) as alone:
        warnings.simplefilter("always")
        fit(
            xor_net(),
            X,
            Y,
            seed=0,
            **{**FIT, "batch_size": 1},
            sample_weight=weights,
            warn_convergence=False,
        )
    assert alone and len(others) == 2 * len(alone)
    assert {(w.category, str(w.message)) for w in others} == {
        (w.category, str(w.message)) for w in alone
    }


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"restarts": 0}, "restarts must be >= 1"),
        ({"restarts": 2.5}, "restarts must be an integer"),
        ({"restarts": True}, "restarts must be an integer"),
        ({"select": "accuracy"}, "select must be one of 'loss', 'val_loss'"),
        ({"select": "val_loss"}, "no validation data was given"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"seed": None}, "seed must be a non-negative integer"),
        ({"seed": np.random.default_rng(0)}, "seed must be a non-negative integer"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    net = xor_net()
    before = net.parameters.copy()
    with pytest.raises(InputError, match=match):
        fit_restarts(net, X, Y, **kwargs, **FIT)
    np.testing.assert_array_equal(net.parameters, before)


def test_non_network_refused():
    with pytest.raises(InputError, match="needs a deltarule Network"):
        fit_restarts("net", X, Y, **FIT)


def _sometimes_huge(shape, fan_in, fan_out, rng, dtype):
    """Starting weights that overflow at once for about half the seeds."""
    scale = 1e25 if rng.random() < 0.5 else 0.1
    return (rng.normal(size=shape) * scale).astype(dtype)


def test_best_weights_kept_when_some_restarts_diverge():
    net = dr.Network([2, 4, 1], activation="relu", seed=0)
    settings = {"epochs": 3, "batch_size": None, "optimizer": "sgd", "learning_rate": 0.1}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        runs = fit_restarts(
            net, X, Y, restarts=4, seed=1, initializer=_sometimes_huge, verbose=0, **settings
        )
    diverged = [i for i, r in enumerate(runs.stop_reasons) if r.startswith("training diverged")]
    assert diverged and all(math.isnan(runs.losses[i]) for i in diverged), runs.summary()
    assert runs.best not in diverged
    finite = [loss for loss in runs.losses if not math.isnan(loss)]
    assert runs.losses[runs.best] == min(finite)
    assert np.isfinite(net.parameters).all()
    alone = dr.Network([2, 4, 1], activation="relu")
    alone.initialize(_sometimes_huge, seed=runs.seeds[runs.best])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit(alone, X, Y, seed=runs.seeds[runs.best], verbose=0, **settings)
    np.testing.assert_array_equal(net.parameters, alone.parameters)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(messages) == 1 and f"{len(diverged)} of 4 restarts diverged" in messages[0]


def test_nan_loss_counts_as_worst():
    from deltarule.restarts import _rank

    assert math.isnan(sorted([math.nan, 2.0, 1.0], key=_rank)[-1])
    assert min([math.nan, 5.0, math.inf], key=_rank) == 5.0


def test_summary_lists_every_run_and_marks_the_best():
    runs = quiet(xor_net(), X, Y, restarts=3, **FIT)
    lines = runs.summary().splitlines()
    assert lines[0].split()[:3] == ["restart", "loss", "epochs"]
    assert len(lines) == 1 + 3 + 1
    marked = [line for line in lines[1:4] if line.lstrip().startswith("*")]
    assert marked == [lines[1 + runs.best]]
    assert lines[-1] == f"* kept: restart {runs.best} (lowest loss)"
    assert runs.epochs == [30, 30, 30]


def test_frozen_parameters_keep_their_values():
    net = xor_net().freeze("b1")
    net.biases[0] = [0.25, -0.5, 1.0]
    quiet(net, X, Y, restarts=2, **FIT)
    np.testing.assert_array_equal(net.biases[0], np.float32([0.25, -0.5, 1.0]))


def test_exported_from_the_package():
    assert dr.fit_restarts is fit_restarts and dr.Restarts is Restarts
    with pytest.raises(Exception, match="cannot assign|frozen"):
        Restarts(0, [], [], []).best = 1  # type: ignore[misc]
