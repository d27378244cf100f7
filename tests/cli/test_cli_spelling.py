"""Errors (and warnings) from the core, shown by the command line, give their advice in the
command line's spelling (``--impute mean``), not Python's (``impute='mean'``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from deltarule.exceptions import InputError
from deltarule.preprocessing import TabularPreprocessor

from .cli_helpers import cli, cli_subprocess, flowers


def _write(frame: pd.DataFrame, name: str = "data.csv") -> str:
    frame.to_csv(name, index=False)
    return name


def _error(capsys, *argv: str) -> str:
    code, _, err = cli(capsys, *argv)
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    assert "on the command line" not in lines[0] and "=..." not in lines[0], lines[0]
    return lines[0]


def _with_gap(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[frame.index[3], "length"] = np.nan
    return frame


def test_missing_values_advise_impute_as_an_option(capsys, in_tmp):
    line = _error(capsys, "train", _write(_with_gap(flowers())), "--target", "species")
    assert "or impute them with --impute mean, median or most_frequent." in line
    assert "impute='mean'" not in line


def test_missing_values_at_predict_advise_retraining_with_the_option(capsys, in_tmp):
    data = _write(flowers())
    assert cli(capsys, "train", data, "--target", "species", "--epochs", "2", "--quiet")[0] == 0
    line = _error(capsys, "predict", "data.safetensors", _write(_with_gap(flowers()), "new.csv"))
    assert "(or retrain with --impute)." in line


def test_text_among_numbers_advises_the_option(capsys, in_tmp):
    frame = flowers()
    frame["length"] = frame["length"].round(3).astype(object)
    frame.loc[frame.index[5], "length"] = "unknown"
    line = _error(capsys, "train", _write(frame), "--target", "species")
    assert "(and impute them: --impute)." in line


def test_a_single_text_class_does_not_advise_task_regression(capsys, in_tmp):
    frame = flowers().assign(species="setosa")
    line = _error(capsys, "train", _write(frame), "--target", "species")
    assert line.endswith("Check the target column: the data needs rows of at least two classes.")


def test_text_targets_for_regression_advise_task_classification(capsys, in_tmp):
    line = _error(capsys, "train", _write(flowers()), "--target", "species", "--task", "regression")
    assert line.endswith("Regression needs numeric targets; for labels pass --task classification.")


def test_a_label_per_row_of_grouped_numbers_advises_plain_numbers(capsys, in_tmp):
    frame = flowers().assign(species=[f"{1000 + i:,}" for i in range(60)])
    line = _error(capsys, "train", _write(frame), "--target", "species")
    assert "(such as '1,000'): write them as plain numbers (1000)" in line
    assert line.endswith("and it is a regression. To classify anyway, pass --task classification.")


def test_the_process_prints_the_option_spelling(in_tmp):
    done = cli_subprocess("train", _write(_with_gap(flowers())), "--target", "species", cwd=in_tmp)
    assert done.returncode == 2 and "--impute mean, median or most_frequent" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


def test_python_keeps_its_own_spelling():
    with pytest.raises(InputError) as caught:
        TabularPreprocessor().fit(_with_gap(flowers()), "species")
    assert "impute='mean', 'median' or 'most_frequent' (--impute on the command line)" in str(
        caught.value
    )
    assert "or impute them with --impute mean, median or most_frequent." in (
        caught.value.for_command_line()
    )


@pytest.mark.filterwarnings("default")  # (shown as the command line shows them)
def test_the_epoch_warning_names_options(capsys, in_tmp):
    data = _write(flowers())
    code, _, err = cli(capsys, "train", data, "--target", "species", "--epochs", "6",
                       "--patience", "0", "--quiet")  # fmt: skip
    warning = [line for line in err.splitlines() if line.startswith("warning:")]
    assert code == 0 and len(warning) == 1 and "still falling" in warning[0], err
    assert "Raise --epochs" in warning[0] and "add a stopping rule (--patience)" in warning[0]
    assert "on the command line" not in warning[0]
