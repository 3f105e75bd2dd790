"""The live path's factory: AWS session and clients, the target resolved, source and Inspector enricher."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gate.aws.session import make_clients, make_session
from gate.enrichment.inspector import InspectorEnricher
from gate.enrichment.interface import Enricher
from gate.errors import UsageError
from gate.run import Plan
from gate.sources.imagebuilder import ImageBuilderSource, newest_build

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
        source = ImageBuilderSource(clients, image_build_version_arn=arn,
                                    wait_timeout=inputs.wait_timeout.total_seconds(), progress=inputs.progress)
        enricher = InspectorEnricher(clients, scope_arn=arn, cache=cache, max_workers=inputs.max_workers)
    except BaseException:
        clients.close()
        raise
    return Plan(source=source, live=enricher, offline=offline, closers=[clients.close])
