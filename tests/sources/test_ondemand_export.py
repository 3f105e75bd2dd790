"""On-demand AMI scans offline: EC2's finding shape, `get-image-findings` output and EventBridge events, and attacks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.errors import ExitCode, IncompleteError, InputError, ScanNotReadyError, ShapeError
from gate.model import Enrichment, Finding, Gathered, ScanResultCondition, VulnerablePackage, image_builder_check
from gate.snapshot import snapshot_from_json, snapshot_to_json
from gate.sources.ec2_codec import parse_event_finding, parse_image_finding, split_title, unread_title
from gate.sources.export import ExportSource
from gate.sources.scantype import ScanPath, scan_path, scan_result_condition
from tests.conftest import DATA, EXAMPLES

EVENTS = DATA / "aws-examples" / "inspector2-eventbridge"
FINDING_EVENT = json.loads((EVENTS / "ondemand-ami-scan-findings.event.json").read_text())
COMPLETE = json.loads((EVENTS / "ondemand-ami-scan-complete-successful.event.json").read_text())
FAILED = json.loads((EVENTS / "ondemand-ami-scan-complete-failed.event.json").read_text())
FEEDS = ["--no-cached-feeds", "--kev-catalog", str(EXAMPLES / "kev.json"),
         "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"),
         "--max-feed-age", "3650d"]  # the bundled feeds are of 2025-08; these tests are not about their age
ARN = "arn:aws:imagebuilder:us-east-1:111122223333:image/web/1.0.0/1"


def _read(*paths: Path) -> list[Finding]:
    return [f for page in ExportSource(list(paths)).pages() for f in page]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _ec2(title: str = "CVE-2022-3171 - com.google.protobuf:protobuf-java", **extra: Any) -> dict[str, Any]:
    return {"Title": title, "SeverityLabel": "high", "FixAvailable": True, "Score": 7.5,
            "FirstObservedAt": "2026-06-12T01:30:00.000Z", **extra}


def _finding_event(n: int, vid: str = "CVE-2024-1000", scan: str = "9f1c4b8d2e6a4f0b7c3d5e1a8b2f6c4d",
                   **extra: Any) -> dict[str, Any]:
    detail = {**FINDING_EVENT["detail"], "scanId": scan, "title": f"{vid} - openssl",
              "findingArn": f"arn:aws:inspector2:us-east-1:111122223333:finding/ondemand/{scan}/{n:032x}",
              "packageVulnerabilityDetails": {"vulnerabilityId": vid, "source": "NVD",
                                              "vulnerablePackages": [{"name": "openssl", "version": "3.0.8"}]},
              **extra}
    return {**FINDING_EVENT, "detail": detail}


def _complete(total: int, scan: str = "9f1c4b8d2e6a4f0b7c3d5e1a8b2f6c4d", **severities: int) -> dict[str, Any]:
    """The scan-complete event, its counts agreeing with `total` HIGH findings (as the real finding event is)."""
    counts = {**dict.fromkeys(COMPLETE["detail"]["findingSeverityCounts"], 0), "HIGH": total, **severities,
              "TOTAL": total}
    return {**COMPLETE, "detail": {**COMPLETE["detail"], "scanId": scan, "findingSeverityCounts": counts}}


# -- EC2's finding ---------------------------------------------------------------------------
def test_title_split() -> None:
    assert split_title("CVE-2022-3171 - com.google.protobuf:protobuf-java") == \
        ("CVE-2022-3171", ("com.google.protobuf:protobuf-java",))
    assert split_title("CVE-2023-4911 - glibc, glibc-common") == ("CVE-2023-4911", ("glibc", "glibc-common"))
    assert split_title("GHSA-abcd-efgh-ijkl - lodash") == ("GHSA-abcd-efgh-ijkl", ("lodash",))
    assert split_title("ALAS2023-2024-500 - kernel") == ("ALAS2023-2024-500", ("kernel",))
    # The id is the first word whatever follows; packages only from a first line ` - a, b`.
    assert split_title("CVE-2011-4163 - git\n::error::x") == ("CVE-2011-4163", ("git",))
    for no_packages in ("CVE-2022-3171", "CVE-2022-3171 -  ", "CVE-2022-3171 - a, , b", "CVE-2022-3171\n - git"):
        assert split_title(no_packages) == ("CVE-2022-3171", ())
    for no_id in ("no dash here", " - openssl", "CVE-1 - a", "CVE-2022-3171: x", "cve-2022-3171 - x", "Kernel-x y"):
        assert split_title(no_id) is None


def test_an_ec2_finding_becomes_a_gate_finding() -> None:
    f = parse_image_finding(_ec2(Paths=["/usr/lib/a.jar", "/opt/b.jar"], UpdatedAt="2026-06-13T00:00:00Z"))
    assert (f.vulnerability_id, f.severity, f.fix_available, f.has_fix, f.inspector_score) == \
        ("CVE-2022-3171", "HIGH", "YES", True, 7.5)
    assert f.packages == (VulnerablePackage("com.google.protobuf:protobuf-java", file_path="/usr/lib/a.jar"),
                          VulnerablePackage("com.google.protobuf:protobuf-java", file_path="/opt/b.jar"))
    assert f.first_observed_at is not None and f.first_observed_at.isoformat() == "2026-06-12T01:30:00+00:00"
    several = parse_image_finding(_ec2("CVE-2023-4911 - glibc, glibc-common", Paths=["/lib/x"], FixAvailable=False))
    assert several.package_names == ("glibc", "glibc-common") and several.fix_available == "NO"
    assert several.description == "Affected paths: /lib/x"
    with pytest.raises(ShapeError, match="CVE-2024-2: SeverityLabel is missing"):
        parse_image_finding({"Title": "CVE-2024-2 - x"})


def test_a_title_is_read_up_to_its_first_word() -> None:
    f = parse_image_finding(_ec2("CVE-2011-4163 - git\r\n::error::x", SeverityLabel="critical"))
    assert (f.vulnerability_id, f.package_names) == ("CVE-2011-4163", ("git",))
    assert f.title == "CVE-2011-4163 - git\r\n::error::x"
    bare = parse_image_finding(_ec2("CVE-2011-4163\n::error::x"))
    assert bare.vulnerability_id == "CVE-2011-4163" and bare.packages == () and unread_title(bare)
    assert not unread_title(f) and not unread_title(parse_image_finding(_ec2()))
    with pytest.raises(ShapeError, match="first word 'Kernel' is not a vulnerability id"):
        parse_image_finding(_ec2("Kernel livepatch advisory\r\n::error::x", SeverityLabel="critical"))


@pytest.mark.parametrize(("raw", "message"), [
    ({"SeverityLabel": "high"}, "without a Title"),
    (_ec2(Score=float("nan")), "finite number"),
    (_ec2(Score=float("inf")), "finite number"),
    (_ec2(Score="7.5"), "finite number"),
    (_ec2(FixAvailable="true"), "FixAvailable must be true or false"),
    (_ec2(SeverityLabel=3), "SeverityLabel must be a string"),
    # Image Builder's findings with an unknown severity are refused; EC2's must be too, or
    # `severity == "CRITICAL"` silently misses a finding whose label only looks like CRITICAL.
    (_ec2(SeverityLabel="severe"), "SeverityLabel 'severe' is not one of CRITICAL, HIGH"),
    (_ec2(SeverityLabel="critical\u200b"), "SeverityLabel 'critical\\\\u200b' is not one of"),
    (_ec2(SeverityLabel="\u202ehigh"), "SeverityLabel '\\\\u202ehigh' is not one of"),
    (_ec2(Paths="/a"), "Paths must be a list"),
    (_ec2(FirstObservedAt="yesterday"), "bad timestamp"),
])
def test_malformed_ec2_findings_are_refused(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ShapeError, match=message):
        parse_image_finding(raw)


def test_an_event_finding_keeps_packages_fixed_versions_and_exploit_data() -> None:
    finding, enrichment = parse_event_finding(FINDING_EVENT["detail"])
    assert finding.vulnerability_id == "CVE-2022-3171" and finding.severity == "HIGH"
    assert finding.packages[0].fixed_in_version == "3.16.3" and finding.packages[0].version == "2.5.0"
    assert enrichment is not None and enrichment.exploit_available is not None
    assert enrichment.exploit_available.value is False
    _, with_epss = parse_event_finding({**FINDING_EVENT["detail"], "exploitAvailable": "YES", "epss": {"score": 0.7}})
    assert with_epss is not None and with_epss.epss is not None and with_epss.epss.score == 0.7
    with pytest.raises(ShapeError, match=r"outside 0\.\.1"):
        parse_event_finding({**FINDING_EVENT["detail"], "epss": {"score": 7}})
    with pytest.raises(ShapeError, match="exploitAvailable"):
        parse_event_finding({**FINDING_EVENT["detail"], "exploitAvailable": "MAYBE"})


# -- get-image-findings output ---------------------------------------------------------------
def test_get_image_findings_output_in_every_shape(tmp_path: Path) -> None:
    one = _write(tmp_path / "one.json", json.dumps({"ImageFindings": [_ec2(), _ec2("CVE-2024-1 - x")]}))
    pages = _write(tmp_path / "pages.json", json.dumps([{"ImageFindings": [_ec2()]},
                                                        {"ImageFindings": [_ec2("CVE-2024-1 - x")]}]))
    empty = _write(tmp_path / "empty.json", json.dumps({"ImageFindings": []}))
    assert _read(one) == _read(pages)
    assert [f.vulnerability_id for f in _read(one)] == ["CVE-2022-3171", "CVE-2024-1"]
    with pytest.raises(ScanNotReadyError, match="cannot tell whether this build was scanned"):
        _read(empty)  # NOTE: also what EC2 lists for an AMI never scanned (tests/adversarial/test_paths_edges.py)


@pytest.mark.parametrize("key", ["NextToken", "nextToken"])
def test_a_truncated_export_exits_3(tmp_path: Path, key: str, capsys: pytest.CaptureFixture[str],
                                    isolated_env: Path) -> None:
    path = _write(tmp_path / "cut.json", json.dumps({"ImageFindings": [_ec2()], key: "eyJ2IjoxfQ=="}))
    with pytest.raises(IncompleteError, match="carries a NextToken"):
        _read(path)
    assert main(["check", "--findings", str(path), *FEEDS]) == ExitCode.INCOMPLETE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "without --max-items" in err


def test_mixed_kinds_in_one_file_and_both_copies_of_a_scan_are_refused(tmp_path: Path) -> None:
    mixed = _write(tmp_path / "mixed.json", json.dumps([{"ImageFindings": [_ec2()]}, FINDING_EVENT]))
    with pytest.raises(InputError, match="mixes"):
        _read(mixed)
    ec2 = _write(tmp_path / "ec2.json", json.dumps({"ImageFindings": [_ec2()]}))
    events = _write(tmp_path / "events.json", json.dumps(FINDING_EVENT))
    with pytest.raises(InputError, match="output and EventBridge events were given") as err:
        _read(ec2, events)
    assert "two copies of the same scan" in (err.value.hint or "")


def test_a_malformed_finding_names_its_place(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.json", json.dumps({"ImageFindings": [_ec2(), _ec2(Score="9.8")]}))
    with pytest.raises(InputError, match=r"page 1, finding 2: Score must be a finite number"):
        _read(path)


# -- EventBridge events ----------------------------------------------------------------------
def test_events_one_per_document_array_and_json_lines_agree(tmp_path: Path) -> None:
    events = [_finding_event(n, f"CVE-2024-{1000 + n}") for n in range(3)] + [_complete(3)]
    documents = _write(tmp_path / "docs.json", "".join(json.dumps(e, indent=2) for e in events))
    array = _write(tmp_path / "array.json", json.dumps(events))
    lines = _write(tmp_path / "lines.jsonl", "\n".join(json.dumps(e) for e in events) + "\n")
    found = _read(documents)
    assert [f.vulnerability_id for f in found] == ["CVE-2024-1000", "CVE-2024-1001", "CVE-2024-1002"]
    assert _read(array) == _read(lines) == found


def test_events_split_across_files_are_checked_as_one_scan(tmp_path: Path) -> None:
    findings = _write(tmp_path / "f.jsonl", "\n".join(json.dumps(_finding_event(n)) for n in range(2)))
    complete = _write(tmp_path / "c.json", json.dumps(_complete(2)))
    assert len(_read(findings, complete)) == 2


def test_a_repeated_delivery_counts_once(tmp_path: Path) -> None:
    events = [_finding_event(0), _finding_event(0), _finding_event(1), _complete(2)]
    assert len(_read(_write(tmp_path / "dup.json", json.dumps(events)))) == 2


def test_the_real_example_events(tmp_path: Path) -> None:
    found = _read(EVENTS / "ondemand-ami-scan-findings.event.json")
    assert [f.vulnerability_id for f in found] == ["CVE-2022-3171"]
    short = _write(tmp_path / "short.json", json.dumps([FINDING_EVENT, COMPLETE]))
    with pytest.raises(IncompleteError, match="reported 8 findings but the events hold 1"):
        _read(short)


def test_a_failed_scan_event_exits_3_with_its_reason(capsys: pytest.CaptureFixture[str], isolated_env: Path) -> None:
    with pytest.raises(ScanNotReadyError, match=r"ended FAILED \(UNSUPPORTED_OS\)"):
        _read(EVENTS / "ondemand-ami-scan-complete-failed.event.json")
    code = main(["check", "--findings", str(EVENTS / "ondemand-ami-scan-complete-failed.event.json"),
                 *FEEDS])
    assert code == ExitCode.INCOMPLETE
    assert capsys.readouterr().err.count("\n") == 1


@pytest.mark.parametrize(("events", "error", "message"), [
    ([_finding_event(0), _finding_event(1, scan="0" * 32)], InputError, "events are of 2 on-demand scans"),
    ([{**FINDING_EVENT, "detail-type": "Inspector2 Finding"}], InputError, "is not 'OnDemand AMI Scan Findings'"),
    ([{**FINDING_EVENT, "detail": None}], InputError, "without a detail object"),
    ([_finding_event(0, scanId=None, findingArn="arn:aws:inspector2:::finding/abc")], InputError, "without a scanId"),
    ([_finding_event(0), {**_complete(1), "detail": {**_complete(1)["detail"], "findingSeverityCounts": {}}}],
     InputError, "without findingSeverityCounts.TOTAL"),
    ([_finding_event(0), _complete(2)], IncompleteError, "reported 2 findings but the events hold 1"),
    ([_finding_event(0), _finding_event(1), _complete(1)], IncompleteError,
     "reported 1 findings but the events hold 2"),
    ([_finding_event(0, inspectorScore=float("nan"))], InputError, "NaN is not a number gate accepts"),
])
def test_bad_event_sets_are_refused(tmp_path: Path, events: list[Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        _read(_write(tmp_path / "events.json", json.dumps(events)))


def test_exploit_data_from_events_reaches_the_policy(tmp_path: Path, isolated_env: Path) -> None:
    events = _write(tmp_path / "events.json", json.dumps([_finding_event(0, exploitAvailable="YES"), _complete(1)]))
    policy = _write(tmp_path / "p.yaml", "version: 1\nname: p\nrules:\n  - id: exploit\n    when: exploit_available\n"
                    "    action: fail\n")
    report = tmp_path / "r.json"
    assert main(["check", "--findings", str(events), "--policy", str(policy), *FEEDS,
                 "--report", f"json={report}"]) == ExitCode.VIOLATION
    assert json.loads(report.read_text())["findings"][0]["matchedRules"] == ["exploit"]
    assert ExportSource([events]).event_enricher().enrich(["CVE-2024-1000", "CVE-1"]).keys() == {"CVE-2024-1000"}


def test_events_without_a_scan_complete_event_say_so(tmp_path: Path, isolated_env: Path) -> None:
    events = _write(tmp_path / "events.json", json.dumps([_finding_event(0)]))
    report = tmp_path / "r.json"
    assert main(["check", "--findings", str(events), *FEEDS, "--report", f"json={report}"]) \
        == ExitCode.PASS
    feeds = json.loads(report.read_text())["feeds"]
    assert any("cannot check that every finding event is here" in (f["detail"] or "") for f in feeds)


# -- the scan type and Image Builder's own condition -----------------------------------------
def test_the_scan_type_picks_the_path() -> None:
    def config(**c: Any) -> dict[str, Any]:
        return {"type": "AMI", "imageScanningConfiguration": {"imageScanningEnabled": True, **c}}
    assert scan_path(config(), ARN) is ScanPath.IMAGE_BUILDER
    assert scan_path(config(imageScanningTypes=["TEST_INSTANCE_CVE"]), ARN) is ScanPath.IMAGE_BUILDER
    assert scan_path(config(imageScanningTypes=["ON_DEMAND_AMI_CVE"]), ARN) is ScanPath.ON_DEMAND
    assert scan_path({**config(imageScanningTypes=["ON_DEMAND_AMI_CVE"]), "type": "DOCKER"}, ARN) \
        is ScanPath.IMAGE_BUILDER
    with pytest.raises(ScanNotReadyError, match="scan type 'SBOM_CVE', which gate does not know") as err:
        scan_path(config(imageScanningTypes=["SBOM_CVE"]), ARN)
    assert err.value.exit_code == ExitCode.INCOMPLETE
    with pytest.raises(ScanNotReadyError, match="exactly one scan type"):
        scan_path(config(imageScanningTypes=["TEST_INSTANCE_CVE", "ON_DEMAND_AMI_CVE"]), ARN)


def test_the_condition_is_read_and_checked() -> None:
    def image(condition: Any) -> dict[str, Any]:
        return {"imageScanningConfiguration": {"scanResultCondition": condition}}
    assert scan_result_condition({}, ARN) is None
    assert scan_result_condition(image({"maximumSeverityLabel": "LOW"}), ARN) == ScanResultCondition("LOW", True)
    assert scan_result_condition(image({"maximumSeverityLabel": "HIGH", "fixAvailable": False}), ARN) \
        == ScanResultCondition("HIGH", False)
    for bad in ({"maximumSeverityLabel": "CRITICAL"}, {"fixAvailable": True}, "HIGH",
                {"maximumSeverityLabel": "LOW", "fixAvailable": "yes"}):
        with pytest.raises(ScanNotReadyError, match="scanResultCondition gate cannot read"):
            scan_result_condition(image(bad), ARN)


def _f(severity: str, fix: str) -> Finding:
    return Finding(vulnerability_id="CVE-1", severity=severity, title=None, description=None, fix_available=fix,
                   packages=())


def test_image_builder_check_follows_the_documented_rule() -> None:
    findings = [_f("CRITICAL", "NO"), _f("HIGH", "YES"), _f("MEDIUM", "PARTIAL"), _f("UNTRIAGED", "YES")]
    high_fixable = image_builder_check(ScanResultCondition("HIGH", True), findings)
    assert (high_fixable.passed, high_fixable.counted, high_fixable.exceeding) == (True, 3, 0)
    high_all = image_builder_check(ScanResultCondition("HIGH", False), findings)
    assert (high_all.passed, high_all.counted, high_all.exceeding) == (False, 4, 1)
    low = image_builder_check(ScanResultCondition("LOW", True), findings)
    assert (low.passed, low.exceeding) == (False, 2)
    assert "would fail: 2 of 3 counted findings exceed it" in low.text
    assert image_builder_check(ScanResultCondition("INFORMATIONAL", True), []).passed


def test_snapshots_keep_the_condition_and_refuse_a_bad_one() -> None:
    finding = parse_image_finding(_ec2())
    gathered = Gathered(target=ARN, findings=(finding,),
                        enrichments={finding.vulnerability_id: Enrichment(finding.vulnerability_id)}, feeds=(),
                        scan_result_condition=ScanResultCondition("MEDIUM", False))
    doc = snapshot_to_json(gathered, datetime(2026, 11, 26, tzinfo=UTC))
    assert snapshot_from_json(json.loads(json.dumps(doc))) == gathered
    assert snapshot_from_json({**doc, "scanResultCondition": None}).scan_result_condition is None
    with pytest.raises(ShapeError, match="scanResultCondition needs"):
        snapshot_from_json({**doc, "scanResultCondition": {"maximumSeverityLabel": "CRITICAL", "fixAvailable": True}})


def test_a_cut_export_is_refused(tmp_path: Path, isolated_env: Path) -> None:
    whole = json.dumps({"ImageFindings": [_ec2(), _ec2("CVE-2024-1 - x")]})
    cut = _write(tmp_path / "cut.json", whole[: len(whole) // 2])
    assert main(["check", "--findings", str(cut), *FEEDS]) == ExitCode.USAGE


def test_a_hostile_title_stays_inert_on_the_terminal(tmp_path: Path, isolated_env: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    hostile = "CVE-2024-7 x\r::error::pwned\n::warning file=a::b \x1b[2J"
    path = _write(tmp_path / "h.json", json.dumps({"ImageFindings": [_ec2(hostile, SeverityLabel="critical")]}))
    report = tmp_path / "r.json"
    assert main(["check", "--findings", str(path), *FEEDS, "--report", f"json={report}"]) == ExitCode.VIOLATION
    out = capsys.readouterr().out
    lines = [line for chunk in out.split("\n") for line in chunk.split("\r")]
    assert not any(line.lstrip().startswith("::") for line in lines) and "\x1b[2J" not in out
    doc = json.loads(report.read_text())
    assert doc["findings"][0]["vulnerabilityId"] == "CVE-2024-7"
    assert any("names no packages gate can read" in n for n in doc["notes"])
