"""Plots for the command line: training curves, confusion matrices, predicted vs true values,
a network's generalized weights (R neuralnet's ``gwplot``) and permutation importances
(:func:`importance_figure`, from :mod:`deltarule._plots_importance`).

matplotlib is an optional dependency, imported only when a plot is drawn. Figures are
built with :class:`matplotlib.figure.Figure` and the Agg (PNG) or SVG canvas, never
pyplot, so no global state or display is touched. The format follows the file
extension (``.png`` or ``.svg``), and files are written atomically.

Text that comes from the data (titles, class names, column names) is drawn as written:
never read as matplotlib's mathtext (``$5-$10`` stays ``$5-$10``), and with the
characters XML forbids (control characters) shown as U+FFFD (:func:`plain_text`), so an
SVG is always well-formed. Each ``save_*`` function is a ``*_figure`` function (checks the
data, draws) then :func:`save_figure`; :func:`render_figure` gives the file's bytes
without writing, for a caller that writes several files only once all are ready.

In a notebook: the ``*_figure`` functions return an ``InlineFigure``, a
:class:`matplotlib.figure.Figure` (``savefig`` and the rest work as ever) that a Jupyter
cell shows as its picture (``_repr_png_``) even when pyplot was never imported, where a
plain Figure shows as ``<Figure size 768x768 with 2 Axes>``. :func:`confusion_matrix_figure`,
:func:`regression_figure` and :func:`generalized_weights_figure` also draw into an ``ax=`` of
your own figure.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "curves.svg"
>>> history = {"epoch": [1, 2, 3], "loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.6, 0.4]}
>>> save_training_curves(history, path).suffix
'.svg'
"""

from __future__ import annotations

import functools
import io
import math
import numbers
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exceptions import InputError
from .history import COLUMNS

__all__ = [
    "PLOT_FORMATS",
    "check_plot_path",
    "confusion_matrix_figure",
    "generalized_weights_figure",
    "importance_figure",
    "plain_text",
    "regression_figure",
    "render_figure",
    "save_confusion_matrix",
    "save_figure",
    "save_generalized_weights",
    "save_importance_plot",
    "save_regression_plot",
    "save_training_curves",
    "training_curves_figure",
]

PLOT_FORMATS = {".png": "png", ".svg": "svg"}
"""File extension -> image format."""

FEW_POINTS = 30
"""A curve of this many points or fewer is drawn with a marker at each (one point alone
would be invisible as a line)."""

_BLUE, _RED = "#1f5fa8", "#c0392b"
_PLAIN = {"parse_math": False}  # every Text drawn from data: no mathtext
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_HISTORY_COLUMNS = set(COLUMNS)


def plain_text(text: Any) -> str:
    """``str(text)`` with every character XML 1.0 forbids (control characters other than
    tab, newline and carriage return; U+FFFE, U+FFFF; lone surrogates) replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", str(text))


def check_plot_path(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` can take a plot (extension, folder, matplotlib); return it.

    Raises
    ------
    InputError
        For an extension other than .png or .svg, a missing folder, or no matplotlib.
    OSError
        When the folder (or an existing file there) is not writable.
    """
    from .io._paths import checked_path
    from .io.atomic import check_writable

    target = Path(checked_path(path, "the plot's path", "'curves.png'"))
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
            "pip install 'deltarule[cli]' (or, at the command line, leave out --plot)."
        ) from exc
    return Figure


@functools.cache
def _inline_figure_class() -> type:
    """``InlineFigure``: a matplotlib Figure that shows as its picture in a notebook."""
    Figure = _figure_class()

    class InlineFigure(Figure):
        """A :class:`matplotlib.figure.Figure` with ``_repr_png_``, so that a notebook
        cell shows it as a picture (IPython's own Figure display, once pyplot's inline
        backend is on, takes precedence); in every other way a Figure."""

        def _repr_png_(self) -> bytes:
            buffer = io.BytesIO()
            self.savefig(buffer, format="png")
            return buffer.getvalue()

    InlineFigure.__module__, InlineFigure.__qualname__ = __name__, "InlineFigure"
    return InlineFigure


