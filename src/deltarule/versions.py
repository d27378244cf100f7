"""Which versions, libraries and threads compute deltarule's matrix products: a report to
include in speed comparisons (scikit-learn's ``show_versions``, PyTorch's ``collect_env``).

:func:`versions` gathers it as plain JSON-able data; :func:`show_versions` prints it as
text (``deltarule versions`` at the command line). Besides the system and the packages'
versions it says who computes the products — NumPy's BLAS (its library, its pool's
threads, OpenBLAS's core), MKL and oneDNN (used, switched off, installed but unused, or
not installed) —, whether the compiled kernels can run (and why not), how many threads
the compiled training steps take, and the environment variables that change speed or
results.

An edge of the package: nothing in the core imports it.

Examples
--------
>>> import deltarule
>>> report = deltarule.versions.versions()
>>> sorted(report)  # doctest: +NORMALIZE_WHITESPACE
['compiled_kernels', 'cpu', 'deltarule', 'environment', 'packages', 'platform', 'products',
 'python', 'threads']
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import os
import platform
import sys
from typing import Any, TextIO

__all__ = ["versions", "show_versions", "text_report", "PACKAGES", "ENVIRONMENT"]

PACKAGES = ("numpy", "scipy", "numba", "llvmlite", "scikit-learn", "pandas", "pyarrow",
            "matplotlib", "tqdm", "threadpoolctl", "mkl", "onednn-cpu-gomp")  # fmt: skip
"""The distributions whose versions are reported (None when not installed)."""

ENVIRONMENT = (
    "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ONEDNN_VERBOSE",
    "DNNL_VERBOSE", "DELTARULE_MKL", "DELTARULE_ONEDNN", "DELTARULE_SHAPED", "DELTARULE_NUMBA",
    "MKL_ENABLE_INSTRUCTIONS", "MKL_CBWR", "NUMBA_DISABLE_JIT", "NUMBA_CACHE_DIR",
    "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES", "NUMBA_OPT", "NUMBA_BOUNDSCHECK",
)  # fmt: skip
"""The environment variables that change deltarule's speed or results (reported when set;
the compiled kernels' switch, :data:`deltarule._compiled.SWITCH`, is added if renamed)."""

_CORENAMES = ("scipy_openblas_get_corename64_", "openblas_get_corename64_")
NOT_INSTALLED, SWITCHED_OFF, NOT_USED, USED = (
    "not installed", "switched off", "installed but not used", "used",
)  # fmt: skip
NOT_LOADED = "installed but could not be loaded"
ONE_THREAD = ("the compiled training steps and predict, which call it from several threads, run "
              "in one thread here")  # fmt: skip


def versions() -> dict[str, Any]:
    """Return the versions and compute backends in use, as plain JSON-able data.

    Asking whether MKL and oneDNN are used loads them, as a fit or predict that needs them
    would (oneDNN: ~40-70 ms and ~55 MB, once a process); so does asking whether the
    compiled kernels can run (numba's import). A misspelt ``DELTARULE_MKL`` or
    ``DELTARULE_ONEDNN`` is named in a RuntimeWarning then, as in training. Those switches
    and ``DELTARULE_NUMBA`` are read once a process, by whichever asks first (this report, a
    fit or a predict): set them before.

    Returns
    -------
    dict
        ``deltarule`` (its version), ``python`` (version, implementation, executable),
        ``platform`` (platform, machine), ``cpu`` (model, cores this process may run on),
        ``packages`` (name -> version or None, :data:`PACKAGES`), ``products`` (who computes
        the matrix products: ``numpy_blas``, ``mkl``, ``onednn``), ``compiled_kernels``
        (available, reason), ``threads`` (of the compiled training steps) and
        ``environment`` (the set variables of :data:`ENVIRONMENT`: name -> value).

    Examples
    --------
    >>> from deltarule.versions import versions
    >>> report = versions()
    >>> report["packages"]["numpy"] is not None
    True
    """
    from . import __version__, _blas

    kernels = _compiled_kernels()
    threads = _threads(kernels["available"])
    threaded = (threads["compiled_steps"] or 0) > 1
    return {
        "deltarule": __version__,
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": {"platform": platform.platform(), "machine": platform.machine()},
        "cpu": {"model": _cpu_model(), "cores": _blas.cpus()},
        "packages": {name: _version(name) for name in PACKAGES},
        "products": _products(kernels["available"], threaded),
        "compiled_kernels": kernels,
        "threads": threads,
        "environment": _environment(),
    }


def show_versions(file: TextIO | None = None) -> None:
    """Print :func:`versions` as text, in sections (System, Python dependencies, Matrix
    products, Compiled kernels, Environment): the report to include in a speed comparison.

    Loads MKL, oneDNN and numba where installed (see :func:`versions`).

    Parameters
    ----------
    file : file-like, optional
        Where to write (default: ``sys.stdout``).

    Examples
    --------
    >>> import deltarule
    >>> deltarule.show_versions()  # doctest: +ELLIPSIS
    System:
    ...
    """
    print(text_report(versions()), end="", file=sys.stdout if file is None else file)


