"""Every refusal of the actions after the verdict, each with its exact exit code (README, "Fails closed")."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from gate.actions.workflow_step import client_token
from gate.cli.main import main
from gate.errors import ExitCode
from tests.actions.seed import ACCOUNT, OFFLINE, POLICY, check, event, report, seed, write_event
from tests.emulator import Emulator, Faults, image_arn

KEY = f"{ACCOUNT}:gate-passed"
OTHER_STEP = "step-0a1b2c3d-0000-4000-8000-00000000beef"


def marks(emulator: Emulator, ami: str) -> list[str]:
    return [m["WatermarkKey"] for m in emulator.ami(ami).get("ImageWatermarks", [])]


# -- the workflow step ------------------------------------------------------------------------------
def test_no_waiting_step_is_exit_3_before_any_fetch(aws_env: Emulator, isolated_env: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    build = seed(aws_env, isolated_env)
    aws_env.add_waiting_step(image_arn("another-build"))  # someone else's build waits; ours does not
    aws_env.step(build.step).status = "TIMED_OUT"
    assert main(check(build, "--workflow-step", "auto")) == ExitCode.INCOMPLETE
    assert "no WaitForAction step is waiting for" in capsys.readouterr().err
    assert aws_env.count("GetImage") == aws_env.count("ListImageScanFindings") == 0
    assert aws_env.count("SendWorkflowStepAction") == 0


def test_several_waiting_steps_with_auto_is_exit_2_listing_them(aws_env: Emulator, isolated_env: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    build = seed(aws_env, isolated_env)
    second = aws_env.add_waiting_step(build.arn, name="SecondWait")
    assert main(check(build, "--workflow-step", "auto")) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert build.step in err and second in err and "--workflow-step STEP_ID" in err
    assert aws_env.count("GetImage") == aws_env.count("SendWorkflowStepAction") == 0


def test_a_step_waiting_for_another_build_is_exit_3(aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env)
    other = aws_env.add_waiting_step(image_arn("another-build"))
    assert main(check(build, "--workflow-step", other)) == ExitCode.INCOMPLETE
    assert aws_env.step(other).status == "WAITING"
    assert aws_env.count("SendWorkflowStepAction") == aws_env.count("GetImage") == 0


def test_a_step_that_timed_out_is_exit_3(aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env)
    aws_env.step(build.step).status = "TIMED_OUT"
    assert main(check(build, "--workflow-step", build.step)) == ExitCode.INCOMPLETE
    assert aws_env.count("SendWorkflowStepAction") == 0


def test_a_step_actioned_after_the_listing_is_exit_3_with_the_verdict_in_the_report(
        aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env, name="raced")
    aws_env.step(build.step).status = "COMPLETED"  # a person resumed it while gate judged
    aws_env.step(build.step).action = "RESUME"
    aws_env.step(build.step).listed = True
    out = isolated_env / "r.json"
    assert main(check(build, "--workflow-step", "auto", "--report", f"json={out}")) == ExitCode.INCOMPLETE
    doc = report(out)
    assert doc["verdict"] == "pass"
    assert [(a["operation"], a["status"]) for a in doc["actions"]] == [("RESUME", "failed")]
    assert "not waiting for an action" in doc["actions"][0]["detail"]


def test_a_retry_that_decided_otherwise_is_refused_by_aws(aws_env: Emulator, isolated_env: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    build = seed(aws_env, isolated_env, failing=True, name="retried")
    step = "step-5f0c8a54-0000-4000-8000-000000000001"
    # An earlier gate run resumed this step with gate's token; the listing still shows it waiting.
    aws_env.add_waiting_step(build.arn, step_id=step, status="COMPLETED", action="RESUME",
                             reason="gate: verdict PASS", token=client_token(step), listed=True)
    aws_env.step(build.step).status = "COMPLETED"
    assert main(check(build, "--workflow-step", step)) == ExitCode.INCOMPLETE
    assert aws_env.step(step).action == "RESUME"  # no second, different action was taken
    assert "IdempotentParameterMismatchException" in capsys.readouterr().err
    assert aws_env.count("SendWorkflowStepAction", status=400) == 1


@pytest.mark.parametrize("operation", ["ListWaitingWorkflowSteps", "SendWorkflowStepAction"])
def test_access_denied_on_the_step_is_exit_3(aws_env: Emulator, isolated_env: Path, operation: str) -> None:
    build = seed(aws_env, isolated_env)
    aws_env.faults = Faults(forbidden=frozenset({operation}))
    out = isolated_env / "r.json"
    assert main(check(build, "--workflow-step", "auto", "--report", f"json={out}")) == ExitCode.INCOMPLETE
    assert aws_env.step(build.step).status == "WAITING"
    if operation == "SendWorkflowStepAction":  # judged: the report keeps the verdict and says what failed
        assert report(out)["verdict"] == "pass"
        assert report(out)["actions"][0]["status"] == "failed"
    else:
        assert aws_env.count("GetImage") == 0


@pytest.mark.parametrize("extra", [
    ["--workflow-step", "step-1"], ["--workflow-step", "AUTO"], ["--workflow-step", "auto\nstep"]],
    ids=["short-id", "upper-auto", "newline"])
def test_a_bad_workflow_step_value_is_exit_2(aws_env: Emulator, isolated_env: Path, extra: list[str]) -> None:
    build = seed(aws_env, isolated_env)
    assert main(check(build, *extra)) == ExitCode.USAGE
    assert aws_env.calls == []


def test_an_action_without_one_build_is_exit_2(aws_env: Emulator, isolated_env: Path) -> None:
    pipeline = "arn:aws:imagebuilder:us-east-1:123456789012:image-pipeline/demo"
    for option in (["--workflow-step", "auto"], ["--watermark", "gate-passed"]):
        assert main(["check", "--image-pipeline-arn", pipeline, *OFFLINE, *option]) == ExitCode.USAGE
    assert aws_env.calls == []


# -- the event --------------------------------------------------------------------------------------
@pytest.mark.parametrize("change", [
    {"detail-type": "EC2 Image Builder Image State Change"},
    {"source": "aws.ec2"},
    {"detail": {"workflow-step-execution-id": "step-../../etc"}},
    {"detail": "step-0a1b2c3d-0000-4000-8000-00000000beef"},
    {"resources": []},
    {"resources": "arn:aws:imagebuilder:us-east-1:123456789012:image/held/1.0.0/1"},
], ids=["detail-type", "source", "bad-step-id", "detail-not-object", "no-build", "resources-not-list"])
def test_an_event_that_is_not_a_waiting_step_is_exit_2(aws_env: Emulator, isolated_env: Path,
                                                       change: dict[str, object]) -> None:
    build = seed(aws_env, isolated_env)
    path = write_event(isolated_env / "e.json", event(build.arn, build.step, **change))
    assert main(["check", "--event", str(path), "--policy", str(build.policy), *OFFLINE]) == ExitCode.USAGE
    assert aws_env.calls == []


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe", b"[]", b""], ids=["cut", "not-utf8", "list", "empty"])
def test_an_event_that_is_not_json_is_exit_2(aws_env: Emulator, isolated_env: Path, body: bytes) -> None:
    build = seed(aws_env, isolated_env)
    path = isolated_env / "e.json"
    path.write_bytes(body)
    assert main(["check", "--event", str(path), "--policy", str(build.policy), *OFFLINE]) == ExitCode.USAGE
    assert aws_env.calls == []


def test_an_event_naming_another_build_or_step_is_exit_2(aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env)
    path = write_event(isolated_env / "e.json", event(build.arn, build.step))
    other = image_arn("other")
    assert main(["check", "--event", str(path), "--image-build-version-arn", other, *OFFLINE]) == ExitCode.USAGE
    assert main(["check", "--event", str(path), "--workflow-step", OTHER_STEP, *OFFLINE]) == ExitCode.USAGE
    assert aws_env.calls == []


def test_a_missing_or_endless_event_file_is_exit_3(aws_env: Emulator, isolated_env: Path) -> None:
    assert main(["check", "--event", str(isolated_env / "absent.json"), *OFFLINE]) == ExitCode.INCOMPLETE
    big = isolated_env / "big.json"
    big.write_bytes(b" " * (1024 * 1024 + 1))
    assert main(["check", "--event", str(big), *OFFLINE]) == ExitCode.INCOMPLETE
    assert aws_env.calls == []


# -- the watermark ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["ab", "x" * 129, "bad*name", "new\nline", "tab\there", "ünïcode"],
                         ids=["short", "long", "star", "newline", "tab", "non-ascii"])
def test_a_bad_watermark_name_is_exit_2(aws_env: Emulator, isolated_env: Path, name: str) -> None:
    build = seed(aws_env, isolated_env)
    assert main(check(build, "--watermark", name)) == ExitCode.USAGE
    assert aws_env.calls == []


def test_amis_that_cannot_carry_a_mark_are_skipped_and_the_build_still_resumes(aws_env: Emulator,
                                                                             isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env)
    aws_env.add_ami(build.ami, public=True)
    aws_env.add_ami(build.copy, region="eu-west-1", watermarks=[f"11112222333{n}:m" for n in range(5)])
    out = isolated_env / "r.json"
    code = main(check(build, "--watermark", "gate-passed", "--workflow-step", "auto", "--report", f"json={out}"))
    assert code == ExitCode.PASS
    assert KEY not in marks(aws_env, build.ami) and KEY not in marks(aws_env, build.copy)
    details = {a["target"]: (a["status"], a["detail"]) for a in report(out)["actions"]}
    here, there = details[f"us-east-1 {build.ami}"], details[f"eu-west-1 {build.copy}"]
    assert here[0] == "skipped" and "public" in here[1]
    assert there[0] == "skipped" and "5 watermarks" in there[1]
    assert aws_env.step(build.step).action == "RESUME"
    assert aws_env.count("AttachImageWatermark") == 0


def test_an_ami_of_another_account_is_skipped(aws_env: Emulator, isolated_env: Path) -> None:
    arn = image_arn("shared")
    aws_env.add_image(arn, [], extra_amis=[{"region": "us-east-1", "image": "ami-0ffffffffffffffff",
                                            "accountId": "999988887777"}])
    aws_env.add_ami(aws_env.ami_of(arn))
    aws_env.add_ami("ami-0ffffffffffffffff", owner="999988887777")
    policy = isolated_env / "p.yaml"
    policy.write_text("version: 1\nrules:\n  - {id: never, when: 'false', action: fail}\n")
    out = isolated_env / "r.json"
    code = main(["check", "--image-build-version-arn", arn, "--policy", str(policy), *OFFLINE,
                 "--watermark", "gate-passed", "--report", f"json={out}"])
    assert code == ExitCode.PASS
    skipped = [a for a in report(out)["actions"] if a["status"] == "skipped"]
    assert len(skipped) == 1 and "999988887777" in skipped[0]["detail"]
    assert marks(aws_env, aws_env.ami_of(arn)) == [KEY]


@pytest.mark.parametrize("operation", ["AttachImageWatermark", "DescribeImages"])
def test_an_ec2_error_on_a_markable_ami_is_exit_3_and_stops_the_build(aws_env: Emulator, isolated_env: Path,
                                                                      operation: str) -> None:
    build = seed(aws_env, isolated_env)
    aws_env.faults = Faults(forbidden=frozenset({operation}))
    out = isolated_env / "r.json"
    code = main(check(build, "--watermark", "gate-passed", "--workflow-step", "auto", "--report", f"json={out}"))
    assert code == ExitCode.INCOMPLETE
    doc = report(out)
    assert doc["verdict"] == "pass"
    assert [a["status"] for a in doc["actions"]][:3] == ["failed", "failed", "done"]
    assert [a["operation"] for a in doc["actions"]][3:] == ["detach", "detach"]  # the pass is withdrawn
    step = aws_env.step(build.step)
    assert step.action == "STOP" and step.reason is not None and "watermark failed" in step.reason


def test_a_detach_error_on_a_failing_build_is_exit_3(aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env, failing=True, copy_marks=(KEY,))
    aws_env.faults = Faults(forbidden=frozenset({"DetachImageWatermark"}))
    assert main(check(build, "--watermark", "gate-passed", "--workflow-step", "auto")) == ExitCode.INCOMPLETE
    assert marks(aws_env, build.copy) == [KEY]
    assert aws_env.step(build.step).action == "STOP"


def test_the_caller_unknown_is_exit_3_before_any_fetch(aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env)
    aws_env.faults = Faults(forbidden=frozenset({"GetCallerIdentity"}))
    assert main(check(build, "--watermark", "gate-passed", "--workflow-step", "auto")) == ExitCode.INCOMPLETE
    assert aws_env.count("GetImage") == aws_env.count("SendWorkflowStepAction") == 0


def test_hostile_text_in_an_aws_error_stays_inert_in_the_reason(aws_env: Emulator, isolated_env: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    build = seed(aws_env, isolated_env)
    aws_env.faults = Faults(forbidden=frozenset({"ListImageScanFindings"}),
                            error_message="denied\n::error::owned\r\x1b[31m\u202e" + "A" * 3000)
    assert main(check(build, "--workflow-step", "auto")) == ExitCode.INCOMPLETE
    reason = aws_env.step(build.step).reason or ""
    assert len(reason) <= 1024 and reason.isprintable() and "\u202e" not in reason
    err = capsys.readouterr().err
    assert all(not line.startswith("::error") for line in err.splitlines())


def test_the_report_json_lists_each_ami_once(aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env)
    out = isolated_env / "r.json"
    assert main(check(build, "--watermark", "gate-passed", "--report", f"json={out}")) == ExitCode.PASS
    targets = [a["target"] for a in json.loads(out.read_text())["actions"]]
    assert sorted(targets) == sorted({f"us-east-1 {build.ami}", f"eu-west-1 {build.copy}"})


# -- the Allowed AMIs criteria -----------------------------------------------------------------------
@pytest.mark.parametrize("settings", [
    {"ImageCriteria": [{"ImageProviders": [f"1234567890{n:02d}"]} for n in range(10)]},
    {"ImageCriteria": [{"ImageWatermarks": [{"WatermarkKey": f"1234567890{n:02d}:x"} for n in range(51)]}]},
    {"ImageCriteria": [{"ImageProviders": "amazon"}]},
    {"ImageCriteria": [{"ImageProvider": ["amazon"]}]},
    {"ImageCriteria": {"ImageProviders": ["amazon"]}},
    {"Images": []},
    [],
], ids=["eleven-criteria", "fifty-one-marks", "providers-not-list", "unknown-member", "criteria-not-list",
        "not-settings", "not-object"])
def test_existing_settings_that_cannot_be_kept_are_exit_2(tmp_path: Path, settings: object) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    assert main(["allowed-amis", "criteria", "--watermark", "gate-passed", "--account", "123456789012",
                 "--existing", str(path)]) == ExitCode.USAGE


# -- attacks on the landed feature: each was a hole ------------------------------------------------------
@pytest.mark.parametrize("operation", ["DescribeImages", "AttachImageWatermark"])
def test_a_cut_ec2_answer_stops_the_build_with_a_one_line_error(aws_env: Emulator, isolated_env: Path,
                                                                capsys: pytest.CaptureFixture[str],
                                                                operation: str) -> None:
    build = seed(aws_env, isolated_env, name="cut-ec2")
    aws_env.faults = Faults(cut_answer={operation: 0})
    out = isolated_env / "r.json"
    code = main(check(build, "--watermark", "gate-passed", "--workflow-step", "auto", "--report", f"json={out}"))
    assert code == ExitCode.INCOMPLETE
    err = capsys.readouterr().err
    assert "internal error" not in err and f"ec2:{operation}" in err
    step = aws_env.step(build.step)
    assert step.action == "STOP" and step.reason is not None and "watermark failed" in step.reason
    doc = report(out)
    assert doc["verdict"] == "pass"
    assert [a["status"] for a in doc["actions"] if a["action"] == "workflow-step"] == ["done"]


def test_marks_are_withdrawn_when_the_resume_is_refused(aws_env: Emulator, isolated_env: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Two runs raced on one step: the other one STOPped it. This pass's marks must not outlive the STOP."""
    build = seed(aws_env, isolated_env, name="raced-marks")
    step = aws_env.step(build.step)
    step.status, step.action, step.listed = "FAILED", "STOP", True
    step.reason, step.token = "gate: verdict FAIL", client_token(build.step)
    out = isolated_env / "r.json"
    code = main(check(build, "--watermark", "gate-passed", "--workflow-step", "auto", "--report", f"json={out}"))
    assert code == ExitCode.INCOMPLETE
    assert marks(aws_env, build.ami) == [] and marks(aws_env, build.copy) == []
    assert aws_env.step(build.step).action == "STOP"
    done = [(a["operation"], a["status"]) for a in report(out)["actions"]]
    assert done[:3] == [("attach", "done"), ("attach", "done"), ("RESUME", "failed")]
    assert done[3:] == [("detach", "done"), ("detach", "done")]
    assert "workflow-step failed" in capsys.readouterr().err


