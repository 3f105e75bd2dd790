"""SARIF 2.1.0 for GitHub code scanning: one rule per policy rule, one result per blocking or warned finding.

Choices GitHub's ingestion forces or favours:

- Findings live in an AMI, not in a source file, yet GitHub shows only results with a location. Every
  result points at line 1 of `options.sarif_location`, the file that defines the image (pass the
  recipe or Dockerfile path from the repository root); without it, `image-recipe.yaml`.
- All results share that one line, so GitHub's own line-hash fingerprint would merge them into one
  alert. Each result therefore carries `partialFingerprints.primaryLocationLineHash` derived from
  the finding's key and rule id: stable across runs, distinct across findings.
- Excepted and passing findings are not results. GitHub ignores SARIF `suppressions` and would open
  an alert for them; leaving them out closes the alert when an exception lands. Run properties
  still count them.
- With a baseline, results carry `baselineState` (`new` or `unchanged`). Fixed findings are not
  `absent` results: GitHub opens an alert for every result whatever its `kind` or `baselineState`,
  and closes a fixed finding's alert by itself once its result stops appearing. They are listed,
  each with `baselineState: absent`, in the run property `fixed`.
- GitHub rejects a run of more than 25,000 results and keeps only 5,000 of them, and rejects files
  over 10 MB; a run holds at most `MAX_RESULTS` results within `MAX_BYTES`, failing findings first,
  then by severity, and says in a notification and in run properties how many were left out.
- The log is indented for people, except that each result is one line (json's C encoder writes it;
  the indenting encoder is pure Python and was most of the report's time): a diff of two logs
  still shows one changed line per changed result.
- GitHub reads `security-severity` only from rules, and a policy rule spans findings of every
  severity, so rules carry none (alerts show the gate's own error/warning level). Each result
  carries the finding's score in `properties.security-severity` for other consumers.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from gate import __version__
from gate.declared import Action, RuleInfo
from gate.outcome import Decision, Evaluation, FindingResult, Verdict
from gate.reports import escape, explain
from gate.reports.interface import ReportOptions
from gate.timeutil import utc

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
DEFAULT_LOCATION = "image-recipe.yaml"
INFORMATION_URI: str | None = None
"""The project's home page, shown by SARIF viewers; omitted until the project has a public URL."""
DESCRIPTION_LIMIT = 1024
"""GitHub truncates rule descriptions beyond this many characters."""
TEXT_LIMIT = 300
"""Finding text (titles, package names) in messages: enough to recognise, not a 100 kB paste."""

MAX_RESULTS = 5_000
"""GitHub code scanning stores at most 5,000 results of a run (and rejects runs over 25,000)."""
MAX_BYTES = 10_000_000
"""GitHub rejects SARIF uploads over 10 MB (gzipped); staying under it uncompressed is always safe."""
_INDENT = " " * 8
"""The depth of a result in the log (`runs[0].results[i]`) at json's indent=2."""
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
"""One result per line, spaced as the indented log is: no indent, so json's C encoder runs."""

_LEVEL = {Action.FAIL: "error", Action.WARN: "warning"}
_VERB = {Action.FAIL: "Fails the release", Action.WARN: "Warns"}

JsonObject = dict[str, Any]


class SarifReport:
    """Renders the SARIF log that `github/codeql-action/upload-sarif` accepts."""

    name = "sarif"

    def render(self, evaluation: Evaluation, options: ReportOptions) -> str:
        rules = _rules(evaluation)
        index = {rule.id: i for i, rule in enumerate(rules)}
        location = _uri(options.sarif_location or DEFAULT_LOCATION)
        driver: JsonObject = {"name": "gate", "version": __version__}
        driver["semanticVersion"] = __version__
        if INFORMATION_URI:
            driver["informationUri"] = INFORMATION_URI
        driver["rules"] = [_descriptor(rule, evaluation) for rule in rules]
        shown = [r for r in explain.sorted_results(evaluation.results) if r.decision in (Decision.FAIL, Decision.WARN)]
        run: JsonObject = {
            "tool": {"driver": driver},
            "invocations": [_invocation(evaluation, None)],
            "results": [_PLACEHOLDER],
            "properties": _run_properties(evaluation),
        }
        # NOTE: 4 kB is kept for the note on omissions, added once the results are counted.
        budget = MAX_BYTES - len(_dump(run, shown, 0).encode("utf-8", "surrogatepass")) - 4096
        texts: list[str] = []
        for result in shown[:MAX_RESULTS]:
            text = _indented(_result(result, evaluation, index, location))
            budget -= len(text.encode("utf-8", "surrogatepass")) + 2
            if budget < 0:
                break
            texts.append(text)
        if len(texts) < len(shown):
            omitted = _omitted(len(texts), shown)
            run["invocations"] = [_invocation(evaluation, omitted["note"])]
            run["properties"]["omitted"] = omitted
        return _dump(run, texts, len(texts)) + "\n"


