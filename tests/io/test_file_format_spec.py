"""docs/file-format.md is enough to run a model without deltarule.

The reader below is written from that page alone, with json, struct, hashlib, math and NumPy:
it parses the container, checks the checksum as the page spells it out (its own canonical
JSON writer, not ``json.dumps``), turns raw text cells into inputs by the documented
preprocessing, runs the documented forward pass and decodes the outputs. deltarule is used
only to make model files and the reference predictions it is compared with.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import struct
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import deltarule as dr
from deltarule.cli import main

# ------------------------------------------------------------------ the reader (from the doc)

DTYPES = {"F32": "<f4", "F64": "<f8"}
ARCH_DTYPES = {"float32": "F32", "float64": "F64"}


def _string(text: str) -> str:
    short = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
    short["\t"] = "\\t"
    return (
        '"'
        + "".join(short.get(c) or (f"\\u{ord(c):04x}" if ord(c) < 0x20 else c) for c in text)
        + '"'
    )


def canonical(value) -> str:
    """The page's canonical JSON: keys sorted by code point, no whitespace, minimal escapes."""
    if isinstance(value, dict):
        items = sorted(value.items())  # (Python compares str by code point)
        return "{" + ",".join(_string(k) + ":" + canonical(v) for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(canonical(v) for v in value) + "]"
    if isinstance(value, str):
        return _string(value)
    assert isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return str(value)


def read_model(path: Path):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    data = raw[8 + n :]
    metadata = dict(header.get("__metadata__") or {})
    stored = metadata.pop("deltarule.sha256")
    covered = {k: v for k, v in header.items() if k != "__metadata__"}
    covered["__metadata__"] = metadata
    digest = hashlib.sha256(canonical(covered).encode("utf-8") + data).hexdigest()
    assert digest == stored, "checksum as documented"
    meta = json.loads(metadata["deltarule"])
    assert meta["format"] == "deltarule.model" and meta["format_version"] == 1
    tensors = {}
    for name, entry in header.items():
        if not name.startswith("layers."):  # (extra.* tensors: free-form, not needed)
            continue
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=DTYPES[entry["dtype"]])
        tensors[name] = array.reshape(entry["shape"])
    code = ARCH_DTYPES[meta["architecture"]["dtype"]]
    assert all(header[n]["dtype"] == code for n in tensors if n.startswith("layers."))
    return meta, tensors


MARKS = {"?", "-", "--", ".", "na", "n/a", "#n/a", "nan", "null", "none", "nil", "missing"}
PANDAS_MARKS = {"#N/A N/A", "#NA", "<NA>", "-NaN", "-nan", "1.#IND", "1.#QNAN", "-1.#IND"}
PANDAS_MARKS |= {"-1.#QNAN"}
TRUTHS = {"true": True, "t": True, "yes": True, "y": True, "1": True,
          "false": False, "f": False, "no": False, "n": False, "0": False}  # fmt: skip


def _missing_number(cell: str) -> bool:
    text = cell.strip()
    return text == "" or text.lower() in MARKS or text in PANDAS_MARKS


def _category(cell: str, categories: list):
    if all(isinstance(c, bool) for c in categories):
        value = TRUTHS.get(cell.strip().lower())
        return categories.index(value) if value in categories else None
    if all(isinstance(c, str) for c in categories):
        if cell in categories:
            return categories.index(cell)
        trimmed = [c.strip() for c in categories]
        return trimmed.index(cell.strip()) if cell.strip() in trimmed else None
    number = float(cell)
    return next((i for i, c in enumerate(categories) if float(c) == number), None)


