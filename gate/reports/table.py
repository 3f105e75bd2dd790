"""The terminal summary: the verdict, what to update to ship, what only warns, what is excepted, the verdict again.

It is bounded by default — a fixed number of blocking findings, warning rules and exceptions, each
line clipped — so 100,000 findings cannot flood a CI log; `verbose` lists everything. Every piece
of finding text passes through `escape.neutralise`, which shows control characters as `\\x1b` and
the like, so a hostile title cannot move the cursor, recolour or clear the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from gate.outcome import Decision, Evaluation, FindingResult, Verdict
from gate.reports import digest, escape, explain
from gate.reports.interface import ReportOptions

TEXT_LIMIT = 200
"""Characters of a title or package list per line: a terminal summary is read, not searched."""
BLOCKING_LIMIT = 40
"""Blocking findings listed by default; the rest are counted (every report lists them all)."""
LIST_LIMIT = 15
"""Warning rules, example ids, exceptions and notes shown per section by default."""

_RESET = "\x1b[0m"
_STYLE = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "red": "\x1b[31m",
    "green": "\x1b[32m",
    "yellow": "\x1b[33m",
    "blue": "\x1b[34m",
    "magenta": "\x1b[35m",
}
_VERDICT_STYLE = {Verdict.PASS: "green", Verdict.FAIL: "red", Verdict.ERROR: "magenta"}
_SEVERITY_STYLE = {"CRITICAL": "magenta", "HIGH": "red", "MEDIUM": "yellow"}
MARKS = {Decision.FAIL: "✗", Decision.WARN: "!", Decision.EXCEPTED: "~", Decision.PASS: "✓"}
"""One mark per decision, so a warning never wears the fail mark."""


class _Painter:
    """Wraps text in ANSI styles, or leaves it alone when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        return "".join(_STYLE[s] for s in styles) + text + _RESET


def _text(value: str, limit: int = TEXT_LIMIT) -> str:
    return escape.clip(escape.neutralise(value), limit)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class TableReport:
    """Renders the human summary the CLI prints to the terminal."""

    name = "table"

    def render(self, evaluation: Evaluation, options: ReportOptions) -> str:
        paint = _Painter(options.color)
        limit = None if options.verbose else LIST_LIMIT
        results = explain.sorted_results(evaluation.results)
        lines = _header(evaluation, paint)
        lines += _section("Errors", evaluation.errors, paint, limit)
        lines += _blocking(evaluation, results, paint, None if options.verbose else BLOCKING_LIMIT)
        lines += _warnings(evaluation, results, paint, options.verbose)
        lines += _excepted(evaluation, results, paint, limit)
        lines += _section("Since the baseline", explain.baseline_lines(evaluation), paint, limit)
        lines += _section("Exceptions to review", explain.exception_lines(evaluation), paint, limit)
        now = evaluation.evaluated_at
        lines += _section("Data sources", tuple(explain.feed_text(f, now) for f in evaluation.feeds), paint, limit)
        lines += _section("Notes", evaluation.notes, paint, limit)
        lines += _section("After the verdict", explain.action_lines(evaluation), paint, None)
        lines += ["", _verdict_line(evaluation, paint)]
        return "\n".join(lines) + "\n"


def _verdict_line(evaluation: Evaluation, paint: _Painter) -> str:
    """`gate: FAIL — 2 blocking, 2 warnings, 1 excepted, 2 passed (7 findings)`: first and last line alike."""
    s = evaluation.summary
    verdict = paint(f"gate: {evaluation.verdict.value.upper()}", "bold", _VERDICT_STYLE[evaluation.verdict])
    if evaluation.verdict is Verdict.ERROR:
        return f"{verdict} — could not complete: {_plural(len(evaluation.errors), 'error')}, nothing was decided"
    counts = (f"{s.failed} blocking, {_plural(s.warned, 'warning')}, {s.excepted} excepted, "
              f"{s.passed} passed ({_plural(s.total, 'finding')})")
    return f"{verdict} — {counts}"


def _header(evaluation: Evaluation, paint: _Painter) -> list[str]:
    policy = f"policy {_text(evaluation.policy_name)} ({_text(evaluation.policy_source)})"
    lines = [_verdict_line(evaluation, paint), policy]
    if evaluation.target:
        lines.append(f"target: {_text(evaluation.target)}")
    if evaluation.image_builder_check is not None:
        lines.append(f"image builder: {_text(evaluation.image_builder_check.text)}")
    counts = explain.severity_counts(evaluation)
    if counts:
        parts = [f"{paint(_text(s, 20), *_severity_style(s))} {sum(row.values())}" for s, row in counts.items()]
        lines.append(f"severity: {', '.join(parts)}")
    return lines


def _severity_style(severity: str) -> tuple[str, ...]:
    style = _SEVERITY_STYLE.get(severity)
    return (style,) if style else ()


def _finding(result: FindingResult, paint: _Painter) -> str:
    finding = result.finding
    severity = paint(_text(finding.severity, 20), *_severity_style(finding.severity))
    return f"{paint(_text(finding.vulnerability_id, 80), 'bold')} {severity}"


