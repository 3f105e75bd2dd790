"""Builders of well-formed ARNs and AWS documents for tests that seed the emulator."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
OBSERVED = "2025-01-15T12:00:00+00:00"
_IMAGE_ARN = re.compile(
    r"arn:aws[^:]*:imagebuilder:(?P<region>[^:]+):(?P<account>[0-9]{12}):"
    r"image/(?P<name>[a-z0-9-_]+)/(?P<version>[0-9]+\.[0-9]+\.[0-9]+)/(?P<build>[0-9]+)"
)
_ARN_ACCOUNT = re.compile(r"arn:[^:]*:[^:]*:(?P<region>[^:]*):(?P<account>[^:]*):")


def stable_hex(key: str, length: int) -> str:
    """``length`` hex digits derived from ``key``: stable ids for generated resources."""
    return hashlib.sha256(key.encode()).hexdigest()[:length]


def image_arn(
    name: str = "demo-recipe",
    version: str = "1.0.0",
    build: int = 1,
    *,
    account: str = ACCOUNT,
    region: str = REGION,
) -> str:
    """An Image Builder image build version ARN."""
    return f"arn:aws:imagebuilder:{region}:{account}:image/{name}/{version}/{build}"


def pipeline_arn(name: str = "demo-pipeline", *, account: str = ACCOUNT, region: str = REGION) -> str:
    """An Image Builder image pipeline ARN."""
    return f"arn:aws:imagebuilder:{region}:{account}:image-pipeline/{name}"


def finding_arn(key: str, *, account: str = ACCOUNT, region: str = REGION) -> str:
    """An Inspector finding ARN whose 32-hex id is derived from ``key`` (stable per key)."""
    return f"arn:aws:inspector2:{region}:{account}:finding/{stable_hex(key, 32)}"


def parse_image_arn(arn: str) -> dict[str, str]:
    """region, account, name, version and build of an image build version ARN."""
    match = _IMAGE_ARN.fullmatch(arn)
    if match is None:
        raise ValueError(f"not an image build version ARN: {arn!r}")
    return match.groupdict()


def arn_account_region(arn: str) -> tuple[str, str]:
    """(account, region) of any ARN, with the defaults where it has none."""
    match = _ARN_ACCOUNT.match(arn)
    if match is None:
        return ACCOUNT, REGION
    return match.group("account") or ACCOUNT, match.group("region") or REGION


def image_scan_finding(
    vulnerability_id: str,
    severity: str = "HIGH",
    *,
    package: str = "openssl",
    version: str = "3.0.8",
    fixed_in: str | None = "3.0.8-2",
    score: float = 7.5,
    observed: str = OBSERVED,
) -> dict[str, Any]:
    """An ImageScanFinding as the AWS CLI prints it (ISO timestamps, no image ARNs yet)."""
    vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"
    vulnerable: dict[str, Any] = {
        "name": package,
        "version": version,
        "epoch": 0,
        "release": "1.amzn2023",
        "arch": "X86_64",
        "packageManager": "OS",
    }
    if fixed_in:
        vulnerable |= {"fixedInVersion": fixed_in, "remediation": f"dnf update {package}"}
    return {
        "type": "PACKAGE_VULNERABILITY",
        "title": f"{vulnerability_id} - {package}",
        "description": f"{vulnerability_id} affects {package} {version}.",
        "remediation": {"recommendation": {"text": "None Provided"}},
        "severity": severity,
        "firstObservedAt": observed,
        "updatedAt": observed,
        "inspectorScore": score,
        "inspectorScoreDetails": {
            "adjustedCvss": {
                "scoreSource": "NVD",
                "cvssSource": "NVD",
                "version": "3.1",
                "score": score,
                "scoringVector": vector,
                "adjustments": [],
            }
        },
        "packageVulnerabilityDetails": {
            "vulnerabilityId": vulnerability_id,
            "vulnerablePackages": [vulnerable],
            "source": "NVD",
            "cvss": [{"baseScore": score, "scoringVector": vector, "version": "3.1", "source": "NVD"}],
            "sourceUrl": f"https://nvd.nist.gov/vuln/detail/{vulnerability_id}",
            "vendorSeverity": severity.title(),
            "vendorCreatedAt": "2024-12-01T00:00:00+00:00",
            "vendorUpdatedAt": "2024-12-10T00:00:00+00:00",
            "referenceUrls": [f"https://nvd.nist.gov/vuln/detail/{vulnerability_id}"],
        },
        "fixAvailable": "YES" if fixed_in else "NO",
    }


def inspector_finding(
    arn: str,
    vulnerability_id: str,
    *,
    resource_tags: Mapping[str, str] | None = None,
    epss: float | None = None,
    exploit_available: str | None = None,
    severity: str = "HIGH",
    status: str = "ACTIVE",
    finding_type: str = "PACKAGE_VULNERABILITY",
    package: str = "openssl",
    observed: str = OBSERVED,
) -> dict[str, Any]:
    """An Inspector ``Finding`` on an EC2 instance, with every required member filled."""
    account, region = arn_account_region(arn)
    resource: dict[str, Any] = {
        "type": "AWS_EC2_INSTANCE",
        "id": f"i-{stable_hex(arn, 17)}",
        "partition": "aws",
        "region": region,
        "details": {
            "awsEc2Instance": {
                "type": "t3.medium",
                "imageId": f"ami-{stable_hex(arn + '/ami', 17)}",
                "platform": "AMAZON_LINUX_2023",
                "launchedAt": observed,
            }
        },
    }
    if resource_tags:
        resource["tags"] = dict(resource_tags)
    finding: dict[str, Any] = {
        "findingArn": arn,
        "awsAccountId": account,
        "type": finding_type,
        "title": f"{vulnerability_id} - {package}",
        "description": f"{vulnerability_id} affects {package}.",
        "remediation": {"recommendation": {"text": f"Update {package}."}},
        "severity": severity.upper(),
        "firstObservedAt": observed,
        "lastObservedAt": observed,
        "updatedAt": observed,
        "status": status,
        "resources": [resource],
        "inspectorScore": 7.5,
        "packageVulnerabilityDetails": {
            "vulnerabilityId": vulnerability_id,
            "source": "NVD",
            "sourceUrl": f"https://nvd.nist.gov/vuln/detail/{vulnerability_id}",
            "vulnerablePackages": [{"name": package, "version": "3.0.8", "packageManager": "OS", "arch": "X86_64"}],
        },
        "fixAvailable": "YES",
    }
    if epss is not None:
        finding["epss"] = {"score": epss}
    if exploit_available is not None:
        finding["exploitAvailable"] = exploit_available
        if exploit_available == "YES":
            finding["exploitabilityDetails"] = {"lastKnownExploitAt": observed}
    return finding


def image_finding(
    vulnerability_id: str,
    severity: str = "high",
    *,
    package: str = "openssl",
    fix: bool = True,
    score: float = 7.5,
    paths: tuple[str, ...] = (),
    observed: str = OBSERVED,
    title: str | None = None,
) -> dict[str, Any]:
    """An EC2 ``ImageFinding`` as boto3 and the AWS CLI name its keys (ISO timestamps)."""
    finding: dict[str, Any] = {
        "FixAvailable": fix,
        "Score": score,
        "FirstObservedAt": observed,
        "UpdatedAt": observed,
        "Title": title if title is not None else f"{vulnerability_id} - {package}",
        "SeverityLabel": severity,
        "SnapshotId": f"snap-{stable_hex(vulnerability_id, 17)}",
    }
    if paths:
        finding["Paths"] = list(paths)
    return finding
