"""gate's backoff and the translation of botocore failures into one-line `AwsError`s with hints."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    TokenRetrievalError,
)

from gate.aws.retry import Backoff, Caller, translate
from gate.errors import AwsCallError, AwsError, ExitCode
from tests.aws.fixtures import FakeTime


def _client_error(code: str, status: int, message: str = "it went wrong") -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": message},
                     "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "GetImage")


def test_full_jitter_grows_exponentially_up_to_the_cap(fake_time: FakeTime) -> None:
    backoff = Backoff(base=0.5, cap=3, max_attempts=6, max_elapsed=1000, random=lambda: 1.0,
                      clock=fake_time.clock)
    assert list(backoff.delays()) == [0.5, 1, 2, 3, 3]
    jittered = Backoff(base=0.5, cap=3, max_attempts=3, random=lambda: 0.25, clock=fake_time.clock)
    assert list(jittered.delays()) == [0.125, 0.25]


def test_backoff_stops_before_exceeding_the_total_time(fake_time: FakeTime) -> None:
    backoff = Backoff(base=1, cap=100, max_attempts=100, max_elapsed=10, random=lambda: 1.0,
                      clock=fake_time.clock, sleep=fake_time.sleep)
    pauses = []
    for pause in backoff.delays():
        pauses.append(pause)
        backoff.sleep(pause)
    assert pauses == [1, 2, 4]
    assert sum(fake_time.sleeps) <= 10


def test_the_caller_retries_rate_limiting_then_succeeds(fake_time: FakeTime) -> None:
    caller = Caller(Backoff(base=0.1, random=lambda: 0.5, sleep=fake_time.sleep, clock=fake_time.clock))
    answer = {"image": {"arn": "ok"}}
    outcomes: list[Any] = [_client_error("CallRateLimitExceededException", 429)] * 2 + [answer]

    def call() -> Any:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert caller("imagebuilder:GetImage", call) == answer
    assert fake_time.sleeps == [0.05, 0.1]
    assert caller.counts() == {"imagebuilder:GetImage": 3}


def test_other_errors_are_not_retried(fake_time: FakeTime) -> None:
    caller = Caller(Backoff(sleep=fake_time.sleep, clock=fake_time.clock))

    def call() -> None:
        raise _client_error("InvalidRequestException", 400)

    with pytest.raises(AwsCallError) as err:
        caller("imagebuilder:GetImage", call)
    assert err.value.code == "InvalidRequestException"
    assert caller.counts() == {"imagebuilder:GetImage": 1}
    assert fake_time.sleeps == []


@pytest.mark.parametrize(("code", "status", "action", "message", "hint"), [
    ("ForbiddenException", 403, "imagebuilder:ListImageScanFindings",
     "AWS denied imagebuilder:ListImageScanFindings: ForbiddenException: it went wrong",
     "grant the IAM action imagebuilder:ListImageScanFindings"),
    ("AccessDeniedException", 403, "inspector2:ListFindings",
     "AWS denied inspector2:ListFindings: AccessDeniedException: it went wrong",
     "grant the IAM action inspector2:ListFindings"),
    ("ExpiredTokenException", 400, "inspector2:ListFindings",
     "inspector2:ListFindings failed with ExpiredTokenException (HTTP 400): it went wrong", "aws sso login"),
    ("ThrottlingException", 429, "inspector2:ListFindings",
     "inspector2:ListFindings failed with ThrottlingException (HTTP 429): it went wrong", "--max-workers"),
    ("ResourceNotFoundException", 404, "imagebuilder:GetImage",
     "imagebuilder:GetImage failed with ResourceNotFoundException (HTTP 404): it went wrong", "--region"),
    ("ServiceException", 500, "imagebuilder:GetImage",
     "imagebuilder:GetImage failed with ServiceException (HTTP 500): it went wrong", "try again later"),
])
def test_client_errors_name_the_action_and_say_what_to_do(code: str, status: int, action: str, message: str,
                                                          hint: str) -> None:
    error = translate(_client_error(code, status), action)
    assert isinstance(error, AwsError)
    assert error.exit_code == ExitCode.INCOMPLETE
    assert error.message == message
    assert hint in (error.hint or "")


def test_messages_stay_on_one_line() -> None:
    error = translate(_client_error("ValidationException", 400, "line one\n  line two\t" + "x" * 400),
                      "inspector2:ListFindings")
    assert "\n" not in error.message
    assert len(error.message) < 400


@pytest.mark.parametrize(("exc", "message", "hint"), [
    (NoCredentialsError(), "no usable AWS credentials for imagebuilder:GetImage", "--profile"),
    (TokenRetrievalError(provider="sso", error_msg="expired"), "cannot obtain AWS credentials", "sso login"),
    (EndpointConnectionError(endpoint_url="https://imagebuilder.us-east-1.amazonaws.com"),
     "cannot reach AWS for imagebuilder:GetImage", "network"),
    (ConnectTimeoutError(endpoint_url="https://x"), "imagebuilder:GetImage timed out", "network"),
])
def test_botocore_errors_name_the_action(exc: Exception, message: str, hint: str) -> None:
    error = translate(exc, "imagebuilder:GetImage")
    assert error.message.startswith(message)
    assert hint in (error.hint or "")
