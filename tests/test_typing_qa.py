"""The public annotations (the package ships py.typed): what type checkers see, and the
runtime facts they rest on.

The mypy tests run only where mypy is installed (it is not a test dependency): a user
program that must type-check under ``--strict``, and one whose mistakes must be reported.
The other tests check, without a type checker, that the annotations say what the code does.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import textwrap
import typing
from pathlib import Path

import numpy as np
import pytest

import deltarule as dr
from deltarule import training
from deltarule.callbacks import Callback, TrainingState
from deltarule.exceptions import KerasAttributeError
from deltarule.history import EpochRecord, History
from deltarule.losses import Loss
from deltarule.metrics import Metric
from deltarule.network import Network

SRC = Path(__file__).resolve().parents[1] / "src"

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([[0], [1], [1], [0]], dtype=float)


# ----------------------------------------------------------------------------- mypy


def _mypy(tmp_path: Path, source: str) -> list[str]:
    """mypy --strict's errors in the user program ``source`` (the package's own are not
    the user's concern: an installed package's are silenced)."""
    api = pytest.importorskip("mypy.api")
    program = tmp_path / "user_program.py"
    program.write_text(textwrap.dedent(source))
    env_path = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = str(SRC)
    try:
        stdout, stderr, _ = api.run(
            ["--strict", "--cache-dir", str(tmp_path / "cache"), "--no-error-summary",
             str(program)]
        )  # fmt: skip
    finally:
        if env_path is None:
            del os.environ["MYPYPATH"]
        else:
            os.environ["MYPYPATH"] = env_path
    assert "Traceback" not in stderr, stderr
    return [line for line in stdout.splitlines() if line.startswith(str(program))]


def _errors(lines: list[str]) -> list[str]:
    return [line for line in lines if ": error:" in line]


def test_mypy_strict_accepts_documented_usage(tmp_path: Path) -> None:
    lines = _mypy(
        tmp_path,
        """
        from __future__ import annotations

        from typing import Any

        import numpy as np
        import numpy.typing as npt

        import deltarule as dr
        from deltarule.callbacks import Callback, TrainingState
        from deltarule.history import EpochRecord
        from deltarule.losses import Loss
        from deltarule.metrics import Metric
        from deltarule.optimizers import Optimizer, register_optimizer
        from deltarule.schedules import Schedule, register_schedule

        X = np.zeros((4, 2))
        y = np.zeros((4, 1))
        net = dr.Network([2, 3, 1], initializer="glorot_uniform", seed=0)


        class StopOnFlag(Callback):
            def __init__(self, threshold: float) -> None:
                self.threshold = threshold

            def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | bool | None:
                state.network.predict(state.X)
                return record.loss < self.threshold


        def mab(o: npt.NDArray[np.floating[Any]], t: npt.NDArray[np.floating[Any]],
                w: npt.NDArray[np.floating[Any]] | None) -> float:
            return float(np.abs(o - t).mean())


        m = Metric("mab", mab, greater_is_better=False, task="regression")
        h = net.fit(X, y, epochs=2, verbose=0, metrics=[m], validation_data=(X, y),
                    optimizer="sgd", schedule="cosine", callbacks=[StopOnFlag(0.1)])
        first: EpochRecord = h[0]
        some: list[EpochRecord] = h[0:1]
        losses: list[Any] = h["loss"]
        trainer = dr.Trainer(net, metrics=["mae", m])
        h2: dr.History = trainer.fit(X, y, epochs=1, verbose=0)
        loss: float = net.evaluate(X, y)
        as_dict: dict[str, float] = net.evaluate(X, y, return_dict=True)
        scores: dict[str, float] = net.evaluate(X, y, metrics=["mae"])
        values: list[float] = net.evaluate(X, y, metrics=["mae"], return_dict=False)
        weight: npt.NDArray[np.floating[Any]] = net.weights[0]
        bias: npt.NDArray[np.floating[Any]] | None = net.biases[0]
        net.weights[0] = np.ones((3, 2))


        def scaled(scale: float = 2.0) -> Loss:
            return Loss("scaled_sq", lambda o, t: scale * ((o - t) ** 2).sum(axis=1),
                        lambda o, t: 2 * scale * (o - t), parameters={"scale": scale},
                        factory=scaled)


        @register_optimizer
        class Lion(Optimizer):
            name = "lion_typing_qa"

            def __init__(self, learning_rate: float = 1e-4, beta: float = 0.9) -> None:
                self.learning_rate = learning_rate
                self.beta = beta


        lion: Lion = Lion(beta=0.95)


        class Halve(Schedule):
            name = "halve_typing_qa"

            def rate(self, epoch: int, base_lr: float) -> float:
                return base_lr * 0.5**epoch


        halve: type[Halve] = register_schedule(Halve)
        stopper = dr.callbacks.EarlyStopping(patience=3)
        loader = dr.io.load_model
        """,
    )
    assert _errors(lines) == []


def test_mypy_strict_reports_mistakes(tmp_path: Path) -> None:
    lines = _mypy(
        tmp_path,
        """
        from __future__ import annotations

        import numpy as np

        import deltarule as dr
        from deltarule.callbacks import Callback, TrainingState
        from deltarule.history import EpochRecord

        X = np.zeros((4, 2))
        y = np.zeros((4, 1))
        net = dr.Network([2, 3, 1])


        class Thresh(Callback):
            def __init__(self, threshold: float) -> None:
                self.threshold = threshold

            def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | None:
                return "done" if record.loss < self.treshold else None


        dr.Trainer(net).fit(X, y, epoch=5)
        net.evaluate(X, y)["accuracy"]
        dr.Netwrk
        """,
    )
    errors = _errors(lines)
    expected = [
        r'"Thresh" has no attribute "treshold"',
        r'Unexpected keyword argument "epoch" for "fit" of "Trainer"',
        r'Value of type "float" is not indexable',
        r'Module has no attribute "Netwrk"',
    ]
    for pattern in expected:
        assert any(re.search(pattern, line) for line in errors), (pattern, errors)
    assert len(errors) == len(expected), errors


# ------------------------------------------------------- runtime facts of the hints


@pytest.mark.parametrize(
    "function",
    [
        Network.__init__,
        Network.evaluate,
        Network.initialize,
        dr.Trainer.__init__,
        dr.Trainer.fit,
        training.fit,
        History.__getitem__,
    ],
    ids=lambda f: f.__qualname__,
)
def test_type_hints_resolve(function: typing.Any) -> None:
    """The hints name only what the module has at run time (a documentation tool or a
    runtime checker reads them with typing.get_type_hints)."""
    hints = typing.get_type_hints(function)
    assert "return" in hints


def test_type_hints_of_network_fit_name_real_types() -> None:
    """Network.fit's hints name types its module imports for type checkers only (the
    callbacks would load the training loop): they resolve given those names."""
    from deltarule.callbacks import Callback as CallbackClass
    from deltarule.optimizers import Optimizer
    from deltarule.schedules import Schedule
    from deltarule.solvers import FullBatchSolver

    names = {
        "Callback": CallbackClass,
        "History": History,
        "Optimizer": Optimizer,
        "Schedule": Schedule,
        "FullBatchSolver": FullBatchSolver,
    }
    hints = typing.get_type_hints(Network.fit, localns=names)
    assert hints["return"] is History


def test_fit_keeps_its_signature_through_the_decorators() -> None:
    """Trainer.fit's decorators keep its signature (type checkers see it through a
    ParamSpec; help() and inspect through __wrapped__)."""
    parameters = inspect.signature(dr.Trainer.fit).parameters
    assert list(parameters)[:4] == ["self", "X", "y", "epochs"]


def test_evaluate_returns_what_its_overloads_say() -> None:
    net = dr.Network([2, 3, 1], seed=0)
    assert isinstance(net.evaluate(X, Y), float)
    assert isinstance(net.evaluate(X, Y, return_dict=False), float)
    assert list(net.evaluate(X, Y, return_dict=True)) == ["loss"]
    assert list(net.evaluate(X, Y, metrics=["mae"])) == ["loss", "mae"]
    assert list(net.evaluate(X, Y, metrics="mae", return_dict=True)) == ["loss", "mae"]
    values = net.evaluate(X, Y, metrics=["mae"], return_dict=False)
    assert isinstance(values, list) and len(values) == 2
    assert all(isinstance(v, float) for v in values)


def test_history_items_are_what_the_overloads_say() -> None:
    history = dr.Network([2, 3, 1], seed=0).fit(X, Y, epochs=3, verbose=0)
    assert isinstance(history[0], EpochRecord)
    assert isinstance(history[np.int64(0)], EpochRecord)
    assert isinstance(history[0:2], list) and len(history[0:2]) == 2
    assert isinstance(history["loss"], list) and len(history["loss"]) == 3


def test_weights_and_biases_are_lists_of_arrays() -> None:
    net = dr.Network([2, 3, 1], use_bias=[True, False], seed=0)
    assert isinstance(net.weights, list) and isinstance(net.weights[0], np.ndarray)
    assert isinstance(net.biases[0], np.ndarray) and net.biases[1] is None


def test_callback_attribute_lookup_is_unchanged_at_run_time() -> None:
    """Callback's __getattr__ is hidden from type checkers only."""

    class Mine(Callback):
        pass

    with pytest.raises(AttributeError, match="on_epoch_endd"):
        Mine().on_epoch_endd  # noqa: B018
    with pytest.raises(KerasAttributeError):
        Mine().model  # noqa: B018


