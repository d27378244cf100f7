"""GradientNormBelow's two rules: the epoch's mean-gradient norm, and R neuralnet's threshold
(max |dE/dw| of the error summed over the rows) checked against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule.callbacks import GradientNormBelow, TrainingState
from deltarule.history import EpochRecord

RNG = np.random.default_rng(3)
X = RNG.normal(size=(7, 2))
Y = RNG.normal(size=(7, 1))


def small_network() -> dr.Network:
    return dr.Network([2, 3, 1], activation="sigmoid", loss="sse", dtype="float64", seed=1)


def summed_error(net: dr.Network, sample_weight=None) -> float:
    """neuralnet's err.fct="sse" in plain NumPy: 1/2 sum_i s_i sum_k (o_ik - t_ik)^2."""
    hidden = 1 / (1 + np.exp(-(X @ net.weights[0].T + net.biases[0])))
    out = hidden @ net.weights[1].T + net.biases[1]
    per_row = 0.5 * ((out - Y) ** 2).sum(axis=1)
    weights = np.ones(len(X)) if sample_weight is None else sample_weight
    return float((weights * per_row).sum())


def finite_difference_max(net: dr.Network, sample_weight=None, h: float = 1e-6) -> float:
    params = net.parameters
    grad = np.empty(params.size)
    for j in range(params.size):
        keep = params[j]
        params[j] = keep + h
        up = summed_error(net, sample_weight)
        params[j] = keep - h
        down = summed_error(net, sample_weight)
        params[j] = keep
        grad[j] = (up - down) / (2 * h)
    return float(np.abs(grad).max())


def record(gradient_norm: float = 1.0) -> EpochRecord:
    return EpochRecord(1, 0.5, None, {}, {}, 0.1, gradient_norm, 0.0)


def state(net: dr.Network, sample_weight=None) -> TrainingState:
    return TrainingState(net, None, {}, 1.0, 1.0, 10, X, Y, sample_weight)


@pytest.mark.parametrize("weighted", [False, True])
def test_the_neuralnet_rule_measures_max_abs_gradient_of_the_summed_error(weighted) -> None:
    net = small_network()
    sw = np.array([1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.25]) if weighted else None
    expected = finite_difference_max(net, sw)
    # the mean error's gradient is n (or sum of weights) times smaller: the rule must scale it
    _, mean_grad = net.loss_and_gradient(X, Y, sw)
    assert np.abs(mean_grad).max() < expected / 2
    rule = GradientNormBelow(expected * 1.001, rule="neuralnet")
    reason = rule.on_epoch_end(record(gradient_norm=1e9), state(net, sw))
    assert reason is not None and "neuralnet" in reason
    assert f"{expected:.3g}" in reason
    below = GradientNormBelow(expected * 0.999, rule="neuralnet")
    assert below.on_epoch_end(record(gradient_norm=0.0), state(net, sw)) is None


def test_the_neuralnet_rule_reads_sparse_features_a_chunk_at_a_time() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    net = small_network()
    expected = finite_difference_max(net)
    sparse_state = TrainingState(net, None, {}, 1.0, 1.0, 10, sparse.csr_matrix(X), Y)
    assert GradientNormBelow(expected * 1.001, "neuralnet").on_epoch_end(record(), sparse_state)
    assert (
        GradientNormBelow(expected * 0.999, "neuralnet").on_epoch_end(record(), sparse_state)
        is None
    )


def test_the_default_rule_reads_the_records_mean_gradient_norm_and_says_so() -> None:
    rule = GradientNormBelow(0.1)
    assert rule.rule == "l2_mean"
    assert rule.on_epoch_end(record(0.2), state(small_network())) is None
    reason = rule.on_epoch_end(record(0.05), state(small_network()))
    assert reason is not None and "mean gradient" in reason


def test_training_stops_by_the_neuralnet_rule_and_its_reason_names_it() -> None:
    net = small_network()
    history = net.fit(X, Y, epochs=5000, optimizer="irprop_plus", batch_size=None,
                      callbacks=[GradientNormBelow(0.05, rule="neuralnet")])  # fmt: skip
    assert "neuralnet" in history.stop_reason
    assert len(history) < 5000
    assert finite_difference_max(net) < 0.05


def test_an_unknown_rule_is_refused_with_the_choices() -> None:
    with pytest.raises(dr.InputError, match=r"rule must be one of 'l2_mean', 'neuralnet'.*'max'"):
        GradientNormBelow(0.01, rule="max")
