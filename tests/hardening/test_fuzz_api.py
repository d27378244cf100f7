"""Fuzzing the public API: success, or a deltarule error with a message — nothing from deep inside.

Network construction, predict, loss_and_gradient, fit (one epoch) and check_gradients get
random shapes, dtypes (bool, int, uint, float16/32/64, complex, object, str, bytes,
datetime) and values (NaN, inf, huge, denormal), and random settings. NumPy RuntimeWarnings
(overflow, invalid value) count as failures: an overflow must be reported, not leaked.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hardening_support import assert_clean_error, fuzz, time_limit
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.linalg import LinAlgWarning

import deltarule as dr
from deltarule.initializers import INITIALIZERS
from deltarule.optimizers import OPTIMIZERS
from deltarule.schedules import SCHEDULES
from deltarule.solvers import SOLVERS


def _outcome(call):
    """Run ``call`` with NumPy's RuntimeWarnings as errors; return (result, error).

    scipy's LinAlgWarning (an ill-conditioned Levenberg–Marquardt system, which its
    damping handles) is allowed.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", LinAlgWarning)
        warnings.simplefilter("ignore", dr.ConvergenceWarning)
        try:
            with time_limit(20):
                return call(), None
        except Exception as exc:  # noqa: BLE001 - judged by the caller
            return None, exc


def _expect_clean(call, label: str = "call"):
    result, error = _outcome(call)
    event(f"{label}: {'ok' if error is None else type(error).__name__}")
    if error is not None:
        assert_clean_error(error)
    return result


# ---------------------------------------------------------------- strategies
@st.composite
def _kwargs(draw, valid: dict, junk: dict, max_bad: int = 2) -> dict:
    """Valid keyword arguments with at most ``max_bad`` of them replaced by junk.

    Mostly-valid calls get past the first check, so later checks and the computation are
    exercised too; the junk ones test every check.
    """
    bad = draw(st.sets(st.sampled_from(sorted(junk)), max_size=max_bad))
    return {key: draw(junk[key] if key in bad else valid[key]) for key in valid}


_names = sorted(dr.ACTIVATIONS)
_junk = st.sampled_from([None, 5, 2.5, "", "nope", "RELU ", b"tanh", ["x"], {"a": 1}, np.nan])


def _bad_shape_init(shape, fan_in, fan_out, rng, dtype):
    return np.zeros((7, 7))


def _nan_init(shape, fan_in, fan_out, rng, dtype):
    return np.full(shape, np.nan)


def _complex_init(shape, fan_in, fan_out, rng, dtype):
    return np.ones(shape, complex)


def _text_init(shape, fan_in, fan_out, rng, dtype):
    return "zeros"


def _huge_init(shape, fan_in, fan_out, rng, dtype):
    return np.full(shape, 1e300)


def _scalar_init(shape, fan_in, fan_out, rng, dtype):
    return 0.1


_NETWORK_VALID = {
    "layer_sizes": st.lists(st.integers(1, 5), min_size=2, max_size=4),
    "activation": st.sampled_from(_names),
    "output_activation": st.sampled_from(_names),
    "loss": st.sampled_from(["auto"] * 4 + sorted(dr.LOSSES)),
    "dtype": st.sampled_from(["float32", "float64", np.float64, "f4"]),
    "dropout": st.sampled_from([0.0, 0.25, np.float32(0.5), 0]),
    "use_bias": st.booleans(),
    "initializer": st.sampled_from(sorted(INITIALIZERS) + [_scalar_init]),
    "seed": st.integers(0, 2**64) | st.just(np.int64(3)),
}
_NETWORK_JUNK = {
    "layer_sizes": st.lists(
        st.integers(-2, 6)
        | st.sampled_from([0, True, 2.0, "3", None, np.uint8(2), 10**15, 2**62, 2**100]),
        max_size=4,
    )
    | st.sampled_from([None, 3, "2,1", (2, 1), np.array([2, 1]), range(2, 4), [10**15, 1]]),
    "activation": _junk | st.lists(st.sampled_from(_names), max_size=3),
    "output_activation": _junk,
    "loss": _junk,
    "dtype": st.sampled_from(["float16", complex, object, "U3", int, bool, "nope", 5, {}]),
    "dropout": st.sampled_from([0.99, 1.0, -0.1, np.nan, True, "0.5"])
    | st.lists(st.floats(-1, 2), max_size=3),
    "use_bias": st.sampled_from([[True], [False, True], [True, False, True], "no"]),
    "initializer": _junk
    | st.sampled_from([_bad_shape_init, _nan_init, _complex_init, _text_init, _huge_init]),
    "seed": st.sampled_from([-1, 1.5, "1", True, [1]]),
}

