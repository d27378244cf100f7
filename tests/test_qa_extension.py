"""Extending deltarule from outside the package: custom optimizers, activations, losses,
callbacks, schedules, metrics and initializers, as a researcher writes them (QA report on
extensions). Each test fails without its fix."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from conftest import count_calls

import deltarule as dr
from deltarule import InputError, _compiled, initializers, metrics, schedules
from deltarule.activations import ACTIVATIONS
from deltarule.callbacks import Callback
from deltarule.io import load_model, save_model
from deltarule.io.checkpoint import Checkpoint, load_checkpoint, resume_trainer
from deltarule.losses import LOSSES, huber
from deltarule.optimizers import OPTIMIZERS, SGD, Optimizer, register_optimizer


@pytest.fixture(autouse=True)
def _registries():
    """Every registry as it was after each test (the tests register parts of their own)."""
    kept = [(r, dict(r)) for r in (ACTIVATIONS, LOSSES, OPTIMIZERS, initializers.INITIALIZERS,
                                  metrics.METRICS, schedules.SCHEDULES)]  # fmt: skip
    yield
    for registry, entries in kept:
        registry.clear()
        registry.update(entries)


def regression_data(n=40):
    X = np.random.default_rng(0).normal(size=(n, 3))
    return X, np.tanh(X[:, :1]) + X[:, 1:2]


def small_net(**kwargs):
    kwargs.setdefault("dtype", "float64")
    return dr.Network([3, 4, 1], activation="tanh", seed=0, **kwargs)


class ClippedSGD(SGD):
    """SGD on the clipped gradient, as a fused update_and_accumulate."""

    name = "qa_clipped_sgd"

    def update_and_accumulate(self, params, grad, state, learning_rate, loss, total):
        params -= self._rate(learning_rate) * np.clip(grad, -0.01, 0.01)
        state["step"] += 1
        np.add(total, grad, out=total)


class HalfRateSGD(SGD):
    name = "qa_half_rate_sgd"

    def _rate(self, learning_rate):
        return 0.5 * super()._rate(learning_rate)


class RenamedSGD(SGD):
    name = "qa_renamed_sgd"  # the same rule


# -- 1: a subclass of SGD that changes the step is not run as plain SGD ---------------------


def online_oracle(step_of, X, y, epochs, learning_rate):
    """Online training written out: each example's gradient (the network's, checked against
    finite differences elsewhere), then the rule's step, in order."""
    net = small_net()
    for _ in range(epochs):
        for i in range(len(X)):
            _, grad = net.loss_and_gradient(X[i : i + 1], y[i : i + 1])
            net.parameters[...] = net.parameters - step_of(grad, learning_rate)
    return net.parameters


@pytest.mark.parametrize(
    "cls, step_of",
    [
        (ClippedSGD, lambda g, lr: lr * np.clip(g, -0.01, 0.01)),
        (HalfRateSGD, lambda g, lr: 0.5 * lr * g),
    ],
    ids=["update_and_accumulate", "_rate"],
)
def test_an_sgd_subclass_with_its_own_step_is_applied_online(cls, step_of) -> None:
    register_optimizer(cls)
    X, y = regression_data()
    net = small_net()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net.fit(X, y, epochs=3, batch_size=1, optimizer=cls.name, learning_rate=0.1,
                shuffle=False, verbose=0)  # fmt: skip
    assert not cls().is_plain_sgd()
    np.testing.assert_allclose(net.parameters, online_oracle(step_of, X, y, 3, 0.1), rtol=1e-12)


def test_plain_sgd_and_a_mere_rename_still_take_the_compiled_online_path(monkeypatch) -> None:
    assert SGD().is_plain_sgd() and RenamedSGD().is_plain_sgd()
    if not _compiled.available():
        pytest.skip("numba is not installed")
    calls = count_calls(monkeypatch, _compiled.OnlineKernel, "run")
    X, y = regression_data()
    net = small_net()
    net.fit(X, y, epochs=3, batch_size=1, optimizer="sgd", learning_rate=0.1, shuffle=False,
            verbose=0, warn_convergence=False)  # fmt: skip
    assert calls
    oracle = online_oracle(lambda g, lr: lr * g, X, y, 3, 0.1)
    np.testing.assert_allclose(net.parameters, oracle, rtol=1e-10)


# -- 2 and 7: a model file cannot load back as another network ------------------------------


