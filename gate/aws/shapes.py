"""The members of each AWS answer gate reads, and their types: an answer without one is damaged, never "nothing".

botocore turns a `200` whose body is cut short or is not JSON into a dict without the modelled
members (rest-json keeps at most a `message`); a cut EC2 XML body reads as an empty answer too when
it parses at all. Read with `.get(...) or []`, such an answer says "no findings" or "Inspector knows
nothing about this CVE", and a build could pass on it. So the `Caller` checks every answer against
this table before anyone reads it; `tests/aws/test_shapes.py` holds the table to botocore's models and
to every operation gate calls.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gate.errors import AwsCallError


class Kind(enum.Enum):
    """What a member must be: the botocore type, as gate reads it."""

    OBJECTS = "a list of objects"
    OBJECT = "an object"
    STRING = "a string"
    BOOLEAN = "a boolean"
    BYTES = "bytes"


@dataclass(frozen=True)
class Member:
    name: str
    kind: Kind
    required: bool = True
    """False: may be absent (an optional paging token, an error list AWS may leave out), but never mistyped."""


def _paged(name: str, kind: Kind, cursor: str = "nextToken") -> tuple[Member, ...]:
    return Member(name, kind), Member(cursor, Kind.STRING, required=False)


ANSWERS: Mapping[str, tuple[Member, ...]] = {
    "imagebuilder:GetImage": (Member("image", Kind.OBJECT),),
    "imagebuilder:ListImageScanFindings": _paged("findings", Kind.OBJECTS),
    "imagebuilder:ListImageScanFindingAggregations": _paged("responses", Kind.OBJECTS),
    "imagebuilder:ListImagePipelineImages": _paged("imageSummaryList", Kind.OBJECTS),
    "imagebuilder:ListImagePipelines": _paged("imagePipelineList", Kind.OBJECTS),
    "inspector2:ListFindings": _paged("findings", Kind.OBJECTS),
    # NOTE: an ARN answered in neither list is refused by the caller (gate.enrichment.inspector_api).
    "inspector2:BatchGetFindingDetails": (Member("findingDetails", Kind.OBJECTS),
                                          Member("errors", Kind.OBJECTS, required=False)),
    "inspector2:SearchVulnerabilities": _paged("vulnerabilities", Kind.OBJECTS),
    "inspector2:ListOnDemandScans": _paged("items", Kind.OBJECTS),
    "inspector2:GetOnDemandScanStatus": (Member("scanId", Kind.STRING), Member("scanStatus", Kind.STRING)),
    "ec2:GetImageFindings": _paged("ImageFindings", Kind.OBJECTS, cursor="NextToken"),
    # NOTE: the actions after the verdict; an absent list there is read as empty only where that cannot pass
    # anything (no step waiting is exit 3; `gate.actions.answers` checks the members of each item).
    "imagebuilder:ListWaitingWorkflowSteps": (Member("steps", Kind.OBJECTS, required=False),
                                              Member("nextToken", Kind.STRING, required=False)),
    "imagebuilder:SendWorkflowStepAction": (Member("stepExecutionId", Kind.STRING),),
    "ec2:DescribeImages": (Member("Images", Kind.OBJECTS, required=False),
                           Member("NextToken", Kind.STRING, required=False)),
    "ec2:AttachImageWatermark": (Member("WatermarkKey", Kind.STRING),),
    "ec2:DetachImageWatermark": (Member("Return", Kind.BOOLEAN),),
    "ec2:EnableImageDeprecation": (Member("Return", Kind.BOOLEAN),),
    "sts:GetCallerIdentity": (Member("Account", Kind.STRING),),
    "kms:GetPublicKey": (Member("PublicKey", Kind.BYTES), Member("KeySpec", Kind.STRING),
                         Member("KeyUsage", Kind.STRING)),
    "kms:Sign": (Member("Signature", Kind.BYTES),),
}
"""`service:Operation` → the members of its answer that gate reads."""


def _is(value: object, kind: Kind) -> bool:
    if kind is Kind.OBJECT:
        return isinstance(value, Mapping)
    if kind is Kind.STRING:
        return isinstance(value, str)
    if kind is Kind.BOOLEAN:
        return isinstance(value, bool)
    if kind is Kind.BYTES:
        return isinstance(value, bytes)
    return isinstance(value, list) and all(isinstance(item, Mapping) for item in value)


def check_answer(action: str, response: Any) -> None:
    """Raise `AwsCallError` (exit 3) naming `action` and the member unless the answer has each member gate reads."""
    members = ANSWERS.get(action)
    if members is None:  # NOTE: an operation added without its row would otherwise be read unchecked
        raise AwsCallError(f"gate does not know which members of {action}'s answer it reads", action=action,
                           code="UnknownAnswer", hint="report this to the gate maintainers (gate/aws/shapes.py)")
    if not isinstance(response, Mapping):
        raise _damaged(action, "is not an object")
    for member in members:
        if member.name not in response:
            if member.required:
                raise _damaged(action, f"has no `{member.name}`")
        elif not _is(response[member.name], member.kind):
            raise _damaged(action, f"has a `{member.name}` that is not {member.kind.value}")


def _damaged(action: str, what: str) -> AwsCallError:
    return AwsCallError(f"{action} answered 200 but its answer {what}: it was cut short or is not the API's",
                        action=action, code="DamagedAnswer",
                        hint="a proxy or the network damaged the answer; run gate again")
