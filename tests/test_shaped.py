"""The online kernel written out for one network's shape (deltarule._shaped) computes the
generic kernel's results bit for bit, and the tier that compiles it in the background only
ever makes a run faster: same results, the generic kernel whenever it is not ready."""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import deltarule as dr
from deltarule import _compiled, _jit, _shaped
from deltarule.metrics import class_threshold
from deltarule.textbook import tutorial_network

pytestmark = pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")


@pytest.fixture
def tier(monkeypatch, tmp_path_factory):
    """A fresh tier that builds a shape on its first generic call, in a test's own folder."""
    folder = str(tmp_path_factory.mktemp("shaped"))
    monkeypatch.setattr(_shaped, "_SHAPES", {})
    monkeypatch.setattr(_shaped, "HOT_SECONDS", 0.0)
    monkeypatch.setattr(_shaped, "WARM_SECONDS", 0.0)
    monkeypatch.setattr(_shaped, "BUILD_SECONDS", 0.0)
    monkeypatch.setattr(_shaped, "_folder", lambda: folder)
    monkeypatch.delenv(_shaped.SWITCH, raising=False)
    yield folder
    _shaped.wait()


def _boom(*args, **kwargs):
    raise AssertionError("the generic kernel ran")


def run_both(monkeypatch, make, X, y, rule=("sgd", 0.0), lr=0.1, epochs=20, **kw):
    """The same kernel call, on fresh copies of ``make()``'s network, through the generic
    kernel and through the written-out one (built first, then checked to be the one run).
    Returns both calls' (parameters, velocity, outputs, best, best velocity, returns)."""
    keep_outputs, keep_best = kw.pop("outputs", False), kw.pop("best", False)
    moving = rule[0] != "sgd"

    def go(path: str):
        net = make()
        kernel = _compiled.OnlineKernel(net)
        if path == "generic":
            kernel._shape = None
        n, k = X.shape[0], net.n_outputs
        extra = dict(kw)
        extra["velocity"] = (
            np.random.default_rng(5).normal(size=net.parameters.shape).astype(net.dtype)
            if moving
            else None
        )
        extra["outputs"] = np.full((epochs, n, k), -7.0, net.dtype) if keep_outputs else None
        if keep_best:
            extra["best"] = np.zeros_like(net.parameters)
            extra["best_velocity"] = np.zeros_like(net.parameters) if moving else None
        with np.errstate(all="ignore"):
            extra = {key: v for key, v in extra.items() if key not in ("orders", "target")}
            got = kernel.run(X, y, kw.get("orders"), lr, kw.get("target", -math.inf), epochs,
                             rule=rule, **extra)  # fmt: skip
        return (net.parameters.copy(), extra["velocity"], extra["outputs"], extra.get("best"),
                extra.get("best_velocity"), got, kernel.all_correct)  # fmt: skip

    go("build")  # (the generic kernel, which starts the build)
    _shaped.wait()
    assert [s.state for s in _shaped._SHAPES.values()] == ["ready"]
    with monkeypatch.context() as m:
        m.setattr(_compiled, "_kernel", lambda: _boom)
        shaped = go("shaped")
    generic = go("generic")
    return generic, shaped


def assert_same_bits(generic, shaped) -> None:
    for a, b in zip(generic[:5], shaped[:5]):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    (done, updates, failed, losses, norms, best), got = generic[5], shaped[5]
    assert (done, updates, failed, best) == got[:3] + (got[5],)
    assert generic[6] == shaped[6]  # (stopped where every example is classified correctly)
    assert losses.tobytes() == got[3].tobytes() and norms.tobytes() == got[4].tobytes()


def data(rng, n, d, k, loss):
    X = rng.normal(size=(n, d))
    if loss == "categorical_crossentropy":
        y = np.eye(k)[rng.integers(0, k, n)]
    elif loss == "binary_crossentropy":
        y = rng.integers(0, 2, size=(n, k)).astype(float)
    else:
        y = rng.uniform(-0.5, 0.9, size=(n, k))
    return X, y


