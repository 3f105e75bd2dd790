"""`gate sweep` over a fleet in the emulator: the same decisions `gate check` reaches build by build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.emulator import Emulator
from tests.sweep.fleet import CRITICAL_FIX, KEV_LATER, REGIONS, SHARED, seed_fleet, write_feeds

pytestmark = pytest.mark.slow


@pytest.fixture
def aws(emulator: Emulator, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    return emulator


def builds_of(path: Path) -> dict[str, dict[str, object]]:
    return {b["build"]: b for b in json.loads(path.read_text())["builds"]}


def test_sweep_matches_check_build_by_build(aws: Emulator, isolated_env: Path) -> None:
    fleet = seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    out = isolated_env / "fleet.json"
    code = main(["sweep", "--all-pipelines", *(f"--region={r}" for r in REGIONS), *feeds,
                 "--concurrency", "3", "--report", f"json={out}"])
    assert code == ExitCode.VIOLATION
    swept = builds_of(out)
    assert set(swept) == {*fleet.builds, fleet.deleted}
    assert swept[fleet.deleted]["status"] == "skipped"
    assert "DELETED" in str(swept[fleet.deleted]["reason"])
    for arn in fleet.builds:
        report = isolated_env / "check.json"
        expected = ExitCode.VIOLATION if arn in fleet.failing else ExitCode.PASS
        assert main(["check", "--image-build-version-arn", arn, *feeds, "--report", f"json={report}"]) == expected
        checked = json.loads(report.read_text())
        assert swept[arn]["status"] == checked["verdict"]
        blocking = sorted({f["vulnerabilityId"] for f in checked["findings"] if f["decision"] == "fail"})
        assert [b["vulnerabilityId"] for b in swept[arn]["blocking"]] == blocking  # type: ignore[union-attr]
        counts = swept[arn]["counts"]
        assert counts == checked["summary"] | {}  # type: ignore[comparison-overlap]
    assert aws.violations == []


def test_inspector_is_asked_once_per_distinct_cve(aws: Emulator, isolated_env: Path) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    out = isolated_env / "fleet.json"
    assert main(["sweep", "--all-pipelines", *(f"--region={r}" for r in REGIONS), *feeds, "--no-cache",
                 "--concurrency", "4", "--report", f"json={out}"]) == ExitCode.VIOLATION
    searched = [c.params["filterCriteria"]["vulnerabilityIds"][0] for c in aws.calls
                if c.operation == "SearchVulnerabilities"]
    assert sorted(searched) == sorted(set(searched))
    assert {SHARED, KEV_LATER, CRITICAL_FIX} <= set(searched)
    assert aws.count("ListFindings") == 0  # nothing per build or per resource scope
    stats = json.loads(out.read_text())["stats"]
    assert stats["calls inspector2:SearchVulnerabilities"] == len(searched)


def test_an_on_demand_scan_build_is_swept_as_check_reads_it(aws: Emulator, isolated_env: Path) -> None:
    from tests.e2e.seed_ondemand import seed_ondemand
    from tests.e2e.test_live_matches_dry_run import FEEDS

    arn, _ = seed_ondemand(aws)
    listing = isolated_env / "builds.txt"
    listing.write_text(arn + "\n")
    swept, checked = isolated_env / "fleet.json", isolated_env / "check.json"
    assert main(["sweep", "--builds", str(listing), *FEEDS, "--report", f"json={swept}"]) == ExitCode.VIOLATION
    assert main(["check", "--image-build-version-arn", arn, *FEEDS, "--report", f"json={checked}"]) \
        == ExitCode.VIOLATION
    record, report = builds_of(swept)[arn], json.loads(checked.read_text())
    assert record["counts"] == report["summary"]
    assert [b["vulnerabilityId"] for b in record["blocking"]] == sorted(  # type: ignore[union-attr]
        {f["vulnerabilityId"] for f in report["findings"] if f["decision"] == "fail"})
    assert aws.count("GetImageFindings") == 2 and aws.violations == []
