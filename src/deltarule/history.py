"""Training history as plain data: one frozen record per epoch.

Examples
--------
>>> h = History([EpochRecord(1, 0.5, None, {}, {}, 0.1, 0.2, 0.01)], "max epochs (1) reached")
>>> h.as_dict()["loss"]
[0.5]
>>> h.to_json()[:40]
'{"epoch": [1], "loss": [0.5], "val_loss"'
"""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NoReturn, SupportsIndex, overload

import numpy as np

__all__ = ["COLUMNS", "EpochRecord", "History"]

COLUMNS = ("epoch", "loss", "val_loss", "learning_rate", "gradient_norm", "seconds")
"""A record's own columns, besides its metrics (``accuracy``, ``val_accuracy``, ...)."""


class ReadOnlyDict(dict):
    """A dict that refuses changes: an :class:`EpochRecord`'s metrics, as the record is
    frozen. It is still a dict (JSON, ``dataclasses.asdict``, ``==`` with a dict), and
    copies (``dict(record.metrics)``, :mod:`copy`, :mod:`pickle`) can be changed or are
    read-only again respectively."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(
            "an EpochRecord's metrics are read-only (the record is what the epoch "
            "produced); change a copy: dict(record.metrics)."
        )

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (dict(self),)


_NO_METRICS = ReadOnlyDict()


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch produced.

    Attributes
    ----------
    epoch : int
        1-based epoch number within the trainer that ran it: :meth:`Trainer.fit
        <deltarule.training.Trainer.fit>` and ``partial_fit`` called again on the same
        trainer continue the count (so does a resumed checkpoint), while
        :meth:`Network.fit <deltarule.network.Network.fit>` makes a new trainer each
        call and numbers from 1 again, even when it continues from the weights.
    loss : float
        Mean training error over the epoch's batches, penalties included.
    val_loss : float or None
        Error on the validation set after the epoch, when there is one.
    metrics, val_metrics : mapping of str to float
        Training metrics (from the epoch's batch outputs) and validation metrics,
        read-only (:class:`ReadOnlyDict`); a metric may be NaN (R² of one sample).
    learning_rate : float
        Learning rate used during the epoch.
    gradient_norm : float
        Euclidean norm of the epoch's mean gradient.
    seconds : float
        Wall time of the epoch.
    """

    epoch: int
    loss: float
    val_loss: float | None
    metrics: Mapping[str, float]
    val_metrics: Mapping[str, float]
    learning_rate: float
    gradient_norm: float
    seconds: float

    def __post_init__(self) -> None:
        # (cheap: the compiled online path builds a record for each of millions of epochs)
        if type(self.metrics) is not ReadOnlyDict:
            metrics = ReadOnlyDict(self.metrics) if self.metrics else _NO_METRICS
            object.__setattr__(self, "metrics", metrics)
        if type(self.val_metrics) is not ReadOnlyDict:
            val_metrics = ReadOnlyDict(self.val_metrics) if self.val_metrics else _NO_METRICS
            object.__setattr__(self, "val_metrics", val_metrics)

    def get(self, key: str) -> float | None:
        """Return a monitored value by name: "loss", "val_loss", "accuracy", "val_accuracy", ..."""
        if key in COLUMNS:
            return getattr(self, key)
        if key.startswith("val_"):
            return self.val_metrics.get(key[4:])
        return self.metrics.get(key)

    def as_dict(self) -> dict[str, Any]:
        """Flatten to one dict: metrics as ``name`` and ``val_name`` keys.

        ``val_loss`` is always there, None without validation (Keras leaves it out):
        every run's rows then share their first columns, which CSV logs and model files
        rely on. Values are as recorded, NaN and infinity included: ``json.dumps``
        would write them as the non-standard ``NaN``/``Infinity``; use
        :meth:`History.to_json`, which writes ``null``.
        """
        row: dict[str, Any] = {
            "epoch": self.epoch,
            "loss": self.loss,
            "val_loss": self.val_loss,
            "learning_rate": self.learning_rate,
            "gradient_norm": self.gradient_norm,
            "seconds": self.seconds,
        }
        row.update(self.metrics)
        row.update({f"val_{k}": v for k, v in self.val_metrics.items()})
        return row