# Each case: (hidden activations, output activation, loss, sizes, rule, dtype, run options).
# Together they cover every activation code, every (output, loss) code, every rule, the L2
# terms (a coefficient that is 0 in float32 but not as a float included), a scaled
# objective, layers without biases, frozen parameters, shuffled orders, kept outputs, the
# lowest epoch's start, a target, a divergence, and a stop where every example is classified
# correctly (each way of reading the outputs).
CASES = {
    "tutorial": (["sigmoid"], "sigmoid", "half_squared_error", [2, 2, 2], ("sgd", 0.0),
                 "float64", {"epochs": 200}),
    "momentum-mse-l2": (["tanh"], "identity", "mse", [3, 2, 2], ("momentum", 0.9), "float32",
                        {"decay": 1e-3, "scale": 0.5, "outputs": True}),
    "nesterov-bce": (["relu", "leaky_relu"], "sigmoid", "binary_crossentropy", [2, 3, 2, 1],
                     ("nesterov", 0.8), "float64", {"best": True, "shuffle": True}),
    "sklearn-softmax": (["leaky_relu"], "softmax", "categorical_crossentropy", [3, 3, 3],
                        ("sklearn_momentum", 0.9), "float32",
                        {"decay": 1e-50, "outputs": True, "shuffle": True}),
    "sklearn-nesterov": (["identity", "tanh"], "tanh", "half_squared_error", [2, 2, 3, 2],
                         ("sklearn_nesterov", 0.5), "float64",
                         {"frozen": True, "no_bias": True, "best": True}),
    "relu-output": (["sigmoid"], "relu", "half_squared_error", [2, 3, 1], ("sgd", 0.0),
                    "float32", {"frozen": True, "decay": 0.01, "target": 0.1556}),
    "diverges": (["relu"], "identity", "mse", [2, 3, 1], ("momentum", 0.9), "float64",
                 {"lr": 30.0, "scale_x": 1e3, "best": True}),
    "all-correct-argmax": (["tanh"], "softmax", "categorical_crossentropy", [2, 4, 3],
                           ("momentum", 0.5), "float32", {"classes": True, "epochs": 300}),
    "all-correct-column": (["tanh"], "sigmoid", "binary_crossentropy", [2, 4, 1],
                           ("sgd", 0.0), "float64", {"classes": True, "epochs": 300, "lr": 0.5}),
    "all-correct-labels": (["sigmoid"], "sigmoid", "half_squared_error", [2, 5, 2],
                           ("sgd", 0.0), "float64", {"classes": True, "epochs": 300, "lr": 2.0}),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_written_out_kernel_gives_the_generic_kernels_bits(case, tier, monkeypatch) -> None:
    hidden, out, loss, sizes, rule, dtype, options = CASES[case]
    options = dict(options)
    rng = np.random.default_rng(len(case))
    X, y = data(rng, 7, sizes[0], sizes[-1], loss)
    X = X * options.pop("scale_x", 1.0)
    X, y = X.astype(dtype), y.astype(dtype)
    frozen, no_bias = options.pop("frozen", False), options.pop("no_bias", False)
    epochs, lr = options.pop("epochs", 20), options.pop("lr", 0.1)
    stops = options.pop("classes", False)
    if stops:
        if sizes[-1] == 2:  # multi-label: rows with both labels and with none
            y = np.stack([X[:, 0] > 0, X[:, 0] * X[:, 1] > 0], axis=1).astype(dtype)
        cut = class_threshold(dr.get_activation(out), y)
        options["classes"] = _compiled.all_correct_labels(y, cut, dtype)
    if options.pop("shuffle", False):
        options["orders"] = np.stack([rng.permutation(len(X)) for _ in range(epochs)])

    def make():
        net = dr.Network(
            sizes,
            activation=hidden if len(hidden) > 1 else hidden[0],
            output_activation=out,
            loss=loss,
            seed=3,
            dtype=dtype,
            use_bias=[not (no_bias and i == 0) for i in range(len(sizes) - 1)],
        )
        if frozen:
            net.freeze("W1")
        return net

    generic, shaped = run_both(monkeypatch, make, X, y, rule=rule, lr=lr, epochs=epochs, **options)
    assert_same_bits(generic, shaped)
    if case == "diverges":
        assert generic[5][2], "the case was meant to diverge"
    if case == "relu-output":
        assert generic[5][0] < epochs, "the case was meant to reach its target"
    if stops:
        assert generic[6] and generic[5][0] < epochs, "meant to stop: all correct"


def test_a_fit_switches_kernels_midway_with_the_same_results(tier, monkeypatch) -> None:
    """A fit whose shape becomes hot during the run goes on in the written-out kernel; its
    history and weights are those of a fit with the tier turned off."""

    def fit():
        net, X, y = tutorial_network(dtype="float32")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = net.fit(X, y, epochs=300_000, batch_size=1, optimizer="sgd",
                              learning_rate=0.5, metrics=[], verbose=0, shuffle=False)  # fmt: skip
        return net, history

    monkeypatch.setattr(_shaped, "HOT_SECONDS", 0.01)
    calls = []
    real = _shaped.spent
    monkeypatch.setattr(_shaped, "spent", lambda *a: calls.append(1) or real(*a))
    fast, fast_history = fit()
    _shaped.wait()
    assert calls, "the generic kernel ran first"
    ready = [s for s in _shaped._SHAPES.values() if s.state == "ready"]
    assert len(ready) == 1
    used = []
    monkeypatch.setattr(ready[0], "function", _spy(ready[0].function, used))
    fast, fast_history = fit()
    assert used, "the second fit ran the written-out kernel"
    monkeypatch.setenv(_shaped.SWITCH, "0")
    slow, slow_history = fit()
    assert fast.parameters.tobytes() == slow.parameters.tobytes()
    assert fast_history.loss == slow_history.loss
    assert [r.gradient_norm for r in fast_history][-5:] == [r.gradient_norm for r in slow_history][
        -5:
    ]


def _spy(function, used):
    def spy(*args):
        used.append(1)
        return function(*args)

    return spy


def test_the_switch_and_the_size_limit_leave_the_generic_kernel(monkeypatch) -> None:
    net = dr.Network([2, 2, 1], seed=0)
    monkeypatch.setenv(_shaped.SWITCH, "off")
    assert _compiled.OnlineKernel(net)._shape is None
    monkeypatch.delenv(_shaped.SWITCH)
    assert _compiled.OnlineKernel(net)._shape is not None
    big = dr.Network([10, 12, 1], seed=0)
    assert big.n_parameters > _shaped.MAX_PARAMETERS
    assert _compiled.OnlineKernel(big)._shape is None


def test_a_kernel_that_refuses_the_arguments_hands_back_to_the_generic(tier) -> None:
    net, X, y = tutorial_network()
    kernel = _compiled.OnlineKernel(net)
    kernel.run(X, y, None, 0.5, -math.inf, 3)
    _shaped.wait()
    (shape,) = _shaped._SHAPES.values()
    assert shape.state == "ready"

    def refuses(*args):
        raise TypeError("No matching definition for argument type(s)")

    shape.function = refuses
    done, updates, *_ = kernel.run(X, y, None, 0.5, -math.inf, 4)
    assert (done, updates) == (4, 4) and shape.state == "failed" and shape.function is None


def test_a_failed_build_leaves_the_generic_kernel(tier, monkeypatch) -> None:
    monkeypatch.setattr(_shaped, "source", lambda *a, **k: "this is not python\n")
    net, X, y = tutorial_network()
    kernel = _compiled.OnlineKernel(net)
    before = net.parameters.copy()
    kernel.run(X, y, None, 0.5, -math.inf, 3)
    _shaped.wait()
    assert [s.state for s in _shaped._SHAPES.values()] == ["failed"]
    assert kernel.run(X, y, None, 0.5, -math.inf, 3)[0] == 3
    assert not np.array_equal(before, net.parameters)


def test_no_folder_leaves_the_generic_kernel(tier, monkeypatch) -> None:
    monkeypatch.setattr(_shaped, "_folder", lambda: None)
    net, X, y = tutorial_network()
    _compiled.OnlineKernel(net).run(X, y, None, 0.5, -math.inf, 3)
    assert [s.state for s in _shaped._SHAPES.values()] == ["failed"]


def test_a_file_with_other_text_is_written_again_before_it_is_imported(tier) -> None:
    net, X, y = tutorial_network()
    kernel = _compiled.OnlineKernel(net)
    kernel.run(X, y, None, 0.5, -math.inf, 3)
    _shaped.wait()
    (shape,) = _shaped._SHAPES.values()
    with open(shape.path, encoding="utf-8") as f:
        text = f.read()
    with open(shape.path, "w", encoding="utf-8") as f:
        f.write("raise SystemExit('not deltarule code')\n")
    _shaped._SHAPES.clear()
    for name in [n for n in sys.modules if n.startswith("_deltarule_shaped_")]:
        del sys.modules[name]
    kernel.run(X, y, None, 0.5, -math.inf, 3)
    _shaped.wait()
    assert [s.state for s in _shaped._SHAPES.values()] == ["ready"]
    with open(shape.path, encoding="utf-8") as f:
        assert f.read() == text


def test_a_shape_built_before_is_loaded_after_the_warm_time(tier, monkeypatch) -> None:
    net, X, y = tutorial_network()
    _compiled.OnlineKernel(net).run(X, y, None, 0.5, -math.inf, 3)
    _shaped.wait()
    monkeypatch.setattr(_shaped, "_SHAPES", {})
    monkeypatch.setattr(_shaped, "HOT_SECONDS", 1e9)  # (never hot: only "built before")
    _compiled.OnlineKernel(net).run(X, y, None, 0.5, -math.inf, 3)
    _shaped.wait()
    assert [s.state for s in _shaped._SHAPES.values()] == ["ready"]
    monkeypatch.setattr(_shaped, "_SHAPES", {})
    monkeypatch.setattr(_shaped, "WARM_SECONDS", 1e9)
    _compiled.OnlineKernel(net).run(X, y, None, 0.5, -math.inf, 3)
    assert [s.state for s in _shaped._SHAPES.values()] == ["generic"]


@pytest.mark.parametrize("rule", list(_compiled.ONLINE_RULES.values()))
@pytest.mark.parametrize("pair", list(_compiled.OUTPUT_CODES))
@pytest.mark.parametrize("hidden", list(_compiled.ACTIVATION_CODES))
def test_every_activation_loss_and_rule_writes_python(hidden, pair, rule) -> None:
    """The source for every combination the kernel takes is valid Python that names only
    what it defines (compiled here by Python; numba compiles the cases above)."""
    out, loss = pair
    net = dr.Network([2, 2, 3], activation=hidden, output_activation=out, loss=loss, seed=0)
    kernel = _compiled.OnlineKernel(net)
    spec, code = kernel._shape
    for decay in [(False, False), (True, True), (True, False)]:
        half = net.n_parameters // 2
        trainable = [True] * half + [False] * (net.n_parameters - half)
        text = _shaped.source(spec, code, rule, trainable, decay)
        tree = compile(text, "<shaped>", "exec")
        assert "online_epochs" in tree.co_names
        function = _function_code(tree)
        assigned = set(function.co_varnames) | {"np", "njit", "abs", "float", "range", "max"}
        assert set(function.co_names) <= assigned | {
            "dtype",
            "type",
            "shape",
            "exp",
            "tanh",
            "log",
            "log1p",
            "sqrt",
            "isfinite",
            "empty",
        }


def _function_code(module_code):
    return next(c for c in module_code.co_consts if hasattr(c, "co_varnames"))


def test_the_written_out_kernel_takes_the_generic_kernels_arguments() -> None:
    # (the tier switches between the two from one call to the next)
    import ast
    import inspect

    text = _shaped.source(((0,), (2,), (2,), (1,), (1,)), 0, 0, [True] * 3, (False, False))
    (function,) = [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)]
    generic = inspect.signature(_jit.online_epochs.py_func)
    assert [a.arg for a in function.args.args] == list(generic.parameters)