if TYPE_CHECKING:
    InlineFigure: type[Any]  # (a matplotlib Figure subclass, made on first use)
else:  # (hidden from type checkers: a misspelt name stays an error)

    def __getattr__(name: str) -> Any:
        """``InlineFigure`` made on first use (matplotlib is imported only then; a pickled
        figure finds its class here)."""
        if name == "InlineFigure":
            return _inline_figure_class()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _new_figure(figsize: tuple[float, float]) -> Any:
    return _inline_figure_class()(figsize=figsize, dpi=120)


def _figure_and_axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    """A new figure of ``figsize`` and its one axes, or ``ax``'s figure and ``ax``."""
    if ax is None:
        fig = _new_figure(figsize)
        return fig, fig.add_subplot()
    if not hasattr(ax, "figure") or not callable(getattr(ax, "imshow", None)):
        raise InputError(
            f"ax must be a matplotlib Axes (e.g. fig.add_subplot() or plt.subplots()[1]); "
            f"received {type(ax).__name__}."
        )
    return ax.figure, ax


def render_figure(fig: Any, path: str | os.PathLike[str]) -> bytes:
    """Return the bytes of ``fig`` as the image file ``path`` names (.png or .svg), writing
    nothing: drawing errors come here, before any file is touched."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    if not isinstance(fig, _figure_class()):
        raise InputError(
            f"expected a matplotlib Figure to draw; received {type(fig).__name__} "
            f"{fig!r:.60}. Make one with deltarule.plots (training_curves_figure(history), "
            "confusion_matrix_figure(...)) or matplotlib (plt.figure()), or save a history "
            "with save_training_curves(history, path)."
        )
    fmt = PLOT_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        check_plot_path(path)  # (raises: the extension)
    (FigureCanvasAgg if fmt == "png" else FigureCanvasSVG)(fig)
    buffer = io.BytesIO()
    write_figure(fig, buffer, fmt)
    return buffer.getvalue()


def save_figure(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Draw ``fig`` in the format of ``path``'s extension and write it atomically."""
    from .io.atomic import atomic_write_bytes

    target = check_plot_path(path)
    atomic_write_bytes(target, render_figure(fig, target))
    return target


def write_figure(fig: Any, handle: Any, fmt: str) -> None:
    """``fig.savefig`` into ``handle`` so that the same figure gives the same bytes: SVG
    without its creation date and with fixed element ids (matplotlib's are random)."""
    import matplotlib
    import numpy as np

    metadata = {"Date": None} if fmt == "svg" else None
    # (matplotlib's ticker overflows on a value near 1e308, a diverging loss: a warning
    # about its own arithmetic, the picture unharmed)
    with matplotlib.rc_context({"svg.hashsalt": "deltarule"}), np.errstate(over="ignore"):
        fig.savefig(handle, format=fmt, metadata=metadata)


def _column(history: Mapping[str, Any], name: str) -> list[float | None]:
    """The history's column ``name`` as floats, None where an epoch has no value (allowed
    in every column but ``epoch``)."""
    values = []
    for index, value in enumerate(history[name]):
        if (value is None and name == "epoch") or (
            value is not None
            and (isinstance(value, (bool, str, bytes)) or not isinstance(value, numbers.Real))
        ):
            missing = "" if name == "epoch" else ", or None for an epoch without a value"
            raise InputError(
                f"the history's column {name!r} holds {value!r} at index {index}; expected "
                f"numbers{missing}."
            )
        values.append(None if value is None else float(value))
    return values


