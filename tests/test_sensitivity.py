"""Input gradients and generalized weights (``deltarule.sensitivity``): against central
finite differences over every built-in activation and loss, against PyTorch's autograd, and
by hand on the tutorial's network; sample weights, float32, sparse X and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import unique_entries

import deltarule as dr
from deltarule import InputError, Network
from deltarule.activations import ACTIVATIONS
from deltarule.activations import is_builtin as builtin_activation
from deltarule.gradcheck import activation_kinks, loss_kinks
from deltarule.losses import LOSSES
from deltarule.losses import is_builtin as builtin_loss
from deltarule.sensitivity import generalized_weights, input_gradients

STEP = 1e-6
KINK_MARGIN = 1e-3
"""No net input (or output - target, for a loss) lies this close to a kink in the data the
finite differences are taken at: a step of STEP cannot straddle one."""

HIDDEN = sorted(a.name for a in unique_entries(ACTIVATIONS) if builtin_activation(a))
OUTPUTS = HIDDEN
LOSS_NAMES = sorted(x.name for x in unique_entries(LOSSES) if builtin_loss(x))


def _targets(net: Network, n: int, rng: np.random.Generator) -> np.ndarray:
    """Targets the network's loss takes: one-hot rows for probabilities, rates >= 0 for
    Poisson, any values otherwise."""
    domain = net.loss.output_domain
    k = net.n_outputs
    if domain == (0.0, 1.0):
        return np.eye(k)[rng.integers(0, k, size=n)]
    if domain is not None:
        return rng.uniform(0.0, 2.0, size=(n, k))
    return rng.normal(size=(n, k))


def _assert_off_kinks(net: Network, X: np.ndarray, y: np.ndarray | None = None) -> None:
    """Fail (never pass by luck) when a finite difference at X could straddle a kink."""
    output, caches = net.forward(X)
    for index, (layer, cache) in enumerate(zip(net.layers, caches)):
        for kink in activation_kinks(layer.activation):
            distance = np.abs(cache.net - kink).min()
            assert distance > KINK_MARGIN, (index, layer.activation.name, kink, distance)
    if y is not None:
        for kink in loss_kinks(net.loss):
            assert np.abs(output - y - kink).min() > KINK_MARGIN, (net.loss.name, kink)


def _numeric(f, X: np.ndarray) -> np.ndarray:
    """Central differences of the per-row function ``f(X) -> (n_samples, ...)`` by each
    input: shape (n_samples, ..., n_inputs). Rows do not interact, so one column of every
    row is perturbed at once."""
    columns = []
    for j in range(X.shape[1]):
        up, down = X.copy(), X.copy()
        up[:, j] += STEP
        down[:, j] -= STEP
        columns.append((f(up) - f(down)) / (2 * STEP))
    return np.stack(columns, axis=-1)


def _per_example_error(net: Network, y: np.ndarray):
    """X -> each row's own error E(x_i, y_i) (the network's E on a batch of that row)."""
    return lambda X: np.array([net.evaluate(X[i : i + 1], y[i : i + 1]) for i in range(len(X))])


def _close(analytic: np.ndarray, numeric: np.ndarray, rtol: float = 1e-6) -> None:
    """Agreement relative to the largest entry (entries near 0 judged on that scale)."""
    scale = max(float(np.abs(numeric).max()), 1e-12)
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=rtol * scale)


# --- the error's gradient: every built-in activation and loss against finite differences ---


@pytest.mark.parametrize("hidden", HIDDEN)
def test_error_gradient_equals_finite_differences_for_every_hidden_activation(hidden) -> None:
    rng = np.random.default_rng(1)
    net = Network([3, 5, 4, 2], activation=[hidden, "tanh"], loss="mse", seed=2,
                  dtype="float64")  # fmt: skip
    X, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    _assert_off_kinks(net, X, y)
    got = input_gradients(net, X, y)
    assert got.shape == (6, 3) and got.dtype == np.float64
    _close(got, _numeric(_per_example_error(net, y), X))


def _pairs() -> list[tuple[str, str]]:
    """Every (output activation, loss) pair a network accepts (a loss on probabilities
    refuses an output outside [0, 1], and so on)."""
    pairs = []
    for output in OUTPUTS:
        for loss in LOSS_NAMES:
            try:
                Network([2, 3], output_activation=output, loss=loss)
            except InputError:
                continue
            pairs.append((output, loss))
    return pairs


PAIRS = _pairs()


def test_the_pairs_cover_every_loss_and_the_fused_ones() -> None:
    assert {loss for _, loss in PAIRS} == set(LOSS_NAMES)
    assert set(dr.FUSED_PAIRS) <= set(PAIRS)


@pytest.mark.parametrize("output, loss", PAIRS)
def test_error_gradient_equals_finite_differences_for_every_output_and_loss(output, loss):
    rng = np.random.default_rng(3)
    net = Network([4, 6, 3], activation="tanh", output_activation=output, loss=loss,
                  use_bias=[False, True], seed=5, dtype="float64")  # fmt: skip
    X = rng.normal(size=(5, 4))
    y = _targets(net, 5, rng)
    _assert_off_kinks(net, X, y)
    _close(input_gradients(net, X, y), _numeric(_per_example_error(net, y), X))


@pytest.mark.parametrize("sizes", [[3, 2], [3, 4, 2], [2, 8, 6, 4, 3]])
def test_jacobian_equals_finite_differences_of_the_outputs(sizes) -> None:
    rng = np.random.default_rng(4)
    for output in OUTPUTS:
        net = Network(sizes, activation="softplus", output_activation=output, seed=6,
                      dtype="float64")  # fmt: skip
        X = rng.normal(size=(4, sizes[0]))
        _assert_off_kinks(net, X)
        got = input_gradients(net, X)
        assert got.shape == (4, sizes[-1], sizes[0])
        _close(got, _numeric(net.predict, X))


def test_a_wrong_derivative_is_caught_by_the_comparison() -> None:
    # (the oracle can fail: backprop through a wrong derivative disagrees with it)
    wrong = dr.Activation("wrong_tanh_sensitivity", np.tanh, lambda z, a: 1 - a)
    rng = np.random.default_rng(5)
    net = Network([3, 4, 1], activation=wrong, seed=0, dtype="float64")
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    with pytest.raises(AssertionError):
        _close(input_gradients(net, X, y), _numeric(_per_example_error(net, y), X))


# --- by hand: the tutorial's 2-2-2 network ---


def test_the_tutorials_network_by_hand() -> None:
    # The tutorial's published forward pass: out_h1, out_h2, out_o1, out_o2.
    from deltarule.textbook import tutorial_network

    net, X, y = tutorial_network()
    hidden = np.array([0.593269992, 0.596884378])
    out = np.array([0.75136507, 0.772928465])
    W1 = np.array([[0.15, 0.20], [0.25, 0.30]])
    W2 = np.array([[0.40, 0.45], [0.50, 0.55]])
    delta_out = (out - y[0]) * out * (1 - out)  # E = 1/2 sum (t - o)^2, sigmoid outputs
    delta_hidden = (delta_out @ W2) * hidden * (1 - hidden)
    # (the tutorial's dE/dw1 = 0.000438568 is delta_h1 * i1)
    assert delta_hidden[0] * X[0, 0] == pytest.approx(0.000438568, abs=1e-9)
    np.testing.assert_allclose(input_gradients(net, X, y)[0], delta_hidden @ W1, rtol=1e-7)
    # the generalized weights of sigmoid outputs: dz_out/dx
    expected = W2 @ (hidden * (1 - hidden) * W1.T).T
    np.testing.assert_allclose(generalized_weights(net, X)[0], expected, rtol=1e-7)


# --- sample weights, the batch's error, the scikit-learn objective ---


def test_sample_weights_scale_each_row_and_rows_over_their_sum_are_the_batch_gradient():
    rng = np.random.default_rng(6)
    net = Network([3, 5, 2], activation="tanh", seed=7, dtype="float64")
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    s = np.array([0.0, 1.0, 2.5, 0.5, 3.0])
    plain = input_gradients(net, X, y)
    weighted = input_gradients(net, X, y, sample_weight=s)
    np.testing.assert_allclose(weighted, s[:, None] * plain, rtol=1e-12)
    assert (weighted[0] == 0).all()

    def batch_error(X_: np.ndarray, weights: np.ndarray | None) -> float:
        return net.evaluate(X_, y, weights)

    for weights, total in ((None, len(X)), (s, s.sum())):
        numeric = np.empty_like(X)
        for i, j in np.ndindex(*X.shape):
            up, down = X.copy(), X.copy()
            up[i, j] += STEP
            down[i, j] -= STEP
            numeric[i, j] = (batch_error(up, weights) - batch_error(down, weights)) / (2 * STEP)
        got = input_gradients(net, X, y, sample_weight=weights) / total
        _close(got, numeric)


def test_a_scikit_learn_estimators_network_is_differentiated_with_its_objective():
    # A multi-label MLPClassifier's objective sums the labels' log-losses: c = K times
    # deltarule's mean binary cross-entropy (objective_terms); its error() includes c.
    pytest.importorskip("sklearn")
    from deltarule.sklearn import MLPClassifier

    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(20, 3)), (rng.uniform(size=(20, 2)) < 0.5).astype(float)
    est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0, dtype="float64")
    with pytest.warns(dr.ConvergenceWarning):
        net = est.fit(X, y).network_
    assert net.objective_terms()[0] == 2.0
    got = input_gradients(net, X[:5], y[:5])
    _close(got, _numeric(_per_example_error(net, y[:5]), X[:5]))
    plain = Network.from_config(net.config())
    plain.parameters = net.parameters
    np.testing.assert_allclose(got, 2.0 * input_gradients(plain, X[:5], y[:5]), rtol=1e-12)


def test_a_subclass_that_changes_its_error_undescribed_is_refused_with_y() -> None:
    class Odd(Network):
        def error(self, caches, target, sample_weight=None, work=None):  # noqa: ANN001
            return 2 * super().error(caches, target, sample_weight, work)

    net = Odd([2, 3, 1], seed=0, dtype="float64")
    with pytest.raises(InputError, match="objective_terms"):
        input_gradients(net, [[0.1, 0.2]], [[1.0]])
    assert input_gradients(net, [[0.1, 0.2]]).shape == (1, 1, 2)  # the Jacobian still


# --- PyTorch's autograd on a mid-sized network ---


def _torch_forward(torch, net: Network, x):
    """The network's forward pass in torch, from its own weights (x W^T + b)."""
    functions = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
                 "softmax": lambda z: torch.softmax(z, dim=-1)}  # fmt: skip
    out = x
    for layer, W, b in zip(net.layers, net.weights, net.biases):
        z = out @ torch.from_numpy(W).T + (0 if b is None else torch.from_numpy(b))
        out = functions[layer.activation.name](z)
    return z, out


