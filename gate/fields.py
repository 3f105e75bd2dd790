"""The one registry of fields a policy can read: type, the sources that can answer it, and how to read it.

Facts for the engine, policy-test decoding, `gate policy fields`, the unanswerable-rule check and the
report's `facts` object are all derived from `FIELDS`; adding a field is one entry here plus its
source's parser.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from gate.vocab import FIX_VALUES, SEVERITY_ORDER, SSVC_EXPLOITATION, SSVC_TECHNICAL_IMPACT

if TYPE_CHECKING:
    from gate.model import Enrichment, Finding, ImageScan


class Type(enum.Enum):
    BOOL = "boolean"
    NUMBER = "number"
    STRING = "string"
    DATE = "date"
    LIST = "list of strings"


class DataKind(enum.StrEnum):
    """A kind of data that can answer fields (the finding, the clock, KEV, a baseline, …), whatever file or service
    supplies it; a run knows which kinds took part, and each `Field` names the kinds that can answer it."""

    FINDING = "finding"
    """The scan finding itself (Image Builder, EC2): always present."""
    CLOCK = "clock"
    """The evaluation time (`--as-of` or now): always present."""
    INSPECTOR = "inspector"
    INSPECTOR_SEARCH = "inspector-search"
    """`SearchVulnerabilities` alone (on-demand AMI scans): KEV, EPSS, exploit observed, CWEs, TTPs."""
    INSPECTOR_EVENTS = "inspector-events"
    """On-demand scan findings from EventBridge: `exploitAvailable` and EPSS."""
    KEV = "kev-catalog"
    EPSS = "epss-scores"
    BASELINE = "baseline"
    """An earlier build of the same pipeline (a report, a snapshot, or the previous build live)."""
    VULNRICHMENT = "vulnrichment"
    """CISA's SSVC decision points from the CISA ADP container of CVE records."""
    EC2_SCAN_RESULTS = "ec2-scan-results"
    """`ec2:DescribeImages` `ScanResults` of the build's output AMIs (a live run reads it when a rule needs it)."""


ALWAYS: frozenset[DataKind] = frozenset({DataKind.FINDING, DataKind.CLOCK})
"""Kinds every run has, whatever the inputs."""

SUPPLY: dict[DataKind, str] = {
    DataKind.INSPECTOR: "a live run (--image-build-version-arn) or --finding-details FILE",
    DataKind.INSPECTOR_SEARCH: "a live run (--image-build-version-arn) or --finding-details FILE",
    DataKind.INSPECTOR_EVENTS: "--findings FILE with Inspector's on-demand scan events",
    DataKind.KEV: "--kev-catalog FILE or `gate feeds update`",
    DataKind.EPSS: "--epss-scores FILE or `gate feeds update`",
    DataKind.BASELINE: "--baseline FILE (the last build's JSON report) or --baseline previous",
    DataKind.VULNRICHMENT: "--vulnrichment DIR or --vulnrichment-online",
    DataKind.EC2_SCAN_RESULTS: "a live run (gate check --image-build-version-arn, or gate sweep), which reads "
                             "ec2:DescribeImages ScanResults",
}
"""How a user supplies each optional kind, for the unanswerable-rule error."""
EXPORTS_ALONE: frozenset[DataKind] = ALWAYS | {DataKind.KEV, DataKind.EPSS}
"""What a run on saved files alone has: the findings export, the clock and the KEV/EPSS feed files."""


def supply_text(kinds: Iterable[str]) -> str:
    """How to supply any one of `kinds`, each way said once: `a live run (…) or --finding-details FILE`."""
    ways = (SUPPLY[DataKind(k)] for k in sorted(kinds) if DataKind(k) in SUPPLY)
    return " or ".join(dict.fromkeys(ways))


@dataclass(frozen=True)
class Context:
    """What a getter may read besides the finding and its enrichment."""

    today: date
    first_seen: Mapping[str, date] | None = None
    """The baseline's `Finding.identity` -> first sighting; None when the run has no baseline."""
    image_scan: ImageScan | None = None
    """EC2's ScanResults of the output AMIs; None when the run did not read them."""

    def seen(self, f: Finding) -> date:
        """When the finding was first seen: the earlier of the baseline's sighting and this build's.

        This build's is the scan's first observation, or the evaluation date when the scan gives none.
        """
        observed = f.first_observed_at.date() if f.first_observed_at is not None else self.today
        earlier = self.first_seen.get(f.identity) if self.first_seen is not None else None
        return min(earlier, observed) if earlier is not None else observed


Getter = Callable[["Finding", "Enrichment", "Context"], Any]


@dataclass(frozen=True)
class Field:
    name: str
    type: Type
    doc: str
    sources: frozenset[DataKind]
    """Any one of these taking part in a run lets the field be answered."""
    get: Getter
    """The value, or None when unknown (never a guessed `false`)."""
    values: tuple[str, ...] = ()
    """For strings with a closed set of values: the set (lets `validate` spot impossible comparisons)."""
    asked: Callable[[Enrichment], bool] | None = None
    """For fields every source answers for every id it is asked about (KEV membership): whether one was asked
    about this finding's id. An unasked value is unknown because nobody looked, not because there is no data."""


