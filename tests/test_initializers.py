"""Weight initialisations: seeded, scaled as their papers give, bounded, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from deltarule import InputError, Network, UnknownNameError
from deltarule.initializers import INITIALIZERS, get_initializer, make_rng

# The papers' limits (uniform) and standard deviations (normal), as functions of the fans.
UNIFORM_LIMITS = {
    "small_uniform": lambda i, o: 0.1,
    "glorot_uniform": lambda i, o: np.sqrt(6 / (i + o)),  # Glorot & Bengio (2010), eq. 16
    "xavier_uniform": lambda i, o: np.sqrt(6 / (i + o)),
    "he_uniform": lambda i, o: np.sqrt(6 / i),  # He et al. (2015): variance 2 / fan_in
    "lecun_uniform": lambda i, o: np.sqrt(3 / i),  # LeCun et al. (1998): variance 1 / fan_in
}
NORMAL_STDS = {
    "glorot_normal": lambda i, o: np.sqrt(2 / (i + o)),
    "xavier_normal": lambda i, o: np.sqrt(2 / (i + o)),
    "he_normal": lambda i, o: np.sqrt(2 / i),
    "lecun_normal": lambda i, o: np.sqrt(1 / i),
}


NGUYEN_WIDROW = {"nguyen_widrow", "widrow_nguyen"}


def test_every_registered_initializer_has_a_stated_distribution() -> None:
    assert set(INITIALIZERS) == set(UNIFORM_LIMITS) | set(NORMAL_STDS) | {"zeros"} | NGUYEN_WIDROW


@pytest.mark.parametrize("name", sorted(set(INITIALIZERS) - {"zeros"}))
def test_initializers_are_seeded_and_scaled(name) -> None:
    a = Network([200, 100, 10], initializer=name, seed=7, dtype="float64")
    b = Network([200, 100, 10], initializer=name, seed=7, dtype="float64")
    c = Network([200, 100, 10], initializer=name, seed=8, dtype="float64")
    np.testing.assert_array_equal(a.parameters, b.parameters)
    assert not np.array_equal(a.parameters, c.parameters)
    w = a.weights[0]
    expected_std = {
        "small_uniform": 0.1 / np.sqrt(3),
        "glorot_uniform": np.sqrt(2 / 300),
        "xavier_uniform": np.sqrt(2 / 300),
        "glorot_normal": np.sqrt(2 / 300),
        "xavier_normal": np.sqrt(2 / 300),
        "he_uniform": np.sqrt(2 / 200),
        "he_normal": np.sqrt(2 / 200),
        "lecun_uniform": np.sqrt(1 / 200),
        "lecun_normal": np.sqrt(1 / 200),
        # rows of length 0.7 * 100 ** (1 / 200) over 200 inputs: the root mean square
        "nguyen_widrow": 0.7 * 100 ** (1 / 200) / np.sqrt(200),
        "widrow_nguyen": 0.7 * 100 ** (1 / 200) / np.sqrt(200),
    }[name]
    assert w.std() == pytest.approx(expected_std, rel=0.05)
    assert np.all(a.biases[0] == 0)


def test_an_initializer_of_the_wrong_signature_is_a_clear_error() -> None:
    with pytest.raises(InputError, match=r"the initializer could not be called as init\(shape, "
                       r"fan_in, fan_out, rng, dtype\) \(.*\); an initializer takes"):  # fmt: skip
        Network([3, 4, 1], initializer=lambda shape: np.zeros(shape))  # (a bare TypeError)
    net = Network([3, 4, 1], initializer=lambda shape, fan_in, fan_out, rng, dtype: np.ones(shape))
    assert (net.weights[0] == 1).all()


def test_seed_accepts_a_generator() -> None:
    a = Network([3, 3], seed=np.random.default_rng(5))
    b = Network([3, 3], seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a.parameters, b.parameters)


@pytest.mark.parametrize("name", sorted(UNIFORM_LIMITS))
def test_uniform_initializers_stay_within_their_limit_and_fill_it(name) -> None:
    fan_in, fan_out = 300, 50
    w = get_initializer(name)((fan_out, fan_in), fan_in, fan_out, make_rng(3), np.float64)
    limit = UNIFORM_LIMITS[name](fan_in, fan_out)
    assert w.shape == (fan_out, fan_in) and w.dtype == np.float64
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    assert abs(w.mean()) < 0.02 * limit  # centred (15,000 draws: the mean's sd is 0.005 limit)


@pytest.mark.parametrize("name", sorted(NORMAL_STDS))
def test_normal_initializers_are_centred_with_their_paper_s_deviation(name) -> None:
    fan_in, fan_out = 300, 50
    w = get_initializer(name)((fan_out, fan_in), fan_in, fan_out, make_rng(3), np.float32)
    std = NORMAL_STDS[name](fan_in, fan_out)
    assert w.dtype == np.float32
    assert w.std() == pytest.approx(std, rel=0.03) and abs(w.mean()) < 0.03 * std
    assert np.abs(w).max() > 3 * std  # unbounded: a normal, not a truncated one


def test_zeros_and_a_user_callable_pass_through() -> None:
    w = get_initializer("zeros")((2, 3), 3, 2, make_rng(0), np.float32)
    assert w.dtype == np.float32 and not w.any()

    def ones(shape, fan_in, fan_out, rng, dtype):
        return np.ones(shape, dtype)

    assert get_initializer(ones) is ones


def test_an_unknown_initializer_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match="glorot_uniform"):
        get_initializer("glorot_uniformm")


def test_make_rng_takes_seeds_generators_and_none_only() -> None:
    g = np.random.default_rng(1)
    assert make_rng(g) is g
    assert make_rng(5).random() == np.random.default_rng(5).random()
    assert make_rng(np.int64(5)).random() == np.random.default_rng(5).random()
    assert isinstance(make_rng(None), np.random.Generator)
    for bad in (-1, True, 1.5, "7", np.random.RandomState(0)):
        with pytest.raises(InputError, match="seed must be"):
            make_rng(bad)


@pytest.mark.parametrize("sizes", [[2, 5, 1], [4, 30, 3], [64, 10]])
def test_nguyen_widrow_gives_each_neuron_a_weight_vector_of_length_beta(sizes) -> None:
    # Nguyen & Widrow (1990): beta = 0.7 H^(1/N) for H neurons with N inputs; each neuron's
    # weight vector has length beta, its bias is uniform in [-beta, beta]
    net = Network(sizes, initializer="nguyen_widrow", bias_initializer="nguyen_widrow",
                  seed=4, dtype="float64")  # fmt: skip
    for weight, bias in zip(net.weights, net.biases, strict=True):
        n_out, n_in = weight.shape
        beta = 0.7 * n_out ** (1 / n_in)
        np.testing.assert_allclose(np.linalg.norm(weight, axis=1), beta, rtol=1e-12)
        assert np.all(np.abs(bias) <= beta) and len(np.unique(bias)) == n_out
        assert np.all(np.abs(weight) <= beta)
    directions = net.weights[0] / np.linalg.norm(net.weights[0], axis=1, keepdims=True)
    assert not np.allclose(directions[0], directions[1])  # random directions, not one
