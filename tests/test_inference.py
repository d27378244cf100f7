"""Threaded compiled inference, with MKL's products or NumPy's on one thread each: the
outputs of the plain forward pass."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import count_calls

import deltarule as dr
from deltarule import _blas, _compiled, _inference, _minibatch, _mkl, _onednn

pytestmark = pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")
HIDDEN = sorted(_minibatch.HIDDEN_CODES)
OUTPUTS = ["softmax", *HIDDEN]


@pytest.fixture(autouse=True, params=["mkl", "onednn", "numpy"])
def products(request, monkeypatch) -> str:
    """Every test with MKL's products, oneDNN's (each where its wheel is installed) and
    NumPy's."""
    dtype = getattr(request.node, "callspec", None) and request.node.callspec.params.get("dtype")
    if request.param == "onednn" and (
        dtype == "float64" or not (_blas.gemm_address(np.float32) and _blas.controls_threads())
    ):
        pytest.skip("oneDNN's products are for float32, with NumPy's OpenBLAS held at one thread")
    if request.param in ("mkl", "onednn"):
        request.getfixturevalue(f"{request.param}_on")
    else:
        monkeypatch.setattr(_onednn, "gemm_address", lambda dtype, largest: 0)
        if not (_blas.gemm_address(np.float64) and _blas.controls_threads()):
            pytest.skip("NumPy's OpenBLAS is not one deltarule can call and hold at one thread")
        monkeypatch.setattr(_mkl, "gemm_address", lambda dtype: 0)
    return request.param


@pytest.fixture(autouse=True)
def small_inputs_take_the_kernel(monkeypatch) -> None:
    monkeypatch.setattr(_inference, "MIN_ROWS", 64)
    monkeypatch.setattr(_inference, "BLOCK", 16)
    monkeypatch.setattr(_blas, "pool_threads", lambda: 2)
    monkeypatch.setattr(_blas, "cpus", lambda: 2)


