"""Flat buffers start on a cache line: the helpers and every buffer the training uses."""

from __future__ import annotations

import numpy as np
import pytest

import deltarule as dr
from deltarule import _compiled, _memory, _minibatch, optimizers

LINE = _memory.CACHE_LINE


def aligned(array: np.ndarray) -> bool:
    return array.ctypes.data % LINE == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint8])
@pytest.mark.parametrize("size", [0, 1, 7, 16, 1000, 100_003])
def test_empty_and_zeros_start_on_a_cache_line(size, dtype) -> None:
    for make in (_memory.empty, _memory.zeros):
        out = make(size, dtype)
        assert out.shape == (size,) and out.dtype == np.dtype(dtype)
        assert out.flags.c_contiguous and out.flags.writeable
        if size:
            assert aligned(out)
    assert not _memory.zeros(size, dtype).any()


def test_buffers_do_not_overlap() -> None:
    a, b = _memory.zeros(1000, np.float32), _memory.zeros(1000, np.float32)
    a[:] = 1
    assert not b.any()
    assert not np.shares_memory(a, b)


@pytest.mark.parametrize("dtype", [None, np.float32])
def test_copy(dtype) -> None:
    source = np.arange(12.0).reshape(3, 4)[:, ::2]  # not contiguous
    out = _memory.copy(source, dtype)
    assert aligned(out) and out.shape == (6,)
    assert out.dtype == (source.dtype if dtype is None else np.dtype(dtype))
    np.testing.assert_array_equal(out, source.reshape(-1))
    out[0] = 99
    assert source[0, 0] == 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parameters_gradients_and_optimizer_state_are_aligned(dtype) -> None:
    net = dr.Network([7, 33, 5, 3], seed=0, dtype=dtype)
    assert aligned(net.parameters) and net.parameters.dtype == np.dtype(dtype)
    assert aligned(net.loss_and_gradient(np.ones((2, 7)), np.ones((2, 3)))[1])
    for copy in (net.copy(), net.astype("float32")):
        assert aligned(copy.parameters)
        np.testing.assert_allclose(copy.parameters, net.parameters, rtol=1e-6)
        assert not np.shares_memory(copy.parameters, net.parameters)
    for name in sorted(optimizers.OPTIMIZERS):
        state = optimizers.get_optimizer(name).init(net.parameters)
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                assert aligned(value), (name, key)
                assert value.shape == net.parameters.shape


@pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")
@pytest.mark.parametrize("threads", [1, 2])
def test_the_compiled_steps_work_space_is_aligned(threads) -> None:
    net = dr.Network([7, 33, 5, 3], seed=0)
    kernel = _minibatch.MinibatchKernel(net, 16, True, threads)
    for buffer in (kernel.z, kernel.a, kernel.d, kernel.x, kernel.y, kernel.per_sample):
        assert aligned(buffer)
