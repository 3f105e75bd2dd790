"""The one owner of a run: open the inputs, gather and enrich every finding, judge them, close everything.

Every input (an export, a snapshot, a live Image Builder build) reaches the policy through here,
so a check that must hold for all of them (unanswerable rules, fresh feeds, one image) is written
once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gate.enrichment.interface import Enricher, IncrementalEnricher, combine
from gate.errors import IncompleteError
from gate.fields import ALWAYS, FIELDS, DataKind, supply_text
from gate.model import Finding, Gathered, ImageScan, image_builder_check
from gate.outcome import Evaluation
from gate.policy.compile import referenced
from gate.sources.interface import FindingSource

if TYPE_CHECKING:
    from gate.baseline import Baseline, BaselineSpec
    from gate.declared import VexStatement
    from gate.policy.loader import Policy



@dataclass(frozen=True)
class Plan:
    """What one run reads: a finding source, a live enricher that works while pages arrive, offline ones.

    `close` releases whatever the factory opened (AWS clients, thread pools); the owner always calls it.
    """

    source: FindingSource
    live: IncrementalEnricher | None = None
    offline: Sequence[Enricher] = ()
    closers: tuple[Callable[[], None], ...] = ()
    baseline: BaselineSpec | None = None
    pipeline: str | None = None
    """The target's image pipeline when resolving the target told it (otherwise the findings name it)."""
    vex: tuple[Path, ...] = ()
    """OpenVEX documents given for this run (besides those the policy lists)."""
    scan_results: Callable[[], ImageScan] | None = None
    """Reads EC2's ScanResults of the output AMIs (live plans); called only when a rule needs them."""

    def provides(self) -> frozenset[str]:
        """Kinds of data the enrichers can answer, known before any call (from their declared feeds)."""
        kinds: set[str] = set(ALWAYS)
        if self.live is not None:
            kinds.update(self.live.provides)
        for enricher in self.offline:
            kinds.update(enricher.provides)
        # NOTE: only the plan's baseline answers it, whatever a replayed snapshot's feeds claim.
        kinds.discard(DataKind.BASELINE)
        if self.baseline is not None:
            kinds.add(DataKind.BASELINE)
        if self.scan_results is not None:
            kinds.add(DataKind.EC2_SCAN_RESULTS)
        return frozenset(kinds)

    def close(self) -> None:
        if self.live is not None:
            self.live.close()
        for closer in reversed(self.closers):
            closer()


def gather(plan: Plan) -> Gathered:
    """Run the source to its end; the live enricher sees each new id as its page arrives.

    Sources earlier in priority win per field: live (Inspector) first, then offline ones in order.
    """
    findings: list[Finding] = []
    seen: dict[str, None] = {}
    live = plan.live
    for page in plan.source.pages():
        fresh = [f.vulnerability_id for f in page if f.vulnerability_id not in seen]
        findings.extend(page)
        if fresh:
            seen.update(dict.fromkeys(fresh))
            if live is not None:
                live.submit(fresh)
    answers = [live.results()] if live is not None else []
    ids = list(seen)
    answers.extend(e.enrich(ids) for e in plan.offline)
    feeds = (live.feeds() if live is not None else ()) + tuple(info for e in plan.offline for info in e.feeds())
    scan = plan.source.summary()
    return Gathered(target=plan.source.target, findings=tuple(findings), enrichments=combine(ids, answers),
                    feeds=feeds, scan_result_condition=scan.scan_result_condition, output_amis=scan.output_amis,
                    image=scan.image, notes=scan.notes, output_ami_arns=scan.output_ami_arns,
                    scan_type=scan.scan_type)


def fetch(plan: Plan) -> Gathered:
    """Gather without judging (`gate fetch`), closing the plan whatever happens."""
    try:
        return gather(plan)
    finally:
        plan.close()


