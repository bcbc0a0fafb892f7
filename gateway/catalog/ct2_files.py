"""What a CTranslate2 model folder says about itself, read without importing ctranslate2.

`model.bin` starts with a small header (binary version, spec name such as `WhisperSpec` or
`TransformerSpec`) followed by one header per weight (name, shape, dtype, byte count). Reading
the headers and seeking past the weights gives the architecture, the parameter count and the
storage precision in a few milliseconds, even for multi-gigabyte files.
"""

from __future__ import annotations

import json
import os
import struct
from collections import Counter
from pathlib import Path
from typing import BinaryIO

import msgspec

# ctranslate2/specs/model_spec.py: _dtype_to_type_id (binary version >= 4).
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
# Before binary version 4 only the item size was stored.
_DTYPE_BY_ITEM_SIZE = {1: "int8", 2: "float16", 4: "float32"}
_MAX_VARIABLES = 1_000_000  # a header claiming more is not a CTranslate2 model
_MB = 1024 * 1024


class ModelBinHeader(msgspec.Struct, kw_only=True, frozen=True):
    binary_version: int
    spec: str | None  # None before binary version 2
    parameters: int  # elements of every stored variable
    dtype: str  # the precision holding most of the bytes: "int8", "float16", ...


def is_ct2_model_dir(path: Path) -> bool:
    """A folder CTranslate2 can load: `model.bin` and `config.json` beside each other."""
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def folder_size_bytes(path: Path) -> int:
    """Bytes the folder's files occupy; links are followed and each file counted once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                stat = os.stat(os.path.join(root, name))  # follows links into a blob store
            except OSError:
                continue  # a broken link or a file removed while walking
            if (stat.st_dev, stat.st_ino) not in seen:
                seen.add((stat.st_dev, stat.st_ino))
                total += stat.st_size
    return total


def folder_size_mb(path: Path) -> float:
    return round(folder_size_bytes(path) / _MB, 1)


def read_json(path: Path) -> object:
    """The parsed file, or None when it is missing or not JSON."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def read_vocabulary(model_dir: Path, stems: tuple[str, ...]) -> list[str] | None:
    """The first of `<stem>.json` (a JSON list) or `<stem>.txt` (one token a line) found."""
    for stem in stems:
        doc = read_json(model_dir / f"{stem}.json")
        if isinstance(doc, list):
            return [str(token) for token in doc]
        try:
            return (model_dir / f"{stem}.txt").read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
    return None


def read_model_bin_header(path: Path) -> ModelBinHeader | None:
    """Spec, parameter count and precision of a `model.bin`; None if it cannot be read."""
    try:
        with path.open("rb") as f:
            return _parse(f)
    except (OSError, ValueError, struct.error, UnicodeDecodeError):
        return None


def _parse(f: BinaryIO) -> ModelBinHeader:
    (version,) = _unpack(f, "<I")
    if not 1 <= version <= 16:
        raise ValueError(f"unknown binary version {version}")
    spec = None
    if version >= 2:
        spec = _string(f)
        _unpack(f, "<I")  # spec revision
    (count,) = _unpack(f, "<I")
    if count > _MAX_VARIABLES:
        raise ValueError(f"implausible variable count {count}")
    parameters = 0
    bytes_by_dtype: Counter[str] = Counter()
    for _ in range(count):
        _string(f)  # variable name
        (rank,) = _unpack(f, "<B")
        dims = _unpack(f, f"<{rank}I") if rank else ()
        elements = 1
        for dim in dims:
            elements *= dim
        if version >= 4:
            type_id, num_bytes = _unpack(f, "<BI")
            dtype = _DTYPES[type_id] if type_id < len(_DTYPES) else f"type{type_id}"
        else:
            item_size, items = _unpack(f, "<BI")
            dtype, num_bytes = _DTYPE_BY_ITEM_SIZE.get(item_size, "unknown"), items * item_size
        parameters += elements
        bytes_by_dtype[dtype] += num_bytes
        f.seek(num_bytes, os.SEEK_CUR)  # skip the weights themselves
    dominant = bytes_by_dtype.most_common(1)[0][0] if bytes_by_dtype else "unknown"
    return ModelBinHeader(binary_version=version, spec=spec, parameters=parameters, dtype=dominant)


def _unpack(f: BinaryIO, fmt: str) -> tuple[int, ...]:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("model.bin ends inside a header")
    return struct.unpack(fmt, data)


def _string(f: BinaryIO) -> str:
    (length,) = _unpack(f, "<H")
    data = f.read(length)
    if len(data) != length:
        raise ValueError("model.bin ends inside a string")
    return data.rstrip(b"\0").decode("utf-8")
