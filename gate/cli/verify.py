"""`gate verify`: may this AMI (or build) go? Only if a decision signed by the given key says PASSED, recently.

Exit 0 when every check holds, 1 naming the first that does not, 2 for a file that is not gate's
attestation (or a bad option), 3 when the file or the KMS key cannot be read. A PEM key makes no
network call at all.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gate.cli import streams
from gate.errors import InputError, ShapeError, UsageError
from gate.timeutil import parse_duration, parse_instant, utcnow
from gate.vocab import AMI_ID, is_build_version_arn


def register(sub: Any) -> None:
    p = sub.add_parser("verify", help="check a signed decision written by `gate check --attest`",
                       description="Exit 0 only if the attestation's signature verifies under --key, it names the "
                       "AMI or build, its result is PASSED, it is not from the future or older than --max-age, "
                       "and (when given) it was decided under the policy file with that digest.")
    p.add_argument("file", type=Path, metavar="FILE", help="the attestation (JSON Lines of DSSE envelopes)")
    p.add_argument("--key", required=True, metavar="KEY",
                   help="kms:KEY_ID_OR_ARN_OR_ALIAS (asks KMS GetPublicKey) or file:PATH (a PEM public key)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--ami", metavar="AMI_ID", help="the AMI that must be a subject, e.g. ami-0abc…")
    what.add_argument("--image-build-version-arn", metavar="ARN", help="the build version that must be a subject")
    p.add_argument("--max-age", metavar="DURATION", help="refuse a decision older than this, e.g. 24h, 7d")
    p.add_argument("--policy-digest", metavar="sha256:HEX", help="require the decision's policy file digest")
    p.add_argument("--as-of", metavar="T", help="verify as at this UTC date/time (default: now)")
    p.add_argument("--region", help="AWS region of a kms: key given by id or alias (default: the ARN's, else "
                   "the environment's)")
    p.add_argument("--profile", help="AWS profile for a kms: key")
    p.set_defaults(func=cmd_verify)


def _ask(args: argparse.Namespace) -> Any:
    from gate.attestation.verify import POLICY_DIGEST, Ask  # noqa: PLC0415

    if args.ami is not None and not AMI_ID.fullmatch(args.ami):
        raise UsageError(f"--ami {args.ami[:40]!r} is not an AMI id", hint="give ami- and 8 or 17 hex digits")
    if args.image_build_version_arn is not None and not is_build_version_arn(args.image_build_version_arn):
        raise UsageError(f"--image-build-version-arn {args.image_build_version_arn[:120]!r} is not an image "
                         "build version ARN", hint="arn:aws:imagebuilder:REGION:ACCOUNT:image/NAME/VERSION/BUILD")
    digest = None
    if args.policy_digest is not None:
        match = POLICY_DIGEST.fullmatch(args.policy_digest)
        if match is None:
            raise UsageError(f"--policy-digest {args.policy_digest[:80]!r} is not sha256: and 64 lower-case hex "
                             "digits", hint="e.g. sha256:$(sha256sum policy.yaml | cut -c1-64)")
        digest = match[1]
    try:
        now = parse_instant(args.as_of) if args.as_of else utcnow()
    except ValueError as e:
        raise UsageError(f"--as-of {e}") from None
    try:
        max_age = parse_duration(args.max_age) if args.max_age is not None else None
    except ValueError as e:
        raise UsageError(f"--max-age {e}") from None
    return Ask(now=now, ami=args.ami, build=args.image_build_version_arn, max_age=max_age, policy_digest=digest)


def cmd_verify(args: argparse.Namespace) -> int:
    from gate.attestation.keys import load_public_key, parse_key  # noqa: PLC0415 - verify's own libraries
    from gate.attestation.verify import check, read_attested  # noqa: PLC0415
    from gate.files import read_raw  # noqa: PLC0415

    ask = _ask(args)
    ref = parse_key(args.key, "--key")
    key = load_public_key(ref, region=args.region, profile=args.profile)
    data = read_raw(args.file)
    try:
        decision = check(read_attested(data, key, ref.text), ask)
    except ShapeError as e:
        raise InputError(f"{args.file}: not a gate attestation ({e})",
                         hint="give the file `gate check --attest` wrote, unchanged") from e
    digest = f" (sha256:{decision.policy_digest})" if decision.policy_digest else ""
    streams.line(f"verified: {decision.subject} PASSED under policy {decision.policy}{digest} at "
                 f"{decision.time_verified.isoformat().replace('+00:00', 'Z')}, signed by {ref.text}")
    return 0
