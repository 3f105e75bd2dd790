"""The "why" behind each decision, shared by every format: rules, exceptions, and data provenance."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from gate.declared import VexStatement
from gate.model import (
    Enrichment,
    EpssScore,
    FeedInfo,
    KevEntry,
    Provenance,
    Sourced,
    Ssvc,
    ValueKind,
    VulnerablePackage,
    enrichment_values,
)
from gate.outcome import BaselineState, Decision, Evaluation, FindingResult, RuleMatch
from gate.timeutil import age_days, utc_day
from gate.vocab import SEVERITY_ORDER, severity_rank

DECISION_ORDER: tuple[Decision, ...] = (
    Decision.FAIL,
    Decision.WARN,
    Decision.EXCEPTED,
    Decision.PASS,
)
"""Reports list what blocks the release first, then what needs attention."""


def age_text(then: date | datetime | None, now: datetime | None) -> str:
    """`450 days old`, so readers see staleness without doing date arithmetic."""
    days = age_days(then, now)
    if days is None:
        return "age unknown"
    if days < 0:
        return f"dated {-days} days after the evaluation"
    return "1 day old" if days == 1 else f"{days} days old"


def day_text(value: date | datetime | None) -> str:
    return utc_day(value).isoformat() if value is not None else "unknown date"


@functools.lru_cache(maxsize=8192)
def number(value: float) -> str:
    """Three significant digits written out in full (`0.00009`, `0.937`, `97`), never `9e-05`.

    Cached: every format writes the same few hundred scores, each several times.
    """
    if not math.isfinite(value) or value == 0:
        return "0" if value == 0 else str(value)
    decimals = max(2 - math.floor(math.log10(abs(value))), 0)
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def provenance_text(provenance: Provenance | None, now: datetime | None, verb: str = "as of") -> str:
    """`first-epss, scored 2025-08-28, 450 days old`: where a value came from and how fresh it is."""
    if provenance is None:
        return "source unknown"
    if provenance.as_of is None:
        return f"{provenance.source}, date unknown"
    return f"{provenance.source}, {verb} {day_text(provenance.as_of)}, {age_text(provenance.as_of, now)}"


def _sourced_value(value: Sourced) -> str:
    raw = value.value
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    if isinstance(raw, float | int):
        return number(raw)
    return ", ".join(raw) if raw else "none"


def _kev_line(enrichment: Enrichment, kev: KevEntry, now: datetime | None) -> str:
    parts = [f"kev listed, added {day_text(kev.date_added)}"]
    if kev.due_date is not None:
        parts.append(f"due {day_text(kev.due_date)}")
    if kev.ransomware:
        parts.append("known ransomware use")
    return f"{', '.join(parts)} ({provenance_text(kev.provenance, now)})"


def _asked_line(enrichment: Enrichment, asked: tuple[str, ...], now: datetime | None) -> str | None:
    return None if enrichment.kev is not None or not asked else f"kev not listed (asked {', '.join(asked)})"


def _epss_line(enrichment: Enrichment, epss: EpssScore, now: datetime | None) -> str:
    text = f"epss {number(epss.score)}"
    if epss.percentile is not None:
        text += f", percentile {number(epss.percentile)}"
    return f"{text} ({provenance_text(epss.provenance, now, 'scored')})"


def _ssvc_line(enrichment: Enrichment, ssvc: Ssvc, now: datetime | None) -> str:
    automatable = {True: "yes", False: "no", None: "unknown"}[ssvc.automatable]
    return (f"ssvc exploitation {ssvc.exploitation or 'unknown'}, automatable {automatable}, technical impact "
            f"{ssvc.technical_impact or 'unknown'} ({provenance_text(ssvc.provenance, now, 'assessed')})")


_LINES: dict[ValueKind, Callable[[Enrichment, Any, datetime | None], str | None]] = {
    "kev": _kev_line, "asked": _asked_line, "epss": _epss_line, "ssvc": _ssvc_line,
}


def enrichment_lines(enrichment: Enrichment, now: datetime | None) -> tuple[str, ...]:
    """One line per enrichment value, each naming its source, so a decision can be audited."""
    lines: list[str] = []
    for name, described in enrichment_values():
        value = getattr(enrichment, name)
        if value is None:
            continue
        write = _LINES.get(described.kind)
        line = write(enrichment, value, now) if write is not None else (
            f"{described.label} {_sourced_value(value)} ({provenance_text(value.provenance, now)})")
        if line is not None:
            lines.append(line)
    return tuple(lines)


def match_text(match: RuleMatch) -> str:
    """`kev-listed: kev is true; epss 0.94 > 0.5`, the reasons exactly as the engine gave them."""
    reasons = "; ".join(match.reasons) if match.reasons else "condition held"
    return f"{match.rule_id}: {reasons}"


def match_lines(result: FindingResult, evaluation: Evaluation) -> tuple[str, ...]:
    """Each matched rule with its action and reasons, then exceptions that covered or lapsed."""
    lines = []
    vex = result.vex
    for match in result.matches:
        line = f"{match.action.value} {match_text(match)}"
        if vex is not None and match.excepted_by == vex.cover_id:
            line += f" (excepted by VEX: {vex_text(vex)})"
        elif match.excepted_by:
            line += f" (excepted by {match.excepted_by})"
        lines.append(line)
    for revocation in result.revoked:
        reasons = "; ".join(revocation.reasons) or "its until condition held"
        lines.append(f"exception {revocation.exception_id} revoked: {reasons}")
    if vex is not None and not vex.covers:
        lines.append(f"VEX says {vex_text(vex)}; {vex.status} never covers a finding")
    expiries = {e.id: e.expires for e in evaluation.exceptions}
    for exc_id in result.expired_exceptions:
        expired = expiries.get(exc_id)
        when = f" on {expired.isoformat()}" if expired else ""
        lines.append(f"exception {exc_id} expired{when} and no longer applies")
    if lines and result.baseline is not None:
        lines.insert(0, state_text(result, evaluation.evaluated_at))
    return tuple(lines)


def state_text(result: FindingResult, now: datetime | None) -> str:
    """`new since the baseline`, or `in the baseline; open 42 days (since 2026-10-14)`."""
    if result.baseline is BaselineState.NEW:
        return "new since the baseline"
    days = age_days(result.first_seen, now)
    since = f"open {days} days (since {day_text(result.first_seen)})" if days is not None else "open"
    return f"in the baseline; {since}"


def baseline_lines(evaluation: Evaluation, limit: int = 20) -> tuple[str, ...]:
    """The comparison with the baseline in a line, then (up to `limit`) the baseline findings this build fixed."""
    base = evaluation.baseline
    if base is None:
        return ()
    new = sum(1 for r in evaluation.results if r.baseline is BaselineState.NEW)
    against = base.target or base.source
    lines = [f"compared with {against}: {new} new, {len(evaluation.results) - new} unchanged, "
             f"{len(base.fixed)} fixed"]
    lines += [f"fixed: {x.vulnerability_id} ({x.severity}) in {', '.join(x.packages) or 'no package named'}, "
              f"first seen {x.first_seen.isoformat()}" for x in base.fixed[:limit]]
    if len(base.fixed) > limit:
        lines.append(f"... and {len(base.fixed) - limit} more fixed (the JSON report lists them all)")
    return tuple(lines)


def vex_text(statement: VexStatement) -> str:
    """`not_affected (vulnerable_code_not_present), vex.json statement 2 by Platform <p@example.com>`."""
    return (f"{statement.why}, {statement.document} statement {statement.index + 1} "
            f"(line {statement.line}) by {statement.author}" if statement.line else
            f"{statement.why}, {statement.document} statement {statement.index + 1} by {statement.author}")


def why(result: FindingResult, evaluation: Evaluation) -> tuple[str, ...]:
    """Everything a reader needs to trust or challenge the decision on one finding."""
    return match_lines(result, evaluation) + enrichment_lines(result.enrichment, evaluation.evaluated_at)


def primary_match(result: FindingResult) -> RuleMatch | None:
    """The match that explains the decision: first blocking, else first live warning, else excepted."""
    live = [m for m in result.matches if not m.excepted_by]
    if result.blocking:
        return result.blocking[0]
    if live:
        return live[0]
    return result.matches[0] if result.matches else None


def fixed_text(package: VulnerablePackage) -> str:
    return package.fixed_in_version or "no fix listed"


def package_text(package: VulnerablePackage) -> str:
    """`openssl-libs 1:3.0.8-1 → 1:3.0.8-2`: what to upgrade and to which version."""
    return f"{package.name} {package.installed} → {fixed_text(package)}"


def sorted_results(results: Iterable[FindingResult]) -> list[FindingResult]:
    """Blocking first (new ones first), then by severity and id, so every format reads in the same order."""
    return sorted(
        results,
        key=lambda r: (
            DECISION_ORDER.index(r.decision),
            r.baseline is not BaselineState.NEW,
            severity_rank(r.finding.severity),
            r.finding.vulnerability_id,
            r.finding.key,
        ),
    )


def severities(evaluation: Evaluation) -> list[str]:
    """Known severities in order, followed by any unexpected ones that occur."""
    seen = {r.finding.severity for r in evaluation.results}
    extra = sorted(seen - set(SEVERITY_ORDER))
    return [s for s in SEVERITY_ORDER if s in seen] + extra


def severity_counts(evaluation: Evaluation) -> dict[str, dict[Decision, int]]:
    """Findings per severity and decision, for the counts tables."""
    counts = {s: dict.fromkeys(DECISION_ORDER, 0) for s in severities(evaluation)}
    for result in evaluation.results:
        counts[result.finding.severity][result.decision] += 1
    return counts


def feed_text(feed: FeedInfo, now: datetime | None) -> str:
    """`cisa-kev (cisa-kev, as of 2025-08-25, 87 days old; catalog 2025.08.25)`."""
    detail = f"; {feed.detail}" if feed.detail else ""
    return f"{feed.name} ({provenance_text(Provenance(feed.source, feed.as_of), now)}{detail})"


def exception_alerts(evaluation: Evaluation) -> tuple[str, ...]:
    """Exceptions about to lapse or that revoked themselves: a person must act on these soon."""
    by_id = {e.id: e for e in evaluation.exceptions}
    today = utc_day(evaluation.evaluated_at) if evaluation.evaluated_at else None
    lines = []
    for exc_id in evaluation.expiring_exceptions:
        exc = by_id[exc_id]
        days = (exc.expires - today).days if today else None
        when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days" if days else ""
        owner = f", owner {exc.owner}" if exc.owner else ""
        lines.append(f"expiring: {exc.id} for {exc.vulnerability} (expires {exc.expires.isoformat()}"
                     f"{', ' + when if when else ''}{owner}): {exc.reason}")
    revoked: dict[str, list[str]] = {}
    for result in evaluation.results:
        for revocation in result.revoked:
            revoked.setdefault(revocation.exception_id, []).append(
                f"{result.finding.vulnerability_id}: {'; '.join(revocation.reasons)}")
    for exc_id in evaluation.revoked_exceptions:
        exc = by_id[exc_id]
        seen = revoked.get(exc_id, [])
        first = seen[0] if seen else ""
        more = f" (and {len(seen) - 1} more findings)" if len(seen) > 1 else ""
        lines.append(f"revoked: {exc.id} for {exc.vulnerability} (until {exc.until}): {first}{more}")
    return tuple(lines)


def exception_lines(evaluation: Evaluation) -> tuple[str, ...]:
    """Exceptions needing housekeeping: expiring, revoked, expired (no longer protect), stale (cover nothing)."""
    by_id = {e.id: e for e in evaluation.exceptions}
    lines = list(exception_alerts(evaluation))
    for label, ids in (
        ("expired", evaluation.expired_exceptions),
        ("stale", evaluation.stale_exceptions),
    ):
        for exc_id in ids:
            exc = by_id.get(exc_id)
            if exc is None:
                lines.append(f"{label}: {exc_id}")
                continue
            owner = f", owner {exc.owner}" if exc.owner else ""
            verb = "expired" if label == "expired" else "expires"
            lines.append(
                f"{label}: {exc.id} for {exc.vulnerability} ({verb} {exc.expires.isoformat()}{owner}): {exc.reason}"
            )
    return tuple(lines)


def image_builder_check(evaluation: Evaluation) -> dict[str, Any] | None:
    """What the image's own `scanResultCondition` decides for the same findings, as the JSON and SARIF
    reports carry it; None when the scan type has no such condition."""
    check = evaluation.image_builder_check
    if check is None:
        return None
    return {"verdict": "pass" if check.passed else "fail",
            "maximumSeverityLabel": check.condition.maximum_severity_label,
            "fixAvailable": check.condition.fix_available, "counted": check.counted, "exceeding": check.exceeding}


def action_lines(evaluation: Evaluation) -> tuple[str, ...]:
    """What was done after the verdict, a line each: `workflow-step RESUME step-…: done (reason)`."""
    return tuple(f"{r.action} {r.operation} {r.target}: {r.status.value}" + (f" ({r.detail})" if r.detail else "")
                 for r in evaluation.actions)
