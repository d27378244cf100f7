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


@intrinsic
def _jit_gemm(typingctx, address, jitter, a, b, c):
    """Call MKL's compiled product kernel at ``address``, ``void f(void *jitter, T *a, T
    *b, T *c)``, with the first elements of ``a``, ``b`` and ``c`` (see
    :func:`deltarule._mkl.jit_product`)."""
    sig = types.void(address, jitter, a, b, c)

    def codegen(context, builder, signature, args):
        ptr = cgutils.voidptr_t
        fnty = ir.FunctionType(ir.VoidType(), [ptr, ptr, ptr, ptr])

        def pointer(index):
            value = context.cast(builder, args[index], signature.args[index], types.int64)
            return builder.inttoptr(value, ptr)

        def data(index):
            array = context.make_array(signature.args[index])(context, builder, args[index])
            return builder.bitcast(array.data, ptr)

        function = builder.bitcast(pointer(0), fnty.as_pointer())
        builder.call(function, [pointer(1), data(2), data(3), data(4)])
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
# Every value is computed in the network's dtype, as the NumPy path computes it: a literal
# such as 0.0 or 1.0 would make numba promote float32 to float64, so the constants are
# made with ``like.dtype.type`` from an array of that dtype. The small functions called for
# every example or neuron are inlined (inline="always"): numba does not inline calls between
# cached functions, and their calls were a third of a 2-2-2 network's update (measured).
@njit(cache=True, nogil=True, inline="always")
def online_act(code, z, like):
    one, zero = like.dtype.type(1), like.dtype.type(0)
    if code == 1:
        if z >= zero:
            return one / (one + np.exp(-z))
        e = np.exp(z)
        return e / (one + e)
    if code == 2:
        return np.tanh(z)
    if code == 3:  # np.maximum(z, 0): -0.0 gives +0.0, NaN stays
        return z if (z > zero or z != z) else zero
    if code == 4:  # np.where(z > 0, z, 0.01 z): NaN gives 0.01 NaN
        return z if z > zero else z * like.dtype.type(0.01)
    return z


@njit(cache=True, nogil=True, inline="always")
def online_slope(code, z, a, like):
    one, zero = like.dtype.type(1), like.dtype.type(0)
    if code == 1:
        return a * (one - a)
    if code == 2:
        return one - a * a
    if code == 3:  # (z > 0): 0 at NaN
        return one if z > zero else zero
    if code == 4:
        return one if z > zero else like.dtype.type(0.01)
    return one


@njit(cache=True, nogil=True, inline="always")
def online_forward(params, spec, x, zbuf, abuf):
    # z = x W^T + b as the NumPy path orders it: the products' sum, then the bias
    w_off, b_off, n_in, n_out, codes, z_off = spec
    zero = zbuf.dtype.type(0)
    for lay in range(w_off.shape[0]):
        zo = z_off[lay]
        for j in range(n_out[lay]):
            acc = zero
            base = w_off[lay] + j * n_in[lay]
            for i in range(n_in[lay]):
                xi = x[i] if lay == 0 else abuf[z_off[lay - 1] + i]
                acc += params[base + i] * xi
            if b_off[lay] >= 0:
                acc += params[b_off[lay] + j]
            zbuf[zo + j] = acc
            if codes[lay] != 5:
                abuf[zo + j] = online_act(codes[lay], acc, zbuf)
        if codes[lay] == 5:  # softmax over the output row
            m = zbuf[zo]
            for j in range(n_out[lay]):
                z = zbuf[zo + j]
                m = z if (z > m or z != z) else m  # np.max: NaN wins
            s = zero
            for j in range(n_out[lay]):
                abuf[zo + j] = np.exp(zbuf[zo + j] - m)
                s += abuf[zo + j]
            for j in range(n_out[lay]):
                abuf[zo + j] /= s


@njit(cache=True, nogil=True)
def online_output_delta(loss, code, y, zo, k, zbuf, abuf, dbuf):
    # The example's loss, in the network's dtype, and dE/dz of the output layer in dbuf
    zero, half, two = zbuf.dtype.type(0), zbuf.dtype.type(0.5), zbuf.dtype.type(2)
    kf = zbuf.dtype.type(k)
    e = zero
    if loss == 3:  # softmax + cross-entropy from the logits (log-sum-exp)
        m = zbuf[zo]
        for j in range(k):
            z = zbuf[zo + j]
            m = z if (z > m or z != z) else m
        s = zero
        t_sum = zero
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
            pos = z if (z > zero or z != z) else zero
            e += pos - z * t + np.log1p(np.exp(-abs(z)))
            dbuf[zo + j] = (a - t) / kf
        elif loss == 1:
            e += (a - t) * (a - t)
            dbuf[zo + j] = two * (a - t) / kf * online_slope(code, z, a, zbuf)
        else:
            e += (a - t) * (a - t)
            dbuf[zo + j] = (a - t) * online_slope(code, z, a, zbuf)
    if loss == 0:
        return half * e
    return e / kf


@njit(cache=True, nogil=True)
def online_squared_weights(params, spec):
    w_off, b_off, n_in, n_out, codes, z_off = spec
    total = params.dtype.type(0)
    for lay in range(w_off.shape[0]):
        for i in range(w_off[lay], w_off[lay] + n_in[lay] * n_out[lay]):
            total += params[i] * params[i]
    return total


@njit(cache=True, nogil=True, inline="always")  # (a call per parameter: inlined)
def online_step(params, vel, at, g, lr, mu, rule):
    # One parameter's step, the optimizer's NumPy operations in their order (each rounded
    # to the dtype): 0 SGD; PyTorch's 1 momentum, 2 Nesterov; scikit-learn's 3 momentum,
    # 4 Nesterov (deltarule.optimizers.sgd, deltarule.sklearn._solvers.SklearnSGD).
    if rule == 0:
        params[at] -= lr * g
    elif rule == 1:
        v = vel[at] * mu
        v = v + g
        vel[at] = v
        params[at] -= v * lr
    elif rule == 2:
        v = vel[at] * mu
        v = v + g
        vel[at] = v
        s = v * mu
        s = s + g
        params[at] -= s * lr
    else:
        s = g * lr
        v = vel[at] * mu
        v = v - s
        vel[at] = v
        if rule == 3:
            params[at] += v
        else:
            p = params[at] - s
            params[at] = p + v * mu


