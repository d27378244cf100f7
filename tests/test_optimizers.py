"""Optimizers: golden steps from the published equations, torch.optim agreement, contracts."""

from __future__ import annotations

import copy
import json
import tracemalloc

import numpy as np
import pytest

from deltarule.exceptions import InputError, KeywordError, UnknownNameError
from deltarule.optimizers import (
    OPTIMIZERS,
    SGD,
    Adam,
    AdamW,
    IRpropPlus,
    Optimizer,
    RMSprop,
    get_optimizer,
    optimizer_from_config,
    register_optimizer,
)

COMMON = ["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad"]
THETA = np.array([0.5, -1.0, 2.0, 0.25])
GRADS = [
    np.array([0.1, -0.3, 2.0, 0.0]),
    np.array([0.2, 0.4, 1.0, -0.5]),
    np.array([-0.3, 0.1, 0.5, 0.7]),
]


def run(name: str, grads: list, losses: list | None = None, **kwargs) -> np.ndarray:
    """Apply ``name`` to a copy of THETA for each gradient in turn."""
    opt = get_optimizer(name, **kwargs)
    theta = THETA.copy()
    state = opt.init(theta)
    for i, g in enumerate(grads):
        opt.update(theta, g, state, loss=None if losses is None else losses[i])
    return theta


# --- Reference rules, written from the papers' equations, independently of the module. ---


def momentum_ref(grads, lr, mu, nesterov=False):
    theta, v = THETA.copy(), 0.0
    for g in grads:
        v = mu * v + g
        theta = theta - lr * (g + mu * v if nesterov else v)
    return theta


def adam_ref(grads, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0):
    theta, m, v = THETA.copy(), 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        theta = theta - lr * wd * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return theta


def rmsprop_ref(grads, lr, rho=0.9, eps=1e-7):
    theta, v = THETA.copy(), 0.0
    for g in grads:
        v = rho * v + (1 - rho) * g**2
        theta = theta - lr * g / (np.sqrt(v) + eps)
    return theta


def adagrad_ref(grads, lr, eps=1e-10):
    theta, s = THETA.copy(), 0.0
    for g in grads:
        s = s + g**2
        theta = theta - lr * g / (np.sqrt(s) + eps)
    return theta


def irprop_ref(grads, losses, plus, d0=0.1, up=1.2, down=0.5, dmin=1e-6, dmax=50.0):
    """Igel & Hüsken (2000), written weight by weight as in the paper's figures."""
    n = len(THETA)
    theta = list(THETA)
    delta, g_prev, dw_prev = [d0] * n, [0.0] * n, [0.0] * n
    e_prev = None
    for g_t, e in zip(grads, losses, strict=True):
        for i in range(n):
            g = float(g_t[i])
            if g_prev[i] * g > 0:
                delta[i] = min(delta[i] * up, dmax)
                dw = -np.sign(g) * delta[i]
            elif g_prev[i] * g < 0:
                delta[i] = max(delta[i] * down, dmin)
                grew = e_prev is not None and e is not None and e > e_prev
                dw = -dw_prev[i] if (plus and grew) else 0.0
                g = 0.0
            else:
                dw = -np.sign(g) * delta[i]
            theta[i] += dw
            g_prev[i], dw_prev[i] = g, dw
        e_prev = e
    return np.array(theta)


def neuralnet_rprop(theta, gradient, steps, plus, d0=0.1, up=1.2, down=0.5, dmin=1e-10,
                    dmax=0.1):  # fmt: skip
    """R neuralnet's ``plus`` and ``minus`` (algorithm "rprop+"/"rprop-", neuralnet 1.44),
    vector by vector as its R code does, with its step limits as defaults: ``steps`` steps
    from ``theta`` with the gradient ``gradient(theta)``. ``plus`` keeps the previous
    gradient's sign (0 after a flip) and takes the step back with the step size not yet
    shrunk; ``minus`` keeps the raw gradient and always steps."""
    theta = np.array(theta, dtype=float)
    rate = np.full(len(theta), d0)
    old = np.zeros(len(theta))
    for _ in range(steps):
        g = np.asarray(gradient(theta), dtype=float)
        sign = np.sign(g)
        temp = old * sign if plus else old * g
        positive, negative = temp > 0, temp < 0
        rate[positive] = np.minimum(rate[positive] * up, dmax)
        if plus:
            theta[negative] += old[negative] * rate[negative]  # the last step, back
            rate[negative] = np.maximum(rate[negative] * down, dmin)
            old[negative] = 0
            theta[~negative] -= sign[~negative] * rate[~negative]
            old[~negative] = sign[~negative]
        else:
            rate[negative] = np.maximum(rate[negative] * down, dmin)
            theta -= sign * rate
            old = g.copy()
    return theta


def neuralnet_rprop_ref(grads, plus, **kwargs):
    """:func:`neuralnet_rprop` from THETA over a fixed list of gradients."""
    given = iter(grads)
    return neuralnet_rprop(THETA, lambda _: next(given), len(grads), plus, **kwargs)


# --- Golden values ---

G, LR = GRADS[0], 0.1
ONE_STEP = {
    "sgd": THETA - LR * G,
    "momentum": THETA - LR * G,  # v = g at the first step
    "nesterov": THETA - LR * (1 + 0.9) * G,  # g + mu * v with v = g
    "adam": THETA - LR * G / (np.abs(G) + 1e-8),  # m_hat = g, v_hat = g^2
    "adamw": THETA * (1 - LR * 0.01) - LR * G / (np.abs(G) + 1e-8),
    "rmsprop": THETA - LR * G / (np.sqrt(0.1) * np.abs(G) + 1e-7),
    "adagrad": THETA - LR * G / (np.abs(G) + 1e-10),
    "irprop_plus": THETA - 0.1 * np.sign(G),  # learning_rate is ignored; Delta_0 = 0.1
    "irprop_minus": THETA - 0.1 * np.sign(G),
    "rprop_plus": THETA - 0.1 * np.sign(G),
    "rprop_minus": THETA - 0.1 * np.sign(G),
}


@pytest.mark.parametrize("name", sorted(ONE_STEP))
def test_one_step_golden(name):
    np.testing.assert_allclose(run(name, GRADS[:1], learning_rate=LR), ONE_STEP[name], rtol=1e-13)


def test_every_rule_has_a_golden_step():
    assert set(ONE_STEP) == {cls.name for cls in OPTIMIZERS.values()}


THREE_STEPS = {
    "momentum": (dict(momentum=0.8), momentum_ref(GRADS, LR, 0.8)),
    "nesterov": (dict(momentum=0.8), momentum_ref(GRADS, LR, 0.8, nesterov=True)),
    "adam": (dict(beta_1=0.8, beta_2=0.9), adam_ref(GRADS, LR, 0.8, 0.9)),
    "adamw": (dict(weight_decay=0.1), adam_ref(GRADS, LR, wd=0.1)),
    "rmsprop": (dict(rho=0.7), rmsprop_ref(GRADS, LR, rho=0.7)),
    "adagrad": ({}, adagrad_ref(GRADS, LR)),
}


@pytest.mark.parametrize("name", sorted(THREE_STEPS))
def test_three_steps_golden(name):
    kwargs, expected = THREE_STEPS[name]
    np.testing.assert_allclose(run(name, GRADS, learning_rate=LR, **kwargs), expected, rtol=1e-12)


# Signs chosen so that weights 1 and 3 flip at step 2 (error grew) and weight 2 at step 3
# (error fell), and weight 0 keeps its sign (its step size grows).
RPROP_GRADS = [
    np.array([1.0, -1.0, 2.0, 0.5]),
    np.array([2.0, 1.0, 1.0, -0.5]),
    np.array([1.0, 1.0, -1.0, 0.3]),
    np.array([0.5, -2.0, 0.4, -0.1]),
]
RPROP_LOSSES = [1.0, 1.5, 1.2, 1.3]


