"""Turn on-demand AMI scan findings into `Finding`s: EC2's `ImageFinding` and Inspector's EventBridge finding.

EC2's finding has no vulnerability id and no package field: both come from its title
(`CVE-2022-3171 - com.google.protobuf:protobuf-java`). The id is the title's first word, whatever
follows it; a first word that is not a vulnerability id stops the run (a title kept whole as an id
would match no KEV entry, no exception and no VEX statement). What follows the id is read as packages
only when its first line is ` - name, name`; anything else stays inert title text (`unread_title`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from gate.errors import ShapeError
from gate.model import Enrichment, EpssScore, Finding, Provenance, Sourced, VulnerablePackage
from gate.sources.codec import SEVERITIES, parse_finding
from gate.timeutil import to_utc

EVENT_SOURCE = "inspector:OnDemandScanEvent"
"""Provenance of what an `OnDemand AMI Scan Findings` event says about exploits."""
VULNERABILITY_ID = re.compile(
    r"CVE-[0-9]{4}-[0-9]{1,19}"
    r"|(?!CVE-)[A-Z][A-Z0-9]*-(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._:-]{0,126}[A-Za-z0-9])")
"""A vulnerability id as Inspector names them: `CVE-2024-3094`, `GHSA-…`, `ALAS2023-2024-500`, `ALASKERNEL-5.10-…`.

