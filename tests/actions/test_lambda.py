"""The Lambda entry point: the library's decide path, driven by the event and the function's environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gate.lambda_handler import HandlerError, handler, respond
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
    answer = respond(event(build.arn, build.step), os.environ)
    assert answer["verdict"] == "error" and answer["exitCode"] in (2, 3)
    assert aws_env.step(build.step).action == "STOP"


@pytest.mark.parametrize("change", [{"detail-type": "EC2 Image Builder Image State Change"}, {"source": "aws.ec2"}],
                         ids=["detail-type", "source"])
def test_the_handler_refuses_other_events_and_sends_nothing(aws_env: Emulator, isolated_env: Path,
                                                            change: dict[str, str]) -> None:
    build = seed(aws_env, isolated_env)
    answer = respond(event(build.arn, build.step, **change), os.environ)
    assert (answer["verdict"], answer["exitCode"]) == ("error", 2)
    assert aws_env.calls == []


def test_the_handler_on_an_actioned_step_is_exit_3(aws_env: Emulator, isolated_env: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    build = seed(aws_env, isolated_env)
    aws_env.step(build.step).status = "COMPLETED"
    monkeypatch.setenv("GATE_WAIT_TIMEOUT", "0")
    answer = respond(event(build.arn, build.step), os.environ)
    assert (answer["verdict"], answer["exitCode"]) == ("error", 3)
    assert "not waiting" in answer["error"]
    assert aws_env.count("SendWorkflowStepAction") == aws_env.count("GetImage") == 0


WARNS = ("version: 1\nname: medium-warns\nrules:\n  - {id: critical, when: 'severity == \"CRITICAL\"', action: fail}\n"
         "  - {id: medium, when: 'severity == \"MEDIUM\"', action: warn}\n")


def test_gate_fail_on_warn_stops_a_build_with_warnings(aws_env: Emulator, isolated_env: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The function's settings are the CLI's GATE_* names: --fail-on warn must hold the build, not resume it."""
    build = seed(aws_env, isolated_env)
    build.policy.write_text(WARNS)
    monkeypatch.setenv("GATE_POLICY", str(build.policy))
    monkeypatch.setenv("GATE_WAIT_TIMEOUT", "0")
    monkeypatch.setenv("GATE_FAIL_ON", "warn")
    answer = respond(event(build.arn, build.step), os.environ)
    assert (answer["verdict"], answer["exitCode"]) == ("pass", 1)
    step = aws_env.step(build.step)
    assert step.action == "STOP" and "--fail-on warn" in (step.reason or "")


@pytest.mark.parametrize("setting", [("GATE_FAIL_ON", "sometimes"), ("GATE_VEX", "/var/task/vex.json"),
                                     ("GATE_WAIT_TIMEOUT", "20m"), ("GATE_WATERMARK", "x*")],
                         ids=["bad-fail-on", "unread-setting", "wait-too-long", "bad-watermark"])
def test_a_setting_the_function_cannot_honour_stops_the_step(aws_env: Emulator, isolated_env: Path,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             setting: tuple[str, str]) -> None:
    """Nobody watches a Lambda: a setting it would ignore or cannot read is exit 2 and the held build is stopped."""
    build = seed(aws_env, isolated_env)
    monkeypatch.setenv("GATE_POLICY", str(build.policy))
    monkeypatch.setenv("GATE_WAIT_TIMEOUT", "0")
    monkeypatch.setenv(*setting)
    answer = respond(event(build.arn, build.step), os.environ)
    assert (answer["verdict"], answer["exitCode"]) == ("error", 2)
    assert setting[0] in answer["error"]
    step = aws_env.step(build.step)
    assert step.action == "STOP" and setting[0] in (step.reason or "")
    assert aws_env.count("ListImageScanFindings") == 0


def test_the_handler_fails_the_invocation_when_gate_could_not_decide(aws_env: Emulator, isolated_env: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Exit 2 or 3 is a failed invocation (Lambda's Errors metric, its retries, an on-failure destination)."""
    build = seed(aws_env, isolated_env)
    aws_env.step(build.step).status = "TIMED_OUT"
    monkeypatch.setenv("GATE_WAIT_TIMEOUT", "0")
    with pytest.raises(HandlerError, match="not waiting") as raised:
        handler(event(build.arn, build.step), None)
    assert raised.value.exit_code == 3
    failing = seed(aws_env, isolated_env, failing=True, name="failing")
    monkeypatch.setenv("GATE_POLICY", str(failing.policy))
    assert handler(event(failing.arn, failing.step), None)["exitCode"] == 1  # a verdict is a success
