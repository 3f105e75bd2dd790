"""Shared helpers for report tests: golden-file comparison and the reference schemas."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
DATA = Path(__file__).parent.parent / "data"


class Golden:
    """Compares text with a file in `golden/`; `GATE_UPDATE_GOLDEN=1` rewrites the file instead."""

    def __init__(self) -> None:
        # NOTE: read now, before a fixture such as isolated_env clears every GATE_ variable
        self.update = os.environ.get("GATE_UPDATE_GOLDEN") == "1"

    def check(self, name: str, text: str) -> None:
        path = GOLDEN / name
        if self.update:
            path.write_bytes(text.encode("utf-8"))
            return
        assert path.exists(), f"{path} is missing; run with GATE_UPDATE_GOLDEN=1 once and review it"
        assert text == path.read_bytes().decode("utf-8")


@pytest.fixture
def golden() -> Golden:
    return Golden()
