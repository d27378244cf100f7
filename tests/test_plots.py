"""Plots (``deltarule.plots``): the three figures are written, bad data is a clear error."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from deltarule import InputError  # noqa: E402
from deltarule.plots import (  # noqa: E402
    save_confusion_matrix,
    save_regression_plot,
    save_training_curves,
)

HISTORY = {"epoch": [1, 2, 3], "loss": [3.0, 2.0, 1.5], "val_loss": [3.1, 2.2, None],
           "accuracy": [0.5, 0.6, 0.7], "val_accuracy": [0.4, 0.5, None]}  # fmt: skip


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_each_figure_is_written(tmp_path, suffix, magic) -> None:
    for name, save in [
        ("curves", lambda p: save_training_curves(HISTORY, p, title="t")),
        ("matrix", lambda p: save_confusion_matrix([[5, 1], [2, 7]], ["a", "b"], p)),
        ("scatter", lambda p: save_regression_plot([1.0, 2.0, 3.0], [1.1, 1.9, 3.2], p)),
    ]:
        path = tmp_path / f"{name}{suffix}"
        assert save(path) == path
        assert path.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{n}{suffix}" for n in ("curves", "matrix", "scatter"))  # fmt: skip


@pytest.mark.parametrize(
    "save,message",
    [
        (lambda p: save_training_curves({"epoch": [1, 2]}, p), "needs a history's columns"),
        (lambda p: save_training_curves({"epoch": [1, 2], "loss": [1.0]}, p),
         "'loss' has 1 values for 2 epochs"),
        (lambda p: save_confusion_matrix([], [], p), "n x n matrix of counts for n labels"),
        (lambda p: save_confusion_matrix([[1, 2], [3]], ["a", "b"], p), "n x n matrix"),
        (lambda p: save_confusion_matrix([[1, 2], [3, 4]], ["a", "b", "c"], p),
         "shape \\(2, 2\\) and 3 labels"),
        (lambda p: save_regression_plot([], [], p), "at least one; received 0 true"),
        (lambda p: save_regression_plot([1.0, 2.0], [1.0], p), "received 2 true and 1"),
        (lambda p: save_training_curves(HISTORY, p.with_suffix(".gif")), "ending in .png or .svg"),
    ],
)  # fmt: skip
def test_bad_data_is_a_clear_error_and_writes_nothing(tmp_path, save, message) -> None:
    # (KeyError, TypeError, numpy's ValueError and min() of an empty sequence before)
    with pytest.raises(InputError, match=message):
        save(tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []
