"""Translate Image Builder's `ImageScanFinding` JSON to and from `Finding`, losslessly for gate's needs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gate.errors import ShapeError
from gate.model import Cvss, Finding, VulnerablePackage
from gate.timeutil import to_utc
from gate.vocab import FIX_VALUES

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNTRIAGED")
"""Image Builder's documented severities; the API types it as a free string, so gate checks it."""


def _str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ShapeError(f"{key} must be a string")
    return value


def _num(obj: Mapping[str, Any], key: str, low: float = 0.0, high: float = 10.0) -> float | None:
    """A finite number in [low, high] (scores are 0..10); NaN, 1e999 and 400-digit integers are refused."""
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ShapeError(f"{key} must be a number, not {_short(value)}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not (math.isfinite(number) and low <= number <= high):
        raise ShapeError(f"{key} {_short(value)} is not a number in {low:g}..{high:g}")
    return number


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _severity(obj: Mapping[str, Any], vuln_id: str) -> str:
    """The finding's severity, which must be there: a missing one is no reason to judge it UNTRIAGED."""
    severity = _choice(obj, "severity", SEVERITIES, vuln_id)
    if severity is None:
        raise ShapeError(f"{vuln_id}: severity is {'null' if 'severity' in obj else 'missing'} "
                         f"(expected one of {', '.join(SEVERITIES)})")
    return severity


def _choice(obj: Mapping[str, Any], key: str, allowed: tuple[str, ...], vuln_id: str) -> str | None:
    """Upper-cased `obj[key]`, which must be one of `allowed` (any case); None when absent."""
    value = _str(obj, key)
    if value is None:
        return None
    normal = value.strip().upper()
    if normal not in allowed:
        raise ShapeError(f"{vuln_id}: {key} {_short(value)} is not one of {', '.join(allowed)}")
    return normal


def _map(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = obj.get(key) or {}
    if not isinstance(value, Mapping):
        raise ShapeError(f"{key} must be an object")
    return value


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = obj.get(key) or []
    if not isinstance(value, list):
        raise ShapeError(f"{key} must be a list")
    return value


def _cvss(obj: Mapping[str, Any]) -> Cvss:
    score = _num(obj, "baseScore")
    if score is None:
        score = _num(obj, "score")
    if score is None:
        raise ShapeError("CVSS entry without a score")
    return Cvss(
        base_score=score,
        scoring_vector=_str(obj, "scoringVector"),
        version=_str(obj, "version"),
        source=_str(obj, "source") or _str(obj, "scoreSource"),
    )


def _package(obj: Mapping[str, Any]) -> VulnerablePackage:
    if not isinstance(obj, Mapping):
        raise ShapeError("vulnerablePackages entries must be objects")
    name = _str(obj, "name")
    if not name:
        raise ShapeError("vulnerable package without a name")
    epoch = obj.get("epoch")
    if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch < 2**31):
        raise ShapeError(f"epoch {_short(epoch)} is not a whole number in 0..2147483647")
    return VulnerablePackage(
        name=name,
        version=_str(obj, "version"),
        epoch=epoch,
        release=_str(obj, "release"),
        arch=_str(obj, "arch"),
        package_manager=_str(obj, "packageManager"),
        file_path=_str(obj, "filePath"),
        fixed_in_version=_str(obj, "fixedInVersion"),
        remediation=_str(obj, "remediation"),
        source_layer_hash=_str(obj, "sourceLayerHash"),
    )


def parse_finding(raw: Mapping[str, Any]) -> Finding:
    """Normalise one `ImageScanFinding`: upper-case severity, UTC timestamps, every package kept."""
    if not isinstance(raw, Mapping):
        raise ShapeError("a finding must be an object")
    details = _map(raw, "packageVulnerabilityDetails")
    vuln_id = _str(details, "vulnerabilityId")
    if not vuln_id:
        raise ShapeError("finding without packageVulnerabilityDetails.vulnerabilityId")
    adjusted = _map(_map(raw, "inspectorScoreDetails"), "adjustedCvss")
    recommendation = _map(_map(raw, "remediation"), "recommendation")
    vuln_id = vuln_id.strip()
    return Finding(
        vulnerability_id=vuln_id,
        severity=_severity(raw, vuln_id),
        title=_str(raw, "title"),
        description=_str(raw, "description"),
        fix_available=_choice(raw, "fixAvailable", FIX_VALUES, vuln_id),
        packages=tuple(_package(p) for p in _list(details, "vulnerablePackages")),
        inspector_score=_num(raw, "inspectorScore"),
        adjusted_cvss=_cvss(adjusted) if adjusted else None,
        cvss=tuple(_cvss(c) for c in _list(details, "cvss")),
        first_observed_at=to_utc(raw.get("firstObservedAt")),
        updated_at=to_utc(raw.get("updatedAt")),
        vendor_severity=_str(details, "vendorSeverity"),
        vendor_created_at=to_utc(details.get("vendorCreatedAt")),
        vendor_updated_at=to_utc(details.get("vendorUpdatedAt")),
        source=_str(details, "source"),
        source_url=_str(details, "sourceUrl"),
        related_vulnerabilities=tuple(str(v) for v in _list(details, "relatedVulnerabilities")),
        reference_urls=tuple(str(v) for v in _list(details, "referenceUrls")),
        remediation_text=_str(recommendation, "text"),
        remediation_url=_str(recommendation, "url"),
        finding_type=_str(raw, "type"),
        aws_account_id=_str(raw, "awsAccountId"),
        image_build_version_arn=_str(raw, "imageBuildVersionArn"),
        image_pipeline_arn=_str(raw, "imagePipelineArn"),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _prune(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v not in (None, [], {})}


def _cvss_dict(c: Cvss) -> dict[str, Any]:
    return _prune({"baseScore": c.base_score, "scoringVector": c.scoring_vector,
                   "version": c.version, "source": c.source})


def finding_to_api(f: Finding) -> dict[str, Any]:
    """The `ImageScanFinding` JSON for a finding (AWS CLI style: ISO-8601 timestamps)."""
    packages = [
        _prune({
            "name": p.name, "version": p.version, "epoch": p.epoch, "release": p.release,
            "arch": p.arch, "packageManager": p.package_manager, "filePath": p.file_path,
            "fixedInVersion": p.fixed_in_version, "remediation": p.remediation,
            "sourceLayerHash": p.source_layer_hash,
        })
        for p in f.packages
    ]
    details = _prune({
        "vulnerabilityId": f.vulnerability_id,
        "vulnerablePackages": packages,
        "source": f.source,
        "cvss": [_cvss_dict(c) for c in f.cvss],
        "relatedVulnerabilities": list(f.related_vulnerabilities),
        "sourceUrl": f.source_url,
        "vendorSeverity": f.vendor_severity,
        "vendorCreatedAt": _iso(f.vendor_created_at),
        "vendorUpdatedAt": _iso(f.vendor_updated_at),
        "referenceUrls": list(f.reference_urls),
    })
    adjusted = None
    if f.adjusted_cvss:
        a = f.adjusted_cvss
        adjusted = {"adjustedCvss": _prune({"score": a.base_score, "scoringVector": a.scoring_vector,
                                            "version": a.version, "scoreSource": a.source})}
    recommendation = _prune({"text": f.remediation_text, "url": f.remediation_url})
    return _prune({
        "awsAccountId": f.aws_account_id,
        "imageBuildVersionArn": f.image_build_version_arn,
        "imagePipelineArn": f.image_pipeline_arn,
        "type": f.finding_type,
        "title": f.title,
        "description": f.description,
        "remediation": {"recommendation": recommendation} if recommendation else None,
        "severity": f.severity,
        "firstObservedAt": _iso(f.first_observed_at),
        "updatedAt": _iso(f.updated_at),
        "inspectorScore": f.inspector_score,
        "inspectorScoreDetails": adjusted,
        "packageVulnerabilityDetails": details,
        "fixAvailable": f.fix_available,
    })
