"""An AWS Lambda entry point: judge the build a WaitForAction event names, mark its AMIs, resume or stop it.

The library's own path, not the CLI's argv: `decide` prepares the actions (the step must be waiting), judges
the build and acts, exactly as `gate check --event EVENT [--watermark NAME]` does. Settings come from the
function's environment (the `GATE_*` names of the CLI options). It never raises for gate's own errors: an
EventBridge retry could only find the step already actioned; the answer (and the log) says what happened.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


def _exit_code(evaluation: Evaluation | None, error: GateError | None, failed: bool) -> int:
    if error is not None:
        return int(error.exit_code)
    if evaluation is None or failed:
        return int(ExitCode.INCOMPLETE)
    return int(ExitCode.VIOLATION if evaluation.verdict is Verdict.FAIL else ExitCode.PASS)


def respond(event: object, env: Mapping[str, str], now: datetime | None = None) -> dict[str, Any]:
    """Judge and act; the answer names the verdict, the exit code gate check would have, and each action."""
    from gate.policy.loader import load_policy  # noqa: PLC0415 - the policy stack loads only when judging
    from gate.run import judge_build  # noqa: PLC0415

    moment = now or datetime.now(UTC)
    try:
        step = parse_event(event)
        inputs = inputs_from_env(step.build_arn, env)
        max_age = parse_hours_or_days(env["GATE_MAX_FEED_AGE"]) if env.get("GATE_MAX_FEED_AGE") else None
        context = AwsContext(step.build_arn.split(":")[3], None)
        actions: list[VerdictAction] = []
        if env.get("GATE_WATERMARK"):
            actions.append(Watermark(context, step.build_arn, env["GATE_WATERMARK"]))
        actions.append(WorkflowStep(context, step.build_arn, step.step_id))

        def judge() -> Evaluation:
            policy = load_policy(env.get("GATE_POLICY") or "default")
            return judge_build(open_plan(inputs), policy, now=moment, max_feed_age=max_age)

        try:
            decided = decide(judge, actions)
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
        "exitCode": _exit_code(evaluation, decided.error, failed is not None),
        "error": problem.diagnostics() if problem is not None else None,
        "build": step.build_arn,
        "actions": [{"action": r.action, "target": r.target, "operation": r.operation, "status": r.status.value,
                     "detail": r.detail} for r in decided.actions],
    }
    LOG.info(json.dumps(answer))
    return answer


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """The Lambda entry point (`gate.lambda_handler.handler`)."""
    return respond(event, os.environ)
