"""`gate sweep`: re-judge many released builds with one policy and today's feeds; `gate sweep merge` joins shards.

Thin: options → targets, shared resources and the library's `gate.sweep.runner.sweep`; records → reports;
exit 0 all pass, 1 any fails, 3 any unjudged (unless --allow-unjudged) or an action failed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate.cli import config, streams
from gate.cli.signals import Cancelled
from gate.errors import ExitCode, IncompleteError, UnreadableInputError, UsageError
from gate.fleet import MAX_SHARDS, BuildRecord, FleetReport, Shard, Status
from gate.outcome import ActionStatus
from gate.timeutil import parse_hours_or_days, parse_instant, utcnow

FORMATS = ("json", "markdown", "html")
DEFAULT_SINCE = "180d"
PROGRESS_EVERY = 10
"""The first progress line comes after this many builds; each later one after twice as many as the one before."""
NAMED_UNJUDGED = 10
"""Unjudged builds named one a line on stderr; the rest are counted (every one is in the reports)."""

if TYPE_CHECKING:
    from gate.cli.sweep_reports import ReportGuard
    from gate.sweep.session import Request


def register(sub: Any) -> None:
    p = sub.add_parser("sweep", help="re-judge many released image builds against today's intelligence",
                       description="Judge many image build versions with one policy and one set of feeds.")
    verbs = p.add_subparsers(dest="sweep_command", metavar="merge")
    m = verbs.add_parser("merge", help="join the JSON reports of every shard into one fleet report")
    m.add_argument("reports", nargs="+", type=Path, metavar="FILE", help="JSON reports of shards 1/N … N/N")
    _report_options(m)
    t = p.add_argument_group("what to judge")
    t.add_argument("--pipeline", action="append", default=[], metavar="ARN",
                   help="every build of this image pipeline (repeatable)")
    t.add_argument("--all-pipelines", action="store_true", help="every pipeline in each --region")
    t.add_argument("--region", action="append", default=[], help="a region for --all-pipelines (repeatable)")
    t.add_argument("--builds", metavar="FILE|-", help="image build version ARNs, one a line (- reads stdin)")
    t.add_argument("--since", default=DEFAULT_SINCE, metavar="DURATION",
                   help=f"listed builds created within this window, e.g. 90d (default: {DEFAULT_SINCE})")
    t.add_argument("--shard", type=_shard, metavar="I/N", help="only a stable 1/N of the targets (by ARN hash)")
    t.add_argument("--concurrency", type=_count(1, 64), default=4, metavar="N", help="builds judged at once (1-64)")
    e = p.add_argument_group("policy and intelligence")
    e.add_argument("--policy", default="default", metavar="NAME|FILE")
    e.add_argument("--kev-catalog", type=Path, metavar="FILE")
    e.add_argument("--epss-scores", type=Path, metavar="FILE")
    e.add_argument("--no-cached-feeds", action="store_true")
    e.add_argument("--max-feed-age", type=config.hours_or_days, metavar="AGE")
    e.add_argument("--allow-unanswerable", action="store_true")
    e.add_argument("--as-of", metavar="DATE", help="judge as on this UTC date/time (never used to deprecate)")
    e.add_argument("--previous", type=Path, metavar="FILE|DIR",
                   help="earlier sweep or check JSON reports: say what is newly failing, newly passing, …")
    a = p.add_argument_group("AWS")
    a.add_argument("--profile")
    a.add_argument("--cache-dir", type=Path, metavar="DIR")
    a.add_argument("--cache-ttl", default="24h", metavar="DURATION")
    a.add_argument("--no-cache", action="store_true")
    a.add_argument("--max-workers", type=_count(1, 64), default=8, metavar="N", help="concurrent Inspector requests")
    act = p.add_argument_group("acting on failing builds (only with --apply)")
    act.add_argument("--revoke-watermark", metavar="NAME", help="detach this watermark from their AMIs")
    act.add_argument("--deprecate", action="store_true", help="deprecate their AMIs (now, rounded up a minute)")
    act.add_argument("--apply", action="store_true", help="do it; without it the reports list what would be done")
    _report_options(p)
    p.set_defaults(func=cmd_sweep)


def _report_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--report", action="append", default=[], type=_report, metavar="FORMAT=PATH",
                   help="json, markdown or html; PATH - is stdout (repeatable)")
    p.add_argument("--allow-unjudged", action="store_true", help="builds gate could not judge are a note, not exit 3")


def _report(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not path or name.strip().lower() not in FORMATS:
        raise argparse.ArgumentTypeError(f"{text!r}: expected FORMAT=PATH with FORMAT one of {', '.join(FORMATS)}")
    return name.strip().lower(), path


def _shard(text: str) -> Shard:
    index, sep, count = text.partition("/")
    if not (sep and index.isascii() and index.isdigit() and count.isascii() and count.isdigit()) \
            or not 1 <= int(index) <= int(count) <= MAX_SHARDS:
        raise argparse.ArgumentTypeError(f"{text!r} is not I/N with 1 <= I <= N <= {MAX_SHARDS}")
    return Shard(int(index), int(count))


def _count(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {low} to {high}")
        return int(text)
    return parse



def cmd_sweep(args: argparse.Namespace) -> int:
    from gate.cli.output import input_paths  # noqa: PLC0415
    from gate.cli.sweep_reports import ReportGuard, check_reports  # noqa: PLC0415

    check_reports(args.report, input_paths(args))
    if args.sweep_command == "merge":
        with ReportGuard(args.report, "gate sweep merge", utcnow()) as guard:
            return _merge(args, guard)
    _check_usage(args)
    try:
        now = parse_instant(args.as_of) if args.as_of else utcnow()
    except ValueError as e:
        raise UsageError(f"--as-of {e}") from None
    with ReportGuard(args.report, "gate sweep", now) as guard:
        return _sweep(args, now, guard)


def _sweep(args: argparse.Namespace, now: datetime, guard: ReportGuard) -> int:
    from gate.cli.guard import reason  # noqa: PLC0415
    from gate.sweep.session import Sweep  # noqa: PLC0415 - the library loads only when a sweep runs

    opened = Sweep(_request(args), now)
    records: list[BuildRecord] = []
    stopped: BaseException | None = None
    progress = streams.note if sys.stderr.isatty() else None
    try:
        for record in opened.records():
            records.append(record)
            if progress is not None and _due(len(records)):
                progress(_progress(records))
    except (Exception, Cancelled) as e:  # NOTE: partial results are still written, then the sweep fails
        stopped = e
    finally:
        opened.close()
    if progress is not None and records:
        progress(_progress(records))
    notes = list(opened.notes) + [n for n in (opened.window_note(),) if n]
    if stopped is not None:
        why = reason(stopped)
        notes.append(f"the sweep stopped after {len(records)} builds: {why}; the reports hold those builds only")
    report = FleetReport(generated_at=now, policy=opened.policy_name, records=tuple(records),
                         shards=(args.shard,) if args.shard else (), feeds=opened.feeds(), notes=tuple(notes),
                         stats=opened.stats(len(records)), compared_with=opened.compared_with,
                         complete=stopped is None, basis=opened.basis(now if args.as_of else None))
    guard.emit(report)
    if stopped is not None:
        raise stopped
    return _exit_code(report, allow_unjudged=args.allow_unjudged, sharded=args.shard is not None)


def _request(args: argparse.Namespace) -> Request:
    from gate.sweep.runner import Acting  # noqa: PLC0415
    from gate.sweep.session import Request  # noqa: PLC0415
    from gate.sweep.targets import Target, pipeline_region, read_builds  # noqa: PLC0415

    for arn in args.pipeline:
        pipeline_region(arn)
    builds: tuple[Target, ...] = ()
    try:
        if args.builds == "-":
            builds = tuple(read_builds(sys.stdin, "-"))
        elif args.builds:
            from gate.files import read_raw  # noqa: PLC0415 - bounded: a --builds /dev/zero never ends

            text = read_raw(Path(args.builds)).decode("utf-8")
            builds = tuple(read_builds(io.StringIO(text), args.builds))
    except UnicodeDecodeError as e:
        raise UsageError(f"--builds {args.builds}: not UTF-8 text ({e.reason} at byte {e.start})",
                         hint="one image build version ARN a line") from None
    except UnreadableInputError as e:
        raise UsageError(f"--builds: {e.message}", hint=e.hint) from None
    try:
        since = parse_hours_or_days(args.since)
        ttl = parse_hours_or_days(args.cache_ttl) if args.cache_ttl not in ("0", "0s", "0h") else timedelta(0)
    except ValueError as e:
        raise UsageError(f"--since or --cache-ttl: {e}") from None
    return Request(builds=builds, pipelines=tuple(dict.fromkeys(args.pipeline)),
                   regions=tuple(dict.fromkeys(args.region)) if args.all_pipelines else (), since=since,
                   shard=args.shard, concurrency=args.concurrency, policy=args.policy, kev_catalog=args.kev_catalog,
                   epss_scores=args.epss_scores, cached_feeds=not args.no_cached_feeds, max_feed_age=args.max_feed_age,
                   allow_unanswerable=args.allow_unanswerable, previous=args.previous, profile=args.profile,
                   cache_dir=args.cache_dir, cache_ttl=ttl, use_cache=not args.no_cache, max_workers=args.max_workers,
                   acting=Acting(deprecate=args.deprecate, revoke_watermark=args.revoke_watermark, apply=args.apply))


def _due(swept: int) -> bool:
    """A progress line after 10, 20, 40, 80 … builds: a few lines however large the fleet."""
    steps, rest = divmod(swept, PROGRESS_EVERY)
    return rest == 0 and steps > 0 and steps & (steps - 1) == 0


def _progress(records: list[BuildRecord]) -> str:
    counts = dict.fromkeys(Status, 0)
    for r in records:
        counts[r.status] += 1
    return f"swept {len(records)} builds: " + ", ".join(f"{n} {s.value}" for s, n in counts.items())


def _check_usage(args: argparse.Namespace) -> None:
    if not (args.pipeline or args.all_pipelines or args.builds):
        raise UsageError("gate sweep needs targets: --pipeline ARN, --all-pipelines --region R, or --builds FILE")
    if args.all_pipelines and not args.region:
        raise UsageError("--all-pipelines needs at least one --region",
                         hint="e.g. --region us-east-1 --region eu-west-1")
    if args.region and not args.all_pipelines:
        raise UsageError("--region only chooses where --all-pipelines looks; a pipeline's or build's ARN names its own")
    if args.apply and not (args.deprecate or args.revoke_watermark):
        raise UsageError("--apply carries out --deprecate or --revoke-watermark; neither was given")


def _exit_code(report: FleetReport, *, allow_unjudged: bool, sharded: bool = False) -> int:
    unjudged = [r for r in report.records if r.status is Status.UNJUDGED]
    say = streams.note if allow_unjudged else streams.error
    for r in unjudged[:NAMED_UNJUDGED]:
        say(f"not judged: {r.build}: {r.reason}")
    if len(unjudged) > NAMED_UNJUDGED:  # NOTE: a fleet-wide fault must not bury the summary under a line a build
        say(f"not judged: {len(unjudged) - NAMED_UNJUDGED} more builds, each named in the reports with its reason")
    failed = [(r, a) for r in report.records for a in r.actions if a.status is ActionStatus.FAILED]
    if failed:
        r, a = failed[0]
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise IncompleteError(f"{a.action} {a.operation} on {a.target} of {r.build} failed: {a.detail}{more}",
                              hint="the reports carry every verdict and what was done")
    if not report.complete:
        raise IncompleteError("the sweep (or one of the merged shards) stopped before every target was judged",
                              hint="the reports' notes say why; run it again")
    if not report.records and not sharded:  # NOTE: one shard of a small fleet may hold nothing; merge judges the whole
        raise IncompleteError("the sweep found no build at all: nothing was judged, so nothing passed",
                              hint="check --pipeline, --region and --since: they list no build")
    if unjudged and not allow_unjudged:
        raise IncompleteError(f"{len(unjudged)} of {len(report.records)} builds could not be judged",
                              hint="each is named above with its reason; --allow-unjudged makes them a note")
    return ExitCode.VIOLATION if report.count(Status.FAIL) else ExitCode.PASS


def _merge(args: argparse.Namespace, guard: ReportGuard) -> int:
    from gate.files import read_raw  # noqa: PLC0415
    from gate.fleetjson import from_json  # noqa: PLC0415
    from gate.sweep.merge import merge  # noqa: PLC0415

    reports = []
    for path in args.reports:
        data = read_raw(path)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{path} is not UTF-8 text", hint="pass the JSON reports `gate sweep` wrote") from None
        reports.append((str(path), from_json(text, str(path))))
    merged = merge(reports)
    guard.emit(merged)
    return _exit_code(merged, allow_unjudged=args.allow_unjudged)

