"""The emulated KMS answers as botocore's model says, with real signatures and KMS's own errors."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.emulator import Emulator, Faults


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_sign_digest_and_raw_verify_with_the_public_key_it_hands_out(emulator: Emulator) -> None:
    key = emulator.add_kms_key(alias="release")
    kms = emulator.client("kms")
    public = serialization.load_der_public_key(kms.get_public_key(KeyId="alias/release")["PublicKey"])
    assert isinstance(public, ec.EllipticCurvePublicKey)
    digest = hashlib.sha256(b"decision").digest()
    signed = kms.sign(KeyId=key.arn, Message=digest, MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")
    public.verify(signed["Signature"], b"decision", ec.ECDSA(hashes.SHA256()))  # raises if it does not verify
    raw = kms.sign(KeyId=key.key_id, Message=b"decision", SigningAlgorithm="ECDSA_SHA_256")
    assert kms.verify(KeyId=key.key_id, Message=b"decision", Signature=raw["Signature"],
                      SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"] is True
    with pytest.raises(ClientError) as bad:
        kms.verify(KeyId=key.key_id, Message=b"other", Signature=raw["Signature"], SigningAlgorithm="ECDSA_SHA_256")
    assert _code(bad) == "KMSInvalidSignatureException"
    assert emulator.violations == []


@pytest.mark.parametrize(("setup", "code"), [
    ("disabled", "DisabledException"),
    ("encrypt-decrypt", "InvalidKeyUsageException"),
    ("denied", "AccessDeniedException"),
    ("unknown", "NotFoundException"),
    ("long-raw", "ValidationException"),
    ("short-digest", "ValidationException"),
])
def test_faults_answer_with_kms_errors(setup: str, code: str, emulator: Emulator) -> None:
    key = emulator.add_kms_key(enabled=setup != "disabled",
                               usage="ENCRYPT_DECRYPT" if setup == "encrypt-decrypt" else "SIGN_VERIFY")
    if setup == "denied":
        emulator.faults = Faults(forbidden=frozenset({"Sign"}))
    message, kind = b"x", "RAW"
    if setup == "long-raw":
        message = b"x" * 4097
    if setup == "short-digest":
        kind = "DIGEST"
    with pytest.raises(ClientError) as error:
        emulator.client("kms").sign(KeyId="alias/none" if setup == "unknown" else key.key_id, Message=message,
                                    MessageType=kind, SigningAlgorithm="ECDSA_SHA_256")
    assert _code(error) == code
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert emulator.violations == []


def test_an_unknown_member_is_a_request_violation(emulator: Emulator) -> None:

    request = urllib.request.Request(emulator.url + "/", data=json.dumps({"KeyId": "k", "Bogus": 1}).encode(),
                                     headers={"X-Amz-Target": "TrentService.GetPublicKey",
                                              "Content-Type": "application/x-amz-json-1.1"}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request)
    error.value.close()
    assert error.value.code == 400
    assert [v.kind for v in emulator.violations] == ["request"]