_values = st.floats(-10, 10) | st.integers(-3, 3).map(float)
_special = st.sampled_from([np.nan, np.inf, -np.inf, 1e30, -3e38, 3.5e38, 1e300, 5e-324, -0.0])
_cast_to = st.sampled_from(
    [np.float64] * 3 + [np.float32, np.float16, np.int64, np.int8, np.uint32, np.bool_]
)
_dtypes = st.one_of(
    hnp.boolean_dtypes(),
    hnp.integer_dtypes(),
    hnp.unsigned_integer_dtypes(),
    hnp.floating_dtypes(),
    hnp.complex_number_dtypes(),
    hnp.unicode_string_dtypes(max_len=3),
    hnp.byte_string_dtypes(max_len=3),
    hnp.datetime64_dtypes(),
)
_objects = st.one_of(st.none(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=2))


def _junk_arrays(max_dims=3):
    shapes = hnp.array_shapes(min_dims=0, max_dims=max_dims, min_side=0, max_side=4)
    return st.one_of(
        hnp.arrays(_dtypes, shapes),
        hnp.arrays(np.dtype(object), shapes, elements=_objects),
        st.lists(st.lists(st.floats() | st.integers(-5, 5), max_size=3), max_size=4),  # ragged
        st.sampled_from([None, 1.0, "x", [[1, 2], [3]], {"a": 1}, np.ma.masked_all((2, 2))]),
    )


def _block(draw, shape) -> np.ndarray:
    """An array of ``shape``: moderate numbers, sometimes one special value, in a random dtype."""
    size = int(np.prod(shape))
    values = np.array(draw(st.lists(_values, min_size=size, max_size=size)))
    if draw(st.booleans()):
        values[draw(st.integers(0, size - 1))] = draw(_special)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return values.reshape(shape).astype(draw(_cast_to))


@st.composite
def _data(draw, n_inputs: int, n_outputs: int):
    """(X, y, sample_weight) that fit the network, with at most two parts replaced by junk."""
    n = draw(st.integers(1, 5))
    bad = draw(st.sets(st.sampled_from(["X", "y", "w"]), max_size=1))
    X = draw(_junk_arrays()) if "X" in bad else _block(draw, (n, n_inputs))
    y_shape = draw(st.sampled_from([(n, n_outputs), (n,) if n_outputs == 1 else (n, n_outputs)]))
    y = draw(_junk_arrays()) if "y" in bad else _block(draw, y_shape)
    if "w" in bad:
        w = draw(_junk_arrays(max_dims=2) | st.sampled_from([[-1.0] * n, [0.0] * n]))
    else:
        w = draw(st.none() | st.lists(st.floats(0, 1e3), min_size=n, max_size=n))
    return X, y, w


# ---------------------------------------------------------------- construction
@fuzz(300)
@given(kwargs=_kwargs(_NETWORK_VALID, _NETWORK_JUNK))
def test_network_construction(kwargs):
    kwargs = dict(kwargs)
    layer_sizes = kwargs.pop("layer_sizes")
    net = _expect_clean(lambda: dr.Network(layer_sizes, **kwargs), "Network")
    if net is not None:
        assert net.parameters.dtype in (np.float32, np.float64)
        assert np.isfinite(net.parameters).all()
        assert net.layer_sizes == [int(s) for s in layer_sizes]


def test_absurd_layer_sizes_are_refused_not_allocated():
    with pytest.raises(dr.InputError, match="cannot be allocated"):
        dr.Network([10**15, 2])
    with pytest.raises(dr.InputError, match="cannot be allocated"):
        dr.Network([2**62, 2**62, 1])


