"""Command-line options for reading an image live from AWS, and the factory that turns them into objects."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gate.aws.session import make_clients, make_session
from gate.enrichment.cache import DEFAULT_TTL, Cache, default_cache_dir
from gate.enrichment.inspector import InspectorEnricher
from gate.enrichment.interface import IncrementalEnricher
from gate.errors import UsageError
from gate.sources.imagebuilder import ImageBuilderSource
from gate.sources.interface import FindingSource

DEFAULT_WAIT = "15m"
"""Image Builder finishes scanning a few minutes after a build: by default wait for it, then fail."""
DEFAULT_WORKERS = 8
_DURATION = re.compile(r"(?P<number>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>[smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_ARN = re.compile(r"arn:aws[a-z-]*:imagebuilder:(?P<region>[a-z0-9-]+):[0-9]{12}:(?P<kind>image|image-pipeline)/.+")


def parse_duration(text: str) -> timedelta:
    """`90`, `90s`, `30m`, `24h`, `7d`; `0` is zero."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (e.g. 90s, 30m, 24h, 0)")
    return timedelta(seconds=float(match["number"]) * _UNITS[match["unit"]])


def _seconds(text: str) -> float:
    return parse_duration(text).total_seconds()


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
        "--wait-timeout", type=_seconds, metavar="DURATION",
        default=os.environ.get("GATE_WAIT_TIMEOUT", DEFAULT_WAIT),
        help="how long to wait for an unfinished image scan before giving up with exit 3, e.g. 900, "
        f"15m; 0 does not wait (default: $GATE_WAIT_TIMEOUT or {DEFAULT_WAIT})",
    )
    parser.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="where Inspector answers and feeds are cached "
                        "(default: $GATE_CACHE_DIR, $XDG_CACHE_HOME/gate or ~/.cache/gate)")
    parser.add_argument("--cache-ttl", type=parse_duration, metavar="DURATION",
                        default=os.environ.get("GATE_CACHE_TTL", "24h"),
                        help="how long cached Inspector answers are used, e.g. 24h, 30m; 0 disables the "
                        "cache (default: $GATE_CACHE_TTL or 24h)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the Inspector cache")
    parser.add_argument("--max-workers", type=_workers, metavar="N",
                        default=os.environ.get("GATE_MAX_WORKERS", str(DEFAULT_WORKERS)),
                        help=f"concurrent Inspector requests, 1-64 (default: {DEFAULT_WORKERS})")


def _print_progress(message: str) -> None:
    print(f"gate: {message}", file=sys.stderr)


def progress() -> Callable[[str], None] | None:
    """Progress lines for a person watching (stderr is a terminal); silent in CI logs."""
    return _print_progress if sys.stderr.isatty() else None


def has_target(args: argparse.Namespace) -> bool:
    """Whether the command line names an image to read from AWS."""
    return bool(getattr(args, "image_build_version_arn", None) or getattr(args, "image_pipeline_arn", None))


def cache_dir(args: argparse.Namespace) -> Path:
    return getattr(args, "cache_dir", None) or default_cache_dir()


def build_cache(args: argparse.Namespace) -> Cache | None:
    """The Inspector cache the options ask for, or None for `--no-cache` / `--cache-ttl 0`."""
    ttl: timedelta = getattr(args, "cache_ttl", DEFAULT_TTL)
    if getattr(args, "no_cache", False) or ttl <= timedelta(0):
        return None
    return Cache(cache_dir(args), ttl=ttl)


def _arn_region(arn: str, option: str, kind: str) -> str:
    match = _ARN.fullmatch(arn.strip())
    if match is None or match["kind"] != kind:
        example = "image/NAME/1.0.0/1" if kind == "image" else "image-pipeline/NAME"
        raise UsageError(f"{option} {arn!r} is not an Image Builder {kind} ARN",
                         hint=f"expected arn:aws:imagebuilder:REGION:ACCOUNT:{example}")
    return match["region"]


def build_live(
    args: argparse.Namespace, progress: Callable[[str], None] | None
) -> tuple[FindingSource, IncrementalEnricher]:
    """The live source and Inspector enricher; the enricher owns the clients and closes them."""
    build_arn: str | None = args.image_build_version_arn
    pipeline_arn: str | None = args.image_pipeline_arn
    if bool(build_arn) == bool(pipeline_arn):
        raise UsageError("give exactly one of --image-build-version-arn and --image-pipeline-arn")
    if build_arn:
        region = _arn_region(build_arn, "--image-build-version-arn", "image")
    else:
        region = _arn_region(pipeline_arn or "", "--image-pipeline-arn", "image-pipeline")
    session = make_session(args.region or region, args.profile)
    workers: int = args.max_workers
    clients = make_clients(session, max_pool=workers + 2)
    try:
        source = ImageBuilderSource(
            clients,
            image_build_version_arn=build_arn.strip() if build_arn else None,
            image_pipeline_arn=pipeline_arn.strip() if pipeline_arn else None,
            wait_timeout=args.wait_timeout,
            progress=progress,
        )
        # NOTE: resolving a pipeline here (one call) lets Inspector's queries be scoped to the build.
        scope = source.target
        enricher = InspectorEnricher(clients, scope_arn=scope, cache=build_cache(args),
                                     max_workers=workers, owns_clients=True)
    except BaseException:
        clients.close()
        raise
    return source, enricher