def test_another_process_loads_the_built_kernel_from_numbas_cache(tmp_path) -> None:
    """A shape built in one process is loaded in the next from numba's on-disk cache (its
    module imported under the name it was compiled with), not compiled again."""
    import subprocess
    import textwrap

    script = textwrap.dedent(f"""
        import math, time
        from deltarule import _compiled, _shaped
        from deltarule.textbook import tutorial_network
        _shaped._folder = lambda: {str(tmp_path)!r}
        _shaped.HOT_SECONDS = _shaped.WARM_SECONDS = _shaped.BUILD_SECONDS = 0.0
        net, X, y = tutorial_network()
        _compiled.OnlineKernel(net).run(X, y, None, 0.5, -math.inf, 3)
        t = time.perf_counter()
        _shaped.wait()
        (shape,) = _shaped._SHAPES.values()
        print(shape.state, shape.function.stats.cache_hits.most_common(1)[0][1]
              if shape.function is not None and shape.function.stats.cache_hits else 0)
    """)
    runs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert runs[0].stdout.split() == ["ready", "0"]  # compiled
    assert runs[1].stdout.split() == ["ready", "1"]  # loaded from the cache


def test_a_shape_not_yet_hot_writes_its_source_once(tier, monkeypatch) -> None:
    # (a run of one epoch a call, with validation data, calls the kernel every epoch: the
    # source, its digest and the file's check are done once, not at every call)
    monkeypatch.setattr(_shaped, "HOT_SECONDS", 1e9)
    written = []
    real = _shaped.source
    monkeypatch.setattr(_shaped, "source", lambda *a, **k: written.append(1) or real(*a, **k))
    net, X, y = tutorial_network()
    kernel = _compiled.OnlineKernel(net)
    for _ in range(5):
        kernel.run(X, y, None, 0.5, -math.inf, 2)
    assert len(written) == 1
    assert [s.state for s in _shaped._SHAPES.values()] == ["cold"]