_PLACEHOLDER = "\x00gate-results\x00"


def _dump(run: JsonObject, texts: Sequence[object], count: int) -> str:
    """json.dumps(log, indent=2) of the log, with the results' texts (already indented) in their place."""
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    head = _escaped(json.dumps(log, indent=2, ensure_ascii=False))
    if count == 0:
        return head.replace(f'[\n{_INDENT}"\\u0000gate-results\\u0000"\n      ]', "[]")
    return head.replace(f'{_INDENT}"\\u0000gate-results\\u0000"', ",\n".join(str(t) for t in texts[:count]))


def _indented(result: JsonObject) -> str:
    return _escaped(_INDENT + _ENCODE(result))


def _escaped(text: str) -> str:
    """JSON text as written to a file and to stdout alike, so the size budget counts what is written.

    Lone surrogates are replaced (strict JSON readers reject them), then raw C1, bidi and
    line-separator characters and `##[` are spelled as escapes: the same value, which
    `streams.document` would otherwise escape on stdout only, after the budget was counted.
    """
    if escape.json_text(text) is text:  # NOTE: nothing to escape, no surrogate either: the usual case, one scan
        return text
    return escape.json_text(escape.scrub(text))


def _omitted(kept: int, shown: list[FindingResult]) -> JsonObject:
    left = shown[kept:]
    failing = sum(r.decision is Decision.FAIL for r in left)
    note = (f"This SARIF log lists {kept:,} of {len(shown):,} failing or warned findings, failing first, then by "
            f"severity; {len(left):,} ({failing:,} failing) are left out to stay within GitHub code scanning's "
            f"limits ({MAX_RESULTS:,} results a run, {MAX_BYTES // 1_000_000} MB a file). "
            "The JSON report lists every finding.")
    return {"results": len(left), "failing": failing, "maxResults": MAX_RESULTS, "maxBytes": MAX_BYTES,
            "note": note}


def _rules(evaluation: Evaluation) -> list[RuleInfo]:
    """The policy's rules, plus any rule a match names that the policy summary lacks."""
    rules = list(evaluation.rules)
    known = {rule.id for rule in rules}
    for result in evaluation.results:
        for match in result.matches:
            if match.rule_id not in known:
                known.add(match.rule_id)
                rules.append(RuleInfo(match.rule_id, match.action, "(not in the policy summary)"))
    return rules


def _uri(path: str) -> str:
    """A relative URI reference GitHub can match to a repository file."""
    return quote(posixpath.normpath(path.replace("\\", "/")).lstrip("/"), safe="/-._~")


def _descriptor(rule: RuleInfo, evaluation: Evaluation) -> JsonObject:
    verb = _VERB[rule.action]
    condition = f"{verb} when: {rule.when}"
    short = rule.description or condition
    full = f"{rule.description} {condition}" if rule.description else condition
    origin = f"Rule {rule.id} of policy {evaluation.policy_name} ({evaluation.policy_source})."
    remedy = (
        "Upgrade the packages named in the alert to their fixed versions and rebuild the image, "
        "or record a time-limited exception for the vulnerability in the policy."
    )
    about = f"{escape.markdown(rule.description)}\n\n" if rule.description else ""
    markdown = (
        f"**{escape.markdown(rule.id)}**, policy {escape.markdown(evaluation.policy_name)}\n\n"
        f"{about}{verb} when: {escape.markdown_code(rule.when)}\n\n{remedy}"
    )
    return {
        "id": rule.id,
        "name": escape.clip(rule.id, 255),
        "shortDescription": {"text": escape.clip(short, DESCRIPTION_LIMIT)},
        "fullDescription": {"text": escape.clip(full, DESCRIPTION_LIMIT)},
        "defaultConfiguration": {"level": _LEVEL[rule.action]},
        "help": {"text": f"{origin} {full}\n\n{remedy}", "markdown": markdown},
        "properties": {"tags": ["security", "vulnerability", f"gate-{rule.action.value}"]},
    }


