"""Data readers: every way a user's file can be unusable gets a message that says how to fix it."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import numpy as np
import pytest

from deltarule.exceptions import InputError
from deltarule.io.data import read_table

pd = pytest.importorskip("pandas")


# ---------------------------------------------------------------- tables
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("d.csv", "age,city,y\n30,Paris,1\n40,Rome,0\n"),
        ("d.txt", "age,city,y\n30,Paris,1\n40,Rome,0\n"),
        ("d.csv", "age,city,y\r\n30,Paris,1\r\n40,Rome,0\r\n"),
        ("d.csv", "\ufeffage,city,y\n30,Paris,1\n40,Rome,0"),
        ("d.tsv", "age\tcity\ty\n30\tParis\t1\n40\tRome\t0\n"),
        ("d.TAB", "age\tcity\ty\r\n30\tParis\t1\r\n40\tRome\t0\r\n"),
    ],
)
def test_reads_delimited_text(write, name, content):
    frame = read_table(write(name, content))
    assert list(frame.columns) == ["age", "city", "y"]
    assert frame["age"].tolist() == [30, 40]
    assert frame["city"].tolist() == ["Paris", "Rome"]


def test_parquet_cells_become_numbers_and_text_or_a_clear_error(tmp_path):
    import decimal

    pytest.importorskip("pyarrow")
    base = pd.DataFrame({"x": [1.0, 2.0]})
    cells = base.assign(d=[decimal.Decimal("1.5"), decimal.Decimal("-2")], b=[b"red", b"blue"])
    cells.to_parquet(tmp_path / "cells.parquet")
    frame = read_table(tmp_path / "cells.parquet")
    assert frame["d"].tolist() == [1.5, -2.0] and frame["b"].tolist() == ["red", "blue"]
    base.assign(nested=[[1, 2], [3]]).to_parquet(tmp_path / "nested.parquet")
    with pytest.raises(InputError, match=r"column 'nested' holds a \w+ in row 1 .*Flatten"):
        read_table(tmp_path / "nested.parquet")


@pytest.mark.parametrize(
    "content,expected",
    [
        ("a;b;city\n1.5;2;Paris\n-3;4.25;Rome\n", [[1.5, 2.0, "Paris"], [-3.0, 4.25, "Rome"]]),
        ("a;b;city\n1,5;2;Paris\n-3;4,25;Rome\n", [[1.5, 2.0, "Paris"], [-3.0, 4.25, "Rome"]]),
        (
            "a\tb\tcity\n1.5\t2\tParis\n-3\t4.25\tRome\n",
            [[1.5, 2.0, "Paris"], [-3.0, 4.25, "Rome"]],
        ),
    ],
)
def test_csv_separator_is_sniffed_from_the_header(write, content, expected):
    # A spreadsheet in many locales saves "a;b" with decimal commas; a header with a comma
    # keeps commas, whatever the rows hold.
    frame = read_table(write("data.csv", content))
    rows = [[v.item() if hasattr(v, "item") else v for v in row] for row in frame.values]
    assert [row[: len(expected[0])] for row in rows] == expected


def test_reads_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    expected = pd.DataFrame({"a": [1.5, 2.5], "b": ["x", "y"], "c": [True, False]})
    for name in ("d.parquet", "d.pq"):
        expected.to_parquet(tmp_path / name)
        pd.testing.assert_frame_equal(read_table(tmp_path / name), expected)


def test_format_override(write):
    path = write("data.dat", "a;b\n1;2\n")
    with pytest.raises(InputError, match=r"extension '.dat'; supported extensions: .csv, .txt"):
        read_table(path)
    frame = read_table(write("data.dat", "a\tb\n1\t2\n"), format="tsv")
    assert list(frame.columns) == ["a", "b"]
    with pytest.raises(InputError, match="format='xlsx' is not supported"):
        read_table(path, format="xlsx")


def test_quoted_fields_and_utf8(write):
    frame = read_table(write("d.csv", 'name,note\n"Smith, J.",café ☕\n'))
    assert frame.iloc[0].tolist() == ["Smith, J.", "café ☕"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("e.csv", b"", "is empty \\(0 bytes\\)"),
        ("e.csv", b"\n\n\n", "has no header line"),
        ("h.csv", b"a,b,c\n", "has a header \\(columns a, b, c\\) but no data rows"),
        (
            "r.csv",
            b"a,b,c,d\n1,2,3,4\n1,2,3,4\n1,2,3,4,5\n",
            "line 4 has 5 fields but the header has 4",
        ),
        ("f.csv", b"a,b\n1,2,3\n4,5\n", "line 2 has 3 fields but the header has 2"),
        ("t.csv", b"a,b,\n1,2,3\n", "column 3 has no name"),  # (an empty one is dropped)
        ("l.csv", b"a,b\n1,x\n2,caf\xe9\n", "not UTF-8 text: line 3 contains the byte 0xe9"),
        ("l.csv", b"a,\xff\n1,2\n", "line 1 contains the byte 0xff"),
        ("d.csv", b"a,b,a\n1,2,3\n", "'a' appears 2 times \\(columns 1, 3\\)"),
        ("u.csv", b",a,b\n0,1,2\n", "column 1 has no name.*index=False"),
        ("u.csv", b"a, ,b\n0,1,2\n", "column 2 has no name"),
        ("p.parquet", b"a,b\n1,2\n", "could not be read as Parquet"),
        ("q.csv", b'a,b\n1,"x ""y"" z"\n2,"3\n4,5\n', "never closed \\(it opens on line 3\\)"),
    ],
)
def test_unusable_tables(write, name, content, message):
    with pytest.raises(InputError, match=message):
        read_table(write(name, content))


def test_messages_say_what_to_do(write):
    with pytest.raises(InputError) as info:
        read_table(write("l.csv", b"a\n\xe9\n"))
    assert "expected UTF-8" in str(info.value) and "Re-save the file as UTF-8" in str(info.value)
    with pytest.raises(InputError) as info:
        read_table(write("r.csv", b"a,b\n1,2,3\n"))
    assert "quote such values" in str(info.value)


def test_short_rows_are_refused_naming_the_line(write):
    with pytest.raises(InputError, match="line 3 has 2 fields but the header has 3"):
        read_table(write("s.csv", "a,b,c\n1,2,3\n4,5\n"))
    with pytest.raises(InputError, match="line 2 has 1 field but the header has 2"):
        read_table(write("data.csv", 'a,city\n"1,5";Paris\n2;Rome\n'))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="no such file: .*check the path"):
        read_table(tmp_path / "missing.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_table(tmp_path)


def test_pandas_is_imported_only_when_reading(tmp_path, monkeypatch):
    code = (
        "import sys, deltarule.io, deltarule.preprocessing; "
        "assert 'pandas' not in sys.modules and 'pyarrow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    monkeypatch.setitem(sys.modules, "pandas", None)
    path = tmp_path / "d.csv"
    path.write_text("a\n1\n")
    with pytest.raises(ImportError, match="pip install 'deltarule\\[cli\\]'"):
        read_table(path)


# ---------------------------------------------------------------- text as written
def test_text_columns_are_read_as_written(write):
    path = write("codes.csv", "x,code,y\n0.5,01,1\n1.5,02,2\n2.5,,3\n")
    assert read_table(path)["code"].tolist()[:2] == [1.0, 2.0]  # pandas' guess: numbers
    frame = read_table(path, text_columns=["code", "y", "absent"])
    assert frame["code"].tolist()[:2] == ["01", "02"] and pd.isna(frame["code"].iloc[2])
    assert frame["y"].tolist() == ["1", "2", "3"]
    assert frame["x"].tolist() == [0.5, 1.5, 2.5]  # other columns are still numbers


@pytest.mark.parametrize("blank", [" ", "   ", "\t"])
def test_a_cell_of_spaces_is_missing_like_an_empty_one(write, blank):
    frame = read_table(write("b.csv", f"a,b,c\n1.5,x,1\n{blank},{blank},2\n2,z,3\n"))
    assert frame["a"].dtype.kind == "f" and frame["a"].isna().tolist() == [False, True, False]
    assert frame["b"].isna().tolist() == [False, True, False]
    assert frame["b"].iloc[0] == "x" and frame["c"].tolist() == [1, 2, 3]


def test_a_parquet_cell_of_spaces_is_missing(tmp_path):
    pytest.importorskip("pyarrow")
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": ["x", " ", ""]}).to_parquet(tmp_path / "d.parquet")
    assert read_table(tmp_path / "d.parquet")["b"].isna().tolist() == [False, True, True]


def test_a_parquet_text_cell_that_is_not_utf8_is_a_clear_error(tmp_path):
    # (pyarrow checks UTF-8 when the column is first used: a raw ArrowInvalid escaped from the
    # blank-cell pass; found by the Parquet fuzz test)
    pytest.importorskip("pyarrow")
    pd.DataFrame({"a": [1.0, 2.0], "b": ["xq", "yq"]}).to_parquet(tmp_path / "d.parquet")
    data = (tmp_path / "d.parquet").read_bytes()
    (tmp_path / "bad.parquet").write_bytes(data.replace(b"xq", b"\xffq", 1))
    with pytest.raises(InputError, match="could not be read as Parquet .*UTF8"):
        read_table(tmp_path / "bad.parquet")


# ---------------------------------------------------------------- compressed and foreign files
def test_gzip_compressed_text_reads_like_the_plain_file(tmp_path):
    import gzip

    text = b"a;b;city\n1,5;2;Paris\n-3;4,25;Rome\n"  # a sniffed separator and decimal comma
    (tmp_path / "d.csv").write_bytes(text)
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(text))
    (tmp_path / "gz.csv").write_bytes(gzip.compress(text))  # compressed, named as plain text
    (tmp_path / "d.tsv.gz").write_bytes(gzip.compress(text.replace(b";", b"\t")))
    plain = read_table(tmp_path / "d.csv")
    assert plain["a"].tolist() == [1.5, -3.0]
    for name in ("d.csv.gz", "gz.csv"):
        pd.testing.assert_frame_equal(read_table(tmp_path / name), plain)
    assert read_table(tmp_path / "d.tsv.gz")["city"].tolist() == ["Paris", "Rome"]


def test_damaged_or_unnamed_gzip(tmp_path):
    import gzip

    whole = gzip.compress(b"a,b\n" + b"1,2\n" * 2000)
    (tmp_path / "cut.csv.gz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match="is gzip-compressed but damaged .*gzip -k"):
        read_table(tmp_path / "cut.csv.gz")
    (tmp_path / "data.gz").write_bytes(whole)
    with pytest.raises(InputError, match="ends in .gz but does not say .* data.csv.gz"):
        read_table(tmp_path / "data.gz")


def test_a_cut_gzip_file_is_damaged_not_too_big_for_memory(tmp_path, monkeypatch):
    # (QA: a cut file's last 4 bytes, read as gzip's size of the text, made it "decompresses
    # to 2,947,729,862 bytes, more than half the memory"; deflate expands 1032:1 at most)
    import gzip
    import random

    monkeypatch.setattr("deltarule.io.data.available_memory", lambda: 2 * 1024**3)
    rng = random.Random(0)
    text = "a,b,label\n" + "".join(f"{rng.random():.6f},{rng.random():.6f},x\n" for _ in range(500))
    cut = gzip.compress(text.encode(), mtime=0)[:200]
    assert int.from_bytes(cut[-4:], "little") > 1024**3  # (what the size check would read)
    (tmp_path / "cut.csv.gz").write_bytes(cut)
    with pytest.raises(InputError, match="is gzip-compressed but damaged .*gzip -k"):
        read_table(tmp_path / "cut.csv.gz")
    # a whole file that expands as far as deflate goes is still measured by its size
    (tmp_path / "zeros.csv.gz").write_bytes(gzip.compress(b"a\n" + b"0" * 10_000_000))
    monkeypatch.setattr("deltarule.io.data.available_memory", lambda: 4_000_000)
    with pytest.raises(InputError, match="decompresses to 10,000,002 bytes, more than half"):
        read_table(tmp_path / "zeros.csv.gz")


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p.write_bytes("a,b\n1,2\n".encode("utf-16")), "is UTF-16 text"),
        (lambda p: p.write_bytes("a,b\n1,2\n".encode("utf-16-le")), "is UTF-16 text"),
        (lambda p: p.write_bytes("a,b\n1,2\n".encode("utf-32")), "is UTF-32 text"),
        (lambda p: _zip(p, {"data.csv": b"a,b\n1,2\n"}), "is a zip archive (holding data.csv)"),
        (
            lambda p: _zip(p, {"[Content_Types].xml": b"<x/>", "xl/workbook.xml": b"<x/>"}),
            "is an Excel workbook (.xlsx)",
        ),
        (lambda p: np.savez(p.open("wb"), X=np.zeros(2)), "is an .npz archive"),
        (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(60)), ".xls"),
        (lambda p: pd.DataFrame({"a": [1.0]}).to_parquet(p), "is a Parquet file"),
    ],
)
def test_files_that_are_not_text_say_what_they_are(tmp_path, make, fragment):
    path = tmp_path / "data.csv"
    make(path)
    with pytest.raises(InputError) as info:
        read_table(path)
    message = str(info.value)
    assert fragment in message and "expected a CSV, TSV or Parquet file" in message
    assert "latin1" not in message  # the advice for Latin-1 text would make garbage of these


def test_text_that_starts_like_a_magic_number_is_text(write):
    frame = read_table(write("d.csv", "PAR1,PK\n1,2\n"))
    assert list(frame.columns) == ["PAR1", "PK"] and frame.iloc[0].tolist() == [1, 2]


@pytest.mark.parametrize("name", ["model.safetensors", "model.csv", "model.parquet"])
def test_a_model_file_given_as_data_is_named(tmp_path, name):
    import deltarule as dr
    from deltarule.io import save_model

    save_model(dr.Network([2, 3, 1], seed=0), tmp_path / name)
    with pytest.raises(InputError, match="is a model file .*deltarule predict MODEL DATA"):
        read_table(tmp_path / name)


# ---------------------------------------------------------------- where a row is in its file
def test_rows_are_named_by_the_line_they_start_on(write):
    from deltarule.io.data import ROWS_ATTR

    # a blank line, a line of spaces, a quoted value over two lines and CRLF endings
    text = 'a,b\r\n1,x\r\n\r\n   \r\n2,"two\r\nlines"\r\n3,z\r\n'
    frame = read_table(write("d.csv", text))
    assert frame["a"].tolist() == [1, 2, 3]
    name_row = frame["a"].attrs[ROWS_ATTR]  # travels with a column
    assert [name_row(i) for i in range(3)] == [
        "line 2 of 'd.csv' (data row 1)",
        "line 5 of 'd.csv' (data row 2)",
        "line 7 of 'd.csv' (data row 3)",
    ]


def test_rows_of_a_tab_file_with_an_empty_line_of_tabs(write):
    from deltarule.io.data import ROWS_ATTR

    frame = read_table(write("d.tsv", "a\tb\n1\tx\n\t\n\n2\ty\n"))  # "\t" is a row of gaps
    name_row = frame.attrs[ROWS_ATTR]
    assert len(frame) == 3 and name_row(2) == "line 5 of 'd.tsv' (data row 3)"


def test_parquet_rows_are_named_without_lines(tmp_path):
    from deltarule.io.data import ROWS_ATTR

    pytest.importorskip("pyarrow")
    pd.DataFrame({"a": [1.0, 2.0]}).to_parquet(tmp_path / "d.parquet")
    assert read_table(tmp_path / "d.parquet").attrs[ROWS_ATTR](1) == "row 2 of 'd.parquet'"


def test_a_long_row_after_a_quoted_line_break_names_its_own_line(write):
    with pytest.raises(InputError, match="line 4 has 3 fields but the header has 2"):
        read_table(write("d.csv", 'a,b\n"x\ny",2\n1,2,3\n'))  # pandas says line 3


# ---------------------------------------------------------------- columns the caller needs
def test_badly_named_columns_the_caller_does_not_need_are_dropped(write):
    path = write("d.csv", ",id,id,a,b\n0,1,2,3,4\n")
    with pytest.raises(InputError, match="column 1 has no name"):
        read_table(path)
    frame = read_table(path, needed=["a", "b"])
    assert list(frame.columns) == ["a", "b"] and frame.iloc[0].tolist() == [3, 4]
    with pytest.raises(InputError, match="'id' appears 2 times \\(columns 2, 3\\)"):
        read_table(path, needed=["a", "id"])


@pytest.mark.parametrize(
    "text, blank",
    [
        ("a\n1\n\n3\n", [3]),  # (a missing value written as an empty line: left out)
        ("a\n1\n\n\n3\n \n4\n", [3, 4, 6]),
        ("a\n1\n3\n\n\n", []),  # blank lines at the end are nothing
        ("a\n\n1\n3\n", [2]),
        ('a\n"x\n\ny"\n3\n', []),  # (an empty line inside a quoted cell is part of it)
    ],
)
def test_a_one_column_file_says_which_blank_lines_it_left_out(tmp_path, text, blank):
    # (QA: a blank line among a one-column file's rows was dropped silently, so predict
    # returned fewer rows than the file's lines; a blank line is no row, but say so)
    import warnings

    from deltarule.exceptions import DataWarning

    path = tmp_path / "one.csv"
    path.write_text(text, encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_table(path, text_columns=["a"])
    said = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    if blank:
        assert len(said) == 1 and f"{len(blank)} blank line" in said[0]
        assert f"(line {', '.join(map(str, blank))})" in said[0]
    else:
        assert not said
    lines = [line for line in text.split("\n")[1:] if line.strip()]
    assert len(frame) == (len(lines) if '"' not in text else 2)


def test_blank_lines_between_rows_of_several_columns_are_not_warned_about(tmp_path):
    import warnings

    path = tmp_path / "two.csv"
    path.write_text("a,b\n1,2\n\n3,4\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_table(path).shape == (2, 2)


@pytest.mark.parametrize("mark", ["?", "-", "missing", "NA"])
def test_a_missing_mark_in_a_column_of_decimal_commas_is_missing(tmp_path, mark):
    # (QA: '?' was refused there as text, though the preprocessor reads it as missing in a
    # column of numbers written with points)
    path = tmp_path / "dc.csv"
    path.write_text(f"x;y\n{mark};a\n1,5;b\n2,5;a\n3,25;b\n", encoding="utf-8")
    frame = read_table(path)
    assert frame["x"].dtype == np.float64
    assert np.isnan(frame["x"].iloc[0]) and frame["x"].iloc[1:].tolist() == [1.5, 2.5, 3.25]


def test_other_text_among_decimal_commas_is_still_refused(tmp_path):
    path = tmp_path / "dc.csv"
    path.write_text("x;y\nabc;a\n1,5;b\n2,5;a\n3,25;b\n", encoding="utf-8")
    with pytest.raises(InputError, match="decimal comma"):
        read_table(path)


def test_a_table_whose_lines_were_checked_is_read_in_part_however_narrow(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("1,2,3,4\n5,6,7,8\n9,10,11,12\n")  # (a header of numbers: warned once)
    with pytest.warns(Warning, match="number"):
        whole = read_table(path, columns=["2"])
    assert list(whole.columns) == ["1", "2", "3", "4"]  # (few columns left out: all read)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (not warned again of the columns read)
        part = read_table(path, columns=["2"], lines_checked=True)
    assert list(part.columns) == ["2", "4"]  # the column, and the last (a short line's)
    assert part["2"].tolist() == whole["2"].tolist()
