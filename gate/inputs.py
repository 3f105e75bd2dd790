"""Factories: turn what the user asked for (`Inputs`) into a `Plan` of one source and its enrichers.

Whoever opens AWS clients here registers their closing on the plan; nothing calls AWS before the
run owner asks for pages, except resolving a pipeline to its newest build (one explicit call).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gate.enrichment.interface import Enricher
from gate.errors import UsageError
from gate.input_values import DEFAULT_CACHE_TTL, DEFAULT_WAIT, DEFAULT_WORKERS, Inputs
from gate.run import Plan

if TYPE_CHECKING:
    from gate.baseline import BaselineSpec
    from gate.enrichment.cache import Cache

__all__ = ["DEFAULT_CACHE_TTL", "DEFAULT_WAIT", "DEFAULT_WORKERS", "Inputs", "baseline_spec", "build_cache",
           "cache_dir", "offline_enrichers", "open_live", "open_plan", "vulnrichment_enrichers"]
def cache_dir(inputs: Inputs) -> Path:
    from gate.enrichment.cache import default_cache_dir  # noqa: PLC0415 - keep offline start-up light

    return inputs.cache_dir or default_cache_dir()


def build_cache(inputs: Inputs) -> Cache | None:
    """The Inspector answer cache the inputs ask for, or None (`--no-cache`, a TTL of 0)."""
    from gate.enrichment.cache import Cache  # noqa: PLC0415

    if not inputs.use_cache or inputs.cache_ttl <= timedelta(0):
        return None
    return Cache(cache_dir(inputs), ttl=inputs.cache_ttl)


def offline_enrichers(inputs: Inputs) -> list[Enricher]:
    """Saved Inspector answers, then each offline feed (`feedregistry.FEEDS`: the KEV catalog, EPSS; given, or
    cached), then Vulnrichment."""
    # NOTE: each module is imported only when the run uses it: a live run without feeds reaches its first
    # AWS request sooner.
    enrichers: list[Enricher] = []
    if inputs.finding_details:
        from gate.enrichment.inspector_export import InspectorExport  # noqa: PLC0415

        enrichers.append(InspectorExport(inputs.finding_details))
    from gate.enrichment import feedregistry  # noqa: PLC0415

    for spec in feedregistry.FEEDS:
        path = inputs.feed_file(spec.key)
        if path is None and inputs.cached_feeds:
            from gate.enrichment.feeds import cached_feed_path  # noqa: PLC0415

            path = cached_feed_path(cache_dir(inputs), spec)
        # NOTE: a feed is validated in full on its first use and indexed in the cache; later runs read its index.
        if path:
            from gate.enrichment.feedstore import open_feed  # noqa: PLC0415

            enrichers.append(spec.format().enricher(open_feed(spec, path, cache_dir(inputs))))
    enrichers.extend(vulnrichment_enrichers(inputs))
    return enrichers


def vulnrichment_enrichers(inputs: Inputs) -> list[Enricher]:
    """SSVC points: the local folder first (it wins per field), then the CVE record API when asked for."""
    enrichers: list[Enricher] = []
    if inputs.vulnrichment is not None:
        from gate.enrichment.vulnrichment import VulnrichmentDirectory  # noqa: PLC0415

        enrichers.append(VulnrichmentDirectory(inputs.vulnrichment))
    if inputs.vulnrichment_online or inputs.vulnrichment_url:
        # NOTE: imported only when asked for: it loads urllib's HTTP stack, which offline runs never need.
        from gate.enrichment.vulnrichment_online import (  # noqa: PLC0415
            DEFAULT_URL,
            RecordCache,
            VulnrichmentOnline,
        )

        use_cache = inputs.use_cache and inputs.cache_ttl > timedelta(0)
        cache = RecordCache(cache_dir(inputs), inputs.cache_ttl) if use_cache else None
        enrichers.append(VulnrichmentOnline(inputs.vulnrichment_url or DEFAULT_URL, cache=cache,
                                            max_workers=inputs.max_workers))
    return enrichers


def baseline_spec(inputs: Inputs) -> BaselineSpec | None:
    """A baseline file's loader (the live factory answers `previous`)."""
    if inputs.baseline is None:
        return None
    from gate.baseline import FIRST, PREVIOUS, Baseline, BaselineSpec, load_baseline  # noqa: PLC0415

    if inputs.baseline == PREVIOUS:
        return None
    if inputs.baseline == FIRST:
        return BaselineSpec(load=lambda: Baseline(source=FIRST, target=None, build=None, pipeline=None, findings=(),
                                                  notes=("--baseline first: every finding is new",)))
    path = Path(inputs.baseline)
    key = inputs.baseline_key
    if key:
        from gate.baseline import load_attested  # noqa: PLC0415

        return BaselineSpec(load=lambda: load_attested(path, key, region=inputs.region, profile=inputs.profile),
                            any_pipeline=inputs.baseline_any_pipeline)
    return BaselineSpec(load=lambda: load_baseline(path), any_pipeline=inputs.baseline_any_pipeline)


def open_plan(inputs: Inputs) -> Plan:
    """The source and enrichers for the inputs; the caller hands the plan to `run.judge_build` (which closes it)."""
    inputs.check_one_target()
    if inputs.baseline_key and (inputs.baseline is None or inputs.previous_baseline or inputs.baseline == "first"):
        raise UsageError("--baseline-key checks a signed --baseline FILE, and there is none",
                         hint="pass the attestation of the last build: --baseline FILE --baseline-key KEY")
    if inputs.previous_baseline and not inputs.live:
        raise UsageError("--baseline previous reads the pipeline's previous build from AWS, so it needs "
                         "--image-build-version-arn or --image-pipeline-arn",
                         hint="offline, pass the previous build's JSON report: --baseline FILE")
    plan = _open_plan(inputs)
    return plan if plan.baseline is not None else replace(plan, baseline=baseline_spec(inputs))


def _open_plan(inputs: Inputs) -> Plan:
    offline = offline_enrichers(inputs)
    if inputs.snapshot is not None:
        from gate.snapshot import open_snapshot  # noqa: PLC0415

        snapshot, replay = open_snapshot(inputs.snapshot)
        return Plan(source=snapshot, offline=[replay, *offline], vex=inputs.vex)
    if inputs.findings:
        from gate.sources.export import ExportSource  # noqa: PLC0415

        export = ExportSource(inputs.findings, image=inputs.image)
        # NOTE: the files are read here, once; on-demand scan events in them enrich first, like Inspector.
        return Plan(source=export, offline=[*export.enrichers(), *offline], vex=inputs.vex)
    return replace(open_live(inputs, offline), vex=inputs.vex)


def open_live(inputs: Inputs, offline: list[Enricher] | None = None) -> Plan:
    """The live Image Builder source and the Inspector enricher, sharing clients this plan closes."""
    from gate import live  # noqa: PLC0415 - boto3 is imported only for live runs

    return live.open_live_plan(inputs, offline or [], build_cache(inputs))
