"""Exploit intelligence from Amazon Inspector, fetched in the background while findings are still listed."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from functools import partial
from typing import Any

from gate.aws.retry import AwsCallError, Backoff, Caller, denied, one_line
from gate.aws.session import Clients
from gate.enrichment.cache import Cache
from gate.enrichment.inspector_shapes import from_finding_detail, from_inspector_finding, from_vulnerability
from gate.enrichment.interface import combine
from gate.errors import AwsError
from gate.model import Enrichment, FeedInfo
from gate.sources.codec import ShapeError, to_utc

CVE_ID = re.compile(r"CVE-[12][0-9]{3}-[0-9]{1,10}")
"""The only ids `SearchVulnerabilities` accepts."""
BATCH = 10
"""`ListFindings` takes at most ten vulnerabilityId filters, `BatchGetFindingDetails` ten ARNs."""
LIST = "inspector2:ListFindings"
DETAILS = "inspector2:BatchGetFindingDetails"
SEARCH = "inspector2:SearchVulnerabilities"
SCOPE_TAG = "Ec2ImageBuilderArn"
NO_RETRY: tuple[str, ...] = ()
"""Inspector's throttling and 5xx are botocore's to retry; whatever is left is final."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _equals(*values: str) -> list[dict[str, str]]:
    return [{"comparison": "EQUALS", "value": v} for v in values]


def _unreadable(action: str, what: str, error: ShapeError) -> AwsError:
    return AwsError(f"{action} returned {what} gate cannot read: {error}",
                    hint="report this to the gate maintainers")


def _preference(finding: Mapping[str, Any]) -> tuple[bool, float]:
    """Prefer an ACTIVE finding, then the most recently updated: its details are the likeliest kept."""
    try:
        updated = to_utc(finding.get("updatedAt"))
    except ShapeError:
        updated = None
    return (finding.get("status") == "ACTIVE", updated.timestamp() if updated else 0.0)


