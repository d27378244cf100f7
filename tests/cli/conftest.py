"""Fixtures for the command-line tests: data files, a temporary working folder, a save spy."""

from __future__ import annotations

from pathlib import Path

import pytest

from .cli_helpers import flowers, houses


@pytest.fixture
def flowers_csv(tmp_path: Path) -> Path:
    path = tmp_path / "flowers.csv"
    flowers().to_csv(path, index=False)
    return path


@pytest.fixture
def houses_csv(tmp_path: Path) -> Path:
    path = tmp_path / "houses.csv"
    houses().to_csv(path, index=False)
    return path


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run the test with the temporary folder as the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def saved(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Record what ``train`` hands to save_model (the in-memory network, before saving)."""
    import deltarule.io.model_file as model_file

    real, record = model_file.save_model, {}

    def spy(network, path, **kwargs):
        record.update(network=network.copy(), path=Path(path), **kwargs)
        return real(network, path, **kwargs)

    monkeypatch.setattr(model_file, "save_model", spy)
    return record
