"""The command line on an estimator's file fitted on a DataFrame: columns by their names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deltarule.cli._common import load_model_file

from .cli_helpers import cli

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def iris(iris_estimator_file, tmp_path_factory):
    """(model path, CSV path with the columns reversed, estimator, X)."""
    path, X, model = iris_estimator_file
    csv = tmp_path_factory.mktemp("nbcli") / "new.csv"
    X[X.columns[::-1]].to_csv(csv, index=False)
    return path, csv, model, X


def test_predict_reads_the_estimators_columns_by_name(capsys, iris) -> None:
    path, csv, model, X = iris
    code, out, err = cli(capsys, "predict", path, csv)
    assert code == 0, err
    labels = pd.read_csv(pd.io.common.StringIO(out)).iloc[:, 0].to_numpy()
    np.testing.assert_array_equal(labels, model.predict(X))


def test_predict_names_the_missing_columns(capsys, iris, tmp_path) -> None:
    path, _, _, X = iris
    X.drop(columns="sepal width (cm)").to_csv(tmp_path / "less.csv", index=False)
    code, _, err = cli(capsys, "predict", path, tmp_path / "less.csv")
    assert code != 0 and "'sepal width (cm)'" in err and "'x0'" not in err


def test_model_file_preprocessing_uses_the_stored_names(iris) -> None:
    path, _, _, X = iris
    assert load_model_file(str(path)).pre.feature_names == list(X.columns)


def test_inspect_lists_the_estimators_columns(capsys, iris) -> None:
    import json

    path, _, model, _ = iris
    code, out, err = cli(capsys, "inspect", path)
    assert code == 0, err
    assert "by name: 'sepal length (cm)', 'sepal width (cm)'" in out and "x0" not in out
    code, out, _ = cli(capsys, "inspect", path, "--format", "json")
    assert json.loads(out)["feature_names"] == list(model.feature_names_in_)


def test_evaluate_takes_the_target_column_of_an_estimators_file(capsys, iris, tmp_path) -> None:
    from sklearn.metrics import accuracy_score

    path, _, model, X = iris
    frame = X.assign(species=model.predict(X)[::-1])  # (labels to score against)
    frame.to_csv(tmp_path / "labelled.csv", index=False)
    code, _, err = cli(capsys, "evaluate", path, tmp_path / "labelled.csv")
    assert code == 2 and "names no target column: pass --target COLUMN" in err
    code, out, err = cli(capsys, "evaluate", path, tmp_path / "labelled.csv", "--target",
                         "species", "--format", "json")  # fmt: skip
    assert code == 0, err
    expected = accuracy_score(frame["species"], model.predict(X))
    assert pd.read_json(pd.io.common.StringIO(out), typ="series")["metrics"]["accuracy"] == (
        pytest.approx(expected)
    )


def test_evaluate_refuses_a_target_other_than_the_models(capsys, in_tmp, flowers_csv) -> None:
    code, _, err = cli(capsys, "train", flowers_csv, "--target", "species", "--epochs", "2",
                       "--quiet", "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    code, _, err = cli(capsys, "evaluate", "m.safetensors", flowers_csv, "--target", "colour")
    assert code == 2 and "was trained on the target column 'species'" in err
