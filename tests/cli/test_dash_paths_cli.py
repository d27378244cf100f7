"""``-`` beyond DATA: ``--out -`` is standard output where that is the output's default
(``predict``, ``evaluate``, ``draw``) and refused where it cannot be (a model file, an
image, a checkpoint folder); MODEL ``-`` is refused; a file named ``-`` is ``./-``."""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import numpy as np
import pytest

from deltarule.cli import _stdin
from deltarule.exceptions import InputError
from deltarule.io.model_file import load_model

from .cli_helpers import cli, cli_subprocess, flowers

TRAIN = ["--target", "species", "--epochs", "5", "--quiet", "--seed", "3"]
MODEL_REFUSED = (
    "error: MODEL -: a model cannot be read from standard input (only DATA can); give the "
    "model file's path (a file really named - is ./-)."
)


class _Unread(io.TextIOWrapper):
    """Standard input that fails the test if it is read (a pipe: not a terminal)."""

    def __init__(self) -> None:
        super().__init__(io.BytesIO(b""), encoding="utf-8")

    def isatty(self) -> bool:
        return False

    def read(self, *args: object) -> str:  # pragma: no cover - the test fails if it is read
        raise AssertionError("standard input was read")


class _Stdin(io.TextIOWrapper):
    """Standard input holding ``data`` (a pipe: not a terminal)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data), encoding="utf-8")


@pytest.fixture
def model(capsys, in_tmp, flowers_csv) -> Path:
    code, _, err = cli(capsys, "train", flowers_csv, *TRAIN, "--out", "model.safetensors")
    assert code == 0, err
    return in_tmp / "model.safetensors"


@pytest.fixture
def no_stdin(monkeypatch) -> None:
    """Standard input that must not be read."""
    monkeypatch.setattr(sys, "stdin", _Unread())


def _error_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def _no_dash_file(folder: Path) -> None:
    assert not (folder / "-").exists()


# ---------------------------------------------------------------- MODEL -
@pytest.mark.parametrize(
    "argv",
    [
        ["predict", "-", "flowers.csv"],
        ["predict", "-", "-"],
        ["evaluate", "-", "flowers.csv"],
        ["draw", "-"],
        ["draw", "-", "--out", "net.svg"],
        ["inspect", "-"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_model_dash_is_refused_before_any_work(capsys, in_tmp, flowers_csv, no_stdin, argv):
    code, out, err = cli(capsys, *argv)
    assert (code, out) == (2, "")
    assert _error_line(err) == MODEL_REFUSED
    assert sorted(p.name for p in in_tmp.iterdir()) == ["flowers.csv"]  # (nothing written)


def test_explain_model_dash_is_refused(capsys, in_tmp, no_stdin):
    code, _, err = cli(capsys, "explain", "--model", "-", "--input", "0.1,0.2")
    assert code == 2
    assert _error_line(err).startswith("error: --model -: a model cannot be read from standard")


def test_explain_out_dash_is_standard_output_and_plot_dash_is_refused(capsys, in_tmp):
    code, out, _ = cli(capsys, "explain", "--out", "-")
    assert code == 0 and "δ" in out and not (in_tmp / "-").exists()
    assert out == cli(capsys, "explain")[1]  # (the same walk as without --out)
    code, out, err = cli(capsys, "explain", "--plot", "-")
    assert (code, out) == (2, "") and "--plot -: a PNG or SVG image cannot be written" in err
    assert not (in_tmp / "-").exists()


def test_model_dash_in_a_real_pipe_has_no_traceback(model, flowers_csv):
    done = cli_subprocess("predict", "-", flowers_csv, cwd=model.parent, input="x")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == MODEL_REFUSED + "\n"
    debug = cli_subprocess("predict", "-", flowers_csv, "--debug", cwd=model.parent, input="x")
    assert debug.returncode != 0 and "Traceback" in debug.stderr


# ---------------------------------------------------------------- --out -: standard output
@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_predict_out_dash_writes_to_stdout(capsys, model, flowers_csv, fmt):
    code, plain, _ = cli(capsys, "predict", model, flowers_csv, "--format", fmt)
    assert code == 0
    code, dashed, err = cli(capsys, "predict", model, flowers_csv, "--format", fmt, "--out", "-")
    assert (code, err) == (0, "") and dashed == plain  # (no "wrote -")
    code, _, _ = cli(capsys, "predict", model, flowers_csv, "--format", fmt, "--out", "p.out")
    assert code == 0 and Path("p.out").read_text(encoding="utf-8") == plain
    _no_dash_file(model.parent)


def test_predict_from_stdin_to_out_dash_in_a_real_pipe(model, flowers_csv):
    new = flowers(seed=7).drop(columns="species").to_csv(index=False)
    expected = cli_subprocess("predict", model, "-", cwd=model.parent, input=new)
    done = cli_subprocess("predict", model, "-", "--out", "-", cwd=model.parent, input=new)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == expected.stdout and done.stdout.startswith("species\n")
    _no_dash_file(model.parent)


def test_evaluate_out_dash_writes_the_report_to_stdout(capsys, model, flowers_csv):
    code, plain, _ = cli(capsys, "evaluate", model, flowers_csv)
    assert code == 0
    code, dashed, err = cli(capsys, "evaluate", model, flowers_csv, "--out", "-")
    assert (code, err, dashed) == (0, "", plain)
    _no_dash_file(model.parent)


def test_draw_out_dash_writes_svg_to_stdout(capsys, model):
    code, plain, _ = cli(capsys, "draw", model)
    assert code == 0 and plain.startswith("<svg")
    code, dashed, err = cli(capsys, "draw", model, "--out", "-")
    assert (code, err, dashed) == (0, "", plain)
    code, dashed, _ = cli(capsys, "draw", "--example", "tutorial", "--out", "-")
    assert code == 0 and dashed.startswith("<svg")
    _no_dash_file(model.parent)


def test_draw_without_out_refuses_a_terminal_before_loading(capsys, model, monkeypatch):
    # (69 KB of SVG markup scrolled through the terminal; gzip refuses likewise)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = cli(capsys, "draw", "missing.safetensors")
    assert (code, out) == (2, "")
    assert _error_line(err) == (
        "error: draw writes an SVG drawing, and standard output is a terminal; give --out "
        "FILE.svg (or .png) or redirect standard output to a file (> net.svg); --out - "
        "writes it here anyway."
    )
    code, out, err = cli(capsys, "draw", model, "--out", "-")  # (asked for: written)
    assert code == 0 and out.startswith("<svg"), err
    code, _, err = cli(capsys, "draw", model, "--out", "net.svg")
    assert code == 0 and "<svg" in (model.parent / "net.svg").read_text()[:200], err


# ---------------------------------------------------------------- --out -: refused
@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if ``train`` reads its data or starts training."""
    import deltarule.cli._train_data as train_data
    import deltarule.cli.train as train

    def fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the command started its work")

    monkeypatch.setattr(train_data, "read_data", fail)
    monkeypatch.setattr(train, "fit", fail)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            ["--out", "-"],
            "error: --out -: a model file cannot be written to standard output; give a file "
            "path such as model.safetensors (a file really named - is ./-).",
        ),
        (
            ["--out", "m.safetensors", "--plot", "-"],
            "error: --plot -: a PNG or SVG image cannot be written to standard output; give a "
            "file path such as curves.png (a file really named - is ./-).",
        ),
        (
            ["--out", "m.safetensors", "--checkpoint", "-"],
            "error: --checkpoint -: a checkpoint cannot be written to standard output; give a "
            "folder path such as runs/big (a folder really named - is ./-).",
        ),
    ],
    ids=["--out", "--plot", "--checkpoint"],
)
def test_train_refuses_dash_outputs_before_any_work(
    capsys, in_tmp, flowers_csv, no_training, options, expected
):
    before = b"an earlier file named -"
    (in_tmp / "-").write_bytes(before)
    code, out, err = cli(capsys, "train", flowers_csv, *TRAIN, *options)
    assert (code, out) == (2, "")
    assert _error_line(err) == expected
    assert (in_tmp / "-").read_bytes() == before  # (not replaced)
    assert sorted(p.name for p in in_tmp.iterdir()) == ["-", "flowers.csv"]


