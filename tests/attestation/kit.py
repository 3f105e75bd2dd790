"""What the attestation tests share: real keys, a policy the example passes, and one signed run."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from gate.cli.main import main
from tests.conftest import EXAMPLES
from tests.e2e.seed import IMAGE_ARN

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "attestation"
AS_OF = "2026-11-21"
SIGNED_AT = "2026-11-21T00:00:00Z"
SOON = "2026-11-21T01:00:00Z"
OFFLINE = ["--findings", str(EXAMPLES / "findings.json"), "--kev-catalog", str(EXAMPLES / "kev.json"),
           "--epss-scores", str(EXAMPLES / "epss-scores.csv.gz"), "--as-of", AS_OF, "--max-feed-age", "460d"]
PASSING = "version: 1\nname: lenient\nrules:\n  - {id: none, when: severity == \"NONE\", action: fail}\n"
FAILING = "version: 1\nname: kev-blocks\nrules:\n  - {id: kev, when: kev, action: fail}\n"


def pem_pair(folder: Path, kind: str = "ec", name: str = "key") -> tuple[Path, Path]:
    """A fresh private key and its public key as PEM files: `ec` (P-256) or `ed25519`."""
    private: Any = ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else ed25519.Ed25519PrivateKey.generate()
    secret, public = folder / f"{name}.pem", folder / f"{name}.pub"
    secret.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    public.write_bytes(private.public_key().public_bytes(serialization.Encoding.PEM,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo))
    return secret, public


def policy(folder: Path, text: str = PASSING) -> Path:
    path = folder / "policy.yaml"
    path.write_text(text)
    return path


def digest_of(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def attest_offline(folder: Path, key: Path, text: str = PASSING, *extra: str) -> tuple[int, Path]:
    """`gate check` of the bundled example, signed with a PEM key: (exit code, attestation)."""
    out = folder / "decision.jsonl"
    code = main(["check", *OFFLINE, "--policy", str(policy(folder, text)), "--attest", str(out),
                 "--sign-key", f"file:{key}", *extra])
    return code, out


def verify(path: Path, key: str, *extra: str, build: str | None = IMAGE_ARN, as_of: str = SOON) -> int:
    target = ["--image-build-version-arn", build] if build and "--ami" not in extra else []
    return main(["verify", str(path), "--key", key, *target, "--as-of", as_of, *extra])


def envelopes(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def statement(envelope: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return decoded


def rewrite(path: Path, envelope_list: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(e) + "\n" for e in envelope_list))
