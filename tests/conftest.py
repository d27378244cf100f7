"""Shared fixtures: seeded generators and small datasets."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

# A suite started as a background job (`make test &`, nohup) inherits Ctrl-C ignored, and so
# would every command the tests start (Python leaves an ignored SIGINT ignored): the tests of
# Ctrl-C need it handled, as in a terminal (the commands then start with it at its default).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# oneDNN's own log (read by the library once a process) prints a line per product on
# standard output, among the command line's results the tests read: a developer's shell
# that sets it would fail them. The tests of deltarule's warning about it set it themselves.
for _name in ("ONEDNN_VERBOSE", "DNNL_VERBOSE"):
    os.environ.pop(_name, None)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def unique_entries(registry: dict) -> list:
    """Registry values without alias duplicates, in insertion order."""
    seen, out = set(), []
    for value in registry.values():
        if id(value) not in seen:
            seen.add(id(value))
            out.append(value)
    return out


def count_calls(monkeypatch, owner: type, name: str) -> list:
    """A list that gains an entry each time ``owner.name`` runs (the method still runs)."""
    calls = []
    real = getattr(owner, name)

    def spy(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


def forget_mkl() -> None:
    """Make the next use of MKL look at the environment again (its setup is cached)."""
    from deltarule import _mkl

    for cached in (_mkl._library, _mkl._jit_functions):
        getattr(cached, "cache_clear", lambda: None)()  # (unless a test replaced it)


def forget_onednn() -> None:
    """Make the next use of oneDNN look at the environment and its threshold again."""
    from deltarule import _onednn

    _onednn._forget()


@pytest.fixture
def onednn_on(monkeypatch):
    """oneDNN's products for every product of the threads (its threshold 0: the tests' small
    products too), MKL off; skipped without the ``onednn-cpu-gomp`` wheel."""
    from deltarule import _mkl, _onednn

    if _onednn.library_path() is None:
        pytest.skip("the onednn-cpu-gomp wheel is not installed (deltarule[onednn])")
    monkeypatch.delenv(_onednn.SWITCH, raising=False)
    monkeypatch.setattr(_onednn, "MIN_PRODUCT", 0)
    monkeypatch.setattr(_mkl, "gemm_address", lambda dtype: 0)
    forget_onednn()
    if not _onednn.available():
        pytest.skip("oneDNN's library did not load (no libgomp.so.1?)")
    yield
    forget_onednn()


@pytest.fixture
def mkl_on(monkeypatch):
    """MKL's products wherever the ``mkl`` wheel is installed: ``DELTARULE_MKL=1`` (also on
    a processor where deltarule leaves MKL unused by default, such as AMD's), in this
    process and the subprocesses it starts; skipped without the wheel."""
    from deltarule import _mkl

    if _mkl.library_path() is None:
        pytest.skip("the mkl wheel is not installed (deltarule[mkl])")
    monkeypatch.setenv("DELTARULE_MKL", "1")
    forget_mkl()
    assert _mkl.available()
    yield
    forget_mkl()  # (the environment is restored after this: the next use reads it then)


def torch_plateau_rates(start: float, values, **kwargs) -> list[float]:
    """The rate of each epoch under torch's ReduceLROnPlateau told ``values`` (the oracle)."""
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=start)
    rule = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, threshold_mode="abs", **kwargs)
    rates = []
    for value in values:
        rates.append(optimizer.param_groups[0]["lr"])
        rule.step(value)
    return rates


@pytest.fixture(scope="module")
def testers_iris_walk(tmp_path_factory) -> str:  # (tests/explain)
    """The QA tester's walk: a float32 iris model (4-4-3-3, tanh, softmax, 30 epochs, seed 1)
    explained on the raw row 5.1,3.5,1.4,0.2 with the target setosa; the walk's text."""
    import contextlib
    import io

    from deltarule.cli import main

    model = tmp_path_factory.mktemp("iris") / "iris.safetensors"
    assert main(["train", "--dataset", "iris", "--hidden", "4,3", "--activation", "tanh",
                 "--epochs", "30", "--quiet", "--out", str(model), "--seed", "1"]) == 0  # fmt: skip
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        assert main(["explain", "--model", str(model), "--raw", "--input", "5.1,3.5,1.4,0.2",
                     "--target", "setosa"]) == 0  # fmt: skip
    return text.getvalue()


@pytest.fixture
def write(tmp_path):
    """``write(name, content)``: a file of ``content`` (text or bytes) in ``tmp_path``."""

    def write(name: str, content: bytes | str):
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write


@pytest.fixture(scope="module")
def iris_estimator_file(tmp_path_factory):  # (tests/test_notebook_qa.py, tests/cli)
    """A deltarule MLPClassifier fitted on iris as a DataFrame and saved: (path, X, model)."""
    import warnings

    pytest.importorskip("sklearn")
    from sklearn.datasets import load_iris

    from deltarule.sklearn import MLPClassifier

    data = load_iris(as_frame=True)
    X, y = data.data, data.target
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier(hidden_layer_sizes=(6,), max_iter=60, random_state=0).fit(X, y)
    path = tmp_path_factory.mktemp("estimator") / "iris.safetensors"
    model.save(path)
    return path, X, model