# ---------------------------------------------------------------- data
_NETWORKS = {
    "regression": lambda: dr.Network([2, 3, 1], activation="tanh", seed=0),
    "float64-softmax": lambda: dr.Network(
        [2, 3, 3], activation="relu", output_activation="softmax", dtype="float64", seed=1
    ),
    "sigmoid-2-out": lambda: dr.Network([3, 2], output_activation="sigmoid", seed=2),
    "poisson": lambda: dr.Network(
        [2, 2, 1], activation="elu", output_activation="softplus", loss="poisson", seed=3
    ),
    "mae-dropout": lambda: dr.Network([1, 4, 2], loss="mae", dropout=0.5, seed=4),
}
_SHAPES = {kind: (make().n_inputs, make().n_outputs) for kind, make in _NETWORKS.items()}


@st.composite
def _network_and_data(draw):
    kind = draw(st.sampled_from(sorted(_NETWORKS)))
    return _NETWORKS[kind](), draw(_data(*_SHAPES[kind]))


def _check_prediction(net, X):
    out = _expect_clean(lambda: net.predict(X), "predict")
    if out is not None:
        assert out.ndim == 2 and out.shape[1] == net.n_outputs and out.dtype == net.dtype
        assert np.isfinite(out).all()


@fuzz(300)
@given(case=_network_and_data())
def test_predict_and_loss_and_gradient(case):
    net, (X, y, w) = case
    before = net.parameters.copy()
    _check_prediction(net, X)
    result = _expect_clean(lambda: net.loss_and_gradient(X, y, w), "loss_and_gradient")
    if result is not None:
        loss, grad = result
        assert isinstance(loss, float)
        assert grad.shape == net.parameters.shape and grad.dtype == net.dtype
    np.testing.assert_array_equal(net.parameters, before)  # pure functions of the data


_FIT_VALID = {
    "optimizer": st.sampled_from(sorted(OPTIMIZERS) + sorted(SOLVERS)),
    "learning_rate": st.sampled_from([None, 1e-3, 0.5, 1e6]),
    "batch_size": st.sampled_from([None, 1, 2, 32]),
    "epochs": st.just(1),
    "shuffle": st.booleans(),
    "validation_split": st.sampled_from([0.0, 0.0, 0.5]),
    "l1": st.sampled_from([0.0, 0.1]),
    "l2": st.sampled_from([0.0, 1e-3]),
    "max_norm": st.sampled_from([None, 1.0]),
    "schedule": st.sampled_from([None, None, "constant", "invscaling", "plateau"]),
    "metrics": st.sampled_from([None, [], ["accuracy"], ["r2"]]),
    "class_weight": st.sampled_from([None, None, "balanced", {0: 2.0}]),
    "target_error": st.sampled_from([None, 1e-3]),
    "early_stopping": st.booleans(),
    "seed": st.integers(0, 10),
}
_FIT_JUNK = {
    "optimizer": st.sampled_from(["nope", None, 3, "LBFGS "]),
    "learning_rate": st.sampled_from([1e300, 0.0, -1.0, np.nan, "1", np.inf]),
    "batch_size": st.sampled_from([0, -1, 2.5, True, 10**12, "2"]),
    "epochs": st.sampled_from([0, -1, 1.0, None, "1"]),
    "validation_split": st.sampled_from([0.99, 1.0, -0.1, np.nan, "0.1"]),
    "l1": st.sampled_from([-1.0, np.inf, None]),
    "l2": st.sampled_from([1e300, np.nan, -0.5]),
    "max_norm": st.sampled_from([0.0, -1.0, np.nan]),
    "schedule": st.sampled_from(["nope", 3, *sorted(SCHEDULES)]),  # some need parameters
    "metrics": st.sampled_from([["nope"], "accuracy", [None]]),
    "class_weight": st.sampled_from([{5: 1.0}, {0: -1}, "x", {0.5: 1}, {0: np.nan}]),
    "target_error": st.sampled_from([-1.0, np.nan, "0"]),
    "seed": st.sampled_from([-3, 1.5, "s"]),
}


