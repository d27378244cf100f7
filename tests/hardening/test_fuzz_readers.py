"""Fuzzing the data readers: every file ends in a table/arrays or a documented InputError.

CSV/TSV text is generated from hostile parts (ragged rows, huge numbers, NaN/inf, empty
or repeated header names, quotes, a byte-order mark, CR/CRLF/LF, non-UTF-8 encodings)
and from raw bytes; Parquet and .npz files from raw bytes, byte mutations of valid files
and hostile structure. Nothing may raise another exception type, hang, or allocate far
more than the file's size.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from hardening_support import assert_clean_error, fuzz, peak_bytes, time_limit
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from deltarule.exceptions import InputError
from deltarule.io import read_npz, read_table

pd = pytest.importorskip("pandas")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

MAX_PEAK = 64 * 2**20  # fuzz files are a few KB; a reader may not allocate 64 MB for one


def _read_table_checked(path, **kwargs):
    """read_table must give a usable frame or an InputError, quickly and in bounded memory."""
    result = {}

    def call():
        with time_limit(10):
            result["frame"] = read_table(path, **kwargs)

    peak, error = peak_bytes(call)
    assert peak < MAX_PEAK, f"reading a {path.stat().st_size}-byte file allocated {peak:,} bytes"
    if error is not None:
        assert_clean_error(error, InputError)
        return None
    frame = result["frame"]
    assert isinstance(frame, pd.DataFrame) and len(frame) >= 1
    names = list(frame.columns)
    assert all(isinstance(n, str) and n.strip() for n in names), names
    assert len(set(names)) == len(names), names
    return frame


def _read_npz_checked(path):
    result = {}

    def call():
        with time_limit(10):
            result["arrays"] = read_npz(path)

    peak, error = peak_bytes(call)
    assert peak < MAX_PEAK, f"reading a {path.stat().st_size}-byte file allocated {peak:,} bytes"
    if error is not None:
        assert_clean_error(error, InputError)
        return None
    X, y = result["arrays"]
    assert isinstance(X, np.ndarray) and X.dtype.kind in "biuf" and X.ndim in (1, 2) and X.size
    assert isinstance(y, np.ndarray) and y.dtype.kind in "biufUS" and y.ndim in (1, 2)
    assert len(X) == len(y)
    return X, y


# ---------------------------------------------------------------- CSV / TSV
_numbers = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e999", "-1e999", "1e-999", "NaN", "nan", "inf", "-Infinity", "NA", ""]),
    st.sampled_from(["9" * 400, "0x1F", "1_000", "1,5", "١٢٣", "+.5", "-0"]),
)
_cell = st.one_of(
    _numbers,
    st.text(max_size=8),
    st.text(alphabet=",\t\"'\r\n ;#\\\x00é€", max_size=6),
)
_name = st.one_of(
    st.sampled_from(["x", "y", "label", "", " ", "x", "Unnamed: 0", "nan", "1", "x.1", "\ufeffx"]),
    st.text(max_size=6),
)


@st.composite
def delimited_text(draw):
    sep = draw(st.sampled_from([",", "\t"]))
    header = draw(st.lists(_name, min_size=1, max_size=5))
    width = len(header)
    rows = draw(
        st.lists(
            st.lists(_cell, min_size=max(width - 2, 0), max_size=width + 2)
            | st.lists(_cell, min_size=width, max_size=width),
            max_size=6,
        )
    )
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [sep.join(header)] + [sep.join(row) for row in rows]
    text = newline.join(lines) + draw(st.sampled_from(["", newline, newline * 3]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    return sep, data


_EXTENSIONS = {",": [".csv", ".txt"], "\t": [".tsv", ".tab"]}


@fuzz(250)
@given(case=delimited_text(), pick=st.integers(0, 1))
def test_generated_delimited_files(tmp_path_factory, case, pick):
    sep, data = case
    path = tmp_path_factory.mktemp("csv") / f"data{_EXTENSIONS[sep][pick]}"
    path.write_bytes(data)
    _read_table_checked(path)


@fuzz(150)
@given(data=st.binary(max_size=300), ext=st.sampled_from([".csv", ".tsv", ".parquet", ".txt"]))
def test_random_bytes_as_tables(tmp_path_factory, data, ext):
    path = tmp_path_factory.mktemp("raw") / f"data{ext}"
    path.write_bytes(data)
    _read_table_checked(path)


@fuzz(80)
@given(
    values=st.lists(
        st.lists(
            st.integers(-(2**53), 2**53).map(float)
            | st.sampled_from([0.5, -0.25, 1e300, -1e300, 5e-324, np.inf, -np.inf, np.nan]),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=8,
    ),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
    sep=st.sampled_from([",", "\t"]),
)
def test_well_formed_numeric_tables_read_exactly(tmp_path_factory, values, newline, bom, sep):
    """Well-formed files must not be misread: same shape, same numbers (NaN/inf included)."""
    expected = np.array(values, dtype=float)
    lines = [sep.join(["a", "b c", "é"])] + [sep.join(repr(v) for v in row) for row in values]
    data = ("\ufeff" if bom else "") + newline.join(lines) + newline
    path = tmp_path_factory.mktemp("ok") / ("data.csv" if sep == "," else "data.tsv")
    path.write_bytes(data.encode("utf-8"))
    frame = _read_table_checked(path)
    assert frame is not None and list(frame.columns) == ["a", "b c", "é"]
    np.testing.assert_array_equal(frame.to_numpy(dtype=float), expected)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"a,a\n1,2\n", "appears 2 times"),
        (b"a,\n1,2\n", "has no name"),
        (b" ,b\n1,2\n", "has no name"),
        (b"a,b\n1,2,3\n", "line 2 has 3 fields"),
        (b"a,b\n", "no data rows"),
        (b"\xef\xbb\xbf", "no header line"),
        (b"\r\n\r\n", "no header line"),
        (b"a,\xe9\n1,2\n", "not UTF-8"),
        ("a,b\n1,2\n".encode("utf-16"), "not UTF-8"),
        (b'a,b\n"1,2\n', "never closed \\(it opens on line 2\\)"),
    ],
)
def test_documented_refusals(tmp_path, content, fragment):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=fragment):
        read_table(path)


# ---------------------------------------------------------------- Parquet
def _parquet_bytes(frame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow")
    return buffer.getvalue()


_GOOD_PARQUET = _parquet_bytes(
    pd.DataFrame(
        {"a": [1.0, np.nan, 3.0], "b": ["x", "y", None], "c": [1, 2, 3]},
        index=pd.Index([7, 8, 9], name="i"),
    )
)


@fuzz(200)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(_GOOD_PARQUET) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=4,
    ),
    cut=st.none() | st.integers(0, len(_GOOD_PARQUET)),
)
def test_mutated_parquet(tmp_path_factory, edits, cut):
    data = bytearray(_GOOD_PARQUET)
    for position, value in edits:
        data[position] = value
    path = tmp_path_factory.mktemp("pq") / "data.parquet"
    path.write_bytes(bytes(data[:cut]))
    _read_table_checked(path)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**12) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
_PANDAS_META = json.loads(
    pa.Table.from_pandas(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})).schema.metadata[
        b"pandas"
    ]
)


@fuzz(120)
@given(
    key=st.sampled_from(sorted(_PANDAS_META)),
    value=_json,
    column_field=st.sampled_from(["name", "field_name", "pandas_type", "numpy_type", "metadata"]),
    column_value=_json,
)
def test_parquet_with_hostile_pandas_metadata(
    tmp_path_factory, key, value, column_field, column_value
):
    """pandas trusts the JSON it stored in the file; a hostile copy must not crash the reader."""
    meta = json.loads(json.dumps(_PANDAS_META))
    meta[key] = value
    if isinstance(meta.get("columns"), list) and meta["columns"]:
        if isinstance(meta["columns"][0], dict):
            meta["columns"][0][column_field] = column_value
    table = pa.table({"a": [1.0, 2.0], "b": ["x", "y"]})
    table = table.replace_schema_metadata({b"pandas": json.dumps(meta).encode()})
    path = tmp_path_factory.mktemp("meta") / "data.parquet"
    pq.write_table(table, path)
    _read_table_checked(path)


@fuzz(80)
@given(
    names=st.lists(
        st.sampled_from(["a", "a", "", " ", "é", "0", "nan"]) | st.text(max_size=4),
        min_size=1,
        max_size=4,
    ),
    n_rows=st.integers(0, 3),
    kind=st.sampled_from(["float", "int", "str", "list", "struct", "null", "binary", "bool"]),
)
def test_parquet_with_hostile_structure(tmp_path_factory, names, n_rows, kind):
    values = {
        "float": [1.5, float("nan"), 1e308][:n_rows],
        "int": [2**63 - 1, -(2**63), 0][:n_rows],
        "str": ["x", "", "\x00"][:n_rows],
        "list": [[1, 2], [], None][:n_rows],
        "struct": [{"p": 1}, {"p": None}, None][:n_rows],
        "null": [None, None, None][:n_rows],
        "binary": [b"\xff", b"", b"\x80\x04"][:n_rows],
        "bool": [True, False, None][:n_rows],
    }[kind]
    columns = [pa.array(values, type=pa.null() if kind == "null" else None) for _ in names]
    path = tmp_path_factory.mktemp("struct") / "data.parquet"
    pq.write_table(pa.Table.from_arrays(columns, names=names), path)
    _read_table_checked(path)


# ---------------------------------------------------------------- NPZ
def _npz_bytes(compressed: bool = False, **arrays) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


_GOOD_NPZ = {
    compressed: _npz_bytes(compressed, X=np.arange(12.0).reshape(4, 3), y=np.array(list("abab")))
    for compressed in (False, True)
}


@fuzz(250)
@given(
    compressed=st.booleans(),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
    cut=st.none() | st.integers(0, 10**6),
)
def test_mutated_npz(tmp_path_factory, compressed, edits, cut):
    data = bytearray(_GOOD_NPZ[compressed])
    for position, value in edits:
        data[position % len(data)] = value
    path = tmp_path_factory.mktemp("npz") / "data.npz"
    path.write_bytes(bytes(data[: None if cut is None else cut % (len(data) + 1)]))
    _read_npz_checked(path)


@fuzz(100)
@given(data=st.binary(max_size=300), prefix=st.sampled_from([b"", b"PK\x03\x04", b"\x93NUMPY"]))
def test_random_bytes_as_npz(tmp_path_factory, data, prefix):
    path = tmp_path_factory.mktemp("rawnpz") / "data.npz"
    path.write_bytes(prefix + data)
    _read_npz_checked(path)


_descr = st.sampled_from(
    "<f8 <f4 <f2 |b1 <i8 |u1 <c16 |O <U3 |S2 <M8[s] |V8".split()
    + ["[('a', '<f8')]", "'<f8'", "None", "1", "'|V1000000000000'"]
)
_shape = st.one_of(
    st.lists(st.integers(-2, 6), max_size=3).map(tuple),
    st.sampled_from([(10**9,), (2**40, 2**40), (2**62, 8), (0, 2**62), (10**6, 10**6)]),
)


def _npy(descr: str, shape: tuple, fortran: bool, payload: bytes, version: int) -> bytes:
    descr_text = descr if descr.startswith(("[", "'", "N", "1")) else repr(descr)
    header = f"{{'descr': {descr_text}, 'fortran_order': {fortran}, 'shape': {shape!r}, }}"
    raw = header.encode("latin-1")
    width = 2 if version == 1 else 4
    raw += b" " * ((-(10 + width - 2 + len(raw) + 1)) % 64) + b"\n"
    return b"\x93NUMPY" + bytes([version, 0]) + len(raw).to_bytes(width, "little") + raw + payload


@fuzz(200)
@given(
    members=st.dictionaries(
        st.sampled_from(["X.npy", "y.npy", "X", "y", "Z.npy", "X.npy/", "../X.npy"]),
        st.tuples(_descr, _shape, st.booleans(), st.binary(max_size=64), st.sampled_from([1, 2, 3]))
        | st.binary(max_size=40),
        min_size=1,
        max_size=3,
    ),
    method=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2]),
)
def test_npz_with_hostile_members(tmp_path_factory, members, method):
    """Headers declaring giant or overflowing shapes, foreign dtypes, non-.npy members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, member in members.items():
            archive.writestr(name, member if isinstance(member, bytes) else _npy(*member))
    path = tmp_path_factory.mktemp("members") / "data.npz"
    path.write_bytes(buffer.getvalue())
    _read_npz_checked(path)


