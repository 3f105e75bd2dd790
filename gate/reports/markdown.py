"""GitHub-flavoured Markdown for `$GITHUB_STEP_SUMMARY` and PR comments, kept under a byte budget.

GitHub rejects a step summary over 1 MiB. Findings are added row by row, most important first
(blocking, warnings, the rest folded in `<details>`); when the next row would not fit, it and every
later row are left out and a note says how many. Rows are whole, already-escaped lines, so a cut can
never split a row or an escape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from gate.outcome import Decision, Evaluation, FindingResult, Verdict
from gate.reports import digest, escape, explain
from gate.reports.interface import ReportOptions
from gate.timeutil import utc

DEFAULT_MAX_BYTES = 1024 * 1024 - 24 * 1024
"""GitHub's 1 MiB step-summary limit, less room for anything else the job appends."""
NOTE_RESERVE = 512
"""Bytes kept back for the truncation note and the closing `</details>`."""
TEXT_LIMIT = 160
"""Characters of free text (titles, package names) per cell: a table row should stay readable."""
LINE_LIMIT = 500
LIST_LIMIT = 50
"""Items per list (errors, notes, exceptions, feeds), so the fixed part stays small."""

_ICON = {Verdict.PASS: "✅", Verdict.FAIL: "❌", Verdict.ERROR: "⚠️"}
_HEAD = (
    "| Vulnerability | Severity | Packages (installed → fixed) | Rules and why | Exploit data |",
    "| --- | --- | --- | --- | --- |",
)
_REST_HEAD = (
    "| Vulnerability | Severity | Packages (installed → fixed) | Exploit data |",
    "| --- | --- | --- | --- |",
)
_EXC_HEAD = (
    "| Vulnerability | Severity | Packages (installed → fixed) | Exception or VEX, and rules | Reason "
    "| Owner or author | Expires |",
    "| --- | --- | --- | --- | --- | --- | --- |",
)


def _clip(text: str) -> str:
    return escape.clip(text, TEXT_LIMIT)


def _md(text: str) -> str:
    return escape.markdown(_clip(text))


def _prose(text: str) -> str:
    """gate's own sentence: its `backticked` commands become code spans, everything else stays literal.

    Safe for any text: each piece is escaped as text or fenced as an inert code span (outside tables only).
    """
    return "".join(escape.markdown_code(part) if code else escape.markdown(part).join(
        (" " if part[:1].isspace() else "", " " if part[-1:].isspace() else ""))
        for code, part in digest.code_spans(escape.clip(text, LINE_LIMIT))).strip()


def _size(lines: list[str]) -> int:
    return sum(len(line.encode()) + 1 for line in lines)


@dataclass
class _Budget:
    """Bytes still free; once a row has been refused, every later row is refused too."""

    left: int
    omitted: int = 0
    full: bool = False

    def admit(self, lines: list[str]) -> bool:
        cost = _size(lines)
        if self.full or cost > self.left:
            self.full = True
            return False
        self.left -= cost
        return True


@dataclass
class _Section:
    """A heading and table head, one row per result offered to the budget, and a closing tail."""

    head: list[str]
    results: list[FindingResult]
    row: Callable[[FindingResult], str]
    tail: list[str] = field(default_factory=list)

    def render(self, budget: _Budget) -> list[str]:
        if not self.results or not budget.admit(self.head + self.tail):
            budget.omitted += len(self.results)
            return []
        kept = self._rows(budget)
        budget.omitted += len(self.results) - len(kept)
        return self.head + kept + self.tail if kept else []

    def render_whole(self, budget: _Budget, counted: str) -> list[str]:
        """Every row, or none: when they do not all fit, the one line `counted` instead (rows given back)."""
        if not self.results:
            return []
        before = budget.left
        kept = self._rows(budget) if budget.admit(self.head + self.tail) else []
        if len(kept) == len(self.results):
            return self.head + kept + self.tail
        budget.left = before
        return [counted, ""]  # NOTE: its bytes were set aside when the budget was made

    def _rows(self, budget: _Budget) -> list[str]:
        kept: list[str] = []
        for result in self.results:
            # NOTE: rows are rendered only while they can still fit; the rest are just counted.
            row = self.row(result)
            if not budget.admit([row]):
                break
            kept.append(row)
        return kept


