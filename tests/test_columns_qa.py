"""How :class:`~deltarule.preprocessing.TabularPreprocessor` types messy columns (a QA pass on
spreadsheet and database exports): whole numbers written as floats are classes, numbers
written with thousands separators, decimal commas, percent or currency signs and dates written
as text are refused (not silently one-hot encoded), and the advice names only fixes that work."""

from __future__ import annotations

import datetime
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.multiclass import type_of_target

from deltarule._columns import signed_numbers
from deltarule._task import detect_task
from deltarule.exceptions import DataWarning, InputError
from deltarule.preprocessing import TabularPreprocessor


@pytest.mark.parametrize(
    "values",
    [
        [0.0, 1.0] * 10,  # a 0/1 label once holding NaN, as pandas or a database writes it
        [0.0, 1.0, 2.0, 3.0] * 5,
        [1.0, -1.0] * 10,
        [0.5, 1.0] * 10,  # not whole: continuous
        np.linspace(0, 1, 20).tolist(),
    ],
)
def test_whole_floats_are_classes_as_scikit_learn_sees_them(values):
    # (a 0.0/1.0 target was trained as a regression and predicted -0.1 and 1.097)
    expected = type_of_target(np.asarray(values))
    assert detect_task(pd.Series(values, name="y")) == (
        "classification" if expected in ("binary", "multiclass") else "regression"
    )


def test_a_float_class_model_round_trips_and_reads_integer_labels():
    df = pd.DataFrame({"x": np.arange(20.0), "y": [0.0, 1.0] * 10})
    pre = TabularPreprocessor().fit(df, "y")
    assert (pre.task, pre.classes) == ("classification", [0.0, 1.0])
    again = TabularPreprocessor.from_dict(json.loads(json.dumps(pre.to_dict())))
    assert again.classes == [0.0, 1.0] and all(type(c) is float for c in again.classes)
    # the labels as written (1.0), from outputs on either side of 0.5
    assert again.inverse_target(np.array([[0.2], [0.9]])).tolist() == [0.0, 1.0]
    # a later file writing the labels 0 and 1 matches them
    np.testing.assert_array_equal(again.transform_target(pd.Series([1, 0, 1])), [[1], [0], [1]])


