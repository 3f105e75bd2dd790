"""EC2's `ScanResults` of a build's output AMIs: when Inspector last scanned them, and since when fixes wait.

Read only when the policy has a rule that needs it (one `GetImage` and one `DescribeImages`). The AMIs are
those of the build region (the client's region; copies in other regions are other AMIs with their own scans).
Fail closed: an AMI EC2 does not describe, or one with no `FindingScanDate` (Inspector never scanned it), is
an `IncompleteError`: a rule on the scan's age cannot be judged, so the build is not judged either.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import partial
from typing import Any

from gate.aws.retry import Caller
from gate.aws.session import Clients
from gate.errors import IncompleteError, ShapeError
from gate.model import ImageScan
from gate.timeutil import to_utc

GET_IMAGE = "imagebuilder:GetImage"
DESCRIBE = "ec2:DescribeImages"
SEVERITIES = ("Critical", "High", "Medium", "Low", "Informational")
HINT = "have Inspector scan the AMI (EC2 scanning), or drop the rules that read scan_age_days or the fix dates"


def _when(value: Any, what: str) -> datetime | None:
    try:
        stamp = to_utc(value)
    except ShapeError as e:
        raise IncompleteError(f"{DESCRIBE} answered {what} that is not a time: {e}", hint=HINT) from None
    return stamp


def build_region_amis(image: Mapping[str, Any], region: str) -> list[str]:
    amis = (image.get("outputResources") or {}).get("amis") or []
    return list(dict.fromkeys(str(a["image"]) for a in amis if isinstance(a, Mapping) and a.get("region") == region
                              and isinstance(a.get("image"), str)))


def read_scan_results(clients: Clients, arn: str, caller: Caller) -> ImageScan:
    """The build's `ImageScan`; `IncompleteError` when any of its AMIs has none."""
    region = clients.region
    image = caller(GET_IMAGE, partial(clients.imagebuilder.get_image, imageBuildVersionArn=arn)).get("image") or {}
    amis = build_region_amis(image, region)
    if not amis:
        raise IncompleteError(f"{arn} has no output AMI in {region}: there are no ScanResults to judge", hint=HINT)
    answer = caller(DESCRIBE, partial(clients.ec2.describe_images, ImageIds=amis), retry_codes=())
    described = {i.get("ImageId"): i for i in answer.get("Images") or [] if isinstance(i, Mapping)}
    scanned: list[datetime] = []
    fixes: dict[str, date] = {}
    for ami in amis:
        found = described.get(ami)
        if found is None:
            raise IncompleteError(f"{DESCRIBE} does not describe {ami} in {region}", hint=HINT)
        results = found.get("ScanResults")
        when = _when(results.get("FindingScanDate"), f"{ami} FindingScanDate") if isinstance(results, Mapping) else None
        if when is None or not isinstance(results, Mapping):
            raise IncompleteError(f"{ami} has no ScanResults.FindingScanDate: Inspector has not scanned it", hint=HINT)
        scanned.append(when)
        for severity in SEVERITIES:
            since = _when(results.get(f"{severity}FixAvailableSince"), f"{ami} {severity}FixAvailableSince")
            if since is not None:
                key = severity.upper()
                fixes[key] = min(fixes.get(key, since.date()), since.date())
    return ImageScan(scanned_at=min(scanned), fix_since=fixes, amis=tuple(amis))
