"""The fleet report of a sweep: Markdown, HTML and a bounded terminal summary (JSON is `gate.fleetjson`).

Worst first (unjudged, failing, passing, skipped), grouped by pipeline, with the CVEs that block the most
images at the top and what fixes them. Every value from AWS or a file (ARNs, reasons, fixes, package
names) goes through `escape`: a hostile build name stays text in every format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gate.fleet import BuildRecord, FleetReport, Status
from gate.reports import escape

TOP_CVES = 10
TERMINAL_LINES = 80
NO_PIPELINE = "(no pipeline)"


@dataclass(frozen=True)
class Spread:
    """One blocking CVE across the fleet."""

    vulnerability_id: str
    images: int
    pipelines: int
    fix: str


def spread(records: Iterable[BuildRecord], limit: int = TOP_CVES) -> list[Spread]:
    """The CVEs that block the most builds, most first: `CVE-X: 37 images in 12 pipelines, fix: …`."""
    builds: dict[str, int] = {}
    pipelines: dict[str, set[str]] = {}
    fixes: dict[str, str] = {}
    for r in records:
        if r.status is not Status.FAIL:
            continue
        for b in r.blocking:
            builds[b.vulnerability_id] = builds.get(b.vulnerability_id, 0) + 1
            pipelines.setdefault(b.vulnerability_id, set()).add(r.pipeline or NO_PIPELINE)
            fixes.setdefault(b.vulnerability_id, b.fix)
    ranked = sorted(builds, key=lambda v: (-builds[v], -len(pipelines[v]), v))[:limit]
    return [Spread(v, builds[v], len(pipelines[v]), fixes[v]) for v in ranked]


def by_pipeline(report: FleetReport) -> list[tuple[str, list[BuildRecord]]]:
    """Pipelines with their builds worst first; the pipeline with the worst build first."""
    groups: dict[str, list[BuildRecord]] = {}
    for r in report.ordered():
        groups.setdefault(r.pipeline or NO_PIPELINE, []).append(r)
    return sorted(groups.items(), key=lambda kv: (kv[1][0].sort_key, kv[0]))


def headline(report: FleetReport) -> str:
    """The first line of every form: the counts, and first of all whether the sweep stopped before the end."""
    counts = ", ".join(f"{report.count(s)} {s.value}" for s in Status)
    text = f"{len(report.records)} builds: {counts}"
    return text if report.complete else f"INCOMPLETE (stopped before every target was judged; see the notes): {text}"


def _status(r: BuildRecord) -> str:
    text = r.status.value.upper()
    if r.deprecated:
        text += " (deprecated)"
    if r.change is not None:
        text += f", {r.change.value}"
    return text


def _detail(r: BuildRecord) -> str:
    if r.status in (Status.SKIPPED, Status.UNJUDGED):
        return r.reason
    if r.blocking:
        return "; ".join(f"{b.vulnerability_id} ({b.fix})" for b in r.blocking[:5]) + \
            (f"; and {len(r.blocking) - 5} more" if len(r.blocking) > 5 else "")
    return f"{r.counts.total} findings, {r.counts.warned} warn"


# -- Markdown ----------------------------------------------------------------------------------------

def markdown(report: FleetReport) -> str:
    md = escape.markdown
    out = [f"# gate sweep: {md(headline(report))}", "",
           f"Policy `{md(report.policy)}`, {report.generated_at.isoformat()}"
           + (f", shards {', '.join(str(s) for s in report.shards)}" if report.shards else "")
           + (f", compared with {md(report.compared_with)}" if report.compared_with else ""), ""]
    top = spread(report.records)
    if top:
        out += ["## CVEs blocking the most images", ""]
        out += [f"- **{md(s.vulnerability_id)}**: {s.images} images in {s.pipelines} pipelines, fix: {md(s.fix)}"
                for s in top]
        out.append("")
    for pipeline, records in by_pipeline(report):
        out += [f"## {md(pipeline)}", "", "| build | status | AMIs | detail | changes | actions |",
                "|---|---|---|---|---|---|"]
        for r in records:
            amis = "<br>".join(md(a.text) for a in r.amis)
            actions = "<br>".join(md(f"{a.operation} {a.target}: {a.status.value}") for a in r.actions)
            out.append(f"| {md(r.build)} | {md(_status(r))} | {amis} | {md(_detail(r))} | "
                       f"{'<br>'.join(md(c) for c in r.changes)} | {actions} |")
        out.append("")
    if report.notes:
        out += ["## Notes", "", *(f"- {md(n)}" for n in report.notes), ""]
    if report.feeds:
        out += ["## Intelligence", "", *(f"- {md(f)}" for f in report.feeds), ""]
    return "\n".join(out)


# -- HTML --------------------------------------------------------------------------------------------

_STYLE = ("body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
          "td,th{border:1px solid #ccc;padding:4px;vertical-align:top;text-align:left}"
          ".fail,.unjudged{color:#b00020;font-weight:bold}.pass{color:#1b5e20}.skipped{color:#666}")


def html(report: FleetReport) -> str:
    h = escape.html
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
             f"<title>gate sweep: {h(headline(report))}</title><style>{_STYLE}</style></head><body>",
             f"<h1>gate sweep: {h(headline(report))}</h1>",
             f"<p>Policy <code>{h(report.policy)}</code>, {h(report.generated_at.isoformat())}"
             + (f", compared with {h(report.compared_with)}" if report.compared_with else "") + "</p>"]
    top = spread(report.records)
    if top:
        parts.append("<h2>CVEs blocking the most images</h2><ul>")
        parts += [f"<li><strong>{h(s.vulnerability_id)}</strong>: {s.images} images in {s.pipelines} pipelines, "
                  f"fix: {h(s.fix)}</li>" for s in top]
        parts.append("</ul>")
    for pipeline, records in by_pipeline(report):
        parts.append(f"<h2>{h(pipeline)}</h2><table><tr><th>build</th><th>status</th><th>AMIs</th><th>detail</th>"
                     "<th>changes</th><th>actions</th></tr>")
        for r in records:
            amis = "<br>".join(str(h(a.text)) for a in r.amis)
            actions = "<br>".join(str(h(f"{a.operation} {a.target}: {a.status.value}")) for a in r.actions)
            changes = "<br>".join(str(h(c)) for c in r.changes)
            parts.append(f'<tr><td>{h(r.build)}</td><td class="{r.status.value}">{h(_status(r))}</td><td>{amis}</td>'
                         f"<td>{h(_detail(r))}</td><td>{changes}</td><td>{actions}</td></tr>")
        parts.append("</table>")
    if report.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{h(n)}</li>" for n in report.notes) + "</ul>")
    if report.feeds:
        parts.append("<h2>Intelligence</h2><ul>" + "".join(f"<li>{h(f)}</li>" for f in report.feeds) + "</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- terminal ----------------------------------------------------------------------------------------

def terminal(report: FleetReport, limit: int = TERMINAL_LINES) -> str:
    """At most `limit` lines whatever the fleet's size: the worst builds first, the rest counted."""
    clip = escape.clip
    lines = [headline(report)]
    top = spread(report.records, limit=5)
    if top:
        lines.append("CVEs blocking the most images:")
        lines += [f"  {s.vulnerability_id}: {s.images} images in {s.pipelines} pipelines, fix: {clip(s.fix, 80)}"
                  for s in top]
    shown = [r for r in report.ordered() if r.status is not Status.PASS or r.change is not None]
    room = limit - len(lines) - 2
    if shown:
        lines.append("Builds (worst first):")
        for r in shown[: max(room, 0)]:
            lines.append(f"  {_status(r):<28} {r.build}  {clip(_detail(r), 100)}")
        if len(shown) > room:
            lines.append(f"  … and {len(shown) - room} more: see the JSON, Markdown or HTML report")
    return "\n".join(escape.inert_line(line) for line in lines[:limit])