def _frame(column, n=40):
    return pd.DataFrame({"v": column, "y": [0, 1] * (n // 2)})


@pytest.mark.parametrize(
    "cells, signs, first, plain",
    [
        ([f"{1000 + 37 * i:,}" for i in range(40)], "thousands separators", "1,000", "1000"),
        ([f"{i}%" for i in range(40)], "percent signs", "0%", "0"),
        ([f"${i}.50" for i in range(40)], "currency signs", "$0.50", "0.50"),
        ([f"0,{10 + i}" for i in range(40)], "decimal commas", "0,10", "0.10"),
        ([f"{1000 + i:,}.5 €" for i in range(40)], "thousands separators or currency", "1,000.5 €",
         "1000.5"),
    ],
)  # fmt: skip
def test_numbers_written_with_signs_are_refused_naming_the_column_and_the_fix(
    cells, signs, first, plain
):
    # (each became a category of its own: '1,050', '45%' and '$138.00' one-hot encoded)
    with pytest.raises(InputError) as caught:
        TabularPreprocessor().fit(_frame(cells), "y")
    message = caught.value.for_command_line()
    assert f"column 'v' looks like numbers written with {signs}" in message
    assert f"(such as {first!r} at row 1 (rows counted from 1), which is {plain})" in message
    assert "40 distinct values" in message and message.endswith("or drop it with --drop v.")
    assert "df.drop(columns='v')" in str(caught.value)  # (the Python spelling)


def test_a_few_values_with_signs_are_kept_as_categories_with_a_warning():
    cells = ["10%", "20%", "50%"] * 10
    with pytest.warns(DataWarning, match=r"column 'v' looks like numbers written with percent "
                      r"signs .* one-hot encoded as 3 categories"):  # fmt: skip
        pre = TabularPreprocessor().fit(_frame(cells, 30), "y")
    assert pre.columns[0]["categories"] == ["10%", "20%", "50%"]


def test_numbers_with_separators_from_1000_up_say_so_not_missing_marks():
    # (only the values from 1,000 up have a separator: the advice was missing-value marks)
    values = [300 + 31 * i for i in range(40)]  # 300 .. 1509
    cells = [f"{v:,}" for v in values]
    with pytest.raises(InputError) as caught:
        TabularPreprocessor().fit(_frame(cells), "y")
    n_text = sum(v >= 1000 for v in values)
    message = str(caught.value)
    assert f"holds numbers in {40 - n_text} rows but text in {n_text}" in message
    assert "look like numbers written with thousands separators ('1,013' is 1013)" in message
    assert "missing values" not in message


@pytest.mark.parametrize(
    "cells",
    [
        ["A1", "B2", "C3", "1.2.10"] * 10,  # codes and versions
        [f"{i:03d}" for i in range(40)],  # zero-padded codes are numbers, no signs
        ["1,2,3", "4,5,6"] * 20,  # lists
        ["12:30", "13:45"] * 20,  # times of day alone: slots, left as categories
    ],
)
def test_other_text_stays_categories(cells):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pre = TabularPreprocessor().fit(_frame(cells), "y")
    assert pre.columns[0]["kind"] == "categorical"


def test_signed_numbers_ignores_missing_value_marks():
    series = pd.Series(["1,000", "?", "2,500", "n/a"] * 10, name="v")
    found = signed_numbers(series, series)
    assert found is not None and (found.signs, found.number, found.n_values) == (
        "thousands separators",
        "1000",
        2,
    )


@pytest.mark.parametrize(
    "column, shown",
    [
        ([f"2020-01-{d:02d}" for d in range(1, 31)] * 2, "'2020-01-01'"),
        ([f"2020-01-{d:02d}T10:30:00Z" for d in range(1, 31)] * 2, "'2020-01-01T10:30:00Z'"),
        ([f"{d}/1/2020" for d in range(1, 31)] * 2, "'1/1/2020'"),
        ([f"{d:02d}.03.2021 08:00" for d in range(1, 31)] * 2, "'01.03.2021 08:00'"),
        # (a QA pass with messy tables: these became one category per date)
        ([f"{d:02d}-Jan-2021" for d in range(1, 31)] * 2, "'01-Jan-2021'"),
        ([f"{d} March 2021" for d in range(1, 31)] * 2, "'1 March 2021'"),
        ([f"Mar {d}, 2021" for d in range(1, 31)] * 2, "'Mar 1, 2021'"),
        ([datetime.date(2020, 1, d) for d in range(1, 31)] * 2, "'2020-01-01'"),  # Parquet date32
        (pd.date_range("2020-01-01", periods=60), ""),
        (pd.to_timedelta(np.arange(60), unit="h"), ""),
    ],
)
def test_dates_are_refused_whatever_their_form_with_the_drop_fix(column, shown):
    # (dates read from a CSV were silently one-hot encoded, ~130 categories; Parquet's
    # datetime columns were refused without the quickest fix, --drop)
    df = pd.DataFrame({"when": column, "x": np.arange(60.0), "y": [0, 1] * 30})
    with pytest.raises(InputError) as caught:
        TabularPreprocessor().fit(df, "y")
    message = caught.value.for_command_line()
    assert message.startswith("column 'when' holds dates or times")
    assert (f"(such as {shown} at row 1" in message) if shown else "(such as" not in message
    assert message.endswith("or drop it with --drop when.")


def test_a_number_written_with_a_separator_at_predict_time_says_how_to_write_it():
    df = pd.DataFrame({"sqft": [800.0 + i for i in range(20)], "y": [0, 1] * 10})
    pre = TabularPreprocessor().fit(df, "y")
    with pytest.raises(InputError, match=r"holds text \('1,050' at row 2 .*thousands separators: "
                       r"write it as a plain number \(1050\)"):  # fmt: skip
        pre.transform(pd.DataFrame({"sqft": ["900", "1,050"]}))


def _target_error(values, **options):
    df = pd.DataFrame({"x": np.arange(float(len(values))), "y": values})
    with pytest.raises(InputError) as caught:
        TabularPreprocessor().fit(df, "y", **options)
    return caught.value.for_command_line()


def test_the_target_advice_names_regression_only_where_it_can_work():
    # text of a label per row: a regression cannot read it
    names = _target_error([f"name{i}" for i in range(60)])
    assert "60 distinct labels in 60 rows" in names and "--task regression" not in names
    assert names.endswith("to classify anyway, pass --task classification.")
    # numbers with separators: write them plainly (then it is a regression by itself)
    prices = _target_error([f"{100_000 + 1_007 * i:,}" for i in range(60)])
    assert "(such as '100,000'): write them as plain numbers (100000)" in prices
    assert "--task regression" not in prices
    # codes that are numbers: --task regression reads them
    codes = _target_error([f"0{i}" for i in range(60)])
    assert "For numbers, pass --task regression" in codes
    regression = TabularPreprocessor().fit(
        pd.DataFrame({"x": np.arange(60.0), "y": [f"0{i}" for i in range(60)]}),
        "y",
        task="regression",
    )
    assert regression.task == "regression"


def test_a_single_class_advises_regression_only_for_numbers():
    # (a one-row file with a text target was told to pass --task regression)
    text = _target_error(["x"])
    assert "single class ('x') in its 1 row(s)" in text and "--task regression" not in text
    assert _target_error([5, 5, 5, 5]).endswith("or pass --task regression.")


def test_regression_on_a_target_with_separators_says_how_to_write_it():
    message = _target_error([f"{1000 + i:,}" for i in range(10)], task="regression")
    assert "thousands separators: write it as a plain number (1000)" in message


def test_an_unseen_target_label_says_how_many_rows_and_the_fix():
    df = pd.DataFrame({"a": [1, 2] * 3, "y": ["x", "y"] * 3})
    pre = TabularPreprocessor().fit(df, "y")
    with pytest.raises(InputError) as caught:
        pre.transform_target(pd.Series(["x", "z", "w", "z"]))
    message = str(caught.value)
    assert "the target label 'z' at row 2 (rows counted from 1) was not seen" in message
    assert "3 row(s) hold labels the model does not know: 'z', 'w'" in message
    assert "drop those rows to score the others" in message


def test_a_huge_cell_is_quoted_shortened_in_errors_and_warnings() -> None:
    # (QA: one 50 MB cell became a 50 MB error line)
    from deltarule._columns import as_numbers

    huge = "9" * 10_000 + "x"
    with pytest.raises(InputError) as error:
        as_numbers(pd.Series([1.0, huge], name="c"), "column 'c'", "Fix it.")
    assert len(str(error.value)) < 400 and "characters)" in str(error.value)


def test_numbers_written_as_text_are_read_as_pythons_float_reads_them() -> None:
    # (review: pandas 3 misses a number with a leading + by a unit in the last place, a
    # quarter of them; pandas 2 misses others; and pandas 2 made '1e400' missing, so that a
    # column of numbers and a '?' mark was text)
    from deltarule._columns import marks_as_missing, to_numbers

    rng = np.random.default_rng(0)
    digits = rng.integers(0, 10, size=(400, 18))
    texts = [f"+{''.join(map(str, d[:12]))}.{''.join(map(str, d[12:]))}" for d in digits]
    texts += [t[1:] for t in texts[:100]] + [f" -{t[1:]}" for t in texts[100:200]]
    read = to_numbers(pd.Series(texts, dtype=object))
    assert read.tolist() == [float(t) for t in texts]
    marked = marks_as_missing(pd.Series([*texts, "?"], dtype=object))
    assert marked[: len(texts)].tolist() == [float(t) for t in texts] and np.isnan(marked.iloc[-1])
    huge = marks_as_missing(pd.Series(["1", "?", "1e400", "-1e400"], dtype=object))
    assert huge.tolist()[2:] == [np.inf, -np.inf]  # (numbers, refused later as infinite)
