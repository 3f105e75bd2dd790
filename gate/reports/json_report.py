"""The JSON report: a stable, schema-described document for scripts (`gate/schemas/report-v1.schema.json`).

Layout: one top-level key per line and one finding per line, each written by the standard library's C
encoder. A pretty-printed (`indent=`) document goes through json's pure-Python encoder, about 6× slower,
and a change to one finding still shows as one changed line in a diff. The report is streamed: each
finding's dictionary is built, encoded and written, then dropped, so the text never exists whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from gate import __version__
from gate.declared import VexStatement
from gate.outcome import Evaluation, FindingResult
from gate.reports import explain
from gate.reports.interface import ReportOptions
from gate.serialize import enrichment_to_json

SCHEMA_VERSION = 1
_ENCODE = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
"""One encoder for every value: no `indent`, so the C encoder runs; the report's values hold no cycles."""


def _result(r: FindingResult) -> dict[str, Any]:
    """A finding's whole object, plainly: what `_line` writes faster (tests/reports/test_scale.py compares)."""
    return {**_head(r), "enrichment": enrichment_to_json(r.enrichment), **_tail(r)}


def _head(r: FindingResult) -> dict[str, Any]:
    """A finding's keys before `enrichment`; `_tail` has those after it."""
    f, e = r.finding, r.enrichment
    return {
        "key": f.key,
        "vulnerabilityId": f.vulnerability_id,
        "severity": f.severity,
        "decision": r.decision.value,
        "matchedRules": [m.rule_id for m in r.matches],
        "matches": [
            {"rule": m.rule_id, "action": m.action.value, "reasons": list(m.reasons), "exceptedBy": m.excepted_by}
            for m in r.matches
        ],
        "expiredExceptions": list(r.expired_exceptions),
        "revokedExceptions": [{"id": v.exception_id, "reasons": list(v.reasons)} for v in r.revoked],
        "vex": _vex(r.vex) if r.vex else None,
        "title": f.title,
        "fixAvailable": f.fix_available,
        "inspectorScore": f.inspector_score,
        "cvss": f.best_cvss,
        "firstObservedAt": f.first_observed_at.isoformat() if f.first_observed_at else None,
        "sourceUrl": f.source_url,
        "packages": [
            {"name": p.name, "installed": p.installed, "fixedIn": p.fixed_in_version, "arch": p.arch,
             "packageManager": p.package_manager, "filePath": p.file_path}
            for p in f.packages
        ],
        # NOTE: null, not false, when no source that answers KEV membership was asked.
        "kev": True if e.kev is not None else (False if e.kev_known_by else None),
        "epss": e.epss.score if e.epss else None,
    }


def _tail(r: FindingResult) -> dict[str, Any]:
    return {
        "firstSeen": r.first_seen.isoformat() if r.first_seen else None,
        "baseline": r.baseline.value if r.baseline else None,
    }


def _line(r: FindingResult, encoded: dict[int, str]) -> str:
    """`_ENCODE(_result(r))`, with the enrichment's text made once per vulnerability: findings of one CVE
    share an `Enrichment` (2,000 findings of a live run share 800), and it is the larger part of a line."""
    enrichment = encoded.get(id(r.enrichment))
    if enrichment is None:
        enrichment = encoded[id(r.enrichment)] = _ENCODE(enrichment_to_json(r.enrichment))
    # NOTE: both halves are non-empty objects: drop the head's `}` and the tail's `{`, join as the encoder would.
    return f'{_ENCODE(_head(r))[:-1]}, "enrichment": {enrichment}, {_ENCODE(_tail(r))[1:]}'


def _baseline(evaluation: Evaluation) -> dict[str, Any]:
    """What the run was compared with and what it no longer has; `fixed` is empty without a baseline."""
    b = evaluation.baseline
    return {
        "pipeline": evaluation.pipeline,
        "build": evaluation.build,
        "baseline": {"source": b.source, "target": b.target, "pipeline": b.pipeline} if b else None,
        "fixed": [
            {"vulnerabilityId": x.vulnerability_id, "packages": list(x.packages), "severity": x.severity,
             "firstSeen": x.first_seen.isoformat()}
            for x in (b.fixed if b else ())
        ],
    }


