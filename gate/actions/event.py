"""The EventBridge event a WaitForAction step publishes, read into the build and the step it names.

The Image Builder user guide's example: `source` `aws.imagebuilder`, `detail-type` `EC2 Image Builder Workflow
Step Waiting`, `resources` holding the image build version ARN and the workflow ARN, and `detail` holding
`workflow-execution-id`, `workflow-step-execution-id` and `workflow-step-name`. Anything else is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from gate.errors import InputError
from gate.jsondocs import loads_document

SOURCE = "aws.imagebuilder"
DETAIL_TYPE = "EC2 Image Builder Workflow Step Waiting"
STEP_ID = re.compile(r"step-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
BUILD_ARN = re.compile(r"arn:aws[^:]*:imagebuilder:[^:]+:(?:[0-9]{12}|aws(?:-[a-z-]+)?):image/[a-z0-9-_]+/"
                       r"[0-9]+\.[0-9]+\.[0-9]+/[0-9]+")
"""SendWorkflowStepAction's own pattern for `imageBuildVersionArn`."""


@dataclass(frozen=True)
class WaitingStep:
    """A WaitForAction step waiting for an action, and the build it holds."""

    build_arn: str
    step_id: str
    name: str | None = None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def parse_event(doc: object, origin: str = "the event") -> WaitingStep:
    """The step an `EC2 Image Builder Workflow Step Waiting` event names; `InputError` (exit 2) for anything else."""
    hint = f"pass the event EventBridge delivers for source {SOURCE}, detail-type {DETAIL_TYPE!r}"
    if not isinstance(doc, Mapping):
        raise InputError(f"{origin} is not a JSON object", hint=hint)
    if doc.get("source") != SOURCE or doc.get("detail-type") != DETAIL_TYPE:
        raise InputError(f"{origin} is a {_short(doc.get('detail-type'))} event from {_short(doc.get('source'))}, "
                         f"not a {DETAIL_TYPE!r} event from {SOURCE}", hint=hint)
    resources = doc.get("resources")
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        raise InputError(f"{origin} has no list of resources", hint=hint)
    builds = [r for r in resources if BUILD_ARN.fullmatch(r)]
    if len(builds) != 1:
        raise InputError(f"{origin} names {len(builds)} image build version ARNs in resources, expected one",
                         hint=hint)
    detail = doc.get("detail")
    step = detail.get("workflow-step-execution-id") if isinstance(detail, Mapping) else None
    if not isinstance(step, str) or not STEP_ID.fullmatch(step):
        raise InputError(f"{origin} has no valid detail.workflow-step-execution-id ({_short(step)})", hint=hint)
    name = detail.get("workflow-step-name") if isinstance(detail, Mapping) else None
    return WaitingStep(build_arn=builds[0], step_id=step, name=name if isinstance(name, str) else None)


def read_event(data: bytes, origin: str) -> WaitingStep:
    """`parse_event` of a file's bytes (UTF-8 JSON)."""
    return parse_event(loads_document(data, origin, hint="pass the event as EventBridge delivers it"), origin)
