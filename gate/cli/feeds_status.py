"""`gate feeds status`: which feed data (`feedregistry`: KEV, EPSS) `gate check` would use, how old it is, and
whether to refresh it."""

from __future__ import annotations

import argparse
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from gate.cli import config, streams
from gate.enrichment import feedregistry
from gate.enrichment.cache import default_cache_dir
from gate.enrichment.freshness import DEFAULT_MAX_AGE, age_limit, age_text, is_stale
from gate.errors import ExitCode, UsageError
from gate.timeutil import parse_hours_or_days, parse_instant, utcnow


def joined(names: list[str]) -> str:
    """`a, b and c`: the feeds named in help text."""
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def register(actions: Any) -> None:
    shorts = joined([f.short for f in feedregistry.FEEDS])
    status = actions.add_parser(
        "status", help="show the cached feeds' dates; exit 3 if one is missing or too old for `gate check`",
        description=f"Show which cached {shorts} files `gate check` would use and how old their data is. "
        "Exit 0 when each is present and within the limit `gate check` applies — --max-feed-age, else the "
        f"policy's max_feed_age, else {DEFAULT_MAX_AGE.days} days — and 3 otherwise (then run `gate feeds "
        "update`).")
    status.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="default: $GATE_CACHE_DIR, $XDG_CACHE_HOME/gate or ~/.cache/gate")
    status.add_argument("--policy", default="default", metavar="NAME|FILE",
                        help="the policy whose max_feed_age applies (default: $GATE_POLICY or 'default')")
    status.add_argument("--max-feed-age", metavar="AGE",
                        help=f"the limit, e.g. 30d, 36h (default: the policy's max_feed_age, else "
                        f"{DEFAULT_MAX_AGE.days}d)")
    status.add_argument("--as-of", metavar="DATE", help="judge the age as on this UTC date/time (default: now)")
    status.set_defaults(func=cmd_status)
    config.defer(status)  # GATE_POLICY, GATE_MAX_FEED_AGE and gate.yaml, exactly as for `gate check`


def _limit(args: argparse.Namespace) -> tuple[timedelta, str]:
    """The limit `gate check` would apply with these options, and where it came from."""
    from gate.policy.loader import load_policy  # noqa: PLC0415 - only this command and `check` need it

    option = None
    given = getattr(args, "option_origins", {}).get("max_feed_age", "--max-feed-age")
    if args.max_feed_age:
        try:
            option = parse_hours_or_days(args.max_feed_age)
        except ValueError as e:
            raise UsageError(f"{given}: {e}") from None
    policy = load_policy(args.policy)
    limit = age_limit(option, policy.max_feed_age)
    origin = (given if option else f"policy {policy.name}'s max_feed_age" if policy.max_feed_age
              else "the default")
    return limit, origin


def known_keys() -> None:
    """Register `check` and `fetch` on a throwaway parser, so their gate.yaml keys (`fail-on`) are no typo here.

    NOTE: only the invoked command's parser is built (start-up time); one gate.yaml serves every command.
    """
    import importlib  # noqa: PLC0415

    sub = argparse.ArgumentParser(add_help=False).add_subparsers()
    for module in ("gate.cli.check", "gate.cli.fetch"):
        importlib.import_module(module).register(sub)


def cmd_status(args: argparse.Namespace) -> int:
    from gate.enrichment.inventory import cached_feeds  # noqa: PLC0415 - `gate --help` needs none of this

    known_keys()
    args = config.resolve(args, os.environ)
    try:
        now = parse_instant(args.as_of) if args.as_of else utcnow()
    except ValueError as e:
        raise UsageError(f"--as-of {e}") from None
    limit, origin = _limit(args)
    ok = True
    for feed in cached_feeds(args.cache_dir or default_cache_dir()):
        if not feed.present:
            ok = False
            streams.line(f"{feed.name}: missing ({feed.path}); run `gate feeds update`")
            continue
        as_of, fetched = feed.as_of, feed.fetched
        age = (now.date() - as_of.date()).days if as_of else None
        fresh = as_of is not None and not is_stale(as_of, now, limit)
        ok = ok and fresh
        data = f"data of {as_of.date().isoformat()} ({age} days old)" if as_of else "data date unknown"
        got = f", fetched {fetched.strftime('%Y-%m-%d %H:%M UTC')}" if fetched else ""
        detail = f"; {feed.detail}" if feed.detail else ""
        verdict = "fresh" if fresh else "STALE: run `gate feeds update`"
        streams.line(f"{feed.name}: {verdict} — {data}{got}{detail} ({feed.path}, {feed.size} bytes)")
    streams.line(f"limit: {age_text(limit)} ({origin}), as `gate check --policy {args.policy}` applies it")
    return ExitCode.PASS if ok else ExitCode.INCOMPLETE
