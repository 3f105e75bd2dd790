"""Attacks on what AWS answers a live run (issue 19): damaged, foreign, gone or ambiguous answers never pass.

Each case drives `gate check` through the CLI against the emulator over real HTTP and asserts the
exact exit code; each names the README's fail-closed row it holds (see README.md here).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.enrichment.answerdb import FILE
from gate.enrichment.cache import Scope
from gate.errors import ExitCode
from tests.aws.fixtures import aws_env
from tests.conftest import EXAMPLES
from tests.emulator import Emulator, Faults, image_arn, image_finding, image_scan_finding, pipeline_arn

__all__ = ["aws_env"]

ARN = image_arn("web", "1.0.0", 1)
OTHER = image_arn("web", "1.0.0", 2)
PIPELINE = pipeline_arn("web")
TAG = "Ec2ImageBuilderArn"
KEV_CVE = "CVE-2025-48384"
"""In the bundled CISA KEV catalog (examples/kev.json)."""
PLAIN_CVE = "CVE-2024-1111"
CISA = {"dateAdded": "2025-08-25T00:00:00+00:00", "dateDue": "2025-09-15T00:00:00+00:00",
        "action": "Apply mitigations per vendor instructions."}
KEV_DETAIL = {"cisaData": CISA, "epssScore": 0.2}
CLEAN_DETAIL = {"epssScore": 0.01}
ON_DEMAND = ["ON_DEMAND_AMI_CVE"]
POLICY = "version: 1\nname: kev\nrules:\n  - {id: kev, when: kev, action: fail}\n"


@pytest.fixture
def policy(isolated_env: Path) -> Path:
    path = isolated_env / "kev.yaml"
    path.write_text(POLICY)
    return path


def live(policy: Path, *extra: str, arn: str = ARN) -> int:
    target = ["--image-pipeline-arn", arn] if ":image-pipeline/" in arn else ["--image-build-version-arn", arn]
    return main(["check", *target, "--policy", str(policy), "--no-cached-feeds", "--as-of", "2026-11-21",
                 "--wait-timeout", "0", *extra])


def dry(policy: Path, findings: Path) -> int:
    return main(["check", "--findings", str(findings), "--policy", str(policy), "--no-cached-feeds",
                 "--kev-catalog", str(EXAMPLES / "kev.json"), "--as-of", "2025-09-01"])


def one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gate: error: "), err
    return err


def _kev_only_in_inspector_details(emu: Emulator) -> None:
    """A LOW finding whose only KEV evidence is Inspector's cisaData; a second CVE Inspector has no finding of."""
    emu.add_image(ARN, [image_scan_finding(KEV_CVE, "LOW"), image_scan_finding(PLAIN_CVE, "LOW")],
                  pipeline_arn=PIPELINE)
    emu.add_inspector_finding(vulnerability_id=KEV_CVE, resource_tags={TAG: ARN}, details=KEV_DETAIL)
    emu.add_vulnerability(PLAIN_CVE, {"source": "NVD"})


def _ondemand(emu: Emulator, findings: list[dict[str, Any]], arn: str = ARN) -> None:
    emu.add_image(arn, [], scanning_types=ON_DEMAND)
    emu.add_ondemand_scan(emu.ami_of(arn), findings)


# -- 1. every AWS answer has the members gate reads ------------------------------------------------
def test_the_undamaged_answer_finds_the_kev_cve(aws_env: Emulator, policy: Path) -> None:
    _kev_only_in_inspector_details(aws_env)
    assert live(policy) == ExitCode.VIOLATION


@pytest.mark.parametrize("how", ["cut", "html", "empty"])
def test_a_damaged_list_findings_answer_is_could_not_complete(
        aws_env: Emulator, policy: Path, how: str, capsys: pytest.CaptureFixture[str]) -> None:
    """README: an AWS answer without a member gate reads. Today's reproduction: Inspector seemed to know nothing."""
    _kev_only_in_inspector_details(aws_env)
    aws_env.faults = Faults(damaged_body={"ListFindings": how})
    assert live(policy) == ExitCode.INCOMPLETE
    assert "inspector2:ListFindings answered 200 but its answer has no `findings`" in one_error_line(capsys)


