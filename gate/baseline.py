"""The ratchet's baseline: an earlier build of the same pipeline, read from a report, a snapshot or AWS.

A finding is the same across builds when its vulnerability id and vulnerable package names are
(versions change from build to build). Each JSON report records when every finding was first seen,
so passing the last build's report as the next build's baseline carries the clock with no server.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from gate.errors import InputError, ShapeError
from gate.files import read_bytes
from gate.jsondocs import loads_strict
from gate.model import Finding, Gathered
from gate.outcome import BaselineInfo, PriorFinding
from gate.snapshot import FORMAT as SNAPSHOT_FORMAT
from gate.snapshot import snapshot_from_json
from gate.timeutil import to_utc

PREVIOUS = "previous"
"""`--baseline previous`: the pipeline's build before the judged one, read live."""
FIRST = "first"
"""`--baseline first`: the pipeline's first build (or a lost report): an empty baseline, so every finding is new."""
HINT = "pass the JSON report (--report json=FILE) or `gate fetch` snapshot of this pipeline's last build"
OTHER_PIPELINE_HINT = ("pass the last report of this build's pipeline, or --baseline-any-pipeline to compare "
                       "with it anyway")


@dataclass(frozen=True)
class Baseline:
    source: str
    """What the user passed: a file name or the previous build's ARN."""
    target: str | None
    build: str | None
    """The image build version ARN it describes, when known."""
    pipeline: str | None
    findings: tuple[PriorFinding, ...]
    notes: tuple[str, ...] = ()
    as_of: datetime | None = None
    """When the baseline was judged or fetched: a baseline from after this run's evaluation is refused."""


@dataclass(frozen=True)
class BaselineSpec:
    """How a run gets its baseline (called once by the run owner) and whether another pipeline's is accepted."""

    load: Callable[[], Baseline]
    any_pipeline: bool = False


def _one(values: Iterable[str | None], what: str, origin: str, *, strict: bool = True) -> str | None:
    """The one value named, None if none; several are an `InputError` (or None when not `strict`)."""
    distinct = sorted({v for v in values if v})
    if len(distinct) > 1:
        if not strict:
            return None
        raise InputError(f"{origin} mixes findings of {len(distinct)} {what}s ({', '.join(distinct[:2])}, ...)",
                         hint="gate one build at a time")
    return distinct[0] if distinct else None


def _is_build(arn: str | None) -> str | None:
    return arn if arn and ":image/" in arn else None


def from_findings(findings: Iterable[Finding], *, source: str, target: str | None, fallback: date,
                  notes: tuple[str, ...] = ()) -> Baseline:
    """A baseline from findings as the API gives them (a snapshot, or the previous build read live).

    First seen is the scan's first observation; `fallback` (when the findings were read) where it has none.
    """
    listed = tuple(findings)
    priors = tuple(
        PriorFinding(f.vulnerability_id, f.package_names, f.severity,
              f.first_observed_at.date() if f.first_observed_at else fallback)
        for f in listed
    )
    build = _one((f.image_build_version_arn for f in listed), "image build version", source) or _is_build(target)
    pipeline = _one((f.image_pipeline_arn for f in listed), "image pipeline", source)
    return Baseline(source=source, target=target, build=build, pipeline=pipeline, findings=priors, notes=notes)