def test_callback_returning_true_stops() -> None:
    """on_epoch_end -> str | bool | None: True stops too."""

    class StopNow(Callback):
        def on_epoch_end(self, record: EpochRecord, state: TrainingState) -> str | bool | None:
            return True

    history = dr.Network([2, 3, 1], seed=0).fit(
        X, Y, epochs=5, verbose=0, callbacks=[StopNow()], warn_convergence=False
    )
    assert len(history) == 1


def test_metric_objects_are_taken_where_annotated() -> None:
    metric = Metric(
        "mab_typing_qa",
        lambda o, t, w: float(np.abs(o - t).mean()),
        greater_is_better=False,
        task="regression",
    )
    net = dr.Network([2, 3, 1], seed=0)
    history = net.fit(X, Y, epochs=1, verbose=0, metrics=[metric])
    assert "mab_typing_qa" in history.history
    assert dr.Trainer(net, metrics=["mae", metric]).metrics[1] is metric
    assert "mab_typing_qa" in net.evaluate(X, Y, metrics=[metric])


def test_loss_takes_its_parameters_as_a_dict() -> None:
    loss = Loss(
        "scaled_typing_qa",
        lambda o, t: ((o - t) ** 2).sum(axis=1),
        lambda o, t: 2 * (o - t),
        parameters={"scale": 2.0},
    )
    assert loss.parameters == (("scale", 2.0),)


