"""What the README, the docs and the help say holds: the commands they show run, the names
and defaults they give are the code's (a documentation QA pass)."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import inspect
import json
import re
import shlex
import shutil
import struct
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import deltarule as dr
from deltarule import training
from deltarule.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
FIXTURES = ROOT / "tests" / "io" / "fixtures"

XOR_FANN = "4 2 1\n0 0\n0\n0 1\n1\n1 0\n1\n1 1\n0\n"
"""The classic XOR training file of FANN's examples (xor.data)."""


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # (argparse's wrapping undone)


# --------------------------------------------------------------- README commands
def test_the_readmes_fann_command_trains_on_the_xor_file(tmp_path, monkeypatch, capsys) -> None:
    commands = re.findall(
        r"`(deltarule train xor\.data[^`]*)`", " ".join(README.read_text().split())
    )
    assert len(commands) == 1, commands
    # (the README named xor.data without a step that writes it)
    writes = re.findall(r"`(printf '[^']*' > xor\.data)`", README.read_text())
    assert len(writes) == 1, "the README shows no command that writes xor.data"
    if shutil.which("sh") is None:  # pragma: no cover - (POSIX printf, as the README's)
        pytest.skip("no sh to run the README's printf")
    subprocess.run(["sh", "-c", writes[0]], cwd=tmp_path, check=True, timeout=30)
    assert (tmp_path / "xor.data").read_text() == XOR_FANN
    monkeypatch.chdir(tmp_path)
    argv = shlex.split(commands[0])[1:]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "error:" not in err
    out = argv[argv.index("--out") + 1]
    loaded = dr.io.load_model(tmp_path / out)
    assert loaded.network.layer_sizes[0] == 2 and loaded.network.layer_sizes[-1] == 1
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame({"x0": [0.0, 0.0, 1.0, 1.0], "x1": [0.0, 1.0, 0.0, 1.0]})
    assert np.asarray(loaded.predict(table)).ravel().tolist() == [0, 1, 1, 0]  # (it learnt XOR)


def test_impute_mean_fills_a_text_column_with_its_most_frequent_value_as_the_readme_says():
    # (neither the README nor train --help said what --impute mean does to a text column)
    pd = pytest.importorskip("pandas")
    from deltarule.preprocessing import TabularPreprocessor

    text = " ".join(README.read_text().split())
    assert (
        "a text column is always filled with its most frequent value, `--impute mean` and "
        "`median` too" in text
    )
    frame = pd.DataFrame(
        {"x": [1.0, None, 4.0, 5.0], "c": ["red", "red", None, "blue"], "y": [1, 2, 3, 4]}
    )
    for impute in ("mean", "median"):
        pre = TabularPreprocessor().fit(frame, "y", task="regression", impute=impute)
        fills = {column["name"]: column["fill"] for column in pre.columns}
        assert fills == {"x": getattr(frame["x"], impute)(), "c": "red"}