def test_error_gradient_jacobian_and_generalized_weights_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    net = Network([20, 64, 32, 5], activation=["tanh", "relu"], output_activation="softmax",
                  seed=9, dtype="float64")  # fmt: skip
    X = rng.normal(size=(40, 20))
    y = np.eye(5)[rng.integers(0, 5, size=40)]
    x = torch.tensor(X, requires_grad=True)
    z, out = _torch_forward(torch, net, x)
    per_example = -(torch.tensor(y) * torch.log_softmax(z, dim=1)).sum(dim=1)
    (expected,) = torch.autograd.grad(per_example.sum(), x)  # row i: d loss_i / d x_i
    np.testing.assert_allclose(input_gradients(net, X, y), expected.numpy(), rtol=1e-10,
                               atol=1e-13)  # fmt: skip

    def outputs(row):
        return _torch_forward(torch, net, row)[1]

    jacobian = torch.func.vmap(torch.func.jacrev(outputs))(torch.tensor(X))
    np.testing.assert_allclose(input_gradients(net, X), jacobian.numpy(), rtol=1e-10,
                               atol=1e-13)  # fmt: skip

    def log_odds(row):
        p = outputs(row)
        return torch.log(p) - torch.log1p(-p)

    expected_gw = torch.func.vmap(torch.func.jacrev(log_odds))(torch.tensor(X))
    np.testing.assert_allclose(generalized_weights(net, X), expected_gw.numpy(), rtol=1e-8,
                               atol=1e-11)  # fmt: skip


