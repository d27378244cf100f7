r"""Online kernels written out for one network's shape, compiled in the background once hot.

:func:`deltarule._jit.online_epochs` trains any network of the kernel's layers one example
at a time: it loops over layers, neurons and weights whose counts it reads from arrays. For
the tutorial's 2-2-2 network those loops cost more than the arithmetic (about 160 ns an
update; the same operations written out take about 45). This module writes that kernel out
for one network (:func:`source`): every neuron's sum and activation, every delta and every
weight's step as straight-line code, with the layer sizes, activations, loss, update rule,
frozen parameters and weight-decay terms fixed. It performs the generic kernel's floating-
point operations in the generic kernel's order, so its results are the generic kernel's bit
for bit (the test suite checks every activation, loss and rule), and it keeps the same
arguments and returns the same values, so a run may switch from one to the other between
calls.

Compiling takes seconds (1-5 s for up to :data:`MAX_PARAMETERS` parameters; the code grows
with the parameters and the compile time faster), so it is tiered as a JIT compiler tiers
its code: :meth:`deltarule._compiled.OnlineKernel.run` runs the generic kernel and reports
the time it took (:func:`spent`); once a shape has taken :data:`HOT_SECONDS` of it in this
process (and the run has seconds left, or short runs have made it hot several times over), a
build thread compiles the written-out kernel while training goes on (the
generic kernel releases the GIL), and later calls take it (:func:`ready`); shapes hot at
once wait in a queue for it. numba keeps the compiled code in its on-disk cache; a shape
compiled before on this machine is loaded again, in the background too, after
:data:`WARM_SECONDS`. The thread is not a daemon: a program that ends while it compiles
waits for that build (seconds, once per shape and machine), and the shapes still queued are
dropped. A forked child starts with no build thread and queues its hot shapes anew.

The written-out kernels live in a folder of this user's under the system's temporary folder
(:func:`deltarule._numba_env.private_folder`); a file is imported only when its text is the
text this module writes for the shape. ``DELTARULE_SHAPED=0`` turns the tier off (the
generic kernel runs every call), as ``DELTARULE_NUMBA=0`` turns off every kernel.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["MAX_PARAMETERS", "HOT_SECONDS", "BUILD_SECONDS", "SWEEP_SECONDS", "WARM_SECONDS",
           "enabled", "source", "ready", "spent", "wait"]  # fmt: skip

MAX_PARAMETERS = 128
"""The largest network written out: 67 parameters (4-8-3) compile in ~3 s, 244 in ~10 s,
450 in ~75 s (measured), while the generic kernel's loop overhead matters less the larger
the network is."""
HOT_SECONDS = 1.0
"""Seconds of the generic kernel on one shape in this process before it is compiled, when
the run under way has :data:`BUILD_SECONDS` or more left (or does not say)."""
BUILD_SECONDS = 3.0
"""A hot shape is compiled only for a run with at least this long left in the generic
kernel (a build takes 1-5 s, on the other core, and a program that ends waits for it), or
once :data:`SWEEP_SECONDS` of short runs have made it hot (a notebook's or a search's many
fits: the next ones, and the next process, load it)."""
SWEEP_SECONDS = 3.0
WARM_SECONDS = 0.05
"""The same, for a shape compiled before on this machine (numba loads it in ~0.1 s)."""
SWITCH = "DELTARULE_SHAPED"
"""The environment variable that turns the tier off (values of :data:`deltarule._compiled.OFF`)."""


def enabled() -> bool:
    """False when :data:`SWITCH` turns the tier off, or numba uses Intel's SVML (its vector
    ``exp`` may round otherwise than the scalar one the generic kernel calls, and LLVM may
    vectorise the written-out kernel's independent calls)."""
    from ._compiled import OFF

    if os.environ.get(SWITCH, "").strip().lower() in OFF:
        return False
    from numba.core import config

    return not getattr(config, "USING_SVML", False)


# ------------------------------------------------------------------------ the source
_SLOPES = {  # f'(z) of the kernel's activation codes, as online_slope computes it
    0: "one",
    1: "{a} * (one - {a})",
    2: "one - {a} * {a}",
    3: "one if {z} > zero else zero",
    4: "one if {z} > zero else c001",
}


