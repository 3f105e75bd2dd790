"""Offline feeds validated once and indexed in SQLite in the cache, keyed by content hash, read by CVE.

A feed file is parsed and validated completely the first time gate sees its content (at `gate feeds
update`, or the first `gate check` given that file); the index then answers only the CVEs a run asks
about. An index is written to a temporary file and renamed into place, so a killed process leaves no
index at all; an index that does not open, does not match its file's hash, or holds a value the parser
would refuse is never trusted: the run parses the file again and rewrites the index. What differs per
feed (its parser, its table, its row checks) is its module's `FORMAT`, found through `feedregistry`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gate.enrichment.epss import EpssIndex, EpssScores, EpssSource
from gate.enrichment.feedindex import INDEX_FORMAT, Untrusted, Where, connect
from gate.enrichment.feedregistry import Feed, feed
from gate.enrichment.kev import KevCatalog, KevIndex, KevSource
from gate.files import gunzip, read_raw

__all__ = ["INDEX_FORMAT", "KEEP", "EpssIndex", "KevIndex", "digest", "index", "index_dir", "index_epss",
           "index_kev", "open_epss", "open_feed", "open_kev"]

KEEP = 4
"""Indexes kept per feed kind (most recently used): today's feed, and a few a pinned pipeline may still pass."""
STALE_TEMP_S = 3600


def index_dir(cache_dir: Path) -> Path:
    return cache_dir / "feeds" / "index"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _index_path(cache_dir: Path, kind: str, sha: str) -> Path:
    return index_dir(cache_dir) / f"{kind}-{sha}.sqlite"


def _write(cache_dir: Path, kind: str, sha: str, rows: Iterable[tuple[Any, ...]], *, schema: str,
           insert: str, meta: Mapping[str, str]) -> None:
    """Build the index in a temporary file, make it durable, then rename it into place."""
    directory = index_dir(cache_dir)
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{kind}-", suffix=".tmp")
    os.close(fd)
    try:
        con = sqlite3.connect(tmp)
        try:
            con.execute("PRAGMA journal_mode=OFF")
            con.execute("PRAGMA synchronous=OFF")
            con.execute(schema)
            con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
            con.executemany(insert, rows)
            con.executemany("INSERT INTO meta VALUES (?, ?)",
                            [*meta.items(), ("format", INDEX_FORMAT), ("kind", kind), ("sha256", sha)])
            con.commit()
        finally:
            con.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, _index_path(cache_dir, kind, sha))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _prune(directory, kind)


def _prune(directory: Path, kind: str) -> None:
    """Drop all but the KEEP most recently used indexes of a kind, and temporary files of killed builds."""
    with contextlib.suppress(OSError):
        indexes = sorted(directory.glob(f"{kind}-*.sqlite"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in indexes[KEEP:]:
            old.unlink(missing_ok=True)
        for tmp in directory.glob(f".{kind}-*.tmp"):
            if time.time() - tmp.stat().st_mtime > STALE_TEMP_S:
                tmp.unlink(missing_ok=True)


def index(spec: Feed, cache_dir: Path, sha: str, parsed: Any) -> None:
    """Write the index of `parsed` (the feed `spec`, whose file hashes to `sha`)."""
    fmt = spec.format()
    _write(cache_dir, spec.key, sha, fmt.rows(parsed), schema=fmt.schema, insert=fmt.insert,
           meta={"count": str(parsed.count), "asOf": parsed.as_of.isoformat(), "version": parsed.version or "",
                 "notes": json.dumps(list(parsed.notes))})


def index_kev(cache_dir: Path, sha: str, catalog: KevCatalog) -> None:
    index(feed("kev"), cache_dir, sha, catalog)


def index_epss(cache_dir: Path, sha: str, scores: EpssScores) -> None:
    index(feed("epss"), cache_dir, sha, scores)


def open_feed(spec: Feed, path: Path, cache_dir: Path | None) -> Any:
    """The feed at `path`, from its index in `cache_dir` (built on first use); None: parse only."""
    fmt = spec.format()
    raw = read_raw(path)
    sha, origin = digest(raw), str(path)

    def reparse() -> Any:
        parsed = fmt.parse(gunzip(raw, origin), origin)  # complete validation: an invalid file is refused here
        if cache_dir is not None:
            # NOTE: a read-only or full cache costs only speed: the parsed feed answers this run.
            with contextlib.suppress(OSError, sqlite3.Error):
                index(spec, cache_dir, sha, parsed)
        return parsed

    if cache_dir is not None:
        where = Where(_index_path(cache_dir, spec.key, sha), spec.key, sha)
        try:
            con, meta = connect(where.path, spec.key, sha)
        except Untrusted:
            pass
        else:
            con.close()
            return fmt.index(where, meta, origin, reparse)
    return reparse()


def open_kev(path: Path, cache_dir: Path | None) -> KevSource:
    """The catalog at `path`, from its index in `cache_dir` (built on first use); None: parse only."""
    source: KevSource = open_feed(feed("kev"), path, cache_dir)
    return source


def open_epss(path: Path, cache_dir: Path | None) -> EpssSource:
    """The EPSS scores at `path`, from their index in `cache_dir` (built on first use); None: parse only."""
    source: EpssSource = open_feed(feed("epss"), path, cache_dir)
    return source
