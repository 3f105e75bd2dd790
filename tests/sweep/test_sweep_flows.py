"""A sweep against its earlier self, in shards, and acting on failing builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.emulator import Emulator
from tests.sweep.fleet import CRITICAL_FIX, KEV_LATER, REGIONS, seed_fleet, write_feeds
from tests.sweep.test_sweep_e2e import aws, builds_of

pytestmark = pytest.mark.slow
__all__ = ["aws"]
ALL = ["--all-pipelines", *(f"--region={r}" for r in REGIONS)]


def test_a_cve_joining_kev_makes_exactly_its_passing_builds_newly_failing(aws: Emulator, isolated_env: Path) -> None:
    fleet = seed_fleet(aws)
    before, after = isolated_env / "before.json", isolated_env / "after.json"
    assert main(["sweep", *ALL, *write_feeds(isolated_env / "f1"), "--report", f"json={before}"]) \
        == ExitCode.VIOLATION
    feeds = write_feeds(isolated_env / "f2", kev=("CVE-2023-9999", KEV_LATER), epss={KEV_LATER: 0.61})
    aws.add_vulnerability(KEV_LATER, {"epss": {"score": 0.61}, "source": "NVD"})  # Inspector's EPSS moved too
    assert main(["sweep", *ALL, *feeds, "--no-cache", "--previous", str(before), "--report", f"json={after}",
                 "--report", f"markdown={isolated_env / 'after.md'}"]) == ExitCode.VIOLATION
    swept = builds_of(after)
    for arn in fleet.builds:
        change = swept[arn]["change"]
        if arn in fleet.holding_kev_later and arn not in fleet.failing:
            assert change == "newly failing", arn
            assert any(f"{KEV_LATER} now blocks (known-exploited, likely-exploited); joined KEV on 2026-11-29, "
                       "EPSS 0.08 → 0.61" == c
                       for c in swept[arn]["changes"]), swept[arn]["changes"]  # type: ignore[union-attr]
        elif arn in fleet.failing:
            assert change == "still failing", arn
        else:
            assert change == "unchanged", arn
    assert swept[fleet.deleted]["change"] is None
    assert "newly failing" in (isolated_env / "after.md").read_text()


def test_shards_merged_equal_one_unsharded_sweep(aws: Emulator, isolated_env: Path) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    whole = isolated_env / "whole.json"
    assert main(["sweep", *ALL, *feeds, "--report", f"json={whole}"]) == ExitCode.VIOLATION
    parts = [isolated_env / f"part{i}.json" for i in (1, 2, 3)]
    for i, part in enumerate(parts, start=1):
        assert main(["sweep", *ALL, *feeds, "--shard", f"{i}/3", "--report", f"json={part}"]) in (0, 1)
    merged = isolated_env / "merged.json"
    assert main(["sweep", "merge", *map(str, parts), "--report", f"json={merged}"]) == ExitCode.VIOLATION
    assert builds_of(merged) == builds_of(whole)
    assert all(builds_of(p) for p in parts)  # the hash spreads 13 builds over every shard
    assert main(["sweep", "merge", str(parts[0]), str(parts[1]), "--report", f"json={merged}"]) == ExitCode.USAGE
    assert main(["sweep", "merge", str(parts[0]), str(parts[0]), str(parts[2])]) == ExitCode.USAGE


def test_deprecate_only_with_apply_and_exactly_the_failing_amis(aws: Emulator, isolated_env: Path) -> None:
    fleet = seed_fleet(aws)
    for arn in [*fleet.builds, fleet.deleted]:
        aws.add_ami(Emulator.ami_of(arn), region=arn.split(":")[3])
    feeds = write_feeds(isolated_env / "feeds")
    planned = isolated_env / "planned.json"
    assert main(["sweep", *ALL, *feeds, "--deprecate", "--report", f"json={planned}"]) == ExitCode.VIOLATION
    assert aws.count("EnableImageDeprecation") == 0
    records = builds_of(planned)
    for arn in fleet.builds:
        statuses = [a["status"] for a in records[arn]["actions"]]  # type: ignore[union-attr]
        assert statuses == (["planned"] if arn in fleet.failing else [])
    applied = isolated_env / "applied.json"
    assert main(["sweep", *ALL, *feeds, "--deprecate", "--apply", "--report", f"json={applied}"]) \
        == ExitCode.VIOLATION
    deprecated = {arn for arn in [*fleet.builds, fleet.deleted] if "DeprecationTime" in aws.ami(Emulator.ami_of(arn))}
    assert deprecated == fleet.failing
    assert aws.count("EnableImageDeprecation") == len(fleet.failing)
    assert all(a["status"] == "done" for arn in fleet.failing for a in builds_of(applied)[arn]["actions"])  # type: ignore[union-attr]
    assert CRITICAL_FIX in {b["vulnerabilityId"] for arn in fleet.failing for b in records[arn]["blocking"]}  # type: ignore[union-attr]
    assert main(["sweep", *ALL, *feeds, "--apply"]) == ExitCode.USAGE


def test_revoke_watermark_only_with_apply_and_exactly_the_failing_amis(aws: Emulator, isolated_env: Path) -> None:
    fleet = seed_fleet(aws)
    key = f"{aws.account}:gate-passed"
    for arn in fleet.builds:
        aws.add_ami(Emulator.ami_of(arn), region=arn.split(":")[3], watermarks=[key])
    feeds = write_feeds(isolated_env / "feeds")
    planned = isolated_env / "planned.json"
    assert main(["sweep", *ALL, *feeds, "--revoke-watermark", "gate-passed", "--report", f"json={planned}"]) \
        == ExitCode.VIOLATION
    assert aws.count("DetachImageWatermark") == 0
    records = builds_of(planned)
    for arn in fleet.builds:
        assert [a["status"] for a in records[arn]["actions"]] == (["planned"] if arn in fleet.failing else [])  # type: ignore[union-attr]
    assert main(["sweep", *ALL, *feeds, "--revoke-watermark", "gate-passed", "--apply"]) == ExitCode.VIOLATION
    marked = {arn for arn in fleet.builds if aws.ami(Emulator.ami_of(arn)).get("ImageWatermarks")}
    assert marked == set(fleet.builds) - fleet.failing
    assert aws.count("GetCallerIdentity") == 2  # once per sweep, not once per build
    assert main(["sweep", *ALL, *feeds, "--revoke-watermark", "no"]) == ExitCode.USAGE


@pytest.mark.parametrize("state", ["DELETED", "DISABLED", "FAILED", "CANCELLED", "BUILDING", "DEPRECATED"])
def test_image_states_are_skipped_with_the_reason_or_judged_when_deprecated(aws: Emulator, isolated_env: Path,
                                                                           state: str) -> None:
    from tests.emulator import image_arn, image_scan_finding, pipeline_arn

    pipeline = pipeline_arn("states")
    arn = image_arn("states", "1.0.0", 1)
    aws.add_image(arn, [image_scan_finding("CVE-2024-1000", "HIGH")], pipeline_arn=pipeline, status=state,
                  date_created="2026-11-01T00:00:00.000Z")
    out = isolated_env / "f.json"
    listing = isolated_env / "builds.txt"
    listing.write_text(arn + "\n")
    for targets in (["--pipeline", pipeline], ["--builds", str(listing)]):
        assert main(["sweep", *targets, *write_feeds(isolated_env / "feeds"), "--report", f"json={out}"]) \
            == ExitCode.PASS
        record = builds_of(out)[arn]
        if state == "DEPRECATED":
            assert (record["status"], record["deprecated"]) == ("pass", True)
            assert "deprecated" in " ".join(record["notes"])  # type: ignore[arg-type]
        else:
            assert record["status"] == "skipped"
            assert state in str(record["reason"])
    assert aws.count("ListImageScanFindings") == (2 if state == "DEPRECATED" else 0)


def test_a_progress_line_on_a_terminal_only(aws: Emulator, isolated_env: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    assert main(["sweep", *ALL, *feeds]) == ExitCode.VIOLATION
    out = capsys.readouterr()
    assert "swept" not in out.err
    assert len(out.out.splitlines()) <= 80 and "13 builds: 0 unjudged, 2 fail, 10 pass, 1 skipped" in out.out
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["sweep", *ALL, *feeds]) == ExitCode.VIOLATION
    err = capsys.readouterr().err
    assert "gate: swept 10 builds:" in err and "gate: swept 13 builds: 0 unjudged, 2 fail, 10 pass, 1 skipped" in err