@njit(cache=True, nogil=True, inline="always")  # (a call per parameter: inlined)
def online_frozen(params, vel, at, lr, mu, rule):
    # A frozen parameter's step as the NumPy path takes it: the optimizer's rule on a
    # gradient of 0 (its velocity decays), then the weight put back as it was.
    kept = params[at]
    online_step(params, vel, at, params.dtype.type(0), lr, mu, rule)
    params[at] = kept


@njit(cache=True, nogil=True, inline="always")  # (a call per example: half the speed)
def online_deltas(params, spec, abuf, dbuf):
    # The hidden layers' deltas, before any weight moves (the output's are in dbuf).
    w_off, b_off, n_in, n_out, codes, z_off = spec
    zero = params.dtype.type(0)
    for lay in range(w_off.shape[0] - 1, 0, -1):
        zo, zp = z_off[lay], z_off[lay - 1]
        for i in range(n_in[lay]):
            acc = zero
            for j in range(n_out[lay]):
                acc += dbuf[zo + j] * params[w_off[lay] + j * n_in[lay] + i]
            a = abuf[zp + i]  # for every kernel activation, f'(z) is a function of a
            dbuf[zp + i] = acc * online_slope(codes[lay - 1], a, a, params)


@njit(cache=True, nogil=True)
def online_update(params, spec, trainable, x, lr, abuf, dbuf, gsum, decay):
    # The delta rule's step. ``decay`` in the network's dtype; 0 adds no term (0 * an
    # infinite weight is NaN).
    w_off, b_off, n_in, n_out, codes, z_off = spec
    zero = params.dtype.type(0)
    online_deltas(params, spec, abuf, dbuf)
    for lay in range(w_off.shape[0]):
        zo = z_off[lay]
        for j in range(n_out[lay]):
            d = dbuf[zo + j]
            base = w_off[lay] + j * n_in[lay]
            for i in range(n_in[lay]):
                xi = x[i] if lay == 0 else abuf[z_off[lay - 1] + i]
                g = d * xi
                if decay != zero:  # the L2 term: the weight before the step
                    g += decay * params[base + i]
                if trainable[base + i]:
                    gsum[base + i] += g
                    params[base + i] -= lr * g
            if b_off[lay] >= 0 and trainable[b_off[lay] + j]:
                gsum[b_off[lay] + j] += d
                params[b_off[lay] + j] -= lr * d


@njit(cache=True, nogil=True)
def online_update_moving(params, spec, trainable, x, lr, abuf, dbuf, gsum, decay, vel, mu, rule):
    # online_update for a rule with a velocity (online_step's 1 to 4); a frozen
    # parameter's velocity decays (online_frozen). (The delta rule keeps its own loop:
    # through online_step's branches its updates ran at half the speed.)
    w_off, b_off, n_in, n_out, codes, z_off = spec
    zero = params.dtype.type(0)
    online_deltas(params, spec, abuf, dbuf)
    for lay in range(w_off.shape[0]):
        zo = z_off[lay]
        for j in range(n_out[lay]):
            d = dbuf[zo + j]
            base = w_off[lay] + j * n_in[lay]
            for i in range(n_in[lay]):
                xi = x[i] if lay == 0 else abuf[z_off[lay - 1] + i]
                g = d * xi
                if decay != zero:
                    g += decay * params[base + i]
                at = base + i
                if not trainable[at]:
                    online_frozen(params, vel, at, lr, mu, rule)
                    continue
                gsum[at] += g
                # online_step written out (its operations, in its order): through the
                # inlined call this loop ran at 22 ns a weight, written out at 2.5
                if rule == 1:
                    v = vel[at] * mu
                    v = v + g
                    vel[at] = v
                    params[at] -= v * lr
                elif rule == 2:
                    v = vel[at] * mu
                    v = v + g
                    vel[at] = v
                    s = v * mu
                    s = s + g
                    params[at] -= s * lr
                else:
                    s = g * lr
                    v = vel[at] * mu
                    v = v - s
                    vel[at] = v
                    if rule == 3:
                        params[at] += v
                    else:
                        p = params[at] - s
                        params[at] = p + v * mu
            if b_off[lay] >= 0:
                if trainable[b_off[lay] + j]:
                    gsum[b_off[lay] + j] += d
                    online_step(params, vel, b_off[lay] + j, d, lr, mu, rule)
                else:
                    online_frozen(params, vel, b_off[lay] + j, lr, mu, rule)


@njit(cache=True, nogil=True, inline="always")
def online_all_finite(a):
    for i in range(a.shape[0]):
        if not np.isfinite(a[i]):
            return False
    return True


@njit(cache=True, nogil=True)
def online_none_wrong(params, spec, X, labels, mode, cut, slack, xrow, zbuf, abuf):
    # False when the network surely classifies a row of X otherwise than ``labels`` says, by
    # AllCorrect's rule (deltarule.metrics.all_correct): ``mode`` 1, the largest output is
    # in column labels[r, 0]; mode 0, each output column is above ``cut`` where labels[r, j]
    # is 1. "Surely": NumPy's forward pass, which decides, sums in another order, so an
    # output within ``slack`` (relative, at least absolute) of the cut, or of the labelled
    # column's output, may be read either way, and a NaN one raises there: both decide
    # nothing here (True: NumPy is asked). Stops at the first row surely wrong.
    z_off, n_out = spec[5], spec[3]
    n_layers = n_out.shape[0]
    zo, k = z_off[n_layers - 1], n_out[n_layers - 1]
    for r in range(X.shape[0]):
        for i in range(xrow.shape[0]):
            xrow[i] = X[r, i]
        online_forward(params, spec, xrow, zbuf, abuf)
        if mode == 1:
            mine = float(abuf[zo + labels[r, 0]])
            for j in range(k):
                v = float(abuf[zo + j])
                if v > mine + slack * max(1.0, abs(v)):
                    return False
        else:
            for j in range(k):
                v = float(abuf[zo + j])
                far = abs(v - cut) > slack * max(1.0, abs(cut), abs(v))
                if far and (v > cut) != (labels[r, j] == 1):
                    return False
    return True


