"""A hostile user's second pass over every input path of `gate check`: each case a pass that should not pass.

Each hole found is a test here that failed before its fix, with the exact exit code, driven through the
CLI; each names the README fail-closed row it holds. Cases that already held are in the other files.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.adversarial.test_input_edges import export, finding, get_image
from tests.aws.fixtures import aws_env
from tests.baseline.test_chain import check
from tests.conftest import DATA, EXAMPLES
from tests.emulator import Emulator, image_arn, image_finding, pipeline_arn

BUILD = image_arn("web", "1.0.0", 3)
PIPELINE = pipeline_arn("web")
CVE = "CVE-2024-3400"
KEV_CVE = "CVE-2025-48384"
"""In the bundled CISA KEV catalog (examples/kev.json)."""
OTHER_CVE = "CVE-2024-1111"
AS_OF = "2026-11-21"
OBSERVED = "2026-11-20T10:00:00+00:00"
EVENTS = DATA / "aws-examples" / "inspector2-eventbridge"
EVENT_CVE = "CVE-2022-3171"
"""The CVE of the real on-demand finding event (HIGH)."""
EVENT_AMI = "ami-0abcdef1234567890"
__all__ = ["aws_env"]
EXAMPLE_AMI = "ami-057bdb2cdf3ace300"
"""The build-region AMI of examples/image.json (what `get_image` writes)."""


def error(capsys: pytest.CaptureFixture[str]) -> str:
    """The one line gate wrote to stderr, without its prefix."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gate: error: "), err
    assert "internal error" not in err
    return err.removeprefix("gate: error: ").rstrip("\n")


def policy(tmp: Path, when: str, name: str = "policy.yaml") -> Path:
    path = tmp / name
    path.write_text(f"version: 1\nname: edge\nrules:\n  - id: edge\n    when: {json.dumps(when)}\n    action: fail\n",
                    encoding="utf-8")
    return path


def run(tmp: Path, findings: Path, *argv: str, as_of: str = AS_OF) -> int:
    return main(["check", "--findings", str(findings), "--no-cached-feeds", "--as-of", as_of, *argv])


def write(tmp: Path, name: str, doc: Any) -> Path:
    path = tmp / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=1), encoding="utf-8")
    return path


# -- EventBridge events of an on-demand scan -------------------------------------------------------------

