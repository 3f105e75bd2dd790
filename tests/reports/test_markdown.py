"""The Markdown summary fits its byte budget by dropping whole rows, most important kept first."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gate.model import Finding, VulnerablePackage
from gate.outcome import Decision, FindingResult
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
    counted = int(text.split("**Passed:** ")[1].split(" ")[0]) if "**Passed:** " in text else 0
    assert shown + omitted + counted == 3000
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


def _folded(text: str) -> str:
    """Everything inside `<details>` blocks."""
    parts = text.split("<details>")[1:]
    return "".join(part.split("</details>")[0] for part in parts)


def test_warnings_and_passes_are_folded_blockers_and_exceptions_are_not() -> None:
    text = MarkdownReport().render(EVALUATION, ReportOptions())
    folded = _folded(text)
    for result in EVALUATION.results:
        row = next(line for line in text.splitlines()
                   if line.startswith("| ") and result.finding.vulnerability_id in line.split(" | ")[0])
        assert (row in folded) == (result.decision in (Decision.WARN, Decision.PASS)), row


def test_blockers_say_which_package_to_update_and_how() -> None:
    text = MarkdownReport().render(EVALUATION, ReportOptions())
    fixes = text[text.index("### To ship, update 2 package groups") : text.index("### Blocking findings")]
    assert "**xz-libs, xz 5.4.1-1.amzn2023.0.1 → 0:5.4.1-2.amzn2023.0.2**" in fixes
    assert "` dnf update --advisory ALAS2024-2024-578 `" in fixes


def test_gates_own_notes_keep_their_code_spans() -> None:
    note = "refresh them with `gate feeds update`, then rerun"
    text = MarkdownReport().render(replace(EVALUATION, notes=(note,)), ReportOptions())
    assert "- refresh them with ` gate feeds update ` , then rerun" in text or \
        "- refresh them with ` gate feeds update `, then rerun" in text


def test_backticks_in_hostile_notes_open_nothing_but_code() -> None:
    note = "x `<img src=x onerror=alert(1)>` and `unclosed <b>bold</b> [l](javascript:1)"
    text = MarkdownReport().render(replace(EVALUATION, notes=(note,)), ReportOptions())
    line = next(line for line in text.splitlines() if line.startswith("- x "))
    assert "` <img src=x onerror=alert(1)> `" in line  # a code span shows it literally
    assert "&lt;b&gt;bold&lt;/b&gt;" in line and "\\[l\\]" in line  # outside code: escaped
    assert "\\`unclosed" in line  # a lone backtick cannot open a span


def test_epss_is_never_in_scientific_notation() -> None:
    text = MarkdownReport().render(EVALUATION, ReportOptions())
    assert "EPSS 0.00009 (percentile 0.058)" in text
    assert "e-05" not in text


def test_missing_fix_is_said_plainly() -> None:
    text = MarkdownReport().render(EVALUATION, ReportOptions())
    assert "openssh-server 1:8.7p1-8.amzn2023.0.10 → no fix listed" in text


def test_link_only_for_http_urls() -> None:
    finding: Finding = replace(CURL.finding, source_url="javascript:alert(1)")
    evaluation = replace(EVALUATION, results=(replace(CURL, finding=finding),))
    text = MarkdownReport().render(evaluation, ReportOptions())
    assert "(javascript:" not in text
    assert "| CVE-2023-38545 | HIGH |" in text  # the id, unlinked; the title says only the id and packages


def test_the_title_cell_does_not_repeat_the_id() -> None:
    text = MarkdownReport().render(EVALUATION, ReportOptions())
    assert "<br>CVE-2024-3094 - xz" not in text and "| [CVE-2024-3094](" in text
    other = replace(CURL, finding=replace(CURL.finding, title="curl: SOCKS5 heap overflow"))
    text = MarkdownReport().render(replace(EVALUATION, results=(other,)), ReportOptions())
    assert "<br>curl: SOCKS5 heap overflow" in text  # a title that says more stays


def test_passed_findings_are_counted_not_listed_when_they_do_not_all_fit() -> None:
    text = _render(3000, 200_000)
    assert "**Passed:** 1000 findings no rule matched; not listed, to keep this summary under 200000 bytes" in text
    assert "<summary>Passed:" not in text
    assert len(text.encode("utf-8")) <= 200_000
    small = _render(30, None)
    assert "<summary>Passed: 10 findings no rule matched</summary>" in small and "**Passed:**" not in small


def test_every_format_writes_small_probabilities_out() -> None:
    from gate.reports.explain import number

    assert [number(v) for v in (0.00009, 0.93701, 97.0, 1e-7)] == ["0.00009", "0.937", "97", "0.0000001"]
