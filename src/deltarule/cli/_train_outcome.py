"""An interrupted ``deltarule train`` run (Ctrl-C, or SIGTERM relayed as one): its exit
status, where its model goes (:func:`outcome`: beside a model file that existed before the
run, never over it), and what the closing message adds (:func:`kept_message`: where the
model went, and how to continue the run)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import stop_signal
from ._stdin import is_stdin

__all__ = ["kept_message", "outcome"]


def outcome(history: Any, out: Path | None, existed: bool) -> tuple[bool, int, Path | None]:
    """Return (whether the run was interrupted, the exit status, where the model goes).

    An interrupted run's stop reason names the signal (the training loop's, which the
    command line's SIGTERM relay calls with that signal); its model does not replace a file
    ``out`` that existed before the run (``existed``) but goes beside it:
    ``model.safetensors`` -> ``model.interrupted.safetensors``.
    """
    if not history.stop_reason.startswith("interrupted"):
        return False, 0, out
    _, status = stop_signal()
    if out is None or not existed:
        return True, status, out
    return True, status, out.with_name(f"{out.stem}.interrupted{out.suffix}")


def kept_message(out: Path | None, target: Path | None, args: argparse.Namespace) -> str:
    """What an interrupted run's message adds: where the model went, how to continue."""
    from ..io.checkpoint import CHECKPOINT_FILE

    text = "" if target is None else f"; the model trained so far is in {target}"
    if target is not None and target != out:
        text += f" ({out}, which existed before this run, is left as it was)"
    resumable = not is_stdin(args.data)  # (standard input cannot be read again)
    if resumable and args.checkpoint and (Path(args.checkpoint) / CHECKPOINT_FILE).exists():
        text += f"; continue the run with 'deltarule train --resume {args.checkpoint}'"
    return text
