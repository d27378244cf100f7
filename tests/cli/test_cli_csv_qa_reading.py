"""The command line on messy delimited text (the QA report's items 1, 4-7, 10, 11 and 13):
decimal commas train as numbers, NA stays a category in text, --sep and --no-header in
train, predict and evaluate, hints when the separator or the header was not found."""

from __future__ import annotations

import json
import random

import pytest

from .cli_helpers import cli

pytest.importorskip("pandas")


def _two_features(n: int = 200, seed: int = 11) -> list[tuple[float, float, int]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        a, b = rng.gauss(0, 1), rng.gauss(0, 1)
        rows.append((a, b, int(a + b > 0)))
    return rows


def _preprocessing(capsys, model) -> dict:
    code, out, err = cli(capsys, "inspect", str(model), "--format", "json")
    assert code == 0, err
    return json.loads(out)


def _column_kinds(capsys, model) -> dict[str, str]:
    code, out, err = cli(capsys, "inspect", str(model))
    assert code == 0, err
    kinds = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 2 and words[1] in ("numeric", "categorical"):
            kinds[words[0]] = words[1]
    return kinds


# ---------------------------------------------------------------- 1: decimal commas
@pytest.mark.parametrize("name", ["dec.tsv", "quoted.csv", "late.csv"])
def test_decimal_commas_train_as_numbers(tmp_path, capsys, name):
    rows = _two_features()
    if name == "dec.tsv":
        lines = ["a\tb\ty"] + [f"{a:.2f}\t{b:.2f}\t{y}".replace(".", ",") for a, b, y in rows]
    elif name == "quoted.csv":
        lines = ["a,b,y"] + [f'"{a:.2f}","{b:.2f}",{y}'.replace(".", ",") for a, b, y in rows]
    else:  # whole numbers in the first 60 lines, decimal commas after them
        lines = ["a;b;y"] + [
            f"{round(a * 10)};{round(b * 10)};{y}"
            if i < 60
            else f"{a * 10:.1f};{b * 10:.1f};{y}".replace(".", ",")
            for i, (a, b, y) in enumerate(rows)
        ]
    data = tmp_path / name
    data.write_text("\n".join(lines) + "\n")
    model = tmp_path / "m.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", model, "--epochs", "60",
                       "--quiet")  # fmt: skip
    assert code == 0, err
    assert _column_kinds(capsys, model) == {"a": "numeric", "b": "numeric"}
    code, out, err = cli(capsys, "evaluate", model, data, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["metrics"]["accuracy"] > 0.9


def test_a_column_mostly_of_decimal_commas_with_text_is_an_error(tmp_path, capsys):
    data = tmp_path / "m.csv"
    data.write_text("a;y\n" + "".join(f"{i},5;{i % 2}\n" for i in range(30)) + "n.v.;1\n")
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", tmp_path / "m.st")
    assert code == 2
    assert "column 'a' holds numbers written with a decimal comma" in err
    assert "'n.v.' at line 32 of 'm.csv'" in err


# ---------------------------------------------------------------- 4: NA in text
NACAT = "c,v,y\nNA,1,a\nDE,2,b\nNA,3,a\nFR,1,b\nNA,2,a\nDE,3,b\n"


def test_na_in_a_text_column_is_a_category(tmp_path, capsys):
    data = tmp_path / "nacat.csv"
    data.write_text(NACAT)
    model = tmp_path / "n.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", model, "--epochs", "1",
                       "--quiet")  # fmt: skip
    assert code == 0, err
    code, out, _ = cli(capsys, "inspect", model)
    assert "one-hot of DE, FR, NA" in out
    new = tmp_path / "new.csv"
    new.write_text("c,v\nNA,1\n")
    code, out, err = cli(capsys, "predict", model, new)
    assert code == 0 and "not seen in training" not in err
    code, _, err = cli(capsys, "train", data, "--target", "c", "--out", tmp_path / "c.st",
                       "--epochs", "1", "--quiet")  # fmt: skip
    assert code == 0, err  # (NA is a label like DE)


def test_na_in_a_column_of_numbers_is_missing(tmp_path, capsys):
    data = tmp_path / "nanum.csv"
    data.write_text("c,v,y\nNA,1,a\nDE,NA,b\nNA,3,a\nFR,null,b\nNA,2,a\nDE,3,b\n")
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", tmp_path / "m.st")
    assert code == 2 and "column 'v' has 2 missing value(s)" in err
    assert "line 3 of 'nanum.csv'" in err