@fuzz(250, deadline_s=30)  # the first online-SGD example compiles the numba kernel
@given(case=_network_and_data(), settings=_kwargs(_FIT_VALID, _FIT_JUNK, max_bad=1))
def test_fit_one_epoch_with_random_data_and_settings(case, settings):
    net, (X, y, w) = case
    history = _expect_clean(lambda: net.fit(X, y, sample_weight=w, verbose=0, **settings), "fit")
    assert np.isfinite(net.parameters).all(), "training left non-finite parameters"
    if history is not None:
        assert isinstance(history.stop_reason, str) and history.stop_reason
        assert all(np.isfinite(r.loss) for r in history.records)


@fuzz(200, deadline_s=30)
@given(
    kind=st.sampled_from(sorted(_NETWORKS)),
    n=st.integers(1, 6),
    scale=st.sampled_from([1.0, 1e-30, 1e10, 1e30, 1e38, 1e300]),
    target_scale=st.sampled_from([1.0, 0.0, 1e30, 1e300]),
    optimizer=st.sampled_from(["sgd", "adam", "rprop", "momentum", "lbfgs", "lm"]),
    batch_size=st.sampled_from([1, 2, None]),
    learning_rate=st.sampled_from([None, 1.0, 1e6]),
    seed=st.integers(0, 3),
)
def test_fit_on_valid_but_extreme_data(
    kind, n, scale, target_scale, optimizer, batch_size, learning_rate, seed
):
    """Finite inputs of any magnitude: training ends with finite weights, or a clean error."""
    net = _NETWORKS[kind]()
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, net.n_inputs)) * scale
    y = np.abs(rng.normal(size=(n, net.n_outputs))) * target_scale
    if net.loss.name == "categorical_crossentropy":
        y = np.eye(net.n_outputs)[rng.integers(0, net.n_outputs, n)]
    if net.loss.name == "binary_crossentropy":
        y = (y > np.median(y)).astype(float)
    solver = optimizer in ("lbfgs", "lm")
    lm_ok = optimizer != "lm" or net.loss.name in ("half_squared_error", "mse")
    # The full-batch solvers refuse dropout (a random objective) and a batch size or rate.
    solver_ok = not (solver and any(layer.dropout for layer in net.layers))
    fits = max(np.abs(X).max(), np.abs(y).max()) <= np.finfo(net.dtype).max
    history = _expect_clean(
        lambda: net.fit(
            X,
            y,
            epochs=2,
            optimizer=optimizer,
            batch_size=None if solver else batch_size,
            learning_rate=None if solver or optimizer == "rprop" else learning_rate,
            seed=seed,
            verbose=0,
        ),
        "fit",
    )
    assert np.isfinite(net.parameters).all(), "training left non-finite parameters"
    if lm_ok and solver_ok and fits and history is None:
        pytest.fail("finite data that fits the network's dtype must not raise")
    _check_prediction(net, X)


@fuzz(120)
@given(
    case=_network_and_data(),
    step=st.sampled_from([1e-5, 1e-5, 1e-3, 0.0, -1.0, np.nan, np.inf, "x", 1e300]),
    tolerance=st.sampled_from([1e-6, 1e-6, 0.0, -1.0, np.nan]),
)
def test_check_gradients(case, step, tolerance):
    net, (X, y, w) = case
    result = _expect_clean(
        lambda: dr.check_gradients(net, X, y, w, step=step, tolerance=tolerance), "check_gradients"
    )
    if result is not None:
        assert set(result.max_relative_error) == set(net.layout.names)
        assert result.analytic.shape == result.numeric.shape == net.parameters.shape
        assert isinstance(result.passed, bool)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda net: net.predict(np.full((1, 2), 1e300)), "too large for float32"),
        (lambda net: net.predict([[1, 2]] * 2 + [[1]]), "numeric array"),
        (lambda net: net.predict(np.ones((2, 2), complex)), "complex128: complex numbers are not"),
        (lambda net: net.predict(np.array([["a", "b"]])), "non-numeric"),
        (lambda net: net.predict(np.array([[1, None]], dtype=object)), "non-numeric"),
        (lambda net: net.predict([[np.nan, 1.0]]), "NaN or infinity"),
        (
            lambda net: net.loss_and_gradient(np.ones((2, 2)), np.ones((2, 1)), [3e38, 3e38]),
            "sample_weight sums to more than float32",
        ),
        (lambda net: net.fit(np.ones((2, 2)), np.ones((2, 1)), validation_data=5), "X_val, y_val"),
        (lambda net: net.fit(np.ones((2, 2)), np.ones((2, 1)), validation_data=(1,)), "X_val"),
        (lambda net: dr.check_gradients(net, np.ones((1, 2)), [[1.0]], step=0), "step must be"),
        (lambda net: dr.check_gradients(net, np.ones((1, 2)), None), "y is None"),
        (lambda net: net.loss_and_gradient(np.ones((1, 2)), None), "y is None"),
        (lambda net: net.evaluate(np.ones((1, 2)), None), "y is None"),
        (lambda net: net.fit(np.ones((1, 2)), None), "y is None"),
        (
            lambda net: dr.check_gradients("net", np.ones((1, 2)), [[1.0]]),
            "check_gradients needs a deltarule Network",
        ),
        (lambda net: dr.Network([2, 1], initializer=_nan_init), "NaN, infinity"),
        (lambda net: dr.Network([2, 1], initializer=_bad_shape_init), "shape \\(7, 7\\)"),
    ],
)
def test_documented_messages(call, fragment):
    net = dr.Network([2, 3, 1], activation="identity", seed=0)
    with pytest.raises(dr.DeltaruleError, match=fragment):
        call(net)


