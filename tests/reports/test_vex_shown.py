"""A finding an OpenVEX statement covers is shown as VEX — status, justification, document — in the terminal,
Markdown and HTML reports, never as an exception that "expires 0001-01-01 … no owner"."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from gate.declared import Action, VexStatement
from gate.outcome import Decision, RuleMatch
from gate.reports.html import HtmlReport
from gate.reports.interface import ReportFormat, ReportOptions
from gate.reports.markdown import MarkdownReport
from gate.reports.table import TableReport
from tests.reports.sample import EVALUATED_AT, EVALUATION

VEX = VexStatement(document="platform.vex.json", document_id="https://example.com/vex/1", author="Platform team",
                   index=1, vulnerability="CVE-2024-3094", aliases=(), products=("arn:image",), subcomponents=((),),
                   status="not_affected", timestamp=EVALUATED_AT, justification="vulnerable_code_not_in_execute_path",
                   impact_statement="liblzma is never loaded by sshd in this image", line=12)


def covered():  # type: ignore[no-untyped-def]
    """The sample run with its KEV blocker (xz) covered by the VEX statement instead of failing."""
    match = RuleMatch("kev-listed", Action.FAIL, ("kev is true",), VEX.cover_id)
    results = tuple(dataclasses.replace(r, decision=Decision.EXCEPTED, vex=VEX, matches=(match,))
                    if r.finding.vulnerability_id == "CVE-2024-3094" else r for r in EVALUATION.results)
    return dataclasses.replace(EVALUATION, results=results)


def text(fmt: ReportFormat) -> str:
    rendered = fmt.render(covered(), ReportOptions())
    if isinstance(fmt, HtmlReport):  # NOTE: the page's rows are data for its script: read the JSON strings
        data = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', rendered, re.S)
        assert data is not None
        return "\n".join(json.loads(data[1])["strings"])
    return rendered.replace("\\_", "_")  # NOTE: Markdown escapes the underscores of `not_affected`


@pytest.mark.parametrize("fmt", [TableReport(), MarkdownReport(), HtmlReport()], ids=lambda f: f.name)
def test_vex_is_shown_as_vex(fmt: ReportFormat) -> None:
    shown = text(fmt)
    assert "0001-01-01" not in shown and "VEX platform.vex.json#2:" not in shown
    assert "VEX not_affected: vulnerable_code_not_in_execute_path" in shown
    assert "liblzma is never loaded by sshd in this image" in shown
    assert "platform.vex.json statement 2, line 12 by Platform team, 2025-11-20" in shown


def test_terminal_row_reads_as_one_vex_statement() -> None:
    table = TableReport().render(covered(), ReportOptions())
    row = table[table.index("  ~ CVE-2024-3094") :].splitlines()
    assert row[1] == ("      VEX not_affected: vulnerable_code_not_in_execute_path — liblzma is never loaded by sshd "
                      "in this image (platform.vex.json statement 2, line 12 by Platform team, 2025-11-20)")
    assert "no owner" not in row[1] and row[2].startswith("  ~ CVE-2023-4911")  # the policy exception stays one


def test_markdown_row_names_the_author_and_no_expiry() -> None:
    md = MarkdownReport().render(covered(), ReportOptions())
    row = next(line for line in md.splitlines() if line.startswith("| ") and "CVE-2024-3094" in line
               and "VEX" in line)
    assert "| Platform team | no expiry (VEX) |" in row and "no owner" not in row