@pytest.mark.parametrize("marks", ["?", "?\n-", "NA"])
def test_a_file_to_predict_whose_numbers_are_all_marked_missing(tmp_path, capsys, marks):
    # (QA: '?' in every row of a column of numbers was "text"; NA in every row was imputed)
    data = tmp_path / "imp.csv"
    data.write_text("num,y\n" + "".join(f"{'?' if i % 10 == 0 else i},{'ab'[i % 2]}\n"
                                          for i in range(40)))  # fmt: skip
    model = tmp_path / "m.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "y", "--impute", "mean", "--out", model,
                       "--epochs", "1", "--quiet")  # fmt: skip
    assert code == 0, err
    new = tmp_path / "new.csv"
    new.write_text("num\n" + marks + "\n")
    code, out, err = cli(capsys, "predict", model, new)
    assert code == 0, err
    assert len(out.splitlines()) == 1 + len(marks.splitlines())
    strict = tmp_path / "strict.safetensors"  # (trained without imputation: the fix says so)
    data.write_text("num,y\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(40)))
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", strict, "--epochs", "1",
                       "--quiet")  # fmt: skip
    assert code == 0, err
    code, _, err = cli(capsys, "predict", strict, new)
    assert code == 2 and "column 'num' has" in err and "missing value(s)" in err
    assert "trained without imputation" in err and "holds text" not in err


def test_a_number_past_64_bits_keeps_its_column_numeric(tmp_path, capsys):
    data = tmp_path / "hi.csv"
    rng = random.Random(9)
    values = [99999999999999999999] + [rng.randint(0, 40) for _ in range(59)]
    data.write_text("n,y\n" + "".join(f"{v},{'xy'[v > 20]}\n" for v in values))
    model = tmp_path / "hi.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", model, "--epochs", "1",
                       "--quiet")  # fmt: skip
    assert code == 0, err
    assert _column_kinds(capsys, model) == {"n": "numeric"}
    code, out, err = cli(capsys, "predict", model, data)
    assert code == 0 and "not seen in training" not in err, err
    assert len(out.splitlines()) == 61
    data.write_text(f"n,y\n{'9' * 400},x\n3,y\n4,x\n")  # (past float's range: no traceback)
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", model)
    assert code == 2 and "column 'n' holds infinity at line 2" in err


def test_an_empty_column_names_the_drop_option(tmp_path, capsys):
    data = tmp_path / "notes.csv"
    data.write_text("a,notes,y\n" + "".join(f"{i},,{'xy'[i % 2]}\n" for i in range(20)))
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", tmp_path / "m.st")
    assert code == 2 and "column 'notes' has no values at all" in err
    assert err.rstrip().endswith("drop it with --drop notes.") and "df.drop" not in err
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", tmp_path / "m.st",
                       "--drop", "notes", "--epochs", "1", "--quiet")  # fmt: skip
    assert code == 0, err  # (the advice works)


# ---------------------------------------------------------------- 5, 6: separators
def test_a_semicolon_file_with_a_comma_in_a_header_name(tmp_path, capsys):
    data = tmp_path / "semihdr.csv"
    data.write_text("Preis (EUR, netto);Menge;y\n1,5;2;x\n2,5;3;y\n3,5;1;x\n4,5;0;y\n"
                    "1,0;2;x\n2,0;3;y\n")  # fmt: skip
    model = tmp_path / "s.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", model, "--epochs", "1",
                       "--quiet")  # fmt: skip
    assert code == 0, err
    assert _column_kinds(capsys, model)["Menge"] == "numeric"


def test_a_two_column_semicolon_file_with_a_comma_in_a_name(tmp_path, capsys):
    data = tmp_path / "preis.csv"  # (a comma split it in two as well, and won the tie)
    data.write_text("Preis (EUR, netto);Menge\n"
                    + "".join(f"{i},{i % 10}5;{'ab'[i % 2]}\n" for i in range(1, 40)))  # fmt: skip
    model = tmp_path / "p.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "Menge", "--out", model, "--epochs",
                       "1", "--quiet")  # fmt: skip
    assert code == 2 and "by comma and by semicolon alike" in err and "--sep ';'" in err, err
    code, _, err = cli(capsys, "train", data, "--target", "Menge", "--out", model, "--epochs",
                       "1", "--quiet", "--sep", ";")  # fmt: skip
    assert code == 0, err
    code, out, _ = cli(capsys, "inspect", model)
    assert "preprocessing: 1 input column(s), target 'Menge'" in out
    assert any(line.split()[:4] == ["Preis", "(EUR,", "netto)", "numeric"]
               for line in out.splitlines())  # fmt: skip
    code, out, err = cli(capsys, "predict", model, data, "--sep", ";")
    assert code == 0, err
    assert out.splitlines()[0] == "Menge" and len(out.splitlines()) == 40


