"""``deltarule predict --chunk-rows``: a file read a few rows at a time gives the whole file's
output byte for byte, its errors name the file's rows, and a failure midway writes nothing."""

from __future__ import annotations

import gzip
import io
import os
import sys
import tempfile
import warnings

import numpy as np
import pandas as pd
import pytest

from .cli_helpers import cli, flowers, houses

WHOLE = "1000000"  # (one chunk for these files: the whole file's output, as before)


def _train(capsys, data, target, *extra):
    code, _, err = cli(capsys, "train", data, "--target", target, "--epochs", "3", "--quiet",
                       "--out", "model.safetensors", *extra)  # fmt: skip
    assert code == 0, err


def _same(capsys, *argv, sizes=("2", "3")):
    """The output for every chunk size in ``sizes`` equals the whole file's; returns it."""
    code, whole, err = cli(capsys, "predict", *argv, "--chunk-rows", WHOLE)
    assert code == 0, err
    for size in sizes:
        code, out, err = cli(capsys, "predict", *argv, "--chunk-rows", size)
        assert code == 0, err
        assert out == whole, size
    return whole


@pytest.fixture
def flower_model(capsys, in_tmp, flowers_csv):
    _train(capsys, flowers_csv, "species")


@pytest.mark.parametrize("options", [(), ("--proba",), ("--format", "json"),
                                     ("--proba", "--format", "json")])  # fmt: skip
def test_classification_in_chunks_is_the_whole_files_output(capsys, flower_model, options):
    flowers(seed=7).assign(id=[f"00{i}" for i in range(60)]).to_csv("new.csv", index=False)
    out = _same(capsys, "model.safetensors", "new.csv", "--keep", "id", *options)
    assert "007" in out  # (a kept code as written)


def test_regression_kept_numbers_and_text(capsys, in_tmp, houses_csv):
    """A kept feature read as integers in the first chunks and as floats in a later one
    (a fraction, a gap) is written as floats throughout, as the whole column is."""
    _train(capsys, houses_csv, "price", "--impute", "mean")
    new = houses(n=9, seed=3)
    new["size"] = [20, 30, 40, 50, 60, 70.5, None, 80, 90]
    new["note"] = ["007", "NA", "", "x", "1,5", "-", "a b", "2", "3"]
    new.to_csv("new.csv", index=False)
    for form in ("csv", "json"):
        out = _same(capsys, "model.safetensors", "new.csv", "--keep", "size,note,city",
                    "--format", form)  # fmt: skip
        assert ("20.0" in out) and ("007" in out)


def test_decimal_commas_and_a_category_missing_in_a_whole_chunk(capsys, in_tmp, houses_csv):
    _train(capsys, houses_csv, "price", "--impute", "most_frequent")
    text = "city;size;id\n" + "".join(
        f"{city};{size};{i:03d}\n"
        for i, (city, size) in enumerate([("rome", "20"), ("oslo", "31,5"), ("", "40"),
                                          ("", "55,25"), ("paris", ""), ("rome", "61")])
    )  # fmt: skip
    with open("new.csv", "w") as handle:
        handle.write(text)
    out = _same(capsys, "model.safetensors", "new.csv", "--keep", "id,size")
    assert "31.5" in out and "000" in out


def test_multi_target_regression(capsys, in_tmp):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)})
    frame = frame.assign(y1=frame.a * 2, y2=frame.b - frame.a)
    frame.to_csv("train.csv", index=False)
    _train(capsys, "train.csv", "y1,y2")
    frame.head(11).to_csv("new.csv", index=False)
    out = _same(capsys, "model.safetensors", "new.csv", "--keep", "a")
    assert out.splitlines()[0] == "a,y1,y2"


