"""The domain of what is judged: findings as the scans report them, their enrichment, and what a run gathered."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Literal

from gate.vocab import identity


@dataclass(frozen=True)
class VulnerablePackage:
    """One installed package that carries the vulnerability."""

    name: str
    version: str | None = None
    epoch: int | None = None
    release: str | None = None
    arch: str | None = None
    package_manager: str | None = None
    file_path: str | None = None
    fixed_in_version: str | None = None
    remediation: str | None = None
    source_layer_hash: str | None = None

    @property
    def installed(self) -> str:
        """The installed version as `[epoch:]version-release`, the way package managers print it."""
        text = self.version or "?"
        if self.release:
            text = f"{text}-{self.release}"
        if self.epoch:
            text = f"{self.epoch}:{text}"
        return text


@dataclass(frozen=True)
class Cvss:
    """A CVSS score as one source rated it."""

    base_score: float
    scoring_vector: str | None = None
    version: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Finding:
    """One Image Builder `ImageScanFinding`, normalised; one CVE may appear in several findings."""

    vulnerability_id: str
    severity: str
    """Upper-cased: the API mixes `High` and `HIGH`."""
    title: str | None
    description: str | None
    fix_available: str | None
    """`YES`, `NO` or `PARTIAL` as Image Builder says it; None when absent."""
    packages: tuple[VulnerablePackage, ...]
    inspector_score: float | None = None
    adjusted_cvss: Cvss | None = None
    cvss: tuple[Cvss, ...] = ()
    first_observed_at: datetime | None = None
    updated_at: datetime | None = None
    vendor_severity: str | None = None
    vendor_created_at: datetime | None = None
    vendor_updated_at: datetime | None = None
    source: str | None = None
    source_url: str | None = None
    related_vulnerabilities: tuple[str, ...] = ()
    reference_urls: tuple[str, ...] = ()
    remediation_text: str | None = None
    remediation_url: str | None = None
    finding_type: str | None = None
    aws_account_id: str | None = None
    image_build_version_arn: str | None = None
    image_pipeline_arn: str | None = None

    @property
    def package_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.packages)

    @property
    def has_fix(self) -> bool:
        """Image Builder's `YES` or `PARTIAL`: at least one package can be upgraded."""
        return self.fix_available in ("YES", "PARTIAL")

    @property
    def best_cvss(self) -> float | None:
        """The highest base score among the listed CVSS ratings (CVSS 3.x preferred)."""
        v3 = [c.base_score for c in self.cvss if (c.version or "").startswith("3")]
        scores = v3 or [c.base_score for c in self.cvss]
        if scores:
            return max(scores)
        return self.adjusted_cvss.base_score if self.adjusted_cvss else None

    @functools.cached_property
    def identity(self) -> str:
        """The finding across builds of one pipeline: the vulnerability and the package names (not versions)."""
        return identity(self.vulnerability_id, self.package_names)

    @functools.cached_property
    def key(self) -> str:
        """A stable identity for this finding: the vulnerability and the exact packages it names.

        Cached (every report sorts and names findings by it); a frozen finding's key cannot change.
        """
        parts = sorted(
            f"{p.name}@{p.installed}/{p.arch or ''}/{p.file_path or ''}" for p in self.packages
        )
        return f"{self.vulnerability_id}|{','.join(parts)}"


@dataclass(frozen=True)
class Provenance:
    """Where one enrichment value came from and how fresh it is."""

    source: str
    """E.g. `inspector:BatchGetFindingDetails`, `cisa-kev`, `first-epss`."""
    as_of: datetime | None
    """When the source produced the value (feed date, API response time)."""


@dataclass(frozen=True)
class KevEntry:
    """CISA Known Exploited Vulnerabilities membership."""

    date_added: date | None
    due_date: date | None
    required_action: str | None = None
    ransomware: bool | None = None
    """CISA's `knownRansomwareCampaignUse == "Known"`; None when the source does not say."""
    provenance: Provenance | None = None


@dataclass(frozen=True)
class EpssScore:
    """FIRST EPSS probability of exploitation in the next 30 days."""

    score: float
    percentile: float | None
    provenance: Provenance | None = None
    model: str | None = None
    """The EPSS model that scored it (`v2025.03.14`, the feed's `model_version`); None when the source does not
    say (Inspector). A threshold means something for one model only: EPSS v4 moved scores enough to matter."""


@dataclass(frozen=True)
class Ssvc:
    """CISA's SSVC decision points for one CVE, as the CISA ADP container of its CVE record states them."""

    exploitation: str | None
    """`none`, `poc` or `active` (lower-cased)."""
    automatable: bool | None
    technical_impact: str | None
    """`partial` or `total` (lower-cased)."""
    provenance: Provenance | None = None


