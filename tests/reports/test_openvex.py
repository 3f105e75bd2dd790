"""OpenVEX out: valid against the OpenVEX project's schema, truthful about accepted risks, and read back by `--vex`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema

from gate.model import Finding, VulnerablePackage
from gate.outcome import Decision
from gate.policy.engine import judge
from gate.policy.loader import parse_policy
from gate.policy.vex import read_documents
from gate.reports.interface import ReportOptions
from gate.reports.openvex import OpenVexReport
from tests.conftest import DATA

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
BUILD = "arn:aws:imagebuilder:us-east-1:111122223333:image/web/1.4.0/3"
PIPELINE = "arn:aws:imagebuilder:us-east-1:111122223333:image-pipeline/web"
AMI = "ami-0123456789abcdef0"
POLICY = """\
version: 1
rules:
  - {id: any, when: 'true', action: fail}
exceptions:
  - {id: waiver, vulnerability: CVE-2024-1, packages: [openssl*], reason: "not reachable (SEC-1)", owner: platform,
     expires: 2027-01-31, until: kev}
  - {id: unused, vulnerability: CVE-2024-9, reason: nothing has it, expires: 2027-01-31}
"""
VEX = {
    "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/7",
    "author": "Platform <p@example.com>", "timestamp": "2026-11-01T10:00:00Z", "version": 3,
    "statements": [
        {"vulnerability": {"name": "CVE-2024-2", "aliases": ["GHSA-aaaa-bbbb-cccc"]},
         "products": [{"@id": PIPELINE, "subcomponents": [{"@id": "pkg:rpm/amzn/curl"}]}],
         "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path",
         "status_notes": "checked by hand"},
        {"vulnerability": {"name": "CVE-2024-3"}, "products": [{"@id": AMI}], "status": "fixed",
         "timestamp": "2026-11-02T00:00:00Z"},
        {"vulnerability": {"name": "CVE-2024-4"}, "products": [{"@id": BUILD}], "status": "under_investigation"},
    ],
}


def finding(vid: str, package: str) -> Finding:
    return Finding(vulnerability_id=vid, severity="HIGH", title=None, description=None, fix_available="NO",
                   packages=(VulnerablePackage(name=package, version="3.0.8", release="1.amzn2023", epoch=1,
                                               arch="x86_64"),),
                   image_build_version_arn=BUILD, image_pipeline_arn=PIPELINE)


FINDINGS = [finding("CVE-2024-1", "openssl-libs"), finding("CVE-2024-2", "curl"), finding("CVE-2024-3", "bash"),
            finding("CVE-2024-4", "zlib"), finding("CVE-2024-5", "glibc")]


def evaluate(tmp_path: Path, policy_text: str = POLICY, vex: list[Path] | None = None):  # type: ignore[no-untyped-def]
    if vex is None:
        path = tmp_path / "platform.vex.json"
        path.write_text(json.dumps(VEX), encoding="utf-8")
        vex = [path]
    return judge(parse_policy(policy_text, "policy.yaml"), FINDINGS, {}, now=NOW, vex=read_documents(vex),
                 products=(BUILD, PIPELINE, AMI), target=BUILD)


def render(evaluation: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(OpenVexReport().render(evaluation, ReportOptions()))
    return doc


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "openvex" / "openvex_json_schema.json").read_text(encoding="utf-8"))
    return loaded


def test_validates_against_the_openvex_schema(tmp_path: Path) -> None:
    doc = render(evaluate(tmp_path))
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(doc)] == []
    assert doc["@context"] == "https://openvex.dev/ns/v0.2.0"


def test_policy_exceptions_are_affected_with_reason_owner_and_expiry(tmp_path: Path) -> None:
    statements = render(evaluate(tmp_path))["statements"]
    mine = [s for s in statements if s["vulnerability"]["name"] == "CVE-2024-1"]
    assert len(mine) == 1
    stmt = mine[0]
    assert stmt["status"] == "affected"  # never a false not_affected
    assert "justification" not in stmt
    assert stmt["action_statement"] == ("Risk accepted until 2027-01-31 (gate policy policy, exception waiver, "
                                        "owner platform): not reachable (SEC-1)")
    assert {p["@id"] for p in stmt["products"]} == {BUILD, AMI}  # this build, not every build of the pipeline
    purl = "pkg:generic/openssl-libs@1%3A3.0.8-1.amzn2023?arch=x86_64"
    assert stmt["products"][0]["subcomponents"] == [{"@id": purl}]
    assert "until kev" in stmt["status_notes"]
    assert not [s for s in statements if s["vulnerability"]["name"] == "CVE-2024-9"]  # covered nothing


def test_vex_derived_keep_their_status_and_cite_their_source(tmp_path: Path) -> None:
    statements = {s["vulnerability"]["name"]: s for s in render(evaluate(tmp_path))["statements"]}
    assert set(statements) == {"CVE-2024-1", "CVE-2024-2", "CVE-2024-3"}  # under_investigation covered nothing
    curl = statements["CVE-2024-2"]
    assert curl["status"] == "not_affected"
    assert curl["justification"] == "vulnerable_code_not_in_execute_path"
    assert curl["timestamp"] == "2026-11-01T10:00:00Z"
    assert curl["vulnerability"]["aliases"] == ["GHSA-aaaa-bbbb-cccc"]
    assert curl["products"] == [{"@id": PIPELINE, "subcomponents": [{"@id": "pkg:rpm/amzn/curl"}]}]
    assert curl["status_notes"].startswith("from VEX document https://example.com/vex/7 (")
    assert "statement 1, by Platform <p@example.com>; checked by hand" in curl["status_notes"]
    assert statements["CVE-2024-3"]["status"] == "fixed"
    assert statements["CVE-2024-3"]["timestamp"] == "2026-11-02T00:00:00Z"


def test_round_trips_into_vex(tmp_path: Path) -> None:
    first = evaluate(tmp_path)
    assert [r.decision for r in first.results] == [Decision.EXCEPTED, Decision.EXCEPTED, Decision.EXCEPTED,
                                                  Decision.FAIL, Decision.FAIL]
    out = tmp_path / "gate.vex.json"
    out.write_text(OpenVexReport().render(first, ReportOptions()), encoding="utf-8")
    bare = "version: 1\nrules:\n  - {id: any, when: 'true', action: fail}\n"
    again = evaluate(tmp_path, bare, vex=[out])
    # VEX-derived statements cover the same findings again; the accepted risk reads as affected and covers nothing
    assert [r.decision for r in again.results] == [Decision.FAIL, Decision.EXCEPTED, Decision.EXCEPTED,
                                                  Decision.FAIL, Decision.FAIL]
    assert again.results[0].vex is not None and again.results[0].vex.status == "affected"
    # and together with the original document nothing conflicts (same times, same statuses)
    both = evaluate(tmp_path, bare, vex=[tmp_path / "platform.vex.json", out])
    assert [r.decision for r in both.results] == [r.decision for r in again.results]


def test_nothing_accepted_is_an_empty_document_gate_reads_back(tmp_path: Path) -> None:
    bare = "version: 1\nrules:\n  - {id: any, when: 'false', action: fail}\n"
    evaluation = evaluate(tmp_path, bare, vex=[])
    doc = render(evaluation)
    assert doc["statements"] == []
    errors = list(jsonschema.Draft202012Validator(schema()).iter_errors(doc))
    assert [(e.validator, list(e.absolute_path)) for e in errors] == [("minItems", ["statements"])]
    out = tmp_path / "empty.vex.json"
    out.write_text(json.dumps(doc), encoding="utf-8")
    assert read_documents([out]) == ()


def test_hostile_text_stays_json_data(tmp_path: Path) -> None:
    hostile = POLICY.replace("not reachable (SEC-1)", r'\u2028\"},\n{\"status\": \"not_affected\"')
    doc = render(evaluate(tmp_path, hostile))
    stmt = next(s for s in doc["statements"] if s["vulnerability"]["name"] == "CVE-2024-1")
    assert stmt["status"] == "affected"
    assert '"status": "not_affected"' in stmt["action_statement"]