def test_multilabel_estimators_columns(capsys, in_tmp):
    from sklearn.datasets import make_multilabel_classification

    from deltarule.sklearn import MLPClassifier

    X, Y = make_multilabel_classification(n_samples=30, n_features=4, n_classes=3,
                                          random_state=0)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(max_iter=20, random_state=0).fit(X, Y).save("ml.safetensors")
    pd.DataFrame(X, columns=[f"x{i}" for i in range(4)]).to_csv("ml.csv", index=False)
    _same(capsys, "ml.safetensors", "ml.csv", "--format", "json")


def test_gzip_parquet_and_standard_input(capsys, flower_model, monkeypatch):
    new = flowers(seed=4).assign(id=range(60))
    new.loc[5, "id"] = None  # (integers with a gap: floats, in every record batch)
    new["day"] = pd.date_range("2020-01-01", periods=60, freq="h")
    new.to_csv("new.csv", index=False)
    with gzip.open("new.csv.gz", "wt") as handle:
        handle.write(new.to_csv(index=False))
    new.to_parquet("new.parquet", row_group_size=7)
    plain = _same(capsys, "model.safetensors", "new.csv", "--keep", "id")
    assert _same(capsys, "model.safetensors", "new.csv.gz", "--keep", "id") == plain
    for form in ("csv", "json"):
        out = _same(capsys, "model.safetensors", "new.parquet", "--keep", "id,day",
                    "--format", form)  # fmt: skip
        assert "2020-01-01" in out
    for size in ("2", WHOLE):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(new.to_csv(index=False)
                                                                     .encode())))  # fmt: skip
        code, out, err = cli(capsys, "predict", "model.safetensors", "-", "--keep", "id",
                             "--chunk-rows", size)  # fmt: skip
        assert (code, out) == (0, plain), err


def test_a_bad_row_in_a_later_chunk_is_named_by_its_line(capsys, flower_model):
    new = flowers(seed=7)
    new["length"] = new["length"].astype(object)
    new.iloc[40, new.columns.get_loc("length")] = "oops"
    new.to_csv("new.csv", index=False)
    code, _, whole = cli(capsys, "predict", "model.safetensors", "new.csv")
    assert code == 2 and "line 42" in whole
    code, _, err = cli(capsys, "predict", "model.safetensors", "new.csv", "--chunk-rows", "3")
    assert (code, err) == (2, whole)


def test_a_short_line_in_a_later_chunk_is_named(capsys, flower_model):
    lines = flowers(seed=7).to_csv(index=False).splitlines()
    lines[30] = lines[30].rsplit(",", 1)[0]
    with open("new.csv", "w") as handle:
        handle.write("\n".join(lines) + "\n")
    code, _, whole = cli(capsys, "predict", "model.safetensors", "new.csv")
    assert code == 2 and "line 31" in whole
    code, _, err = cli(capsys, "predict", "model.safetensors", "new.csv", "--chunk-rows", "4")
    assert (code, err) == (2, whole)


def test_a_failure_midway_leaves_the_previous_file(capsys, flower_model, in_tmp):
    new = flowers(seed=7)
    new.to_csv("new.csv", index=False)
    (in_tmp / "p.csv").write_text("previous\n")
    new["width"] = new["width"].astype(object)
    new.iloc[50, new.columns.get_loc("width")] = "bad"
    new.to_csv("bad.csv", index=False)
    code, _, err = cli(capsys, "predict", "model.safetensors", "bad.csv", "--chunk-rows", "2",
                       "--out", "p.csv")  # fmt: skip
    assert code == 2 and "line 52" in err
    assert (in_tmp / "p.csv").read_text() == "previous\n"
    assert sorted(p.name for p in in_tmp.iterdir()) == sorted(
        ["bad.csv", "model.safetensors", "new.csv", "p.csv", "flowers.csv"]
    ) or not [p for p in in_tmp.iterdir() if p.name.startswith(".") or "tmp" in p.name]
    code, _, err = cli(capsys, "predict", "model.safetensors", "new.csv", "--chunk-rows", "2",
                       "--out", "p.csv")  # fmt: skip
    code_whole, whole, _ = cli(capsys, "predict", "model.safetensors", "new.csv")
    assert code == code_whole == 0 and (in_tmp / "p.csv").read_text() == whole


