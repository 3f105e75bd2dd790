"""The table of answer members gate reads: true to botocore's models, complete, and enforced by the Caller."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from gate.aws.retry import Backoff, Caller
from gate.aws.shapes import ANSWERS, Kind
from gate.errors import AwsCallError, ExitCode

GATE = Path(__file__).resolve().parents[2] / "gate"
_ACTION = re.compile(r'"((?:imagebuilder|inspector2|ec2|kms|sts):[A-Z][A-Za-z]+)"')


def test_every_member_is_in_the_model_with_that_type() -> None:
    session = botocore.session.get_session()
    for action, members in ANSWERS.items():
        service, operation = action.split(":")
        output = session.get_service_model(service).operation_model(operation).output_shape
        assert output is not None, action
        for member in members:
            shape = output.members[member.name]
            if member.kind is Kind.OBJECTS:
                assert shape.type_name == "list" and shape.member.type_name == "structure", (action, member)
            elif member.kind is Kind.OBJECT:
                assert shape.type_name == "structure", (action, member)
            elif member.kind is Kind.BYTES:
                assert shape.type_name == "blob", (action, member)
            elif member.kind is Kind.BOOLEAN:
                assert shape.type_name == "boolean", (action, member)
            else:
                assert shape.type_name == "string", (action, member)


def test_every_operation_gate_calls_has_a_row() -> None:
    called = {m for path in GATE.rglob("*.py") for m in _ACTION.findall(path.read_text(encoding="utf-8"))}
    assert "inspector2:ListFindings" in called and "ec2:GetImageFindings" in called
    assert called <= set(ANSWERS), sorted(called - set(ANSWERS))


@pytest.mark.parametrize(("action", "answer", "what"), [
    ("inspector2:ListFindings", {"ResponseMetadata": {"HTTPStatusCode": 200}}, "has no `findings`"),
    ("inspector2:ListFindings", {"findings": [{}], "nextToken": 7}, "`nextToken` that is not a string"),
    ("imagebuilder:ListImageScanFindings", {"findings": ["x"]}, "`findings` that is not a list of objects"),
    ("imagebuilder:GetImage", {"message": "<html>"}, "has no `image`"),
    ("inspector2:GetOnDemandScanStatus", {"scanId": "s"}, "has no `scanStatus`"),
    ("inspector2:BatchGetFindingDetails", {"findingDetails": [], "errors": {}}, "`errors` that is not a list"),
    ("sts:GetCallerIdentity", {}, "has no `Account`"),
    ("ec2:DetachImageWatermark", {"Return": "true"}, "`Return` that is not a boolean"),
    ("imagebuilder:Unheard", {}, "does not know which members"),
    ("kms:Sign", {"Signature": "c2ln"}, "`Signature` that is not bytes"),
])
def test_an_answer_without_a_member_gate_reads_is_could_not_complete(action: str, answer: Any, what: str) -> None:
    caller = Caller(Backoff(sleep=lambda _s: None))
    with pytest.raises(AwsCallError) as raised:
        caller(action, lambda: answer)
    assert raised.value.exit_code == ExitCode.INCOMPLETE and raised.value.action == action
    assert action in raised.value.message and what in raised.value.message


def test_optional_members_may_be_absent() -> None:
    caller = Caller(Backoff(sleep=lambda _s: None))
    assert caller("inspector2:BatchGetFindingDetails", lambda: {"findingDetails": []}) == {"findingDetails": []}
    assert caller("inspector2:ListFindings", lambda: {"findings": []}) == {"findings": []}
