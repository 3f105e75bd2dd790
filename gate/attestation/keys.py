"""Keys for signing and verifying: `kms:KEY` (AWS KMS, ECC_NIST_P256) or `file:PATH` (PEM, P-256 or Ed25519).

The cryptography is securesystemslib's and pyca/cryptography's (the libraries in-toto and TUF sign
with); gate only reads key files and asks KMS. KMS signs through gate's own AWS session, so
`--region`/`--profile`, retries and error messages are those of every other AWS call: the DSSE
bytes are hashed here and KMS signs the digest (`MessageType DIGEST`), as securesystemslib's own
AWS signer does, so a payload of any size fits KMS's 4 KiB message limit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.errors import ActionError, InputError, UsageError
from gate.files import read_raw

if TYPE_CHECKING:
    from securesystemslib.signer import Signature, Signer, SSlibKey

KMS_SPEC = "ECC_NIST_P256"
KMS_ALGORITHM = "ECDSA_SHA_256"
MAX_KEY_BYTES = 64 * 1024
FORMS = "kms:KEY_ID_OR_ARN_OR_ALIAS or file:PATH"


@dataclass(frozen=True)
class KeyRef:
    """A key as the command line names it."""

    scheme: str
    """`kms` or `file`."""
    value: str
    option: str
    """The option it came from, for messages."""

    @property
    def text(self) -> str:
        return f"{self.scheme}:{self.value}"

    @property
    def region(self) -> str | None:
        """The region a KMS key ARN (or alias ARN) names; None for a bare id or alias."""
        parts = self.value.split(":")
        return parts[3] if self.scheme == "kms" and len(parts) > 5 and parts[0] == "arn" and parts[3] else None


def parse_key(text: str, option: str) -> KeyRef:
    """`kms:…` or `file:…`; anything else is a `UsageError` naming both forms."""
    scheme, sep, value = text.partition(":")
    if not sep or scheme not in ("kms", "file") or not value.strip() or value != value.strip():
        raise UsageError(f"{option} {text[:80]!r} is not a key", hint=f"give {FORMS}")
    return KeyRef(scheme, value, option)


def _pem(ref: KeyRef) -> bytes:
    path = Path(ref.value)
    data = read_raw(path)
    if len(data) > MAX_KEY_BYTES:
        raise InputError(f"{ref.option} {path}: larger than a PEM key can be")
    return data


def _supported(key: Any, ref: KeyRef) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: PLC0415

    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) and isinstance(key.curve,
                                                                                              ec.SECP256R1):
        return
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return
    raise InputError(f"{ref.option} {ref.value}: a {type(key).__name__.lstrip('_')} key; gate signs with ECDSA "
                     "P-256 or Ed25519 only", hint="generate one with `openssl genpkey -algorithm ed25519`")


def file_signer(ref: KeyRef) -> Signer:
    """A signer for a PEM private key (PKCS#8 or traditional, unencrypted)."""
    from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from securesystemslib.signer import CryptoSigner  # noqa: PLC0415

    data = _pem(ref)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError as e:  # NOTE: cryptography's word for "this key is encrypted"
        raise InputError(f"{ref.option} {ref.value}: the private key is encrypted",
                         hint="give an unencrypted PEM key (kept as a CI secret), or use a KMS key") from e
    except (ValueError, UnsupportedAlgorithm) as e:
        raise InputError(f"{ref.option} {ref.value}: not a PEM private key ({_first_line(e)})",
                         hint="give a PEM private key: -----BEGIN PRIVATE KEY-----") from e
    _supported(key, ref)
    return CryptoSigner(key)


def file_public_key(ref: KeyRef) -> SSlibKey:
    """The public key of a PEM file: a public key, or the public half of a private key."""
    from cryptography.exceptions import UnsupportedAlgorithm  # noqa: PLC0415
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from securesystemslib.signer import SSlibKey  # noqa: PLC0415

    data = _pem(ref)
    try:
        if b"PRIVATE KEY-----" in data:
            public: Any = serialization.load_pem_private_key(data, password=None).public_key()
        else:
            public = serialization.load_pem_public_key(data)
    except (TypeError, ValueError, UnsupportedAlgorithm) as e:
        raise InputError(f"{ref.option} {ref.value}: not a PEM public key ({_first_line(e)})",
                         hint="give the PEM public key: -----BEGIN PUBLIC KEY-----") from e
    _supported(public, ref)
    return SSlibKey.from_crypto(public)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:120] if text else type(error).__name__