def test_register_functions_return_the_class_they_are_given() -> None:
    from deltarule.optimizers import SGD, register_optimizer
    from deltarule.optimizers.registry import OPTIMIZERS
    from deltarule.schedules import SCHEDULES, CosineDecay, register_schedule

    optimizer = type("SGDTypingQA", (SGD,), {"name": "sgd_typing_qa"})
    schedule = type("CosineTypingQA", (CosineDecay,), {"name": "cosine_typing_qa"})
    try:
        assert register_optimizer(optimizer) is optimizer
        assert register_schedule(schedule) is schedule
    finally:  # (the registries are global: other tests list their entries)
        OPTIMIZERS.pop("sgd_typing_qa", None)
        SCHEDULES.pop("cosine_typing_qa", None)


def test_submodules_type_checkers_see_are_real() -> None:
    """Each submodule the package's TYPE_CHECKING block imports is one that
    ``deltarule.<name>`` imports at run time."""
    source = Path(dr.__file__).read_text()
    names = re.findall(r"^    from \. import (\w+) as \1$", source, flags=re.M)
    assert {"callbacks", "io", "optimizers", "schedules", "metrics"} <= set(names)
    for name in names:
        assert importlib.util.find_spec(f"deltarule.{name}") is not None, name


def test_sklearn_save_and_load_return_path_and_instance(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    from deltarule.sklearn import MLPClassifier

    class Mine(MLPClassifier):
        pass

    labels = np.array([0, 1, 1, 0])
    fitted = Mine(hidden_layer_sizes=(4,), max_iter=2, batch_size=4, verbose=0)
    with pytest.warns(Warning):  # (the convergence warning of so short a fit)
        assert fitted.fit(X, labels) is fitted
    path = fitted.save(tmp_path / "mine.safetensors")
    assert isinstance(path, Path)
    assert type(Mine.load(path)) is Mine


def test_the_fit_and_predict_annotations_resolve_at_run_time() -> None:
    """typing.get_type_hints(Network.fit) raised NameError (Optimizer was imported for type
    checkers only), breaking runtime type checkers and config tools (found by a QA pass as a
    Keras user)."""
    import typing

    import deltarule as dr
    from deltarule.sklearn import MLPClassifier, MLPRegressor

    for function in (dr.Network.fit, dr.Network.predict, dr.Network.evaluate, dr.Trainer.fit,
                     dr.Trainer.__init__, dr.fit, MLPClassifier.__init__,
                     MLPRegressor.__init__):  # fmt: skip
        assert typing.get_type_hints(function)
    assert "Optimizer" in str(typing.get_type_hints(dr.Network.fit)["optimizer"])
