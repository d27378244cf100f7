"""Stand-ins for a model file's custom parts, so that ``inspect`` and ``draw`` can read it.

A model file names its activations and loss; :func:`~deltarule.io.load_model` rebuilds the
network from the registered objects of those names, and refuses a file whose names this
session has not registered (a custom part, registered in the user's own script). ``inspect``
and ``draw`` show the file's layers, weights and records and compute nothing with its
functions, so they need not refuse it: :func:`stand_ins` registers, for the duration of a
load, a stand-in under each missing name, whose functions raise if they are ever called.
The command then names the parts as custom (:func:`custom_note`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from ..activations import ACTIVATIONS, Activation
from ..exceptions import IncompatibleFormatError
from ..losses import LOSSES, Loss


class _Unavailable:
    """A custom part's function: zeros of the right shape while the part is made (its
    constructor's probe), an error when called after that."""

    def __init__(self, kind: str, name: str, shape: str) -> None:
        self.kind, self.name, self.shape, self.armed = kind, name, shape, False

    def __call__(self, *arrays: Any) -> np.ndarray:
        if self.armed:
            raise IncompatibleFormatError(
                f"the {self.kind} {self.name!r:.80} is a custom one that this session has not "
                f"registered; register it with deltarule.register_{self.kind}(...) to compute "
                "with this model."
            )
        first = np.asarray(arrays[0])
        return np.zeros(first.shape[0] if self.shape == "rows" else first.shape, first.dtype)


def _activation(name: str) -> Activation:
    parts = [_Unavailable("activation", name, "same"), _Unavailable("activation", name, "same")]
    made = Activation(name, parts[0], parts[1])
    for part in parts:
        part.armed = True
    return made


def _loss(name: str, parameters: dict[str, Any] | None = None) -> Loss:
    parts = [_Unavailable("loss", name, "rows"), _Unavailable("loss", name, "same")]
    made = Loss(name, parts[0], parts[1], parameters=parameters or {}, factory=_factory(name))
    for part in parts:
        part.armed = True
    return made


def _factory(name: str) -> Any:
    def make(**parameters: Any) -> Loss:
        return _loss(name, parameters)

    return make


def missing(architecture: Any) -> list[tuple[str, str]]:
    """The (kind, name) of each activation and loss of a model header's ``architecture``
    that this session has not registered, in the file's order, each once."""
    from ..io.model_file import _unregistered

    if not isinstance(architecture, dict):
        return []
    return list(dict.fromkeys(part for part in _unregistered(architecture) if part[1]))


@contextlib.contextmanager
def stand_ins(architecture: Any) -> Iterator[list[tuple[str, str]]]:
    """Register a stand-in for each of ``architecture``'s unregistered activations and loss
    while the block runs (a load), and remove them after it; yields their (kind, name)."""
    parts = missing(architecture)
    added: list[tuple[dict[str, Any], str]] = []
    try:
        for kind, name in parts:
            registry = ACTIVATIONS if kind == "activation" else LOSSES
            registry[name.lower()] = _activation(name) if kind == "activation" else _loss(name)
            added.append((registry, name.lower()))
        yield parts
    finally:
        for registry, key in added:
            registry.pop(key, None)


def custom_note(parts: list[tuple[str, str]], path: str) -> str | None:
    """One line naming the custom parts this session lacks, or None when there are none."""
    if not parts:
        return None
    named = ", ".join(f"the {kind} {name!r:.80}" for kind, name in parts)
    return (
        f"note: {path} uses {named}, custom and not registered in this session: shown by name; "
        "to predict, evaluate or explain with it, register it in Python first (see "
        "docs/recipes.md, 'Extend from outside the package')."
    )
