"""The permutation-importance figure: a horizontal bar a column, the most important on
top, with the spread over the repeats as error bars (re-exported by :mod:`deltarule.plots`,
whose conventions it follows: no pyplot, data text drawn as written). Its helpers are
imported when a figure is drawn: plots imports this module as it loads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .exceptions import InputError

__all__ = ["importance_figure", "save_importance_plot"]


def _label(name: str, limit: int = 40) -> str:
    from .plots import plain_text

    text = plain_text(name)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def importance_figure(result: Any, *, ax: Any = None, title: str = "") -> Any:
    """Return the figure of :func:`save_importance_plot` (drawn, not written).

    Parameters
    ----------
    result : PermutationImportance
        From :func:`deltarule.permutation_importance`.
    ax : matplotlib Axes, optional
        Draw into this axes of your own figure, which is returned as it is.
    title : str, optional
        Instead of "permutation importance".

    Returns
    -------
    InlineFigure or Figure
        A new :class:`matplotlib.figure.Figure` that a notebook cell shows as a picture;
        ``ax``'s figure when ``ax`` is given.
    """
    from .importance import PermutationImportance
    from .plots import _BLUE, _PLAIN, _figure_and_axes, _figure_class, plain_text

    _figure_class()
    if not isinstance(result, PermutationImportance):
        raise InputError(
            f"importance_figure draws a PermutationImportance; received "
            f"{type(result).__name__}. Make one with deltarule.permutation_importance("
            "network, X, y, seed=0)."
        )
    order = result.order()[::-1]  # (barh draws from the bottom: the most important on top)
    names = [_label(result.columns[j]) for j in order]
    longest = max(len(name) for name in names)
    own = ax is None
    fig, ax = _figure_and_axes(ax, (5.0 + 0.08 * longest, min(40.0, 1.6 + 0.32 * len(names))))
    ax.barh(range(len(order)), result.importances_mean[order], xerr=result.importances_std[order],
            color=_BLUE, alpha=0.85, capsize=3, ecolor="0.25")  # fmt: skip
    ax.set_yticks(range(len(order)), names, **_PLAIN)
    ax.axvline(0.0, color="0.35", linewidth=0.8)
    meaning = "drop in" if result.greater_is_better else "increase in"
    ax.set_xlabel(
        f"{meaning} {result.scoring} when shuffled (mean ± std of {result.n_repeats})", **_PLAIN
    )
    seed = "" if result.seed is None else f", seed {result.seed}"
    heading = title or (
        f"permutation importance (baseline {result.scoring} {result.baseline:.4g}{seed})"
    )
    ax.set_title(plain_text(heading), **_PLAIN)
    ax.grid(axis="x", alpha=0.3)
    if own:
        fig.tight_layout()
    return fig


def save_importance_plot(result: Any, path: str | os.PathLike[str], *, title: str = "") -> Path:
    """Draw permutation importances as horizontal bars with error bars (the standard
    deviation over the repeats), the most important column on top, and write the image
    (.png or .svg) atomically.

    Raises
    ------
    InputError
        For a ``result`` that is not a PermutationImportance, or a path that is not .png
        or .svg.
    """
    from .plots import save_figure

    return save_figure(importance_figure(result, title=title), path)