def _text(obj: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ShapeError(f"{where}.{key} must be a non-empty string")
    return value


def _day(value: Any, where: str) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ShapeError(f"{where} must be a YYYY-MM-DD date, not {str(value)[:40]!r}")


def _prior(raw: Any, where: str, evaluated: date | None) -> PriorFinding:
    if not isinstance(raw, Mapping):
        raise ShapeError(f"{where} must be an object")
    packages = raw.get("packages")
    if not isinstance(packages, list) or not all(isinstance(p, Mapping) for p in packages):
        raise ShapeError(f"{where}.packages must be a list of objects")
    names = tuple(_text(p, "name", f"{where}.packages[{i}]") or "" for i, p in enumerate(packages))
    observed = to_utc(raw.get("firstObservedAt"))
    if raw.get("firstSeen") is not None:
        seen = _day(raw["firstSeen"], f"{where}.firstSeen")
        # NOTE: a later firstSeen restarts the SLA clock ("open > 30 days"): gate never writes one.
        if evaluated is not None and seen > evaluated:
            raise ShapeError(f"{where}.firstSeen {seen} is after the report's own evaluation ({evaluated}): "
                             "it was edited")
        if observed is not None and seen > observed.date():
            raise ShapeError(f"{where}.firstSeen {seen} is after the finding's own firstObservedAt "
                             f"({observed.date()}): it was edited")
    else:  # a report written before the ratchet: the scan's first observation starts the clock
        fallback = observed.date() if observed else evaluated
        if fallback is None:
            raise ShapeError(f"{where} has neither firstSeen nor firstObservedAt")
        seen = fallback
    return PriorFinding(_text(raw, "vulnerabilityId", where) or "", names, _text(raw, "severity", where) or "", seen)


DECISIONS = {"fail": "failed", "warn": "warned", "excepted": "excepted", "pass": "passed"}
"""A finding's `decision` and the summary count it adds to."""


def _check_counts(findings: list[Any], summary: Mapping[str, Any], verdict: str) -> None:
    """The summary counts what the findings say, each finding once (by `key`), and the verdict follows from them."""
    total = summary.get("total")
    if isinstance(total, bool) or not isinstance(total, int) or total != len(findings):
        raise ShapeError(f"it lists {len(findings)} findings but its summary counts {total!r}: it was cut or edited")
    counted = dict.fromkeys(DECISIONS.values(), 0)
    keys: dict[str, int] = {}
    for i, raw in enumerate(findings):
        decision = raw.get("decision") if isinstance(raw, Mapping) else None
        if decision not in DECISIONS:
            raise ShapeError(f"findings[{i}].decision {str(decision)[:20]!r} is not one of {', '.join(DECISIONS)}")
        counted[DECISIONS[decision]] += 1
        key = raw.get("key")
        if key is not None:
            if not isinstance(key, str) or key in keys:
                raise ShapeError(f"findings[{i}] repeats findings[{keys.get(str(key), i)}] (key {str(key)[:80]!r})")
            keys[key] = i
    for name, count in counted.items():
        given = summary.get(name)
        if isinstance(given, bool) or given != count:
            raise ShapeError(f"its summary says {name} {str(given)[:20]} but {count} findings are {name}: "
                             "it was edited")
    if (verdict == "fail") != (counted["failed"] > 0):
        raise ShapeError(f"verdict {verdict} does not follow from {counted['failed']} failed findings: it was edited")


def from_report(doc: Mapping[str, Any], source: str) -> Baseline:
    """A gate JSON report (schema version 1) as a baseline; raises `ShapeError` naming what is wrong."""
    if doc.get("schemaVersion") != 1:
        raise ShapeError(f"report schemaVersion {doc.get('schemaVersion')!r} is not 1")
    verdict = doc.get("verdict")
    if verdict == "error":
        raise ShapeError("it is the report of a run that did not complete (verdict error), so it lists no findings")
    if verdict not in ("pass", "fail"):
        raise ShapeError(f"verdict {str(verdict)[:20]!r} is not pass or fail")
    findings, summary = doc.get("findings"), doc.get("summary")
    if not isinstance(findings, list) or not isinstance(summary, Mapping):
        raise ShapeError("findings must be a list and summary an object")
    _check_counts(findings, summary, verdict)
    evaluated = to_utc(doc.get("evaluatedAt"))
    if evaluated is None:
        # NOTE: without it no firstSeen could be checked, and a firstSeen of 2099 would restart every SLA clock.
        raise ShapeError("a report of a completed run has an evaluatedAt; this one has none: it was edited")
    priors = tuple(_prior(raw, f"findings[{i}]", evaluated.date()) for i, raw in enumerate(findings))
    target = _text(doc, "target", "report", required=False)
    build = _text(doc, "build", "report", required=False) or _is_build(target)
    return Baseline(source=source, target=target, build=build, as_of=evaluated,
                    pipeline=_text(doc, "pipeline", "report", required=False), findings=priors)


def _attested_prior(raw: Any, where: str) -> PriorFinding:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("annotations"), Mapping):
        raise ShapeError(f"{where} must be an object with annotations")
    notes, severity = raw["annotations"], raw.get("severity")
    packages = notes.get("packages")
    if not isinstance(packages, list) or not all(isinstance(p, str) and p for p in packages):
        raise ShapeError(f"{where}.annotations.packages must be a list of package names")
    labels = [s.get("score") for s in severity if isinstance(s, Mapping) and s.get("method") == "inspector"] \
        if isinstance(severity, list) else []
    if len(labels) != 1 or not isinstance(labels[0], str) or not labels[0]:
        raise ShapeError(f"{where}.severity must hold one inspector score")
    return PriorFinding(_text(raw, "id", where) or "", tuple(packages), labels[0],
                        _day(notes.get("firstSeen"), f"{where}.annotations.firstSeen"))


