"""The result of :func:`deltarule.permutation_importance`: the importances of each column in
each repeat, their mean and spread, and a table of them by importance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._typing import Array

__all__ = ["PermutationImportance"]


@dataclass(frozen=True, eq=False)
class PermutationImportance:
    """Permutation importances, as scikit-learn's ``permutation_importance`` returns them.

    Attributes
    ----------
    importances : ndarray of shape (n_columns, n_repeats)
        The importance of each column (group) in each repeat: how much worse the score was
        with it shuffled (baseline − score for a score, score − baseline for an error).
    baseline : float
        The score on the data as given.
    columns : tuple of str
        The columns' (groups') names, in the rows' order.
    scoring : str
        The metric's name, or ``"loss"``.
    greater_is_better : bool
        False for an error (the loss, MSE, log loss): importance is its increase.
    seed : int or None
        The seed the permutations were drawn from (None: a Generator was given).

    Examples
    --------
    >>> result = PermutationImportance(np.array([[0.1, 0.3], [0.0, 0.02]]), 0.9, ("a", "b"),
    ...                                "accuracy", True, 0)
    >>> result.importances_mean, result["importances_std"]
    (array([0.2 , 0.01]), array([0.1 , 0.01]))
    """

    importances: Array
    baseline: float
    columns: tuple[str, ...]
    scoring: str
    greater_is_better: bool
    seed: int | None

    @property
    def importances_mean(self) -> Array:
        """ndarray of shape (n_columns,): each column's mean importance over the repeats."""
        return self.importances.mean(axis=1)

    @property
    def importances_std(self) -> Array:
        """ndarray of shape (n_columns,): the population standard deviation (ddof=0, as
        scikit-learn's) of each column's importances over the repeats."""
        return self.importances.std(axis=1)

    @property
    def n_repeats(self) -> int:
        """How many times each column was shuffled."""
        return int(self.importances.shape[1])

    def __getitem__(self, key: str) -> Any:
        """``result["importances_mean"]``, as scikit-learn's Bunch is read."""
        if key in ("importances", "importances_mean", "importances_std"):
            return getattr(self, key)
        raise KeyError(f"{key!r}; expected 'importances', 'importances_mean' or 'importances_std'")

    def order(self) -> list[int]:
        """The columns' positions by mean importance, the greatest first (ties: in order)."""
        return [int(j) for j in np.argsort(-self.importances_mean, kind="stable")]

    def records(self) -> list[dict[str, Any]]:
        """A dict per column, by importance: column, mean, std, and each repeat's."""
        mean, std = self.importances_mean, self.importances_std
        return [
            {"column": self.columns[j], "mean": float(mean[j]), "std": float(std[j]),
             "importances": [float(v) for v in self.importances[j]]}
            for j in self.order()
        ]  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """All of it as plain data (for JSON): scoring, baseline, repeats, seed, columns."""
        return {
            "scoring": self.scoring,
            "greater_is_better": self.greater_is_better,
            "baseline": float(self.baseline),
            "n_repeats": self.n_repeats,
            "seed": self.seed,
            "importance": "baseline - score" if self.greater_is_better else "score - baseline",
            "columns": self.records(),
        }

    def summary(self, digits: int = 4) -> str:
        """A text table, a column a row by mean importance (± std), under a line naming the
        scoring, its baseline, the repeats and the seed."""
        meaning = "drop in" if self.greater_is_better else "increase in"
        seed = "a Generator" if self.seed is None else str(self.seed)
        head = (
            f"permutation importance: {meaning} {self.scoring} when a column is shuffled "
            f"(baseline {self.scoring} {self.baseline:.{digits}g}; {self.n_repeats} "
            f"repeat{'s' * (self.n_repeats != 1)}, seed {seed})"
        )
        rows = [
            [r["column"], f"{r['mean']:.{digits}f}", f"± {r['std']:.{digits}f}"]
            for r in self.records()
        ]
        table = [["column", "importance", "std"], *rows]
        widths = [max(len(row[i]) for row in table) for i in range(3)]
        lines = [
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                      enumerate(zip(row, widths))).rstrip()
            for row in table
        ]  # fmt: skip
        return "\n".join([head, *lines])

    def __str__(self) -> str:
        return self.summary()