def test_unseen_categories_are_warned_about_once(capsys, flower_model):
    new = flowers(seed=7)
    new.iloc[[4, 20, 50], new.columns.get_loc("colour")] = "green"
    new.to_csv("new.csv", index=False)
    code, whole, whole_err = cli(capsys, "predict", "model.safetensors", "new.csv")
    code, out, err = cli(capsys, "predict", "model.safetensors", "new.csv", "--chunk-rows", "3")
    assert (code, out) == (0, whole)
    assert err.count("not seen in training") == 1 and "has 3 value(s)" in err
    assert err.split("UserWarning")[-1] == whole_err.split("UserWarning")[-1] or (
        "line 6" in err and "line 6" in whole_err
    )


@pytest.mark.parametrize("value", ["0", "-5", "x", "1.5", "", "1e5"])
def test_chunk_rows_must_be_a_positive_whole_number(capsys, flower_model, value):
    code, _, err = cli(capsys, "predict", "model.safetensors", "flowers.csv",
                       "--chunk-rows", value)  # fmt: skip
    assert code == 2 and "--chunk-rows" in err and "a whole number of 1 or more" in err
    assert "without an exponent or a point, such as 100000" in err


def test_chunk_rows_beyond_any_file_read_the_whole_file(capsys, flower_model):
    """A count of rows too large for the readers (more than sys.maxsize) reads the whole
    file at once, as any count larger than the file does (no OverflowError)."""
    flowers(seed=7).to_parquet("new.parquet")
    for data in ("flowers.csv", "new.parquet"):
        _same(capsys, "model.safetensors", data, sizes=("99999999999999999999",))


def test_batches_of_many_rows_are_the_whole_files(capsys, in_tmp, houses_csv):
    """9,000 rows in chunks of 4,096: the network sees batches whose rows are a whole
    file's (outputs to the last bit), and a kept column of whole numbers until row 8,500
    is written as floats from the first row, as the whole column is."""
    _train(capsys, houses_csv, "price")
    new = houses(n=9000, seed=5)
    new["size"] = new["size"].round().astype(int)
    new = new[["city", "price", "size"]]  # (size last: a ".5" ends its line)
    new.to_csv("new.csv", index=False)
    lines = (in_tmp / "new.csv").read_text().splitlines()
    lines[8500] = lines[8500] + ".5"
    (in_tmp / "new.csv").write_text("\n".join(lines) + "\n")
    out = _same(capsys, "model.safetensors", "new.csv", "--keep", "size", sizes=("4096", "5"))
    assert out.splitlines()[1].split(",")[0].endswith(".0")
    _same(capsys, "model.safetensors", "new.csv", "--format", "json", sizes=("4096",))


@pytest.fixture
def rooms_model(capsys, in_tmp):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"size": rng.uniform(0.5, 2, 40), "rooms": rng.integers(1, 6, 40)})
    frame["price"] = frame["size"] * 3 + frame["rooms"]
    frame.to_csv("train.csv", index=False)
    _train(capsys, "train.csv", "price")


def _write_rows(rows, sep=";", name="new.csv"):
    with open(name, "w") as handle:
        handle.write(f"size{sep}rooms{sep}id\n")
        handle.write("".join(f"{size}{sep}{rooms}{sep}{i}\n" for i, (size, rooms)
                             in enumerate(rows)))  # fmt: skip


@pytest.mark.parametrize("problem", ["text", "lacking"])
def test_a_short_line_further_on_comes_before_a_first_chunks_problem(capsys, flower_model, problem):
    # (a value the model refuses in the first chunk, or a column it lacks, was raised at
    # once; a whole reading first finds the short line further on)
    new = flowers(seed=7)
    if problem == "text":
        new["length"] = new["length"].astype(object)
        new.iloc[0, new.columns.get_loc("length")] = "oops"
    else:
        new = new.drop(columns="width")
    lines = new.to_csv(index=False).splitlines()
    lines[30] = lines[30].rsplit(",", 1)[0]
    with open("new.csv", "w") as handle:
        handle.write("\n".join(lines) + "\n")
    err = _same_error(capsys, "model.safetensors", "new.csv", sizes=("1", "4"))
    assert "line 31" in err