def preprocess(pre: dict, rows: list[dict]) -> np.ndarray:
    out = []
    for row in rows:
        inputs = []
        for column in pre["columns"]:
            cell = row[column["name"]]
            if column["kind"] == "numeric":
                if _missing_number(cell):
                    assert column["fill"] is not None
                    x = column["fill"]
                else:
                    x = float(cell)
                inputs.append((x - column["mean"]) / column["std"])
                continue
            assert column["kind"] == "categorical"
            categories = column["categories"]
            if cell.strip() == "":
                assert column["fill"] is not None
                position = categories.index(column["fill"])
            else:
                position = _category(cell, categories)
            inputs.extend(1.0 if i == position else 0.0 for i in range(len(categories)))
        out.append(inputs)
    return np.array(out)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


SELU_L, SELU_A = 1.0507009873554805, 1.6732632423543772
ACTIVATIONS = {
    "identity": lambda x: x,
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "selu": lambda x: SELU_L * np.where(x > 0, x, SELU_A * np.expm1(np.minimum(x, 0))),
    "gelu": lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2))),
    "softplus": lambda x: np.logaddexp(0, x),
    "silu": lambda x: x * _sigmoid(x),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "softmax": _softmax,
}


def forward(meta: dict, tensors: dict, inputs: np.ndarray) -> np.ndarray:
    arch = meta["architecture"]
    top = np.log(np.finfo(arch["dtype"]).max) - 1
    a = np.asarray(inputs, dtype=np.float64)
    for i, name in enumerate(arch["activations"]):
        a = a @ tensors[f"layers.{i}.weight"].astype(np.float64).T
        if arch["use_bias"][i]:
            a = a + tensors[f"layers.{i}.bias"]
        else:
            assert f"layers.{i}.bias" not in tensors
        a = np.exp(np.minimum(a, top)) if name == "exp" else ACTIVATIONS[name](a)
    return a


def decode(meta: dict, out: np.ndarray):
    """(labels or values, probabilities or None), as the page's Predictions tables say."""
    pre, classes = meta["preprocessing"], meta["classes"]
    sigmoid_out = meta["architecture"]["activations"][-1] == "sigmoid"
    k = out.shape[1]
    if pre is not None:
        if pre["task"] == "regression":
            return out[:, 0], None
        labels = np.array(pre["classes"], dtype=object)
        if k == 1:
            return labels[(out[:, 0] > 0.5).astype(int)], np.hstack([1 - out, out])
        proba = out
        if sigmoid_out and k > 2:
            proba = out / out.sum(axis=1, keepdims=True)
        return labels[out.argmax(axis=1)], proba
    if (meta["training"] or {}).get("target_type") == "multilabel-indicator":
        return (out > 0.5).astype(int), out
    if not classes:
        return out, None
    labels = np.array(classes, dtype=object)
    if len(classes) == 1:
        return np.repeat(labels, len(out)), 1 - out
    if k == 1:
        return labels[(out[:, 0] > 0.5).astype(int)], np.hstack([1 - out, out])
    return labels[out.argmax(axis=1)], out


def _clear(out: np.ndarray, meta: dict) -> np.ndarray:
    """Rows whose label is not a near tie (float32 against float64 may break those apart)."""
    if out.shape[1] == 1:
        return np.abs(out[:, 0] - 0.5) > 1e-4
    top2 = np.sort(out, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0] > 1e-4


# ------------------------------------------------------------------ data and deltarule's side


def _cli(capsys, *argv) -> str:
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([str(a) for a in argv]) == 0
    return capsys.readouterr().out


