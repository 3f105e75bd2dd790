"""KMS's `json` protocol (`POST /`, `X-Amz-Target: TrentService.<Op>`) and its Sign, Verify and GetPublicKey.

Keys are real: an ECC_NIST_P256 key signs with pyca/cryptography, so a signature the emulator makes
verifies anywhere. Blobs travel as base64 text, as the json protocol sends them; requests are
decoded through botocore's model (an unknown member is a violation) and answers are checked
against it like every other emulated service's.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.model import OperationModel, Shape, StructureShape
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from .errors import ApiError
from .store import State
from .wire import DecodeError, service_model

SERVICE = "kms"
TARGET = "TrentService."
SPEC = "ECC_NIST_P256"
ALGORITHM = "ECDSA_SHA_256"
MAX_MESSAGE = 4096
"""The largest RAW message Sign and Verify take (the API reference; the model does not carry it)."""

Handler = Callable[[State, dict[str, Any]], dict[str, Any]]


@dataclass
class KmsKey:
    """One asymmetric key: its ids, whether it may sign, and (for a signing key) its private half."""

    key_id: str
    arn: str
    private: ec.EllipticCurvePrivateKey
    usage: str = "SIGN_VERIFY"
    enabled: bool = True
    aliases: list[str] = field(default_factory=list)
    sign_with: ec.EllipticCurvePrivateKey | None = None
    """A fault: Sign answers with this other key's signatures (key material that is not the public key's)."""

    @property
    def public_der(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)


def new_key(region: str, account: str, *, usage: str = "SIGN_VERIFY", enabled: bool = True,
            alias: str | None = None) -> KmsKey:
    key_id = str(uuid.uuid4())
    key = KmsKey(key_id, f"arn:aws:kms:{region}:{account}:key/{key_id}", ec.generate_private_key(ec.SECP256R1()),
                 usage=usage, enabled=enabled)
    if alias:
        key.aliases.append(alias if alias.startswith("alias/") else f"alias/{alias}")
    return key


def is_json(headers: Mapping[str, str]) -> str | None:
    """The operation name of a `TrentService.<Op>` request, else None."""
    target = next((v for k, v in headers.items() if k.lower() == "x-amz-target"), "")
    return target[len(TARGET):] if target.startswith(TARGET) else None


def _blobs(value: Any, shape: Shape, path: str) -> Any:
    """Base64 members of the request decoded to bytes, as botocore's validator and the handlers expect."""
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        return {k: _blobs(v, shape.members[k], f"{path}.{k}") if k in shape.members else v for k, v in value.items()}
    if shape.type_name == "blob":
        if not isinstance(value, str):
            raise DecodeError(f"{path}: a blob must be base64 text")
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DecodeError(f"{path}: not base64") from exc
    return value


def decode(operation: str, body: bytes) -> tuple[OperationModel, dict[str, Any]]:
    """The operation and its parameters, blobs as bytes; an unknown operation or non-JSON body is a DecodeError."""
    model = service_model(SERVICE)
    if operation not in model.operation_names:
        raise DecodeError(f"KMS has no operation {operation!r}")
    op = model.operation_model(operation)
    try:
        document = json.loads(body or b"{}")
    except ValueError as exc:
        raise DecodeError("request body is not JSON") from exc
    if not isinstance(document, dict):
        raise DecodeError("request body is not a JSON object")
    assert op.input_shape is not None
    return op, _blobs(document, op.input_shape, "")


def _error(code: str, message: str) -> ApiError:
    return ApiError(code, message, status=400, body={"__type": code})


def find(state: State, key_id: str) -> KmsKey:
    """A key by id, key ARN, alias name or alias ARN, as KMS resolves `KeyId`."""
    with state.store.lock:
        for key in state.store.kms_keys.values():
            names = {key.key_id, key.arn, *key.aliases}
            names.update(f"{key.arn.rsplit(':', 1)[0]}:{alias}" for alias in key.aliases)
            if key_id in names:
                return key
    raise _error("NotFoundException", f"Key '{key_id}' does not exist")


def _usable(key: KmsKey, *, signing: bool) -> None:
    if not key.enabled:
        raise _error("DisabledException", f"{key.arn} is disabled.")
    if signing and key.usage != "SIGN_VERIFY":
        raise _error("InvalidKeyUsageException", f"{key.arn} key usage is {key.usage} which is not valid for Sign.")


def _algorithm(message: bytes, params: Mapping[str, Any]) -> ec.ECDSA:
    if params["SigningAlgorithm"] != ALGORITHM:
        raise _error("InvalidKeyUsageException", f"Algorithm {params['SigningAlgorithm']} is incompatible with key "
                     f"spec {SPEC}.")
    if params.get("MessageType", "RAW") == "DIGEST":
        if len(message) != 32:
            raise _error("ValidationException", "Digest is invalid length for algorithm ECDSA_SHA_256.")
        return ec.ECDSA(Prehashed(hashes.SHA256()))
    if len(message) > MAX_MESSAGE:
        raise _error("ValidationException", f"Message is longer than {MAX_MESSAGE} bytes; sign a DIGEST instead.")
    return ec.ECDSA(hashes.SHA256())


def get_public_key(state: State, params: dict[str, Any]) -> dict[str, Any]:
    key = find(state, params["KeyId"])
    _usable(key, signing=False)
    algorithms = {"SigningAlgorithms": [ALGORITHM]} if key.usage == "SIGN_VERIFY" else {}
    return {"KeyId": key.arn, "PublicKey": key.public_der, "CustomerMasterKeySpec": SPEC, "KeySpec": SPEC,
            "KeyUsage": key.usage, **algorithms}


def sign(state: State, params: dict[str, Any]) -> dict[str, Any]:
    key = find(state, params["KeyId"])
    _usable(key, signing=True)
    message: bytes = params["Message"]
    signature = (key.sign_with or key.private).sign(message, _algorithm(message, params))
    return {"KeyId": key.arn, "Signature": signature, "SigningAlgorithm": ALGORITHM}


def verify(state: State, params: dict[str, Any]) -> dict[str, Any]:
    key = find(state, params["KeyId"])
    _usable(key, signing=True)
    message: bytes = params["Message"]
    try:
        key.private.public_key().verify(params["Signature"], message, _algorithm(message, params))
    except InvalidSignature:
        raise _error("KMSInvalidSignatureException", "The signature is not valid.") from None
    return {"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": ALGORITHM}


HANDLERS: dict[str, Handler] = {"GetPublicKey": get_public_key, "Sign": sign, "Verify": verify}
