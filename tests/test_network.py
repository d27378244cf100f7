"""The network: flat buffer views, dtype, gradient checks over every registered pair, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule import InputError, Network, UnknownNameError
from deltarule.activations import ACTIVATIONS
from deltarule.losses import LOSSES, get_loss

CASES = [
    ([3, 2], "identity", "identity", "half_squared_error"),
    ([3, 4, 2], "tanh", "identity", "mse"),
    ([3, 5, 4, 2], "sigmoid", "sigmoid", "binary_crossentropy"),
    ([3, 4, 4, 4, 3], "gelu", "softmax", "categorical_crossentropy"),
    ([3, 6, 2], "elu", "softplus", "poisson"),
    ([3, 4, 3, 2], "silu", "identity", "huber"),
    ([3, 4, 2], "softsign", "sigmoid", "half_squared_error"),
    ([3, 5, 3], "selu", "softmax", "categorical_crossentropy"),
    ([3, 4, 2], "leaky_relu", "identity", "mae"),
]


def data_for(net: Network, rng: np.random.Generator, n: int = 7):
    X = rng.normal(size=(n, net.n_inputs))
    k = net.n_outputs
    loss = net.loss.name
    if loss == "categorical_crossentropy":
        y = np.eye(k)[rng.integers(0, k, n)]
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, size=(n, k)).astype(float)
    elif loss == "poisson":
        y = rng.poisson(1.0, size=(n, k)).astype(float)
    else:
        y = rng.normal(size=(n, k))
    return X, y


@pytest.mark.parametrize("sizes,hidden,out,loss", CASES, ids=[c[3] + str(len(c[0])) for c in CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_whole_network_gradient_check(sizes, hidden, out, loss, dtype, rng) -> None:
    net = Network(sizes, activation=hidden, output_activation=out, loss=loss, dtype=dtype, seed=3)
    X, y = data_for(net, rng)
    weights = rng.uniform(0.5, 2, size=X.shape[0])
    result = dr.check_gradients(net, X, y, weights)
    assert result.passed, str(result)
    assert set(result.max_relative_error) == set(net.layout.names)


@pytest.mark.parametrize("loss", sorted({f.name for f in LOSSES.values() if f.output_domain}))
@pytest.mark.parametrize("out", sorted({a.name for a in ACTIVATIONS.values()}))
def test_a_loss_takes_only_the_output_activations_it_is_defined_on(loss, out, rng) -> None:
    # Outside its domain a loss is clipped and its gradient is not the clipped loss's
    # (identity + binary cross-entropy diverged silently): such pairs are refused; every
    # pair that is taken has the right gradient.
    lo, hi = get_loss(loss).output_domain
    have = ACTIVATIONS[out].output_range
    sizes = [3, 4, 3 if out == "softmax" or loss == "categorical_crossentropy" else 2]
    if not (lo <= have[0] and have[1] <= hi):
        with pytest.raises(InputError, match=f"loss '{loss}' is defined for outputs in .* but "
                           f"output activation '{out}' gives values in"):  # fmt: skip
            Network(sizes, activation="tanh", output_activation=out, loss=loss)
        return
    net = Network(sizes, activation="tanh", output_activation=out, loss=loss, dtype="float64",
                  seed=3)  # fmt: skip
    X, y = data_for(net, rng)
    result = dr.check_gradients(net, X, y)
    assert result.passed, str(result)


def test_functions_that_take_a_network_refuse_anything_else() -> None:
    from deltarule.explain import draw_network, explain_example

    calls = [(lambda: explain_example("net", [1.0]), "explain_example"),
             (lambda: draw_network(None), "draw_network"),
             (lambda: dr.check_gradients([1], [[1.0]], [[1.0]]), "check_gradients")]  # fmt: skip
    for call, name in calls:
        with pytest.raises(InputError, match=f"{name} needs a deltarule Network; received"):
            call()  # (an AttributeError for the first two)


def test_user_defined_loss_works_end_to_end(rng) -> None:
    quartic = dr.Loss(
        "quartic", lambda o, t: ((o - t) ** 4).sum(axis=1), lambda o, t: 4 * (o - t) ** 3
    )
    net = Network([2, 3, 1], activation="tanh", loss=quartic, dtype="float64", seed=1)
    X, y = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    assert dr.check_gradients(net, X, y).passed


def test_gradient_mirrors_the_buffer_and_can_be_written_in_place(rng) -> None:
    net = Network([4, 3, 2], seed=0, dtype="float64")
    X, y = rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    out = np.zeros_like(net.parameters)
    loss, grad = net.loss_and_gradient(X, y, out=out)
    assert grad is out and grad.shape == net.parameters.shape
    assert loss == pytest.approx(net.evaluate(X, y))


def test_loss_and_gradient_is_a_pure_function_of_params(rng) -> None:
    net = Network([3, 4, 1], activation="tanh", seed=0, dtype="float64")
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    other = rng.normal(size=net.parameters.shape)
    before = net.parameters.copy()
    loss, grad = net.loss_and_gradient(X, y, params=other)
    np.testing.assert_array_equal(net.parameters, before)
    twin = net.copy()
    twin.parameters[...] = other
    loss2, grad2 = twin.loss_and_gradient(X, y)
    assert loss == loss2
    np.testing.assert_array_equal(grad, grad2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_end_to_end(dtype, rng) -> None:
    net = Network([3, 4, 2], activation="relu", output_activation="softmax", dtype=dtype, seed=0)
    X = rng.normal(size=(5, 3))  # float64 input is converted to the network's dtype
    y = np.eye(2)[rng.integers(0, 2, 5)]
    assert net.parameters.dtype == dtype
    assert net.predict(X).dtype == dtype
    _, grad = net.loss_and_gradient(X, y)
    assert grad.dtype == dtype
    _, caches = net.forward(X.astype(dtype))
    assert all(c.net.dtype == dtype and c.out.dtype == dtype for c in caches)


def test_default_dtype_is_float32() -> None:
    assert Network([2, 2]).parameters.dtype == np.float32


def test_bias_per_layer_is_optional() -> None:
    net = Network([3, 4, 2], use_bias=[False, True], seed=0)
    assert net.layout.names == ["W1", "W2", "b2"] and net.biases[0] is None


def test_each_layer_its_own_activation() -> None:
    net = Network([3, 4, 4, 2], activation=["relu", "tanh"], output_activation="sigmoid")
    assert [layer.activation.name for layer in net.layers] == ["relu", "tanh", "sigmoid"]


def test_set_parameters_checks_shapes() -> None:
    net = Network([2, 3, 1])
    with pytest.raises(InputError, match=r"W1 has shape \(2, 3\); the network expects \(3, 2\)"):
        net.set_parameters({"W1": np.zeros((2, 3))})
    with pytest.raises(InputError, match="no parameter named 'W9'"):
        net.set_parameters({"W9": 1})


def test_set_parameters_is_all_or_nothing_with_clear_errors() -> None:
    net = Network([2, 3, 1], seed=0)
    before = net.parameters.copy()
    for values, message in [
        ({"b1": np.ones(3), "W1": "abc"}, r"W1 could not be read as numbers \(.*\); expected an "
         r"array of shape \(3, 2\) of float32"),  # (a bare ValueError)
        ({"b1": np.ones(3), "W2": [[1e39, 0, 0]]}, "W2 contains NaN or infinity \\(or values too "
         "large for float32\\)"),
        ({"b1": np.ones(3), "W2": np.zeros(3)}, "W2 has shape"),
    ]:  # fmt: skip
        with pytest.raises(InputError, match=message):
            net.set_parameters(values)
        np.testing.assert_array_equal(net.parameters, before)  # b1 was not written either


def test_freeze_marks_parameters_not_trainable() -> None:
    net = Network([2, 2, 2]).freeze("b1", "b2")
    assert (~net.trainable).sum() == 4
    net.unfreeze()
    assert net.trainable.all()


def test_config_round_trip_and_copy_independence() -> None:
    net = Network([3, 4, 2], activation="tanh", output_activation="softmax", use_bias=[True, False])
    twin = Network.from_config(net.config())
    assert twin.config() == net.config()
    copy = net.copy()
    copy.parameters[0] += 1
    assert copy.parameters[0] != net.parameters[0]
    assert np.shares_memory(copy.weights[0], copy.parameters)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "X,fragment",
    [
        (np.zeros((4, 5)), "X has 5 features but the network expects 3"),
        (np.array([[1.0, np.nan, 2.0]]), "NaN or infinity"),
        (np.array([[1.0, np.inf, 2.0]]), "NaN or infinity"),
        (np.array([["a", "b", "c"]]), "non-numeric"),
        (np.zeros((0, 3)), "empty"),
        (np.zeros((2, 3, 1)), "3 dimension"),
        ([[1, 2, 3], [1, 2]], "rectangular"),
    ],
)
def test_bad_features_get_clear_errors(X, fragment) -> None:
    net = Network([3, 2])
    with pytest.raises(InputError, match=fragment):
        net.predict(X)


def test_bad_targets_get_clear_errors() -> None:
    net = Network([3, 2])
    X = np.zeros((4, 3))
    with pytest.raises(InputError, match="X has 4 samples but y has 3"):
        net.loss_and_gradient(X, np.zeros((3, 2)))
    with pytest.raises(InputError, match="y has 3 columns but the network has 2 outputs"):
        net.loss_and_gradient(X, np.zeros((4, 3)))
    with pytest.raises(InputError, match="NaN"):
        net.loss_and_gradient(X, np.full((4, 2), np.nan))
    with pytest.raises(InputError, match="sample_weight has 2 values"):
        net.loss_and_gradient(X, np.zeros((4, 2)), np.ones(2))


@pytest.mark.parametrize(
    "kwargs,error,fragment",
    [
        ({"activation": "sigmod"}, UnknownNameError, "Did you mean 'sigmoid'"),
        ({"loss": "msee"}, UnknownNameError, "unknown loss 'msee'"),
        ({"dtype": "int32"}, InputError, "float32"),
        ({"initializer": "glorot"}, UnknownNameError, "initializer"),
        ({"dropout": 1.5}, InputError, "dropout"),
        ({"seed": "abc"}, InputError, "seed"),
    ],
)
def test_bad_construction_gets_clear_errors(kwargs, error, fragment) -> None:
    with pytest.raises(error, match=fragment):
        Network([3, 4, 2], **kwargs)


@pytest.mark.parametrize(
    "sizes,dropout,fragment",
    [  # (the first three were accepted, and did nothing)
        ([3, 1], 0.5, r"dropout=0.5 applies to hidden layers' outputs, but layer_sizes \[3, 1\]"),
        ([3, 1], [0.5], r"has no hidden layer, so it would do nothing; expected dropout=0"),
        ([3, 1], "x", r"dropout rates must be numbers in \[0, 1\)"),
        ([3, 4, 5, 1], [0.5], r"dropout has 1 entries; expected one per hidden layer \(2 for"),
        ([3, 4, 1], [0.5, 0.5], r"Give 1 rates, or one number for all"),
    ],
)
def test_dropout_is_refused_where_it_would_do_nothing_or_does_not_fit(sizes, dropout, fragment):
    with pytest.raises(InputError, match=fragment):
        Network(sizes, dropout=dropout)


def test_dropout_rates_per_hidden_layer() -> None:
    assert [layer.dropout for layer in Network([3, 1], dropout=0).layers] == [0.0]
    assert [layer.dropout for layer in Network([3, 1], dropout=[]).layers] == [0.0]
    net = Network([3, 4, 5, 1], dropout=[0.5, 0.25])
    assert [layer.dropout for layer in net.layers] == [0.5, 0.25, 0.0]
    assert [layer.dropout for layer in Network([3, 4, 5, 1], dropout=0.1).layers][:2] == [0.1] * 2
    assert Network.from_config(Network([3, 1]).config()).layers[0].dropout == 0.0


@pytest.mark.parametrize("sizes", [[3], [3, 0, 2], "34", [3, 2.5], []])
def test_bad_layer_sizes(sizes) -> None:
    with pytest.raises(InputError, match="layer_sizes must be a list of at least two positive"):
        Network(sizes)


def test_pickle_round_trip_keeps_views(rng) -> None:
    import pickle

    net = Network([3, 4, 2], activation="tanh", output_activation="softmax", seed=0)
    twin = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(twin.parameters, net.parameters)
    assert np.shares_memory(twin.weights[0], twin.parameters)
    assert twin.layers[0].activation is net.layers[0].activation  # resolved by name
    X = rng.normal(size=(4, 3))
    np.testing.assert_array_equal(twin.predict(X), net.predict(X))


@pytest.mark.parametrize(
    "loss,out,y,fragment",
    [
        ("poisson", "softplus", [[-1.0]], "counts or rates >= 0"),
        ("binary_crossentropy", "sigmoid", [[1.5]], r"probabilities in \[0, 1\]"),
        ("categorical_crossentropy", "softmax", [[-0.5]], "one-hot rows"),
    ],
)
def test_targets_outside_the_losss_range_are_refused(loss, out, y, fragment) -> None:
    net = Network([2, 1], output_activation=out, loss=loss)
    with pytest.raises(InputError, match=fragment):
        net.loss_and_gradient([[0.0, 1.0]], y)


@pytest.mark.parametrize("sizes,hidden,out,loss", CASES, ids=[c[3] + str(len(c[0])) for c in CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_buffers_give_the_same_values_to_the_last_bit(sizes, hidden, out, loss, dtype, rng):
    # The training loop's reused buffers change where values are written, not what they are:
    # full and short batches, every CASES network (fused pairs, plain losses, softmax).
    net = Network(sizes, activation=hidden, output_activation=out, loss=loss, dtype=dtype, seed=3)
    buffers = net.buffers(9)
    for n, weighted in ((9, False), (4, True)):
        X, y = data_for(net, rng, n)
        X, y = X.astype(dtype), y.astype(dtype)
        sw = rng.uniform(0.5, 2.0, n).astype(dtype) if weighted else None
        plain_out, plain_caches = net.forward(X)
        plain_loss, plain_grad = net.backward(plain_caches, y, sw)
        buf_out, buf_caches = net.forward(X, buffers=buffers)
        grad = np.full(net.n_parameters, np.nan, dtype)
        buf_loss, _ = net.backward(buf_caches, y, sw, out=grad, buffers=buffers)
        np.testing.assert_array_equal(buf_out, plain_out, strict=True)
        np.testing.assert_array_equal(grad, plain_grad, strict=True)
        assert buf_loss == plain_loss
        assert np.shares_memory(buf_caches[0].net, buffers[0].net)  # really in the buffers


def test_dropout_with_buffers_draws_and_computes_the_same(rng):
    net = Network([4, 8, 5, 3], output_activation="softmax", dropout=[0.5, 0.25], seed=0)
    X, y = data_for(net, rng, 6)
    X, y = X.astype("float32"), y.astype("float32")
    runs = []
    for buffers in (None, net.buffers(6)):
        out, caches = net.forward(X, rng=np.random.default_rng(5), buffers=buffers)
        runs.append((out.copy(), net.backward(caches, y, buffers=buffers)[1]))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "hidden,out",
    [("relu", "softmax"), ("sigmoid", "identity"), ("tanh", "sigmoid"), ("gelu", "softmax")],
)
def test_infer_in_chunks_equals_one_forward_pass(hidden, out, monkeypatch, rng):
    # Forward-only buffers apply the activation in place; the outputs must not change.
    from deltarule import network as network_module

    monkeypatch.setattr(network_module, "INFER_CHUNK", 16)
    net = Network([5, 9, 7, 3], activation=hidden, output_activation=out, seed=1)
    X = rng.normal(size=(50, 5)).astype("float32")  # three full chunks and a short one
    whole = net.forward(X)[0]
    chunked = net.infer(X)
    assert chunked.shape == (50, 3) and chunked.dtype == np.float32
    np.testing.assert_allclose(chunked, whole, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(net.predict(X), chunked)
    row_by_row = np.vstack([net.forward(X[i : i + 1])[0] for i in range(50)])
    np.testing.assert_allclose(chunked, row_by_row, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("activation", sorted(dr.activations.ACTIVATIONS))
def test_infer_on_few_rows_is_the_forward_pass_bit_for_bit(activation, use_bias, dtype, rng):
    # the layers' cache-free Dense.infer: the same operations as forward, every activation
    # as a hidden and as an output layer's
    net = Network([5, 7, 4], activation=activation, output_activation=activation,
                  use_bias=use_bias, seed=2, dtype=dtype)  # fmt: skip
    X = rng.normal(size=(9, 5)).astype(dtype)
    with np.errstate(all="ignore"):
        for rows in (X, X[:1]):  # (one row: NumPy's matrix-vector product, in both)
            out = net.infer(rows)
            assert out.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(out, net.forward(rows)[0])


def test_infer_keeps_a_subclass_forward_and_layer(rng):
    from deltarule.layers import Dense

    class Doubled(Network):
        def forward(self, X, params=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
            out, caches = super().forward(X, params, **kwargs)
            return 2 * out, caches

    net = Doubled([3, 4, 2], output_activation="identity", seed=0)
    X = rng.normal(size=(5, 3))
    np.testing.assert_array_equal(net.infer(X), net.forward(X)[0])
    np.testing.assert_array_equal(net.infer(X), 2 * Network.forward(net, X)[0])

    class Shifted(Dense):
        def forward(self, weight, bias, inputs, rng=None, buffers=None):  # noqa: ANN001, ANN202
            out, cache = super().forward(weight, bias, inputs, rng, buffers)
            return out + 1, cache

    plain = Network([3, 2], output_activation="identity", seed=0)
    plain.layers = (Shifted(**vars(plain.layers[0])),)
    np.testing.assert_array_equal(plain.infer(X), plain.forward(X)[0])
    np.testing.assert_array_equal(plain.infer(X), X @ plain.weights[0].T + plain.biases[0] + 1)
