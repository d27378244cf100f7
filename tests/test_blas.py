"""Finding NumPy's own BLAS for the compiled kernels, and doing without it."""

from __future__ import annotations

import os

import numpy as np
import pytest

from deltarule import _blas


def test_numpy_openblas_is_found_among_the_mapped_files_or_not_at_all(tmp_path) -> None:
    package = os.path.dirname(os.path.realpath(np.__file__))
    library = os.path.join(os.path.dirname(package), "numpy.libs", "libscipy_openblas64_-x.so")
    maps = tmp_path / "maps"
    maps.write_text(
        "7f00-7f01 r--p 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libopenblas.so.0\n"
        f"7f02-7f03 r-xp 00000000 08:01 2 {library}\n"
        "7f04-7f05 rw-p 00000000 00:00 0\n"
    )
    # another OpenBLAS (the system's) is not NumPy's: only the one in NumPy's wheel counts
    assert _blas._numpy_openblas(str(maps)) == library
    maps.write_text("7f00-7f01 r--p 00000000 08:01 1 /usr/lib/libopenblas.so.0\n")
    assert _blas._numpy_openblas(str(maps)) is None
    assert _blas._numpy_openblas(str(tmp_path / "missing")) is None


def test_numpy_reached_through_a_symbolic_link_is_found(tmp_path, monkeypatch) -> None:
    # a linked virtual environment: np.__file__ names the link, the process's map the target
    real = os.path.dirname(os.path.dirname(os.path.realpath(np.__file__)))
    link = tmp_path / "site-packages"
    link.symlink_to(real, target_is_directory=True)
    library = os.path.join(real, "numpy.libs", "libscipy_openblas64_-x.so")
    maps = tmp_path / "maps"
    maps.write_text(f"7f02-7f03 r-xp 00000000 08:01 2 {library}\n")
    monkeypatch.setattr(np, "__file__", str(link / "numpy" / "__init__.py"))
    assert _blas._numpy_openblas(str(maps)) == library


def test_without_the_library_the_addresses_are_zero(monkeypatch) -> None:
    monkeypatch.setattr(_blas, "_numpy_openblas", lambda: None)
    _blas.gemm_addresses.cache_clear()
    try:
        assert _blas.gemm_addresses() == (0, 0)
        assert _blas.gemm_address(np.float32) == 0
    finally:
        _blas.gemm_addresses.cache_clear()


def test_a_library_without_the_symbols_gives_zero(monkeypatch) -> None:
    import ctypes.util

    libm = ctypes.util.find_library("m")
    if libm is None:
        pytest.skip("no C math library to stand in")
    monkeypatch.setattr(_blas, "_numpy_openblas", lambda: libm)
    _blas.gemm_addresses.cache_clear()
    try:
        assert _blas.gemm_addresses() == (0, 0)
    finally:
        _blas.gemm_addresses.cache_clear()


def test_this_numpy_exposes_its_gemm_when_it_ships_openblas() -> None:
    path = _blas._numpy_openblas()
    single, double = _blas.gemm_addresses()
    if path is None:  # a NumPy built against another BLAS: the kernels use numba's np.dot
        assert (single, double) == (0, 0)
    else:
        assert "openblas" in os.path.basename(path).lower()
        assert single and double and single != double


needs_thread_control = pytest.mark.skipif(
    not _blas.controls_threads(), reason="NumPy's OpenBLAS thread functions were not found"
)


@needs_thread_control
def test_single_threaded_holds_the_pool_at_one_thread_and_restores_it() -> None:
    import threading

    size = _blas.pool_threads()
    with _blas.single_threaded():
        assert _blas.pool_threads() == 1
        inner_seen = []
        # blocks running at once in other threads (or nested) end with the first one's size
        other = threading.Thread(target=lambda: inner_seen.append(_run_block()))
        other.start()
        other.join()
        assert inner_seen == [1] and _blas.pool_threads() == 1
    assert _blas.pool_threads() == size


@needs_thread_control
def test_while_a_block_holds_the_pool_others_see_the_users_limit() -> None:
    # (a fit or predict starting while another thread's steps held the pool at one chose
    # one thread, hence other products and other bits than when it ran alone)
    import threading

    usable = _blas.usable_threads()
    seen = []
    with _blas.single_threaded():
        assert _blas.pool_threads() == 1
        other = threading.Thread(target=lambda: seen.append(_blas.usable_threads()))
        other.start()
        other.join()
    assert seen == [usable]


@needs_thread_control
def test_a_size_set_during_a_block_is_kept() -> None:
    size = _blas.pool_threads()
    get, put = _blas._thread_functions()
    try:
        with _blas.single_threaded():
            put(3)  # e.g. threadpoolctl in another thread
        assert _blas.pool_threads() == 3
    finally:
        put(size)


@needs_thread_control
def test_a_child_forked_while_the_pool_is_held_gets_it_back() -> None:
    # (a process forked while another thread trained kept NumPy on one thread for good)
    import os

    size = _blas.pool_threads()
    with _blas.single_threaded():
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report its pool and the blocks it thinks run, then leave
            os.write(write, f"{_blas.pool_threads()} {len(_blas._HOLDERS)}".encode())
            os._exit(0)
        os.close(write)
        reported = os.read(read, 64).decode()
        os.waitpid(pid, 0)
        os.close(read)
    assert reported == f"{size} 0"


def _run_block() -> int:
    with _blas.single_threaded():
        return _blas.pool_threads()


@needs_thread_control
def test_single_threaded_restores_after_an_error() -> None:
    size = _blas.pool_threads()
    with pytest.raises(ZeroDivisionError), _blas.single_threaded():
        1 / 0  # noqa: B018
    assert _blas.pool_threads() == size


def test_without_the_library_thread_control_does_nothing(monkeypatch) -> None:
    monkeypatch.setattr(_blas, "_thread_functions", lambda: None)
    assert not _blas.controls_threads() and _blas.pool_threads() == 1
    with _blas.single_threaded():
        pass
