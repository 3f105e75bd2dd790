"""The why-lines: rules with reasons, exceptions, and each value's source and age."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from gate.model import Provenance
from gate.outcome import Decision
from gate.reports import explain
from gate.timeutil import age_days
from tests.reports.sample import CURL, EVALUATION, GLIBC, OPENSSL, PYTHON, SHADOW, XZ

NOW = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)


def test_ages_count_calendar_days_in_utc() -> None:
    assert age_days(date(2025, 11, 19), NOW) == 1
    assert age_days(datetime(2025, 8, 28, 23, 59, tzinfo=UTC), NOW) == 84
    east = timezone(timedelta(hours=9))
    assert age_days(datetime(2025, 11, 21, 1, 0, tzinfo=east), NOW) == 0
    assert age_days(datetime(2025, 11, 19, 12, 0), NOW) == 1


def test_age_text() -> None:
    assert explain.age_text(date(2024, 8, 28), NOW) == "449 days old"
    assert explain.age_text(date(2025, 11, 19), NOW) == "1 day old"
    assert explain.age_text(date(2025, 11, 22), NOW) == "dated 2 days after the evaluation"
    assert explain.age_text(date(2025, 11, 19), None) == "age unknown"


def test_provenance_text_matches_the_documented_shape() -> None:
    provenance = Provenance("first-epss", datetime(2024, 8, 28, tzinfo=UTC))
    text = f"epss 0.943 ({explain.provenance_text(provenance, NOW, 'scored')})"
    assert text == "epss 0.943 (first-epss, scored 2024-08-28, 449 days old)"
    assert explain.provenance_text(None, NOW) == "source unknown"
    assert explain.provenance_text(Provenance("x", None), NOW) == "x, date unknown"


def test_enrichment_lines_name_every_source() -> None:
    lines = explain.enrichment_lines(XZ.enrichment, NOW)
    assert lines == (
        "kev listed, added 2024-03-29, due 2024-04-19 (cisa-kev, as of 2025-08-25, 87 days old)",
        "epss 0.85, percentile 0.994 (first-epss, scored 2025-08-28, 84 days old)",
        "exploit observed yes (inspector:BatchGetFindingDetails, as of 2025-11-20, 0 days old)",
        "cwes CWE-506 (inspector:BatchGetFindingDetails, as of 2025-11-20, 0 days old)",
    )
    assert explain.enrichment_lines(CURL.enrichment, NOW)[0] == "kev not listed (asked cisa-kev)"
    assert explain.enrichment_lines(PYTHON.enrichment, NOW) == ()


def test_ages_never_come_from_the_clock() -> None:
    assert "age unknown" in explain.enrichment_lines(XZ.enrichment, None)[0]


def test_match_lines_show_exceptions() -> None:
    assert explain.match_lines(GLIBC, EVALUATION) == ("fail kev-listed: kev is true (excepted by EXC-glibc-tunables)",)
    assert explain.match_lines(OPENSSL, EVALUATION)[-1] == (
        "exception EXC-openssl-2023 expired on 2025-10-31 and no longer applies"
    )


def test_primary_match_is_the_deciding_rule() -> None:
    for result in (XZ, GLIBC):
        match = explain.primary_match(result)
        assert match is not None
        assert match.rule_id == "kev-listed"
    warned = explain.primary_match(OPENSSL)
    assert warned is not None
    assert warned.rule_id == "epss-watch"
    assert explain.primary_match(SHADOW) is None


def test_sorted_results_put_blocking_first() -> None:
    ordered = explain.sorted_results(EVALUATION.results)
    assert [r.finding.vulnerability_id for r in ordered] == [
        "CVE-2024-3094",
        "CVE-2023-38545",
        "CVE-2024-6387",
        "CVE-2023-5678",
        "CVE-2023-4911",
        "CVE-2023-29383",
        "CVE-2025-0938",
    ]
    assert [r.decision for r in ordered][:2] == [Decision.FAIL, Decision.FAIL]


def test_exception_lines() -> None:
    assert explain.exception_lines(EVALUATION) == (
        "expired: EXC-openssl-2023 for CVE-2023-5678 (expired 2025-10-31, owner platform-team): "
        "Waiting for the AL2023 rebuild.",
        "stale: EXC-busybox-old for CVE-2022-48174 (expires 2026-06-30): busybox is not shipped any more.",
    )


def test_severity_counts_include_unknown_severities() -> None:
    counts = explain.severity_counts(EVALUATION)
    assert list(counts) == ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNTRIAGED"]
    assert counts["HIGH"] == {Decision.FAIL: 1, Decision.WARN: 1, Decision.EXCEPTED: 1, Decision.PASS: 0}
