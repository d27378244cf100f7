"""JSON text that any parser reads: non-finite numbers become ``null``.

RFC 8259 has no ``Infinity`` or ``NaN``, which Python's :func:`json.dumps` writes by default
(a diverged run's error, say) and which ``JSON.parse`` and strict parsers reject.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["dumps"]


def _finite(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def dumps(data: Any, **options: Any) -> str:
    """:func:`json.dumps` of ``data`` with every non-finite float as ``null``."""
    return json.dumps(_finite(data), allow_nan=False, **options)
