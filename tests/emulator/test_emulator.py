"""Tests of the AWS emulator, driven through real boto3 clients over HTTP."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, PaginationError

from tests.emulator import (
    DetailFault,
    Emulator,
    Faults,
    finding_arn,
    image_arn,
    image_scan_finding,
    pipeline_arn,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "aws-examples"
IMAGE = image_arn()
PIPELINE = pipeline_arn()
SEVERITIES = ["HIGH", "critical", "Medium", "LOW", "UNTRIAGED"]


def _findings(n: int) -> list[dict[str, Any]]:
    return [image_scan_finding(f"CVE-2024-{1000 + i}", SEVERITIES[i % 5]) for i in range(n)]


def _by_image(arn: str = IMAGE) -> list[dict[str, Any]]:
    return [{"name": "imageBuildVersionArn", "values": [arn]}]


@pytest.fixture
def emu(emulator: Emulator) -> Emulator:
    emulator.add_image(IMAGE, _findings(60), pipeline_arn=PIPELINE)
    return emulator


@pytest.fixture
def ib(emu: Emulator) -> Any:
    return emu.client("imagebuilder")


@pytest.fixture
def insp(emu: Emulator) -> Any:
    return emu.client("inspector2")


def _raw_client(service: str, kwargs: dict[str, str], **extra: Any) -> Any:
    make: Any = boto3.client  # NOTE: the stubs' overloads want a literal service name.
    return make(service, **kwargs, **extra)


def _code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


# -- the happy paths ---------------------------------------------------------------------------
def test_full_listing_of_60_findings_takes_3_pages_without_violations(emu: Emulator, ib: Any) -> None:
    pages = list(ib.get_paginator("list_image_scan_findings").paginate(filters=_by_image()))
    assert [len(p["findings"]) for p in pages] == [25, 25, 10]
    ids = [f["packageVulnerabilityDetails"]["vulnerabilityId"] for p in pages for f in p["findings"]]
    assert ids == [f"CVE-2024-{1000 + i}" for i in range(60)]
    first = pages[0]["findings"][0]
    assert first["imageBuildVersionArn"] == IMAGE
    assert first["imagePipelineArn"] == PIPELINE
    assert first["firstObservedAt"].timestamp() == 1736942400
    assert pages[0]["requestId"] == pages[0]["ResponseMetadata"]["RequestId"]
    by_pipeline = ib.list_image_scan_findings(filters=[{"name": "imagePipelineArn", "values": [PIPELINE]}])
    assert len(by_pipeline["findings"]) == 25
    assert emu.count("ListImageScanFindings") == 4
    assert emu.violations == []


def test_the_aws_cli_example_round_trips(emulator: Emulator) -> None:
    example = json.loads((EXAMPLES / "awscli-imagebuilder-list-image-scan-findings.output.json").read_text())
    finding = example["findings"][0]
    emulator.add_image(finding["imageBuildVersionArn"], example["findings"], pipeline_arn=finding["imagePipelineArn"])
    client = emulator.client("imagebuilder")
    got = client.list_image_scan_findings(filters=_by_image(finding["imageBuildVersionArn"]))["findings"][0]
    assert got["firstObservedAt"] == dt.datetime.fromisoformat(finding["firstObservedAt"])
    assert {
        k: v for k, v in got.items() if k not in ("firstObservedAt", "updatedAt", "packageVulnerabilityDetails")
    } == {k: v for k, v in finding.items() if k not in ("firstObservedAt", "updatedAt", "packageVulnerabilityDetails")}
    assert emulator.violations == []


def test_get_image_walks_scan_states_and_reports_disabled_scanning(emu: Emulator, ib: Any) -> None:
    walking, disabled = image_arn("walking"), image_arn("disabled")
    emu.add_image(walking, scan_states=["PENDING", "SCANNING", "COMPLETED"])
    emu.add_image(disabled, scanning_enabled=False)
    states = [ib.get_image(imageBuildVersionArn=walking)["image"]["scanState"]["status"] for _ in range(4)]
    assert states == ["PENDING", "SCANNING", "COMPLETED", "COMPLETED"]
    image = ib.get_image(imageBuildVersionArn=disabled)["image"]
    assert image["imageScanningConfiguration"]["imageScanningEnabled"] is False
    assert "scanState" not in image
    timed_out = image_arn("timedout")
    emu.add_image(timed_out, scan_states=["TIMED_OUT"], scan_reason="Scan did not finish in time")
    assert ib.get_image(imageBuildVersionArn=timed_out)["image"]["scanState"] == {
        "status": "TIMED_OUT",
        "reason": "Scan did not finish in time",
    }
    with pytest.raises(ib.exceptions.ResourceNotFoundException):
        ib.get_image(imageBuildVersionArn=image_arn("missing"))
    assert emu.violations == []


def test_aggregations_count_severities_case_insensitively(emu: Emulator, ib: Any) -> None:
    response = ib.list_image_scan_finding_aggregations(filter={"name": "imageBuildVersionArn", "values": [IMAGE]})
    assert response["aggregationType"] == "imageBuildVersionArn"
    counts = response["responses"][0]["imageAggregation"]["severityCounts"]
    assert counts == {"all": 60, "critical": 12, "high": 12, "medium": 12}
    account = ib.list_image_scan_finding_aggregations()["responses"][0]["accountAggregation"]
    assert account["severityCounts"]["all"] == 60
    assert emu.violations == []


def test_pipeline_images_paginate(emu: Emulator, ib: Any) -> None:
    for build in range(2, 31):
        emu.add_image(image_arn(build=build), pipeline_arn=PIPELINE)
    pages = list(ib.get_paginator("list_image_pipeline_images").paginate(imagePipelineArn=PIPELINE, maxResults=10))
    assert [len(p["imageSummaryList"]) for p in pages] == [10, 10, 10]
    assert pages[0]["imageSummaryList"][0]["version"] == "1.0.0/1"
    with pytest.raises(ib.exceptions.ResourceNotFoundException):
        ib.list_image_pipeline_images(imagePipelineArn=pipeline_arn("nope"))
    assert emu.violations == []


def test_inspector_list_findings_filters_and_paginates(emu: Emulator, insp: Any) -> None:
    tags = {"Ec2ImageBuilderArn": IMAGE}
    for i in range(30):
        emu.add_inspector_finding(
            vulnerability_id="CVE-2024-1000", resource_tags=tags, epss=0.5, exploit_available="NO"
        )
    emu.add_inspector_finding(vulnerability_id="CVE-2024-1001", resource_tags=tags, status="CLOSED")
    emu.add_inspector_finding(vulnerability_id="CVE-2024-1001", resource_tags={"Ec2ImageBuilderArn": "other"})
    criteria = {
        "vulnerabilityId": [{"comparison": "EQUALS", "value": v} for v in ("CVE-2024-1000", "CVE-2024-1001")],
        "findingType": [{"comparison": "EQUALS", "value": "PACKAGE_VULNERABILITY"}],
        "findingStatus": [{"comparison": "EQUALS", "value": s} for s in ("ACTIVE", "CLOSED")],
        "resourceTags": [{"comparison": "EQUALS", "key": "Ec2ImageBuilderArn", "value": IMAGE}],
    }
    pages = list(insp.get_paginator("list_findings").paginate(filterCriteria=criteria, maxResults=100))
    assert [len(p["findings"]) for p in pages] == [25, 6]
    finding = pages[0]["findings"][0]
    assert finding["epss"] == {"score": 0.5}
    assert finding["exploitAvailable"] == "NO"
    assert finding["remediation"]["recommendation"]["text"]
    active = insp.list_findings(filterCriteria={"findingStatus": [{"comparison": "EQUALS", "value": "CLOSED"}]})
    assert len(active["findings"]) == 1
    assert emu.violations == []


def test_finding_details_and_vulnerability_search(emu: Emulator, insp: Any) -> None:
    detail = {"epssScore": 0.9, "cisaData": {"dateAdded": "2024-05-01", "action": "Patch"}, "cwes": ["CWE-787"]}
    with_details = emu.add_inspector_finding(vulnerability_id="CVE-2024-1000", details=detail)
    without = emu.add_inspector_finding(vulnerability_id="CVE-2024-1001")
    unknown = finding_arn("unknown")
    response = insp.batch_get_finding_details(findingArns=[with_details, without, unknown])
    assert [d["findingArn"] for d in response["findingDetails"]] == [with_details]
    assert response["findingDetails"][0]["cisaData"]["dateAdded"].year == 2024
    assert {e["findingArn"]: e["errorCode"] for e in response["errors"]} == {
        without: "FINDING_DETAILS_NOT_FOUND",
        unknown: "FINDING_DETAILS_NOT_FOUND",
    }
    emu.add_vulnerability("CVE-2024-1000", {"epss": {"score": 0.9}, "cwes": ["CWE-787"], "source": "NVD"})
    found = insp.search_vulnerabilities(filterCriteria={"vulnerabilityIds": ["CVE-2024-1000"]})
    assert found["vulnerabilities"][0]["id"] == "CVE-2024-1000"
    missing = insp.search_vulnerabilities(filterCriteria={"vulnerabilityIds": ["CVE-2024-9999"]})
    assert missing["vulnerabilities"] == []
    assert emu.violations == []


def test_env_points_a_subprocess_at_the_emulator(emu: Emulator) -> None:
    script = (
        "import boto3, sys; c = boto3.client('imagebuilder');"
        "print(c.get_image(imageBuildVersionArn=sys.argv[1])['image']['arn']); c.close()"
    )
    env = {"PATH": "/usr/bin:/bin", **emu.env()}
    done = subprocess.run([sys.executable, "-c", script, IMAGE], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == IMAGE
    assert emu.calls[-1][:2] == ("imagebuilder", "GetImage")
    client = _raw_client("inspector2", emu.client_kwargs())
    try:
        assert client.list_findings()["findings"] == []
    finally:
        client.close()


# -- validation --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("service", "call", "kwargs", "error"),
    [
        (
            "imagebuilder",
            "list_image_scan_findings",
            {"filters": [*_by_image(), {"name": "severity", "values": ["HIGH"]}]},
            "InvalidRequestException",
        ),
        (
            "imagebuilder",
            "list_image_scan_findings",
            {"filters": _by_image(), "maxResults": 26},
            "InvalidRequestException",
        ),
        (
            "imagebuilder",
            "list_image_scan_findings",
            {"filters": [{"name": "title", "values": ["x"]}]},
            "InvalidRequestException",
        ),
        ("imagebuilder", "get_image", {"imageBuildVersionArn": "not-an-arn"}, "InvalidRequestException"),
        (
            "inspector2",
            "batch_get_finding_details",
            {"findingArns": [finding_arn(str(i)) for i in range(11)]},
            "ValidationException",
        ),
        (
            "inspector2",
            "search_vulnerabilities",
            {"filterCriteria": {"vulnerabilityIds": ["ALAS2-2024-1"]}},
            "ValidationException",
        ),
        (
            "inspector2",
            "list_findings",
            {
                "filterCriteria": {
                    "vulnerabilityId": [{"comparison": "EQUALS", "value": f"CVE-2024-{i}"} for i in range(11)]
                }
            },
            "ValidationException",
        ),
    ],
)
def test_invalid_requests_are_rejected_and_recorded(
    emu: Emulator, service: str, call: str, kwargs: dict[str, Any], error: str
) -> None:
    client = emu.client(service)
    with pytest.raises(getattr(client.exceptions, error)) as exc:
        getattr(client, call)(**kwargs)
    assert _code(exc) == (error, 400)
    if error == "ValidationException":
        assert exc.value.response["reason"] == "FIELD_VALIDATION_FAILED"
    assert [v.kind for v in emu.violations] == ["request"]


def test_server_side_validation_catches_what_botocore_checks_too(emu: Emulator) -> None:
    client = _raw_client("inspector2", emu.client_kwargs(), config=Config(parameter_validation=False))
    try:
        with pytest.raises(client.exceptions.ValidationException):
            client.batch_get_finding_details(findingArns=[])
    finally:
        client.close()
    assert emu.violations[0].operation == "BatchGetFindingDetails"


def test_malformed_and_unroutable_requests_are_violations(emu: Emulator) -> None:
    port = int(emu.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", "/ListImageScanFindings", body=b"{not json")
        reply = conn.getresponse()
        assert (reply.status, reply.getheader("x-amzn-ErrorType")) == (400, "InvalidRequestException")
        assert "message" in json.loads(reply.read())
        conn.request("POST", "/nowhere", body=b"{}")
        reply = conn.getresponse()
        reply.read()
        assert reply.status == 404
    finally:
        conn.close()
    assert [v.kind for v in emu.violations] == ["request", "request"]


def test_an_invalid_response_is_a_violation_and_a_500(emu: Emulator, ib: Any) -> None:
    emu._state.store.images[IMAGE].findings[0]["inspectorScore"] = "high"  # white-box: corrupt the store
    with pytest.raises(ib.exceptions.ServiceException):
        ib.list_image_scan_findings(filters=_by_image())
    assert [v.kind for v in emu.violations] == ["response"]


def test_seeding_invalid_documents_fails_fast(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="findingArn"):
        emulator.add_inspector_finding(vulnerability_id="CVE-2024-1", arn="arn:aws:inspector2:us-east-1:1:finding/abc")
    with pytest.raises(ValueError, match="image build version ARN"):
        emulator.add_image("arn:aws:imagebuilder:us-east-1:123456789012:image/x")


# -- faults ------------------------------------------------------------------------------------
def test_latency_is_added_per_call_and_calls_run_concurrently(emu: Emulator, ib: Any) -> None:
    emu.faults = Faults(latency=0.3, latency_by_operation={"ListImageScanFindings": 0.0})
    ib.list_image_scan_findings(filters=_by_image())
    assert emu.latency_served == {}
    barrier = threading.Barrier(8)

    def call(_: int) -> None:
        barrier.wait()  # all eight requests leave together, so a serial server could not overlap them
        ib.get_image(imageBuildVersionArn=IMAGE)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(call, range(8)))
    assert emu.count("GetImage", status=200) == 8
    assert emu.latency_served == {"GetImage": pytest.approx(2.4)}
    assert emu.max_in_flight >= 2  # served side by side


def _outcomes(emu: Emulator, ib: Any, faults: Faults, n: int = 30) -> list[str]:
    emu.faults = faults
    outcomes = []
    for _ in range(n):
        try:
            ib.get_image(imageBuildVersionArn=IMAGE)
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    return outcomes


def test_rates_are_seeded_and_combinable(emu: Emulator, ib: Any) -> None:
    faults = Faults(seed=7, throttle_rate=0.3, error_rate={"GetImage": 0.3}, latency=0.001)
    first = _outcomes(emu, ib, faults)
    assert first == _outcomes(emu, ib, faults)
    assert {"ok", "CallRateLimitExceededException", "ServiceException"} <= set(first)
    assert first != _outcomes(emu, ib, Faults(seed=8, throttle_rate=0.3, error_rate=0.3))
    assert emu.violations == []


def test_throttling_first_n_calls(emu: Emulator, ib: Any, insp: Any) -> None:
    emu.faults = Faults(throttle_first={"GetImage": 2, "ListFindings": 1}, retry_after_seconds=4)
    for _ in range(2):
        with pytest.raises(ib.exceptions.CallRateLimitExceededException) as exc:
            ib.get_image(imageBuildVersionArn=IMAGE)
        assert _code(exc) == ("CallRateLimitExceededException", 429)
    ib.get_image(imageBuildVersionArn=IMAGE)
    with pytest.raises(insp.exceptions.ThrottlingException) as throttled:
        insp.list_findings()
    assert _code(throttled) == ("ThrottlingException", 429)
    assert throttled.value.response["ResponseMetadata"]["HTTPHeaders"]["retry-after"] == "4"
    assert throttled.value.response["retryAfterSeconds"] == 4
    insp.list_findings()


def test_server_errors_first_n_calls(emu: Emulator, ib: Any, insp: Any) -> None:
    emu.faults = Faults(error_first={"GetImage": 1, "SearchVulnerabilities": 1})
    with pytest.raises(ib.exceptions.ServiceException) as exc:
        ib.get_image(imageBuildVersionArn=IMAGE)
    assert _code(exc) == ("ServiceException", 500)
    with pytest.raises(insp.exceptions.InternalServerException) as exc:
        insp.search_vulnerabilities(filterCriteria={"vulnerabilityIds": ["CVE-2024-1000"]})
    assert _code(exc) == ("InternalServerException", 500)
    emu.faults = Faults(error_first={"GetImage": 1}, unavailable=True)
    with pytest.raises(ib.exceptions.ServiceUnavailableException) as exc:
        ib.get_image(imageBuildVersionArn=IMAGE)
    assert _code(exc) == ("ServiceUnavailableException", 503)
    ib.get_image(imageBuildVersionArn=IMAGE)


def test_forbidden_operations(emu: Emulator, ib: Any, insp: Any) -> None:
    emu.faults = Faults(forbidden={"ListImageScanFindings", "BatchGetFindingDetails"})
    with pytest.raises(ib.exceptions.ForbiddenException) as exc:
        ib.list_image_scan_findings(filters=_by_image())
    assert _code(exc) == ("ForbiddenException", 403)
    with pytest.raises(insp.exceptions.AccessDeniedException) as exc:
        insp.batch_get_finding_details(findingArns=[finding_arn("a")])
    assert _code(exc) == ("AccessDeniedException", 403)
    ib.get_image(imageBuildVersionArn=IMAGE)
    assert emu.violations == []


def test_botocore_standard_retries_500_and_throttling_but_not_call_rate_limit(emu: Emulator) -> None:
    ib = emu.client("imagebuilder", max_attempts=3)
    insp = emu.client("inspector2", max_attempts=3)
    emu.faults = Faults(error_first={"GetImage": 2}, throttle_first={"ListFindings": 1, "ListImageScanFindings": 1})
    ib.get_image(imageBuildVersionArn=IMAGE)
    assert [c.status for c in emu.calls if c.operation == "GetImage"] == [500, 500, 200]
    insp.list_findings()
    assert [c.status for c in emu.calls if c.operation == "ListFindings"] == [429, 200]
    with pytest.raises(ib.exceptions.CallRateLimitExceededException):
        ib.list_image_scan_findings(filters=_by_image())
    assert emu.count("ListImageScanFindings") == 1


def test_page_token_invalid_once(emu: Emulator, ib: Any) -> None:
    emu.faults = Faults(invalid_token_once={"ListImageScanFindings": 1})
    token = ib.list_image_scan_findings(filters=_by_image())["nextToken"]
    with pytest.raises(ib.exceptions.InvalidPaginationTokenException) as exc:
        ib.list_image_scan_findings(filters=_by_image(), nextToken=token)
    assert _code(exc) == ("InvalidPaginationTokenException", 400)
    assert len(ib.list_image_scan_findings(filters=_by_image(), nextToken=token)["findings"]) == 25
    pages = list(ib.get_paginator("list_image_scan_findings").paginate(filters=_by_image()))
    assert len(pages) == 3
    assert emu.violations == []


def test_page_token_invalid_always(emu: Emulator, ib: Any, insp: Any) -> None:
    emu.faults = Faults(invalid_token_always={"ListImageScanFindings": 2, "ListFindings": 1})
    for _ in range(2):
        with pytest.raises(ib.exceptions.InvalidPaginationTokenException):
            list(ib.get_paginator("list_image_scan_findings").paginate(filters=_by_image()))
    for i in range(26):
        emu.add_inspector_finding(vulnerability_id=f"CVE-2024-{i + 1}")
    with pytest.raises(insp.exceptions.ValidationException):
        list(insp.get_paginator("list_findings").paginate())
    assert emu.violations == []


def test_repeated_page_token_makes_a_loop(emu: Emulator, ib: Any) -> None:
    emu.faults = Faults(repeat_token={"ListImageScanFindings": 1})
    token = ib.list_image_scan_findings(filters=_by_image())["nextToken"]
    again = ib.list_image_scan_findings(filters=_by_image(), nextToken=token)
    assert again["nextToken"] == token
    with pytest.raises(PaginationError):
        list(ib.get_paginator("list_image_scan_findings").paginate(filters=_by_image()))


def test_token_from_another_listing_is_rejected_and_recorded(emu: Emulator, ib: Any) -> None:
    other = image_arn("other")
    emu.add_image(other, _findings(30))
    token = ib.list_image_scan_findings(filters=_by_image())["nextToken"]
    with pytest.raises(ib.exceptions.InvalidPaginationTokenException):
        ib.list_image_scan_findings(filters=_by_image(other), nextToken=token)
    assert [v.kind for v in emu.violations] == ["request"]


def test_aggregation_offset(emu: Emulator, ib: Any) -> None:
    for offset, expected in ((3, 63), (-5, 55)):
        emu.faults = Faults(aggregation_offset=offset)
        response = ib.list_image_scan_finding_aggregations(filter={"name": "imageBuildVersionArn", "values": [IMAGE]})
        assert response["responses"][0]["imageAggregation"]["severityCounts"]["all"] == expected


def test_partial_finding_details_errors(emu: Emulator, insp: Any) -> None:
    detail = {"epssScore": 0.1, "riskScore": 10}
    transient = emu.add_inspector_finding(vulnerability_id="CVE-2024-1", details=detail)
    denied = emu.add_inspector_finding(vulnerability_id="CVE-2024-2", details=detail)
    fine = emu.add_inspector_finding(vulnerability_id="CVE-2024-3", details=detail)
    emu.faults = Faults(detail_errors={transient: DetailFault("INTERNAL_ERROR", attempts=2), denied: "ACCESS_DENIED"})
    seen = []
    for _ in range(3):
        response = insp.batch_get_finding_details(findingArns=[transient, denied, fine])
        seen.append(
            (
                sorted(d["findingArn"] for d in response["findingDetails"]),
                {e["findingArn"]: e["errorCode"] for e in response["errors"]},
            )
        )
    errors = {transient: "INTERNAL_ERROR", denied: "ACCESS_DENIED"}
    assert seen == [([fine], errors), ([fine], errors), (sorted([transient, fine]), {denied: "ACCESS_DENIED"})]
    assert emu.violations == []