def text_report(info: dict[str, Any]) -> str:
    """The report ``info`` (:func:`versions`'s data) as aligned text sections."""
    products = info["products"]
    environment = {name: _shown(value) for name, value in info["environment"].items()}
    sections = {
        "System": _system_rows(info),
        "Python dependencies": {
            name: version or "not installed" for name, version in info["packages"].items()
        },
        "Matrix products": {
            "NumPy's BLAS": _numpy_blas(products["numpy_blas"]),
            "MKL": _backend(products["mkl"]),
            "oneDNN": _backend(products["onednn"]),
        },
        "Compiled kernels": _compiled_rows(info["compiled_kernels"], info["threads"]),
        "Environment": environment or {"(none set)": None},
    }
    blocks = []
    for title, rows in sections.items():
        width = max(map(len, rows)) + 2
        lines = [f"{title}:"]
        lines += [f"{key:>{width}}" + ("" if value is None else f": {value}")
                  for key, value in rows.items()]  # fmt: skip
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _system_rows(info: dict[str, Any]) -> dict[str, str]:
    return {
        "deltarule": info["deltarule"],
        "python": "{version} ({implementation})".format(**info["python"]),
        "executable": info["python"]["executable"],
        "platform": info["platform"]["platform"],
        "machine": info["platform"]["machine"],
        "cpu": info["cpu"]["model"] or "unknown",
        "cores": f"{info['cpu']['cores']} usable by this process",
    }


def _numpy_blas(blas: dict[str, Any]) -> str:
    if blas["library"] is None:
        return "not NumPy's own OpenBLAS (the compiled kernels would use numba's np.dot)"
    core = f", core {blas['corename']}" if blas["corename"] else ""
    threads = "threads unknown" if blas["threads"] is None else _count(blas["threads"], "thread")
    return f"{blas['library']}, {threads}{core}"


def _compiled_rows(kernels: dict[str, Any], threads: dict[str, Any]) -> dict[str, str]:
    steps = threads["compiled_steps"]
    return {
        "available": "yes" if kernels["available"] else f"no: {kernels['reason']}",
        "training steps": (
            "NumPy's step (no compiled kernels)" if steps is None else
            f"{_count(steps, 'thread')} for networks of {threads['min_parameters']:,} "
            f"parameters or more (at most {threads['max_threads']})"
        ),
        "NumPy's pool": _pool(steps, threads["controls_numpy_pool"]),
    }  # fmt: skip


def _pool(steps: int | None, controls: bool) -> str:
    """What deltarule does with NumPy's pool of threads."""
    if steps is None:
        return "the NumPy step's products run in it"
    if steps == 1:
        return "the steps run in one thread"
    if controls:
        return "deltarule holds it at one thread while the steps' threads run"
    return "deltarule cannot hold it at one thread (so the compiled steps run in one thread)"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _backend(entry: dict[str, Any]) -> str:
    library = f" ({entry['library']})" if entry.get("library") else ""
    return f"{entry['status']}{library}: {entry['note']}"


def _shown(value: str) -> str:
    """An environment variable's value as text that a terminal shows, never obeys."""
    return value if value.isprintable() and value.strip() == value != "" else repr(value)


def _version(name: str) -> str | None:
    """The installed version of distribution ``name`` (not imported), or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str | None:
    """The processor's model name (Linux's ``/proc/cpuinfo``, else platform's), or None."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as file:
            for line in file:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def _products(compiled: bool, threaded: bool) -> dict[str, Any]:
    """Who computes the matrix products (``compiled``: the compiled kernels can run;
    ``threaded``: in several threads, the only ones that call MKL or oneDNN)."""
    from . import _blas

    path = _blas._numpy_openblas()
    numpy_blas = {
        "library": None if path is None else os.path.basename(path),
        "threads": _blas.pool_threads() if _blas.controls_threads() else None,
        "corename": None if path is None else _corename(path),
        "kernels_call_it": compiled and _blas.gemm_addresses() != (0, 0),
    }
    mkl = _mkl_status(compiled, threaded)
    onednn = _onednn_status(compiled, threaded, mkl)
    return {"numpy_blas": numpy_blas, "mkl": mkl, "onednn": onednn}


def _corename(path: str) -> str | None:
    """OpenBLAS's name for the kernels it chose (``Haswell``, ``SkylakeX``...), or None."""
    try:
        library = ctypes.CDLL(path)
    except OSError:
        return None
    for name in _CORENAMES:
        function = getattr(library, name, None)
        if function is None:
            continue
        function.restype, function.argtypes = ctypes.c_char_p, []
        try:
            raw = function()
        except Exception:  # noqa: BLE001 - (a report: never fails on a library's oddity)
            return None
        return raw.decode("ascii", "replace").strip() or None if raw else None
    return None


