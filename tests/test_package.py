"""The package's namespace (``deltarule/__init__.py``): names loaded when first used."""

from __future__ import annotations

import subprocess
import sys

import pytest

import deltarule as dr

SCRIPT = """
import sys
import deltarule as dr
assert "numpy" not in sys.modules, "import deltarule loaded numpy"
assert "Network" in dir(dr) and "training" not in sys.modules
net = dr.Network([2, 2, 1], seed=0)
assert "numpy" in sys.modules
assert dr.training.fit is dr.fit and dr.callbacks.EarlyStopping.__name__ == "EarlyStopping"
from deltarule import *
assert Trainer is dr.Trainer and InputError is dr.exceptions.InputError
print("ok")
"""


def test_import_loads_nothing_until_a_name_is_used():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_every_public_name_resolves_and_unknown_names_raise():
    for name in dr.__all__:
        assert getattr(dr, name) is not None
    with pytest.raises(AttributeError, match="has no attribute 'nothing_here'"):
        dr.nothing_here  # noqa: B018
    assert not hasattr(dr, "__wrapped__")
    # not names at all: AttributeError (hasattr is False), not an import of "deltarule."
    for odd in (".x", "io.model_file", "", "1x"):
        assert not hasattr(dr, odd), odd
