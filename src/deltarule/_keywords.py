"""Keyword arguments an entry point does not take: an error that says what to pass instead.

:func:`keyword_checked` wraps a public method or constructor (``Network.fit``, ``Network``,
``Trainer``, the optimizers); a keyword argument it does not take is a
:class:`~deltarule.exceptions.KeywordError` giving, in this order, the method's own advice
for that name, deltarule's spelling of another library's name (:data:`SPELLINGS`: Keras's
and PyTorch's ``lr``, scikit-learn's ``random_state``), or the closest name it takes.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .exceptions import KeywordError

__all__ = ["SPELLINGS", "keyword_checked"]

_EPOCHS = "the most passes over the data"
SPELLINGS: dict[str, tuple[str, str]] = {
    "lr": ("learning_rate", "Keras's and PyTorch's lr"),
    "learning_rate_init": ("learning_rate", "scikit-learn's learning_rate_init"),
    "random_state": ("seed", "scikit-learn's random_state"),
    "max_iter": ("epochs", f"scikit-learn's max_iter, {_EPOCHS}"),
    "n_iter": ("epochs", f"{_EPOCHS}"),
    "nb_epoch": ("epochs", "Keras 1's nb_epoch"),
    "num_epochs": ("epochs", f"{_EPOCHS}"),
    "n_epochs": ("epochs", f"{_EPOCHS}"),
    "n_iter_no_change": ("patience", "scikit-learn's n_iter_no_change"),
    "weight_decay": ("l2", "an L2 penalty on the weights, PyTorch's weight_decay"),
    "hidden_layer_sizes": (
        "layer_sizes",
        "every width from inputs to outputs, e.g. [n_inputs, 16, n_outputs]; scikit-learn's "
        "hidden_layer_sizes lists the hidden ones only",
    ),
    "activations": (
        "activation",
        "one activation for every hidden layer, or a list of one per hidden layer; the "
        "output layer's is output_activation=",
    ),
    "kernel_initializer": ("initializer", "Keras's kernel_initializer"),
    "eps": ("epsilon", "PyTorch's eps"),
    "alpha": ("rho", "PyTorch's RMSprop alpha, the decay of the running mean"),
}
"""Other libraries' names of a keyword argument: name -> (deltarule's name, a note)."""

F = TypeVar("F", bound=Callable[..., Any])


def keyword_checked(advice: Mapping[str, str] | None = None) -> Callable[[F], F]:
    """Decorate a method so that a keyword argument it does not take is a
    :class:`~deltarule.exceptions.KeywordError` saying what to do instead: ``advice[name]``
    (Keras's ``initial_epoch``, say), else the closest argument it takes ("did you mean
    'epochs'?"); another library's name (:data:`SPELLINGS`) is told deltarule's. Keras's
    ``x=`` is taken as ``X``. ``help()`` shows the method's own
    signature (the wrapper's ``__wrapped__``); the check costs nothing on a plain call."""
    notes = dict(advice or {})

    def decorate(method: F) -> F:
        params = inspect.signature(method).parameters
        known = set(params)

        @functools.wraps(method)
        def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not known.issuperset(kwargs):
                args, kwargs = _keras_keywords(self, method, params, args, kwargs, notes)
            return method(self, *args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate


def _keras_keywords(
    owner: Any,
    method: Callable[..., Any],
    params: Mapping[str, inspect.Parameter],
    args: tuple,
    kwargs: dict,
    advice: Mapping[str, str],
) -> tuple[tuple, dict]:
    """``kwargs`` with Keras's ``x`` as ``X``, or a KeywordError for one not taken."""
    where = method.__qualname__  # (the class that takes them: a subclass's super() call)
    if getattr(type(owner).__init__, "__wrapped__", None) is method:  # an inherited one
        where = f"{type(owner).__name__}.__init__"
    if "x" in kwargs and "X" in params and "x" not in params:
        if args or "X" in kwargs:
            raise KeywordError(
                f"{where} received X twice: as x= (Keras's spelling) and as X; pass it once."
            )
        kwargs = {"X": kwargs.pop("x"), **kwargs}
    names = [name for name in params if name != "self"]
    for name in kwargs:
        if name in params:
            continue
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        fix = advice.get(name)
        if fix is None and name in SPELLINGS and SPELLINGS[name][0] in params:
            fix = "Use {}= ({}).".format(*SPELLINGS[name])
        if fix is None:
            fix = f"Did you mean {close[0]!r}?" if close else "Leave it out."
        raise KeywordError(
            f"{where}() got an unexpected keyword argument {name!r}. {fix} It takes: "
            f"{', '.join(names)}."
        )
    return args, kwargs
