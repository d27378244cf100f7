"""Crafted estimator files: a valid checksum does not make a ``training`` record trusted.

Each file here is an estimator's file whose header was edited and then given a fresh,
valid checksum (as anyone can, with ``write_safetensors(..., checksum=True)``), so the
only defence is :func:`MLPClassifier.load` checking what it restores: no attribute but
the fitted ones, each of its type; parameters the class has, valid as ``fit`` wants
them; class labels in a plain scalar dtype, as many as the outputs need. Legitimate
files of every kind still load.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hardening_support import assert_clean_error, fuzz, peak_bytes
from hypothesis import given
from hypothesis import strategies as st

from deltarule.exceptions import IncompatibleFormatError
from deltarule.io.model_file import METADATA_KEY
from deltarule.io.safetensors import read_safetensors, write_safetensors
from deltarule.sklearn import MLPClassifier, MLPRegressor

_rng = np.random.default_rng(0)
X = _rng.normal(size=(60, 4))
Y3 = _rng.integers(0, 3, 60)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A 3-class classifier's file (adam, a RandomState): its tensors and header."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier(
            hidden_layer_sizes=(5,), max_iter=5, random_state=np.random.RandomState(0)
        ).fit(X, Y3)
    path = clf.save(tmp_path_factory.mktemp("est") / "clf.safetensors")
    tensors, metadata = read_safetensors(path)
    return tensors, json.loads(metadata[METADATA_KEY])


def _crafted(tmp_path, saved, edit, tensors=None):
    """The saved file with ``edit`` applied to its header, re-checksummed."""
    stored, header = saved
    header = json.loads(json.dumps(header))
    edit(header)
    path = tmp_path / "crafted.safetensors"
    metadata = {METADATA_KEY: json.dumps(header)}
    write_safetensors(path, tensors or stored, metadata, checksum=True)
    return path


def _refused(path, *fragments):
    with pytest.raises(IncompatibleFormatError) as info:
        MLPClassifier.load(path)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    return message


def _attributes(**values):
    return lambda h: h["training"]["attributes"].update(values)


@pytest.mark.parametrize(
    ("edit", "fragments"),
    [
        (_attributes(network_="x"), ["unknown attribute(s) ['network_']"]),
        (_attributes(predict=1), ["unknown attribute(s) ['predict']"]),
        (_attributes(__class__="x"), ["'__class__'"]),
        (_attributes(__dict__={}), ["'__dict__'"]),
        (_attributes(n_features_in_="abc"), ["attribute n_features_in_ is 'abc'", "expected 4"]),
        (_attributes(n_outputs_=7), ["attribute n_outputs_ is 7", "expected 3"]),
        (_attributes(n_layers_=True), ["attribute n_layers_ is True"]),
        (_attributes(out_activation_="identity"), ["out_activation_", "softmax"]),
        (_attributes(n_iter_=-1), ["attribute n_iter_ is -1", "integer >= 0"]),
        (_attributes(t_=1.5), ["attribute t_ is 1.5"]),
        (_attributes(loss_curve_=["a"]), ["loss_curve_", "list of numbers"]),
        (_attributes(loss_curve_=5), ["loss_curve_"]),
        (_attributes(validation_scores_={"a": 1}), ["validation_scores_"]),
        (_attributes(loss_="x"), ["attribute loss_ is 'x'"]),
        (_attributes(feature_names_in_=["a"]), ["feature_names_in_", "4 column names"]),
        (lambda h: h["training"]["attributes"].pop("n_iter_"), ["no ['n_iter_']"]),
        (lambda h: h["training"].update(attributes=[1, 2]), ["training.attributes is [1, 2]"]),
        (lambda h: h["training"].pop("attributes"), ["training.attributes is None"]),
        (lambda h: h["training"].pop("params"), ["training.params is None"]),
        (lambda h: h["training"].update(params=[1]), ["training.params is [1]"]),
        (lambda h: h["training"]["params"].update(evil=1), ["unknown parameter(s) ['evil']"]),
        (
            lambda h: h["training"]["params"].update(hidden_layer_sizes="abc"),
            ["parameters that cannot be restored", "hidden_layer_sizes"],
        ),
        (lambda h: h["training"]["params"].update(max_iter=0), ["max_iter"]),
        (lambda h: h["training"]["params"].update(class_weight=[[1]]), ["class_weight is [[1]]"]),
        (lambda h: h["training"].update(tuple_params="hidden_layer_sizes"), ["tuple_params"]),
        (lambda h: h["training"].update(tuple_params=["evil"]), ["tuple_params"]),
        (lambda h: h["training"].update(classes_dtype="O"), ["classes_dtype is 'O'"]),
        (lambda h: h["training"].update(classes_dtype="V100000000"), ["classes_dtype"]),
        (lambda h: h["training"].update(classes_dtype="i8,i8"), ["classes_dtype"]),
        (lambda h: h["training"].update(classes_dtype="M8"), ["classes_dtype"]),
        (lambda h: h["training"].update(classes_dtype="nonsense"), ["classes_dtype"]),
        (lambda h: h["training"].update(classes_dtype=[1]), ["classes_dtype is [1]"]),
        (lambda h: h["training"].update(classes_dtype="<U100000"), ["classes_dtype"]),
        (lambda h: h["training"].update(classes_dtype="|b1"), ["values of dtype bool"]),
        (
            lambda h: (h.update(classes=[0, 1, 1000]), h["training"].update(classes_dtype="<i1")),
            ["classes_ [0, 1, 1000] of dtype int8"],
        ),
        (lambda h: h["training"].update(target_type="evil"), ["target_type is 'evil'"]),
        (lambda h: h["training"].update(target_type="binary"), ["target_type is 'binary'"]),
        (lambda h: h.update(classes=[0, 1]), ["2 class(es)", "3 output(s)"]),
        (lambda h: h.update(classes=[0, 1, 1.5]), ["classes"]),
        (lambda h: h.update(classes=None), ["whose classes is None"]),
    ],
)
def test_a_crafted_training_record_is_refused_naming_the_field(tmp_path, saved, edit, fragments):
    _refused(_crafted(tmp_path, saved, edit), *fragments)


def test_a_sub_array_classes_dtype_allocates_nothing(tmp_path, saved):
    """'(200,200,200)f8' made each of 3 labels a 64 MB array (412 MB from a 3 KB file)."""
    path = _crafted(
        tmp_path, saved, lambda h: h["training"].update(classes_dtype="(200,200,200)f8")
    )
    peak, error = peak_bytes(lambda: MLPClassifier.load(path), collect=True)
    assert isinstance(error, IncompatibleFormatError), error
    assert "classes_dtype is '(200,200,200)f8'" in str(error)
    assert peak < 20 * 2**20


def test_best_parameters_that_do_not_fit_the_network_are_refused(tmp_path, saved):
    tensors = dict(saved[0])
    tensors["extra.best_parameters"] = np.zeros(3, np.float32)
    _refused(_crafted(tmp_path, saved, lambda h: None, tensors), "extra.best_parameters", "(3,)")
    tensors["extra.best_parameters"] = np.full_like(saved[0]["extra.best_parameters"], np.nan)
    _refused(_crafted(tmp_path, saved, lambda h: None, tensors), "not finite")


def test_a_regressor_file_with_classes_is_refused(tmp_path):
    path = MLPRegressor(max_iter=2).fit(X, X[:, 0]).save(tmp_path / "reg.safetensors")
    tensors, metadata = read_safetensors(path)
    header = json.loads(metadata[METADATA_KEY])
    header["classes"] = ["a"]
    write_safetensors(path, tensors, {METADATA_KEY: json.dumps(header)}, checksum=True)
    with pytest.raises(IncompatibleFormatError, match="has no classes"):
        MLPRegressor.load(path)


_LABELS = {
    "one_class": np.zeros(60, int),
    "bool": X[:, 0] > 0,
    "uint8": (X[:, 0] > 0).astype(np.uint8) + 3,
    "negative_int": np.where(X[:, 0] > 0, -1, 1),
    "float": np.where(X[:, 0] > 0, -1.0, 2.0).astype(np.float32),
    "strings": np.array(["cat", "dog", "a much longer label"])[Y3],
    "multiclass": Y3,
    "multilabel": np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 2] > 0]).astype(int),
}


@pytest.mark.parametrize("labels", sorted(_LABELS))
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_every_kind_of_legitimate_classifier_file_loads(tmp_path, labels, solver):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, solver=solver, random_state=0)
        clf.fit(X, _LABELS[labels])
    loaded = MLPClassifier.load(clf.save(tmp_path / "clf.safetensors"))
    assert loaded.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(loaded.classes_, clf.classes_)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["inf", "nan", "<i8", "<U3", "O", "(9,9)f8", "binary", "logistic", ""]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=8,
)
_sections = st.sampled_from(["training", "params", "attributes", "classes"])
_keys = st.sampled_from(
    ["params", "attributes", "tuple_params", "target_type", "classes_dtype", "trainer",
     "random_state", "n_iter_", "loss_curve_", "out_activation_", "feature_names_in_",
     "n_features_in_", "hidden_layer_sizes", "class_weight", "max_iter", "evil"]
)  # fmt: skip


@fuzz(200)
@given(edits=st.lists(st.tuples(_sections, _keys, _json), min_size=1, max_size=3))
def test_any_edited_training_record_loads_or_is_refused_cleanly(tmp_path_factory, saved, edits):
    def edit(header):
        training = header["training"]
        for section, key, value in edits:
            if section == "classes":
                header["classes"] = value
            else:
                where = training if section == "training" else training.get(section)
                if isinstance(where, dict):
                    where[key] = value

    path = _crafted(tmp_path_factory.mktemp("fuzz"), saved, edit)
    try:
        loaded = MLPClassifier.load(path)
    except Exception as error:  # noqa: BLE001 - judged by assert_clean_error
        assert_clean_error(error, IncompatibleFormatError)
        return
    assert loaded.predict(X[:3]).shape == (3,)
