"""Exceptions that revoke themselves (`until:`), and exceptions reported as expiring within a window."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from gate.errors import PolicyErrors
from gate.fields import DataKind
from gate.model import Enrichment, EpssScore, Finding, KevEntry, VulnerablePackage
from gate.outcome import Decision
from gate.policy.engine import judge
from gate.policy.loader import parse_policy
from gate.reports import explain
from gate.run import unanswerable

NOW = datetime(2026, 11, 21, tzinfo=UTC)
POLICY = """\
version: 1
rules:
  - {{id: high, when: severity == "HIGH", action: fail}}
exceptions:
  - {{id: waiver, vulnerability: CVE-2024-1, reason: not reachable, owner: platform, expires: {expires},
     until: "{until}"}}
"""


def finding(vid: str = "CVE-2024-1", fix: str = "NO") -> Finding:
    return Finding(vulnerability_id=vid, severity="HIGH", title=None, description=None, fix_available=fix,
                   packages=(VulnerablePackage(name="openssl"),))


def decide(until: str, enrichment: Enrichment, fix: str = "NO", expires: str = "2027-01-31"):  # type: ignore[no-untyped-def]
    policy = parse_policy(POLICY.format(until=until, expires=expires), "p.yaml")
    return judge(policy, [finding(fix=fix)], {"CVE-2024-1": enrichment}, now=NOW)


KEV = Enrichment("CVE-2024-1", kev=KevEntry(date_added=date(2026, 11, 1), due_date=None), kev_known_by=("cisa-kev",))
NOT_KEV = Enrichment("CVE-2024-1", kev_known_by=("cisa-kev",))


@pytest.mark.parametrize(("until", "enrichment", "fix", "reason"), [
    ("kev", KEV, "NO", "kev is true"),
    ("kev or epss > 0.3", Enrichment("CVE-2024-1", epss=EpssScore(0.41, 0.9)), "NO", "epss 0.41 > 0.3"),
    ("fix_available", NOT_KEV, "YES", "fix_available is true"),
])
def test_each_kind_of_condition_revokes_and_says_why(until: str, enrichment: Enrichment, fix: str,
                                                    reason: str) -> None:
    evaluation = decide(until, enrichment, fix)
    result = evaluation.results[0]
    assert result.decision is Decision.FAIL
    assert result.matches[0].excepted_by is None
    assert [(r.exception_id, r.reasons) for r in result.revoked] == [("waiver", (reason,))]
    assert evaluation.revoked_exceptions == ("waiver",)
    assert evaluation.stale_exceptions == ()  # revoked is not "covered nothing"
    assert f"exception waiver revoked: {reason}" in explain.why(result, evaluation)
    assert any(line.startswith("revoked: waiver for CVE-2024-1") and reason in line
               for line in explain.exception_lines(evaluation))


@pytest.mark.parametrize(("until", "enrichment", "fix"), [
    ("kev", NOT_KEV, "NO"),
    ("epss > 0.3", Enrichment("CVE-2024-1", epss=EpssScore(0.29, 0.9)), "NO"),
    ("epss > 0.3", NOT_KEV, "NO"),  # unknown EPSS: a comparison with a missing value is false
    ("fix_available", NOT_KEV, "NO"),
])
def test_while_false_the_exception_applies(until: str, enrichment: Enrichment, fix: str) -> None:
    evaluation = decide(until, enrichment, fix)
    result = evaluation.results[0]
    assert result.decision is Decision.EXCEPTED
    assert result.matches[0].excepted_by == "waiver"
    assert result.revoked == ()
    assert evaluation.revoked_exceptions == ()


def test_expires_still_bounds_an_exception_with_until() -> None:
    evaluation = decide("kev", NOT_KEV, expires="2026-11-20")
    assert evaluation.results[0].decision is Decision.FAIL
    assert evaluation.expired_exceptions == ("waiver",)


def test_revocation_is_per_finding() -> None:
    policy = parse_policy(POLICY.format(until="fix_available", expires="2027-01-31"), "p.yaml")
    evaluation = judge(policy, [finding(fix="YES"), finding(fix="NO")], {}, now=NOW)
    assert [r.decision for r in evaluation.results] == [Decision.FAIL, Decision.EXCEPTED]
    assert evaluation.revoked_exceptions == ("waiver",)


def test_until_is_checked_at_load_time_with_its_position() -> None:
    with pytest.raises(PolicyErrors) as caught:
        parse_policy(POLICY.format(until="epss > 0.3 and kevv", expires="2027-01-31"), "p.yaml")
    text = caught.value.diagnostics()
    assert text.startswith("p.yaml:6:")
    assert "exception waiver until" in text
    assert "kev" in text  # did-you-mean


def test_an_until_no_source_can_answer_is_unanswerable() -> None:
    policy = parse_policy(POLICY.format(until="epss > 0.3", expires="2027-01-31"), "p.yaml")
    problems = unanswerable(policy, frozenset({DataKind.FINDING, DataKind.CLOCK, DataKind.KEV}))
    assert len(problems) == 1
    assert problems[0].startswith("exception 'waiver' until reads `epss`, which no source in this run can answer: "
                                  "supply --epss-scores FILE or `gate feeds update`")
    assert unanswerable(policy, frozenset({DataKind.FINDING, DataKind.CLOCK, DataKind.EPSS})) == []


@pytest.mark.parametrize(("expires", "window", "expiring"), [
    ("2026-11-21", None, True),   # last day today
    ("2026-12-05", None, True),   # 14 days: inside the default window
    ("2026-12-06", None, False),  # 15 days
    ("2026-12-06", 15, True),
    ("2026-11-25", 0, False),
    ("2026-11-20", None, False),  # expired, not expiring
])
def test_expiring_window(expires: str, window: int | None, expiring: bool) -> None:
    policy = parse_policy(POLICY.format(until="kev", expires=expires), "p.yaml")
    evaluation = judge(policy, [], {}, now=NOW, expiring_within_days=window)
    assert evaluation.expiring_exceptions == (("waiver",) if expiring else ())
    lines = [line for line in explain.exception_lines(evaluation) if line.startswith("expiring:")]
    assert bool(lines) is expiring


def test_expiring_window_from_the_policy_and_overridden() -> None:
    text = POLICY.format(until="kev", expires="2026-12-11") + "expiring_within_days: 30\n"
    policy = parse_policy(text, "p.yaml")
    assert judge(policy, [], {}, now=NOW).expiring_exceptions == ("waiver",)
    assert judge(policy, [], {}, now=NOW, expiring_within_days=7).expiring_exceptions == ()
    lines = explain.exception_lines(judge(policy, [], {}, now=NOW))
    assert "expiring: waiver for CVE-2024-1 (expires 2026-12-11, in 20 days, owner platform): not reachable" in lines
