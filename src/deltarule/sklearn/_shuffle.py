"""scikit-learn's per-epoch shuffle, as the random stream the trainer draws its orders from.

scikit-learn's ``_fit_stochastic`` starts every ``fit`` and ``partial_fit`` call from
``sample_idx = arange(n_samples)`` and, before each epoch, shuffles it *again*
(cumulatively) with ``sklearn.utils.shuffle(sample_idx, random_state=...)``, drawing
from the same ``RandomState`` as the initial weights and the early-stopping split —
also when one batch holds every row. deltarule's trainer draws each epoch's order as
``trainer._shuffle_rng.permutation(n)``; :class:`SklearnShuffle` answers that call with
scikit-learn's order, so the same ``random_state`` gives the same batches, and a shared
``RandomState`` is left where scikit-learn leaves it.

The draw is :func:`shuffled`: what ``sklearn.utils.shuffle`` computes for one array
(scikit-learn >= 1.6: ``resample(replace=False)``, an ``arange`` shuffled in place by the
``RandomState``, then the array taken in that order), without its per-call parameter
validation and dispatch, which took ~100 µs an epoch (on iris, as long as the epoch's
training); the tests check it against ``sklearn.utils.shuffle`` itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..exceptions import InputError

__all__ = ["SklearnShuffle", "shuffled"]


def shuffled(order: np.ndarray, random_state: np.random.RandomState) -> np.ndarray:
    """``sklearn.utils.shuffle(order, random_state=random_state)`` for one 1-D array: the
    same new array, and the ``RandomState`` advanced alike."""
    indices = np.arange(order.shape[0])
    random_state.shuffle(indices)
    return order[indices]


class SklearnShuffle:
    """Each epoch's order of the training rows, drawn as scikit-learn's MLPs draw it.

    Set as a trainer's ``_shuffle_rng`` for one fit call. It is its own
    ``bit_generator``: ``state`` (the ``RandomState``'s state, the current order and
    the epochs drawn) can be read and put back, as the compiled online loop does to
    draw some epochs' orders again.

    Parameters
    ----------
    random_state : numpy.random.RandomState
        The fit call's ``check_random_state(random_state)``; advanced by each epoch's draw.
    n_samples : int
        The number of training rows (after the early-stopping split).
    """

    def __init__(self, random_state: np.random.RandomState, n_samples: int) -> None:
        self.random_state = random_state
        self.order = np.arange(n_samples, dtype=int)  # scikit-learn's sample_idx
        self.draws = 0

    def permutation(self, n: int) -> np.ndarray:
        """Shuffle the current order again (scikit-learn's epoch start) and return it."""
        if n != self.order.size:
            raise InputError(
                f"the trainer asked for an order of {n} rows; this fit's shuffle holds "
                f"{self.order.size}."
            )
        self.order = shuffled(self.order, self.random_state)
        self.draws += 1
        return self.order.copy()  # (the trainer's to keep: ours is replaced, never changed)

    def catch_up(self, n_epochs: int) -> None:
        """Draw the orders of ``n_epochs`` epochs the trainer ran without asking for one.

        A batch of every row does not depend on their order, so the trainer draws none;
        scikit-learn shuffles all the same, and its ``RandomState`` moves on.
        """
        for _ in range(n_epochs):
            self.order = shuffled(self.order, self.random_state)
        self.draws += n_epochs

    @property
    def bit_generator(self) -> SklearnShuffle:
        """This object: its :attr:`state` is the whole state of the stream."""
        return self

    @property
    def state(self) -> dict[str, Any]:
        """The ``RandomState``'s state, the current order and the number of epochs drawn."""
        return {
            "random_state": self.random_state.get_state(legacy=False),
            "order": self.order,
            "draws": self.draws,
        }

    @state.setter
    def state(self, value: dict[str, Any]) -> None:
        self.random_state.set_state(value["random_state"])
        self.order = np.asarray(value["order"], dtype=int)
        self.draws = int(value["draws"])
