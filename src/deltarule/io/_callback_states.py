"""Callbacks' states in a checkpoint: their keys, how they are stored, how a resumed run's
callbacks take them back.

A callback with a state (:meth:`Callback.state_dict <deltarule.callbacks.Callback.state_dict>`:
early stopping, a plateau's counters) is keyed by :func:`callback_key` — its class and its
place among the run's callbacks of that class, ``"EarlyStopping.0"`` for the first
EarlyStopping — so that the same callbacks, given in the same order, find their states
again. A checkpoint's ``training.callbacks`` entry maps each key to the callback's
``config`` (:meth:`Callback.config`) and ``state`` (its plain data); its arrays are the
tensors ``extra.callback.<key>.<name>``. Checkpoints written before every callback's state
was saved hold early stopping's alone: ``training.early_stopping`` and
``extra.early_stopping.<name>``, read here as the state of ``"EarlyStopping.0"``.

The callbacks that ``fit`` makes of its options (``early_stopping=True``,
``schedule="plateau"``: :func:`deltarule._fit_callbacks.option_callbacks`, first in its list)
are marked ``"option": true``: a resumed run's ``fit`` makes them again and takes their
states back (:func:`match_options`), while :func:`match` pairs the others with the callbacks
given to ``resume_trainer``, counting each class's place after the options' of that class.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..callbacks import Callback
from ..exceptions import IncompatibleFormatError, InputError

__all__ = ["CallbackState", "callback_key", "decoded", "encoded", "match", "match_options",
           "read", "restore", "states_problem", "write"]  # fmt: skip

_CALLBACK, _EARLY = "callback.", "early_stopping."
EARLY_KEY = "EarlyStopping.0"  # what the early_stopping entry of older checkpoints was


@dataclass(frozen=True)
class CallbackState:
    """One callback's saved state.

    Attributes
    ----------
    config : dict or None
        :meth:`Callback.config` of the callback that saved it (None in checkpoints written
        before every callback's state was saved).
    data : dict
        The plain data of its :meth:`Callback.state_dict`.
    tensors : dict of str to ndarray
        Its arrays.
    option : bool or None
        Whether ``fit`` made the callback of one of its options (``early_stopping=True``,
        ``schedule="plateau"``); None in checkpoints written before this was marked.
    """

    config: dict[str, Any] | None
    data: dict[str, Any]
    tensors: dict[str, np.ndarray]
    option: bool | None = None


def callback_key(name: str, index: int) -> str:
    """The key of a callback's saved state: its class ``name`` and ``index``, its place
    among the run's callbacks of that class (0 for the first), e.g. ``"EarlyStopping.0"``."""
    return f"{name}.{index}"


def _stateful(
    callbacks: Sequence[Callback], before: dict[str, int] | None = None
) -> dict[str, tuple[Callback, tuple]]:
    """The callbacks with a state, each with its :meth:`Callback.state_dict`, by key
    (``before``: how many callbacks of each class came before them in the run)."""
    counts = {name: count - 1 for name, count in (before or {}).items()}
    keyed = {}
    for callback in callbacks:
        name = type(callback).__name__
        index = counts[name] = counts.get(name, -1) + 1
        state = callback.state_dict()
        if state is not None:
            keyed[callback_key(name, index)] = (callback, state)
    return keyed


_NON_FINITE = "$float"
"""The key of ``{"$float": "inf"}``, how a state's infinite or NaN float is stored (JSON has
neither; a checkpoint written before stored them as null, which is read as None)."""


def encoded(value: Any) -> Any:
    """``value`` with each infinite or NaN float as ``{"$float": "inf" | "-inf" | "nan"}``."""
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return {_NON_FINITE: repr(float(value))}
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return encoded(value.tolist())
    if isinstance(value, dict):
        return {key: encoded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encoded(item) for item in value]
    return value


def decoded(value: Any) -> Any:
    """:func:`encoded`'s ``value`` as it was (tuples as lists)."""
    if isinstance(value, dict):
        if set(value) == {_NON_FINITE} and value[_NON_FINITE] in ("inf", "-inf", "nan"):
            return float(value[_NON_FINITE])
        return {key: decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decoded(item) for item in value]
    return value


def _checked(callback: Callback, state: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``callback``'s :meth:`Callback.state_dict` output, refused now (as the checkpoint is
    written) when it is not ``(data, tensors)`` or the callback cannot load it back."""
    name = type(callback).__name__
    if not (
        isinstance(state, tuple)
        and len(state) == 2
        and isinstance(state[0], dict)
        and isinstance(state[1], dict)
    ):
        raise InputError(
            f"{name}.state_dict() returned {type(state).__name__} {state!r:.80}; expected "
            "None (no state) or a pair (data, tensors): a dict of plain JSON-able values and "
            "a dict of named arrays, e.g. return ({'best': self.best}, {})."
        )
    if type(callback).load_state_dict is Callback.load_state_dict:
        raise InputError(
            f"{name} returns a state_dict but has no load_state_dict, so a checkpoint of its "
            "state could never be resumed; write load_state_dict(data, tensors) too."
        )
    return state


def write(callbacks: Sequence[Callback]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Return the ``training.callbacks`` entry (plain data) and the extra tensors that save
    the states of ``callbacks`` (the run's, in their order)."""
    entry, tensors = {}, {}
    for key, (callback, state) in _stateful(callbacks).items():
        data, arrays = _checked(callback, state)
        entry[key] = {"config": encoded(callback.config()), "state": encoded(data),
                      "option": bool(getattr(callback, "_fit_option", False))}  # fmt: skip
        tensors.update({f"{_CALLBACK}{key}.{name}": value for name, value in arrays.items()})
    return entry, tensors


def _prefixed(tensors: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def read(
    training: dict[str, Any], extra: dict[str, np.ndarray]
) -> tuple[dict[str, CallbackState], bool]:
    """Return the saved states by key, and whether they are every stateful callback's (False
    for a checkpoint that saved early stopping's alone). ``training`` passed
    :func:`states_problem`."""
    if "callbacks" in training:
        states = training["callbacks"]
        tensors = {key: _prefixed(extra, f"{_CALLBACK}{key}.") for key in states}
        saved = {
            key: CallbackState(
                decoded(item["config"]),
                decoded(item["state"]),
                tensors[key],
                item.get("option"),
            )  # fmt: skip
            for key, item in states.items()
        }
        return saved, True
    stopping = training.get("early_stopping")
    if stopping is None:
        return {}, False
    return {EARLY_KEY: CallbackState(None, stopping, _prefixed(extra, _EARLY))}, False


def states_problem(training: dict[str, Any]) -> str | None:
    """What is wrong with a checkpoint's callbacks' states (their plain data), or None."""
    stopping = training.get("early_stopping")
    if stopping is not None:
        ok = isinstance(stopping, dict) and {"best", "best_epoch", "wait"} <= set(stopping)
        if not ok or not isinstance(stopping["wait"], int) or stopping["wait"] < 0:
            return "the early-stopping state is malformed"
    states = training.get("callbacks", {})
    if not isinstance(states, dict) or not all(
        isinstance(item, dict)
        and isinstance(item.get("config"), dict)
        and isinstance(item.get("state"), dict)
        and isinstance(item.get("option", False), bool)
        for item in states.values()
    ):
        return f"the callbacks' states are malformed ({states!r:.60})"
    return None


def match(
    saved: dict[str, CallbackState], complete: bool, callbacks: Sequence[Callback]
) -> dict[str, Callback]:
    """Pair each saved state's key with the callback of ``callbacks`` (those given to
    ``resume_trainer``) that takes it; the states of the callbacks ``fit`` made of its options
    are left to :func:`match_options`.

    Raises
    ------
    InputError
        When a saved state has no callback, a callback with a state was not in the run
        that saved them (checked when ``complete``), or their settings differ.
    """
    own = {key: state for key, state in saved.items() if not state.option}
    before = Counter(key.rpartition(".")[0] for key, state in saved.items() if state.option)
    given = {key: callback for key, (callback, _) in _stateful(callbacks, before).items()}
    marked = all(state.option is not None for state in saved.values())
    _check(own, complete, given, "the callbacks given",
           "Pass resume_trainer, and then fit, the run's original callbacks in their original "
           "order" + ("" if marked else " (a checkpoint written before fit's own callbacks "
           "were marked, of fit(early_stopping=True) or schedule='plateau', cannot give them "
           "back: start that run again)"))  # fmt: skip
    return {key: given[key] for key in own}


def match_options(
    saved: dict[str, CallbackState], complete: bool, options: Sequence[Callback]
) -> dict[str, Callback]:
    """Pair the saved states of the callbacks ``fit`` made of its options with those a
    resumed run's ``fit`` made (``options``, first in its list), as :func:`match` does."""
    mine = {key: state for key, state in saved.items() if state.option}
    given = {key: callback for key, (callback, _) in _stateful(options).items()}
    _check(mine, complete, given, "this fit's options make",
           "Give fit the run's original options (early_stopping=True and its patience, "
           "monitor, min_delta; schedule='plateau')")  # fmt: skip
    return {key: given[key] for key in mine}


def _check(
    saved: dict[str, CallbackState],
    complete: bool,
    given: dict[str, Callback],
    what: str,
    advice: str,
) -> None:
    """Refuse ``given`` (callbacks by key, as ``what`` names them) unless they are the
    callbacks whose states are ``saved``, with their settings (``advice``: what to do)."""
    missing = [key for key in saved if key not in given]
    unknown = [key for key in given if key not in saved] if complete else []
    if missing or unknown:
        problems = [f"{key} is missing" for key in missing]
        problems += [f"{key} was not in the run that wrote it" for key in unknown]
        raise InputError(
            f"the checkpoint holds the states of the callbacks [{', '.join(saved)}], but "
            f"{what} have states [{', '.join(given)}]: {'; '.join(problems)} (a key is the "
            "class and the place among the run's callbacks of that class, from 0; those fit "
            f"makes of its options come first). {advice}: a resumed run equals the "
            "uninterrupted one only with them."
        )
    differ = [
        f"{key} {name} {then!r} (now {value!r})"
        for key, state in saved.items()
        if state.config is not None  # (None: an older checkpoint, which saved no settings)
        for name, value, then in _pairs(given[key].config(), state.config)
        if encoded(value) != encoded(then)  # (tuples as lists; NaN equals NaN)
        and not _auto_as_saved(given[key], name, value, then)
    ]
    if differ:
        raise InputError(
            f"the checkpoint was written with other callback settings: {'; '.join(differ)}. "
            "A resumed run equals the uninterrupted one only with the original settings; "
            "resume with those."
        )


def _auto_as_saved(callback: Callback, name: str, value: Any, then: Any) -> bool:
    """Whether a ``mode`` of "auto" now matches the "min" or "max" a checkpoint recorded (an
    older one recorded the mode it resolved, a custom metric's as "min"): the callback is
    told, and checks the run's own reading against it when training begins
    (:func:`deltarule.callbacks._monitor.resolve_mode`)."""
    from ..callbacks._monitor import SAVED_MODE

    if name != "mode" or value != "auto" or then not in ("min", "max"):
        return False
    setattr(callback, SAVED_MODE, then)
    return True


def restore(saved: dict[str, CallbackState], matched: dict[str, Callback]) -> None:
    """Load each saved state into its :func:`match`-ed callback."""
    for key, callback in matched.items():
        state = saved[key]
        try:
            callback.load_state_dict(state.data, state.tensors)
        except (LookupError, TypeError, ValueError, ArithmeticError) as exc:
            raise IncompatibleFormatError(
                f"the checkpoint's state of {key} cannot be restored ({exc}); it is damaged. "
                "Start the run again."
            ) from exc


def _pairs(now: dict[str, Any], was: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(key, now.get(key), was.get(key)) for key in sorted(set(now) | set(was))]


def plain(value: Any) -> Any:
    """``value`` as JSON gives it back (tuples as lists), for comparing with saved data."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
