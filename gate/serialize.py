"""JSON form of `Enrichment` with the source and date of every value (snapshots, cache, reports)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from gate.errors import ShapeError
from gate.model import Enrichment, EpssScore, KevEntry, Provenance, Sourced, Ssvc
from gate.timeutil import to_utc


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


def enrichment_to_json(e: Enrichment) -> dict[str, Any]:
    kev = None
    if e.kev:
        kev = {
            "dateAdded": _day(e.kev.date_added),
            "dueDate": _day(e.kev.due_date),
            "requiredAction": e.kev.required_action,
            "knownRansomwareCampaignUse": e.kev.ransomware,
            "provenance": provenance_to_json(e.kev.provenance),
        }
    epss = None
    if e.epss:
        epss = {
            "score": e.epss.score,
            "percentile": e.epss.percentile,
            "provenance": provenance_to_json(e.epss.provenance),
        }
    return {
        "vulnerabilityId": e.vulnerability_id,
        "enriched": e.enriched,
        "kev": kev,
        "kevKnownBy": list(e.kev_known_by),
        "epss": epss,
        "exploitObserved": _sourced(e.exploit_observed),
        "exploitAvailable": _sourced(e.exploit_available),
        "riskScore": _sourced(e.risk_score),
        "cwes": _sourced(e.cwes),
        "ttps": _sourced(e.ttps),
        "tools": _sourced(e.tools),
        "ssvc": ssvc_to_json(e.ssvc),
    }


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
    if exploitation not in (None, "none", "poc", "active") or impact not in (None, "partial", "total") or not (
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


def enrichment_from_json(obj: object) -> Enrichment:
    """Inverse of `enrichment_to_json`; raises `ShapeError` on anything it would have to guess."""
    if not isinstance(obj, Mapping) or not isinstance(obj.get("vulnerabilityId"), str):
        raise ShapeError("enrichment without a vulnerabilityId")
    kev = obj.get("kev")
    epss = obj.get("epss")
    if kev is not None and not isinstance(kev, Mapping):
        raise ShapeError("kev must be an object")
    if epss is not None and not isinstance(epss, Mapping):
        raise ShapeError("epss must be an object")
    known_by = obj.get("kevKnownBy") or []
    if not isinstance(known_by, list):
        raise ShapeError("kevKnownBy must be a list")
    score = epss.get("score") if epss else None
    pct = epss.get("percentile") if epss else None
    for value in (score, pct):
        ok = value is None or (isinstance(value, int | float) and not isinstance(value, bool)
                               and 0.0 <= value <= 1.0)
        if not ok:
            raise ShapeError(f"EPSS value {value!r} is not a number in 0..1")
    return Enrichment(
        vulnerability_id=obj["vulnerabilityId"],
        kev=KevEntry(
            date_added=_date(kev.get("dateAdded")),
            due_date=_date(kev.get("dueDate")),
            required_action=kev.get("requiredAction"),
            ransomware=kev.get("knownRansomwareCampaignUse"),
            provenance=_provenance(kev.get("provenance")),
        ) if kev else None,
        epss=EpssScore(
            score=float(score),
            percentile=float(pct) if pct is not None else None,
            provenance=_provenance(epss.get("provenance")),
        ) if epss and score is not None else None,
        exploit_observed=_read_sourced(obj.get("exploitObserved"), bool),
        exploit_available=_read_sourced(obj.get("exploitAvailable"), bool),
        risk_score=_read_sourced(obj.get("riskScore"), float),
        cwes=_read_sourced(obj.get("cwes"), tuple),
        ttps=_read_sourced(obj.get("ttps"), tuple),
        tools=_read_sourced(obj.get("tools"), tuple),
        ssvc=ssvc_from_json(obj.get("ssvc")),
        kev_known_by=tuple(str(s) for s in known_by),
    )