def _activation(code: int, z: str, a: str, pad: str) -> list[str]:
    """``a = f(z)`` as online_act computes it (softmax, code 5, is the layer's)."""
    if code == 1:
        return [f"{pad}if {z} >= zero:", f"{pad}    {a} = one / (one + np.exp(-{z}))",
                f"{pad}else:", f"{pad}    ex = np.exp({z})",
                f"{pad}    {a} = ex / (one + ex)"]  # fmt: skip
    if code == 2:
        return [f"{pad}{a} = np.tanh({z})"]
    if code == 3:
        return [f"{pad}{a} = {z} if ({z} > zero or {z} != {z}) else zero"]
    if code == 4:
        return [f"{pad}{a} = {z} if {z} > zero else {z} * c001"]
    return [f"{pad}{a} = {z}"]


def _step(at: int, g: str, rule: int, pad: str) -> list[str]:
    """One parameter's step by ``rule``, as online_step takes it."""
    if rule == 0:
        return [f"{pad}params[{at}] -= lr * {g}"]
    if rule in (1, 2):
        moved = [f"{pad}v = vel[{at}] * m", f"{pad}v = v + {g}", f"{pad}vel[{at}] = v"]
        if rule == 1:
            return [*moved, f"{pad}params[{at}] -= v * lr"]
        return [*moved, f"{pad}st = v * m", f"{pad}st = st + {g}", f"{pad}params[{at}] -= st * lr"]
    moved = [f"{pad}st = {g} * lr", f"{pad}v = vel[{at}] * m", f"{pad}v = v - st",
             f"{pad}vel[{at}] = v"]  # fmt: skip
    if rule == 3:
        return [*moved, f"{pad}params[{at}] += v"]
    return [*moved, f"{pad}pp = params[{at}] - st", f"{pad}params[{at}] = pp + v * m"]


def _forward(spec: Sequence[Sequence[int]], pad: str) -> list[str]:
    """Every neuron's ``z`` and ``a`` (as online_forward: the products' sum, then the bias)."""
    w_off, b_off, n_in, n_out, codes = spec
    lines = [f"{pad}x{i} = X[s, {i}]" for i in range(n_in[0])]
    inputs = [f"x{i}" for i in range(n_in[0])]
    for lay in range(len(n_in)):
        for j in range(n_out[lay]):
            z, base = f"z{lay}_{j}", w_off[lay] + j * n_in[lay]
            lines.append(f"{pad}{z} = zero")
            lines += [f"{pad}{z} += params[{base + i}] * {inputs[i]}" for i in range(n_in[lay])]
            if b_off[lay] >= 0:
                lines.append(f"{pad}{z} += params[{b_off[lay] + j}]")
            if codes[lay] != 5:
                lines += _activation(codes[lay], z, f"a{lay}_{j}", pad)
        if codes[lay] == 5:  # softmax over the layer
            zs = [f"z{lay}_{j}" for j in range(n_out[lay])]
            lines += _row_max(zs, pad)
            lines.append(f"{pad}sm = zero")
            for j, z in enumerate(zs):
                lines += [f"{pad}a{lay}_{j} = np.exp({z} - mx)", f"{pad}sm += a{lay}_{j}"]
            lines += [f"{pad}a{lay}_{j} /= sm" for j in range(n_out[lay])]
        inputs = [f"a{lay}_{j}" for j in range(n_out[lay])]
    return lines


def _row_max(zs: list[str], pad: str) -> list[str]:
    """``mx`` = the largest of ``zs``, NaN winning (np.max), as the generic kernel finds it."""
    return [f"{pad}mx = {zs[0]}"] + [
        f"{pad}mx = {z} if ({z} > mx or {z} != {z}) else mx" for z in zs
    ]


