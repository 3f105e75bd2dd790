"""The ``emulator`` pytest fixture: a running Emulator, stopped after the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .emulator import Emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A running Emulator; its ``client()``s are closed and its server stopped afterwards."""
    with Emulator() as emu:
        yield emu
