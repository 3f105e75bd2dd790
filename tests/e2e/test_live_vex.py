"""A live run learns the build's output AMI from GetImage, so a VEX statement naming only the AMI applies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.e2e.seed import IMAGE_ARN, PIPELINE_ARN, example_findings
from tests.emulator import Emulator
from tests.emulator.factories import stable_hex

POLICY = "version: 1\nrules:\n  - {id: any, when: 'true', action: fail}\n"


def test_vex_by_output_ami_in_a_live_run(emulator: Emulator, isolated_env: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    findings = example_findings()[:3]
    emulator.add_image(IMAGE_ARN, findings=findings, pipeline_arn=PIPELINE_ARN)
    for key, value in emulator.env().items():
        monkeypatch.setenv(key, value)
    ami = f"ami-{stable_hex(IMAGE_ARN, 17)}"
    vid = findings[0]["packageVulnerabilityDetails"]["vulnerabilityId"]
    vex = isolated_env / "ami.vex.json"
    vex.write_text(json.dumps({
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/ami", "author": "AMI team",
        "timestamp": "2026-11-01T00:00:00Z", "version": 1,
        "statements": [{"vulnerability": {"name": vid}, "products": [{"@id": ami}], "status": "fixed"}]}))
    policy = isolated_env / "policy.yaml"
    policy.write_text(POLICY)
    out, dry = isolated_env / "live.json", isolated_env / "dry.json"
    code = main(["check", "--image-build-version-arn", IMAGE_ARN, "--policy", str(policy), "--vex", str(vex),
                 "--no-cached-feeds", "--as-of", "2026-11-21", "--report", f"json={out}"])
    assert code == ExitCode.VIOLATION
    report = json.loads(out.read_text())
    decided = {f["vulnerabilityId"]: f["decision"] for f in report["findings"]}
    assert decided[vid] == "excepted"
    assert [d for v, d in decided.items() if v != vid] == ["fail"] * (len(decided) - 1)
    # a snapshot keeps the AMI, so the laptop replay reaches the same decisions without AWS
    snap, replay = isolated_env / "snap.json", isolated_env / "replay.json"
    assert main(["fetch", "--image-build-version-arn", IMAGE_ARN, "-o", str(snap)]) == 0
    assert json.loads(snap.read_text())["outputAmis"] == [ami]
    main(["check", "--snapshot", str(snap), "--policy", str(policy), "--vex", str(vex), "--no-cached-feeds",
          "--as-of", "2026-11-21", "--report", f"json={replay}"])
    assert {f["vulnerabilityId"]: f["decision"] for f in json.loads(replay.read_text())["findings"]} == decided
    # offline, the export does not name the AMI, so the same statement does not apply: never more lenient
    export = isolated_env / "findings.json"
    export.write_text(json.dumps({"findings": findings}))
    main(["check", "--findings", str(export), "--policy", str(policy), "--vex", str(vex), "--no-cached-feeds",
          "--as-of", "2026-11-21", "--report", f"json={dry}"])
    assert {f["decision"] for f in json.loads(dry.read_text())["findings"]} == {"fail"}
