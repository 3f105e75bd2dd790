"""On-demand AMI scans: the image's own scanResultCondition verdict is shown beside gate's in every format."""

from __future__ import annotations

import json
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from gate.model import ScanResultCondition, image_builder_check
from gate.reports.html import HtmlReport
from gate.reports.interface import ReportFormat, ReportOptions
from gate.reports.json_report import JsonReport
from gate.reports.markdown import MarkdownReport
from gate.reports.sarif import SarifReport
from gate.reports.table import TableReport
from tests.reports.sample import EVALUATION

CHECK = image_builder_check(ScanResultCondition("HIGH", fix_available=False), [r.finding for r in EVALUATION.results])
EVALUATION_WITH_CHECK = replace(EVALUATION, image_builder_check=CHECK)
WORDS = f"would fail: {CHECK.exceeding} of {CHECK.counted} counted findings exceed it"


def test_the_check_counts_the_sample() -> None:
    # The sample has CRITICAL findings, so a HIGH condition over all findings must fail.
    assert not CHECK.passed
    assert CHECK.counted == len(EVALUATION.results)
    assert CHECK.exceeding >= 1


@pytest.mark.parametrize("fmt", [MarkdownReport(), HtmlReport(), TableReport()], ids=lambda f: f.name)
def test_people_read_it_beside_the_verdict(fmt: ReportFormat) -> None:
    assert WORDS in fmt.render(EVALUATION_WITH_CHECK, ReportOptions())
    assert "scanResultCondition" not in fmt.render(EVALUATION, ReportOptions())


def test_html_puts_it_in_the_header() -> None:
    class Header(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside: list[str] = []
            self.text = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.inside.append(dict(attrs).get("id") or "")

        def handle_endtag(self, tag: str) -> None:
            self.inside.pop()

        def handle_data(self, data: str) -> None:
            if "image-builder-check" in self.inside and "header" in self.inside:
                self.text += data

    parser = Header()
    parser.feed(HtmlReport().render(EVALUATION_WITH_CHECK, ReportOptions()).split("<body>", 1)[1])
    assert WORDS in parser.text


@pytest.mark.parametrize("fmt", [JsonReport(), SarifReport()], ids=lambda f: f.name)
def test_machines_read_the_same_fields(fmt: ReportFormat) -> None:
    doc = json.loads(fmt.render(EVALUATION_WITH_CHECK, ReportOptions()))
    found = doc["imageBuilderCheck"] if fmt.name == "json" else doc["runs"][0]["properties"]["imageBuilderCheck"]
    assert found == {"verdict": "fail", "maximumSeverityLabel": "HIGH", "fixAvailable": False,
                     "counted": CHECK.counted, "exceeding": CHECK.exceeding}
