"""The live path's factory: AWS session and clients, the target resolved, the source its scan type needs, Inspector."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, TypeAlias

from gate.aws.retry import Backoff, Caller
from gate.aws.session import Clients, make_clients, make_session
from gate.enrichment.inspector import InspectorEnricher
from gate.enrichment.interface import Enricher
from gate.errors import ShapeError, UsageError
from gate.run import Plan
from gate.sources.imagebuilder import ImageBuilderSource, build_pipeline, newest_build, previous_build
from gate.sources.scanresults import read_scan_results
from gate.sources.scantype import ScanPath, scan_path
from gate.timeutil import to_utc, utcnow
from gate.vocab import IMAGEBUILDER_ARN

if TYPE_CHECKING:
    from gate.baseline import Baseline, BaselineSpec
    from gate.enrichment.cache import Cache
    from gate.input_values import Inputs
    from gate.sources.ondemand import OnDemandSource


def arn_region(arn: str, option: str, kind: str) -> str:
    """The region an Image Builder ARN names; a usage error naming the option if it is not one."""
    match = IMAGEBUILDER_ARN.fullmatch(arn.strip())
    if match is None or match["kind"] != kind:
        example = "image/NAME/1.0.0/1" if kind == "image" else "image-pipeline/NAME"
        raise UsageError(f"{option} {arn!r} is not an Image Builder {kind} ARN",
                         hint=f"expected arn:aws:imagebuilder:REGION:ACCOUNT:{example}")
    return match["region"]


LiveSource: TypeAlias = "ImageBuilderSource | OnDemandSource"


def open_live_source(
    clients: Clients,
    arn: str,
    *,
    wait_timeout: float = 0,
    progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    caller: Caller | None = None,
    image: Mapping[str, Any] | None = None,
) -> LiveSource:
    """The source the build's scan type needs, read off one `GetImage` (handed on, so it costs no extra call).

    `TEST_INSTANCE_CVE`, no scan type, or a container image: Image Builder's listing; `ON_DEMAND_AMI_CVE`:
    EC2's findings of the output AMI; an unknown scan type: `ScanNotReadyError` naming it. `image`: a `GetImage`
    `image` the caller already read (a sweep checks the build's state first), so it is not asked for twice.
    """
    call = caller or Caller(Backoff(sleep=sleep, clock=clock))
    if image is None:
        image = call("imagebuilder:GetImage", partial(clients.imagebuilder.get_image,
                                                       imageBuildVersionArn=arn)).get("image") or {}
    if scan_path(image, arn) is ScanPath.ON_DEMAND:
        # NOTE: imported only for such builds: EC2's codec is not needed before (or in) most runs.
        from gate.sources.ondemand import OnDemandSource  # noqa: PLC0415

        return OnDemandSource(clients, image_build_version_arn=arn, image=image, wait_timeout=wait_timeout,
                              progress=progress, sleep=sleep, clock=clock, caller=call)
    return ImageBuilderSource(clients, image_build_version_arn=arn, image=image, wait_timeout=wait_timeout,
                              progress=progress, sleep=sleep, clock=clock, caller=call)


def open_live_plan(inputs: Inputs, offline: list[Enricher], cache: Cache | None) -> Plan:
    build_arn, pipeline_arn = inputs.image_build_version_arn, inputs.image_pipeline_arn
    if bool(build_arn) == bool(pipeline_arn):
        raise UsageError("give exactly one of --image-build-version-arn and --image-pipeline-arn")
    if build_arn:
        region = arn_region(build_arn, "--image-build-version-arn", "image")
    else:
        region = arn_region(pipeline_arn or "", "--image-pipeline-arn", "image-pipeline")
    session = make_session(inputs.region or region, inputs.profile)
    clients = make_clients(session, max_pool=inputs.max_workers + 2)
    try:
        # NOTE: the target is resolved before Inspector is asked, so its queries are scoped to the build.
        arn = build_arn.strip() if build_arn else newest_build(clients, (pipeline_arn or "").strip(),
                                                                progress=inputs.progress)
        # NOTE: one GetImage picks the path (and so the enricher) before anything else is asked.
        source = open_live_source(clients, arn, wait_timeout=inputs.wait_timeout.total_seconds(),
                                  progress=inputs.progress)
        enricher = InspectorEnricher(clients, scope_arn=arn, cache=cache, max_workers=inputs.max_workers,
                                     search_only=not isinstance(source, ImageBuilderSource))
        pipeline = pipeline_arn.strip() if pipeline_arn else None
        baseline = None
        if inputs.previous_baseline:
            pipeline = pipeline or build_pipeline(clients, arn)
            baseline = previous_baseline(clients, pipeline, arn, inputs)
    except BaseException:
        clients.close()
        raise
    return Plan(source=source, live=enricher, offline=offline, closers=(clients.close,), baseline=baseline,
                pipeline=pipeline, scan_results=partial(read_scan_results, clients, arn, Caller(Backoff())))


def previous_baseline(clients: Clients, pipeline: str | None, arn: str, inputs: Inputs) -> BaselineSpec:
    """`--baseline previous`: the findings of the pipeline's build before `arn` (the run's enrichment applies)."""
    from gate.baseline import PREVIOUS, Baseline, BaselineSpec, from_findings  # noqa: PLC0415

    if pipeline is None:
        raise UsageError(f"--baseline previous: {arn} was not built by an image pipeline, so it has no previous build",
                         hint="pass an earlier build's JSON report: --baseline FILE")

    def load() -> Baseline:
        before = previous_build(clients, pipeline, arn)
        if before is None:
            return Baseline(source=PREVIOUS, target=None, build=None, pipeline=pipeline, findings=(),
                            notes=(f"--baseline previous: {arn} is the first finished build of {pipeline}; "
                                   "every finding is new",))
        earlier = str(before["arn"])
        source = open_live_source(clients, earlier, wait_timeout=inputs.wait_timeout.total_seconds(),
                                  progress=inputs.progress)
        try:
            created = to_utc(before.get("dateCreated")) or utcnow()
        except ShapeError:
            created = utcnow()
        return from_findings((f for page in source.pages() for f in page), source=earlier, target=earlier,
                             fallback=created.date())

    return BaselineSpec(load=load, any_pipeline=inputs.baseline_any_pipeline)
