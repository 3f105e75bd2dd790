"""The Markdown summary fits its byte budget by dropping whole rows, most important kept first."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gate.model import Decision, Finding, FindingResult, VulnerablePackage
from gate.reports.interface import ReportOptions
from gate.reports.markdown import DEFAULT_MAX_BYTES, MarkdownReport
from tests.reports.sample import CURL, EVALUATION, HOSTILE_BITS, OPENSSH, SHADOW


def _many(n: int) -> tuple[FindingResult, ...]:
    """`n` findings cycling through fail, warn and pass, each with a hostile package name."""
    templates = (CURL, OPENSSH, SHADOW)
    results = []
    for i in range(n):
        base = templates[i % 3]
        finding = replace(
            base.finding,
            vulnerability_id=f"CVE-2025-{i:05d}",
            packages=(VulnerablePackage(f"pkg{i}{HOSTILE_BITS[1]}", "1.0", fixed_in_version="1.1"),),
        )
        results.append(replace(base, finding=finding))
    return tuple(results)


def _render(n: int, max_bytes: int | None) -> str:
    evaluation = replace(EVALUATION, results=_many(n))
    return MarkdownReport().render(evaluation, ReportOptions(max_bytes=max_bytes))


@pytest.mark.parametrize("max_bytes", [8_000, 20_000, 65_536])
def test_truncated_summary_fits(max_bytes: int) -> None:
    text = _render(3000, max_bytes)
    assert len(text.encode("utf-8")) <= max_bytes
    assert "finding rows were left out" in text
    assert text.endswith("\n")


def test_truncation_counts_every_omitted_row() -> None:
    text = _render(3000, 20_000)
    shown = sum(1 for line in text.splitlines() if line.startswith("| [CVE-2025-") or line.startswith("| CVE-2025-"))
    omitted = int(text.split("**Note:** ")[1].split(" ")[0])
    assert shown + omitted == 3000
    assert shown > 0


def test_truncation_keeps_blocking_rows_first() -> None:
    text = _render(3000, 20_000)
    assert "### Blocking findings (1000)" in text
    assert "### Warnings" not in text
    assert "<details>" not in text


def test_truncation_cuts_between_rows() -> None:
    text = _render(3000, 20_000)
    for line in text.splitlines():
        if line.startswith("| ["):
            assert line.endswith(" |")
            assert line.count("[CVE-2025-") == 1


def test_truncation_keeps_housekeeping_sections() -> None:
    text = _render(3000, 20_000)
    assert "### Exceptions to review" in text
    assert "### Data sources" in text


def test_default_budget_is_under_githubs_limit() -> None:
    assert DEFAULT_MAX_BYTES < 1024 * 1024
    text = _render(6000, None)
    assert len(text.encode("utf-8")) <= DEFAULT_MAX_BYTES


def test_small_runs_are_not_truncated() -> None:
    text = MarkdownReport().render(EVALUATION, ReportOptions())
    assert "left out" not in text
    assert text.count("| [CVE-") + text.count("| CVE-") == len(EVALUATION.results)


def test_other_findings_are_folded() -> None:
    text = MarkdownReport().render(EVALUATION, ReportOptions())
    details = text[text.index("<details>") : text.index("</details>")]
    for result in EVALUATION.results:
        inside = result.finding.vulnerability_id in details
        assert inside == (result.decision in (Decision.EXCEPTED, Decision.PASS))


def test_missing_fix_is_said_plainly() -> None:
    text = MarkdownReport().render(EVALUATION, ReportOptions())
    assert "openssh-server 1:8.7p1-8.amzn2023.0.10 → no fix listed" in text


def test_link_only_for_http_urls() -> None:
    finding: Finding = replace(CURL.finding, source_url="javascript:alert(1)")
    evaluation = replace(EVALUATION, results=(replace(CURL, finding=finding),))
    text = MarkdownReport().render(evaluation, ReportOptions())
    assert "(javascript:" not in text
    assert "| CVE-2023-38545<br>" in text
