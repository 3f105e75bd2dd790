"""CISA's SSVC points looked up per CVE in the CVE Services record API, cached like Inspector answers.

The CVE record API (`https://cveawg.mitre.org/api/cve/CVE-…`) is the authoritative copy: CISA publishes its
ADP container to the CVE record, and the cisagov/vulnrichment repository mirrors it ("downstream consumers
need not fork and track this GitHub repo if they are already consuming live CVE data", its README).
A 404 means the CVE has no record (so no SSVC points); any other failure after retries stops the run.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gate.enrichment.answerdb import AnswerDb
from gate.enrichment.vulnrichment import CVE_ID, ssvc_from_record
from gate.errors import IncompleteError, InputError, one_line
from gate.fields import DataKind
from gate.jsondocs import loads_strict
from gate.model import Enrichment, FeedInfo, Ssvc
from gate.serialize import ssvc_from_json, ssvc_to_json
from gate.timeutil import to_utc, utcnow

DEFAULT_URL = "https://cveawg.mitre.org/api/cve/"
SOURCE = "cve-record-api"
SCHEMA_VERSION = 1
KIND = "vulnrichment"
MAX_RESPONSE = 8 * 1024 * 1024
RETRIES = 3
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class _Answer:
    ssvc: Ssvc | None
    stored_at: datetime


class RecordCache:
    """Answers of kind `vulnrichment` in the answer database, scoped to the API's URL; odd or old ones are misses."""

    def __init__(self, directory: Path, ttl: timedelta, clock: Callable[[], datetime] = utcnow,
                 db: AnswerDb | None = None) -> None:
        self.db = db or AnswerDb(directory)
        self.ttl = ttl
        self._clock = clock
        self.write_errors = 0

    @staticmethod
    def _scope(base_url: str) -> str:
        # NOTE: keyed by the endpoint too, so answers from a test server never stand in for the real API.
        return hashlib.sha256(base_url.encode("utf-8")).hexdigest()[:16]

    def get_many(self, base_url: str, vids: Collection[str]) -> dict[str, _Answer]:
        found: dict[str, _Answer] = {}
        for vid, text in self.db.get_many(KIND, self._scope(base_url), vids).items():
            answer = self._checked(text, vid, base_url + vid.upper())
            if answer is not None:
                found[vid] = answer
        return found

    def _checked(self, text: str, vid: str, url: str) -> _Answer | None:
        try:
            doc = loads_strict(text)
            if doc.get("schema") != SCHEMA_VERSION or doc.get("vulnerabilityId") != vid or doc.get("url") != url:
                return None
            stored_at = to_utc(doc["storedAt"])
            ssvc = ssvc_from_json(doc["ssvc"])
        except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError, RecursionError):
            return None  # NOTE: ShapeError and JSONDecodeError are ValueErrors
        if stored_at is None:
            return None
        age = self._clock() - stored_at
        if age < timedelta(0) or age >= self.ttl:
            return None
        return _Answer(ssvc, stored_at)

    def put_many(self, base_url: str, answers: Mapping[str, _Answer]) -> None:
        """Store the answers in one transaction; failures only count in `write_errors`."""
        rows = []
        for vid, answer in answers.items():
            doc = {"schema": SCHEMA_VERSION, "vulnerabilityId": vid, "url": base_url + vid.upper(),
                   "storedAt": answer.stored_at.isoformat(), "ssvc": ssvc_to_json(answer.ssvc)}
            rows.append((vid, answer.stored_at.isoformat(), json.dumps(doc, sort_keys=True)))
        if rows and not self.db.put_many(KIND, self._scope(base_url), rows, now=self._clock()):
            self.write_errors += len(rows)


