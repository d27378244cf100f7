"""The shared estimator: scikit-learn's fit protocol on deltarule's Network and Trainer.

A fit validates the parameters and the data with scikit-learn's helpers, builds
(or, with ``warm_start``/``partial_fit``, reuses) a :class:`SklearnNetwork`,
initialises it as scikit-learn does (Glorot-uniform weights *and* biases drawn
from ``random_state``, so the same seed gives the same initial ``coefs_``), holds
out the early-stopping validation set with ``train_test_split`` on the same
random stream, and trains with deltarule's :class:`~deltarule.training.Trainer`
and the callbacks of :mod:`._callbacks`.

``coefs_[i]`` is a view of the transposed weight matrix ``network_.weights[i]``
(shape (n_inputs, n_outputs)) and ``intercepts_[i]`` a view of ``network_.biases[i]``.
Arrays a user assigns in their place are copied back into the network's flat
buffer before every fit, prediction and save.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import _sparse
from .._reports import WEIGHTS_OVERFLOWED, user_stacklevel
from .._trainer_checks import one_at_a_time
from .._validation import as_float_array, as_float_csr, unmasked
from ..exceptions import InputError
from ..history import History
from ..training import Trainer
from ._convergence import (
    SolverDivergedError,
    convergence_message,
    diverged,
    warn_convergence,
)
from ._network import (
    OUTPUT_ACTIVATIONS,
    SklearnNetwork,
    activation_for,
    objective_scale,
)
from ._params import check_parameters
from ._rollback import Snapshot
from ._setup import (
    check_sample_weight,
    initial_weights,
    make_callbacks,
    same_memory,
    split_validation,
)
from ._shuffle import SklearnShuffle
from ._solvers import FIRST_ORDER, FULL_BATCH, make_optimizer, resolve_batch_size

__all__ = ["BaseMLP"]

_FLOATS = (np.float64, np.float32)
INTERRUPTED = "Training interrupted by user."
"""scikit-learn's warning when Ctrl-C stops a fit (which keeps what it trained)."""
_EPOCH_RECORDS = (
    "loss_curve_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "validation_loss_curve_",
    "_no_improvement_count",
)
"""The attributes scikit-learn's L-BFGS fits do not set (its stochastic solvers' records);
deltarule keeps them for its other solvers ('lm' stops on the loss plateau too)."""

SPARSE_FORMATS = ["csr", "csc"]
"""The sparse formats scikit-learn's validation keeps (others become CSR), as its MLPs'."""


def _in_dtype(array: Any, name: str, dtype: np.dtype) -> Any:
    """``array`` (finite, validated) in the network's ``dtype``; an InputError naming the
    first value too large for it (float64 data for a float32 network) instead of infinity.
    A sparse ``array`` becomes CSR (the rows the training loop and predict read)."""
    if _sparse.is_sparse(array):
        return as_float_csr(array, name, dtype)
    if array.dtype == dtype:
        return array
    with np.errstate(over="ignore"):
        converted = array.astype(dtype)
    if not np.isfinite(converted).all():
        as_float_array(array, name, dtype)  # raises, naming the value and the fix
    return converted


_MLP = TypeVar("_MLP", bound="BaseMLP")