def _row_block(rows: list[dict[str, Any]]) -> tuple[int, dict[str, list[Any]]]:
    """Rows (:meth:`EpochRecord.as_dict`) as columns: their keys in order of appearance."""
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k not in keys)
    return len(rows), {k: [row.get(k) for row in rows] for k in keys}


def _chunk_block(item: tuple) -> tuple[int, dict[str, list[Any]]]:
    """A column chunk (:meth:`History.extend_columns`) as the columns its records' rows
    would give (:attr:`History.records` builds them so)."""
    first, losses, norms, rate, seconds, metrics = item
    n = len(losses)
    block = {
        "epoch": list(range(first, first + n)),
        "loss": [float(v) for v in np.asarray(losses).tolist()],
        "val_loss": [None] * n,
        "learning_rate": [rate] * n,
        "gradient_norm": [float(v) for v in np.asarray(norms).tolist()],
        "seconds": [seconds] * n,
    }
    block.update({name: column.tolist() for name, column in metrics.items()})
    return n, block


def _chunk_record(chunk: tuple, i: int) -> EpochRecord:
    """The record of epoch ``i`` of a chunk :meth:`History.extend_columns` keeps."""
    first, losses, norms, rate, seconds, metrics = chunk
    values = {name: float(column[i]) for name, column in metrics.items()}
    loss, norm = float(losses[i]), float(norms[i])
    return EpochRecord(first + i, loss, None, values, {}, rate, norm, seconds)