@njit(cache=True, nogil=True)
def online_epochs(
    params, spec, loss, trainable, X, Y, orders, lr, target, losses, norms, scale, decay, restore,
    outputs, best, best_loss, vel, mu, rule, best_vel, labels, mode, cut, slack,
):  # fmt: skip
    # As the NumPy loop: an example whose loss is not finite ends its epoch without an
    # update; an epoch whose mean loss or weights are not finite ends the run, its weights
    # restored to those of its start when ``restore`` (else left for the caller to see).
    # ``outputs`` of shape (epochs, n, k), or (0, 0, 0) for none, receives each example's
    # output before its update, in visiting order (what the NumPy loop scores metrics on).
    # ``best`` (the parameters' size, or 0 for none; needs ``restore``) receives the
    # starting weights of the last finished epoch whose loss is below ``best_loss`` and
    # every earlier one's (what the loop's BestStart keeps).
    # ``vel``, ``mu``, ``rule``: the optimizer's velocity (size 0 for plain SGD), momentum
    # and rule (online_step); with ``restore`` a failed epoch's velocity is restored too,
    # and ``best_vel`` (size 0 for none) receives the velocity at that best epoch's start.
    # ``labels`` (n, columns) of int64, or (0, 0) for none, with ``mode``, ``cut`` and
    # ``slack``: stop after the first finished epoch whose weights classify no example
    # surely wrongly (online_none_wrong; AllCorrect's rule, which NumPy then decides).
    # Returns (epochs run, updates made, diverged, that epoch's index or -1, whether the
    # last epoch may classify every example correctly).
    dt = params.dtype.type
    z_off = spec[5]
    n_layers = spec[0].shape[0]
    total = z_off[n_layers]
    zbuf = np.empty(total, params.dtype)
    abuf = np.empty(total, params.dtype)
    dbuf = np.empty(total, params.dtype)
    xrow, yrow = np.empty(X.shape[1], X.dtype), np.empty(Y.shape[1], Y.dtype)
    gsum = np.zeros(params.shape[0], params.dtype)
    last = np.empty(params.shape[0] if restore else 0, params.dtype)
    last_v = np.empty(vel.shape[0] if restore else 0, params.dtype)
    m = dt(mu)
    moving = vel.shape[0] > 0
    c, lam = dt(scale), dt(decay)
    n, k = X.shape[0], Y.shape[1]
    inv_n = dt(1.0 / n)
    zo = z_off[n_layers - 1]
    out_code = spec[4][n_layers - 1]
    updates = 0
    keep = outputs.shape[0] > 0
    keep_best = best.shape[0] > 0 and restore
    best_epoch = -1
    for epoch in range(losses.shape[0]):
        if restore:
            last[:] = params
            if moving:  # (a copy of nothing costs as much as a small one: an epoch's share)
                last_v[:] = vel
        esum = 0.0
        seen = n
        gsum[:] = 0
        for step in range(n):
            s = orders[epoch, step] if orders.shape[0] > 0 else step
            for i in range(xrow.shape[0]):  # (the row copied: a view X[s] costs more)
                xrow[i] = X[s, i]
            for j in range(k):
                yrow[j] = Y[s, j]
            online_forward(params, spec, xrow, zbuf, abuf)
            e = float(online_output_delta(loss, out_code, yrow, zo, k, zbuf, abuf, dbuf))
            if keep:
                for j in range(k):
                    outputs[epoch, step, j] = abuf[zo + j]
            if scale != 1.0:  # a scaled objective (scikit-learn's): scale E and delta
                e *= scale
                for j in range(k):
                    dbuf[zo + j] *= c
            if decay != 0.0:  # E + decay/2 |W|^2, before the weights move
                e += 0.5 * decay * float(online_squared_weights(params, spec))
            esum += e
            if not np.isfinite(e):
                seen = step + 1
                break
            if rule == 0:
                online_update(params, spec, trainable, xrow, lr, abuf, dbuf, gsum, lam)
            else:
                online_update_moving(
                    params, spec, trainable, xrow, lr, abuf, dbuf, gsum, lam, vel, m, rule
                )
            updates += 1
        losses[epoch] = esum / seen
        sq = dt(0)
        for i in range(gsum.shape[0]):
            g = gsum[i] * inv_n
            sq += g * g
        norms[epoch] = np.sqrt(sq)
        if not (np.isfinite(losses[epoch]) and online_all_finite(params)):
            if restore:
                params[:] = last
                vel[:] = last_v
            return epoch + 1, updates, True, best_epoch, False
        if keep_best and losses[epoch] < best_loss:
            best_loss = losses[epoch]
            best[:] = last
            if best_vel.shape[0] > 0:
                best_vel[:] = last_v
            best_epoch = epoch
        if losses[epoch] <= target:
            return epoch + 1, updates, False, best_epoch, False
        if labels.shape[0] > 0 and online_none_wrong(
            params, spec, X, labels, mode, cut, slack, xrow, zbuf, abuf
        ):
            return epoch + 1, updates, False, best_epoch, True
    return losses.shape[0], updates, False, best_epoch, False


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
# Block kernels: rows i0:i1 and columns lo:hi of row-major (rows, width) arrays given flat.
# Each row's span is taken as a view and walked from 0 (an index that may be negative, such
# as base + j, would keep LLVM from vectorising the loop).
# Each kernel below dispatches on the activation's code once and runs the rows through a
# loop inlined for that code (a test of the code inside the loops, which LLVM did not move
# out, made them 1.3-4x slower), each element's parts fused into one pass.
jit_inline = njit(cache=True, nogil=True, error_model="numpy", inline="always")


