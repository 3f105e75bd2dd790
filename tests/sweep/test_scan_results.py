"""EC2 ScanResults as policy fields: `scan_age_days` and the fix dates, in `gate check` and `gate sweep` alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.emulator import Emulator, image_arn, image_scan_finding, pipeline_arn
from tests.sweep.fleet import write_feeds
from tests.sweep.test_sweep_e2e import aws, builds_of

pytestmark = pytest.mark.slow
__all__ = ["aws"]
POLICY = """version: 1
name: fresh-scans
rules:
  - id: stale-scan
    description: the AMI's last Inspector scan is older than 30 days
    when: scan_age_days > 30
    action: fail
  - id: fix-waiting
    when: fix_available_days > 14 and severity == "HIGH"
    action: fail
"""


def test_scan_age_and_fix_dates_judge_each_build(aws: Emulator, isolated_env: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    policy = isolated_env / "policy.yaml"
    policy.write_text(POLICY)
    pipeline = pipeline_arn("scans")
    fresh, stale, waiting, unscanned = (image_arn("scans", "1.0.0", b) for b in (1, 2, 3, 4))
    scans = {fresh: {"FindingScanDate": "2026-11-28T00:00:00Z"},
             stale: {"FindingScanDate": "2026-10-01T00:00:00Z"},
             waiting: {"FindingScanDate": "2026-11-30T00:00:00Z", "HighFixAvailableSince": "2026-11-01T00:00:00Z"},
             unscanned: None}
    for arn, results in scans.items():
        aws.add_image(arn, [image_scan_finding("CVE-2024-1000", "HIGH")], pipeline_arn=pipeline,
                      date_created="2026-10-01T00:00:00.000Z")
        aws.add_ami(Emulator.ami_of(arn), scan_results=results)
    feeds = write_feeds(isolated_env / "feeds")
    out = isolated_env / "f.json"
    assert main(["sweep", "--pipeline", pipeline, "--policy", str(policy), *feeds, "--report", f"json={out}"]) \
        == ExitCode.INCOMPLETE
    records = builds_of(out)
    assert [records[a]["status"] for a in (fresh, stale, waiting, unscanned)] == ["pass", "fail", "fail", "unjudged"]
    assert records[stale]["blocking"][0]["rules"] == ["stale-scan"]  # type: ignore[index]
    assert records[waiting]["blocking"][0]["rules"] == ["fix-waiting"]  # type: ignore[index]
    assert "has no ScanResults.FindingScanDate" in str(records[unscanned]["reason"])
    for arn, code in ((fresh, ExitCode.PASS), (stale, ExitCode.VIOLATION), (unscanned, ExitCode.INCOMPLETE)):
        assert main(["check", "--image-build-version-arn", arn, "--policy", str(policy), *feeds]) == code
    capsys.readouterr()
    findings = isolated_env / "findings.json"
    findings.write_text('{"findings": []}')
    assert main(["check", "--findings", str(findings), "--policy", str(policy), *feeds]) == ExitCode.INCOMPLETE
    assert "scan_age_days" in capsys.readouterr().err
    assert aws.violations == []
