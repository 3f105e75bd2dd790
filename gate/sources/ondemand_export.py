"""On-demand AMI scan findings saved to files: `aws ec2 get-image-findings` output, or Inspector's EventBridge events.

Events come as EventBridge delivers them to S3, Firehose or CloudWatch Logs: one event per document,
a JSON array of events, or JSON lines. `OnDemand AMI Scan Findings` events carry one finding each;
an `Inspector2 OnDemand Scan Complete` event, when given, says how many there must be.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate.agree import one_per_id
from gate.errors import IncompleteError, InputError, ScanNotReadyError, ShapeError
from gate.fields import DataKind
from gate.model import Enrichment, FeedInfo, Finding
from gate.sources.codec import SEVERITIES
from gate.sources.ec2_codec import event_scan_id, parse_event_finding, parse_image_finding
from gate.sources.imagedoc import check_on_demand_export
from gate.sources.interface import ExportKind
from gate.timeutil import to_utc

EC2_WHAT = "the output of `aws ec2 get-image-findings`"
EVENTS_WHAT = "Inspector on-demand AMI scan events from EventBridge"
FINDINGS_EVENT = "OnDemand AMI Scan Findings"
COMPLETE_EVENT = "Inspector2 OnDemand Scan Complete"
TOKENS = ("NextToken", "nextToken")


def _items(doc: Any) -> list[Any]:
    """A document, or the items of a JSON array of documents."""
    return list(doc) if isinstance(doc, list) else [doc]


def _is_ec2(item: Any) -> bool:
    return isinstance(item, Mapping) and "ImageFindings" in item


def _is_event(item: Any) -> bool:
    return isinstance(item, Mapping) and "detail-type" in item


def claims(docs: Sequence[Any]) -> bool:
    """Whether a file's documents are on-demand scan output rather than Image Builder's."""
    return any(_is_ec2(i) or _is_event(i) for doc in docs for i in _items(doc))


@dataclass
class _Scan:
    """What the events say about one on-demand scan."""

    findings: dict[str, tuple[Finding, Enrichment | None, str, str]] = field(default_factory=dict)
    """findingArn → (finding, enrichment, updatedAt, where): EventBridge delivers at least once."""
    complete: Mapping[str, Any] | None = None
    where: str = ""


def _event_amis(event: Mapping[str, Any], detail: Mapping[str, Any]) -> set[str]:
    """The AMIs an event says it is about: a finding's MACHINE_IMAGE resources, a scan's `resourceId`."""
    named = [r.get("id") for r in detail.get("resources") or [] if isinstance(r, Mapping)] \
        if isinstance(detail.get("resources"), list) else []
    named += [detail.get("resourceId")]
    outer = event.get("resources")
    named += outer if isinstance(outer, list) else []
    return {n for n in named if isinstance(n, str) and n.startswith("ami-")}


def _same_severities(scan: str, counts: Mapping[str, Any], findings: Sequence[Finding]) -> None:
    """The scan's own count per severity agrees with the finding events: a finding edited from CRITICAL to LOW
    (or a later-dated LOW copy of it) keeps the TOTAL, but not the CRITICAL count."""
    for severity in SEVERITIES:
        said = counts.get(severity)
        if said is None:
            continue
        held = sum(1 for f in findings if f.severity == severity)
        if isinstance(said, bool) or not isinstance(said, int) or said != held:
            raise InputError(f"on-demand scan {scan} reported {str(said)[:20]} {severity} findings but the events "
                             f"hold {held}: an event was edited or is not of this scan",
                             hint="pass the events of one scan as EventBridge delivered them")


class OnDemandFiles:
    """Collects on-demand exports across files, then checks them as a whole before yielding anything."""

    def __init__(self) -> None:
        self._ec2: list[tuple[Path, list[Finding]]] = []
        self._scans: dict[str, _Scan] = {}
        self._event_files: list[Path] = []
        self.amis: dict[str, str] = {}
        """AMI id → the first event naming it: one scan is of one AMI, the image's own."""

    @property
    def event_files(self) -> tuple[Path, ...]:
        """The files that held EventBridge events."""
        return tuple(self._event_files)

    def add(self, path: Path, docs: Sequence[Any]) -> None:
        items = [i for doc in docs for i in _items(doc)]
        if all(_is_ec2(i) for i in items):
            self._add_ec2(path, items)
        elif all(_is_event(i) for i in items):
            self._event_files.append(path)
            for n, event in enumerate(items):
                try:
                    self._add_event(event, f"{path}: event {n + 1}")
                except ShapeError as e:
                    raise InputError(f"{path}: event {n + 1}: {e}", hint=f"expected {EVENTS_WHAT}") from None
        else:
            raise InputError(f"{path}: mixes `get-image-findings` output, EventBridge events and other JSON",
                             hint="save each kind of export to its own file")

    def _add_ec2(self, path: Path, pages: list[Any]) -> None:
        parsed: list[Finding] = []
        for p, page in enumerate(pages):
            token = next((page[t] for t in TOKENS if page.get(t)), None)
            if token:
                raise IncompleteError(
                    f"{path}: the export stops early (page {p + 1} carries a NextToken): more findings exist",
                    hint="export again without --max-items or --no-paginate, so the AWS CLI fetches every page")
            raw = page["ImageFindings"]
            if not isinstance(raw, list):
                raise InputError(f"{path}: page {p + 1}: ImageFindings is not a list", hint=f"expected {EC2_WHAT}")
            for i, item in enumerate(raw):
                try:
                    parsed.append(parse_image_finding(item))
                except ShapeError as e:
                    raise InputError(f"{path}: page {p + 1}, finding {i + 1}: {e}",
                                     hint=f"expected {EC2_WHAT}") from None
        self._ec2.append((path, parsed))

    def _add_event(self, event: Mapping[str, Any], where: str) -> None:
        kind = event.get("detail-type")
        detail = event.get("detail")
        if not isinstance(detail, Mapping):
            raise ShapeError("event without a detail object")
        for ami in _event_amis(event, detail):
            self.amis.setdefault(ami, where)
        if kind == FINDINGS_EVENT:
            scan = event_scan_id(detail)
            if scan is None:
                raise ShapeError("finding event without a scanId")
            finding, enrichment = parse_event_finding(detail)
            arn = str(detail.get("findingArn") or where)  # NOTE: no ARN: only its place identifies it
            updated = to_utc(detail.get("updatedAt"))
            stamp = updated.isoformat() if updated else ""
            record = self._scans.setdefault(scan, _Scan(where=where))
            known = record.findings.get(arn)
            if known is not None and stamp == known[2] and (finding, enrichment) != known[:2]:
                # NOTE: the later copy used to win, so a LOW copy of a CRITICAL finding passed it.
                first = known[3].removeprefix(where.rsplit(": ", 1)[0] + ": ")
                raise InputError(f"{where} repeats the finding of {first} ({arn[:160]}) with other content and no "
                                 "later updatedAt: gate will not pick one",
                                 hint="pass the events as EventBridge delivered them, each finding's latest once")
            if known is None or stamp > known[2]:
                record.findings[arn] = (finding, enrichment, stamp, where)
        elif kind == COMPLETE_EVENT:
            scan = detail.get("scanId")
            if not isinstance(scan, str) or not scan:
                raise ShapeError("scan-complete event without a scanId")
            record = self._scans.setdefault(scan, _Scan(where=where))
            record.complete = detail
        else:
            raise ShapeError(f"detail-type {str(kind)[:80]!r} is not {FINDINGS_EVENT!r} or {COMPLETE_EVENT!r}")

    @property
    def completed(self) -> bool:
        """Whether a scan-complete event is among the events: evidence that the scan ran, even with no findings."""
        return any(record.complete is not None for record in self._scans.values())

    def _check_events(self) -> list[str]:
        """Refuse a failed scan or a short set of finding events; return notes on what cannot be checked."""
        notes: list[str] = []
        if len(self._scans) > 1:
            raise InputError(f"the events are of {len(self._scans)} on-demand scans ({', '.join(sorted(self._scans))})",
                             hint="pass the events of one scan (one AMI) per run")
        if len(self.amis) > 1:
            named = "; ".join(f"{ami} ({where})" for ami, where in list(self.amis.items())[:2])
            raise InputError(f"the events name {len(self.amis)} AMIs: {named}",
                             hint="pass the events of one scan (one AMI) per run")
        for scan, record in self._scans.items():
            done = record.complete
            if done is None:
                notes.append(f"no `{COMPLETE_EVENT}` event for scan {scan}: gate cannot check that every "
                             "finding event is here")
                continue
            status = done.get("scanStatus")
            if status != "SUCCESSFUL":
                reason = done.get("scanStatusReason") or "no reason given"
                raise ScanNotReadyError(f"on-demand scan {scan} ended {str(status)[:40]} ({str(reason)[:80]}): "
                                        "its findings are incomplete",
                                        hint="fix the cause, scan the AMI again and judge the new scan's events")
            counts = done.get("findingSeverityCounts")
            total = counts.get("TOTAL") if isinstance(counts, Mapping) else None
            if isinstance(total, bool) or not isinstance(total, int):
                raise InputError(f"{record.where}: scan-complete event without findingSeverityCounts.TOTAL",
                                 hint=f"expected {EVENTS_WHAT}")
            if total != len(record.findings):
                raise IncompleteError(f"on-demand scan {scan} reported {total} findings but the events hold "
                                      f"{len(record.findings)}",
                                      hint="export every `OnDemand AMI Scan Findings` event of the scan")
            _same_severities(scan, counts if isinstance(counts, Mapping) else {},
                             [f for f, *_ in record.findings.values()])
        return notes

    def result(self) -> tuple[list[Finding], dict[str, Enrichment], list[str]]:
        """Every finding, what the events say about exploits, and notes; raises on a short or failed scan."""
        if self._ec2 and self._scans:
            raise InputError("both `get-image-findings` output and EventBridge events were given",
                             hint="they are two copies of the same scan: pass one of them")
        notes = self._check_events()
        findings = [f for _, page in self._ec2 for f in page]
        said: list[tuple[str, Enrichment]] = []
        for record in self._scans.values():
            for finding, enrichment, _, where in record.findings.values():
                findings.append(finding)
                if enrichment is not None:
                    said.append((where, enrichment))
        # NOTE: one CVE in several packages is several events; the first used to win, whatever the others said.
        enrichments = one_per_id(said, hint="pass the events of one scan as EventBridge delivered them")
        return findings, enrichments, notes

    def read(self, image: Mapping[str, Any] | None, image_path: Path | None,
             target: str) -> tuple[tuple[str, ...], list[Sequence[Finding]]]:
        found, _, _ = self.result()
        notes = check_on_demand_export(image, image_path, unproven=not found and not self.completed, amis=self.amis,
                                       events=bool(self.event_files), target=target)
        return notes, [found] if found else []

    def enrichers(self) -> tuple[EventEnrichment, ...]:
        """The events' enrichment, sharing this single read of the files."""
        events = EventEnrichment(self)
        return (events,) if events.provides else ()


