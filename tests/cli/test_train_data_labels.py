"""``deltarule train``'s class labels as the file writes them (``_labels_as_written``): the
byte scan that skips reading the target again (``deltarule.io._text.may_hold_codes``)
gives the labels that reading it again gives, for codes (``01``), signs, spaces, quotes,
missing values, CRLF, a byte-order mark, gzip and standard input."""

from __future__ import annotations

import gzip
import io
import sys

import pytest

from deltarule.cli import _stdin, _train_data
from deltarule.cli._common import read_data
from deltarule.io import _text

pd = pytest.importorskip("pandas")

TABLES = {
    "numbers": "x,label\n1,1\n2,2\n3,1\n4,2\n",
    "leading zero": "x,label\n1,01\n2,1\n3,02\n4,2\n",
    "zero alone": "x,label\n1,0\n2,10\n3,100\n4,0\n",
    "plus": "x,label\n1,+1\n2,1\n3,2\n4,+2\n",
    "plus zero": "x,label\n1,+01\n2,1\n3,2\n4,2\n",
    "minus zero": "x,label\n1,-01\n2,1\n3,2\n4,2\n",
    "space": "x,label\n1, 1\n2,1\n3, 2\n4,2\n",
    "space zero": "x,label\n1, 01\n2,1\n3,2\n4,2\n",
    "point": "x,label\n1,1.0\n2,2\n3,1\n4,2.0\n",
    "zero point": "x,label\n1,0.0\n2,1\n3,0\n4,1\n",
    "quoted": 'x,label\n1,"1"\n2,"2"\n3,1\n4,2\n',
    "quoted zero": 'x,label\n1,"01"\n2,"2"\n3,1\n4,2\n',
    "quoted space zero": 'x,label\n1," 01"\n2,"2"\n3,1\n4,2\n',
    "quote inside": 'x,label\n1,"0"1\n2,2\n3,1\n4,2\n',
    "missing": "x,label\n1,01\n2,\n3,NA\n4,1\n5,2\n",
    "missing, no code": "x,label\n1,1\n2,\n3,NA\n4,1\n5,2\n",
    "code elsewhere": "x,label\n01,1\n02,2\n3,1\n4,2\n",
    "crlf": "x,label\r\n1,01\r\n2,1\r\n3,2\r\n4,2\r\n",
    "crlf, no code": "x,label\r\n1,1\r\n2,1\r\n3,2\r\n4,2\r\n",
    "semicolons": "x;label\n1;01\n2;1\n3;2\n4;2\n",
    "last line unended": "x,label\n1,1\n2,2\n3,1\n4,01",
}
"""Tables whose target ``label`` holds whole numbers, each written in its own way."""
CODES = {"leading zero", "plus zero", "minus zero", "space zero", "quoted zero",
         "quoted space zero", "quote inside", "missing", "crlf", "semicolons",
         "last line unended"}  # fmt: skip
"""Those whose labels are codes, read as written."""


def labels(path: str, target: str = "label", header: bool = True) -> pd.Series:
    """The target as ``train`` reads it: the file read whole, then its labels as written."""
    column = read_data(path, target="y", header=header)[target]
    return _train_data._labels_as_written(column, path, target, None, header)


def both_ways(monkeypatch: pytest.MonkeyPatch, path: str, **options) -> tuple[pd.Series, ...]:
    """The labels with the scan, and with the target always read again (no scan)."""
    fast = labels(path, **options)
    with monkeypatch.context() as patch:
        patch.setattr(_text, "may_hold_codes", lambda file: True)
        slow = labels(path, **options)
    return fast, slow


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("bom", [False, True], ids=["", "bom"])
@pytest.mark.parametrize("name", list(TABLES))
def test_labels_are_those_read_again(tmp_path, monkeypatch, name, bom, compressed):
    data = ("\ufeff" if bom else "").encode() + TABLES[name].encode()
    path = tmp_path / ("table.csv.gz" if compressed else "table.csv")
    path.write_bytes(gzip.compress(data) if compressed else data)
    fast, slow = both_ways(monkeypatch, str(path))
    pd.testing.assert_series_equal(fast, slow)
    # (codes kept as text: the scan did not skip them)
    assert pd.api.types.is_numeric_dtype(fast) == (name not in CODES)


def test_a_first_cell_after_a_byte_order_mark(tmp_path, monkeypatch):
    path = tmp_path / "table.csv"
    path.write_bytes("\ufeff01,1\n1,2\n02,1\n2,2\n".encode())
    fast, slow = both_ways(monkeypatch, str(path), target="0", header=False)
    pd.testing.assert_series_equal(fast, slow)
    assert fast.tolist() == ["01", "1", "02", "2"]


@pytest.mark.parametrize("name", ["leading zero", "numbers", "missing"])
def test_labels_from_standard_input(monkeypatch, name):
    def from_stdin() -> pd.Series:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(TABLES[name].encode())))
        with _stdin.session():
            return labels("-")

    fast = from_stdin()
    with monkeypatch.context() as patch:
        patch.setattr(_text, "may_hold_codes", lambda file: True)
        slow = from_stdin()
    pd.testing.assert_series_equal(fast, slow)


SCANNED = {
    "x,label\n1,01\n": True,
    "x,label\n10,2\n0,1\n": False,
    "x,label\n1,1\n2,1.05\n": False,
    'x,label\n1,"0"1\n': True,
    "x,label\n1,1\n2,1e-05\n": True,
    "x\tlabel\n1\t\t01\n": True,
}
"""Tables and whether the scan finds a value that may be a code."""


@pytest.mark.parametrize("block", [1, 2, 3, 5, 8, 13])
def test_a_code_across_blocks_is_found(tmp_path, monkeypatch, block):
    monkeypatch.setattr(_text, "SCAN_BYTES", block)
    for text, found in SCANNED.items():
        path = tmp_path / "table.csv"
        path.write_text(text)
        assert _text.may_hold_codes(path) is found, (text, block)
