"""Download the offline feeds (`feedregistry.FEEDS`) into the cache directory: conditional, validated, atomically
replaced."""

from __future__ import annotations

import contextlib
import gzip
import json
import random
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate import __version__
from gate.enrichment import feedregistry, feedstore
from gate.enrichment.feedregistry import Feed
from gate.errors import FeedError, GateError, ShapeError, UsageError
from gate.files import MAX_BYTES, atomic_write, gunzip
from gate.model import FeedInfo
from gate.timeutil import to_utc

if TYPE_CHECKING:
    import urllib.request
    from email.message import Message


@dataclass(frozen=True)
class _Feed:
    spec: Feed
    url: str
    path: Path

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def meta_path(self) -> Path:
        return self.path.with_name(self.path.name + ".meta.json")


def feeds_dir(cache_dir: Path) -> Path:
    return cache_dir / "feeds"


def feed_path(cache_dir: Path, spec: Feed) -> Path:
    """Where `update_feeds` stores the feed `spec`."""
    return feeds_dir(cache_dir) / spec.file


def cached_feed_path(cache_dir: Path, spec: Feed) -> Path | None:
    path = feed_path(cache_dir, spec)
    return path if path.is_file() else None


def cached_feed_paths(cache_dir: Path) -> tuple[Path | None, ...]:
    """Each feed `update_feeds` stored, where present, in `feedregistry.FEEDS`' order (KEV, EPSS)."""
    return tuple(cached_feed_path(cache_dir, spec) for spec in feedregistry.FEEDS)


def _read_meta(feed: _Feed) -> dict[str, Any]:
    try:
        meta = json.loads(feed.meta_path.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(meta, dict) or meta.get("url") != feed.url or not feed.path.is_file():
        return {}
    return meta


def _validate(feed: _Feed, data: bytes) -> tuple[bytes, Any]:
    """Parse the download completely as the feed it claims to be: (bytes to store, the parsed feed)."""
    try:
        text_bytes = gunzip(data, feed.url)
        parsed = feed.spec.format().parse(text_bytes, feed.url)
    except GateError as e:
        raise FeedError(f"the downloaded {feed.name} is invalid: {e.message}") from e
    # NOTE: a plain JSON file is kept as it came (KEV's catalog); anything else is stored gzipped.
    if feed.path.suffix != ".gz":
        return text_bytes, parsed
    stored = data if data[:2] == b"\x1f\x8b" else gzip.compress(data, mtime=0)
    return stored, parsed


def _index(feed: _Feed, cache_dir: Path, stored: bytes, parsed: Any) -> None:
    """Index the stored copy now, so that the next `gate check` reads only the CVEs it needs."""
    sha = feedstore.digest(stored)
    # NOTE: the feed itself is stored; an index that cannot be written is built by the first check instead.
    with contextlib.suppress(OSError, sqlite3.Error):
        feedstore.index(feed.spec, cache_dir, sha, parsed)


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
    as_of: datetime = parsed.as_of
    detail: str = feed.spec.format().describe(parsed)
    atomic_write(feed.path, stored)
    _index(feed, cache_dir, stored, parsed)
    # NOTE: data before metadata: a crash in between leaves old validators, which only cost a re-download.
    new_meta = {
        "url": feed.url,
        "etag": response_headers.get("ETag"),
        "lastModified": response_headers.get("Last-Modified"),
        "fetchedAt": datetime.now(UTC).isoformat(),
        "asOf": as_of.isoformat(),
        "version": parsed.version,
        "detail": detail,
    }
    atomic_write(feed.meta_path, json.dumps(new_meta, indent=1).encode("utf-8"))
    return FeedInfo(name=feed.name, source=str(feed.path), as_of=as_of, detail=f"downloaded; {detail}")


def _urls(given: Mapping[str, str]) -> dict[str, str]:
    """Each feed's URL: `KEY_url` given, else its default; an unknown `KEY_url` lists the supported feeds."""
    known = {f"{spec.key}_url": spec for spec in feedregistry.FEEDS}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise UsageError(f"unknown feed URL {unknown[0]!r}; supported feeds: {feedregistry.supported()}")
    return {spec.key: given.get(name, spec.url) for name, spec in known.items()}


def update_feeds(
    cache_dir: Path,
    *,
    timeout: float = 60,
    opener: urllib.request.OpenerDirector | None = None,
    sleep: Callable[[float], None] = time.sleep,
    **urls: str,
) -> list[FeedInfo]:
    """Refresh every feed (`kev_url=…` and the like replace a default URL); each is tried, then the first failure
    (if any) is raised as `FeedError`."""
    directory = feeds_dir(cache_dir)
    chosen = _urls(urls)
    feeds = [_Feed(spec, chosen[spec.key], feed_path(cache_dir, spec)) for spec in feedregistry.FEEDS]
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