def test_an_unregistered_activation_under_a_builtin_name_is_refused_at_save(tmp_path) -> None:
    mine = dr.Activation("tanh", lambda z: 2 * np.tanh(z), lambda z, a: 2 - a * a / 2)
    net = dr.Network([3, 4, 1], activation=mine, seed=0)
    with pytest.raises(InputError, match="layer 1's activation is named 'tanh'.*not the"):
        save_model(net, tmp_path / "m.safetensors")
    assert not (tmp_path / "m.safetensors").exists()


def test_another_object_under_a_registered_name_is_refused_at_save(tmp_path) -> None:
    square = dr.register_activation(dr.Activation("qa_sq", np.square, lambda z, a: 2 * z))
    other = dr.Activation("qa_sq", lambda z: z * z + 1, lambda z, a: 2 * z)
    save_model(dr.Network([3, 4, 1], activation=square, seed=0), tmp_path / "ok.safetensors")
    with pytest.raises(InputError, match="'qa_sq'.*not the activation registered"):
        save_model(dr.Network([3, 4, 1], activation=other, seed=0), tmp_path / "m.safetensors")


def test_a_loss_under_a_registered_name_and_one_made_by_its_factory(tmp_path) -> None:
    net = dr.Network([3, 4, 1], loss=huber(0.1), seed=0)  # made by the registered factory
    save_model(net, tmp_path / "huber.safetensors")
    assert load_model(tmp_path / "huber.safetensors").network.loss.parameters == (("delta", 0.1),)
    impostor = dr.Loss("mse", lambda o, t: ((o - t) ** 4).sum(1), lambda o, t: 4 * (o - t) ** 3)
    with pytest.raises(InputError, match="loss is named 'mse'.*not the loss registered"):
        save_model(dr.Network([3, 4, 1], loss=impostor, seed=0), tmp_path / "m.safetensors")


def test_a_loss_with_parameters_but_no_factory_is_refused_at_save(tmp_path) -> None:
    def weighted(w):
        return dr.Loss("qa_weighted_se", lambda o, t: 0.5 * w * ((o - t) ** 2).sum(1),
                       lambda o, t: w * (o - t), parameters={"w": w})  # fmt: skip

    dr.register_loss(weighted(1.0))
    net = dr.Network([3, 4, 1], loss=weighted(5.0), seed=0)
    with pytest.raises(InputError, match=r"parameters \{'w': 5.0\} but has no factory"):
        save_model(net, tmp_path / "m.safetensors")


# -- 3 and 5: optimizer state in a checkpoint ------------------------------------------------


class LazyAMSGrad(Optimizer):
    """AMSGrad whose running maximum is made on the first step, not in init."""

    name = "qa_lazy_amsgrad"
    hyperparameters = ("learning_rate",)
    state_arrays = ("m", "v", "scratch")

    def __init__(self, learning_rate=1e-3):
        self.learning_rate = learning_rate

    def update(self, params, grad, state, learning_rate=None, loss=None):
        if "vmax" not in state:
            state["vmax"] = np.zeros_like(params)
            state["first_step"] = 1  # a scalar made here too
        m, v, vmax, s = state["m"], state["v"], state["vmax"], state["scratch"]
        m *= 0.9
        m += 0.1 * grad
        v *= 0.999
        v += 0.001 * grad * grad
        np.maximum(vmax, v, out=vmax)
        np.sqrt(vmax, out=s)
        s += 1e-8
        np.divide(m, s, out=s)
        s *= self._rate(learning_rate)
        params -= s
        state["step"] += 1


def test_optimizer_state_made_in_update_is_resumed_exactly(tmp_path) -> None:
    register_optimizer(LazyAMSGrad)
    X, y = regression_data()

    def trainer():
        return dr.Trainer(small_net(), LazyAMSGrad.name, learning_rate=0.01, seed=0, batch_size=8)

    whole = trainer()
    whole.fit(X, y, epochs=6, verbose=0, warn_convergence=False)
    first = trainer()
    first.fit(X, y, epochs=3, verbose=0, callbacks=[Checkpoint(tmp_path)], warn_convergence=False)
    saved = load_checkpoint(tmp_path)
    resumed = resume_trainer(trainer(), saved)
    assert resumed.optimizer_state["first_step"] == 1
    resumed.fit(X, y, epochs=3, verbose=0, callbacks=[Checkpoint(tmp_path)],
                warn_convergence=False)  # fmt: skip
    assert resumed.network.parameters.tobytes() == whole.network.parameters.tobytes()