def test_train_from_stdin_refuses_out_dash_without_reading_it(capsys, in_tmp, no_stdin):
    code, _, err = cli(capsys, "train", "-", *TRAIN, "--out", "-")
    assert code == 2 and _error_line(err).startswith("error: --out -: a model file cannot be")
    _no_dash_file(in_tmp)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["train", "--resume", "-"],
            "error: --resume -: a checkpointed run cannot be read from standard input (only "
            "DATA can); give the folder given to --checkpoint (a folder really named - is ./-).",
        ),
        (
            ["train", "--dataset", "fashion-mnist", "--data-dir", "-"],
            "error: --data-dir -: Fashion-MNIST cannot be read from standard input (only DATA "
            "can); give the folder of its IDX files (a folder really named - is ./-).",
        ),
    ],
    ids=["--resume", "--data-dir"],
)
def test_train_refuses_dash_folders(capsys, in_tmp, no_stdin, no_training, argv, expected):
    (in_tmp / "-").mkdir()  # (a folder named - is not taken for it)
    code, _, err = cli(capsys, *argv)
    assert code == 2 and _error_line(err) == expected


def test_evaluate_refuses_plot_dash_before_loading_the_model(
    capsys, model, flowers_csv, monkeypatch
):
    import deltarule.cli.evaluate as evaluate

    monkeypatch.setattr(evaluate, "load_model_file", lambda *a: pytest.fail("model loaded"))
    code, out, err = cli(capsys, "evaluate", model, flowers_csv, "--plot", "-")
    assert (code, out) == (2, "")
    assert _error_line(err) == (
        "error: --plot -: a PNG or SVG image cannot be written to standard output; give a "
        "file path such as confusion.png (a file really named - is ./-)."
    )
    _no_dash_file(model.parent)


