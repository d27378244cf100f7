"""The compiled mini-batch steps give the plain step's results (within float rounding)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import count_calls

import deltarule as dr
from deltarule import _compiled, _epochs, _minibatch, _steps
from deltarule.training import Trainer

pytestmark = pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")

HIDDEN = sorted(_minibatch.HIDDEN_CODES)
PAIRS = sorted(_minibatch.PAIR_CODES)
RULES = ["adam", "sgd", "momentum", "nesterov", "adamw", "rmsprop", "adagrad"]


@pytest.fixture(autouse=True)
def small_networks_take_the_kernel(monkeypatch) -> None:
    monkeypatch.setattr(_minibatch, "MIN_PARAMETERS", 0)


def kernel_runs(monkeypatch) -> list:
    """A list that gains an entry each time the kernel runs."""
    return count_calls(monkeypatch, _minibatch.MinibatchKernel, "run")


def data(pair: tuple[str, str], n: int = 203, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 7))
    if pair[0] == "softmax":
        y = np.eye(3)[rng.integers(0, 3, n)]
    elif pair[0] == "sigmoid":
        y = (rng.random((n, 3)) < 0.4).astype(float)
    else:
        y = rng.normal(size=(n, 3))
    return X, y


def train(compiled: bool, monkeypatch, make, X, y, optimizer="adam", **kwargs):
    """Train a fresh network from ``make`` through the kernel or through the plain step."""
    with monkeypatch.context() as patch:
        if not compiled:
            patch.setattr(_minibatch, "kernel_for", lambda *args: None)
        net = make()
        metrics = kwargs.pop("metrics", [])
        trainer = Trainer(net, optimizer, 0.01, kwargs.pop("batch_size", 16), seed=3,
                          metrics=metrics, **kwargs)  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = trainer.fit(X, y, epochs=3, verbose=0)
    return net, trainer, history


def assert_same_training(a, b, rtol: float, atol: float) -> None:
    (net_a, trainer_a, hist_a), (net_b, trainer_b, hist_b) = a, b
    np.testing.assert_allclose(net_a.parameters, net_b.parameters, rtol=rtol, atol=atol)
    np.testing.assert_allclose(hist_a.loss, hist_b.loss, rtol=rtol, atol=atol)
    norms = [[r.gradient_norm for r in h] for h in (hist_a, hist_b)]
    np.testing.assert_allclose(*norms, rtol=rtol, atol=atol)
    assert hist_a.stop_reason == hist_b.stop_reason
    state_a, state_b = trainer_a.optimizer_state, trainer_b.optimizer_state
    assert state_a["step"] == state_b["step"]
    for key, value in state_a.items():
        if isinstance(value, np.ndarray) and key != "scratch":
            np.testing.assert_allclose(value, state_b[key], rtol=rtol, atol=atol)
    # the same permutations were drawn: the shuffle streams are in the same place
    assert trainer_a._shuffle_rng.bit_generator.state == trainer_b._shuffle_rng.bit_generator.state


@pytest.mark.parametrize("optimizer", RULES)
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "+".join(p))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_kernel_equals_the_plain_step(hidden, pair, optimizer, monkeypatch) -> None:
    X, y = data(pair)

    def make() -> dr.Network:
        return dr.Network([7, 12, 9, 3], activation=hidden, output_activation=pair[0],
                          loss=pair[1], seed=1, dtype="float64")  # fmt: skip

    runs = kernel_runs(monkeypatch)
    fast = train(True, monkeypatch, make, X, y, optimizer)
    ran = len(runs)
    assert ran, "the kernel did not run"
    plain = train(False, monkeypatch, make, X, y, optimizer)
    assert len(runs) == ran  # the plain side did not use it
    # 203 rows at batch 16: 12 whole batches and one of 11 rows in every epoch
    assert fast[1].optimizer_state["step"] == 3 * 13
    assert_same_training(fast, plain, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("optimizer", RULES)
def test_batch_1_of_an_optimizer_the_online_path_does_not_run_takes_the_kernel(
    optimizer, threads, monkeypatch
) -> None:
    # Adam, RMSprop, Adagrad at batch 1 (and any rule on a network too large for the online
    # kernel) took the NumPy step: ~90 µs an example on a 10-16-3 network, 15 times the
    # kernel's. Two threads share one row's step by neurons.
    monkeypatch.setattr(_minibatch, "THREADS", threads)
    monkeypatch.setattr(_compiled, "MAX_PARAMETERS", 0)  # (no online kernel: sgd too)
    pair = ("softmax", "categorical_crossentropy")
    X, y = data(pair, n=41)

    def make() -> dr.Network:
        return dr.Network([7, 12, 9, 3], activation="tanh", output_activation=pair[0],
                          loss=pair[1], seed=1, dtype="float64")  # fmt: skip

    runs = kernel_runs(monkeypatch)
    fast = train(True, monkeypatch, make, X, y, optimizer, batch_size=1)
    assert runs, "the kernel did not run"
    plain = train(False, monkeypatch, make, X, y, optimizer, batch_size=1)
    assert fast[1].optimizer_state["step"] == 3 * 41
    assert_same_training(fast, plain, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "+".join(p))
def test_float32_and_metrics(pair, monkeypatch) -> None:
    X, y = data(pair, n=300)
    metrics = ["accuracy"] if pair[0] == "softmax" else ["mae"]

    def make() -> dr.Network:
        return dr.Network([7, 20, 3], output_activation=pair[0], loss=pair[1], seed=2,
                          dtype="float32")  # fmt: skip

    runs = kernel_runs(monkeypatch)
    fast = train(True, monkeypatch, make, X, y, metrics=metrics, batch_size=32)
    assert runs
    plain = train(False, monkeypatch, make, X, y, metrics=metrics, batch_size=32)
    assert fast[0].parameters.dtype == np.float32
    assert_same_training(fast, plain, rtol=1e-4, atol=1e-6)
    values = [[r.metrics[metrics[0]] for r in h] for h in (fast[2], plain[2])]
    np.testing.assert_allclose(*values, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: "+".join(p))
def test_the_trainers_l2_term(pair, optimizer, monkeypatch) -> None:
    # E + l2/2 |W|^2 (weights, not biases): its gradient in every update, its value in the
    # reported loss; on top of the scikit-learn adapter's own L2 term it is tested below.
    X, y = data(pair)

    def make() -> dr.Network:
        return dr.Network([7, 12, 3], activation="tanh", output_activation=pair[0],
                          loss=pair[1], seed=5, dtype="float64")  # fmt: skip

    runs = kernel_runs(monkeypatch)
    fast = train(True, monkeypatch, make, X, y, optimizer, l2=0.05)
    assert runs
    plain = train(False, monkeypatch, make, X, y, optimizer, l2=0.05)
    assert_same_training(fast, plain, rtol=1e-9, atol=1e-12)
    unregularised = train(True, monkeypatch, make, X, y, optimizer)
    assert fast[2].loss[0] > unregularised[2].loss[0]  # the penalty is in the loss


def test_unshuffled_and_full_batch_runs(monkeypatch) -> None:
    pair = ("softmax", "categorical_crossentropy")
    X, y = data(pair)

    def make() -> dr.Network:
        return dr.Network([7, 10, 3], output_activation="softmax", seed=4, dtype="float64")

    runs = kernel_runs(monkeypatch)
    for kwargs in ({"shuffle": False}, {"batch_size": 203}):
        fast = train(True, monkeypatch, make, X, y, **kwargs)
        plain = train(False, monkeypatch, make, X, y, **kwargs)
        assert_same_training(fast, plain, rtol=1e-9, atol=1e-12)
    assert runs


@pytest.mark.parametrize(
    "change",
    [
        {"network": {"dropout": 0.2}},
        {"network": {"activation": "elu"}},
        {"network": {"loss": "mae", "output_activation": "identity"}},
        {"network": {"loss": "mse", "output_activation": "sigmoid"}},
        {"trainer": {"l1": 1e-3}},
        {"trainer": {"max_norm": 3.0}},
        {"optimizer": "irprop_minus"},
        {"optimizer": "irprop_plus"},
        {"fit": {"sample_weight": True}},
        {"frozen": True},
    ],
    ids=lambda c: str(c),
)
def test_what_the_kernel_does_not_do_takes_the_plain_step(change, monkeypatch) -> None:
    X, y = data(("softmax", "categorical_crossentropy"), n=64)
    options = {"output_activation": "softmax", "seed": 0, **change.get("network", {})}
    if options.get("output_activation") == "identity":
        y = X[:, :3]
    net = dr.Network([7, 6, 3], **options)
    if change.get("frozen"):
        net.freeze("W1")
    trainer_options = {"batch_size": 8, **change.get("trainer", {})}
    optimizer = change.get("optimizer", "adam")
    rate = None if optimizer.startswith("irprop") else 0.01  # (iRprop refuses a rate)
    trainer = Trainer(net, optimizer, rate, seed=0, **trainer_options)
    fit_options = {}
    if change.get("fit", {}).get("sample_weight"):
        fit_options["sample_weight"] = np.linspace(0.5, 1.5, 64)
    runs = kernel_runs(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(X, y, epochs=2, verbose=0, **fit_options)
    assert not runs


def test_a_subclass_that_changes_the_computation_takes_the_plain_step(monkeypatch) -> None:
    class Scaled(dr.Network):
        def forward(self, X, *args, **kwargs):  # noqa: ANN001, ANN202
            return super().forward(X, *args, **kwargs)

    X, y = data(("softmax", "categorical_crossentropy"), n=64)
    runs = kernel_runs(monkeypatch)
    Scaled([7, 6, 3], output_activation="softmax", seed=0).fit(X, y, epochs=1, verbose=0)
    assert not runs


def test_small_networks_take_the_kernel_for_long_runs_only(monkeypatch) -> None:
    # Below MIN_PARAMETERS the planned steps decide: epochs asked for (counting those the
    # trainer has done) times batches per epoch. 64 rows in batches of 10: 7 per epoch.
    monkeypatch.setattr(_minibatch, "MIN_PARAMETERS", 10**9)
    monkeypatch.setattr(_minibatch, "MIN_STEPS", 35)
    X, y = data(("softmax", "categorical_crossentropy"), n=64)
    runs = kernel_runs(monkeypatch)

    def trainer() -> Trainer:
        net = dr.Network([7, 6, 3], output_activation="softmax", seed=0)
        return Trainer(net, "adam", 0.01, batch_size=10, seed=0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer().fit(X, y, epochs=4, verbose=0)  # 28 steps planned
        assert not runs
        trainer().fit(X, y, epochs=5, verbose=0)  # 35
        assert runs
        runs.clear()
        # A run continued (or resumed) for its last epochs plans as the whole run did, so
        # it takes the same path as one uninterrupted call.
        continued = trainer()
        continued.fit(X, y, epochs=2, verbose=0)
        assert not runs
        continued.fit(X, y, epochs=3, verbose=0)
        assert runs
        assert _minibatch.planned_steps(continued, 64, 10) == 35


def test_divergence_is_handled_as_in_the_plain_loop(monkeypatch) -> None:
    X, y = data(("identity", "half_squared_error"))
    X = X * 1e3

    def make() -> dr.Network:
        return dr.Network([7, 12, 3], output_activation="identity", seed=1, dtype="float64",
                          loss="half_squared_error")  # fmt: skip

    runs = kernel_runs(monkeypatch)
    fast = train(True, monkeypatch, make, X, y, optimizer="sgd")  # warnings silenced
    assert runs
    plain = train(False, monkeypatch, make, X, y, optimizer="sgd")
    assert fast[2].stop_reason.startswith("training diverged at epoch 1")
    assert fast[2].stop_reason == plain[2].stop_reason
    np.testing.assert_array_equal(fast[0].parameters, plain[0].parameters)
    assert np.isfinite(fast[0].parameters).all()


def test_ctrl_c_stops_between_runs_of_steps(monkeypatch) -> None:
    class SecondLook(_epochs.Interrupt):
        """Says Ctrl-C was pressed from the second time it is asked."""

        looks = 0

        @property
        def requested(self) -> bool:
            SecondLook.looks += 1
            return SecondLook.looks > 1

        @requested.setter
        def requested(self, value: bool) -> None:
            pass

    monkeypatch.setattr(_epochs, "Interrupt", SecondLook)  # what the epoch loop enters
    X, y = data(("softmax", "categorical_crossentropy"), n=2000)
    net = dr.Network([7, 12, 3], output_activation="softmax", seed=0)
    before = net.parameters.copy()
    history = net.fit(X, y, epochs=5, batch_size=10, verbose=0)
    assert history.stop_reason.startswith("interrupted (Ctrl-C) during epoch 1, after ")
    seen = int(history.stop_reason.split("after ")[1].split()[0])
    assert 0 < seen < 2000 and seen % 10 == 0  # whole batches only, never half an update
    assert len(history) == 0 and not np.array_equal(net.parameters, before)


def run_lengths(monkeypatch) -> list[int]:
    """A list that gains each kernel run's number of steps (the method still runs)."""
    sizes: list[int] = []
    real = _minibatch.MinibatchKernel.run

    def spy(self, trainer, X, Y, order, first, n_steps, *rest):
        sizes.append(n_steps)
        return real(self, trainer, X, Y, order, first, n_steps, *rest)

    monkeypatch.setattr(_minibatch.MinibatchKernel, "run", spy)
    return sizes