def _same_error(capsys, *argv, sizes=("2", "3")):
    """Every chunk size in ``sizes`` fails as the whole file does: the same status, error
    line and (no) output; returns the error."""
    code, whole, err = cli(capsys, "predict", *argv, "--chunk-rows", WHOLE)
    assert code == 2 and not whole, err
    for size in sizes:
        assert cli(capsys, "predict", *argv, "--chunk-rows", size) == (code, whole, err), size
    return err


def test_decimal_commas_judged_by_a_decimal_point_in_a_later_chunk(capsys, rooms_model):
    """1,050 everywhere and a decimal point (2.5) in another column only in the last chunk:
    the commas may separate thousands, so the column is text, refused in every chunk size
    (none reads the first chunks as 1.05)."""
    _write_rows([("1,050", 3)] * 6 + [("1,050", "2.5")])
    err = _same_error(capsys, "model.safetensors", "new.csv", "--keep", "id")
    assert "size" in err


def test_a_decimal_comma_in_a_later_chunk_settles_the_column(capsys, rooms_model):
    """1,050 with a decimal point (0.25) in the first chunk, an unambiguous 1,5 in a later
    one: the column is decimal commas, as the whole file's."""
    _write_rows([("1,050", "0.25")] + [("1,050", 3)] * 5 + [("1,5", 2)])
    out = _same(capsys, "model.safetensors", "new.csv", "--keep", "size")
    assert out.splitlines()[1].startswith("1.05,")


def test_quoted_decimal_commas_in_a_comma_separated_file(capsys, rooms_model, monkeypatch):
    """Quoted "1,050" in the first chunks and "1,5" only in the last: decimal commas
    throughout, in a plain, a gzip-compressed file and standard input."""
    _write_rows([('"1,050"', 3)] * 6 + [('"1,5"', 2)], sep=",")
    out = _same(capsys, "model.safetensors", "new.csv", "--keep", "size")
    assert out.splitlines()[1].startswith("1.05,")
    text = open("new.csv").read()
    with gzip.open("new.csv.gz", "wt") as handle:
        handle.write(text)
    assert _same(capsys, "model.safetensors", "new.csv.gz", "--keep", "size") == out
    for size in ("2", WHOLE):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
        code, got, err = cli(capsys, "predict", "model.safetensors", "-", "--keep", "size",
                             "--chunk-rows", size)  # fmt: skip
        assert (code, got) == (0, out), err


def test_a_thousands_point_in_a_later_chunk_is_refused_by_its_line(capsys, rooms_model):
    """Decimal commas with 3.012 in another column only in the last chunk: the whole file's
    error, naming that cell's line, before anything is written."""
    _write_rows([("1,5", 3)] * 6 + [("1,5", "3.012")])
    err = _same_error(capsys, "model.safetensors", "new.csv")
    assert "'3.012' at line 8" in err


def test_points_that_cannot_group_thousands_in_a_later_chunk(capsys, rooms_model):
    """3.012 in the first chunk could be 3012, but 0.25 in a later one cannot: the file's
    points are decimal points, and its decimal commas numbers, in every chunk size."""
    _write_rows([("1,5", "3.012")] + [("1,5", 3)] * 5 + [("1,25", "0.25")])
    out = _same(capsys, "model.safetensors", "new.csv", "--keep", "size,rooms")
    assert out.splitlines()[1].startswith("1.5,3.012,")


