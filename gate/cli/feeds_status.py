"""`gate feeds status`: which KEV and EPSS data `gate check` would use, how old it is, and whether to refresh it."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gate.cli import streams
from gate.enrichment.cache import default_cache_dir
from gate.enrichment.feeds import EPSS_FILE, KEV_FILE, feeds_dir
from gate.enrichment.freshness import NOTE_AFTER_DAYS
from gate.errors import ExitCode, ShapeError
from gate.timeutil import to_utc

FRESH_DAYS = NOTE_AFTER_DAYS
"""Older data is stale: `gate check` says so in its notes too."""


def register(actions: Any) -> None:
    status = actions.add_parser("status", help="show the cached feeds' dates; exit 3 if one is missing or stale",
                                description="Show which cached KEV and EPSS files `gate check` would use and how "
                                f"old their data is. Exit 0 when both are present and at most {FRESH_DAYS} days "
                                "old, 3 otherwise (then run `gate feeds update`).")
    status.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="default: $GATE_CACHE_DIR, $XDG_CACHE_HOME/gate or ~/.cache/gate")
    status.set_defaults(func=run)


def _meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.with_name(path.name + ".meta.json").read_bytes())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _when(value: Any) -> datetime | None:
    try:
        return to_utc(value) if isinstance(value, str) else None
    except ShapeError:
        return None


def run(args: argparse.Namespace) -> int:
    directory = feeds_dir(args.cache_dir or default_cache_dir())
    now = datetime.now(UTC)
    ok = True
    for name, path in (("CISA KEV", directory / KEV_FILE), ("FIRST EPSS", directory / EPSS_FILE)):
        if not path.is_file():
            ok = False
            streams.line(f"{name}: missing ({path}); run `gate feeds update`")
            continue
        meta = _meta(path)
        as_of, fetched = _when(meta.get("asOf")), _when(meta.get("fetchedAt"))
        age = (now.date() - as_of.date()).days if as_of else None
        fresh = age is not None and age <= FRESH_DAYS
        ok = ok and fresh
        data = f"data of {as_of.date().isoformat()} ({age} days old)" if as_of else "data date unknown"
        got = f", fetched {fetched.strftime('%Y-%m-%d %H:%M UTC')}" if fetched else ""
        detail = f"; {meta['detail']}" if isinstance(meta.get("detail"), str) else ""
        verdict = "fresh" if fresh else "STALE: run `gate feeds update`"
        streams.line(f"{name}: {verdict} — {data}{got}{detail} ({path}, {path.stat().st_size} bytes)")
    return ExitCode.PASS if ok else ExitCode.INCOMPLETE
