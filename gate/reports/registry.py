"""The report formats the CLI offers, and the one place that maps each name to its renderer."""

from __future__ import annotations

import enum
from typing import assert_never

from gate.reports.html import HtmlReport
from gate.reports.interface import ReportFormat
from gate.reports.json_report import JsonReport
from gate.reports.junit import JunitReport
from gate.reports.markdown import MarkdownReport
from gate.reports.sarif import SarifReport
from gate.reports.table import TableReport


class Format(enum.StrEnum):
    """A `--format` choice; the value is what users type."""

    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    HTML = "html"
    TABLE = "table"


def formatter(fmt: Format) -> ReportFormat:
    """The renderer for `fmt`; a new member without a branch here fails type checking."""
    if fmt is Format.JSON:
        return JsonReport()
    if fmt is Format.SARIF:
        return SarifReport()
    if fmt is Format.JUNIT:
        return JunitReport()
    if fmt is Format.MARKDOWN:
        return MarkdownReport()
    if fmt is Format.HTML:
        return HtmlReport()
    if fmt is Format.TABLE:
        return TableReport()
    assert_never(fmt)
