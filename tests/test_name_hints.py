"""Names a user of R neuralnet, FANN or scikit-learn brings: the error points to the right
rule instead of a look-alike (before: 'rprop-' suggested 'rprop', the PLUS variant, and
R neuralnet's 'rprop+'/'rprop-' were refused as only related to iRprop; now they are its rules;
'uniform' suggested 'he_uniform'; solver='l-bfgs' had no suggestion)."""

from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule.optimizers import RpropMinus, RpropPlus, get_optimizer


@pytest.mark.parametrize(
    "name, rule", [("rprop-", RpropMinus), ("RPROP+", RpropPlus), ("rprop_minus", RpropMinus)]
)
def test_neuralnets_rprop_names_are_its_own_rules_not_the_irprop_variants(name, rule):
    assert type(get_optimizer(name)) is rule
    assert type(get_optimizer(name, delta_min=1e-10, delta_max=0.1)) is rule
    net = dr.Network([2, 1], seed=0)
    history = net.fit(np.zeros((2, 2)), np.zeros((2, 1)), optimizer=name, epochs=1, verbose=0)
    assert len(history.loss) == 1


@pytest.mark.parametrize(
    "name, closest", [("uniform", "small_uniform"), ("normal", "lecun_normal")]
)
def test_a_plain_distribution_by_name_says_to_pass_a_callable(name, closest) -> None:
    with pytest.raises(dr.UnknownNameError) as error:
        dr.Network([2, 1], initializer=name)
    message = str(error.value)
    assert "Did you mean 'he_" not in message
    assert closest in message and "pass a callable" in message
    # the callable the message shows works as written
    draw = "uniform(-0.5, 0.5" if name == "uniform" else "normal(0.0, 1.0"
    assert f"rng.{draw}, shape).astype(dtype)" in message
    net = dr.Network([2, 1], initializer=lambda shape, fan_in, fan_out, rng, dtype: rng.uniform(
        -0.5, 0.5, shape).astype(dtype), seed=0)  # fmt: skip
    assert np.all(np.abs(net.weights[0]) <= 0.5)


def test_other_unknown_initializers_keep_the_did_you_mean() -> None:
    with pytest.raises(dr.UnknownNameError, match="Did you mean 'he_uniform'"):
        dr.Network([2, 1], initializer="he_unifrom")


@pytest.mark.parametrize(
    "solver, suggestion",
    [("l-bfgs", "lbfgs"), ("LBFGS", "lbfgs"), ("levenberg_marquardt", "lm"), ("adma", "adam")],
)
def test_an_estimators_solver_misspelling_gets_a_did_you_mean(solver, suggestion) -> None:
    from deltarule.sklearn import MLPRegressor

    with pytest.raises(dr.InputError, match=rf"did you mean solver='{suggestion}'\?"):
        MLPRegressor(solver=solver).fit(np.zeros((4, 2)), np.zeros(4))
