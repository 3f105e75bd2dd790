"""Does a signed decision say what a release needs? Signature, subject, result, age and policy, in that order.

Each check that fails is a `VerificationFailed` (exit 1) naming the first reason; a file that is not
gate's JSON Lines of DSSE envelopes is a `ShapeError` (the caller's exit 2). Every envelope verifies on
its own, so the file is read as a whole: exactly the decision, then the evidence that names it by digest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from gate.attestation.envelopes import read, signed_by
from gate.attestation.statements import (
    AMI_DIGEST,
    BOUND_TO,
    BUILD_DIGEST,
    PASSED,
    RUN_FIELD,
    VERIFIER_ID,
    VSA_TYPE,
    VULNS_TYPE,
    digest_of,
)
from gate.errors import ShapeError, VerificationFailed
from gate.timeutil import to_utc

if TYPE_CHECKING:
    from securesystemslib.signer import SSlibKey

FUTURE_SLACK = timedelta(minutes=5)
"""Clocks of the signing runner and the verifier differ a little; more than this ahead is refused."""
_Z_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z")
POLICY_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")


@dataclass(frozen=True)
class Ask:
    """What the verifier needs to hold."""

    now: datetime
    ami: str | None = None
    build: str | None = None
    max_age: timedelta | None = None
    policy_digest: str | None = None
    """Lower-case hex sha256, without the `sha256:` prefix."""


@dataclass(frozen=True)
class Decision:
    """The verified decision: what a caller may print."""

    subject: str
    policy: str
    policy_digest: str | None
    time_verified: datetime
    attested: Attested


def _require(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, str | dict | list) and not value and kind is not list):
        raise ShapeError(f"{where} must be a non-empty {kind.__name__}")
    return value


def time_of(value: Any, where: str) -> datetime:
    """An in-toto Timestamp: RFC 3339 in UTC with `Z`."""
    if not isinstance(value, str) or not _Z_TIME.fullmatch(value):
        raise ShapeError(f"{where} {str(value)[:40]!r} is not an RFC 3339 UTC time ending in Z")
    when = to_utc(value)
    if when is None:
        raise ShapeError(f"{where} is empty")
    return when


def vsa_shape(predicate: Mapping[str, Any]) -> None:
    """The fields SLSA VSA v1 requires, with their types."""
    verifier = _require(_require(predicate.get("verifier"), dict, "verifier").get("id"), str, "verifier.id")
    if verifier != VERIFIER_ID:
        raise ShapeError(f"verifier.id {verifier[:60]!r} is not gate ({VERIFIER_ID})")
    time_of(predicate.get("timeVerified"), "timeVerified")
    _require(predicate.get("resourceUri"), str, "resourceUri")
    _require(_require(predicate.get("policy"), dict, "policy").get("uri"), str, "policy.uri")
    if predicate.get("verificationResult") not in ("PASSED", "FAILED"):
        raise ShapeError("verificationResult must be PASSED or FAILED")
    levels = predicate.get("verifiedLevels")
    if not isinstance(levels, list) or not all(isinstance(v, str) for v in levels):
        raise ShapeError("verifiedLevels must be a list of strings")


@dataclass(frozen=True)
class Attested:
    """The file's two statements, once every signature verified and the evidence is the decision's own."""

    decision: dict[str, Any]
    evidence: dict[str, Any]


def read_attested(data: bytes, key: SSlibKey, key_text: str) -> Attested:
    """The decision and its evidence: every envelope signed by `key`, in gate's order, tied by digest."""
    envelopes = read(data)
    for signed in envelopes:
        if not signed_by(signed, key):
            raise VerificationFailed(f"line {signed.line}: no signature verifies under {key_text} (the file "
                                     "was changed after signing, or another key signed it)",
                                     hint="verify with the key that signed it; never trust an unverified copy")
    if len(envelopes) != 2:
        raise ShapeError(f"{len(envelopes)} envelopes; gate's attestation holds two: the decision, then its evidence")
    first, second = envelopes
    decision, evidence = first.statement(), second.statement()
    if decision["predicateType"] != VSA_TYPE or evidence["predicateType"] != VULNS_TYPE:
        raise ShapeError(f"line 1 must be the decision ({VSA_TYPE}) and line 2 its evidence ({VULNS_TYPE})")
    vsa_shape(decision["predicate"])
    if evidence["subject"] != decision["subject"]:
        raise ShapeError("the evidence names other subjects than the decision")
    run = evidence["predicate"].get(RUN_FIELD)
    bound = run.get(BOUND_TO) if isinstance(run, dict) else None
    if not isinstance(bound, dict) or bound.get("sha256") != digest_of(first.payload):
        raise ShapeError(f"the evidence is not this decision's: its {RUN_FIELD} {BOUND_TO}.sha256 is not the "
                         "digest of line 1 (lines of two runs were put together)")
    return Attested(decision, evidence)


def _named(subjects: list[dict[str, Any]], ask: Ask) -> str | None:
    """The subject naming the asked-for AMI or build by its DigestSet, exactly: the signed identity, never a
    `uri` (whose last part, or prefix, could name another AMI)."""
    for subject in subjects:
        digest = subject["digest"]
        if ask.ami and digest.get(AMI_DIGEST) == ask.ami:
            return str(subject.get("uri") or ask.ami)
        if ask.build and digest.get(BUILD_DIGEST) == ask.build:
            return ask.build
    return None


def check(attested: Attested, ask: Ask) -> Decision:
    """The decision, if it lets the asked-for image go at `ask.now`; else `VerificationFailed` with the reason."""
    vsa = attested.decision
    predicate: dict[str, Any] = vsa["predicate"]
    wanted = ask.ami or ask.build or ""
    subject = _named(vsa["subject"], ask)
    if subject is None:
        raise VerificationFailed(f"{wanted} is not a subject of the attestation",
                                 hint="it was signed for another image or build")
    if predicate["verificationResult"] != PASSED:
        raise VerificationFailed(f"the decision for {wanted} is {predicate['verificationResult']}")
    when = time_of(predicate["timeVerified"], "timeVerified")
    if when > ask.now + FUTURE_SLACK:
        raise VerificationFailed(f"timeVerified {predicate['timeVerified']} is in the future "
                                 f"(now {ask.now.isoformat()})", hint="check the signer's clock and --as-of")
    if ask.max_age is not None and ask.now - when > ask.max_age:
        raise VerificationFailed(f"the decision of {predicate['timeVerified']} is older than --max-age "
                                 f"({ask.now - when} > {ask.max_age})", hint="run gate check again and sign anew")
    policy = predicate["policy"]
    digest = policy.get("digest", {}).get("sha256") if isinstance(policy.get("digest"), dict) else None
    if ask.policy_digest is not None and digest != ask.policy_digest:
        raise VerificationFailed(f"the policy digest is sha256:{str(digest)[:64]}, not sha256:{ask.policy_digest}",
                                 hint="the decision was made under another policy file")
    return Decision(subject=subject, policy=str(policy.get("name") or policy["uri"]),
                    policy_digest=digest if isinstance(digest, str) else None, time_verified=when,
                    attested=attested)
