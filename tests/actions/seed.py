"""A build held at its WaitForAction step: the image, its output AMIs in EC2, the step, a policy and events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.emulator import Emulator, image_arn, image_scan_finding

ACCOUNT = "123456789012"
POLICY = ("version: 1\nname: critical-blocks\nrules:\n"
          "  - {id: critical, when: 'severity == \"CRITICAL\"', action: fail}\n")
CRITICAL = ("CVE-2024-0001", "CVE-2024-0002")
OFFLINE = ["--no-cached-feeds", "--no-cache", "--wait-timeout", "0"]


@dataclass(frozen=True)
class Build:
    arn: str
    ami: str
    copy: str
    """The distributed copy in eu-west-1 (same account)."""
    step: str
    policy: Path


def seed(emulator: Emulator, tmp_path: Path, *, failing: bool = False, name: str = "held",
         copy_marks: tuple[str, ...] = ()) -> Build:
    """A build (with CRITICAL findings when `failing`), its AMI here and a copy in eu-west-1, a waiting step."""
    arn = image_arn(name)
    findings = [image_scan_finding("CVE-2024-0100", "MEDIUM")]
    if failing:
        findings += [image_scan_finding(cve, "CRITICAL") for cve in CRITICAL]
    copy = "ami-0123456789abcdef1"
    emulator.add_image(arn, findings, extra_amis=[{"region": "eu-west-1", "image": copy, "accountId": ACCOUNT,
                                                  "name": "held copy"}])
    ami = emulator.ami_of(arn)
    emulator.add_ami(ami)
    emulator.add_ami(copy, region="eu-west-1", watermarks=copy_marks)
    step = emulator.add_waiting_step(arn)
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    return Build(arn, ami, copy, step, policy)


def check(build: Build, *extra: str) -> list[str]:
    return ["check", "--image-build-version-arn", build.arn, "--policy", str(build.policy), *OFFLINE, *extra]


def event(build_arn: str, step: str, **changes: Any) -> dict[str, Any]:
    """The user guide's example event, for this build and step."""
    region, account = build_arn.split(":")[3], build_arn.split(":")[4]
    doc: dict[str, Any] = {
        "version": "0", "id": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
        "detail-type": "EC2 Image Builder Workflow Step Waiting", "source": "aws.imagebuilder",
        "account": account, "time": "2024-01-18T16:54:44Z", "region": region,
        "resources": [build_arn, f"arn:aws:imagebuilder:{region}:{account}:workflow/test/gate-hold/1.0.0/1"],
        "detail": {"workflow-execution-id": "wf-a1b2c3d4-5678-90ab-cdef-000000000022",
                   "workflow-step-execution-id": step, "workflow-step-name": "WaitForGate"},
    }
    doc.update(changes)
    return doc


def write_event(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc))
    return path


def report(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc
