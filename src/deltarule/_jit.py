"""The numba kernels, in one module imported only when a kernel first runs.

numba costs ~0.3 s to import, so no module imports this one at its top: the modules that
use a kernel (:mod:`deltarule._compiled`, :mod:`deltarule._rowops`,
:mod:`deltarule._minibatch`) import it lazily. Every kernel is a module-level function so
that numba's on-disk cache (``cache=True``) finds it again in the next process: a
kernel defined inside a factory function refers to its helpers through closure cells,
which numba's cache key cannot reproduce, so it would be compiled again in every process.
"""

# ruff: noqa: ANN001, ANN202

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

jit = njit(cache=True, nogil=True, error_model="numpy")


# --------------------------------------------------------------- NumPy's own gemm
@intrinsic
def _cblas_gemm(typingctx, address, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc):
    """Call the row-major ``cblas_?gemm`` at ``address`` (ILP64): C = op(A) op(B).

    The function's address is an argument, not a constant, so that numba's disk cache can
    keep the compiled kernel (the library loads at another address in the next process).
    """
    sig = types.void(address, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc)

    def codegen(context, builder, signature, args):
        i32, i64, ptr = ir.IntType(32), ir.IntType(64), cgutils.voidptr_t
        real = context.get_value_type(signature.args[6].dtype)
        fnty = ir.FunctionType(
            ir.VoidType(), [i32, i32, i32, i64, i64, i64, real, ptr, i64, ptr, i64, real, ptr, i64]
        )

        def integer(index, width):
            value = context.cast(builder, args[index], signature.args[index], types.int64)
            return builder.trunc(value, i32) if width == 32 else value

        def data(index):
            array = context.make_array(signature.args[index])(context, builder, args[index])
            return builder.bitcast(array.data, ptr)

        function = builder.inttoptr(integer(0, 64), fnty.as_pointer())
        one, zero = ir.Constant(real, 1.0), ir.Constant(real, 0.0)
        builder.call(
            function,
            [ir.Constant(i32, 101), integer(1, 32), integer(2, 32), integer(3, 64), integer(4, 64),
             integer(5, 64), one, data(6), integer(7, 64), data(8), integer(9, 64), zero, data(10),
             integer(11, 64)],
        )  # fmt: skip
        return context.get_dummy_value()

    return sig, codegen


@jit
def matmul(gemm, a, trans_a, b, trans_b, out):
    """``out = op(a) @ op(b)`` for C-contiguous 2-D arrays, op the transpose where asked.

    With ``gemm`` the address of NumPy's ``cblas_?gemm``, the call ``np.matmul`` makes for
    the same operands (bit for bit the same product); with 0, numba's ``np.dot``.
    """
    if gemm != 0:
        k = a.shape[0] if trans_a else a.shape[1]
        _cblas_gemm(gemm, 112 if trans_a else 111, 112 if trans_b else 111, out.shape[0],
                    out.shape[1], k, a, a.shape[1], b, b.shape[1], out, out.shape[1])  # fmt: skip
    elif trans_a:
        np.dot(a.T, b, out)
    elif trans_b:
        np.dot(a, b.T, out)
    else:
        np.dot(a, b, out)


# ------------------------------------------------------------ online SGD (batch size 1)
@njit(cache=True, nogil=True)
def online_act(code, z):
    if code == 1:
        if z >= 0:
            return 1.0 / (1.0 + np.exp(-z))
        e = np.exp(z)
        return e / (1.0 + e)
    if code == 2:
        return np.tanh(z)
    if code == 3:
        return z if z > 0 else 0.0
    if code == 4:
        return z if z > 0 else 0.01 * z
    return z


@njit(cache=True, nogil=True)
def online_slope(code, z, a):
    if code == 1:
        return a * (1.0 - a)
    if code == 2:
        return 1.0 - a * a
    if code == 3:
        return 1.0 if z > 0 else 0.0
    if code == 4:
        return 1.0 if z > 0 else 0.01
    return 1.0


