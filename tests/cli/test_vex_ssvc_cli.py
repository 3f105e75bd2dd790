"""`gate check` end to end with `until`, `--vex`, `--report openvex`, `--expiring-within` and `--vulnrichment`."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from tests.cli.test_check import report_schema
from tests.conftest import DATA, EXAMPLES
from tests.enrichment.test_vulnrichment import api  # noqa: F401 - the local CVE record API fixture

BUILD = "arn:aws:imagebuilder:us-east-1:111122223333:image/al2023-web-base/1.4.0/3"
PIPELINE = "arn:aws:imagebuilder:us-east-1:111122223333:image-pipeline/al2023-web-base"
IDS = ("CVE-2024-3400", "CVE-2024-6003", "CVE-2024-6000", "CVE-2024-34686")


def export(tmp_path: Path, ids: tuple[str, ...] = IDS) -> Path:
    """An export of this build whose findings carry the ids of the real Vulnrichment records."""
    pages = json.loads((EXAMPLES / "findings.json").read_text(encoding="utf-8"))
    template = (pages[0] if isinstance(pages, list) else pages)["findings"][0]
    findings = []
    for vid in ids:
        f: dict[str, Any] = copy.deepcopy(template)
        f["packageVulnerabilityDetails"]["vulnerabilityId"] = vid
        f["title"] = f"{vid} - kernel"
        f["severity"] = "HIGH"
        findings.append(f)
    path = tmp_path / "findings.json"
    path.write_text(json.dumps({"findings": findings}), encoding="utf-8")
    return path


def check(tmp_path: Path, *extra: str) -> list[str]:
    return ["check", "--findings", str(export(tmp_path)), "--no-cached-feeds", "--as-of", "2026-11-21", *extra]


POLICY = """\
version: 1
rules:
  - {id: high, when: severity == "HIGH", action: fail}
exceptions:
  - {id: waiver, vulnerability: CVE-2024-3400, reason: behind the WAF, owner: web-team, expires: 2026-11-30,
     until: ssvc_exploitation == "active"}
  - {id: later, vulnerability: CVE-2024-6003, reason: tracked in SEC-9, expires: 2027-06-30}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def vex(tmp_path: Path) -> Path:
    doc = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "Platform",
           "timestamp": "2026-11-01T00:00:00Z", "version": 1,
           "statements": [{"vulnerability": {"name": "CVE-2024-6000"}, "products": [{"@id": PIPELINE}],
                           "status": "not_affected", "justification": "component_not_present"}]}
    return write(tmp_path, "platform.vex.json", json.dumps(doc, indent=2))


