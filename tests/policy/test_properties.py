"""Property tests: random expressions and random findings never crash the engine except with a policy error."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gate.errors import ExprError, PolicyError
from gate.fields import FIELDS, Context, facts_for
from gate.model import Cvss, Enrichment, EpssScore, Finding, KevEntry, VulnerablePackage
from gate.policy.compile import compile_policy
from gate.policy.engine import Engine
from gate.policy.expr import parse
from gate.policy.loader import parse_policy

NAMES = [*FIELDS, "true", "false", "len", "lower", "startswith", "matches", "__class__", "os"]
TOKENS = [*NAMES, "and", "or", "not", "in", "not in", "==", "!=", "<", "<=", ">", ">=", "(", ")", "[", "]",
          ",", ".", "0.5", "1", "-3", "'HIGH'", '"2024-01-01"', "'glibc'", "lambda", ":", "*", "**", "if",
          "else", "for", "import", "__import__", "[1, 2]", "''", "\\n", "\x00", "#"]


@st.composite
def expressions(draw: st.DrawFn) -> str:
    return " ".join(draw(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=12)))


@st.composite
def findings(draw: st.DrawFn) -> tuple[Finding, Enrichment]:
    vid = draw(st.sampled_from(["CVE-2024-3400", "ALAS2023-2025-1", "GHSA-xxxx", ""]) | st.text(max_size=20))
    maybe_num = st.none() | st.floats(min_value=0, max_value=10, allow_nan=False)
    seen = draw(st.none() | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1)))
    finding = Finding(
        vulnerability_id=vid,
        severity=draw(st.sampled_from(["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNTRIAGED", ""]) | st.text(max_size=8)),
        title=draw(st.none() | st.text(max_size=30)),
        description=None,
        fix_available=draw(st.sampled_from([None, "YES", "NO", "PARTIAL"])),
        packages=tuple(VulnerablePackage(name=n) for n in draw(st.lists(st.text(min_size=1, max_size=10),
                                                                           max_size=3))),
        inspector_score=draw(maybe_num),
        cvss=tuple(Cvss(base_score=s) for s in draw(st.lists(st.floats(0, 10), max_size=2))),
        first_observed_at=seen.replace(tzinfo=UTC) if seen else None,
    )
    kev = draw(st.none() | st.builds(KevEntry, date_added=st.none() | st.dates(), due_date=st.none() | st.dates()))
    epss = draw(st.none() | st.builds(EpssScore, score=st.floats(0, 1), percentile=st.none() | st.floats(0, 1)))
    return finding, Enrichment(vulnerability_id=vid, kev=kev, epss=epss)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions(), st.lists(findings(), max_size=5))
def test_random_expressions_never_crash(text: str, items: list[tuple[Finding, Enrichment]]) -> None:
    try:
        node = parse(text)
    except ExprError:
        return
    fn, (why,) = compile_policy([node])
    for finding, enrichment in items:
        facts = facts_for(finding, enrichment, Context(today=date(2026, 11, 21)))
        if fn(facts):
            reasons = why(facts)
            assert reasons
            assert all(isinstance(r, str) and r for r in reasons)


POLICY = parse_policy("""\
version: 1
rules:
  - {id: a, when: kev or (epss > 0.5 and fix_available), action: fail}
  - {id: b, when: 'severity in ["CRITICAL", "HIGH"] and not enriched', action: fail}
  - {id: c, when: 'cvss >= 7 or inspector_score >= 7 or age_days > 90', action: warn}
  - {id: d, when: 'startswith(packages, "kernel") or matches(vulnerability_id, "ALAS*")', action: warn}
  - {id: e, when: 'kev_date_added > "2024-01-01" or kev_due_date < today', action: fail}
exceptions:
  - {vulnerability: CVE-2024-3400, reason: r, expires: 2027-01-01, packages: ["*"]}
""", "p.yaml")


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.lists(findings(), max_size=8))
def test_random_findings_get_a_decision(items: list[tuple[Finding, Enrichment]]) -> None:
    engine = Engine(POLICY, datetime(2026, 11, 21, tzinfo=UTC))
    for finding, enrichment in items:
        try:
            result = engine.decide(finding, enrichment)
        except PolicyError:
            continue
        assert result.decision.value in ("fail", "warn", "excepted", "pass")
        assert all(m.reasons for m in result.matches)
