"""Pictures for the HTML report as inline SVG: no script, no style attribute, colours from the page's CSS classes.

Their size does not grow with the findings: bars are one per severity, and the EPSS-against-CVSS
scatter draws one mark per occupied cell of a fixed grid (its size says how many findings share
it), so 100,000 findings cost no more markup than 1,000. Every label that comes from a finding is
HTML-escaped here (and its control characters shown, as everywhere else in the page).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import markupsafe

from gate.outcome import Decision, FindingResult
from gate.reports import escape, explain

_E = escape.html
EPSS_FLOOR = 1e-5
"""The smallest EPSS FIRST publishes is of this order; the scatter's log axis starts here."""
_COLUMNS, _ROWS = 50, 40
"""Scatter grid: CVSS in steps of 0.2, EPSS in 40 steps over five decades."""


MIN_SEGMENT = 10.0
"""Width of the narrowest decision segment: one blocking finding among 235 stays visible."""


def _segments(row: dict[Decision, int], width: float) -> list[tuple[Decision, float]]:
    """Each decision's share of the bar, none narrower than MIN_SEGMENT; the widest give up what that costs."""
    total = sum(row.values())
    shares = {d: width * row[d] / total for d in explain.DECISION_ORDER if row[d]}
    small = {d for d, w in shares.items() if w < MIN_SEGMENT}
    spare = sum(w for d, w in shares.items() if d not in small)
    needed = len(small) * MIN_SEGMENT
    scale = max(spare - (needed - sum(shares[d] for d in small)), 0) / spare if spare else 1.0
    return [(d, MIN_SEGMENT if d in small else w * scale) for d, w in shares.items()]


def decision_bars(counts: dict[str, dict[Decision, int]]) -> markupsafe.Markup:
    """One bar per severity split by decision (each decision's share of that severity, so a few blocking
    findings among many are seen), the counts written on the right."""
    label_w, bar_w, row_h, right = 110, 300, 24, 190
    height = row_h * max(len(counts), 1) + 30
    parts = [f'<svg class="chart" id="chart-decisions" role="img" width="{label_w + bar_w + right}" height="{height}" '
             f'viewBox="0 0 {label_w + bar_w + right} {height}" aria-labelledby="chart-decisions-title">',
             '<title id="chart-decisions-title">Decisions per severity: the share of each, with the counts</title>']
    for n, (severity, row) in enumerate(counts.items()):
        y = n * row_h + 4
        parts.append(f'<text class="label" x="{label_w - 8}" y="{y + 15}" text-anchor="end">{_E(severity)}</text>')
        x = float(label_w)
        for decision, width in _segments(row, bar_w) if sum(row.values()) else []:
            parts.append(f'<rect class="d-{decision.value}" x="{x:.1f}" y="{y}" width="{width:.1f}" '
                         f'height="{row_h - 8}"><title>{_E(severity)} {decision.value}: '
                         f'{row[decision]}</title></rect>')
            x += width
        text = " · ".join(f"{row[d]} {d.value}" for d in explain.DECISION_ORDER if row[d])
        parts.append(f'<text class="count" x="{label_w + bar_w + 6}" y="{y + 15}">{_E(text)}</text>')
    legend_y = height - 8
    for n, decision in enumerate(explain.DECISION_ORDER):
        x = label_w + n * 80
        parts.append(f'<rect class="d-{decision.value}" x="{x}" y="{legend_y - 10}" width="10" height="10"/>'
                     f'<text class="legend" x="{x + 14}" y="{legend_y}">{decision.value}</text>')
    parts.append("</svg>")
    return markupsafe.Markup("".join(parts))  # noqa: S704 -- every finding-derived text went through _E


def _epss_row(epss: float) -> int:
    """Grid row on a log scale from EPSS_FLOOR (row 0) to 1 (the top row)."""
    decades = -math.log10(EPSS_FLOOR)
    share = (math.log10(max(epss, EPSS_FLOOR)) + decades) / decades
    return min(int(share * _ROWS), _ROWS - 1)


