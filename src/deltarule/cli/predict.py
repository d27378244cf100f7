"""``deltarule predict``: run a saved model on new data.

The data's columns are taken by name, in any order, through the preprocessing
stored in the model file; extra columns (the target, an id, a nameless index...) are
ignored and a missing one is an error that names it. Columns the model knows as text
(categories, class labels) are read as written: codes such as ``01`` stay ``"01"`` even
in a file where every one of them looks like a number. DATA may be gzip-compressed.
Classification prints class labels as they were in the training file (``--proba``: one
probability column per class); regression prints values (a column per target, named as
the target, for a model of several targets); float32 numbers in float32's shortest
repr (0.7340002, not 0.7340002059936523). ``--keep`` copies data columns (an id) before the
predictions, as the file writes them (text: in JSON, strings; dates, times and durations: in
JSON, ISO 8601 text), so that each output row can be matched with its input row.
Output is CSV or JSON, to stdout (``--out -`` too) or (atomically) a file. DATA is read and
predicted ``--chunk-rows`` rows at a time (:mod:`._predict_stream`: the same bytes as the
whole file's), the predictions written as they come to a temporary file, which replaces the
``--out`` file at the end, or, for stdout, is printed once every row is predicted (in
memory up to 16 MiB): a failure midway prints and writes nothing.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._json import dumps
from ..exceptions import InputError
from . import add_common
from ._chunked_data import DEFAULT_CHUNK_ROWS, check_chunk_rows, iter_data
from ._common import (
    CLASSIFICATION,
    add_out_and_quiet,
    add_table_options,
    check_distinct,
    data_suffix,
    load_model_file,
    output_format,
    pick_columns,
    refuse_foreign_extension,
    split_names,
)
from ._model_kinds import refuse_checkpoint
from ._predict_stream import (
    Gathered,
    TableWriter,
    batch_rows,
    batches,
    gathered_warnings,
    kept_dtypes,
    read_rest,
)
from ._stdin import output_file, refuse_stdin_model

EPILOG = """examples:
  deltarule predict model.safetensors new.csv
  deltarule predict model.safetensors new.csv --proba --format json --out predictions.json
  deltarule predict titanic.safetensors test.csv --keep PassengerId --out submission.csv
  cat new.csv | deltarule predict model.safetensors - > predictions.csv
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``predict`` subcommand."""
    parser = subparsers.add_parser(
        "predict",
        help="predict with a saved model",
        description="Predict with a model written by 'deltarule train'. DATA needs the "
        "model's feature columns by name (any order; extra columns are ignored).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", metavar="MODEL", help="model file (.safetensors)")
    parser.add_argument(
        "data",
        metavar="DATA",
        help="CSV or TSV (may be .gz), Parquet or NPZ (array X) file; - for standard input "
        "(CSV; Parquet and NPZ are recognised by their first bytes)",
    )
    parser.add_argument(
        "--proba", action="store_true", help="classification: a probability column per class"
    )
    parser.add_argument(
        "--keep",
        metavar="COLUMNS",
        help="data columns to copy before the predictions, separated by commas (an id, to "
        "match each output row with its input row), e.g. --keep PassengerId",
    )
    parser.add_argument(
        "--format",
        choices=("csv", "json"),
        help="csv: a header and a row per input row; json: a list of objects (default: "
        "--out's extension, .json or .csv; else csv)",
    )
    parser.add_argument(
        "--chunk-rows",
        type=check_chunk_rows,
        default=DEFAULT_CHUNK_ROWS,
        metavar="N",
        help="read and predict N rows at a time, so that memory holds N rows, not the "
        "whole file (CSV and TSV, also gzip-compressed or on standard input, and Parquet by "
        "record batches; NPZ and FANN files are read whole); the output is the same for "
        "any N, and is written as it comes to a temporary file: renamed to --out's file "
        "at the end, or, for stdout, printed once every row is predicted (an error prints "
        f"nothing) (default: {DEFAULT_CHUNK_ROWS:,})",
    )
    add_out_and_quiet(parser, quiet="print only the predictions: ")
    add_common(parser)
    parser.set_defaults(func=run)
    add_table_options(parser)  # --sep, --no-header: how DATA is read


def predictions(model: Any, frame: Any, proba: bool) -> Any:
    """Return a DataFrame of predictions for the raw table ``frame``."""
    return prediction_table(model, model.network.predict(model.features(frame)), proba)


def prediction_table(model: Any, outputs: Any, proba: bool) -> Any:
    """Return a DataFrame of predictions for the network's ``outputs``."""
    import pandas as pd

    target = str(model.pre.target)
    if not proba and model.multilabel:  # (a 0/1 column per label, as the estimator's)
        columns = [str(label) for label in model.pre.classes]
        return pd.DataFrame(model.labels(outputs), columns=columns)
    if not proba:
        labels = model.labels(outputs)
        if model.task != CLASSIFICATION and np.issubdtype(np.asarray(outputs).dtype, np.floating):
            # in the network's dtype, as the probabilities: float32 values are written in
            # float32's shortest repr (236865.42, not float64's 236865.421875); exact
            labels = labels.astype(np.asarray(outputs).dtype)
        if model.pre.several_targets:  # (a column per target, named as the target)
            return pd.DataFrame(labels, columns=[str(name) for name in model.pre.target])
        return pd.DataFrame({target: labels})
    if model.task != CLASSIFICATION:
        raise InputError(
            f"--proba needs a classification model; {model.path!r} is a regression model "
            "(it predicts numbers). Leave out --proba."
        )
    columns = [str(label) for label in model.pre.classes]
    return pd.DataFrame(model.proba(outputs), columns=columns)


