"""The emulated EC2 Image Builder operations: GetImage, scan findings and pipeline images."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from . import fleet, workflows
from .errors import invalid_request, service_error
from .pagination import listing_key
from .store import ImageRecord, State

SERVICE = "imagebuilder"
DEFAULT_PAGE = 25

Handler = Callable[[State, dict[str, Any]], dict[str, Any]]


def _images(state: State) -> list[ImageRecord]:
    with state.store.lock:
        return list(state.store.images.values())


def _vulnerability_id(finding: Mapping[str, Any]) -> str:
    return str(finding.get("packageVulnerabilityDetails", {}).get("vulnerabilityId", ""))


def _select(images: Iterable[ImageRecord], name: str, value: str) -> list[dict[str, Any]]:
    """Findings matching the one filter ListImageScanFindings allows."""
    if name == "imageBuildVersionArn":
        return [f for rec in images if rec.arn == value for f in rec.findings]
    if name == "imagePipelineArn":
        return [f for rec in images if rec.pipeline_arn == value for f in rec.findings]
    every = [f for rec in images for f in rec.findings]
    if name == "vulnerabilityId":
        return [f for f in every if _vulnerability_id(f) == value]
    return [f for f in every if str(f.get("severity", "")).casefold() == value.casefold()]


def get_image(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """GetImage: the image, its scanning configuration and the next of its scan states."""
    arn = params["imageBuildVersionArn"]
    with state.store.lock:
        record = state.store.images.get(arn)
        if record is None:
            raise service_error(SERVICE, "not_found", f"Image {arn} was not found")
        return {"image": record.document(record.next_scan_state())}


def list_image_scan_findings(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """ListImageScanFindings: one filter (or none: the account), paginated by nextToken."""
    filters = params.get("filters") or []
    images = _images(state)
    if filters:
        value = state.faults.answered_for("ListImageScanFindings", filters[0]["values"][0])
        findings = _select(images, filters[0]["name"], value)
    else:
        findings = [f for rec in images for f in rec.findings]
    page, token = state.pager.page(
        SERVICE,
        "ListImageScanFindings",
        listing_key("ListImageScanFindings", {"filters": filters}),
        findings,
        params.get("maxResults", DEFAULT_PAGE),
        params.get("nextToken"),
        state.faults,
    )
    return {"findings": page, **({"nextToken": token} if token else {})}


def _counts(findings: list[dict[str, Any]], offset: int) -> dict[str, int]:
    severity = Counter(str(f.get("severity", "")).casefold() for f in findings)
    return {
        "all": max(0, len(findings) + offset),
        "critical": severity["critical"],
        "high": severity["high"],
        "medium": severity["medium"],
    }


def list_image_scan_finding_aggregations(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """ListImageScanFindingAggregations: severity counts grouped by the filter's key."""
    images = _images(state)
    offset = state.faults.faults.aggregation_offset
    flt = params.get("filter")
    responses: list[dict[str, Any]] = []
    if flt is None:
        kind = "accountId"
        accounts: dict[str, list[dict[str, Any]]] = {}
        for rec in images:
            for finding in rec.findings:
                accounts.setdefault(finding["awsAccountId"], []).append(finding)
        for account, found in accounts.items():
            counts = _counts(found, offset)
            responses.append({"accountAggregation": {"accountId": account, "severityCounts": counts}})
    else:
        kind = flt.get("name", "")
        values = flt.get("values")
        if kind not in ("imageBuildVersionArn", "imagePipelineArn", "vulnerabilityId") or not values:
            raise invalid_request(SERVICE, [f"filter: name {kind!r} with values {values!r}"])
        for value in values:
            found = _select(images, kind, value)
            counts = _counts(found, offset)
            if kind == "imageBuildVersionArn" and any(r.arn == value for r in images):
                entry = {"imageAggregation": {"imageBuildVersionArn": value, "severityCounts": counts}}
            elif kind == "imagePipelineArn" and any(r.pipeline_arn == value for r in images):
                entry = {"imagePipelineAggregation": {"imagePipelineArn": value, "severityCounts": counts}}
            elif kind == "vulnerabilityId" and found:
                entry = {"vulnerabilityIdAggregation": {"vulnerabilityId": value, "severityCounts": counts}}
            else:
                continue
            responses.append(entry)
    page, token = state.pager.page(
        SERVICE,
        "ListImageScanFindingAggregations",
        listing_key("ListImageScanFindingAggregations", {"filter": flt}),
        responses,
        max(1, len(responses)),
        params.get("nextToken"),
        state.faults,
    )
    out: dict[str, Any] = {"aggregationType": kind, "responses": page}
    return out | ({"nextToken": token} if token else {})


def list_image_pipeline_images(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """ListImagePipelineImages: the pipeline's image versions (filters: name, version)."""
    pipeline = params["imagePipelineArn"]
    summaries = [rec.summary() for rec in _images(state) if rec.pipeline_arn == pipeline]
    if not summaries:
        raise service_error(SERVICE, "not_found", f"Image pipeline {pipeline} was not found")
    filters = params.get("filters") or []
    for flt in filters:
        name, values = flt.get("name"), flt.get("values") or []
        if name not in ("name", "version") or not values:
            raise invalid_request(SERVICE, [f"filters: name {name!r} with values {values!r}"])
        summaries = [s for s in summaries if s[name] in values or s[name].split("/", 1)[0] in values]
    page, token = state.pager.page(
        SERVICE,
        "ListImagePipelineImages",
        listing_key("ListImagePipelineImages", {"pipeline": pipeline, "filters": filters}),
        summaries,
        params.get("maxResults", DEFAULT_PAGE),
        params.get("nextToken"),
        state.faults,
    )
    return {"imageSummaryList": page, **({"nextToken": token} if token else {})}


HANDLERS: Mapping[str, Handler] = {
    "GetImage": get_image,
    "ListImageScanFindings": list_image_scan_findings,
    "ListImageScanFindingAggregations": list_image_scan_finding_aggregations,
    "ListImagePipelineImages": list_image_pipeline_images,
    **workflows.HANDLERS,
    **fleet.IMAGEBUILDER,
}
