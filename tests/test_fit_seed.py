"""A network made with a seed trains alike on every run of a program when fit is given no
seed (as scikit-learn's random_state covers a whole fit); an unseeded one draws fresh
entropy."""

from __future__ import annotations

import warnings

import numpy as np

import deltarule as dr

RNG = np.random.default_rng(0)
X = RNG.normal(size=(120, 4))
Y = (X[:, :1] > 0).astype(float)


def _losses(net: dr.Network) -> list[list[float]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = net.fit(X, Y, epochs=3, batch_size=16, verbose=0, validation_split=0.25)
        second = net.fit(X, Y, epochs=3, batch_size=16, verbose=0)
    return [first.history["loss"], first.history["val_loss"], second.history["loss"]]


def _net(seed) -> dr.Network:
    return dr.Network([4, 8, 1], output_activation="sigmoid", loss="binary_crossentropy",
                      seed=seed)  # fmt: skip


def test_a_seeded_network_fits_alike_on_every_run():
    assert _losses(_net(0)) == _losses(_net(0))
    assert _losses(_net(np.random.default_rng(3))) == _losses(_net(np.random.default_rng(3)))


def test_its_fits_draw_seeds_of_their_own():
    # the second fit is not the first one's shuffle again: its seed is the stream's next
    a, b = _net(0), _net(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a.fit(X, Y, epochs=1, batch_size=16, verbose=0)
        b.fit(X, Y, epochs=1, batch_size=16, verbose=0)
        again = a.fit(X, Y, epochs=1, batch_size=16, verbose=0, seed=None).history["loss"]
        first_stream = np.random.default_rng([0, 0xF17]).spawn(1)[0]
        replay = b.fit(X, Y, epochs=1, batch_size=16, verbose=0, seed=first_stream)
    assert again != replay.history["loss"]


def test_an_explicit_seed_still_decides():
    a, b = _net(0), _net(1)
    b.set_parameters({name: view.copy() for name, view in a.get_parameters().items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        la = a.fit(X, Y, epochs=2, batch_size=16, verbose=0, seed=7).history["loss"]
        lb = b.fit(X, Y, epochs=2, batch_size=16, verbose=0, seed=7).history["loss"]
    assert la == lb


def test_the_seed_generator_gives_the_weights_it_gave_before():
    np.testing.assert_array_equal(_net(np.random.default_rng(5)).parameters, _net(5).parameters)


def test_an_unseeded_network_draws_fresh_entropy():
    a = _net(None)
    b = a.copy()
    assert _losses(a)[0] != _losses(b)[0]
