"""FIRST's daily EPSS scores CSV (plain or gzipped, with its `#model_version:…,score_date:…` line)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from gate.enrichment.feedindex import Indexed, Untrusted
from gate.enrichment.feedregistry import FeedFormat, feed
from gate.enrichment.repeats import Repeats
from gate.errors import InputError, ShapeError
from gate.files import gunzip, read_bytes
from gate.model import Enrichment, EpssScore, FeedInfo, Provenance
from gate.timeutil import to_utc

SOURCE = "first-epss"
FEED = feed("epss")
FEED_NAME = FEED.name
HINT = "pass FIRST's epss_scores-YYYY-MM-DD.csv.gz, or run `gate feeds update`"

Score = tuple[float, float | None]
"""(EPSS probability, percentile when the file has one)."""


def _meta(line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in line.lstrip("#").split(","):
        key, sep, value = part.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def unit(text: str | float, what: str, where: str) -> float:
    """A probability or percentile: a number in 0..1 (NaN and infinities are outside)."""
    try:
        value = float(text)
    except ValueError as e:
        raise InputError(f"{where}: {what} {text!r} is not a number", hint=HINT) from e
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise InputError(f"{where}: {what} {text} is outside 0..1", hint=HINT)
    return value


class EpssSource(Protocol):
    """Validated scores, in memory or indexed on disk, that answer for the CVEs asked."""

    @property
    def model_version(self) -> str | None: ...
    @property
    def score_date(self) -> datetime: ...
    @property
    def origin(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def notes(self) -> tuple[str, ...]: ...
    def lookup(self, ids: Collection[str]) -> Mapping[str, Score]:
        """The score of each upper-cased id the file lists."""
        ...


@dataclass(frozen=True)
class EpssScores:
    """The whole file, parsed and validated."""

    scores: Mapping[str, Score]
    model_version: str | None
    score_date: datetime
    origin: str
    notes: tuple[str, ...] = ()
    """What a reader should know that did not stop the run (a CVE listed twice, identically)."""

    @property
    def count(self) -> int:
        return len(self.scores)

    @property
    def as_of(self) -> datetime:
        return self.score_date

    @property
    def version(self) -> str | None:
        return self.model_version

    def lookup(self, ids: Collection[str]) -> Mapping[str, Score]:
        return {vid: self.scores[vid] for vid in ids if vid in self.scores}

    @classmethod
    def load(cls, path: Path) -> EpssScores:
        return cls.from_bytes(read_bytes(path), str(path))

    @classmethod
    def from_bytes(cls, data: bytes, origin: str) -> EpssScores:
        try:
            text = gunzip(data, origin).decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"{origin}: not a text CSV ({e.reason})", hint=HINT) from e
        return cls.parse(text, origin)

    @classmethod
    def parse(cls, text: str, origin: str) -> EpssScores:
        lines = text.splitlines()
        meta: dict[str, str] = {}
        start = 0
        if lines and lines[0].startswith("#"):
            meta = _meta(lines[0])
            start = 1
        if start >= len(lines) or lines[start].replace(" ", "").lower() not in (
            "cve,epss,percentile",
            "cve,epss",
        ):
            raise InputError(f"{origin}: not an EPSS CSV (expected a 'cve,epss,percentile' header)", hint=HINT)
        scores: dict[str, Score] = {}
        rows: dict[str, int] = {}
        repeats = Repeats(FEED_NAME, origin)
        for lineno, line in enumerate(lines[start + 1:], start=start + 2):
            if not line.strip():
                continue
            cells = line.split(",")
            if len(cells) < 2 or not cells[0].startswith("CVE-"):
                raise InputError(f"{origin}:{lineno}: expected 'CVE-…,score,percentile'", hint=HINT)
            where = f"{origin}:{lineno}"
            score = unit(cells[1], "score", where)
            pct = unit(cells[2], "percentile", where) if len(cells) > 2 else None
            cve = cells[0].strip().upper()
            if cve in scores:
                # NOTE: the last row used to win, so a 0.9 row followed by a 0.1 row read as 0.1.
                repeats.add(cve, f"line {rows[cve]}", f"line {lineno}", same=scores[cve] == (score, pct), hint=HINT)
                continue
            scores[cve], rows[cve] = (score, pct), lineno
        # NOTE: a file without rows would answer "no score" for everything; without a date, for ever.
        if not scores:
            raise InputError(f"{origin}: the EPSS file has no scores (header only)", hint=HINT)
        try:
            score_date = to_utc(meta.get("score_date") or None)
        except ShapeError as e:
            raise InputError(f"{origin}:1: bad score_date {meta['score_date']!r}", hint=HINT) from e
        if score_date is None:
            raise InputError(f"{origin}: the EPSS file has no '#model_version:…,score_date:…' line, "
                             "so its age is unknown", hint=HINT)
        return cls(scores=scores, model_version=meta.get("model_version"), score_date=score_date, origin=origin,
                   notes=repeats.notes())


def describe(source: EpssSource) -> str:
    return f"model {source.model_version}, {source.count} scores"


class EpssIndex(Indexed):
    """EPSS scores answered from their index."""

    SQL = "SELECT cve, score, percentile FROM epss WHERE cve IN (%s)"

    @property
    def model_version(self) -> str | None:
        return self.version

    @property
    def score_date(self) -> datetime:
        return self.as_of

    def check(self, row: tuple[Any, ...]) -> Score:
        cve, score, pct = row
        where = f"{self.origin} (index): {cve}"
        if not isinstance(score, float) or not (pct is None or isinstance(pct, float)):
            raise Untrusted(f"bad row for {cve}")
        return unit(score, "score", where), None if pct is None else unit(pct, "percentile", where)

    def lookup(self, ids: Collection[str]) -> Mapping[str, Score]:
        found: Mapping[str, Score] = super().lookup(ids)
        return found


def _rows(scores: EpssScores) -> Iterable[tuple[Any, ...]]:
    return sorted((cve, s, p) for cve, (s, p) in scores.scores.items())


class EpssEnricher:
    """EPSS score and percentile for the CVEs the file lists."""

    name = SOURCE
    provides: frozenset[str] = frozenset(FEED.provides)

    def __init__(self, scores: EpssSource) -> None:
        self.data = scores
        self._provenance = Provenance(source=SOURCE, as_of=scores.score_date)

    def enrich(self, vulnerability_ids: Collection[str]) -> dict[str, Enrichment]:
        found = self.data.lookup({vid.upper() for vid in vulnerability_ids})
        out: dict[str, Enrichment] = {}
        for vid in vulnerability_ids:
            hit = found.get(vid.upper())
            if hit is not None:
                out[vid] = Enrichment(
                    vulnerability_id=vid,
                    epss=EpssScore(score=hit[0], percentile=hit[1], provenance=self._provenance,
                                   model=self.data.model_version),
                )
        return out

    def feeds(self) -> tuple[FeedInfo, ...]:
        return (FeedInfo(name=FEED_NAME, source=self.data.origin, as_of=self.data.score_date,
                         detail=describe(self.data), provides=FEED.provides, notes=self.data.notes,
                         version=self.data.model_version),)


FORMAT = FeedFormat(
    parse=EpssScores.from_bytes, describe=describe, enricher=EpssEnricher, index=EpssIndex, rows=_rows,
    schema="CREATE TABLE epss (cve TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL) WITHOUT ROWID",
    insert="INSERT INTO epss VALUES (?, ?, ?)",
)
"""FIRST EPSS's entry in `feedregistry.FEEDS` imports this."""
