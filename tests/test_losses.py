"""Contract tests over every registered loss, the fused pairs, and PyTorch oracle values."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import unique_entries

from deltarule.activations import get_activation
from deltarule.exceptions import InputError
from deltarule.losses import FUSED_PAIRS, LOSSES, Loss, get_loss, huber, register_loss

ALL = unique_entries(LOSSES)
IDS = [loss.name for loss in ALL]


def outputs_and_targets(name: str, rng: np.random.Generator, n: int = 6, k: int = 3):
    if name == "categorical_crossentropy":
        o = get_activation("softmax")(rng.normal(size=(n, k)))
        t = np.eye(k)[rng.integers(0, k, size=n)]
    elif name == "binary_crossentropy":
        o = rng.uniform(0.05, 0.95, size=(n, k))
        t = rng.integers(0, 2, size=(n, k)).astype(float)
    elif name == "poisson":
        o = rng.uniform(0.2, 3.0, size=(n, k))
        t = rng.poisson(1.5, size=(n, k)).astype(float)
    else:
        o, t = rng.normal(size=(n, k)), rng.normal(size=(n, k))
        if name == "mae":
            o = np.where(np.abs(o - t) < 0.05, o + 0.2, o)
    return o, t


@pytest.mark.parametrize("loss", ALL, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shapes_and_dtype(loss: Loss, dtype: type, rng: np.random.Generator) -> None:
    o, t = (a.astype(dtype) for a in outputs_and_targets(loss.name, rng))
    assert loss.value(o, t).shape == (o.shape[0],)
    g = loss.output_gradient(o, t)
    assert g.shape == o.shape and g.dtype == dtype
    assert isinstance(loss(o, t), float)


@pytest.mark.parametrize("loss", ALL, ids=IDS)
def test_gradient_matches_finite_differences(loss: Loss, rng: np.random.Generator) -> None:
    o, t = outputs_and_targets(loss.name, rng)
    w = rng.uniform(0.5, 2.0, size=o.shape[0])
    analytic = loss.output_gradient(o, t, w)
    numeric = np.empty_like(o)
    h = 1e-6
    for idx in np.ndindex(o.shape):
        op, om = o.copy(), o.copy()
        op[idx] += h
        om[idx] -= h
        numeric[idx] = (loss(op, t, w) - loss(om, t, w)) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("loss", ALL, ids=IDS)
def test_batch_equals_rows_one_by_one(loss: Loss, rng: np.random.Generator) -> None:
    o, t = outputs_and_targets(loss.name, rng)
    per_sample = loss.value(o, t)
    grads = loss.gradient(o, t)
    for i in range(o.shape[0]):
        np.testing.assert_allclose(loss(o[i : i + 1], t[i : i + 1]), per_sample[i], rtol=1e-13)
        np.testing.assert_allclose(loss.gradient(o[i : i + 1], t[i : i + 1]), grads[i : i + 1])
    np.testing.assert_allclose(loss(o, t), per_sample.mean(), rtol=1e-13)


@pytest.mark.parametrize("loss", ALL, ids=IDS)
def test_integer_sample_weights_equal_repeated_rows(loss: Loss, rng: np.random.Generator) -> None:
    o, t = outputs_and_targets(loss.name, rng)
    counts = np.array([1, 3, 0, 2, 1, 4])
    repeated = np.repeat(np.arange(o.shape[0]), counts)
    np.testing.assert_allclose(loss(o, t, counts.astype(float)), loss(o[repeated], t[repeated]))


def test_tutorial_error_is_half_sum_of_squares() -> None:
    loss = get_loss("half_squared_error")
    o = np.array([[0.75136507, 0.772928465]])
    t = np.array([[0.01, 0.99]])
    # The tutorial's E_o1 = 0.274811083 and E_o2 = 0.023560026.
    assert loss(o, t) == pytest.approx(0.274811083 + 0.023560026, abs=1e-9)


@pytest.mark.parametrize("key", sorted(FUSED_PAIRS))
def test_fused_pair_equals_general_chain_rule(
    key: tuple[str, str], rng: np.random.Generator
) -> None:
    act, loss = get_activation(key[0]), get_loss(key[1])
    pair = FUSED_PAIRS[key]
    z = rng.normal(size=(6, 3))
    o = act(z)
    _, t = outputs_and_targets(loss.name, rng)
    general = act.backward(z, o, loss.gradient(o, t))
    np.testing.assert_allclose(pair.delta(z, o, t), general, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(pair.value(z, t), loss.value(o, t), rtol=1e-9)


@pytest.mark.parametrize("key", sorted(FUSED_PAIRS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_pair_in_place_forms_equal_the_plain_ones_bitwise(
    key: tuple[str, str], dtype: type, rng: np.random.Generator
) -> None:
    act, loss = get_activation(key[0]), get_loss(key[1])
    pair = FUSED_PAIRS[key]
    z = (rng.normal(size=(7, 3)) * 4).astype(dtype)
    o = act(z)
    _, t = outputs_and_targets(loss.name, rng)
    t = np.resize(t, z.shape).astype(dtype)
    work = np.full_like(z, np.nan)
    np.testing.assert_array_equal(pair.per_sample(z, t, work), pair.value(z, t), strict=True)
    out = np.full_like(z, np.nan)
    np.testing.assert_array_equal(pair.gradient(z, o, t, out), pair.delta(z, o, t), strict=True)
    if pair.delta_into is not None:
        assert np.shares_memory(pair.gradient(z, o, t, out), out)


def test_the_common_pairs_have_in_place_forms() -> None:
    for key in [("softmax", "categorical_crossentropy"), ("identity", "half_squared_error")]:
        assert FUSED_PAIRS[key].value_into is not None and FUSED_PAIRS[key].delta_into is not None


@pytest.mark.parametrize("key", sorted(FUSED_PAIRS))
def test_fused_values_stable_for_huge_logits(key: tuple[str, str]) -> None:
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]])
    t = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = FUSED_PAIRS[key].value(z, t)
    assert np.isfinite(values).all()
    if key[1] != "half_squared_error":
        assert values.max() > 1e3  # confidently wrong costs ~|z|, not a clipped log(eps)


def test_huber_threshold_changes_shape() -> None:
    o, t = np.array([[3.0]]), np.array([[0.0]])
    assert huber(1.0)(o, t) == pytest.approx(1.0 * (3 - 0.5))
    assert huber(5.0)(o, t) == pytest.approx(0.5 * 9)


TORCH_CASES = ["mse", "mae", "huber", "binary_crossentropy", "categorical_crossentropy", "poisson"]


@pytest.mark.parametrize("name", TORCH_CASES)
def test_values_match_pytorch(name: str, rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    fn = torch.nn.functional
    o, t = outputs_and_targets(name, rng)
    to, tt = torch.tensor(o), torch.tensor(t)
    expected = {
        "mse": lambda: fn.mse_loss(to, tt),
        "mae": lambda: fn.l1_loss(to, tt),
        "huber": lambda: fn.huber_loss(to, tt, delta=1.0),
        "binary_crossentropy": lambda: fn.binary_cross_entropy(to, tt),
        "categorical_crossentropy": lambda: fn.nll_loss(torch.log(to), tt.argmax(1)),
        # torch's poisson_nll_loss lacks the t*log(t) - t terms of the deviance; add them back.
        "poisson": lambda: (
            2
            * (
                fn.poisson_nll_loss(to, tt, log_input=False, full=False, eps=0)
                + torch.mean(torch.special.xlogy(tt, tt) - tt)
            )
        ),
    }[name]()
    assert get_loss(name)(o, t) == pytest.approx(float(expected), rel=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 1), (7, 3), (13, 10), (1000, 7), (3, 1000)])
def test_fast_mean_equals_numpys_bitwise(dtype: type, shape: tuple[int, int]) -> None:
    from deltarule.losses import _mean

    x = np.random.default_rng(sum(shape)).normal(size=shape).astype(dtype) * 1e3
    np.testing.assert_array_equal(_mean(x, axis=1), x.mean(axis=1), strict=True)
    assert _mean(x[:, 0]) == x[:, 0].mean() and _mean(x[:, 0]).dtype == dtype


@pytest.mark.parametrize("custom", ["loss", "activation"])
def test_a_users_object_under_a_fused_pairs_name_is_differentiated_as_its_own(custom) -> None:
    # The fused pairs were looked up by name: a user's Loss("half_squared_error") (or
    # identity) with other math was computed as the built-in pair, value and gradient.
    from deltarule import Activation, Network

    if custom == "loss":
        user = {"loss": Loss("half_squared_error", lambda o, t: 1.5 * ((o - t) ** 2).sum(axis=1),
                             lambda o, t: 3 * (o - t))}  # fmt: skip
    else:
        user = {"output_activation": Activation("identity", lambda z: 3 * z,
                                                lambda z, a: np.full_like(z, 3.0))}  # fmt: skip
    net = Network([3, 4, 2], activation="tanh", seed=0, dtype="float64", **user)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))

    def error(params: np.ndarray) -> float:  # the definition: forward, then the loss's value
        return float(net.loss.value(net.forward(X, params)[0], y).mean())

    value, gradient = net.loss_and_gradient(X, y)
    assert value == pytest.approx(error(net.parameters), rel=1e-12)
    assert net.evaluate(X, y) == pytest.approx(value, rel=1e-12)
    h, numeric = 1e-6, np.empty_like(gradient)
    for i in range(gradient.size):
        step = np.zeros_like(gradient)
        step[i] = h
        numeric[i] = (error(net.parameters + step) - error(net.parameters - step)) / (2 * h)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-8)


# --------------------------------------------------- parameters and the shape probe
@pytest.mark.parametrize("delta", [0.1, 2.5])
def test_a_huber_loss_is_rebuilt_from_its_config_with_its_delta(delta, rng) -> None:
    import pickle

    torch = pytest.importorskip("torch")
    o, t = rng.normal(size=(6, 3)) * 4, rng.normal(size=(6, 3))
    expected = torch.nn.functional.huber_loss(torch.tensor(o), torch.tensor(t), delta=delta)
    loss = huber(delta)
    config = loss.config()
    assert config == {"name": "huber", "delta": delta}
    # (config() kept the name alone, and pickling failed on the local functions)
    for rebuilt in (get_loss(config), pickle.loads(pickle.dumps(loss))):
        assert rebuilt.name == "huber" and rebuilt.config() == config
        assert rebuilt(o, t) == pytest.approx(float(expected), rel=1e-12)
    # the name alone is the default delta (1.0), as registered
    assert huber(1.0).config() == get_loss("huber").config() == "huber"
    assert get_loss({"name": "huber"}) is get_loss("huber")


@pytest.mark.parametrize(
    "config,fragment",
    [
        ({"name": "mse", "delta": 1.0}, r"loss 'mse' takes no parameters; received \{'delta'"),
        ({"name": "huber", "slope": 1.0}, r"loss 'huber' could not be made from parameters"),
        ({"name": "huber", "delta": -1.0}, "huber delta must be > 0"),
        ({"name": "huber", "delta": "1"}, "huber delta must be a finite number"),
        ({"delta": 1.0}, "loss must be given by name"),
    ],
)
def test_a_bad_loss_config_is_a_clear_error(config, fragment) -> None:
    from deltarule import InputError

    with pytest.raises(InputError, match=fragment):
        get_loss(config)


@pytest.mark.parametrize(
    "value,gradient,fragment",
    [  # (the first two were accepted silently; the third failed in training with a raw
        #  broadcast error)
        (lambda o, t: (o - t) ** 2, lambda o, t: 2 * (o - t),
         r"value\(output, target\) returned shape \(3, 2\) for outputs of shape \(3, 2\); "
         r"expected \(3,\), one loss per sample"),
        (lambda o, t: ((o - t) ** 2).mean(), lambda o, t: 2 * (o - t),
         r"value\(output, target\) returned shape \(\)"),
        (lambda o, t: ((o - t) ** 2).sum(axis=1), lambda o, t: 2 * (o - t).sum(axis=1),
         r"gradient\(output, target\) returned shape \(3,\) for outputs of shape \(3, 2\); "
         r"expected \(3, 2\)"),
        (lambda o: o, lambda o, t: o - t,
         r"value\(output, target\) failed on outputs and targets of shape \(3, 2\) "
         r"\(TypeError"),
    ],
)  # fmt: skip
def test_a_users_loss_is_probed_for_its_shapes_when_made(value, gradient, fragment) -> None:
    from deltarule import InputError

    with pytest.raises(InputError, match="Loss 'mine': " + fragment):
        Loss("mine", value, gradient)


def test_a_probed_users_loss_trains_as_its_pytorch_twin(rng) -> None:
    # The probe accepts a well-formed loss; its value and gradient then drive training.
    torch = pytest.importorskip("torch")
    from deltarule import Network

    quartic = Loss("quartic", lambda o, t: ((o - t) ** 4).sum(axis=1),
                   lambda o, t: 4 * (o - t) ** 3)  # fmt: skip
    net = Network([3, 2], activation="identity", loss=quartic, seed=0, dtype="float64")
    X, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    value, gradient = net.loss_and_gradient(X, y)
    W = torch.tensor(net.weights[0], requires_grad=True)
    b = torch.tensor(net.biases[0], requires_grad=True)
    out = torch.tensor(X) @ W.T + b
    expected = ((out - torch.tensor(y)) ** 4).sum(dim=1).mean()
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(net.layout.view(gradient, "W1"), W.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(net.layout.view(gradient, "b1"), b.grad.numpy(), rtol=1e-12)


def _torch_log_domain(torch, out: str, loss: str, z, t):
    """The loss of one row through the output activation, written in the log domain
    (log-sigmoid, log-softmax), in float64: an oracle no clipping touches."""
    F = torch.nn.functional
    log_o = {"sigmoid": F.logsigmoid, "softmax": lambda v: torch.log_softmax(v, dim=1)}
    if out == "softplus":
        o = F.softplus(z)
        log_o_z = torch.log(o)
    else:
        log_o_z = log_o[out](z)
        o = torch.exp(log_o_z)
    if loss == "poisson":
        return (2 * (torch.xlogy(t, t) - t * log_o_z - t + o)).mean()
    if loss == "categorical_crossentropy":
        return -(t * log_o_z).sum()
    log_1mo = torch.log1p(-o)  # (the rows below keep 1 - o away from 0)
    return (-(t * log_o_z + (1 - t) * log_1mo)).mean()


@pytest.mark.parametrize(
    "out, loss, logits, target",
    [
        ("sigmoid", "poisson", [-20.0], [1.0]),
        ("softplus", "poisson", [-30.0], [2.0]),
        ("softmax", "poisson", [-25.0, 0.0, 0.0], [1.0, 0.0, 1.0]),
        ("sigmoid", "categorical_crossentropy", [-20.0, 1.0], [1.0, 0.0]),
        ("softmax", "binary_crossentropy", [-22.0, 0.0, 0.5], [1.0, 0.0, 0.0]),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unfused_pairs_keep_their_gradient_for_outputs_below_eps(out, loss, logits, target, dtype):
    # (QA with PyTorch as the oracle: these losses clipped outputs at eps, so an output
    # below it (a sigmoid's at z = -20 in float32) had its gradient cut o / eps times,
    # -0.0346 for -2, and its loss stuck at -log(eps))
    torch = pytest.importorskip("torch")
    import deltarule as dr

    scale = 3.0 if dtype == np.float64 else 1.0  # (float64 outputs go far below its eps)
    k = len(logits)
    net = dr.Network([1, k], output_activation=out, loss=loss, dtype=dtype, seed=0)
    net.weights[0] = np.zeros((k, 1))
    net.biases[0] = scale * np.array(logits)
    X, T = np.ones((1, 1), dtype), np.array([target], dtype)
    value, gradient = net.loss_and_gradient(X, T)
    z = torch.tensor(scale * np.array([logits]), dtype=torch.float64, requires_grad=True)
    exact = _torch_log_domain(torch, out, loss, z, torch.tensor([target], dtype=torch.float64))
    exact.backward()
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(value, exact.item(), rtol=rtol)
    want = z.grad.numpy().ravel()
    np.testing.assert_allclose(gradient[-k:], want, rtol=rtol, atol=rtol * np.abs(want).max())


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy", "poisson"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unfused_losses_keep_nan_and_push_back_outputs_out_of_their_domain(name, dtype):
    # (a NaN output must stay NaN, the loop's sign of divergence; an output <= 0, which only
    # a user's activation with no declared range gives, is taken as eps: a bounded gradient)
    loss = get_loss(name)
    eps = np.finfo(dtype).eps
    t = np.ones((1, 3), dtype)
    nan = np.array([[-1.0, np.nan, 0.2]], dtype)  # (with an output <= 0 beside it)
    assert np.isnan(loss.value(nan, t)).all() and np.isnan(loss.gradient(nan, t)[0, 1])
    below = np.array([[-3.0, 0.0, eps]], dtype)
    value, gradient = loss.value(below, t), loss.gradient(below, t)
    assert value.dtype == dtype and np.isfinite(value).all()
    assert gradient.dtype == dtype and np.isfinite(gradient).all()
    np.testing.assert_array_equal(gradient[0, 0], gradient[0, 2])  # (as at eps itself)


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy", "poisson"])
def test_float16_outputs_are_clipped_at_eps_not_above_it(name):
    # (a review: tiny / eps is 0.0625 in float16, which clipped every probability below it)
    loss = get_loss(name)
    o = np.array([[0.01, 0.03, 0.96]])
    t = np.array([[1.0, 0.0, 0.0]])
    wide = loss.value(o, t)
    narrow = loss.value(o.astype(np.float16), t.astype(np.float16))
    np.testing.assert_allclose(narrow.astype(np.float64), wide, rtol=5e-3)


def test_registration_with_a_taken_alias_registers_nothing() -> None:
    loss = Loss("clash_loss_test", lambda o, t: ((o - t) ** 2).sum(1), lambda o, t: 2 * (o - t))
    with pytest.raises(InputError, match="'huber' is already registered.*Nothing was"):
        register_loss(loss, aliases=("huber",))
    assert "clash_loss_test" not in LOSSES
    try:
        register_loss(loss, aliases=("clash_loss_alias",))
        assert get_loss("clash_loss_alias") is loss
    finally:
        LOSSES.pop("clash_loss_test", None)
        LOSSES.pop("clash_loss_alias", None)


@pytest.mark.parametrize(
    ("value", "gradient", "what"),
    [  # (an AttributeError, 'list' object has no attribute 'size', when computed)
        (lambda o, t: ((o - t) ** 2).sum(1).tolist(), lambda o, t: 2 * (o - t), "value"),
        (lambda o, t: ((o - t) ** 2).sum(1), lambda o, t: (2 * (o - t)).tolist(), "gradient"),
    ],
)
def test_a_users_loss_returning_a_list_is_refused_when_made(value, gradient, what) -> None:
    with pytest.raises(
        InputError,
        match=rf"Loss 'listed': {what}\(output, target\) returned list \[.*; expected a NumPy "
        r"array\. .*np\.asarray",
    ):
        Loss("listed", value, gradient)


@pytest.mark.parametrize("domain", [(1, 0), (0,), "01", (0, "1")])
def test_an_output_domain_must_be_an_interval(domain) -> None:
    # (1, 0) was accepted; a network then suggested activations "whose values it takes ()".
    with pytest.raises(InputError, match=r"Loss 'bad_domain': output_domain must be \(lo, hi\) "
                       r"with lo <= hi .*received .*E\.g\. \(0\.0, 1\.0\)"):  # fmt: skip
        Loss("bad_domain", lambda o, t: ((o - t) ** 2).sum(1), lambda o, t: 2 * (o - t),
             output_domain=domain)  # fmt: skip


def test_a_loss_name_must_be_a_string() -> None:
    with pytest.raises(InputError, match="Loss's name must be a non-empty string; received int 3"):
        Loss(3, lambda o, t: ((o - t) ** 2).sum(1), lambda o, t: 2 * (o - t))  # type: ignore[arg-type]