def _process(script: str, timeout: int = 300):
    import subprocess

    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout
    )


_SETUP = """
import math
from deltarule import _compiled, _shaped
import deltarule as dr
_shaped._folder = lambda: {folder!r}
_shaped.HOT_SECONDS = _shaped.WARM_SECONDS = _shaped.BUILD_SECONDS = 0.0
"""


def test_a_process_that_ends_waits_for_one_build_at_most(tmp_path) -> None:
    # (three shapes queued, then the program ends: the build under way finishes, the two
    # queued after it are dropped; a sweep over hidden sizes had waited for every one)
    import textwrap

    script = _SETUP.format(folder=str(tmp_path)) + textwrap.dedent("""
        import numpy as np
        X, y = np.ones((3, 2)), np.ones((3, 1))
        for hidden in (2, 3, 4):
            net = dr.Network([2, hidden, 1], activation="tanh", seed=0, dtype="float64")
            _compiled.OnlineKernel(net).run(X, y, None, 0.1, -math.inf, 2)
        print(sorted(s.state for s in _shaped._SHAPES.values()))
    """)
    run = _process(script)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "['building', 'building', 'building']"
    assert len(list(tmp_path.glob("*.py"))) == 1  # (the other two never written)


def test_an_unreadable_numba_cache_is_cleared_and_compiled_anew(tmp_path) -> None:
    import textwrap

    script = _SETUP.format(folder=str(tmp_path)) + textwrap.dedent("""
        from deltarule.textbook import tutorial_network
        net, X, y = tutorial_network()
        _compiled.OnlineKernel(net).run(X, y, None, 0.5, -math.inf, 3)
        _shaped.wait()
        (shape,) = _shaped._SHAPES.values()
        hits = shape.function.stats.cache_hits if shape.function is not None else {}
        print(shape.state, sum(hits.values()))
    """)
    assert _process(script).stdout.split() == ["ready", "0"]
    (index,) = tmp_path.glob("__pycache__/*.nbi")
    index.write_bytes(b"garbage")
    second = _process(script)
    assert second.stdout.split() == ["ready", "0"], second.stderr  # (compiled anew)
    assert _process(script).stdout.split() == ["ready", "1"]  # (and cached again)


