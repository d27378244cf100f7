"""JAX (jit, CPU) on workloads (a), (b), (c) and (d), written the way JAX users write them.

(a) and (c): the training step — forward, ``jax.value_and_grad``, Adam written out with the
same equations as ``torch.optim.Adam`` — runs inside one jitted function per run: an epoch
is a ``lax.scan`` over its full batches, cut from the data permuted on the device
(``jax.random.permutation``, inside the clock, as the other libraries shuffle), and the last,
shorter batch is one more step of its own shape — the same steps as the others take, no
padding. (a) compiles for the whole data set's shape, so its warm-up runs at full size
(``plan.workload_a``). (c) loops over epochs with ``lax.fori_loop``, whose bound is an
argument: the short warm-up compiles what the timed run uses.
(b): the tutorial's online updates as one jitted ``lax.fori_loop``, the count an argument.
(d): ``jax.jit`` of the forward pass with the parameters closed over (constants of the
compiled function), the common inference idiom.
L-BFGS (c) is not run: ``jax.scipy.optimize`` has BFGS only, no L-BFGS with the same rules.

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


def _adam_state(params):  # noqa: ANN001, ANN202
    zeros = functools.partial(jax.tree.map, jnp.zeros_like)
    return zeros(params), zeros(params), jnp.float32(0)


def _logits(params, x):  # noqa: ANN001, ANN202
    for weight, bias in params[:-1]:
        x = jax.nn.relu(x @ weight.T + bias)
    weight, bias = params[-1]
    return x @ weight.T + bias


def _softmax_loss(params, x, y):  # noqa: ANN001, ANN202
    return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(_logits(params, x)), axis=1))


def _binary_loss(params, x, y):  # noqa: ANN001, ANN202
    """Binary cross-entropy on the logit (as ``F.binary_cross_entropy_with_logits``)."""
    z = _logits(params, x)
    return jnp.mean(jnp.maximum(z, 0) - z * y + jnp.log1p(jnp.exp(-jnp.abs(z))))


def _adam(loss_fn, params, state, x, y):  # noqa: ANN001, ANN202
    loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
    m, v, t = state
    t = t + 1
    m = jax.tree.map(lambda m, g: BETA_1 * m + (1 - BETA_1) * g, m, grads)
    v = jax.tree.map(lambda v, g: BETA_2 * v + (1 - BETA_2) * g * g, v, grads)
    rate = wl.ADAM_LEARNING_RATE / (1 - BETA_1**t)
    root = jnp.sqrt(1 - BETA_2**t)

    def update(p, m, v):  # noqa: ANN001, ANN202
        return p - rate * m / (jnp.sqrt(v) / root + EPSILON)

    return jax.tree.map(update, params, m, v), (m, v, t), loss


def _epoch(loss_fn, params, state, X, Y, key, batch_size: int):  # noqa: ANN001, ANN202
    """One shuffled epoch (traced): a scan over the full batches, then the shorter last one."""
    n = X.shape[0]
    order = jax.random.permutation(key, n)
    full = n - n % batch_size

    def step(carry, idx):  # noqa: ANN001, ANN202
        params, state, loss = _adam(loss_fn, *carry, X[idx], Y[idx])
        return (params, state), loss

    loss = jnp.float32(0)
    if full:
        batches = order[:full].reshape(-1, batch_size)
        (params, state), losses = jax.lax.scan(step, (params, state), batches)
        loss = losses[-1]
    if full < n:
        rest = order[full:]
        params, state, loss = _adam(loss_fn, params, state, X[rest], Y[rest])
    return params, state, loss


@functools.partial(jax.jit, static_argnames="batch_size", donate_argnums=(0, 1))
def _mnist_epoch(params, state, X, Y, key, batch_size):  # noqa: ANN001, ANN202
    return _epoch(_softmax_loss, params, state, X, Y, key, batch_size)


@functools.lru_cache(maxsize=2)
def _device_data(n_samples: int, data: str) -> tuple[jax.Array, jax.Array]:
    d = wl.mnist_like(n_samples, data)
    return jnp.asarray(d.X), jnp.asarray(d.onehot)


def _mnist_run(batch_size: int, n_samples: int, data: str):  # noqa: ANN202
    X, Y = _device_data(n_samples, data)
    params = _params(wl.MNIST_SIZES)
    state = _adam_state(params)
    key = jax.random.key(wl.SEED)

    def work() -> float:  # params and state are donated: the copies above are used once
        # (every output waited for: the last step's update does not feed the loss)
        _, _, loss = jax.block_until_ready(_mnist_epoch(params, state, X, Y, key, batch_size))
        return float(loss)

    return work, X.shape[0]


def mlp_epoch(batch_size: int, n_samples: int, data: str) -> dict:
    """(a): one epoch of Adam, softmax cross-entropy: one jitted call."""
    work, n = _mnist_run(batch_size, n_samples, data)
    seconds, loss = timed(work)
    return {"seconds": seconds, "samples": n, "loss": loss}


def memory_epoch(batch_size: int, n_samples: int, data: str) -> dict:
    work, _ = _mnist_run(batch_size, n_samples, data)
    return rss.growth(work)


def _tutorial_error(weights, x, target):  # noqa: ANN001, ANN202
    w1, w2 = weights
    b1, b2 = wl.tutorial()[1]
    hidden = jax.nn.sigmoid(w1 @ x + b1)
    out = jax.nn.sigmoid(w2 @ hidden + b2)
    return 0.5 * jnp.sum((out - target) ** 2)


@jax.jit
def _online(weights, x, target, n):  # noqa: ANN001, ANN202
    """``n`` (a traced count: one compilation for all) SGD steps on the one example."""

    def update(_, weights):  # noqa: ANN001, ANN202
        grads = jax.grad(_tutorial_error)(weights, x, target)
        return jax.tree.map(lambda w, g: w - wl.TUTORIAL_LEARNING_RATE * g, weights, grads)

    weights = jax.lax.fori_loop(0, n, update, weights)
    return weights, _tutorial_error(weights, x, target)


def tutorial_online(n: int) -> dict:
    """(b): ``n`` single-example SGD steps on the tutorial network (biases frozen)."""
    rows, _, x, target = wl.tutorial()
    weights = tuple(jnp.asarray(np.float32(w).reshape(2, 2)) for w in rows)
    x, target = jnp.asarray(np.float32(x)), jnp.asarray(np.float32(target))
    count = jnp.int32(n)

    def work() -> float:
        _, error = _online(weights, x, target, count)
        return float(jax.block_until_ready(error))

    seconds, error = timed(work)
    return {"seconds": seconds, "updates": n, "error": error}


@functools.partial(jax.jit, static_argnames="batch_size")
def _tabular_fit(params, X, Y, key, epochs, batch_size):  # noqa: ANN001, ANN202
    """Adam for ``epochs`` (traced) epochs, each reshuffled, mini-batches of ``batch_size``."""

    def epoch(i, carry):  # noqa: ANN001, ANN202
        params, state = carry
        params, state, _ = _epoch(
            _binary_loss, params, state, X, Y, jax.random.fold_in(key, i), batch_size
        )
        return params, state

    params, _ = jax.lax.fori_loop(0, epochs, epoch, (params, _adam_state(params)))
    return params


def tabular(optimizer: str, epochs: int, batch_size: int) -> dict:
    """(c): breast_cancer with Adam, mini-batches reshuffled each epoch, one jitted call."""
    if optimizer != "adam":
        raise Unavailable(
            "no L-BFGS with the same rules in JAX (jax.scipy.optimize: BFGS only); not run"
        )
    d = wl.breast_cancer()
    X, Y = jnp.asarray(d.X), jnp.asarray(d.labels.astype(np.float32).reshape(-1, 1))
    params = _params(wl.TABULAR_SIZES)
    key = jax.random.key(wl.SEED)

    def work():  # noqa: ANN202
        return jax.block_until_ready(_tabular_fit(params, X, Y, key, epochs, batch_size))

    seconds, fitted = timed(work)
    scores = np.asarray(_logits(fitted, jnp.asarray(d.X_test)))[:, 0]
    return {"seconds": seconds, "accuracy": float(((scores > 0) == d.labels_test).mean())}


def predict(batch_size: int, n: int, data: str) -> dict:
    """(d): ``n`` calls of the jitted forward pass, from and to NumPy.

    The parameters are closed over, so they are constants of the compiled function.
    """
    X = wl.mnist_like(max(batch_size, 1024), data).X[:batch_size]
    params = _params(wl.MNIST_SIZES)
    probabilities = jax.jit(lambda x: jax.nn.softmax(_logits(params, x), axis=1))
    np.asarray(probabilities(X))  # compile outside the clock

    def work() -> None:
        for _ in range(n):
            np.asarray(probabilities(X))

    seconds, _ = timed(work)
    return {"seconds": seconds, "samples": n * batch_size}


TASKS = {
    "mlp_epoch": mlp_epoch,
    "tutorial_online": tutorial_online,
    "tabular": tabular,
    "predict": predict,
    "memory_epoch": memory_epoch,
}
