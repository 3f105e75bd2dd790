"""The suite collects the same test ids in every process, so pytest-xdist's workers agree on what to run."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _collected(seed: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PYTHONHASHSEED"))}
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                          "-n", "0"], cwd=ROOT, env={**env, "PYTHONHASHSEED": seed},
                         capture_output=True, text=True, check=True, timeout=300)
    return [line for line in out.stdout.splitlines() if "::" in line]


@pytest.mark.slow
def test_two_collections_in_fresh_processes_give_the_same_ids() -> None:
    # NOTE: each collection takes seconds, so an id made from the clock (a gzip header) differs between them,
    # and the hash seeds differ, so an id made from a set's order does too.
    first, second = _collected("1"), _collected("2")
    assert len(first) > 1000
    assert first == second
    assert len(set(first)) == len(first)