def test_lines_of_separators_at_the_end_keep_whole_numbers_whole(capsys, in_tmp, houses_csv):
    """A file ending with lines of nothing but separators gives the output of the file
    without them: a kept column of whole numbers is written as whole numbers."""
    _train(capsys, houses_csv, "price")
    new = houses(n=5, seed=3)[["city", "size"]].assign(size=[20, 30, 40, 50, 60])
    new.to_csv("clean.csv", index=False)
    with open("new.csv", "w") as handle:
        handle.write(new.to_csv(index=False) + ",\n,\n")
    clean = _same(capsys, "model.safetensors", "clean.csv", "--keep", "size")
    assert clean.splitlines()[1].startswith("20,")
    assert _same(capsys, "model.safetensors", "new.csv", "--keep", "size",
                 sizes=("2", "3", "4", "5")) == clean  # fmt: skip


@pytest.mark.parametrize("text", ["length,width,colour\n", "length,width,colour\n,,\n,,\n"])
def test_a_file_of_no_rows_names_its_header_columns(capsys, flower_model, monkeypatch, text):
    """A header and no data rows (or only lines of separators), in a file, on standard
    input and in an empty Parquet file: the error lists the header's columns."""
    with open("empty.csv", "w") as handle:
        handle.write(text)
    listed = "has a header (columns length, width, colour) but no data rows"
    err = _same_error(capsys, "model.safetensors", "empty.csv")
    assert listed in err and err.count("\n") == 1
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    code, out, err = cli(capsys, "predict", "model.safetensors", "-", "--chunk-rows", "2")
    assert (code, out) == (2, "") and listed in err
    flowers().iloc[:0, :3].to_parquet("empty.parquet")
    assert listed in _same_error(capsys, "model.safetensors", "empty.parquet")


@pytest.mark.parametrize("form", ["csv", "json"])
def test_a_bad_value_in_a_later_chunk_prints_no_predictions(capsys, flower_model, form):
    """Standard output gets the predictions only once every row is predicted: a bad value
    in the last chunk (after batches of 4,096 rows were predicted) prints the error alone,
    as a whole reading does."""
    new = flowers(n_per_class=3000, seed=7)
    new["length"] = new["length"].astype(object)
    new.iloc[8900, new.columns.get_loc("length")] = "oops"
    new.to_csv("new.csv", index=False)
    err = _same_error(capsys, "model.safetensors", "new.csv", "--format", form,
                      sizes=("4096",))  # fmt: skip
    assert err.count("\n") == 1 and "line 8902" in err


def test_standard_output_spills_to_a_temporary_file(capsys, flower_model, monkeypatch):
    """Predictions over the spool's size in memory (here 1 byte) go through a temporary
    file, and come out the same."""
    from deltarule.cli import predict

    flowers(seed=7).to_csv("new.csv", index=False)
    whole = _same(capsys, "model.safetensors", "new.csv", "--format", "json")
    monkeypatch.setattr(predict, "SPOOL_BYTES", 1)
    spools = []

    class Spool(tempfile.SpooledTemporaryFile):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            spools.append(self)

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", Spool)
    assert _same(capsys, "model.safetensors", "new.csv", "--format", "json") == whole
    assert spools and all(spool._rolled for spool in spools)  # (on disk, not in memory)


def test_kept_integers_of_2_to_the_63_or_more_stay_integers(capsys, rooms_model):
    """A kept column of whole numbers with 2**63 in a later chunk is unsigned integers
    throughout, as the whole column is (not floats, which would print 1.0 and lose the
    big one's last digits); with a negative number too, floats throughout, as whole."""
    _write_rows([(1.5, rooms) for rooms in [*range(1, 12), 2**63]], sep=",")
    for form in ("csv", "json"):
        out = _same(capsys, "model.safetensors", "new.csv", "--keep", "rooms",
                    "--format", form, sizes=("7", "1"))  # fmt: skip
        assert "9223372036854775808," in out and "e+18," not in out and "1.0," not in out
    _write_rows([(1.5, rooms) for rooms in [*range(1, 12), 2**63, -3]], sep=",")
    out = _same(capsys, "model.safetensors", "new.csv", "--keep", "rooms", sizes=("7", "1"))
    assert out.splitlines()[1].startswith("1.0,")