class VulnrichmentOnline:
    """An `Enricher` asking the CVE record API about each CVE id once, with a bounded pool and retries."""

    name = SOURCE
    provides: frozenset[str] = frozenset({DataKind.VULNRICHMENT})

    def __init__(self, base_url: str = DEFAULT_URL, *, cache: RecordCache | None = None, max_workers: int = 8,
                 timeout: float = 20, sleep: Callable[[float], None] = time.sleep,
                 now: Callable[[], datetime] = utcnow) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise InputError(f"--vulnrichment-url {base_url!r} is not an http(s) URL")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._cache = cache
        self._workers = max(1, max_workers)
        self._timeout = timeout
        self._sleep = sleep
        self._now = now
        self._asked_at: datetime | None = None
        self.requests = 0
        self.cache_hits = 0

    def enrich(self, vulnerability_ids: Collection[str]) -> dict[str, Enrichment]:
        cves = [v for v in dict.fromkeys(vulnerability_ids) if CVE_ID.fullmatch(v.upper())]
        self._asked_at = self._now()
        answers = self._cache.get_many(self.base_url, cves) if self._cache is not None else {}
        self.cache_hits += len(answers)
        missing = [vid for vid in cves if vid not in answers]
        fetched: dict[str, _Answer] = {}
        failed: BaseException | None = None
        with ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="gate-vulnrichment") as pool:
            for vid, future in [(vid, pool.submit(self._answer, vid)) for vid in missing]:
                try:
                    fetched[vid] = future.result()
                except BaseException as e:  # NOTE: raised below, once the answers that did arrive are kept
                    failed = failed or e
        if self._cache is not None:
            self._cache.put_many(self.base_url, fetched)
        if failed is not None:
            raise failed
        answers.update(fetched)
        return {vid: Enrichment(vulnerability_id=vid, ssvc=answers[vid].ssvc) for vid in cves
                if answers[vid].ssvc is not None}

    def _answer(self, vid: str) -> _Answer:
        url = self.base_url + vid.upper()
        record = self._fetch(url)
        try:
            ssvc = ssvc_from_record(record, vid, url, SOURCE) if record is not None else None
        except InputError as e:  # the service answered something that is not a readable record
            raise IncompleteError(e.message, hint="retry later, or pass --vulnrichment DIR") from e
        return _Answer(ssvc, self._now())

    def _fetch(self, url: str) -> Any:
        """The record's JSON; None for 404 (no such record); `IncompleteError` when it cannot be had."""
        problem = ""
        for attempt in range(RETRIES):
            if attempt:
                self._sleep(0.5 * 2 ** attempt)
            self.requests += 1
            request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "gate"})  # noqa: S310 - http(s) only
            try:
                with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 - http(s) only
                    body = response.read(MAX_RESPONSE + 1)
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    return None
                problem = f"HTTP {e.code}"
                if e.code in RETRY_STATUS:
                    continue
                break
            except (urllib.error.URLError, OSError) as e:
                problem = str(getattr(e, "reason", e))
                continue
            if len(body) > MAX_RESPONSE:
                raise IncompleteError(f"{url}: response larger than {MAX_RESPONSE // 2**20} MiB")
            try:
                return loads_strict(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:  # NOTE: a duplicated key too: which copy is CISA's?
                problem = f"a response that is not JSON gate accepts ({one_line(str(e), 80)})"
                continue
        raise IncompleteError(f"the CVE record API could not answer {url}: {problem}",
                              hint="retry later, or pass --vulnrichment DIR with a copy of cisagov/vulnrichment")

    def feeds(self) -> tuple[FeedInfo, ...]:
        detail = f"{self.requests} requests, {self.cache_hits} cached answers"
        if self._cache is not None and self._cache.write_errors:
            detail += f"; {self._cache.write_errors} cache writes failed"
        if self._cache is not None and self._cache.db.problem:
            detail += f"; cache not used: {self._cache.db.problem}"
        return (FeedInfo(name="CISA Vulnrichment (CVE record API)", source=self.base_url, as_of=self._asked_at,
                         detail=detail, provides=(DataKind.VULNRICHMENT,)),)