def _age(f: Finding, _: Enrichment, ctx: Context) -> float | None:
    if f.first_observed_at is None:
        return None
    return float((ctx.today - f.first_observed_at.date()).days)


def _new(f: Finding, _: Enrichment, ctx: Context) -> bool | None:
    return None if ctx.first_seen is None else f.identity not in ctx.first_seen


def _first_seen(f: Finding, _: Enrichment, ctx: Context) -> date | None:
    return None if ctx.first_seen is None else ctx.seen(f)


def _days_open(f: Finding, _: Enrichment, ctx: Context) -> float | None:
    return None if ctx.first_seen is None else float((ctx.today - ctx.seen(f)).days)


def _kev(_: Finding, e: Enrichment, __: Context) -> bool | None:
    """Listed; else known not listed when a source that answers KEV was asked; else unknown."""
    if e.kev is not None:
        return True
    return False if e.kev_known_by else None


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value.value)


def _items(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value.value)


def _ssvc(attribute: str) -> Getter:
    def get(_: Finding, e: Enrichment, __: Context) -> Any:
        return getattr(e.ssvc, attribute) if e.ssvc is not None else None

    return get


def _scan_age(_: Finding, __: Enrichment, ctx: Context) -> float | None:
    scan = ctx.image_scan
    return None if scan is None else float((ctx.today - scan.scanned_at.date()).days)


def _fix_since(severity: str) -> Getter:
    def get(_: Finding, __: Enrichment, ctx: Context) -> date | None:
        return ctx.image_scan.fix_since.get(severity) if ctx.image_scan is not None else None

    return get


def _fix_days(f: Finding, _: Enrichment, ctx: Context) -> float | None:
    since = ctx.image_scan.fix_since.get(f.severity) if ctx.image_scan is not None else None
    return None if since is None else float((ctx.today - since).days)


_SCAN_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")
_INSPECTOR = frozenset({DataKind.INSPECTOR})
_SEARCHABLE = frozenset({DataKind.INSPECTOR, DataKind.INSPECTOR_SEARCH})
"""What `SearchVulnerabilities` returns too; `risk_score` and `tools` come only with finding details."""
_KEV = frozenset({DataKind.INSPECTOR, DataKind.INSPECTOR_SEARCH, DataKind.KEV})


def _kev_asked(e: Enrichment) -> bool:
    """A KEV source answered for the id; or it is no CVE, which CISA's catalog (CVE ids only) never lists."""
    return e.kev is not None or bool(e.kev_known_by) or not e.vulnerability_id.upper().startswith("CVE-")


_VULNRICHMENT = frozenset({DataKind.VULNRICHMENT})
_FINDING = frozenset({DataKind.FINDING})
_BASELINE = frozenset({DataKind.BASELINE})
_SCAN = frozenset({DataKind.EC2_SCAN_RESULTS})

FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("vulnerability_id", Type.STRING, "CVE or other id, e.g. `CVE-2024-3400`", _FINDING,
              lambda f, e, c: f.vulnerability_id),
        Field("severity", Type.STRING, "scan severity, upper-cased: " + ", ".join(SEVERITY_ORDER), _FINDING,
              lambda f, e, c: f.severity, values=SEVERITY_ORDER),
        Field("vendor_severity", Type.STRING, "the distribution's own rating, e.g. `Important`", _FINDING,
              lambda f, e, c: f.vendor_severity),
        Field("fix_available", Type.BOOL, "the scan says YES or PARTIAL", _FINDING, lambda f, e, c: f.has_fix),
        Field("fix", Type.STRING, "the scan's fixAvailable as given: YES, NO or PARTIAL", _FINDING,
              lambda f, e, c: f.fix_available, values=FIX_VALUES),
        Field("packages", Type.LIST, "names of the vulnerable packages", _FINDING,
              lambda f, e, c: f.package_names),
        Field("inspector_score", Type.NUMBER, "Inspector score (0-10)", _FINDING,
              lambda f, e, c: f.inspector_score),
        Field("cvss", Type.NUMBER, "highest CVSS base score listed (v3 preferred)", _FINDING,
              lambda f, e, c: f.best_cvss),
        Field("age_days", Type.NUMBER, "days since the scan first observed the finding", _FINDING, _age),
        Field("kev", Type.BOOL, "listed in CISA KEV (by Inspector or the KEV catalog)", _KEV, _kev,
              asked=_kev_asked),
        Field("kev_date_added", Type.DATE, "date CISA added it to KEV", _KEV,
              lambda f, e, c: e.kev.date_added if e.kev else None, asked=_kev_asked),
        Field("kev_due_date", Type.DATE, "CISA's remediation due date", _KEV,
              lambda f, e, c: e.kev.due_date if e.kev else None, asked=_kev_asked),
        Field("kev_ransomware", Type.BOOL, "CISA: known use in ransomware campaigns", frozenset({DataKind.KEV}),
              lambda f, e, c: e.kev.ransomware if e.kev else _kev(f, e, c), asked=_kev_asked),
        Field("epss", Type.NUMBER, "EPSS probability (0-1)", _SEARCHABLE | {DataKind.INSPECTOR_EVENTS, DataKind.EPSS},
              lambda f, e, c: e.epss.score if e.epss else None),
        Field("epss_percentile", Type.NUMBER, "EPSS percentile (0-1)", frozenset({DataKind.EPSS}),
              lambda f, e, c: e.epss.percentile if e.epss else None),
        Field("exploit_observed", Type.BOOL, "Inspector saw exploitation in the wild", _SEARCHABLE,
              lambda f, e, c: _flag(e.exploit_observed)),
        Field("exploit_available", Type.BOOL, "Inspector knows a public exploit",
              _INSPECTOR | {DataKind.INSPECTOR_EVENTS},
              lambda f, e, c: _flag(e.exploit_available)),
        Field("risk_score", Type.NUMBER, "Inspector risk score", _INSPECTOR,
              lambda f, e, c: e.risk_score.value if e.risk_score else None),
        Field("cwes", Type.LIST, "CWE ids, e.g. `CWE-787`", _SEARCHABLE, lambda f, e, c: _items(e.cwes)),
        Field("ttps", Type.LIST, "MITRE ATT&CK techniques", _SEARCHABLE, lambda f, e, c: _items(e.ttps)),
        Field("tools", Type.LIST, "exploit tools Inspector knows", _INSPECTOR, lambda f, e, c: _items(e.tools)),
        Field("ssvc_exploitation", Type.STRING, "CISA SSVC Exploitation: none, poc or active", _VULNRICHMENT,
              _ssvc("exploitation"), values=SSVC_EXPLOITATION),
        Field("ssvc_automatable", Type.BOOL, "CISA SSVC Automatable", _VULNRICHMENT, _ssvc("automatable")),
        Field("ssvc_technical_impact", Type.STRING, "CISA SSVC Technical Impact: partial or total", _VULNRICHMENT,
              _ssvc("technical_impact"), values=SSVC_TECHNICAL_IMPACT),
        Field("enriched", Type.BOOL, "false when no enrichment source knew the vulnerability", _FINDING,
              lambda f, e, c: e.enriched),
        Field("new", Type.BOOL, "not in the baseline (an earlier build of the same pipeline)", _BASELINE, _new),
        Field("first_seen", Type.DATE, "the day the finding was first seen, carried from build to build by the "
              "baseline", _BASELINE, _first_seen),
        Field("days_open", Type.NUMBER, "days from `first_seen` to the evaluation date", _BASELINE, _days_open),
        Field("today", Type.DATE, "the evaluation date", frozenset({DataKind.CLOCK}), lambda f, e, c: c.today),
        Field("scan_age_days", Type.NUMBER, "days since Inspector last scanned the build's output AMIs (EC2 "
              "ScanResults FindingScanDate; the oldest AMI)", _SCAN, _scan_age),
        Field("scan_date", Type.DATE, "the day of that last scan", _SCAN,
              lambda f, e, c: c.image_scan.scanned_at.date() if c.image_scan is not None else None),
        *(Field(f"{s.lower()}_fix_available_since", Type.DATE, f"the day a fix became available for a {s} finding "
                "of the output AMIs (EC2 ScanResults); unknown when none is pending", _SCAN, _fix_since(s))
          for s in _SCAN_SEVERITIES),
        Field("fix_available_days", Type.NUMBER, "days since a fix became available for findings of this "
              "finding's severity on the output AMIs (EC2 ScanResults)", _SCAN, _fix_days),
    )
}

Getters = tuple[tuple[str, Getter], ...]
_ALL: Getters = tuple((name, fld.get) for name, fld in FIELDS.items())


def getters(names: Iterable[str] | None = None) -> Getters:
    """The getters for `names` (all fields when None), so a policy computes only what it reads."""
    if names is None:
        return _ALL
    wanted = set(names)
    return tuple((name, get) for name, get in _ALL if name in wanted)


def facts_for(finding: Finding, enrichment: Enrichment, ctx: Context, only: Getters = _ALL) -> dict[str, Any]:
    """The fields' values for one finding; computed once, read by every rule. Unknown is None."""
    return {name: get(finding, enrichment, ctx) for name, get in only}


def coerce(name: str, value: Any) -> Any:
    """A value written by a person (policy tests) as the field's type; raises ValueError if it is not one."""
    field = FIELDS[name]
    if value is None:
        return None
    if field.type is Type.BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, not {value!r}")
        return value
    if field.type is Type.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"{name} must be a number, not {value!r}")
        return float(value)
    if field.type is Type.DATE:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if field.type is Type.LIST:
        if not isinstance(value, list):
            raise ValueError(f"{name} must be a list, not {value!r}")
        return tuple(str(v) for v in value)
    return str(value)
