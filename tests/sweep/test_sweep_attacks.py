"""`gate sweep` attacked by a careless operator and a hostile fleet: no report looks whole when it is not,
no action weakens what was already done, no forged input steers the verdict's changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.emulator import Emulator, Faults
from tests.sweep.fleet import REGIONS, seed_fleet, write_feeds
from tests.sweep.test_sweep_e2e import aws, builds_of

pytestmark = pytest.mark.slow
__all__ = ["aws"]
ALL = ["--all-pipelines", *(f"--region={r}" for r in REGIONS)]


def test_a_sweep_that_stopped_early_says_so_first_in_every_report(aws: Emulator, isolated_env: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    fleet = seed_fleet(aws)
    aws.faults = Faults(forbidden=frozenset({"ListImagePipelines"}))
    listing = isolated_env / "builds.txt"
    listing.write_text(fleet.builds[1] + "\n")  # a passing build: everything the reports hold passes
    md, html = isolated_env / "f.md", isolated_env / "f.html"
    capsys.readouterr()
    assert main(["sweep", "--builds", str(listing), *ALL, *write_feeds(isolated_env / "feeds"),
                 "--report", f"markdown={md}", "--report", f"html={html}"]) == ExitCode.INCOMPLETE
    assert md.read_text().splitlines()[0].startswith("# gate sweep: INCOMPLETE")
    assert "<h1>gate sweep: INCOMPLETE" in html.read_text()
    assert capsys.readouterr().out.splitlines()[0].startswith("INCOMPLETE")


def _deprecation(ami: str, aws: Emulator) -> str | None:
    return aws.ami(ami).get("DeprecationTime")


def test_deprecate_never_postpones_an_earlier_deprecation(aws: Emulator, isolated_env: Path) -> None:
    fleet = seed_fleet(aws)
    for arn in fleet.builds:
        aws.add_ami(Emulator.ami_of(arn), region=arn.split(":")[3])
    early, late = sorted(fleet.failing)
    store = aws._state.store  # NOTE: seeding what an owner did earlier, as EC2 would describe it
    with store.lock:
        store.amis[Emulator.ami_of(early)].deprecation_time = "2025-01-01T00:00:00.000Z"  # deprecated long ago
        store.amis[Emulator.ami_of(late)].deprecation_time = "2099-01-01T00:00:00.000Z"  # scheduled far ahead
    out = isolated_env / "applied.json"
    assert main(["sweep", *ALL, *write_feeds(isolated_env / "feeds"), "--deprecate", "--apply",
                 "--report", f"json={out}"]) == ExitCode.VIOLATION
    # moving 2025 to now would restart Allowed AMIs' MaximumDaysSinceDeprecated clock: the AMI must stay as it was
    assert _deprecation(Emulator.ami_of(early), aws) == "2025-01-01T00:00:00.000Z"
    assert not str(_deprecation(Emulator.ami_of(late), aws)).startswith("2099")  # brought forward to now
    actions = builds_of(out)
    assert [(a["status"], "already deprecated" in a["detail"]) for a in actions[early]["actions"]] \
        == [("skipped", True)]  # type: ignore[union-attr]
    assert [a["status"] for a in actions[late]["actions"]] == ["done"]  # type: ignore[union-attr]


def test_deprecate_leaves_an_ami_ec2_says_another_account_owns(aws: Emulator, isolated_env: Path) -> None:
    fleet = seed_fleet(aws)
    foreign, own = sorted(fleet.failing)
    aws.add_ami(Emulator.ami_of(foreign), region=foreign.split(":")[3], owner="999988887777")
    aws.add_ami(Emulator.ami_of(own), region=own.split(":")[3])
    out = isolated_env / "applied.json"
    assert main(["sweep", *ALL, *write_feeds(isolated_env / "feeds"), "--deprecate", "--apply",
                 "--report", f"json={out}"]) == ExitCode.VIOLATION
    actions = builds_of(out)
    assert [(a["status"], "999988887777" in a["detail"]) for a in actions[foreign]["actions"]] \
        == [("skipped", True)]  # type: ignore[union-attr]
    assert aws.count("EnableImageDeprecation") == 1 and "DeprecationTime" in aws.ami(Emulator.ami_of(own))


def test_a_check_report_with_a_bad_time_as_previous_is_exit_2(aws: Emulator, isolated_env: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    fleet = seed_fleet(aws)
    previous = isolated_env / "check.json"
    previous.write_text(json.dumps({"build": fleet.builds[0], "verdict": "pass", "findings": [],
                                    "evaluatedAt": "yesterday\x1b[2J"}))
    capsys.readouterr()
    assert main(["sweep", *ALL, *write_feeds(isolated_env / "feeds"), "--previous", str(previous)]) \
        == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "internal error" not in err and "evaluatedAt" in err and "\x1b" not in err
    assert aws.calls == []


def test_a_previous_report_from_after_the_sweep_is_refused(aws: Emulator, isolated_env: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    then = isolated_env / "then.json"
    assert main(["sweep", *ALL, *feeds, "--report", f"json={then}"]) == ExitCode.VIOLATION
    doc = json.loads(then.read_text())
    doc["generatedAt"] = "2031-01-01T00:00:00+00:00"  # "newest wins": a report from the future outranks any other
    then.write_text(json.dumps(doc))
    capsys.readouterr()
    assert main(["sweep", *ALL, *feeds, "--previous", str(then)]) == ExitCode.USAGE
    assert "after" in capsys.readouterr().err


def test_a_fleet_wide_fault_keeps_the_terminal_short(aws: Emulator, isolated_env: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    fleet = seed_fleet(aws, per_pipeline=13)
    aws.faults = Faults(forbidden=frozenset({"SearchVulnerabilities"}))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # progress lines too
    out = isolated_env / "f.json"
    capsys.readouterr()
    assert main(["sweep", *ALL, *write_feeds(isolated_env / "feeds"), "--no-cache", "--concurrency", "8",
                 "--report", f"json={out}"]) == ExitCode.INCOMPLETE
    assert sum(r["status"] == "unjudged" for r in builds_of(out).values()) == len(fleet.builds) == 52
    text = capsys.readouterr()
    assert len(text.out.splitlines()) <= 80
    assert len(text.err.splitlines()) <= 20, text.err
    assert "42 more builds" in text.err and "52 of 53 builds could not be judged" in text.err


def test_a_sweep_cancelled_mid_flight_reports_every_build_that_acted(aws: Emulator, isolated_env: Path) -> None:
    """SIGTERM (a cancelled CI job) while builds are being judged: those under way finish and may deprecate;
    each must be in the reports, which say the sweep is incomplete."""
    import os
    import signal
    import subprocess
    import sys

    from tests.cli.test_signals import _wait_for

    fleet = seed_fleet(aws)
    for arn in fleet.builds:
        aws.add_ami(Emulator.ami_of(arn), region=arn.split(":")[3])
    aws.faults = Faults(latency_by_operation={"SearchVulnerabilities": 5.0})
    out, md = isolated_env / "f.json", isolated_env / "f.md"
    env = {**os.environ, **aws.env()}
    env.pop("AWS_PROFILE", None)
    proc = subprocess.Popen([sys.executable, "-m", "gate", "sweep", *ALL, *write_feeds(isolated_env / "feeds"),
                             "--no-cache", "--concurrency", "16", "--deprecate", "--apply",
                             "--report", f"json={out}", "--report", f"markdown={md}"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # NOTE: every build has asked GetImage: all are under way, waiting for Inspector's slow answers
    _wait_for(lambda: aws.count("GetImage") >= len(fleet.builds), "every build under way")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    doc = json.loads(out.read_text())
    deprecated = {a for a in (Emulator.ami_of(b) for b in fleet.builds) if "DeprecationTime" in aws.ami(a)}
    reported = {a["target"].split()[1] for b in doc["builds"] for a in b["actions"] if a["status"] == "done"}
    assert deprecated == reported == {Emulator.ami_of(b) for b in fleet.failing}, doc["notes"]
    assert doc["complete"] is False
    assert md.read_text().startswith("# gate sweep: INCOMPLETE")


def test_a_sweep_that_finds_no_build_is_not_a_pass(aws: Emulator, isolated_env: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    capsys.readouterr()
    # a region with no pipeline (a typo for the one meant), or a window older than every build: nothing judged
    assert main(["sweep", "--all-pipelines", "--region", "ap-south-1", *feeds]) == ExitCode.INCOMPLETE
    assert "found no build" in capsys.readouterr().err
    assert main(["sweep", *ALL, *feeds, "--since", "1d"]) == ExitCode.INCOMPLETE
    shards = [isolated_env / f"s{i}.json" for i in (1, 2)]
    for i, shard in enumerate(shards, start=1):  # one empty shard of a small fleet is fine: merge judges the whole
        assert main(["sweep", *ALL, *feeds, "--since", "1d", "--shard", f"{i}/2", "--report", f"json={shard}"]) \
            == ExitCode.PASS
    assert main(["sweep", "merge", *map(str, shards)]) == ExitCode.INCOMPLETE


def test_two_reports_to_one_place_or_over_a_shard_are_refused(aws: Emulator, isolated_env: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    shard = isolated_env / "shard.json"
    assert main(["sweep", *ALL, *feeds, "--shard", "1/1", "--report", f"json={shard}"]) == ExitCode.VIOLATION
    calls, kept = len(aws.calls), shard.read_text()
    out = isolated_env / "fleet.json"
    # the uploaded "JSON" would have been the Markdown written over it; merge would refuse it a day later
    assert main(["sweep", *ALL, *feeds, "--report", f"json={out}", "--report", f"markdown={out}"]) == ExitCode.USAGE
    assert main(["sweep", *ALL, *feeds, "--report", "json=-", "--report", "markdown=-"]) == ExitCode.USAGE
    assert main(["sweep", "merge", str(shard), "--report", f"json={shard}"]) == ExitCode.USAGE
    assert len(aws.calls) == calls and shard.read_text() == kept and not out.exists()
    assert "same place" in capsys.readouterr().err


CR_COMMAND = "x\r::error::forged by CR\n##[warning]forged v1\x1b]0;title\x07\u202e"


def test_hostile_names_and_aws_messages_stay_inert_under_github_actions(aws: Emulator, isolated_env: Path,
                                                                         capsys: pytest.CaptureFixture[str],
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Package names and fix text from the scan, a scan state reason, AWS error messages: nothing the runner executes,
    on stdout or stderr, in the summary, the JSON on stdout or the diagnostics (a lone CR ends a line too)."""
    from tests.cli.actions_runner import assert_only_gate_annotations
    from tests.emulator import image_arn, image_scan_finding, pipeline_arn

    pipeline = pipeline_arn("web")
    good = image_arn("web", "1.0.0", 1)
    aws.add_image(good, [image_scan_finding("CVE-2024-3000", "CRITICAL", package=f"glibc{CR_COMMAND}",
                                            fixed_in=f"2.34{CR_COMMAND}")],
                  pipeline_arn=pipeline, date_created="2026-11-01T00:00:00.000Z")
    denied = image_arn("web", "1.0.0", 2)
    aws.add_image(denied, [image_scan_finding("CVE-2024-1000")], pipeline_arn=pipeline,
                  date_created="2026-11-02T00:00:00.000Z", scan_states=["FAILED"], scan_reason=CR_COMMAND)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    aws.faults = Faults(error_message=f"denied{CR_COMMAND}", forbidden=frozenset({"SearchVulnerabilities"}))
    capsys.readouterr()
    assert main(["sweep", "--pipeline", pipeline, *write_feeds(isolated_env / "feeds"), "--no-cache",
                 "--report", "json=-"]) == ExitCode.INCOMPLETE
    out, err = capsys.readouterr()
    assert "denied" in err and "forged" in err
    assert_only_gate_annotations(out, err)
    aws.faults = Faults()
    assert main(["sweep", "--pipeline", pipeline, *write_feeds(isolated_env / "feeds"), "--no-cache",
                 "--report", "markdown=-", "--allow-unjudged"]) == ExitCode.VIOLATION
    out, err = capsys.readouterr()
    assert "forged" in out
    assert_only_gate_annotations(out, err)


