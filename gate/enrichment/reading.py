"""Reading user-supplied files with one clear error when they cannot be read."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from gate.errors import UnreadableInputError

MAX_BYTES = 512 * 1024 * 1024
"""Refuse inputs above this size (uncompressed) rather than exhaust memory."""


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
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=_BytesReader(data)) as gz:
                data = gz.read(MAX_BYTES + 1)
        except (OSError, EOFError, zlib.error) as e:
            raise UnreadableInputError(f"{path}: damaged gzip file ({e})",
                                       hint="download it again") from e
    if len(data) > MAX_BYTES:
        raise UnreadableInputError(f"{path}: larger than {MAX_BYTES // 2**20} MiB")
    return data


class _BytesReader:
    """Minimal file object over bytes, so gzip can read without a second copy of the input."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size is None or size < 0 else self._pos + size
        chunk = self._data[self._pos:end].tobytes()
        self._pos += len(chunk)
        return chunk

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._data)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        """Nothing to release."""
