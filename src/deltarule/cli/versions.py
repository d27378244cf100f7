"""``deltarule versions``: the versions and compute backends in use, for speed reports.

The system, the Python packages' versions, who computes the matrix products (NumPy's
BLAS and its threads, MKL, oneDNN), whether the compiled kernels run and on how many
threads, and the environment variables that change speed or results:
:func:`deltarule.show_versions` at the command line (``--format json``: its data,
:func:`deltarule.versions.versions`).
"""

from __future__ import annotations

import argparse

from .._json import dumps
from ..exceptions import InputError
from ..versions import text_report, versions
from . import add_common
from ._common import (
    add_out_and_quiet,
    check_distinct,
    output_format,
    refuse_foreign_extension,
    write_text,
)
from ._outputs import check_output
from ._records import printable

EPILOG = """examples:
  deltarule versions                      # include this in a speed report
  deltarule versions --format json
  deltarule versions --out versions.json  # JSON, from the extension
"""
SUFFIXES = {".txt": "text", ".json": "json"}
"""The formats ``--out``'s extension chooses."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``versions`` subcommand."""
    parser = subparsers.add_parser(
        "versions",
        help="show the versions and libraries that compute the products",
        description="Show deltarule's, Python's and the packages' versions, which libraries "
        "compute the matrix products (NumPy's BLAS, MKL, oneDNN) with how many threads, "
        "and the environment variables that change speed or results: include it in speed "
        "reports. (It loads MKL and oneDNN where installed, as training does.)",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        help="text: aligned sections; json: the same, as data (default: --out's extension, "
        ".json or .txt; else text)",
    )
    add_out_and_quiet(parser)
    add_common(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Gather the report and write it."""
    from ._stdin import output_file

    if args.out == "":
        raise InputError("--out is empty; expected a file path such as versions.txt.")
    out = output_file(args.out)  # (--out -: stdout, as without --out)
    form = output_format(args.format, out, SUFFIXES, "text")
    check_output("--out", out, "versions.txt")
    check_distinct({}, {"--out": out})
    refuse_foreign_extension(out, SUFFIXES)
    info = versions()
    if form == "json":
        text = dumps(info, ensure_ascii=False, indent=2) + "\n"
    else:  # (an environment variable's value is shown, never obeyed: see printable)
        text = "\n".join(map(printable, text_report(info).split("\n")))
    write_text(text, out, quiet=args.quiet)
    return 0
