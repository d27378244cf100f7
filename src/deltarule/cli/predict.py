"""``deltarule predict``: run a saved model on new data.

The data's columns are taken by name, in any order, through the preprocessing
stored in the model file; extra columns (the target, an id, a nameless index...) are
ignored and a missing one is an error that names it. Columns the model knows as text
(categories, class labels) are read as written: codes such as ``01`` stay ``"01"`` even
in a file where every one of them looks like a number. DATA may be gzip-compressed.
Classification prints class labels as they were in the training file (``--proba``: one
probability column per class); regression prints values. Output is CSV or JSON, to
stdout or (atomically) a file.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from .._json import dumps
from ..exceptions import InputError
from . import add_common
from ._common import CLASSIFICATION, check_distinct, load_model_file, read_data, write_text
from ._model_kinds import refuse_checkpoint

EPILOG = """examples:
  deltarule predict model.safetensors new.csv
  deltarule predict model.safetensors new.csv --proba --format json --out predictions.json
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
        "data", metavar="DATA", help="CSV or TSV (may be .gz), Parquet or NPZ (array X) file"
    )
    parser.add_argument(
        "--proba", action="store_true", help="classification: a probability column per class"
    )
    parser.add_argument("--format", choices=("csv", "json"), default="csv")
    parser.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    add_common(parser)
    parser.set_defaults(func=run)


def predictions(model: Any, frame: Any, proba: bool) -> Any:
    """Return a DataFrame of predictions for the raw table ``frame``."""
    import pandas as pd

    outputs = model.network.predict(model.features(frame))
    target = str(model.pre.target)
    if not proba:
        return pd.DataFrame({target: model.labels(outputs)})
    if model.task != CLASSIFICATION:
        raise InputError(
            f"--proba needs a classification model; {model.path!r} is a regression model "
            "(it predicts numbers). Leave out --proba."
        )
    columns = [str(label) for label in model.pre.classes]
    return pd.DataFrame(model.proba(outputs), columns=columns)


def _json(table: Any) -> str:
    """Records as a JSON list, labels keeping their type (numbers stay numbers)."""
    rows = [
        {
            key: value.item() if isinstance(value, np.generic) else value
            for key, value in row.items()
        }
        for row in table.to_dict(orient="records")
    ]
    return dumps(rows, ensure_ascii=False) + "\n"


def run(args: argparse.Namespace) -> int:
    """Load the model, read DATA, write predictions."""
    check_distinct({"MODEL": args.model, "DATA": args.data}, {"--out": args.out})
    model = load_model_file(args.model)
    refuse_checkpoint(model.header, args.model, "predict")
    frame = read_data(
        args.data,
        names=model.pre.feature_names,
        require_target=False,
        text_columns=model.pre.text_columns,
        needed=model.pre.feature_names,
    )
    table = predictions(model, frame, args.proba)
    text = table.to_csv(index=False) if args.format == "csv" else _json(table)
    write_text(text, args.out)
    return 0
