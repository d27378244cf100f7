"""Printing progress, as a callback: the training loop itself never prints.

:class:`ProgressBar` shows a live tqdm bar on a terminal or in a Jupyter notebook (when tqdm
is installed; in a notebook tqdm's widget when ipywidgets is there too) or one plain line per
epoch (loss, metrics, validation values, seconds: what a CI log keeps), and why the run
stopped.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from .._network_data import keyword_checked
from .._typing import Array
from .._validation import check_int
from ..exceptions import InputError
from ..history import EpochRecord, History
from ._base import Callback, TrainingState


def _format_record(record: EpochRecord, max_epochs: int) -> str:
    parts = [f"epoch {record.epoch}/{max_epochs}", f"loss {record.loss:.6g}"]
    parts += [f"{k} {v:.4g}" for k, v in record.metrics.items()]
    if record.val_loss is not None:
        parts.append(f"val_loss {record.val_loss:.6g}")
    parts += [f"val_{k} {v:.4g}" for k, v in record.val_metrics.items()]
    seconds = record.seconds  # (a fast epoch in milliseconds, not "0.00s")
    parts.append(f"{seconds:.2f}s" if seconds >= 0.1 else f"{seconds * 1000:.2g}ms")
    return " - ".join(parts)


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (IPython's ``ZMQInteractiveShell``, or a
    subclass such as Colab's), where standard error is not a terminal but a bar is shown.

    Cheap: only looks at modules already imported (never imports IPython).
    """
    ipython = sys.modules.get("IPython")
    if "ipykernel" not in sys.modules or ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001 - (a broken IPython: no notebook)
        return False
    return any(cls.__name__ == "ZMQInteractiveShell" for cls in type(shell).__mro__)


def wants_bar(stream: Any, given: bool) -> bool:
    """Whether ``verbose=1`` shows a bar on ``stream``: a terminal, or the notebook's own
    output (standard error or output, not a ``stream`` the caller ``given``) in a Jupyter
    kernel (:func:`in_notebook`). A CI log (not a terminal, no kernel) gets plain lines,
    and so does a terminal that reports no width (``script``, some ``docker -t``): the bar
    drew nothing there, not even the epochs' losses."""
    if getattr(stream, "isatty", lambda: False)():
        return _has_width(stream)
    return not given and stream in (sys.stderr, sys.stdout) and in_notebook()


