"""Exploit intelligence from Amazon Inspector, fetched in the background while findings are still listed.

Work flows through three stages on one bounded pool: `ListFindings` for groups of ten new ids,
`BatchGetFindingDetails` for ten finding ARNs at a time (gathered across groups, so the call count is
the minimum), and one `SearchVulnerabilities` task per CVE that is still without details.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gate.aws.retry import Backoff, Caller
from gate.aws.session import Clients
from gate.enrichment.cache import Cache, Scope
from gate.enrichment.inspector_api import BATCH, CVE_ID, InspectorApi
from gate.enrichment.interface import combine
from gate.fields import DataKind
from gate.model import Enrichment, FeedInfo
from gate.timeutil import utcnow

SEARCH_SCOPE = "inspector2:SearchVulnerabilities"
"""The cache scope of search-only answers: CVE-wide, never tied to one image."""


@dataclass
class _Partial:
    """What each stage learned about one id; details outrank the listing, which outranks search."""

    listed: Enrichment | None = None
    detailed: Enrichment | None = None
    searched: Enrichment | None = None

    def answer(self, vid: str) -> Enrichment | None:
        found = [{vid: e} for e in (self.detailed, self.listed, self.searched) if e is not None]
        return combine([vid], found)[vid] if found else None


class InspectorEnricher:
    """An `IncrementalEnricher` over Inspector; each id is asked about once per run."""

    name = "inspector"
    provides: frozenset[str] = frozenset({DataKind.INSPECTOR})

    def __init__(
        self,
        clients: Clients,
        *,
        scope_arn: str | None,
        cache: Cache | None,
        max_workers: int = 8,
        now: Callable[[], datetime] = utcnow,
        caller: Caller | None = None,
        search_only: bool = False,
    ) -> None:
        """`search_only`: ask `SearchVulnerabilities` alone, for findings `ListFindings` never holds
        (on-demand AMI scans); answers are cached under their own scope, so a run that wants
        `ListFindings` and details never takes a search-only answer for a complete one."""
        self._search_only = search_only
        # NOTE: cached answers hold only for the partition, account, region and endpoint that gave them;
        # the build's ARN names the partition and account on either path (search answers included).
        where = Scope.of(scope_arn, clients.inspector2.meta.region_name,
                         clients.inspector2.meta.endpoint_url) if cache else None
        if search_only:
            scope_arn = SEARCH_SCOPE
            self.provides = frozenset({DataKind.INSPECTOR_SEARCH})
        self._clients = clients
        self._call = caller or Caller(Backoff())
        self._api = InspectorApi(lambda: clients.inspector2, self._call, scope_arn, now)
        self._scope = scope_arn
        self._cache = cache.for_scope(where) if cache and where else None
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="gate-inspector")
        self._lock = threading.Lock()
        self._asked: set[str] = set()
        self._cached: dict[str, Enrichment] = {}
        self._partial: dict[str, _Partial] = {}
        self._pending_ids: list[str] = []
        self._pending_arns: dict[str, str] = {}
        self._lists_running = 0
        self._final = False
        self._futures: list[Future[None]] = []
        self._error: BaseException | None = None
        self._cache_hits = 0
        self._closed = False

    # -- the IncrementalEnricher protocol ------------------------------------------------------
    def submit(self, vulnerability_ids: Collection[str]) -> None:
        """Answer new ids from the cache and queue the rest; never waits for AWS."""
        self._raise_if_failed()
        with self._lock:
            fresh = [v for v in dict.fromkeys(vulnerability_ids) if v not in self._asked]
            self._asked.update(fresh)
        misses: list[str] = []
        hits: dict[str, Enrichment | None] = {}
        entries = self._cache.get_many(fresh, scope=self._scope) if self._cache and fresh else {}
        for vid in fresh:
            entry = entries.get(vid)
            if entry is not None and not self._search_only and entry.scope == SEARCH_SCOPE:
                entry = None
            if entry is None:
                misses.append(vid)
            else:
                hits[vid] = entry.enrichment
        with self._lock:
            self._cache_hits += len(hits)
            self._cached.update({vid: e for vid, e in hits.items() if e is not None})
            self._partial.update((vid, _Partial()) for vid in misses)
            if not self._search_only:
                self._pending_ids.extend(misses)
            else:
                for vid in misses:
                    if CVE_ID.fullmatch(vid):
                        self._start(self._search_stage, vid)
        if self._search_only:
            self._remember([vid for vid in misses if not CVE_ID.fullmatch(vid)])
        self._dispatch()

    def results(self) -> Mapping[str, Enrichment]:
        """Every submitted id's answer once all work is done; the first failure is raised instead."""
        with self._lock:
            self._final = True
        self._dispatch()
        while True:
            with self._lock:
                futures = [f for f in self._futures if not f.done()]
            if not futures:
                break
            wait(futures, return_when=FIRST_EXCEPTION)
            self._raise_if_failed()
        self._raise_if_failed()
        if self._cache is not None:
            self._cache.flush()
        with self._lock:
            answers = {vid: p.answer(vid) for vid, p in self._partial.items()}
        found = {vid: a for vid, a in answers.items() if a is not None}
        return {**self._cached, **found}

    def close(self) -> None:
        """Cancel queued work and wait for running calls; the clients belong to whoever created them."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._cache is not None:
            # NOTE: answers settled before a failure are still final answers; keep them for the next run.
            self._cache.flush()

    def feeds(self) -> tuple[FeedInfo, ...]:
        calls = self.calls()
        made = ", ".join(f"{op.split(':')[1]} {n}" for op, n in sorted(calls.items())) or "no calls"
        detail = f"{len(self._asked)} ids, {self._cache_hits} from cache; {made}"
        if self._cache is not None and self._cache.write_errors:
            detail += f"; {self._cache.write_errors} cache writes failed"
        if self._cache is not None and self._cache.problem:
            detail += f"; cache not used: {self._cache.problem}"
        source = f"inspector2 {self._clients.region}"
        return (FeedInfo(name="Amazon Inspector", source=source, as_of=self._api.last_response, detail=detail,
                         provides=tuple(sorted(self.provides))),)

    def calls(self) -> dict[str, int]:
        """Inspector calls made in this run per `service:Operation` (gate's own retries included)."""
        return self._call.counts()

    @property
    def cache_hits(self) -> int:
        return self._cache_hits

    # -- scheduling ----------------------------------------------------------------------------
    def _dispatch(self) -> None:
        """Start full groups now; short ones only once no more ids (or ARNs) can join them."""
        with self._lock:
            if self._error is not None:
                return
            while len(self._pending_ids) >= BATCH or (self._final and self._pending_ids):
                group, self._pending_ids = self._pending_ids[:BATCH], self._pending_ids[BATCH:]
                self._lists_running += 1
                self._start(self._list_stage, group)
            more_arns_possible = not self._final or self._pending_ids or self._lists_running
            while len(self._pending_arns) >= BATCH or (self._pending_arns and not more_arns_possible):
                batch = dict(list(self._pending_arns.items())[:BATCH])
                for arn in batch:
                    del self._pending_arns[arn]
                self._start(self._details_stage, batch)

    def _start(self, stage: Callable[[Any], None], work: Any) -> None:
        """Queue a stage (the lock is held); its failure becomes the run's error."""
        def run() -> None:
            with self._lock:
                if self._error is not None:
                    return
            try:
                stage(work)
            except BaseException as e:
                with self._lock:
                    if self._error is None:
                        self._error = e
                raise
        self._futures.append(self._pool.submit(run))

    def _list_stage(self, group: list[str]) -> None:
        try:
            listed, arns = self._api.list_findings(group)
        except BaseException:
            with self._lock:
                self._lists_running -= 1
            raise
        settled = []
        with self._lock:
            self._lists_running -= 1  # in the same critical section that adds this group's ARNs
            for vid in group:
                self._partial[vid].listed = listed.get(vid)
            self._pending_arns.update((arn, vid) for vid, arn in arns.items())
            for vid in group:
                if vid in arns:
                    continue
                if CVE_ID.fullmatch(vid):
                    self._start(self._search_stage, vid)
                else:
                    settled.append(vid)
        self._dispatch()
        self._remember(settled)

    def _details_stage(self, batch: dict[str, str]) -> None:
        detailed = self._api.details(batch)
        settled = []
        with self._lock:
            for vid in batch.values():
                self._partial[vid].detailed = detailed.get(vid)
                if vid not in detailed and CVE_ID.fullmatch(vid):
                    self._start(self._search_stage, vid)
                else:
                    settled.append(vid)
        self._remember(settled)

    def _search_stage(self, vid: str) -> None:
        found = self._api.search(vid)
        with self._lock:
            self._partial[vid].searched = found
        self._remember([vid])

    def _remember(self, settled: list[str]) -> None:
        """Cache final answers as they settle, in the workers, overlapping the listing's waits."""
        if self._cache is None or not settled:
            return
        with self._lock:
            answers = [(vid, self._partial[vid].answer(vid)) for vid in settled]
        self._cache.put_many(answers, scope=self._scope)

    def _raise_if_failed(self) -> None:
        with self._lock:
            error = self._error
        if error is not None:
            raise error
