"""One answer per vulnerability from a source that may answer it several times (one Inspector finding per package).

Two answers that say the same are one; of two that disagree, the later (`updatedAt`) is the source's latest word;
two that disagree with neither later are refused, never settled by their order in a file: the first copy used to
win, so an EPSS of 0.01 listed before 0.9 passed `epss > 0.5`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from gate.errors import InputError
from gate.model import Enrichment, enrichment_values


def facts(value: Enrichment) -> tuple[Any, ...]:
    """What an answer says, without where and when it was said."""
    return tuple(None if (v := getattr(value, name)) is None or kind.kind == "asked"
                 else {k: x for k, x in asdict(v).items() if k != "provenance"}
                 for name, kind in enrichment_values())


def stamp(value: Enrichment) -> datetime | None:
    """When the source last updated what it says (the first dated value's provenance)."""
    return next((v.provenance.as_of for name, _ in enrichment_values()
                 if (v := getattr(value, name)) is not None and getattr(v, "provenance", None) is not None), None)


def one_per_id(answers: Iterable[tuple[str, Enrichment]], *, hint: str) -> dict[str, Enrichment]:
    """`(where, answer)` pairs → one answer per vulnerability id (as first written); `InputError` on a tie."""
    kept: dict[str, tuple[str, Enrichment]] = {}
    for where, value in answers:
        vid = value.vulnerability_id.upper()
        if vid not in kept:
            kept[vid] = (where, value)
            continue
        first, known = kept[vid]
        if facts(value) == facts(known):
            continue
        new, old = stamp(value), stamp(known)
        if new is not None and old is not None and new != old:
            kept[vid] = (where, value) if new > old else (first, known)
            continue
        raise InputError(f"{value.vulnerability_id} is answered twice with different values, at {first} and at "
                         f"{where}, and neither is later: gate will not pick one", hint=hint)
    return {value.vulnerability_id: value for _, value in kept.values()}


def strictest(a: Enrichment, b: Enrichment) -> Enrichment:
    """Two live answers about one CVE (its findings in two packages) as one: the higher EPSS, an exploit if either
    says so, then the rest as `merged_with` (earlier wins). AWS's own answers are not refused for disagreeing."""
    merged = a.merged_with(b)
    epss = max((e for e in (a.epss, b.epss) if e is not None), key=lambda e: e.score, default=None)
    flags = [f for f in (a.exploit_available, b.exploit_available) if f is not None]
    available = next((f for f in flags if f.value is True), flags[0] if flags else None)
    return replace(merged, epss=epss, exploit_available=available)