def fingerprint(result: FindingResult, rule_id: str) -> str:
    """A stable identity for an alert: the finding's key and the rule that raised it."""
    return hashlib.sha256(f"{result.finding.key}\n{rule_id}".encode("utf-8", "surrogatepass")).hexdigest()


def _result(result: FindingResult, evaluation: Evaluation, index: dict[str, int], location: str) -> JsonObject:
    finding = result.finding
    match = explain.primary_match(result)
    rule_id = match.rule_id if match else "gate"
    digest = fingerprint(result, rule_id)
    score = finding.inspector_score if finding.inspector_score is not None else finding.best_cvss
    properties: JsonObject = {
        "tags": ["security", "vulnerability", finding.severity.lower()],
        "vulnerabilityId": finding.vulnerability_id,
        "severity": finding.severity,
        "decision": result.decision.value,
        "packages": [escape.clip(p.name, TEXT_LIMIT) for p in finding.packages],
    }
    if score is not None:
        properties["security-severity"] = f"{score:.1f}"
    out: JsonObject = {"ruleId": rule_id}
    if rule_id in index:
        out["ruleIndex"] = index[rule_id]
    out.update(
        level="error" if result.decision is Decision.FAIL else "warning",
        message={"text": _message(result, evaluation)},
        locations=[
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": location},
                    "region": {"startLine": 1},
                }
            }
        ],
        partialFingerprints={
            "primaryLocationLineHash": f"{digest[:16]}:1",
            "gateFinding/v1": digest,
        },
        properties=properties,
    )
    if result.baseline is not None:
        out["baselineState"] = result.baseline.value
    return out


def _message(result: FindingResult, evaluation: Evaluation) -> str:
    """First sentence names the CVE and packages (GitHub's alert title); then title and why."""
    finding = result.finding
    packages = (
        ", ".join(escape.clip(explain.package_text(p), TEXT_LIMIT) for p in finding.packages) or "no package named"
    )
    effect = "blocks the release" if result.decision is Decision.FAIL else "needs attention"
    lines = [f"{finding.vulnerability_id} ({finding.severity}) in {packages} {effect}."]
    if finding.title:
        lines.append(escape.clip(finding.title, TEXT_LIMIT))
    lines.extend(explain.why(result, evaluation))
    return "\n".join(lines)


def _invocation(evaluation: Evaluation, omitted: str | None) -> JsonObject:
    invocation: JsonObject = {"executionSuccessful": evaluation.verdict is not Verdict.ERROR}
    if evaluation.evaluated_at is not None:
        stamp = utc(evaluation.evaluated_at)
        invocation["endTimeUtc"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    notices = [{"level": "error", "message": {"text": e}} for e in evaluation.errors]
    notices += [{"level": "note", "message": {"text": n}} for n in evaluation.notes]
    notices += [{"level": "warning", "message": {"text": a}} for a in explain.exception_alerts(evaluation)]
    if omitted:
        notices.append({"level": "warning", "message": {"text": omitted}})
    if notices:
        invocation["toolExecutionNotifications"] = notices
    return invocation


def _run_properties(evaluation: Evaluation) -> JsonObject:
    """What the results alone do not say: the verdict, and findings left out on purpose."""
    summary = evaluation.summary
    properties: JsonObject = {
        "verdict": evaluation.verdict.value,
        "policy": evaluation.policy_name,
        "policySource": evaluation.policy_source,
        "findings": {
            "total": summary.total,
            "failed": summary.failed,
            "warned": summary.warned,
            "excepted": summary.excepted,
            "passed": summary.passed,
        },
    }
    if evaluation.target:
        properties["target"] = evaluation.target
    check = explain.image_builder_check(evaluation)
    if check is not None:
        properties["imageBuilderCheck"] = check
    if evaluation.baseline is not None:
        properties["baseline"] = evaluation.baseline.target or evaluation.baseline.source
        properties["fixed"] = [
            {"vulnerabilityId": x.vulnerability_id, "packages": [escape.clip(p, TEXT_LIMIT) for p in x.packages],
             "severity": x.severity, "firstSeen": x.first_seen.isoformat(), "baselineState": "absent"}
            for x in evaluation.baseline.fixed
        ]
    return properties
