"""`gate sweep` attacked: every refusal and fault has its exit code, and partial results are still written."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.emulator import Emulator, Faults, image_arn, image_scan_finding, pipeline_arn
from tests.sweep.fleet import REGIONS, seed_fleet, write_feeds
from tests.sweep.test_sweep_e2e import aws, builds_of

pytestmark = pytest.mark.slow
__all__ = ["aws"]
ALL = ["--all-pipelines", *(f"--region={r}" for r in REGIONS)]
HOSTILE = "\x1b]0;pwned\x07<script>alert(1)</script>\n::error::fake|**bold**"


def sweep(*args: str) -> int:
    return main(["sweep", *args])


def test_one_builds_unreadable_scan_is_that_build_unjudged_exit_3(aws: Emulator, isolated_env: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    fleet = seed_fleet(aws)
    broken = image_arn("web-us-0", "2.0.0", 1)
    aws.add_image(broken, [image_scan_finding("CVE-2024-1000")], pipeline_arn=fleet.pipelines[0],
                  scan_states=["FAILED"], scan_reason=HOSTILE, date_created="2026-11-01T00:00:00.000Z")
    feeds = write_feeds(isolated_env / "feeds")
    out, md, html = (isolated_env / n for n in ("f.json", "f.md", "f.html"))
    capsys.readouterr()
    assert sweep(*ALL, *feeds, "--report", f"json={out}", "--report", f"markdown={md}",
                 "--report", f"html={html}") == ExitCode.INCOMPLETE
    records = builds_of(out)
    assert records[broken]["status"] == "unjudged"
    assert "FAILED" in str(records[broken]["reason"])
    assert {records[b]["status"] for b in fleet.failing} == {"fail"}  # the others were judged all the same
    err = capsys.readouterr().err
    assert f"not judged: {broken}" in err
    assert "\x1b" not in err and "\n::error::" not in err
    assert "<script>" not in html.read_text() and "\x1b" not in html.read_text()
    assert "<script>" not in md.read_text() and "\x1b" not in md.read_text()
    assert sweep(*ALL, *feeds, "--allow-unjudged") == ExitCode.VIOLATION


def test_a_bad_builds_line_is_exit_2_naming_it_before_any_call(aws: Emulator, isolated_env: Path,
                                                              capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    good = image_arn("web", "1.0.0", 1)
    listing = isolated_env / "builds.txt"
    listing.write_text(f"# fleet\n{good}\n\n{good}x\n")
    assert sweep("--builds", str(listing), *write_feeds(isolated_env / "feeds")) == ExitCode.USAGE
    assert "line 4" in capsys.readouterr().err
    assert aws.calls == []
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{good}\nnot-an-arn\x1b[2J\n"))
    assert sweep("--builds", "-", *write_feeds(isolated_env / "feeds")) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "- line 2" in err and "\x1b" not in err


def test_builds_named_by_arn_are_judged_and_a_deleted_one_skipped(aws: Emulator, isolated_env: Path) -> None:
    fleet = seed_fleet(aws)
    listing = isolated_env / "builds.txt"
    listing.write_text("\n".join([fleet.builds[0], fleet.deleted, fleet.builds[0]]) + "\n")
    out = isolated_env / "f.json"
    assert sweep("--builds", str(listing), *write_feeds(isolated_env / "feeds"), "--report", f"json={out}") in (0, 1)
    records = builds_of(out)
    assert set(records) == {fleet.builds[0], fleet.deleted}
    assert records[fleet.deleted]["status"] == "skipped"
    assert records[fleet.builds[0]]["pipeline"] == fleet.pipelines[0]


@pytest.mark.parametrize("faults", [
    Faults(throttle_first={"SearchVulnerabilities": 3}),
    Faults(throttle_first={"ListImagePipelineImages": 2, "GetImage": 2}),
], ids=["inspector-throttled", "imagebuilder-throttled"])
def test_throttling_is_retried_and_the_sweep_completes(aws: Emulator, isolated_env: Path, faults: Faults) -> None:
    fleet = seed_fleet(aws)
    aws.faults = faults
    out = isolated_env / "f.json"
    assert sweep(*ALL, *write_feeds(isolated_env / "feeds"), "--no-cache", "--report", f"json={out}") \
        == ExitCode.VIOLATION
    assert {r["status"] for r in builds_of(out).values()} == {"pass", "fail", "skipped"}
    assert len(builds_of(out)) == len(fleet.builds) + 1


def test_inspector_access_denied_leaves_every_build_unjudged_exit_3(aws: Emulator, isolated_env: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    seed_fleet(aws)
    aws.faults = Faults(forbidden=frozenset({"SearchVulnerabilities"}))
    out = isolated_env / "f.json"
    assert sweep(*ALL, *write_feeds(isolated_env / "feeds"), "--no-cache", "--report", f"json={out}") \
        == ExitCode.INCOMPLETE
    statuses = {r["status"] for r in builds_of(out).values()}
    assert statuses == {"unjudged", "skipped"}
    assert "inspector2:SearchVulnerabilities" in capsys.readouterr().err


def test_a_listing_denied_stops_the_sweep_exit_3_with_partial_results(aws: Emulator, isolated_env: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    fleet = seed_fleet(aws)
    aws.faults = Faults(forbidden=frozenset({"ListImagePipelines"}))
    listing = isolated_env / "builds.txt"
    listing.write_text(fleet.builds[0] + "\n")
    out = isolated_env / "f.json"
    assert sweep("--builds", str(listing), *ALL, *write_feeds(isolated_env / "feeds"), "--report", f"json={out}") \
        == ExitCode.INCOMPLETE
    doc = json.loads(out.read_text())
    assert [b["build"] for b in doc["builds"]] == [fleet.builds[0]]
    assert any("stopped after 1 builds" in n for n in doc["notes"])
    assert "imagebuilder:ListImagePipelines" in capsys.readouterr().err


def test_rules_a_sweep_cannot_answer_are_refused_before_any_call(aws: Emulator, isolated_env: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    policy = isolated_env / "p.yaml"
    policy.write_text("version: 1\nname: risky\nrules:\n  - id: risk\n    when: risk_score > 5\n    action: fail\n")
    assert sweep("--pipeline", pipeline_arn("x"), "--policy", str(policy), *write_feeds(isolated_env / "feeds")) \
        == ExitCode.INCOMPLETE
    assert "risk_score" in capsys.readouterr().err
    assert aws.calls == []


def test_stale_feeds_are_refused_before_any_call(aws: Emulator, isolated_env: Path) -> None:
    feeds = write_feeds(isolated_env / "feeds")
    feeds[feeds.index("--as-of") + 1] = "2027-06-01"
    assert sweep("--pipeline", pipeline_arn("x"), *feeds) == ExitCode.INCOMPLETE
    assert aws.calls == []


@pytest.mark.parametrize(("args", "code"), [
    (["--all-pipelines"], ExitCode.USAGE),
    (["--region", "us-east-1", "--pipeline", pipeline_arn("x")], ExitCode.USAGE),
    (["--pipeline", "arn:aws:imagebuilder:us-east-1:123456789012:image/x/1.0.0/1"], ExitCode.USAGE),
    (["--pipeline", pipeline_arn("x"), "--shard", "4/3"], ExitCode.USAGE),
    (["--pipeline", pipeline_arn("x"), "--shard", "0/3"], ExitCode.USAGE),
    (["--pipeline", pipeline_arn("x"), "--concurrency", "0"], ExitCode.USAGE),
    (["--pipeline", pipeline_arn("x"), "--since", "forever"], ExitCode.USAGE),
    (["--pipeline", pipeline_arn("x"), "--apply"], ExitCode.USAGE),
    (["--pipeline", pipeline_arn("x"), "--report", "sarif=x.sarif"], ExitCode.USAGE),
    ([], ExitCode.USAGE),
], ids=["all-pipelines-without-region", "region-without-all-pipelines", "pipeline-not-a-pipeline", "shard-beyond",
        "shard-zero", "concurrency-zero", "bad-since", "apply-alone", "sarif-not-offered", "no-targets"])
def test_usage_errors_are_exit_2_before_any_call(aws: Emulator, isolated_env: Path, args: list[str],
                                                 code: ExitCode) -> None:
    assert sweep(*args, *write_feeds(isolated_env / "feeds")) == code
    assert aws.calls == []


def test_previous_that_is_not_a_report_is_exit_2(aws: Emulator, isolated_env: Path) -> None:
    bad = isolated_env / "prev.json"
    bad.write_text(json.dumps({"schema": "gate-sweep/1", "builds": [{"build": 1}]}))
    assert sweep("--pipeline", pipeline_arn("x"), *write_feeds(isolated_env / "feeds"), "--previous", str(bad)) \
        == ExitCode.USAGE
    bad.write_text("{\"verdict\": \"maybe\"}")
    assert sweep("--pipeline", pipeline_arn("x"), *write_feeds(isolated_env / "feeds"), "--previous", str(bad)) \
        == ExitCode.USAGE
    assert aws.calls == []


def test_merge_refuses_what_is_not_one_whole_sweep(aws: Emulator, isolated_env: Path) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    parts = [isolated_env / f"p{i}.json" for i in (1, 2)]
    for i, part in enumerate(parts, start=1):
        sweep(*ALL, *feeds, "--shard", f"{i}/2", "--report", f"json={part}")
    whole = isolated_env / "whole.json"
    sweep(*ALL, *feeds, "--report", f"json={whole}")
    other = isolated_env / "other.json"
    sweep(*ALL, *feeds, "--shard", "1/3", "--report", f"json={other}")
    corrupt = isolated_env / "corrupt.json"
    corrupt.write_text(parts[1].read_text()[:-40])
    assert main(["sweep", "merge", str(parts[0])]) == ExitCode.USAGE  # 2/2 missing
    assert main(["sweep", "merge", str(parts[0]), str(parts[0])]) == ExitCode.USAGE  # overlapping
    assert main(["sweep", "merge", str(parts[0]), str(other)]) == ExitCode.USAGE  # different N
    assert main(["sweep", "merge", str(parts[0]), str(whole)]) == ExitCode.USAGE  # not a shard
    assert main(["sweep", "merge", str(parts[0]), str(corrupt)]) == ExitCode.USAGE  # cut short
    assert main(["sweep", "merge", *map(str, parts)]) == ExitCode.VIOLATION


def test_merging_a_shard_that_stopped_early_is_exit_3(aws: Emulator, isolated_env: Path) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    first, second = isolated_env / "p1.json", isolated_env / "p2.json"
    assert sweep(*ALL, *feeds, "--shard", "1/2", "--report", f"json={first}") == ExitCode.VIOLATION
    aws.faults = Faults(forbidden=frozenset({"ListImagePipelines"}))
    assert sweep(*ALL, *feeds, "--shard", "2/2", "--report", f"json={second}") == ExitCode.INCOMPLETE
    assert json.loads(second.read_text())["complete"] is False
    assert main(["sweep", "merge", str(first), str(second), "--allow-unjudged"]) == ExitCode.INCOMPLETE


def test_a_listing_that_hands_back_its_nextToken_stops_the_sweep_exit_3(aws: Emulator, isolated_env: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A pipeline's listing looping (page 3 asked, page 2's token answered again): never "every build judged"."""
    pipeline = pipeline_arn("big")
    for b in range(1, 53):  # three pages of 25
        aws.add_image(image_arn("big", "1.0.0", b), [image_scan_finding("CVE-2024-1000")], pipeline_arn=pipeline,
                      date_created="2026-11-01T00:00:00.000Z")
    aws.faults = Faults(repeat_token={"ListImagePipelineImages": 1})
    out = isolated_env / "f.json"
    assert sweep("--pipeline", pipeline, *write_feeds(isolated_env / "feeds"), "--allow-unjudged",
                 "--report", f"json={out}") == ExitCode.INCOMPLETE
    doc = json.loads(out.read_text())
    assert doc["complete"] is False and len(doc["builds"]) == 50  # the two pages read, judged and kept
    assert "same nextToken twice" in capsys.readouterr().err


