"""DSSE envelopes, one JSON line each: signing a statement, reading a file strictly, checking a signature.

The signature covers DSSE's PAE of the payload's bytes (securesystemslib's `Envelope`), so a reader
checks the signature on the bytes as stored before it parses them at all. Lines and payloads are read
strictly (`jsondocs.loads_strict`: no duplicate key, no non-finite number, no absurd nesting) and an
envelope holds only DSSE's fields: two readers of one file must never see two different documents.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gate.attestation.statements import PAYLOAD_TYPE, STATEMENT_TYPE, payload_bytes
from gate.errors import ShapeError
from gate.jsondocs import loads_strict

if TYPE_CHECKING:
    from securesystemslib.signer import Signer, SSlibKey

_STANDARD = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_URLSAFE = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_PAYLOAD_TYPES = re.compile(r"application/vnd\.in-toto(\.[A-Za-z0-9._-]+)?\+json")
_HEX = {"sha256": 64, "sha384": 96, "sha512": 128, "sha1": 40}
MAX_ENVELOPES = 16
_ENVELOPE_FIELDS = frozenset({"payload", "payloadType", "signatures"})
_SIGNATURE_FIELDS = frozenset({"sig", "keyid"})


class Unsigned(Exception):
    """The signature just made does not verify under the signer's own public key: nothing is written."""


def sign(statement: Mapping[str, Any], signer: Signer) -> bytes:
    """One envelope as a JSON line (without its LF), its signature checked before it is returned."""
    from securesystemslib.dsse import Envelope  # noqa: PLC0415
    from securesystemslib.exceptions import UnverifiedSignatureError, VerificationError  # noqa: PLC0415

    envelope = Envelope(payload_bytes(statement), PAYLOAD_TYPE, {})
    signature = envelope.sign(signer)
    try:
        signer.public_key.verify_signature(signature, envelope.pae())
    except (UnverifiedSignatureError, VerificationError) as e:
        raise Unsigned("the signature made does not verify under the signing key's public key") from e
    return json.dumps(envelope.to_dict(), separators=(",", ":"), ensure_ascii=True).encode("ascii")


