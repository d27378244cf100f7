"""deltarule model files: weights as safetensors, everything else as a versioned JSON header.

A model file is a plain safetensors file (:mod:`deltarule.io.safetensors`), so
it holds data only and PyTorch users can load it. Tensors are named as in
``torch.nn.Sequential(nn.Linear, act, nn.Linear, ...)`` state dicts by layer:

    layers.{i}.weight   shape (n_outputs, n_inputs)   (deltarule's ``W{i+1}``)
    layers.{i}.bias     shape (n_outputs,)            (deltarule's ``b{i+1}``)
    extra.{name}        anything else saved alongside (e.g. optimizer state)

The safetensors metadata entry ``"deltarule"`` is a JSON object::

    {"format": "deltarule.model", "format_version": 1, "library_version": "0.1.0",
     "architecture": Network.config(), "frozen": ["layers.0.bias"],
     "preprocessing": {...} | null, "classes": [...] | null,
     "training": {...} | null, "created": "2025-01-01T12:00:00+00:00"}

The architecture's ``"loss"`` is the loss's name, or for a loss made with other parameters
than its registered default's, ``{"name": ..., **parameters}`` (``huber(0.1)``:
``{"name": "huber", "delta": 0.1}``); a name alone means the default parameters (the only
form files written before held). A reader that predates the mapping form refuses such a
file (its architecture cannot be built) rather than use the default delta.

A second metadata entry, ``"deltarule.sha256"``
(:data:`~deltarule.io.safetensors.CHECKSUM_KEY`), holds a SHA-256 checksum of the
whole file but itself: the tensors' names, dtypes, shapes and offsets, the JSON
header above (architecture, preprocessing, classes, training record) and the
tensor data (:func:`~deltarule.io.safetensors.covered_header`). A file changed
after saving (a flipped bit on disk, a broken copy, an edited mean or class label)
is refused as damaged rather than loaded to make other predictions. Files written
before the checksum existed have no such entry and load unchecked; the format
version is unchanged, since readers that do not know the entry ignore it.

Loading checks every part and fails with an
:class:`~deltarule.exceptions.IncompatibleFormatError` saying what is wrong; a
file from a newer deltarule fails with a hint to upgrade. The header's sections that
have a meaning are checked for it: the architecture holds exactly the fields
:meth:`Network.config <deltarule.Network.config>` writes, each of its type;
``library_version`` and ``created`` are text (``created`` an ISO 8601 time); ``classes``
are distinct labels (text, numbers or booleans), one per output, or two (or one) for a
single output, as a sigmoid's. ``preprocessing`` and ``training`` are records of their
writers (``deltarule train``, a checkpoint, an estimator, or the caller of
:func:`save_model`), checked by the programs that use them.

Examples
--------
>>> import tempfile, pathlib
>>> import deltarule as dr
>>> net = dr.Network([2, 3, 1], activation="tanh", seed=0)
>>> path = save_model(net, pathlib.Path(tempfile.mkdtemp()) / "model.safetensors")
>>> loaded = load_model(path)
>>> bool((loaded.network.parameters == net.parameters).all())
True
"""

from __future__ import annotations

import json
import math
import os
import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from .._reports import user_stacklevel
from ..activations import ACTIVATIONS
from ..exceptions import DeltaruleError, IncompatibleFormatError, InputError
from ..losses import LOSSES
from ..network import Network
from ._paths import checked_path, refuse_keras_format
from ._raw_rows import as_named_table
from .safetensors import (
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_TENSORS,
    DTYPES,
    Fail,
    loads_strict,
    make_fail,
    read_safetensors,
    read_safetensors_header,
    write_safetensors,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "LoadedModel",
    "load_model",
    "model_header",
    "save_model",
]

FORMAT = "deltarule.model"
FORMAT_VERSION = 1
METADATA_KEY = "deltarule"
EXTRA_PREFIX = "extra."
_KIND = "deltarule model file"
_DTYPE_CODES = {"float32": "F32", "float64": "F64"}
_ARCHITECTURE_FIELDS = ("layer_sizes", "activations", "use_bias", "dropout", "loss", "dtype")


