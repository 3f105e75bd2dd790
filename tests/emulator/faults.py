"""Fault injection settings, and the seeded bookkeeping that decides which calls fail."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Mapping, Set
from dataclasses import dataclass, field

from .errors import ApiError, service_error

Rate = float | Mapping[str, float]
"""A fraction of calls: one for every operation, or per operation name."""


@dataclass(frozen=True)
class DetailFault:
    """A BatchGetFindingDetails error for one finding ARN."""

    error_code: str = "INTERNAL_ERROR"
    """One of INTERNAL_ERROR, ACCESS_DENIED, FINDING_DETAILS_NOT_FOUND, INVALID_INPUT."""
    attempts: int | None = None
    """The first ``attempts`` requests for the ARN fail, later ones succeed; None: always."""


@dataclass(frozen=True)
class Faults:
    """What goes wrong, all deterministic for a given ``seed`` and combinable.

    Operation names are botocore's (``ListImageScanFindings``, ``ListFindings``...).
    Counters ("first N calls", attempts) start when the Faults are assigned to an emulator.
    """

    seed: int = 0
    latency: float = 0.0
    """Seconds slept in the handler thread before every call is answered."""
    latency_by_operation: Mapping[str, float] = field(default_factory=dict)
    """Per-operation latency, replacing ``latency`` for those operations."""
    throttle_rate: Rate = 0.0
    """Fraction of calls throttled (CallRateLimitExceededException / ThrottlingException)."""
    throttle_first: Mapping[str, int] = field(default_factory=dict)
    """Operation -> the first N calls of it are throttled."""
    retry_after_seconds: int = 1
    """The Retry-After header inspector2 sends with ThrottlingException."""
    error_rate: Rate = 0.0
    """Fraction of calls answered with a server error."""
    error_first: Mapping[str, int] = field(default_factory=dict)
    """Operation -> the first N calls of it get a server error (after throttling's share)."""
    unavailable: bool = False
    """imagebuilder server errors are ServiceUnavailableException 503, not ServiceException 500."""
    forbidden: Set[str] = frozenset()
    """Operations denied: ForbiddenException / AccessDeniedException 403."""
    invalid_token_once: Mapping[str, int] = field(default_factory=dict)
    """Operation -> page K: the first use of a page-K nextToken is rejected, later ones work."""
    invalid_token_always: Mapping[str, int] = field(default_factory=dict)
    """Operation -> page K: every page-K nextToken is rejected."""
    repeat_token: Mapping[str, int] = field(default_factory=dict)
    """Operation -> page K: page K+1 hands back page K's nextToken again (a loop)."""
    aggregation_offset: int = 0
    """Added to every severityCounts.all of ListImageScanFindingAggregations (floored at 0)."""
    error_message: str | None = None
    """Replaces the message of every injected error (throttle, server, forbidden): hostile text."""
    detail_errors: Mapping[str, DetailFault | str] = field(default_factory=dict)
    """Finding ARN -> error in BatchGetFindingDetails (a bare code means a permanent error)."""
    damaged_body: Mapping[str, str] = field(default_factory=dict)
    """Operation -> how every 200 answer's body is damaged on the wire: ``cut`` (its first half),
    ``html`` (a proxy's error page, not JSON or XML) or ``empty`` (``{}``, or an empty XML response)."""
    answer_for: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Operation -> {a value the caller filters on: the value answered for instead} (a service answering
    about the wrong resource): ListImageScanFindings' filter value, ListFindings' resourceTags values,
    SearchVulnerabilities' CVE id."""
    cut_answer: Mapping[str, int] = field(default_factory=dict)
    """Operation -> N: its successful answers from the Nth on (0: every one) are cut in half on the wire (a proxy
    or a connection that lost the tail)."""
    signal_on: Mapping[str, int] = field(default_factory=dict)
    """Operation -> signal number sent to this process while the call is served (CI cancelling the job mid-call;
    the emulator runs in the test's process, so the caller under test receives it)."""
    lagging_watermarks: bool = False
    """DescribeImages shows no ImageWatermarks (EC2 reads are eventually consistent: a mark attached a moment ago
    is not listed yet)."""


def _rate(rate: Rate, operation: str) -> float:
    return rate.get(operation, 0.0) if isinstance(rate, Mapping) else rate


def damage(body: bytes, how: str, operation: str, *, xml: bool = False) -> bytes:
    """``body`` damaged as ``Faults.damaged_body`` says."""
    if how == "cut":
        return body[: len(body) // 2]
    if how == "html":
        return b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    if how == "empty":
        return f"<{operation}Response></{operation}Response>".encode() if xml else b"{}"
    raise ValueError(f"unknown damage {how!r}")


class FaultState:
    """The Faults in force plus the counters they need; safe to use from handler threads."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._detail_attempts: Counter[str] = Counter()
        self._tokens_spent: set[str] = set()

    def next_call(self, operation: str) -> int:
        """Number this call of ``operation`` (0 for the first since the Faults were set)."""
        with self._lock:
            index = self._calls[operation]
            self._calls[operation] += 1
            return index

    def latency(self, operation: str) -> float:
        """Seconds to sleep before answering ``operation``."""
        return self.faults.latency_by_operation.get(operation, self.faults.latency)

    def _roll(self, kind: str, operation: str, index: int) -> float:
        # NOTE: one RNG per (seed, kind, operation, call) keeps decisions independent of
        # the order in which concurrent calls of different operations arrive.
        return random.Random(f"{self.faults.seed}/{kind}/{operation}/{index}").random()

    def injected(self, service: str, operation: str, index: int) -> ApiError | None:
        """The error call ``index`` of ``operation`` must get, if any (forbidden first)."""
        f = self.faults
        if operation in f.forbidden:
            return service_error(service, "forbidden", f.error_message or f"not authorized to perform {operation}")
        if index < f.throttle_first.get(operation, 0) or self._roll("throttle", operation, index) < _rate(
            f.throttle_rate, operation
        ):
            return service_error(service, "throttle", f.error_message or "Rate exceeded",
                                 retry_after=f.retry_after_seconds)
        if index < f.error_first.get(operation, 0) or self._roll("error", operation, index) < _rate(
            f.error_rate, operation
        ):
            message = f.error_message or "The service encountered an internal error"
            if f.unavailable:
                return service_error(service, "unavailable", message)
            return service_error(service, "server", message)
        return None

    def answered_for(self, operation: str, value: str) -> str:
        """The value ``operation``'s filter on ``value`` is answered for (itself, unless ``answer_for`` swaps it)."""
        return self.faults.answer_for.get(operation, {}).get(value, value)

    def damaged(self, operation: str, body: bytes, *, xml: bool = False) -> bytes:
        """The 200 body of ``operation`` as the caller receives it."""
        how = self.faults.damaged_body.get(operation)
        return body if how is None else damage(body, how, operation, xml=xml)

    def token_rejected(self, operation: str, page: int) -> bool:
        """Whether a nextToken minted on ``page`` of ``operation`` is refused this time."""
        f = self.faults
        if f.invalid_token_always.get(operation) == page:
            return True
        if f.invalid_token_once.get(operation) == page:
            with self._lock:
                if operation not in self._tokens_spent:
                    self._tokens_spent.add(operation)
                    return True
        return False

    def cuts(self, operation: str) -> bool:
        """Whether this successful answer of ``operation`` loses its second half."""
        first = self.faults.cut_answer.get(operation)
        if first is None:
            return False
        with self._lock:
            index = self._calls["cut/" + operation]
            self._calls["cut/" + operation] += 1
        return index >= first

    def repeats_token(self, operation: str, page: int) -> bool:
        """Whether the response for ``page`` repeats the nextToken it was asked with."""
        return self.faults.repeat_token.get(operation) == page - 1

    def detail_error(self, finding_arn: str) -> str | None:
        """The errorCode BatchGetFindingDetails reports for ``finding_arn`` this time, if any."""
        spec = self.faults.detail_errors.get(finding_arn)
        if spec is None:
            return None
        fault = DetailFault(spec) if isinstance(spec, str) else spec
        with self._lock:
            self._detail_attempts[finding_arn] += 1
            attempt = self._detail_attempts[finding_arn]
        if fault.attempts is None or attempt <= fault.attempts:
            return fault.error_code
        return None
