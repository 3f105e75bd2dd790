"""Factories: turn what the user asked for (`Inputs`) into a `Plan` of one source and its enrichers.

Whoever opens AWS clients here registers their closing on the plan; nothing calls AWS before the
run owner asks for pages, except resolving a pipeline to its newest build (one explicit call).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from gate.enrichment.interface import Enricher
from gate.errors import UsageError
from gate.run import Plan

if TYPE_CHECKING:
    from gate.baseline import BaselineSpec
    from gate.enrichment.cache import Cache

DEFAULT_WAIT = timedelta(minutes=15)
"""Image Builder finishes scanning a few minutes after a build: by default wait for it, then fail."""
DEFAULT_WORKERS = 8
DEFAULT_CACHE_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Inputs:
    """Everything a run reads, as plain values: the CLI fills it, tests and scripts may too."""

    findings: tuple[Path, ...] = ()
    image: Path | None = None
    """The build's saved `aws imagebuilder get-image` answer, for a dry run on `findings`: its scan is checked."""
    snapshot: Path | None = None
    image_build_version_arn: str | None = None
    image_pipeline_arn: str | None = None
    finding_details: tuple[Path, ...] = ()
    kev_catalog: Path | None = None
    epss_scores: Path | None = None
    vulnrichment: Path | None = None
    """A folder of CVE records (cisagov/vulnrichment layout or flat): SSVC points offline."""
    vulnrichment_online: bool = False
    vulnrichment_url: str | None = None
    vex: tuple[Path, ...] = ()
    cached_feeds: bool = True
    region: str | None = None
    profile: str | None = None
    wait_timeout: timedelta = DEFAULT_WAIT
    cache_dir: Path | None = None
    cache_ttl: timedelta = DEFAULT_CACHE_TTL
    use_cache: bool = True
    max_workers: int = DEFAULT_WORKERS
    progress: Callable[[str], None] | None = None
    baseline: str | None = None
    """An earlier build's JSON report or snapshot, or `previous` (the pipeline's previous build, live)."""
    baseline_any_pipeline: bool = False
    baseline_key: str | None = None
    """`--baseline-key`: the baseline file is a signed attestation, checked under this key before use."""

    @property
    def previous_baseline(self) -> bool:
        """`--baseline previous`: the pipeline's previous build, read live."""
        if self.baseline is None:
            return False
        from gate.baseline import PREVIOUS  # noqa: PLC0415 - runs without a baseline never import it

        return self.baseline == PREVIOUS

    def feed_file(self, key: str) -> Path | None:
        """The file given for the offline feed `key` (`feedregistry`), which replaces its cached copy."""
        given = {"kev": self.kev_catalog, "epss": self.epss_scores}
        return given.get(key)

    @property
    def live(self) -> bool:
        return bool(self.image_build_version_arn or self.image_pipeline_arn)

    def check_one_target(self) -> None:
        """Exactly one of an export, a snapshot, a build or a pipeline: checked once, here."""
        chosen = [bool(self.findings), self.snapshot is not None, bool(self.image_build_version_arn),
                  bool(self.image_pipeline_arn)]
        if sum(chosen) != 1:
            raise UsageError("give exactly one of --findings, --snapshot, --image-build-version-arn, "
                             "--image-pipeline-arn")
        if self.image is not None and not self.findings:
            raise UsageError("--image describes the build of a --findings export",
                             hint="a live run reads the image itself, and a snapshot carries it")


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
    """The source and enrichers for the inputs; the caller hands the plan to `gate.run.run` (which closes it)."""
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