@dataclass(frozen=True)
class Sourced:
    """A scalar or list enrichment value with its provenance."""

    value: float | bool | tuple[str, ...]
    provenance: Provenance


ValueKind = Literal["kev", "asked", "epss", "ssvc", "flag", "score", "names"]
"""How a value is stored, explained and merged: `serialize`, `reports.explain` and `reports.digest` have one
writer per kind; `asked` (the sources asked about KEV) merges as a union, every other kind: earlier wins."""


@dataclass(frozen=True)
class EnrichmentValue:
    """What gate says about one `Enrichment` field, everywhere: its JSON key, its label, how it is stored."""

    key: str
    label: str
    kind: ValueKind
    fact: str | None = None
    """How a report's short list of facts states a true flag, or prefixes a score; None: not among the facts."""


def _described(key: str, label: str, kind: ValueKind, fact: str | None = None) -> dict[str, EnrichmentValue]:
    return {"value": EnrichmentValue(key, label, kind, fact)}


@dataclass(frozen=True)
class Enrichment:
    """Exploit intelligence about one vulnerability id, each field with its own source.

    Each field is described once, in its metadata (`enrichment_values`); every writer and reader loops
    over that. Changing the fields changes the stored shape: tests/test_enrichment_values.py says what to bump.
    """

    vulnerability_id: str
    kev: KevEntry | None = field(default=None, metadata=_described("kev", "kev", "kev"))
    kev_known_by: tuple[str, ...] = field(default=(), metadata=_described("kevKnownBy", "kev", "asked"))
    """Sources that were asked about KEV membership and answered (a `no` counts)."""
    epss: EpssScore | None = field(default=None, metadata=_described("epss", "epss", "epss"))
    ssvc: Ssvc | None = field(default=None, metadata=_described("ssvc", "ssvc", "ssvc"))
    exploit_observed: Sourced | None = field(
        default=None, metadata=_described("exploitObserved", "exploit observed", "flag", "exploited in the wild"))
    """bool: exploitation seen in the wild (Inspector `exploitObserved`)."""
    exploit_available: Sourced | None = field(
        default=None, metadata=_described("exploitAvailable", "exploit available", "flag", "public exploit"))
    """bool: a public exploit exists (Inspector `exploitAvailable`)."""
    risk_score: Sourced | None = field(default=None, metadata=_described("riskScore", "risk score", "score", "risk"))
    cwes: Sourced | None = field(default=None, metadata=_described("cwes", "cwes", "names", ""))
    ttps: Sourced | None = field(default=None, metadata=_described("ttps", "ttps", "names"))
    tools: Sourced | None = field(default=None, metadata=_described("tools", "tools", "names"))

    @property
    def enriched(self) -> bool:
        """True when at least one source knew something about this vulnerability."""
        return any(getattr(self, name) is not None for name, value in enrichment_values() if value.kind != "asked")

    def merged_with(self, other: Enrichment) -> Enrichment:
        """Fill fields this value lacks from `other`: earlier sources win, nothing is overwritten."""
        merged: dict[str, Any] = {}
        for name, value in enrichment_values():
            mine, theirs = getattr(self, name), getattr(other, name)
            merged[name] = tuple(dict.fromkeys(mine + theirs)) if value.kind == "asked" else (
                theirs if mine is None else mine)
        return Enrichment(vulnerability_id=self.vulnerability_id, **merged)


@functools.cache
def enrichment_values() -> tuple[tuple[str, EnrichmentValue], ...]:
    """(field name, description) of every value of `Enrichment`, in the order reports show them."""
    return tuple((f.name, f.metadata["value"]) for f in fields(Enrichment) if "value" in f.metadata)


@dataclass(frozen=True)
class FeedInfo:
    """An enrichment source consulted in this run, and how old its data is."""

    name: str
    source: str
    as_of: datetime | None
    detail: str | None = None
    provides: tuple[str, ...] = ()
    """The kinds of data it answers (`gate.fields.DataKind` values): what rules it lets a run answer."""
    notes: tuple[str, ...] = ()
    """What every report should say about this source that did not stop the run (a CVE listed twice alike)."""
    version: str | None = None
    """The data's own version when it states one (KEV `catalogVersion`, EPSS `model_version`): a signed
    attestation records it, since a date alone does not say which model scored a CVE."""


