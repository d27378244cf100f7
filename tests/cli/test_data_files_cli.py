"""Data files at predict and evaluate time are read as the model knows its columns.

Codes such as ``01`` stay text (pandas guesses numbers afresh for every file), a file
that is not a table says what it is, unused badly named columns are ignored, and errors
name the line of the file a bad cell is on.
"""

from __future__ import annotations

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from deltarule.preprocessing import TabularPreprocessor

from .cli_helpers import cli, flowers


def _codes_table(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "code": rng.choice(["01", "02", "A7"], n),
            "y": rng.choice(["p", "q"], n),
        }
    )


@pytest.fixture
def codes_model(capsys, in_tmp, saved):
    _codes_table().to_csv("codes.csv", index=False)
    code, _, err = cli(capsys, "train", "codes.csv", "--target", "y", "--epochs", "3", "--quiet",
                       "--out", "codes.safetensors")  # fmt: skip
    assert code == 0, err
    assert TabularPreprocessor.from_dict(saved["preprocessing"]).columns[1]["categories"] == [
        "01", "02", "A7"
    ]  # fmt: skip
    return saved


def _expected(saved: dict, frame: pd.DataFrame) -> list[str]:
    """Labels from the in-memory network, the codes given as the text they are."""
    pre = TabularPreprocessor.from_dict(saved["preprocessing"])
    outputs = saved["network"].predict(pre.transform(frame, dtype=np.float32))
    return list(pre.inverse_target(outputs))


def test_code_like_categories_are_read_as_written(capsys, codes_model):
    with open("new.csv", "w") as handle:  # every code looks like a number
        handle.write("x,code\n0.1,01\n0.2,02\n-0.3,02\n")
    code, out, err = cli(capsys, "predict", "codes.safetensors", "new.csv")
    assert (code, err) == (0, "")  # (warned: "'1' not seen in training", predicted a guess)
    frame = pd.DataFrame({"x": [0.1, 0.2, -0.3], "code": ["01", "02", "02"]})
    assert out.splitlines() == ["y", *_expected(codes_model, frame)]
    # one row's prediction does not depend on the others (an A7 row made the column text)
    with open("mixed.csv", "w") as handle:
        handle.write("x,code\n0.1,01\n0.5,A7\n")
    code, mixed, _ = cli(capsys, "predict", "codes.safetensors", "mixed.csv")
    assert mixed.splitlines()[1] == out.splitlines()[1]


def test_a_missing_code_is_missing_not_an_unseen_number(capsys, codes_model):
    with open("gap.csv", "w") as handle:
        handle.write("x,code\n0.1,01\n0.2,\n")
    code, _, err = cli(capsys, "predict", "codes.safetensors", "gap.csv")
    assert code == 2 and "'1.0'" not in err
    assert err.startswith("error: column 'code' has 1 missing value(s), the first at line 3 of")


def test_evaluate_reads_text_class_labels_as_written(capsys, in_tmp):
    table = _codes_table().assign(y=lambda f: f["code"], code=lambda f: f["x"] > 0)
    table.to_csv("labels.csv", index=False)
    cli(capsys, "train", "labels.csv", "--target", "y", "--epochs", "3", "--quiet")
    table[table["y"] != "A7"].to_csv("test.csv", index=False)  # labels 01 and 02 only
    code, out, err = cli(capsys, "evaluate", "labels.safetensors", "test.csv", "--format", "json")
    assert code == 0, err  # (was: "the target label 1 ... was not seen in training")
    report = json.loads(out)
    assert report["confusion_matrix"]["labels"] == ["01", "02", "A7"]
    rows = np.array(report["confusion_matrix"]["matrix"]).sum(axis=1).tolist()
    assert rows == [int((table["y"] == "01").sum()), int((table["y"] == "02").sum()), 0]


