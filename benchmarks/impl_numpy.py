"""Plain NumPy and plain Python references: the GEMM peak and bound, and hand-written loops.

* ``peak`` — the machine's float32 matrix-multiply rate: a large square ``np.matmul``, or
  the same product on the same threads through the single-threaded products deltarule's
  threads call (MKL's ``sgemm``: the ``mkl`` wheel installed, on a processor MKL has code
  for; else oneDNN's: the ``onednn-cpu-gomp`` wheel), whichever is faster.
* ``gemm_step`` — the "NumPy GEMM time": only the matrix products of a training step
  (forward, weight gradients, input gradients) or of a forward pass, same shapes, into
  preallocated outputs, through NumPy's BLAS thread pool. A reference, not a bound: a
  library that runs the products on its own threads (deltarule's threaded steps) can beat it.
* ``tutorial_numpy`` / ``tutorial_python`` — (b) written by hand, per example, with
  NumPy arrays and with Python floats.
"""

from __future__ import annotations

import ctypes
import functools
import math
import threading
import time

import numpy as np
import threadpoolctl
import workloads as wl
from measure import timed


def describe() -> dict:
    blas = [
        {k: info.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
        for info in threadpoolctl.threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return {"version": np.__version__, "blas": blas}


def _blas_threads() -> int:
    return max([1] + [i.get("num_threads", 1) for i in threadpoolctl.threadpool_info()
                      if i.get("user_api") == "blas"])  # fmt: skip


def _library_matmul(name: str, threads: int):  # noqa: ANN202
    """``matmul(a, b, out)`` through the single-threaded ``cblas_sgemm``-like function
    deltarule's threads call from library ``name`` (``"mkl"``: MKL's sequential
    ``cblas_sgemm_64``; ``"onednn"``: oneDNN's ``dnnl_sgemm``, see ``deltarule._onednn``),
    the rows of ``out`` shared by ``threads`` threads (as NumPy's pool shares them); None
    where deltarule does not have it."""
    from deltarule import _mkl, _onednn

    library = {"mkl": _mkl, "onednn": _onednn}[name]
    address = (
        _mkl.gemm_address(np.float32)
        if name == "mkl"
        else _onednn.gemm_address(np.float32, _onednn.MIN_PRODUCT)
    )
    if not address:
        return None
    i32, i64, pointer, single = ctypes.c_int, ctypes.c_int64, ctypes.c_void_p, ctypes.c_float
    arguments = (i32, i32, i32, i64, i64, i64, single, pointer, i64, pointer, i64, single)
    sgemm = ctypes.CFUNCTYPE(None, *arguments, pointer, i64)(address)  # row-major cblas_sgemm_64

    def rows(a: np.ndarray, b: np.ndarray, out: np.ndarray, lo: int, hi: int) -> None:
        n, k = b.shape[1], a.shape[1]
        with library.single_threaded():
            sgemm(101, 111, 111, hi - lo, n, k, 1.0, a[lo:].ctypes.data, k, b.ctypes.data, n,
                  0.0, out[lo:].ctypes.data, n)  # fmt: skip

    def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
        bounds = [a.shape[0] * i // threads for i in range(threads + 1)]
        helpers = [threading.Thread(target=rows, args=(a, b, out, lo, hi))
                   for lo, hi in zip(bounds[1:-1], bounds[2:])]  # fmt: skip
        for helper in helpers:
            helper.start()
        rows(a, b, out, bounds[0], bounds[1])
        for helper in helpers:
            helper.join()

    return matmul


def peak(size: int, repeats: int = 5) -> dict:
    """Best-of-``repeats`` float32 GFLOP/s of a ``size``-cubed matrix product: NumPy's
    ``np.matmul`` and, where deltarule has them, MKL's and oneDNN's (``by_library``);
    ``gflops`` the fastest."""
    rng = np.random.default_rng(wl.SEED)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    out = np.empty_like(a)
    products = {"numpy": lambda: np.matmul(a, b, out=out)}
    from deltarule import _mkl

    for name in ("mkl",) if _mkl.available() else ("onednn",):  # (the one deltarule's threads use)
        matmul = _library_matmul(name, _blas_threads())
        if matmul is not None:
            products[name] = functools.partial(matmul, a, b, out)
    by_library = {}
    for name, product in products.items():
        product()
        if not np.allclose(out, a @ b, rtol=1e-3):
            raise RuntimeError(f"{name}'s product differs from NumPy's")
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            product()
            best = min(best, time.perf_counter() - start)
        by_library[name] = 2 * size**3 / best / 1e9
    gflops = max(by_library.values())
    return {"seconds": 2 * size**3 / gflops / 1e9, "gflops": gflops, "by_library": by_library}


def _gemms(batch_size: int, sizes: tuple[int, ...], train: bool):  # noqa: ANN202
    """Return a function that performs the GEMMs of one step on preallocated arrays."""
    rng = np.random.default_rng(wl.SEED)

    def rand(*shape: int) -> np.ndarray:
        return rng.random(shape, dtype=np.float32)

    calls = []
    for layer, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        x, w, z = rand(batch_size, n_in), rand(n_out, n_in), rand(batch_size, n_out)
        calls.append((x, w.T, z))  # forward: z = x W^T
        if train:
            calls.append((z.T, x, np.empty_like(w)))  # weight gradient: delta^T x
            if layer > 0:
                calls.append((z, w, np.empty_like(x)))  # input gradient: delta W

    def step() -> None:
        for a, b, out in calls:
            np.matmul(a, b, out=out)

    return step


def gemm_step(batch_size: int, n: int, mode: str) -> dict:
    """Time ``n`` steps' worth of GEMMs for the (a)/(d) network ("train" or "predict")."""
    step = _gemms(batch_size, wl.MNIST_SIZES, mode == "train")
    step()

    def work() -> None:
        for _ in range(n):
            step()

    seconds, _ = timed(work)
    return {"seconds": seconds, "samples": n * batch_size}


def tutorial_numpy(n: int) -> dict:
    """(b) by hand with NumPy float32 arrays, one example per update."""
    weights, biases, x_list, t_list = wl.tutorial()
    W1 = np.array(weights[0], dtype=np.float32).reshape(2, 2)
    W2 = np.array(weights[1], dtype=np.float32).reshape(2, 2)
    b1, b2 = np.float32(biases[0]), np.float32(biases[1])
    x, t = np.array(x_list, dtype=np.float32), np.array(t_list, dtype=np.float32)
    rate = np.float32(wl.TUTORIAL_LEARNING_RATE)

    def work() -> None:
        for _ in range(n):
            h = 1 / (1 + np.exp(-(W1 @ x + b1)))
            o = 1 / (1 + np.exp(-(W2 @ h + b2)))
            delta_o = (o - t) * o * (1 - o)
            delta_h = (W2.T @ delta_o) * h * (1 - h)
            np.subtract(W2, rate * np.outer(delta_o, h), out=W2)
            np.subtract(W1, rate * np.outer(delta_h, x), out=W1)

    seconds, _ = timed(work)
    return {"seconds": seconds, "updates": n}


def tutorial_python(n: int) -> dict:
    """(b) by hand with Python floats (the tutorial's arithmetic, unrolled)."""
    (w1, w2, w3, w4), (w5, w6, w7, w8) = wl.tutorial()[0]
    (b1, b2), (i1, i2), (t1, t2) = wl.tutorial()[1:]
    eta = wl.TUTORIAL_LEARNING_RATE
    exp = math.exp

    def work() -> tuple[float, ...]:
        nonlocal w1, w2, w3, w4, w5, w6, w7, w8
        for _ in range(n):
            h1 = 1 / (1 + exp(-(w1 * i1 + w2 * i2 + b1)))
            h2 = 1 / (1 + exp(-(w3 * i1 + w4 * i2 + b1)))
            o1 = 1 / (1 + exp(-(w5 * h1 + w6 * h2 + b2)))
            o2 = 1 / (1 + exp(-(w7 * h1 + w8 * h2 + b2)))
            d1 = (o1 - t1) * o1 * (1 - o1)
            d2 = (o2 - t2) * o2 * (1 - o2)
            e1 = (w5 * d1 + w7 * d2) * h1 * (1 - h1)
            e2 = (w6 * d1 + w8 * d2) * h2 * (1 - h2)
            w5, w6, w7, w8 = (
                w5 - eta * d1 * h1,
                w6 - eta * d1 * h2,
                w7 - eta * d2 * h1,
                w8 - eta * d2 * h2,
            )
            w1, w2, w3, w4 = (
                w1 - eta * e1 * i1,
                w2 - eta * e1 * i2,
                w3 - eta * e2 * i1,
                w4 - eta * e2 * i2,
            )
        return w1, w5

    seconds, _ = timed(work)
    return {"seconds": seconds, "updates": n}


TASKS = {
    "peak": peak,
    "gemm_step": gemm_step,
    "tutorial_numpy": tutorial_numpy,
    "tutorial_python": tutorial_python,
}
