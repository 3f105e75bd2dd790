"""`gate check`: gather findings (export, snapshot or AWS), enrich, evaluate, report, exit."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gate.cli import aws_options
from gate.cli.output import (
    ReportSpec,
    github_mode,
    parse_report_spec,
    publish_to_github,
    use_color,
    write_reports,
)
from gate.enrichment.epss import EpssEnricher, EpssScores
from gate.enrichment.feeds import cached_feed_paths
from gate.enrichment.inspector_export import InspectorExport
from gate.enrichment.interface import Enricher, combine
from gate.enrichment.kev import KevCatalog, KevEnricher
from gate.errors import ExitCode, GateError, ShapeError, UsageError
from gate.model import Evaluation, Verdict
from gate.policy.engine import evaluate
from gate.policy.loader import load_policy
from gate.reports.interface import ReportOptions
from gate.reports.registry import Format, formatter
from gate.run import Gathered, gather
from gate.sources.export import ExportSource
from gate.sources.snapshot import load_snapshot
from gate.timeutil import to_utc

STALE_FEED_DAYS = 7


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="judge an image's findings against a policy",
                       description="Judge one image build version's scan findings against a policy.")
    src = p.add_argument_group("what to judge (one of)")
    src.add_argument("--findings", action="append", type=Path, metavar="FILE",
                     help="saved `aws imagebuilder list-image-scan-findings` output (repeatable)")
    src.add_argument("--snapshot", type=Path, metavar="FILE", help="a snapshot written by `gate fetch`")
    aws_options.add_aws_arguments(src)
    enr = p.add_argument_group("enrichment")
    enr.add_argument("--finding-details", action="append", type=Path, default=[], metavar="FILE",
                     help="saved `aws inspector2 list-findings` / `batch-get-finding-details` output (repeatable)")
    enr.add_argument("--kev-catalog", type=Path, metavar="FILE", help="CISA known_exploited_vulnerabilities.json")
    enr.add_argument("--epss-scores", type=Path, metavar="FILE", help="FIRST EPSS CSV, plain or .gz")
    enr.add_argument("--no-cached-feeds", action="store_true",
                     help="don't use feeds downloaded by `gate feeds update`")
    out = p.add_argument_group("policy and output")
    out.add_argument("--policy", default=os.environ.get("GATE_POLICY", "default"), metavar="NAME|FILE",
                     help="policy file or shipped policy name (default: $GATE_POLICY or 'default')")
    out.add_argument("--report", action="append", default=[], type=parse_report_spec, metavar="FORMAT=PATH",
                     help="write a report: " + ", ".join(f.value for f in Format) + "; PATH - is stdout (repeatable)")
    out.add_argument("--sarif-location", metavar="PATH", help="repository file SARIF results point at")
    out.add_argument("--as-of", metavar="DATE", help="evaluate as on this UTC date/time (default: now)")
    out.add_argument("--no-color", action="store_true", help="no ANSI colour in the terminal summary")
    p.set_defaults(func=run)


def _now(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        value = to_utc(text)
    except ShapeError:
        raise UsageError(f"--as-of {text!r}: expected YYYY-MM-DD or an ISO-8601 time") from None
    assert value is not None  # to_utc maps only None to None
    return value


def _offline_enrichers(args: argparse.Namespace) -> list[Enricher]:
    enrichers: list[Enricher] = []
    if args.finding_details:
        enrichers.append(InspectorExport(args.finding_details))
    kev_path, epss_path = args.kev_catalog, args.epss_scores
    if not args.no_cached_feeds and (kev_path is None or epss_path is None):
        cached_kev, cached_epss = cached_feed_paths(aws_options.cache_dir(args))
        kev_path = kev_path or cached_kev
        epss_path = epss_path or cached_epss
    if kev_path:
        enrichers.append(KevEnricher(KevCatalog.load(kev_path)))
    if epss_path:
        enrichers.append(EpssEnricher(EpssScores.load(epss_path)))
    return enrichers


def _gathered(args: argparse.Namespace, enrichers: list[Enricher]) -> Gathered:
    chosen = [bool(args.findings), bool(args.snapshot), aws_options.has_target(args)]
    if sum(chosen) != 1:
        raise UsageError("give exactly one of --findings, --snapshot, --image-build-version-arn, "
                         "--image-pipeline-arn")
    if args.snapshot:
        snap = load_snapshot(args.snapshot)
        extra = [e.enrich(list(snap.enrichments)) for e in enrichers]
        merged = combine(snap.enrichments, [snap.enrichments, *extra])
        return Gathered(snap.target, snap.findings, merged,
                        snap.feeds + tuple(i for e in enrichers for i in e.feeds()))
    if args.findings:
        return gather(ExportSource(args.findings), offline=enrichers)
    source, live = aws_options.build_live(args, aws_options.progress())
    return gather(source, live=live, offline=enrichers)


def _notes(gathered: Gathered, now: datetime) -> tuple[str, ...]:
    notes: list[str] = []
    if not gathered.feeds:
        notes.append("no enrichment source was given: KEV/EPSS rules cannot match "
                     "(pass --kev-catalog/--epss-scores or run `gate feeds update`)")
    for feed in gathered.feeds:
        age = (now.date() - feed.as_of.astimezone(UTC).date()).days if feed.as_of else 0
        if age > STALE_FEED_DAYS:
            notes.append(f"{feed.name} data is {age} days old ({feed.as_of.date() if feed.as_of else '?'}); "
                         "refresh it with `gate feeds update` or newer files")
    arns = {f.image_build_version_arn for f in gathered.findings if f.image_build_version_arn}
    if len(arns) > 1:
        notes.append(f"the findings cover {len(arns)} image build versions: " + ", ".join(sorted(arns)))
    return tuple(notes)


def run(args: argparse.Namespace) -> int:
    now = _now(args.as_of)
    specs: list[ReportSpec] = args.report
    options = ReportOptions(color=not args.no_color and use_color(sys.stdout), sarif_location=args.sarif_location)
    policy = load_policy(args.policy)
    in_actions = github_mode(os.environ)
    try:
        gathered = _gathered(args, _offline_enrichers(args))
        evaluation = evaluate(policy, gathered.findings, gathered.enrichments, now=now, target=gathered.target,
                              feeds=gathered.feeds, notes=_notes(gathered, now))
    except GateError as e:
        failed = Evaluation(verdict=Verdict.ERROR, results=(), policy_name=policy.name, policy_source=policy.source,
                            rules=tuple(r.info for r in policy.rules), evaluated_at=now, errors=(e.diagnostics(),))
        if e.exit_code == ExitCode.INCOMPLETE:
            written = write_reports(failed, [s for s in specs if s.path != "-"], options)
            if in_actions:
                publish_to_github(failed, written, options, os.environ)
        raise
    to_stdout = any(s.path == "-" for s in specs)
    summary = formatter(Format.TABLE).render(evaluation, options if not to_stdout else
                                             ReportOptions(color=False, sarif_location=args.sarif_location))
    stream = sys.stderr if to_stdout else sys.stdout
    # NOTE: in Actions, stdout lines are parsed for workflow commands; finding text must never be one.
    token = secrets.token_hex(16) if in_actions else None
    if token:
        print(f"::stop-commands::{token}", file=stream)
    print(summary, file=stream, end="" if summary.endswith("\n") else "\n")
    if token:
        print(f"::{token}::", file=stream)
    written = write_reports(evaluation, specs, options)
    if in_actions:
        publish_to_github(evaluation, written, options, os.environ)
    return ExitCode.VIOLATION if evaluation.verdict is Verdict.FAIL else ExitCode.PASS