def test_class_labels_written_as_codes_are_kept_as_written(capsys, in_tmp):
    # (07, 08 and 10 were read as the numbers 7, 8 and 10: the model's classes, and its
    # predictions, said 7 for 07)
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    labels = np.where(x < -0.4, "07", np.where(x < 0.4, "08", "10"))
    pd.DataFrame({"x": x, "y": labels}).to_csv("labels.csv", index=False)
    code, _, err = cli(capsys, "train", "labels.csv", "--target", "y", "--epochs", "3",
                       "--quiet", "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    info = json.loads(cli(capsys, "inspect", "m.safetensors", "--format", "json")[1])
    assert info["classes"] == ["07", "08", "10"]
    pd.DataFrame({"x": [-1.0, 1.0]}).to_csv("new.csv", index=False)
    code, out, err = cli(capsys, "predict", "m.safetensors", "new.csv")
    assert (code, err) == (0, "") and set(out.splitlines()[1:]) <= {"07", "08", "10"}
    code, out, err = cli(capsys, "evaluate", "m.safetensors", "labels.csv")
    assert (code, err) == (0, "") and "accuracy" in out
    # whole numbers written plainly stay numbers: classes 7, 8, 10; a regression stays one
    pd.DataFrame({"x": x, "y": [int(v) for v in labels]}).to_csv("plain.csv", index=False)
    code, _, err = cli(capsys, "train", "plain.csv", "--target", "y", "--epochs", "3",
                       "--quiet", "--out", "p.safetensors")  # fmt: skip
    assert code == 0, err
    info = json.loads(cli(capsys, "inspect", "p.safetensors", "--format", "json")[1])
    assert info["classes"] == [7, 8, 10]
    code, _, err = cli(capsys, "train", "labels.csv", "--target", "y", "--task", "regression",
                       "--epochs", "3", "--quiet", "--out", "r.safetensors")  # fmt: skip
    assert code == 0, err
    assert json.loads(cli(capsys, "inspect", "r.safetensors", "--format", "json")[1])[
        "task"] == "regression"  # fmt: skip


def test_evaluate_without_the_target_on_a_wide_file_is_one_short_line(capsys, in_tmp):
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(30, 200)), columns=[f"feature_{i}" for i in range(200)])
    wide.assign(target=rng.normal(size=30)).to_csv("wide.csv", index=False)
    assert (
        cli(capsys, "train", "wide.csv", "--target", "target", "--epochs", "1", "--quiet")[0] == 0
    )
    wide.to_csv("unlabelled.csv", index=False)
    code, _, err = cli(capsys, "evaluate", "wide.safetensors", "unlabelled.csv")
    assert code == 2 and len(err.splitlines()) == 1 and len(err) < 600  # (was 5,000+)
    assert "no target column 'target'" in err and "'feature_9' ... and 190 more." in err


@pytest.fixture
def flower_model(capsys, in_tmp, saved):
    flowers().to_csv("flowers.csv", index=False)
    code, _, _ = cli(capsys, "train", "flowers.csv", "--target", "species", "--epochs", "2",
                     "--quiet", "--out", "model.safetensors")  # fmt: skip
    assert code == 0
    flowers(seed=4).drop(columns="species").to_csv("new.csv", index=False)
    code, out, _ = cli(capsys, "predict", "model.safetensors", "new.csv")
    assert code == 0
    return out


def test_a_model_file_given_as_data_is_named(capsys, flower_model):
    code, _, err = cli(capsys, "predict", "model.safetensors", "model.safetensors")
    assert code == 2 and len(err.splitlines()) == 1
    assert "'model.safetensors' is a model file (safetensors), not data" in err
    assert "deltarule predict MODEL DATA" in err and "Rename" not in err


def test_gzip_compressed_data(capsys, flower_model, in_tmp):
    (in_tmp / "new.csv.gz").write_bytes(gzip.compress((in_tmp / "new.csv").read_bytes()))
    assert cli(capsys, "predict", "model.safetensors", "new.csv.gz")[1] == flower_model


def test_train_on_gzip_data_names_the_model_without_the_compression(capsys, in_tmp):
    (in_tmp / "flowers.csv.gz").write_bytes(gzip.compress(flowers().to_csv(index=False).encode()))
    code, out, err = cli(capsys, "train", "flowers.csv.gz", "--target", "species", "--epochs",
                         "2", "--quiet")  # fmt: skip
    assert code == 0, err
    assert (in_tmp / "flowers.safetensors").exists()  # (was flowers.csv.safetensors)


