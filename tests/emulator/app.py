"""Request dispatch: route, decode, validate, inject faults, answer, check the answer, record."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from botocore.model import ListShape, OperationModel, Shape, StructureShape

from . import ec2, imagebuilder, inspector, kms, sts
from .errors import ApiError, invalid_request, not_emulated, service_error
from .store import State
from .validation import check_shape, documented_constraints
from .wire import DecodeError, credential_scope, decode_request, find_route, service_model, to_wire


def _parsed(value: Any, shape: Shape | None) -> Any:
    """``value`` as botocore hands it to callers: timestamp members as aware datetimes, the rest as given."""
    if shape is None:
        return value
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        return {k: _parsed(v, shape.members.get(k)) for k, v in value.items()}
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_parsed(v, shape.member) for v in value]
    if shape.type_name == "timestamp" and isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value

HANDLERS: Mapping[str, Mapping[str, imagebuilder.Handler]] = {
    imagebuilder.SERVICE: imagebuilder.HANDLERS,
    inspector.SERVICE: inspector.HANDLERS,
    ec2.SERVICE: ec2.HANDLERS,
    sts.SERVICE: sts.HANDLERS,
    kms.SERVICE: kms.HANDLERS,
}
QUERY_SERVICES = (ec2.SERVICE, sts.SERVICE)
"""Services of the form-in, XML-out protocols (EC2's and STS's query)."""


class Call(NamedTuple):
    """One request the emulator answered, in the order the answers were sent."""

    service: str
    operation: str
    params: dict[str, Any]
    status: int


@dataclass(frozen=True)
class Violation:
    """Something a test should not tolerate.

    kind: "request" (the caller broke the API contract), "response" (the emulator produced
    a document its model rejects: an emulator bug) or "unsupported" (not emulated).
    """

    service: str
    operation: str
    kind: str
    message: str


@dataclass(frozen=True)
class Reply:
    """An HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes


