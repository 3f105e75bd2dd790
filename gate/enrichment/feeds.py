"""Download CISA KEV and FIRST EPSS into the cache directory: conditional, validated, atomically replaced."""

from __future__ import annotations

import contextlib
import gzip
import json
import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate import __version__
from gate.enrichment import epss, feedstore, kev
from gate.enrichment.epss import EpssScores
from gate.enrichment.kev import KevCatalog
from gate.errors import FeedError, GateError, ShapeError
from gate.files import MAX_BYTES, atomic_write, gunzip
from gate.model import FeedInfo
from gate.timeutil import to_utc

if TYPE_CHECKING:
    import urllib.request
    from email.message import Message

KEV_URL = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
EPSS_URL = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"
"""FIRST's "current" EPSS file (served by Empirical Security for FIRST; redirects to the dated file)."""
KEV_FILE = "known_exploited_vulnerabilities.json"
EPSS_FILE = "epss_scores-current.csv.gz"


@dataclass(frozen=True)
class _Feed:
    name: str
    url: str
    path: Path

    @property
    def meta_path(self) -> Path:
        return self.path.with_name(self.path.name + ".meta.json")


def feeds_dir(cache_dir: Path) -> Path:
    return cache_dir / "feeds"


def cached_feed_paths(cache_dir: Path) -> tuple[Path | None, Path | None]:
    """The KEV catalog and EPSS scores `update_feeds` stored, where present."""
    kev, epss = feeds_dir(cache_dir) / KEV_FILE, feeds_dir(cache_dir) / EPSS_FILE
    return (kev if kev.is_file() else None, epss if epss.is_file() else None)


def _read_meta(feed: _Feed) -> dict[str, Any]:
    try:
        meta = json.loads(feed.meta_path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict) or meta.get("url") != feed.url or not feed.path.is_file():
        return {}
    return meta


def _validate(feed: _Feed, data: bytes) -> tuple[bytes, KevCatalog | EpssScores]:
    """Parse the download completely as the feed it claims to be: (bytes to store, the parsed feed)."""
    try:
        text_bytes = gunzip(data, feed.url)
        if feed.path.name == KEV_FILE:
            return text_bytes, KevCatalog.from_bytes(text_bytes, feed.url)
        scores = EpssScores.from_bytes(text_bytes, feed.url)
    except GateError as e:
        raise FeedError(f"the downloaded {feed.name} is invalid: {e.message}") from e
    stored = data if data[:2] == b"\x1f\x8b" else gzip.compress(data, mtime=0)
    return stored, scores


def _index(cache_dir: Path, stored: bytes, parsed: KevCatalog | EpssScores) -> None:
    """Index the stored copy now, so that the next `gate check` reads only the CVEs it needs."""
    sha = feedstore.digest(stored)
    # NOTE: the feed itself is stored; an index that cannot be written is built by the first check instead.
    with contextlib.suppress(OSError, sqlite3.Error):
        if isinstance(parsed, KevCatalog):
            feedstore.index_kev(cache_dir, sha, parsed)
        else:
            feedstore.index_epss(cache_dir, sha, parsed)


def _kept(feed: _Feed, meta: dict[str, Any], why: str) -> FeedInfo:
    try:
        as_of = to_utc(meta.get("asOf"))
    except ShapeError:
        as_of = None
    detail = f"{why}; {meta.get('detail') or 'kept'}"
    return FeedInfo(name=feed.name, source=str(feed.path), as_of=as_of, detail=detail)


ATTEMPTS = 4
"""Tries per feed: a timeout, a dropped connection or a 5xx is retried, with backoff, like an AWS call."""
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
BACKOFF_BASE, BACKOFF_CAP = 1.0, 15.0
"""Seconds: the pause before retry n is uniform in [0, min(cap, base * 2**n)) (full jitter)."""


class _Transient(Exception):
    """A failure worth another try: what went wrong, in words for the final error."""


def _fetch(feed: _Feed, request: urllib.request.Request, opener: urllib.request.OpenerDirector,
           timeout: float) -> tuple[bytes, Message] | None:
    """The body and headers, or None for 304 Not Modified; `_Transient` for what a retry may cure."""
    import http.client  # noqa: PLC0415
    import urllib.error  # noqa: PLC0415

    try:
        with opener.open(request, timeout=timeout) as response:
            data, headers = response.read(MAX_BYTES + 1), response.headers
    except urllib.error.HTTPError as e:
        e.close()
        if e.code == 304:
            return None
        if e.code in RETRY_STATUS or e.code >= 500:
            raise _Transient(f"HTTP {e.code} {e.reason}") from e
        raise
    except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as e:
        raise _Transient(str(getattr(e, "reason", e)) or type(e).__name__) from e
    promised = headers.get("Content-Length", "")
    if promised.isdigit() and len(data) < int(promised) and len(data) <= MAX_BYTES:
        raise _Transient(f"the connection closed after {len(data)} of {promised} bytes")
    return data, headers


