"""Shared fixtures: the wire-level AWS emulator, and a guard that keeps tests off the network."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.fixture import emulator

__all__ = ["emulator"]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection outside loopback fails the test: gate must never phone home in tests."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("::1", "localhost")) \
                and self.family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Each test its own default cache folder: the user's (~/.cache/gate) is shared by parallel workers and runs."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture
def umask() -> Iterator[None]:
    """Restores the process umask after a test that sets its own (starting from 022)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No user cache, no GitHub Actions variables, no colour: runs behave the same everywhere."""
    gate_vars = [name for name in os.environ if name.startswith("GATE_")]  # every option has one now
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "NO_COLOR", "FORCE_COLOR", *gate_vars):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GATE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


class EndlessFifo:
    """A FIFO at `path` that a thread fills with `count` chunks of `chunk` until the reader goes away:
    an input whose size says 0 and that never ends (a pipe, /dev/stdin)."""

    def __init__(self, path: Path, chunk: bytes, count: int) -> None:
        os.mkfifo(path)
        self.path, self.written = path, 0
        # NOTE: a daemon: if the reader never opens the FIFO, the writer blocks in open() forever
        self._thread = threading.Thread(target=self._produce, args=(chunk, count), daemon=True)

    def _produce(self, chunk: bytes, count: int) -> None:
        with contextlib.suppress(BrokenPipeError), self.path.open("wb") as out:
            for _ in range(count):
                out.write(chunk)
                self.written += len(chunk)

    def __enter__(self) -> EndlessFifo:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._thread.join(timeout=30)