@jit_inline
def _forward_rows(code, zf, af, b, width, i0, i1, lo, hi):
    """:func:`forward_block` for one activation ``code`` (a constant where inlined)."""
    zero, one = zf.dtype.type(0), zf.dtype.type(1)
    slope = zf.dtype.type(0.01)
    n, bias = hi - lo, b.shape[0] > 0
    for i in range(i0, i1):
        z = zf[i * width + lo : i * width + hi]
        a = af[i * width + lo : i * width + hi]
        for j in range(n):
            x = z[j]
            if bias:
                x += b[j]
                if code == -1:  # (the output layer's z, the loss's input; a hidden layer's
                    z[j] = x  # z + b is not read again: its derivative reads a)
            if code == 0:
                a[j] = x
            elif code == 1:
                a[j] = one / (one + np.exp(-x))
            elif code == 2:
                a[j] = np.tanh(x)
            elif code == 3:
                a[j] = x if (x > zero or x != x) else zero
            elif code == 4:
                a[j] = x if x > zero else x * slope


@jit
def forward_block(code, zf, af, params, b_lo, width, i0, i1, lo, hi):
    """``a = f(z + b)`` (the biases at ``params[b_lo:]``; none when ``b_lo`` < 0) for the
    hidden activation ``code``, in NumPy's arithmetic: logistic 1 / (1 + exp(-z)), tanh,
    ReLU np.maximum(z, 0) (-0.0 gives +0.0, NaN stays), leaky ReLU np.where(z > 0, z,
    z * 0.01), identity a copy; ``z`` itself is left as the product wrote it (the backward
    pass reads ``a``). For ``code`` -1 (the output layer: the loss reads its ``z``) only
    ``z += b``."""
    b = params[b_lo + lo : b_lo + hi] if b_lo >= 0 else params[:0]
    if code == 3:
        _forward_rows(3, zf, af, b, width, i0, i1, lo, hi)
    elif code == 1:
        _forward_rows(1, zf, af, b, width, i0, i1, lo, hi)
    elif code == 2:
        _forward_rows(2, zf, af, b, width, i0, i1, lo, hi)
    elif code == 4:
        _forward_rows(4, zf, af, b, width, i0, i1, lo, hi)
    elif code == 0:
        _forward_rows(0, zf, af, b, width, i0, i1, lo, hi)
    else:
        _forward_rows(-1, zf, af, b, width, i0, i1, lo, hi)


@jit_inline
def _delta_rows(code, af, df, gb, nb, width, lo, hi):
    """:func:`deltas` for one activation ``code`` (a constant where inlined)."""
    zero, one = df.dtype.type(0), df.dtype.type(1)
    slope = df.dtype.type(0.01)
    n, bias = hi - lo, gb.shape[0] > 0
    for i in range(nb):
        d = df[i * width + lo : i * width + hi]
        a = af[i * width + lo : i * width + hi]
        for j in range(n):
            if code == 0:
                x = d[j] * one
            elif code == 1:
                x = d[j] * (a[j] * (one - a[j]))
            elif code == 2:
                x = d[j] * (one - a[j] * a[j])
            elif code == 3:  # (a > 0 exactly where z > 0: a = z there, 0 or NaN elsewhere)
                x = d[j] * (one if a[j] > zero else zero)
            elif code == 4:  # (a > 0 exactly where z > 0: a = 0.01 z, never > 0, elsewhere)
                x = d[j] * (one if a[j] > zero else slope)
            else:
                x = d[j]
            d[j] = x
            if bias:
                gb[j] += x


@jit
def deltas(code, af, df, grad, b_lo, nb, width, lo, hi):
    """Columns ``lo:hi`` of the deltas ``df``: dE/da times f'(z) of the hidden activation
    ``code`` as the plain path computes it, from the activations ``af`` (ReLU's and leaky
    ReLU's z > 0 read as a > 0, the same test; none when -1: the output layer), and their
    column sums, in row order, into the bias gradient at ``grad[b_lo:]`` (none when
    ``b_lo`` < 0), row by row while each row is in the cache."""
    gb = grad[b_lo + lo : b_lo + hi] if b_lo >= 0 else grad[:0]
    gb[:] = gb.dtype.type(0)
    if code == 3:
        _delta_rows(3, af, df, gb, nb, width, lo, hi)
    elif code == 1:
        _delta_rows(1, af, df, gb, nb, width, lo, hi)
    elif code == 2:
        _delta_rows(2, af, df, gb, nb, width, lo, hi)
    elif code == 4:
        _delta_rows(4, af, df, gb, nb, width, lo, hi)
    elif code == 0:
        _delta_rows(0, af, df, gb, nb, width, lo, hi)
    else:
        _delta_rows(-1, af, df, gb, nb, width, lo, hi)


# --------------------------------------------------- threads' meeting points
@intrinsic
def _atomic_store(typingctx, array, index, value):
    """``array[index] = value`` as a release store: it cannot move before earlier writes."""
    sig = types.void(array, index, value)

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature, args)
        item = context.cast(builder, args[2], signature.args[2], signature.args[0].dtype)
        builder.store_atomic(item, pointer, ordering="release", align=8)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _atomic_load(typingctx, array, index):
    """``array[index]`` as an acquire load: read afresh on every call, never hoisted."""
    sig = array.dtype(array, index)

    def codegen(context, builder, signature, args):
        pointer = _element_pointer(context, builder, signature, args)
        return builder.load_atomic(pointer, ordering="acquire", align=8)

    return sig, codegen


def _element_pointer(context, builder, signature, args):
    kind = signature.args[0]
    array = context.make_array(kind)(context, builder, args[0])
    index = context.cast(builder, args[1], signature.args[1], types.intp)
    return cgutils.get_item_pointer(context, builder, kind, array, [index])


@intrinsic
def _call(typingctx, address):
    """Call the C function ``int f(void)`` at ``address`` (the C library's sched_yield)."""
    sig = types.void(address)

    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.IntType(32), [])
        pointer = context.cast(builder, args[0], signature.args[0], types.int64)
        builder.call(builder.inttoptr(pointer, fnty.as_pointer()), [])
        return context.get_dummy_value()

    return sig, codegen


SPINS = 4096
"""Looks at a late thread's counter before a waiting thread starts giving its core away."""


