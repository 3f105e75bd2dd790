"""The words every layer shares, without the domain's dataclasses: the severity scale, a finding's identity,
the closed sets of values AWS and CISA use, the Image Builder ARN and the OpenVEX context.

Kept apart from `model` so that commands which only read policies (`gate policy validate`) need not
build the domain classes at start-up.
"""

from __future__ import annotations

import re

SEVERITY_ORDER: tuple[str, ...] = (
    "CRITICAL",
    "HIGH",
    "MEDIUM",
    "LOW",
    "INFORMATIONAL",
    "UNTRIAGED",
)
"""Known severities, most severe first; Image Builder's field is a free string, so others may occur."""


FIX_VALUES: tuple[str, ...] = ("YES", "NO", "PARTIAL")
"""Image Builder's `fixAvailable`; YES and PARTIAL mean at least one package can be upgraded."""
SSVC_EXPLOITATION: tuple[str, ...] = ("none", "poc", "active")
SSVC_TECHNICAL_IMPACT: tuple[str, ...] = ("partial", "total")
"""CISA's SSVC decision points as gate keeps them (lower-cased); Automatable is a boolean."""
IMAGEBUILDER_ARN = re.compile(
    r"arn:aws[a-z-]*:imagebuilder:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):(?P<kind>image|image-pipeline)/"
    r"(?P<name>\S+)")
"""An Image Builder image (build version, or a version's builds) or image pipeline ARN; use it with fullmatch."""
BUILD_VERSION_NAME = re.compile(r"[^/]+/[^/]+/[0-9]+")
"""The `NAME/VERSION/BUILD` after `image/` in an image build version ARN."""
AMI_ID = re.compile(r"ami-[0-9a-f]{8,17}")
"""An AMI id as EC2 prints it; use it with fullmatch."""
AMI_ARN = re.compile(r"arn:aws[a-z-]*:ec2:[a-z0-9-]+:[0-9]{12}:image/(?P<ami>ami-[0-9a-f]{8,17})")
"""An AMI's ARN, `arn:aws:ec2:REGION:ACCOUNT:image/AMI-ID` (group `ami`); use it with fullmatch."""
OPENVEX_CONTEXT = "https://openvex.dev/ns/v0.2.0"
"""The one OpenVEX version gate reads and writes."""


def build_version_arn(arn: str) -> re.Match[str] | None:
    """`arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/VERSION/BUILD` (groups `region`, `account`), else None."""
    match = IMAGEBUILDER_ARN.fullmatch(arn)
    ok = match is not None and match["kind"] == "image" and BUILD_VERSION_NAME.fullmatch(match["name"]) is not None
    return match if ok else None


def is_build_version_arn(arn: str) -> bool:
    """`arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/VERSION/BUILD`, exactly."""
    return build_version_arn(arn) is not None


def pipeline_arn(arn: str) -> re.Match[str] | None:
    """`arn:aws:imagebuilder:REGION:ACCOUNT:image-pipeline/NAME` (groups `region`, `account`), else None."""
    match = IMAGEBUILDER_ARN.fullmatch(arn)
    return match if match is not None and match["kind"] == "image-pipeline" and "/" not in match["name"] else None


def severity_rank(severity: str) -> int:
    """Sort key: CRITICAL first, unknown severities last."""
    try:
        return SEVERITY_ORDER.index(severity)
    except ValueError:
        return len(SEVERITY_ORDER)


def identity(vulnerability_id: str, package_names: tuple[str, ...] | list[str]) -> str:
    """`Finding.identity` from its parts, for findings read back from a report."""
    return f"{vulnerability_id}|{','.join(sorted(set(package_names)))}"
