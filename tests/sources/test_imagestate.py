"""`check_image`: one judgement of a GetImage document for every reader (live sources, a dry run's --image)."""

from __future__ import annotations

from typing import Any

import pytest

from gate.errors import ExitCode, GateError
from gate.sources.imagestate import check_image
from gate.sources.scantype import ScanPath

ARN = "arn:aws:imagebuilder:us-east-1:111122223333:image/web/1.0.0/1"
AMI = {"region": "us-east-1", "image": "ami-0123456789abcdef0", "accountId": "111122223333"}


def _image(status: str = "AVAILABLE", scan: str | None = "COMPLETED", **extra: Any) -> dict[str, Any]:
    image: dict[str, Any] = {"arn": ARN, "state": {"status": status},
                             "imageScanningConfiguration": {"imageScanningEnabled": True},
                             "outputResources": {"amis": [AMI]}}
    if scan is not None:
        image["scanState"] = {"status": scan}
    return {**image, **extra}


def test_an_available_image_with_a_completed_scan_is_judged() -> None:
    state = check_image(_image(), ARN)
    assert (state.path, state.status, state.complete, state.waiting, state.notes) == \
        (ScanPath.IMAGE_BUILDER, "AVAILABLE", True, "", ())
    assert state.output_amis == ("ami-0123456789abcdef0",)


@pytest.mark.parametrize(("image", "message"), [
    (None, "GetImage gave no image document"),
    (_image(arn=ARN.replace("/1", "/2")), "describes another image"),
    ({**_image(), "state": {}}, "no state"),
    (_image("DELETED"), f"{ARN} is DELETED: there is no finished build to judge"),
    (_image("CANCELLED", state={"status": "CANCELLED", "reason": "stopped\nby x"}), "is CANCELLED (stopped by x)"),
    (_image("FAILED"), "is FAILED"),
    (_image("DISABLED"), "is DISABLED"),
    (_image("MELTED"), "in state 'MELTED', which gate does not know"),
    (_image(imageScanningConfiguration={"imageScanningEnabled": False}), "image scanning is disabled"),
    (_image(scan=None, imageScanningConfiguration={}), "image scanning is disabled"),
    (_image(scan="TIMED_OUT"), "ended TIMED_OUT"),
    (_image("DELETED", imageScanningConfiguration={"imageScanningTypes": ["ON_DEMAND_AMI_CVE"]}), "is DELETED"),
])
def test_refusals_are_could_not_complete(image: Any, message: str) -> None:
    with pytest.raises(GateError) as raised:
        check_image(image, ARN)
    assert raised.value.exit_code == ExitCode.INCOMPLETE and message in raised.value.message


def test_a_scan_under_way_is_not_complete_and_says_so() -> None:
    state = check_image(_image(scan="SCANNING", scanState={"status": "SCANNING", "reason": "collecting"}), ARN)
    assert not state.complete and state.waiting == "SCANNING (collecting)"


@pytest.mark.parametrize(("status", "note"), [
    ("DEPRECATED", f"{ARN} is DEPRECATED: judged all the same"),
    ("TESTING", f"{ARN} is TESTING, not yet AVAILABLE: judged only because its scan is complete"),
])
def test_deprecated_and_unfinished_builds_carry_a_note(status: str, note: str) -> None:
    assert check_image(_image(status), ARN).notes == (note,)


def test_the_on_demand_path_leaves_completeness_to_inspector() -> None:
    state = check_image(_image(scan=None, imageScanningConfiguration={"imageScanningTypes": ["ON_DEMAND_AMI_CVE"]}),
                        ARN)
    assert state.path is ScanPath.ON_DEMAND and not state.complete and state.waiting == ""