@njit(cache=True, nogil=True)
def online_forward(params, spec, x, zbuf, abuf):
    w_off, b_off, n_in, n_out, codes, z_off = spec
    for lay in range(w_off.shape[0]):
        zo = z_off[lay]
        for j in range(n_out[lay]):
            acc = params[b_off[lay] + j] if b_off[lay] >= 0 else 0.0
            base = w_off[lay] + j * n_in[lay]
            for i in range(n_in[lay]):
                xi = x[i] if lay == 0 else abuf[z_off[lay - 1] + i]
                acc += params[base + i] * xi
            zbuf[zo + j] = acc
            if codes[lay] != 5:
                abuf[zo + j] = online_act(codes[lay], acc)
        if codes[lay] == 5:  # softmax over the output row
            m = zbuf[zo]
            for j in range(n_out[lay]):
                m = max(m, zbuf[zo + j])
            s = 0.0
            for j in range(n_out[lay]):
                abuf[zo + j] = np.exp(zbuf[zo + j] - m)
                s += abuf[zo + j]
            for j in range(n_out[lay]):
                abuf[zo + j] /= s


@njit(cache=True, nogil=True)
def online_output_delta(loss, code, y, zo, k, zbuf, abuf, dbuf):
    e = 0.0
    if loss == 3:  # softmax + cross-entropy from the logits (log-sum-exp)
        m = zbuf[zo]
        for j in range(k):
            m = max(m, zbuf[zo + j])
        s = 0.0
        t_sum = 0.0
        for j in range(k):
            s += np.exp(zbuf[zo + j] - m)
            t_sum += y[j]
        lse = m + np.log(s)
        for j in range(k):
            e -= y[j] * (zbuf[zo + j] - lse)
            dbuf[zo + j] = abuf[zo + j] * t_sum - y[j]
        return e
    for j in range(k):
        z, a, t = zbuf[zo + j], abuf[zo + j], y[j]
        if loss == 2:  # sigmoid + binary cross-entropy from the logits
            e += (max(z, 0.0) - z * t + np.log1p(np.exp(-abs(z)))) / k
            dbuf[zo + j] = (a - t) / k
        elif loss == 1:
            e += (a - t) * (a - t) / k
            dbuf[zo + j] = 2.0 * (a - t) / k * online_slope(code, z, a)
        else:
            e += 0.5 * (a - t) * (a - t)
            dbuf[zo + j] = (a - t) * online_slope(code, z, a)
    return e


@njit(cache=True, nogil=True)
def online_squared_weights(params, spec):
    w_off, b_off, n_in, n_out, codes, z_off = spec
    total = 0.0
    for lay in range(w_off.shape[0]):
        for i in range(w_off[lay], w_off[lay] + n_in[lay] * n_out[lay]):
            total += params[i] * params[i]
    return total


@njit(cache=True, nogil=True)
def online_update(params, spec, trainable, x, lr, abuf, dbuf, gsum, decay):
    w_off, b_off, n_in, n_out, codes, z_off = spec
    n_layers = w_off.shape[0]
    for lay in range(n_layers - 1, 0, -1):  # hidden deltas, before any weight moves
        zo, zp = z_off[lay], z_off[lay - 1]
        for i in range(n_in[lay]):
            acc = 0.0
            for j in range(n_out[lay]):
                acc += dbuf[zo + j] * params[w_off[lay] + j * n_in[lay] + i]
            a = abuf[zp + i]  # for every kernel activation, f'(z) is a function of a
            dbuf[zp + i] = acc * online_slope(codes[lay - 1], a, a)
    for lay in range(n_layers):
        zo = z_off[lay]
        for j in range(n_out[lay]):
            d = dbuf[zo + j]
            base = w_off[lay] + j * n_in[lay]
            for i in range(n_in[lay]):
                xi = x[i] if lay == 0 else abuf[z_off[lay - 1] + i]
                g = d * xi + decay * params[base + i]  # the L2 term: the weight before the step
                if trainable[base + i]:
                    gsum[base + i] += g
                    params[base + i] -= lr * g
            if b_off[lay] >= 0 and trainable[b_off[lay] + j]:
                gsum[b_off[lay] + j] += d
                params[b_off[lay] + j] -= lr * d


