"""File primitives every stage shares: bounded reading (gunzipped when needed) and atomic replacement."""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import tempfile
import zlib
from pathlib import Path

from gate.errors import UnreadableInputError

MAX_BYTES = 512 * 1024 * 1024
"""Refuse inputs above this size (uncompressed) rather than exhaust memory."""


def gunzip(data: bytes, origin: str) -> bytes:
    """`data` itself, or its decompressed content when it starts with the gzip magic; bounded."""
    if data[:2] != b"\x1f\x8b":
        return data
    try:
        # NOTE: BytesIO over bytes shares the buffer; no copy of the compressed input is made.
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
            out = gz.read(MAX_BYTES + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise UnreadableInputError(f"{origin}: damaged gzip file ({e})", hint="download it again") from e
    if len(out) > MAX_BYTES:
        raise UnreadableInputError(f"{origin}: larger than {MAX_BYTES // 2**20} MiB uncompressed")
    return out


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise UnreadableInputError(f"{path}: no such file", hint="check the path") from e
    except IsADirectoryError as e:
        raise UnreadableInputError(f"{path}: is a directory, expected a file") from e
    except OSError as e:
        raise UnreadableInputError(f"{path}: cannot read ({e.strerror or e})") from e
    data = gunzip(data, str(path))
    if len(data) > MAX_BYTES:
        raise UnreadableInputError(f"{path}: larger than {MAX_BYTES // 2**20} MiB")
    return data


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
