"""Resumable ``deltarule train``: settings and checkpoints in a folder (``--checkpoint DIR``).

``--checkpoint DIR`` writes ``DIR/settings.json`` (every setting of the run, data path
made absolute, and the data file's size and SHA-256) once the inputs are found valid,
before training, and ``DIR/checkpoint.safetensors`` at the end of every
``--checkpoint-every N``-th epoch (:mod:`deltarule.io.checkpoint`), both atomically.
``deltarule train --resume DIR`` rebuilds the same run from the settings, loads the
checkpoint and trains the remaining epochs: the result is bitwise-identical to a run
that was never interrupted. A run holds an exclusive lock on ``DIR/.lock`` while it runs
(:func:`run_lock`), so that two runs never write one checkpoint. The data file is checked
against the settings' fingerprint, and the rows the run trains on (after its validation
split) against the checkpoint's record of its own (:mod:`deltarule._provenance`): another
run's ``settings.json`` beside a checkpoint (another split or file, or a seed that drew
other validation rows) is refused too.

A run on standard input (DATA ``-``) is recorded as such (``data: "-"``, and the size and
SHA-256 of what it read, ``source: "standard input"``); ``--resume`` refuses it, since
standard input cannot be read again.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import hashlib
import json
import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import InputError
from . import _stdin

SETTINGS_FILE = "settings.json"
LOCK_FILE = ".lock"
"""The file a run locks (``fcntl.flock``) in its checkpoint folder; it holds the run's pid."""
_KEYS = ("data", "target", "task", "impute", "dataset", "data_dir", "hidden", "activation",
         "loss", "optimizer", "epochs", "batch_size", "learning_rate", "validation_split",
         "patience", "seed", "out", "plot", "checkpoint_every", "drop", "target_error",
         "until_all_correct", "sep", "no_header", "test_split", "l2", "dropout",
         "class_weight", "features", "gradient_threshold", "epochs_auto",
         "min_delta")  # fmt: skip
_PATHS = ("data", "data_dir", "out", "plot")
_KINDS = {"epochs": (int,), "batch_size": (int, type(None)), "patience": (int,), "seed": (int,),
          "validation_split": (int, float), "test_split": (int, float, type(None)),
          "learning_rate": (int, float, type(None)),
          "checkpoint_every": (int, type(None)),
          "target_error": (int, float, type(None)), "l2": (int, float, type(None)),
          "dropout": (int, float, type(None)),
          "gradient_threshold": (int, float, type(None)),
          "min_delta": (int, float, type(None))}  # fmt: skip


def data_fingerprint(path: str | Path) -> dict[str, Any]:
    """The size and SHA-256 of the file ``path``: a resumed run checks its data is the same."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"size": os.path.getsize(path), "sha256": digest.hexdigest()}


def save_settings(folder: str | Path, args: argparse.Namespace) -> None:
    """Write the run's settings to ``folder/settings.json`` (paths made absolute), with the
    data file's :func:`data_fingerprint`."""
    from ..io.atomic import atomic_write_text

    folder = Path(folder)
    _make_folder(folder, "--checkpoint")
    refuse_links(folder)
    values = {key: getattr(args, key, None) for key in _KEYS}
    stdin = _stdin.is_stdin(values["data"])
    for key in _PATHS:
        if values[key] is not None and not (key == "data" and stdin):
            values[key] = str(Path(values[key]).resolve())
    payload: dict[str, Any] = {"format": "deltarule.train-settings", "version": 1,
                               "settings": values}  # fmt: skip
    if getattr(args, "preprocessing_digest", None):
        payload["preprocessing_sha256"] = args.preprocessing_digest
    if stdin:
        payload["data_fingerprint"] = _stdin.fingerprint()
    elif values["data"] is not None:
        payload["data_fingerprint"] = data_fingerprint(values["data"])
    atomic_write_text(folder / SETTINGS_FILE, json.dumps(payload, indent=2) + "\n")


