"""A third offline feed that exists only in tests: the parser module a new feed brings, and nothing else.

`tests/enrichment/test_feed_registry.py` registers it with one `feedregistry.Feed` entry and sees every
command and the run pick it up. Its file: `#as_of:DATE` then `cve,flag` rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gate.enrichment.feedindex import Indexed, Untrusted
from gate.enrichment.feedregistry import FeedFormat
from gate.errors import InputError
from gate.files import gunzip
from gate.model import Enrichment, FeedInfo
from gate.timeutil import to_utc

NAME = "Fake Feed"


@dataclass(frozen=True)
class FakeData:
    flags: Mapping[str, str]
    as_of: datetime
    origin: str
    version: str | None = "f1"
    notes: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.flags)

    def lookup(self, ids: Collection[str]) -> Mapping[str, str]:
        return {vid: self.flags[vid] for vid in ids if vid in self.flags}


def parse(data: bytes, origin: str) -> FakeData:
    lines = gunzip(data, origin).decode().splitlines()
    if len(lines) < 3 or not lines[0].startswith("#as_of:") or lines[1] != "cve,flag":
        raise InputError(f"{origin}: not a fake feed")
    as_of = to_utc(lines[0].removeprefix("#as_of:"))
    assert as_of is not None
    rows = [line.split(",") for line in lines[2:]]
    return FakeData({row[0]: row[1] for row in rows}, as_of, origin)


class FakeIndex(Indexed):
    SQL = "SELECT cve, flag FROM fake WHERE cve IN (%s)"

    def check(self, row: tuple[Any, ...]) -> str:
        if not isinstance(row[1], str):
            raise Untrusted("bad flag")
        return row[1]


class FakeEnricher:
    name = "fake"
    provides: frozenset[str] = frozenset()

    def __init__(self, data: FakeData | FakeIndex) -> None:
        self.data = data

    def enrich(self, vulnerability_ids: Collection[str]) -> dict[str, Enrichment]:
        self.data.lookup(vulnerability_ids)
        return {}

    def feeds(self) -> tuple[FeedInfo, ...]:
        return (FeedInfo(name=NAME, source=self.data.origin, as_of=self.data.as_of, detail=describe(self.data)),)


def describe(data: FakeData | FakeIndex) -> str:
    return f"fake {data.version}, {data.count} flags"


def _rows(data: FakeData) -> Iterable[tuple[Any, ...]]:
    return sorted(data.flags.items())


FORMAT = FeedFormat(parse=parse, describe=describe, enricher=FakeEnricher, index=FakeIndex, rows=_rows,
                    schema="CREATE TABLE fake (cve TEXT PRIMARY KEY, flag TEXT NOT NULL) WITHOUT ROWID",
                    insert="INSERT INTO fake VALUES (?, ?)")
