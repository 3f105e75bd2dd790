"""The two in-toto Statement v1 documents gate signs: the decision (SLSA VSA v1) and its evidence (vulns v0.2).

An AMI has no content digest, so a subject's DigestSet carries the immutable id under a documented
custom key (docs/attestation.md): `awsAmiId` for an AMI, `awsImageBuildVersionArn` for a build version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from gate import __version__
from gate.files import package_folder
from gate.outcome import Evaluation, FindingResult
from gate.timeutil import utc
from gate.vocab import AMI_ARN

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
VSA_TYPE = "https://slsa.dev/verification_summary/v1"
VULNS_TYPE = "https://in-toto.io/attestation/vulns/v0.2"
VERIFIER_ID = "pkg:generic/gate"
"""A package URL naming gate (a URI, as `verifier.id` and `scanner.uri` must be); the version is beside it."""
AMI_DIGEST = "awsAmiId"
"""DigestSet key for an AMI: the AMI id as EC2 prints it (`ami-` and hex), immutable for the AMI's life."""
BUILD_DIGEST = "awsImageBuildVersionArn"
"""DigestSet key for an image build version: its full ARN, which never names another build."""
RUN_FIELD = "urn:gate:run:v1"
"""Extension field of the vulns predicate: the run's target, verdict, scan type and every feed with its version."""
BOUND_TO = "decision"
"""Field of RUN_FIELD: the sha256 of the decision's payload bytes, so the evidence of one run is never read
beside another run's decision (every envelope verifies on its own; this ties the two together)."""
PASSED, FAILED = "PASSED", "FAILED"


def payload_bytes(statement: Mapping[str, Any]) -> bytes:
    """The statement as compact, sorted, ASCII-only JSON: the bytes that are signed."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def digest_of(payload: bytes) -> str:
    """The `sha256` hex of a payload as signed: what the evidence names its decision by."""
    return hashlib.sha256(payload).hexdigest()


class NoSubject(ValueError):
    """The run names no build version and no AMI: a statement needs at least one subject."""


def timestamp(value: datetime) -> str:
    """in-toto's Timestamp form: RFC 3339 in UTC with `Z` (never `+00:00`), to the second."""
    return utc(value).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def subjects(evaluation: Evaluation) -> list[dict[str, Any]]:
    """Each output AMI, then the build version: what a verifier may ask about."""
    found: list[dict[str, Any]] = []
    for arn in evaluation.output_ami_arns:
        match = AMI_ARN.fullmatch(arn)
        if match is None:  # NOTE: `…/image/ami-x/ami-y` would name ami-y to any reader of the ARN's last part
            raise ValueError(f"the output AMI {arn[:160]!r} is not an AMI id in an EC2 image ARN "
                             "(arn:aws:ec2:REGION:ACCOUNT:image/ami-…), so no subject could name it exactly")
        found.append({"uri": arn, "name": match["ami"], "digest": {AMI_DIGEST: match["ami"]}})
    if evaluation.build:
        found.append({"uri": evaluation.build, "digest": {BUILD_DIGEST: evaluation.build}})
    if not found:
        raise NoSubject("the run names no image build version and no output AMI, so a statement would have "
                        "no subject")
    return found


def _policy(evaluation: Evaluation) -> dict[str, Any]:
    path = Path(evaluation.policy_source)
    try:
        shipped = path.resolve().parent == package_folder("gate.policies").resolve()
    except (OSError, ValueError):
        shipped = False
    uri = f"{VERIFIER_ID}@{__version__}#policies/{path.name}" if shipped else path.resolve().as_uri()
    descriptor: dict[str, Any] = {"uri": uri, "name": evaluation.policy_name}
    if evaluation.policy_digest:
        descriptor["digest"] = {"sha256": evaluation.policy_digest}
    return descriptor


def _when(evaluation: Evaluation) -> datetime:
    if evaluation.evaluated_at is None:
        raise ValueError("the evaluation has no time")
    return evaluation.evaluated_at


