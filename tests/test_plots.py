"""Plots (``deltarule.plots``): the three figures are written, bad data is a clear error."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from deltarule import InputError  # noqa: E402
from deltarule.plots import (  # noqa: E402
    FEW_POINTS,
    confusion_matrix_figure,
    plain_text,
    regression_figure,
    render_figure,
    save_confusion_matrix,
    save_figure,
    save_regression_plot,
    save_training_curves,
    training_curves_figure,
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
        (lambda p: save_confusion_matrix([[1, 2], [3]], ["a", "b"], p), "ragged"),
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


# --- QA findings: text from the data, few points, bad input -------------------------------

MATH = r"$\frac$"  # bad mathtext: matplotlib raised a ParseSyntaxException drawing it


def _texts(fig) -> list:
    """Every non-empty Text of the figure (titles, labels, tick labels, legends)."""
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_text()]


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_text_from_the_data_is_drawn_as_written_never_as_math(tmp_path, suffix):
    history = {"loss": [1.0, 0.5], f"{MATH}acc": [0.5, 0.6], f"val_{MATH}acc": [0.4, 0.5]}
    save_training_curves(history, tmp_path / f"c{suffix}", title=f"cost $5-$10 {MATH}")
    save_confusion_matrix([[1, 2], [3, 4]], [MATH, "$5-$10"], tmp_path / f"m{suffix}")
    figures = [
        training_curves_figure(history, title="$5-$10", loss_label="$x$"),
        confusion_matrix_figure([[1, 2], [3, 4]], ["$5-$10", "b"]),
    ]
    for fig in figures:
        dollars = [t for t in _texts(fig) if "$" in t.get_text()]
        assert len(dollars) >= 2 and not any(t.get_parse_math() for t in dollars)


def test_characters_xml_forbids_are_replaced_so_the_svg_is_well_formed(tmp_path):
    import xml.etree.ElementTree as ET

    save_training_curves({"loss": [1.0], "x\x01": [0.5]}, tmp_path / "c.svg", title="x\x0b")
    save_confusion_matrix([[1]], ["a\x00b"], tmp_path / "m.svg")
    for name in ("c.svg", "m.svg"):
        ET.fromstring((tmp_path / name).read_bytes())  # (was: not well-formed)
    assert plain_text("a\x0bb\tc\nd\ud800") == "a\ufffdb\tc\nd\ufffd"


def test_few_points_get_markers_and_a_validation_only_metric_is_plotted():
    fig = training_curves_figure(
        {"epoch": [1], "loss": [0.3], "val_loss": [0.4], "val_accuracy": [0.6]},
        loss_label="loss (standardised target)",
    )
    loss, metric = fig.axes[:2]
    assert [line.get_marker() for line in fig.axes[0].get_lines()] == ["o", "s"]
    assert loss.get_ylabel() == "loss (standardised target)" and metric.get_ylabel() == "accuracy"
    assert [line.get_label() for line in metric.get_lines()] == ["validation accuracy"]
    many = training_curves_figure({"loss": list(range(FEW_POINTS + 1))})
    assert many.axes[0].get_lines()[0].get_marker() in ("None", None, "")


def test_a_history_object_is_plotted(tmp_path):
    from deltarule.history import EpochRecord, History

    history = History([EpochRecord(1, 0.5, None, {"r2": 0.1}, {}, 0.1, 0.1, 0.1)])
    assert save_training_curves(history, tmp_path / "h.svg").is_file()


@pytest.mark.parametrize(
    "save,message",
    [
        (lambda p: save_training_curves({"loss": []}, p), "no epochs \\(an empty 'loss'"),
        (lambda p: save_training_curves({"loss": ["a", "b"]}, p),
         "column 'loss' holds 'a' at index 0; expected numbers"),
        (lambda p: save_training_curves({"loss": [None]}, p), "'loss' has no value"),
        (lambda p: save_training_curves({"epoch": [None], "loss": [1.0]}, p),
         "'epoch' holds None"),
        (lambda p: save_training_curves({"loss": 3}, p), "'loss' is int"),
        (lambda p: save_confusion_matrix([[1, 2], [3]], ["a", "b"], p),
         "ragged matrix \\(rows of \\[2, 1\\] values\\)"),
        (lambda p: save_confusion_matrix([[float("nan"), 2], [3, 4]], ["a", "b"], p),
         "received nan at row 0, column 0; expected counts"),
        (lambda p: save_confusion_matrix([[1, 2], [-3, 4]], ["a", "b"], p),
         "received -3.0 at row 1, column 0"),
        (lambda p: save_confusion_matrix([["x", 2], [3, 4]], ["a", "b"], p), "not numbers"),
        (lambda p: save_regression_plot(["a"], ["b"], p), "true values are not numbers"),
        (lambda p: save_regression_plot([1.0, float("inf")], [1.0, 2.0], p),
         "hold inf at index 1"),
        (lambda p: save_regression_plot([[1.0, 2.0]], [[1.0, 2.0]], p), "shape \\(1, 2\\)"),
    ],
)  # fmt: skip
def test_bad_plot_input_is_refused_and_writes_nothing(tmp_path, save, message):
    with pytest.raises(InputError, match=message):
        save(tmp_path / "x.svg")
    assert list(tmp_path.iterdir()) == []


def test_render_figure_writes_nothing(tmp_path):
    data = render_figure(regression_figure([1.0, 2.0], [1.5, 2.5]), tmp_path / "r.svg")
    assert data.startswith(b"<?xml") and list(tmp_path.iterdir()) == []


def test_curves_read_in_grayscale_mark_the_kept_epoch_and_scale_a_blown_up_loss():
    # (a visual QA pass: training and validation were the same gray line in grayscale, the
    # epoch early stopping kept was not shown, and a diverged run's 3e20 flattened the rest)
    from deltarule.history import EpochRecord, History

    def record(epoch, loss, val):
        return EpochRecord(epoch, loss, val, {}, {}, 0.1, 1.0, 0.01)

    history = History([record(e, 1.0 / e, 1.0 + abs(e - 3) / 10) for e in range(1, 8)])
    history.best_epoch = 3
    fig = training_curves_figure(history)
    training, validation, best = fig.axes[0].get_lines()
    assert training.get_linestyle() == "-" and validation.get_linestyle() == "--"
    assert list(best.get_xdata()) == [3, 3] and "best epoch 3" in best.get_label()
    assert fig.axes[0].get_yscale() == "linear"
    history.best_epoch = 7  # (the last epoch: nothing to mark)
    assert len(training_curves_figure(history).axes[0].get_lines()) == 2
    blown = {"epoch": [1, 2, 3], "loss": [1.0, 3e20, float("nan")]}
    ax = training_curves_figure(blown).axes[0]
    assert ax.get_yscale() == "log"
    assert any("training loss not finite at epoch 3" in text.get_text() for text in ax.texts)
    val_only = {"epoch": [1, 2], "loss": [1.0, 0.5], "val_loss": [float("nan")] * 2}
    assert not training_curves_figure(val_only).axes[0].texts  # (no divergence)
    with pytest.raises(InputError, match="best_epoch must be an epoch number"):
        training_curves_figure(HISTORY, best_epoch="2")
    noted = training_curves_figure(HISTORY, note="training diverged at epoch 4: the loss ...")
    assert any(text.get_text().startswith("training diverged at epoch 4") for text in
               noted.axes[0].texts)  # fmt: skip


def test_confusion_matrix_labels_fit_and_counts_start_at_zero():
    # (a visual QA pass: long class names were cut off by the figure's edge with the axis
    # titles, 40 slanted labels ran into each other, and a matrix of zeros had a colour
    # bar from -0.1)
    long = "a very long class name that goes on and on"
    fig = confusion_matrix_figure([[3, 1], [0, 4]], [long, "b"])
    ax = fig.axes[0]
    shown = [tick.get_text() for tick in ax.get_yticklabels()]
    assert shown[0] == long[:23] + "…" and shown[1] == "b"
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    assert fig.axes[0].images[0].get_clim() == (0.0, 4.0)
    zeros = confusion_matrix_figure([[0, 0], [0, 0]], ["a", "b"]).axes[0].images[0]
    assert zeros.get_clim() == (0.0, 1.0)
    digits = confusion_matrix_figure(np.eye(10), [str(i) for i in range(10)]).axes[0]
    assert all(tick.get_rotation() == 0 for tick in digits.get_xticklabels())
    many = confusion_matrix_figure(np.eye(40), [f"category_{i:02d}" for i in range(40)]).axes[0]
    assert all(tick.get_rotation() == 90 for tick in many.get_xticklabels())


def test_a_loss_near_the_float_maximum_leaks_no_overflow_warning(tmp_path):
    # (matplotlib's ticker printed "RuntimeWarning: overflow encountered in multiply")
    history = {"epoch": [1, 2, 3], "loss": [1e308, 1e-308, 0.0]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for suffix in ("png", "svg"):
            path = save_training_curves(history, tmp_path / f"huge.{suffix}")
            assert path.stat().st_size > 1000


def test_the_epoch_axis_spans_every_epoch_when_only_the_first_loss_is_finite():
    # (a loss that went inf after epoch 1 drew one point on an axis from 0.945 to 1.050)
    inf = float("inf")
    fig = training_curves_figure({"epoch": [1, 2, 3], "loss": [1.0, inf, inf]})
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    assert low < 1 and high > 3
    assert [t for t in ax.get_xticks() if low <= t <= high] == [1, 2, 3]


def test_a_plot_path_of_none_is_an_input_error() -> None:
    # A pathlib TypeError before ("expected str, bytes or os.PathLike object, not NoneType").
    with pytest.raises(InputError, match="the plot's path is NoneType None; expected text or "
                       "a pathlib.Path such as 'curves.png'"):  # fmt: skip
        save_training_curves(HISTORY, None)  # type: ignore[arg-type]


def test_save_figure_of_something_else_than_a_figure_is_an_input_error(tmp_path) -> None:
    # A matplotlib AttributeError before ('str' object has no attribute 'set_canvas').
    with pytest.raises(InputError, match="expected a matplotlib Figure to draw; received str "
                       "'fig'. Make one with deltarule.plots"):  # fmt: skip
        save_figure("fig", tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_without_matplotlib_a_plot_names_the_extra(tmp_path, monkeypatch) -> None:
    import sys

    from deltarule import plots

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # (its import raises)
    with pytest.raises(InputError, match=r"pip install 'deltarule\[cli\]' \(or, at the command"):
        plots.check_plot_path(tmp_path / "curves.png")


# --- generalized weights (R neuralnet's gwplot) --------------------------------------------


def _gw_network():
    from deltarule import Network

    return Network([3, 4, 2], activation="tanh", output_activation="sigmoid", seed=0,
                   dtype="float64")  # fmt: skip


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_generalized_weights_are_drawn_one_point_per_example_against_the_input(
    tmp_path, suffix, magic
) -> None:
    from deltarule import generalized_weights
    from deltarule.plots import generalized_weights_figure, save_generalized_weights

    net = _gw_network()
    X = np.random.default_rng(0).normal(size=(25, 3))
    fig = generalized_weights_figure(net, X, feature=2, output=1, feature_name="age")
    ax = fig.axes[0]
    points = ax.collections[0].get_offsets()
    np.testing.assert_array_equal(points[:, 0], X[:, 2])
    np.testing.assert_array_equal(points[:, 1], generalized_weights(net, X)[:, 1, 2])
    assert ax.get_xlabel() == "age"
    assert ax.get_ylabel() == "generalized weight of age for output 1"
    path = tmp_path / f"gw{suffix}"
    assert save_generalized_weights(net, X, path, feature=1) == path
    assert path.read_bytes().startswith(magic)


def test_generalized_weights_draw_into_your_own_axes() -> None:
    from matplotlib.figure import Figure

    from deltarule.plots import generalized_weights_figure

    mine = Figure()
    axes = mine.subplots(1, 3)
    X = np.random.default_rng(1).normal(size=(10, 3))
    for j, ax in enumerate(axes):
        assert generalized_weights_figure(_gw_network(), X, feature=j, ax=ax) is mine
    assert [ax.get_xlabel() for ax in axes] == ["x[0]", "x[1]", "x[2]"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"feature": 3}, "feature=3 is out of range: the network has 3 inputs, numbered 0 to 2"),
        ({"feature": -1}, "feature=-1 is out of range"),
        ({"output": 2}, "output=2 is out of range: the network has 2 outputs"),
        ({"feature": 1.0}, "feature must be an integer index; received float 1.0"),
        ({"output": True}, "output must be an integer index"),
    ],
)  # fmt: skip
def test_generalized_weights_of_an_input_or_output_not_there_are_refused(
    tmp_path, kwargs, message
) -> None:
    from deltarule.plots import save_generalized_weights

    with pytest.raises(InputError, match=message):
        save_generalized_weights(_gw_network(), np.zeros((2, 3)), tmp_path / "gw.png", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_generalized_weights_of_a_tanh_output_or_bad_X_are_refused(tmp_path) -> None:
    from deltarule import Network
    from deltarule.plots import save_generalized_weights

    tanh = Network([3, 2], output_activation="tanh", seed=0)
    with pytest.raises(InputError, match="output activation is 'tanh'"):
        save_generalized_weights(tanh, np.zeros((2, 3)), tmp_path / "gw.png")
    with pytest.raises(InputError, match="X has 2 features but the network expects 3"):
        save_generalized_weights(_gw_network(), np.zeros((2, 2)), tmp_path / "gw.png")
    assert list(tmp_path.iterdir()) == []