def _plain(value: Any) -> Any:
    """A table cell as a JSON value: a float32 as the float that prints as its shortest repr
    (0.5933987, not float64's 0.5933986902236938), a date, time or duration as ISO 8601 text
    (:func:`_iso`), other NumPy scalars as Python ones."""
    if isinstance(value, np.float32):
        return float(np.format_float_positional(value, unique=True, trim="0"))
    value = _iso(value)
    return value.item() if isinstance(value, np.generic) else value


def _iso(value: Any) -> Any:
    """A date, time or duration as ISO 8601 text (``2020-01-01T00:00:00``, ``P0DT1H0M0S``),
    a missing one (NaT) as None; any other value as it is."""
    import pandas as pd

    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)  # (NaT stays NaT)
    elif isinstance(value, np.timedelta64):
        value = pd.Timedelta(value)
    if value is pd.NaT:
        return None
    if isinstance(value, datetime.timedelta):
        return pd.Timedelta(value).isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value


def _json(table: Any) -> str:
    """Records as a JSON list, labels keeping their type (numbers stay numbers)."""
    columns = list(table.columns)
    cells = [_cells(table.iloc[:, i]) for i in range(len(columns))]
    rows = [{key: _plain(value) for key, value in zip(columns, row)} for row in zip(*cells)]
    return dumps(rows, ensure_ascii=False) + "\n"


def _cells(column: Any) -> np.ndarray:
    """The cells of a table's ``column`` for :func:`_json`: a NumPy column as it is (float32
    stays float32); one of pandas' own types (nullable Int64, text) as Python objects, a
    missing cell as None (an Int64 column with a gap would otherwise become floats)."""
    import pandas as pd

    if isinstance(column.dtype, pd.api.extensions.ExtensionDtype):
        return column.to_numpy(dtype=object, na_value=None)
    return column.to_numpy()


def _kept(frame: Any, keep: list[Any], table: Any) -> Any:
    """``table`` (the predictions) after the ``keep`` columns of ``frame``."""
    import pandas as pd

    clash = [name for name in keep if str(name) in map(str, table.columns)]
    if clash:
        raise InputError(
            f"--keep {clash[0]!r} would give the output two columns of that name: the "
            f"predictions have one ({', '.join(map(str, table.columns))}). Leave it out of "
            "--keep (to compare predictions with the true values, use 'deltarule evaluate')."
        )
    kept = frame[keep].reset_index(drop=True)
    return pd.concat([kept, table.reset_index(drop=True)], axis=1)