def test_a_missing_target_lists_a_wide_file_s_columns_shortly(capsys, in_tmp):
    wide = pd.DataFrame(np.zeros((3, 500)), columns=[f"c{i}" for i in range(500)])
    wide.to_csv("wide.csv", index=False)
    code, _, err = cli(capsys, "train", "wide.csv")
    assert code == 2 and len(err.splitlines()) == 1 and len(err) < 400
    assert "needs --target COLUMN" in err and "'c0', 'c1'" in err and "... and 490 more" in err


@pytest.mark.parametrize(
    "columns, hint",
    [
        (["a", "b", "Species Label"], None),
        (["a", "b", "--weird"], None),
        (["a", "b", "target"], "Is it --target target?"),
        (["a", " Class ", "b"], "Is it --target Class?"),  # (names are read stripped)
        (["label", "y", "a"], None),  # (two: no guess)
    ],
)
def test_a_missing_target_names_a_column_called_like_one(capsys, in_tmp, columns, hint):
    pd.DataFrame(np.zeros((3, 3)), columns=columns).to_csv("t.csv", index=False)
    code, _, err = cli(capsys, "train", "t.csv")
    assert code == 2 and len(err.splitlines()) == 1 and "needs --target COLUMN" in err
    assert (hint in err) if hint else ("Is it" not in err)


def test_utf16_data_says_what_it_is(capsys, flower_model, in_tmp):
    text = (in_tmp / "new.csv").read_text()
    (in_tmp / "u16.csv").write_bytes(text.encode("utf-16"))
    code, _, err = cli(capsys, "predict", "model.safetensors", "u16.csv")
    assert code == 2 and "is UTF-16 text" in err and "iconv -f UTF-16 -t UTF-8" in err


def test_unused_badly_named_columns_are_ignored(capsys, flower_model, in_tmp):
    new = pd.read_csv("new.csv")
    new.insert(0, "id", range(len(new)))
    new.insert(0, "id ", range(len(new)))
    new.to_csv("indexed.csv")  # a nameless index column first
    text = (in_tmp / "indexed.csv").read_text().replace("id ,", "id,", 1)  # 'id' twice
    (in_tmp / "indexed.csv").write_text(text)
    code, out, err = cli(capsys, "predict", "model.safetensors", "indexed.csv")
    assert (code, err) == (0, "") and out == flower_model
    (in_tmp / "twice.csv").write_text(text.replace("id,id,", "id,colour,", 1))
    code, _, err = cli(capsys, "predict", "model.safetensors", "twice.csv")
    assert code == 2 and "the column name 'colour' appears 2 times (columns 3, 6)" in err


def test_errors_name_the_line_after_blank_lines_and_line_breaks(capsys, flower_model, in_tmp):
    (in_tmp / "odd.csv").write_text(
        'length,width,colour\n1.0,2.0,"dark\nred"\n\n\n1.x,1.0,red\n'
    )  # fmt: skip
    code, _, err = cli(capsys, "predict", "model.safetensors", "odd.csv")
    assert code == 2  # (said "row 2 ... line 3 of a CSV with a header")
    assert "'length' holds text ('1.x' at line 6 of 'odd.csv' (data row 2))" in err
    # ('?' there marks a missing value: test_a_column_of_numbers_with_missing_marks_...)


def test_a_number_column_of_true_is_refused(capsys, flower_model, in_tmp):
    (in_tmp / "truth.csv").write_text("length,width,colour\nTrue,1.0,red\nTrue,2.0,blue\n")
    code, _, err = cli(capsys, "predict", "model.safetensors", "truth.csv")
    assert code == 2 and "column 'length' holds True at line 2 of 'truth.csv'" in err