class BaseMLP(BaseEstimator):
    """Base class of :class:`MLPClassifier` and :class:`MLPRegressor`; not for direct use."""

    # ------------------------------------------------------------ subclass hooks
    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool) -> tuple:
        """Return ``(X, Y, y)``: features, the network's targets, the targets as given."""
        raise NotImplementedError

    def _output_spec(self) -> tuple[str, str]:
        """Return (scikit-learn output activation name, deltarule loss name)."""
        raise NotImplementedError

    def _score_output(self, output: np.ndarray, y: Any, sample_weight: Any) -> float:
        """Return the validation score (accuracy or R²) of network outputs."""
        raise NotImplementedError

    def _target_weights(self, y: Any, incremental: bool) -> Any:
        """Per-sample weights from the targets (the classifier's class_weight); None here."""
        return None

    def _start_partial_fit(self, y: Any, classes: Any) -> None:
        """Prepare a partial_fit call (the classifier fixes ``classes_``); nothing here."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # X: any scipy.sparse format (CSR/CSC kept, others CSR)
        return tags

    # --------------------------------------------------------------- fitting
    def _fit(
        self: _MLP, X: Any, y: Any, sample_weight: Any, incremental: bool, classes: Any = None
    ) -> _MLP:
        """fit (``incremental=False``) or partial_fit; all or nothing.

        An exception leaves the estimator as it was before the call (see
        :mod:`._rollback`). A convergence warning is issued once the estimator holds
        the new fit: turned into an error, it leaves the trained state in place. A fit
        that Ctrl-C stopped keeps what it trained, with scikit-learn's
        ``UserWarning('Training interrupted by user.')``.
        """
        busy = (
            f"this {type(self).__name__} is being fitted already, by a fit or partial_fit "
            "running in another thread or by the fit whose callback made this call; "
            "expected one fit at a time per estimator. Wait for that fit to end, or fit a "
            "clone (sklearn.base.clone(estimator)) to fit two at once."
        )
        with one_at_a_time(self, busy):  # (before the snapshot: a refused call changes nothing)
            snapshot = Snapshot(self)
            try:
                message, interrupted = self._fit_all(X, y, sample_weight, incremental, classes)
            except BaseException:
                snapshot.restore()
                raise
        if interrupted:
            warnings.warn(INTERRUPTED, UserWarning, stacklevel=user_stacklevel())
        warn_convergence(message)
        return self

    def _fit_all(
        self, X: Any, y: Any, sample_weight: Any, incremental: bool, classes: Any
    ) -> tuple[str | None, bool]:
        """Fit; return the convergence warning's message, if one is due, and whether an
        interrupt (Ctrl-C) stopped the training."""
        check_parameters(self)
        X, y = unmasked(X, "X"), unmasked(y, "y")
        sample_weight = unmasked(sample_weight, "sample_weight")
        if incremental:
            self._start_partial_fit(y, classes)
        first = not hasattr(self, "coefs_") or (not self.warm_start and not incremental)
        X, Y, y = self._validate_input(X, y, incremental, reset=first)
        sw = check_sample_weight(sample_weight, X.shape[0], X.dtype)
        extra = self._target_weights(y, incremental)
        sw = extra if sw is None else (sw if extra is None else sw * extra)
        rng = check_random_state(self.random_state)
        if first:
            self._initialize(X, Y, rng)
        else:
            self._check_compatible(Y)
            self._sync_layers()
            self._sync_in()
            self._reset_stopping(keep=True)
        dtype = self.network_.dtype
        X, Y = _in_dtype(X, "X", dtype), _in_dtype(Y, "y", dtype)
        sw = None if sw is None else _in_dtype(sw, "sample_weight", dtype)
        train, validation = (X, Y, sw), None
        if self.early_stopping and self.solver in FIRST_ORDER:
            if incremental:
                raise InputError("partial_fit does not support early_stopping=True")
            train, validation = split_validation(self, X, Y, y, sw, rng)
        trainer = self._trainer_for(train[0].shape[0], rng, incremental)
        self.n_iter_ = 0
        history = self._train(trainer, train, validation, incremental, rng)
        self._sync_out()
        self._refuse_divergence(history)
        max_iter = int(self.max_iter)
        message = convergence_message(history, self.solver, max_iter, incremental, self.n_iter_)
        return message, history.stop_reason.startswith("interrupted")

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        return [int(sizes)] if np.ndim(sizes) == 0 else [int(s) for s in sizes]

    def _hidden_activations(self, n_hidden: int) -> list[str]:
        if isinstance(self.activation, str):
            return [self.activation] * n_hidden
        return list(self.activation)

    def _initialize(self, X: np.ndarray, Y: np.ndarray, rng: np.random.RandomState) -> None:
        hidden = self._hidden_sizes()
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(hidden) + 2
        self.out_activation_, loss = self._output_spec()
        acts = self._hidden_activations(len(hidden))
        output = activation_for(OUTPUT_ACTIVATIONS.get(self.out_activation_, "exp"))
        network = SklearnNetwork(
            [X.shape[1], *hidden, self.n_outputs_],
            activation=[activation_for(a) for a in acts] or "identity",
            output_activation=output,
            loss=loss,
            dropout=list(self.dropout) if isinstance(self.dropout, (list, tuple)) else self.dropout,
            initializer="zeros",
            dtype=X.dtype if self.dtype == "auto" else self.dtype,
        )
        initial_weights(network, rng, self.activation)
        self.network_ = network
        self.t_ = 0
        self._best_parameters = network.parameters.copy()
        self._trainer = None
        for name in _EPOCH_RECORDS:  # (a refit's records describe it alone)
            self.__dict__.pop(name, None)
        self._reset_stopping(keep=False)

    def _reset_stopping(self, keep: bool) -> None:
        """Set the epoch records as scikit-learn does; ``keep`` those that apply.

        Every solver but L-BFGS keeps ``loss_curve_``, the no-improvement count and the
        stopping rule's records; L-BFGS none, as scikit-learn's, and leaves those of an
        earlier fit as they are. A warm start keeps the records of the rule in use (early
        stopping on or off as before) and starts those missing (after an L-BFGS fit) or of
        a rule switched on since.
        """
        if self.solver == "lbfgs":
            return
        if not (keep and hasattr(self, "loss_curve_")):
            self.loss_curve_, self._no_improvement_count = [], 0
        if self.early_stopping and self.solver in FIRST_ORDER:
            if not (keep and getattr(self, "validation_scores_", None) is not None):
                self.validation_scores_, self.validation_loss_curve_ = [], []
                self.best_validation_score_, self.best_loss_ = -np.inf, None
        elif not (keep and getattr(self, "best_loss_", None) is not None):
            self.validation_scores_ = self.validation_loss_curve_ = None
            self.best_validation_score_, self.best_loss_ = None, np.inf

    def _check_compatible(self, Y: np.ndarray) -> None:
        sizes = self.network_.layer_sizes
        if Y.shape[1] != self.n_outputs_ or sizes[1:-1] != self._hidden_sizes():
            raise InputError(
                f"{type(self).__name__} was fitted with layer sizes {sizes}; this call needs "
                f"hidden_layer_sizes={self._hidden_sizes()} and {Y.shape[1]} output(s). "
                "warm_start and partial_fit continue the same network: set warm_start=False "
                "(or call fit) to start afresh."
            )
        if self.dtype != "auto" and np.dtype(self.dtype) != self.network_.dtype:
            raise InputError(
                f"{type(self).__name__} was fitted in {self.network_.dtype}; this call asks "
                f"for dtype={self.dtype!r}. warm_start and partial_fit continue the same "
                "network: set warm_start=False (or call fit) to start afresh, or leave dtype "
                f"as {self.network_.dtype.name!r}."
            )

    def _sync_layers(self) -> None:
        """Give a warm start or ``partial_fit`` the hidden layers' ``activation`` and
        ``dropout`` set since the last fit, the weights kept (scikit-learn's warm start
        trains with the activation set then; they were ignored, while ``get_params`` said
        otherwise)."""
        network = self.network_
        hidden = network.layers[:-1]
        acts = [activation_for(a) for a in self._hidden_activations(len(hidden))]
        drops = (
            self.dropout
            if isinstance(self.dropout, (list, tuple))
            else [self.dropout] * len(hidden)
        )
        if len(acts) != len(hidden) or len(drops) != len(hidden):
            return  # (check_parameters refused a length other than the layers')
        wanted = tuple(dataclasses.replace(layer, activation=act, dropout=float(drop))
                       for layer, act, drop in zip(hidden, acts, drops))  # fmt: skip
        if wanted != hidden:
            network.layers = (*wanted, network.layers[-1])

    def _trainer_for(self, n_samples: int, rng: Any, incremental: bool) -> Trainer:
        batch_size = resolve_batch_size(self, n_samples)
        if incremental and getattr(self, "_trainer", None) is not None:
            self._trainer.batch_size = batch_size
            self._trainer.epoch_loss = "rows"
            return self._trainer
        # The dropout stream's seed, drawn from a copy: scikit-learn draws nothing here,
        # and the shuffles that follow take their numbers from ``rng`` itself.
        peek = np.random.RandomState()
        peek.set_state(rng.get_state())
        seed = int(peek.randint(np.iinfo(np.int32).max))
        optimizer = make_optimizer(self)
        self._trainer = Trainer(
            self.network_,
            optimizer=optimizer,
            batch_size=batch_size,
            shuffle=self.shuffle,
            seed=seed,
            metrics=[],
            epoch_loss="rows",  # scikit-learn's epoch loss: batches weighted by their rows
        )
        return self._trainer

    def _train(
        self, trainer: Trainer, train: tuple, validation: Any, incremental: bool, rng: Any
    ) -> History:
        network = self.network_
        network.alpha = float(self.alpha)
        network.loss_scale = objective_scale(self.out_activation_, self.n_outputs_)
        X, Y, sw = train
        held_out = None if validation is None else (validation[0], validation[1], validation[3])
        if held_out is not None:
            split = f"early_stopping's validation_fraction={self.validation_fraction} split"
            for part, which in ((sw, "left for training after"), (held_out[2], "held out by")):
                if part is not None and not part.any():
                    raise InputError(
                        f"every sample {which} {split} has sample_weight 0; expected weight "
                        "> 0 in both parts. Give weight to more samples, or set "
                        "early_stopping=False."
                    )
        own_stream = trainer._shuffle_rng
        stochastic = self.solver in FIRST_ORDER and trainer.shuffle
        shuffler = SklearnShuffle(rng, X.shape[0]) if stochastic else None
        if shuffler is not None:  # this call's batches: scikit-learn's, from ``rng``
            trainer._shuffle_rng = shuffler
        try:
            history = trainer.fit(
                X,
                Y,
                epochs=1 if incremental else int(self.max_iter),
                sample_weight=sw,
                validation_data=held_out,
                callbacks=make_callbacks(self, X.shape[0], validation),
                verbose=0,
                warn_convergence=False,
                warn_divergence=False,  # (issued by _fit, once the fit is complete)
                warn_interrupted=False,  # (scikit-learn's own warning, below)
            )
        finally:
            trainer._shuffle_rng = own_stream
        if shuffler is not None and shuffler.draws == 0:  # one batch of every row
            shuffler.catch_up(self.n_iter_)
        if diverged(history):  # scikit-learn's figures: inf, or nan from scipy's L-BFGS
            self.loss_ = np.float64(np.nan if self.solver in FULL_BATCH else np.inf)
        elif not len(history):  # (a solver that stopped where it started, say)
            self.loss_ = np.float64(self._objective(X, Y, sw))
        return history

    def _refuse_divergence(self, history: History) -> None:
        """Raise scikit-learn's error when a stochastic solver diverged.

        scikit-learn's MLPs raise ``ValueError("Solver produced non-finite parameter
        weights. ...")`` when its ``sgd`` or ``adam`` steps blew the weights up (in ``fit``,
        a ``warm_start`` fit and ``partial_fit`` alike), so that ``cross_val_score`` and
        ``GridSearchCV`` apply their ``error_score``; deltarule's loop stops at the first
        non-finite epoch instead (and undoes it), so the estimators raise when it did.
        The error is for a solver that blew up after at least one finite epoch (this
        call's or, for ``partial_fit`` and ``warm_start``, an earlier one: ``loss_curve_``).
        A fit whose first epoch is already non-finite (targets so large that their squared
        error overflows, ``alpha=1e308``) warns and reports ``loss_ = inf`` instead, as
        scikit-learn does there, its bounded Adam steps keeping the weights finite; with
        ``solver="sgd"``, whose unbounded steps scikit-learn continues until the weights
        overflow, or when the weights did overflow (the loop's stop reason says so:
        :data:`~deltarule._reports.WEIGHTS_OVERFLOWED`), a first epoch's divergence raises
        too. Nor do the full-batch solvers raise: scipy's L-BFGS keeps its last finite
        point, and warns.
        """
        if self.solver in FULL_BATCH or not diverged(history):
            return
        finite_epoch = any(np.isfinite(loss) for loss in getattr(self, "loss_curve_", None) or [])
        # plain SGD's unbounded steps, continued as scikit-learn continues them, overflow the
        # weights whatever the epoch (Adam's bounded ones keep them finite)
        if finite_epoch or self.solver == "sgd" or WEIGHTS_OVERFLOWED in history.stop_reason:
            raise SolverDivergedError(history.stop_reason)

    def _objective(self, X: Any, Y: np.ndarray, sw: Any) -> float:
        """The training objective (penalty included) at the network's weights."""
        network = self.network_
        if _sparse.is_sparse(X):  # the error over chunks of rows, plus the penalty
            loss = network.evaluate_params(network.parameters, X, Y, sw)
            total = Y.shape[0] if sw is None else float(sw.sum())
            scratch = network.layout.allocate(network.dtype)
            return float(loss + network._penalty(network.parameters, scratch, total))
        _, caches = network.forward(X)
        return float(network.backward(caches, Y, sw)[0])

    # ------------------------------------------------------ weights <-> arrays
    def _sync_in(self) -> None:
        """Copy ``coefs_``/``intercepts_`` entries that are not the network's views into it."""
        network = self.network_
        handed = getattr(self, "_handed_out", None)  # (what _sync_out gave, untouched: 9 µs
        if (  # of every predict otherwise)
            handed is not None
            and handed[0] is network.parameters
            and len(self.coefs_) == len(handed[1])
            and len(self.intercepts_) == len(handed[2])
            and all(a is b for a, b in zip(self.coefs_, handed[1]))
            and all(a is b for a, b in zip(self.intercepts_, handed[2]))
        ):
            return
        n = len(network.layers)
        if len(self.coefs_) != n or len(self.intercepts_) != n:
            raise InputError(
                f"coefs_ and intercepts_ must hold {n} arrays each (one per layer); received "
                f"{len(self.coefs_)} and {len(self.intercepts_)}."
            )
        for index in range(n):
            coef, intercept = self.coefs_[index], self.intercepts_[index]
            weight, bias = network.weights[index], network.biases[index]
            for name, given, expected in (
                (f"coefs_[{index}]", coef, weight.T.shape),
                (f"intercepts_[{index}]", intercept, bias.shape),
            ):  # (in these arrays' own terms: the network's W2 is coefs_[1] transposed)
                if np.shape(given) != expected:
                    raise InputError(
                        f"{name} has shape {np.shape(given)}; expected {expected} (layer "
                        f"{index + 1}: {weight.shape[1]} inputs, {weight.shape[0]} units). "
                        "Assign an array of that shape, or refit to change the layer sizes."
                    )
            if not same_memory(coef, weight.T):
                network.set_parameters({f"W{index + 1}": np.asarray(coef).T})
            if not same_memory(intercept, bias):
                network.set_parameters({f"b{index + 1}": intercept})

    def _sync_out(self) -> None:
        self.coefs_ = [weight.T for weight in self.network_.weights]
        self.intercepts_ = list(self.network_.biases)
        self._handed_out = (self.network_.parameters, list(self.coefs_), list(self.intercepts_))

    def _forward(self, X: Any) -> np.ndarray:
        """Validate ``X`` and return the network's outputs, shape (n_samples, n_outputs).

        Computed in the network's dtype; returned in the wider of it and ``X``'s, as
        scikit-learn's products of float32 weights and float64 ``X`` are float64.
        """
        check_is_fitted(self)
        X = unmasked(X, "X")  # (scikit-learn's validation drops a mask silently)
        with naming_text_columns(X, type(self).__name__):
            X = validate_data(self, X, reset=False, dtype=_FLOATS, accept_sparse=SPARSE_FORMATS)
        self._sync_in()
        network = self.network_
        output = network.infer(_in_dtype(X, "X", network.dtype))
        return output.astype(np.result_type(output.dtype, X.dtype), copy=False)

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_handed_out", None)  # (made again when unpickled)
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        # (a copy made during the first fit, by a callback, has a network but no coefs_ yet)
        if "network_" in self.__dict__ and "coefs_" in self.__dict__:
            self._sync_in()  # unpickled coefs_ are copies: point them at the network again
            self._sync_out()

    # ------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the fitted estimator to a deltarule model file (safetensors + JSON header).

        Besides the weights and fitted attributes the file keeps what continuing to train
        needs — the optimizer's state (Adam's moments and step count, a momentum, ...), the
        learning rate and the dropout random stream, a ``RandomState`` ``random_state``'s
        state (each call shuffles from ``random_state``, as scikit-learn) — so that
        ``partial_fit`` or a ``warm_start`` fit after :meth:`load` gives exactly what it
        gives without the save and load. The file carries a checksum of its header and
        tensors; no pickle is involved. The ``callbacks`` parameter (Python objects, which
        a file without pickle cannot hold) is not saved: the loaded estimator has
        ``callbacks=None`` (pass them again with ``set_params`` before training more).

        Parameters
        ----------
        path : str or path-like
            Conventionally ending in ``.safetensors``.

        Returns
        -------
        pathlib.Path
        """
        from ._persist import save_estimator

        return save_estimator(self, path)

    @classmethod
    def load(cls: type[_MLP], path: str | os.PathLike[str]) -> _MLP:
        """Load an estimator written by :meth:`save` (no pickle involved).

        Training continues where it stopped (see :meth:`save`). A file written before
        the optimizer state was saved loads too; its next ``partial_fit`` then starts the
        optimizer afresh (zero moments, step 0) with a new dropout stream seeded from
        ``random_state``, and a ``RandomState`` ``random_state`` comes back as None.
        ``callbacks`` comes back as None (see :meth:`save`).

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        estimator : instance of this class

        Raises
        ------
        IncompatibleFormatError
            If the file is not an estimator of this class, or is damaged (its checksum or
            its saved training state does not hold).
        """
        from ._persist import load_estimator

        return load_estimator(cls, path)


@contextlib.contextmanager
def naming_text_columns(X: Any, estimator: str) -> Iterator[None]:
    """Around ``validate_data`` of the table ``X``: its "could not convert string to float"
    as :func:`text_column_error`'s error, when a column of text caused it."""
    try:
        yield
    except ValueError as exc:
        error = text_column_error(X, exc, estimator)
        if error is None:
            raise
        raise error from exc


def text_column_error(X: Any, exc: ValueError, estimator: str) -> InputError | None:
    """For ``validate_data``'s "could not convert string to float" on a table ``X`` with a
    column of text: the error naming that column, its first text cell and how to encode it
    (scikit-learn's own names neither); else None."""
    if "could not convert string to float" not in str(exc) or not hasattr(X, "columns"):
        return None
    import pandas as pd

    for name in X.columns:
        column = X[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        numbers = pd.to_numeric(column.astype(object), errors="coerce")
        text = column.notna().to_numpy() & numbers.isna().to_numpy()
        if text.any():
            row = int(np.flatnonzero(text)[0])
            return InputError(
                f"X's column {name!r} holds text ({column.iloc[row]!r:.60} in the row indexed "
                f"{X.index[row]!r}); "
                f"{estimator} takes numbers. Encode it first: one-hot, e.g. make_pipeline("
                f"make_column_transformer((OneHotEncoder(handle_unknown='ignore'), [{name!r}]), "
                f"remainder='passthrough'), {estimator}()), or train on the table with "
                "deltarule train (or deltarule.preprocessing.TabularPreprocessor), which "
                "one-hot encodes text columns."
            )
    return None
