"""What GitHub's Actions runner parses (not a `--report` format): workflow-command annotations and `$GITHUB_OUTPUT`
lines, written by `cli/output` in GitHub Actions mode.

Every annotation is exactly one log line: finding text is encoded as workflow-command data (and
properties additionally escape `:` and `,`), so no `::command::` inside a title can start a second
command. GitHub shows only 10 error and 10 warning annotations per step, so at most that many of
each are emitted, most severe first, plus one notice saying how many more the summary lists.
"""

import json
import re
from collections.abc import Mapping

from gate.outcome import ActionStatus, Decision, Evaluation, FindingResult
from gate.reports import escape, explain

ANNOTATIONS_PER_KIND = 10
"""GitHub's per-step display limit for each of error and warning annotations."""
TEXT_LIMIT = 300
_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_DELIMITER = "GATE_EOF"


def _annotation(kind: str, result: FindingResult, evaluation: Evaluation, file: str | None) -> str:
    finding = result.finding
    title = f"gate: {finding.vulnerability_id} ({finding.severity})"
    properties = [f"title={escape.workflow_property(escape.clip(title, TEXT_LIMIT))}"]
    if file:
        properties.append(f"file={escape.workflow_property(file)}")
    packages = [escape.clip(explain.package_text(p), TEXT_LIMIT) for p in finding.packages]
    lines = [", ".join(packages) or "no package named", *explain.why(result, evaluation)]
    return f"::{kind} {','.join(properties)}::{escape.workflow_data(chr(10).join(lines))}"


def annotations(evaluation: Evaluation, file: str | None = None) -> list[str]:
    """`::error` lines for blocking findings and `::warning` lines for warned ones.

    `file` (a repository path, such as the image recipe) anchors the annotations; without it they
    appear on the run's summary page only.
    """
    results = explain.sorted_results(evaluation.results)
    lines: list[str] = []
    left_out = 0
    for decision, kind in ((Decision.FAIL, "error"), (Decision.WARN, "warning")):
        matching = [r for r in results if r.decision is decision]
        lines += [_annotation(kind, r, evaluation, file) for r in matching[:ANNOTATIONS_PER_KIND]]
        left_out += max(len(matching) - ANNOTATIONS_PER_KIND, 0)
    if left_out:
        message = f"{left_out} more findings are not annotated; the step summary lists them all"
        lines.append(f"::notice title=gate::{escape.workflow_data(message)}")
    since = explain.baseline_lines(evaluation, limit=ANNOTATIONS_PER_KIND)
    if since:
        lines.append(f"::notice title=gate: since the baseline::{escape.workflow_data(chr(10).join(since))}")
    # NOTE: exceptions about to lapse or revoked are warnings of their own, outside the per-finding budget.
    for alert in explain.exception_alerts(evaluation)[:ANNOTATIONS_PER_KIND]:
        title = escape.workflow_property("gate: exception " + alert.split(":", 1)[0])
        lines.append(f"::warning title={title}::{escape.workflow_data(escape.clip(alert, TEXT_LIMIT * 2))}")
    return lines


def _delimiter(value: str) -> str:
    """A heredoc delimiter absent from the value: deterministic, and no value can contain it."""
    delimiter = _DELIMITER
    counter = 0
    while delimiter in value:
        counter += 1
        delimiter = f"{_DELIMITER}_{counter}"
    return delimiter


def _output(name: str, value: str, *, multiline: bool = False) -> str:
    if not _OUTPUT_NAME.fullmatch(name):
        raise ValueError(f"not a usable GitHub output name: {name!r}")
    if not multiline:
        return f"{name}={value}\n"
    delimiter = _delimiter(value)
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def outputs(evaluation: Evaluation, report_paths: Mapping[str, str]) -> str:
    """`$GITHUB_OUTPUT` text: the verdict, the counts, and `report-<format>` for each report written.

    Paths come from the user and may hold newlines, so those values use the `name<<DELIMITER` form.
    """
    summary = evaluation.summary
    text = _output("verdict", evaluation.verdict.value)
    text += _output("failed", str(summary.failed))
    text += _output("warned", str(summary.warned))
    text += _output("total", str(summary.total))
    for fmt, path in report_paths.items():
        text += _output(f"report-{fmt}", path, multiline=True)
    if evaluation.actions:
        # NOTE: per step (region and AMI, step id): what was done and why; ASCII JSON on one line, so no value
        # can break out of the heredoc or carry a control character.
        done = [{"action": r.action, "target": r.target, "operation": r.operation, "status": r.status.value,
                 "detail": r.detail} for r in evaluation.actions]
        text += _output("actions", json.dumps(done, ensure_ascii=True), multiline=True)
    for record in evaluation.actions:  # NOTE: named only once it was signed and written
        if record.action == "attest" and record.status is ActionStatus.DONE:
            text += _output("attestation-path", record.target, multiline=True)
    return text