def check_new_run(folder: str | Path) -> None:
    """Refuse to start a new run in a ``--checkpoint`` folder that holds a checkpoint
    already: it would be replaced, and with it the way to resume that run. (Settings
    without a checkpoint are replaced: that run never finished an epoch.)"""
    from ..io.checkpoint import CHECKPOINT_FILE

    if (Path(folder) / CHECKPOINT_FILE).exists():
        raise InputError(
            f"--checkpoint {folder} already holds a training run ({CHECKPOINT_FILE}); a new "
            f"run would replace it. Continue that run with 'deltarule train --resume {folder}', "
            "or give a new folder (or delete that one) to start afresh."
        )


def check_folder(folder: str | Path, option: str = "--checkpoint") -> None:
    """Refuse, before any work, a checkpoint ``folder`` that cannot be created or written:
    one under a file, or in (or under) a folder this user may not write."""
    path = Path(folder)
    existing = path
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if existing != path and not existing.is_dir():
        raise InputError(
            f"{option} {folder}: {str(existing)!r} is a file, not a folder, so the checkpoint "
            "folder cannot be made there. Choose another path."
        )
    if existing.is_dir() and not os.access(existing, os.W_OK | os.X_OK):
        what = "written" if existing == path else "created"
        raise InputError(
            f"{option} {folder}: the folder {str(existing)!r} is not writable (permission "
            f"denied), so the checkpoint folder cannot be {what}. Make it writable (e.g. "
            f"chmod u+w {existing}) or choose another folder."
        )


def _make_folder(folder: Path, option: str) -> None:
    """Create ``folder`` (and its parents), as an :class:`InputError` naming ``option``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _folder_error(folder, option, exc) from None


def _folder_error(folder: Path, option: str, exc: OSError) -> InputError:
    """``exc`` (creating or writing ``folder``) as a message naming ``option`` and the fix."""
    reason = exc.strerror or str(exc)
    return InputError(
        f"{option} {folder}: cannot create or write the checkpoint folder ({reason}). Make "
        "it (or the folder above it) writable, or choose another folder."
    )


@contextlib.contextmanager
def run_lock(folder: str | Path | None, option: str = "--checkpoint") -> Iterator[None]:
    """Hold an exclusive lock on ``folder``'s :data:`LOCK_FILE` (creating the folder) while
    the ``with`` block runs, and remove the temporary files a killed run's saves left there.

    Nothing happens when ``folder`` is None. Where ``fcntl`` does not exist (Windows), or
    the file system cannot lock, the run goes on without a lock.

    Raises
    ------
    InputError
        When another run holds the lock, or the folder cannot be created or written.
    """
    if folder is None:
        yield
        return
    from ..io.atomic import remove_stale_temps
    from ..io.checkpoint import CHECKPOINT_FILE

    folder = Path(folder)
    _make_folder(folder, option)
    refuse_links(folder, option)
    handle = _open_lock(folder, option)
    with handle:
        _lock(handle, folder, option)
        remove_stale_temps(folder, [SETTINGS_FILE, CHECKPOINT_FILE])
        yield


def refuse_links(folder: str | Path, option: str = "--checkpoint") -> None:
    """Refuse a checkpoint ``folder`` whose lock, settings or checkpoint is a symbolic link:
    a run makes them as plain files, and writing through a link planted there would
    replace (or truncate) the file it points to, anywhere this user may write."""
    from ..io.checkpoint import CHECKPOINT_FILE

    for name in (LOCK_FILE, SETTINGS_FILE, CHECKPOINT_FILE):
        path = Path(folder) / name
        if path.is_symlink():
            try:
                target = os.readlink(path)
            except OSError:  # pragma: no cover - removed meanwhile
                target = "?"
            raise InputError(
                f"{option} {folder}: {path} is a symbolic link (to {target!r}), not the plain "
                "file a training run makes there; writing it would change the file it points "
                f"to. Remove the link (rm {path}) if you made it, or use another folder."
            )


def _open_lock(folder: Path, option: str) -> Any:
    """Open (creating) ``folder``'s :data:`LOCK_FILE` for reading and writing, never
    through a symbolic link (``O_NOFOLLOW``: a link planted there would have the pid
    written over the file it points to)."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(folder / LOCK_FILE, flags, 0o666)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # (made a link since refuse_links looked)
            refuse_links(folder, option)
        raise _folder_error(folder, option, exc) from None
    return os.fdopen(fd, "r+", encoding="utf-8")


