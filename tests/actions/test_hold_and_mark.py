"""The verdict acts: a held build is resumed and its AMIs marked on a pass, stopped and unmarked otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.actions.workflow_step import client_token
from gate.cli.main import main
from gate.errors import ExitCode
from tests.actions.seed import ACCOUNT, CRITICAL, check, event, report, seed, write_event
from tests.emulator import Emulator, Faults

KEY = f"{ACCOUNT}:gate-passed"


def marks(emulator: Emulator, ami: str) -> list[str]:
    return [m["WatermarkKey"] for m in emulator.ami(ami).get("ImageWatermarks", [])]


def test_a_passing_build_is_marked_then_resumed(aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env)
    out = isolated_env / "r.json"
    code = main(check(build, "--workflow-step", "auto", "--watermark", "gate-passed", "--report", f"json={out}"))
    assert code == ExitCode.PASS
    assert marks(aws_env, build.ami) == [KEY]
    assert marks(aws_env, build.copy) == [KEY]
    step = aws_env.step(build.step)
    assert (step.status, step.action, step.token) == ("COMPLETED", "RESUME", client_token(build.step))
    assert step.reason is not None and "PASS under policy critical-blocks" in step.reason
    actions = report(out)["actions"]
    assert [(a["action"], a["operation"], a["status"]) for a in actions] == [
        ("watermark", "attach", "done"), ("watermark", "attach", "done"), ("workflow-step", "RESUME", "done")]
    assert {a["target"] for a in actions[:2]} == {f"us-east-1 {build.ami}", f"eu-west-1 {build.copy}"}
    order = [c.operation for c in aws_env.calls]
    assert order.index("ListWaitingWorkflowSteps") < order.index("GetImage")  # prepared before the fetch
    assert order.index("AttachImageWatermark") < order.index("SendWorkflowStepAction")  # marked, then resumed
    assert aws_env.violations == []


def test_a_failing_build_is_stopped_with_its_cves_and_its_old_mark_removed(aws_env: Emulator,
                                                                           isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env, failing=True, copy_marks=(KEY,))
    aws_env.add_ami(build.ami, watermarks=(KEY, "999999999999:someone-else"))
    out = isolated_env / "r.json"
    code = main(check(build, "--workflow-step", "auto", "--watermark", "gate-passed", "--report", f"json={out}"))
    assert code == ExitCode.VIOLATION
    assert marks(aws_env, build.ami) == ["999999999999:someone-else"]
    assert marks(aws_env, build.copy) == []
    step = aws_env.step(build.step)
    assert (step.status, step.action) == ("FAILED", "STOP")
    assert step.reason is not None and "FAIL under policy critical-blocks" in step.reason
    assert all(cve in step.reason for cve in CRITICAL)
    assert report(out)["verdict"] == "fail"
    assert [(a["operation"], a["status"]) for a in report(out)["actions"]] == [
        ("detach", "done"), ("detach", "done"), ("STOP", "done")]
    assert aws_env.violations == []


def test_a_run_that_cannot_decide_stops_the_step(aws_env: Emulator, isolated_env: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    build = seed(aws_env, isolated_env)
    aws_env.faults = Faults(forbidden=frozenset({"ListImageScanFindings"}))
    out = isolated_env / "r.json"
    code = main(check(build, "--workflow-step", "auto", "--report", f"json={out}"))
    assert code == ExitCode.INCOMPLETE  # the findings cannot be read
    step = aws_env.step(build.step)
    assert (step.status, step.action) == ("FAILED", "STOP")
    assert step.reason is not None and step.reason.startswith("gate: gate could not decide")
    doc = report(out)
    assert doc["verdict"] == "error"
    assert [(a["operation"], a["status"]) for a in doc["actions"]] == [("STOP", "done")]
    assert "workflow-step: STOP" in capsys.readouterr().err


def test_the_event_names_the_build_and_the_step(aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env)
    path = write_event(isolated_env / "event.json", event(build.arn, build.step))
    code = main(["check", "--event", str(path), "--policy", str(build.policy), "--no-cached-feeds", "--no-cache",
                 "--wait-timeout", "0"])
    assert code == ExitCode.PASS
    assert aws_env.step(build.step).action == "RESUME"


def test_a_second_run_on_an_actioned_step_sends_nothing(aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env, failing=True)
    assert main(check(build, "--workflow-step", build.step)) == ExitCode.VIOLATION
    # Now the build would pass (say a VEX statement arrived): the step was stopped and must stay so.
    (isolated_env / "policy.yaml").write_text("version: 1\nrules:\n  - {id: never, when: 'false', action: fail}\n")
    sent = aws_env.count("SendWorkflowStepAction")
    assert main(check(build, "--workflow-step", build.step)) == ExitCode.INCOMPLETE
    assert main(check(build, "--workflow-step", "auto")) == ExitCode.INCOMPLETE
    assert aws_env.count("SendWorkflowStepAction") == sent
    assert aws_env.count("ListImageScanFindings") == 1  # the later runs stopped before any fetch
    assert aws_env.step(build.step).action == "STOP"
