"""Decide each finding against a compiled policy and its exceptions, and the verdict for the image."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from gate.declared import Action, PolicyException, VexStatement
from gate.errors import PolicyError
from gate.fields import Context, facts_for, getters
from gate.model import Enrichment, FeedInfo, Finding, ImageScan
from gate.outcome import (
    BaselineInfo,
    BaselineState,
    Decision,
    Evaluation,
    FindingResult,
    Revocation,
    RuleMatch,
    Verdict,
)
from gate.policy.compile import referenced
from gate.policy.loader import Policy, Rule

if TYPE_CHECKING:
    from gate.policy.vex import VexIndex

DEFAULT_EXPIRING_DAYS = 14


def is_expired(exception: PolicyException, today: date) -> bool:
    """`expires` is the last day an exception applies."""
    return today > exception.expires


def expiring(exception: PolicyException, today: date, within_days: int) -> bool:
    """Still applies, but its last day falls within `within_days` of today."""
    return 0 <= (exception.expires - today).days <= within_days


def covers(exception: PolicyException, finding: Finding, rule: Rule) -> bool:
    """Same vulnerability, the rule in scope, and every vulnerable package named by the exception."""
    if exception.vulnerability.upper() != finding.vulnerability_id.upper():
        return False
    if exception.rules and rule.id not in exception.rules:
        return False
    if exception.packages:
        return all(
            any(fnmatch.fnmatchcase(name, pattern) for pattern in exception.packages)
            for name in finding.package_names
        ) and bool(finding.package_names)
    return True


class Engine:
    """Holds a policy and the evaluation date; `decide` is the per-finding hot path."""

    def __init__(self, policy: Policy, now: datetime, baseline: BaselineInfo | None = None,
                 vex: VexIndex | None = None, image_scan: ImageScan | None = None) -> None:
        self.policy = policy
        self.vex = vex
        self.now = now.astimezone(UTC)
        self.today = self.now.date()
        self.context = Context(today=self.today, first_seen=baseline.first_seen if baseline else None,
                               image_scan=image_scan)
        self.active: dict[str, list[PolicyException]] = {}
        self.expired: dict[str, list[PolicyException]] = {}
        for ex in policy.exceptions:
            bucket = self.expired if is_expired(ex, self.today) else self.active
            bucket.setdefault(ex.vulnerability.upper(), []).append(ex)
        self.used: set[str] = set()
        self.revoked: set[str] = set()
        self._untils = policy.until_checks or {}
        self._getters = getters(referenced([r.condition for r in policy.rules] + [c for _, c in policy.untils]))

    def decide(self, finding: Finding, enrichment: Enrichment,
               overrides: Mapping[str, Any] | None = None) -> FindingResult:
        """`overrides` set field values directly (policy tests state facts rather than build sources)."""
        facts = facts_for(finding, enrichment, self.context, self._getters)
        if overrides:
            facts.update(overrides)
        try:
            mask = self.policy.function(facts)
        except Exception as err:  # fail closed: a rule that cannot run is a policy error
            raise PolicyError(f"evaluating {finding.vulnerability_id} failed: {type(err).__name__}: {err}",
                              path=self.policy.source) from err
        seen = self.context.first_seen
        state = None if seen is None else (
            BaselineState.UNCHANGED if finding.identity in seen else BaselineState.NEW)
        statement = self.vex.applicable(finding) if self.vex is not None else None
        if not mask:
            return FindingResult(finding, enrichment, Decision.PASS, first_seen=self.context.seen(finding),
                                 baseline=state, vex=statement)
        vid = finding.vulnerability_id.upper()
        matches: list[RuleMatch] = []
        expired_hits: list[str] = []
        revoked: dict[str, Revocation] = {}
        used_here: set[str] = set()  # exceptions whose `until` was false for this finding: asked once
        for i, rule in enumerate(self.policy.rules):
            if not mask >> i & 1:
                continue
            cover = None
            for ex in self.active.get(vid, ()):
                if not covers(ex, finding, rule):
                    continue
                if ex.id in revoked:
                    continue
                check = self._untils.get(ex.id)
                if check is not None and ex.id not in used_here and self._until_holds(check[0], facts, finding):
                    revoked[ex.id] = Revocation(ex.id, tuple(check[1](facts)))
                    continue
                used_here.add(ex.id)
                cover = ex
                break
            excepted_by = cover.id if cover is not None else None
            if cover is not None:
                self.used.add(cover.id)
            else:
                expired_hits.extend(ex.id for ex in self.expired.get(vid, ()) if covers(ex, finding, rule))
                if statement is not None and statement.covers:
                    excepted_by = statement.cover_id
            matches.append(RuleMatch(rule_id=rule.id, action=rule.action,
                                     reasons=tuple(self.policy.explainers[i](facts)),
                                     excepted_by=excepted_by))
        self.revoked.update(revoked)
        open_actions = {m.action for m in matches if m.excepted_by is None}
        if Action.FAIL in open_actions:
            decision = Decision.FAIL
        elif Action.WARN in open_actions:
            decision = Decision.WARN
        else:
            decision = Decision.EXCEPTED
        return FindingResult(finding, enrichment, decision, tuple(matches),
                             tuple(dict.fromkeys(expired_hits)), first_seen=self.context.seen(finding),
                             baseline=state, revoked=tuple(revoked.values()), vex=statement)

    def _until_holds(self, check: Any, facts: dict[str, Any], finding: Finding) -> bool:
        try:
            return bool(check(facts))
        except Exception as err:  # fail closed, as for rules
            raise PolicyError(f"evaluating `until` for {finding.vulnerability_id} failed: "
                              f"{type(err).__name__}: {err}", path=self.policy.source) from err


def judge(
    policy: Policy,
    findings: Iterable[Finding],
    enrichments: Mapping[str, Enrichment],
    *,
    now: datetime,
    target: str | None = None,
    feeds: tuple[FeedInfo, ...] = (),
    notes: tuple[str, ...] = (),
    baseline: BaselineInfo | None = None,
    pipeline: str | None = None,
    build: str | None = None,
    vex: Sequence[VexStatement] = (),
    products: Iterable[str] = (),
    expiring_within_days: int | None = None,
    image_scan: ImageScan | None = None,
) -> Evaluation:
    """Decide every finding and the verdict; the policy half of a run (`gate.run` owns the whole).

    `expiring_within_days` (else the policy's, else 14) is the window in which exceptions are reported
    as expiring. `products` name the judged image (build version ARN, pipeline ARN, AMI ids) for `vex`.
    """
    image = tuple(sorted({p.strip() for p in products if p and p.strip()}))
    vex_index = None
    if vex:
        from gate.policy.vex import VexIndex  # noqa: PLC0415 - only runs with VEX documents read it (~9 ms)

        vex_index = VexIndex(vex, image)
    engine = Engine(policy, now, baseline, vex_index, image_scan)
    results = tuple(
        engine.decide(f, enrichments.get(f.vulnerability_id) or Enrichment(f.vulnerability_id))
        for f in findings
    )
    verdict = Verdict.FAIL if any(r.decision is Decision.FAIL for r in results) else Verdict.PASS
    expired = tuple(ex.id for ex in policy.exceptions if is_expired(ex, engine.today))
    stale = tuple(
        ex.id for ex in policy.exceptions
        if not is_expired(ex, engine.today) and ex.id not in engine.used and ex.id not in engine.revoked
    )
    window = next(d for d in (expiring_within_days, policy.expiring_within_days, DEFAULT_EXPIRING_DAYS)
                  if d is not None)
    soon = tuple(ex.id for ex in policy.exceptions if expiring(ex, engine.today, window))
    return Evaluation(
        verdict=verdict,
        results=results,
        policy_name=policy.name,
        policy_source=policy.source,
        rules=tuple(r.info for r in policy.rules),
        exceptions=policy.exceptions,
        stale_exceptions=stale,
        expired_exceptions=expired,
        expiring_exceptions=soon,
        revoked_exceptions=tuple(ex.id for ex in policy.exceptions if ex.id in engine.revoked),
        expiring_within_days=window,
        products=image,
        feeds=feeds,
        target=target,
        evaluated_at=engine.now,
        notes=notes,
        pipeline=pipeline,
        build=build,
        baseline=baseline,
    )