# --- generalized weights ---


def _log_odds(net: Network):
    def f(X: np.ndarray) -> np.ndarray:
        o = net.predict(X)
        return np.log(o) - np.log1p(-o)

    return f


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
def test_generalized_weights_are_the_derivatives_of_the_log_odds(output) -> None:
    rng = np.random.default_rng(10)
    net = Network([3, 6, 4, 3], activation=["tanh", "sigmoid"], output_activation=output,
                  seed=11, dtype="float64")  # fmt: skip
    X = rng.normal(size=(7, 3))
    got = generalized_weights(net, X)
    assert got.shape == (7, 3, 3) and got.dtype == np.float64
    _close(got, _numeric(_log_odds(net), X))
    # not the derivatives of the outputs themselves
    assert not np.allclose(got, input_gradients(net, X), rtol=1e-3)


def test_generalized_weights_of_a_linear_output_are_the_derivatives_of_the_output() -> None:
    rng = np.random.default_rng(12)
    net = Network([4, 5, 2], activation="tanh", output_activation="identity", seed=13,
                  dtype="float64")  # fmt: skip
    X = rng.normal(size=(6, 4))
    got = generalized_weights(net, X)
    _close(got, _numeric(net.predict, X))
    np.testing.assert_array_equal(got, input_gradients(net, X))


