"""Large runs: SARIF stays within GitHub code scanning's limits and says what it left out; JSON streams."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import pytest

from gate.cli import streams
from gate.model import VulnerablePackage
from gate.outcome import Decision, Evaluation, FindingResult
from gate.reports import json_report, sarif
from gate.reports.interface import ReportOptions
from gate.reports.json_report import JsonReport
from gate.reports.sarif import SarifReport
from tests.reports.sample import EVALUATION, GLIBC, HOSTILE_EVALUATION, OPENSSH, OPENSSL, SHADOW, XZ

SEVERITIES = ("LOW", "CRITICAL", "MEDIUM", "HIGH")


def _many(count: int) -> Evaluation:
    """`count` findings cycling through pass / warn / fail results and severities, in a shuffled order."""
    templates = [SHADOW, OPENSSL, OPENSSH, XZ, OPENSSL, OPENSSH, OPENSSL, GLIBC]  # 1 fail in 8, 5 warn
    results: list[FindingResult] = []
    for i in range(count):
        base = templates[i % len(templates)]
        vid = f"CVE-2099-{(i * 7919) % 100_000:05d}"
        finding = replace(base.finding, vulnerability_id=vid, severity=SEVERITIES[(i // 4) % 4])
        results.append(replace(base, finding=finding))
    return replace(EVALUATION, results=tuple(results))


def _sarif(evaluation: Evaluation) -> tuple[str, dict[str, Any]]:
    text = SarifReport().render(evaluation, ReportOptions())
    run: dict[str, Any] = json.loads(text)["runs"][0]
    return text, run


@pytest.mark.slow
def test_sarif_keeps_at_most_5000_results_failing_first_and_says_so() -> None:
    evaluation = _many(9_000)
    shown = [r for r in evaluation.results if r.decision in (Decision.FAIL, Decision.WARN)]
    failing = sum(r.decision is Decision.FAIL for r in shown)
    assert len(shown) > sarif.MAX_RESULTS and failing < sarif.MAX_RESULTS
    text, run = _sarif(evaluation)
    results = run["results"]
    assert len(results) == sarif.MAX_RESULTS
    assert len(text.encode()) < sarif.MAX_BYTES
    levels = [r["level"] for r in results]
    assert levels == sorted(levels)  # every "error" (failing) before any "warning"
    assert levels.count("error") == failing
    omitted = run["properties"]["omitted"]
    assert omitted["results"] == len(shown) - sarif.MAX_RESULTS
    assert omitted["failing"] == 0
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert any(f"lists 5,000 of {len(shown):,} failing or warned findings" in n for n in notes)
    assert len({r["partialFingerprints"]["gateFinding/v1"] for r in results}) == len(results)


def test_sarif_stays_under_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    whole, _ = _sarif(HOSTILE_EVALUATION)
    monkeypatch.setattr(sarif, "MAX_BYTES", len(whole.encode("utf-8", "surrogatepass")) + 4096 - 100)
    text, run = _sarif(HOSTILE_EVALUATION)
    assert len(text.encode()) <= sarif.MAX_BYTES
    assert [r["level"] for r in run["results"]] == ["error"]  # the failing one kept, the warned one left out
    assert run["properties"]["omitted"] == {**run["properties"]["omitted"], "results": 1, "failing": 0}


def test_sarif_with_nothing_left_out_has_no_note() -> None:
    _, run = _sarif(EVALUATION)
    assert "omitted" not in run["properties"]
    assert all("left out" not in n["message"]["text"]
               for n in run["invocations"][0].get("toolExecutionNotifications", []))


def test_sarif_with_no_results_is_an_empty_list() -> None:
    text, run = _sarif(replace(EVALUATION, results=()))
    assert run["results"] == []
    assert '"results": [],' in text


@pytest.mark.parametrize("evaluation", [EVALUATION, HOSTILE_EVALUATION, replace(EVALUATION, results=())],
                         ids=["sample", "hostile", "empty"])
def test_json_streams_the_bytes_it_renders_one_finding_a_line(evaluation: Evaluation) -> None:
    out = io.BytesIO()
    JsonReport().write(evaluation, ReportOptions(), out)
    text = JsonReport().render(evaluation, ReportOptions())
    assert out.getvalue() == text.encode("utf-8")
    doc = json.loads(text)
    assert len(doc["findings"]) == len(evaluation.results)
    lines = text.splitlines()
    finding_lines = [line for line in lines if line.startswith('{"key": ')]
    assert [json.loads(line.rstrip(","))["key"] for line in finding_lines] == [r.finding.key
                                                                             for r in evaluation.results]


@pytest.mark.parametrize("evaluation", [EVALUATION, HOSTILE_EVALUATION], ids=["sample", "hostile"])
def test_json_lines_are_what_the_encoder_writes_for_each_finding(evaluation: Evaluation) -> None:
    # Each enrichment's text is made once and spliced into every line of its CVE's findings: the line
    # must still be exactly the standard encoding of the finding's whole dictionary.
    shared = replace(evaluation, results=evaluation.results + tuple(
        replace(r, finding=replace(r.finding, vulnerability_id=r.finding.vulnerability_id + "-again"))
        for r in evaluation.results))
    text = JsonReport().render(shared, ReportOptions())
    finding_lines = [line.rstrip(",") for line in text.splitlines() if line.startswith('{"key": ')]
    encode = json.JSONEncoder(ensure_ascii=False).encode
    # NOTE: render writes a lone surrogate as an escape (see below); so must the expectation.
    expected = [encode(json_report._result(r)).encode("utf-8", "backslashreplace").decode() for r in shared.results]
    assert finding_lines == expected
    assert len({id(r.enrichment) for r in shared.results}) < len(shared.results)  # some lines did share


def test_json_writes_a_lone_surrogate_as_an_escape() -> None:
    out = io.BytesIO()
    JsonReport().write(HOSTILE_EVALUATION, ReportOptions(), out)
    raw = out.getvalue()
    raw.decode("utf-8")  # strict: encodable
    assert b"lone \\ud800 surrogate" in raw


def test_sarif_on_stdout_stays_under_the_size_limit(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # `--report sarif=-` writes the log through streams.document, which spells each raw C1, bidi or
    # line-separator character and each `##[` as an escape (up to 6 bytes for 2): the budget must count
    # what is written, or a hostile scan makes an upload GitHub rejects.
    inflating = "##[\x85\u202e" * 60
    packages = tuple(VulnerablePackage(f"{inflating}{n}", "1.0") for n in range(40))
    results = tuple(replace(XZ, finding=replace(XZ.finding, vulnerability_id=f"CVE-2099-{i:05d}", title=inflating,
                                                packages=packages)) for i in range(300))
    monkeypatch.setattr(sarif, "MAX_BYTES", 400_000)
    text = SarifReport().render(replace(EVALUATION, results=results), ReportOptions())
    streams.document(text, json=True)
    written = capsys.readouterr().out
    assert len(written.encode()) <= sarif.MAX_BYTES
    run = json.loads(written)["runs"][0]
    assert 0 < len(run["results"]) < len(results)  # the budget, not the result count, cut the list
    assert run["properties"]["omitted"]["results"] == len(results) - len(run["results"])
    assert inflating in run["results"][0]["message"]["text"]  # the same text, only spelled as escapes
