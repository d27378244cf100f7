"""The command line's argument parser: argparse, with the one-line ``error: ...`` rule."""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from typing import Any

from . import EXIT_USAGE

__all__ = ["Parser"]

_NEGATIVE_NUMBERS = re.compile(r"^-(\d|\.\d|(inf|nan)(,|$|inity))", re.IGNORECASE)
"""What argparse must take as a value, not an option: what begins as a negative number,
``-1.2``, lists such as ``--input -1.2,0.3`` (standardised inputs are often negative) and
raw rows such as ``--raw --input -1.5,red`` (no option begins with a digit), and ``-inf``
or ``-nan`` (so that the value's own check names it, not argparse's "expected one
argument"; no option is spelt so)."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors follow the one-line ``error: ...`` rule (exit
    status 2), and which takes comma-separated numbers starting with a minus sign as values."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No abbreviations: argparse took --rep as --report-every and --val as
        # --validation-split, so an R user's --rep 3 (neuralnet's restarts) ran silently as
        # something else. A shortened option is refused with the full name suggested.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBERS  # (argparse's: one number only)

    def unrecognized(self, extra: list[str]) -> str:
        """The message for arguments this parser does not take, with the options meant
        where one is a beginning or a near spelling of them."""
        options = sorted({s for action in self._actions for s in action.option_strings})
        hints = []
        for word in extra:
            if not word.startswith("--") or word in options:
                continue
            name = word.split("=", 1)[0]
            meant = [o for o in options if o.startswith(name)] or difflib.get_close_matches(
                name, options, n=2, cutoff=0.75
            )
            if meant:
                hints.append((name, " or ".join(meant)))
        message = f"unrecognized arguments: {' '.join(extra)}"
        if len(hints) == 1:
            message += f"; did you mean {hints[0][1]}? Options are written in full"
        elif hints:
            meant = ", ".join(f"{option} (for {name})" for name, option in hints)
            message += f"; did you mean {meant}? Options are written in full"
        return message

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)
