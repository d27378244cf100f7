"""deltarule: multi-layer perceptrons trained by backpropagation.

Exact (the classic tutorial's numbers to the last digit, gradients checked
against finite differences), fast, friendly, and able to show its work.
"""

from .activations import ACTIVATIONS, Activation, get_activation, register_activation
from .exceptions import (
    ConvergenceWarning,
    DataWarning,
    DeltaruleError,
    DivergenceError,
    IncompatibleFormatError,
    InputError,
    NotFittedError,
    UnknownNameError,
)
from .gradcheck import GradientCheckResult, check_gradients
from .history import EpochRecord, History
from .losses import FUSED_PAIRS, LOSSES, Loss, get_loss, register_loss
from .network import Network
from .parameters import ParameterLayout
from .training import Trainer, fit

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "ConvergenceWarning",
    "DataWarning",
    "DeltaruleError",
    "DivergenceError",
    "EpochRecord",
    "FUSED_PAIRS",
    "GradientCheckResult",
    "History",
    "IncompatibleFormatError",
    "InputError",
    "LOSSES",
    "Loss",
    "Network",
    "NotFittedError",
    "ParameterLayout",
    "Trainer",
    "UnknownNameError",
    "__version__",
    "check_gradients",
    "fit",
    "get_activation",
    "get_loss",
    "register_activation",
    "register_loss",
]
