"""The live path's factory: AWS session and clients, the target resolved, the source its scan type needs, Inspector."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from gate.aws.retry import Backoff, Caller
from gate.aws.session import Clients, make_clients, make_session
from gate.enrichment.inspector import InspectorEnricher
from gate.enrichment.interface import Enricher
from gate.errors import UsageError
from gate.run import Plan
from gate.sources.imagebuilder import ImageBuilderSource, newest_build
from gate.sources.ondemand import OnDemandSource
from gate.sources.scantype import ScanPath, scan_path

if TYPE_CHECKING:
    from gate.enrichment.cache import Cache
    from gate.inputs import Inputs

_ARN = re.compile(r"arn:aws[a-z-]*:imagebuilder:(?P<region>[a-z0-9-]+):[0-9]{12}:(?P<kind>image|image-pipeline)/\S+")


def arn_region(arn: str, option: str, kind: str) -> str:
    """The region an Image Builder ARN names; a usage error naming the option if it is not one."""
    match = _ARN.fullmatch(arn.strip())
    if match is None or match["kind"] != kind:
        example = "image/NAME/1.0.0/1" if kind == "image" else "image-pipeline/NAME"
        raise UsageError(f"{option} {arn!r} is not an Image Builder {kind} ARN",
                         hint=f"expected arn:aws:imagebuilder:REGION:ACCOUNT:{example}")
    return match["region"]


LiveSource = ImageBuilderSource | OnDemandSource


def open_live_source(
    clients: Clients,
    arn: str,
    *,
    wait_timeout: float = 0,
    progress: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    caller: Caller | None = None,
) -> LiveSource:
    """The source the build's scan type needs, read off one `GetImage` (handed on, so it costs no extra call).

    `TEST_INSTANCE_CVE`, no scan type, or a container image: Image Builder's listing; `ON_DEMAND_AMI_CVE`:
    EC2's findings of the output AMI; an unknown scan type: `ScanNotReadyError` naming it.
    """
    call = caller or Caller(Backoff(sleep=sleep, clock=clock))
    image = call("imagebuilder:GetImage", partial(clients.imagebuilder.get_image,
                                                   imageBuildVersionArn=arn)).get("image") or {}
    if scan_path(image, arn) is ScanPath.ON_DEMAND:
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
                                     search_only=isinstance(source, OnDemandSource))
    except BaseException:
        clients.close()
        raise
    return Plan(source=source, live=enricher, offline=offline, closers=[clients.close])