@dataclass(frozen=True)
class LoadedModel:
    """Everything a model file holds.

    Attributes
    ----------
    network : Network
        Weights, biases and frozen tensors restored.
    preprocessing, classes, training : dict, list, dict or None
        As given to :func:`save_model`.
    header : dict
        The full JSON header.
    extra_tensors : dict of str to ndarray
        Tensors saved under ``extra.``, with the prefix removed.
    """

    network: Network
    preprocessing: dict[str, Any] | None
    classes: list[Any] | None
    training: dict[str, Any] | None
    header: dict[str, Any]
    extra_tensors: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str] | None:
        """The names of the columns the model reads, in the network's input order, or None.

        From the preprocessing (a model from ``deltarule train``), else the
        ``feature_names_in_`` an estimator (:class:`deltarule.sklearn.MLPClassifier`,
        ...) stored when fitted on a DataFrame; None for a network saved from arrays.
        """
        if self.preprocessing is not None:
            from ..preprocessing import TabularPreprocessor

            return list(TabularPreprocessor.from_dict(self.preprocessing).feature_names)
        return stored_feature_names(self.training, self.network.n_inputs)

    def predict(self, data: Any) -> np.ndarray:
        """Predict for raw data as ``deltarule predict`` does: labels or values.

        Parameters
        ----------
        data : pandas.DataFrame or array-like
            With the file's preprocessing (a model from ``deltarule train``): a table of
            the training data's columns, by name (any order, extra columns ignored), a dict
            of column lists, or rows (a 2-D array or a list of rows) of exactly those raw
            columns in the training order (:attr:`feature_names`); the preprocessing turns
            them into the network's inputs (``network.predict`` takes those standardised,
            encoded inputs, not raw rows). Without it: the network's
            inputs, shape (n_samples, n_inputs); a table of an estimator fitted on named
            columns (:attr:`feature_names`) gives them by name (any order, extra columns
            ignored), as the estimator does. A polars DataFrame or a pyarrow Table (any
            object with ``to_pandas()``) is read as its pandas DataFrame.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Class labels for a classifier (argmax, or output > 0.5 for one sigmoid
            column; a 0/1 indicator matrix for a multi-label estimator), values for a
            regression; without preprocessing or class labels, the network's outputs.
        """
        outputs = self._outputs(data)
        if self.preprocessing is None:
            if not self.classes:
                return outputs
            if (self.training or {}).get("target_type") == "multilabel-indicator":
                return (outputs > 0.5).astype(int)
            if len(self.classes) == 1:  # (an estimator fitted on one class predicts it)
                return np.repeat(np.asarray(self.classes), len(outputs))
            index = (
                (outputs[:, 0] > 0.5).astype(int) if outputs.shape[1] == 1 else outputs.argmax(1)
            )
            return np.asarray(self.classes)[index]
        from ..preprocessing import TabularPreprocessor

        pre = TabularPreprocessor.from_dict(self.preprocessing)
        if (pre.n_outputs, self.network.n_outputs) == (1, 2):  # a two-class softmax
            return np.asarray(pre.classes)[outputs.argmax(axis=1)]
        return pre.inverse_target(outputs)

    def predict_proba(self, data: Any) -> np.ndarray:
        """Return class probabilities, columns in the order of :attr:`classes`.

        As ``deltarule predict --proba`` writes them: one column per class, two for a
        single sigmoid output (``1 - p``, ``p``), in the network's float dtype.

        Parameters
        ----------
        data : pandas.DataFrame or array-like
            As for :meth:`predict`.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)

        Raises
        ------
        InputError
            For a regression model (it predicts numbers, not classes).
        """
        from ..training import CLASSIFICATION_LOSSES

        task = (self.preprocessing or {}).get("task")
        regression = task == "regression" or (
            task is None
            and not self.classes
            and self.network.loss.name not in CLASSIFICATION_LOSSES
        )
        if regression:
            raise InputError(
                "predict_proba needs a classification model; this is a regression model (it "
                "predicts numbers, with no classes). Use predict(data) for its values."
            )
        outputs = self._outputs(data)
        multilabel = (self.training or {}).get("target_type") == "multilabel-indicator"
        if self.preprocessing is not None:  # (a table's one target: one class per row)
            outputs = one_vs_rest(self.network, outputs)
        return outputs if multilabel else class_probabilities(outputs, len(self.classes or "ab"))

    def _outputs(self, data: Any) -> np.ndarray:
        """The network's outputs for raw ``data`` (through the preprocessing, or the stored
        feature names: columns chosen by name)."""
        data = _as_pandas(data)
        if self.preprocessing is None:
            names = stored_feature_names(self.training, self.network.n_inputs)
            if names is not None and isinstance(data, Mapping):  # (as pandas reads a dict)
                data = as_named_table(data, names)
            if names is not None and hasattr(data, "columns"):
                data = data[_named_columns(data, names)]
            return self.network.predict(data)
        from ..preprocessing import TabularPreprocessor

        pre = TabularPreprocessor.from_dict(self.preprocessing)
        table = as_named_table(data, pre.feature_names)
        if table is None:
            raise InputError(
                f"this model takes its data's raw columns ({len(pre.feature_names)}, in "
                f"order {pre.feature_names[:3]}{'...' if len(pre.feature_names) > 3 else ''})"
                f", through its preprocessing; received {_type_name(data)}. Pass a pandas "
                "DataFrame (deltarule.io.read_table(path) reads a file as training did), a "
                "list of rows of these values in this order, or a dict of column lists. "
                "(model.network.predict takes the network's own inputs, standardised and "
                "encoded by the preprocessing, not raw rows.)"
            )
        data = table
        _named_columns(data, pre.feature_names)
        return self.network.predict(pre.transform(data, dtype=self.network.dtype))

    def __repr__(self) -> str:
        """A short description (the header and training record are in their attributes)."""
        net = self.network
        parts = [f"layers {net.layer_sizes}"]
        task = (self.preprocessing or {}).get("task")
        if task is None:
            task = "classification" if self.classes else None
        if task:
            parts.append(str(task))
        if self.classes:
            parts.append(f"{len(self.classes)} classes {_first(self.classes)}")
        names = self.feature_names
        if names:
            parts.append(f"{len(names)} columns {_first(names)}")
        epochs = _epochs_trained(self.training)
        if epochs is not None:
            parts.append(f"{epochs} epochs trained")
        return f"LoadedModel({', '.join(parts)})"


