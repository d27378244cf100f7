r"""Full-batch solvers: L-BFGS and Levenberg–Marquardt.

Unlike the first-order rules of :mod:`deltarule.optimizers`, these run their
own iterations over the whole training set. The training loop hands a solver
an ``objective(params) -> (E, dE/dθ)`` and an ``on_iteration(E, grad)``
reporter (one call per iteration, which becomes one epoch record and may ask
to stop); the solver updates ``network.parameters`` in place.

L-BFGS
    Limited-memory BFGS with bound-free line search (Liu & Nocedal, 1989),
    through :func:`scipy.optimize.minimize` (``method="L-BFGS-B"``).
Levenberg–Marquardt
    For squared-error losses :math:`E = \tfrac12\lVert r(\theta)\rVert^2`
    (Levenberg, 1944; Marquardt, 1963; MATLAB's ``trainlm``): with the
    Jacobian :math:`J = \partial r/\partial\theta`, each iteration solves

    .. math:: (J^\top J + \mu I)\,\Delta = -J^\top r

    and accepts :math:`\theta + \Delta` if it lowers :math:`E` (then
    :math:`\mu \leftarrow \mu\cdot\mu_{dec}`), else raises
    :math:`\mu \leftarrow \mu\cdot\mu_{inc}` and tries again. Its cost grows with
    :math:`n_{samples} \cdot n_{outputs} \cdot n_{parameters}^2`: meant for small networks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _scipy
from ._threads import scipy_blas_single_threaded
from ._typing import Array
from .exceptions import InputError, UnknownNameError

__all__ = [
    "FullBatchSolver",
    "LBFGS",
    "LevenbergMarquardt",
    "SOLVERS",
    "get_first_order",
    "get_solver",
    "refuse_mini_batch_settings",
]

Objective = Callable[[Array], "tuple[float, Array]"]
Reporter = Callable[[float, Array], "str | None"]


class FullBatchSolver:
    """Base class of solvers that drive their own full-batch iterations."""

    name = "solver"
    learning_rate = 0.0
    step_rule = "it chooses its own steps"
    """How the solver sizes its steps (said when a learning rate is refused)."""

    def run(
        self,
        network: Any,
        data: Any,
        objective: Objective,
        on_iteration: Reporter,
        max_iter: int,
        interrupt: Any,
    ) -> str:
        """Iterate at most ``max_iter`` times; return the reason for stopping."""
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        return {"name": self.name, **{k: v for k, v in vars(self).items() if not k.startswith("_")}}


class LBFGS(FullBatchSolver):
    """L-BFGS through scipy.optimize (full batch).

    Parameters
    ----------
    memory : int
        Number of correction pairs kept (scipy's ``maxcor``).
    max_fun : int
        Maximum number of loss evaluations (scikit-learn's ``max_fun``).
    tol : float
        Default for both ``gtol`` and ``ftol``.
    gtol : float, optional
        Stop when the projected gradient's largest entry falls below this.
    ftol : float, optional
        Stop when the relative reduction of the loss falls below this
        (scikit-learn passes only ``gtol=tol`` and keeps scipy's ``ftol``).
    """

    name = "lbfgs"
    step_rule = "a line search chooses the length of each step"

    def __init__(
        self,
        memory: int = 10,
        max_fun: int = 15000,
        tol: float = 1e-9,
        gtol: float | None = None,
        ftol: float | None = None,
    ) -> None:
        self.memory, self.max_fun, self.tol = int(memory), int(max_fun), float(tol)
        self.gtol = self.tol if gtol is None else float(gtol)
        self.ftol = self.tol if ftol is None else float(ftol)

    def run(self, network, data, objective, on_iteration, max_iter, interrupt) -> str:  # noqa: ANN001
        last: dict[str, Any] = {}

        def fun(x: Array) -> tuple[float, Array]:
            np.copyto(network.parameters, x, casting="unsafe")
            loss, grad = objective(network.parameters)
            last.update(x=x.copy(), grad=grad.copy())
            return loss, grad.astype(np.float64)

        stop: list[str] = []

        def callback(intermediate_result: Any) -> None:
            x = intermediate_result.x
            if not np.array_equal(x, last.get("x")):
                fun(x)
            np.copyto(network.parameters, x, casting="unsafe")
            reason = on_iteration(float(intermediate_result.fun), last["grad"])
            if reason or interrupt.requested:
                stop.append(reason or f"interrupted ({interrupt.signal})")
                raise StopIteration

        options = {
            "maxiter": max_iter,
            "maxfun": self.max_fun,
            "maxcor": self.memory,
            "ftol": self.ftol,
            "gtol": self.gtol,
        }
        x0 = network.parameters.astype(np.float64)
        with scipy_blas_single_threaded():
            result = _scipy.optimize().minimize(
                fun, x0, jac=True, method="L-BFGS-B", callback=callback, options=options
            )
        np.copyto(network.parameters, result.x, casting="unsafe")
        if stop:
            return stop[0]
        if result.nit >= max_iter:
            return f"max epochs ({max_iter}) reached"
        return f"L-BFGS stopped: {result.message}"


_SQUARED_LOSSES = {"half_squared_error": 1.0, "mse": 2.0}


def damped_steps(jac: Array, r: Array) -> Callable[[float], Array]:
    r"""Return ``step(mu)``, Levenberg–Marquardt's step for damping :math:`\mu`:

    .. math:: (J^\top J + \mu I)\,s = -J^\top r

    for the Jacobian ``jac`` (m residuals, p parameters) and residuals ``r``, with one
    factorisation for every :math:`\mu` a step tries. With m >= p, :math:`J^\top J =
    V \Lambda V^\top` and :math:`s = -V (\Lambda + \mu)^{-1} V^\top J^\top r`; with fewer
    residuals than parameters (a network of 1,201 weights on 30 rows), the m × m
    :math:`J J^\top = U \Lambda U^\top` and :math:`s = -J^\top U (\Lambda + \mu)^{-1}
    U^\top r`, the same step. (A solve of the p × p system for each trial damping took
    4 of 4.5 s of such a fit.)
    """
    m, p = jac.shape
    eigh = _scipy.linalg().eigh
    if m >= p:
        lam, v = eigh(jac.T @ jac)
        coef = v.T @ (jac.T @ r)
        lam = np.maximum(lam, 0.0)  # (rounding: J^T J has no negative eigenvalues)
        return lambda mu: -(v @ (coef / (lam + mu)))
    lam, u = eigh(jac @ jac.T)
    coef = u.T @ r
    lam = np.maximum(lam, 0.0)
    return lambda mu: -(jac.T @ (u @ (coef / (lam + mu))))


class LevenbergMarquardt(FullBatchSolver):
    """Levenberg–Marquardt for squared-error losses on small networks.

    Parameters
    ----------
    mu : float
        Initial damping (MATLAB trainlm: 0.001).
    mu_dec, mu_inc : float
        Damping factors after a successful / failed step (0.1 and 10).
    mu_max : float
        Give up when the damping exceeds this (1e10).
    """

    name = "lm"
    step_rule = "its damping mu sets the size of each step"

    def __init__(
        self, mu: float = 1e-3, mu_dec: float = 0.1, mu_inc: float = 10.0, mu_max: float = 1e10
    ) -> None:
        self.mu, self.mu_dec, self.mu_inc, self.mu_max = mu, mu_dec, mu_inc, mu_max

    @staticmethod
    def _penalty(network: Any, data: Any) -> tuple[float, Array]:
        r"""The coefficient :math:`\sqrt{\lambda / s}` of the objective's L2 term,
        :math:`\tfrac{\lambda}{2s}\lVert W\rVert^2` (:meth:`Network.objective_terms`;
        :math:`s` the rows' total weight), and the positions of the weights (not the
        biases) in the flat parameters."""
        terms = network.objective_terms()
        lam = 0.0 if terms is None else terms[1]
        if not lam:
            return 0.0, np.zeros(0, np.int64)
        total = data.X.shape[0] if data.sample_weight is None else float(data.sample_weight.sum())
        layout = network.layout
        where = [np.arange(layout[f"W{i}"].offset, layout[f"W{i}"].slice.stop)
                 for i in range(1, len(network.layers) + 1)]  # fmt: skip
        return float(np.sqrt(lam / total)), np.concatenate(where)

    def _residuals(
        self, network: Any, data: Any, params: Array, penalty: tuple[float, Array]
    ) -> tuple[Array, Array, float]:
        r"""Return (r, J, E) at params, with E = ½‖r‖² equal to the network's objective: its
        error, and the L2 term of :meth:`Network.objective_terms` (scikit-learn's
        ``alpha``) as rows :math:`\sqrt{\lambda/s}\,W` of ``r`` (Tikhonov's)."""
        output, caches = network.forward(data.X, params)
        n, k = output.shape
        terms = network.objective_terms()
        scale = 1.0 if terms is None else terms[0]
        c = scale * _SQUARED_LOSSES[network.loss.name] / (k if network.loss.name == "mse" else 1)
        w = np.ones(n) if data.sample_weight is None else data.sample_weight.astype(np.float64)
        row = np.sqrt(c * w / w.sum())
        r = ((output - data.y) * row[:, None]).ravel().astype(np.float64)
        jac = network.jacobian(caches, params).astype(np.float64) * np.repeat(row, k)[:, None]
        jac = jac[:, network.trainable]
        coef, where = penalty
        if coef:
            r = np.concatenate([r, coef * params[where].astype(np.float64)])
            rows = np.zeros((where.size, jac.shape[1]))
            column = np.cumsum(network.trainable) - 1  # (a parameter's column in jac)
            kept = network.trainable[where]
            rows[np.flatnonzero(kept), column[where[kept]]] = coef
            jac = np.vstack([jac, rows])
        return r, jac, 0.5 * float(r @ r)

    @staticmethod
    def _objective(network: Any, data: Any, params: Array, penalty: tuple[float, Array]) -> float:
        """½‖r‖² at ``params`` without the Jacobian (a trial step's)."""
        error = network.evaluate_params(params, data.X, data.y, data.sample_weight)
        coef, where = penalty
        if coef:
            weights = coef * params[where].astype(np.float64)
            error += 0.5 * float(weights @ weights)
        return error

    def run(self, network, data, objective, on_iteration, max_iter, interrupt) -> str:  # noqa: ANN001
        from .losses import is_builtin

        if network.loss.name not in _SQUARED_LOSSES or not is_builtin(network.loss):
            user = "" if is_builtin(network.loss) else " (a user's Loss: its residuals are unknown)"
            raise InputError(
                f"Levenberg–Marquardt needs a squared-error loss (half_squared_error or mse); "
                f"the network uses {network.loss.name!r}{user}. Use optimizer='lbfgs' or 'adam'."
            )
        params = network.parameters
        mu = self.mu
        penalty = self._penalty(network, data)
        for _ in range(max_iter):
            r, jac, error = self._residuals(network, data, params, penalty)
            damped_step = damped_steps(jac, r)
            while True:
                step = damped_step(mu)
                candidate = params.copy()
                candidate[network.trainable] += step.astype(params.dtype)
                new_error = self._objective(network, data, candidate, penalty)
                if new_error < error:
                    np.copyto(params, candidate)
                    mu *= self.mu_dec
                    break
                mu *= self.mu_inc
                if mu > self.mu_max:
                    return (
                        f"Levenberg–Marquardt stopped: damping exceeded {self.mu_max:g} "
                        "(no step lowers the error)"
                    )
            loss, grad = objective(params)
            reason = on_iteration(loss, grad)
            if reason or interrupt.requested:
                return reason or f"interrupted ({interrupt.signal})"
        return f"max epochs ({max_iter}) reached"


SOLVERS: dict[str, type[FullBatchSolver]] = {
    "lbfgs": LBFGS,
    "l-bfgs": LBFGS,
    "lm": LevenbergMarquardt,
    "levenberg_marquardt": LevenbergMarquardt,
}


def refuse_mini_batch_settings(
    solver: FullBatchSolver,
    learning_rate: float | None,
    batch_size: int | None,
    default_batch_size: int,
) -> None:
    """Raise :class:`InputError` for settings that ``solver`` would silently ignore.

    A full-batch solver uses the whole training set in every iteration and sizes its
    own steps, so an explicit ``learning_rate``, or a ``batch_size`` other than None
    (full batch) or the default, would have no effect.

    Parameters
    ----------
    solver : FullBatchSolver
    learning_rate : float or None
        None (the default) is accepted.
    batch_size : int or None
        None or ``default_batch_size`` are accepted.
    default_batch_size : int
        The caller's default, which cannot be told apart from an explicit value.
    """
    ignored, expected = [], []
    if learning_rate is not None:
        ignored.append(f"learning_rate={learning_rate!r} ({solver.step_rule})")
        expected.append("learning_rate=None")
    if batch_size is not None and batch_size != default_batch_size:
        ignored.append(f"batch_size={batch_size!r} (it uses every example in each iteration)")
        expected.append("batch_size=None")
    if ignored:
        raise InputError(
            f"optimizer {solver.name!r} would ignore {' and '.join(ignored)}; expected "
            f"{' and '.join(expected)} with a full-batch solver. Leave "
            f"{'them' if len(ignored) > 1 else 'it'} out, or choose a first-order optimizer "
            "(sgd, momentum, adam, ...) to train in mini-batches with a learning rate."
        )


def get_solver(solver: Any, **kwargs: Any) -> FullBatchSolver | None:
    """Return a solver for a name in :data:`SOLVERS` or a solver object; None otherwise."""
    if isinstance(solver, FullBatchSolver):
        return solver
    if isinstance(solver, str) and solver.lower() in SOLVERS:
        return SOLVERS[solver.lower()](**kwargs)
    return None


def get_first_order(optimizer: Any, **kwargs: Any) -> Any:
    """:func:`~deltarule.optimizers.get_optimizer` for a name that is not a solver's; an
    unknown name's error lists (and suggests) the solvers' names too, as fit takes both."""
    from ._validation import lookup
    from .optimizers import OPTIMIZERS, get_optimizer

    try:
        return get_optimizer(optimizer, **kwargs)
    except UnknownNameError:
        lookup({**OPTIMIZERS, **SOLVERS}, optimizer, "optimizer")  # raises with every name
        raise