def test_a_two_class_softmax_has_the_generalized_weights_of_the_sigmoid_it_equals() -> None:
    # softmax(z1, z2)_1 = sigmoid(z1 - z2): a 2-unit softmax and a sigmoid of the weight
    # difference are one function
    rng = np.random.default_rng(14)
    soft = Network([3, 4, 2], activation="tanh", output_activation="softmax", seed=15,
                   dtype="float64")  # fmt: skip
    sig = Network([3, 4, 1], activation="tanh", output_activation="sigmoid", dtype="float64")
    W2, b2 = soft.weights[1], soft.biases[1]
    sig.set_parameters({"W1": soft.weights[0], "b1": soft.biases[0],
                        "W2": W2[:1] - W2[1:], "b2": b2[:1] - b2[1:]})  # fmt: skip
    X = rng.normal(size=(5, 3))
    np.testing.assert_allclose(generalized_weights(soft, X)[:, 0],
                               generalized_weights(sig, X)[:, 0], rtol=1e-10)  # fmt: skip
    np.testing.assert_allclose(generalized_weights(soft, X)[:, 1],
                               -generalized_weights(sig, X)[:, 0], rtol=1e-10)  # fmt: skip


def test_a_saturated_softmax_keeps_finite_exact_log_odds() -> None:
    # o_k rounds to 1 (1 - o_k to 0): the log-odds' slope is still the difference of z's
    net = Network([1, 3], output_activation="softmax", dtype="float64")
    net.set_parameters({"W1": [[50.0], [0.0], [-1.0]], "b1": [0.0, 0.0, 0.0]})
    X = np.array([[20.0]])
    assert net.predict(X)[0, 0] == 1.0
    gw = generalized_weights(net, X)[0, 0, 0]
    # log-odds of class 0: 50x - log(1 + e^-x); its slope at x = 20: 50 + e^-20 / (1 + e^-20)
    assert gw == pytest.approx(50 + np.exp(-20) / (1 + np.exp(-20)), rel=1e-14)


