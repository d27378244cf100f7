"""The row kernels give NumPy's values to the last bit (signed zeros and NaN included)."""

from __future__ import annotations

import numpy as np
import pytest

from deltarule import _compiled, _rowops, activations, losses


@pytest.fixture(params=[True, False], ids=["kernels", "numpy"])
def compiled(request, monkeypatch) -> bool:
    """Run a test through the kernels (small arrays included) and through NumPy's path."""
    if request.param and not _compiled.available():
        pytest.skip("numba is not installed")
    monkeypatch.setattr(_compiled, "available", lambda: request.param)
    monkeypatch.setattr(_rowops, "ROW_KERNEL_MIN_SIZE", 0)  # small arrays take the kernels
    return request.param


def assert_bitwise(got, expected) -> None:
    np.testing.assert_array_equal(got, expected, strict=True)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(expected))


def awkward(rng, shape, dtype) -> np.ndarray:
    """Values over many magnitudes, with signed zeros, infinities and NaN in some rows."""
    a = rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 6, size=shape)
    a[0, : min(5, shape[1])] = [np.nan, np.inf, -np.inf, 0.0, -0.0][: min(5, shape[1])]
    if shape[0] > 1:
        a[1] = -0.0
    if shape[0] > 2:
        a[2, : shape[1] // 2] = 0.0
        a[2, shape[1] // 2 :] = -0.0
    return a.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_sum_is_numpys_pairwise_sum_bit_for_bit(dtype, compiled) -> None:
    rng = np.random.default_rng(0)
    # lengths around NumPy's 8-way unrolling and its 128-element blocks, and far above
    for k in [1, 2, 7, 8, 9, 15, 16, 17, 127, 128, 129, 136, 255, 256, 257, 1000, 4099]:
        a = awkward(rng, (5, k), dtype)
        with np.errstate(invalid="ignore"):
            assert_bitwise(_rowops.row_sum(a), a.sum(axis=1, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_cross_entropy_rows_equal_the_plain_forms(dtype, compiled) -> None:
    rng = np.random.default_rng(1)
    for k in [1, 3, 10, 130]:
        z = (rng.standard_normal((9, k)) * 30).astype(dtype)
        z[1] = -0.0  # ties at a signed-zero maximum
        z[2, : k // 2 + 1] = 0.0
        if k > 2:
            z[3, 1] = np.inf
            z[4, 2] = np.nan
            z[5, 0] = -np.inf
        t = rng.random((9, k)).astype(dtype)
        t[6] = 0.0
        with np.errstate(all="ignore"):
            expected = activations._softmax(z)
            got = activations._softmax_into(z, np.full_like(z, 5.0))
            assert_bitwise(got, expected)
            plain = losses._cce_from_logits(z, t)
            fast = losses._cce_from_logits_into(z, t, np.empty_like(z))
            assert_bitwise(fast, plain)
            o = activations._softmax(z)
            assert_bitwise(
                losses._cce_delta_into(z, o, t, np.empty_like(z)), losses._cce_delta(z, o, t)
            )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_subtract_row_max_and_divide_by_row_sum(dtype, compiled) -> None:
    rng = np.random.default_rng(2)
    z = awkward(rng, (7, 12), dtype)
    out = np.empty_like(z)
    with np.errstate(invalid="ignore"):
        m = _rowops.subtract_row_max(z, out)
        reference = z.max(axis=1, keepdims=True)
        # equal maxima (a tie between -0.0 and +0.0 may pick either zero: both are the max)
        np.testing.assert_array_equal(m, reference, strict=True)
        assert_bitwise(out, z - m)
        in_place = z.copy()
        _rowops.subtract_row_max(in_place, in_place)
        assert_bitwise(in_place, out)
        e = np.abs(z)
        assert_bitwise(_rowops.divide_by_row_sum(e, np.empty_like(e)), e / e.sum(1, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernel_is_np_maximum(dtype, compiled) -> None:
    z = awkward(np.random.default_rng(3), (6, 11), dtype)
    with np.errstate(invalid="ignore"):
        assert_bitwise(_rowops.relu(z, np.empty_like(z)), np.maximum(z, 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_kernels_equal_numpy_bitwise_with_special_values(dtype, compiled) -> None:
    rng = np.random.default_rng(4)
    z = rng.normal(size=(13, 7)).astype(dtype)
    g = rng.normal(size=(13, 7)).astype(dtype)
    specials = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    z[0, :5], g[1, :5] = specials, specials
    g[2, :5] = [np.inf, -np.inf, np.nan, -0.0, 0.0]
    z[2, :5] = [-1.0, -2.0, 3.0, -4.0, 5.0]  # inf * 0 is NaN in both
    b = rng.normal(size=7).astype(dtype)
    b[3] = np.nan
    expected = z + b
    summed = z.copy()
    _rowops.add_bias(summed, b)
    np.testing.assert_array_equal(summed, expected, strict=True)
    out = np.full_like(z, 7.0)
    with np.errstate(invalid="ignore"):  # inf * 0
        got = _rowops.relu_backward(z, g, out)
        reference = g * (z > 0).astype(dtype)
    np.testing.assert_array_equal(got, reference, strict=True)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(reference))
    assert got is out
    # non-contiguous arrays take NumPy's path
    wide = np.zeros((13, 14), dtype)
    view = wide[:, ::2]
    view[...] = z
    _rowops.add_bias(view, b)
    np.testing.assert_array_equal(view, expected, strict=True)


@pytest.mark.parametrize("name", ["subtract", "divide", "multiply"])
def test_column_op_equals_the_broadcast_ufunc_bitwise(name, compiled) -> None:
    rng = np.random.default_rng(6)
    for dtype in (np.float32, np.float64):
        a = rng.normal(size=(11, 5)).astype(dtype)
        col = rng.normal(size=(11, 1)).astype(dtype)
        a[0, :4] = [np.nan, np.inf, -0.0, 0.0]
        col[1:5, 0] = [0.0, -0.0, np.inf, np.nan]
        with np.errstate(all="ignore"):
            expected = getattr(np, name)(a, col)
            out = np.full_like(a, 3.0)
            got = _rowops.column_op(name, a, col, out)
            in_place = a.copy()
            _rowops.column_op(name, in_place, col, in_place)
        assert got is out
        for result in (got, in_place):
            np.testing.assert_array_equal(result, expected, strict=True)
            np.testing.assert_array_equal(np.signbit(result), np.signbit(expected))


@pytest.mark.parametrize(("epochs", "loaded"), [(3, False), (50, True)])
def test_a_short_training_run_does_not_import_numba_for_the_row_kernels(epochs, loaded):
    # (QA: a 3-epoch fit on 20,000 rows took 0.31 s in a new process, 0.24 of them
    # numba's import and loading for kernels that save ~7 ms an epoch; the row kernels give
    # NumPy's bits, so which runs changes no result)
    import subprocess
    import sys

    pytest.importorskip("numba")
    code = (
        "import sys, numpy as np, deltarule as dr\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(20000, 50)); y = np.eye(2)[rng.integers(0, 2, 20000)]\n"
        "net = dr.Network([50, 100, 2], output_activation='softmax', seed=0)\n"
        f"net.fit(X, y, epochs={epochs}, batch_size=200, verbose=0, warn_convergence=False)\n"
        "print('numba' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(loaded)
