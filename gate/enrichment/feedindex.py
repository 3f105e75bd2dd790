"""Reading a feed's SQLite index: opened read-only, checked each time, and never trusted when it disagrees.

Shared by every feed: a feed's module subclasses `Indexed` with its query and the check of each row (as its
parser would check the value); `feedstore` writes the indexes and picks the file or the index.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from gate.errors import GateError, ShapeError
from gate.timeutil import to_utc

INDEX_FORMAT = "gate-feed-index/3"
"""Version 2 refuses a CVE listed twice with different values, version 3 a KEV catalog with a duplicated JSON key:
indexes of earlier versions may hold either, so are rebuilt (and the file refused)."""
CHUNK = 500
"""Ids per `IN (…)` query: below SQLite's smallest default variable limit (999)."""


class Untrusted(Exception):
    """The index is missing, damaged, or disagrees with the file it claims to index."""


def connect(path: Path, kind: str, sha: str) -> tuple[sqlite3.Connection, dict[str, str]]:
    """Open read-only and check the header, the page count and the metadata; `Untrusted` otherwise."""
    try:
        size = path.stat().st_size
        # NOTE: immutable: no locks or journal look-ups; an index is never changed in place, only replaced.
        # NOTE: not tied to the opening thread: a sweep's builds look feeds up from its worker threads (each
        # look-up opens its own connection).
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    except (OSError, sqlite3.Error) as e:
        raise Untrusted(str(e)) from e
    try:
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        if pages * page_size != size:
            raise Untrusted(f"{size} bytes, header says {pages} pages of {page_size}")
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        expected = {"format": INDEX_FORMAT, "kind": kind, "sha256": sha}
        if any(meta.get(k) != v for k, v in expected.items()):
            raise Untrusted("metadata does not match")
        if not meta.get("count", "").isdigit() or int(meta["count"]) < 1 or to_utc(meta.get("asOf")) is None:
            raise Untrusted("metadata incomplete")
        notes(meta)
    except (sqlite3.Error, Untrusted, ShapeError) as e:
        con.close()
        raise Untrusted(str(e)) from e
    with contextlib.suppress(OSError):
        os.utime(path)  # marks it recently used, for pruning
    return con, meta


def notes(meta: Mapping[str, str]) -> tuple[str, ...]:
    """The feed's notes kept in the index (a JSON list of strings); `Untrusted` if they are not that."""
    try:
        found = json.loads(meta.get("notes", "[]"))
    except ValueError as e:
        raise Untrusted("notes are not JSON") from e
    if not isinstance(found, list) or not all(isinstance(n, str) for n in found):
        raise Untrusted("notes are not a list of strings")
    return tuple(found)


def _chunks(ids: Collection[str]) -> Iterator[list[str]]:
    items = sorted(ids)
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


@dataclass(frozen=True)
class Where:
    """Which index answers a feed: its file, the feed kind and the content hash it must claim."""

    path: Path
    kind: str
    sha: str


class Indexed:
    """A feed answered from its index: a read-only look-up, checked again each time, and a fallback to a full parse.

    No connection outlives a look-up: an index object may live as long as its process (a sweep, a Lambda),
    and SQLite connections left to the garbage collector leak a descriptor (Python 3.13 warns of it).
    A feed's subclass sets `SQL` (`SELECT cve, … FROM kind WHERE cve IN (%s)`) and `check` (a row → the value
    its parser would give, `Untrusted` for a row it would refuse).
    """

    SQL: ClassVar[str]

    def __init__(self, where: Where, meta: dict[str, str], origin: str, reparse: Callable[[], Any]):
        self._where: Where | None = where
        self._reparse = reparse
        self.origin = origin
        self.count = int(meta["count"])
        self.version: str | None = meta.get("version") or None
        self.notes = notes(meta)
        as_of = to_utc(meta["asOf"])
        assert as_of is not None  # connect checked it
        self.as_of: datetime = as_of

    def check(self, row: tuple[Any, ...]) -> Any:
        raise NotImplementedError

    def _query(self, ids: Collection[str]) -> dict[str, Any] | None:
        """Rows for `ids` checked as the parser would, or None when the index turned out untrustworthy."""
        where = self._where
        if where is None:
            return None
        out: dict[str, Any] = {}
        try:
            con, _ = connect(where.path, where.kind, where.sha)
            with contextlib.closing(con):
                for chunk in _chunks(ids):
                    for row in con.execute(self.SQL % ",".join("?" * len(chunk)), chunk):
                        if row[0] not in ids:
                            raise Untrusted(f"answered {row[0]!r}, not asked")
                        out[row[0]] = self.check(row)
        except (sqlite3.Error, GateError, Untrusted, TypeError, ValueError):
            self._where = None
            return None
        return out

    def lookup(self, ids: Collection[str]) -> Mapping[str, Any]:
        found = self._query(ids)
        if found is None:
            found_again: Mapping[str, Any] = self._reparse().lookup(ids)
            return found_again
        return found