class History:
    """The records of a training run and why it stopped.

    Attributes
    ----------
    records : list of EpochRecord
    stop_reason : str
        E.g. "target error 0.001 reached", "max epochs (200) reached".
    best_epoch : int or None
        Epoch whose weights were restored by early stopping, if any: its number counted
        from 1, as ``record.epoch`` and the progress line count (Keras's :attr:`epoch` list
        counts from 0: its values are at ``history.epoch.index(best_epoch - 1)``, the
        position ``best_epoch - 1`` in a fit's first run).
    columns : tuple of str
        The values a fit records each epoch ("loss", "accuracy", "val_loss", ...), set by
        the trainer: a run that recorded no epoch (diverged in its first) still has them,
        as empty lists, in :attr:`history` and ``history[name]``.
    params : dict
        Keras's ``History.params``, set by the trainer: ``{"verbose": 0, "epochs": 200,
        "steps": 4}`` — the fit's ``verbose``, the number of its last epoch (a continued
        or resumed run's counts the epochs before it, as Keras's ``epochs`` with
        ``initial_epoch``) and ``steps``, the updates per epoch (its batches; 1 for a full
        batch or a full-batch solver). Empty for a history not made by a fit.

    Notes
    -----
    The compiled online path reports thousands of epochs at once; it adds them
    with :meth:`extend_columns` and their records are built only when read.
    """

    columns: tuple[str, ...] = ()  # (histories pickled before it was added have none)
    params: Mapping[str, Any] = MappingProxyType({})  # (as columns; a fit's is a dict)

    def __init__(
        self,
        records: list[EpochRecord] | None = None,
        stop_reason: str = "",
        best_epoch: int | None = None,
        *,
        columns: Sequence[str] = (),
    ) -> None:
        self._records: list[EpochRecord] = list(records or [])
        self.columns = tuple(columns)
        self._pending: list[Any] = []  # EpochRecords and column chunks, in order
        self.stop_reason = stop_reason
        self.best_epoch = best_epoch
        self.params = {}  # (Keras's: set by the trainer's fit)

    def __repr__(self) -> str:
        return f"History({len(self)} epochs, stop_reason={self.stop_reason!r})"

    @property
    def records(self) -> list[EpochRecord]:
        """Every epoch's record, in order."""
        for item in self._pending:
            if isinstance(item, EpochRecord):
                self._records.append(item)
                continue
            first, losses, norms, rate, seconds, metrics = item
            names, columns = list(metrics), [column.tolist() for column in metrics.values()]
            self._records.extend(
                EpochRecord(
                    first + i,
                    float(loss),
                    None,
                    dict(zip(names, [column[i] for column in columns])) if names else {},
                    {},
                    rate,
                    float(norm),
                    seconds,
                )
                for i, (loss, norm) in enumerate(zip(losses, norms))
            )
        self._pending.clear()
        return self._records

    @property
    def last(self) -> EpochRecord | None:
        """The last epoch's record (None when none), without building the records of the
        epochs kept as columns (a compiled online run keeps millions)."""
        if not self._pending:
            return self._records[-1] if self._records else None
        item = self._pending[-1]
        return item if isinstance(item, EpochRecord) else _chunk_record(item, len(item[1]) - 1)

    def append(self, record: EpochRecord) -> None:
        """Add one epoch's record."""
        (self._pending if self._pending else self._records).append(record)

    def extend_columns(
        self,
        first_epoch: int,
        losses: Any,
        gradient_norms: Any,
        learning_rate: float,
        seconds: float,
        metrics: Mapping[str, Any] | None = None,
    ) -> None:
        """Add consecutive epochs (no validation) given as arrays of equal length: their
        losses, gradient norms and, in ``metrics``, one array of values per metric name."""
        columns = {name: np.asarray(values, np.float64) for name, values in (metrics or {}).items()}
        self._pending.append((first_epoch, losses, gradient_norms, learning_rate, seconds, columns))

    def following(self, prior: History) -> History:
        """A new history of ``prior``'s epochs then this one's (a resumed run's whole run),
        sharing this one's column chunks rather than building their records."""
        whole = History(list(prior.records), self.stop_reason, self.best_epoch,
                        columns=self.columns)  # fmt: skip
        whole._pending = [*self._records, *self._pending]
        return whole

    def __len__(self) -> int:
        pending = sum(1 if isinstance(i, EpochRecord) else len(i[1]) for i in self._pending)
        return len(self._records) + pending

    def __iter__(self) -> Iterator[EpochRecord]:
        return iter(self.records)

    @overload
    def __getitem__(self, index: SupportsIndex) -> EpochRecord: ...
    @overload
    def __getitem__(self, index: slice) -> list[EpochRecord]: ...
    @overload
    def __getitem__(self, index: str) -> list[Any]: ...
    def __getitem__(self, index: SupportsIndex | slice | str) -> Any:
        """A record (``history[0]``, slices too), or one value per epoch by name
        (``history["loss"]``, ``history["val_accuracy"]``: Keras's ``history.history[name]``)."""
        if isinstance(index, str):
            if index == "loss" and len(self):  # (a compiled run's million losses, alone)
                return self.loss
            columns = self.as_dict()
            if index not in columns:
                recorded = ", ".join(columns) or "nothing (no epoch was recorded)"
                raise KeyError(f"{index!r} is not recorded in this history; it records {recorded}.")
            return columns[index]
        if self._pending and not isinstance(index, slice):
            return self._one(operator.index(index))
        return self.records[index]

    def _one(self, index: int) -> EpochRecord:
        """Record ``index`` (from the end when negative) without building the records of
        the epochs kept as columns (``history[-1]`` of a million compiled epochs took 3.6 s)."""
        size = len(self)
        if not -size <= index < size:
            raise IndexError(f"history index {index} out of range ({size} epochs)")
        index %= size
        if index < len(self._records):
            return self._records[index]
        index -= len(self._records)
        for item in self._pending:
            if isinstance(item, EpochRecord):
                if index == 0:
                    return item
                index -= 1
                continue
            if index < len(item[1]):
                return _chunk_record(item, index)
            index -= len(item[1])
        raise AssertionError("unreachable: the index was checked against the length")

    @property
    def last_epoch(self) -> int:
        """The number of the last epoch recorded (0 when none), without building the
        records of epochs kept as columns (a compiled online run keeps millions)."""
        last = self.last
        return 0 if last is None else last.epoch

    @property
    def loss(self) -> list[float]:
        """Training error of every epoch."""
        values = [r.loss for r in self._records]
        for item in self._pending:
            if isinstance(item, EpochRecord):
                values.append(item.loss)
            else:
                values.extend(item[1].tolist())
        return values

    def loss_array(self) -> np.ndarray:
        """:attr:`loss` as a new float64 array, without a Python float per epoch (the end of
        a compiled online run of a million epochs read :attr:`loss` four times, 18 ms each;
        this is ~1 ms)."""
        parts = [np.fromiter((r.loss for r in self._records), np.float64, len(self._records))]
        for item in self._pending:
            if isinstance(item, EpochRecord):
                parts.append(np.array([item.loss], np.float64))
            else:
                parts.append(np.asarray(item[1], np.float64))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    @property
    def val_loss(self) -> list[float | None]:
        return [r.val_loss for r in self.records]

    def as_dict(self) -> dict[str, list[Any]]:
        """Return a dict of lists (one list per column), like Keras' ``history.history``.

        The columns of :meth:`EpochRecord.as_dict`: ``val_loss`` is there (all None)
        even without validation, and values are as recorded (NaN included; see
        :meth:`to_json`). A metric some epochs lack is None there.
        """
        if not len(self) and self.columns:  # (a fit that recorded no epoch: its columns, empty)
            return {key: [] for key in ("epoch", *self.columns)}
        # blocks of columns, in order: records' rows, and column chunks read as columns (the
        # records of a compiled run's millions of epochs are not built one by one)
        blocks: list[tuple[int, dict[str, list[Any]]]] = []
        rows: list[dict[str, Any]] = []
        for item in [*self._records, *self._pending]:
            if isinstance(item, EpochRecord):
                rows.append(item.as_dict())
                continue
            blocks.append(_row_block(rows))
            rows = []
            blocks.append(_chunk_block(item))
        blocks.append(_row_block(rows))
        keys: list[str] = []
        for _, block in blocks:
            keys.extend(k for k in block if k not in keys)
        return {k: [v for n, block in blocks for v in block.get(k, [None] * n)] for k in keys}

    @property
    def history(self) -> dict[str, list[Any]]:
        """The columns as Keras's ``History.history`` holds them, so code written for Keras
        (``h.history["loss"]``, ``if "val_loss" in h.history: ...``) runs unchanged.

        :meth:`as_dict` without the ``epoch`` column (Keras keeps the epochs apart:
        :attr:`epoch`) and without columns no epoch recorded (``val_loss`` of a run without
        validation data). A new dict on each read: changing it changes nothing here.
        """
        return {
            key: values
            for key, values in self.as_dict().items()
            if key != "epoch" and (not values or any(value is not None for value in values))
        }

    @property
    def epoch(self) -> list[int]:
        """The epoch of each record, counted from 0 as Keras's ``History.epoch`` counts them
        (``record.epoch`` counts from 1, as the progress line does)."""
        return [r.epoch - 1 for r in self.records]

    def to_json(self, **options: Any) -> str:
        """Return :meth:`as_dict` as standard JSON: NaN and infinity become ``null``, as
        in model files (``json.dumps`` would write ``NaN``, which strict parsers refuse).
        Its ``"epoch"`` column numbers the epochs from 1, as the records and the progress
        lines do (:attr:`epoch`, Keras's list, counts from 0).

        ``options`` go to :func:`json.dumps` (e.g. ``indent=2``).
        """
        from ._json import dumps

        return dumps(self.as_dict(), **options)
