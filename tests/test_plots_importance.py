"""The permutation-importance figure (:mod:`deltarule._plots_importance`): the bars drawn
(the ``top`` most important columns, in order, their means as lengths), the title's note of
the columns left out, and the images written."""

from __future__ import annotations

import numpy as np
import pytest

from deltarule import InputError
from deltarule.importance import PermutationImportance
from deltarule.plots import importance_figure, save_importance_plot

pytest.importorskip("matplotlib")


def _result(n_columns: int) -> PermutationImportance:
    """Columns c0, c1, ... of distinct mean importances, in shuffled order."""
    means = np.random.default_rng(0).permutation(n_columns) / 10
    importances = means[:, None] + np.array([[-0.01, 0.01]])
    names = tuple(f"c{j}" for j in range(n_columns))
    return PermutationImportance(importances, 0.9, names, "accuracy", True, 0)


def _bars(figure) -> tuple[list[str], list[float], str]:
    """The labels (top first), the bars' lengths (top first) and the title."""
    ax = figure.axes[0]
    labels = [tick.get_text() for tick in ax.get_yticklabels()][::-1]
    lengths = [bar.get_width() for bar in ax.patches][::-1]
    return labels, lengths, ax.get_title()


def test_the_twenty_most_important_columns_are_drawn_by_default():
    result = _result(784)
    labels, lengths, title = _bars(importance_figure(result))
    ranked = result.order()
    assert labels == [result.columns[j] for j in ranked[:20]]
    np.testing.assert_allclose(lengths, result.importances_mean[ranked[:20]])
    assert title == "permutation importance, top 20 of 784 columns\n(baseline accuracy 0.9, seed 0)"
    assert importance_figure(result).get_size_inches()[1] < 10  # (not 40 in of bars)


@pytest.mark.parametrize(("top", "drawn"), [(5, 5), (30, 30), (40, 30), (None, 30)])
def test_top_chooses_how_many(top, drawn):
    result = _result(30)
    labels, lengths, title = _bars(importance_figure(result, top=top, title="mine"))
    assert labels == [result.columns[j] for j in result.order()[:drawn]]
    assert len(lengths) == drawn
    assert title == ("mine" if drawn == 30 else f"mine\n(top {drawn} of 30 columns)")
    if drawn == 30:
        assert _bars(importance_figure(result, top=top))[2] == (
            "permutation importance\n(baseline accuracy 0.9, seed 0)"
        )


@pytest.mark.parametrize("top", [0, -1, 2.5, True, "5"])
def test_a_bad_top_is_refused(top):
    with pytest.raises(InputError, match="top must be an integer >= 1"):
        importance_figure(_result(3), top=top)


def test_svg_and_png_are_written(tmp_path):
    result = _result(25)
    svg = save_importance_plot(result, tmp_path / "imp.svg", top=3)
    text = svg.read_text()
    assert text.startswith("<?xml") and "<svg" in text and text.rstrip().endswith("</svg>")
    png = save_importance_plot(result, tmp_path / "imp.png", top=None)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