@pytest.mark.parametrize("name, plus", [("irprop_plus", True), ("irprop_minus", False)])
def test_irprop_steps_golden(name, plus):
    got = run(name, RPROP_GRADS, RPROP_LOSSES)
    np.testing.assert_allclose(got, irprop_ref(RPROP_GRADS, RPROP_LOSSES, plus), rtol=1e-14)


@pytest.mark.parametrize("name, plus", [("irprop_plus", True), ("irprop_minus", False)])
def test_irprop_step_sizes_stay_within_bounds(name, plus):
    # Weights 0-1 keep their sign (sizes grow to delta_max); 2-3 alternate (shrink to delta_min).
    grads = [np.array([1.0, -2.0, (-1.0) ** k, -((-1.0) ** k)]) for k in range(12)]
    losses = [1.0 + 0.1 * k for k in range(12)]
    bounds = dict(delta_min=0.04, delta_max=0.15)
    got = run(name, grads, losses, **bounds)
    expected = irprop_ref(grads, losses, plus, dmin=0.04, dmax=0.15)
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    opt = get_optimizer(name, **bounds)
    theta = THETA.copy()
    state = opt.init(theta)
    for g, loss in zip(grads, losses, strict=True):
        opt.update(theta, g, state, loss=loss)
    np.testing.assert_allclose(state["step_size"], [0.15, 0.15, 0.04, 0.04])


def test_irprop_plus_backtracks_only_when_the_error_grew():
    plus = run("rprop", RPROP_GRADS[:2], RPROP_LOSSES[:2])
    minus = run("irprop_minus", RPROP_GRADS[:2])
    # Weights 1 and 3 flipped while the error grew: iRprop+ undid their first step.
    np.testing.assert_allclose(plus[[1, 3]], THETA[[1, 3]], rtol=1e-15)
    np.testing.assert_allclose(minus[[1, 3]], THETA[[1, 3]] - 0.1 * np.sign(RPROP_GRADS[0][[1, 3]]))
    falling = run("irprop_plus", RPROP_GRADS[:2], [1.0, 0.5])
    np.testing.assert_array_equal(falling, minus)
    no_losses = run("irprop_plus", RPROP_GRADS)  # loss=None: never backtracks
    np.testing.assert_array_equal(no_losses, run("irprop_minus", RPROP_GRADS))


NEURALNET_LIMITS = dict(delta_min=1e-10, delta_max=0.1)


@pytest.mark.parametrize("name, plus", [("rprop_plus", True), ("rprop_minus", False)])
@pytest.mark.parametrize("limits", [{}, NEURALNET_LIMITS])
def test_rprop_steps_match_neuralnets_code(name, plus, limits):
    # 12 steps: weights 0-1 keep their signs (sizes grow, up to neuralnet's 0.1), 2-3
    # alternate (shrink), then RPROP_GRADS' mixed flips
    grads = [np.array([1.0, -2.0, (-1.0) ** k, -((-1.0) ** k)]) for k in range(8)]
    grads += RPROP_GRADS
    bounds = dict(dmin=1e-6, dmax=50.0) if not limits else {}
    expected = neuralnet_rprop_ref(grads, plus, **bounds)
    # the losses are there to show that neither rule reads them
    np.testing.assert_allclose(run(name, grads, [1.0] * len(grads), **limits), expected,
                               rtol=1e-14)  # fmt: skip
    np.testing.assert_allclose(run(name, grads, **limits), expected, rtol=1e-14)


