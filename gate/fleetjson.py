"""The one JSON form of a fleet report: written by `gate sweep`, read back by `gate sweep merge` and `--previous`.

Reading is strict: a document of another schema, a record with a missing or mistyped key, or a value
outside its set is an `InputError` naming the file and the record, never a record quietly skipped.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date
from typing import Any

from gate.errors import InputError
from gate.fleet import (
    MAX_SHARDS,
    SCHEMA,
    Ami,
    Basis,
    Blocker,
    BuildRecord,
    Change,
    Counts,
    FleetReport,
    Intel,
    Shard,
    Status,
)
from gate.jsondocs import loads_strict
from gate.outcome import ActionRecord, ActionStatus
from gate.timeutil import to_utc
from gate.vocab import build_version_arn


def record_to_json(r: BuildRecord) -> dict[str, Any]:
    return {
        "build": r.build, "pipeline": r.pipeline, "region": r.region, "status": r.status.value,
        "deprecated": r.deprecated, "reason": r.reason,
        "amis": [{"region": a.region, "image": a.image, "account": a.account} for a in r.amis],
        "change": r.change.value if r.change else None, "changes": list(r.changes),
        "blocking": [{"vulnerabilityId": b.vulnerability_id, "packages": list(b.packages), "fix": b.fix,
                      "rules": list(b.rules)} for b in r.blocking],
        "counts": {"total": r.counts.total, "failed": r.counts.failed, "warned": r.counts.warned,
                   "excepted": r.counts.excepted, "passed": r.counts.passed},
        "intel": [{"vulnerabilityId": i.vulnerability_id, "decision": i.decision,
                   "kevDateAdded": i.kev_added.isoformat() if i.kev_added else None, "kev": i.kev,
                   "epss": i.epss} for i in r.intel],
        "notes": list(r.notes),
        "actions": [{"action": a.action, "target": a.target, "operation": a.operation, "status": a.status.value,
                     "detail": a.detail} for a in r.actions],
    }


def _basis_to_json(b: Basis) -> dict[str, Any]:
    return {"targets": b.targets, "policy": b.policy, "intelligence": list(b.intelligence),
            "asOf": b.as_of.isoformat() if b.as_of else None}


def to_json(report: FleetReport) -> str:
    """One top-level key per line and one build per line: a changed build is one changed line in a diff."""
    head = {
        "schema": SCHEMA,
        "generatedAt": report.generated_at.isoformat(),
        "policy": report.policy,
        "basis": _basis_to_json(report.basis) if report.basis else None,
        "shards": [{"index": s.index, "count": s.count} for s in report.shards],
        "comparedWith": report.compared_with,
        "complete": report.complete,
        "summary": {s.value: report.count(s) for s in Status},
        "stats": dict(sorted(report.stats.items())),
        "feeds": list(report.feeds),
        "notes": list(report.notes),
    }
    lines = [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    builds = [json.dumps(record_to_json(r), ensure_ascii=False) for r in report.ordered()]
    body = ",\n    ".join(builds)
    tail = '\n  "builds": [\n    ' + body + "\n  ]\n}\n" if builds else '\n  "builds": []\n}\n'
    return "{\n" + "\n".join(lines) + tail


# -- reading ---------------------------------------------------------------------------------------

class _Bad(Exception):
    pass


def _str(obj: Mapping[str, Any], key: str, *, optional: bool = False) -> Any:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _Bad(f"`{key}` is not a string")
    return value


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    if not isinstance(value, list):
        raise _Bad(f"`{key}` is not a list")
    return value


def _strings(obj: Mapping[str, Any], key: str) -> tuple[str, ...]:
    items = _list(obj, key)
    if not all(isinstance(i, str) for i in items):
        raise _Bad(f"`{key}` holds a non-string")
    return tuple(items)


def _dict(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise _Bad(f"{what} is not an object")
    return value


def _count(obj: Mapping[str, Any], key: str) -> int:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Bad(f"`counts.{key}` is not a count")
    return value


def _epss(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 0 <= value <= 1:
        raise _Bad("`epss` is not a probability")
    return float(value)


def _intel(obj: Any) -> Intel:
    d = _dict(obj, "an intel entry")
    added = _str(d, "kevDateAdded", optional=True)
    kev = d.get("kev")
    if kev is not None and not isinstance(kev, bool):
        raise _Bad("`kev` is not true, false or null")
    try:
        day = date.fromisoformat(added) if added else None
    except ValueError:
        raise _Bad("`kevDateAdded` is not a date") from None
    return Intel(_str(d, "vulnerabilityId"), _str(d, "decision"), day, kev, _epss(d.get("epss")))


def _action(obj: Any) -> ActionRecord:
    d = _dict(obj, "an action")
    try:
        status = ActionStatus(_str(d, "status"))
    except ValueError:
        raise _Bad("an action's `status` is not one gate writes") from None
    return ActionRecord(_str(d, "action"), _str(d, "target"), _str(d, "operation"), status, _str(d, "detail"))


def record_from_json(obj: Any) -> BuildRecord:
    d = _dict(obj, "a build")
    try:
        status = Status(_str(d, "status"))
        change = Change(d["change"]) if d.get("change") is not None else None
    except ValueError:
        raise _Bad("`status` or `change` is not one gate writes") from None
    if not isinstance(d.get("deprecated"), bool):
        raise _Bad("`deprecated` is not true or false")
    amis = tuple(Ami(_str(a, "region"), _str(a, "image"), _str(a, "account", optional=True))
                 for a in (_dict(x, "an AMI") for x in _list(d, "amis")))
    blocking = tuple(Blocker(_str(b, "vulnerabilityId"), _strings(b, "packages"), _str(b, "fix"), _strings(b, "rules"))
                     for b in (_dict(x, "a blocker") for x in _list(d, "blocking")))
    c = _dict(d.get("counts"), "`counts`")
    counts = Counts(*(_count(c, k) for k in ("total", "failed", "warned", "excepted", "passed")))
    return _consistent(BuildRecord(
        build=_str(d, "build"), region=_str(d, "region"), status=status, pipeline=_str(d, "pipeline", optional=True),
        amis=amis, deprecated=d["deprecated"], reason=_str(d, "reason"), blocking=blocking, counts=counts,
        intel=tuple(_intel(i) for i in _list(d, "intel")), notes=_strings(d, "notes"),
        actions=tuple(_action(a) for a in _list(d, "actions")), change=change, changes=_strings(d, "changes")))


def _consistent(r: BuildRecord) -> BuildRecord:
    """The record, if its parts agree as `gate sweep` writes them: an edit that turns a verdict is refused."""
    match = build_version_arn(r.build)
    if match is None:
        raise _Bad("`build` is not an image build version ARN")
    if match["region"] != r.region:
        raise _Bad("`region` is not the region the build's ARN names")
    c = r.counts
    if c.total != c.failed + c.warned + c.excepted + c.passed:
        raise _Bad("`counts` do not add up to `counts.total`")
    if r.status is Status.PASS and (r.blocking or c.failed):
        raise _Bad("a passing build with blocking findings")
    if r.status is Status.FAIL and not (r.blocking and c.failed >= len(r.blocking)):
        raise _Bad("a failing build without as many failed findings as blocking CVEs")
    if r.status in (Status.UNJUDGED, Status.SKIPPED) and (r.blocking or c.total or r.intel or not r.reason.strip()):
        raise _Bad(f"an {r.status.value} build with findings or without its reason")
    return r


def is_fleet(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("schema") == SCHEMA


def from_json(text: str, where: str) -> FleetReport:
    """A sweep's JSON report; an `InputError` naming `where` (and the build's index) if it is not one."""
    try:
        doc = loads_strict(text)
    except ValueError as e:
        raise InputError(f"{where} is not JSON: {e}", hint="pass a JSON report written by `gate sweep`") from None
    return from_document(doc, where)


def from_document(doc: Any, where: str) -> FleetReport:
    if not is_fleet(doc):
        raise InputError(f"{where} is not a `gate sweep` JSON report (schema {SCHEMA})",
                         hint="pass a report written by `gate sweep --report json=FILE`")
    builds = doc.get("builds")
    try:
        if not isinstance(builds, list):
            raise _Bad("`builds` is not a list")
        records = [_indexed(index, item) for index, item in enumerate(builds)]
        generated = to_utc(_str(doc, "generatedAt"))
        if generated is None:
            raise _Bad("`generatedAt` is missing")
        shards = tuple(_shard(s) for s in _list(doc, "shards"))
        if not isinstance(doc.get("complete"), bool):
            raise _Bad("`complete` is not true or false")
        stats = _dict(doc.get("stats"), "`stats`")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in stats.values()):
            raise _Bad("`stats` holds a non-count")
        summary = {s.value: sum(1 for r in records if r.status is s) for s in Status}
        if doc.get("summary") != summary:
            raise _Bad(f"`summary` does not count the builds it lists ({summary})")
        if "builds" in stats and stats["builds"] != len(records):
            raise _Bad(f"`stats.builds` says {stats['builds']} builds were swept, `builds` lists {len(records)}")
        return FleetReport(generated_at=generated, policy=_str(doc, "policy"), records=tuple(records), shards=shards,
                           feeds=_strings(doc, "feeds"), notes=_strings(doc, "notes"), stats=dict(stats),
                           compared_with=_str(doc, "comparedWith", optional=True), complete=doc["complete"],
                           basis=_basis(doc.get("basis")))
    except (_Bad, ValueError) as e:
        raise InputError(f"{where}: {e}", hint="pass the JSON report `gate sweep` wrote, unedited") from None


def _indexed(index: int, item: Any) -> BuildRecord:
    try:
        return record_from_json(item)
    except (_Bad, ValueError) as e:
        raise _Bad(f"builds[{index}]: {e}") from None


def _shard(obj: Any) -> Shard:
    d = _dict(obj, "a shard")
    index, count = d.get("index"), d.get("count")
    if not (isinstance(index, int) and isinstance(count, int) and not isinstance(index, bool)
            and not isinstance(count, bool) and 1 <= index <= count <= MAX_SHARDS):
        raise _Bad(f"a shard is not I/N with 1 <= I <= N <= {MAX_SHARDS}")
    return Shard(index, count)


def _basis(value: Any) -> Basis | None:
    if value is None:
        return None
    d = _dict(value, "`basis`")
    as_of = _str(d, "asOf", optional=True)
    return Basis(targets=_str(d, "targets"), policy=_str(d, "policy"), intelligence=_strings(d, "intelligence"),
                 as_of=to_utc(as_of) if as_of is not None else None)
