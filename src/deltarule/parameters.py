"""The flat parameter buffer: names, shapes, offsets and views.

All of a network's parameters live in one contiguous 1-D array; each layer's
weight matrix and bias vector is a *view* into it (llm.c's single allocation).
Gradients and optimizer state mirror the same layout, so an optimizer step is a
few vector expressions, a checkpoint is one array plus this layout, and a
gradient check perturbs index ``i``.

Rule: views are never rebound; updates are in place.

Examples
--------
>>> import numpy as np
>>> layout = ParameterLayout([("W1", (2, 3)), ("b1", (2,))])
>>> flat = np.arange(layout.size, dtype=float)
>>> W1, b1 = layout.views(flat)
>>> W1[0, 0] = 10.0
>>> float(flat[0])
10.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import prod

import numpy as np

from . import _memory
from .exceptions import InputError

__all__ = ["ParameterSpec", "ParameterLayout"]


@dataclass(frozen=True)
class ParameterSpec:
    """One named tensor inside the flat buffer: ``flat[offset:offset+size].reshape(shape)``."""

    name: str
    shape: tuple[int, ...]
    offset: int

    @property
    def size(self) -> int:
        return prod(self.shape)

    @property
    def slice(self) -> slice:
        return slice(self.offset, self.offset + self.size)


class ParameterLayout:
    """The order, names and shapes of the tensors packed into one flat buffer.

    Parameters
    ----------
    entries : sequence of (name, shape)
        Tensors in buffer order.
    """

    def __init__(self, entries: Sequence[tuple[str, tuple[int, ...]]]) -> None:
        specs: list[ParameterSpec] = []
        offset = 0
        for name, shape in entries:
            spec = ParameterSpec(name, tuple(int(s) for s in shape), offset)
            specs.append(spec)
            offset += spec.size
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise InputError(f"parameter names must be unique; received {names}.")
        self.specs: tuple[ParameterSpec, ...] = tuple(specs)
        self.size: int = offset
        self._by_name = {s.name: s for s in specs}

    def __repr__(self) -> str:
        inner = ", ".join(f"{s.name}{s.shape}" for s in self.specs)
        return f"ParameterLayout([{inner}], size={self.size})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParameterLayout) and self.specs == other.specs

    def __hash__(self) -> int:
        return hash(self.specs)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    def __getitem__(self, name: str) -> ParameterSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise InputError(
                f"no parameter named {name!r}; the network has {', '.join(self.names)}."
            ) from None

    def allocate(self, dtype: np.dtype) -> np.ndarray:
        """Return a new zeroed flat buffer of this layout's size (starting on a cache
        line: :mod:`deltarule._memory`)."""
        return _memory.zeros(self.size, dtype)

    def views(self, flat: np.ndarray) -> list[np.ndarray]:
        """Return one view per tensor, in layout order; writing to a view writes ``flat``."""
        if flat.ndim != 1 or flat.shape[0] != self.size:
            raise InputError(
                f"flat parameter vector has shape {flat.shape}; expected ({self.size},)."
            )
        return [flat[s.slice].reshape(s.shape) for s in self.specs]

    def view(self, flat: np.ndarray, name: str) -> np.ndarray:
        """Return the view of one named tensor."""
        spec = self[name]
        return flat[spec.slice].reshape(spec.shape)

    def mask(self, names: Sequence[str], dtype: type = bool) -> np.ndarray:
        """Return a flat mask that is 1 on the named tensors and 0 elsewhere."""
        mask = np.zeros(self.size, dtype=dtype)
        for name in names:
            mask[self[name].slice] = 1
        return mask
