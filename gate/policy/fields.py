"""The fields a policy expression can read, their types, and how each is computed for a finding."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from gate.model import Enrichment, Finding


class Type(enum.Enum):
    BOOL = "boolean"
    NUMBER = "number"
    STRING = "string"
    DATE = "date"
    LIST = "list of strings"


@dataclass(frozen=True)
class Field:
    name: str
    type: Type
    doc: str
    get: Callable[[Finding, Enrichment, date], Any]


def _age(f: Finding, _: Enrichment, today: date) -> float | None:
    if f.first_observed_at is None:
        return None
    return float((today - f.first_observed_at.date()).days)


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(value) if value else ()


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("vulnerability_id", Type.STRING, "CVE or other id, e.g. `CVE-2024-3400`",
              lambda f, e, t: f.vulnerability_id),
        Field("severity", Type.STRING, "Image Builder severity, upper-cased: CRITICAL, HIGH, MEDIUM, LOW, "
              "INFORMATIONAL, UNTRIAGED", lambda f, e, t: f.severity),
        Field("vendor_severity", Type.STRING, "the distribution's own rating, e.g. `Important`",
              lambda f, e, t: f.vendor_severity),
        Field("fix_available", Type.BOOL, "Image Builder says YES or PARTIAL", lambda f, e, t: f.has_fix),
        Field("fix", Type.STRING, "Image Builder's fixAvailable as given: YES, NO or PARTIAL",
              lambda f, e, t: f.fix_available),
        Field("packages", Type.LIST, "names of the vulnerable packages", lambda f, e, t: f.package_names),
        Field("inspector_score", Type.NUMBER, "Inspector score (0-10)", lambda f, e, t: f.inspector_score),
        Field("cvss", Type.NUMBER, "highest CVSS base score listed (v3 preferred)",
              lambda f, e, t: f.best_cvss),
        Field("age_days", Type.NUMBER, "days since Image Builder first observed the finding", _age),
        Field("kev", Type.BOOL, "listed in CISA KEV (by Inspector or the KEV catalog)",
              lambda f, e, t: e.kev is not None),
        Field("kev_date_added", Type.DATE, "date CISA added it to KEV",
              lambda f, e, t: e.kev.date_added if e.kev else None),
        Field("kev_due_date", Type.DATE, "CISA's remediation due date",
              lambda f, e, t: e.kev.due_date if e.kev else None),
        Field("kev_ransomware", Type.BOOL, "CISA: known use in ransomware campaigns",
              lambda f, e, t: bool(e.kev and e.kev.ransomware)),
        Field("epss", Type.NUMBER, "EPSS probability (0-1)", lambda f, e, t: e.epss.score if e.epss else None),
        Field("epss_percentile", Type.NUMBER, "EPSS percentile (0-1)",
              lambda f, e, t: e.epss.percentile if e.epss else None),
        Field("exploit_observed", Type.BOOL, "Inspector saw exploitation in the wild",
              lambda f, e, t: bool(e.exploit_observed and e.exploit_observed.value)),
        Field("exploit_available", Type.BOOL, "Inspector knows a public exploit",
              lambda f, e, t: bool(e.exploit_available and e.exploit_available.value)),
        Field("risk_score", Type.NUMBER, "Inspector risk score",
              lambda f, e, t: e.risk_score.value if e.risk_score else None),
        Field("cwes", Type.LIST, "CWE ids, e.g. `CWE-787`", lambda f, e, t: _tuple(e.cwes and e.cwes.value)),
        Field("ttps", Type.LIST, "MITRE ATT&CK techniques", lambda f, e, t: _tuple(e.ttps and e.ttps.value)),
        Field("tools", Type.LIST, "exploit tools Inspector knows", lambda f, e, t: _tuple(e.tools and e.tools.value)),
        Field("enriched", Type.BOOL, "false when no enrichment source knew the vulnerability",
              lambda f, e, t: e.enriched),
        Field("today", Type.DATE, "the evaluation date", lambda f, e, t: t),
    )
}

NAMES: tuple[str, ...] = tuple(FIELDS)
_GETTERS = tuple((name, fld.get) for name, fld in FIELDS.items())


Getters = tuple[tuple[str, Callable[[Finding, Enrichment, date], Any]], ...]


def getters(names: Iterable[str] | None = None) -> Getters:
    """The getters for `names` (all fields when None), so a policy computes only what it reads."""
    if names is None:
        return _GETTERS
    wanted = set(names)
    return tuple((name, get) for name, get in _GETTERS if name in wanted)


def facts_for(finding: Finding, enrichment: Enrichment, today: date, only: Getters = _GETTERS) -> dict[str, Any]:
    """The fields' values for one finding; computed once, read by every rule."""
    return {name: get(finding, enrichment, today) for name, get in only}