def _download(feed: _Feed, request: urllib.request.Request, opener: urllib.request.OpenerDirector,
              timeout: float, sleep: Callable[[float], None]) -> tuple[bytes, Message] | None:
    """`_fetch`, retried with full-jitter backoff while the failure is transient and attempts remain."""
    for attempt in range(ATTEMPTS):
        try:
            return _fetch(feed, request, opener, timeout)
        except _Transient:
            if attempt == ATTEMPTS - 1:
                raise
            sleep(random.random() * min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))  # noqa: S311 - jitter, not secrets
    raise AssertionError("unreachable")


def _update(feed: _Feed, cache_dir: Path, opener: urllib.request.OpenerDirector, timeout: float,
            sleep: Callable[[float], None] = time.sleep) -> FeedInfo:
    import urllib.error  # noqa: PLC0415 - only `gate feeds update` downloads; offline runs skip http.client
    import urllib.request  # noqa: PLC0415
    meta = _read_meta(feed)
    headers = {"User-Agent": f"gate/{__version__}", "Accept-Encoding": "identity"}
    if meta.get("etag"):
        headers["If-None-Match"] = str(meta["etag"])
    if meta.get("lastModified"):
        headers["If-Modified-Since"] = str(meta["lastModified"])
    request = urllib.request.Request(feed.url, headers=headers)  # noqa: S310 - https URLs by default
    kept = " (the previous copy is kept)" if meta else ""
    try:
        answer = _download(feed, request, opener, timeout, sleep)
    except _Transient as e:
        raise FeedError(f"cannot download {feed.name} from {feed.url}: {e} (after {ATTEMPTS} attempts){kept}",
                        hint="check the network or proxy (HTTPS_PROXY), then retry later") from e
    except urllib.error.HTTPError as e:
        raise FeedError(f"downloading {feed.name} from {feed.url} failed: HTTP {e.code} {e.reason}{kept}",
                        hint="check the URL and any proxy") from e
    except OSError as e:
        reason = getattr(e, "reason", e)
        raise FeedError(f"cannot download {feed.name} from {feed.url}: {reason}{kept}",
                        hint="check the network or proxy (HTTPS_PROXY), then retry") from e
    if answer is None:
        if meta:
            return _kept(feed, meta, "not modified")
        raise FeedError(f"downloading {feed.name} from {feed.url} failed: 304 Not Modified, but nothing is cached",
                        hint="check the URL and any proxy")
    data, response_headers = answer
    if len(data) > MAX_BYTES:
        raise FeedError(f"{feed.url}: the {feed.name} download is larger than {MAX_BYTES // 2**20} MiB")
    try:
        stored, parsed = _validate(feed, data)
    except FeedError as e:
        raise FeedError(e.message + kept, hint="retry later; the file served may be damaged") from e
    as_of = parsed.released if isinstance(parsed, KevCatalog) else parsed.score_date
    detail = kev.describe(parsed) if isinstance(parsed, KevCatalog) else epss.describe(parsed)
    atomic_write(feed.path, stored)
    _index(cache_dir, stored, parsed)
    # NOTE: data before metadata: a crash in between leaves old validators, which only cost a re-download.
    new_meta = {
        "url": feed.url,
        "etag": response_headers.get("ETag"),
        "lastModified": response_headers.get("Last-Modified"),
        "fetchedAt": datetime.now(UTC).isoformat(),
        "asOf": as_of.isoformat(),
        "version": parsed.version if isinstance(parsed, KevCatalog) else parsed.model_version,
        "detail": detail,
    }
    atomic_write(feed.meta_path, json.dumps(new_meta, indent=1).encode("utf-8"))
    return FeedInfo(name=feed.name, source=str(feed.path), as_of=as_of, detail=f"downloaded; {detail}")


def update_feeds(
    cache_dir: Path,
    *,
    kev_url: str = KEV_URL,
    epss_url: str = EPSS_URL,
    timeout: float = 60,
    opener: urllib.request.OpenerDirector | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[FeedInfo]:
    """Refresh both feeds; each is tried, then the first failure (if any) is raised as `FeedError`."""
    directory = feeds_dir(cache_dir)
    feeds = [
        _Feed(kev.FEED_NAME, kev_url, directory / KEV_FILE),
        _Feed(epss.FEED_NAME, epss_url, directory / EPSS_FILE),
    ]
    import urllib.request  # noqa: PLC0415

    client = opener or urllib.request.build_opener()
    done: list[FeedInfo] = []
    errors: list[FeedError] = []
    for feed in feeds:
        try:
            done.append(_update(feed, cache_dir, client, timeout, sleep))
        except FeedError as e:
            errors.append(e)
        except OSError as e:
            errors.append(FeedError(f"cannot store {feed.name} in {directory}: {e.strerror or e}",
                                    hint="check --cache-dir and its permissions"))
    if len(errors) > 1:
        raise FeedError(f"{errors[0].message}; and {len(errors) - 1} more feed failed", hint=errors[0].hint)
    if errors:
        raise errors[0]
    return done
