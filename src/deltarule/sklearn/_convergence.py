"""The estimators' convergence warnings, as scikit-learn's ``ConvergenceWarning``.

deltarule's training loop warns with :class:`deltarule.exceptions.ConvergenceWarning`
when training diverges; scikit-learn's users silence or catch
:class:`sklearn.exceptions.ConvergenceWarning`. The estimators therefore turn the
loop's divergence warning off (``Trainer.fit(warn_divergence=False)``: no warning
filter, so concurrent fits in threads are safe) and issue every convergence warning
themselves — divergence, ``max_iter`` reached, L-BFGS failing —
as :class:`ConvergenceWarning`, a subclass of both, once the fit has finished and
every fitted attribute describes it (:func:`warn_convergence`). The warning points
at the line that called ``fit`` or ``partial_fit`` (the first caller outside
deltarule), as the loop's own warnings do.
"""

from __future__ import annotations

import functools
import warnings

from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning

from .._reports import DIVERGED, user_stacklevel
from ..exceptions import ConvergenceWarning as CoreConvergenceWarning
from ..exceptions import DivergenceError
from ..history import History
from ._solvers import FULL_BATCH

__all__ = [
    "ConvergenceWarning",
    "SolverDivergedError",
    "convergence_message",
    "diverged",
    "lbfgs_message",
    "warn_convergence",
]


class ConvergenceWarning(SklearnConvergenceWarning, CoreConvergenceWarning):
    """Training did not converge: scikit-learn's ``ConvergenceWarning`` and deltarule's.

    A filter or ``except`` clause for either class applies to the estimators' warnings.
    """


NON_FINITE_WEIGHTS = (
    "Solver produced non-finite parameter weights. The input data may contain large values "
    "and need to be preprocessed."
)
"""scikit-learn's error when its solver blew the weights up."""


class SolverDivergedError(DivergenceError, ValueError):
    """A stochastic solver diverged in ``fit`` or ``partial_fit``: scikit-learn's
    ``ValueError`` (its message first), and deltarule's :class:`DivergenceError`.

    The fit is undone (the estimator is left as it was before the call); the message
    goes on with the training loop's diagnosis and advice.

    Parameters
    ----------
    reason : str
        The loop's stop reason ("training diverged at epoch ...").
    """

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"{NON_FINITE_WEIGHTS} (deltarule: {reason} The estimator is left as it was "
            "before this call.)"
        )
        self.reason = reason

    def __reduce__(self) -> tuple:
        return type(self), (self.reason,)


def diverged(history: History) -> bool:
    """True when the loop stopped because training diverged."""
    return history.stop_reason.startswith(DIVERGED)


@functools.cache
def _iterations_limit() -> str:
    """scipy's L-BFGS-B message when ``maxiter`` stops it (status 1), in this scipy's
    words: "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT" from newer scipy (its C L-BFGS-B;
    1.17 here), "... NO. of ..." from older (1.13). One iteration of Rosenbrock's asks it."""
    import numpy as np
    from scipy.optimize import minimize, rosen, rosen_der

    start = np.array([-1.2, 1.0])
    result = minimize(rosen, start, jac=rosen_der, method="L-BFGS-B", options={"maxiter": 1})
    return str(result.message)


_LBFGS_PREFIX = "L-BFGS stopped: "
"""How :class:`deltarule.solvers.LBFGS` reports scipy's message."""


def lbfgs_message(scipy_message: str, n_iter: int, max_iter: int) -> str:
    """scikit-learn's ``_check_optimize_result`` warning for scipy's L-BFGS-B stopping early.

    scipy's status is 1 when a limit (``maxiter``, ``maxfun``) stopped it, 2 otherwise
    (an abnormal line search, ...); the advice to raise ``max_iter`` comes when the
    iterations reached it.
    """
    status = 1 if "LIMIT" in scipy_message.upper() else 2
    message = (
        f"lbfgs failed to converge after {n_iter} iteration(s) (status={status}):\n"
        f"{scipy_message}\n"
    )
    if n_iter == max_iter:
        message += (
            f"\nIncrease the number of iterations to improve the convergence (max_iter={max_iter})."
        )
    return message + (
        "\nYou might also want to scale the data as shown in:\n"
        "    https://scikit-learn.org/stable/modules/preprocessing.html"
    )


def convergence_message(
    history: History, solver: str, max_iter: int, incremental: bool, n_iter: int
) -> str | None:
    """The convergence warning one training run calls for, in scikit-learn's words; or None.

    Divergence (the loop's message, with its advice); ``max_iter`` reached by a ``fit``
    (not ``partial_fit``, which runs one epoch by design); and, for L-BFGS, scipy stopping
    for another reason than convergence (its ``max_fun`` or a failed line search), as
    scikit-learn's ``_check_optimize_result`` warns (``n_iter``: the iterations run).
    """
    reason = history.stop_reason
    if diverged(history):
        return reason
    if incremental:
        return None
    if reason.startswith("max epochs"):
        if solver == "lbfgs":
            return lbfgs_message(_iterations_limit(), min(n_iter, max_iter), max_iter)
        if solver in FULL_BATCH:
            return f"{solver} failed to converge after {max_iter} iteration(s)."
        return (
            f"Stochastic Optimizer: Maximum iterations ({max_iter}) reached and the "
            "optimization hasn't converged yet."
        )
    if reason.startswith(_LBFGS_PREFIX) and "CONVERGENCE" not in reason.upper():
        return lbfgs_message(reason[len(_LBFGS_PREFIX) :], min(n_iter, max_iter), max_iter)
    return None


def warn_convergence(message: str | None) -> None:
    """Issue ``message`` (if any) as :class:`ConvergenceWarning` at the user's call."""
    if message is not None:
        warnings.warn(message, ConvergenceWarning, stacklevel=user_stacklevel())
