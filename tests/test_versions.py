"""The report of versions and compute backends (:mod:`deltarule.versions`): plain data, the
libraries' states as the environment and the process say, only the variables that are set."""

from __future__ import annotations

import ctypes.util
import importlib.metadata
import io
import json
import platform
import sys

import pytest
from conftest import forget_mkl, forget_onednn

import deltarule as dr
from deltarule import _blas, _compiled, _minibatch, _mkl, _onednn, versions

SECTIONS = ("System:", "Python dependencies:", "Matrix products:", "Compiled kernels:",
            "Environment:")  # fmt: skip


def plain(value) -> bool:
    """True when ``value`` is made of JSON's types only (no numpy scalars, no tuples)."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(map(plain, value))
    return value is None or type(value) in (str, int, float, bool)


@pytest.fixture
def clean_environment(monkeypatch):
    """None of the reported variables set (the switches read afresh after the test)."""
    _compiled.available()  # (numba reads NUMBA_CACHE_DIR and its other variables once, at
    # its import: imported here, before they are unset, as the user's session set them)
    for name in (*versions.ENVIRONMENT, _compiled.SWITCH):
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch
    forget_mkl()
    forget_onednn()


def test_the_data_has_its_keys_and_plain_types() -> None:
    info = versions.versions()
    assert set(info) == {"deltarule", "python", "platform", "cpu", "packages", "products",
                         "compiled_kernels", "threads", "environment"}  # fmt: skip
    assert plain(info)
    assert info["deltarule"] == dr.__version__
    assert info["python"]["version"] == platform.python_version()
    assert info["cpu"]["cores"] == _blas.cpus() >= 1
    assert list(info["packages"]) == list(versions.PACKAGES)
    assert info["packages"]["numpy"] == importlib.metadata.version("numpy")
    assert set(info["products"]) == {"numpy_blas", "mkl", "onednn"}
    for name in ("mkl", "onednn"):
        assert set(info["products"][name]) == {"status", "library", "note"}
    blas = info["products"]["numpy_blas"]
    assert blas["threads"] == _blas.pool_threads()
    if _blas._numpy_openblas() is not None:
        assert "openblas" in blas["library"].lower() and "/" not in blas["library"]
    kernels = info["compiled_kernels"]
    assert kernels["available"] is _compiled.available()
    assert (kernels["reason"] is None) is kernels["available"]
    threads = info["threads"]
    assert threads["max_threads"] == _minibatch.MAX_THREADS
    assert threads["controls_numpy_pool"] is _blas.controls_threads()
    if threads["compiled_steps"] is not None:
        assert 1 <= threads["compiled_steps"] <= min(_blas.cpus(), _minibatch.MAX_THREADS)


def test_the_json_round_trip_gives_the_same_data() -> None:
    info = versions.versions()
    assert json.loads(json.dumps(info, allow_nan=False)) == info


def test_show_versions_prints_every_section_in_order() -> None:
    out = io.StringIO()
    dr.show_versions(file=out)
    text = out.getvalue()
    positions = [text.index(f"\n{title}\n" if i else f"{title}\n") for i, title in
                 enumerate(SECTIONS)]  # fmt: skip
    assert positions == sorted(positions) and positions[0] == 0
    assert f"numpy: {importlib.metadata.version('numpy')}\n" in text
    assert "show_versions" in dr.__all__ and dr.show_versions is versions.show_versions


def test_show_versions_writes_to_stdout_by_default(capsys) -> None:
    dr.show_versions()
    assert capsys.readouterr().out.startswith("System:\n")


def not_installed(monkeypatch, missing: str) -> None:
    """Make importlib.metadata say that the distribution ``missing`` is not installed."""
    real = importlib.metadata.version

    def version(name: str) -> str:
        if name == missing:
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", version)


def test_a_package_not_installed_is_none(monkeypatch) -> None:
    real = importlib.metadata.version
    not_installed(monkeypatch, "pandas")
    info = versions.versions()
    assert info["packages"]["pandas"] is None
    assert info["packages"]["numpy"] == real("numpy")
    assert "pandas: not installed\n" in versions.text_report(info)


def test_the_environment_lists_only_the_variables_set(clean_environment) -> None:
    assert versions.versions()["environment"] == {}
    assert "(none set)" in versions.text_report(versions.versions())
    clean_environment.setenv("OPENBLAS_NUM_THREADS", "3")
    clean_environment.setenv("DELTARULE_SHAPED", "0")
    clean_environment.setenv("UNRELATED_VARIABLE", "1")
    environment = versions.versions()["environment"]
    assert environment == {"OPENBLAS_NUM_THREADS": "3", "DELTARULE_SHAPED": "0"}


def test_the_compiled_switch_is_listed_by_its_name(clean_environment) -> None:
    clean_environment.setattr(_compiled, "SWITCH", "DELTARULE_RENAMED_SWITCH")
    clean_environment.setenv("DELTARULE_RENAMED_SWITCH", "off")
    assert versions._environment() == {"DELTARULE_RENAMED_SWITCH": "off"}


def test_a_control_character_in_a_value_is_shown_escaped(clean_environment) -> None:
    clean_environment.setenv("OMP_NUM_THREADS", "2\x1b[31m")
    text = versions.text_report(versions.versions())
    assert "\x1b" not in text and "OMP_NUM_THREADS: '2\\x1b[31m'" in text


def test_a_switched_off_mkl_reports_switched_off(clean_environment) -> None:
    if _mkl.library_path() is None:  # (without the wheel: as if it were there)
        clean_environment.setattr(_mkl, "library_path", lambda: "/nowhere/libmkl_rt.so.2")
    clean_environment.setenv(_mkl.SWITCH, "0")
    forget_mkl()
    mkl = versions.versions()["products"]["mkl"]
    assert mkl["status"] == versions.SWITCHED_OFF
    assert mkl["note"] == "DELTARULE_MKL=0" and mkl["library"].startswith("libmkl_rt")
    assert not _mkl.available()


def test_a_switched_off_onednn_reports_switched_off(clean_environment) -> None:
    if _onednn.library_path() is None:
        clean_environment.setattr(_onednn, "library_path", lambda: "/nowhere/libdnnl.so.3")
    clean_environment.setenv(_onednn.SWITCH, "Off")
    forget_onednn()
    onednn = versions.versions()["products"]["onednn"]
    assert onednn["status"] == versions.SWITCHED_OFF and onednn["note"] == "DELTARULE_ONEDNN=Off"
    text = versions.text_report(versions.versions())
    assert "oneDNN: switched off (libdnnl.so" in text


def test_a_library_not_installed_says_so(clean_environment) -> None:
    clean_environment.setattr(_mkl, "library_path", lambda: None)
    clean_environment.setattr(_onednn, "library_path", lambda: None)
    products = versions.versions()["products"]
    assert products["mkl"]["status"] == products["onednn"]["status"] == versions.NOT_INSTALLED
    assert products["mkl"]["library"] is None and "deltarule[onednn]" in products["onednn"]["note"]


@pytest.mark.skipif(_onednn.library_path() is None, reason="the onednn-cpu-gomp wheel is absent")
def test_onednn_loaded_and_mkl_unused_reports_onednn_used(clean_environment) -> None:
    if not _compiled.available():
        pytest.skip("the compiled kernels cannot run: neither library is used")
    clean_environment.setenv(_mkl.SWITCH, "0")
    forget_mkl()
    forget_onednn()
    products = versions.versions()["products"]
    assert products["mkl"]["status"] == versions.SWITCHED_OFF
    want = versions.USED if _onednn.available() else versions.NOT_LOADED
    assert products["onednn"]["status"] == want


@pytest.mark.skipif(_mkl.library_path() is None, reason="the mkl wheel is not installed")
def test_a_misspelt_switch_is_named_in_a_warning(clean_environment) -> None:
    if not _compiled.available():
        pytest.skip("the compiled kernels cannot run: MKL is not asked for")
    clean_environment.setenv(_mkl.SWITCH, "maybe")
    forget_mkl()
    with pytest.warns(RuntimeWarning, match="DELTARULE_MKL='maybe'"):
        versions.versions()


@pytest.fixture
def found_afresh(clean_environment):
    """Whether the kernels can run is found again in the test (and after it)."""
    _compiled.unavailable.cache_clear()
    yield clean_environment
    _compiled.unavailable.cache_clear()


def test_kernels_that_cannot_run_say_why_and_use_no_library(found_afresh) -> None:
    found_afresh.setenv(_compiled.SWITCH, "no")
    info = versions.versions()
    assert info["compiled_kernels"] == {
        "available": False, "reason": f"{_compiled.SWITCH}=no turns them off"
    }  # fmt: skip
    assert not _compiled.available()
    assert info["threads"]["compiled_steps"] is None
    assert versions.USED not in (info["products"]["mkl"]["status"],
                                 info["products"]["onednn"]["status"])  # fmt: skip
    assert "available: no: DELTARULE_NUMBA=no turns them off" in versions.text_report(info)


def test_numbas_pure_python_mode_is_named(found_afresh) -> None:
    numba = pytest.importorskip("numba")
    found_afresh.setattr(numba.config, "DISABLE_JIT", True)
    assert "NUMBA_DISABLE_JIT" in versions.versions()["compiled_kernels"]["reason"]


def test_numba_not_installed_is_named(found_afresh) -> None:
    found_afresh.setitem(sys.modules, "numba", None)  # (its import raises ImportError)
    not_installed(found_afresh, "numba")
    assert versions._compiled_kernels()["reason"].startswith("numba is not installed")


def test_numba_installed_that_cannot_be_imported_says_so(found_afresh) -> None:
    # (numba refuses a NumPy newer than it supports with an ImportError)
    pytest.importorskip("numba")
    found_afresh.setitem(sys.modules, "numba", None)
    reason = versions._compiled_kernels()["reason"]
    assert reason.startswith("numba is installed but cannot be imported: "), reason


def test_kernels_that_can_run_give_no_reason(found_afresh) -> None:
    numba = pytest.importorskip("numba")
    if numba.config.DISABLE_JIT:
        pytest.skip("NUMBA_DISABLE_JIT is set in this session")
    assert versions._compiled_kernels() == {"available": True, "reason": None}


def test_openblas_core_name_is_none_without_its_function() -> None:
    libm = ctypes.util.find_library("m")
    if libm is not None:
        assert versions._corename(libm) is None
    assert versions._corename("/nowhere/libopenblas.so") is None


def test_the_cpu_model_comes_from_cpuinfo(tmp_path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: X\nmodel name\t: Test CPU @ 3.0GHz\n")
    assert versions._cpu_model(str(cpuinfo)) == "Test CPU @ 3.0GHz"
    fallback = versions._cpu_model(str(tmp_path / "missing"))
    assert fallback is None or (isinstance(fallback, str) and fallback)


def test_steps_in_one_thread_use_neither_mkl_nor_onednn(clean_environment) -> None:
    # the compiled steps and predict call MKL's or oneDNN's products from several threads only
    clean_environment.setattr(_minibatch, "THREADS", 1)
    info = versions.versions()
    assert info["threads"]["compiled_steps"] in (1, None)
    for name in ("mkl", "onednn"):
        assert info["products"][name]["status"] != versions.USED
        if info["products"][name]["library"] and info["compiled_kernels"]["available"]:
            assert info["products"][name]["note"] == versions.ONE_THREAD
    if info["compiled_kernels"]["available"]:
        assert "the steps run in one thread" in versions.text_report(info)


@pytest.mark.skipif(_mkl.library_path() is None, reason="the mkl wheel is not installed")
def test_mkl_asked_for_but_not_loaded_says_so(clean_environment) -> None:
    clean_environment.setenv(_mkl.SWITCH, "1")
    clean_environment.setattr(_mkl, "_library", lambda: None)  # (as a library that fails)
    info = versions.versions()
    if not (info["threads"]["compiled_steps"] or 0) > 1:
        pytest.skip("the compiled steps run in one thread here: MKL is not asked for")
    entry = info["products"]["mkl"]
    assert entry["status"] == versions.NOT_LOADED
    assert entry["note"].startswith("DELTARULE_MKL asks for it")


def test_a_switch_value_that_is_not_printable_is_shown_escaped(clean_environment) -> None:
    clean_environment.setenv(_onednn.SWITCH, "off\n")
    entry = versions.versions()["products"]["onednn"]
    if entry["library"] is None:
        pytest.skip("oneDNN is not installed")
    assert entry == {"status": versions.SWITCHED_OFF, "library": entry["library"],
                     "note": "DELTARULE_ONEDNN='off\\n'"}  # fmt: skip
