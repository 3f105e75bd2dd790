"""The baseline fields in the registry: unknown without a baseline, the clock's earliest sighting with one."""

from __future__ import annotations

from datetime import UTC, date, datetime

from gate.fields import FIELDS, Context, DataKind
from gate.model import Enrichment, Finding, VulnerablePackage
from gate.vocab import identity


def finding(*packages: tuple[str, str], observed: date | None = date(2026, 10, 1)) -> Finding:
    return Finding(vulnerability_id="CVE-2099-1", severity="CRITICAL", title=None, description=None,
                   fix_available="YES", packages=tuple(VulnerablePackage(n, version=v) for n, v in packages),
                   first_observed_at=datetime(observed.year, observed.month, observed.day, tzinfo=UTC)
                   if observed else None)


def values(f: Finding, ctx: Context) -> tuple[object, ...]:
    e = Enrichment(f.vulnerability_id)
    return tuple(FIELDS[name].get(f, e, ctx) for name in ("new", "first_seen", "days_open"))


def test_only_a_baseline_answers_them() -> None:
    assert {FIELDS[n].sources for n in ("new", "first_seen", "days_open")} == {frozenset({DataKind.BASELINE})}
    assert values(finding(("openssl", "3.0.8")), Context(today=date(2026, 10, 20))) == (None, None, None)


def test_identity_ignores_versions_and_order_not_names() -> None:
    a = finding(("openssl", "3.0.8"), ("openssl-libs", "3.0.8"))
    b = finding(("openssl-libs", "3.0.9"), ("openssl", "3.0.9"))
    assert a.identity == b.identity == identity("CVE-2099-1", ["openssl", "openssl-libs"])
    assert finding(("openssl", "3.0.8")).identity != a.identity


def test_values_with_a_baseline() -> None:
    today = date(2026, 10, 20)
    old = finding(("openssl", "3.0.9"))
    ctx = Context(today=today, first_seen={old.identity: date(2026, 9, 1)})
    assert values(old, ctx) == (False, date(2026, 9, 1), 49.0)
    assert values(finding(("glibc", "2.34")), ctx) == (True, date(2026, 10, 1), 19.0)
    assert values(finding(("glibc", "2.34"), observed=None), ctx) == (True, today, 0.0)


def test_the_earlier_sighting_wins() -> None:
    """A baseline dated after this build's own observation cannot shorten the clock."""
    f = finding(("openssl", "3.0.9"), observed=date(2026, 8, 1))
    ctx = Context(today=date(2026, 10, 20), first_seen={f.identity: date(2026, 9, 1)})
    assert values(f, ctx) == (False, date(2026, 8, 1), 80.0)
