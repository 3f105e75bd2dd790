"""A baseline that is not what it claims is refused with one line, never read as "everything is new"."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gate.cli.main import main
from gate.errors import ExitCode
from gate.snapshot import snapshot_to_json
from gate.sources.codec import parse_finding
from tests.baseline.builds import findings as build_findings
from tests.baseline.test_chain import check

Edit = Callable[[dict[str, Any]], Any]


def _drop_finding(doc: dict[str, Any]) -> dict[str, Any]:
    doc["findings"].pop()
    return doc


def _set(key: str, value: Any) -> Edit:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc[key] = value
        return doc
    return edit


def _finding(key: str, value: Any) -> Edit:
    def edit(doc: dict[str, Any]) -> dict[str, Any]:
        doc["findings"][0][key] = value
        return doc
    return edit


EDITS: dict[str, tuple[Edit, str]] = {
    "a finding removed": (_drop_finding, "lists 2 findings but its summary counts 3: it was cut or edited"),
    "another schema version": (_set("schemaVersion", 2), "report schemaVersion 2 is not 1"),
    "a run that did not complete": (_set("verdict", "error"), "did not complete (verdict error)"),
    "not a gate report": (lambda doc: {"findings": doc["findings"]}, "neither a gate JSON report"),
    "a SARIF log": (lambda doc: {"version": "2.1.0", "runs": []}, "neither a gate JSON report"),
    "a list": (lambda doc: [doc], "not a JSON object"),
    "firstSeen not a date": (_finding("firstSeen", "soon"), "findings[0].firstSeen must be a YYYY-MM-DD date"),
    "firstSeen a number": (_finding("firstSeen", 20260901), "findings[0].firstSeen must be a YYYY-MM-DD date"),
    "no vulnerability id": (_finding("vulnerabilityId", None), "findings[0].vulnerabilityId must be"),
    "packages not a list": (_finding("packages", "openssl"), "findings[0].packages must be a list"),
    "summary total a boolean": (lambda d: {**d, "summary": {**d["summary"], "total": True}}, "summary counts True"),
    "pipeline not a string": (_set("pipeline", 7), "report.pipeline must be a non-empty string"),
}


@pytest.fixture
def first_report(isolated_env: Path) -> Path:
    code, report = check(isolated_env, 1, "first")
    assert code == ExitCode.VIOLATION
    return report


@pytest.mark.parametrize("case", sorted(EDITS))
def test_an_edited_report_is_refused(case: str, first_report: Path, isolated_env: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    edit, message = EDITS[case]
    first_report.write_text(json.dumps(edit(json.loads(first_report.read_text()))))
    capsys.readouterr()
    code, _ = check(isolated_env, 2, str(first_report))
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE, err
    assert err.count("\n") == 1
    assert message in err


@pytest.mark.parametrize("keep", [0, 1, 100, -2])
def test_a_cut_report_is_refused(keep: int, first_report: Path, isolated_env: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    data = first_report.read_bytes()
    first_report.write_bytes(data[:keep] if keep >= 0 else data[:len(data) + keep])
    capsys.readouterr()
    code, _ = check(isolated_env, 2, str(first_report))
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE
    assert err.startswith(f"gate: error: --baseline {first_report}: not JSON")
    assert err.count("\n") == 1


def test_a_missing_baseline_cannot_complete(isolated_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = check(isolated_env, 2, str(isolated_env / "no-such-report.json"))
    assert code == ExitCode.INCOMPLETE
    assert "no-such-report.json" in capsys.readouterr().err


def test_a_report_without_first_seen_starts_from_the_scan(first_report: Path, isolated_env: Path) -> None:
    """Reports written before the ratchet lack firstSeen: the scan's first observation stands in."""
    doc = json.loads(first_report.read_text())
    for f in doc["findings"]:
        del f["firstSeen"]
    first_report.write_text(json.dumps(doc))
    code, report = check(isolated_env, 2, str(first_report))
    assert code == ExitCode.VIOLATION
    assert {f["firstSeen"] for f in json.loads(report.read_text())["findings"]} == {"2026-09-01", "2026-10-01"}


def test_a_replayed_snapshot_cannot_claim_to_answer_baseline_fields(isolated_env: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A snapshot's feeds list what they provide; `baseline` there must not make `new` answerable."""
    from gate.model import Enrichment, FeedInfo, Gathered

    findings = tuple(parse_finding(f) for f in build_findings(2))
    gathered = Gathered(target="arn:aws:imagebuilder:us-east-1:123456789012:image/web/1.0.0/2",
                        findings=findings, enrichments={f.vulnerability_id: Enrichment(f.vulnerability_id)
                                                        for f in findings},
                        feeds=(FeedInfo("forged", "forged", None, provides=("baseline", "kev-catalog",
                                                                              "epss-scores")),))
    snapshot = isolated_env / "forged.json"
    snapshot.write_text(json.dumps(snapshot_to_json(gathered, gathered_at())))
    code = main(["check", "--snapshot", str(snapshot), "--policy", "ratchet", "--no-cached-feeds"])
    assert code == ExitCode.INCOMPLETE
    assert "reads `new`, which no source in this run can answer" in capsys.readouterr().err


def gathered_at() -> Any:
    from datetime import UTC, datetime
    return datetime(2026, 10, 1, tzinfo=UTC)


def test_baseline_facts_do_not_make_a_policy_test_finding_enriched(tmp_path: Path) -> None:
    from gate.policy_cases import run_test_file

    (tmp_path / "p.yaml").write_text("version: 1\nrules:\n  - {id: unknown, when: not enriched, action: fail}\n")
    (tmp_path / "p.test.yaml").write_text(
        "policy: p.yaml\nas_of: 2026-11-21\ncases:\n"
        "  - {name: baseline only, finding: {severity: LOW}, enrichment: {new: true, first_seen: 2026-01-01},"
        " expect: fail}\n"
        "  - {name: with epss, finding: {severity: LOW}, enrichment: {epss: 0.1, new: true}, expect: pass}\n")
    outcomes = list(run_test_file(tmp_path / "p.test.yaml"))
    assert [(o.name, o.ok) for o in outcomes] == [("baseline only", True), ("with epss", True)]