def _check_history(history: Any) -> dict[str, Any]:
    """``history`` (columns, or a :class:`~deltarule.history.History`) checked: a non-empty
    ``loss`` column and every column one value per epoch."""
    if callable(getattr(history, "as_dict", None)) and not isinstance(history, Mapping):
        history = history.as_dict()
    if not isinstance(history, Mapping) or "loss" not in history:
        raise InputError(
            "save_training_curves needs a history's columns with at least 'loss' (e.g. "
            f"history.as_dict()); received {type(history).__name__} {str(history)[:60]}."
        )
    for name, column in history.items():
        if not hasattr(column, "__len__") or isinstance(column, (str, bytes, Mapping)):
            raise InputError(
                f"the history's column {name!r} is {type(column).__name__} "
                f"{str(column)[:40]!r}; expected a list with one value per epoch."
            )
    if len(history["loss"]) == 0:
        raise InputError(
            "save_training_curves received a history of no epochs (an empty 'loss' column); "
            "expected at least one. Plot a run that trained for at least one epoch."
        )
    epochs = history.get("epoch", range(1, len(history["loss"]) + 1))
    for name, column in history.items():
        if name != "epoch" and len(column) != len(epochs):
            raise InputError(
                f"the history's column {name!r} has {len(column)} values for {len(epochs)} "
                "epochs; expected one value per epoch."
            )
    return {**history, "epoch": list(epochs)}


def _curve(
    ax: Any, xs: Sequence[Any], ys: Sequence[Any], colour: str, label: str, dashed: bool = False
) -> None:
    """Plot the finite points (not None, NaN or infinite), with markers when there are few;
    ``dashed`` (validation) tells the curves apart in grayscale too."""
    pairs = [(x, y) for x, y in zip(xs, ys) if y is not None and math.isfinite(y)]
    if pairs:
        marker = ("s" if dashed else "o") if len(pairs) <= FEW_POINTS else None
        x, y = zip(*pairs)
        ax.plot(x, y, color=colour, label=plain_text(label), marker=marker, markersize=3,
                linestyle="--" if dashed else "-")  # fmt: skip


