"""An AWS Lambda entry point: judge the build a WaitForAction event names, mark its AMIs, resume or stop it.

The library's own path, not the CLI's argv: `decide` prepares the actions (the step must be waiting), judges
the build and acts, exactly as `gate check --event EVENT [--watermark NAME]` does. Settings come from the
function's environment (the `GATE_*` names of the CLI options). Nobody watches a function run, so a setting
it cannot read, or one it does not honour, is exit 2 *and* the held step is stopped (never ignored, never
left to time out). `run` answers with what happened; `handler` also fails the invocation when gate could
not decide (exit 2 or 3), so Lambda counts an error, retries (a step still waiting is judged again; one
already answered refuses before anything is fetched) and hands the event to an on-failure destination.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from gate.actions.context import AwsContext
from gate.actions.event import parse_event
from gate.actions.interface import VerdictAction
from gate.actions.watermark import Watermark
from gate.actions.workflow_step import WorkflowStep
from gate.decide import decide
from gate.errors import ExitCode, GateError, UsageError
from gate.inputs import Inputs, open_plan
from gate.outcome import Evaluation, Verdict
from gate.timeutil import parse_duration, parse_hours_or_days

LOG = logging.getLogger("gate")
DEFAULT_WAIT = "10m"
"""Lambda runs at most 15 minutes: the scan wait must leave time for the listing and the actions."""
SETTINGS = frozenset({"GATE_POLICY", "GATE_WATERMARK", "GATE_WAIT_TIMEOUT", "GATE_KEV_CATALOG", "GATE_EPSS_SCORES",
                      "GATE_MAX_FEED_AGE", "GATE_CACHE_DIR", "GATE_FAIL_ON"})
"""The `GATE_*` variables the function reads; any other is refused rather than silently ignored."""
FAIL_ON = ("violation", "warn", "never")

T = TypeVar("T")


class HandlerError(GateError):
    """Raised by `handler` when gate could not decide: the invocation fails; the message is gate's error."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = ExitCode(exit_code)


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = env.get(name)
    return Path(value) if value else None


def inputs_from_env(build_arn: str, env: Mapping[str, str]) -> Inputs:
    """What the run reads: the build, feeds shipped with the function (or none), the cache in /tmp."""
    try:
        wait = parse_duration(env.get("GATE_WAIT_TIMEOUT") or DEFAULT_WAIT, maximum=timedelta(minutes=14))
    except ValueError as e:
        raise UsageError(f"GATE_WAIT_TIMEOUT: {e}") from None
    return Inputs(image_build_version_arn=build_arn, kev_catalog=_path(env, "GATE_KEV_CATALOG"),
                  epss_scores=_path(env, "GATE_EPSS_SCORES"), wait_timeout=wait,
                  cache_dir=Path(env.get("GATE_CACHE_DIR") or "/tmp/gate"))  # noqa: S108 - Lambda's only writable place


def _unread(env: Mapping[str, str]) -> None:
    unknown = sorted(name for name in env if name.startswith("GATE_") and name not in SETTINGS)
    if unknown:
        raise UsageError(f"{', '.join(unknown[:5])}: not a setting the Lambda function reads, so it would be "
                         "ignored", hint=f"remove it; the function reads {', '.join(sorted(SETTINGS))}")


def _fail_on(env: Mapping[str, str]) -> str:
    value = (env.get("GATE_FAIL_ON") or "violation").strip().lower()
    if value not in FAIL_ON:
        raise UsageError(f"GATE_FAIL_ON: {value[:40]!r} is not one of {', '.join(FAIL_ON)}")
    return value


def _max_age(env: Mapping[str, str]) -> timedelta | None:
    try:
        return parse_hours_or_days(env["GATE_MAX_FEED_AGE"]) if env.get("GATE_MAX_FEED_AGE") else None
    except ValueError as e:
        raise UsageError(f"GATE_MAX_FEED_AGE: {e}") from None