def one_vs_rest(network: Any, outputs: np.ndarray) -> np.ndarray:
    """A single-label classifier's ``outputs`` from a sigmoid per class (more than two:
    ``deltarule train --loss binary_crossentropy``), rows divided by their sums, as
    scikit-learn's ``OneVsRestClassifier.predict_proba`` divides them (each sigmoid scores
    its class alone: a row need not sum to 1); any other network's as they are."""
    if network.layers[-1].activation.name != "sigmoid" or outputs.shape[1] <= 2:
        return outputs
    sums = outputs.sum(axis=1, keepdims=True)
    even = np.full_like(outputs, 1 / outputs.shape[1])  # (a row of zeros: no preference)
    return np.divide(outputs, sums, out=even, where=sums > 0)


def class_probabilities(outputs: np.ndarray, n_classes: int = 2) -> np.ndarray:
    """A classifier's outputs as one probability column per class: a single sigmoid
    output ``p`` becomes the two columns ``1 - p``, ``p`` (``1 - p`` alone for a model of
    ``n_classes`` 1, an estimator fitted on one class: its targets were all 0); several
    outputs are as they are."""
    if outputs.shape[1] != 1:
        return outputs
    return 1 - outputs if n_classes == 1 else np.hstack([1 - outputs, outputs])


def stored_feature_names(training: Any, n_inputs: int) -> list[str] | None:
    """The ``feature_names_in_`` an estimator's ``training`` record holds (one distinct
    name per input), else None."""
    attributes = training.get("attributes") if isinstance(training, dict) else None
    names = attributes.get("feature_names_in_") if isinstance(attributes, dict) else None
    if (
        isinstance(names, list)
        and len(names) == n_inputs
        and all(isinstance(name, str) for name in names)
        and len(set(names)) == len(names)
    ):
        return names
    return None


def _named_columns(data: Any, names: list[Any]) -> list[Any]:
    """The columns of the table ``data`` named ``names``, in that order; raise naming the
    missing ones."""
    from .._naming import missing_columns

    present = list(data.columns)
    by_text = {str(column): column for column in present}
    lacking = [name for name in names if name not in present and str(name) not in by_text]
    if lacking:
        raise InputError(
            f"the data lacks {len(lacking)} column(s) the model needs: {lacking[:10]}; "
            f"expected the {len(names)} columns it was trained on by name (any order, extra "
            f"columns ignored). {missing_columns(lacking, present)} Add the missing ones."
        )
    return [name if name in present else by_text[str(name)] for name in names]


def _as_pandas(data: Any) -> Any:
    """A polars DataFrame, a pyarrow Table (anything with ``to_pandas()`` that is not pandas)
    as its pandas DataFrame; anything else as it is."""
    module = type(data).__module__ or ""
    if module.startswith("pandas") or not callable(getattr(data, "to_pandas", None)):
        return data
    return data.to_pandas()


def _type_name(value: Any) -> str:
    """``module.Class`` of ``value`` (``polars.dataframe.frame.DataFrame``), for a message."""
    kind = type(value)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def _first(values: list[Any], limit: int = 4) -> str:
    shown = ", ".join(repr(value)[:40] for value in values[:limit])
    return f"[{shown}{', ...' if len(values) > limit else ''}]"