def test_overflowing_prediction_is_reported_not_returned():
    net = dr.Network([2, 1], seed=0)
    net.set_parameters({"W1": [[3e38, 3e38]]})
    with pytest.raises(dr.InputError, match="overflowed to infinity or NaN for 1 of 2 samples"):
        net.predict([[0.0, 0.0], [10.0, 10.0]])


def test_numpy_float32_dropout_is_a_number():
    net = dr.Network([2, 3, 1], dropout=np.float32(0.25), seed=0)
    assert net.layers[0].dropout == 0.25


_FLAG = np.array([1, 2])


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [  # (found by a fuzzing QA pass: NumPy's TypeError/ValueError, or read by their truth)
        ({"l2": 10**400}, "l2 must be a finite number"),
        ({"learning_rate": 10**400}, "learning_rate must be a finite number"),
        ({"time_limit": 10**400}, "time_limit must be a finite number"),
        ({"early_stopping": True, "min_delta": 10**400}, "min_delta must be a finite number"),
        ({"metrics": 2.0}, "metrics must be a name .* received float 2.0"),
        ({"validation_split": _FLAG}, "validation_split must be a number in"),
        ({"stop_when_all_correct": _FLAG}, "stop_when_all_correct must be True or False"),
        ({"early_stopping": True, "monitor": _FLAG}, "monitor must be the name"),
        ({"early_stopping": -1}, "early_stopping must be True or False; received int -1"),
        ({"early_stopping": True, "restore_best_weights": np.nan}, "restore_best_weights must"),
        ({"warn_convergence": "1"}, "warn_convergence must be True or False"),
        ({"verbose": _FLAG}, "verbose must be 0"),
    ],
)
def test_fit_settings_of_the_wrong_kind_are_named(kwargs, fragment):
    net = dr.Network([2, 3, 2], output_activation="softmax", seed=0)
    X, y = np.ones((6, 2)), np.eye(2)[[0, 1] * 3]
    with pytest.raises(dr.InputError, match=fragment):
        net.fit(X, y, epochs=1, **{"verbose": 0, **kwargs})


@pytest.mark.parametrize("use_bias", [_FLAG, "yes", 1.5, None, [True, 2]])
def test_use_bias_is_true_or_false(use_bias):
    with pytest.raises(dr.InputError, match="use_bias must be True or False"):
        dr.Network([2, 3, 1], use_bias=use_bias)


def test_a_huge_integer_setting_is_a_number():
    net = dr.Network([2, 3, 1], seed=0)
    history = net.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=1, verbose=0, l2=10**20)
    assert len(history) == 1  # (an int beyond int64 made NumPy's isfinite raise)
    with pytest.raises(dr.InputError, match="metrics must be a name"):
        net.evaluate(np.ones((2, 2)), np.ones((2, 1)), metrics=3)