def _watermark(context: AwsContext, build_arn: str, env: Mapping[str, str]) -> Watermark | None:
    if not env.get("GATE_WATERMARK"):
        return None
    try:
        return Watermark(context, build_arn, env["GATE_WATERMARK"])
    except UsageError as e:
        raise UsageError(f"GATE_WATERMARK: {e.message}", hint=e.hint) from None


def _exit_code(evaluation: Evaluation | None, error: GateError | None, failed: bool, fail_on: str) -> int:
    if error is not None:
        return int(error.exit_code)
    if evaluation is None or failed:
        return int(ExitCode.INCOMPLETE)
    if fail_on == "never":
        return int(ExitCode.PASS)
    blocked = evaluation.verdict is Verdict.FAIL or (fail_on == "warn" and evaluation.summary.warned > 0)
    return int(ExitCode.VIOLATION if blocked else ExitCode.PASS)


def respond(event: object, env: Mapping[str, str], now: datetime | None = None) -> dict[str, Any]:
    """Judge and act; the answer names the verdict, the exit code gate check would have, and each action."""
    from gate.policy.loader import load_policy  # noqa: PLC0415 - the policy stack loads only when judging
    from gate.run import judge_build  # noqa: PLC0415

    moment = now or datetime.now(UTC)
    problems: list[GateError] = []

    def setting(read: Callable[[], T], fallback: T) -> T:
        """A setting, or `fallback` and the problem kept: the step is stopped with it instead of judged."""
        try:
            return read()
        except GateError as e:
            problems.append(e)
            return fallback

    try:
        step = parse_event(event)
        context = AwsContext(step.build_arn.split(":")[3], None)
        setting(lambda: _unread(env), None)
        fail_on = setting(lambda: _fail_on(env), "violation")
        inputs = setting(lambda: inputs_from_env(step.build_arn, env), None)
        max_age = setting(lambda: _max_age(env), None)
        watermark = setting(lambda: _watermark(context, step.build_arn, env), None)
        actions: list[VerdictAction] = [watermark] if watermark is not None else []
        actions.append(WorkflowStep(context, step.build_arn, step.step_id))

        def judge() -> Evaluation:
            if problems or inputs is None:
                raise problems[0] if problems else UsageError("the function's settings could not be read")
            policy = load_policy(env.get("GATE_POLICY") or "default")
            return judge_build(open_plan(inputs), policy, now=moment, max_feed_age=max_age)

        try:
            decided = decide(judge, actions, fail_on_warn=fail_on == "warn")
        finally:
            context.close()
    except (GateError, ValueError) as e:  # NOTE: refused before anything acted (no step waiting, a bad event)
        error = e if isinstance(e, GateError) else UsageError(str(e))
        answer: dict[str, Any] = {"verdict": "error", "exitCode": int(error.exit_code), "error": error.diagnostics(),
                                  "actions": []}
        LOG.error(json.dumps(answer))
        return answer
    evaluation = decided.evaluation
    failed = decided.action_error()
    problem: GateError | None = decided.error or failed
    answer = {
        "verdict": evaluation.verdict.value if evaluation is not None else "error",
        "exitCode": _exit_code(evaluation, decided.error, failed is not None, fail_on),
        "error": problem.diagnostics() if problem is not None else None,
        "build": step.build_arn,
        "actions": [{"action": r.action, "target": r.target, "operation": r.operation, "status": r.status.value,
                     "detail": r.detail} for r in decided.actions],
    }
    (LOG.error if problem is not None else LOG.info)(json.dumps(answer))
    return answer


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """The Lambda entry point (`gate.lambda_handler.handler`): fails the invocation when gate could not decide."""
    answer = respond(event, os.environ)
    if answer["exitCode"] >= ExitCode.USAGE:
        raise HandlerError(str(answer["error"] or "gate could not decide"), answer["exitCode"])
    return answer
