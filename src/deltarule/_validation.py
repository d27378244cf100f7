"""Every check of user input, and its message.

Public entry points call these; inner code trusts what they return. Each
message says what was received, what was expected and how to fix it.
"""

from __future__ import annotations

import difflib
import math
import numbers
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from . import _blas
from ._sparse import is_sparse
from ._threads import run_shares
from .exceptions import InputError, UnknownNameError

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_dtype(dtype: Any) -> np.dtype:
    """Return ``dtype`` as float32 or float64, or raise a clear error."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise InputError(
            f"dtype={dtype!r} is not a NumPy dtype; expected 'float32' or 'float64'."
        ) from exc
    if resolved not in FLOAT_DTYPES:
        raise InputError(
            f"dtype={dtype!r} is not supported; expected 'float32' (default, fastest) or "
            "'float64' (exact). Pass dtype='float32' or dtype='float64'."
        )
    return resolved


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def lookup(registry: Mapping[str, Any], name: str, kind: str) -> Any:
    """Look ``name`` up in ``registry``; an unknown name lists the known ones."""
    if not isinstance(name, str):
        raise InputError(
            f"{kind} must be given by name (a string) or as {_article(kind)} {kind} object; "
            f"received {type(name).__name__} {name!r}."
        )
    key = name.lower()
    if key in registry:
        return registry[key]
    if name in registry:  # (written into the dict directly, not lower-cased by register)
        return registry[name]
    close = difflib.get_close_matches(key, list(registry), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownNameError(
        f"unknown {kind} {name!r}; expected one of: {', '.join(sorted(registry))}.{hint}"
    )


def _a(noun: str) -> str:
    """``noun`` with its indefinite article ("an optimizer", "a loss")."""
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def register(registry: dict[str, Any], entry: Any, name: str, aliases: tuple[str, ...],
             kind: str, overwrite: bool) -> None:  # fmt: skip
    """Add ``entry`` to ``registry`` under ``name`` and ``aliases`` (lower case: lookups
    lower-case the name asked for, so ``"MyTanh"`` and ``"mytanh"`` both find it).

    Raises
    ------
    InputError
        If a name is taken and ``overwrite`` is False, or is not a valid name
        (:func:`check_name`); then nothing is registered, so a retry with other names
        works.
    """
    if isinstance(aliases, str):
        aliases = (aliases,)
    keys = [check_name(key, kind).lower() for key in (name, *aliases)]
    for key in keys:  # (every name checked before any is added)
        if key in registry and not overwrite:
            raise InputError(
                f"{_a(kind)} named {key!r} is already registered; pick another name or pass "
                "overwrite=True. Nothing was registered."
            )
    for key in keys:
        registry[key] = entry


def check_object_name(name: Any, kind: str) -> str:
    """Return ``name`` if it is a non-empty string (an Activation's or a Loss's: ``kind``),
    else an InputError (an int name broke model files and the command line)."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(
            f"{kind}'s name must be a non-empty string; received {type(name).__name__} "
            f"{name!r:.60}. Name it as you will ask for it, e.g. {kind}('my_tanh', ...)."
        )
    return name


def check_name(name: Any, kind: str) -> str:
    """Return ``name`` if it can name a registry entry: a non-empty string with no spaces
    or commas (the command line's lists are comma-separated); else an InputError."""
    if not isinstance(name, str) or not name or any(c.isspace() or c == "," for c in name):
        raise InputError(
            f"{_a(kind)} name must be a non-empty string without spaces or commas; received "
            f"{type(name).__name__} {name!r:.80}. Use letters, digits and underscores, "
            "e.g. 'my_tanh'."
        )
    return name


