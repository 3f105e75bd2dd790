"""Command-line options shared by `gate check` and `gate fetch`, and their translation into `Inputs`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from gate.cli import streams
from gate.errors import UsageError
from gate.inputs import DEFAULT_WORKERS, Inputs
from gate.timeutil import parse_duration

DEFAULT_WAIT = "15m"


def duration_option(args: argparse.Namespace, option: str, env: str, default: str) -> timedelta:
    """The option's text, else `$env` (empty means unset), else `default`, parsed and bounded.

    Parsed here rather than by argparse so a bad value is one line naming where it came from.
    """
    dest = option.lstrip("-").replace("-", "_")
    given = getattr(args, dest, None)
    # NOTE: a value config.resolve took from GATE_* or gate.yaml is blamed on that source, not the flag.
    origin = getattr(args, "option_origins", {}).get(dest, option)
    text, origin = (given, origin) if given is not None else (os.environ.get(env) or default, env)
    try:
        return parse_duration(text)
    except ValueError as e:
        raise UsageError(f"{origin}: {e}") from None


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("--max-workers must be between 1 and 64")
    return value


def add_aws_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """The options `gate check` and `gate fetch` share for reading an image from AWS."""
    parser.add_argument("--image-build-version-arn", metavar="ARN",
                        help="judge this image build version (its region is used unless --region is given)")
    parser.add_argument("--image-pipeline-arn", metavar="ARN",
                        help="judge the newest build version of this image pipeline")
    parser.add_argument("--region", help="AWS region (default: the one in the ARN)")
    parser.add_argument("--profile", help="AWS profile from ~/.aws/config (default: the standard chain)")
    parser.add_argument(
        "--wait-timeout", metavar="DURATION",
        help="how long to wait for an unfinished image scan before giving up with exit 3, e.g. 900, "
        f"15m; 0 does not wait (default: $GATE_WAIT_TIMEOUT or {DEFAULT_WAIT})",
    )
    parser.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="where Inspector answers and feeds are cached "
                        "(default: $GATE_CACHE_DIR, $XDG_CACHE_HOME/gate or ~/.cache/gate)")
    parser.add_argument("--cache-ttl", metavar="DURATION",
                        help="how long cached Inspector answers are used, e.g. 24h, 30m; 0 disables the "
                        "cache (default: $GATE_CACHE_TTL or 24h)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the Inspector cache")
    parser.add_argument("--max-workers", type=_workers, metavar="N",
                        default=os.environ.get("GATE_MAX_WORKERS", str(DEFAULT_WORKERS)),
                        help=f"concurrent Inspector requests, 1-64 (default: {DEFAULT_WORKERS})")


def progress() -> Callable[[str], None] | None:
    """Progress lines for a person watching (stderr is a terminal); silent in CI logs."""
    return streams.note if sys.stderr.isatty() else None


def inputs_from(args: argparse.Namespace) -> Inputs:
    """The command line's inputs as the library's value; options a command lacks keep their defaults."""
    def get(name: str, default: Any = None) -> Any:
        return getattr(args, name, default)

    inputs = Inputs(
        findings=tuple(get("findings") or ()),
        image=get("image"),
        snapshot=get("snapshot"),
        image_build_version_arn=get("image_build_version_arn"),
        image_pipeline_arn=get("image_pipeline_arn"),
        finding_details=tuple(get("finding_details") or ()),
        kev_catalog=get("kev_catalog"),
        epss_scores=get("epss_scores"),
        vulnrichment=get("vulnrichment"),
        vulnrichment_online=get("vulnrichment_online", False),
        vulnrichment_url=get("vulnrichment_url"),
        vex=tuple(get("vex") or ()),
        cached_feeds=not get("no_cached_feeds", False),
        region=get("region"),
        profile=get("profile"),
        wait_timeout=duration_option(args, "--wait-timeout", "GATE_WAIT_TIMEOUT", DEFAULT_WAIT),
        cache_dir=get("cache_dir"),
        cache_ttl=duration_option(args, "--cache-ttl", "GATE_CACHE_TTL", "24h"),
        use_cache=not get("no_cache", False),
        max_workers=get("max_workers", DEFAULT_WORKERS),
        progress=progress(),
        baseline=get("baseline"),
        baseline_any_pipeline=get("baseline_any_pipeline", False),
        baseline_key=get("baseline_key"),
    )
    if inputs.live:  # NOTE: boto3, botocore and urllib3 log; their warnings may quote AWS text
        streams.route_library_logs()
    return inputs
