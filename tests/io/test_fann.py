"""FANN's training files: read, write (atomically), round trip, and malformed files refused
with the line at fault."""

from __future__ import annotations

import numpy as np
import pytest

from deltarule.exceptions import InputError
from deltarule.io import read_fann, write_fann
from deltarule.io.fann import looks_like_fann

XOR = "4 2 1\n-1 -1\n-1\n-1 1\n1\n1 -1\n1\n1 1\n-1\n"  # FANN's examples/xor.data


def test_reads_fanns_xor_file(tmp_path) -> None:
    path = tmp_path / "xor.data"
    path.write_text(XOR)
    X, Y = read_fann(path)
    np.testing.assert_array_equal(X, [[-1, -1], [-1, 1], [1, -1], [1, 1]])
    np.testing.assert_array_equal(Y, [[-1], [1], [1], [-1]])
    assert looks_like_fann(path)


def test_a_written_file_reads_back_exactly(tmp_path) -> None:
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    path = tmp_path / "out.data"
    write_fann(path, X, Y)
    assert path.read_text().splitlines()[0] == "5 3 2"
    back_X, back_Y = read_fann(path)
    np.testing.assert_array_equal(back_X, X)
    np.testing.assert_array_equal(back_Y, Y)
    assert [p.name for p in tmp_path.iterdir()] == ["out.data"]  # no temporary left behind


def test_writing_is_atomic_an_existing_file_survives_a_failed_write(tmp_path, monkeypatch):
    path = tmp_path / "keep.data"
    path.write_text(XOR)
    import deltarule.io.atomic as atomic

    def broken_replace(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_fann(path, np.zeros((2, 2)), np.zeros(2))
    assert path.read_text() == XOR


@pytest.mark.parametrize(
    "text, match",
    [
        ("a b c\n1\n2\n", r"line 1: 'a b c' is not FANN's header"),
        ("2 2 1\n0 0\n0\n0 1\n", r"announces 2 examples, so 4 lines.*has only 3"),
        ("1 2 1\n0 0\n0\n5 5\n", r"has 3: line 4 onwards is extra"),
        ("2 2 1\n0 0\n0\n0 1 1\n1\n", r"line 4: example 2's inputs have 3 numbers.*says 2"),
        ("2 2 1\n0 0\n0\n0 x\n1\n", r"line 4: 'x' is not a number \(example 2's inputs\)"),
        ("\n\n", r"only blank lines"),
        ("\u00b2 1 1\n0\n0\n", r"line 1: '\u00b2 1 1' is not FANN's header"),  # int() refuses '²'
        ("0 2 1\n", r"announces 0 examples; expected at least one"),
        # a line's count is checked before the arrays the header sizes (745 GiB here) are made
        ("1 99999999999 1\n0 0\n0\n", r"line 2: example 1.s inputs have 2 numbers.*99999999999"),
    ],
)
def test_malformed_files_are_refused_naming_the_line(tmp_path, text, match) -> None:
    path = tmp_path / "bad.data"
    path.write_text(text)
    with pytest.raises(InputError, match=match):
        read_fann(path)


def test_write_refuses_mismatched_rows(tmp_path) -> None:
    with pytest.raises(
        InputError, match=r"same number of rows.*X.shape=\(3, 2\), Y.shape=\(2, 1\)"
    ):
        write_fann(tmp_path / "x.data", np.zeros((3, 2)), np.zeros((2, 1)))


def test_a_header_of_unicode_digits_is_not_fanns(tmp_path) -> None:
    path = tmp_path / "sup.data"
    path.write_text("\u00b2 1 1\n0\n0\n")
    assert not looks_like_fann(path)


@pytest.mark.parametrize(
    ("X", "said"),
    [
        ([[1, 2], [1]], "X's rows have different lengths (1, 2 values); expected a table"),
        ([["a", "b"]], "X is not a table of numbers (could not convert string to float"),
    ],
)
def test_write_fann_refuses_ragged_or_text_rows(tmp_path, X, said) -> None:
    # numpy's "setting an array element with a sequence ... inhomogeneous shape" before.
    with pytest.raises(InputError) as info:
        write_fann(tmp_path / "f.data", X, [[0]] * len(X))
    assert said in str(info.value) and not (tmp_path / "f.data").exists()