@dataclass(frozen=True)
class ScanSummary:
    """What a source knows of the scan besides its findings, asked once its last page has been read."""

    scan_result_condition: ScanResultCondition | None = None
    """Image Builder's own pass/fail condition for an on-demand AMI scan, when the image has one."""
    output_amis: tuple[str, ...] = ()
    """The build's output AMI ids when the source learned them: VEX products may name them."""
    image: Mapping[str, Any] | None = None
    """The `GetImage` `image` the source judged the scan by (live, or `--image`): snapshots record it."""
    notes: tuple[str, ...] = ()
    """What the reports should say about the scan (a deprecated image, a scan state not checked)."""
    output_ami_arns: tuple[str, ...] = ()
    """The same AMIs as `arn:…:ec2:REGION:ACCOUNT:image/AMI-ID`, with the region and account of each copy."""
    scan_type: str | None = None
    """How Inspector scanned the image (`TEST_INSTANCE_CVE`, `ON_DEMAND_AMI_CVE`, `ECR`); None for saved files."""


@dataclass(frozen=True)
class Gathered:
    """Every finding of the target with the enrichment of each distinct vulnerability id."""

    target: str
    findings: tuple[Finding, ...]
    enrichments: dict[str, Enrichment]
    feeds: tuple[FeedInfo, ...]
    scan_result_condition: ScanResultCondition | None = None
    """Image Builder's own pass/fail condition for an on-demand AMI scan, when the image has one."""
    output_amis: tuple[str, ...] = ()
    """The build's output AMI ids when the source learned them (live runs): VEX products may name them."""
    image: Mapping[str, Any] | None = None
    """The `GetImage` `image` the source judged the scan by (live, or `--image`): snapshots record it."""
    notes: tuple[str, ...] = ()
    """What the source has to say in every report: what it could not check (no `--image`), a DEPRECATED image."""
    output_ami_arns: tuple[str, ...] = ()
    """The same AMIs as `arn:…:ec2:REGION:ACCOUNT:image/AMI-ID`, with the region and account of each copy."""
    scan_type: str | None = None
    """How Inspector scanned the image (`TEST_INSTANCE_CVE`, `ON_DEMAND_AMI_CVE`, `ECR`); None for saved files."""
    image_scan: ImageScan | None = None
    """EC2's ScanResults of the output AMIs, read only when the policy asks for them."""


@dataclass(frozen=True)
class ImageScan:
    """EC2's `ScanResults` of the build's output AMIs in its build region (`DescribeImages`), taken together.

    The oldest last scan and, per severity, the earliest day a fix became available: the worst of the AMIs.
    """

    scanned_at: datetime
    """The oldest `FindingScanDate` among the AMIs."""
    fix_since: Mapping[str, date]
    """Upper-case severity (`CRITICAL` …) -> the earliest `…FixAvailableSince`; absent: no fix pending."""
    amis: tuple[str, ...] = ()


CONDITION_LABELS: tuple[str, ...] = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH")
"""The `maximumSeverityLabel` values Image Builder accepts, least severe first."""


@dataclass(frozen=True)
class ScanResultCondition:
    """Image Builder's own pass/fail check for an on-demand AMI scan (`scanResultCondition`)."""

    maximum_severity_label: str
    """`INFORMATIONAL`, `LOW`, `MEDIUM` or `HIGH`: a counted finding above it fails the image."""
    fix_available: bool = True
    """True (Image Builder's default): only findings with a fix are counted."""

    @property
    def text(self) -> str:
        counted = "findings with a fix" if self.fix_available else "all findings"
        return f"maximumSeverityLabel {self.maximum_severity_label}, counting {counted}"


@dataclass(frozen=True)
class ImageBuilderCheck:
    """What the image's `scanResultCondition` decides for the same findings gate judged."""

    condition: ScanResultCondition
    passed: bool
    counted: int
    """Findings the condition counts (all, or only those with a fix)."""
    exceeding: int
    """Counted findings more severe than `maximumSeverityLabel` (a counted CRITICAL always is)."""

    @property
    def text(self) -> str:
        outcome = "pass" if self.passed else "fail"
        return (f"Image Builder's scanResultCondition ({self.condition.text}) would {outcome}: "
                f"{self.exceeding} of {self.counted} counted findings exceed it")


def image_builder_check(condition: ScanResultCondition, findings: Iterable[Finding]) -> ImageBuilderCheck:
    """Apply the condition as Image Builder documents it; UNTRIAGED and unknown severities never exceed."""
    limit = CONDITION_LABELS.index(condition.maximum_severity_label)
    above = set((*CONDITION_LABELS, "CRITICAL")[limit + 1:])
    counted = [f for f in findings if f.has_fix or not condition.fix_available]
    exceeding = sum(1 for f in counted if f.severity in above)
    return ImageBuilderCheck(condition=condition, passed=exceeding == 0, counted=len(counted),
                             exceeding=exceeding)