def test_the_deprecation_time_asked_is_never_within_a_breath_of_now(aws: Emulator) -> None:
    """A clock read at hh:mm:59.9 used to ask for hh:mm+1:00, past by the time EC2 checked it (exit 3)."""
    from datetime import UTC, datetime, timedelta

    from gate.actions.deprecate import DeprecateAction
    from gate.fleet import Ami
    from gate.outcome import Verdict

    ami = "ami-0123456789abcdef0"
    aws.add_ami(ami)
    late = (datetime.now(UTC) + timedelta(hours=1)).replace(second=59, microsecond=900_000)
    ec2 = aws.client("ec2")
    action = DeprecateAction(lambda: (Ami("us-east-1", ami, aws.account),), aws.account, lambda region: ec2,
                             apply=True, clock=lambda: late)

    class Failing:
        error = None
        evaluation = type("E", (), {"verdict": Verdict.FAIL})()

    assert [r.status.value for r in action.act(Failing())] == ["done"]  # type: ignore[arg-type]
    asked = next(c.params["DeprecateAt"] for c in aws.calls if c.operation == "EnableImageDeprecation")
    asked_at = datetime.fromtimestamp(float(asked), UTC)  # botocore sends epoch seconds
    assert asked_at - late >= timedelta(seconds=30) and asked_at.second == 0


