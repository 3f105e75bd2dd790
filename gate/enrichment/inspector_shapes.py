"""Turn Inspector's `FindingDetail`, `Finding` and `Vulnerability` documents into `Enrichment` values.

Shared by the live enricher (boto3 dicts, datetimes) and the offline one (AWS CLI JSON, ISO strings).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gate.errors import ShapeError
from gate.model import Enrichment, EpssScore, KevEntry, Provenance, Sourced
from gate.timeutil import to_utc

DETAILS = "inspector:BatchGetFindingDetails"
FINDINGS = "inspector:ListFindings"
SEARCH = "inspector:SearchVulnerabilities"


def _epss(value: object, provenance: Provenance) -> EpssScore | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ShapeError(f"EPSS score {value!r} is not a number")
    if not 0 <= value <= 1:  # NOTE: compared before float(), which a 400-digit integer overflows
        raise ShapeError(f"EPSS score {str(value)[:40]} is outside 0..1")
    return EpssScore(score=float(value), percentile=None, provenance=provenance)


def _kev(cisa: object, provenance: Provenance) -> KevEntry | None:
    if not isinstance(cisa, Mapping) or not cisa:
        return None
    added = to_utc(cisa.get("dateAdded"))
    due = to_utc(cisa.get("dateDue"))
    action = cisa.get("action")
    return KevEntry(
        date_added=added.date() if added else None,
        due_date=due.date() if due else None,
        required_action=action if isinstance(action, str) else None,
        provenance=provenance,
    )


def _strings(value: object) -> tuple[str, ...] | None:
    if not value:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ShapeError("expected a list of strings")
    return tuple(value)


def _sourced_list(value: object, provenance: Provenance) -> Sourced | None:
    items = _strings(value)
    return Sourced(items, provenance) if items else None


def _observed(value: object, provenance: Provenance) -> Sourced | None:
    if isinstance(value, Mapping) and (value.get("firstSeen") or value.get("lastSeen")):
        return Sourced(True, provenance)
    return None


def from_finding_detail(
    detail: Mapping[str, Any], vulnerability_id: str, as_of: datetime | None
) -> Enrichment:
    """A `BatchGetFindingDetails` entry; Inspector answered, so a missing cisaData means not in KEV."""
    prov = Provenance(source=DETAILS, as_of=as_of)
    risk = detail.get("riskScore")
    if risk is not None and (isinstance(risk, bool) or not isinstance(risk, int | float) or not 0 <= risk <= 1e6):
        raise ShapeError(f"riskScore {str(risk)[:40]} is not a finite number >= 0")
    return Enrichment(
        vulnerability_id=vulnerability_id,
        kev=_kev(detail.get("cisaData"), prov),
        epss=_epss(detail.get("epssScore"), prov),
        exploit_observed=_observed(detail.get("exploitObserved"), prov),
        risk_score=Sourced(float(risk), prov) if risk is not None else None,
        cwes=_sourced_list(detail.get("cwes"), prov),
        ttps=_sourced_list(detail.get("ttps"), prov),
        tools=_sourced_list(detail.get("tools"), prov),
        kev_known_by=(DETAILS,),
    )


def from_inspector_finding(finding: Mapping[str, Any], as_of: datetime | None) -> Enrichment:
    """A `ListFindings` entry: EPSS and whether a public exploit exists."""
    details = finding.get("packageVulnerabilityDetails") or {}
    vid = details.get("vulnerabilityId")
    if not isinstance(vid, str) or not vid:
        raise ShapeError("Inspector finding without packageVulnerabilityDetails.vulnerabilityId")
    prov = Provenance(source=FINDINGS, as_of=as_of)
    epss = finding.get("epss") or {}
    available = finding.get("exploitAvailable")
    return Enrichment(
        vulnerability_id=vid,
        epss=_epss(epss.get("score") if isinstance(epss, Mapping) else None, prov),
        exploit_available=Sourced(available == "YES", prov) if available in ("YES", "NO") else None,
    )


def from_vulnerability(vuln: Mapping[str, Any], as_of: datetime | None) -> Enrichment:
    """A `SearchVulnerabilities` entry (no risk score, tools or evidences in this API)."""
    vid = vuln.get("id")
    if not isinstance(vid, str) or not vid:
        raise ShapeError("vulnerability without an id")
    prov = Provenance(source=SEARCH, as_of=as_of)
    epss = vuln.get("epss") or {}
    atig = vuln.get("atigData") or {}
    return Enrichment(
        vulnerability_id=vid,
        kev=_kev(vuln.get("cisaData"), prov),
        epss=_epss(epss.get("score") if isinstance(epss, Mapping) else None, prov),
        exploit_observed=_observed(vuln.get("exploitObserved"), prov),
        cwes=_sourced_list(vuln.get("cwes"), prov),
        ttps=_sourced_list(atig.get("ttps") if isinstance(atig, Mapping) else None, prov),
        kev_known_by=(SEARCH,),
    )
