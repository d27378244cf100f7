"""Plots for the command line: training curves, confusion matrices, predicted vs true values.

matplotlib is an optional dependency, imported only when a plot is drawn. Figures are
built with :class:`matplotlib.figure.Figure` and the Agg (PNG) or SVG canvas, never
pyplot, so no global state or display is touched. The format follows the file
extension (``.png`` or ``.svg``), and files are written atomically.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "curves.svg"
>>> history = {"epoch": [1, 2, 3], "loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4]}
>>> save_training_curves(history, path).suffix
'.svg'
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .exceptions import InputError

__all__ = [
    "PLOT_FORMATS",
    "check_plot_path",
    "save_confusion_matrix",
    "save_regression_plot",
    "save_training_curves",
]

PLOT_FORMATS = {".png": "png", ".svg": "svg"}
"""File extension -> image format."""

_BLUE, _RED = "#1f5fa8", "#c0392b"


def check_plot_path(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` can take a plot (extension, folder, matplotlib); return it.

    Raises
    ------
    InputError
        For an extension other than .png or .svg, a missing folder, or no matplotlib.
    OSError
        When the folder (or an existing file there) is not writable.
    """
    from .io.atomic import check_writable

    target = Path(path)
    if target.suffix.lower() not in PLOT_FORMATS:
        raise InputError(
            f"cannot tell the image format of {os.fspath(path)!r} from its extension "
            f"{target.suffix or '(none)'!r}; expected a file ending in .png or .svg "
            "(e.g. --plot curves.png)."
        )
    check_writable(target)
    _figure_class()
    return target


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - matplotlib comes with deltarule[cli]
        raise InputError(
            "plots need matplotlib, which is not installed; install it with "
            "pip install 'deltarule[cli]', or leave out --plot."
        ) from exc
    return Figure


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Render ``fig`` on the canvas its extension needs and write it atomically."""
    from .io.atomic import atomic_open

    target = check_plot_path(path)
    fmt = PLOT_FORMATS[target.suffix.lower()]
    if fmt == "png":
        from matplotlib.backends.backend_agg import FigureCanvasAgg as Canvas
    else:
        from matplotlib.backends.backend_svg import FigureCanvasSVG as Canvas
    Canvas(fig)
    with atomic_open(target, "wb") as handle:
        write_figure(fig, handle, fmt)
    return target


def write_figure(fig: Any, handle: Any, fmt: str) -> None:
    """``fig.savefig`` into ``handle`` so that the same figure gives the same bytes: SVG
    without its creation date and with fixed element ids (matplotlib's are random)."""
    import matplotlib

    metadata = {"Date": None} if fmt == "svg" else None
    with matplotlib.rc_context({"svg.hashsalt": "deltarule"}):
        fig.savefig(handle, format=fmt, metadata=metadata)


def _present(xs: Sequence[Any], ys: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """Drop the points whose value is missing (None)."""
    pairs = [(x, y) for x, y in zip(xs, ys) if y is not None]
    return [x for x, _ in pairs], [y for _, y in pairs]


def save_training_curves(
    history: Mapping[str, Sequence[Any]], path: str | os.PathLike[str], *, title: str = ""
) -> Path:
    """Plot training and validation loss (and the first metric) per epoch to ``path``.

    Parameters
    ----------
    history : mapping of str to list
        :meth:`History.as_dict() <deltarule.history.History.as_dict>`: ``epoch``, ``loss``,
        ``val_loss`` and optional metric columns (``accuracy``, ``val_accuracy``, ...).
    path : str or path-like
        Ending in .png or .svg.
    title : str
    """
    Figure = _figure_class()
    if not hasattr(history, "get") or "loss" not in history:
        raise InputError(
            "save_training_curves needs a history's columns with at least 'loss' (e.g. "
            f"history.as_dict()); received {type(history).__name__} {str(history)[:60]}."
        )
    epochs = list(history.get("epoch", range(1, len(history["loss"]) + 1)))
    for name, column in history.items():
        if name != "epoch" and len(column) != len(epochs):
            raise InputError(
                f"the history's column {name!r} has {len(column)} values for {len(epochs)} "
                "epochs; expected one value per epoch."
            )
    skip = {"epoch", "loss", "val_loss", "learning_rate", "gradient_norm", "seconds"}
    metric = next((k for k in history if k not in skip and not k.startswith("val_")), None)
    fig = Figure(figsize=(6.4, 6.4 if metric else 4.0), dpi=120)
    panels = fig.subplots(2 if metric else 1, 1, sharex=True, squeeze=False)[:, 0]
    for ax, name in zip(panels, ["loss", metric]):
        ax.plot(*_present(epochs, history[name]), color=_BLUE, label=f"training {name}")
        xs, ys = _present(epochs, history.get(f"val_{name}", []))
        if ys:
            ax.plot(xs, ys, color=_RED, label=f"validation {name}")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend()
    panels[-1].set_xlabel("epoch")
    panels[0].set_title(title or "training curves")
    fig.tight_layout()
    return _save(fig, path)


def save_confusion_matrix(
    matrix: Sequence[Sequence[float]], labels: Sequence[Any], path: str | os.PathLike[str]
) -> Path:
    """Draw a confusion matrix (rows true classes, columns predicted) as a heat map."""
    import numpy as np

    Figure = _figure_class()
    try:
        counts = np.asarray(matrix, dtype=float)
    except (TypeError, ValueError):
        counts = np.empty((0, 1))  # ragged or not numbers: refused below
    n = len(labels)
    if counts.ndim != 2 or counts.shape != (n, n) or n == 0:
        raise InputError(
            f"save_confusion_matrix needs an n x n matrix of counts for n labels; received a "
            f"matrix of shape {counts.shape} and {n} labels."
        )
    size = min(12.0, 3.0 + 0.5 * len(labels))
    fig = Figure(figsize=(size, size), dpi=120)
    ax = fig.add_subplot()
    image = ax.imshow(counts, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046)
    ticks = range(len(labels))
    ax.set_xticks(ticks, [str(label) for label in labels], rotation=45, ha="right")
    ax.set_yticks(ticks, [str(label) for label in labels])
    threshold = counts.max() / 2 if counts.size else 0
    for (row, col), value in np.ndenumerate(counts):
        colour = "white" if value > threshold else "black"
        ax.text(col, row, f"{value:g}", ha="center", va="center", color=colour, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix")
    fig.tight_layout()
    return _save(fig, path)


def save_regression_plot(
    true: Sequence[float], predicted: Sequence[float], path: str | os.PathLike[str]
) -> Path:
    """Scatter predicted against true values, with the line of perfect predictions."""
    Figure = _figure_class()
    if len(true) == 0 or len(true) != len(predicted):
        raise InputError(
            f"save_regression_plot needs as many predicted as true values, at least one; "
            f"received {len(true)} true and {len(predicted)} predicted."
        )
    fig = Figure(figsize=(5.0, 5.0), dpi=120)
    ax = fig.add_subplot()
    ax.scatter(true, predicted, s=10, color=_BLUE, alpha=0.6)
    low, high = min(min(true), min(predicted)), max(max(true), max(predicted))
    ax.plot([low, high], [low, high], color=_RED, linewidth=1, label="perfect")
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    ax.set_title("predicted vs true")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)
