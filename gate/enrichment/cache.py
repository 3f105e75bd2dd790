"""A per-vulnerability cache of Inspector answers, negative ones included, in the shared answer database.

Trust: the cache directory is as trusted as the policy (whoever can write it can change verdicts).
Each entry names the partition, account, region and endpoint it was answered for, its source and
its date; an entry for another scope, or one that does not parse or validate, is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gate.enrichment.answerdb import AnswerDb
from gate.errors import ShapeError
from gate.jsondocs import loads_strict
from gate.model import Enrichment
from gate.serialize import enrichment_from_json, enrichment_to_json
from gate.timeutil import to_utc

SCHEMA_VERSION = 3
"""Bump when the entry format or the meaning of its values changes: old entries then read as misses."""
ENRICHMENT_SHAPE = "aa6f37cafae4f657"
"""`serialize.enrichment_shape()` when SCHEMA_VERSION was last set: tests/test_enrichment_values.py fails
when the shape changes without a new SCHEMA_VERSION."""
DEFAULT_TTL = timedelta(hours=24)
KIND = "inspector"
FLUSH_EVERY = 200
"""Answers kept in memory before they are written in one transaction (a run of 800 CVEs: 4 transactions)."""


def default_cache_dir() -> Path:
    """`$GATE_CACHE_DIR`, else `$XDG_CACHE_HOME/gate`, else `~/.cache/gate`."""
    explicit = os.environ.get("GATE_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "gate"
    return Path.home() / ".cache" / "gate"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Scope:
    """Where answers came from: one account's Inspector in one region, through one endpoint."""

    partition: str = ""
    account: str = ""
    region: str = ""
    endpoint: str = ""

    @classmethod
    def of(cls, arn: str | None, region: str, endpoint: str) -> Scope:
        """The scope of answers about `arn` (an Image Builder ARN) from the endpoint in `region`."""
        parts = (arn or "").split(":")
        partition, account = (parts[1], parts[4]) if len(parts) > 5 and parts[0] == "arn" else ("", "")
        return cls(partition=partition, account=account, region=region, endpoint=endpoint)

    def as_json(self) -> dict[str, str]:
        return {"partition": self.partition, "account": self.account, "region": self.region,
                "endpoint": self.endpoint}

    @property
    def digest(self) -> str:
        text = json.dumps(self.as_json(), sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class CacheEntry:
    """What Inspector said about one id, and when."""

    vulnerability_id: str
    enrichment: Enrichment | None
    """None: Inspector was asked and knew nothing (a negative entry)."""
    stored_at: datetime
    scope: str | None
    """The image ARN the question was scoped to; a negative answer only holds for the same scope."""
    source: str
    """Which service answered, and through which endpoint."""


class Cache:
    """Inspector's answers for one scope, rows of kind `inspector` in the answer database; odd entries are misses.

    Answers are written in batches (`FLUSH_EVERY`, and the rest at `flush`), not one file each.
    """

    def __init__(
        self,
        directory: Path,
        ttl: timedelta = DEFAULT_TTL,
        clock: Callable[[], datetime] = _utcnow,
        where: Scope = Scope(),
        db: AnswerDb | None = None,
    ) -> None:
        self.directory = directory
        self.ttl = ttl
        self.where = where
        self._clock = clock
        self.db = db or AnswerDb(directory)
        self._pending: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self.write_errors = 0
        """Entries that could not be stored; the cache is an optimisation, so this is not fatal."""

    def for_scope(self, where: Scope) -> Cache:
        """The same database and TTL, reading and writing only entries of `where`."""
        return Cache(self.directory, self.ttl, self._clock, where, self.db)

    @property
    def problem(self) -> str | None:
        """Why the database was not used in this run, if it was not."""
        return self.db.problem

    def get(self, vulnerability_id: str, *, scope: str | None = None) -> CacheEntry | None:
        """A fresh, well-formed entry for the id, or None (absent, expired, corrupt, other version)."""
        return self.get_many([vulnerability_id], scope=scope).get(vulnerability_id)

    def get_many(self, ids: Collection[str], *, scope: str | None = None) -> dict[str, CacheEntry]:
        """The fresh, well-formed entries among `ids`, in one query."""
        found: dict[str, CacheEntry] = {}
        for vid, text in self.db.get_many(KIND, self.where.digest, ids).items():
            entry = self._checked(vid, text, scope)
            if entry is not None:
                found[vid] = entry
        return found

    def put(self, vulnerability_id: str, enrichment: Enrichment | None, *, scope: str | None = None) -> None:
        """Store an answer (None: nothing known) with the next batch; failures only count in `write_errors`."""
        self.put_many([(vulnerability_id, enrichment)], scope=scope)

    def put_many(self, answers: Iterable[tuple[str, Enrichment | None]], *, scope: str | None = None) -> None:
        if self.db.problem is not None:  # NOTE: given up on for this run: not worth encoding what cannot be kept
            with self._lock:
                self.write_errors += len(list(answers))
            return
        stored_at = self._clock().isoformat()
        rows = [(vid, stored_at, self._document(vid, enrichment, scope, stored_at)) for vid, enrichment in answers]
        with self._lock:
            self._pending.extend(rows)
            full = len(self._pending) >= FLUSH_EVERY
        if full:
            self.flush()

    def flush(self) -> None:
        """Write the answers not yet written, in one transaction."""
        with self._lock:
            rows, self._pending = self._pending, []
        if rows and not self.db.put_many(KIND, self.where.digest, rows, now=self._clock()):
            with self._lock:
                self.write_errors += len(rows)

    def _document(self, vid: str, enrichment: Enrichment | None, scope: str | None, stored_at: str) -> str:
        doc = {
            "schema": SCHEMA_VERSION,
            "vulnerabilityId": vid,
            "storedAt": stored_at,
            "scope": scope,
            "where": self.where.as_json(),
            "source": f"inspector2 {self.where.endpoint}".strip(),
            "found": enrichment is not None,
            "enrichment": enrichment_to_json(enrichment) if enrichment is not None else None,
        }
        return json.dumps(doc, sort_keys=True)

    def _checked(self, vulnerability_id: str, text: str, scope: str | None) -> CacheEntry | None:
        try:
            entry = self._entry(loads_strict(text))
        except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError, RecursionError):
            # NOTE: ShapeError and JSONDecodeError are ValueErrors: a bad entry is a miss.
            return None
        if entry.vulnerability_id != vulnerability_id:
            return None
        age = self._clock() - entry.stored_at
        if age < timedelta(0) or age >= self.ttl:
            return None
        if entry.enrichment is None and entry.scope != scope:
            return None
        return entry

    def _entry(self, doc: Any) -> CacheEntry:
        if not isinstance(doc, dict) or doc.get("schema") != SCHEMA_VERSION:
            raise ShapeError("not a cache entry of this version")
        if doc.get("where") != self.where.as_json():
            raise ShapeError("an entry for another account, region or endpoint")
        vid, scope, source = doc["vulnerabilityId"], doc.get("scope"), doc.get("source")
        if not isinstance(vid, str) or not (scope is None or isinstance(scope, str)) \
                or not isinstance(source, str) or not source:
            raise ShapeError("bad cache entry")
        stored_at = to_utc(doc["storedAt"])
        if stored_at is None or not isinstance(doc.get("found"), bool):
            raise ShapeError("bad cache entry")
        enrichment = enrichment_from_json(doc["enrichment"]) if doc["found"] else None
        if enrichment is not None and enrichment.vulnerability_id != vid:
            raise ShapeError("cache entry for another id")
        return CacheEntry(vulnerability_id=vid, enrichment=enrichment, stored_at=stored_at, scope=scope,
                          source=source)