def test_rprop_plus_takes_the_step_back_whatever_the_error_did():
    for losses in (RPROP_LOSSES[:2], [1.0, 0.5], None):
        got = run("rprop_plus", RPROP_GRADS[:2], losses)
        # weights 1 and 3 flipped at step 2: back where they started
        np.testing.assert_allclose(got[[1, 3]], THETA[[1, 3]], rtol=1e-15)
    # iRprop+ took them back only when the error grew; iRprop- rests, Rprop- steps on
    falling = run("irprop_plus", RPROP_GRADS[:2], [1.0, 0.5])
    assert not np.allclose(falling[[1, 3]], THETA[[1, 3]])
    minus = run("rprop_minus", RPROP_GRADS[:2])
    first = THETA - 0.1 * np.sign(RPROP_GRADS[0])
    second = first - 0.05 * np.sign(RPROP_GRADS[1])  # their step sizes halved
    np.testing.assert_allclose(minus[[1, 3]], second[[1, 3]])
    rests = run("irprop_minus", RPROP_GRADS[:2])
    np.testing.assert_allclose(rests[[1, 3]], first[[1, 3]])


@pytest.mark.parametrize("name", ["rprop+", "rprop-"])
def test_neuralnets_rprop_through_fit_takes_its_steps(name):
    # neuralnet(y ~ x1 + x2, hidden=3, algorithm=name, err.fct="sse", linear.output=TRUE):
    # logistic hidden units, identity output, every row at once; from the same weights
    import deltarule as dr

    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    y = np.sin(X[:, :1]) + 0.5 * X[:, 1:]
    net = dr.Network([2, 3, 1], activation="sigmoid", output_activation="identity",
                     loss="half_squared_error", dtype="float64", seed=1)  # fmt: skip
    probe = dr.Network([2, 3, 1], activation="sigmoid", output_activation="identity",
                       loss="half_squared_error", dtype="float64", seed=1)  # fmt: skip

    def gradient(theta):
        probe.parameters[:] = theta
        return probe.loss_and_gradient(X, y)[1]

    expected = neuralnet_rprop(net.parameters, gradient, 60, plus=name == "rprop+")
    optimizer = get_optimizer(name, **NEURALNET_LIMITS)
    net.fit(X, y, epochs=60, optimizer=optimizer, shuffle=False, verbose=0,
            warn_convergence=False)  # fmt: skip
    np.testing.assert_allclose(net.parameters, expected, rtol=1e-12, atol=1e-14)


# --- Agreement with torch.optim ---


def torch_counterparts(torch):
    o = torch.optim
    return {
        "sgd": ({}, lambda p: o.SGD(p, lr=0.1)),
        "momentum": ({}, lambda p: o.SGD(p, lr=0.1, momentum=0.9)),
        "nesterov": ({}, lambda p: o.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
        "adam": ({}, lambda p: o.Adam(p, lr=0.1, foreach=False)),
        "adamw": ({}, lambda p: o.AdamW(p, lr=0.1, foreach=False)),
        "rmsprop": ({}, lambda p: o.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-7, foreach=False)),
        "adagrad": ({}, lambda p: o.Adagrad(p, lr=0.1, foreach=False)),
        "irprop_minus": (
            {},
            lambda p: o.Rprop(p, lr=0.1, etas=(0.5, 1.2), step_sizes=(1e-6, 50), foreach=False),
        ),
    }


@pytest.mark.parametrize("name", COMMON + ["irprop_minus", "irprop_plus"])
def test_agrees_with_torch_over_20_steps(name):
    torch = pytest.importorskip("torch")
    kwargs, make = torch_counterparts(torch)[name if name != "irprop_plus" else "irprop_minus"]
    rng = np.random.default_rng(7)
    theta = rng.standard_normal(50)
    tensor = torch.tensor(theta.copy(), dtype=torch.float64, requires_grad=True)
    reference = make([tensor])
    opt = get_optimizer(name, **kwargs)
    state = opt.init(theta)
    for t in range(20):
        grad = rng.standard_normal(50)
        lr = 0.1 * 0.95**t  # a schedule; rprop ignores it, as torch's Rprop keeps its own steps
        if not name.startswith("irprop"):
            reference.param_groups[0]["lr"] = lr
        tensor.grad = torch.tensor(grad.copy())
        reference.step()
        opt.update(theta, grad, state, learning_rate=lr)  # irprop_plus without loss == iRprop-
        np.testing.assert_allclose(theta, tensor.detach().numpy(), rtol=1e-10, atol=1e-14)