class App:
    """The emulator's request handling, independent of the HTTP server around it."""

    def __init__(self, state: State, *, check_responses: bool = True) -> None:
        self.state = state
        self.check_responses = check_responses
        """Check every answer against the model (tests); benchmarks may skip it to spare the CPU."""
        self.calls: list[Call] = []
        self.violations: list[Violation] = []
        self.in_flight = 0
        self.max_in_flight = 0
        """The most requests being served at one moment: shows concurrency without timing anything."""
        self.latency_served: dict[str, float] = {}
        """Injected latency actually slept, per operation."""
        self._lock = threading.Lock()

    def violation(self, service: str, operation: str, kind: str, message: str) -> None:
        """Record a violation."""
        with self._lock:
            self.violations.append(Violation(service, operation, kind, message))

    def clear(self) -> None:
        """Forget recorded calls and violations."""
        with self._lock:
            self.calls.clear()
            self.violations.clear()
            self.max_in_flight = 0
            self.latency_served.clear()

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Reply:
        """Answer one request."""
        request_id = str(uuid.uuid4())
        if method == "POST" and sts.is_query(headers, body):
            return self._handle_query(sts.SERVICE, headers, body, request_id)
        if method == "POST" and ec2.is_query(headers, body):
            return self._handle_query(ec2.SERVICE, headers, body, request_id)
        json_operation = kms.is_json(headers) if method == "POST" else None
        if json_operation is not None:
            return self._handle_json(json_operation, body, request_id)
        found = find_route(method, target, headers)
        if found is None:
            scope = credential_scope(headers)
            service = scope[1] if scope else "unknown"
            message = f"no {service} operation serves {method} {urlsplit(target).path}"
            self.violation(service, "", "request", message)
            error = ApiError("UnknownOperationException", message, status=404)
            return self._record(service, "", {}, self._error_reply(service, error, request_id))
        route, labels, query = found
        service, operation = route.service, route.operation.name
        params: dict[str, Any] = {}
        scope = credential_scope(headers)
        region = ec2.REQUEST_REGION.set(scope[0] if scope else "us-east-1")
        try:
            params = decode_request(route.operation, labels, query, headers, body)
            document = self._serve(service, route.operation, params, request_id)
            reply = Reply(
                200,
                {"Content-Type": "application/json", "x-amzn-RequestId": request_id},
                self.state.faults.damaged(operation, json.dumps(document).encode()),
            )
        except DecodeError as exc:
            error = invalid_request(service, [str(exc)])
            reply = self._fail(service, operation, error, request_id)
        except ApiError as error:
            reply = self._fail(service, operation, error, request_id)
        except Exception as exc:  # NOTE: an emulator bug must surface as a violation, not a hang.
            self.violation(service, operation, "response", f"emulator crashed: {exc!r}")
            reply = self._error_reply(service, service_error(service, "server", repr(exc)), request_id)
        finally:
            ec2.REQUEST_REGION.reset(region)
        return self._record(service, operation, params, reply)

    def _handle_query(self, service: str, headers: Mapping[str, str], body: bytes, request_id: str) -> Reply:
        """An `ec2` or `query` protocol call: form in, XML out (errors too), in the region it was signed for."""
        protocol: Any = sts if service == sts.SERVICE else ec2
        operation, params = "", {}
        scope = credential_scope(headers)
        region = ec2.REQUEST_REGION.set(scope[0] if scope else "us-east-1")
        try:
            op, params = ec2.decode(body, service, protocol.VERSION)
            operation = op.name
            document = self._serve(service, op, params, request_id)
            body = protocol.to_xml(document, op, request_id)
            if self.check_responses and protocol.read_back(body, op) != _parsed(document, op.output_shape):
                self.violation(service, operation, "response", "the XML answer does not read back as the document")
            reply = Reply(200, {"Content-Type": "text/xml;charset=UTF-8"},
                          self.state.faults.damaged(operation, body, xml=True))
        except DecodeError as exc:
            reply = self._fail(service, operation, invalid_request(service, [str(exc)]), request_id)
        except ApiError as error:
            reply = self._fail(service, operation, error, request_id)
        except Exception as exc:  # NOTE: an emulator bug must surface as a violation, not a hang.
            self.violation(service, operation, "response", f"emulator crashed: {exc!r}")
            reply = self._error_reply(service, service_error(service, "server", repr(exc)), request_id)
        finally:
            ec2.REQUEST_REGION.reset(region)
        return self._record(service, operation, params, reply)

    def _handle_json(self, operation: str, body: bytes, request_id: str) -> Reply:
        """A KMS `json`-protocol call: the operation is in X-Amz-Target, blobs are base64 text."""
        service, params = kms.SERVICE, {}
        try:
            op, params = kms.decode(operation, body)
            document = self._serve(service, op, params, request_id)
            reply = Reply(200, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id},
                          json.dumps(document).encode())
        except DecodeError as exc:
            reply = self._fail(service, operation, invalid_request(service, [str(exc)]), request_id)
        except ApiError as error:
            reply = self._fail(service, operation, error, request_id)
        except Exception as exc:  # NOTE: an emulator bug must surface as a violation, not a hang.
            self.violation(service, operation, "response", f"emulator crashed: {exc!r}")
            reply = self._error_reply(service, service_error(service, "server", repr(exc)), request_id)
        return self._record(service, operation, params, reply)

    def _serve(self, service: str, op: OperationModel, params: dict[str, Any], request_id: str) -> dict[str, Any]:
        faults = self.state.faults
        index = faults.next_call(op.name)
        delay = faults.latency(op.name)
        if delay > 0:
            with self._lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                self.latency_served[op.name] = self.latency_served.get(op.name, 0.0) + delay
            try:
                time.sleep(delay)
            finally:
                with self._lock:
                    self.in_flight -= 1
        problems = check_shape(params, op.input_shape) if op.input_shape is not None else []
        problems = problems or documented_constraints(op.name, params)
        if problems:
            raise invalid_request(service, [f"{op.name}: {p}" for p in problems])
        signum = faults.faults.signal_on.get(op.name)
        if signum is not None:
            os.kill(os.getpid(), signum)
        injected = faults.injected(service, op.name, index)
        if injected is not None:
            raise injected
        handler = HANDLERS[service].get(op.name)
        if handler is None:
            raise not_emulated(f"{service} {op.name}")
        document = handler(self.state, params)
        output = op.output_shape
        if output is None or service in QUERY_SERVICES:
            return document
        if "requestId" in output.members:
            document["requestId"] = request_id
        wire: dict[str, Any] = to_wire(document, output)
        problems = check_shape(wire, output, wire=True) if self.check_responses else []
        if problems:
            self.violation(service, op.name, "response", "; ".join(problems))
            raise service_error(service, "server", "the emulator produced an invalid response")
        return wire

    def _fail(self, service: str, operation: str, error: ApiError, request_id: str) -> Reply:
        if error.violation is not None:
            self.violation(service, operation, error.violation_kind, error.violation)
        return self._error_reply(service, error, request_id)

    def _error_reply(self, service: str, error: ApiError, request_id: str) -> Reply:
        if service in QUERY_SERVICES:
            protocol: Any = sts if service == sts.SERVICE else ec2
            return Reply(error.status, {"Content-Type": "text/xml;charset=UTF-8", **error.headers},
                         protocol.error_xml(error.code, error.message, request_id))
        model = service_model(service) if service in HANDLERS else None
        if model is not None and error.code in model.shape_names:
            shape = model.shape_for(error.code)
            # NOTE: the json protocol's `__type` names the shape; it is no member of it.
            members = {k: v for k, v in error.body.items() if k != "__type"}
            problems = check_shape(members, shape, wire=True)
            if problems:
                self.violation(service, error.code, "response", "; ".join(problems))
        headers = {
            "Content-Type": "application/json",
            "x-amzn-RequestId": request_id,
            "x-amzn-ErrorType": error.code,
            **error.headers,
        }
        return Reply(error.status, headers, json.dumps(error.body).encode())

    def _record(self, service: str, operation: str, params: dict[str, Any], reply: Reply) -> Reply:
        if reply.status == 200 and self.state.faults.cuts(operation):
            reply = Reply(reply.status, reply.headers, reply.body[: len(reply.body) // 2])
        with self._lock:
            self.calls.append(Call(service, operation, params, reply.status))
        return reply