def test_notation_says_the_target_is_standardised_on_the_training_rows_alone(
    tmp_path, monkeypatch, capsys
) -> None:
    # (the features' statistics are every row's, the target's the training rows' alone:
    # undocumented until a QA pass asked)
    pd = pytest.importorskip("pandas")
    text = " ".join((DOCS / "notation.md").read_text().split())
    assert "computed from the training rows only" in text
    assert "the validation rows included" in text
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40)}).assign(y=lambda f: 100 + 30 * f["a"] ** 2)
    frame.to_csv(tmp_path / "r.csv", index=False)
    monkeypatch.chdir(tmp_path)
    code = main(["train", "r.csv", "--target", "y", "--epochs", "2", "--quiet",
                 "--validation-split", "0.25", "--out", "r.safetensors"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    loaded = dr.io.load_model("r.safetensors")
    assert loaded.preprocessing["columns"][0]["mean"] == pytest.approx(frame["a"].mean())
    from deltarule.cli._common import holdout_split

    seed = loaded.training["summary"]["settings"]["seed"]
    _, kept, _, held = holdout_split(np.arange(40.0)[:, None], frame[["y"]].to_numpy(), 0.25,
                                     seed, False)  # fmt: skip
    assert (len(kept), len(held)) == (30, 10)
    target_mean = loaded.training["summary"]["target_standardisation"]["mean"]
    assert target_mean == pytest.approx(kept.mean())  # (the training rows')
    assert target_mean != pytest.approx(frame["y"].mean())  # (not every row's)


def test_the_readme_numbers_historys_epochs_as_they_are(capsys) -> None:
    text = " ".join(README.read_text().split())
    net = dr.Network([2, 1], seed=0)
    history = net.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0)
    first_keras, first_json = history.epoch[0], json.loads(history.to_json())["epoch"][0]
    assert re.search(rf"`history\.epoch`.{{0,80}}from {first_keras}\b", text)
    assert re.search(rf"`history\.to_json\(\)`.{{0,60}}from {first_json}\b", text)


def test_the_estimators_extra_solvers_fit_the_estimators_the_readme_says() -> None:
    from deltarule.sklearn import MLPClassifier, MLPRegressor

    text = " ".join(README.read_text().split())
    listed = text.split("more solvers (", 1)[1].split("), `validation_loss_curve_`", 1)[0]
    solvers = [n for n in re.findall(r"`(\w+)`", listed) if not n.startswith("MLP")]
    assert "lm" in solvers
    X = np.random.default_rng(0).random((30, 2))
    labels = (X[:, 0] > 0.5).astype(int)
    for solver in solvers:
        regressor_only = f"`{solver}` for `MLPRegressor`" in listed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            MLPRegressor(solver=solver, max_iter=2, random_state=0).fit(X, X[:, 0])
            if regressor_only:
                with pytest.raises(ValueError):
                    MLPClassifier(solver=solver, max_iter=2, random_state=0).fit(X, labels)
            else:
                MLPClassifier(solver=solver, max_iter=2, random_state=0).fit(X, labels)


# --------------------------------------------------------------------- --debug
def _failing_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the ``draw`` subcommand's module fail to import while the parser is built."""
    real = importlib.import_module

    def import_module(name: str, package: str | None = None):  # noqa: ANN202
        if name == "deltarule.cli.draw":
            raise ImportError("cannot import name 'broken' from 'somewhere'")
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", import_module)


def test_a_subcommand_that_fails_to_import_is_one_error_line(monkeypatch, capsys) -> None:
    _failing_import(monkeypatch)
    assert main(["inspect", "model.safetensors"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ImportError: "), lines
    assert "--debug" in lines[0]


@pytest.mark.parametrize("argv", [["--debug", "inspect", "m.safetensors"],
                                  ["inspect", "m.safetensors", "--debug"]])  # fmt: skip
def test_debug_shows_the_traceback_when_the_parser_cannot_be_built(argv, monkeypatch) -> None:
    _failing_import(monkeypatch)
    with pytest.raises(ImportError, match="broken"):
        main(argv)


def test_debug_after_double_dash_is_not_an_option(monkeypatch, capsys) -> None:
    _failing_import(monkeypatch)
    assert main(["inspect", "--", "--debug"]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_debug_traceback_reaches_stderr_of_the_program(tmp_path) -> None:
    script = (
        "import importlib, sys\n"
        "real = importlib.import_module\n"
        "def fake(name, package=None):\n"
        "    if name == 'deltarule.cli.draw':\n"
        "        raise ImportError('cannot import name broken')\n"
        "    return real(name, package)\n"
        "importlib.import_module = fake\n"
        "from deltarule.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, "--debug", "inspect", "m.safetensors"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 1
    assert "Traceback (most recent call last)" in run.stderr
    assert "ImportError: cannot import name broken" in run.stderr


# ----------------------------------------------------------------- train --help
def test_the_optimizers_help_says_use_every_row_are_those_that_do(
    tmp_path, monkeypatch, capsys
) -> None:
    from deltarule.optimizers import OPTIMIZERS
    from deltarule.solvers import SOLVERS

    text = _help(["train"], capsys)
    said = re.search(r"--batch-size BATCH_SIZE batch size \(default: 32; (.*?) use every row\)",
                     text)  # fmt: skip
    assert said, text
    every_row = set(said.group(1).split(", "))
    canonical = {}  # (one name for each optimizer: an alias is left out of --help)
    for name, entry in {**OPTIMIZERS, **SOLVERS}.items():
        canonical.setdefault(id(entry), name)
    assert every_row <= set(canonical.values())
    rng = np.random.default_rng(0)
    X = rng.random((40, 2))
    rows = [f"{a},{b},{a + b}" for a, b in X]
    (tmp_path / "sum.csv").write_text("a,b,y\n" + "\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    for name in canonical.values():  # what training recorded it used: None is every row
        out = f"{name}.safetensors"
        argv = ["train", "sum.csv", "--target", "y", "--optimizer", name, "--epochs", "2",
                "--validation-split", "0", "--quiet", "--out", out]  # fmt: skip
        assert main(argv) == 0, capsys.readouterr().err
        settings = dr.io.load_model(out).training["summary"]["settings"]
        assert (settings["batch_size"] is None) == (name in every_row), (name, settings)
    capsys.readouterr()


# ------------------------------------------------------------------ data --help
def test_data_out_help_promises_no_path_data_refuses(tmp_path, monkeypatch, capsys) -> None:
    text = _help(["data"], capsys)
    out_help = text.split("--out FILE", 1)[1].split(" --", 1)[0]
    monkeypatch.chdir(tmp_path)
    for path in re.findall(r"\./\S*\w", out_help):  # (every path it names works)
        assert main(["data", "iris", "--out", path, "--quiet"]) == 0, capsys.readouterr().err
    assert main(["data", "iris", "--out", "./-", "--quiet"]) == 2
    assert "./-" not in out_help.replace("./-.", "")


# ------------------------------------------------------------------------ docs
def test_recipes_names_metrics_fields_as_the_class_does() -> None:
    from deltarule.metrics import Metric

    text = (DOCS / "recipes.md").read_text()
    shown = re.findall(r"`Metric\(([^)]*)\)`", text)
    assert shown
    fields = [field.name for field in dataclasses.fields(Metric)]
    for args in shown:
        assert [a.strip() for a in args.split(",")] == fields[: len(args.split(","))]
    calls = re.findall(r"`(\w+)\(output, target, sample_weight\)", text)
    assert calls and set(calls) <= set(fields)


def _safetensors_header(path: Path) -> dict:
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + size])


def test_file_format_says_what_the_fixtures_hold() -> None:
    text = " ".join((DOCS / "file-format.md").read_text().split())
    versions = text.split("## Versions", 1)[1]
    documented = re.findall(r"\| `(extra\.[^`]*)` \|", text)
    fixtures = sorted(FIXTURES.rglob("*.safetensors"))
    assert len(fixtures) >= 2
    for path in fixtures:
        header = _safetensors_header(path)
        metadata = header.pop("__metadata__", {})
        if "deltarule.sha256" not in metadata:
            assert "(header, tensors, checksum)" not in versions
        for name in header:
            patterns = [re.escape(d).replace(r"\{key\}", r"[^.]+").replace(r"\*", ".+")
                        for d in documented]  # fmt: skip
            if name.startswith("extra.") and not any(re.fullmatch(p, name) for p in patterns):
                # (a name of the file's time: the doc names it, or its prefix)
                prefix = name.rsplit(".", 1)[0]
                assert name in versions or f"{prefix}.*" in versions, name
    loaded = dr.io.load_model(FIXTURES / "model_v1.safetensors")
    assert "adam.m" in loaded.extra_tensors  # (the loader accepts the old name)


def test_fit_restarts_example_runs_as_copied() -> None:
    """Copied into a fresh session (no module globals) and compared exactly."""
    test = doctest.DocTestParser().get_doctest(dr.fit_restarts.__doc__, {}, "fit_restarts", None, 0)
    runner = doctest.DocTestRunner(optionflags=0)  # (no NORMALIZE_WHITESPACE, no ELLIPSIS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0 and result.failed == 0


def test_notation_predicted_line_is_explains(tmp_path, monkeypatch, capsys) -> None:
    text = " ".join((DOCS / "notation.md").read_text().split())
    shown = re.search(r"`(predicted \w+ = mean \+ std·out_o1 = [^`]*)`", text)
    assert shown, "notation.md shows no predicted line"
    monkeypatch.chdir(tmp_path)
    assert main(["data", "diabetes", "--out", "diabetes.csv", "--quiet"]) == 0
    assert main(["train", "diabetes.csv", "--target", "progression", "--quiet"]) == 0
    first = (tmp_path / "diabetes.csv").read_text().splitlines()[1].split(",")
    capsys.readouterr()
    argv = ["explain", "--model", "diabetes.safetensors", "--raw", "--input",
            ",".join(first[:-1]), "--target", first[-1].removesuffix(".0")]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    line = next(ln for ln in printed.splitlines() if ln.startswith("predicted "))
    number = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"
    want = re.escape(shown.group(1))
    for value in re.findall(number, shown.group(1)):
        want = want.replace(re.escape(value), number, 1)
    assert re.fullmatch(want, line), (shown.group(1), line)
    # (the data's mean and std do not depend on the training's arithmetic: as shown, to
    # the last digits, where NumPy's sums run in another order on another processor)
    terms = [
        [float(v) for v in re.findall(number, text.split(" + std·out_o1 = ")[1].split("·")[0])]
        for text in (shown.group(1), line)
    ]
    assert len(terms[0]) == 2 and terms[1] == pytest.approx(terms[0], rel=1e-12)


# --------------------------------------------------------------- parameter docs
def _parameter_entries(doc: str) -> list[tuple[list[str], str]]:
    """The numpydoc Parameters section of ``doc``: (names, entry text) for each entry."""
    lines = inspect.cleandoc(doc).splitlines()
    start = lines.index("Parameters") + 2
    entries: list[tuple[list[str], str]] = []
    for line in lines[start:]:
        if line and not line.startswith(" "):
            if line.rstrip() and set(line.strip()) == {"-"}:  # (the next section's rule)
                entries.pop()
                break
            names = [n.strip() for n in line.split(" : ")[0].split(",")]
            entries.append((names, line))
        elif entries:
            entries[-1] = (entries[-1][0], entries[-1][1] + "\n" + line)
    return entries


def _spellings(value: object) -> list[str]:
    if isinstance(value, str):
        return [f'"{value}"', f"'{value}'"]
    if isinstance(value, float) and value == int(value):
        return [repr(value), str(int(value))]
    return [repr(value)]


def _mentions_default(names: list[str], text: str, name: str, value: object) -> bool:
    flat = " ".join(text.replace("``", "").split())
    if any(f"{name}={s}" in flat for s in _spellings(value)):
        return True
    if len(names) > 1:  # (an entry for several: each named with its value)
        return False
    if value is None and "optional" in text.splitlines()[0]:  # (numpydoc's "optional")
        return True
    return any(
        re.search(rf"\bdefault:? {re.escape(s)}(?![\w.])", flat, flags=re.I)
        for s in _spellings(value)
    )


@pytest.mark.parametrize("function", [dr.Network, training.fit], ids=["Network", "fit"])
def test_each_parameter_entry_gives_its_default(function) -> None:
    entries = _parameter_entries(function.__doc__)
    documented = {name: (names, text) for names, text in entries for name in names}
    signature = inspect.signature(function)
    missing = []
    for name, parameter in signature.parameters.items():
        if parameter.default is inspect.Parameter.empty:
            continue
        assert name in documented, f"{name} has no entry"
        names, text = documented[name]
        if not _mentions_default(names, text, name, parameter.default):
            missing.append(f"{name}={parameter.default!r}")
    assert missing == []


def test_network_fit_documents_by_training_fits_docstring() -> None:
    """Network.fit's docstring refers to training.fit's: the defaults must be the same."""
    assert "Parameters" not in (dr.Network.fit.__doc__ or "")
    ours = dict(list(inspect.signature(dr.Network.fit).parameters.items())[1:])
    theirs = dict(list(inspect.signature(training.fit).parameters.items())[1:])
    assert [(p.name, p.default) for p in ours.values()] == [
        (p.name, p.default) for p in theirs.values()
    ]
