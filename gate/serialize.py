"""JSON form of `Enrichment` with the source and date of every value (snapshots, cache, reports)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import date
from typing import Any

from gate.errors import ShapeError
from gate.model import Enrichment, EpssScore, KevEntry, Provenance, Sourced, Ssvc, ValueKind, enrichment_values
from gate.timeutil import to_utc
from gate.vocab import SSVC_EXPLOITATION, SSVC_TECHNICAL_IMPACT


def enrichment_shape() -> str:
    """A hash of what is stored of an `Enrichment`: the fields (and those of the values it holds) and their keys.

    The answer cache and the snapshot pin it beside their format versions, and a test compares: a changed
    shape needs a new version, so an older gate never misreads a newer file (nor the reverse).
    """
    parts = [f"{cls.__name__}.{f.name}: {f.type}"
             + (f" as {v.key} ({v.kind})" if (v := f.metadata.get("value")) else "")
             for cls in (Enrichment, KevEntry, EpssScore, Ssvc, Sourced, Provenance) for f in fields(cls)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def provenance_to_json(p: Provenance | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"source": p.source, "asOf": p.as_of.isoformat() if p.as_of else None}


def _provenance(obj: object) -> Provenance:
    if not isinstance(obj, Mapping) or not isinstance(obj.get("source"), str):
        raise ShapeError("provenance without a source")
    return Provenance(source=obj["source"], as_of=to_utc(obj.get("asOf")))


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _sourced(s: Sourced | None) -> dict[str, Any] | None:
    if s is None:
        return None
    value = list(s.value) if isinstance(s.value, tuple) else s.value
    return {"value": value, "provenance": provenance_to_json(s.provenance)}


def _kev_to_json(kev: KevEntry | None) -> dict[str, Any] | None:
    if kev is None:
        return None
    return {
        "dateAdded": _day(kev.date_added),
        "dueDate": _day(kev.due_date),
        "requiredAction": kev.required_action,
        "knownRansomwareCampaignUse": kev.ransomware,
        "provenance": provenance_to_json(kev.provenance),
    }


def _epss_to_json(epss: EpssScore | None) -> dict[str, Any] | None:
    if epss is None:
        return None
    return {"score": epss.score, "percentile": epss.percentile, "model": epss.model,
            "provenance": provenance_to_json(epss.provenance)}


def enrichment_to_json(e: Enrichment) -> dict[str, Any]:
    out: dict[str, Any] = {"vulnerabilityId": e.vulnerability_id, "enriched": e.enriched}
    for name, value in enrichment_values():
        out[value.key] = _WRITE[value.kind](getattr(e, name))
    return out


def ssvc_to_json(s: Ssvc | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"exploitation": s.exploitation, "automatable": s.automatable, "technicalImpact": s.technical_impact,
            "provenance": provenance_to_json(s.provenance)}


def ssvc_from_json(obj: object) -> Ssvc | None:
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        raise ShapeError("ssvc must be an object")
    exploitation, automatable, impact = obj.get("exploitation"), obj.get("automatable"), obj.get("technicalImpact")
    if exploitation not in (None, *SSVC_EXPLOITATION) or impact not in (None, *SSVC_TECHNICAL_IMPACT) or not (
            automatable is None or isinstance(automatable, bool)):
        raise ShapeError("ssvc values outside none/poc/active, true/false, partial/total")
    return Ssvc(exploitation, automatable, impact, _provenance(obj.get("provenance")))


def _date(value: object) -> date | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ShapeError(f"bad date {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise ShapeError(f"bad date {value!r}") from err


def _read_sourced(obj: object, kind: type) -> Sourced | None:
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        raise ShapeError("expected an object with value and provenance")
    value = obj.get("value")
    if kind is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ShapeError("expected a list of strings")
        return Sourced(tuple(value), _provenance(obj.get("provenance")))
    if kind is bool:
        if not isinstance(value, bool):
            raise ShapeError("expected a boolean")
        return Sourced(value, _provenance(obj.get("provenance")))
    # NOTE: the bound also refuses NaN and 400-digit integers (which float() cannot convert).
    if isinstance(value, bool) or not isinstance(value, int | float) or not -1e15 <= value <= 1e15:
        raise ShapeError("expected a finite number")
    return Sourced(float(value), _provenance(obj.get("provenance")))


def _read_kev(kev: object) -> KevEntry | None:
    if kev is not None and not isinstance(kev, Mapping):
        raise ShapeError("kev must be an object")
    if not kev:
        return None
    return KevEntry(
        date_added=_date(kev.get("dateAdded")),
        due_date=_date(kev.get("dueDate")),
        required_action=kev.get("requiredAction"),
        ransomware=kev.get("knownRansomwareCampaignUse"),
        provenance=_provenance(kev.get("provenance")),
    )


def _read_asked(known_by: object) -> tuple[str, ...]:
    if not isinstance(known_by := known_by or [], list):
        raise ShapeError("kevKnownBy must be a list")
    return tuple(str(s) for s in known_by)


def _read_epss(epss: object) -> EpssScore | None:
    if epss is not None and not isinstance(epss, Mapping):
        raise ShapeError("epss must be an object")
    score = epss.get("score") if epss else None
    pct = epss.get("percentile") if epss else None
    for value in (score, pct):
        ok = value is None or (isinstance(value, int | float) and not isinstance(value, bool)
                               and 0.0 <= value <= 1.0)
        if not ok:
            raise ShapeError(f"EPSS value {value!r} is not a number in 0..1")
    model = epss.get("model") if epss else None
    if model is not None and not isinstance(model, str):
        raise ShapeError(f"EPSS model {model!r} is not a string")
    if not epss or score is None:
        return None
    return EpssScore(score=float(score), percentile=float(pct) if pct is not None else None,
                     provenance=_provenance(epss.get("provenance")), model=model)


_WRITE: dict[ValueKind, Callable[[Any], Any]] = {
    "kev": _kev_to_json, "asked": list, "epss": _epss_to_json, "ssvc": ssvc_to_json,
    "flag": _sourced, "score": _sourced, "names": _sourced,
}
_READ: dict[ValueKind, Callable[[object], Any]] = {
    "kev": _read_kev, "asked": _read_asked, "epss": _read_epss, "ssvc": ssvc_from_json,
    "flag": lambda obj: _read_sourced(obj, bool), "score": lambda obj: _read_sourced(obj, float),
    "names": lambda obj: _read_sourced(obj, tuple),
}


def enrichment_from_json(obj: object) -> Enrichment:
    """Inverse of `enrichment_to_json`; raises `ShapeError` on anything it would have to guess."""
    if not isinstance(obj, Mapping) or not isinstance(obj.get("vulnerabilityId"), str):
        raise ShapeError("enrichment without a vulnerabilityId")
    values = {name: _READ[value.kind](obj.get(value.key)) for name, value in enrichment_values()}
    return Enrichment(vulnerability_id=obj["vulnerabilityId"], **values)