def _output(spec: Sequence[Sequence[int]], loss: int, pad: str) -> list[str]:
    """The example's error ``e`` and the output deltas, as online_output_delta computes them."""
    codes, last = spec[4], len(spec[2]) - 1
    k = spec[3][last]
    zs, outs = [f"z{last}_{j}" for j in range(k)], [f"a{last}_{j}" for j in range(k)]
    lines = [f"{pad}e = zero"]
    if loss == 3:  # softmax + cross-entropy from the logits (log-sum-exp)
        lines += _row_max(zs, pad) + [f"{pad}sm = zero", f"{pad}t_sum = zero"]
        for j in range(k):
            lines += [f"{pad}sm += np.exp({zs[j]} - mx)", f"{pad}t_sum += y{j}"]
        lines.append(f"{pad}lse = mx + np.log(sm)")
        for j in range(k):
            lines += [f"{pad}e -= y{j} * ({zs[j]} - lse)",
                      f"{pad}d{last}_{j} = {outs[j]} * t_sum - y{j}"]  # fmt: skip
        return lines
    for j in range(k):
        z, a, t = zs[j], outs[j], f"y{j}"
        slope = _SLOPES[codes[last]].format(a=a, z=z)
        if loss == 2:  # sigmoid + binary cross-entropy from the logits
            lines += [f"{pad}pos = {z} if ({z} > zero or {z} != {z}) else zero",
                      f"{pad}e += pos - {z} * {t} + np.log1p(np.exp(-abs({z})))",
                      f"{pad}d{last}_{j} = ({a} - {t}) / kf"]  # fmt: skip
        elif loss == 1:
            lines += [f"{pad}e += ({a} - {t}) * ({a} - {t})",
                      f"{pad}d{last}_{j} = two * ({a} - {t}) / kf * ({slope})"]  # fmt: skip
        else:
            lines += [f"{pad}e += ({a} - {t}) * ({a} - {t})",
                      f"{pad}d{last}_{j} = ({a} - {t}) * ({slope})"]  # fmt: skip
    lines.append(f"{pad}e = half * e" if loss == 0 else f"{pad}e = e / kf")
    return lines


def _update(
    spec: Sequence[Sequence[int]], rule: int, trainable: Sequence[bool], decay: bool, pad: str
) -> list[str]:
    """The hidden deltas (before any weight moves), then every parameter's step, as
    online_update / online_update_moving take them (a frozen parameter: no step for the
    delta rule; a velocity that decays, the weight kept, for the others)."""
    w_off, b_off, n_in, n_out, codes = spec
    lines = []
    for lay in range(len(n_in) - 1, 0, -1):
        for i in range(n_in[lay]):
            lines.append(f"{pad}acc = zero")
            lines += [f"{pad}acc += d{lay}_{j} * params[{w_off[lay] + j * n_in[lay] + i}]"
                      for j in range(n_out[lay])]  # fmt: skip
            a = f"a{lay - 1}_{i}"  # f'(z) from a, as online_deltas
            lines.append(
                f"{pad}d{lay - 1}_{i} = acc * ({_SLOPES[codes[lay - 1]].format(a=a, z=a)})"
            )

    def parameter(at: int, gradient: list[str], g: str) -> list[str]:
        if trainable[at]:
            return [*gradient, f"{pad}gs{at} += {g}", *_step(at, g, rule, pad)]
        if rule:
            return [f"{pad}kept = params[{at}]", *_step(at, "zero", rule, pad),
                    f"{pad}params[{at}] = kept"]  # fmt: skip
        return []

    inputs = [f"x{i}" for i in range(n_in[0])]
    for lay in range(len(n_in)):
        for j in range(n_out[lay]):
            base = w_off[lay] + j * n_in[lay]
            for i in range(n_in[lay]):
                gradient = [f"{pad}g = d{lay}_{j} * {inputs[i]}"]
                if decay:  # the L2 term: the weight before the step
                    gradient.append(f"{pad}g += lam * params[{base + i}]")
                lines += parameter(base + i, gradient, "g")
            if b_off[lay] >= 0:
                lines += parameter(b_off[lay] + j, [], f"d{lay}_{j}")
        inputs = [f"a{lay}_{j}" for j in range(n_out[lay])]
    return lines