def test_an_earlier_report_is_never_left_in_place_as_this_runs(aws: Emulator, isolated_env: Path) -> None:
    """A self-hosted runner keeps yesterday's fleet.json: a run that ends before its reports must not leave it."""
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    out, md = isolated_env / "fleet.json", isolated_env / "fleet.md"
    assert main(["sweep", *ALL, *feeds, "--report", f"json={out}", "--report", f"markdown={md}"]) \
        == ExitCode.VIOLATION
    assert json.loads(out.read_text())["complete"] is True
    stale = list(feeds)
    stale[stale.index("--as-of") + 1] = "2027-06-01"  # the feeds are too old for this day: refused before any call
    assert main(["sweep", *ALL, *stale, "--report", f"json={out}", "--report", f"markdown={md}"]) \
        == ExitCode.INCOMPLETE
    doc = json.loads(out.read_text())
    assert (doc["complete"], doc["builds"]) == (False, [])
    assert "ended without its reports" in doc["notes"][0] and "old" in doc["notes"][0]
    assert md.read_text().startswith("# gate sweep: INCOMPLETE")
    shards = [isolated_env / f"s{i}.json" for i in (1, 2)]
    for i, shard in enumerate(shards, start=1):
        main(["sweep", *ALL, *feeds, "--shard", f"{i}/2", "--report", f"json={shard}"])
    assert main(["sweep", "merge", *map(str, shards), "--report", f"json={out}"]) == ExitCode.VIOLATION
    assert main(["sweep", "merge", str(shards[0]), "--report", f"json={out}"]) == ExitCode.USAGE  # 2/2 missing
    assert json.loads(out.read_text())["complete"] is False
    assert main(["sweep", "merge", str(out), str(shards[1])]) == ExitCode.USAGE  # the placeholder is no shard