@njit(cache=True, nogil=True)
def online_epochs(
    params, spec, loss, trainable, X, Y, orders, lr, target, losses, norms, scale, decay
):  # noqa: E501
    z_off = spec[5]
    n_layers = spec[0].shape[0]
    total = z_off[n_layers]
    zbuf = np.empty(total, params.dtype)
    abuf = np.empty(total, params.dtype)
    dbuf = np.empty(total, params.dtype)
    gsum = np.zeros(params.shape[0], np.float64)
    n, k = X.shape[0], Y.shape[1]
    zo = z_off[n_layers - 1]
    out_code = spec[4][n_layers - 1]
    for epoch in range(losses.shape[0]):
        esum = 0.0
        gsum[:] = 0.0
        for step in range(n):
            s = orders[epoch, step] if orders.shape[0] > 0 else step
            online_forward(params, spec, X[s], zbuf, abuf)
            e = online_output_delta(loss, out_code, Y[s], zo, k, zbuf, abuf, dbuf)
            if scale != 1.0:  # a scaled objective (scikit-learn's): scale E and delta
                e *= scale
                for j in range(k):
                    dbuf[zo + j] *= scale
            if decay != 0.0:  # E + decay/2 |W|^2, before the weights move
                e += 0.5 * decay * online_squared_weights(params, spec)
            esum += e
            online_update(params, spec, trainable, X[s], lr, abuf, dbuf, gsum, decay)
        losses[epoch] = esum / n
        norms[epoch] = np.sqrt(np.sum((gsum / n) ** 2))
        if not np.isfinite(losses[epoch]) or losses[epoch] <= target:
            return epoch + 1
    return losses.shape[0]


# ----------------------------------------------------------------------- Adam
# error_model="numpy": a division by zero gives inf/nan as NumPy's does instead of
# raising, which also lets LLVM vectorise the loop (about 3x faster).
@jit
def adam(params, grad, m, v, b1, c1, b2, c2, eps_c, k, tiny, total, accumulate, decay):
    # The NumPy passes' operations in the same order, one element at a time; every
    # scalar arrives in the arrays' dtype, so float32 stays float32. Moments below
    # ``tiny`` are stored as (signed) zero after the step, as _flush_subnormal does.
    # ``decay`` is AdamW's factor on the weights before the step (1, exact, for Adam).
    zero = b1 - b1
    for i in range(params.shape[0]):
        g = grad[i]
        if accumulate:
            total[i] += g
        mi = m[i] * b1 + g * c1
        vi = v[i] * b2 + (g * g) * c2
        params[i] = params[i] * decay - mi / (np.sqrt(vi) + eps_c) * k
        m[i] = mi * zero if abs(mi) < tiny else mi
        v[i] = vi * zero if abs(vi) < tiny else vi


# ------------------------------------------------------------------- row kernels
@jit
def pairwise_block(a, lo, n):  # NumPy's pairwise_sum of a[lo:lo + n] for n <= 128
    if n < 8:
        res = -a.dtype.type(0)
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i, stop = 8, n - n % 8
    while i < stop:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@jit
def pairwise(a, lo, n):
    """NumPy's ``pairwise_sum`` of ``a[lo:lo + n]``: blocks of at most 128 elements, and
    above that sum(first half) + sum(second half), the half rounded down to a multiple of 8.
    """
    if n <= 128:
        return pairwise_block(a, lo, n)
    return pairwise_tree(a, lo, n, np.empty((64, 3), np.int64), np.empty(65, a.dtype))