def load_attested(path: Path, key: str, *, region: str | None = None, profile: str | None = None) -> Baseline:
    """A baseline from a signed decision (`gate check --attest`): only once every signature verifies under `key`.

    Its evidence (the vulns statement) lists every finding with the identity, severity and first
    sighting the ratchet needs; an unsigned or re-signed file could forget a finding, so none is trusted.
    """
    from gate.attestation.keys import load_public_key, parse_key  # noqa: PLC0415 - only a signed baseline
    from gate.attestation.statements import RUN_FIELD  # noqa: PLC0415
    from gate.attestation.verify import read_attested, time_of  # noqa: PLC0415
    from gate.errors import VerificationFailed  # noqa: PLC0415

    ref = parse_key(key, "--baseline-key")
    public = load_public_key(ref, region=region, profile=profile)
    try:
        attested = read_attested(read_bytes(path), public, ref.text)
        decision, evidence = attested.decision, attested.evidence
        run, scanner = evidence["predicate"].get(RUN_FIELD), evidence["predicate"].get("scanner")
        if not isinstance(run, Mapping) or not isinstance(scanner, Mapping) or not isinstance(
                scanner.get("result"), list):
            raise ShapeError(f"the evidence has no {RUN_FIELD} or scanner.result")
        priors = tuple(_attested_prior(raw, f"scanner.result[{i}]") for i, raw in enumerate(scanner["result"]))
        when = time_of(decision["predicate"].get("timeVerified"), "timeVerified")
    except VerificationFailed as e:
        raise InputError(f"--baseline {path}: {e.message}", hint=e.hint) from e
    except ShapeError as e:
        raise InputError(f"--baseline {path}: not a usable gate attestation ({e})", hint=HINT) from e
    build, pipeline = run.get("build"), run.get("pipeline")
    return Baseline(source=str(path), target=build if isinstance(build, str) else None,
                    build=_is_build(build if isinstance(build, str) else None), as_of=when,
                    pipeline=pipeline if isinstance(pipeline, str) else None, findings=priors)


def load_baseline(path: Path) -> Baseline:
    """A baseline file: a gate JSON report or a `gate fetch` snapshot. Anything else is an `InputError` (exit 2)."""
    data = read_bytes(path)
    if data.startswith(b'{"payload":'):
        raise InputError(f"--baseline {path} is a signed attestation: its signature must be checked",
                         hint="pass the key that signed it: --baseline-key kms:KEY or file:PUBLIC.pem")
    try:
        doc = loads_strict(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"--baseline {path}: not JSON, so not a gate report or snapshot ({e})", hint=HINT) from e
    except ValueError as e:  # NOTE: a duplicate key (which copy counts?), a non-finite number, absurd nesting
        raise InputError(f"--baseline {path}: not a document gate wrote ({e})", hint=HINT) from e
    try:
        if not isinstance(doc, dict):
            raise ShapeError("not a JSON object")
        if doc.get("format") == SNAPSHOT_FORMAT:
            gathered = snapshot_from_json(doc)
            fetched = to_utc(doc.get("fetchedAt"))
            if fetched is None:
                raise ShapeError("snapshot without fetchedAt")
            _observed_before(gathered.findings, fetched)
            base = from_findings(gathered.findings, source=str(path), target=gathered.target,
                                 fallback=fetched.date())
            return replace(base, as_of=fetched)
        tool = doc.get("tool")
        if not isinstance(tool, dict) or tool.get("name") != "gate":
            raise ShapeError("neither a gate JSON report (tool.name gate) nor a snapshot")
        return from_report(doc, str(path))
    except (ShapeError, TypeError, AttributeError) as e:
        raise InputError(f"--baseline {path}: not a usable gate report or snapshot ({e})", hint=HINT) from e