def _epochs_trained(training: Any) -> int | None:
    """How many epochs the ``training`` record says were trained (``deltarule train``'s
    summary, an estimator's ``n_iter_``, a checkpoint's trainer), else None."""
    if not isinstance(training, dict):
        return None
    for section, key in (
        ("summary", "epochs"),
        ("attributes", "n_iter_"),
        ("trainer", "epochs_done"),
    ):
        part = training.get(section)
        value = part.get(key) if isinstance(part, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _tensor_table(sizes: list[int], use_bias: list[bool]) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Map each file tensor name to (layout name, shape), in layer order."""
    table = {}
    for i, (n_inputs, n_outputs) in enumerate(zip(sizes[:-1], sizes[1:])):
        table[f"layers.{i}.weight"] = (f"W{i + 1}", (n_outputs, n_inputs))
        if use_bias[i]:
            table[f"layers.{i}.bias"] = (f"b{i + 1}", (n_outputs,))
    return table


_MAX_DEPTH = 100
"""Deepest nesting of lists and dicts a saved record may have (deltarule's own go 4 deep)."""
_MAX_DIGITS = 4000
"""Most digits of a whole number in a saved record (Python reads JSON numbers of at most
4,300 digits by default)."""


def _jsonable(value: Any, where: str, within: tuple[int, ...] = (), finite: bool = False) -> Any:
    """Return ``value`` as plain JSON data; non-finite floats become None (JSON has no NaN),
    or with ``finite`` are refused (the preprocessing, which a None in their place would
    change: a record's NaN loss is a None that says "not a number").

    ``within``: the ids of the lists and dicts ``value`` is inside, so that one that holds
    itself, or nesting deeper than :data:`_MAX_DEPTH`, is refused rather than recursed into.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        if value.bit_length() > _MAX_DIGITS * 3.32:
            raise InputError(
                f"{where} holds a whole number of about {int(value.bit_length() / 3.32):,} "
                f"digits; a model file stores numbers of at most {_MAX_DIGITS:,} digits. "
                "Store it as text (str) or as a float."
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value) and finite:
            raise InputError(
                f"{where} holds {value}, which a model file cannot store: its header is "
                "standard JSON, which has no NaN or infinity (it would be saved as None, "
                "and the state load_model gives back would not be the one given); expected "
                "finite numbers. Fix the value (a NaN mean comes from a column without "
                "numbers, say), or store it as text ('nan') if it is meant."
            )
        return value if math.isfinite(value) else None
    if isinstance(value, (np.generic, np.ndarray)) and value.dtype.kind in "biufUS":
        return _jsonable(value.tolist(), where, within, finite)
    if isinstance(value, (Mapping, list, tuple)):
        if id(value) in within:
            raise InputError(
                f"{where} holds itself (a {type(value).__name__} that contains itself), "
                "which a model file cannot store; expected JSON data, a tree without cycles. "
                "Pass a copy without the reference to itself."
            )
        if len(within) >= _MAX_DEPTH:
            raise InputError(
                f"{where[:120]}... is nested more than {_MAX_DEPTH} levels deep, which a model "
                f"file does not store; expected JSON data at most {_MAX_DEPTH} levels deep. "
                "Flatten it."
            )
        inside = (*within, id(value))
    if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
        return {
            key: _jsonable(item, f"{where}[{key!r}]", inside, finite) for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, f"{where}[{i}]", inside, finite) for i, item in enumerate(value)]
    raise InputError(
        f"{where} holds {type(value).__name__} {value!r:.80}, which a model file cannot store; "
        "expected JSON data (dicts with string keys, lists, strings, numbers, booleans, None)."
    )


def _frozen(network: Network, table: dict[str, tuple[str, tuple[int, ...]]]) -> list[str]:
    frozen = []
    for file_name, (layout_name, _) in table.items():
        mask = network.trainable[network.layout[layout_name].slice]
        if not mask.any():
            frozen.append(file_name)
        elif not mask.all():
            raise InputError(
                f"{layout_name} is only partly frozen (network.trainable); model files store "
                f"freezing per tensor. Use network.freeze({layout_name!r}) or "
                f"network.unfreeze({layout_name!r}) before saving."
            )
    return frozen


def _extra(extra_tensors: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
    if extra_tensors is None:
        return {}
    if not isinstance(extra_tensors, Mapping):
        raise InputError(
            f"extra_tensors must be a dict of name -> array; received "
            f"{type(extra_tensors).__name__}."
        )
    return {f"{EXTRA_PREFIX}{name}": np.asarray(value) for name, value in extra_tensors.items()}


def save_model(
    network: Network,
    path: str | os.PathLike[str],
    *,
    preprocessing: dict[str, Any] | None = None,
    classes: list[Any] | None = None,
    training: dict[str, Any] | None = None,
    extra_tensors: Mapping[str, np.ndarray] | None = None,
) -> Path:
    """Save ``network`` (and what is needed to use it) to a model file, atomically.

    The file carries a SHA-256 checksum of its header and tensor data, which
    :func:`load_model` verifies.

    Parameters
    ----------
    network : Network
    path : str or path-like
        Conventionally ending in ``.safetensors``; a name of Keras's own formats
        (``.keras``, ``.h5``, ``.weights.h5``, ``.hdf5``) is refused, as the file would not
        be one. An existing file is replaced only once the new one is complete.
    preprocessing : dict, optional
        JSON-able preprocessing state (e.g. ``TabularPreprocessor.to_dict()``).
    classes : list, optional
        Class labels, in output order.
    training : dict, optional
        JSON-able training record (settings, history). Non-finite floats are stored as null.
    extra_tensors : dict of str to ndarray, optional
        Stored as ``extra.{name}``.

    Returns
    -------
    Path
        ``path``.
    """
    return write_model(network, path, preprocessing, classes, training, extra_tensors)


def write_model(
    network: Network,
    path: str | os.PathLike[str],
    preprocessing: dict[str, Any] | None,
    classes: list[Any] | None,
    training: dict[str, Any] | None,
    extra_tensors: Mapping[str, np.ndarray] | None,
    encoded: Mapping[str, str] | None = None,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
) -> Path:
    """:func:`save_model`, with ``encoded`` entries of ``training`` given as their JSON text
    already (``json.dumps`` of :func:`_jsonable` data; a checkpoint's history, whose records
    it encodes once each instead of at every save: the epochs' saves cost the square of the
    epochs otherwise). The text is written in the entry's place as it is. A header larger
    than ``max_header_bytes``, the limit of the reader the file is for, is refused."""
    if not isinstance(network, Network):
        raise InputError(
            f"save_model expects a deltarule Network; received {type(network).__name__}."
        )
    refuse_keras_format(checked_path(path, "save_model's path"), "save_model's path")
    if not np.isfinite(network.parameters).all():
        raise InputError(
            "the network's parameters contain NaN or infinity, which a model file cannot hold "
            "(load_model refuses them); retrain, or restore finite weights before saving."
        )
    table = _tensor_table(network.layer_sizes, [layer.use_bias for layer in network.layers])
    _refuse_namesakes(network)
    _warn_unregistered(network.config(), path)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": _library_version(),
        "architecture": _jsonable(network.config(), "architecture"),
        "frozen": _frozen(network, table),
        "preprocessing": _checked_field(preprocessing, dict, "preprocessing"),
        "classes": _checked_field(classes, list, "classes"),
        "training": _checked_field(training, dict, "training"),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    _check_fields(header, _refuse_saving)  # (what load_model would refuse is not written)
    tensors = {
        name: network.layout.view(network.parameters, layout_name)
        for name, (layout_name, _) in table.items()
    }
    tensors.update(_extra(extra_tensors))
    tokens = {}
    for key, json_text in (encoded or {}).items():  # (a string in its place, then the text)
        token = f"\x00deltarule-encoded-{key}-{secrets.token_hex(16)}\x00"
        header["training"][key] = token
        tokens[json.dumps(token, ensure_ascii=False)] = json_text
    text = json.dumps(header, ensure_ascii=False, allow_nan=False)
    for token, json_text in tokens.items():
        text = text.replace(token, json_text, 1)
    write_safetensors(
        path, tensors, {METADATA_KEY: text}, checksum=True, max_header_bytes=max_header_bytes
    )
    return Path(path)


def encoded_json(value: Any, where: str) -> str:
    """``value`` as the JSON text :func:`save_model` writes for it (for :func:`write_model`'s
    ``encoded``)."""
    return json.dumps(_jsonable(value, where), ensure_ascii=False, allow_nan=False)


def _refuse_saving(reason: str, options: dict[str, str] | None = None) -> NoReturn:
    """The ``fail`` of :func:`_check_fields` at saving: what load_model would refuse."""
    if len(reason) > 1000:
        reason = f"{reason[:800]} [...] {reason[-150:]}"
    raise InputError(
        f"the model cannot be saved as given: {reason.replace('its ', 'the ', 1)}; "
        "load_model would refuse the file. Pass values that fit (e.g. classes=None, or one "
        "distinct label per output).",
        options=options,
    )


def _checked_field(value: Any, kind: type, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, tuple) and kind is list:
        value = list(value)
    if not isinstance(value, kind if kind is list else Mapping):
        raise InputError(
            f"{name} must be a {kind.__name__} or None; received {type(value).__name__}."
        )
    # (the preprocessing's numbers are refused when not finite; the classes' None, NaN's
    # reading, is refused by the class check, which names every label a file cannot hold)
    return _jsonable(value, name, finite=name == "preprocessing")


def _library_version() -> str:
    from .. import __version__

    return __version__


def _check_header(metadata: dict[str, str], path: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the validated JSON header of a model file."""
    fail = make_fail(path, _KIND)
    if METADATA_KEY not in metadata:
        fail(
            f"its safetensors metadata has no {METADATA_KEY!r} entry (found "
            f"{sorted(metadata) or 'none'}); it was written by another program"
        )
    text = metadata[METADATA_KEY]
    # (a hostile header of empty arrays costs 30 bytes of memory per byte: refused unless
    # it holds no more objects and arrays than a header deltarule writes could)
    header = loads_strict(
        text, fail, f"its {METADATA_KEY!r} metadata", max_containers=_max_containers(text)
    )
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else header
        fail(f"its header names format {found!r:.80}; expected {FORMAT!r}")
    version = header.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise IncompatibleFormatError(
            f"{os.fspath(path)} was written by a newer deltarule (format version {version}, "
            f"library {header.get('library_version', 'unknown')!s:.40}; this version reads "
            f"{FORMAT_VERSION}); upgrade with pip install -U deltarule."
        )
    if version != FORMAT_VERSION or type(version) is not int:  # (not 1.0, not True)
        fail(f"its format_version is {version!r}; expected an integer from 1 to {FORMAT_VERSION}")
    _check_fields(header, fail)
    return header


def _max_containers(text: str) -> int:
    """The most JSON objects and arrays a model file's metadata ``text`` may hold: a
    generous 100,000, and one per 16 characters past that (deltarule's own records, such as
    a history's epochs or a column's categories, spend far more characters on each)."""
    return 100_000 + len(text) // 16


def _check_fields(header: dict[str, Any], fail: Fail) -> None:
    expected = {
        "architecture": (dict,),
        "frozen": (list,),
        "preprocessing": (dict, type(None)),
        "classes": (list, type(None)),
        "training": (dict, type(None)),
    }
    for name, kinds in expected.items():
        if name not in header or not isinstance(header[name], kinds):
            found = type(header[name]).__name__ if name in header else "nothing"
            fail(
                f"its header field {name!r} is {found}; expected "
                f"{' or '.join('null' if k is type(None) else k.__name__ for k in kinds)}"
            )
    for name in ("library_version", "created"):  # (written since the first version)
        if name in header and not isinstance(header[name], str):
            fail(f"its header field {name!r} is {header[name]!r:.80}; expected text")
    if "created" in header and not _is_time(header["created"]):
        fail(
            f"its header field 'created' is {header['created']!r:.80}; expected an ISO 8601 "
            "time such as '2026-11-28T08:00:00+00:00'"
        )
    _check_architecture(header["architecture"], fail)
    _check_classes(header, fail)


def _is_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _check_architecture(architecture: dict[str, Any], fail: Fail) -> None:
    """Refuse fields :meth:`Network.config` never writes and values of the wrong type.

    The values themselves (an activation's name, a dropout rate, a loss's parameters)
    are checked when the network is built; ``fail`` raises.
    """
    unknown = [key for key in architecture if key not in _ARCHITECTURE_FIELDS]
    if unknown:
        fail(
            f"its architecture has unknown field(s) {unknown!r:.120}; expected only "
            f"{', '.join(_ARCHITECTURE_FIELDS)}. A file from a newer deltarule needs pip "
            "install -U deltarule; otherwise the file was edited"
        )
    sizes, use_bias = architecture.get("layer_sizes"), architecture.get("use_bias")
    if not _positive_ints(sizes) or len(sizes) < 2:
        fail(
            f"its architecture has layer_sizes {sizes!r:.80}; expected a list of at least two "
            "positive integers"
        )
    n_layers = len(sizes) - 1
    if not (
        isinstance(use_bias, list)
        and len(use_bias) == n_layers
        and all(isinstance(b, bool) for b in use_bias)
    ):
        fail(f"its architecture has use_bias {use_bias!r:.80}; expected {n_layers} booleans")
    activations = architecture.get("activations")
    if not (
        isinstance(activations, list)
        and len(activations) == n_layers
        and all(isinstance(a, str) for a in activations)
    ):
        fail(
            f"its architecture has activations {activations!r:.80}; expected {n_layers} "
            "activation names, one per layer"
        )
    _check_settings(architecture, fail)


def _check_settings(architecture: dict[str, Any], fail: Fail) -> None:
    """The architecture's dropout, loss and dtype: of the types :meth:`Network.config` writes."""
    dropout = architecture.get("dropout", [])  # (optional: every version wrote it)
    if not (isinstance(dropout, list) and all(_is_number(d) for d in dropout)):
        fail(f"its architecture has dropout {dropout!r:.80}; expected a list of numbers")
    loss = architecture.get("loss")
    if not (
        isinstance(loss, str) or (isinstance(loss, dict) and isinstance(loss.get("name"), str))
    ):
        fail(
            f"its architecture has loss {loss!r:.80}; expected a loss's name, or "
            '{"name": name, parameter: value, ...}'
        )
    dtype = architecture.get("dtype")
    if not isinstance(dtype, str) or dtype not in _DTYPE_CODES:
        fail(f"its architecture has dtype {dtype!r:.40}; expected 'float32' or 'float64'")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_classes(header: dict[str, Any], fail: Fail) -> None:
    """Class labels: distinct scalars, one per output (a single output: two, or one)."""
    classes = header["classes"]
    if not classes:  # (None, or [] as the caller of save_model may give: no labels)
        return
    bad = [c for c in classes if not isinstance(c, (str, int, float))]
    if bad:
        fail(f"its classes hold {bad[0]!r:.80}; expected class labels (text, numbers or booleans)")
    # (1, 1.0 and True are one label to a table's cells: numbers compare by value)
    keys = {("text", c) if isinstance(c, str) else ("number", c) for c in classes}
    if len(keys) != len(classes):
        fail(f"its classes {classes!r:.120} repeat a label; expected distinct labels")
    n_outputs = header["architecture"]["layer_sizes"][-1]
    if not (len(classes) == n_outputs or (n_outputs == 1 and len(classes) <= 2)):
        fail(
            f"it lists {len(classes):,} class(es) but the network has {n_outputs} output(s); "
            "expected one class per output (or two classes for a single output)"
        )
    stored = header["preprocessing"].get("classes") if header["preprocessing"] else None
    if isinstance(stored, list) and _labels(stored) != _labels(classes):
        fail(
            f"its classes {_shown(classes)} differ from its preprocessing's classes "
            f"{_shown(stored)}; a file deltarule writes holds one list in both (the "
            "predictions would use one and the header show the other), so it was edited"
        )


def _labels(classes: list[Any]) -> list[tuple[str, Any]]:
    """Class labels with their JSON types: ``1``, ``1.0`` and ``true`` are three labels."""
    return [(type(c).__name__, c) for c in classes]


def _shown(classes: list[Any]) -> str:
    text = repr(classes)
    return text if len(text) <= 120 else f"{text[:117]}... ({len(classes):,} labels)"


def model_header(
    path: str | os.PathLike[str],
    *,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    max_tensors: int = DEFAULT_MAX_TENSORS,
) -> dict[str, Any]:
    """Return the validated JSON header of a model file without reading its weights.

    ``max_header_bytes`` and ``max_tensors`` are as for :func:`load_model`.
    """
    checked_path(path, "model_header's path")
    _, metadata = read_safetensors_header(
        path, max_header_bytes=max_header_bytes, max_tensors=max_tensors, kind=_KIND
    )
    return _check_header(metadata, path)


def _positive_ints(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    )


def _expected_tensors(architecture: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """Return {file tensor name: shape} implied by the (checked) architecture."""
    sizes, use_bias = architecture["layer_sizes"], architecture["use_bias"]
    return {name: shape for name, (_, shape) in _tensor_table(sizes, use_bias).items()}


def _check_tensors(
    tensors: dict[str, np.ndarray], expected: dict[str, tuple[int, ...]], dtype: str, fail: Fail
) -> None:
    missing = [name for name in expected if name not in tensors]
    unexpected = [n for n in tensors if n not in expected and not n.startswith(EXTRA_PREFIX)]
    if missing or unexpected:
        fail(
            f"it lacks tensors {missing} and/or has unexpected tensors {unexpected}; the "
            f"architecture needs exactly {list(expected)} (plus any '{EXTRA_PREFIX}*')"
        )
    code = _DTYPE_CODES[dtype]
    for name, shape in expected.items():
        array = tensors[name]
        if array.shape != shape:
            fail(
                f"tensor {name!r} has shape {array.shape}; the architecture needs {shape} "
                "(weights are (n_outputs, n_inputs))"
            )
        if array.dtype != DTYPES[code]:
            found = next(c for c, d in DTYPES.items() if d == array.dtype)
            fail(f"tensor {name!r} is {found}; the architecture's dtype {dtype} needs {code}")
        if not np.isfinite(array).all():
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
            fail(
                f"tensor {name!r} holds {array[bad]} at index {bad}; a network's weights must be "
                "finite (the file is corrupt, or was saved from a diverged network)"
            )


def _unregistered(architecture: dict[str, Any]) -> list[tuple[str, str]]:
    """The (kind, name) of each activation and loss of ``architecture`` that is not
    registered in this session (a custom one), which :func:`load_model` cannot rebuild."""
    activations, loss = architecture.get("activations"), architecture.get("loss")
    names = activations if isinstance(activations, list) else []
    if isinstance(loss, dict):  # a loss with its parameters: {"name": "huber", "delta": 0.1}
        loss = loss.get("name")
    return [
        (kind, name)
        for kind, name, registry in [
            *(("activation", a, ACTIVATIONS) for a in names),
            ("loss", loss, LOSSES),
        ]
        if isinstance(name, str) and name.lower() not in registry
    ]


def _check_registered(architecture: dict[str, Any], path: str | os.PathLike[str]) -> None:
    for kind, name in _unregistered(architecture)[:1]:
        raise IncompatibleFormatError(
            f"{os.fspath(path)} uses the {kind} {name!r:.80}, which is not registered in "
            f"this Python session; register it with deltarule.register_{kind}(...) under "
            f"the name {name!r:.80} before loading the model."
        )


def _refuse_namesakes(network: Network) -> None:
    """Refuse a network whose activation or loss would load back as another object.

    The file stores each part by name, and :func:`load_model` takes the registry's part of
    that name: a user's object under a registered name (a built-in's, or another object
    registered under it) would load as a different network, and a loss made with
    parameters but no ``factory`` could not be rebuilt at all.
    """
    for index, layer in enumerate(network.layers, start=1):
        act = layer.activation
        registered = ACTIVATIONS.get(act.name.lower())
        if registered is not None and registered is not act and registered != act:
            raise InputError(
                f"layer {index}'s activation is named {act.name!r:.80}, but it is not the "
                f"activation registered under that name; a model file stores the name only, "
                "so load_model would rebuild the registered one, a different network. "
                "Give your activation a name of its own and register it with "
                "deltarule.register_activation (or register it over the old one with "
                "overwrite=True) before saving."
            )
    loss = network.loss
    registered = LOSSES.get(loss.name.lower())
    if registered is None or registered is loss or registered == loss:
        return  # (an unregistered loss is warned of: load_model refuses it by name)
    if loss.parameters and loss.factory is None:
        raise InputError(
            f"the network's loss {loss.name!r:.80} was made with parameters "
            f"{dict(loss.parameters)!r:.80} but has no factory, so load_model cannot rebuild "
            "it from its name and parameters; make it with factory=<the function that makes "
            "it from those parameters> (Loss(..., parameters={...}, factory=make_my_loss)), "
            "and register a loss made by that function, before saving."
        )
    if loss.factory is None or registered.factory is not loss.factory:
        raise InputError(
            f"the network's loss is named {loss.name!r:.80}, but it is not the loss registered "
            "under that name (nor made by its factory); a model file stores the name only, so "
            "load_model would rebuild the registered one, a different network. Give your loss "
            "a name of its own and register it with deltarule.register_loss (or register it "
            "over the old one with overwrite=True) before saving."
        )


def _warn_unregistered(architecture: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Warn at save time of a custom activation or loss that is not registered: the file
    stores its name only, so loading it needs it registered (in the loading session too)."""
    for kind, name in _unregistered(architecture):
        warnings.warn(
            f"the network saved to {os.fspath(path)} uses the {kind} {name!r:.80}, which is "
            f"not registered; the file stores its name only, so load_model will refuse it "
            f"until deltarule.register_{kind}(...) registers it under the name {name!r:.80} "
            "(in the session that loads it too). Register it before saving to silence this.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )


def _build_network(
    header: dict[str, Any], tensors: dict[str, np.ndarray], path: str | os.PathLike[str]
) -> Network:
    fail = make_fail(path, _KIND)
    architecture = header["architecture"]
    expected = _expected_tensors(architecture)
    _check_tensors(tensors, expected, architecture["dtype"], fail)
    _check_registered(architecture, path)
    try:
        network = Network.from_config(architecture)
    except (DeltaruleError, LookupError, TypeError, ValueError, AttributeError) as exc:
        fail(f"its architecture cannot be built ({exc})")
    table = _tensor_table(architecture["layer_sizes"], architecture["use_bias"])
    for file_name, (layout_name, _) in table.items():
        network.layout.view(network.parameters, layout_name)[...] = tensors[file_name]
    for file_name in header["frozen"]:
        if not isinstance(file_name, str) or file_name not in table:
            fail(f"its header freezes {file_name!r:.80}, which is not one of {list(table)}")
        network.freeze(table[file_name][0])
    return network


def load_model(
    path: str | os.PathLike[str],
    *,
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    max_tensors: int = DEFAULT_MAX_TENSORS,
) -> LoadedModel:
    """Load a model file written by :func:`save_model`.

    The header and tensor data are checked against the file's SHA-256 checksum when it
    has one (every file saved since the checksum was added; older files load unchecked).

    Parameters
    ----------
    path : str or path-like
    max_header_bytes : int, default 100 MB
        Largest JSON header read (:data:`~deltarule.io.safetensors.DEFAULT_MAX_HEADER_BYTES`);
        raise it only for a file you trust (a checkpoint of a run of many thousands of
        epochs).
    max_tensors : int, default 10,000
        Most tensors the file may hold (:data:`~deltarule.io.safetensors.DEFAULT_MAX_TENSORS`).

    Returns
    -------
    LoadedModel

    Raises
    ------
    IncompatibleFormatError
        If the file is not a deltarule model file, is corrupt or damaged (its header or
        data do not match its checksum), was written by a newer deltarule, or uses an
        activation or loss not registered in this session.
    InputError
        If ``path`` does not exist or is a directory.
    """
    checked_path(path, "load_model's path")
    tensors, metadata = read_safetensors(
        path, max_header_bytes=max_header_bytes, max_tensors=max_tensors, kind=_KIND
    )
    header = _check_header(metadata, path)
    network = _build_network(header, tensors, path)
    extra = {
        name[len(EXTRA_PREFIX) :]: array
        for name, array in tensors.items()
        if name.startswith(EXTRA_PREFIX)
    }
    return LoadedModel(
        network=network,
        preprocessing=header["preprocessing"],
        classes=header["classes"],
        training=header["training"],
        header=header,
        extra_tensors=extra,
    )
