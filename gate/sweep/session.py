"""A sweep from plain values: checks that need no AWS first, then the shared parts, then records on demand.

Everything that can refuse without AWS does so before the first call: the policy, every --builds line,
rules no source of the sweep can answer, stale feeds, an unreadable --previous.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from gate.decide import Settings
from gate.enrichment.cve_answers import CveAnswers
from gate.errors import IncompleteError, UsageError
from gate.fields import ALWAYS, DataKind
from gate.fleet import Basis, BuildRecord, Shard
from gate.inputs import DEFAULT_CACHE_TTL, Inputs, build_cache, offline_enrichers
from gate.policy.loader import load_policy
from gate.run import unanswerable
from gate.sweep.compare import Previous
from gate.sweep.runner import Acting, sweep
from gate.sweep.shared import RegionClients, Resources
from gate.sweep.targets import Older, Target, all_targets, pipeline_region


@dataclass(frozen=True)
class Request:
    """What to sweep and how, as plain values (the CLI fills it; scripts and tests may too)."""

    builds: tuple[Target, ...] = ()
    pipelines: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    """Regions whose every pipeline is swept (`--all-pipelines`)."""
    since: timedelta | None = timedelta(days=180)
    shard: Shard | None = None
    concurrency: int = 4
    policy: str = "default"
    kev_catalog: Path | None = None
    epss_scores: Path | None = None
    cached_feeds: bool = True
    max_feed_age: timedelta | None = None
    allow_unanswerable: bool = False
    previous: Path | None = None
    profile: str | None = None
    cache_dir: Path | None = None
    cache_ttl: timedelta = DEFAULT_CACHE_TTL
    use_cache: bool = True
    max_workers: int = 8
    acting: Acting = field(default_factory=Acting)

    def inspector_region(self) -> str:
        """Where Inspector is asked (its CVE answers are the same in every region): the first region named."""
        if self.regions:
            return self.regions[0]
        if self.pipelines:
            return pipeline_region(self.pipelines[0])
        return self.builds[0].region


class Sweep:
    """An opened sweep: `records()` once, then `close()` (also after an error)."""

    def __init__(self, request: Request, now: datetime) -> None:
        from gate.enrichment.freshness import DEFAULT_MAX_AGE, require_fresh  # noqa: PLC0415

        if not (request.builds or request.pipelines or request.regions):
            raise IncompleteError("nothing to sweep: no build, pipeline or region was given")
        self.request = request
        self.now = now
        if request.acting.revoke_watermark is not None:
            from gate.sweep.revoke import check_name  # noqa: PLC0415

            try:
                check_name(request.acting.revoke_watermark)
            except UsageError as e:
                raise UsageError(e.message.replace("--watermark", "--revoke-watermark", 1), hint=e.hint) from None
        self.policy = load_policy(request.policy)
        inputs = Inputs(kev_catalog=request.kev_catalog, epss_scores=request.epss_scores,
                        cached_feeds=request.cached_feeds, cache_dir=request.cache_dir, cache_ttl=request.cache_ttl,
                        use_cache=request.use_cache)
        self.offline = offline_enrichers(inputs)
        provided = frozenset(ALWAYS | {DataKind.INSPECTOR_SEARCH, DataKind.EC2_SCAN_RESULTS}
                             | {k for e in self.offline for k in e.provides})
        missing = unanswerable(self.policy, provided)
        self.notes: list[str] = []
        if missing and not request.allow_unanswerable:
            raise IncompleteError(missing[0] + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
                                  + "; a sweep asks Inspector per CVE (SearchVulnerabilities) only",
                                  hint="or pass --allow-unanswerable to judge such rules as not matching")
        self.notes += [f"--allow-unanswerable: {line}" for line in missing]
        max_age = request.max_feed_age or self.policy.max_feed_age or DEFAULT_MAX_AGE
        require_fresh([feed for e in self.offline for feed in e.feeds()], now, max_age)
        self.previous = Previous.load(request.previous, now) if request.previous is not None else None
        self.settings = Settings(now=now, allow_unanswerable=request.allow_unanswerable, max_feed_age=max_age)
        pool = 3 * request.concurrency + request.max_workers + 2
        clients = RegionClients(request.profile, max_pool=pool)
        try:
            region = request.inspector_region()
            home = clients(region)
            inspector = home.inspector2
            answers = CveAnswers(lambda: inspector, region=region, endpoint=inspector.meta.endpoint_url,
                                 cache=build_cache(inputs), max_workers=request.max_workers)
        except BaseException:
            clients.close()
            raise
        self.resources = Resources(clients, answers, self.offline)
        self.older = Older()

    @property
    def policy_name(self) -> str:
        return self.policy.name

    @property
    def compared_with(self) -> str | None:
        return self.previous.source if self.previous is not None else None

    def records(self) -> Iterator[BuildRecord]:
        r = self.request
        targets = all_targets(builds=r.builds, pipelines=r.pipelines, regions=r.regions,
                              clients_for=self.resources.clients, caller=self.resources.caller,
                              since=self.now - r.since if r.since is not None else None, shard=r.shard,
                              older=self.older)
        return sweep(targets, self.resources, self.policy, self.settings, concurrency=r.concurrency,
                     acting=r.acting, previous=self.previous)

    def basis(self, as_of: datetime | None) -> Basis:
        """What a shard of this sweep must share with the others to be merged with them (`as_of`: --as-of, if given)."""
        r = self.request
        listed = bool(r.pipelines or r.regions)
        spec = {"builds": sorted({t.arn for t in r.builds}), "pipelines": sorted(set(r.pipelines)),
                "regions": sorted(set(r.regions)),
                "since": r.since.total_seconds() if listed and r.since is not None else None}
        targets = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
        intelligence = tuple(f"{f.name} {f.version or '-'} as of {f.as_of.isoformat() if f.as_of else '-'}"
                             f" ({f.detail or '-'})" for e in self.offline for f in e.feeds())
        return Basis(targets=targets, policy=self.policy.digest or "", intelligence=intelligence, as_of=as_of)

    def window_note(self) -> str | None:
        """What --since left out, so "every build judged" never hides the older builds still listed."""
        if not self.older.count or self.request.since is None:
            return None
        start = (self.now - self.request.since).date().isoformat()
        return (f"{self.older.count} listed build{'s' if self.older.count > 1 else ''} created before {start} "
                "(the --since window) not judged: their AMIs may still be launched; widen --since to judge them")

    def feeds(self) -> tuple[str, ...]:
        out = []
        for e in self.offline:
            for f in e.feeds():
                out.append(f"{f.name}: {f.source}" + (f", as of {f.as_of.isoformat()}" if f.as_of else ""))
        out.append(f"Amazon Inspector SearchVulnerabilities in {self.resources.answers.region}, once per distinct CVE")
        return tuple(out)

    def stats(self, builds: int) -> dict[str, int]:
        answers = self.resources.answers
        stats = {"builds": builds, "distinctIds": answers.distinct, "cacheHits": answers.cache_hits}
        stats.update({f"calls {op}": n for op, n in self.resources.calls().items()})
        return stats

    def close(self) -> None:
        self.resources.close()


def open_sweep(request: Request, now: datetime) -> Sweep:
    return Sweep(request, now)


def unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
