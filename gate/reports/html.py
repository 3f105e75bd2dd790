"""A single self-contained HTML page: summary counts and a sortable, filterable table of every finding.

The page needs no network: CSS and JS are inlined from package data, and a Content-Security-Policy
allows exactly those two blocks (by hash) and nothing else, so even a value that escaped escaping
could not run a script or load anything. Finding data lives in the DOM, autoescaped by Jinja; the
script reads it through `textContent` and `data-*` attributes only.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from importlib import resources
from typing import Any

import jinja2
import markupsafe

from gate.model import Decision, Evaluation, FindingResult, severity_rank
from gate.reports import escape, explain
from gate.reports.interface import ReportOptions

TITLE_LIMIT = 500
"""Characters of a title shown in the table; the full description sits behind a disclosure."""
DESCRIPTION_LIMIT = 5000


def _finalize(value: object) -> object:
    """Jinja hook run on every `{{ }}` value: strings are scrubbed and HTML-escaped here."""
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return escape.html(value)
    return value


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("gate.reports", "templates"),
        autoescape=True,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@functools.cache
def _asset(name: str) -> markupsafe.Markup:
    """Trusted CSS or JS shipped with gate; refuses text that could close its `<style>`/`<script>`."""
    text = (resources.files("gate.reports") / "templates" / name).read_text(encoding="utf-8")
    if "</" in text or "<!--" in text:
        raise ValueError(f"{name} must not contain '</' or '<!--'")
    return markupsafe.Markup(text)  # noqa: S704 -- package data, not finding text


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


class HtmlReport:
    """Renders the report people open from a CI artifact or attach to a release ticket."""

    name = "html"

    def render(self, evaluation: Evaluation, options: ReportOptions) -> str:
        css, js = _asset("report.css"), _asset("report.js")
        template = _environment().get_template("report.html.j2")
        return template.render(
            evaluation=evaluation,
            summary=evaluation.summary,
            stamp=_stamp(evaluation),
            decisions=[(d.value, _count(evaluation, d)) for d in explain.DECISION_ORDER],
            severity_counts=list(explain.severity_counts(evaluation).items()),
            decision_order=explain.DECISION_ORDER,
            rows=[_row(r, evaluation) for r in explain.sorted_results(evaluation.results)],
            exceptions=explain.exception_lines(evaluation),
            baseline=explain.baseline_lines(evaluation),
            feeds=[explain.feed_text(f, evaluation.evaluated_at) for f in evaluation.feeds],
            css=css,
            js=js,
            csp=f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}",
        )


def _stamp(evaluation: Evaluation) -> str | None:
    if evaluation.evaluated_at is None:
        return None
    return explain.utc(evaluation.evaluated_at).strftime("%Y-%m-%d %H:%M UTC")


def _count(evaluation: Evaluation, decision: Decision) -> int:
    return sum(1 for r in evaluation.results if r.decision is decision)


def _row(result: FindingResult, evaluation: Evaluation) -> dict[str, Any]:
    """Plain strings and numbers for one table row; the template escapes all of them."""
    finding = result.finding
    score = finding.inspector_score if finding.inspector_score is not None else finding.best_cvss
    epss = result.enrichment.epss
    return {
        "decision": result.decision.value,
        "decision_rank": explain.DECISION_ORDER.index(result.decision),
        "severity": finding.severity,
        "severity_rank": severity_rank(finding.severity),
        "vulnerability_id": finding.vulnerability_id,
        "url": escape.safe_url(finding.source_url),
        "title": escape.clip(finding.title or "", TITLE_LIMIT),
        "description": escape.clip(finding.description or "", DESCRIPTION_LIMIT),
        "packages": [(p.name, p.installed, explain.fixed_text(p)) for p in finding.packages],
        "score": "" if score is None else f"{score:.1f}",
        "score_value": -1 if score is None else score,
        "epss": "" if epss is None else explain.number(epss.score),
        "epss_value": -1 if epss is None else epss.score,
        "kev": "yes" if result.enrichment.kev else "",
        "why": explain.match_lines(result, evaluation),
        "data": explain.enrichment_lines(result.enrichment, evaluation.evaluated_at),
        "key": hashlib.sha256(finding.key.encode("utf-8", "surrogatepass")).hexdigest()[:16],
    }
