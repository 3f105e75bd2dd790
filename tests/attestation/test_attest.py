"""A signed decision round-trips: PEM keys and a KMS key in the emulator, the spec's shapes, the data it names."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest
from cryptography.hazmat.primitives import serialization

from gate.cli.main import main
from gate.files import package_folder
from tests.attestation.kit import (
    AS_OF,
    PASSING,
    SCHEMAS,
    SIGNED_AT,
    SOON,
    attest_offline,
    digest_of,
    envelopes,
    pem_pair,
    policy,
    statement,
    verify,
)
from tests.conftest import EXAMPLES
from tests.e2e.seed import IMAGE_ARN, seed_example
from tests.emulator import Emulator


def _schema(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((SCHEMAS / name).read_text()))


@pytest.mark.parametrize("kind", ["ec", "ed25519"])
def test_a_pass_signed_with_a_pem_key_verifies_with_its_public_key(kind: str, isolated_env: Path) -> None:
    secret, public = pem_pair(isolated_env, kind)
    code, out = attest_offline(isolated_env, secret)
    assert code == 0
    assert verify(out, f"file:{public}", "--max-age", "2h",
                  "--policy-digest", digest_of(isolated_env / "policy.yaml")) == 0
    # NOTE: the private key file verifies too (its public half); the run made no AWS call (no endpoint is set).
    assert verify(out, f"file:{secret}") == 0


def test_envelopes_and_predicates_validate_against_the_spec_shapes(isolated_env: Path) -> None:
    secret, _ = pem_pair(isolated_env)
    code, out = attest_offline(isolated_env, secret)
    assert code == 0
    lines = envelopes(out)
    assert len(lines) == 2
    for envelope in lines:
        _schema("dsse-envelope.schema.json").validate(envelope)
        assert envelope["payloadType"] == "application/vnd.in-toto+json"
        _schema("statement-v1.schema.json").validate(statement(envelope))
    decision, evidence = (statement(e) for e in lines)
    assert decision["predicateType"] == "https://slsa.dev/verification_summary/v1"
    _schema("slsa-vsa-v1.schema.json").validate(decision["predicate"])
    assert evidence["predicateType"] == "https://in-toto.io/attestation/vulns/v0.2"
    _schema("vulns-v0.2.schema.json").validate(evidence["predicate"])
    assert decision["subject"] == evidence["subject"] == [
        {"uri": IMAGE_ARN, "digest": {"awsImageBuildVersionArn": IMAGE_ARN}}]


def test_the_decision_names_the_policy_bytes_the_feeds_versions_and_utc_times(isolated_env: Path) -> None:
    secret, _ = pem_pair(isolated_env)
    code, out = attest_offline(isolated_env, secret)
    assert code == 0
    decision, evidence = (statement(e)["predicate"] for e in envelopes(out))
    assert decision["timeVerified"] == SIGNED_AT
    assert decision["verificationResult"] == "PASSED"
    assert decision["policy"]["digest"] == {"sha256": hashlib.sha256(PASSING.encode()).hexdigest()}
    assert decision["policy"]["name"] == "lenient"
    run = evidence["urn:gate:run:v1"]
    versions = {f["name"]: (f["version"], f["asOf"]) for f in run["feeds"]}
    assert versions["CISA KEV"] == ("2025.08.25", "2025-08-25T17:04:19Z")
    assert versions["FIRST EPSS"][0] == "v2025.03.14"
    assert evidence["scanner"]["db"]["lastUpdate"] == "2025-08-25T17:04:19Z"  # the older of the two feeds
    assert len(evidence["scanner"]["result"]) == 347
    first = evidence["scanner"]["result"][0]
    assert set(first["annotations"]) >= {"decision", "packages", "firstSeen"}


def test_a_shipped_policy_is_named_by_the_digest_of_its_file(isolated_env: Path) -> None:
    secret, public = pem_pair(isolated_env)
    out = isolated_env / "a.jsonl"
    assert main(["check", "--findings", str(EXAMPLES / "findings.json"), "--kev-catalog", str(EXAMPLES / "kev.json"),
                 "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"), "--as-of", AS_OF, "--max-feed-age", "460d",
                 "--policy", "default", "--attest", str(out), "--sign-key", f"file:{secret}"]) == 1
    decision = statement(envelopes(out)[0])["predicate"]
    shipped = package_folder("gate.policies") / "default.yaml"
    assert decision["policy"]["digest"]["sha256"] == hashlib.sha256(shipped.read_bytes()).hexdigest()
    assert decision["policy"]["uri"].endswith("#policies/default.yaml")
    assert decision["verificationResult"] == "FAILED"
    assert decision["verifiedLevels"] == ["FAILED"]
    assert verify(out, f"file:{public}") == 1


def _live(emulator: Emulator, isolated_env: Path, monkeypatch: pytest.MonkeyPatch, key: str, out: Path) -> int:
    for name, value in emulator.env().items():
        monkeypatch.setenv(name, value)
    return main(["check", "--image-build-version-arn", IMAGE_ARN, "--kev-catalog", str(EXAMPLES / "kev.json"),
                 "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"), "--as-of", AS_OF, "--max-feed-age", "460d",
                 "--policy", str(policy(isolated_env)), "--attest", str(out), "--sign-key", key])


def test_a_live_pass_signed_in_kms_verifies_for_its_ami_through_kms_and_through_the_pem(
        emulator: Emulator, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_example(emulator)
    key = emulator.add_kms_key(alias="gate-release")
    out = isolated_env / "decision.jsonl"
    assert _live(emulator, isolated_env, monkeypatch, "kms:alias/gate-release", out) == 0
    ami = Emulator.ami_of(IMAGE_ARN)
    subjects = statement(envelopes(out)[0])["subject"]
    assert subjects[0] == {"uri": f"arn:aws:ec2:us-east-1:111122223333:image/{ami}", "name": ami,
                           "digest": {"awsAmiId": ami}}
    assert statement(envelopes(out)[1])["predicate"]["urn:gate:run:v1"]["scanType"] == "TEST_INSTANCE_CVE"
    assert emulator.count("Sign") == 2
    assert verify(out, f"kms:{key.arn}", "--ami", ami, build=None, as_of=SOON) == 0
    pem = isolated_env / "kms.pub"
    pem.write_bytes(serialization.load_der_public_key(key.public_der).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    calls = len(emulator.calls)
    assert verify(out, f"file:{pem}", "--ami", ami, build=None) == 0
    assert len(emulator.calls) == calls  # NOTE: a PEM key verifies with no AWS call at all
    assert emulator.violations == []
