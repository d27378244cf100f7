r"""The objective scikit-learn's MLPs minimise, as a deltarule :class:`~deltarule.Network`.

For a batch :math:`B` with sample weights :math:`s_i` (all 1 by default) and
:math:`s_B = \sum_{i \in B} s_i`, scikit-learn descends

.. math::

    E_B = \frac{1}{s_B}\sum_{i \in B} s_i\,\ell(o_i, t_i)
          + \frac{\alpha}{2 s_B} \sum_l \lVert W_l \rVert^2

where :math:`\ell` *sums* over the outputs and :math:`\partial\ell/\partial z = o - t`
at the output net input :math:`z` (its canonical output/loss pairs). deltarule's
losses are per-sample means of their own; this table says which one is used and
the factor :math:`c` (``loss_scale``) that makes :math:`c\,\ell_{\text{deltarule}}`
equal scikit-learn's :math:`\ell` for :math:`K` outputs:

===========================  ==========  ==========================  ==========
target                       output      deltarule loss              :math:`c`
===========================  ==========  ==========================  ==========
binary / multi-label         logistic    binary_crossentropy         :math:`K`
multi-class                  softmax     categorical_crossentropy    1
``loss='squared_error'``     identity    half_squared_error          1
``loss='poisson'``           exp         poisson                     :math:`K/2`
===========================  ==========  ==========================  ==========

deltarule's binary cross-entropy averages over the :math:`K` labels and its
Poisson loss is the full deviance averaged over outputs; scikit-learn sums log-loss
and half deviances over outputs. For squared error scikit-learn's *gradient* is
that of :math:`\tfrac12\sum_k (o_k - t_k)^2` — deltarule's ``half_squared_error``,
used as is — although its reported ``loss_`` averages that term over the outputs
(so for :math:`K > 1` outputs the squared-error part of our ``loss_`` is
:math:`K` times its figure: we report the objective both gradients descend). A
reported value with the term divided by :math:`K` but not the gradient would also
keep the estimators off the compiled kernels (:meth:`objective_terms` gives one
factor for both); the consequences are in :class:`MLPRegressor`'s Notes.

The :math:`\alpha` term is divided by the batch's weight :math:`s_B` (the last,
smaller batch of an epoch included), so :class:`SklearnNetwork` adds it in
:meth:`~SklearnNetwork.backward` instead of using the trainer's constant ``l2``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._typing import Array
from ..activations import ACTIVATIONS, Activation, get_activation, register_activation
from ..network import Network

__all__ = ["EXP", "SklearnNetwork", "build_network", "ensure_registered", "objective_scale"]


def _exp(z: Array) -> Array:
    return np.exp(z)


def _exp_derivative(z: Array, a: Array) -> Array:
    return a


EXP = Activation("exp", _exp, _exp_derivative)
"""The exponential (the log link of ``loss='poisson'``); not in deltarule's core registry."""

_LOCAL_ACTIVATIONS = {"exp": EXP}

OUTPUT_ACTIVATIONS = {"logistic": "sigmoid", "softmax": "softmax", "identity": "identity"}
"""scikit-learn's ``out_activation_`` names -> deltarule activation names (exp is local)."""


def activation_for(name: str) -> Activation:
    """Return the activation called ``name`` (a registered one, or this module's ``exp``)."""
    key = name.lower()
    if key in ACTIVATIONS:
        return ACTIVATIONS[key]
    return _LOCAL_ACTIVATIONS.get(key) or get_activation(name)


def ensure_registered(names: Sequence[str]) -> None:
    """Register this module's activations among ``names`` (needed to load a model file)."""
    for name in names:
        if isinstance(name, str) and name in _LOCAL_ACTIVATIONS and name not in ACTIVATIONS:
            register_activation(_LOCAL_ACTIVATIONS[name])


def objective_scale(out_activation: str, n_outputs: int) -> float:
    """Return the factor :math:`c` of the module table for an output activation name."""
    if out_activation == "logistic":
        return float(n_outputs)
    if out_activation == "exp":
        return n_outputs / 2.0
    return 1.0


