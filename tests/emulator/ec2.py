"""EC2's `ec2` query protocol (form-encoded `POST /`, XML answers and errors) and its `GetImageFindings`.

Answers are written by walking botocore's own output shape (its XML names, its list `item`s) and then
read back with botocore's own `EC2QueryParser`: a document that does not survive the round trip
is an emulator bug, recorded as a violation. Requests are decoded the same way and must serialise
back, through botocore's `EC2Serializer`, to exactly the fields that were sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from botocore.model import ListShape, OperationModel, Shape, StructureShape
from botocore.parsers import EC2QueryParser
from botocore.serialize import EC2Serializer, QuerySerializer

from . import ec2_images, fleet
from .ec2_images import REQUEST_REGION  # noqa: F401 - app.py sets it per request
from .errors import ApiError, service_error
from .pagination import listing_key
from .store import State
from .wire import DecodeError, credential_scope, scalar, service_model

SERVICE = "ec2"
VERSION = "2016-11-15"
NAMESPACE = f"http://ec2.amazonaws.com/doc/{VERSION}/"

_ENTITIES = {"\r": "&#13;"}
"""XML readers turn a raw CR into LF; a character reference keeps it, as EC2 would."""

Handler = Callable[[State, dict[str, Any]], dict[str, Any]]


def is_query(headers: Mapping[str, str], body: bytes) -> bool:
    """An `ec2` query-protocol request: signed for ec2, or a form body naming an Action."""
    scope = credential_scope(headers)
    if scope is not None:
        return scope[1] == SERVICE
    return body.startswith(b"Action=") or b"&Action=" in body


def _wire_name(name: str, member: Shape) -> str:
    explicit = member.serialization.get("queryName")
    if explicit:
        return str(explicit)
    wire = str(member.serialization.get("name", name))
    return wire[0].upper() + wire[1:]


def decode(body: bytes, service: str = SERVICE, version: str = VERSION) -> tuple[OperationModel, dict[str, Any]]:
    """The operation and its parameters; fields the input shape does not know are a DecodeError.

    Lists travel flattened (`ImageId.1`, `Filter.1.Value.1`): the dotted keys are rebuilt into a tree,
    read by the input shape, and must serialise back, through botocore's serializer, to what was sent.
    """
    try:
        fields = {k: v[-1] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
    except UnicodeDecodeError as exc:
        raise DecodeError("request body is not UTF-8") from exc
    action, sent_version = fields.pop("Action", ""), fields.pop("Version", "")
    model = service_model(service)
    if action not in model.operation_names:
        raise DecodeError(f"unknown Action {action!r}")
    if sent_version != version:
        raise DecodeError(f"Version {sent_version!r} is not {version}")
    op = model.operation_model(action)
    tree: dict[str, Any] = {}
    for key, text in fields.items():
        node = tree
        *path, last = key.split(".")
        for part in path:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise DecodeError(f"{action} {key}: a value and a list under one name")
            node = child
        if last in node:
            raise DecodeError(f"{action} {key}: a value and a list under one name")
        node[last] = text
    params = _read(tree, op.input_shape, action) if op.input_shape is not None else {}
    if not isinstance(params, dict) or (op.input_shape is None and tree):
        raise DecodeError(f"{action} takes no parameters")
    serializer = EC2Serializer() if service == SERVICE else QuerySerializer()
    again = serializer.serialize_to_request(params, op)["body"]
    again = {k: v for k, v in again.items() if k not in ("Action", "Version")}
    if {k: str(v) for k, v in again.items()} != fields:
        raise DecodeError(f"{action}: the request does not serialise back to what was sent")
    return op, params


def _read(node: Any, shape: Shape, where: str) -> Any:
    """The value of a decoded form tree ``node`` as ``shape`` (lists are numbered from 1)."""
    if isinstance(shape, StructureShape):
        if not isinstance(node, dict):
            raise DecodeError(f"{where}: expected a structure")
        members = {_wire_name(n, m): (n, m) for n, m in shape.members.items()}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key not in members:
                raise DecodeError(f"{where} has no parameter {key}")
            name, member = members[key]
            out[name] = _read(value, member, f"{where}.{key}")
        return out
    if isinstance(shape, ListShape):
        if not isinstance(node, dict) or not all(k.isdigit() for k in node):
            raise DecodeError(f"{where}: expected a numbered list")
        numbers = sorted(int(k) for k in node)
        if numbers != list(range(1, len(numbers) + 1)):
            raise DecodeError(f"{where}: list items are not numbered 1..{len(numbers)}")
        return [_read(node[str(n)], shape.member, f"{where}.{n}") for n in numbers]
    if isinstance(node, dict):
        raise DecodeError(f"{where}: expected a value")
    return scalar(node, shape)


def _text(value: Any, shape: Shape) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        stamp: dt.datetime = value.astimezone(dt.UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
    return str(value)


def _xml(value: Any, shape: Shape, name: str) -> str:
    if isinstance(shape, StructureShape):
        inner = "".join(_xml(value[k], m, _element(k, m)) for k, m in shape.members.items() if k in value)
        return f"<{name}>{inner}</{name}>"
    if isinstance(shape, ListShape):
        item = shape.member.serialization.get("name", "member")
        return f"<{name}>" + "".join(_xml(v, shape.member, item) for v in value) + f"</{name}>"
    return f"<{name}>{escape(_text(value, shape), _ENTITIES)}</{name}>"


def _element(name: str, member: Shape) -> str:
    return str(member.serialization.get("name", name))


def to_xml(document: Mapping[str, Any], op: OperationModel, request_id: str) -> bytes:
    """The XML answer for ``document``, named by the output shape as botocore reads it."""
    shape = op.output_shape
    inner = "".join(_xml(document[k], m, _element(k, m)) for k, m in shape.members.items() if k in document) \
        if shape is not None else ""
    root = f"{op.name}Response"
    text = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NAMESPACE}"><requestId>{request_id}</requestId>' \
        f"{inner}</{root}>"
    return text.encode()


def read_back(body: bytes, op: OperationModel) -> dict[str, Any]:
    """What botocore makes of an answer (its own parser): the check that XML names cannot drift."""
    parsed: dict[str, Any] = EC2QueryParser().parse({"body": body, "headers": {}, "status_code": 200},
                                                    op.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def error_xml(code: str, message: str, request_id: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID>"
            "</Response>").encode()


def get_image_findings(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """GetImageFindings: the AMI's findings from its latest successful on-demand scan, paginated."""
    ami = params["ImageId"]
    if params.get("DryRun"):
        raise ApiError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", status=412)
    with state.store.lock:
        record = state.store.amis.get(ami)
    if record is None:
        raise service_error(SERVICE, "not_found", f"The image id '[{ami}]' does not exist")
    findings = record.findings if record.scanned() else []
    page, token = state.pager.page(
        SERVICE, "GetImageFindings", listing_key("GetImageFindings", {"ami": ami}), findings,
        params.get("MaxResults", 1000), params.get("NextToken"), state.faults)
    return {"ImageFindings": page, **({"NextToken": token} if token else {})}


HANDLERS: Mapping[str, Handler] = {"GetImageFindings": get_image_findings, **ec2_images.HANDLERS, **fleet.EC2}