def source(
    spec: Sequence[Sequence[int]],
    loss: int,
    rule: int,
    trainable: Sequence[bool],
    decay: tuple[bool, bool],
    header: str = "",
) -> str:
    """The Python source of a module whose ``online_epochs`` is the generic kernel's for one
    network.

    Parameters
    ----------
    spec : sequence of 5 sequences of int
        The first five arrays of :attr:`deltarule._compiled.OnlineKernel.spec`: each layer's
        weights' and biases' offsets (-1: no bias), inputs, outputs and activation code.
    loss, rule : int
        The kernel's loss code (:data:`deltarule._compiled.OUTPUT_CODES`) and rule code
        (:data:`deltarule._compiled.ONLINE_RULES`).
    trainable : sequence of bool
        Each parameter's: a frozen parameter's step is not written.
    decay : (bool, bool)
        Whether the run's L2 coefficient is not 0 as a float (its loss term is written) and
        in the network's dtype (its gradient term is written), as the generic kernel tests
        them.
    header : str
        A comment line of the module (what the code is compiled for).
    """
    w_off, b_off, n_in, n_out, codes = spec
    last, k, pad = len(n_in) - 1, n_out[-1], " " * 12
    step = [f"{pad}y{j} = Y[s, {j}]" for j in range(k)]
    step += _forward(spec, pad) + _output(spec, loss, pad)
    step += [f"{pad}ef = float(e)", f"{pad}if keep:"]
    step += [f"{pad}    outputs[epoch, step, {j}] = a{last}_{j}" for j in range(k)]
    step += [f"{pad}if scale != 1.0:", f"{pad}    ef *= scale"]
    step += [f"{pad}    d{last}_{j} *= c" for j in range(k)]
    if decay[0]:  # E + decay/2 |W|^2, before the weights move
        step.append(f"{pad}sw = zero")
        for lay in range(len(n_in)):
            for q in range(w_off[lay], w_off[lay] + n_in[lay] * n_out[lay]):
                step.append(f"{pad}sw += params[{q}] * params[{q}]")
        step.append(f"{pad}ef += 0.5 * decay * float(sw)")
    step += [f"{pad}esum += ef", f"{pad}if not np.isfinite(ef):", f"{pad}    seen = step + 1",
             f"{pad}    break"]  # fmt: skip
    step += _update(spec, rule, trainable, decay[1], pad)
    step.append(f"{pad}updates += 1")
    # each trainable parameter's gradient summed over the epoch in a local (a frozen one's
    # is 0: adding its 0 to the norm's sum of squares, as the generic kernel does, changes
    # nothing)
    sums = [at for at in range(len(trainable)) if trainable[at]]
    reset = "\n".join(f"{pad[4:]}gs{at} = zero" for at in sums) or f"{pad[4:]}pass"
    norm = "\n".join(f"{pad[4:]}g = gs{at} * inv_n\n{pad[4:]}sq += g * g" for at in sums)
    check = "\n".join(_forward(spec, pad + "    ") + _classified(k, last, pad + "    "))
    return _TEMPLATE.format(
        header=header, k=k, p=len(trainable), step="\n".join(step), reset=reset, norm=norm,
        check=check,
    )  # fmt: skip


def _classified(k: int, last: int, pad: str) -> list[str]:
    """Row ``s`` surely classified otherwise than ``labels`` says: ``right = False`` and the
    loop left (as online_none_wrong decides: mode 1, an output surely above the labelled
    column's; else a column surely on the wrong side of the cut)."""
    outs = [f"float(a{last}_{j})" for j in range(k)]
    lines = [f"{pad}wrong = False", f"{pad}if mode == 1:", f"{pad}    mine = {outs[0]}"]
    for j in range(1, k):
        lines += [f"{pad}    if labels[s, 0] == {j}:", f"{pad}        mine = {outs[j]}"]
    for j in range(k):
        lines += [f"{pad}    v = {outs[j]}",
                  f"{pad}    if v > mine + slack * max(1.0, abs(v)):",
                  f"{pad}        wrong = True"]  # fmt: skip
    lines.append(f"{pad}else:")
    for j in range(k):
        lines += [f"{pad}    v = {outs[j]}",
                  f"{pad}    far = abs(v - cut) > slack * max(1.0, abs(cut), abs(v))",
                  f"{pad}    if far and (v > cut) != (labels[s, {j}] == 1):",
                  f"{pad}        wrong = True"]  # fmt: skip
    lines += [f"{pad}if wrong:", f"{pad}    right = False", f"{pad}    break"]
    return lines