PIPE = "a|b|y\n1|2|x\n2|3|y\n3|1|x\n4|0|y\n1|2|x\n2|3|y\n"
SPACES = "x1 x2 y\n1 2 a\n2  3 b\n3 1 a\n4 0 b\n1 2 a\n2 3 b\n"


@pytest.mark.parametrize(
    ("name", "text", "option", "sep"),
    [("pipe.csv", PIPE, "--sep '|'", "|"), ("spaces.txt", SPACES, "--sep space", "space")],
)
def test_another_separator_is_hinted_then_given(tmp_path, capsys, name, text, option, sep):
    data = tmp_path / name
    data.write_text(text)
    model = tmp_path / "m.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", model)
    assert code == 2
    assert "was read with a separator guessed among comma, semicolon and tab" in err
    assert f"as a single column, {text.splitlines()[0]!r}" in err and f"pass {option}." in err
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", model, "--epochs", "1",
                       "--quiet", "--sep", sep)  # fmt: skip
    assert code == 0, err
    code, out, err = cli(capsys, "predict", model, data)  # (without --sep: the same hint)
    assert code == 2 and f"pass {option}." in err
    code, out, err = cli(capsys, "predict", model, data, "--sep", sep)
    assert code == 0, err
    assert len(out.splitlines()) == 7
    code, out, err = cli(capsys, "evaluate", model, data, "--sep", sep, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["rows"] == 6


def test_sep_reads_standard_input(tmp_path, capsys, monkeypatch):
    import io
    import sys

    model = tmp_path / "m.safetensors"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PIPE.encode())))
    code, _, err = cli(capsys, "train", "-", "--target", "y", "--out", model, "--epochs", "1",
                       "--quiet", "--sep", "pipe")  # fmt: skip
    assert code == 0, err


@pytest.mark.parametrize("bad", ["ab", "x", '"', "."])
def test_a_bad_separator_is_a_usage_error(tmp_path, capsys, bad):
    data = tmp_path / "d.csv"
    data.write_text("a,y\n1,2\n")
    code, _, err = cli(capsys, "train", data, "--target", "y", "--sep", bad)
    assert code == 2 and "argument --sep" in err and "is not a separator" in err


def test_sep_and_no_header_are_refused_where_they_cannot_apply(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    data = tmp_path / "d.parquet"
    pd.DataFrame({"a": [1.0, 2.0], "y": ["x", "y"]}).to_parquet(data)
    code, _, err = cli(capsys, "train", data, "--target", "y", "--sep", ";")
    assert code == 2 and "--sep says how to read a text table" in err
    code, _, err = cli(capsys, "train", "--dataset", "iris", "--no-header")
    assert code == 2 and "--no-header says how to read DATA, but no DATA file" in err


def test_help_describes_the_table_options(capsys):
    for command in ("train", "predict", "evaluate"):
        code, out, _ = cli(capsys, command, "--help")
        assert code == 0
        assert "--sep SEP" in out and "--no-header" in out


# ---------------------------------------------------------------- 7: header-less files
IRIS = "".join(
    f"{5 + k + 0.1 * (i % 5):.1f},{3 - k * 0.5 + 0.1 * (i % 3):.1f},Iris-{name}\n"
    for i in range(30)
    for k, name in enumerate(["setosa", "versicolor", "virginica"])
)


def test_a_uci_data_file_without_a_header(tmp_path, capsys):
    data = tmp_path / "iris.data"
    data.write_text(IRIS)
    model = tmp_path / "iris.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "2", "--out", model)
    assert code == 2 and "not a FANN training file" in err and "NPZ" not in err
    assert "pass --no-header (its columns are then named 0 to 2" in err
    code, _, err = cli(capsys, "train", data, "--no-header", "--target", "2", "--out", model,
                       "--epochs", "2", "--quiet")  # fmt: skip
    assert code == 0, err
    assert _column_kinds(capsys, model) == {"0": "numeric", "1": "numeric"}
    code, out, err = cli(capsys, "predict", model, data, "--no-header")
    assert code == 0, err
    assert out.splitlines()[0] == "2" and len(out.splitlines()) == 91
    code, out, err = cli(capsys, "evaluate", model, data, "--no-header")
    assert code == 0 and "on 90 rows" in out, err


def test_a_whitespace_separated_data_file(tmp_path, capsys):
    data = tmp_path / "housing.data"
    data.write_text(
        "".join(f" {i * 0.1:.4f}  {i % 7:5.2f}   {2 * i + 1:6.1f}\n" for i in range(40))
    )
    model = tmp_path / "h.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "2", "--out", model)
    assert code == 2 and "pass --no-header --sep space (its columns are then named 0 to 2" in err
    code, _, err = cli(capsys, "train", data, "--no-header", "--sep", "space", "--target", "2",
                       "--out", model, "--epochs", "2", "--quiet")  # fmt: skip
    assert code == 0, err
    assert _preprocessing(capsys, model)["preprocessing"]["task"] == "regression"


def test_a_header_less_csv_is_warned_about(tmp_path, capsys):
    data = tmp_path / "iris.csv"
    data.write_text(IRIS)
    code, _, err = cli(capsys, "train", data, "--target", "Iris-setosa", "--out",
                       tmp_path / "m.st", "--epochs", "1", "--quiet")  # fmt: skip
    assert code == 0
    assert "warning: the first line of 'iris.csv' looks like data, not a header" in err
    assert "--no-header" in err
    code, _, err = cli(capsys, "train", data, "--target", "2", "--no-header", "--out",
                       tmp_path / "m.st", "--epochs", "1", "--quiet")  # fmt: skip
    assert code == 0 and "looks like data" not in err, err


def test_predict_on_a_header_less_file_warns_before_the_missing_columns(tmp_path, capsys):
    data = tmp_path / "t.csv"
    data.write_text("a,b,y\n1,2,x\n2,3,y\n3,1,x\n4,0,y\n1,2,x\n2,3,y\n")
    model = tmp_path / "t.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", model, "--epochs", "1",
                       "--quiet")  # fmt: skip
    assert code == 0, err
    new = tmp_path / "nohdr.csv"
    new.write_text("5,6\n7,8\n")
    code, _, err = cli(capsys, "predict", model, new)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 2
    assert lines[0].startswith("warning: the first line of 'nohdr.csv' looks like data")
    assert lines[1].startswith("error: the data lacks 2 column(s)")