def _event(name: str = "ondemand-ami-scan-findings.event.json", **detail: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    event["detail"].update(detail)
    return event


def _complete(total: int, ami: str = EVENT_AMI, severity: str = "LOW") -> dict[str, Any]:
    """The scan-complete event of `total` findings, all of `severity`."""
    counts = {**dict.fromkeys(("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNTRIAGED"), 0),
              severity: total, "TOTAL": total}
    event = _event("ondemand-ami-scan-complete-successful.event.json", resourceId=ami, findingSeverityCounts=counts)
    event["resources"] = [ami]
    return event


FAILS_CRITICAL = 'severity == "CRITICAL"'


@pytest.mark.parametrize("stamp", ["same", "absent"])
def test_one_finding_event_twice_with_different_content_is_refused(
        stamp: str, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """README: the same page or finding twice. Before: the later copy won, so a LOW copy passed the CRITICAL one."""
    critical, low = _event(severity="CRITICAL"), _event(severity="LOW")
    if stamp == "absent":
        del critical["detail"]["updatedAt"], low["detail"]["updatedAt"]
    events = write(isolated_env, "events.json", [critical, low])
    rule = str(policy(isolated_env, FAILS_CRITICAL))
    assert run(isolated_env, events, "--policy", rule) == ExitCode.USAGE
    assert error(capsys).startswith(f"{events}: event 2 repeats the finding of event 1 "
                                    f"({critical['detail']['findingArn']}) with other content and no later "
                                    "updatedAt: gate will not pick one")


def test_a_finding_event_delivered_twice_alike_is_read_once(isolated_env: Path) -> None:
    """EventBridge delivers at least once: an identical copy is the same finding (the scan's TOTAL counts it once)."""
    critical = _event(severity="CRITICAL")
    events = write(isolated_env, "events.json", [critical, copy.deepcopy(critical), _complete(1, severity="CRITICAL")])
    assert run(isolated_env, events, "--policy", str(policy(isolated_env, FAILS_CRITICAL))) == ExitCode.VIOLATION


@pytest.mark.parametrize("edit", ["in-place", "later-copy"])
def test_a_finding_event_edited_to_a_lower_severity_disagrees_with_the_scans_counts(
        edit: str, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """README: on-demand scan events whose counts disagree. Before: only TOTAL was checked, so a CRITICAL finding
    edited to LOW (or followed by a LOW copy dated later) kept the count and passed."""
    critical = _event(severity="CRITICAL")
    listed = [_event(severity="LOW")] if edit == "in-place" else [
        critical, _event(severity="LOW", updatedAt="2026-06-12T02:30:00.000Z")]
    events = write(isolated_env, "events.json", [*listed, _complete(1, severity="CRITICAL")])
    assert run(isolated_env, events, "--policy", str(policy(isolated_env, FAILS_CRITICAL))) == ExitCode.USAGE
    assert error(capsys).startswith("on-demand scan 9f1c4b8d2e6a4f0b7c3d5e1a8b2f6c4d reported 1 CRITICAL findings but "
                                    "the events hold 0: an event was edited or is not of this scan")


def test_a_later_update_of_a_finding_event_wins(isolated_env: Path) -> None:
    """Inspector updates a finding: the copy with the later updatedAt is the finding as it is now."""
    critical = _event(severity="CRITICAL", updatedAt="2026-06-12T02:30:00.000Z")
    events = write(isolated_env, "events.json", [critical, _event(severity="LOW")])
    assert run(isolated_env, events, "--policy", str(policy(isolated_env, FAILS_CRITICAL))) == ExitCode.VIOLATION


def _in_package(package: str, arn_tail: str, **detail: Any) -> dict[str, Any]:
    """The real finding event, moved to another package (another finding of the same CVE)."""
    event = _event(**detail)
    event["detail"]["findingArn"] = event["detail"]["findingArn"][:-1] + arn_tail
    event["detail"]["packageVulnerabilityDetails"]["vulnerablePackages"][0]["name"] = package
    return event


@pytest.mark.parametrize("scores", [(0.01, 0.9), (0.9, 0.01)], ids=["low-first", "high-first"])
def test_finding_events_disagreeing_on_a_cves_epss_are_refused(
        scores: tuple[float, float], isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """README: a CVE listed twice with different values. Before: the first event's EPSS won, so 0.01 first passed."""
    events = write(isolated_env, "events.json", [_in_package("protobuf", "1", epss={"score": scores[0]}),
                                                 _in_package("protobuf-lite", "2", epss={"score": scores[1]})])
    assert run(isolated_env, events, "--policy", str(policy(isolated_env, "epss > 0.5"))) == ExitCode.USAGE
    assert error(capsys).startswith(f"{EVENT_CVE} is answered twice with different values, at {events}: event 1 and "
                                    f"at {events}: event 2, and neither is later: gate will not pick one")


def test_the_later_of_two_finding_events_says_a_cves_epss(isolated_env: Path) -> None:
    events = write(isolated_env, "events.json", [
        _in_package("protobuf", "1", epss={"score": 0.01}, updatedAt="2026-06-01T00:00:00.000Z"),
        _in_package("protobuf-lite", "2", epss={"score": 0.9})])
    assert run(isolated_env, events, "--policy", str(policy(isolated_env, "epss > 0.5"))) == ExitCode.VIOLATION


@pytest.mark.parametrize("listed", [[_event(severity="LOW")], [_event(severity="LOW"), _complete(1)], [_complete(0)]],
                         ids=["finding", "finding-and-complete", "complete"])
def test_events_of_another_ami_than_the_image_are_refused(
        listed: list[dict[str, Any]], isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """README: an --image of another build than the export's findings. Before: another AMI's clean scan passed."""
    image = get_image(isolated_env, scan={"status": "COMPLETED"}, types=["ON_DEMAND_AMI_CVE"])
    events = write(isolated_env, "events.json", listed)
    assert run(isolated_env, events, "--image", str(image),
               "--policy", str(policy(isolated_env, FAILS_CRITICAL))) == ExitCode.USAGE
    assert error(capsys).startswith(f"--image {image} describes {BUILD}, whose scanned AMI is {EXAMPLE_AMI}, but "
                                    f"{events}: event ")


def test_events_of_the_image_ami_are_judged(isolated_env: Path) -> None:
    image = get_image(isolated_env, scan={"status": "COMPLETED"}, types=["ON_DEMAND_AMI_CVE"])
    own = {"resources": [{"type": "MACHINE_IMAGE", "id": EXAMPLE_AMI, "partition": "aws", "region": "us-east-1"}]}
    events = write(isolated_env, "events.json", [_event(severity="CRITICAL", **own),
                                                 _complete(1, EXAMPLE_AMI, "CRITICAL")])
    assert run(isolated_env, events, "--image", str(image),
               "--policy", str(policy(isolated_env, FAILS_CRITICAL))) == ExitCode.VIOLATION


@pytest.mark.parametrize("which", ["finding", "complete"])
def test_events_naming_two_amis_are_refused(which: str, isolated_env: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """One scan is of one AMI: a finding event or a scan-complete event of another AMI is not of this scan."""
    other = {"resources": [{"type": "MACHINE_IMAGE", "id": EXAMPLE_AMI, "partition": "aws", "region": "us-east-1"}]}
    second = _event(severity="LOW", findingArn=_event()["detail"]["findingArn"][:-1] + "0", **other) \
        if which == "finding" else _complete(1, EXAMPLE_AMI)
    events = write(isolated_env, "events.json", [_event(severity="LOW"), second])
    assert run(isolated_env, events, "--policy", str(policy(isolated_env, FAILS_CRITICAL))) == ExitCode.USAGE
    assert error(capsys).startswith(f"the events name 2 AMIs: {EVENT_AMI} ({events}: event 1); {EXAMPLE_AMI} "
                                    f"({events}: event 2)")


def test_events_that_name_no_ami_with_the_image_are_refused(isolated_env: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Stripped of their resources, another AMI's events could not be told from this build's."""
    image = get_image(isolated_env, scan={"status": "COMPLETED"}, types=["ON_DEMAND_AMI_CVE"])
    bare = _event(severity="LOW", resources=[])
    events = write(isolated_env, "events.json", [bare])
    assert run(isolated_env, events, "--image", str(image),
               "--policy", str(policy(isolated_env, FAILS_CRITICAL))) == ExitCode.USAGE
    assert error(capsys).startswith(f"the on-demand scan events name no AMI, so gate cannot tell they are of {BUILD}")


# -- an empty on-demand export ---------------------------------------------------------------------------

@pytest.mark.parametrize("doc", [{"ImageFindings": []}, [{"ImageFindings": []}]], ids=["page", "array"])
def test_an_empty_ec2_export_without_the_image_is_refused(
        doc: Any, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """README: an empty export without --image. Before: `get-image-findings` of an AMI never scanned passed."""
    empty = write(isolated_env, "ec2.json", doc)
    assert run(isolated_env, empty, "--policy", str(policy(isolated_env, FAILS_CRITICAL))) == ExitCode.INCOMPLETE
    assert error(capsys).startswith(f"cannot tell whether this build was scanned: {empty} holds no findings, which "
                                    "is also what EC2 lists for an AMI whose on-demand scan never ran or has not "
                                    "finished")


def test_an_empty_ec2_export_with_the_image_of_a_complete_scan_passes(isolated_env: Path) -> None:
    image = get_image(isolated_env, scan={"status": "COMPLETED"}, types=["ON_DEMAND_AMI_CVE"])
    empty = write(isolated_env, "ec2.json", {"ImageFindings": []})
    assert run(isolated_env, empty, "--image", str(image),
               "--policy", str(policy(isolated_env, FAILS_CRITICAL))) == ExitCode.PASS


def test_a_non_empty_ec2_export_without_the_image_is_judged_with_a_note(isolated_env: Path) -> None:
    found = write(isolated_env, "ec2.json", {"ImageFindings": [image_finding(CVE, "critical")]})
    report = isolated_env / "report.json"
    assert run(isolated_env, found, "--policy", str(policy(isolated_env, FAILS_CRITICAL)),
               "--report", f"json={report}") == ExitCode.VIOLATION
    notes = json.loads(report.read_text(encoding="utf-8"))["notes"]
    assert any(n.startswith("the scan state was not checked") for n in notes), notes


def test_events_of_a_successful_scan_with_no_findings_pass(isolated_env: Path) -> None:
    """A scan-complete event says the scan ran and found nothing: that is evidence, unlike an empty listing."""
    events = write(isolated_env, "events.json", [_complete(0)])
    assert run(isolated_env, events, "--policy", str(policy(isolated_env, FAILS_CRITICAL))) == ExitCode.PASS


# -- a baseline gate did not write ------------------------------------------------------------------------

def test_a_baseline_report_without_its_evaluation_time_is_refused(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """README: a --baseline gate did not write. Before: without `evaluatedAt` (and the findings' firstObservedAt)
    no firstSeen was checked, so firstSeen 2099 disarmed `critical-overdue`."""
    code, first = check(isolated_env, 1, "first")
    assert code == ExitCode.VIOLATION
    code, second = check(isolated_env, 2, str(first))
    doc = json.loads(second.read_text(encoding="utf-8"))
    doc.pop("evaluatedAt")
    for item in doc["findings"]:
        item["firstSeen"] = "2099-01-01"
        item.pop("firstObservedAt", None)
    second.write_text(json.dumps(doc), encoding="utf-8")
    capsys.readouterr()
    code, _ = check(isolated_env, 3, str(second))
    assert code == ExitCode.USAGE
    assert error(capsys).startswith(f"--baseline {second}: not a usable gate report or snapshot (a report of a "
                                    "completed run has an evaluatedAt; this one has none: it was edited)")


# -- saved Inspector answers that do not cover every CVE ---------------------------------------------------

def test_a_cve_no_kev_source_was_asked_about_is_unanswerable(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """README: a rule that reads a field no source in the run can answer. Before: saved Inspector answers that
    left the KEV CVE out were the run's only KEV source, its `kev` was unknown, and the `kev` rule passed it."""
    findings = export(isolated_env, finding(KEV_CVE, "LOW"), finding(OTHER_CVE, "LOW", package="zlib"))
    saved = write(isolated_env, "search.json", {"vulnerabilities": [{"id": OTHER_CVE, "source": "NVD"}]})
    rule = str(policy(isolated_env, "kev"))
    assert run(isolated_env, findings, "--finding-details", str(saved), "--policy", rule) == ExitCode.INCOMPLETE
    assert error(capsys) == (f"rule 'edge' reads `kev`, which no source in this run answered for {KEV_CVE} (pass "
                             "--kev-catalog FILE or run `gate feeds update` (the catalog answers every CVE), or pass "
                             "--allow-unanswerable to judge them as not matching)")


def test_allow_unanswerable_judges_such_a_cve_as_not_matching_and_says_so(isolated_env: Path) -> None:
    findings = export(isolated_env, finding(KEV_CVE, "LOW"), finding(OTHER_CVE, "LOW", package="zlib"))
    saved = write(isolated_env, "search.json", {"vulnerabilities": [{"id": OTHER_CVE, "source": "NVD"}]})
    report = isolated_env / "report.json"
    code = run(isolated_env, findings, "--finding-details", str(saved), "--policy", str(policy(isolated_env, "kev")),
               "--allow-unanswerable", "--report", f"json={report}")
    assert code == ExitCode.PASS
    notes = json.loads(report.read_text(encoding="utf-8"))["notes"]
    assert any(n.startswith(f"--allow-unanswerable: rule 'edge' reads `kev`, which no source in this run answered "
                            f"for {KEV_CVE}") for n in notes), notes


def test_a_live_cve_inspector_knows_nothing_of_is_unanswerable_without_a_catalog(
        aws_env: Emulator, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same over the wire: SearchVulnerabilities answers nothing for the CVE, so no source said whether it is in
    KEV. Before: the `kev` rule passed it."""
    aws_env.add_image(BUILD, [finding(KEV_CVE, "LOW")], pipeline_arn=PIPELINE)
    live = ["check", "--image-build-version-arn", BUILD, "--no-cached-feeds", "--as-of", AS_OF, "--wait-timeout", "0",
            "--policy", str(policy(isolated_env, "kev"))]
    assert main(live) == ExitCode.INCOMPLETE
    assert error(capsys).startswith(f"rule 'edge' reads `kev`, which no source in this run answered for {KEV_CVE}")
    assert aws_env.count("SearchVulnerabilities") == 1
    assert main([*live, "--kev-catalog", str(EXAMPLES / "kev.json"), "--max-feed-age", "3650d"]) == ExitCode.VIOLATION


def test_a_kev_catalog_beside_partial_saved_answers_answers_every_cve(isolated_env: Path) -> None:
    findings = export(isolated_env, finding(KEV_CVE, "LOW"), finding(OTHER_CVE, "LOW", package="zlib"))
    saved = write(isolated_env, "search.json", {"vulnerabilities": [{"id": OTHER_CVE, "source": "NVD"}]})
    assert run(isolated_env, findings, "--finding-details", str(saved), "--kev-catalog", str(EXAMPLES / "kev.json"),
               "--max-feed-age", "3650d", "--policy", str(policy(isolated_env, "kev"))) == ExitCode.VIOLATION


# -- duplicate keys in feeds and records ------------------------------------------------------------------

KEV_HEAD = ('{"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.11.20", '
            '"dateReleased": "2026-11-20T17:04:19.9796Z", "count": 1, ')


def _kev_entry(cve: str = CVE, **extra: str) -> dict[str, str]:
    return {"cveID": cve, "vendorProject": "Palo Alto Networks", "product": "PAN-OS", "dateAdded": "2024-04-12",
            "dueDate": "2024-04-19", "requiredAction": "Apply mitigations", "knownRansomwareCampaignUse": "Known",
            **extra}


@pytest.mark.parametrize(("text", "when"), [
    (KEV_HEAD + f'"vulnerabilities": {json.dumps([_kev_entry()])}, '
                f'"vulnerabilities": {json.dumps([_kev_entry("CVE-2020-0001")])}}}', "kev"),
    (KEV_HEAD + '"vulnerabilities": [' + json.dumps(_kev_entry())[:-1]
     + ', "knownRansomwareCampaignUse": "Unknown"}]}', "kev_ransomware"),
], ids=["vulnerabilities-twice", "ransomware-twice"])
def test_a_kev_catalog_with_a_duplicated_key_is_refused(
        text: str, when: str, isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """README: a duplicated JSON key anywhere. Before: the last copy won, and a second list hid the CVE."""
    catalog = write(isolated_env, "kev.json", text)
    rule = str(policy(isolated_env, when))
    findings = export(isolated_env, finding())
    for _ in range(2):  # NOTE: the second run would read an index, if the first had made one
        assert run(isolated_env, findings, "--kev-catalog", str(catalog), "--policy", rule) == ExitCode.USAGE
        assert error(capsys).startswith(f"{catalog}: not JSON gate accepts (duplicate key ")


def _ssvc_record(exploitation: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((DATA / "vulnrichment" / f"{CVE}.json").read_text(encoding="utf-8"))
    for adp in record["containers"]["adp"]:
        for metric in adp.get("metrics", []):
            if metric.get("other", {}).get("type") == "ssvc":
                metric["other"]["content"]["options"][0] = {"Exploitation": exploitation}
    return record


def test_a_vulnrichment_record_with_a_duplicated_key_is_refused(
        isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before: `{"Exploitation": "active", "Exploitation": "none"}` read as none, and the `ssvc` policy passed."""
    folder = isolated_env / "vulnrichment"
    folder.mkdir()
    shutil.copy(DATA / "vulnrichment" / "CVE-2024-1709.json", folder)
    text = json.dumps(_ssvc_record("active")).replace(
        '{"Exploitation": "active"}', '{"Exploitation": "active", "Exploitation": "none"}')
    (folder / f"{CVE}.json").write_text(text, encoding="utf-8")
    findings = export(isolated_env, finding())
    assert run(isolated_env, findings, "--vulnrichment", str(folder), "--policy", "ssvc") == ExitCode.USAGE
    assert error(capsys).startswith(f"{folder / (CVE + '.json')}: not JSON gate accepts (duplicate key 'Exploitation'")


# -- saved Inspector answers that disagree with themselves --------------------------------------------------

def _listed(arn_char: str, score: float, updated: str = "2026-11-20T10:00:00Z") -> dict[str, Any]:
    return {"findingArn": f"arn:aws:inspector2:us-east-1:111122223333:finding/{arn_char * 32}",
            "packageVulnerabilityDetails": {"vulnerabilityId": CVE}, "epss": {"score": score}, "updatedAt": updated}


@pytest.mark.parametrize("order", [(0.01, 0.9), (0.9, 0.01)], ids=["low-first", "high-first"])
def test_saved_inspector_answers_disagreeing_on_a_cve_are_refused(
        order: tuple[float, float], isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """README: a CVE listed twice with different values. Before: the first listed won, so 0.01 before 0.9 passed."""
    findings = export(isolated_env, finding(), finding(package="curl"))
    saved = write(isolated_env, "list-findings.json", {"findings": [_listed("a", order[0]), _listed("b", order[1])]})
    code = run(isolated_env, findings, "--finding-details", str(saved), "--kev-catalog", str(EXAMPLES / "kev.json"),
               "--max-feed-age", "3650d", "--policy", str(policy(isolated_env, "epss > 0.5")))
    assert code == ExitCode.USAGE
    assert error(capsys).startswith(f"{CVE} is answered twice with different values, at {saved}: page 1, "
                                    f"findings[0] and at {saved}: page 1, findings[1], and neither is later: gate "
                                    "will not pick one")


def test_the_later_of_two_saved_inspector_answers_wins(isolated_env: Path) -> None:
    findings = export(isolated_env, finding(), finding(package="curl"))
    saved = write(isolated_env, "list-findings.json", {"findings": [
        _listed("a", 0.01, "2026-11-01T10:00:00Z"), _listed("b", 0.9, "2026-11-20T10:00:00Z")]})
    assert run(isolated_env, findings, "--finding-details", str(saved), "--kev-catalog", str(EXAMPLES / "kev.json"),
               "--max-feed-age", "3650d", "--policy", str(policy(isolated_env, "epss > 0.5"))) == ExitCode.VIOLATION



def test_live_inspector_findings_of_one_cve_disagreeing_on_epss_are_judged_by_the_higher(
        aws_env: Emulator, isolated_env: Path) -> None:
    """Over the wire, one CVE in two packages is two Inspector findings; before, the first listed said the EPSS, so a
    stale 0.01 listed first passed `epss > 0.5` over 0.9. AWS's own answers are read strictest-first, not refused."""
    aws_env.add_image(BUILD, [finding(CVE, "LOW"), finding(CVE, "LOW", package="curl")], pipeline_arn=PIPELINE)
    for package, score in (("openssl", 0.01), ("curl", 0.9)):
        aws_env.add_inspector_finding(vulnerability_id=CVE, package=package, epss=score,
                                      resource_tags={"Ec2ImageBuilderArn": BUILD}, details={})
    assert main(["check", "--image-build-version-arn", BUILD, "--no-cached-feeds", "--as-of", AS_OF,
                 "--wait-timeout", "0", "--policy", str(policy(isolated_env, "epss > 0.5"))]) == ExitCode.VIOLATION
