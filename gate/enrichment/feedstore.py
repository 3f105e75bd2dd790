"""KEV and EPSS feeds validated once and indexed in SQLite in the cache, keyed by content hash, read by CVE.

A feed file is parsed and validated completely the first time gate sees its content (at `gate feeds
update`, or the first `gate check` given that file); the index then answers only the CVEs a run asks
about. An index is written to a temporary file and renamed into place, so a killed process leaves no
index at all; an index that does not open, does not match its file's hash, or holds a value the parser
would refuse is never trusted: the run parses the file again and rewrites the index.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from gate.enrichment.epss import EpssScores, EpssSource, Score, unit
from gate.enrichment.kev import SOURCE as KEV_SOURCE
from gate.enrichment.kev import KevCatalog, KevSource, parse_date
from gate.errors import GateError, ShapeError
from gate.files import gunzip, read_raw
from gate.model import KevEntry, Provenance
from gate.timeutil import to_utc

INDEX_FORMAT = "gate-feed-index/3"
"""Version 2 refuses a CVE listed twice with different values, version 3 a KEV catalog with a duplicated JSON key:
indexes of earlier versions may hold either, so are rebuilt (and the file refused)."""
KEEP = 4
"""Indexes kept per feed kind (most recently used): today's feed, and a few a pinned pipeline may still pass."""
STALE_TEMP_S = 3600
CHUNK = 500
"""Ids per `IN (…)` query: below SQLite's smallest default variable limit (999)."""

T = TypeVar("T")


class _Untrusted(Exception):
    """The index is missing, damaged, or disagrees with the file it claims to index."""


def index_dir(cache_dir: Path) -> Path:
    return cache_dir / "feeds" / "index"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _index_path(cache_dir: Path, kind: str, sha: str) -> Path:
    return index_dir(cache_dir) / f"{kind}-{sha}.sqlite"


def _connect(path: Path, kind: str, sha: str) -> tuple[sqlite3.Connection, dict[str, str]]:
    """Open read-only and check the header, the page count and the metadata; `_Untrusted` otherwise."""
    try:
        size = path.stat().st_size
        # NOTE: immutable: no locks or journal look-ups; an index is never changed in place, only replaced.
        # NOTE: not tied to the opening thread: a sweep's builds look feeds up from its worker threads (each
        # query holds `_Indexed._lock`).
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    except (OSError, sqlite3.Error) as e:
        raise _Untrusted(str(e)) from e
    try:
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        if pages * page_size != size:
            raise _Untrusted(f"{size} bytes, header says {pages} pages of {page_size}")
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        expected = {"format": INDEX_FORMAT, "kind": kind, "sha256": sha}
        if any(meta.get(k) != v for k, v in expected.items()):
            raise _Untrusted("metadata does not match")
        if not meta.get("count", "").isdigit() or int(meta["count"]) < 1 or to_utc(meta.get("asOf")) is None:
            raise _Untrusted("metadata incomplete")
        _notes(meta)
    except (sqlite3.Error, _Untrusted, ShapeError) as e:
        con.close()
        raise _Untrusted(str(e)) from e
    with contextlib.suppress(OSError):
        os.utime(path)  # marks it recently used, for pruning
    return con, meta


def _notes(meta: Mapping[str, str]) -> tuple[str, ...]:
    """The feed's notes kept in the index (a JSON list of strings); `_Untrusted` if they are not that."""
    try:
        notes = json.loads(meta.get("notes", "[]"))
    except ValueError as e:
        raise _Untrusted("notes are not JSON") from e
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise _Untrusted("notes are not a list of strings")
    return tuple(notes)


def _chunks(ids: Collection[str]) -> Iterator[list[str]]:
    items = sorted(ids)
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


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


@dataclass(frozen=True)
class _Where:
    """Which index answers a feed: its file, the feed kind and the content hash it must claim."""

    path: Path
    kind: str
    sha: str


class _Indexed:
    """What both feed indexes share: a read-only look-up, checked again each time, and a fallback to a full parse.

    No connection outlives a look-up: an index object may live as long as its process (a sweep, a Lambda),
    and SQLite connections left to the garbage collector leak a descriptor (Python 3.13 warns of it).
    """

    def __init__(self, where: _Where, meta: dict[str, str], origin: str, reparse: Callable[[], Any]):
        self._where: _Where | None = where
        self._reparse = reparse
        self.origin = origin
        self.count = int(meta["count"])
        self.version: str | None = meta.get("version") or None
        self.notes = _notes(meta)
        as_of = to_utc(meta["asOf"])
        assert as_of is not None  # _connect checked it
        self.as_of: datetime = as_of

    def _query(self, sql: str, ids: Collection[str], check: Callable[[tuple[Any, ...]], T]) -> dict[str, T] | None:
        """Rows for `ids` checked as the parser would, or None when the index turned out untrustworthy."""
        where = self._where
        if where is None:
            return None
        out: dict[str, T] = {}
        try:
            con, _ = _connect(where.path, where.kind, where.sha)
            with contextlib.closing(con):
                for chunk in _chunks(ids):
                    for row in con.execute(sql % ",".join("?" * len(chunk)), chunk):
                        if row[0] not in ids:
                            raise _Untrusted(f"answered {row[0]!r}, not asked")
                        out[row[0]] = check(row)
        except (sqlite3.Error, GateError, _Untrusted, TypeError, ValueError):
            self._where = None
            return None
        return out