class MarkdownReport:
    """Renders the summary a reviewer reads first: verdict, what to update, then the rest folded."""

    name = "markdown"

    def render(self, evaluation: Evaluation, options: ReportOptions) -> str:
        limit = options.max_bytes or DEFAULT_MAX_BYTES
        results = explain.sorted_results(evaluation.results)
        by_decision = {d: [r for r in results if r.decision is d] for d in Decision}
        head = _header(evaluation) + _fixes(results)
        tail = _tail(evaluation)
        passed = by_decision[Decision.PASS]
        counted = (f"**Passed:** {len(passed)} findings no rule matched; not listed, to keep this summary under "
                   f"{limit} bytes (the JSON, SARIF and HTML reports list them).")
        budget = _Budget(limit - _size(head) - _size(tail) - NOTE_RESERVE - _size([counted, ""]))
        body: list[str] = []
        row = functools.partial(_row, evaluation=evaluation)
        failed, warned = by_decision[Decision.FAIL], by_decision[Decision.WARN]
        body += _Section([f"### Blocking findings ({len(failed)})", "", *_HEAD], failed, row, [""]).render(budget)
        excepted = by_decision[Decision.EXCEPTED]
        exc_row = functools.partial(_excepted_row, evaluation=evaluation)
        body += _Section([f"### Excepted findings ({len(excepted)})", "", *_EXC_HEAD], excepted, exc_row,
                         [""]).render(budget)
        body += _Section(_warnings_head(evaluation, results), warned, row, ["", "</details>", ""]).render(budget)
        summary = f"<details><summary>Passed: {len(passed)} findings no rule matched</summary>"
        rest_row = functools.partial(_rest_row, evaluation=evaluation)
        body += _Section([summary, "", *_REST_HEAD], passed, rest_row, ["", "</details>", ""]).render_whole(
            budget, counted)
        if budget.omitted:
            body += [
                f"**Note:** {budget.omitted} finding rows were left out to keep this summary "
                f"under {limit} bytes; the JSON, SARIF and HTML reports list every finding.",
                "",
            ]
        return "\n".join(head + body + tail).rstrip("\n") + "\n"


def _fixes(results: list[FindingResult]) -> list[str]:
    """What to do, first: each package group to update, to which version, with Image Builder's command."""
    groups = digest.fix_groups(results, limit=LIST_LIMIT)
    if not groups:
        return []
    count = digest.count_fix_groups(results)
    lines = [f"### To ship, update {count} package {'group' if count == 1 else 'groups'}", ""]
    for group in groups:
        versions = "; ".join(f"**{_md(v.text)}**" for v in group.versions)
        commands = ", ".join(escape.markdown_code(_clip(c)) for c in group.remediations)
        ids = ", ".join(_md(r.finding.vulnerability_id) for r in group.results[:10])
        more = f" and {len(group.results) - 10} more" if len(group.results) > 10 else ""
        lines.append(f"- {versions}" + (f": {commands}" if commands else "") + f" ({ids}{more})")
    if count > len(groups):
        lines.append(f"- … and {count - len(groups)} more groups (the blocking table lists every finding)")
    return [*lines, ""]


def _warnings_head(evaluation: Evaluation, results: list[FindingResult]) -> list[str]:
    """Warnings folded: the rules and their counts in the summary line, the table inside."""
    tallies = digest.warning_tallies(evaluation, results)
    counts = ", ".join(f"{_md(t.rule.id)} {len(t.results)}" for t in tallies[:LIST_LIMIT])
    warned = evaluation.summary.warned
    lines = [f"<details><summary>Warnings: {warned} {'finding' if warned == 1 else 'findings'} ({counts})</summary>",
             "", "| Rule | Findings | When |", "| --- | ---: | --- |"]
    lines += [f"| {_md(t.rule.id)} | {len(t.results)} | {escape.markdown(_clip(t.rule.when))} |"
              for t in tallies[:LIST_LIMIT]]
    return [*lines, "", *_HEAD]


def _header(evaluation: Evaluation) -> list[str]:
    summary = evaluation.summary
    md = escape.markdown
    verdict = evaluation.verdict
    lines = [
        f"## {_ICON[verdict]} gate: {verdict.value.upper()} ({summary.failed} blocking, "
        f"{summary.warned} {'warning' if summary.warned == 1 else 'warnings'})",
        "",
        f"Policy **{md(escape.clip(evaluation.policy_name, TEXT_LIMIT))}** "
        f"({md(escape.clip(evaluation.policy_source, TEXT_LIMIT))})",
    ]
    if evaluation.target:
        lines[-1] += f" · target {md(escape.clip(evaluation.target, TEXT_LIMIT))}"
    if evaluation.evaluated_at:
        stamp = utc(evaluation.evaluated_at).strftime("%Y-%m-%d %H:%M UTC")
        lines[-1] += f" · evaluated {stamp}"
    if evaluation.image_builder_check is not None:
        lines += ["", md(evaluation.image_builder_check.text)]
    lines += [
        "",
        "| Findings | Fail | Warn | Excepted | Pass |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| **{summary.total}** | {summary.failed} | {summary.warned} | {summary.excepted} | {summary.passed} |",
        "",
    ]
    counts = explain.severity_counts(evaluation)
    if counts:
        lines += ["| Severity | Fail | Warn | Excepted | Pass |", "| --- | ---: | ---: | ---: | ---: |"]
        for severity, row in counts.items():
            cells = " | ".join(str(row[d]) for d in explain.DECISION_ORDER)
            lines.append(f"| {md(severity)} | {cells} |")
        lines.append("")
    lines += _bullets("Errors", evaluation.errors)
    lines += _bullets("Notes", evaluation.notes)
    lines += _bullets("After the verdict", explain.action_lines(evaluation))
    lines += _bullets("Since the baseline", explain.baseline_lines(evaluation))
    return lines