@jit
def pairwise_tree(a, lo, n, frames, values):
    """:func:`pairwise` in caller-owned work space: ``frames`` (64, 3) int64, ``values`` (65,)
    of ``a``'s dtype (a hot loop allocates them once).

    NumPy recurses; this walks the same tree with an explicit stack (numba's cache cannot
    hold a recursive function). A frame is (start, size, how far it has got).
    """
    if n <= 128:
        return pairwise_block(a, lo, n)
    top, count = 0, 0
    frames[0, 0], frames[0, 1], frames[0, 2] = lo, n, 0
    while top >= 0:
        start, size, phase = frames[top, 0], frames[top, 1], frames[top, 2]
        if size <= 128:
            values[count] = pairwise_block(a, start, size)
            count += 1
            top -= 1
            continue
        half = size // 2
        half -= half % 8
        if phase < 2:  # the first half next, then the second
            frames[top, 2] = phase + 1
            top += 1
            frames[top, 0] = start if phase == 0 else start + half
            frames[top, 1] = half if phase == 0 else size - half
            frames[top, 2] = 0
        else:  # both done: their sum, in NumPy's order
            count -= 1
            values[count - 1] = values[count - 1] + values[count]
            top -= 1
    return values[0]


@jit
def row_sum(a, out):  # out (n, 1) = a.sum(axis=1, keepdims=True)
    zero = a.dtype.type(0)
    for i in range(a.shape[0]):
        out[i, 0] = zero + pairwise(a[i], 0, a.shape[1])


@jit
def add_bias(z, b):
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[i, j] += b[j]


@jit
def relu(z, out):  # np.maximum(z, 0): -0.0 gives +0.0, NaN stays
    zero = z.dtype.type(0)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            x = z[i, j]
            out[i, j] = x if (x > zero or x != x) else zero


@jit
def relu_backward(z, g, out):
    one, zero = g.dtype.type(1), g.dtype.type(0)  # the derivative in g's dtype
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            out[i, j] = g[i, j] * (one if z[i, j] > 0 else zero)


@jit
def column_op(a, col, out, op):
    for i in range(a.shape[0]):
        c = col[i, 0]
        for j in range(a.shape[1]):
            if op == 0:
                out[i, j] = a[i, j] - c
            elif op == 1:
                out[i, j] = a[i, j] / c
            else:
                out[i, j] = a[i, j] * c


@jit
def subtract_row_max(z, out, m):
    for i in range(z.shape[0]):
        top = z[i, 0]
        for j in range(1, z.shape[1]):
            if top != top:  # NaN wins, as in np.max
                break
            x = z[i, j]
            if x >= top or x != x:
                top = x
        m[i, 0] = top
        for j in range(z.shape[1]):
            out[i, j] = z[i, j] - top


@jit
def divide_by_row_sum(e, out):
    zero = e.dtype.type(0)
    for i in range(e.shape[0]):
        s = zero + pairwise(e[i], 0, e.shape[1])
        for j in range(e.shape[1]):
            out[i, j] = e[i, j] / s


@jit
def cross_entropy_rows(z, t, m, log_s, work, out):
    zero = z.dtype.type(0)
    for i in range(z.shape[0]):
        lse = m[i, 0] + log_s[i, 0]
        for j in range(z.shape[1]):
            work[i, j] = t[i, j] * (z[i, j] - lse)
        out[i] = -(zero + pairwise(work[i], 0, z.shape[1]))


@jit
def cce_delta(o, t, out):
    zero = o.dtype.type(0)
    for i in range(o.shape[0]):
        s = zero + pairwise(t[i], 0, t.shape[1])
        for j in range(o.shape[1]):
            out[i, j] = o[i, j] * s - t[i, j]


