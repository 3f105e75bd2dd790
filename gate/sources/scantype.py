"""Which API holds an image's scan findings, read off `GetImage`: Image Builder's listing or EC2's per-AMI one."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from gate.errors import ScanNotReadyError
from gate.model import CONDITION_LABELS, ScanResultCondition

TEST_INSTANCE = "TEST_INSTANCE_CVE"
ON_DEMAND = "ON_DEMAND_AMI_CVE"
LIST = "imagebuilder:ListImageScanFindings"


class ScanPath(enum.StrEnum):
    """Where the findings of one image build version can be read."""

    IMAGE_BUILDER = "image-builder"
    """`imagebuilder:ListImageScanFindings`: test-instance scans and container images."""
    ON_DEMAND = "on-demand"
    """`ec2:GetImageFindings` for the output AMI, once Inspector's on-demand scan of it succeeded."""


def _config(image: Mapping[str, Any]) -> Mapping[str, Any]:
    config = image.get("imageScanningConfiguration") or {}
    return config if isinstance(config, Mapping) else {}


def scan_path(image: Mapping[str, Any], arn: str) -> ScanPath:
    """The path for a `GetImage` `image`; an unknown scan type is an error, never a guess.

    Container images are scanned in ECR and listed by Image Builder whatever `imageScanningTypes`
    says (the setting applies to AMI output only). An absent setting means `TEST_INSTANCE_CVE`.
    """
    if image.get("type") == "DOCKER":
        return ScanPath.IMAGE_BUILDER
    types = _config(image).get("imageScanningTypes")
    if types is None or types == []:
        return ScanPath.IMAGE_BUILDER
    if not isinstance(types, list) or len(types) != 1 or not isinstance(types[0], str):
        raise ScanNotReadyError(
            f"{arn} has imageScanningTypes {types!r}; gate expects exactly one scan type",
            hint="report this to the gate maintainers with the GetImage output")
    kind = types[0]
    if kind == TEST_INSTANCE:
        return ScanPath.IMAGE_BUILDER
    if kind == ON_DEMAND:
        return ScanPath.ON_DEMAND
    raise ScanNotReadyError(
        f"{arn} was scanned with scan type {kind!r}, which gate does not know how to read",
        hint=f"gate reads {TEST_INSTANCE} and {ON_DEMAND}; upgrade gate or report this to its maintainers")


def scan_result_condition(image: Mapping[str, Any], arn: str) -> ScanResultCondition | None:
    """Image Builder's own pass/fail condition for the on-demand scan, if the image has one."""
    raw = _config(image).get("scanResultCondition")
    if raw is None:
        return None
    label = raw.get("maximumSeverityLabel") if isinstance(raw, Mapping) else None
    fix = raw.get("fixAvailable", True) if isinstance(raw, Mapping) else None
    if fix is None:
        fix = True
    if label not in CONDITION_LABELS or not isinstance(fix, bool):
        raise ScanNotReadyError(f"{arn} has a scanResultCondition gate cannot read: {raw!r}",
                                hint="report this to the gate maintainers with the GetImage output")
    return ScanResultCondition(maximum_severity_label=str(label), fix_available=fix)


def output_amis(image: Mapping[str, Any]) -> tuple[str, ...]:
    """The build's output AMI ids, every region: VEX statements may name any of them."""
    outputs = image.get("outputResources") or {}
    amis = (outputs.get("amis") or []) if isinstance(outputs, Mapping) else []
    return tuple(str(a["image"]) for a in amis if isinstance(a, Mapping) and a.get("image")) \
        if isinstance(amis, list) else ()


def output_ami_arns(image: Mapping[str, Any], arn: str) -> tuple[str, ...]:
    """Every output AMI of `GetImage`'s `image` as `arn:PARTITION:ec2:REGION:ACCOUNT:image/AMI-ID`.

    The account is the one `outputResources` names (a distributed copy may live in another account),
    else the build's; an entry without a region or an AMI id names nothing and is left out.
    """
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return ()
    partition, account = parts[1], parts[4]
    outputs = image.get("outputResources") or {}
    amis = (outputs.get("amis") or []) if isinstance(outputs, Mapping) else []
    found: list[str] = []
    for ami in amis if isinstance(amis, list) else []:
        if not isinstance(ami, Mapping):
            continue
        region, image_id, owner = ami.get("region"), ami.get("image"), ami.get("accountId") or account
        if isinstance(region, str) and region and isinstance(image_id, str) and image_id.startswith("ami-"):
            found.append(f"arn:{partition}:ec2:{region}:{owner}:image/{image_id}")
    return tuple(dict.fromkeys(found))