@pytest.mark.parametrize("extra", [{"phase": "warmup"}, {"seen": []}], ids=["str", "list"])
def test_optimizer_state_a_checkpoint_cannot_hold_is_refused_when_written(tmp_path, extra):
    class Phased(SGD):
        name = "qa_phased"

        def init(self, params):
            return {**super().init(params), **extra}

    register_optimizer(Phased)
    X, y = regression_data()
    trainer = dr.Trainer(small_net(), "qa_phased", seed=0)
    key = next(iter(extra))
    with pytest.raises(InputError, match=f"optimizer 'qa_phased' keeps state '{key}'"):
        trainer.fit(X, y, epochs=2, verbose=0, callbacks=[Checkpoint(tmp_path)],
                    warn_convergence=False)  # fmt: skip
    assert trainer.epochs_done == 1  # refused at the first checkpoint


# -- 4: callback states ----------------------------------------------------------------------


class Keeper(Callback):
    def __init__(self, values=None):
        self.values = values

    def state_dict(self):
        return {"values": self.values}, {}

    def load_state_dict(self, data, tensors):
        self.values = data["values"]


def test_infinite_and_nan_callback_state_comes_back(tmp_path) -> None:
    X, y = regression_data()
    values = {"best": float("inf"), "worst": -np.inf, "gap": float("nan"), "list": [1.0, np.inf]}
    dr.Trainer(small_net(), "adam", seed=0).fit(
        X, y, epochs=1, verbose=0, callbacks=[Keeper(values), Checkpoint(tmp_path)],
        warn_convergence=False,
    )  # fmt: skip
    back = Keeper()
    resume_trainer(dr.Trainer(small_net(), "adam", seed=0), load_checkpoint(tmp_path), [back])
    assert back.values["best"] == np.inf and back.values["worst"] == -np.inf
    assert np.isnan(back.values["gap"]) and back.values["list"] == [1.0, np.inf]


def test_a_callback_state_that_cannot_be_resumed_is_refused_when_written(tmp_path) -> None:
    class NotAPair(Callback):
        def state_dict(self):
            return {"best": 1.0}

        def load_state_dict(self, data, tensors):
            pass

    class NoLoad(Callback):
        def state_dict(self):
            return {"best": 1.0}, {}

    X, y = regression_data()
    cases = [(NotAPair(), "expected None .* or a pair"), (NoLoad(), "NoLoad returns a state")]
    for callback, message in cases:
        with pytest.raises(InputError, match=message):
            dr.Trainer(small_net(), "adam", seed=0).fit(
                X, y, epochs=1, verbose=0, callbacks=[callback, Checkpoint(tmp_path)],
                warn_convergence=False,
            )  # fmt: skip


# -- 6, 8, 10, 11: refused where the mistake is made ----------------------------------------


def test_a_schedule_that_observes_is_refused() -> None:
    class BoldDriver(schedules.Schedule):
        name = "qa_bold_driver"

        def observe(self, value):
            return True

        def rate(self, epoch, base_lr):
            return base_lr

    X, y = regression_data()
    with pytest.raises(InputError, match="BoldDriver defines observe.*never be called"):
        small_net().fit(X, y, epochs=2, optimizer="sgd", schedule=BoldDriver(), verbose=0)


def test_an_activation_that_changes_the_dtype_is_refused() -> None:
    with pytest.raises(InputError, match="function.z. returned float64 for z of dtype float32"):
        dr.Activation("qa_f64", lambda z: np.tanh(z.astype(np.float64)), lambda z, a: 1 - a * a)
    with pytest.raises(InputError, match="derivative.z, a. returned float64"):
        dr.Activation("qa_relu2", lambda z: 2 * np.maximum(z, 0), lambda z, a: 2.0 * (z > 0))
    kept = dr.Activation("qa_relu", lambda z: np.maximum(z, 0), lambda z, a: z > 0)  # a mask
    net = dr.Network([3, 4, 1], activation=kept, seed=0)
    assert net.predict(np.ones((2, 3), np.float32)).dtype == np.float32


def test_an_optimizer_that_rebinds_params_is_refused() -> None:
    class Rebinding(Optimizer):
        name = "qa_rebinding"

        def __init__(self, learning_rate=0.01):
            self.learning_rate = learning_rate

        def update(self, params, grad, state, learning_rate=None, loss=None):
            params = params - self._rate(learning_rate) * grad  # noqa: F841 - the slip
            state["step"] += 1

    X, y = regression_data()
    with pytest.raises(InputError, match="changed no parameter.*in place"):
        small_net().fit(X, y, epochs=5, optimizer=Rebinding(0.1), verbose=0)