def build(registry: Mapping[str, Any], given: Any, base: type, kind: str, kwargs: dict) -> Any:
    """Return ``given`` if it is a ``base`` object, else the registry class built from kwargs.

    Unknown hyper-parameters, hyper-parameters given with an object and missing required
    ones all get a message that lists the class's ``hyperparameters``.
    """
    if isinstance(given, base):
        if kwargs:
            raise InputError(
                f"hyper-parameters {sorted(kwargs)} were given with {_a(kind)} object "
                f"{given!r}; pass them to its constructor, or give the {kind} by name."
            )
        return given
    cls = lookup(registry, given, kind)
    unknown = sorted(set(kwargs) - set(cls.hyperparameters))
    if unknown:
        raise InputError(
            f"{kind} {given!r} has no hyper-parameter(s) {', '.join(unknown)}; "
            f"expected some of: {', '.join(cls.hyperparameters) or '(none)'}."
        )
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required hyper-parameter is missing
        raise InputError(
            f"{kind} {given!r} is missing a required hyper-parameter ({exc}); its "
            f"hyper-parameters are: {', '.join(cls.hyperparameters)}."
        ) from exc


_FAST_CHECK_SIZE = 1 << 20


def _all_finite(array: np.ndarray) -> bool:
    """Return True when every entry of a float array is finite.

    For a large 2-D array, one matrix-vector product with a vector of ones (BLAS, no
    temporary array) settles it in the common case: NaN and infinity propagate through
    the row sums, so finite row sums mean finite entries. Non-finite sums (also from
    overflowing finite values) fall back to the exact element-wise check.

    The product is bound by memory; its rows are shared by as many threads as NumPy's
    BLAS may use (60,000 x 784 float32 on two cores: 5.7 ms against 11 in one), each
    calling BLAS on one thread: waking NumPy's own pool of BLAS threads would leave them
    spinning for ~0.1 s after it, taking a core from what comes next (the threaded
    training steps that follow ``fit``'s checks lost ~40 ms to it).
    """
    if array.ndim == 2 and array.size >= _FAST_CHECK_SIZE:
        return bool(np.isfinite(_row_sums(array)).all()) or bool(np.isfinite(array).all())
    return bool(np.isfinite(array).all())


