"""Operations at the command line: numba turned off, missing optional dependencies,
warnings turned into errors by the environment, closed standard streams, a stdout that
cannot encode Greek letters, and matplotlib under an unwritable home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deltarule import _compiled

from .cli_helpers import flowers

BUG = "this is a bug"


def run(argv: list[str], cwd: Path, shell: str = "", **env: str) -> subprocess.CompletedProcess:
    """``python -m deltarule ARGV`` in ``cwd`` with ``env`` added (``shell``: redirections
    for sh, such as ``2>&-``)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "PYTHON"))}
    environ.update(env)
    command = [sys.executable, "-m", "deltarule", *argv]
    if shell:
        command = ["sh", "-c", f'exec "$@" {shell}', "sh", *command]
    encoding = env.get("PYTHONIOENCODING", "utf-8")
    return subprocess.run(
        command, cwd=cwd, env=environ, capture_output=True, encoding=encoding, timeout=300
    )


def without(module: str, argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``deltarule ARGV`` in a Python where ``module`` cannot be imported."""
    code = (
        f"import sys; sys.modules[{module!r}] = None; from deltarule.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *argv], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """A folder with data.csv and model.safetensors trained on it."""
    path = tmp_path_factory.mktemp("ops")
    flowers().to_csv(path / "data.csv", index=False)
    done = run(["train", "data.csv", "--target", "species", "--epochs", "3", "--out",
                "model.safetensors"], path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return path


@pytest.mark.skipif(not _compiled.available(), reason="numba is not installed")
def test_numba_disable_jit_trains_through_numpy(folder) -> None:
    argv = ["train", "data.csv", "--target", "species", "--hidden", "512,128", "--epochs", "2",
            "--out", "nojit.safetensors"]  # fmt: skip
    done = run(argv, folder, NUMBA_DISABLE_JIT="1")
    assert done.returncode == 0, done.stderr
    assert (folder / "nojit.safetensors").is_file()


@pytest.mark.parametrize(
    ("module", "argv", "package"),
    [
        ("pandas", ["data", "iris", "--out", "iris.csv"], "pandas"),
        ("pandas", ["train", "data.csv", "--target", "species"], "pandas"),
        ("matplotlib", ["draw", "model.safetensors", "--out", "n.png"], "matplotlib"),
    ],
)
def test_a_missing_optional_dependency_says_how_to_install_it(folder, module, argv, package):
    done = without(module, argv, folder)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert f"optional dependency '{package}'" in lines[0]
    assert "pip install 'deltarule[cli]'" in lines[0] and BUG not in lines[0]


def test_pythonwarnings_error_still_saves_the_model(folder) -> None:
    argv = ["train", "data.csv", "--target", "species", "--epochs", "5", "--out", "pw.safetensors"]
    done = run(argv, folder, PYTHONWARNINGS="error")
    assert done.returncode == 0, done.stderr
    assert (folder / "pw.safetensors").is_file()
    assert "warning: training stopped at the maximum number of epochs" in done.stderr
    assert "--epochs" in done.stderr and BUG not in done.stderr


def test_closed_stderr_still_saves_the_model(folder) -> None:
    argv = ["train", "data.csv", "--target", "species", "--epochs", "2", "--out", "c.safetensors"]
    done = run(argv, folder, shell="2>&-")
    assert done.returncode == 0
    assert (folder / "c.safetensors").is_file()
    assert "model saved to c.safetensors" in done.stdout


def test_closed_stdout_is_named(folder) -> None:
    done = run(["predict", "model.safetensors", "data.csv"], folder, shell=">&-")
    assert done.returncode == 2
    assert done.stderr.startswith("error: cannot write to standard output: it is closed")
    assert "AttributeError" not in done.stderr and BUG not in done.stderr


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_explain_writes_to_a_stdout_that_cannot_encode_greek(folder, encoding) -> None:
    done = run(["explain", "--steps", "1"], folder, PYTHONIOENCODING=encoding)
    assert done.returncode == 0, done.stderr
    assert "learning rate \\u03b7 = 0.5" in done.stdout


def test_draw_under_an_unwritable_home_says_nothing_of_matplotlib(folder, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    home = tmp_path / "home"
    home.write_text("")  # (a file: no folder can be made in it, even by root)
    environ = {"HOME": str(home), "TMPDIR": str(tmp_path)}
    for name in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        os.environ.get(name) and environ.setdefault(name, "")
    done = run(["draw", "model.safetensors", "--out", str(tmp_path / "n.png")], folder, **environ)
    assert done.returncode == 0, done.stderr
    assert "matplotlib" not in done.stderr.lower() and "MPLCONFIGDIR" not in done.stderr
    assert (tmp_path / "n.png").is_file()
    assert list(tmp_path.glob("deltarule-matplotlib-*"))
