"""Names a user of R neuralnet, FANN or scikit-learn brings: the error points to the right
rule instead of a look-alike (before: 'rprop-' suggested 'rprop', the PLUS variant;
'uniform' suggested 'he_uniform'; solver='l-bfgs' had no suggestion)."""

from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule.optimizers import IRpropMinus, IRpropPlus, get_optimizer


@pytest.mark.parametrize(
    "name, variant",
    [("rprop-", "irprop_minus"), ("RPROP+", "irprop_plus"), ("rprop_minus", "irprop_minus")],
)
def test_neuralnets_rprop_names_point_to_the_irprop_variant_without_aliasing(name, variant):
    for call in (lambda: get_optimizer(name),
                 lambda: dr.Network([2, 1]).fit(np.zeros((2, 2)), np.zeros((2, 1)),
                                                optimizer=name, epochs=1, verbose=0)):  # fmt: skip
        with pytest.raises(dr.UnknownNameError) as error:
            call()
        message = str(error.value)
        assert f"did you mean {variant!r}" in message
        assert "Did you mean 'rprop'" not in message
        assert "not the same" in message and "Igel" in message and "1e-10" in message
        assert f"get_optimizer({variant!r}, delta_min=1e-10, delta_max=0.1)" in message
    assert isinstance(get_optimizer(variant, delta_min=1e-10, delta_max=0.1),
                      IRpropMinus if variant == "irprop_minus" else IRpropPlus)  # fmt: skip


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
