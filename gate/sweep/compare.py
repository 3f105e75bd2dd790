"""Verdict now against verdict then: `--previous` reads earlier sweep or `gate check` JSON reports.

Each build is `newly failing`, `still failing`, `newly passing` or `unchanged`, with the CVEs and the
intelligence that moved (`CVE-X joined KEV on 2026-12-01`, `CVE-Y EPSS 0.08 → 0.61`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gate.errors import InputError, ShapeError
from gate.files import read_raw
from gate.fleet import BuildRecord, Change, Intel, Status
from gate.fleetjson import from_document, is_fleet
from gate.jsondocs import loads_strict
from gate.sweep.records import EPSS_FLOOR
from gate.timeutil import to_utc

EPSS_STEP = 0.05
"""An EPSS move smaller than this is noise, not a change worth a line."""
MAX_CHANGES = 12


@dataclass(frozen=True)
class Then:
    """One build as an earlier report judged it."""

    status: Status
    blocking: frozenset[str]
    intel: Mapping[str, Intel]
    at: datetime | None
    floor: float = 0.0
    """A CVE absent from `intel` had EPSS below this (a sweep record's `EPSS_FLOOR`; 0 for a check report)."""


def _check_report(doc: Mapping[str, Any], where: str) -> tuple[str, Then]:
    """A `gate check` JSON report (schemaVersion 1) as one build's `Then`."""
    build = doc.get("build") or doc.get("target")
    findings = doc.get("findings")
    verdict = doc.get("verdict")
    if not isinstance(build, str) or not isinstance(findings, list) or verdict not in ("pass", "fail", "error"):
        raise InputError(f"{where} is neither a `gate sweep` nor a `gate check` JSON report",
                         hint="pass reports written with --report json=FILE")
    intel: dict[str, Intel] = {}
    blocking = set()
    for i, f in enumerate(findings):
        vid, decision = (f.get("vulnerabilityId"), f.get("decision")) if isinstance(f, dict) else (None, None)
        if not isinstance(vid, str) or decision not in ("fail", "warn", "excepted", "pass"):
            raise InputError(f"{where}: findings[{i}] has no vulnerabilityId or decision",
                             hint="pass the JSON report gate wrote, unedited")
        kev_doc = ((f.get("enrichment") or {}).get("kev") or {}) if isinstance(f.get("enrichment"), dict) else {}
        added = kev_doc.get("dateAdded") if isinstance(kev_doc, dict) else None
        epss = f.get("epss") if isinstance(f.get("epss"), int | float) and not isinstance(f.get("epss"), bool) else None
        kev = f.get("kev") if isinstance(f.get("kev"), bool) else None
        try:
            day = date.fromisoformat(added) if isinstance(added, str) else None
        except ValueError:
            day = None
        seen = intel.get(vid)
        if seen is None or decision == "fail":
            intel[vid] = Intel(vid, decision, day, kev, float(epss) if epss is not None else None)
        if decision == "fail":
            blocking.add(vid)
    if (verdict == "pass" and blocking) or (verdict == "fail" and not blocking):
        # NOTE: as gate writes them, a report fails exactly when a finding's decision is fail
        raise InputError(f"{where}: its verdict {verdict!r} disagrees with its findings' decisions",
                         hint="pass the JSON report gate wrote, unedited")
    status = {"pass": Status.PASS, "fail": Status.FAIL, "error": Status.UNJUDGED}[verdict]
    try:
        at = to_utc(doc.get("evaluatedAt")) if isinstance(doc.get("evaluatedAt"), str) else None
    except ShapeError as e:
        raise InputError(f"{where}: `evaluatedAt` is not a time ({e})",
                         hint="pass the JSON report gate wrote, unedited") from None
    return build, Then(status, frozenset(blocking), intel, at)


class Previous:
    """Every build of the earlier reports, by ARN; for a build in several, the newest judgement wins."""

    def __init__(self, source: str, now: datetime) -> None:
        self.source = source
        self.now = now
        self._then: dict[str, Then] = {}

    @classmethod
    def load(cls, path: Path, now: datetime) -> Previous:
        """The earlier reports at `path`; one dated after `now` (the sweep's time) is refused: it is not "then"."""
        files = sorted(p for p in path.iterdir() if p.suffix == ".json" and p.is_file()) if path.is_dir() else [path]
        if not files:
            raise InputError(f"--previous {path}: the folder holds no .json report",
                             hint="point --previous at an earlier sweep's JSON report or a folder of them")
        previous = cls(str(path), now)
        for file in files:
            previous._read(file)
        return previous

    def _read(self, file: Path) -> None:
        where = f"--previous {file}"
        try:
            doc = loads_strict(read_raw(file).decode("utf-8"))
        except (OSError, ValueError) as e:
            raise InputError(f"{where}: {e}", hint="pass a JSON report written by gate") from None
        if is_fleet(doc):
            report = from_document(doc, where)
            self._not_after_now(report.generated_at, where)
            for r in report.records:
                if r.status in (Status.PASS, Status.FAIL):
                    self._add(r.build, Then(r.status, frozenset(b.vulnerability_id for b in r.blocking),
                                            {i.vulnerability_id: i for i in r.intel}, report.generated_at,
                                            EPSS_FLOOR))
            return
        if not isinstance(doc, dict):
            raise InputError(f"{where} is not a JSON object", hint="pass a JSON report written by gate")
        build, then = _check_report(doc, where)
        self._not_after_now(then.at, where)
        if then.status is not Status.UNJUDGED:
            self._add(build, then)

    def _not_after_now(self, at: datetime | None, where: str) -> None:
        # NOTE: the newest judgement of a build wins, so a report dated ahead would outrank every true one.
        if at is not None and at > self.now:
            raise InputError(f"{where} was written at {at.isoformat()}, after this sweep's time "
                             f"{self.now.isoformat()}: it cannot be what came before",
                             hint="pass reports of earlier sweeps or checks (or an --as-of no earlier than them)")

    def _add(self, build: str, then: Then) -> None:
        known = self._then.get(build)
        if known is None or (then.at is not None and (known.at is None or then.at > known.at)):
            self._then[build] = then

    def __len__(self) -> int:
        return len(self._then)

    def compare(self, record: BuildRecord) -> BuildRecord:
        """The record with its change since the earlier report (judged builds only)."""
        if record.status not in (Status.PASS, Status.FAIL):
            return record
        then = self._then.get(record.build)
        if then is None:
            return replace(record, change=Change.NOT_BEFORE)
        failing = record.status is Status.FAIL
        if failing:
            change = Change.STILL_FAILING if then.status is Status.FAIL else Change.NEWLY_FAILING
        else:
            change = Change.NEWLY_PASSING if then.status is Status.FAIL else Change.UNCHANGED
        return replace(record, change=change, changes=_changes(record, then))


def _changes(record: BuildRecord, then: Then) -> tuple[str, ...]:
    lines: list[str] = []
    now_blocking = {b.vulnerability_id: b for b in record.blocking}
    for vid, blocker in now_blocking.items():
        if vid not in then.blocking:
            lines.append(f"{vid} now blocks ({', '.join(blocker.rules)})" + _moved(record, then, vid, lead="; "))
    lines.extend(f"{vid} no longer blocks" for vid in sorted(then.blocking - now_blocking.keys()))
    for intel in record.intel:
        vid = intel.vulnerability_id
        if vid in now_blocking and vid not in then.blocking:
            continue
        moved = _moved(record, then, vid, lead="")
        if moved:
            lines.append(f"{vid} {moved}")
    if len(lines) > MAX_CHANGES:
        lines = [*lines[: MAX_CHANGES - 1], f"(and {len(lines) - MAX_CHANGES + 1} more changes)"]
    return tuple(lines)


def _moved(record: BuildRecord, then: Then, vid: str, *, lead: str) -> str:
    """`joined KEV on D`, `EPSS a → b`: what moved for one CVE (empty when nothing did)."""
    now = next((i for i in record.intel if i.vulnerability_id == vid), None)
    before = then.intel.get(vid)
    if now is None:
        return ""
    parts = []
    if now.kev and not (before and before.kev):
        parts.append("joined KEV" + (f" on {now.kev_added.isoformat()}" if now.kev_added else ""))
    old = before.epss if before and before.epss is not None else None
    if now.epss is not None and old is not None and abs(now.epss - old) >= EPSS_STEP:
        parts.append(f"EPSS {old:.2f} → {now.epss:.2f}")
    elif now.epss is not None and old is None and before is None and then.floor and now.epss >= then.floor + EPSS_STEP:
        parts.append(f"EPSS below {then.floor:.2f} → {now.epss:.2f}")
    return lead + ", ".join(parts) if parts else ""
