"""A snapshot: everything `gate fetch` gathered for one image, saved as JSON so `gate check` can rerun offline.

Read back, it is a finding source plus an enricher that replays the saved answers, so a snapshot
runs through the same owner (`gate.run`) as every other input.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from gate.errors import InputError, ShapeError, UnreadableInputError
from gate.fields import DataKind
from gate.files import atomic_write, read_bytes
from gate.jsondocs import loads_strict
from gate.model import CONDITION_LABELS, Enrichment, FeedInfo, Finding, Gathered, ScanResultCondition, ScanSummary
from gate.serialize import enrichment_from_json, enrichment_to_json
from gate.sources.codec import finding_to_api, parse_finding
from gate.timeutil import iso, to_utc
from gate.vocab import AMI_ARN, is_build_version_arn

FORMAT = "gate-snapshot"
VERSION = 2
ENRICHMENT_SHAPE = "aa6f37cafae4f657"
READABLE = (1, VERSION)
"""Versions this gate reads: 1 is 2 without the EPSS `model` (read as not named)."""
"""`serialize.enrichment_shape()` when VERSION was last set (tests/test_enrichment_values.py keeps them paired)."""
HINT = "write it again with `gate fetch`"
_SCAN_TYPE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")


def snapshot_to_json(gathered: Gathered, fetched_at: datetime) -> dict[str, Any]:
    """The snapshot document: findings as Image Builder API JSON, enrichments with sources and dates."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "target": gathered.target,
        "fetchedAt": fetched_at.isoformat(),
        "findings": [finding_to_api(f) for f in gathered.findings],
        "enrichments": [enrichment_to_json(e) for e in gathered.enrichments.values()],
        "feeds": [
            {"name": f.name, "source": f.source, "asOf": iso(f.as_of), "detail": f.detail,
             "provides": list(f.provides), "notes": list(f.notes), "version": f.version}
            for f in gathered.feeds
        ],
        "scanResultCondition": _condition_json(gathered.scan_result_condition),
        "outputAmis": list(gathered.output_amis),
        "image": _plain(gathered.image),
        "outputAmiArns": list(gathered.output_ami_arns),
        "scanType": gathered.scan_type,
    }


def _plain(value: Any) -> Any:
    """A `GetImage` answer as JSON values: boto3 gives timestamps (`deprecationTime`) as datetimes."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _image(obj: object, target: str) -> Mapping[str, Any] | None:
    """The recorded `GetImage` `image` (absent in older snapshots), which must be the target's."""
    if obj is None:
        return None
    if not isinstance(obj, Mapping) or obj.get("arn") != target:
        raise ShapeError(f"image must be the GetImage image of the target {target}")
    return obj


def _condition_json(condition: ScanResultCondition | None) -> dict[str, Any] | None:
    if condition is None:
        return None
    return {"maximumSeverityLabel": condition.maximum_severity_label, "fixAvailable": condition.fix_available}


def _condition(obj: object) -> ScanResultCondition | None:
    """The on-demand scan's own condition as `GetImage` gave it (absent in older snapshots)."""
    if obj is None:
        return None
    label = obj.get("maximumSeverityLabel") if isinstance(obj, Mapping) else None
    fix = obj.get("fixAvailable") if isinstance(obj, Mapping) else None
    if label not in CONDITION_LABELS or not isinstance(fix, bool):
        raise ShapeError("scanResultCondition needs a maximumSeverityLabel and a boolean fixAvailable")
    return ScanResultCondition(maximum_severity_label=str(label), fix_available=fix)


def snapshot_text(gathered: Gathered, *, fetched_at: datetime | None = None) -> str:
    """The snapshot document as JSON text."""
    doc = snapshot_to_json(gathered, fetched_at or datetime.now(UTC))
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def write_snapshot(path: Path, gathered: Gathered, *, fetched_at: datetime | None = None) -> None:
    """Write atomically: a reader never sees half a snapshot."""
    data = snapshot_text(gathered, fetched_at=fetched_at).encode("utf-8")
    try:
        atomic_write(path, data)
    except OSError as e:
        raise UnreadableInputError(f"{path}: cannot write the snapshot ({e.strerror or e})",
                                   hint="check the -o path and its directory's permissions") from e


