"""JUnit XML for CI test views: one test case per finding, valid against the Jenkins and Ant schemas.

The strict Ant (windyroad) schema allows at most one `failure`, `error` or `skipped` per test case
and no output inside one, so the mapping is: a blocking finding is a `failure`; an excepted finding
is `skipped` (deliberately not enforced); a warned or passing finding is a plain passing case.
Warnings, exceptions, stale or expired exceptions and feed ages are listed as `WARNING: ...` lines
in the suite's `system-out`, and the counts also appear as suite properties. A run that could not
complete adds one `error` case, so CI never shows an error verdict as green. The Ant schema also
requires a `timestamp`; it is left out only when the evaluation carries no time.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gate.outcome import Decision, Evaluation, FindingResult, Verdict
from gate.reports import escape, explain
from gate.reports.interface import ReportOptions
from gate.timeutil import utc

TEXT_LIMIT = 300
"""Characters of a package list or title kept in names and messages."""


class JunitReport:
    """Renders a single `<testsuite>` named after the policy."""

    name = "junit"

    def render(self, evaluation: Evaluation, options: ReportOptions) -> str:
        results = explain.sorted_results(evaluation.results)
        summary = evaluation.summary
        errored = evaluation.verdict is Verdict.ERROR or bool(evaluation.errors)
        suite = ET.Element(
            "testsuite",
            name=escape.xml(evaluation.policy_name or "gate"),
            tests=str(summary.total + errored),
            failures=str(summary.failed),
            errors=str(int(errored)),
            skipped=str(summary.excepted),
            time="0",
        )
        if evaluation.evaluated_at is not None:
            stamp = utc(evaluation.evaluated_at)
            suite.set("timestamp", stamp.strftime("%Y-%m-%dT%H:%M:%S"))
        suite.set("hostname", "localhost")
        _properties(ET.SubElement(suite, "properties"), evaluation)
        if errored:
            _error_case(suite, evaluation)
        for result in results:
            _case(suite, result, evaluation)
        ET.SubElement(suite, "system-out").text = escape.xml(_system_out(results, evaluation))
        ET.SubElement(suite, "system-err").text = escape.xml("\n".join(evaluation.errors))
        ET.indent(suite)
        body = ET.tostring(suite, encoding="unicode")
        return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _properties(parent: ET.Element, evaluation: Evaluation) -> None:
    summary = evaluation.summary
    values = {
        "gate.verdict": evaluation.verdict.value,
        "gate.policy": evaluation.policy_name,
        "gate.policy-source": evaluation.policy_source,
        "gate.target": evaluation.target or "",
        "gate.failed": str(summary.failed),
        "gate.warned": str(summary.warned),
        "gate.excepted": str(summary.excepted),
        "gate.passed": str(summary.passed),
    }
    for name, value in values.items():
        ET.SubElement(parent, "property", name=name, value=escape.xml(value))


def _case_name(result: FindingResult) -> str:
    """`CVE-2024-3094 xz-libs, xz`: stable across runs so CI can track a case's history."""
    names = ", ".join(result.finding.package_names) or "no package"
    return escape.xml(f"{result.finding.vulnerability_id} {escape.clip(names, TEXT_LIMIT)}")


def _details(result: FindingResult, evaluation: Evaluation) -> str:
    finding = result.finding
    lines = [escape.clip(finding.title, TEXT_LIMIT)] if finding.title else []
    lines += [escape.clip(explain.package_text(p), TEXT_LIMIT) for p in finding.packages]
    lines += explain.why(result, evaluation)
    if finding.source_url:
        lines.append(finding.source_url)
    return escape.xml("\n".join(lines))


def _case(suite: ET.Element, result: FindingResult, evaluation: Evaluation) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        name=_case_name(result),
        classname=escape.xml(result.finding.severity),
        time="0",
    )
    if result.decision is Decision.FAIL:
        reasons = "; ".join(explain.match_text(m) for m in result.blocking)
        failure = ET.SubElement(case, "failure", type="gate.policy.fail", message=escape.xml(reasons))
        failure.text = _details(result, evaluation)
    elif result.decision is Decision.EXCEPTED:
        excepted_by = sorted({m.excepted_by for m in result.matches if m.excepted_by})
        message = f"excepted by {', '.join(excepted_by)}"
        skipped = ET.SubElement(case, "skipped", message=escape.xml(message))
        skipped.text = _details(result, evaluation)


def _error_case(suite: ET.Element, evaluation: Evaluation) -> None:
    case = ET.SubElement(suite, "testcase", name="evaluation completed", classname="gate", time="0")
    message = evaluation.errors[0] if evaluation.errors else "the gate could not complete"
    error = ET.SubElement(case, "error", type="gate.error", message=escape.xml(message))
    error.text = escape.xml("\n".join(evaluation.errors))


def _system_out(results: list[FindingResult], evaluation: Evaluation) -> str:
    """What a test view cannot show per case: warnings, exceptions, feeds, the verdict."""
    summary = evaluation.summary
    lines = [
        f"gate verdict: {evaluation.verdict.value.upper()} ({summary.failed} failed, "
        f"{summary.warned} warned, {summary.excepted} excepted, {summary.passed} passed)"
    ]
    for result in results:
        label = {Decision.WARN: "WARNING", Decision.EXCEPTED: "EXCEPTED"}.get(result.decision)
        if label:
            lines.append(f"{label}: {_case_name(result)}")
            lines.extend(f"    {line}" for line in explain.why(result, evaluation))
    lines.extend(f"WARNING: exception {line}" for line in explain.exception_lines(evaluation))
    lines.extend(f"NOTE: {note}" for note in evaluation.notes)
    now = evaluation.evaluated_at
    lines.extend(f"FEED: {explain.feed_text(f, now)}" for f in evaluation.feeds)
    return "\n".join(lines)
