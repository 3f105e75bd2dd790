"""A policy's EPSS thresholds hold for one EPSS model: a run scored by another stops unless the policy allows it.

FIRST's model v4 (`v2025.03.14`) moved scores enough that `epss > 0.5` no longer flags the same CVEs it
did under v3; a policy states the model its thresholds were set for with `epss_model:`. The feeds are
checked before anything is fetched, and the values judged are checked after enrichment, since a source
that names no model (Inspector's EPSS) may have answered first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gate.errors import IncompleteError
from gate.fields import DataKind
from gate.model import Enrichment, FeedInfo

HINT = ("use EPSS data of that model (`--epss-scores`, `gate feeds update`), set the policy's epss_model to the "
        "feed's model once its thresholds are reviewed, or allow it: epss_model: {pin: MODEL, allow_other: true}")


@dataclass(frozen=True)
class ModelPin:
    """The policy's `epss_model`: the model its thresholds were set for, and whether another one is tolerated."""

    model: str
    allow_other: bool = False


def _refuse(pin: ModelPin, other: str) -> str:
    """The one line that stops the run, or (allowed) the note every report carries."""
    text = f"EPSS thresholds were set for model {pin.model}; {other}"
    if not pin.allow_other:
        raise IncompleteError(text, hint=HINT)
    return f"{text} (allowed by the policy's epss_model.allow_other)"


def check_feeds(pin: ModelPin | None, feeds: Iterable[FeedInfo]) -> list[str]:
    """Notes for EPSS feeds of another model (or none named) when allowed; exit 3 when not."""
    if pin is None:
        return []
    notes = []
    for feed in feeds:
        if DataKind.EPSS in feed.provides and feed.version != pin.model:
            model = f"model {feed.version}" if feed.version else "no model"
            notes.append(_refuse(pin, f"the feed is {model} ({feed.source})"))
    return notes


def check_values(pin: ModelPin | None, enrichments: Mapping[str, Enrichment]) -> list[str]:
    """The same for the EPSS values judged: each must name the pinned model (Inspector's name none)."""
    if pin is None:
        return []
    others: dict[str | None, list[str]] = {}
    for vid, enrichment in sorted(enrichments.items()):
        epss = enrichment.epss
        if epss is not None and epss.model != pin.model:
            others.setdefault(epss.model, []).append(vid)
    notes = []
    for model, vids in others.items():
        source = "a source that names no model (Inspector, an older snapshot)" if model is None else f"model {model}"
        more = f" and {len(vids) - 1} more" if len(vids) > 1 else ""
        notes.append(_refuse(pin, f"the EPSS score of {vids[0]}{more} is from {source}"))
    return notes