@jit
def barrier(sync, tid, nthreads, count):
    """Thread ``tid`` arrives at its ``count``-th meeting point and waits until each of the
    ``nthreads`` threads has arrived there too: spinning (the others are usually a few
    microseconds away), then yielding its core after every look, in case the late thread
    is waiting for one (another process, or a BLAS pool still spinning, holds them).
    Returns False at once when the stop flag ``sync[0]`` is set (a thread could not start).
    Thread ``i``'s counter is ``sync[(i + 1) * stride]``, the stride the array's length over
    ``nthreads + 1`` (:data:`deltarule._minibatch.SYNC_STRIDE`, read from the array, not
    imported: numba's cache of this module would keep an imported constant's old value).
    """
    if nthreads == 1:
        return True
    stride = sync.shape[0] // (nthreads + 1)
    _atomic_store(sync, (tid + 1) * stride, count)
    for other in range(nthreads):
        if other != tid:
            looks = 0
            while _atomic_load(sync, (other + 1) * stride) < count:
                if _atomic_load(sync, 0) != 0:
                    return False
                looks += 1
                if looks > SPINS and sync[1] != 0:
                    _call(sync[1])
    return True


@jit
def product(gemm, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc):
    """``c = op(a) op(b)`` on flat arrays holding row-major matrices from their first
    element, with row strides ``lda``, ``ldb``, ``ldc`` (``c`` is ``m`` x ``n``, the inner
    dimension ``k``): a block of columns of a wider matrix is a slice and its stride.

    ``gemm`` is NumPy's ``cblas_?gemm`` (see :func:`matmul`); with 0, numba's ``np.dot``,
    for whole matrices only (each stride the width of its matrix: one thread).
    """
    if gemm != 0:
        _cblas_gemm(gemm, 112 if trans_a else 111, 112 if trans_b else 111, m, n, k, a, lda,
                    b, ldb, c, ldc)  # fmt: skip
    else:
        rows_a, rows_b = k if trans_a else m, n if trans_b else k
        left = a[: rows_a * lda].reshape(rows_a, lda)
        right = b[: rows_b * ldb].reshape(rows_b, ldb)
        matmul(0, left, trans_a, right, trans_b, c[: m * ldc].reshape(m, ldc))


@jit
def product_at(table, layer, kind, tid, full, gemm, trans_a, trans_b, m, n, k, a, lda, b, ldb, c,
               ldc):  # fmt: skip
    """:func:`product`, through MKL's compiled kernel for its shape where there is one:
    ``table[layer, kind, tid]`` holds (its address, its jitter, the column blocks of ``c``
    it computes one by one), for product ``kind`` (0 forward, 1 weight gradient, 2 input
    gradient) of layer ``layer`` in thread ``tid`` at a full batch (``full``; 0: none)."""
    entry = table[layer, kind, tid]
    if not full or entry[0] == 0:
        product(gemm, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc)
        return
    width = n // entry[2]
    for j in range(0, n, width):
        _jit_gemm(entry[0], entry[1], a, b[j * ldb if trans_b else j :], c[j:])


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc"})
def squares(params, lo, hi):
    """Sum of ``params[lo:hi]`` squared, in the arrays' dtype, in vector lanes' partial sums
    (``reassoc``: 20 times faster than a sum in order, whose every addition waits for the
    last; the plain step's ``w @ w`` is BLAS's grouping, neither of these). The grouping
    follows the processor's vector width, as BLAS's does: the loss value (not the gradient)
    may differ in its last bits between machines, never between runs on one."""
    a = params[lo:hi]
    acc = params.dtype.type(0)
    for j in range(a.shape[0]):
        acc += a[j] * a[j]
    return acc


@jit
def objective_gradient(params, grad, w_lo, w_hi, b_lo, b_hi, scale, coef, l2):
    """Turn the loss gradient of ``[w_lo, w_hi)`` (weights) and ``[b_lo, b_hi)`` (biases)
    into the objective's, element by element in the plain step's order: times the loss
    scale ``scale`` (unless 1), plus ``coef * w`` (the network's own L2 term, unless 0),
    plus ``l2 * w`` (the trainer's, unless 0; on the biases ``l2 * (b * 0)``, as the
    trainer's weight mask gives, signed zeros and all)."""
    objective_terms(params[w_lo:w_hi], grad[w_lo:w_hi], scale, coef, l2, False)
    objective_terms(params[b_lo:b_hi], grad[b_lo:b_hi], scale, coef, l2, True)


@jit
def objective_terms(p, g, scale, coef, l2, bias):
    """:func:`objective_gradient` on the slices ``p`` (parameters) and ``g`` (their loss
    gradient), weights or (``bias``) biases. (On slices: vectorised, 5 times faster.)"""
    zero, one = coef - coef, coef - coef + 1
    for j in range(p.shape[0]):
        gj = g[j]
        if scale != one:
            gj = gj * scale
        if coef != zero and not bias:
            gj += coef * p[j]
        if l2 != zero:
            gj += l2 * (p[j] * zero if bias else p[j])
        g[j] = gj


@jit
def sgd(params, grad, total, rate, accumulate):
    """The delta rule on the slices ``params`` and ``grad``: ``params -= grad * rate``, and
    ``total += grad`` when ``accumulate``, one element at a time.

    (One loop per rule, on slices, as :func:`adam`: LLVM vectorises these; the rules' loops
    on the whole buffers with the rule chosen per element it did not, at 4-10x the time.)
    """
    for i in range(params.shape[0]):
        g = grad[i]
        params[i] -= g * rate
        if accumulate:
            total[i] += g


@jit
def velocity_rule(params, grad, vel, total, rate, mu, nesterov, accumulate):
    """PyTorch's momentum on the slices: ``v = mu v + g``, ``params -= rate v`` (Nesterov's:
    ``params -= rate (mu v + g)``), in the NumPy passes' order; ``total += g`` when
    ``accumulate``."""
    for i in range(params.shape[0]):
        g = grad[i]
        vi = vel[i] * mu + g
        vel[i] = vi
        if nesterov:
            params[i] -= (vi * mu + g) * rate
        else:
            params[i] -= vi * rate
        if accumulate:
            total[i] += g