def test_cells_of_spaces_are_missing_at_train_and_predict(capsys, in_tmp, saved):
    text = flowers().to_csv(index=False).splitlines()
    text[3] = " " + text[3][text[3].index(",") :]  # a length of " "
    (in_tmp / "gap.csv").write_text("\n".join(text) + "\n")
    code, _, err = cli(capsys, "train", "gap.csv", "--target", "species", "--epochs", "1")
    assert code == 2 and "column 'length' has 1 missing value(s), the first at line 4" in err
    code, _, err = cli(capsys, "train", "gap.csv", "--target", "species", "--epochs", "1",
                       "--quiet", "--impute", "mean")  # fmt: skip
    assert code == 0, err
    column = saved["preprocessing"]["columns"][0]
    assert column["kind"] == "numeric"  # (was text: 60 numbers and " " made categories)
    assert column["fill"] == pytest.approx(np.delete(flowers()["length"].to_numpy(), 2).mean())


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda s: s["columns"][2].update(categories=["blue", "blue"]), "'blue' appears twice"),
        (lambda s: s.update(target="length"), "the target 'length' is also a feature column"),
        (lambda s: s.update(target=None), "the target None is not a column name"),
    ],
)
def test_a_model_whose_preprocessing_would_mislead_is_refused(
    capsys, flower_model, saved, change, fragment
):
    from deltarule.io import save_model

    state = json.loads(json.dumps(saved["preprocessing"]))
    change(state)  # as a hand edit of the file would (its checksum then written anew)
    save_model(saved["network"], "edited.safetensors", preprocessing=state,
               classes=saved["classes"])  # fmt: skip
    code, out, err = cli(capsys, "predict", "edited.safetensors", "new.csv")
    assert (code, out) == (2, "") and len(err.splitlines()) == 1  # (InvalidIndexError, a bug)
    assert "preprocessing state is malformed" in err and fragment in err
    assert "this is a bug" not in err


@pytest.mark.parametrize(
    "argv, message",
    [  # (a QA pass: evaluate's text report went into e.csv, predictions' CSV into p.txt)
        (["evaluate", "model.safetensors", "new.csv", "--out", "e.csv"],
         "--out e.csv: its extension .csv means CSV, which this command does not write; it "
         "writes text (.txt) or json (.json). Name the file e.txt or e.json."),
        (["predict", "model.safetensors", "new.csv", "--out", "p.txt"],
         "--out p.txt: its extension .txt means text"),
        (["inspect", "model.safetensors", "--out", "i.html"], "--out i.html: its extension"),
        # (a QA pass with messy tables: plain CSV was written under a name saying gzip)
        (["predict", "model.safetensors", "new.csv", "--out", "p.csv.gz"],
         "--out p.csv.gz: its extension .gz means gzip-compressed data, which this command "
         "does not write; it writes csv (.csv) or json (.json). Name the file p.csv or p.json."),
        (["evaluate", "model.safetensors", "new.csv", "--out", "e.txt.zip"],
         "its extension .zip means a ZIP archive"),
        (["data", "iris", "--out", "d.csv.gz"],
         "has extension '.gz'; data writes a table as CSV (.csv) or TSV (.tsv). Name the file "
         "e.g. d.csv."),
    ],
)  # fmt: skip
def test_an_out_named_for_a_format_the_command_does_not_write_is_refused(
    capsys, flower_model, in_tmp, argv, message
):
    code, _, err = cli(capsys, *argv)
    assert code == 2 and len(err.splitlines()) == 1 and message in err
    assert not any(in_tmp.glob(argv[-1]))


def test_an_out_without_a_format_extension_takes_the_default(capsys, flower_model, in_tmp):
    code, _, err = cli(capsys, "predict", "model.safetensors", "new.csv", "--out", "p.out")
    assert code == 0, err
    assert (in_tmp / "p.out").read_text().splitlines()[0] == "species"


def test_class_codes_are_read_again_from_their_column_alone(capsys, in_tmp, monkeypatch):
    # (the second reading, of the target as written, read the whole file again: 1.2 s of
    # a 60,000 x 785 table; now the target column alone, the lines checked by the first)
    import deltarule.io.data as data

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    labels = np.where(x[:, 0] < 0, "07", "10")
    table = pd.DataFrame(x, columns=[f"f{i}" for i in range(5)]).assign(y=labels, z=x[:, 1])
    table.to_csv("labels.csv", index=False)
    widths, real = [], data._read_delimited

    def spy(*args, **kwargs):
        frame, names, rows = real(*args, **kwargs)
        widths.append(frame.shape[1])
        return frame, names, rows

    monkeypatch.setattr(data, "_read_delimited", spy)
    code, _, err = cli(capsys, "train", "labels.csv", "--target", "y", "--epochs", "3",
                       "--quiet", "--out", "m.safetensors")  # fmt: skip
    assert code == 0, err
    assert widths == [7, 2]  # every column, then the target (and the last, z)
    info = json.loads(cli(capsys, "inspect", "m.safetensors", "--format", "json")[1])
    assert info["classes"] == ["07", "10"]