def test_a_mark_attached_before_a_failed_one_is_withdrawn(aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env, name="half-marked")
    aws_env.faults = Faults(cut_answer={"AttachImageWatermark": 1})  # the second attach is done, its answer cut
    code = main(check(build, "--watermark", "gate-passed", "--workflow-step", "auto"))
    assert code == ExitCode.INCOMPLETE
    assert aws_env.step(build.step).action == "STOP"
    assert marks(aws_env, build.ami) == [] and marks(aws_env, build.copy) == []


def test_a_failing_build_loses_a_mark_that_describe_images_does_not_list_yet(aws_env: Emulator,
                                                                              isolated_env: Path) -> None:
    """EC2 reads are eventually consistent: a mark attached a moment ago may not be listed. Detach regardless."""
    build = seed(aws_env, isolated_env, failing=True, name="lagging", copy_marks=(KEY,))
    aws_env.add_ami(build.ami, watermarks=(KEY,))
    aws_env.faults = Faults(lagging_watermarks=True)
    out = isolated_env / "r.json"
    assert main(check(build, "--watermark", "gate-passed", "--report", f"json={out}")) == ExitCode.VIOLATION
    assert marks(aws_env, build.ami) == [] and marks(aws_env, build.copy) == []
    assert [(a["operation"], a["status"]) for a in report(out)["actions"]] == [("detach", "done")] * 2