def _row_sums(array: np.ndarray) -> np.ndarray:
    """``array @ ones``, its rows shared by threads."""
    rows = array.shape[0]
    threads = min(_blas.usable_threads(), rows)
    bounds = [rows * i // threads for i in range(threads + 1)]
    sums = np.empty(rows, array.dtype)
    ones = np.ones(array.shape[1], array.dtype)

    def part(i: int) -> None:
        lo, hi = bounds[i], bounds[i + 1]
        with np.errstate(all="ignore"):
            np.matmul(array[lo:hi], ones, out=sums[lo:hi])

    with _blas.single_threaded():
        run_shares(part, threads)
    return sums


def _nullable_numbers(data: Any, array: np.ndarray) -> np.ndarray:
    """A pandas DataFrame or Series of numbers in pandas' nullable dtypes (``Int64``,
    ``Float64``, ``boolean``; NumPy sees objects) as float64, ``pd.NA`` as NaN (reported as
    missing values below); anything else as ``array`` was."""
    dtypes = getattr(data, "dtypes", None)
    if dtypes is None or not hasattr(data, "to_numpy"):
        return array
    kinds = [getattr(d, "kind", "O") for d in (dtypes if hasattr(dtypes, "index") else [dtypes])]
    if not all(kind in "biuf" for kind in kinds):
        return array
    return data.to_numpy(dtype=np.float64, na_value=np.nan)


def _check_kind(kind_dtype: np.dtype, name: str, array: np.ndarray | None = None) -> None:
    """Refuse a dtype that is not one of numbers (complex numbers included: no real value);
    ``array`` of text that is all numbers (``"1.5"``) is told how to convert it."""
    if kind_dtype.kind == "c":
        raise InputError(
            f"{name} has dtype {kind_dtype}: complex numbers are not supported; expected real "
            f"numbers. Pass {name}.real if the real part is what is meant."
        )
    if kind_dtype.kind not in "biuf":
        if array is not None and _numbers_as_text(array):
            raise InputError(
                f"{name} has dtype {kind_dtype} and holds numbers written as text (such as "
                f"{str(array.flat[0])!r}); expected numbers. Convert them: "
                f"np.asarray({name}, dtype=float)."
            )
        raise InputError(
            f"{name} has dtype {kind_dtype} (non-numeric); expected numbers. "
            "Encode text or categories as numbers first (e.g. one-hot encoding)."
        )


def _numbers_as_text(array: np.ndarray) -> bool:
    """Whether every cell of ``array`` (text or objects) is text that reads as a number."""
    if array.size == 0 or array.dtype.kind not in "OUS":
        return False
    for cell in array.flat:
        if not isinstance(cell, (str, bytes, np.str_, np.bytes_)):
            return False
        try:
            float(cell)
        except ValueError:
            return False
    return True


def _check_not_empty(shape: tuple[int, ...], name: str) -> None:
    """Refuse data without a sample, or samples without a column."""
    if len(shape) == 2 and shape[0] > 0 and shape[1] == 0:
        raise InputError(
            f"{name} has {shape[0]} samples but no columns (shape {shape}); expected at least "
            "one column per sample."
        )
    if 0 in shape:
        raise InputError(f"{name} is empty (shape {shape}); expected at least one sample.")


def _holds_sparse(array: np.ndarray) -> bool:
    """True for an object array whose first entry is a scipy sparse matrix."""
    return array.dtype.kind == "O" and array.size > 0 and is_sparse(array.flat[0])


def as_float_array(
    data: Any, name: str, dtype: np.dtype, *, ndim: tuple[int, ...] = (1, 2)
) -> np.ndarray:
    """Convert ``data`` to a finite float array of the given dtype.

    Raises
    ------
    InputError
        For non-numeric or complex data, empty data (or samples without a column), wrong
        dimensionality or NaN/inf values.
    """
    if is_sparse(data) or hasattr(data, "sparse"):  # (pandas' sparse frames: .sparse)
        raise InputError(
            f"{name} is a sparse matrix; {name} must be dense here (the features X of "
            "fit, predict and evaluate may be sparse, nothing else). Convert it with "
            f"{name}.toarray()."
        )
    data = unmasked(data, name)
    if data is None or isinstance(data, Mapping):  # (np.asarray: a 0-d object array)
        fix = (
            "Pass the data: a NumPy array, a list of rows or a pandas DataFrame"
            if data is None
            else f"Make it a table first: pd.DataFrame({name}), or "
            f"np.column_stack(list({name}.values())) for columns of equal length"
        )
        raise InputError(
            f"{name} is {type(data).__name__} {str(data)[:60]}; expected an array of numbers "
            f"(rows of equal length). {fix}."
        )
    if isinstance(data, Iterator):  # (np.asarray makes a 0-d object array of it)
        raise InputError(
            f"{name} is {type(data).__name__}, an iterator, read once; expected an array of "
            f"numbers (rows of equal length). Pass np.array(list({name})) or the list itself."
        )
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as exc:  # ragged lists and the like
        raise InputError(
            f"{name} could not be read as a numeric array ({exc}); expected a rectangular "
            "array of numbers. Check that every row has the same length."
        ) from exc
    if array.dtype.kind == "O":
        array = _nullable_numbers(data, array)
    if array.dtype.kind not in "biufc" and not _holds_sparse(array):
        _check_columns(data, name)  # (a table: the column that is not numbers, by name)
    if _holds_sparse(array):
        raise InputError(
            f"{name} is a NumPy object array holding a scipy sparse matrix (what np.array or "
            "np.asarray make of one); expected numbers. Pass the sparse matrix itself (the "
            "features X of fit, predict and evaluate may be sparse) or its dense values, "
            "matrix.toarray()."
        )
    _check_kind(array.dtype, name, array)
    if array.ndim not in ndim:
        fix = (
            f"Pass one value per sample, e.g. np.ravel({name}) for a column"
            if tuple(ndim) == (1,)
            else f"Reshape it, e.g. {name}.reshape(-1, 1) for a single feature"
        )
        raise InputError(
            f"{name} has {array.ndim} dimension(s) (shape {array.shape}); expected "
            f"{' or '.join(str(d) for d in ndim)}. {fix}."
        )
    _check_not_empty(array.shape, name)
    with np.errstate(over="ignore"):  # values beyond the dtype's range are reported below
        converted = np.ascontiguousarray(array, dtype=dtype)
    if not _all_finite(converted):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(converted))[0])
        raise _not_finite(name, bad, array[bad], dtype, _labelled(data, bad))
    return converted


