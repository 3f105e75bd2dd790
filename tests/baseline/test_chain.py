"""The ratchet offline: builds of a pipeline as exports, each build's JSON report the next one's baseline."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.baseline.builds import (
    BUILDS,
    CURL,
    GLIBC,
    OPENSSL,
    OTHER_BUILD,
    OTHER_PIPELINE,
    PIPELINE,
    WEBP,
    ZLIB,
    export,
)
from tests.conftest import EXAMPLES

FEEDS = ["--kev-catalog", str(EXAMPLES / "kev.json"), "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"),
         "--max-feed-age", "3650d"]  # the bundled feeds are of 2025-08; these tests are not about their age
AS_OF = {1: "2026-09-01", 2: "2026-10-01", 3: "2026-10-20"}


def check(tmp: Path, build: int, baseline: str | None, *extra: str, name: str | None = None) -> tuple[int, Path]:
    report = tmp / f"{name or f'build{build}'}.json"
    argv = ["check", "--findings", str(export(tmp / f"export{build}.json", build)), *FEEDS,
            "--policy", "ratchet", "--as-of", AS_OF[build], "--report", f"json={report}", *extra]
    if baseline is not None:
        argv += ["--baseline", baseline]
    return main(argv), report


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["vulnerabilityId"]: f for f in report["findings"]}


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(resources.files("gate").joinpath("schemas/report-v1.schema.json").read_text())
    return loaded


@pytest.fixture
def chain(isolated_env: Path) -> list[dict[str, Any]]:
    """Three builds, each judged with the previous build's report as its baseline."""
    reports = []
    baseline = "first"
    for build in (1, 2, 3):
        code, path = check(isolated_env, build, baseline)
        assert code == ExitCode.VIOLATION
        reports.append(json.loads(path.read_text()))
        baseline = str(path)
    return reports


def test_every_report_in_the_chain_is_valid(chain: list[dict[str, Any]]) -> None:
    for report in chain:
        jsonschema.Draft202012Validator(schema()).validate(report)
        assert report["pipeline"] == PIPELINE


def test_first_build_everything_is_new(chain: list[dict[str, Any]]) -> None:
    first = by_id(chain[0])
    assert {f["baseline"] for f in first.values()} == {"new"}
    assert {f["firstSeen"] for f in first.values()} == {"2026-09-01"}
    assert first[OPENSSL]["matchedRules"] == ["new-critical-fixable", "exploitable-open", "high-or-critical"]
    assert chain[0]["fixed"] == []
    assert chain[0]["baseline"]["source"] == "first"


def test_second_build_new_unchanged_and_fixed(chain: list[dict[str, Any]], isolated_env: Path) -> None:
    second = by_id(chain[1])
    # openssl moved from 3.0.8 to 3.0.9: the same finding, its clock kept
    assert second[OPENSSL]["packages"][0]["installed"].startswith("3.0.9")
    assert (second[OPENSSL]["baseline"], second[OPENSSL]["firstSeen"]) == ("unchanged", "2026-09-01")
    assert second[OPENSSL]["decision"] == "warn"  # open exactly 30 days: not yet overdue
    assert (second[CURL]["baseline"], second[CURL]["decision"]) == ("unchanged", "warn")
    assert (second[GLIBC]["baseline"], second[GLIBC]["firstSeen"]) == ("new", "2026-10-01")
    assert second[GLIBC]["matchedRules"][0] == "new-critical-fixable"
    assert second[WEBP]["matchedRules"][:2] == ["new-known-exploited", "kev-overdue"]
    assert [(x["vulnerabilityId"], x["packages"], x["firstSeen"]) for x in chain[1]["fixed"]] == [
        (ZLIB, ["zlib"], "2026-09-01")]
    assert chain[1]["baseline"] == {"source": str(isolated_env / "build1.json"), "target": BUILDS[1],
                                    "pipeline": PIPELINE}


def test_the_clock_runs_across_three_reports(chain: list[dict[str, Any]]) -> None:
    third = by_id(chain[2])
    # build 3's scan observed openssl on 2026-10-20, yet it has been open since build 1
    assert third[OPENSSL]["firstObservedAt"].startswith("2026-10-20")
    assert third[OPENSSL]["firstSeen"] == "2026-09-01"
    assert third[OPENSSL]["matchedRules"][0] == "critical-overdue"
    assert any("days_open 49" in reason for m in third[OPENSSL]["matches"] for reason in m["reasons"])
    assert (third[GLIBC]["firstSeen"], third[GLIBC]["decision"]) == ("2026-10-01", "warn")
    assert {f["baseline"] for f in third.values()} == {"unchanged"}
    assert chain[2]["fixed"] == []


def test_new_blockers_come_first_and_fixed_is_shown(isolated_env: Path, chain: list[dict[str, Any]]) -> None:
    md, sarif = isolated_env / "s.md", isolated_env / "s.sarif"
    code, _ = check(isolated_env, 2, str(isolated_env / "build1.json"), "--report", f"markdown={md}",
                    "--report", f"sarif={sarif}", name="again")
    assert code == ExitCode.VIOLATION
    text = md.read_text()
    assert f"fixed: {ZLIB} (MEDIUM) in zlib, first seen 2026-09-01" in text
    assert "compared with " + BUILDS[1] + ": 2 new, 2 unchanged, 1 fixed" in text
    assert text.index(GLIBC) < text.index(OPENSSL)  # new blockers first (openssl only warns here)
    assert "new since the baseline" in text
    run = json.loads(sarif.read_text())["runs"][0]
    states = {r["properties"]["vulnerabilityId"]: r["baselineState"] for r in run["results"]}
    assert states == {GLIBC: "new", WEBP: "new", OPENSSL: "unchanged", CURL: "unchanged"}
    assert [(x["vulnerabilityId"], x["baselineState"]) for x in run["properties"]["fixed"]] == [(ZLIB, "absent")]