class SklearnNetwork(Network):
    """A :class:`~deltarule.Network` whose error is scikit-learn's MLP objective.

    Same constructor as :class:`~deltarule.Network`. Two attributes, set by the
    estimator before each training run, change the error it reports and differentiates:

    Attributes
    ----------
    loss_scale : float
        The factor :math:`c` by which the per-sample loss is multiplied (module table).
    alpha : float
        The L2 strength; :math:`\\tfrac{\\alpha}{2 s_B}\\sum_l\\lVert W_l\\rVert^2` is
        added to each batch's error and its gradient to :meth:`backward`'s.

    Notes
    -----
    Pickling stores the architecture by name plus the flat parameter buffer, and
    rebuilds the per-layer views on loading.
    """

    loss_scale: float = 1.0
    alpha: float = 0.0

    def error(
        self,
        caches: list[Any],
        target: Array,
        sample_weight: Array | None = None,
        work: Array | None = None,
    ) -> float:
        """Return :math:`c` times the deltarule error (no penalty term)."""
        return super().error(caches, target, sample_weight, work) * self.loss_scale

    def backward(
        self,
        caches: list[Any],
        target: Array,
        sample_weight: Array | None = None,
        params: Array | None = None,
        *,
        out: Array | None = None,
        observer: Any = None,
        buffers: Any = None,
    ) -> tuple[float, Array]:
        """Return scikit-learn's ``(E_B, dE_B/dθ)`` for the batch (see the module docstring)."""
        loss, grad = super().backward(
            caches, target, sample_weight, params, out=out, observer=observer, buffers=buffers
        )
        if self.loss_scale != 1.0:
            grad *= self.loss_scale  # the loss is already scaled by error()
        if self.alpha:
            total = target.shape[0] if sample_weight is None else float(sample_weight.sum())
            loss += self._penalty(self.parameters if params is None else params, grad, total)
        return loss, grad

    def objective_terms(self) -> tuple[float, float] | None:
        """``(loss_scale, alpha)``: scikit-learn's objective for one unweighted example."""
        return float(self.loss_scale), float(self.alpha)

    def _penalty(self, params: Array, grad: Array, total: float) -> float:
        """Add :math:`(\\alpha/s_B) W` to ``grad`` in place; return the penalty value."""
        coef = self.alpha / total
        value = 0.0
        for weights, grad_weights in zip(self._views(params)[0], self._views(grad)[0]):
            grad_weights += coef * weights
            flat = weights.reshape(-1)  # a contiguous 1-D view of W_l
            value += float(np.dot(flat, flat))
        return 0.5 * coef * value

    # ------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        return {
            "config": self.config(),
            "parameters": self.parameters,
            "trainable": self.trainable,
            "loss_scale": self.loss_scale,
            "alpha": self.alpha,
        }

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        _initialize_from_config(self, state["config"])
        np.copyto(self.parameters, state["parameters"])
        np.copyto(self.trainable, state["trainable"])
        self.loss_scale, self.alpha = state["loss_scale"], state["alpha"]

    def __copy__(self) -> SklearnNetwork:
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> SklearnNetwork:
        new = type(self).__new__(type(self))
        new.__setstate__(copy.deepcopy(self.__getstate__(), memo))
        return new


def _initialize_from_config(network: SklearnNetwork, config: Mapping[str, Any]) -> None:
    activations = [activation_for(name) for name in config["activations"]]
    Network.__init__(
        network,
        list(config["layer_sizes"]),
        activation=activations[:-1] or "identity",
        output_activation=activations[-1],
        loss=config["loss"],
        use_bias=list(config["use_bias"]),
        dropout=list(config.get("dropout") or []) or 0.0,
        initializer="zeros",
        dtype=config["dtype"],
    )


def build_network(config: Mapping[str, Any], parameters: Array | None = None) -> SklearnNetwork:
    """Build a :class:`SklearnNetwork` from :meth:`Network.config` output (zero weights).

    ``parameters``, when given, are copied into the new buffer.
    """
    network = SklearnNetwork.__new__(SklearnNetwork)
    _initialize_from_config(network, config)
    if parameters is not None:
        np.copyto(network.parameters, parameters, casting="same_kind")
    return network
