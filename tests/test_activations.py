"""Contract tests over every registered activation, plus oracle values from PyTorch."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from conftest import unique_entries

import deltarule as dr
from deltarule import InputError, UnknownNameError
from deltarule.activations import ACTIVATIONS, Activation, get_activation, register_activation

ALL = unique_entries(ACTIVATIONS)
IDS = [a.name for a in ALL]


def numeric_vjp(act: Activation, z: np.ndarray, g: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of sum(g * f(z)) with respect to each entry of z."""
    out = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        out[idx] = ((g * act(zp)).sum() - (g * act(zm)).sum()) / (2 * h)
    return out


def sample_inputs(rng: np.random.Generator, name: str) -> np.ndarray:
    z = rng.uniform(-4, 4, size=(5, 4))
    if name in ("relu", "leaky_relu", "elu", "selu", "hard_sigmoid"):
        # keep clear of the kinks (0, and ±3 for hard_sigmoid) where the derivative jumps
        z = np.where(np.abs(z) < 0.05, 0.5, z)
        z = np.where(np.abs(np.abs(z) - 3) < 0.05, 2.0, z)
    return z


@pytest.mark.parametrize("act", ALL, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_and_dtype_kept(act: Activation, dtype: type, rng: np.random.Generator) -> None:
    z = rng.normal(size=(6, 3)).astype(dtype)
    a = act(z)
    g = rng.normal(size=(6, 3)).astype(dtype)
    back = act.backward(z, a, g)
    assert a.shape == z.shape and a.dtype == dtype
    assert back.shape == z.shape and back.dtype == dtype


@pytest.mark.parametrize("act", ALL, ids=IDS)
def test_derivative_matches_finite_differences(act: Activation, rng: np.random.Generator) -> None:
    z = sample_inputs(rng, act.name)
    g = rng.normal(size=z.shape)
    analytic = act.backward(z, act(z), g)
    numeric = numeric_vjp(act, z, g)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("act", ALL, ids=IDS)
def test_batch_equals_rows_one_by_one(act: Activation, rng: np.random.Generator) -> None:
    z = rng.normal(size=(7, 4))
    g = rng.normal(size=(7, 4))
    a = act(z)
    back = act.backward(z, a, g)
    for i in range(z.shape[0]):
        row = z[i : i + 1]
        np.testing.assert_allclose(act(row), a[i : i + 1], rtol=1e-14, atol=0)
        np.testing.assert_allclose(
            act.backward(row, act(row), g[i : i + 1]), back[i : i + 1], rtol=1e-12, atol=1e-15
        )


@pytest.mark.parametrize("act", ALL, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_huge_inputs(act: Activation, dtype: type) -> None:
    z = np.array([[-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            a = act(z)
            d = act.backward(z, a, np.ones_like(z))
    assert np.isfinite(a).all() and np.isfinite(d).all()


@pytest.mark.parametrize("act", ALL, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_forms_equal_the_plain_ones_bitwise(
    act: Activation, dtype: type, rng: np.random.Generator
) -> None:
    # Every activation takes an ``out`` (used or not); where it is used, the values must be
    # those of the allocating form to the last bit: the training loop relies on it.
    z = (rng.normal(size=(9, 5)) * 3).astype(dtype)
    z[0, :2] = 0  # the kinks
    g = rng.normal(size=z.shape).astype(dtype)
    a = act(z)
    out = np.full_like(z, np.nan)
    a_into = act(z, out)
    np.testing.assert_array_equal(a_into, a, strict=True)
    if act.function_into is not None and act.name != "identity":
        assert a_into is out
    d_out = np.full_like(z, np.nan)
    d_into = act.backward(z, a, g, d_out)
    np.testing.assert_array_equal(d_into, act.backward(z, a, g), strict=True)
    if act.backward_into is not None:
        assert d_into is d_out


def test_common_activations_have_in_place_forms() -> None:
    for name in ("identity", "sigmoid", "tanh", "relu"):
        act = get_activation(name)
        assert act.function_into is not None and act.backward_into is not None
    assert get_activation("softmax").function_into is not None


TORCH_NAMES = {
    "identity": "identity",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "relu": "relu",
    "leaky_relu": "leaky_relu",
    "elu": "elu",
    "selu": "selu",
    "gelu": "gelu",
    "softplus": "softplus",
    "silu": "silu",
    "softsign": "softsign",
    "hard_sigmoid": "hardsigmoid",
    "softmax": "softmax",
}


@pytest.mark.parametrize("name", sorted(TORCH_NAMES))
def test_values_and_gradients_match_pytorch(name: str, rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    fn = torch.nn.functional
    z = sample_inputs(rng, name)
    g = rng.normal(size=z.shape)
    tz = torch.tensor(z, requires_grad=True)
    tname = TORCH_NAMES[name]
    if tname == "identity":
        ta = tz * 1
    elif tname == "softmax":
        ta = torch.softmax(tz, dim=1)
    elif tname in ("sigmoid", "tanh"):
        ta = getattr(torch, tname)(tz)
    else:
        ta = getattr(fn, tname)(tz)
    ta.backward(torch.tensor(g))
    act = get_activation(name)
    # torch's hardsigmoid uses a float32 constant 1/6 even in float64, hence the looser bound.
    rtol = 1e-7 if name == "hard_sigmoid" else 1e-10
    np.testing.assert_allclose(act(z), ta.detach().numpy(), rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(act.backward(z, act(z), g), tz.grad.numpy(), rtol=rtol, atol=1e-12)


def _ulps(got: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """|got - exact| in units in the last place of ``exact`` (in got's dtype)."""
    exact = exact.astype(got.dtype)
    return np.abs(got.astype(np.float64) - exact) / np.spacing(np.abs(exact)).astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elu_and_selu_slopes_keep_their_precision_far_below_zero(dtype) -> None:
    # (QA against exact values: the slope was computed as a + 1 with a = e^z - 1, which
    # cancels: ELU'(-40) came out 0 for 4.25e-18, and 4e-4 off at -10 in float32)
    tiny_exp = np.log(np.finfo(dtype).tiny)
    z = -np.geomspace(1e-6, -tiny_exp, 400).astype(dtype)
    exp = np.array([math.exp(float(v)) for v in z])  # (math.exp: within an ulp in float64)
    for name, scale in (("elu", 1.0), ("selu", 1.0507009873554805 * 1.6732632423543772)):
        act = get_activation(name)
        got = act.derivative(z, act(z))
        assert got.dtype == dtype
        assert _ulps(got, scale * exp).max() <= 3, name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hard_sigmoid_is_exact_near_its_lower_corner(dtype) -> None:
    # (QA: z / 6 + 0.5 cancels near z = -3, 5e6 ulp off at -2.9999999 in float64;
    # (z + 3) / 6 is what PyTorch and Keras 3 compute)
    z = np.concatenate([-3 + np.geomspace(1e-7, 1.0, 200), np.linspace(-2.99, 2.99, 201)])
    z = z.astype(dtype)
    exact = np.array([float((Fraction(float(v)) + 3) / 6) for v in z])
    got = get_activation("hard_sigmoid")(z)
    assert _ulps(got, exact).max() <= 1


def test_aliases_resolve_to_the_same_object() -> None:
    assert get_activation("logistic") is get_activation("sigmoid")
    assert get_activation("swish") is get_activation("silu")
    assert get_activation("SIGMOID") is get_activation("sigmoid")


def test_unknown_name_lists_known_ones_and_suggests() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_activation("sigmod")
    message = str(info.value)
    assert "sigmod" in message and "relu" in message and "Did you mean 'sigmoid'" in message


def test_user_defined_activation_registers_and_rejects_duplicates() -> None:
    cube = Activation("cube_test", lambda z: z**3, lambda z, a: 3 * z**2)
    register_activation(cube)
    try:
        assert get_activation("cube_test") is cube
        with pytest.raises(InputError, match="already registered"):
            register_activation(cube)
    finally:
        ACTIVATIONS.pop("cube_test")


def test_registration_with_a_taken_alias_registers_nothing() -> None:
    # A clash found on an alias used to leave the name registered, so the retry failed.
    act = Activation("clash_test", np.tanh, lambda z, a: 1 - a * a)
    with pytest.raises(InputError, match="'sigmoid' is already registered.*Nothing was"):
        register_activation(act, aliases=("sigmoid",))
    assert "clash_test" not in ACTIVATIONS
    assert get_activation("sigmoid").name == "sigmoid"
    try:
        register_activation(act, aliases=("clash_test_alias",))  # the retry works
        assert get_activation("clash_test_alias") is act
    finally:
        ACTIVATIONS.pop("clash_test", None)
        ACTIVATIONS.pop("clash_test_alias", None)


def test_activation_needs_exactly_one_derivative_form() -> None:
    with pytest.raises(InputError, match="exactly one"):
        Activation("bad", np.tanh)


@pytest.mark.parametrize("act", ALL, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outputs_lie_in_the_declared_range(act: Activation, dtype: type) -> None:
    # The losses defined on some outputs only (the cross-entropies, Poisson) refuse an
    # output activation by this range: it must hold for every input, huge ones included.
    assert act.output_range is not None, f"{act.name} declares no output_range"
    lo, hi = act.output_range
    z = np.concatenate([np.linspace(-30, 30, 6001), [-1e30, -1e4, -1e-30, 0.0, 1e-30, 1e4, 1e30]])
    with np.errstate(over="ignore"):
        a = act(z.astype(dtype).reshape(-1, 8))
    assert np.all((lo <= a) & (a <= hi)), (act.name, a.min(), a.max())


def test_an_output_range_must_be_an_interval() -> None:
    with pytest.raises(InputError, match="output_range must be \\(lo, hi\\) with lo <= hi"):
        Activation("backwards", np.tanh, lambda z, a: 1 - a * a, output_range=(1.0, -1.0))


@pytest.mark.parametrize(
    "args,message",
    [
        (("sum", lambda z: z.sum(), lambda z, a: np.ones_like(z)),  # (an IndexError in fit)
         r"function\(z\) returned shape \(\) for z of shape \(2, 3\); expected z's shape"),
        (("one_arg", np.tanh, lambda z: 1 - np.tanh(z) ** 2),  # (a TypeError in backward)
         r"derivative\(z, a\) failed on an array of shape \(2, 3\) \(TypeError: .*\); "
         r"expected function\(z\) -> f\(z\) and derivative\(z, a\)"),
        (("rows", np.tanh, lambda z, a: (1 - a * a).sum(axis=1)),
         r"derivative\(z, a\) returned shape \(2,\) for z of shape \(2, 3\)"),
    ],
)  # fmt: skip
def test_a_wrong_user_activation_is_refused_when_made(args, message) -> None:
    with pytest.raises(InputError, match=message):
        Activation(*args)


@pytest.mark.parametrize(
    "args,message",
    [
        # a (3,) derivative broadcast over the probe's (2, 3), then failed in fit
        (("wrong_shape", np.tanh, lambda z, a: np.ones(3, z.dtype)),
         r"derivative\(z, a\) returned shape \(3,\) for z of shape \(2, 3\); expected z's "
         r"shape, or one that broadcasts to z's for every batch"),
        # a TypeError "Field elements must be 2- or 3-tuples" when made
        (("listed_derivative", np.tanh, lambda z, a: (1 - a * a).tolist()),
         r"derivative\(z, a\) returned list \[\[.*; expected a NumPy array of z's shape "
         r"\(or a single number\)\. .*np\.asarray"),
        # an AttributeError ('list' object has no attribute 'shape') in fit
        (("listed_function", lambda z: np.tanh(z).tolist(), lambda z, a: np.ones_like(z)),
         r"function\(z\) returned list \[\[.*; expected a NumPy array of z's shape\. "),
    ],
)  # fmt: skip
def test_a_user_activation_returning_a_wrong_value_is_refused_when_made(args, message) -> None:
    with pytest.raises(InputError, match=f"Activation '{args[0]}': {message}"):
        Activation(*args)


def test_a_user_activation_may_give_its_derivative_as_one_number() -> None:
    act = Activation("scaled_identity", lambda z: 2 * z, lambda z, a: 2.0)
    assert float(act.backward(np.zeros((4, 2)), np.zeros((4, 2)), np.ones((4, 2)))[0, 0]) == 2.0


@pytest.mark.parametrize("name", [3, "", None])
def test_an_activation_name_must_be_a_string(name) -> None:
    # An int name was accepted, then io.save_model failed ('int' object has no attribute 'lower').
    expected = f"received {type(name).__name__} {name!r}. .*Activation\\('my_tanh'"
    with pytest.raises(
        InputError, match="Activation's name must be a non-empty string; " + expected
    ):
        Activation(name, np.tanh, lambda z, a: 1 - a * a)


@pytest.mark.parametrize(
    "derivative",
    [
        lambda z, a: np.ones((1, z.shape[1]), z.dtype),  # a row
        lambda z, a: np.ones((z.shape[0], 1), z.dtype),  # a column
        lambda z, a: z.dtype.type(1.0),  # one number
    ],
    ids=["row", "column", "number"],
)
def test_a_derivative_that_broadcasts_for_every_batch_is_taken(derivative) -> None:
    # (refused for a day: only z's shape or one number passed, though these trained as
    # the full derivative does; a fixed (3,) fits the probe's (2, 3) alone and is refused)
    X = np.random.default_rng(0).normal(size=(9, 3))
    y = X.sum(axis=1, keepdims=True)
    outputs = []
    for d in (derivative, lambda z, a: np.ones_like(z)):
        act = Activation("ramp", lambda z: z * 1.0, d)
        net = dr.Network([3, 4, 1], activation=act, seed=0)
        net.fit(X, y, epochs=3, batch_size=4, verbose=0, warn_convergence=False, seed=0)
        outputs.append(net.predict(X))
    np.testing.assert_array_equal(outputs[0], outputs[1])