def test_previous_folder_holding_todays_report_path(aws: Emulator, isolated_env: Path) -> None:
    seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    folder = isolated_env / "reports"
    folder.mkdir()
    assert main(["sweep", *ALL, *feeds, "--report", f"json={folder / 'yesterday.json'}"]) == ExitCode.VIOLATION
    today = folder / "today.json"
    assert main(["sweep", *ALL, *feeds, "--previous", str(folder), "--report", f"json={today}"]) \
        == ExitCode.VIOLATION
    assert {b["change"] for b in json.loads(today.read_text())["builds"]} == {"unchanged", "still failing", None}


def test_a_failing_container_build_says_there_was_no_ami_to_act_on(aws: Emulator, isolated_env: Path) -> None:
    from tests.emulator import image_arn, image_scan_finding, pipeline_arn

    pipeline = pipeline_arn("svc")
    arn = image_arn("svc", "1.0.0", 1)
    aws.add_image(arn, [image_scan_finding("CVE-2024-3000", "CRITICAL", fixed_in="2.0")], pipeline_arn=pipeline,
                  image_type="DOCKER", date_created="2026-11-01T00:00:00.000Z")
    out = isolated_env / "f.json"
    assert main(["sweep", "--pipeline", pipeline, *write_feeds(isolated_env / "feeds"), "--deprecate",
                 "--revoke-watermark", "gate-passed", "--apply", "--report", f"json={out}"]) == ExitCode.VIOLATION
    record = builds_of(out)[arn]
    assert record["status"] == "fail"
    assert [(a["action"], a["status"]) for a in record["actions"]] \
        == [("watermark", "skipped"), ("deprecate", "skipped")]  # type: ignore[union-attr]


@pytest.mark.parametrize("verdict", ["pass", "fail"])
def test_a_check_report_whose_verdict_disagrees_with_its_findings_is_no_previous(aws: Emulator, isolated_env: Path,
                                                                               verdict: str) -> None:
    """An edited check report (`fail` turned `pass`, decisions left) would make a failing build "still failing"
    look "newly failing", or hide that it failed before."""
    fleet = seed_fleet(aws)
    previous = isolated_env / "check.json"
    decision = "fail" if verdict == "pass" else "warn"
    previous.write_text(json.dumps({"build": sorted(fleet.failing)[0], "verdict": verdict,
                                    "evaluatedAt": "2026-11-01T00:00:00+00:00",
                                    "findings": [{"vulnerabilityId": "CVE-2024-3000", "decision": decision}]}))
    assert main(["sweep", *ALL, *write_feeds(isolated_env / "feeds"), "--previous", str(previous)]) \
        == ExitCode.USAGE
    assert aws.calls == []


def test_builds_left_out_by_since_are_counted_not_silently_dropped(aws: Emulator, isolated_env: Path) -> None:
    fleet = seed_fleet(aws)
    feeds = write_feeds(isolated_env / "feeds")
    out, md = isolated_env / "f.json", isolated_env / "f.md"
    # builds of 2026-10-01..03 are in a 65-day window ending 2026-12-01; the 0.9.0 build of 2026-09-01 is not
    assert main(["sweep", *ALL, *feeds, "--since", "65d", "--report", f"json={out}", "--report", f"markdown={md}"]) \
        == ExitCode.VIOLATION
    doc = json.loads(out.read_text())
    assert fleet.deleted not in {b["build"] for b in doc["builds"]}
    assert any(n.startswith("1 listed build created before 2026-09-27 (the --since window) not judged")
               for n in doc["notes"]), doc["notes"]
    assert "not judged" in md.read_text()
    assert main(["sweep", *ALL, *feeds, "--report", f"json={out}"]) == ExitCode.VIOLATION
    assert not any("--since" in n for n in json.loads(out.read_text())["notes"])