def _table_kind(dtype: Any) -> str:
    """A pandas column's dtype in words: "category", "datetime", "text or mixed values"..."""
    text = str(dtype)
    if text == "category":
        return "category"
    if text.startswith("datetime") or getattr(dtype, "kind", "") == "M":
        return "datetime"
    if text.startswith("timedelta") or getattr(dtype, "kind", "") == "m":
        return "timedelta"
    if text.startswith("string") or text == "str":
        return f"{text} (text)"
    return f"{text} (text or mixed values)" if text == "object" else text


def _check_columns(data: Any, name: str) -> None:
    """Refuse a pandas DataFrame or Series (``.dtypes``/``.dtype`` and ``.index``) holding
    a column that is not numbers, naming it and its kind (category, datetime, text)."""
    if not hasattr(data, "index"):
        return
    if hasattr(data, "columns") and hasattr(data, "dtypes"):
        pairs = list(zip(data.columns, data.dtypes))
    elif hasattr(data, "dtype"):
        pairs = [(getattr(data, "name", None), data.dtype)]
    else:
        return
    bad = [(column, dtype) for column, dtype in pairs if not _numeric_column(dtype)]
    if not bad:
        return
    column, dtype = bad[0]
    kind = _table_kind(dtype)
    column = _scalar(column)
    what = f"{name}'s column {column!r}" if hasattr(data, "columns") else f"{name} ({column!r})"
    more = (
        f" (and {len(bad) - 1} more: {', '.join(repr(c) for c, _ in bad[1:4])})"
        if len(bad) > 1
        else ""
    )
    fix = {
        "category": f"one-hot encode it, e.g. pd.get_dummies({name}"
        + (f", columns=[{column!r}])" if hasattr(data, "columns") else ")"),
        "datetime": f"turn it into numbers, e.g. {name}[{column!r}].dt.year or the "
        "seconds since a date",
        "timedelta": f"turn it into numbers, e.g. {name}[{column!r}].dt.total_seconds()",
    }.get(kind, "encode text or categories as numbers first (e.g. one-hot encoding)")
    raise InputError(
        f"{what} has dtype {kind} (non-numeric){more}; expected numbers. {fix[0].upper()}{fix[1:]}."
    )


def _numeric_column(dtype: Any) -> bool:
    """Whether a pandas column of ``dtype`` holds numbers (categories that are numbers
    included: NumPy reads them as numbers)."""
    categories = getattr(dtype, "categories", None)
    if categories is not None:
        return getattr(categories.dtype, "kind", "O") in "biuf"
    return getattr(dtype, "kind", "O") in "biuf"