# "naming 1": how _build names the module. numba's cache of a file holds the name its module
# had; a file of the same text imported under another name fails to load from it. A change
# of the naming changes this line, hence the text and the file.
_TEMPLATE = """# Written by deltarule._shaped (naming 1) for one network: {header}
import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def online_epochs(
    params, spec, loss, trainable, X, Y, orders, lr, target, losses, norms, scale, decay, restore,
    outputs, best, best_loss, vel, mu, rule, best_vel, labels, mode, cut, slack,
):
    dt = params.dtype.type
    one, zero, half, two, c001 = dt(1), dt(0), dt(0.5), dt(2), dt(0.01)
    kf = dt({k})
    last = np.empty(params.shape[0] if restore else 0, params.dtype)
    last_v = np.empty(vel.shape[0] if restore else 0, params.dtype)
    m = dt(mu)
    moving = vel.shape[0] > 0
    c, lam = dt(scale), dt(decay)
    n = X.shape[0]
    inv_n = dt(1.0 / n)
    updates = 0
    keep = outputs.shape[0] > 0
    keep_best = best.shape[0] > 0 and restore
    best_epoch = -1
    for epoch in range(losses.shape[0]):
        if restore:
            for i in range({p}):
                last[i] = params[i]
            if moving:
                for i in range({p}):
                    last_v[i] = vel[i]
        esum = 0.0
        seen = n
{reset}
        for step in range(n):
            s = orders[epoch, step] if orders.shape[0] > 0 else step
{step}
        losses[epoch] = esum / seen
        sq = dt(0)
{norm}
        norms[epoch] = np.sqrt(sq)
        finite = True
        for i in range({p}):
            if not np.isfinite(params[i]):
                finite = False
                break
        if not (np.isfinite(losses[epoch]) and finite):
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
        if labels.shape[0] > 0:
            right = True
            for s in range(n):
{check}
            if right:
                return epoch + 1, updates, False, best_epoch, True
    return losses.shape[0], updates, False, best_epoch, False
"""


# ------------------------------------------------------------------------ the tier
class _Shape:
    """One shape's tier in this process: the generic kernel's time on it, then the build."""

    __slots__ = ("spent", "state", "function", "path", "source")

    def __init__(self) -> None:
        self.spent = 0.0
        self.state = "generic"  # "cold" (its source written, not hot yet), "building",
        # then "ready" or "failed"
        self.function: Callable[..., Any] | None = None
        self.path: str | None = None
        self.source: tuple[str, tuple, str] | None = None  # (text, numba types, file stem)


_SHAPES: dict[tuple, _Shape] = {}
_QUEUE: collections.deque[_Shape] = collections.deque()
"""Shapes waiting for the build thread (one at a time: numba compiles one at a time)."""
_WORKER: list[threading.Thread] = []  # (the build thread while it runs)
_WORKER_LOCK = threading.Lock()


def ready(key: tuple | None) -> Callable[..., Any] | None:
    """The compiled kernel of shape ``key`` (see :meth:`OnlineKernel.run
    <deltarule._compiled.OnlineKernel.run>`), or None while it is not ready."""
    shape = _SHAPES.get(key) if key is not None else None
    return None if shape is None else shape.function


def refused(key: tuple) -> None:
    """The kernel of ``key`` did not take the call's arguments: the generic one runs from now."""
    shape = _SHAPES[key]
    shape.function, shape.state = None, "failed"


