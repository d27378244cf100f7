"""Hostile files and paths (a security QA pass): each is refused with a clear error.

Crafted files recompute the documented SHA-256 checksum (docs/file-format.md), so they
pass it: what refuses them is the check each test is about.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat

import numpy as np
import pytest

import deltarule as dr
from deltarule._preprocessing_state import state_problem
from deltarule.exceptions import IncompatibleFormatError, InputError
from deltarule.io import _links, atomic, load_model, save_model
from deltarule.io.checkpoint import (
    CHECKPOINT_FILE,
    Checkpoint,
    load_checkpoint,
    resume_trainer,
    save_checkpoint,
)
from deltarule.io.safetensors import covered_header


def _read(path):
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def _write(path, header, data):
    """Write ``header`` and ``data`` as a safetensors file, its checksum recomputed."""
    metadata = dict(header["__metadata__"])
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    digest = hashlib.sha256(covered_header(tensors, metadata) + data).hexdigest()
    metadata["deltarule.sha256"] = digest
    raw = json.dumps({**tensors, "__metadata__": metadata}).encode()
    raw += b" " * (-len(raw) % 8)
    path.write_bytes(len(raw).to_bytes(8, "little") + raw + data)


def _edit(path, change):
    """Rewrite the model file ``path`` with its ``deltarule`` JSON text changed by ``change``
    (a function of the parsed header that returns the new JSON text, or edits it in place)."""
    header, data = _read(path)
    inner = json.loads(header["__metadata__"]["deltarule"])
    text = change(inner)
    header["__metadata__"]["deltarule"] = text if isinstance(text, str) else json.dumps(inner)
    _write(path, header, data)


def _data(n=30):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, (X[:, :1] > 0).astype(float)


@pytest.fixture
def checkpoint(tmp_path):
    """A folder holding an Adam run's checkpoint with early stopping's best weights."""
    X, y = _data()
    trainer = dr.Trainer(dr.Network([3, 4, 1], seed=0), "adam", seed=0)
    stop = dr.callbacks.EarlyStopping("loss", patience=5)
    folder = tmp_path / "run"
    trainer.fit(X, y, epochs=2, verbose=0, callbacks=[stop, Checkpoint(folder)],
                warn_convergence=False)  # fmt: skip
    return folder


def _resave(folder, training=None, extra=None):
    """Save the checkpoint in ``folder`` again with its training record or extra tensors
    changed (a checksum that matches, as an editor of the file would make)."""
    path = folder / CHECKPOINT_FILE
    loaded = load_model(path)
    tensors = dict(loaded.extra_tensors)
    tensors.update(extra or {})
    save_model(loaded.network, path, training=training or loaded.training, extra_tensors=tensors)


def _resume(folder):
    trainer = dr.Trainer(dr.Network([3, 4, 1], seed=0), "adam", seed=0)
    return resume_trainer(trainer, load_checkpoint(folder),
                          [dr.callbacks.EarlyStopping("loss", patience=5)])  # fmt: skip


# ---------------------------------------------------------------- 3: planted symlinks


def test_a_save_does_not_follow_another_users_link_in_a_sticky_folder(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = shared / "model.safetensors"
    link.symlink_to(victim)
    real_owner = _links._owner
    monkeypatch.setattr(_links, "_owner", lambda p: 4242 if p == str(link) else real_owner(p))
    with pytest.raises(InputError, match="symbolic link .* owned by another user") as info:
        atomic.atomic_write_text(link, "overwritten")
    assert str(victim) in str(info.value) and "uid 4242" in str(info.value)
    assert victim.read_text() == "precious"
    with pytest.raises(InputError, match="symbolic link"):
        atomic.check_writable(link)


def test_a_save_follows_this_users_own_link_and_one_in_a_private_folder(tmp_path, monkeypatch):
    victim = tmp_path / "target.txt"
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    (shared / "mine").symlink_to(victim)
    atomic.atomic_write_text(shared / "mine", "one")  # (this user's link: followed)
    assert victim.read_text() == "one"
    private = tmp_path / "private"
    private.mkdir()
    os.chmod(private, 0o755)
    (private / "theirs").symlink_to(victim)
    monkeypatch.setattr(_links, "_owner", lambda p: 4242)  # (not sticky: followed)
    atomic.atomic_write_text(private / "theirs", "two")
    assert victim.read_text() == "two"
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o1777


def test_a_checkpoint_is_not_saved_through_a_dangling_link(tmp_path):
    folder, target = tmp_path / "run", tmp_path / "elsewhere.safetensors"
    folder.mkdir()
    (folder / CHECKPOINT_FILE).symlink_to(target)
    trainer = dr.Trainer(dr.Network([3, 4, 1], seed=0), "adam", seed=0)
    with pytest.raises(InputError, match="is a symbolic link"):
        save_checkpoint(folder, trainer, dr.history.History())
    assert not target.exists()


# ---------------------------------------------------------------- 4: quadratic checks


def _state(columns):
    return {"type": "tabular", "version": 1, "target": "y", "task": "regression",
            "impute": None, "classes": None, "columns": columns}  # fmt: skip


def test_many_duplicate_column_names_are_found_in_linear_time():
    columns = [{"name": f"c{i}", "kind": "numeric", "fill": None, "mean": 0.0, "std": 1.0}
               for i in range(50_000)]  # fmt: skip
    columns += [dict(columns[-1]), dict(columns[0])]
    assert state_problem(_state(columns)) == "two columns are named 'c0', 'c49999'"


def test_many_categories_with_a_repeat_are_found_in_linear_time():
    categories = [f"k{i}" for i in range(60_000)] + ["k59999"]
    column = {"name": "c", "kind": "categorical", "fill": None, "categories": categories}
    problem = state_problem(_state([column]))
    assert problem.endswith(": the category 'k59999' appears twice")


# ---------------------------------------------------------------- 5, 9: crafted headers


@pytest.fixture
def model(tmp_path):
    net = dr.Network([2, 3, 2], seed=0)
    pre = {"type": "tabular", "version": 1, "target": "y", "task": "classification",
           "impute": None, "classes": ["a", "b"],
           "columns": [{"name": n, "kind": "numeric", "fill": None, "mean": 0.0, "std": 1.0}
                       for n in ("u", "v")]}  # fmt: skip
    return save_model(net, tmp_path / "m.safetensors", preprocessing=pre, classes=["a", "b"])


def test_metadata_of_many_empty_arrays_is_refused_before_it_is_built(model):
    def bloat(inner):
        inner["training"] = {"x": [[]] * 300_000}

    _edit(model, bloat)
    with pytest.raises(IncompatibleFormatError, match="JSON objects and arrays, more than"):
        load_model(model)


def test_brackets_inside_strings_do_not_count(model):
    def labels(inner):
        inner["training"] = {"note": "[" * 500_000}

    _edit(model, labels)
    assert load_model(model).training == {"note": "[" * 500_000}


def test_header_and_preprocessing_classes_must_agree(model):
    def swap(inner):
        inner["preprocessing"]["classes"] = ["b", "a"]

    _edit(model, swap)
    with pytest.raises(IncompatibleFormatError, match="differ from its preprocessing's classes"):
        load_model(model)


# ---------------------------------------------------------------- 7, 8: checkpoint state


@pytest.mark.parametrize("step", [-(10**30), None, 1.5, True])
def test_a_damaged_optimizer_step_is_refused_at_load(checkpoint, step):
    training = load_model(checkpoint / CHECKPOINT_FILE).training
    training["trainer"]["optimizer_scalars"]["step"] = step
    _resave(checkpoint, training=training)
    with pytest.raises(IncompatibleFormatError, match="'step' = .* not a count of updates"):
        load_checkpoint(checkpoint)


def test_best_weights_of_another_dtype_are_refused(checkpoint):
    extra = load_model(checkpoint / CHECKPOINT_FILE).extra_tensors
    key = next(k for k in extra if k.endswith("best_parameters"))
    _resave(checkpoint, extra={key: extra[key].view(np.int32)})
    with pytest.raises(IncompatibleFormatError, match="int32 .* expected float32"):
        load_checkpoint(checkpoint)


def test_optimizer_state_of_another_dtype_is_refused(checkpoint):
    extra = load_model(checkpoint / CHECKPOINT_FILE).extra_tensors
    moment = extra["optimizer.first_moment"]
    _resave(checkpoint, extra={"optimizer.first_moment": moment.view(np.int32)})
    with pytest.raises(IncompatibleFormatError, match="'first_moment' is int32"):
        _resume(checkpoint)


def test_a_negative_second_moment_is_refused(checkpoint):
    extra = load_model(checkpoint / CHECKPOINT_FILE).extra_tensors
    moment = extra["optimizer.second_moment"].copy()
    moment[0] = -1.0
    _resave(checkpoint, extra={"optimizer.second_moment": moment})
    with pytest.raises(IncompatibleFormatError, match="'second_moment' holds a negative"):
        _resume(checkpoint)


def test_an_untampered_checkpoint_still_resumes(checkpoint):
    assert _resume(checkpoint).epochs_done == 2


# ---------------------------------------------------------------- 7, 11: estimator files


@pytest.fixture
def estimator_file(tmp_path):
    from deltarule.sklearn import MLPClassifier

    X, y = _data()
    clf = MLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0,
                        class_weight={0.0: 1.0, 1.0: 2.0})  # fmt: skip
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y.ravel())
    return clf.save(tmp_path / "clf.safetensors")


def test_an_estimators_damaged_optimizer_step_is_refused_at_load(estimator_file):
    from deltarule.sklearn import MLPClassifier

    def overflow(inner):
        inner["training"]["trainer"]["optimizer_scalars"]["step"] = -(10**30)

    _edit(estimator_file, overflow)
    with pytest.raises(IncompatibleFormatError, match="not a count of updates"):
        MLPClassifier.load(estimator_file)


def test_an_estimators_nan_class_weight_is_refused_at_load(estimator_file):
    from deltarule.sklearn import MLPClassifier

    def nan(inner):
        inner["training"]["params"]["class_weight"][0][1] = "nan"

    _edit(estimator_file, nan)
    with pytest.raises(IncompatibleFormatError, match="finite numbers >= 0"):
        MLPClassifier.load(estimator_file)


def test_a_backslash_in_a_name_is_escaped_once_in_latex():
    from deltarule.explain.render import _math
    from deltarule.explain.units import _text

    latex = _text("ratio\\").latex  # (a name ending in a backslash)
    assert latex == r"\text{ratio\textbackslash{}}"
    assert _math(latex) == latex  # (the Markdown pass does not escape it again)
    depth = 0
    for i, c in enumerate(latex):  # braces balance, none of them escaped by the name
        if c in "{}" and latex[i - 1] != "\\":
            depth += 1 if c == "{" else -1
    assert depth == 0
