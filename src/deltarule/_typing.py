"""Array aliases and small shared protocols used across the package."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.floating]
"""A floating-point NumPy array (float32 or float64)."""

ArrayLike = npt.ArrayLike
DTypeLike = str | type | np.dtype
SeedLike = None | int | np.random.Generator

ValidationData = tuple[ArrayLike, ArrayLike] | tuple[ArrayLike, ArrayLike, ArrayLike | None]
"""A fit's ``validation_data``: ``(X_val, y_val)`` or ``(X_val, y_val, sample_weight_val)``."""
