"""deltarule: multi-layer perceptrons trained by backpropagation.

Exact (the classic tutorial's numbers to the last digit, gradients checked
against finite differences), fast, friendly, and able to show its work.
"""

# Names are loaded when first used (PEP 562 __getattr__ below), not on import: importing
# deltarule, and so the command line (deltarule.cli), loads no numpy, and the program can
# handle Ctrl-C from its first moment (a traceback otherwise, for the ~0.2 s numpy takes).
TYPE_CHECKING = False  # (typing.TYPE_CHECKING, without importing typing)
if TYPE_CHECKING:
    # The submodules, which __getattr__ imports on first use (``deltarule.callbacks``).
    from . import activations as activations
    from . import callbacks as callbacks
    from . import datasets as datasets
    from . import exceptions as exceptions
    from . import explain as explain
    from . import gradcheck as gradcheck
    from . import history as history
    from . import importance as importance
    from . import initializers as initializers
    from . import io as io
    from . import layers as layers
    from . import losses as losses
    from . import metrics as metrics
    from . import network as network
    from . import optimizers as optimizers
    from . import parameters as parameters
    from . import plots as plots
    from . import preprocessing as preprocessing
    from . import restarts as restarts
    from . import schedules as schedules
    from . import sensitivity as sensitivity
    from . import sklearn as sklearn
    from . import solvers as solvers
    from . import textbook as textbook
    from . import training as training
    from . import versions as versions
    from .activations import ACTIVATIONS, Activation, get_activation, register_activation
    from .exceptions import (
        ConvergenceWarning,
        DataWarning,
        DeltaruleError,
        DivergenceError,
        IncompatibleFormatError,
        InputError,
        KerasAttributeError,
        KeywordError,
        NotFittedError,
        StillImprovingWarning,
        UnknownNameError,
    )
    from .gradcheck import GradientCheckResult, check_gradients
    from .history import EpochRecord, History
    from .importance import PermutationImportance, permutation_importance
    from .losses import FUSED_PAIRS, LOSSES, Loss, get_loss, register_loss
    from .network import Network
    from .parameters import ParameterLayout
    from .restarts import Restarts, fit_restarts
    from .sensitivity import generalized_weights, input_gradients
    from .training import Trainer, fit
    from .versions import show_versions

_EXPORTS = {
    "activations": ("ACTIVATIONS", "Activation", "get_activation", "register_activation"),
    "exceptions": ("ConvergenceWarning", "DataWarning", "DeltaruleError", "DivergenceError",
                   "IncompatibleFormatError", "InputError", "KerasAttributeError",
                   "KeywordError", "NotFittedError", "StillImprovingWarning",
                   "UnknownNameError"),
    "gradcheck": ("GradientCheckResult", "check_gradients"),
    "history": ("EpochRecord", "History"),
    "importance": ("PermutationImportance", "permutation_importance"),
    "losses": ("FUSED_PAIRS", "LOSSES", "Loss", "get_loss", "register_loss"),
    "network": ("Network",),
    "parameters": ("ParameterLayout",),
    "restarts": ("Restarts", "fit_restarts"),
    "sensitivity": ("generalized_weights", "input_gradients"),
    "training": ("Trainer", "fit"),
    "versions": ("show_versions",),
}  # fmt: skip
"""Public name -> the module that defines it, by module."""

_ELSEWHERE = {
    "io": ("load_model", "save_model", "read_table", "LoadedModel", "read_fann", "write_fann"),
    "callbacks": ("Callback", "EarlyStopping", "ModelCheckpoint", "CSVLogger", "ProgressBar",
                  "ReduceLROnPlateau", "LearningRateScheduler", "TerminateOnNaN",
                  "TargetError", "TimeLimit"),
    "sklearn": ("MLPClassifier", "MLPRegressor"),
    "optimizers": ("SGD", "Momentum", "Nesterov", "Adam", "AdamW", "RMSprop", "Adagrad",
                   "get_optimizer"),
    "explain": ("explain_example", "explain_tutorial", "draw_network"),
}  # fmt: skip
"""Names a newcomer looks for on the package (Keras' and scikit-learn's places) that live in
a submodule, by submodule: ``dr.load_model`` says where it is instead of a bare
AttributeError. Edge modules (io, sklearn, explain) are not re-exported: the core imports
none of them."""

_ALIASES = {"load": "load_model", "save": "save_model"}
"""Other first guesses, and the name they mean (``dr.load`` is ``deltarule.io.load_model``)."""


def _where(name: str) -> str:
    """``; it is deltarule.io.load_model (from deltarule.io import load_model)`` for a name
    :data:`_ELSEWHERE` holds (or an alias of one), else nothing."""
    meant = _ALIASES.get(name, name)
    for module, names in _ELSEWHERE.items():
        if meant in names:
            return f"; it is {__name__}.{module}.{meant} (from {__name__}.{module} import {meant})"
    return ""


if not TYPE_CHECKING:  # (hidden from type checkers: a misspelt name stays an error)

    def __getattr__(name: str) -> object:
        """Load a public name's module the first time the name is used; a submodule's name
        (``deltarule.training``, ``deltarule.callbacks``) imports it, as an eager package's
        imports made it an attribute."""
        import importlib

        for module, names in _EXPORTS.items():
            if name in names:
                value = getattr(importlib.import_module(f".{module}", __name__), name)
                globals()[name] = value  # (looked up once)
                return value
        if name.isidentifier() and not name.startswith("__"):
            import importlib.util

            if importlib.util.find_spec(f"{__name__}.{name}") is not None:
                return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}{_where(name)}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
    "KerasAttributeError",
    "KeywordError",
    "LOSSES",
    "Loss",
    "Network",
    "NotFittedError",
    "ParameterLayout",
    "PermutationImportance",
    "Restarts",
    "StillImprovingWarning",
    "Trainer",
    "UnknownNameError",
    "__version__",
    "check_gradients",
    "fit",
    "fit_restarts",
    "generalized_weights",
    "get_activation",
    "get_loss",
    "input_gradients",
    "permutation_importance",
    "register_activation",
    "register_loss",
    "show_versions",
]