def unanswerable(policy: Policy, provided: frozenset[str]) -> list[str]:
    """One line per (rule, field) that no source in this run can answer, naming the ways to supply it."""
    problems: list[str] = []
    conditions = [(f"rule '{rule.id}'", rule.condition) for rule in policy.rules]
    # NOTE: an `until` nothing can answer would never revoke: the exception would cover for ever.
    conditions += [(f"exception '{ex_id}' until", condition) for ex_id, condition in policy.untils]
    for label, condition in conditions:
        for name in sorted(referenced([condition])):
            kinds = FIELDS[name].sources
            if kinds & provided:
                continue
            problems.append(f"{label} reads `{name}`, which no source in this run can answer: "
                            f"supply {supply_text(kinds)}")
    return problems


def unasked(policy: Policy, gathered: Gathered) -> list[str]:
    """One line per (rule, field) that a source of the run answers, but that no source was asked about for some
    finding (saved Inspector answers that leave a CVE out): judging it would read "unknown" as "no"."""
    problems: list[str] = []
    conditions = [(f"rule '{rule.id}'", rule.condition) for rule in policy.rules]
    conditions += [(f"exception '{ex_id}' until", condition) for ex_id, condition in policy.untils]
    for label, condition in conditions:
        for name in sorted(referenced([condition])):
            asked = FIELDS[name].asked
            if asked is None:
                continue
            missed = [vid for vid, e in gathered.enrichments.items() if not asked(e)]
            if missed:
                more = f" (and {len(missed) - 1} more)" if len(missed) > 1 else ""
                problems.append(f"{label} reads `{name}`, which no source in this run answered for {missed[0]}{more}")
    return problems


def _reads_scan_results(policy: Policy) -> bool:
    conditions = [rule.condition for rule in policy.rules] + [c for _, c in policy.untils]
    return any(DataKind.EC2_SCAN_RESULTS in FIELDS[name].sources for name in referenced(conditions))


def image_products(gathered: Gathered) -> frozenset[str]:
    """What names the judged image for VEX: build version and pipeline ARNs, and output AMIs the source knows."""
    names = {gathered.target} if gathered.target.startswith("arn:") else set()
    for finding in gathered.findings:
        names.update(n for n in (finding.image_build_version_arn, finding.image_pipeline_arn) if n)
    names.update(gathered.output_amis)
    return frozenset(names)


def _notes(gathered: Gathered, now: datetime) -> tuple[str, ...]:
    from gate.enrichment.freshness import age_notes  # noqa: PLC0415
    from gate.sources.ec2_codec import unread_title  # noqa: PLC0415

    notes: list[str] = list(gathered.notes)
    unread = sum(1 for f in gathered.findings if unread_title(f))
    if unread:
        notes.append(f"{unread} findings have a title that names no packages gate can read after the vulnerability "
                     "id; they are judged without packages")
    notes.extend(age_notes(gathered.feeds, now))
    notes.extend(note for feed in gathered.feeds for note in feed.notes)
    return tuple(notes)