def test_a_folder_of_another_user_turns_the_tier_off(monkeypatch, tmp_path) -> None:
    # (private_folder then makes a fresh folder: each process would compile anew in one
    # and leave it behind)
    from deltarule import _numba_env

    fresh = tmp_path / "deltarule-shaped-abc123"
    fresh.mkdir()
    monkeypatch.setattr(_numba_env, "private_folder", lambda name: str(fresh))
    assert _shaped._folder() is None
    assert not fresh.exists()


def test_data_of_another_dtype_runs_the_generic_kernel(tier) -> None:
    # (the generic kernel rounds its sums to the network's dtype in its buffers)
    net, X, y = tutorial_network(dtype="float32")
    _compiled.OnlineKernel(net).run(X.astype(np.float64), y, None, 0.5, -math.inf, 3)
    assert _shaped._SHAPES == {}
    _compiled.OnlineKernel(net).run(X.astype(np.float32), y.astype(np.float32), None, 0.5,
                                    -math.inf, 3)  # fmt: skip
    assert len(_shaped._SHAPES) == 1


def test_numba_with_svml_turns_the_tier_off(monkeypatch) -> None:
    from numba.core import config

    monkeypatch.setattr(config, "USING_SVML", True, raising=False)
    assert _compiled.OnlineKernel(tutorial_network()[0])._shape is None