An upper-case prefix, a dash, and a tail ending in a letter or digit (so `CVE-1:` or `Kernel` is none).
"""
_PACKAGES = re.compile(r" - (?P<packages>\S[^\r\n]*)")
_ONDEMAND_ARN = re.compile(r"arn:[^:]+:inspector2:[^:]*:[0-9]*:finding/ondemand/(?P<scan>[a-z0-9]+)/[^/]+")


def split_title(title: str) -> tuple[str, tuple[str, ...]] | None:
    """(vulnerability id, package names) of an Inspector title; None when its first word is not an id.

    The id is the first whitespace-delimited word (newlines included). Package names come from the
    rest only when its first line is ` - a, b`; otherwise there are none.
    """
    words = title.split(maxsplit=1)
    if not words or VULNERABILITY_ID.fullmatch(words[0]) is None:
        return None
    vid = words[0]
    rest = title.lstrip()[len(vid):]
    lines = rest.splitlines()
    match = _PACKAGES.fullmatch(lines[0].rstrip()) if lines else None
    if match is None:
        return vid, ()
    names = tuple(n.strip() for n in match["packages"].split(", "))
    return (vid, names) if all(names) else (vid, ())


def unread_title(finding: Finding) -> bool:
    """True for a finding whose title names no packages gate can read after its id: judged without packages."""
    if finding.packages or finding.title is None:
        return False
    split = split_title(finding.title)
    return split is not None and split[0] == finding.vulnerability_id and not split[1]


def _short(text: str) -> str:
    return repr(text) if len(text) <= 60 else repr(text[:57]) + "…"


def _number(raw: Mapping[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ShapeError(f"{key} must be a finite number, not {value!r}")
    return float(value)


def _paths(raw: Mapping[str, Any]) -> tuple[str, ...]:
    value = raw.get("Paths") or []
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise ShapeError("Paths must be a list of strings")
    return tuple(value)


def _packages(names: tuple[str, ...], paths: tuple[str, ...]) -> tuple[VulnerablePackage, ...]:
    """One package per affected path when the title names one package; else one per name."""
    if len(names) == 1 and paths:
        return tuple(VulnerablePackage(name=names[0], file_path=p) for p in paths)
    return tuple(VulnerablePackage(name=n) for n in names)


def parse_image_finding(raw: Mapping[str, Any], *, image_build_version_arn: str | None = None) -> Finding:
    """One EC2 `ImageFinding` (boto3 or AWS CLI JSON): severity upper-cased, `FixAvailable` as YES/NO."""
    if not isinstance(raw, Mapping):
        raise ShapeError("an image finding must be an object")
    title = raw.get("Title")
    if not isinstance(title, str) or not title.strip():
        raise ShapeError("image finding without a Title (the only place its vulnerability id is)")
    split = split_title(title)
    if split is None:
        first = title.split(maxsplit=1)[0]
        raise ShapeError(f"the finding titled {_short(title)}: its first word {_short(first)} is not a vulnerability "
                         "id (CVE-…, GHSA-…, ALAS…)")
    vid, names = split
    severity = raw.get("SeverityLabel")
    if severity is None:
        raise ShapeError(f"{vid}: SeverityLabel is missing (expected one of {', '.join(SEVERITIES)})")
    if not isinstance(severity, str):
        raise ShapeError(f"{vid}: SeverityLabel must be a string")
    fix = raw.get("FixAvailable")
    if fix is not None and not isinstance(fix, bool):
        raise ShapeError(f"FixAvailable must be true or false, not {fix!r}")
    paths = _paths(raw)
    label = severity.strip().upper()
    if label not in SEVERITIES:  # NOTE: as for Image Builder's findings: an unknown label would match no rule
        raise ShapeError(f"{vid}: SeverityLabel {repr(severity)[:40]} is not one of {', '.join(SEVERITIES)}")
    description = None
    if paths and len(names) != 1:
        # NOTE: paths cannot be tied to one of several packages; keep them where reports show them.
        description = "Affected paths: " + ", ".join(paths)
    return Finding(
        vulnerability_id=vid,
        severity=label,
        title=title,
        description=description,
        fix_available=None if fix is None else ("YES" if fix else "NO"),
        packages=_packages(names, paths),
        inspector_score=_number(raw, "Score"),
        first_observed_at=to_utc(raw.get("FirstObservedAt")),
        updated_at=to_utc(raw.get("UpdatedAt")),
        image_build_version_arn=image_build_version_arn,
    )


def event_scan_id(detail: Mapping[str, Any]) -> str | None:
    """The on-demand scan a finding event belongs to: `scanId`, else the one in its finding ARN."""
    scan = detail.get("scanId")
    if isinstance(scan, str) and scan:
        return scan
    match = _ONDEMAND_ARN.fullmatch(str(detail.get("findingArn") or ""))
    return match["scan"] if match else None


def parse_event_finding(detail: Mapping[str, Any]) -> tuple[Finding, Enrichment | None]:
    """The Inspector finding in an `OnDemand AMI Scan Findings` event, and what it says about exploits."""
    if not isinstance(detail, Mapping):
        raise ShapeError("event detail must be an object")
    remediation = detail.get("remediation")
    recommendation = remediation.get("recommendation") if isinstance(remediation, Mapping) else None
    shaped = dict(detail)
    if isinstance(recommendation, Mapping):
        # NOTE: Inspector spells it `Url`; Image Builder's finding (what parse_finding reads) `url`.
        shaped["remediation"] = {"recommendation": {"text": recommendation.get("text"),
                                                    "url": recommendation.get("Url")}}
    _number(detail, "inspectorScore")
    finding = parse_finding(shaped)
    provenance = Provenance(source=EVENT_SOURCE, as_of=to_utc(detail.get("updatedAt")))
    available = detail.get("exploitAvailable")
    if available is not None and available not in ("YES", "NO"):
        raise ShapeError(f"exploitAvailable must be YES or NO, not {available!r}")
    epss = detail.get("epss")
    score = _number(epss, "score") if isinstance(epss, Mapping) else None
    if score is not None and not 0.0 <= score <= 1.0:
        raise ShapeError(f"epss.score {score} is outside 0..1")
    if available is None and score is None:
        return finding, None
    return finding, Enrichment(
        vulnerability_id=finding.vulnerability_id,
        exploit_available=Sourced(available == "YES", provenance) if available is not None else None,
        epss=EpssScore(score=score, percentile=None, provenance=provenance) if score is not None else None,
    )