@pytest.mark.parametrize("output", sorted(set(OUTPUTS) - {"identity", "sigmoid", "softmax"}))
def test_generalized_weights_refuse_other_output_activations(output) -> None:
    net = Network([2, 3, 1], activation="tanh", output_activation=output, seed=0)
    with pytest.raises(InputError, match=f"output activation is '{output}'.*input_gradients"):
        generalized_weights(net, [[0.1, 0.2]])


def test_generalized_weights_refuse_a_user_defined_sigmoid() -> None:
    mine = dr.Activation("sigmoid", lambda z: 1 / (1 + np.exp(-z)), lambda z, a: a * (1 - a))
    net = Network([2, 1], output_activation=mine, loss="mse", seed=0)
    with pytest.raises(InputError, match="user-defined 'sigmoid'"):
        generalized_weights(net, [[0.1, 0.2]])


def test_r_neuralnets_layout_is_a_reshape() -> None:
    # nn$generalized.weights: one column per (response, covariate), responses side by side
    net = Network([3, 4, 2], activation="tanh", output_activation="sigmoid", seed=0,
                  dtype="float64")  # fmt: skip
    X = np.random.default_rng(16).normal(size=(5, 3))
    r_layout = generalized_weights(net, X).reshape(5, -1)
    # column c of R's matrix: response c // 3's log-odds by covariate c % 3 (review: checked
    # against central differences, not against the array's own slices)
    h = 1e-6
    for column in range(6):
        k, j = divmod(column, 3)
        step = np.zeros(3)
        step[j] = h
        up, down = net.predict(X + step)[:, k], net.predict(X - step)[:, k]
        slope = (np.log(up / (1 - up)) - np.log(down / (1 - down))) / (2 * h)
        np.testing.assert_allclose(r_layout[:, column], slope, rtol=1e-6, atol=1e-9)


# --- dtype, sparse X ---


def test_float32_is_computed_in_float32_and_close_to_float64() -> None:
    rng = np.random.default_rng(17)
    net64 = Network([5, 8, 3], activation="tanh", output_activation="sigmoid", loss="mse",
                    seed=18, dtype="float64")  # fmt: skip
    net32 = net64.astype("float32")
    X, y = rng.normal(size=(10, 5)), rng.uniform(size=(10, 3))
    for compute in (lambda n: input_gradients(n, X, y), lambda n: input_gradients(n, X),
                    lambda n: generalized_weights(n, X)):  # fmt: skip
        low, high = compute(net32), compute(net64)
        assert low.dtype == np.float32 and high.dtype == np.float64
        _close(low.astype(np.float64), high, rtol=1e-5)


def test_a_sparse_X_gives_what_its_dense_rows_give() -> None:
    sparse = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(19)
    net = Network([6, 4, 2], activation="tanh", output_activation="sigmoid", seed=0,
                  dtype="float64")  # fmt: skip
    X = rng.normal(size=(5, 6)) * (rng.uniform(size=(5, 6)) < 0.3)
    y = rng.uniform(size=(5, 2))
    for fmt in ("csr", "csc", "coo"):
        S = sparse.random(1, 1).asformat(fmt).__class__(X)
        np.testing.assert_array_equal(input_gradients(net, S, y), input_gradients(net, X, y))
        np.testing.assert_array_equal(generalized_weights(net, S), generalized_weights(net, X))


def test_the_network_is_left_untouched() -> None:
    net = Network([3, 4, 2], activation="tanh", dropout=0.5, seed=0, dtype="float64")
    before = net.parameters.copy()
    X = np.random.default_rng(20).normal(size=(4, 3))
    first = input_gradients(net, X, np.zeros((4, 2)))
    # no dropout (inference): the values of the same network without dropout (review: two
    # calls agreeing held with a seeded dropout too), and no weight changed
    twin = Network([3, 4, 2], activation="tanh", seed=0, dtype="float64")
    twin.parameters = net.parameters
    np.testing.assert_array_equal(first, input_gradients(twin, X, np.zeros((4, 2))))
    jacobian, gw = input_gradients(net, X), generalized_weights(net, X)
    np.testing.assert_array_equal(jacobian, input_gradients(twin, X))
    np.testing.assert_array_equal(gw, generalized_weights(twin, X))
    assert net.parameters.tobytes() == before.tobytes()


