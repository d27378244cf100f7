"""Helpers for the command-line tests: running the CLI in-process or as a process, data."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deltarule.cli import main

REPO = Path(__file__).resolve().parents[2]


def cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    """Run ``deltarule ARGV`` in-process; return (status, stdout, stderr)."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def cli_subprocess(*argv: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m deltarule ARGV`` as a real process."""
    return subprocess.run(
        [sys.executable, "-m", "deltarule", *map(str, argv)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        **kwargs,
    )


def flowers(n_per_class: int = 20, seed: int = 0) -> pd.DataFrame:
    """Three well-separated classes, two numeric features and a text feature."""
    rng = np.random.default_rng(seed)
    frames = []
    for k, name in enumerate(["setosa", "versicolor", "virginica"]):
        frames.append(
            pd.DataFrame(
                {
                    "length": rng.normal(2.0 * k, 0.4, n_per_class),
                    "width": rng.normal(-1.0 * k, 0.4, n_per_class),
                    "colour": rng.choice(["red", "blue"], n_per_class),
                    "species": name,
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sample(frac=1, random_state=seed)


def houses(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """A regression table: a text category and numbers, price in the hundred thousands."""
    rng = np.random.default_rng(seed)
    city = rng.choice(["oslo", "paris", "rome"], n)
    size = rng.uniform(20, 200, n)
    bonus = pd.Series(city).map({"oslo": 80_000, "paris": 50_000, "rome": 20_000}).to_numpy()
    price = bonus + 1000 * size + rng.normal(0, 2000, n)
    return pd.DataFrame({"city": city, "size": size, "price": price})


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write an IDX file of unsigned bytes (the Fashion-MNIST format)."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())
