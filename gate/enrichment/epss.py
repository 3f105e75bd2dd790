"""FIRST's daily EPSS scores CSV (plain or gzipped, with its `#model_version:…,score_date:…` line)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gate.errors import InputError, ShapeError
from gate.fields import Source
from gate.files import read_bytes
from gate.model import Enrichment, EpssScore, FeedInfo, Provenance
from gate.timeutil import to_utc

SOURCE = "first-epss"


def _meta(line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in line.lstrip("#").split(","):
        key, sep, value = part.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def _unit(text: str, what: str, origin: str, lineno: int) -> float:
    try:
        value = float(text)
    except ValueError as e:
        raise InputError(f"{origin}:{lineno}: {what} {text!r} is not a number") from e
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise InputError(f"{origin}:{lineno}: {what} {text} is outside 0..1",
                         hint="is this FIRST's EPSS CSV?")
    return value


@dataclass(frozen=True)
class EpssScores:
    scores: Mapping[str, tuple[float, float | None]]
    model_version: str | None
    score_date: datetime | None
    origin: str

    @classmethod
    def load(cls, path: Path) -> EpssScores:
        try:
            text = read_bytes(path).decode("utf-8")
        except UnicodeDecodeError as e:
            raise InputError(f"{path}: not a text CSV ({e.reason})") from e
        return cls.parse(text, str(path))

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
            raise InputError(f"{origin}: not an EPSS CSV (expected a 'cve,epss,percentile' header)",
                             hint="pass FIRST's epss_scores-YYYY-MM-DD.csv.gz")
        scores: dict[str, tuple[float, float | None]] = {}
        for lineno, line in enumerate(lines[start + 1:], start=start + 2):
            if not line.strip():
                continue
            cells = line.split(",")
            if len(cells) < 2 or not cells[0].startswith("CVE-"):
                raise InputError(f"{origin}:{lineno}: expected 'CVE-…,score,percentile'")
            score = _unit(cells[1], "score", origin, lineno)
            pct = _unit(cells[2], "percentile", origin, lineno) if len(cells) > 2 else None
            scores[cells[0].strip().upper()] = (score, pct)
        score_date = None
        if "score_date" in meta:
            try:
                score_date = to_utc(meta["score_date"])
            except ShapeError as e:
                raise InputError(f"{origin}:1: bad score_date {meta['score_date']!r}") from e
        return cls(scores=scores, model_version=meta.get("model_version"),
                   score_date=score_date, origin=origin)


class EpssEnricher:
    """EPSS score and percentile for the CVEs the file lists."""

    name = SOURCE
    provides: frozenset[str] = frozenset({Source.EPSS})

    def __init__(self, scores: EpssScores) -> None:
        self.data = scores
        self._provenance = Provenance(source=SOURCE, as_of=scores.score_date)

    def enrich(self, vulnerability_ids: Collection[str]) -> dict[str, Enrichment]:
        out: dict[str, Enrichment] = {}
        for vid in vulnerability_ids:
            hit = self.data.scores.get(vid.upper())
            if hit is not None:
                out[vid] = Enrichment(
                    vulnerability_id=vid,
                    epss=EpssScore(score=hit[0], percentile=hit[1], provenance=self._provenance),
                )
        return out

    def feeds(self) -> tuple[FeedInfo, ...]:
        detail = f"model {self.data.model_version}, {len(self.data.scores)} scores"
        return (FeedInfo(name="FIRST EPSS", source=self.data.origin, as_of=self.data.score_date,
                         detail=detail, provides=(Source.EPSS,)),)
