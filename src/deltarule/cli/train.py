"""``deltarule train``: train a network on a data file (or a built-in dataset) and save it.

See :data:`DESCRIPTION` (the ``--help`` text). Regression targets are standardised for
training; the output layer is then rescaled so the saved network predicts in the
target's own units (in float64 when float32 would round away their spread: a target such as
1e9 +- 10). The losses of the history, the progress lines and ``--plot`` are then those on the
standardised target (labelled so), while the reported and ``evaluate``'s MSE are in the
target's units (they differ by the target's variance). The model file is written atomically,
once training has succeeded; ``--plot`` is drawn after it, so that a plot that fails leaves
the trained model saved (and the command says so, exit status 2).

This module is the command's course; its parts live beside it: the options and their checks
(:mod:`._train_args`), the data (:mod:`._train_data`), the network and the fit
(:mod:`._train_fit`), the score, model file and plot (:mod:`._train_record`), and an
interrupted run's outcome (:mod:`._train_outcome`).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import DataWarning, InputError
from . import add_common
from ._common import CLASSIFICATION, holdout_split
from ._resume import (
    check_new_run,
    check_preprocessing,
    load_settings,
    preprocessing_digest,
    run_lock,
    save_settings,
    saved_checkpoint,
)
from ._stdin import data_name, is_stdin, refuse_stdin
from ._target_units import TARGET_RECORD
from ._train_args import (
    DESCRIPTION,
    EPILOG,
    add_arguments,
    check_options,
    refuse_empty_folders,
    resolve_epochs,
)
from ._train_data import encode_targets, from_dataset, from_file
from ._train_fit import (
    build_network,
    check_targets_fit,
    check_targets_for_loss,
    fit,
    standardised,
)
from ._train_outcome import kept_message, outcome
from ._train_record import plot_curves, report_score, save_trained, say


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` subcommand."""
    parser = subparsers.add_parser(
        "train",
        help="train a network on a data file or a built-in dataset",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    add_common(parser)
    parser.set_defaults(func=run, given_options=[])


def run(args: argparse.Namespace) -> int:
    """Train, report, save the model, then plot (see the module docstring).

    With ``--checkpoint``, the folder is locked for the run (:func:`run_lock`) and the
    settings are written once the inputs are found valid (data read, target checked,
    network built): a run refused for its input leaves the folder free for the next.
    """
    refuse_empty_folders(args)
    refuse_stdin(
        args.resume, "--resume", "a checkpointed run", "the folder given to --checkpoint", "folder"
    )
    if args.resume:
        args = load_settings(args.resume, args)
    hidden, out = check_options(args)
    existed = out is not None and out.is_file()  # (an interrupted run leaves it as it is)
    args.plot_existed = bool(args.plot) and Path(args.plot).is_file()  # (and this one too)
    with run_lock(args.checkpoint, "--resume" if args.resume else "--checkpoint"):
        if args.checkpoint and not args.resume:
            check_new_run(args.checkpoint)
        return _train(args, hidden, out, existed)


def _train(args: argparse.Namespace, hidden: list[int], out: Path | None, existed: bool) -> int:
    """The body of :func:`run`, in the locked checkpoint folder."""
    pre, X, Y, test, where = _prepare(args)
    args.preprocessing_digest = preprocessing_digest(pre)  # (saved with the settings)
    check_preprocessing(args, args.preprocessing_digest)
    classification = pre.task == CLASSIFICATION
    net = build_network(pre, X, hidden, args)
    # (X given up: its rows are moved into the parts, not copied beside it)
    parts = holdout_split(X, Y, args.validation_split, args.seed, classification, consume=True)
    del X
    resolve_epochs(args, has_validation=parts[2] is not None)  # (before the settings' save)
    if not classification:
        check_targets_fit(Y, net.dtype, pre, args.target)
        if getattr(args, "class_weight", None):
            raise InputError(
                f"--class-weight {args.class_weight} weighs the classes, but the target "
                f"{args.target or 'y'} is a regression target; leave --class-weight out, or "
                "give --task classification if its values are classes."
            )
        if getattr(args, "until_all_correct", False):
            raise InputError(
                f"--until-all-correct stops when every example is classified correctly, but "
                f"the target {args.target or 'y'} is a regression target ({pre.task}); use "
                "--target-error E to stop at an error instead, or --task classification if "
                "its values are classes."
            )
    for message in getattr(args, "data_warnings", []):  # (none before an error: all checked)
        warnings.warn(message, DataWarning, stacklevel=2)
    if args.checkpoint and not args.resume:
        save_settings(args.checkpoint, args)
        if is_stdin(args.data):
            warnings.warn(
                f"--checkpoint {args.checkpoint}: DATA - is standard input, which cannot be "
                "read again, so this run cannot be continued with --resume; to make a run "
                "resumable, save the data to a file and train on that file.",
                UserWarning,
                stacklevel=2,
            )
    if args.resume:  # its checkpoint read (and checked) before anything is said of the run
        args.saved_checkpoint = saved_checkpoint(args.resume)
    announce = partial(_say_start, args, pre, net, parts, test, where, Y, classification)
    if args.resume and args.saved_checkpoint is not None:
        args.say_start = announce  # (said once the resumed fit took the run's seed and data)
    else:
        announce()
    start = time.perf_counter()
    net, history, scaling = fit(net, parts, args, classification)
    seconds = time.perf_counter() - start
    interrupted, status, target = outcome(history, out, existed)
    which, metrics, said = report_score(net, pre, parts, test)
    scaled = standardised(net, classification)
    lines = [said]
    if target is not None:  # (saved before anything is printed: a failed print loses nothing)
        extra = {"data": where, "rows": len(Y), "seconds": seconds, f"{which}_metrics": metrics}
        if scaling is not None:
            extra[TARGET_RECORD] = scaling
        lines.append(save_trained(net, pre, target, history, args, {**extra, "hidden": hidden}))
    say(lines, target)
    if target is None and not interrupted and not args.quiet:  # (quiet: asked for no lines)
        name = args.dataset or "digits"  # (DATA's model is saved by default: <stem>)
        print(
            f"note: the model was not saved; add --out {name}.safetensors to keep it.",
            file=sys.stderr,
        )
    if args.plot:  # after the model: a plot that fails must not lose the training
        plot = Path(args.plot)
        if interrupted and args.plot_existed:  # beside the earlier run's, as the model
            plot = plot.with_name(f"{plot.stem}.interrupted{plot.suffix}")
        plot_curves(history, str(plot), where, scaled, target)
    if interrupted:  # kept what was trained, but say so
        # (the reason says so itself: "interrupted (Ctrl-C) after epoch 3")
        print(f"{history.stop_reason}{kept_message(out, target, args)}", file=sys.stderr)
        return status
    return 0


def _say_start(
    args: argparse.Namespace,
    pre: Any,
    net: Any,
    parts: tuple,
    test: Any,
    where: str,
    Y: np.ndarray,
    classification: bool,
) -> None:
    """Say, on stderr, where a resumed run saves its model and what the run trains on (once
    everything is checked: a refused run says one error line)."""
    if getattr(args, "resume_note", None):
        print(args.resume_note, file=sys.stderr)
    if args.quiet:
        return
    n_val = 0 if parts[3] is None else len(parts[3])
    several = "s, each on its own" if Y.shape[1] > 1 else ""
    scaled = standardised(net, classification)
    scale = f"; losses on the standardised target{several}" if scaled else ""
    n_test = f" and {len(test[1])} test" if test is not None and args.data else ""
    print(
        f"training {net.layer_sizes} ({net.loss.name}) on {where}: {len(parts[1])} "
        f"training{',' if n_test else ' and'} {n_val} validation{n_test} rows{scale}",
        file=sys.stderr,
    )
    note = _detected_classes(pre, args, Y)
    if note:
        print(note, file=sys.stderr)


FEW_VALUES = 50
"""A regression target with at most this many distinct values (and at most one for every
two rows) is noted: ratings of 1 to 30, or 0, 0.5 and 1, may be meant as classes."""


def _detected_classes(pre: Any, args: argparse.Namespace, Y: np.ndarray) -> str:
    """A note when the task was detected as classification from a target of whole numbers
    with more than two values (a count such as 0..16 may be meant as numbers), or as a
    regression from a target of few distinct values (:data:`FEW_VALUES`); else ""."""
    detected = bool(args.data) and getattr(args, "task", "auto") == "auto"  # (not built-in)
    if not detected:
        return ""
    if pre.task != CLASSIFICATION:
        distinct = len(np.unique(Y[:, 0])) if Y.shape[1] == 1 else FEW_VALUES + 1
        if distinct > FEW_VALUES or distinct > len(Y) / 2:
            return ""
        return (
            f"note: the task was detected as regression from the target {pre.target!r}, "
            f"which has {distinct} distinct values; to make each one a class, pass --task "
            "classification."
        )
    classes = pre.classes or []
    numbers = all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in classes)
    if not numbers or len(classes) <= 2:
        return ""
    return (
        f"note: the task was detected as classification from the {len(classes)} "
        f"whole-number values of the target {pre.target!r}, each one a class; to predict "
        "numbers instead, pass --task regression."
    )


def _prepare(args: argparse.Namespace) -> tuple[Any, np.ndarray, np.ndarray, Any, str]:
    """Return (preprocessor, X, Y, (X_test, Y_test) or None, data name)."""
    if args.data:  # (with --test-split, DATA's own test rows: trained on by nothing)
        pre, X, Y, test = from_file(args)
        return pre, X, Y, test, data_name(args.data)
    pre, data = from_dataset(args)
    test = (data.X_test, encode_targets(pre, data, data.y_test))
    Y = encode_targets(pre, data, data.y_train)
    check_targets_for_loss(pre, Y, args)
    return pre, data.X_train, Y, test, f"built-in {data.name}"