SKEW = timedelta(minutes=5)
"""AWS refuses a signed request from a clock further off than this, so a snapshot's times agree within it."""


def _observed_before(findings: Iterable[Finding], fetched: datetime) -> None:
    """No finding of a snapshot was first observed after the snapshot was fetched (that would restart its clock)."""
    for i, f in enumerate(findings):
        if f.first_observed_at is not None and f.first_observed_at > fetched + SKEW:
            raise ShapeError(f"findings[{i}].firstObservedAt {f.first_observed_at.isoformat()} is after the "
                             f"snapshot's fetchedAt {fetched.isoformat()}: it was edited")


def pipeline_of(gathered: Gathered, known: str | None, *, strict: bool = True) -> str | None:
    """The image pipeline of the judged build: as the target was resolved, else as its findings name it."""
    return known or _one((f.image_pipeline_arn for f in gathered.findings), "image pipeline", "the findings",
                         strict=strict)


def build_of(gathered: Gathered, *, strict: bool = True) -> str | None:
    """The image build version judged: the live target, else as its findings name it."""
    return _is_build(gathered.target) or _one((f.image_build_version_arn for f in gathered.findings),
                                              "image build version", "the findings", strict=strict)


def _check_same_lineage(base: Baseline, gathered: Gathered, pipeline: str | None, any_pipeline: bool,
                        now: datetime) -> None:
    if base.as_of is not None and base.as_of > now:
        raise InputError(f"--baseline {base.source} was made {base.as_of.isoformat()}, after this evaluation "
                         f"({now.isoformat()}): it cannot be an earlier build", hint=HINT)
    build = build_of(gathered)
    if build and base.build == build:
        raise InputError(f"--baseline {base.source} is of this same build ({build}): nothing in it could be new",
                         hint="pass the report of the build before this one")
    if any_pipeline:
        return
    if pipeline and base.pipeline and pipeline != base.pipeline:
        raise InputError(f"--baseline {base.source} is a build of {base.pipeline}, not of {pipeline}",
                         hint=OTHER_PIPELINE_HINT)
    # NOTE: a baseline can only hide a finding it lists; with none on either side nothing can be hidden.
    if base.findings and gathered.findings and not (pipeline and base.pipeline):
        unknown = f"--baseline {base.source}" if not base.pipeline else "this build's findings"
        raise InputError(f"cannot tell whether --baseline {base.source} is from this build's pipeline: "
                         f"{unknown} name no image pipeline", hint=OTHER_PIPELINE_HINT)


def compare(base: Baseline, gathered: Gathered, *, pipeline: str | None, any_pipeline: bool,
            now: datetime) -> BaselineInfo:
    """What the judged build shares with the baseline; refuses one of another pipeline, of this build or from later."""
    _check_same_lineage(base, gathered, pipeline, any_pipeline, now)
    first_seen: dict[str, date] = {}
    for prior in base.findings:
        key = prior.identity
        seen = first_seen.get(key)
        first_seen[key] = prior.first_seen if seen is None else min(seen, prior.first_seen)
    present = {f.identity for f in gathered.findings}
    fixed: dict[str, PriorFinding] = {}
    for prior in base.findings:
        key = prior.identity
        if key not in present and key not in fixed:
            fixed[key] = PriorFinding(prior.vulnerability_id, tuple(sorted(set(prior.packages))), prior.severity,
                                      first_seen[key])
    return BaselineInfo(source=base.source, target=base.build or base.target, pipeline=base.pipeline,
                        first_seen=first_seen, fixed=tuple(fixed.values()))
