"""The emulator's `ec2` query protocol and Inspector's on-demand scan operations, through real boto3 clients."""

from __future__ import annotations

import http.client
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator import Emulator, Faults, image_arn, image_finding

from . import ec2

IMAGE = image_arn()


def _seed(emulator: Emulator, n: int) -> Emulator:
    emulator.add_image(IMAGE, [], scanning_types=["ON_DEMAND_AMI_CVE"],
                       scan_result_condition={"maximumSeverityLabel": "MEDIUM", "fixAvailable": False})
    findings = [image_finding(f"CVE-2024-{i}", paths=("/usr/lib/a.jar", "/opt/b & <c>.jar")) for i in range(n)]
    emulator.add_ondemand_scan(emulator.ami_of(IMAGE), findings)
    return emulator


@pytest.fixture
def emu(emulator: Emulator) -> Emulator:
    return _seed(emulator, 3)


def _post(emu: Emulator, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", int(emu.url.rsplit(":", 1)[1]), timeout=5)
    try:
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


@pytest.mark.slow
def test_get_image_findings_pages_as_xml_that_botocore_reads(emulator: Emulator) -> None:
    emu = _seed(emulator, 1001)
    client = emu.client("ec2")
    pages = list(client.get_paginator("get_image_findings").paginate(
        ImageId=emu.ami_of(IMAGE), PaginationConfig={"PageSize": 1000}))
    assert [len(p["ImageFindings"]) for p in pages] == [1000, 1]
    first = pages[0]["ImageFindings"][0]
    assert first["Title"] == "CVE-2024-0 - openssl"
    assert first["Paths"] == ["/usr/lib/a.jar", "/opt/b & <c>.jar"]
    assert (first["SeverityLabel"], first["FixAvailable"], first["Score"]) == ("high", True, 7.5)
    assert first["FirstObservedAt"].timestamp() == 1736942400
    assert emu.violations == []


def test_the_answer_is_xml_named_by_the_model(emu: Emulator) -> None:
    status, body = _post(emu, f"Action=GetImageFindings&Version=2016-11-15&ImageId={emu.ami_of(IMAGE)}"
                              "&MaxResults=1".encode())
    assert status == 200
    text = body.decode()
    assert "<GetImageFindingsResponse" in text and "<imageFindingSet><item>" in text
    assert "<pathSet><item>/usr/lib/a.jar</item>" in text and "&amp; &lt;c&gt;" in text
    assert "<nextToken>" in text


def test_the_round_trip_check_catches_a_drifted_name() -> None:
    op = ec2.service_model("ec2").operation_model("GetImageFindings")
    good = ec2.to_xml({"ImageFindings": [{"Title": "t", "Score": 1.0}]}, op, "r")
    assert ec2.read_back(good, op) == {"ImageFindings": [{"Title": "t", "Score": 1.0}]}
    drifted = good.replace(b"<title>", b"<Title>").replace(b"</title>", b"</Title>")
    assert ec2.read_back(drifted, op) != {"ImageFindings": [{"Title": "t", "Score": 1.0}]}


@pytest.mark.parametrize(("faults", "code", "status"), [
    (Faults(forbidden=frozenset({"GetImageFindings"})), "UnauthorizedOperation", 403),
    (Faults(error_first={"GetImageFindings": 9}), "InternalError", 500),
    (Faults(throttle_first={"GetImageFindings": 9}), "RequestLimitExceeded", 503),
])
def test_faults_answer_as_ec2_errors(emu: Emulator, faults: Faults, code: str, status: int) -> None:
    emu.faults = faults
    client = emu.client("ec2")
    with pytest.raises(ClientError) as err:
        client.get_image_findings(ImageId=emu.ami_of(IMAGE))
    assert (err.value.response["Error"]["Code"], err.value.response["ResponseMetadata"]["HTTPStatusCode"]) \
        == (code, status)
    assert emu.violations == []


def test_bad_tokens_and_unknown_amis(emu: Emulator) -> None:
    client = emu.client("ec2")
    with pytest.raises(ClientError, match="InvalidPaginationToken"):
        client.get_image_findings(ImageId=emu.ami_of(IMAGE), NextToken="made-up")
    with pytest.raises(ClientError, match=r"InvalidAMIID\.NotFound"):
        client.get_image_findings(ImageId="ami-0123456789abcdef0")
    assert [v.message for v in emu.violations] == ["GetImageFindings: nextToken unknown"]


def test_requests_must_be_what_botocore_sends(emu: Emulator) -> None:
    ami = emu.ami_of(IMAGE)
    for body in (f"Action=GetImageFindings&Version=2016-11-15&ImageId={ami}&Colour=red",
                 f"Action=GetImageFindings&Version=2015-01-01&ImageId={ami}",
                 "Action=GetImageFindings&Version=2016-11-15",
                 "Action=NoSuchThing&Version=2016-11-15"):
        status, reply = _post(emu, body.encode())
        assert status == 400 and b"<Errors><Error><Code>InvalidParameterValue</Code>" in reply
    assert [v.kind for v in emu.violations] == ["request"] * 4


def test_an_ami_not_yet_scanned_has_no_findings(emulator: Emulator) -> None:
    emulator.add_image(IMAGE, [], scanning_types=["ON_DEMAND_AMI_CVE"])
    ami = emulator.ami_of(IMAGE)
    emulator.add_ondemand_scan(ami, [image_finding("CVE-2024-1")], statuses=["IN_PROGRESS", "SUCCESSFUL"])
    client = emulator.client("ec2")
    assert client.get_image_findings(ImageId=ami)["ImageFindings"] == []
    inspector = emulator.client("inspector2")
    scans = inspector.list_on_demand_scans(resourceId=ami, resourceType="AMI")["items"]
    assert [s["scanStatus"] for s in scans] == ["IN_PROGRESS"]
    status = inspector.get_on_demand_scan_status(resourceId=ami, resourceType="AMI", scanId=scans[0]["scanId"])
    assert (status["scanStatus"], status["completedAt"].timestamp()) == ("SUCCESSFUL", 1736944200)
    assert [f["Title"] for f in client.get_image_findings(ImageId=ami)["ImageFindings"]] == ["CVE-2024-1 - openssl"]
    with pytest.raises(inspector.exceptions.ResourceNotFoundException):
        inspector.get_on_demand_scan_status(resourceId=ami, resourceType="AMI", scanId="0" * 32)
    assert emulator.violations == []


def test_on_demand_scan_timestamps_travel_as_iso_text(emu: Emulator) -> None:
    port = int(emu.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", "/ondemand/scans", body=f'{{"resourceId": "{emu.ami_of(IMAGE)}", '
                     '"resourceType": "AMI"}'.encode())
        reply = conn.getresponse()
        body = reply.read().decode()
    finally:
        conn.close()
    assert reply.status == 200 and '"startedAt": "2025-01-15T12:30:00.000Z"' in body


def test_get_image_carries_the_scan_type_and_condition(emu: Emulator) -> None:
    config: dict[str, Any] = emu.client("imagebuilder").get_image(imageBuildVersionArn=IMAGE)["image"][
        "imageScanningConfiguration"]
    assert config["imageScanningTypes"] == ["ON_DEMAND_AMI_CVE"]
    assert config["scanResultCondition"] == {"maximumSeverityLabel": "MEDIUM", "fixAvailable": False}


def test_seeding_what_ec2_cannot_answer_fails_fast(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="SeverityLabel"):
        emulator.add_ondemand_scan("ami-0123456789abcdef0", [image_finding("CVE-2024-1", "severe")])
    with pytest.raises(ValueError, match=r"XML 1\.0"):
        emulator.add_ondemand_scan("ami-0123456789abcdef0", [image_finding("CVE-2024-1", title="\x1b[2J")])
    with pytest.raises(ValueError, match="scanStatusReason"):
        emulator.add_ondemand_scan("ami-0123456789abcdef0", statuses=["FAILED"], reason="BORED")
