"""A live run against the emulator reaches the same decisions as the dry run on the same data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.conftest import EXAMPLES
from tests.e2e.seed import seed_example
from tests.emulator import Emulator

pytestmark = pytest.mark.slow

FEEDS = ["--kev-catalog", str(EXAMPLES / "kev.json"), "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"),
         "--as-of", "2026-11-21", "--max-feed-age", "460d"]  # the bundled feeds are of 2025-08


def decisions(path: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    report = json.loads(path.read_text())
    return sorted((f["key"], f["decision"], tuple(f["matchedRules"])) for f in report["findings"])


def test_live_and_dry_run_agree(emulator: Emulator, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arn = seed_example(emulator)
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    live, dry, snap, again = (isolated_env / n for n in ("live.json", "dry.json", "snap.json", "again.json"))
    assert main(["check", "--image-build-version-arn", arn, *FEEDS, "--report", f"json={live}"]) \
        == ExitCode.VIOLATION
    assert main(["check", "--findings", str(EXAMPLES / "findings.json"),
                 "--finding-details", str(EXAMPLES / "inspector-findings.json"),
                 "--finding-details", str(EXAMPLES / "finding-details.json"),
                 *FEEDS, "--report", f"json={dry}"]) == ExitCode.VIOLATION
    assert decisions(live) == decisions(dry)
    assert len(decisions(live)) == 347
    assert emulator.violations == []

    # The snapshot of the same build re-evaluates offline to the same verdict and decisions.
    assert main(["fetch", "--image-build-version-arn", arn, "-o", str(snap)]) == 0
    calls = len(emulator.calls)
    assert main(["check", "--snapshot", str(snap), *FEEDS, "--report", f"json={again}"]) == ExitCode.VIOLATION
    assert len(emulator.calls) == calls  # offline: no AWS call at all
    assert decisions(again) == decisions(live)