def run(args: argparse.Namespace) -> int:
    """Load the model, read DATA a chunk of rows at a time, write predictions."""
    refuse_stdin_model(args.model)
    out = output_file(args.out)  # (--out -: stdout, as without --out)
    form = output_format(args.format, out, {".csv": "csv", ".json": "json"}, "csv")
    check_distinct({"MODEL": args.model, "DATA": args.data}, {"--out": out},
                   {"--out": "predictions.csv"})  # fmt: skip
    refuse_foreign_extension(out, {".csv": "csv", ".json": "json"})
    keep = split_names(args.keep, "--keep") if args.keep is not None else []
    model = load_model_file(args.model)
    refuse_checkpoint(model.header, args.model, "predict")
    features = model.pre.feature_names
    # (kept as written: 007 stays 007; a kept feature is read as the model reads it, a
    # decimal comma's "1,4" as 1.4: as text it reached the model as text, refused)
    text_columns = [*model.pre.text_columns, *(name for name in keep if name not in features)]

    def chunks() -> Iterator[Any]:  # (no other columns than these: cheap)
        return iter_data(
            args.data,
            chunk_rows=args.chunk_rows,
            names=features,
            text_columns=text_columns,
            needed=[*features, *keep],
            columns=[*features, *keep, *(name.strip() for name in keep)],
        )

    with gathered_warnings(features) as gathered:
        dtypes: dict[Any, Any] = {}
        numbers = [name for name in keep if name not in text_columns]
        if numbers and data_suffix(args.data) not in (".parquet", ".pq", ".npz"):
            # (a first pass: whole numbers in one chunk and floats in another are floats)
            dtypes = kept_dtypes(chunks(), [*numbers, *(name.strip() for name in numbers)])
        tables = _tables(model, chunks(), keep, args.proba, args.chunk_rows, dtypes, gathered)
        _write(tables, out, form, args.quiet)
    return 0


def _tables(
    model: Any, chunks: Iterator[Any], keep: list[str], proba: bool, chunk_rows: int,
    dtypes: dict[Any, Any], gathered: Gathered,
) -> Iterator[Any]:  # fmt: skip
    """The tables of predictions (after the ``keep`` columns) for DATA's ``chunks``, in
    batches of rows whose outputs are a whole file's (:func:`._predict_stream.batches`);
    ``dtypes``: kept columns' dtypes in every chunk, the whole column's; ``gathered``:
    the warnings held back, told where each chunk's features begin."""
    picked: list[Any] | None = None

    def pieces() -> Iterator[tuple[np.ndarray, Any]]:
        nonlocal picked
        for frame in chunks:
            try:
                if picked is None:
                    picked = pick_columns(keep, "--keep", frame.columns)
                with gathered.features():
                    X = model.features(frame)
            except InputError:
                read_rest(chunks, gathered)  # (a problem further on in the file first)
                raise
            kept = frame[picked].reset_index(drop=True) if picked else None
            for name, dtype in dtypes.items() if kept is not None else ():
                if name in kept.columns and kept[name].dtype.kind in "iu":
                    kept[name] = kept[name].astype(dtype)
            yield X, kept

    for X, kept in batches(pieces(), batch_rows(chunk_rows)):
        table = prediction_table(model, model.network.predict(X), proba)
        yield table if kept is None else _kept(kept, list(kept.columns), table)


SPOOL_BYTES = 16 * 2**20
"""Predictions for standard output held in memory up to this size, then in a temporary
file (:func:`_write`)."""


def _write(tables: Iterator[Any], out: str | None, form: str, quiet: bool) -> None:
    """Write the ``tables`` as one table: to a temporary file that replaces ``out`` once all
    is written (nothing, and the previous file as it was, on a failure midway); to
    standard output (None) once all is written, held until then in memory (up to
    :data:`SPOOL_BYTES`) or a temporary file, so that a failure midway prints nothing."""
    if out is None:
        # (surrogatepass: any text comes back as it went in, for stdout to judge)
        spooled = tempfile.SpooledTemporaryFile
        with spooled(SPOOL_BYTES, mode="w+", encoding="utf-8", errors="surrogatepass",
                     newline="") as spool:  # fmt: skip
            writer = TableWriter(spool.write, form, _json)
            for table in tables:
                writer.add(table)
            writer.close()
            spool.seek(0)
            shutil.copyfileobj(spool, sys.stdout)
        return
    from ..io.atomic import atomic_open

    with atomic_open(out, "w") as handle:
        writer = TableWriter(handle.write, form, _json)
        for table in tables:
            writer.add(table)
        writer.close()
    if not quiet:
        print(f"wrote {os.fspath(out)}", file=sys.stderr)