@jit
def square_rule(params, grad, sq, total, rate, rho, c_rho, eps, rms, accumulate):
    """RMSprop (``rms``: mean square ``sq = rho sq + c_rho g^2``) or Adagrad (sum of squares
    ``sq += g^2``) on the slices, then ``params -= g / (sqrt(sq) + eps) rate``, in the NumPy
    passes' order; ``total += g`` when ``accumulate``."""
    for i in range(params.shape[0]):
        g = grad[i]
        si = sq[i] * rho + (g * g) * c_rho if rms else sq[i] + g * g
        sq[i] = si
        params[i] -= g / (np.sqrt(si) + eps) * rate
        if accumulate:
            total[i] += g


@jit
def sklearn_rule(params, grad, vel, total, rate, mu, nesterov, accumulate):
    """scikit-learn's momentum on the slices: ``v = mu v - rate g``, ``params += v``
    (Nesterov's: ``params = (params - rate g) + mu v``), in the NumPy passes' order of
    :class:`deltarule.sklearn._solvers.SklearnSGD`; ``total += g`` when ``accumulate``."""
    for i in range(params.shape[0]):
        g = grad[i]
        step = g * rate
        vi = vel[i] * mu - step
        vel[i] = vi
        if nesterov:
            params[i] = (params[i] - step) + vi * mu
        else:
            params[i] += vi
        if accumulate:
            total[i] += g


@jit
def update(opt, params, grad, total, m, v, lo, hi, rate, b1, c1, b2, c2, eps, kk, tiny,
           decay, whole, factor):  # fmt: skip
    """The update rule ``opt`` (see :func:`minibatch_steps`) on ``[lo, hi)``, and the
    gradient sum ``total``: plus the gradient in the rule's own pass for a whole batch,
    plus ``grad * factor`` after the update for a smaller last one."""
    p, g, s = params[lo:hi], grad[lo:hi], total[lo:hi]
    if opt == 1 or opt == 4:
        adam(p, g, m[lo:hi], v[lo:hi], b1, c1, b2, c2, eps, kk, tiny, s, whole, decay)
    elif opt >= 7:  # scikit-learn's momentum (7) or Nesterov (8), velocity in m, decay b1
        sklearn_rule(p, g, m[lo:hi], s, rate, b1, opt == 8, whole)
    elif opt >= 5:
        square_rule(p, g, v[lo:hi], s, rate, b2, c2, eps, opt == 5, whole)
    elif opt == 0:
        sgd(p, g, s, rate, whole)
    else:  # momentum (2) or Nesterov (3), velocity in m, decay b1
        velocity_rule(p, g, m[lo:hi], s, rate, b1, opt == 3, whole)
    if not whole:
        for i in range(lo, hi):
            total[i] += grad[i] * factor


@jit
def softmax_row(z, lo, n, e, out):
    """``out[lo:lo + n]`` = softmax of ``z[lo:lo + n]`` as NumPy computes it: ``e = exp(z -
    max z)`` (NaN wins the max, as in np.max) into ``e``, then ``e / sum(e)`` (pairwise);
    ``e`` may be ``out``. Returns (max z, sum e)."""
    top = z[lo]
    for j in range(lo + 1, lo + n):
        if top != top:
            break
        x = z[j]
        if x >= top or x != x:
            top = x
    for j in range(lo, lo + n):
        e[j] = np.exp(z[j] - top)
    s = z.dtype.type(0) + pairwise(e, lo, n)
    for j in range(lo, lo + n):
        out[j] = e[j] / s
    return top, s


@jit
def output_rows(pair, zf, yf, of, df, n_out, per_sample, r0, r1, per_row):
    """Rows ``r0:r1`` of the output pair ``pair`` on flat (rows, ``n_out``) arrays: outputs
    ``of``, the loss's delta ``df`` (dE/dz, times ``per_row``: each row's share of the batch
    mean) and each row's loss."""
    t = zf.dtype.type
    zero, one, half, two = t(0), t(1), t(0.5), t(2)
    for i in range(r0, r1):
        lo = i * n_out
        hi = lo + n_out
        if pair == 0:  # softmax + categorical cross-entropy, from the logits
            top, s = softmax_row(zf, lo, n_out, df, of)
            lse = top + np.log(s)
            for j in range(lo, hi):
                df[j] = yf[j] * (zf[j] - lse)
            per_sample[i] = -(zero + pairwise(df, lo, n_out))
            ts = zero + pairwise(yf, lo, n_out)
            for j in range(lo, hi):
                df[j] = (of[j] * ts - yf[j]) * per_row
        elif pair == 1:  # logistic + binary cross-entropy, from the logits
            for j in range(lo, hi):
                x = zf[j]
                of[j] = one / (one + np.exp(-x))
                df[j] = (max(x, zero) - x * yf[j]) + np.log1p(np.exp(-abs(x)))
            per_sample[i] = (zero + pairwise(df, lo, n_out)) / t(n_out)
            for j in range(lo, hi):
                df[j] = (of[j] - yf[j]) / t(n_out) * per_row
        elif pair == 2:  # identity + half squared error
            acc = zero
            for j in range(lo, hi):
                of[j] = zf[j]
                r = zf[j] - yf[j]
                acc += r * r
                df[j] = r * per_row
            per_sample[i] = half * acc
        else:  # identity + mean squared error: 2 (o - t) / n_out per row
            acc = zero
            for j in range(lo, hi):
                of[j] = zf[j]
                r = zf[j] - yf[j]
                acc += r * r
                df[j] = (two * r / t(n_out)) * per_row
            per_sample[i] = acc / t(n_out)


@jit
def gather(Xf, Yf, n_in, n_out, order, start, r0, r1, xf, yf):
    """Rows ``order[start + r]`` of the flat data ``Xf`` (``n_in`` wide) and ``Yf``
    (``n_out``) into row ``r`` of the flat batches ``xf`` and ``yf``, ``r`` in ``r0:r1``."""
    for r in range(r0, r1):
        row = order[start + r]
        x_from, x_to = Xf[row * n_in : (row + 1) * n_in], xf[r * n_in : (r + 1) * n_in]
        for j in range(n_in):
            x_to[j] = x_from[j]
        y_from, y_to = Yf[row * n_out : (row + 1) * n_out], yf[r * n_out : (r + 1) * n_out]
        for j in range(n_out):
            y_to[j] = y_from[j]