def test_run_lengths_carry_over_to_the_next_epoch(monkeypatch) -> None:
    # Every run is "fast" here, so each doubles the next (a shorter last run of an epoch
    # too, by its rate); the next epoch goes on from there instead of from 4 steps.
    monkeypatch.setattr(_steps, "COMPILED_RUN_SECONDS", 1e9)
    sizes = run_lengths(monkeypatch)
    X, y = data(("softmax", "categorical_crossentropy"), n=640)
    net = dr.Network([7, 12, 3], output_activation="softmax", seed=0)
    trainer = Trainer(net, "adam", 0.01, 10, seed=3, metrics=[])
    trainer.fit(X, y, epochs=3, verbose=0, warn_convergence=False)
    assert sizes == [4, 8, 16, 32, 4, 64, 64]  # 64 steps an epoch

    # Every run is "slow" now (over twice COMPILED_RUN_SECONDS): each halves the next.
    # (A new fit makes a new kernel: batch-sized work space is not kept between fits.)
    monkeypatch.setattr(_steps, "COMPILED_RUN_SECONDS", 0.0)
    sizes.clear()
    trainer.fit(X, y, epochs=1, verbose=0, warn_convergence=False)
    assert sizes == [4, 2] + [1] * 58


def test_kernels_load_from_numbas_cache_in_a_new_process(tmp_path) -> None:
    # A kernel that numba cannot find again in its on-disk cache is compiled anew in every
    # process (seconds). The second of two identical runs must find every kernel it uses.
    code = (
        "import numpy as np, deltarule as dr\n"
        "from deltarule import _jit, _minibatch\n"
        "_minibatch.MIN_PARAMETERS = 0\n"
        "from deltarule.textbook import tutorial_network\n"
        "X = np.random.default_rng(0).normal(size=(64, 5)); Y = np.eye(3)[np.arange(64) % 3]\n"
        "dr.Network([5, 8, 3], output_activation='softmax', seed=0).fit(\n"
        "    X, Y, epochs=2, batch_size=16, verbose=0)\n"
        "net, X, y = tutorial_network()\n"
        "net.fit(X, y, epochs=3, batch_size=1, optimizer='sgd', learning_rate=0.5, verbose=0)\n"
        "kernels = [_jit.minibatch_steps, _jit.online_epochs]\n"
        "print(sum(k.stats.cache_misses.get(s, 0) for k in kernels for s in k.signatures))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-W", "ignore", "-c", code],
            capture_output=True,
            text=True,
            timeout=600,
        )  # fmt: skip
        for _ in range(2)
    ]
    for done in runs:
        assert done.returncode == 0, done.stderr
    assert runs[1].stdout.strip() == "0", "a kernel was compiled again instead of loaded"


