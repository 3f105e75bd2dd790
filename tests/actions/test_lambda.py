"""The Lambda entry point: the library's decide path, driven by the event and the function's environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.lambda_handler import handler
from tests.actions.seed import ACCOUNT, CRITICAL, event, seed
from tests.emulator import Emulator


def test_the_handler_marks_and_resumes_a_passing_build(aws_env: Emulator, isolated_env: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    build = seed(aws_env, isolated_env)
    monkeypatch.setenv("GATE_POLICY", str(build.policy))
    monkeypatch.setenv("GATE_WATERMARK", "gate-passed")
    monkeypatch.setenv("GATE_WAIT_TIMEOUT", "0")
    answer = handler(event(build.arn, build.step), None)
    assert (answer["verdict"], answer["exitCode"]) == ("pass", 0)
    assert [(a["action"], a["status"]) for a in answer["actions"]] == [
        ("watermark", "done"), ("watermark", "done"), ("workflow-step", "done")]
    assert aws_env.step(build.step).action == "RESUME"
    assert [m["WatermarkKey"] for m in aws_env.ami(build.ami)["ImageWatermarks"]] == [f"{ACCOUNT}:gate-passed"]


def test_the_handler_stops_a_failing_build(aws_env: Emulator, isolated_env: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    build = seed(aws_env, isolated_env, failing=True)
    monkeypatch.setenv("GATE_POLICY", str(build.policy))
    monkeypatch.setenv("GATE_WAIT_TIMEOUT", "0")
    answer = handler(event(build.arn, build.step), None)
    assert (answer["verdict"], answer["exitCode"]) == ("fail", 1)
    step = aws_env.step(build.step)
    assert step.action == "STOP" and all(cve in (step.reason or "") for cve in CRITICAL)


def test_the_handler_stops_the_step_when_the_policy_is_broken(aws_env: Emulator, isolated_env: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    build = seed(aws_env, isolated_env)
    monkeypatch.setenv("GATE_POLICY", str(isolated_env / "absent.yaml"))
    monkeypatch.setenv("GATE_WAIT_TIMEOUT", "0")
    answer = handler(event(build.arn, build.step), None)
    assert answer["verdict"] == "error" and answer["exitCode"] in (2, 3)
    assert aws_env.step(build.step).action == "STOP"


@pytest.mark.parametrize("change", [{"detail-type": "EC2 Image Builder Image State Change"}, {"source": "aws.ec2"}],
                         ids=["detail-type", "source"])
def test_the_handler_refuses_other_events_and_sends_nothing(aws_env: Emulator, isolated_env: Path,
                                                            change: dict[str, str]) -> None:
    build = seed(aws_env, isolated_env)
    answer = handler(event(build.arn, build.step, **change), None)
    assert (answer["verdict"], answer["exitCode"]) == ("error", 2)
    assert aws_env.calls == []


def test_the_handler_on_an_actioned_step_is_exit_3(aws_env: Emulator, isolated_env: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    build = seed(aws_env, isolated_env)
    aws_env.step(build.step).status = "COMPLETED"
    monkeypatch.setenv("GATE_WAIT_TIMEOUT", "0")
    answer = handler(event(build.arn, build.step), None)
    assert (answer["verdict"], answer["exitCode"]) == ("error", 3)
    assert "not waiting" in answer["error"]
    assert aws_env.count("SendWorkflowStepAction") == aws_env.count("GetImage") == 0


def test_a_bad_wait_timeout_is_exit_2(aws_env: Emulator, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = seed(aws_env, isolated_env)
    monkeypatch.setenv("GATE_WAIT_TIMEOUT", "20m")  # longer than a Lambda can run
    assert handler(event(build.arn, build.step), None)["exitCode"] == 2
    assert aws_env.calls == []