def test_a_header_that_looks_like_data_is_judged_on_the_whole_file(capsys, flower_model):
    """A first line of numbers and a word found in its own column only in the last row:
    warned about in every chunk size, as by a whole reading."""
    with open("new.csv", "w") as handle:
        handle.write("0.5,1.5,red\n1,2,blue\n3,4,blue\n5,6,blue\n7,8,red\n")
    err = _same_error(capsys, "model.safetensors", "new.csv", sizes=("1", "2"))
    assert err.startswith("warning: the first line of 'new.csv' looks like data")


@pytest.fixture
def two_texts_model(capsys, in_tmp):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"c1": rng.choice(["a", "b"], 40), "c2": rng.choice(["x", "y"], 40),
                          "n": rng.normal(size=40)})  # fmt: skip
    frame["t"] = frame["n"] + (frame["c1"] == "a")
    frame.to_csv("train.csv", index=False)
    _train(capsys, "train.csv", "t")


def test_unseen_values_are_warned_about_in_the_models_column_order(capsys, two_texts_model):
    """Values not seen in training in c2 in the first chunk and in c1 in a later one: the
    warnings come in the whole reading's order, c1's first."""
    with open("new.csv", "w") as handle:
        handle.write("c1,c2,n\na,zz,0.1\n" + "a,x,0.2\n" * 5 + "qq,x,0.3\n")
    whole = cli(capsys, "predict", "model.safetensors", "new.csv", "--chunk-rows", WHOLE)
    assert whole[0] == 0 and whole[2].index("'c1'") < whole[2].index("'c2'")
    for size in ("2", "3"):
        assert cli(capsys, "predict", "model.safetensors", "new.csv",
                   "--chunk-rows", size) == whole  # fmt: skip


def test_an_error_in_a_later_chunk_drops_the_warnings_gathered_before(capsys, two_texts_model):
    """Values not seen in training in the first chunks and a short line in the last: the
    whole reading's error alone (it never gets to the values), in CSV and JSON."""
    with open("new.csv", "w") as handle:
        handle.write("c1,c2,n\nqq,zz,0.1\n" + "a,x,0.2\n" * 5 + "a,x\n")
    for form in ("csv", "json"):
        err = _same_error(capsys, "model.safetensors", "new.csv", "--format", form)
        assert "line 8 has 2 fields" in err and "warning" not in err


@pytest.mark.parametrize("bad", ["short", "text"])
def test_a_failing_chunked_reading_closes_its_files(in_tmp, flowers_csv, bad):
    """A bad line (or a bad value) in a later chunk: the error, and no file left open (a
    ResourceWarning made an error, in a process of its own)."""
    from .cli_helpers import REPO, cli_subprocess

    done = cli_subprocess("train", flowers_csv, "--target", "species", "--epochs", "2",
                          "--quiet", "--out", "model.safetensors", cwd=in_tmp)  # fmt: skip
    assert done.returncode == 0, done.stderr
    new = flowers(seed=7)
    lines = new.to_csv(index=False).splitlines()
    if bad == "short":
        lines[40] = lines[40].rsplit(",", 1)[0]
    else:
        lines[40] = "oops," + lines[40].split(",", 1)[1]
    (in_tmp / "new.csv").write_text("\n".join(lines) + "\n")
    strict = {**os.environ, "PYTHONWARNINGS": "error::ResourceWarning", "PYTHONDEVMODE": "1",
              "PYTHONPATH": str(REPO / "src")}  # fmt: skip
    for data in ("new.csv", "-"):
        done = cli_subprocess("predict", "model.safetensors", data, "--chunk-rows", "3",
                              cwd=in_tmp, input=(in_tmp / "new.csv").read_text(),
                              env=strict)  # fmt: skip
        assert done.returncode == 2 and "line 41" in done.stderr, done.stderr
        assert "ResourceWarning" not in done.stderr and "unclosed" not in done.stderr