def _table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    n = 60
    a = rng.normal(10, 3, n)
    b = rng.integers(0, 5, n).astype(float)
    colour = rng.choice(["red", "green", "blue"], n)
    frame = pd.DataFrame({"a": a, "colour": colour, "code": rng.choice(["01", "2", "x"], n),
                          "flag": rng.choice([True, False], n), "b": b})  # fmt: skip
    frame["kind"] = np.where(a > 10, "hi", np.where(colour == "red", "red", "lo"))
    frame["sign"] = np.where(a + b > 12, "yes", "no")
    frame["price"] = 1e6 + 100 * a + 30 * b + rng.normal(0, 5, n)  # (|mean| / std > 1024)
    frame.loc[3, "a"] = np.nan
    frame.loc[5, "colour"] = None
    folder = tmp_path_factory.mktemp("spec")
    frame.to_csv(folder / "train.csv", index=False)
    new = (
        "a,colour,code,flag,b\n"
        "11,red,2,True,1\n"
        "9.5, green ,01,yes,0\n"  # (spaces around a category: trimmed)
        ",blue,x,0,4\n"  # (missing number: fill)
        "?,,2,no,2\n"  # (a mark, and a missing category: fills)
        "NA,purple,x,Y,3\n"  # (an unseen category: all zeros)
        "1.2e1,red,2.0,false,1\n"  # ('2.0' is not the text category '2')
        " 7 ,RED,01,t,0\n"
    )
    (folder / "new.csv").write_text(new)
    return folder


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _train(capsys, data: Path, name: str, *options: str) -> Path:
    out = data / f"{name}.safetensors"
    _cli(capsys, "train", data / "train.csv", "--hidden", "4", "--epochs", "8", "--seed", "0",
         "--impute", "mean", "--quiet", "--out", out, *options)  # fmt: skip
    return out


@pytest.mark.parametrize(
    "name, options",
    [
        ("multiclass", ("--target", "kind", "--drop", "sign,price", "--activation", "tanh")),
        ("binary", ("--target", "sign", "--drop", "kind,price")),
        ("ovr", ("--target", "kind", "--drop", "sign,price", "--loss", "binary_crossentropy")),
    ],
)
def test_cli_classifiers(capsys, data, name, options) -> None:
    path = _train(capsys, data, name, *options)
    meta, tensors = read_model(path)
    outputs = forward(meta, tensors, preprocess(meta["preprocessing"], _rows(data / "new.csv")))
    labels, proba = decode(meta, outputs)
    if name == "ovr":
        assert meta["architecture"]["activations"][-1] == "sigmoid" and outputs.shape[1] == 3
    if name == "binary":
        assert outputs.shape[1] == 1
    assert meta["classes"] == meta["preprocessing"]["classes"]
    got = _table(_cli(capsys, "predict", path, data / "new.csv", "--quiet"))
    clear = _clear(outputs, meta)
    assert clear.sum() >= 5
    assert [row[0] for row in got[1:]] == [
        str(label) if ok else row[0] for label, ok, row in zip(labels, clear, got[1:])
    ]
    got = _table(_cli(capsys, "predict", path, data / "new.csv", "--quiet", "--proba"))
    assert got[0] == [str(c) for c in meta["classes"]]
    np.testing.assert_allclose(np.array(got[1:], dtype=float), proba, rtol=1e-4, atol=1e-6)


def test_cli_regression_with_a_standardised_target(capsys, data) -> None:
    path = _train(capsys, data, "regression", "--target", "price", "--drop", "kind,sign")
    meta, tensors = read_model(path)
    assert meta["architecture"]["dtype"] == "float64"  # (folded weights need float64)
    assert meta["training"]["summary"]["target_standardisation"]["mean"] > 1e5
    outputs = forward(meta, tensors, preprocess(meta["preprocessing"], _rows(data / "new.csv")))
    values, _ = decode(meta, outputs)  # (in the target's units: no standardisation to undo)
    got = _table(_cli(capsys, "predict", path, data / "new.csv", "--quiet"))
    np.testing.assert_allclose(np.array(got[1:], dtype=float)[:, 0], values, rtol=1e-9)
    assert np.all(np.abs(values - 1e6) < 1e4)


