"""Hold the build until gate decides: find the build's WaitForAction step, then RESUME it on a pass, STOP it else.

The clientToken is derived from the step id alone, so a retried run that reached the same decision repeats
the first request harmlessly, and one that reached a different decision is refused by AWS
(IdempotentParameterMismatchException) instead of sending a second, different action.
"""

from __future__ import annotations

import uuid
from functools import partial

from gate.actions.answers import bad_answer, member, optional, records
from gate.actions.context import AwsContext
from gate.actions.event import STEP_ID, WaitingStep
from gate.actions.interface import Outcome
from gate.errors import AwsCallError, IncompleteError, UsageError
from gate.outcome import ActionRecord, ActionStatus, Decision, Evaluation

NAME = "workflow-step"
AUTO = "auto"
LIST = "imagebuilder:ListWaitingWorkflowSteps"
SEND = "imagebuilder:SendWorkflowStepAction"
MAX_REASON = 1024
"""SendWorkflowStepAction's `reason` is 1..1,024 characters."""
TOKEN_NAMESPACE = uuid.UUID("5f0c8a54-2f5e-4d49-9b8c-6a1f0d7e3c21")
"""gate's own namespace for clientTokens: a token is `uuid5(TOKEN_NAMESPACE, step id)`."""
SHOWN_CVES = 20
PAGE_SIZE = 25
"""The published ListWaitingWorkflowSteps page allows 1..25 (the model 100): 25 is valid under both."""


def client_token(step_id: str) -> str:
    """36 characters, the same for every run on one step (the published pages say 36 at most, the model 64)."""
    return str(uuid.uuid5(TOKEN_NAMESPACE, step_id))


def inert(text: str) -> str:
    """One line of plain characters: no control, separator or bidi character reaches AWS or a later reader."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _blocking(evaluation: Evaluation) -> list[str]:
    return list(dict.fromkeys(r.finding.vulnerability_id for r in evaluation.results if r.decision is Decision.FAIL))


def reason_for(outcome: Outcome, action: str) -> str:
    """What the step is told: the verdict and policy, and the blocking CVEs or the error; ≤ 1,024 characters."""
    e = outcome.evaluation
    if action == "RESUME" and e is not None:
        text = f"gate: verdict PASS under policy {e.policy_name}: {e.summary.total} findings, none blocking"
    else:
        text = f"gate: {outcome.why_not or 'no verdict'}"
        if e is not None and outcome.error is None:
            cves = _blocking(e)
            if cves:
                more = f" (+{len(cves) - SHOWN_CVES} more)" if len(cves) > SHOWN_CVES else ""
                text += f"; blocking: {', '.join(cves[:SHOWN_CVES])}{more}"
    text = inert(text)
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


class WorkflowStep:
    """`--workflow-step auto|STEP_ID` (or `--event`): the build's waiting step, resumed or stopped after the verdict."""

    name = NAME
    revocable = False

    def __init__(self, context: AwsContext, build_arn: str, step: str = AUTO) -> None:
        self.context = context
        self.build_arn = build_arn
        self.wanted = step
        self.step: WaitingStep | None = None

    def _waiting(self) -> list[WaitingStep]:
        """Every waiting step of this build (the API has no filter: all pages, then keep ours).

        A page without its `steps` list is a cut or garbled answer, never "none waiting": the steps on the
        pages it hid could be the second one that makes `auto` ambiguous. A step listed twice is one step.
        """
        client = self.context.client("imagebuilder")
        owners: dict[str, str] = {}
        found: dict[str, WaitingStep] = {}
        for page in self.context.call.pages(LIST, client.list_waiting_workflow_steps, {"maxResults": PAGE_SIZE}):
            for item in records(page, "steps", call=LIST):
                step_id = member(item, "stepExecutionId", str, call=LIST)
                build = member(item, "imageBuildVersionArn", str, call=LIST)
                if not STEP_ID.fullmatch(step_id) or owners.setdefault(step_id, build) != build:
                    raise bad_answer(LIST, f"a valid stepExecutionId, one build each ({inert(step_id)[:80]})")
                if build == self.build_arn and step_id not in found:
                    found[step_id] = WaitingStep(self.build_arn, step_id, optional(item, "name", str, call=LIST))
        return list(found.values())

    def prepare(self) -> None:
        """Find the step before anything is fetched: a build nothing waits for is exit 3 before the listing."""
        steps = self._waiting()
        if self.wanted == AUTO:
            if not steps:
                raise IncompleteError(f"no WaitForAction step is waiting for {self.build_arn}",
                                      hint="run gate when the build's workflow reaches its WaitForAction step (the "
                                      "EventBridge event), or drop --workflow-step")
            if len(steps) > 1:
                listed = ", ".join(f"{s.step_id} ({inert(s.name or 'unnamed')})" for s in steps)
                raise UsageError(f"{len(steps)} WaitForAction steps are waiting for {self.build_arn}: {listed}",
                                 hint="choose one with --workflow-step STEP_ID")
            self.step = steps[0]
            return
        chosen = [s for s in steps if s.step_id == self.wanted]
        if not chosen:
            raise IncompleteError(f"workflow step {self.wanted} is not waiting for {self.build_arn}",
                                  hint="it was already actioned, timed out, or belongs to another build; nothing "
                                  "was sent")
        self.step = chosen[0]

    def act(self, outcome: Outcome) -> tuple[ActionRecord, ...]:
        if self.step is None:
            return (ActionRecord(NAME, self.wanted, "STOP", ActionStatus.FAILED, "no waiting step was found"),)
        step_id = self.step.step_id
        action = "RESUME" if outcome.passed else "STOP"
        reason = reason_for(outcome, action)
        token = client_token(step_id)
        send = partial(self.context.client("imagebuilder").send_workflow_step_action, stepExecutionId=step_id,
                       imageBuildVersionArn=self.build_arn, action=action, reason=reason, clientToken=token)
        try:
            answer = self.context.call(SEND, send)
            if member(answer, "stepExecutionId", str, call=SEND) != step_id:
                raise bad_answer(SEND, f"the step it was sent to ({step_id})")
        except AwsCallError as e:
            why = e.diagnostics()
            if e.code == "IdempotentParameterMismatchException":
                why = (f"AWS refused {action}: an earlier gate run sent this step a different action or reason "
                       f"with the same token; nothing was changed ({e.message})")
            # NOTE: an answer that could not be read came back from a request AWS may well have carried out.
            unread = e.code in ("MalformedAnswer", "DamagedAnswer")
            said = "may have been sent (AWS's answer could not be read)" if unread else "not sent"
            return (ActionRecord(NAME, step_id, action, ActionStatus.FAILED, inert(f"{action} {said}: {why}")),)
        return (ActionRecord(NAME, step_id, action, ActionStatus.DONE, reason),)