def test_a_builds_list_that_is_not_text_is_exit_2_not_an_internal_error(aws: Emulator, isolated_env: Path,
                                                                        capsys: pytest.CaptureFixture[str],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    good = image_arn("web", "1.0.0", 1)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(f"{good}\n\xff\xfe\n".encode("latin-1")),
                                                      encoding="utf-8"))
    assert sweep("--builds", "-", *write_feeds(isolated_env / "feeds")) == ExitCode.USAGE
    listing = isolated_env / "builds.txt"
    listing.write_bytes(b"\xff\xfe" + good.encode())
    assert sweep("--builds", str(listing), *write_feeds(isolated_env / "feeds")) == ExitCode.USAGE
    assert sweep("--builds", str(isolated_env / "missing.txt"), *write_feeds(isolated_env / "feeds")) \
        == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "internal error" not in err and err.count("not UTF-8") == 2 and "no such file" in err
    assert aws.calls == []


def test_inspector_answering_about_another_cve_is_never_shared_as_this_ones(aws: Emulator, isolated_env: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """One wrong answer, asked once for the whole fleet, would otherwise be every build's answer for that CVE."""
    from tests.sweep.fleet import KEV_LATER, SHARED

    fleet = seed_fleet(aws)
    aws.faults = Faults(answer_for={"SearchVulnerabilities": {KEV_LATER: SHARED}})
    out = isolated_env / "f.json"
    assert sweep(*ALL, *write_feeds(isolated_env / "feeds"), "--no-cache", "--report", f"json={out}") \
        == ExitCode.INCOMPLETE
    records = builds_of(out)
    assert {records[b]["status"] for b in fleet.holding_kev_later} == {"unjudged"}
    assert {records[b]["status"] for b in set(fleet.builds) - fleet.holding_kev_later} <= {"pass", "fail"}
    assert KEV_LATER in capsys.readouterr().err


def test_a_build_named_twice_is_judged_once_and_shard_edges(aws: Emulator, isolated_env: Path) -> None:
    """Held: a build in --builds and in its --pipeline's listing is one record; 1/1 is the whole fleet."""
    fleet = seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    listing = isolated_env / "builds.txt"
    listing.write_text(f"{fleet.builds[0]}\n{fleet.builds[0]}\n")
    out = isolated_env / "f.json"
    assert sweep("--builds", str(listing), "--pipeline", fleet.pipelines[0], "--pipeline", fleet.pipelines[0],
                 *feeds, "--report", f"json={out}") in (ExitCode.PASS, ExitCode.VIOLATION)
    doc = json.loads(out.read_text())
    assert sorted(b["build"] for b in doc["builds"]) == sorted({*fleet.builds[:3], fleet.deleted})
    whole, one = isolated_env / "whole.json", isolated_env / "one.json"
    sweep(*ALL, *feeds, "--report", f"json={whole}")
    sweep(*ALL, *feeds, "--shard", "1/1", "--report", f"json={one}")
    assert builds_of(one) == builds_of(whole)
    assert sweep(*ALL, *feeds, "--shard", "1/1001") == ExitCode.USAGE