def test_a_forked_child_builds_its_own_hot_shapes(tmp_path) -> None:
    # (a child forked while the parent's build thread ran kept that thread in its books: its
    # hot shapes stayed "building" for ever and wait() spun)
    import textwrap

    script = _SETUP.format(folder=str(tmp_path)) + textwrap.dedent("""
        import os, numpy as np
        X, y = np.ones((3, 2)), np.ones((3, 1))
        def train(hidden):
            net = dr.Network([2, hidden, 1], activation="tanh", seed=0, dtype="float64")
            _compiled.OnlineKernel(net).run(X, y, None, 0.1, -math.inf, 2)
        train(2)
        train(4)  # (queued behind the first)
        pid = os.fork()
        if pid == 0:
            train(3)
            _shaped.wait()
            print(sorted(s.state for s in _shaped._SHAPES.values()), flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        _shaped.wait()
    """)
    run = _process(script)
    assert run.returncode == 0, run.stderr
    # (the child's own shape built; the parent's two cold again in the child, not stuck)
    assert run.stdout.strip() in ("['cold', 'cold', 'ready']", "['cold', 'ready', 'ready']")


def test_a_build_thread_that_cannot_start_raises_nothing(tier, monkeypatch) -> None:
    import threading

    def refuse(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    net, X, y = tutorial_network()
    assert _compiled.OnlineKernel(net).run(X, y, None, 0.5, -math.inf, 3)[0] == 3
    assert [s.state for s in _shaped._SHAPES.values()] == ["failed"]
    _shaped.wait()  # (returns: no thread)


def test_shapes_queued_when_the_program_ends_are_dropped(tier, monkeypatch) -> None:
    monkeypatch.setattr(_shaped, "_ENDING", [True])
    net, X, y = tutorial_network()
    _compiled.OnlineKernel(net).run(X, y, None, 0.5, -math.inf, 3)
    _shaped.wait()
    assert [s.state for s in _shaped._SHAPES.values()] == ["failed"]


def test_the_folder_keeps_the_kernels_used_last(tier, monkeypatch) -> None:
    # (a sweep over hundreds of shapes would leave ~0.3 MB of each in the temporary folder)
    import pathlib

    monkeypatch.setattr(_shaped, "KEPT", 2)
    X, y = np.ones((3, 2)), np.ones((3, 1))
    stems = []
    for hidden in (2, 3, 4):
        net = dr.Network([2, hidden, 1], activation="tanh", seed=0, dtype="float64")
        _compiled.OnlineKernel(net).run(X, y, None, 0.1, -math.inf, 2)
        _shaped.wait()
        (shape,) = [s for s in _shaped._SHAPES.values() if s.path and s.path not in stems]
        assert shape.state == "ready"
        stems.append(shape.path)
    folder = pathlib.Path(tier)
    kept = sorted(p.name for p in folder.glob("*.py"))
    assert kept == sorted(pathlib.Path(p).name for p in stems[1:])
    first = pathlib.Path(stems[0]).stem
    assert not list(folder.glob(first + "*")) and not list(folder.glob(f"__pycache__/{first}*"))
    assert list(folder.glob(f"__pycache__/{pathlib.Path(stems[2]).stem}*.nbc"))


def test_a_shape_hot_near_the_end_of_a_run_is_not_built(tier, monkeypatch) -> None:
    # (a run that ended just after its shape got hot waited ~2 s at exit for a build it
    # never used; a build starts for a run with BUILD_SECONDS left, or after SWEEP_SECONDS)
    monkeypatch.setattr(_shaped, "BUILD_SECONDS", 1e9)
    monkeypatch.setattr(_shaped, "SWEEP_SECONDS", 1e9)
    net, X, y = tutorial_network()
    kernel = _compiled.OnlineKernel(net)
    kernel.left = 0.5
    kernel.run(X, y, None, 0.5, -math.inf, 3)
    assert [s.state for s in _shaped._SHAPES.values()] == ["cold"]
    kernel.left = 2e9  # (a long run)
    kernel.run(X, y, None, 0.5, -math.inf, 3)
    _shaped.wait()
    assert [s.state for s in _shaped._SHAPES.values()] == ["ready"]


def test_short_runs_that_add_up_build_the_shape(tier, monkeypatch) -> None:
    monkeypatch.setattr(_shaped, "BUILD_SECONDS", 1e9)
    monkeypatch.setattr(_shaped, "SWEEP_SECONDS", 0.0)
    net, X, y = tutorial_network()
    kernel = _compiled.OnlineKernel(net)
    kernel.left = 0.0
    kernel.run(X, y, None, 0.5, -math.inf, 3)
    _shaped.wait()
    assert [s.state for s in _shaped._SHAPES.values()] == ["ready"]


def test_a_fit_tells_the_kernel_how_long_it_has_left(tier, monkeypatch) -> None:
    # (in a fresh tier: a shape built earlier in the process would run without telling)
    seen = []
    real = _shaped.spent
    monkeypatch.setattr(_shaped, "spent", lambda *a: seen.append(a[3]) or real(*a))
    monkeypatch.setattr(_shaped, "HOT_SECONDS", 1e9)
    net, X, y = tutorial_network()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X, y, epochs=200_000, batch_size=1, optimizer="sgd", learning_rate=0.5,
                metrics=[], verbose=0, shuffle=False)  # fmt: skip
    assert seen[0] == 0.0  # (unknown before the first chunk: no build for it)
    assert len(seen) > 3 and all(x > 0 for x in seen[1:])
    assert seen[-1] < seen[1]  # (less left as the run goes on)


def test_a_ctrl_c_while_the_build_thread_starts_leaves_it_known(monkeypatch) -> None:
    # a KeyboardInterrupt raised in Thread.start (once the thread ran) left it out of
    # _WORKER: the next hot shape started a second build thread beside it
    release = threading.Event()
    real_start = threading.Thread.start

    def start(self) -> None:
        real_start(self)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        time.sleep(0.05)  # (Python's handler runs by now, unless it waits)

    def work() -> None:  # (the build thread: waits, then ends as _work does)
        release.wait(10)
        with _shaped._WORKER_LOCK:
            _shaped._QUEUE.clear()
            _shaped._WORKER.clear()

    monkeypatch.setattr(_shaped, "_work", work)
    monkeypatch.setattr(threading.Thread, "start", start)
    assert not _shaped._WORKER
    try:
        with pytest.raises(KeyboardInterrupt):
            _shaped._start(_shaped._Shape())
        assert len(_shaped._WORKER) == 1 and _shaped._WORKER[0].is_alive()
    finally:
        release.set()
        for thread in list(_shaped._WORKER):
            thread.join(10)
