"""The flat parameter buffer: layout, offsets, views that share memory, masks, errors."""

from __future__ import annotations

import numpy as np
import pytest

from deltarule import InputError, Network
from deltarule.parameters import ParameterLayout


def test_parameters_live_in_one_flat_buffer_with_views() -> None:
    net = Network([4, 3, 2], seed=0)
    assert net.parameters.ndim == 1 and net.parameters.size == 4 * 3 + 3 + 3 * 2 + 2
    for tensor in [*net.weights, *(b for b in net.biases if b is not None)]:
        assert np.shares_memory(tensor, net.parameters)
    net.weights[1][0, 0] = 42.0
    assert net.parameters[net.layout["W2"].offset] == 42.0
    assert net.layout.names == ["W1", "b1", "W2", "b2"]


def test_layout_offsets_follow_the_entries_in_order() -> None:
    layout = ParameterLayout([("W1", (3, 2)), ("b1", (3,)), ("W2", (1, 3))])
    assert [s.offset for s in layout.specs] == [0, 6, 9] and layout.size == 12
    assert layout["b1"].slice == slice(6, 9) and layout["W2"].size == 3
    assert layout == ParameterLayout([("W1", [3, 2]), ("b1", (3,)), ("W2", (1, 3))])
    assert layout != ParameterLayout([("W1", (2, 3)), ("b1", (3,)), ("W2", (1, 3))])
    assert len({layout, ParameterLayout([("W1", (3, 2)), ("b1", (3,)), ("W2", (1, 3))])}) == 1


def test_views_write_through_to_the_flat_buffer_and_back() -> None:
    layout = ParameterLayout([("W1", (3, 2)), ("b1", (3,))])
    flat = layout.allocate(np.dtype(np.float32))
    assert flat.dtype == np.float32 and not flat.any()
    W1, b1 = layout.views(flat)
    W1[2, 1], b1[0] = 5.0, 7.0
    assert flat[5] == 5.0 and flat[6] == 7.0
    flat[7] = 9.0
    assert layout.view(flat, "b1")[1] == 9.0


def test_mask_marks_the_named_tensors() -> None:
    layout = ParameterLayout([("W1", (2, 2)), ("b1", (2,)), ("W2", (1, 2))])
    np.testing.assert_array_equal(layout.mask(["b1"]), [0, 0, 0, 0, 1, 1, 0, 0])
    assert layout.mask(["W1", "W2"], float).sum() == 6.0


def test_bad_names_and_buffers_are_clear_errors() -> None:
    with pytest.raises(InputError, match="parameter names must be unique"):
        ParameterLayout([("W1", (2,)), ("W1", (3,))])
    layout = ParameterLayout([("W1", (2, 2)), ("b1", (2,))])
    with pytest.raises(InputError, match="no parameter named 'W3'; the network has W1, b1"):
        layout["W3"]
    with pytest.raises(InputError, match=r"shape \(5,\); expected \(6,\)"):
        layout.views(np.zeros(5))
    with pytest.raises(InputError, match=r"expected \(6,\)"):
        layout.views(np.zeros((2, 3)))