def spent(
    key: tuple | None,
    seconds: float,
    make: Callable[[], tuple[str, tuple]],
    left: float | None = None,
) -> None:
    """Add ``seconds`` of the generic kernel to shape ``key``; once hot, build it in a thread.

    ``make`` returns the shape's source (:func:`source`) and the numba types of the call's
    arguments, which it is compiled for; it is called only when the shape may be hot.
    ``left``: the seconds the run under way expects to spend in the generic kernel still
    (None: it does not know).
    """
    if key is None:
        return
    shape = _SHAPES.get(key)
    if shape is None:
        shape = _SHAPES[key] = _Shape()
    shape.spent += seconds
    if shape.state == "generic" and shape.spent >= WARM_SECONDS:  # (once: its source, file)
        text, types = make()
        folder = _folder()
        if folder is None:
            shape.state = "failed"
            return
        name = "k" + hashlib.sha256(text.encode()).hexdigest()[:24]
        shape.path = os.path.abspath(os.path.join(folder, name + ".py"))
        shape.source, shape.state = (text, types, name), "cold"
        if os.path.exists(shape.path + ".built"):  # (built before on this machine)
            _start(shape)
    long_enough = left is None or left >= BUILD_SECONDS or shape.spent >= SWEEP_SECONDS
    if shape.state == "cold" and shape.spent >= HOT_SECONDS and long_enough:
        _start(shape)


def _start(shape: _Shape) -> None:
    """Queue ``shape`` for the build thread, started if it is not running (a thread that
    cannot be started leaves the queued shapes to the generic kernel, and raises nothing)."""
    from ._threads import signals_deferred

    shape.state = "building"
    # (a Ctrl-C raised in Thread.start left the thread running but not in _WORKER: the next
    # shape started a second one; it waits for the start)
    with signals_deferred(), _WORKER_LOCK:
        _QUEUE.append(shape)
        if _WORKER:
            return
        thread = threading.Thread(target=_work, name="deltarule-shaped-kernels")
        try:
            thread.start()
        except Exception:  # (no thread at interpreter shutdown, or the system has none left)
            while _QUEUE:
                _QUEUE.popleft().state = "failed"
            return
        _WORKER.append(thread)


def _work() -> None:
    """Build the queued shapes one after another. Once the program is ending (the
    interpreter waits for this thread before it exits), the shapes still queued are dropped:
    a program that ends waits for the build under way at most."""
    while True:
        with _WORKER_LOCK:
            if not _QUEUE:
                _WORKER.clear()
                return
            shape = _QUEUE.popleft()
            if _ENDING or (not _HOOKED and not threading.main_thread().is_alive()):
                shape.state = "failed"
                continue
        _build(shape, *shape.source)  # type: ignore[misc]


_ENDING: list[bool] = []
"""Not empty once the interpreter is ending: told by threading's exit hook, which runs
before it waits for the non-daemon threads (as concurrent.futures is told); where Python has
none, by the main thread having returned."""


def _ending() -> None:
    _ENDING.append(True)


def _watch_the_end() -> bool:
    register = getattr(threading, "_register_atexit", None)
    if register is None:
        return False
    try:
        register(_ending)
    except RuntimeError:  # (already ending)
        _ENDING.append(True)
    return True


def _after_fork() -> None:
    """In a forked child: no build thread runs (it stayed in the parent), so the shapes it
    was building or had queued become cold again (queued anew on their next call)."""
    global _WORKER_LOCK
    _WORKER_LOCK = threading.Lock()  # (the parent's may have been held by its thread)
    _WORKER.clear()
    _QUEUE.clear()
    for shape in _SHAPES.values():
        if shape.state == "building":
            shape.state = "cold"


_HOOKED = _watch_the_end()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def wait() -> None:
    """Wait for every build queued in this process (for tests and benchmarks)."""
    while True:
        with _WORKER_LOCK:
            thread = _WORKER[0] if _WORKER else None
        if thread is None:
            return
        thread.join()
        with _WORKER_LOCK:  # (a thread that ended without clearing itself: not waited for)
            if _WORKER and _WORKER[0] is thread:
                _WORKER.clear()


