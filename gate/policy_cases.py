"""`gate policy test`: YAML unit tests for policies, in the spirit of `opa test`.

A test file names a policy and lists cases; each case gives a finding (short form, or the API's
`ImageScanFinding` JSON), optional enrichment, and the decision (and optionally rules) expected.
Cases may instead name a findings export file and expect decisions per vulnerability id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from gate import yamlsrc
from gate.errors import GateError, PolicyError, ShapeError
from gate.fields import ALWAYS, FIELDS, DataKind, coerce
from gate.model import Cvss, Enrichment, Finding, VulnerablePackage
from gate.outcome import Decision
from gate.policy.engine import Engine
from gate.policy.loader import is_path, load_policy
from gate.sources.codec import parse_finding
from gate.sources.export import ExportSource
from gate.vocab import FIX_VALUES

_CASE_KEYS = {"name", "finding", "enrichment", "expect", "rules", "findings_file"}
_FINDING_KEYS = {"vulnerability_id", "severity", "fix", "packages", "inspector_score", "cvss", "first_observed_at"}
_ENRICH_KEYS = {name for name, field in FIELDS.items() if field.sources - ALWAYS} | {"enriched"}
"""A case's `enrichment` may set any field an enrichment source answers (derived from the registry)."""
_BASELINE_KEYS = {name for name, field in FIELDS.items() if field.sources == {DataKind.BASELINE}}
"""Facts a baseline answers (`new`, `first_seen`, ...): given in `enrichment` too, but they are not enrichment."""


@dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool
    detail: str = ""


def discover(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("**/*.test.yaml")) if p.is_dir() else [p])
    if not files:
        raise PolicyError("no *.test.yaml files found", path=", ".join(map(str, paths)))
    return files


def _check_keys(obj: Any, allowed: set[str], what: str, path: Path, line: int | None) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise PolicyError(f"{what} must be a mapping", path=str(path), line=line)
    unknown = set(obj) - allowed
    if unknown:
        raise PolicyError(f"{what}: unknown key(s) {sorted(unknown)}", path=str(path), line=line,
                          hint="allowed: " + ", ".join(sorted(allowed)))
    return obj


def _finding(obj: Any, path: Path, line: int | None) -> Finding:
    if isinstance(obj, dict) and "packageVulnerabilityDetails" in obj:
        try:
            return parse_finding(obj)
        except ShapeError as e:
            raise PolicyError(f"finding: {e}", path=str(path), line=line) from None
    f = _check_keys(obj, _FINDING_KEYS, "finding", path, line)
    fix = f.get("fix", "NO")
    if isinstance(fix, bool):  # YAML 1.1 reads a bare YES/NO as a boolean
        fix = "YES" if fix else "NO"
    if fix not in FIX_VALUES:
        raise PolicyError(f"finding.fix must be YES, NO or PARTIAL, not {fix!r}", path=str(path), line=line)
    cvss = f.get("cvss")
    seen = f.get("first_observed_at")
    return Finding(
        vulnerability_id=str(f.get("vulnerability_id", "CVE-0000-0000")),
        severity=str(f.get("severity", "MEDIUM")).upper(),
        title=None,
        description=None,
        fix_available=fix,
        packages=tuple(VulnerablePackage(name=str(n)) for n in f.get("packages", ["pkg"])),
        inspector_score=float(f["inspector_score"]) if "inspector_score" in f else None,
        adjusted_cvss=None,
        cvss=(Cvss(base_score=float(cvss), version="3.1"),) if cvss is not None else (),
        first_observed_at=datetime.fromisoformat(str(seen)).replace(tzinfo=UTC) if seen else None,
    )


def _facts(obj: Any, path: Path, line: int | None, today: date) -> dict[str, Any]:
    """A case's enrichment as field values; fields it does not give stay unknown, as with a real source.

    `days_open` follows from a given `first_seen` and the test file's `as_of`, as it does in a run.
    """
    if obj is None:
        return {}
    given = _check_keys(obj, _ENRICH_KEYS, "enrichment", path, line)
    try:
        facts = {name: coerce(name, value) for name, value in given.items()}
    except ValueError as e:
        raise PolicyError(f"enrichment: {e}", path=str(path), line=line) from None
    facts.setdefault("enriched", any(v is not None for k, v in facts.items() if k not in _BASELINE_KEYS))
    if facts.get("first_seen") is not None and "days_open" not in facts:
        facts["days_open"] = float((today - facts["first_seen"]).days)
    return facts


def run_test_file(path: Path) -> Iterator[Outcome]:
    doc = yamlsrc.load(yamlsrc.read_text(path), str(path))
    top = _check_keys(doc.value, {"policy", "as_of", "cases"}, "test file", path, doc.line(()))
    if "policy" not in top or not isinstance(top.get("cases"), list) or not top["cases"]:
        raise PolicyError("a test file needs 'policy' and a non-empty 'cases' list", path=str(path))
    policy_ref = str(top["policy"])
    # NOTE: the same rule as --policy: a bare name is a shipped policy; a path is relative to the test file.
    policy = load_policy(str(path.parent / policy_ref) if is_path(policy_ref) else policy_ref)
    as_of = top.get("as_of")
    now = datetime.fromisoformat(str(as_of)).replace(tzinfo=UTC) if as_of else datetime.now(UTC)
    engine = Engine(policy, now)
    for i, raw in enumerate(top["cases"]):
        line = doc.line(("cases", i))
        case = _check_keys(raw, _CASE_KEYS, f"cases[{i}]", path, line)
        name = str(case.get("name", f"case {i + 1}"))
        try:
            yield from _run_case(case, name, engine, path, line)
        except (GateError, ValueError, TypeError) as e:
            message = e.diagnostics() if isinstance(e, GateError) else str(e)
            yield Outcome(name, False, f"line {line}: {message}")


def _run_case(case: dict[str, Any], name: str, engine: Engine, path: Path, line: int | None) -> Iterator[Outcome]:
    expect = case.get("expect")
    if "findings_file" in case:
        if not isinstance(expect, dict):
            raise PolicyError("with findings_file, expect maps vulnerability ids to decisions", path=str(path),
                              line=line)
        findings = [f for page in ExportSource([path.parent / str(case["findings_file"])]).pages() for f in page]
        for vid, want in expect.items():
            got = {engine.decide(f, Enrichment(vulnerability_id=f.vulnerability_id)).decision.value
                   for f in findings if f.vulnerability_id == vid}
            ok = got == {str(want)}
            yield Outcome(f"{name} [{vid}]", ok, "" if ok else f"expected {want}, got {sorted(got) or 'no finding'}")
        return
    try:
        wanted = Decision(str(expect))
    except ValueError:
        raise PolicyError(f"expect must be one of {[d.value for d in Decision]}", path=str(path), line=line) from None
    finding = _finding(case.get("finding", {}), path, line)
    overrides = _facts(case.get("enrichment"), path, line, engine.today)
    result = engine.decide(finding, Enrichment(vulnerability_id=finding.vulnerability_id), overrides)
    problems = []
    if result.decision is not wanted:
        problems.append(f"expected {wanted.value}, got {result.decision.value}")
    if "rules" in case:
        got_rules = sorted(m.rule_id for m in result.matches)
        if got_rules != sorted(map(str, case["rules"])):
            problems.append(f"expected rules {sorted(case['rules'])}, got {got_rules}")
    yield Outcome(name, not problems, "; ".join(problems))