def _switched_off(switch: str, library: str | None) -> dict[str, Any] | None:
    """The "switched off" entry when the environment variable ``switch`` is one of
    :data:`deltarule._compiled.OFF`, else None."""
    from . import _compiled

    value = os.environ.get(switch, "")
    if value.strip().lower() not in _compiled.OFF:
        return None
    return _entry(SWITCHED_OFF, library, f"{switch}={_shown(value)}")


def _unused(module: Any, compiled: bool, threaded: bool, install: str) -> tuple[Any, Any]:
    """The entry of the library of ``module`` (:mod:`deltarule._mkl`, :mod:`deltarule._onednn`)
    where nothing would call it — not installed (``install`` says how), or switched off or
    unused where the compiled kernels cannot run or run in one thread — else None; and the
    library's file name (None when not installed)."""
    path = module.library_path()
    if path is None:
        return _entry(NOT_INSTALLED, None, install), None
    library = os.path.basename(path)
    if compiled and threaded:
        return None, library
    reason = ONE_THREAD if compiled else "the compiled kernels, which call it, cannot run"
    return _switched_off(module.SWITCH, library) or _entry(NOT_USED, library, reason), library


def _mkl_status(compiled: bool, threaded: bool) -> dict[str, Any]:
    """MKL's status: not installed, switched off, installed but not used, used, or
    installed but could not be loaded (``compiled``: the compiled kernels can run)."""
    from . import _mkl

    settled, library = _unused(_mkl, compiled, threaded, "pip install 'deltarule[mkl]' (x86-64)")
    if settled is not None:
        return settled
    if _mkl.available():  # (read once a process: a switch set since changes nothing)
        return _entry(USED, library, "the threaded training steps' products and the compiled "
                      "predict's, one thread each")  # fmt: skip
    off = _switched_off(_mkl.SWITCH, library)
    if off is not None:
        return off
    from . import _compiled

    if os.environ.get(_mkl.SWITCH, "").strip().lower() in _compiled.ON:  # asked for, not there
        return _entry(NOT_LOADED, library, f"{_mkl.SWITCH} asks for it, but its library or its "
                      "functions could not be loaded")  # fmt: skip
    try:
        generic = _mkl.generic_code(ctypes.CDLL(_mkl.library_path()))  # (loaded: cheap)
    except OSError:
        generic = False
    if generic:
        return _entry(NOT_USED, library, "it runs only its generic code on this processor "
                      f"({_mkl.SWITCH}=1 uses it anyway)")  # fmt: skip
    return _entry(NOT_LOADED, library, "its library or its functions could not be loaded")


def _onednn_status(compiled: bool, threaded: bool, mkl: dict[str, Any]) -> dict[str, Any]:
    """oneDNN's status: not installed, switched off, installed but not used, used, or
    installed but could not be loaded (``mkl``: MKL's entry; where MKL is used, oneDNN
    is not)."""
    from . import _onednn

    install = "pip install 'deltarule[onednn]' (x86-64 Linux)"
    settled, library = _unused(_onednn, compiled, threaded, install)
    if settled is not None:
        return settled
    if mkl["status"] == USED:
        return _switched_off(_onednn.SWITCH, library) or _entry(
            NOT_USED, library, "MKL computes the products instead")  # fmt: skip
    if _onednn.available():  # (read once a process: a switch set since changes nothing)
        return _entry(USED, library, "float32 products of "
                      f"{_onednn.MIN_PRODUCT:,} multiply-adds or more in the threaded training "
                      "steps and the compiled predict, one thread each")  # fmt: skip
    return _switched_off(_onednn.SWITCH, library) or _entry(
        NOT_LOADED, library, "it needs the GNU OpenMP runtime, libgomp.so.1, and llvmlite"
    )


def _entry(status: str, library: str | None, note: str) -> dict[str, Any]:
    return {"status": status, "library": library, "note": note}


def _compiled_kernels() -> dict[str, Any]:
    """Whether numba's kernels can run, and if not, why (found once a process)."""
    from . import _compiled

    reason = _compiled.unavailable()
    return {"available": reason is None, "reason": reason}


def _threads(compiled: bool) -> dict[str, Any]:
    """The threads of a large float32 network's compiled training steps, and whether
    deltarule holds NumPy's pool at one thread meanwhile."""
    from . import _blas, _minibatch

    steps = _minibatch.threads_for_size(_minibatch.THREAD_MIN_PARAMETERS, "float32")
    return {
        "compiled_steps": steps if compiled else None,
        "max_threads": _minibatch.MAX_THREADS,
        "min_parameters": _minibatch.THREAD_MIN_PARAMETERS,
        "controls_numpy_pool": _blas.controls_threads(),
    }


def _environment() -> dict[str, str]:
    """The set variables of :data:`ENVIRONMENT` (and the compiled kernels' switch)."""
    from . import _compiled

    names = dict.fromkeys([*ENVIRONMENT, _compiled.SWITCH])
    return {name: _decoded(os.environ[name]) for name in names if name in os.environ}


def _decoded(value: str) -> str:
    """An environment variable's value with the bytes that are not UTF-8 (which Python keeps
    as lone surrogates, which JSON's UTF-8 cannot hold) written as ``\\xNN``."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
