"""The enricher seam: a source of exploit intelligence keyed by vulnerability id."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Protocol

from gate.model import Enrichment, FeedInfo


class Enricher(Protocol):
    """Answers what it knows about vulnerability ids; ids it knows nothing of are simply absent.

    Enrichers raise a `GateError` when they could not ask (an API failed after retries); they
    never return a partial answer silently.
    """

    name: str
    provides: frozenset[str]
    """The `gate.fields.DataKind` kinds it answers; lets a run refuse rules nothing can answer."""

    def enrich(self, vulnerability_ids: Collection[str]) -> Mapping[str, Enrichment]: ...

    def feeds(self) -> tuple[FeedInfo, ...]:
        """What this enricher consulted, with dates, for reports."""
        ...


def combine(
    ids: Iterable[str], answers: Iterable[Mapping[str, Enrichment]]
) -> dict[str, Enrichment]:
    """Merge answers in priority order: for each field the first source that knew it wins."""
    merged = {vid: Enrichment(vulnerability_id=vid) for vid in ids}
    for answer in answers:
        for vid, value in answer.items():
            if vid in merged:
                merged[vid] = merged[vid].merged_with(value)
    return merged


class IncrementalEnricher(Protocol):
    """An enricher that works in the background while findings are still being fetched.

    `submit` returns at once and may be called once per page; `results` waits for every submitted
    id and raises a `GateError` if any could not be answered. Ids are asked about once per run.
    """

    name: str
    provides: frozenset[str]

    def submit(self, vulnerability_ids: Collection[str]) -> None: ...

    def results(self) -> Mapping[str, Enrichment]: ...

    def feeds(self) -> tuple[FeedInfo, ...]: ...

    def close(self) -> None:
        """Stop background work (also on error paths)."""
        ...
