"""Operations: numba's cache on a read-only install, numba turned off, and the Makefile's
venv (a Python too old, a half-made venv)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from deltarule import _compiled

REPO = Path(__file__).resolve().parents[1]

READ_ONLY = textwrap.dedent(
    """
    import os, tempfile
    from numba.core import caching

    ensure = caching._CacheLocator.ensure_cache_path

    def read_only(self):  # a read-only install and an unwritable home: only temp is writable
        if not os.path.abspath(self.get_cache_path()).startswith(tempfile.gettempdir() + os.sep):
            raise PermissionError(13, "Permission denied")
        return ensure(self)

    caching._CacheLocator.ensure_cache_path = read_only
    """
)


def python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "DELTARULE_"))}
    environ.update(TMPDIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=300
    )


needs_numba = pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")


@needs_numba
def test_read_only_install_caches_kernels_in_a_private_temp_folder(tmp_path) -> None:
    code = READ_ONLY + textwrap.dedent(
        """
        from deltarule import _compiled
        assert _compiled.available()
        import deltarule._jit  # (numba refused: "cannot cache function ...: no locator")
        from numba.core import config
        print(config.CACHE_DIR)
        """
    )
    done = python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert folder.parent == tmp_path and folder.name.startswith("deltarule-numba-")
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0


@needs_numba
def test_read_only_install_trains_through_the_kernel(tmp_path) -> None:
    code = READ_ONLY + textwrap.dedent(
        """
        import warnings
        from deltarule import _compiled
        from deltarule.textbook import tutorial_network
        from deltarule.training import Trainer
        runs = []
        run = _compiled.OnlineKernel.run
        _compiled.OnlineKernel.run = lambda self, *a, **k: runs.append(1) or run(self, *a, **k)
        net, X, y = tutorial_network()
        warnings.simplefilter("ignore")
        history = Trainer(net, "sgd", 0.5, 1, seed=0, metrics=[]).fit(X, y, epochs=5, verbose=0)
        print(len(runs), len(history))
        """
    )
    done = python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "5"]
    assert any(tmp_path.glob("deltarule-numba-*/*/_jit.*.nbi"))


@needs_numba
def test_an_explicit_numba_cache_dir_is_kept(tmp_path) -> None:
    code = READ_ONLY + textwrap.dedent(
        """
        from deltarule import _compiled
        assert _compiled.available()
        import deltarule._jit
        from numba.core import config
        print(config.CACHE_DIR)
        """
    )
    done = python(code, tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "mine"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "mine")
    assert not list(tmp_path.glob("deltarule-numba-*"))


@needs_numba
@pytest.mark.parametrize(
    ("name", "value", "numba_loaded"),
    [("NUMBA_DISABLE_JIT", "1", "True"), ("DELTARULE_NUMBA", "0", "False")],
)
def test_numba_turned_off_means_the_numpy_path(tmp_path, name, value, numba_loaded) -> None:
    code = "import sys; from deltarule import _compiled; "
    code += "print(_compiled.available(), 'numba' in sys.modules)"
    done = python(code, tmp_path, **{name: value})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", numba_loaded]


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and modes")
def test_a_shared_folder_others_can_write_is_not_used(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    shared = tmp_path / f"deltarule-numba-{os.getuid()}"
    shared.mkdir()
    shared.chmod(0o777)
    folder = _compiled.private_folder("deltarule-numba")
    assert folder is not None and Path(folder) != shared and Path(folder).parent == tmp_path
    shared.chmod(0o700)
    assert _compiled.private_folder("deltarule-numba") == str(shared)


# ------------------------------------------------------------------ Makefile
def fake_python(folder: Path, script: str) -> Path:
    path = folder / "fakepython"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def make(tmp_path: Path, python: Path) -> subprocess.CompletedProcess:
    shutil.copy(REPO / "Makefile", tmp_path / "Makefile")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return subprocess.run(
        ["make", "demo", f"PYTHON={python}"], cwd=tmp_path, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@needs_make
def test_make_refuses_a_python_too_old_before_making_a_venv(tmp_path) -> None:
    old = fake_python(
        tmp_path,
        'case "$1" in\n  --version) echo "Python 3.9.18";;\n  -c) exit 1;;\n'
        '  -m) mkdir -p .venv/bin && cp "$0" .venv/bin/python;;\nesac\n',
    )
    done = make(tmp_path, old)
    assert done.returncode != 0
    assert "needs Python 3.10 or newer" in done.stderr and "Python 3.9.18" in done.stderr
    assert not (tmp_path / ".venv").exists()


@needs_make
def test_make_removes_a_half_made_venv(tmp_path) -> None:
    half = fake_python(  # (python3-venv missing: the venv is left without pip, and it fails)
        tmp_path,
        'case "$1" in\n  -m) mkdir -p .venv/bin && touch .venv/bin/python; exit 1;;\nesac\n',
    )
    done = make(tmp_path, half)
    assert done.returncode != 0
    assert "python3-venv" in done.stderr
    assert not (tmp_path / ".venv").exists()


@needs_make
def test_make_names_a_venv_made_by_a_python_too_old(tmp_path) -> None:
    venv = tmp_path / ".venv" / "bin"
    venv.mkdir(parents=True)
    fake_python(venv, 'case "$1" in\n  --version) echo "Python 3.9.18";;\n  -c) exit 1;;\nesac\n')
    (venv / "fakepython").rename(venv / "python")
    done = make(tmp_path, Path(sys.executable))
    assert done.returncode != 0
    assert ".venv was made by Python 3.9.18" in done.stderr and "make clean" in done.stderr
