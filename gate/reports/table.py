"""The terminal summary: verdict, counts, then what blocks and why, in colour only when asked.

Every piece of finding text passes through `escape.neutralise`, which shows control characters as
`\\x1b` and the like, so a hostile title cannot move the cursor, recolour or clear the terminal.
"""

from __future__ import annotations

from gate.model import Decision, Evaluation, FindingResult, Verdict
from gate.reports import escape, explain
from gate.reports.interface import ReportOptions

TEXT_LIMIT = 200
"""Characters of a title or package list per line: a terminal summary is read, not searched."""

_RESET = "\x1b[0m"
_STYLE = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "red": "\x1b[31m",
    "green": "\x1b[32m",
    "yellow": "\x1b[33m",
    "magenta": "\x1b[35m",
}
_VERDICT_STYLE = {Verdict.PASS: "green", Verdict.FAIL: "red", Verdict.ERROR: "magenta"}
_SEVERITY_STYLE = {"CRITICAL": "magenta", "HIGH": "red", "MEDIUM": "yellow"}


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


class TableReport:
    """Renders the human summary the CLI prints to the terminal."""

    name = "table"

    def render(self, evaluation: Evaluation, options: ReportOptions) -> str:
        paint = _Painter(options.color)
        results = explain.sorted_results(evaluation.results)
        lines = _header(evaluation, paint)
        failing = [r for r in results if r.decision is Decision.FAIL]
        if failing:
            lines += ["", paint(f"Blocking findings ({len(failing)})", "bold", "red")]
            for result in failing:
                lines += _blocking(result, evaluation, paint)
        warned = [r for r in results if r.decision is Decision.WARN]
        if warned:
            lines += ["", paint(f"Warnings ({len(warned)})", "bold", "yellow")]
            lines += [_warning(r, paint) for r in warned]
        lines += _section("Exceptions to review", explain.exception_lines(evaluation), paint)
        now = evaluation.evaluated_at
        feeds = tuple(explain.feed_text(f, now) for f in evaluation.feeds)
        lines += _section("Data sources", feeds, paint)
        lines += _section("Notes", evaluation.notes, paint)
        lines += _section("Errors", evaluation.errors, paint)
        return "\n".join(lines) + "\n"


def _header(evaluation: Evaluation, paint: _Painter) -> list[str]:
    verdict = evaluation.verdict
    summary = evaluation.summary
    policy = f"policy {_text(evaluation.policy_name)} ({_text(evaluation.policy_source)})"
    lines = [f"{paint(f'gate: {verdict.value.upper()}', 'bold', _VERDICT_STYLE[verdict])}  {policy}"]
    if evaluation.target:
        lines.append(f"target: {_text(evaluation.target)}")
    lines.append(
        f"findings: {summary.total} total, {summary.failed} fail, {summary.warned} warn, "
        f"{summary.excepted} excepted, {summary.passed} pass"
    )
    if evaluation.image_builder_check is not None:
        lines.append(f"image builder: {_text(evaluation.image_builder_check.text)}")
    counts = explain.severity_counts(evaluation)
    if counts:
        parts = [f"{paint(_text(s), *_severity_style(s))} {sum(row.values())}" for s, row in counts.items()]
        lines.append(f"severity: {', '.join(parts)}")
    return lines


def _severity_style(severity: str) -> tuple[str, ...]:
    style = _SEVERITY_STYLE.get(severity)
    return (style,) if style else ()


def _title(result: FindingResult, paint: _Painter) -> str:
    finding = result.finding
    severity = paint(_text(finding.severity, 20), *_severity_style(finding.severity))
    vid = paint(_text(finding.vulnerability_id, 80), "bold")
    packages = ", ".join(explain.package_text(p) for p in finding.packages) or "no package"
    return f"{vid}  {severity}  {_text(packages)}"


def _blocking(result: FindingResult, evaluation: Evaluation, paint: _Painter) -> list[str]:
    """The finding, each rule that fired with its reasons, then the data behind them."""
    lines = [f"  {_title(result, paint)}"]
    if result.finding.title:
        lines.append(f"    {paint(_text(result.finding.title), 'dim')}")
    lines += [f"    ✗ {_text(line)}" for line in explain.match_lines(result, evaluation)]
    now = evaluation.evaluated_at
    lines += [f"    · {_text(line)}" for line in explain.enrichment_lines(result.enrichment, now)]
    return lines


def _warning(result: FindingResult, paint: _Painter) -> str:
    reasons = "; ".join(explain.match_text(m) for m in result.matches if not m.excepted_by)
    return f"  {_title(result, paint)}  {paint('!', 'yellow')} {_text(reasons)}"


def _section(title: str, items: tuple[str, ...], paint: _Painter) -> list[str]:
    if not items:
        return []
    return ["", paint(title, "bold"), *(f"  {_text(item)}" for item in items)]