def _scalar(value: Any) -> Any:
    """A NumPy scalar label as the Python value (``20``, not ``np.int64(20)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _labelled(data: Any, index: tuple[int, ...]) -> str | None:
    """Where entry ``index`` of a pandas DataFrame or Series is, by its row label and column
    name ("row 269, column 'age'"); None for other data (the position says it)."""
    labels = getattr(data, "index", None)
    if labels is None or not hasattr(labels, "__getitem__") or callable(labels):
        return None
    try:
        row = f"row {_scalar(labels[index[0]])!r}"
        if len(index) > 1 and hasattr(data, "columns"):
            return f"{row}, column {_scalar(data.columns[index[1]])!r}"
        label = getattr(data, "name", None)
        return row if label is None else f"{row} of {label!r}"
    except (IndexError, TypeError, KeyError):
        return None


def unmasked(data: Any, name: str) -> Any:
    """``data`` itself, or a NumPy masked array's values when none is masked.

    ``np.asarray`` drops a mask silently, so the masked entries' placeholder values would
    be trained on as data.

    Raises
    ------
    InputError
        If ``data`` is a masked array with masked values.
    """
    # numpy.ma as loaded, not np.ma, which imports it: an import in a thread while another
    # forks can hang the child; and nothing is a masked array unless numpy.ma is loaded
    ma = sys.modules.get("numpy.ma")
    if ma is None or not isinstance(data, ma.MaskedArray):
        return data
    masked = int(np.ma.count_masked(data))
    if masked:
        raise InputError(
            f"{name} contains {masked} masked value{'s' * (masked != 1)}; expected plain "
            f"numbers. Fill them ({name}.filled(value)) or impute them."
        )
    return np.ma.getdata(data)


def _not_finite(
    name: str, index: tuple[int, ...], value: Any, dtype: np.dtype, label: str | None = None
) -> InputError:
    """The error for the first non-finite entry of ``name`` once in ``dtype``, at ``index``:
    ``value`` as given, too large for ``dtype`` or NaN/infinity already. ``label`` says
    where it is in a pandas table (:func:`_labelled`), the position following."""
    at = f"index {index}" if label is None else f"index {index} ({label})"
    if np.isfinite(value):
        return InputError(
            f"{name} holds {np.format_float_scientific(value, 2, trim='-')} at {at}, "
            f"too large for {dtype} "
            f"(largest {np.finfo(dtype).max:.3g}); expected values within range. Scale "
            f"{name} (e.g. standardise it) or use dtype='float64'."
        )
    return InputError(
        f"{name} contains NaN or infinity (first at index {index})"
        f"{'' if label is None else f', at {label}'}; "
        "expected finite numbers. Remove or impute the missing values."
    )


def _scipy_sparse(data: Any, name: str) -> Any:
    """``data`` as a scipy sparse matrix: itself, or a pandas DataFrame of sparse columns
    through ``DataFrame.sparse.to_coo``."""
    if is_sparse(data):
        return data
    try:
        return data.sparse.to_coo()
    except (AttributeError, TypeError, ValueError) as exc:
        raise InputError(
            f"{name} could not be read as a sparse matrix ({exc}); expected a scipy.sparse "
            f"matrix or array, or a pandas DataFrame of sparse numeric columns. Convert it "
            f"with scipy.sparse.csr_array({name}) or np.asarray({name})."
        ) from exc


def as_float_csr(data: Any, name: str, dtype: np.dtype) -> Any:
    """Convert sparse ``data`` to a finite CSR matrix of the given dtype (scipy's class kept:
    a ``csr_matrix`` or a ``csr_array``) without duplicate entries.

    Any scipy sparse format (CSR, CSC, COO, ...), or a pandas DataFrame of sparse columns,
    is accepted; duplicate entries are summed (as ``toarray`` sums them), explicit zeros
    kept. ``data`` itself is returned when it is such a matrix already (no copy).

    Raises
    ------
    InputError
        For non-numeric values, empty data, other than 2 dimensions, or NaN/inf values
        (stored values; the message names the first one's (row, column)).
    """
    matrix = _scipy_sparse(data, name)
    if matrix.ndim != 2:
        fix = (
            f"{name}.reshape(1, -1) for one sample, {name}.reshape(-1, 1) for one feature"
            if matrix.ndim == 1
            else f"{name}.reshape(({name}.shape[0], -1)) for each sample's values in one row"
        )
        raise InputError(
            f"{name} is a {matrix.ndim}-D sparse array (shape {matrix.shape}); expected 2 "
            f"dimensions (n_samples, n_features). Reshape it: {fix}."
        )
    _check_kind(matrix.dtype, name)
    _check_not_empty(matrix.shape, name)
    csr = matrix.tocsr()  # (a CSR matrix itself: no copy)
    if not csr.has_canonical_format:  # duplicates summed in a copy: the user's stays as given
        csr = csr.copy()
        csr.sum_duplicates()
    with np.errstate(over="ignore", invalid="ignore"):  # too large for dtype: reported below
        converted = csr.astype(dtype, copy=False)
    if not np.isfinite(converted.data).all():
        k = int(np.flatnonzero(~np.isfinite(converted.data))[0])
        row = int(np.searchsorted(csr.indptr, k, side="right")) - 1
        raise _not_finite(name, (row, int(csr.indices[k])), csr.data[k], dtype)
    return converted


def check_features(
    X: Any, n_features: int, dtype: np.dtype, name: str = "X", *, accept_sparse: bool = False
) -> Any:
    """Return ``X`` as a 2-D finite float array with ``n_features`` columns.

    With ``accept_sparse``, a sparse ``X`` (scipy.sparse, or a pandas DataFrame of sparse
    columns) is returned as a CSR matrix (:func:`as_float_csr`); otherwise it is refused.
    """
    if accept_sparse and (is_sparse(X) or (hasattr(X, "columns") and hasattr(X, "sparse"))):
        array = as_float_csr(X, name, dtype)
    else:
        array = as_float_array(X, name, dtype)
    if array.ndim == 1:
        if n_features == 1:
            array = array.reshape(-1, 1)
        elif array.shape[0] == n_features:
            array = array.reshape(1, -1)
        else:
            raise InputError(
                f"{name} is 1-D with {array.shape[0]} values but the network expects "
                f"{n_features} features; pass a 2-D array of shape (n_samples, {n_features})."
            )
    if array.shape[1] != n_features:
        raise InputError(
            f"{name} has {array.shape[1]} features but the network expects {n_features}; "
            f"received {name}.shape={array.shape}. Pass data with {n_features} columns or "
            f"build the network for {array.shape[1]} inputs: Network([{array.shape[1]}, ...])"
            " (layer_sizes' first entry is the number of inputs)."
        )
    return array


def check_targets(
    y: Any, n_samples: int, n_outputs: int, dtype: np.dtype, name: str = "y", x_name: str = "X"
) -> np.ndarray:
    """Return targets as a 2-D finite float array of shape (n_samples, n_outputs)."""
    array = as_float_array(y, name, dtype)
    if array.ndim == 1:
        if n_outputs == 1:
            array = array.reshape(-1, 1)
        elif array.shape[0] == n_outputs and n_samples == 1:
            array = array.reshape(1, -1)
        else:
            raise InputError(
                f"{name} is 1-D with {array.shape[0]} values but the network has {n_outputs} "
                f"outputs; pass targets of shape (n_samples, {n_outputs}) (one-hot encode "
                "class labels)."
            )
    if array.shape[0] != n_samples:
        raise InputError(
            f"{x_name} has {n_samples} samples but {name} has {array.shape[0]}; they must have the "
            "same number of rows."
        )
    if array.shape[1] != n_outputs:
        raise InputError(
            f"{name} has {array.shape[1]} columns but the network has {n_outputs} outputs; "
            f"received {name}.shape={array.shape}. Build the network with "
            f"n_outputs={array.shape[1]} or pass matching targets."
        )
    _refuse_underflow(y, array, name)
    return array


def full_precision(dtype: Any) -> float:
    """The least magnitude ``dtype`` holds to full precision: its smallest normal number
    over its epsilon (~1e-31 in float32, ~1e-292 in float64); below it a value loses its
    digits, and a spread of values rounds together."""
    info = np.finfo(dtype)
    return float(info.tiny / info.eps)


def _refuse_underflow(given: Any, array: np.ndarray, name: str) -> None:
    """Refuse targets whose every value is below what ``array``'s dtype holds to full
    precision (its smallest normal number over its epsilon: ~1e-31 in float32), as values
    too large are refused: targets of 1e-46 became 0 in float32 and trained silently."""
    least = full_precision(array.dtype)
    if array.dtype == np.float64 or array.size == 0 or float(np.abs(array).max()) >= least:
        return
    try:
        top = float(np.abs(np.asarray(given, dtype=np.float64)).max())
    except (TypeError, ValueError):
        return
    if 0 < top < least:
        # (at most 1e308, a float's largest power of ten: 5e-324, the least subnormal,
        # asked for 1e324, an OverflowError)
        scale = 10.0 ** min(math.ceil(-math.log10(top)), 308)
        raise InputError(
            f"{name}'s values are at most {top:.3g}, below what {array.dtype} holds to full "
            f"precision (~{least:.1g}): they become 0 or lose their digits. Scale {name} "
            f"up (e.g. multiply it by {scale:.0e}, and the predictions back) or use "
            "dtype='float64'."
        )


def check_sample_weight(
    sample_weight: Any, n_samples: int, dtype: np.dtype, name: str = "sample_weight"
) -> np.ndarray | None:
    """Return per-sample weights as a 1-D non-negative float array, or None."""
    if sample_weight is None:
        return None
    weights = as_float_array(sample_weight, name, dtype, ndim=(1,))
    if weights.shape[0] != n_samples:
        raise InputError(
            f"{name} has {weights.shape[0]} values but there are {n_samples} samples; "
            "pass one weight per sample."
        )
    if (weights < 0).any():
        raise InputError(f"{name} has negative values; expected weights >= 0.")
    if not weights.any():
        raise InputError(f"{name} is all zeros; at least one sample must have weight > 0.")
    with np.errstate(over="ignore"):
        total = weights.sum()
    if not np.isfinite(total):
        raise InputError(
            f"{name} sums to more than {dtype} can hold (largest weight "
            f"{weights.max():.3g}); only their ratios matter, so divide them by their maximum."
        )
    return weights


def finite_real(value: Any) -> bool:
    """True for a real number (not a bool) that is finite as a float: a Python int beyond
    float's range is not (NumPy's isfinite refuses such ints with a TypeError)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def check_flag(value: Any, name: str, meaning: str = "") -> bool:
    """Return ``value`` as a bool: True, False (NumPy's too) or the ints 1 and 0; anything
    else (a string, None, an array, 2) is an InputError rather than read by its truth."""
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, (int, np.integer)) and value in (0, 1)
    ):
        return bool(value)
    raise InputError(
        f"{name} must be True or False{meaning}; received {type(value).__name__} {value!r:.60}."
    )


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float > 0 (or >= 0), or raise."""
    if not finite_real(value):
        raise InputError(f"{name} must be a finite number; received {value!r:.60}.")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be {bound}; received {value!r}.")
    return float(value)


def check_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum``, or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be an integer >= {minimum}; received {value!r}.")
    if value < minimum:
        raise InputError(f"{name} must be >= {minimum}; received {value!r}.")
    return int(value)


def check_index(value: Any, size: int, name: str, what: str) -> int:
    """``value`` as an index in ``[0, size)`` (``what``: "inputs", "outputs"), or raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(
            f"{name} must be an integer index; received {type(value).__name__} {value!r:.40}. "
            f"Pass 0 to {size - 1}: the network has {size} {what}."
        )
    if not 0 <= value < size:
        raise InputError(
            f"{name}={int(value)} is out of range: the network has {size} {what}, numbered 0 "
            f"to {size - 1}. Pass an index in that range."
        )
    return int(value)


