"""`gate sweep merge`: the JSON reports of N shards joined into one fleet report.

Refused (exit 2), never joined into something that looks whole: shards of different N, a shard given
twice, a shard missing, a build in two reports, reports of different policies, an unsharded report,
shards of another basis (targets, policy file, feeds, --as-of), a build outside the shard that holds it.
"""

from __future__ import annotations

from collections.abc import Sequence

from gate.errors import UsageError
from gate.fleet import Basis, FleetReport, Shard
from gate.sweep.targets import shard_of

HINT = "pass the JSON report of every shard 1/N … N/N of one sweep, each once"


def merge(reports: Sequence[tuple[str, FleetReport]]) -> FleetReport:
    """One report of every shard's records; `UsageError` when the shards do not make exactly one whole."""
    if not reports:
        raise UsageError("gate sweep merge needs at least one report", hint=HINT)
    counts = {s.count for _, r in reports for s in r.shards}
    unsharded = [where for where, r in reports if not r.shards]
    if unsharded:
        raise UsageError(f"{unsharded[0]} is not the report of a shard (it was swept without --shard)", hint=HINT)
    if len(counts) != 1:
        raise UsageError(f"the reports are shards of different sweeps: N = {', '.join(map(str, sorted(counts)))}",
                         hint=HINT)
    count = counts.pop()
    owner: dict[int, str] = {}
    for where, report in reports:
        for shard in report.shards:
            if shard.index in owner:
                raise UsageError(f"shard {shard} is in both {owner[shard.index]} and {where}", hint=HINT)
            owner[shard.index] = where
    missing = [i for i in range(1, count + 1) if i not in owner]
    if missing:
        raise UsageError(f"shard{'s' if len(missing) > 1 else ''} {', '.join(f'{i}/{count}' for i in missing)} "
                         "missing: the merged report would not cover the fleet", hint=HINT)
    policies = {r.policy for _, r in reports}
    if len(policies) != 1:
        raise UsageError(f"the shards were judged under different policies: {', '.join(sorted(policies))}",
                         hint="sweep every shard with the same --policy")
    basis = _one_basis(reports)
    if len({r.compared_with is None for _, r in reports}) > 1:
        # NOTE: the merged report would show "what changed" for some builds and silently nothing for the others.
        raise UsageError("some shards were compared with --previous and others were not",
                         hint="sweep every shard with the same --previous, or none")
    seen: dict[str, str] = {}
    for where, report in reports:
        indices = {s.index for s in report.shards}
        for record in report.records:
            if record.build in seen:
                raise UsageError(f"{record.build} is in both {seen[record.build]} and {where}", hint=HINT)
            seen[record.build] = where
            if shard_of(record.build, count) not in indices:
                # NOTE: a shard's report relabelled as another's would leave the other's builds out unseen.
                raise UsageError(f"{where} holds {record.build}, which is not in shard "
                                 f"{', '.join(str(s) for s in report.shards)}", hint=HINT)
    stats: dict[str, int] = {}
    for _, report in reports:
        for key, value in report.stats.items():
            stats[key] = stats.get(key, 0) + value
    compared = {r.compared_with for _, r in reports} - {None}
    return FleetReport(
        generated_at=max(r.generated_at for _, r in reports),
        policy=reports[0][1].policy,
        records=tuple(rec for _, r in reports for rec in r.records),
        shards=tuple(Shard(i, count) for i in range(1, count + 1)),
        feeds=tuple(dict.fromkeys(f for _, r in reports for f in r.feeds)),
        notes=tuple(dict.fromkeys(n for _, r in reports for n in r.notes)),
        stats=stats,
        compared_with=", ".join(sorted(c for c in compared if c)) or None,
        complete=all(r.complete for _, r in reports),
        basis=basis,
    )


def _one_basis(reports: Sequence[tuple[str, FleetReport]]) -> Basis:
    """The basis every shard shares; `UsageError` naming what differs (or a shard that does not say)."""
    bases: list[tuple[str, Basis]] = []
    for where, report in reports:
        if report.basis is None:
            said = f" ({report.notes[0]})" if report.notes else ""
            raise UsageError(f"{where} does not say what it swept (no `basis`){said}: it cannot be shown to belong",
                             hint="sweep every shard again, to the end, with this gate")
        bases.append((where, report.basis))
    parts = (("targets", "the same --pipeline, --all-pipelines --region, --builds and --since"),
             ("policy", "the same --policy file"),
             ("intelligence", "the same KEV and EPSS files (update the feeds once, hand them to every shard)"),
             ("as_of", "the same --as-of, or none"))
    first_where, first = bases[0]
    for where, basis in bases[1:]:
        for part, fix in parts:
            if getattr(basis, part) != getattr(first, part):
                raise UsageError(f"{where} and {first_where} are shards of different sweeps: their "
                                 f"{part.replace('_', '-')} differ", hint=f"sweep every shard with {fix}")
    return first