SHAPES = [(128, 784, 256), (7, 3, 5), (2, 2, 2), (33, 17, 65), (16, 7, 12)]  # (m, k, n)
VECTOR_SHAPES = [(64, 10, 1), (1, 4, 3)]  # NumPy switches to matrix-vector routines here


def product_cases(rng: np.random.Generator, m: int, k: int, n: int, dtype) -> list[tuple]:
    """The kernels' three kinds of product on random (m, k) x (k, n) shapes: (a, transpose
    a, b, transpose b, what np.matmul computes)."""
    a = rng.standard_normal((m, k)).astype(dtype)
    w = rng.standard_normal((n, k)).astype(dtype)
    d = rng.standard_normal((m, n)).astype(dtype)
    return [(a, False, w, True, a @ w.T), (d, True, a, False, d.T @ a), (d, False, w, False, d @ w)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_is_numpys_own_product(dtype) -> None:
    from deltarule import _blas, _jit

    gemm = _blas.gemm_address(dtype)
    if gemm == 0:
        pytest.skip("NumPy's OpenBLAS was not found: the kernels use numba's np.dot")
    rng = np.random.default_rng(5)
    for m, k, n in SHAPES + VECTOR_SHAPES:
        for left, ta, right, tb, expected in product_cases(rng, m, k, n, dtype):
            for address in (gemm, 0):  # NumPy's gemm, and numba's np.dot
                out = np.full(expected.shape, np.nan, dtype)
                _jit.matmul(address, left, ta, right, tb, out)
                if address and (m, k, n) in SHAPES:  # the same BLAS call: the same bits
                    np.testing.assert_array_equal(out, expected)
                else:
                    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_kernel_without_numpys_blas_uses_numbas(monkeypatch) -> None:
    from deltarule import _blas

    monkeypatch.setattr(_blas, "gemm_address", lambda dtype: 0)
    pair = ("softmax", "categorical_crossentropy")
    X, y = data(pair)

    def make() -> dr.Network:
        return dr.Network([7, 10, 3], output_activation="softmax", seed=4, dtype="float64")

    runs = kernel_runs(monkeypatch)
    fast = train(True, monkeypatch, make, X, y)
    assert runs
    plain = train(False, monkeypatch, make, X, y)
    assert_same_training(fast, plain, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("loss", ["half_squared_error", "mse"])
@pytest.mark.parametrize("hidden", ["relu", "leaky_relu"])
def test_relu_networks_with_squared_error_train_bit_for_bit(hidden, loss, monkeypatch) -> None:
    # exp, log and tanh are not involved: every operation is NumPy's, in NumPy's order
    # (the loss values' row sums are not einsum's, but the gradients do not use them)
    from deltarule import _blas

    if _blas.gemm_address(np.float32) == 0:
        pytest.skip("NumPy's OpenBLAS was not found")
    X, y = data(("identity", loss), n=200)  # 12 batches of 16, one of 8: all matrix-matrix

    def make() -> dr.Network:
        return dr.Network([7, 12, 9, 3], activation=hidden, output_activation="identity",
                          loss=loss, seed=1, dtype="float32")  # fmt: skip

    from deltarule.sklearn._solvers import SklearnSGD

    sklearn_rules = [lambda: SklearnSGD(0.01, 0.9, True), lambda: SklearnSGD(0.01, 0.9, False),
                     lambda: SklearnSGD(0.01, 0.0, True)]  # fmt: skip
    for optimizer in [*RULES, *sklearn_rules]:
        for l2 in (0.0, 1e-2):
            if callable(optimizer):  # (a fresh object for each training)
                runs = kernel_runs(monkeypatch)
                fast = train(True, monkeypatch, make, X, y, optimizer(), l2=l2)
                assert runs, "scikit-learn's rule did not take the kernel"
                plain = train(False, monkeypatch, make, X, y, optimizer(), l2=l2)
            else:
                fast = train(True, monkeypatch, make, X, y, optimizer, l2=l2)
                plain = train(False, monkeypatch, make, X, y, optimizer, l2=l2)
            np.testing.assert_array_equal(fast[0].parameters, plain[0].parameters)
            for key, value in fast[1].optimizer_state.items():
                if isinstance(value, np.ndarray) and key != "scratch":
                    np.testing.assert_array_equal(value, plain[1].optimizer_state[key])


SOLVERS = [
    {"solver": "adam"},
    {"solver": "sgd", "momentum": 0.9, "nesterovs_momentum": True},
    {"solver": "sgd", "momentum": 0.5, "nesterovs_momentum": False, "learning_rate": "invscaling"},
    {"solver": "sgd", "momentum": 0.0},
]


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: "-".join(map(str, s.values())))
@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel", "regressor"])
def test_scikit_learn_estimators_take_the_kernel_with_their_l2_term(
    kind, solver, monkeypatch
) -> None:
    from deltarule.sklearn import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(7)
    X = rng.normal(size=(203, 6))
    if kind == "regressor":
        y, make = X[:, :2] @ [1.0, -2.0], MLPRegressor
    elif kind == "multilabel":  # logistic outputs: scikit-learn's loss is 3 times deltarule's
        y, make = (X[:, :3] > 0).astype(int), MLPClassifier
    else:
        y, make = (np.arange(203) % (3 if kind == "multiclass" else 2)), MLPClassifier
    settings = dict(hidden_layer_sizes=(9, 7), alpha=1e-2, batch_size=16, max_iter=4, tol=0.0,
                    n_iter_no_change=10, random_state=0, **solver)  # fmt: skip
    runs = kernel_runs(monkeypatch)
    fitted = []
    for compiled in (True, False):
        with monkeypatch.context() as patch, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not compiled:
                patch.setattr(_minibatch, "kernel_for", lambda *args: None)
            fitted.append(make(**settings).fit(X, y))
            if compiled:
                assert runs, "the kernel did not run"
    fast, plain = fitted
    scale, alpha = fast.network_.objective_terms()
    assert alpha == pytest.approx(1e-2) and scale == (3.0 if kind == "multilabel" else 1.0)
    np.testing.assert_allclose(fast.loss_curve_, plain.loss_curve_, rtol=1e-6)
    for a, b in zip(fast.coefs_ + fast.intercepts_, plain.coefs_ + plain.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def _three_mse() -> dr.Loss:
    """A user's loss named "mse": three times the built-in's."""
    return dr.Loss(
        "mse", lambda o, t: 3 * ((o - t) ** 2).mean(axis=1), lambda o, t: 6 * (o - t) / o.shape[1]
    )


def _two_tanh() -> dr.Activation:
    return dr.Activation("tanh", lambda z: 2 * np.tanh(z), lambda z, a: 2 - a * a / 2)


@pytest.mark.parametrize("kind", ["loss", "registered-activation"])
def test_a_users_object_under_a_builtin_name_takes_the_plain_step(kind, monkeypatch) -> None:
    # The kernel computes the built-in objects by name: a user's Loss("mse") was trained as
    # the built-in mse, and so was an activation registered over the built-in "tanh".
    from deltarule.activations import ACTIVATIONS

    if kind == "loss":
        kwargs = {"loss": _three_mse()}
    else:
        monkeypatch.setitem(ACTIVATIONS, "tanh", _two_tanh())  # registered with overwrite=True
        kwargs = {"activation": "tanh"}

    def make() -> dr.Network:
        return dr.Network([7, 9, 3], seed=0, dtype="float64", **kwargs)

    X, y = data(("identity", "mse"))
    runs = kernel_runs(monkeypatch)
    fast = train(True, monkeypatch, make, X, y, optimizer="sgd")
    assert not runs
    assert_same_training(fast, train(False, monkeypatch, make, X, y, optimizer="sgd"), 0, 0)


def test_scikit_learns_rule_at_momentum_0_keeps_the_velocity_a_later_momentum_reads(
    monkeypatch,
) -> None:
    from deltarule.sklearn._solvers import SklearnSGD

    X, y = data(("identity", "half_squared_error"))
    results = []
    for compiled in (True, False):
        with monkeypatch.context() as patch:
            if not compiled:
                patch.setattr(_minibatch, "kernel_for", lambda *args: None)
            runs = kernel_runs(patch)
            net = dr.Network([7, 12, 3], output_activation="identity", seed=1,
                             loss="half_squared_error", dtype="float64")  # fmt: skip
            optimizer = SklearnSGD(0.01, 0.0, True)
            trainer = Trainer(net, optimizer, 0.01, 16, seed=3, metrics=[])
            trainer.fit(X, y, epochs=2, verbose=0)
            optimizer.momentum = 0.9  # (a warm-up's schedule): reads the velocity written
            trainer.fit(X, y, epochs=2, verbose=0)
            assert bool(runs) == compiled
            results.append((net.parameters.copy(), trainer.optimizer_state["velocity"].copy()))
    for fast, plain in zip(*results):
        np.testing.assert_array_equal(fast, plain)


class _NamesMomentum(dr.optimizers.Optimizer):
    """A user's rule that names PyTorch's momentum but keeps no velocity in its state."""

    name = "names_momentum"
    hyperparameters = ("learning_rate",)
    state_arrays = ("moving",)

    def __init__(self, learning_rate: float = 0.01) -> None:
        self.learning_rate = learning_rate

    def update(self, params, grad, state, learning_rate=None, loss=None) -> None:  # noqa: ANN001
        moving = state["moving"]
        np.multiply(moving, 0.9, out=moving)
        np.add(moving, grad, out=moving)
        params -= moving * self._rate(learning_rate)
        state["step"] += 1

    def online_rule(self):  # noqa: ANN201
        return ("momentum", 0.9)


def test_a_named_rule_without_a_velocity_takes_the_plain_step(monkeypatch) -> None:
    # the kernel would update a velocity of the parameters' size in place: without one it
    # must not run (it read past an empty array and crashed the process)
    X, y = data(("identity", "half_squared_error"))
    for batch_size in (16, 1):
        runs = kernel_runs(monkeypatch)
        net = dr.Network([7, 12, 3], output_activation="identity", seed=1,
                         loss="half_squared_error")  # fmt: skip
        trainer = Trainer(net, _NamesMomentum(), 0.01, batch_size, seed=3, metrics=[])
        trainer.fit(X, y, epochs=2, verbose=0)
        assert not runs and np.isfinite(net.parameters).all()


@pytest.mark.parametrize("returned", [("momentum",), ("momentum", None), (["sgd"], 0),
                                      {"a": 1}, "sgd", ("sgd", True)])  # fmt: skip
@pytest.mark.parametrize("batch_size", [16, 1])
def test_a_malformed_online_rule_is_an_input_error(returned, batch_size, monkeypatch) -> None:
    class Odd(dr.optimizers.SGD):
        def online_rule(self):  # noqa: ANN202
            return returned

    X, y = data(("identity", "half_squared_error"))
    net = dr.Network([7, 12, 3], output_activation="identity", seed=1, loss="half_squared_error")
    trainer = Trainer(net, Odd(0.01), 0.01, batch_size, seed=3, metrics=[])
    with pytest.raises(dr.InputError, match=r"Odd\.online_rule\(\) returned .*\(name, momentum\)"):
        trainer.fit(X, y, epochs=1, verbose=0)


def test_an_online_rule_that_raises_is_an_input_error() -> None:
    class Raising(dr.optimizers.SGD):
        def online_rule(self):  # noqa: ANN202
            raise ValueError("no rule today")

    X, y = data(("identity", "half_squared_error"))
    net = dr.Network([7, 12, 3], output_activation="identity", seed=1, loss="half_squared_error")
    trainer = Trainer(net, Raising(0.01), 0.01, 16, seed=3, metrics=[])
    with pytest.raises(
        dr.InputError, match=r"Raising\.online_rule\(\) raised ValueError \(no rule"
    ):
        trainer.fit(X, y, epochs=1, verbose=0)


@pytest.mark.parametrize("optimizer, key", [
    ("momentum", "velocity"), ("nesterov", "velocity"), ("adam", "first_moment"),
    ("adamw", "second_moment"), ("rmsprop", "mean_square"), ("adagrad", "sum_of_squares"),
])  # fmt: skip
def test_a_state_array_replaced_by_a_callback_never_reaches_the_kernel(
    optimizer, key, monkeypatch
) -> None:
    # the kernel updates the state's arrays in place, indexed unchecked, in the network's
    # dtype: another array put there between epochs (here float64, for a float32 network)
    # takes the plain step
    runs = kernel_runs(monkeypatch)
    seen = []

    class Replace(dr.callbacks.Callback):
        def on_epoch_end(self, record, state) -> None:  # noqa: ANN001
            seen.append(len(runs))
            array = state.trainer.optimizer_state[key]
            state.trainer.optimizer_state[key] = array.astype(np.float64)

    X, y = data(("identity", "half_squared_error"))
    net = dr.Network([7, 12, 3], output_activation="identity", seed=1, loss="half_squared_error")
    trainer = Trainer(net, optimizer, 0.01, 16, seed=3, metrics=[])
    trainer.fit(X, y, epochs=3, verbose=0, callbacks=[Replace()])
    assert seen[0] > 0 and seen == [seen[0]] * 3 == [len(runs)] * 3  # none after the first


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov"])
def test_batch_1_sgd_above_the_online_kernels_preferred_size_takes_the_steps(
    optimizer, monkeypatch
) -> None:
    # The online kernel loops over every weight: on a larger network the steps' BLAS
    # products are faster at batch 1 (64-100-10: 45,600 -> 163,000 examples/s)
    online = count_calls(monkeypatch, _compiled.OnlineKernel, "run")
    pair = ("softmax", "categorical_crossentropy")
    X, y = data(pair, n=80)

    def make() -> dr.Network:  # 4,867 parameters
        return dr.Network([7, 64, 64, 3], activation="tanh", output_activation=pair[0],
                          loss=pair[1], seed=1, dtype="float64")  # fmt: skip

    runs = kernel_runs(monkeypatch)
    fast = train(True, monkeypatch, make, X, y, optimizer, batch_size=1)
    assert runs and not online
    monkeypatch.setattr(_compiled, "available", lambda: False)
    plain = train(False, monkeypatch, make, X, y, optimizer, batch_size=1)
    assert_same_training(fast, plain, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("change", ["few rows", "frozen", "small"])
def test_batch_1_sgd_keeps_the_online_kernel_where_it_is_faster_or_alone(change, monkeypatch):
    online = count_calls(monkeypatch, _compiled.OnlineKernel, "run")
    runs = kernel_runs(monkeypatch)
    pair = ("softmax", "categorical_crossentropy")
    X, y = data(pair, n=8 if change == "few rows" else 80)
    net = dr.Network([7, 6, 3] if change == "small" else [7, 64, 64, 3], activation="tanh",
                     output_activation="softmax", seed=1)  # fmt: skip
    if change == "frozen":
        net.freeze("b1")
    trainer = Trainer(net, "sgd", 0.01, 1, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(X, y, epochs=2, verbose=0)
    assert online and not runs


@pytest.mark.parametrize(
    ("sizes", "rows", "optimizer", "steps"),
    [
        ([30, 40, 3], 1000, "momentum", True),  # 1,363 parameters: a velocity's rule
        ([30, 40, 3], 1000, "sgd", False),  # the delta rule's loop is faster there
        ([62, 32, 3], 1000, "sgd", True),  # 2,115
        ([62, 32, 3], 64, "sgd", False),  # too few rows to repay an epoch's Python
        ([62, 32, 3], 64, "nesterov", True),
    ],
)
def test_which_batch_1_runs_the_steps_take_by_their_cost(sizes, rows, optimizer, steps) -> None:
    from deltarule import _online
    from deltarule._sampling import Data

    rng = np.random.default_rng(0)
    X = rng.normal(size=(rows, sizes[0]))
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], rows)]
    net = dr.Network(sizes, activation="tanh", output_activation="softmax", seed=0)
    trainer = Trainer(net, optimizer, 0.01, 1, seed=0)
    trainer.planned_epochs = 10
    data = Data(X.astype(net.dtype), y.astype(net.dtype), None)
    assert _online._steps_faster(trainer, data) is steps