def epss_cvss(results: Sequence[FindingResult]) -> markupsafe.Markup | None:
    """EPSS (log scale) against CVSS, KEV-listed findings ringed; None when no finding has both numbers."""
    cells: dict[tuple[int, int], list[int]] = {}  # (column, row) -> [count, worst decision rank, kev]
    for result in results:
        epss = result.enrichment.epss
        score = result.finding.best_cvss
        if score is None:
            score = result.finding.inspector_score
        if epss is None or score is None or not (math.isfinite(epss.score) and math.isfinite(score)):
            continue
        key = (min(max(int(score / 10 * _COLUMNS), 0), _COLUMNS - 1), _epss_row(epss.score))
        cell = cells.setdefault(key, [0, len(explain.DECISION_ORDER), 0])
        cell[0] += 1
        cell[1] = min(cell[1], explain.DECISION_ORDER.index(result.decision))
        cell[2] |= result.enrichment.kev is not None
    if not cells:
        return None
    left, top, width, height = 60, 10, 400, 240
    cw, rh = width / _COLUMNS, height / _ROWS
    box_w, box_h = left + width + 150, top + height + 40
    parts = [f'<svg class="chart" id="chart-epss" role="img" width="{box_w}" height="{box_h}" '
             f'viewBox="0 0 {box_w} {box_h}" aria-labelledby="chart-epss-title">',
             '<title id="chart-epss-title">EPSS against CVSS; KEV-listed findings ringed</title>',
             f'<rect class="plot" x="{left}" y="{top}" width="{width}" height="{height}"/>']
    for decade in range(6):
        y = top + height - decade * height / 5
        label = ("1", "0.1", "0.01", "0.001", "0.0001", "0.00001")[5 - decade]
        parts.append(f'<line class="grid" x1="{left}" x2="{left + width}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="axis" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for score in range(0, 11, 2):
        x = left + score * width / 10
        parts.append(f'<text class="axis" x="{x:.1f}" y="{top + height + 16}" text-anchor="middle">{score}</text>')
    parts.append(f'<text class="axis" x="{left + width / 2}" y="{top + height + 34}" text-anchor="middle">CVSS</text>'
                 f'<text class="axis" x="14" y="{top + height / 2}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top + height / 2})">EPSS</text>')
    for (column, row), (count, rank, kev) in sorted(cells.items(), key=lambda item: -item[1][1]):
        cx = left + (column + 0.5) * cw
        cy = top + height - (row + 0.5) * rh
        radius = min(2.5 + math.log2(count), 9) + (1.5 if kev else 0)
        decision = explain.DECISION_ORDER[rank].value
        parts.append(f'<circle class="d-{decision}{" kev" if kev else ""}" cx="{cx:.1f}" cy="{cy:.1f}" '
                     f'r="{radius:.1f}"><title>{count} {"finding" if count == 1 else "findings"}, '
                     f'worst {decision}{", in KEV" if kev else ""}</title></circle>')
    legend_x = left + width + 14
    for n, decision in enumerate(explain.DECISION_ORDER):
        y = top + 14 + n * 18
        parts.append(f'<circle class="d-{decision.value}" cx="{legend_x + 5}" cy="{y - 4}" r="5"/>'
                     f'<text class="legend" x="{legend_x + 16}" y="{y}">{decision.value}</text>')
    y = top + 14 + 4 * 18
    parts.append(f'<circle class="d-pass kev" cx="{legend_x + 5}" cy="{y - 4}" r="5"/>'
                 f'<text class="legend" x="{legend_x + 16}" y="{y}">in CISA KEV</text>'
                 f'<text class="legend" x="{legend_x}" y="{y + 22}">larger: more findings</text>')
    parts.append("</svg>")
    return markupsafe.Markup("".join(parts))  # noqa: S704 -- no finding text is drawn, only numbers
