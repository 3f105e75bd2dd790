"""`gate allowed-amis criteria`: the Allowed AMIs criteria that admit only AMIs gate marked within N days."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from gate.cli import streams
from gate.errors import UsageError
from gate.files import read_bytes
from gate.jsondocs import loads_document


def _days(text: str) -> int:
    value = text[:-1] if text.endswith("d") else text
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 3650:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of days like 30d (1..3650)")
    return int(value)


def _account(text: str) -> str:
    if not (len(text) == 12 and text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a 12-digit AWS account id")
    return text


def _name(text: str) -> str:
    from gate.actions.watermark import check_name  # noqa: PLC0415

    try:
        return check_name(text)
    except UsageError as e:
        raise argparse.ArgumentTypeError(e.diagnostics()) from None


def register(sub: Any) -> None:
    parser = sub.add_parser("allowed-amis", help="Allowed AMIs settings that enforce gate's verdict at launch")
    actions = parser.add_subparsers(dest="allowed_amis_command", metavar="ACTION", required=True)
    criteria = actions.add_parser(
        "criteria", help="print the criteria that admit AMIs gate marked (for replace-image-criteria-…)",
        description="Print the whole {\"ImageCriteria\": [...]} document that `aws ec2 "
        "replace-image-criteria-in-allowed-images-settings --cli-input-json` takes: the account's existing "
        "criteria (--existing) and one admitting AMIs that carry ACCOUNT:NAME, attached within --max-age.")
    criteria.add_argument("--watermark", required=True, type=_name, metavar="NAME",
                          help="the name given to `gate check --watermark`")
    criteria.add_argument("--max-age", type=_days, default=30, metavar="DAYS",
                          help="admit marks attached at most this many days ago, e.g. 30d (default: 30d)")
    criteria.add_argument("--account", type=_account, metavar="ID",
                          help="the account that attached the marks (default: the caller's, sts:GetCallerIdentity)")
    criteria.add_argument("--existing", type=Path, metavar="FILE",
                          help="`aws ec2 get-allowed-images-settings` output: its criteria are kept")
    criteria.add_argument("--region", help="AWS region for sts:GetCallerIdentity (default: the configured one)")
    criteria.add_argument("--profile", help="AWS profile for sts:GetCallerIdentity")
    criteria.set_defaults(func=cmd_criteria)


def cmd_criteria(args: argparse.Namespace) -> int:
    from gate.actions.criteria import criteria_document, existing_criteria  # noqa: PLC0415

    existing: list[dict[str, Any]] = []
    if args.existing is not None:
        doc = loads_document(read_bytes(args.existing), str(args.existing),
                             hint="pass the output of `aws ec2 get-allowed-images-settings`")
        existing = existing_criteria(doc, str(args.existing))
    account = args.account
    if account is None:
        from gate.actions.context import AwsContext  # noqa: PLC0415 - boto3 only when the account is asked

        context = AwsContext(args.region, args.profile)
        try:
            account = context.account()
        finally:
            context.close()
    document = criteria_document(f"{account}:{args.watermark}", args.max_age, existing)
    if args.existing is None:
        streams.note("without --existing this document replaces all of the account's Allowed AMIs criteria with this "
                     "one; pass `aws ec2 get-allowed-images-settings` output as --existing to keep them")
    streams.document(json.dumps(document, indent=2) + "\n", json=True)
    return 0
