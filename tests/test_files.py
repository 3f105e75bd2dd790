"""gate/files.py: outputs land as users expect: umask modes, FIFOs in place, symlinks followed, no stray temp files."""

from __future__ import annotations

import os
import stat
import threading
import zipfile
from pathlib import Path

import pytest

from gate import files
from gate.cli.signals import Cancelled
from gate.errors import ExitCode, GateError, UnreadableInputError
from gate.files import atomic_write, package_folder
from tests.conftest import EndlessFifo


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_new_files_get_their_mode_from_the_umask(mask: int, mode: int, tmp_path: Path, umask: None) -> None:
    os.umask(mask)
    path = tmp_path / "deep" / "cache.json"
    atomic_write(path, b"x")
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert path.read_bytes() == b"x"


def test_fifo_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    atomic_write(fifo, b"a" * 200_000)  # larger than a pipe buffer: the reader must drain it
    reader.join()
    assert got == [b"a" * 200_000]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_symlink_target_is_replaced_not_the_link(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_bytes(b"old")
    link = tmp_path / "link"
    link.symlink_to(target)
    atomic_write(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        atomic_write(tmp_path, b"x")


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), Cancelled(15)], ids=["ENOSPC", "SIGTERM"])
def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(error: BaseException, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(b"old")

    def failing_replace(src: object, dst: object) -> None:
        raise error

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(type(error)):
        atomic_write(path, b"new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    assert path.read_bytes() == b"old"


def test_package_data_is_found_in_its_folder() -> None:
    assert (package_folder("gate.schemas") / "policy-v1.schema.json").is_file()
    assert (package_folder("gate.policies") / "default.yaml").is_file()


def _package(root: Path, name: str) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("")


def test_package_data_that_is_not_one_folder_is_one_clear_error(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # gate run from a zip archive (a zipapp, a zipped egg): the package's "folder" is inside a file.
    archive = tmp_path / "gate.pyz"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped_gate/__init__.py", "")
        z.writestr("zipped_gate/policies/__init__.py", "")
        z.writestr("zipped_gate/policies/default.yaml", "version: 1\n")
    # A namespace package spread over two folders (no __init__.py): which folder's files are gate's?
    for part in ("a", "b"):
        (tmp_path / part / "spread_gate").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(archive))
    monkeypatch.syspath_prepend(str(tmp_path / "a"))
    monkeypatch.syspath_prepend(str(tmp_path / "b"))
    for package in ("zipped_gate.policies", "spread_gate"):
        with pytest.raises(GateError) as error:
            package_folder(package)
        assert error.value.exit_code == ExitCode.INCOMPLETE
        assert error.value.diagnostics().startswith(f"{package}: gate's package data is not one folder (")
        assert error.value.diagnostics().endswith("(install gate with pip, as a wheel or an editable checkout, "
                                                  "not from a zip archive)")


def test_an_endless_input_is_read_only_up_to_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `--findings /dev/stdin` from a producer that never stops, a FIFO, /dev/zero: the size check came
    # after reading everything, so such an input exhausted memory ('internal error: MemoryError').
    monkeypatch.setattr(files, "MAX_BYTES", 1000)
    # NOTE: 10 MiB on offer, if anyone read it all
    with (EndlessFifo(tmp_path / "findings.json", b"[" * 4096, 2560) as fifo,
          pytest.raises(UnreadableInputError, match="larger than")):
        files.read_raw(fifo.path)
    assert fifo.written < 1024 * 1024  # the pipe's buffer at most, not the 10 MiB on offer
