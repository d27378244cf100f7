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

import warnings

from sklearn.exceptions import ConvergenceWarning as SklearnConvergenceWarning

from .._reports import DIVERGED, user_stacklevel
from ..exceptions import ConvergenceWarning as CoreConvergenceWarning
from ..history import History
from ._solvers import FULL_BATCH

__all__ = [
    "ConvergenceWarning",
    "convergence_message",
    "diverged",
    "warn_convergence",
]


class ConvergenceWarning(SklearnConvergenceWarning, CoreConvergenceWarning):
    """Training did not converge: scikit-learn's ``ConvergenceWarning`` and deltarule's.

    A filter or ``except`` clause for either class applies to the estimators' warnings.
    """


def diverged(history: History) -> bool:
    """True when the loop stopped because training diverged."""
    return history.stop_reason.startswith(DIVERGED)


def convergence_message(
    history: History, solver: str, max_iter: int, incremental: bool
) -> str | None:
    """The convergence warning one training run calls for, in scikit-learn's words; or None.

    Divergence (the loop's message, with its advice); ``max_iter`` reached by a ``fit``
    (not ``partial_fit``, which runs one epoch by design); and, for L-BFGS, scipy stopping
    for another reason than convergence (its ``max_fun`` or a failed line search), as
    scikit-learn's ``_check_optimize_result`` warns.
    """
    reason = history.stop_reason
    if diverged(history):
        return reason
    if incremental:
        return None
    if reason.startswith("max epochs"):
        if solver in FULL_BATCH:
            return f"{solver} failed to converge after {max_iter} iteration(s)."
        return (
            f"Stochastic Optimizer: Maximum iterations ({max_iter}) reached and the "
            "optimization hasn't converged yet."
        )
    if reason.startswith("L-BFGS stopped") and "CONVERGENCE" not in reason.upper():
        return f"lbfgs failed to converge: {reason}."
    return None


def warn_convergence(message: str | None) -> None:
    """Issue ``message`` (if any) as :class:`ConvergenceWarning` at the user's call."""
    if message is not None:
        warnings.warn(message, ConvergenceWarning, stacklevel=user_stacklevel())