class KevIndex(_Indexed):
    """A KEV catalog answered from its index."""

    _SQL = "SELECT cve, date_added, due_date, required_action, ransomware FROM kev WHERE cve IN (%s)"

    @property
    def released(self) -> datetime:
        return self.as_of

    def _entry(self, row: tuple[Any, ...]) -> KevEntry:
        cve, added, due, action, ransomware = row
        if not (action is None or isinstance(action, str)) or ransomware not in (None, 0, 1):
            raise _Untrusted(f"bad row for {cve}")
        where = f"{self.origin} (index): {cve}"
        return KevEntry(date_added=parse_date(added, where), due_date=parse_date(due, where),
                        required_action=action, ransomware=None if ransomware is None else bool(ransomware),
                        provenance=Provenance(source=KEV_SOURCE, as_of=self.as_of))

    def lookup(self, ids: Collection[str]) -> Mapping[str, KevEntry]:
        found = self._query(self._SQL, ids, self._entry)
        if found is None:
            catalog: KevCatalog = self._reparse()
            return catalog.lookup(ids)
        return found


class EpssIndex(_Indexed):
    """EPSS scores answered from their index."""

    _SQL = "SELECT cve, score, percentile FROM epss WHERE cve IN (%s)"

    @property
    def model_version(self) -> str | None:
        return self.version

    @property
    def score_date(self) -> datetime:
        return self.as_of

    def _score(self, row: tuple[Any, ...]) -> Score:
        cve, score, pct = row
        where = f"{self.origin} (index): {cve}"
        if not isinstance(score, float) or not (pct is None or isinstance(pct, float)):
            raise _Untrusted(f"bad row for {cve}")
        return unit(score, "score", where), None if pct is None else unit(pct, "percentile", where)

    def lookup(self, ids: Collection[str]) -> Mapping[str, Score]:
        found = self._query(self._SQL, ids, self._score)
        if found is None:
            scores: EpssScores = self._reparse()
            return scores.lookup(ids)
        return found


def index_kev(cache_dir: Path, sha: str, catalog: KevCatalog) -> None:
    rows = sorted((cve, e.date_added and e.date_added.isoformat(), e.due_date and e.due_date.isoformat(),
                   e.required_action, None if e.ransomware is None else int(e.ransomware))
                  for cve, e in catalog.entries.items())
    _write(cache_dir, "kev", sha, rows,
           schema="CREATE TABLE kev (cve TEXT PRIMARY KEY, date_added TEXT, due_date TEXT, required_action TEXT,"
           " ransomware INTEGER) WITHOUT ROWID",
           insert="INSERT INTO kev VALUES (?, ?, ?, ?, ?)",
           meta={"count": str(catalog.count), "asOf": catalog.released.isoformat(), "version": catalog.version or "",
                 "notes": json.dumps(list(catalog.notes))})


def index_epss(cache_dir: Path, sha: str, scores: EpssScores) -> None:
    rows = sorted((cve, s, p) for cve, (s, p) in scores.scores.items())
    _write(cache_dir, "epss", sha, rows,
           schema="CREATE TABLE epss (cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL) WITHOUT ROWID",
           insert="INSERT INTO epss VALUES (?, ?, ?)",
           meta={"count": str(scores.count), "asOf": scores.score_date.isoformat(),
                 "version": scores.model_version or "", "notes": json.dumps(list(scores.notes))})


def _open(path: Path, cache_dir: Path | None, kind: str, *, parse: Callable[[bytes, str], T],
          index: Callable[[Path, str, T], None], wrap: Callable[..., Any]) -> Any:
    raw = read_raw(path)
    sha, origin = digest(raw), str(path)

    def reparse() -> T:
        parsed = parse(gunzip(raw, origin), origin)  # complete validation: an invalid file is refused here
        if cache_dir is not None:
            # NOTE: a read-only or full cache costs only speed: the parsed feed answers this run.
            with contextlib.suppress(OSError, sqlite3.Error):
                index(cache_dir, sha, parsed)
        return parsed

    if cache_dir is not None:
        where = _Where(_index_path(cache_dir, kind, sha), kind, sha)
        try:
            con, meta = _connect(where.path, kind, sha)
        except _Untrusted:
            pass
        else:
            con.close()
            return wrap(where, meta, origin, reparse)
    return reparse()


def open_kev(path: Path, cache_dir: Path | None) -> KevSource:
    """The catalog at `path`, from its index in `cache_dir` (built on first use); None: parse only."""
    source: KevSource = _open(path, cache_dir, "kev", parse=KevCatalog.from_bytes, index=index_kev,
                                wrap=KevIndex)
    return source


def open_epss(path: Path, cache_dir: Path | None) -> EpssSource:
    """The EPSS scores at `path`, from their index in `cache_dir` (built on first use); None: parse only."""
    source: EpssSource = _open(path, cache_dir, "epss", parse=EpssScores.from_bytes,
                                  index=index_epss, wrap=EpssIndex)
    return source