class EventEnrichment:
    """An `Enricher` over the `--findings` files' on-demand scan events: what they say about exploits.

    It shares the files the source read (`ExportSource.event_enricher`), so nothing is parsed twice.
    """

    name = "inspector-events"

    def __init__(self, files: OnDemandFiles) -> None:
        self._files = files
        self.paths = files.event_files
        self.provides: frozenset[str] = frozenset({DataKind.INSPECTOR_EVENTS}) if self.paths else frozenset()
        self._known: dict[str, Enrichment] | None = None
        self._notes: list[str] = []

    def _load(self) -> dict[str, Enrichment]:
        if self._known is None:
            _, self._known, self._notes = self._files.result()
        return self._known

    def enrich(self, vulnerability_ids: Collection[str]) -> Mapping[str, Enrichment]:
        known = self._load()
        return {vid: known[vid] for vid in vulnerability_ids if vid in known}

    def feeds(self) -> tuple[FeedInfo, ...]:
        if not self.paths:
            return ()
        known = self._load()
        detail = "; ".join([f"{len(known)} ids with exploit data", *self._notes])
        return (FeedInfo(name="Inspector on-demand scan events", source=", ".join(map(str, self.paths)),
                         as_of=None, detail=detail, provides=tuple(sorted(self.provides))),)


KIND = ExportKind(label="EC2 on-demand scan output", claims=claims, reader=OnDemandFiles)
"""`aws ec2 get-image-findings` output and on-demand scan events, in `sources.export.KINDS`."""
