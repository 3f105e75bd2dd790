"""gate's own backoff for errors botocore will not retry, and the one place botocore errors become `AwsError`."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
    TokenRetrievalError,
)
from botocore.parsers import ResponseParserError

from gate.aws.shapes import check_answer
from gate.errors import AwsCallError, one_line

T = TypeVar("T")

RATE_LIMITED = frozenset({"CallRateLimitExceededException"})
"""Image Builder's throttling error: botocore does not know it is one, so gate retries it itself."""

DENIED = frozenset({"ForbiddenException", "AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})
THROTTLED = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"})
BAD_CREDENTIALS = frozenset({
    "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
    "InvalidSignatureException", "SignatureDoesNotMatch", "RequestExpired", "IncompleteSignature",
    "MissingAuthenticationToken",
})
REJECTED = frozenset({
    "ValidationException", "InvalidRequestException", "InvalidParameterValueException",
    "ClientException", "InvalidParameterException", "InvalidParameterCombinationException",
})
CREDENTIALS_HINT = "configure credentials: --profile/AWS_PROFILE, `aws sso login`, AWS_ACCESS_KEY_ID, or a role"


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "Unknown")


def denied(action: str, detail: str = "") -> AwsCallError:
    """The error for a missing IAM permission, however AWS reported it."""
    suffix = f": {one_line(detail)}" if detail else ""
    return AwsCallError(
        f"AWS denied {action}{suffix}",
        action=action,
        code="AccessDenied",
        hint=f"grant the IAM action {action} to the role or user gate runs as",
    )


def _client_error(error: ClientError, action: str) -> AwsCallError:
    code = error_code(error)
    meta = error.response.get("ResponseMetadata", {})
    status = meta.get("HTTPStatusCode")
    message = one_line(error.response.get("Error", {}).get("Message") or "")
    if code in DENIED or status == 403:
        return denied(action, f"{code}: {message}" if message else code)
    where = f"{action} failed with {code}" + (f" (HTTP {status})" if status else "")
    text = f"{where}: {message}" if message else where
    if code in BAD_CREDENTIALS:
        hint = CREDENTIALS_HINT
    elif code in THROTTLED or code in RATE_LIMITED:
        hint = "AWS is throttling this account; retry later or lower --max-workers"
    elif code == "ResourceNotFoundException":
        hint = "check the ARN and that --region is the region it lives in"
    elif code.startswith("InvalidAMIID"):
        hint = "the output AMI is gone or not in this region; judge a build whose AMI still exists"
    elif code in REJECTED:
        hint = "AWS rejected the request; check the ARN, and report it as a gate bug if it looks right"
    elif isinstance(status, int) and status >= 500:
        hint = "AWS had a server error even after retries; try again later"
    else:
        hint = "see the AWS error above"
    return AwsCallError(text, action=action, code=code, hint=hint)


def translate(error: Exception, action: str) -> AwsCallError:
    """Name the action and the cause of a botocore failure in one line, with what to do about it."""
    if isinstance(error, ClientError):
        return _client_error(error, action)
    name = type(error).__name__
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return AwsCallError(f"no usable AWS credentials for {action} ({one_line(error)})",
                            action=action, code=name, hint=CREDENTIALS_HINT)
    if isinstance(error, TokenRetrievalError | CredentialRetrievalError):
        return AwsCallError(f"cannot obtain AWS credentials for {action} ({one_line(error)})",
                            action=action, code=name, hint="run `aws sso login` or refresh the credentials")
    if isinstance(error, NoRegionError):
        return AwsCallError(f"no AWS region for {action}", action=action, code=name,
                            hint="pass --region or set AWS_REGION")
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return AwsCallError(f"{action} timed out ({one_line(error)})", action=action, code=name,
                            hint="check the network or proxy, then retry")
    if isinstance(error, EndpointConnectionError):
        return AwsCallError(f"cannot reach AWS for {action} ({one_line(error)})", action=action,
                            code=name, hint="check the network, proxy, --region and AWS_ENDPOINT_URL_*")
    if isinstance(error, ResponseParserError):
        return AwsCallError(f"AWS's answer to {action} could not be read: it was cut short or garbled "
                            f"({one_line(error, 120)})", action=action, code="MalformedAnswer",
                            hint="a proxy or the network damaged the answer; retry, and report it if it persists")
    if isinstance(error, ParamValidationError):
        return AwsCallError(f"invalid request for {action} ({one_line(error)})", action=action,
                            code=name, hint="check the ARN given on the command line")
    return AwsCallError(f"{action} failed: {name}: {one_line(error)}", action=action, code=name,
                        hint="check the network and AWS configuration, then retry")


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter, bounded both in attempts and in total time."""

    base: float = 0.5
    """Seconds: the first pause is uniform in [0, base)."""
    cap: float = 20.0
    """No single pause is longer than this."""
    max_attempts: int = 8
    """Attempts in all, the first included."""
    max_elapsed: float = 120.0
    """Seconds: stop retrying once the next pause would end later than this after the first attempt."""
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    clock: Callable[[], float] = time.monotonic

    def delays(self) -> Iterator[float]:
        """The pauses before each retry, with full jitter: `random() * min(cap, base * 2**n)`."""
        start = self.clock()
        for retry in range(max(0, self.max_attempts - 1)):
            pause = self.random() * min(self.cap, self.base * 2**retry)
            if self.clock() - start + pause > self.max_elapsed:
                return
            yield pause


class Caller:
    """Runs AWS calls: retries the given error codes with backoff, translates failures, counts calls."""

    def __init__(self, backoff: Backoff | None = None) -> None:
        self.backoff = backoff or Backoff()
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(
        self, action: str, fn: Callable[[], T], *, retry_codes: Collection[str] = RATE_LIMITED
    ) -> T:
        """`fn()` with retries; any failure, or an answer without a member gate reads, is an `AwsCallError`."""
        pauses = self.backoff.delays()
        attempts = 0
        while True:
            attempts += 1
            with self._lock:
                self._counts[action] += 1
            try:
                response = fn()
            except ResponseParserError as e:
                # NOTE: not a BotoCoreError: a body cut mid-XML (EC2) raises this rather than reading short.
                raise AwsCallError(f"{action} answered with a body botocore cannot parse ({one_line(e, 160)})",
                                   action=action, code="DamagedAnswer",
                                   hint="a proxy or the network damaged the answer; run gate again") from e
            except ClientError as e:
                code = error_code(e)
                if code not in retry_codes:
                    raise translate(e, action) from e
                pause = next(pauses, None)
                if pause is None:
                    raise AwsCallError(
                        f"{action} still failed with {code} after {attempts} attempts",
                        action=action,
                        code=code,
                        hint="AWS is rate-limiting this account; retry later or lower --max-workers",
                    ) from e
                self.backoff.sleep(pause)
            except BotoCoreError as e:
                raise translate(e, action) from e
            else:
                check_answer(action, response)
                return response

    def pages(
        self,
        action: str,
        method: Callable[..., Mapping[str, Any]],
        params: Mapping[str, Any],
        *,
        retry_codes: Collection[str] = RATE_LIMITED,
        cursor_name: str = "nextToken",
    ) -> Iterator[Mapping[str, Any]]:
        """Every response of a `nextToken` listing; a token handed back twice is an error, not a loop.

        `cursor_name` names the token in both request and response (EC2 spells it `NextToken`).
        """
        token: str | None = None
        seen: set[str] = set()
        while True:
            kwargs = {**params, cursor_name: token} if token else dict(params)
            response = self(action, partial(method, **kwargs), retry_codes=retry_codes)
            yield response
            token = response.get(cursor_name)
            if not token:
                return
            if token in seen:
                raise AwsCallError(f"{action} returned the same nextToken twice", action=action,
                                   code="RepeatedNextToken", hint="AWS pagination is looping; retry later")
            seen.add(token)

    def counts(self) -> dict[str, int]:
        """Calls made so far (retries included) per `service:Operation`."""
        with self._lock:
            return dict(self._counts)
