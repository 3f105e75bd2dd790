"""`gate version`: gate's version and the data a run here would use (feed versions and dates, the cache)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from gate import __version__
from gate.cli import streams


def register(sub: Any) -> None:
    parser = sub.add_parser("version", help="print gate's version and the data it would use",
                            description="Print gate's version, each cached feed's version and date (the KEV catalog, "
                            "the EPSS model), the cached CVE records (Vulnrichment) and the cache folder.")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="default: text")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="default: $GATE_CACHE_DIR, $XDG_CACHE_HOME/gate or ~/.cache/gate")
    parser.set_defaults(func=cmd_version)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value is not None else "date unknown"


def cmd_version(args: argparse.Namespace) -> int:
    from gate.enrichment.cache import default_cache_dir  # noqa: PLC0415 - `gate --help` needs none of this
    from gate.enrichment.inventory import cached_feeds, cached_records  # noqa: PLC0415

    cache = args.cache_dir or default_cache_dir()
    cached = [(f.spec, f) for f in cached_feeds(cache)]
    records = cached_records(cache)
    if args.format == "json":
        feeds = {spec.key: {"present": f.present, "path": str(f.path), "version": f.version, "asOf": _iso(f.as_of),
                            "fetchedAt": _iso(f.fetched)} for spec, f in cached}
        doc = {"gate": __version__, "cacheDir": str(cache), "feeds": feeds,
               "vulnrichment": {"cachedRecords": records.count, "newestFetchedAt": _iso(records.newest),
                                "problem": records.problem}}
        streams.document(json.dumps(doc, indent=2) + "\n", json=True)
        return 0
    streams.line(f"gate {__version__}")
    streams.line(f"cache: {cache}")
    for spec, feed in cached:
        if not feed.present:
            streams.line(f"{feed.name}: not cached (run `gate feeds update`, or pass {spec.option} FILE)")
            continue
        fetched = f", fetched {_day(feed.fetched)}" if feed.fetched else ""
        streams.line(f"{feed.name}: {spec.version_word} {feed.version or 'version unknown'}, data of "
                     f"{_day(feed.as_of)}{fetched} ({feed.path})")
    if records.problem:
        streams.line(f"CISA Vulnrichment: {records.problem}")
    elif records.count:
        streams.line(f"CISA Vulnrichment: {records.count} CVE records cached, newest fetched "
                     f"{_day(records.newest)} (--vulnrichment-online)")
    else:
        streams.line("CISA Vulnrichment: no CVE records cached (--vulnrichment DIR is read as it is)")
    return 0
