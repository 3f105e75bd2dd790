"""EC2's images as DescribeImages shows them, and AMI watermarks (AttachImageWatermark, DetachImageWatermark).

What AWS documents is emulated as documented: only the owner attaches, never on a public AMI, at most five
marks, a detach of an absent mark succeeds. The error codes for the refusals are not documented; the ones
here are plausible stand-ins, and gate never branches on them (it decides from DescribeImages first).
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from .errors import ApiError, service_error
from .pagination import listing_key
from .store import AmiRecord, State

SERVICE = "ec2"
MAX_WATERMARKS = 5
"""Marks one AMI can carry (EC2 user guide)."""

REQUEST_REGION: contextvars.ContextVar[str] = contextvars.ContextVar("REQUEST_REGION", default="us-east-1")
"""The region the request was signed for: EC2 is regional, and one emulator serves every region."""

Handler = Callable[[State, dict[str, Any]], dict[str, Any]]


def _dry_run(params: Mapping[str, Any]) -> None:
    if params.get("DryRun"):
        raise ApiError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", status=412)


def _image(state: State, ami: str) -> AmiRecord:
    """The registered AMI ``ami`` in the request's region, else EC2's not-found error."""
    with state.store.lock:
        record = state.store.amis.get(ami)
    if record is None or not record.registered or record.region != REQUEST_REGION.get():
        raise service_error(SERVICE, "not_found", f"The image id '[{ami}]' does not exist")
    return record


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def describe_images(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """DescribeImages: by ImageIds (each must exist here) and/or Owners (`self` or account ids)."""
    _dry_run(params)
    if params.get("Filters") or params.get("ExecutableUsers"):
        raise service_error(SERVICE, "invalid", "the emulator serves DescribeImages by ImageIds and Owners only",
                            violation="DescribeImages: Filters/ExecutableUsers are not emulated")
    ids = params.get("ImageIds") or []
    if ids and ("MaxResults" in params or "NextToken" in params):
        raise service_error(SERVICE, "invalid", "The parameter ImageIds cannot be used with MaxResults",
                            violation="DescribeImages: ImageIds with MaxResults/NextToken")
    owners = {state.store.account if o == "self" else o for o in params.get("Owners") or []}
    region = REQUEST_REGION.get()
    if ids:
        found = [_image(state, ami) for ami in dict.fromkeys(ids)]
    else:
        with state.store.lock:
            found = [r for r in state.store.amis.values() if r.registered and r.region == region]
    images = [r.image() for r in found if not owners or r.owner in owners]
    if state.faults.faults.lagging_watermarks:
        images = [{k: v for k, v in i.items() if k != "ImageWatermarks"} for i in images]
    if ids:
        return {"Images": images}
    page, token = state.pager.page(
        SERVICE, "DescribeImages", listing_key("DescribeImages", {"region": region, "owners": sorted(owners)}),
        images, params.get("MaxResults", 1000), params.get("NextToken"), state.faults)
    return {"Images": page, **({"NextToken": token} if token else {})}


def attach_image_watermark(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """AttachImageWatermark: the key is the caller's account and the name; attaching it again changes nothing."""
    _dry_run(params)
    record = _image(state, params["ImageId"])
    name, account = params["WatermarkName"], state.store.account
    key = f"{account}:{name}"
    with state.store.lock:
        if record.owner != account:
            raise service_error(SERVICE, "forbidden", f"You are not the owner of {record.ami}; only the owner "
                                "can attach watermarks")
        if record.public:
            raise ApiError("InvalidParameterValue", f"Watermarks cannot be added to public AMIs ({record.ami})",
                           status=400)
        if any(w["WatermarkKey"] == key for w in record.watermarks):
            return {"WatermarkKey": key}
        if len(record.watermarks) >= MAX_WATERMARKS:
            raise ApiError("ResourceLimitExceeded", f"{record.ami} already has {MAX_WATERMARKS} watermarks",
                           status=400)
        record.watermarks.append({"WatermarkKey": key, "SourceImageRegion": record.region,
                                  "SourceImageId": record.ami, "SourceImageCreationTime": record.creation_date,
                                  "WatermarkCreationTime": _now()})
    return {"WatermarkKey": key}


def detach_image_watermark(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """DetachImageWatermark: idempotent; only the owner may detach."""
    _dry_run(params)
    record = _image(state, params["ImageId"])
    with state.store.lock:
        if record.owner != state.store.account:
            raise service_error(SERVICE, "forbidden", f"You are not the owner of {record.ami}")
        record.watermarks = [w for w in record.watermarks if w["WatermarkKey"] != params["WatermarkKey"]]
    return {"Return": True}


HANDLERS: Mapping[str, Handler] = {
    "DescribeImages": describe_images,
    "AttachImageWatermark": attach_image_watermark,
    "DetachImageWatermark": detach_image_watermark,
}
