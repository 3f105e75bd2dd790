"""An on-demand AMI scan judged live, from `aws ec2 get-image-findings` output, from its events and from a snapshot."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.cli.test_check import report_schema
from tests.e2e.seed_ondemand import events, image_findings, seed_ondemand, vulnerabilities
from tests.e2e.test_live_matches_dry_run import FEEDS
from tests.emulator import Emulator, Faults


def _report(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def decisions(path: Path) -> Counter[tuple[str, str, tuple[str, ...]]]:
    """Per finding: vulnerability, decision and rules (keys differ: EC2 names no package versions)."""
    return Counter((f["vulnerabilityId"], f["decision"], tuple(f["matchedRules"])) for f in _report(path)["findings"])


@pytest.mark.slow
def test_live_export_events_and_snapshot_agree(emulator: Emulator, isolated_env: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    arn, scan = seed_ondemand(emulator)
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    out = isolated_env
    (out / "ec2.json").write_text(json.dumps({"ImageFindings": image_findings()}, indent=2))
    (out / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events(scan, emulator.ami_of(arn))))
    # `aws inspector2 search-vulnerabilities` once per CVE, saved back to back: what the live run asks.
    (out / "search.json").write_text("".join(json.dumps({"vulnerabilities": [v]}) for v in vulnerabilities().values()))
    saved = ["--finding-details", str(out / "search.json")]

    assert main(["check", "--image-build-version-arn", arn, *FEEDS, "--report", f"json={out / 'live.json'}"]) \
        == ExitCode.VIOLATION
    assert main(["check", "--findings", str(out / "ec2.json"), *saved, *FEEDS,
                 "--report", f"json={out / 'ec2-dry.json'}"]) == ExitCode.VIOLATION
    assert main(["check", "--findings", str(out / "events.jsonl"), *saved, *FEEDS,
                 "--report", f"json={out / 'events-dry.json'}"]) == ExitCode.VIOLATION
    live = decisions(out / "live.json")
    assert sum(live.values()) == 347
    assert decisions(out / "ec2-dry.json") == live
    assert decisions(out / "events-dry.json") == live
    assert emulator.violations == []
    calls = Counter(c.operation for c in emulator.calls)
    assert calls["GetImage"] == 1 and calls["ListOnDemandScans"] == 1 and calls["GetImageFindings"] == 1
    assert calls["ListFindings"] == calls["BatchGetFindingDetails"] == calls["ListImageScanFindings"] == 0

    jsonschema.Draft202012Validator(report_schema()).validate(_report(out / "live.json"))
    check = _report(out / "live.json")["imageBuilderCheck"]
    assert check["maximumSeverityLabel"] == "HIGH" and check["fixAvailable"] is True
    # Condition HIGH, counting fixable findings only: every fixable CRITICAL exceeds it.
    fixable = [f for f in image_findings() if f["FixAvailable"]]
    assert check["counted"] == len(fixable)
    assert check["exceeding"] == sum(1 for f in fixable if f["SeverityLabel"] == "critical") > 0
    assert check["verdict"] == "fail"

    # The snapshot replays the same decisions and Image Builder's own verdict without AWS.
    assert main(["fetch", "--image-build-version-arn", arn, "-o", str(out / "snap.json")]) == 0
    made = len(emulator.calls)
    assert main(["check", "--snapshot", str(out / "snap.json"), *FEEDS,
                 "--report", f"json={out / 'again.json'}"]) == ExitCode.VIOLATION
    assert len(emulator.calls) == made
    assert decisions(out / "again.json") == live
    assert _report(out / "again.json")["imageBuilderCheck"] == check


def test_a_clean_on_demand_ami_passes(emulator: Emulator, isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    arn, _ = seed_ondemand(emulator, findings=[])
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    report = isolated_env / "clean.json"
    assert main(["check", "--image-build-version-arn", arn, *FEEDS, "--report", f"json={report}"]) == ExitCode.PASS
    doc = _report(report)
    assert (doc["verdict"], doc["summary"]["total"], doc["imageBuilderCheck"]["verdict"]) == ("pass", 0, "pass")
    assert "image builder: Image Builder's scanResultCondition" in capsys.readouterr().out


@pytest.mark.parametrize(("statuses", "reason", "message"), [
    (["IN_PROGRESS"], None, "is IN_PROGRESS, not SUCCESSFUL"),
    (["FAILED"], "STORAGE_LIMIT_EXCEEDED", "ended FAILED (STORAGE_LIMIT_EXCEEDED)"),
    ([], None, "there is no on-demand scan of"),
])
def test_an_unusable_scan_exits_3_with_one_line(emulator: Emulator, isolated_env: Path,
                                                monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                statuses: list[str], reason: str | None, message: str) -> None:
    emulator.add_image(seed_arn := "arn:aws:imagebuilder:us-east-1:111122223333:image/unusable/1.0.0/1", [],
                       scanning_types=["ON_DEMAND_AMI_CVE"])
    emulator.add_ondemand_scan(emulator.ami_of(seed_arn), image_findings()[:5], statuses=statuses, reason=reason)
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    report = isolated_env / "error.json"
    code = main(["check", "--image-build-version-arn", seed_arn, "--wait-timeout", "0", *FEEDS,
                 "--report", f"json={report}"])
    assert code == ExitCode.INCOMPLETE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert _report(report)["verdict"] == "error"
    assert emulator.count("GetImageFindings") == 0


@pytest.mark.parametrize(("operation", "action"), [("GetImageFindings", "ec2:GetImageFindings"),
                                                   ("ListOnDemandScans", "inspector2:ListOnDemandScans")])
def test_a_missing_permission_exits_3_naming_the_iam_action(emulator: Emulator, isolated_env: Path,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str],
                                                            operation: str, action: str) -> None:
    arn, _ = seed_ondemand(emulator, findings=image_findings()[:3])
    emulator.faults = Faults(forbidden=frozenset({operation}))
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    assert main(["check", "--image-build-version-arn", arn, *FEEDS]) == ExitCode.INCOMPLETE
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert f"AWS denied {action}" in line and f"grant the IAM action {action}" in line


def test_a_rule_the_on_demand_path_cannot_answer_stops_the_run(emulator: Emulator, isolated_env: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """SearchVulnerabilities has no exploitAvailable: a rule on it must not silently never match."""
    arn, _ = seed_ondemand(emulator, findings=image_findings()[:3])
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    policy = isolated_env / "p.yaml"
    policy.write_text("version: 1\nname: p\nrules:\n  - id: public-exploit\n    when: exploit_available\n"
                      "    action: fail\n")
    assert main(["check", "--image-build-version-arn", arn, "--policy", str(policy), *FEEDS]) \
        == ExitCode.INCOMPLETE
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "rule 'public-exploit' reads `exploit_available`, which no source in this run can answer" in line
    assert emulator.count("GetImageFindings") == 0
