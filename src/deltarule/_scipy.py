"""scipy's modules, imported when first used.

``import scipy.special`` alone costs about 0.25 s and ``scipy.optimize`` 0.15 s, most of
``import deltarule``; the command line's ``--help``, ``inspect`` or a ReLU network's
``predict`` need neither. The functions here import on their first call (later calls find
the module in ``sys.modules``).
"""

from __future__ import annotations

from types import ModuleType

__all__ = ["linalg", "optimize", "special"]


def special() -> ModuleType:
    """:mod:`scipy.special` (``expit``, ``erf``, ``xlogy``)."""
    import scipy.special

    return scipy.special


def optimize() -> ModuleType:
    """:mod:`scipy.optimize` (L-BFGS-B)."""
    import scipy.optimize

    return scipy.optimize


def linalg() -> ModuleType:
    """:mod:`scipy.linalg` (Levenberg–Marquardt's solve)."""
    import scipy.linalg

    return scipy.linalg
