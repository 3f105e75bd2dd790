"""`gate feeds update`: download the offline feeds (CISA KEV, FIRST EPSS: `feedregistry`) into the cache for
`gate check` to use."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from gate.cli import config, feeds_status, streams
from gate.enrichment import feedregistry
from gate.enrichment.cache import default_cache_dir
from gate.enrichment.feeds import update_feeds


def register(subparsers: Any) -> None:
    feeds, joined = feedregistry.FEEDS, feeds_status.joined
    parser = subparsers.add_parser("feeds", help=f"manage the {joined([f.short for f in feeds])} feeds gate caches",
                                   description=f"Manage the {joined([f.name for f in feeds])} feeds in the cache.")
    actions = parser.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)
    update = actions.add_parser(
        "update",
        help="download the current feeds (only if they changed)",
        description=f"Download {joined([f.description for f in feeds])} into the cache directory. "
        "A download is validated before it replaces the old copy; an unchanged feed is not downloaded.",
    )
    update.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="default: $GATE_CACHE_DIR, $XDG_CACHE_HOME/gate or ~/.cache/gate")
    for feed in feeds:
        update.add_argument(f"--{feed.key}-url", default=feed.url, metavar="URL", help=f"default: {feed.url_help}")
    update.add_argument("--timeout", type=float, default=60, metavar="SECONDS",
                        help="per download (default: 60)")
    update.set_defaults(func=cmd_update)
    config.defer(update)  # GATE_KEV_URL, GATE_EPSS_URL, … as for `gate check`
    feeds_status.register(actions)


def cmd_update(args: argparse.Namespace) -> int:
    feeds_status.known_keys()
    args = config.resolve(args, os.environ)
    directory = args.cache_dir or default_cache_dir()
    urls = {f"{feed.key}_url": getattr(args, f"{feed.key}_url") for feed in feedregistry.FEEDS}
    for info in update_feeds(directory, timeout=args.timeout, **urls):
        dated = info.as_of.date().isoformat() if info.as_of else "date unknown"
        streams.line(f"{info.name}: {info.detail} (data of {dated}) in {info.source}")
    return 0