def test_python_network_with_every_activation(tmp_path) -> None:
    rng = np.random.default_rng(1)
    hidden = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu",
              "softplus", "silu", "softsign", "hard_sigmoid"]  # fmt: skip
    bias = [i % 3 != 1 for i in range(len(hidden) + 1)]
    net = dr.Network([3, *[5] * len(hidden), 3], activation=hidden, output_activation="softmax",
                     use_bias=bias, dropout=0.3, seed=0)  # fmt: skip
    net.parameters[:] = rng.normal(0, 1.5, net.parameters.shape)
    path = tmp_path / "net.safetensors"
    note = {"note": 'é "q" \\ / \n\t\x01\x1f\x7f \u2028 𝄞', "ключ": [1, 2.5, None]}
    dr.io.save_model(net, path, classes=["a", "b", "c"], training=note,
                     extra_tensors={"free": np.arange(3, dtype=np.int32)})  # fmt: skip
    meta, tensors = read_model(path)  # (the checksum covers the escaped characters)
    assert meta["architecture"]["dropout"] == [0.3] * len(hidden)
    X = rng.normal(0, 2, (40, 3))
    outputs = forward(meta, tensors, X)
    labels, proba = decode(meta, outputs)
    loaded = dr.io.load_model(path)
    np.testing.assert_allclose(loaded.predict_proba(X), proba, rtol=1e-4, atol=1e-6)
    clear = _clear(outputs, meta)
    assert (loaded.predict(X)[clear] == labels[clear]).all() and clear.sum() > 30

    exp_net = dr.Network([3, 4, 2], activation="hard_sigmoid", output_activation="exp",
                         loss="poisson", use_bias=False, dtype="float64", seed=0)  # fmt: skip
    exp_net.parameters[:] = rng.normal(0, 3, exp_net.parameters.shape)
    dr.io.save_model(exp_net, tmp_path / "exp.safetensors")
    meta, tensors = read_model(tmp_path / "exp.safetensors")
    values, _ = decode(meta, forward(meta, tensors, X))
    expected = dr.io.load_model(tmp_path / "exp.safetensors").predict(X)
    np.testing.assert_allclose(values, expected, rtol=1e-12)


def test_estimator_files(tmp_path) -> None:
    from deltarule.sklearn import MLPClassifier

    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(60, 3)) * [1, 10, 0.1] + [0, 50, 0], columns=["p", "q", "r"])
    y = np.array(["cat", "dog", "eel"])[(X.p > 0).astype(int) + (X.q > 50).astype(int)]
    multilabel = np.stack([X.p > 0, X.q > 50, X.r > 0], axis=1).astype(int)
    cases = {
        "multiclass": (MLPClassifier((5,), activation="logistic", max_iter=30), X, y),
        "multilabel": (MLPClassifier((5,), max_iter=30), X.to_numpy(), multilabel),
        "binary": (MLPClassifier((4,), activation="tanh", max_iter=30), X.to_numpy(), y == "dog"),
        "one_class": (MLPClassifier((3,), max_iter=5), X.to_numpy(), ["only"] * 60),
    }
    for name, (estimator, features, target) in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.set_params(random_state=0).fit(features, target)
        path = tmp_path / f"{name}.safetensors"
        estimator.save(path)
        meta, tensors = read_model(path)
        assert meta["preprocessing"] is None
        names = meta["training"]["attributes"].get("feature_names_in_")
        raw = features[names].to_numpy() if names else features  # (training order, no scaling)
        outputs = forward(meta, tensors, raw)
        labels, proba = decode(meta, outputs)
        loaded = dr.io.load_model(path)
        clear = _clear(outputs, meta) if name != "multilabel" else np.abs(outputs - 0.5) > 1e-4
        reference = estimator.predict(features)
        assert (np.asarray(reference)[clear] == np.asarray(labels)[clear]).all(), name
        assert (np.asarray(loaded.predict(features))[clear] == labels[clear]).all(), name
        np.testing.assert_allclose(loaded.predict_proba(features), proba, rtol=1e-6, atol=1e-9)
        if name == "multilabel":
            assert meta["classes"] == [0, 1, 2] and labels.shape == (60, 3)
        if name == "one_class":
            np.testing.assert_allclose(estimator.predict_proba(features)[:, 0], proba[:, 0])