def _feed(obj: object) -> FeedInfo:
    if not isinstance(obj, Mapping):
        raise ShapeError("feeds entries must be objects")
    name, source, detail = obj.get("name"), obj.get("source"), obj.get("detail")
    if not isinstance(name, str) or not isinstance(source, str) or not name or not source:
        raise ShapeError("a feed needs a name and a source")
    if detail is not None and not isinstance(detail, str):
        raise ShapeError("feed detail must be a string")
    version = obj.get("version")
    if version is not None and not isinstance(version, str):
        raise ShapeError("feed version must be a string")
    provides = obj.get("provides") or []
    if not isinstance(provides, list) or not all(isinstance(p, str) for p in provides):
        raise ShapeError("feed provides must be a list of strings")
    unknown = sorted(set(provides) - {s.value for s in DataKind})
    if unknown:
        raise ShapeError(f"feed provides unknown kinds of data: {', '.join(map(repr, unknown))}")
    notes = obj.get("notes") or []
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise ShapeError("feed notes must be a list of strings")
    return FeedInfo(name=name, source=source, as_of=to_utc(obj.get("asOf")), detail=detail,
                    provides=tuple(provides), notes=tuple(notes), version=version)


T = TypeVar("T")


def _each(name: str, raws: list[Any], parse: Callable[[Any], T]) -> list[T]:
    """Every entry of the list `name` parsed; a bad one is named by its index (`findings[3]: …`)."""
    out = []
    for i, raw in enumerate(raws):
        try:
            out.append(parse(raw))
        except ShapeError as e:
            raise ShapeError(f"{name}[{i}]: {e}") from e
    return out


def snapshot_from_json(doc: Any) -> Gathered:
    """Inverse of `snapshot_to_json`; raises `ShapeError` naming the first thing that is wrong."""
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise ShapeError(f"not a gate snapshot (no \"format\": \"{FORMAT}\")")
    if doc.get("version") not in READABLE:
        raise ShapeError(f"snapshot version {doc.get('version')!r} is not one of {READABLE}")
    target = doc.get("target")
    findings, enrichments, feeds = doc.get("findings"), doc.get("enrichments"), doc.get("feeds")
    if not isinstance(target, str) or not target:
        raise ShapeError("snapshot without a target")
    if to_utc(doc.get("fetchedAt")) is None:
        raise ShapeError("snapshot without fetchedAt")
    if not isinstance(findings, list) or not isinstance(enrichments, list) or not isinstance(feeds, list):
        raise ShapeError("findings, enrichments and feeds must be lists")
    parsed = _each("findings", findings, parse_finding)
    values = {}
    for i, value in enumerate(_each("enrichments", enrichments, enrichment_from_json)):
        if value.vulnerability_id in values:
            raise ShapeError(f"enrichments[{i}]: {value.vulnerability_id} appears twice")
        values[value.vulnerability_id] = value
    infos = _each("feeds", feeds, _feed)
    check_findings(target, parsed)
    check_enrichments(parsed, values)
    check_feeds(infos)
    amis = doc.get("outputAmis") or []
    if not isinstance(amis, list) or not all(isinstance(a, str) and a.startswith("ami-") for a in amis):
        raise ShapeError("outputAmis must be a list of AMI ids")
    arns = doc.get("outputAmiArns") or []
    if not isinstance(arns, list) or not all(isinstance(a, str) and AMI_ARN.fullmatch(a) for a in arns):
        raise ShapeError("outputAmiArns must be a list of arn:aws:ec2:REGION:ACCOUNT:image/ami-… ARNs")
    scan_type = doc.get("scanType")
    if scan_type is not None and not (isinstance(scan_type, str) and _SCAN_TYPE.fullmatch(scan_type)):
        raise ShapeError("scanType must be a scan type name such as TEST_INSTANCE_CVE")
    return Gathered(target=target, findings=tuple(parsed), enrichments=values, feeds=tuple(infos),
                    scan_result_condition=_condition(doc.get("scanResultCondition")), output_amis=tuple(amis),
                    image=_image(doc.get("image"), target), output_ami_arns=tuple(arns), scan_type=scan_type)