@pytest.mark.parametrize(("operation", "action", "target"), [
    ("GetImage", "imagebuilder:GetImage", ARN),
    ("ListImagePipelineImages", "imagebuilder:ListImagePipelineImages", PIPELINE),
    ("ListImageScanFindings", "imagebuilder:ListImageScanFindings", ARN),
    ("ListImageScanFindingAggregations", "imagebuilder:ListImageScanFindingAggregations", ARN),
    ("BatchGetFindingDetails", "inspector2:BatchGetFindingDetails", ARN),
    ("SearchVulnerabilities", "inspector2:SearchVulnerabilities", ARN),
], ids=["GetImage", "ListImagePipelineImages", "ListImageScanFindings", "ListImageScanFindingAggregations",
        "BatchGetFindingDetails", "SearchVulnerabilities"])
def test_any_damaged_answer_is_could_not_complete(aws_env: Emulator, policy: Path, operation: str, action: str,
                                                  target: str, capsys: pytest.CaptureFixture[str]) -> None:
    _kev_only_in_inspector_details(aws_env)
    aws_env.faults = Faults(damaged_body={operation: "html"})
    assert live(policy, arn=target) == ExitCode.INCOMPLETE
    assert f"{action} answered 200 but its answer has no" in one_error_line(capsys)


@pytest.mark.parametrize(("operation", "how", "action", "message"), [
    ("GetImageFindings", "html", "ec2:GetImageFindings", "answered 200 but its answer has no `ImageFindings`"),
    ("GetImageFindings", "empty", "ec2:GetImageFindings", "answered 200 but its answer has no `ImageFindings`"),
    ("GetImageFindings", "cut", "ec2:GetImageFindings", "answered with a body botocore cannot parse"),
    ("ListOnDemandScans", "cut", "inspector2:ListOnDemandScans", "answered 200 but its answer has no `items`"),
    ("SearchVulnerabilities", "cut", "inspector2:SearchVulnerabilities",
     "answered 200 but its answer has no `vulnerabilities`"),
], ids=["GetImageFindings-html", "GetImageFindings-empty", "GetImageFindings-cut", "ListOnDemandScans-cut",
        "SearchVulnerabilities-cut"])
