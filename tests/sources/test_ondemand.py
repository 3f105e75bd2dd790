"""The on-demand AMI scan path against the emulator: choosing it, waiting for the scan, every page, every fault."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from gate.aws.retry import Caller
from gate.aws.session import Clients
from gate.errors import AwsError, ExitCode, GateError, IncompleteError, ScanNotReadyError
from gate.live import LiveSource, open_live_source
from gate.model import Finding
from gate.sources.imagebuilder import ImageBuilderSource
from gate.sources.ondemand import OnDemandSource
from tests.aws.fixtures import FakeTime
from tests.emulator import Emulator, Faults, image_arn, image_finding, image_scan_finding

IMAGE = image_arn()
ON_DEMAND = ["ON_DEMAND_AMI_CVE"]
FINDINGS = "GetImageFindings"


def _ec2(n: int) -> list[dict[str, Any]]:
    severities = ["critical", "high", "medium", "low", "informational"]
    return [image_finding(f"CVE-2024-{1000 + i}", severities[i % 5], package=f"pkg{i % 7}", fix=i % 2 == 0)
            for i in range(n)]


def _open(clients: Clients, fake: FakeTime, caller: Caller, progress: list[str] | None = None,
          **kwargs: Any) -> LiveSource:
    return open_live_source(clients, IMAGE, sleep=fake.sleep, clock=fake.clock, caller=caller,
                            progress=progress.append if progress is not None else None, **kwargs)


def _small_pages(clients: Clients, fake: FakeTime, caller: Caller, progress: list[str] | None = None,
                 **kwargs: Any) -> OnDemandSource:
    """The source with pages of 10, so pagination faults need few findings (the API takes 1..1000)."""
    image = clients.imagebuilder.get_image(imageBuildVersionArn=IMAGE)["image"]
    return OnDemandSource(clients, image_build_version_arn=IMAGE, image=image, sleep=fake.sleep, clock=fake.clock,
                          caller=caller, progress=progress.append if progress is not None else None, page_size=10,
                          **kwargs)


def _all(source: LiveSource) -> list[Finding]:
    return [f for page in source.pages() for f in page]


def _seed(emu: Emulator, findings: Sequence[dict[str, Any]] = (), **scan: Any) -> str:
    emu.add_image(IMAGE, [], scanning_types=ON_DEMAND)
    emu.add_ondemand_scan(emu.ami_of(IMAGE), findings, **scan)
    return emu.ami_of(IMAGE)


@pytest.mark.slow
def test_reads_every_page_of_a_successful_scan(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                               caller: Caller) -> None:
    ami = _seed(aws_env, _ec2(2001))
    source = _open(clients, fake_time, caller)
    assert isinstance(source, OnDemandSource)
    pages = [list(p) for p in source.pages()]
    assert [len(p) for p in pages] == [1000, 1000, 1]
    assert [f.vulnerability_id for p in pages for f in p] == [f"CVE-2024-{1000 + i}" for i in range(2001)]
    first = pages[0][0]
    assert (first.severity, first.fix_available, first.package_names) == ("CRITICAL", "YES", ("pkg0",))
    assert first.image_build_version_arn == IMAGE
    assert source.calls() == {"imagebuilder:GetImage": 1, "inspector2:ListOnDemandScans": 1,
                              "ec2:GetImageFindings": 3}
    sent = [c.params for c in aws_env.calls if c.operation == FINDINGS]
    assert all(p["ImageId"] == ami and p["MaxResults"] == 1000 for p in sent)
    assert aws_env.violations == []


def test_a_clean_ami_is_complete_and_empty(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                           caller: Caller) -> None:
    _seed(aws_env, [])
    assert _all(_open(clients, fake_time, caller)) == []
    assert aws_env.count(FINDINGS) == 1


def test_the_test_instance_path_is_chosen_without_a_second_get_image(
        aws_env: Emulator, clients: Clients, fake_time: FakeTime, caller: Caller) -> None:
    aws_env.add_image(IMAGE, [image_scan_finding("CVE-2024-1")], scanning_types=["TEST_INSTANCE_CVE"])
    source = _open(clients, fake_time, caller)
    assert isinstance(source, ImageBuilderSource)
    assert [f.vulnerability_id for f in _all(source)] == ["CVE-2024-1"]
    assert aws_env.count("GetImage") == 1
    assert aws_env.count(FINDINGS) == 0


def test_a_container_image_stays_on_the_image_builder_path(aws_env: Emulator, clients: Clients,
                                                           fake_time: FakeTime, caller: Caller) -> None:
    aws_env.add_image(IMAGE, [image_scan_finding("CVE-2024-2")], image_type="DOCKER", scanning_types=ON_DEMAND)
    assert isinstance(_open(clients, fake_time, caller), ImageBuilderSource)


def test_image_builder_source_refuses_an_on_demand_image(aws_env: Emulator, clients: Clients,
                                                         fake_time: FakeTime, caller: Caller) -> None:
    _seed(aws_env, _ec2(3))
    source = ImageBuilderSource(clients, image_build_version_arn=IMAGE, sleep=fake_time.sleep,
                                clock=fake_time.clock, caller=caller)
    with pytest.raises(ScanNotReadyError, match="ON_DEMAND_AMI_CVE: its findings are not in") as err:
        _all(source)
    assert err.value.exit_code == ExitCode.INCOMPLETE
    assert aws_env.count("ListImageScanFindings") == 0


def test_an_unfinished_scan_without_waiting_is_not_ready(aws_env: Emulator, clients: Clients,
                                                         fake_time: FakeTime, caller: Caller) -> None:
    _seed(aws_env, _ec2(3), statuses=["IN_PROGRESS"])
    with pytest.raises(ScanNotReadyError, match=r"is IN_PROGRESS, not SUCCESSFUL$") as err:
        _all(_open(clients, fake_time, caller))
    assert err.value.exit_code == ExitCode.INCOMPLETE
    assert "--wait-timeout" in (err.value.hint or "")
    assert aws_env.count(FINDINGS) == 0
    assert fake_time.sleeps == []


def test_waits_for_the_scan_with_progress(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                          caller: Caller) -> None:
    _seed(aws_env, _ec2(4), statuses=["IN_PROGRESS", "IN_PROGRESS", "SUCCESSFUL"])
    progress: list[str] = []
    found = _all(_open(clients, fake_time, caller, progress, wait_timeout=600))
    assert len(found) == 4
    assert fake_time.sleeps == [15, 15]
    assert len(progress) == 2 and all("IN_PROGRESS, not SUCCESSFUL; checking again in 15s" in m for m in progress)
    assert aws_env.count("ListOnDemandScans") == 1
    assert aws_env.count("GetOnDemandScanStatus") == 2
    assert aws_env.violations == []


def test_gives_up_when_the_wait_runs_out(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                         caller: Caller) -> None:
    _seed(aws_env, _ec2(2), statuses=["IN_PROGRESS"])
    with pytest.raises(ScanNotReadyError, match="IN_PROGRESS, not SUCCESSFUL after waiting 40s"):
        _all(_open(clients, fake_time, caller, wait_timeout=40))
    assert sum(fake_time.sleeps) == 40
    assert aws_env.count(FINDINGS) == 0


def test_a_failed_scan_names_its_reason(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                        caller: Caller) -> None:
    _seed(aws_env, _ec2(2), statuses=["FAILED"], reason="UNSUPPORTED_OS")
    with pytest.raises(ScanNotReadyError, match="ended FAILED \\(UNSUPPORTED_OS\\)") as err:
        _all(_open(clients, fake_time, caller, wait_timeout=600))
    assert err.value.exit_code == ExitCode.INCOMPLETE
    assert fake_time.sleeps == []
    assert aws_env.count(FINDINGS) == 0


def test_no_scan_at_all_is_never_an_empty_listing(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                                  caller: Caller) -> None:
    _seed(aws_env, _ec2(5), statuses=())
    with pytest.raises(ScanNotReadyError, match="there is no on-demand scan of ami-") as err:
        _all(_open(clients, fake_time, caller, wait_timeout=600))
    assert err.value.exit_code == ExitCode.INCOMPLETE
    assert aws_env.count(FINDINGS) == 0


def test_the_newest_scan_decides(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                 caller: Caller) -> None:
    ami = _seed(aws_env, _ec2(2))
    aws_env.add_ondemand_scan(ami, _ec2(2), statuses=["FAILED"], reason="INTERNAL_ERROR",
                              started_at="2025-01-16T00:00:00.000Z")
    with pytest.raises(ScanNotReadyError, match="INTERNAL_ERROR"):
        _all(_open(clients, fake_time, caller))


def test_a_build_without_its_ami_yet_waits_then_gives_up(aws_env: Emulator, clients: Clients,
                                                         fake_time: FakeTime, caller: Caller) -> None:
    aws_env.add_image(IMAGE, [], scanning_types=ON_DEMAND, status="BUILDING")
    progress: list[str] = []
    with pytest.raises(ScanNotReadyError, match="has no output AMI in us-east-1 yet after waiting 30s"):
        _all(_open(clients, fake_time, caller, progress, wait_timeout=30))
    assert aws_env.count("GetImage") == 3
    assert progress and "no output AMI" in progress[0]


def test_only_the_build_region_ami_is_read(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                           caller: Caller) -> None:
    copy = {"region": "eu-west-1", "image": "ami-0123456789abcdef0", "accountId": "123456789012"}
    aws_env.add_image(IMAGE, [], scanning_types=ON_DEMAND, extra_amis=[copy])
    aws_env.add_ondemand_scan(aws_env.ami_of(IMAGE), _ec2(3))
    source = _open(clients, fake_time, caller)
    assert len(_all(source)) == 3
    assert isinstance(source, OnDemandSource) and source.ami == aws_env.ami_of(IMAGE)
    assert {c.params["ImageId"] for c in aws_env.calls if c.operation == FINDINGS} == {source.ami}


def test_two_amis_in_the_build_region_are_ambiguous(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                                    caller: Caller) -> None:
    twin = {"region": "us-east-1", "image": "ami-0123456789abcdef0", "accountId": "123456789012"}
    aws_env.add_image(IMAGE, [], scanning_types=ON_DEMAND, extra_amis=[twin])
    with pytest.raises(ScanNotReadyError, match="lists 2 output AMIs in us-east-1"):
        _all(_open(clients, fake_time, caller))


@pytest.mark.parametrize(("operation", "action"), [("GetImageFindings", "ec2:GetImageFindings"),
                                                   ("ListOnDemandScans", "inspector2:ListOnDemandScans")])
def test_access_denied_names_the_iam_action(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                            caller: Caller, operation: str, action: str) -> None:
    _seed(aws_env, _ec2(2))
    aws_env.faults = Faults(forbidden=frozenset({operation}))
    with pytest.raises(AwsError, match=f"AWS denied {action}") as err:
        _all(_open(clients, fake_time, caller))
    assert err.value.exit_code == ExitCode.INCOMPLETE
    assert f"grant the IAM action {action}" in (err.value.hint or "")


def test_a_rejected_token_restarts_once_without_repeats(aws_env: Emulator, clients: Clients,
                                                        fake_time: FakeTime, caller: Caller) -> None:
    _seed(aws_env, _ec2(25))
    aws_env.faults = Faults(invalid_token_once={FINDINGS: 2})
    progress: list[str] = []
    found = _all(_small_pages(clients, fake_time, caller, progress))
    assert sorted(f.vulnerability_id for f in found) == sorted(f"CVE-2024-{1000 + i}" for i in range(25))
    assert any("rejected a pagination token" in m for m in progress)
    assert aws_env.count(FINDINGS) == 6  # 3 pages, the third's token refused, then 3 again


def test_a_token_rejected_again_is_an_error(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                            caller: Caller) -> None:
    _seed(aws_env, _ec2(25))
    aws_env.faults = Faults(invalid_token_always={FINDINGS: 1})
    with pytest.raises(AwsError, match="rejected a NextToken again") as err:
        _all(_small_pages(clients, fake_time, caller))
    assert err.value.exit_code == ExitCode.INCOMPLETE


def test_a_repeated_token_is_an_error_not_a_loop(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                                 caller: Caller) -> None:
    _seed(aws_env, _ec2(35))
    aws_env.faults = Faults(repeat_token={FINDINGS: 1})
    with pytest.raises(GateError, match="returned the same nextToken twice") as err:
        _all(_small_pages(clients, fake_time, caller))
    assert err.value.exit_code == ExitCode.INCOMPLETE
    assert aws_env.count(FINDINGS) == 2


def test_latency_changes_nothing(aws_env: Emulator, clients: Clients, fake_time: FakeTime, caller: Caller) -> None:
    _seed(aws_env, _ec2(10))
    aws_env.faults = Faults(latency_by_operation={FINDINGS: 0.05, "ListOnDemandScans": 0.05})
    assert len(_all(_open(clients, fake_time, caller))) == 10
    assert aws_env.latency_served[FINDINGS] > 0


def test_a_title_whose_first_word_is_no_id_stops_the_run(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                                         caller: Caller) -> None:
    hostile = "::error::pwned\r\n\u202eno dash here"
    _seed(aws_env, [image_finding("CVE-2024-9", "critical", title=hostile)])
    with pytest.raises(AwsError, match=r"first word '::error::pwned' is not a vulnerability id"):
        _all(_open(clients, fake_time, caller))


def test_server_errors_are_retried_by_botocore(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                              caller: Caller) -> None:
    _seed(aws_env, _ec2(10))
    aws_env.faults = Faults(error_first={FINDINGS: 1, "ListOnDemandScans": 1},
                            throttle_first={FINDINGS: 1})
    assert len(_all(_open(clients, fake_time, caller))) == 10
    assert aws_env.count(FINDINGS, status=200) == 1


def test_a_missing_ami_is_reported(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                   caller: Caller) -> None:
    aws_env.add_image(IMAGE, [], scanning_types=ON_DEMAND)
    source = _open(clients, fake_time, caller)
    assert isinstance(source, OnDemandSource)
    with pytest.raises(IncompleteError, match="there is no on-demand scan"):
        _all(source)


def test_the_output_amis_are_known_for_vex(aws_env: Emulator, clients: Clients, fake_time: FakeTime,
                                           caller: Caller) -> None:
    ami = _seed(aws_env, _ec2(3))
    source = _open(clients, fake_time, caller)
    assert isinstance(source, OnDemandSource)
    _all(source)
    assert source.output_amis == (ami,)