# fmt: off
@jit
def minibatch_steps(
    tid, nthreads, parts, sync, shared,                 # this thread and its share
    X, Y, order, first, n_steps, bs,                    # data and which steps
    sizes, w_off, b_off, codes, pair, gemm,             # the network, NumPy's gemm
    loss_scale, alpha, l2,                              # its objective's terms
    params, grad, total,                                # flat buffers
    opt, rate, b1, c1, b2, c2, eps_c, k, flush, m, v, decay,  # the update
    zbuf, abuf, dbuf, xbuf, ybuf, per_sample, act_off,  # work space
    outputs, losses,                                    # results
    compiled,                                           # MKL's kernels for the products
):
    # fmt: on
    """``n_steps`` training steps on batches of ``bs`` rows from position ``first`` of
    ``order`` (the data's rows in order when ``order`` is empty), as thread ``tid`` of
    ``nthreads`` running this function at once on the same arrays.

    Each step: gather, forward, loss (into ``losses``; a non-finite one ends the run
    before its update), backward into ``grad``, update (``opt`` 0: SGD at ``rate``; 1 and
    4: Adam and AdamW with the per-step constants ``eps_c``, ``k``, ``flush``, AdamW's
    weights first times ``decay``; 2 and 3: momentum and Nesterov, velocity ``m``, decay
    ``b1``; 5: RMSprop, mean square ``v``, decay ``b2``; 6: Adagrad, sum of squares ``v``;
    5 and 6 with ``eps_c`` as epsilon; 7 and 8: scikit-learn's momentum and Nesterov,
    velocity ``m``, decay ``b1``), gradient sum into ``total``. The objective is
    ``loss_scale`` times the loss plus ``alpha / (2 nb)`` times the squared weights of a
    batch of ``nb`` rows (:meth:`Network.objective_terms`), plus the trainer's
    ``l2 / 2`` times the squared weights. See :mod:`deltarule._minibatch`.

    The threads share the work by neurons: thread ``i`` owns neurons ``parts[l, i]`` to
    ``parts[l, i + 1]`` of layer ``l`` (its rows of ``W`` and ``b``, its columns of the
    activations and deltas) and computes their forward columns, backward columns, weight
    gradients and updates; the input gradient of a layer, for the neurons it owns below;
    and the output layer's forward pass and loss for its share of the batch's rows (a
    row's loss needs the whole row), as it gathers its share of them. They meet
    (:func:`barrier`) where one needs what another wrote: after the gather, after each
    hidden layer's forward pass, after the loss, and in each layer's backward pass before
    and after the input gradient reads every row of the layer's weights (only then may
    their owners update them). ``shared`` holds the threads' sums of squared weights
    (slot ``1 + l * nthreads + i``). With one thread it is the plain sequence of steps.

    Returns (steps run, updates made), the same in every thread; (-1, -1) when the stop
    flag in ``sync`` was raised, before any update of the run.
    """
    t = params.dtype.type
    zero = t(0)
    n_layers = sizes.shape[0] - 1
    last = n_layers - 1
    n_in, n_out = sizes[0], sizes[n_layers]
    Xf, Yf = X.reshape(X.size), Y.reshape(Y.size)
    frames, values = np.empty((64, 3), np.int64), np.empty(65, params.dtype)  # batch means
    penalised = alpha != 0.0 or l2 != 0.0
    met = 0  # meeting points passed
    for step in range(n_steps):
        start = first + step * bs
        nb = min(bs, X.shape[0] - start)  # the last batch may be smaller
        per_row = t(1.0 / nb)  # each row's share of the batch mean (batch_scale)
        r0, r1 = nb * tid // nthreads, nb * (tid + 1) // nthreads  # this thread's rows
        if order.shape[0] == 0:  # in order: the batch is a slice of the data
            xf = Xf[start * n_in : (start + nb) * n_in]
            yf = Yf[start * n_out : (start + nb) * n_out]
        else:  # shuffled: gather its rows, in turns into two buffers when threaded (a
            # thread may gather the next batch while another still reads this one)
            turn = (step % 2) * bs if nthreads > 1 else 0
            xf = xbuf[turn * n_in : (turn + nb) * n_in]
            yf = ybuf[turn * n_out : (turn + nb) * n_out]
            gather(Xf, Yf, n_in, n_out, order, start, r0, r1, xf, yf)
            met += 1
            if not barrier(sync, tid, nthreads, met):
                return -1, -1
        # ---------------------------------------------------------------- forward
        prev = xf
        for layer in range(n_layers):
            fan_in, width = sizes[layer], sizes[layer + 1]
            zf = zbuf[act_off[layer] : act_off[layer] + nb * width]
            af = abuf[act_off[layer] : act_off[layer] + nb * width]
            if layer == last:  # the output layer by rows: a row's loss needs all of it
                lo, hi, i0, i1 = 0, width, r0, r1
            else:
                lo, hi, i0, i1 = parts[layer, tid], parts[layer, tid + 1], 0, nb
            if hi > lo and i1 > i0:
                product_at(compiled, layer, 0, tid, nb == bs, gemm, False, True, i1 - i0, hi - lo,
                           fan_in, prev[i0 * fan_in :], fan_in,
                           params[w_off[layer] + lo * fan_in :], fan_in, zf[i0 * width + lo :],
                           width)  # fmt: skip
                code = codes[layer] if layer < last else -1
                forward_block(code, zf, af, params, b_off[layer], width, i0, i1, lo, hi)
            if layer < last:
                met += 1
                if not barrier(sync, tid, nthreads, met):
                    return -1, -1
            prev = af
        if penalised:  # this thread's weights' squares, before any update
            for layer in range(n_layers):
                fan_in = sizes[layer]
                lo, hi = parts[layer, tid], parts[layer, tid + 1]
                shared[1 + layer * nthreads + tid] = squares(
                    params, w_off[layer] + lo * fan_in, w_off[layer] + hi * fan_in
                )
        # ----------------------------------------------- output, loss and its delta
        out = act_off[last]
        of = abuf[out : out + nb * n_out]
        output_rows(pair, zbuf[out:], yf, of, dbuf[out:], n_out, per_sample, r0, r1, per_row)
        met += 1
        if not barrier(sync, tid, nthreads, met):
            return -1, -1
        # every thread: the objective's value (c E + alpha / (2 nb) |W|^2 + l2 / 2 |W|^2)
        loss = (zero + pairwise_tree(per_sample, 0, nb, frames, values)) / t(nb)
        value = float(loss) * loss_scale
        if penalised:
            total_squares = 0.0
            for layer in range(n_layers):
                for i in range(nthreads):
                    total_squares += shared[1 + layer * nthreads + i]
            coef = alpha / nb
            if alpha != 0.0:
                value += 0.5 * coef * total_squares
            if l2 != 0.0:
                value += 0.5 * l2 * total_squares
        if tid == 0:
            losses[step] = value
        if not np.isfinite(value):
            return step + 1, step  # steps run, updates made
        if outputs.shape[0] > 0:
            outputs_flat = outputs.reshape(outputs.size)
            for j in range(r0 * n_out, r1 * n_out):
                outputs_flat[start * n_out + j] = of[j]
        # ------------------------------------------------- backward, then update
        whole = nb == bs  # else the gradient sum gains grad * (nb / bs), after the update
        eps = eps_c[step] if eps_c.shape[0] else zero  # Adam's k and flush: Adam's only
        kk, tiny = (k[step], flush[step]) if k.shape[0] else (zero, zero)
        for layer in range(last, -1, -1):
            fan_in, width = sizes[layer], sizes[layer + 1]
            lo, hi = parts[layer, tid], parts[layer, tid + 1]
            df = dbuf[act_off[layer] : act_off[layer] + nb * width]
            if hi > lo:
                # d = dE/da (in d already) times f'(z) below the output; the bias gradient
                code = codes[layer] if layer < last else -1
                af = abuf[act_off[layer] : act_off[layer] + nb * width]
                deltas(code, af, df, grad, b_off[layer], nb, width, lo, hi)
                if layer == 0:
                    prev = xf
                else:
                    prev = abuf[act_off[layer - 1] : act_off[layer - 1] + nb * fan_in]
                product_at(compiled, layer, 1, tid, nb == bs, gemm, True, False, hi - lo, fan_in,
                           nb, df[lo:], width, prev, fan_in, grad[w_off[layer] + lo * fan_in :],
                           fan_in)  # fmt: skip
            if layer > 0:
                if layer < last:  # (the output's deltas are whole since the loss)
                    met += 1
                    if not barrier(sync, tid, nthreads, met):
                        return -1, -1
                below = act_off[layer - 1]
                plo, phi = parts[layer - 1, tid], parts[layer - 1, tid + 1]
                if phi > plo:  # the deltas of this thread's neurons below
                    product_at(compiled, layer, 2, tid, nb == bs, gemm, False, False, nb,
                               phi - plo, width, df, width, params[w_off[layer] + plo :], fan_in,
                               dbuf[below + plo :], fan_in)  # fmt: skip
                met += 1  # every thread is done reading this layer's weights
                if not barrier(sync, tid, nthreads, met):
                    return -1, -1
            if hi > lo:
                w_lo, w_hi = w_off[layer] + lo * fan_in, w_off[layer] + hi * fan_in
                b_lo, b_hi = (b_off[layer] + lo, b_off[layer] + hi) if b_off[layer] >= 0 else (0, 0)
                if loss_scale != 1.0 or penalised:
                    objective_gradient(params, grad, w_lo, w_hi, b_lo, b_hi, t(loss_scale),
                                       t(alpha / nb), t(l2))  # fmt: skip
                for s0, s1 in ((w_lo, w_hi), (b_lo, b_hi)):
                    update(opt, params, grad, total, m, v, s0, s1, rate, b1, c1, b2, c2, eps, kk,
                           tiny, decay, whole, t(nb / bs))  # fmt: skip
        if n_layers == 1:  # no meeting point in the backward pass: meet before the next
            met += 1  # step overwrites the outputs and deltas another may still read
            if not barrier(sync, tid, nthreads, met):
                return -1, -1
    return n_steps, n_steps


