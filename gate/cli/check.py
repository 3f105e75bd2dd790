"""`gate check`: parse the options, hand the inputs to the run owner, render, and return the exit code."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from gate.cli import aws_options, config, streams
from gate.cli.actions import actions_from, add_action_arguments, resolve_action_options
from gate.cli.guard import ReportGuard
from gate.cli.output import ReportSpec, input_paths, parse_report_spec, prepare_reports, to_stream
from gate.cli.signals import Cancelled
from gate.errors import ExitCode, IncompleteError, UsageError
from gate.outcome import ActionRecord, Evaluation, Verdict
from gate.reports.interface import ReportOptions
from gate.reports.registry import Format, formatter
from gate.timeutil import parse_instant, utcnow


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="judge an image's findings against a policy",
                       description="Judge one image build version's scan findings against a policy.")
    src = p.add_argument_group("what to judge (one of)")
    src.add_argument("--findings", action="append", type=Path, metavar="FILE",
                     help="saved `aws imagebuilder list-image-scan-findings` or `aws ec2 get-image-findings` "
                     "output, or Inspector on-demand scan events (repeatable)")
    src.add_argument("--image", type=Path, metavar="FILE",
                     help="with --findings: the build's `aws imagebuilder get-image` output, so the dry run checks "
                     "its scan state and type as a live run does (without it an empty export is refused)")
    src.add_argument("--snapshot", type=Path, metavar="FILE", help="a snapshot written by `gate fetch`")
    aws_options.add_aws_arguments(src)
    enr = p.add_argument_group("enrichment")
    enr.add_argument("--finding-details", action="append", type=Path, default=[], metavar="FILE",
                     help="saved `aws inspector2 list-findings` / `batch-get-finding-details` output (repeatable)")
    enr.add_argument("--kev-catalog", type=Path, metavar="FILE", help="CISA known_exploited_vulnerabilities.json")
    enr.add_argument("--epss-scores", type=Path, metavar="FILE", help="FIRST EPSS CSV, plain or .gz")
    enr.add_argument("--vulnrichment", type=Path, metavar="DIR",
                     help="CISA SSVC points from CVE records: a clone of cisagov/vulnrichment or a flat folder")
    enr.add_argument("--vulnrichment-online", action="store_true",
                     help="look SSVC points up per CVE in the CVE record API (cached like Inspector answers)")
    enr.add_argument("--vulnrichment-url", metavar="URL", default=os.environ.get("GATE_VULNRICHMENT_URL"),
                     help="the CVE record API to ask (implies --vulnrichment-online; default: cveawg.mitre.org)")
    enr.add_argument("--no-cached-feeds", action="store_true",
                     help="don't use feeds downloaded by `gate feeds update`")
    enr.add_argument("--max-feed-age", type=config.hours_or_days, metavar="AGE",
                     help="refuse KEV/EPSS data older than this at the evaluation time, e.g. 30d, 36h "
                     "(default: the policy's max_feed_age, else 30d)")
    enr.add_argument("--allow-unanswerable", action="store_true",
                     help="judge rules whose fields no source in this run can answer as not matching, instead "
                     "of stopping with exit 3 (the reports say so)")
    base = p.add_argument_group("baseline (what is new since an earlier build)")
    base.add_argument("--baseline", metavar="FILE|previous|first",
                      help="the JSON report (or snapshot) of this pipeline's last build; `previous` reads the "
                      "pipeline's previous build live; `first`: no earlier build, every finding is new. "
                      "Answers the fields new, first_seen and days_open")
    base.add_argument("--baseline-key", metavar="KEY",
                      help="the --baseline FILE is a signed attestation (`gate check --attest`): use it only if "
                      "its signature verifies under this key (kms:KEY or file:PUBLIC.pem)")
    base.add_argument("--baseline-any-pipeline", action="store_true",
                      help="accept a baseline from another (or an unnamed) image pipeline")
    out = p.add_argument_group("policy and output")
    out.add_argument("--policy", default="default", metavar="NAME|FILE",
                     help="policy file or shipped policy name: default, strict, kev-only, ratchet, ssvc "
                     "(default: $GATE_POLICY or 'default')")
    out.add_argument("--vex", action="append", type=Path, default=[], metavar="FILE",
                     help="OpenVEX v0.2.0 document whose not_affected/fixed statements for this image cover "
                     "findings (repeatable; adds to the policy's `vex`)")
    out.add_argument("--expiring-within", type=_days, metavar="DAYS",
                     help="report exceptions expiring within DAYS (default: the policy's expiring_within_days, or 14)")
    out.add_argument("--report", action="append", default=[], type=parse_report_spec, metavar="FORMAT=PATH",
                     help="write a report: " + ", ".join(f.value for f in Format) + "; or template:FILE, your own "
                     "Jinja2 template over the JSON report's document; PATH - is stdout (repeatable)")
    out.add_argument("-f", "--format", type=_format, metavar="FORMAT",
                     help="one report in FORMAT to -o PATH, else to stdout: the short form of --report FORMAT=PATH")
    out.add_argument("-o", "--output", metavar="PATH", help="where -f's report goes (without -f: the table)")
    out.add_argument("-q", "--quiet", action="store_true",
                     help="print no summary and no notes, only errors: the exit code and the reports say the rest")
    out.add_argument("--sarif-location", metavar="PATH", help="repository file SARIF results point at")
    out.add_argument("--as-of", metavar="DATE", help="evaluate as on this UTC date/time (default: now)")
    out.add_argument("--no-color", action="store_true", help="no ANSI colour in the terminal summary "
                     "(also NO_COLOR; FORCE_COLOR forces it, TERM=dumb turns it off)")
    out.add_argument("--fail-on", type=config.fail_on, choices=list(config.FailOn), default="violation",
                     help="exit 1 on: violation (a finding fails, the default), warn (a finding fails or warns), "
                     "never (report only); errors always exit 2 or 3")
    out.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                     help="list every finding in the terminal summary, and show tracebacks for errors")
    out.add_argument("--config", metavar="FILE", help=f"options from this YAML file (default: $GATE_CONFIG, "
                     f"or {config.CONFIG_FILE} in the working directory); every option is also GATE_<OPTION>")
    add_action_arguments(p)
    p.set_defaults(func=cmd_check)
    config.defer(p)


def _days(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > 3650:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days between 0 and 3650")
    return int(text)


def _format(text: str) -> Format:
    try:
        return Format(text.strip().lower())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(f.value for f in Format)}") from None


def _report_specs(args: argparse.Namespace) -> list[ReportSpec]:
    """`--report` as given, plus the one report `-f/-o` asks for (the table on stdout is the summary itself)."""
    specs = list(args.report)
    fmt, path = args.format or Format.TABLE, args.output or "-"
    if (args.format or args.output) and not (fmt is Format.TABLE and path == "-"):
        specs.append(parse_report_spec(f"{fmt.value}={path}"))
    return specs



def cmd_check(args: argparse.Namespace) -> int:
    from gate.decide import decide  # noqa: PLC0415 - keep `gate --help` light
    from gate.inputs import open_plan  # noqa: PLC0415
    from gate.policy.loader import load_policy  # noqa: PLC0415
    from gate.run import judge_build  # noqa: PLC0415

    args = config.resolve(args, os.environ)
    try:
        now = parse_instant(args.as_of) if args.as_of else utcnow()
    except ValueError as e:
        raise UsageError(f"--as-of {e}") from None
    resolve_action_options(args)  # NOTE: `--event` names the build the inputs read
    inputs = aws_options.inputs_from(args)
    inputs.check_one_target()
    # NOTE: clashing report paths, or a report over an input, are exit 2 before any work.
    specs = prepare_reports(_report_specs(args),
                            [*input_paths(args), args.policy, *([args.baseline] if args.baseline else [])])
    options = ReportOptions(color=config.color(sys.stdout, os.environ, disabled=args.no_color),
                            sarif_location=args.sarif_location, verbose=bool(getattr(args, "verbose", False)))
    actions = actions_from(args, inputs, now=now)
    with ReportGuard(specs, options, os.environ, now=now, policy_name=args.policy) as reports:

        def judge() -> Evaluation:
            policy = load_policy(args.policy)
            reports.describe_policy(policy.name, policy.source, tuple(r.info for r in policy.rules))
            return judge_build(open_plan(inputs), policy, now=now, allow_unanswerable=args.allow_unanswerable,
                            expiring_within_days=args.expiring_within, max_feed_age=args.max_feed_age)

        log: list[ActionRecord] = []
        try:
            decided = decide(judge, actions, fail_on_warn=args.fail_on is config.FailOn.WARN, log=log)
        except (Cancelled, KeyboardInterrupt):  # NOTE: decide stopped the step on the way out: say so, then go on
            reports.record_actions(tuple(log))
            _say_actions(tuple(log))
            raise
        _say_actions(decided.actions)
        if decided.error is not None or decided.evaluation is None:
            reports.record_actions(decided.actions)
            raise decided.error or IncompleteError("no verdict")
        evaluation = decided.evaluation
        written = reports.write(evaluation)
        to_stdout = to_stream(specs, "stdout")
        if not args.quiet:
            summary = formatter(Format.TABLE).render(evaluation,
                                                     replace(options, color=False) if to_stdout else options)
            streams.summary(summary, "stderr" if to_stdout else "stdout")
        reports.publish(evaluation, written)
    failed_action = decided.action_error()
    if failed_action is not None:  # NOTE: after the reports: they keep the verdict and say what failed
        raise failed_action
    code = config.exit_code(evaluation, args.fail_on)
    if code is ExitCode.PASS and evaluation.verdict is Verdict.FAIL and not args.quiet:
        streams.note("policy violations reported; exiting 0 (--fail-on never)")
    return code


def _say_actions(records: tuple[ActionRecord, ...]) -> None:
    """One line on stderr per thing done after the verdict, so a CI log shows it without opening a report."""
    for r in records:
        streams.note(f"{r.action}: {r.operation} {r.target}: {r.status.value}" + (f" ({r.detail})" if r.detail else ""))