def plain(net: dr.Network, X: np.ndarray) -> np.ndarray:
    return net.forward(X)[0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_the_outputs_are_the_forward_passs(hidden, output, dtype) -> None:
    net = dr.Network([9, 40, 17, 5], activation=hidden, output_activation=output, seed=3,
                     dtype=dtype)  # fmt: skip
    X = np.random.default_rng(1).normal(size=(203, 9)).astype(dtype)  # 12 blocks and a part
    out = _inference.infer(net, X)
    assert out is not None and out.shape == (203, 5) and out.dtype == np.dtype(dtype)
    tol = 2e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(out, plain(net, X), rtol=tol, atol=tol)


@pytest.mark.parametrize("threads", [2, 3, 8])
@pytest.mark.parametrize("rows", [64, 65, 100, 257])
def test_every_row_is_computed_once_whatever_the_threads(threads, rows, monkeypatch) -> None:
    monkeypatch.setattr(_blas, "pool_threads", lambda: threads)
    monkeypatch.setattr(_blas, "cpus", lambda: threads)
    net = dr.Network([6, 33, 4], output_activation="softmax", seed=0, dtype="float64")
    X = np.random.default_rng(2).normal(size=(rows, 6))
    out = _inference.infer(net, X)
    np.testing.assert_allclose(out, plain(net, X), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-12)


def test_one_layer_without_biases() -> None:
    net = dr.Network([5, 3], output_activation="sigmoid", use_bias=False, seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(100, 5))
    np.testing.assert_allclose(_inference.infer(net, X), plain(net, X), rtol=1e-13)


def test_predict_takes_it_for_large_inputs_and_matches(monkeypatch) -> None:
    from deltarule import network

    monkeypatch.setattr(network, "INFER_CHUNK", 50)
    calls = count_calls(monkeypatch, _inference, "infer")
    net = dr.Network([8, 24, 3], output_activation="softmax", seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(300, 8))
    out = net.predict(X)
    assert len(calls) == 1
    np.testing.assert_allclose(out, plain(net, X), rtol=1e-13, atol=1e-15)
    net.predict(X[:40])  # at most INFER_CHUNK rows: one forward pass, no kernel
    assert len(calls) == 1


def test_what_it_does_not_run_is_left_to_numpy(monkeypatch) -> None:
    net = dr.Network([4, 8, 2], output_activation="softmax", seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(100, 4))
    assert _inference.infer(net, X[:63]) is None  # fewer than MIN_ROWS
    assert _inference.infer(net, X.astype(np.float32)) is None  # not the network's dtype
    assert _inference.infer(net, np.asfortranarray(X)) is None  # not C-contiguous
    with monkeypatch.context() as patch:
        patch.setattr(_blas, "pool_threads", lambda: 1)  # OPENBLAS_NUM_THREADS=1
        assert _inference.infer(net, X) is None
    with monkeypatch.context() as patch:  # neither MKL's products nor NumPy's to call
        patch.setattr(_mkl, "gemm_address", lambda dtype: 0)
        patch.setattr(_blas, "gemm_address", lambda dtype: 0)
        assert _inference.infer(net, X) is None
    with monkeypatch.context() as patch:  # NumPy's pool cannot be held at one thread
        patch.setattr(_mkl, "gemm_address", lambda dtype: 0)
        patch.setattr(_blas, "controls_threads", lambda: False)
        assert _inference.infer(net, X) is None
    elu = dr.Network(
        [4, 8, 2], activation="elu", seed=0, dtype="float64"
    )  # not one the kernel knows
    assert _inference.infer(elu, X) is None
    assert _inference.infer(net, X) is not None


def test_numpys_pool_is_held_at_one_thread_while_the_blocks_run(monkeypatch) -> None:
    sizes, shares = [], _inference.run_shares

    def recorded(work, count) -> None:
        sizes.append(_blas._thread_functions()[0]())
        shares(work, count)

    if not _blas.controls_threads():
        pytest.skip("NumPy's OpenBLAS threads cannot be told here")
    monkeypatch.setattr(_inference, "run_shares", recorded)
    before = _blas._thread_functions()[0]()
    net = dr.Network([6, 20, 3], output_activation="softmax", seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(150, 6))
    np.testing.assert_allclose(_inference.infer(net, X), plain(net, X), rtol=1e-13, atol=1e-15)
    assert sizes == [1] and _blas._thread_functions()[0]() == before


def test_a_thread_that_cannot_start_leaves_its_blocks_to_this_one(monkeypatch) -> None:
    def refuse(self) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    net = dr.Network([6, 20, 3], output_activation="softmax", seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(150, 6))
    np.testing.assert_allclose(_inference.infer(net, X), plain(net, X), rtol=1e-13, atol=1e-15)


def test_non_finite_inputs_give_non_finite_rows_as_the_plain_pass(monkeypatch) -> None:
    net = dr.Network([4, 8, 2], output_activation="softmax", seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(100, 4))
    X[7, 1] = np.nan
    out = _inference.infer(net, X)
    expected = plain(net, X)
    np.testing.assert_array_equal(np.isfinite(out), np.isfinite(expected))


class Doubled(dr.Network):
    """A network whose outputs are twice its layers' (its own forward pass)."""

    def forward(self, X, params=None, **kwargs):
        out, caches = super().forward(X, params, **kwargs)
        return out * 2, caches


@pytest.mark.parametrize("rows", [40, 300])
def test_a_subclass_forward_gives_predict_its_outputs_whatever_the_rows(rows, monkeypatch) -> None:
    # Up to INFER_CHUNK rows, predict called the subclass's forward; beyond, the kernel
    # computed the plain network's outputs (half of these).
    from deltarule import network

    monkeypatch.setattr(network, "INFER_CHUNK", 50)
    net = Doubled([3, 8, 2], activation="relu", seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(rows, 3))
    assert _inference.infer(net, X) is None
    np.testing.assert_array_equal(net.predict(X), net.forward(X)[0])


def test_an_activation_registered_over_a_builtin_is_computed_as_its_own(monkeypatch) -> None:
    from deltarule.activations import ACTIVATIONS

    two_tanh = dr.Activation("tanh", lambda z: 2 * np.tanh(z), lambda z, a: 2 - a * a / 2)
    monkeypatch.setitem(ACTIVATIONS, "tanh", two_tanh)  # register_activation(overwrite=True)
    net = dr.Network([4, 8, 2], activation="tanh", seed=0, dtype="float64")
    X = np.random.default_rng(0).normal(size=(100, 4))
    assert _inference.infer(net, X) is None
    np.testing.assert_array_equal(net.predict(X), plain(net, X))