# ------------------------------------------------------------------- inference
@jit
def infer_blocks(tid, nthreads, X, out, sizes, w_off, b_off, codes, softmax, gemm, params,
                 zbuf, abuf, block):  # fmt: skip
    """Outputs of the network into ``out`` (rows, n_outputs) for the rows of ``X``, as
    thread ``tid`` of ``nthreads``: blocks of ``block`` rows, thread ``tid`` taking blocks
    ``tid``, ``tid + nthreads``, ... through every layer (``codes``: each layer's
    activation, see :func:`forward_block`; the last layer's is softmax when ``softmax``:
    ``exp(z - max z) / sum``), its products by ``gemm`` (see :func:`product`), in its own
    part of the work space ``zbuf`` and ``abuf`` (``nthreads`` parts of ``block`` times the
    widest layer). The threads share nothing but what they read: no meeting points."""
    n = X.shape[0]
    n_layers = sizes.shape[0] - 1
    n_in, n_out = sizes[0], sizes[n_layers]
    Xf, of = X.reshape(X.size), out.reshape(out.size)
    part = zbuf.shape[0] // nthreads
    zmine, amine = zbuf[tid * part : (tid + 1) * part], abuf[tid * part : (tid + 1) * part]
    for start in range(tid * block, n, nthreads * block):
        rows = min(block, n - start)
        prev = Xf[start * n_in : (start + rows) * n_in]
        outputs = of[start * n_out : (start + rows) * n_out]
        zf = zmine
        for layer in range(n_layers):
            fan_in, width = sizes[layer], sizes[layer + 1]
            last = layer == n_layers - 1
            zf = zmine[: rows * width]
            af = outputs if last else amine[: rows * width]
            product(gemm, False, True, rows, width, fan_in, prev, fan_in,
                    params[w_off[layer] :], fan_in, zf, width)  # fmt: skip
            code = -1 if last and softmax else codes[layer]
            forward_block(code, zf, af, params, b_off[layer], width, 0, rows, 0, width)
            prev = af
        if softmax:
            for i in range(rows):
                softmax_row(zf, i * n_out, n_out, outputs, outputs)
    return 0
