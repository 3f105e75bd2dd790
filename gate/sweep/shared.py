"""What every build of a sweep shares, opened once: clients per region, the feeds, Inspector's CVE answers.

A build's `Plan` is made here the way `gate check` makes it (`live.open_live_source`: one `GetImage`,
the scan type's source, every page and recount), except that the plan owns none of the shared parts:
its `close` releases only what the build itself opened, and the sweep closes the rest once at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from gate.aws.retry import Backoff, Caller
from gate.aws.session import Clients, make_clients, make_session
from gate.enrichment.cve_answers import CveAnswers
from gate.enrichment.interface import Enricher
from gate.errors import BuildSkipped, one_line
from gate.fleet import Ami
from gate.live import open_live_source
from gate.model import Enrichment, FeedInfo
from gate.run import Plan
from gate.sources.scanresults import read_scan_results
from gate.sweep.targets import SKIP_STATES, UNFINISHED, Target, amis_of


class RegionClients:
    """One `Clients` per region, made on first use and shared by every build there (boto3 clients are
    thread-safe for calls; making them is not, so that happens under a lock)."""

    def __init__(self, profile: str | None, *, max_pool: int) -> None:
        self.profile = profile
        self._profile = profile
        self._max_pool = max_pool
        self._lock = threading.Lock()
        self._by_region: dict[str, Clients] = {}

    def __call__(self, region: str) -> Clients:
        with self._lock:
            clients = self._by_region.get(region)
            if clients is None:
                clients = make_clients(make_session(region, self._profile), max_pool=self._max_pool)
                self._by_region[region] = clients
            return clients

    def close(self) -> None:
        with self._lock:
            made, self._by_region = list(self._by_region.values()), {}
        for clients in made:
            clients.close()


class _Serial:
    """An offline enricher shared by builds judged in several threads: one look-up at a time."""

    def __init__(self, inner: Enricher) -> None:
        self._inner = inner
        self.name = inner.name
        self.provides = inner.provides
        self._lock = threading.Lock()

    def enrich(self, vulnerability_ids: Collection[str]) -> Mapping[str, Enrichment]:
        with self._lock:
            return self._inner.enrich(vulnerability_ids)

    def feeds(self) -> tuple[FeedInfo, ...]:
        with self._lock:
            return self._inner.feeds()


@dataclass(frozen=True)
class Learned:
    """What a build's own `GetImage` told about it, for a build named only by its ARN."""

    pipeline: str | None
    amis: tuple[Ami, ...]
    state: str


def _state(image: Mapping[str, Any]) -> tuple[str, str]:
    state = image.get("state") or {}
    return str(state.get("status") or "UNKNOWN"), one_line(state.get("reason") or "")


def refuse_state(arn: str, status: str, reason: str) -> None:
    """`BuildSkipped` for a build with nothing to launch or not yet released."""
    because = f" ({reason})" if reason else ""
    if status in SKIP_STATES:
        raise BuildSkipped(f"{arn} is {status}{because}: nothing to judge")
    if status in UNFINISHED:
        raise BuildSkipped(f"{arn} is still {status}{because}: not released yet")


class Resources:
    """The sweep's shared parts and its plan factory; `close` once, after the last build."""

    def __init__(self, clients: RegionClients, answers: CveAnswers, offline: list[Enricher], *,
                 wait_timeout: float = 0, caller: Caller | None = None) -> None:
        self.clients = clients
        self.answers = answers
        self.offline: list[Enricher] = [_Serial(e) for e in offline]
        self.wait_timeout = wait_timeout
        self.caller = caller or Caller(Backoff())
        self._lock = threading.Lock()
        self._learned: dict[str, Learned] = {}
        self._context: Any = None

    def actions_context(self) -> Any:
        """The AWS context the watermark actions share (STS asked once), made on first use."""
        from gate.sweep.revoke import SharedContext  # noqa: PLC0415 - only sweeps that revoke need it

        with self._lock:
            if self._context is None:
                self._context = SharedContext(self.answers.region, self.clients.profile, self.caller)
            return self._context

    def open_plan(self, target: Target) -> Plan:
        """The build's plan, as `gate check` would make it, over the shared clients, answers and feeds."""
        image: Mapping[str, Any] | None = None
        if target.listed:
            refuse_state(target.arn, target.state or "", target.reason)
        clients = self.clients(target.region)
        if not target.listed:
            image = self.caller("imagebuilder:GetImage", partial(clients.imagebuilder.get_image,
                                                                  imageBuildVersionArn=target.arn)).get("image") or {}
            status, reason = _state(image)
            pipeline = image.get("sourcePipelineArn")
            with self._lock:
                self._learned[target.arn] = Learned(pipeline if isinstance(pipeline, str) else None, amis_of(image),
                                                    status)
            refuse_state(target.arn, status, reason)
        source = open_live_source(clients, target.arn, wait_timeout=self.wait_timeout, caller=self.caller, image=image)
        # NOTE: no closers: the clients, the answers and the feeds belong to the sweep, not to this build.
        return Plan(source=source, live=self.answers.view(), offline=self.offline, pipeline=target.pipeline,
                    scan_results=partial(read_scan_results, clients, target.arn, self.caller))

    def learned(self, arn: str) -> Learned | None:
        """What `open_plan` learned of a build named by ARN alone (taken once: memory stays flat)."""
        with self._lock:
            return self._learned.pop(arn, None)

    def peek(self, arn: str) -> Learned | None:
        """What `open_plan` learned of a build named by ARN alone, left for its record."""
        with self._lock:
            return self._learned.get(arn)

    def calls(self) -> dict[str, int]:
        counts = dict(self.caller.counts())
        for op, n in self.answers.calls().items():
            counts[op] = counts.get(op, 0) + n
        return counts

    def close(self) -> None:
        try:
            self.answers.close()
            if self._context is not None:
                self._context.close()
        finally:
            self.clients.close()
