r"""Seeded weight initialisations.

Each initializer is a function ``(shape, fan_in, fan_out, rng, dtype) -> ndarray``
in the :data:`INITIALIZERS` registry. Randomness comes only from the
``numpy.random.Generator`` passed in (principle 8: no hidden state).

======================  ============================================================
name                    distribution
======================  ============================================================
small_uniform           :math:`U(-0.1, 0.1)`, the tutorial's "small random values"
glorot_uniform          :math:`U(-l, l)`, :math:`l = \sqrt{6/(n_{in}+n_{out})}` (Glorot, 2010)
glorot_normal           :math:`N(0, 2/(n_{in}+n_{out}))`
he_uniform              :math:`U(-l, l)`, :math:`l = \sqrt{6/n_{in}}` (He et al., 2015)
he_normal               :math:`N(0, 2/n_{in})`
lecun_uniform           :math:`U(-l, l)`, :math:`l = \sqrt{3/n_{in}}` (LeCun et al., 1998)
lecun_normal            :math:`N(0, 1/n_{in})`
nguyen_widrow           each neuron's weights :math:`U(-0.5, 0.5)` rescaled to length
                        :math:`\beta = 0.7\, n_{out}^{1/n_{in}}`; biases (as
                        ``bias_initializer``) :math:`U(-\beta, \beta)` (Nguyen & Widrow,
                        1990; the rule FANN's ``fann_init_weights`` and MATLAB's
                        ``initnw`` adapt to the data's range)
zeros                   all zero (biases)
======================  ============================================================

Nguyen–Widrow spreads the hidden units' active regions over inputs in :math:`[-1, 1]`
(scale the data so); pass it for both, ``Network(sizes, initializer="nguyen_widrow",
bias_initializer="nguyen_widrow")``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._typing import SeedLike
from ._validation import lookup, register
from .exceptions import InputError, UnknownNameError

Initializer = Callable[[tuple, int, int, np.random.Generator, np.dtype], np.ndarray]

__all__ = ["INITIALIZERS", "get_initializer", "make_rng", "register_initializer", "Initializer"]


def make_rng(seed: SeedLike) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from an int seed, a Generator, or None (fresh)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise InputError(f"seed must be a non-negative integer; received {seed!r}.")
        return np.random.default_rng(seed)
    raise InputError(
        f"seed must be None, a non-negative int or a numpy.random.Generator; received "
        f"{type(seed).__name__} {seed!r}."
    )


def _uniform(limit_fn: Callable[[int, int], float]) -> Initializer:
    def init(shape, fan_in, fan_out, rng, dtype):  # noqa: ANN001
        limit = limit_fn(fan_in, fan_out)
        return rng.uniform(-limit, limit, size=shape).astype(dtype)

    return init


def _normal(std_fn: Callable[[int, int], float]) -> Initializer:
    def init(shape, fan_in, fan_out, rng, dtype):  # noqa: ANN001
        return (rng.standard_normal(size=shape) * std_fn(fan_in, fan_out)).astype(dtype)

    return init


def _nguyen_widrow(shape, fan_in, fan_out, rng, dtype):  # noqa: ANN001
    r"""Nguyen & Widrow (1990), "Improving the learning speed of 2-layer neural networks by
    choosing initial values of the adaptive weights", IJCNN III, 21-26: a weight matrix
    (one row per neuron) has rows of length :math:`\beta = 0.7\, n_{out}^{1/n_{in}}` in
    random directions; a bias vector is :math:`U(-\beta, \beta)`."""
    beta = 0.7 * fan_out ** (1.0 / fan_in)
    if len(shape) == 1:
        return rng.uniform(-beta, beta, size=shape).astype(dtype)
    weights = rng.uniform(-0.5, 0.5, size=shape)
    norms = np.linalg.norm(weights, axis=-1, keepdims=True)
    return (beta * weights / np.where(norms > 0, norms, 1.0)).astype(dtype)


def _zeros(shape, fan_in, fan_out, rng, dtype):  # noqa: ANN001
    return np.zeros(shape, dtype=dtype)


INITIALIZERS: dict[str, Initializer] = {
    "small_uniform": _uniform(lambda i, o: 0.1),
    "glorot_uniform": _uniform(lambda i, o: np.sqrt(6.0 / (i + o))),
    "glorot_normal": _normal(lambda i, o: np.sqrt(2.0 / (i + o))),
    "he_uniform": _uniform(lambda i, o: np.sqrt(6.0 / i)),
    "he_normal": _normal(lambda i, o: np.sqrt(2.0 / i)),
    "lecun_uniform": _uniform(lambda i, o: np.sqrt(3.0 / i)),
    "lecun_normal": _normal(lambda i, o: np.sqrt(1.0 / i)),
    "nguyen_widrow": _nguyen_widrow,
    "zeros": _zeros,
}
INITIALIZERS["xavier_uniform"] = INITIALIZERS["glorot_uniform"]
INITIALIZERS["xavier_normal"] = INITIALIZERS["glorot_normal"]
INITIALIZERS["widrow_nguyen"] = INITIALIZERS["nguyen_widrow"]


_PLAIN = {
    "uniform": "uniform",
    "random_uniform": "uniform",
    "rand": "uniform",
    "normal": "normal",
    "random_normal": "normal",
    "randn": "normal",
    "gaussian": "normal",
    "rnorm": "normal",
}


def _plain_distribution(name: str) -> str:
    """The message for a plain ``uniform``/``normal`` asked by name (none is registered)."""
    kind = _PLAIN[name.strip().lower()]
    if kind == "uniform":
        closest = "'small_uniform' (U(-0.1, 0.1)), or 'glorot_uniform'/'lecun_uniform' (limits "
        draw = "rng.uniform(-0.5, 0.5, shape)"
    else:
        closest = "'glorot_normal'/'lecun_normal'/'he_normal' (standard deviations "
        draw = "rng.normal(0.0, 1.0, shape)"  # R neuralnet's startweights: rnorm(0, 1)
    return (
        f"unknown initializer {name!r}: there is no plain {kind} distribution by name (its "
        f"range or spread would be a guess). The closest named ones are {closest}from the "
        "layer's fan-in and fan-out); for a fixed distribution pass a callable, e.g. "
        f"initializer=lambda shape, fan_in, fan_out, rng, dtype: {draw}.astype(dtype). "
        f"Named initializers: {', '.join(sorted(INITIALIZERS))}."
    )


def register_initializer(
    name: str, initializer: Initializer, *, aliases: tuple[str, ...] = (), overwrite: bool = False
) -> Initializer:
    """Add ``initializer`` to :data:`INITIALIZERS` under ``name`` (and ``aliases``), lower-cased.

    ``initializer(shape, fan_in, fan_out, rng, dtype)`` returns an array of ``shape`` and
    ``dtype``, drawing only from ``rng``.

    Raises
    ------
    InputError
        If ``initializer`` is not callable, a name is not a non-empty string without spaces
        or commas, or a name is taken and ``overwrite`` is False.

    Examples
    --------
    >>> _ = register_initializer(
    ...     "doc_normal", lambda shape, fan_in, fan_out, rng, dtype:
    ...     rng.normal(0.0, 0.5, shape).astype(dtype), overwrite=True)
    >>> get_initializer("Doc_Normal") is INITIALIZERS["doc_normal"]
    True
    >>> del INITIALIZERS["doc_normal"]  # (the example leaves the registry as it was)
    """
    if not callable(initializer):
        raise InputError(
            f"register_initializer expects a callable initializer(shape, fan_in, fan_out, "
            f"rng, dtype); received {type(initializer).__name__}."
        )
    register(INITIALIZERS, initializer, name, aliases, "initializer", overwrite)
    return initializer


def get_initializer(name: str | Initializer) -> Initializer:
    """Return an initializer by registry name, or a user's callable unchanged."""
    if callable(name):
        return name
    if isinstance(name, str) and name.strip().lower() in _PLAIN:
        raise UnknownNameError(_plain_distribution(name))
    if not isinstance(name, str):
        raise InputError(
            f"initializer must be given by name (a string, e.g. 'he_normal') or as a function "
            f"init(shape, fan_in, fan_out, rng, dtype) returning the weights; received "
            f"{type(name).__name__} {name!r:.60}."
        )
    return lookup(INITIALIZERS, name, "initializer")
