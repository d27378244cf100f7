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


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("load_model", "deltarule.io.load_model (from deltarule.io import load_model)"),
        ("load", "deltarule.io.load_model (from deltarule.io import load_model)"),
        ("save_model", "deltarule.io.save_model (from deltarule.io import save_model)"),
        ("EarlyStopping", "deltarule.callbacks.EarlyStopping (from deltarule.callbacks import"),
        ("ModelCheckpoint", "deltarule.callbacks.ModelCheckpoint"),
        ("MLPClassifier", "deltarule.sklearn.MLPClassifier (from deltarule.sklearn import"),
        ("MLPRegressor", "deltarule.sklearn.MLPRegressor"),
        ("Adam", "deltarule.optimizers.Adam (from deltarule.optimizers import Adam)"),
        ("SGD", "deltarule.optimizers.SGD"),
    ],
)
def test_a_name_of_a_submodule_says_where_it_is(name, where):
    # (a bare "module 'deltarule' has no attribute 'load_model'")
    with pytest.raises(AttributeError) as caught:
        getattr(dr, name)
    message = str(caught.value)
    assert message.startswith(f"module 'deltarule' has no attribute {name!r}; it is {where}")
    assert not hasattr(dr, name)


def test_every_name_the_hints_place_is_there():
    import importlib

    for module, names in dr._ELSEWHERE.items():
        for name in names:
            assert hasattr(importlib.import_module(f"deltarule.{module}"), name), (module, name)
    assert set(dr._ALIASES.values()) <= {n for names in dr._ELSEWHERE.values() for n in names}


def test_the_hints_import_no_submodule():
    script = (
        "import sys, deltarule as dr\n"
        "assert not hasattr(dr, 'load_model') and not hasattr(dr, 'MLPClassifier')\n"
        "print(sorted(m for m in sys.modules if m.startswith('deltarule')))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "['deltarule']"), done.stderr
