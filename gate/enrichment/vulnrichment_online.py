"""CISA's SSVC points looked up per CVE in the CVE Services record API, cached on disk like Inspector answers.

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
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gate.enrichment.vulnrichment import CVE_ID, ssvc_from_record
from gate.errors import IncompleteError, InputError, ShapeError
from gate.fields import Source
from gate.files import atomic_write
from gate.model import Enrichment, FeedInfo, Ssvc
from gate.serialize import ssvc_from_json, ssvc_to_json
from gate.timeutil import to_utc, utcnow

DEFAULT_URL = "https://cveawg.mitre.org/api/cve/"
SOURCE = "cve-record-api"
SCHEMA_VERSION = 1
MAX_RESPONSE = 8 * 1024 * 1024
RETRIES = 3
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class _Answer:
    ssvc: Ssvc | None
    stored_at: datetime


class RecordCache:
    """One JSON file per CVE under `<directory>/vulnrichment/v<schema>/`; odd, old or foreign entries are misses."""

    def __init__(self, directory: Path, ttl: timedelta, clock: Callable[[], datetime] = utcnow) -> None:
        self.root = directory / "vulnrichment" / f"v{SCHEMA_VERSION}"
        self.ttl = ttl
        self._clock = clock
        self.write_errors = 0

    def _path(self, vid: str, url: str) -> Path:
        # NOTE: keyed by the endpoint too, so answers from a test server never stand in for the real API.
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
        return self.root / digest / f"{vid}.json"

    def get(self, vid: str, url: str) -> _Answer | None:
        try:
            doc = json.loads(self._path(vid, url).read_bytes())
            if doc.get("schema") != SCHEMA_VERSION or doc.get("vulnerabilityId") != vid or doc.get("url") != url:
                return None
            stored_at = to_utc(doc["storedAt"])
            ssvc = ssvc_from_json(doc["ssvc"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ShapeError):
            return None
        if stored_at is None:
            return None
        age = self._clock() - stored_at
        if age < timedelta(0) or age >= self.ttl:
            return None
        return _Answer(ssvc, stored_at)

    def put(self, vid: str, url: str, answer: _Answer) -> None:
        doc = {"schema": SCHEMA_VERSION, "vulnerabilityId": vid, "url": url,
               "storedAt": answer.stored_at.isoformat(), "ssvc": ssvc_to_json(answer.ssvc)}
        try:
            atomic_write(self._path(vid, url), json.dumps(doc, sort_keys=True).encode())
        except OSError:
            self.write_errors += 1


class VulnrichmentOnline:
    """An `Enricher` asking the CVE record API about each CVE id once, with a bounded pool and retries."""

    name = SOURCE
    provides: frozenset[str] = frozenset({Source.VULNRICHMENT})

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
        with ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="gate-vulnrichment") as pool:
            answers = list(pool.map(self._answer, cves))
        return {vid: Enrichment(vulnerability_id=vid, ssvc=a.ssvc) for vid, a in zip(cves, answers, strict=True)
                if a.ssvc is not None}

    def _answer(self, vid: str) -> _Answer:
        url = self.base_url + vid.upper()
        if self._cache is not None:
            cached = self._cache.get(vid, url)
            if cached is not None:
                self.cache_hits += 1
                return cached
        record = self._fetch(url)
        try:
            ssvc = ssvc_from_record(record, vid, url, SOURCE) if record is not None else None
        except InputError as e:  # the service answered something that is not a readable record
            raise IncompleteError(e.message, hint="retry later, or pass --vulnrichment DIR") from e
        answer = _Answer(ssvc, self._now())
        if self._cache is not None:
            self._cache.put(vid, url, answer)
        return answer

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
                return json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                problem = "a response that is not JSON"
                continue
        raise IncompleteError(f"the CVE record API could not answer {url}: {problem}",
                              hint="retry later, or pass --vulnrichment DIR with a copy of cisagov/vulnrichment")

    def feeds(self) -> tuple[FeedInfo, ...]:
        detail = f"{self.requests} requests, {self.cache_hits} cached answers"
        return (FeedInfo(name="CISA Vulnrichment (CVE record API)", source=self.base_url, as_of=self._asked_at,
                         detail=detail, provides=(Source.VULNRICHMENT,)),)