def check_fraction(value: Any, name: str) -> float:
    """Return ``value`` as a float in [0, 1), or raise."""
    if not finite_real(value) or not 0 <= value < 1:
        raise InputError(f"{name} must be a number in [0, 1); received {value!r:.60}.")
    return float(value)


_TARGET_RANGES = {  # loss -> (lowest, highest, what the loss expects)
    "poisson": (0.0, np.inf, "counts or rates >= 0"),
    "binary_crossentropy": (0.0, 1.0, "probabilities in [0, 1] (0/1 labels)"),
    "categorical_crossentropy": (0.0, 1.0, "one-hot rows or class probabilities in [0, 1]"),
}


def continuous_column(y: Any) -> int | None:
    """The first column of targets ``y`` that holds more than two values (regression
    targets), or None when every column holds at most two (class targets: one-hot rows, a
    0/1 column, the tutorial's 0.01/0.99)."""
    y = np.asarray(y)
    y = y.reshape(len(y), -1)
    for column in range(y.shape[1]):
        values = y[:, column]
        if values.size and not ((values == values.min()) | (values == values.max())).all():
            return column
    return None


def out_of_range(y: np.ndarray, loss_name: str) -> tuple[tuple[int, int], int, str] | None:
    """The first target (row, column) outside the range the loss ``loss_name`` is defined
    on (negative Poisson counts), how many rows hold one, and what the loss expects; None
    when all are in range."""
    bounds = _TARGET_RANGES.get(loss_name)
    if bounds is None:
        return None
    low, high, expected = bounds
    bad = (y < low) | (y > high)
    if not bad.any():
        return None
    first = np.argwhere(bad)[0]
    return (int(first[0]), int(first[1])), int(bad.any(axis=1).sum()), expected


def check_target_range(y: np.ndarray, loss_name: str, name: str = "y") -> None:
    """Refuse targets outside the range a loss is defined on (e.g. negative Poisson counts)."""
    found = out_of_range(y, loss_name)
    if found is not None:
        (row, column), _, expected = found
        raise InputError(
            f"the {loss_name} loss needs {expected}, but {name}[{row}, {column}] = "
            f"{y[row, column]:g}. Pass targets in that range or choose another loss."
        )
