"""botocore's rest-json service models: routing, request decoding and response encoding."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

SERVICES: tuple[str, ...] = ("imagebuilder", "inspector2")
_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")
_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


class DecodeError(ValueError):
    """The request could not be decoded into parameters (bad JSON, bad scalar)."""


@cache
def service_model(name: str) -> ServiceModel:
    """Return botocore's bundled model of ``name`` (cached for the process)."""
    return _session().get_service_model(name)


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


@dataclass(frozen=True)
class Route:
    """One operation's HTTP binding: method and a regex of its request URI path."""

    service: str
    operation: OperationModel
    method: str
    path: re.Pattern[str]
    labels: tuple[str, ...]


def _compile_uri(uri: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    path = uri.split("?", 1)[0]
    parts: list[str] = []
    labels: list[str] = []
    pos = 0
    for match in _LABEL.finditer(path):
        parts.append(re.escape(path[pos : match.start()]))
        parts.append("(.+)" if match.group(2) else "([^/]+)")
        labels.append(match.group(1))
        pos = match.end()
    parts.append(re.escape(path[pos:]))
    return re.compile("".join(parts) + "/?"), tuple(labels)


@cache
def routes(service: str) -> tuple[Route, ...]:
    """Every operation of ``service`` as a Route, fixed paths before labelled ones."""
    model = service_model(service)
    table = []
    for name in model.operation_names:
        op = model.operation_model(name)
        pattern, labels = _compile_uri(op.http["requestUri"])
        table.append(Route(service, op, op.http["method"].upper(), pattern, labels))
    return tuple(sorted(table, key=lambda r: len(r.labels)))


def credential_scope(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(region, service) from a SigV4 Authorization header, if there is one."""
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    match = _SCOPE.search(auth)
    return (match.group(1), match.group(2)) if match else None


def match_route(service: str, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route of ``service`` that serves ``method path``, with its URI labels."""
    for route in routes(service):
        found = route.path.fullmatch(path)
        if found and route.method == method:
            return route, dict(zip(route.labels, found.groups(), strict=True))
    return None


def find_route(
    method: str, target: str, headers: Mapping[str, str]
) -> tuple[Route, dict[str, str], dict[str, list[str]]] | None:
    """Route a request by its credential scope's service, else by path across both services."""
    split = urlsplit(target)
    query = parse_qs(split.query, keep_blank_values=True)
    scope = credential_scope(headers)
    candidates = (scope[1],) if scope and scope[1] in SERVICES else SERVICES
    for service in candidates:
        found = match_route(service, method, unquote(split.path))
        if found:
            return found[0], found[1], query
    return None


def scalar(text: str, shape: Shape) -> Any:
    """A query or form value as the shape's type."""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("double", "float"):
            return float(text)
        if kind == "boolean":
            if text not in ("true", "false"):
                raise DecodeError(f"not a boolean: {text!r}")
            return text == "true"
        if kind == "timestamp":
            return to_epoch(text)
    except ValueError as exc:
        raise DecodeError(f"cannot read {text!r} as {kind}") from exc
    return text


def decode_request(
    op: OperationModel,
    labels: Mapping[str, str],
    query: Mapping[str, list[str]],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    """Rebuild the caller's parameters from URI labels, querystring, headers and JSON body."""
    shape = op.input_shape
    params: dict[str, Any] = {}
    lower_headers = {k.lower(): v for k, v in headers.items()}
    wire_names: dict[str, str] = {}
    for name, member in shape.members.items() if shape is not None else ():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri" and wire in labels:
            params[name] = scalar(unquote(labels[wire]), member)
        elif location == "querystring" and wire in query:
            values = query[wire]
            if isinstance(member, ListShape):
                params[name] = [scalar(v, member.member) for v in values]
            else:
                params[name] = scalar(values[-1], member)
        elif location == "header" and wire.lower() in lower_headers:
            params[name] = scalar(lower_headers[wire.lower()], member)
        elif location is None:
            wire_names[wire] = name
    if body.strip():
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise DecodeError("request body is not JSON") from exc
        if not isinstance(document, dict):
            raise DecodeError("request body is not a JSON object")
        for key, value in document.items():
            params[wire_names.get(str(key), str(key))] = value
    return params


def to_epoch(value: Any) -> int | float:
    """Epoch seconds from a datetime, an ISO-8601 string or a number (naive means UTC)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return to_epoch(float(value))
        except ValueError:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        seconds = value.timestamp()
        return int(seconds) if seconds.is_integer() else seconds
    raise ValueError(f"not a timestamp: {value!r}")


def to_wire(value: Any, shape: Shape | None) -> Any:
    """Encode ``value`` as rest-json would: timestamps become epoch-second numbers (or ISO text, if modelled so).

    Members the shape does not know are kept as they are, so validation reports them.
    """
    if shape is None:
        return value
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        return {k: to_wire(v, shape.members.get(k)) for k, v in value.items()}
    if isinstance(shape, ListShape) and isinstance(value, list | tuple):
        return [to_wire(v, shape.member) for v in value]
    if isinstance(shape, MapShape) and isinstance(value, Mapping):
        return {k: to_wire(v, shape.value) for k, v in value.items()}
    if shape.type_name == "blob" and isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")  # NOTE: how the json protocols send a blob
    if shape.type_name == "timestamp":
        try:
            epoch = to_epoch(value)
        except ValueError:
            return value
        if shape.serialization.get("timestampFormat") == "iso8601":
            # NOTE: a member that says so travels as ISO-8601 text even in rest-json.
            return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return epoch
    return value