# --- Contract, over every registry entry ---

NON_DEFAULT = {
    "sgd": dict(learning_rate=0.05),
    "momentum": dict(learning_rate=0.05, momentum=0.5),
    "nesterov": dict(learning_rate=0.05, momentum=0.5),
    "adam": dict(learning_rate=0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
    "adamw": dict(learning_rate=0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-6, weight_decay=0.1),
    "rmsprop": dict(learning_rate=0.02, rho=0.8, epsilon=1e-5),
    "adagrad": dict(learning_rate=0.2, epsilon=1e-6, initial_accumulator_value=0.1),
    "irprop_plus": dict(eta_plus=1.3, eta_minus=0.4, delta_zero=0.05, delta_min=1e-5, delta_max=9),
    "irprop_minus": dict(eta_plus=1.1, eta_minus=0.6, delta_zero=0.2, delta_min=1e-4, delta_max=7),
    "rprop_plus": dict(eta_plus=1.25, eta_minus=0.45, delta_zero=0.1, delta_min=1e-10, delta_max=1),
    "rprop_minus": dict(eta_plus=1.15, eta_minus=0.55, delta_zero=0.1, delta_min=1e-9, delta_max=2),
}


def test_non_default_table_covers_every_rule():
    assert set(NON_DEFAULT) == {cls.name for cls in OPTIMIZERS.values()}


def quadratic(theta):
    curvature = np.linspace(0.5, 2.0, theta.size).astype(theta.dtype)
    return 0.5 * float(curvature @ theta**2), curvature * theta


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_contract_dtype_in_place_and_state(name):
    opt = get_optimizer(name)
    params = np.linspace(-1, 1, 12, dtype=np.float32)
    view = params.reshape(3, 4)[1]  # a layer's view into the flat buffer
    state = opt.init(params)
    for _ in range(3):
        before = view.copy()
        loss, grad = quadratic(params)
        grad_copy = grad.copy()
        assert opt.update(params, grad, state, loss=loss) is None
        assert params.dtype == np.float32
        assert not np.array_equal(view, before)
        np.testing.assert_array_equal(grad, grad_copy)  # the gradient is read only
    assert state["step"] == 3
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            assert (value.shape, value.dtype) == (params.shape, params.dtype), key
        else:
            assert type(value) in (int, float), key


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_contract_config_round_trip(name):
    opt = get_optimizer(name, **NON_DEFAULT[OPTIMIZERS[name].name])
    config = json.loads(json.dumps(opt.config()))
    rebuilt = optimizer_from_config(config)
    assert rebuilt == opt and type(rebuilt) is type(opt)
    assert config == opt.config() and config["name"] == OPTIMIZERS[name].name
    theta_a, theta_b = THETA.copy(), THETA.copy()
    state_a, state_b = opt.init(theta_a), rebuilt.init(theta_b)
    for g, loss in zip(RPROP_GRADS, RPROP_LOSSES, strict=True):
        opt.update(theta_a, g, state_a, loss=loss)
        rebuilt.update(theta_b, g, state_b, loss=loss)
    np.testing.assert_array_equal(theta_a, theta_b)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_contract_minimizes_a_quadratic(name):
    opt = get_optimizer(name)
    theta = np.array([1.0, -2.0, 0.5, 3.0, -1.5])
    state = opt.init(theta)
    first, _ = quadratic(theta)
    for _ in range(200):
        loss, grad = quadratic(theta)
        opt.update(theta, grad, state, loss=loss)
    assert quadratic(theta)[0] < 0.9 * first


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_contract_update_and_accumulate_is_update_then_add(name, compiled, monkeypatch):
    # Large enough for Adam's fused kernel (when compiled), which accumulates in its pass.
    from deltarule import _compiled

    if compiled and not _compiled.available():
        pytest.skip("numba is not installed")
    monkeypatch.setattr(_compiled, "available", lambda: compiled)
    rng = np.random.default_rng(1)
    size = _compiled.FUSED_MIN_SIZE + 5
    start = rng.standard_normal(size).astype(np.float32)
    grads = rng.standard_normal((3, size)).astype(np.float32)
    opt = get_optimizer(name)
    runs = []
    for fused in (True, False):
        params, total = start.copy(), np.full(size, 0.5, np.float32)
        state = opt.init(params)
        for g in grads:
            if fused:
                opt.update_and_accumulate(params, g, state, None, 1.0, total)
            else:
                opt.update(params, g, state, None, 1.0)
                np.add(total, g, out=total)
        runs.append((params, total))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_a_subclass_overriding_update_is_honoured_when_accumulating():
    class Halved(Adam):
        def update(self, params, grad, state, learning_rate=None, loss=None):
            super().update(params, grad / 2, state, learning_rate, loss)

    params, total = np.ones(4, np.float32), np.zeros(4, np.float32)
    grad = np.full(4, 2.0, np.float32)
    reference = np.ones(4, np.float32)
    opt = Halved(0.1)
    opt.update_and_accumulate(params, grad, opt.init(params), None, None, total)
    Adam(0.1).update(reference, grad / 2, Adam(0.1).init(reference))
    np.testing.assert_array_equal(params, reference)
    np.testing.assert_array_equal(total, grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", COMMON)
def test_steady_state_allocates_nothing(name, dtype):
    rng = np.random.default_rng(0)
    params, grad = rng.standard_normal((2, 10_000)).astype(dtype)
    opt = get_optimizer(name)
    state = opt.init(params)
    for _ in range(3):
        opt.update(params, grad, state, learning_rate=np.float64(1e-3))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        for _ in range(100):
            opt.update(params, grad, state, learning_rate=np.float64(1e-3))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4096, f"{name} allocated {peak} bytes (one vector is {params.nbytes})"
    assert params.dtype == dtype


def test_state_is_independent_of_the_optimizer_object():
    opt = get_optimizer("adam", learning_rate=0.1)
    theta = THETA.copy()
    state = opt.init(theta)
    opt.update(theta, GRADS[0], state)
    saved_theta, saved_state = theta.copy(), copy.deepcopy(state)
    opt.update(theta, GRADS[1], state)
    resumed = saved_theta.copy()
    get_optimizer("adam", learning_rate=0.1).update(resumed, GRADS[1], saved_state)
    np.testing.assert_array_equal(resumed, theta)


# --- Registry and bad input ---


def test_aliases():
    assert OPTIMIZERS["gd"] is OPTIMIZERS["sgd"]
    assert OPTIMIZERS["rprop"] is OPTIMIZERS["irprop_plus"]
    assert OPTIMIZERS["nag"] is OPTIMIZERS["nesterov"]
    assert get_optimizer("ADAM") == Adam()


def test_object_passes_through_and_equality():
    opt = Adam(learning_rate=0.1)
    assert get_optimizer(opt) is opt
    assert Adam() != AdamW() and Adam() != Adam(learning_rate=0.1)
    assert repr(opt).startswith("Adam(learning_rate=0.1,")


def test_unknown_name_lists_known_names():
    with pytest.raises(UnknownNameError, match="unknown optimizer 'adamm'") as info:
        get_optimizer("adamm")
    assert "sgd" in str(info.value) and "irprop_plus" in str(info.value)
    assert "Did you mean 'adam'" in str(info.value)


@pytest.mark.parametrize(
    "name, kwargs, message",
    [
        ("sgd", dict(learning_rate=-0.1), r"learning_rate must be > 0; received -0.1"),
        ("sgd", dict(learning_rate=0), r"learning_rate must be > 0; received 0"),
        ("adam", dict(learning_rate="0.1"), r"learning_rate must be a finite number"),
        ("adam", dict(beta_1=1.0), r"beta_1 must be a number in \[0, 1\); received 1.0"),
        ("adamw", dict(beta_2=-0.1), r"beta_2 must be a number in \[0, 1\)"),
        ("adamw", dict(weight_decay=-1.0), r"weight_decay must be >= 0"),
        ("adam", dict(epsilon=0.0), r"epsilon must be > 0"),
        ("momentum", dict(momentum=1.5), r"momentum must be a number in \[0, 1\)"),
        ("rmsprop", dict(rho=1), r"rho must be a number in \[0, 1\)"),
        ("rprop", dict(eta_plus=0.9), r"0 < eta_minus < 1 < eta_plus"),
        ("irprop_minus", dict(eta_minus=1.5), r"0 < eta_minus < 1 < eta_plus"),
        ("rprop", dict(delta_zero=100.0), r"delta_min <= delta_zero <= delta_max"),
        ("sgd", dict(momentum=0.9), r"'sgd' has no hyper-parameter\(s\) momentum; expected"),
    ],
)
def test_bad_hyperparameters(name, kwargs, message):
    with pytest.raises(InputError, match=message):
        get_optimizer(name, **kwargs)


def test_bad_config_and_object_with_kwargs():
    with pytest.raises(InputError, match="mapping with a 'name'"):
        optimizer_from_config({"learning_rate": 0.1})
    with pytest.raises(UnknownNameError):
        optimizer_from_config({"name": "nope"})
    with pytest.raises(InputError, match="were given with an optimizer object"):
        get_optimizer(Adam(), learning_rate=0.1)
    with pytest.raises(InputError, match="must be given by name"):
        get_optimizer(3)


def test_register_optimizer_refuses_duplicates_and_non_optimizers():
    with pytest.raises(InputError, match="already registered"):
        register_optimizer(Adam)
    with pytest.raises(InputError, match="Optimizer subclass"):
        register_optimizer(dict)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="Optimizer subclass"):
        register_optimizer(Optimizer)  # no name


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_flushes_subnormal_moments(dtype) -> None:
    from deltarule.optimizers import Adam

    opt = Adam(0.01)
    params = np.ones(8, dtype)
    state = opt.init(params)
    tiny = np.finfo(dtype).tiny
    state["first_moment"][:4] = tiny / 8  # subnormal, as after long runs of zero gradients
    state["second_moment"][:4] = tiny / 8
    grad = np.zeros(8, dtype)
    for _ in range(16):  # the flush runs every 16 steps
        opt.update(params, grad, state)
    assert not state["first_moment"].any() and not state["second_moment"].any()
    assert np.isfinite(params).all()


@pytest.mark.parametrize(
    ("make", "where", "advice"),
    [
        (lambda: SGD(lr=0.1), "SGD", "Use learning_rate= (Keras's and PyTorch's lr)"),
        (lambda: SGD(0.1, momentum=0.9), "SGD", "Momentum(learning_rate=0.01, momentum=0.9)"),
        (lambda: Adam(weight_decay=0.01), "Adam", "AdamW(learning_rate, weight_decay=0.01)"),
        (lambda: Adam(eps=1e-3), "Adam", "Use epsilon= (PyTorch's eps)"),
        (lambda: RMSprop(alpha=0.9), "RMSprop", "Use rho="),
        (lambda: IRpropPlus(lr=1.0), "IRpropPlus", "Use learning_rate="),  # (an inherited one)
    ],
)
def test_constructor_keywords_say_what_to_pass(make, where: str, advice: str) -> None:
    # A bare TypeError before ("SGD.__init__() got an unexpected keyword argument 'lr'").
    with pytest.raises(KeywordError) as info:
        make()
    message = str(info.value)
    assert message.startswith(f"{where}.__init__() got an unexpected keyword argument")
    assert advice in message and "It takes: learning_rate" in message
