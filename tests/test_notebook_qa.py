"""Findings of a notebook (Jupyter, pandas, polars) QA pass: estimator files read by column
name, predict_proba and a short repr on LoadedModel, pandas-aware input errors, the
progress bar in a kernel, summaries and figures that display themselves."""

from __future__ import annotations

import io
import pickle
import sys
import types

import numpy as np
import pytest

import deltarule as dr
from deltarule.callbacks import progress
from deltarule.exceptions import InputError
from deltarule.io import load_model, save_model

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def iris_file(iris_estimator_file):
    """(path, X, estimator): tests/conftest.py's iris_estimator_file."""
    return iris_estimator_file


# ------------------------------------------------------------ 1: columns by name
def test_loaded_estimator_file_reads_columns_by_name(iris_file) -> None:
    path, X, model = iris_file
    loaded = load_model(path)
    assert loaded.feature_names == list(X.columns)
    expected = model.predict(X)
    np.testing.assert_array_equal(loaded.predict(X), expected)
    shuffled = X[X.columns[::-1]].assign(extra=1.0)  # (any order, extra columns ignored)
    np.testing.assert_array_equal(loaded.predict(shuffled), expected)
    with pytest.raises(InputError, match="lacks 1 column.*'petal width \\(cm\\)'"):
        loaded.predict(X.drop(columns="petal width (cm)"))
    with pytest.raises(InputError, match="lacks 4 column"):
        loaded.predict(X.set_axis(["a", "b", "c", "d"], axis=1))
    np.testing.assert_array_equal(loaded.predict(X.to_numpy()), expected)  # (by position)


def test_network_file_without_names_still_reads_positions(tmp_path) -> None:
    net = dr.Network([2, 3, 1], seed=0)
    loaded = load_model(save_model(net, tmp_path / "m.safetensors"))
    assert loaded.feature_names is None
    frame = pd.DataFrame({"q": [1.0, 2.0], "p": [0.5, 0.1]})
    np.testing.assert_array_equal(loaded.predict(frame), net.predict(frame.to_numpy()))


# ------------------------------------------------------------ 4: polars and others
class _Arrowish:
    """Stands for a polars DataFrame or pyarrow Table: not pandas, has ``to_pandas()``."""

    def __init__(self, frame) -> None:
        self.frame = frame
        self.columns = list(frame.columns)

    def to_pandas(self):
        return self.frame


def test_tables_with_to_pandas_are_converted(iris_file, flowers_model) -> None:
    path, X, model = iris_file
    np.testing.assert_array_equal(load_model(path).predict(_Arrowish(X)), model.predict(X))
    loaded, frame = flowers_model
    np.testing.assert_array_equal(loaded.predict(_Arrowish(frame)), loaded.predict(frame))


def test_polars_frame(iris_file) -> None:
    pl = pytest.importorskip("polars")
    path, X, model = iris_file
    np.testing.assert_array_equal(load_model(path).predict(pl.from_pandas(X)), model.predict(X))


def test_refused_data_is_named_by_its_full_type(flowers_model) -> None:
    loaded, _ = flowers_model
    with pytest.raises(InputError, match=r"received \S*test_notebook_qa\._Opaque\."):
        loaded.predict(_Opaque())


class _Opaque:
    pass


@pytest.fixture(scope="module")
def flowers_model(tmp_path_factory):
    """A model file with preprocessing (as deltarule train writes one) and its data."""
    from deltarule.preprocessing import TabularPreprocessor

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    frame["kind"] = np.where(frame.a + frame.b > 0, "yes", "no")
    pre = TabularPreprocessor()
    X, Y = pre.fit_transform(frame, "kind")
    net = dr.Network([X.shape[1], 4, Y.shape[1]], output_activation="sigmoid", loss="bce", seed=0)
    net.fit(X, Y, epochs=5, verbose=0, warn_convergence=False)
    path = tmp_path_factory.mktemp("nb") / "flowers.safetensors"
    save_model(net, path, preprocessing=pre.to_dict(), classes=pre.classes)
    return load_model(path), frame


# ------------------------------------------------------------ 5: predict_proba
def test_predict_proba_matches_the_estimator(iris_file) -> None:
    path, X, model = iris_file
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), rtol=1e-6)
    assert loaded.predict_proba(X).shape == (len(X), len(loaded.classes))


