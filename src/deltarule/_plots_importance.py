"""The permutation-importance figure: a horizontal bar a column, the most important on
top, with the spread over the repeats as error bars; the ``top`` most important columns
only (20 by default: 784 bars would be unreadable), the title saying so. Re-exported by
:mod:`deltarule.plots`, whose conventions it follows: no pyplot, data text drawn as
written. Its helpers are imported when a figure is drawn: plots imports this module as it
loads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .exceptions import InputError

__all__ = ["importance_figure", "save_importance_plot"]


def _label(name: str, limit: int = 40) -> str:
    from .plots import plain_text

    text = plain_text(name)
    return text if len(text) <= limit else text[: limit - 1] + "…"


TOP = 20
"""How many columns the figure shows by default: the most important ones."""


def _top(top: Any) -> int | None:
    """``top`` checked: an int >= 1, or None for every column."""
    if top is None:
        return None
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise InputError(
            f"top must be an integer >= 1 (how many of the most important columns to draw) "
            f"or None (all of them); received {type(top).__name__} {top!r:.40}. Pass e.g. "
            f"top={TOP}."
        )
    return int(top)


def importance_figure(
    result: Any, *, ax: Any = None, title: str = "", top: int | None = TOP
) -> Any:
    """Return the figure of :func:`save_importance_plot` (drawn, not written).

    Parameters
    ----------
    result : PermutationImportance
        From :func:`deltarule.permutation_importance`.
    ax : matplotlib Axes, optional
        Draw into this axes of your own figure, which is returned as it is.
    title : str, optional
        Instead of "permutation importance".
    top : int or None, default 20
        Draw the ``top`` most important columns only (by mean importance), the title
        saying "top 20 of 784 columns" when some are left out; None draws them all.

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
    top = _top(top)
    ranked = result.order()
    shown = ranked[:top]
    order = shown[::-1]  # (barh draws from the bottom: the most important on top)
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
    cut = f"top {len(shown)} of {len(ranked)} columns" if len(shown) < len(ranked) else ""
    if title:
        heading = f"{title}\n({cut})" if cut else title
    else:  # (two lines: a figure as narrow as short names keeps the title whole)
        heading = (
            f"permutation importance{', ' + cut if cut else ''}\n(baseline {result.scoring} "
            f"{result.baseline:.4g}{seed})"
        )
    ax.set_title(plain_text(heading), **_PLAIN)
    ax.grid(axis="x", alpha=0.3)
    if own:
        fig.tight_layout()
    return fig


def save_importance_plot(
    result: Any, path: str | os.PathLike[str], *, title: str = "", top: int | None = TOP
) -> Path:
    """Draw permutation importances as horizontal bars with error bars (the standard
    deviation over the repeats), the most important column on top, and write the image
    (.png or .svg) atomically. Only the ``top`` most important columns are drawn (20 by
    default, the title saying "top 20 of 784 columns"; None: all).

    Raises
    ------
    InputError
        For a ``result`` that is not a PermutationImportance, a ``top`` that is not an
        integer >= 1 or None, or a path that is not .png or .svg.
    """
    from .plots import save_figure

    return save_figure(importance_figure(result, title=title, top=top), path)