def test_a_cut_page_of_waiting_steps_is_exit_3_not_a_choice(aws_env: Emulator, isolated_env: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Two steps wait for the build (auto must refuse); the page naming the second is cut on the wire."""
    build = seed(aws_env, isolated_env, name="cut-listing")
    for n in range(24):
        aws_env.add_waiting_step(image_arn(f"other-{n}"))
    second = aws_env.add_waiting_step(build.arn, name="SecondWait")  # on page 2 (25 a page)
    aws_env.faults = Faults(cut_answer={"ListWaitingWorkflowSteps": 1})
    assert main(check(build, "--workflow-step", "auto")) == ExitCode.INCOMPLETE
    assert "ListWaitingWorkflowSteps" in capsys.readouterr().err
    assert aws_env.step(build.step).status == aws_env.step(second).status == "WAITING"
    assert aws_env.count("SendWorkflowStepAction") == aws_env.count("GetImage") == 0


def test_a_cut_answer_to_the_send_does_not_claim_nothing_was_sent(aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env, name="cut-send")
    aws_env.faults = Faults(cut_answer={"SendWorkflowStepAction": 0})
    out = isolated_env / "r.json"
    assert main(check(build, "--workflow-step", "auto", "--report", f"json={out}")) == ExitCode.INCOMPLETE
    assert aws_env.step(build.step).action == "RESUME"  # AWS took it; only the answer was lost
    sent = next(a for a in report(out)["actions"] if a["action"] == "workflow-step")
    assert sent["status"] == "failed"
    assert "not sent" not in sent["detail"] and "may have been" in sent["detail"]


def _duplicated_step(build_arn: str, step: str) -> bytes:
    text = json.dumps(event(build_arn, step))
    return text.replace('"workflow-step-execution-id"', f'"workflow-step-execution-id": "{OTHER_STEP}", '
                        '"workflow-step-execution-id"').encode()


@pytest.mark.parametrize("kind", ["deep", "duplicate-key", "nan"])
def test_an_ambiguous_or_absurd_event_is_exit_2_not_a_crash(aws_env: Emulator, isolated_env: Path,
                                                            capsys: pytest.CaptureFixture[str], kind: str) -> None:
    build = seed(aws_env, isolated_env)
    bodies = {"deep": b"[" * 100_000 + b"]" * 100_000, "duplicate-key": _duplicated_step(build.arn, build.step),
              "nan": json.dumps(event(build.arn, build.step, version=float("nan"))).encode()}
    path = isolated_env / "e.json"
    path.write_bytes(bodies[kind])
    assert main(["check", "--event", str(path), "--policy", str(build.policy), *OFFLINE]) == ExitCode.USAGE
    assert "internal error" not in capsys.readouterr().err
    assert aws_env.calls == []


@pytest.mark.parametrize("body", [b'{"ImageCriteria": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                                  b'{"ImageCriteria": [], "ImageCriteria": [{"ImageProviders": ["amazon"]}]}'],
                         ids=["deep", "duplicate-key"])
def test_existing_settings_nested_absurdly_or_ambiguous_are_exit_2(tmp_path: Path, body: bytes,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(body)
    assert main(["allowed-amis", "criteria", "--watermark", "gate-passed", "--account", "123456789012",
                 "--existing", str(path)]) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.out == "" and "internal error" not in captured.err


@pytest.mark.parametrize("operation", ["ListImageScanFindings", "AttachImageWatermark"],
                         ids=["while-judging", "while-marking"])
def test_a_run_cancelled_by_sigterm_stops_the_step_and_leaves_no_mark(aws_env: Emulator, isolated_env: Path,
                                                                       capsys: pytest.CaptureFixture[str],
                                                                       operation: str) -> None:
    """CI cancels a job with SIGTERM: the held build is not left waiting for its timeout, never resumed, and no
    AMI keeps a mark of the pass that was cut short."""
    build = seed(aws_env, isolated_env, name=f"cancelled-{operation.lower()}")
    aws_env.faults = Faults(signal_on={operation: signal.SIGTERM})
    out = isolated_env / "r.json"
    code = main(check(build, "--watermark", "gate-passed", "--workflow-step", "auto", "--report", f"json={out}"))
    assert code == 128 + signal.SIGTERM
    step = aws_env.step(build.step)
    assert step.action == "STOP" and "SIGTERM" in (step.reason or "")
    assert marks(aws_env, build.ami) == [] and marks(aws_env, build.copy) == []
    doc = report(out)
    assert doc["verdict"] == "error"
    assert [a["operation"] for a in doc["actions"] if a["action"] == "workflow-step"] == ["STOP"]
    assert "workflow-step: STOP" in capsys.readouterr().err


# -- attacks that held: kept as regression tests ---------------------------------------------------------
def test_fail_on_never_reports_a_failing_build_but_never_releases_it(aws_env: Emulator, isolated_env: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    build = seed(aws_env, isolated_env, failing=True, name="never", copy_marks=(KEY,))
    code = main(check(build, "--fail-on", "never", "--watermark", "gate-passed", "--workflow-step", "auto"))
    assert code == ExitCode.PASS
    assert aws_env.step(build.step).action == "STOP" and marks(aws_env, build.copy) == []
    assert "exiting 0 (--fail-on never)" in capsys.readouterr().err


@pytest.mark.parametrize("how", ["option", "environment"])
def test_fail_on_warn_holds_a_build_whose_findings_warn(aws_env: Emulator, isolated_env: Path,
                                                       monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    build = seed(aws_env, isolated_env, name=f"warns-{how}")
    build.policy.write_text(POLICY + "  - {id: medium, when: 'severity == \"MEDIUM\"', action: warn}\n")
    extra = ["--fail-on", "warn"] if how == "option" else []
    if how == "environment":
        monkeypatch.setenv("GATE_FAIL_ON", "warn")
    assert main(check(build, *extra, "--watermark", "gate-passed", "--workflow-step", "auto")) == ExitCode.VIOLATION
    step = aws_env.step(build.step)
    assert step.action == "STOP" and "--fail-on warn" in (step.reason or "")
    assert KEY not in marks(aws_env, build.ami)


def test_a_broken_policy_is_exit_2_and_stops_the_step(aws_env: Emulator, isolated_env: Path) -> None:
    build = seed(aws_env, isolated_env, name="broken-policy")
    build.policy.write_text("version: 1\nrules:\n  - {id: x, when: 'severity ==', action: fail}\n")
    assert main(check(build, "--watermark", "gate-passed", "--workflow-step", "auto")) == ExitCode.USAGE
    step = aws_env.step(build.step)
    assert step.action == "STOP" and (step.reason or "").startswith("gate: gate could not decide")
    assert KEY not in marks(aws_env, build.ami)


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_decision_as_of_another_day_never_acts(aws_env: Emulator, isolated_env: Path,
                                                 monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """--as-of reproduces an old decision (exceptions not yet expired, KEV entries not yet added): a build must
    not be released or marked on it."""
    build = seed(aws_env, isolated_env, name=f"as-of-{how}")
    extra = ["--as-of", "2025-01-16"] if how == "option" else []
    if how == "environment":
        monkeypatch.setenv("GATE_AS_OF", "2025-01-16")
    for option in (["--workflow-step", "auto"], ["--watermark", "gate-passed"]):
        assert main(check(build, *extra, *option)) == ExitCode.USAGE
    assert aws_env.calls == []
    assert aws_env.step(build.step).status == "WAITING"


def test_a_sigterm_while_the_stop_is_sent_changes_nothing(aws_env: Emulator, isolated_env: Path) -> None:
    """The signal lands while the STOP is on the wire: gate cannot know it arrived and stops again on the way
    out; the step's token makes AWS refuse that second, different request."""
    build = seed(aws_env, isolated_env, failing=True, name="late-sigterm")
    aws_env.faults = Faults(signal_on={"SendWorkflowStepAction": signal.SIGTERM})
    out = isolated_env / "r.json"
    assert main(check(build, "--workflow-step", "auto", "--report", f"json={out}")) == 128 + signal.SIGTERM
    step = aws_env.step(build.step)
    assert step.action == "STOP" and "FAIL under policy" in (step.reason or "")
    assert aws_env.count("SendWorkflowStepAction", status=200) == 1