def test_a_metric_with_the_wrong_signature_or_result_is_named() -> None:
    with pytest.raises(InputError, match="Metric 'qa_max'.*fn.output, target, sample_weight"):
        metrics.Metric("qa_max", lambda o, t: 0.0, greater_is_better=False, task="regression")
    per_output = metrics.Metric("qa_cols", lambda o, t, w: np.abs(o - t).max(axis=0),
                                greater_is_better=False, task="regression")  # fmt: skip
    X, y = regression_data()
    y2 = np.hstack([y, y])
    net = dr.Network([3, 4, 2], seed=0)
    with pytest.raises(InputError, match="Metric 'qa_cols' returned ndarray.*expected one float"):
        net.fit(X, y2, epochs=1, metrics=[per_output], verbose=0)


# -- 9: registries ---------------------------------------------------------------------------


def test_capitalised_names_register_look_up_and_pickle() -> None:
    dr.register_activation(dr.Activation("QaTanh", np.tanh, lambda z, a: 1 - a * a))
    net = dr.Network([3, 4, 1], activation="QaTanh", seed=0)
    again = pickle.loads(pickle.dumps(net))
    assert again.layers[0].activation is ACTIVATIONS["qatanh"]
    initializers.INITIALIZERS["QaDirect"] = initializers.INITIALIZERS["zeros"]  # the dict itself
    assert initializers.get_initializer("QaDirect") is initializers.INITIALIZERS["zeros"]


def test_register_initializer_metric_and_schedule() -> None:
    def halves(shape, fan_in, fan_out, rng, dtype):
        return np.full(shape, 0.5, dtype)

    initializers.register_initializer("QaHalves", halves)
    net = dr.Network([3, 4, 1], initializer="qahalves", seed=0)
    assert (net.layout.view(net.parameters, "W1") == 0.5).all()
    worst = metrics.Metric("qa_max_error", lambda o, t, w: float(np.abs(o - t).max()),
                           greater_is_better=False, task="regression")  # fmt: skip
    metrics.register_metric(worst)
    X, y = regression_data(10)
    history = small_net().fit(X, y, epochs=1, metrics=["QA_MAX_ERROR"], verbose=0,
                              warn_convergence=False)  # fmt: skip
    assert "qa_max_error" in history.history

    class Halving(schedules.Schedule):
        name = "QaHalving"

        def rate(self, epoch, base_lr):
            return base_lr * 0.5**epoch

    schedules.register_schedule(Halving)
    history = small_net().fit(X, y, epochs=3, optimizer="sgd", learning_rate=0.1,
                              schedule="qahalving", verbose=0, warn_convergence=False)  # fmt: skip
    assert history.history["learning_rate"] == [0.1, 0.05, 0.025]
    with pytest.raises(InputError, match="already registered"):
        schedules.register_schedule(Halving)


@pytest.mark.parametrize("name", ["", "my tanh", "a,b", 3])
def test_bad_registry_names_are_refused(name) -> None:
    # ("" and 3 are refused by Activation itself, before register_activation sees them)
    with pytest.raises(InputError, match="name must be a non-empty string"):
        dr.register_activation(dr.Activation(name, np.tanh, lambda z, a: 1 - a * a))
    with pytest.raises(InputError, match="name must be a non-empty string without spaces"):
        initializers.register_initializer(name, initializers.INITIALIZERS["zeros"])


# -- 14: the gradient check names the part --------------------------------------------------


def test_the_gradient_check_names_the_likely_culprit() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))
    bad = dr.Activation("qa_badsig", lambda z: 1 / (1 + np.exp(-z)), lambda z, a: a * (1 + a))
    result = dr.check_gradients(dr.Network([3, 4, 4, 2], activation=["tanh", bad], seed=0), X, y)
    assert not result.passed and "layer 2's activation 'qa_badsig'" in result.suspect
    assert "likely culprit: layer 2's" in str(result)
    loss = dr.Loss("qa_badloss", lambda o, t: ((o - t) ** 2).sum(1), lambda o, t: o - t)
    result = dr.check_gradients(dr.Network([3, 4, 2], activation="tanh", loss=loss, seed=0), X, y)
    assert not result.passed and "the loss 'qa_badloss'" in result.suspect
    net = dr.Network([3, 4, 2], activation="tanh", seed=0)
    assert dr.check_gradients(net, X, y).suspect is None