def test_a_rule_on_new_without_a_baseline_exits_3(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = check(isolated_env, 2, None)
    assert code == ExitCode.INCOMPLETE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "rule 'new-known-exploited' reads `new`, which no source in this run can answer" in err
    assert "--baseline FILE" in err
    assert json.loads(report.read_text())["verdict"] == "error"


def test_without_a_baseline_reports_still_start_the_clock(isolated_env: Path) -> None:
    code, report = check(isolated_env, 1, None, "--policy", "default")
    assert code == ExitCode.VIOLATION
    doc = json.loads(report.read_text())
    assert {f["firstSeen"] for f in doc["findings"]} == {"2026-09-01"}
    assert {f["baseline"] for f in doc["findings"]} == {None}
    assert doc["baseline"] is None


def test_a_baseline_from_another_pipeline_is_refused(isolated_env: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    other = isolated_env / "other.json"
    argv = ["check", "--findings", str(export(isolated_env / "o.json", 1, pipeline=OTHER_PIPELINE, arn=OTHER_BUILD)),
            *FEEDS, "--as-of", "2026-09-01", "--report", f"json={other}"]
    assert main(argv) == ExitCode.VIOLATION
    code, _ = check(isolated_env, 2, str(other))
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"is a build of {OTHER_PIPELINE}, not of {PIPELINE}" in err
    assert err.count("\n") == 1
    code, report = check(isolated_env, 2, str(other), "--baseline-any-pipeline")
    assert code == ExitCode.VIOLATION
    assert by_id(json.loads(report.read_text()))[OPENSSL]["baseline"] == "unchanged"


def test_a_baseline_naming_no_pipeline_is_refused(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    unnamed = isolated_env / "unnamed.json"
    argv = ["check", "--findings", str(export(isolated_env / "u.json", 1, pipeline=None)), *FEEDS,
            "--as-of", "2026-09-01", "--report", f"json={unnamed}"]
    assert main(argv) == ExitCode.VIOLATION
    assert json.loads(unnamed.read_text())["pipeline"] is None
    code, _ = check(isolated_env, 2, str(unnamed))
    assert code == ExitCode.USAGE
    assert "cannot tell whether --baseline" in capsys.readouterr().err


def test_the_same_build_is_not_its_own_baseline(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = check(isolated_env, 2, "first")
    assert code == ExitCode.VIOLATION
    code, _ = check(isolated_env, 2, str(report), "--baseline-any-pipeline", name="rerun")
    assert code == ExitCode.USAGE
    assert f"is of this same build ({BUILDS[2]})" in capsys.readouterr().err


def test_a_baseline_from_after_the_evaluation_is_refused(chain: list[dict[str, Any]], isolated_env: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Build 3's report cannot be build 1's baseline: the chain was passed the wrong way round."""
    capsys.readouterr()
    code, _ = check(isolated_env, 1, str(isolated_env / "build3.json"), name="backwards")
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "was made 2026-10-20T00:00:00+00:00, after this evaluation (2026-09-01T00:00:00+00:00)" in err


def test_a_snapshot_is_a_baseline_too(isolated_env: Path) -> None:
    from datetime import UTC, datetime

    from gate.inputs import Inputs, open_plan
    from gate.run import gather
    from gate.snapshot import write_snapshot

    gathered = gather(open_plan(Inputs(findings=(export(isolated_env / "e1.json", 1),), cached_feeds=False)))
    snapshot = isolated_env / "snap.json"
    write_snapshot(snapshot, gathered, fetched_at=datetime(2026, 9, 1, 12, tzinfo=UTC))
    code, report = check(isolated_env, 2, str(snapshot))
    assert code == ExitCode.VIOLATION
    doc = json.loads(report.read_text())
    assert by_id(doc)[OPENSSL]["firstSeen"] == "2026-09-01"
    assert [x["vulnerabilityId"] for x in doc["fixed"]] == [ZLIB]


def test_every_human_format_shows_the_comparison(isolated_env: Path, chain: list[dict[str, Any]]) -> None:
    from datetime import UTC, datetime, timedelta

    from gate.inputs import Inputs, open_plan
    from gate.policy.loader import load_policy
    from gate.reports import github_runner
    from gate.reports.interface import ReportOptions
    from gate.reports.registry import Format, formatter
    from gate.run import judge_build

    inputs = Inputs(findings=(export(isolated_env / "again.json", 2),), kev_catalog=EXAMPLES / "kev.json",
                    epss_scores=EXAMPLES / "epss-scores.csv.gz", baseline=str(isolated_env / "build1.json"))
    evaluation = judge_build(open_plan(inputs), load_policy("ratchet"), now=datetime(2026, 10, 1, tzinfo=UTC),
                     max_feed_age=timedelta(days=3650))  # the bundled feeds are of 2025-08
    options = ReportOptions(color=False)
    for fmt in (Format.TABLE, Format.HTML, Format.MARKDOWN):
        text = formatter(fmt).render(evaluation, options)
        assert "Since the baseline" in text, fmt
        assert f"fixed: {ZLIB} (MEDIUM) in zlib, first seen 2026-09-01" in text, fmt
        assert text.index(GLIBC) < text.index(OPENSSL), fmt
    table = formatter(Format.TABLE).render(evaluation, options)
    assert "— new since the baseline" in table  # on the blocking finding's line
    notices = [line for line in github_runner.annotations(evaluation) if line.startswith("::notice")]
    assert notices == [f"::notice title=gate: since the baseline::compared with {BUILDS[1]}: 2 new, 2 unchanged, "
                       f"1 fixed%0Afixed: {ZLIB} (MEDIUM) in zlib, first seen 2026-09-01"]