@dataclass(frozen=True)
class Signed:
    """One envelope read back: where it was, what it carries (not yet parsed), and its signatures."""

    line: int
    payload: bytes
    payload_type: str
    signatures: tuple[bytes, ...]

    def statement(self) -> dict[str, Any]:
        """The payload as an in-toto Statement v1; `ShapeError` names what is wrong."""
        try:
            doc = loads_strict(self.payload.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise ShapeError(f"line {self.line}: the payload is not JSON ({e})") from e
        _statement_shape(doc, f"line {self.line}")
        return dict(doc)


def _b64(value: Any, where: str) -> bytes:
    """Standard or URL-safe base64, as DSSE allows; anything else is a `ShapeError`."""
    if not isinstance(value, str) or not value:
        raise ShapeError(f"{where} must be a non-empty base64 string")
    urlsafe = not _STANDARD.fullmatch(value)
    if urlsafe and not _URLSAFE.fullmatch(value):
        raise ShapeError(f"{where} is not base64")
    padded = value + "=" * (-len(value) % 4)
    try:
        return (base64.urlsafe_b64decode if urlsafe else base64.b64decode)(padded)
    except (binascii.Error, ValueError) as e:
        raise ShapeError(f"{where} is not base64 ({e})") from e


def _envelope(doc: Any, line: int) -> Signed:
    where = f"line {line}"
    if not isinstance(doc, dict):
        raise ShapeError(f"{where} is not a DSSE envelope (a JSON object)")
    _only(doc, _ENVELOPE_FIELDS, where)
    payload_type, sigs = doc.get("payloadType"), doc.get("signatures")
    if not isinstance(payload_type, str) or not _PAYLOAD_TYPES.fullmatch(payload_type):
        raise ShapeError(f"{where}: payloadType {str(payload_type)[:60]!r} is not {PAYLOAD_TYPE}")
    if not isinstance(sigs, list) or not sigs or len(sigs) > MAX_ENVELOPES:
        raise ShapeError(f"{where}: signatures must be a non-empty list")
    found: list[bytes] = []
    for i, sig in enumerate(sigs):
        if not isinstance(sig, dict) or not isinstance(sig.get("keyid", ""), str):
            raise ShapeError(f"{where}: signatures[{i}] must be an object with sig and an optional keyid string")
        _only(sig, _SIGNATURE_FIELDS, f"{where}: signatures[{i}]")
        found.append(_b64(sig.get("sig"), f"{where}: signatures[{i}].sig"))
    return Signed(line, _b64(doc.get("payload"), f"{where}: payload"), payload_type, tuple(found))


def _only(doc: Mapping[str, Any], fields: frozenset[str], where: str) -> None:
    """DSSE's fields and no others: an unsigned field beside the signed ones could say anything to another reader."""
    extra = sorted(set(doc) - fields)
    if extra:
        raise ShapeError(f"{where}: field {extra[0][:40]!r} is not DSSE's ({', '.join(sorted(fields))})")


def read(data: bytes) -> tuple[Signed, ...]:
    """Every envelope of a JSON Lines file; `ShapeError` for anything else (blank lines, a cut line, …)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ShapeError(f"not UTF-8 ({e})") from e
    if "\r" in text:
        raise ShapeError("a carriage return: gate writes LF line ends only, so the file was changed (CRLF checkout?)")
    if not text.endswith("\n"):
        raise ShapeError("the last line has no line end: the file was cut short")
    lines = text[:-1].split("\n")
    if len(lines) > MAX_ENVELOPES:
        raise ShapeError(f"{len(lines)} lines; gate's attestations hold at most {MAX_ENVELOPES} envelopes")
    found: list[Signed] = []
    for number, line in enumerate(lines, 1):
        try:
            doc = loads_strict(line)
        except ValueError as e:
            raise ShapeError(f"line {number} is not one JSON envelope ({e})") from e
        found.append(_envelope(doc, number))
    return tuple(found)


def signed_by(signed: Signed, key: SSlibKey) -> bool:
    """Does any of the envelope's signatures verify under `key` over PAE(payloadType, payload)?"""
    from securesystemslib.dsse import Envelope  # noqa: PLC0415
    from securesystemslib.exceptions import UnverifiedSignatureError, VerificationError  # noqa: PLC0415
    from securesystemslib.signer import Signature  # noqa: PLC0415

    pae = Envelope(signed.payload, signed.payload_type, {}).pae()
    for sig in signed.signatures:
        try:
            # NOTE: DSSE's keyid is optional and unauthenticated: every signature is tried under the key.
            key.verify_signature(Signature(key.keyid, sig.hex()), pae)
        except (UnverifiedSignatureError, VerificationError):
            continue
        return True
    return False


def _statement_shape(doc: Any, where: str) -> None:
    if not isinstance(doc, dict) or doc.get("_type") != STATEMENT_TYPE:
        raise ShapeError(f"{where}: not an in-toto Statement v1 (_type {STATEMENT_TYPE})")
    subjects, kind, predicate = doc.get("subject"), doc.get("predicateType"), doc.get("predicate")
    if not isinstance(subjects, list) or not subjects:
        raise ShapeError(f"{where}: subject must be a non-empty list")
    for i, subject in enumerate(subjects):
        digest = subject.get("digest") if isinstance(subject, dict) else None
        if not isinstance(digest, dict) or not digest:
            raise ShapeError(f"{where}: subject[{i}] has no digest (Statement v1 requires one)")
        for name, value in digest.items():
            if not isinstance(value, str) or not value:
                raise ShapeError(f"{where}: subject[{i}].digest.{name} must be a non-empty string")
            size = _HEX.get(name)
            if size is not None and not re.fullmatch(f"[0-9a-f]{{{size}}}", value):
                raise ShapeError(f"{where}: subject[{i}].digest.{name} is not {size} lower-case hex digits")
        for field in ("uri", "name"):
            if field in subject and not isinstance(subject[field], str):
                raise ShapeError(f"{where}: subject[{i}].{field} must be a string")
    if not isinstance(kind, str) or not kind:
        raise ShapeError(f"{where}: predicateType must be a URI")
    if not isinstance(predicate, dict):
        raise ShapeError(f"{where}: predicate must be an object")
