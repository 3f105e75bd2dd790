"""File primitives every stage shares: bounded reading (gunzipped when needed) and writing outputs as users expect."""

from __future__ import annotations

import contextlib
import errno
import gzip
import importlib
import io
import os
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from gate.errors import GateError, UnreadableInputError

MAX_BYTES = 512 * 1024 * 1024
"""Refuse inputs above this size (uncompressed) rather than exhaust memory."""


def package_folder(package: str) -> Path:
    """The folder of one of gate's packages (`gate.policies`, `gate.schemas`…), where its data files are.

    gate is installed as files (a wheel or an editable checkout), never zipped, so a path is
    enough; `importlib.resources` would add about 14 ms of imports to every command.
    """
    folders = [Path(f) for f in getattr(importlib.import_module(package), "__path__", [])]
    if len(folders) != 1 or not folders[0].is_dir():  # NOTE: in a zip archive, the "folder" is inside a file
        raise GateError(f"{package}: gate's package data is not one folder ({', '.join(map(str, folders))})",
                        hint="install gate with pip, as a wheel or an editable checkout, not from a zip archive")
    return folders[0]


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
    return gunzip(read_raw(path), str(path))


def read_raw(path: Path) -> bytes:
    """The file's bytes as stored (still compressed), bounded."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)  # NOTE: a pipe or /dev/zero never ends; one byte more says "too large"
    except FileNotFoundError as e:
        raise UnreadableInputError(f"{path}: no such file", hint="check the path") from e
    except IsADirectoryError as e:
        raise UnreadableInputError(f"{path}: is a directory, expected a file") from e
    except OSError as e:
        raise UnreadableInputError(f"{path}: cannot read ({e.strerror or e})") from e
    if len(data) > MAX_BYTES:
        raise UnreadableInputError(f"{path}: larger than {MAX_BYTES // 2**20} MiB")
    return data


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` where `path` points, as a user expects of any program's output file (see `atomic_output`)."""
    with atomic_output(path) as out:
        out.write(data)


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write `path` through, a piece at a time, with one outcome for the reader.

    A regular file (or a new one) is replaced in one step by renaming a finished temporary file
    over it when the block completes, so a reader never sees half a file, and a block that raises
    leaves no temporary file; the new file's mode comes from the umask (0644 under umask 022), like
    any file the user creates. A symlink is followed. A FIFO, a character device or `/dev/stdout` is
    written in place: replacing it would leave the reader with nothing (and, as root, replace the
    device node).
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(path))
    if mode is not None and not stat.S_ISREG(mode):
        with path.open("wb") as out:
            yield out
        return
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{os.urandom(8).hex()}.tmp"
    # NOTE: os.open with 0o666 lets the kernel apply the umask; mkstemp would force 0600,
    # and reading the umask (os.umask) briefly changes it for every thread. An existing name
    # (a 64-bit collision) raises here, before the block that would remove someone else's file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.replace(tmp, target)
    except BaseException:
        # NOTE: also on Cancelled (a signal): a killed run leaves no temporary file behind.
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
