"""Inspector's CVE-level answers, asked once per distinct CVE for a whole sweep of many builds.

What `SearchVulnerabilities` says about a CVE (CISA KEV data, EPSS, exploit observed, CWEs, TTPs) is the
same for every image that holds it, in every region and account. So a sweep asks it once per CVE, not
per build: every build's plan gets a view (`SharedSearch`) of one memo of answers (futures, so two
builds asking at once wait for one call), with the answer cache behind it, under the same cache scope
as `gate check`'s search-only path. Memory grows with the distinct CVEs, never with the builds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any

from gate.aws.retry import Backoff, Caller
from gate.enrichment.cache import Cache, Scope
from gate.enrichment.inspector import SEARCH_SCOPE
from gate.enrichment.inspector_api import CVE_ID, InspectorApi
from gate.fields import DataKind
from gate.model import Enrichment, FeedInfo
from gate.timeutil import utcnow


class CveAnswers:
    """One memo of `SearchVulnerabilities` answers for a sweep; thread-safe; `close` once the sweep ends."""

    def __init__(self, client: Callable[[], Any], *, region: str, endpoint: str, cache: Cache | None,
                 max_workers: int = 8, now: Callable[[], datetime] = utcnow, caller: Caller | None = None) -> None:
        self._call = caller or Caller(Backoff())
        self._api = InspectorApi(client, self._call, SEARCH_SCOPE, now)
        self.region = region
        self._cache = cache.for_scope(Scope.of(SEARCH_SCOPE, region, endpoint)) if cache else None
        self._pool = ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="gate-cve")
        self._lock = threading.Lock()
        self._memo: dict[str, Future[Enrichment | None]] = {}
        self.cache_hits = 0

    def ask(self, ids: Collection[str]) -> None:
        """Start finding the answer of every id not asked about yet in this sweep; never waits for AWS."""
        claimed: dict[str, Future[Enrichment | None]] = {}
        with self._lock:
            for vid in dict.fromkeys(ids):
                if vid not in self._memo:
                    claimed[vid] = self._memo[vid] = Future()
        if not claimed:
            return
        entries = self._cache.get_many(list(claimed), scope=SEARCH_SCOPE) if self._cache is not None else {}
        with self._lock:
            self.cache_hits += len(entries)
        for vid, future in claimed.items():
            entry = entries.get(vid)
            if entry is not None:
                future.set_result(entry.enrichment)
            elif CVE_ID.fullmatch(vid):
                self._pool.submit(self._search, vid, future)
            else:  # NOTE: SearchVulnerabilities takes CVE ids only; others (ALAS, GHSA) have no answer here
                future.set_result(None)

    def _search(self, vid: str, future: Future[Enrichment | None]) -> None:
        try:
            found = self._api.search(vid)
        except BaseException as e:  # NOTE: every build holding this CVE is left unjudged with this error
            future.set_exception(e)
            return
        if self._cache is not None:
            self._cache.put_many([(vid, found)], scope=SEARCH_SCOPE)
        future.set_result(found)

    def answers(self, ids: Collection[str]) -> dict[str, Enrichment]:
        """The answers of `ids` (asked before), once all are in; the first failure among them is raised."""
        with self._lock:
            futures = {vid: self._memo[vid] for vid in ids}
        wait(futures.values())
        out: dict[str, Enrichment] = {}
        for vid, future in futures.items():
            answer = future.result()
            if answer is not None:
                out[vid] = answer
        return out

    def view(self) -> SharedSearch:
        return SharedSearch(self)

    def calls(self) -> dict[str, int]:
        return self._call.counts()

    @property
    def distinct(self) -> int:
        with self._lock:
            return len(self._memo)

    @property
    def last_response(self) -> datetime | None:
        return self._api.last_response

    def close(self) -> None:
        """Stop asking, and keep what was answered in the cache for the next sweep or check."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            for future in self._memo.values():
                future.cancel()  # NOTE: only queued ones; a waiting build gets CancelledError, not a hang
        if self._cache is not None:
            self._cache.flush()


class SharedSearch:
    """One build's `IncrementalEnricher` over the sweep's `CveAnswers`: the same answers `check`'s search-only
    path gives, asked once for all builds. `close` releases nothing: the answers outlive the build."""

    name = "inspector"
    provides: frozenset[str] = frozenset({DataKind.INSPECTOR_SEARCH})

    def __init__(self, answers: CveAnswers) -> None:
        self._answers = answers
        self._ids: dict[str, None] = {}

    def submit(self, vulnerability_ids: Collection[str]) -> None:
        self._ids.update(dict.fromkeys(vulnerability_ids))
        self._answers.ask(vulnerability_ids)

    def results(self) -> Mapping[str, Enrichment]:
        return self._answers.answers(list(self._ids))

    def feeds(self) -> tuple[FeedInfo, ...]:
        return (FeedInfo(name="Amazon Inspector", source=f"inspector2 {self._answers.region}",
                         as_of=self._answers.last_response,
                         detail=f"{len(self._ids)} ids; SearchVulnerabilities shared by the sweep",
                         provides=tuple(sorted(self.provides))),)

    def close(self) -> None:
        return None