def test_until_revokes_from_real_ssvc_and_vex_covers(tmp_path: Path, isolated_env: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    policy = write(tmp_path, "policy.yaml", POLICY)
    out = tmp_path / "report.json"
    openvex = tmp_path / "gate.vex.json"
    code = main(check(tmp_path, "--policy", str(policy), "--vulnrichment", str(DATA / "vulnrichment"),
                      "--vex", str(vex(tmp_path)), "--report", f"json={out}", "--report", f"openvex={openvex}"))
    assert code == ExitCode.VIOLATION
    report = json.loads(out.read_text())
    validator = jsonschema.Draft202012Validator(report_schema(),
                                                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    validator.validate(report)  # the schema describes revocations, VEX statements and expiring waivers
    by_id = {f["vulnerabilityId"]: f for f in report["findings"]}
    assert by_id["CVE-2024-3400"]["decision"] == "fail"
    revoked = [{"id": "waiver", "reasons": ['ssvc_exploitation active == "active"']}]
    assert by_id["CVE-2024-3400"]["revokedExceptions"] == revoked
    assert by_id["CVE-2024-6003"]["decision"] == "excepted"
    assert by_id["CVE-2024-6000"]["decision"] == "excepted"
    assert by_id["CVE-2024-6000"]["vex"]["author"] == "Platform"
    assert by_id["CVE-2024-34686"]["decision"] == "fail"
    assert by_id["CVE-2024-3400"]["enrichment"]["ssvc"]["provenance"]["source"] == "cisa-vulnrichment"
    waiver = next(x for x in report["exceptions"] if x["id"] == "waiver")
    assert (waiver["revoked"], waiver["expiring"]) == (True, True)
    terminal = capsys.readouterr().out
    assert "revoked: waiver for CVE-2024-3400" in terminal
    assert "SSVC exploitation active, automatable yes, technical impact total" in terminal
    assert "cisa-vulnrichment as of 2024-04-17 (948 days old)" in terminal
    assert "expiring: waiver for CVE-2024-3400 (expires 2026-11-30, in 9 days" in terminal
    statements = json.loads(openvex.read_text())["statements"]
    assert {(s["vulnerability"]["name"], s["status"]) for s in statements} == {
        ("CVE-2024-6003", "affected"), ("CVE-2024-6000", "not_affected")}


def test_until_nothing_can_answer_stops_the_run(tmp_path: Path, isolated_env: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    policy = write(tmp_path, "policy.yaml", POLICY)
    assert main(check(tmp_path, "--policy", str(policy))) == ExitCode.INCOMPLETE
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "exception 'waiver' until reads `ssvc_exploitation`" in err
    assert "--vulnrichment DIR" in err


def test_bad_vex_is_exit_2_with_file_and_line(tmp_path: Path, isolated_env: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    text = '{\n  "@context": "https://openvex.dev/ns/v0.2.0",\n  "statements": [\n  ]\n}'
    bad = write(tmp_path, "bad.vex.json", text)
    assert main(check(tmp_path, "--policy", "kev-only", "--kev-catalog", str(EXAMPLES / "kev.json"),
                      "--vex", str(bad))) == ExitCode.USAGE
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"gate: {bad}:1: not an OpenVEX v0.2.0 document") or f"{bad}:1:" in err
    assert len(err.splitlines()) == 1


def test_expiring_exceptions_are_warning_annotations_in_actions(tmp_path: Path, isolated_env: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    policy = write(tmp_path, "policy.yaml", POLICY.replace(',\n     until: ssvc_exploitation == "active"}', "}"))
    assert "until" not in policy.read_text()
    main(check(tmp_path, "--policy", str(policy), "--expiring-within", "10"))
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if line.startswith("::warning title=gate%3A exception expiring::")]
    assert len(warnings) == 1
    assert "waiver for CVE-2024-3400 (expires 2026-11-30, in 9 days, owner web-team)" in warnings[0]
    main(check(tmp_path, "--policy", str(policy), "--expiring-within", "8"))
    assert "exception expiring" not in capsys.readouterr().out


def test_ssvc_policy_with_the_real_records(tmp_path: Path, isolated_env: Path) -> None:
    out = tmp_path / "report.json"
    code = main(check(tmp_path, "--policy", "ssvc", "--vulnrichment", str(DATA / "vulnrichment"),
                      "--report", f"json={out}"))
    assert code == ExitCode.VIOLATION
    decisions = {f["vulnerabilityId"]: f["decision"] for f in json.loads(out.read_text())["findings"]}
    assert decisions == {"CVE-2024-3400": "fail", "CVE-2024-6003": "warn", "CVE-2024-6000": "pass",
                         "CVE-2024-34686": "pass"}


@pytest.mark.parametrize("days", ["-1", "x", "3651", "١"])
def test_expiring_within_must_be_days(tmp_path: Path, isolated_env: Path, days: str) -> None:
    assert main(check(tmp_path, "--policy", "kev-only", "--expiring-within", days)) == ExitCode.USAGE


def test_ssvc_online_through_the_cli_with_its_cache(tmp_path: Path, isolated_env: Path,
                                                     api: Any) -> None:  # noqa: F811 - the imported fixture
    out = tmp_path / "report.json"
    argv = check(tmp_path, "--policy", "ssvc", "--vulnrichment-url", api.url, "--report", f"json={out}")
    assert main(argv) == ExitCode.VIOLATION
    decisions = {f["vulnerabilityId"]: f["decision"] for f in json.loads(out.read_text())["findings"]}
    assert decisions == {"CVE-2024-3400": "fail", "CVE-2024-6003": "warn", "CVE-2024-6000": "pass",
                         "CVE-2024-34686": "pass"}
    assert sorted(api.seen) == sorted(IDS)
    assert main(argv) == ExitCode.VIOLATION  # answered from the cache
    assert len(api.seen) == len(IDS)
    assert main([*argv, "--no-cache"]) == ExitCode.VIOLATION
    assert len(api.seen) == 2 * len(IDS)
    feeds = json.loads(out.read_text())["feeds"]
    assert [f["source"] for f in feeds] == [api.url]
