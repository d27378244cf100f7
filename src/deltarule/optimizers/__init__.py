r"""Optimizers: update rules over the flat parameter vector, with explicit state.

An optimizer sees only the flat parameter buffer :math:`\theta`, its gradient
:math:`g = \partial E/\partial\theta` (same shape) and a state dict it made
with :meth:`Optimizer.init` (optax's init/update pair; PyTorch's functional
optimizers). It knows nothing of layers, schedules or stopping. A step updates
``params`` and ``state`` **in place**, so the network's per-layer views into the
buffer stay valid, and the common rules allocate nothing once warm: they work
with ``out=`` ufuncs in a preallocated ``state["scratch"]``.

State values are NumPy arrays mirroring ``params`` (same shape and dtype), ints,
floats, booleans and None only, so a checkpoint stores them as named tensors plus JSON
(state of another type is refused when the first checkpoint is written). State made in
``update`` rather than ``init`` (on the first step) is checkpointed and resumed too.
``state["step"]`` counts the updates made. Every rule keeps the dtype of
``params``: float32 in, float32 out.

Examples
--------
>>> import numpy as np
>>> opt = get_optimizer("sgd", learning_rate=0.1)
>>> theta = np.array([1.0, -2.0])
>>> state = opt.init(theta)
>>> opt.update(theta, 2 * theta, state)  # gradient of |theta|^2
>>> theta
array([ 0.8, -1.6])

The rules live by family: :mod:`.sgd` (SGD, momentum, Nesterov), :mod:`.adaptive` (Adam,
AdamW, RMSprop, Adagrad) and :mod:`.rprop` (Rprop−, Rprop+, iRprop−, iRprop+), over the protocol of
``_base``; :mod:`.registry` holds them by name. All are importable from here.
"""

from ._base import Optimizer
from .adaptive import Adagrad, Adam, AdamW, RMSprop
from .adaptive import _adam_constants as _adam_constants  # (for the compiled mini-batch steps)
from .adaptive import _adam_step as _adam_step
from .adaptive import _flush_bound as _flush_bound
from .registry import OPTIMIZERS, get_optimizer, optimizer_from_config, register_optimizer
from .rprop import IRpropMinus, IRpropPlus, RpropMinus, RpropPlus
from .sgd import SGD, Momentum, Nesterov

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "Nesterov",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "IRpropPlus",
    "IRpropMinus",
    "RpropPlus",
    "RpropMinus",
    "OPTIMIZERS",
    "get_optimizer",
    "optimizer_from_config",
    "register_optimizer",
]
