"""Files in and out: model files (safetensors + a versioned JSON header) and data readers.

Everything here is data, never code: model files are safetensors, arrays come
from ``.npz`` without pickle and from FANN's ``.data`` files, tables from CSV/TSV/Parquet
through pandas.
pandas and pyarrow are imported only when a table is read.
"""

from .atomic import atomic_open, atomic_write_bytes, atomic_write_text
from .data import TABLE_FORMATS, read_table
from .fann import read_fann, write_fann
from .model_file import FORMAT, FORMAT_VERSION, LoadedModel, load_model, model_header, save_model
from .npz import read_npz
from .safetensors import read_safetensors, read_safetensors_header, write_safetensors

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "LoadedModel",
    "TABLE_FORMATS",
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_text",
    "load_model",
    "model_header",
    "read_fann",
    "read_npz",
    "read_safetensors",
    "read_safetensors_header",
    "read_table",
    "save_model",
    "write_fann",
    "write_safetensors",
]