# ---------------------------------------------------------- mini-batch steps
@jit
def activate(code, z, a):  # a = f(z), element-wise, 1-D views
    zero, one = z.dtype.type(0), z.dtype.type(1)
    if code == 0:
        a[:] = z
    elif code == 1:
        for i in range(z.shape[0]):
            a[i] = one / (one + np.exp(-z[i]))
    elif code == 2:
        for i in range(z.shape[0]):
            a[i] = np.tanh(z[i])
    elif code == 4:  # leaky ReLU: np.where(z > 0, z, z * 0.01)
        slope = z.dtype.type(0.01)
        for i in range(z.shape[0]):
            x = z[i]
            a[i] = x if x > zero else x * slope
    else:  # np.maximum(z, 0): -0.0 gives +0.0, NaN stays
        for i in range(z.shape[0]):
            x = z[i]
            a[i] = x if (x > zero or x != x) else zero


@jit
def derivative(code, z, a, d):  # d *= f'(z), as the plain path
    zero, one = z.dtype.type(0), z.dtype.type(1)
    if code == 0:
        for i in range(d.shape[0]):
            d[i] = d[i] * one
    elif code == 1:
        for i in range(d.shape[0]):
            d[i] = d[i] * (a[i] * (one - a[i]))
    elif code == 2:
        for i in range(d.shape[0]):
            d[i] = d[i] * (one - a[i] * a[i])
    elif code == 4:
        slope = z.dtype.type(0.01)
        for i in range(d.shape[0]):
            d[i] = d[i] * (one if z[i] > zero else slope)
    else:
        for i in range(d.shape[0]):
            d[i] = d[i] * (one if z[i] > zero else zero)


@jit
def weight_penalty(params, grad, sizes, w_off, b_off, c, masked_biases):
    """``grad += c * w`` over every layer's weights; returns the sum of their squares (each
    layer's in the arrays' dtype, in order, then summed in float64). With
    ``masked_biases``, also ``grad += c * (b * 0)`` over the biases: the trainer multiplies
    the whole vector by its weight mask, and the biases' signed zeros follow NumPy's."""
    zero = c - c
    squares = 0.0
    for layer in range(sizes.shape[0] - 1):
        acc = zero
        for j in range(w_off[layer], w_off[layer] + sizes[layer] * sizes[layer + 1]):
            w_j = params[j]
            grad[j] += c * w_j
            acc += w_j * w_j
        squares += acc
        if masked_biases and b_off[layer] >= 0:
            for j in range(b_off[layer], b_off[layer] + sizes[layer + 1]):
                grad[j] += c * (params[j] * zero)
    return squares