# --- bad input ---

NET = Network([3, 4, 2], activation="tanh", output_activation="sigmoid", seed=0)
GOOD_X = np.zeros((2, 3))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: input_gradients(NET, np.zeros((2, 4))), "X has 4 features but the network"),
        (lambda: input_gradients(NET, [[0.0, np.nan, 1.0]]), "NaN or infinity"),
        (lambda: generalized_weights(NET, [[0.0, np.inf, 1.0]]), "NaN or infinity"),
        (lambda: generalized_weights(NET, np.zeros((2, 2))), "expects 3"),
        (lambda: input_gradients(NET, GOOD_X, np.zeros((2, 3))),
         "y has 3 columns but the network has 2 outputs"),
        (lambda: input_gradients(NET, GOOD_X, np.zeros((3, 2))), "X has 2 samples but y has 3"),
        (lambda: input_gradients(NET, GOOD_X, [[2.0, 0.0], [0.0, 0.0]]), "in \\[0, 1\\]"),
        (lambda: input_gradients(NET, GOOD_X, np.zeros((2, 2)), sample_weight=[1.0]),
         "sample_weight has 1 values but there are 2 samples"),
        (lambda: input_gradients(NET, GOOD_X, sample_weight=[1.0, 1.0]), "without y"),
        (lambda: input_gradients("net", GOOD_X), "needs a deltarule Network"),
        (lambda: generalized_weights(None, GOOD_X), "needs a deltarule Network"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_what_was_received_and_expected(call, message) -> None:
    with pytest.raises(InputError, match=message):
        call()


def test_outputs_or_derivatives_that_overflow_are_refused() -> None:
    net = Network([1, 1], output_activation="identity", loss="mse", seed=0)  # float32
    net.set_parameters({"W1": [[1e30]], "b1": [0.0]})
    for y in (None, [[1.0]]):
        with pytest.raises(InputError, match="outputs overflowed"):
            input_gradients(net, [[1e10]], y)
    # finite outputs (1e30 tanh(1e-5)), derivatives of 1e60: beyond float32
    net = Network([1, 1, 1], activation="tanh", loss="mse", use_bias=False, seed=0)
    net.set_parameters({"W1": [[1e30]], "W2": [[1e30]]})
    with pytest.raises(InputError, match="derivatives are not.*float64"):
        input_gradients(net, [[1e-35]])
    with pytest.raises(InputError, match="derivatives are not"):
        generalized_weights(net, [[1e-35]])
    assert np.isfinite(input_gradients(net.astype("float64"), [[1e-35]])).all()


def test_one_outputs_log_odds_alone_are_its_generalized_weights() -> None:
    # (the plot of one output backpropagates that output alone)
    from deltarule.sensitivity import log_odds_derivatives

    net = Network([4, 6, 3], activation="tanh", seed=2, dtype="float64")  # (softmax output)
    X = np.random.default_rng(21).normal(size=(7, 4))
    every = generalized_weights(net, X)
    for k in (2, 0):
        alone = log_odds_derivatives(net, X, [k])
        assert alone.shape == (7, 1, 4)
        np.testing.assert_array_equal(alone[:, 0], every[:, k])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_overflow_says_float64_only_to_a_narrower_network(dtype) -> None:
    # (at x = 0 the outputs are 0, their derivatives W2 W1 overflow)
    net = Network([2, 3, 1], activation="identity", output_activation="identity", seed=0,
                  dtype=dtype)  # fmt: skip
    big = 1e200 if dtype == "float64" else 1e38
    net.parameters = np.zeros_like(net.parameters)
    net.weights[0][...], net.weights[1][...] = big, big
    with pytest.raises(InputError, match="overflowed") as caught:
        input_gradients(net, np.zeros((1, 2)))
    said = "network.astype('float64')" in str(caught.value)
    assert said == (dtype == "float32"), str(caught.value)
