"""A per-vulnerability on-disk cache of Inspector answers, negative ones included, safe under concurrent runs.

Trust: the cache directory is as trusted as the policy (whoever can write it can change verdicts).
Each entry names the partition, account, region and endpoint it was answered for, its source and
its date; an entry for another scope, or one that does not parse or validate, is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gate.errors import ShapeError
from gate.files import atomic_write
from gate.jsondocs import loads_strict
from gate.model import Enrichment
from gate.serialize import enrichment_from_json, enrichment_to_json
from gate.timeutil import to_utc

SCHEMA_VERSION = 2
"""Bump when the entry format or the meaning of its values changes: old entries then read as misses."""
DEFAULT_TTL = timedelta(hours=24)
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")


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
    """One JSON file per id under `<directory>/inspector/v<schema>/<scope digest>/`; odd entries are misses."""

    def __init__(
        self,
        directory: Path,
        ttl: timedelta = DEFAULT_TTL,
        clock: Callable[[], datetime] = _utcnow,
        where: Scope = Scope(),
    ) -> None:
        self.directory = directory
        self.ttl = ttl
        self.where = where
        self._clock = clock
        self.root = directory / "inspector" / f"v{SCHEMA_VERSION}" / where.digest
        self.write_errors = 0
        """Entries that could not be stored; the cache is an optimisation, so this is not fatal."""

    def for_scope(self, where: Scope) -> Cache:
        """The same cache directory and TTL, reading and writing only entries of `where`."""
        return Cache(self.directory, self.ttl, self._clock, where)

    def path_for(self, vulnerability_id: str) -> Path:
        if _SAFE_NAME.fullmatch(vulnerability_id):
            name = vulnerability_id
        else:
            name = "sha256-" + hashlib.sha256(vulnerability_id.encode("utf-8")).hexdigest()
        return self.root / f"{name}.json"

    def get(self, vulnerability_id: str, *, scope: str | None = None) -> CacheEntry | None:
        """A fresh, well-formed entry for the id, or None (absent, expired, corrupt, other version)."""
        try:
            doc = loads_strict(self.path_for(vulnerability_id).read_bytes().decode("utf-8"))
            entry = self._entry(doc)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ArithmeticError):
            # NOTE: ShapeError, JSONDecodeError and UnicodeDecodeError are ValueErrors: a bad entry is a miss.
            return None
        if entry.vulnerability_id != vulnerability_id:
            return None
        age = self._clock() - entry.stored_at
        if age < timedelta(0) or age >= self.ttl:
            return None
        if entry.enrichment is None and entry.scope != scope:
            return None
        return entry

    def put(
        self, vulnerability_id: str, enrichment: Enrichment | None, *, scope: str | None = None
    ) -> None:
        """Store an answer (None: nothing known); failures only count in `write_errors`."""
        doc = {
            "schema": SCHEMA_VERSION,
            "vulnerabilityId": vulnerability_id,
            "storedAt": self._clock().isoformat(),
            "scope": scope,
            "where": self.where.as_json(),
            "source": f"inspector2 {self.where.endpoint}".strip(),
            "found": enrichment is not None,
            "enrichment": enrichment_to_json(enrichment) if enrichment is not None else None,
        }
        try:
            atomic_write(self.path_for(vulnerability_id), json.dumps(doc, sort_keys=True).encode())
        except OSError:
            self.write_errors += 1

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
