"""What data a run on this machine would use: the cached feeds' versions and dates, and the cached CVE records.

Read for `gate version` and `gate feeds status` from the feeds' metadata files and the answer cache,
read-only; anything unreadable is reported as absent, never as data.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from gate.enrichment import answerdb, feedregistry
from gate.enrichment.feedregistry import Feed
from gate.enrichment.feeds import feed_path
from gate.errors import ShapeError
from gate.timeutil import to_utc

VULNRICHMENT_KIND = "vulnrichment"
"""`vulnrichment_online.KIND`, not imported: that module loads urllib (and http, email, socket) at import."""


@dataclass(frozen=True)
class CachedFeed:
    """One feed file `gate feeds update` stored, as its metadata describes it."""

    name: str
    path: Path
    present: bool
    spec: Feed
    """Its entry in `feedregistry.FEEDS`."""
    as_of: datetime | None = None
    """The data's own date: the catalog's release, the scores' date."""
    version: str | None = None
    """The feed's own version (KEV catalogVersion, EPSS model_version)."""
    fetched: datetime | None = None
    detail: str | None = None
    size: int = 0


@dataclass(frozen=True)
class CachedRecords:
    """CVE records the CVE record API answered, kept in the answer cache."""

    count: int
    newest: datetime | None
    problem: str | None = None


def _when(value: Any) -> datetime | None:
    try:
        return to_utc(value) if isinstance(value, str) else None
    except ShapeError:
        return None


def cached_feed(spec: Feed, path: Path) -> CachedFeed:
    name = spec.name
    if not path.is_file():
        return CachedFeed(name, path, False, spec)
    try:
        meta = json.loads(path.with_name(path.name + ".meta.json").read_bytes())
    except (OSError, ValueError):
        meta = {}
    meta = meta if isinstance(meta, dict) else {}
    detail = meta.get("detail") if isinstance(meta.get("detail"), str) else None
    version = meta.get("version") if isinstance(meta.get("version"), str) else None
    words = "|".join(re.escape(f.version_word) for f in feedregistry.FEEDS)
    if version is None and detail is not None and (found := re.match(rf"^(?:{words}) (\S+),", detail)):
        version = found[1]
    return CachedFeed(name, path, True, spec, _when(meta.get("asOf")), version, _when(meta.get("fetchedAt")),
                      detail, path.stat().st_size)


def cached_feeds(cache_dir: Path) -> tuple[CachedFeed, ...]:
    """Each feed of `feedregistry.FEEDS`, as `gate feeds update` left it in `cache_dir`."""
    return tuple(cached_feed(spec, feed_path(cache_dir, spec)) for spec in feedregistry.FEEDS)


def cached_records(cache_dir: Path) -> CachedRecords:
    path = cache_dir / answerdb.FILE
    if not path.is_file():
        return CachedRecords(0, None)
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)) as con:
            count, newest = con.execute("SELECT count(*), max(stored_at) FROM answers WHERE kind = ?",
                                        [VULNRICHMENT_KIND]).fetchone()
    except sqlite3.Error as e:
        return CachedRecords(0, None, f"the answer cache cannot be read ({e})")
    return CachedRecords(int(count or 0), _when(newest))