def _has_width(terminal: Any) -> bool:
    """Whether the terminal ``terminal`` reports a width (or ``COLUMNS`` gives one); one
    whose width cannot be asked is taken to have one."""
    try:
        columns = os.get_terminal_size(terminal.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return True
    return columns > 0 or _columns_variable() is not None


def _columns_variable() -> int | None:
    """The width ``COLUMNS`` gives (None: unset, not a whole number, or not positive)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        return None
    return columns if columns > 0 else None


def _bar_width(terminal: Any) -> int | None:
    """The width to draw the bar at: None (tqdm asks the terminal) unless the terminal
    reports 0 columns, where ``COLUMNS`` gives it (tqdm drew nothing there)."""
    try:
        if os.get_terminal_size(terminal.fileno()).columns > 0:
            return None
    except (AttributeError, OSError, ValueError):
        return None
    return _columns_variable()


class ProgressBar(Callback):
    """Show progress: a live tqdm bar on a terminal or in a Jupyter notebook (when tqdm is
    installed), one plain line per epoch otherwise.

    In a notebook the bar is ``tqdm.auto``'s: a widget when ipywidgets is installed, else
    tqdm's text bar, redrawn in place (not one line per epoch).

    Parameters
    ----------
    verbose : int
        0 prints nothing; 1 a bar (or lines when neither a terminal nor a notebook); 2
        always plain lines.
    stream : file, default sys.stderr
    every : int or None
        Plain mode prints the first epoch, every ``every``-th, and the last one trained
        (FANN's ``epochs_between_reports``: a run that stops before ``every`` epochs still
        shows where it began and ended). None (the default): every epoch of a run of up
        to :data:`LINES` epochs, at most about :data:`LINES` lines of a longer one (every
        ``ceil(epochs / LINES)``-th: 500 to 1,000 lines; a million epochs in a log printed
        a million lines).
    """

    LINES = 1_000
    """About how many lines plain mode prints of a long run by default (``every=None``)."""

    @keyword_checked({"count_mode": "ProgressBar counts epochs (Keras's count_mode counts "
                      "the steps or samples of one): leave it out; an epoch that runs for "
                      "more than a second shows the share of its examples done.",
                      "stateful_metrics": "ProgressBar shows each epoch's values as the "
                      "history records them (no averaging over batches to turn off): "
                      "leave it out."})  # fmt: skip
    def __init__(self, verbose: int = 1, stream: Any = None, every: int | None = None) -> None:
        if isinstance(verbose, str) or verbose not in (0, 1, 2):  # (True and False are 1, 0)
            raise InputError(
                f"ProgressBar's verbose must be 0 (silent), 1 (a bar on a terminal) or 2 (a "
                f"line per epoch); received {verbose!r}."
            )
        self.verbose, self.stream = int(verbose), stream
        self.every = None if every is None else check_int(every, "every")
        self._every = self.every or 1  # (the run's: set when it begins)
        self._bar: Any = None
        self._first, self._shown = 1, 0  # (the run's first epoch; the last one printed)

    def _out(self) -> Any:
        return self.stream if self.stream is not None else sys.stderr

    def on_train_begin(self, state: TrainingState) -> None:
        self._bar, self._first, self._shown = None, state.epoch + 1, 0  # (resumed: > 1)
        epochs = state.max_epochs - state.epoch  # (this fit's: a continued run's too)
        self._every = self.every or max(1, -(-epochs // self.LINES))
        stream = self._out()
        if self.verbose == 1 and wants_bar(stream, self.stream is not None):
            try:  # optional (the ``cli`` extra): without it, plain lines on a terminal too
                from tqdm.auto import tqdm
            except ImportError:
                return
            self._bar = tqdm(  # (a resumed run's bar starts at the epochs done)
                total=state.max_epochs, initial=state.epoch, file=stream, unit="epoch",
                leave=True, ncols=_bar_width(stream),
            )  # fmt: skip

    def chunk_quiet(self, losses: Array, state: TrainingState) -> int | None:
        """Silent (``verbose=0``) or a bar: every epoch passes quietly (the bar counts them
        when told, :meth:`on_quiet_epochs`); lines: the next epoch shown (every epoch's
        line asks for each: a chunk cut at every epoch would cost more than it saves)."""
        if self.verbose == 0 or self._bar is not None:
            return len(losses)
        if self._every < 2:
            return None
        first = state.epoch + 1
        shown = [self._first, state.max_epochs, first + (-first) % self._every]
        ahead = [epoch - first for epoch in shown if epoch >= first]
        return min([len(losses), *ahead])

    def on_quiet_epochs(self, losses: Array, state: TrainingState) -> None:
        """The bar counts the epochs (the next shown one gives its loss)."""
        if self._bar is not None and len(losses):
            self._bar.update(len(losses))

    def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
        if self.verbose == 0:
            return None
        if self._bar is not None:
            post = {"loss": f"{record.loss:.4g}"}
            if record.val_loss is not None:
                post["val_loss"] = f"{record.val_loss:.4g}"
            post.update({f"val_{k}": f"{v:.3g}" for k, v in record.val_metrics.items()})
            self._bar.set_description_str("", refresh=False)  # (a long epoch's share)
            self._bar.set_postfix(post, refresh=False)
            self._bar.update(1)
        elif record.epoch % self._every == 0 or record.epoch in (self._first, state.max_epochs):
            self._show(record, state)
        return None

    def _show(self, record: EpochRecord, state: TrainingState) -> None:
        print(_format_record(record, state.max_epochs), file=self._out(), flush=True)
        self._shown = record.epoch

    LINE_EVERY = 10.0
    """Seconds between plain lines of a long epoch's progress (a bar is redrawn each
    second)."""

    def on_epoch_progress(
        self, seen: int, total: int, seconds: float, state: TrainingState
    ) -> None:
        """A long epoch's progress: on the bar, the epoch's share done; in plain mode, a
        line every :data:`LINE_EVERY` seconds with the examples done and an estimate of
        the time left (a log otherwise shows nothing until the epoch ends)."""
        if self.verbose == 0 or total <= 0:
            return
        epoch, share = state.epoch + 1, seen / total
        if self._bar is not None:
            self._bar.set_description_str(f"epoch {epoch}: {share:.0%}", refresh=True)
            return
        first = getattr(self, "_first_report", None)
        if first is None or first[0] != epoch:  # (the epoch's first report: after its first
            self._first_report = first = (epoch, seen, seconds)  # steps, a compile included)
        if seconds < self._next_line(epoch):
            return
        self._line_at = (epoch, seconds + self.LINE_EVERY)
        # the time left at the rate since the epoch's first report: a compile of the first
        # steps' kernels (seconds, once) made a fresh clone's first epoch say "113 s left"
        _, seen_then, then = first
        rate = (seconds - then) / (seen - seen_then) if seen > seen_then else seconds / max(seen, 1)
        eta = f", about {rate * (total - seen):.0f}s left" if seen else ""
        print(
            f"epoch {epoch}/{state.max_epochs}: {seen:,} of {total:,} examples ({share:.0%}) "
            f"in {seconds:.0f}s{eta}",
            file=self._out(),
            flush=True,
        )

    def _next_line(self, epoch: int) -> float:
        """When (seconds into epoch ``epoch``) the next plain progress line is due."""
        at = getattr(self, "_line_at", None)
        return at[1] if at is not None and at[0] == epoch else self.LINE_EVERY

    def on_train_end(self, history: History, state: TrainingState) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.verbose and history.last is not None and history.last.epoch != self._shown:
            self._show(history.last, state)  # (the last epoch, between two reports)
        if self.verbose and history.stop_reason:
            print(f"stopped: {history.stop_reason}", file=self._out(), flush=True)
