"""Decisions: fail, warn, excepted, pass; exceptions that apply, expire or go stale."""

from __future__ import annotations

from datetime import UTC, date, datetime

from gate.model import Enrichment, EpssScore, Finding, KevEntry, VulnerablePackage
from gate.outcome import Decision, Verdict
from gate.policy.engine import judge as evaluate
from gate.policy.loader import parse_policy

POLICY = """\
version: 1
rules:
  - {id: kev, when: kev, action: fail}
  - {id: epss, when: epss > 0.5 and fix_available, action: fail}
  - {id: high, when: severity == "HIGH", action: warn}
exceptions:
  - {vulnerability: CVE-1, reason: accepted, expires: 2027-01-31, packages: ["glibc*"]}
  - {vulnerability: CVE-2, reason: old, expires: 2026-01-01}
  - {vulnerability: CVE-3, reason: only the warning, expires: 2027-01-31, rules: [high]}
  - {vulnerability: CVE-9, reason: nothing has it, expires: 2027-01-31}
"""
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def finding(vid: str, severity: str = "LOW", fix: str = "YES", packages: tuple[str, ...] = ("glibc",)) -> Finding:
    return Finding(vulnerability_id=vid, severity=severity, title=None, description=None, fix_available=fix,
                   packages=tuple(VulnerablePackage(name=p) for p in packages))


def kev(vid: str) -> Enrichment:
    return Enrichment(vulnerability_id=vid, kev=KevEntry(date_added=date(2024, 1, 1), due_date=None))


def test_decisions_and_verdict() -> None:
    policy = parse_policy(POLICY, "p.yaml")
    findings = [
        finding("CVE-1", packages=("glibc", "glibc-common")),  # KEV, covered by glob exception
        finding("CVE-1", packages=("glibc", "openssl")),  # KEV, openssl not covered
        finding("CVE-2"),  # KEV, exception expired
        finding("CVE-3", severity="HIGH"),  # warn covered, no fail rule
        finding("CVE-3", severity="HIGH", fix="NO"),  # same
        finding("CVE-4", severity="HIGH"),  # warn
        finding("CVE-5"),  # nothing
        finding("CVE-6", fix="NO"),  # epss high, but no fix
    ]
    enrich = {
        "CVE-1": kev("CVE-1"), "CVE-2": kev("CVE-2"),
        "CVE-6": Enrichment("CVE-6", epss=EpssScore(0.9, 0.99)),
    }
    result = evaluate(policy, findings, enrich, now=NOW)
    got = [r.decision for r in result.results]
    assert got == [Decision.EXCEPTED, Decision.FAIL, Decision.FAIL, Decision.EXCEPTED, Decision.EXCEPTED,
                   Decision.WARN, Decision.PASS, Decision.PASS]
    assert result.verdict is Verdict.FAIL
    assert result.results[0].matches[0].excepted_by == "CVE-1"
    assert result.results[2].expired_exceptions == ("CVE-2",)
    assert result.expired_exceptions == ("CVE-2",)
    assert result.stale_exceptions == ("CVE-9",)
    s = result.summary
    assert (s.total, s.failed, s.warned, s.excepted, s.passed) == (8, 2, 1, 3, 2)


def test_exception_is_valid_through_its_expiry_day() -> None:
    policy = parse_policy(POLICY, "p.yaml")
    last_day = datetime(2027, 1, 31, 23, 59, tzinfo=UTC)
    day_after = datetime(2027, 2, 1, tzinfo=UTC)
    f = [finding("CVE-1")]
    assert evaluate(policy, f, {"CVE-1": kev("CVE-1")}, now=last_day).results[0].decision is Decision.EXCEPTED
    after = evaluate(policy, f, {"CVE-1": kev("CVE-1")}, now=day_after)
    assert after.results[0].decision is Decision.FAIL
    assert "CVE-1" in after.expired_exceptions


def test_warn_only_passes_the_verdict() -> None:
    policy = parse_policy(POLICY, "p.yaml")
    result = evaluate(policy, [finding("CVE-4", severity="HIGH")], {}, now=NOW)
    assert result.verdict is Verdict.PASS
    assert result.results[0].matches[0].reasons == ('severity HIGH == "HIGH"',)


def test_no_findings_passes() -> None:
    assert evaluate(parse_policy(POLICY, "p.yaml"), [], {}, now=NOW).verdict is Verdict.PASS
