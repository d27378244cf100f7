"""scipy is imported when first used, not with the package (see deltarule._scipy)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import special

import deltarule as dr
from deltarule.activations import get_activation
from deltarule.losses import get_loss


def test_the_package_and_its_command_line_load_without_scipy() -> None:
    # (import deltarule took 0.42 s, 0.26 of them scipy.special and scipy.optimize; the
    # command line's --help took 0.47 s, now about half)
    code = (
        "import sys, deltarule, deltarule.cli; "
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'); "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_relu_network_predicts_without_scipy() -> None:
    code = (
        "import sys, numpy as np, deltarule as dr; "
        "net = dr.Network([3, 4, 2], output_activation='softmax', seed=0); "
        "net.predict(np.ones((2, 3))); "
        "assert not any(m.split('.')[0] == 'scipy' for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_functions_taken_lazily_are_scipys() -> None:
    z = np.linspace(-30, 30, 61)
    np.testing.assert_array_equal(get_activation("sigmoid")(z), special.expit(z))
    np.testing.assert_array_equal(get_activation("silu")(z), z * special.expit(z))
    gelu = 0.5 * z * (1 + special.erf(z / np.sqrt(2)))
    np.testing.assert_allclose(get_activation("gelu")(z), gelu, rtol=1e-15, atol=1e-300)
    t, o = np.array([[0.0, 2.0]]), np.array([[0.5, 1.5]])
    deviance = np.mean(2 * (special.xlogy(t, t) - special.xlogy(t, o) - t + o), axis=1)
    np.testing.assert_allclose(get_loss("poisson_deviance").value(o, t), deviance)


def test_a_users_activation_is_still_probed() -> None:
    # (the built-ins skip the probe at import; every object made after is probed)
    with pytest.raises(dr.InputError, match="function\\(z\\) failed"):
        dr.Activation("bad", lambda z: z.nope, lambda z, a: a)