class InspectorEnricher:
    """An `IncrementalEnricher` over Inspector; `submit` queues work on a bounded thread pool at once.

    Per distinct id: the cache; else `ListFindings` (ten ids a call) for finding ARNs, EPSS and exploit
    availability; `BatchGetFindingDetails` for one ARN per id; `SearchVulnerabilities` for CVE ids that
    still have no details. Each id is asked about once per run.
    """

    name = "inspector"

    def __init__(
        self,
        clients: Clients,
        *,
        scope_arn: str | None,
        cache: Cache | None,
        max_workers: int = 8,
        now: Callable[[], datetime] = _utcnow,
        caller: Caller | None = None,
        owns_clients: bool = False,
    ) -> None:
        self._clients = clients
        self._client = clients.inspector2
        self._scope = scope_arn
        self._cache = cache
        self._now = now
        self._call = caller or Caller(Backoff())
        self._owns_clients = owns_clients
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="gate-inspector")
        self._lock = threading.Lock()
        self._asked: set[str] = set()
        self._answers: dict[str, Enrichment] = {}
        self._futures: list[Future[None]] = []
        self._pending: list[str] = []
        self._error: BaseException | None = None
        self._cache_hits = 0
        self._last_response: datetime | None = None
        self._closed = False

    def submit(self, vulnerability_ids: Collection[str]) -> None:
        """Answer new ids from the cache and queue the rest in groups of ten; never waits for AWS."""
        self._raise_if_failed()
        with self._lock:
            fresh = [v for v in dict.fromkeys(vulnerability_ids) if v not in self._asked]
            self._asked.update(fresh)
        misses: list[str] = []
        for vid in fresh:
            entry = self._cache.get(vid, scope=self._scope) if self._cache else None
            if entry is None:
                misses.append(vid)
                continue
            with self._lock:
                self._cache_hits += 1
                if entry.enrichment is not None:
                    self._answers[vid] = entry.enrichment
        with self._lock:
            self._pending.extend(misses)
        self._dispatch(full_only=True)

    def _dispatch(self, *, full_only: bool) -> None:
        """Queue pending ids ten at a time; a short last group waits for the next page unless flushed."""
        with self._lock:
            while len(self._pending) >= BATCH or (self._pending and not full_only):
                group, self._pending = self._pending[:BATCH], self._pending[BATCH:]
                self._futures.append(self._pool.submit(self._work, group))

    def results(self) -> Mapping[str, Enrichment]:
        """Every submitted id's answer once all work is done; the first failure is raised instead."""
        self._dispatch(full_only=False)
        with self._lock:
            futures = list(self._futures)
        wait(futures, return_when=FIRST_EXCEPTION)
        self._raise_if_failed()
        for future in futures:
            future.result()
        with self._lock:
            return dict(self._answers)

    def close(self) -> None:
        """Cancel queued work, wait for running calls, and release the clients if this owns them."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._owns_clients:
            self._clients.close()

    def calls(self) -> dict[str, int]:
        """Inspector calls made in this run per `service:Operation` (gate's own retries included)."""
        return self._call.counts()

    @property
    def cache_hits(self) -> int:
        return self._cache_hits

    def feeds(self) -> tuple[FeedInfo, ...]:
        calls = self.calls()
        made = ", ".join(f"{op.split(':')[1]} {n}" for op, n in sorted(calls.items())) or "no calls"
        detail = f"{len(self._asked)} ids, {self._cache_hits} from cache; {made}"
        if self._cache is not None and self._cache.write_errors:
            detail += f"; {self._cache.write_errors} cache writes failed"
        source = f"inspector2 {self._client.meta.region_name}"
        return (FeedInfo(name="Amazon Inspector", source=source, as_of=self._last_response, detail=detail),)

    def _raise_if_failed(self) -> None:
        with self._lock:
            error = self._error
        if error is not None:
            raise error

    def _work(self, ids: Sequence[str]) -> None:
        with self._lock:
            if self._error is not None:
                return
        try:
            answers = self._resolve(ids)
        except BaseException as e:
            with self._lock:
                if self._error is None:
                    self._error = e
            raise
        with self._lock:
            self._answers.update(answers)
        if self._cache is not None:
            for vid in ids:
                self._cache.put(vid, answers.get(vid), scope=self._scope)

    def _stamp(self) -> datetime:
        as_of = self._now()
        with self._lock:
            if self._last_response is None or as_of > self._last_response:
                self._last_response = as_of
        return as_of

    def _resolve(self, ids: Sequence[str]) -> dict[str, Enrichment]:
        """One group of at most ten ids (so at most ten ARNs): details win, then listings, then search."""
        listed, arns = self._list_findings(ids)
        detailed = self._details(arns) if arns else {}
        searched: dict[str, Enrichment] = {}
        for vid in ids:
            if vid not in detailed and CVE_ID.fullmatch(vid):
                found = self._search(vid)
                if found is not None:
                    searched[vid] = found
        sources = (detailed, listed, searched)
        merged = combine(ids, sources)
        return {vid: merged[vid] for vid in ids if any(vid in answer for answer in sources)}

    def _list_findings(self, ids: Sequence[str]) -> tuple[dict[str, Enrichment], dict[str, str]]:
        criteria: dict[str, Any] = {
            "vulnerabilityId": _equals(*ids),
            "findingType": _equals("PACKAGE_VULNERABILITY"),
            "findingStatus": _equals("ACTIVE", "CLOSED"),
        }
        if self._scope:
            criteria["resourceTags"] = [{"comparison": "EQUALS", "key": SCOPE_TAG, "value": self._scope}]
        wanted = set(ids)
        listed: dict[str, Enrichment] = {}
        best: dict[str, Mapping[str, Any]] = {}
        params = {"filterCriteria": criteria, "maxResults": 100}
        for response in self._call.pages(LIST, self._client.list_findings, params, retry_codes=NO_RETRY):
            as_of = self._stamp()
            for finding in response.get("findings") or []:
                try:
                    value = from_inspector_finding(finding, as_of)
                except ShapeError as e:
                    raise _unreadable(LIST, "a finding", e) from e
                vid = value.vulnerability_id
                if vid not in wanted:
                    continue
                listed[vid] = listed[vid].merged_with(value) if vid in listed else value
                if vid not in best or _preference(finding) > _preference(best[vid]):
                    best[vid] = finding
        arns = {vid: str(f["findingArn"]) for vid, f in best.items() if f.get("findingArn")}
        return listed, arns

    def _details(self, arns: Mapping[str, str]) -> dict[str, Enrichment]:
        cve_of = {arn: vid for vid, arn in arns.items()}
        out: dict[str, Enrichment] = {}
        pending = list(cve_of)
        pauses = self._call.backoff.delays()
        attempts = 0
        while pending:
            attempts += 1
            response = self._call(DETAILS, partial(self._client.batch_get_finding_details,
                                                   findingArns=pending), retry_codes=NO_RETRY)
            as_of = self._stamp()
            answered: set[str] = set()
            for detail in response.get("findingDetails") or []:
                arn = detail.get("findingArn")
                if arn in cve_of and arn in pending:
                    try:
                        out[cve_of[arn]] = from_finding_detail(detail, cve_of[arn], as_of)
                    except ShapeError as e:
                        raise _unreadable(DETAILS, f"details for {arn}", e) from e
                    answered.add(arn)
            retry: list[str] = []
            for error in response.get("errors") or []:
                arn = error.get("findingArn", "")
                code = error.get("errorCode", "")
                if arn not in pending:
                    continue
                answered.add(arn)
                message = one_line(error.get("errorMessage") or code)
                if code == "FINDING_DETAILS_NOT_FOUND":
                    continue
                if code == "INTERNAL_ERROR":
                    retry.append(arn)
                    continue
                if code == "ACCESS_DENIED":
                    raise denied(DETAILS, f"{arn}: {message}")
                raise AwsCallError(f"{DETAILS} failed with {code} for {arn}: {message}", action=DETAILS,
                                   code=str(code), hint="report this to the gate maintainers")
            unanswered = [arn for arn in pending if arn not in answered]
            if unanswered:
                raise AwsError(f"{DETAILS} answered neither details nor an error for {len(unanswered)} "
                               f"findings (e.g. {unanswered[0]})", hint="retry later")
            if retry:
                pause = next(pauses, None)
                if pause is None:
                    raise AwsCallError(
                        f"{DETAILS} still had INTERNAL_ERROR for {len(retry)} findings after {attempts} "
                        "attempts", action=DETAILS, code="INTERNAL_ERROR",
                        hint="Inspector is having trouble; retry later")
                self._call.backoff.sleep(pause)
            pending = retry
        return out

    def _search(self, vid: str) -> Enrichment | None:
        kwargs: dict[str, Any] = {"filterCriteria": {"vulnerabilityIds": [vid]}}
        response = self._call(SEARCH, partial(self._client.search_vulnerabilities, **kwargs),
                              retry_codes=NO_RETRY)
        as_of = self._stamp()
        for vulnerability in response.get("vulnerabilities") or []:
            if str(vulnerability.get("id", "")).upper() == vid.upper():
                try:
                    return from_vulnerability({**vulnerability, "id": vid}, as_of)
                except ShapeError as e:
                    raise _unreadable(SEARCH, f"data for {vid}", e) from e
        return None