def judge_build(plan: Plan, policy: Policy, *, now: datetime, allow_unanswerable: bool = False,
                expiring_within_days: int | None = None, max_feed_age: timedelta | None = None) -> Evaluation:
    """Gather, enrich and judge; closes the plan whatever happens. Raises `GateError` if it cannot complete.

    `max_feed_age`: how old KEV/EPSS data may be at `now`; None takes the policy's, else 30 days.
    """
    # NOTE: imported here, not at the top: a live run reaches its first AWS request without them.
    from gate.baseline import build_of, compare, pipeline_of  # noqa: PLC0415
    from gate.enrichment.epss_model import ModelPin, check_feeds, check_values  # noqa: PLC0415
    from gate.enrichment.freshness import DEFAULT_MAX_AGE, require_fresh  # noqa: PLC0415
    from gate.policy.engine import judge  # noqa: PLC0415 - `gate --help` should not load the policy stack
    from gate.policy.loader import shipped_policies  # noqa: PLC0415

    try:
        # NOTE: VEX is read before anything is fetched: a bad document stops the run before AWS is asked.
        vex = _read_vex([*policy.vex, *plan.vex], now)
        notes: list[str] = []
        missing = unanswerable(policy, plan.provides())
        if missing and not allow_unanswerable:
            more = f"; {len(missing) - 1} more cannot be answered either" if len(missing) > 1 else ""
            shown = policy.name if shipped_policies().get(policy.name) == Path(policy.source) else policy.source
            raise IncompleteError(missing[0] + more, hint=f"`gate policy show {shown}` lists the data each rule "
                                  "needs; or pass --allow-unanswerable to judge such rules as not matching")
        notes.extend(f"--allow-unanswerable: {line}; the rule was judged as not matching" for line in missing)
        # NOTE: the baseline first, so a bad baseline file stops the run before a long listing.
        base: Baseline | None = plan.baseline.load() if plan.baseline is not None else None
        # NOTE: offline feeds are dated before any page is fetched: a stale one stops the run before AWS calls.
        offline_feeds = [feed for e in plan.offline for feed in e.feeds()]
        require_fresh(offline_feeds, now, max_feed_age or policy.max_feed_age or DEFAULT_MAX_AGE)
        pin = ModelPin(policy.epss_model, policy.epss_model_allow_other) if policy.epss_model else None
        model_notes = check_feeds(pin, offline_feeds)  # NOTE: another model stops the run before AWS is asked
        gathered = gather(plan)
        notes.extend(model_notes or check_values(pin, gathered.enrichments))  # NOTE: one note when allowed
        if plan.scan_results is not None and _reads_scan_results(policy):
            gathered = replace(gathered, image_scan=plan.scan_results())
    finally:
        plan.close()
    missed = unasked(policy, gathered)
    if missed and not allow_unanswerable:
        more = f"; {len(missed) - 1} more cannot be answered either" if len(missed) > 1 else ""
        raise IncompleteError(missed[0] + more, hint="pass --kev-catalog FILE or run `gate feeds update` (the catalog "
                              "answers every CVE), or pass --allow-unanswerable to judge them as not matching")
    notes.extend(f"--allow-unanswerable: {line}; it was judged as not matching" for line in missed)
    # NOTE: findings of several builds are refused only where it matters: against a baseline.
    pipeline = pipeline_of(gathered, plan.pipeline, strict=base is not None)
    info = None
    if base is not None and plan.baseline is not None:
        info = compare(base, gathered, pipeline=pipeline, any_pipeline=plan.baseline.any_pipeline, now=now)
        notes.extend(base.notes)
    evaluation = judge(policy, gathered.findings, gathered.enrichments, now=now, target=gathered.target,
                       feeds=gathered.feeds, notes=(*notes, *_notes(gathered, now)), baseline=info,
                       pipeline=pipeline, build=build_of(gathered, strict=base is not None), vex=vex,
                       products=image_products(gathered), expiring_within_days=expiring_within_days,
                       image_scan=gathered.image_scan)
    # NOTE: what a signed decision names besides the verdict: the policy's bytes, the AMIs, the scan.
    evaluation = replace(evaluation, policy_digest=policy.digest, output_ami_arns=gathered.output_ami_arns,
                         scan_type=gathered.scan_type)
    condition = gathered.scan_result_condition
    if condition is None:
        return evaluation
    # NOTE: Image Builder's own check, beside gate's verdict (never instead of it).
    return replace(evaluation, image_builder_check=image_builder_check(condition, gathered.findings))


def _read_vex(paths: Sequence[str | Path], now: datetime) -> tuple[VexStatement, ...]:
    """The statements of every VEX document, none dated after `now`; the reader (about 9 ms of imports) only
    when there are any."""
    if not paths:
        return ()
    from gate.policy.vex import read_documents  # noqa: PLC0415

    return read_documents(paths, now=now)
