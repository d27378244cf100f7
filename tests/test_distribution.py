"""The built distributions: the wheel carries the package, its licence and type marker;
the source distribution also carries what its own test suite and README need."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import deltarule

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".venv", "__pycache__", "*.egg-info", "build", "dist", ".*cache",
                              "artifacts", "results", ".hypothesis", ".git")  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """An sdist and a wheel built by setuptools from a copy of the project's files."""
    pytest.importorskip("setuptools", minversion="77")  # (the test extra has it)
    work = tmp_path_factory.mktemp("dist")
    source = work / "project"
    shutil.copytree(ROOT, source, ignore=SKIP)
    out = work / "out"
    script = (
        "import sys; from setuptools import build_meta as b; out = sys.argv[1]; "
        "s = b.build_sdist(out); w = b.build_wheel(out); "
        "print('BUILT', s, w)"
    )
    done = subprocess.run([sys.executable, "-c", script, str(out)], cwd=source,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("BUILT "))
    sdist, wheel = line.split()[1:]
    return {"sdist": out / sdist, "wheel": out / wheel}


def test_the_wheel_holds_the_package_licence_and_type_marker(built):
    names = zipfile.ZipFile(built["wheel"]).namelist()
    assert "deltarule/py.typed" in names and "deltarule/cli/__init__.py" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), names[-10:]
    assert not any(n.startswith("tests/") or "__pycache__" in n for n in names)
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(built["wheel"]).read(meta).decode()
    # the version is written once, in deltarule/__init__.py
    assert f"\nVersion: {deltarule.__version__}\n" in text


def test_the_sdist_holds_what_its_tests_and_readme_need(built):
    with tarfile.open(built["sdist"]) as archive:
        names = {"/".join(n.split("/")[1:]) for n in archive.getnames()}
    needed = ["LICENSE", "README.md", "Makefile", "tests/conftest.py", "tests/cli/cli_helpers.py",
              "tests/io/fixtures/model_v1.safetensors", "docs/file-format.md",
              "benchmarks/run.py", "src/deltarule/py.typed"]  # fmt: skip
    assert [name for name in needed if name not in names] == []
    assert not any("__pycache__" in n or n.startswith("benchmarks/results/") for n in names)
