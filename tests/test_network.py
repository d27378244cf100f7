"""The network: flat buffer views, dtype, gradient checks over every registered pair, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import deltarule as dr
from deltarule import InputError, KeywordError, Network, UnknownNameError
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


def test_a_width_mismatch_says_how_to_build_the_network_for_it() -> None:
    # (it said "build the network with n_inputs=5", a keyword Network does not take)
    with pytest.raises(InputError, match=r"received X.shape=\(2, 5\)") as caught:
        Network([4, 8, 3]).predict(np.ones((2, 5)))
    assert "Network([5, ...]) (layer_sizes' first entry is the number of inputs)" in str(
        caught.value
    )
    assert "n_inputs=" not in str(caught.value)


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


def test_a_hidden_activation_without_a_hidden_layer_is_still_checked() -> None:
    # (both were accepted and ignored: a typo, or a list for layers that do not exist)
    with pytest.raises(UnknownNameError, match="unknown activation 'rleu'"):
        Network([3, 1], activation="rleu")
    with pytest.raises(InputError, match=r"activation has 1 entry, one per hidden layer, but "
                       r"layer_sizes \[3, 1\] has no hidden layer"):  # fmt: skip
        Network([3, 1], activation=["tanh"])
    assert Network([3, 1], activation="tanh").layers[0].activation.name == "identity"
    assert len(Network([3, 1], activation=[]).layers) == 1


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
        ("categorical_crossentropy", "softmax", [[-0.5, 1.5]], "one-hot rows"),
    ],
)
def test_targets_outside_the_losss_range_are_refused(loss, out, y, fragment) -> None:
    net = Network([2, len(y[0])], output_activation=out, loss=loss)
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


# ------------------------------------------------------- assigning .parameters
def test_assigning_parameters_restores_weights_that_predict_and_fit_then_use(rng) -> None:
    # (the assignment rebound the attribute and left weights[i]/biases[i] views of the old
    # buffer: predict ignored the assigned values, and fit updated one buffer while the
    # forward pass read the other, so the loss never moved)
    X = rng.normal(size=(32, 3))
    y = X[:, :1] * 2

    def make() -> Network:
        return Network([3, 8, 1], seed=0, dtype="float64")

    def train(net: Network):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", dr.ConvergenceWarning)
            return net.fit(X, y, epochs=20, learning_rate=0.05, seed=1, verbose=0)

    net = make()
    buffer, initial = net.parameters, net.parameters.copy()
    train(net)
    assert not np.array_equal(net.parameters, initial)
    net.parameters = initial  # restore, as torch's load_state_dict does
    assert net.parameters is buffer and np.shares_memory(net.weights[0], net.parameters)
    fresh = make()  # the oracle: a network that never saw the assignment
    np.testing.assert_array_equal(net.predict(X), fresh.predict(X))
    assert net.evaluate(X, y) == fresh.evaluate(X, y)
    history, expected = train(net), train(fresh)
    assert history["loss"] == expected["loss"] and history["loss"][-1] < history["loss"][0]
    np.testing.assert_array_equal(net.parameters, fresh.parameters)


def test_assigned_parameters_are_cast_and_checked(rng) -> None:
    net = Network([3, 4, 2], seed=0)  # float32
    before = net.parameters.copy()
    values = rng.normal(size=net.n_parameters)  # float64: cast, as torch's copy_ casts
    net.parameters = values
    assert net.parameters.dtype == np.float32
    np.testing.assert_array_equal(net.parameters, values.astype(np.float32))
    net.parameters = list(range(net.n_parameters))  # any numbers
    assert net.weights[0][0, 0] == 0 and net.weights[0][0, 1] == 1
    net.parameters = before
    n = net.n_parameters
    for bad, fragment in [
        (np.zeros(n - 1), rf"flat array of {n} numbers \(shape \({n},\)\); received float64 "
                          rf"values of shape \({n - 1},\)"),
        (np.zeros((n, 1)), rf"shape \({n}, 1\)"),
        (np.zeros(n, dtype=complex), "received complex128"),
        (np.array(["a"] * n), "received <U1"),
        (np.full(n, np.nan), "NaN or infinity"),
        (np.full(n, 1e300), "too large for float32"),
    ]:  # fmt: skip
        with pytest.raises(InputError, match=fragment):
            net.parameters = bad
        np.testing.assert_array_equal(net.parameters, before)  # nothing written


def test_copies_and_pickles_have_their_own_buffer_with_views_bound_to_it(rng) -> None:
    import pickle

    net = Network([3, 4, 2], seed=0, dtype="float64")
    X = rng.normal(size=(5, 3))
    for twin in (net.copy(), net.astype("float32"), pickle.loads(pickle.dumps(net))):
        assert not np.shares_memory(twin.parameters, net.parameters)
        twin.parameters = np.zeros(net.n_parameters)
        assert np.shares_memory(twin.weights[1], twin.parameters)
        np.testing.assert_array_equal(twin.predict(X), np.zeros((5, 2)))  # all weights 0
        assert np.abs(net.predict(X)).sum() > 0  # the original is untouched


# ------------------------------------------------------------ softmax of one unit
def test_softmax_over_one_unit_is_refused() -> None:
    # (it was accepted: every prediction 1.0 and the loss 0 forever)
    with pytest.raises(InputError, match=r"softmax' over 1 output unit gives 1.0 for every "
                                         r"input.*output_activation='sigmoid' with "
                                         r"loss='binary_crossentropy'"):  # fmt: skip
        Network([3, 8, 1], output_activation="softmax")
    with pytest.raises(InputError, match="hidden layer 2 has activation 'softmax' over 1 unit"):
        Network([3, 4, 1, 2], activation=["relu", "softmax"])
    assert Network([3, 8, 2], output_activation="softmax").n_outputs == 2


def test_loss_and_gradient_refuses_parameter_vectors_of_another_length(rng) -> None:
    net = Network([3, 4, 2], seed=0)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    n = net.n_parameters
    with pytest.raises(
        InputError,
        match=rf"params must be a flat float32 array of this "
        rf"network's {n} parameters \(shape \({n},\)\); "
        rf"received a float64 array of shape \({n + 1},\)",
    ):
        net.loss_and_gradient(X, y, params=np.zeros(n + 1))  # fmt: skip
    with pytest.raises(InputError, match=r"out must be .* received a float64 array"):
        net.loss_and_gradient(X, y, out=np.zeros(n))  # written in place: the dtype must fit
    with pytest.raises(InputError, match="received a list"):
        net.loss_and_gradient(X, y, out=[0.0] * n)
    # params of another dtype are read as the network's own
    loss, grad = net.loss_and_gradient(X, y, params=net.parameters.astype(np.float64))
    expected_loss, expected_grad = net.loss_and_gradient(X, y)
    assert loss == expected_loss and grad.dtype == np.float32
    np.testing.assert_array_equal(grad, expected_grad)


def test_an_unknown_name_is_a_value_error_too() -> None:
    # README: every error a user can cause is also a ValueError (except ValueError missed it)
    with pytest.raises(ValueError, match="unknown activation 'rleu'.*Did you mean 'relu'"):
        Network([3, 4, 1], activation="rleu")
    with pytest.raises(KeyError):  # still a failed look-up
        Network([3, 4, 1], loss="msee")


# --------------------------------------------------------- parameterised losses
def test_a_huber_delta_survives_config_copy_and_pickle(rng) -> None:
    import pickle

    torch = pytest.importorskip("torch")
    from deltarule.losses import huber

    net = Network([3, 4, 1], loss=huber(0.1), seed=0, dtype="float64")
    X = rng.normal(size=(20, 3)) * 10
    y = X[:, :1] * 3
    expected = torch.nn.functional.huber_loss(
        torch.from_numpy(net.predict(X)), torch.from_numpy(y), delta=0.1
    ).item()
    assert net.config()["loss"] == {"name": "huber", "delta": 0.1}
    rebuilt = Network.from_config(net.config())
    rebuilt.parameters = net.parameters
    twins = [rebuilt, net.copy(), pickle.loads(pickle.dumps(net))]  # (pickling failed)
    for twin in twins:
        assert twin.evaluate(X, y) == pytest.approx(expected, rel=1e-12)
    # a name alone is the default delta, as in files written before the delta was kept
    config = {**net.config(), "loss": "huber"}
    default = torch.nn.functional.huber_loss(
        torch.from_numpy(net.predict(X)), torch.from_numpy(y), delta=1.0
    ).item()
    rebuilt = Network.from_config(config)
    rebuilt.parameters = net.parameters
    assert rebuilt.evaluate(X, y) == pytest.approx(default, rel=1e-12) != expected
    assert Network([3, 1], loss="huber").config()["loss"] == "huber"


# ------------------------------------------------- assigning through weights and biases
def test_assigning_a_layers_weights_copies_into_the_buffer() -> None:
    # (net.weights[0] = W replaced the view: predict used W, while training updated and
    # save_model wrote the buffer's old values)
    net = dr.Network([4, 8, 3], seed=0)
    W = np.arange(32, dtype=float).reshape(8, 4) / 100
    net.weights[0] = W
    assert np.shares_memory(net.weights[0], net.parameters)
    np.testing.assert_allclose(net.parameters[net.layout["W1"].slice], W.ravel(), rtol=1e-6)
    net.biases = [np.ones(8), np.full(3, 2.0)]
    assert net.parameters[net.layout["b2"].slice].tolist() == [2.0, 2.0, 2.0]
    twin = dr.Network([4, 8, 3], seed=1)
    twin.parameters = net.parameters
    np.testing.assert_array_equal(net.predict(np.ones((2, 4))), twin.predict(np.ones((2, 4))))


@pytest.mark.parametrize(
    "change, fragment",
    [
        (lambda n: n.weights.__setitem__(0, np.zeros((4, 8))), r"shape \(8, 4\) \(layer 1\); "
                                                              r"received shape \(4, 8\)"),
        (lambda n: n.weights.__setitem__(slice(0, 1), [np.zeros((8, 4))]), "one layer at a time"),
        (lambda n: n.weights.append(np.zeros(2)), "one entry per layer, fixed"),
        (lambda n: setattr(n, "weights", [np.zeros((8, 4))]), r"one entry per layer \(2\)"),
        (lambda n: n.weights.__setitem__(1, np.full((3, 8), np.nan)), "must be finite"),
    ],
)  # fmt: skip
def test_assignments_that_do_not_fit_are_refused(change, fragment) -> None:
    net = dr.Network([4, 8, 3], seed=0)
    before = net.parameters.copy()
    with pytest.raises(dr.InputError, match=fragment):
        change(net)
    np.testing.assert_array_equal(net.parameters, before)


def test_a_layer_without_bias_takes_only_none() -> None:
    net = dr.Network([2, 3, 1], use_bias=[True, False], seed=0)
    net.biases[1] = None
    with pytest.raises(dr.InputError, match="layer 2 has no bias"):
        net.biases[1] = np.zeros(1)


def test_assigned_values_too_large_for_the_dtype_or_a_bad_later_layer_change_nothing() -> None:
    # (1e300 passed as float64 and was written as inf into a float32 network; a list whose
    # second entry was bad had already written the first)
    net = dr.Network([4, 8, 3], seed=0)
    before = net.parameters.copy()
    with pytest.raises(dr.InputError, match="too large for float32"):
        net.weights[0] = np.full((8, 4), 1e300)
    with pytest.raises(dr.InputError, match=r"network.weights\[1\] must be finite"):
        net.weights = [np.ones((8, 4)), np.full((3, 8), np.nan)]
    np.testing.assert_array_equal(net.parameters, before)


def test_evaluate_with_metrics_returns_the_loss_and_each_metric_as_keras_does():
    from sklearn.metrics import accuracy_score, log_loss

    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 4))
    labels = rng.integers(0, 3, 60)
    Y = np.eye(3)[labels]
    net = dr.Network([4, 5, 3], activation="tanh", output_activation="softmax",
                     loss="categorical_crossentropy", seed=2)  # fmt: skip
    out = net.predict(X)
    result = net.evaluate(X, Y, metrics=["accuracy", "logloss"])
    assert list(result) == ["loss", "accuracy", "log_loss"]  # names as history columns
    assert result["loss"] == net.evaluate(X, Y)
    assert result["accuracy"] == pytest.approx(accuracy_score(labels, out.argmax(1)))
    assert result["log_loss"] == pytest.approx(log_loss(labels, out), rel=1e-6)  # float32
    assert net.evaluate(X, Y, metrics="accuracy").keys() == {"loss", "accuracy"}
    assert net.evaluate(X, Y, metrics=[]) == {"loss": result["loss"]}
    w = rng.random(60)
    weighted = net.evaluate(X, Y, w, metrics=["accuracy"])["accuracy"]
    assert weighted == pytest.approx(accuracy_score(labels, out.argmax(1), sample_weight=w))
    with pytest.raises(dr.UnknownNameError, match="acuracy"):
        net.evaluate(X, Y, metrics=["acuracy"])


def test_evaluate_refuses_a_class_metric_on_regression_targets():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(20, 2))
    y = X @ np.array([[0.5], [-1.0]])
    net = dr.Network([2, 3, 1], activation="tanh", output_activation="identity", loss="mse")
    with pytest.raises(dr.InputError, match=r"metrics \['accuracy'\] score class predictions"):
        net.evaluate(X, y, metrics=["accuracy"])
    r2 = net.evaluate(X, y, metrics=["r2"])["r2"]
    from sklearn.metrics import r2_score

    assert r2 == pytest.approx(r2_score(y, net.predict(X)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_single_rows_weight_gradients_are_its_outer_products(dtype) -> None:
    # batch 1 (online training of a large network) forms dE/dW as delta x^T by a broadcast
    # multiply (numpy's matmul with an inner size of 1 took 5 times as long): each entry is
    # the one product, as a batch of one row's matmul gives it
    rng = np.random.default_rng(7)
    net = dr.Network([5, 4, 3], activation="tanh", output_activation="softmax", seed=2,
                     dtype=dtype)  # fmt: skip
    x = rng.normal(size=(1, 5)).astype(dtype)
    y = np.eye(3, dtype=dtype)[[1]]
    _, caches = net.forward(x)
    _, grad = net.backward(caches, y)
    w2 = net.layout.view(net.parameters, "W2")
    h = caches[1].inputs
    delta_out = caches[1].activated - y  # softmax + cross-entropy
    delta_hidden = (delta_out @ w2) * (1 - caches[0].activated ** 2)
    np.testing.assert_array_equal(net.layout.view(grad, "W2"), np.outer(delta_out, h))
    np.testing.assert_allclose(net.layout.view(grad, "W1"), np.outer(delta_hidden, x),
                               rtol=1e-5 if dtype == "float32" else 1e-12)  # fmt: skip


@pytest.mark.parametrize(
    ("keyword", "advice"),
    [
        ("lr", "Use learning_rate= (Keras's and PyTorch's lr)"),
        ("random_state", "Use seed= (scikit-learn's random_state)"),
        ("max_iter", "Use epochs= (scikit-learn's max_iter"),
        ("n_iter", "Use epochs="),
        ("nb_epoch", "Use epochs= (Keras 1's nb_epoch)"),
        ("n_iter_no_change", "Use patience="),
        ("weight_decay", "Use l2="),
        ("momentum", "optimizer='momentum'"),
        ("nesterov", "optimizer='nesterov'"),
        ("clipnorm", "does not clip gradients"),
        ("decay", "schedule="),
        ("tol", "target_error="),
        ("alpha", "l2="),
    ],
)
def test_fit_tells_other_libraries_spellings(keyword: str, advice: str) -> None:
    # lr= and random_state= were told "Leave it out.", max_iter= "Did you mean 'max_norm'?".
    X, y = np.zeros((4, 2)), np.zeros((4, 1))
    with pytest.raises(KeywordError) as info:
        Network([2, 1]).fit(X, y, verbose=0, **{keyword: 1})
    message = str(info.value)
    assert f"unexpected keyword argument {keyword!r}" in message and advice in message
    assert "Leave it out." not in message and "max_norm'?" not in message


@pytest.mark.parametrize(
    ("keywords", "advice"),
    [
        ({"random_state": 0}, "Use seed= (scikit-learn's random_state)"),
        ({"activations": ["tanh", "identity"]}, "Use activation= (one activation for every"),
        ({"hidden_layer_sizes": [4]}, "Use layer_sizes="),
        ({"epochs": 10}, "epochs is fit's: Network(...).fit(X, y, epochs=...)"),
        ({"lr": 0.1}, "fit(X, y, learning_rate=...)"),
    ],
)
def test_constructor_keywords_say_what_to_pass(keywords: dict, advice: str) -> None:
    # A bare TypeError before ("Network.__init__() got an unexpected keyword argument").
    with pytest.raises(KeywordError) as info:
        Network([3, 4, 1], **keywords)
    message = str(info.value)
    assert f"unexpected keyword argument {next(iter(keywords))!r}" in message
    assert advice in message and "It takes: layer_sizes, activation," in message


def test_repr_is_code_the_constructor_takes() -> None:
    # It read "activations=[tanh,identity]": a keyword the constructor does not take.
    for net in (
        Network([3, 4, 1], activation="tanh"),
        Network(
            [3, 4, 5, 2], activation=["tanh", "relu"], output_activation="sigmoid", dtype="float64"
        ),  # fmt: skip
        Network([3, 1]),
    ):
        rebuilt = eval(repr(net), {"Network": Network})
        assert rebuilt.config() == net.config() and repr(rebuilt) == repr(net)
    assert repr(Network([3, 4, 1], activation="tanh")) == (
        "Network([3, 4, 1], activation='tanh', output_activation='identity', "
        "loss='half_squared_error', dtype='float32')"
    )


@pytest.mark.parametrize(
    ("config", "said"),
    [
        ({"layer_sizes": [3, 1]}, "without 'activations', 'use_bias', 'loss', 'dtype'"),
        (
            {"layer_sizes": [3, 1], "activations": ["identity"]},
            "without 'use_bias', 'loss', 'dtype' (it has 'layer_sizes', 'activations')",
        ),
        (None, "received NoneType None"),
        ([3, 1], "received list [3, 1]"),
        (
            {"layer_sizes": [3, 1], "activations": "identity", "use_bias": [True],
             "loss": "mse", "dtype": "float32"},
            "config['activations'] must be a non-empty list of activation names",
        ),
    ],
)  # fmt: skip
def test_from_config_names_what_is_missing(config: object, said: str) -> None:
    # A raw KeyError ('activations') or TypeError ('NoneType' object is not subscriptable).
    with pytest.raises(InputError) as info:
        Network.from_config(config)  # type: ignore[arg-type]
    message = str(info.value)
    assert said in message
    assert "keys layer_sizes, activations, use_bias, loss, dtype" in message or (
        "['tanh', 'identity']" in message
    )


def test_from_config_takes_a_single_use_bias_value() -> None:
    config = {**Network([3, 2, 1]).config(), "use_bias": False}
    assert Network.from_config(config).config()["use_bias"] == [False, False]


def test_from_config_takes_arrays_for_its_lists() -> None:
    # (use_bias, dropout and activations as NumPy arrays: refused for a day, taken before)
    net = Network([3, 4, 2], activation="tanh", output_activation="softmax", dropout=0.1)
    config = net.config()
    arrays = {key: np.array(config[key]) for key in ("use_bias", "dropout", "activations")}
    assert Network.from_config({**config, **arrays}).config() == config
