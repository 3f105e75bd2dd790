"""The one SQLite file of cached online answers (Inspector, the CVE record API), shared safely by concurrent runs.

The store only keeps and finds text: each row is one answer's JSON document under (kind, scope, id),
and whoever reads it validates the document as strictly as before (`cache`, `vulnrichment_online`).
Anything odd about the file itself — not a database, another program's tables, another format, a
lock held too long, a malformed page — makes the cache unusable for the rest of the run: every
lookup is then a miss and `problem` says why in one line. A run never fails or believes more because
of its cache. Writes are batched into a few transactions a run; SQLite's own locking keeps concurrent
runs from tearing each other's writes, and a killed run leaves at most an unfinished transaction that
SQLite rolls back.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

FORMAT = "gate-answer-cache/1"
FILE = "answers-v1.sqlite"
"""The file name carries the format, so gate versions with different formats never share a file."""
BUSY_TIMEOUT_S = 2.0
"""How long to wait for another run's transaction; longer than any of gate's (milliseconds), short for a hung one."""
PRUNE_AFTER = timedelta(days=30)
"""Answers older than this are deleted once a run (longer than any sensible --cache-ttl)."""
CHUNK = 500
"""Ids per `IN (…)` query: below SQLite's smallest default variable limit (999)."""
_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE answers (kind TEXT NOT NULL, scope TEXT NOT NULL, id TEXT NOT NULL, stored_at TEXT NOT NULL,"
    " doc TEXT NOT NULL, PRIMARY KEY (kind, scope, id))",  # NOTE: rows of about 1 KiB: a rowid table suits them
)
_COLUMNS = ["kind", "scope", "id", "stored_at", "doc"]
_SELECT = "SELECT id, doc FROM answers WHERE kind = ? AND scope = ? AND id IN (%s)"


class _Foreign(Exception):
    """The file is a database, but not one of gate's answer caches in this format."""


Row = tuple[str, str, str]
"""(id, stored_at in ISO 8601 UTC, the answer's JSON document) of one scope."""


def _chunks(ids: Collection[str]) -> Iterator[list[str]]:
    items = sorted(ids)
    for i in range(0, len(items), CHUNK):
        yield items[i:i + CHUNK]


class AnswerDb:
    """`<cache dir>/answers-v1.sqlite`; thread-safe; never raises on a bad file.

    Each operation opens, checks and closes its own connection (one owner, the operation): nothing is
    left open for a long-lived process (a sweep, a Lambda) to leak, and no caller has to close anything.
    """

    def __init__(self, directory: Path, *, timeout: float = BUSY_TIMEOUT_S) -> None:
        self.path = directory / FILE
        self._timeout = timeout
        self._lock = threading.Lock()
        self._pruned = False
        self._checked = False
        self.problem: str | None = None
        """Why the cache was not used (from that point on) in this run, in one line; None while it works."""

    def get_many(self, kind: str, scope: str, ids: Collection[str]) -> dict[str, str]:
        """The stored documents of `ids` (id → JSON text); unknown ids, and every id once the file fails, are absent."""
        wanted = set(ids)
        out: dict[str, str] = {}
        with self._lock:
            con = self._open()
            if con is None:
                return out
            with contextlib.closing(con):
                try:
                    for chunk in _chunks(wanted):
                        for vid, doc in con.execute(_SELECT % ",".join("?" * len(chunk)), [kind, scope, *chunk]):
                            # NOTE: a row SQLite returns for a question not asked, or of another type, is not believed.
                            if isinstance(vid, str) and vid in wanted and isinstance(doc, str):
                                out[vid] = doc
                except sqlite3.Error as e:
                    self._give_up(f"reading {self.path}: {e}")
                    return {}
        return out

    def put_many(self, kind: str, scope: str, rows: Iterable[Row], *, now: datetime) -> bool:
        """Store rows in one transaction (replacing older answers); False if the file cannot take them."""
        items = [(kind, scope, vid, stored_at, doc) for vid, stored_at, doc in rows]
        with self._lock:
            con = self._open()
            if con is None:
                return False
            with contextlib.closing(con):
                try:
                    self._write(con, items, now)
                except sqlite3.Error as e:
                    self._give_up(f"writing {self.path}: {e}")
                    return False
        return True

    def _write(self, con: sqlite3.Connection, items: Sequence[tuple[str, ...]], now: datetime) -> None:
        if not items:
            return
        con.execute("BEGIN IMMEDIATE")
        try:
            con.executemany("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)", items)
            if not self._pruned:
                con.execute("DELETE FROM answers WHERE stored_at < ?", ((now - PRUNE_AFTER).isoformat(),))
            con.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                con.execute("ROLLBACK")
            raise
        self._pruned = True

    # -- the file ------------------------------------------------------------------------------
    def _give_up(self, why: str) -> None:
        """Stop using the file for this run (the lock is held): a miss now is better than waiting on it again."""
        self.problem = " ".join(why.split())

    def _open(self) -> sqlite3.Connection | None:
        """A new connection for one operation (the lock is held); None if the file is not usable.

        The file is created and its format checked by the run's first operation only: later ones add no reads
        of their own to the locks concurrent runs contend for.
        """
        if self.problem is not None:
            return None
        try:
            if not self._checked:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # NOTE: created private to the user, like the cache folder should be (docs/aws.md, trust).
                os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            con = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
        except (OSError, sqlite3.Error) as e:
            self._give_up(f"opening {self.path}: {e}")
            return None
        try:
            # NOTE: a crash loses at most the last transaction; SQLite's journal keeps the file consistent.
            con.execute("PRAGMA synchronous=NORMAL")
            if not self._checked:
                self._prepare(con)
                self._checked = True
        except (_Foreign, sqlite3.Error) as e:
            con.close()
            self._give_up(f"{self.path} is not gate's answer cache ({e}); delete it to start a new one"
                          if isinstance(e, _Foreign) else f"opening {self.path}: {e}")
            return None
        return con

    @staticmethod
    def _prepare(con: sqlite3.Connection) -> None:
        """Create the tables in a new file; otherwise check that they are this format's."""
        if not con.execute("SELECT name FROM sqlite_master").fetchall():
            con.execute("BEGIN IMMEDIATE")  # NOTE: two runs starting on one new file: the second sees the tables
            try:
                if not con.execute("SELECT name FROM sqlite_master").fetchall():
                    for statement in _SCHEMA:
                        con.execute(statement)
                    con.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    con.execute("ROLLBACK")
                raise
        try:
            found = con.execute("SELECT value FROM meta WHERE key = 'format'").fetchall()
            columns = [row[1] for row in con.execute("PRAGMA table_info(answers)")]
        except sqlite3.OperationalError as e:  # no such table, no such column
            raise _Foreign(str(e)) from e
        if found != [(FORMAT,)]:
            raise _Foreign(f"format {found[0][0] if found else None!r}, not {FORMAT!r}")
        if columns != _COLUMNS:
            raise _Foreign(f"columns {columns}")