def decision(evaluation: Evaluation, passed: bool) -> dict[str, Any]:
    """The VSA statement: who decided, when, about what, under which policy file, and the answer."""
    named = subjects(evaluation)
    return {
        "_type": STATEMENT_TYPE,
        "subject": named,
        "predicateType": VSA_TYPE,
        "predicate": {
            "verifier": {"id": VERIFIER_ID, "version": {"gate": __version__}},
            "timeVerified": timestamp(_when(evaluation)),
            "resourceUri": named[-1]["uri"],  # NOTE: the build version when known, else the (only) AMI
            "policy": _policy(evaluation),
            "verificationResult": PASSED if passed else FAILED,
            # NOTE: gate checks no SLSA track; VSA v1 says a failed verification lists "FAILED".
            "verifiedLevels": [] if passed else [FAILED],
        },
    }


def _first_seen(result: FindingResult, fallback: date) -> date:
    if result.first_seen is not None:
        return result.first_seen
    observed = result.finding.first_observed_at
    return utc(observed).date() if observed is not None else fallback


def _result(result: FindingResult, fallback: date) -> dict[str, Any]:
    finding = result.finding
    severity = [{"method": "inspector", "score": finding.severity}]
    if finding.best_cvss is not None:
        severity.append({"method": "cvss_score", "score": f"{finding.best_cvss:g}"})
    annotations: dict[str, Any] = {
        "decision": result.decision.value,
        "packages": sorted(set(finding.package_names)),
        "firstSeen": _first_seen(result, fallback).isoformat(),
        "rules": [m.rule_id for m in result.matches],
    }
    if result.baseline is not None:
        annotations["baseline"] = result.baseline.value
    return {"id": finding.vulnerability_id, "severity": severity, "annotations": annotations}


def _feeds(evaluation: Evaluation) -> list[dict[str, Any]]:
    return [{"name": f.name, "source": f.source, "version": f.version,
             "asOf": timestamp(f.as_of) if f.as_of else None} for f in evaluation.feeds]


def _db(evaluation: Evaluation, fallback: datetime) -> dict[str, Any]:
    """vulns v0.2 has one `db`: gate's feeds as one, dated by the oldest (the most conservative statement)."""
    dated = [f.as_of for f in evaluation.feeds if f.as_of is not None]
    versions = [f"{f.name} {f.version}" for f in evaluation.feeds if f.version]
    db: dict[str, Any] = {"uri": f"{VERIFIER_ID}#feeds", "lastUpdate": timestamp(min(dated) if dated else fallback)}
    if versions:
        db["version"] = "; ".join(versions)
    return db


def evidence(evaluation: Evaluation, passed: bool, decided: bytes) -> dict[str, Any]:
    """The vulns statement: every finding with its severity and gate's decision, and the data behind them.

    `decided`: the decision's payload bytes, named by digest so that a reader can tell this run's evidence.
    """
    when = _when(evaluation)
    return {
        "_type": STATEMENT_TYPE,
        "subject": subjects(evaluation),
        "predicateType": VULNS_TYPE,
        "predicate": {
            "scanner": {
                "uri": f"{VERIFIER_ID}@{__version__}",
                "version": __version__,
                "db": _db(evaluation, when),
                "result": [_result(r, utc(when).date()) for r in evaluation.results],
            },
            # NOTE: gate's reading of the findings; Inspector's own scan time is not in what it reads.
            "metadata": {"scanStartedOn": timestamp(when), "scanFinishedOn": timestamp(when)},
            RUN_FIELD: {
                "target": evaluation.target,
                "build": evaluation.build,
                "pipeline": evaluation.pipeline,
                "scanType": evaluation.scan_type,
                "verdict": evaluation.verdict.value,
                "result": PASSED if passed else FAILED,
                "policy": evaluation.policy_name,
                "feeds": _feeds(evaluation),
                BOUND_TO: {"sha256": digest_of(decided)},
            },
        },
    }


def statements(evaluation: Evaluation, passed: bool) -> Sequence[Mapping[str, Any]]:
    """The decision first, then its evidence: the order the file holds them in."""
    made = decision(evaluation, passed)
    return (made, evidence(evaluation, passed, payload_bytes(made)))
