"""ImageBuilderSource against the emulator: scan readiness, pagination faults, retries and the recount."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gate.aws.retry import Backoff, Caller
from gate.aws.session import Clients
from gate.errors import AwsError, ExitCode, IncompleteError, ScanNotReadyError
from gate.model import Finding
from gate.run import Plan, gather
from gate.sources.imagebuilder import ImageBuilderSource, newest_build
from tests.aws.fixtures import FakeTime, open_clients
from tests.emulator import Emulator, Faults, image_arn, image_scan_finding, pipeline_arn

IMAGE = image_arn()
LIST = "ListImageScanFindings"


def _findings(n: int) -> list[dict[str, Any]]:
    return [image_scan_finding(f"CVE-2024-{1000 + i}", package=f"pkg{i % 7}") for i in range(n)]


def _source(clients: Clients, fake: FakeTime, caller: Caller, **kwargs: Any) -> ImageBuilderSource:
    kwargs.setdefault("image_build_version_arn", IMAGE)
    return ImageBuilderSource(clients, sleep=fake.sleep, clock=fake.clock, caller=caller, **kwargs)


def _all(source: ImageBuilderSource) -> list[Finding]:
    return [f for page in source.pages() for f in page]


@pytest.fixture
def sixty(aws_env: Emulator) -> Emulator:
    aws_env.add_image(IMAGE, _findings(60))
    return aws_env


def test_lists_every_page_and_checks_the_count(sixty: Emulator, clients: Clients, fake_time: FakeTime,
                                               caller: Caller) -> None:
    source = _source(clients, fake_time, caller)
    pages = [list(p) for p in source.pages()]
    assert [len(p) for p in pages] == [25, 25, 10]
    assert [f.vulnerability_id for p in pages for f in p] == [f"CVE-2024-{1000 + i}" for i in range(60)]
    assert source.target == IMAGE
    assert source.calls() == {"imagebuilder:GetImage": 1, "imagebuilder:ListImageScanFindings": 3,
                              "imagebuilder:ListImageScanFindingAggregations": 1}
    listed = [c.params for c in sixty.calls if c.operation == LIST]
    assert all(p["filters"] == [{"name": "imageBuildVersionArn", "values": [IMAGE]}] for p in listed)
    assert all(p["maxResults"] == 25 for p in listed)
    assert sixty.violations == []


def test_an_image_without_findings_is_complete_and_empty(aws_env: Emulator, clients: Clients,
                                                         fake_time: FakeTime, caller: Caller) -> None:
    aws_env.add_image(IMAGE, [])
    assert _all(_source(clients, fake_time, caller)) == []


def test_disabled_scanning_is_not_ready(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                        caller: Caller) -> None:
    aws_env.add_image(IMAGE, [], scanning_enabled=False)
    with pytest.raises(ScanNotReadyError, match="scanning is disabled") as err:
        _all(_source(clients, fake_time, caller, wait_timeout=600))
    assert err.value.exit_code == ExitCode.INCOMPLETE
    assert fake_time.sleeps == []
    assert aws_env.count(LIST) == 0


@pytest.mark.parametrize("state", ["PENDING", "SCANNING", "COLLECTING"])
def test_an_unfinished_scan_without_waiting_is_not_ready(aws_env: Emulator, clients: Clients,
                                                         fake_time: FakeTime, caller: Caller, state: str) -> None:
    aws_env.add_image(IMAGE, _findings(3), scan_states=[state], scan_reason="still working")
    with pytest.raises(ScanNotReadyError, match=f"is {state} \\(still working\\), not COMPLETED") as err:
        _all(_source(clients, fake_time, caller))
    assert "--wait-timeout" in (err.value.hint or "")
    assert fake_time.sleeps == []
    assert aws_env.count(LIST) == 0


@pytest.mark.parametrize("state", ["PENDING", "SCANNING", "COLLECTING"])
def test_an_unfinished_scan_is_polled_until_completed(aws_env: Emulator, clients: Clients,
                                                      fake_time: FakeTime, caller: Caller, state: str) -> None:
    aws_env.add_image(IMAGE, _findings(3), scan_states=["PENDING", state, state, "COMPLETED"])
    messages: list[str] = []
    source = _source(clients, fake_time, caller, wait_timeout=600, poll_interval=15, progress=messages.append)
    assert len(_all(source)) == 3
    assert fake_time.sleeps == [15, 15, 15]
    assert aws_env.count("GetImage") == 4
    assert len(messages) == 3
    assert state in messages[-1]


@pytest.mark.parametrize("state", ["PENDING", "SCANNING", "COLLECTING"])
def test_waiting_gives_up_at_the_timeout(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                         caller: Caller, state: str) -> None:
    aws_env.add_image(IMAGE, _findings(3), scan_states=[state])
    source = _source(clients, fake_time, caller, wait_timeout=40, poll_interval=15)
    with pytest.raises(ScanNotReadyError, match=f"is {state}, not COMPLETED after waiting 40s"):
        _all(source)
    assert fake_time.sleeps == [15, 15, 10]
    assert aws_env.count(LIST) == 0


@pytest.mark.parametrize("state", ["ABANDONED", "FAILED", "TIMED_OUT"])
def test_a_scan_that_ended_badly_is_not_ready(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                              caller: Caller, state: str) -> None:
    aws_env.add_image(IMAGE, _findings(3), scan_states=[state], scan_reason="instance terminated")
    with pytest.raises(ScanNotReadyError, match=f"ended {state} \\(instance terminated\\)"):
        _all(_source(clients, fake_time, caller, wait_timeout=600))
    assert fake_time.sleeps == []


def test_rate_limiting_is_retried_with_backoff(sixty: Emulator, clients: Clients, fake_time: FakeTime,
                                               caller: Caller) -> None:
    sixty.faults = Faults(throttle_first={LIST: 2, "GetImage": 1})
    assert len(_all(_source(clients, fake_time, caller))) == 60
    assert len(fake_time.sleeps) == 3
    assert sixty.count(LIST, status=429) == 2


def test_rate_limiting_beyond_the_retries_names_the_operation(sixty: Emulator, clients: Clients,
                                                              fake_time: FakeTime, caller: Caller) -> None:
    sixty.faults = Faults(throttle_first={LIST: 100})
    with pytest.raises(AwsError, match="imagebuilder:ListImageScanFindings still failed with "
                       "CallRateLimitExceededException after 4 attempts"):
        _all(_source(clients, fake_time, caller))
    assert sixty.count(LIST) == 4


def test_backoff_is_bounded_in_total_time(sixty: Emulator, clients: Clients, fake_time: FakeTime) -> None:
    sixty.faults = Faults(throttle_first={"GetImage": 100})
    slow = Caller(Backoff(base=10, cap=100, max_attempts=50, max_elapsed=60, random=lambda: 1.0,
                          sleep=fake_time.sleep, clock=fake_time.clock))
    with pytest.raises(AwsError, match="imagebuilder:GetImage"):
        _all(_source(clients, fake_time, slow))
    assert fake_time.sleeps == [10, 20]
    assert sum(fake_time.sleeps) <= 60


@pytest.mark.parametrize("unavailable", [False, True])
def test_server_errors_are_retried_by_botocore(sixty: Emulator, clients: Clients, fake_time: FakeTime,
                                               caller: Caller, unavailable: bool) -> None:
    sixty.faults = Faults(error_first={"GetImage": 2, LIST: 1}, unavailable=unavailable)
    assert len(_all(_source(clients, fake_time, caller))) == 60
    assert sixty.count("GetImage", status=503 if unavailable else 500) == 2
    assert fake_time.sleeps == []


def test_persistent_server_errors_name_the_operation(aws_env: Emulator, fake_time: FakeTime,
                                                     caller: Caller) -> None:
    aws_env.add_image(IMAGE, _findings(3))
    aws_env.faults = Faults(error_first={"GetImage": 10})
    clients = open_clients(max_attempts=2)
    try:
        with pytest.raises(AwsError, match=r"imagebuilder:GetImage failed with ServiceException \(HTTP 500\)"):
            _all(_source(clients, fake_time, caller))
    finally:
        clients.close()
    assert aws_env.count("GetImage") == 2


@pytest.mark.parametrize("operation", ["GetImage", LIST, "ListImageScanFindingAggregations"])
def test_forbidden_names_the_missing_iam_action(sixty: Emulator, clients: Clients, fake_time: FakeTime,
                                                caller: Caller, operation: str) -> None:
    sixty.faults = Faults(forbidden={operation})
    with pytest.raises(AwsError, match=f"AWS denied imagebuilder:{operation}: ForbiddenException") as err:
        _all(_source(clients, fake_time, caller))
    assert err.value.hint == f"grant the IAM action imagebuilder:{operation} to the role or user gate runs as"
    assert sixty.count(operation) == 1


def test_an_unknown_image_is_an_aws_error(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                          caller: Caller) -> None:
    with pytest.raises(AwsError, match="ResourceNotFoundException") as err:
        _all(_source(clients, fake_time, caller))
    assert "--region" in (err.value.hint or "")


@pytest.mark.parametrize("page", [1, 2])
def test_a_rejected_token_restarts_the_listing_once_without_double_counting(
    sixty: Emulator, clients: Clients, fake_time: FakeTime, caller: Caller, page: int
) -> None:
    sixty.faults = Faults(invalid_token_once={LIST: page})
    messages: list[str] = []
    source = _source(clients, fake_time, caller, progress=messages.append)
    findings = _all(source)
    assert len(findings) == 60
    assert sorted(f.vulnerability_id for f in findings) == [f"CVE-2024-{1000 + i}" for i in range(60)]
    assert sixty.count(LIST) == page + 1 + 3
    assert any("listing again" in m for m in messages)


def test_a_restart_keeps_genuine_duplicates(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                            caller: Caller) -> None:
    twice = image_scan_finding("CVE-2024-7777")
    aws_env.add_image(IMAGE, [twice, *_findings(30), twice])
    aws_env.faults = Faults(invalid_token_once={LIST: 1})
    findings = _all(_source(clients, fake_time, caller))
    assert len(findings) == 32
    assert [f.vulnerability_id for f in findings].count("CVE-2024-7777") == 2


def test_a_second_rejected_token_is_an_error(sixty: Emulator, clients: Clients, fake_time: FakeTime,
                                             caller: Caller) -> None:
    sixty.faults = Faults(invalid_token_always={LIST: 1})
    with pytest.raises(AwsError, match="rejected a nextToken again after restarting"):
        _all(_source(clients, fake_time, caller))


def test_a_repeated_token_is_an_error(sixty: Emulator, clients: Clients, fake_time: FakeTime,
                                      caller: Caller) -> None:
    sixty.faults = Faults(repeat_token={LIST: 1})
    with pytest.raises(AwsError, match="returned the same nextToken twice") as err:
        _all(_source(clients, fake_time, caller))
    assert err.value.exit_code == ExitCode.INCOMPLETE


def test_a_count_mismatch_names_both_numbers(sixty: Emulator, clients: Clients, fake_time: FakeTime,
                                             caller: Caller) -> None:
    sixty.faults = Faults(aggregation_offset=2)
    with pytest.raises(IncompleteError, match=f"listed 60 findings for {IMAGE} but Image Builder counts 62"):
        _all(_source(clients, fake_time, caller))


def test_gather_fails_closed_on_a_count_mismatch(sixty: Emulator, clients: Clients, fake_time: FakeTime,
                                                 caller: Caller) -> None:
    sixty.faults = Faults(aggregation_offset=1)
    with pytest.raises(IncompleteError):
        gather(Plan(source=_source(clients, fake_time, caller)))


def test_a_pipeline_resolves_to_its_newest_build(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                                 caller: Caller) -> None:
    pipeline = pipeline_arn()
    builds = {
        image_arn(version="1.0.0", build=1): "2025-01-10T00:00:00.000Z",
        image_arn(version="1.0.0", build=2): "2025-03-01T00:00:00.000Z",
        image_arn(version="1.0.1", build=1): "2025-02-01T00:00:00.000Z",
    }
    for arn, created in builds.items():
        aws_env.add_image(arn, _findings(2), pipeline_arn=pipeline, date_created=created)
    arn = newest_build(clients, pipeline, caller=caller)
    assert arn == image_arn(version="1.0.0", build=2)
    assert aws_env.count("ListImagePipelineImages") == 1
    source = _source(clients, fake_time, caller, image_build_version_arn=arn)
    assert {f.image_build_version_arn for f in _all(source)} == {image_arn(version="1.0.0", build=2)}


def test_an_unknown_pipeline_is_an_error(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                         caller: Caller) -> None:
    with pytest.raises(AwsError, match="imagebuilder:ListImagePipelineImages"):
        newest_build(clients, pipeline_arn(), caller=caller)


def _pages(source: ImageBuilderSource) -> Iterator[int]:
    for page in source.pages():
        yield len(page)