# fmt: off
@jit
def minibatch_steps(
    X, Y, order, first, n_steps, bs,                    # data and which steps
    sizes, w_off, b_off, codes, pair, gemm,             # the network, NumPy's gemm
    loss_scale, alpha, l2,                              # its objective's terms
    params, grad, total,                                # flat buffers
    opt, rate, b1, c1, b2, c2, eps_c, k, flush, m, v, decay,  # the update
    zbuf, abuf, dbuf, xbuf, ybuf, per_sample, act_off,  # work space
    outputs, losses,                                    # results
):
    # fmt: on
    """``n_steps`` training steps on batches of ``bs`` rows from position ``first`` of
    ``order`` (the data's rows in order when ``order`` is empty).

    Each step: gather, forward, loss (into ``losses``; a non-finite one ends the run
    before its update), backward into ``grad``, update (``opt`` 0: SGD at ``rate``; 1 and
    4: Adam and AdamW with the per-step constants ``eps_c``, ``k``, ``flush``, AdamW's
    weights first times ``decay``; 2 and 3: momentum and Nesterov, velocity ``m``, decay
    ``b1``; 5: RMSprop, mean square ``v``, decay ``b2``; 6: Adagrad, sum of squares ``v``;
    5 and 6 with ``eps_c`` as epsilon), gradient sum into ``total``. The objective is
    ``loss_scale`` times the loss plus ``alpha / (2 nb)`` times the squared weights of a
    batch of ``nb`` rows (:meth:`Network.objective_terms`), plus the trainer's
    ``l2 / 2`` times the squared weights. See :mod:`deltarule._minibatch`. Returns (steps
    run, updates made).
    """
    t = params.dtype.type
    zero, one, half, two = t(0), t(1), t(0.5), t(2)
    n_layers = sizes.shape[0] - 1
    n_in, n_out = sizes[0], sizes[n_layers]
    frames, values = np.empty((64, 3), np.int64), np.empty(65, params.dtype)  # batch means
    for step in range(n_steps):
        start = first + step * bs
        nb = min(bs, X.shape[0] - start)  # the last batch may be smaller
        per_row = t(1.0 / nb)  # each row's share of the batch mean (batch_scale)
        if order.shape[0] == 0:  # in order: the batch is a slice of the data
            xb = X[start : start + nb]
            yb = Y[start : start + nb]
        else:  # shuffled: gather its rows
            xb = xbuf[: nb * n_in].reshape(nb, n_in)
            yb = ybuf[: nb * n_out].reshape(nb, n_out)
            for r in range(nb):
                row = order[start + r]
                xb[r, :] = X[row, :]
                yb[r, :] = Y[row, :]
        # ---------------------------------------------------------------- forward
        prev = xb
        for layer in range(n_layers):
            fan_in, width = sizes[layer], sizes[layer + 1]
            w = params[w_off[layer] : w_off[layer] + width * fan_in].reshape(width, fan_in)
            size = nb * width
            z = zbuf[act_off[layer] : act_off[layer] + size].reshape(nb, width)
            a = abuf[act_off[layer] : act_off[layer] + size].reshape(nb, width)
            matmul(gemm, prev, False, w, True, z)
            if b_off[layer] >= 0:
                b = params[b_off[layer] : b_off[layer] + width]
                for i in range(nb):
                    for j in range(width):
                        z[i, j] += b[j]
            if layer < n_layers - 1:
                activate(codes[layer], z.ravel(), a.ravel())
            prev = a
        # ----------------------------------------------- output, loss and its delta
        last = n_layers - 1
        size = nb * n_out
        z = zbuf[act_off[last] : act_off[last] + size].reshape(nb, n_out)
        o = abuf[act_off[last] : act_off[last] + size].reshape(nb, n_out)
        d = dbuf[act_off[last] : act_off[last] + size].reshape(nb, n_out)
        for i in range(nb):
            if pair == 0:  # softmax + categorical cross-entropy, from the logits
                top = z[i, 0]
                for j in range(1, n_out):
                    if top != top:
                        break
                    x = z[i, j]
                    if x >= top or x != x:
                        top = x
                for j in range(n_out):
                    d[i, j] = np.exp(z[i, j] - top)
                s = zero + pairwise(d[i], 0, n_out)
                for j in range(n_out):
                    o[i, j] = d[i, j] / s
                lse = top + np.log(s)
                for j in range(n_out):
                    d[i, j] = yb[i, j] * (z[i, j] - lse)
                per_sample[i] = -(zero + pairwise(d[i], 0, n_out))
                ts = zero + pairwise(yb[i], 0, n_out)
                for j in range(n_out):
                    d[i, j] = (o[i, j] * ts - yb[i, j]) * per_row
            elif pair == 1:  # logistic + binary cross-entropy, from the logits
                for j in range(n_out):
                    x = z[i, j]
                    o[i, j] = one / (one + np.exp(-x))
                    d[i, j] = (max(x, zero) - x * yb[i, j]) + np.log1p(np.exp(-abs(x)))
                per_sample[i] = (zero + pairwise(d[i], 0, n_out)) / t(n_out)
                for j in range(n_out):
                    d[i, j] = (o[i, j] - yb[i, j]) / t(n_out) * per_row
            elif pair == 2:  # identity + half squared error
                acc = zero
                for j in range(n_out):
                    o[i, j] = z[i, j]
                    r = z[i, j] - yb[i, j]
                    acc += r * r
                    d[i, j] = r * per_row
                per_sample[i] = half * acc
            else:  # identity + mean squared error: 2 (o - t) / n_out per row
                acc = zero
                for j in range(n_out):
                    o[i, j] = z[i, j]
                    r = z[i, j] - yb[i, j]
                    acc += r * r
                    d[i, j] = (two * r / t(n_out)) * per_row
                per_sample[i] = acc / t(n_out)
        loss = (zero + pairwise_tree(per_sample, 0, nb, frames, values)) / t(nb)
        # --------------------------------------------------------------- backward
        for layer in range(last, -1, -1):
            fan_in, width = sizes[layer], sizes[layer + 1]
            size = nb * width
            d = dbuf[act_off[layer] : act_off[layer] + size].reshape(nb, width)
            if layer < last:  # d = dE/da (in d already) times f'(z)
                z = zbuf[act_off[layer] : act_off[layer] + size].reshape(nb, width)
                a = abuf[act_off[layer] : act_off[layer] + size].reshape(nb, width)
                derivative(codes[layer], z.ravel(), a.ravel(), d.ravel())
            if layer == 0:
                prev = xb
            else:
                below = act_off[layer - 1]
                prev = abuf[below : below + nb * fan_in].reshape(nb, fan_in)
            g = grad[w_off[layer] : w_off[layer] + width * fan_in].reshape(width, fan_in)
            matmul(gemm, d, True, prev, False, g)
            if b_off[layer] >= 0:
                gb = grad[b_off[layer] : b_off[layer] + width]
                gb[:] = zero
                for i in range(nb):
                    for j in range(width):
                        gb[j] += d[i, j]
            if layer > 0:
                w = params[w_off[layer] : w_off[layer] + width * fan_in].reshape(width, fan_in)
                below = act_off[layer - 1]
                grad_in = dbuf[below : below + nb * fan_in].reshape(nb, fan_in)
                matmul(gemm, d, False, w, False, grad_in)
        # ---------------- the network's objective: c E + alpha / (2 nb) |W|^2 (its own order)
        value = float(loss) * loss_scale
        if loss_scale != 1.0:
            c = t(loss_scale)
            for i in range(params.shape[0]):
                grad[i] = grad[i] * c
        if alpha != 0.0:
            coef = alpha / nb
            value += 0.5 * coef * weight_penalty(params, grad, sizes, w_off, b_off, t(coef), False)
        if l2 != 0.0:  # the trainer's penalty: grad += l2 * (params * weight mask)
            value += 0.5 * l2 * weight_penalty(params, grad, sizes, w_off, b_off, t(l2), True)
        losses[step] = value
        if not np.isfinite(value):
            return step + 1, step  # steps run, updates made
        if outputs.shape[0] > 0:
            for i in range(nb):
                outputs[start + i, :] = o[i, :]
        # ----------------------------------------------------------------- update
        whole = nb == bs  # else the gradient sum gains grad * (nb / bs), after the update
        if opt == 1 or opt == 4:
            adam(params, grad, m, v, b1, c1, b2, c2, eps_c[step], k[step], flush[step],
                 total, whole, decay)  # fmt: skip
        elif opt >= 5:  # RMSprop or Adagrad: NumPy's passes' order
            eps = eps_c[step]
            for i in range(params.shape[0]):
                gi = grad[i]
                si = v[i] * b2 + (gi * gi) * c2 if opt == 5 else v[i] + gi * gi
                v[i] = si
                params[i] -= gi / (np.sqrt(si) + eps) * rate
                if whole:
                    total[i] += gi
        else:  # SGD, momentum (velocity in m, decay b1) or Nesterov: NumPy's passes' order
            for i in range(params.shape[0]):
                gi = grad[i]
                if opt == 0:
                    params[i] -= gi * rate
                else:
                    vi = m[i] * b1 + gi
                    m[i] = vi
                    if opt == 2:
                        params[i] -= vi * rate
                    else:
                        params[i] -= (vi * b1 + gi) * rate
                if whole:
                    total[i] += gi
        if not whole:
            factor = t(nb / bs)
            for i in range(params.shape[0]):
                total[i] += grad[i] * factor
    return n_steps, n_steps
