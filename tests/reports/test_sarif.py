"""SARIF shaped for GitHub code scanning: rules, levels, locations and stable distinct fingerprints."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from gate.outcome import Decision
from gate.reports.interface import ReportOptions
from gate.reports.sarif import DEFAULT_LOCATION, SarifReport
from tests.reports.sample import EVALUATION, RULES


def _run(**options: Any) -> dict[str, Any]:
    run: dict[str, Any] = json.loads(SarifReport().render(EVALUATION, ReportOptions(**options)))["runs"][0]
    return run


def test_one_rule_per_policy_rule() -> None:
    rules = _run()["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in RULES]
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in rules}
    assert levels == {r.id: "error" if r.action.value == "fail" else "warning" for r in RULES}
    for rule in rules:
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        assert "security" in rule["properties"]["tags"]


def test_results_only_for_fail_and_warn() -> None:
    results = _run()["results"]
    expected = [r for r in EVALUATION.results if r.decision in (Decision.FAIL, Decision.WARN)]
    assert len(results) == len(expected)
    ids = {r["properties"]["vulnerabilityId"] for r in results}
    assert "CVE-2023-4911" not in ids  # excepted
    assert "CVE-2023-29383" not in ids  # passed
    assert _run()["properties"]["findings"]["excepted"] == 1


def test_result_fields() -> None:
    first = _run()["results"][0]
    assert first["ruleId"] == "kev-listed"
    assert first["ruleIndex"] == 0
    assert first["level"] == "error"
    assert first["message"]["text"].startswith("CVE-2024-3094 (CRITICAL) in xz-libs 5.4.1-1.amzn2023.0.1 →")
    assert "kev-listed: kev is true" in first["message"]["text"]
    assert first["properties"]["security-severity"] == "10.0"
    location = first["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": DEFAULT_LOCATION}, "region": {"startLine": 1}}


def test_location_option() -> None:
    result = _run(sarif_location="./infra\\recipes/web.yaml")["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/recipes/web.yaml"


def test_fingerprints_are_distinct_and_stable() -> None:
    first = [r["partialFingerprints"]["primaryLocationLineHash"] for r in _run()["results"]]
    assert len(set(first)) == len(first)
    shuffled = replace(EVALUATION, results=tuple(reversed(EVALUATION.results)))
    again = json.loads(SarifReport().render(shuffled, ReportOptions()))["runs"][0]["results"]
    assert [r["partialFingerprints"]["primaryLocationLineHash"] for r in again] == first


def test_errors_become_notifications() -> None:
    errored = replace(EVALUATION, errors=("epss feed unreachable",))
    run = json.loads(SarifReport().render(errored, ReportOptions()))["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert {"level": "error", "message": {"text": "epss feed unreachable"}} in notes