# ---------------------------------------------------------------- ./-: a file named -
def test_dot_slash_dash_is_a_file_for_outputs_and_model(capsys, in_tmp, flowers_csv):
    code, out, err = cli(capsys, "train", flowers_csv, *TRAIN, "--out", "./-")
    assert code == 0, err
    assert out.endswith("\nmodel saved to ./-\n")
    assert load_model(in_tmp / "-").preprocessing["target"] == "species"

    code, expected, _ = cli(capsys, "predict", "./-", flowers_csv)  # (./- as MODEL)
    assert code == 0 and expected.startswith("species\n")
    code, _, err = cli(capsys, "predict", "./-", flowers_csv, "--out", "./-")
    assert code == 2 and "is the MODEL file read by this command" in _error_line(err)

    (in_tmp / "-").rename(in_tmp / "m.safetensors")
    code, out, err = cli(capsys, "predict", "m.safetensors", flowers_csv, "--out", "./-")
    assert (code, out, err) == (0, "", "wrote ./-\n")
    assert (in_tmp / "-").read_text(encoding="utf-8") == expected


def _csv(path: Path, frame) -> None:  # noqa: ANN001
    frame.to_csv(path, index=False)


def _gzip(path: Path, frame) -> None:  # noqa: ANN001
    path.write_bytes(gzip.compress(frame.to_csv(index=False).encode("utf-8")))


def _parquet(path: Path, frame) -> None:  # noqa: ANN001
    pytest.importorskip("pyarrow")
    frame.to_parquet(path)


@pytest.mark.parametrize("write", [_csv, _gzip, _parquet], ids=["csv", "csv.gz", "parquet"])
def test_data_dot_slash_dash_reads_a_file_named_dash(capsys, model, flowers_csv, no_stdin, write):
    frame = flowers(seed=5)
    _csv(Path("new.csv"), frame)
    code, expected, _ = cli(capsys, "predict", model, "new.csv")
    assert code == 0
    write(model.parent / "-", frame)
    code, out, err = cli(capsys, "predict", model, "./-")  # (its format from its bytes)
    assert (code, err, out) == (0, "", expected)
    code, out, err = cli(capsys, "evaluate", model, "./-")
    assert code == 0 and out.startswith("classification of 'species' on 60 rows")


def test_train_and_predict_on_npz_named_dash(capsys, in_tmp, no_stdin):
    X = np.random.default_rng(0).normal(size=(30, 3))
    np.savez(in_tmp / "-", X=X, y=(X[:, 0] > 0).astype(int))
    (in_tmp / "-.npz").rename(in_tmp / "-")  # (np.savez adds .npz)
    code, _, err = cli(capsys, "train", "./-", "--quiet", "--epochs", "3", "--out", "n.st")
    assert code == 0, err
    code, out, err = cli(capsys, "predict", "n.st", "./-")
    assert code == 0 and err == "" and len(out.splitlines()) == 31


def test_train_on_a_csv_named_dash(capsys, in_tmp, flowers_csv, no_stdin):
    (in_tmp / "-").write_bytes(flowers_csv.read_bytes())
    code, _, err = cli(capsys, "train", "./-", *TRAIN, "--out", "from_dash.safetensors")
    assert code == 0, err
    code, _, err = cli(capsys, "train", flowers_csv, *TRAIN, "--out", "from_file.safetensors")
    a, b = load_model("from_dash.safetensors"), load_model("from_file.safetensors")
    for x, y in zip(a.network.weights, b.network.weights):
        np.testing.assert_array_equal(x, y)


def test_missing_file_named_dash_is_no_such_file(capsys, model, no_stdin):
    code, _, err = cli(capsys, "predict", model, "./-")
    assert code == 2 and _error_line(err).startswith("error: no such file: './-'")


# ---------------------------------------------------------------- the functions
def test_the_functions_explain_can_call():
    assert _stdin.output_file("-") is None and _stdin.output_file(None) is None
    assert _stdin.output_file("./-") == "./-" and _stdin.output_file("a.txt") == "a.txt"
    for path in (None, "x.png", "./-"):
        _stdin.refuse_stdout(path, "--plot", "a PNG or SVG image", "curve.png")
        _stdin.refuse_stdin_model(path, "--model")
    with pytest.raises(InputError, match=r"^--plot -: a PNG or SVG image cannot be written"):
        _stdin.refuse_stdout("-", "--plot", "a PNG or SVG image", "curve.png")
    with pytest.raises(InputError, match=r"^--model -: a model cannot be read from standard"):
        _stdin.refuse_stdin_model("-", "--model")


def test_help_says_dash_is_stdout_and_where_a_file_named_dash_is(capsys):
    for command in (["predict", "m", "d"], ["evaluate", "m", "d"], ["draw"]):
        code, out, _ = cli(capsys, *command, "--help")
        text = " ".join(out.split())
        assert code == 0 and "a file named - is ./-" in text, command
