"""Files given as a table that are something else, named from their first bytes.

Without this, a gzip file or a UTF-16 export read as CSV fails as "not UTF-8 text"
(with advice to convert it from Latin-1, which makes garbage), and a model file given
where data is expected gets advice to rename it. :func:`check_table_bytes` says what
the file is and what to do instead; gzip-compressed text is fine (it is read as is).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from .._reading import file_kind
from ..exceptions import InputError
from ._text import GZIP_ERRORS, open_binary

__all__ = ["check_table_bytes"]

_HEAD = 64
_SPREADSHEET = "save it as CSV (Excel: File > Save As > 'CSV UTF-8'; LibreOffice: Save As > CSV)"
_NOT_TEXT = {
    "safetensors": (
        "a model file (safetensors), not data",
        "On the command line the model comes first: deltarule predict MODEL DATA "
        "(or evaluate MODEL DATA).",
    ),
    "npy": (
        "a single NumPy array (.npy), not a table",
        "Save the arrays with np.savez(path, X=X, y=y) and pass that .npz file.",
    ),
    "ole": ("an old Office file (an Excel 97-2003 .xls workbook?), not text", _SPREADSHEET),
    "utf-16": (
        "UTF-16 text (Excel's 'Unicode Text'), not UTF-8",
        "Re-save it as UTF-8 (Excel: 'CSV UTF-8'), or convert it: "
        "iconv -f UTF-16 -t UTF-8 old.csv > new.csv.",
    ),
    "utf-32": (
        "UTF-32 text, not UTF-8",
        "Convert it: iconv -f UTF-32 -t UTF-8 old.csv > new.csv.",
    ),
}


def _zip_description(file: Path) -> tuple[str, str]:
    """What a zip archive holds, and what to do with it (from its list of names only)."""
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError):
        return "a damaged zip archive", "Pass the data file itself."
    if any(name.endswith(".npy") for name in names):
        return "an .npz archive of NumPy arrays", "Name it with the extension .npz."
    if "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names):
        return "an Excel workbook (.xlsx), not text", f"Open it and {_SPREADSHEET}."
    if "mimetype" in names and "content.xml" in names:
        return "an OpenDocument file (.ods?), not text", f"Open it and {_SPREADSHEET}."
    held = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (
        f"a zip archive (holding {held or 'nothing'})",
        "Unzip it (unzip FILE) and pass the data file inside.",
    )


def _ends_with(file: Path, magic: bytes) -> bool:
    with open(file, "rb") as handle:
        handle.seek(max(file.stat().st_size - len(magic), 0))
        return handle.read() == magic


def check_table_bytes(file: Path, expected: str, parquet: bool) -> bool:
    """Refuse a file whose first bytes say it is not the table it is taken for.

    Parameters
    ----------
    file : Path
        A readable, non-empty file.
    expected : str
        What the caller reads, for the messages.
    parquet : bool
        Whether the file is read as Parquet (whose magic is then expected).

    Returns
    -------
    bool
        True when the file is gzip-compressed text (to be decompressed as it is read).

    Raises
    ------
    InputError
        Naming what the file is (a model file, a zip archive or workbook, UTF-16 text, a
        Parquet file given as text, a damaged gzip file...) and how to pass the data.
    """
    with open(file, "rb") as handle:
        head = handle.read(_HEAD)
    kind, where = file_kind(head, file.stat().st_size), ""
    if kind == "parquet" and not parquet and not _ends_with(file, b"PAR1"):
        kind = None  # a text header that happens to start with PAR1
    compressed = kind == "gzip" and not parquet
    if compressed:
        try:
            with open_binary(file) as stream:
                inner = stream.read(_HEAD)
        except GZIP_ERRORS as exc:
            raise InputError(
                f"{str(file)!r} is gzip-compressed but damaged ({exc}); expected {expected}. "
                "Compress the file again (gzip -k data.csv), or pass it uncompressed."
            ) from None
        kind, where = file_kind(inner), " (inside its gzip compression)"
    if kind is None or (kind == "parquet" and parquet):
        return compressed
    if kind == "zip":
        what, fix = _zip_description(file) if not where else ("a zip archive", "Unzip it.")
    elif kind == "gzip":
        what, fix = "gzip-compressed", "Decompress it (gunzip -k FILE), or name it .csv.gz."
    elif kind == "parquet":
        what, fix = "a Parquet file", "Name it with the extension .parquet."
    else:
        what, fix = _NOT_TEXT[kind]
    raise InputError(f"{str(file)!r} is {what}{where}; expected {expected}. {fix}")
