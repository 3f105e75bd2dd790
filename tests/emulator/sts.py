"""STS's `query` protocol (form-encoded `POST /`, XML answers wrapped in `<OpResult>`) and its GetCallerIdentity.

Answers are read back with botocore's own `QueryParser`, like EC2's: a document that does not survive the
round trip is an emulator bug.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import OperationModel
from botocore.parsers import QueryParser

from .ec2 import _element, _xml
from .store import State
from .wire import credential_scope

SERVICE = "sts"
VERSION = "2011-06-15"
NAMESPACE = f"https://sts.amazonaws.com/doc/{VERSION}/"

Handler = Callable[[State, dict[str, Any]], dict[str, Any]]


def is_query(headers: Mapping[str, str], body: bytes) -> bool:
    """An STS request: signed for sts (unsigned ones name an STS action)."""
    scope = credential_scope(headers)
    if scope is not None:
        return scope[1] == SERVICE
    return body.startswith(b"Action=GetCallerIdentity")


def to_xml(document: Mapping[str, Any], op: OperationModel, request_id: str) -> bytes:
    shape = op.output_shape
    inner = "".join(_xml(document[k], m, _element(k, m)) for k, m in shape.members.items() if k in document) \
        if shape is not None else ""
    wrapper = shape.serialization.get("resultWrapper", f"{op.name}Result") if shape is not None else f"{op.name}Result"
    return (f'<{op.name}Response xmlns="{NAMESPACE}"><{wrapper}>{inner}</{wrapper}>'
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{op.name}Response>").encode()


def read_back(body: bytes, op: OperationModel) -> dict[str, Any]:
    parsed: dict[str, Any] = QueryParser().parse({"body": body, "headers": {}, "status_code": 200}, op.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def error_xml(code: str, message: str, request_id: str) -> bytes:
    kind = "Receiver" if code in ("InternalFailure", "ServiceUnavailable") else "Sender"
    return (f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>").encode()


def get_caller_identity(state: State, params: dict[str, Any]) -> dict[str, Any]:
    account = state.store.account
    return {"UserId": "AIDAEMULATOREXAMPLE", "Account": account, "Arn": f"arn:aws:iam::{account}:user/emulator"}


HANDLERS: Mapping[str, Handler] = {"GetCallerIdentity": get_caller_identity}
