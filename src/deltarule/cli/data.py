"""``deltarule data``: write a built-in dataset as a CSV file, to try the other commands on.

The table holds the dataset's raw columns (as ``train --dataset NAME`` saves its model to
take them) and its target, named as :data:`deltarule.datasets.TARGET_NAMES` says (iris's
is ``species``); classes are written by name. ``--split train`` and ``--split test`` write
the rows ``train --dataset NAME`` trains and tests on with the same ``--seed``, so that a
model trained on the one can be evaluated on the other. The format is CSV, or TSV for an
``--out`` ending in ``.tsv``; the file is written atomically, or to standard output.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..datasets import DATASETS, PARTS, TARGET_NAMES
from ..exceptions import InputError
from . import add_common
from ._common import check_distinct, plain_stem, write_text
from ._stdin import output_file, refuse_stdin
from ._train_args import whole_number

EPILOG = """examples:
  deltarule data iris --split train --out iris.csv    # 120 rows to train on
  deltarule data iris --split test --out new.csv      # the other 30 (the same --seed)
  deltarule train iris.csv --target species
  deltarule evaluate iris.safetensors new.csv
  deltarule data diabetes | head -3                   # standard output
"""
_SEPARATORS = {".csv": ",", ".tsv": "\t"}
"""What ``--out``'s extension writes (the separator); standard output is CSV."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` subcommand."""
    targets = "\n".join(f"  {name:<15}{column}" for name, column in TARGET_NAMES.items())
    parser = subparsers.add_parser(
        "data",
        help="write a built-in dataset as a CSV file",
        description="Write a built-in dataset as a table, to try train, predict and evaluate\n"
        "on a file: its raw feature columns, then its target column:\n"
        f"{targets}",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dataset", metavar="DATASET", help=f"one of: {', '.join(DATASETS)}")
    parser.add_argument(
        "--split",
        choices=PARTS,
        default="all",
        help="all rows, or the rows 'train --dataset DATASET' trains (train) or tests (test) "
        "on with the same --seed: 80%% and 20%%; Fashion-MNIST's own 60,000 and 10,000 "
        "(default: all)",
    )
    parser.add_argument(
        "--seed",
        type=whole_number,
        default=0,
        help="the seed of the train/test split, as train's --seed (default: 0)",
    )
    parser.add_argument("--data-dir", metavar="DIR", help="folder with the Fashion-MNIST IDX files")
    parser.add_argument(
        "--out",
        metavar="FILE",
        help="write to FILE (.csv, or .tsv for tabs) instead of stdout (- is stdout)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no note of the file written (errors are shown)"
    )
    add_common(parser)
    parser.set_defaults(func=run)


def _separator(out: str | None) -> str:
    """The separator ``--out``'s extension asks for (``,`` for standard output)."""
    if out is None:
        return ","
    suffix = Path(out).suffix.lower()
    if suffix not in _SEPARATORS:
        shown = f"extension {suffix!r}" if suffix else "no extension"
        raise InputError(
            f"--out {out} has {shown}; data writes a table as CSV (.csv) or TSV (.tsv). "
            f"Name the file e.g. {plain_stem(Path(out)) or 'data'}.csv."
        )
    return _SEPARATORS[suffix]


def run(args: argparse.Namespace) -> int:
    """Write the dataset's table (all rows, or one side of its split)."""
    import pandas as pd

    from ..datasets import dataset_table

    refuse_stdin(
        args.data_dir, "--data-dir", "Fashion-MNIST", "the folder of its IDX files", "folder"
    )
    if args.data_dir and args.dataset.lower().replace("_", "-") not in ("fashion-mnist", "fashion"):
        raise InputError(
            f"--data-dir is where Fashion-MNIST's files are; {args.dataset} is built in. "
            "Drop --data-dir, or write fashion-mnist."
        )
    if args.seed < 0:
        raise InputError(f"--seed {args.seed} is out of range; expected an integer >= 0 such as 0.")
    out = output_file(args.out)  # (--out -: stdout, as without --out)
    if out is not None and not str(out).strip():
        raise InputError("--out is empty; expected a file path such as iris.csv.")
    sep = _separator(out)
    check_distinct({}, {"--out": out})  # (writable: refused now, before the work)
    table = dataset_table(args.dataset, args.split, seed=args.seed, data_dir=args.data_dir)
    text = pd.DataFrame(table).to_csv(index=False, sep=sep, lineterminator="\n")
    write_text(text, out, quiet=args.quiet)
    return 0
