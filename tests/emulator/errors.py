"""The modelled errors each emulated service answers with, by the role they play."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from .wire import service_model

_PARAM = re.compile(r"parameter ([\w.\[\]]+)")
_LEADING = re.compile(r"([\w.\[\]]+):")

Role = Literal["throttle", "server", "unavailable", "forbidden", "invalid", "bad_token", "not_found"]

ERROR_CODES: Mapping[str, Mapping[Role, str]] = {
    "imagebuilder": {
        "throttle": "CallRateLimitExceededException",
        "server": "ServiceException",
        "unavailable": "ServiceUnavailableException",
        "forbidden": "ForbiddenException",
        "invalid": "InvalidRequestException",
        "bad_token": "InvalidPaginationTokenException",
        "not_found": "ResourceNotFoundException",
    },
    "ec2": {
        "throttle": "RequestLimitExceeded",
        "server": "InternalError",
        "unavailable": "Unavailable",
        "forbidden": "UnauthorizedOperation",
        "invalid": "InvalidParameterValue",
        "bad_token": "InvalidPaginationToken",
        "not_found": "InvalidAMIID.NotFound",
    },
    "sts": {
        "throttle": "Throttling",
        "server": "InternalFailure",
        "unavailable": "ServiceUnavailable",
        "forbidden": "AccessDenied",
        "invalid": "InvalidParameterValue",
        "bad_token": "InvalidParameterValue",
        "not_found": "InvalidParameterValue",
    },
    "inspector2": {
        "throttle": "ThrottlingException",
        "server": "InternalServerException",
        "unavailable": "InternalServerException",
        "forbidden": "AccessDeniedException",
        "invalid": "ValidationException",
        "bad_token": "ValidationException",
        "not_found": "ResourceNotFoundException",
    },
}


class ApiError(Exception):
    """An error response: code (the shape name), HTTP status, extra body members and headers.

    ``violation`` is set when the error exposes a caller's bug (``violation_kind`` "request")
    or an emulator gap ("unsupported") that tests should see in ``Emulator.violations``;
    injected faults leave it ``None``.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        violation: str | None = None,
        violation_kind: str = "request",
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.body: dict[str, Any] = {"message": message, **(body or {})}
        self.headers = dict(headers or {})
        self.violation = violation
        self.violation_kind = violation_kind


EC2_STATUS: Mapping[str, int] = {
    "RequestLimitExceeded": 503,
    "InternalError": 500,
    "Unavailable": 503,
    "UnauthorizedOperation": 403,
}
"""EC2 models no error shapes; these statuses are the EC2 API reference's (every other client error is 400)."""
STS_STATUS: Mapping[str, int] = {
    "AccessDenied": 403, "Throttling": 400, "InternalFailure": 500, "ServiceUnavailable": 503,
}
"""STS models only its own errors; the common ones' statuses are the AWS common-errors page's."""


def status_of(service: str, code: str) -> int:
    """The HTTP status botocore's model gives the error shape ``code`` (EC2: its API reference's)."""
    if service == "ec2":
        return EC2_STATUS.get(code, 400)
    if service == "sts":
        return STS_STATUS.get(code, 400)
    shape = service_model(service).shape_for(code)
    return int(shape.metadata.get("error", {}).get("httpStatusCode", 400))


def service_error(
    service: str,
    role: Role,
    message: str,
    *,
    violation: str | None = None,
    retry_after: int | None = None,
    fields: list[dict[str, str]] | None = None,
) -> ApiError:
    """The error ``service`` really answers with for ``role``, shaped as its model says."""
    code = ERROR_CODES[service][role]
    body: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if code == "ValidationException":
        body["reason"] = "FIELD_VALIDATION_FAILED" if fields else "OTHER"
        if fields:
            body["fields"] = fields
    if code == "ThrottlingException" and retry_after is not None:
        headers["Retry-After"] = str(retry_after)
        # NOTE: botocore's standard and adaptive retries read only this one, in milliseconds.
        headers["x-amz-retry-after"] = str(retry_after * 1000)
    return ApiError(
        code,
        message,
        status=status_of(service, code),
        body=body,
        headers=headers,
        violation=violation,
    )


def invalid_request(service: str, problems: list[str]) -> ApiError:
    """A validation failure listing ``problems``, recorded as the caller's violation."""
    message = "; ".join(problems)
    fields = [{"name": _field_name(p), "message": p} for p in problems]
    return service_error(service, "invalid", message, violation=message, fields=fields)


def _field_name(problem: str) -> str:
    found = _PARAM.search(problem) or _LEADING.match(problem)
    return found.group(1) if found else "request"


def not_emulated(what: str) -> ApiError:
    """The emulator cannot answer faithfully: 501, never retried by botocore, a violation."""
    message = f"{what} is not emulated"
    return ApiError("NotImplemented", message, status=501, violation=message, violation_kind="unsupported")
