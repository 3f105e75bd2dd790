"""`gate feeds update`: download CISA KEV and FIRST EPSS into the cache for `gate check` to use."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gate.cli import config, feeds_status, streams
from gate.enrichment.cache import default_cache_dir
from gate.enrichment.feeds import EPSS_URL, KEV_URL, update_feeds


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("feeds", help="manage the KEV and EPSS feeds gate caches",
                                   description="Manage the CISA KEV and FIRST EPSS feeds in the cache.")
    actions = parser.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)
    update = actions.add_parser(
        "update",
        help="download the current feeds (only if they changed)",
        description="Download CISA's KEV catalog and FIRST's EPSS scores into the cache directory. "
        "A download is validated before it replaces the old copy; an unchanged feed is not downloaded.",
    )
    update.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="default: $GATE_CACHE_DIR, $XDG_CACHE_HOME/gate or ~/.cache/gate")
    update.add_argument("--kev-url", default=KEV_URL, metavar="URL", help="default: CISA's JSON feed")
    update.add_argument("--epss-url", default=EPSS_URL, metavar="URL", help="default: FIRST's current CSV")
    update.add_argument("--timeout", type=float, default=60, metavar="SECONDS",
                        help="per download (default: 60)")
    update.set_defaults(func=run)
    config.defer(update)  # GATE_KEV_URL, GATE_EPSS_URL, … as for `gate check`
    feeds_status.register(actions)


def run(args: argparse.Namespace) -> int:
    feeds_status.known_keys()
    args = config.resolve(args, os.environ)
    directory = args.cache_dir or default_cache_dir()
    for info in update_feeds(directory, kev_url=args.kev_url, epss_url=args.epss_url, timeout=args.timeout):
        dated = info.as_of.date().isoformat() if info.as_of else "date unknown"
        streams.line(f"{info.name}: {info.detail} (data of {dated}) in {info.source}")
    return 0