def check_findings(target: str, findings: Sequence[Finding]) -> None:
    """One build, the snapshot's target when that is a build ARN, and no finding twice."""
    seen: dict[str, int] = {}
    for i, f in enumerate(findings):
        if f.key in seen:
            raise ShapeError(f"findings[{i}] repeats findings[{seen[f.key]}] ({f.vulnerability_id})")
        seen[f.key] = i
    arns = {f.image_build_version_arn for f in findings if f.image_build_version_arn}
    expected = {target} if is_build_version_arn(target) else arns
    if len(arns) > 1 or arns - expected:
        named = ", ".join(sorted(arns))
        raise ShapeError(f"the findings name image build versions ({named}) other than the target {target}")


def check_enrichments(findings: Sequence[Finding], enrichments: Mapping[str, Enrichment]) -> None:
    """An enrichment record (possibly empty: no source knew it) for exactly the findings' vulnerabilities."""
    ids = {f.vulnerability_id for f in findings}
    missing = sorted(ids - enrichments.keys())
    if missing:
        raise ShapeError(f"no enrichment record for {len(missing)} vulnerabilities among the findings, "
                         f"e.g. {missing[0]}")
    extra = sorted(enrichments.keys() - ids)
    if extra:
        raise ShapeError(f"{len(extra)} enrichment records for vulnerabilities no finding has, e.g. {extra[0]}")


def check_feeds(feeds: Sequence[FeedInfo]) -> None:
    """Each source consulted is listed once."""
    seen: set[tuple[str, str]] = set()
    for i, feed in enumerate(feeds):
        if (feed.name, feed.source) in seen:
            raise ShapeError(f"feeds[{i}]: {feed.name} ({feed.source}) is listed twice")
        seen.add((feed.name, feed.source))


def load_snapshot(path: Path) -> Gathered:
    """Read a snapshot; a missing file is `UnreadableInputError`, anything malformed `InputError`."""
    data = read_bytes(path)
    try:
        doc = loads_strict(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a gate snapshot (not JSON: {e})", hint=HINT) from e
    except ValueError as e:  # a duplicate key, a non-finite number, absurd nesting
        raise InputError(f"{path}: not a valid gate snapshot ({e})", hint=HINT) from e
    try:
        return snapshot_from_json(doc)
    except (ShapeError, TypeError, AttributeError, ArithmeticError) as e:
        raise InputError(f"{path}: not a valid gate snapshot ({e})", hint=HINT) from e


class SnapshotSource:
    """The snapshot's findings, as one page."""

    def __init__(self, gathered: Gathered) -> None:
        self._gathered = gathered
        self.scan_result_condition = gathered.scan_result_condition

    @property
    def target(self) -> str:
        return self._gathered.target

    @property
    def output_amis(self) -> tuple[str, ...]:
        return self._gathered.output_amis

    @property
    def image(self) -> Mapping[str, Any] | None:
        return self._gathered.image

    def pages(self) -> Iterator[Sequence[Finding]]:
        yield self._gathered.findings

    def summary(self) -> ScanSummary:
        g = self._gathered
        return ScanSummary(scan_result_condition=g.scan_result_condition, output_amis=g.output_amis, image=g.image,
                           notes=g.notes, output_ami_arns=g.output_ami_arns, scan_type=g.scan_type)


class SnapshotEnricher:
    """Replays the answers saved in the snapshot, with the feeds (and dates) they came from."""

    name = "snapshot"

    def __init__(self, gathered: Gathered) -> None:
        self._gathered = gathered
        self.provides = frozenset(kind for feed in gathered.feeds for kind in feed.provides)

    def enrich(self, vulnerability_ids: Collection[str]) -> Mapping[str, Enrichment]:
        saved = self._gathered.enrichments
        return {vid: saved[vid] for vid in vulnerability_ids if vid in saved}

    def feeds(self) -> tuple[FeedInfo, ...]:
        return self._gathered.feeds


def open_snapshot(path: Path) -> tuple[SnapshotSource, SnapshotEnricher]:
    """A snapshot file as a finding source and the enricher that replays its saved enrichment."""
    gathered = load_snapshot(path)
    return SnapshotSource(gathered), SnapshotEnricher(gathered)
