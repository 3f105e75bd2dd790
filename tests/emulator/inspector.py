"""The emulated Amazon Inspector operations: ListFindings, finding details, CVE search, on-demand scans."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import not_emulated, service_error
from .pagination import listing_key
from .store import State
from .wire import to_epoch

SERVICE = "inspector2"
PAGE = 25  # NOTE: ListFindings accepts maxResults up to 100 but answers 25 at a time.

Finding = dict[str, Any]
Handler = Callable[[State, dict[str, Any]], dict[str, Any]]


def _pvd(f: Finding) -> dict[str, Any]:
    return dict(f.get("packageVulnerabilityDetails", {}))


def _details(f: Finding, kind: str, key: str) -> list[str]:
    return [r["details"][kind][key] for r in f["resources"] if key in r.get("details", {}).get(kind, {})]


_STRING_FIELDS: Mapping[str, Callable[[Finding], list[str]]] = {
    "findingArn": lambda f: [f["findingArn"]],
    "awsAccountId": lambda f: [f["awsAccountId"]],
    "findingType": lambda f: [f["type"]],
    "severity": lambda f: [f["severity"]],
    "findingStatus": lambda f: [f["status"]],
    "title": lambda f: [f.get("title", "")],
    "fixAvailable": lambda f: [f.get("fixAvailable", "")],
    "exploitAvailable": lambda f: [f.get("exploitAvailable", "")],
    "vulnerabilityId": lambda f: [_pvd(f).get("vulnerabilityId", "")],
    "vulnerabilitySource": lambda f: [_pvd(f).get("source", "")],
    "vendorSeverity": lambda f: [_pvd(f).get("vendorSeverity", "")],
    "relatedVulnerabilities": lambda f: list(_pvd(f).get("relatedVulnerabilities", [])),
    "resourceType": lambda f: [r["type"] for r in f["resources"]],
    "resourceId": lambda f: [r["id"] for r in f["resources"]],
    "ec2InstanceImageId": lambda f: _details(f, "awsEc2Instance", "imageId"),
    "ecrImageRepositoryName": lambda f: _details(f, "awsEcrContainerImage", "repositoryName"),
    "ecrImageHash": lambda f: _details(f, "awsEcrContainerImage", "imageHash"),
}
_NUMBER_FIELDS: Mapping[str, Callable[[Finding], float | None]] = {
    "inspectorScore": lambda f: f.get("inspectorScore"),
    "epssScore": lambda f: f.get("epss", {}).get("score"),
}
_SEVERITY_RANK = ["INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL", "UNTRIAGED"]
_SORT_KEYS: Mapping[str, Callable[[Finding], Any]] = {
    "SEVERITY": lambda f: _SEVERITY_RANK.index(f["severity"]),
    "FIRST_OBSERVED_AT": lambda f: to_epoch(f["firstObservedAt"]),
    "LAST_OBSERVED_AT": lambda f: to_epoch(f["lastObservedAt"]),
    "VULNERABILITY_ID": lambda f: _pvd(f).get("vulnerabilityId", ""),
    "INSPECTOR_SCORE": lambda f: f.get("inspectorScore", 0.0),
    "EPSS_SCORE": lambda f: f.get("epss", {}).get("score", 0.0),
    "FINDING_STATUS": lambda f: f["status"],
    "FINDING_TYPE": lambda f: f["type"],
}
_DETAIL_MESSAGES = {
    "INTERNAL_ERROR": "Internal error while retrieving finding details",
    "ACCESS_DENIED": "Access denied to finding details",
    "FINDING_DETAILS_NOT_FOUND": "Finding details not found",
    "INVALID_INPUT": "Invalid finding ARN",
}


def _string_match(filters: list[dict[str, str]], values: list[str]) -> bool:
    """EQUALS and PREFIX filters are OR'ed; any NOT_EQUALS filter that hits excludes."""
    positive = [f for f in filters if f["comparison"] != "NOT_EQUALS"]
    negative = [f["value"] for f in filters if f["comparison"] == "NOT_EQUALS"]
    if any(v in negative for v in values):
        return False
    return not positive or any(
        v == f["value"] if f["comparison"] == "EQUALS" else v.startswith(f["value"]) for f in positive for v in values
    )