def test_a_damaged_on_demand_answer_is_could_not_complete(
        aws_env: Emulator, policy: Path, operation: str, how: str, action: str, message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Today an empty-reading GetImageFindings passed a build with a KEV finding as one with no findings."""
    _ondemand(aws_env, [image_finding(KEV_CVE, "low")])
    aws_env.add_vulnerability(KEV_CVE, {"source": "NVD", "cisaData": CISA})
    assert live(policy) == ExitCode.VIOLATION
    aws_env.faults = Faults(damaged_body={operation: how})
    assert live(policy, "--no-cache") == ExitCode.INCOMPLETE
    assert f"{action} {message}" in one_error_line(capsys)


# -- 2. findings belong to the build that was asked about -----------------------------------------
def test_findings_of_another_build_are_could_not_complete(aws_env: Emulator, policy: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """README: a live finding of another build or account. Today the other build's clean finding passed."""
    aws_env.add_image(ARN, [image_scan_finding(KEV_CVE, "LOW")])
    aws_env.add_image(OTHER, [image_scan_finding(PLAIN_CVE, "LOW")])
    aws_env.add_vulnerability(KEV_CVE, {"source": "NVD", "cisaData": CISA})
    aws_env.add_vulnerability(PLAIN_CVE, {"source": "NVD"})
    aws_env.faults = Faults(answer_for={"ListImageScanFindings": {ARN: OTHER}})
    assert live(policy) == ExitCode.INCOMPLETE
    assert f"imagebuilder:ListImageScanFindings for {ARN} answered {PLAIN_CVE} of {OTHER}" in one_error_line(capsys)


def test_a_finding_of_another_account_is_could_not_complete(aws_env: Emulator, policy: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    aws_env.add_image(ARN, [{**image_scan_finding(PLAIN_CVE, "LOW"), "awsAccountId": "999988887777"}])
    aws_env.add_vulnerability(PLAIN_CVE, {"source": "NVD"})
    assert live(policy) == ExitCode.INCOMPLETE
    assert f"answered {PLAIN_CVE} of {ARN} in 999988887777" in one_error_line(capsys)


def test_inspector_findings_outside_the_scope_asked_are_could_not_complete(
        aws_env: Emulator, policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Today another build's Inspector finding lent this build its clean details (no cisaData): pass."""
    aws_env.add_image(ARN, [image_scan_finding(KEV_CVE, "LOW")])
    aws_env.add_inspector_finding(vulnerability_id=KEV_CVE, resource_tags={TAG: ARN}, details=KEV_DETAIL)
    foreign = aws_env.add_inspector_finding(vulnerability_id=KEV_CVE, resource_tags={TAG: OTHER},
                                            details=CLEAN_DETAIL)
    assert live(policy) == ExitCode.VIOLATION
    aws_env.faults = Faults(answer_for={"ListFindings": {ARN: OTHER}})
    assert live(policy, "--no-cache") == ExitCode.INCOMPLETE
    err = one_error_line(capsys)
    assert f"inspector2:ListFindings answered a finding of another resource than {ARN} ({foreign})" in err


def test_a_search_answer_about_another_cve_is_could_not_complete(aws_env: Emulator, policy: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Today Inspector's answer about another CVE read as "Inspector knows nothing about this one": pass."""
    _ondemand(aws_env, [image_finding(KEV_CVE, "low")])
    aws_env.add_vulnerability(KEV_CVE, {"source": "NVD", "cisaData": CISA})
    aws_env.add_vulnerability(PLAIN_CVE, {"source": "NVD"})
    aws_env.faults = Faults(answer_for={"SearchVulnerabilities": {KEV_CVE: PLAIN_CVE}})
    assert live(policy) == ExitCode.INCOMPLETE
    assert f"inspector2:SearchVulnerabilities for {KEV_CVE} answered about another vulnerability ({PLAIN_CVE})" \
        in one_error_line(capsys)


# -- 3. a missing or null severity ----------------------------------------------------------------
def test_a_live_finding_without_a_severity_is_could_not_complete(aws_env: Emulator, policy: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """README: a finding without a severity. Today it became UNTRIAGED and passed."""
    finding = image_scan_finding(PLAIN_CVE)
    del finding["severity"]
    aws_env.add_image(ARN, [finding])
    aws_env.add_vulnerability(PLAIN_CVE, {"source": "NVD"})
    assert live(policy) == ExitCode.INCOMPLETE
    assert f"{PLAIN_CVE}: severity is missing" in one_error_line(capsys)


@pytest.mark.parametrize("severity", [None, "absent"])
def test_an_exported_finding_without_a_severity_is_invalid_input(
        isolated_env: Path, policy: Path, severity: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    finding: dict[str, Any] = {**image_scan_finding(PLAIN_CVE), "imageBuildVersionArn": ARN, "severity": severity}
    if severity == "absent":
        del finding["severity"]
    path = isolated_env / "findings.json"
    path.write_text(json.dumps({"findings": [finding]}))
    assert dry(policy, path) == ExitCode.USAGE
    word = "null" if severity is None else "missing"
    assert f"page 1, finding 1: {PLAIN_CVE}: severity is {word}" in one_error_line(capsys)


# -- 10. an on-demand finding's id is the first word of its title ---------------------------------
HIDDEN = f"{KEV_CVE} - git\n::error::x"
"""Today this whole title was the id, so the KEV CVE matched nothing and the build passed."""


def test_a_live_title_with_text_after_its_id_is_judged_by_its_id(aws_env: Emulator, policy: Path) -> None:
    _ondemand(aws_env, [image_finding(KEV_CVE, "low", title=HIDDEN)])
    aws_env.add_vulnerability(KEV_CVE, {"source": "NVD", "cisaData": CISA})
    report = policy.parent / "report.json"
    assert live(policy, "--report", f"json={report}") == ExitCode.VIOLATION
    [judged] = json.loads(report.read_text())["findings"]
    assert judged["vulnerabilityId"] == KEV_CVE and judged["title"] == HIDDEN


def test_an_exported_title_with_text_after_its_id_is_judged_by_its_id(isolated_env: Path, policy: Path) -> None:
    path = isolated_env / "ec2.json"
    path.write_text(json.dumps({"ImageFindings": [image_finding(KEV_CVE, "low", title=HIDDEN)]}))
    assert dry(policy, path) == ExitCode.VIOLATION


NOT_AN_ID = "Kernel livepatch advisory\r\n::error::pwned"


def test_a_live_title_whose_first_word_is_no_id_is_could_not_complete(
        aws_env: Emulator, policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """README: an on-demand title whose first word is not a vulnerability id."""
    _ondemand(aws_env, [image_finding(KEV_CVE, "critical", title=NOT_AN_ID)])
    assert live(policy) == ExitCode.INCOMPLETE
    err = one_error_line(capsys)
    assert "first word 'Kernel' is not a vulnerability id" in err and "\n::error" not in err


def test_an_exported_title_whose_first_word_is_no_id_is_invalid_input(
        isolated_env: Path, policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = isolated_env / "ec2.json"
    path.write_text(json.dumps({"ImageFindings": [image_finding(KEV_CVE, "critical", title=NOT_AN_ID)]}))
    assert dry(policy, path) == ExitCode.USAGE
    assert "page 1, finding 1: the finding titled 'Kernel livepatch" in one_error_line(capsys)


# -- 12. only a build that exists is judged --------------------------------------------------------
@pytest.mark.parametrize("state", ["DELETED", "CANCELLED", "FAILED", "DISABLED"])
def test_a_build_that_is_gone_is_could_not_complete(aws_env: Emulator, policy: Path, state: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """README: an image whose state is DELETED, CANCELLED, FAILED or DISABLED. Today: PASS, 0 findings."""
    aws_env.add_image(ARN, [], status=state)
    assert live(policy) == ExitCode.INCOMPLETE
    assert f"{ARN} is {state}: there is no finished build to judge" in one_error_line(capsys)


def test_a_gone_on_demand_build_is_could_not_complete(aws_env: Emulator, policy: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    aws_env.add_image(ARN, [], scanning_types=ON_DEMAND, status="DELETED")
    assert live(policy) == ExitCode.INCOMPLETE
    assert f"{ARN} is DELETED" in one_error_line(capsys)


@pytest.mark.parametrize(("state", "note"), [
    ("DEPRECATED", f"{ARN} is DEPRECATED: judged all the same"),
    ("TESTING", f"{ARN} is TESTING, not yet AVAILABLE: judged only because its scan is complete"),
], ids=["DEPRECATED", "TESTING"])
def test_a_deprecated_or_unfinished_build_with_a_complete_scan_is_judged_with_a_note(
        aws_env: Emulator, policy: Path, state: str, note: str) -> None:
    aws_env.add_image(ARN, [image_scan_finding(PLAIN_CVE, "LOW")], status=state)
    aws_env.add_vulnerability(PLAIN_CVE, {"source": "NVD"})
    report = policy.parent / "report.json"
    assert live(policy, "--report", f"json={report}") == ExitCode.PASS
    assert note in json.loads(report.read_text())["notes"]


def test_an_unfinished_build_whose_scan_is_not_complete_is_not_judged(aws_env: Emulator, policy: Path) -> None:
    aws_env.add_image(ARN, [], status="BUILDING", scan_states=["SCANNING"])
    assert live(policy) == ExitCode.INCOMPLETE


# -- 8. a cached answer holds only for the account, region and partition it was asked in -----------
def test_an_answer_cached_in_another_account_is_asked_again(aws_env: Emulator, policy: Path) -> None:
    """README (never trusted): a cached answer of another account. Today search-only answers were account-blind."""
    mine, theirs = image_arn("web", account="111111111111"), image_arn("web", account="222222222222")
    _ondemand(aws_env, [image_finding(KEV_CVE, "low")], arn=mine)
    _ondemand(aws_env, [image_finding(KEV_CVE, "low")], arn=theirs)
    aws_env.add_vulnerability(KEV_CVE, {"source": "NVD"})
    assert live(policy, arn=mine) == ExitCode.PASS
    aws_env.add_vulnerability(KEV_CVE, {"source": "NVD", "cisaData": CISA})  # what the other account's Inspector says
    assert live(policy, arn=theirs) == ExitCode.VIOLATION
    assert aws_env.count("SearchVulnerabilities") == 2


def test_a_cached_row_moved_under_another_scope_is_a_miss(aws_env: Emulator, policy: Path,
                                                          isolated_env: Path) -> None:
    mine, theirs = image_arn("web", account="111111111111"), image_arn("web", account="222222222222")
    _ondemand(aws_env, [image_finding(KEV_CVE, "low")], arn=mine)
    _ondemand(aws_env, [image_finding(KEV_CVE, "low")], arn=theirs)
    aws_env.add_vulnerability(KEV_CVE, {"source": "NVD"})
    assert live(policy, arn=mine) == ExitCode.PASS
    key = Scope.of(theirs, "us-east-1", aws_env.url).digest
    # NOTE: closing() as well: a connection's own `with` commits but never closes (Python 3.13 warns at GC).
    with contextlib.closing(sqlite3.connect(isolated_env / "cache" / FILE)) as db, db:
        assert db.execute("UPDATE answers SET scope = ?", (key,)).rowcount == 1
    aws_env.add_vulnerability(KEV_CVE, {"source": "NVD", "cisaData": CISA})
    assert live(policy, arn=theirs) == ExitCode.VIOLATION
    assert aws_env.count("SearchVulnerabilities") == 2
