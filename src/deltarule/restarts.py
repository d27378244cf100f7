"""Training from several random starts and keeping the best (R neuralnet's ``rep``).

A network trained by gradient descent ends where its starting weights lead it; XOR, for
one, gets stuck from some starts. :func:`fit_restarts` trains copies of a network from
``restarts`` starting points drawn from one seed, keeps every run's
:class:`~deltarule.history.History`, and leaves the network at the best run's weights, as
``neuralnet(..., rep=5)`` followed by ``rep = "best"`` does.

Examples
--------
>>> import numpy as np, deltarule as dr
>>> from deltarule.training import fit_restarts
>>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
>>> y = np.array([[0], [1], [1], [0]], dtype=float)
>>> net = dr.Network([2, 3, 1], activation="tanh", output_activation="sigmoid")
>>> runs = fit_restarts(net, X, y, restarts=3, seed=0, epochs=5, batch_size=None,
...                     verbose=0, warn_convergence=False)
>>> len(runs.histories), len(runs.seeds), runs.best in range(3)
(3, 3, True)
>>> runs.losses[runs.best] == min(runs.losses)
True
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._reports import DIVERGED, user_stacklevel
from ._typing import ArrayLike
from ._validation import check_int
from .exceptions import ConvergenceWarning, InputError
from .history import EpochRecord, History
from .network import Network, SummaryText, require_network

__all__ = ["Restarts", "fit_restarts"]

SELECT = ("loss", "val_loss")
"""What :func:`fit_restarts` may choose the best run by."""


@dataclass(frozen=True)
class Restarts:
    """Every run of :func:`fit_restarts` and which one was kept.

    Attributes
    ----------
    best : int
        Index of the kept run (its weights are the network's).
    histories : list of History
        Each run's history, in the order run.
    seeds : list of int
        Each run's seed: its starting weights (``network.initialize(seed=s)``) and its
        shuffling and validation split (``fit(..., seed=s)``) both come from it.
    losses : list of float
        What each run was judged by (see ``select``); NaN where a run recorded none.
    select : {"loss", "val_loss"}
    """

    best: int
    histories: list[History]
    seeds: list[int]
    losses: list[float]
    select: str = "loss"

    @property
    def epochs(self) -> list[int]:
        """Epochs each run trained."""
        return [len(history) for history in self.histories]

    @property
    def stop_reasons(self) -> list[str]:
        """Why each run stopped."""
        return [history.stop_reason for history in self.histories]

    def summary(self) -> SummaryText:
        """A table of the runs (as neuralnet's result matrix), ``*`` marking the kept one: a
        :class:`~deltarule.network.SummaryText`, a ``str`` that shows as the table in a
        notebook cell."""
        rows = [("restart", self.select, "epochs", "stop reason")]
        for i, (loss, epochs, reason) in enumerate(
            zip(self.losses, self.epochs, self.stop_reasons)
        ):
            mark = "*" if i == self.best else " "
            rows.append((f"{mark}{i}", f"{loss:.6g}", str(epochs), _short(reason)))
        widths = [max(len(row[k]) for row in rows) for k in range(3)]
        lines = [
            f"{row[0]:>{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}"
            for row in rows
        ]
        lines.append(f"* kept: restart {self.best} (lowest {self.select})")
        return SummaryText("\n".join(lines))


def _short(reason: str) -> str:
    """A stop reason's first clause (a divergence's advice left out of the table)."""
    return reason.split(":")[0] if reason.startswith(DIVERGED) else reason


def fit_restarts(
    network: Network,
    X: ArrayLike,
    y: ArrayLike,
    restarts: int = 5,
    seed: int = 0,
    select: str = "loss",
    *,
    initializer: Any = "glorot_uniform",
    bias_initializer: Any = "zeros",
    **fit_kwargs: Any,
) -> Restarts:
    """Train ``network`` from ``restarts`` random starts; keep the best run's weights.

    Run ``i`` draws new weights for a copy of ``network`` from ``seeds[i]`` and trains it
    with :func:`deltarule.training.fit` (``seed=seeds[i]``, so its shuffling is seeded
    too). The seeds come from ``numpy.random.SeedSequence(seed).spawn(restarts)``: one
    ``seed`` gives the same runs every time, and the first ``k`` runs are the same for any
    ``restarts >= k``. Run ``i`` alone is ``network.initialize(initializer,
    bias_initializer, seed=seeds[i])`` then ``fit(network, X, y, seed=seeds[i],
    **fit_kwargs)``. Frozen parameters (:meth:`Network.freeze`) keep their values. The
    network is left untouched until every run is done, then set to the best run's weights.

    Parameters
    ----------
    network : Network
    X : array-like of shape (n_samples, n_inputs)
    y : array-like of shape (n_samples, n_outputs)
    restarts : int, default 5
        Number of runs (R neuralnet's ``rep``).
    seed : int, default 0
        Non-negative; the only source of the runs' randomness.
    select : {"loss", "val_loss"}
        Keep the run with the lowest final training loss (the loss of the last epoch, or
        of the epoch whose weights early stopping restored), or with the lowest validation
        loss of any epoch (needs ``validation_split`` or ``validation_data``). A run that
        recorded no finite value counts as the worst.
    initializer, bias_initializer : str or callable
        How the starting weights are drawn (:meth:`Network.initialize`).
    **fit_kwargs
        Passed to every :func:`~deltarule.training.fit`. Callbacks given
        are shared by the runs.

    Returns
    -------
    Restarts
        Every run's history, seed and loss, and the index ``best`` of the kept one;
        ``summary()`` tabulates them.

    Warns
    -----
    ConvergenceWarning
        Once, when any run stopped at the epoch limit unconverged or diverged ("k of N
        restarts stopped at the epoch limit ..."), instead of one warning a run. Other
        warnings of the runs are issued unchanged. (The runs' warnings are collected with
        :func:`warnings.catch_warnings`, which is not thread-safe.)

    Examples
    --------
    >>> import numpy as np, deltarule as dr
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    >>> y = np.array([[0], [1], [1], [0]], dtype=float)
    >>> net = dr.Network([2, 3, 1], activation="tanh", output_activation="sigmoid")
    >>> runs = dr.fit_restarts(net, X, y, restarts=3, epochs=5, verbose=0,
    ...                        warn_convergence=False)
    >>> runs.best in range(3), [len(h) for h in runs.histories]
    (True, [5, 5, 5])
    >>> print(runs.summary().splitlines()[0])
    restart      loss  epochs  stop reason
    """
    network = require_network(network, "fit_restarts")
    restarts = check_int(restarts, "restarts")
    seeds = _seeds(seed, restarts)
    _check_select(select, fit_kwargs)
    frozen = ~network.trainable
    histories, finals, caught = [], [], []
    for run_seed in seeds:
        run = network.copy()
        run.initialize(initializer, bias_initializer, seed=run_seed)
        run.parameters[frozen] = network.parameters[frozen]
        with warnings.catch_warnings(record=True) as messages:
            warnings.simplefilter("always")
            histories.append(run.fit(X, y, seed=run_seed, **fit_kwargs))
        caught.append(messages)
        finals.append(run.parameters.copy())
    losses = [_judged(history, select) for history in histories]
    best = min(range(restarts), key=lambda i: _rank(losses[i]))
    network.parameters = finals[best]
    _report(caught, histories, best)
    return Restarts(best, histories, seeds, losses, select)


def _seeds(seed: Any, restarts: int) -> list[int]:
    """``restarts`` independent non-negative int seeds from ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(
            f"seed must be a non-negative integer; received {type(seed).__name__} {seed!r}. "
            "Every run's seed is derived from it, so results repeat."
        )
    children = np.random.SeedSequence(int(seed)).spawn(restarts)
    return [int(child.generate_state(1)[0]) for child in children]


def _check_select(select: Any, fit_kwargs: dict[str, Any]) -> None:
    if not isinstance(select, str) or select not in SELECT:
        raise InputError(
            f"select must be one of {', '.join(map(repr, SELECT))}; received {select!r}."
        )
    validates = fit_kwargs.get("validation_split") or (
        fit_kwargs.get("validation_data") is not None
    )
    if select == "val_loss" and not validates:
        raise InputError(
            'select="val_loss" chooses by the validation loss, but no validation data was '
            "given. Pass validation_split=0.2 (or validation_data=(X_val, y_val)), or use "
            'select="loss".'
        )


def _judged(history: History, select: str) -> float:
    """The value a run is judged by; NaN when it recorded none."""
    if select == "val_loss":
        values = [v for v in history.val_loss if v is not None and math.isfinite(v)]
        return min(values) if values else math.nan
    record: EpochRecord | None = history.last
    if history.best_epoch is not None:  # early stopping restored that epoch's weights
        record = next((r for r in history.records if r.epoch == history.best_epoch), record)
    return math.nan if record is None else float(record.loss)


def _rank(loss: float) -> float:
    """Sort key: lower is better, NaN (no finite loss) worst."""
    return loss if not math.isnan(loss) else math.inf


def _report(caught: list[list[warnings.WarningMessage]], histories: list, best: int) -> None:
    """Issue the runs' other warnings unchanged and their convergence warnings as one."""
    limited, diverged = [], []
    for i, messages in enumerate(caught):
        for message in messages:
            if not issubclass(message.category, ConvergenceWarning):
                warnings.warn_explicit(
                    message.message,
                    message.category,
                    message.filename,
                    message.lineno,
                    source=message.source,
                )
            elif histories[i].stop_reason.startswith(DIVERGED):
                diverged.append(i)
            else:
                limited.append(i)
    limited, diverged = sorted(set(limited)), sorted(set(diverged))
    if not (limited or diverged):
        return
    n = len(caught)
    parts = []
    if limited:
        parts.append(
            f"{len(limited)} of {n} restarts stopped at the epoch limit before converging "
            f"(restarts {', '.join(map(str, limited))})"
        )
    if diverged:
        parts.append(
            f"{len(diverged)} of {n} restarts diverged (restarts {', '.join(map(str, diverged))})"
        )
    advice = "raise epochs or add a stopping rule" if limited else "lower the learning rate"
    warnings.warn(
        f"{'; '.join(parts)}; restart {best} is kept. Restarts.summary() lists each run's "
        f"stop reason; {advice}.",
        ConvergenceWarning,
        stacklevel=user_stacklevel(),
    )
