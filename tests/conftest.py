"""Shared fixtures: seeded generators and small datasets."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


def unique_entries(registry: dict) -> list:
    """Registry values without alias duplicates, in insertion order."""
    seen, out = set(), []
    for value in registry.values():
        if id(value) not in seen:
            seen.add(id(value))
            out.append(value)
    return out


def count_calls(monkeypatch, owner: type, name: str) -> list:
    """A list that gains an entry each time ``owner.name`` runs (the method still runs)."""
    calls = []
    real = getattr(owner, name)

    def spy(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


def torch_plateau_rates(start: float, values, **kwargs) -> list[float]:
    """The rate of each epoch under torch's ReduceLROnPlateau told ``values`` (the oracle)."""
    torch = pytest.importorskip("torch")
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=start)
    rule = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, threshold_mode="abs", **kwargs)
    rates = []
    for value in values:
        rates.append(optimizer.param_groups[0]["lr"])
        rule.step(value)
    return rates


@pytest.fixture(scope="module")
def testers_iris_walk(tmp_path_factory) -> str:  # (tests/explain)
    """The QA tester's walk: a float32 iris model (4-4-3-3, tanh, softmax, 30 epochs, seed 1)
    explained on the raw row 5.1,3.5,1.4,0.2 with the target setosa; the walk's text."""
    import contextlib
    import io

    from deltarule.cli import main

    model = tmp_path_factory.mktemp("iris") / "iris.safetensors"
    assert main(["train", "--dataset", "iris", "--hidden", "4,3", "--activation", "tanh",
                 "--epochs", "30", "--quiet", "--out", str(model), "--seed", "1"]) == 0  # fmt: skip
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        assert main(["explain", "--model", str(model), "--raw", "--input", "5.1,3.5,1.4,0.2",
                     "--target", "setosa"]) == 0  # fmt: skip
    return text.getvalue()


@pytest.fixture
def write(tmp_path):
    """``write(name, content)``: a file of ``content`` (text or bytes) in ``tmp_path``."""

    def write(name: str, content: bytes | str):
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write
