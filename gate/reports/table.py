"""The terminal summary: the verdict, what to update to ship, what only warns, what is excepted, the verdict again.

It is bounded by default — a fixed number of blocking findings, warning rules and exceptions, each
line clipped — so 100,000 findings cannot flood a CI log; `verbose` lists everything. Every piece
of finding text passes through `escape.neutralise`, which shows control characters as `\\x1b` and
the like, so a hostile title cannot move the cursor, recolour or clear the terminal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from gate.outcome import Decision, Evaluation, FindingResult, Verdict
from gate.reports import digest, escape, explain
from gate.reports.interface import ReportOptions

TEXT_LIMIT = 200
"""Characters of a title or package list per line: a terminal summary is read, not searched."""
MAX_LINES = 80
"""Lines the default summary aims at: the blocking findings get what the other sections leave of it."""
BLOCKING_MIN_LINES = 16
"""Lines the blocking findings keep however full the other sections are."""
LIST_LIMIT = 6
"""Warning rules, excepted findings, exceptions, sources and notes shown per section by default."""
VERSION_LINES = 2
"""Package-version lines per group by default; the rest are counted on the last one."""

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
        verbose = options.verbose
        limit = None if verbose else LIST_LIMIT
        results = explain.sorted_results(evaluation.results)
        now = evaluation.evaluated_at
        head = _header(evaluation, paint) + _section("Errors", evaluation.errors, paint, limit)
        tail = _warnings(evaluation, results, paint, verbose)
        tail += _excepted(evaluation, results, paint, limit)
        tail += _section("Since the baseline", explain.baseline_lines(evaluation), paint, limit)
        tail += _section("Exceptions to review", explain.exception_lines(evaluation), paint, limit)
        tail += _section("Data sources", tuple(explain.feed_text(f, now) for f in evaluation.feeds), paint, limit)
        tail += _section("Notes", evaluation.notes, paint, limit)
        tail += _section("After the verdict", explain.action_lines(evaluation), paint, None)
        tail += ["", _verdict_line(evaluation, paint)]
        budget = None if verbose else max(MAX_LINES - len(head) - len(tail), BLOCKING_MIN_LINES)
        return "\n".join(head + _blocking(evaluation, results, paint, budget) + tail) + "\n"


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
              budget: int | None) -> list[str]:
    """Blocking findings under the package upgrade that clears them, one line each within `budget` lines.

    The data sources every blocker shares are named once at the end; a finding names its own only where
    they differ (another day of the same source). `budget` None (`--verbose`) lists everything.
    """
    blocking = [r for r in results if r.decision is Decision.FAIL]
    if not blocking:
        return []
    total, count = len(blocking), digest.count_fix_groups(results)
    now = evaluation.evaluated_at
    usual = _usual_days(blocking)
    title = f"To ship, update these packages ({_plural(total, 'blocking finding')} in {_plural(count, 'group')})"
    lines = ["", paint(title, "bold", "red")]
    room = None if budget is None else budget - len(lines) - 2  # the "… more" and the exploit data lines
    shown = complete = 0
    for group in digest.fix_groups(results, limit=None if budget is None else budget):
        head = _group_head(group, paint, verbose=budget is None)
        if room is not None and len(head) + 1 > room:
            break
        lines += head
        if room is not None:
            room -= len(head)
        listed = 0
        for result in group.results:
            entry = _blocker(result, evaluation, usual, paint, verbose=budget is None)
            if room is not None and len(entry) > room:
                break
            lines += entry
            listed += 1
            if room is not None:
                room -= len(entry)
        shown += listed
        complete += listed == len(group.results)
    if shown < total:
        left = total - shown
        lines.append(f"  … {left} more blocking {'finding' if left == 1 else 'findings'} in "
                     f"{_plural(count - complete, 'group')}: see the JSON/HTML report (all of them: --verbose)")
    if usual and budget is not None:  # NOTE: --verbose names each finding's sources
        lines.append(paint(f"  exploit data: {_text(digest.provenance_text(usual.items(), now))}", "dim"))
    return lines


def _group_head(group: digest.FixGroup, paint: _Painter, verbose: bool) -> list[str]:
    """The packages to update and how: every version and command with `verbose`, else two lines and one."""
    versions = [_text(v.text) for v in group.versions]
    if not verbose and len(versions) > VERSION_LINES:
        versions = [*versions[: VERSION_LINES - 1], f"{versions[VERSION_LINES - 1]} "
                    f"(and {_plural(len(versions) - VERSION_LINES, 'other version')})"]
    lines = [f"  {paint(v, 'bold')}" for v in versions]
    if verbose:
        return lines + [f"    fix: {paint(_text(text), 'blue')}" for text in group.remediations]
    if group.remediations:
        lines.append(f"    fix: {paint(_text('; '.join(group.remediations)), 'blue')}")
    return lines


def _blocker(result: FindingResult, evaluation: Evaluation, usual: dict[str, date | None], paint: _Painter,
             verbose: bool) -> list[str]:
    """`✗ CVE-… CRITICAL  rule, rule · KEV since … · EPSS 0.94`, plus its reasons with `verbose`."""
    now = evaluation.evaluated_at
    rules = ", ".join(m.rule_id for m in result.blocking)
    if result.baseline is not None:  # NOTE: with a baseline, say whether this one is new
        rules += f" — {explain.state_text(result, now)}"
    pairs = digest.provenances(result.enrichment)
    if verbose:
        lines = [f"    {paint(MARKS[Decision.FAIL], 'red')} {_finding(result, paint)}  {_text(rules)}"]
        facts = " · ".join(digest.facts(result.enrichment))
        lines += [f"        {_text(facts)}"] if facts else []
        lines += [f"        {paint(_text('from ' + digest.provenance_text(pairs, now)), 'dim')}"] if pairs else []
        return lines + [f"        {_text(line)}" for line in explain.match_lines(result, evaluation)]
    text = " · ".join([rules, *_brief_facts(result)])
    own = [(source, day) for source, day in pairs if usual.get(source, day) != day]
    tail = paint(" · from " + _text(digest.provenance_text(own, now)), "dim") if own else ""
    return [f"    {paint(MARKS[Decision.FAIL], 'red')} {_finding(result, paint)}  {_text(text)}{tail}"]


def _brief_facts(result: FindingResult) -> list[str]:
    """The exploit facts a reader weighs first: KEV listing and deadline, EPSS, SSVC, exploitation seen."""
    enrichment, out = result.enrichment, []
    kev = enrichment.kev
    if kev is not None:
        text = f"KEV since {explain.day_text(kev.date_added)}"
        text += f", due {explain.day_text(kev.due_date)}" if kev.due_date is not None else ""
        out.append(text + (", ransomware" if kev.ransomware else ""))
    if enrichment.epss is not None:
        model = enrichment.epss.model
        out.append(f"EPSS {digest.probability(enrichment.epss.score)}" + (f" ({model})" if model else ""))
    ssvc = enrichment.ssvc
    if ssvc is not None:
        automatable = {True: "yes", False: "no", None: "unknown"}[ssvc.automatable]
        out.append(f"SSVC exploitation {ssvc.exploitation or 'unknown'}, automatable {automatable}, "
                   f"technical impact {ssvc.technical_impact or 'unknown'}")
    if enrichment.exploit_observed is not None and enrichment.exploit_observed.value is True and kev is None:
        out.append("exploited in the wild")
    return out


def _usual_days(results: Sequence[FindingResult]) -> dict[str, date | None]:
    """Each source's most common day among the blockers: the list said once, in first-seen order."""
    tallies: dict[str, Counter[date | None]] = {}
    for result in results:
        for source, day in digest.provenances(result.enrichment):
            tallies.setdefault(source, Counter())[day] += 1
    return {source: days.most_common(1)[0][0] for source, days in tallies.items()}


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
    title = f"Excepted ({len(rows)}): accepted risk, with who accepted it and until when, or the VEX statement"
    lines = ["", paint(title, "bold")]
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
        if row.vex is not None:
            status, said, source = digest.vex_parts(row.vex)
            lines.append(f"      {_text(f'VEX {status}' + (f' — {said}' if said else '') + f' ({source})')}")
    return lines


def _section(title: str, items: tuple[str, ...], paint: _Painter, limit: int | None) -> list[str]:
    if not items:
        return []
    shown = items if limit is None else items[:limit]
    lines = ["", paint(title, "bold"), *(f"  {_text(item)}" for item in shown)]
    if len(shown) < len(items):
        lines.append(f"  … and {len(items) - len(shown)} more")
    return lines