def _matches(finding: Finding, criteria: Mapping[str, Any]) -> bool:
    for key, filters in criteria.items():
        if key in _STRING_FIELDS:
            ok = _string_match(filters, _STRING_FIELDS[key](finding))
        elif key in _NUMBER_FIELDS:
            value = _NUMBER_FIELDS[key](finding)
            ok = value is not None and any(
                f.get("lowerInclusive", value) <= value <= f.get("upperInclusive", value) for f in filters
            )
        elif key == "resourceTags":
            tags = [(k, v) for r in finding["resources"] for k, v in r.get("tags", {}).items()]
            ok = any(k == f["key"] and f.get("value", v) == v for f in filters for k, v in tags)
        else:
            raise not_emulated(f"ListFindings filterCriteria.{key}")
        if not ok:
            return False
    return True


def list_findings(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """ListFindings: filterCriteria (AND across fields), sortCriteria, 25 per page."""
    criteria = dict(params.get("filterCriteria", {}))
    if "resourceTags" in criteria:
        criteria["resourceTags"] = [
            {**f, "value": state.faults.answered_for("ListFindings", f["value"])} if "value" in f else f
            for f in criteria["resourceTags"]]
    with state.store.lock:
        findings = [rec.finding for rec in state.store.inspector.values()]
    findings = [f for f in findings if _matches(f, criteria)]
    sort = params.get("sortCriteria")
    if sort is not None:
        if sort["field"] not in _SORT_KEYS:
            raise not_emulated(f"ListFindings sortCriteria.field {sort['field']}")
        findings.sort(key=_SORT_KEYS[sort["field"]], reverse=sort["sortOrder"] == "DESC")
    page, token = state.pager.page(
        SERVICE,
        "ListFindings",
        listing_key("ListFindings", {"filterCriteria": criteria, "sortCriteria": sort}),
        findings,
        min(params.get("maxResults", PAGE), PAGE),
        params.get("nextToken"),
        state.faults,
    )
    return {"findings": page, **({"nextToken": token} if token else {})}


def batch_get_finding_details(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """BatchGetFindingDetails: details where Inspector has them, an error entry elsewhere."""
    details: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for arn in params["findingArns"]:
        code = state.faults.detail_error(arn)
        with state.store.lock:
            record = state.store.inspector.get(arn)
        if code is None and (record is None or record.details is None):
            code = "FINDING_DETAILS_NOT_FOUND"
        if code is not None:
            errors.append({"findingArn": arn, "errorCode": code, "errorMessage": _DETAIL_MESSAGES[code]})
        elif record is not None and record.details is not None:
            details.append(record.details)
    return {"findingDetails": details, "errors": errors}


def search_vulnerabilities(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """SearchVulnerabilities: the one CVE asked for, or an empty list."""
    asked = params["filterCriteria"]["vulnerabilityIds"][0]
    vulnerability_id = state.faults.answered_for("SearchVulnerabilities", asked)
    with state.store.lock:
        record = state.store.vulnerabilities.get(vulnerability_id)
    page, _ = state.pager.page(
        SERVICE,
        "SearchVulnerabilities",
        listing_key("SearchVulnerabilities", {"id": vulnerability_id}),
        [record] if record else [],
        1,
        params.get("nextToken"),
        state.faults,
    )
    return {"vulnerabilities": page}


def list_on_demand_scans(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """ListOnDemandScans: the scans of one AMI, oldest first, each look walking its status."""
    with state.store.lock:
        record = state.store.amis.get(params["resourceId"])
        scans = [s.look() for s in record.scans] if record else []
    page, token = state.pager.page(
        SERVICE,
        "ListOnDemandScans",
        listing_key("ListOnDemandScans", {"resourceId": params["resourceId"]}),
        scans,
        params.get("maxResults", 100),
        params.get("nextToken"),
        state.faults,
    )
    return {"items": page, **({"nextToken": token} if token else {})}


def get_on_demand_scan_status(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """GetOnDemandScanStatus: one scan of one AMI, or ResourceNotFoundException."""
    with state.store.lock:
        record = state.store.amis.get(params["resourceId"])
        found = [s for s in (record.scans if record else []) if s.scan_id == params["scanId"]]
        if not found:
            raise service_error(SERVICE, "not_found", f"No on-demand scan {params['scanId']} of {params['resourceId']}")
        return found[0].look()


HANDLERS: Mapping[str, Handler] = {
    "ListOnDemandScans": list_on_demand_scans,
    "GetOnDemandScanStatus": get_on_demand_scan_status,
    "ListFindings": list_findings,
    "BatchGetFindingDetails": batch_get_finding_details,
    "SearchVulnerabilities": search_vulnerabilities,
}
