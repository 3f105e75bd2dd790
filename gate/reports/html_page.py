"""The HTML report's page around the findings table, written with markupsafe so every value is escaped.

This was a Jinja2 template; importing Jinja2 and compiling the template took about 90 ms of every
run that asked for HTML (a fifth of the typical run, `bench/typical_run.py`), for a page with no
logic beyond a few loops. Here each piece of markup is a constant format string and every value
goes through `_fill`, which scrubs and escapes text as the template's autoescape did: a value is
never markup unless it is already `Markup` (the inline SVG, CSS, JS and the inert JSON block).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, LiteralString

from markupsafe import Markup

from gate.reports import escape

if TYPE_CHECKING:
    from gate.outcome import Evaluation, Summary
    from gate.reports.digest import FixGroup, RuleTally

LONG_WORD = 60
"""Longer "words" are not ones a person reads (hostile padding): they may break, the others never do."""

Prose = Sequence[tuple[bool, str]]
"""Running text as (is code, text) pieces: file names and commands are shown as code."""


@dataclass(frozen=True)
class Page:
    """What the page shows besides the findings table, already reduced to text and counts."""

    evaluation: Evaluation
    summary: Summary
    stamp: str | None
    decisions: list[tuple[str, int]]
    groups: list[FixGroup]
    more_groups: int
    tallies: list[RuleTally]
    bars: Markup | None
    scatter: Markup | None
    data: Markup
    exceptions: Sequence[str]
    baseline: Sequence[str]
    feeds: list[str]
    actions: Sequence[str]
    notes: list[Prose]
    errors: list[Prose]
    css: Markup
    js: Markup
    csp: str


def _fill(template: LiteralString, *values: object) -> Markup:
    """`template` (trusted markup) with each value escaped; text is scrubbed of controls first."""
    escaped = (escape.html(v) if isinstance(v, str) and not isinstance(v, Markup) else v for v in values)
    return Markup(template).format(*escaped)  # noqa: S704 -- templates are this module's literals


def words(text: str) -> Markup:
    """Each word in a no-wrap span, so a line breaks between words and never inside one (not at a hyphen)."""
    return Markup(" ").join(
        _fill('<span class="w{}">{}</span>', Markup(" long") if len(word) > LONG_WORD else "", word)
        for word in escape.neutralise(text).split()
    )


def _prose(pieces: Prose) -> Markup:
    return Markup("").join(_fill("<code>{}</code>", text) if code else _fill("{}", text) for code, text in pieces)


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


def _list(section: Markup, heading: str, items: Iterable[Markup]) -> list[Markup]:
    return [section, _fill("<h2>{}</h2>", heading), Markup("<ul>"),
            *(_fill("<li>{}</li>", item) for item in items), Markup("</ul>"), Markup("</section>")]


def _header(page: Page) -> list[Markup]:
    evaluation, summary = page.evaluation, page.summary
    verdict = evaluation.verdict.value
    groups = len(page.groups) + page.more_groups
    if verdict == "error":
        headline = Markup("Could not complete: nothing was decided. See the errors below.")
    elif summary.failed:
        headline = _fill("{} blocking {} in {} package {}: update them to ship.", summary.failed,
                         _plural(summary.failed, "finding", "findings"), groups, _plural(groups, "group", "groups"))
    else:
        headline = Markup("No finding blocks this image.")
    lines = [
        _fill('<header id="header" class="banner banner-{}">', verdict),
        _fill('<h1 id="verdict" class="verdict verdict-{}">gate: {}</h1>', verdict, verdict.upper()),
        Markup('<p id="headline" class="headline">'),
        headline,
        _fill("{} {}, {} excepted, {} passed of {}.", summary.warned, _plural(summary.warned, "warning", "warnings"),
              summary.excepted, summary.passed, summary.total),
        Markup("</p>"),
        Markup('<p class="meta">'),
        _fill("Policy <strong>{}</strong> (<code>{}</code>)", evaluation.policy_name, evaluation.policy_source),
    ]
    if evaluation.target:
        lines.append(_fill("· target <code>{}</code>", evaluation.target))
    if page.stamp:
        lines.append(_fill("· evaluated <time>{}</time>", page.stamp))
    lines.append(Markup("</p>"))
    if evaluation.image_builder_check is not None:
        lines.append(_fill('<p class="meta" id="image-builder-check">{}</p>', evaluation.image_builder_check.text))
    return [*lines, Markup("</header>")]


def _fixes(page: Page) -> list[Markup]:
    if not page.groups:
        return []
    lines = [Markup('<section id="fixes" aria-label="What to update">'), Markup("<h2>To ship, update</h2>"),
             Markup('<table class="fixes">'),
             Markup("<thead><tr><th>Packages (installed → fixed)</th><th>Image Builder's fix</th>"
                    "<th>Blocking findings</th></tr></thead>"),
             Markup("<tbody>")]
    for group in page.groups:
        versions = Markup("").join(
            _fill('<div class="version">{} <span class="installed">{}</span> → <span class="fixed">{}</span></div>',
                  words(", ".join(v.names)), words(v.installed), words(v.fixed))
            for v in group.versions)
        commands = Markup("").join(_fill('<code class="command">{}</code>', words(c)) for c in group.remediations)
        blocking = Markup(", ").join(
            _fill('<span class="id">{}</span> <span class="severity-{}">{}</span>',
                  words(r.finding.vulnerability_id), r.finding.severity.lower(), words(r.finding.severity))
            for r in group.results)
        lines += [Markup("<tr>"), _fill("<td>{}</td>", versions), _fill("<td>{}</td>", commands),
                  _fill("<td>{}</td>", blocking), Markup("</tr>")]
    lines += [Markup("</tbody>"), Markup("</table>")]
    if page.more_groups:
        lines.append(_fill("<p>… and {} more package groups: filter the table below by <em>fail</em>.</p>",
                           page.more_groups))
    return [*lines, Markup("</section>")]


def _summary(page: Page) -> list[Markup]:
    lines = [Markup('<section id="summary" aria-label="Summary">'), Markup('<div class="pictures">')]
    if page.bars:
        lines.append(_fill("<figure>{}<figcaption>Decisions per severity (the share of each; counts on the right)"
                           "</figcaption></figure>", page.bars))
    if page.scatter:
        lines.append(_fill("<figure>{}<figcaption>EPSS (log scale) against CVSS; KEV-listed findings ringed"
                           "</figcaption></figure>", page.scatter))
    heads = Markup("").join(_fill("<th>{}</th>", decision) for decision, _ in page.decisions)
    cells = Markup("").join(_fill('<td class="count decision-{}">{}</td>', decision, count)
                            for decision, count in page.decisions)
    lines += [Markup("</div>"), Markup('<table class="counts" id="decision-counts">'),
              _fill("<thead><tr><th>Findings</th>{}</tr></thead>", heads),
              _fill('<tbody><tr><td class="total">{}</td>{}</tr></tbody>', page.summary.total, cells),
              Markup("</table>")]
    if page.tallies:
        lines += [Markup('<table class="counts" id="warning-rules">'),
                  Markup("<thead><tr><th>Warning rule</th><th>findings</th><th>when</th></tr></thead>"),
                  Markup("<tbody>"),
                  *(_fill('<tr><th scope="row">{}</th><td>{}</td><td><code>{}</code></td></tr>',
                          t.rule.id, len(t.results), t.rule.when) for t in page.tallies),
                  Markup("</tbody>"), Markup("</table>")]
    return [*lines, Markup("</section>")]


def _controls(page: Page) -> list[Markup]:
    return [
        Markup('<section id="controls" aria-label="Filter findings">'),
        Markup('<label for="filter">Filter</label>'),
        Markup('<input id="filter" type="search" placeholder="CVE, package, rule, source…" autocomplete="off">'),
        *(_fill('<label class="decision-toggle"><input type="checkbox" class="decision-filter" value="{}" checked>'
                " {} ({})</label>", decision, decision, count) for decision, count in page.decisions),
        Markup('<label for="page-size">Rows per page</label>'),
        Markup('<select id="page-size"><option>50</option><option selected>100</option><option>500</option></select>'),
        Markup('<button id="previous" type="button">← previous</button>'),
        Markup('<span id="page" aria-live="polite"></span>'),
        Markup('<button id="next" type="button">next →</button>'),
        _fill('<span id="shown" aria-live="polite">{} findings (the table needs JavaScript)</span>',
              page.summary.total),
        Markup("</section>"),
    ]


_TABLE = Markup("""<div class="scroll">
<table id="findings">
<thead>
<tr>
<th data-sort="d" tabindex="0" class="col-decision">Decision</th>
<th data-sort="r" tabindex="0" class="col-severity">Severity</th>
<th data-sort="id" tabindex="0" class="col-vulnerability">Vulnerability</th>
<th class="col-packages">Packages (installed → fixed)</th>
<th data-sort="sc" tabindex="0" class="col-score" title="Inspector's score, else the best CVSS base score">Score</th>
<th data-sort="e" tabindex="0" class="col-epss">EPSS</th>
<th data-sort="k" tabindex="0" class="col-kev">KEV</th>
<th class="col-why">Why (rules, exploit data, sources)</th>
</tr>
</thead>
<tbody></tbody>
</table>
</div>""")
"""The findings table's frame: the page's script fills the body from the JSON block."""


def render(page: Page) -> str:
    """The whole document, one element per line as people read it in a diff."""
    evaluation = page.evaluation
    lines = [
        Markup("<!DOCTYPE html>"), Markup('<html lang="en">'), Markup("<head>"), Markup('<meta charset="utf-8">'),
        _fill('<meta http-equiv="Content-Security-Policy" content="{}">', page.csp),
        Markup('<meta name="viewport" content="width=device-width, initial-scale=1">'),
        Markup('<meta name="color-scheme" content="light dark">'), Markup('<meta name="generator" content="gate">'),
        _fill("<title>gate: {} ({})</title>", evaluation.verdict.value.upper(), evaluation.policy_name),
        _fill("<style>{}</style>", page.css), Markup("</head>"), Markup("<body>"),
        *_header(page),
        *(_list(Markup('<section id="errors" class="notice error">'), "Errors", map(_prose, page.errors))
          if page.errors else []),
        *_fixes(page),
        *_summary(page),
        *(_list(Markup('<section id="notes" class="notice">'), "Notes", map(_prose, page.notes)) if page.notes else []),
        *(_list(Markup('<section id="baseline" class="notice">'), "Since the baseline", map(_fill_text, page.baseline))
          if page.baseline else []),
        *_controls(page),
        _TABLE,
        *(_list(Markup('<section id="exceptions">'), "Exceptions to review", map(_fill_text, page.exceptions))
          if page.exceptions else []),
        *(_list(Markup('<section id="feeds">'), "Data sources", map(_fill_text, page.feeds)) if page.feeds else []),
        *(_list(Markup('<section id="actions">'), "After the verdict", map(_fill_text, page.actions))
          if page.actions else []),
        _fill('<script type="application/json" id="data">{}</script>', page.data),
        _fill("<script>{}</script>", page.js),
        Markup("</body>"), Markup("</html>"), Markup(""),
    ]
    return str(Markup("\n").join(lines))


def _fill_text(text: str) -> Markup:
    return _fill("{}", text)
