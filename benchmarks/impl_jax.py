"""JAX (jit, CPU) on workloads (a) and (d).

The training step — forward, ``jax.value_and_grad``, Adam written out with the same
equations as deltarule's — is one jitted function with donated buffers. Each epoch
the data is permuted on the device once; full batches are cut inside the jitted step
(``lax.dynamic_slice``), so no batch crosses from NumPy.

XLA's CPU runtime sizes its thread pool from the CPUs the process may run on when the
backend starts, and no flag caps it (``--xla_cpu_multi_thread_eigen=false`` no longer
does). So to run JAX on ``n`` threads this module restricts the process to ``n`` CPUs
while JAX starts, then lifts the restriction: the pool keeps ``n`` threads, and the
scheduler may still move them to whichever core is free.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import workloads as wl
from measure import Unavailable, rss, threads, timed

_CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
if 0 < threads() < len(_CPUS):
    os.sched_setaffinity(0, _CPUS[-threads() :])
try:
    import jax
    import jax.numpy as jnp

    jax.block_until_ready(jax.jit(lambda x: x @ x)(jnp.ones((64, 64))))  # start the backend
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise Unavailable(f"JAX is not installed ({exc})") from exc
finally:
    if _CPUS:
        os.sched_setaffinity(0, _CPUS)

BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-8


def describe() -> dict:
    started_on = min(threads(), len(_CPUS)) if _CPUS else "all (no CPU affinity here)"
    return {"version": jax.__version__, "threads": started_on}


def _params(sizes: tuple[int, ...]) -> list[tuple[jax.Array, jax.Array]]:
    return [(jnp.asarray(w), jnp.asarray(b)) for w, b in wl.glorot_weights(sizes)]


def _logits(params, x):  # noqa: ANN001, ANN202
    for weight, bias in params[:-1]:
        x = jax.nn.relu(x @ weight.T + bias)
    weight, bias = params[-1]
    return x @ weight.T + bias


def _loss(params, x, y):  # noqa: ANN001, ANN202
    return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(_logits(params, x)), axis=1))


def _adam(params, state, x, y):  # noqa: ANN001, ANN202
    loss, grads = jax.value_and_grad(_loss)(params, x, y)
    m, v, t = state
    t = t + 1
    m = jax.tree.map(lambda m, g: BETA_1 * m + (1 - BETA_1) * g, m, grads)
    v = jax.tree.map(lambda v, g: BETA_2 * v + (1 - BETA_2) * g * g, v, grads)
    rate = wl.ADAM_LEARNING_RATE / (1 - BETA_1**t)
    root = jnp.sqrt(1 - BETA_2**t)

    def update(p, m, v):  # noqa: ANN001, ANN202
        return p - rate * m / (jnp.sqrt(v) / root + EPSILON)

    return jax.tree.map(update, params, m, v), (m, v, t), loss


@functools.partial(jax.jit, static_argnames="batch_size", donate_argnums=(0, 1))
def _step_at(params, state, X, Y, start, batch_size):  # noqa: ANN001, ANN202
    xb = jax.lax.dynamic_slice_in_dim(X, start, batch_size)
    yb = jax.lax.dynamic_slice_in_dim(Y, start, batch_size)
    return _adam(params, state, xb, yb)


_step_on = jax.jit(_adam, donate_argnums=(0, 1))  # the last, shorter batch


@functools.lru_cache(maxsize=2)
def _device_data(n_samples: int, data: str) -> tuple[jax.Array, jax.Array]:
    d = wl.mnist_like(n_samples, data)
    return jnp.asarray(d.X), jnp.asarray(d.onehot)


def _mnist_run(batch_size: int, n_samples: int, data: str):  # noqa: ANN202
    X, Y = _device_data(n_samples, data)
    n = X.shape[0]
    params = _params(wl.MNIST_SIZES)
    zeros = functools.partial(jax.tree.map, jnp.zeros_like)
    state = (zeros(params), zeros(params), jnp.float32(0))
    order = jnp.asarray(np.random.default_rng(wl.SEED).permutation(n))
    full = n - n % batch_size

    def work() -> float:
        p, s = params, state
        Xs, Ys = X[order], Y[order]
        for start in range(0, full, batch_size):
            p, s, loss = _step_at(p, s, Xs, Ys, start, batch_size)
        if full < n:
            p, s, loss = _step_on(p, s, Xs[full:], Ys[full:])
        return float(jax.block_until_ready(loss))

    return work, n


def mlp_epoch(batch_size: int, n_samples: int, data: str) -> dict:
    """(a): one epoch of Adam, softmax cross-entropy."""
    work, n = _mnist_run(batch_size, n_samples, data)
    seconds, loss = timed(work)
    return {"seconds": seconds, "samples": n, "loss": loss}


def memory_epoch(batch_size: int, n_samples: int, data: str) -> dict:
    work, _ = _mnist_run(batch_size, n_samples, data)
    return rss.growth(work)


@jax.jit
def _probabilities(params, x):  # noqa: ANN001, ANN202
    return jax.nn.softmax(_logits(params, x), axis=1)


def predict(batch_size: int, n: int, data: str) -> dict:
    """(d): ``n`` calls of the jitted forward pass, from and to NumPy."""
    X = wl.mnist_like(max(batch_size, 1024), data).X[:batch_size]
    params = _params(wl.MNIST_SIZES)
    np.asarray(_probabilities(params, X))  # compile outside the clock

    def work() -> None:
        for _ in range(n):
            np.asarray(_probabilities(params, X))

    seconds, _ = timed(work)
    return {"seconds": seconds, "samples": n * batch_size}


TASKS = {"mlp_epoch": mlp_epoch, "predict": predict, "memory_epoch": memory_epoch}
