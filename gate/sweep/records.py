"""One build's decision, reduced to its small fleet record as soon as it is made (the findings are dropped)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from gate.decide import Decided
from gate.errors import BuildSkipped, GateError
from gate.fleet import Blocker, BuildRecord, Counts, Intel, Status
from gate.outcome import Decision, Evaluation, FindingResult, Verdict
from gate.sweep.shared import Learned
from gate.sweep.targets import Target

_WORST = {Decision.FAIL: 0, Decision.WARN: 1, Decision.EXCEPTED: 2, Decision.PASS: 3}
MAX_FIX = 200
EPSS_FLOOR = 0.05
"""A passing CVE outside KEV with EPSS below this is left out of a record (most CVEs are): `--previous` reads its
absence as "below the floor". Keeps a record to a few entries per build instead of one per CVE."""


def fix_text(results: Iterable[FindingResult]) -> str:
    """What fixes a CVE in this build: `update openssl to 3.0.15`, the scan's remediation, or that none is known."""
    updates: dict[str, None] = {}
    remediation = ""
    for r in results:
        for p in r.finding.packages:
            if p.fixed_in_version and p.fixed_in_version not in ("NotAvailable", "None"):
                updates[f"update {p.name} to {p.fixed_in_version}"] = None
        remediation = remediation or (r.finding.remediation_text or "")
    text = ", ".join(updates) or " ".join(remediation.split()) or "no fix available"
    return text if len(text) <= MAX_FIX else text[: MAX_FIX - 1] + "…"


def _blockers(results: tuple[FindingResult, ...]) -> tuple[Blocker, ...]:
    by_id: dict[str, list[FindingResult]] = {}
    for r in results:
        if r.decision is Decision.FAIL:
            by_id.setdefault(r.finding.vulnerability_id, []).append(r)
    out = []
    for vid, hits in sorted(by_id.items()):
        packages = tuple(dict.fromkeys(p for r in hits for p in r.finding.package_names))
        rules = tuple(dict.fromkeys(m.rule_id for r in hits for m in r.blocking))
        out.append(Blocker(sys.intern(vid), packages, fix_text(hits), rules))
    return tuple(out)


def _intel(results: tuple[FindingResult, ...]) -> tuple[Intel, ...]:
    """Per CVE: the worst decision and the intelligence `--previous` compares (CVE ids interned: shared by builds)."""
    worst: dict[str, FindingResult] = {}
    for r in results:
        seen = worst.get(r.finding.vulnerability_id)
        if seen is None or _WORST[r.decision] < _WORST[seen.decision]:
            worst[r.finding.vulnerability_id] = r
    out = []
    for vid, r in sorted(worst.items()):
        e = r.enrichment
        kev = True if e.kev is not None else (False if e.kev_known_by else None)
        epss = e.epss.score if e.epss else None
        if r.decision is Decision.PASS and not kev and (epss is None or epss < EPSS_FLOOR):
            continue  # NOTE: nothing worth comparing next time; keeps a record small
        out.append(Intel(sys.intern(vid), r.decision.value, e.kev.date_added if e.kev else None, kev, epss))
    return tuple(out)


def _deprecated(target: Target, learned: Learned | None, now: datetime) -> bool:
    state = learned.state if learned is not None else target.state
    past = target.deprecation_time is not None and target.deprecation_time <= now
    return state == "DEPRECATED" or past


def record_of(target: Target, decided: Decided, learned: Learned | None, now: datetime) -> BuildRecord:
    """The fleet record of one build's decision."""
    pipeline = target.pipeline or (learned.pipeline if learned else None)
    amis = target.amis or (learned.amis if learned else ())
    base = BuildRecord(build=target.arn, region=target.region, status=Status.UNJUDGED, pipeline=pipeline,
                       amis=amis, deprecated=_deprecated(target, learned, now), actions=decided.actions)
    error: GateError | None = decided.error
    evaluation: Evaluation | None = decided.evaluation
    if isinstance(error, BuildSkipped):
        return replace(base, status=Status.SKIPPED, reason=error.diagnostics())
    if error is not None or evaluation is None or evaluation.verdict is Verdict.ERROR:
        why = error.diagnostics() if error is not None else "; ".join(evaluation.errors if evaluation else ()) \
            or "no verdict"
        return replace(base, reason=" ".join(why.split()))
    s = evaluation.summary
    notes = tuple(evaluation.notes) + (("deprecated: its AMIs can still be launched",) if base.deprecated else ())
    return replace(base, status=Status.FAIL if evaluation.verdict is Verdict.FAIL else Status.PASS,
                 pipeline=pipeline or evaluation.pipeline, blocking=_blockers(evaluation.results),
                 counts=Counts(s.total, s.failed, s.warned, s.excepted, s.passed), intel=_intel(evaluation.results),
                 notes=notes)