def _bullets(title: str, items: tuple[str, ...]) -> list[str]:
    """A short list section; capped, so a flood of errors cannot crowd out the findings."""
    if not items:
        return []
    shown = [f"- {_prose(i)}" for i in items[:LIST_LIMIT]]
    if len(items) > LIST_LIMIT:
        shown.append(f"- … and {len(items) - LIST_LIMIT} more")
    return [f"### {title}", "", *shown, ""]


def _tail(evaluation: Evaluation) -> list[str]:
    """Housekeeping after the findings: exceptions to tidy and how old each feed is."""
    now = evaluation.evaluated_at
    feeds = tuple(explain.feed_text(f, now) for f in evaluation.feeds)
    return _bullets("Exceptions to review", explain.exception_lines(evaluation)) + _bullets("Data sources", feeds)


def _cell(lines: list[str] | tuple[str, ...], render: Callable[[str], str] = escape.markdown) -> str:
    return "<br>".join(render(line) for line in lines) or "–"


def _vulnerability(result: FindingResult) -> str:
    finding = result.finding
    vid = escape.markdown(escape.clip(finding.vulnerability_id, TEXT_LIMIT))
    url = escape.safe_url(finding.source_url)
    text = f"[{vid}]({url})" if url else vid
    if finding.title and not finding.title.startswith(f"{finding.vulnerability_id} - "):
        # NOTE: Image Builder's titles are `CVE-… - pkg, pkg`: the id and the Packages column say that already
        text += f"<br>{escape.markdown(escape.clip(finding.title, TEXT_LIMIT))}"
    return text


def _packages(result: FindingResult) -> str:
    texts = [escape.clip(explain.package_text(p), TEXT_LIMIT) for p in result.finding.packages]
    return _cell(texts)


def _intel(result: FindingResult, evaluation: Evaluation) -> str:
    """Exploit data without repeating where it came from; the source follows only when it is not the usual one."""
    lines = list(digest.facts(result.enrichment))
    pairs = digest.provenances(result.enrichment)
    if pairs:
        lines.append("from " + digest.provenance_text(pairs, evaluation.evaluated_at))
    return _cell(lines)


def _row(result: FindingResult, evaluation: Evaluation) -> str:
    why = _cell(explain.match_lines(result, evaluation))
    severity = escape.markdown(result.finding.severity)
    return f"| {_vulnerability(result)} | {severity} | {_packages(result)} | {why} | {_intel(result, evaluation)} |"


def _excepted_row(result: FindingResult, evaluation: Evaluation) -> str:
    rows = digest.excepted(evaluation, [result])
    refs = rows[0].exceptions if rows else ()
    rules = ", ".join(rows[0].rules) if rows else ""
    which = [f"{e.id} ({rules})" for e in refs]
    reason = [_clip(e.reason) for e in refs]
    owner = [_clip(e.owner) if e.owner else "no owner" for e in refs]
    expires = [digest.expiry_text(e, evaluation.evaluated_at) for e in refs]
    vex = rows[0].vex if rows else None
    if vex is not None:
        status, said, source = digest.vex_parts(vex)
        which.append(f"VEX {status} ({rules})")
        reason.append(_clip(f"{said} ({source})" if said else source))
        owner.append(_clip(vex.author))
        expires.append("no expiry (VEX)")
    severity = escape.markdown(result.finding.severity)
    return (f"| {_vulnerability(result)} | {severity} | {_packages(result)} | {_cell(which)} | {_cell(reason)} | "
            f"{_cell(owner)} | {_cell(expires)} |")


def _rest_row(result: FindingResult, evaluation: Evaluation) -> str:
    severity = escape.markdown(result.finding.severity)
    return f"| {_vulnerability(result)} | {severity} | {_packages(result)} | {_intel(result, evaluation)} |"