def _folder() -> str | None:
    """This user's folder for the written-out kernels, or None (the tier off) when there is
    none to keep them in from one process to the next (:func:`private_folder` falls back to a
    fresh folder when the usual one is another user's: each process would compile anew and
    leave a folder behind)."""
    from ._numba_env import private_folder, usual_folder

    folder = private_folder("deltarule-shaped")
    if folder is not None and folder != usual_folder("deltarule-shaped"):
        with contextlib.suppress(OSError):
            os.rmdir(folder)  # (the fresh, empty one)
        return None
    return folder


def _build(shape: _Shape, text: str, types: tuple, name: str) -> None:
    """Write the module (if its file does not hold this text), import it, compile its kernel
    for ``types`` (numba loads it from its cache when it has it) and offer it."""
    from ._numba_env import fork_waits

    try:
        path = shape.path
        assert path is not None
        if not _holds(path, text):
            temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
            with open(temporary, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, path)
        # numba's cache finds the module by the name it had when it was compiled: the name
        # is the file's (see _TEMPLATE); one already imported, in this process's earlier
        # build of the same text, is used again
        module_name = "_deltarule_shaped_" + hashlib.sha256(path.encode()).hexdigest()[:24]
        with fork_waits():
            module = sys.modules.get(module_name)
            if module is None:
                found = importlib.util.spec_from_file_location(module_name, path)
                assert found is not None and found.loader is not None
                module = importlib.util.module_from_spec(found)
                sys.modules[module_name] = module
                found.loader.exec_module(module)
        if not _holds(path, text):  # (changed while it was imported: not ours)
            raise RuntimeError(f"{path} changed while it was imported")
        kernel = module.online_epochs
        if tuple(types) not in kernel.overloads:
            try:
                kernel.compile(types)
            except Exception:  # (numba's cache of the file unreadable: cleared, compiled anew)
                _clear_cache(kernel, path)
                kernel.compile(types)
            kernel.disable_compile()  # (a call of other types: TypeError, the generic runs)
        with open(path + ".built", "w", encoding="utf-8"):  # (its mtime: when last used)
            pass
        shape.function, shape.state = kernel, "ready"
        _evict(os.path.dirname(path))
    except Exception:  # the generic kernel runs on: the tier is only faster, never needed
        shape.state = "failed"


def _clear_cache(kernel: Any, path: str) -> None:
    """Remove numba's cache files of ``path``'s module (an index or data file it cannot
    read would fail every later process too) and the file's "built" mark."""
    cache_path = getattr(getattr(kernel, "_cache", None), "_cache_path", None)
    _remove(path, ".*.nb[ic]", cache_path if isinstance(cache_path, str) else None)
    with contextlib.suppress(OSError):
        os.remove(path + ".built")


def _remove(path: str, pattern: str, cache_path: str | None = None) -> None:
    """Remove the files ``<stem><pattern>`` of ``path``'s module from its ``__pycache__``
    (and numba's ``cache_path``, when numba keeps its cache elsewhere)."""
    import glob

    stem = os.path.splitext(os.path.basename(path))[0]
    folders = {os.path.join(os.path.dirname(path), "__pycache__")}
    if cache_path is not None:
        folders.add(cache_path)
    for folder in folders:
        for found in glob.glob(os.path.join(glob.escape(folder), glob.escape(stem) + pattern)):
            with contextlib.suppress(OSError):
                os.remove(found)


KEPT = 64
"""The most written-out kernels kept in the folder (~0.3 MB each with numba's cache): after a
build, those used longest ago go (a sweep over hundreds of shapes would fill the temporary
folder)."""


def _evict(folder: str) -> None:
    """Remove the files of all but the :data:`KEPT` kernels used last (by their "built"
    mark, written at every build or load)."""
    import glob

    def used(mark: str) -> float:
        try:
            return os.path.getmtime(mark)
        except OSError:
            return 0.0

    marks = sorted(glob.glob(os.path.join(glob.escape(folder), "k*.py.built")), key=used)
    for mark in marks[: max(0, len(marks) - KEPT)]:
        path = mark[: -len(".built")]
        for gone in (mark, path):
            with contextlib.suppress(OSError):
                os.remove(gone)
        _remove(path, ".*")  # (numba's index and data, Python's compiled module)


def _holds(path: str, text: str) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read() == text
    except OSError:
        return False