class Kms:
    """One KMS key through gate's AWS session: its public key (GetPublicKey) and signatures (Sign)."""

    def __init__(self, ref: KeyRef, *, region: str | None = None, profile: str | None = None) -> None:
        from gate.aws.retry import Caller  # noqa: PLC0415
        from gate.aws.session import client_config, make_session  # noqa: PLC0415

        self.ref = ref
        session = make_session(ref.region or region, profile)
        try:
            self._client: Any = session.client("kms", config=client_config(max_pool=1, retry_mode="standard",
                                                                           max_attempts=4))
        except ValueError as e:  # e.g. AWS_ENDPOINT_URL_KMS is no URL
            raise UsageError(f"cannot create the KMS client: {e}",
                             hint="check --region and the AWS_* environment variables") from e
        self._call = Caller()

    def public_key(self) -> SSlibKey:
        """The key's public half, refused unless it is an ECC_NIST_P256 signing key that offers ECDSA_SHA_256."""
        from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
        from securesystemslib.signer import SSlibKey  # noqa: PLC0415

        answer = self._call("kms:GetPublicKey", partial(self._client.get_public_key, KeyId=self.ref.value))
        spec, usage = answer.get("KeySpec"), answer.get("KeyUsage")
        if spec != KMS_SPEC or usage != "SIGN_VERIFY" or KMS_ALGORITHM not in (answer.get("SigningAlgorithms") or []):
            raise UsageError(f"{self.ref.option} {self.ref.text} is a {spec} key for {usage}, not an {KMS_SPEC} "
                             f"SIGN_VERIFY key with {KMS_ALGORITHM}",
                             hint="create the key with --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY")
        try:
            public = serialization.load_der_public_key(answer["PublicKey"])
        except (KeyError, TypeError, ValueError) as e:
            raise ActionError(f"kms:GetPublicKey for {self.ref.text} gave no usable public key "
                              f"({_first_line(e)})") from e
        return SSlibKey.from_crypto(public)

    def sign_digest(self, digest: bytes) -> bytes:
        answer = self._call("kms:Sign", partial(self._client.sign, KeyId=self.ref.value, Message=digest,
                                                MessageType="DIGEST", SigningAlgorithm=KMS_ALGORITHM))
        signature = answer.get("Signature")
        if not isinstance(signature, bytes) or not signature:
            raise ActionError(f"kms:Sign for {self.ref.text} answered without a signature")
        return signature

    def close(self) -> None:
        self._client.close()


def kms_signer(kms: Kms) -> Signer:
    """A securesystemslib `Signer` whose private half stays in KMS."""
    from securesystemslib.signer import Signature, Signer  # noqa: PLC0415

    class KmsSigner(Signer):
        def __init__(self, public: SSlibKey) -> None:
            self._public = public

        @property
        def public_key(self) -> SSlibKey:
            return self._public

        @classmethod
        def from_priv_key_uri(cls, priv_key_uri: str, public_key: Any, secrets_handler: Any = None) -> Signer:
            raise NotImplementedError("made by gate.attestation.keys.kms_signer only")

        def sign(self, payload: bytes) -> Signature:
            return Signature(self._public.keyid, kms.sign_digest(hashlib.sha256(payload).digest()).hex())

    return KmsSigner(kms.public_key())


def load_signer(ref: KeyRef, *, region: str | None = None, profile: str | None = None) -> Signer:
    """The signer `ref` names; a KMS key is asked for its public key now, before anything is judged."""
    if ref.scheme == "file":
        return file_signer(ref)
    return kms_signer(Kms(ref, region=region, profile=profile))


def load_public_key(ref: KeyRef, *, region: str | None = None, profile: str | None = None) -> SSlibKey:
    """The public key to verify with: a PEM file (no AWS call), or KMS's GetPublicKey."""
    if ref.scheme == "file":
        return file_public_key(ref)
    kms = Kms(ref, region=region, profile=profile)
    try:
        return kms.public_key()
    finally:
        kms.close()

