"""Hostile text in VEX statements, revocation reasons and expiring exceptions stays inert in every format."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import date

import pytest

from gate.declared import Action, PolicyException, VexStatement
from gate.outcome import Decision, Revocation, RuleMatch
from gate.reports import github_runner
from gate.reports.html import HtmlReport
from gate.reports.interface import ReportFormat, ReportOptions
from gate.reports.json_report import JsonReport
from gate.reports.junit import JunitReport
from gate.reports.markdown import MarkdownReport
from gate.reports.openvex import OpenVexReport
from gate.reports.sarif import SarifReport
from gate.reports.table import TableReport
from tests.reports.sample import EVALUATED_AT, HOSTILE, HOSTILE_EVALUATION

VEX = VexStatement(document=HOSTILE, document_id=HOSTILE, author=HOSTILE, index=0, vulnerability=HOSTILE,
                   aliases=(HOSTILE,), products=(HOSTILE,), subcomponents=((HOSTILE,),), status="not_affected",
                   timestamp=EVALUATED_AT, justification="component_not_present", impact_statement=HOSTILE,
                   status_notes=HOSTILE, line=3)
EXCEPTION = PolicyException("EXC-2", HOSTILE, HOSTILE, EVALUATED_AT.date(), owner=HOSTILE, until=HOSTILE)


def evaluation():  # type: ignore[no-untyped-def]
    base = HOSTILE_EVALUATION
    first, second, *rest = base.results
    covered = dataclasses.replace(first, decision=Decision.EXCEPTED, vex=VEX,
                                  matches=(RuleMatch("kev-listed", Action.FAIL, (HOSTILE,), VEX.cover_id),))
    revoked = dataclasses.replace(second, revoked=(Revocation("EXC-2", (HOSTILE,)),))
    return dataclasses.replace(
        base, results=(covered, revoked, *rest), exceptions=(*base.exceptions, EXCEPTION),
        expiring_exceptions=("EXC-2",), revoked_exceptions=("EXC-2",))


FORMATS: list[ReportFormat] = [SarifReport(), JunitReport(), MarkdownReport(), HtmlReport(), TableReport(),
                               JsonReport(), OpenVexReport()]


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.name)
def test_every_format_renders_and_encodes(fmt: ReportFormat) -> None:
    fmt.render(evaluation(), ReportOptions()).encode("utf-8")


def test_annotations_stay_one_command_each() -> None:
    lines = github_runner.annotations(evaluation(), "image-recipe.yaml")
    alerts = [line for line in lines if line.startswith("::warning title=gate%3A exception ")]
    assert len(alerts) == 2  # expiring and revoked
    for line in lines:
        assert "\n" not in line and "\r" not in line
        assert re.match(r"^::(error|warning|notice) title=[^:]*(,file=[^:]*)?::", line), line[:200]


def test_markdown_and_table_start_no_command_or_markup() -> None:
    text = MarkdownReport().render(evaluation(), ReportOptions())
    for line in text.splitlines():
        assert not line.startswith(("::", "# ", "> ")), line[:200]
    table = TableReport().render(evaluation(), ReportOptions())
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", table)
    assert "revoked: EXC-2" in table and "expiring: EXC-2" in table


def test_html_keeps_vex_text_as_text() -> None:
    page = HtmlReport().render(evaluation(), ReportOptions())
    assert "<img src=x" not in page
    assert "excepted by VEX" in page or "revoked" in page


def test_openvex_out_keeps_hostile_text_as_data() -> None:
    doc = json.loads(OpenVexReport().render(evaluation(), ReportOptions()))
    assert [s["status"] for s in doc["statements"]] == ["not_affected"]
    assert doc["statements"][0]["impact_statement"].startswith("<script>")
    assert date.fromisoformat(doc["timestamp"][:10]) == EVALUATED_AT.date()
