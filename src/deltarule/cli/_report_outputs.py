"""The outputs of the commands that write a report and, with ``--plot``, a picture
(``evaluate``, ``importance``): checked before any work (:func:`check_report_outputs`),
then written report first, picture second, each atomically (:func:`write_report`; the
picture is drawn in memory before, so that one that cannot be drawn leaves neither)."""

from __future__ import annotations

import argparse
import sys

from ._common import check_distinct, output_format, refuse_foreign_extension, write_text
from ._stdin import output_file, refuse_stdin_model, refuse_stdout

__all__ = ["check_report_outputs", "write_report"]


def check_report_outputs(
    args: argparse.Namespace, formats: dict[str, str], report: str, picture: str
) -> tuple[str | None, str]:
    """Check MODEL, ``--out`` and ``--plot`` before any work; return the report's file
    (None: standard output) and format (``--format``, else ``--out``'s extension among
    ``formats``, else text). ``report`` and ``picture`` are the file names the messages
    suggest (``report.txt``, ``confusion.png``)."""
    refuse_stdin_model(args.model)
    refuse_stdout(args.plot, "--plot", "a PNG or SVG image", picture)
    out = output_file(args.out)  # (--out -: stdout, as without --out)
    form = output_format(args.format, out, formats, "text")
    check_distinct({"MODEL": args.model, "DATA": args.data},
                   {"--out": out, "--plot": args.plot},
                   {"--out": report, "--plot": picture})  # fmt: skip
    refuse_foreign_extension(out, formats)
    if args.plot:
        from ..plots import check_plot_path

        check_plot_path(args.plot)
    return out, form


def write_report(text: str, out: str | None, plot: str | None, image: bytes | None,
                 quiet: bool) -> None:  # fmt: skip
    """Write the report ``text`` to ``out`` (None: standard output), then the picture's
    bytes ``image`` to ``plot``, saying so unless ``quiet``."""
    write_text(text, out, quiet=quiet)
    if plot is not None and image is not None:
        from ..io.atomic import atomic_write_bytes

        atomic_write_bytes(plot, image)
        if not quiet:
            print(f"wrote {plot}", file=sys.stderr)
