"""The emulated operations the actions use, through boto3 over HTTP: answers botocore reads, AWS's refusals."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.emulator import Emulator, image_arn


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_steps_list_only_while_waiting_and_answer_once(emulator: Emulator) -> None:
    arn = image_arn()
    emulator.add_image(arn)
    step = emulator.add_waiting_step(arn)
    done = emulator.add_waiting_step(arn, status="COMPLETED", action="RESUME")
    ib = emulator.client("imagebuilder")
    assert [s["stepExecutionId"] for s in ib.list_waiting_workflow_steps()["steps"]] == [step]
    sent = {"stepExecutionId": step, "imageBuildVersionArn": arn, "action": "STOP", "reason": "no",
            "clientToken": "t-1"}
    assert ib.send_workflow_step_action(**sent)["clientToken"] == "t-1"
    assert ib.send_workflow_step_action(**sent)["stepExecutionId"] == step  # same token, same request
    with pytest.raises(ClientError) as mismatch:
        ib.send_workflow_step_action(**{**sent, "action": "RESUME"})
    assert _code(mismatch) == "IdempotentParameterMismatchException"
    with pytest.raises(ClientError) as again:
        ib.send_workflow_step_action(**{**sent, "clientToken": "t-2"})
    assert _code(again) == "InvalidRequestException"
    with pytest.raises(ClientError) as actioned:
        ib.send_workflow_step_action(**{**sent, "stepExecutionId": done, "clientToken": "t-3"})
    assert _code(actioned) == "InvalidRequestException"
    execution = ib.get_workflow_step_execution(stepExecutionId=step)
    assert (execution["status"], execution["message"]) == ("FAILED", "no")
    assert ib.list_waiting_workflow_steps()["steps"] == []
    assert emulator.violations == [v for v in emulator.violations if v.kind == "request"] == []


def test_a_step_of_another_build_is_refused(emulator: Emulator) -> None:
    arn = image_arn()
    emulator.add_image(arn)
    step = emulator.add_waiting_step(arn)
    with pytest.raises(ClientError) as error:
        emulator.client("imagebuilder").send_workflow_step_action(
            stepExecutionId=step, imageBuildVersionArn=image_arn("other"), action="RESUME", clientToken="t")
    assert _code(error) == "InvalidRequestException"
    assert emulator.step(step).status == "WAITING"


def test_waiting_steps_page_at_most_25(emulator: Emulator) -> None:
    arn = image_arn()
    emulator.add_image(arn)
    for n in range(30):
        emulator.add_waiting_step(arn, name=f"Wait{n}")
    ib = emulator.client("imagebuilder")
    first = ib.list_waiting_workflow_steps(maxResults=25)
    second = ib.list_waiting_workflow_steps(maxResults=25, nextToken=first["nextToken"])
    assert len(first["steps"]) + len(second["steps"]) == 30 and "nextToken" not in second
    with pytest.raises(ClientError):
        ib.list_waiting_workflow_steps(maxResults=26)
    assert [v.kind for v in emulator.violations] == ["request"]


def test_describe_images_is_regional_and_reads_back(emulator: Emulator) -> None:
    emulator.add_ami("ami-0123456789abcdef0", watermarks=["111122223333:a"],
                     scan_results={"HighestFindingSeverityLabel": "critical",
                                   "FindingScanDate": "2025-01-15T12:30:00.000Z",
                                   "CriticalFixAvailableSince": "2025-01-10T00:00:00.000Z"})
    emulator.add_ami("ami-0fedcba9876543210", region="eu-west-1", owner="999988887777")
    ec2 = emulator.client("ec2")
    image = ec2.describe_images(ImageIds=["ami-0123456789abcdef0"])["Images"][0]
    assert image["ImageWatermarks"][0]["WatermarkKey"] == "111122223333:a"
    assert image["ScanResults"]["HighestFindingSeverityLabel"] == "critical"
    assert image["CreationDate"] == "2025-01-15T12:00:00.000Z"  # a string member stays a string
    with pytest.raises(ClientError) as elsewhere:
        ec2.describe_images(ImageIds=["ami-0fedcba9876543210"])
    assert _code(elsewhere) == "InvalidAMIID.NotFound"
    kwargs = {k: v for k, v in emulator.client_kwargs().items() if k != "region_name"}
    eu = boto3.client("ec2", region_name="eu-west-1", **kwargs)
    try:
        assert [i["ImageId"] for i in eu.describe_images(Owners=["999988887777"])["Images"]] == \
            ["ami-0fedcba9876543210"]
        assert eu.describe_images(Owners=["self"])["Images"] == []
    finally:
        eu.close()
    assert emulator.violations == []


def test_watermarks_follow_the_documented_rules(emulator: Emulator) -> None:
    emulator.add_ami("ami-0000000000000000a")
    emulator.add_ami("ami-0000000000000000b", public=True)
    emulator.add_ami("ami-0000000000000000c", watermarks=[f"11112222333{n}:m" for n in range(5)])
    emulator.add_ami("ami-0000000000000000d", owner="999988887777")
    ec2 = emulator.client("ec2")
    key = f"{emulator.account}:passed"
    assert ec2.attach_image_watermark(ImageId="ami-0000000000000000a", WatermarkName="passed")["WatermarkKey"] == key
    assert ec2.attach_image_watermark(ImageId="ami-0000000000000000a", WatermarkName="passed")["WatermarkKey"] == key
    assert [m["WatermarkKey"] for m in emulator.ami("ami-0000000000000000a")["ImageWatermarks"]] == [key]
    for ami in ("ami-0000000000000000b", "ami-0000000000000000c", "ami-0000000000000000d"):
        with pytest.raises(ClientError):
            ec2.attach_image_watermark(ImageId=ami, WatermarkName="passed")
    assert ec2.detach_image_watermark(ImageId="ami-0000000000000000a", WatermarkKey=key)["Return"] is True
    assert ec2.detach_image_watermark(ImageId="ami-0000000000000000a", WatermarkKey=key)["Return"] is True
    assert "ImageWatermarks" not in emulator.ami("ami-0000000000000000a")
    assert emulator.violations == []


def test_the_caller_identity_is_the_emulated_account(emulator: Emulator) -> None:
    emulator.account = "210987654321"
    assert emulator.client("sts").get_caller_identity()["Account"] == "210987654321"
    assert emulator.violations == []
