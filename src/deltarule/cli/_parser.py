"""The command line's argument parser: argparse, with the one-line ``error: ...`` rule."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from . import EXIT_USAGE

__all__ = ["Parser"]

_NEGATIVE_NUMBERS = re.compile(r"^-(\d|\.\d)[\d.eE+\-,\s]*$")
"""What argparse must take as a value, not an option: ``-1.2``, and lists such as
``--input -1.2,0.3`` (standardised inputs are often negative)."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors follow the one-line ``error: ...`` rule (exit
    status 2), and which takes comma-separated numbers starting with a minus sign as values."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NEGATIVE_NUMBERS  # (argparse's: one number only)

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_USAGE)