def _vex(v: VexStatement) -> dict[str, Any]:
    return {"document": v.document, "documentId": v.document_id, "statement": v.index + 1, "line": v.line,
            "author": v.author, "status": v.status, "justification": v.justification,
            "impactStatement": v.impact_statement, "timestamp": v.timestamp.isoformat(), "covers": v.covers}


def _fields(evaluation: Evaluation) -> Iterator[tuple[str, Any]]:
    """The document's keys in order; `findings` is yielded as None and streamed by `lines`."""
    s = evaluation.summary
    yield "schemaVersion", SCHEMA_VERSION
    yield "tool", {"name": "gate", "version": __version__}
    yield "verdict", evaluation.verdict.value
    yield "target", evaluation.target
    yield "evaluatedAt", evaluation.evaluated_at.isoformat() if evaluation.evaluated_at else None
    yield "policy", {
        "name": evaluation.policy_name,
        "source": evaluation.policy_source,
        "rules": [{"id": r.id, "action": r.action.value, "when": r.when, "description": r.description}
                  for r in evaluation.rules],
    }
    yield "summary", {"total": s.total, "failed": s.failed, "warned": s.warned, "excepted": s.excepted,
                      "passed": s.passed}
    yield "findings", None
    yield "exceptions", [
        {"id": x.id, "vulnerability": x.vulnerability, "reason": x.reason, "owner": x.owner,
         "expires": x.expires.isoformat(), "rules": list(x.rules), "packages": list(x.packages),
         "status": "expired" if x.id in evaluation.expired_exceptions
         else "stale" if x.id in evaluation.stale_exceptions else "used",
         "until": x.until, "revoked": x.id in evaluation.revoked_exceptions,
         "expiring": x.id in evaluation.expiring_exceptions}
        for x in evaluation.exceptions
    ]
    yield "feeds", [
        {"name": fd.name, "source": fd.source, "asOf": fd.as_of.isoformat() if fd.as_of else None,
         "detail": fd.detail}
        for fd in evaluation.feeds
    ]
    yield "notes", list(evaluation.notes)
    yield "errors", list(evaluation.errors)
    yield "imageBuilderCheck", explain.image_builder_check(evaluation)
    yield "actions", [{"action": r.action, "target": r.target, "operation": r.operation, "status": r.status.value,
                       "detail": r.detail} for r in evaluation.actions]
    yield from _baseline(evaluation).items()


def lines(evaluation: Evaluation) -> Iterator[str]:
    """The report, a line at a time (each ends with a newline)."""
    yield "{\n"
    fields = list(_fields(evaluation))
    for i, (key, value) in enumerate(fields):
        end = ",\n" if i < len(fields) - 1 else "\n"
        if key != "findings":
            yield f"{_ENCODE(key)}: {_ENCODE(value)}{end}"
            continue
        if not evaluation.results:
            yield f'"findings": []{end}'
            continue
        yield '"findings": [\n'
        last = len(evaluation.results) - 1
        encoded: dict[int, str] = {}  # NOTE: keyed by identity; every Enrichment lives as long as the evaluation
        for n, result in enumerate(evaluation.results):
            yield _line(result, encoded) + (",\n" if n < last else "\n")
        yield f"]{end}"
    yield "}\n"


class JsonReport:
    name = "json"

    def render(self, evaluation: Evaluation, options: ReportOptions) -> str:
        # NOTE: a lone surrogate in finding text cannot be written as UTF-8; as a JSON escape it can.
        return "".join(lines(evaluation)).encode("utf-8", "backslashreplace").decode("utf-8")

    def write(self, evaluation: Evaluation, options: ReportOptions, out: BinaryIO) -> None:
        """Stream the same bytes `render` would give, a line at a time."""
        for line in lines(evaluation):
            out.write(line.encode("utf-8", "backslashreplace"))