def _blocking(evaluation: Evaluation, results: Sequence[FindingResult], paint: _Painter,
              limit: int | None) -> list[str]:
    """Blocking findings grouped by package: the upgrade, Image Builder's command, then each finding and why."""
    groups = digest.fix_groups(results, limit=limit)
    if not groups:
        return []
    blocking = [r for r in results if r.decision is Decision.FAIL]
    total, count = len(blocking), digest.count_fix_groups(results)
    now = evaluation.evaluated_at
    shared = digest.shared_provenance(blocking)
    title = f"To ship, update these packages ({_plural(total, 'blocking finding')} in {_plural(count, 'group')})"
    lines = ["", paint(title, "bold", "red")]
    shown = 0
    for group in groups:
        if limit is not None and shown >= limit:
            break
        lines += [f"  {paint(_text(v.text), 'bold')}" for v in group.versions]
        lines += [f"    fix: {paint(_text(text), 'blue')}" for text in group.remediations]
        for result in group.results:
            if limit is not None and shown >= limit:
                break
            shown += 1
            rules = ", ".join(m.rule_id for m in result.blocking)
            if result.baseline is not None:  # NOTE: with a baseline, say whether this one is new
                rules += f" — {explain.state_text(result, evaluation.evaluated_at)}"
            lines.append(f"    {paint(MARKS[Decision.FAIL], 'red')} {_finding(result, paint)}  {_text(rules)}")
            facts = " · ".join(digest.facts(result.enrichment))
            if facts:
                lines.append(f"        {_text(facts)}")
            pairs = digest.provenances(result.enrichment)
            if shared is None and pairs:
                lines.append(f"        {paint(_text('from ' + digest.provenance_text(pairs, now)), 'dim')}")
            if limit is None:
                lines += [f"        {_text(line)}" for line in explain.match_lines(result, evaluation)]
    if shown < total:
        lines.append(f"  … and {total - shown} more blocking findings: run with --verbose, "
                     "or open the JSON/HTML report")
    if shared:
        lines.append(paint(f"  exploit data: {_text(digest.provenance_text(shared, now))}", "dim"))
    return lines


def _warnings(evaluation: Evaluation, results: Sequence[FindingResult], paint: _Painter, verbose: bool) -> list[str]:
    """Warnings by rule with counts and a few example ids; every finding under its rule with `verbose`."""
    tallies = digest.warning_tallies(evaluation, results)
    if not tallies:
        return []
    warned = evaluation.summary.warned
    hint = "" if verbose else " (each finding: --verbose, or the JSON/HTML report)"
    lines = ["", paint(f"Warnings: {_plural(warned, 'finding')}, by rule{hint}", "bold", "yellow")]
    for n, tally in enumerate(tallies):
        if not verbose and n >= LIST_LIMIT:
            lines.append(f"  … and {len(tallies) - n} more warning rules")
            break
        mark = paint(MARKS[Decision.WARN], "yellow")
        lines.append(f"  {mark} {_text(tally.rule.id, 80)}  {len(tally.results)}  {_text(tally.rule.when)}")
        if verbose:
            for result in tally.results:
                packages = ", ".join(explain.package_text(p) for p in result.finding.packages)
                lines.append(f"      {_finding(result, paint)}  {_text(packages)}")
        else:
            ids = list(dict.fromkeys(r.finding.vulnerability_id for r in tally.results))
            more = f", … {len(ids) - 5} more" if len(ids) > 5 else ""
            lines.append(f"      {_text(', '.join(ids[:5]) + more)}")
    return lines


def _excepted(evaluation: Evaluation, results: Sequence[FindingResult], paint: _Painter,
              limit: int | None) -> list[str]:
    """Each excepted finding with the exception's reason, owner and expiry: the risk someone accepted."""
    rows = digest.excepted(evaluation, results)
    if not rows:
        return []
    lines = ["", paint(f"Excepted ({len(rows)}): accepted risk, with who accepted it and until when", "bold")]
    for n, row in enumerate(rows):
        if limit is not None and n >= limit:
            lines.append(f"  … and {len(rows) - n} more excepted findings")
            break
        packages = ", ".join(row.result.finding.package_names)
        lines.append(f"  {MARKS[Decision.EXCEPTED]} {_finding(row.result, paint)}  {_text(packages)}  "
                     f"rules {_text(', '.join(row.rules))}")
        for exc in row.exceptions:
            owner = f", owner {exc.owner}" if exc.owner else ", no owner"
            text = f"{exc.id}: {digest.expiry_text(exc, evaluation.evaluated_at)}{owner} — {exc.reason}"
            lines.append(f"      {_text(text)}")
    return lines


def _section(title: str, items: tuple[str, ...], paint: _Painter, limit: int | None) -> list[str]:
    if not items:
        return []
    shown = items if limit is None else items[:limit]
    lines = ["", paint(title, "bold"), *(f"  {_text(item)}" for item in shown)]
    if len(shown) < len(items):
        lines.append(f"  … and {len(items) - len(shown)} more")
    return lines
