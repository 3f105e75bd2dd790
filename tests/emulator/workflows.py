"""Image Builder's WaitForAction steps: ListWaitingWorkflowSteps, SendWorkflowStepAction, GetWorkflowStepExecution.

SendWorkflowStepAction is idempotent by clientToken, as AWS documents: the same token with the same request
answers as the first time; the same token with another request is IdempotentParameterMismatchException; a
step that is no longer waiting (actioned, timed out) refuses any new action.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import ApiError, service_error
from .pagination import listing_key
from .store import State
from .wire import service_model

SERVICE = "imagebuilder"
DEFAULT_PAGE = 25

Handler = Callable[[State, dict[str, Any]], dict[str, Any]]


def _error(code: str, message: str) -> ApiError:
    status = int(service_model(SERVICE).shape_for(code).metadata.get("error", {}).get("httpStatusCode", 400))
    return ApiError(code, message, status=status)


def list_waiting_workflow_steps(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """Every step of the account still waiting for an action (no filter: the API has none)."""
    with state.store.lock:
        steps = [s.listing() for s in state.store.steps.values() if s.shown_waiting]
    page, token = state.pager.page(SERVICE, "ListWaitingWorkflowSteps", listing_key("ListWaitingWorkflowSteps", {}),
                                   steps, params.get("maxResults", DEFAULT_PAGE), params.get("nextToken"),
                                   state.faults)
    return {"steps": page, **({"nextToken": token} if token else {})}


def send_workflow_step_action(state: State, params: dict[str, Any]) -> dict[str, Any]:
    token = params["clientToken"]
    request = {k: params.get(k) for k in ("stepExecutionId", "imageBuildVersionArn", "action", "reason")}
    with state.store.lock:
        earlier = state.store.step_tokens.get(token)
        if earlier is not None:
            if earlier[0] != request:
                raise _error("IdempotentParameterMismatchException",
                             f"clientToken {token} was already used with different parameters")
            return dict(earlier[1])
        step = state.store.steps.get(request["stepExecutionId"] or "")
        if step is None:
            raise service_error(SERVICE, "not_found", f"Workflow step execution {request['stepExecutionId']} "
                                "was not found")
        if step.image_arn != request["imageBuildVersionArn"]:
            raise service_error(SERVICE, "invalid", f"{request['imageBuildVersionArn']} does not own workflow "
                                f"step {step.step_id}")
        if step.status != "WAITING":
            # NOTE: AWS documents that the request fails, not with which code.
            raise service_error(SERVICE, "invalid", f"Workflow step {step.step_id} is not waiting for an action "
                                f"(it is {step.status})")
        step.status = "COMPLETED" if request["action"] == "RESUME" else "FAILED"
        step.action, step.reason, step.token = request["action"], request["reason"], token
        answer = {"stepExecutionId": step.step_id, "imageBuildVersionArn": step.image_arn, "clientToken": token}
        state.store.step_tokens[token] = (request, answer)
    return dict(answer)


def get_workflow_step_execution(state: State, params: dict[str, Any]) -> dict[str, Any]:
    with state.store.lock:
        step = state.store.steps.get(params["stepExecutionId"])
        if step is None:
            raise service_error(SERVICE, "not_found", f"Workflow step execution {params['stepExecutionId']} "
                                "was not found")
        return step.execution()


HANDLERS: Mapping[str, Handler] = {
    "ListWaitingWorkflowSteps": list_waiting_workflow_steps,
    "SendWorkflowStepAction": send_workflow_step_action,
    "GetWorkflowStepExecution": get_workflow_step_execution,
}