def _shortened(text: str, limit: int = 110) -> str:
    """``text`` cut to its first sentence, and to ``limit`` characters."""
    first = text.split(". ")[0].split("; ")[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"


LOG_SPAN = 1e3
"""A loss panel whose positive values span more than this factor gets a log scale (a
diverged run's 3e20 flattened every other epoch onto 0)."""


def _loss_axis(ax: Any, epochs: Sequence[Any], columns: Sequence[Sequence[Any]]) -> None:
    """Log-scale the loss panel when its values span many decades (all of them positive)."""
    values = [v for column in columns for v in column if v is not None and math.isfinite(v)]
    positive = [v for v in values if v > 0]
    if positive and len(positive) == len(values) and max(positive) > LOG_SPAN * min(positive):
        ax.set_yscale("log")


def _diverged_epochs(ax: Any, epochs: Sequence[Any], loss: Sequence[Any]) -> None:
    """Name the epochs whose training loss was not finite (a diverged run's; a validation
    loss left empty is no divergence)."""
    lost = [e for e, v in zip(epochs, loss) if v is not None and not math.isfinite(v)]
    if lost:
        more = f" (and {len(lost) - 1} more)" if len(lost) > 1 else ""
        ax.text(0.98, 0.95, f"training loss not finite at epoch {lost[0]:g}{more}: diverged",
                transform=ax.transAxes, ha="right", va="top", fontsize=8, color=_RED)  # fmt: skip


def _best_epoch(ax: Any, best: Any, epochs: Sequence[Any], label: bool) -> None:
    """Mark the epoch whose weights were kept (early stopping's best), when not the last."""
    if best is None or not epochs or best == epochs[-1] or not min(epochs) <= best <= max(epochs):
        return
    ax.axvline(best, color="0.35", linestyle=":", linewidth=1,
               label=f"best epoch {best:g} (its weights kept)" if label else None)  # fmt: skip


def training_curves_figure(
    history: Mapping[str, Sequence[Any]] | Any,
    *,
    title: str = "",
    loss_label: str = "loss",
    best_epoch: int | None = None,
    note: str = "",
) -> Any:
    """Return the figure of :func:`save_training_curves` (drawn, not written).

    Returns
    -------
    InlineFigure
        A :class:`matplotlib.figure.Figure` (``fig.savefig(path)`` works) that a notebook
        cell shows as a picture; one panel for the loss, a second for the first metric.
    """
    _figure_class()
    from matplotlib.ticker import MaxNLocator

    if best_epoch is not None and (
        isinstance(best_epoch, bool) or not isinstance(best_epoch, numbers.Real)
    ):
        raise InputError(f"best_epoch must be an epoch number or None; received {best_epoch!r}.")
    if not isinstance(history, Mapping):  # (a History knows its best epoch and its end)
        best_epoch = getattr(history, "best_epoch", None) if best_epoch is None else best_epoch
        reason = str(getattr(history, "stop_reason", "") or "")
        note = note or (reason if reason.startswith("training diverged") else "")
    history = _check_history(history)
    epochs, loss = _column(history, "epoch"), _column(history, "loss")
    if all(value is None for value in loss):
        raise InputError(
            "the history's column 'loss' has no value (every epoch is None); expected the "
            "training loss of each epoch."
        )
    first = next((k for k in history if k not in _HISTORY_COLUMNS), None)
    metric = None if first is None else first.removeprefix("val_")
    fig = _new_figure((6.4, 6.4 if metric else 4.0))
    panels = fig.subplots(2 if metric else 1, 1, sharex=True, squeeze=False)[:, 0]
    for ax, name, ylabel in zip(panels, ["loss", metric], [loss_label, metric]):
        columns = []
        if name in history:
            columns.append(loss if name == "loss" else _column(history, name))
            _curve(ax, epochs, columns[-1], _BLUE, f"training {name}")
        if f"val_{name}" in history:
            columns.append(_column(history, f"val_{name}"))
            _curve(ax, epochs, columns[-1], _RED, f"validation {name}", dashed=True)
        if name == "loss":
            _loss_axis(ax, epochs, columns)
            _diverged_epochs(ax, epochs, loss)
        _best_epoch(ax, best_epoch, epochs, label=name == "loss")
        ax.set_ylabel(plain_text(ylabel), **_PLAIN)
        ax.grid(alpha=0.3)
        if ax.get_lines():
            for text in ax.legend().get_texts():
                text.set_parse_math(False)
    panels[-1].set_xlabel("epoch")
    panels[-1].xaxis.set_major_locator(MaxNLocator(integer=True))  # (no epoch 1.5)
    # every epoch, also those whose values are not drawn (a loss that went inf after epoch
    # 1 left the axis at 0.95 to 1.05); a span of less than 2: too few whole numbers to tick
    span = max(epochs) - min(epochs)
    pad = 1 if span < 2 else 0.05 * span
    panels[-1].set_xlim(min(epochs) - pad, max(epochs) + pad)
    panels[0].set_title(plain_text(title or "training curves"), **_PLAIN)
    if note:  # (below the title: a diverged run's reason, its last epoch not drawn)
        panels[0].text(0.5, 1.0, plain_text(_shortened(note)), transform=panels[0].transAxes,
                       ha="center", va="bottom", fontsize=7, color=_RED, **_PLAIN)  # fmt: skip
        panels[0].set_title(plain_text(title or "training curves"), pad=14, **_PLAIN)
    import numpy as np

    with np.errstate(over="ignore"):  # (the ticker's overflow near 1e308: write_figure)
        fig.tight_layout()
    return fig


def save_training_curves(
    history: Mapping[str, Sequence[Any]] | Any,
    path: str | os.PathLike[str],
    *,
    title: str = "",
    loss_label: str = "loss",
    best_epoch: int | None = None,
    note: str = "",
) -> Path:
    """Plot training and validation loss (and the first metric) per epoch to ``path``.

    Validation curves are dashed (told apart in grayscale too); the epoch whose weights were
    kept (``best_epoch``, a History's own by default) is marked when it is not the last; a
    loss spanning more than :data:`LOG_SPAN` is drawn on a log scale, and epochs whose loss
    was not finite are named.

    Parameters
    ----------
    history : mapping of str to list, or History
        :meth:`History.as_dict() <deltarule.history.History.as_dict>` (or the History):
        ``epoch``, ``loss``, ``val_loss`` and optional metric columns (``accuracy``,
        ``val_accuracy``, ...); numbers, None where an epoch has no value. A metric
        recorded on the validation data only is plotted too.
    path : str or path-like
        Ending in .png or .svg.
    title : str
    loss_label : str
        The loss panel's y-axis label, e.g. ``"loss (standardised target)"`` when the
        loss was computed on a transformed target.
    best_epoch : int, optional
        The epoch to mark as the one whose weights were kept (``history.best_epoch``).
    note : str, optional
        A line under the title (a History that diverged: its stop reason, by default).

    Raises
    ------
    InputError
        For no epochs, columns of different lengths, or values that are not numbers.
    """
    figure = training_curves_figure(
        history, title=title, loss_label=loss_label, best_epoch=best_epoch, note=note
    )
    return save_figure(figure, path)


def _count_matrix(matrix: Any, n: int) -> Any:
    """``matrix`` as an n x n float array of finite counts >= 0, or raise."""
    import numpy as np

    expected = f"expected an n x n matrix of counts for n labels ({n} labels here)"
    try:
        counts = np.asarray(matrix, dtype=float)
    except (TypeError, ValueError) as exc:
        rows = list(matrix) if isinstance(matrix, Sequence) else []
        lengths = [len(row) if isinstance(row, Sequence) else None for row in rows]
        if None not in lengths and len(set(lengths)) > 1:
            raise InputError(
                f"save_confusion_matrix received a ragged matrix (rows of {lengths} values); "
                f"{expected}."
            ) from exc
        raise InputError(
            f"save_confusion_matrix received a matrix that is not numbers ({exc}); {expected}."
        ) from exc
    if counts.ndim != 2 or counts.shape != (n, n) or n == 0:
        raise InputError(
            f"save_confusion_matrix needs an n x n matrix of counts for n labels; received a "
            f"matrix of shape {counts.shape} and {n} labels."
        )
    bad = ~np.isfinite(counts) | (counts < 0)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise InputError(
            f"save_confusion_matrix received {counts[row, col]} at row {row}, column {col}; "
            "expected counts (numbers >= 0, weighted sums included)."
        )
    return counts


LABEL_CHARS = 24
"""A class label on a confusion matrix's axes is cut to this many characters (with "…")."""


def _label(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"


def confusion_matrix_figure(
    matrix: Sequence[Sequence[float]], labels: Sequence[Any], *, ax: Any = None, title: str = ""
) -> Any:
    """Return the figure of :func:`save_confusion_matrix` (drawn, not written).

    Parameters
    ----------
    matrix : array-like of shape (n_classes, n_classes)
        Counts, rows true classes, columns predicted.
    labels : list
        The class labels, in the matrix's order.
    ax : matplotlib Axes, optional
        Draw into this axes (and a colour bar beside it) of your own figure, which is
        returned, as it is: not resized or laid out again.
    title : str, optional
        Instead of "confusion matrix".

    Returns
    -------
    InlineFigure or Figure
        A new :class:`matplotlib.figure.Figure` that a notebook cell shows as a picture;
        ``ax``'s figure when ``ax`` is given.
    """
    import numpy as np

    _figure_class()
    if isinstance(labels, (str, bytes)) or not isinstance(labels, Sequence):
        raise InputError(
            f"save_confusion_matrix needs a list of class labels; received "
            f"{type(labels).__name__} {str(labels)[:40]!r}."
        )
    counts = _count_matrix(matrix, len(labels))
    names = [_label(plain_text(label)) for label in labels]
    longest = max((len(name) for name in names), default=1)
    size = min(12.0, 3.0 + 0.5 * len(labels)) + 0.07 * longest  # (room for the labels)
    own = ax is None
    fig, ax = _figure_and_axes(ax, (size, size))
    image = ax.imshow(counts, cmap="Blues", vmin=0, vmax=max(float(counts.max()), 1.0))
    fig.colorbar(image, ax=ax, fraction=0.046)
    ticks = range(len(labels))
    many = len(labels) > 20  # (upright, smaller: slanted, they ran into each other)
    small = {"fontsize": 7} if many else {}
    if longest <= 3 and not many:  # (digits, short codes: upright)
        ax.set_xticks(ticks, names, **_PLAIN)
    elif many:
        ax.set_xticks(ticks, names, rotation=90, **small, **_PLAIN)
    else:
        ax.set_xticks(ticks, names, rotation=45, ha="right", rotation_mode="anchor", **_PLAIN)
    ax.set_yticks(ticks, names, **small, **_PLAIN)
    threshold = counts.max() / 2
    for (row, col), value in np.ndenumerate(counts):
        colour = "white" if value > threshold else "black"
        ax.text(col, row, f"{value:g}", ha="center", va="center", color=colour, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(plain_text(title or "confusion matrix"), **_PLAIN)
    if own:
        fig.tight_layout()
    return fig


def save_confusion_matrix(
    matrix: Sequence[Sequence[float]], labels: Sequence[Any], path: str | os.PathLike[str]
) -> Path:
    """Draw a confusion matrix (rows true classes, columns predicted) as a heat map.

    Raises
    ------
    InputError
        For a matrix that is not n x n for n labels (ragged included), or holds
        anything but finite counts >= 0.
    """
    return save_figure(confusion_matrix_figure(matrix, labels), path)


def _values(data: Any, name: str) -> Any:
    """``data`` as a 1-D float array of finite values (a single column is flattened)."""
    import numpy as np

    try:
        values = np.asarray(data, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"save_regression_plot: the {name} values are not numbers ({exc}); expected a "
            "list of numbers."
        ) from exc
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise InputError(
            f"save_regression_plot: the {name} values have shape {values.shape}; expected "
            "one number per row (plot one output at a time)."
        )
    if not np.isfinite(values).all():
        index = int(np.flatnonzero(~np.isfinite(values))[0])
        raise InputError(
            f"save_regression_plot: the {name} values hold {values[index]} at index {index}; "
            "expected finite numbers."
        )
    return values


def regression_figure(
    true: Sequence[float],
    predicted: Sequence[float],
    *,
    ax: Any = None,
    title: str = "",
    name: str = "",
) -> Any:
    """Return the figure of :func:`save_regression_plot` (drawn, not written).

    Parameters
    ----------
    true, predicted : array-like of shape (n_samples,)
    title : str, optional
        Instead of "predicted vs true".
    name : str, optional
        The target's name, on both axes ("true progression").
    ax : matplotlib Axes, optional
        Draw into this axes of your own figure, which is returned as it is (not resized
        or laid out again).

    Returns
    -------
    InlineFigure or Figure
        A new :class:`matplotlib.figure.Figure` that a notebook cell shows as a picture;
        ``ax``'s figure when ``ax`` is given.
    """
    _figure_class()
    truth, guess = _values(true, "true"), _values(predicted, "predicted")
    if truth.size == 0 or truth.size != guess.size:
        raise InputError(
            f"save_regression_plot needs as many predicted as true values, at least one; "
            f"received {truth.size} true and {guess.size} predicted."
        )
    own = ax is None
    fig, ax = _figure_and_axes(ax, (5.0, 5.0))
    ax.scatter(truth, guess, s=10, color=_BLUE, alpha=0.6)
    low, high = min(truth.min(), guess.min()), max(truth.max(), guess.max())
    ax.plot([low, high], [low, high], color=_RED, linewidth=1, label="perfect")
    named = f" {plain_text(name)}" if name else ""
    ax.set_xlabel(f"true{named}", **_PLAIN)
    ax.set_ylabel(f"predicted{named}", **_PLAIN)
    ax.set_title(plain_text(title or "predicted vs true"), **_PLAIN)
    ax.legend()
    ax.grid(alpha=0.3)
    if own:
        fig.tight_layout()
    return fig


def save_regression_plot(
    true: Sequence[float], predicted: Sequence[float], path: str | os.PathLike[str]
) -> Path:
    """Scatter predicted against true values, with the line of perfect predictions.

    Raises
    ------
    InputError
        For values that are not finite numbers, or not as many predicted as true.
    """
    return save_figure(regression_figure(true, predicted), path)


def generalized_weights_figure(
    network: Any,
    X: Any,
    *,
    feature: int = 0,
    output: int = 0,
    ax: Any = None,
    title: str = "",
    feature_name: str = "",
) -> Any:
    """Return the figure of :func:`save_generalized_weights` (drawn, not written).

    Parameters
    ----------
    network : Network
        With an identity, sigmoid or softmax output (see
        :func:`deltarule.sensitivity.generalized_weights`).
    X : array-like or scipy sparse matrix of shape (n_samples, n_inputs)
        The examples, one point each.
    feature : int, default 0
        The input (R's ``selected.covariate``), 0 to n_inputs - 1.
    output : int, default 0
        The output (R's ``selected.response``), 0 to n_outputs - 1.
    ax : matplotlib Axes, optional
        Draw into this axes of your own figure, which is returned as it is (not resized
        or laid out again).
    title : str, optional
        Instead of "generalized weights".
    feature_name : str, optional
        The input's name on the axes, instead of ``x[feature]``.

    Returns
    -------
    InlineFigure or Figure
        A new :class:`matplotlib.figure.Figure` that a notebook cell shows as a picture;
        ``ax``'s figure when ``ax`` is given.
    """
    _figure_class()
    from ._validation import check_index
    from .sensitivity import dense_inputs, log_odds_derivatives

    X = dense_inputs(network, X, "generalized_weights_figure")
    feature = check_index(feature, network.n_inputs, "feature", "inputs")
    output = check_index(output, network.n_outputs, "output", "outputs")
    weights = log_odds_derivatives(network, X, [output])[:, 0, feature]  # (X checked above)
    own = ax is None
    fig, ax = _figure_and_axes(ax, (5.0, 4.0))
    ax.scatter(X[:, feature], weights, s=10, color=_BLUE, alpha=0.6)
    ax.axhline(0.0, color="0.35", linewidth=0.8, linestyle=":")  # (no effect)
    name = plain_text(feature_name) if feature_name else f"x[{feature}]"
    ax.set_xlabel(name, **_PLAIN)
    ax.set_ylabel(f"generalized weight of {name} for output {output}", **_PLAIN)
    ax.set_title(plain_text(title or "generalized weights"), **_PLAIN)
    ax.grid(alpha=0.3)
    if own:
        fig.tight_layout()
    return fig


def save_generalized_weights(
    network: Any,
    X: Any,
    path: str | os.PathLike[str],
    *,
    feature: int = 0,
    output: int = 0,
    feature_name: str = "",
) -> Path:
    r"""Plot one input's generalized weights against its values, one point per example
    (R neuralnet's ``gwplot(nn, selected.covariate=, selected.response=)``).

    The generalized weight of input :math:`j` for output :math:`k` is
    :math:`\partial\log(o_k/(1-o_k))/\partial x_j` for a sigmoid or softmax output and
    :math:`\partial o_k/\partial x_j` for a linear one
    (:func:`deltarule.sensitivity.generalized_weights`). Points all near 0 (the dotted
    line): the input hardly affects the output; spread out: its effect is non-linear.

    Raises
    ------
    InputError
        For an output activation without generalized weights, ``X`` the network does not
        take, or ``feature`` or ``output`` out of range.
    """
    figure = generalized_weights_figure(
        network, X, feature=feature, output=output, feature_name=feature_name
    )
    return save_figure(figure, path)


# (its own module, for this one's length; it uses the helpers above, defined by now)
from ._plots_importance import importance_figure, save_importance_plot  # noqa: E402
