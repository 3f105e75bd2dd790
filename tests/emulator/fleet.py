"""The operations a fleet sweep adds: Image Builder ListImagePipelines and EC2 EnableImageDeprecation.

One emulator serves every region: ListImagePipelines lists the pipelines whose ARN names the region the
request was signed for (as AWS's regional endpoints would), and EnableImageDeprecation finds the AMI
only in its own region. EC2 refuses a `DeprecateAt` in the past (the documented behaviour gate relies on).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from .ec2_images import REQUEST_REGION, _image
from .errors import ApiError
from .pagination import listing_key
from .store import State

DEFAULT_PAGE = 25

Handler = Callable[[State, dict[str, Any]], dict[str, Any]]


def pipeline_document(arn: str, status: str = "ENABLED") -> dict[str, Any]:
    """The ``ImagePipeline`` of ListImagePipelines for ``arn``."""
    parts = arn.split(":")
    name = arn.rsplit("/", 1)[1]
    return {
        "arn": arn, "name": name, "platform": "Linux", "enhancedImageMetadataEnabled": True,
        "imageRecipeArn": f"arn:aws:imagebuilder:{parts[3]}:{parts[4]}:image-recipe/{name}/1.0.0",
        "infrastructureConfigurationArn":
            f"arn:aws:imagebuilder:{parts[3]}:{parts[4]}:infrastructure-configuration/{name}",
        "status": status, "dateCreated": "2025-01-01T00:00:00.000Z",
        "imageScanningConfiguration": {"imageScanningEnabled": True},
    }


def list_image_pipelines(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """ListImagePipelines: the request region's pipelines (seeded ones and those images name), paginated."""
    region = REQUEST_REGION.get()
    if params.get("filters"):
        raise ApiError("InvalidRequestException", "the emulator lists pipelines without filters", status=400,
                       violation="ListImagePipelines: filters are not emulated")
    with state.store.lock:
        arns = dict(state.store.pipelines)
        for record in state.store.images.values():
            if record.pipeline_arn:
                arns.setdefault(record.pipeline_arn, "ENABLED")
    pipelines = [pipeline_document(arn, status) for arn, status in sorted(arns.items()) if arn.split(":")[3] == region]
    page, token = state.pager.page(
        "imagebuilder", "ListImagePipelines", listing_key("ListImagePipelines", {"region": region}), pipelines,
        params.get("maxResults", DEFAULT_PAGE), params.get("nextToken"), state.faults)
    return {"imagePipelineList": page, **({"nextToken": token} if token else {})}


def enable_image_deprecation(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """EnableImageDeprecation: the owner sets when the AMI becomes deprecated; a past time is refused."""
    if params.get("DryRun"):
        raise ApiError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", status=412)
    record = _image(state, params["ImageId"])
    at = params["DeprecateAt"]
    if isinstance(at, dt.datetime):
        when = at
    elif isinstance(at, int | float) or str(at).replace(".", "", 1).isdigit():  # NOTE: botocore sends epoch seconds
        when = dt.datetime.fromtimestamp(float(at), dt.UTC)
    else:
        when = dt.datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if when < dt.datetime.now(dt.UTC):
        raise ApiError("InvalidParameterValue", "DeprecateAt must be in the future", status=400)
    with state.store.lock:
        if record.owner != state.store.account:
            raise ApiError("AuthFailure", f"You are not the owner of {record.ami}", status=403)
        record.deprecation_time = when.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {"Return": True}


IMAGEBUILDER: Mapping[str, Handler] = {"ListImagePipelines": list_image_pipelines}
EC2: Mapping[str, Handler] = {"EnableImageDeprecation": enable_image_deprecation}