# ---------------------------------------------------------------- 10, 11, 13
def test_a_trailing_separator_on_every_line(tmp_path, capsys):
    data = tmp_path / "trail.csv"
    data.write_text("a,b,y,\n1,2,x,\n2,3,y,\n3,1,x,\n4,0,y,\n1,2,x,\n2,3,y,\n")
    model = tmp_path / "m.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", model, "--epochs", "1",
                       "--quiet")  # fmt: skip
    assert code == 0, err
    assert _column_kinds(capsys, model) == {"a": "numeric", "b": "numeric"}
    code, out, err = cli(capsys, "predict", model, data)
    assert code == 0 and len(out.splitlines()) == 7, err


def test_a_short_line_names_its_fields(tmp_path, capsys):
    data = tmp_path / "short.csv"
    data.write_text("a,b,y\n1,2,x\n2,3\n3,1,x\n4,0,y\n1,2,x\n2,3,y\n")
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", tmp_path / "m.st")
    assert code == 2
    assert "short.csv': line 3 has 2 fields but the header has 3" in err


def test_a_comma_ending_the_header_alone_is_named_with_its_fix(tmp_path, capsys):
    data = tmp_path / "hdr.csv"
    data.write_text("a,b,color,label,\n0.5,0.5,red,yes\n0.1,0.2,blue,no\n")
    code, _, err = cli(capsys, "train", data, "--target", "label", "--out", tmp_path / "m.st")
    assert code == 2 and err.startswith("error: ") and "hdr.csv': the header's last column" in err
    assert "Remove the ',' at the end of the header line" in err and len(err.splitlines()) == 1


def test_excel_rows_of_commas_at_the_end_are_ignored(tmp_path, capsys):
    data = tmp_path / "commas.csv"
    data.write_text("a,b,y\n1,2,x\n2,3,y\n3,1,x\n4,0,y\n1,2,x\n2,3,y\n,,\n,,\n")
    model = tmp_path / "m.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", model, "--epochs", "1",
                       "--quiet")  # fmt: skip
    assert code == 0, err
    code, out, err = cli(capsys, "predict", model, data)
    assert code == 0 and len(out.splitlines()) == 7, err


def test_spaces_after_commas_are_skipped(tmp_path, capsys):
    data = tmp_path / "sp.csv"
    data.write_text("a, b, y\n1, 2, x\n2, 3, y\n3, 1, x\n4, 0, y\n1, 2, x\n2, 3, y\n")
    model = tmp_path / "sp.safetensors"
    code, _, err = cli(capsys, "train", data, "--target", "y", "--out", model, "--epochs", "1",
                       "--quiet")  # fmt: skip
    assert code == 0, err
    code, out, _ = cli(capsys, "inspect", model)
    assert "classes (2): x, y" in out
    clean = tmp_path / "clean.csv"
    clean.write_text("a,b\n1,2\n")
    code, out, err = cli(capsys, "predict", model, clean)
    assert code == 0, err
