"""A self-contained HTML page: the verdict, what to update, pictures of the risk, a paged table of every finding.

The page needs no network: CSS and JS are inlined from package data, and a Content-Security-Policy
allows exactly those two blocks (by hash) and nothing else, so even a value that escaped escaping
could not run a script or load anything. The page around the table is `html_page` (every value
escaped by markupsafe); findings
travel as one inert JSON block (`<`, `>` and `&` written as `\\u003c`…) that the script pages through,
writing cells with `textContent` only, so 100,000 findings cost one JSON encoding and the browser
lays out one page at a time.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
from typing import Any

import markupsafe

from gate.files import package_folder
from gate.model import Finding
from gate.outcome import Decision, Evaluation, FindingResult
from gate.reports import digest, escape, explain, html_page, svg
from gate.reports.interface import ReportOptions
from gate.timeutil import utc
from gate.vocab import severity_rank

TITLE_LIMIT = 500
"""Characters of a title shown in the table; the full description sits behind a disclosure."""
DESCRIPTION_LIMIT = 5000
GROUP_LIMIT = 30
"""Package groups and warning rules listed in the header; the table holds every finding."""


@functools.cache
def _asset(name: str) -> markupsafe.Markup:
    """Trusted CSS or JS shipped with gate; refuses text that could close its `<style>`/`<script>`."""
    text = (package_folder("gate.reports.templates") / name).read_text(encoding="utf-8")
    if "</" in text or "<!--" in text:
        raise ValueError(f"{name} must not contain '</' or '<!--'")
    return markupsafe.Markup(text)  # noqa: S704 -- package data, not finding text


def _csp_hash(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def _inert(text: str) -> str:
    """Control characters and bidi overrides shown as `\\x1b`, as everywhere else in the page."""
    return escape.neutralise(text, keep_newlines=True)


class _Strings:
    """A table of repeated text (provenance lines, rules, descriptions) so 100,000 rows don't repeat it."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        text = _inert(text)
        found = self._index.get(text)
        if found is None:
            found = self._index[text] = len(self.items)
            self.items.append(text)
        return found


_JSON_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                 ("\u2029", "\\u2029"))


def json_block(value: object) -> markupsafe.Markup:
    """JSON that is inert inside `<script type="application/json">`: no `<` can close it or open a comment."""
    text = escape.scrub(json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False))
    for char, replacement in _JSON_ESCAPES:  # NOTE: str.replace runs in C; translate() is 10x slower here
        text = text.replace(char, replacement)
    return markupsafe.Markup(text)  # noqa: S704 -- no `<` left


class HtmlReport:
    """Renders the report people open from a CI artifact or attach to a release ticket."""

    name = "html"

    def render(self, evaluation: Evaluation, options: ReportOptions) -> str:
        css, js = _asset("report.css"), _asset("report.js")
        results = explain.sorted_results(evaluation.results)
        strings = _Strings()
        per_vulnerability: dict[int, tuple[list[int], list[int]]] = {}
        rows = [_row(r, evaluation, strings, per_vulnerability) for r in results]
        groups = digest.fix_groups(results, limit=GROUP_LIMIT)
        counts = explain.severity_counts(evaluation)
        return html_page.render(html_page.Page(
            evaluation=evaluation,
            summary=evaluation.summary,
            stamp=_stamp(evaluation),
            decisions=[(d.value, _count(evaluation, d)) for d in explain.DECISION_ORDER],
            groups=groups,
            more_groups=digest.count_fix_groups(results) - len(groups),
            tallies=digest.warning_tallies(evaluation, results)[:GROUP_LIMIT],
            bars=svg.decision_bars(counts) if counts else None,
            scatter=svg.epss_cvss(results),
            data=json_block({"strings": strings.items, "rows": rows}),
            exceptions=explain.exception_lines(evaluation),
            baseline=explain.baseline_lines(evaluation),
            feeds=[explain.feed_text(f, evaluation.evaluated_at) for f in evaluation.feeds],
            actions=explain.action_lines(evaluation),
            notes=[digest.code_spans(n) for n in evaluation.notes],
            errors=[digest.code_spans(e) for e in evaluation.errors],
            css=css,
            js=js,
            csp=f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}",
        ))


def _stamp(evaluation: Evaluation) -> str | None:
    if evaluation.evaluated_at is None:
        return None
    return utc(evaluation.evaluated_at).strftime("%Y-%m-%d %H:%M UTC")


def _count(evaluation: Evaluation, decision: Decision) -> int:
    return sum(1 for r in evaluation.results if r.decision is decision)


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _row(result: FindingResult, evaluation: Evaluation, strings: _Strings,
         per_vulnerability: dict[int, tuple[list[int], list[int]]]) -> dict[str, Any]:
    """One finding as the page's script reads it: short keys, repeated text as indexes into `strings`.

    Findings of one CVE share an `Enrichment`, so its text is made once per render (keyed by identity).
    """
    finding = result.finding
    score = finding.inspector_score if finding.inspector_score is not None else finding.best_cvss
    score_kind = "Inspector" if finding.inspector_score is not None else "CVSS"
    epss = result.enrichment.epss
    now = evaluation.evaluated_at
    row: dict[str, Any] = {
        "d": explain.DECISION_ORDER.index(result.decision),
        "s": _inert(finding.severity),
        "r": severity_rank(finding.severity),
        "id": _inert(finding.vulnerability_id),
        "p": [[_inert(", ".join(v.names)), _inert(v.installed), _inert(v.fixed)]
              for v in digest.version_lines([result])],
        "w": [strings(line) for line in explain.match_lines(result, evaluation)],
    }
    known = per_vulnerability.get(id(result.enrichment))
    if known is None:
        known = per_vulnerability[id(result.enrichment)] = (
            [strings(line) for line in digest.facts(result.enrichment)],
            [strings(line) for line in explain.enrichment_lines(result.enrichment, now)],
        )
    row["f"], row["x"] = known
    optional: dict[str, Any] = {
        "u": escape.safe_url(finding.source_url),
        "t": strings(escape.clip(finding.title or "", TITLE_LIMIT)) if _says_more(finding) else None,
        "ds": strings(escape.clip(finding.description, DESCRIPTION_LIMIT)) if finding.description else None,
        "sc": _number(score),
        "sk": score_kind if _number(score) is not None else None,
        "e": _number(epss.score) if epss else None,
        "es": digest.probability(epss.score) if epss else None,
        "k": 1 if result.enrichment.kev else 0 if result.enrichment.kev_known_by else None,
    }
    row.update((k, v) for k, v in optional.items() if v is not None)
    if result.decision is Decision.EXCEPTED:
        row["ex"] = [strings(text) for text in _excepted_texts(evaluation, result)]
    return row


def _says_more(finding: Finding) -> bool:
    """Image Builder titles are `CVE-… - pkg, pkg`: the row shows both already, so only other titles are kept."""
    return bool(finding.title) and not (finding.title or "").startswith(f"{finding.vulnerability_id} - ")


def _excepted_texts(evaluation: Evaluation, result: FindingResult) -> list[str]:
    """Each exception with reason, owner and expiry; a VEX statement with its status, reason and document."""
    rows = digest.excepted(evaluation, [result])
    if not rows:
        return []
    texts = [f"{e.id}: {e.reason} — owner {e.owner or 'none'}, {digest.expiry_text(e, evaluation.evaluated_at)}"
             for e in rows[0].exceptions]
    if rows[0].vex is not None:
        status, said, source = digest.vex_parts(rows[0].vex)
        texts.append(f"VEX {status}" + (f" — {said}" if said else "") + f" ({source})")
    return texts