_dtypes = st.one_of(
    hnp.boolean_dtypes(),
    hnp.integer_dtypes(),
    hnp.unsigned_integer_dtypes(),
    hnp.floating_dtypes(),
    hnp.complex_number_dtypes(),
    hnp.unicode_string_dtypes(max_len=3),
    hnp.byte_string_dtypes(max_len=3),
    hnp.datetime64_dtypes(),
)


@fuzz(150)
@given(
    X=hnp.arrays(_dtypes, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
    y=hnp.arrays(_dtypes, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)),
    compressed=st.booleans(),
)
def test_npz_of_arbitrary_arrays(tmp_path_factory, X, y, compressed):
    path = tmp_path_factory.mktemp("arrays") / "data.npz"
    path.write_bytes(_npz_bytes(compressed, X=X, y=y))
    result = _read_npz_checked(path)
    if result is not None:
        np.testing.assert_array_equal(result[0], X)
        np.testing.assert_array_equal(result[1], y)


def test_tiny_npz_declaring_a_terabyte_is_refused_before_allocating(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("X.npy", _npy("<f8", (2**37,), False, b"", 1))
        archive.writestr("y.npy", _npy("<f8", (1,), False, b"\0" * 8, 1))
    path = tmp_path / "bomb.npz"
    path.write_bytes(buffer.getvalue())
    peak, error = peak_bytes(lambda: read_npz(path))
    assert isinstance(error, InputError) and "declares shape (137438953472,)" in str(error)
    assert peak < 2**20


def test_npz_whose_zip_size_fields_lie_is_refused_before_allocating(tmp_path):
    """The zip's uncompressed-size field is the attacker's too: 4 GB claimed, 330 bytes held."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("X.npy", _npy("<f8", (5 * 10**8,), False, b"", 1))
        archive.writestr("y.npy", _npy("<f8", (1,), False, b"\0" * 8, 1))
    data = bytearray(buffer.getvalue())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 22 : local + 26] = (2**32 - 16).to_bytes(4, "little")  # uncompressed size
    data[central + 24 : central + 28] = (2**32 - 16).to_bytes(4, "little")
    path = tmp_path / "liar.npz"
    path.write_bytes(bytes(data))
    peak, error = peak_bytes(lambda: read_npz(path))
    assert isinstance(error, InputError) and "more than the" in str(error)
    assert peak < 2**20
