"""The bundled example scan (examples/) as an on-demand AMI scan: EC2 ImageFindings and EventBridge events alike."""

from __future__ import annotations

import csv
import gzip
import json
from typing import Any

from tests.conftest import EXAMPLES
from tests.e2e.seed import example_findings
from tests.emulator import Emulator

IMAGE_ARN = "arn:aws:imagebuilder:us-east-1:111122223333:image/al2023-web-base/1.5.0/1"
CONDITION = {"maximumSeverityLabel": "HIGH", "fixAvailable": True}


def _exploit_available() -> dict[str, str]:
    listed = json.loads((EXAMPLES / "inspector-findings.json").read_text())["findings"]
    return {f["packageVulnerabilityDetails"]["vulnerabilityId"]: f["exploitAvailable"]
            for f in listed if f.get("exploitAvailable") in ("YES", "NO")}


def image_findings() -> list[dict[str, Any]]:
    """What `ec2:GetImageFindings` answers for the scan (and `aws ec2 get-image-findings` prints)."""
    return [{
        "FixAvailable": f["fixAvailable"] in ("YES", "PARTIAL"),
        **({"Score": f["inspectorScore"]} if "inspectorScore" in f else {}),
        "FirstObservedAt": f["firstObservedAt"],
        "UpdatedAt": f["updatedAt"],
        "Title": f["title"],
        "SeverityLabel": f["severity"].lower(),
        "SnapshotId": "snap-0123456789abcdef0",
    } for f in example_findings()]


def events(scan_id: str, ami: str) -> list[dict[str, Any]]:
    """The scan's `OnDemand AMI Scan Findings` events and its `Inspector2 OnDemand Scan Complete` event."""
    exploit = _exploit_available()
    out: list[dict[str, Any]] = []
    counts = dict.fromkeys(("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNTRIAGED"), 0)
    for n, f in enumerate(example_findings()):
        vid = f["packageVulnerabilityDetails"]["vulnerabilityId"]
        severity = f["severity"].upper()
        counts[severity] += 1
        detail = {
            "findingArn": f"arn:aws:inspector2:us-east-1:111122223333:finding/ondemand/{scan_id}/{n:032x}",
            "scanId": scan_id, "awsAccountId": "111122223333", "type": "PACKAGE_VULNERABILITY",
            "title": f["title"], "description": f["description"], "severity": severity, "status": "ACTIVE",
            "firstObservedAt": f["firstObservedAt"], "lastObservedAt": f["updatedAt"], "updatedAt": f["updatedAt"],
            "resources": [{"type": "MACHINE_IMAGE", "id": ami, "partition": "aws", "region": "us-east-1"}],
            **({"inspectorScore": f["inspectorScore"]} if "inspectorScore" in f else {}),
            "packageVulnerabilityDetails": f["packageVulnerabilityDetails"],
            "fixAvailable": f["fixAvailable"], "exploitAvailable": exploit.get(vid, "NO"),
        }
        out.append({"version": "0", "id": f"{n:08x}-0000-4000-8000-000000000000",
                    "detail-type": "OnDemand AMI Scan Findings", "source": "inspector2.ami.ondemand",
                    "account": "111122223333", "region": "us-east-1", "resources": [ami], "detail": detail})
    out.append({"version": "0", "id": "ffffffff-0000-4000-8000-000000000000",
                "detail-type": "Inspector2 OnDemand Scan Complete", "source": "aws.inspector2",
                "account": "111122223333", "region": "us-east-1", "resources": [ami],
                "detail": {"scanId": scan_id, "awsAccountId": "111122223333", "resourceId": ami,
                           "resourceType": "MACHINE_IMAGE", "scanStatus": "SUCCESSFUL",
                           "startedAt": "2026-06-12T00:00:00.000Z", "completedAt": "2026-06-12T01:30:00.000Z",
                           "findingSeverityCounts": {**counts, "TOTAL": sum(counts.values())}, "version": "1.0"}})
    return out


def _epss() -> dict[str, float]:
    with gzip.open(EXAMPLES / "epss-scores.csv.gz", "rt") as lines:
        rows = csv.reader(line for line in lines if not line.startswith("#"))
        next(rows)
        return {row[0]: float(row[1]) for row in rows}


def vulnerabilities() -> dict[str, dict[str, Any]]:
    """What SearchVulnerabilities knows: every CVE Inspector found (it reports only CVEs it knows),
    with the example feed's EPSS score where the feed has one, so every path sees the same facts."""
    scores = _epss()
    known: dict[str, dict[str, Any]] = {}
    for vid in sorted({f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in example_findings()}):
        if vid.startswith("CVE-"):
            known[vid] = {"id": vid, "source": "NVD", "cwes": ["NVD-CWE-noinfo"]}
            if vid in scores:
                known[vid]["epss"] = {"score": scores[vid]}
    return known


def seed_vulnerabilities(emu: Emulator) -> None:
    for vid, record in vulnerabilities().items():
        emu.add_vulnerability(vid, record)


def seed_ondemand(emu: Emulator, findings: list[dict[str, Any]] | None = None) -> tuple[str, str]:
    """An on-demand build with a scanResultCondition and its successful scan; returns (ARN, scan id)."""
    seed_vulnerabilities(emu)
    emu.add_image(IMAGE_ARN, [], scanning_types=["ON_DEMAND_AMI_CVE"], scan_result_condition=CONDITION)
    scan = emu.add_ondemand_scan(emu.ami_of(IMAGE_ARN), image_findings() if findings is None else findings)
    return IMAGE_ARN, scan