def _lock_file(handle: Any) -> None:
    """Lock the open file ``handle`` for this process (non-blocking; OSError when another
    process holds it): ``flock`` on POSIX, ``msvcrt.locking`` of its first byte on Windows."""
    try:
        import fcntl
    except ImportError:  # (Windows)
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def _lock(handle: Any, folder: Path, option: str) -> None:
    """Lock ``handle`` (non-blocking) and write this process's id in it."""
    try:
        _lock_file(handle)
    except OSError as exc:
        held = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, getattr(errno, "EDEADLK", -1))
        if exc.errno not in held:  # (EDEADLK: msvcrt's "locked by another process")
            return  # the file system cannot lock (some network file systems): go on without
        handle.seek(0)
        pid = handle.read().strip()
        holder = f"process {pid}" if pid.isdigit() else "another process"
        raise InputError(
            f"{option} {folder} is in use by another training run ({holder} holds "
            f"{folder / LOCK_FILE}); two runs writing one checkpoint would spoil it. Wait for "
            "that run to end (or stop it), or give another folder."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()


def _train_defaults() -> argparse.Namespace:
    """What ``deltarule train`` sets when an option is not given."""
    from . import build_parser

    return build_parser().parse_args(["train"])


def load_settings(folder: str | Path, given: argparse.Namespace) -> argparse.Namespace:
    """Return the original run's settings, with ``--out``, ``--plot``, ``--quiet`` and
    ``--report-every`` as given now; any other training option given now is an error (it
    would be ignored)."""
    path = Path(folder) / SETTINGS_FILE
    if Path(folder).exists() and not Path(folder).is_dir():
        raise InputError(
            f"--resume {folder} is a file; expected the folder that was given to --checkpoint."
        )
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(payload, dict):
            raise ValueError(f"a JSON {type(payload).__name__}, not an object")
        if payload.get("format") != "deltarule.train-settings":
            raise ValueError("no 'format': 'deltarule.train-settings'")
        values = payload.get("settings")
        if not isinstance(values, dict):
            raise ValueError("no 'settings' object")
    except FileNotFoundError:
        if (Path(folder) / LOCK_FILE).is_file():  # (a run's folder, stopped before its settings)
            raise InputError(
                f"--resume {folder}: the run in that folder stopped before its first "
                f"checkpoint (there is no {SETTINGS_FILE} yet), so there is nothing to "
                "continue; start the run again (the same command without --resume)."
            ) from None
        raise InputError(
            f"--resume {folder}: no {SETTINGS_FILE} there; pass the folder that was given "
            "to --checkpoint."
        ) from None
    except (ValueError, KeyError, TypeError, RecursionError) as exc:  # (nested too deep)
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        if isinstance(exc, json.JSONDecodeError):
            reason = f"not JSON: {reason}"
        raise InputError(
            f"--resume {folder}: {path} is unreadable or corrupt ({reason}). Start the run "
            "again (delete the folder, or give --checkpoint a new one)."
        ) from None
    changed = _given_options(given)
    if changed:
        shown = ", ".join("DATA" if k == "data" else "--" + k.replace("_", "-") for k in changed)
        raise InputError(
            f"--resume {folder} continues the saved run with its own settings, but {shown} "
            f"{'were' if len(changed) > 1 else 'was'} given too; expected only --out, --plot, "
            "--quiet, --report-every. Drop the other options, or start a new run without --resume."
        )
    if (
        getattr(given, "checkpoint", None)
        and Path(given.checkpoint).resolve() != Path(folder).resolve()
    ):
        raise InputError(
            f"--resume {folder} keeps checkpointing into {folder}, but --checkpoint "
            f"{given.checkpoint} was given too; drop --checkpoint."
        )
    for key, kinds in _KINDS.items():  # (an edited or damaged file: not a TypeError later)
        value = values.get(key)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise InputError(
                f"--resume {folder}: {path} has {key} = {value!r}, not "
                f"{'a number' if float in kinds else 'an integer'}"
                f"{' or null' if type(None) in kinds else ''}; the file is damaged. "
                "Start the run again (delete the folder, or give --checkpoint a new one)."
            )
    if values.get("class_weight") not in (None, "balanced"):
        raise InputError(
            f"--resume {folder}: {path} has class_weight = {values.get('class_weight')!r}, "
            "not null or 'balanced'; the file is damaged. Start the run again (delete the "
            "folder, or give --checkpoint a new one)."
        )
    drop = values.get("drop") or []  # (settings written before --drop: none)
    if not (isinstance(drop, list) and all(isinstance(name, str) for name in drop)):
        raise InputError(
            f"--resume {folder}: {path} has drop = {drop!r}, not a list of column names; the "
            "file is damaged. Start the run again (delete the folder, or give --checkpoint a "
            "new one)."
        )
    values["drop"] = drop
    if _stdin.is_stdin(values.get("data")):
        raise InputError(
            f"--resume {folder}: that run read its data from standard input (DATA -), which "
            "cannot be read again, so the run cannot be continued on the same rows. Save "
            "the data to a file and start a new run on it (deltarule train data.csv ... "
            "--checkpoint DIR, a new folder or this one deleted); that run can be resumed."
        )
    _check_data(folder, values.get("data"), payload.get("data_fingerprint"))
    merged = argparse.Namespace(**{key: values.get(key) for key in _KEYS})
    refuse_links(folder, "--resume")  # (before the note below: an error is the one line)
    if not given.out:
        _check_saved_output(folder, "--out", merged.out, _is_model_file, "a deltarule model file")
    if not given.plot:
        _check_saved_output(folder, "--plot", merged.plot, _is_image, "a PNG or SVG image")
    merged.resume_note = None  # (shown by train once the options are checked: one error line)
    if not given.out and merged.out and not given.quiet:  # (where it goes, before the run)
        merged.resume_note = (
            f"resuming {folder}: the model will be saved to {merged.out} (the run's --out; "
            "pass --out to choose another file)"
        )
    merged.out = given.out or merged.out
    merged.plot = given.plot or merged.plot
    merged.quiet, merged.debug = given.quiet, getattr(given, "debug", False)
    merged.report_every = getattr(given, "report_every", None)  # (display, not a setting)
    merged.checkpoint, merged.resume = str(folder), str(folder)
    merged.saved_preprocessing = payload.get("preprocessing_sha256")  # (None: written before)
    return merged


def preprocessing_digest(pre: Any) -> str:
    """The SHA-256 of the fitted preprocessor's state (its JSON, keys sorted): a resumed run
    refits it from the data and checks it is the run's (:func:`check_preprocessing`)."""
    import hashlib

    text = json.dumps(pre.to_dict(), sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_preprocessing(args: argparse.Namespace, digest: str) -> None:
    """Refuse to resume a run whose preprocessing, fitted again from its data, is not the
    one it trained with: a deltarule that fits it otherwise (since --test-split's rows were
    left out of it; text trimmed) would continue the weights on other inputs."""
    if not getattr(args, "resume", None):
        return
    saved = getattr(args, "saved_preprocessing", None)
    changed = saved != digest if saved is not None else bool(getattr(args, "test_split", None))
    if changed:
        raise InputError(
            f"--resume {args.resume}: the run's preprocessing (the means, deviations and "
            "categories its network reads its inputs by) is not what this deltarule fits "
            "from its data now (a run checkpointed by an earlier version, which fitted it "
            "otherwise: with --test-split, from the test rows too), so its weights cannot be "
            "continued on the same inputs. Start a new run without --resume."
        )


def _check_saved_output(
    folder: str | Path, option: str, path: Any, kind: Any, expected: str
) -> None:
    """Refuse a saved ``option`` path (the run's output, taken from its settings, which
    anyone could have written) naming an existing regular file that is not ``expected``:
    a resumed run replaces only what a run writes there, not, say, a document. A path
    given on the command line now is the user's own choice, and is not checked."""
    if path is None:
        return
    if not isinstance(path, str) or not path or "\0" in path:
        raise InputError(
            f"--resume {folder}: {SETTINGS_FILE} has {option[2:]} = {path!r:.80}, not a file "
            f"path; the file is damaged. Pass {option} to choose where the output goes."
        )
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError:  # (not there yet: a new file is made)
        return
    if regular and not kind(path):
        raise InputError(
            f"--resume {folder}: the checkpoint's settings name the output {option} {path}, "
            f"which exists and is not {expected}; resuming would replace it. Pass {option} to "
            "choose where the resumed run's output goes (or move that file away)."
        )


def _is_model_file(path: str) -> bool:
    """True when ``path`` holds a deltarule model file (its header reads as one)."""
    from ..exceptions import DeltaruleError
    from ..io.model_file import model_header

    try:
        model_header(path)
    except (DeltaruleError, OSError):
        return False
    return True


def _is_image(path: str) -> bool:
    """True when ``path`` holds a PNG or an SVG image (as ``--plot`` writes)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return head.startswith(b"\x89PNG\r\n\x1a\n") or b"<svg" in head


def _given_options(given: argparse.Namespace) -> list[str]:
    """The settings (of :data:`_KEYS`) given on the command line besides ``--out`` and
    ``--plot``, whatever their value: the parser records each option given in
    ``given_options``. (A namespace without that record: the options whose value is not
    the default.)"""
    keys = [key for key in _KEYS if key not in ("out", "plot")]
    recorded = getattr(given, "given_options", None)
    if recorded is None:
        defaults = vars(_train_defaults())
        return [key for key in keys if getattr(given, key, None) != defaults.get(key)]
    return [key for key in keys if key in recorded or (key == "data" and given.data is not None)]


def _check_data(folder: str | Path, data: Any, saved: Any) -> None:
    """Refuse to resume on a data file that is not the one the run started on (its size or
    SHA-256 differ). Settings written before fingerprints were kept resume unchecked."""
    if not isinstance(data, str) or not isinstance(saved, dict) or not Path(data).is_file():
        return  # (a missing file is reported when it is read)
    now = data_fingerprint(data)
    if now == {key: saved.get(key) for key in now}:
        return
    raise InputError(
        f"DATA {data} changed since the checkpoint in {folder} was written (then "
        f"{saved.get('size')} bytes, SHA-256 {str(saved.get('sha256'))[:12]}...; now "
        f"{now['size']} bytes, {now['sha256'][:12]}...); a resumed run must train on the "
        "same rows. Put the original file back, or start a new run on the new data (a new "
        "--checkpoint folder, or delete this one)."
    )


def saved_checkpoint(folder: str) -> Any:
    """The checkpoint in ``folder``, or None where there is none yet (a run killed during its
    first epoch: it starts over, identically)."""
    from ..io.checkpoint import CHECKPOINT_FILE, load_checkpoint

    return load_checkpoint(folder) if (Path(folder) / CHECKPOINT_FILE).exists() else None


def fit_resumable(
    net: Any,
    X: np.ndarray,
    Y: np.ndarray,
    validation: tuple | None,
    args: argparse.Namespace,
    metrics: list[str] | None,
) -> Any:
    """Train as ``deltarule.fit`` would, with checkpoints and resumption; return the history."""
    from .._reports import still_improving
    from ..callbacks import AllCorrect, EarlyStopping, GradientNormBelow, TargetError
    from ..exceptions import StillImprovingWarning
    from ..history import History
    from ..io.checkpoint import Checkpoint, resume_trainer
    from ..training import Trainer

    l2 = getattr(args, "l2", None) or 0.0  # (settings saved before --l2: none)
    trainer = Trainer(net, args.optimizer, args.learning_rate, args.batch_size,
                      seed=args.seed, metrics=metrics, l2=l2)  # fmt: skip
    stopper = None
    if args.patience > 0:
        # (settings saved before --min-delta: none, as those runs stopped)
        min_delta = getattr(args, "min_delta", None) or 0.0
        stopper = EarlyStopping("val_loss" if validation else "loss", args.patience,
                                min_delta=min_delta)  # fmt: skip
    callbacks: list[Any] = [stopper] if stopper else []
    if getattr(args, "target_error", None) is not None:  # the tutorial's two rules
        callbacks.append(TargetError(args.target_error))
    if getattr(args, "until_all_correct", False):
        callbacks.append(AllCorrect())
    if getattr(args, "gradient_threshold", None) is not None:  # (R neuralnet's threshold)
        callbacks.append(GradientNormBelow(args.gradient_threshold, rule="neuralnet"))
    prior = History()
    resume = getattr(args, "resume", None)
    saved = getattr(args, "saved_checkpoint", None)  # (read by train before the run is said)
    if resume and saved is not None:
        _refuse_softmax_one_vs_rest(net, saved, args)
        resume_trainer(trainer, saved, callbacks)
        prior = saved.history
        # The checkpoint of a run's last epoch (killed before its model was saved) ends as
        # the run ended, the stop and the best epoch's weights: fit asks each callback
        # (Callback.resumed_stop), and takes 0 epochs where every epoch was done.
    if getattr(args, "checkpoint", None):  # (runs last: saves the stopper's updated state)
        callbacks.append(Checkpoint(args.checkpoint, args.checkpoint_every or 1, history=prior))
    say = getattr(args, "say_start", None)  # (a resumed run: once its fit took the run's data)
    said = [] if say is None else [_said_on_start(say)]
    # A resumed run's warnings are caught, and shown below with advice it can follow.
    catching = warnings.catch_warnings(record=True) if resume else contextlib.nullcontext([])
    with catching as caught:  # (Ctrl-C: the CLI's own line says so, not fit's warning)
        history = trainer.fit(X, Y, epochs=args.epochs - trainer.epochs_done,
                              class_weight=getattr(args, "class_weight", None),
                              validation_data=validation, callbacks=[*said, *callbacks],
                              verbose=0 if args.quiet else 1,
                              report_every=getattr(args, "report_every", None),
                              warn_interrupted=False)  # fmt: skip
    whole = history.following(prior)  # (a compiled run's column chunks stay columns)
    for warning in caught:
        text = warning.message
        if isinstance(text, StillImprovingWarning):  # over the whole run, as uninterrupted
            text = still_improving(whole, text.learning_rate, text.early_stopping)
            if text is None:
                continue
            text = text.advice(resumed=resumed_advice(args.epochs))
        warnings.showwarning(text, warning.category, warning.filename, warning.lineno)
    return whole


def _said_on_start(say: Any) -> Any:
    """A callback that calls ``say()`` when the fit begins: after the fit's checks (a
    resumed run's data is the run's), before its first epoch (and its progress lines)."""
    from ..callbacks import Callback

    class SaidOnStart(Callback):
        def on_train_begin(self, state: Any) -> None:
            say()

    return SaidOnStart()


def _refuse_softmax_one_vs_rest(net: Any, saved: Any, args: argparse.Namespace) -> None:
    """Refuse a checkpoint of ``--loss binary_crossentropy`` with several classes written
    before such runs had a sigmoid per class (their outputs were a softmax then): the run
    cannot be continued as it ran, and the general message would ask for a setting no option
    gives."""
    from ..losses import get_loss

    now = net.config().get("activations") or []
    was = saved.network.config().get("activations") or []
    if not (now and len(was) == len(now) and was[:-1] == now[:-1]
            and (was[-1], now[-1]) == ("softmax", "sigmoid") and args.loss != "auto"
            and get_loss(args.loss).name == "binary_crossentropy"):  # fmt: skip
        return
    raise InputError(
        f"--resume {args.resume}: the checkpoint is of a run with --loss {args.loss} and "
        f"{net.layer_sizes[-1]} classes that an earlier deltarule trained through softmax "
        "outputs; this version gives such runs a sigmoid per class (one-vs-rest), so that run "
        "cannot be continued. Start a new run without --resume (the model files the old run "
        "saved still load and predict)."
    )


def resumed_advice(epochs: int) -> str:
    """What a resumed run that reached its epoch limit can do: its options (``--epochs``,
    ``--learning-rate``, ``--patience``) are the saved run's, which ``--resume`` keeps."""
    return (
        f"--resume keeps the saved run's settings (--epochs {epochs}); to train longer, start "
        "a new run with a larger --epochs (and a new --checkpoint folder)."
    )
