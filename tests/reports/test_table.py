"""The terminal summary: what to do first, bounded for CI logs, complete with --verbose."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from gate.model import Enrichment, EpssScore, VulnerablePackage
from gate.outcome import Decision, FindingResult
from gate.reports.interface import ReportOptions
from gate.reports.table import MAX_LINES, TableReport
from tests.reports.sample import CURL, EPSS, EVALUATION, HOSTILE_BITS, OPENSSH, SHADOW, XZ


def _many(n: int) -> tuple[FindingResult, ...]:
    """`n` findings cycling through fail, warn and pass, each on its own (hostile) package."""
    templates = (CURL, OPENSSH, SHADOW)
    results = []
    for i in range(n):
        base = templates[i % 3]
        package = VulnerablePackage(f"pkg{i}{HOSTILE_BITS[1]}", "1.0", fixed_in_version="1.1")
        finding = replace(base.finding, vulnerability_id=f"CVE-2025-{i:05d}", packages=(package,))
        results.append(replace(base, finding=finding))
    return tuple(results)


def _render(results: tuple[FindingResult, ...], **options: bool) -> str:
    return TableReport().render(replace(EVALUATION, results=results), ReportOptions(**options))


def test_output_is_bounded_however_many_findings() -> None:
    small, large = _render(_many(300)), _render(_many(30_000))
    assert len(large.splitlines()) == len(small.splitlines())  # the size does not grow with findings
    assert len(large.encode()) < 16_000
    assert len(large.splitlines()) <= MAX_LINES
    shown = large.count("    ✗ CVE-2025-")
    assert shown > 10
    assert f"… {10_000 - shown} more blocking findings in {10_000 - shown} groups: see the JSON/HTML report" in large


def test_verbose_lists_every_finding() -> None:
    text = _render(_many(300), verbose=True)
    for i in range(200):  # fail and warn findings; passes are only counted
        if i % 3 != 2:
            assert f"CVE-2025-{i:05d} " in text


def test_verdict_and_counts_come_first_and_last() -> None:
    lines = TableReport().render(EVALUATION, ReportOptions()).splitlines()
    expected = "gate: FAIL — 2 blocking, 2 warnings, 1 excepted, 2 passed (7 findings)"
    assert lines[0] == lines[-1] == expected


def test_blockers_are_grouped_by_package_with_the_fix() -> None:
    text = TableReport().render(EVALUATION, ReportOptions())
    group = text[text.index("  xz-libs, xz 5.4.1-1.amzn2023.0.1 → 0:5.4.1-2.amzn2023.0.2") :]
    assert group.splitlines()[1] == "    fix: dnf update --advisory ALAS2024-2024-578"
    assert group.splitlines()[2] == ("    ✗ CVE-2024-3094 CRITICAL  kev-listed, critical-fixable · "
                                     "KEV since 2024-03-29, due 2024-04-19 · EPSS 0.85")


def test_findings_on_the_same_packages_share_one_group() -> None:
    second = replace(XZ, finding=replace(XZ.finding, vulnerability_id="CVE-2024-9999", remediation_text=None))
    text = _render((XZ, second))
    assert text.count("xz-libs, xz 5.4.1") == 1
    assert "(2 blocking findings in 1 group)" in text


def test_warnings_are_counted_by_rule_and_never_wear_the_fail_mark() -> None:
    text = TableReport().render(EVALUATION, ReportOptions())
    warnings = text[text.index("Warnings:") : text.index("Excepted")]
    assert "  ! epss-watch  2  epss > 0.1" in warnings
    assert "CVE-2024-6387, CVE-2023-5678" in warnings
    assert "✗" not in warnings


def test_excepted_findings_show_reason_owner_and_expiry() -> None:
    text = TableReport().render(EVALUATION, ReportOptions())
    assert ("EXC-glibc-tunables: expires 2026-01-31 (in 72 days), owner platform-team — Build hosts run no "
            "setuid binaries") in text


def test_provenance_is_said_once_and_on_a_finding_only_where_it_differs() -> None:
    same = Enrichment("x", epss=EpssScore(0.9, None, EPSS))
    results = tuple(replace(r, enrichment=replace(same, vulnerability_id=r.finding.vulnerability_id))
                    for r in (XZ, CURL, XZ))
    text = _render(results)
    assert "  exploit data: first-epss as of 2025-08-28 (84 days old)" in text
    assert "from first-epss" not in text
    older = Enrichment("x", epss=EpssScore(0.9, None, replace(EPSS, as_of=EPSS.as_of - timedelta(days=3))))
    mixed = _render((*results, replace(CURL, enrichment=older)))
    assert mixed.count(" · from ") == 1
    assert "EPSS 0.9 · from first-epss as of 2025-08-25 (87 days old)" in mixed


def test_one_line_per_blocker_with_everything_under_verbose() -> None:
    default = TableReport().render(EVALUATION, ReportOptions())
    verbose = TableReport().render(EVALUATION, ReportOptions(verbose=True))
    blockers = default[default.index("To ship") : default.index("Warnings:")]
    assert [line for line in blockers.splitlines() if line.startswith("        ")] == []
    assert "kev-listed: kev is true" in verbose and "kev-listed: kev is true" not in default
    assert "        from cisa-kev as of 2025-08-25" in verbose


def test_a_group_with_many_versions_and_commands_takes_three_lines() -> None:
    packages = tuple(VulnerablePackage("kernel", "6.1.75", fixed_in_version=f"6.1.{n}") for n in range(80, 85))
    results = tuple(replace(XZ, finding=replace(XZ.finding, vulnerability_id=f"CVE-2024-{n}", packages=(p,),
                                                remediation_text=f"dnf update --advisory ALAS-{n}"))
                    for n, p in enumerate(packages))
    text = _render(results)
    group = text[text.index("To ship") : text.index("    ✗")].splitlines()
    assert group[1:] == ["  kernel 6.1.75 → 6.1.80", "  kernel 6.1.75 → 6.1.81 (and 3 other versions)",
                         "    fix: dnf update --advisory ALAS-0; dnf update --advisory ALAS-1; dnf update --advisory "
                         "ALAS-2; dnf update --advisory ALAS-3; dnf update --advisory ALAS-4"]
    assert "6.1.84" in _render(results, verbose=True)


def test_pass_says_so_without_a_blocking_section() -> None:
    results = tuple(r for r in EVALUATION.results if r.decision is not Decision.FAIL)
    text = TableReport().render(replace(EVALUATION, results=results, verdict=EVALUATION.verdict.PASS),
                                ReportOptions())
    assert text.splitlines()[0].startswith("gate: PASS — 0 blocking")
    assert "To ship" not in text
