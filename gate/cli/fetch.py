"""`gate fetch`: read an image's findings and Inspector enrichment from AWS into a snapshot file."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gate.cli import aws_options, config, output, streams


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "fetch",
        help="save an image's findings and enrichment from AWS to a snapshot",
        description="Read one image build version's scan findings from Image Builder and their exploit "
        "intelligence from Inspector, and save them to a snapshot that `gate check --snapshot` judges "
        "offline.",
    )
    aws_options.add_aws_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="where to write the snapshot (JSON)")
    parser.set_defaults(func=cmd_fetch)
    config.defer(parser)  # GATE_* variables and gate.yaml, as for `gate check`


def cmd_fetch(args: argparse.Namespace) -> int:
    from gate.inputs import open_live  # noqa: PLC0415 - boto3 only when a command needs it
    from gate.run import fetch  # noqa: PLC0415
    from gate.snapshot import snapshot_text, write_snapshot  # noqa: PLC0415

    args = config.resolve(args, os.environ)
    inputs = aws_options.inputs_from(args)
    inputs.check_one_target()
    gathered = fetch(open_live(inputs))
    stream = output.stream_for(str(args.output))
    if stream:  # NOTE: `-o /dev/stdout` goes through streams, inert to the CI runner like any report
        streams.document(snapshot_text(gathered), json=True, stream=stream)
    else:
        write_snapshot(args.output, gathered)
    enriched = sum(1 for e in gathered.enrichments.values() if e.enriched)
    streams.note(f"wrote {len(gathered.findings)} findings ({len(gathered.enrichments)} vulnerabilities, "
                 f"{enriched} with exploit intelligence) for {gathered.target} to {args.output}")
    return 0