def test_predict_proba_binary_has_two_columns(flowers_model) -> None:
    loaded, frame = flowers_model
    proba = loaded.predict_proba(frame)
    assert proba.shape == (len(frame), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    labels = np.asarray(loaded.classes)[proba.argmax(axis=1)]
    np.testing.assert_array_equal(labels, loaded.predict(frame))


def test_predict_proba_refuses_regression(tmp_path) -> None:
    loaded = load_model(save_model(dr.Network([2, 1], seed=0), tmp_path / "r.safetensors"))
    with pytest.raises(InputError, match="regression model"):
        loaded.predict_proba(np.ones((2, 2)))


# ------------------------------------------------------------ 6: a short repr
def test_loaded_model_repr_is_short(iris_file) -> None:
    path, X, model = iris_file
    text = repr(load_model(path))
    assert len(text) < 400, text
    assert "[4, 6, 3]" in text and "3 classes" in text and "sepal length (cm)" in text
    assert f"{model.n_iter_} epochs" in text


# ------------------------------------------------------------ 3: pandas-aware errors
def test_nan_in_a_dataframe_is_named_by_row_and_column() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "age": [1.0, np.nan, 2.0]}, index=[10, 20, 30])
    with pytest.raises(InputError, match=r"index \(1, 1\)\), at row 20, column 'age'"):
        dr.Network([2, 1]).predict(frame)
    with pytest.raises(InputError, match=r"index \(1, 1\)\); expected"):  # (arrays: as before)
        dr.Network([2, 1]).predict(frame.to_numpy())
    y = pd.Series([0.0, np.inf, 1.0], index=["p", "q", "r"], name="target")
    with pytest.raises(InputError, match="at row 'q' of 'target'"):
        dr.Network([2, 1]).fit(frame.fillna(0), y, epochs=1, verbose=0)


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        (pd.Categorical(["x", "y", "x"]), "category"),
        (pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01"]), "datetime"),
    ],
)
def test_non_numeric_dataframe_column_is_named(column, kind) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "when": column})
    with pytest.raises(InputError, match=f"X's column 'when' has dtype {kind} \\(non-numeric\\)"):
        dr.Network([2, 1]).predict(frame)


# ------------------------------------------------------------ 2: progress in a kernel
def _fake_kernel(monkeypatch, shell_name: str) -> None:
    shell = type(shell_name, (), {})()
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))


def test_notebook_detection(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    assert not progress.in_notebook()
    _fake_kernel(monkeypatch, "TerminalInteractiveShell")
    assert not progress.in_notebook()
    _fake_kernel(monkeypatch, "ZMQInteractiveShell")
    assert progress.in_notebook()


def test_bar_decision(monkeypatch) -> None:
    log = io.StringIO()  # (not a terminal: a CI log)
    monkeypatch.setattr(sys, "stderr", log)
    monkeypatch.setattr(progress, "in_notebook", lambda: False)
    assert not progress.wants_bar(log, given=False)
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    assert progress.wants_bar(log, given=False)
    assert not progress.wants_bar(io.StringIO(), given=True)  # (a stream of the caller's)


def test_fit_in_a_kernel_shows_a_bar_not_a_line_per_epoch(monkeypatch) -> None:
    pytest.importorskip("tqdm")
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    X = np.random.default_rng(0).normal(size=(8, 2))
    dr.Network([2, 1], seed=0).fit(X, X.sum(1), epochs=30, verbose=1, warn_convergence=False)
    assert "epoch 1/30" not in log.getvalue() and "30/30" in log.getvalue()


# ------------------------------------------------------------ 7: summaries
def test_summaries_show_as_text() -> None:
    net = dr.Network([2, 3, 1], seed=0)
    summary = net.summary()
    assert isinstance(summary, str) and repr(summary) == str(summary)
    assert "\\n" not in repr(summary) and summary.splitlines()[0].startswith("layer")
    from deltarule.training import fit_restarts

    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    runs = fit_restarts(net, X, X[:, :1], restarts=2, seed=0, epochs=2, verbose=0,
                        warn_convergence=False)  # fmt: skip
    assert repr(runs.summary()) == str(runs.summary())
    assert repr(runs.summary()).startswith("restart")


# ------------------------------------------------------------ 8: figures
def test_figures_display_inline_and_stay_figures(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from deltarule import plots

    fig = plots.training_curves_figure({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]})
    assert isinstance(fig, Figure)
    assert fig._repr_png_().startswith(b"\x89PNG")
    fig.savefig(tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 0
    again = pickle.loads(pickle.dumps(fig))
    assert isinstance(again, type(fig))
    assert plots.regression_figure([1, 2], [1, 2.5])._repr_png_().startswith(b"\x89PNG")


def test_figures_draw_into_a_given_axes() -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from deltarule import plots

    own = Figure()
    left, right = own.subplots(1, 2)
    assert plots.confusion_matrix_figure([[3, 1], [0, 4]], ["a", "b"], ax=left) is own
    assert plots.regression_figure([1, 2, 3], [1, 2, 2], ax=right) is own
    assert left.get_title() == "confusion matrix" and right.get_title() == "predicted vs true"
    with pytest.raises(InputError, match="ax must be a matplotlib Axes"):
        plots.regression_figure([1, 2], [1, 2], ax="left")
