"""Fetch and enrich: pull pages from a source while enrichers work on the ids already seen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gate.enrichment.interface import Enricher, IncrementalEnricher, combine
from gate.model import Enrichment, FeedInfo, Finding
from gate.sources.interface import FindingSource


@dataclass(frozen=True)
class Gathered:
    """Every finding of the target with the enrichment of each distinct vulnerability id."""

    target: str
    findings: tuple[Finding, ...]
    enrichments: dict[str, Enrichment]
    feeds: tuple[FeedInfo, ...]


def gather(
    source: FindingSource,
    *,
    live: IncrementalEnricher | None = None,
    offline: Sequence[Enricher] = (),
) -> Gathered:
    """Run the source to its end; the live enricher (if any) sees each new id as its page arrives.

    Sources earlier in priority win per field: live (Inspector) first, then offline feeds in order.
    """
    findings: list[Finding] = []
    seen: dict[str, None] = {}
    try:
        for page in source.pages():
            fresh = [f.vulnerability_id for f in page if f.vulnerability_id not in seen]
            findings.extend(page)
            if fresh:
                seen.update(dict.fromkeys(fresh))
                if live is not None:
                    live.submit(fresh)
        answers = [live.results()] if live is not None else []
    finally:
        if live is not None:
            live.close()
    ids = list(seen)
    answers.extend(e.enrich(ids) for e in offline)
    feeds = (live.feeds() if live is not None else ()) + tuple(
        info for e in offline for info in e.feeds()
    )
    return Gathered(
        target=source.target,
        findings=tuple(findings),
        enrichments=combine(ids, answers),
        feeds=feeds,
    )
